//! Exports of upstream `telemetry.c`: pointer checks and conversions around
//! `crate::telemetry` (text, keys, arithmetic) and `crate::telemetry::seg` (the segments).
//! The variadic entry points (`d_tm_add_metric`, the ephemeral directory calls) are in
//! `c/telemetry.c`, which formats the path and calls the `__oxidaos_tm_*` functions below.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::null_mut;

use crate::sys::{self, d_tm_context, d_tm_node_t, d_tm_nodeList_t, d_tm_stats_t, key_t, FILE};
use crate::telemetry::{self as tm, seg};

type Ctx = *mut d_tm_context;

fn cx(ctx: Ctx) -> *mut seg::Context {
    ctx as *mut seg::Context
}

/// # Safety
/// `p` null or a C string.
unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: as stated.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// Writes `text` to a C stream (nothing when either is empty/NULL).
fn emit(stream: *mut FILE, text: &[u8]) {
    if stream.is_null() || text.is_empty() {
        return;
    }
    // SAFETY: `stream` is the caller's open FILE; fwrite reads text.len() bytes of `text`.
    unsafe { libc::fwrite(text.as_ptr() as *const c_void, 1, text.len(), stream as *mut libc::FILE) };
}

// ---- keys, version, clocks ----

#[no_mangle]
pub extern "C" fn d_tm_get_srv_key(srv_idx: c_int) -> key_t {
    tm::srv_key(srv_idx)
}

#[no_mangle]
pub extern "C" fn d_tm_cli_pid_key(pid: c_int) -> key_t {
    tm::cli_pid_key(pid)
}

#[no_mangle]
pub extern "C" fn d_tm_get_version() -> c_int {
    tm::VERSION
}

#[no_mangle]
pub extern "C" fn d_tm_clock_id(clk_id: c_int) -> c_int {
    tm::clock_id(clk_id)
}

#[no_mangle]
pub extern "C" fn d_tm_clock_string(clk_id: c_int) -> *mut c_char {
    tm::clock_string(clk_id).as_ptr() as *mut c_char
}

#[no_mangle]
pub extern "C" fn d_tm_compute_standard_dev(sum_of_squares: f64, sample_size: u64, mean: f64) -> f64 {
    tm::standard_dev(sum_of_squares, sample_size, mean)
}

// ---- producer ----

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_init(id: c_int, mem_size: u64, flags: c_int) -> c_int {
    let name = format!("ID: {id}");
    seg::init_with_name(id, mem_size, flags, Some(name.as_bytes()))
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_init_with_name(id: c_int, mem_size: u64, flags: c_int, root_name: *const c_char) -> c_int {
    // SAFETY: root_name is NULL or a C string; only its first D_TM_MAX_NAME_LEN bytes matter.
    let name = unsafe { bytes(root_name) };
    seg::init_with_name(id, mem_size, flags, name)
}

#[no_mangle]
pub extern "C" fn d_tm_fini() {
    seg::fini()
}

#[no_mangle]
pub extern "C" fn destroy_shmem_with_key(key: key_t) -> c_int {
    seg::destroy_shmem_with_key(key)
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_set_counter(metric: *mut d_tm_node_t, value: u64) {
    // SAFETY: metric is NULL or a producer node (the API's contract).
    unsafe { seg::set_counter(metric, value) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_inc_counter(metric: *mut d_tm_node_t, value: u64) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::inc_counter(metric, value) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_record_timestamp(metric: *mut d_tm_node_t) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::record_timestamp(metric) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_record_meminfo(metric: *mut d_tm_node_t) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::record_meminfo(metric) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_take_timer_snapshot(metric: *mut d_tm_node_t, _clk_id: c_int) {
    // SAFETY: as d_tm_set_counter. The clock is the one the metric was created with.
    unsafe { seg::take_timer_snapshot(metric) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_mark_duration_start(metric: *mut d_tm_node_t, clk_id: c_int) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::mark_duration_start(metric, clk_id) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_mark_duration_end(metric: *mut d_tm_node_t) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::mark_duration_end(metric) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_set_gauge(metric: *mut d_tm_node_t, value: u64) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::gauge_op(metric, value, 0) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_inc_gauge(metric: *mut d_tm_node_t, value: u64) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::gauge_op(metric, value, 1) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_dec_gauge(metric: *mut d_tm_node_t, value: u64) {
    // SAFETY: as d_tm_set_counter.
    unsafe { seg::gauge_op(metric, value, 2) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_compute_stats(node: *mut d_tm_node_t, value: u64) {
    if node.is_null() {
        return;
    }
    // SAFETY: a producer node; its metric must exist (as upstream requires).
    unsafe {
        if (*node).dtn_metric.is_null() {
            return;
        }
        seg::compute_stats(node, value)
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_compute_histogram(node: *mut d_tm_node_t, value: u64) {
    // SAFETY: NULL or a producer node.
    unsafe { seg::compute_histogram(node, value) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_init_histogram(
    node: *mut d_tm_node_t,
    path: *mut c_char,
    num_buckets: c_int,
    initial_width: c_int,
    multiplier: c_int,
    unit: *const c_char,
) -> c_int {
    if node.is_null() || path.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: node is a producer node; path and unit are C strings (unit may be NULL).
    unsafe {
        let p = bytes(path).unwrap_or_default();
        seg::init_histogram(node, p, num_buckets, initial_width, multiplier, bytes(unit))
    }
}

/// Internal: `d_tm_add_metric` once `c/telemetry.c` formatted the path.
///
/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn __oxidaos_tm_add_metric(
    node: *mut *mut d_tm_node_t,
    metric_type: c_int,
    desc: *const c_char,
    units: *const c_char,
    fmt: *const c_char,
    path: *const c_char,
    path_rc: c_int,
) -> c_int {
    // SAFETY: strings are NULL or C strings; node NULL or writable.
    unsafe {
        seg::add_metric_api(node, metric_type, bytes(desc), bytes(units), fmt.is_null(), bytes(path).unwrap_or_default(), path_rc)
    }
}

/// Internal: `d_tm_add_ephemeral_dir` once formatted.
///
/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn __oxidaos_tm_add_ephemeral_dir(
    node: *mut *mut d_tm_node_t,
    size_bytes: usize,
    fmt: *const c_char,
    path: *const c_char,
    path_rc: c_int,
) -> c_int {
    // SAFETY: as __oxidaos_tm_add_metric.
    unsafe { seg::add_ephemeral_dir_api(node, size_bytes, bytes(fmt), bytes(path).unwrap_or_default(), path_rc) }
}

/// Internal: `d_tm_attach_path_segment` once formatted.
///
/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn __oxidaos_tm_attach_path_segment(key: key_t, fmt: *const c_char, path: *const c_char, path_rc: c_int) -> c_int {
    // SAFETY: as __oxidaos_tm_add_metric.
    unsafe { seg::attach_path_segment_api(key, bytes(fmt), bytes(path).unwrap_or_default(), path_rc) }
}

/// Internal: `d_tm_del_ephemeral_dir` (force) and `d_tm_try_del_ephemeral_dir` once formatted.
///
/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn __oxidaos_tm_del_ephemeral_dir(fmt: *const c_char, path: *const c_char, path_rc: c_int, force: c_int) -> c_int {
    // SAFETY: as __oxidaos_tm_add_metric.
    unsafe { seg::del_ephemeral_dir_api(bytes(fmt), bytes(path).unwrap_or_default(), path_rc, force != 0) }
}

// ---- consumer: sessions and the tree ----

#[no_mangle]
pub extern "C" fn d_tm_open(id: c_int) -> *mut d_tm_context {
    seg::open(id) as *mut d_tm_context
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_close(ctx: *mut *mut d_tm_context) {
    // SAFETY: ctx NULL or pointing to NULL or a context from d_tm_open.
    unsafe { seg::close(ctx as *mut *mut seg::Context) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_gc_ctx(ctx: *mut d_tm_context) {
    // SAFETY: NULL or a live context.
    unsafe { seg::gc_ctx(cx(ctx)) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_conv_ptr(ctx: *mut d_tm_context, node: *mut d_tm_node_t, ptr: *mut c_void) -> *mut c_void {
    // SAFETY: NULL or a live context; node NULL or reachable.
    unsafe { seg::d_tm_conv_ptr(cx(ctx), node, ptr) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_root(ctx: *mut d_tm_context) -> *mut d_tm_node_t {
    // SAFETY: NULL or a live context.
    unsafe { seg::get_root(cx(ctx)) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_child(ctx: *mut d_tm_context, node: *mut d_tm_node_t) -> *mut d_tm_node_t {
    if node.is_null() {
        return null_mut();
    }
    // SAFETY: node reachable by ctx.
    unsafe { seg::d_tm_conv_ptr(cx(ctx), node, (*node).dtn_child as *mut c_void) as *mut d_tm_node_t }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_sibling(ctx: *mut d_tm_context, node: *mut d_tm_node_t) -> *mut d_tm_node_t {
    if node.is_null() {
        return null_mut();
    }
    // SAFETY: node reachable by ctx.
    unsafe { seg::d_tm_conv_ptr(cx(ctx), node, (*node).dtn_sibling as *mut c_void) as *mut d_tm_node_t }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_name(ctx: *mut d_tm_context, node: *mut d_tm_node_t) -> *mut c_char {
    if node.is_null() {
        return null_mut();
    }
    // SAFETY: node reachable by ctx.
    unsafe { seg::d_tm_conv_ptr(cx(ctx), node, (*node).dtn_name as *mut c_void) as *mut c_char }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_follow_link(ctx: *mut d_tm_context, link: *mut d_tm_node_t) -> *mut d_tm_node_t {
    // SAFETY: NULL or a live context; link NULL or reachable.
    unsafe { seg::follow_link(cx(ctx), link) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_find_metric(ctx: *mut d_tm_context, path: *mut c_char) -> *mut d_tm_node_t {
    if ctx.is_null() || path.is_null() {
        return null_mut();
    }
    // SAFETY: live context; path a C string.
    unsafe { seg::find_metric(cx(ctx), bytes(path).unwrap_or_default()) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_count_metrics(ctx: *mut d_tm_context, node: *mut d_tm_node_t, d_tm_type: c_int) -> u64 {
    if node.is_null() || ctx.is_null() {
        return 0;
    }
    // SAFETY: live context; node reachable.
    unsafe { seg::count_metrics(cx(ctx), node, d_tm_type) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_list(ctx: *mut d_tm_context, head: *mut *mut d_tm_nodeList_t, node: *mut d_tm_node_t, d_tm_type: c_int) -> c_int {
    // SAFETY: checked for NULL inside; otherwise as the API requires.
    unsafe { seg::list_children(cx(ctx), head, node, d_tm_type, 0, 0, false) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_list_subdirs(
    ctx: *mut d_tm_context,
    head: *mut *mut d_tm_nodeList_t,
    node: *mut d_tm_node_t,
    node_count: *mut u64,
    max_depth: c_int,
) -> c_int {
    // SAFETY: checked for NULL inside; the list holds reachable nodes.
    unsafe {
        let rc = seg::list_children(cx(ctx), head, node, tm::DIRECTORY, 0, max_depth.wrapping_add(1), true);
        if rc != 0 {
            return rc;
        }
        let mut n = 0u64;
        let mut cur = *head;
        while !cur.is_null() && !(*cur).dtnl_node.is_null() {
            if (*(*cur).dtnl_node).dtn_type == tm::DIRECTORY {
                n += 1;
            }
            cur = (*cur).dtnl_next;
        }
        if !node_count.is_null() {
            *node_count = n;
        }
        0
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_list_add_node(src: *mut d_tm_node_t, nodelist: *mut *mut d_tm_nodeList_t) -> c_int {
    // SAFETY: nodelist NULL or writable, holding NULL or a list of ours.
    unsafe { seg::list_add_node(src, nodelist) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_list_free(node_list: *mut d_tm_nodeList_t) {
    // SAFETY: NULL or a list of ours.
    unsafe { seg::list_free(node_list) }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_iterate(
    ctx: *mut d_tm_context,
    node: *mut d_tm_node_t,
    level: c_int,
    filter: c_int,
    path: *mut c_char,
    format: c_int,
    opt_fields: c_int,
    iter_cb: sys::d_tm_iter_cb_t,
    cb_arg: *mut c_void,
) {
    let Some(cb) = iter_cb else { return };
    if ctx.is_null() {
        return;
    }
    // SAFETY: live context; node NULL or reachable; path NULL or a C string.
    unsafe { seg::iterate(cx(ctx), node, level, filter, path, format, opt_fields, cb, cb_arg) }
}

// ---- consumer: values ----

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_counter(ctx: *mut d_tm_context, val: *mut u64, node: *mut d_tm_node_t) -> c_int {
    if val.is_null() || node.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: node reachable; val writable.
    unsafe {
        match seg::get_counter(cx(ctx), node) {
            Ok(v) => {
                *val = v;
                0
            }
            Err(rc) => rc,
        }
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_timestamp(ctx: *mut d_tm_context, val: *mut libc::time_t, node: *mut d_tm_node_t) -> c_int {
    if ctx.is_null() || val.is_null() || node.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: as d_tm_get_counter.
    unsafe {
        match seg::get_timestamp(cx(ctx), node) {
            Ok(v) => {
                *val = v;
                0
            }
            Err(rc) => rc,
        }
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_timer_snapshot(ctx: *mut d_tm_context, tms: *mut sys::timespec, node: *mut d_tm_node_t) -> c_int {
    if ctx.is_null() || tms.is_null() || node.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: as d_tm_get_counter.
    unsafe {
        match seg::get_timer_snapshot(cx(ctx), node) {
            Ok(t) => {
                (*tms).tv_sec = t.tv_sec;
                (*tms).tv_nsec = t.tv_nsec;
                0
            }
            Err(rc) => rc,
        }
    }
}

/// Copies read stats out as upstream does (the mean is left alone without samples).
fn put_stats(s: &tm::Stats, out: &mut d_tm_stats_t) {
    let mean = if s.sample_size > 0 { s.mean } else { out.mean };
    seg::stats_to_c(s, out);
    out.mean = mean;
    out.std_dev = tm::standard_dev(s.sum_of_squares, s.sample_size, mean);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_duration(ctx: *mut d_tm_context, tms: *mut sys::timespec, stats: *mut d_tm_stats_t, node: *mut d_tm_node_t) -> c_int {
    if ctx.is_null() || tms.is_null() || node.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: as d_tm_get_counter; stats NULL or writable.
    unsafe {
        match seg::get_duration(cx(ctx), node) {
            Ok((t, st)) => {
                (*tms).tv_sec = t.tv_sec;
                (*tms).tv_nsec = t.tv_nsec;
                if let (Some(s), false) = (st, stats.is_null()) {
                    put_stats(&s, &mut *stats);
                }
                0
            }
            Err(rc) => rc,
        }
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_gauge(ctx: *mut d_tm_context, val: *mut u64, stats: *mut d_tm_stats_t, node: *mut d_tm_node_t) -> c_int {
    if ctx.is_null() || val.is_null() || node.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: as d_tm_get_duration.
    unsafe {
        match seg::get_gauge(cx(ctx), node) {
            Ok((v, st)) => {
                *val = v;
                if let (Some(s), false) = (st, stats.is_null()) {
                    put_stats(&s, &mut *stats);
                }
                0
            }
            Err(rc) => rc,
        }
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_metadata(ctx: *mut d_tm_context, desc: *mut *mut c_char, units: *mut *mut c_char, node: *mut d_tm_node_t) -> c_int {
    if ctx.is_null() || node.is_null() || (desc.is_null() && units.is_null()) {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: desc/units NULL or writable; node reachable.
    unsafe {
        if !desc.is_null() {
            *desc = null_mut();
        }
        if !units.is_null() {
            *units = null_mut();
        }
        match seg::get_metadata(cx(ctx), node, !desc.is_null(), !units.is_null()) {
            Ok((d, u)) => {
                if !desc.is_null() {
                    *desc = d;
                }
                if !units.is_null() {
                    *units = u;
                }
                0
            }
            Err(rc) => rc,
        }
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_num_buckets(ctx: *mut d_tm_context, histogram: *mut sys::d_tm_histogram_t, node: *mut d_tm_node_t) -> c_int {
    if ctx.is_null() || histogram.is_null() || node.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: histogram writable; node reachable.
    unsafe {
        match seg::get_num_buckets(cx(ctx), node) {
            Ok((n, w, m)) => {
                (*histogram).dth_num_buckets = n;
                (*histogram).dth_initial_width = w;
                (*histogram).dth_value_multiplier = m;
                0
            }
            Err(rc) => rc,
        }
    }
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_get_bucket_range(ctx: *mut d_tm_context, bucket: *mut sys::d_tm_bucket_t, bucket_id: c_int, node: *mut d_tm_node_t) -> c_int {
    if ctx.is_null() || node.is_null() || bucket.is_null() {
        return -(sys::DER_INVAL as c_int);
    }
    // SAFETY: bucket writable; node reachable.
    unsafe {
        match seg::get_bucket_range(cx(ctx), node, bucket_id) {
            Ok((min, max, b)) => {
                (*bucket).dtb_min = min;
                (*bucket).dtb_max = max;
                (*bucket).dtb_bucket = b;
                0
            }
            Err(rc) => rc,
        }
    }
}

// ---- printing ----

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_node(ctx: *mut d_tm_context, node: *mut d_tm_node_t, level: c_int, name: *mut c_char, format: c_int, opt_fields: c_int, stream: *mut FILE) {
    if ctx.is_null() || stream.is_null() {
        return;
    }
    let mut out = Vec::new();
    // SAFETY: live context; node NULL or reachable; name (the path) NULL or a C string.
    unsafe { seg::print_node(cx(ctx), node, level, name, format, opt_fields, &mut out) };
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_reset_node(ctx: *mut d_tm_context, node: *mut d_tm_node_t, level: c_int, path: *mut c_char, format: c_int, opt_fields: c_int, stream: *mut FILE) {
    let mut out = Vec::new();
    // SAFETY: as d_tm_print_node (a NULL ctx makes each reset fail with -DER_INVAL).
    unsafe { seg::reset_node(cx(ctx), node, &mut out) };
    let _ = (level, path, format, opt_fields);
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_field_descriptors(opt_fields: c_int, stream: *mut FILE) {
    let mut out = Vec::new();
    tm::fmt_field_descriptors(&mut out, opt_fields);
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_counter(val: u64, name: *mut c_char, format: c_int, units: *mut c_char, opt_fields: c_int, stream: *mut FILE) {
    // SAFETY: name and units NULL or C strings.
    let (Some(n), u) = (unsafe { bytes(name) }, unsafe { bytes(units) }) else { return };
    let mut out = Vec::new();
    tm::fmt_counter(&mut out, val, n, format, u, opt_fields);
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_timestamp(clk: *mut libc::time_t, name: *mut c_char, format: c_int, opt_fields: c_int, stream: *mut FILE) {
    if clk.is_null() || stream.is_null() {
        return;
    }
    // SAFETY: name NULL or a C string; clk readable.
    let (Some(n), c) = (unsafe { bytes(name) }, unsafe { *clk }) else { return };
    let mut out = Vec::new();
    match seg::ctime_text(c) {
        Some(t) => tm::fmt_timestamp(&mut out, &t, n, format, opt_fields),
        None => out.extend_from_slice(b"Error on timestamp read: ctime() failure\n"),
    }
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_timer_snapshot(tms: *mut sys::timespec, name: *mut c_char, tm_type: c_int, format: c_int, opt_fields: c_int, stream: *mut FILE) {
    if tms.is_null() {
        return;
    }
    // SAFETY: name NULL or a C string; tms readable.
    let (Some(n), t) = (unsafe { bytes(name) }, unsafe { *tms }) else { return };
    let mut out = Vec::new();
    tm::fmt_timer_snapshot(&mut out, tm::timespec_us(t.tv_sec, t.tv_nsec), n, tm_type, format, opt_fields);
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_duration(tms: *mut sys::timespec, stats: *mut d_tm_stats_t, name: *mut c_char, tm_type: c_int, format: c_int, opt_fields: c_int, stream: *mut FILE) {
    if tms.is_null() {
        return;
    }
    // SAFETY: name NULL or a C string; tms readable; stats NULL or readable.
    let (Some(n), t) = (unsafe { bytes(name) }, unsafe { *tms }) else { return };
    // SAFETY: as above.
    let st = unsafe { stats.as_ref() }.map(seg::stats_from_c);
    let mut out = Vec::new();
    tm::fmt_duration(&mut out, tm::timespec_us(t.tv_sec, t.tv_nsec), st.as_ref(), n, tm_type, format, opt_fields);
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_gauge(val: u64, stats: *mut d_tm_stats_t, name: *mut c_char, format: c_int, units: *mut c_char, opt_fields: c_int, stream: *mut FILE) {
    // SAFETY: strings NULL or C strings; stats NULL or readable.
    let (Some(n), u) = (unsafe { bytes(name) }, unsafe { bytes(units) }) else { return };
    // SAFETY: as above.
    let st = unsafe { stats.as_ref() }.map(seg::stats_from_c);
    let mut out = Vec::new();
    tm::fmt_gauge(&mut out, val, st.as_ref(), n, format, u, opt_fields);
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_metadata(desc: *mut c_char, units: *mut c_char, format: c_int, stream: *mut FILE) {
    let mut out = Vec::new();
    // SAFETY: NULL or C strings.
    tm::fmt_metadata(&mut out, unsafe { bytes(desc) }, unsafe { bytes(units) }, format);
    emit(stream, &out);
}

/// # Safety
/// Each pointer is NULL or valid as the C API requires: nodes belong to the producer's tree or
/// were reached through `ctx`, strings are NUL-terminated, out-pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn d_tm_print_stats(stream: *mut FILE, stats: *mut d_tm_stats_t, format: c_int) {
    // SAFETY: NULL or readable.
    let Some(s) = (unsafe { stats.as_ref() }) else { return };
    let mut out = Vec::new();
    tm::fmt_stats(&mut out, &seg::stats_from_c(s), format);
    emit(stream, &out);
}
