//! `crt_proto_register` (upstream `crt_register.c`): the C view of [`crate::register`].
use std::ffi::{c_int, c_void};

use crate::register::{self, RpcFormat};
use crate::sys::crt_proto_format;
use crate::transport::der::DER_INVAL;

/// # Safety
/// `cpf` is NULL or a valid protocol whose `cpf_prf` holds `cpf_count` entries, each
/// `prf_req_fmt` NULL or valid; they must outlive the registration (as upstream requires).
#[no_mangle]
pub unsafe extern "C" fn crt_proto_register(cpf: *mut crt_proto_format) -> c_int {
    // SAFETY: the caller's contract, passed on.
    unsafe { proto_register_common(cpf, register::valid_base, false) }
}

/// The checks and the RPC list shared by `crt_proto_register` and
/// `crt_proto_register_internal`: -DER_UNINIT before `crt_init`, -DER_INVAL for a NULL
/// protocol, a base `base_ok` refuses, or an empty, missing or oversized RPC list.
///
/// # Safety
/// As `crt_proto_register`.
pub(super) unsafe fn proto_register_common(
    cpf: *mut crt_proto_format,
    base_ok: fn(u32) -> bool,
    internal: bool,
) -> c_int {
    if !crate::init::initialized() {
        return crate::init::DER_UNINIT;
    }
    // SAFETY: the caller's contract.
    let Some(p) = (unsafe { cpf.as_ref() }) else {
        return DER_INVAL;
    };
    if !base_ok(p.cpf_base) {
        return DER_INVAL;
    }
    if p.cpf_prf.is_null() || p.cpf_count == 0 || p.cpf_count > register::CRT_PROTO_MAX_COUNT {
        return DER_INVAL;
    }
    // SAFETY: cpf_prf holds cpf_count entries (contract).
    let prfs = unsafe { std::slice::from_raw_parts(p.cpf_prf, p.cpf_count as usize) };
    let rpcs: Vec<RpcFormat> = prfs
        .iter()
        .map(|f| {
            // SAFETY: prf_req_fmt is NULL or valid (contract).
            let fmt = unsafe { f.prf_req_fmt.as_ref() };
            RpcFormat {
                req_fmt: f.prf_req_fmt as usize,
                size_in: fmt.map_or(0, |r| r.crf_size_in),
                size_out: fmt.map_or(0, |r| r.crf_size_out),
                handler: f.prf_hdlr.map_or(0, |h| h as usize),
                co_ops: f.prf_co_ops as usize,
                flags: f.prf_flags,
            }
        })
        .collect();
    register::proto_register(p.cpf_base, p.cpf_ver, &rpcs, internal).err().unwrap_or(0)
}

struct QueryArg {
    cb: crate::sys::crt_proto_query_cb_t,
    arg: usize,
    vers: *mut c_void,
}

unsafe extern "C" fn proto_query_done(info: *const crate::sys::crt_cb_info) {
    // SAFETY: cart's RPC layer passes a valid info whose argument is our QueryArg box.
    let info = unsafe { &*info };
    // SAFETY: the Box made in proto_query, completed exactly once.
    let q = unsafe { Box::from_raw(info.cci_arg as *mut QueryArg) };
    let mut out = crate::sys::crt_proto_query_cb_info { pq_arg: q.arg as *mut c_void, pq_ver: 0, pq_rc: info.cci_rc };
    if info.cci_rc == 0 {
        // SAFETY: a completed query RPC: its output is a ProtoQueryOut.
        let o = unsafe { &*((*info.cci_rpc).cr_output as *const crate::internal::ProtoQueryOut) };
        out.pq_ver = o.pq_ver as c_int;
        out.pq_rc = o.pq_rc;
    }
    // SAFETY: the version array malloc'd in proto_query (the input iov points at it).
    unsafe { libc::free(q.vers) };
    if let Some(cb) = q.cb {
        // SAFETY: the caller's callback.
        unsafe { cb(&mut out) };
    }
}

/// # Safety
/// `tgt_ep` NULL or valid; `ver` NULL or `count` entries; `ctx` NULL or live.
#[allow(clippy::too_many_arguments)]
unsafe fn proto_query(tgt_ep: *mut crate::sys::crt_endpoint_t, base_opc: u32, ver: *mut u32, count: c_int, timeout: u32, cb: crate::sys::crt_proto_query_cb_t, arg: *mut c_void, ctx: crate::sys::crt_context_t) -> c_int {
    if ver.is_null() || count < 0 {
        return DER_INVAL;
    }
    let ctx = if ctx.is_null() {
        match crate::init::context_lookup(0) {
            Some(c) => c,
            None => return DER_INVAL,
        }
    } else {
        let p = ctx as *const crate::context::Context;
        // SAFETY: a live handle is Arc::as_ptr of a context the process state holds.
        unsafe {
            std::sync::Arc::increment_strong_count(p);
            std::sync::Arc::from_raw(p)
        }
    };
    // SAFETY: the caller's contract.
    let ep = unsafe { tgt_ep.as_ref() }.copied();
    let p = match crate::rpc::create(ctx, ep, crate::internal::CRT_OPC_PROTO_QUERY) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let n = count as usize * 4;
    // SAFETY: a copy of the caller's versions, freed by proto_query_done.
    let vers = unsafe { libc::malloc(n.max(1)) };
    if vers.is_null() {
        // SAFETY: drops the reference create() gave.
        unsafe { crate::rpc::RpcPriv::decref(p) };
        return crate::transport::der::DER_NOMEM;
    }
    // SAFETY: ver holds count entries; vers has room for them; the input struct is the
    // query's (allocated at its size by create()).
    unsafe {
        std::ptr::copy_nonoverlapping(ver as *const u8, vers as *mut u8, n);
        let input = &mut *((*p).rpc.cr_input as *mut crate::internal::ProtoQueryIn);
        input.pq_ver = crate::sys::d_iov_t { iov_buf: vers, iov_buf_len: n, iov_len: n };
        input.pq_ver_count = count;
        input.pq_base_opc = base_opc;
    }
    // SAFETY: p is live (its creation reference).
    let r = unsafe { &*p };
    if timeout != 0 && timeout < r.timeout() {
        let _ = r.set_timeout(timeout);
    }
    let q = Box::into_raw(Box::new(QueryArg { cb, arg: arg as usize, vers }));
    // SAFETY: send takes over the creation reference; the callback owns q.
    unsafe { crate::rpc::send(p, Some(proto_query_done), q as *mut c_void) }
}

/// # Safety
/// As `crt_proto_query_with_ctx`, on context 0.
#[no_mangle]
pub unsafe extern "C" fn crt_proto_query(tgt_ep: *mut crate::sys::crt_endpoint_t, base_opc: crate::sys::crt_opcode_t, ver: *mut u32, count: c_int, timeout: u32, cb: crate::sys::crt_proto_query_cb_t, arg: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { proto_query(tgt_ep, base_opc, ver, count, timeout, cb, arg, std::ptr::null_mut()) }
}

/// # Safety
/// `tgt_ep` NULL or valid; `ver` NULL or `count` entries; `ctx` NULL or live. The callback
/// runs from progress with the highest version both sides know (or the error).
#[no_mangle]
pub unsafe extern "C" fn crt_proto_query_with_ctx(tgt_ep: *mut crate::sys::crt_endpoint_t, base_opc: crate::sys::crt_opcode_t, ver: *mut u32, count: c_int, timeout: u32, cb: crate::sys::crt_proto_query_cb_t, arg: *mut c_void, ctx: crate::sys::crt_context_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { proto_query(tgt_ep, base_opc, ver, count, timeout, cb, arg, ctx) }
}
