//! Exports of upstream `hash.c`: pointer checks, then the safe table code in
//! `crate::hash::{table, handles}`.
//!
//! Upstream asserts on most NULL arguments; here a NULL table, link or key is refused the way
//! the function can say so: -DER_INVAL, NULL or false, and nothing for void functions.
//!
//! # Safety
//! Every pointer argument must be NULL or point to what the header says (a live, initialised
//! object of that type); that is C's contract with gurt, so it is stated here once.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::ptr;

use crate::hash::handles::{self, UH_OPS};
use crate::hash::raw::{HHash, HLink, Key, Link, Table, ULink};
use crate::sys::{
    d_hash_table, d_hash_table_ops_t, d_hash_traverse_cb_t, d_hhash, d_hhash_traverse_cb_t,
    d_hlink, d_hlink_ops, d_list_t, d_ulink, d_ulink_ops, d_uuid, DER_INVAL,
};

const EINVAL: c_int = -(DER_INVAL as c_int);

// SAFETY (every conversion below): C hands gurt pointers to its own live tables, records and
// keys, as the header documents; a NULL is caught by the Option. A table pointer is a table
// that d_hash_table_create(_inplace) initialised (or, for create, storage to initialise).
#[inline(always)]
fn table(p: *mut d_hash_table) -> Option<Table> {
    // SAFETY: see above.
    unsafe { Table::from_ptr(p) }
}

#[cold]
#[inline(never)]
fn uninitialised(t: Table) {
    tracing::error!(target: "mem", "d_hash_table {:p} not initialised (NULL buckets)", t.as_ptr());
}

#[cold]
#[inline(never)]
fn bad_key() {
    tracing::error!(target: "mem", "NULL or empty hash key");
}

/// A table the record operations may use: initialised (not zeroed storage, not destroyed).
#[inline(always)]
fn live(p: *mut d_hash_table) -> Option<Table> {
    match table(p) {
        Some(t) if t.initialised() => Some(t),
        Some(t) => {
            uninitialised(t);
            None
        }
        None => None,
    }
}

#[inline(always)]
fn link(p: *mut d_list_t) -> Option<Link> {
    // SAFETY: see above.
    unsafe { Link::from_ptr(p) }
}

#[inline(always)]
fn key(k: *const c_void, ksize: c_uint) -> Option<Key> {
    if k.is_null() || ksize == 0 {
        bad_key();
        return None;
    }
    // SAFETY: see above: the caller's key has ksize bytes.
    Some(unsafe { Key::new(k, ksize) })
}

#[inline(always)]
fn hhash<'a>(p: *mut d_hhash) -> Option<&'a HHash> {
    // SAFETY: a struct d_hhash * is always an HHash from d_hhash_create.
    unsafe { p.cast::<HHash>().as_ref() }
}

#[inline(always)]
fn hlink(p: *mut d_hlink) -> Option<HLink> {
    // SAFETY: see above.
    unsafe { HLink::from_ptr(p) }
}

#[inline(always)]
fn ulink(p: *mut d_ulink) -> Option<ULink> {
    // SAFETY: see above.
    unsafe { ULink::from_ptr(p) }
}

#[inline(always)]
fn uuid<'a>(p: *mut d_uuid) -> Option<&'a [u8; 16]> {
    // SAFETY: see above.
    unsafe { p.as_ref() }.map(|u| &u.uuid)
}

fn ops_ok(hops: *mut d_hash_table_ops_t) -> (bool, bool) {
    // SAFETY: see above: NULL or the caller's callbacks.
    match unsafe { hops.as_ref() } {
        Some(o) => (o.hop_key_cmp.is_some(), o.hop_rec_hash.is_some()),
        None => (false, false),
    }
}

// The hash functions.

#[no_mangle]
pub extern "C" fn d_hash_mix64(key: u64) -> u64 {
    crate::hash::mix64(key)
}

#[no_mangle]
pub extern "C" fn d_hash_mix96(a: u32, b: u32, c: u32) -> u32 {
    crate::hash::mix96(a, b, c)
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_srch_u64(hashes: *mut u64, nhashes: c_uint, value: u64) -> c_uint {
    if hashes.is_null() || nhashes == 0 {
        return 0;
    }
    // SAFETY: the caller's array holds nhashes values.
    crate::hash::srch_u64(unsafe { std::slice::from_raw_parts(hashes, nhashes as usize) }, value)
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_string_u32(string: *const c_char, len: c_uint) -> u32 {
    if string.is_null() {
        return crate::hash::djb2(&[]);
    }
    // SAFETY: the caller's string has len bytes.
    crate::hash::djb2(unsafe { std::slice::from_raw_parts(string.cast(), len as usize) })
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_murmur64(key: *const u8, key_len: c_uint, seed: c_uint) -> u64 {
    if key.is_null() {
        // Nothing to read: hash the empty key.
        return crate::hash::murmur64(&[], seed);
    }
    // SAFETY: the caller's key has key_len bytes.
    let bytes = unsafe { std::slice::from_raw_parts(key, key_len as usize) };
    crate::hash::murmur64(bytes, seed)
}

#[no_mangle]
pub extern "C" fn d_hash_jump(key: u64, num_buckets: u32) -> u32 {
    crate::hash::jump(key, num_buckets)
}

// The generic table.

#[no_mangle]
pub unsafe extern "C" fn d_hash_table_create_inplace(
    feats: u32,
    bits: u32,
    priv_: *mut c_void,
    hops: *mut d_hash_table_ops_t,
    htable: *mut d_hash_table,
) -> c_int {
    let Some(t) = table(htable) else { return EINVAL };
    let (ok, rec_hash) = ops_ok(hops);
    t.create(feats, bits, priv_, hops, ok, rec_hash)
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_table_create(
    feats: u32,
    bits: u32,
    priv_: *mut c_void,
    hops: *mut d_hash_table_ops_t,
    htable_pp: *mut *mut d_hash_table,
) -> c_int {
    if htable_pp.is_null() {
        return EINVAL;
    }
    let (ok, rec_hash) = ops_ok(hops);
    let (p, rc) = match handles::create_table(feats, bits, priv_, hops, ok, rec_hash) {
        Ok(p) => (p.as_ptr(), 0),
        Err(rc) => (ptr::null_mut(), rc),
    };
    // SAFETY: checked non-NULL; the caller's out pointer.
    unsafe { *htable_pp = p };
    rc
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_table_traverse(
    htable: *mut d_hash_table,
    cb: d_hash_traverse_cb_t,
    arg: *mut c_void,
) -> c_int {
    let Some(t) = table(htable) else { return EINVAL };
    if !t.initialised() {
        return t.traverse(|_| 0);
    }
    let Some(cb) = cb else {
        tracing::error!(target: "mem", "invalid parameter, NULL cb");
        return EINVAL;
    };
    // SAFETY: the caller's callback, given links of its own table and its own argument.
    t.traverse(|l| unsafe { cb(l.as_ptr(), arg) })
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_table_destroy_inplace(htable: *mut d_hash_table, force: bool) -> c_int {
    table(htable).map_or(EINVAL, |t| t.destroy(force))
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_table_destroy(htable: *mut d_hash_table, force: bool) -> c_int {
    table(htable).map_or(EINVAL, |t| handles::destroy_table(t, force))
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_find(htable: *mut d_hash_table, k: *const c_void, ksize: c_uint) -> *mut d_list_t {
    match (live(htable), key(k, ksize)) {
        (Some(t), Some(k)) => t.find(k).map_or(ptr::null_mut(), Link::as_ptr),
        _ => ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_find_insert(
    htable: *mut d_hash_table,
    k: *const c_void,
    ksize: c_uint,
    l: *mut d_list_t,
) -> *mut d_list_t {
    match (live(htable), key(k, ksize), link(l)) {
        (Some(t), Some(k), Some(l)) => t.find_insert(k, l).as_ptr(),
        _ => ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_insert(
    htable: *mut d_hash_table,
    k: *const c_void,
    ksize: c_uint,
    l: *mut d_list_t,
    exclusive: bool,
) -> c_int {
    match (live(htable), key(k, ksize), link(l)) {
        (Some(t), Some(k), Some(l)) => t.insert(k, l, exclusive),
        _ => EINVAL,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_insert_anonym(htable: *mut d_hash_table, l: *mut d_list_t, arg: *mut c_void) -> c_int {
    match (live(htable), link(l)) {
        (Some(t), Some(l)) => t.insert_anonym(l, arg),
        _ => EINVAL,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_delete(htable: *mut d_hash_table, k: *const c_void, ksize: c_uint) -> bool {
    match (live(htable), key(k, ksize)) {
        (Some(t), Some(k)) => t.delete(k),
        _ => false,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_delete_at(htable: *mut d_hash_table, l: *mut d_list_t) -> bool {
    match (live(htable), link(l)) {
        (Some(t), Some(l)) => t.delete_at(l),
        _ => false,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_evict(htable: *mut d_hash_table, k: *const c_void, ksize: c_uint) -> bool {
    match live(htable) {
        Some(t) if t.feats() & crate::sys::D_HASH_FT_LRU == 0 => false,
        Some(t) => key(k, ksize).is_some_and(|k| t.evict(k)),
        None => false,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_evict_at(htable: *mut d_hash_table, l: *mut d_list_t) -> bool {
    match (live(htable), link(l)) {
        (Some(t), Some(l)) => t.evict_at(l),
        _ => false,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_addref(htable: *mut d_hash_table, l: *mut d_list_t) {
    if let (Some(t), Some(l)) = (live(htable), link(l)) {
        t.rec_addref(l)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_decref(htable: *mut d_hash_table, l: *mut d_list_t) {
    if let (Some(t), Some(l)) = (live(htable), link(l)) {
        t.rec_decref(l)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_ndecref(htable: *mut d_hash_table, count: c_int, l: *mut d_list_t) -> c_int {
    match (live(htable), link(l)) {
        (Some(t), Some(l)) => t.rec_ndecref(count, l),
        _ => EINVAL,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_unlinked(l: *mut d_list_t) -> bool {
    link(l).map_or(true, Link::is_empty)
}

#[no_mangle]
pub unsafe extern "C" fn d_hash_rec_first(htable: *mut d_hash_table) -> *mut d_list_t {
    table(htable).and_then(Table::first).map_or(ptr::null_mut(), Link::as_ptr)
}

#[no_mangle]
pub extern "C" fn d_hash_table_debug(_htable: *mut d_hash_table) {
    // Statistics exist only with D_HASH_DEBUG, which is 0 (as upstream's build).
}

// Handle tables.

#[no_mangle]
pub unsafe extern "C" fn d_hhash_create(feats: u32, bits: u32, hhash_pp: *mut *mut d_hhash) -> c_int {
    if hhash_pp.is_null() {
        return EINVAL;
    }
    let (p, rc) = match handles::hhash_create(feats, bits) {
        Ok(p) => (p.as_ptr().cast::<d_hhash>(), 0),
        Err(rc) => (ptr::null_mut(), rc),
    };
    // SAFETY: checked non-NULL; the caller's out pointer.
    unsafe { *hhash_pp = p };
    rc
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_destroy(hh: *mut d_hhash) {
    if let Some(p) = std::ptr::NonNull::new(hh.cast::<HHash>()) {
        handles::hhash_destroy(p)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_set_ptrtype(hh: *mut d_hhash) -> c_int {
    hhash(hh).map_or(EINVAL, handles::hhash_set_ptrtype)
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_is_ptrtype(hh: *mut d_hhash) -> bool {
    hhash(hh).is_some_and(|h| h.ptrtype.load(std::sync::atomic::Ordering::Relaxed))
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_hlink_init(h: *mut d_hlink, ops: *mut d_hlink_ops) {
    if let Some(h) = hlink(h) {
        handles::hlink_init(h, ops)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_link_insert(hh: *mut d_hhash, h: *mut d_hlink, htype: c_int) {
    if let (Some(hh), Some(h)) = (hhash(hh), hlink(h)) {
        handles::hhash_insert(hh, h, htype)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_link_lookup(hh: *mut d_hhash, key: u64) -> *mut d_hlink {
    hhash(hh).and_then(|hh| handles::hhash_lookup(hh, key)).map_or(ptr::null_mut(), HLink::as_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_link_delete(hh: *mut d_hhash, h: *mut d_hlink) -> bool {
    match (hhash(hh), hlink(h)) {
        (Some(hh), Some(h)) => handles::hhash_delete(hh, h),
        _ => false,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_link_getref(hh: *mut d_hhash, h: *mut d_hlink) {
    if let (Some(hh), Some(h)) = (hhash(hh), hlink(h)) {
        handles::hhash_table(hh).addref(h.rlink().link())
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_link_putref(hh: *mut d_hhash, h: *mut d_hlink) {
    if let (Some(hh), Some(h)) = (hhash(hh), hlink(h)) {
        handles::hhash_putref(hh, h)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_link_empty(h: *mut d_hlink) -> bool {
    hlink(h).map_or(true, |h| handles::rlink_empty(h.rlink()))
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_link_key(h: *mut d_hlink, key: *mut u64) {
    if let (Some(h), false) = (hlink(h), key.is_null()) {
        // SAFETY: checked non-NULL; the caller's out pointer.
        unsafe { *key = h.key() }
    }
}

#[no_mangle]
pub extern "C" fn d_hhash_key_type(key: u64) -> c_int {
    handles::key_type(key)
}

#[no_mangle]
pub extern "C" fn d_hhash_key_isptr(key: u64) -> bool {
    handles::key_isptr(key)
}

#[no_mangle]
pub unsafe extern "C" fn d_hhash_traverse(
    hh: *mut d_hhash,
    htype: c_int,
    cb: d_hhash_traverse_cb_t,
    arg: *mut c_void,
) -> c_int {
    let Some(hh) = hhash(hh) else { return EINVAL };
    let Some(cb) = cb else {
        tracing::error!(target: "mem", "invalid parameter, NULL cb");
        return EINVAL;
    };
    // SAFETY: the caller's callback, given its own handles and argument.
    handles::hhash_traverse(hh, htype, |h| unsafe { cb(h.as_ptr(), arg) })
}

// UUID tables.

#[no_mangle]
pub unsafe extern "C" fn d_uhash_create(feats: u32, bits: u32, htable_pp: *mut *mut d_hash_table) -> c_int {
    // SAFETY: the UUID callbacks are complete (key_cmp and rec_hash present).
    unsafe { d_hash_table_create(feats, bits, ptr::null_mut(), UH_OPS.as_mut_ptr(), htable_pp) }
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_destroy(htable: *mut d_hash_table) {
    if let Some(t) = table(htable) {
        handles::destroy_table(t, true);
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_ulink_init(u: *mut d_ulink, ops: *mut d_ulink_ops) {
    if let Some(u) = ulink(u) {
        handles::ulink_init(u, ops)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_link_empty(u: *mut d_ulink) -> bool {
    ulink(u).map_or(true, |u| handles::rlink_empty(u.rlink()))
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_link_last_ref(u: *mut d_ulink) -> bool {
    ulink(u).is_some_and(|u| u.rlink().refs() == 1)
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_link_addref(htable: *mut d_hash_table, u: *mut d_ulink) {
    if let (Some(t), Some(u)) = (live(htable), ulink(u)) {
        t.rec_addref(u.rlink().link())
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_link_putref(htable: *mut d_hash_table, u: *mut d_ulink) {
    if let (Some(t), Some(u)) = (live(htable), ulink(u)) {
        t.rec_decref(u.rlink().link())
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_link_delete(htable: *mut d_hash_table, u: *mut d_ulink) {
    if let (Some(t), Some(u)) = (live(htable), ulink(u)) {
        t.delete_at(u.rlink().link());
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_link_insert(
    htable: *mut d_hash_table,
    key: *mut d_uuid,
    cmp_args: *mut c_void,
    u: *mut d_ulink,
) -> c_int {
    match (live(htable), uuid(key), ulink(u)) {
        (Some(t), Some(k), Some(u)) => handles::uhash_insert(t, k, cmp_args, u),
        _ => EINVAL,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_uhash_link_lookup(htable: *mut d_hash_table, key: *mut d_uuid, cmp_args: *mut c_void) -> *mut d_ulink {
    match (live(htable), uuid(key)) {
        (Some(t), Some(k)) => handles::uhash_lookup(t, k, cmp_args).map_or(ptr::null_mut(), ULink::as_ptr),
        _ => ptr::null_mut(),
    }
}

