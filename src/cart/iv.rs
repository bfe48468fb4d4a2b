//! Incast variables (upstream `crt_iv.c`): keyed values spread over a group along a tree.
//!
//! A namespace binds a context, a group, a tree topology and the caller's classes (callback
//! tables) under a (group name, namespace id) pair that every rank uses for the same
//! namespace. The value storage is the caller's: this module only moves values and calls the
//! class callbacks at upstream's points, with upstream's arguments and flags:
//!
//! - fetch: the local copy (`ivo_on_fetch` 0), else (-DER_IVCB_FORWARD) an IV_FETCH RPC to the
//!   tree parent towards the key's root (`ivo_on_hash`) or straight to the root
//!   (CRT_IV_SHORTCUT_TO_ROOT); every rank on the way back refreshes its cache
//!   (`ivo_on_refresh`). Fetches of a key already in flight wait for it (`PENDING_FETCH`).
//! - update/invalidate: applied locally (`ivo_on_update`; CRT_IV_FLAG_ROOT only when called at
//!   the root itself: a forwarded update reaches the root's callback with 0, as upstream);
//!   forwarded up (IV_UPDATE) while a rank answers -DER_IVCB_FORWARD; once applied, the rank
//!   that called crt_iv_update refreshes itself and, by the sync mode, sends a collective
//!   IV_SYNC to every other rank of the group (EAGER: completes after it, LAZY: before it,
//!   NONE: no sync).
//!
//! This is the C ABI's engine: the class callbacks, the request bodies and the values are C
//! memory, so most functions are `unsafe` and each block says what it relies on. Values above
//! the inline limit (`crt_iv_init`) go by bulk transfer for fetch and update, as upstream; a
//! SYNC carries its value inline at any size (this library's collectives do not forward a bulk
//! handle; the transport moves large bodies by itself).
use std::collections::VecDeque;
use std::ffi::{c_int, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::capi::{
    crt_bulk_create, crt_bulk_free, crt_bulk_transfer, crt_corpc_req_create, crt_reply_send, crt_req_addref, crt_req_create, crt_req_decref,
    crt_req_send,
};
use crate::register::{self, RpcFormat};
use crate::sys::{
    crt_bulk_cb_info, crt_bulk_desc, crt_bulk_t, crt_cb_info, crt_context_t, crt_corpc_ops, crt_endpoint_t, crt_group_t, crt_iv_class, crt_iv_comp_cb_t,
    crt_iv_key_t, crt_iv_namespace_destroy_cb_t, crt_iv_namespace_t, crt_iv_ops, crt_iv_sync_t, crt_req_format, crt_rpc_t,
    d_iov_t, d_rank_list_t, d_rank_t, d_sg_list_t,
};
use crate::{group, secondary, tree};

const fn der(e: u32) -> i32 {
    -(e as i32)
}
pub const DER_INVAL: i32 = der(crate::sys::DER_INVAL);
pub const DER_NOMEM: i32 = der(crate::sys::DER_NOMEM);
pub const DER_NONEXIST: i32 = der(crate::sys::DER_NONEXIST);
pub const DER_GRPVER: i32 = der(crate::sys::DER_GRPVER);
pub const DER_OOG: i32 = der(crate::sys::DER_OOG);
pub const DER_IVCB_FORWARD: i32 = der(crate::sys::DER_IVCB_FORWARD);
const DER_TIMEDOUT: i32 = der(crate::sys::DER_TIMEDOUT);
const DER_EXCLUDED: i32 = der(crate::sys::DER_EXCLUDED);
const DER_CANCELED: i32 = der(crate::sys::DER_CANCELED);

pub const CRT_NO_RANK: u32 = crate::sys::CRT_NO_RANK;
const PERM_READ: u32 = crate::sys::CRT_IV_PERM_READ;
const PERM_WRITE: u32 = crate::sys::CRT_IV_PERM_WRITE;
const NO_ALLOC: u32 = crate::sys::CRT_IV_NO_ALLOC;
const FLAG_PENDING_FETCH: u32 = crate::sys::CRT_IV_FLAG_PENDING_FETCH;
const SYNC_NONE: u32 = crate::sys::CRT_IV_SYNC_NONE;
const SYNC_EAGER: u32 = crate::sys::CRT_IV_SYNC_EAGER;
const SYNC_LAZY: u32 = crate::sys::CRT_IV_SYNC_LAZY;
const EVENT_UPDATE: u32 = crate::sys::CRT_IV_SYNC_EVENT_UPDATE;
const EVENT_NOTIFY: u32 = crate::sys::CRT_IV_SYNC_EVENT_NOTIFY;
const SYNC_BIDIRECTIONAL: u32 = crate::sys::CRT_IV_SYNC_BIDIRECTIONAL;
const SHORTCUT_NONE: u32 = crate::sys::CRT_IV_SHORTCUT_NONE;
const SHORTCUT_TO_ROOT: u32 = crate::sys::CRT_IV_SHORTCUT_TO_ROOT;
const BULK_RW: u32 = crate::bulk::CRT_BULK_RW;
const BULK_PUT: u32 = crate::bulk::CRT_BULK_PUT;
const BULK_GET: u32 = crate::bulk::CRT_BULK_GET;

/// Upstream's `CRT_OPC_IV_BASE` and `CRT_PROTO_IV_VERSION` (protocol "incast").
pub const CRT_OPC_IV_BASE: u32 = 0xF400_0000;
pub const CRT_PROTO_IV_VERSION: u32 = 2;
pub const CRT_OPC_IV_FETCH: u32 = register::proto_opc(CRT_OPC_IV_BASE, CRT_PROTO_IV_VERSION, 0);
pub const CRT_OPC_IV_UPDATE: u32 = register::proto_opc(CRT_OPC_IV_BASE, CRT_PROTO_IV_VERSION, 1);
pub const CRT_OPC_IV_SYNC: u32 = register::proto_opc(CRT_OPC_IV_BASE, CRT_PROTO_IV_VERSION, 2);

/// Values larger than this go by bulk transfer (upstream `cg_iv_inline_limit`, 19 KiB).
pub const DEFAULT_INLINE_LIMIT: u32 = 19456;
static INLINE_LIMIT: AtomicU32 = AtomicU32::new(DEFAULT_INLINE_LIMIT);

/// `crt_init`'s part: the default limit, then `crt_iv_init(opt)` (given its two size fields).
pub fn init_from_options(sizes: Option<(u32, u32)>) {
    INLINE_LIMIT.store(DEFAULT_INLINE_LIMIT, Ordering::Relaxed);
    iv_init(sizes);
}

/// Upstream `crt_iv_init`: with options whose max unexpected size is above 1 KiB, the limit
/// becomes the max *expected* size minus 1 KiB (upstream's arithmetic, unsigned).
pub fn iv_init(sizes: Option<(u32, u32)>) {
    if let Some((unexpected, expected)) = sizes {
        if unexpected > 1024 {
            INLINE_LIMIT.store(expected.wrapping_sub(1024), Ordering::Relaxed);
        }
    }
}

pub fn inline_limit() -> u32 {
    INLINE_LIMIT.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// RPC bodies (upstream's CRT_ISEQ/CRT_OSEQ_IV_* field lists, in order).

/// `struct crt_iv_fetch_in`.
#[repr(C)]
pub struct FetchIn {
    pub ifi_ivns_id: u32,
    pub ifi_grp_ver: u32,
    pub ifi_ivns_group: *mut std::ffi::c_char,
    pub ifi_key: d_iov_t,
    pub ifi_value_bulk: crt_bulk_t,
    pub ifi_class_id: i32,
    pub ifi_root_node: d_rank_t,
}

/// `struct crt_iv_fetch_out`.
#[repr(C)]
pub struct FetchOut {
    pub ifo_sgl: d_sg_list_t,
    pub ifo_rc: i32,
}

/// `struct crt_iv_update_in`.
#[repr(C)]
pub struct UpdateIn {
    pub ivu_ivns_id: u32,
    pub ivu_grp_ver: u32,
    pub ivu_ivns_group: *mut std::ffi::c_char,
    pub ivu_key: d_iov_t,
    pub ivu_sync_type: d_iov_t,
    pub ivu_iv_value_bulk: crt_bulk_t,
    pub ivu_iv_sgl: d_sg_list_t,
    pub ivu_root_node: d_rank_t,
    pub ivu_caller_node: d_rank_t,
    pub ivu_class_id: u32,
    pub padding: u32,
}

/// `struct crt_iv_update_out`.
#[repr(C)]
pub struct UpdateOut {
    pub ivo_rc: u64,
    pub ivo_iv_sgl: d_sg_list_t,
}

/// `struct crt_iv_sync_in`.
#[repr(C)]
pub struct SyncIn {
    pub ivs_ivns_id: u32,
    pub ivs_grp_ver: u32,
    pub ivs_ivns_group: *mut std::ffi::c_char,
    pub ivs_key: d_iov_t,
    pub ivs_sync_type: d_iov_t,
    pub ivs_sync_sgl: d_sg_list_t,
    pub ivs_class_id: u32,
}

/// `struct crt_iv_sync_out`.
#[repr(C)]
pub struct SyncOut {
    pub ivs_rc: i32,
}

// Upstream's measured sizes (shared/abi/cart/layouts.txt).
const _: () = assert!(std::mem::size_of::<FetchIn>() == 56 && std::mem::size_of::<FetchOut>() == 24);
const _: () = assert!(std::mem::size_of::<UpdateIn>() == 104 && std::mem::size_of::<UpdateOut>() == 24);
const _: () = assert!(std::mem::size_of::<SyncIn>() == 88 && std::mem::size_of::<SyncOut>() == 4);
const _: () = assert!(std::mem::size_of::<crt_iv_sync_t>() == 12);

// The bodies' procs: each field in order (ctl's table-driven body proc, which also frees the
// fields already decoded when a later one fails).
crate::body_proc_fn!(proc_fetch_in, FetchIn, [
    ifi_ivns_id: U32, ifi_grp_ver: U32, ifi_ivns_group: Str, ifi_key: Iov, ifi_value_bulk: Bulk,
    ifi_class_id: I32, ifi_root_node: U32,
]);
crate::body_proc_fn!(proc_fetch_out, FetchOut, [ifo_sgl: SgList, ifo_rc: I32]);
crate::body_proc_fn!(proc_update_in, UpdateIn, [
    ivu_ivns_id: U32, ivu_grp_ver: U32, ivu_ivns_group: Str, ivu_key: Iov, ivu_sync_type: Iov,
    ivu_iv_value_bulk: Bulk, ivu_iv_sgl: SgList, ivu_root_node: U32, ivu_caller_node: U32,
    ivu_class_id: U32, padding: U32,
]);
crate::body_proc_fn!(proc_update_out, UpdateOut, [ivo_rc: U64, ivo_iv_sgl: SgList]);
crate::body_proc_fn!(proc_sync_in, SyncIn, [
    ivs_ivns_id: U32, ivs_grp_ver: U32, ivs_ivns_group: Str, ivs_key: Iov, ivs_sync_type: Iov,
    ivs_sync_sgl: SgList, ivs_class_id: U32,
]);
crate::body_proc_fn!(proc_sync_out, SyncOut, [ivs_rc: I32]);

/// Exported as `CQF_crt_iv_fetch` (capi).
pub const FETCH_FMT: crt_req_format = crt_req_format {
    crf_proc_in: Some(proc_fetch_in),
    crf_proc_out: Some(proc_fetch_out),
    crf_size_in: std::mem::size_of::<FetchIn>(),
    crf_size_out: std::mem::size_of::<FetchOut>(),
};
/// Exported as `CQF_crt_iv_update`.
pub const UPDATE_FMT: crt_req_format = crt_req_format {
    crf_proc_in: Some(proc_update_in),
    crf_proc_out: Some(proc_update_out),
    crf_size_in: std::mem::size_of::<UpdateIn>(),
    crf_size_out: std::mem::size_of::<UpdateOut>(),
};
/// Exported as `CQF_crt_iv_sync`.
pub const SYNC_FMT: crt_req_format = crt_req_format {
    crf_proc_in: Some(proc_sync_in),
    crf_proc_out: Some(proc_sync_out),
    crf_size_in: std::mem::size_of::<SyncIn>(),
    crf_size_out: std::mem::size_of::<SyncOut>(),
};
static FETCH_FMT_REG: crt_req_format = FETCH_FMT;
static UPDATE_FMT_REG: crt_req_format = UPDATE_FMT;
static SYNC_FMT_REG: crt_req_format = SYNC_FMT;

/// The SYNC collective's callbacks (upstream `crt_iv_sync_co_ops`).
static SYNC_CO_OPS: crt_corpc_ops = crt_corpc_ops {
    co_aggregate: Some(sync_corpc_aggregate),
    co_pre_forward: Some(sync_corpc_pre_forward),
    co_post_reply: None,
};

/// Registers the "incast" protocol (every `crt_init`, with cart's internal protocols).
pub fn register() {
    let f = |fmt: &'static crt_req_format, handler: unsafe extern "C" fn(*mut crt_rpc_t), co_ops: usize| RpcFormat {
        req_fmt: fmt as *const crt_req_format as usize,
        size_in: fmt.crf_size_in,
        size_out: fmt.crf_size_out,
        handler: handler as *const () as usize,
        co_ops,
        flags: 0,
    };
    let rpcs = [
        f(&FETCH_FMT_REG, hdlr_iv_fetch, 0),
        f(&UPDATE_FMT_REG, hdlr_iv_update, 0),
        f(&SYNC_FMT_REG, hdlr_iv_sync, &SYNC_CO_OPS as *const crt_corpc_ops as usize),
    ];
    // 0xF4 is an ordinary base to the opcode map (its internal flag covers 0xFF and 0xFE only).
    let _ = register::proto_register(CRT_OPC_IV_BASE, CRT_PROTO_IV_VERSION, &rpcs, false);
}

// ---------------------------------------------------------------------------------------------
// Small helpers over C values.

/// Upstream `d_sgl_buf_size`: the sum of the buffers' sizes.
///
/// # Safety
/// `sgl` is a valid list (its `sg_iovs` NULL or `sg_nr` iovs).
pub unsafe fn sgl_buf_size(sgl: *const d_sg_list_t) -> usize {
    // SAFETY: the contract.
    let s = unsafe { &*sgl };
    if s.sg_iovs.is_null() {
        return 0;
    }
    // SAFETY: sg_iovs holds sg_nr iovs.
    (0..s.sg_nr as usize).map(|i| unsafe { (*s.sg_iovs.add(i)).iov_buf_len }).sum()
}

/// Upstream `d_sgl_buf_copy`: each source iov into the destination's, lengths taken from the
/// source. Where upstream asserts (a shorter destination), this copies what fits.
///
/// # Safety
/// Both lists valid; each source iov's `iov_buf` holds `iov_len` bytes (a decoded iov holds no
/// more), each destination iov's `iov_buf_len`.
pub unsafe fn sgl_buf_copy(dst: *mut d_sg_list_t, src: *const d_sg_list_t) {
    // SAFETY: the contract.
    let (d, s) = unsafe { (&mut *dst, &*src) };
    if s.sg_iovs.is_null() || d.sg_iovs.is_null() {
        return;
    }
    for i in 0..s.sg_nr.min(d.sg_nr) as usize {
        // SAFETY: i is below both counts.
        let (di, si) = unsafe { (&mut *d.sg_iovs.add(i), &*s.sg_iovs.add(i)) };
        let n = si.iov_len.min(si.iov_buf_len.max(si.iov_len)).min(di.iov_buf_len);
        if n > 0 && !di.iov_buf.is_null() && !si.iov_buf.is_null() {
            // SAFETY: n fits both buffers (see the contract).
            unsafe { ptr::copy(si.iov_buf as *const u8, di.iov_buf as *mut u8, n) };
        }
        di.iov_len = si.iov_len.min(di.iov_buf_len);
        di.iov_buf_len = si.iov_buf_len.min(di.iov_buf_len);
    }
}

const fn zero_sgl() -> d_sg_list_t {
    d_sg_list_t { sg_nr: 0, sg_nr_out: 0, sg_iovs: ptr::null_mut() }
}

/// A key copied for the in-progress table (upstream copies it into the entry too), with an
/// iov over the copy (the heap bytes do not move when this does). Requests and completions use
/// the caller's own key, as upstream.
struct OwnedKey {
    _bytes: Box<[u8]>,
    iov: d_iov_t,
}

impl OwnedKey {
    /// Copies `avail` bytes of `k` (upstream copies `iov_buf_len`); the copy holds
    /// `max(iov_buf_len, iov_len)` bytes, zero-filled past `avail`.
    ///
    /// # Safety
    /// `k` is a valid iov whose buffer holds `avail` bytes.
    unsafe fn copy(k: *const d_iov_t, avail: usize) -> OwnedKey {
        // SAFETY: the contract.
        let k = unsafe { &*k };
        let mut b = vec![0u8; k.iov_buf_len.max(k.iov_len).max(1)].into_boxed_slice();
        let n = avail.min(b.len());
        if n > 0 && !k.iov_buf.is_null() {
            // SAFETY: the source holds `avail` >= n bytes; b holds at least n.
            unsafe { ptr::copy_nonoverlapping(k.iov_buf as *const u8, b.as_mut_ptr(), n) };
        }
        let iov = d_iov_t { iov_buf: b.as_mut_ptr() as *mut c_void, iov_buf_len: k.iov_buf_len, iov_len: k.iov_len };
        OwnedKey { _bytes: b, iov }
    }

    fn ptr(&mut self) -> *mut d_iov_t {
        &mut self.iov
    }
}

/// The sync settings a request carries (its raw 12 bytes); zeroes if the iov is short.
///
/// # Safety
/// `iov` is valid; its buffer holds `iov_len` bytes.
unsafe fn sync_of(iov: *const d_iov_t) -> crt_iv_sync_t {
    // SAFETY: the contract.
    let iov = unsafe { &*iov };
    if iov.iov_buf.is_null() || iov.iov_len < std::mem::size_of::<crt_iv_sync_t>() {
        return crt_iv_sync_t { ivs_mode: 0, ivs_event: 0, ivs_flags: 0 };
    }
    // SAFETY: 12 readable bytes, possibly unaligned inside a message.
    unsafe { ptr::read_unaligned(iov.iov_buf as *const crt_iv_sync_t) }
}

unsafe fn req_get<T>(rpc: *mut crt_rpc_t) -> *mut T {
    // SAFETY: rpc is a live RPC of the format whose input is T.
    unsafe { (*rpc).cr_input as *mut T }
}

unsafe fn reply_get<T>(rpc: *mut crt_rpc_t) -> *mut T {
    // SAFETY: rpc is a live RPC of the format whose output is T.
    unsafe { (*rpc).cr_output as *mut T }
}

// ---------------------------------------------------------------------------------------------
// Namespaces.

/// The group a namespace spreads over.
enum Grp {
    Primary,
    Secondary(String),
    /// An attached (client) view: no self rank, so no tree from here.
    Other(String),
}

impl Grp {
    fn version(&self) -> u32 {
        match self {
            Grp::Primary => group::version(),
            Grp::Secondary(n) => secondary::version(n).unwrap_or(0),
            Grp::Other(_) => 0,
        }
    }

    fn self_rank(&self) -> u32 {
        match self {
            Grp::Primary => group::self_rank().unwrap_or(CRT_NO_RANK),
            Grp::Secondary(n) => secondary::self_rank(n).unwrap_or(CRT_NO_RANK),
            Grp::Other(_) => CRT_NO_RANK,
        }
    }

    fn membs(&self) -> Vec<u32> {
        match self {
            Grp::Primary => group::ranks(),
            Grp::Secondary(n) => secondary::ranks(n).unwrap_or_default(),
            Grp::Other(n) => group::attached_ranks(n).unwrap_or_default(),
        }
    }

    /// The primary rank a request to group rank `r` goes to.
    fn to_primary(&self, r: u32) -> u32 {
        match self {
            Grp::Secondary(n) => secondary::s2p(n, r).unwrap_or(r),
            _ => r,
        }
    }
}

/// Upstream `struct crt_ivns_internal`; its address is the `crt_iv_namespace_t`.
pub struct Ns {
    classes: Vec<crt_iv_class>,
    ctx: crt_context_t,
    grp: Grp,
    grp_handle: *mut crt_group_t,
    gname: CString,
    nsid: u32,
    topo: i32,
    refs: AtomicI32,
    kips: Mutex<Vec<Kip>>,
    user_priv: AtomicPtr<c_void>,
    destroy_cb: Mutex<(crt_iv_namespace_destroy_cb_t, usize)>,
}

/// Live namespaces in creation order (upstream's `ns_list`), by address.
static REG: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Ns {
    fn handle(&self) -> crt_iv_namespace_t {
        self as *const Ns as crt_iv_namespace_t
    }

    fn ops(&self, class_id: u32) -> Option<&crt_iv_ops> {
        let c = self.classes.get(class_id as usize)?;
        // SAFETY: the class table's ops pointer is the caller's, valid while the namespace is.
        unsafe { c.ivc_ops.as_ref() }
    }

    fn addref(&self) {
        self.refs.fetch_add(1, Ordering::AcqRel);
    }

    fn self_rank(&self) -> u32 {
        self.grp.self_rank()
    }

    /// Upstream `crt_iv_parent_get`: the next rank towards `root` (root itself at the root).
    fn parent(&self, root: u32) -> Result<u32, i32> {
        let me = self.self_rank();
        if me == CRT_NO_RANK {
            return Err(DER_GRPVER);
        }
        if me == root {
            return Ok(root);
        }
        tree::parent(&self.grp.membs(), None, self.topo, root, me)
    }

    /// Upstream `get_shortcut_path`.
    fn shortcut_path(&self, root: u32, shortcut: u32) -> Result<u32, i32> {
        match shortcut {
            SHORTCUT_TO_ROOT => Ok(root),
            SHORTCUT_NONE => self.parent(root).map_err(|_| DER_OOG),
            _ => Err(DER_INVAL),
        }
    }
}

/// Drops `n` references; the last one unlists the namespace, calls its destroy callback and
/// frees it (upstream `IVNS_DECREF_N` / `ivns_destroy`).
///
/// # Safety
/// `p` is a namespace on which the caller holds `n` references.
unsafe fn decref_n(p: *mut Ns, n: i32) {
    if p.is_null() {
        return;
    }
    // SAFETY: the caller's references keep p alive.
    let left = unsafe { (*p).refs.fetch_sub(n, Ordering::AcqRel) } - n;
    if left > 0 {
        return;
    }
    {
        let mut reg = lock(&REG);
        // SAFETY: still listed, so still allocated; a lookup may have revived it.
        if unsafe { (*p).refs.load(Ordering::Acquire) } != 0 {
            return;
        }
        reg.retain(|&q| q != p as usize);
    }
    // SAFETY: unlisted with no references: this is the only owner left.
    let ns = unsafe { Box::from_raw(p) };
    let (cb, arg) = *lock(&ns.destroy_cb);
    if let Some(cb) = cb {
        // SAFETY: the caller's destroy callback with the namespace it named.
        unsafe { cb(p as crt_iv_namespace_t, arg as *mut c_void) };
    }
    drop(ns);
}

unsafe fn decref(p: *mut Ns) {
    // SAFETY: forwarded contract (one reference).
    unsafe { decref_n(p, 1) }
}

/// Upstream `crt_ivns_internal_lookup`: a listed namespace of this group and id, referenced.
///
/// # Safety
/// `grp` is NULL or a C string.
unsafe fn lookup(grp: *const std::ffi::c_char, nsid: u32) -> *mut Ns {
    if grp.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the contract.
    let name = unsafe { CStr::from_ptr(grp) };
    let reg = lock(&REG);
    for &q in reg.iter() {
        // SAFETY: listed namespaces are allocated (unlisting happens under this lock).
        let ns = unsafe { &*(q as *const Ns) };
        if ns.nsid == nsid && ns.gname.as_c_str() == name && ns.refs.load(Ordering::Acquire) > 0 {
            ns.addref();
            return q as *mut Ns;
        }
    }
    ptr::null_mut()
}

/// Upstream `crt_ivns_internal_get`: the caller's handle if it is a live namespace, referenced.
fn get(h: crt_iv_namespace_t) -> *mut Ns {
    let reg = lock(&REG);
    if h.is_null() || !reg.contains(&(h as usize)) {
        return ptr::null_mut();
    }
    // SAFETY: listed, so allocated.
    let ns = unsafe { &*(h as *const Ns) };
    if ns.refs.load(Ordering::Acquire) <= 0 {
        return ptr::null_mut();
    }
    ns.addref();
    h as *mut Ns
}

/// Resolves a group handle (NULL: the primary group) the way `crt_grp_pub2priv` accepts it.
///
/// # Safety
/// `grp` is NULL or a group handle of this library.
unsafe fn resolve_grp(grp: *mut crt_group_t) -> Option<(Grp, String)> {
    let primary = crate::init::settings().ok()?.grpid;
    if grp.is_null() {
        return Some((Grp::Primary, primary));
    }
    // SAFETY: a group handle's cg_grpid is its C string.
    let name = unsafe { (*grp).cg_grpid.as_ref().map(|c| CStr::from_ptr(c).to_string_lossy().into_owned()) }?;
    if name == primary {
        Some((Grp::Primary, name))
    } else if secondary::exists(&name) {
        Some((Grp::Secondary(name.clone()), name))
    } else if group::is_attached(&name) {
        Some((Grp::Other(name.clone()), name))
    } else {
        None
    }
}

/// `crt_iv_namespace_create_priv`.
///
/// # Safety
/// `grp` NULL or a group handle; `classes` NULL or `num` classes; `out` NULL or writable.
#[allow(clippy::too_many_arguments)]
pub unsafe fn namespace_create(
    ctx: crt_context_t,
    grp: *mut crt_group_t,
    topo: i32,
    classes: *const crt_iv_class,
    num: u32,
    nsid: u32,
    user_priv: *mut c_void,
    out: *mut crt_iv_namespace_t,
) -> i32 {
    if out.is_null() {
        return DER_INVAL;
    }
    // SAFETY: the contract.
    let Some((g, name)) = (unsafe { resolve_grp(grp) }) else { return DER_INVAL };
    if classes.is_null() && num > 0 {
        return DER_INVAL;
    }
    let classes = if num == 0 {
        Vec::new()
    } else {
        // SAFETY: `num` classes per the contract.
        unsafe { std::slice::from_raw_parts(classes, num as usize) }.to_vec()
    };
    let Ok(gname) = CString::new(name) else { return DER_INVAL };
    let ns = Box::new(Ns {
        classes,
        ctx,
        grp: g,
        grp_handle: grp,
        gname,
        nsid,
        topo,
        refs: AtomicI32::new(1),
        kips: Mutex::new(Vec::new()),
        user_priv: AtomicPtr::new(user_priv),
        destroy_cb: Mutex::new((None, 0)),
    });
    let p = Box::into_raw(ns);
    lock(&REG).push(p as usize);
    // SAFETY: checked non-NULL.
    unsafe { *out = p as crt_iv_namespace_t };
    0
}

pub fn priv_set(h: crt_iv_namespace_t, priv_: *mut c_void) -> i32 {
    let p = get(h);
    if p.is_null() {
        return DER_INVAL;
    }
    // SAFETY: referenced by get.
    unsafe {
        (*p).user_priv.store(priv_, Ordering::Release);
        decref(p);
    }
    0
}

pub fn priv_get(h: crt_iv_namespace_t) -> Result<*mut c_void, i32> {
    let p = get(h);
    if p.is_null() {
        return Err(DER_INVAL);
    }
    // SAFETY: referenced by get.
    unsafe {
        let v = (*p).user_priv.load(Ordering::Acquire);
        decref(p);
        Ok(v)
    }
}

pub fn id_get(h: crt_iv_namespace_t) -> Result<u32, i32> {
    let p = get(h);
    if p.is_null() {
        return Err(DER_INVAL);
    }
    // SAFETY: referenced by get.
    unsafe {
        let v = (*p).nsid;
        decref(p);
        Ok(v)
    }
}

/// `crt_iv_namespace_destroy`: 0 even for an unknown handle; the callback runs once the last
/// operation holding the namespace is done.
pub fn namespace_destroy(h: crt_iv_namespace_t, cb: crt_iv_namespace_destroy_cb_t, arg: *mut c_void) -> i32 {
    let p = get(h);
    if p.is_null() {
        return 0;
    }
    // SAFETY: referenced by get (one) plus the creation's reference (one).
    unsafe {
        *lock(&(*p).destroy_cb) = (cb, arg as usize);
        decref_n(p, 2);
    }
    0
}

/// `crt_iv_get_nchildren`.
///
/// # Safety
/// `key` NULL or a valid iov; `nchildren` NULL or writable.
pub unsafe fn get_nchildren(h: crt_iv_namespace_t, class_id: u32, key: *mut crt_iv_key_t, nchildren: *mut u32) -> i32 {
    if key.is_null() || nchildren.is_null() {
        return DER_INVAL;
    }
    let p = get(h);
    if p.is_null() {
        return DER_NONEXIST;
    }
    // SAFETY: referenced by get.
    let ns = unsafe { &*p };
    let rc = (|| {
        let me = ns.self_rank();
        if me == CRT_NO_RANK {
            return DER_GRPVER;
        }
        let Some(ops) = ns.ops(class_id) else { return DER_INVAL };
        let mut root: d_rank_t = 0;
        let Some(hash) = ops.ivo_on_hash else { return DER_INVAL };
        // SAFETY: the class's callback with the caller's key.
        let rc = unsafe { hash(h, key, &mut root) };
        if rc != 0 {
            return rc;
        }
        match tree::nchildren(&ns.grp.membs(), None, ns.topo, root, me) {
            Ok(n) => {
                // SAFETY: checked non-NULL.
                unsafe { *nchildren = n };
                0
            }
            Err(e) => e,
        }
    })();
    // SAFETY: the reference from get.
    unsafe { decref(p) };
    rc
}

// ---------------------------------------------------------------------------------------------
// Callback wrappers: a missing mandatory callback is -DER_INVAL (upstream would crash).

unsafe fn on_get(ops: &crt_iv_ops, ns: crt_iv_namespace_t, key: *mut crt_iv_key_t, perm: u32, val: *mut d_sg_list_t, priv_: *mut *mut c_void) -> i32 {
    match ops.ivo_on_get {
        // SAFETY: the class's callback, arguments valid for the call.
        Some(f) => unsafe { f(ns, key, 0, perm, val, priv_) },
        None => DER_INVAL,
    }
}

unsafe fn on_put(ops: &crt_iv_ops, ns: crt_iv_namespace_t, val: *mut d_sg_list_t, priv_: *mut c_void) {
    if let Some(f) = ops.ivo_on_put {
        // SAFETY: as on_get.
        unsafe { f(ns, val, priv_) }
    }
}

unsafe fn on_fetch(ops: &crt_iv_ops, ns: crt_iv_namespace_t, key: *mut crt_iv_key_t, flags: u32, val: *mut d_sg_list_t, priv_: *mut c_void) -> i32 {
    match ops.ivo_on_fetch {
        // SAFETY: as on_get; upstream passes a NULL version.
        Some(f) => unsafe { f(ns, key, ptr::null_mut(), flags, val, priv_) },
        None => DER_INVAL,
    }
}

unsafe fn on_update(ops: &crt_iv_ops, ns: crt_iv_namespace_t, key: *mut crt_iv_key_t, flags: u32, val: *mut d_sg_list_t, priv_: *mut c_void) -> i32 {
    match ops.ivo_on_update {
        // SAFETY: as on_get.
        Some(f) => unsafe { f(ns, key, 0, flags, val, priv_) },
        None => DER_INVAL,
    }
}

unsafe fn on_refresh(ops: &crt_iv_ops, ns: crt_iv_namespace_t, key: *mut crt_iv_key_t, val: *mut d_sg_list_t, invalidate: bool, rc: i32, priv_: *mut c_void) -> i32 {
    match ops.ivo_on_refresh {
        // SAFETY: as on_get.
        Some(f) => unsafe { f(ns, key, 0, val, invalidate, rc, priv_) },
        None => DER_INVAL,
    }
}

unsafe fn comp(cb: crt_iv_comp_cb_t, ns: crt_iv_namespace_t, class_id: u32, key: *mut crt_iv_key_t, val: *mut d_sg_list_t, rc: i32, arg: *mut c_void) -> i32 {
    match cb {
        // SAFETY: the caller's completion callback; upstream passes a NULL version.
        Some(f) => unsafe { f(ns, class_id, key, ptr::null_mut(), val, rc, arg) },
        None => 0,
    }
}

unsafe fn reply(rpc: *mut crt_rpc_t) -> i32 {
    // SAFETY: a live server RPC.
    unsafe { crt_reply_send(rpc) }
}

// ---------------------------------------------------------------------------------------------
// Fetch.

/// Upstream `struct iv_fetch_cb_info`.
struct FetchInfo {
    comp_cb: crt_iv_comp_cb_t,
    comp_arg: *mut c_void,
    bulk: crt_bulk_t,
    child_rpc: *mut crt_rpc_t,
    child_bulk: crt_bulk_t,
    /// The caller's key (or the child request's), shallow as upstream: the outgoing request
    /// and the completion use the caller's buffer, which lives until the completion.
    key: d_iov_t,
    value: d_sg_list_t,
    ns: *mut Ns,
    class_id: u32,
    user_priv: *mut c_void,
}

/// Upstream `struct ivf_key_in_progress`: a key with a fetch RPC out, and the fetches waiting
/// for it.
struct Kip {
    /// Names the entry across unlocks (its index moves).
    id: u64,
    key: OwnedKey,
    pending: VecDeque<Box<FetchInfo>>,
    in_progress: bool,
    refcnt: u32,
}

static KIP_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The id of the in-progress entry of `key`, if any.
///
/// # Safety
/// `key` is a valid iov.
unsafe fn kip_id(ns: &Ns, ops: &crt_iv_ops, key: *mut crt_iv_key_t) -> Option<u64> {
    let mut kips = lock(&ns.kips);
    // SAFETY: the contract.
    unsafe { kip_find(ns, ops, &mut kips, key) }.map(|i| kips[i].id)
}

/// The in-progress entry of `key` (the class's `ivo_keys_match`, else the bytes), by index.
///
/// # Safety
/// `key` is a valid iov.
unsafe fn kip_find(ns: &Ns, ops: &crt_iv_ops, kips: &mut [Kip], key: *mut crt_iv_key_t) -> Option<usize> {
    kips.iter_mut().position(|k| match ops.ivo_keys_match {
        // SAFETY: the class's callback with two valid keys.
        Some(m) => unsafe { m(ns.handle(), k.key.ptr(), key) },
        None => {
            // SAFETY: both keys valid; a kip key holds max(len, buf_len) bytes.
            let a = unsafe { &*key };
            let b = &k.key.iov;
            a.iov_len == b.iov_len
                && (a.iov_len == 0
                    || (!a.iov_buf.is_null()
                        && unsafe { std::slice::from_raw_parts(a.iov_buf as *const u8, a.iov_len) == std::slice::from_raw_parts(b.iov_buf as *const u8, b.iov_len) }))
        }
    })
}

/// Upstream `crt_ivf_bulk_transfer`: pushes `value` into the requester's buffer, replying when
/// the transfer is done. On error the RPC has been answered with it.
///
/// # Safety
/// `rpc` a live server IV_FETCH; `value` valid until the transfer's callback puts it.
unsafe fn ivf_bulk_transfer(ns: *mut Ns, class_id: u32, value: *mut d_sg_list_t, dest: crt_bulk_t, rpc: *mut crt_rpc_t, user_priv: *mut c_void) -> i32 {
    // SAFETY: the contract.
    unsafe {
        let out = reply_get::<FetchOut>(rpc);
        let mut local: crt_bulk_t = ptr::null_mut();
        let rc = crt_bulk_create((*rpc).cr_ctx, value, BULK_RW, &mut local);
        if rc != 0 {
            return rc;
        }
        let size = sgl_buf_size(value);
        crt_req_addref(rpc);
        let mut desc = crt_bulk_desc {
            bd_rpc: rpc,
            bd_bulk_op: BULK_PUT,
            bd_remote_hdl: dest,
            bd_remote_off: 0,
            bd_local_hdl: local,
            bd_local_off: 0,
            bd_len: size,
        };
        (*ns).addref();
        let tci = Box::into_raw(Box::new(TransferInfo { ns, class_id, value: *value, user_priv }));
        let rc = crt_bulk_transfer(&mut desc, Some(ivf_bulk_done), tci as *mut c_void, ptr::null_mut());
        if rc != 0 {
            (*out).ifo_rc = rc;
            reply(rpc);
            crt_req_decref(rpc);
            crt_bulk_free(local);
            let t = Box::from_raw(tci);
            decref(t.ns);
        }
        rc
    }
}

/// Upstream `struct crt_ivf_transfer_cb_info`.
struct TransferInfo {
    ns: *mut Ns,
    class_id: u32,
    value: d_sg_list_t,
    user_priv: *mut c_void,
}

unsafe extern "C" fn ivf_bulk_done(info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: the bulk layer's live info; its arg is the TransferInfo given above.
    unsafe {
        let info = &*info;
        let desc = &*info.bci_bulk_desc;
        crt_bulk_free(desc.bd_local_hdl);
        let mut t = Box::from_raw(info.bci_arg as *mut TransferInfo);
        let rpc = desc.bd_rpc;
        let out = reply_get::<FetchOut>(rpc);
        (*out).ifo_rc = info.bci_rc;
        if let Some(ops) = (*t.ns).ops(t.class_id) {
            on_put(ops, t.ns as crt_iv_namespace_t, &mut t.value, t.user_priv);
        }
        let rc = reply(rpc);
        crt_req_decref(rpc);
        decref(t.ns);
        rc
    }
}

/// Upstream `crt_ivf_finalize`: the reply to the child, or the local completion.
///
/// # Safety
/// `info` is a fetch whose value is still held (on_get'd).
unsafe fn ivf_finalize(info: &mut FetchInfo, key: *mut crt_iv_key_t, rc_out: i32) {
    // SAFETY: the contract; ns is referenced by the info.
    unsafe {
        let ns = info.ns;
        let Some(ops) = (*ns).ops(info.class_id) else { return };
        let mut need_put = true;
        let rpc = info.child_rpc;
        if !rpc.is_null() {
            if rc_out == 0 && !info.child_bulk.is_null() {
                if ivf_bulk_transfer(ns, info.class_id, &mut info.value, info.child_bulk, rpc, info.user_priv) == 0 {
                    need_put = false;
                }
            } else {
                let out = reply_get::<FetchOut>(rpc);
                (*out).ifo_rc = rc_out;
                (*out).ifo_sgl = info.value;
                reply(rpc);
                (*out).ifo_sgl = zero_sgl();
            }
            crt_req_decref(rpc);
        } else {
            comp(info.comp_cb, ns as crt_iv_namespace_t, info.class_id, key, &mut info.value, rc_out, info.comp_arg);
        }
        if need_put {
            on_put(ops, ns as crt_iv_namespace_t, &mut info.value, info.user_priv);
        }
    }
}

/// Upstream `crt_ivf_pending_reqs_process`: completes the fetches that waited on `kip_key`'s
/// RPC, then releases this RPC's hold on the entry.
///
/// # Safety
/// `ns` referenced; the entry `kip` (if any) holds a reference taken by this RPC's issue.
unsafe fn ivf_pending_process(ns: *mut Ns, class_id: u32, kip: Option<u64>, mut rc_value: i32) {
    // SAFETY: the contract.
    let nsr = unsafe { &*ns };
    let Some(ops) = nsr.ops(class_id) else { return };
    let h = ns as crt_iv_namespace_t;
    // The waiting list, taken at once; from here on new fetches of the key send their own RPC
    // (upstream holds the entry's lock through this loop instead).
    let Some(kip) = kip else { return };
    let batch = {
        let mut kips = lock(&nsr.kips);
        match kips.iter().position(|k| k.id == kip) {
            Some(i) => {
                kips[i].in_progress = false;
                std::mem::take(&mut kips[i].pending)
            }
            None => return,
        }
    };
    for mut info in batch {
        let mut tmp = zero_sgl();
        let mut put_needed = false;
        let k = &mut info.key as *mut d_iov_t;
        // SAFETY: the info's key, value and RPC are live; callbacks get valid pointers.
        unsafe {
            if !info.child_rpc.is_null() {
                let rpc = info.child_rpc;
                let out = reply_get::<FetchOut>(rpc);
                if rc_value != 0 {
                    (*out).ifo_rc = rc_value;
                    reply(rpc);
                    crt_req_decref(rpc);
                    decref(info.ns);
                    continue;
                }
                let mut rc = on_get(ops, h, k, PERM_READ, &mut tmp, &mut info.user_priv);
                if rc == 0 {
                    put_needed = true;
                    rc = on_fetch(ops, h, k, FLAG_PENDING_FETCH, &mut tmp, info.user_priv);
                }
                if rc == 0 {
                    if !info.child_bulk.is_null() {
                        if ivf_bulk_transfer(ns, class_id, &mut tmp, info.child_bulk, rpc, info.user_priv) == 0 {
                            put_needed = false;
                        }
                    } else {
                        (*out).ifo_rc = 0;
                        (*out).ifo_sgl = tmp;
                        reply(rpc);
                        (*out).ifo_sgl = zero_sgl();
                    }
                } else {
                    (*out).ifo_rc = rc;
                    reply(rpc);
                }
                if put_needed {
                    on_put(ops, h, &mut tmp, info.user_priv);
                }
                crt_req_decref(rpc);
            } else {
                if rc_value != 0 {
                    comp(info.comp_cb, h, class_id, k, &mut tmp, rc_value, info.comp_arg);
                    decref(info.ns);
                    continue;
                }
                let rc = on_get(ops, h, k, PERM_READ, &mut tmp, &mut info.user_priv);
                if rc == 0 {
                    put_needed = true;
                    let _ = on_fetch(ops, h, k, FLAG_PENDING_FETCH, &mut tmp, info.user_priv);
                } else {
                    // as upstream: this error is also what the later waiters get
                    rc_value = rc;
                }
                comp(info.comp_cb, h, class_id, k, &mut tmp, rc_value, info.comp_arg);
                if put_needed {
                    on_put(ops, h, &mut tmp, info.user_priv);
                }
            }
            decref(info.ns);
        }
    }
    let mut kips = lock(&nsr.kips);
    if let Some(i) = kips.iter().position(|k| k.id == kip) {
        kips[i].refcnt = kips[i].refcnt.saturating_sub(1);
        if kips[i].refcnt == 0 && kips[i].pending.is_empty() {
            kips.remove(i);
        }
    }
}

/// Upstream `crt_ivf_rpc_issue`: an IV_FETCH to `dest` for `info`, or, if one for the same key
/// is out, `info` waits for it. `Err` gives `info` back with the error.
///
/// # Safety
/// `info` holds an on_get'd (WRITE) value and a namespace reference.
unsafe fn ivf_rpc_issue(dest: u32, root: u32, grp_ver: u32, mut info: Box<FetchInfo>) -> Result<(), (i32, Box<FetchInfo>)> {
    let ns = info.ns;
    // SAFETY: referenced by info.
    let nsr = unsafe { &*ns };
    let Some(ops) = nsr.ops(info.class_id) else { return Err((DER_INVAL, info)) };
    let key = &mut info.key as *mut d_iov_t;
    {
        let mut kips = lock(&nsr.kips);
        // SAFETY: key is the info's own.
        let i = match unsafe { kip_find(nsr, ops, &mut kips, key) } {
            Some(i) if kips[i].in_progress => {
                // The value got by the caller is put back; the waiter gets its own later.
                // SAFETY: the value on_get'd by the caller.
                unsafe { on_put(ops, ns as crt_iv_namespace_t, &mut info.value, info.user_priv) };
                kips[i].pending.push_back(info);
                return Ok(());
            }
            Some(i) => i,
            None => {
                // SAFETY: key valid.
                let k = unsafe { OwnedKey::copy(key, (*key).iov_buf_len) };
                let id = KIP_IDS.fetch_add(1, Ordering::Relaxed);
                kips.push(Kip { id, key: k, pending: VecDeque::new(), in_progress: false, refcnt: 0 });
                kips.len() - 1
            }
        };
        kips[i].in_progress = true;
        kips[i].refcnt += 1;
    }
    let mut local: crt_bulk_t = ptr::null_mut();
    let fail = |rc: i32, info: Box<FetchInfo>, local: crt_bulk_t| {
        let mut kips = lock(&nsr.kips);
        // SAFETY: key valid (info's own, alive until returned).
        if let Some(i) = unsafe { kip_find(nsr, ops, &mut kips, key) } {
            if kips[i].pending.is_empty() {
                kips[i].refcnt = kips[i].refcnt.saturating_sub(1);
                kips[i].in_progress = false;
                if kips[i].refcnt == 0 {
                    kips.remove(i);
                }
            }
        }
        drop(kips);
        if !local.is_null() {
            // SAFETY: our handle.
            unsafe { crt_bulk_free(local) };
        }
        Err((rc, info))
    };
    // SAFETY: value valid (on_get'd); the request body is ours until sent.
    unsafe {
        if sgl_buf_size(&info.value) > inline_limit() as usize {
            let rc = crt_bulk_create(nsr.ctx, &mut info.value, BULK_RW, &mut local);
            if rc != 0 {
                return fail(rc, info, ptr::null_mut());
            }
        }
        let mut ep = crt_endpoint_t { ep_grp: ptr::null_mut(), ep_rank: nsr.grp.to_primary(dest), ep_tag: 0 };
        let mut rpc: *mut crt_rpc_t = ptr::null_mut();
        let rc = crt_req_create(nsr.ctx, &mut ep, CRT_OPC_IV_FETCH, &mut rpc);
        if rc != 0 {
            return fail(rc, info, local);
        }
        let input = req_get::<FetchIn>(rpc);
        if !local.is_null() {
            (*input).ifi_value_bulk = local;
            info.bulk = local;
        }
        (*input).ifi_key = d_iov_t { iov_buf: info.key.iov_buf, iov_buf_len: info.key.iov_buf_len, iov_len: info.key.iov_buf_len };
        (*input).ifi_class_id = info.class_id as i32;
        (*input).ifi_root_node = root;
        (*input).ifi_ivns_id = nsr.nsid;
        (*input).ifi_ivns_group = nsr.gname.as_ptr() as *mut _;
        if nsr.grp.version() != grp_ver {
            crt_req_decref(rpc);
            info.bulk = ptr::null_mut();
            return fail(DER_GRPVER, info, local);
        }
        (*input).ifi_grp_ver = grp_ver;
        let raw = Box::into_raw(info);
        let rc = crt_req_send(rpc, Some(handle_response_cb), raw as *mut c_void);
        if rc != 0 {
            let mut info = Box::from_raw(raw);
            info.bulk = ptr::null_mut();
            return fail(rc, info, local);
        }
    }
    Ok(())
}

/// Upstream `handle_ivfetch_response`.
unsafe fn ivfetch_response(cb: &crt_cb_info) {
    // SAFETY: the arg is the FetchInfo given at send; rpc is live through the callback.
    unsafe {
        let mut info = Box::from_raw(cb.cci_arg as *mut FetchInfo);
        let rpc = cb.cci_rpc;
        let input = req_get::<FetchIn>(rpc);
        let out = reply_get::<FetchOut>(rpc);
        let rc = if cb.cci_rc == 0 { (*out).ifo_rc } else { cb.cci_rc };
        let ns = info.ns;
        let class_id = info.class_id;
        let Some(ops) = (*ns).ops(class_id) else { return };
        let mut value: *mut d_sg_list_t = ptr::null_mut();
        if rc == 0 {
            if info.bulk.is_null() {
                sgl_buf_copy(&mut info.value, &(*out).ifo_sgl);
            }
            value = &mut info.value;
        }
        let key = &mut (*input).ifi_key as *mut d_iov_t;
        on_refresh(ops, ns as crt_iv_namespace_t, key, value, false, rc, info.user_priv);
        if !info.bulk.is_null() {
            crt_bulk_free(info.bulk);
        }
        // The entry is found now: the completion may free the caller's key.
        let kip = kip_id(&*ns, ops, key);
        // Failures release the waiters before the completion (the caller may retry from it);
        // successes after it (the completion may be what makes the value usable).
        if rc != 0 {
            ivf_pending_process(ns, class_id, kip, rc);
        }
        ivf_finalize(&mut info, key, rc);
        if rc == 0 {
            ivf_pending_process(ns, class_id, kip, rc);
        }
        decref(ns);
        drop(info);
    }
}

/// `crt_iv_fetch`: the completion runs (with the error) on every failure after the key check,
/// and the error is also returned, as upstream.
///
/// # Safety
/// `key` NULL or a valid iov.
pub unsafe fn fetch(h: crt_iv_namespace_t, class_id: u32, key: *mut crt_iv_key_t, shortcut: u32, comp_cb: crt_iv_comp_cb_t, arg: *mut c_void) -> i32 {
    if key.is_null() {
        return DER_INVAL;
    }
    let p = get(h);
    if p.is_null() {
        return DER_NONEXIST;
    }
    // SAFETY: referenced by get.
    let ns = unsafe { &*p };
    let Some(ops) = ns.ops(class_id) else {
        // SAFETY: get's reference.
        unsafe { decref(p) };
        return DER_INVAL;
    };
    let mut value = zero_sgl();
    let mut user_priv: *mut c_void = ptr::null_mut();
    let mut put_needed = false;
    // SAFETY (the block): the caller's key; callbacks get valid pointers; p is referenced.
    let rc = 'exit: {
        let grp_ver = ns.grp.version();
        let mut root: d_rank_t = 0;
        let Some(hash) = ops.ivo_on_hash else { break 'exit DER_INVAL };
        let rc = unsafe { hash(h, key, &mut root) };
        if rc != 0 {
            break 'exit rc;
        }
        let rc = unsafe { on_get(ops, h, key, PERM_READ, &mut value, &mut user_priv) };
        if rc != 0 {
            break 'exit rc;
        }
        let rc = unsafe { on_fetch(ops, h, key, 0, &mut value, user_priv) };
        if rc != DER_IVCB_FORWARD {
            // Here (or an error): reported now, not at the exit.
            unsafe {
                if rc == 0 {
                    comp(comp_cb, h, class_id, key, &mut value, 0, arg);
                } else {
                    comp(comp_cb, h, class_id, key, ptr::null_mut(), rc, arg);
                }
                on_put(ops, h, &mut value, user_priv);
                decref(p);
            }
            return rc;
        }
        unsafe { on_put(ops, h, &mut value, user_priv) };
        put_needed = false;
        let rc = unsafe { on_get(ops, h, key, PERM_WRITE, &mut value, &mut user_priv) };
        if rc != 0 {
            break 'exit rc;
        }
        put_needed = true;
        let next = match ns.shortcut_path(root, shortcut) {
            Ok(n) => n,
            Err(e) => break 'exit e,
        };
        ns.addref();
        let info = Box::new(FetchInfo {
            comp_cb,
            comp_arg: arg,
            bulk: ptr::null_mut(),
            child_rpc: ptr::null_mut(),
            child_bulk: ptr::null_mut(),
            key: unsafe { *key },
            value,
            ns: p,
            class_id,
            user_priv,
        });
        match unsafe { ivf_rpc_issue(next, root, grp_ver, info) } {
            Ok(()) => 0,
            Err((rc, info)) => {
                unsafe { decref(info.ns) };
                rc
            }
        }
    };
    // SAFETY: as above.
    unsafe {
        if rc != 0 {
            comp(comp_cb, h, class_id, key, ptr::null_mut(), rc, arg);
            if put_needed {
                on_put(ops, h, &mut value, user_priv);
            }
        }
        decref(p);
    }
    rc
}

/// Upstream `crt_hdlr_iv_fetch`: checks, then `ivo_pre_fetch` (which calls back) or the fetch.
///
/// # Safety
/// `rpc` is a live server IV_FETCH (the RPC layer's call).
pub unsafe extern "C" fn hdlr_iv_fetch(rpc: *mut crt_rpc_t) {
    // SAFETY: the contract: input and output are this format's.
    unsafe {
        let input = req_get::<FetchIn>(rpc);
        let out = reply_get::<FetchOut>(rpc);
        let ns = lookup((*input).ifi_ivns_group, (*input).ifi_ivns_id);
        let rc = 'err: {
            if ns.is_null() {
                break 'err DER_NONEXIST;
            }
            if (*ns).grp.version() != (*input).ifi_grp_ver {
                break 'err DER_GRPVER;
            }
            let Some(ops) = (*ns).ops((*input).ifi_class_id as u32) else { break 'err DER_INVAL };
            // Both held until fetch_aux is done with them.
            crt_req_addref(rpc);
            (*ns).addref();
            match ops.ivo_pre_fetch {
                Some(pre) => pre(ns as crt_iv_namespace_t, &mut (*input).ifi_key, Some(fetch_aux), rpc as *mut c_void),
                None => fetch_aux(rpc as *mut c_void),
            }
            decref(ns);
            return;
        };
        (*out).ifo_rc = rc;
        reply(rpc);
        decref(ns);
    }
}

/// Upstream `crt_hdlr_iv_fetch_aux`: the value here, or forwarded towards the root.
unsafe extern "C" fn fetch_aux(arg: *mut c_void) {
    let rpc = arg as *mut crt_rpc_t;
    // SAFETY: the handler's reference on rpc (and on the namespace) is held for this call.
    unsafe {
        let input = req_get::<FetchIn>(rpc);
        let out = reply_get::<FetchOut>(rpc);
        let ns = lookup((*input).ifi_ivns_group, (*input).ifi_ivns_id);
        let h = ns as crt_iv_namespace_t;
        let mut value = zero_sgl();
        let mut user_priv: *mut c_void = ptr::null_mut();
        let mut put_needed = false;
        let mut ops_o: Option<&crt_iv_ops> = None;
        let key = &mut (*input).ifi_key as *mut d_iov_t;
        let rc = 'reply: {
            if ns.is_null() {
                break 'reply DER_NONEXIST;
            }
            // the handler's reference keeps it; this one is dropped at the end
            let grp_ver_entry = (*ns).grp.version();
            decref(ns);
            if grp_ver_entry != (*input).ifi_grp_ver {
                break 'reply DER_GRPVER;
            }
            let Some(ops) = (*ns).ops((*input).ifi_class_id as u32) else { break 'reply DER_INVAL };
            ops_o = Some(ops);
            let rc = on_get(ops, h, key, PERM_READ, &mut value, &mut user_priv);
            if rc != 0 {
                break 'reply rc;
            }
            put_needed = true;
            let rc = on_fetch(ops, h, key, 0, &mut value, user_priv);
            if rc == 0 {
                if !(*input).ifi_value_bulk.is_null() {
                    let rc = ivf_bulk_transfer(ns, (*input).ifi_class_id as u32, &mut value, (*input).ifi_value_bulk, rpc, user_priv);
                    if rc != 0 {
                        break 'reply rc;
                    }
                } else {
                    (*out).ifo_sgl = value;
                    break 'reply 0;
                }
            } else if rc == DER_IVCB_FORWARD {
                let root = (*input).ifi_root_node;
                if (*ns).self_rank() == root {
                    break 'reply DER_INVAL; // the root may not forward
                }
                on_put(ops, h, &mut value, user_priv);
                put_needed = false;
                value = zero_sgl();
                let rc = on_get(ops, h, key, PERM_WRITE, &mut value, &mut user_priv);
                if rc != 0 {
                    break 'reply rc;
                }
                put_needed = true;
                let grp_ver_current = (*ns).grp.version();
                let next = match (*ns).parent(root) {
                    Ok(n) => n,
                    Err(_) => break 'reply DER_OOG,
                };
                if grp_ver_entry != grp_ver_current {
                    break 'reply DER_GRPVER;
                }
                crt_req_addref(rpc);
                (*ns).addref();
                let info = Box::new(FetchInfo {
                    comp_cb: None,
                    comp_arg: ptr::null_mut(),
                    bulk: ptr::null_mut(),
                    child_rpc: rpc,
                    child_bulk: (*input).ifi_value_bulk,
                    key: *key,
                    value,
                    ns,
                    class_id: (*input).ifi_class_id as u32,
                    user_priv,
                });
                if let Err((rc, info)) = ivf_rpc_issue(next, root, grp_ver_entry, info) {
                    crt_req_decref(rpc);
                    decref(info.ns);
                    break 'reply rc;
                }
            } else {
                break 'reply rc;
            }
            crt_req_decref(rpc);
            decref(ns);
            return;
        };
        (*out).ifo_rc = rc;
        reply(rpc);
        (*out).ifo_sgl = zero_sgl();
        if put_needed {
            if let Some(ops) = ops_o {
                on_put(ops, h, &mut value, user_priv);
            }
        }
        decref(ns);
        crt_req_decref(rpc);
    }
}

// ---------------------------------------------------------------------------------------------
// Sync (the collective after an update or invalidate).

/// Upstream `crt_hdlr_iv_sync`.
///
/// # Safety
/// `rpc` is a live server IV_SYNC.
pub unsafe extern "C" fn hdlr_iv_sync(rpc: *mut crt_rpc_t) {
    // SAFETY: the contract.
    unsafe {
        let input = req_get::<SyncIn>(rpc);
        let out = reply_get::<SyncOut>(rpc);
        // A namespace not attached here is -DER_NONEXIST (upstream asserts instead when the
        // sync carries CRT_IV_SYNC_FLAG_NS_ERRORS_FATAL).
        let ns = lookup((*input).ivs_ivns_group, (*input).ivs_ivns_id);
        let rc = 'err: {
            if ns.is_null() {
                break 'err DER_NONEXIST;
            }
            if (*ns).grp.version() != (*input).ivs_grp_ver {
                break 'err DER_GRPVER;
            }
            let Some(ops) = (*ns).ops((*input).ivs_class_id) else { break 'err DER_INVAL };
            crt_req_addref(rpc);
            match ops.ivo_pre_refresh {
                Some(pre) => pre(ns as crt_iv_namespace_t, &mut (*input).ivs_key, Some(sync_aux), rpc as *mut c_void),
                None => sync_aux(rpc as *mut c_void),
            }
            decref(ns);
            return;
        };
        (*out).ivs_rc = rc;
        reply(rpc);
        decref(ns);
    }
}

/// Upstream `crt_hdlr_iv_sync_aux`: invalidate, store or notify.
unsafe extern "C" fn sync_aux(arg: *mut c_void) {
    let rpc = arg as *mut crt_rpc_t;
    // SAFETY: the handler's reference on rpc is held for this call.
    unsafe {
        let input = req_get::<SyncIn>(rpc);
        let out = reply_get::<SyncOut>(rpc);
        let sync = sync_of(&(*input).ivs_sync_type);
        let ns = lookup((*input).ivs_ivns_group, (*input).ivs_ivns_id);
        let h = ns as crt_iv_namespace_t;
        let key = &mut (*input).ivs_key as *mut d_iov_t;
        let mut user_priv: *mut c_void = ptr::null_mut();
        let mut need_put = false;
        let mut ops_o: Option<&crt_iv_ops> = None;
        let rc = 'exit: {
            if ns.is_null() {
                break 'exit DER_NONEXIST;
            }
            if (*ns).grp.version() != (*input).ivs_grp_ver {
                break 'exit DER_GRPVER;
            }
            let Some(ops) = (*ns).ops((*input).ivs_class_id) else { break 'exit DER_INVAL };
            ops_o = Some(ops);
            if (*rpc).cr_co_bulk_hdl.is_null() && (*input).ivs_sync_sgl.sg_nr == 0 {
                break 'exit on_refresh(ops, h, key, ptr::null_mut(), true, 0, ptr::null_mut());
            }
            match sync.ivs_event {
                EVENT_UPDATE => {
                    let mut tmp = zero_sgl();
                    let rc = on_get(ops, h, key, PERM_READ | NO_ALLOC, &mut tmp, &mut user_priv);
                    if rc != 0 {
                        break 'exit rc;
                    }
                    need_put = true;
                    if (*input).ivs_sync_sgl.sg_nr > 0 {
                        tmp = (*input).ivs_sync_sgl;
                    }
                    let rc = on_refresh(ops, h, key, &mut tmp, false, 0, user_priv);
                    if rc != 0 {
                        break 'exit rc;
                    }
                    on_put(ops, h, ptr::null_mut(), user_priv);
                    need_put = false;
                    0
                }
                EVENT_NOTIFY => on_refresh(ops, h, key, ptr::null_mut(), false, 0, user_priv),
                _ => DER_INVAL,
            }
        };
        if need_put {
            if let Some(ops) = ops_o {
                on_put(ops, h, ptr::null_mut(), user_priv);
            }
        }
        (*out).ivs_rc = rc;
        reply(rpc);
        decref(ns);
        crt_req_decref(rpc);
    }
}

/// Upstream `crt_iv_sync_corpc_aggregate`: the first error of the subtree.
///
/// # Safety
/// Both RPCs live IV_SYNCs.
pub unsafe extern "C" fn sync_corpc_aggregate(source: *mut crt_rpc_t, result: *mut crt_rpc_t, _arg: *mut c_void) -> c_int {
    // SAFETY: the contract.
    unsafe {
        let s = reply_get::<SyncOut>(source);
        let r = reply_get::<SyncOut>(result);
        if s.is_null() || r.is_null() {
            return DER_INVAL;
        }
        if (*r).ivs_rc == 0 && (*s).ivs_rc != 0 {
            (*r).ivs_rc = (*s).ivs_rc;
        }
    }
    0
}

/// Upstream `crt_iv_sync_corpc_pre_forward`: the class's `ivo_pre_sync` before forwarding.
///
/// # Safety
/// `rpc` a live IV_SYNC.
pub unsafe extern "C" fn sync_corpc_pre_forward(rpc: *mut crt_rpc_t, _arg: *mut c_void) -> c_int {
    // SAFETY: the contract.
    unsafe {
        let input = req_get::<SyncIn>(rpc);
        if input.is_null() {
            return DER_INVAL;
        }
        let ns = lookup((*input).ivs_ivns_group, (*input).ivs_ivns_id);
        if ns.is_null() {
            return DER_NONEXIST;
        }
        let h = ns as crt_iv_namespace_t;
        let mut rc = 0;
        if let Some(ops) = (*ns).ops((*input).ivs_class_id) {
            if let Some(pre_sync) = ops.ivo_pre_sync {
                let key = &mut (*input).ivs_key as *mut d_iov_t;
                let mut value = zero_sgl();
                let mut user_priv: *mut c_void = ptr::null_mut();
                rc = on_get(ops, h, key, PERM_READ, &mut value, &mut user_priv);
                if rc == 0 {
                    let mut tmp = if (*input).ivs_sync_sgl.sg_nr > 0 { (*input).ivs_sync_sgl } else { zero_sgl() };
                    rc = pre_sync(h, key, 0, &mut tmp, user_priv);
                    on_put(ops, h, &mut value, user_priv);
                }
            }
        }
        decref(ns);
        rc
    }
}

/// Upstream `struct iv_sync_cb_info`.
struct SyncInfo {
    ns: *mut Ns,
    class_id: u32,
    /// EAGER only: a libc copy of the key for the completion, freed through the iov after it
    /// (a completion that frees and NULLs `iov_buf` itself, as upstream's tests do, is fine).
    key: d_iov_t,
    value: d_sg_list_t,
    do_callback: bool,
    comp_cb: crt_iv_comp_cb_t,
    cb_arg: *mut c_void,
    update_rc: i32,
    user_priv: *mut c_void,
    sync_type: crt_iv_sync_t,
}

/// Upstream `crt_ivsync_rpc_issue`: the local refresh, then the collective to every other rank
/// by the sync mode. Completes the update (now, or from the collective's reply for EAGER).
///
/// # Safety
/// `ns` referenced; `key` valid; `value` NULL (invalidate) or valid; `user_priv` from on_get.
#[allow(clippy::too_many_arguments)]
unsafe fn ivsync_rpc_issue(
    ns: *mut Ns,
    class_id: u32,
    key: *mut crt_iv_key_t,
    value: *mut d_sg_list_t,
    sync: crt_iv_sync_t,
    comp_cb: crt_iv_comp_cb_t,
    cb_arg: *mut c_void,
    user_priv: *mut c_void,
    mut update_rc: i32,
) -> i32 {
    // SAFETY: the contract.
    let nsr = unsafe { &*ns };
    let h = ns as crt_iv_namespace_t;
    let Some(ops) = nsr.ops(class_id) else { return DER_INVAL };
    let mut delay = false;
    let mut corpc: *mut crt_rpc_t = ptr::null_mut();
    // SAFETY (the block): the contract; the request body is ours until sent.
    let rc = 'exit: {
        match sync.ivs_mode {
            SYNC_NONE => break 'exit 0,
            SYNC_EAGER => delay = true,
            SYNC_LAZY => delay = false,
            _ => break 'exit DER_INVAL,
        }
        let mut me = nsr.self_rank();
        // As upstream, the local refresh's result is not checked.
        match sync.ivs_event {
            EVENT_UPDATE => unsafe { on_refresh(ops, h, key, value, value.is_null(), 0, user_priv) },
            EVENT_NOTIFY => unsafe { on_refresh(ops, h, key, ptr::null_mut(), value.is_null(), 0, user_priv) },
            _ => break 'exit DER_INVAL,
        };
        let mut excluded = d_rank_list_t { rl_ranks: &mut me, rl_nr: 1 };
        let grp = match nsr.grp {
            Grp::Primary => ptr::null_mut(),
            _ => nsr.grp_handle,
        };
        let rc = unsafe { crt_corpc_req_create(nsr.ctx, grp, &mut excluded, CRT_OPC_IV_SYNC, ptr::null_mut(), ptr::null_mut(), 0, nsr.topo, &mut corpc) };
        if rc != 0 {
            break 'exit rc;
        }
        let mut isc = Box::new(SyncInfo {
            ns: ptr::null_mut(),
            class_id,
            key: d_iov_t { iov_buf: ptr::null_mut(), iov_buf_len: 0, iov_len: 0 },
            value: zero_sgl(),
            do_callback: delay,
            comp_cb,
            cb_arg,
            update_rc,
            user_priv,
            sync_type: sync,
        });
        unsafe {
            let input = req_get::<SyncIn>(corpc);
            (*input).ivs_ivns_id = nsr.nsid;
            (*input).ivs_ivns_group = nsr.gname.as_ptr() as *mut _;
            (*input).ivs_grp_ver = nsr.grp.version();
            // the caller's buffer, as upstream (the request is encoded before the call returns)
            (*input).ivs_key = d_iov_t { iov_buf: (*key).iov_buf, iov_buf_len: (*key).iov_buf_len, iov_len: (*key).iov_buf_len };
            (*input).ivs_sync_type = d_iov_t {
                iov_buf: &mut isc.sync_type as *mut crt_iv_sync_t as *mut c_void,
                iov_buf_len: std::mem::size_of::<crt_iv_sync_t>(),
                iov_len: std::mem::size_of::<crt_iv_sync_t>(),
            };
            if !value.is_null() {
                (*input).ivs_sync_sgl = *value;
                isc.value = *value;
            }
            (*input).ivs_class_id = class_id;
        }
        if delay {
            nsr.addref();
            isc.ns = ns;
            // SAFETY: the caller's key holds iov_buf_len bytes.
            unsafe {
                let n = (*key).iov_buf_len;
                let b = libc::malloc(n.max(1));
                if b.is_null() {
                    decref(ns);
                    break 'exit DER_NOMEM;
                }
                if n > 0 && !(*key).iov_buf.is_null() {
                    ptr::copy_nonoverlapping((*key).iov_buf as *const u8, b as *mut u8, n);
                }
                isc.key = d_iov_t { iov_buf: b, iov_buf_len: n, iov_len: (*key).iov_len };
            }
        }
        let raw = Box::into_raw(isc);
        let rc = unsafe { crt_req_send(corpc, Some(handle_response_cb), raw as *mut c_void) };
        if rc != 0 {
            // SAFETY: not consumed by a failed send.
            let isc = unsafe { Box::from_raw(raw) };
            unsafe {
                libc::free(isc.key.iov_buf);
                decref(isc.ns);
            }
            break 'exit rc;
        }
        0
    };
    // SAFETY: the contract.
    unsafe {
        if !delay || rc != 0 {
            if rc != 0 {
                update_rc = rc;
            }
            comp(comp_cb, h, class_id, key, value, update_rc, cb_arg);
            if rc == 0 {
                on_put(ops, h, ptr::null_mut(), user_priv);
            }
        }
    }
    rc
}

/// Upstream `handle_ivsync_response`.
unsafe fn ivsync_response(cb: &crt_cb_info) {
    // SAFETY: the arg is the SyncInfo given at send; the RPC is live through the callback.
    unsafe {
        let mut isc = Box::from_raw(cb.cci_arg as *mut SyncInfo);
        let out = reply_get::<SyncOut>(cb.cci_rpc);
        if isc.do_callback {
            let orc = if cb.cci_rc == 0 && !out.is_null() { (*out).ivs_rc } else { 0 };
            if cb.cci_rc != 0 || orc != 0 {
                isc.update_rc = if cb.cci_rc != 0 { cb.cci_rc } else { orc };
            }
            comp(isc.comp_cb, isc.ns as crt_iv_namespace_t, isc.class_id, &mut isc.key, &mut isc.value, isc.update_rc, isc.cb_arg);
            // whatever the completion left there (it may have freed and cleared it)
            libc::free(isc.key.iov_buf);
        }
        if !isc.ns.is_null() {
            if let Some(ops) = (*isc.ns).ops(isc.class_id) {
                on_put(ops, isc.ns as crt_iv_namespace_t, ptr::null_mut(), isc.user_priv);
            }
            decref(isc.ns);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Update and invalidate.

/// Upstream `struct update_cb_info`.
struct UpdateInfo {
    comp_cb: crt_iv_comp_cb_t,
    cb_arg: *mut c_void,
    child_rpc: *mut crt_rpc_t,
    ns: *mut Ns,
    class_id: u32,
    bulk: crt_bulk_t,
    value: d_sg_list_t,
    caller_rank: u32,
    sync_type: crt_iv_sync_t,
    user_priv: *mut c_void,
}

impl UpdateInfo {
    fn new(ns: *mut Ns, class_id: u32) -> Box<UpdateInfo> {
        Box::new(UpdateInfo {
            comp_cb: None,
            cb_arg: ptr::null_mut(),
            child_rpc: ptr::null_mut(),
            ns,
            class_id,
            bulk: ptr::null_mut(),
            value: zero_sgl(),
            caller_rank: CRT_NO_RANK,
            sync_type: crt_iv_sync_t { ivs_mode: 0, ivs_event: 0, ivs_flags: 0 },
            user_priv: ptr::null_mut(),
        })
    }
}

/// Upstream `crt_ivu_rpc_issue`: an IV_UPDATE (value NULL: invalidate) to `dest`. `Err` gives
/// `info` back.
///
/// # Safety
/// `info.ns` referenced; `key` valid; `value` NULL or valid until the reply.
unsafe fn ivu_rpc_issue(dest: u32, key: *mut crt_iv_key_t, value: *mut d_sg_list_t, sync: crt_iv_sync_t, root: u32, grp_ver: u32, mut info: Box<UpdateInfo>) -> Result<(), (i32, Box<UpdateInfo>)> {
    // SAFETY: the contract.
    let nsr = unsafe { &*info.ns };
    let mut local: crt_bulk_t = ptr::null_mut();
    // SAFETY: the contract; the request body is ours until sent.
    unsafe {
        let mut ep = crt_endpoint_t { ep_grp: ptr::null_mut(), ep_rank: nsr.grp.to_primary(dest), ep_tag: 0 };
        let mut rpc: *mut crt_rpc_t = ptr::null_mut();
        let rc = crt_req_create(nsr.ctx, &mut ep, CRT_OPC_IV_UPDATE, &mut rpc);
        if rc != 0 {
            return Err((rc, info));
        }
        let input = req_get::<UpdateIn>(rpc);
        if !value.is_null() {
            if sgl_buf_size(value) > inline_limit() as usize {
                let rc = crt_bulk_create(nsr.ctx, value, BULK_RW, &mut local);
                if rc != 0 {
                    crt_req_decref(rpc);
                    return Err((rc, info));
                }
            } else {
                (*input).ivu_iv_sgl = *value;
            }
        }
        (*input).ivu_iv_value_bulk = local;
        info.bulk = local;
        // the caller's buffer, as upstream (it lives until the update completes)
        (*input).ivu_key = d_iov_t { iov_buf: (*key).iov_buf, iov_buf_len: (*key).iov_buf_len, iov_len: (*key).iov_buf_len };
        (*input).ivu_class_id = info.class_id;
        (*input).ivu_root_node = root;
        (*input).ivu_caller_node = info.caller_rank;
        if !value.is_null() {
            info.value = *value;
        }
        (*input).ivu_ivns_id = nsr.nsid;
        (*input).ivu_ivns_group = nsr.gname.as_ptr() as *mut _;
        if grp_ver != nsr.grp.version() {
            crt_req_decref(rpc);
            crt_bulk_free(local);
            info.bulk = ptr::null_mut();
            return Err((DER_GRPVER, info));
        }
        (*input).ivu_grp_ver = grp_ver;
        info.sync_type = sync;
        (*input).ivu_sync_type = d_iov_t {
            iov_buf: &mut info.sync_type as *mut crt_iv_sync_t as *mut c_void,
            iov_buf_len: std::mem::size_of::<crt_iv_sync_t>(),
            iov_len: std::mem::size_of::<crt_iv_sync_t>(),
        };
        let raw = Box::into_raw(info);
        let rc = crt_req_send(rpc, Some(handle_response_cb), raw as *mut c_void);
        if rc != 0 {
            let mut info = Box::from_raw(raw);
            crt_bulk_free(local);
            info.bulk = ptr::null_mut();
            return Err((rc, info));
        }
    }
    Ok(())
}

/// Upstream `finalize_transfer_back`: answers the child with `rc` and releases the update.
#[allow(clippy::boxed_local)] // consumed: the update ends here
unsafe fn finalize_transfer_back(mut info: Box<UpdateInfo>, rc: i32) {
    // SAFETY: the info holds a reference on the child RPC and the namespace.
    unsafe {
        let child = info.child_rpc;
        let out = reply_get::<UpdateOut>(child);
        (*out).ivo_rc = rc as i64 as u64;
        reply(child);
        (*out).ivo_iv_sgl = zero_sgl();
        crt_bulk_free(info.bulk);
        if let Some(ops) = (*info.ns).ops(info.class_id) {
            on_put(ops, info.ns as crt_iv_namespace_t, &mut info.value, info.user_priv);
        }
        crt_req_decref(child);
        decref(info.ns);
    }
}

unsafe extern "C" fn transfer_back_done(info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: the bulk layer's live info; the arg is the UpdateInfo given to the transfer.
    unsafe {
        let info = &*info;
        finalize_transfer_back(Box::from_raw(info.bci_arg as *mut UpdateInfo), info.bci_rc);
    }
    0
}

/// Upstream `transfer_back_to_child`: a bidirectional update's value back to whoever asked
/// (the originator's completion when there is no child).
unsafe fn transfer_back_to_child(key: *mut crt_iv_key_t, mut info: Box<UpdateInfo>, update_rc: i32) -> i32 {
    // SAFETY: the info's references (namespace, child RPC) are held.
    unsafe {
        let ns = info.ns;
        let h = ns as crt_iv_namespace_t;
        let Some(ops) = (*ns).ops(info.class_id) else { return DER_INVAL };
        if info.child_rpc.is_null() {
            comp(info.comp_cb, h, info.class_id, key, &mut info.value, update_rc, info.cb_arg);
            crt_bulk_free(info.bulk);
            on_put(ops, h, ptr::null_mut(), info.user_priv);
            decref(ns);
            return 0;
        }
        let child_in = req_get::<UpdateIn>(info.child_rpc);
        if (*child_in).ivu_iv_value_bulk.is_null() {
            finalize_transfer_back(info, update_rc);
            return 0;
        }
        let mut desc = crt_bulk_desc {
            bd_rpc: info.child_rpc,
            bd_bulk_op: BULK_PUT,
            bd_remote_hdl: (*child_in).ivu_iv_value_bulk,
            bd_remote_off: 0,
            bd_local_hdl: info.bulk,
            bd_local_off: 0,
            bd_len: sgl_buf_size(&info.value),
        };
        let raw = Box::into_raw(info);
        let rc = crt_bulk_transfer(&mut desc, Some(transfer_back_done), raw as *mut c_void, ptr::null_mut());
        if rc != 0 {
            finalize_transfer_back(Box::from_raw(raw), rc);
        }
        rc
    }
}

/// Upstream `handle_ivupdate_response`.
unsafe fn ivupdate_response(cb: &crt_cb_info) {
    // SAFETY: the arg is the UpdateInfo given at send; the RPC is live through the callback.
    unsafe {
        let mut info = Box::from_raw(cb.cci_arg as *mut UpdateInfo);
        let rpc = cb.cci_rpc;
        let input = req_get::<UpdateIn>(rpc);
        let out = reply_get::<UpdateOut>(rpc);
        let ns = info.ns;
        let h = ns as crt_iv_namespace_t;
        let Some(ops) = (*ns).ops(info.class_id) else { return };
        let out_rc = if cb.cci_rc == 0 { (*out).ivo_rc as i32 } else { 0 };
        let rc = if cb.cci_rc != 0 { cb.cci_rc } else { out_rc };
        let key = &mut (*input).ivu_key as *mut d_iov_t;
        if info.sync_type.ivs_flags & SYNC_BIDIRECTIONAL != 0 {
            if info.bulk.is_null() && cb.cci_rc == 0 {
                sgl_buf_copy(&mut info.value, &(*out).ivo_iv_sgl);
            }
            on_refresh(ops, h, key, &mut info.value, false, rc, info.user_priv);
            if (*input).ivu_iv_value_bulk.is_null() && !info.child_rpc.is_null() {
                let child_out = reply_get::<UpdateOut>(info.child_rpc);
                (*child_out).ivo_iv_sgl = info.value;
            }
            transfer_back_to_child(key, info, rc);
            return;
        }
        if !info.child_rpc.is_null() {
            let child = info.child_rpc;
            let child_out = reply_get::<UpdateOut>(child);
            crt_bulk_free(info.bulk);
            on_put(ops, h, &mut info.value, info.user_priv);
            (*child_out).ivo_rc = if cb.cci_rc != 0 { cb.cci_rc as i64 as u64 } else { (*out).ivo_rc };
            reply(child);
            crt_req_decref(child);
        } else {
            let tmp: *mut d_sg_list_t = if info.value.sg_nr == 0 { ptr::null_mut() } else { &mut info.value };
            let rc = ivsync_rpc_issue(ns, info.class_id, key, tmp, info.sync_type, info.comp_cb, info.cb_arg, info.user_priv, rc);
            crt_bulk_free(info.bulk);
            if rc != 0 {
                on_put(ops, h, tmp, info.user_priv);
            }
        }
        decref(ns);
    }
}

/// Upstream `crt_hdlr_iv_update`.
///
/// # Safety
/// `rpc` is a live server IV_UPDATE.
pub unsafe extern "C" fn hdlr_iv_update(rpc: *mut crt_rpc_t) {
    // SAFETY: the contract.
    unsafe {
        let input = req_get::<UpdateIn>(rpc);
        let out = reply_get::<UpdateOut>(rpc);
        let ns = lookup((*input).ivu_ivns_group, (*input).ivu_ivns_id);
        let h = ns as crt_iv_namespace_t;
        let key = &mut (*input).ivu_key as *mut d_iov_t;
        let mut value = zero_sgl();
        let mut user_priv: *mut c_void = ptr::null_mut();
        let mut put_needed = false;
        let mut ops_o: Option<&crt_iv_ops> = None;
        let rc = 'err: {
            if ns.is_null() {
                break 'err DER_NONEXIST;
            }
            let grp_ver_entry = (*ns).grp.version();
            if grp_ver_entry != (*input).ivu_grp_ver {
                break 'err DER_GRPVER;
            }
            let Some(ops) = (*ns).ops((*input).ivu_class_id) else { break 'err DER_INVAL };
            ops_o = Some(ops);
            if (*input).ivu_iv_value_bulk.is_null() && (*input).ivu_iv_sgl.sg_nr == 0 {
                // invalidate
                let rc = on_refresh(ops, h, key, ptr::null_mut(), true, 0, ptr::null_mut());
                if rc == DER_IVCB_FORWARD {
                    let Ok(next) = (*ns).parent((*input).ivu_root_node) else { break 'err DER_OOG };
                    if grp_ver_entry != (*ns).grp.version() {
                        break 'err DER_GRPVER;
                    }
                    let sync = sync_of(&(*input).ivu_sync_type);
                    let mut info = UpdateInfo::new(ns, (*input).ivu_class_id);
                    crt_req_addref(rpc);
                    (*ns).addref();
                    info.child_rpc = rpc;
                    info.caller_rank = (*input).ivu_caller_node;
                    info.sync_type = sync;
                    if let Err((rc, info)) = ivu_rpc_issue(next, key, ptr::null_mut(), sync, (*input).ivu_root_node, grp_ver_entry, info) {
                        crt_req_decref(rpc);
                        decref(info.ns);
                        break 'err rc;
                    }
                } else if rc == 0 {
                    (*out).ivo_rc = 0;
                    reply(rpc);
                } else {
                    break 'err rc;
                }
                decref(ns);
                return;
            }
            if (*input).ivu_iv_value_bulk.is_null() {
                update_inline(rpc, ns);
                decref(ns);
                return;
            }
            let rc = on_get(ops, h, key, PERM_WRITE, &mut value, &mut user_priv);
            if rc != 0 {
                break 'err rc;
            }
            put_needed = true;
            let size = sgl_buf_size(&value);
            let mut local: crt_bulk_t = ptr::null_mut();
            let rc = crt_bulk_create((*rpc).cr_ctx, &mut value, BULK_RW, &mut local);
            if rc != 0 {
                break 'err rc;
            }
            crt_req_addref(rpc);
            let mut desc = crt_bulk_desc {
                bd_rpc: rpc,
                bd_bulk_op: BULK_GET,
                bd_remote_hdl: (*input).ivu_iv_value_bulk,
                bd_remote_off: 0,
                bd_local_hdl: local,
                bd_local_off: 0,
                bd_len: size,
            };
            (*ns).addref();
            let buc = Box::into_raw(Box::new(BulkUpdateInfo { ns, input, bulk: local, value, user_priv }));
            let rc = crt_bulk_transfer(&mut desc, Some(bulk_update_done), buc as *mut c_void, ptr::null_mut());
            if rc != 0 {
                crt_bulk_free(local);
                crt_req_decref(rpc);
                let b = Box::from_raw(buc);
                decref(b.ns);
                break 'err rc;
            }
            decref(ns);
            return;
        };
        (*out).ivo_rc = rc as i64 as u64;
        reply(rpc);
        if put_needed {
            if let Some(ops) = ops_o {
                on_put(ops, h, &mut value, user_priv);
            }
        }
        decref(ns);
    }
}

/// Upstream `struct bulk_update_cb_info`.
struct BulkUpdateInfo {
    ns: *mut Ns,
    input: *mut UpdateIn,
    bulk: crt_bulk_t,
    value: d_sg_list_t,
    user_priv: *mut c_void,
}

/// Upstream `bulk_update_transfer_done`: the value arrived; `ivo_pre_update` (which calls
/// back) or the update.
unsafe extern "C" fn bulk_update_done(info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: the bulk layer's live info; the arg is the BulkUpdateInfo given above; the RPC is
    // referenced by it.
    unsafe {
        let info = &*info;
        let buc = info.bci_arg as *mut BulkUpdateInfo;
        let desc = *info.bci_bulk_desc;
        let rpc = desc.bd_rpc;
        let ns = (*buc).ns;
        let input = (*buc).input;
        let out = reply_get::<UpdateOut>(rpc);
        let ops = (*ns).ops((*input).ivu_class_id);
        if info.bci_rc == 0 {
            if let Some(pre) = ops.and_then(|o| o.ivo_pre_update) {
                let dup = Box::into_raw(Box::new(BulkDone { desc, info: crt_bulk_cb_info { bci_bulk_desc: ptr::null_mut(), bci_arg: buc as *mut c_void, bci_rc: 0, bci_complete_cb: ptr::null_mut() } }));
                (*dup).info.bci_bulk_desc = &mut (*dup).desc;
                pre(ns as crt_iv_namespace_t, &mut (*input).ivu_key, Some(bulk_update_aux_wrapper), dup as *mut c_void);
                return 0;
            }
            bulk_update_aux(info);
            let b = Box::from_raw(buc);
            decref(b.ns);
            return 0;
        }
        (*out).ivo_rc = info.bci_rc as i64 as u64;
        reply(rpc);
        crt_bulk_free((*buc).bulk);
        crt_req_decref(rpc);
        let b = Box::from_raw(buc);
        decref(b.ns);
        info.bci_rc
    }
}

/// A bulk completion kept for `ivo_pre_update`'s callback (upstream dups both).
struct BulkDone {
    desc: crt_bulk_desc,
    info: crt_bulk_cb_info,
}

unsafe extern "C" fn bulk_update_aux_wrapper(arg: *mut c_void) {
    // SAFETY: the BulkDone given to ivo_pre_update.
    unsafe {
        let d = Box::from_raw(arg as *mut BulkDone);
        bulk_update_aux(&d.info);
        let b = Box::from_raw(d.info.bci_arg as *mut BulkUpdateInfo);
        decref(b.ns);
    }
}

/// Upstream `bulk_update_transfer_done_aux`: applies the value, then forwards, transfers back
/// or answers.
unsafe fn bulk_update_aux(info: &crt_bulk_cb_info) {
    // SAFETY: as bulk_update_done.
    unsafe {
        let buc = &mut *(info.bci_arg as *mut BulkUpdateInfo);
        let input = buc.input;
        let ns = buc.ns;
        let h = ns as crt_iv_namespace_t;
        let rpc = (*info.bci_bulk_desc).bd_rpc;
        let out = reply_get::<UpdateOut>(rpc);
        let Some(ops) = (*ns).ops((*input).ivu_class_id) else { return };
        let key = &mut (*input).ivu_key as *mut d_iov_t;
        let mut uci: Option<Box<UpdateInfo>> = None;
        let rc = 'send_error: {
            if info.bci_rc != 0 {
                break 'send_error info.bci_rc;
            }
            let update_rc = on_update(ops, h, key, 0, &mut buc.value, buc.user_priv);
            let sync = sync_of(&(*input).ivu_sync_type);
            let mut u = UpdateInfo::new(ns, (*input).ivu_class_id);
            (*ns).addref();
            u.child_rpc = rpc;
            u.caller_rank = (*input).ivu_caller_node;
            u.sync_type = sync;
            u.user_priv = buc.user_priv;
            u.value = buc.value;
            u.bulk = buc.bulk;
            if update_rc == DER_IVCB_FORWARD {
                let grp_ver = (*ns).grp.version();
                let Ok(next) = (*ns).parent((*input).ivu_root_node) else {
                    uci = Some(u);
                    break 'send_error DER_OOG;
                };
                if let Err((rc, u)) = ivu_rpc_issue(next, key, &mut buc.value, sync, (*input).ivu_root_node, grp_ver, u) {
                    uci = Some(u);
                    break 'send_error rc;
                }
                crt_bulk_free(buc.bulk);
                return;
            } else if update_rc == 0 {
                if sync.ivs_flags & SYNC_BIDIRECTIONAL != 0 {
                    transfer_back_to_child(key, u, update_rc);
                    return;
                }
                let rc = crt_bulk_free(buc.bulk);
                (*out).ivo_rc = rc as i64 as u64;
                on_put(ops, h, &mut buc.value, buc.user_priv);
                reply(rpc);
                crt_req_decref(rpc);
                decref(u.ns);
                return;
            }
            uci = Some(u);
            update_rc
        };
        (*out).ivo_rc = rc as i64 as u64;
        crt_bulk_free(buc.bulk);
        on_put(ops, h, &mut buc.value, buc.user_priv);
        reply(rpc);
        crt_req_decref(rpc);
        if let Some(u) = uci {
            decref(u.ns);
        }
    }
}

/// Upstream `crt_iv_update_inline_hdlr`: the value came in the request.
unsafe fn update_inline(rpc: *mut crt_rpc_t, ns: *mut Ns) {
    // SAFETY: a live server IV_UPDATE; ns referenced by the caller.
    unsafe {
        let input = req_get::<UpdateIn>(rpc);
        let out = reply_get::<UpdateOut>(rpc);
        let h = ns as crt_iv_namespace_t;
        let Some(ops) = (*ns).ops((*input).ivu_class_id) else { return };
        let key = &mut (*input).ivu_key as *mut d_iov_t;
        let mut value = zero_sgl();
        let mut user_priv: *mut c_void = ptr::null_mut();
        let rc = on_get(ops, h, key, PERM_WRITE, &mut value, &mut user_priv);
        if rc != 0 {
            (*out).ivo_rc = rc as i64 as u64;
            reply(rpc);
            return;
        }
        sgl_buf_copy(&mut value, &(*input).ivu_iv_sgl);
        let rc = on_update(ops, h, key, 0, &mut value, user_priv);
        let sync = sync_of(&(*input).ivu_sync_type);
        let rc = 'put_error: {
            if rc == DER_IVCB_FORWARD || (rc == 0 && sync.ivs_flags & SYNC_BIDIRECTIONAL != 0) {
                let mut u = UpdateInfo::new(ns, (*input).ivu_class_id);
                (*ns).addref();
                u.child_rpc = rpc;
                u.caller_rank = (*input).ivu_caller_node;
                u.sync_type = sync;
                u.user_priv = user_priv;
                u.value = value;
                if rc == DER_IVCB_FORWARD {
                    let grp_ver = (*ns).grp.version();
                    let Ok(next) = (*ns).parent((*input).ivu_root_node) else {
                        decref(ns);
                        break 'put_error DER_OOG;
                    };
                    if let Err((rc, _u)) = ivu_rpc_issue(next, key, &mut value, sync, (*input).ivu_root_node, grp_ver, u) {
                        decref(ns);
                        break 'put_error rc;
                    }
                    crt_req_addref(rpc);
                } else {
                    (*out).ivo_iv_sgl = value;
                    crt_req_addref(rpc);
                    transfer_back_to_child(key, u, rc);
                }
                return;
            } else if rc == 0 {
                (*out).ivo_rc = 0;
                reply(rpc);
                on_put(ops, h, &mut value, user_priv);
                return;
            }
            rc
        };
        on_put(ops, h, &mut value, user_priv);
        (*out).ivo_rc = rc as i64 as u64;
        reply(rpc);
    }
}

/// Upstream `crt_iv_update_internal` (value NULL: invalidate).
///
/// # Safety
/// `key` valid (NULL: -DER_INVAL); `value` NULL or valid.
#[allow(clippy::too_many_arguments)]
pub unsafe fn update_internal(
    h: crt_iv_namespace_t,
    class_id: u32,
    key: *mut crt_iv_key_t,
    value: *mut d_sg_list_t,
    shortcut: u32,
    sync: crt_iv_sync_t,
    comp_cb: crt_iv_comp_cb_t,
    cb_arg: *mut c_void,
) -> i32 {
    // Bidirectional sync only with mode NONE and the UPDATE event.
    if sync.ivs_flags & SYNC_BIDIRECTIONAL != 0 && (sync.ivs_mode != SYNC_NONE || sync.ivs_event != EVENT_UPDATE) {
        return DER_INVAL;
    }
    let p = get(h);
    if p.is_null() {
        return DER_NONEXIST;
    }
    // SAFETY: referenced by get.
    let ns = unsafe { &*p };
    let me = ns.self_rank();
    let rc = 'exit: {
        if me == CRT_NO_RANK {
            break 'exit DER_GRPVER;
        }
        if key.is_null() {
            break 'exit DER_INVAL;
        }
        let Some(ops) = ns.ops(class_id) else { break 'exit DER_INVAL };
        let grp_ver = ns.grp.version();
        let mut root: d_rank_t = 0;
        let Some(hash) = ops.ivo_on_hash else { break 'exit DER_INVAL };
        // SAFETY: the class's callback with the caller's key.
        let rc = unsafe { hash(h, key, &mut root) };
        if rc != 0 {
            break 'exit rc;
        }
        let mut priv_: *mut c_void = ptr::null_mut();
        // SAFETY: as above (upstream passes no value to this on_get).
        let rc = unsafe { on_get(ops, h, key, PERM_WRITE, ptr::null_mut(), &mut priv_) };
        if rc != 0 {
            break 'exit rc;
        }
        // SAFETY: callbacks with the caller's key and value.
        let rc = unsafe {
            if !value.is_null() {
                on_update(ops, h, key, u32::from(root == me), value, priv_)
            } else {
                on_refresh(ops, h, key, ptr::null_mut(), true, 0, priv_)
            }
        };
        // SAFETY (the arms): as above; p referenced.
        let rc = if rc == 0 {
            if sync.ivs_flags & SYNC_BIDIRECTIONAL != 0 {
                unsafe { comp(comp_cb, h, class_id, key, value, 0, cb_arg) }
            } else {
                let rc = unsafe { ivsync_rpc_issue(p, class_id, key, value, sync, comp_cb, cb_arg, priv_, 0) };
                if rc == 0 {
                    break 'exit 0; // the put is the sync's
                }
                rc
            }
        } else if rc == DER_IVCB_FORWARD {
            let grp_ver2 = ns.grp.version();
            match ns.shortcut_path(root, shortcut) {
                Err(e) => e,
                Ok(_) if grp_ver != grp_ver2 => DER_GRPVER,
                Ok(next) => {
                    ns.addref();
                    let mut u = UpdateInfo::new(p, class_id);
                    u.comp_cb = comp_cb;
                    u.cb_arg = cb_arg;
                    u.caller_rank = me;
                    u.user_priv = priv_;
                    match unsafe { ivu_rpc_issue(next, key, value, sync, root, grp_ver, u) } {
                        Ok(()) => break 'exit 0,
                        Err((rc, u)) => {
                            unsafe { decref(u.ns) };
                            rc
                        }
                    }
                }
            }
        } else {
            unsafe { comp(comp_cb, h, class_id, key, value, rc, cb_arg) };
            rc
        };
        // SAFETY: the on_get above.
        unsafe { on_put(ops, h, ptr::null_mut(), priv_) };
        rc
    };
    // SAFETY: get's reference.
    unsafe { decref(p) };
    rc
}

// ---------------------------------------------------------------------------------------------
// Replies to the IV RPCs this rank sent.

/// Upstream `handle_response_internal`: by opcode.
unsafe fn response_internal(cb: &crt_cb_info) {
    // SAFETY: a live completion.
    unsafe {
        match (*cb.cci_rpc).cr_opc {
            CRT_OPC_IV_FETCH => ivfetch_response(cb),
            CRT_OPC_IV_SYNC => ivsync_response(cb),
            CRT_OPC_IV_UPDATE => ivupdate_response(cb),
            _ => {}
        }
    }
}

/// A completion copied for the context's `iv_resp_cb` (upstream allocates one too).
unsafe extern "C" fn response_task(arg: *mut c_void) {
    // SAFETY: the Box given to the task below, holding a reference on its RPC.
    unsafe {
        let info = Box::from_raw(arg as *mut crt_cb_info);
        response_internal(&info);
        crt_req_decref(info.cci_rpc);
    }
}

/// Upstream `handle_response_cb`: through the context's `iv_resp_cb` if one is registered
/// (`crt_context_register_rpc_task`), else here; transport errors (timeout, exclusion,
/// cancel) are always handled here at once.
unsafe extern "C" fn handle_response_cb(cb: *const crt_cb_info) {
    // SAFETY: the RPC layer's live completion.
    unsafe {
        let cb = &*cb;
        let rc = cb.cci_rc;
        if rc != DER_TIMEDOUT && rc != DER_EXCLUDED && rc != DER_CANCELED {
            let ctx = (*cb.cci_rpc).cr_ctx as *const crate::context::Context;
            let task = ctx.as_ref().and_then(|c| c.rpc_task()).filter(|t| t.iv_resp_cb != 0);
            if let Some(t) = task {
                type Task = unsafe extern "C" fn(*mut crt_context_t, *mut c_void, Option<unsafe extern "C" fn(*mut c_void)>, *mut c_void) -> c_int;
                // SAFETY: registered as a crt_rpc_task_t.
                let f: Task = std::mem::transmute::<usize, Task>(t.iv_resp_cb);
                crt_req_addref(cb.cci_rpc);
                let copy = Box::into_raw(Box::new(crt_cb_info { cci_rpc: cb.cci_rpc, cci_arg: cb.cci_arg, cci_rc: cb.cci_rc }));
                // upstream passes the context itself as the first argument
                let r = f((*cb.cci_rpc).cr_ctx as *mut crt_context_t, copy as *mut c_void, Some(response_task), t.arg as *mut c_void);
                if r == 0 {
                    return;
                }
                drop(Box::from_raw(copy));
                crt_req_decref(cb.cci_rpc);
            }
        }
        response_internal(cb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::{Op, Proc};

    fn iov(b: &mut [u8], len: usize) -> d_iov_t {
        d_iov_t { iov_buf: b.as_mut_ptr() as *mut c_void, iov_buf_len: b.len(), iov_len: len }
    }

    #[test]
    fn opcodes_and_sizes() {
        assert_eq!(CRT_OPC_IV_FETCH, 0xF402_0000);
        assert_eq!(CRT_OPC_IV_UPDATE, 0xF402_0001);
        assert_eq!(CRT_OPC_IV_SYNC, 0xF402_0002);
        assert_eq!(std::mem::size_of::<crt_req_format>(), 32); // CQF_crt_iv_* D 32
        assert_eq!(FETCH_FMT.crf_size_in, 56);
        assert_eq!(UPDATE_FMT.crf_size_out, 24);
        assert_eq!(SYNC_FMT.crf_size_in, 88);
    }

    #[test]
    fn inline_limit_from_options() {
        // the only test touching the limit
        init_from_options(None);
        assert_eq!(inline_limit(), 19456);
        iv_init(Some((1024, 9000))); // unexpected size not above 1 KiB: unchanged
        assert_eq!(inline_limit(), 19456);
        iv_init(Some((4096, 9000)));
        assert_eq!(inline_limit(), 9000 - 1024);
        iv_init(None);
        assert_eq!(inline_limit(), 9000 - 1024);
        iv_init(Some((2048, 100))); // upstream's unsigned arithmetic
        assert_eq!(inline_limit(), 100u32.wrapping_sub(1024));
        init_from_options(Some((0, 0)));
        assert_eq!(inline_limit(), 19456);
    }

    #[test]
    fn sgl_size_and_copy() {
        let (mut a, mut b) = ([1u8; 8], [2u8; 5]);
        let mut iovs = [iov(&mut a, 8), iov(&mut b, 3)];
        let src = d_sg_list_t { sg_nr: 2, sg_nr_out: 0, sg_iovs: iovs.as_mut_ptr() };
        // SAFETY: valid lists over live buffers.
        unsafe {
            assert_eq!(sgl_buf_size(&src), 13);
            assert_eq!(sgl_buf_size(&zero_sgl()), 0);
            let (mut c, mut d) = ([0u8; 16], [0u8; 2]);
            let mut diovs = [iov(&mut c, 0), iov(&mut d, 0)];
            let mut dst = d_sg_list_t { sg_nr: 2, sg_nr_out: 0, sg_iovs: diovs.as_mut_ptr() };
            sgl_buf_copy(&mut dst, &src);
            assert_eq!((diovs[0].iov_len, diovs[0].iov_buf_len), (8, 8));
            // a destination shorter than the source (upstream asserts): what fits
            assert_eq!((diovs[1].iov_len, diovs[1].iov_buf_len), (2, 2));
            assert_eq!(&c[..9], &[1, 1, 1, 1, 1, 1, 1, 1, 0]);
            assert_eq!(d, [2, 2]);
            // nothing to copy from or to
            sgl_buf_copy(&mut dst, &zero_sgl());
            let mut z = zero_sgl();
            sgl_buf_copy(&mut z, &src);
            assert_eq!(z.sg_nr, 0);
        }
    }

    #[test]
    fn sync_type_from_the_wire() {
        let s = crt_iv_sync_t { ivs_mode: SYNC_LAZY, ivs_event: EVENT_NOTIFY, ivs_flags: SYNC_BIDIRECTIONAL };
        let mut b = [0u8; 13];
        // SAFETY: 12 bytes into a 13-byte buffer at offset 1 (unaligned on purpose).
        unsafe { ptr::write_unaligned(b.as_mut_ptr().add(1) as *mut crt_iv_sync_t, s) };
        let v = d_iov_t { iov_buf: b[1..].as_mut_ptr() as *mut c_void, iov_buf_len: 12, iov_len: 12 };
        // SAFETY: valid iovs.
        unsafe {
            let got = sync_of(&v);
            assert_eq!((got.ivs_mode, got.ivs_event, got.ivs_flags), (SYNC_LAZY, EVENT_NOTIFY, SYNC_BIDIRECTIONAL));
            let short = d_iov_t { iov_len: 11, ..v };
            assert_eq!(sync_of(&short).ivs_mode, 0);
            assert_eq!(sync_of(&zero_iov_t()).ivs_event, 0);
        }
    }

    fn zero_iov_t() -> d_iov_t {
        d_iov_t { iov_buf: ptr::null_mut(), iov_buf_len: 0, iov_len: 0 }
    }

    /// A namespace built directly (no crt_init): the registry, references and destroy.
    fn test_ns(nsid: u32, name: &str, classes: Vec<crt_iv_class>) -> crt_iv_namespace_t {
        let ns = Box::new(Ns {
            classes,
            ctx: ptr::null_mut(),
            grp: Grp::Primary,
            grp_handle: ptr::null_mut(),
            gname: CString::new(name).unwrap(),
            nsid,
            topo: 0,
            refs: AtomicI32::new(1),
            kips: Mutex::new(Vec::new()),
            user_priv: AtomicPtr::new(ptr::null_mut()),
            destroy_cb: Mutex::new((None, 0)),
        });
        let p = Box::into_raw(ns);
        lock(&REG).push(p as usize);
        p as crt_iv_namespace_t
    }

    unsafe extern "C" fn count_destroy(ivns: crt_iv_namespace_t, arg: *mut c_void) {
        // SAFETY: the test passes an AtomicUsize.
        let a = unsafe { &*(arg as *const std::sync::atomic::AtomicUsize) };
        assert!(!ivns.is_null());
        a.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn namespace_references_and_destroy() {
        let h = test_ns(77, "unit_grp_a", Vec::new());
        assert_eq!(id_get(h), Ok(77));
        let mut x = 5u8;
        assert_eq!(priv_set(h, &mut x as *mut u8 as *mut c_void), 0);
        assert_eq!(priv_get(h), Ok(&mut x as *mut u8 as *mut c_void));
        // unknown handles are refused, never dereferenced
        let bogus = 0x1000 as crt_iv_namespace_t;
        assert_eq!(id_get(bogus), Err(DER_INVAL));
        assert_eq!(priv_set(bogus, ptr::null_mut()), DER_INVAL);
        assert_eq!(namespace_destroy(bogus, None, ptr::null_mut()), 0);
        // lookup by (group, id), as an incoming request does
        let g = CString::new("unit_grp_a").unwrap();
        // SAFETY: a C string.
        let found = unsafe { lookup(g.as_ptr(), 77) };
        assert_eq!(found as crt_iv_namespace_t, h);
        // SAFETY: no such namespace / no name.
        unsafe {
            assert!(lookup(g.as_ptr(), 78).is_null());
            assert!(lookup(ptr::null(), 77).is_null());
        }
        // destroy while that reference is held: the callback waits for it
        let n = std::sync::atomic::AtomicUsize::new(0);
        let arg = &n as *const _ as *mut c_void;
        assert_eq!(namespace_destroy(h, Some(count_destroy), arg), 0);
        assert_eq!(n.load(Ordering::SeqCst), 0);
        // SAFETY: the reference lookup took.
        unsafe { decref(found) };
        assert_eq!(n.load(Ordering::SeqCst), 1);
        // gone
        assert_eq!(id_get(h), Err(DER_INVAL));
        assert_eq!(priv_get(h), Err(DER_INVAL));
        // SAFETY: a C string.
        assert!(unsafe { lookup(g.as_ptr(), 77) }.is_null());
        assert_eq!(namespace_destroy(h, Some(count_destroy), arg), 0);
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    unsafe extern "C" fn match_first_byte(_ns: crt_iv_namespace_t, a: *mut crt_iv_key_t, b: *mut crt_iv_key_t) -> bool {
        // SAFETY: two valid non-empty keys.
        unsafe { *((*a).iov_buf as *const u8) == *((*b).iov_buf as *const u8) }
    }

    #[test]
    fn keys_in_progress_match() {
        let h = test_ns(78, "unit_grp_b", Vec::new());
        // SAFETY: the handle is a live namespace.
        let ns = unsafe { &*(h as *const Ns) };
        let (mut k1, mut k2, mut k3) = ([1u8, 2, 3, 4], [1u8, 2, 3, 4], [1u8, 9, 9, 9]);
        let (i1, mut i2, mut i3) = (iov(&mut k1, 4), iov(&mut k2, 4), iov(&mut k3, 4));
        let mut kips = vec![Kip { id: 1, key: unsafe { OwnedKey::copy(&i1, 4) }, pending: VecDeque::new(), in_progress: true, refcnt: 1 }];
        let plain = crt_iv_ops { ivo_keys_match: None, ..unsafe { std::mem::zeroed() } };
        let custom = crt_iv_ops { ivo_keys_match: Some(match_first_byte), ..unsafe { std::mem::zeroed() } };
        // SAFETY: valid keys.
        unsafe {
            assert_eq!(kip_find(ns, &plain, &mut kips, &mut i2), Some(0)); // same bytes
            assert_eq!(kip_find(ns, &plain, &mut kips, &mut i3), None);
            assert_eq!(kip_find(ns, &custom, &mut kips, &mut i3), Some(0)); // the class decides
            let mut short = d_iov_t { iov_len: 3, ..i1 };
            assert_eq!(kip_find(ns, &plain, &mut kips, &mut short), None);
        }
        // the copy is independent of the caller's buffer
        // SAFETY: i1 points at k1, alive.
        unsafe { *(i1.iov_buf as *mut u8) = 7 };
        // SAFETY: valid key.
        assert_eq!(unsafe { kip_find(ns, &plain, &mut kips, &mut i2) }, Some(0));
        assert_eq!(k1[0], 7);
        assert_eq!(namespace_destroy(h, None, ptr::null_mut()), 0);
    }

    #[test]
    fn update_body_round_trip() {
        let (mut k, mut v) = (*b"key!", [9u8; 40]);
        let mut sync = crt_iv_sync_t { ivs_mode: SYNC_EAGER, ivs_event: EVENT_UPDATE, ivs_flags: 0 };
        let mut viov = [iov(&mut v, 33)];
        let grp = CString::new("g1").unwrap();
        let mut input = UpdateIn {
            ivu_ivns_id: 5,
            ivu_grp_ver: 2,
            ivu_ivns_group: grp.as_ptr() as *mut _,
            ivu_key: iov(&mut k, 4),
            ivu_sync_type: d_iov_t { iov_buf: &mut sync as *mut _ as *mut c_void, iov_buf_len: 12, iov_len: 12 },
            ivu_iv_value_bulk: ptr::null_mut(),
            ivu_iv_sgl: d_sg_list_t { sg_nr: 1, sg_nr_out: 0, sg_iovs: viov.as_mut_ptr() },
            ivu_root_node: 3,
            ivu_caller_node: 6,
            ivu_class_id: 1,
            padding: 0,
        };
        let mut buf = vec![0u8; 4096];
        let wire = {
            let mut p = Proc::new(&mut buf, Op::Encode);
            // SAFETY: the format's proc over its body.
            assert_eq!(unsafe { proc_update_in(&mut p as *mut Proc<'_> as crate::sys::crt_proc_t, &mut input as *mut _ as *mut c_void) }, 0);
            p.encoded().to_vec()
        };
        let mut back: UpdateIn = unsafe { std::mem::zeroed() };
        let mut wbuf = wire.clone();
        let mut p = Proc::new(&mut wbuf, Op::Decode);
        // SAFETY: as above.
        unsafe {
            assert_eq!(proc_update_in(&mut p as *mut Proc<'_> as crate::sys::crt_proc_t, &mut back as *mut _ as *mut c_void), 0);
            assert_eq!((back.ivu_ivns_id, back.ivu_grp_ver, back.ivu_root_node, back.ivu_caller_node, back.ivu_class_id), (5, 2, 3, 6, 1));
            assert_eq!(CStr::from_ptr(back.ivu_ivns_group).to_str().unwrap(), "g1");
            assert_eq!(std::slice::from_raw_parts(back.ivu_key.iov_buf as *const u8, back.ivu_key.iov_len), b"key!");
            let s = sync_of(&back.ivu_sync_type);
            assert_eq!((s.ivs_mode, s.ivs_event), (SYNC_EAGER, EVENT_UPDATE));
            assert!(back.ivu_iv_value_bulk.is_null());
            assert_eq!(back.ivu_iv_sgl.sg_nr, 1);
            let vi = &*back.ivu_iv_sgl.sg_iovs;
            assert_eq!(vi.iov_len, 33);
            assert_eq!(std::slice::from_raw_parts(vi.iov_buf as *const u8, 33), &[9u8; 33][..]);
            libc::free(back.ivu_iv_sgl.sg_iovs as *mut c_void);
        }
    }
}
