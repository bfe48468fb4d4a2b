//! Exports of upstream `raft_node.c`.

use crate::raft_node::{Node, NodeH};
use crate::sys::{raft_index_t, raft_node_id_t, raft_node_t, raft_time_t};
use std::ffi::{c_int, c_void};
use std::ptr;

fn h(me: *mut raft_node_t) -> Option<NodeH> {
    let n = NodeH::from_c(me);
    (!n.is_null()).then_some(n)
}

#[no_mangle]
pub extern "C" fn raft_node_new(udata: *mut c_void, id: raft_node_id_t) -> *mut raft_node_t {
    Node::new(udata, id).into_handle().as_c()
}

#[no_mangle]
pub extern "C" fn raft_node_free(me_: *mut raft_node_t) {
    NodeH::from_c(me_).free()
}

#[no_mangle]
pub extern "C" fn raft_node_get_next_idx(node: *mut raft_node_t) -> raft_index_t {
    h(node).map_or(0, |n| n.next_idx())
}

#[no_mangle]
pub extern "C" fn raft_node_set_next_idx(node: *mut raft_node_t, next_idx: raft_index_t) {
    if let Some(n) = h(node) {
        n.set_next_idx(next_idx)
    }
}

#[no_mangle]
pub extern "C" fn raft_node_get_match_idx(me_: *mut raft_node_t) -> raft_index_t {
    h(me_).map_or(0, |n| n.match_idx())
}

#[no_mangle]
pub extern "C" fn raft_node_set_match_idx(node: *mut raft_node_t, match_idx: raft_index_t) {
    if let Some(n) = h(node) {
        n.set_match_idx(match_idx)
    }
}

#[no_mangle]
pub extern "C" fn raft_node_get_udata(me: *mut raft_node_t) -> *mut c_void {
    h(me).map_or(ptr::null_mut(), |n| n.with(|n| n.udata()))
}

#[no_mangle]
pub extern "C" fn raft_node_set_udata(me: *mut raft_node_t, user_data: *mut c_void) {
    if let Some(n) = h(me) {
        n.with(|n| n.set_udata(user_data))
    }
}

#[no_mangle]
pub extern "C" fn raft_node_vote_for_me(me_: *mut raft_node_t, vote: c_int) {
    if let Some(n) = h(me_) {
        n.vote_for_me(vote != 0)
    }
}

#[no_mangle]
pub extern "C" fn raft_node_has_vote_for_me(me_: *mut raft_node_t) -> c_int {
    h(me_).is_some_and(|n| n.has_vote_for_me()) as c_int
}

#[no_mangle]
pub extern "C" fn raft_node_set_voting(node: *mut raft_node_t, voting: c_int) {
    if let Some(n) = h(node) {
        n.set_voting(voting != 0)
    }
}

#[no_mangle]
pub extern "C" fn raft_node_is_voting(me_: *mut raft_node_t) -> c_int {
    h(me_).is_some_and(|n| n.is_voting()) as c_int
}

#[no_mangle]
pub extern "C" fn raft_node_has_sufficient_logs(me_: *mut raft_node_t) -> c_int {
    h(me_).is_some_and(|n| n.has_sufficient_logs()) as c_int
}

#[no_mangle]
pub extern "C" fn raft_node_set_has_sufficient_logs(me_: *mut raft_node_t) {
    if let Some(n) = h(me_) {
        n.set_has_sufficient_logs()
    }
}

/// -1 for NULL, as upstream.
#[no_mangle]
pub extern "C" fn raft_node_get_id(me_: *mut raft_node_t) -> raft_node_id_t {
    NodeH::from_c(me_).id()
}

#[no_mangle]
pub extern "C" fn raft_node_set_lease(me_: *mut raft_node_t, lease: raft_time_t) {
    if let Some(n) = h(me_) {
        n.set_lease(lease)
    }
}

#[no_mangle]
pub extern "C" fn raft_node_get_lease(me_: *mut raft_node_t) -> raft_time_t {
    h(me_).map_or(0, |n| n.lease())
}

#[no_mangle]
pub extern "C" fn raft_node_set_effective_time(me_: *mut raft_node_t, effective_time: raft_time_t) {
    if let Some(n) = h(me_) {
        n.set_effective_time(effective_time)
    }
}

#[no_mangle]
pub extern "C" fn raft_node_get_effective_time(me_: *mut raft_node_t) -> raft_time_t {
    h(me_).map_or(0, |n| n.effective_time())
}
