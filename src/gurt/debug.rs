//! gurt's debug subsystem on top of the log (upstream `debug.c`): the debug-bit and debug-group
//! tables behind DD_MASK, DD_STDERR, the reference-counted `d_log_init`/`d_log_fini` that
//! registers gurt's facilities (misc, mem, swim, fi, telem), `d_log_memory`, the alternative
//! assert, and the bridge that sends Rust `tracing` events through the same masks.
//!
//! The tables are exported C arrays (`d_dbg_bit_dict`, `d_dbg_grp_dict`, `d_dbglog_data`);
//! they are changed only under [`DICT`], and names are kept as the caller's pointers, as
//! upstream does.

use std::ffi::{c_char, c_int, CStr};
use std::sync::Mutex;

use crate::dlog::{self, strncaseeq, DLOG_DBG, DLOG_ERR, DLOG_WARN, DLOG_EMERG};
use crate::sys;

/// `D_LOG_SET_AS_DEFAULT`.
pub const D_LOG_SET_AS_DEFAULT: u32 = 1;
/// `-DER_UNINIT`.
const DER_UNINIT: i32 = -1015;
/// Longest DD_MASK value considered.
const DBG_ENV_MAX_LEN: usize = 128;
/// Debug bits start above the facility byte.
const DLOG_DPRISHIFT: u32 = 8;

/// Serialises changes to the exported tables.
static DICT: Mutex<()> = Mutex::new(());
/// d_log_init's lock and reference count.
static INIT: Mutex<i32> = Mutex::new(0);

fn dict_lock() -> std::sync::MutexGuard<'static, ()> {
    DICT.lock().unwrap_or_else(|e| e.into_inner())
}

fn bits() -> &'static mut [sys::d_debug_bit; 17] {
    // SAFETY: the exported table; callers hold DICT (C code that reads it directly gets the
    // same guarantees as with upstream: none).
    unsafe { &mut *(&raw mut crate::capi::d_dbg_bit_dict) }
}

fn grps() -> &'static mut [sys::d_debug_grp; 10] {
    // SAFETY: as for `bits`.
    unsafe { &mut *(&raw mut crate::capi::d_dbg_grp_dict) }
}

fn data() -> &'static mut sys::d_debug_data {
    // SAFETY: as for `bits`.
    unsafe { &mut *(&raw mut crate::capi::d_dbglog_data) }
}

/// The bytes of a C string pointer (empty for NULL).
fn cbytes<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        &[]
    } else {
        // SAFETY: names in the tables are NUL-terminated strings their registrants keep alive.
        unsafe { CStr::from_ptr(p).to_bytes() }
    }
}

/// Prints like D_PRINT_ERR: "file:line:func() msg" to stderr.
macro_rules! print_err {
    ($func:expr, $($arg:tt)+) => {
        dlog::stderr_print(&format!("{}:{}:{}() {}", file!(), line!(), $func, format_args!($($arg)+)))
    };
}

/// A failed D_ASSERT inside gurt: logged as fatal, synced, the alternative assert called, then
/// the process aborts (as assert(0)). Called with no lock held, from the outermost frame of
/// the export, because the alternative assert (cmocka's mock_assert) may longjmp.
pub(crate) fn assert_failed(expr: &CStr, func: &str, file: &CStr, line: u32) {
    dlog::log(
        dlog::GurtFac::Misc,
        dlog::Level::Fatal,
        file.to_str().unwrap_or(""),
        line,
        func,
        format_args!("Assertion '{}' failed\n", expr.to_string_lossy()),
    );
    dlog::sync();
    // SAFETY: the registered function pointer, called as the D_ASSERT macro calls it.
    unsafe {
        if let Some(f) = crate::capi::d_alt_assert {
            f(0, expr.as_ptr(), file.as_ptr(), line as c_int);
        }
    }
    dlog::stderr_print(&format!(
        "{}:{}: {}: Assertion `{}' failed.\n",
        file.to_string_lossy(),
        line,
        func,
        expr.to_string_lossy()
    ));
    std::process::abort();
}

/// `d_log_dbg_bit_alloc`: the bit of `name` (allocating the next free one; "all" is every
/// debug bit). Names are kept by pointer. 0 or -1.
pub fn bit_alloc(dbgbit: &mut u64, name: *mut c_char, lname: *mut c_char) -> i32 {
    let _g = dict_lock();
    bit_alloc_locked(dbgbit, name, lname)
}

fn bit_alloc_locked(dbgbit: &mut u64, name: *mut c_char, lname: *mut c_char) -> i32 {
    let nm = cbytes(name);
    let name_sz = nm.len() + 1;
    let lname_sz = if lname.is_null() { 0 } else { cbytes(lname).len() + 1 };
    let d = data();
    if d.dbg_bit_cnt as usize >= bits().len() - 1 {
        print_err!("d_log_dbg_bit_alloc", "Cannot allocate debug bit, all available debug mask bits currently allocated.\n");
        return -1;
    }
    let is_all = strncaseeq(nm, b"all", name_sz);
    let mut bit: u64 = 0;
    if !is_all {
        bit = (1u32 << (DLOG_DPRISHIFT + d.dbg_bit_cnt as u32)) as i32 as i64 as u64;
        d.dbg_bit_cnt += 1;
    }
    for e in bits().iter_mut() {
        if !e.db_name.is_null() {
            if strncaseeq(cbytes(e.db_name), nm, name_sz) {
                // SAFETY: db_bit points at the bit's variable (gurt's DB_* or a slot's own).
                unsafe {
                    if *e.db_bit == 0 {
                        *dbgbit = if is_all { DLOG_DBG as u64 } else { bit };
                        *e.db_bit = bit;
                    } else {
                        *dbgbit = *e.db_bit;
                        // The name already had its bit: give back the one counted above
                        // (upstream leaks it, and a later d_log_init then fails its
                        // "no bits allocated" assertion).
                        if !is_all {
                            d.dbg_bit_cnt -= 1;
                        }
                    }
                }
                return 0;
            }
        } else {
            e.db_name = name;
            e.db_lname = lname;
            e.db_name_size = name_sz;
            e.db_lname_size = lname_sz;
            // SAFETY: as above.
            unsafe { *e.db_bit = bit };
            *dbgbit = bit;
            return 0;
        }
    }
    -1
}

/// `d_log_dbg_bit_dealloc`: frees the bit called `name`. 0, -1, or an assertion failure
/// (returned as Err) when the count is already 0.
pub fn bit_dealloc(name: &[u8]) -> Result<i32, &'static CStr> {
    let _g = dict_lock();
    let name_sz = name.len() + 1;
    for e in bits().iter_mut() {
        if !e.db_name.is_null() && strncaseeq(cbytes(e.db_name), name, name_sz) {
            e.db_name = std::ptr::null_mut();
            e.db_lname = std::ptr::null_mut();
            e.db_name_size = 0;
            e.db_lname_size = 0;
            // SAFETY: db_bit points at the bit's variable.
            unsafe { *e.db_bit = 0 };
            if data().dbg_bit_cnt <= 0 {
                return Err(c"d_dbglog_data.dbg_bit_cnt > 0");
            }
            data().dbg_bit_cnt -= 1;
            return Ok(0);
        }
    }
    print_err!("d_log_dbg_bit_dealloc", "Failed to dealloc debug mask:{}\n", String::from_utf8_lossy(name));
    Ok(-1)
}

/// `d_log_dbg_grp_dealloc`.
pub fn grp_dealloc(name: &[u8]) -> Result<i32, &'static CStr> {
    let _g = dict_lock();
    let name_sz = name.len() + 1;
    for g in grps().iter_mut() {
        if !g.dg_name.is_null() && strncaseeq(cbytes(g.dg_name), name, name_sz) {
            g.dg_name = std::ptr::null_mut();
            g.dg_name_size = 0;
            g.dg_mask = 0;
            // upstream checks the bit count here (sic)
            if data().dbg_bit_cnt <= 0 {
                return Err(c"d_dbglog_data.dbg_bit_cnt > 0");
            }
            data().dbg_grp_cnt -= 1;
            return Ok(0);
        }
    }
    print_err!("d_log_dbg_grp_dealloc", "Failed to dealloc debug group mask:{}\n", String::from_utf8_lossy(name));
    Ok(-1)
}

/// Sets `dd_mask` from a DD_MASK value: bit names (short or long) and group names, comma
/// separated, case insensitive, whole words.
fn mask_load_locked(mask: &[u8]) {
    let mask = &mask[..mask.len().min(DBG_ENV_MAX_LEN)];
    let mut dd: u64 = 0;
    for tok in mask.split(|&c| c == b',').filter(|t| !t.is_empty()) {
        for e in bits().iter() {
            let hit = (!e.db_name.is_null() && strncaseeq(tok, cbytes(e.db_name), e.db_name_size))
                || (!e.db_lname.is_null() && strncaseeq(tok, cbytes(e.db_lname), e.db_lname_size));
            if hit {
                // SAFETY: db_bit points at the bit's variable.
                dd |= unsafe { *e.db_bit };
                break;
            }
        }
        for g in grps().iter() {
            if !g.dg_name.is_null() && strncaseeq(tok, cbytes(g.dg_name), g.dg_name_size) {
                dd |= g.dg_mask;
                break;
            }
        }
    }
    data().dd_mask = dd;
}

/// Applies a DD_MASK value.
pub fn mask_load(mask: &[u8]) {
    let _g = dict_lock();
    mask_load_locked(mask);
}

/// `d_log_dbg_grp_alloc`: names the bits `mask` `grpname` (kept by pointer); with
/// D_LOG_SET_AS_DEFAULT the group also becomes DD_MASK's value. 0 or -1.
pub fn grp_alloc(mask: u64, grpname: *mut c_char, flags: u32) -> i32 {
    if grpname.is_null() || mask == 0 {
        return -1;
    }
    let _g = dict_lock();
    let name = cbytes(grpname);
    let d = data();
    if d.dbg_grp_cnt as usize > grps().len() {
        print_err!("d_log_dbg_grp_alloc", "Cannot allocate debug group, all available debug group currently allocated.\n");
        return -1;
    }
    d.dbg_grp_cnt += 1;
    for g in grps().iter_mut() {
        if g.dg_name.is_null() {
            g.dg_name = grpname;
            g.dg_name_size = name.len() + 1;
            g.dg_mask = mask;
            if flags & D_LOG_SET_AS_DEFAULT != 0 {
                mask_load_locked(name);
            }
            return 0;
        }
    }
    -1
}

/// `d_log_getdbgbit`: the value of the bit called `name`. 0 (also for a NULL name) or -1.
pub fn get_dbg_bit(name: &[u8]) -> Option<u64> {
    let _g = dict_lock();
    for e in bits().iter() {
        if !e.db_name.is_null() && strncaseeq(name, cbytes(e.db_name), e.db_name_size) {
            // SAFETY: db_bit points at the bit's variable.
            return Some(unsafe { *e.db_bit });
        }
    }
    None
}

/// DD_STDERR: the lowest priority copied to stderr (names as the priority table spells them,
/// whole words, case insensitive; ERROR and DBUG as aliases); unset leaves it as it was, a bad
/// value makes it 0.
fn prio_err_load_env() {
    let Some(env) = dlog::getenv(c"DD_STDERR") else {
        return;
    };
    let d = data();
    if strncaseeq(&env, b"ERROR", 6) {
        d.dd_prio_err = DLOG_ERR as u64;
        return;
    }
    if strncaseeq(&env, b"DBUG", 5) {
        d.dd_prio_err = DLOG_DBG as u64;
        return;
    }
    const PRIOS: [(&[u8], i32); 9] = [
        (b"emit", dlog::DLOG_EMIT),
        (b"fatal", DLOG_EMERG),
        (b"alert", dlog::DLOG_ALERT),
        (b"crit", dlog::DLOG_CRIT),
        (b"err", DLOG_ERR),
        (b"warn", DLOG_WARN),
        (b"note", dlog::DLOG_NOTE),
        (b"info", dlog::DLOG_INFO),
        (b"debug", DLOG_DBG),
    ];
    d.dd_prio_err = PRIOS
        .iter()
        .find(|(n, _)| strncaseeq(&env, n, n.len() + 1))
        .map_or(0, |&(_, p)| p as u64);
    if d.dd_prio_err == 0 {
        print_err!("debug_prio_err_load_env", "DD_STDERR = {} - invalid option\n", String::from_utf8_lossy(&env));
    }
}

/// `d_log_sync_mask_ex`: applies a DD_MASK value and then a D_LOG_MASK value (either may be
/// absent).
pub fn sync_mask_ex(log_mask: Option<&[u8]>, dd_mask: Option<&[u8]>) {
    let _g = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = dd_mask {
        mask_load(m);
    }
    if let Some(m) = log_mask {
        dlog::set_masks(m);
    }
}

/// `d_log_sync_mask`: D_LOG_MASK and DD_MASK from the environment.
pub fn sync_mask() {
    let log_mask = dlog::getenv(c"D_LOG_MASK");
    let dd_mask = dlog::getenv(c"DD_MASK");
    sync_mask_ex(log_mask.as_deref(), dd_mask.as_deref());
}

/// gurt's facilities, registered by d_log_init (facility 0 is CLOG).
const GURT_FACS: [(&CStr, dlog::GurtFac); 5] = [
    (c"misc", dlog::GurtFac::Misc),
    (c"mem", dlog::GurtFac::Mem),
    (c"swim", dlog::GurtFac::Swim),
    (c"fi", dlog::GurtFac::Fi),
    (c"telem", dlog::GurtFac::Telem),
];

fn register_gurt_facilities() -> i32 {
    use crate::capi as c;
    let vars: [(*mut c_int, *mut [c_int; 16]); 5] = [
        (&raw mut c::d_misc_logfac, &raw mut c::d_misc_logfac_cache),
        (&raw mut c::d_mem_logfac, &raw mut c::d_mem_logfac_cache),
        (&raw mut c::d_swim_logfac, &raw mut c::d_swim_logfac_cache),
        (&raw mut c::d_fi_logfac, &raw mut c::d_fi_logfac_cache),
        (&raw mut c::d_telem_logfac, &raw mut c::d_telem_logfac_cache),
    ];
    for ((name, _), (fac, cache)) in GURT_FACS.iter().zip(vars) {
        let n = dlog::alloc_facility(Some(name), Some(name));
        // SAFETY: the exported facility variables and caches (d_init_log_facility's work).
        unsafe {
            *fac = n;
            if n < 0 {
                print_err!("d_init_log_facility", "d_add_log_facility failed, *fac: {}\n", n);
                print_err!("setup_clog_facnamemask", "Could not allocate {}\n", name.to_string_lossy());
                return DER_UNINIT;
            }
            dlog::add_cache(cache.cast(), 16);
        }
    }
    0
}

/// Gives gurt's named debug bits their values (DB_ALL = every bit).
fn setup_dbg_namebit() -> Result<i32, &'static CStr> {
    let _g = dict_lock();
    if data().dbg_bit_cnt != 0 {
        return Err(c"d_dbglog_data.dbg_bit_cnt == 0");
    }
    for i in 0..bits().len() {
        let (name, lname, db_bit) = {
            let e = &bits()[i];
            (e.db_name, e.db_lname, e.db_bit)
        };
        if name.is_null() {
            continue;
        }
        let mut v = 0u64;
        if bit_alloc_locked(&mut v, name, lname) < 0 {
            print_err!("setup_dbg_namebit", "Debug bit for {} not allocated\n", String::from_utf8_lossy(cbytes(name)));
            return Ok(DER_UNINIT);
        }
        // SAFETY: db_bit points at the bit's variable.
        unsafe { *db_bit = v };
    }
    Ok(0)
}

/// Clears the values of every named bit except "all" (at the last d_log_fini).
fn cleanup_dbg_namebit() -> Result<(), &'static CStr> {
    let _g = dict_lock();
    for e in bits().iter() {
        if !e.db_name.is_null() && !strncaseeq(cbytes(e.db_name), b"all", e.db_name_size) {
            // SAFETY: db_bit points at the bit's variable.
            unsafe { *e.db_bit = 0 };
            if data().dbg_bit_cnt <= 0 {
                return Err(c"d_dbglog_data.dbg_bit_cnt > 0");
            }
            data().dbg_bit_cnt -= 1;
        }
    }
    Ok(())
}

/// `d_log_init_adv`: opens the log on the first reference. 0, or -DER_UNINIT (an assertion
/// failure is returned as Err for the caller to raise outside any lock).
pub fn init_adv(
    tag: Option<&CStr>,
    file: Option<&CStr>,
    flavor: u32,
    def_mask: u64,
    mut err_mask: u64,
    id_cb: sys::d_log_id_cb_t,
) -> Result<i32, &'static CStr> {
    let mut refs = INIT.lock().unwrap_or_else(|e| e.into_inner());
    *refs += 1;
    if *refs > 1 {
        return Ok(0);
    }
    prio_err_load_env();
    if data().dd_prio_err != 0 {
        err_mask = data().dd_prio_err;
    }
    let mut rc = dlog::open(&dlog::OpenArgs {
        tag,
        maxfac_hint: 0,
        default_mask: def_mask as i32,
        stderr_mask: err_mask as i32,
        logfile: file,
        flags: flavor as i32,
        id_cb,
    });
    if rc != 0 {
        print_err!("d_log_init_adv", "d_log_open failed: {}\n", rc);
        rc = DER_UNINIT;
    } else {
        rc = match setup_dbg_namebit() {
            Ok(0) => register_gurt_facilities(),
            Ok(_) => DER_UNINIT,
            Err(e) => {
                *refs -= 1;
                return Err(e);
            }
        };
        if rc != 0 {
            rc = DER_UNINIT;
        }
    }
    if rc != 0 {
        print_err!("d_log_init_adv", "ddebug_init failed, rc: {}.\n", rc);
        *refs -= 1;
    } else {
        crate::trace::install();
    }
    Ok(rc)
}

/// `d_log_init`: D_LOG_FILE (none: every line to stdout), tag "CaRT", WARN by default, EMERG to
/// stderr; then D_LOG_MASK / DD_MASK.
pub fn init() -> Result<i32, &'static CStr> {
    let file = dlog::getenv(c"D_LOG_FILE").filter(|f| !f.is_empty());
    let mut flags = dlog::DLOG_FLV_DEFAULT;
    if file.is_none() {
        flags |= dlog::DLOG_FLV_STDOUT;
    }
    let cfile = file.and_then(|f| std::ffi::CString::new(f).ok());
    let rc = init_adv(Some(c"CaRT"), cfile.as_deref(), flags as u32, DLOG_WARN as u64, DLOG_EMERG as u64, None)?;
    if rc != 0 {
        print_err!("d_log_init", "d_log_init_adv failed, rc: {}.\n", rc);
        return Ok(rc);
    }
    sync_mask();
    Ok(0)
}

/// `d_log_fini`: drops a reference; the last one closes the log. Err: more finis than inits.
pub fn fini() -> Result<(), &'static CStr> {
    let mut refs = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if *refs <= 0 {
        return Err(c"d_log_refcount > 0");
    }
    *refs -= 1;
    if *refs == 0 {
        cleanup_dbg_namebit()?;
        dlog::close();
    }
    Ok(())
}

/// The lines `d_log_memory` logs for `size` bytes at `addr` (`mem`: those bytes, empty when
/// `addr` is NULL or `size` 0): the header, then 16 bytes a line as "ADDR: xx xx ... " (the
/// address as %p prints it).
pub fn memory_lines(addr: usize, size: usize, mem: &[u8]) -> Vec<String> {
    let mut out = vec![format!("ptr={}, size={}\n", fmt_ptr(addr), size)];
    for (n, chunk) in mem.chunks(16).enumerate() {
        let mut line = format!("{}: ", fmt_ptr(addr + n * 16));
        for b in chunk {
            line.push_str(&format!("{b:02x} "));
        }
        line.push('\n');
        out.push(line);
    }
    out
}

/// `d_log_memory`: each line at DLOG_EMERG in the misc facility (the header first, so it is
/// out before the memory is read).
pub fn log_memory(addr: usize, size: usize, mem: &[u8]) {
    for line in memory_lines(addr, size, mem) {
        crate::dlog!(Misc, Fatal, "d_log_memory", "{}", line);
    }
}

/// glibc's %p: "(nil)" or 0x-prefixed lower-case hex.
pub fn fmt_ptr(addr: usize) -> String {
    if addr == 0 {
        "(nil)".to_string()
    } else {
        format!("{addr:#x}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn memory_dump_lines() {
        let mem: Vec<u8> = (0..33).map(|i| 0xff - i as u8).collect();
        let l = memory_lines(0x1234_0000, 33, &mem);
        assert_eq!(l[0], "ptr=0x12340000, size=33\n");
        assert_eq!(l[1], "0x12340000: ff fe fd fc fb fa f9 f8 f7 f6 f5 f4 f3 f2 f1 f0 \n");
        assert_eq!(l[2], "0x12340010: ef ee ed ec eb ea e9 e8 e7 e6 e5 e4 e3 e2 e1 e0 \n");
        assert_eq!(l[3], "0x12340020: df \n");
        assert_eq!(l.len(), 4);
        assert_eq!(memory_lines(0, 0, &[]), vec!["ptr=(nil), size=0\n".to_string()]);
        assert_eq!(memory_lines(0, 5, &[]), vec!["ptr=(nil), size=5\n".to_string()]);
        assert_eq!(memory_lines(0x10, 0, &[]).len(), 1);
    }
}
