//! Incast variables (upstream `crt_iv.c`): the C view of [`crate::iv`].
use std::ffi::{c_int, c_void};

use crate::ffi::guard;
use crate::iv;
use crate::sys::{
    crt_context_t, crt_group_t, crt_init_options_t, crt_iv_class, crt_iv_comp_cb_t, crt_iv_key_t, crt_iv_namespace_destroy_cb_t, crt_iv_namespace_t, crt_iv_shortcut_t,
    crt_iv_sync_t, crt_iv_ver_t, crt_req_format, crt_rpc_t, d_sg_list_t,
};

/// The IV RPCs' request formats (upstream's CRT_RPC_DEFINE'd `CQF_crt_iv_*`).
#[no_mangle]
pub static CQF_crt_iv_fetch: crt_req_format = iv::FETCH_FMT;
#[no_mangle]
pub static CQF_crt_iv_update: crt_req_format = iv::UPDATE_FMT;
#[no_mangle]
pub static CQF_crt_iv_sync: crt_req_format = iv::SYNC_FMT;

/// # Safety
/// `grp` NULL or a group handle; `iv_classes` NULL or `num_classes` classes; `ivns` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_namespace_create(crt_ctx: crt_context_t, grp: *mut crt_group_t, tree_topo: c_int, iv_classes: *mut crt_iv_class, num_classes: u32, iv_ns_id: u32, ivns: *mut crt_iv_namespace_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { crt_iv_namespace_create_priv(crt_ctx, grp, tree_topo, iv_classes, num_classes, iv_ns_id, std::ptr::null_mut(), ivns) }
}

/// `crt_iv_namespace_create_priv`: -DER_INVAL for a NULL output or an unknown group (NULL: the
/// primary group).
///
/// # Safety
/// As `crt_iv_namespace_create`.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_namespace_create_priv(
    crt_ctx: crt_context_t,
    grp: *mut crt_group_t,
    tree_topo: c_int,
    iv_classes: *mut crt_iv_class,
    num_classes: u32,
    iv_ns_id: u32,
    user_priv: *mut c_void,
    ivns: *mut crt_iv_namespace_t,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { iv::namespace_create(crt_ctx, grp, tree_topo, iv_classes, num_classes, iv_ns_id, user_priv, ivns) }
}

/// `crt_iv_namespace_id_get`: the handle is passed as upstream reads it (the namespace itself).
///
/// # Safety
/// `id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_namespace_id_get(ivns: *mut crt_iv_namespace_t, id: *mut u32) -> c_int {
    if ivns.is_null() || id.is_null() {
        return iv::DER_INVAL;
    }
    match iv::id_get(ivns as crt_iv_namespace_t) {
        Ok(v) => {
            // SAFETY: checked non-NULL.
            unsafe { *id = v };
            0
        }
        Err(e) => e,
    }
}

#[no_mangle]
pub extern "C" fn crt_iv_namespace_priv_set(ivns: *mut crt_iv_namespace_t, priv_: *mut c_void) -> c_int {
    if ivns.is_null() {
        return iv::DER_INVAL;
    }
    iv::priv_set(ivns as crt_iv_namespace_t, priv_)
}

/// # Safety
/// `priv_` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_namespace_priv_get(ivns: *mut crt_iv_namespace_t, priv_: *mut *mut c_void) -> c_int {
    if ivns.is_null() || priv_.is_null() {
        return iv::DER_INVAL;
    }
    match iv::priv_get(ivns as crt_iv_namespace_t) {
        Ok(v) => {
            // SAFETY: checked non-NULL.
            unsafe { *priv_ = v };
            0
        }
        Err(e) => e,
    }
}

#[no_mangle]
pub extern "C" fn crt_iv_namespace_destroy(ivns: crt_iv_namespace_t, cb: crt_iv_namespace_destroy_cb_t, cb_arg: *mut c_void) -> c_int {
    iv::namespace_destroy(ivns, cb, cb_arg)
}

/// # Safety
/// `iv_key` NULL or a valid iov (the callbacks get it).
#[no_mangle]
pub unsafe extern "C" fn crt_iv_fetch(ivns: crt_iv_namespace_t, class_id: u32, iv_key: *mut crt_iv_key_t, _iv_ver: *mut crt_iv_ver_t, shortcut: crt_iv_shortcut_t, fetch_comp_cb: crt_iv_comp_cb_t, cb_arg: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { iv::fetch(ivns, class_id, iv_key, shortcut, fetch_comp_cb, cb_arg) }
}

/// `crt_iv_update`: a NULL value is -DER_INVAL, reported to the completion too.
///
/// # Safety
/// `iv_key` a valid iov; `iv_value` NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_update(
    ivns: crt_iv_namespace_t,
    class_id: u32,
    iv_key: *mut crt_iv_key_t,
    _iv_ver: *mut crt_iv_ver_t,
    iv_value: *mut d_sg_list_t,
    shortcut: crt_iv_shortcut_t,
    sync_type: crt_iv_sync_t,
    update_comp_cb: crt_iv_comp_cb_t,
    cb_arg: *mut c_void,
) -> c_int {
    if iv_value.is_null() {
        if let Some(cb) = update_comp_cb {
            // SAFETY: the caller's completion, as upstream calls it.
            unsafe { cb(ivns, class_id, iv_key, std::ptr::null_mut(), iv_value, iv::DER_INVAL, cb_arg) };
        }
        return iv::DER_INVAL;
    }
    // SAFETY: forwarded contract.
    unsafe { iv::update_internal(ivns, class_id, iv_key, iv_value, shortcut, sync_type, update_comp_cb, cb_arg) }
}

/// # Safety
/// `iv_key` a valid iov.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_invalidate(
    ivns: crt_iv_namespace_t,
    class_id: u32,
    iv_key: *mut crt_iv_key_t,
    _iv_ver: *mut crt_iv_ver_t,
    shortcut: crt_iv_shortcut_t,
    sync_type: crt_iv_sync_t,
    invali_comp_cb: crt_iv_comp_cb_t,
    cb_arg: *mut c_void,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { iv::update_internal(ivns, class_id, iv_key, std::ptr::null_mut(), shortcut, sync_type, invali_comp_cb, cb_arg) }
}

/// # Safety
/// `iv_key` NULL or valid; `nchildren` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_get_nchildren(ivns: crt_iv_namespace_t, class_id: u32, iv_key: *mut crt_iv_key_t, nchildren: *mut u32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { iv::get_nchildren(ivns, class_id, iv_key, nchildren) }
}

/// # Safety
/// `rpc_req` a live server IV_FETCH.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_iv_fetch(rpc_req: *mut crt_rpc_t) {
    // SAFETY: forwarded contract.
    unsafe { iv::hdlr_iv_fetch(rpc_req) }
}

/// # Safety
/// `rpc_req` a live server IV_UPDATE.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_iv_update(rpc_req: *mut crt_rpc_t) {
    // SAFETY: forwarded contract.
    unsafe { iv::hdlr_iv_update(rpc_req) }
}

/// # Safety
/// `rpc_req` a live server IV_SYNC.
#[no_mangle]
pub unsafe extern "C" fn crt_hdlr_iv_sync(rpc_req: *mut crt_rpc_t) {
    // SAFETY: forwarded contract.
    unsafe { iv::hdlr_iv_sync(rpc_req) }
}

/// # Safety
/// Both live IV_SYNC RPCs.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_sync_corpc_aggregate(source: *mut crt_rpc_t, result: *mut crt_rpc_t, arg: *mut c_void) -> c_int {
    if source.is_null() || result.is_null() {
        return iv::DER_INVAL;
    }
    // SAFETY: forwarded contract.
    unsafe { iv::sync_corpc_aggregate(source, result, arg) }
}

/// # Safety
/// `rpc` a live IV_SYNC.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_sync_corpc_pre_forward(rpc: *mut crt_rpc_t, arg: *mut c_void) -> c_int {
    if rpc.is_null() {
        return iv::DER_INVAL;
    }
    // SAFETY: forwarded contract.
    unsafe { iv::sync_corpc_pre_forward(rpc, arg) }
}

/// `crt_iv_init`: the inline limit from the options (NULL: unchanged).
///
/// # Safety
/// `ops` NULL or a valid options struct.
#[no_mangle]
pub unsafe extern "C" fn crt_iv_init(ops: *mut crt_init_options_t) {
    // SAFETY: the contract.
    let sizes = unsafe { ops.as_ref() }.map(|o| (o.cio_max_unexpected_size, o.cio_max_expected_size));
    guard((), move || iv::iv_init(sizes));
}
