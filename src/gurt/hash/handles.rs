//! Handle tables (upstream `d_hhash_*`) and UUID tables (`d_uhash_*`): generic tables whose
//! records embed a reference-counted `struct d_rlink`, with callbacks defined here.
//!
//! Handle keys are `cookie << D_HTYPE_BITS | type`, the cookie counting up from 1 per table, so
//! a key's bucket is its cookie. A pointer-mode table (`d_hhash_set_ptrtype`) instead keys each
//! handle by its own (even) address and never links it into a bucket.

use std::ffi::{c_int, c_uint, c_void};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::Relaxed;

use super::raw::{self, HHash, HLink, Key, Link, RLink, Table, ULink, UuidKey};
use crate::sys;

const HTYPE_BITS: u32 = sys::D_HTYPE_BITS;
const HTYPE_MASK: u64 = (1 << HTYPE_BITS) - 1;

/// Bit 0 clear: the key is a handle's address.
pub fn key_isptr(key: u64) -> bool {
    key & 1 == 0
}

pub fn key_type(key: u64) -> c_int {
    if key_isptr(key) {
        sys::D_HTYPE_PTR as c_int
    } else {
        (key & HTYPE_MASK) as c_int
    }
}

/// The key generated from a cookie and a handle type.
pub fn make_key(cookie: u64, htype: c_int) -> u64 {
    (cookie << HTYPE_BITS) | (htype as u64 & HTYPE_MASK)
}

/// Upstream's rl_op_empty: never initialised, or no reference left.
pub fn rlink_empty(r: RLink) -> bool {
    if !r.initialised() {
        return true;
    }
    let empty = r.refs() == 0;
    if empty && !r.link().is_empty() {
        tracing::error!(target: "mem", "unreferenced link {:p} is still in a table", r.as_ptr());
    }
    empty
}

/// The first eight hex digits of a UUID, as upstream's CF_UUID prints it.
struct UuidPrefix<'a>(&'a [u8; 16]);

impl std::fmt::Display for UuidPrefix<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02x}{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

/// A plain-old-data callback table that may live in a `static` (C only reads it).
pub struct Ops(pub sys::d_hash_table_ops_t);
// SAFETY: the table is immutable and holds only function pointers.
unsafe impl Sync for Ops {}

impl Ops {
    pub fn as_mut_ptr(&'static self) -> *mut sys::d_hash_table_ops_t {
        // C's field is non-const; nothing ever writes through it.
        (&self.0 as *const sys::d_hash_table_ops_t).cast_mut()
    }
}

/// The callbacks of both wrappers. Each receives pointers from the generic table, which only
/// ever passes the table these callbacks were installed in and links of records inserted
/// through the wrappers, so the container conversions below hold.
mod callbacks {
    use super::*;

    /// SAFETY (every callback here): `link` is the rl_link of a live d_rlink inside a
    /// d_hlink (handle tables) or d_ulink (UUID tables); `key` is what the wrapper passed.
    unsafe fn rlink(link: *mut sys::d_list_t) -> RLink {
        // SAFETY: see above.
        unsafe { RLink::of_link(Link::from_ptr(link).expect("table links are non-NULL")) }
    }

    pub unsafe extern "C" fn hh_key_init(t: *mut sys::d_hash_table, l: *mut sys::d_list_t, arg: *mut c_void) {
        // SAFETY: handle tables are HHash tables; `arg` is the int type d_hhash_link_insert
        // passed; `l` as above.
        unsafe {
            let hh = HHash::of_table(Table::from_ptr(t).expect("non-NULL table"));
            let cookie = hh.cookie.fetch_add(1, Relaxed);
            HLink::of_rlink(rlink(l)).set_key(make_key(cookie, *arg.cast::<c_int>()));
        }
    }

    pub unsafe extern "C" fn hh_key_hash(_t: *mut sys::d_hash_table, key: *const c_void, _k: c_uint) -> u32 {
        // SAFETY: d_hhash_link_lookup passes a pointer to its u64 key.
        (unsafe { *key.cast::<u64>() } >> HTYPE_BITS) as u32
    }

    pub unsafe extern "C" fn hh_key_cmp(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t, key: *const c_void, _k: c_uint) -> bool {
        // SAFETY: as above.
        unsafe { HLink::of_rlink(rlink(l)).key() == *key.cast::<u64>() }
    }

    pub unsafe extern "C" fn hh_rec_hash(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t) -> u32 {
        // SAFETY: as above.
        (unsafe { HLink::of_rlink(rlink(l)) }.key() >> HTYPE_BITS) as u32
    }

    pub unsafe extern "C" fn rl_addref(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t) {
        // SAFETY: as above.
        unsafe { rlink(l) }.addref()
    }

    pub unsafe extern "C" fn rl_decref(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t) -> bool {
        // SAFETY: as above.
        unsafe { rlink(l) }.decref()
    }

    pub unsafe extern "C" fn hh_rec_free(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t) {
        // SAFETY: as above.
        unsafe { HLink::of_rlink(rlink(l)) }.call_free()
    }

    pub unsafe extern "C" fn uh_key_hash(_t: *mut sys::d_hash_table, key: *const c_void, _k: c_uint) -> u32 {
        // SAFETY: the d_uhash functions pass a UuidKey.
        let (u, _) = unsafe { UuidKey::from_key(key) };
        tracing::trace!(target: "mem", "uuid_key: {}", UuidPrefix(u));
        u32::from_ne_bytes([u[0], u[1], u[2], u[3]])
    }

    pub unsafe extern "C" fn uh_key_cmp(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t, key: *const c_void, _k: c_uint) -> bool {
        // SAFETY: as above.
        let (u, args) = unsafe { UuidKey::from_key(key) };
        let ul = unsafe { ULink::of_rlink(rlink(l)) };
        let mine = ul.uuid();
        tracing::trace!(target: "mem", "Link key, Key:{},{}", UuidPrefix(u), UuidPrefix(&mine));
        mine == *u && ul.call_cmp(args)
    }

    pub unsafe extern "C" fn uh_rec_hash(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t) -> u32 {
        // SAFETY: as above.
        let u = unsafe { ULink::of_rlink(rlink(l)) }.uuid();
        u32::from_ne_bytes([u[0], u[1], u[2], u[3]])
    }

    pub unsafe extern "C" fn uh_rec_free(_t: *mut sys::d_hash_table, l: *mut sys::d_list_t) {
        // SAFETY: as above.
        unsafe { ULink::of_rlink(rlink(l)) }.call_free()
    }
}

pub static HH_OPS: Ops = Ops(sys::d_hash_table_ops_t {
    hop_key_cmp: Some(callbacks::hh_key_cmp),
    hop_key_init: Some(callbacks::hh_key_init),
    hop_key_hash: Some(callbacks::hh_key_hash),
    hop_rec_hash: Some(callbacks::hh_rec_hash),
    hop_rec_addref: Some(callbacks::rl_addref),
    hop_rec_decref: Some(callbacks::rl_decref),
    hop_rec_ndecref: None,
    hop_rec_free: Some(callbacks::hh_rec_free),
});

pub static UH_OPS: Ops = Ops(sys::d_hash_table_ops_t {
    hop_key_cmp: Some(callbacks::uh_key_cmp),
    hop_key_init: None,
    hop_key_hash: Some(callbacks::uh_key_hash),
    hop_rec_hash: Some(callbacks::uh_rec_hash),
    hop_rec_addref: Some(callbacks::rl_addref),
    hop_rec_decref: Some(callbacks::rl_decref),
    hop_rec_ndecref: None,
    hop_rec_free: Some(callbacks::uh_rec_free),
});

/// Allocates and initialises a generic table (d_hash_table_create).
pub fn create_table(
    feats: u32,
    bits: u32,
    priv_: *mut c_void,
    ops: *mut sys::d_hash_table_ops_t,
    ops_ok: bool,
    rec_hash: bool,
) -> Result<NonNull<sys::d_hash_table>, c_int> {
    let p = raw::calloc_one::<sys::d_hash_table>().ok_or(-(sys::DER_NOMEM as c_int))?;
    // SAFETY: a fresh zeroed table struct that only this function knows.
    let t = unsafe { Table::from_ptr(p.as_ptr()) }.expect("non-NULL");
    match t.create(feats, bits, priv_, ops, ops_ok, rec_hash) {
        0 => Ok(p),
        rc => {
            // SAFETY: `p` came from calloc_one and was never handed out.
            unsafe { raw::free_one(p) };
            Err(rc)
        }
    }
}

/// d_hash_table_destroy: finalise, then free the struct.
pub fn destroy_table(t: Table, force: bool) -> c_int {
    let rc = t.destroy(force);
    if rc == 0 {
        // SAFETY: tables destroyed this way were allocated by d_hash_table_create (libc heap);
        // the caller gives up its pointer.
        unsafe { raw::free_one(NonNull::new_unchecked(t.as_ptr())) };
    }
    rc
}

// Handle tables.

pub fn hhash_create(feats: u32, bits: u32) -> Result<NonNull<HHash>, c_int> {
    let p = raw::calloc_one::<HHash>().ok_or(-(sys::DER_NOMEM as c_int))?;
    // SAFETY: a fresh zeroed HHash that only this function knows; `table` is its field.
    let hh = unsafe { &mut *p.as_ptr() };
    let t = unsafe { Table::from_ptr(hh.table.get()) }.expect("non-NULL");
    match t.create(feats, bits, std::ptr::null_mut(), HH_OPS.as_mut_ptr(), true, true) {
        0 => {
            hh.cookie.store(1, Relaxed);
            hh.ptrtype.store(false, Relaxed);
            Ok(p)
        }
        rc => {
            // SAFETY: never handed out.
            unsafe { raw::free_one(p) };
            Err(rc)
        }
    }
}

pub fn hhash_table(hh: &HHash) -> Table {
    // SAFETY: the embedded table of a live HHash, initialised by hhash_create.
    unsafe { Table::from_ptr(hh.table.get()) }.expect("non-NULL")
}

pub fn hhash_destroy(hh: NonNull<HHash>) {
    // SAFETY: the caller hands over a live HHash from hhash_create.
    let t = hhash_table(unsafe { hh.as_ref() });
    t.destroy(true);
    // SAFETY: allocated by hhash_create.
    unsafe { raw::free_one(hh) };
}

pub fn hhash_set_ptrtype(hh: &HHash) -> c_int {
    if !hh.ptrtype.load(Relaxed) && !hhash_table(hh).is_empty() {
        tracing::error!(target: "mem", "handle table not empty with non-pointer handles");
        return -(sys::DER_ALREADY as c_int);
    }
    hh.ptrtype.store(true, Relaxed);
    0
}

pub fn hlink_init(h: HLink, ops: *mut sys::d_hlink_ops) {
    h.set_ops(ops);
    h.rlink().init();
}

pub fn hhash_insert(hh: &HHash, h: HLink, htype: c_int) {
    let r = h.rlink();
    if !r.initialised() {
        tracing::error!(target: "mem", "handle {:p} inserted before d_hhash_hlink_init", h.as_ptr());
        return;
    }
    if !(0..(1 << HTYPE_BITS)).contains(&htype) {
        tracing::error!(target: "mem", "handle type {htype} does not fit in D_HTYPE_BITS");
        return;
    }
    let t = hhash_table(hh);
    if hh.ptrtype.load(Relaxed) {
        let key = h.as_ptr() as usize as u64;
        if htype != sys::D_HTYPE_PTR as c_int || !key_isptr(key) {
            tracing::error!(target: "mem", "pointer table takes only even D_HTYPE_PTR handles");
            return;
        }
        h.set_key(key);
        t.addref(r.link());
    } else {
        if htype == sys::D_HTYPE_PTR as c_int {
            tracing::error!(target: "mem", "D_HTYPE_PTR handle inserted in a non-pointer table");
            return;
        }
        let mut ty = htype;
        t.insert_anonym(r.link(), (&mut ty as *mut c_int).cast());
    }
}

pub fn hhash_lookup(hh: &HHash, key: u64) -> Option<HLink> {
    let t = hhash_table(hh);
    if key_isptr(key) {
        if key == 0 {
            tracing::error!(target: "mem", "NULL pointer handle key");
            return None;
        }
        if !hh.ptrtype.load(Relaxed) {
            tracing::error!(target: "mem", "pointer key looked up in a non-pointer table");
            return None;
        }
        // SAFETY: in a pointer table a key is the address of a handle the caller inserted;
        // upstream trusts it the same way (and then checks the handle's own key).
        let h = unsafe { HLink::from_ptr(key as usize as *mut sys::d_hlink) }?;
        if h.key() != key {
            tracing::error!(target: "mem", "invalid pointer handle key");
            return None;
        }
        t.addref(h.rlink().link());
        Some(h)
    } else {
        // SAFETY: the key is a live u64 of 8 bytes, what the handle callbacks read.
        let k = unsafe { Key::new((&key as *const u64).cast(), 8) };
        // SAFETY: links of a handle table are hl_link.rl_link of live handles.
        t.find(k).map(|l| unsafe { HLink::of_rlink(RLink::of_link(l)) })
    }
}

pub fn hhash_putref(hh: &HHash, h: HLink) {
    let t = hhash_table(hh);
    if t.feats() & sys::D_HASH_FT_EPHEMERAL != 0 {
        tracing::error!(target: "mem", "handle tables must not be EPHEMERAL");
    }
    let l = h.rlink().link();
    if t.decref(l) {
        t.free(l);
    }
}

pub fn hhash_delete(hh: &HHash, h: HLink) -> bool {
    if key_isptr(h.key()) {
        if !hh.ptrtype.load(Relaxed) {
            tracing::error!(target: "mem", "pointer handle deleted from a non-pointer table");
            return false;
        }
        hhash_putref(hh, h);
        true
    } else {
        hhash_table(hh).delete_at(h.rlink().link())
    }
}

pub fn hhash_traverse(hh: &HHash, htype: c_int, mut cb: impl FnMut(HLink) -> c_int) -> c_int {
    hhash_table(hh).traverse(|l| {
        // SAFETY: links of a handle table are hl_link.rl_link of live handles.
        let h = unsafe { HLink::of_rlink(RLink::of_link(l)) };
        if key_type(h.key()) != htype {
            0
        } else {
            cb(h)
        }
    })
}

// UUID tables.

pub fn ulink_init(u: ULink, ops: *mut sys::d_ulink_ops) {
    u.set_ops(ops);
    u.rlink().init();
}

pub fn uhash_insert(t: Table, uuid: &[u8; 16], cmp_args: *mut c_void, u: ULink) -> c_int {
    if !u.rlink().initialised() {
        tracing::error!(target: "mem", "ulink {:p} inserted before d_uhash_ulink_init", u.as_ptr());
        return -(sys::DER_INVAL as c_int);
    }
    u.set_uuid(*uuid);
    let key_uuid = sys::d_uuid { uuid: *uuid };
    let bundle = UuidKey { uuid: &key_uuid, cmp_args };
    // SAFETY: the bundle lives across the call and is what the UUID callbacks read.
    let k = unsafe { Key::new((&bundle as *const UuidKey).cast(), size_of::<UuidKey>() as c_uint) };
    let rc = t.insert(k, u.rlink().link(), true);
    if rc != 0 {
        tracing::error!(target: "mem", "inserting a UUID handle failed: {rc}");
    }
    rc
}

pub fn uhash_lookup(t: Table, uuid: &[u8; 16], cmp_args: *mut c_void) -> Option<ULink> {
    let key_uuid = sys::d_uuid { uuid: *uuid };
    let bundle = UuidKey { uuid: &key_uuid, cmp_args };
    // SAFETY: as in uhash_insert.
    let k = unsafe { Key::new((&bundle as *const UuidKey).cast(), size_of::<UuidKey>() as c_uint) };
    // SAFETY: links of a UUID table are ul_link.rl_link of live ulinks.
    t.find(k).map(|l| unsafe { ULink::of_rlink(RLink::of_link(l)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_type_in_the_low_bits() {
        assert_eq!(make_key(1, 1), 0x11);
        assert_eq!(make_key(0x1234, 3), 0x12343);
        assert_eq!(make_key(5, 0x1f), 0x5f, "types are masked to D_HTYPE_BITS");
        assert_eq!(key_type(0x12343), 3);
        assert!(key_isptr(0x1000));
        assert!(!key_isptr(0x1001));
        assert_eq!(key_type(0x1000), sys::D_HTYPE_PTR as c_int);
    }

    #[repr(C)]
    struct Handle {
        hl: sys::d_hlink,
    }

    #[test]
    fn handle_table_life_cycle() {
        let hh = hhash_create(0, 4).unwrap();
        // SAFETY: just created, destroyed at the end of the test.
        let hhr = unsafe { &*hh.as_ptr() };
        let mut hs: Vec<Box<Handle>> = (0..5).map(|_| Box::new(Handle { hl: Default::default() })).collect();
        let links: Vec<HLink> = hs
            .iter_mut()
            // SAFETY: boxed handles that outlive the table's use of them.
            .map(|h| unsafe { HLink::from_ptr(&mut h.hl) }.unwrap())
            .collect();
        for (i, &h) in links.iter().enumerate() {
            hlink_init(h, std::ptr::null_mut());
            assert_eq!(h.rlink().refs(), 1);
            hhash_insert(hhr, h, 1);
            assert_eq!(h.key(), make_key(i as u64 + 1, 1));
            assert_eq!(h.rlink().refs(), 2);
        }
        assert_eq!(hhash_set_ptrtype(hhr), -(sys::DER_ALREADY as c_int));
        assert_eq!(hhash_lookup(hhr, links[3].key()), Some(links[3]));
        hhash_putref(hhr, links[3]);
        let mut seen = 0;
        assert_eq!(hhash_traverse(hhr, 1, |_| { seen += 1; 0 }), 0);
        assert_eq!(seen, 5);
        assert!(hhash_delete(hhr, links[0]));
        assert!(!hhash_delete(hhr, links[0]));
        assert_eq!(hhash_lookup(hhr, links[0].key()), None);
        assert_eq!(links[0].rlink().refs(), 1);
        hhash_destroy(hh);
        for h in &links {
            assert_eq!(h.rlink().refs(), 1);
            assert!(!rlink_empty(h.rlink()));
        }
    }
}
