//! The telemetry engine: segments, the tree inside them, and the producer's global state.
//!
//! Everything here works on memory that other processes share and write (SysV segments) or
//! that C callers hand in (`d_tm_node_t` pointers), so it is raw-pointer code by nature. The
//! invariants every function relies on:
//!
//! * a `*mut MemHdr` is either null or the address at which this process attached (or
//!   allocated, in D_TM_NO_SHMEM mode) a segment of at least `sh_bytes_total` bytes whose first
//!   104 bytes are a `MemHdr`; it stays mapped until this module detaches it;
//! * a pointer stored inside a segment is the producer's address; [`conv_ptr`] turns it into
//!   this process's address and returns null unless the result lies inside the segment, so a
//!   converted pointer may be dereferenced for the size of the object it names (the producer
//!   allocated whole objects from the segment);
//! * a `*mut Node` received from C is, as upstream requires, a node of a segment this process
//!   reaches (the producer's own pointers, or ones converted for a context).
//!
//! Behaviour, return codes and the exact segment contents follow upstream `telemetry.c`.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::mem::size_of;
use std::ptr::{self, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::sys;

pub type Node = sys::d_tm_node_t;
pub type Metric = sys::d_tm_metric_t;
pub type StatsT = sys::d_tm_stats_t;
pub type Histogram = sys::d_tm_histogram_t;
pub type Bucket = sys::d_tm_bucket_t;
pub type NodeList = sys::d_tm_nodeList_t;
type Key = libc::key_t;

const DER_SUCCESS: c_int = 0;
const DER_INVAL: c_int = sys::DER_INVAL as c_int;
const DER_NOMEM: c_int = sys::DER_NOMEM as c_int;
const DER_EXIST: c_int = sys::DER_EXIST as c_int;
const DER_NONEXIST: c_int = sys::DER_NONEXIST as c_int;
const DER_ALREADY: c_int = sys::DER_ALREADY as c_int;
const DER_AGAIN: c_int = sys::DER_AGAIN as c_int;
const DER_UNINIT: c_int = sys::DER_UNINIT as c_int;
const DER_OVERFLOW: c_int = sys::DER_OVERFLOW as c_int;
const DER_NO_SHMEM: c_int = sys::DER_NO_SHMEM as c_int;
const DER_ADD_METRIC_FAILED: c_int = sys::DER_ADD_METRIC_FAILED as c_int;
const DER_OP_NOT_PERMITTED: c_int = sys::DER_OP_NOT_PERMITTED as c_int;
const DER_EXCEEDS_PATH_LEN: c_int = sys::DER_EXCEEDS_PATH_LEN as c_int;
const DER_METRIC_NOT_FOUND: c_int = sys::DER_METRIC_NOT_FOUND as c_int;
const DER_SHMEM_PERMS: c_int = sys::DER_SHMEM_PERMS as c_int;

/// A d_list_t link as the segment stores it (producer addresses).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ListLink {
    pub next: *mut ListLink,
    pub prev: *mut ListLink,
}

/// The header at the start of every segment (upstream's private `struct d_tm_mem_hdr`).
#[repr(C)]
pub struct MemHdr {
    /// The producer's address of this header: what stored pointers are relative to.
    pub sh_base_addr: u64,
    pub sh_key: Key,
    /// Bit 0: deleted; bit 1: multiple writers (a C bitfield in the first byte).
    pub sh_flags: u8,
    pub sh_reserved: [u8; 3],
    pub sh_bytes_total: u64,
    pub sh_bytes_free: u64,
    pub sh_free_addr: *mut c_void,
    pub sh_root: *mut Node,
    pub sh_multiple_writer_lock: libc::pthread_mutex_t,
    /// Ephemeral segments attached below this one (a list of [`RegionEntry`]).
    pub sh_subregions: ListLink,
}

const _: () = {
    assert!(size_of::<MemHdr>() == 104);
    assert!(std::mem::offset_of!(MemHdr, sh_bytes_total) == 16);
    assert!(std::mem::offset_of!(MemHdr, sh_root) == 40);
    assert!(std::mem::offset_of!(MemHdr, sh_multiple_writer_lock) == 48);
    assert!(std::mem::offset_of!(MemHdr, sh_subregions) == 88);
    assert!(size_of::<RegionEntry>() == 32);
};

/// An entry of a header's subregion list (upstream's `struct mem_region_list`).
#[repr(C)]
pub struct RegionEntry {
    pub rl_link_node: *mut Node,
    pub rl_key: Key,
    pub rl_link: ListLink,
}

const SUBREGIONS_OFF: u64 = std::mem::offset_of!(MemHdr, sh_subregions) as u64;
const RL_LINK_OFF: usize = std::mem::offset_of!(RegionEntry, rl_link);

/// A segment this context has open besides its root.
struct OpenRegion {
    region: *mut MemHdr,
    shmid: u32,
    key: Key,
}

/// A telemetry session (`struct d_tm_context`, opaque to C).
pub struct Context {
    mem_root: *mut MemHdr,
    shmid_root: c_int,
    /// Most recently opened last (upstream adds at the list head and searches from it).
    open_mem: Vec<OpenRegion>,
}

/// The producer's state (upstream's `tm_mem`).
struct TmMem {
    ctx: *mut Context,
    add_lock: libc::pthread_mutex_t,
    retain: bool,
    sync_access: bool,
    retain_non_empty: bool,
    multiple_writer_lock: bool,
    use_non_shared_mem: bool,
    id: c_int,
}

struct Global(UnsafeCell<TmMem>);
// SAFETY: as upstream's global, init/fini are not concurrent with other calls; the tree is
// guarded by `add_lock` (and the shared writer lock) while it changes.
unsafe impl Sync for Global {}

static TM: Global = Global(UnsafeCell::new(TmMem {
    ctx: null_mut(),
    add_lock: libc::PTHREAD_MUTEX_INITIALIZER,
    retain: false,
    sync_access: false,
    retain_non_empty: false,
    multiple_writer_lock: false,
    use_non_shared_mem: false,
    id: 0,
}));

fn tm() -> *mut TmMem {
    TM.0.get()
}

fn non_shared() -> bool {
    // SAFETY: a plain read of the global's flag (see `Global`).
    unsafe { (*tm()).use_non_shared_mem }
}

/// The producer's context (null before init).
pub fn producer_ctx() -> *mut Context {
    // SAFETY: a plain read of the global (see `Global`).
    unsafe { (*tm()).ctx }
}

/// A DER_* code as upstream's DF_RC prints it: `NAME(rc): 'description'`.
fn dp_rc(rc: c_int) -> String {
    let desc = crate::errno::desc(rc).map_or_else(|| format!("Unknown error code {rc}"), |d| d.to_string_lossy().into_owned());
    format!("{}({rc}): '{desc}'", crate::errno::name(rc).to_string_lossy())
}

fn errno_str() -> String {
    std::io::Error::last_os_error().to_string()
}

// ---- pointers inside segments -------------------------------------------------------------

/// Whether `ptr` lies inside the segment mapped at `root`.
///
/// # Safety
/// `root` is a mapped segment header.
#[inline]
pub unsafe fn validate_shmem_ptr(root: *mut MemHdr, p: *const c_void) -> bool {
    // SAFETY: the caller guarantees `root` is a mapped header.
    let total = unsafe { (*root).sh_bytes_total };
    let lo = root as u64;
    let hi = lo.wrapping_add(total);
    let a = p as u64;
    if a < lo || a >= hi {
        outside_segment(a, lo, hi);
        return false;
    }
    true
}

#[cold]
#[inline(never)]
fn outside_segment(a: u64, lo: u64, hi: u64) {
    tracing::trace!(target: "telem", "shmem ptr {a:#x} was outside the shmem range {lo:#x} to {hi:#x}");
}

/// A producer address stored in the segment at `root`, as this process's address (null if
/// null or outside the segment).
///
/// # Safety
/// `root` is null or a mapped segment header.
#[inline]
pub unsafe fn conv_ptr<T>(root: *mut MemHdr, p: *const T) -> *mut T {
    if p.is_null() || root.is_null() {
        return null_mut();
    }
    // SAFETY: `root` is a mapped header.
    let base = unsafe { (*root).sh_base_addr };
    let t = (root as u64).wrapping_add(p as u64).wrapping_sub(base) as *mut T;
    // SAFETY: as above.
    if unsafe { validate_shmem_ptr(root, t as *const c_void) } {
        t
    } else {
        null_mut()
    }
}

// ---- segments ---------------------------------------------------------------------------

/// shmget + shmat; the shmid, or -DER_NO_SHMEM / -DER_SHMEM_PERMS.
fn attach_shmem(key: Key, size: usize, flags: c_int) -> Result<(c_int, *mut MemHdr), c_int> {
    // SAFETY: shmget/shmat take no pointers from us but the NULL address hint.
    let shmid = unsafe { libc::shmget(key, size, flags) };
    if shmid < 0 {
        tracing::info!(target: "telem", "can't get shmid for key {key:#x}, {}", errno_str());
        return Err(-DER_NO_SHMEM);
    }
    // SAFETY: attaching a segment the kernel just named; NULL lets it choose the address.
    let addr = unsafe { libc::shmat(shmid, ptr::null(), 0) };
    if addr as isize == -1 {
        tracing::error!(target: "telem", "can't attach to shared memory, {}", errno_str());
        return Err(-DER_SHMEM_PERMS);
    }
    tracing::info!(target: "telem", "{} shmid {shmid} key {key:#x} addr {addr:p}",
        if size > 0 { "allocated" } else { "attached" });
    Ok((shmid, addr as *mut MemHdr))
}

fn open_shmem(key: Key) -> Result<(c_int, *mut MemHdr), c_int> {
    attach_shmem(key, 0, 0)
}

/// # Safety
/// `hdr` is null or an attached segment not used afterwards.
unsafe fn close_shmem(hdr: *mut MemHdr) {
    if hdr.is_null() {
        return;
    }
    // SAFETY: detaching an attachment this process made.
    if unsafe { libc::shmdt(hdr as *const c_void) } < 0 {
        tracing::info!(target: "telem", "failed to detach from shmem segment, {}", errno_str());
    }
}

fn destroy_shmem(shmid: c_int) {
    tracing::info!(target: "telem", "Destroying shared memory segment (shmid={shmid})");
    // SAFETY: IPC_RMID takes no buffer.
    if unsafe { libc::shmctl(shmid, libc::IPC_RMID, null_mut()) } < 0 {
        tracing::error!(target: "telem",
            "Unable to remove shared memory segment (shmid={shmid}). shmctl failed, {}.", errno_str());
    }
}

/// Process memory standing in for a segment (D_TM_NO_SHMEM), from the libc heap.
fn free_region(hdr: *mut MemHdr) {
    // SAFETY: non-shared regions come from gurt's allocator in `new_mem_segment` (libc heap).
    unsafe { crate::misc::mem::free_in(crate::dlog::GurtFac::Telem, hdr as *mut c_void) }
}

fn new_mem_segment(key: Key, size: usize, shared: bool) -> Result<(c_int, *mut MemHdr), c_int> {
    tracing::info!(target: "telem", "creating new {}memory segment, key={key:#x}, size={size}",
        if shared { "shared " } else { "" });
    let r = if shared {
        attach_shmem(key, size, libc::IPC_CREAT | 0o660)
    } else {
        // D_ALLOC(addr, size): tracked, subject to memory fault injection
        let p = crate::misc::mem::alloc_zeroed_in(crate::dlog::GurtFac::Telem, 1, size.max(1)) as *mut MemHdr;
        if p.is_null() {
            Err(-DER_NOMEM)
        } else {
            Ok((0, p))
        }
    };
    if let Err(rc) = r {
        tracing::error!(target: "telem", "failed to create memory segment, key={key:#x}: {rc}");
    }
    r
}

/// Creates a segment and writes its header (upstream `allocate_memory_segment`).
fn allocate_memory_segment(key: Key, size: usize, shared: bool) -> Result<(c_int, *mut MemHdr), c_int> {
    let (shmid, h) = new_mem_segment(key, size, shared)?;
    // SAFETY: `h` is a fresh mapping of `size` bytes, and callers pass size > sizeof(MemHdr)
    // (a smaller root segment is upstream's undefined case; it is rejected here instead).
    unsafe {
        if size < size_of::<MemHdr>() {
            if shared {
                close_shmem(h);
                destroy_shmem(shmid);
            } else {
                free_region(h);
            }
            return Err(-DER_NO_SHMEM);
        }
        (*h).sh_base_addr = h as u64;
        (*h).sh_key = key;
        (*h).sh_bytes_total = size as u64;
        (*h).sh_bytes_free = (size - size_of::<MemHdr>()) as u64;
        (*h).sh_free_addr = (h as *mut u8).add(size_of::<MemHdr>()) as *mut c_void;
        let head = ptr::addr_of_mut!((*h).sh_subregions);
        (*head).next = head;
        (*head).prev = head;
        if (*tm()).multiple_writer_lock {
            let rc = libc::pthread_mutex_init(ptr::addr_of_mut!((*h).sh_multiple_writer_lock), ptr::null());
            if rc != 0 {
                tracing::error!(target: "telem", "multiple writer lock failed: {rc}");
                return Err(-DER_NO_SHMEM);
            }
        }
    }
    tracing::debug!(target: "telem", "Created {}memory region for key {key:#x}, size={size}",
        if shared { "shared " } else { "" });
    Ok((shmid, h))
}

/// Bump allocation of `length` bytes (rounded up to 8) from a segment, zeroed; the producer
/// address, or null when the segment is full.
///
/// # Safety
/// `h` is null or a mapped header.
unsafe fn tm_alloc(h: *mut MemHdr, length: usize) -> *mut c_void {
    if h.is_null() || length == 0 {
        return null_mut();
    }
    let length = (length + 7) & !7;
    // SAFETY: `h` is a mapped header; the block handed out lies in its free space.
    unsafe {
        if (*h).sh_bytes_free == 0 || length as u64 > (*h).sh_bytes_free {
            tracing::error!(target: "telem", "Shared memory allocation failure!");
            return null_mut();
        }
        let new = (*h).sh_free_addr;
        (*h).sh_bytes_free -= length as u64;
        (*h).sh_free_addr = (new as *mut u8).wrapping_add(length) as *mut c_void;
        let local = conv_ptr(h, new as *const u8);
        if !local.is_null() {
            ptr::write_bytes(local, 0, length);
        }
        new
    }
}

// ---- contexts and the regions they have open ----------------------------------------------

fn alloc_ctx(h: *mut MemHdr, shmid: c_int) -> *mut Context {
    Box::into_raw(Box::new(Context { mem_root: h, shmid_root: shmid, open_mem: Vec::new() }))
}

/// # Safety
/// `ctx` is a live context.
unsafe fn track_open_region(ctx: *mut Context, h: *mut MemHdr, shmid: c_int, key: Key) {
    // SAFETY: the caller guarantees `ctx`.
    unsafe { (*ctx).open_mem.push(OpenRegion { region: h, shmid: shmid as u32, key }) }
}

/// # Safety
/// `ctx` is a live context with a root.
#[inline]
unsafe fn get_mem_region_for_key(ctx: *mut Context, key: Key) -> *mut MemHdr {
    // SAFETY: the caller guarantees `ctx`; its regions are mapped headers.
    unsafe {
        if ctx.is_null() || (*ctx).mem_root.is_null() {
            return null_mut();
        }
        let root = (*ctx).mem_root;
        if (*root).sh_key == key {
            return root;
        }
        other_region_for_key(ctx, key)
    }
}

/// The non-root part of [`get_mem_region_for_key`]: an open region, or newly attached.
///
/// # Safety
/// As [`get_mem_region_for_key`].
#[inline(never)]
unsafe fn other_region_for_key(ctx: *mut Context, key: Key) -> *mut MemHdr {
    // SAFETY: as stated.
    unsafe {
        for e in (*ctx).open_mem.iter().rev() {
            if e.region.is_null() {
                tracing::warn!(target: "telem", "malformed shmem list");
                continue;
            }
            if (*e.region).sh_key == key {
                return e.region;
            }
        }
        if non_shared() {
            tracing::error!(target: "telem", "couldn't find mem region key {key:#x} in non-shared mode");
            return null_mut();
        }
        match open_shmem(key) {
            Ok((shmid, h)) => {
                track_open_region(ctx, h, shmid, key);
                h
            }
            Err(_) => null_mut(),
        }
    }
}

/// # Safety
/// `e` was removed from a live context's list and is not used again.
unsafe fn release_region(e: OpenRegion, destroy: bool) {
    if non_shared() {
        free_region(e.region);
        return;
    }
    // SAFETY: `e.region` is an attachment this context made.
    unsafe {
        if destroy {
            (*e.region).sh_flags |= 1;
        }
        close_shmem(e.region);
    }
    if destroy {
        destroy_shmem(e.shmid as c_int);
    }
}

/// # Safety
/// `ctx` is a live context.
unsafe fn close_shmem_for_key(ctx: *mut Context, key: Key, destroy: bool) {
    // SAFETY: the caller guarantees `ctx`.
    unsafe {
        let list = &mut (*ctx).open_mem;
        if let Some(i) = list.iter().rposition(|e| e.key == key) {
            let e = list.remove(i);
            release_region(e, destroy);
        }
    }
}

/// # Safety
/// `ctx` is a live context, freed by the caller afterwards.
unsafe fn release_all(ctx: *mut Context, destroy: bool) {
    // SAFETY: the caller guarantees `ctx`.
    unsafe {
        while let Some(e) = (*ctx).open_mem.pop() {
            release_region(e, destroy);
        }
        if non_shared() {
            free_region((*ctx).mem_root);
        } else {
            close_shmem((*ctx).mem_root);
            if destroy {
                destroy_shmem((*ctx).shmid_root);
            }
        }
        (*ctx).mem_root = null_mut();
    }
}

/// # Safety
/// `*ctx` is null or a live context, not used after this.
unsafe fn release_ctx_mem(ctx: *mut *mut Context, destroy: bool) {
    // SAFETY: the caller guarantees the pointers.
    unsafe {
        if ctx.is_null() || (*ctx).is_null() {
            return;
        }
        release_all(*ctx, destroy);
        drop(Box::from_raw(*ctx));
        *ctx = null_mut();
    }
}

// ---- nodes ---------------------------------------------------------------------------------

/// # Safety
/// `n` is a node this process reaches.
unsafe fn readable(n: *mut Node) -> &'static AtomicBool {
    // SAFETY: `dtn_readable` is a C11 `_Atomic bool`: one byte with AtomicBool's layout.
    unsafe { &*(ptr::addr_of_mut!((*n).dtn_readable) as *const AtomicBool) }
}

/// # Safety
/// `n` is a node this process reaches.
unsafe fn node_lock(n: *mut Node) {
    // SAFETY: a protected node's mutex was initialised process-shared by its producer.
    unsafe {
        if (*n).dtn_protect {
            libc::pthread_mutex_lock(ptr::addr_of_mut!((*n).dtn_lock) as *mut libc::pthread_mutex_t);
        }
    }
}

/// # Safety
/// As [`node_lock`].
unsafe fn node_unlock(n: *mut Node) {
    // SAFETY: as node_lock.
    unsafe {
        if (*n).dtn_protect {
            libc::pthread_mutex_unlock(ptr::addr_of_mut!((*n).dtn_lock) as *mut libc::pthread_mutex_t);
        }
    }
}

/// # Safety
/// `n` is null or a node this process reaches.
unsafe fn is_cleared_link(ctx: *mut Context, n: *mut Node) -> bool {
    // SAFETY: as stated.
    unsafe {
        if n.is_null() || (*n).dtn_type != LINK {
            return false;
        }
        let m = d_tm_conv_ptr(ctx, n, (*n).dtn_metric as *mut c_void) as *mut Metric;
        m.is_null() || (*m).dtm_data.value == 0
    }
}

/// `d_tm_conv_ptr`.
///
/// # Safety
/// `ctx` null or live; `node` null or a node this process reaches.
pub unsafe fn d_tm_conv_ptr(ctx: *mut Context, node: *mut Node, p: *mut c_void) -> *mut c_void {
    // SAFETY: as stated.
    unsafe {
        if ctx.is_null() || (*ctx).mem_root.is_null() || node.is_null() {
            return null_mut();
        }
        let h = get_mem_region_for_key(ctx, (*node).dtn_shmem_key);
        if h.is_null() {
            return null_mut();
        }
        conv_ptr(h, p)
    }
}

/// `d_tm_get_root`.
///
/// # Safety
/// `ctx` null or live.
pub unsafe fn get_root(ctx: *mut Context) -> *mut Node {
    // SAFETY: as stated.
    unsafe {
        if ctx.is_null() || (*ctx).mem_root.is_null() {
            return null_mut();
        }
        conv_ptr((*ctx).mem_root, (*(*ctx).mem_root).sh_root)
    }
}

/// `d_tm_follow_link`.
///
/// # Safety
/// `ctx` null or live; `link` null or a node this process reaches.
pub unsafe fn follow_link(ctx: *mut Context, link: *mut Node) -> *mut Node {
    // SAFETY: as stated.
    unsafe {
        if ctx.is_null() || link.is_null() {
            return null_mut();
        }
        if (*link).dtn_type != LINK {
            return link;
        }
        if is_cleared_link(ctx, link) {
            return null_mut();
        }
        let m = d_tm_conv_ptr(ctx, link, (*link).dtn_metric as *mut c_void) as *mut Metric;
        let key = (*m).dtm_data.value as Key;
        let mut h = get_mem_region_for_key(ctx, key);
        if h.is_null() {
            tracing::error!(target: "telem", "couldn't follow link to shmem key {key:#x}");
            return null_mut();
        }
        if (*h).sh_flags & 1 != 0 {
            // deleted: drop it and look again, a new segment may have the key by now
            close_shmem_for_key(ctx, key, false);
            h = get_mem_region_for_key(ctx, key);
            if h.is_null() {
                tracing::debug!(target: "telem", "couldn't reopen shmem key {key:#x}");
                return null_mut();
            }
        }
        conv_ptr(h, (*h).sh_root)
    }
}

/// # Safety
/// `p` null or a NUL-terminated string inside a mapped segment.
unsafe fn cstr_bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: as stated.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// `strncmp(a, b, D_TM_MAX_NAME_LEN) == 0` for a segment string and a token.
fn name_eq(a: &[u8], b: &[u8]) -> bool {
    let a = &a[..a.len().min(MAX_NAME_LEN)];
    let b = &b[..b.len().min(MAX_NAME_LEN)];
    a == b
}

/// # Safety
/// `ctx` live; `parent` null or a node this process reaches.
unsafe fn find_child(ctx: *mut Context, parent: *mut Node, name: &[u8]) -> *mut Node {
    // SAFETY: as stated; every pointer read from the segment goes through conv_ptr.
    unsafe {
        let mut parent = parent;
        if parent.is_null() {
            return null_mut();
        }
        if (*parent).dtn_type == LINK {
            parent = follow_link(ctx, parent);
            if parent.is_null() {
                return null_mut();
            }
        }
        let h = get_mem_region_for_key(ctx, (*parent).dtn_shmem_key);
        if h.is_null() || (*parent).dtn_child.is_null() {
            return null_mut();
        }
        let mut child = conv_ptr(h, (*parent).dtn_child);
        while !child.is_null() {
            // cleared links have no name; their siblings still count
            if let Some(n) = cstr_bytes(conv_ptr(h, (*child).dtn_name)) {
                if name_eq(n, name) {
                    return child;
                }
            }
            child = conv_ptr(h, (*child).dtn_sibling);
        }
        null_mut()
    }
}

/// Writes a fresh name into `node` (local address) and makes it a directory.
///
/// # Safety
/// `h` mapped; `node` a node inside it.
unsafe fn init_node(h: *mut MemHdr, node: *mut Node, name: &[u8]) -> c_int {
    let len = name.len().min(MAX_NAME_LEN);
    if len >= MAX_NAME_LEN {
        tracing::error!(target: "telem", "name too long, max = {MAX_NAME_LEN}");
        return -DER_EXCEEDS_PATH_LEN;
    }
    // SAFETY: the name block is len + 1 bytes allocated in `h`.
    unsafe {
        let p = tm_alloc(h, len + 1) as *mut c_char;
        (*node).dtn_name = p;
        if p.is_null() {
            tracing::error!(target: "telem", "cannot allocate node name [{}]", String::from_utf8_lossy(name));
            return -DER_NO_SHMEM;
        }
        let local = conv_ptr(h, p) as *mut u8;
        ptr::copy_nonoverlapping(name.as_ptr(), local, len);
        *local.add(len) = 0;
        (*node).dtn_shmem_key = (*h).sh_key;
        (*node).dtn_child = null_mut();
        (*node).dtn_type = DIRECTORY;
    }
    0
}

/// A new node (producer address) named `name`.
///
/// # Safety
/// `h` null or mapped.
unsafe fn alloc_node(h: *mut MemHdr, name: &[u8]) -> Result<*mut Node, c_int> {
    if h.is_null() {
        return Err(-DER_INVAL);
    }
    // SAFETY: the node block is allocated in `h`; `tmp` is its local address.
    unsafe {
        let node = tm_alloc(h, size_of::<Node>()) as *mut Node;
        if node.is_null() {
            tracing::error!(target: "telem", "failed to alloc node for {}", String::from_utf8_lossy(name));
            return Err(-DER_NO_SHMEM);
        }
        let tmp = conv_ptr(h, node);
        let rc = init_node(h, tmp, name);
        if rc != 0 {
            return Err(rc);
        }
        (*tmp).dtn_metric = null_mut();
        (*tmp).dtn_sibling = null_mut();
        readable(tmp).store(false, Ordering::Relaxed);
        Ok(node)
    }
}

/// Adds `name` under `parent` (reusing a cleared link among its children); the local address.
///
/// # Safety
/// `parent` a node of the producer's tree.
unsafe fn add_child(parent: *mut Node, name: &[u8]) -> Result<*mut Node, c_int> {
    let ctx = producer_ctx();
    // SAFETY: as stated; pointers read from the segment go through conv_ptr.
    unsafe {
        let mut parent = parent;
        if (*parent).dtn_type == LINK {
            parent = follow_link(ctx, parent);
            if parent.is_null() {
                return Err(-DER_INVAL);
            }
        }
        let h = get_mem_region_for_key(ctx, (*parent).dtn_shmem_key);
        if h.is_null() {
            tracing::error!(target: "telem", "can't get parent node shmem region, key={:#x}", (*parent).dtn_shmem_key);
            return Err(-DER_NO_SHMEM);
        }
        let mut child = conv_ptr(h, (*parent).dtn_child);
        let mut sibling: *mut Node = null_mut();
        while !child.is_null() && !is_cleared_link(ctx, child) {
            sibling = child;
            child = conv_ptr(h, (*child).dtn_sibling);
        }
        if is_cleared_link(ctx, child) {
            let rc = init_node(h, child, name);
            if rc != 0 {
                return Err(rc);
            }
            return Ok(child);
        }
        let node = alloc_node(h, name)?;
        if (*parent).dtn_child.is_null() {
            (*parent).dtn_child = node;
        } else {
            (*sibling).dtn_sibling = node;
        }
        Ok(conv_ptr(h, node))
    }
}

fn create_mem_segment(root_name: &[u8], key: Key, size: usize) -> Result<(c_int, *mut MemHdr), c_int> {
    let shared = !non_shared();
    let (shmid, h) = allocate_memory_segment(key, size, shared)?;
    // SAFETY: `h` is the fresh segment.
    match unsafe { alloc_node(h, root_name) } {
        Ok(root) => {
            // SAFETY: as above.
            unsafe { (*h).sh_root = root };
            Ok((shmid, h))
        }
        Err(rc) => {
            if shared {
                destroy_shmem(shmid);
                // SAFETY: our attachment, not used again.
                unsafe { close_shmem(h) };
            } else {
                free_region(h);
            }
            Err(rc)
        }
    }
}

/// `destroy_shmem_with_key`: marks the segment deleted, destroys its subregions recursively,
/// then itself. 0 when it does not exist.
pub fn destroy_shmem_with_key(key: Key) -> c_int {
    let (shmid, h) = match open_shmem(key) {
        Ok(v) => v,
        Err(rc) if rc == -DER_NO_SHMEM => return 0,
        Err(rc) => {
            tracing::error!(target: "telem",
                "Unable to open shmem region {key:#x} for cleanup. An admin must clean up manually using ipcrm.");
            return rc;
        }
    };
    // SAFETY: `h` is our attachment; list entries are read through conv_ptr.
    unsafe {
        (*h).sh_flags |= 1;
        let head = ptr::addr_of_mut!((*h).sh_subregions);
        let mut cur = conv_ptr(h, (*head).next);
        while !cur.is_null() && cur != head {
            let e = (cur as *mut u8).sub(RL_LINK_OFF) as *mut RegionEntry;
            let k = (*e).rl_key;
            let rc = destroy_shmem_with_key(k);
            if rc != 0 {
                tracing::error!(target: "telem", "Unable to destroy shmem region {k:#x}: {rc}");
            }
            cur = conv_ptr(h, (*cur).next);
        }
        tracing::info!(target: "telem", "destroying shmem with key: {key:#x}");
        destroy_shmem(shmid);
        close_shmem(h);
    }
    0
}

fn is_initialized() -> bool {
    let c = producer_ctx();
    // SAFETY: the producer's context is live while set.
    !c.is_null() && unsafe { !(*c).mem_root.is_null() }
}

/// `d_tm_init_with_name`.
pub fn init_with_name(id: c_int, mem_size: u64, flags: c_int, root_name: Option<&[u8]>) -> c_int {
    if is_initialized() {
        return -DER_ALREADY;
    }
    let root_name = match root_name {
        Some(n) if !n.is_empty() => n,
        _ => {
            tracing::error!(target: "telem", "root name cannot be empty");
            return -DER_INVAL;
        }
    };
    if root_name.len() >= MAX_NAME_LEN {
        tracing::error!(target: "telem", "root name too long (max={MAX_NAME_LEN})");
        return -DER_EXCEEDS_PATH_LEN;
    }
    // SAFETY: init runs alone (see `Global`).
    let t = unsafe { &mut *tm() };
    t.ctx = null_mut();
    t.retain = false;
    t.sync_access = false;
    t.retain_non_empty = false;
    t.multiple_writer_lock = false;
    t.use_non_shared_mem = false;
    t.id = 0;

    let rc = (|| {
        if flags & !ALL_FLAGS != 0 {
            tracing::error!(target: "telem", "Invalid flags {flags:#x}");
            return -DER_INVAL;
        }
        if flags & NO_SHMEM != 0 {
            if flags & (RETAIN_SHMEM | RETAIN_SHMEM_IF_NON_EMPTY) != 0 {
                tracing::error!(target: "telem", "Cannot set no_shmem with retain_shmem flags");
                return -DER_INVAL;
            }
            t.use_non_shared_mem = true;
        }
        t.sync_access = flags & SERIALIZATION != 0;
        t.retain = flags & RETAIN_SHMEM != 0;
        t.retain_non_empty = flags & RETAIN_SHMEM_IF_NON_EMPTY != 0;
        t.multiple_writer_lock = flags & MULTIPLE_WRITER_LOCK != 0;
        t.id = id;
        let key = srv_key(id);
        let mut hdr: *mut MemHdr = null_mut();
        let mut shmid = 0;
        if t.use_non_shared_mem {
            match create_mem_segment(root_name, key, mem_size as usize) {
                Ok((s, h)) => (shmid, hdr) = (s, h),
                Err(rc) => return rc,
            }
        } else {
            if flags & OPEN_OR_CREATE != 0 {
                if let Ok((s, h)) = open_shmem(key) {
                    if s > 0 {
                        (shmid, hdr) = (s, h);
                    } else {
                        // SAFETY: our attachment; upstream keeps only a positive shmid.
                        unsafe { close_shmem(h) };
                    }
                }
            }
            if hdr.is_null() {
                let rc = destroy_shmem_with_key(key);
                if rc != 0 {
                    return rc;
                }
                match create_mem_segment(root_name, key, mem_size as usize) {
                    Ok((s, h)) => (shmid, hdr) = (s, h),
                    Err(rc) => return rc,
                }
            }
        }
        t.ctx = alloc_ctx(hdr, shmid);
        // SAFETY: nobody holds add_lock between init and fini.
        let rc = unsafe { libc::pthread_mutex_init(&mut t.add_lock, ptr::null()) };
        if rc != 0 {
            return rc;
        }
        tracing::info!(target: "telem", "Telemetry and metrics initialized for ID {id}");
        0
    })();
    if rc != 0 {
        tracing::error!(target: "telem", "Failed to initialize telemetry and metrics for ID {id}: {}", dp_rc(rc));
        // SAFETY: the context, if any, is ours and unused.
        unsafe { release_ctx_mem(&mut t.ctx, false) };
    }
    rc
}

/// Whether `node` has no live child (a child that is not a cleared link and has a name).
///
/// Upstream's loop dereferences a null sibling when the first child is live (a crash); this
/// answers what it evidently means, and treats a missing node as empty.
///
/// # Safety
/// `node` null or a node of the producer's tree.
unsafe fn is_node_empty(node: *mut Node) -> bool {
    let ctx = producer_ctx();
    // SAFETY: as stated; children are read through conv_ptr.
    unsafe {
        if node.is_null() {
            return true;
        }
        let h = get_mem_region_for_key(ctx, (*node).dtn_shmem_key);
        let mut child = conv_ptr(h, (*node).dtn_child);
        while !child.is_null() {
            if !is_cleared_link(ctx, child) && !(*child).dtn_name.is_null() {
                return false;
            }
            child = conv_ptr(h, (*child).dtn_sibling);
        }
        true
    }
}

/// `d_tm_fini`.
pub fn fini() {
    // SAFETY: fini runs alone (see `Global`).
    let t = unsafe { &mut *tm() };
    if !t.ctx.is_null() {
        let mut destroy = !t.retain;
        // SAFETY: the producer's context is live.
        if t.retain_non_empty && unsafe { !is_node_empty(get_root(t.ctx)) } {
            destroy = false;
        }
        // SAFETY: as above; not used afterwards.
        unsafe { release_ctx_mem(&mut t.ctx, destroy) };
    }
    t.ctx = null_mut();
    t.retain = false;
    t.sync_access = false;
    t.retain_non_empty = false;
    t.multiple_writer_lock = false;
    t.use_non_shared_mem = false;
    t.id = 0;
}

fn lock_shmem() -> c_int {
    // SAFETY: the producer's context is live when this is called (callers check init).
    unsafe {
        let t = tm();
        let ctx = (*t).ctx;
        if (*t).multiple_writer_lock {
            let rc = libc::pthread_mutex_lock(ptr::addr_of_mut!((*(*ctx).mem_root).sh_multiple_writer_lock));
            if rc != 0 {
                tracing::error!(target: "telem", "failed to take multiple writer lock: {rc}");
                return rc;
            }
        }
        let rc = libc::pthread_mutex_lock(ptr::addr_of_mut!((*t).add_lock));
        if rc != 0 {
            tracing::error!(target: "telem", "failed to take shared memory lock: {rc}");
            if (*t).multiple_writer_lock {
                libc::pthread_mutex_unlock(ptr::addr_of_mut!((*(*ctx).mem_root).sh_multiple_writer_lock));
            }
            return rc;
        }
    }
    0
}

fn unlock_shmem() -> c_int {
    // SAFETY: pairs with lock_shmem.
    unsafe {
        let t = tm();
        let rc = libc::pthread_mutex_unlock(ptr::addr_of_mut!((*t).add_lock));
        if rc != 0 {
            return rc;
        }
        if (*t).multiple_writer_lock && !(*t).ctx.is_null() {
            let rc = libc::pthread_mutex_unlock(ptr::addr_of_mut!((*(*(*t).ctx).mem_root).sh_multiple_writer_lock));
            if rc != 0 {
                return rc;
            }
        }
    }
    0
}

// ---- reading -------------------------------------------------------------------------------

/// # Safety
/// `ctx` live; `node` a node this process reaches.
#[inline]
unsafe fn validate_node_ptr(ctx: *mut Context, node: *mut Node) -> Result<*mut MemHdr, c_int> {
    // SAFETY: as stated.
    unsafe {
        let h = get_mem_region_for_key(ctx, (*node).dtn_shmem_key);
        if h.is_null() {
            tracing::error!(target: "telem", "node shmem key {} not valid", (*node).dtn_shmem_key);
            return Err(-DER_INVAL);
        }
        if !validate_shmem_ptr(h, node as *const c_void) {
            return Err(-DER_METRIC_NOT_FOUND);
        }
        Ok(h)
    }
}

fn has_stats_type(t: c_int) -> bool {
    t & DURATION != 0 || t == STATS_GAUGE
}

fn is_gauge_type(t: c_int) -> bool {
    t == GAUGE || t == STATS_GAUGE
}

/// # Safety
/// `s` a stats block this process reaches.
unsafe fn read_stats(s: *const StatsT) -> Stats {
    // SAFETY: as stated.
    unsafe {
        let mut out = Stats {
            min: (*s).dtm_min,
            max: (*s).dtm_max,
            sum: (*s).dtm_sum,
            sum_of_squares: (*s).sum_of_squares,
            sample_size: (*s).sample_size,
            ..Default::default()
        };
        if out.sample_size > 0 {
            out.mean = out.sum as f64 / out.sample_size as f64;
        }
        out.std_dev = standard_dev(out.sum_of_squares, out.sample_size, out.mean);
        out
    }
}

pub fn stats_to_c(s: &Stats, out: &mut StatsT) {
    out.dtm_min = s.min;
    out.dtm_max = s.max;
    out.dtm_sum = s.sum;
    out.mean = s.mean;
    out.std_dev = s.std_dev;
    out.sum_of_squares = s.sum_of_squares;
    out.sample_size = s.sample_size;
}

pub fn stats_from_c(s: &StatsT) -> Stats {
    Stats {
        min: s.dtm_min,
        max: s.dtm_max,
        sum: s.dtm_sum,
        std_dev: s.std_dev,
        mean: s.mean,
        sum_of_squares: s.sum_of_squares,
        sample_size: s.sample_size,
    }
}

/// `d_tm_get_counter` (ctx null: the producer's fast read).
///
/// # Safety
/// `ctx` null or live; `node` non-null, a node this process reaches.
pub unsafe fn get_counter(ctx: *mut Context, node: *mut Node) -> Result<u64, c_int> {
    // SAFETY: as stated.
    unsafe {
        if (*node).dtn_metric.is_null() {
            return Err(-DER_INVAL);
        }
        if (*node).dtn_type != COUNTER {
            return Err(-DER_OP_NOT_PERMITTED);
        }
        if !readable(node).load(Ordering::Relaxed) {
            return Err(-DER_AGAIN);
        }
        let m = if ctx.is_null() {
            (*node).dtn_metric
        } else {
            let h = validate_node_ptr(ctx, node)?;
            let m = conv_ptr(h, (*node).dtn_metric);
            if m.is_null() {
                return Err(-DER_METRIC_NOT_FOUND);
            }
            m
        };
        node_lock(node);
        let v = (*m).dtm_data.value;
        node_unlock(node);
        Ok(v)
    }
}

/// The metric of a node after the common consumer checks (type test `ok`).
///
/// # Safety
/// `ctx` live; `node` a node this process reaches.
unsafe fn reader_metric(ctx: *mut Context, node: *mut Node, ok: impl Fn(c_int) -> bool) -> Result<(*mut MemHdr, *mut Metric), c_int> {
    // SAFETY: as stated.
    unsafe {
        let h = validate_node_ptr(ctx, node)?;
        if !ok((*node).dtn_type) {
            return Err(-DER_OP_NOT_PERMITTED);
        }
        if !readable(node).load(Ordering::Relaxed) {
            return Err(-DER_AGAIN);
        }
        let m = conv_ptr(h, (*node).dtn_metric);
        if m.is_null() {
            return Err(-DER_METRIC_NOT_FOUND);
        }
        Ok((h, m))
    }
}

/// `d_tm_get_timestamp`.
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_timestamp(ctx: *mut Context, node: *mut Node) -> Result<i64, c_int> {
    // SAFETY: as stated.
    unsafe {
        let (_, m) = reader_metric(ctx, node, |t| t == TIMESTAMP)?;
        node_lock(node);
        let v = (*m).dtm_data.value as i64;
        node_unlock(node);
        Ok(v)
    }
}

/// The meminfo of a node.
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_meminfo(ctx: *mut Context, node: *mut Node) -> Result<[u64; 4], c_int> {
    // SAFETY: as stated.
    unsafe {
        let (_, m) = reader_metric(ctx, node, |t| t == MEMINFO)?;
        node_lock(node);
        let mi = (*m).dtm_data.meminfo;
        node_unlock(node);
        Ok([mi.arena, mi.ordblks, mi.uordblks, mi.fordblks])
    }
}

/// `d_tm_get_timer_snapshot`.
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_timer_snapshot(ctx: *mut Context, node: *mut Node) -> Result<libc::timespec, c_int> {
    // SAFETY: as stated.
    unsafe {
        let (_, m) = reader_metric(ctx, node, |t| t & TIMER_SNAPSHOT != 0)?;
        node_lock(node);
        let t = (*m).dtm_data.tms[0];
        node_unlock(node);
        Ok(libc::timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec })
    }
}

/// `d_tm_get_duration`; the stats when the metric keeps them.
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_duration(ctx: *mut Context, node: *mut Node) -> Result<(libc::timespec, Option<Stats>), c_int> {
    // SAFETY: as stated.
    unsafe {
        let (h, m) = reader_metric(ctx, node, |t| t & DURATION != 0)?;
        let s = conv_ptr(h, (*m).dtm_stats);
        node_lock(node);
        let t = (*m).dtm_data.tms[0];
        let st = (!s.is_null()).then(|| read_stats(s));
        node_unlock(node);
        Ok((libc::timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec }, st))
    }
}

/// `d_tm_get_gauge`; the stats when the gauge keeps them.
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_gauge(ctx: *mut Context, node: *mut Node) -> Result<(u64, Option<Stats>), c_int> {
    // SAFETY: as stated.
    unsafe {
        let (h, m) = reader_metric(ctx, node, is_gauge_type)?;
        let s = conv_ptr(h, (*m).dtm_stats);
        node_lock(node);
        let v = (*m).dtm_data.value;
        let st = (has_stats_type((*node).dtn_type) && !s.is_null()).then(|| read_stats(s));
        node_unlock(node);
        Ok((v, st))
    }
}

/// `d_tm_get_metadata`: copies of the description and units (libc heap).
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_metadata(ctx: *mut Context, node: *mut Node, want_desc: bool, want_units: bool) -> Result<(*mut c_char, *mut c_char), c_int> {
    // SAFETY: as stated; strings are read through conv_ptr, bounded by their limits.
    unsafe {
        let (h, m) = reader_metric(ctx, node, |t| t != DIRECTORY)?;
        node_lock(node);
        let d = conv_ptr(h, (*m).dtm_desc);
        let u = conv_ptr(h, (*m).dtm_units);
        // D_STRNDUP each (a failed copy leaves NULL, as upstream)
        let desc = if want_desc && !d.is_null() { crate::misc::mem::strndup_in(crate::dlog::GurtFac::Telem, d, MAX_DESC_LEN) } else { null_mut() };
        let units = if want_units && !u.is_null() { crate::misc::mem::strndup_in(crate::dlog::GurtFac::Telem, u, MAX_UNIT_LEN) } else { null_mut() };
        node_unlock(node);
        Ok((desc, units))
    }
}

/// `d_tm_get_num_buckets`: (num_buckets, initial_width, multiplier).
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_num_buckets(ctx: *mut Context, node: *mut Node) -> Result<(c_int, c_int, c_int), c_int> {
    // SAFETY: as stated.
    unsafe {
        if !readable(node).load(Ordering::Relaxed) {
            return Err(-DER_AGAIN);
        }
        let h = validate_node_ptr(ctx, node)?;
        if !has_stats_type((*node).dtn_type) {
            return Err(-DER_OP_NOT_PERMITTED);
        }
        let m = conv_ptr(h, (*node).dtn_metric);
        if m.is_null() {
            return Err(-DER_METRIC_NOT_FOUND);
        }
        let hg = conv_ptr(h, (*m).dtm_histogram);
        if hg.is_null() {
            return Err(-DER_METRIC_NOT_FOUND);
        }
        Ok(((*hg).dth_num_buckets, (*hg).dth_initial_width, (*hg).dth_value_multiplier))
    }
}

/// `d_tm_get_bucket_range`: (min, max, counter node in this process's space).
///
/// # Safety
/// As [`reader_metric`].
pub unsafe fn get_bucket_range(ctx: *mut Context, node: *mut Node, id: c_int) -> Result<(u64, u64, *mut Node), c_int> {
    // SAFETY: as stated; the bucket array lies in the segment.
    unsafe {
        if id < 0 {
            return Err(-DER_INVAL);
        }
        let h = validate_node_ptr(ctx, node)?;
        if !readable(node).load(Ordering::Relaxed) {
            return Err(-DER_AGAIN);
        }
        if !has_stats_type((*node).dtn_type) {
            return Err(-DER_OP_NOT_PERMITTED);
        }
        let m = conv_ptr(h, (*node).dtn_metric);
        if m.is_null() {
            return Err(-DER_METRIC_NOT_FOUND);
        }
        let hg = conv_ptr(h, (*m).dtm_histogram);
        if hg.is_null() {
            return Err(-DER_METRIC_NOT_FOUND);
        }
        if id >= (*hg).dth_num_buckets {
            return Err(-DER_INVAL);
        }
        let b = conv_ptr(h, (*hg).dth_buckets);
        if b.is_null() {
            return Err(-DER_METRIC_NOT_FOUND);
        }
        let e = b.add(id as usize);
        Ok(((*e).dtb_min, (*e).dtb_max, conv_ptr(h, (*e).dtb_bucket)))
    }
}

// ---- writing (producer) --------------------------------------------------------------------

/// `d_tm_compute_stats` (producer pointers).
///
/// # Safety
/// `node` a metric node of the producer's tree with its metric allocated.
pub unsafe fn compute_stats(node: *mut Node, value: u64) {
    // SAFETY: as stated.
    unsafe {
        let s = (*(*node).dtn_metric).dtm_stats;
        if s.is_null() {
            return;
        }
        (*s).sample_size = (*s).sample_size.wrapping_add(1);
        (*s).dtm_sum = (*s).dtm_sum.wrapping_add(value);
        // upstream squares in 64-bit integer arithmetic, then converts
        (*s).sum_of_squares += value.wrapping_mul(value) as f64;
        if value > (*s).dtm_max {
            (*s).dtm_max = value;
        }
        if (*s).sample_size == 1 || value < (*s).dtm_min {
            (*s).dtm_min = value;
        }
    }
}

/// `d_tm_compute_histogram` (producer pointers).
///
/// # Safety
/// `node` null or a node of the producer's tree.
pub unsafe fn compute_histogram(node: *mut Node, value: u64) {
    // SAFETY: as stated; the bucket array has dth_num_buckets entries.
    unsafe {
        if node.is_null() || (*node).dtn_metric.is_null() || (*(*node).dtn_metric).dtm_histogram.is_null() {
            return;
        }
        let hg = (*(*node).dtn_metric).dtm_histogram;
        let n = (*hg).dth_num_buckets as usize;
        let b = (*hg).dth_buckets;
        let bucket = if value <= (*b).dtb_max {
            (*b).dtb_bucket
        } else if value >= (*b.add(n - 1)).dtb_min {
            (*b.add(n - 1)).dtb_bucket
        } else if (*hg).dth_fast_bucketing {
            (*b.add(fast_bucket((*hg).dth_initial_width, value))).dtb_bucket
        } else {
            (0..n).map(|i| b.add(i)).find(|&e| value <= (*e).dtb_max).map_or(null_mut(), |e| (*e).dtb_bucket)
        };
        if bucket.is_null() {
            tracing::error!(target: "telem", "Unable to find bucket for value {value}");
            return;
        }
        inc_counter(bucket, 1);
    }
}

#[cold]
#[inline(never)]
fn gauge_mismatch(node: *mut Node, op: u8) {
    type_mismatch(node, ["set gauge", "increment gauge", "decrement gauge"][op as usize]);
}

#[cold]
#[inline(never)]
fn type_mismatch(node: *mut Node, what: &str) {
    // SAFETY: the name pointer is only printed as an address, as upstream's %s of a producer
    // pointer would be meaningless to reproduce.
    let name = unsafe { (*node).dtn_name };
    tracing::error!(target: "telem", "Failed to {what} [{name:p}] on item of another type. Operation mismatch: {}", -DER_OP_NOT_PERMITTED);
}

/// `d_tm_set_counter`.
///
/// # Safety
/// `node` null or a node of the producer's tree.
pub unsafe fn set_counter(node: *mut Node, value: u64) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        if (*node).dtn_type != COUNTER {
            type_mismatch(node, "set counter");
            return;
        }
        node_lock(node);
        (*(*node).dtn_metric).dtm_data.value = value;
        node_unlock(node);
    }
}

/// `d_tm_inc_counter`.
///
/// # Safety
/// `node` null or a node of the producer's tree.
#[inline(always)]
pub unsafe fn inc_counter(node: *mut Node, value: u64) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        if (*node).dtn_type != COUNTER {
            type_mismatch(node, "set counter");
            return;
        }
        if (*node).dtn_protect {
            inc_counter_locked(node, value);
            return;
        }
        let v = &mut (*(*node).dtn_metric).dtm_data.value;
        *v = v.wrapping_add(value);
    }
}

/// The serialized part of [`inc_counter`], out of line so the common path needs no frame.
///
/// # Safety
/// As [`inc_counter`], `node` non-null and a counter.
#[cold]
#[inline(never)]
unsafe fn inc_counter_locked(node: *mut Node, value: u64) {
    // SAFETY: as stated.
    unsafe {
        node_lock(node);
        let v = &mut (*(*node).dtn_metric).dtm_data.value;
        *v = v.wrapping_add(value);
        node_unlock(node);
    }
}

/// `d_tm_record_timestamp`.
///
/// # Safety
/// `node` null or a node of the producer's tree.
pub unsafe fn record_timestamp(node: *mut Node) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        if (*node).dtn_type != TIMESTAMP {
            type_mismatch(node, "record timestamp");
            return;
        }
        node_lock(node);
        (*(*node).dtn_metric).dtm_data.value = libc::time(null_mut()) as u64;
        node_unlock(node);
    }
}

/// `d_tm_record_meminfo`.
///
/// # Safety
/// `node` null or a node of the producer's tree.
pub unsafe fn record_meminfo(node: *mut Node) {
    // SAFETY: as stated; mallinfo2 takes nothing.
    unsafe {
        let mi = libc::mallinfo2();
        if node.is_null() {
            return;
        }
        if (*node).dtn_type != MEMINFO {
            type_mismatch(node, "record meminfo");
            return;
        }
        node_lock(node);
        let m = &mut (*(*node).dtn_metric).dtm_data.meminfo;
        m.arena = mi.arena as u64;
        m.ordblks = mi.ordblks as u64;
        m.uordblks = mi.uordblks as u64;
        m.fordblks = mi.fordblks as u64;
        node_unlock(node);
    }
}

/// # Safety
/// `tms` points to a `struct timespec` inside the node's metric.
unsafe fn gettime(clk: c_int, tms: *mut sys::timespec) {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is ours; `tms` as stated.
    unsafe {
        libc::clock_gettime(clock_id(clk), &mut t);
        (*tms).tv_sec = t.tv_sec;
        (*tms).tv_nsec = t.tv_nsec;
    }
}

/// `d_tm_take_timer_snapshot` (the clock is the one the node was created with).
///
/// # Safety
/// `node` null or a node of the producer's tree.
pub unsafe fn take_timer_snapshot(node: *mut Node) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        if (*node).dtn_type & TIMER_SNAPSHOT == 0 {
            type_mismatch(node, "record high resolution timer");
            return;
        }
        node_lock(node);
        gettime((*node).dtn_type & !TIMER_SNAPSHOT, &mut (*(*node).dtn_metric).dtm_data.tms[0]);
        node_unlock(node);
    }
}

/// `d_tm_mark_duration_start`: the node takes clock `clk` from now on.
///
/// # Safety
/// `node` null or a node of the producer's tree.
pub unsafe fn mark_duration_start(node: *mut Node, clk: c_int) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        if (*node).dtn_type & DURATION == 0 {
            type_mismatch(node, "mark duration start");
            return;
        }
        (*node).dtn_type = DURATION | clk;
        node_lock(node);
        gettime((*node).dtn_type & !DURATION, &mut (*(*node).dtn_metric).dtm_data.tms[1]);
        node_unlock(node);
    }
}

/// `d_tm_mark_duration_end`.
///
/// # Safety
/// `node` null or a node of the producer's tree.
pub unsafe fn mark_duration_end(node: *mut Node) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        if (*node).dtn_type & DURATION == 0 {
            type_mismatch(node, "mark duration end");
            return;
        }
        node_lock(node);
        let m = (*node).dtn_metric;
        let mut end = sys::timespec { tv_sec: 0, tv_nsec: 0 };
        gettime((*node).dtn_type & !DURATION, &mut end);
        let start = (*m).dtm_data.tms[1];
        let (s, ns) = timediff((start.tv_sec, start.tv_nsec), (end.tv_sec, end.tv_nsec));
        (*m).dtm_data.tms[0] = sys::timespec { tv_sec: s, tv_nsec: ns };
        let us = timespec_us(s, ns);
        compute_stats(node, us);
        compute_histogram(node, us);
        node_unlock(node);
    }
}

/// Gauge updates: 0 set, 1 increment, 2 decrement.
///
/// # Safety
/// `node` null or a node of the producer's tree.
#[inline(always)]
pub unsafe fn gauge_op(node: *mut Node, value: u64, op: u8) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        let t = (*node).dtn_type;
        // The common case first, with no branch taken: a plain, unlocked gauge.
        if t == GAUGE && !(*node).dtn_protect {
            let v = &mut (*(*node).dtn_metric).dtm_data.value;
            *v = match op {
                0 => value,
                1 => v.wrapping_add(value),
                _ => v.wrapping_sub(value),
            };
            return;
        }
        if !is_gauge_type(t) {
            gauge_mismatch(node, op);
            return;
        }
        // locked, or a stats gauge (statistics and histogram under the node's lock)
        gauge_op_full(node, value, op);
    }
}

/// [`gauge_op`] for gauges that are locked or keep statistics.
///
/// # Safety
/// As [`gauge_op`], `node` non-null and a gauge.
#[cold]
#[inline(never)]
unsafe fn gauge_op_full(node: *mut Node, value: u64, op: u8) {
    // SAFETY: as stated.
    unsafe {
        node_lock(node);
        let v = &mut (*(*node).dtn_metric).dtm_data.value;
        *v = match op {
            0 => value,
            1 => v.wrapping_add(value),
            _ => v.wrapping_sub(value),
        };
        let now = *v;
        if has_stats_type((*node).dtn_type) {
            compute_stats(node, now);
            compute_histogram(node, value);
        }
        node_unlock(node);
    }
}

// ---- the tree: paths, metrics, links -------------------------------------------------------

/// The node at `path` under the root (links are not followed at the end).
///
/// # Safety
/// `ctx` null or live.
unsafe fn get_node(ctx: *mut Context, path: &[u8]) -> *mut Node {
    if ctx.is_null() {
        return null_mut();
    }
    // upstream copies the path into a D_TM_MAX_NAME_LEN buffer first
    let path = &path[..path.len().min(MAX_NAME_LEN - 1)];
    // SAFETY: as stated.
    unsafe {
        let mut parent = get_root(ctx);
        let mut node = null_mut();
        for tok in path_tokens(path) {
            node = find_child(ctx, parent, tok);
            if node.is_null() {
                return null_mut();
            }
            parent = node;
        }
        node
    }
}

/// `d_tm_find_metric`.
///
/// # Safety
/// `ctx` null or live.
pub unsafe fn find_metric(ctx: *mut Context, path: &[u8]) -> *mut Node {
    // SAFETY: as stated.
    unsafe {
        let n = get_node(ctx, path);
        if !n.is_null() && (*n).dtn_type == LINK {
            return follow_link(ctx, n);
        }
        n
    }
}

/// Creates the nodes of `path` as needed and makes the last one a metric of `metric_type`
/// (upstream's static `add_metric`). Caller holds the producer lock.
///
/// # Safety
/// The producer is initialised.
unsafe fn add_metric(metric_type: c_int, desc: Option<&[u8]>, units: Option<&[u8]>, path: &[u8]) -> Result<*mut Node, c_int> {
    let ctx = producer_ctx();
    // SAFETY: as stated; every segment block is allocated in the node's own segment.
    unsafe {
        let mut parent = get_root(ctx);
        let mut temp: *mut Node = null_mut();
        for tok in path_tokens(path) {
            temp = find_child(ctx, parent, tok);
            if temp.is_null() {
                temp = add_child(parent, tok)?;
            }
            parent = temp;
        }
        if temp.is_null() {
            return Err(-DER_ADD_METRIC_FAILED);
        }
        let h = get_mem_region_for_key(ctx, (*temp).dtn_shmem_key);
        if h.is_null() {
            return Err(-DER_NO_SHMEM);
        }
        (*temp).dtn_type = metric_type;
        if (*temp).dtn_metric.is_null() {
            (*temp).dtn_metric = tm_alloc(h, size_of::<Metric>()) as *mut Metric;
            if (*temp).dtn_metric.is_null() {
                return Err(-DER_NO_SHMEM);
            }
        }
        let m = conv_ptr(h, (*temp).dtn_metric);
        (*m).dtm_stats = null_mut();
        if has_stats_type(metric_type) {
            (*m).dtm_stats = tm_alloc(h, size_of::<StatsT>()) as *mut StatsT;
            if (*m).dtm_stats.is_null() {
                return Err(-DER_NO_SHMEM);
            }
        }
        let store = |s: Option<&[u8]>, max: usize| -> Result<*mut c_char, c_int> {
            let s = s.map(|s| &s[..s.len().min(max)]).unwrap_or(&[]);
            if s.len() == max {
                return Err(-DER_OVERFLOW);
            }
            if s.is_empty() {
                return Ok(null_mut());
            }
            let p = tm_alloc(h, s.len() + 1) as *mut c_char;
            if p.is_null() {
                return Err(-DER_NO_SHMEM);
            }
            let l = conv_ptr(h, p) as *mut u8;
            ptr::copy_nonoverlapping(s.as_ptr(), l, s.len());
            *l.add(s.len()) = 0;
            Ok(p)
        };
        (*m).dtm_desc = store(desc, MAX_DESC_LEN).inspect_err(|_| {
            tracing::error!(target: "telem", "Desc string too long (max={MAX_DESC_LEN})");
        })?;
        let unit_string: Option<&[u8]> = match metric_type & ALL_NODES {
            TIMESTAMP => None,
            TIMER_SNAPSHOT | DURATION => Some(b"us"),
            _ => units,
        };
        (*m).dtm_units = store(unit_string, MAX_UNIT_LEN).inspect_err(|_| {
            tracing::error!(target: "telem", "Units string too long (max={MAX_UNIT_LEN})");
        })?;
        (*temp).dtn_protect = false;
        if (*tm()).sync_access && (*temp).dtn_type != DIRECTORY {
            let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
            let rc = libc::pthread_mutexattr_init(&mut attr);
            if rc != 0 {
                return Err(rc);
            }
            let rc = libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
            if rc != 0 {
                return Err(rc);
            }
            let rc = libc::pthread_mutex_init(ptr::addr_of_mut!((*temp).dtn_lock) as *mut libc::pthread_mutex_t, &attr);
            if rc != 0 {
                return Err(rc);
            }
            libc::pthread_mutexattr_destroy(&mut attr);
            (*temp).dtn_protect = true;
        }
        readable(temp).store(true, Ordering::Relaxed);
        Ok(temp)
    }
}

/// `d_tm_add_metric` after its path was formatted (`path_rc` is the formatting's result).
///
/// # Safety
/// `node` null or writable.
pub unsafe fn add_metric_api(node: *mut *mut Node, metric_type: c_int, desc: Option<&[u8]>, units: Option<&[u8]>, fmt_null: bool, path: &[u8], path_rc: c_int) -> c_int {
    if !is_initialized() {
        return -DER_UNINIT;
    }
    if fmt_null {
        return -DER_INVAL;
    }
    if path_rc != 0 {
        return path_rc;
    }
    let rc = lock_shmem();
    if rc != 0 {
        return rc;
    }
    // SAFETY: initialised and locked; `node` as stated.
    unsafe {
        // a racing caller may have created it meanwhile: not an error
        let found = find_metric(producer_ctx(), path);
        if !found.is_null() {
            unlock_shmem();
            if !node.is_null() {
                *node = found;
            }
            return DER_SUCCESS;
        }
        let r = add_metric(metric_type, desc, units, path);
        unlock_shmem();
        match r {
            Ok(n) => {
                if !node.is_null() {
                    *node = n;
                }
                DER_SUCCESS
            }
            Err(rc) => {
                tracing::error!(target: "telem", "Failed to add metric [{}]: {}", String::from_utf8_lossy(path), dp_rc(rc));
                rc
            }
        }
    }
}

/// # Safety
/// `parent` mapped; `node` null or a node in it.
unsafe fn invalidate_link_node(parent: *mut MemHdr, node: *mut Node) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() || (*node).dtn_type != LINK {
            return;
        }
        (*node).dtn_name = null_mut();
        if !(*node).dtn_metric.is_null() {
            let m = conv_ptr(parent, (*node).dtn_metric);
            if !m.is_null() {
                (*m).dtm_data.value = 0;
            }
        }
    }
}

/// A free subregion entry of `h` (reused or new, linked at the list head); local address.
///
/// # Safety
/// `h` a segment of the producer.
unsafe fn get_free_region_entry(h: *mut MemHdr) -> Result<*mut RegionEntry, c_int> {
    // SAFETY: as stated; the list lives in the segment in producer addresses.
    unsafe {
        let head = ptr::addr_of_mut!((*h).sh_subregions);
        let mut cur = conv_ptr(h, (*head).next);
        while !cur.is_null() && cur != head {
            let e = (cur as *mut u8).sub(RL_LINK_OFF) as *mut RegionEntry;
            if (*e).rl_link_node.is_null() {
                return Ok(e);
            }
            cur = conv_ptr(h, (*cur).next);
        }
        let e = tm_alloc(h, size_of::<RegionEntry>()) as *mut RegionEntry;
        if e.is_null() {
            tracing::error!(target: "telem", "failed to alloc entry for ephemeral shmem key {:#x}", (*h).sh_key);
            return Err(-DER_NO_SHMEM);
        }
        let head_shm = ((*h).sh_base_addr + SUBREGIONS_OFF) as *mut ListLink;
        let next = conv_ptr(h, (*head).next);
        let old_first = if (*head).next == head { head_shm } else { (*head).next };
        let link_shm = (e as *mut u8).wrapping_add(RL_LINK_OFF) as *mut ListLink;
        (*head).next = link_shm;
        if !next.is_null() {
            (*next).prev = link_shm;
        }
        let el = conv_ptr(h, e);
        (*el).rl_link.next = old_first;
        (*el).rl_link.prev = head_shm;
        Ok(el)
    }
}

/// # Safety
/// `h` mapped.
unsafe fn clear_region_entry_for_key(h: *mut MemHdr, key: Key) {
    // SAFETY: as stated.
    unsafe {
        let head = ptr::addr_of_mut!((*h).sh_subregions);
        let mut cur = conv_ptr(h, (*head).next);
        while !cur.is_null() && cur != head {
            let e = (cur as *mut u8).sub(RL_LINK_OFF) as *mut RegionEntry;
            if (*e).rl_key == key {
                (*e).rl_link_node = null_mut();
                (*e).rl_key = 0;
                return;
            }
            cur = conv_ptr(h, (*cur).next);
        }
    }
    tracing::warn!(target: "telem", "shmem metadata not found for key {key:#x}");
}

fn shm_stat_key(key: Key) -> Result<(c_int, libc::shmid_ds), c_int> {
    // SAFETY: shmget/shmctl with a buffer of ours.
    unsafe {
        let shmid = libc::shmget(key, 0, 0);
        if shmid < 0 {
            return Err(errno2der(*libc::__errno_location()));
        }
        let mut ds: libc::shmid_ds = std::mem::zeroed();
        if libc::shmctl(shmid, libc::IPC_STAT, &mut ds) < 0 {
            return Err(errno2der(*libc::__errno_location()));
        }
        Ok((shmid, ds))
    }
}

/// gurt's `d_errno2der`.
pub fn errno2der(e: c_int) -> c_int {
    crate::errno::errno2der(e)
}

/// Gives the child segment the owner of the segment its link lives in.
///
/// # Safety
/// The producer is initialised.
unsafe fn sync_attached_segment_uid(path: &[u8], child_key: Key) -> c_int {
    // SAFETY: as stated.
    unsafe {
        let link = find_metric(producer_ctx(), path);
        if link.is_null() {
            return -DER_NONEXIST;
        }
        let (_, parent) = match shm_stat_key((*link).dtn_shmem_key) {
            Ok(v) => v,
            Err(rc) => return rc,
        };
        let (child_id, mut child) = match shm_stat_key(child_key) {
            Ok(v) => v,
            Err(rc) => return rc,
        };
        if parent.shm_perm.uid == child.shm_perm.uid {
            return 0;
        }
        child.shm_perm.uid = parent.shm_perm.uid;
        libc::shmctl(child_id, libc::IPC_SET, &mut child)
    }
}

/// Adds a link at `path` to the segment `key` and records it in the parent's subregions.
///
/// # Safety
/// The producer is initialised and locked.
unsafe fn attach_path_segment(key: Key, path: &[u8]) -> c_int {
    let ctx = producer_ctx();
    // SAFETY: as stated.
    unsafe {
        let link = match add_metric(LINK, None, None, path) {
            Ok(n) => n,
            Err(rc) => {
                tracing::error!(target: "telem", "can't set up the link node, {rc}");
                return rc;
            }
        };
        let ph = get_mem_region_for_key(ctx, (*link).dtn_shmem_key);
        if ph.is_null() {
            return -DER_NO_SHMEM;
        }
        let m = conv_ptr(ph, (*link).dtn_metric);
        (*m).dtm_data.value = key as u64;
        match get_free_region_entry(ph) {
            Ok(e) => {
                (*e).rl_key = key;
                (*e).rl_link_node = link;
                0
            }
            Err(rc) => {
                invalidate_link_node(ph, link);
                rc
            }
        }
    }
}

/// `d_tm_attach_path_segment` after formatting.
pub fn attach_path_segment_api(key: Key, fmt: Option<&[u8]>, path: &[u8], path_rc: c_int) -> c_int {
    let rc = attach_path_segment_checked(key, fmt, path, path_rc);
    if rc != 0 && rc != -DER_EXIST {
        tracing::error!(target: "telem", "Failed to add path segment [{}] for key {key}: {}",
            String::from_utf8_lossy(path), dp_rc(rc));
    }
    rc
}

fn attach_path_segment_checked(key: Key, fmt: Option<&[u8]>, path: &[u8], path_rc: c_int) -> c_int {
    if !is_initialized() {
        return -DER_UNINIT;
    }
    let Some(fmt) = fmt else {
        tracing::error!(target: "telem", "NULL inputs");
        return -DER_INVAL;
    };
    if fmt.is_empty() {
        tracing::error!(target: "telem", "cannot attach segment at root");
        return -DER_INVAL;
    }
    if path_rc != 0 {
        return path_rc;
    }
    let rc = lock_shmem();
    if rc != 0 {
        return rc;
    }
    // SAFETY: initialised and locked.
    let rc = unsafe {
        if !find_metric(producer_ctx(), path).is_null() {
            -DER_EXIST
        } else {
            attach_path_segment(key, path)
        }
    };
    unlock_shmem();
    rc
}

/// `d_tm_add_ephemeral_dir` after formatting.
///
/// # Safety
/// `node` null or writable.
pub unsafe fn add_ephemeral_dir_api(node: *mut *mut Node, size: usize, fmt: Option<&[u8]>, path: &[u8], path_rc: c_int) -> c_int {
    // SAFETY: as stated.
    let rc = unsafe { add_ephemeral_dir_checked(node, size, fmt, path, path_rc) };
    if rc != 0 && rc != -DER_EXIST {
        tracing::error!(target: "telem", "Failed to add ephemeral dir [{}]: {}", String::from_utf8_lossy(path), dp_rc(rc));
    }
    rc
}

/// # Safety
/// As [`add_ephemeral_dir_api`].
unsafe fn add_ephemeral_dir_checked(node: *mut *mut Node, size: usize, fmt: Option<&[u8]>, path: &[u8], path_rc: c_int) -> c_int {
    if !is_initialized() {
        return -DER_UNINIT;
    }
    let Some(fmt) = fmt else {
        tracing::error!(target: "telem", "NULL inputs");
        return -DER_INVAL;
    };
    if size <= size_of::<MemHdr>() || size % 8 != 0 {
        tracing::error!(target: "telem", "invalid size requested, size={size}");
        return -DER_INVAL;
    }
    if fmt.is_empty() {
        tracing::error!(target: "telem", "cannot create ephemeral dir at root");
        return -DER_INVAL;
    }
    if path_rc != 0 {
        return path_rc;
    }
    let rc = lock_shmem();
    if rc != 0 {
        unlock_shmem();
        return rc;
    }
    let ctx = producer_ctx();
    // SAFETY: initialised and locked; `node` as stated.
    unsafe {
        if !find_metric(ctx, path).is_null() {
            tracing::info!(target: "telem", "metric [{}] already exists", String::from_utf8_lossy(path));
            unlock_shmem();
            return -DER_EXIST;
        }
        let key = ephemeral_key(path, (*tm()).id);
        let (shmid, h) = match create_mem_segment(last_token(path), key, size) {
            Ok(v) => v,
            Err(rc) => {
                unlock_shmem();
                return rc;
            }
        };
        let new_node = (*h).sh_root;
        track_open_region(ctx, h, shmid, key);
        let rc = attach_path_segment(key, path);
        if rc != 0 {
            close_shmem_for_key(ctx, key, true);
            unlock_shmem();
            return rc;
        }
        if !non_shared() {
            let rc = sync_attached_segment_uid(path, key);
            if rc != 0 {
                unlock_shmem();
                let r2 = try_del_ephemeral_dir(path, true);
                if r2 != 0 {
                    tracing::error!(target: "telem", "failed to remove ephemeral dir: {r2}");
                }
                return rc;
            }
        }
        if !node.is_null() {
            *node = new_node;
        }
        unlock_shmem();
        0
    }
}

/// Removes the ephemeral directory a link leads to, its subregions first.
///
/// # Safety
/// `ctx` live; `link` null or a node of its tree.
unsafe fn rm_ephemeral_dir(ctx: *mut Context, link: *mut Node) -> c_int {
    // SAFETY: as stated.
    unsafe {
        if link.is_null() {
            return 0;
        }
        if (*link).dtn_type != LINK {
            tracing::error!(target: "telem", "node type {} cannot be deleted", (*link).dtn_type);
            return -DER_INVAL;
        }
        let ph = get_mem_region_for_key(ctx, (*link).dtn_shmem_key);
        if ph.is_null() {
            return -DER_SHMEM_PERMS;
        }
        let mut rc = 0;
        let node = follow_link(ctx, link);
        if node.is_null() {
            tracing::warn!(target: "telem", "got NULL after following link");
        } else {
            let key = (*node).dtn_shmem_key;
            let h = get_mem_region_for_key(ctx, key);
            if h.is_null() {
                rc = -DER_SHMEM_PERMS;
            } else {
                let head = ptr::addr_of_mut!((*h).sh_subregions);
                let mut cur = conv_ptr(h, (*head).next);
                while !cur.is_null() && cur != head {
                    let e = (cur as *mut u8).sub(RL_LINK_OFF) as *mut RegionEntry;
                    let r = rm_ephemeral_dir(ctx, conv_ptr(h, (*e).rl_link_node));
                    if r != 0 {
                        tracing::error!(target: "telem", "error removing tmp dir: {r}");
                    }
                    cur = conv_ptr(h, (*cur).next);
                }
                clear_region_entry_for_key(ph, key);
                close_shmem_for_key(ctx, key, true);
            }
        }
        invalidate_link_node(ph, link);
        rc
    }
}

/// # Safety
/// The producer is initialised.
unsafe fn try_del_ephemeral_dir(path: &[u8], force: bool) -> c_int {
    let rc = lock_shmem();
    if rc != 0 {
        unlock_shmem();
        return rc;
    }
    let ctx = producer_ctx();
    // SAFETY: as stated, and locked.
    let rc = unsafe {
        let link = get_node(ctx, path);
        // upstream tests emptiness on the link node itself (whose children live in the other
        // segment), so a link always passes; its busy branch also returns 0 without deleting.
        if !force && !is_node_empty(link) {
            0
        } else {
            rm_ephemeral_dir(ctx, link)
        }
    };
    unlock_shmem();
    rc
}

/// `d_tm_del_ephemeral_dir` / `d_tm_try_del_ephemeral_dir` after formatting.
pub fn del_ephemeral_dir_api(fmt: Option<&[u8]>, path: &[u8], path_rc: c_int, force: bool) -> c_int {
    if !is_initialized() {
        return -DER_UNINIT;
    }
    match fmt {
        Some(f) if !f.is_empty() => {}
        _ => {
            tracing::error!(target: "telem", "telemetry root cannot be deleted");
            return -DER_INVAL;
        }
    }
    if path_rc != 0 {
        return path_rc;
    }
    // SAFETY: initialised.
    let rc = unsafe { try_del_ephemeral_dir(path, force) };
    if rc != 0 {
        tracing::error!(target: "telem", "Failed to remove ephemeral dir: {}", dp_rc(rc));
    } else {
        tracing::info!(target: "telem", "Removed ephemeral directory [{}]", String::from_utf8_lossy(path));
    }
    rc
}

/// `d_tm_init_histogram`.
///
/// # Safety
/// `node` a node of the producer's tree.
pub unsafe fn init_histogram(node: *mut Node, path: &[u8], num_buckets: c_int, initial_width: c_int, multiplier: c_int, unit: Option<&[u8]>) -> c_int {
    if num_buckets < 2 || initial_width < 1 || multiplier < 1 {
        return -DER_INVAL;
    }
    // SAFETY: as stated.
    unsafe {
        if !has_stats_type((*node).dtn_type) {
            return -DER_OP_NOT_PERMITTED;
        }
        let ctx = producer_ctx();
        if ctx.is_null() {
            return -DER_NO_SHMEM;
        }
        let h = get_mem_region_for_key(ctx, (*node).dtn_shmem_key);
        if h.is_null() {
            return -DER_NO_SHMEM;
        }
        let rc = lock_shmem();
        if rc != 0 {
            return rc;
        }
        let m = (*node).dtn_metric;
        let hg = tm_alloc(h, size_of::<Histogram>()) as *mut Histogram;
        if hg.is_null() {
            unlock_shmem();
            return -DER_NO_SHMEM;
        }
        let hgl = conv_ptr(h, hg);
        (*hgl).dth_buckets = tm_alloc(h, num_buckets as usize * size_of::<Bucket>()) as *mut Bucket;
        if (*hgl).dth_buckets.is_null() {
            unlock_shmem();
            return -DER_NO_SHMEM;
        }
        (*hgl).dth_fast_bucketing = multiplier == 2 && (initial_width & (initial_width - 1)) == 0;
        (*hgl).dth_num_buckets = num_buckets;
        (*hgl).dth_initial_width = initial_width;
        (*hgl).dth_value_multiplier = multiplier;
        (*m).dtm_histogram = hg;
        unlock_shmem();

        let buckets = conv_ptr(h, (*hgl).dth_buckets);
        for (i, r) in bucket_ranges(num_buckets, initial_width, multiplier).iter().enumerate() {
            let meta = format!("histogram bucket {i} [{} .. {}]", r.min, r.max_str);
            let mut full = path.to_vec();
            full.extend_from_slice(format!("/{}_{}", r.min, r.max_str).as_bytes());
            if let Some(u) = unit {
                full.push(b'_');
                full.extend_from_slice(u);
            }
            let b = buckets.add(i);
            (*b).dtb_min = r.min;
            (*b).dtb_max = r.max;
            let prc = if full.len() >= MAX_NAME_LEN { -DER_EXCEEDS_PATH_LEN } else { 0 };
            let rc = add_metric_api(ptr::addr_of_mut!((*b).dtb_bucket), COUNTER, Some(meta.as_bytes()), Some(b"elements"), false, &full, prc);
            if rc != 0 {
                tracing::error!(target: "telem", "Failed to create histogram: {rc}");
                return rc;
            }
        }
        0
    }
}

// ---- walking and printing ------------------------------------------------------------------

/// `d_tm_count_metrics`.
///
/// # Safety
/// `ctx` live; `node` null or a node this process reaches.
pub unsafe fn count_metrics(ctx: *mut Context, node: *mut Node, filter: c_int) -> u64 {
    // SAFETY: as stated.
    unsafe {
        let mut node = node;
        if node.is_null() {
            return 0;
        }
        if (*node).dtn_type == LINK {
            node = follow_link(ctx, node);
            if node.is_null() {
                return 0;
            }
        }
        let h = get_mem_region_for_key(ctx, (*node).dtn_shmem_key);
        if h.is_null() {
            return 0;
        }
        let mut count = u64::from(filter & (*node).dtn_type != 0);
        let mut c = conv_ptr(h, (*node).dtn_child);
        while !c.is_null() {
            count += count_metrics(ctx, c, filter);
            c = conv_ptr(h, (*c).dtn_sibling);
        }
        count
    }
}

/// A node list entry appended (libc heap, as D_ALLOC_PTR).
///
/// # Safety
/// `list` writable; `*list` null or a list from this function.
pub unsafe fn list_add_node(src: *mut Node, list: *mut *mut NodeList) -> c_int {
    // SAFETY: as stated.
    unsafe {
        if list.is_null() {
            return -DER_INVAL;
        }
        let new = crate::misc::mem::alloc_zeroed_in(crate::dlog::GurtFac::Telem, 1, size_of::<NodeList>()) as *mut NodeList;
        if new.is_null() {
            return -DER_NOMEM;
        }
        (*new).dtnl_node = src;
        if (*list).is_null() {
            *list = new;
        } else {
            let mut l = *list;
            while !(*l).dtnl_next.is_null() {
                l = (*l).dtnl_next;
            }
            (*l).dtnl_next = new;
        }
        DER_SUCCESS
    }
}

/// # Safety
/// `list` null or a list of [`list_add_node`].
pub unsafe fn list_free(mut list: *mut NodeList) {
    // SAFETY: as stated.
    unsafe {
        while !list.is_null() {
            let next = (*list).dtnl_next;
            crate::misc::mem::free_in(crate::dlog::GurtFac::Telem, list as *mut c_void);
            list = next;
        }
    }
}

/// upstream's `list_children`.
///
/// # Safety
/// `ctx` null or live; `head` null or writable; `node` null or a node this process reaches.
pub unsafe fn list_children(ctx: *mut Context, head: *mut *mut NodeList, node: *mut Node, filter: c_int, depth: c_int, max_depth: c_int, skip_root: bool) -> c_int {
    let skip_add = skip_root && depth == 0;
    let depth = depth + 1;
    if max_depth > 0 && depth > max_depth {
        return DER_SUCCESS;
    }
    if ctx.is_null() || head.is_null() || node.is_null() {
        return -DER_INVAL;
    }
    // SAFETY: as stated.
    unsafe {
        let mut node = node;
        if (*node).dtn_type == LINK {
            node = follow_link(ctx, node);
            if node.is_null() {
                return 0;
            }
        }
        if !skip_add && filter & (*node).dtn_type != 0 {
            let rc = list_add_node(node, head);
            if rc != 0 {
                return rc;
            }
        }
        if (*node).dtn_child.is_null() {
            return 0;
        }
        let h = get_mem_region_for_key(ctx, (*node).dtn_shmem_key);
        if h.is_null() {
            return -DER_SHMEM_PERMS;
        }
        let mut c = conv_ptr(h, (*node).dtn_child);
        if c.is_null() {
            return -DER_INVAL;
        }
        while !c.is_null() {
            let rc = list_children(ctx, head, c, filter, depth, max_depth, false);
            if rc != 0 {
                return rc;
            }
            c = conv_ptr(h, (*c).dtn_sibling);
        }
        0
    }
}

/// The callback of `d_tm_iterate`.
pub type IterCb = unsafe extern "C" fn(*mut sys::d_tm_context, *mut Node, c_int, *mut c_char, c_int, c_int, *mut c_void);

/// `d_tm_iterate`.
///
/// # Safety
/// `ctx` live; `node` null or a node this process reaches; `path` null or a C string.
#[allow(clippy::too_many_arguments)] // the C signature's
pub unsafe fn iterate(ctx: *mut Context, node: *mut Node, level: c_int, filter: c_int, path: *mut c_char, format: c_int, opt: c_int, cb: IterCb, arg: *mut c_void) {
    // SAFETY: as stated.
    unsafe {
        let mut node = node;
        if node.is_null() {
            return;
        }
        if (*node).dtn_type == LINK {
            node = follow_link(ctx, node);
            if node.is_null() {
                return;
            }
        }
        let h = get_mem_region_for_key(ctx, (*node).dtn_shmem_key);
        if h.is_null() {
            return;
        }
        if (*node).dtn_type & filter != 0 {
            cb(ctx as *mut sys::d_tm_context, node, level, path, format, opt, arg);
        }
        let parent_name = cstr_bytes(conv_ptr(h, (*node).dtn_name)).unwrap_or(b"(null)");
        let mut c = conv_ptr(h, (*node).dtn_child);
        while !c.is_null() {
            let p = cstr_bytes(path);
            let mut full = Vec::new();
            match p {
                Some(p) if p != b"/" => {
                    full.extend_from_slice(p);
                    full.push(b'/');
                }
                _ => {}
            }
            full.extend_from_slice(parent_name);
            full.push(0);
            iterate(ctx, c, level + 1, filter, full.as_mut_ptr() as *mut c_char, format, opt, cb, arg);
            c = conv_ptr(h, (*c).dtn_sibling);
        }
    }
}

fn ctime_now_or(clk: i64) -> Option<Vec<u8>> {
    let mut buf = [0 as c_char; 26];
    let t: libc::time_t = clk;
    // SAFETY: ctime_r writes at most 26 bytes into buf.
    let p = unsafe { libc::ctime_r(&t, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    buf[24] = 0;
    // SAFETY: NUL-terminated above.
    Some(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec())
}

/// The ctime text of a clock value (None when ctime_r fails).
pub fn ctime_text(clk: i64) -> Option<Vec<u8>> {
    ctime_now_or(clk)
}

/// `d_tm_print_node`, appending its text to `out`.
///
/// # Safety
/// `ctx` live; `node` null or a node this process reaches; `path` null or a C string.
pub unsafe fn print_node(ctx: *mut Context, node: *mut Node, level: c_int, path: *const c_char, format: c_int, opt: c_int, out: &mut Vec<u8>) {
    // SAFETY: as stated.
    unsafe {
        let mut node = node;
        if node.is_null() {
            return;
        }
        let name_p = d_tm_conv_ptr(ctx, node, (*node).dtn_name as *mut c_void) as *const c_char;
        let name: Vec<u8> = cstr_bytes(name_p).map_or(b"(null)".to_vec(), |n| n.to_vec());
        let mut show_meta = opt & INCLUDE_METADATA != 0;
        let show_ts = opt & INCLUDE_TIMESTAMP != 0;
        let ts = if show_ts { ctime_now_or(libc::time(null_mut())).unwrap_or_default() } else { Vec::new() };
        if format == CSV {
            if show_ts {
                out.extend_from_slice(&ts);
                out.push(b',');
            }
            if let Some(p) = cstr_bytes(path) {
                out.extend_from_slice(p);
                out.push(b'/');
            }
        } else {
            for _ in 0..level {
                out.extend_from_slice(b"    ");
            }
            if show_ts && (*node).dtn_type != DIRECTORY {
                out.extend_from_slice(&ts);
                out.extend_from_slice(b", ");
            }
        }
        let (desc, units) = match get_metadata(ctx, node, true, true) {
            Ok((d, u)) => (d, u),
            Err(_) => (null_mut(), null_mut()),
        };
        let desc_b = cstr_bytes(desc).map(|b| b.to_vec());
        let units_b = cstr_bytes(units).map(|b| b.to_vec());
        libc::free(desc as *mut c_void);
        libc::free(units as *mut c_void);
        let mut stats_printed = false;
        let t = (*node).dtn_type;
        match t {
            LINK => {
                node = follow_link(ctx, node);
                print_node(ctx, node, level, path, format, opt, out);
                if node.is_null() {
                    return;
                }
            }
            DIRECTORY => {
                if format == STANDARD {
                    out.extend_from_slice(&name);
                    for _ in name.len()..8 {
                        out.push(b' ');
                    }
                    out.push(b'\n');
                }
            }
            COUNTER => match get_counter(ctx, node) {
                Ok(v) => fmt_counter(out, v, &name, format, units_b.as_deref(), opt),
                Err(rc) => out.extend_from_slice(format!("Error on counter read: {rc}\n").as_bytes()),
            },
            TIMESTAMP => match get_timestamp(ctx, node) {
                Ok(v) => match ctime_now_or(v) {
                    Some(c) => fmt_timestamp(out, &c, &name, format, opt),
                    None => out.extend_from_slice(b"Error on timestamp read: ctime() failure\n"),
                },
                Err(rc) => out.extend_from_slice(format!("Error on timestamp read: {rc}\n").as_bytes()),
            },
            MEMINFO => match get_meminfo(ctx, node) {
                Ok(m) => fmt_meminfo(out, m, &name, format, opt),
                Err(rc) => out.extend_from_slice(format!("Error on meminfo read: {rc}\n").as_bytes()),
            },
            _ if t == TIMER_SNAPSHOT
                || t == TIMER_SNAPSHOT | CLOCK_REALTIME
                || t == TIMER_SNAPSHOT | CLOCK_PROCESS_CPUTIME
                || t == TIMER_SNAPSHOT | CLOCK_THREAD_CPUTIME =>
            {
                match get_timer_snapshot(ctx, node) {
                    Ok(ts) => fmt_timer_snapshot(out, timespec_us(ts.tv_sec, ts.tv_nsec), &name, t, format, opt),
                    Err(rc) => out.extend_from_slice(format!("Error on highres timer read: {rc}\n").as_bytes()),
                }
            }
            _ if t == DURATION
                || t == DURATION | CLOCK_REALTIME
                || t == DURATION | CLOCK_PROCESS_CPUTIME
                || t == DURATION | CLOCK_THREAD_CPUTIME =>
            {
                match get_duration(ctx, node) {
                    Ok((ts, st)) => {
                        let st = st.unwrap_or_default();
                        fmt_duration(out, timespec_us(ts.tv_sec, ts.tv_nsec), Some(&st), &name, t, format, opt);
                        stats_printed = st.sample_size > 0;
                    }
                    Err(rc) => out.extend_from_slice(format!("Error on duration read: {rc}\n").as_bytes()),
                }
            }
            GAUGE | STATS_GAUGE => match get_gauge(ctx, node) {
                Ok((v, st)) => {
                    let st = st.unwrap_or_default();
                    fmt_gauge(out, v, Some(&st), &name, format, units_b.as_deref(), opt);
                    stats_printed = st.sample_size > 0;
                }
                Err(rc) => out.extend_from_slice(format!("Error on gauge read: {rc}\n").as_bytes()),
            },
            _ => {
                out.extend_from_slice(b"Item: ");
                out.extend_from_slice(&name);
                out.extend_from_slice(format!(" has unknown type: 0x{t:x}\n").as_bytes());
            }
        }
        if (*node).dtn_type == DIRECTORY {
            show_meta = false;
        }
        if show_meta {
            if format == CSV && !stats_printed && (desc_b.is_some() || units_b.is_some()) {
                out.extend_from_slice(b",,,,,");
            }
            fmt_metadata(out, desc_b.as_deref(), units_b.as_deref(), format);
        }
        if (*node).dtn_type != DIRECTORY {
            out.push(b'\n');
        }
    }
}

/// upstream's `_reset_node`.
///
/// # Safety
/// `ctx` null or live; `node` null or a node this process reaches.
unsafe fn reset_one(ctx: *mut Context, node: *mut Node) -> c_int {
    if ctx.is_null() || node.is_null() {
        return -DER_INVAL;
    }
    // SAFETY: as stated.
    unsafe {
        let h = match validate_node_ptr(ctx, node) {
            Ok(h) => h,
            Err(rc) => return rc,
        };
        let m = conv_ptr(h, (*node).dtn_metric);
        if m.is_null() {
            return -DER_METRIC_NOT_FOUND;
        }
        let s = conv_ptr(h, (*m).dtm_stats);
        let hg = conv_ptr(h, (*m).dtm_histogram);
        node_lock(node);
        ptr::write_bytes(ptr::addr_of_mut!((*m).dtm_data), 0, 1);
        if !s.is_null() {
            ptr::write_bytes(s, 0, 1);
        }
        if !hg.is_null() {
            let b = conv_ptr(h, (*hg).dth_buckets);
            for i in 0..(*hg).dth_num_buckets.max(0) as usize {
                if b.is_null() {
                    break;
                }
                reset_one(ctx, conv_ptr(h, (*b.add(i)).dtb_bucket));
            }
        }
        node_unlock(node);
        0
    }
}

/// `d_tm_reset_node`; unknown types are reported on `out` (level, path, format and options
/// of the C call change nothing).
///
/// # Safety
/// As [`print_node`].
pub unsafe fn reset_node(ctx: *mut Context, node: *mut Node, out: &mut Vec<u8>) {
    // SAFETY: as stated.
    unsafe {
        if node.is_null() {
            return;
        }
        let t = (*node).dtn_type;
        let known = t == DIRECTORY
            || t == COUNTER
            || t == TIMESTAMP
            || t == GAUGE
            || t == STATS_GAUGE
            || (t & !(CLOCK_REALTIME | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME)) == TIMER_SNAPSHOT
                && (t & (CLOCK_REALTIME | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME)).count_ones() <= 1
            || (t & !(CLOCK_REALTIME | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME)) == DURATION
                && (t & (CLOCK_REALTIME | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME)).count_ones() <= 1;
        if t == LINK {
            let n = follow_link(ctx, node);
            reset_node(ctx, n, out);
        } else if known {
            reset_one(ctx, node);
        } else {
            let name_p = d_tm_conv_ptr(ctx, node, (*node).dtn_name as *mut c_void) as *const c_char;
            let name = cstr_bytes(name_p).unwrap_or(b"(null)");
            out.extend_from_slice(b"Item: ");
            out.extend_from_slice(name);
            out.extend_from_slice(format!(" has unknown type: 0x{t:x}\n").as_bytes());
        }
    }
}

// ---- consumer sessions ---------------------------------------------------------------------

/// `d_tm_open`.
pub fn open(id: c_int) -> *mut Context {
    if non_shared() {
        return producer_ctx();
    }
    match open_shmem(srv_key(id)) {
        Ok((shmid, h)) => alloc_ctx(h, shmid),
        Err(_) => null_mut(),
    }
}

/// `d_tm_close`.
///
/// # Safety
/// `ctx` null or writable; `*ctx` null or a live context.
pub unsafe fn close(ctx: *mut *mut Context) {
    if non_shared() {
        return;
    }
    // SAFETY: as stated.
    unsafe { release_ctx_mem(ctx, false) }
}

/// `d_tm_gc_ctx`: forgets regions their producer deleted.
///
/// # Safety
/// `ctx` null or live.
pub unsafe fn gc_ctx(ctx: *mut Context) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: as stated.
    unsafe {
        let list = std::mem::take(&mut (*ctx).open_mem);
        let mut keep = Vec::with_capacity(list.len());
        for e in list {
            if e.region.is_null() || (*e.region).sh_flags & 1 != 0 {
                release_region(e, false);
            } else {
                keep.push(e);
            }
        }
        (*ctx).open_mem = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process-private segment of `size` bytes with its header written (as D_TM_NO_SHMEM
    /// makes them), freed on drop.
    struct Region(*mut MemHdr);

    impl Region {
        fn new(key: Key, size: usize) -> Self {
            let (_, h) = allocate_memory_segment(key, size, false).unwrap();
            Region(h)
        }
    }

    impl Drop for Region {
        fn drop(&mut self) {
            free_region(self.0);
        }
    }

    #[test]
    fn header_layout_and_bump_allocation() {
        let r = Region::new(0x55, 4096);
        let h = r.0;
        // SAFETY: `h` is a live 4096-byte region with a header.
        unsafe {
            assert_eq!((*h).sh_base_addr, h as u64);
            assert_eq!((*h).sh_key, 0x55);
            assert_eq!((*h).sh_bytes_total, 4096);
            assert_eq!((*h).sh_bytes_free, 4096 - 104);
            assert_eq!((*h).sh_free_addr as u64, h as u64 + 104);
            let head = ptr::addr_of_mut!((*h).sh_subregions);
            assert_eq!((*head).next, head);
            // sizes round up to 8 and blocks are zeroed
            let a = tm_alloc(h, 3);
            let b = tm_alloc(h, 8);
            let c = tm_alloc(h, 9);
            assert_eq!(a as u64, h as u64 + 104);
            assert_eq!(b as u64, a as u64 + 8);
            assert_eq!(c as u64, b as u64 + 8);
            assert_eq!((*h).sh_free_addr as u64, c as u64 + 16);
            assert!(std::slice::from_raw_parts(c as *const u8, 16).iter().all(|&x| x == 0));
            assert!(tm_alloc(h, 0).is_null());
            assert!(tm_alloc(null_mut(), 8).is_null());
            // running out: exactly what is left can be had, then nothing
            let left = (*h).sh_bytes_free as usize;
            assert!(tm_alloc(h, left + 1).is_null());
            assert!(!tm_alloc(h, left).is_null());
            assert_eq!((*h).sh_bytes_free, 0);
            assert!(tm_alloc(h, 8).is_null());
        }
    }

    #[test]
    fn pointers_rebase_into_another_mapping() {
        let r = Region::new(0x66, 2048);
        let h = r.0;
        // SAFETY: nodes and names are allocated in the live region; the copy is as large.
        unsafe {
            let root = alloc_node(h, b"root").unwrap();
            (*h).sh_root = root;
            let child = alloc_node(h, b"child").unwrap();
            (*root).dtn_child = child;
            assert!(matches!(alloc_node(h, &[b'x'; 256]), Err(e) if e == -DER_EXCEEDS_PATH_LEN));
            // another process sees the same bytes at another address
            let copy = libc::malloc(2048) as *mut MemHdr;
            ptr::copy_nonoverlapping(h as *const u8, copy as *mut u8, 2048);
            let r2 = conv_ptr(copy, (*copy).sh_root);
            assert_eq!(r2 as u64 - copy as u64, root as u64 - h as u64);
            assert_eq!(cstr_bytes(conv_ptr(copy, (*r2).dtn_name)), Some(&b"root"[..]));
            let c2 = conv_ptr(copy, (*r2).dtn_child);
            assert_eq!(cstr_bytes(conv_ptr(copy, (*c2).dtn_name)), Some(&b"child"[..]));
            assert_eq!((*c2).dtn_type, DIRECTORY);
            assert_eq!((*c2).dtn_shmem_key, 0x66);
            // outside the segment, or null: null
            assert!(conv_ptr(copy, (h as *mut u8).add(4096)).is_null());
            assert!(conv_ptr(copy, null_mut::<Node>()).is_null());
            assert!(conv_ptr(null_mut(), root).is_null());
            libc::free(copy as *mut c_void);
        }
    }

    #[test]
    fn subregion_list_is_kept_in_producer_addresses() {
        let r = Region::new(0x77, 4096);
        let h = r.0;
        // SAFETY: entries live in the region.
        unsafe {
            let e1 = get_free_region_entry(h).unwrap();
            (*e1).rl_key = 1;
            (*e1).rl_link_node = 8 as *mut Node;
            let e2 = get_free_region_entry(h).unwrap();
            (*e2).rl_key = 2;
            (*e2).rl_link_node = 16 as *mut Node;
            // newest first, as d_list_add does
            let head = ptr::addr_of_mut!((*h).sh_subregions);
            let first = (*head).next as *mut u8;
            assert_eq!(first.sub(RL_LINK_OFF) as *mut RegionEntry, e2);
            assert_eq!((*e2).rl_link.next as *mut u8, (e1 as *mut u8).add(RL_LINK_OFF));
            assert_eq!((*e1).rl_link.next, head);
            assert_eq!((*e1).rl_link.prev as *mut u8, (e2 as *mut u8).add(RL_LINK_OFF));
            assert_eq!((*e2).rl_link.prev, ((*h).sh_base_addr + SUBREGIONS_OFF) as *mut ListLink);
            assert_eq!((*head).prev as *mut u8, (e1 as *mut u8).add(RL_LINK_OFF));
            // a cleared entry is reused
            clear_region_entry_for_key(h, 1);
            assert_eq!((*e1).rl_key, 0);
            assert!((*e1).rl_link_node.is_null());
            assert_eq!(get_free_region_entry(h).unwrap(), e1);
        }
    }

    #[test]
    fn stats_and_histograms_in_a_segment() {
        let r = Region::new(0x88, 8192);
        let h = r.0;
        // SAFETY: the node, metric, stats, histogram and buckets all live in the region; bucket
        // counter nodes are made by hand (no producer is needed).
        unsafe {
            let n = alloc_node(h, b"g").unwrap();
            (*n).dtn_type = STATS_GAUGE;
            (*n).dtn_metric = tm_alloc(h, size_of::<Metric>()) as *mut Metric;
            (*(*n).dtn_metric).dtm_stats = tm_alloc(h, size_of::<StatsT>()) as *mut StatsT;
            for v in [2u64, 4, 4, 4, 5, 5, 7, 9] {
                compute_stats(n, v);
            }
            let s = read_stats((*(*n).dtn_metric).dtm_stats);
            assert_eq!((s.min, s.max, s.sum, s.sample_size), (2, 9, 40, 8));
            assert_eq!(s.mean, 5.0);
            assert_eq!(s.sum_of_squares, 232.0);
            assert!((s.std_dev - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);

            let hg = tm_alloc(h, size_of::<Histogram>()) as *mut Histogram;
            let nb = 4;
            (*hg).dth_buckets = tm_alloc(h, nb * size_of::<Bucket>()) as *mut Bucket;
            (*hg).dth_num_buckets = nb as c_int;
            (*hg).dth_initial_width = 4;
            (*hg).dth_value_multiplier = 2;
            (*hg).dth_fast_bucketing = true;
            for (i, br) in bucket_ranges(4, 4, 2).iter().enumerate() {
                let c = alloc_node(h, br.max_str.as_bytes()).unwrap();
                (*c).dtn_type = COUNTER;
                (*c).dtn_metric = tm_alloc(h, size_of::<Metric>()) as *mut Metric;
                let b = (*hg).dth_buckets.add(i);
                (*b).dtb_min = br.min;
                (*b).dtb_max = br.max;
                (*b).dtb_bucket = c;
            }
            (*(*n).dtn_metric).dtm_histogram = hg;
            for v in 0..40u64 {
                compute_histogram(n, v);
            }
            let counts: Vec<u64> =
                (0..nb).map(|i| (*(*(*(*hg).dth_buckets.add(i)).dtb_bucket).dtn_metric).dtm_data.value).collect();
            // [0,3] [4,7] [8,15] [16,inf]
            assert_eq!(counts, vec![4, 4, 8, 24]);
            // the slow path gives the same answer
            (*hg).dth_fast_bucketing = false;
            for v in 0..40u64 {
                compute_histogram(n, v);
            }
            let counts: Vec<u64> =
                (0..nb).map(|i| (*(*(*(*hg).dth_buckets.add(i)).dtb_bucket).dtn_metric).dtm_data.value).collect();
            assert_eq!(counts, vec![8, 8, 16, 48]);
        }
    }

    #[test]
    fn errno_mapping() {
        assert_eq!(errno2der(0), 0);
        assert_eq!(errno2der(libc::ENOENT), -DER_NONEXIST);
        assert_eq!(errno2der(libc::EACCES), -(sys::DER_NO_PERM as c_int));
        assert_eq!(errno2der(libc::EIO), -(sys::DER_MISC as c_int));
    }
}
