//! Exports of upstream `raft_log.c`.

use crate::raft_log::{LogH, INITIAL_CAPACITY};
use crate::sys::{log_t, raft_cbs_t, raft_entry_t, raft_index_t, raft_term_t};
use std::ffi::{c_int, c_void};
use std::ptr;

fn h(me: *mut log_t) -> Option<LogH> {
    let l = LogH(me.cast());
    (!l.0.is_null()).then_some(l)
}

#[no_mangle]
pub extern "C" fn log_new() -> *mut log_t {
    log_alloc(INITIAL_CAPACITY)
}

#[no_mangle]
pub extern "C" fn log_alloc(initial_size: raft_index_t) -> *mut log_t {
    LogH::alloc(initial_size).map_or(ptr::null_mut(), |l| l.0.cast())
}

#[no_mangle]
pub extern "C" fn log_set_callbacks(me_: *mut log_t, funcs: *mut raft_cbs_t, raft: *mut c_void) {
    if let Some(l) = h(me_) {
        l.set_callbacks(funcs, raft)
    }
}

#[no_mangle]
pub extern "C" fn log_free(me_: *mut log_t) {
    LogH(me_.cast()).free()
}

#[no_mangle]
pub extern "C" fn log_clear(me_: *mut log_t) {
    if let Some(l) = h(me_) {
        l.clear()
    }
}

#[no_mangle]
pub extern "C" fn log_append(me_: *mut log_t, entries: *mut raft_entry_t, n: *mut c_int) -> c_int {
    let Some(l) = h(me_) else { return -1 };
    if n.is_null() {
        return -1;
    }
    // SAFETY: n is the caller's count (checked non-NULL); no other reference to it exists.
    crate::capi::guarded!(-1, l.append(entries, unsafe { &mut *n }))
}

#[no_mangle]
pub extern "C" fn log_count(me_: *mut log_t) -> raft_index_t {
    h(me_).map_or(0, |l| l.count())
}

#[no_mangle]
pub extern "C" fn log_delete(me_: *mut log_t, idx: raft_index_t) -> c_int {
    h(me_).map_or(-1, |l| crate::capi::guarded!(-1, l.delete(idx)))
}

#[no_mangle]
pub extern "C" fn log_empty(me_: *mut log_t) {
    if let Some(l) = h(me_) {
        l.empty()
    }
}

#[no_mangle]
pub extern "C" fn log_poll(me_: *mut log_t, idx: raft_index_t) -> c_int {
    h(me_).map_or(-1, |l| crate::capi::guarded!(-1, l.poll(idx)))
}

#[no_mangle]
pub extern "C" fn log_get_from_idx(
    me_: *mut log_t,
    idx: raft_index_t,
    n_etys: *mut c_int,
) -> *mut raft_entry_t {
    let (p, n) = h(me_).map_or((ptr::null_mut(), 0), |l| l.get_from_idx(idx));
    if !n_etys.is_null() {
        // SAFETY: the caller's out-parameter.
        unsafe { *n_etys = n };
    }
    p
}

#[no_mangle]
pub extern "C" fn log_get_at_idx(me_: *mut log_t, idx: raft_index_t) -> *mut raft_entry_t {
    h(me_).map_or(ptr::null_mut(), |l| l.get_at_idx(idx))
}

#[no_mangle]
pub extern "C" fn log_peektail(me_: *mut log_t) -> *mut raft_entry_t {
    h(me_).map_or(ptr::null_mut(), |l| l.peektail())
}

#[no_mangle]
pub extern "C" fn log_get_current_idx(me_: *mut log_t) -> raft_index_t {
    h(me_).map_or(0, |l| l.current_idx())
}

#[no_mangle]
pub extern "C" fn log_load_from_snapshot(me_: *mut log_t, idx: raft_index_t, term: raft_term_t) {
    if let Some(l) = h(me_) {
        l.load_from_snapshot(idx, term)
    }
}

#[no_mangle]
pub extern "C" fn log_get_base(me_: *mut log_t) -> raft_index_t {
    h(me_).map_or(0, |l| l.base())
}

#[no_mangle]
pub extern "C" fn log_get_base_term(me_: *mut log_t) -> raft_term_t {
    h(me_).map_or(0, |l| l.base_term())
}

#[no_mangle]
pub extern "C" fn log_size(me_: *mut log_t) -> raft_index_t {
    h(me_).map_or(0, |l| l.size())
}
