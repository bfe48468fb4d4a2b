//! `d_errstr` and `d_errdesc` (upstream `errno.c`).

use std::ffi::{c_char, c_int};

/// The name of a DER_* code; never NULL, always a static string.
#[no_mangle]
pub extern "C" fn d_errstr(errnum: c_int) -> *const c_char {
    crate::errno::name(errnum).as_ptr()
}

/// The description of a DER_* code; never NULL. Unknown codes are described in a per-thread
/// buffer that stays valid until the thread's next call for an unknown code.
#[no_mangle]
pub extern "C" fn d_errdesc(errnum: c_int) -> *const c_char {
    match crate::errno::desc(errnum) {
        Some(s) => s.as_ptr(),
        None => crate::errno::unknown_desc(errnum),
    }
}
