//! The primary group's ranks and addresses (upstream `crt_group.c`, the part the RPC path
//! needs): the C view of [`crate::group`].
use std::ffi::{c_char, c_int, CStr};

use crate::group;
use crate::init;
use crate::sys::{crt_context_t, crt_group_t, d_rank_t};
use crate::transport::der::DER_INVAL;

/// `crt_rank_self_set`: servers only (clients: ignored, 0, as upstream); enters every
/// context's URI as rank:idx.
#[no_mangle]
pub extern "C" fn crt_rank_self_set(rank: d_rank_t, group_version_min: u32) -> c_int {
    if !init::is_service() {
        return 0;
    }
    let uris: Vec<(u32, String)> = {
        let st = init::state();
        st.as_ref()
            .map(|s| s.contexts.iter().flatten().map(|c| (c.idx(), c.uri().to_owned())).collect())
            .unwrap_or_default()
    };
    group::rank_self_set(rank, group_version_min, &uris).err().unwrap_or(0)
}

/// # Safety
/// `uri` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn crt_group_primary_rank_add(_ctx: crt_context_t, grp: *mut crt_group_t, primary_rank: d_rank_t, uri: *mut c_char) -> c_int {
    if uri.is_null() || !init::initialized() {
        return DER_INVAL;
    }
    // Only the primary group (NULL or the primary's handle) has primary ranks.
    let _ = grp;
    // SAFETY: a NUL-terminated string per the contract.
    let u = unsafe { CStr::from_ptr(uri) }.to_string_lossy();
    group::rank_add(primary_rank, &u).err().unwrap_or(0)
}

/// # Safety
/// `rank` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_rank(_grp: *mut crt_group_t, rank: *mut d_rank_t) -> c_int {
    if rank.is_null() {
        return DER_INVAL;
    }
    // SAFETY: checked non-NULL.
    unsafe { *rank = group::self_rank().unwrap_or(group::CRT_NO_RANK) };
    0
}
