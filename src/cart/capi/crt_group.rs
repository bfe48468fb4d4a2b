//! The primary group's ranks and addresses (upstream `crt_group.c`, the part the RPC path
//! needs): the C view of [`crate::group`].
use std::ffi::{c_char, c_int, CStr};

use crate::group;
use crate::init;
use crate::sys::{crt_context_t, crt_group_id_t, crt_group_t, d_rank_list_t, d_rank_t};
use crate::transport::der::{self, DER_INVAL};

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
    synced(group::rank_self_set(rank, group_version_min, &uris).err().unwrap_or(0))
}

/// Brings the C group objects in line after a change, passing `rc` through.
fn synced(rc: c_int) -> c_int {
    crate::capi::sync_groups();
    rc
}

/// # Safety
/// `uri` is NULL or a C string; `grp` NULL or a group handle of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_group_primary_rank_add(_ctx: crt_context_t, grp: *mut crt_group_t, primary_rank: d_rank_t, uri: *mut c_char) -> c_int {
    if uri.is_null() || !init::initialized() {
        return DER_INVAL;
    }
    // SAFETY: a NUL-terminated string per the contract.
    let u = unsafe { CStr::from_ptr(uri) }.to_string_lossy();
    // SAFETY: grp is NULL or a group handle of this library.
    let name = unsafe { group_name(grp) };
    synced(match name {
        // a view (crt_group_view_create) or attached group
        Some(n) if Some(&n) != primary_grpid().as_ref() => group::attached_rank_add(&n, primary_rank, &u).err().unwrap_or(0),
        _ => group::rank_add(primary_rank, &u).err().unwrap_or(0),
    })
}

/// # Safety
/// `grp` NULL or a group handle; `rank` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_rank(grp: *mut crt_group_t, rank: *mut d_rank_t) -> c_int {
    if rank.is_null() {
        return DER_INVAL;
    }
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    // SAFETY: grp is NULL or a group handle of this library.
    let me = match unsafe { secondary_name(grp) } {
        Some(n) => crate::secondary::self_rank(&n).unwrap_or(group::CRT_NO_RANK),
        None => group::self_rank().unwrap_or(group::CRT_NO_RANK),
    };
    // SAFETY: checked non-NULL.
    unsafe { *rank = me };
    // no self rank yet (a client, or a server before crt_rank_self_set): CRT_NO_RANK and
    // -DER_NONEXIST, as upstream
    if me == group::CRT_NO_RANK {
        der::DER_NONEXIST
    } else {
        0
    }
}

fn uninit_or<T>(f: impl FnOnce() -> T) -> Result<T, c_int> {
    if init::initialized() {
        Ok(f())
    } else {
        Err(init::DER_UNINIT)
    }
}

/// # Safety
/// `version` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_version(grp: *mut crt_group_t, version: *mut u32) -> c_int {
    if version.is_null() {
        return DER_INVAL;
    }
    // SAFETY: grp is NULL or a group handle of this library.
    let sec = unsafe { secondary_name(grp) };
    // a secondary group has its own version
    match uninit_or(|| sec.and_then(|n| crate::secondary::version(&n)).unwrap_or_else(group::version)) {
        Ok(v) => {
            // SAFETY: checked non-NULL.
            unsafe { *version = v };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `grp` is NULL (the primary group) or a group handle of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_group_version_set(grp: *mut crt_group_t, version: u32) -> c_int {
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    // SAFETY: grp is NULL or a group handle of this library.
    let rc = match unsafe { secondary_name(grp) } {
        Some(n) => crate::secondary::set_version(&n, version).err().unwrap_or(0),
        None => {
            group::set_version(version);
            0
        }
    };
    synced(rc)
}

/// # Safety
/// `grp` is NULL or a group handle; `size` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_size(grp: *mut crt_group_t, size: *mut u32) -> c_int {
    if size.is_null() {
        return DER_INVAL;
    }
    if !grp.is_null() {
        // SAFETY: a group handle of this library (contract).
        if let Some(n) = unsafe { group_name(grp) }.filter(|n| Some(n) != primary_grpid().as_ref()) {
            let sec = crate::secondary::ranks(&n).map(|r| r.len() as u32);
            return match sec.or_else(|| group::attached_size(&n)) {
                Some(v) => {
                    // SAFETY: checked non-NULL.
                    unsafe { *size = v };
                    0
                }
                None => DER_INVAL,
            };
        }
    }
    match uninit_or(group::size) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { *size = n };
            0
        }
        Err(e) => e,
    }
}

/// A `d_rank_list_t` on the libc heap (what `d_rank_list_free` releases).
fn rank_list(ranks: &[u32]) -> *mut d_rank_list_t {
    // SAFETY: zeroed allocations filled below; free() releases both, as d_rank_list_free does.
    unsafe {
        let l = libc::calloc(1, std::mem::size_of::<d_rank_list_t>()) as *mut d_rank_list_t;
        if l.is_null() {
            return l;
        }
        if !ranks.is_empty() {
            let r = libc::calloc(ranks.len(), 4) as *mut d_rank_t;
            if r.is_null() {
                libc::free(l as *mut libc::c_void);
                return std::ptr::null_mut();
            }
            std::ptr::copy_nonoverlapping(ranks.as_ptr(), r, ranks.len());
            (*l).rl_ranks = r;
        }
        (*l).rl_nr = ranks.len() as u32;
        l
    }
}

/// # Safety
/// `group` NULL or a group handle; `list` is NULL or writable; the caller frees the list with
/// `d_rank_list_free`.
#[no_mangle]
pub unsafe extern "C" fn crt_group_ranks_get(group: *mut crt_group_t, list: *mut *mut d_rank_list_t) -> c_int {
    if list.is_null() {
        return DER_INVAL;
    }
    // SAFETY: group is NULL or a group handle of this library.
    let ranks = match unsafe { group_name(group) } {
        Some(n) if !group.is_null() && Some(&n) != primary_grpid().as_ref() => {
            crate::secondary::ranks(&n).or_else(|| group::attached_ranks(&n)).unwrap_or_default()
        }
        _ => group::ranks(),
    };
    let l = rank_list(&ranks);
    // SAFETY: checked non-NULL.
    unsafe { *list = l };
    if l.is_null() {
        crate::transport::der::DER_NOMEM
    } else {
        0
    }
}

/// A secondary group loses secondary rank `rank` (the primary group keeps it); any other
/// handle, or NULL, removes the primary rank (and, with auto-remove, its secondary ranks).
///
/// # Safety
/// `group` is NULL or a group handle of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_group_rank_remove(group: *mut crt_group_t, rank: d_rank_t) -> c_int {
    // SAFETY: group is NULL or a group handle of this library.
    let rc = match unsafe { secondary_name(group) } {
        Some(n) => crate::secondary::rank_remove(&n, rank),
        None => group::rank_remove(rank),
    };
    synced(rc.err().unwrap_or(0))
}

/// # Safety
/// `grp` NULL or a group handle; `uri` is NULL or writable; the caller frees the string.
#[no_mangle]
pub unsafe extern "C" fn crt_rank_uri_get(grp: *mut crt_group_t, rank: d_rank_t, tag: c_int, uri: *mut *mut c_char) -> c_int {
    if uri.is_null() {
        return DER_INVAL;
    }
    // SAFETY: grp is NULL or a group handle of this library.
    let view = unsafe { group_name(grp) }.filter(|n| !grp.is_null() && Some(n) != primary_grpid().as_ref());
    if let Some(n) = view {
        return match group::attached_uri(&n, rank, tag as u32) {
            Ok(s) => {
                let c = std::ffi::CString::new(s).unwrap_or_default();
                // SAFETY: a libc copy, the caller's to free; uri checked non-NULL.
                unsafe { *uri = libc::strdup(c.as_ptr()) };
                0
            }
            Err(e) => e,
        };
    }
    if init::is_service() && group::self_rank() == Some(rank) {
        // SAFETY: forwarded contract.
        return unsafe { crate::capi::crt_self_uri_get(tag, uri) };
    }
    match group::uri(rank, tag as u32) {
        Ok(s) => {
            let c = std::ffi::CString::new(s).unwrap_or_default();
            // SAFETY: a libc copy of the string, the caller's to free.
            let p = unsafe { libc::strdup(c.as_ptr()) };
            // SAFETY: checked non-NULL.
            unsafe { *uri = p };
            if p.is_null() {
                crate::transport::der::DER_NOMEM
            } else {
                0
            }
        }
        Err(e) => e,
    }
}

/// # Safety
/// `ranks` NULL or valid; `incarnations` and `uris` NULL or `ranks->rl_nr` entries.
#[no_mangle]
pub unsafe extern "C" fn crt_group_primary_modify(_grp: *mut crt_group_t, _ctxs: *mut crt_context_t, _num_ctxs: c_int, ranks: *mut d_rank_list_t, incarnations: *mut u64, uris: *mut *mut c_char, op: crate::sys::crt_group_mod_op_t, version: u32) -> c_int {
    let op = match op {
        0 => group::ModOp::Replace,
        1 => group::ModOp::Add,
        2 => group::ModOp::Remove,
        _ => return DER_INVAL,
    };
    // SAFETY: the contract.
    let Some(rl) = (unsafe { ranks.as_ref() }) else { return DER_INVAL };
    if rl.rl_nr == 0 || rl.rl_ranks.is_null() {
        return DER_INVAL;
    }
    if op != group::ModOp::Remove && (uris.is_null() || incarnations.is_null()) {
        return DER_INVAL;
    }
    let n = rl.rl_nr as usize;
    let mut list = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: each array holds rl_nr entries (contract); the strings are C strings.
        unsafe {
            let rank = *rl.rl_ranks.add(i);
            let inc = if incarnations.is_null() { 0 } else { *incarnations.add(i) };
            let uri = if uris.is_null() || (*uris.add(i)).is_null() {
                None
            } else {
                Some(CStr::from_ptr(*uris.add(i)).to_string_lossy().into_owned())
            };
            list.push((rank, inc, uri));
        }
    }
    let r = group::primary_modify(op, &list, version);
    crate::capi::sync_groups();
    match r {
        Err(e) => e,
        Ok(res) => {
            let cbs = init::event_cbs();
            type Cb = unsafe extern "C" fn(d_rank_t, u64, crate::sys::crt_event_source, crate::sys::crt_event_type, *mut libc::c_void);
            for cb in &cbs {
                // SAFETY: registered crt_event_cb functions, with their arguments.
                let f: Cb = unsafe { std::mem::transmute::<usize, Cb>(cb.func) };
                for (rank, inc) in &res.added {
                    // SAFETY: as above.
                    unsafe { f(*rank, *inc, crate::sys::CRT_EVS_GRPMOD, crate::sys::CRT_EVT_ALIVE, cb.arg as *mut libc::c_void) };
                }
                for rank in &res.removed {
                    // SAFETY: as above.
                    unsafe { f(*rank, 0, crate::sys::CRT_EVS_GRPMOD, crate::sys::CRT_EVT_DEAD, cb.arg as *mut libc::c_void) };
                }
            }
            0
        }
    }
}

fn primary_grpid() -> Option<String> {
    init::settings().ok().map(|s| s.grpid)
}

/// The name of a group handle (NULL: the primary group).
///
/// # Safety
/// `grp` is NULL or a group handle of this library.
unsafe fn group_name(grp: *mut crt_group_t) -> Option<String> {
    if grp.is_null() {
        return primary_grpid();
    }
    // SAFETY: the contract: cg_grpid is the handle's C string.
    unsafe { (*grp).cg_grpid.as_ref().map(|c| CStr::from_ptr(c).to_string_lossy().into_owned()) }
}

/// # Safety
/// `path` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn crt_group_config_path_set(path: *const c_char) -> c_int {
    if path.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    let p = unsafe { CStr::from_ptr(path) }.to_string_lossy();
    group::config_path_set(&p).err().unwrap_or(0)
}

/// # Safety
/// `grp` is NULL or a group handle of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_group_config_save(grp: *mut crt_group_t, forall: bool) -> c_int {
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    // SAFETY: the contract.
    let name = unsafe { group_name(grp) };
    if !init::is_service() || name != primary_grpid() {
        return DER_INVAL;
    }
    let Some(ctx0) = init::context_lookup(0) else { return DER_INVAL };
    group::config_save(&name.unwrap_or_default(), forall, ctx0.uri()).err().unwrap_or(0)
}

/// # Safety
/// `grp` is NULL or a group handle of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_group_config_remove(grp: *mut crt_group_t) -> c_int {
    // SAFETY: the contract.
    match unsafe { group_name(grp) } {
        None => DER_INVAL,
        Some(n) => group::config_remove(&n).err().unwrap_or(0),
    }
}

/// # Safety
/// `srv_grpid` is NULL or a C string; `attached_grp` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_attach(srv_grpid: *mut c_char, attached_grp: *mut *mut crt_group_t) -> c_int {
    if srv_grpid.is_null() || attached_grp.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    let id = unsafe { CStr::from_ptr(srv_grpid) };
    if !init::validate_grpid(id.to_bytes()) {
        return DER_INVAL;
    }
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    let name = id.to_string_lossy().into_owned();
    if let Err(e) = group::attach(&name) {
        return e;
    }
    let h = crate::capi::group_handle(&name);
    if h.is_null() {
        let _ = group::detach(&name);
        return crate::transport::der::DER_NOMEM;
    }
    // SAFETY: checked non-NULL; the handle is a registry object (lives for the process).
    unsafe { *attached_grp = h };
    0
}

/// # Safety
/// `attached_grp` is NULL or a handle from `crt_group_attach`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn crt_group_detach(attached_grp: *mut crt_group_t) -> c_int {
    if attached_grp.is_null() {
        return DER_INVAL;
    }
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    // SAFETY: the contract: a handle from crt_group_attach.
    match unsafe { crate::capi::handle_name(attached_grp) } {
        Some(n) => synced(group::detach(&n).err().unwrap_or(0)),
        None => DER_INVAL,
    }
}

/// The handle of group `name`: the gp_pub of its crt_grp_priv (made on first use, kept for
/// the process: a looked-up handle stays valid).
fn handle_for(name: &str) -> *mut crt_group_t {
    crate::capi::group_handle(name)
}

/// `crt_group_lookup`: NULL or the primary's name gives the primary group; an attached group
/// or view by name; NULL otherwise (and before init).
///
/// # Safety
/// `grp_id` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn crt_group_lookup(grp_id: crt_group_id_t) -> *mut crt_group_t {
    let Some(primary) = primary_grpid() else { return std::ptr::null_mut() };
    if grp_id.is_null() {
        return handle_for(&primary);
    }
    // SAFETY: the contract.
    let id = unsafe { CStr::from_ptr(grp_id) };
    if !init::validate_grpid(id.to_bytes()) {
        return std::ptr::null_mut();
    }
    let n = id.to_string_lossy();
    if n == primary || group::is_attached(&n) || crate::secondary::exists(&n) {
        handle_for(&n)
    } else {
        std::ptr::null_mut()
    }
}

/// `crt_group_view_create`: an empty view named `srv_grpid`, filled with
/// crt_group_primary_rank_add.
///
/// # Safety
/// `srv_grpid` NULL or a C string; `ret_grp` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_view_create(srv_grpid: crt_group_id_t, ret_grp: *mut *mut crt_group_t) -> c_int {
    if ret_grp.is_null() || srv_grpid.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    let id = unsafe { CStr::from_ptr(srv_grpid) };
    if !init::validate_grpid(id.to_bytes()) {
        return DER_INVAL;
    }
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    let n = id.to_string_lossy();
    group::view_create(&n);
    // SAFETY: checked non-NULL.
    unsafe { *ret_grp = handle_for(&n) };
    0
}

/// `crt_group_view_destroy`.
///
/// # Safety
/// `grp` is NULL or a handle from `crt_group_view_create`.
#[no_mangle]
pub unsafe extern "C" fn crt_group_view_destroy(grp: *mut crt_group_t) -> c_int {
    if grp.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    match unsafe { group_name(grp) } {
        Some(n) => synced(group::detach(&n).err().unwrap_or(0)),
        None => DER_INVAL,
    }
}

/// The name of a secondary group handle, or None for any other group.
///
/// # Safety
/// `grp` is NULL or a group handle of this library.
unsafe fn secondary_name(grp: *mut crt_group_t) -> Option<String> {
    if grp.is_null() {
        return None;
    }
    // SAFETY: the contract.
    unsafe { group_name(grp) }.filter(|n| crate::secondary::exists(n))
}

/// # Safety
/// `grp_name` NULL or a C string; `primary_grp` NULL or a handle; `ranks` NULL or valid;
/// `ret_grp` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_secondary_create(grp_name: crt_group_id_t, primary_grp: *mut crt_group_t, ranks: *mut d_rank_list_t, ret_grp: *mut *mut crt_group_t) -> c_int {
    if ret_grp.is_null() || grp_name.is_null() {
        return DER_INVAL;
    }
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    // The primary group must be given (NULL is not a group here, as upstream).
    // SAFETY: the contract.
    if primary_grp.is_null() || unsafe { group_name(primary_grp) } != primary_grpid() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    let id = unsafe { CStr::from_ptr(grp_name) };
    if !init::validate_grpid(id.to_bytes()) {
        return DER_INVAL;
    }
    // SAFETY: ranks is NULL or holds rl_nr ranks.
    let list: Vec<u32> = match unsafe { ranks.as_ref() } {
        Some(r) if r.rl_nr > 0 && !r.rl_ranks.is_null() => unsafe { std::slice::from_raw_parts(r.rl_ranks, r.rl_nr as usize) }.to_vec(),
        _ => Vec::new(),
    };
    let n = id.to_string_lossy();
    match crate::secondary::create(&n, &list) {
        Ok(()) => {
            // SAFETY: checked non-NULL.
            unsafe { *ret_grp = handle_for(&n) };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `grp` is NULL or a secondary group handle.
#[no_mangle]
pub unsafe extern "C" fn crt_group_secondary_destroy(grp: *mut crt_group_t) -> c_int {
    // SAFETY: the contract.
    match unsafe { secondary_name(grp) } {
        None => DER_INVAL,
        Some(n) => synced(crate::secondary::destroy(&n).err().unwrap_or(0)),
    }
}

/// # Safety
/// `grp` is NULL or a group handle.
#[no_mangle]
pub unsafe extern "C" fn crt_group_secondary_rank_add(grp: *mut crt_group_t, secondary_rank: d_rank_t, primary_rank: d_rank_t) -> c_int {
    // SAFETY: the contract.
    match unsafe { secondary_name(grp) } {
        None => DER_INVAL,
        Some(n) => synced(crate::secondary::rank_add(&n, secondary_rank, primary_rank).err().unwrap_or(0)),
    }
}

/// # Safety
/// `grp` is NULL or a group handle.
#[no_mangle]
pub unsafe extern "C" fn crt_group_auto_rank_remove(grp: *mut crt_group_t, enable: bool) -> c_int {
    // SAFETY: the contract.
    let name = unsafe { group_name(grp) };
    if grp.is_null() || name.is_none() {
        return DER_INVAL;
    }
    // a no-op on secondary groups, as upstream
    if name == primary_grpid() {
        crate::secondary::set_auto_remove(enable);
    }
    synced(0)
}

/// # Safety
/// `subgrp` NULL or a handle; `rank_out` NULL or writable.
unsafe fn translate(subgrp: *mut crt_group_t, rank_in: d_rank_t, rank_out: *mut d_rank_t, p2s: bool) -> c_int {
    if !init::initialized() {
        return init::DER_UNINIT;
    }
    if subgrp.is_null() || rank_out.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    let r = match unsafe { secondary_name(subgrp) } {
        // the primary group translates to itself
        None => Ok(rank_in),
        Some(n) if p2s => crate::secondary::p2s(&n, rank_in),
        Some(n) => crate::secondary::s2p(&n, rank_in),
    };
    match r {
        Ok(v) => {
            // SAFETY: checked non-NULL.
            unsafe { *rank_out = v };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `subgrp` NULL or a handle; `rank_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_rank_p2s(subgrp: *mut crt_group_t, rank_in: d_rank_t, rank_out: *mut d_rank_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { translate(subgrp, rank_in, rank_out, true) }
}

/// # Safety
/// `subgrp` NULL or a handle; `rank_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_group_rank_s2p(subgrp: *mut crt_group_t, rank_in: d_rank_t, rank_out: *mut d_rank_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { translate(subgrp, rank_in, rank_out, false) }
}

/// # Safety
/// `grp` NULL or a handle; `sec_ranks`/`prim_ranks` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn crt_group_secondary_modify(grp: *mut crt_group_t, sec_ranks: *mut d_rank_list_t, prim_ranks: *mut d_rank_list_t, op: crate::sys::crt_group_mod_op_t, version: u32) -> c_int {
    // SAFETY: the contract.
    let Some(n) = (unsafe { secondary_name(grp) }) else { return DER_INVAL };
    let op = match op {
        0 => group::ModOp::Replace,
        1 => group::ModOp::Add,
        2 => group::ModOp::Remove,
        _ => return DER_INVAL,
    };
    // SAFETY: lists are NULL or hold rl_nr ranks.
    let slice = |l: *mut d_rank_list_t| -> Vec<u32> {
        match unsafe { l.as_ref() } {
            Some(r) if r.rl_nr > 0 && !r.rl_ranks.is_null() => unsafe { std::slice::from_raw_parts(r.rl_ranks, r.rl_nr as usize) }.to_vec(),
            _ => Vec::new(),
        }
    };
    synced(crate::secondary::modify(&n, op, &slice(sec_ranks), &slice(prim_ranks), version).err().unwrap_or(0))
}
