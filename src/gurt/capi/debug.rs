//! Exports of upstream `debug.c`: the debug-bit tables and variables, gurt's facilities and
//! their caches, d_log_init/fini, d_log_memory and the alternative assert.

use std::ffi::{c_char, c_int, CStr};

use crate::debug;
use crate::dlog::DLOG_UNINIT;
use crate::sys;

/// gurt's debug bits (values given by d_log_init).
#[no_mangle]
pub static mut DB_ALL: sys::d_dbug_t = 0;
#[no_mangle]
pub static mut DB_ANY: sys::d_dbug_t = 0;
#[no_mangle]
pub static mut DB_TRACE: sys::d_dbug_t = 0;
#[no_mangle]
pub static mut DB_MEM: sys::d_dbug_t = 0;
#[no_mangle]
pub static mut DB_NET: sys::d_dbug_t = 0;
#[no_mangle]
pub static mut DB_IO: sys::d_dbug_t = 0;
#[no_mangle]
pub static mut DB_TEST: sys::d_dbug_t = 0;

/// The ten configurable bits' variables (d_log_dbg_bit_alloc).
static mut DB_OPT1: sys::d_dbug_t = 0;
static mut DB_OPT2: sys::d_dbug_t = 0;
static mut DB_OPT3: sys::d_dbug_t = 0;
static mut DB_OPT4: sys::d_dbug_t = 0;
static mut DB_OPT5: sys::d_dbug_t = 0;
static mut DB_OPT6: sys::d_dbug_t = 0;
static mut DB_OPT7: sys::d_dbug_t = 0;
static mut DB_OPT8: sys::d_dbug_t = 0;
static mut DB_OPT9: sys::d_dbug_t = 0;
static mut DB_OPT10: sys::d_dbug_t = 0;

/// gurt's facilities (numbers given by d_log_init) and their mask caches.
#[no_mangle]
pub static mut d_misc_logfac: c_int = 0;
#[no_mangle]
pub static mut d_mem_logfac: c_int = 0;
#[no_mangle]
pub static mut d_swim_logfac: c_int = 0;
#[no_mangle]
pub static mut d_fi_logfac: c_int = 0;
#[no_mangle]
pub static mut d_telem_logfac: c_int = 0;
#[no_mangle]
pub static mut d_misc_logfac_cache: [c_int; 16] = [DLOG_UNINIT; 16];
#[no_mangle]
pub static mut d_mem_logfac_cache: [c_int; 16] = [DLOG_UNINIT; 16];
#[no_mangle]
pub static mut d_swim_logfac_cache: [c_int; 16] = [DLOG_UNINIT; 16];
#[no_mangle]
pub static mut d_fi_logfac_cache: [c_int; 16] = [DLOG_UNINIT; 16];
#[no_mangle]
pub static mut d_telem_logfac_cache: [c_int; 16] = [DLOG_UNINIT; 16];

/// The alternative assert function (d_register_alt_assert).
#[no_mangle]
pub static mut d_alt_assert: Option<unsafe extern "C" fn(c_int, *const c_char, *const c_char, c_int)> = None;

const fn named(bit: *mut sys::d_dbug_t, name: &'static CStr) -> sys::d_debug_bit {
    sys::d_debug_bit {
        db_bit: bit,
        db_name: name.as_ptr() as *mut c_char,
        db_lname: name.as_ptr() as *mut c_char,
        db_name_size: name.to_bytes().len() + 1,
        db_lname_size: name.to_bytes().len() + 1,
    }
}

/// A free slot: no names; upstream's initialiser leaves both sizes at sizeof(NULL).
const fn free_slot(bit: *mut sys::d_dbug_t) -> sys::d_debug_bit {
    sys::d_debug_bit {
        db_bit: bit,
        db_name: std::ptr::null_mut(),
        db_lname: std::ptr::null_mut(),
        db_name_size: size_of::<*const c_char>(),
        db_lname_size: size_of::<*const c_char>(),
    }
}

/// The debug-bit table: gurt's seven bits, then ten slots for components' bits.
#[no_mangle]
pub static mut d_dbg_bit_dict: [sys::d_debug_bit; 17] = [
    named(&raw mut DB_ALL, c"all"),
    named(&raw mut DB_ANY, c"any"),
    named(&raw mut DB_TRACE, c"trace"),
    named(&raw mut DB_MEM, c"mem"),
    named(&raw mut DB_NET, c"net"),
    named(&raw mut DB_IO, c"io"),
    named(&raw mut DB_TEST, c"test"),
    free_slot(&raw mut DB_OPT1),
    free_slot(&raw mut DB_OPT2),
    free_slot(&raw mut DB_OPT3),
    free_slot(&raw mut DB_OPT4),
    free_slot(&raw mut DB_OPT5),
    free_slot(&raw mut DB_OPT6),
    free_slot(&raw mut DB_OPT7),
    free_slot(&raw mut DB_OPT8),
    free_slot(&raw mut DB_OPT9),
    free_slot(&raw mut DB_OPT10),
];

const NO_GRP: sys::d_debug_grp = sys::d_debug_grp { dg_name: std::ptr::null_mut(), dg_name_size: 0, dg_mask: 0 };

/// The debug-group table (d_log_dbg_grp_alloc).
#[no_mangle]
pub static mut d_dbg_grp_dict: [sys::d_debug_grp; 10] = [NO_GRP; 10];

/// DD_MASK's bits, DD_STDERR's priority, the allocated bit and group counts.
#[no_mangle]
pub static mut d_dbglog_data: sys::d_debug_data =
    sys::d_debug_data { dd_mask: 0, dd_prio_err: 0, dbg_bit_cnt: 0, dbg_grp_cnt: 0 };

/// Raises a failed internal assertion (see debug::assert_failed).
fn raise(expr: &'static CStr, func: &str) {
    debug::assert_failed(expr, func, c"src/gurt/debug.rs", line!());
}

/// Optional C string as bytes.
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: per the function's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p).to_bytes() })
}

/// Allocates (or finds) the debug bit `name`: 0 or -1.
///
/// # Safety
/// `dbgbit` is NULL or writable; the names are NULL or NUL-terminated strings that stay alive
/// while the bit is allocated (they are kept by pointer).
#[no_mangle]
pub unsafe extern "C" fn d_log_dbg_bit_alloc(dbgbit: *mut sys::d_dbug_t, name: *mut c_char, lname: *mut c_char) -> c_int {
    if name.is_null() || dbgbit.is_null() {
        return -1;
    }
    // SAFETY: per the function's contract.
    let out = unsafe { &mut *dbgbit };
    crate::ffi::guard(-1, std::panic::AssertUnwindSafe(|| debug::bit_alloc(out, name, lname)))
}

/// Frees the debug bit `name`: 0 or -1.
///
/// # Safety
/// `name` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn d_log_dbg_bit_dealloc(name: *mut c_char) -> c_int {
    // SAFETY: per the function's contract.
    let Some(n) = (unsafe { bytes(name) }) else {
        return -1;
    };
    match crate::ffi::guard(Ok(-1), || debug::bit_dealloc(n)) {
        Ok(rc) => rc,
        Err(e) => {
            raise(e, "d_log_dbg_bit_dealloc");
            -1
        }
    }
}

/// Names a group of debug bits: 0 or -1.
///
/// # Safety
/// `grpname` is NULL or a NUL-terminated string kept alive while the group exists.
#[no_mangle]
pub unsafe extern "C" fn d_log_dbg_grp_alloc(dbgmask: sys::d_dbug_t, grpname: *mut c_char, flags: u32) -> c_int {
    crate::ffi::guard(-1, || debug::grp_alloc(dbgmask, grpname, flags))
}

/// Removes a debug group: 0 or -1.
///
/// # Safety
/// `grpname` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn d_log_dbg_grp_dealloc(grpname: *mut c_char) -> c_int {
    // SAFETY: per the function's contract.
    let Some(n) = (unsafe { bytes(grpname) }) else {
        return -1;
    };
    match crate::ffi::guard(Ok(-1), || debug::grp_dealloc(n)) {
        Ok(rc) => rc,
        Err(e) => {
            raise(e, "d_log_dbg_grp_dealloc");
            -1
        }
    }
}

/// The value of the debug bit `bitname`: 0 (also for NULL) or -1.
///
/// # Safety
/// `dbgbit` is writable; `bitname` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn d_log_getdbgbit(dbgbit: *mut sys::d_dbug_t, bitname: *mut c_char) -> c_int {
    // SAFETY: per the function's contract.
    let Some(n) = (unsafe { bytes(bitname) }) else {
        return 0;
    };
    if dbgbit.is_null() {
        return -1;
    }
    match crate::ffi::guard(None, || debug::get_dbg_bit(n)) {
        Some(v) => {
            // SAFETY: per the function's contract.
            unsafe { *dbgbit = v };
            0
        }
        None => -1,
    }
}

/// Drops a d_log_init reference (the last closes the log).
#[no_mangle]
pub extern "C" fn d_log_fini() {
    if let Err(e) = crate::ffi::guard(Ok(()), debug::fini) {
        raise(e, "d_log_fini");
    }
}

/// Opens the shared log from the environment (reference counted): 0 or -DER_UNINIT.
#[no_mangle]
pub extern "C" fn d_log_init() -> c_int {
    match crate::ffi::guard(Ok(-1015), debug::init) {
        Ok(rc) => rc,
        Err(e) => {
            raise(e, "d_log_init");
            -1015
        }
    }
}

/// d_log_init with explicit settings: 0 or -DER_UNINIT.
///
/// # Safety
/// `log_tag` and `log_file` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn d_log_init_adv(
    log_tag: *mut c_char,
    log_file: *mut c_char,
    flavor: u32,
    def_mask: sys::d_dbug_t,
    err_mask: sys::d_dbug_t,
    id_cb: sys::d_log_id_cb_t,
) -> c_int {
    // SAFETY: per the function's contract.
    let (tag, file) = unsafe { (bytes(log_tag).map(|_| CStr::from_ptr(log_tag)), bytes(log_file).map(|_| CStr::from_ptr(log_file))) };
    match crate::ffi::guard(Ok(-1015), || debug::init_adv(tag, file, flavor, def_mask, err_mask, id_cb)) {
        Ok(rc) => rc,
        Err(e) => {
            raise(e, "d_log_init_adv");
            -1015
        }
    }
}

/// Logs `size` bytes at `ptr` as a hex dump at DLOG_EMERG (misc facility).
///
/// # Safety
/// `ptr` is NULL or has `size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn d_log_memory(ptr: *const u8, size: usize) {
    let mem: &[u8] = if ptr.is_null() || size == 0 {
        &[]
    } else {
        // SAFETY: per the function's contract.
        unsafe { std::slice::from_raw_parts(ptr, size) }
    };
    crate::ffi::guard((), || debug::log_memory(ptr as usize, size, mem))
}

/// Re-applies D_LOG_MASK and DD_MASK from the environment.
#[no_mangle]
pub extern "C" fn d_log_sync_mask() {
    crate::ffi::guard((), debug::sync_mask);
}

/// Applies the given log mask and debug mask (NULL: unchanged).
///
/// # Safety
/// Both are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn d_log_sync_mask_ex(log_mask: *const c_char, dd_mask: *const c_char) {
    // SAFETY: per the function's contract.
    let (l, d) = unsafe { (bytes(log_mask), bytes(dd_mask)) };
    crate::ffi::guard((), || debug::sync_mask_ex(l, d));
}

/// Installs the alternative assert: 0, or -DER_INVAL for NULL.
#[no_mangle]
pub extern "C" fn d_register_alt_assert(
    alt_assert: Option<unsafe extern "C" fn(c_int, *const c_char, *const c_char, c_int)>,
) -> c_int {
    match alt_assert {
        Some(f) => {
            // SAFETY: a single pointer-sized store, as upstream.
            unsafe { d_alt_assert = Some(f) };
            0
        }
        None => -1003,
    }
}
