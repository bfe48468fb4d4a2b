//! The C objects behind group handles: upstream's `struct crt_grp_priv` (544 bytes), whose
//! `gp_pub` is the `crt_group_t` every group function takes, so `crt_grp_pub2priv` is
//! container_of() as upstream's.
//!
//! The groups themselves live in [`crate::group`], [`crate::secondary`] and
//! [`crate::crt_swim`]; these objects are their C view. Invariant (shared with C):
//! - an object is made on first use of its group's name and lives for the process (handles
//!   stay valid; a group destroyed and made again reuses it); the registry owns it;
//! - its C-visible fields are rewritten, with `gp_rwlock` write-locked, from the Rust state
//!   by [`sync_groups`] (membership: after each change made through the C API and at
//!   `crt_finalize`) and by [`publish_swim_membs`] (`gp_membs_swim`: whenever SWIM's
//!   membership table is released). C reads them with `gp_rwlock` read-locked and does
//!   not write them;
//! - the rank lists, `csm_list` and the `gp_sec_list` entries come from the libc heap and are
//!   replaced only here.
use crate::sys::{crt_group_t, crt_grp_priv, crt_grp_priv_sec, d_list_t, d_rank_list_t, d_rank_t};
use crate::{group, init, secondary};
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Mutex;

const CRT_NO_RANK: d_rank_t = u32::MAX;
const CRT_SWIM_TARGET_INVALID: u32 = u32::MAX;

/// Every group object by name (addresses of libc-heap `crt_grp_priv`s).
static GRPS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());
/// The current primary group's object (NULL when CaRT is not initialised), as the last
/// [`sync_groups`] found it: what SWIM's membership is published into.
static PRIMARY: std::sync::atomic::AtomicPtr<crt_grp_priv> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

fn primary_name() -> Option<String> {
    init::settings().ok().map(|s| s.grpid)
}

/// # Safety
/// `h` is a list head of a live object.
unsafe fn list_init(h: *mut d_list_t) {
    // SAFETY: the caller's invariant.
    unsafe {
        (*h).next = h;
        (*h).prev = h;
    }
}

/// A fresh object for `name` (NULL when out of memory).
fn obj_new(name: &str) -> *mut crt_grp_priv {
    let Ok(cname) = CString::new(name) else { return std::ptr::null_mut() };
    // SAFETY: a zeroed allocation of the C type, initialised as upstream's
    // crt_grp_priv_create does before anyone sees it.
    unsafe {
        let p = libc::calloc(1, std::mem::size_of::<crt_grp_priv>()) as *mut crt_grp_priv;
        if p.is_null() {
            return p;
        }
        list_init(&mut (*p).gp_link);
        list_init(&mut (*p).gp_sec_list);
        list_init(&mut (*p).gp_membs.cgm_free_indices);
        (*p).gp_pub.cg_grpid = libc::strdup(cname.as_ptr());
        (*p).gp_membs.cgm_list = libc::calloc(1, std::mem::size_of::<d_rank_list_t>()) as *mut d_rank_list_t;
        (*p).gp_membs.cgm_linear_list = libc::calloc(1, std::mem::size_of::<d_rank_list_t>()) as *mut d_rank_list_t;
        if (*p).gp_pub.cg_grpid.is_null() || (*p).gp_membs.cgm_list.is_null() || (*p).gp_membs.cgm_linear_list.is_null() {
            libc::free((*p).gp_pub.cg_grpid as *mut c_void);
            libc::free((*p).gp_membs.cgm_list as *mut c_void);
            libc::free((*p).gp_membs.cgm_linear_list as *mut c_void);
            libc::free(p as *mut c_void);
            return std::ptr::null_mut();
        }
        libc::pthread_rwlock_init(&mut (*p).gp_rwlock as *mut _ as *mut libc::pthread_rwlock_t, std::ptr::null());
        libc::pthread_spin_init(&mut (*p).gp_membs_swim.csm_lock as *mut _ as *mut libc::pthread_spinlock_t, libc::PTHREAD_PROCESS_PRIVATE);
        (*p).gp_membs_swim.csm_target = CRT_SWIM_TARGET_INVALID;
        (*p).gp_refcount = 1;
        (*p).gp_self = CRT_NO_RANK;
        p
    }
}

/// The object of `name`, made on first use.
fn obj_for(name: &str) -> *mut crt_grp_priv {
    let mut g = GRPS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, p)) = g.iter().find(|(n, _)| n == name) {
        return *p as *mut crt_grp_priv;
    }
    let p = obj_new(name);
    if !p.is_null() {
        g.push((name.to_owned(), p as usize));
    }
    p
}

fn obj_find(name: &str) -> *mut crt_grp_priv {
    let g = GRPS.lock().unwrap_or_else(|p| p.into_inner());
    g.iter().find(|(n, _)| n == name).map_or(std::ptr::null_mut(), |(_, p)| *p as *mut crt_grp_priv)
}

/// Write-locks an object's gp_rwlock for `f`.
///
/// # Safety
/// `p` is a live object of the registry.
unsafe fn locked<R>(p: *mut crt_grp_priv, f: impl FnOnce(&mut crt_grp_priv) -> R) -> R {
    // SAFETY: the caller's invariant; the lock was initialised in obj_new.
    unsafe {
        let l = &mut (*p).gp_rwlock as *mut _ as *mut libc::pthread_rwlock_t;
        libc::pthread_rwlock_wrlock(l);
        let r = f(&mut *p);
        libc::pthread_rwlock_unlock(l);
        r
    }
}

/// Makes `l` hold `ranks` (its array reallocated on the libc heap, as d_rank_list_free
/// expects); false when out of memory (then `l` is left as it was).
///
/// # Safety
/// `l` is a live, libc-heap rank list of an object, write-locked by the caller.
unsafe fn set_ranks(l: *mut d_rank_list_t, ranks: &[u32]) -> bool {
    // SAFETY: the caller's invariant.
    unsafe {
        if ranks.is_empty() {
            libc::free((*l).rl_ranks as *mut c_void);
            (*l).rl_ranks = std::ptr::null_mut();
            (*l).rl_nr = 0;
            return true;
        }
        let r = libc::realloc((*l).rl_ranks as *mut c_void, ranks.len() * 4) as *mut d_rank_t;
        if r.is_null() {
            return false;
        }
        std::ptr::copy_nonoverlapping(ranks.as_ptr(), r, ranks.len());
        (*l).rl_ranks = r;
        (*l).rl_nr = ranks.len() as u32;
        true
    }
}

/// What one group's C fields should say.
struct Truth {
    primary: bool,
    view: bool,
    auto_remove: bool,
    ver: u32,
    ver_min: u32,
    self_rank: u32,
    /// the members in list order (cgm_linear_list)
    ranks: Vec<u32>,
    /// cgm_list: None for a list without free slots (the members as `ranks`)
    slots: Option<Vec<u32>>,
    prim: *mut crt_grp_priv,
}

fn truth(name: &str, primary: Option<&str>, prim_obj: *mut crt_grp_priv) -> Option<Truth> {
    if Some(name) == primary {
        let (ver_min, ver) = group::version_min();
        return Some(Truth {
            primary: true,
            view: false,
            auto_remove: secondary::auto_remove(),
            ver,
            ver_min,
            self_rank: group::self_rank().unwrap_or(CRT_NO_RANK),
            ranks: group::ranks(),
            slots: None,
            prim: std::ptr::null_mut(),
        });
    }
    if let Some(ranks) = secondary::ranks(name) {
        return Some(Truth {
            primary: false,
            view: false,
            auto_remove: false,
            ver: secondary::version(name).unwrap_or(0),
            ver_min: 0,
            self_rank: secondary::self_rank(name).unwrap_or(CRT_NO_RANK),
            ranks,
            slots: secondary::slots(name),
            prim: prim_obj,
        });
    }
    group::attached_ranks(name).map(|ranks| Truth {
        primary: true,
        view: true,
        auto_remove: false,
        ver: 0,
        ver_min: 0,
        self_rank: CRT_NO_RANK,
        ranks,
        slots: None,
        prim: std::ptr::null_mut(),
    })
}

/// # Safety
/// `p` is a live object of the registry.
unsafe fn write_truth(p: *mut crt_grp_priv, t: Option<&Truth>) {
    let empty = Truth { primary: false, view: false, auto_remove: false, ver: 0, ver_min: 0, self_rank: CRT_NO_RANK, ranks: Vec::new(), slots: None, prim: std::ptr::null_mut() };
    let t = t.unwrap_or(&empty);
    // SAFETY: the caller's invariant; the lists are the object's own.
    unsafe {
        locked(p, |o| {
            o.set_gp_primary(t.primary as u32);
            o.set_gp_view(t.view as u32);
            o.set_gp_auto_remove(t.auto_remove as u32);
            o.gp_membs_ver = t.ver;
            o.gp_membs_ver_min = t.ver_min;
            o.gp_self = t.self_rank;
            o.gp_priv_prim = t.prim;
            // a secondary group's cgm_list is its slots (CRT_NO_RANK where free), as
            // upstream's; other groups' are kept compact. cgm_linear_list: the members in
            // list order.
            let list = t.slots.as_deref().unwrap_or(&t.ranks);
            if set_ranks(o.gp_membs.cgm_list, list) && set_ranks(o.gp_membs.cgm_linear_list, &t.ranks) {
                o.gp_size = t.ranks.len() as u32;
            }
        })
    }
}

/// Rebuilds the primary object's gp_sec_list: one entry per secondary group.
///
/// # Safety
/// `p` is the live primary object; `secs` live objects.
unsafe fn write_sec_list(p: *mut crt_grp_priv, secs: &[*mut crt_grp_priv]) {
    // SAFETY: the caller's invariant; the entries are ours (libc heap), linked only here.
    unsafe {
        locked(p, |o| {
            let head: *mut d_list_t = &mut o.gp_sec_list;
            let mut cur = (*head).next;
            while cur != head {
                let next = (*cur).next;
                let e = (cur as *mut u8).sub(std::mem::offset_of!(crt_grp_priv_sec, gps_link)) as *mut crt_grp_priv_sec;
                libc::free(e as *mut c_void);
                cur = next;
            }
            list_init(head);
            for s in secs {
                let e = libc::calloc(1, std::mem::size_of::<crt_grp_priv_sec>()) as *mut crt_grp_priv_sec;
                if e.is_null() {
                    break;
                }
                (*e).gps_priv = *s;
                // d_list_add_tail
                let l: *mut d_list_t = &mut (*e).gps_link;
                (*l).next = head;
                (*l).prev = (*head).prev;
                (*(*head).prev).next = l;
                (*head).prev = l;
            }
        })
    }
}

/// Brings every group object in line with the Rust state (groups that no longer exist are
/// left empty).
pub fn sync_groups() {
    let primary = primary_name();
    if let Some(n) = &primary {
        obj_for(n);
    }
    for n in secondary::names() {
        obj_for(&n);
    }
    let objs: Vec<(String, usize)> = GRPS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let prim_obj = primary.as_deref().map_or(std::ptr::null_mut(), obj_find);
    PRIMARY.store(prim_obj, std::sync::atomic::Ordering::Release);
    let mut secs = Vec::new();
    for (n, p) in &objs {
        let t = truth(n, primary.as_deref(), prim_obj);
        if t.as_ref().is_some_and(|t| !t.primary) {
            secs.push(*p as *mut crt_grp_priv);
        }
        // SAFETY: objects of the registry live for the process.
        unsafe { write_truth(*p as *mut crt_grp_priv, t.as_ref()) };
    }
    if !prim_obj.is_null() {
        // SAFETY: as above.
        unsafe { write_sec_list(prim_obj, &secs) };
    }
    for (n, p) in &objs {
        if Some(n) != primary.as_ref() {
            // SAFETY: as above. A group other than the current primary has no SWIM.
            unsafe { write_swim(*p as *mut crt_grp_priv, None) };
        }
    }
}

/// The handle (`&gp_pub`) of the group `name` (NULL when out of memory), its object in line.
pub fn group_handle(name: &str) -> *mut crt_group_t {
    let p = obj_for(name);
    if p.is_null() {
        return std::ptr::null_mut();
    }
    sync_groups();
    // SAFETY: a live object.
    unsafe { &mut (*p).gp_pub }
}

/// The primary group's object (NULL before `crt_init`).
pub fn primary_priv() -> *mut crt_grp_priv {
    match primary_name() {
        Some(n) => {
            let p = obj_for(&n);
            if !p.is_null() {
                sync_groups();
            }
            p
        }
        None => std::ptr::null_mut(),
    }
}

/// SWIM's membership table, as `gp_membs_swim` shows it.
pub struct SwimMembsView<'a> {
    pub list: &'a [u32],
    pub target: u32,
    pub ctx: *mut crate::sys::swim_context,
    pub incarnation: u64,
    pub last_unpack: u64,
    pub alive_or_suspect: u64,
    pub ctx_idx: i32,
    pub nglitches: i32,
    pub nmessages: i32,
}

/// # Safety
/// `p` is a live object of the registry.
unsafe fn write_swim(p: *mut crt_grp_priv, v: Option<&SwimMembsView<'_>>) {
    // SAFETY: the caller's invariant; csm_list is the object's own.
    unsafe {
        locked(p, |o| {
            let c = &mut o.gp_membs_swim;
            let list = v.map_or(&[][..], |v| v.list);
            if list.is_empty() {
                libc::free(c.csm_list as *mut c_void);
                c.csm_list = std::ptr::null_mut();
                c.csm_list_cap = 0;
                c.csm_list_len = 0;
            } else {
                if c.csm_list_cap < list.len() as u32 {
                    let r = libc::realloc(c.csm_list as *mut c_void, list.len() * 4) as *mut d_rank_t;
                    if r.is_null() {
                        return;
                    }
                    c.csm_list = r;
                    c.csm_list_cap = list.len() as u32;
                }
                std::ptr::copy_nonoverlapping(list.as_ptr(), c.csm_list, list.len());
                c.csm_list_len = list.len() as u32;
            }
            match v {
                Some(v) => {
                    // the next index to ping, wrapping to 0 at the end as upstream's
                    c.csm_target = match v.list.len() as u32 {
                        0 => CRT_SWIM_TARGET_INVALID,
                        n if v.target >= n => 0,
                        _ => v.target,
                    };
                    c.csm_ctx = v.ctx;
                    c.csm_incarnation = v.incarnation;
                    c.csm_last_unpack_hlc = v.last_unpack;
                    c.csm_alive_or_suspect_count = v.alive_or_suspect;
                    c.csm_crt_ctx_idx = v.ctx_idx;
                    c.csm_nglitches = v.nglitches;
                    c.csm_nmessages = v.nmessages;
                }
                None => {
                    c.csm_target = CRT_SWIM_TARGET_INVALID;
                    c.csm_ctx = std::ptr::null_mut();
                    c.csm_incarnation = 0;
                    c.csm_last_unpack_hlc = 0;
                    c.csm_alive_or_suspect_count = 0;
                    c.csm_nglitches = 0;
                    c.csm_nmessages = 0;
                }
            }
        })
    }
}

/// Publishes SWIM's membership table in the primary group's `gp_membs_swim` (None: SWIM is
/// gone).
pub fn publish_swim_membs(v: Option<&SwimMembsView<'_>>) {
    let p = PRIMARY.load(std::sync::atomic::Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: a live object of the registry.
        unsafe { write_swim(p, v) };
    }
}

/// `crt_grp_pub2priv`: the object behind a handle; NULL gives the primary group's (NULL
/// before `crt_init`).
///
/// # Safety
/// `grp` is NULL or a group handle of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_grp_pub2priv(grp: *mut crt_group_t) -> *mut crt_grp_priv {
    if grp.is_null() {
        return primary_priv();
    }
    // SAFETY: every handle is the gp_pub member of an object (container_of).
    unsafe { (grp as *mut u8).sub(std::mem::offset_of!(crt_grp_priv, gp_pub)) as *mut crt_grp_priv }
}

/// `crt_grp_priv_get_primary_rank`: a primary group's ranks are primary ranks; a secondary
/// group's map through its table (CRT_NO_RANK when unmapped or for NULL).
///
/// # Safety
/// `priv_` is NULL or an object of this library.
#[no_mangle]
pub unsafe extern "C" fn crt_grp_priv_get_primary_rank(priv_: *mut crt_grp_priv, rank: d_rank_t) -> d_rank_t {
    if priv_.is_null() {
        return CRT_NO_RANK;
    }
    // SAFETY: a live object (contract); gp_primary and cg_grpid are read under gp_rwlock.
    let (primary, name) = unsafe { locked(priv_, |o| (o.gp_primary() != 0, handle_name(&mut o.gp_pub))) };
    if primary {
        return rank;
    }
    name.and_then(|n| secondary::s2p(&n, rank).ok()).unwrap_or(CRT_NO_RANK)
}

/// `crt_grp_id_identical`.
///
/// # Safety
/// Each id is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn crt_grp_id_identical(grp_id_1: crate::sys::crt_group_id_t, grp_id_2: crate::sys::crt_group_id_t) -> bool {
    if grp_id_1.is_null() || grp_id_2.is_null() {
        return false;
    }
    // SAFETY: two C strings (contract).
    unsafe { CStr::from_ptr(grp_id_1) == CStr::from_ptr(grp_id_2) }
}

/// The name behind a handle (its `cg_grpid`).
///
/// # Safety
/// `grp` is a non-NULL group handle of this library.
pub unsafe fn handle_name(grp: *mut crt_group_t) -> Option<String> {
    // SAFETY: the caller's invariant.
    unsafe { (*grp).cg_grpid.as_ref().map(|c| CStr::from_ptr(c as *const c_char).to_string_lossy().into_owned()) }
}
