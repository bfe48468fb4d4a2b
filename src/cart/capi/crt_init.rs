//! `crt_init_opt`, `crt_finalize`, the event callbacks and `crt_protocol_info_get/free`
//! (upstream `crt_init.c`, `crt_group.c`'s callback list): the C view of [`crate::init`].
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use crate::ffi::guard;
use crate::init::{self, EventCb, InitOptions, Settings};
use crate::sys::{crt_event_cb, crt_group_id_t, crt_init_options_t, crt_protocol_info};
use crate::transport::der::{DER_INVAL, DER_NOMEM};

// libgurt's reference-counted log: crt_init takes a reference, crt_finalize drops it.
use crate::sys::{d_log_fini, d_log_init};

fn opt_str(p: *const c_char) -> Option<String> {
    // SAFETY: option strings are NULL or NUL-terminated C strings owned by the caller.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// Reads every field of a `crt_init_options_t`.
fn options(o: &crt_init_options_t) -> InitOptions {
    InitOptions {
        crt_timeout: o.cio_crt_timeout,
        fault_inject: o.cio_fault_inject() != 0,
        use_sensors: o.cio_use_sensors() != 0,
        ctx_max_num: o.cio_ctx_max_num,
        ep_credits: o.cio_ep_credits,
        max_expected_size: (o.cio_use_expected_size() != 0).then_some(o.cio_max_expected_size),
        max_unexpected_size: (o.cio_use_unexpected_size() != 0).then_some(o.cio_max_unexpected_size),
        swim_crt_idx: o.cio_swim_crt_idx,
        provider: opt_str(o.cio_provider),
        interface: opt_str(o.cio_interface),
        domain: opt_str(o.cio_domain),
        port: opt_str(o.cio_port),
        auth_key: opt_str(o.cio_auth_key),
        addr_format: opt_str(o.cio_addr_format),
        thread_mode_single: o.cio_thread_mode_single,
        progress_busy: o.cio_progress_busy,
        mem_device: o.cio_mem_device,
        progress_legacy: o.cio_progress_legacy,
        progress_spindown: o.cio_progress_spindown,
    }
}

fn num_cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// # Safety
/// `grpid` is NULL or a NUL-terminated string; `opt` is NULL or a valid options struct.
#[no_mangle]
pub unsafe extern "C" fn crt_init_opt(grpid: crt_group_id_t, flags: u32, opt: *mut crt_init_options_t) -> c_int {
    // SAFETY: the caller's contract.
    let g = (!grpid.is_null()).then(|| unsafe { CStr::from_ptr(grpid) }.to_bytes().to_vec());
    // SAFETY: the caller's contract.
    let o = unsafe { opt.as_ref() }.map(options);
    // SAFETY: the caller's contract (crt_iv_init reads these two fields).
    let iv_sizes = unsafe { opt.as_ref() }.map(|o| (o.cio_max_unexpected_size, o.cio_max_expected_size));
    guard(DER_INVAL, move || {
        // SAFETY: plain call into libgurt.
        let rc = unsafe { d_log_init() };
        if rc != 0 {
            return rc;
        }
        // CaRT's log facilities, then the environment snapshot (crt_genvs), as upstream.
        super::crt_setup_log_fac();
        super::crt_misc::env_init();
        // Upstream takes a fault-injection reference with each crt_init (-DER_NOSYS: gurt
        // built without it), so cart_ctl's enable_fi/set_fi_attr work on any engine.
        // SAFETY: plain call into libgurt (reference counted).
        let fi = unsafe { crate::sys::d_fault_inject_init() };
        if fi != 0 && fi != -(crate::sys::DER_NOSYS as c_int) {
            super::crt_misc::env_fini();
            // SAFETY: drops the log reference just taken.
            unsafe { d_log_fini() };
            return fi;
        }
        let r = Settings::resolve(g.as_deref(), flags, o.as_ref(), &|k| std::env::var(k).ok(), num_cores())
            .and_then(init::init);
        // Bulk handles inside RPC bodies go through this library's bulk objects.
        crate::proc::set_bulk_codec(&crate::bulk::CODEC);
        if r.is_ok() {
            crate::iv::init_from_options(iv_sizes);
        }
        match r {
            Ok(()) => 0,
            Err(e) => {
                super::crt_misc::env_fini();
                // SAFETY: drops the references taken above.
                unsafe {
                    crate::sys::d_fault_inject_fini();
                    d_log_fini()
                };
                e
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn crt_finalize() -> c_int {
    let rc = guard(DER_INVAL, || match init::finalize() {
        Ok(()) => {
            // SAFETY: drops crt_init_opt's fault-injection and log references.
            unsafe {
                crate::sys::d_fault_inject_fini();
                d_log_fini()
            };
            0
        }
        Err(e) => e,
    });
    if rc == 0 && !init::initialized() {
        // The library is released: the UCX entry's default name comes back.
        super::crt_provider::restore_ucx();
    }
    // Upstream releases crt_genvs on every crt_finalize, whatever its result.
    super::crt_misc::env_fini();
    rc
}

fn event_cb(f: crt_event_cb, arg: *mut c_void) -> Option<EventCb> {
    f.map(|f| EventCb { func: f as usize, arg: arg as usize })
}

#[no_mangle]
pub extern "C" fn crt_register_event_cb(event_handler: crt_event_cb, arg: *mut c_void) -> c_int {
    // Upstream registers NULL too; nothing ever calls it, so it is simply not kept.
    match event_cb(event_handler, arg) {
        Some(cb) => init::register_event_cb(cb).err().unwrap_or(0),
        None => 0,
    }
}

#[no_mangle]
pub extern "C" fn crt_unregister_event_cb(event_handler: crt_event_cb, arg: *mut c_void) -> c_int {
    match event_cb(event_handler, arg) {
        Some(cb) => init::unregister_event_cb(cb).err().unwrap_or(0),
        None => crate::transport::der::DER_NONEXIST,
    }
}

fn c_strdup(s: &str) -> *mut c_char {
    // SAFETY: malloc of len+1 bytes, filled below and NUL-terminated.
    unsafe {
        let p = libc::malloc(s.len() + 1) as *mut c_char;
        if !p.is_null() {
            ptr::copy_nonoverlapping(s.as_ptr() as *const c_char, p, s.len());
            *p.add(s.len()) = 0;
        }
        p
    }
}

/// # Safety
/// `info_string` is NULL or a C string; `protocol_info_p` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn crt_protocol_info_get(info_string: *const c_char, protocol_info_p: *mut *mut crt_protocol_info) -> c_int {
    if protocol_info_p.is_null() {
        return DER_INVAL;
    }
    let filter = opt_str(info_string);
    let rows = match crate::protocol_info::list(filter.as_deref()) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut head: *mut crt_protocol_info = ptr::null_mut();
    for row in rows.iter().rev() {
        // SAFETY: a zeroed libc allocation of the struct, every pointer field set below.
        let node = unsafe { libc::calloc(1, std::mem::size_of::<crt_protocol_info>()) } as *mut crt_protocol_info;
        if node.is_null() {
            // SAFETY: frees what was built so far.
            unsafe { crt_protocol_info_free(head) };
            return DER_NOMEM;
        }
        // SAFETY: node is a fresh, exclusive allocation.
        unsafe {
            (*node).next = head;
            (*node).class_name = c_strdup(&row.class_name);
            (*node).protocol_name = c_strdup(&row.protocol_name);
            (*node).device_name = c_strdup(&row.device_name);
        }
        head = node;
    }
    // SAFETY: checked non-NULL above.
    unsafe { *protocol_info_p = head };
    0
}

/// # Safety
/// `protocol_info` is NULL or a list from `crt_protocol_info_get`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn crt_protocol_info_free(protocol_info: *mut crt_protocol_info) {
    let mut p = protocol_info;
    while !p.is_null() {
        // SAFETY: every node and string came from libc's heap in crt_protocol_info_get.
        unsafe {
            let next = (*p).next;
            libc::free((*p).class_name as *mut c_void);
            libc::free((*p).protocol_name as *mut c_void);
            libc::free((*p).device_name as *mut c_void);
            libc::free(p as *mut c_void);
            p = next;
        }
    }
}
