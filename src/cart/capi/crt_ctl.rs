//! The control protocol's exports (upstream `crt_ctl.c` and the ctl handlers of `crt_rpc.c`):
//! the request formats, the handlers `cart_ctl` reaches, and the client-side registrations.
//! The answers' contents come from `crate::ctl`; here are the C bodies.
use crate::capi::{crt_proto_query, crt_reply_send};
use crate::ctl;
use crate::sys::{
    crt_ctl_dump_counters_out, crt_ctl_ep_ls_in, crt_ctl_ep_ls_out, crt_ctl_fi_attr_set_in, crt_ctl_fi_attr_set_out,
    crt_ctl_fi_toggle_in, crt_ctl_fi_toggle_out, crt_ctl_get_host_out, crt_ctl_get_pid_out, crt_ctl_get_uri_cache_out,
    crt_ctl_log_add_msg_in, crt_ctl_log_add_msg_out, crt_ctl_log_set_in, crt_ctl_log_set_out, crt_endpoint_t,
    crt_grp_cache, crt_proto_query_cb_info, crt_req_format, crt_rpc_t, d_fault_attr_t, d_iov_t,
};
use crate::transport::der;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::{Condvar, Mutex};

extern "C" {
    fn oxidaos_ctl_emit(msg: *const c_char);
}

/// `CQF_crt_ctl_ep_ls` (CRT_RPC_DEFINE(crt_ctl_ep_ls)).
#[no_mangle]
pub static CQF_crt_ctl_ep_ls: crt_req_format = ctl::EP_LS_FMT;
/// `CQF_crt_ctl_get_uri_cache`.
#[no_mangle]
pub static CQF_crt_ctl_get_uri_cache: crt_req_format = ctl::GET_URI_CACHE_FMT;
/// `CQF_crt_ctl_get_host`.
#[no_mangle]
pub static CQF_crt_ctl_get_host: crt_req_format = ctl::GET_HOST_FMT;
/// `CQF_crt_ctl_get_pid`.
#[no_mangle]
pub static CQF_crt_ctl_get_pid: crt_req_format = ctl::GET_PID_FMT;
/// `CQF_crt_ctl_dump_counters`.
#[no_mangle]
pub static CQF_crt_ctl_dump_counters: crt_req_format = ctl::DUMP_COUNTERS_FMT;
/// `CQF_crt_ctl_fi_attr_set`.
#[no_mangle]
pub static CQF_crt_ctl_fi_attr_set: crt_req_format = ctl::FI_ATTR_SET_FMT;
/// `CQF_crt_ctl_fi_toggle`.
#[no_mangle]
pub static CQF_crt_ctl_fi_toggle: crt_req_format = ctl::FI_TOGGLE_FMT;
/// `CQF_crt_ctl_log_set`.
#[no_mangle]
pub static CQF_crt_ctl_log_set: crt_req_format = ctl::LOG_SET_FMT;
/// `CQF_crt_ctl_log_add_msg`.
#[no_mangle]
pub static CQF_crt_ctl_log_add_msg: crt_req_format = ctl::LOG_ADD_MSG_FMT;

/// The input and output of a server RPC, typed.
///
/// # Safety
/// `rpc` NULL or a live server RPC whose bodies are `I` and `O`.
unsafe fn bodies<'a, I, O>(rpc: *mut crt_rpc_t) -> Option<(&'a mut I, &'a mut O)> {
    // SAFETY: the contract; NULL bodies are refused.
    unsafe {
        let r = rpc.as_ref()?;
        let i = (r.cr_input as *mut I).as_mut()?;
        let o = (r.cr_output as *mut O).as_mut()?;
        Some((i, o))
    }
}

/// A C string field as bytes (None for NULL).
///
/// # Safety
/// `p` NULL or a NUL-terminated string live for 'a.
unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: the contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// The rank-addressed requests' check (`verify_ctl_in_args`). CTL_LS and GET_URI_CACHE only
/// make sense in a server (upstream asserts it; here a client answers -DER_INVAL).
///
/// # Safety
/// `i` is a decoded control input.
unsafe fn check(i: &crt_ctl_ep_ls_in, server_only: bool) -> i32 {
    if server_only && !crate::init::is_service() {
        return der::DER_INVAL;
    }
    // SAFETY: the decoded group id is a C string or NULL.
    match ctl::verify(unsafe { bytes(i.cel_grp_id) }, i.cel_rank) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

fn iov_of(v: &mut [u8]) -> d_iov_t {
    d_iov_t { iov_buf: v.as_mut_ptr() as *mut c_void, iov_buf_len: v.len(), iov_len: v.len() }
}

const NO_IOV: d_iov_t = d_iov_t { iov_buf: std::ptr::null_mut(), iov_buf_len: 0, iov_len: 0 };

/// `CRT_OPC_CTL_LS`: the number of contexts and their URIs, NUL-separated.
///
/// # Safety
/// `rpc_req` NULL or a live server RPC of this format (cart's dispatch).
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_ls(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_ep_ls_in, crt_ctl_ep_ls_out>(rpc_req) }) else { return };
    let mut buf = Vec::new();
    // SAFETY: a decoded input.
    let rc = unsafe { check(i, true) };
    if rc == 0 {
        let (n, b) = ctl::contexts_listing();
        buf = b;
        o.cel_ctx_num = n;
        o.cel_addr_str = iov_of(&mut buf);
    }
    o.cel_rc = rc;
    // SAFETY: a live server RPC; the reply is encoded before this returns, so the buffer
    // can go afterwards (the field is cleared first).
    unsafe { crt_reply_send(rpc_req) };
    o.cel_addr_str = NO_IOV;
    drop(buf);
}

/// `CRT_OPC_CTL_GET_URI_CACHE`: every rank:tag URI this server knows.
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_get_uri_cache(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract (the ctl formats share the input struct).
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_ep_ls_in, crt_ctl_get_uri_cache_out>(rpc_req) }) else { return };
    // SAFETY: a decoded input.
    let rc = unsafe { check(i, true) };
    let mut uris: Vec<CString> = Vec::new();
    let mut entries: Vec<crt_grp_cache> = Vec::new();
    if rc == 0 {
        for (rank, tag, uri) in crate::group::uri_cache() {
            let Ok(c) = CString::new(uri) else { continue };
            entries.push(crt_grp_cache { gc_rank: rank, gc_tag: tag, gc_uri: c.as_ptr() as *mut c_char });
            uris.push(c);
        }
        o.cguc_grp_cache.ca_count = entries.len() as u64;
        o.cguc_grp_cache.ca_arrays = entries.as_mut_ptr();
    }
    o.cguc_rc = rc;
    // SAFETY: as crt_hdlr_ctl_ls: encoded before return; fields cleared before the data goes.
    unsafe { crt_reply_send(rpc_req) };
    o.cguc_grp_cache.ca_count = 0;
    o.cguc_grp_cache.ca_arrays = std::ptr::null_mut();
    drop(entries);
    drop(uris);
}

/// `CRT_OPC_CTL_GET_HOSTNAME`: the hostname, without its NUL (as upstream sets the iov).
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_get_hostname(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_ep_ls_in, crt_ctl_get_host_out>(rpc_req) }) else { return };
    // SAFETY: a decoded input.
    let mut rc = unsafe { check(i, false) };
    let mut name = Vec::new();
    if rc == 0 {
        match ctl::hostname() {
            Ok(h) => {
                name = h;
                o.cgh_hostname = iov_of(&mut name);
            }
            Err(e) => rc = e,
        }
    }
    o.cgh_rc = rc;
    // SAFETY: as crt_hdlr_ctl_ls.
    unsafe { crt_reply_send(rpc_req) };
    o.cgh_hostname = NO_IOV;
    drop(name);
}

/// `CRT_OPC_CTL_GET_PID`.
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_get_pid(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_ep_ls_in, crt_ctl_get_pid_out>(rpc_req) }) else { return };
    // SAFETY: a decoded input.
    let rc = unsafe { check(i, false) };
    if rc == 0 {
        o.cgp_pid = std::process::id() as i32;
    }
    o.cgp_rc = rc;
    // SAFETY: a live server RPC.
    unsafe { crt_reply_send(rpc_req) };
}

/// `CRT_OPC_CTL_DUMP_COUNTERS`: the transport's counters to the log (upstream dumps
/// Mercury's); the reply's `rc` stays 0, as upstream's.
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_dump_counters(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((_, _o)) = (unsafe { bodies::<crt_ctl_ep_ls_in, crt_ctl_dump_counters_out>(rpc_req) }) else { return };
    for line in ctl::counters_report() {
        if let Ok(c) = CString::new(line) {
            // SAFETY: a C string live for the call.
            unsafe { oxidaos_ctl_emit(c.as_ptr()) };
        }
    }
    // SAFETY: a live server RPC.
    unsafe { crt_reply_send(rpc_req) };
}

/// `CRT_OPC_CTL_FI_TOGGLE`: `d_fault_inject_enable` (op 1) or `_disable` (op 0).
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_fi_toggle(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_fi_toggle_in, crt_ctl_fi_toggle_out>(rpc_req) }) else { return };
    // SAFETY: libgurt's fault injection switches (no arguments).
    o.rc = unsafe { if i.op { crate::sys::d_fault_inject_enable() } else { crate::sys::d_fault_inject_disable() } };
    // SAFETY: a live server RPC.
    unsafe { crt_reply_send(rpc_req) };
}

/// `CRT_OPC_CTL_FI_SET_ATTR`: `d_fault_attr_set` with the attributes sent (not the argument,
/// as upstream).
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_fi_attr_set(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_fi_attr_set_in, crt_ctl_fi_attr_set_out>(rpc_req) }) else { return };
    // SAFETY: an all-zero d_fault_attr_t is valid (NULL argument, zero counters).
    let mut fa: d_fault_attr_t = unsafe { std::mem::zeroed() };
    fa.fa_max_faults = i.fa_max_faults;
    fa.fa_probability_x = i.fa_probability_x;
    fa.fa_probability_y = i.fa_probability_y;
    fa.fa_err_code = i.fa_err_code as i32;
    fa.fa_interval = i.fa_interval;
    // SAFETY: libgurt copies the attributes (by value).
    o.fa_ret = unsafe { crate::sys::d_fault_attr_set(i.fa_fault_id, fa) };
    // SAFETY: a live server RPC.
    unsafe { crt_reply_send(rpc_req) };
}

/// `CRT_OPC_CTL_LOG_SET`: `d_log_setmasks(mask, -1)`; the reply's rc is 0 whatever the mask
/// did, as upstream's.
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_log_set(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_log_set_in, crt_ctl_log_set_out>(rpc_req) }) else { return };
    o.rc = 0;
    if !i.log_mask.is_null() {
        // SAFETY: a decoded C string.
        unsafe { crate::sys::d_log_setmasks(i.log_mask, -1) };
    }
    // SAFETY: a live server RPC.
    unsafe { crt_reply_send(rpc_req) };
}

/// `CRT_OPC_CTL_LOG_ADD_MSG`: the message into the log at DLOG_EMIT; -DER_INVAL without one.
///
/// # Safety
/// As `crt_hdlr_ctl_ls`.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_ctl_log_add_msg(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let Some((i, o)) = (unsafe { bodies::<crt_ctl_log_add_msg_in, crt_ctl_log_add_msg_out>(rpc_req) }) else { return };
    if i.log_msg.is_null() {
        o.rc = der::DER_INVAL;
    } else {
        // SAFETY: a decoded C string.
        unsafe { oxidaos_ctl_emit(i.log_msg) };
        o.rc = 0;
    }
    // SAFETY: a live server RPC.
    unsafe { crt_reply_send(rpc_req) };
}

/// The answer of a registration's protocol query.
struct Pfi {
    done: Mutex<Option<(c_int, c_int)>>,
    cv: Condvar,
}

unsafe extern "C" fn pfi_cb(info: *mut crt_proto_query_cb_info) {
    // SAFETY: cart's query callback: info is live; its arg is the Pfi the waiting caller
    // keeps on its stack until this has signalled.
    unsafe {
        let Some(i) = info.as_ref() else { return };
        let p = &*(i.pq_arg as *const Pfi);
        *p.done.lock().unwrap_or_else(|e| e.into_inner()) = Some((i.pq_ver, i.pq_rc));
        p.cv.notify_all();
    }
}

/// Upstream `crt_register_proto_fi`/`_ctl`: asks `ep` for `ver` of `base`, waits for the
/// answer, and registers the protocol locally when the target serves that version.
///
/// # Safety
/// `ep` NULL or valid.
unsafe fn register_after_query(ep: *mut crt_endpoint_t, base: u32, ver: u32, rpcs: &[crate::register::RpcFormat]) -> c_int {
    let pfi = Pfi { done: Mutex::new(None), cv: Condvar::new() };
    let mut v = ver;
    // SAFETY: ep is the caller's; v and pfi outlive the query (this waits for its callback,
    // which cart always runs once the query was sent).
    let rc = unsafe { crt_proto_query(ep, base, &mut v, 1, 0, Some(pfi_cb), &pfi as *const Pfi as *mut c_void) };
    if rc != 0 {
        return rc;
    }
    let mut g = pfi.done.lock().unwrap_or_else(|e| e.into_inner());
    while g.is_none() {
        g = pfi.cv.wait(g).unwrap_or_else(|e| e.into_inner());
    }
    let (got, qrc) = g.take().unwrap_or((0, der::DER_INVAL));
    drop(g);
    if qrc != 0 {
        return qrc;
    }
    if got as u32 != ver {
        return -(crate::sys::DER_MISMATCH as c_int);
    }
    match crate::register::proto_register(base, ver, rpcs, false) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// Registers the fault-injection protocol in a client after `ep` confirmed its version.
///
/// # Safety
/// `ep` NULL or valid; another thread progresses context 0 meanwhile.
#[no_mangle]
pub unsafe extern "C" fn crt_register_proto_fi(ep: *mut crt_endpoint_t) -> c_int {
    // SAFETY: the contract.
    unsafe { register_after_query(ep, ctl::CRT_OPC_FI_BASE, ctl::CRT_PROTO_FI_VERSION, &ctl::fi_rpcs()) }
}

/// Registers the ctl protocol in a client after `ep` confirmed its version.
///
/// # Safety
/// As `crt_register_proto_fi`.
#[no_mangle]
pub unsafe extern "C" fn crt_register_proto_ctl(ep: *mut crt_endpoint_t) -> c_int {
    // SAFETY: the contract.
    unsafe { register_after_query(ep, ctl::CRT_OPC_CTL_BASE, ctl::CRT_PROTO_CTL_VERSION, &ctl::ctl_rpcs()) }
}
