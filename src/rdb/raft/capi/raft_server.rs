//! Exports of upstream `raft_server.c`.

use super::{guarded, srv};
use crate::raft_node::NodeH;
use crate::raft_server::{self as rs, Srv};
use crate::sys::*;
use std::ffi::{c_int, c_void};
use std::ptr;

/// The level at or below which messages reach the log callback (upstream's global).
#[no_mangle]
pub static mut raft_loglevel: raft_loglevel_e = RAFT_LOG_INFO;

fn n(node: *mut raft_node_t) -> NodeH {
    NodeH::from_c(node)
}

#[no_mangle]
pub extern "C" fn raft_set_log_level(level: raft_loglevel_e) {
    // SAFETY: a plain store to the exported level (as upstream, unsynchronised).
    unsafe { raft_loglevel = level };
}

#[no_mangle]
pub extern "C" fn raft_randomize_election_timeout(me_: *mut raft_server_t) {
    srv!(me_).randomize_election_timeout()
}

#[no_mangle]
pub extern "C" fn raft_new() -> *mut raft_server_t {
    Srv::new().map_or(ptr::null_mut(), |s| s.c())
}

#[no_mangle]
pub extern "C" fn raft_set_callbacks(
    me: *mut raft_server_t,
    funcs: *mut raft_cbs_t,
    user_data: *mut c_void,
) {
    srv!(me).set_callbacks(funcs, user_data)
}

#[no_mangle]
pub extern "C" fn raft_free(me: *mut raft_server_t) {
    Srv::from_raw(me.cast()).free()
}

#[no_mangle]
pub extern "C" fn raft_clear(me: *mut raft_server_t) {
    srv!(me).clear()
}

#[no_mangle]
pub extern "C" fn raft_delete_entry_from_idx(me_: *mut raft_server_t, idx: raft_index_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(-1, s.delete_entry_from_idx(idx))
}

#[no_mangle]
pub extern "C" fn raft_election_start(me: *mut raft_server_t) -> c_int {
    let s = srv!(me, -1);
    guarded!(-1, s.election_start())
}

#[no_mangle]
pub extern "C" fn raft_become_leader(me: *mut raft_server_t) {
    let s = srv!(me);
    guarded!((), s.become_leader())
}

#[no_mangle]
pub extern "C" fn raft_count_votes(me_: *mut raft_server_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(-1, s.count_votes())
}

#[no_mangle]
pub extern "C" fn raft_become_candidate(me: *mut raft_server_t) -> c_int {
    let s = srv!(me, -1);
    guarded!(-1, s.become_candidate())
}

#[no_mangle]
pub extern "C" fn raft_become_prevoted_candidate(me_: *mut raft_server_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(-1, s.become_prevoted_candidate())
}

#[no_mangle]
pub extern "C" fn raft_become_follower(me: *mut raft_server_t) {
    srv!(me).become_follower()
}

#[no_mangle]
pub extern "C" fn raft_has_majority_leases(me_: *mut raft_server_t) -> c_int {
    srv!(me_, 0).has_majority_leases() as c_int
}

#[no_mangle]
pub extern "C" fn raft_periodic(me: *mut raft_server_t) -> c_int {
    let s = srv!(me, -1);
    guarded!(RAFT_ERR_SHUTDOWN, s.periodic())
}

#[no_mangle]
pub extern "C" fn raft_get_entry_from_idx(
    me: *mut raft_server_t,
    idx: raft_index_t,
) -> *mut raft_entry_t {
    srv!(me, ptr::null_mut()).get_entry_from_idx(idx)
}

#[no_mangle]
pub extern "C" fn raft_get_entry_term(
    me_: *mut raft_server_t,
    idx: raft_index_t,
    term: *mut raft_term_t,
) -> c_int {
    match srv!(me_, 0).entry_term(idx) {
        Some(t) => {
            if !term.is_null() {
                // SAFETY: the caller's out-parameter.
                unsafe { *term = t };
            }
            1
        }
        None => 0,
    }
}

#[no_mangle]
pub extern "C" fn raft_voting_change_is_in_progress(me_: *mut raft_server_t) -> c_int {
    srv!(me_, 0).voting_change_is_in_progress() as c_int
}

#[no_mangle]
pub extern "C" fn raft_recv_appendentries_response(
    me: *mut raft_server_t,
    node: *mut raft_node_t,
    r: *mut msg_appendentries_response_t,
) -> c_int {
    let s = srv!(me, -1);
    if r.is_null() {
        return -1;
    }
    // SAFETY: the caller's message, copied.
    let r = unsafe { *r };
    guarded!(
        RAFT_ERR_SHUTDOWN,
        s.recv_appendentries_response(n(node), &r)
    )
}

#[no_mangle]
pub extern "C" fn raft_recv_appendentries(
    me: *mut raft_server_t,
    node: *mut raft_node_t,
    ae: *mut msg_appendentries_t,
    r: *mut msg_appendentries_response_t,
) -> c_int {
    let s = srv!(me, -1);
    if ae.is_null() || r.is_null() {
        return -1;
    }
    // SAFETY: the caller's messages: the request is copied (its entries stay the caller's),
    // the response is built here and stored at the end.
    let (ae, mut resp) = unsafe { (*ae, *r) };
    let e = guarded!(
        RAFT_ERR_SHUTDOWN,
        s.recv_appendentries(n(node), &ae, &mut resp)
    );
    // SAFETY: as above.
    unsafe { *r = resp };
    e
}

#[no_mangle]
pub extern "C" fn raft_recv_requestvote(
    me: *mut raft_server_t,
    node: *mut raft_node_t,
    vr: *mut msg_requestvote_t,
    r: *mut msg_requestvote_response_t,
) -> c_int {
    let s = srv!(me, -1);
    if vr.is_null() || r.is_null() {
        return -1;
    }
    // SAFETY: the caller's messages, copied in and out.
    let (vr, mut resp) = unsafe { (*vr, *r) };
    let e = guarded!(
        RAFT_ERR_SHUTDOWN,
        s.recv_requestvote(n(node), &vr, &mut resp)
    );
    // SAFETY: as above.
    unsafe { *r = resp };
    e
}

#[no_mangle]
pub extern "C" fn raft_votes_is_majority(nnodes: c_int, nvotes: c_int) -> c_int {
    rs::votes_is_majority(nnodes, nvotes) as c_int
}

#[no_mangle]
pub extern "C" fn raft_recv_requestvote_response(
    me: *mut raft_server_t,
    node: *mut raft_node_t,
    r: *mut msg_requestvote_response_t,
) -> c_int {
    let s = srv!(me, -1);
    if r.is_null() {
        return -1;
    }
    // SAFETY: the caller's message, copied.
    let r = unsafe { *r };
    guarded!(RAFT_ERR_SHUTDOWN, s.recv_requestvote_response(n(node), &r))
}

#[no_mangle]
pub extern "C" fn raft_recv_installsnapshot(
    me: *mut raft_server_t,
    node: *mut raft_node_t,
    is: *mut msg_installsnapshot_t,
    r: *mut msg_installsnapshot_response_t,
) -> c_int {
    let s = srv!(me, -1);
    if is.is_null() || r.is_null() {
        return -1;
    }
    guarded!(RAFT_ERR_SHUTDOWN, s.recv_installsnapshot(n(node), is, r))
}

#[no_mangle]
pub extern "C" fn raft_recv_installsnapshot_response(
    me: *mut raft_server_t,
    node: *mut raft_node_t,
    r: *mut msg_installsnapshot_response_t,
) -> c_int {
    let s = srv!(me, -1);
    if r.is_null() {
        return -1;
    }
    guarded!(
        RAFT_ERR_SHUTDOWN,
        s.recv_installsnapshot_response(n(node), r)
    )
}

#[no_mangle]
pub extern "C" fn raft_recv_entry(
    me: *mut raft_server_t,
    ety: *mut msg_entry_t,
    r: *mut msg_entry_response_t,
) -> c_int {
    let s = srv!(me, -1);
    if ety.is_null() {
        return -1;
    }
    guarded!(RAFT_ERR_SHUTDOWN, s.recv_entry(ety, r))
}

#[no_mangle]
pub extern "C" fn raft_send_requestvote(me: *mut raft_server_t, node: *mut raft_node_t) -> c_int {
    let s = srv!(me, -1);
    guarded!(-1, s.send_requestvote(n(node)))
}

#[no_mangle]
pub extern "C" fn raft_append_entries(
    me: *mut raft_server_t,
    entries: *mut raft_entry_t,
    n_: *mut c_int,
) -> c_int {
    let s = srv!(me, -1);
    if n_.is_null() {
        return -1;
    }
    // SAFETY: the caller's count, checked non-NULL; nothing else refers to it.
    guarded!(
        RAFT_ERR_SHUTDOWN,
        s.append_entries(entries, unsafe { &mut *n_ })
    )
}

#[no_mangle]
pub extern "C" fn raft_apply_entry(me_: *mut raft_server_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(RAFT_ERR_SHUTDOWN, s.apply_entry())
}

#[no_mangle]
pub extern "C" fn raft_get_entries_from_idx(
    me_: *mut raft_server_t,
    idx: raft_index_t,
    n_etys: *mut c_int,
) -> *mut raft_entry_t {
    let s = Srv::from_raw(me_.cast());
    let (p, k) = if s.is_null() {
        (ptr::null_mut(), 0)
    } else {
        s.get_entries_from_idx(idx)
    };
    if !n_etys.is_null() {
        // SAFETY: the caller's out-parameter.
        unsafe { *n_etys = k };
    }
    p
}

#[no_mangle]
pub extern "C" fn raft_send_installsnapshot(
    me_: *mut raft_server_t,
    node: *mut raft_node_t,
) -> c_int {
    let s = srv!(me_, -1);
    guarded!(-1, s.send_installsnapshot(n(node)))
}

#[no_mangle]
pub extern "C" fn raft_send_appendentries(me: *mut raft_server_t, node: *mut raft_node_t) -> c_int {
    let s = srv!(me, -1);
    guarded!(-1, s.send_appendentries(n(node)))
}

#[no_mangle]
pub extern "C" fn raft_send_appendentries_all(me_: *mut raft_server_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(-1, s.send_appendentries_all())
}

#[no_mangle]
pub extern "C" fn raft_add_node_internal(
    me_: *mut raft_server_t,
    ety: *mut raft_entry_t,
    udata: *mut c_void,
    id: raft_node_id_t,
    is_self: c_int,
) -> *mut raft_node_t {
    srv!(me_, ptr::null_mut())
        .add_node_internal(ety, udata, id, is_self != 0)
        .as_c()
}

#[no_mangle]
pub extern "C" fn raft_add_node(
    me: *mut raft_server_t,
    user_data: *mut c_void,
    id: raft_node_id_t,
    is_self: c_int,
) -> *mut raft_node_t {
    raft_add_node_internal(me, ptr::null_mut(), user_data, id, is_self)
}

#[no_mangle]
pub extern "C" fn raft_add_non_voting_node(
    me_: *mut raft_server_t,
    udata: *mut c_void,
    id: raft_node_id_t,
    is_self: c_int,
) -> *mut raft_node_t {
    srv!(me_, ptr::null_mut())
        .add_non_voting_node_internal(ptr::null_mut(), udata, id, is_self != 0)
        .as_c()
}

#[no_mangle]
pub extern "C" fn raft_remove_node(me_: *mut raft_server_t, node: *mut raft_node_t) {
    let s = srv!(me_);
    guarded!((), s.remove_node(n(node)))
}

#[no_mangle]
pub extern "C" fn raft_get_nvotes_for_me(me: *mut raft_server_t) -> c_int {
    srv!(me, 0).nvotes_for_me()
}

#[no_mangle]
pub extern "C" fn raft_vote(me_: *mut raft_server_t, node: *mut raft_node_t) -> c_int {
    raft_vote_for_nodeid(me_, n(node).id())
}

#[no_mangle]
pub extern "C" fn raft_vote_for_nodeid(me_: *mut raft_server_t, nodeid: raft_node_id_t) -> c_int {
    srv!(me_, -1).vote_for_nodeid(nodeid)
}

#[no_mangle]
pub extern "C" fn raft_msg_entry_response_committed(
    me_: *mut raft_server_t,
    r: *const msg_entry_response_t,
) -> c_int {
    let s = srv!(me_, -1);
    if r.is_null() {
        return -1;
    }
    // SAFETY: the caller's response, read.
    s.msg_entry_response_committed(unsafe { &*r })
}

#[no_mangle]
pub extern "C" fn raft_apply_all(me_: *mut raft_server_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(RAFT_ERR_SHUTDOWN, s.apply_all())
}

#[no_mangle]
pub extern "C" fn raft_entry_is_voting_cfg_change(ety: *mut raft_entry_t) -> c_int {
    // SAFETY: the caller's entry (NULL is not one).
    (!ety.is_null() && rs::entry_is_voting_cfg_change(unsafe { (*ety).type_ })) as c_int
}

#[no_mangle]
pub extern "C" fn raft_entry_is_cfg_change(ety: *mut raft_entry_t) -> c_int {
    // SAFETY: as above.
    (!ety.is_null() && rs::entry_is_cfg_change(unsafe { (*ety).type_ })) as c_int
}

#[no_mangle]
pub extern "C" fn raft_offer_log(
    me_: *mut raft_server_t,
    entries: *mut raft_entry_t,
    n_entries: c_int,
    idx: raft_index_t,
) {
    let s = Srv::from_raw(me_.cast());
    guarded!((), s.offer_log(entries, n_entries, idx))
}

#[no_mangle]
pub extern "C" fn raft_pop_log(
    me_: *mut raft_server_t,
    entries: *mut raft_entry_t,
    n_entries: c_int,
    idx: raft_index_t,
) {
    let s = Srv::from_raw(me_.cast());
    guarded!((), s.pop_log(entries, n_entries, idx))
}

#[no_mangle]
pub extern "C" fn raft_get_first_entry_idx(me_: *mut raft_server_t) -> raft_index_t {
    let s = srv!(me_, 0);
    guarded!(0, s.first_entry_idx())
}

#[no_mangle]
pub extern "C" fn raft_get_num_snapshottable_logs(me_: *mut raft_server_t) -> raft_index_t {
    let s = srv!(me_, 0);
    guarded!(0, s.num_snapshottable_logs())
}

#[no_mangle]
pub extern "C" fn raft_begin_snapshot(me_: *mut raft_server_t, idx: raft_index_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(-1, s.begin_snapshot(idx))
}

#[no_mangle]
pub extern "C" fn raft_end_snapshot(me_: *mut raft_server_t) -> c_int {
    let s = srv!(me_, -1);
    guarded!(-1, s.end_snapshot())
}

#[no_mangle]
pub extern "C" fn raft_begin_load_snapshot(
    me_: *mut raft_server_t,
    last_included_term: raft_term_t,
    last_included_index: raft_index_t,
) -> c_int {
    let s = srv!(me_, -1);
    guarded!(
        -1,
        s.begin_load_snapshot(last_included_term, last_included_index)
    )
}

#[no_mangle]
pub extern "C" fn raft_end_load_snapshot(me_: *mut raft_server_t) -> c_int {
    srv!(me_, -1).end_load_snapshot()
}
