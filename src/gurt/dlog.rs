//! gurt's message log (upstream `dlog.c`): facilities and their masks, the line format, the
//! buffered log file with size-based rotation, and the mask caches compiled into callers.
//!
//! The C-visible state is `d_log_xst` (read without a lock by the inline `d_log_check()` in
//! every caller, as upstream) and the registered facility caches. Everything else lives in
//! [`STATE`], behind one mutex that also serialises every change to `d_log_xst`.
//!
//! Messages reach the log through `d_vlog` (C, `c/dlog.c`), which formats the caller's text and
//! calls [`emit`]; gurt's own messages (Rust or C) are formatted first and then logged through
//! `d_vlog`'s dynamic symbol (`c/log_bridge.c`), so a wrapper of `d_vlog` sees every line.

use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::sys;

// Flags and masks (dlog.h).
pub const DLOG_EMIT: i32 = 0x0800_0000;
pub const DLOG_EMERG: i32 = 0x0700_0000;
pub const DLOG_ALERT: i32 = 0x0600_0000;
pub const DLOG_CRIT: i32 = 0x0500_0000;
pub const DLOG_ERR: i32 = 0x0400_0000;
pub const DLOG_WARN: i32 = 0x0300_0000;
pub const DLOG_NOTE: i32 = 0x0200_0000;
pub const DLOG_INFO: i32 = 0x0100_0000;
pub const DLOG_DBG: i32 = 0x00ff_ff00;
pub const DLOG_STDERR: i32 = 0x2000_0000;
pub const DLOG_STDOUT: i32 = 0x1000_0000;
pub const DLOG_PRIMASK: i32 = 0x0fff_ff00;
pub const DLOG_PRINDMASK: i32 = 0x0f00_0000;
pub const DLOG_FACMASK: i32 = 0xff;
pub const DLOG_PRISHIFT: i32 = 24;
pub const DLOG_UNINIT: i32 = 0x8000_0000_u32 as i32;

pub const DLOG_FLV_LOGPID: i32 = 1 << 0;
pub const DLOG_FLV_FQDN: i32 = 1 << 1;
pub const DLOG_FLV_FAC: i32 = 1 << 2;
pub const DLOG_FLV_YEAR: i32 = 1 << 3;
pub const DLOG_FLV_TAG: i32 = 1 << 4;
pub const DLOG_FLV_STDOUT: i32 = 1 << 5;
pub const DLOG_FLV_STDERR: i32 = 1 << 6;
pub const DLOG_FLV_DEFAULT: i32 = DLOG_FLV_FAC | DLOG_FLV_LOGPID | DLOG_FLV_TAG | DLOG_FLV_YEAR;

/// Upstream's line buffer: a line is cut to `LINE_SIZE - 1` bytes, newline included.
pub const LINE_SIZE: usize = 1024;
/// The log file is written in chunks of up to this many bytes.
const LOG_BUF_SIZE: usize = 16 << 10;
/// D_LOG_SIZE bounds: at least 1 MiB, 2 GiB by default.
const LOG_SIZE_MIN: u64 = 1 << 20;
const LOG_SIZE_DEF: u64 = 1 << 31;
/// Extra bytes allocated for the tag (room for "[").
const TAG_PAD: usize = 16;

/// The priority names of the line header, indexed by `DLOG_PRI` (upstream's `norm[]`).
const PRI_NAMES: [&str; 9] = ["DBUG", "INFO", "NOTE", "WARN", "ERR ", "CRIT", "ALRT", "EMRG", "EMIT"];

/// Facility 0's name (never freed).
static FAC0_NAME: &CStr = c"CLOG";

/// Whether stderr is merged into the log file (D_LOG_STDERR_IN_LOG). As upstream, once set it
/// stays set for the life of the process.
static MERGE_STDERR: AtomicBool = AtomicBool::new(false);

extern "C" {
    // c/log_bridge.c: d_log(flags, "%s", msg), reaching d_vlog through its dynamic symbol.
    fn oxidaos_gurt_log_str(flags: c_int, msg: *const c_char);
    // c/dlog.c: stdio pieces that must act on C's own FILE streams.
    fn oxidaos_gurt_stderr_reopen(path: *const c_char, mode: *const c_char, line_buffered: c_int) -> c_int;
    fn oxidaos_gurt_stderr_puts(text: *const c_char);
    fn oxidaos_gurt_stdio_ttys(out_tty: *mut c_int, err_tty: *mut c_int);
}

/// The log's private state (upstream's `struct d_log_state` and friends).
struct LogState {
    log_file: Option<CString>,
    log_old: Option<CString>,
    buf: Vec<u8>,
    log_fd: c_int,
    log_old_fd: c_int,
    log_size: u64,
    log_last_check_size: u64,
    log_size_max: u64,
    id_cb: sys::d_log_id_cb_t,
    def_mask: i32,
    stderr_mask: i32,
    oflags: i32,
    fac_alloc: i32,
    stderr_isatty: bool,
    flush_pri: i32,
    append_rank: bool,
    rank_appended: bool,
    last_flush: i64,
    /// Registered caches: (address of the first int, count).
    caches: Vec<(usize, usize)>,
    /// uname's node name, NUL-terminated; `d_log_xst.nodename` points into it.
    nodename: [c_char; 65],
}

static STATE: Mutex<LogState> = Mutex::new(LogState {
    log_file: None,
    log_old: None,
    buf: Vec::new(),
    log_fd: -1,
    log_old_fd: -1,
    log_size: 0,
    log_last_check_size: 0,
    log_size_max: 0,
    id_cb: None,
    def_mask: 0,
    stderr_mask: 0,
    oflags: 0,
    fac_alloc: 0,
    stderr_isatty: false,
    flush_pri: DLOG_WARN,
    append_rank: false,
    rank_appended: false,
    last_flush: 0,
    caches: Vec::new(),
    nodename: [0; 65],
});

fn state() -> MutexGuard<'static, LogState> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The exported `d_log_xst`.
fn xst() -> *mut sys::d_log_xstate {
    &raw mut crate::capi::d_log_xst
}

/// Whether the log is open (`d_log_xst.tag` set).
pub fn is_open() -> bool {
    // SAFETY: a plain read of an aligned pointer field of a static; C reads it the same way.
    unsafe { !(*xst()).tag.is_null() }
}

// ---------------------------------------------------------------------------------------------
// Small C-string helpers with upstream's comparison semantics.

/// `strncasecmp(a, b, n) == 0` where the slices end in an implicit NUL.
pub(crate) fn strncaseeq(a: &[u8], b: &[u8], n: usize) -> bool {
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0).to_ascii_lowercase();
        let y = b.get(i).copied().unwrap_or(0).to_ascii_lowercase();
        if x != y {
            return false;
        }
        if x == 0 {
            return true;
        }
    }
    true
}

/// `atoi`: C's `(int)strtol(s, NULL, 10)`, with misc's `strto*` scanner.
pub(crate) fn atoi(s: &[u8]) -> i64 {
    i64::from(crate::misc::env::strtoll(s).0 as i32)
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| crate::misc::env::c_isspace(c)).count();
    &s[n..]
}

/// An environment variable as bytes, through misc's `d_agetenv_str` path (the process-wide
/// environment lock; libc `getenv`/`strdup` through their dynamic symbols), as upstream's log
/// reads each of its variables.
pub(crate) fn getenv(name: &CStr) -> Option<Vec<u8>> {
    crate::misc::env::aget_bytes(name)
}

/// Writes a diagnostic to C's stderr.
pub(crate) fn stderr_print(text: &str) {
    if let Ok(c) = CString::new(text) {
        // SAFETY: a NUL-terminated string.
        unsafe { oxidaos_gurt_stderr_puts(c.as_ptr()) };
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn strerror(err: i32) -> String {
    std::io::Error::from_raw_os_error(err).to_string().split(" (os error").next().unwrap_or("").to_string()
}

thread_local! {
    // The last complaint printed by this thread: (line, err, second). Plain integers, no
    // destructors (safe after dlclose, rust-lang/rust#91979).
    static LAST_ERR: std::cell::Cell<(u32, i32, i64)> = const { std::cell::Cell::new((0, 0, 0)) };
}

/// A complaint about the log itself, "func: line: err=N (text) msg" on stderr; the same
/// complaint (place and error) is printed at most once a second per thread, as upstream's.
fn print_err(func: &str, line: u32, err: i32, msg: &str) {
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    // SAFETY: gettimeofday fills a caller-owned timeval.
    unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
    let (l, e, t) = LAST_ERR.with(|c| c.get());
    if l == line && e == err && tv.tv_sec <= t {
        return;
    }
    LAST_ERR.with(|c| c.set((line, err, tv.tv_sec)));
    stderr_print(&format!("{func}: {line}: err={err} ({}) {msg}", strerror(err)));
}

// ---------------------------------------------------------------------------------------------
// Priorities.

/// The 4-letter name of a priority for the line header (`DBUG` for debug bits).
pub fn pri_name(pri: i32) -> &'static str {
    let s = ((pri & DLOG_PRINDMASK) >> DLOG_PRISHIFT) as usize;
    PRI_NAMES.get(s).copied().unwrap_or(PRI_NAMES[0])
}

/// A priority name as D_LOG_MASK and D_LOG_FLUSH spell it (any prefix of the names, case
/// insensitive, compared over `len` bytes): its mask, or -1. DEBUG gives the DD_MASK bits (or
/// every debug bit when DD_MASK selected none).
pub fn str2pri(s: &[u8], len: usize) -> i32 {
    if len == 0 || len > 7 {
        return -1;
    }
    if strncaseeq(s, b"ERR", len) || strncaseeq(s, b"ERROR", len) {
        return DLOG_ERR;
    }
    if strncaseeq(s, b"DEBUG", len) || strncaseeq(s, b"DBUG", len) {
        // SAFETY: a plain read of an exported static's field.
        let dd = unsafe { (*(&raw const crate::capi::d_dbglog_data)).dd_mask };
        return if dd != 0 { dd as i32 } else { DLOG_DBG };
    }
    for (i, name) in PRI_NAMES.iter().enumerate().skip(1) {
        if strncaseeq(s, name.as_bytes(), len) {
            return (i as i32) << DLOG_PRISHIFT;
        }
    }
    -1
}

/// D_LOG_SIZE: a number (C `strtoull` base 0) with an optional unit, k/m/g decimal, K/M/G
/// binary.
pub fn parse_size(s: &[u8]) -> u64 {
    let t = trim_start(s);
    let (neg, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if t.len() > 1 && t[0] == b'0' && (t[1] == b'x' || t[1] == b'X') && t.get(2).is_some_and(u8::is_ascii_hexdigit) {
        (16, &t[2..])
    } else if t.first() == Some(&b'0') {
        (8, t)
    } else {
        (10, t)
    };
    let mut v: u64 = 0;
    let mut n = 0;
    let mut overflow = false;
    for &c in digits {
        let d = match (c as char).to_digit(radix) {
            Some(d) => d,
            None => break,
        };
        match v.checked_mul(u64::from(radix)).and_then(|x| x.checked_add(u64::from(d))) {
            Some(x) => v = x,
            None => overflow = true,
        }
        n += 1;
    }
    if n == 0 {
        return 0; // no conversion: strtoull gives 0 and leaves end at the start
    }
    if overflow {
        v = u64::MAX;
    } else if neg {
        v = v.wrapping_neg();
    }
    let mult: u64 = match digits.get(n) {
        Some(b'k') => 1000,
        Some(b'm') => 1000 * 1000,
        Some(b'g') => 1000 * 1000 * 1000,
        Some(b'K') => 1024,
        Some(b'M') => 1024 * 1024,
        Some(b'G') => 1024 * 1024 * 1024,
        _ => 1,
    };
    v.wrapping_mul(mult)
}

// ---------------------------------------------------------------------------------------------
// The mask check and the caches.

/// `d_log_check()`: the flags to log with, or 0 (the header's inline, for Rust callers).
pub fn check(flags: i32) -> i32 {
    let mut fac = flags & DLOG_FACMASK;
    let lvl = flags & DLOG_PRIMASK;
    // SAFETY: reads of the exported state as the C inline does; facs has fac_cnt entries while
    // tag is set (the array is replaced under the lock and the old one freed only at close).
    unsafe {
        let x = &*xst();
        if x.tag.is_null() || x.dlog_facs.is_null() {
            return 0;
        }
        if fac >= x.fac_cnt {
            fac = 0;
        }
        let f = &*x.dlog_facs.add(fac as usize);
        if !f.is_enabled && lvl < DLOG_ERR {
            return 0;
        }
        let msk = f.fac_mask;
        if lvl >= DLOG_INFO {
            if lvl < msk {
                return 0;
            }
        } else if lvl & msk == 0 {
            return 0;
        }
    }
    lvl | fac
}

/// The cached form of [`check`] the D_DEBUG macros use: `slot` is the facility cache's int for
/// this priority or bit (DLOG_UNINIT until resolved).
pub fn cached_check(slot: &AtomicI32, level: i32, fac: i32) -> i32 {
    let v = slot.load(Ordering::Relaxed);
    if v == DLOG_UNINIT {
        let m = check(level | fac);
        slot.store(m, Ordering::Relaxed);
        m
    } else {
        v
    }
}

fn reset_caches_locked(st: &LogState) {
    for &(addr, nr) in &st.caches {
        reset_cache(addr, nr);
    }
}

fn reset_cache(addr: usize, nr: usize) {
    for i in 0..nr {
        // SAFETY: a registered cache is an array of nr ints that its owner keeps alive while
        // registered (the D_LOG_*_FAC macros define them as globals); C reads and writes the
        // same ints without synchronisation, so the accesses here are atomic.
        unsafe { (*(addr as *const AtomicI32).add(i)).store(DLOG_UNINIT, Ordering::Relaxed) };
    }
}

/// Resets every registered cache to DLOG_UNINIT (masks changed).
pub fn reset_caches() {
    reset_caches_locked(&state());
}

/// `d_log_add_cache`: registers nr ints that are reset whenever masks change. A cache is reset
/// as it is registered too, so a slot resolved while the log was closed does not stay off.
pub fn add_cache(cache: *mut c_int, nr: c_int) {
    if cache.is_null() || nr <= 0 {
        return;
    }
    let mut st = state();
    reset_cache(cache as usize, nr as usize);
    st.caches.push((cache as usize, nr as usize));
}

// ---------------------------------------------------------------------------------------------
// Facilities.

/// Grows the facility array to at least n entries (upstream's clog_setnfac). Lock held.
fn set_nfac(st: &mut LogState, n: i32) -> Result<(), ()> {
    // SAFETY: d_log_xst and its facility array are only modified under the STATE lock, which
    // the caller holds; the array is allocated with libc calloc so C code may hold pointers
    // into it until it is replaced.
    unsafe {
        let x = &mut *xst();
        if n <= x.fac_cnt {
            return Ok(());
        }
        if n <= st.fac_alloc {
            x.fac_cnt = n;
            return Ok(());
        }
        let try_n = if n < 1024 { n + 32 } else { n };
        let nfacs = libc::calloc(try_n as usize, size_of::<sys::dlog_fac>()) as *mut sys::dlog_fac;
        if nfacs.is_null() {
            return Err(());
        }
        let mut i = 0;
        if !x.dlog_facs.is_null() {
            while i < x.fac_cnt {
                *nfacs.add(i as usize) = *x.dlog_facs.add(i as usize);
                i += 1;
            }
        }
        while i < try_n {
            *nfacs.add(i as usize) = sys::dlog_fac {
                fac_aname: if i == 0 { FAC0_NAME.as_ptr() as *mut c_char } else { std::ptr::null_mut() },
                fac_lname: std::ptr::null_mut(),
                fac_mask: st.def_mask,
                is_enabled: true,
            };
            i += 1;
        }
        // Readers of the inline d_log_check may still hold the old array for a moment: publish
        // the new one before the count, and free the old one (as upstream does).
        let old = x.dlog_facs;
        x.dlog_facs = nfacs;
        x.fac_cnt = n;
        libc::free(old.cast());
        st.fac_alloc = try_n;
    }
    Ok(())
}

/// `d_logfac_is_enabled`: whether DD_SUBSYS (absent or "all": every facility) names fac.
pub fn fac_is_enabled(fac_name: &[u8]) -> bool {
    let Some(env) = getenv(c"DD_SUBSYS") else {
        return true;
    };
    if strncaseeq(&env, b"all", 3) {
        return true;
    }
    // strcasestr: the first case-insensitive occurrence, which must end the name.
    let lower_env = env.to_ascii_lowercase();
    let lower_fac = fac_name.to_ascii_lowercase();
    let pos = if lower_fac.is_empty() {
        Some(0)
    } else {
        lower_env.windows(lower_fac.len()).position(|w| w == lower_fac.as_slice())
    };
    match pos {
        None => false,
        Some(p) => matches!(env.get(p + fac_name.len()), None | Some(b',')),
    }
}

/// `d_log_namefacility`.
pub fn name_facility(facility: i32, aname: Option<&CStr>, lname: Option<&CStr>) -> i32 {
    if !is_open() || facility < 0 {
        return -1;
    }
    let mut st = state();
    // SAFETY: facility array changes under the STATE lock (held); names are libc strings.
    unsafe {
        if facility >= (*xst()).fac_cnt && set_nfac(&mut st, facility + 1).is_err() {
            return -1;
        }
        let (Some(aname), Some(lname)) = (aname, lname) else {
            return -1;
        };
        let n = libc::strdup(aname.as_ptr());
        if n.is_null() {
            return -1;
        }
        let nl = libc::strdup(lname.as_ptr());
        if nl.is_null() {
            libc::free(n.cast());
            return -1;
        }
        let f = &mut *(*xst()).dlog_facs.add(facility as usize);
        if !f.fac_aname.is_null() && f.fac_aname != FAC0_NAME.as_ptr() as *mut c_char {
            libc::free(f.fac_aname.cast());
        }
        libc::free(f.fac_lname.cast());
        f.fac_aname = n;
        f.fac_lname = nl;
        f.is_enabled = fac_is_enabled(aname.to_bytes()) || fac_is_enabled(lname.to_bytes());
    }
    0
}

/// `d_log_allocfacility`: a new facility's number, or -1.
pub fn alloc_facility(aname: Option<&CStr>, lname: Option<&CStr>) -> i32 {
    if !is_open() {
        return -1;
    }
    let newfac = {
        let mut st = state();
        // SAFETY: read under the lock.
        let n = unsafe { (*xst()).fac_cnt };
        if set_nfac(&mut st, n + 1).is_err() {
            return -1;
        }
        n
    };
    if name_facility(newfac, aname, lname) < 0 {
        return -1;
    }
    newfac
}

/// `d_log_setlogmask`: the facility's previous mask, or -1. Registered caches are reset.
pub fn set_logmask(facility: i32, mask: i32) -> i32 {
    if !is_open() || facility < 0 {
        return -1;
    }
    let mut st = state();
    // SAFETY: facility array changes under the STATE lock (held).
    let old = unsafe {
        if facility >= (*xst()).fac_cnt && set_nfac(&mut st, facility + 1).is_err() {
            return -1;
        }
        let f = &mut *(*xst()).dlog_facs.add(facility as usize);
        let old = f.fac_mask;
        f.fac_mask = mask & DLOG_PRIMASK;
        old
    };
    reset_caches_locked(&st);
    old
}

/// Logs one of the log's own messages with already-checked flags, through d_vlog.
pub(crate) fn log_preformatted(flags: i32, msg: &str) {
    if flags == 0 {
        return;
    }
    let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: a NUL-terminated string; the bridge passes it to d_vlog as "%s".
    unsafe { oxidaos_gurt_log_str(flags, c.as_ptr()) };
}

/// `d_log_setmasks`: applies "[FAC=]LEVEL,..." settings; the last previous mask changed, or -1
/// when a facility is unknown (or the log closed / the string empty).
pub fn set_masks(m: &[u8]) -> i32 {
    if !is_open() {
        return -1;
    }
    let mut m = {
        let n = m.iter().take_while(|c| matches!(c, b' ' | b'\t')).count();
        &m[n..]
    };
    if m.is_empty() {
        return -1;
    }
    let mut rv = 0;
    let mut last = false;
    while !last {
        let length = m.iter().position(|&c| c == b',').unwrap_or(m.len());
        let current = &m[..length];
        if length < m.len() {
            m = &m[length + 1..];
        } else {
            last = true;
        }
        if length == 0 {
            continue;
        }
        let (fac, mut pri) = match current.iter().position(|&c| c == b'=') {
            Some(e) => (Some(&current[..e]), &current[e + 1..]),
            None => (None, current),
        };
        if last {
            while let Some(b'\n' | b' ' | b'\t') = pri.last() {
                pri = &pri[..pri.len() - 1];
            }
        }
        let prino = str2pri(pri, pri.len());
        if prino == -1 {
            let flags = check(DLOG_ERR);
            log_preformatted(
                flags,
                &format!(
                    "d_log_setmasks: {}: unknown priority {}",
                    String::from_utf8_lossy(fac.unwrap_or(b"")),
                    String::from_utf8_lossy(pri)
                ),
            );
            continue;
        }
        match fac {
            Some(fac) => {
                let facno = find_facility(fac);
                let Some(facno) = facno else {
                    let flags = check(DLOG_DBG);
                    log_preformatted(
                        flags,
                        &format!("d_log_setmasks: unknown facility {}", String::from_utf8_lossy(fac)),
                    );
                    rv = -1;
                    continue;
                };
                let tmp = set_logmask(facno, prino);
                if rv != -1 {
                    rv = tmp;
                }
            }
            None => {
                // SAFETY: a plain read of the count.
                let cnt = unsafe { (*xst()).fac_cnt };
                for facno in 0..cnt {
                    let tmp = set_logmask(facno, prino);
                    if rv != -1 {
                        rv = tmp;
                    }
                }
            }
        }
    }
    reset_caches();
    rv
}

/// The facility whose short or long name is `name` (case insensitive).
fn find_facility(name: &[u8]) -> Option<i32> {
    let _st = state();
    // SAFETY: facility array read under the STATE lock.
    unsafe {
        let x = &*xst();
        for i in 0..x.fac_cnt {
            let f = &*x.dlog_facs.add(i as usize);
            for p in [f.fac_aname, f.fac_lname] {
                if !p.is_null() {
                    let s = CStr::from_ptr(p).to_bytes();
                    if s.len() == name.len() && s.eq_ignore_ascii_case(name) {
                        return Some(i);
                    }
                }
            }
        }
    }
    None
}

/// The text `d_log_getmasks` produces: "NAME=PRI,..." then "\n".
pub fn masks_text() -> Vec<u8> {
    let _st = state();
    let mut out = Vec::new();
    // SAFETY: facility array read under the STATE lock.
    unsafe {
        let x = &*xst();
        for i in 0..x.fac_cnt {
            if i > 0 {
                out.push(b',');
            }
            let f = &*x.dlog_facs.add(i as usize);
            let name = if !f.fac_lname.is_null() { f.fac_lname } else { f.fac_aname };
            if name.is_null() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                out.extend_from_slice(CStr::from_ptr(name).to_bytes());
            }
            out.push(b'=');
            out.extend(pri_name(f.fac_mask).bytes().take_while(|&c| c != b' ' && c != b'-'));
        }
    }
    out.push(b'\n');
    out
}

/// `d_log_getmasks` on a byte window: skips `discard` bytes of the text (plus its NUL unless
/// `unterm`), copies up to `buf.len()`; returns the total length when probing (`buf` None), else
/// the bytes copied.
pub fn get_masks(buf: Option<&mut [u8]>, discard: i32, unterm: bool) -> i32 {
    if !is_open() {
        return 0;
    }
    let mut text = masks_text();
    if !unterm {
        text.push(0);
    }
    let skip = discard.max(0) as usize;
    match buf {
        None => text.len() as i32,
        Some(b) => {
            let src = text.get(skip..).unwrap_or(&[]);
            let n = src.len().min(b.len());
            b[..n].copy_from_slice(&src[..n]);
            n as i32
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Open, close, write.

/// Parameters of `d_log_open`.
pub struct OpenArgs<'a> {
    pub tag: Option<&'a CStr>,
    pub maxfac_hint: i32,
    pub default_mask: i32,
    pub stderr_mask: i32,
    pub logfile: Option<&'a CStr>,
    pub flags: i32,
    pub id_cb: sys::d_log_id_cb_t,
}

extern "C" fn sync_at_exit() {
    sync();
}

/// `d_log_open`: 0, or -1 (bad parameters, log already open, file errors).
pub fn open(a: &OpenArgs<'_>) -> i32 {
    if is_open()
        || a.tag.is_none()
        || a.maxfac_hint < 0
        || a.default_mask & !DLOG_PRIMASK != 0
        || a.stderr_mask & !DLOG_PRIMASK != 0
    {
        stderr_print("d_log_open invalid parameter.\n");
        return -1;
    }
    let tag = a.tag.unwrap_or_default();

    let mut flush_pri = DLOG_WARN;
    if let Some(env) = getenv(c"D_LOG_FLUSH") {
        let p = str2pri(&env, env.len() + 1);
        if p != -1 {
            flush_pri = p;
        }
    }
    let truncate = getenv(c"D_LOG_TRUNCATE").is_some_and(|e| atoi(&e) > 0);
    let mut log_size = LOG_SIZE_DEF;
    if let Some(env) = getenv(c"D_LOG_SIZE") {
        log_size = parse_size(&env).max(LOG_SIZE_MIN);
    }
    let mut logfile: Option<Vec<u8>> = a.logfile.map(|f| f.to_bytes().to_vec());
    if let (Some(f), Some(env)) = (logfile.as_mut(), getenv(c"D_LOG_FILE_APPEND_PID")) {
        if env != b"0" {
            // SAFETY: getpid has no preconditions.
            f.extend_from_slice(format!(".{}", unsafe { libc::getpid() }).as_bytes());
        }
    }
    let append_rank = getenv(c"D_LOG_FILE_APPEND_RANK").is_some_and(|e| e != b"0");

    let mut newtag = tag.to_bytes().to_vec();
    if a.flags & DLOG_FLV_LOGPID != 0 {
        newtag.push(b'[');
    }
    // SAFETY: calloc'ed buffer of tag length + TAG_PAD, filled with at most that minus one.
    let tagp = unsafe {
        let p = libc::calloc(1, tag.to_bytes().len() + TAG_PAD) as *mut u8;
        if p.is_null() {
            stderr_print("d_log_open calloc failed.\n");
            return -1;
        }
        std::ptr::copy_nonoverlapping(newtag.as_ptr(), p, newtag.len());
        p as *mut c_char
    };

    let mut st = state();
    st.log_file = None;
    st.log_old = None;
    st.buf = Vec::new();
    st.log_fd = -1;
    st.log_old_fd = -1;
    st.log_size = 0;
    st.log_last_check_size = 0;
    st.log_size_max = 0;
    st.id_cb = a.id_cb;
    st.fac_alloc = 0;
    st.flush_pri = flush_pri;
    st.append_rank = append_rank;
    st.rank_appended = false;
    st.caches.clear();
    st.def_mask = a.default_mask;
    st.stderr_mask = a.stderr_mask;

    if let Some(file) = logfile {
        if open_file(&mut st, file, truncate, log_size).is_err() {
            drop(st);
            cleanout();
            // SAFETY: allocated above, never installed.
            unsafe { libc::free(tagp.cast()) };
            return -1;
        }
    }
    st.oflags = a.flags;
    if set_nfac(&mut st, a.maxfac_hint.max(1)).is_err() {
        stderr_print("clog_setnfac failed.\n");
        drop(st);
        cleanout();
        // SAFETY: allocated above, never installed.
        unsafe { libc::free(tagp.cast()) };
        return -1;
    }
    // SAFETY: uname fills a utsname; the node name is copied into the state's stable buffer,
    // which d_log_xst.nodename then points to (STATE is a static).
    unsafe {
        let mut uts: libc::utsname = std::mem::zeroed();
        libc::uname(&mut uts);
        st.nodename = [0; 65];
        for (i, &c) in uts.nodename.iter().take(64).enumerate() {
            if c == 0 || (a.flags & DLOG_FLV_FQDN == 0 && c == b'.' as c_char) {
                break;
            }
            st.nodename[i] = c;
        }
        (*xst()).nodename = st.nodename.as_mut_ptr();
        let (mut o, mut e) = (0, 0);
        oxidaos_gurt_stdio_ttys(&mut o, &mut e);
        st.stderr_isatty = e != 0;
        (*xst()).tag = tagp;
    }
    drop(st);
    // SAFETY: registering a plain extern "C" function.
    if unsafe { libc::atexit(sync_at_exit) } != 0 {
        stderr_print(
            "unable to register flush of log,\npotential risk to miss last lines if fini method not invoked upon exit\n",
        );
    }
    0
}

/// Opens (or merges stderr into) the log file. Lock held.
fn open_file(st: &mut LogState, file: Vec<u8>, truncate: bool, log_size: u64) -> Result<(), ()> {
    if getenv(c"D_LOG_STDERR_IN_LOG").is_some_and(|e| atoi(&e) > 0) {
        MERGE_STDERR.store(true, Ordering::Relaxed);
    }
    let Ok(cfile) = CString::new(file) else {
        stderr_print("strdup failed.\n");
        return Err(());
    };
    let name = cfile.to_string_lossy().into_owned();
    let mut oflags = libc::O_RDWR | libc::O_CREAT;
    if !truncate {
        oflags |= libc::O_APPEND;
    }
    // SAFETY: plain file-descriptor calls on a NUL-terminated path.
    unsafe {
        let fd = if MERGE_STDERR.load(Ordering::Relaxed) {
            let mode = if truncate { c"w" } else { c"a" };
            oxidaos_gurt_stderr_reopen(cfile.as_ptr(), mode.as_ptr(), 1)
        } else {
            libc::open(cfile.as_ptr(), oflags, 0o644 as libc::c_uint)
        };
        if fd < 0 {
            stderr_print(&format!("d_log_open: cannot open {name}: {}\n", strerror(errno())));
            st.log_file = Some(cfile);
            return Err(());
        }
        // A high, stable descriptor number (the interception library closes low ones).
        let hi = libc::fcntl(fd, libc::F_DUPFD, 128);
        if hi < 0 {
            stderr_print(&format!("d_log_write(): failed to recreate log file {name}: {}\n", strerror(errno())));
            libc::close(fd);
            st.log_file = Some(cfile);
            return Err(());
        }
        libc::close(fd);
        st.log_fd = hi;
        st.log_file = Some(cfile);
        if !truncate {
            let mut sb: libc::stat = std::mem::zeroed();
            if libc::fstat(hi, &mut sb) != 0 {
                return Err(());
            }
            st.log_size = sb.st_size as u64;
        }
    }
    st.log_size_max = log_size;
    Ok(())
}

/// Whether the file plus the buffer reached D_LOG_SIZE. With stderr merged into the file
/// (which grows behind our back) the size is re-read each time it grew by 2% of the limit.
fn exceeds_threshold(st: &mut LogState) -> bool {
    if MERGE_STDERR.load(Ordering::Relaxed) && st.log_size - st.log_last_check_size >= st.log_size_max / 50 {
        // SAFETY: fstat on our descriptor into a zeroed stat.
        unsafe {
            let mut sb: libc::stat = std::mem::zeroed();
            if libc::fstat(st.log_fd, &mut sb) == 0 {
                st.log_size = sb.st_size as u64;
            }
        }
        st.log_last_check_size = st.log_size;
    }
    st.log_size + st.buf.len() as u64 >= st.log_size_max
}

/// Renames the full log to NAME.first (the first time) or NAME.old (after) and starts a new
/// one. The old file stays open until the next sync so an assertion can still flush it.
fn rotate(st: &mut LogState) -> Result<(), ()> {
    let Some(file) = st.log_file.clone() else {
        return Err(());
    };
    let suffix: &[u8] = if st.log_old.is_none() { b".first" } else { b".old" };
    let mut old = file.as_bytes().to_vec();
    old.extend_from_slice(suffix);
    let old = CString::new(old).map_err(|_| ())?;
    // SAFETY: plain file-descriptor calls on NUL-terminated paths.
    unsafe {
        if st.log_old_fd >= 0 {
            libc::close(st.log_old_fd);
            st.log_old_fd = -1;
        }
        st.log_old = Some(old.clone());
        if libc::rename(file.as_ptr(), old.as_ptr()) != 0 {
            print_err("log_rotate", line!(), errno(), "failed to rename log file\n");
            return Err(());
        }
        st.log_old_fd = st.log_fd;
        let name = file.to_string_lossy().into_owned();
        if MERGE_STDERR.load(Ordering::Relaxed) {
            let fd = oxidaos_gurt_stderr_reopen(file.as_ptr(), c"w".as_ptr(), 0);
            if fd < 0 {
                stderr_print(&format!("d_log_write(): cannot open new {name}: {}\n", strerror(errno())));
                return Err(());
            }
            st.log_fd = fd;
        } else {
            let fd = libc::open(file.as_ptr(), libc::O_RDWR | libc::O_CREAT, 0o644 as libc::c_uint);
            if fd < 0 {
                stderr_print(&format!("d_log_write(): failed to recreate log file {name}: {}\n", strerror(errno())));
                return Err(());
            }
            let hi = libc::fcntl(fd, libc::F_DUPFD, 128);
            if hi < 0 {
                stderr_print(&format!("d_log_write(): failed to recreate log file {name}: {}\n", strerror(errno())));
                libc::close(fd);
                return Err(());
            }
            libc::close(fd);
            st.log_fd = hi;
        }
    }
    st.log_size = 0;
    st.log_last_check_size = 0;
    Ok(())
}

/// Writes the buffer out (rotating first when the file is full).
fn flush_buf(st: &mut LogState) -> Result<(), ()> {
    if st.buf.is_empty() {
        return Ok(());
    }
    if exceeds_threshold(st) {
        rotate(st)?;
    }
    let mut off = 0;
    while off < st.buf.len() {
        // SAFETY: writing initialised bytes of our buffer to our descriptor.
        let rc = unsafe { libc::write(st.log_fd, st.buf[off..].as_ptr().cast(), st.buf.len() - off) };
        if rc < 0 {
            let err = errno();
            if err == libc::EINTR {
                continue;
            }
            print_err("d_log_write", line!(), err, &format!("failed to write log {}\n", st.log_fd));
            if err == libc::EBADF {
                st.log_fd = -1;
            }
            return Err(());
        }
        off += rc as usize;
    }
    st.log_size += st.buf.len() as u64;
    st.buf.clear();
    Ok(())
}

/// Appends a line to the buffer; writes the buffer when it is full or when `flush` is set.
fn write_line(st: &mut LogState, msg: Option<&[u8]>, flush: bool) -> Result<(), ()> {
    if st.log_fd < 0 {
        return Ok(());
    }
    if st.buf.capacity() == 0 {
        st.buf.reserve_exact(LOG_BUF_SIZE);
    }
    if let Some(m) = msg {
        if m.len() > LOG_BUF_SIZE - st.buf.len() {
            flush_buf(st)?;
        }
        st.buf.extend_from_slice(m);
        if !flush {
            return Ok(());
        }
    }
    flush_buf(st)
}

/// `d_log_sync`: writes the buffer, fsyncs the log, and fsyncs and closes a rotated-out file.
pub fn sync() {
    let mut st = state();
    let mut ok = true;
    if !st.buf.is_empty() {
        ok = write_line(&mut st, None, true).is_ok();
    }
    // SAFETY: fsync/close on our descriptors.
    unsafe {
        if st.log_fd >= 0 && ok && libc::fsync(st.log_fd) < 0 {
            let err = errno();
            print_err("d_log_sync", line!(), err, &format!("failed to sync log file {}\n", st.log_fd));
            if err == libc::EBADF {
                st.log_fd = -1;
            }
        }
        if st.log_old_fd >= 0 {
            if libc::fsync(st.log_old_fd) < 0 {
                print_err("d_log_sync", line!(), errno(), &format!("failed to sync log backup {}\n", st.log_old_fd));
            }
            libc::close(st.log_old_fd);
            st.log_old_fd = -1;
        }
    }
}

/// `d_log_disable_logging`: forget the log file descriptors (nothing is written any more).
pub fn disable_logging() {
    let mut st = state();
    st.log_fd = -1;
    st.log_old_fd = -1;
}

/// Releases everything `open` set up (upstream's dlog_cleanout); the caller clears the tag.
fn cleanout() {
    let mut st = state();
    if st.log_file.is_some() {
        if st.log_fd >= 0 {
            let _ = write_line(&mut st, None, true);
            // SAFETY: closing our descriptor.
            unsafe { libc::close(st.log_fd) };
        }
        st.log_fd = -1;
        st.log_file = None;
    }
    if st.log_old.is_some() {
        if st.log_old_fd >= 0 {
            // SAFETY: closing our descriptor.
            unsafe { libc::close(st.log_old_fd) };
        }
        st.log_old_fd = -1;
        st.log_old = None;
    }
    st.buf = Vec::new();
    // SAFETY: facility array and names were allocated with libc under this lock.
    unsafe {
        let x = &mut *xst();
        if !x.dlog_facs.is_null() {
            for i in 0..st.fac_alloc {
                let f = &mut *x.dlog_facs.add(i as usize);
                if !f.fac_aname.is_null() && f.fac_aname != FAC0_NAME.as_ptr() as *mut c_char {
                    libc::free(f.fac_aname.cast());
                }
                libc::free(f.fac_lname.cast());
            }
            let old = x.dlog_facs;
            x.fac_cnt = 0;
            x.dlog_facs = std::ptr::null_mut();
            libc::free(old.cast());
            st.fac_alloc = 0;
        }
    }
    reset_caches_locked(&st);
    st.caches.clear();
}

/// `d_log_close`: closes the log (nothing when closed).
pub fn close() {
    // SAFETY: the tag is cleared first (marking the log down for the unlocked readers), then
    // freed; it was allocated with libc calloc by open.
    unsafe {
        let x = &mut *xst();
        if x.tag.is_null() {
            return;
        }
        let t = x.tag;
        x.tag = std::ptr::null_mut();
        libc::free(t.cast());
    }
    cleanout();
}

/// `d_log_rank_setup`: with D_LOG_FILE_APPEND_RANK, renames the log file to NAME.rank=N once.
pub fn rank_setup(rank: i32) {
    let mut st = state();
    if !st.append_rank || st.rank_appended {
        return;
    }
    let Some(file) = st.log_file.clone() else {
        return;
    };
    let mut name = file.as_bytes().to_vec();
    name.extend_from_slice(format!(".rank={rank}").as_bytes());
    let Ok(name) = CString::new(name) else {
        return;
    };
    // SAFETY: rename of two NUL-terminated paths.
    if unsafe { libc::rename(file.as_ptr(), name.as_ptr()) } != 0 {
        print_err("d_log_rank_setup", line!(), errno(), "failed to rename log file\n");
        return;
    }
    st.log_file = Some(name);
    st.rank_appended = true;
}

// ---------------------------------------------------------------------------------------------
// The line.

thread_local! {
    // Plain integers, no destructors (safe after dlclose, rust-lang/rust#91979).
    static TID: std::cell::Cell<u32> = const { std::cell::Cell::new(u32::MAX) };
    static PID: std::cell::Cell<u32> = const { std::cell::Cell::new(u32::MAX) };
}

/// `d_log_reset`: forget this thread's cached pid and tid (after fork).
pub fn reset_thread() {
    TID.with(|t| t.set(u32::MAX));
    PID.with(|p| p.set(u32::MAX));
    LAST_ERR.with(|c| c.set((0, 0, 0)));
}

/// What `emit` hands back to d_vlog for the stdio copies.
pub struct Emitted {
    /// The line, newline-terminated.
    pub len: usize,
    /// Length of the header's first part (skipped on a terminal).
    pub pt1: usize,
    /// DLOG_STDERR / DLOG_STDOUT copies wanted, plus 1 when part one is to be skipped.
    pub out: i32,
}

/// Builds the line for a message d_vlog formatted (`msg`: its first bytes, `full_len`: its
/// whole length), writes it to the log file and says which stdio copies to make. `line`
/// receives the NUL-terminated line.
pub fn emit(mut flags: i32, msg: &[u8], full_len: usize, line: &mut [u8; LINE_SIZE]) -> Option<Emitted> {
    let mut fac = flags & DLOG_FACMASK;
    let lvl = flags & DLOG_PRIMASK;
    let pri = flags & DLOG_PRINDMASK;

    // The pid/tid/ULT id come before the lock, from the id callback when there is one.
    let (oflags, id_cb, stderr_mask) = {
        let st = state();
        (st.oflags, st.id_cb, st.stderr_mask)
    };
    let mut uid: u64 = 0;
    if oflags & DLOG_FLV_TAG != 0 && oflags & DLOG_FLV_LOGPID != 0 {
        if PID.with(|p| p.get()) == u32::MAX {
            // SAFETY: getpid has no preconditions.
            PID.with(|p| p.set(unsafe { libc::getpid() } as u32));
        }
        if TID.with(|t| t.get()) == u32::MAX {
            let mut tid: u32 = u32::MAX;
            match id_cb {
                // SAFETY: the callback registered with d_log_open, as upstream calls it.
                Some(cb) => unsafe { cb(&mut tid, std::ptr::null_mut()) },
                // SAFETY: gettid has no preconditions.
                None => tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32,
            }
            TID.with(|t| t.set(tid));
        }
        if let Some(cb) = id_cb {
            // SAFETY: as above.
            unsafe { cb(std::ptr::null_mut(), &mut uid) };
        }
    }
    if stderr_mask != 0 && lvl >= stderr_mask {
        flags |= DLOG_STDERR;
    }

    let mut st = state();
    // SAFETY: facility array read under the STATE lock; the tag and names are C strings.
    let (tag, facstr) = unsafe {
        let x = &*xst();
        if x.tag.is_null() || x.dlog_facs.is_null() {
            return None; // closed: upstream would crash here
        }
        if fac >= x.fac_cnt {
            fac = 0;
        }
        let f = &*x.dlog_facs.add(fac as usize);
        let facstr = if f.fac_aname.is_null() {
            fac.to_string()
        } else {
            CStr::from_ptr(f.fac_aname).to_string_lossy().into_owned()
        };
        (CStr::from_ptr(x.tag).to_string_lossy().into_owned(), facstr)
    };

    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    // SAFETY: gettimeofday and localtime_r fill caller-owned structures.
    let tm = unsafe {
        libc::gettimeofday(&mut tv, std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&tv.tv_sec, &mut tm).is_null() {
            drop(st);
            print_err("d_vlog", line!(), errno(), "localtime returned NULL\n");
            return None;
        }
        tm
    };
    let nodename = {
        let n = st.nodename.iter().position(|&c| c == 0).unwrap_or(st.nodename.len());
        st.nodename[..n].iter().map(|&c| c as u8 as char).collect::<String>()
    };

    let mut hdr = String::with_capacity(128);
    let _ = write!(hdr, "{} ", pri_name(lvl));
    if st.oflags & DLOG_FLV_YEAR != 0 {
        let _ = write!(hdr, "{:04}/", tm.tm_year + 1900);
    }
    let _ = write!(
        hdr,
        "{:02}/{:02} {:02}:{:02}:{:02}.{:06} {} ",
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        tv.tv_usec,
        nodename
    );
    if st.oflags & DLOG_FLV_TAG != 0 {
        if st.oflags & DLOG_FLV_LOGPID != 0 {
            let pid = PID.with(|p| p.get()) as i32;
            let tid = TID.with(|t| t.get()) as i32;
            let _ = write!(hdr, "{tag}{pid}/{tid}/{uid}] ");
        } else {
            let _ = write!(hdr, "{tag} ");
        }
    }
    let pt1 = hdr.len();
    if st.oflags & DLOG_FLV_FAC != 0 {
        let _ = write!(hdr, "{facstr:<4} ");
    }
    let hlen = hdr.len();
    if hlen + 1 >= LINE_SIZE {
        drop(st);
        print_err("d_vlog", line!(), libc::E2BIG, &format!("header overflowed {LINE_SIZE} byte buffer ({})\n", hlen + 1));
        return None;
    }

    // header + message, cut to LINE_SIZE - 1 bytes, always ending in a newline
    line[..hlen].copy_from_slice(hdr.as_bytes());
    let room = LINE_SIZE - 1 - hlen;
    let n = msg.len().min(room);
    line[hlen..hlen + n].copy_from_slice(&msg[..n]);
    let mut tlen = hlen + full_len;
    if tlen >= LINE_SIZE - 1 {
        tlen = LINE_SIZE - 1;
    } else if line[tlen - 1] != b'\n' {
        tlen += 1;
    }
    line[tlen - 1] = b'\n';
    line[tlen] = 0;

    if st.oflags & DLOG_FLV_STDOUT != 0 {
        flags |= DLOG_STDOUT;
    }
    if st.oflags & DLOG_FLV_STDERR != 0 {
        flags |= DLOG_STDERR;
    }

    // Important messages (and, once a second, any) are written out at once.
    let flush = if st.flush_pri == DLOG_DBG {
        true
    } else {
        lvl >= st.flush_pri || tv.tv_sec > st.last_flush
    };
    if flush {
        st.last_flush = tv.tv_sec;
    }
    let _ = write_line(&mut st, Some(&line[..tlen]), flush);
    let skip_pt1 = st.stderr_isatty;
    drop(st);

    let mut out = 0;
    if pri != DLOG_EMIT {
        out = flags & (DLOG_STDERR | DLOG_STDOUT);
        if out != 0 && skip_pt1 {
            out |= 1;
        }
    }
    Some(Emitted { len: tlen, pt1, out })
}

// ---------------------------------------------------------------------------------------------
// gurt's own messages.

/// The facilities gurt itself logs to (its `D_FOREACH_GURT_FAC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GurtFac {
    Misc,
    Mem,
    Swim,
    Fi,
    Telem,
}

impl GurtFac {
    /// The facility for a `tracing` target: its first path segment if it names one, else misc.
    #[inline]
    pub fn from_target(target: &str) -> GurtFac {
        let b = target.as_bytes();
        let first = match b.iter().position(|&c| c == b':') {
            Some(i) => &b[..i],
            None => b,
        };
        match first {
            b"mem" => GurtFac::Mem,
            b"swim" => GurtFac::Swim,
            b"fi" => GurtFac::Fi,
            b"telem" => GurtFac::Telem,
            _ => GurtFac::Misc,
        }
    }

    /// (facility number, cache) of this facility.
    #[inline]
    fn vars(self) -> (*const c_int, *mut [c_int; 16]) {
        use crate::capi as c;
        match self {
            GurtFac::Misc => (&raw const c::d_misc_logfac, &raw mut c::d_misc_logfac_cache),
            GurtFac::Mem => (&raw const c::d_mem_logfac, &raw mut c::d_mem_logfac_cache),
            GurtFac::Swim => (&raw const c::d_swim_logfac, &raw mut c::d_swim_logfac_cache),
            GurtFac::Fi => (&raw const c::d_fi_logfac, &raw mut c::d_fi_logfac_cache),
            GurtFac::Telem => (&raw const c::d_telem_logfac, &raw mut c::d_telem_logfac_cache),
        }
    }
}

/// A log level as the D_* macros name it: a priority or one of gurt's debug bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Emit,
    Fatal,
    Alert,
    Crit,
    Err,
    Warn,
    Note,
    Info,
    Dbg,
    DbAll,
    DbAny,
    DbTrace,
    DbMem,
    DbNet,
    DbIo,
    DbTest,
}

impl Level {
    /// The cache slot (`DD_FLAG_<level>_<fac> - 1`) and the level's current mask value.
    #[inline]
    fn slot_and_mask(self) -> (usize, i32) {
        use crate::capi as c;
        // SAFETY: plain reads of the exported debug-bit variables.
        let bit = |p: *const u64| unsafe { *p } as i32;
        match self {
            Level::Emit => (0, DLOG_EMIT),
            Level::Fatal => (1, DLOG_EMERG),
            Level::Alert => (2, DLOG_ALERT),
            Level::Crit => (3, DLOG_CRIT),
            Level::Err => (4, DLOG_ERR),
            Level::Warn => (5, DLOG_WARN),
            Level::Note => (6, DLOG_NOTE),
            Level::Info => (7, DLOG_INFO),
            Level::Dbg => (8, DLOG_DBG),
            Level::DbAll => (9, bit(&raw const c::DB_ALL)),
            Level::DbAny => (10, bit(&raw const c::DB_ANY)),
            Level::DbTrace => (11, bit(&raw const c::DB_TRACE)),
            Level::DbMem => (12, bit(&raw const c::DB_MEM)),
            Level::DbNet => (13, bit(&raw const c::DB_NET)),
            Level::DbIo => (14, bit(&raw const c::DB_IO)),
            Level::DbTest => (15, bit(&raw const c::DB_TEST)),
        }
    }
}

/// The flags a message of `level` in `fac` is logged with (0: off), through the facility's
/// cache exactly as the D_DEBUG macro does.
#[inline]
pub fn enabled(fac: GurtFac, level: Level) -> i32 {
    let (facno, cache) = fac.vars();
    let (slot, mask) = level.slot_and_mask();
    // SAFETY: the caches are exported int arrays of 16; C accesses them the same way; the int
    // is accessed atomically here. The facility number is a plain exported int.
    unsafe {
        let cell = &*(cache as *const AtomicI32).add(slot);
        let v = cell.load(Ordering::Relaxed);
        if v == 0 {
            return 0;
        }
        cached_check(cell, mask, *facno)
    }
}

/// Logs "file:line func() message" like the D_DEBUG macros, through d_vlog.
#[inline]
pub fn log(fac: GurtFac, level: Level, file: &str, line: u32, func: &str, args: std::fmt::Arguments<'_>) {
    let flags = enabled(fac, level);
    if flags != 0 {
        log_with(flags, file, line, func, args);
    }
}

/// The enabled half of [`log`].
#[cold]
#[inline(never)]
pub fn log_with(flags: i32, file: &str, line: u32, func: &str, args: std::fmt::Arguments<'_>) {
    log_preformatted(flags, &format!("{file}:{line} {func}() {args}"));
}

/// `D_DEBUG`-style logging from Rust inside gurt: `dlog!(Misc, Fatal, "fn", "fmt", args..)`.
/// While the level is off this is one load and a branch, as with the C macro.
#[macro_export]
macro_rules! dlog {
    ($fac:ident, $lvl:ident, $func:expr, $($arg:tt)+) => {{
        let flags = $crate::dlog::enabled($crate::dlog::GurtFac::$fac, $crate::dlog::Level::$lvl);
        if flags != 0 {
            $crate::dlog::log_with(flags, file!(), line!(), $func, format_args!($($arg)+));
        }
    }};
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Serialises the unit tests that open the process-wide log.
    pub(crate) static LOG_TEST_LOCK: Mutex<()> = Mutex::new(());

    #[test]
    fn priorities_parse_like_upstream() {
        assert_eq!(str2pri(b"ERR", 3), DLOG_ERR);
        assert_eq!(str2pri(b"error", 5), DLOG_ERR);
        assert_eq!(str2pri(b"e", 1), DLOG_ERR); // any prefix of ERR
        assert_eq!(str2pri(b"WARN", 4), DLOG_WARN);
        assert_eq!(str2pri(b"warn\0", 5), DLOG_WARN); // D_LOG_FLUSH passes strlen + 1
        assert_eq!(str2pri(b"info", 4), DLOG_INFO);
        assert_eq!(str2pri(b"NOTE", 4), DLOG_NOTE);
        assert_eq!(str2pri(b"crit", 4), DLOG_CRIT);
        assert_eq!(str2pri(b"ALRT", 4), DLOG_ALERT);
        assert_eq!(str2pri(b"EMRG", 4), DLOG_EMERG);
        assert_eq!(str2pri(b"EMIT", 4), DLOG_EMIT);
        assert_eq!(str2pri(b"EMERG", 5), -1);
        assert_eq!(str2pri(b"FATAL", 5), -1);
        assert_eq!(str2pri(b"", 0), -1);
        assert_eq!(str2pri(b"VERYLONGX", 9), -1);
        assert_eq!(str2pri(b"bogus", 5), -1);
        assert_eq!(str2pri(b"DEBUG", 5), DLOG_DBG); // DD_MASK empty in the test process
    }

    #[test]
    fn priority_names() {
        assert_eq!(pri_name(DLOG_ERR), "ERR ");
        assert_eq!(pri_name(DLOG_EMIT), "EMIT");
        assert_eq!(pri_name(DLOG_DBG), "DBUG");
        assert_eq!(pri_name(0x0f00_0000), "DBUG");
    }

    #[test]
    fn sizes_parse_like_strtoull_with_units() {
        assert_eq!(parse_size(b"1048576"), 1 << 20);
        assert_eq!(parse_size(b"2k"), 2000);
        assert_eq!(parse_size(b"2K"), 2048);
        assert_eq!(parse_size(b"3m"), 3_000_000);
        assert_eq!(parse_size(b"3M"), 3 << 20);
        assert_eq!(parse_size(b"1g"), 1_000_000_000);
        assert_eq!(parse_size(b"1G"), 1 << 30);
        assert_eq!(parse_size(b"0x10"), 16);
        assert_eq!(parse_size(b"010"), 8);
        assert_eq!(parse_size(b"  7M"), 7 << 20);
        assert_eq!(parse_size(b"junk"), 0);
        assert_eq!(parse_size(b"99999999999999999999999"), u64::MAX);
    }

    #[test]
    fn string_helpers() {
        assert!(strncaseeq(b"ALL", b"all", 3));
        assert!(strncaseeq(b"all,mem", b"all", 3));
        assert!(!strncaseeq(b"al", b"all", 3));
        assert!(strncaseeq(b"abc", b"ABC", 10));
        assert!(!strncaseeq(b"abcd", b"ABC", 10));
        assert_eq!(atoi(b" 12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"x"), 0);
    }

    #[test]
    fn targets_map_to_facilities() {
        assert_eq!(GurtFac::from_target("mem"), GurtFac::Mem);
        assert_eq!(GurtFac::from_target("swim"), GurtFac::Swim);
        assert_eq!(GurtFac::from_target("fi"), GurtFac::Fi);
        assert_eq!(GurtFac::from_target("telem::x"), GurtFac::Telem);
        assert_eq!(GurtFac::from_target("misc"), GurtFac::Misc);
        assert_eq!(GurtFac::from_target("gurt::hash"), GurtFac::Misc);
    }

    #[test]
    fn closed_log_checks_nothing() {
        let _g = LOG_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        assert!(!is_open());
        {
            assert_eq!(check(DLOG_EMERG), 0);
            assert_eq!(alloc_facility(Some(c"x"), Some(c"y")), -1);
            assert_eq!(set_logmask(0, DLOG_ERR), -1);
            assert_eq!(set_masks(b"ERR"), -1);
            assert_eq!(get_masks(None, 0, false), 0);
        }
    }
}
