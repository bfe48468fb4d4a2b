//! The entry log (upstream `raft_log.c`): a ring of `raft_entry_t` holding the entries after a
//! compacted base `(base, base_term)`. Entries are handed to C in place (pointers into the
//! ring), in batches that never wrap, because the log callbacks take arrays.
//!
//! [`LogH`] is the C handle (`log_t *`). Operations that call back into C (offer, pop, poll)
//! never hold a borrow of the log across the call: the callback may reach the same log through
//! the server.

// Entries and messages arrive as C pointers whose validity is the C caller's contract (raft.h),
// checked for NULL at the boundary; the handles document the same for the server and log.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use crate::raft_server::Srv;
use crate::sys::{raft_cbs_t, raft_entry_t, raft_index_t, raft_term_t, RAFT_ERR_NOMEM};
use std::ffi::{c_int, c_void};
use std::ptr;

/// Capacity of `log_new`.
pub const INITIAL_CAPACITY: raft_index_t = 10;

/// The log's state.
#[derive(Debug)]
pub struct Log {
    /// Capacity of `entries`, in entries.
    size: raft_index_t,
    /// Entries held.
    count: raft_index_t,
    /// Ring position of the oldest entry held (index `base + 1`).
    front: raft_index_t,
    /// Index of the last compacted entry (0: nothing compacted).
    base: raft_index_t,
    base_term: raft_term_t,
    /// `size` entries from the libc heap (calloc), or NULL before the first allocation.
    entries: *mut raft_entry_t,
    cb: *const raft_cbs_t,
    raft: *mut c_void,
}

impl Log {
    fn has_idx(&self, idx: raft_index_t) -> bool {
        self.base < idx && idx <= self.base + self.count
    }

    /// Ring position of index `idx`.
    fn subscript(&self, idx: raft_index_t) -> raft_index_t {
        // front < size and callers stay within one ring length of it, so one subtraction
        // usually replaces the division.
        let x = self.front + (idx - (self.base + 1));
        if 0 <= x && x < self.size {
            x
        } else if self.size <= x && x < 2 * self.size {
            x - self.size
        } else {
            x % self.size
        }
    }

    /// How many of the `n` entries from `idx` upwards lie contiguously in the ring.
    fn batch_up(&self, idx: raft_index_t, n: raft_index_t) -> c_int {
        assert!(n > 0);
        let lo = self.subscript(idx);
        let hi = self.subscript(idx + n - 1);
        let m = if lo <= hi {
            hi - lo + 1
        } else {
            self.size - lo
        };
        m.min(c_int::MAX as raft_index_t) as c_int
    }

    /// How many of the `n` entries from `idx` downwards lie contiguously in the ring.
    fn batch_down(&self, idx: raft_index_t, n: raft_index_t) -> c_int {
        assert!(n > 0);
        let hi = self.subscript(idx);
        let lo = self.subscript(idx - n + 1);
        let m = if lo <= hi { hi - lo + 1 } else { hi + 1 };
        m.min(c_int::MAX as raft_index_t) as c_int
    }

    /// The slot at ring position `sub` (< size).
    fn slot(&self, sub: raft_index_t) -> *mut raft_entry_t {
        debug_assert!(0 <= sub && sub < self.size);
        self.entries.wrapping_add(sub as usize)
    }

    /// Room for `n` more entries, doubling the ring and straightening it when it grows.
    fn ensure_capacity(&mut self, n: c_int) -> c_int {
        let need = self.count + n as raft_index_t;
        if need <= self.size {
            return 0;
        }
        let mut newsize = self.size.max(1);
        while newsize < need {
            newsize *= 2;
        }
        // SAFETY: calloc of newsize entries (a zeroed raft_entry_t is valid).
        let temp = unsafe { libc::calloc(newsize as usize, size_of::<raft_entry_t>()) }
            as *mut raft_entry_t;
        if temp.is_null() {
            return RAFT_ERR_NOMEM;
        }
        if self.count > 0 {
            let k = self.size - self.front;
            let (first, second) = if self.count <= k {
                (self.count, 0)
            } else {
                (k, self.count - k)
            };
            // SAFETY: the ring holds `count` entries from `front`, wrapping at `size`; temp has
            // room for newsize >= count; the two buffers are distinct allocations.
            unsafe {
                ptr::copy_nonoverlapping(self.slot(self.front), temp, first as usize);
                ptr::copy_nonoverlapping(self.entries, temp.add(first as usize), second as usize);
            }
        }
        // SAFETY: entries came from calloc (or is NULL).
        unsafe { libc::free(self.entries.cast()) };
        self.size = newsize;
        self.entries = temp;
        self.front = 0;
        0
    }

    fn clear(&mut self) {
        self.count = 0;
        self.front = 0;
        self.base = 0;
        self.base_term = 0;
    }

    /// The callbacks and server pointer, for the calls out.
    fn target(&self) -> (*const raft_cbs_t, *mut c_void) {
        (self.cb, self.raft)
    }
}

/// The C handle of a [`Log`] (`log_t *`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct LogH(pub *mut Log);

/// Which batch callback to call.
#[derive(Clone, Copy)]
enum Event {
    Offer,
    Poll,
    Pop,
}

/// Calls a batch callback if it is set; 0 when it is not.
fn call(
    cb: *const raft_cbs_t,
    raft: *mut c_void,
    ev: Event,
    ptr: *mut raft_entry_t,
    idx: raft_index_t,
    k: &mut c_int,
) -> c_int {
    if cb.is_null() {
        return 0;
    }
    // SAFETY: cb was given by log_set_callbacks and outlives the log (the server's own table,
    // or a caller's, as upstream requires).
    let f = unsafe {
        match ev {
            Event::Offer => (*cb).log_offer,
            Event::Poll => (*cb).log_poll,
            Event::Pop => (*cb).log_pop,
        }
    };
    match f {
        // SAFETY: a C callback called as raft.h documents it; `ptr` points to `*k` entries of
        // the ring, which the callee may modify.
        Some(f) => unsafe { f(raft.cast(), Srv::from_raw(raft).udata(), ptr, idx, k) },
        None => 0,
    }
}

impl LogH {
    /// A log with room for `initial_size` entries; None when out of memory.
    pub fn alloc(initial_size: raft_index_t) -> Option<LogH> {
        let mut log = Log {
            size: initial_size,
            count: 0,
            front: 0,
            base: 0,
            base_term: 0,
            entries: ptr::null_mut(),
            cb: ptr::null(),
            raft: ptr::null_mut(),
        };
        let n = initial_size.max(1) as usize;
        // SAFETY: calloc of n entries.
        log.entries = unsafe { libc::calloc(n, size_of::<raft_entry_t>()) } as *mut raft_entry_t;
        if log.entries.is_null() {
            return None;
        }
        Some(LogH(Box::into_raw(Box::new(log))))
    }

    /// Runs `f` on the log; the borrow ends before any call out to C.
    #[inline(always)]
    fn with<R>(self, f: impl FnOnce(&mut Log) -> R) -> R {
        assert!(!self.0.is_null(), "NULL raft log");
        // SAFETY: a non-NULL handle is one of ours (LogH::alloc) not yet freed, per the C API
        // contract; the borrow is confined to `f`, which does not call out to C.
        f(unsafe { &mut *self.0 })
    }

    pub fn free(self) {
        if self.0.is_null() {
            return;
        }
        // SAFETY: as in `with`; the caller gives up the handle. entries came from calloc.
        let log = unsafe { Box::from_raw(self.0) };
        unsafe { libc::free(log.entries.cast()) };
    }

    pub fn set_callbacks(self, cb: *const raft_cbs_t, raft: *mut c_void) {
        self.with(|l| {
            l.cb = cb;
            l.raft = raft;
        })
    }

    pub fn clear(self) {
        self.with(Log::clear)
    }

    pub fn empty(self) {
        self.with(|l| {
            l.front = 0;
            l.count = 0;
        })
    }

    pub fn load_from_snapshot(self, idx: raft_index_t, term: raft_term_t) {
        self.with(|l| {
            l.clear();
            l.base = idx;
            l.base_term = term;
        })
    }

    pub fn count(self) -> raft_index_t {
        self.with(|l| l.count)
    }
    pub fn size(self) -> raft_index_t {
        self.with(|l| l.size)
    }
    pub fn base(self) -> raft_index_t {
        self.with(|l| l.base)
    }
    pub fn base_term(self) -> raft_term_t {
        self.with(|l| l.base_term)
    }
    pub fn current_idx(self) -> raft_index_t {
        self.with(|l| l.base + l.count)
    }

    /// The entries from `idx` on that are contiguous in memory, and how many; (NULL, 0) when
    /// `idx` is not held.
    pub fn get_from_idx(self, idx: raft_index_t) -> (*mut raft_entry_t, c_int) {
        self.with(|l| {
            if !l.has_idx(idx) {
                return (ptr::null_mut(), 0);
            }
            let n = l.batch_up(idx, l.base + l.count - idx + 1);
            (l.slot(l.subscript(idx)), n)
        })
    }

    pub fn get_at_idx(self, idx: raft_index_t) -> *mut raft_entry_t {
        self.with(|l| {
            if l.has_idx(idx) {
                l.slot(l.subscript(idx))
            } else {
                ptr::null_mut()
            }
        })
    }

    pub fn peektail(self) -> *mut raft_entry_t {
        self.with(|l| {
            if l.count == 0 {
                ptr::null_mut()
            } else {
                l.slot(l.subscript(l.base + l.count))
            }
        })
    }

    /// Appends `*n` entries copied from `ety`, batch by batch through log_offer (which may keep
    /// fewer); each kept batch has its membership effect applied. `*n` becomes the number kept
    /// when the callback fails.
    pub fn append(self, ety: *const raft_entry_t, n: &mut c_int) -> c_int {
        let e = self.with(|l| l.ensure_capacity(*n));
        if e != 0 {
            return e;
        }
        let mut i: c_int = 0;
        while i < *n {
            let (ptr, idx, mut k, cb, raft) = self.with(|l| {
                let idx = l.base + l.count + 1;
                let k = l.batch_up(idx, (*n - i) as raft_index_t);
                let ptr = l.slot(l.subscript(idx));
                // SAFETY: ety holds *n entries (caller's contract); the ring has room for k
                // entries at ptr (ensure_capacity, batch_up); C's array is not our ring.
                unsafe { ptr::copy_nonoverlapping(ety.add(i as usize), ptr, k as usize) };
                let (cb, raft) = l.target();
                (ptr, idx, k, cb, raft)
            });
            let batch = k;
            let e = call(cb, raft, Event::Offer, ptr, idx, &mut k);
            if k > 0 {
                self.with(|l| l.count += k as raft_index_t);
                i += k;
                Srv::from_raw(raft).offer_log(ptr, k, idx);
            }
            if e != 0 {
                *n = i;
                return e;
            }
            assert_eq!(batch, k, "log_offer kept part of a batch without an error");
        }
        0
    }

    /// Removes `idx` and every newer entry, newest batch first, through log_pop.
    pub fn delete(self, idx: raft_index_t) -> c_int {
        if !self.with(|l| l.has_idx(idx)) {
            return -1;
        }
        loop {
            let step = self.with(|l| {
                let last = l.base + l.count;
                if idx > last {
                    return None;
                }
                let k = l.batch_down(last, last - idx + 1);
                let start_idx = last - k as raft_index_t + 1;
                let (cb, raft) = l.target();
                Some((l.slot(l.subscript(start_idx)), start_idx, k, cb, raft))
            });
            let Some((ptr, start_idx, mut k, cb, raft)) = step else {
                return 0;
            };
            let batch = k;
            // The membership effect is undone before log_pop may release the entries.
            Srv::from_raw(raft).pop_log(ptr, k, start_idx);
            let e = call(cb, raft, Event::Pop, ptr, start_idx, &mut k);
            if k > 0 {
                self.with(|l| l.count -= k as raft_index_t);
                // Entries the callback kept get their effect back.
                Srv::from_raw(raft).offer_log(ptr, batch - k, start_idx);
            }
            if e != 0 {
                return e;
            }
            assert_eq!(batch, k, "log_pop kept part of a batch without an error");
        }
    }

    /// Compacts every entry up to and including `idx`, oldest batch first, through log_poll.
    pub fn poll(self, idx: raft_index_t) -> c_int {
        if !self.with(|l| l.has_idx(idx)) {
            return -1;
        }
        loop {
            let step = self.with(|l| {
                if l.base + 1 > idx {
                    return None;
                }
                let k = l.batch_up(l.base + 1, idx - (l.base + 1) + 1);
                let (cb, raft) = l.target();
                Some((l.slot(l.front), l.base + 1, k, cb, raft))
            });
            let Some((ptr, first, mut k, cb, raft)) = step else {
                return 0;
            };
            let batch = k;
            let e = call(cb, raft, Event::Poll, ptr, first, &mut k);
            if k > 0 {
                self.with(|l| {
                    let kk = k as raft_index_t;
                    // SAFETY: base + k is held, so its slot is an initialised entry.
                    l.base_term = unsafe { (*l.slot(l.subscript(l.base + kk))).term };
                    l.front = (l.front + kk) % l.size;
                    l.count -= kk;
                    l.base += kk;
                });
            }
            if e != 0 {
                return e;
            }
            assert_eq!(batch, k, "log_poll kept part of a batch without an error");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i32, term: raft_term_t) -> raft_entry_t {
        raft_entry_t {
            term,
            id,
            ..Default::default()
        }
    }

    fn append1(l: LogH, e: raft_entry_t) -> c_int {
        let mut n = 1;
        l.append(&e, &mut n)
    }

    #[test]
    fn append_get_and_wrap() {
        let l = LogH::alloc(4).unwrap();
        for i in 1..=4 {
            assert_eq!(append1(l, entry(i, 1)), 0);
        }
        assert_eq!((l.count(), l.current_idx(), l.size()), (4, 4, 4));
        assert_eq!(l.poll(2), 0);
        assert_eq!((l.base(), l.base_term(), l.count()), (2, 1, 2));
        append1(l, entry(5, 2));
        append1(l, entry(6, 2));
        // Ring is full and wraps: from index 3 two entries are contiguous (slots 2, 3).
        assert_eq!(l.size(), 4);
        let (p, n) = l.get_from_idx(3);
        assert_eq!(n, 2);
        assert_eq!(unsafe { (*p).id }, 3);
        let (p, n) = l.get_from_idx(5);
        assert_eq!((n, unsafe { (*p).id }), (2, 5));
        assert_eq!(unsafe { (*l.peektail()).id }, 6);
        // Growing straightens the ring.
        append1(l, entry(7, 2));
        assert_eq!(l.size(), 8);
        let (p, n) = l.get_from_idx(3);
        assert_eq!((n, unsafe { (*p).id }), (5, 3));
        assert_eq!(l.delete(5), 0);
        assert_eq!(l.current_idx(), 4);
        assert_eq!(l.delete(5), -1);
        assert_eq!(l.poll(9), -1);
        assert!(l.get_at_idx(2).is_null());
        l.load_from_snapshot(10, 3);
        assert_eq!((l.current_idx(), l.base_term(), l.count()), (10, 3, 0));
        assert!(l.peektail().is_null());
        l.free();
    }

    #[test]
    fn zero_capacity_grows() {
        let l = LogH::alloc(0).unwrap();
        assert_eq!(append1(l, entry(1, 1)), 0);
        assert_eq!(l.size(), 1);
        assert_eq!(append1(l, entry(2, 1)), 0);
        assert_eq!((l.size(), l.count()), (2, 2));
        l.free();
    }
}
