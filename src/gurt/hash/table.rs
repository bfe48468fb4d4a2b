//! The generic chained hash table (upstream `d_hash_*`), in safe code over the handles of
//! [`super::raw`].
//!
//! Reference-count rules (upstream's):
//! - lookups (`find`, `find_insert` hitting an existing record) take a reference;
//! - inserts take the table's own reference and deletes drop it, unless the table is
//!   EPHEMERAL, where the table holds none;
//! - when a decref returns "last", the record is freed with hop_rec_free after the lock is
//!   released; in an EPHEMERAL table it is also unlinked first;
//! - lookups take the bucket lock shared (rwlock tables) except in LRU tables, which reorder
//!   the bucket; decrefs take it shared unless EPHEMERAL (which may unlink).

use std::ffi::{c_int, c_void};

use super::raw::{Key, Link, LockKind, Table, GLOCK, NOLOCK};
use crate::sys;

const EPHEMERAL: u32 = sys::D_HASH_FT_EPHEMERAL;
const LRU: u32 = sys::D_HASH_FT_LRU;
const NO_KEYINIT_LOCK: u32 = sys::D_HASH_FT_NO_KEYINIT_LOCK;

fn der(e: sys::daos_errno) -> c_int {
    -(e as c_int)
}

/// Where a found record moves in an LRU table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lru {
    Tail,
    Stay,
    Head,
}

impl Table {
    #[inline(always)]
    fn mask(self) -> u32 {
        (1u32 << self.bits()).wrapping_sub(1)
    }

    #[inline(always)]
    fn key_idx(self, key: Key) -> u32 {
        self.key_hash(key) & self.mask()
    }

    #[inline(always)]
    fn rec_idx(self, link: Link) -> u32 {
        self.rec_hash(link) & self.mask()
    }

    /// Searches bucket `idx` (locked by the caller) for `key`.
    #[inline(always)]
    fn search(self, idx: u32, key: Key, lru: Lru) -> Option<Link> {
        let head = self.bucket(idx);
        let mut l = head.next();
        while l != head {
            if self.key_cmp(l, key) {
                if lru != Lru::Stay && self.feats() & LRU != 0 {
                    if lru == Lru::Head && head.next() != l {
                        l.unlink();
                        l.add_after(head);
                    } else if lru == Lru::Tail && head.prev() != l {
                        l.unlink();
                        l.add_before(head);
                    }
                }
                return Some(l);
            }
            l = l.next();
        }
        None
    }

    /// Links a record at the head of bucket `idx`, with the table's reference unless
    /// EPHEMERAL.
    #[inline(always)]
    fn link_in(self, idx: u32, link: Link) {
        if self.feats() & EPHEMERAL == 0 {
            self.addref(link);
        }
        link.add_after(self.bucket(idx));
    }

    /// Unlinks a record and drops the table's reference (unless EPHEMERAL); true when that
    /// was the last reference.
    #[inline(always)]
    fn link_out(self, link: Link) -> bool {
        link.del_init();
        self.feats() & EPHEMERAL == 0 && self.decref(link)
    }

    /// Upstream's d_hash_table_create_inplace.
    pub fn create(
        self,
        feats: u32,
        bits: u32,
        priv_: *mut c_void,
        ops: *mut sys::d_hash_table_ops_t,
        ops_ok: bool,
        rec_hash: bool,
    ) -> c_int {
        if !ops_ok || bits >= 32 {
            tracing::error!(target: "mem", "invalid hash table parameters (bits {bits})");
            return der(sys::DER_INVAL);
        }
        let glock = !rec_hash && feats & NOLOCK == 0;
        if glock && feats & GLOCK == 0 {
            tracing::warn!(
                target: "mem",
                "no hop_rec_hash callback: the whole table is locked as one (GLOCK)"
            );
        }
        self.init(feats, bits, priv_, ops, glock)
    }

    #[inline(always)]
    pub fn find(self, key: Key) -> Option<Link> {
        let idx = self.key_idx(key);
        let lru = self.feats() & LRU != 0;
        self.lock(idx, !lru);
        let found = self.search(idx, key, Lru::Head);
        if let Some(l) = found {
            self.addref(l);
        }
        self.unlock(idx);
        found
    }

    #[inline(always)]
    pub fn insert(self, key: Key, link: Link, exclusive: bool) -> c_int {
        let idx = self.key_idx(key);
        self.lock(idx, false);
        let rc = if exclusive && self.search(idx, key, Lru::Stay).is_some() {
            tracing::trace!(target: "mem", "duplicate key");
            der(sys::DER_EXIST)
        } else {
            self.link_in(idx, link);
            0
        };
        self.unlock(idx);
        rc
    }

    #[inline(always)]
    pub fn find_insert(self, key: Key, link: Link) -> Link {
        let idx = self.key_idx(key);
        self.lock(idx, false);
        let out = match self.search(idx, key, Lru::Head) {
            Some(found) => {
                self.addref(found);
                found
            }
            None => {
                self.link_in(idx, link);
                link
            }
        };
        self.unlock(idx);
        out
    }

    pub fn insert_anonym(self, link: Link, arg: *mut c_void) -> c_int {
        if !self.has_key_init() {
            return der(sys::DER_INVAL);
        }
        let f = self.feats();
        let locked = f & NOLOCK == 0;
        let lock_all = locked && f & NO_KEYINIT_LOCK == 0;
        // Without a key the bucket is unknown: hold every bucket lock (or the table lock)
        // while the key is generated, unless the caller said key generation needs none.
        let all = if f & GLOCK != 0 { 1 } else { 1u32 << self.bits() };
        if lock_all {
            for i in 0..all {
                self.lock(i, false);
            }
        }
        self.key_init(link, arg);
        let idx = self.rec_idx(link);
        if locked && !lock_all {
            self.lock(idx, false);
        }
        self.link_in(idx, link);
        if lock_all {
            for i in 0..all {
                self.unlock(i);
            }
        } else if locked {
            self.unlock(idx);
        }
        0
    }

    #[inline(always)]
    pub fn delete(self, key: Key) -> bool {
        let idx = self.key_idx(key);
        self.lock(idx, false);
        let found = self.search(idx, key, Lru::Stay);
        let zombie = found.is_some_and(|l| self.link_out(l));
        self.unlock(idx);
        if zombie {
            self.free(found.expect("zombie implies found"));
        }
        found.is_some()
    }

    #[inline(always)]
    pub fn delete_at(self, link: Link) -> bool {
        let locked = self.feats() & NOLOCK == 0;
        let idx = if locked { self.rec_idx(link) } else { 0 };
        if locked {
            self.lock(idx, false);
        }
        let linked = link.is_linked();
        let zombie = linked && self.link_out(link);
        if locked {
            self.unlock(idx);
        }
        if zombie {
            self.free(link);
        }
        linked
    }

    pub fn evict(self, key: Key) -> bool {
        if self.feats() & LRU == 0 {
            return false;
        }
        let idx = self.key_idx(key);
        self.lock(idx, false);
        let found = self.search(idx, key, Lru::Tail);
        self.unlock(idx);
        found.is_some()
    }

    pub fn evict_at(self, link: Link) -> bool {
        if self.feats() & LRU == 0 {
            return false;
        }
        let idx = self.rec_idx(link);
        let head = self.bucket(idx);
        self.lock(idx, false);
        let moved = head.prev() != link;
        if moved {
            link.unlink();
            link.add_before(head);
        }
        self.unlock(idx);
        moved
    }

    #[inline(always)]
    pub fn rec_addref(self, link: Link) {
        let locked = self.feats() & NOLOCK == 0;
        let idx = if locked { self.rec_idx(link) } else { 0 };
        if locked {
            self.lock(idx, true);
        }
        self.addref(link);
        if locked {
            self.unlock(idx);
        }
    }

    /// After the last reference went: an EPHEMERAL table unlinks the record itself.
    fn zombie_unlink(self, link: Link) {
        if self.feats() & EPHEMERAL != 0 && link.is_linked() {
            link.del_init();
        }
        if link.is_linked() {
            tracing::error!(
                target: "mem",
                "last reference of {:p} dropped while it is still in the table",
                link.as_ptr()
            );
        }
    }

    #[inline(always)]
    pub fn rec_decref(self, link: Link) {
        let f = self.feats();
        let locked = f & NOLOCK == 0;
        let eph = f & EPHEMERAL != 0;
        let idx = if locked { self.rec_idx(link) } else { 0 };
        if locked {
            self.lock(idx, !eph);
        }
        let zombie = self.decref(link);
        if zombie {
            self.zombie_unlink(link);
        }
        if locked {
            self.unlock(idx);
        }
        if zombie {
            self.free(link);
        }
    }

    /// Upstream's d_hash_rec_ndecref. A count below 1 is refused with -DER_INVAL (upstream
    /// would keep dropping references until the record is freed).
    pub fn rec_ndecref(self, count: c_int, link: Link) -> c_int {
        if count < 1 {
            return der(sys::DER_INVAL);
        }
        let f = self.feats();
        let locked = f & NOLOCK == 0;
        let eph = f & EPHEMERAL != 0;
        let idx = if locked { self.rec_idx(link) } else { 0 };
        if locked {
            self.lock(idx, !eph);
        }
        let (mut rc, zombie) = match self.ndecref(link, count) {
            Some(r) if r >= 1 => (0, true),
            Some(r) => (r, false),
            None => {
                // Upstream's loop: at least one decref, stopping early at the last.
                let mut left = count;
                let mut zombie;
                loop {
                    zombie = self.decref(link);
                    left = left.wrapping_sub(1);
                    if left == 0 || zombie {
                        break;
                    }
                }
                (if left != 0 { der(sys::DER_INVAL) } else { 0 }, zombie)
            }
        };
        if rc == 0 && zombie {
            self.zombie_unlink(link);
        }
        if locked {
            self.unlock(idx);
        }
        if zombie {
            self.free(link);
        }
        if rc > 0 {
            rc = 0;
        }
        rc
    }

    /// Calls `cb` on each record under its bucket's read lock until it returns nonzero.
    pub fn traverse(self, mut cb: impl FnMut(Link) -> c_int) -> c_int {
        if !self.initialised() {
            tracing::error!(target: "mem", "hash table {:p} not initialised", self.as_ptr());
            return der(sys::DER_UNINIT);
        }
        let mut rc = 0;
        for idx in 0..(1u32 << self.bits()) {
            let head = self.bucket(idx);
            self.lock(idx, true);
            let mut l = head.next();
            while l != head {
                // The callback may unlink the current record: step first.
                let next = l.next();
                rc = cb(l);
                if rc != 0 {
                    break;
                }
                l = next;
            }
            self.unlock(idx);
            if rc != 0 {
                break;
            }
        }
        rc
    }

    pub fn first(self) -> Option<Link> {
        let mut first = None;
        let rc = self.traverse(|l| {
            first = Some(l);
            1
        });
        if rc < 0 {
            None
        } else {
            first
        }
    }

    /// True when no bucket holds a record (an uninitialised table counts as empty).
    pub fn is_empty(self) -> bool {
        if !self.initialised() {
            return true;
        }
        (0..(1u32 << self.bits())).all(|idx| {
            self.lock(idx, true);
            let e = self.bucket(idx).is_empty();
            self.unlock(idx);
            e
        })
    }

    /// Upstream's d_hash_table_destroy_inplace.
    pub fn destroy(self, force: bool) -> c_int {
        if !self.initialised() {
            tracing::error!(target: "mem", "hash table {:p} not initialised", self.as_ptr());
            return der(sys::DER_UNINIT);
        }
        for idx in 0..(1u32 << self.bits()) {
            let head = self.bucket(idx);
            while !head.is_empty() {
                if !force {
                    tracing::trace!(target: "mem", "hash table not empty");
                    return der(sys::DER_BUSY);
                }
                self.delete_at(head.next());
            }
        }
        self.fini();
        0
    }

    pub fn lock_kind(self) -> LockKind {
        LockKind::of(self.feats())
    }
}

#[cfg(test)]
mod tests {
    //! The table driven from Rust the way C drives it: records embed a d_list_t and the
    //! callbacks are C-ABI functions.
    use super::*;
    use crate::hash::raw::{Key, Link, LockKind, Table};
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

    #[repr(C)]
    struct Rec {
        key: u64,
        link: sys::d_list_t,
        refs: AtomicU32,
    }

    static FREED: AtomicUsize = AtomicUsize::new(0);

    fn rec_of(l: *mut sys::d_list_t) -> &'static Rec {
        // SAFETY: test tables only ever link the `link` of a live Rec.
        unsafe { &*l.byte_sub(std::mem::offset_of!(Rec, link)).cast::<Rec>() }
    }

    unsafe extern "C" fn cmp(_: *mut sys::d_hash_table, l: *mut sys::d_list_t, k: *const c_void, _: u32) -> bool {
        // SAFETY: keys are u64s.
        rec_of(l).key == unsafe { *k.cast::<u64>() }
    }
    unsafe extern "C" fn khash(_: *mut sys::d_hash_table, k: *const c_void, _: u32) -> u32 {
        // SAFETY: keys are u64s.
        unsafe { *k.cast::<u64>() as u32 }
    }
    unsafe extern "C" fn rhash(_: *mut sys::d_hash_table, l: *mut sys::d_list_t) -> u32 {
        rec_of(l).key as u32
    }
    unsafe extern "C" fn addref(_: *mut sys::d_hash_table, l: *mut sys::d_list_t) {
        rec_of(l).refs.fetch_add(1, Relaxed);
    }
    unsafe extern "C" fn decref(_: *mut sys::d_hash_table, l: *mut sys::d_list_t) -> bool {
        rec_of(l).refs.fetch_sub(1, Relaxed) == 1
    }
    unsafe extern "C" fn free(_: *mut sys::d_hash_table, _: *mut sys::d_list_t) {
        FREED.fetch_add(1, Relaxed);
    }

    fn ops(rec_hash: bool) -> Box<sys::d_hash_table_ops_t> {
        Box::new(sys::d_hash_table_ops_t {
            hop_key_cmp: Some(cmp),
            hop_key_hash: Some(khash),
            hop_rec_hash: if rec_hash { Some(rhash) } else { None },
            hop_rec_addref: Some(addref),
            hop_rec_decref: Some(decref),
            hop_rec_free: Some(free),
            ..Default::default()
        })
    }

    struct Fixture {
        t: Box<sys::d_hash_table>,
        ops: Box<sys::d_hash_table_ops_t>,
        // Boxed: the table links the records by address.
        #[allow(clippy::vec_box)]
        recs: Vec<Box<Rec>>,
    }

    impl Fixture {
        fn new(feats: u32, bits: u32, rec_hash: bool, n: u64) -> Fixture {
            let mut f = Fixture { t: Box::default(), ops: ops(rec_hash), recs: Vec::new() };
            let ops_p: *mut sys::d_hash_table_ops_t = &mut *f.ops;
            assert_eq!(f.table().create(feats, bits, std::ptr::null_mut(), ops_p, true, rec_hash), 0);
            for k in 0..n {
                let mut r = Box::new(Rec { key: k, link: Default::default(), refs: AtomicU32::new(0) });
                let p: *mut sys::d_list_t = &mut r.link;
                // SAFETY: a fresh node of a boxed record that outlives the table.
                unsafe { Link::from_ptr(p) }.unwrap().init();
                f.recs.push(r);
            }
            f
        }
        fn table(&mut self) -> Table {
            // SAFETY: the boxed table lives as long as the fixture.
            unsafe { Table::from_ptr(&mut *self.t) }.unwrap()
        }
        fn link(&mut self, i: usize) -> Link {
            // SAFETY: a record of the fixture.
            unsafe { Link::from_ptr(&mut self.recs[i].link) }.unwrap()
        }
        fn key(&self, i: usize) -> Key {
            // SAFETY: the record's key field lives as long as the fixture.
            unsafe { Key::new((&self.recs[i].key as *const u64).cast(), 8) }
        }
        fn refs(&self, i: usize) -> u32 {
            self.recs[i].refs.load(Relaxed)
        }
    }

    #[test]
    fn lock_kind_precedence() {
        assert_eq!(LockKind::of(0), LockKind::Spin);
        assert_eq!(LockKind::of(sys::D_HASH_FT_MUTEX), LockKind::Mutex);
        assert_eq!(LockKind::of(sys::D_HASH_FT_RWLOCK), LockKind::RwLock);
        assert_eq!(LockKind::of(sys::D_HASH_FT_MUTEX | sys::D_HASH_FT_RWLOCK), LockKind::Mutex);
        assert_eq!(LockKind::of(sys::D_HASH_FT_NOLOCK | sys::D_HASH_FT_MUTEX), LockKind::None);
    }

    #[test]
    fn reference_rules_in_every_lock_mode() {
        for feats in [0, sys::D_HASH_FT_MUTEX, sys::D_HASH_FT_RWLOCK, sys::D_HASH_FT_NOLOCK, GLOCK] {
            let mut f = Fixture::new(feats, 4, true, 40);
            let t = f.table();
            assert_eq!(t.lock_kind(), LockKind::of(feats));
            for i in 0..40 {
                let l = f.link(i);
                assert_eq!(t.insert(f.key(i), l, true), 0);
                assert_eq!(f.refs(i), 1);
                assert_eq!(t.insert(f.key(i), l, true), -(sys::DER_EXIST as c_int));
            }
            for i in 0..40 {
                assert_eq!(t.find(f.key(i)), Some(f.link(i)));
                assert_eq!(f.refs(i), 2);
                t.rec_decref(f.link(i));
            }
            let before = FREED.load(Relaxed);
            for i in 0..40 {
                assert!(t.delete(f.key(i)));
                assert!(!t.delete(f.key(i)));
                assert_eq!(f.refs(i), 0);
            }
            assert!(FREED.load(Relaxed) >= before + 40);
            assert!(t.is_empty());
            assert_eq!(t.destroy(false), 0);
            assert!(!t.initialised());
        }
    }

    #[test]
    fn locked_tables_without_rec_hash_use_one_lock() {
        let mut f = Fixture::new(0, 3, false, 1);
        assert_eq!(f.table().feats(), GLOCK);
        let t = f.table();
        assert_eq!(t.destroy(true), 0);
        let mut f = Fixture::new(NOLOCK, 3, false, 1);
        assert_eq!(f.table().feats(), NOLOCK);
        assert_eq!(f.table().destroy(true), 0);
    }

    #[test]
    fn lru_moves_found_records_to_the_front() {
        let mut f = Fixture::new(LRU, 0, true, 3);
        let t = f.table();
        for i in 0..3 {
            let l = f.link(i);
            assert_eq!(t.insert(f.key(i), l, true), 0);
        }
        let head = t.bucket(0);
        assert_eq!(head.next(), f.link(2));
        assert_eq!(t.find(f.key(0)), Some(f.link(0)));
        assert_eq!(head.next(), f.link(0));
        assert!(t.evict(f.key(0)));
        assert_eq!(head.prev(), f.link(0));
        assert!(!t.evict_at(f.link(0)));
        assert!(t.evict_at(f.link(1)));
        assert_eq!(head.prev(), f.link(1));
        assert_eq!(t.destroy(true), 0);
    }

    #[test]
    fn ephemeral_tables_hold_no_reference() {
        let mut f = Fixture::new(EPHEMERAL, 2, true, 1);
        let t = f.table();
        f.recs[0].refs.store(1, Relaxed);
        let l = f.link(0);
        assert_eq!(t.insert(f.key(0), l, true), 0);
        assert_eq!(f.refs(0), 1);
        let before = FREED.load(Relaxed);
        t.rec_decref(l);
        assert!(l.is_empty(), "the last reference unlinks the record");
        assert!(FREED.load(Relaxed) > before);
        assert_eq!(t.find(f.key(0)), None);
        assert_eq!(t.destroy(false), 0);
    }

    #[test]
    fn ndecref_refuses_non_positive_counts_and_reports_overdraw() {
        let mut f = Fixture::new(0, 2, true, 1);
        let t = f.table();
        let l = f.link(0);
        assert_eq!(t.insert(f.key(0), l, true), 0);
        t.rec_addref(l);
        t.rec_addref(l);
        assert_eq!(t.rec_ndecref(0, l), -(sys::DER_INVAL as c_int));
        assert_eq!(t.rec_ndecref(-3, l), -(sys::DER_INVAL as c_int));
        assert_eq!(t.rec_ndecref(2, l), 0);
        assert_eq!(f.refs(0), 1);
        assert!(t.delete_at(l));
        t.rec_addref(l);
        assert_eq!(t.rec_ndecref(5, l), -(sys::DER_INVAL as c_int));
        assert_eq!(f.refs(0), 0);
        assert_eq!(t.destroy(false), 0);
    }

    #[test]
    fn traverse_stops_at_the_first_nonzero() {
        let mut f = Fixture::new(sys::D_HASH_FT_RWLOCK, 3, true, 20);
        let t = f.table();
        for i in 0..20 {
            let l = f.link(i);
            assert_eq!(t.insert(f.key(i), l, false), 0);
        }
        let mut n = 0;
        assert_eq!(t.traverse(|_| { n += 1; 0 }), 0);
        assert_eq!(n, 20);
        let mut n = 0;
        assert_eq!(t.traverse(|_| { n += 1; if n == 5 { 9 } else { 0 } }), 9);
        assert_eq!(n, 5);
        assert!(t.first().is_some());
        assert_eq!(t.destroy(false), -(sys::DER_BUSY as c_int));
        assert_eq!(t.destroy(true), 0);
        assert_eq!(t.traverse(|_| 0), -(sys::DER_UNINIT as c_int));
        assert_eq!(t.first(), None);
        assert_eq!(t.destroy(true), -(sys::DER_UNINIT as c_int));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let mut t: Box<sys::d_hash_table> = Box::default();
        // SAFETY: a boxed table struct.
        let h = unsafe { Table::from_ptr(&mut *t) }.unwrap();
        let mut o = ops(true);
        assert_eq!(h.create(0, 2, std::ptr::null_mut(), &mut *o, false, true), -(sys::DER_INVAL as c_int));
        assert_eq!(h.create(0, 32, std::ptr::null_mut(), &mut *o, true, true), -(sys::DER_INVAL as c_int));
        assert!(!h.initialised());
    }
}
