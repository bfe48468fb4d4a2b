//! The provider table and per-provider queries (upstream `crt_hg.c`, `crt_init.c`,
//! `crt_context.c`, `crt_group.c`): the C view of [`crate::provider`] and of the network
//! settings `crt_init` resolved. Secondary providers: none runs in this library (a second
//! `D_PROVIDER` entry is accepted on servers and not started), so their queries answer as
//! upstream's do when none is configured.
#![allow(non_upper_case_globals)]
use std::collections::HashSet;
use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;
use std::sync::Mutex;

use crate::provider::{self, TABLE};
use crate::sys::{crt_context_t, crt_provider_t, CRT_PROV_UNKNOWN};
use crate::transport::der::{DER_INVAL, DER_NONEXIST};

const fn entry(name: &'static CStr, alt: Option<&'static CStr>, i: usize) -> crate::sys::crt_na_dict {
    crate::sys::crt_na_dict {
        nad_str: name.as_ptr() as *mut c_char,
        nad_alt_str: match alt {
            Some(a) => a.as_ptr() as *mut c_char,
            None => ptr::null_mut(),
        },
        nad_type: TABLE[i].prov,
        nad_port_bind: TABLE[i].port_bind,
        nad_contig_eps: TABLE[i].contig_eps,
        nad_str_alloc: false,
    }
}

const END: crate::sys::crt_na_dict = crate::sys::crt_na_dict {
    nad_str: ptr::null_mut(),
    nad_alt_str: ptr::null_mut(),
    nad_type: 0,
    nad_port_bind: false,
    nad_contig_eps: false,
    nad_str_alloc: false,
};

/// Upstream's `crt_na_dict`: [`TABLE`] as C data (names as in `TABLE`, checked by a test).
/// Changed only by `crt_str_to_provider` (a "ucx+X" name) and `crt_finalize`, under `DICT`.
#[no_mangle]
pub static mut crt_na_dict: [crate::sys::crt_na_dict; 8] = [
    entry(c"sm", Some(c"ofi+shm"), 0),
    entry(c"ofi+verbs;ofi_rxm", Some(c"ofi+verbs"), 1),
    entry(c"ofi+tcp", None, 2),
    entry(c"ofi+tcp;ofi_rxm", None, 3),
    entry(c"ofi+cxi", None, 4),
    entry(c"ofi+opx", None, 5),
    entry(c"ucx+ud_x", None, 6),
    END,
];

/// The C table, for access under `DICT`.
fn table() -> *mut [crate::sys::crt_na_dict; 8] {
    &raw mut crt_na_dict
}

/// Serialises the writers of `crt_na_dict` (and the readers here).
static DICT: Mutex<()> = Mutex::new(());

fn dict_lock() -> std::sync::MutexGuard<'static, ()> {
    DICT.lock().unwrap_or_else(|p| p.into_inner())
}

/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn opt_str<'a>(p: *const c_char) -> Option<&'a str> {
    // SAFETY: the caller's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().ok()).flatten()
}

/// The entries' current `(type, name, alternative name)`. DICT held by the caller.
fn current_names() -> Vec<(crt_provider_t, String, Option<String>)> {
    let mut v = Vec::new();
    // SAFETY: the table is only written under DICT, which the caller holds; every name is a
    // static string or a libc string owned by the table; the last entry's nad_str is NULL.
    unsafe {
        for e in (*table()).iter() {
            let Some(name) = opt_str(e.nad_str) else { break };
            v.push((e.nad_type, name.to_owned(), opt_str(e.nad_alt_str).map(str::to_owned)));
        }
    }
    v
}

fn names_ref(v: &[(crt_provider_t, String, Option<String>)]) -> Vec<(crt_provider_t, &str, Option<&str>)> {
    v.iter().map(|(p, n, a)| (*p, n.as_str(), a.as_deref())).collect()
}

/// Upstream's `crt_str_to_provider`: either name of an entry; a "ucx+X" name selects UCX and
/// becomes the UCX entry's name (its default kept as the second name) until `crt_finalize`.
/// NULL, an unknown name or an allocation failure: `CRT_PROV_UNKNOWN`.
///
/// # Safety
/// `str_provider` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn crt_str_to_provider(str_provider: *const c_char) -> crt_provider_t {
    // SAFETY: the caller's contract.
    let Some(s) = (unsafe { opt_str(str_provider) }) else { return CRT_PROV_UNKNOWN };
    let _g = dict_lock();
    let cur = current_names();
    let (prov, install) = provider::str_to_provider(s, &names_ref(&cur));
    if let Some(name) = install {
        let Ok(c) = CString::new(name) else { return CRT_PROV_UNKNOWN };
        // SAFETY: a libc copy, owned by the table from here (freed by restore_ucx or the
        // next install).
        let p = unsafe { libc::strdup(c.as_ptr()) };
        if p.is_null() {
            return CRT_PROV_UNKNOWN;
        }
        // SAFETY: DICT is held; the entry is the table's UCX entry.
        unsafe {
            let tbl = &mut *table();
            if let Some(e) = tbl.iter_mut().find(|e| !e.nad_str.is_null() && e.nad_type == crate::sys::CRT_PROV_UCX) {
                if e.nad_str_alloc {
                    // A name installed earlier: replaced, the default stays the second name.
                    libc::free(e.nad_str as *mut libc::c_void);
                } else {
                    e.nad_alt_str = e.nad_str;
                }
                e.nad_str = p;
                e.nad_str_alloc = true;
            } else {
                libc::free(p as *mut libc::c_void);
            }
        }
    }
    prov
}

/// Puts the UCX entry's default name back (upstream does so when `crt_finalize` releases the
/// library).
pub fn restore_ucx() {
    let _g = dict_lock();
    // SAFETY: DICT is held; an allocated nad_str came from libc strdup above.
    unsafe {
        for e in (*table()).iter_mut() {
            if !e.nad_str.is_null() && e.nad_str_alloc {
                libc::free(e.nad_str as *mut libc::c_void);
                e.nad_str = e.nad_alt_str;
                e.nad_alt_str = ptr::null_mut();
                e.nad_str_alloc = false;
            }
        }
    }
}

/// Upstream's `crt_prov_str_to_prov`: exact names only; NULL gives `CRT_PROV_UNKNOWN`.
///
/// # Safety
/// `prov_str` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn crt_prov_str_to_prov(prov_str: *const c_char) -> crt_provider_t {
    // SAFETY: the caller's contract.
    let Some(s) = (unsafe { opt_str(prov_str) }) else { return CRT_PROV_UNKNOWN };
    let _g = dict_lock();
    let cur = current_names();
    provider::prov_str_to_prov(s, &names_ref(&cur))
}

/// The table entry of a provider, copied. DICT held by the caller.
fn dict_entry(prov: crt_provider_t) -> Option<crate::sys::crt_na_dict> {
    // SAFETY: read under DICT (held by the caller); the table ends with a NULL nad_str.
    unsafe { (*table()).iter().take_while(|e| !e.nad_str.is_null()).find(|e| e.nad_type == prov).copied() }
}

#[no_mangle]
pub extern "C" fn crt_provider_name_get(provider: crt_provider_t) -> *mut c_char {
    let _g = dict_lock();
    dict_entry(provider).map_or(ptr::null_mut(), |e| e.nad_str)
}

#[no_mangle]
pub extern "C" fn crt_provider_is_contig_ep(provider: crt_provider_t) -> bool {
    let _g = dict_lock();
    dict_entry(provider).is_some_and(|e| e.nad_contig_eps)
}

#[no_mangle]
pub extern "C" fn crt_provider_is_port_based(provider: crt_provider_t) -> bool {
    let _g = dict_lock();
    dict_entry(provider).is_some_and(|e| e.nad_port_bind)
}

/// Strings handed out by the interface and domain queries: kept for the life of the process
/// (a name is stored once), so a pointer stays valid across `crt_finalize` and a later init.
static INTERNED: Mutex<Option<HashSet<CString>>> = Mutex::new(None);

fn intern(s: &str) -> *mut c_char {
    let Ok(c) = CString::new(s) else { return ptr::null_mut() };
    let mut g = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    let set = g.get_or_insert_with(HashSet::new);
    if !set.contains(&c) {
        set.insert(c.clone());
    }
    // The CString's heap buffer does not move while it is in the set, and it is never removed.
    set.get(&c).map_or(ptr::null_mut(), |k| k.as_ptr() as *mut c_char)
}

/// The primary provider's settings, when initialised.
fn primary_net(primary: bool) -> Option<crate::init::Settings> {
    if !primary {
        return None;
    }
    crate::init::settings().ok()
}

#[no_mangle]
pub extern "C" fn crt_provider_num_ifaces_get(primary: bool, _provider: crt_provider_t) -> u32 {
    primary_net(primary).map_or(0, |s| s.net.interfaces.len() as u32)
}

fn list_item(v: &[String], idx: c_int) -> *mut c_char {
    usize::try_from(idx).ok().and_then(|i| v.get(i)).map_or(ptr::null_mut(), |s| intern(s))
}

#[no_mangle]
pub extern "C" fn crt_provider_iface_str_get(primary: bool, _provider: crt_provider_t, iface_idx: c_int) -> *mut c_char {
    primary_net(primary).map_or(ptr::null_mut(), |s| list_item(&s.net.interfaces, iface_idx))
}

#[no_mangle]
pub extern "C" fn crt_provider_domain_str_get(primary: bool, _provider: crt_provider_t, idx: c_int) -> *mut c_char {
    primary_net(primary).map_or(ptr::null_mut(), |s| list_item(&s.net.domains, idx))
}

#[no_mangle]
pub extern "C" fn crt_provider_get_cur_ctx_num(primary: bool, _provider: crt_provider_t) -> c_int {
    if !primary {
        return 0;
    }
    crate::context::context_num() as c_int
}

#[no_mangle]
pub extern "C" fn crt_provider_get_max_ctx_num(primary: bool, _provider: crt_provider_t) -> c_int {
    primary_net(primary).map_or(0, |s| s.ctx_max_num as c_int)
}

/// Scalable endpoints: never used by this transport (upstream never turns them on either).
#[no_mangle]
pub extern "C" fn crt_provider_is_sep(_primary: bool, _provider: crt_provider_t) -> bool {
    false
}

#[no_mangle]
pub extern "C" fn crt_get_nr_secondary_providers() -> c_int {
    0
}

/// Upstream: only index 0 exists, and only with a secondary provider: -DER_NONEXIST here.
#[no_mangle]
pub extern "C" fn crt_self_uri_get_secondary(_secondary_idx: c_int, _uri: *mut *mut c_char) -> c_int {
    DER_NONEXIST
}

/// Upstream: -DER_NONEXIST for an index other than 0 or without a secondary provider (checked
/// before the count, which would be -DER_INVAL when not positive).
#[no_mangle]
pub extern "C" fn crt_nr_secondary_remote_tags_set(_idx: c_int, _num_tags: c_int) -> c_int {
    DER_NONEXIST
}

/// Upstream: -DER_INVAL when no secondary provider was initialised.
#[no_mangle]
pub extern "C" fn crt_context_create_secondary(_crt_ctx: *mut crt_context_t, _idx: c_int) -> c_int {
    DER_INVAL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_table_matches_rust_table() {
        let _g = dict_lock();
        let cur = current_names();
        assert_eq!(cur.len(), TABLE.len());
        for ((p, n, a), e) in cur.iter().zip(TABLE.iter()) {
            assert_eq!((*p, n.as_str(), a.as_deref()), (e.prov, e.name, e.alt));
            let d = dict_entry(*p).unwrap();
            assert_eq!((d.nad_port_bind, d.nad_contig_eps, d.nad_str_alloc), (e.port_bind, e.contig_eps, false));
        }
        assert_eq!(std::mem::size_of_val(unsafe { &*table() }), 192);
    }

    #[test]
    fn interned_strings_are_stable() {
        let a = intern("eth0");
        let b = intern("eth0");
        assert_eq!(a, b);
        assert_eq!(unsafe { CStr::from_ptr(a) }.to_str().unwrap(), "eth0");
        assert!(intern("a\0b").is_null());
    }
}
