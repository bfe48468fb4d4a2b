//! Tree topologies (upstream `crt_tree*.c`): the C view of [`crate::tree`]. Upstream declares
//! these in a private header but libcart.so.4 exports them, so callers (IV, tests) may use them.
//!
//! Where upstream asserts (a zero group size, a position outside the group, a ratio outside
//! `[2, 64]`, a NULL output, an invalid topology word), oxidaos returns -DER_INVAL instead.
use std::ffi::c_int;
use std::ptr::{addr_of_mut, null_mut};

use crate::group;
use crate::sys::{crt_grp_priv, crt_topo_ops, d_rank_list_t, d_rank_t};
use crate::tree::{self, Kind, Topo, DER_INVAL};

fn topo(kind: Kind, ratio: u32, size: u32, root: u32, me: u32) -> Result<Topo, c_int> {
    if size == 0 || root >= size || me >= size {
        return Err(DER_INVAL);
    }
    if kind != Kind::Flat && !(tree::MIN_RATIO..=tree::MAX_RATIO).contains(&ratio) {
        return Err(DER_INVAL);
    }
    Ok(Topo { kind, ratio })
}

/// # Safety
/// `out` is NULL or writable.
unsafe fn count(kind: Kind, size: u32, ratio: u32, root: u32, me: u32, out: *mut u32) -> c_int {
    let t = match topo(kind, ratio, size, root, me) {
        Ok(t) if !out.is_null() => t,
        _ => return DER_INVAL,
    };
    // SAFETY: checked non-NULL, writable per the contract.
    unsafe { *out = t.nchildren(size, root, me) };
    0
}

/// # Safety
/// `out` is NULL or has room for the node's children count.
unsafe fn kids(kind: Kind, size: u32, ratio: u32, root: u32, me: u32, out: *mut u32) -> c_int {
    let t = match topo(kind, ratio, size, root, me) {
        Ok(t) if !out.is_null() => t,
        _ => return DER_INVAL,
    };
    match t.children(size, root, me) {
        Ok(v) => {
            // SAFETY: the caller sized `out` with the matching *_get_children_cnt.
            unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), out, v.len()) };
            0
        }
        Err(e) => e,
    }
}

/// # Safety
/// `out` is NULL or writable.
unsafe fn parent(kind: Kind, size: u32, ratio: u32, root: u32, me: u32, out: *mut u32) -> c_int {
    let t = match topo(kind, ratio, size, root, me) {
        Ok(t) if !out.is_null() => t,
        _ => return DER_INVAL,
    };
    match t.parent(size, root, me) {
        Ok(p) => {
            // SAFETY: checked non-NULL.
            unsafe { *out = p };
            0
        }
        Err(e) => e,
    }
}

macro_rules! topo_exports {
    ($kind:expr, $cnt:ident, $children:ident, $parent:ident) => {
        /// # Safety
        /// `nchildren` is NULL or writable.
        #[no_mangle]
        pub unsafe extern "C" fn $cnt(grp_size: u32, ratio: u32, grp_root: u32, grp_self: u32, nchildren: *mut u32) -> c_int {
            // SAFETY: forwarded contract.
            unsafe { count($kind, grp_size, ratio, grp_root, grp_self, nchildren) }
        }
        /// # Safety
        /// `children` is NULL or has room for the count the matching `_cnt` gives.
        #[no_mangle]
        pub unsafe extern "C" fn $children(grp_size: u32, ratio: u32, grp_root: u32, grp_self: u32, children: *mut u32) -> c_int {
            // SAFETY: forwarded contract.
            unsafe { kids($kind, grp_size, ratio, grp_root, grp_self, children) }
        }
        /// # Safety
        /// `parent` is NULL or writable.
        #[no_mangle]
        pub unsafe extern "C" fn $parent(grp_size: u32, ratio: u32, grp_root: u32, grp_self: u32, parent_out: *mut u32) -> c_int {
            // SAFETY: forwarded contract.
            unsafe { parent($kind, grp_size, ratio, grp_root, grp_self, parent_out) }
        }
    };
}

topo_exports!(Kind::Flat, crt_flat_get_children_cnt, crt_flat_get_children, crt_flat_get_parent);
topo_exports!(Kind::Kary, crt_kary_get_children_cnt, crt_kary_get_children, crt_kary_get_parent);
topo_exports!(Kind::Knomial, crt_knomial_get_children_cnt, crt_knomial_get_children, crt_knomial_get_parent);

#[no_mangle]
pub static mut crt_flat_ops: crt_topo_ops = crt_topo_ops {
    to_get_children_cnt: Some(crt_flat_get_children_cnt),
    to_get_children: Some(crt_flat_get_children),
    to_get_parent: Some(crt_flat_get_parent),
};
#[no_mangle]
pub static mut crt_kary_ops: crt_topo_ops = crt_topo_ops {
    to_get_children_cnt: Some(crt_kary_get_children_cnt),
    to_get_children: Some(crt_kary_get_children),
    to_get_parent: Some(crt_kary_get_parent),
};
#[no_mangle]
pub static mut crt_knomial_ops: crt_topo_ops = crt_topo_ops {
    to_get_children_cnt: Some(crt_knomial_get_children_cnt),
    to_get_children: Some(crt_knomial_get_children),
    to_get_parent: Some(crt_knomial_get_parent),
};
/// Indexed by `enum crt_tree_type`.
#[no_mangle]
pub static mut crt_tops: [*mut crt_topo_ops; 4] =
    [null_mut(), addr_of_mut!(crt_flat_ops), addr_of_mut!(crt_kary_ops), addr_of_mut!(crt_knomial_ops)];

/// The members and version of the group behind `grp_priv`: upstream's private group starts
/// with its public `crt_group_t`, so oxidaos reads the handle there; NULL or the primary's
/// name: the primary group; a secondary group: its own rank numbers and version.
///
/// # Safety
/// `grp_priv` is NULL or a group handle of this library.
unsafe fn members(grp_priv: *mut crt_grp_priv) -> Result<(Vec<u32>, u32), c_int> {
    let g = grp_priv as *const crate::sys::crt_group_t;
    // SAFETY: a group handle of this library, its name a C string it owns.
    let name = unsafe { g.as_ref().and_then(|g| g.cg_grpid.as_ref()).map(|c| std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()) };
    let primary = crate::init::settings().map(|s| s.grpid).unwrap_or_default();
    match name {
        Some(n) if n != primary && crate::secondary::exists(&n) => Ok((
            crate::secondary::ranks(&n).unwrap_or_default(),
            crate::secondary::version(&n).unwrap_or(0),
        )),
        _ => Ok((group::ranks(), group::version())),
    }
}

/// The ranks of a C rank list (NULL: none).
///
/// # Safety
/// `l` is NULL or a valid `d_rank_list_t`.
unsafe fn ranks_of<'a>(l: *const d_rank_list_t) -> Option<&'a [u32]> {
    // SAFETY: a valid list per the contract: rl_ranks holds rl_nr ranks (or is unused at 0).
    unsafe {
        let l = l.as_ref()?;
        if l.rl_nr == 0 || l.rl_ranks.is_null() {
            return Some(&[]);
        }
        Some(std::slice::from_raw_parts(l.rl_ranks, l.rl_nr as usize))
    }
}

/// A `d_rank_list_t` on the libc heap (what `d_rank_list_free` releases).
fn heap_rank_list(ranks: &[u32]) -> *mut d_rank_list_t {
    // SAFETY: zeroed allocations filled below; free() releases both, as d_rank_list_free does.
    unsafe {
        let l = libc::calloc(1, std::mem::size_of::<d_rank_list_t>()) as *mut d_rank_list_t;
        if l.is_null() || ranks.is_empty() {
            return l;
        }
        let r = libc::calloc(ranks.len(), 4) as *mut d_rank_t;
        if r.is_null() {
            libc::free(l as *mut libc::c_void);
            return null_mut();
        }
        std::ptr::copy_nonoverlapping(ranks.as_ptr(), r, ranks.len());
        (*l).rl_ranks = r;
        (*l).rl_nr = ranks.len() as u32;
        l
    }
}

/// `crt_tree_get_nchildren` over the group's members (`grp_ver` is not consulted, as
/// upstream).
///
/// # Safety
/// `exclude_ranks` is NULL or valid; `nchildren` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_tree_get_nchildren(grp_priv: *mut crt_grp_priv, _grp_ver: u32, exclude_ranks: *mut d_rank_list_t, tree_topo: c_int, grp_root: d_rank_t, grp_self: d_rank_t, nchildren: *mut u32) -> c_int {
    if nchildren.is_null() {
        return DER_INVAL;
    }
    // SAFETY: forwarded contract.
    let ex = unsafe { ranks_of(exclude_ranks) };
    // SAFETY: forwarded contract.
    let (membs, _) = match unsafe { members(grp_priv) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    match tree::nchildren(&membs, ex, tree_topo, grp_root, grp_self) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { *nchildren = n };
            0
        }
        Err(e) => e,
    }
}

/// `crt_tree_get_children`: a new rank list (NULL for a leaf), freed by `d_rank_list_free`.
/// With `ver_match`, `grp_ver` must be the group's version (-DER_GRPVER otherwise).
///
/// # Safety
/// `filter_ranks` is NULL or valid; the outputs are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_tree_get_children(grp_priv: *mut crt_grp_priv, grp_ver: u32, filter_invert: bool, filter_ranks: *mut d_rank_list_t, tree_topo: c_int, grp_root: d_rank_t, grp_self: d_rank_t, children_rank_list: *mut *mut d_rank_list_t, ver_match: *mut bool) -> c_int {
    // SAFETY: forwarded contract.
    let (membs, current) = match unsafe { members(grp_priv) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let version = if ver_match.is_null() {
        None
    } else {
        // SAFETY: checked non-NULL.
        unsafe { *ver_match = grp_ver == current };
        Some((grp_ver, current))
    };
    if children_rank_list.is_null() && version.map_or(true, |(a, c)| a == c) {
        return DER_INVAL;
    }
    // SAFETY: forwarded contract.
    let filter = unsafe { ranks_of(filter_ranks) };
    match tree::children(&membs, version, filter_invert, filter, tree_topo, grp_root, grp_self) {
        Ok(v) => {
            let l = if v.is_empty() { null_mut() } else { heap_rank_list(&v) };
            if !v.is_empty() && l.is_null() {
                return -(crate::sys::DER_NOMEM as c_int);
            }
            // SAFETY: checked non-NULL above (a NULL output only passes on a version error).
            unsafe { *children_rank_list = l };
            0
        }
        Err(e) => e,
    }
}

/// `crt_tree_get_parent` (-DER_INVAL for the root).
///
/// # Safety
/// `exclude_ranks` is NULL or valid; `parent_rank` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_tree_get_parent(grp_priv: *mut crt_grp_priv, _grp_ver: u32, exclude_ranks: *mut d_rank_list_t, tree_topo: c_int, grp_root: d_rank_t, grp_self: d_rank_t, parent_rank: *mut d_rank_t) -> c_int {
    if parent_rank.is_null() {
        return DER_INVAL;
    }
    // SAFETY: forwarded contract.
    let ex = unsafe { ranks_of(exclude_ranks) };
    // SAFETY: forwarded contract.
    let (membs, _) = match unsafe { members(grp_priv) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    match tree::parent(&membs, ex, tree_topo, grp_root, grp_self) {
        Ok(p) => {
            // SAFETY: checked non-NULL.
            unsafe { *parent_rank = p };
            0
        }
        Err(e) => e,
    }
}
