//! CaRT's log facilities (upstream `crt_debug.c`): the exported facility numbers and caches,
//! and `crt_setup_log_fac`, which registers them with libgurt's log through its C ABI.
#![allow(non_upper_case_globals)]
use std::ffi::{c_char, c_int, CString};

use crate::logfac::{CACHE_SLOTS, FACILITIES};
use crate::sys::{d_log_add_cache, d_log_allocfacility, d_log_sync_mask, DLOG_UNINIT};
use crate::init::DER_UNINIT;

const UNINIT: [c_int; CACHE_SLOTS] = [DLOG_UNINIT as c_int; CACHE_SLOTS];

macro_rules! facilities {
    ($($fac:ident $cache:ident),* $(,)?) => {
        $(
            #[no_mangle]
            pub static mut $fac: c_int = 0;
            #[no_mangle]
            pub static mut $cache: [c_int; CACHE_SLOTS] = UNINIT;
        )*
        /// The facility variable and cache of each entry of [`FACILITIES`], in its order.
        fn slots() -> [(*mut c_int, *mut c_int); FACILITIES.len()] {
            [$((&raw mut $fac, &raw mut $cache as *mut c_int)),*]
        }
    };
}

facilities!(
    crt_crt_logfac crt_crt_logfac_cache,
    crt_rpc_logfac crt_rpc_logfac_cache,
    crt_bulk_logfac crt_bulk_logfac_cache,
    crt_corpc_logfac crt_corpc_logfac_cache,
    crt_grp_logfac crt_grp_logfac_cache,
    crt_lm_logfac crt_lm_logfac_cache,
    crt_hg_logfac crt_hg_logfac_cache,
    crt_external_logfac crt_external_logfac_cache,
    crt_st_logfac crt_st_logfac_cache,
    crt_iv_logfac crt_iv_logfac_cache,
    crt_ctl_logfac crt_ctl_logfac_cache,
);

/// Upstream's `crt_setup_log_fac`: allocates each facility under its names (a new number on
/// every call, as upstream's gurt does), registers its cache for resets when masks change,
/// then applies the current masks. -DER_UNINIT when gurt cannot allocate a facility (the log
/// is not open; the rest are skipped).
#[no_mangle]
pub extern "C" fn crt_setup_log_fac() -> c_int {
    for ((short, long), (fac, cache)) in FACILITIES.iter().zip(slots()) {
        let (s, l) = (CString::new(*short).unwrap_or_default(), CString::new(*long).unwrap_or_default());
        // What gurt's inline d_init_log_facility does, through the exported function (the
        // inline's wrapper would pull every header inline into the Rust test binaries).
        // SAFETY: the names are NUL-terminated strings that gurt copies.
        let n = unsafe { d_log_allocfacility(s.as_ptr() as *const c_char, l.as_ptr() as *const c_char) };
        // SAFETY: fac is this library's exported int, written only here.
        unsafe { *fac = n };
        if n < 0 {
            eprintln!("d_add_log_facility failed, *fac: {n}");
            return DER_UNINIT;
        }
        // SAFETY: cache is this library's exported array of CACHE_SLOTS ints, alive for the
        // whole process; gurt only stores DLOG_UNINIT into it.
        unsafe { d_log_add_cache(cache, CACHE_SLOTS as c_int) };
    }
    // SAFETY: plain call into libgurt.
    unsafe { d_log_sync_mask() };
    0
}
