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

    pub fn insert(self, key: Key, link: Link, exclusive: bool) -> c_int {
        let idx = self.key_idx(key);
        self.lock(idx, false);
        let rc = if exclusive && self.search(idx, key, Lru::Stay).is_some() {
            tracing::debug!(target: "mem", "duplicate key");
            der(sys::DER_EXIST)
        } else {
            self.link_in(idx, link);
            0
        };
        self.unlock(idx);
        rc
    }

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

    pub fn delete_at(self, link: Link) -> bool {
        let locked = self.feats() & NOLOCK == 0;
        let idx = if locked { self.rec_idx(link) } else { 0 };
        if locked {
            self.lock(idx, false);
        }
        let linked = !link.is_empty();
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
        if self.feats() & EPHEMERAL != 0 && !link.is_empty() {
            link.del_init();
        }
        if !link.is_empty() {
            tracing::error!(
                target: "mem",
                "last reference of {:p} dropped while it is still in the table",
                link.as_ptr()
            );
        }
    }

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
                    tracing::debug!(target: "mem", "hash table not empty");
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
