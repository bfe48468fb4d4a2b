//! RPCs (upstream `crt_rpc.c`): the request object C sees as `crt_rpc_t`, its reference count,
//! bodies encoded with the registered `crt_req_format` procs, sending with timeouts, replies,
//! completion callbacks run from progress, and the server side's dispatch to handlers (directly
//! or through the context's registered RPC task).
//!
//! Message body on the wire (inside the transport's request/response): a request carries an
//! 8-byte prefix, the sender's rank (u32 LE, CRT_NO_RANK for none) and its timeout in seconds
//! (u32 LE), then the encoded input; a response carries the encoded output.
//!
//! `RpcPriv` is shared with C (C holds `&rpc` as `crt_rpc_t *`, `rpc` at offset 0): the
//! unsafe code here is that intrusive object's, each block with its invariant.
use crate::context::Context;
use crate::group::{self, CRT_NO_RANK};
use crate::proc::{Op, Proc};
use crate::register::{self, OpcInfo};
use crate::sys::{crt_cb_info, crt_cb_t, crt_endpoint_t, crt_proc_t, crt_req_format, crt_rpc_cb_t, crt_rpc_t};
use crate::transport::{der, Completion, Event, Incoming, Notify, OpId, Peer, ReplyToken};
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

const HDR: usize = 8;
pub const DER_UNREG: i32 = crate::init::DER_UNREG;
pub const DER_ALREADY: i32 = -1008;
const DER_NOREPLY: i32 = -(crate::sys::DER_NOREPLY as i32);

struct RpcState {
    /// 0: the context's timeout.
    timeout_sec: u32,
    token: Option<ReplyToken>,
    replied: bool,
    op: Option<OpId>,
    cb: crt_cb_t,
    cb_arg: usize,
    src_rank: u32,
    src_timeout: u32,
    /// Who sent a server RPC (bulk transfers go to it).
    src_peer: Option<Peer>,
    /// The message the input (server) or output (client) was decoded from: decoded values
    /// may point into it.
    body: Vec<u8>,
    in_decoded: bool,
    out_decoded: bool,
    /// The HLC timestamp of the header received for this RPC: the request's (server side) or
    /// the reply's (client side); 0 until one came.
    hdr_hlc: u64,
    /// Where a client RPC was sent (its target's URI), for crt_req_origin_addr_get.
    sent_to: Option<String>,
    /// crt_req_origin_addr_get's string (libc heap, freed with the RPC).
    orig_uri: *mut std::ffi::c_char,
    /// `crt_reply_send_input_free`: the received message goes as soon as the reply is out.
    release_input_early: bool,
    /// When a server RPC arrived (the start of its `src_timeout`).
    arrived: Option<std::time::Instant>,
    /// A client RPC's request header destination (primary rank, tag), written when it is sent
    /// (upstream fills cch_dst_rank/cch_dst_tag while encoding the request): (0, 0) before.
    hdr_dst: (u32, u32),
    /// A client RPC's request header source rank, also written when it is sent: 0 before.
    hdr_src: u32,
}

#[repr(C)]
pub struct RpcPriv {
    /// What C sees; first, so a `crt_rpc_t *` is the `RpcPriv *`.
    pub rpc: crt_rpc_t,
    refs: AtomicU32,
    ctx: Arc<Context>,
    info: OpcInfo,
    srv: bool,
    state: Mutex<RpcState>,
}

// SAFETY: the raw pointers inside crt_rpc_t (context handle, bodies) are owned by this object
// or outlive it; cross-thread use is serialised by the state mutex and the reference count,
// as upstream's RPCs are shared between threads.
unsafe impl Send for RpcPriv {}
unsafe impl Sync for RpcPriv {}

fn lock(m: &Mutex<RpcState>) -> MutexGuard<'_, RpcState> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn req_fmt(info: &OpcInfo) -> Option<&'static crt_req_format> {
    // SAFETY: the format registered with crt_proto_register outlives the registration
    // (crt_proto_register's contract, as upstream's).
    unsafe { (info.req_fmt as *const crt_req_format).as_ref() }
}

/// Runs a body proc over `data` for `op` with `buf` (encode: grows as needed).
fn run_proc(f: crate::sys::crt_proc_cb_t, data: *mut c_void, buf: &mut [u8], op: Op) -> Result<Vec<u8>, i32> {
    let Some(f) = f else { return Ok(Vec::new()) };
    if data.is_null() {
        return Ok(Vec::new());
    }
    let mut p = Proc::new(buf, op);
    // SAFETY: a registered proc function given a live proc and the body struct it was
    // registered for (allocated with the format's size).
    let rc = unsafe { f(&mut p as *mut Proc<'_> as crt_proc_t, data) };
    if rc != 0 {
        return Err(rc);
    }
    Ok(if op == Op::Encode { p.encoded().to_vec() } else { Vec::new() })
}

impl RpcPriv {
    /// A new RPC with one reference; bodies zeroed at the format's sizes.
    fn alloc(ctx: Arc<Context>, info: OpcInfo, srv: bool, ep: crt_endpoint_t) -> *mut RpcPriv {
        let body = |n: usize| {
            if n == 0 {
                std::ptr::null_mut()
            } else {
                // SAFETY: plain zeroed allocation, freed in free().
                unsafe { libc::calloc(1, n) }
            }
        };
        let rpc = crt_rpc_t {
            cr_ctx: Arc::as_ptr(&ctx) as *mut c_void,
            cr_ep: ep,
            cr_opc: info.opc,
            cr_input: body(info.size_in),
            cr_output: body(info.size_out),
            cr_input_size: info.size_in,
            cr_output_size: info.size_out,
            cr_co_bulk_hdl: std::ptr::null_mut(),
        };
        Box::into_raw(Box::new(RpcPriv {
            rpc,
            refs: AtomicU32::new(1),
            ctx,
            info,
            srv,
            state: Mutex::new(RpcState {
                timeout_sec: 0,
                token: None,
                replied: false,
                op: None,
                cb: None,
                cb_arg: 0,
                src_rank: CRT_NO_RANK,
                src_timeout: 0,
                src_peer: None,
                body: Vec::new(),
                in_decoded: false,
                out_decoded: false,
                hdr_hlc: 0,
                sent_to: None,
                orig_uri: std::ptr::null_mut(),
                release_input_early: false,
                arrived: None,
                hdr_dst: (0, 0),
                hdr_src: 0,
            }),
        }))
    }

    pub fn info(&self) -> &OpcInfo {
        &self.info
    }

    pub fn is_server(&self) -> bool {
        self.srv
    }

    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// The sender of a server RPC.
    pub fn src_peer(&self) -> Option<Peer> {
        lock(&self.state).src_peer
    }

    /// The sender's HLC timestamp from the header received for this RPC: the request's on the
    /// server side, the reply's on the client side (0 before one arrived). Upstream's
    /// `crp_req_hdr.cch_hlc` / `crp_reply_hdr.cch_hlc`, which SWIM uses for message delays.
    #[allow(dead_code)] // SWIM's delay sampling (crt_swim.rs) is its first user
    pub(crate) fn hdr_hlc(&self) -> u64 {
        lock(&self.state).hdr_hlc
    }

    pub fn addref(&self) {
        self.refs.fetch_add(1, Ordering::AcqRel);
    }

    /// Drops a reference; the last one runs the FREE pass over decoded bodies and frees.
    ///
    /// # Safety
    /// `p` came from [`create`] or the server dispatch and holds the reference dropped here.
    pub unsafe fn decref(p: *mut RpcPriv) {
        // SAFETY: p is live while the caller holds a reference.
        let this = unsafe { &*p };
        if this.refs.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // SAFETY: the last reference is the caller's, handed over.
        unsafe { RpcPriv::destroy(p) };
    }

    /// Frees an RPC whose last reference went (upstream `crt_req_destroy`): a server RPC whose
    /// handler never replied answers -DER_NOREPLY first; then the FREE pass over decoded
    /// bodies.
    ///
    /// # Safety
    /// `p` came from [`create`] or the server dispatch, and nobody holds a reference any more.
    pub unsafe fn destroy(p: *mut RpcPriv) {
        // SAFETY: p is live until freed below.
        let this = unsafe { &*p };
        let pending = lock(&this.state).token.take();
        if let Some(tok) = pending {
            let _ = this.ctx.endpoint().respond_error(tok, DER_NOREPLY);
        }
        crate::corpc::forget(p as usize);
        // SAFETY: no reference left: nobody else can reach p; it came from Box::into_raw.
        let mut b = unsafe { Box::from_raw(p) };
        let st = b.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if !st.orig_uri.is_null() {
            // SAFETY: made by libc::strdup in origin_addr(), freed once here.
            unsafe { libc::free(st.orig_uri as *mut c_void) };
            st.orig_uri = std::ptr::null_mut();
        }
        if let Some(fmt) = req_fmt(&b.info) {
            if st.in_decoded {
                let _ = run_proc(fmt.crf_proc_in, b.rpc.cr_input, &mut [], Op::Free);
            }
            if st.out_decoded {
                let _ = run_proc(fmt.crf_proc_out, b.rpc.cr_output, &mut [], Op::Free);
            }
        }
        // SAFETY: the bodies came from calloc in alloc() (or are NULL).
        unsafe {
            libc::free(b.rpc.cr_input);
            libc::free(b.rpc.cr_output);
        }
    }

    pub fn set_timeout(&self, sec: u32) -> Result<(), i32> {
        if sec == 0 {
            return Err(der::DER_INVAL);
        }
        lock(&self.state).timeout_sec = sec;
        Ok(())
    }

    /// `crt_req_origin_addr_get`: the address (URI) of the other end as a string the RPC owns:
    /// a server RPC's sender, a client RPC's target once sent; upstream's "NOINFO" before that
    /// (no transport handle yet), "NONE" when the address has no textual form, "NOMEM".
    pub fn origin_addr(&self) -> *mut std::ffi::c_char {
        const NOINFO: &[u8] = b"NOINFO\0";
        const NONE: &[u8] = b"NONE\0";
        const NOMEM: &[u8] = b"NOMEM\0";
        let mut st = lock(&self.state);
        if !st.orig_uri.is_null() {
            return st.orig_uri;
        }
        let uri = match (self.srv, st.src_peer, &st.sent_to) {
            (true, Some(peer), _) => self.ctx.endpoint().peer_uri(peer).ok(),
            (false, _, Some(u)) => Some(u.clone()),
            _ => return NOINFO.as_ptr() as *mut std::ffi::c_char,
        };
        let Some(c) = uri.and_then(|u| std::ffi::CString::new(u).ok()) else {
            return NONE.as_ptr() as *mut std::ffi::c_char;
        };
        // SAFETY: c is a valid C string; the copy is owned by the RPC (freed in destroy).
        let dup = unsafe { libc::strdup(c.as_ptr()) };
        if dup.is_null() {
            return NOMEM.as_ptr() as *mut std::ffi::c_char;
        }
        st.orig_uri = dup;
        dup
    }

    pub fn timeout(&self) -> u32 {
        match lock(&self.state).timeout_sec {
            0 => self.ctx.timeout(),
            t => t,
        }
    }

    /// `crt_req_src_rank_get`: the request header's source rank. A client RPC's is 0 until it
    /// is sent, then this process's rank (CRT_NO_RANK in a client), as upstream.
    pub fn src_rank(&self) -> Result<u32, i32> {
        let st = lock(&self.state);
        Ok(if self.srv { st.src_rank } else { st.hdr_src })
    }

    /// `crt_req_dst_rank_get` / `crt_req_dst_tag_get`: the request header's destination.
    /// A server RPC: the rank:tag it was addressed to; a client RPC: what its header carried
    /// when sent (the target's primary rank and tag), 0 and 0 before, as upstream.
    pub fn dst(&self) -> (u32, u32) {
        if self.srv {
            (self.rpc.cr_ep.ep_rank, self.rpc.cr_ep.ep_tag)
        } else {
            lock(&self.state).hdr_dst
        }
    }

    /// `crt_req_src_timeout_get`: a server RPC's sender's timeout; a client RPC's own (upstream
    /// returns crp_timeout_sec either way).
    pub fn src_timeout(&self) -> Result<u32, i32> {
        if !self.srv {
            return Ok(self.timeout());
        }
        Ok(lock(&self.state).src_timeout)
    }

    /// What is left of a server RPC's `src_timeout` (whole seconds since it arrived taken
    /// off, at least 1): the timeout its forwarded requests get, as upstream's deadline.
    pub fn remaining_timeout(&self) -> Option<u32> {
        let st = lock(&self.state);
        let t = st.arrived?;
        (st.src_timeout > 0).then(|| remaining_secs(st.src_timeout, t.elapsed()))
    }

    /// `crt_reply_send_input_free`: the reply also releases the received message early.
    pub fn set_release_input_early(&self) {
        lock(&self.state).release_input_early = true;
    }

    /// `crt_req_abort`: ends a request in flight at once as if its timeout had passed (its
    /// callback gets -DER_TIMEDOUT: upstream's abort moves the RPC's deadline to now). A
    /// request not in flight (done, or not sent): nothing to do, 0, as upstream.
    pub fn abort(&self) -> Result<(), i32> {
        let Some(op) = lock(&self.state).op else { return Ok(()) };
        self.ctx.endpoint().cancel(op).map_err(|e| e.der())
    }

    /// `crt_reply_send`: encodes the output and answers the request.
    pub fn reply_send(&self) -> Result<(), i32> {
        if let Some(r) = crate::corpc::local_reply(self as *const RpcPriv as usize) {
            return r;
        }
        self.reply_send_plain()
    }

    fn reply_send_plain(&self) -> Result<(), i32> {
        if !self.srv {
            return Err(der::DER_INVAL);
        }
        let mut st = lock(&self.state);
        if self.info.no_reply {
            return Ok(());
        }
        let token = match st.token.take() {
            Some(t) => t,
            // replied already: upstream's second HG_Respond finds the response's send
            // still posted (NA_BUSY), so -DER_BUSY
            None if st.replied => return Err(der::DER_BUSY),
            None => return Err(der::DER_INVAL),
        };
        st.replied = true;
        drop(st);
        let mut buf = vec![0u8; 4096];
        let body = match req_fmt(&self.info) {
            Some(fmt) => run_proc(fmt.crf_proc_out, self.rpc.cr_output, &mut buf, Op::Encode),
            None => Ok(Vec::new()),
        };
        let mut ep = self.ctx.endpoint();
        let r = match body {
            Ok(b) => ep.respond(token, b).map_err(|e| e.der()),
            Err(rc) => {
                let _ = ep.respond_error(token, rc);
                Err(rc)
            }
        };
        drop(ep);
        self.release_input_if_asked();
        r
    }

    /// After the reply: drop the received message if `crt_reply_send_input_free` asked
    /// (upstream's HG_Release_input_buf); decoded values pointing into it are then invalid.
    fn release_input_if_asked(&self) {
        let mut st = lock(&self.state);
        if st.release_input_early && self.srv {
            st.body = Vec::new();
        }
    }
}

impl RpcPriv {
    /// A collective node's reply to its parent once its subtree is done: the output, or `rc`.
    pub fn reply_now(&self, rc: i32) -> Result<(), i32> {
        if rc == 0 {
            return self.reply_send_plain();
        }
        let token = lock(&self.state).token.take().ok_or(der::DER_INVAL)?;
        lock(&self.state).replied = true;
        let r = self.ctx.endpoint().respond_error(token, rc).map_err(|e| e.der());
        self.release_input_if_asked();
        r
    }
}

/// `timeout` seconds less the whole seconds of `elapsed`, at least 1 (upstream's
/// crt_deadline_to_timeout on a deadline of arrival + timeout).
pub fn remaining_secs(timeout: u32, elapsed: Duration) -> u32 {
    let gone = u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX);
    timeout.saturating_sub(gone).max(1)
}

/// `crt_req_create`: -DER_UNREG for an opcode nobody registered.
pub fn create(ctx: Arc<Context>, ep: Option<crt_endpoint_t>, opc: u32) -> Result<*mut RpcPriv, i32> {
    let info = register::lookup(opc).ok_or(DER_UNREG)?;
    let ep = ep.unwrap_or(crt_endpoint_t { ep_grp: std::ptr::null_mut(), ep_rank: 0, ep_tag: 0 });
    Ok(RpcPriv::alloc(ctx, info, false, ep))
}

/// Calls the completion callback once with `rc`.
pub(crate) fn complete(p: *mut RpcPriv, rc: i32) {
    // SAFETY: p holds the send's reference until the decref below.
    let this = unsafe { &*p };
    let (cb, arg) = {
        let st = lock(&this.state);
        (st.cb, st.cb_arg)
    };
    if let Some(cb) = cb {
        let info = crt_cb_info { cci_rpc: p as *mut crt_rpc_t, cci_arg: arg as *mut c_void, cci_rc: rc };
        // SAFETY: the caller's completion callback with a live RPC.
        unsafe { cb(&info) };
    }
    // SAFETY: drops the reference crt_req_send took over.
    unsafe { RpcPriv::decref(p) };
}

/// `crt_req_send`: takes over the caller's reference. Errors before the request leaves are
/// reported through the callback (as upstream), and the call still returns 0.
///
/// # Safety
/// `p` is a live client RPC whose reference the caller gives up.
pub unsafe fn send(p: *mut RpcPriv, cb: crt_cb_t, arg: *mut c_void) -> i32 {
    // SAFETY: the caller's reference keeps p alive.
    let this = unsafe { &*p };
    if this.srv {
        return der::DER_INVAL;
    }
    {
        let mut st = lock(&this.state);
        st.cb = cb;
        st.cb_arg = arg as usize;
    }
    if crate::corpc::is_root(p as usize) {
        // The root runs the handler on this very request: its header names this process
        // as the source, as upstream's does once sent.
        lock(&this.state).hdr_src =
            if crate::init::is_service() { group::self_rank().unwrap_or(CRT_NO_RANK) } else { CRT_NO_RANK };
        return crate::corpc::root_send(p as usize);
    }
    if target_uri(this).is_err() {
        // Not in the cache: ask the group's service rank (CRT_OPC_URI_LOOKUP), then go on.
        match psr_for(this) {
            Some(psr) => {
                if let Err(rc) = uri_lookup(p, psr) {
                    complete(p, rc);
                }
            }
            None => complete(p, DER_OOG),
        }
        return 0;
    }
    proceed(p);
    0
}

/// Takes a CRT_QUOTA_RPCS slot, then a credit, and sends; or queues (upstream
/// crt_context_req_track). URI lookups bypass both, as upstream's.
fn proceed(p: *mut RpcPriv) {
    // SAFETY: p holds the send's reference.
    let this = unsafe { &*p };
    if this.info.opc != crate::internal::CRT_OPC_URI_LOOKUP
        && !this.ctx.rpc_quota_acquire(this.rpc.cr_ep.ep_rank, p as usize)
    {
        return; // queued: submitted when a request in flight completes
    }
    proceed_credit(p);
}

/// Takes a credit and sends, or queues.
fn proceed_credit(p: *mut RpcPriv) {
    // SAFETY: p holds the send's reference.
    let this = unsafe { &*p };
    if !this.ctx.credit_acquire(this.rpc.cr_ep.ep_rank, this.rpc.cr_ep.ep_tag, p as usize, this.info.queue_front) {
        return; // queued: sent when a credit comes back
    }
    launch(p);
}

/// The name of the RPC's group when it is not the primary.
fn group_of(this: &RpcPriv) -> Option<String> {
    let ep = &this.rpc.cr_ep;
    if ep.ep_grp.is_null() {
        return None;
    }
    // SAFETY: a non-NULL ep_grp is a group handle of this library.
    let name = unsafe { (*ep.ep_grp).cg_grpid.as_ref().map(|c| std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()) }?;
    let primary = crate::init::settings().map(|s| s.grpid).unwrap_or_default();
    (name != primary || (!crate::init::is_service() && group::is_attached(&name))).then_some(name)
}

/// Which rank to ask for an unknown rank's address: the lowest other rank of the group whose
/// address is known (upstream asks the group's PSR).
fn psr_for(this: &RpcPriv) -> Option<u32> {
    let target = this.rpc.cr_ep.ep_rank;
    match group_of(this) {
        Some(g) => group::attached_ranks(&g)?.into_iter().find(|r| *r != target),
        None => group::ranks().into_iter().find(|r| *r != target && Some(*r) != group::self_rank() && group::uri(*r, 0).is_ok()),
    }
}

struct Lookup {
    orig: usize,
    grp: Option<String>,
    _name: std::ffi::CString,
}

/// Sends CRT_OPC_URI_LOOKUP for the RPC's rank:tag to `psr`.
fn uri_lookup(p: *mut RpcPriv, psr: u32) -> Result<(), i32> {
    // SAFETY: p holds the send's reference.
    let this = unsafe { &*p };
    let grp = group_of(this);
    let gname = grp.clone().unwrap_or_else(|| crate::init::settings().map(|s| s.grpid).unwrap_or_default());
    let name = std::ffi::CString::new(gname).map_err(|_| der::DER_INVAL)?;
    let ep = crt_endpoint_t { ep_grp: this.rpc.cr_ep.ep_grp, ep_rank: psr, ep_tag: 0 };
    let lp = create(this.ctx.clone(), Some(ep), crate::internal::CRT_OPC_URI_LOOKUP)?;
    // SAFETY: lp was just created with the lookup format: its input is a UriLookupIn.
    unsafe {
        let input = &mut *((*lp).rpc.cr_input as *mut crate::internal::UriLookupIn);
        input.ul_grp_id = name.as_ptr() as *mut std::ffi::c_char;
        input.ul_rank = this.rpc.cr_ep.ep_rank;
        input.ul_tag = this.rpc.cr_ep.ep_tag;
    }
    let arg = Box::into_raw(Box::new(Lookup { orig: p as usize, grp, _name: name }));
    // SAFETY: lp's creation reference goes to send; the callback owns arg.
    unsafe { send(lp, Some(uri_lookup_done), arg as *mut c_void) };
    Ok(())
}

unsafe extern "C" fn uri_lookup_done(info: *const crt_cb_info) {
    // SAFETY: cart's RPC layer passes a valid info whose argument is our Lookup box.
    let info = unsafe { &*info };
    // SAFETY: made in uri_lookup, completed exactly once.
    let l = unsafe { Box::from_raw(info.cci_arg as *mut Lookup) };
    let p = l.orig as *mut RpcPriv;
    let mut rc = info.cci_rc;
    if rc == 0 {
        // SAFETY: a completed lookup RPC: its output is a UriLookupOut.
        let out = unsafe { &*((*info.cci_rpc).cr_output as *const crate::internal::UriLookupOut) };
        rc = out.ul_rc;
        if rc == 0 && !out.ul_uri.is_null() {
            // SAFETY: a decoded string, NUL-terminated.
            let uri = unsafe { std::ffi::CStr::from_ptr(out.ul_uri) }.to_string_lossy().into_owned();
            // SAFETY: p holds the send's reference.
            let ep = unsafe { (*p).rpc.cr_ep };
            rc = group::cache_insert(l.grp.as_deref(), ep.ep_rank, ep.ep_tag, &uri).err().unwrap_or(0);
        } else if rc == 0 {
            rc = DER_OOG;
        }
    }
    if rc == 0 {
        proceed(p);
    } else {
        complete(p, rc);
    }
}

/// Sends an RPC that holds a credit; a failure completes it (and passes the credit on).
fn launch(p: *mut RpcPriv) {
    // SAFETY: p holds the send's reference.
    let this = unsafe { &*p };
    if let Err(rc) = start(this, p) {
        finish(p, rc);
    }
}

/// Completes a sent (or failed-to-send) RPC, returns its credit and launches the next waiter.
fn finish(p: *mut RpcPriv, rc: i32) {
    // SAFETY: p holds the send's reference until complete().
    let (ctx, rank, tag, opc) = unsafe { ((*p).ctx.clone(), (*p).rpc.cr_ep.ep_rank, (*p).rpc.cr_ep.ep_tag, (*p).info.opc) };
    complete(p, rc);
    // its quota slot goes to the oldest waiting request (upstream crt_context_req_untrack)
    let quota_next = if opc != crate::internal::CRT_OPC_URI_LOOKUP { ctx.rpc_quota_release() } else { None };
    if let Some(next) = ctx.credit_release(rank, tag) {
        launch(next as *mut RpcPriv);
    }
    if let Some(next) = quota_next {
        proceed_credit(next as *mut RpcPriv);
    }
}

/// A request still waiting (for a credit: `holds_quota`, it has its quota slot; or for a
/// quota slot) when its rank is aborted: completed with -DER_TIMEDOUT (upstream's abort moves the
/// RPC's deadline to now, and its timeout handler completes a queued RPC so), and a slot it held goes
/// to the next request waiting for one.
pub fn cancel_queued(p: usize, holds_quota: bool) {
    let p = p as *mut RpcPriv;
    // SAFETY: a queued request holds the send's reference until complete().
    let (ctx, opc) = unsafe { ((*p).ctx.clone(), (*p).info.opc) };
    complete(p, der::DER_TIMEDOUT);
    if holds_quota && opc != crate::internal::CRT_OPC_URI_LOOKUP {
        if let Some(next) = ctx.rpc_quota_release() {
            proceed_credit(next as *mut RpcPriv);
        }
    }
}

const DER_OOG: i32 = -1019;

/// The address of the RPC's rank:tag in its group: the primary's (`ep_grp` NULL or the
/// primary) or an attached group's.
fn target_uri(this: &RpcPriv) -> Result<String, i32> {
    let ep = &this.rpc.cr_ep;
    if !ep.ep_grp.is_null() {
        // SAFETY: a non-NULL ep_grp is a group handle of this library (crt_group_attach),
        // whose name is a C string it owns.
        let name = unsafe { (*ep.ep_grp).cg_grpid.as_ref().map(|c| std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()) };
        if let Some(n) = name {
            let primary = crate::init::settings().map(|s| s.grpid).unwrap_or_default();
            if n != primary || (!crate::init::is_service() && group::is_attached(&n)) {
                // A local secondary group addresses its members by their primary rank
                // (upstream's crt_grp_lc_lookup); any other name is an attached group.
                if n != primary && crate::secondary::ranks(&n).is_some() {
                    let pri = crate::secondary::s2p(&n, ep.ep_rank)?;
                    return group::uri(pri, ep.ep_tag);
                }
                return group::attached_uri(&n, ep.ep_rank, ep.ep_tag);
            }
        }
    }
    group::uri(ep.ep_rank, ep.ep_tag)
}

/// The primary rank a request header names as its destination: a local secondary group's
/// rank translated (upstream crt_grp_priv_get_primary_rank), any other rank as it is.
fn dst_primary_rank(this: &RpcPriv) -> u32 {
    let ep = &this.rpc.cr_ep;
    if ep.ep_grp.is_null() {
        return ep.ep_rank;
    }
    // SAFETY: a non-NULL ep_grp is a group handle of this library, whose name is a C string
    // it owns.
    let name = unsafe { (*ep.ep_grp).cg_grpid.as_ref().map(|c| std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()) };
    match name {
        Some(n) if crate::secondary::ranks(&n).is_some() => crate::secondary::s2p(&n, ep.ep_rank).unwrap_or(ep.ep_rank),
        _ => ep.ep_rank,
    }
}

fn start(this: &RpcPriv, p: *mut RpcPriv) -> Result<(), i32> {
    let uri = target_uri(this)?;
    {
        let mut st = lock(&this.state);
        st.hdr_dst = (dst_primary_rank(this), this.rpc.cr_ep.ep_tag);
        st.hdr_src = if crate::init::is_service() { group::self_rank().unwrap_or(CRT_NO_RANK) } else { CRT_NO_RANK };
    }
    let mut buf = vec![0u8; 4096];
    let input = match req_fmt(&this.info) {
        Some(fmt) => run_proc(fmt.crf_proc_in, this.rpc.cr_input, &mut buf, Op::Encode)?,
        None => Vec::new(),
    };
    let timeout = this.timeout();
    let mut body = Vec::with_capacity(HDR + input.len());
    body.extend_from_slice(&group::self_rank().unwrap_or(CRT_NO_RANK).to_le_bytes());
    let co = crate::corpc::child_header(p as usize);
    let flag = if co.is_some() { crate::corpc::WIRE_FLAG } else { 0 };
    body.extend_from_slice(&(timeout | flag).to_le_bytes());
    body.extend_from_slice(&co.unwrap_or_default());
    body.extend_from_slice(&input);
    let limit = (!this.info.no_timeout).then(|| Duration::from_secs(timeout as u64));
    let mut ep = this.ctx.endpoint();
    let peer = ep.lookup(&uri).map_err(|e| e.der())?;
    let op = if this.info.no_reply {
        ep.send_oneway(peer, this.info.opc, body, limit, Notify::Event(p as u64))
    } else {
        ep.send_request(peer, this.info.opc, body, limit, Notify::Event(p as u64))
    }
    .map_err(|e| e.der())?;
    drop(ep);
    this.ctx.track(op, this.rpc.cr_ep.ep_rank, this.rpc.cr_ep.ep_tag);
    let mut st = lock(&this.state);
    st.op = Some(op);
    st.sent_to = Some(uri);
    Ok(())
}

/// A request's end, from progress: decode the output, run the callback, drop the reference.
fn completed(c: Completion) {
    let p = c.user as *mut RpcPriv;
    // SAFETY: the user value of every operation this module starts is its live RPC, kept
    // alive by the send's reference until complete() drops it.
    let this = unsafe { &*p };
    this.ctx.untrack(c.op);
    lock(&this.state).op = None;
    // The reply header's HLC (upstream crt_proc_out_common): a synchronisation error fails
    // the RPC, unless it is SWIM's, once the output is decoded.
    let hlc_ok = match c.hlc {
        Some(h) => {
            lock(&this.state).hdr_hlc = h;
            crate::hlc::receive(crate::init::is_service(), h, "reply", this.info.opc, this.rpc.cr_ep.ep_rank)
                || crate::hlc::opc_is_swim(this.info.opc)
        }
        None => true,
    };
    let rc = match c.result {
        // A request's transport operation is only ever canceled by an abort (crt_req_abort,
        // crt_ep_abort, crt_rank_abort(_all), a forced context destroy), which upstream turns
        // into an expired deadline: the callback sees -DER_TIMEDOUT.
        Err(e) if e.der() == der::DER_CANCELED => der::DER_TIMEDOUT,
        Err(e) => e.der(),
        Ok(_) if this.info.no_reply => 0,
        Ok(mut body) => match req_fmt(&this.info) {
            Some(fmt) if fmt.crf_proc_out.is_some() && !this.rpc.cr_output.is_null() => {
                let r = run_proc(fmt.crf_proc_out, this.rpc.cr_output, &mut body, Op::Decode);
                let mut st = lock(&this.state);
                st.out_decoded = true;
                st.body = body;
                r.err().unwrap_or(0)
            }
            _ => 0,
        },
    };
    finish(p, if hlc_ok { rc } else { crate::hlc::DER_HLC_SYNC });
}

/// The server side of one incoming request.
fn incoming(ctx: &Arc<Context>, inc: Incoming) {
    let reply_err = |tok: Option<ReplyToken>, rc: i32| {
        if let Some(t) = tok {
            let _ = ctx.endpoint().respond_error(t, rc);
        }
    };
    let Some(info) = register::lookup(inc.opcode) else {
        return reply_err(inc.reply, DER_UNREG);
    };
    if inc.body.len() < HDR {
        return reply_err(inc.reply, der::DER_PROTO);
    }
    let src_rank = u32::from_le_bytes(inc.body[0..4].try_into().unwrap_or_default());
    let mut src_timeout = u32::from_le_bytes(inc.body[4..8].try_into().unwrap_or_default());
    let mut skip = HDR;
    let mut co_hdr = None;
    if src_timeout & crate::corpc::WIRE_FLAG != 0 {
        src_timeout &= !crate::corpc::WIRE_FLAG;
        let Some((h, n)) = crate::corpc::Header::decode(&inc.body[HDR..]) else {
            return reply_err(inc.reply, der::DER_PROTO);
        };
        co_hdr = Some(h);
        skip += n;
    }
    // The request header's HLC (upstream crt_hg_unpack_header): a synchronisation error fails
    // every RPC but SWIM's with -DER_HLC_SYNC, without running its handler.
    let hlc_ok = crate::hlc::receive(crate::init::is_service(), inc.hlc, "request", inc.opcode, src_rank)
        || crate::hlc::opc_is_swim(inc.opcode);
    let ep = crt_endpoint_t { ep_grp: std::ptr::null_mut(), ep_rank: group::self_rank().unwrap_or(CRT_NO_RANK), ep_tag: ctx.idx() };
    let p = RpcPriv::alloc(ctx.clone(), info, true, ep);
    // SAFETY: p was just allocated with one reference, owned here.
    let this = unsafe { &*p };
    let src_peer = inc.peer;
    let mut body = inc.body;
    let decoded = match req_fmt(&info) {
        Some(fmt) if fmt.crf_proc_in.is_some() && !this.rpc.cr_input.is_null() => {
            let r = run_proc(fmt.crf_proc_in, this.rpc.cr_input, &mut body[skip..], Op::Decode);
            Some(r)
        }
        _ => None,
    };
    {
        let mut st = lock(&this.state);
        st.src_rank = src_rank;
        st.src_timeout = src_timeout;
        st.src_peer = Some(src_peer);
        st.arrived = Some(std::time::Instant::now());
        st.token = inc.reply;
        st.in_decoded = decoded.is_some();
        st.body = body;
        st.hdr_hlc = inc.hlc;
    }
    if !hlc_ok {
        let tok = lock(&this.state).token.take();
        reply_err(tok, crate::hlc::DER_HLC_SYNC);
        // SAFETY: drops the reference taken at allocation.
        return unsafe { RpcPriv::decref(p) };
    }
    if let Some(Err(rc)) = decoded {
        let tok = lock(&this.state).token.take();
        reply_err(tok, rc);
        // SAFETY: drops the reference taken at allocation.
        return unsafe { RpcPriv::decref(p) };
    }
    if info.handler == 0 {
        let tok = lock(&this.state).token.take();
        reply_err(tok, DER_UNREG);
        // SAFETY: as above.
        return unsafe { RpcPriv::decref(p) };
    }
    if let Some(h) = co_hdr {
        // The collective layer dispatches it (after pulling the parent's bulk, if any),
        // taking over the reference.
        return crate::corpc::server_start(p as usize, h);
    }
    match ctx.rpc_task() {
        Some(task) => {
            type Task = unsafe extern "C" fn(*mut c_void, *mut c_void, Option<unsafe extern "C" fn(*mut c_void)>, *mut c_void) -> i32;
            // SAFETY: process_cb is the crt_rpc_task_t registered for this context.
            let f: Task = unsafe { std::mem::transmute::<usize, Task>(task.process_cb) };
            // SAFETY: the engine's callback: it runs handle_rpc(p) later or now, which drops
            // the reference; on failure it never will, so the error path drops it here.
            let rc = unsafe { f(Arc::as_ptr(ctx) as *mut c_void, p as *mut c_void, Some(handle_rpc), task.arg as *mut c_void) };
            if rc != 0 {
                let tok = lock(&this.state).token.take();
                reply_err(tok, rc);
                // SAFETY: as above.
                unsafe { RpcPriv::decref(p) };
            }
        }
        // SAFETY: p holds its reference for handle_rpc.
        None => unsafe { handle_rpc(p as *mut c_void) },
    }
}

/// Runs the handler on an RPC this process holds itself (a collective's root, upstream
/// `crt_rpc_common_hdlr`), through the context's RPC task when one is registered, as for an
/// incoming request. `p` carries one reference for the handler; when the task refuses (its
/// error is returned) the handler never runs and the reference is dropped here.
///
/// # Safety
/// `p` is a live RPC of this library holding the reference given to this call.
pub unsafe fn run_local(p: *mut RpcPriv) -> i32 {
    // SAFETY: p holds the reference given to this call.
    let ctx = unsafe { (*p).ctx.clone() };
    match ctx.rpc_task() {
        Some(task) => {
            type Task = unsafe extern "C" fn(*mut c_void, *mut c_void, Option<unsafe extern "C" fn(*mut c_void)>, *mut c_void) -> i32;
            // SAFETY: process_cb is the crt_rpc_task_t registered for this context.
            let f: Task = unsafe { std::mem::transmute::<usize, Task>(task.process_cb) };
            // SAFETY: the engine's callback runs handle_rpc(p) (which drops the reference) or
            // fails, and then the reference is dropped here.
            let rc = unsafe { f(Arc::as_ptr(&ctx) as *mut c_void, p as *mut c_void, Some(handle_rpc), task.arg as *mut c_void) };
            if rc != 0 {
                // SAFETY: as above.
                unsafe { RpcPriv::decref(p) };
            }
            rc
        }
        None => {
            // SAFETY: p holds its reference for handle_rpc.
            unsafe { handle_rpc(p as *mut c_void) };
            0
        }
    }
}

/// Runs an incoming RPC's handler and drops the dispatch's reference (upstream
/// `crt_handle_rpc`, what the engine's RPC task calls).
///
/// # Safety
/// `arg` is a server RPC from [`incoming`] holding the dispatch's reference.
pub unsafe extern "C" fn handle_rpc(arg: *mut c_void) {
    let p = arg as *mut RpcPriv;
    // SAFETY: the contract.
    let this = unsafe { &*p };
    // SAFETY: the registered handler (non-zero, checked by incoming()).
    let h: crt_rpc_cb_t = unsafe { std::mem::transmute::<usize, crt_rpc_cb_t>(this.info.handler) };
    if let Some(h) = h {
        // SAFETY: the user's handler with its live RPC.
        unsafe { h(p as *mut crt_rpc_t) };
    }
    // SAFETY: the dispatch's reference.
    unsafe { RpcPriv::decref(p) };
}

/// What a context does with one transport event (called from progress, endpoint unlocked).
pub fn dispatch(ctx: &Arc<Context>, ev: Event) {
    match ev {
        Event::Request(inc) => incoming(ctx, inc),
        Event::Completed(c) if c.user & 1 == 1 => crate::bulk::completed(c),
        Event::Completed(c) => completed(c),
    }
}

/// The `RpcPriv` behind a `crt_rpc_t *`.
///
/// # Safety
/// `rpc` is NULL or an RPC of this library that is still referenced.
pub unsafe fn from_c<'a>(rpc: *mut crt_rpc_t) -> Option<&'a RpcPriv> {
    // SAFETY: crt_rpc_t is RpcPriv's first field (repr(C)).
    unsafe { (rpc as *const RpcPriv).as_ref() }
}
