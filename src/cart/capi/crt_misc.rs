//! Internal CaRT entry points that upstream's libcart exports without a public header
//! (`crt_init.c`, `crt_group.c`, `crt_context.c`): `crt_genvs`, `crt_initialized`, group-name
//! check, context lookups and the event-callback trigger. Thin views of the safe modules.
#![allow(non_upper_case_globals)]
use std::ffi::{c_char, c_int};
use std::sync::Arc;

use crate::init;
use crate::sys::{crt_context_t, crt_envs, crt_event_source, crt_event_type, crt_group_id_t, crt_provider_t, d_rank_t};
use crate::transport::der::DER_INVAL;

/// Upstream's `crt_genvs`: every variable of `CRT_ENV_LIST` as read at `crt_init`
/// (`c/crt_env.c` fills and releases it; code built with CaRT's internal headers reads it
/// through `crt_env_get`).
#[no_mangle]
pub static mut crt_genvs: crt_envs = crt_envs_zeroed();

const fn crt_envs_zeroed() -> crt_envs {
    // SAFETY: crt_envs is plain data (ints, pointers, a bool): all-zero is a valid value
    // (NULL strings, inited false).
    unsafe { std::mem::zeroed() }
}

unsafe extern "C" {
    /// c/crt_env.c: fills `crt_genvs` from the environment.
    fn oxidaos_crt_env_init();
    /// c/crt_env.c: releases its strings and marks it unfilled.
    fn oxidaos_crt_env_fini();
}

/// `crt_init_opt`'s environment step (after the log facilities, as upstream).
pub fn env_init() {
    // SAFETY: called from crt_init_opt; the C side only touches crt_genvs.
    unsafe { oxidaos_crt_env_init() }
}

/// `crt_finalize`'s last step, on every call, as upstream.
pub fn env_fini() {
    // SAFETY: as env_init.
    unsafe { oxidaos_crt_env_fini() }
}

#[no_mangle]
pub extern "C" fn crt_initialized() -> bool {
    init::initialized()
}

/// # Safety
/// `grpid` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn crt_validate_grpid(grpid: crt_group_id_t) -> c_int {
    if grpid.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the caller's contract; at most CRT_GROUP_ID_MAX_LEN + 1 bytes are looked at
    // (upstream's strnlen bound), so an unterminated long name is not read past that.
    let bytes = unsafe { bounded(grpid, crate::sys::CRT_GROUP_ID_MAX_LEN as usize + 1) };
    if init::validate_grpid(bytes) {
        0
    } else {
        DER_INVAL
    }
}

/// The bytes of `p` up to its NUL or `max` bytes.
///
/// # Safety
/// `p` points to a NUL-terminated string or to at least `max` readable bytes.
unsafe fn bounded<'a>(p: *const c_char, max: usize) -> &'a [u8] {
    // SAFETY: the caller's contract.
    let n = unsafe { libc::strnlen(p, max) };
    // SAFETY: n bytes were just found readable.
    unsafe { std::slice::from_raw_parts(p as *const u8, n) }
}

/// The state's own reference to the context behind a handle, when it is a live one.
fn live(ctx: crt_context_t) -> Option<Arc<crate::context::Context>> {
    let st = init::state();
    st.as_ref()?.contexts.iter().flatten().find(|c| Arc::as_ptr(c) as crt_context_t == ctx).cloned()
}

#[no_mangle]
pub extern "C" fn crt_context_is_primary(crt_ctx: crt_context_t) -> bool {
    !crt_ctx.is_null() && live(crt_ctx).is_some()
}

#[no_mangle]
pub extern "C" fn crt_context_empty(_provider: crt_provider_t, _locked: c_int) -> bool {
    crate::context::context_num() == 0
}

#[no_mangle]
pub extern "C" fn crt_context_lookup(ctx_idx: c_int) -> crt_context_t {
    init::context_lookup(ctx_idx).map_or(std::ptr::null_mut(), |c| Arc::as_ptr(&c) as crt_context_t)
}

#[no_mangle]
pub extern "C" fn crt_context_lookup_locked(ctx_idx: c_int) -> crt_context_t {
    crt_context_lookup(ctx_idx)
}

#[no_mangle]
pub extern "C" fn crt_trigger_event_cbs(rank: d_rank_t, incarnation: u64, src: crt_event_source, type_: crt_event_type) {
    crate::ffi::guard((), || crate::crt_swim::trigger_event(rank, incarnation, src, type_));
}

/// Upstream's `crt_proto_register_internal`: `crt_proto_register` for CaRT's own base opcode
/// (exactly `CRT_PROTO_BASEOPC_MASK`), with the same checks of the protocol's RPC list.
///
/// # Safety
/// As `crt_proto_register`: `cpf` is NULL or a valid protocol whose `cpf_prf` holds
/// `cpf_count` entries that outlive the registration.
#[no_mangle]
pub unsafe extern "C" fn crt_proto_register_internal(cpf: *mut crate::sys::crt_proto_format) -> c_int {
    // SAFETY: the caller's contract, passed on.
    unsafe { super::crt_register::proto_register_common(cpf, |b| b == crate::register::CRT_PROTO_BASEOPC_MASK, true) }
}

/// Upstream's `crt_proto_query_int`, which its `crt_proto_query(_with_ctx)` wrap.
///
/// # Safety
/// As `crt_proto_query_with_ctx`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn crt_proto_query_int(
    tgt_ep: *mut crate::sys::crt_endpoint_t,
    base_opc: crate::sys::crt_opcode_t,
    ver: *mut u32,
    count: c_int,
    timeout: u32,
    cb: crate::sys::crt_proto_query_cb_t,
    arg: *mut std::ffi::c_void,
    ctx: crt_context_t,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { super::crt_proto_query_with_ctx(tgt_ep, base_opc, ver, count, timeout, cb, arg, ctx) }
}

/// Upstream's `crt_opc_decode` (its RPC_TRACE/RPC_ERROR log macros call it).
///
/// # Safety
/// Each out-pointer is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_opc_decode(crt_opc: crate::sys::crt_opcode_t, module_name: *mut *mut c_char, opc_name: *mut *mut c_char) {
    let (m, o) = crate::opc_decode::decode(crt_opc);
    // SAFETY: the caller's contract; the strings are static and never written through.
    unsafe {
        if let Some(p) = module_name.as_mut() {
            *p = m.as_ptr() as *mut c_char;
        }
        if let Some(p) = opc_name.as_mut() {
            *p = o.as_ptr() as *mut c_char;
        }
    }
}

/// A group name as a C string, for the tests.
#[cfg(test)]
fn cs(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_grpid_as_upstream() {
        unsafe {
            assert_eq!(crt_validate_grpid(cs("daos_server").as_ptr() as crt_group_id_t), 0);
            assert_eq!(crt_validate_grpid(cs("").as_ptr() as crt_group_id_t), DER_INVAL);
            assert_eq!(crt_validate_grpid(std::ptr::null_mut()), DER_INVAL);
            for bad in ["a;b", "a\"b", "a`b", "a'b", "a\\b", "tab\tx", "\u{7f}"] {
                assert_eq!(crt_validate_grpid(cs(bad).as_ptr() as crt_group_id_t), DER_INVAL, "{bad:?}");
            }
            let max = "x".repeat(crate::sys::CRT_GROUP_ID_MAX_LEN as usize);
            assert_eq!(crt_validate_grpid(cs(&max).as_ptr() as crt_group_id_t), 0);
            let over = "x".repeat(crate::sys::CRT_GROUP_ID_MAX_LEN as usize + 1);
            assert_eq!(crt_validate_grpid(cs(&over).as_ptr() as crt_group_id_t), DER_INVAL);
        }
    }

    #[test]
    fn genvs_layout() {
        assert_eq!(std::mem::size_of::<crt_envs>(), 624);
    }
}
