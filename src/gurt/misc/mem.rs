//! gurt's allocation wrappers, on the libc heap (C frees what gurt allocates with `free`, and
//! gurt's `d_free` is `free`), with upstream's tracking hooks:
//! `d_set_alloc_track_cb(alloc_cb, free_cb, arg)` installs two process-wide callbacks and a
//! per-thread argument; a thread whose argument is non-NULL reports each allocation and free
//! (with the size) to them.
//!
//! The internal helpers [`alloc_array`], [`realloc_array`] and [`free`] are what upstream's
//! `D_ALLOC_ARRAY`/`D_REALLOC_ARRAY`/`D_FREE` macros do inside the library: the same tracked
//! calls, the memory fault-injection point, and the "mem" log lines.
//!
//! Everything here deals in raw libc pointers; it is the allocation edge of the crate.

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Tracking callback type (`d_alloc_track_cb_t`).
pub type TrackCb = Option<unsafe extern "C" fn(arg: *mut c_void, size: usize)>;

thread_local! {
    // A raw pointer in a Cell: no destructor, nothing registered at thread exit.
    static TRACK_ARG: Cell<*mut c_void> = const { Cell::new(ptr::null_mut()) };
}

/// The tracking callbacks. They are the exported `d_alloc_track_cb`/`d_free_track_cb` data
/// objects (C may read or even set them directly), defined in the C API layer.
fn callbacks() -> (TrackCb, TrackCb) {
    crate::capi::track_callbacks()
}

/// This thread's tracking argument (NULL: tracking off for this thread).
#[inline(always)]
fn track_arg() -> *mut c_void {
    TRACK_ARG.with(Cell::get)
}

/// Sets this thread's tracking argument (`d_set_alloc_track_cb` stores the callbacks itself).
pub fn set_track_arg(arg: *mut c_void) {
    TRACK_ARG.with(|c| c.set(arg));
}

#[inline(always)]
fn report(which: TrackCb, arg: *mut c_void, size: usize) {
    if let Some(cb) = which {
        // SAFETY: the callback was installed by the program with d_set_alloc_track_cb for
        // exactly this use: called with the thread's argument and a byte count.
        unsafe { cb(arg, size) }
    }
}

#[inline(always)]
fn tracked_alloc(p: *mut c_void, size: impl FnOnce() -> usize) {
    let arg = track_arg();
    if !arg.is_null() && !p.is_null() {
        report(callbacks().0, arg, size());
    }
}

/// The usable size of a libc block (0 for NULL).
#[inline]
fn usable(p: *mut c_void) -> usize {
    // SAFETY: p is NULL or a live libc heap block (callers' contract).
    unsafe { libc::malloc_usable_size(p) }
}

/// `d_malloc`.
pub fn malloc(size: usize) -> *mut c_void {
    // SAFETY: malloc accepts any size.
    let p = unsafe { libc::malloc(size) };
    tracked_alloc(p, || size);
    p
}

/// `d_calloc`.
pub fn calloc(count: usize, size: usize) -> *mut c_void {
    // SAFETY: calloc accepts any sizes and checks the product for overflow.
    let p = unsafe { libc::calloc(count, size) };
    tracked_alloc(p, || usable(p));
    p
}

/// `d_realloc`.
///
/// # Safety
/// `p` is NULL or a live block of the libc heap, not used again if this succeeds.
pub unsafe fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    let arg = track_arg();
    if arg.is_null() {
        // SAFETY: the caller's contract.
        return unsafe { libc::realloc(p, size) };
    }
    let old = usable(p);
    // SAFETY: the caller's contract.
    let n = unsafe { libc::realloc(p, size) };
    if !n.is_null() {
        let (a, f) = callbacks();
        report(f, arg, old);
        report(a, arg, size);
    }
    n
}

/// `d_free`.
///
/// # Safety
/// `p` is NULL or a live block of the libc heap, not used afterwards.
#[inline]
pub unsafe fn free(p: *mut c_void) {
    let arg = track_arg();
    if !arg.is_null() {
        report(callbacks().1, arg, usable(p));
    }
    // SAFETY: the caller's contract.
    unsafe { libc::free(p) }
}

/// `d_strndup`.
///
/// # Safety
/// `s` points to at least `n` readable bytes or a NUL-terminated string shorter than that.
pub unsafe fn strndup(s: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: the caller's contract.
    let p = unsafe { libc::strndup(s, n) };
    tracked_alloc(p.cast(), || usable(p.cast()));
    p
}

/// `d_realpath`.
///
/// # Safety
/// `path` is a NUL-terminated string; `resolved` is NULL or has room for PATH_MAX bytes.
pub unsafe fn realpath(path: *const c_char, resolved: *mut c_char) -> *mut c_char {
    // SAFETY: the caller's contract.
    let p = unsafe { libc::realpath(path, resolved) };
    tracked_alloc(p.cast(), || usable(p.cast()));
    p
}

/// `d_aligned_alloc`: the size is rounded up to a multiple of the alignment (as C11 requires);
/// zeroed when `zero`.
pub fn aligned_alloc(alignment: usize, size: usize, zero: bool) -> *mut c_void {
    // D_ALIGNUP(size, alignment): ((size) + (alignment) - 1) & ~((alignment) - 1), in size_t.
    let size = size.wrapping_add(alignment.wrapping_sub(1)) & !alignment.wrapping_sub(1);
    // SAFETY: aligned_alloc validates its arguments and returns NULL if they are unusable.
    let p = unsafe { libc::aligned_alloc(alignment, size) };
    tracked_alloc(p, || size);
    if zero && !p.is_null() {
        // SAFETY: p is a fresh block of at least `size` bytes.
        unsafe { ptr::write_bytes(p.cast::<u8>(), 0, size) };
    }
    p
}

/// Reports an allocation made outside these functions (C's `d_asprintf`, through vasprintf).
pub fn track_external_alloc(p: *mut c_void, size: usize) {
    tracked_alloc(p, || size);
}

// ---------------------------------------------------------------------------------------------
// The memory fault-injection point of the D_ALLOC macros

/// The check the `D_ALLOC` family makes before handing out memory
/// (`d_fault_inject && d_should_fail(d_fault_attr_mem)` upstream). Fault injection installs it
/// with [`set_mem_fault_check`]; until then no allocation is failed on purpose.
static MEM_FAULT_CHECK: AtomicPtr<()> = AtomicPtr::new(ptr::null_mut());

/// Installs (or with `None` removes) the memory fault-injection check.
pub fn set_mem_fault_check(check: Option<fn() -> bool>) {
    MEM_FAULT_CHECK.store(check.map_or(ptr::null_mut(), |f| f as *mut ()), Ordering::Release);
}

#[inline(always)]
fn mem_should_fail() -> bool {
    let p = MEM_FAULT_CHECK.load(Ordering::Acquire);
    if p.is_null() {
        return false;
    }
    // SAFETY: the only non-NULL values stored are `fn() -> bool` pointers (set_mem_fault_check).
    let check: fn() -> bool = unsafe { std::mem::transmute::<*mut (), fn() -> bool>(p) };
    if check() {
        tracing::warn!(target: "mem", "injecting a memory allocation fault");
        return true;
    }
    false
}

/// `D_ALLOC_ARRAY(ptr, count)`: `count` zeroed elements of `T` from [`calloc`], or `None` when
/// out of memory (or when fault injection fails the allocation).
pub fn alloc_array<T>(count: usize) -> Option<NonNull<T>> {
    let p = calloc(count, std::mem::size_of::<T>());
    if !p.is_null() && mem_should_fail() {
        // SAFETY: p was just allocated here and is not used again.
        unsafe { free(p) };
        return None;
    }
    match NonNull::new(p.cast::<T>()) {
        Some(p) => {
            if count <= 1 {
                tracing::trace!(target: "mem", "alloc(calloc) 'ptr':{} at {:p}.", std::mem::size_of::<T>(), p);
            } else {
                tracing::trace!(target: "mem", "alloc(calloc) 'ptr':{} * 'count':{} at {:p}.",
                    std::mem::size_of::<T>(), count, p);
            }
            Some(p)
        }
        None => {
            tracing::error!(target: "mem", "out of memory (tried to calloc 'ptr':{})",
                std::mem::size_of::<T>().saturating_mul(count));
            None
        }
    }
}

/// `D_REALLOC_ARRAY(new, old, old_count, count)`: resizes `old` (NULL allowed) to `count`
/// elements, zeroing what lies beyond the old `old_count` elements. A size of 0 becomes one byte
/// (never realloc(p, 0), which frees). On failure `old` is untouched and `None` returned.
///
/// # Safety
/// `old` is NULL or a live libc block holding at least `old_count` elements of `T`.
pub unsafe fn realloc_array<T>(old: *mut T, old_count: usize, count: usize) -> Option<NonNull<T>> {
    let esz = std::mem::size_of::<T>();
    let old_sz = old_count.wrapping_mul(esz);
    let sz = match count.wrapping_mul(esz) {
        0 => 1,
        n => n,
    };
    let p = if mem_should_fail() {
        ptr::null_mut()
    } else {
        // SAFETY: the caller's contract.
        unsafe { realloc(old.cast(), sz) }
    };
    let Some(p) = NonNull::new(p.cast::<u8>()) else {
        tracing::error!(target: "mem", "out of memory (tried to realloc 'ptr': size={} count={})", esz, count);
        return None;
    };
    if old_sz < sz {
        // SAFETY: the block holds sz bytes; the bytes from old_sz on are the new ones.
        unsafe { ptr::write_bytes(p.as_ptr().add(old_sz), 0, sz - old_sz) };
    }
    tracing::trace!(target: "mem", "realloc 'ptr':{} * 'count':{} at {:p} old 'old':{} at {:p}.",
        esz, count, p, old_sz, old);
    Some(p.cast())
}

/// `D_FREE(ptr)`: frees a non-NULL block through [`free`].
///
/// # Safety
/// As [`free`].
#[inline]
pub unsafe fn free_ptr<T>(p: *mut T) {
    if !p.is_null() {
        tracing::trace!(target: "mem", "free 'ptr' at {:p}.", p);
        // SAFETY: the caller's contract.
        unsafe { free(p.cast()) }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    pub(crate) static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
    pub(crate) static FREED: AtomicUsize = AtomicUsize::new(0);

    pub(crate) unsafe extern "C" fn on_alloc(arg: *mut c_void, size: usize) {
        assert_eq!(arg as usize, 0x5a5a);
        ALLOCATED.fetch_add(size, Ordering::Relaxed);
    }

    pub(crate) unsafe extern "C" fn on_free(arg: *mut c_void, size: usize) {
        assert_eq!(arg as usize, 0x5a5a);
        FREED.fetch_add(size, Ordering::Relaxed);
    }

    #[test]
    fn allocations_are_libc_blocks() {
        let p = malloc(10);
        assert!(!p.is_null());
        // SAFETY: p is a fresh block of 10 bytes, then reallocated and freed once.
        unsafe {
            ptr::write_bytes(p.cast::<u8>(), 7, 10);
            let q = realloc(p, 100);
            assert!(!q.is_null());
            assert_eq!(*q.cast::<u8>().add(9), 7);
            libc::free(q);
        }
        let z = calloc(4, 8);
        // SAFETY: a fresh zeroed block of 32 bytes, freed once.
        unsafe {
            assert!(std::slice::from_raw_parts(z.cast::<u8>(), 32).iter().all(|&b| b == 0));
            free(z);
        }
        let a = aligned_alloc(64, 100, true);
        assert_eq!(a as usize % 64, 0);
        // SAFETY: rounded up to 128 bytes, zeroed.
        unsafe {
            assert!(usable(a) >= 128);
            assert!(std::slice::from_raw_parts(a.cast::<u8>(), 128).iter().all(|&b| b == 0));
            free(a);
        }
    }

    #[test]
    fn tracking_is_per_thread() {
        // Runs in its own thread so the per-thread argument cannot leak into other tests.
        std::thread::spawn(|| {
            crate::capi::set_track_callbacks(Some(on_alloc), Some(on_free));
            set_track_arg(0x5a5a as *mut c_void);
            let before = (ALLOCATED.load(Ordering::Relaxed), FREED.load(Ordering::Relaxed));
            let p = malloc(24);
            assert_eq!(ALLOCATED.load(Ordering::Relaxed) - before.0, 24);
            // SAFETY: p is live, freed once.
            unsafe { free(p) };
            assert!(FREED.load(Ordering::Relaxed) - before.1 >= 24);
            // Another thread without an argument reports nothing.
            let mid = ALLOCATED.load(Ordering::Relaxed);
            std::thread::spawn(|| unsafe { free(malloc(1000)) }).join().unwrap();
            assert_eq!(ALLOCATED.load(Ordering::Relaxed), mid);
            set_track_arg(ptr::null_mut());
            crate::capi::set_track_callbacks(None, None);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn realloc_array_zeroes_the_tail_and_never_frees() {
        let p = alloc_array::<u32>(2).unwrap();
        // SAFETY: p holds 2 u32; it grows to 6 (tail zeroed), shrinks to 0 (one byte kept).
        unsafe {
            p.as_ptr().write(0xdead);
            p.as_ptr().add(1).write(0xbeef);
            let q = realloc_array(p.as_ptr(), 2, 6).unwrap();
            assert_eq!(std::slice::from_raw_parts(q.as_ptr(), 6), &[0xdead, 0xbeef, 0, 0, 0, 0]);
            let r = realloc_array(q.as_ptr(), 6, 0).unwrap();
            assert!(usable(r.as_ptr().cast()) >= 1);
            free_ptr(r.as_ptr());
        }
    }

    thread_local! {
        static FAIL_HERE: Cell<bool> = const { Cell::new(false) };
    }

    /// A fault check that fails allocations of the threads that ask for it only, so tests
    /// running beside this one are unaffected.
    fn fail_here() -> bool {
        FAIL_HERE.with(Cell::get)
    }

    #[test]
    fn the_fault_check_fails_allocations() {
        set_mem_fault_check(Some(fail_here));
        std::thread::spawn(|| {
            FAIL_HERE.with(|c| c.set(true));
            assert!(alloc_array::<u64>(4).is_none());
            // SAFETY: NULL is a valid `old`; nothing is allocated when the fault fires.
            assert!(unsafe { realloc_array::<u64>(ptr::null_mut(), 0, 4) }.is_none());
            FAIL_HERE.with(|c| c.set(false));
            let c = alloc_array::<u64>(4).unwrap();
            // SAFETY: c is live, freed once.
            unsafe { free_ptr(c.as_ptr()) };
        })
        .join()
        .unwrap();
        let d = alloc_array::<u64>(4).unwrap();
        // SAFETY: d is live, freed once.
        unsafe { free_ptr(d.as_ptr()) };
    }
}
