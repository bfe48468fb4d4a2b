//! Contexts and progress (upstream `crt_context.c`): the C view of [`crate::context`]. A
//! `crt_context_t` is the address of a live [`Context`]; the process state holds it until
//! `crt_context_destroy`.
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use crate::context::{self, Context, RpcTask};
use crate::ffi::guard;
use crate::init;
use crate::sys::{crt_context_t, crt_progress_cb, crt_progress_cond_cb_t, crt_quota_type_t, crt_rpc_task_t};
use crate::transport::der::{DER_INVAL, DER_NOMEM, DER_NONEXIST};

fn handle(ctx: &std::sync::Arc<Context>) -> crt_context_t {
    std::sync::Arc::as_ptr(ctx) as crt_context_t
}

/// The context behind a handle.
///
/// # Safety
/// `ctx` is NULL or a handle from `crt_context_create*` not yet destroyed.
unsafe fn ctx_ref<'a>(ctx: crt_context_t) -> Option<&'a Context> {
    // SAFETY: the caller's contract: the state's Arc keeps the context alive.
    unsafe { (ctx as *const Context).as_ref() }
}

/// The state's own reference to a context (for destroy).
fn ctx_arc(ctx: crt_context_t) -> Option<std::sync::Arc<Context>> {
    let st = init::state();
    let s = st.as_ref()?;
    s.contexts.iter().flatten().find(|c| std::sync::Arc::as_ptr(c) as crt_context_t == ctx).cloned()
}

fn c_strdup(s: &str) -> *mut c_char {
    // SAFETY: malloc of len+1 bytes, filled and NUL-terminated below.
    unsafe {
        let p = libc::malloc(s.len() + 1) as *mut c_char;
        if !p.is_null() {
            ptr::copy_nonoverlapping(s.as_ptr() as *const c_char, p, s.len());
            *p.add(s.len()) = 0;
        }
        p
    }
}

fn create_into(out: *mut crt_context_t, f: impl FnOnce() -> Result<std::sync::Arc<Context>, c_int> + std::panic::UnwindSafe) -> c_int {
    if out.is_null() {
        return DER_INVAL;
    }
    match guard(Err(DER_INVAL), f) {
        Ok(c) => {
            // SAFETY: checked non-NULL; the caller passes a writable crt_context_t.
            unsafe { *out = handle(&c) };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `crt_ctx` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_context_create(crt_ctx: *mut crt_context_t) -> c_int {
    create_into(crt_ctx, || Context::create(0))
}

#[no_mangle]
pub extern "C" fn crt_num_ifaces_get() -> u32 {
    context::num_ifaces() as u32
}

/// # Safety
/// `crt_ctx` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_context_create_on_iface_idx(iface_index: u32, crt_ctx: *mut crt_context_t) -> c_int {
    create_into(crt_ctx, move || context::create_on_iface_idx(iface_index as usize))
}

/// # Safety
/// `iface_name` is NULL or a C string; `idx` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_iface_name2idx(iface_name: *const c_char, idx: *mut c_int) -> c_int {
    if iface_name.is_null() || idx.is_null() {
        return DER_INVAL;
    }
    // SAFETY: a NUL-terminated string per the contract.
    let name = unsafe { CStr::from_ptr(iface_name) }.to_string_lossy();
    match context::iface_name2idx(&name) {
        Ok(i) => {
            // SAFETY: checked non-NULL.
            unsafe { *idx = i as c_int };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// As `crt_iface_name2idx` and `crt_context_create`.
#[no_mangle]
pub unsafe extern "C" fn crt_context_create_on_iface(iface_name: *const c_char, crt_ctx: *mut crt_context_t) -> c_int {
    let mut idx: c_int = 0;
    // SAFETY: forwarded contract.
    let rc = unsafe { crt_iface_name2idx(iface_name, &mut idx) };
    if rc != 0 {
        return rc;
    }
    // SAFETY: forwarded contract.
    unsafe { crt_context_create_on_iface_idx(idx as u32, crt_ctx) }
}

/// # Safety
/// `crt_ctx` is NULL or a live context handle.
#[no_mangle]
pub unsafe extern "C" fn crt_context_set_timeout(crt_ctx: crt_context_t, timeout_sec: u32) -> c_int {
    // SAFETY: crt_context_t contract (NULL or live).
    match unsafe { ctx_ref(crt_ctx) } {
        None => DER_INVAL,
        Some(c) => c.set_timeout(timeout_sec).err().unwrap_or(0),
    }
}

/// # Safety
/// `timeout_sec` is writable when `crt_ctx` is not NULL.
#[no_mangle]
pub unsafe extern "C" fn crt_context_get_timeout(crt_ctx: crt_context_t, timeout_sec: *mut u32) -> c_int {
    // SAFETY: crt_context_t contract.
    match unsafe { ctx_ref(crt_ctx) } {
        Some(c) if !timeout_sec.is_null() => {
            // SAFETY: checked non-NULL.
            unsafe { *timeout_sec = c.timeout() };
            0
        }
        _ => DER_INVAL,
    }
}

#[no_mangle]
pub extern "C" fn crt_context_destroy(crt_ctx: crt_context_t, force: c_int) -> c_int {
    if crt_ctx.is_null() {
        return DER_INVAL;
    }
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    match ctx_arc(crt_ctx) {
        None => DER_INVAL,
        Some(c) => guard(DER_INVAL, move || c.destroy(force != 0).err().unwrap_or(0)),
    }
}

/// # Safety
/// `crt_ctx` is NULL or a live context handle.
#[no_mangle]
pub unsafe extern "C" fn crt_context_ep_empty(crt_ctx: crt_context_t) -> bool {
    // SAFETY: crt_context_t contract.
    unsafe { ctx_ref(crt_ctx) }.map_or(true, |c| c.ep_empty())
}

/// # Safety
/// `crt_ctx` is NULL or a live context handle.
#[no_mangle]
pub unsafe extern "C" fn crt_context_flush(crt_ctx: crt_context_t, timeout: u64) -> c_int {
    // SAFETY: crt_context_t contract.
    match unsafe { ctx_ref(crt_ctx) } {
        None => DER_INVAL,
        Some(c) => guard(DER_INVAL, || c.flush(timeout).err().unwrap_or(0)),
    }
}

/// # Safety
/// `ctx_idx` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_context_idx(crt_ctx: crt_context_t, ctx_idx: *mut c_int) -> c_int {
    // SAFETY: crt_context_t contract.
    match unsafe { ctx_ref(crt_ctx) } {
        Some(c) if !ctx_idx.is_null() => {
            // SAFETY: checked non-NULL.
            unsafe { *ctx_idx = c.idx() as c_int };
            0
        }
        _ => DER_INVAL,
    }
}

/// # Safety
/// `ctx_num` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_context_num(ctx_num: *mut c_int) -> c_int {
    if ctx_num.is_null() {
        return DER_INVAL;
    }
    // SAFETY: checked non-NULL.
    unsafe { *ctx_num = context::context_num() as c_int };
    0
}

/// # Safety
/// `uri` is NULL or writable; the string returned is the caller's (free()).
#[no_mangle]
pub unsafe extern "C" fn crt_context_uri_get(crt_ctx: crt_context_t, uri: *mut *mut c_char) -> c_int {
    // SAFETY: crt_context_t contract.
    match unsafe { ctx_ref(crt_ctx) } {
        Some(c) if !uri.is_null() => {
            let s = c_strdup(c.uri());
            // SAFETY: checked non-NULL.
            unsafe { *uri = s };
            if s.is_null() {
                DER_NOMEM
            } else {
                0
            }
        }
        _ => DER_INVAL,
    }
}

/// # Safety
/// `uri` is NULL or writable; the string returned is the caller's (free()).
#[no_mangle]
pub unsafe extern "C" fn crt_self_uri_get(tag: c_int, uri: *mut *mut c_char) -> c_int {
    if uri.is_null() {
        return DER_INVAL;
    }
    match init::context_lookup(tag) {
        None => DER_NONEXIST,
        Some(c) => {
            let s = c_strdup(c.uri());
            // SAFETY: checked non-NULL.
            unsafe { *uri = s };
            if s.is_null() {
                DER_NOMEM
            } else {
                0
            }
        }
    }
}

/// # Safety
/// `crt_ctx` is NULL or a live context handle.
#[no_mangle]
pub unsafe extern "C" fn crt_context_register_rpc_task(crt_ctx: crt_context_t, rpc_cb: crt_rpc_task_t, iv_resp_cb: crt_rpc_task_t, arg: *mut c_void) -> c_int {
    // SAFETY: crt_context_t contract.
    match (unsafe { ctx_ref(crt_ctx) }, rpc_cb) {
        (Some(c), Some(cb)) => {
            c.set_rpc_task(RpcTask { process_cb: cb as usize, iv_resp_cb: iv_resp_cb.map_or(0, |f| f as usize), arg: arg as usize });
            0
        }
        _ => DER_INVAL,
    }
}

/// # Safety
/// `crt_ctx` is NULL or a live context handle.
#[no_mangle]
pub unsafe extern "C" fn crt_progress(crt_ctx: crt_context_t, timeout: i64) -> c_int {
    // SAFETY: crt_context_t contract.
    match unsafe { ctx_ref(crt_ctx) } {
        None => DER_INVAL,
        Some(c) => guard(DER_INVAL, || c.progress(timeout).err().unwrap_or(0)),
    }
}

/// # Safety
/// `crt_ctx` is NULL or a live context handle.
#[no_mangle]
pub unsafe extern "C" fn crt_progress_cond(crt_ctx: crt_context_t, timeout: i64, cond_cb: crt_progress_cond_cb_t, arg: *mut c_void) -> c_int {
    // SAFETY: crt_context_t contract.
    let (c, cb) = match (unsafe { ctx_ref(crt_ctx) }, cond_cb) {
        (Some(c), Some(cb)) => (c, cb),
        _ => return DER_INVAL,
    };
    let arg = arg as usize;
    guard(DER_INVAL, || {
        // SAFETY: the caller's callback with the caller's argument.
        c.progress_cond(timeout, || unsafe { cb(arg as *mut c_void) }).err().unwrap_or(0)
    })
}

#[no_mangle]
pub extern "C" fn crt_register_progress_cb(cb: crt_progress_cb, ctx_idx: c_int, arg: *mut c_void) -> c_int {
    if ctx_idx >= init::CRT_SRV_CONTEXT_NUM as c_int {
        return DER_INVAL;
    }
    let Some(c) = init::context_lookup(ctx_idx) else {
        return DER_NONEXIST;
    };
    let h = handle(&c) as usize;
    let arg = arg as usize;
    c.set_progress_hook(cb.map(|f| -> context::ProgressHook {
        // SAFETY: the caller's callback, given its context and argument as upstream does.
        Box::new(move |t| unsafe { f(h as crt_context_t, t, arg as *mut c_void) })
    }));
    0
}

#[no_mangle]
pub extern "C" fn crt_unregister_progress_cb(_cb: crt_progress_cb, ctx_idx: c_int, _arg: *mut c_void) -> c_int {
    crt_register_progress_cb(None, ctx_idx, ptr::null_mut())
}

/// # Safety
/// `crt_ctx` is NULL or a live context handle.
#[no_mangle]
pub unsafe extern "C" fn crt_context_quota_limit_set(crt_ctx: crt_context_t, quota: crt_quota_type_t, value: c_int) -> c_int {
    // SAFETY: crt_context_t contract.
    match unsafe { ctx_ref(crt_ctx) } {
        None => DER_INVAL,
        Some(c) => c.set_quota_limit(quota as i32, value).err().unwrap_or(0),
    }
}

/// # Safety
/// `value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_context_quota_limit_get(crt_ctx: crt_context_t, quota: crt_quota_type_t, value: *mut c_int) -> c_int {
    // SAFETY: crt_context_t contract.
    let Some(c) = (unsafe { ctx_ref(crt_ctx) }) else {
        return DER_INVAL;
    };
    match c.quota_limit(quota as i32) {
        Err(e) => e,
        Ok(_) if value.is_null() => DER_INVAL,
        Ok(v) => {
            // SAFETY: checked non-NULL.
            unsafe { *value = v };
            0
        }
    }
}

/// `crt_rank_abort`: cancels every RPC in flight to `rank`, on every context.
#[no_mangle]
pub extern "C" fn crt_rank_abort(rank: crate::sys::d_rank_t) -> c_int {
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    context::abort_rank_all_contexts(Some(rank));
    0
}

/// `crt_ep_abort`: as upstream, every RPC to the endpoint's rank (whatever the tag).
///
/// # Safety
/// `ep` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn crt_ep_abort(ep: *mut crate::sys::crt_endpoint_t) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { ep.as_ref() } {
        None => DER_INVAL,
        Some(e) => crt_rank_abort(e.ep_rank),
    }
}

/// `crt_rank_abort_all`: every RPC in flight to the group's ranks (NULL: the primary group,
/// the only one this library has).
#[no_mangle]
pub extern "C" fn crt_rank_abort_all(_grp: *mut crate::sys::crt_group_t) -> c_int {
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    context::abort_rank_all_contexts(None);
    0
}
