//! Requests and replies (upstream `crt_rpc.c`): the C view of [`crate::rpc`].
use std::ffi::{c_int, c_void};
use std::sync::Arc;

use crate::context::Context;
use crate::rpc::{self, RpcPriv};
use crate::sys::{crt_cb_t, crt_context_t, crt_endpoint_t, crt_opcode_t, crt_rpc_t, d_rank_t};
use crate::transport::der::DER_INVAL;

/// The state's context behind a live handle, as an owned Arc.
fn ctx_arc(ctx: crt_context_t) -> Option<Arc<Context>> {
    if ctx.is_null() {
        return None;
    }
    let p = ctx as *const Context;
    // SAFETY: a live handle is Arc::as_ptr of a context the process state still holds, so
    // taking one more strong count and wrapping it is sound.
    unsafe {
        Arc::increment_strong_count(p);
        Some(Arc::from_raw(p))
    }
}

/// # Safety
/// `crt_ctx` is NULL or live; `tgt_ep` NULL or valid; `req` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_req_create(crt_ctx: crt_context_t, tgt_ep: *mut crt_endpoint_t, opc: crt_opcode_t, req: *mut *mut crt_rpc_t) -> c_int {
    if req.is_null() {
        return DER_INVAL;
    }
    let Some(ctx) = ctx_arc(crt_ctx) else { return DER_INVAL };
    // SAFETY: the caller's contract.
    let ep = unsafe { tgt_ep.as_ref() }.copied();
    match rpc::create(ctx, ep, opc) {
        Ok(p) => {
            // SAFETY: checked non-NULL.
            unsafe { *req = p as *mut crt_rpc_t };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `req` is NULL or a live RPC; `tgt_ep` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn crt_req_set_endpoint(req: *mut crt_rpc_t, tgt_ep: *mut crt_endpoint_t) -> c_int {
    if req.is_null() || tgt_ep.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the caller's contract (the RPC is not yet sent, so only this thread uses it).
    unsafe { (*req).cr_ep = *tgt_ep };
    0
}

/// # Safety
/// `req` is NULL or a live RPC.
#[no_mangle]
pub unsafe extern "C" fn crt_req_set_timeout(req: *mut crt_rpc_t, timeout_sec: u32) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { rpc::from_c(req) } {
        None => DER_INVAL,
        Some(r) => r.set_timeout(timeout_sec).err().unwrap_or(0),
    }
}

/// # Safety
/// `req` NULL or live; `timeout_sec` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_req_get_timeout(req: *mut crt_rpc_t, timeout_sec: *mut u32) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { rpc::from_c(req) } {
        Some(r) if !timeout_sec.is_null() => {
            // SAFETY: checked non-NULL.
            unsafe { *timeout_sec = r.timeout() };
            0
        }
        _ => DER_INVAL,
    }
}

/// # Safety
/// `req` is NULL or a live RPC.
#[no_mangle]
pub unsafe extern "C" fn crt_req_addref(req: *mut crt_rpc_t) {
    // SAFETY: the caller's contract.
    if let Some(r) = unsafe { rpc::from_c(req) } {
        r.addref();
    }
}

/// # Safety
/// `req` is NULL or a live RPC whose reference the caller drops.
#[no_mangle]
pub unsafe extern "C" fn crt_req_decref(req: *mut crt_rpc_t) {
    if !req.is_null() {
        // SAFETY: the caller's contract.
        unsafe { RpcPriv::decref(req as *mut RpcPriv) };
    }
}

/// # Safety
/// `req` is NULL or a live client RPC whose reference the call takes over.
#[no_mangle]
pub unsafe extern "C" fn crt_req_send(req: *mut crt_rpc_t, complete_cb: crt_cb_t, arg: *mut c_void) -> c_int {
    if req.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the caller's contract.
    unsafe { rpc::send(req as *mut RpcPriv, complete_cb, arg) }
}

/// # Safety
/// `req` is NULL or a live server RPC.
#[no_mangle]
pub unsafe extern "C" fn crt_reply_send(req: *mut crt_rpc_t) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { rpc::from_c(req) } {
        None => DER_INVAL,
        Some(r) => r.reply_send().err().unwrap_or(0),
    }
}

/// `crt_reply_send`, and the received request message is released as soon as the reply has
/// gone (for a collective node: its reply to the parent, once its subtree is done), as
/// upstream: input values pointing into it (iovs, strings) are invalid from then on; what the
/// decoding allocated is still freed with the RPC's last reference.
///
/// # Safety
/// As `crt_reply_send`.
#[no_mangle]
pub unsafe extern "C" fn crt_reply_send_input_free(req: *mut crt_rpc_t) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { rpc::from_c(req) } {
        None => DER_INVAL,
        Some(r) => {
            r.set_release_input_early();
            r.reply_send().err().unwrap_or(0)
        }
    }
}

/// # Safety
/// `req` NULL or live; `rank` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_req_src_rank_get(req: *mut crt_rpc_t, rank: *mut d_rank_t) -> c_int {
    // SAFETY: the caller's contract.
    match (unsafe { rpc::from_c(req) }, rank.is_null()) {
        (Some(r), false) => match r.src_rank() {
            Ok(v) => {
                // SAFETY: checked non-NULL.
                unsafe { *rank = v };
                0
            }
            Err(e) => e,
        },
        _ => DER_INVAL,
    }
}

/// # Safety
/// `req` NULL or live; `timeout` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_req_src_timeout_get(rpc: *mut crt_rpc_t, timeout: *mut u32) -> c_int {
    // SAFETY: the caller's contract.
    match (unsafe { rpc::from_c(rpc) }, timeout.is_null()) {
        (Some(r), false) => match r.src_timeout() {
            Ok(v) => {
                // SAFETY: checked non-NULL.
                unsafe { *timeout = v };
                0
            }
            Err(e) => e,
        },
        _ => DER_INVAL,
    }
}

/// # Safety
/// `req` NULL or live; `rank` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_req_dst_rank_get(req: *mut crt_rpc_t, rank: *mut d_rank_t) -> c_int {
    // SAFETY: the caller's contract.
    match (unsafe { rpc::from_c(req) }, rank.is_null()) {
        (Some(r), false) => {
            // SAFETY: checked non-NULL.
            unsafe { *rank = r.dst().0 };
            0
        }
        _ => DER_INVAL,
    }
}

/// # Safety
/// `req` NULL or live; `tag` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_req_dst_tag_get(req: *mut crt_rpc_t, tag: *mut u32) -> c_int {
    // SAFETY: the caller's contract.
    match (unsafe { rpc::from_c(req) }, tag.is_null()) {
        (Some(r), false) => {
            // SAFETY: checked non-NULL.
            unsafe { *tag = r.dst().1 };
            0
        }
        _ => DER_INVAL,
    }
}

/// # Safety
/// `req` is NULL or a live RPC.
#[no_mangle]
pub unsafe extern "C" fn crt_req_abort(req: *mut crt_rpc_t) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { rpc::from_c(req) } {
        None => DER_INVAL,
        Some(r) => r.abort().err().unwrap_or(0),
    }
}

/// # Safety
/// `req` is NULL or a live RPC.
#[no_mangle]
pub unsafe extern "C" fn crt_req_get_proto_ver(req: *mut crt_rpc_t) -> c_int {
    if req.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the caller's contract.
    let opc = unsafe { (*req).cr_opc };
    ((opc & crate::register::CRT_PROTO_VER_MASK) >> 16) as c_int
}

/// # Safety
/// `rpc` is NULL or a live RPC of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_req_origin_addr_get(rpc: *mut crt_rpc_t) -> *mut std::ffi::c_char {
    // SAFETY: the caller's contract.
    match unsafe { rpc::from_c(rpc) } {
        Some(r) => r.origin_addr(),
        None => std::ptr::null_mut(),
    }
}

/// Upstream's internal `crt_req_destroy(struct crt_rpc_priv *)`, exported by libcart: frees
/// an RPC whose reference count dropped to zero (a server RPC left unanswered by its handler
/// answers -DER_NOREPLY first). The private RPC starts with its `crt_rpc_t` in upstream's
/// layout as in this one, so the pointer is the RPC's.
///
/// # Safety
/// `rpc_priv` is NULL or an RPC of this library that nobody references any more.
#[no_mangle]
pub unsafe extern "C" fn crt_req_destroy(rpc_priv: *mut crate::sys::crt_rpc_priv) {
    if !rpc_priv.is_null() {
        // SAFETY: the caller's contract; crt_rpc_t (and so RpcPriv) is at offset 0.
        unsafe { RpcPriv::destroy(rpc_priv as *mut RpcPriv) };
    }
}

/// # Safety
/// `event_handler` is NULL or a function valid until replaced; `arg` is passed back as is.
#[no_mangle]
pub unsafe extern "C" fn crt_register_hlc_error_cb(event_handler: crate::sys::crt_hlc_error_cb, arg: *mut c_void) -> c_int {
    crate::hlc::register_error_cb(event_handler, arg);
    0
}
