//! Exports of upstream `raft_server_properties.c`.

use super::{guarded, srv};
use crate::raft_node::NodeH;
use crate::sys::*;
use std::ffi::{c_int, c_void};
use std::ptr;

#[no_mangle]
pub extern "C" fn raft_set_election_timeout(me: *mut raft_server_t, msec: c_int) {
    srv!(me).set_election_timeout(msec)
}

#[no_mangle]
pub extern "C" fn raft_set_request_timeout(me: *mut raft_server_t, msec: c_int) {
    srv!(me).put_request_timeout(msec)
}

#[no_mangle]
pub extern "C" fn raft_set_lease_maintenance_grace(me: *mut raft_server_t, msec: c_int) {
    srv!(me).put_lease_maintenance_grace(msec)
}

#[no_mangle]
pub extern "C" fn raft_set_first_start(me: *mut raft_server_t) {
    srv!(me).put_first_start(1)
}

#[no_mangle]
pub extern "C" fn raft_set_nodeid(me: *mut raft_server_t, id: raft_node_id_t) {
    let s = srv!(me);
    guarded!((), s.set_nodeid(id))
}

#[no_mangle]
pub extern "C" fn raft_get_nodeid(me: *mut raft_server_t) -> raft_node_id_t {
    srv!(me, -1).node_id()
}

#[no_mangle]
pub extern "C" fn raft_get_election_timeout(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).election_timeout()
}

#[no_mangle]
pub extern "C" fn raft_get_request_timeout(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).request_timeout()
}

#[no_mangle]
pub extern "C" fn raft_get_lease_maintenance_grace(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).lease_maintenance_grace()
}

#[no_mangle]
pub extern "C" fn raft_get_num_nodes(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).num_nodes()
}

#[no_mangle]
pub extern "C" fn raft_get_num_voting_nodes(me_: *mut raft_server_t) -> c_int {
    srv!(me_, 0).num_voting_nodes()
}

#[no_mangle]
pub extern "C" fn raft_get_timeout_elapsed(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).timeout_elapsed()
}

#[no_mangle]
pub extern "C" fn raft_get_log_count(me: *mut raft_server_t) -> raft_index_t {
    srv!(me, 0).log().count()
}

#[no_mangle]
pub extern "C" fn raft_get_voted_for(me: *mut raft_server_t) -> raft_node_id_t {
    srv!(me, -1).voted_for()
}

#[no_mangle]
pub extern "C" fn raft_set_current_term(me: *mut raft_server_t, term: raft_term_t) -> c_int {
    srv!(me, -1).set_current_term(term)
}

#[no_mangle]
pub extern "C" fn raft_get_current_term(me: *mut raft_server_t) -> raft_term_t {
    srv!(me, 0).current_term()
}

#[no_mangle]
pub extern "C" fn raft_get_current_idx(me: *mut raft_server_t) -> raft_index_t {
    srv!(me, 0).current_idx()
}

#[no_mangle]
pub extern "C" fn raft_set_commit_idx(me: *mut raft_server_t, commit_idx: raft_index_t) {
    let s = srv!(me);
    guarded!((), s.set_commit_idx(commit_idx))
}

#[no_mangle]
pub extern "C" fn raft_set_last_applied_idx(me: *mut raft_server_t, idx: raft_index_t) {
    srv!(me).put_last_applied_idx(idx)
}

#[no_mangle]
pub extern "C" fn raft_get_last_applied_idx(me: *mut raft_server_t) -> raft_index_t {
    srv!(me, 0).last_applied_idx()
}

#[no_mangle]
pub extern "C" fn raft_get_commit_idx(me_: *mut raft_server_t) -> raft_index_t {
    srv!(me_, 0).commit_idx()
}

#[no_mangle]
pub extern "C" fn raft_set_state(me_: *mut raft_server_t, state: c_int) {
    srv!(me_).set_state(state)
}

#[no_mangle]
pub extern "C" fn raft_get_state(me_: *mut raft_server_t) -> c_int {
    srv!(me_, RAFT_STATE_NONE as c_int).state()
}

#[no_mangle]
pub extern "C" fn raft_get_node(me_: *mut raft_server_t, id: raft_node_id_t) -> *mut raft_node_t {
    srv!(me_, ptr::null_mut()).get_node(id).as_c()
}

#[no_mangle]
pub extern "C" fn raft_get_my_node(me_: *mut raft_server_t) -> *mut raft_node_t {
    srv!(me_, ptr::null_mut()).my_node().as_c()
}

#[no_mangle]
pub extern "C" fn raft_get_node_from_idx(me_: *mut raft_server_t, idx: c_int) -> *mut raft_node_t {
    srv!(me_, ptr::null_mut()).node_from_idx(idx).as_c()
}

#[no_mangle]
pub extern "C" fn raft_get_current_leader(me: *mut raft_server_t) -> raft_node_id_t {
    srv!(me, -1).leader_id()
}

#[no_mangle]
pub extern "C" fn raft_get_current_leader_node(me: *mut raft_server_t) -> *mut raft_node_t {
    srv!(me, ptr::null_mut()).current_leader_node().as_c()
}

#[no_mangle]
pub extern "C" fn raft_get_udata(me: *mut raft_server_t) -> *mut c_void {
    srv!(me, ptr::null_mut()).udata()
}

#[no_mangle]
pub extern "C" fn raft_is_follower(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).is_follower() as c_int
}

#[no_mangle]
pub extern "C" fn raft_is_leader(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).is_leader() as c_int
}

#[no_mangle]
pub extern "C" fn raft_is_candidate(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).is_candidate() as c_int
}

#[no_mangle]
pub extern "C" fn raft_is_prevoted_candidate(me_: *mut raft_server_t) -> c_int {
    srv!(me_, 0).is_prevoted_candidate() as c_int
}

#[no_mangle]
pub extern "C" fn raft_is_self(me_: *mut raft_server_t, node: *mut raft_node_t) -> c_int {
    srv!(me_, 0).is_self(NodeH::from_c(node)) as c_int
}

#[no_mangle]
pub extern "C" fn raft_get_last_log_term(me_: *mut raft_server_t) -> raft_term_t {
    let s = srv!(me_, 0);
    guarded!(0, s.last_log_term())
}

#[no_mangle]
pub extern "C" fn raft_is_connected(me_: *mut raft_server_t) -> c_int {
    srv!(me_, 0).connected()
}

#[no_mangle]
pub extern "C" fn raft_snapshot_is_in_progress(me_: *mut raft_server_t) -> c_int {
    srv!(me_, 0).snapshot_in_progress()
}

#[no_mangle]
pub extern "C" fn raft_get_last_applied_entry(me_: *mut raft_server_t) -> *mut raft_entry_t {
    srv!(me_, ptr::null_mut()).last_applied_entry()
}

#[no_mangle]
pub extern "C" fn raft_get_snapshot_last_idx(me_: *mut raft_server_t) -> raft_index_t {
    srv!(me_, 0).snapshot_last_idx()
}

#[no_mangle]
pub extern "C" fn raft_get_snapshot_last_term(me_: *mut raft_server_t) -> raft_term_t {
    srv!(me_, 0).snapshot_last_term()
}

#[no_mangle]
pub extern "C" fn raft_set_snapshot_metadata(
    me_: *mut raft_server_t,
    term: raft_term_t,
    idx: raft_index_t,
) {
    srv!(me_).set_snapshot_metadata(term, idx)
}
