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
// The D_ALLOC family as gurt itself uses it

use crate::dlog::GurtFac;

/// `D_SHOULD_FAIL(d_fault_attr_mem)`, the check every `D_ALLOC`-family macro makes after
/// allocating: fault injection's own state decides (`d_fault_inject` on and the memory
/// attribute, fault id 0, says fail), so there is one mechanism for every gurt allocation.
#[inline(always)]
fn mem_should_fail() -> bool {
    #[cfg(test)]
    if tests::FAIL_HERE.with(Cell::get) {
        return true;
    }
    crate::capi::alloc_should_fail()
}

/// `D_CHECK_ALLOC`: consults the memory fault attribute (freeing and dropping `p` if it says
/// fail, as upstream does even for a NULL `p`), then logs the allocation under DB_MEM or the
/// failure as an error, with upstream's message shapes.
#[inline]
#[track_caller]
fn check_alloc(fac: GurtFac, func: &str, p: *mut c_void, size: usize, count: usize) -> *mut c_void {
    let mut p = p;
    if mem_should_fail() {
        // SAFETY: p is NULL or the block just allocated by the caller, not used again.
        unsafe { free(p) };
        p = ptr::null_mut();
    }
    if !p.is_null() {
        let flags = mem_debug_flags(fac);
        if flags != 0 {
            log_alloc(flags, func, p, size, count);
        }
    } else {
        let total = if count >= 1 { size.wrapping_mul(count) } else { size };
        mem_error(fac, format_args!("out of memory (tried to {func} 'ptr':{})\n", total as i32));
    }
    p
}

/// The flags of a `D_DEBUG(DB_MEM, ...)` line in facility `fac` (0: off): one cache load.
#[inline(always)]
fn mem_debug_flags(fac: GurtFac) -> i32 {
    crate::dlog::enabled(fac, crate::dlog::Level::DbMem)
}

/// The enabled half of an allocation's DB_MEM line (out of line: the message is only built here).
#[cold]
#[inline(never)]
#[track_caller]
fn log_alloc(flags: i32, func: &str, p: *mut c_void, size: usize, count: usize) {
    let at = std::panic::Location::caller();
    if count <= 1 {
        crate::dlog::log_with(flags, at.file(), at.line(), "d_alloc",
            format_args!("alloc({func}) 'ptr':{} at {:p}.\n", size as i32, p));
    } else {
        crate::dlog::log_with(flags, at.file(), at.line(), "d_alloc",
            format_args!("alloc({func}) 'ptr':{} * 'count':{} at {:p}.\n", size as i32, count as i32, p));
    }
}

/// The enabled half of a free's DB_MEM line.
#[cold]
#[inline(never)]
#[track_caller]
fn log_free(flags: i32, p: *mut c_void) {
    let at = std::panic::Location::caller();
    crate::dlog::log_with(flags, at.file(), at.line(), "d_alloc", format_args!("free 'ptr' at {:p}.\n", p));
}

/// A `D_DEBUG(DB_MEM, ...)` line in facility `fac`: one cache load while the bit is off.
#[inline(always)]
#[track_caller]
fn mem_debug(fac: GurtFac, args: std::fmt::Arguments<'_>) {
    let flags = crate::dlog::enabled(fac, crate::dlog::Level::DbMem);
    if flags != 0 {
        let at = std::panic::Location::caller();
        crate::dlog::log_with(flags, at.file(), at.line(), "d_alloc", args);
    }
}

#[cold]
#[track_caller]
fn mem_error(fac: GurtFac, args: std::fmt::Arguments<'_>) {
    let at = std::panic::Location::caller();
    crate::dlog::log(fac, crate::dlog::Level::Err, at.file(), at.line(), "d_alloc", args);
}

/// `D_ALLOC_ARRAY`-style bytes: `count` zeroed elements of `size` bytes from [`calloc`] (so
/// tracked), subject to memory fault injection, logged in facility `fac`. NULL on failure.
#[track_caller]
pub fn alloc_zeroed_in(fac: GurtFac, count: usize, size: usize) -> *mut c_void {
    check_alloc(fac, "calloc", calloc(count, size), size, count)
}

/// `D_FREE`: frees a non-NULL block through [`free`], logging it under DB_MEM in `fac`.
///
/// # Safety
/// As [`free`].
#[inline]
#[track_caller]
pub unsafe fn free_in(fac: GurtFac, p: *mut c_void) {
    if !p.is_null() {
        let flags = mem_debug_flags(fac);
        if flags != 0 {
            log_free(flags, p);
        }
        // SAFETY: the caller's contract.
        unsafe { free(p) }
    }
}

/// `D_STRNDUP(ptr, s, n)` in facility `fac`: [`strndup`] (tracked), then the memory fault check
/// and the DB_MEM line; NULL when out of memory.
///
/// # Safety
/// As [`strndup`].
#[track_caller]
pub unsafe fn strndup_in(fac: GurtFac, s: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: the caller's contract.
    let (p, len) = unsafe { (strndup(s, n), libc::strnlen(s, n)) };
    check_alloc(fac, "strndup", p.cast(), len + 1, 0).cast()
}

/// A NUL-terminated libc copy of `bytes` (`D_STRNDUP`-style: tracked, subject to memory fault
/// injection, logged in `fac`); `None` when out of memory.
#[track_caller]
pub fn c_string_in(fac: GurtFac, bytes: &[u8]) -> Option<NonNull<c_char>> {
    let p = alloc_zeroed_in(fac, bytes.len() + 1, 1).cast::<u8>();
    let p = NonNull::new(p)?;
    // SAFETY: p holds len + 1 zeroed bytes; the last stays 0.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr(), bytes.len()) };
    Some(p.cast())
}

/// `D_ALLOC_ARRAY(ptr, count)` in misc's code: `count` zeroed elements of `T`, or `None` when
/// out of memory (or when fault injection fails the allocation).
#[track_caller]
pub fn alloc_array<T>(count: usize) -> Option<NonNull<T>> {
    NonNull::new(alloc_zeroed_in(GurtFac::Misc, count, std::mem::size_of::<T>()).cast())
}

/// `D_REALLOC_ARRAY(new, old, old_count, count)`: resizes `old` (NULL allowed) to `count`
/// elements, zeroing what lies beyond the old `old_count` elements. A size of 0 becomes one byte
/// (never realloc(p, 0), which frees). On failure `old` is untouched and `None` returned.
///
/// # Safety
/// `old` is NULL or a live libc block holding at least `old_count` elements of `T`.
#[track_caller]
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
        mem_error(GurtFac::Misc, format_args!("out of memory (tried to realloc 'ptr': size={} count={})\n",
            esz as i32, count as i32));
        return None;
    };
    if old_sz < sz {
        // SAFETY: the block holds sz bytes; the bytes from old_sz on are the new ones.
        unsafe { ptr::write_bytes(p.as_ptr().add(old_sz), 0, sz - old_sz) };
    }
    mem_debug(GurtFac::Misc, format_args!("realloc 'ptr':{} * 'count':{} at {:p} old 'old':{} at {:p}.\n",
        esz as i32, count as i32, p, old_sz as i32, old));
    Some(p.cast())
}

/// `D_FREE(ptr)` in misc's code.
///
/// # Safety
/// As [`free`].
#[inline]
#[track_caller]
pub unsafe fn free_ptr<T>(p: *mut T) {
    // SAFETY: the caller's contract.
    unsafe { free_in(GurtFac::Misc, p.cast()) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
        /// Makes this thread's allocations fail as an injected memory fault would, so tests
        /// running beside this one are unaffected (the C test drives the real D_FI_CONFIG path).
        pub(crate) static FAIL_HERE: Cell<bool> = const { Cell::new(false) };
    }

    #[test]
    fn the_fault_check_fails_allocations() {
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

#[cfg(test)]
mod log_tests {
    use super::*;
    use crate::dlog::tests::LOG_TEST_LOCK;

    /// gurt's own allocation lines are `D_DEBUG(DB_MEM, ...)` lines: DD_MASK=mem shows them in
    /// upstream's shape, any other debug bit does not.
    #[test]
    fn alloc_lines_are_db_mem() {
        let _g = LOG_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let dir = std::env::temp_dir().join(format!("gurt-memlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = |dd_mask: &str| -> String {
            let path = dir.join(format!("log-{dd_mask}"));
            std::env::set_var("D_LOG_FILE", &path);
            std::env::set_var("D_LOG_MASK", "DEBUG");
            std::env::set_var("DD_MASK", dd_mask);
            assert_eq!(crate::debug::init(), Ok(0));
            let p = alloc_array::<u32>(5).unwrap();
            let q = alloc_zeroed_in(GurtFac::Mem, 1, 24);
            // SAFETY: both live, freed once.
            unsafe {
                free_ptr(p.as_ptr());
                free_in(GurtFac::Mem, q);
            }
            crate::debug::fini().unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            let p = format!("{:p}", p.as_ptr());
            let q = format!("{q:p}");
            text.lines()
                .filter(|l| l.contains(&p) || l.contains(&q))
                .map(|l| l.split_once(" d_alloc() ").map_or(l.to_string(), |(h, t)| {
                    let fac = if h.contains("] mem ") { "mem" } else if h.contains("] misc ") { "misc" } else { "?" };
                    format!("{fac}: {}", t.replace(&p, "P").replace(&q, "Q"))
                }))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let on = run("mem");
        let off = run("trace");
        for v in ["D_LOG_FILE", "D_LOG_MASK", "DD_MASK"] {
            std::env::remove_var(v);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            on,
            "misc: alloc(calloc) 'ptr':4 * 'count':5 at P.\n\
             mem: alloc(calloc) 'ptr':24 at Q.\n\
             misc: free 'ptr' at P.\n\
             mem: free 'ptr' at Q."
                .replace("\n             ", "\n")
        );
        assert_eq!(off, "");
    }
}
