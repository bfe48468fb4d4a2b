//! The one place where the hash table touches C-owned memory.
//!
//! A table is a `struct d_hash_table` that C allocated or embeds; its buckets are circular
//! `d_list_t` lists threaded through records the caller owns; its callbacks are C function
//! pointers. Everything here is a small primitive over those raw pointers, and every other
//! part of the table (`table.rs`, `handles.rs`) is safe code built on these handles:
//!
//! - [`Table`]: a table pointer. Invariant (established by [`Table::from_ptr`]'s caller): it
//!   points to a live `struct d_hash_table` whose `ht_ops` points to live callbacks; once
//!   [`Table::init`] has succeeded, `ht_buckets` holds `1 << ht_bits` heads and `ht_locks` (if
//!   per-bucket locked) as many initialised locks, until [`Table::fini`].
//! - [`Link`]: a `d_list_t` pointer. Invariant (established by [`Link::from_ptr`]'s caller):
//!   it points to a live `d_list_t` that is either initialised (self-linked) or in a well-formed
//!   circular list of live nodes; list surgery happens only under the lock that guards the
//!   list (a bucket lock, the table lock, or the caller's own serialisation for NOLOCK tables).
//! - [`Key`]: a key pointer and size. Invariant: `ptr` is readable for `len` bytes (when the
//!   default djb2 hash reads it) and is whatever the table's callbacks expect.
//! - [`RLink`]: a `struct d_rlink` pointer (the reference-counted link of handles and UUID
//!   records). Invariant: it points to a live `d_rlink`; its count is only touched atomically.

use std::ffi::{c_int, c_uint, c_void};
use std::mem::offset_of;
use std::ptr::{self, addr_of, addr_of_mut, NonNull};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::sys;

pub(crate) const NOLOCK: u32 = sys::D_HASH_FT_NOLOCK;
pub(crate) const MUTEX: u32 = sys::D_HASH_FT_MUTEX;
pub(crate) const RWLOCK: u32 = sys::D_HASH_FT_RWLOCK;
pub(crate) const GLOCK: u32 = sys::D_HASH_FT_GLOCK;

/// Which lock guards a table, from its feature bits, with upstream's precedence.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LockKind {
    None,
    Spin,
    Mutex,
    RwLock,
}

impl LockKind {
    #[inline(always)]
    pub fn of(feats: u32) -> Self {
        if feats & NOLOCK != 0 {
            LockKind::None
        } else if feats & MUTEX != 0 {
            LockKind::Mutex
        } else if feats & RWLOCK != 0 {
            LockKind::RwLock
        } else {
            LockKind::Spin
        }
    }
}

/// A pthread error as the DER_* code gurt's lock macros return (d_errno2der's table).
pub(crate) fn errno2der(rc: c_int) -> c_int {
    let der = match rc {
        0 => return 0,
        libc::EPERM | libc::EACCES => sys::DER_NO_PERM,
        libc::ENOMEM => sys::DER_NOMEM,
        libc::EDQUOT | libc::ENOSPC => sys::DER_NOSPACE,
        libc::EEXIST => sys::DER_EXIST,
        libc::ENOENT => sys::DER_NONEXIST,
        libc::ECANCELED => sys::DER_CANCELED,
        libc::EBUSY => sys::DER_BUSY,
        _ => sys::DER_MISC,
    };
    -(der as c_int)
}

/// Initialises one lock; 0 or upstream's DER_* mapping of the pthread error.
fn lock_init(l: *mut sys::d_hash_lock, kind: LockKind) -> c_int {
    // SAFETY: `l` points to a lock slot of a table being initialised (Table invariant), which
    // nothing else uses yet; the union is at least as large as each pthread type.
    let rc = unsafe {
        match kind {
            LockKind::None => 0,
            LockKind::Spin => libc::pthread_spin_init(l.cast(), libc::PTHREAD_PROCESS_PRIVATE),
            LockKind::Mutex => libc::pthread_mutex_init(l.cast(), ptr::null()),
            LockKind::RwLock => libc::pthread_rwlock_init(l.cast(), ptr::null()),
        }
    };
    errno2der(rc)
}

fn lock_destroy(l: *mut sys::d_hash_lock, kind: LockKind) {
    // SAFETY: `l` was initialised with `kind` by lock_init and no thread holds it (the table
    // is being finalised, which its owner serialises).
    unsafe {
        match kind {
            LockKind::None => {}
            LockKind::Spin => {
                libc::pthread_spin_destroy(l.cast());
            }
            LockKind::Mutex => {
                libc::pthread_mutex_destroy(l.cast());
            }
            LockKind::RwLock => {
                libc::pthread_rwlock_destroy(l.cast());
            }
        }
    }
}

#[inline(always)]
fn lock_take(l: *mut sys::d_hash_lock, kind: LockKind, read: bool) {
    // SAFETY: `l` is an initialised lock of kind `kind` (Table invariant).
    unsafe {
        match kind {
            LockKind::None => {}
            LockKind::Spin => {
                libc::pthread_spin_lock(l.cast());
            }
            LockKind::Mutex => {
                libc::pthread_mutex_lock(l.cast());
            }
            LockKind::RwLock => {
                if read {
                    libc::pthread_rwlock_rdlock(l.cast());
                } else {
                    libc::pthread_rwlock_wrlock(l.cast());
                }
            }
        }
    }
}

#[inline(always)]
fn lock_release(l: *mut sys::d_hash_lock, kind: LockKind) {
    // SAFETY: `l` is an initialised lock of kind `kind` that this thread holds.
    unsafe {
        match kind {
            LockKind::None => {}
            LockKind::Spin => {
                libc::pthread_spin_unlock(l.cast());
            }
            LockKind::Mutex => {
                libc::pthread_mutex_unlock(l.cast());
            }
            LockKind::RwLock => {
                libc::pthread_rwlock_unlock(l.cast());
            }
        }
    }
}

/// A `d_list_t` of a record or a bucket head (see the module invariant).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Link(NonNull<sys::d_list_t>);

impl Link {
    /// # Safety
    /// `p` must satisfy the module's [`Link`] invariant for as long as the handle is used.
    #[inline(always)]
    pub unsafe fn from_ptr(p: *mut sys::d_list_t) -> Option<Link> {
        NonNull::new(p).map(Link)
    }

    #[inline(always)]
    pub fn as_ptr(self) -> *mut sys::d_list_t {
        self.0.as_ptr()
    }

    #[inline(always)]
    pub fn next(self) -> Link {
        // SAFETY: a live, well-formed list node has a non-NULL live `next` (Link invariant).
        Link(unsafe { NonNull::new_unchecked((*self.as_ptr()).next) })
    }

    #[inline(always)]
    pub fn prev(self) -> Link {
        // SAFETY: as for `next`.
        Link(unsafe { NonNull::new_unchecked((*self.as_ptr()).prev) })
    }

    /// Makes this node a list of its own (D_INIT_LIST_HEAD).
    #[inline(always)]
    pub fn init(self) {
        let p = self.as_ptr();
        // SAFETY: `p` is live and the caller holds whatever guards it.
        unsafe {
            (*p).next = p;
            (*p).prev = p;
        }
    }

    /// True when the node is linked to nothing but itself (d_list_empty).
    #[inline(always)]
    pub fn is_empty(self) -> bool {
        // SAFETY: reading `next` of a live node.
        unsafe { (*self.as_ptr()).next == self.as_ptr() }
    }

    /// True when the node is in a list with others: not self-linked, and not a zeroed (never
    /// initialised) node either, which C sometimes hands over and must not be unlinked.
    #[inline(always)]
    pub fn is_linked(self) -> bool {
        // SAFETY: reading the pointers of a live node.
        unsafe {
            let n = (*self.as_ptr()).next;
            !n.is_null() && n != self.as_ptr() && !(*self.as_ptr()).prev.is_null()
        }
    }

    /// Links `self` between `prev` and `next`, which are adjacent.
    #[inline(always)]
    fn splice_in(self, prev: Link, next: Link) {
        let (n, p, x) = (self.as_ptr(), prev.as_ptr(), next.as_ptr());
        // SAFETY: all three are live nodes; `prev` and `next` are adjacent in a list guarded
        // by the lock the caller holds; `self` is not in a list (or was just unlinked).
        unsafe {
            (*x).prev = n;
            (*n).next = x;
            (*n).prev = p;
            (*p).next = n;
        }
    }

    /// Inserts `self` right after `head` (d_list_add).
    #[inline(always)]
    pub fn add_after(self, head: Link) {
        self.splice_in(head, head.next());
    }

    /// Inserts `self` right before `head`, i.e. at the tail of its list (d_list_add_tail).
    #[inline(always)]
    pub fn add_before(self, head: Link) {
        self.splice_in(head.prev(), head);
    }

    /// Unlinks `self` from its list, leaving its own pointers as they were (d_list_del).
    #[inline(always)]
    pub fn unlink(self) {
        let (p, n) = (self.prev().as_ptr(), self.next().as_ptr());
        // SAFETY: neighbours of a live node in a well-formed list are live; the caller holds
        // the list's lock.
        unsafe {
            (*n).prev = p;
            (*p).next = n;
        }
    }

    /// Unlinks `self` and makes it a list of its own (d_list_del_init).
    #[inline(always)]
    pub fn del_init(self) {
        self.unlink();
        self.init();
    }

    /// Sets both pointers to NULL (what d_slab_acquire hands out).
    pub fn clear(self) {
        // SAFETY: `self` is live and has just been unlinked by the caller.
        unsafe {
            (*self.as_ptr()).next = ptr::null_mut();
            (*self.as_ptr()).prev = ptr::null_mut();
        }
    }
}

/// A key as the caller passed it (see the module invariant).
#[derive(Clone, Copy)]
pub struct Key {
    ptr: *const c_void,
    len: c_uint,
}

impl Key {
    /// # Safety
    /// `ptr` must be readable for `len` bytes and be what the table's callbacks expect.
    #[inline(always)]
    pub unsafe fn new(ptr: *const c_void, len: c_uint) -> Key {
        Key { ptr, len }
    }

    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: Key invariant: `ptr` is readable for `len` bytes.
        unsafe { std::slice::from_raw_parts(self.ptr.cast(), self.len as usize) }
    }
}

/// A table pointer (see the module invariant).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Table(NonNull<sys::d_hash_table>);

// SAFETY: a table is shared between threads by design; its mutable state is guarded by its
// locks (or by the caller, for NOLOCK tables), exactly as upstream's C table.
unsafe impl Send for Table {}
unsafe impl Sync for Table {}

impl Table {
    /// # Safety
    /// `p` must satisfy the module's [`Table`] invariant for as long as the handle is used.
    #[inline(always)]
    pub unsafe fn from_ptr(p: *mut sys::d_hash_table) -> Option<Table> {
        NonNull::new(p).map(Table)
    }

    #[inline(always)]
    pub fn as_ptr(self) -> *mut sys::d_hash_table {
        self.0.as_ptr()
    }

    #[inline(always)]
    pub fn feats(self) -> u32 {
        // SAFETY: live table; ht_feats changes only in init/fini, which their caller serialises.
        unsafe { (*self.as_ptr()).ht_feats }
    }

    #[inline(always)]
    pub fn bits(self) -> u32 {
        // SAFETY: as for feats.
        unsafe { (*self.as_ptr()).ht_bits }
    }

    #[inline(always)]
    pub fn priv_ptr(self) -> *mut c_void {
        // SAFETY: as for feats.
        unsafe { (*self.as_ptr()).ht_priv }
    }

    #[inline(always)]
    fn ops(self) -> &'static sys::d_hash_table_ops_t {
        // SAFETY: Table invariant: ht_ops points to callbacks that outlive the table and that
        // nobody writes while it is in use.
        unsafe { &*(*self.as_ptr()).ht_ops }
    }

    #[inline(always)]
    fn has_buckets(self) -> bool {
        // SAFETY: live table.
        unsafe { !(*self.as_ptr()).ht_buckets.is_null() }
    }

    /// Whether init has run and fini has not (the buckets exist).
    #[inline(always)]
    pub fn initialised(self) -> bool {
        self.has_buckets()
    }

    /// The head of bucket `idx` (`idx < 1 << bits`).
    #[inline(always)]
    pub fn bucket(self, idx: u32) -> Link {
        debug_assert!(idx < 1 << self.bits());
        // SAFETY: Table invariant: after init, ht_buckets holds 1 << ht_bits heads; idx is
        // masked by the caller.
        unsafe {
            let b = (*self.as_ptr()).ht_buckets.add(idx as usize);
            Link(NonNull::new_unchecked(addr_of_mut!((*b).hb_head)))
        }
    }

    #[inline(always)]
    fn lock_ptr(self, feats: u32, idx: u32) -> *mut sys::d_hash_lock {
        if feats & GLOCK != 0 {
            // SAFETY: live table.
            unsafe { addr_of_mut!((*self.as_ptr()).ht_lock) }
        } else {
            // SAFETY: per-bucket locked tables have 1 << ht_bits locks after init.
            unsafe { (*self.as_ptr()).ht_locks.add(idx as usize) }
        }
    }

    /// Takes the lock guarding bucket `idx` (shared if `read` and the lock is a rwlock).
    #[inline(always)]
    pub fn lock(self, idx: u32, read: bool) {
        let f = self.feats();
        let kind = LockKind::of(f);
        if kind != LockKind::None {
            lock_take(self.lock_ptr(f, idx), kind, read);
        }
    }

    #[inline(always)]
    pub fn unlock(self, idx: u32) {
        let f = self.feats();
        let kind = LockKind::of(f);
        if kind != LockKind::None {
            lock_release(self.lock_ptr(f, idx), kind);
        }
    }

    // The callbacks. Each calls a C function pointer with the table and a link of it.

    #[inline(always)]
    pub fn key_cmp(self, link: Link, key: Key) -> bool {
        match self.ops().hop_key_cmp {
            // SAFETY: the callback is the caller's, given its own table, record and key.
            Some(f) => unsafe { f(self.as_ptr(), link.as_ptr(), key.ptr, key.len) },
            None => false,
        }
    }

    pub fn has_key_cmp(self) -> bool {
        self.ops().hop_key_cmp.is_some()
    }

    pub fn has_key_init(self) -> bool {
        self.ops().hop_key_init.is_some()
    }

    pub fn has_rec_hash(self) -> bool {
        self.ops().hop_rec_hash.is_some()
    }

    // `arg` is passed through to the caller's callback, never dereferenced here.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn key_init(self, link: Link, arg: *mut c_void) {
        if let Some(f) = self.ops().hop_key_init {
            // SAFETY: as for key_cmp; `arg` is the caller's, passed through.
            unsafe { f(self.as_ptr(), link.as_ptr(), arg) }
        }
    }

    /// The key's 32-bit hash: the table's hop_key_hash, else djb2 over the key bytes.
    #[inline(always)]
    pub fn key_hash(self, key: Key) -> u32 {
        match self.ops().hop_key_hash {
            // SAFETY: as for key_cmp.
            Some(f) => unsafe { f(self.as_ptr(), key.ptr, key.len) },
            None => super::djb2(key.bytes()),
        }
    }

    /// The record's hash from hop_rec_hash (0 without it: NOLOCK/GLOCK tables use one lock).
    #[inline(always)]
    pub fn rec_hash(self, link: Link) -> u32 {
        match self.ops().hop_rec_hash {
            // SAFETY: as for key_cmp.
            Some(f) => unsafe { f(self.as_ptr(), link.as_ptr()) },
            None => 0,
        }
    }

    #[inline(always)]
    pub fn addref(self, link: Link) {
        if let Some(f) = self.ops().hop_rec_addref {
            // SAFETY: as for key_cmp.
            unsafe { f(self.as_ptr(), link.as_ptr()) }
        }
    }

    #[inline(always)]
    pub fn decref(self, link: Link) -> bool {
        match self.ops().hop_rec_decref {
            // SAFETY: as for key_cmp.
            Some(f) => unsafe { f(self.as_ptr(), link.as_ptr()) },
            None => false,
        }
    }

    /// hop_rec_ndecref's result, or None when the table has no such callback.
    pub fn ndecref(self, link: Link, count: c_int) -> Option<c_int> {
        // SAFETY: as for key_cmp.
        self.ops().hop_rec_ndecref.map(|f| unsafe { f(self.as_ptr(), link.as_ptr(), count) })
    }

    #[inline(always)]
    pub fn free(self, link: Link) {
        if let Some(f) = self.ops().hop_rec_free {
            // SAFETY: as for key_cmp; the record is out of the table and unreferenced.
            unsafe { f(self.as_ptr(), link.as_ptr()) }
        }
    }

    /// Fills in the table and allocates its buckets and locks (d_hash_table_create_inplace).
    /// On failure nothing stays allocated. Returns 0 or a negative DER_* code.
    pub fn init(
        self,
        feats: u32,
        bits: u32,
        priv_: *mut c_void,
        ops: *mut sys::d_hash_table_ops_t,
        glock: bool,
    ) -> c_int {
        let nr = 1usize << bits;
        let t = self.as_ptr();
        // SAFETY: `t` is a live table struct the caller hands over for initialisation; the
        // arrays come from the libc heap (C may free them, as d_free is free) and are sized
        // for `nr` elements before being indexed.
        unsafe {
            (*t).ht_feats = if glock { feats | GLOCK } else { feats };
            (*t).ht_bits = bits;
            (*t).ht_ops = ops;
            (*t).ht_priv = priv_;
            (*t).ht_locks = ptr::null_mut();
            let buckets =
                alloc_zeroed(nr, size_of::<sys::d_hash_bucket>()) as *mut sys::d_hash_bucket;
            (*t).ht_buckets = buckets;
            if buckets.is_null() {
                return -(sys::DER_NOMEM as c_int);
            }
            for i in 0..nr {
                let h = addr_of_mut!((*buckets.add(i)).hb_head);
                (*h).next = h;
                (*h).prev = h;
            }
            let f = (*t).ht_feats;
            let kind = LockKind::of(f);
            if kind == LockKind::None {
                return 0;
            }
            if f & GLOCK != 0 {
                let rc = lock_init(addr_of_mut!((*t).ht_lock), kind);
                if rc != 0 {
                    libc::free(buckets.cast());
                    (*t).ht_buckets = ptr::null_mut();
                }
                return rc;
            }
            let locks =
                alloc_zeroed(nr, size_of::<sys::d_hash_lock>()) as *mut sys::d_hash_lock;
            if locks.is_null() {
                libc::free(buckets.cast());
                (*t).ht_buckets = ptr::null_mut();
                return -(sys::DER_NOMEM as c_int);
            }
            for i in 0..nr {
                let rc = lock_init(locks.add(i), kind);
                if rc != 0 {
                    for j in (0..i).rev() {
                        lock_destroy(locks.add(j), kind);
                    }
                    libc::free(locks.cast());
                    libc::free(buckets.cast());
                    (*t).ht_buckets = ptr::null_mut();
                    return rc;
                }
            }
            (*t).ht_locks = locks;
        }
        0
    }

    /// Destroys the locks, frees the arrays and zeroes the struct (the records are gone).
    pub fn fini(self) {
        let t = self.as_ptr();
        let f = self.feats();
        let kind = LockKind::of(f);
        let nr = 1usize << self.bits();
        // SAFETY: the table was initialised and its owner serialises finalisation; every
        // array freed here came from libc::calloc in init.
        unsafe {
            if kind != LockKind::None {
                if f & GLOCK != 0 {
                    lock_destroy(addr_of_mut!((*t).ht_lock), kind);
                } else {
                    let locks = (*t).ht_locks;
                    for i in 0..nr {
                        lock_destroy(locks.add(i), kind);
                    }
                    libc::free(locks.cast());
                }
            }
            libc::free((*t).ht_buckets.cast());
            ptr::write_bytes(t, 0, 1);
        }
    }
}

/// A reference-counted link (see the module invariant).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RLink(NonNull<sys::d_rlink>);

impl RLink {
    /// # Safety
    /// `p` must satisfy the module's [`RLink`] invariant for as long as the handle is used.
    #[inline(always)]
    pub unsafe fn from_ptr(p: *mut sys::d_rlink) -> Option<RLink> {
        NonNull::new(p).map(RLink)
    }

    pub fn as_ptr(self) -> *mut sys::d_rlink {
        self.0.as_ptr()
    }

    /// The rlink whose `rl_link` is `link` (container_of).
    ///
    /// # Safety
    /// `link` must be the `rl_link` of a live `d_rlink` (handle and UUID tables only ever link
    /// those).
    #[inline(always)]
    pub unsafe fn of_link(link: Link) -> RLink {
        // SAFETY: rl_link is at offset 0 of d_rlink; by the contract the containing struct
        // is a live d_rlink.
        RLink(unsafe {
            NonNull::new_unchecked(
                link.as_ptr().byte_sub(offset_of!(sys::d_rlink, rl_link)).cast(),
            )
        })
    }

    pub fn link(self) -> Link {
        // SAFETY: rl_link of a live d_rlink is a live list node.
        Link(unsafe { NonNull::new_unchecked(addr_of_mut!((*self.as_ptr()).rl_link)) })
    }

    #[inline(always)]
    fn refcount(&self) -> &AtomicU32 {
        // SAFETY: rl_ref is an aligned u32 (C's `_Atomic uint32_t`) that every party accesses
        // atomically only.
        unsafe { AtomicU32::from_ptr(addr_of_mut!((*self.as_ptr()).rl_ref)) }
    }

    /// Initialises: self-linked list, initialised flag, one reference for the caller.
    pub fn init(self) {
        self.link().init();
        // SAFETY: the caller is initialising its own link; nobody else sees it yet.
        unsafe { sys::d_rlink::set_rl_initialized_raw(self.as_ptr(), 1) };
        self.refcount().store(1, Relaxed);
    }

    pub fn initialised(self) -> bool {
        // SAFETY: reading the flag of a live d_rlink.
        unsafe { sys::d_rlink::rl_initialized_raw(self.as_ptr()) != 0 }
    }

    #[inline(always)]
    pub fn refs(self) -> u32 {
        self.refcount().load(Relaxed)
    }

    #[inline(always)]
    pub fn addref(self) {
        self.refcount().fetch_add(1, Relaxed);
    }

    /// Drops one reference; true when it was the last. A count already at zero stays there
    /// (upstream asserts), and the drop is reported as not-last.
    #[inline(always)]
    pub fn decref(self) -> bool {
        match self.refcount().fetch_update(Relaxed, Relaxed, |r| r.checked_sub(1)) {
            Ok(old) => old == 1,
            Err(_) => {
                tracing::error!(target: "mem", "reference count underflow on rlink {:p}", self.0);
                false
            }
        }
    }
}

/// The private part of a handle table: upstream keeps a cookie counter and a pointer-mode flag
/// beside the embedded generic table. C sees only `struct d_hhash *`.
#[repr(C)]
pub struct HHash {
    pub cookie: std::sync::atomic::AtomicU64,
    /// The generic table (C and the table code write it through raw pointers).
    pub table: std::cell::UnsafeCell<sys::d_hash_table>,
    /// Pointer mode (C's bool; atomic so shared references may read it while it is set).
    pub ptrtype: std::sync::atomic::AtomicBool,
}

impl HHash {
    /// The handle table that embeds `t`.
    ///
    /// # Safety
    /// `t` must be the `table` of a live [`HHash`] (handle tables install callbacks that are
    /// only ever called with their own table).
    pub unsafe fn of_table<'a>(t: Table) -> &'a HHash {
        // SAFETY: by the contract `t` sits at offset_of!(HHash, table) inside a live HHash.
        unsafe { &*t.as_ptr().byte_sub(offset_of!(HHash, table)).cast::<HHash>() }
    }
}

/// Pointers into a `struct d_hlink`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HLink(NonNull<sys::d_hlink>);

impl HLink {
    /// # Safety
    /// `p` must point to a live `struct d_hlink` while the handle is used.
    pub unsafe fn from_ptr(p: *mut sys::d_hlink) -> Option<HLink> {
        NonNull::new(p).map(HLink)
    }

    /// # Safety
    /// `r` must be the `hl_link` of a live `struct d_hlink`.
    pub unsafe fn of_rlink(r: RLink) -> HLink {
        // SAFETY: by the contract.
        HLink(unsafe {
            NonNull::new_unchecked(r.as_ptr().byte_sub(offset_of!(sys::d_hlink, hl_link)).cast())
        })
    }

    pub fn as_ptr(self) -> *mut sys::d_hlink {
        self.0.as_ptr()
    }

    pub fn rlink(self) -> RLink {
        // SAFETY: hl_link of a live d_hlink is a live d_rlink.
        RLink(unsafe { NonNull::new_unchecked(addr_of_mut!((*self.as_ptr()).hl_link)) })
    }

    pub fn key(self) -> u64 {
        // SAFETY: live d_hlink; hl_key is written only by insert, which the caller serialises.
        unsafe { ptr::read(addr_of!((*self.as_ptr()).hl_key)) }
    }

    pub fn set_key(self, k: u64) {
        // SAFETY: as for key.
        unsafe { ptr::write(addr_of_mut!((*self.as_ptr()).hl_key), k) }
    }

    pub fn set_ops(self, ops: *mut sys::d_hlink_ops) {
        // SAFETY: the caller initialises its own handle.
        unsafe { (*self.as_ptr()).hl_ops = ops }
    }

    /// Calls the handle's hop_free, if any.
    pub fn call_free(self) {
        // SAFETY: hl_ops is NULL or points to the caller's live ops; the callback gets the
        // handle, which has no reference left.
        unsafe {
            let ops = (*self.as_ptr()).hl_ops;
            if let Some(f) = ops.as_ref().and_then(|o| o.hop_free) {
                f(self.as_ptr())
            }
        }
    }
}

/// Pointers into a `struct d_ulink`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ULink(NonNull<sys::d_ulink>);

impl ULink {
    /// # Safety
    /// `p` must point to a live `struct d_ulink` while the handle is used.
    pub unsafe fn from_ptr(p: *mut sys::d_ulink) -> Option<ULink> {
        NonNull::new(p).map(ULink)
    }

    /// # Safety
    /// `r` must be the `ul_link` of a live `struct d_ulink`.
    pub unsafe fn of_rlink(r: RLink) -> ULink {
        // SAFETY: by the contract.
        ULink(unsafe {
            NonNull::new_unchecked(r.as_ptr().byte_sub(offset_of!(sys::d_ulink, ul_link)).cast())
        })
    }

    pub fn as_ptr(self) -> *mut sys::d_ulink {
        self.0.as_ptr()
    }

    pub fn rlink(self) -> RLink {
        // SAFETY: ul_link of a live d_ulink is a live d_rlink.
        RLink(unsafe { NonNull::new_unchecked(addr_of_mut!((*self.as_ptr()).ul_link)) })
    }

    pub fn uuid(self) -> [u8; 16] {
        // SAFETY: live d_ulink; ul_uuid is written only by insert, before the link is shared.
        unsafe { (*self.as_ptr()).ul_uuid.uuid }
    }

    pub fn set_uuid(self, u: [u8; 16]) {
        // SAFETY: as for uuid.
        unsafe { (*self.as_ptr()).ul_uuid.uuid = u }
    }

    pub fn set_ops(self, ops: *mut sys::d_ulink_ops) {
        // SAFETY: the caller initialises its own link.
        unsafe { (*self.as_ptr()).ul_ops = ops }
    }

    /// The extra comparison of the link's ops (true without one).
    // `cmp_args` is passed through to the caller's callback, never dereferenced here.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn call_cmp(self, cmp_args: *mut c_void) -> bool {
        // SAFETY: ul_ops is NULL or the caller's live ops.
        unsafe {
            match (*self.as_ptr()).ul_ops.as_ref().and_then(|o| o.uop_cmp) {
                Some(f) => f(self.as_ptr(), cmp_args),
                None => true,
            }
        }
    }

    pub fn call_free(self) {
        // SAFETY: ul_ops is NULL or the caller's live ops; the link has no reference left.
        unsafe {
            if let Some(f) = (*self.as_ptr()).ul_ops.as_ref().and_then(|o| o.uop_free) {
                f(self.as_ptr())
            }
        }
    }
}

/// The key UUID tables pass through the generic table: the UUID and the lookup's extra
/// comparison argument (upstream's `struct d_uhash_bundle`).
#[repr(C)]
pub struct UuidKey {
    pub uuid: *const sys::d_uuid,
    pub cmp_args: *mut c_void,
}

impl UuidKey {
    /// The key a UUID table's callback received.
    ///
    /// # Safety
    /// `key` must be the [`UuidKey`] that the d_uhash functions passed (UUID tables are only
    /// reached through them), with `uuid` pointing to a live UUID.
    pub unsafe fn from_key<'a>(key: *const c_void) -> (&'a [u8; 16], *mut c_void) {
        // SAFETY: by the contract.
        unsafe {
            let k = &*key.cast::<UuidKey>();
            (&(*k.uuid).uuid, k.cmp_args)
        }
    }
}

/// Every allocation of the hash tables, heaps and slabs: zeroed, on the libc heap (C may free
/// what gurt hands it; d_free is free), NULL on failure. Upstream's D_ALLOC also consults
/// the memory fault-injection attribute; that hook belongs here.
pub fn alloc_zeroed(n: usize, size: usize) -> *mut c_void {
    // SAFETY: calloc has no preconditions and checks n * size for overflow.
    unsafe { libc::calloc(n, size) }
}

/// A zeroed `T` on the libc heap (C may free what gurt hands it, and d_free is free).
pub fn calloc_one<T>() -> Option<NonNull<T>> {
    // SAFETY: calloc has no preconditions; the result is NULL or a zeroed, suitably aligned
    // block of size_of::<T>() bytes (malloc alignment covers every type used here).
    NonNull::new(alloc_zeroed(1, size_of::<T>()).cast())
}

/// Frees what [`calloc_one`] (or C's calloc) returned.
///
/// # Safety
/// `p` must come from the libc heap and not be used afterwards.
pub unsafe fn free_one<T>(p: NonNull<T>) {
    // SAFETY: by the contract.
    unsafe { libc::free(p.as_ptr().cast()) }
}
