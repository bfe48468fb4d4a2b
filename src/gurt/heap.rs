//! Upstream `heap.c`: a binary min-heap of caller nodes (`struct d_binheap_node`), ordered by
//! the caller's `hop_compare`.
//!
//! The node pointers live in upstream's arrangement of `DBH_SIZE`-entry arrays: the first
//! `DBH_SIZE` positions in `d_bh_nodes1`, the next `DBH_SIZE^2` behind the double-indirect
//! `d_bh_nodes2`, the rest behind the triple-indirect `d_bh_nodes3`; the capacity `d_bh_hwm`
//! grows one array at a time. The struct is C's (embedded by callers), so the pointer work is
//! in [`raw`]; sifting and growth policy below are safe code.

use std::ffi::c_int;

use crate::sys;

pub use raw::{Heap, Node};

const SHIFT: u32 = sys::DBH_SHIFT;
const SIZE: u32 = 1 << SHIFT;
const MASK: u32 = SIZE - 1;
const POISON: u32 = sys::DBH_POISON;

fn der(e: sys::daos_errno) -> c_int {
    -(e as c_int)
}

/// Where position `idx` lives: which level, and the indices into each array on the way.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Slot {
    One(u32),
    Two(u32, u32),
    Three(u32, u32, u32),
}

/// Upstream's position arithmetic.
#[inline(always)]
pub fn slot(idx: u32) -> Slot {
    if idx < SIZE {
        return Slot::One(idx);
    }
    let i = idx - SIZE;
    if i < SIZE * SIZE {
        return Slot::Two(i >> SHIFT, i & MASK);
    }
    let i = i - SIZE * SIZE;
    Slot::Three(i >> (2 * SHIFT), (i >> SHIFT) & MASK, i & MASK)
}

mod raw {
    use std::ffi::c_int;
    use std::ptr::{self, addr_of_mut, NonNull};

    use super::{Slot, MASK, SHIFT, SIZE};
    use crate::hash::raw::errno2der;
    use crate::sys;

    type NodeP = *mut sys::d_binheap_node;

    /// A heap. Invariant: points to a live `struct d_binheap`; after `create_inplace` its
    /// arrays cover positions `0..d_bh_hwm`, positions `0..d_bh_nodes_cnt` hold live caller
    /// nodes, `d_bh_ops` points to live callbacks with a compare, and its lock (unless
    /// NOLOCK) is initialised; it is mutated only under that lock (or the caller's own
    /// serialisation for NOLOCK heaps, and during create/destroy).
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub struct Heap(NonNull<sys::d_binheap>);

    /// A caller's node. Invariant: points to a live `struct d_binheap_node`.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub struct Node(NonNull<sys::d_binheap_node>);

    impl Node {
        /// # Safety
        /// `p` must satisfy the [`Node`] invariant while the handle is used.
        pub unsafe fn from_ptr(p: NodeP) -> Option<Node> {
            NonNull::new(p).map(Node)
        }

        pub fn as_ptr(self) -> NodeP {
            self.0.as_ptr()
        }

        #[inline(always)]
        pub fn idx(self) -> u32 {
            // SAFETY: a live node; its index is written only under the heap's lock.
            unsafe { (*self.as_ptr()).chn_idx }
        }

        #[inline(always)]
        pub fn set_idx(self, i: u32) {
            // SAFETY: as for idx.
            unsafe { (*self.as_ptr()).chn_idx = i }
        }
    }

    /// One zeroed indirection array of DBH_SIZE pointers on the libc heap.
    fn new_array<T>() -> Option<*mut *mut T> {
        let p = crate::hash::raw::alloc_zeroed(SIZE as usize, size_of::<*mut T>());
        (!p.is_null()).then_some(p.cast())
    }

    fn free_array<T>(p: *mut T) {
        // SAFETY: arrays come from new_array (libc heap) and are freed once.
        unsafe { libc::free(p.cast()) }
    }

    impl Heap {
        /// # Safety
        /// `p` must satisfy the [`Heap`] invariant (or be storage about to be initialised
        /// by `setup`).
        pub unsafe fn from_ptr(p: *mut sys::d_binheap) -> Option<Heap> {
            NonNull::new(p).map(Heap)
        }

        pub fn as_ptr(self) -> *mut sys::d_binheap {
            self.0.as_ptr()
        }

        fn h(self) -> *mut sys::d_binheap {
            self.0.as_ptr()
        }

        /// Fills in the fields of a fresh heap (no arrays yet).
        pub fn setup(self, feats: u32, priv_: *mut std::ffi::c_void, ops: *mut sys::d_binheap_ops) {
            // SAFETY: the caller hands over the storage for initialisation.
            unsafe {
                let h = self.h();
                (*h).d_bh_ops = ops;
                (*h).d_bh_nodes_cnt = 0;
                (*h).d_bh_hwm = 0;
                (*h).d_bh_priv = priv_;
                (*h).d_bh_feats = feats;
                (*h).d_bh_nodes1 = ptr::null_mut();
                (*h).d_bh_nodes2 = ptr::null_mut();
                (*h).d_bh_nodes3 = ptr::null_mut();
            }
        }

        /// Whether create has run (and destroy has not): the callbacks are set.
        pub fn created(self) -> bool {
            // SAFETY: live heap.
            unsafe { !(*self.h()).d_bh_ops.is_null() }
        }

        #[inline(always)]
        pub fn feats(self) -> u32 {
            // SAFETY: live heap; feats change only in create/destroy.
            unsafe { (*self.h()).d_bh_feats }
        }

        #[inline(always)]
        pub fn count(self) -> u32 {
            // SAFETY: live heap, read under its lock.
            unsafe { (*self.h()).d_bh_nodes_cnt }
        }

        #[inline(always)]
        pub fn set_count(self, n: u32) {
            // SAFETY: live heap, written under its lock.
            unsafe { (*self.h()).d_bh_nodes_cnt = n }
        }

        #[inline(always)]
        pub fn hwm(self) -> u32 {
            // SAFETY: as for count.
            unsafe { (*self.h()).d_bh_hwm }
        }

        /// The lock named by the features: 0 or the DER_* of the pthread error.
        pub fn lock_init(self) -> c_int {
            let f = self.feats();
            if f & sys::DBH_FT_NOLOCK != 0 {
                return 0;
            }
            // SAFETY: the heap's own lock storage, not yet shared.
            let rc = unsafe {
                if f & sys::DBH_FT_RWLOCK != 0 {
                    libc::pthread_rwlock_init(addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_rwlock).cast(), ptr::null())
                } else {
                    libc::pthread_mutex_init(addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_mutex).cast(), ptr::null())
                }
            };
            errno2der(rc)
        }

        pub fn lock_fini(self) {
            let f = self.feats();
            if f & sys::DBH_FT_NOLOCK != 0 {
                return;
            }
            // SAFETY: initialised by lock_init; nobody holds it (destroy's contract).
            unsafe {
                if f & sys::DBH_FT_RWLOCK != 0 {
                    libc::pthread_rwlock_destroy(addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_rwlock).cast());
                } else {
                    libc::pthread_mutex_destroy(addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_mutex).cast());
                }
            }
        }

        #[inline(always)]
        pub fn lock(self, read: bool) {
            let f = self.feats();
            if f & sys::DBH_FT_NOLOCK != 0 {
                return;
            }
            // SAFETY: initialised lock of the feature's kind.
            unsafe {
                if f & sys::DBH_FT_RWLOCK != 0 {
                    let l = addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_rwlock).cast();
                    if read {
                        libc::pthread_rwlock_rdlock(l);
                    } else {
                        libc::pthread_rwlock_wrlock(l);
                    }
                } else {
                    libc::pthread_mutex_lock(addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_mutex).cast());
                }
            }
        }

        #[inline(always)]
        pub fn unlock(self) {
            let f = self.feats();
            if f & sys::DBH_FT_NOLOCK != 0 {
                return;
            }
            // SAFETY: held by this thread.
            unsafe {
                if f & sys::DBH_FT_RWLOCK != 0 {
                    libc::pthread_rwlock_unlock(addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_rwlock).cast());
                } else {
                    libc::pthread_mutex_unlock(addr_of_mut!((*self.h()).__bindgen_anon_1.d_bh_mutex).cast());
                }
            }
        }

        /// The address of position `idx`'s pointer (`idx < hwm`).
        #[inline(always)]
        fn cell(self, idx: u32) -> *mut NodeP {
            debug_assert!(idx < self.hwm());
            // SAFETY: Heap invariant: the arrays cover 0..hwm; `slot` gives in-range indices.
            unsafe {
                let h = self.h();
                match super::slot(idx) {
                    Slot::One(i) => (*h).d_bh_nodes1.add(i as usize),
                    Slot::Two(a, i) => (*(*h).d_bh_nodes2.add(a as usize)).add(i as usize),
                    Slot::Three(a, b, i) => {
                        (*(*(*h).d_bh_nodes3.add(a as usize)).add(b as usize)).add(i as usize)
                    }
                }
            }
        }

        /// The node at `idx` (`idx < count`).
        #[inline(always)]
        pub fn get(self, idx: u32) -> Node {
            // SAFETY: positions below count hold live caller nodes.
            unsafe { Node(NonNull::new_unchecked(*self.cell(idx))) }
        }

        #[inline(always)]
        pub fn put(self, idx: u32, n: Node) {
            // SAFETY: idx < hwm (a covered cell), under the lock.
            unsafe { *self.cell(idx) = n.as_ptr() }
        }

        #[inline(always)]
        pub fn less(self, a: Node, b: Node) -> bool {
            // SAFETY: ops checked at creation to have a compare; the caller's nodes.
            unsafe { ((*(*self.h()).d_bh_ops).hop_compare.unwrap_unchecked())(a.as_ptr(), b.as_ptr()) }
        }

        /// hop_enter's result (0 without the callback).
        pub fn enter(self, n: Node) -> c_int {
            // SAFETY: live ops; the caller's callback with its heap and node.
            unsafe {
                match (*(*self.h()).d_bh_ops).hop_enter {
                    Some(f) => f(self.h(), n.as_ptr()),
                    None => 0,
                }
            }
        }

        pub fn exit(self, n: Node) {
            // SAFETY: as for enter.
            unsafe {
                if let Some(f) = (*(*self.h()).d_bh_ops).hop_exit {
                    f(self.h(), n.as_ptr());
                }
            }
        }

        /// Adds one DBH_SIZE array of capacity (upstream's grow): Err(-DER_NOMEM) on failure.
        pub fn grow(self) -> Result<(), c_int> {
            let nomem = -(sys::DER_NOMEM as c_int);
            let h = self.h();
            let hwm = self.hwm();
            debug_assert_eq!(hwm & MASK, 0);
            // SAFETY: the heap's arrays, under its lock or during creation; each array is
            // allocated before it is linked in, and levels are indexed within DBH_SIZE.
            unsafe {
                if hwm == 0 {
                    (*h).d_bh_nodes1 = new_array().ok_or(nomem)?;
                } else if hwm - SIZE < SIZE * SIZE {
                    let i = hwm - SIZE;
                    let frag: *mut NodeP = new_array().ok_or(nomem)?;
                    if i == 0 {
                        match new_array() {
                            Some(a) => (*h).d_bh_nodes2 = a,
                            None => {
                                free_array(frag);
                                return Err(nomem);
                            }
                        }
                    }
                    *(*h).d_bh_nodes2.add((i >> SHIFT) as usize) = frag;
                } else {
                    let i = hwm - SIZE - SIZE * SIZE;
                    // Position counts are u32: a third level can never fill up.
                    let frag: *mut NodeP = new_array().ok_or(nomem)?;
                    let mut mid: *mut *mut NodeP = ptr::null_mut();
                    if (i >> SHIFT) & MASK == 0 {
                        match new_array() {
                            Some(a) => mid = a,
                            None => {
                                free_array(frag);
                                return Err(nomem);
                            }
                        }
                    }
                    if i == 0 {
                        match new_array() {
                            Some(a) => (*h).d_bh_nodes3 = a,
                            None => {
                                free_array(frag);
                                free_array(mid);
                                return Err(nomem);
                            }
                        }
                    }
                    let top = (*h).d_bh_nodes3.add((i >> (2 * SHIFT)) as usize);
                    if !mid.is_null() {
                        *top = mid;
                    }
                    *(*top).add(((i >> SHIFT) & MASK) as usize) = frag;
                }
                (*h).d_bh_hwm = hwm + SIZE;
            }
            Ok(())
        }

        /// Frees every array, destroys the lock (if `with_lock`: it was initialised) and
        /// zeroes the struct.
        pub fn teardown(self, with_lock: bool) {
            let h = self.h();
            let mut n = self.hwm();
            // SAFETY: the arrays cover 0..hwm as grow built them; the owner serialises
            // destruction.
            unsafe {
                if n > 0 {
                    free_array((*h).d_bh_nodes1);
                    n -= SIZE;
                }
                if n > 0 {
                    let mut a = 0;
                    while a < SIZE && n > 0 {
                        free_array(*(*h).d_bh_nodes2.add(a as usize));
                        n -= SIZE;
                        a += 1;
                    }
                    free_array((*h).d_bh_nodes2);
                }
                if n > 0 {
                    let mut a = 0;
                    while a < SIZE && n > 0 {
                        let mid = *(*h).d_bh_nodes3.add(a as usize);
                        let mut b = 0;
                        while b < SIZE && n > 0 {
                            free_array(*mid.add(b as usize));
                            n -= SIZE;
                            b += 1;
                        }
                        free_array(mid);
                        a += 1;
                    }
                    free_array((*h).d_bh_nodes3);
                }
            }
            if with_lock {
                self.lock_fini();
            }
            // SAFETY: as above; the struct is the caller's.
            unsafe { ptr::write_bytes(h, 0, 1) };
        }

        pub fn alloc() -> Option<Heap> {
            crate::hash::raw::calloc_one::<sys::d_binheap>().map(Heap)
        }

        pub fn dealloc(self) {
            // SAFETY: heaps freed here come from `alloc` (d_binheap_create) on the libc heap.
            unsafe { crate::hash::raw::free_one(self.0) }
        }
    }
}

/// d_binheap_create_inplace (ops already checked to have a compare).
pub fn create(h: Heap, feats: u32, count: u32, priv_: *mut std::ffi::c_void, ops: *mut sys::d_binheap_ops) -> c_int {
    h.setup(feats, priv_, ops);
    while h.hwm() < count {
        if let Err(rc) = h.grow() {
            tracing::error!(target: "mem", "binheap grow failed: {rc}");
            // Only the arrays exist yet: free them without touching the lock.
            h.teardown(false);
            return rc;
        }
    }
    let rc = h.lock_init();
    if rc != 0 {
        tracing::error!(target: "mem", "binheap lock init failed: {rc}");
        h.teardown(false);
    }
    rc
}

#[inline(always)]
pub fn find(h: Heap, idx: u32) -> Option<Node> {
    h.lock(true);
    let n = (idx < h.count()).then(|| h.get(idx));
    h.unlock();
    n
}

/// Moves `e` toward the root; true if it moved.
fn bubble(h: Heap, e: Node) -> bool {
    let mut cur = e.idx();
    let mut moved = false;
    while cur > 0 {
        let parent = (cur - 1) >> 1;
        let p = h.get(parent);
        if h.less(p, e) {
            break;
        }
        p.set_idx(cur);
        h.put(cur, p);
        cur = parent;
        moved = true;
    }
    e.set_idx(cur);
    h.put(cur, e);
    moved
}

/// Moves `e` toward the leaves; true if it moved.
fn sink(h: Heap, e: Node) -> bool {
    let n = h.count();
    let mut cur = e.idx();
    let mut moved = false;
    loop {
        let mut child = (cur << 1) + 1;
        if child >= n {
            break;
        }
        let mut c = h.get(child);
        if child + 1 < n {
            let c2 = h.get(child + 1);
            if h.less(c2, c) {
                child += 1;
                c = c2;
            }
        }
        if h.less(e, c) {
            break;
        }
        c.set_idx(cur);
        h.put(cur, c);
        cur = child;
        moved = true;
    }
    e.set_idx(cur);
    h.put(cur, e);
    moved
}

#[inline(always)]
pub fn insert(h: Heap, e: Node) -> c_int {
    if !h.created() {
        tracing::error!(target: "mem", "binheap {:p} not created", h.as_ptr());
        return der(sys::DER_UNINIT);
    }
    h.lock(false);
    let idx = h.count();
    if idx == h.hwm() {
        if let Err(rc) = h.grow() {
            tracing::error!(target: "mem", "binheap grow failed: {rc}");
            h.unlock();
            return rc;
        }
    }
    let rc = h.enter(e);
    if rc != 0 {
        tracing::error!(target: "mem", "binheap hop_enter failed: {rc}");
        h.unlock();
        return rc;
    }
    e.set_idx(idx);
    h.put(idx, e);
    h.set_count(idx + 1);
    bubble(h, e);
    h.unlock();
    0
}

#[inline(always)]
fn remove_locked(h: Heap, e: Node) {
    let n = h.count();
    let cur = e.idx();
    if cur == POISON || cur >= n || h.get(cur) != e {
        tracing::error!(target: "mem", "binheap node {:p} is not in this heap", e.as_ptr());
        return;
    }
    let last = h.get(n - 1);
    h.set_count(n - 1);
    if last != e {
        last.set_idx(cur);
        h.put(cur, last);
        if !bubble(h, last) {
            sink(h, last);
        }
    }
    e.set_idx(POISON);
    h.exit(e);
}

#[inline(always)]
pub fn remove(h: Heap, e: Node) {
    h.lock(false);
    remove_locked(h, e);
    h.unlock();
}

#[inline(always)]
pub fn remove_root(h: Heap) -> Option<Node> {
    h.lock(false);
    let e = (h.count() > 0).then(|| h.get(0));
    if let Some(e) = e {
        remove_locked(h, e);
    }
    h.unlock();
    e
}

/// Validates an ops table: a compare is mandatory.
pub fn ops_valid(ops: Option<&sys::d_binheap_ops>) -> bool {
    ops.is_some_and(|o| o.hop_compare.is_some())
}

/// The error for invalid arguments.
pub fn einval() -> c_int {
    der(sys::DER_INVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_upstreams_three_levels() {
        assert_eq!(slot(0), Slot::One(0));
        assert_eq!(slot(511), Slot::One(511));
        assert_eq!(slot(512), Slot::Two(0, 0));
        assert_eq!(slot(512 + 513), Slot::Two(1, 1));
        assert_eq!(slot(512 + 512 * 512 - 1), Slot::Two(511, 511));
        assert_eq!(slot(512 + 512 * 512), Slot::Three(0, 0, 0));
        assert_eq!(slot(512 + 512 * 512 + 512 * 512 + 3), Slot::Three(1, 0, 3));
        assert_eq!(slot(u32::MAX), {
            let i = u32::MAX - 512 - 512 * 512;
            Slot::Three(i >> 18, (i >> 9) & 511, i & 511)
        });
    }
}

#[cfg(test)]
mod heap_tests {
    use super::*;

    #[repr(C)]
    struct Item {
        prio: u32,
        node: sys::d_binheap_node,
    }

    unsafe extern "C" fn less(a: *mut sys::d_binheap_node, b: *mut sys::d_binheap_node) -> bool {
        let off = std::mem::offset_of!(Item, node);
        // SAFETY: the test's nodes are inside Items.
        unsafe { (*a.byte_sub(off).cast::<Item>()).prio < (*b.byte_sub(off).cast::<Item>()).prio }
    }

    #[test]
    fn sorts_across_the_second_level() {
        let mut ops = sys::d_binheap_ops { hop_compare: Some(less), ..Default::default() };
        let h = Heap::alloc().unwrap();
        assert_eq!(create(h, sys::DBH_FT_NOLOCK, 0, std::ptr::null_mut(), &mut ops), 0);
        let n = 3 * SIZE + 7;
        let mut items: Vec<Item> =
            (0..n).map(|i| Item { prio: i.wrapping_mul(2654435761) % 10007, node: Default::default() }).collect();
        for it in items.iter_mut() {
            // SAFETY: the items outlive the heap's use of them.
            assert_eq!(insert(h, unsafe { Node::from_ptr(&mut it.node) }.unwrap()), 0);
        }
        assert_eq!(h.count(), n);
        assert_eq!(h.hwm(), 4 * SIZE);
        let mut last = 0;
        for _ in 0..n {
            let e = remove_root(h).unwrap();
            assert_eq!(e.idx(), POISON);
            // SAFETY: as in `less`.
            let p = unsafe { (*e.as_ptr().byte_sub(std::mem::offset_of!(Item, node)).cast::<Item>()).prio };
            assert!(p >= last);
            last = p;
        }
        assert_eq!(remove_root(h), None);
        assert_eq!(find(h, 0), None);
        h.teardown(true);
        h.dealloc();
    }
}
