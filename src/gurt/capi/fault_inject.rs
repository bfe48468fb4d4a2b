//! Exports of upstream `fault_inject.c`: the `D_FI_CONFIG` framework, the attribute table that C
//! code points into, `d_should_fail`, and the three data objects header macros read
//! (`d_fault_inject`, `d_fault_config_file`, `d_fault_attr_mem`).
//!
//! Each attribute is a `struct d_fault_attr_t` owned by the table from its first
//! `d_fault_attr_set` (or configuration entry) to the last `d_fault_inject_fini`, at a fixed
//! address: `d_fault_attr_lookup` hands that address to C, which reads the fields and passes it
//! back to `d_should_fail`. Its fields change only with its `fa_lock` held, as upstream's do;
//! the table's lock orders configuration against lookups and teardown.

use std::cell::UnsafeCell;
use std::collections::BTreeMap;
use std::ffi::{c_int, c_uint};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::{RwLock, RwLockWriteGuard};

use crate::fault_inject::{self as fi, AttrSpec, ConfigItem, Trigger};
use crate::ffi::guard;
use crate::sys;

const DER_INVAL: c_int = -(sys::DER_INVAL as c_int);
const DER_MISC: c_int = -(sys::DER_MISC as c_int);
const DER_NOMEM: c_int = -(sys::DER_NOMEM as c_int);
const DER_NOSYS: c_int = -(sys::DER_NOSYS as c_int);

/// Global switch read by `D_SHOULD_FAIL` (non-zero: faults may be injected).
#[no_mangle]
pub static mut d_fault_inject: c_uint = 0;

/// Set once a configuration file was read successfully; `d_fault_inject_enable` needs it.
#[no_mangle]
pub static mut d_fault_config_file: c_uint = 0;

/// The attribute of fault id 0, which the `D_ALLOC` family consults (NULL when the file has none).
#[no_mangle]
pub static mut d_fault_attr_mem: *mut sys::d_fault_attr_t = ptr::null_mut();

fn inject_flag() -> &'static AtomicU32 {
    // SAFETY: the static is 4-byte aligned, lives forever, and Rust touches it only atomically.
    unsafe { AtomicU32::from_ptr(&raw mut d_fault_inject) }
}

fn config_file_flag() -> &'static AtomicU32 {
    // SAFETY: as for `inject_flag`.
    unsafe { AtomicU32::from_ptr(&raw mut d_fault_config_file) }
}

fn mem_attr() -> &'static AtomicPtr<sys::d_fault_attr_t> {
    // SAFETY: a pointer-sized, pointer-aligned static that lives forever, touched only atomically
    // from Rust.
    unsafe { AtomicPtr::from_ptr(&raw mut d_fault_attr_mem) }
}

// ---------------------------------------------------------------------------------------------
// The attribute table

/// One attribute, at a stable address (always boxed).
struct Record(UnsafeCell<sys::d_fault_attr_t>);

// SAFETY: the record's fields are written only with its `fa_lock` held (and, for configuration,
// the table's write lock); `fa_argument` is a libc allocation owned by the record.
unsafe impl Send for Record {}
// SAFETY: as above: shared access goes through `fa_lock`, like upstream's C.
unsafe impl Sync for Record {}

impl Record {
    fn new(id: u32) -> Box<Record> {
        let rec = Box::new(Record(UnsafeCell::new(sys::d_fault_attr_t {
            fa_id: id,
            ..Default::default()
        })));
        // SAFETY: the lock is a fresh, unshared int inside the boxed record.
        unsafe { libc::pthread_spin_init(&raw mut (*rec.0.get()).fa_lock, 0) };
        rec
    }

    fn ptr(&self) -> *mut sys::d_fault_attr_t {
        self.0.get()
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let a = self.0.get_mut();
        // SAFETY: the argument came from libc malloc and nothing else owns it; the record is no
        // longer reachable through the table.
        unsafe {
            libc::free(a.fa_argument.cast());
            libc::pthread_spin_destroy(&raw mut a.fa_lock);
        }
    }
}

struct Table {
    refcount: u32,
    attrs: BTreeMap<u32, Box<Record>>,
}

static TABLE: RwLock<Table> = RwLock::new(Table {
    refcount: 0,
    attrs: BTreeMap::new(),
});

fn table_write() -> RwLockWriteGuard<'static, Table> {
    TABLE.write().unwrap_or_else(|e| e.into_inner())
}

fn lookup(id: u32) -> *mut sys::d_fault_attr_t {
    let t = TABLE.read().unwrap_or_else(|e| e.into_inner());
    t.attrs.get(&id).map_or(ptr::null_mut(), |r| r.ptr())
}

/// Runs `f` on an attribute with its spin lock held.
///
/// # Safety
/// `attr` points to a live `d_fault_attr_t` whose `fa_lock` was initialised (or is zero).
unsafe fn with_locked<R>(attr: *mut sys::d_fault_attr_t, f: impl FnOnce() -> R) -> R {
    // SAFETY: per the contract; the lock is released before returning.
    unsafe {
        let lock = &raw mut (*attr).fa_lock;
        libc::pthread_spin_lock(lock);
        let r = f();
        libc::pthread_spin_unlock(lock);
        r
    }
}

/// What `D_SHOULD_FAIL(d_fault_attr_mem)` decides in upstream's allocation macros: whether an
/// allocation that upstream makes with `D_ALLOC`/`D_STRNDUP`/... must fail now. gurt code that
/// ports such an allocation calls this at the same point, so the memory attribute's counters
/// and random sequence advance as they do with upstream's library.
pub fn alloc_should_fail() -> bool {
    if inject_flag().load(Ordering::Relaxed) == 0 {
        return false;
    }
    let mem = mem_attr().load(Ordering::Acquire);
    // SAFETY: d_fault_attr_mem is NULL or a record of the table (or a caller's own attribute,
    // which the caller keeps valid while it is installed).
    let fail = unsafe { d_should_fail(mem) };
    if fail {
        tracing::warn!(target: "fi", "fault_id {}, injecting fault.", fi::MEM_FAULT_ID);
    }
    fail
}

/// Creates or reconfigures attribute `spec.id` (upstream `fault_attr_set`): every setting and
/// `fa_num_faults` are replaced, the hit counter is kept, and the generator is reseeded with
/// the current seed (its high word kept). Its two allocations (the record, then the argument's
/// copy) are subject to the memory fault attribute, as upstream's `D_ALLOC` and `D_STRNDUP`.
fn attr_set(spec: &AttrSpec, num_faults: u64) -> c_int {
    // D_ALLOC_PTR of the record (the record itself lives in the table's map)
    if alloc_should_fail() {
        tracing::error!(target: "fi", "fault id {}: out of memory (injected)", spec.id);
        return DER_NOMEM;
    }
    let arg = match &spec.argument {
        // D_STRNDUP of the argument: allocation and fault check through gurt's allocator
        Some(a) => match crate::misc::mem::c_string_in(crate::dlog::GurtFac::Fi, a) {
            Some(p) => p.as_ptr(),
            None => {
                tracing::error!(target: "fi", "fault id {}: out of memory for its argument", spec.id);
                return DER_NOMEM;
            }
        },
        None => ptr::null_mut(),
    };
    let mut t = table_write();
    let rec = t.attrs.entry(spec.id).or_insert_with(|| {
        tracing::debug!(target: "fi", "new fault id: {} added", spec.id);
        Record::new(spec.id)
    });
    let a = rec.ptr();
    let seed = fi::seed();
    // SAFETY: `a` is a live record of the table (held by the write lock); its fields change
    // only with its spin lock held.
    let old_arg = unsafe {
        with_locked(a, || {
            (*a).fa_id = spec.id;
            (*a).fa_probability_x = spec.probability_x;
            (*a).fa_probability_y = spec.probability_y;
            (*a).fa_interval = spec.interval;
            (*a).fa_max_faults = spec.max_faults;
            (*a).fa_err_code = spec.err_code;
            (*a).fa_num_faults = num_faults;
            (*a).fa_rand_state = fi::seeded_state(seed, (*a).fa_rand_state);
            std::mem::replace(&mut (*a).fa_argument, arg)
        })
    };
    drop(t);
    // SAFETY: the previous argument was the record's own libc allocation (or NULL).
    unsafe { libc::free(old_arg.cast()) };
    0
}

/// Upstream's gdata teardown: the switch off, every record freed.
fn teardown(mut t: RwLockWriteGuard<'static, Table>) {
    inject_flag().store(0, Ordering::SeqCst);
    mem_attr().store(ptr::null_mut(), Ordering::SeqCst);
    fi::set_initialized(false);
    let attrs = std::mem::take(&mut t.attrs);
    drop(t);
    drop(attrs);
}

// ---------------------------------------------------------------------------------------------
// Setup and teardown

/// The value of `D_FI_CONFIG` (unset or empty: none), read with `d_agetenv_str` as upstream.
fn config_path() -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let bytes = crate::misc::env::aget_bytes(c"D_FI_CONFIG")?;
    (!bytes.is_empty()).then(|| std::ffi::OsString::from_vec(bytes).into())
}

fn init() -> c_int {
    {
        let mut t = table_write();
        if !fi::initialized() {
            fi::set_initialized(true);
            t.refcount = 0;
        }
        t.refcount += 1;
        if t.refcount > 1 {
            return 0;
        }
    }
    let Some(path) = config_path() else {
        tracing::info!(target: "fi", "No config file, fault injection is OFF.");
        return 0;
    };
    let bytes = match fi::read_config_file(&path) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(target: "fi", "{}: {}", fi::CONFIG_ENV, e);
            return e.rc;
        }
    };
    let cfg = fi::parse_config(&bytes);
    for item in &cfg.items {
        match item {
            ConfigItem::Seed(s) => fi::set_seed(*s),
            ConfigItem::ThreadDefault(on) => fi::set_thread_default(*on),
            ConfigItem::Attr(spec) => {
                // upstream copies the argument once while reading the entry (D_STRNDUP)
                let rc = if spec.argument.is_some() && alloc_should_fail() {
                    DER_NOMEM
                } else {
                    attr_set(spec, 0)
                };
                if rc != 0 {
                    return rc;
                }
            }
        }
    }
    if let Err(e) = cfg.result {
        tracing::error!(target: "fi", "Failed to parse fault config file {}: {}", path.display(), e);
        return e.rc;
    }
    tracing::info!(target: "fi", "Config file: {}, fault injection is ON.", path.display());
    config_file_flag().store(1, Ordering::SeqCst);
    inject_flag().store(1, Ordering::SeqCst);
    mem_attr().store(lookup(fi::MEM_FAULT_ID), Ordering::SeqCst);
    0
}

/// Sets up fault injection (reference counted): the first call reads the file named by
/// `D_FI_CONFIG` and, if it is valid, turns injection on. Errors: the file cannot be opened
/// (`d_errno2der` of the reason), -DER_INVAL for an unknown top-level key or a non-scalar
/// `seed`/`thread_default`, -DER_MISC for malformed YAML or a bad `fault_config` entry.
#[no_mangle]
pub extern "C" fn d_fault_inject_init() -> c_int {
    guard(DER_MISC, init)
}

/// Drops one reference; the last one turns injection off and frees every attribute.
#[no_mangle]
pub extern "C" fn d_fault_inject_fini() -> c_int {
    guard(DER_MISC, || {
        if !fi::initialized() {
            tracing::trace!(target: "fi", "fault injection not initialized.");
            return 0;
        }
        let mut t = table_write();
        t.refcount = t.refcount.saturating_sub(1);
        if t.refcount == 0 {
            teardown(t);
            tracing::debug!(target: "fi", "Finalized.");
        }
        0
    })
}

/// Turns injection on; -DER_NOSYS unless a configuration file was read.
#[no_mangle]
pub extern "C" fn d_fault_inject_enable() -> c_int {
    if config_file_flag().load(Ordering::SeqCst) == 0 {
        tracing::error!(target: "fi", "No fault config file.");
        return DER_NOSYS;
    }
    inject_flag().store(1, Ordering::SeqCst);
    0
}

#[no_mangle]
pub extern "C" fn d_fault_inject_disable() -> c_int {
    inject_flag().store(0, Ordering::SeqCst);
    0
}

#[no_mangle]
pub extern "C" fn d_fault_inject_is_enabled() -> bool {
    inject_flag().load(Ordering::SeqCst) != 0
}

/// Whether `d_fault_inject_init` was called more often than `d_fault_inject_fini`.
#[no_mangle]
pub extern "C" fn d_fi_initialized() -> bool {
    fi::initialized()
}

#[no_mangle]
pub extern "C" fn d_fault_inject_thread_enable(enabled: bool) {
    fi::set_thread_enabled(enabled);
}

#[no_mangle]
pub extern "C" fn d_fault_inject_thread_default_enable(enabled: bool) {
    fi::set_thread_default(enabled);
}

// ---------------------------------------------------------------------------------------------
// Attributes

/// Whether a fault should be injected now at the point `fault_attr` describes (false when the
/// framework is not set up or `fault_attr` is NULL). Updates the attribute's counters and
/// generator as upstream does.
///
/// # Safety
/// `fault_attr` is NULL or points to a `d_fault_attr_t` that stays valid during the call (one
/// from `d_fault_attr_lookup`, or the caller's own with a zero or initialised `fa_lock`).
#[no_mangle]
pub unsafe extern "C" fn d_should_fail(fault_attr: *mut sys::d_fault_attr_t) -> bool {
    if !fi::initialized() {
        tracing::error!(target: "fi", "fault injection not initialized.");
        return false;
    }
    if fault_attr.is_null() {
        return false;
    }
    let a = fault_attr;
    // SAFETY: per the contract; the fields are read and written with the attribute's lock held.
    unsafe {
        with_locked(a, || {
            let mut t = Trigger {
                probability_x: (*a).fa_probability_x,
                probability_y: (*a).fa_probability_y,
                interval: (*a).fa_interval,
                max_faults: (*a).fa_max_faults,
                num_faults: (*a).fa_num_faults,
                num_hits: (*a).fa_num_hits,
                rand_state: (*a).fa_rand_state,
            };
            let fail = t.should_fail(fi::thread_enabled());
            (*a).fa_num_faults = t.num_faults;
            (*a).fa_num_hits = t.num_hits;
            (*a).fa_rand_state = t.rand_state;
            fail
        })
    }
}

/// Creates or reconfigures the attribute of `fault_id` from `fa_in`'s probability, interval,
/// max_faults, err_code, num_faults and argument (copied, at most 4096 bytes). Returns 0, or
/// -DER_NOMEM.
///
/// # Safety
/// `fa_in.fa_argument` is NULL or a readable string (NUL-terminated or at least 4096 bytes).
#[no_mangle]
pub unsafe extern "C" fn d_fault_attr_set(fault_id: u32, fa_in: sys::d_fault_attr_t) -> c_int {
    let argument = (!fa_in.fa_argument.is_null()).then(|| {
        // SAFETY: per the contract, at most ARG_MAX_LEN bytes are read.
        let n = unsafe { libc::strnlen(fa_in.fa_argument, fi::ARG_MAX_LEN) };
        // SAFETY: the first n bytes are readable (strnlen read them).
        unsafe { std::slice::from_raw_parts(fa_in.fa_argument.cast::<u8>(), n) }.to_vec()
    });
    let spec = AttrSpec {
        id: fault_id,
        probability_x: fa_in.fa_probability_x,
        probability_y: fa_in.fa_probability_y,
        interval: fa_in.fa_interval,
        max_faults: fa_in.fa_max_faults,
        err_code: fa_in.fa_err_code,
        argument,
    };
    guard(DER_MISC, || attr_set(&spec, fa_in.fa_num_faults))
}

/// The attribute of `fault_id`, or NULL if it was never set. Valid until the last
/// `d_fault_inject_fini`.
#[no_mangle]
pub extern "C" fn d_fault_attr_lookup(fault_id: u32) -> *mut sys::d_fault_attr_t {
    let a = lookup(fault_id);
    if a.is_null() {
        tracing::debug!(target: "fi", "fault attr for fault ID {} not set yet.", fault_id);
    }
    a
}

/// The error code configured for `fault_id`, or -DER_INVAL if it is not set.
#[no_mangle]
pub extern "C" fn d_fault_attr_err_code(fault_id: u32) -> c_int {
    let t = TABLE.read().unwrap_or_else(|e| e.into_inner());
    match t.attrs.get(&fault_id) {
        None => {
            tracing::error!(target: "fi", "fault id: {} not set.", fault_id);
            DER_INVAL
        }
        // SAFETY: a live record (the read lock keeps it); read under its spin lock.
        Some(r) => unsafe { with_locked(r.ptr(), || (*r.ptr()).fa_err_code) },
    }
}
