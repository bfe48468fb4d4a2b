//! Exports of upstream `misc.c`: allocation wrappers, rank lists, environment, random numbers,
//! backoff, string buffers, pointer vectors. Pointer checks and C structs here; the logic is in
//! `crate::misc`. (`d_asprintf`, `d_asprintf2` and `d_write_string_buffer` are variadic: they
//! are in `c/misc.c` and use the `__oxidaos_gurt_*` helpers at the end of this file.)
//!
//! Where upstream dereferences a NULL argument (or asserts), these return its documented error
//! for bad input instead: `-DER_INVAL` for functions returning a DER code, NULL, false or
//! nothing for the others.

use std::ffi::{c_char, c_double, c_int, c_long, c_uint, c_void, CStr};
use std::ptr::{self, NonNull};

use crate::misc::mem::{self, TrackCb};
use crate::misc::{backoff, env, rand, rank};
use crate::sys;

const DER_INVAL: c_int = -(sys::DER_INVAL as c_int);
const DER_NOMEM: c_int = -(sys::DER_NOMEM as c_int);
const DER_NONEXIST: c_int = -(sys::DER_NONEXIST as c_int);

// ---------------------------------------------------------------------------------------------
// Allocation

/// The allocation-tracking callback (`d_alloc_track_cb`), set by `d_set_alloc_track_cb`.
#[no_mangle]
pub static mut d_alloc_track_cb: sys::d_alloc_track_cb_t = None;

/// The free-tracking callback (`d_free_track_cb`), set by `d_set_alloc_track_cb`.
#[no_mangle]
pub static mut d_free_track_cb: sys::d_alloc_track_cb_t = None;

/// The current tracking callbacks.
#[inline(always)]
pub(crate) fn track_callbacks() -> (TrackCb, TrackCb) {
    // SAFETY: plain reads of two pointer-sized exported objects, written only by
    // d_set_alloc_track_cb (upstream's contract: set before the tracking threads allocate).
    unsafe { ((&raw const d_alloc_track_cb).read(), (&raw const d_free_track_cb).read()) }
}

/// Sets the tracking callbacks.
pub(crate) fn set_track_callbacks(alloc: TrackCb, free: TrackCb) {
    // SAFETY: as above.
    unsafe {
        (&raw mut d_alloc_track_cb).write(alloc);
        (&raw mut d_free_track_cb).write(free);
    }
}

/// Installs the tracking callbacks (process-wide) and this thread's argument: while the
/// argument is non-NULL, this thread's gurt allocations and frees are reported with their size.
#[no_mangle]
pub extern "C" fn d_set_alloc_track_cb(
    alloc_cb: sys::d_alloc_track_cb_t,
    free_cb: sys::d_alloc_track_cb_t,
    arg: *mut c_void,
) {
    set_track_callbacks(alloc_cb, free_cb);
    mem::set_track_arg(arg);
    tracing::info!(target: "misc", "memory track is enabled for the engine.");
}

#[no_mangle]
pub extern "C" fn d_malloc(size: usize) -> *mut c_void {
    mem::malloc(size)
}

#[no_mangle]
pub extern "C" fn d_calloc(count: usize, eltsize: usize) -> *mut c_void {
    mem::calloc(count, eltsize)
}

/// # Safety
/// `ptr` is NULL or a live block of the libc heap.
#[no_mangle]
pub unsafe extern "C" fn d_realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: the caller's contract.
    unsafe { mem::realloc(ptr, size) }
}

/// # Safety
/// `ptr` is NULL or a live block of the libc heap.
#[no_mangle]
pub unsafe extern "C" fn d_free(ptr: *mut c_void) {
    // SAFETY: the caller's contract.
    unsafe { mem::free(ptr) }
}

/// # Safety
/// `s` is NULL or readable up to `n` bytes or its NUL.
#[no_mangle]
pub unsafe extern "C" fn d_strndup(s: *const c_char, n: usize) -> *mut c_char {
    if s.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the caller's contract.
    unsafe { mem::strndup(s, n) }
}

/// # Safety
/// `path` is NULL or a C string; `resolved_path` is NULL or has PATH_MAX bytes.
#[no_mangle]
pub unsafe extern "C" fn d_realpath(path: *const c_char, resolved_path: *mut c_char) -> *mut c_char {
    // SAFETY: the caller's contract; realpath itself rejects a NULL path with EINVAL.
    unsafe { mem::realpath(path, resolved_path) }
}

#[no_mangle]
pub extern "C" fn d_aligned_alloc(alignment: usize, size: usize, zero: bool) -> *mut c_void {
    mem::aligned_alloc(alignment, size, zero)
}

// ---------------------------------------------------------------------------------------------
// Random numbers and statistics

#[no_mangle]
pub extern "C" fn d_srand(seedval: c_long) {
    rand::srand(seedval);
}

#[no_mangle]
pub extern "C" fn d_rand() -> c_long {
    rand::rand() as c_long
}

#[no_mangle]
pub extern "C" fn d_randd() -> c_double {
    rand::randd()
}

/// Population standard deviation of `nr` doubles. NaN when `nr` is 0, negative, or `array`
/// is NULL.
///
/// # Safety
/// `array` is NULL or holds `nr` doubles.
#[no_mangle]
pub unsafe extern "C" fn d_stand_div(array: *mut c_double, nr: c_int) -> c_double {
    if array.is_null() || nr <= 0 {
        return f64::NAN;
    }
    // SAFETY: the caller's contract.
    crate::misc::stand_div(unsafe { std::slice::from_raw_parts(array, nr as usize) })
}

// ---------------------------------------------------------------------------------------------
// Rank lists

/// The ranks of a list as a slice: None for a NULL list or a NULL array with a count; empty
/// for a count of 0.
///
/// # Safety
/// `l` is NULL or a valid list whose `rl_ranks` holds `rl_nr` ranks (or is NULL).
unsafe fn ranks<'a>(l: *const sys::d_rank_list_t) -> Option<&'a [u32]> {
    // SAFETY: the caller's contract.
    let l = unsafe { l.as_ref()? };
    match (l.rl_ranks.is_null(), l.rl_nr) {
        (_, 0) => Some(&[]),
        (true, _) => None,
        // SAFETY: the caller's contract.
        (false, n) => Some(unsafe { std::slice::from_raw_parts(l.rl_ranks, n as usize) }),
    }
}

/// As [`ranks`], mutable.
///
/// # Safety
/// As [`ranks`], and nothing else refers to the ranks meanwhile.
unsafe fn ranks_mut<'a>(l: *mut sys::d_rank_list_t) -> Option<&'a mut [u32]> {
    // SAFETY: the caller's contract.
    let l = unsafe { l.as_mut()? };
    match (l.rl_ranks.is_null(), l.rl_nr) {
        (_, 0) => Some(&mut []),
        (true, _) => None,
        // SAFETY: the caller's contract.
        (false, n) => Some(unsafe { std::slice::from_raw_parts_mut(l.rl_ranks, n as usize) }),
    }
}

/// A new list holding a copy of `src` (NULL when out of memory).
fn new_list(src: &[u32]) -> *mut sys::d_rank_list_t {
    let Ok(nr) = u32::try_from(src.len()) else { return ptr::null_mut() };
    let Some(l) = mem::alloc_array::<sys::d_rank_list_t>(1) else { return ptr::null_mut() };
    if nr > 0 {
        let Some(a) = mem::alloc_array::<u32>(src.len()) else {
            // SAFETY: l was allocated above and is not used again.
            unsafe { mem::free_ptr(l.as_ptr()) };
            return ptr::null_mut();
        };
        // SAFETY: a holds src.len() ranks; l is a fresh zeroed list.
        unsafe {
            ptr::copy_nonoverlapping(src.as_ptr(), a.as_ptr(), src.len());
            (*l.as_ptr()).rl_ranks = a.as_ptr();
        }
    }
    // SAFETY: l is a fresh list.
    unsafe { (*l.as_ptr()).rl_nr = nr };
    l.as_ptr()
}

/// Copies `src` into a new list at `*dst` (`*dst = NULL` for a NULL `src`).
///
/// # Safety
/// `dst` is NULL or writable; `src` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_dup(
    dst: *mut *mut sys::d_rank_list_t,
    src: *const sys::d_rank_list_t,
) -> c_int {
    if dst.is_null() {
        tracing::error!(target: "misc", "Invalid parameter, dst: {:p}, src: {:p}.", dst, src);
        return DER_INVAL;
    }
    if src.is_null() {
        // SAFETY: dst is writable.
        unsafe { *dst = ptr::null_mut() };
        return 0;
    }
    // SAFETY: src is a valid list.
    let Some(s) = (unsafe { ranks(src) }) else { return DER_INVAL };
    let l = new_list(s);
    if l.is_null() {
        return DER_NOMEM;
    }
    // SAFETY: dst is writable.
    unsafe { *dst = l };
    0
}

/// Copies `src` into a new sorted list without repeats at `*dst`.
///
/// # Safety
/// As [`d_rank_list_dup`].
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_dup_sort_uniq(
    dst: *mut *mut sys::d_rank_list_t,
    src: *const sys::d_rank_list_t,
) -> c_int {
    // SAFETY: the caller's contract.
    let rc = unsafe { d_rank_list_dup(dst, src) };
    if rc != 0 {
        return rc;
    }
    // SAFETY: dst was written by d_rank_list_dup: NULL or a list this call owns.
    if let Some(l) = unsafe { (*dst).as_mut() } {
        // SAFETY: the new list's ranks are ours.
        if let Some(r) = unsafe { ranks_mut(l) } {
            rank::sort(r);
            l.rl_nr = rank::dedup(r) as u32;
        }
    }
    0
}

/// Removes from `dst_set` the ranks that are in `src_set` (`exclude`) or that are not.
///
/// # Safety
/// Both are NULL or valid lists.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_filter(
    src_set: *mut sys::d_rank_list_t,
    dst_set: *mut sys::d_rank_list_t,
    exclude: bool,
) {
    // SAFETY: the caller's contract. The source is read while the destination is written: when
    // their arrays overlap, the source is copied first so the two borrows never alias.
    unsafe {
        if src_set.is_null() || dst_set.is_null() || (*src_set).rl_ranks.is_null()
            || (*dst_set).rl_ranks.is_null()
        {
            return;
        }
        let Some(src) = ranks(src_set) else { return };
        let dst_range = (*dst_set).rl_ranks as usize
            ..(*dst_set).rl_ranks as usize + (*dst_set).rl_nr as usize * 4;
        let src_range = src.as_ptr() as usize..src.as_ptr() as usize + src.len() * 4;
        let copy;
        let src = if src_range.start < dst_range.end && dst_range.start < src_range.end {
            copy = src.to_vec();
            &copy[..]
        } else {
            src
        };
        let Some(dst) = ranks_mut(dst_set) else { return };
        let n = rank::filter(src, dst, exclude);
        (*dst_set).rl_nr = n as u32;
    }
}

/// Appends to `src_ranks` the ranks of `ranks_merge` it does not hold.
///
/// # Safety
/// Both are NULL or valid lists whose arrays are libc blocks.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_merge(
    src_ranks: *mut sys::d_rank_list_t,
    ranks_merge: *mut sys::d_rank_list_t,
) -> c_int {
    // SAFETY: the caller's contract.
    let (Some(src), merge) = (unsafe { ranks(src_ranks) }, unsafe { ranks(ranks_merge) }) else {
        return DER_INVAL;
    };
    let Some(merge) = merge else { return 0 };
    let add = rank::missing_from(src, merge);
    if add.is_empty() {
        return 0;
    }
    let total = src.len() + add.len();
    let Ok(total_nr) = u32::try_from(total) else { return DER_INVAL };
    let Some(rs) = mem::alloc_array::<u32>(total) else { return DER_NOMEM };
    // SAFETY: rs holds total ranks; src_ranks is a valid list whose old array is a libc block
    // replaced here.
    unsafe {
        ptr::copy_nonoverlapping(src.as_ptr(), rs.as_ptr(), src.len());
        ptr::copy_nonoverlapping(add.as_ptr(), rs.as_ptr().add(src.len()), add.len());
        mem::free_ptr((*src_ranks).rl_ranks);
        (*src_ranks).rl_ranks = rs.as_ptr();
        (*src_ranks).rl_nr = total_nr;
    }
    0
}

/// A new list of `size` ranks 0, 1, ..., size - 1 (NULL when out of memory).
#[no_mangle]
pub extern "C" fn d_rank_list_alloc(size: u32) -> *mut sys::d_rank_list_t {
    let Some(l) = mem::alloc_array::<sys::d_rank_list_t>(1) else { return ptr::null_mut() };
    if size > 0 {
        let Some(a) = mem::alloc_array::<u32>(size as usize) else {
            // SAFETY: l was allocated above and is not used again.
            unsafe { mem::free_ptr(l.as_ptr()) };
            return ptr::null_mut();
        };
        // SAFETY: a holds size ranks; l is a fresh zeroed list.
        unsafe {
            std::slice::from_raw_parts_mut(a.as_ptr(), size as usize)
                .iter_mut()
                .zip(0..)
                .for_each(|(r, i)| *r = i);
            (*l.as_ptr()).rl_ranks = a.as_ptr();
            (*l.as_ptr()).rl_nr = size;
        }
    }
    l.as_ptr()
}

/// Resizes a list's array to `size` ranks (new ranks are 0; size 0 frees the array).
///
/// # Safety
/// `ptr` is NULL or a valid list whose array is NULL or a libc block.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_resize(ptr: *mut sys::d_rank_list_t, size: u32) -> c_int {
    // SAFETY: the caller's contract.
    let Some(l) = (unsafe { ptr.as_mut() }) else { return DER_INVAL };
    if size == 0 {
        // SAFETY: the array is a libc block or NULL.
        unsafe { mem::free_ptr(l.rl_ranks) };
        l.rl_ranks = ptr::null_mut();
        l.rl_nr = 0;
        return 0;
    }
    let old = if l.rl_ranks.is_null() { 0 } else { l.rl_nr as usize };
    // SAFETY: the array is NULL or a libc block of rl_nr ranks.
    match unsafe { mem::realloc_array(l.rl_ranks, old, size as usize) } {
        Some(a) => {
            l.rl_ranks = a.as_ptr();
            l.rl_nr = size;
            0
        }
        None => DER_NOMEM,
    }
}

/// Frees a list and its array.
///
/// # Safety
/// `rank_list` is NULL or a list allocated by gurt (or with libc blocks).
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_free(rank_list: *mut sys::d_rank_list_t) {
    if rank_list.is_null() {
        return;
    }
    // SAFETY: the caller's contract.
    unsafe {
        mem::free_ptr((*rank_list).rl_ranks);
        mem::free_ptr(rank_list);
    }
}

/// Copies `src`'s ranks into `dst`, resizing it.
///
/// # Safety
/// Both are NULL or valid lists; `dst`'s array is NULL or a libc block.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_copy(
    dst: *mut sys::d_rank_list_t,
    src: *mut sys::d_rank_list_t,
) -> c_int {
    if dst.is_null() || src.is_null() {
        tracing::error!(target: "misc", "Nothing to do, dst: {:p}, src: {:p}.", dst, src);
        return DER_INVAL;
    }
    if dst == src {
        return 0;
    }
    // SAFETY: the caller's contract.
    let Some(s) = (unsafe { ranks(src) }) else { return DER_INVAL };
    // SAFETY: as above.
    unsafe {
        if (*dst).rl_nr != s.len() as u32 {
            let rc = d_rank_list_resize(dst, s.len() as u32);
            if rc != 0 {
                tracing::error!(target: "misc", "d_rank_list_resize() failed.");
                return rc;
            }
        }
        if !s.is_empty() {
            ptr::copy_nonoverlapping(s.as_ptr(), (*dst).rl_ranks, s.len());
        }
    }
    0
}

/// Sorts a list ascending.
///
/// # Safety
/// `rank_list` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_sort(rank_list: *mut sys::d_rank_list_t) {
    // SAFETY: the caller's contract.
    if let Some(r) = unsafe { ranks_mut(rank_list) } {
        rank::sort(r);
    }
}

/// Shuffles a list with `d_rand` (the same permutation as upstream for the same seed).
///
/// # Safety
/// `rank_list` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_shuffle(rank_list: *mut sys::d_rank_list_t) {
    // SAFETY: the caller's contract.
    let Some(r) = (unsafe { ranks_mut(rank_list) }) else { return };
    let n = r.len() as u32;
    for i in 0..r.len() {
        let j = (rand::rand() as u64 % u64::from(n)) as usize;
        r.swap(i, j);
    }
}

/// Binary search of a sorted list, as glibc's `bsearch` probes (so among repeats the same index
/// is found).
fn bsearch(r: &[u32], key: u32) -> Option<usize> {
    let (mut l, mut u) = (0usize, r.len());
    while l < u {
        let idx = (l + u) / 2;
        match key.cmp(&r[idx]) {
            std::cmp::Ordering::Less => u = idx,
            std::cmp::Ordering::Greater => l = idx + 1,
            std::cmp::Ordering::Equal => return Some(idx),
        }
    }
    None
}

/// Finds `rank` in a sorted list; its index goes to `*idx` (if not NULL).
///
/// # Safety
/// `rank_list` is NULL or a valid list; `idx` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_bsearch(
    rank_list: *mut sys::d_rank_list_t,
    rank: sys::d_rank_t,
    idx: *mut c_int,
) -> bool {
    // SAFETY: the caller's contract.
    let Some(i) = (unsafe { ranks(rank_list) }).and_then(|r| bsearch(r, rank)) else {
        return false;
    };
    if !idx.is_null() {
        // SAFETY: idx is writable.
        unsafe { *idx = i as c_int };
    }
    true
}

/// Finds the first `rank` in a list; its index goes to `*idx` (if not NULL).
///
/// # Safety
/// As [`d_rank_list_bsearch`].
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_find(
    rank_list: *mut sys::d_rank_list_t,
    rank: sys::d_rank_t,
    idx: *mut c_int,
) -> bool {
    // SAFETY: the caller's contract.
    let Some(i) = (unsafe { ranks(rank_list) }).and_then(|r| r.iter().position(|&x| x == rank))
    else {
        return false;
    };
    if !idx.is_null() {
        // SAFETY: idx is writable.
        unsafe { *idx = i as c_int };
    }
    true
}

/// Removes the rank at `idx`, keeping the array's allocation. An index out of range (upstream
/// asserts) is logged and ignored.
///
/// # Safety
/// `list` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_del_at(list: *mut sys::d_rank_list_t, idx: c_int) {
    // SAFETY: the caller's contract.
    let Some(r) = (unsafe { ranks_mut(list) }) else { return };
    let Some(i) = usize::try_from(idx).ok().filter(|&i| i < r.len()) else {
        tracing::error!(target: "misc", "idx={} rl_nr={}: out of range", idx, r.len());
        return;
    };
    r.copy_within(i + 1.., i);
    // SAFETY: list is valid (ranks_mut returned Some).
    unsafe { (*list).rl_nr -= 1 };
}

/// Removes the first `rank` and shrinks the array.
///
/// # Safety
/// `rank_list` is NULL or a valid list whose array is a libc block.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_del(rank_list: *mut sys::d_rank_list_t, rank: sys::d_rank_t) -> c_int {
    if rank_list.is_null() {
        tracing::error!(target: "misc", "rank_list cannot be NULL");
        return DER_INVAL;
    }
    let mut idx: c_int = 0;
    // SAFETY: the caller's contract.
    unsafe {
        if !d_rank_list_find(rank_list, rank, &mut idx) {
            tracing::trace!(target: "misc", "Rank {} not in the rank list.", rank as i32);
            return 0;
        }
        d_rank_list_del_at(rank_list, idx);
        let rc = d_rank_list_resize(rank_list, (*rank_list).rl_nr);
        if rc != 0 {
            tracing::error!(target: "misc", "d_rank_list_resize() failed.");
        }
        rc
    }
}

/// Appends `rank`, growing the array by one.
///
/// # Safety
/// As [`d_rank_list_del`].
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_append(rank_list: *mut sys::d_rank_list_t, rank: sys::d_rank_t) -> c_int {
    // SAFETY: the caller's contract.
    let Some(l) = (unsafe { rank_list.as_mut() }) else { return DER_INVAL };
    let old = l.rl_nr;
    let Some(new) = old.checked_add(1) else { return DER_INVAL };
    // SAFETY: the caller's contract.
    let rc = unsafe { d_rank_list_resize(l, new) };
    if rc != 0 {
        tracing::error!(target: "misc", "d_rank_list_resize() failed.");
        return rc;
    }
    // SAFETY: the array now holds old + 1 ranks.
    unsafe { *l.rl_ranks.add(old as usize) = rank };
    0
}

/// Whether two lists hold the same ranks. As upstream, the first list is sorted in place and
/// compared in order with the second (which should already be sorted).
///
/// # Safety
/// Both are NULL or valid lists.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_identical(
    rank_list1: *mut sys::d_rank_list_t,
    rank_list2: *mut sys::d_rank_list_t,
) -> bool {
    if rank_list1 == rank_list2 {
        return true;
    }
    // SAFETY: the caller's contract; the lists are distinct.
    unsafe {
        if rank_list1.is_null() || rank_list2.is_null() || (*rank_list1).rl_nr != (*rank_list2).rl_nr {
            return false;
        }
        let (Some(a), Some(b)) = (ranks_mut(rank_list1), ranks(rank_list2)) else { return false };
        rank::sort(a);
        a == b
    }
}

/// Whether `rank` is in the list.
///
/// # Safety
/// `rank_list` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn d_rank_in_rank_list(rank_list: *mut sys::d_rank_list_t, rank: sys::d_rank_t) -> bool {
    // SAFETY: the caller's contract.
    unsafe { ranks(rank_list) }.is_some_and(|r| r.contains(&rank))
}

/// The index of the first `rank` in the list, in `*idx`; -DER_NONEXIST if absent.
///
/// # Safety
/// `rank_list` is NULL or a valid list; `idx` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_idx_in_rank_list(
    rank_list: *mut sys::d_rank_list_t,
    rank: sys::d_rank_t,
    idx: *mut u32,
) -> c_int {
    if idx.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the caller's contract.
    let Some(r) = (unsafe { ranks(rank_list) }) else { return DER_INVAL };
    match r.iter().position(|&x| x == rank) {
        Some(i) => {
            // SAFETY: idx is writable.
            unsafe { *idx = i as u32 };
            0
        }
        None => DER_NONEXIST,
    }
}

/// Logs "NAME, N ranks: r r r " at trace level (upstream's DB_TRACE). `name` must be at most `name_len` bytes.
///
/// # Safety
/// `rank_list` is NULL or a valid list; `name` is NULL or readable up to `name_len + 1` bytes
/// or its NUL.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_dump(
    rank_list: *mut sys::d_rank_list_t,
    name: sys::d_string_t,
    name_len: c_int,
) -> c_int {
    if name.is_null() || name_len < 0 {
        tracing::error!(target: "misc", "name parameter too long.");
        return DER_INVAL;
    }
    // SAFETY: name is readable up to name_len + 1 bytes or its NUL (strnlen's contract).
    let width = unsafe { libc::strnlen(name, name_len as usize + 1) };
    if width > name_len as usize {
        tracing::error!(target: "misc", "name parameter too long.");
        return DER_INVAL;
    }
    // SAFETY: the caller's contract.
    let Some(r) = (unsafe { ranks(rank_list) }) else { return DER_INVAL };
    // SAFETY: name has a NUL within width + 1 bytes (checked above).
    let name = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), width) };
    tracing::trace!(target: "misc", "{}, {} ranks: {}", String::from_utf8_lossy(name), r.len() as u32 as i32,
        rank::dump_str(r));
    0
}

/// Copies `bytes` into a new NUL-terminated libc string (D_ALLOC'd).
fn c_string(bytes: &[u8]) -> Option<NonNull<c_char>> {
    let p = mem::alloc_array::<u8>(bytes.len() + 1)?;
    // SAFETY: p holds len + 1 zeroed bytes.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr(), bytes.len()) };
    Some(p.cast())
}

/// "[1-3,5]": the ranged string of a list, which is sorted in place. A NULL list gives a NULL
/// string and 0.
///
/// # Safety
/// `ranks_in` is NULL or a valid list; `ranks_str` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_rank_list_to_str(rank_list: *mut sys::d_rank_list_t, rank_str: *mut *mut c_char) -> c_int {
    if rank_str.is_null() {
        return DER_INVAL;
    }
    if rank_list.is_null() {
        // SAFETY: rank_str is writable.
        unsafe { *rank_str = ptr::null_mut() };
        return 0;
    }
    // SAFETY: the caller's contract. A count with a NULL array reads as empty, as upstream.
    let r: &mut [u32] = unsafe { ranks_mut(rank_list) }.unwrap_or_default();
    rank::sort(r);
    let mut out = Vec::new();
    rank::sorted_to_str(r, &mut out);
    match c_string(&out) {
        Some(s) => {
            // SAFETY: rank_str is writable.
            unsafe { *rank_str = s.as_ptr() };
            0
        }
        None => DER_NOMEM,
    }
}

/// A new list holding `len` ranks copied from `ints` (NULL when out of memory or when `ints` is
/// NULL with a length).
///
/// # Safety
/// `ints` is NULL or holds `len` values.
#[no_mangle]
pub unsafe extern "C" fn uint32_array_to_rank_list(ints: *mut u32, len: usize) -> *mut sys::d_rank_list_t {
    if len == 0 {
        return new_list(&[]);
    }
    if ints.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the caller's contract.
    new_list(unsafe { std::slice::from_raw_parts(ints, len) })
}

/// A new libc array of the list's ranks in `*ints`, their count in `*len`.
///
/// # Safety
/// `rl` is NULL or a valid list; `ints` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rank_list_to_uint32_array(
    rl: *mut sys::d_rank_list_t,
    ints: *mut *mut u32,
    len: *mut usize,
) -> c_int {
    if ints.is_null() || len.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the caller's contract.
    let Some(r) = (unsafe { ranks(rl) }) else { return DER_INVAL };
    let Some(a) = mem::alloc_array::<u32>(r.len()) else { return DER_NOMEM };
    // SAFETY: a holds r.len() values; ints and len are writable.
    unsafe {
        ptr::copy_nonoverlapping(r.as_ptr(), a.as_ptr(), r.len());
        *ints = a.as_ptr();
        *len = r.len();
    }
    0
}

/// A new range list of `size` zeroed ranges.
#[no_mangle]
pub extern "C" fn d_rank_range_list_alloc(size: u32) -> *mut sys::d_rank_range_list_t {
    let Some(l) = mem::alloc_array::<sys::d_rank_range_list_t>(1) else { return ptr::null_mut() };
    if size > 0 {
        let Some(a) = mem::alloc_array::<sys::d_rank_range_t>(size as usize) else {
            // SAFETY: l was allocated above and is not used again.
            unsafe { mem::free_ptr(l.as_ptr()) };
            return ptr::null_mut();
        };
        // SAFETY: l is a fresh zeroed list.
        unsafe {
            (*l.as_ptr()).rrl_ranges = a.as_ptr();
            (*l.as_ptr()).rrl_nr = size;
        }
    }
    l.as_ptr()
}

/// Resizes a range list (a NULL one is allocated; size 0 frees it and returns NULL). On failure
/// NULL is returned and the list is left as it was.
///
/// # Safety
/// `range_list` is NULL or a valid range list whose array is NULL or a libc block.
#[no_mangle]
pub unsafe extern "C" fn d_rank_range_list_realloc(
    range_list: *mut sys::d_rank_range_list_t,
    size: u32,
) -> *mut sys::d_rank_range_list_t {
    // SAFETY: the caller's contract.
    let Some(l) = (unsafe { range_list.as_mut() }) else { return d_rank_range_list_alloc(size) };
    if size == 0 {
        // SAFETY: the caller's contract.
        unsafe { d_rank_range_list_free(range_list) };
        return ptr::null_mut();
    }
    let old = if l.rrl_ranges.is_null() { 0 } else { l.rrl_nr as usize };
    // SAFETY: the array is NULL or a libc block of rrl_nr ranges.
    match unsafe { mem::realloc_array(l.rrl_ranges, old, size as usize) } {
        Some(a) => {
            l.rrl_ranges = a.as_ptr();
            l.rrl_nr = size;
            range_list
        }
        None => ptr::null_mut(),
    }
}

/// The ranges of a list (sorted in place first): consecutive ranks make one range.
///
/// # Safety
/// `rank_list` is NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn d_rank_range_list_create_from_ranks(
    rank_list: *mut sys::d_rank_list_t,
) -> *mut sys::d_rank_range_list_t {
    // SAFETY: the caller's contract.
    let r: &mut [u32] = unsafe { ranks_mut(rank_list) }.unwrap_or_default();
    rank::sort(r);
    let ranges = rank::ranges(r);
    let l = d_rank_range_list_alloc(ranges.len() as u32);
    if let Some(l) = NonNull::new(l) {
        // SAFETY: l holds ranges.len() ranges.
        unsafe {
            for (i, (lo, hi)) in ranges.into_iter().enumerate() {
                *(*l.as_ptr()).rrl_ranges.add(i) = sys::d_rank_range_t { lo, hi };
            }
        }
    }
    l
}

/// "[lo-hi,r,...]" of a range list.
///
/// # Safety
/// `list` is NULL or a valid range list; `ranks_str` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_rank_range_list_str(
    list: *mut sys::d_rank_range_list_t,
    ranks_str: *mut *mut c_char,
) -> c_int {
    // SAFETY: the caller's contract.
    let Some(l) = (unsafe { list.as_ref() }) else { return DER_INVAL };
    if ranks_str.is_null() || (l.rrl_ranges.is_null() && l.rrl_nr > 0) {
        return DER_INVAL;
    }
    let ranges: &[sys::d_rank_range_t] = if l.rrl_nr == 0 {
        &[]
    } else {
        // SAFETY: the array holds rrl_nr ranges.
        unsafe { std::slice::from_raw_parts(l.rrl_ranges, l.rrl_nr as usize) }
    };
    let mut out = Vec::with_capacity(ranges.len() * 8 + 2);
    rank::ranges_str(ranges.iter().map(|r| (r.lo, r.hi)), &mut out);
    match c_string(&out) {
        Some(s) => {
            // SAFETY: ranks_str is writable.
            unsafe { *ranks_str = s.as_ptr() };
            0
        }
        None => DER_NOMEM,
    }
}

/// Frees a range list and its array.
///
/// # Safety
/// `range_list` is NULL or a range list allocated by gurt.
#[no_mangle]
pub unsafe extern "C" fn d_rank_range_list_free(range_list: *mut sys::d_rank_range_list_t) {
    if range_list.is_null() {
        return;
    }
    // SAFETY: the caller's contract.
    unsafe {
        mem::free_ptr((*range_list).rrl_ranges);
        mem::free_ptr(range_list);
    }
}

// ---------------------------------------------------------------------------------------------
// Environment

/// A C string argument, or None for NULL.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives the use.
unsafe fn c_arg<'a>(p: *const c_char) -> Option<&'a CStr> {
    // SAFETY: the caller's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) })
}

/// Whether `name` is set.
///
/// # Safety
/// `name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn d_isenv_def(name: *mut c_char) -> bool {
    // SAFETY: the caller's contract.
    unsafe { c_arg(name) }.is_some_and(env::is_defined)
}

/// Copies the value of `name` into `str_val` (`str_size` bytes with the NUL): 0, -DER_TRUNC
/// (cut), -DER_NONEXIST (unset; `str_val` untouched) or -DER_INVAL.
///
/// # Safety
/// `str_val` is NULL or has `str_size` writable bytes; `name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn d_getenv_str(str_val: *mut c_char, str_size: usize, name: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let Some(name) = (unsafe { c_arg(name) }) else { return DER_INVAL };
    if str_val.is_null() || str_size == 0 {
        return DER_INVAL;
    }
    // SAFETY: str_val has str_size writable bytes.
    let buf = unsafe { std::slice::from_raw_parts_mut(str_val.cast::<u8>(), str_size) };
    env::get_str(buf, name).err().unwrap_or(0)
}

/// A libc copy of the value of `name` in `*str_val` (NULL on any error).
///
/// # Safety
/// `str_val` is NULL or writable; `name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn d_agetenv_str(str_val: *mut *mut c_char, name: *const c_char) -> c_int {
    if str_val.is_null() {
        return DER_INVAL;
    }
    // SAFETY: str_val is writable.
    unsafe { *str_val = ptr::null_mut() };
    // SAFETY: the caller's contract.
    let Some(name) = (unsafe { c_arg(name) }) else { return DER_INVAL };
    match env::aget_str(name) {
        Ok(s) => {
            // SAFETY: as above.
            unsafe { *str_val = s.as_ptr() };
            0
        }
        Err(rc) => rc,
    }
}

/// Frees a string from `d_agetenv_str` and clears the pointer.
///
/// # Safety
/// `str_val` is NULL or points to NULL or a libc string.
#[no_mangle]
pub unsafe extern "C" fn d_freeenv_str(str_val: *mut *mut c_char) {
    // SAFETY: the caller's contract.
    let Some(p) = (unsafe { str_val.as_mut() }) else { return };
    if !p.is_null() {
        // SAFETY: *p is a libc string (d_agetenv_str's strdup), freed once.
        unsafe { libc::free((*p).cast()) };
        *p = ptr::null_mut();
    }
}

/// `*bool_val` = false if `name` is an integer 0, true if set to anything else.
///
/// # Safety
/// `name` is NULL or a C string; `bool_val` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_getenv_bool(name: *const c_char, bool_val: *mut bool) -> c_int {
    // SAFETY: the caller's contract.
    let Some(name) = (unsafe { c_arg(name) }) else { return DER_INVAL };
    if bool_val.is_null() {
        return DER_INVAL;
    }
    match env::get_bool(name) {
        Ok(v) => {
            // SAFETY: bool_val is writable.
            unsafe { *bool_val = v };
            0
        }
        Err(rc) => rc,
    }
}

/// `*char_val` = the value of `name`, which must be one character.
///
/// # Safety
/// `name` is NULL or a C string; `char_val` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_getenv_char(name: *const c_char, char_val: *mut c_char) -> c_int {
    // SAFETY: the caller's contract.
    let Some(name) = (unsafe { c_arg(name) }) else { return DER_INVAL };
    if char_val.is_null() {
        return DER_INVAL;
    }
    match env::get_char(name) {
        Ok(v) => {
            // SAFETY: char_val is writable.
            unsafe { *char_val = v };
            0
        }
        Err(rc) => rc,
    }
}

/// # Safety
/// `name` is NULL or a C string; `out` is NULL or writable.
unsafe fn getenv_unsigned<T: TryFrom<u64>>(name: *const c_char, out: *mut T) -> c_int {
    // SAFETY: the caller's contract.
    let Some(name) = (unsafe { c_arg(name) }) else { return DER_INVAL };
    if out.is_null() {
        return DER_INVAL;
    }
    match env::get_unsigned(name, std::mem::size_of::<T>()) {
        Ok(v) => match T::try_from(v) {
            Ok(v) => {
                // SAFETY: out is writable.
                unsafe { *out = v };
                0
            }
            Err(_) => DER_INVAL,
        },
        Err(rc) => rc,
    }
}

/// `*uint_val` = the unsigned value of `name` (a negative one wraps: "-1" is UINT_MAX).
///
/// # Safety
/// `name` is NULL or a C string; `uint_val` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_getenv_uint(name: *const c_char, uint_val: *mut c_uint) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { getenv_unsigned(name, uint_val) }
}

/// Deprecated name of `d_getenv_uint`.
///
/// # Safety
/// As `d_getenv_uint`.
#[no_mangle]
pub unsafe extern "C" fn d_getenv_int(name: *const c_char, uint_val: *mut c_uint) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { getenv_unsigned(name, uint_val) }
}

/// # Safety
/// As `d_getenv_uint`.
#[no_mangle]
pub unsafe extern "C" fn d_getenv_uint32_t(name: *const c_char, uint32_val: *mut u32) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { getenv_unsigned(name, uint32_val) }
}

/// # Safety
/// As `d_getenv_uint`.
#[no_mangle]
pub unsafe extern "C" fn d_getenv_uint64_t(name: *const c_char, uint64_val: *mut u64) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { getenv_unsigned(name, uint64_val) }
}

/// -1 with errno EINVAL, for a NULL argument of the writers.
fn einval() -> c_int {
    // SAFETY: this thread's errno.
    unsafe { *libc::__errno_location() = libc::EINVAL };
    -1
}

/// `putenv` under gurt's environment lock; errno as putenv left it.
///
/// # Safety
/// `name` is NULL or a "NAME=VALUE" string that stays valid while in the environment.
#[no_mangle]
pub unsafe extern "C" fn d_putenv(name: *mut c_char) -> c_int {
    if name.is_null() {
        return einval();
    }
    // SAFETY: the caller's contract.
    unsafe { env::put(name) }
}

/// `setenv` under gurt's environment lock; errno as setenv left it.
///
/// # Safety
/// `name` and `value` are NULL or C strings.
#[no_mangle]
pub unsafe extern "C" fn d_setenv(name: *const c_char, value: *const c_char, overwrite: c_int) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { (c_arg(name), c_arg(value)) } {
        (Some(n), Some(v)) => env::set(n, v, overwrite),
        _ => einval(),
    }
}

/// `unsetenv` under gurt's environment lock; errno as unsetenv left it.
///
/// # Safety
/// `name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn d_unsetenv(name: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    match unsafe { c_arg(name) } {
        Some(n) => env::unset(n),
        None => einval(),
    }
}

/// `clearenv` under gurt's environment lock.
#[no_mangle]
pub extern "C" fn d_clearenv() -> c_int {
    env::clear()
}

// ---------------------------------------------------------------------------------------------
// String buffers (d_write_string_buffer is in c/misc.c)

/// Frees a string buffer's text and resets it.
///
/// # Safety
/// `buf` is NULL or a valid string buffer.
#[no_mangle]
pub unsafe extern "C" fn d_free_string(buf: *mut sys::d_string_buffer_t) {
    // SAFETY: the caller's contract.
    let Some(b) = (unsafe { buf.as_mut() }) else { return };
    if !b.str_.is_null() {
        // SAFETY: the text is a libc block from d_write_string_buffer.
        unsafe { mem::free_ptr(b.str_) };
        b.str_ = ptr::null_mut();
        b.status = 0;
        b.str_size = 0;
        b.buf_size = 0;
    }
}

// ---------------------------------------------------------------------------------------------
// Backoff sequences

/// # Safety
/// `seq` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_backoff_seq_init(
    seq: *mut sys::d_backoff_seq,
    nzeros: u8,
    factor: u16,
    next: u32,
    max: u32,
) -> c_int {
    // SAFETY: the caller's contract.
    let Some(s) = (unsafe { seq.as_mut() }) else { return DER_INVAL };
    if !backoff::valid(factor, next, max) {
        return DER_INVAL;
    }
    s.bos_flags = 0;
    s.bos_nzeros = nzeros;
    s.bos_factor = factor;
    s.bos_next = next;
    s.bos_max = max;
    0
}

/// Nothing to release; kept for symmetry with init.
#[no_mangle]
pub extern "C" fn d_backoff_seq_fini(_seq: *mut sys::d_backoff_seq) {}

/// The next backoff of `seq` (0 for NULL).
///
/// # Safety
/// `seq` is NULL or a sequence set up by `d_backoff_seq_init`.
#[no_mangle]
pub unsafe extern "C" fn d_backoff_seq_next(seq: *mut sys::d_backoff_seq) -> u32 {
    // SAFETY: the caller's contract.
    let Some(s) = (unsafe { seq.as_mut() }) else { return 0 };
    if s.bos_factor == 0 {
        return 0; // never initialised: upstream would divide by zero
    }
    let mut st = backoff::Seq { nzeros: s.bos_nzeros, factor: s.bos_factor, next: s.bos_next, max: s.bos_max };
    let v = backoff::next(&mut st, rand::rand);
    s.bos_nzeros = st.nzeros;
    s.bos_next = st.next;
    v
}

// ---------------------------------------------------------------------------------------------
// Pointer vectors

/// # Safety
/// `pointers` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_vec_pointers_init(pointers: *mut sys::d_vec_pointers, cap: u32) -> c_int {
    // SAFETY: the caller's contract.
    let Some(v) = (unsafe { pointers.as_mut() }) else { return DER_INVAL };
    let mut buf = ptr::null_mut();
    if cap > 0 {
        match mem::alloc_array::<*mut c_void>(cap as usize) {
            Some(b) => buf = b.as_ptr(),
            None => return DER_NOMEM,
        }
    }
    v.p_buf = buf;
    v.p_cap = cap;
    v.p_len = 0;
    0
}

/// # Safety
/// `pointers` is NULL or a vector set up by `d_vec_pointers_init`.
#[no_mangle]
pub unsafe extern "C" fn d_vec_pointers_fini(pointers: *mut sys::d_vec_pointers) {
    // SAFETY: the caller's contract.
    let Some(v) = (unsafe { pointers.as_mut() }) else { return };
    // SAFETY: p_buf is NULL or the vector's libc block.
    unsafe { mem::free_ptr(v.p_buf) };
    v.p_buf = ptr::null_mut();
    v.p_cap = 0;
    v.p_len = 0;
}

/// Appends a pointer, doubling the capacity when full.
///
/// # Safety
/// `pointers` is NULL or a vector set up by `d_vec_pointers_init`.
#[no_mangle]
pub unsafe extern "C" fn d_vec_pointers_append(pointers: *mut sys::d_vec_pointers, pointer: *mut c_void) -> c_int {
    // SAFETY: the caller's contract.
    let Some(v) = (unsafe { pointers.as_mut() }) else { return DER_INVAL };
    if v.p_len >= v.p_cap {
        let Some(cap) = (if v.p_cap == 0 { Some(1) } else { v.p_cap.checked_mul(2) }) else {
            return DER_NOMEM;
        };
        // SAFETY: p_buf is NULL or a libc block of p_cap pointers.
        match unsafe { mem::realloc_array(v.p_buf, v.p_cap as usize, cap as usize) } {
            Some(b) => {
                v.p_buf = b.as_ptr();
                v.p_cap = cap;
            }
            None => return DER_NOMEM,
        }
    }
    // SAFETY: p_len < p_cap slots.
    unsafe { *v.p_buf.add(v.p_len as usize) = pointer };
    v.p_len += 1;
    0
}

// ---------------------------------------------------------------------------------------------
// Helpers for c/misc.c (not exported from the shared library)

/// `D_ALLOC(ptr, size)` for the C edge: zeroed, tracked, subject to memory fault injection.
#[no_mangle]
pub extern "C" fn __oxidaos_gurt_alloc(size: usize) -> *mut c_void {
    mem::alloc_array::<u8>(size).map_or(ptr::null_mut(), |p| p.as_ptr().cast())
}

/// `D_REALLOC(new, old, old_size, size)` for the C edge (bytes beyond `old_size` zeroed).
///
/// # Safety
/// `old` is NULL or a libc block of at least `old_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn __oxidaos_gurt_realloc(old: *mut c_void, old_size: usize, size: usize) -> *mut c_void {
    // SAFETY: the caller's contract.
    unsafe { mem::realloc_array::<u8>(old.cast(), old_size, size) }.map_or(ptr::null_mut(), |p| p.as_ptr().cast())
}

/// Reports an allocation the C edge made itself (vasprintf) to the tracking callback.
#[no_mangle]
pub extern "C" fn __oxidaos_gurt_track_alloc(ptr: *mut c_void, size: usize) {
    mem::track_external_alloc(ptr, size);
}

