//! Exports of upstream `dlog.c` (the log itself); `d_vlog` is in `c/dlog.c` and calls
//! [`oxidaos_gurt_vlog_emit`].

use std::ffi::{c_char, c_int, CStr};

use crate::dlog;
use crate::sys;

/// The log's C-visible state, read by the inline `d_log_check()` of every caller.
#[no_mangle]
pub static mut d_log_xst: sys::d_log_xstate = sys::d_log_xstate {
    tag: std::ptr::null_mut(),
    dlog_facs: std::ptr::null_mut(),
    nodename: std::ptr::null_mut(),
    fac_cnt: 0,
};

/// An optional C string argument.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives the call.
unsafe fn opt_cstr<'a>(p: *const c_char) -> Option<&'a CStr> {
    // SAFETY: per the function's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) })
}

/// d_vlog's Rust half (not exported from libgurt.so): builds the line for the message `msg`
/// (`msg_len` bytes of a `full_len`-byte message) into `line` (`line_size` >= 1024 bytes),
/// writes it to the log file, stores the header's first-part length in `*pt1_len` and returns
/// the stdio copies to make (DLOG_STDERR | DLOG_STDOUT, plus 1 to skip the first part), 0 for
/// none.
///
/// # Safety
/// `msg` holds `msg_len` bytes, `line` `line_size` writable bytes, `pt1_len` is writable.
#[no_mangle]
pub unsafe extern "C" fn oxidaos_gurt_vlog_emit(
    flags: c_int,
    msg: *const c_char,
    msg_len: c_int,
    full_len: c_int,
    line: *mut c_char,
    line_size: c_int,
    pt1_len: *mut c_int,
) -> c_int {
    if msg.is_null() || line.is_null() || pt1_len.is_null() || line_size < dlog::LINE_SIZE as c_int {
        return 0;
    }
    crate::ffi::guard(0, || {
        // SAFETY: per the function's contract (d_vlog passes its own buffers).
        let (m, out) = unsafe {
            (
                std::slice::from_raw_parts(msg.cast::<u8>(), msg_len.max(0) as usize),
                &mut *line.cast::<[u8; dlog::LINE_SIZE]>(),
            )
        };
        match dlog::emit(flags, m, full_len.max(0) as usize, out) {
            Some(e) => {
                // SAFETY: per the function's contract.
                unsafe { *pt1_len = e.pt1 as c_int };
                e.out
            }
            None => 0,
        }
    })
}

/// Registers a facility cache (reset to DLOG_UNINIT whenever masks change).
#[no_mangle]
pub extern "C" fn d_log_add_cache(cache: *mut c_int, nr: c_int) {
    dlog::add_cache(cache, nr);
}

/// Allocates a new facility: its number, or -1.
///
/// # Safety
/// The names are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn d_log_allocfacility(aname: *const c_char, lname: *const c_char) -> c_int {
    // SAFETY: per the function's contract.
    let (a, l) = unsafe { (opt_cstr(aname), opt_cstr(lname)) };
    crate::ffi::guard(-1, || dlog::alloc_facility(a, l))
}

/// Names facility `facility` (growing the table as needed): 0 or -1.
///
/// # Safety
/// The names are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn d_log_namefacility(facility: c_int, aname: *const c_char, lname: *const c_char) -> c_int {
    // SAFETY: per the function's contract.
    let (a, l) = unsafe { (opt_cstr(aname), opt_cstr(lname)) };
    crate::ffi::guard(-1, || dlog::name_facility(facility, a, l))
}

/// Whether DD_SUBSYS enables the facility name (false for NULL).
///
/// # Safety
/// `fac_name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn d_logfac_is_enabled(fac_name: *const c_char) -> bool {
    // SAFETY: per the function's contract.
    match unsafe { opt_cstr(fac_name) } {
        Some(n) => dlog::fac_is_enabled(n.to_bytes()),
        None => false,
    }
}

/// Closes the log.
#[no_mangle]
pub extern "C" fn d_log_close() {
    dlog::close();
}

/// Stops writing to the log file.
#[no_mangle]
pub extern "C" fn d_log_disable_logging() {
    dlog::disable_logging();
}

/// The masks as text ("NAME=PRI,...\n"), skipping `discard` bytes, into `buf` (`len` bytes;
/// NULL: returns the total length).
///
/// # Safety
/// `buf` is NULL or has `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn d_log_getmasks(buf: *mut c_char, discard: c_int, len: c_int, unterm: c_int) -> c_int {
    let out = if buf.is_null() {
        None
    } else {
        // SAFETY: per the function's contract.
        Some(unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len.max(0) as usize) })
    };
    crate::ffi::guard(0, std::panic::AssertUnwindSafe(move || dlog::get_masks(out, discard, unterm != 0)))
}

/// Opens the log: 0 or -1.
///
/// # Safety
/// `tag` and `logfile` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn d_log_open(
    tag: *mut c_char,
    maxfac_hint: c_int,
    default_mask: c_int,
    stderr_mask: c_int,
    logfile: *mut c_char,
    flags: c_int,
    id_cb: sys::d_log_id_cb_t,
) -> c_int {
    // SAFETY: per the function's contract.
    let (tag, logfile) = unsafe { (opt_cstr(tag), opt_cstr(logfile)) };
    crate::ffi::guard(-1, || {
        dlog::open(&dlog::OpenArgs { tag, maxfac_hint, default_mask, stderr_mask, logfile, flags, id_cb })
    })
}

/// Renames the log file after the rank (D_LOG_FILE_APPEND_RANK).
#[no_mangle]
pub extern "C" fn d_log_rank_setup(rank: c_int) {
    dlog::rank_setup(rank);
}

/// Forgets this thread's cached ids (after fork).
#[no_mangle]
pub extern "C" fn d_log_reset() {
    dlog::reset_thread();
}

/// Sets one facility's mask: its previous mask, or -1.
#[no_mangle]
pub extern "C" fn d_log_setlogmask(facility: c_int, mask: c_int) -> c_int {
    crate::ffi::guard(-1, || dlog::set_logmask(facility, mask))
}

/// Applies "[FAC=]LEVEL,..." (`mlen` bytes, or NUL-terminated when negative).
///
/// # Safety
/// `mstr` is NULL or holds `mlen` bytes (a NUL-terminated string when `mlen` < 0).
#[no_mangle]
pub unsafe extern "C" fn d_log_setmasks(mstr: *const c_char, mlen: c_int) -> c_int {
    if mstr.is_null() {
        return -1;
    }
    // SAFETY: per the function's contract.
    let m = unsafe {
        if mlen < 0 {
            CStr::from_ptr(mstr).to_bytes()
        } else {
            std::slice::from_raw_parts(mstr.cast::<u8>(), mlen as usize)
        }
    };
    crate::ffi::guard(-1, || dlog::set_masks(m))
}

/// Writes buffered lines and syncs the log file.
#[no_mangle]
pub extern "C" fn d_log_sync() {
    dlog::sync();
}
