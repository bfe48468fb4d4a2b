//! The self-test protocol (upstream `crt_self_test_service.c` and `crt_self_test_client.c`),
//! base 0xF2000000, version 1, registered by every `crt_init`.
//!
//! - Service side (any process): OPEN_SESSION reserves a session with its buffers (and bulk
//!   handles when a direction is bulk), the seven test messages answer from them (pulling the
//!   sender's bulk, pushing into it, or replying with an iov), CLOSE_SESSION releases it.
//! - Client side (the "master" upstream's self_test tool sends START to, often itself): START
//!   opens sessions on the listed rank:tags, runs `rep_count` test messages with at most
//!   `max_inflight` in flight round-robin over them, measuring each, then closes the sessions;
//!   STATUS_REQ reports progress, and once complete pushes the latencies (`struct st_latency`
//!   each) into the requester's bulk handle and forgets the run.
//!
//! Messages travel through libcart's own C API (requests, replies, bulk), as upstream's do; the
//! C-shared bodies and callbacks make this an FFI module: each unsafe block says why it holds.
use crate::capi::{
    crt_bulk_create, crt_bulk_free, crt_bulk_get_len, crt_bulk_transfer, crt_group_lookup, crt_reply_send, crt_req_addref,
    crt_req_create, crt_req_decref, crt_req_send,
};
use crate::ctl::req_format;
use crate::register::{self, RpcFormat};
use crate::sys::{
    crt_bulk_cb_info, crt_bulk_desc, crt_bulk_t, crt_cb_info, crt_context_t, crt_endpoint_t, crt_group_t, crt_req_format,
    crt_rpc_t, d_iov_t, d_sg_list_t, st_latency, CRT_BULK_GET, CRT_BULK_PUT, CRT_BULK_RO, CRT_BULK_RW,
};
use crate::transport::der;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::mem::size_of;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

pub const CRT_OPC_ST_BASE: u32 = 0xF200_0000;
pub const CRT_PROTO_ST_VERSION: u32 = 1;

const fn opc(i: u32) -> u32 {
    register::proto_opc(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, i)
}
pub const OPC_BOTH_EMPTY: u32 = opc(0);
pub const OPC_SEND_ID_REPLY_IOV: u32 = opc(1);
pub const OPC_SEND_IOV_REPLY_EMPTY: u32 = opc(2);
pub const OPC_BOTH_IOV: u32 = opc(3);
pub const OPC_SEND_BULK_REPLY_IOV: u32 = opc(4);
pub const OPC_SEND_IOV_REPLY_BULK: u32 = opc(5);
pub const OPC_BOTH_BULK: u32 = opc(6);
pub const OPC_OPEN_SESSION: u32 = opc(7);
pub const OPC_CLOSE_SESSION: u32 = opc(8);
pub const OPC_START: u32 = opc(9);
pub const OPC_STATUS_REQ: u32 = opc(10);

/// `enum crt_st_msg_type`.
pub const MSG_EMPTY: u32 = 0;
pub const MSG_IOV: u32 = 1;
pub const MSG_BULK_PUT: u32 = 2;
pub const MSG_BULK_GET: u32 = 3;

pub const BUF_ALIGN_DEFAULT: i16 = -1;
pub const BUF_ALIGN_MAX: usize = 255;

/// `enum crt_st_status`.
pub const ST_STATUS_INVAL: i32 = der::DER_INVAL;
pub const ST_STATUS_IN_PROGRESS: i32 = der::DER_BUSY;
pub const ST_STATUS_COMPLETE: i32 = 0;

const DER_OOG: i32 = -1019;

fn is_bulk(t: u32) -> bool {
    t == MSG_BULK_GET || t == MSG_BULK_PUT
}

/// Upstream `crt_st_compute_opcode`: the message opcode of a send/reply type pair (None for
/// the pairs that have none: sending BULK_PUT or replying BULK_GET).
pub fn compute_opcode(send: u32, reply: u32) -> Option<u32> {
    let row: [Option<u32>; 4] = match send {
        MSG_EMPTY => [Some(OPC_BOTH_EMPTY), Some(OPC_SEND_ID_REPLY_IOV), Some(OPC_BOTH_BULK), None],
        MSG_IOV => [Some(OPC_SEND_IOV_REPLY_EMPTY), Some(OPC_BOTH_IOV), Some(OPC_SEND_IOV_REPLY_BULK), None],
        MSG_BULK_GET => [Some(OPC_BOTH_BULK), Some(OPC_SEND_BULK_REPLY_IOV), Some(OPC_BOTH_BULK), None],
        _ => return None,
    };
    row.get(reply as usize).copied().flatten()
}

/// The packed word of the session and start parameters: send type (bits 0-1), reply type
/// (bits 2-3), buffer alignment (int16_t, bits 16-31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub send_type: u32,
    pub reply_type: u32,
    pub align: i16,
}

impl Flags {
    pub fn unpack(w: u32) -> Flags {
        Flags { send_type: w & 3, reply_type: (w >> 2) & 3, align: (w >> 16) as u16 as i16 }
    }
    pub fn pack(self) -> u32 {
        (self.send_type & 3) | (self.reply_type & 3) << 2 | (self.align as u16 as u32) << 16
    }
}

/// Upstream `crt_st_get_aligned_ptr`: the offset into a buffer at `base` where the alignment
/// asks the data to start (0 for the default alignment).
pub fn aligned_offset(base: usize, align: i16) -> usize {
    if align == BUF_ALIGN_DEFAULT {
        return 0;
    }
    ((align as usize).wrapping_sub(base & BUF_ALIGN_MAX)) % (BUF_ALIGN_MAX + 1)
}

// ---- request formats ----

mod procs {
    use crate::sys::*;
    crate::body_proc_fn!(send_id_in, crt_st_send_id_reply_iov_in, [unused1: U64]);
    crate::body_proc_fn!(reply_iov_out, crt_st_send_id_reply_iov_out, [unused1: Iov]);
    crate::body_proc_fn!(send_id_iov_in, crt_st_send_iov_reply_empty_in, [unused1: U64, unused2: Iov]);
    crate::body_proc_fn!(send_id_iov_bulk_in, crt_st_send_iov_reply_bulk_in, [unused1: U64, unused2: Iov, unused3: Bulk]);
    crate::body_proc_fn!(send_id_bulk_in, crt_st_send_bulk_reply_iov_in, [unused1: U64, unused2: Bulk]);
    crate::body_proc_fn!(session_in, crt_st_open_session_in, [unused1: U32, unused2: U32, unused3: U32, unused4: U32]);
    crate::body_proc_fn!(reply_id_out, crt_st_open_session_out, [unused1: U64]);
    crate::body_proc_fn!(
        start_in,
        crt_st_start_in,
        [unused1: Str, unused2: Iov, unused3: U32, unused4: U32, unused5: U32, unused6: U32, unused7: U32]
    );
    crate::body_proc_fn!(start_out, crt_st_start_out, [unused1: I32]);
    crate::body_proc_fn!(status_in, crt_st_status_req_in, [unused1: Bulk]);
    crate::body_proc_fn!(status_out, crt_st_status_req_out, [test_duration_ns: U64, num_remaining: U32, status: I32]);
}

use crate::sys as s;
pub const SEND_ID_REPLY_IOV_FMT: crt_req_format = req_format(
    Some(procs::send_id_in),
    Some(procs::reply_iov_out),
    size_of::<s::crt_st_send_id_reply_iov_in>(),
    size_of::<s::crt_st_send_id_reply_iov_out>(),
);
pub const SEND_IOV_REPLY_EMPTY_FMT: crt_req_format =
    req_format(Some(procs::send_id_iov_in), None, size_of::<s::crt_st_send_iov_reply_empty_in>(), 0);
pub const BOTH_IOV_FMT: crt_req_format = req_format(
    Some(procs::send_id_iov_in),
    Some(procs::reply_iov_out),
    size_of::<s::crt_st_both_iov_in>(),
    size_of::<s::crt_st_both_iov_out>(),
);
pub const SEND_IOV_REPLY_BULK_FMT: crt_req_format =
    req_format(Some(procs::send_id_iov_bulk_in), None, size_of::<s::crt_st_send_iov_reply_bulk_in>(), 0);
pub const SEND_BULK_REPLY_IOV_FMT: crt_req_format = req_format(
    Some(procs::send_id_bulk_in),
    Some(procs::reply_iov_out),
    size_of::<s::crt_st_send_bulk_reply_iov_in>(),
    size_of::<s::crt_st_send_bulk_reply_iov_out>(),
);
pub const BOTH_BULK_FMT: crt_req_format = req_format(Some(procs::send_id_bulk_in), None, size_of::<s::crt_st_both_bulk_in>(), 0);
pub const OPEN_SESSION_FMT: crt_req_format = req_format(
    Some(procs::session_in),
    Some(procs::reply_id_out),
    size_of::<s::crt_st_open_session_in>(),
    size_of::<s::crt_st_open_session_out>(),
);
pub const CLOSE_SESSION_FMT: crt_req_format = req_format(Some(procs::send_id_in), None, size_of::<s::crt_st_close_session_in>(), 0);
pub const START_FMT: crt_req_format =
    req_format(Some(procs::start_in), Some(procs::start_out), size_of::<s::crt_st_start_in>(), size_of::<s::crt_st_start_out>());
pub const STATUS_REQ_FMT: crt_req_format = req_format(
    Some(procs::status_in),
    Some(procs::status_out),
    size_of::<s::crt_st_status_req_in>(),
    size_of::<s::crt_st_status_req_out>(),
);

fn rpc(fmt: Option<&'static crt_req_format>, handler: usize) -> RpcFormat {
    RpcFormat {
        req_fmt: fmt.map_or(0, |f| f as *const crt_req_format as usize),
        size_in: fmt.map_or(0, |f| f.crf_size_in),
        size_out: fmt.map_or(0, |f| f.crf_size_out),
        handler,
        co_ops: 0,
        flags: 0,
    }
}

/// The protocol in upstream's order (BOTH_EMPTY has no body at all).
pub fn rpcs() -> [RpcFormat; 11] {
    use crate::capi::crt_self_test as c;
    let msg = c::crt_self_test_msg_handler as *const () as usize;
    [
        rpc(None, msg),
        rpc(Some(&c::CQF_crt_st_send_id_reply_iov), msg),
        rpc(Some(&c::CQF_crt_st_send_iov_reply_empty), msg),
        rpc(Some(&c::CQF_crt_st_both_iov), msg),
        rpc(Some(&c::CQF_crt_st_send_bulk_reply_iov), msg),
        rpc(Some(&c::CQF_crt_st_send_iov_reply_bulk), msg),
        rpc(Some(&c::CQF_crt_st_both_bulk), msg),
        rpc(Some(&c::CQF_crt_st_open_session), c::crt_self_test_open_session_handler as *const () as usize),
        rpc(Some(&c::CQF_crt_st_close_session), c::crt_self_test_close_session_handler as *const () as usize),
        rpc(Some(&c::CQF_crt_st_start), c::crt_self_test_start_handler as *const () as usize),
        rpc(Some(&c::CQF_crt_st_status_req), c::crt_self_test_status_req_handler as *const () as usize),
    ]
}

/// Registered by every `crt_init` (clients included, as upstream).
pub fn register() {
    let _ = register::proto_register(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, &rpcs(), false);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One registered test buffer: `len` bytes from `buf[off..]`, a bulk handle over them when
/// the session moves data by bulk.
pub struct Buf {
    buf: Vec<u8>,
    off: usize,
    bulk: usize,
}

// SAFETY: the bulk handle is an address libcart hands out; it is used from any thread.
unsafe impl Send for Buf {}

impl Buf {
    /// Upstream `alloc_buf_entry` / the client's per-slot buffer: `len` bytes (plus room for
    /// the alignment) set to `fill`, and a bulk handle with `perm` when asked. None when `len`
    /// is 0.
    fn new(ctx: crt_context_t, len: usize, align: i16, fill: u8, perm: Option<u32>) -> Result<Option<Buf>, i32> {
        if len == 0 {
            return Ok(None);
        }
        let alloc = if align != BUF_ALIGN_DEFAULT { len + BUF_ALIGN_MAX } else { len };
        // Sizes come from the wire: an allocation the system refuses is -DER_NOMEM (as
        // upstream's D_ALLOC), not an abort.
        let mut buf = Vec::new();
        buf.try_reserve_exact(alloc).map_err(|_| der::DER_NOMEM)?;
        buf.resize(alloc, fill);
        let off = aligned_offset(buf.as_ptr() as usize, align);
        let mut b = Buf { buf: Vec::new(), off, bulk: 0 };
        if let Some(perm) = perm {
            let mut iov = d_iov_t { iov_buf: buf[off..].as_mut_ptr() as *mut c_void, iov_buf_len: len, iov_len: len };
            let mut sgl = d_sg_list_t { sg_nr: 1, sg_nr_out: 0, sg_iovs: &mut iov };
            let mut h: crt_bulk_t = std::ptr::null_mut();
            // SAFETY: ctx is the RPC's live context; the list names memory this Buf owns for
            // as long as the handle lives (the Vec's heap block does not move).
            let rc = unsafe { crt_bulk_create(ctx, &mut sgl, perm, &mut h) };
            if rc != 0 {
                return Err(rc);
            }
            b.bulk = h as usize;
        }
        b.buf = buf;
        Ok(Some(b))
    }

    fn ptr(&mut self) -> *mut c_void {
        self.buf[self.off..].as_mut_ptr() as *mut c_void
    }

    fn bulk(&self) -> crt_bulk_t {
        self.bulk as crt_bulk_t
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        if self.bulk != 0 {
            // SAFETY: the handle this Buf created, freed once.
            unsafe { crt_bulk_free(self.bulk as crt_bulk_t) };
        }
    }
}

// ---- service side ----

/// What OPEN_SESSION asked for.
#[derive(Debug, Clone, Copy)]
pub struct SessionParams {
    pub send_size: u32,
    pub reply_size: u32,
    pub num_buffers: u32,
    pub flags: Flags,
}

impl SessionParams {
    /// Upstream's service buffer size: the larger of both sizes when the send is bulk (the
    /// buffer takes the pull and gives the push), else the reply size.
    fn buf_len(&self) -> usize {
        if is_bulk(self.flags.send_type) {
            self.send_size.max(self.reply_size) as usize
        } else {
            self.reply_size as usize
        }
    }

    fn buf_perm(&self) -> Option<u32> {
        if is_bulk(self.flags.send_type) {
            Some(CRT_BULK_RW)
        } else if is_bulk(self.flags.reply_type) {
            Some(CRT_BULK_RO)
        } else {
            None
        }
    }
}

pub struct Session {
    pub params: SessionParams,
    free: Mutex<Vec<Buf>>,
}

struct Sessions {
    map: HashMap<i64, Arc<Session>>,
    last_id: i64,
}

static SESSIONS: Mutex<Option<Sessions>> = Mutex::new(None);

fn sessions() -> MutexGuard<'static, Option<Sessions>> {
    lock(&SESSIONS)
}

/// OPEN_SESSION: the new session's id, or -1 (unsupported types, no memory, no id left).
pub fn open_session(ctx: crt_context_t, p: SessionParams) -> i64 {
    if p.flags.send_type == MSG_BULK_PUT || p.flags.reply_type == MSG_BULK_GET {
        return -1;
    }
    let mut bufs = Vec::new();
    for _ in 0..p.num_buffers {
        match Buf::new(ctx, p.buf_len(), p.flags.align, 0xA7, p.buf_perm()) {
            Ok(Some(b)) => bufs.push(b),
            Ok(None) => break,
            Err(_) => return -1,
        }
    }
    let mut g = sessions();
    let st = g.get_or_insert_with(|| Sessions { map: HashMap::new(), last_id: 0 });
    let mut id = if st.last_id == i64::MAX { 0 } else { st.last_id + 1 };
    while st.map.contains_key(&id) {
        if id == st.last_id {
            return -1;
        }
        id = if id == i64::MAX { 0 } else { id + 1 };
    }
    st.last_id = id;
    st.map.insert(id, Arc::new(Session { params: p, free: Mutex::new(bufs) }));
    id
}

/// CLOSE_SESSION: false when there is no such session. Buffers in use go with their
/// message's reply.
pub fn close_session(id: i64) -> bool {
    sessions().as_mut().and_then(|s| s.map.remove(&id)).is_some()
}

pub fn session(id: i64) -> Option<Arc<Session>> {
    sessions().as_ref().and_then(|s| s.map.get(&id).cloned())
}

/// The number of open sessions (tests).
pub fn session_count() -> usize {
    sessions().as_ref().map_or(0, |s| s.map.len())
}

/// A test message being answered: the RPC (with a reference), its session and buffer. C sees
/// it as `struct st_buf_entry` (the bulk callbacks' argument).
pub struct Pending {
    pub rpc: *mut crt_rpc_t,
    session: Arc<Session>,
    buf: Option<Buf>,
}

/// Upstream `crt_self_test_msg_send_reply`: the reply (an iov over the buffer when the
/// session replies IOV; nothing when `pending` is None), the buffer back to its session, and
/// the RPC's reference dropped.
///
/// # Safety
/// `rpc` is a live server RPC this side holds a reference on (dropped here).
pub unsafe fn send_reply(rpc: *mut crt_rpc_t, pending: Option<Box<Pending>>) {
    let mut pending = pending;
    if let Some(p) = pending.as_mut() {
        if p.session.params.flags.reply_type == MSG_IOV {
            let len = p.session.params.reply_size as usize;
            let ptr = p.buf.as_mut().map_or(std::ptr::null_mut(), |b| b.ptr());
            // SAFETY: the reply-IOV formats' output is one d_iov_t; the buffer outlives the
            // encoding inside crt_reply_send.
            unsafe {
                let out = (*rpc).cr_output as *mut d_iov_t;
                if !out.is_null() {
                    *out = d_iov_t { iov_buf: ptr, iov_buf_len: if ptr.is_null() { 0 } else { len }, iov_len: if ptr.is_null() { 0 } else { len } };
                }
            }
        }
    }
    // SAFETY: the contract.
    unsafe {
        crt_reply_send(rpc);
        let out = (*rpc).cr_output as *mut d_iov_t;
        if pending.is_some() && !out.is_null() && (*rpc).cr_output_size >= size_of::<d_iov_t>() {
            *out = d_iov_t { iov_buf: std::ptr::null_mut(), iov_buf_len: 0, iov_len: 0 };
        }
    }
    if let Some(p) = pending {
        let Pending { session, buf, .. } = *p;
        if let Some(b) = buf {
            lock(&session.free).push(b);
        }
    }
    // SAFETY: the reference the handler took.
    unsafe { crt_req_decref(rpc) };
}

/// The message handler (upstream `crt_self_test_msg_handler`).
///
/// # Safety
/// `rpc` is a live server RPC of one of the seven message opcodes.
pub unsafe fn msg_handler(rpc: *mut crt_rpc_t) {
    // SAFETY: the contract.
    let (opc, input, ctx) = unsafe { ((*rpc).cr_opc, (*rpc).cr_input as *const u8, (*rpc).cr_ctx) };
    // SAFETY: kept until send_reply drops it.
    unsafe { crt_req_addref(rpc) };
    if opc == OPC_BOTH_EMPTY || opc == OPC_SEND_IOV_REPLY_EMPTY || input.is_null() {
        // SAFETY: the reference just taken.
        unsafe { send_reply(rpc, None) };
        return;
    }
    // SAFETY: every other message's input starts with the session id.
    let id = unsafe { *(input as *const i64) };
    let Some(session) = session(id) else {
        // SAFETY: as above.
        unsafe { send_reply(rpc, None) };
        return;
    };
    let p = session.params;
    if compute_opcode(p.flags.send_type, p.flags.reply_type) != Some(opc) {
        // SAFETY: as above.
        unsafe { send_reply(rpc, None) };
        return;
    }
    let buf = lock(&session.free).pop();
    let buf = match buf {
        Some(b) => Some(b),
        None => match Buf::new(ctx, p.buf_len(), p.flags.align, 0xA7, p.buf_perm()) {
            Ok(b) => b,
            Err(_) => {
                // SAFETY: as above.
                unsafe { send_reply(rpc, None) };
                return;
            }
        },
    };
    let local = buf.as_ref().map_or(std::ptr::null_mut(), |b| b.bulk());
    let pending = Box::new(Pending { rpc, session, buf });
    let (op, remote, len, cb): (u32, crt_bulk_t, u32, BulkCb) = if p.flags.send_type == MSG_BULK_GET {
        // SAFETY: send-bulk inputs are crt_st_send_id_bulk (id, then the handle).
        (CRT_BULK_GET, unsafe { *(input.add(8) as *const crt_bulk_t) }, p.send_size, bulk_get_cb)
    } else if p.flags.reply_type == MSG_BULK_PUT {
        // SAFETY: SEND_IOV_REPLY_BULK's input is crt_st_send_id_iov_bulk (handle at 32),
        // BOTH_BULK's crt_st_send_id_bulk (handle at 8).
        let remote = unsafe { *(input.add(if p.flags.send_type == MSG_IOV { 32 } else { 8 }) as *const crt_bulk_t) };
        (CRT_BULK_PUT, remote, p.reply_size, bulk_put_cb)
    } else {
        // SAFETY: as above.
        unsafe { send_reply(rpc, Some(pending)) };
        return;
    };
    if remote.is_null() || local.is_null() {
        // SAFETY: as above.
        unsafe { send_reply(rpc, Some(pending)) };
        return;
    }
    let mut desc = crt_bulk_desc {
        bd_rpc: rpc,
        bd_bulk_op: op,
        bd_remote_hdl: remote,
        bd_remote_off: 0,
        bd_local_hdl: local,
        bd_local_off: 0,
        bd_len: len as usize,
    };
    let arg = Box::into_raw(pending);
    // SAFETY: both handles are live (the sender's, decoded with the request; ours in the
    // pending buffer); the callback takes `arg` back.
    let rc = unsafe { crt_bulk_transfer(&mut desc, Some(cb), arg as *mut c_void, std::ptr::null_mut()) };
    if rc != 0 {
        // SAFETY: the transfer was refused: its callback will not run; arg is ours again.
        unsafe { send_reply(rpc, Some(Box::from_raw(arg))) };
    }
}

type BulkCb = unsafe extern "C" fn(*const crt_bulk_cb_info) -> c_int;

/// Upstream `crt_self_test_msg_bulk_put_cb`: the push into the sender is done: reply.
///
/// # Safety
/// Called by cart with the info of a transfer `msg_handler` started.
pub unsafe extern "C" fn bulk_put_cb(info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: the transfer's info; its arg is the Pending msg_handler boxed.
    unsafe {
        let Some(i) = info.as_ref() else { return 0 };
        let p = Box::from_raw(i.bci_arg as *mut Pending);
        let rpc = p.rpc;
        send_reply(rpc, Some(p));
    }
    0
}

/// Upstream `crt_self_test_msg_bulk_get_cb`: the pull from the sender is done: push the reply
/// into its bulk when the session replies BULK_PUT, else reply.
///
/// # Safety
/// As `bulk_put_cb`.
pub unsafe extern "C" fn bulk_get_cb(info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: as bulk_put_cb; the descriptor is the one msg_handler passed.
    unsafe {
        let Some(i) = info.as_ref() else { return 0 };
        let p = Box::from_raw(i.bci_arg as *mut Pending);
        let rpc = p.rpc;
        if p.session.params.flags.reply_type != MSG_BULK_PUT || i.bci_bulk_desc.is_null() {
            send_reply(rpc, Some(p));
            return 0;
        }
        let d = &*i.bci_bulk_desc;
        let mut desc = crt_bulk_desc {
            bd_rpc: rpc,
            bd_bulk_op: CRT_BULK_PUT,
            bd_remote_hdl: d.bd_remote_hdl,
            bd_remote_off: 0,
            bd_local_hdl: d.bd_local_hdl,
            bd_local_off: 0,
            bd_len: p.session.params.reply_size as usize,
        };
        let arg = Box::into_raw(p);
        if crt_bulk_transfer(&mut desc, Some(bulk_put_cb), arg as *mut c_void, std::ptr::null_mut()) != 0 {
            // Upstream replies without the buffer's data here.
            let p = Box::from_raw(arg);
            let Pending { session, buf, .. } = *p;
            if let Some(b) = buf {
                lock(&session.free).push(b);
            }
            send_reply(rpc, None);
        }
    }
    0
}

// ---- client side (the test run) ----

#[derive(Debug, Clone, Copy)]
struct Endpt {
    rank: u32,
    tag: u32,
    session_id: i64,
    evicted: bool,
}

struct Slot {
    buf: Option<Buf>,
    rep_idx: usize,
    endpt: usize,
    sent: Option<Instant>,
}

/// One test run (upstream's `g_data`).
struct Run {
    ctx: usize,
    grp: usize,
    rep_count: u32,
    max_inflight: u32,
    send_size: u32,
    reply_size: u32,
    flags: Flags,
    endpts: Vec<Endpt>,
    slots: Vec<Slot>,
    latencies: Box<[st_latency]>,
    lat_bulk: usize,
    time_start: Option<Instant>,
    time_stop: Option<Instant>,
    complete: bool,
    rep_sent: u32,
    rep_completed: u32,
    next_endpt: usize,
    inflight: u32,
    /// A STATUS_REQ is pushing the latencies: the run must stay.
    reporting: bool,
}

// SAFETY: the raw handles (context, group, bulk) are libcart addresses usable from any thread.
unsafe impl Send for Run {}

impl Drop for Run {
    fn drop(&mut self) {
        if self.lat_bulk != 0 {
            // SAFETY: the latency handle this run created.
            unsafe { crt_bulk_free(self.lat_bulk as crt_bulk_t) };
        }
    }
}

static RUN: Mutex<Option<Run>> = Mutex::new(None);

fn run() -> MutexGuard<'static, Option<Run>> {
    lock(&RUN)
}

/// What START asked for.
pub struct StartParams {
    pub grp: *mut crt_group_t,
    pub endpts: Vec<(u32, u32)>,
    pub rep_count: u32,
    pub max_inflight: u32,
    pub send_size: u32,
    pub reply_size: u32,
    pub flags: Flags,
}

/// Upstream START's checks: -DER_INVAL for no endpoints, unsupported types, zero in-flight
/// or repetitions, or an alignment outside [0, 255] other than the default.
pub fn check_start(endpts_len: usize, rep_count: u32, max_inflight: u32, f: Flags) -> Result<(), i32> {
    if endpts_len == 0 || endpts_len % 8 != 0 {
        return Err(der::DER_INVAL);
    }
    if f.send_type == MSG_BULK_PUT || f.reply_type == MSG_BULK_GET {
        return Err(der::DER_INVAL);
    }
    if max_inflight == 0 || rep_count == 0 {
        return Err(der::DER_INVAL);
    }
    if f.align != BUF_ALIGN_DEFAULT && !(0..=BUF_ALIGN_MAX as i16).contains(&f.align) {
        return Err(der::DER_INVAL);
    }
    Ok(())
}

/// START: sets the run up and opens its sessions (the reply goes right after): 0, -DER_BUSY
/// while another run is going, or the setup's error.
///
/// # Safety
/// `ctx` is a live context of this library (the START request's); `p.grp` NULL or a group
/// handle of this library.
pub unsafe fn start(ctx: crt_context_t, p: StartParams) -> i32 {
    {
        let mut g = run();
        if let Some(r) = g.as_ref() {
            if !r.complete || r.reporting {
                return der::DER_BUSY;
            }
        }
        *g = None;
    }
    let n_slots = p.max_inflight as usize;
    let test_len = if is_bulk(p.flags.reply_type) { p.send_size.max(p.reply_size) } else { p.send_size } as usize;
    let perm = if is_bulk(p.flags.send_type) || is_bulk(p.flags.reply_type) {
        Some(if is_bulk(p.flags.reply_type) { CRT_BULK_RW } else { CRT_BULK_RO })
    } else {
        None
    };
    let mut slots = Vec::new();
    if slots.try_reserve_exact(n_slots).is_err() {
        return der::DER_NOMEM;
    }
    for _ in 0..n_slots {
        match Buf::new(ctx, test_len, p.flags.align, 0xC5, perm) {
            Ok(buf) => slots.push(Slot { buf, rep_idx: 0, endpt: 0, sent: None }),
            Err(e) => return e,
        }
    }
    // Zeroed, padding included (the whole array is pushed to the requester), as calloc gives.
    let n = p.rep_count as usize;
    let mut v: Vec<st_latency> = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        return der::DER_NOMEM;
    }
    // SAFETY: capacity n (reserved above); an all-zero st_latency is a valid value.
    unsafe {
        std::ptr::write_bytes(v.as_mut_ptr(), 0, n);
        v.set_len(n);
    }
    for l in v.iter_mut() {
        l.val = -1;
    }
    let mut latencies = v.into_boxed_slice();
    let lat_len = latencies.len() * size_of::<st_latency>();
    let mut iov = d_iov_t { iov_buf: latencies.as_mut_ptr() as *mut c_void, iov_buf_len: lat_len, iov_len: lat_len };
    let mut sgl = d_sg_list_t { sg_nr: 1, sg_nr_out: 0, sg_iovs: &mut iov };
    let mut lat_bulk: crt_bulk_t = std::ptr::null_mut();
    // SAFETY: the latencies live in the Run as long as the handle (freed in Run's drop).
    let rc = unsafe { crt_bulk_create(ctx, &mut sgl, CRT_BULK_RO, &mut lat_bulk) };
    if rc != 0 {
        return rc;
    }
    let r = Run {
        ctx: ctx as usize,
        grp: p.grp as usize,
        rep_count: p.rep_count,
        max_inflight: p.max_inflight,
        send_size: p.send_size,
        reply_size: p.reply_size,
        flags: p.flags,
        endpts: p.endpts.iter().map(|(rank, tag)| Endpt { rank: *rank, tag: *tag, session_id: -1, evicted: false }).collect(),
        slots,
        latencies,
        lat_bulk: lat_bulk as usize,
        time_start: None,
        time_stop: None,
        complete: false,
        rep_sent: 0,
        rep_completed: 0,
        next_endpt: 0,
        inflight: 0,
        reporting: false,
    };
    *run() = Some(r);
    open_sessions();
    0
}

fn endpoint(r: &Run, e: usize) -> crt_endpoint_t {
    crt_endpoint_t { ep_grp: r.grp as *mut crt_group_t, ep_rank: r.endpts[e].rank, ep_tag: r.endpts[e].tag }
}

/// Creates a request to `ep` (None on failure).
fn new_req(ctx: usize, mut ep: crt_endpoint_t, opc: u32) -> Option<*mut crt_rpc_t> {
    let mut req: *mut crt_rpc_t = std::ptr::null_mut();
    // SAFETY: ctx is the run's live context; ep is a local copy.
    let rc = unsafe { crt_req_create(ctx as crt_context_t, &mut ep, opc, &mut req) };
    (rc == 0 && !req.is_null()).then_some(req)
}

fn open_sessions() {
    let (ctx, n, empty, params) = {
        let mut g = run();
        let Some(r) = g.as_mut() else { return };
        let empty = r.flags.send_type == MSG_EMPTY && r.flags.reply_type == MSG_EMPTY;
        if !empty {
            r.inflight = r.endpts.len() as u32;
        }
        let nbuf = (r.max_inflight / r.endpts.len() as u32).min(r.rep_count).max(1);
        (r.ctx, r.endpts.len(), empty, [r.send_size, r.reply_size, nbuf, r.flags.pack()])
    };
    if empty {
        launch();
        return;
    }
    for e in 0..n {
        let ep = match run().as_ref() {
            Some(r) => endpoint(r, e),
            None => return,
        };
        let sent = new_req(ctx, ep, OPC_OPEN_SESSION).is_some_and(|req| {
            // SAFETY: OPEN_SESSION's input is four uint32_t; req is live (creation reference,
            // which crt_req_send takes over).
            unsafe {
                *((*req).cr_input as *mut [u32; 4]) = params;
                crt_req_send(req, Some(open_session_cb), (e + 1) as *mut c_void) == 0
            }
        });
        if !sent {
            let last = {
                let mut g = run();
                let Some(r) = g.as_mut() else { return };
                r.endpts[e].session_id = -1;
                r.endpts[e].evicted = true;
                r.inflight -= 1;
                r.inflight == 0
            };
            if last {
                launch();
            }
        }
    }
}

unsafe extern "C" fn open_session_cb(info: *const crt_cb_info) {
    // SAFETY: cart's completion info for an OPEN_SESSION request; its arg is the endpoint
    // index + 1; the output is the session id.
    let (e, rc, id) = unsafe {
        let i = &*info;
        let out = (*i.cci_rpc).cr_output as *const i64;
        (i.cci_arg as usize - 1, i.cci_rc, if out.is_null() { -1 } else { *out })
    };
    let last = {
        let mut g = run();
        let Some(r) = g.as_mut() else { return };
        if rc != 0 || id < 0 {
            r.endpts[e].evicted = true;
            r.endpts[e].session_id = -1;
        } else {
            r.endpts[e].session_id = id;
        }
        r.inflight = r.inflight.saturating_sub(1);
        r.inflight == 0
    };
    if last {
        launch();
    }
}

fn launch() {
    let n = {
        let mut g = run();
        let Some(r) = g.as_mut() else { return };
        r.time_start = Some(Instant::now());
        r.inflight = r.max_inflight;
        r.max_inflight as usize
    };
    for slot in 0..n {
        send_next(slot, true);
    }
}

/// Upstream `send_next_rpc`: the next repetition from this slot, or this slot's end (and the
/// run's, when it is the last in flight).
fn send_next(slot: usize, skip_inc_complete: bool) {
    let local_rep = {
        let mut g = run();
        let Some(r) = g.as_mut() else { return };
        if !skip_inc_complete {
            r.rep_completed += 1;
        }
        let rep = r.rep_sent;
        if r.rep_sent < r.rep_count {
            r.rep_sent += 1;
        }
        rep
    };
    let mut g = run();
    let Some(r) = g.as_mut() else { return };
    if local_rep < r.rep_count {
        let n = r.endpts.len();
        loop {
            let Some(r) = g.as_mut() else { return };
            let mut e = None;
            for _ in 0..n {
                let c = r.next_endpt;
                r.next_endpt = (r.next_endpt + 1) % n;
                if !r.endpts[c].evicted {
                    e = Some(c);
                    break;
                }
            }
            let Some(e) = e else { break };
            let ep = endpoint(r, e);
            let lat = &mut r.latencies[local_rep as usize];
            lat.rank = ep.ep_rank;
            lat.tag = ep.ep_tag;
            let opc = compute_opcode(r.flags.send_type, r.flags.reply_type).unwrap_or(OPC_BOTH_EMPTY);
            let session_id = r.endpts[e].session_id;
            let send_size = r.send_size as usize;
            let ctx = r.ctx;
            let s = &mut r.slots[slot];
            s.rep_idx = local_rep as usize;
            s.endpt = e;
            let (bufp, bulk) = match s.buf.as_mut() {
                Some(b) => (b.ptr(), b.bulk()),
                None => (std::ptr::null_mut(), std::ptr::null_mut()),
            };
            drop(g);
            let sent = new_req(ctx, ep, opc).is_some_and(|req| {
                // SAFETY: the input struct matching the opcode (upstream's three layouts);
                // the buffer and handle live in the run's slot until the reply.
                unsafe {
                    let input = (*req).cr_input as *mut u8;
                    if opc != OPC_BOTH_EMPTY && !input.is_null() {
                        *(input as *mut i64) = session_id;
                        let iov = d_iov_t { iov_buf: bufp, iov_buf_len: send_size, iov_len: send_size };
                        match opc {
                            OPC_SEND_IOV_REPLY_EMPTY | OPC_BOTH_IOV => *(input.add(8) as *mut d_iov_t) = iov,
                            OPC_SEND_IOV_REPLY_BULK => {
                                *(input.add(8) as *mut d_iov_t) = iov;
                                *(input.add(32) as *mut crt_bulk_t) = bulk;
                            }
                            OPC_SEND_BULK_REPLY_IOV | OPC_BOTH_BULK => *(input.add(8) as *mut crt_bulk_t) = bulk,
                            _ => {}
                        }
                    }
                    // The clock starts at the send, as upstream's does (the completion
                    // cannot come before crt_req_send is called).
                    if let Some(r) = run().as_mut() {
                        r.slots[slot].sent = Some(Instant::now());
                    }
                    crt_req_send(req, Some(test_rpc_cb), (slot + 1) as *mut c_void) == 0
                }
            });
            if sent {
                return;
            }
            g = run();
            if let Some(r) = g.as_mut() {
                r.endpts[e].evicted = true;
            }
        }
    }
    // This slot is done.
    let Some(r) = g.as_mut() else { return };
    r.inflight = r.inflight.saturating_sub(1);
    if r.inflight == 0 {
        r.time_stop = Some(Instant::now());
        drop(g);
        close_sessions();
    }
}

unsafe extern "C" fn test_rpc_cb(info: *const crt_cb_info) {
    let now = Instant::now();
    // SAFETY: cart's completion info; arg is the slot index + 1.
    let (slot, rc) = unsafe { ((*info).cci_arg as usize - 1, (*info).cci_rc) };
    {
        let mut g = run();
        let Some(r) = g.as_mut() else { return };
        let s = &r.slots[slot];
        let (rep, e) = (s.rep_idx, s.endpt);
        let val = s.sent.map_or(-1, |t| now.duration_since(t).as_nanos() as i64);
        r.latencies[rep].val = val;
        r.latencies[rep].cci_rc = rc;
        if rc == DER_OOG {
            r.endpts[e].evicted = true;
        }
    }
    send_next(slot, false);
}

fn close_sessions() {
    let (ctx, todo) = {
        let mut g = run();
        let Some(r) = g.as_mut() else { return };
        let todo: Vec<(usize, crt_endpoint_t, i64)> =
            (0..r.endpts.len()).filter(|e| r.endpts[*e].session_id >= 0).map(|e| (e, endpoint(r, e), r.endpts[e].session_id)).collect();
        r.inflight = todo.len() as u32;
        if todo.is_empty() {
            r.complete = true;
        }
        (r.ctx, todo)
    };
    for (e, ep, id) in todo {
        let sent = new_req(ctx, ep, OPC_CLOSE_SESSION).is_some_and(|req| {
            // SAFETY: CLOSE_SESSION's input is the session id.
            unsafe {
                *((*req).cr_input as *mut i64) = id;
                crt_req_send(req, Some(close_session_cb), (e + 1) as *mut c_void) == 0
            }
        });
        if !sent {
            let mut g = run();
            let Some(r) = g.as_mut() else { return };
            r.endpts[e].session_id = -1;
            r.endpts[e].evicted = true;
            r.inflight = r.inflight.saturating_sub(1);
            if r.inflight == 0 {
                r.complete = true;
            }
        }
    }
}

unsafe extern "C" fn close_session_cb(_info: *const crt_cb_info) {
    let mut g = run();
    let Some(r) = g.as_mut() else { return };
    r.inflight = r.inflight.saturating_sub(1);
    if r.inflight == 0 {
        r.complete = true;
    }
}

/// What STATUS_REQ answers, unless the latencies are being pushed.
pub enum Status {
    /// (test_duration_ns, num_remaining, status)
    Now(u64, u32, i32),
    /// The push was started; its callback replies.
    Pushing,
}

/// STATUS_REQ (upstream `crt_self_test_status_req_handler`).
///
/// # Safety
/// `rpc` is a live server RPC holding a reference for this request; `remote` its decoded
/// bulk handle.
pub unsafe fn status(rpc: *mut crt_rpc_t, remote: crt_bulk_t) -> Status {
    let mut g = run();
    let Some(r) = g.as_mut() else { return Status::Now(u64::MAX, u32::MAX, ST_STATUS_INVAL) };
    if !r.complete {
        return Status::Now(u64::MAX, r.rep_count - r.rep_completed.min(r.rep_count), ST_STATUS_IN_PROGRESS);
    }
    if r.reporting {
        return Status::Now(u64::MAX, u32::MAX, ST_STATUS_IN_PROGRESS);
    }
    let want = r.latencies.len() * size_of::<st_latency>();
    let mut len = 0usize;
    // SAFETY: the requester's decoded handle (NULL is refused by crt_bulk_get_len).
    let rc = unsafe { crt_bulk_get_len(remote, &mut len) };
    if rc != 0 {
        return Status::Now(u64::MAX, u32::MAX, rc);
    }
    if len != want {
        return Status::Now(u64::MAX, u32::MAX, ST_STATUS_INVAL);
    }
    r.reporting = true;
    let local = r.lat_bulk as crt_bulk_t;
    drop(g);
    let mut desc = crt_bulk_desc {
        bd_rpc: rpc,
        bd_bulk_op: CRT_BULK_PUT,
        bd_remote_hdl: remote,
        bd_remote_off: 0,
        bd_local_hdl: local,
        bd_local_off: 0,
        bd_len: len,
    };
    // SAFETY: both handles are live; the run stays while `reporting` is set.
    let rc = unsafe { crt_bulk_transfer(&mut desc, Some(status_put_cb), rpc as *mut c_void, std::ptr::null_mut()) };
    if rc != 0 {
        if let Some(r) = run().as_mut() {
            r.reporting = false;
        }
        return Status::Now(u64::MAX, u32::MAX, rc);
    }
    Status::Pushing
}

/// Fills a STATUS_REQ output.
///
/// # Safety
/// `rpc` is a live STATUS_REQ server RPC.
pub unsafe fn fill_status(rpc: *mut crt_rpc_t, dur: u64, remaining: u32, st: i32) {
    // SAFETY: the contract: the output is crt_st_status_req_out.
    unsafe {
        let o = (*rpc).cr_output as *mut s::crt_st_status_req_out;
        if let Some(o) = o.as_mut() {
            o.test_duration_ns = dur;
            o.num_remaining = remaining;
            o.status = st;
        }
    }
}

unsafe extern "C" fn status_put_cb(info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: the push's info; its arg is the STATUS_REQ, holding the handler's reference.
    let (rpc, rc) = unsafe { ((*info).bci_arg as *mut crt_rpc_t, (*info).bci_rc) };
    let r = run().take();
    let dur = r.as_ref().and_then(|r| Some(r.time_stop?.duration_since(r.time_start?).as_nanos() as u64)).unwrap_or(0);
    // SAFETY: the live STATUS_REQ; the reference taken by its handler goes here.
    unsafe {
        fill_status(rpc, dur, 0, if rc != 0 { rc } else { ST_STATUS_COMPLETE });
        crt_reply_send(rpc);
        crt_req_decref(rpc);
    }
    drop(r);
    0
}

/// Everything goes with the last `crt_finalize` (sessions and a finished run; an unfinished
/// run's requests are gone with the contexts).
pub fn clear() {
    *sessions() = None;
    *run() = None;
}

/// START's endpoints from its iov (rank, tag pairs of uint32_t).
pub fn parse_endpts(b: &[u8]) -> Vec<(u32, u32)> {
    b.chunks_exact(8)
        .map(|c| (u32::from_ne_bytes([c[0], c[1], c[2], c[3]]), u32::from_ne_bytes([c[4], c[5], c[6], c[7]])))
        .collect()
}

/// The group a START names (NULL or unknown: NULL, the primary).
///
/// # Safety
/// `name` NULL or a NUL-terminated string.
pub unsafe fn lookup_group(name: *mut std::ffi::c_char) -> *mut crt_group_t {
    // SAFETY: the contract.
    unsafe { crt_group_lookup(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_match_upstream_table() {
        assert_eq!(OPC_BOTH_EMPTY, 0xF201_0000);
        assert_eq!(OPC_STATUS_REQ, 0xF201_000A);
        assert_eq!(compute_opcode(MSG_EMPTY, MSG_EMPTY), Some(OPC_BOTH_EMPTY));
        assert_eq!(compute_opcode(MSG_EMPTY, MSG_IOV), Some(OPC_SEND_ID_REPLY_IOV));
        assert_eq!(compute_opcode(MSG_EMPTY, MSG_BULK_PUT), Some(OPC_BOTH_BULK));
        assert_eq!(compute_opcode(MSG_IOV, MSG_EMPTY), Some(OPC_SEND_IOV_REPLY_EMPTY));
        assert_eq!(compute_opcode(MSG_IOV, MSG_IOV), Some(OPC_BOTH_IOV));
        assert_eq!(compute_opcode(MSG_IOV, MSG_BULK_PUT), Some(OPC_SEND_IOV_REPLY_BULK));
        assert_eq!(compute_opcode(MSG_BULK_GET, MSG_EMPTY), Some(OPC_BOTH_BULK));
        assert_eq!(compute_opcode(MSG_BULK_GET, MSG_IOV), Some(OPC_SEND_BULK_REPLY_IOV));
        assert_eq!(compute_opcode(MSG_BULK_GET, MSG_BULK_PUT), Some(OPC_BOTH_BULK));
        assert_eq!(compute_opcode(MSG_BULK_PUT, MSG_IOV), None);
        assert_eq!(compute_opcode(MSG_IOV, MSG_BULK_GET), None);
    }

    #[test]
    fn flags_pack_like_the_c_bitfields() {
        // gcc: send_type bits 0-1, reply_type bits 2-3, buf_alignment the upper 16 bits.
        let f = Flags { send_type: 3, reply_type: 0, align: -1 };
        assert_eq!(f.pack(), 0xFFFF_0003);
        assert_eq!(Flags::unpack(0xFFFF_0003), f);
        let g = Flags { send_type: 1, reply_type: 2, align: 17 };
        assert_eq!(Flags::unpack(g.pack()), g);
    }

    #[test]
    fn alignment_offsets() {
        assert_eq!(aligned_offset(0x1000, -1), 0);
        assert_eq!(aligned_offset(0x1000, 0), 0);
        assert_eq!(aligned_offset(0x1001, 0), 255);
        assert_eq!(aligned_offset(0x10F0, 0x10), 0x20);
        for base in [0x2000usize, 0x2003, 0x20FF] {
            for a in [0i16, 1, 64, 255] {
                assert_eq!((base + aligned_offset(base, a)) & 255, a as usize);
                assert!(aligned_offset(base, a) <= 255);
            }
        }
    }

    #[test]
    fn start_checks() {
        let ok = Flags { send_type: MSG_IOV, reply_type: MSG_IOV, align: -1 };
        assert_eq!(check_start(8, 1, 1, ok), Ok(()));
        assert_eq!(check_start(0, 1, 1, ok), Err(der::DER_INVAL));
        assert_eq!(check_start(12, 1, 1, ok), Err(der::DER_INVAL));
        assert_eq!(check_start(8, 0, 1, ok), Err(der::DER_INVAL));
        assert_eq!(check_start(8, 1, 0, ok), Err(der::DER_INVAL));
        assert_eq!(check_start(8, 1, 1, Flags { send_type: MSG_BULK_PUT, ..ok }), Err(der::DER_INVAL));
        assert_eq!(check_start(8, 1, 1, Flags { reply_type: MSG_BULK_GET, ..ok }), Err(der::DER_INVAL));
        assert_eq!(check_start(8, 1, 1, Flags { align: 256, ..ok }), Err(der::DER_INVAL));
        assert_eq!(check_start(8, 1, 1, Flags { align: 255, ..ok }), Ok(()));
        assert_eq!(parse_endpts(&[1, 0, 0, 0, 2, 0, 0, 0]), vec![(1, 2)]);
    }

    #[test]
    fn sessions_get_increasing_ids_and_close_once() {
        // IOV sessions need no bulk handle, so no context.
        let iov = SessionParams { send_size: 16, reply_size: 32, num_buffers: 3, flags: Flags { send_type: MSG_IOV, reply_type: MSG_IOV, align: 7 } };
        let a = open_session(std::ptr::null_mut(), iov);
        let b = open_session(std::ptr::null_mut(), iov);
        assert!(a >= 1 && b == a + 1);
        let s = session(a).unwrap();
        {
            let mut free = lock(&s.free);
            assert_eq!(free.len(), 3);
            for buf in free.iter_mut() {
                // reply-sized, filled with the service's pattern, at the asked alignment
                assert_eq!(buf.ptr() as usize & 255, 7);
                assert_eq!(buf.buf.len(), 32 + 255);
                assert!(buf.buf[buf.off..buf.off + 32].iter().all(|x| *x == 0xA7));
            }
        }
        let bad = SessionParams { flags: Flags { send_type: MSG_BULK_PUT, ..iov.flags }, ..iov };
        assert_eq!(open_session(std::ptr::null_mut(), bad), -1);
        let bad = SessionParams { flags: Flags { reply_type: MSG_BULK_GET, ..iov.flags }, ..iov };
        assert_eq!(open_session(std::ptr::null_mut(), bad), -1);
        // nothing to buffer: a session without buffers
        let empty = SessionParams { reply_size: 0, ..iov };
        let c = open_session(std::ptr::null_mut(), empty);
        assert_eq!(c, b + 1);
        assert!(lock(&session(c).unwrap().free).is_empty());
        assert!(close_session(a));
        assert!(!close_session(a));
        assert!(session(a).is_none() && session(b).is_some());
        assert!(close_session(b) && close_session(c));
        // ids keep increasing after closes
        let d = open_session(std::ptr::null_mut(), iov);
        assert_eq!(d, c + 1);
        assert!(close_session(d));
    }

    #[test]
    fn body_sizes_are_upstreams() {
        assert_eq!(START_FMT.crf_size_in, 56);
        assert_eq!(STATUS_REQ_FMT.crf_size_out, 16);
        assert_eq!(SEND_IOV_REPLY_BULK_FMT.crf_size_in, 40);
        assert_eq!(OPEN_SESSION_FMT.crf_size_in, 16);
        assert_eq!(size_of::<st_latency>(), 24);
    }
}
