//! `crt_swim_*`, `crt_rank_state_get`, `crt_self_incarnation_get` (upstream `crt_swim.c`).
//! The `struct crt_grp_priv *` arguments of the internal entry points name the primary group,
//! the only one SWIM runs on; they are not read.
use crate::crt_swim;
use crate::ffi::guard;
use crate::sys::{crt_group_t, d_rank_t, swim_member_state};
use std::ffi::c_int;

const DER_INVAL: c_int = -1003;

/// SWIM's request format (upstream `CQF_crt_rpc_swim`, from CRT_RPC_DEFINE(crt_rpc_swim)).
#[no_mangle]
pub static CQF_crt_rpc_swim: crate::sys::crt_req_format = crt_swim::SWIM_FMT;

fn rc(r: Result<(), i32>) -> c_int {
    r.err().unwrap_or(0)
}

#[no_mangle]
pub extern "C" fn crt_swim_init(crt_ctx_idx: c_int) -> c_int {
    guard(DER_INVAL, || rc(crt_swim::init(crt_ctx_idx)))
}

#[no_mangle]
pub extern "C" fn crt_swim_fini() {
    guard((), crt_swim::fini)
}

#[no_mangle]
pub extern "C" fn crt_swim_enable(_grp_priv: *mut crate::sys::crt_grp_priv, crt_ctx_idx: c_int) -> c_int {
    guard(DER_INVAL, || rc(crt_swim::enable(crt_ctx_idx)))
}

#[no_mangle]
pub extern "C" fn crt_swim_disable(_grp_priv: *mut crate::sys::crt_grp_priv, crt_ctx_idx: c_int) -> c_int {
    guard(DER_INVAL, || rc(crt_swim::disable(crt_ctx_idx)))
}

#[no_mangle]
pub extern "C" fn crt_swim_disable_all() {
    guard((), crt_swim::disable_all)
}

#[no_mangle]
pub extern "C" fn crt_swim_suspend_all() {
    guard((), crt_swim::suspend_all)
}

#[no_mangle]
pub extern "C" fn crt_swim_accommodate() {
    guard((), crt_swim::accommodate)
}

#[no_mangle]
pub extern "C" fn crt_swim_rank_add(_grp_priv: *mut crate::sys::crt_grp_priv, rank: d_rank_t, incarnation: u64) -> c_int {
    guard(DER_INVAL, || rc(crt_swim::rank_add(rank, incarnation)))
}

#[no_mangle]
pub extern "C" fn crt_swim_rank_del(_grp_priv: *mut crate::sys::crt_grp_priv, rank: d_rank_t) -> c_int {
    guard(DER_INVAL, || rc(crt_swim::rank_del(rank)))
}

#[no_mangle]
pub extern "C" fn crt_swim_rank_del_all(_grp_priv: *mut crate::sys::crt_grp_priv) {
    guard((), crt_swim::rank_del_all)
}

#[no_mangle]
pub extern "C" fn crt_swim_rank_shuffle(_grp_priv: *mut crate::sys::crt_grp_priv) {
    guard((), crt_swim::rank_shuffle)
}

#[no_mangle]
pub extern "C" fn crt_swim_rank_check(_grp_priv: *mut crate::sys::crt_grp_priv, rank: d_rank_t, incarnation: u64) -> c_int {
    guard(DER_INVAL, || rc(crt_swim::rank_check(rank, incarnation)))
}

/// # Safety
/// `grp` is NULL or a group handle; `state` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_rank_state_get(grp: *mut crt_group_t, rank: d_rank_t, state: *mut swim_member_state) -> c_int {
    if grp.is_null() || state.is_null() || rank == crate::group::CRT_NO_RANK {
        return DER_INVAL;
    }
    // SAFETY: a group handle of this library: cg_grpid is its C string.
    let name = unsafe { (*grp).cg_grpid.as_ref().map(|c| std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()) };
    if name.is_some_and(|n| crate::secondary::exists(&n)) {
        return DER_INVAL; // SWIM runs on the primary group only
    }
    match crt_swim::rank_state(rank) {
        Ok(s) => {
            // SAFETY: checked non-NULL; the caller's struct.
            unsafe {
                *state = swim_member_state { sms_incarnation: s.incarnation, sms_status: s.status.0, sms_delay: s.delay };
            }
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `incarnation` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_self_incarnation_get(incarnation: *mut u64) -> c_int {
    if incarnation.is_null() {
        return DER_INVAL;
    }
    match crt_swim::self_incarnation() {
        // SAFETY: checked non-NULL.
        Ok(v) => unsafe {
            *incarnation = v;
            0
        },
        Err(e) => e,
    }
}
