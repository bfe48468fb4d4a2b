//! Collective RPCs (upstream `crt_corpc.c`): the C view of [`crate::corpc`].
use std::ffi::{c_int, c_void, CStr};
use std::sync::Arc;

use crate::context::Context;
use crate::corpc;
use crate::sys::{crt_bulk_t, crt_context_t, crt_group_t, crt_opcode_t, crt_rpc_t, d_rank_list_t};
use crate::tree::DER_INVAL;

/// `crt_corpc_req_create`: a collective request rooted at this rank over the primary group
/// (`grp` NULL or the primary's handle) or a secondary group (its rank numbers), minus `filter_ranks` (or only them with
/// CRT_RPC_FLAG_FILTER_INVERT). Errors as upstream: -DER_INVAL (NULL context or output, bad
/// topology), -DER_UNINIT, -DER_NO_PERM on a client, -DER_GRPVER without a self rank,
/// -DER_UNREG for an unknown opcode.
///
/// # Safety
/// `crt_ctx` is NULL or a live context; `filter_ranks` NULL or valid; `req` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_corpc_req_create(crt_ctx: crt_context_t, grp: *mut crt_group_t, filter_ranks: *mut d_rank_list_t, opc: crt_opcode_t, co_bulk_hdl: crt_bulk_t, priv_: *mut c_void, flags: u32, tree_topo: c_int, req: *mut *mut crt_rpc_t) -> c_int {
    if crt_ctx.is_null() || req.is_null() {
        return DER_INVAL;
    }
    // SAFETY: a live handle is Arc::as_ptr of a context the process state still holds.
    let ctx = unsafe {
        Arc::increment_strong_count(crt_ctx as *const Context);
        Arc::from_raw(crt_ctx as *const Context)
    };
    // SAFETY: a valid list per the contract.
    let filter: Option<Vec<u32>> = unsafe {
        filter_ranks.as_ref().map(|l| {
            if l.rl_nr == 0 || l.rl_ranks.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(l.rl_ranks, l.rl_nr as usize).to_vec()
            }
        })
    };
    // SAFETY: a non-NULL group handle of this library, its name a C string it owns.
    let name = unsafe { grp.as_ref().and_then(|g| g.cg_grpid.as_ref()).map(|c| CStr::from_ptr(c).to_string_lossy().into_owned()) };
    let primary = crate::init::settings().map(|s| s.grpid).unwrap_or_default();
    let name = name.filter(|n| *n != primary).unwrap_or_default();
    match corpc::req_create(ctx, &name, filter.as_deref(), opc, priv_ as usize, flags, tree_topo) {
        Ok(p) => {
            // SAFETY: p is fresh; req checked non-NULL.
            unsafe {
                (*p).rpc.cr_co_bulk_hdl = co_bulk_hdl;
                *req = p as *mut crt_rpc_t;
            }
            0
        }
        Err(e) => e,
    }
}
