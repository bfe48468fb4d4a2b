//! Exports of upstream `hlc.c`: the hybrid logical clock (see `crate::hlc`).

use std::ffi::c_int;

use crate::hlc;
use crate::sys;

const DER_INVAL: c_int = -(sys::DER_INVAL as c_int);
const DER_HLC_SYNC: c_int = -(sys::DER_HLC_SYNC as c_int);

/// A new HLC timestamp, later than every one this process has returned or merged.
#[no_mangle]
pub extern "C" fn d_hlc_get() -> u64 {
    hlc::get()
}

/// Merges a remote timestamp: the new local one in `*hlc_out`, the remote clock's lead in
/// `*offset` (both optional; the offset is written even on error). -DER_HLC_SYNC when the lead
/// exceeds epsilon.
///
/// # Safety
/// `hlc_out` and `offset` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_hlc_get_msg(msg: u64, hlc_out: *mut u64, offset: *mut u64) -> c_int {
    let (rc, out, off) = match hlc::get_msg(msg) {
        Ok((t, off)) => (0, Some(t), off),
        Err(off) => (DER_HLC_SYNC, None, off),
    };
    // SAFETY: the caller's contract.
    unsafe {
        if let Some(o) = offset.as_mut() {
            *o = off;
        }
        if let (Some(h), Some(t)) = (hlc_out.as_mut(), out) {
            *h = t;
        }
    }
    rc
}

#[no_mangle]
pub extern "C" fn d_hlc2nsec(hlc: u64) -> u64 {
    hlc::to_nsec(hlc)
}

#[no_mangle]
pub extern "C" fn d_nsec2hlc(nsec: u64) -> u64 {
    hlc::from_nsec(nsec)
}

#[no_mangle]
pub extern "C" fn d_hlc2unixnsec(hlc: u64) -> u64 {
    hlc::to_unix_nsec(hlc)
}

#[no_mangle]
pub extern "C" fn d_unixnsec2hlc(unixnsec: u64) -> u64 {
    hlc::from_unix_nsec(unixnsec)
}

/// # Safety
/// `ts` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_hlc2timespec(hlc: u64, ts: *mut sys::timespec) -> c_int {
    // SAFETY: the caller's contract.
    let Some(ts) = (unsafe { ts.as_mut() }) else { return DER_INVAL };
    let (sec, nsec) = hlc::to_timespec(hlc);
    ts.tv_sec = sec as _;
    ts.tv_nsec = nsec as _;
    0
}

/// # Safety
/// `hlc` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn d_timespec2hlc(ts: sys::timespec, hlc: *mut u64) -> c_int {
    // SAFETY: the caller's contract.
    let Some(out) = (unsafe { hlc.as_mut() }) else { return DER_INVAL };
    *out = hlc::from_timespec(ts.tv_sec, ts.tv_nsec);
    0
}

#[no_mangle]
pub extern "C" fn d_hlc_epsilon_set(epsilon: u64) {
    hlc::epsilon_set(epsilon);
}

#[no_mangle]
pub extern "C" fn d_hlc_epsilon_get() -> u64 {
    hlc::epsilon_get()
}

#[no_mangle]
pub extern "C" fn d_hlc_epsilon_get_bound(hlc: u64) -> u64 {
    hlc::epsilon_bound(hlc)
}

#[no_mangle]
pub extern "C" fn d_hlc_age2sec(hlc: u64) -> u64 {
    hlc::age_sec(hlc)
}
