//! The environment, as gurt's `d_getenv_*`/`d_setenv` family reaches it.
//!
//! glibc's `getenv` and `setenv` are not safe against each other, so every gurt access takes
//! one process-wide reader/writer lock: readers for lookups, the writer for changes. The libc
//! functions are called through their dynamic symbols (`getenv`, `strdup`, `setenv`, ...), never
//! through `std::env`, so a program that wraps or interposes them (upstream's tests link with
//! `-Wl,--wrap=getenv,--wrap=strdup`) sees every call.
//!
//! Numbers are parsed as upstream parses them with `strtoull`/`strtoll` in base 10: leading
//! white space, an optional sign, digits, and nothing after them. The parsers here are pure
//! Rust and are checked against glibc's in the tests below.

use std::ffi::{c_char, c_int, CStr};
use std::io::Write;
use std::ptr::NonNull;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::sys;

const DER_INVAL: c_int = -(sys::DER_INVAL as c_int);
const DER_NONEXIST: c_int = -(sys::DER_NONEXIST as c_int);
const DER_NOMEM: c_int = -(sys::DER_NOMEM as c_int);
const DER_TRUNC: c_int = -(sys::DER_TRUNC as c_int);

static LOCK: RwLock<()> = RwLock::new(());

fn read_lock() -> RwLockReadGuard<'static, ()> {
    LOCK.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock() -> RwLockWriteGuard<'static, ()> {
    LOCK.write().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// What `strtoull(s, &end, 10)` / `strtoll` make of a byte string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// The magnitude read (saturated at `u64::MAX` when `overflow`).
    pub magnitude: u64,
    /// A '-' sign preceded the digits.
    pub negative: bool,
    /// Bytes consumed; 0 when there are no digits (C's `endptr == nptr`).
    pub end: usize,
    /// The magnitude did not fit in 64 bits.
    pub overflow: bool,
}

/// C's `isspace` in the C locale.
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Reads a base-10 number the way the C library's `strto*` functions do.
pub fn scan_decimal(s: &[u8]) -> Scan {
    let mut i = s.iter().take_while(|&&b| c_isspace(b)).count();
    let mut negative = false;
    if let Some(&b) = s.get(i) {
        if b == b'-' || b == b'+' {
            negative = b == b'-';
            i += 1;
        }
    }
    let start = i;
    let (mut magnitude, mut overflow) = (0u64, false);
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        match magnitude.checked_mul(10).and_then(|m| m.checked_add(u64::from(d - b'0'))) {
            Some(m) if !overflow => magnitude = m,
            _ => {
                overflow = true;
                magnitude = u64::MAX;
            }
        }
        i += 1;
    }
    if i == start {
        return Scan { magnitude: 0, negative: false, end: 0, overflow: false };
    }
    Scan { magnitude, negative, end: i, overflow }
}

/// `strtoull(s, &end, 10)`: (value, end, ERANGE).
pub fn strtoull(s: &[u8]) -> (u64, usize, bool) {
    let sc = scan_decimal(s);
    if sc.overflow {
        (u64::MAX, sc.end, true)
    } else if sc.negative {
        (sc.magnitude.wrapping_neg(), sc.end, false)
    } else {
        (sc.magnitude, sc.end, false)
    }
}

/// `strtoll(s, &end, 10)`: (value, end, ERANGE).
pub fn strtoll(s: &[u8]) -> (i64, usize, bool) {
    let sc = scan_decimal(s);
    let limit = if sc.negative { i64::MIN.unsigned_abs() } else { i64::MAX as u64 };
    if sc.overflow || sc.magnitude > limit {
        (if sc.negative { i64::MIN } else { i64::MAX }, sc.end, true)
    } else if sc.negative {
        ((sc.magnitude as i64).wrapping_neg(), sc.end, false)
    } else {
        (sc.magnitude as i64, sc.end, false)
    }
}

/// A boolean variable is false only when it is an integer (in `strtoll`'s syntax, fully
/// consumed, in range) equal to 0; anything else set, even "false", is true.
pub fn parse_bool(s: &[u8]) -> bool {
    let (v, end, erange) = strtoll(s);
    erange || end == 0 || end != s.len() || v != 0
}

/// Whether the first sign-or-digit character of `s` is '-' (upstream's test for "signed").
fn signed_str(s: &[u8]) -> bool {
    s.iter().find(|&&b| b == b'-' || b.is_ascii_digit()) == Some(&b'-')
}

/// An unsigned integer of `size` bytes (4 or 8) as upstream reads one: `strtoull` syntax, and
/// for sizes under 8 a range check in which a negative number may go down to -(2^(8*size) - 1)
/// and wraps to the type's width ("-1" is the type's maximum).
pub fn parse_unsigned(s: &[u8], size: usize) -> Result<u64, c_int> {
    let (mut v, end, erange) = strtoull(s);
    if erange || end == 0 || end != s.len() {
        return Err(DER_INVAL);
    }
    if size < 8 {
        let max = (1u64 << (size * 8)) - 1;
        let signed = signed_str(s);
        if signed {
            v = !v;
        }
        if v > max || (signed && v >= max) {
            return Err(DER_INVAL);
        }
        if signed {
            v = !v & max;
        }
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Access

/// `getenv(name)` as bytes, under the caller's lock.
fn raw_get<'a>(name: &CStr, _held: &'a RwLockReadGuard<'static, ()>) -> Option<&'a [u8]> {
    // SAFETY: name is NUL-terminated. getenv returns NULL or a pointer into the environment,
    // which stays valid while no writer runs; every gurt writer takes the write lock, and the
    // returned slice borrows the read guard, so it cannot outlive it.
    let p = unsafe { libc::getenv(name.as_ptr()) };
    // SAFETY: a non-NULL getenv result is a NUL-terminated string (see above).
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// `strdup` of a C string (through the libc symbol); the copy is on the libc heap.
fn strdup(s: &CStr) -> Option<NonNull<c_char>> {
    // SAFETY: s is a valid NUL-terminated string.
    NonNull::new(unsafe { libc::strdup(s.as_ptr()) })
}

/// The value of `name` copied under the lock (the libc heap copy upstream makes with `strdup`,
/// so a writer outside gurt's lock cannot change it while it is parsed).
fn dup_value(name: &CStr) -> Result<OwnedCStr, c_int> {
    let g = read_lock();
    // SAFETY: as in raw_get.
    let p = unsafe { libc::getenv(name.as_ptr()) };
    if p.is_null() {
        return Err(DER_NONEXIST);
    }
    // SAFETY: p is a NUL-terminated environment string, valid under the lock.
    let copy = strdup(unsafe { CStr::from_ptr(p) }).ok_or(DER_NOMEM)?;
    drop(g);
    Ok(OwnedCStr(copy))
}

/// A C string on the libc heap, freed on drop.
struct OwnedCStr(NonNull<c_char>);

impl OwnedCStr {
    fn bytes(&self) -> &[u8] {
        // SAFETY: the pointer came from strdup and is NUL-terminated and owned by self.
        unsafe { CStr::from_ptr(self.0.as_ptr()) }.to_bytes()
    }
}

impl Drop for OwnedCStr {
    fn drop(&mut self) {
        // SAFETY: the pointer came from strdup (libc malloc) and is freed once.
        unsafe { libc::free(self.0.as_ptr().cast()) }
    }
}

/// Whether `name` is set (`d_isenv_def`).
pub fn is_defined(name: &CStr) -> bool {
    let g = read_lock();
    raw_get(name, &g).is_some()
}

/// Copies the value of `name` into `buf` as a C string (`d_getenv_str`): `Ok` when it fits,
/// `-DER_TRUNC` when it was cut to `buf.len() - 1` bytes, `-DER_NONEXIST` (buf untouched) when
/// unset. `buf` must not be empty.
pub fn get_str(buf: &mut [u8], name: &CStr) -> Result<(), c_int> {
    debug_assert!(!buf.is_empty());
    let g = read_lock();
    let v = raw_get(name, &g).ok_or(DER_NONEXIST)?;
    let n = v.len().min(buf.len());
    buf[..n].copy_from_slice(&v[..n]);
    if n == buf.len() {
        buf[n - 1] = 0;
        drop(g);
        let _ = writeln!(std::io::stderr(), "ENV '{}' has been truncated", name.to_string_lossy());
        return Err(DER_TRUNC);
    }
    buf[n] = 0;
    Ok(())
}

/// A `strdup` copy of the value of `name` on the libc heap (`d_agetenv_str`; the caller frees
/// it with `d_freeenv_str`/`free`).
pub fn aget_str(name: &CStr) -> Result<NonNull<c_char>, c_int> {
    let g = read_lock();
    // SAFETY: as in raw_get.
    let p = unsafe { libc::getenv(name.as_ptr()) };
    if p.is_null() {
        return Err(DER_NONEXIST);
    }
    // SAFETY: p is a NUL-terminated environment string, valid under the lock.
    let r = strdup(unsafe { CStr::from_ptr(p) }).ok_or(DER_NOMEM);
    drop(g);
    r
}

/// `d_getenv_bool`: see [`parse_bool`].
pub fn get_bool(name: &CStr) -> Result<bool, c_int> {
    let g = read_lock();
    raw_get(name, &g).map(parse_bool).ok_or(DER_NONEXIST)
}

/// `d_getenv_char`: the value must be exactly one byte long.
pub fn get_char(name: &CStr) -> Result<c_char, c_int> {
    let g = read_lock();
    match raw_get(name, &g).ok_or(DER_NONEXIST)? {
        [c] => Ok(*c as c_char),
        _ => Err(DER_INVAL),
    }
}

/// `d_getenv_uint`/`_uint32_t`/`_uint64_t`: see [`parse_unsigned`].
pub fn get_unsigned(name: &CStr, size: usize) -> Result<u64, c_int> {
    let v = dup_value(name)?;
    parse_unsigned(v.bytes(), size)
}

/// The C `errno` of this thread.
fn errno_ptr() -> *mut c_int {
    // SAFETY: __errno_location always returns this thread's errno slot.
    unsafe { libc::__errno_location() }
}

/// Runs a libc environment writer under the write lock with errno cleared, and returns its
/// result with errno as the writer left it (upstream's contract for d_setenv and friends).
fn write_env(f: impl FnOnce() -> c_int) -> c_int {
    let g = write_lock();
    // SAFETY: errno_ptr is this thread's errno.
    unsafe { *errno_ptr() = 0 };
    let rc = f();
    // SAFETY: as above.
    let e = unsafe { *errno_ptr() };
    drop(g);
    // SAFETY: as above; releasing the lock may have touched errno.
    unsafe { *errno_ptr() = e };
    rc
}

/// `setenv(name, value, overwrite)` under the lock.
pub fn set(name: &CStr, value: &CStr, overwrite: c_int) -> c_int {
    // SAFETY: both strings are NUL-terminated; setenv copies them.
    write_env(|| unsafe { libc::setenv(name.as_ptr(), value.as_ptr(), overwrite) })
}

/// `unsetenv(name)` under the lock.
pub fn unset(name: &CStr) -> c_int {
    // SAFETY: name is NUL-terminated.
    write_env(|| unsafe { libc::unsetenv(name.as_ptr()) })
}

/// `putenv(string)` under the lock.
///
/// # Safety
/// `string` must be a NUL-terminated "NAME=VALUE" string that stays valid and unchanged for as
/// long as it is part of the environment (putenv does not copy it).
pub unsafe fn put(string: *mut c_char) -> c_int {
    // SAFETY: the caller's contract.
    write_env(|| unsafe { libc::putenv(string) })
}

/// `clearenv()` under the lock.
pub fn clear() -> c_int {
    let _g = write_lock();
    // SAFETY: clearenv takes no arguments; gurt's readers are excluded by the lock.
    unsafe { libc::clearenv() }
}

#[cfg(test)]
pub(crate) static TEST_ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn glibc_strtoull(s: &[u8]) -> (u64, usize, bool) {
        let c = CString::new(s).unwrap();
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: c is a valid C string; errno is this thread's.
        unsafe {
            *errno_ptr() = 0;
            let v = libc::strtoull(c.as_ptr(), &mut end, 10);
            (v, end.offset_from(c.as_ptr()) as usize, *errno_ptr() == libc::ERANGE)
        }
    }

    fn glibc_strtoll(s: &[u8]) -> (i64, usize, bool) {
        let c = CString::new(s).unwrap();
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: as above.
        unsafe {
            *errno_ptr() = 0;
            let v = libc::strtoll(c.as_ptr(), &mut end, 10);
            (v, end.offset_from(c.as_ptr()) as usize, *errno_ptr() == libc::ERANGE)
        }
    }

    const SAMPLES: &[&str] = &[
        "", " ", "0", "-0", "+0", "00000", "1", "-1", "+1", "42", "  42", "\t\n\x0b\x0c\r 7", "42 ",
        "42x", "x42", "-", "+", "+-1", "-+1", " - 1", "--1", "0x10", "1e3", "007",
        "4294967295", "4294967296", "-4294967295", "-4294967296", "-4294967294",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "-18446744073709551615", "-18446744073709551616", "99999999999999999999999999999",
        "-99999999999999999999999999999", "   -000042", "    000042", "0dmlnv", "true", "false",
        "\u{a0}1", "１",
    ];

    #[test]
    fn strto_match_glibc() {
        for s in SAMPLES {
            assert_eq!(strtoull(s.as_bytes()), glibc_strtoull(s.as_bytes()), "strtoull({s:?})");
            assert_eq!(strtoll(s.as_bytes()), glibc_strtoll(s.as_bytes()), "strtoll({s:?})");
        }
    }

    #[test]
    fn booleans_as_upstream() {
        for (s, v) in [
            ("bar", true), ("true", true), ("false", true), ("1", true), ("03", true),
            ("999999999999999999999999999999999999", true), ("0dmlnv", true), ("0", false),
            ("   0", false), ("0    ", true), ("0000000", false), ("-0", false), ("+0", false),
            ("", true), ("-", true),
        ] {
            assert_eq!(parse_bool(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn unsigned_32_as_upstream() {
        let ok = |s: &str, v: u64| assert_eq!(parse_unsigned(s.as_bytes(), 4), Ok(v), "{s:?}");
        let bad = |s: &str| assert_eq!(parse_unsigned(s.as_bytes(), 4), Err(DER_INVAL), "{s:?}");
        ok("4294967295", u32::MAX as u64);
        ok("-1", u32::MAX as u64);
        ok("-10", u32::MAX as u64 - 9);
        ok("-4294967294", 2);
        ok("-4294967295", 1);
        ok("    000042", 42);
        ok("    -000042", (-42i32) as u32 as u64);
        ok("+7", 7);
        ok("0", 0);
        bad("-0"); // ~0 is beyond the 32-bit range in upstream's check
        bad("4294967296");
        bad("-4294967296");
        bad("booo");
        bad("42booo");
        bad("");
        bad("42 ");
        bad("99999999999999999999999");
    }

    #[test]
    fn unsigned_64_as_upstream() {
        let ok = |s: &str, v: u64| assert_eq!(parse_unsigned(s.as_bytes(), 8), Ok(v), "{s:?}");
        let bad = |s: &str| assert_eq!(parse_unsigned(s.as_bytes(), 8), Err(DER_INVAL), "{s:?}");
        ok("18446744073709551615", u64::MAX);
        ok("-1", u64::MAX);
        ok("-10", u64::MAX - 9);
        ok("-18446744073709551614", 2);
        ok("-18446744073709551615", 1);
        ok("    -000042", (-42i64) as u64);
        ok("-0", 0);
        bad("18446744073709551616");
        bad("-18446744073709551616");
        bad("booo");
        bad("42booo");
        bad("");
    }

    #[test]
    fn access_through_libc() {
        let _g = TEST_ENV_LOCK.lock().unwrap();
        let name = c"OXIDAOS_MISC_ENV_TEST";
        assert_eq!(unset(name), 0);
        assert!(!is_defined(name));
        let mut buf = [b'x'; 4];
        assert_eq!(get_str(&mut buf, name), Err(DER_NONEXIST));
        assert_eq!(buf, [b'x'; 4]);
        assert_eq!(get_bool(name), Err(DER_NONEXIST));
        assert_eq!(get_char(name), Err(DER_NONEXIST));
        assert_eq!(get_unsigned(name, 4), Err(DER_NONEXIST));
        assert_eq!(aget_str(name), Err(DER_NONEXIST));

        assert_eq!(set(name, c"bar", 0), 0);
        assert!(is_defined(name));
        assert_eq!(get_str(&mut buf, name), Ok(()));
        assert_eq!(&buf, b"bar\0");
        assert_eq!(set(name, c"baz", 0), 0);
        assert_eq!(get_str(&mut buf, name), Ok(()));
        assert_eq!(&buf, b"bar\0", "overwrite 0 keeps the value");
        assert_eq!(set(name, c"long value", 1), 0);
        assert_eq!(get_str(&mut buf, name), Err(DER_TRUNC));
        assert_eq!(&buf, b"lon\0");
        let mut one = [b'x'; 1];
        assert_eq!(get_str(&mut one, name), Err(DER_TRUNC));
        assert_eq!(one, [0]);
        let p = aget_str(name).unwrap();
        // SAFETY: p came from strdup and is freed once here.
        unsafe {
            assert_eq!(CStr::from_ptr(p.as_ptr()), c"long value");
            libc::free(p.as_ptr().cast());
        }
        assert!(get_bool(name).unwrap());
        assert_eq!(get_char(name), Err(DER_INVAL));
        assert_eq!(get_unsigned(name, 8), Err(DER_INVAL));
        assert_eq!(set(name, c"0", 1), 0);
        assert!(!get_bool(name).unwrap());
        assert_eq!(get_char(name), Ok(b'0' as c_char));
        assert_eq!(get_unsigned(name, 4), Ok(0));

        // setenv's errors come back with errno.
        assert_eq!(set(c"BAD=NAME", c"v", 1), -1);
        assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EINVAL));
        assert_eq!(unset(c""), -1);
        assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EINVAL));

        static mut PUT: [u8; 28] = *b"OXIDAOS_MISC_ENV_TEST=put!\0\0";
        // SAFETY: PUT is a static NUL-terminated NAME=VALUE string, valid forever, and it is
        // only handed to putenv (never written while in the environment).
        assert_eq!(unsafe { put((&raw mut PUT).cast()) }, 0);
        assert_eq!(get_str(&mut [0u8; 16], name), Ok(()));
        let p = aget_str(name).unwrap();
        // SAFETY: as above.
        unsafe {
            assert_eq!(CStr::from_ptr(p.as_ptr()), c"put!");
            libc::free(p.as_ptr().cast());
        }
        assert_eq!(unset(name), 0);
        assert!(!is_defined(name));
    }
}
