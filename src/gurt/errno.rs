//! DER_* error codes (upstream `errno.c`): names and descriptions, and the errno mapping.
//!
//! The table is generated from `include/daos_errno.h`, so the numbers and strings have one
//! source. Lookups are a range check and an index.

use std::cell::UnsafeCell;
use std::ffi::{c_char, CStr};
use std::io::Write;

/// One contiguous range of codes: code `base + 1 + i` is `names[i]`.
pub(crate) struct Range {
    base: u32,
    names: &'static [&'static CStr],
    descs: &'static [&'static CStr],
}

include!(concat!(env!("OUT_DIR"), "/errno_table.rs"));

/// `DER_UNKNOWN`: what an unknown code is named.
pub const DER_UNKNOWN: i32 = 1000 + 500_000;

fn lookup(errnum: i32) -> Option<(&'static CStr, &'static CStr)> {
    if errnum >= 0 {
        return None;
    }
    let code = errnum.unsigned_abs();
    RANGES.iter().find_map(|r| {
        let i = code.checked_sub(r.base + 1)? as usize;
        Some((*r.names.get(i)?, *r.descs.get(i)?))
    })
}

/// The name of `errnum` as `d_errstr` gives it.
pub fn name(errnum: i32) -> &'static CStr {
    if errnum == 0 {
        return c"DER_SUCCESS";
    }
    lookup(errnum).map_or(c"DER_UNKNOWN", |(n, _)| n)
}

/// The description of a known code (and of 0 and -DER_UNKNOWN), as `d_errdesc` gives it.
pub fn desc(errnum: i32) -> Option<&'static CStr> {
    match errnum {
        0 => Some(c"Success"),
        e if e == -DER_UNKNOWN => Some(c"Unknown error"),
        e => lookup(e).map(|(_, d)| d),
    }
}

const UNKNOWN_BUF: usize = 32;

thread_local! {
    // No destructor (a plain array), so it is safe after dlclose (rust-lang/rust#91979).
    static UNKNOWN: UnsafeCell<[u8; UNKNOWN_BUF]> = const { UnsafeCell::new([0; UNKNOWN_BUF]) };
}

/// "Unknown error code N" in this thread's buffer (upstream uses one static buffer of 32 bytes,
/// truncating as snprintf does; a per-thread one gives the same text without the data race).
pub(crate) fn unknown_desc(errnum: i32) -> *const c_char {
    UNKNOWN.with(|cell| {
        // SAFETY: the buffer belongs to this thread; the only reference to it lives in this
        // closure, and C reads it only after we return.
        let buf = unsafe { &mut *cell.get() };
        let mut cur = std::io::Cursor::new(&mut buf[..UNKNOWN_BUF - 1]);
        let _ = write!(cur, "Unknown error code {errnum}");
        let n = cur.position() as usize;
        buf[n] = 0;
        buf.as_ptr().cast()
    })
}

/// `d_errno2der`: a system errno as the DER_* code DAOS returns for it (the header's inline
/// function; Rust code uses this one).
pub fn errno2der(err: i32) -> i32 {
    use libc::*;
    match err {
        0 => 0,
        EPERM | EACCES => -1001,
        ENOMEM => -1009,
        EDQUOT | ENOSPC => -1007,
        EEXIST => -1004,
        ENOENT => -1005,
        ECANCELED => -1018,
        EBUSY => -1012,
        _ => -1025,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;

    #[test]
    fn names_and_descriptions() {
        assert_eq!(name(0), c"DER_SUCCESS");
        assert_eq!(name(-(sys::DER_INVAL as i32)), c"DER_INVAL");
        assert_eq!(name(-(sys::DER_IGNORE as i32)), c"DER_IGNORE");
        assert_eq!(name(5), c"DER_UNKNOWN");
        assert_eq!(name(-1000), c"DER_UNKNOWN");
        assert_eq!(name(-(sys::DER_LAST_VALID as i32)), c"DER_UNKNOWN");
        assert_eq!(desc(-(sys::DER_IO as i32)), Some(c"I / O error"));
        assert_eq!(desc(-(sys::DER_UNKNOWN as i32)), Some(c"Unknown error"));
        assert_eq!(desc(i32::MIN), None);
    }

    #[test]
    fn unknown_description_fits_and_truncates_like_snprintf() {
        let s = unsafe { CStr::from_ptr(unknown_desc(-12345)) };
        assert_eq!(s, c"Unknown error code -12345");
        // 31 characters at most, as upstream's 32-byte snprintf buffer
        let s = unsafe { CStr::from_ptr(unknown_desc(i32::MIN)) };
        assert_eq!(s.to_bytes(), &b"Unknown error code -2147483648"[..]);
        assert!(s.to_bytes().len() < UNKNOWN_BUF);
    }

    #[test]
    fn errno2der_matches_the_header_inline() {
        for e in -5..4096 {
            assert_eq!(errno2der(e), unsafe { sys::d_errno2der(e) }, "errno {e}");
        }
    }

    #[test]
    fn every_code_is_named() {
        for r in RANGES {
            for (i, n) in r.names.iter().enumerate() {
                let code = -((r.base + 1 + i as u32) as i32);
                assert_eq!(name(code), *n);
                assert_eq!(desc(code), Some(r.descs[i]));
            }
        }
    }
}
