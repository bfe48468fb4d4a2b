//! The hybrid logical clock in every RPC header (upstream `crt_hg_proc.c`'s header coding and
//! `crt_rpc.c`'s HLC error callback).
//!
//! Every request, one-way message and reply carries its sender's timestamp in the transport
//! header (docs/cart-wire.md): a server's `d_hlc_get()`, or on a client the HLCT it learnt from
//! servers (`d_hlct_get()`, so client clocks never move server HLCs). A server receiving one
//! merges it with `d_hlc_get_msg`; a timestamp further ahead than the HLC epsilon is a
//! synchronisation error: logged at CRIT and reported to the callback registered with
//! `crt_register_hlc_error_cb` (at most once an hour, as upstream), and the RPC fails with
//! -DER_HLC_SYNC unless it is SWIM's. A client only tracks the timestamp (`d_hlct_sync`).
//! libgurt is reached through its C ABI (c/hlc.c).
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Mutex;
use std::time::{Duration, Instant};

unsafe extern "C" {
    /// c/hlc.c: the timestamp a header carries (d_hlc_get, or d_hlct_get on clients).
    fn oxidaos_hlc_stamp(service: c_int) -> u64;
    /// c/hlc.c: d_hlc_get_msg on servers (its rc), d_hlct_sync on clients (0).
    fn oxidaos_hlc_recv(service: c_int, msg: u64, offset: *mut u64) -> c_int;
    /// c/hlc.c: one D_CRIT line.
    fn oxidaos_hlc_sync_err_log(msg: *const c_char);
}

/// `-DER_HLC_SYNC`.
pub const DER_HLC_SYNC: i32 = -(crate::sys::DER_HLC_SYNC as i32);
/// Upstream's `CRT_PROTO_BASEOPC_MASK` and SWIM's base opcode (`crt_opc_is_swim`).
const BASEOPC_MASK: u32 = 0xFF00_0000;
const SWIM_BASE: u32 = 0xFE00_0000;
/// Synchronisation errors are reported at most this often (upstream: 1 hour).
const REPORT_EVERY: Duration = Duration::from_secs(3600);

/// A server's header stamp.
pub fn stamp_service() -> u64 {
    // SAFETY: a plain C call without pointers.
    unsafe { oxidaos_hlc_stamp(1) }
}

/// A client's header stamp.
pub fn stamp_client() -> u64 {
    // SAFETY: a plain C call without pointers.
    unsafe { oxidaos_hlc_stamp(0) }
}

/// SWIM's RPCs are never failed for an HLC error (its own clock checks handle them).
pub fn opc_is_swim(opc: u32) -> bool {
    opc & BASEOPC_MASK == SWIM_BASE
}

struct ErrCb {
    f: unsafe extern "C" fn(*mut c_void),
    arg: usize,
}

static ERR_CB: Mutex<Option<ErrCb>> = Mutex::new(None);
static NEXT_REPORT: Mutex<Option<Instant>> = Mutex::new(None);

/// `crt_register_hlc_error_cb`: replaces the callback (NULL: none).
pub fn register_error_cb(f: Option<unsafe extern "C" fn(*mut c_void)>, arg: *mut c_void) {
    let mut g = ERR_CB.lock().unwrap_or_else(|p| p.into_inner());
    *g = f.map(|f| ErrCb { f, arg: arg as usize });
}

/// Upstream `crt_trigger_hlc_error_cb`: runs the callback (outside the lock).
fn trigger_error_cb() {
    let cb = ERR_CB.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|c| (c.f, c.arg));
    if let Some((f, arg)) = cb {
        // SAFETY: the caller's callback with the argument it registered.
        unsafe { f(arg as *mut c_void) };
    }
}

/// A received header's timestamp (`what`: "request" or "reply"; `from`: the peer's rank).
/// Returns false on a synchronisation error, after reporting it (rate-limited).
pub fn receive(service: bool, hlc: u64, what: &str, opc: u32, from: u32) -> bool {
    let mut offset = 0u64;
    // SAFETY: offset is a valid, writable u64.
    let rc = unsafe { oxidaos_hlc_recv(service as c_int, hlc, &mut offset) };
    if rc == 0 {
        return true;
    }
    let now = Instant::now();
    let due = {
        let mut next = NEXT_REPORT.lock().unwrap_or_else(|p| p.into_inner());
        let due = next.map_or(true, |t| now >= t);
        if due {
            *next = Some(now + REPORT_EVERY);
        }
        due
    };
    if due {
        let msg = format!("failed to sync HLC for {what}: opc={opc:#x} ts={hlc} offset={offset} from={from}");
        if let Ok(c) = CString::new(msg) {
            // SAFETY: a valid NUL-terminated string for the duration of the call.
            unsafe { oxidaos_hlc_sync_err_log(c.as_ptr()) };
        }
        trigger_error_cb();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn swim_opcodes_and_error_code() {
        assert!(opc_is_swim(0xFE02_0000));
        assert!(opc_is_swim(0xFE02_0001));
        assert!(!opc_is_swim(0xFF04_0000));
        assert!(!opc_is_swim(0x2D01_0001));
        assert_eq!(DER_HLC_SYNC, -1037);
    }

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    unsafe extern "C" fn count(arg: *mut c_void) {
        assert_eq!(arg as usize, 0x5a);
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn error_callback_registration() {
        register_error_cb(Some(count), 0x5a as *mut c_void);
        trigger_error_cb();
        trigger_error_cb();
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
        register_error_cb(None, std::ptr::null_mut());
        trigger_error_cb();
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
        // without libgurt (these tests) every timestamp is accepted and stamps are 0
        assert!(receive(true, u64::MAX, "request", 1, 0));
        assert_eq!(stamp_service(), 0);
        assert_eq!(stamp_client(), 0);
    }
}
