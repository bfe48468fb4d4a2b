//! Bulk handles and transfers (upstream `crt_bulk.c`): the C view of [`crate::bulk`].
use std::ffi::{c_int, c_uint, c_void};
use std::sync::Arc;

use crate::bulk::{self, Bulk};
use crate::context::Context;
use crate::sys::{crt_bulk_cb_t, crt_bulk_desc, crt_bulk_opid_t, crt_bulk_perm_t, crt_bulk_t, crt_context_t, d_sg_list_t};
use crate::transport::der::DER_INVAL;

fn ctx_arc(ctx: crt_context_t) -> Option<Arc<Context>> {
    if ctx.is_null() {
        return None;
    }
    let p = ctx as *const Context;
    // SAFETY: a live handle is Arc::as_ptr of a context the process state holds.
    unsafe {
        Arc::increment_strong_count(p);
        Some(Arc::from_raw(p))
    }
}

/// # Safety
/// `hdl` is NULL or a live handle.
unsafe fn bulk_ref<'a>(hdl: crt_bulk_t) -> Option<&'a Bulk> {
    // SAFETY: the contract.
    unsafe { (hdl as *const Bulk).as_ref() }
}

/// # Safety
/// `sgl` NULL or valid with `sg_nr` iovs whose buffers stay valid while the handle lives;
/// `bulk_hdl` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_create(crt_ctx: crt_context_t, sgl: *mut d_sg_list_t, bulk_perm: crt_bulk_perm_t, bulk_hdl: *mut crt_bulk_t) -> c_int {
    let Some(perm) = bulk::perm_from_c(bulk_perm) else { return DER_INVAL };
    if bulk_hdl.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    let Some(sgl) = (unsafe { sgl.as_ref() }) else { return DER_INVAL };
    if sgl.sg_nr == 0 || sgl.sg_iovs.is_null() {
        return DER_INVAL;
    }
    let Some(ctx) = ctx_arc(crt_ctx) else { return DER_INVAL };
    // SAFETY: sg_iovs holds sg_nr iovs (contract).
    let iovs = unsafe { std::slice::from_raw_parts(sgl.sg_iovs, sgl.sg_nr as usize) };
    // every segment needs its memory (upstream crt_sgl_valid: a NULL iov_buf or a zero
    // iov_buf_len is -DER_INVAL; cart does not allocate a bulk's memory for the caller)
    if iovs.iter().any(|i| i.iov_buf.is_null() || i.iov_buf_len == 0) {
        return DER_INVAL;
    }
    let v: Vec<(*mut u8, usize)> = iovs.iter().map(|i| (i.iov_buf as *mut u8, i.iov_buf_len)).collect();
    // SAFETY: forwarded contract on the buffers.
    match unsafe { Bulk::create(ctx, &v, perm) } {
        Ok(b) => {
            // SAFETY: checked non-NULL.
            unsafe { *bulk_hdl = b as crt_bulk_t };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `bulk_hdl` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_bind(bulk_hdl: crt_bulk_t, crt_ctx: crt_context_t) -> c_int {
    if crt_ctx.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    match unsafe { bulk_ref(bulk_hdl) } {
        None => DER_INVAL,
        Some(b) => b.bind().err().unwrap_or(0),
    }
}

/// # Safety
/// `bulk_hdl` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_addref(bulk_hdl: crt_bulk_t) -> c_int {
    // SAFETY: the contract.
    match unsafe { bulk_ref(bulk_hdl) } {
        None => DER_INVAL,
        Some(b) => {
            b.addref();
            0
        }
    }
}

/// # Safety
/// `bulk_hdl` is NULL or a live handle whose reference the caller drops.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_free(bulk_hdl: crt_bulk_t) -> c_int {
    if bulk_hdl.is_null() {
        return DER_INVAL; // upstream crt_bulk_free: an error, not a no-op
    }
    // SAFETY: the contract.
    unsafe { Bulk::decref(bulk_hdl as *mut Bulk) };
    0
}

/// # Safety
/// `bulk_hdl` NULL or live; `sgl` NULL or valid with room for `sg_nr` iovs.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_access(bulk_hdl: crt_bulk_t, sgl: *mut d_sg_list_t) -> c_int {
    // SAFETY: the contract.
    let (Some(b), Some(sgl)) = (unsafe { bulk_ref(bulk_hdl) }, unsafe { sgl.as_mut() }) else {
        return DER_INVAL;
    };
    let segs = match b.segments() {
        Ok(s) => s,
        Err(e) => return e,
    };
    if (sgl.sg_nr as usize) < segs.len() || sgl.sg_iovs.is_null() {
        sgl.sg_nr_out = segs.len() as u32;
        return -1016; // DER_TRUNC
    }
    for (i, (p, n)) in segs.iter().enumerate() {
        // SAFETY: sg_iovs has room for sg_nr >= segs.len() iovs.
        unsafe {
            let iov = &mut *sgl.sg_iovs.add(i);
            iov.iov_buf = *p as *mut c_void;
            iov.iov_buf_len = *n;
            iov.iov_len = *n;
        }
    }
    sgl.sg_nr_out = segs.len() as u32;
    0
}

unsafe fn xfer(desc: *mut crt_bulk_desc, cb: crt_bulk_cb_t, arg: *mut c_void, opid: *mut crt_bulk_opid_t, bind: bool) -> c_int {
    // SAFETY: the contract of the exports below.
    let Some(d) = (unsafe { desc.as_ref() }) else { return DER_INVAL };
    // SAFETY: forwarded contract.
    match unsafe { bulk::transfer(d, cb, arg, bind) } {
        Ok(id) => {
            if !opid.is_null() {
                // SAFETY: checked non-NULL.
                unsafe { *opid = id as usize as crt_bulk_opid_t };
            }
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `bulk_desc` NULL or valid with live handles (and RPC); `opid` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_transfer(bulk_desc: *mut crt_bulk_desc, complete_cb: crt_bulk_cb_t, arg: *mut c_void, opid: *mut crt_bulk_opid_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { xfer(bulk_desc, complete_cb, arg, opid, false) }
}

/// # Safety
/// As `crt_bulk_transfer`; the remote handle must have been bound by its owner.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_bind_transfer(bulk_desc: *mut crt_bulk_desc, complete_cb: crt_bulk_cb_t, arg: *mut c_void, opid: *mut crt_bulk_opid_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { xfer(bulk_desc, complete_cb, arg, opid, true) }
}

/// # Safety
/// `bulk_hdl` NULL or live; `bulk_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_get_len(bulk_hdl: crt_bulk_t, bulk_len: *mut usize) -> c_int {
    // SAFETY: the contract.
    match (unsafe { bulk_ref(bulk_hdl) }, bulk_len.is_null()) {
        (Some(b), false) => match b.len_segs() {
            Ok((n, _)) => {
                // SAFETY: checked non-NULL.
                unsafe { *bulk_len = n as usize };
                0
            }
            Err(e) => e,
        },
        _ => DER_INVAL,
    }
}

/// # Safety
/// `bulk_hdl` NULL or live; `bulk_sgnum` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_bulk_get_sgnum(bulk_hdl: crt_bulk_t, bulk_sgnum: *mut c_uint) -> c_int {
    // SAFETY: the contract.
    match (unsafe { bulk_ref(bulk_hdl) }, bulk_sgnum.is_null()) {
        (Some(b), false) => match b.len_segs() {
            Ok((_, n)) => {
                // SAFETY: checked non-NULL.
                unsafe { *bulk_sgnum = n as c_uint };
                0
            }
            Err(e) => e,
        },
        _ => DER_INVAL,
    }
}

#[no_mangle]
pub extern "C" fn crt_bulk_abort(crt_ctx: crt_context_t, opid: crt_bulk_opid_t) -> c_int {
    let Some(ctx) = ctx_arc(crt_ctx) else { return DER_INVAL };
    bulk::abort(&ctx, opid as usize as u64).err().unwrap_or(0)
}
