//! One transport endpoint: what a CaRT context owns (upstream: an hg_class/hg_context pair).
//!
//! Single-threaded and caller-driven: nothing happens unless the owner calls
//! [`Endpoint::progress`], which reads libfabric's completion queue, runs the protocol
//! (responses matched to requests by id, rendezvous reads, bulk completions, timeouts) and
//! delivers [`Event`]s to the queue read by [`Endpoint::next_event`] or runs the completion
//! callbacks given with the operations. Between completions it blocks on the CQ's wait fd.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::os::unix::io::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::{NetConfig, Provider, DEFAULT_EAGER_SIZE};
use super::ofi::{Done, Hints, Net, OpKey, PostErr, Region};
use super::uri::Uri;
use super::wire::{
    response_tag, BulkWire, Header, Kind, RndvDesc, BULK_FLAG_RO, BULK_FLAG_WO, FLAG_ERROR, FLAG_RNDV, HEADER_LEN,
    RNDV_DESC_LEN, TAG_UNEXPECTED,
};
use super::{der, Error, Result};

/// A peer endpoint known to this endpoint (an address-vector entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer(u32);

/// An operation started on this endpoint (request, one-way message, bulk transfer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u64);

/// Registered memory owned by the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BulkId(u64);

/// Direction of a bulk transfer, from the caller's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOp {
    /// Pull: remote memory into the local handle (RMA read).
    Get,
    /// Push: local handle into remote memory (RMA write).
    Put,
}

/// What peers may do with a bulk handle (upstream's CRT_BULK_RW/RO/WO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkPerm {
    ReadWrite,
    ReadOnly,
    WriteOnly,
}

/// Serialisable description of a bulk handle (docs/cart-wire.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkDesc(BulkWire);

impl BulkDesc {
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }
    /// Decodes a descriptor; returns it and the number of bytes it took.
    pub fn from_bytes(b: &[u8]) -> Result<(BulkDesc, usize)> {
        BulkWire::decode(b).map(|(w, n)| (BulkDesc(w), n))
    }
    pub fn len(&self) -> u64 {
        self.0.total_len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn seg_count(&self) -> usize {
        self.0.segs.len()
    }
    /// The descriptor names its owner (bound handle).
    pub fn is_bound(&self) -> bool {
        self.0.owner.is_some()
    }
}

/// Tuning of one endpoint.
#[derive(Debug, Clone)]
pub struct EndpointOptions {
    /// Context index: picks the port `D_PORT + idx`.
    pub ctx_idx: u32,
    /// Which `D_INTERFACE`/`D_DOMAIN` entry to use.
    pub iface_idx: usize,
    /// Largest message (header included) sent eagerly; must match the peers'.
    pub eager_size: usize,
    /// Receive buffers kept posted for unexpected messages.
    pub recv_depth: usize,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        EndpointOptions { ctx_idx: 0, iface_idx: 0, eager_size: DEFAULT_EAGER_SIZE, recv_depth: 32 }
    }
}

/// Lets the receiver of a request answer it (once).
#[derive(Debug)]
pub struct ReplyToken {
    peer: Peer,
    id: u64,
    reply_max: u32,
}

impl ReplyToken {
    pub fn peer(&self) -> Peer {
        self.peer
    }
}

/// An incoming request or one-way message.
#[derive(Debug)]
pub struct Incoming {
    pub peer: Peer,
    pub opcode: u32,
    /// The sender's HLC timestamp from the message header.
    pub hlc: u64,
    pub body: Vec<u8>,
    /// `None` for one-way messages.
    pub reply: Option<ReplyToken>,
}

/// The end of an operation: a request's response body, or empty for one-way sends and bulk.
#[derive(Debug)]
pub struct Completion {
    pub op: OpId,
    pub user: u64,
    pub result: Result<Vec<u8>>,
    /// Requests: the responder's HLC timestamp, when a response (body or error status) came
    /// back; `None` for failures without one and for other operations.
    pub hlc: Option<u64>,
}

#[derive(Debug)]
pub enum Event {
    Request(Incoming),
    Completed(Completion),
}

/// How an operation reports its end: an [`Event::Completed`] carrying the user value, or a
/// callback run from inside [`Endpoint::progress`].
pub enum Notify {
    Event(u64),
    Callback(Box<dyn FnOnce(Completion) + Send>),
}

impl Notify {
    pub fn callback(f: impl FnOnce(Completion) + Send + 'static) -> Notify {
        Notify::Callback(Box::new(f))
    }
}

impl From<u64> for Notify {
    fn from(u: u64) -> Notify {
        Notify::Event(u)
    }
}

/// What each posted libfabric operation is for.
enum Lf {
    /// A receive buffer for unexpected messages.
    Pool,
    /// The response receive of request `id`.
    RespRecv(u64),
    Send(SendOwner),
    /// A chunk of rendezvous read `id`.
    RndvRead(u64),
    /// A chunk of bulk transfer `id`.
    Rma(u64),
}

#[derive(Clone, Copy)]
enum SendOwner {
    Request(u64),
    OneWay(u64),
    /// Responses and acknowledgements: nobody waits for them.
    Quiet,
}

enum Logical {
    Req { notify: Notify, peer: Peer, resp_key: Option<OpKey>, rndv: Option<u64> },
    /// `rndv`: the body's rendezvous copy, released on the receiver's RNDV_DONE (or when
    /// the operation fails).
    OneWay { notify: Notify, rndv: Option<u64> },
    Xfer { notify: Notify, remaining: usize, err: Option<Error> },
}

enum RndvDst {
    Request { opcode: u32, id: u64, reply_max: u32, oneway: bool, hlc: u64 },
    Response { op: u64, hlc: u64 },
}

struct RndvIn {
    peer: Peer,
    region: Arc<Region>,
    remaining: usize,
    err: Option<Error>,
    src_id: u64,
    dst: RndvDst,
}

/// A post that met FI_EAGAIN, retried from progress.
enum Retry {
    Send { dest: u64, tag: u64, buf: Vec<u8>, lf: Lf },
    Recv { tag: u64, buf: Vec<u8>, lf: Lf },
    Rma { get: bool, peer: u64, region: Arc<Region>, seg: usize, off: usize, len: usize, raddr: u64, key: u64, lf: Lf },
}

/// Largest single RMA posted; bigger transfers are split so several are in flight.
const RMA_CHUNK: usize = 4 << 20;

pub struct Endpoint {
    provider: Provider,
    uri: String,
    self_raw: Vec<u8>,
    eager: usize,
    peers: Vec<(u64, Vec<u8>)>,
    peer_idx: HashMap<Vec<u8>, Peer>,
    ops: HashMap<u64, Logical>,
    rndv_out: HashMap<u64, Arc<Region>>,
    rndv_in: HashMap<u64, RndvIn>,
    bulks: HashMap<u64, (Arc<Region>, BulkPerm)>,
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    events: VecDeque<Event>,
    backlog: VecDeque<Retry>,
    resp_bufs: Vec<Vec<u8>>,
    done: Vec<Done<Lf>>,
    next_id: u64,
    delivered: usize,
    /// Responses and acknowledgements posted and not completed.
    quiet_sends: usize,
    /// What stamps every message's header (the owner's HLC).
    hlc_source: fn() -> u64,
    /// Upstream's progress modes: `busy` (D_PROGRESS_BUSY) never blocks on the wait fd;
    /// otherwise, for `spindown` (D_PROGRESS_SPINDOWN, default 10 ms) after progress delivered
    /// something, progress polls instead of blocking (`spin_until`), as upstream's
    /// crt_hg_event_progress does after an event, so a quick answer is seen at once.
    busy: bool,
    spindown: Duration,
    spin_until: Option<Instant>,
    // Last: dropped after the maps (Net's Drop closes the libfabric endpoint before freeing
    // the posted operations; Regions keep their domain open until their MRs are closed).
    net: Net<Lf>,
}

fn fab(call: &'static str) -> impl Fn(PostErr<Lf>) -> Error {
    move |e| Error::fabric(call, e.err)
}

impl Endpoint {
    /// Opens an endpoint as configured (upstream: one context's NA class on the provider).
    pub fn open(cfg: &NetConfig, opts: &EndpointOptions) -> Result<Endpoint> {
        if opts.eager_size < HEADER_LEN + 64 + RNDV_DESC_LEN || opts.eager_size > u32::MAX as usize {
            return Err(Error::InvalidArg(format!("eager size {}", opts.eager_size)));
        }
        let provider = cfg.provider;
        let iface = cfg.interfaces.get(opts.iface_idx).map(String::as_str);
        if !cfg.interfaces.is_empty() && iface.is_none() {
            return Err(Error::InvalidArg(format!("interface index {}", opts.iface_idx)));
        }
        let port = cfg.context_port(opts.ctx_idx)?;
        let mut node = None;
        let mut domain = cfg.domains.get(opts.iface_idx).cloned();
        if provider.is_inet() {
            if let Some(name) = iface {
                let ip = super::ofi::iface_ipv4(name)
                    .ok_or_else(|| Error::InvalidArg(format!("interface {name:?} has no IPv4 address")))?;
                node = Some(ip.to_string());
                if domain.is_none() {
                    domain = Some(name.to_owned());
                }
            }
        } else {
            domain = None;
        }
        let service = port.map(|p| p.to_string()).or_else(|| node.as_ref().map(|_| "0".to_owned()));
        let hints = Hints {
            provider: provider.libfabric_name(),
            domain: domain.as_deref(),
            node: node.as_deref(),
            service: service.as_deref(),
            ipv4: provider.is_inet(),
        };
        let mut net = Net::open(&hints).map_err(|e| Error::fabric("fi_getinfo/open", e))?;
        let self_raw = net.name().map_err(|e| Error::fabric("fi_getname", e))?;
        let uri = Uri::from_raw(provider, &self_raw)?.to_string();
        let mut ep = Endpoint {
            provider,
            uri,
            self_raw,
            eager: opts.eager_size,
            peers: Vec::new(),
            peer_idx: HashMap::new(),
            ops: HashMap::new(),
            rndv_out: HashMap::new(),
            rndv_in: HashMap::new(),
            bulks: HashMap::new(),
            deadlines: BinaryHeap::new(),
            events: VecDeque::new(),
            backlog: VecDeque::new(),
            resp_bufs: Vec::new(),
            done: Vec::new(),
            next_id: 1,
            delivered: 0,
            quiet_sends: 0,
            hlc_source: || 0,
            busy: false,
            spindown: Duration::ZERO,
            spin_until: None,
            net,
        };
        for _ in 0..opts.recv_depth.max(1) {
            ep.post_recv(TAG_UNEXPECTED, vec![0u8; ep.eager], Lf::Pool)?;
        }
        Ok(ep)
    }

    /// Sets what stamps the HLC field of every message header from now on (default: 0).
    /// Upstream's progress mode (`D_PROGRESS_BUSY`, `D_PROGRESS_SPINDOWN` in ms; 0: never
    /// spin): see the fields.
    pub fn set_progress_mode(&mut self, busy: bool, spindown: Duration) {
        self.busy = busy;
        self.spindown = spindown;
        self.spin_until = None;
    }

    pub fn set_hlc_source(&mut self, f: fn() -> u64) {
        self.hlc_source = f;
    }

    /// This endpoint's URI (upstream's self URI of the context).
    pub fn uri(&self) -> &str {
        &self.uri
    }
    pub fn provider(&self) -> Provider {
        self.provider
    }
    /// The fd to block on (poll for POLLIN) before calling [`Endpoint::progress`]; `None`
    /// when the provider has none (shm): progress then polls.
    pub fn wait_fd(&self) -> Option<RawFd> {
        self.net.wait_fd()
    }
    pub fn eager_size(&self) -> usize {
        self.eager
    }
    /// Operations started and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.ops.len()
    }
    /// Internal counters, for diagnostics: open operations, rendezvous sent and being
    /// received, deferred posts, posted libfabric operations.
    pub fn debug_state(&self) -> String {
        format!(
            "ops {} rndv_out {} rndv_in {} backlog {} posted {} bulks {}",
            self.ops.len(),
            self.rndv_out.len(),
            self.rndv_in.len(),
            self.backlog.len(),
            self.net.posted(),
            self.bulks.len()
        )
    }

    /// Requests and one-way messages still waiting to be handed to the network (a peer
    /// still connecting): cancelling them now would mean they never leave.
    pub fn unsent_requests(&self) -> usize {
        self.backlog
            .iter()
            .filter(|r| matches!(r, Retry::Send { lf: Lf::Send(SendOwner::Request(_) | SendOwner::OneWay(_)), .. }))
            .count()
    }

    /// Events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn peer_for_raw(&mut self, raw: &[u8]) -> Result<Peer> {
        if let Some(p) = self.peer_idx.get(raw) {
            return Ok(*p);
        }
        let fi = self.net.av_insert(raw).map_err(|e| match e.0 {
            libc::EINVAL | libc::EADDRNOTAVAIL => Error::InvalidUri(format!("address not accepted: {e}")),
            _ => Error::fabric("fi_av_insert", e),
        })?;
        let p = Peer(self.peers.len() as u32);
        self.peers.push((fi, raw.to_vec()));
        self.peer_idx.insert(raw.to_vec(), p);
        Ok(p)
    }

    /// Resolves a peer's URI (upstream: crt_hg_addr_lookup). The provider must be this
    /// endpoint's (or the same network: the two tcp names).
    pub fn lookup(&mut self, uri: &str) -> Result<Peer> {
        let u = Uri::parse(uri)?;
        if !u.provider.same_network(self.provider) {
            return Err(Error::InvalidUri(format!("{uri:?} is not reachable over {}", self.provider)));
        }
        self.peer_for_raw(&u.to_raw())
    }

    /// The URI of a known peer.
    pub fn peer_uri(&self, peer: Peer) -> Result<String> {
        let (_, raw) = self.peers.get(peer.0 as usize).ok_or(Error::NotFound)?;
        Ok(Uri::from_raw(self.provider, raw)?.to_string())
    }

    fn fi_addr(&self, peer: Peer) -> Result<u64> {
        self.peers.get(peer.0 as usize).map(|p| p.0).ok_or(Error::NotFound)
    }

    fn post_send(&mut self, dest: u64, tag: u64, buf: Vec<u8>, lf: Lf) -> Result<()> {
        let quiet = matches!(lf, Lf::Send(SendOwner::Quiet));
        self.quiet_sends += quiet as usize;
        match self.net.tsend(dest, tag, buf, lf) {
            Ok(_) => Ok(()),
            Err(e) if e.err.is_again() => {
                self.backlog.push_back(Retry::Send { dest, tag, buf: e.buf.unwrap_or_default(), lf: e.user });
                Ok(())
            }
            Err(e) => {
                self.quiet_sends -= quiet as usize;
                Err(fab("fi_tsend")(e))
            }
        }
    }

    fn post_recv(&mut self, tag: u64, buf: Vec<u8>, lf: Lf) -> Result<Option<OpKey>> {
        match self.net.trecv(tag, 0, buf, lf) {
            Ok(k) => Ok(Some(k)),
            Err(e) if e.err.is_again() => {
                self.backlog.push_back(Retry::Recv { tag, buf: e.buf.unwrap_or_default(), lf: e.user });
                Ok(None)
            }
            Err(e) => Err(fab("fi_trecv")(e)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn post_rma(&mut self, get: bool, peer: u64, region: &Arc<Region>, seg: usize, off: usize, len: usize, raddr: u64, key: u64, lf: Lf) -> Result<()> {
        match self.net.rma(get, peer, region, seg, off, len, raddr, key, lf) {
            Ok(_) => Ok(()),
            Err(e) if e.err.is_again() => {
                self.backlog.push_back(Retry::Rma { get, peer, region: region.clone(), seg, off, len, raddr, key, lf: e.user });
                Ok(())
            }
            Err(e) => Err(fab(if get { "fi_read" } else { "fi_write" })(e)),
        }
    }

    /// Builds a message: header (+ own address) + body, or a rendezvous descriptor when it
    /// does not fit in `limit`. Returns it and the rendezvous id to release later.
    #[allow(clippy::too_many_arguments)]
    fn build(&mut self, kind: Kind, opcode: u32, id: u64, status: i32, body: Vec<u8>, with_addr: bool, limit: usize) -> Result<(Vec<u8>, Option<u64>)> {
        let addr_len = if with_addr { self.self_raw.len() } else { 0 };
        let mut h = Header {
            kind,
            flags: if status != 0 { FLAG_ERROR } else { 0 },
            addr_len: addr_len as u16,
            opcode,
            status,
            id,
            body_len: body.len() as u64,
            reply_max: self.eager as u32,
            hlc: (self.hlc_source)(),
        };
        if HEADER_LEN + addr_len + body.len() <= limit {
            let mut msg = Vec::with_capacity(HEADER_LEN + addr_len + body.len());
            h.encode(&mut msg);
            if with_addr {
                msg.extend_from_slice(&self.self_raw);
            }
            msg.extend_from_slice(&body);
            return Ok((msg, None));
        }
        let len = body.len() as u64;
        let region = self.net.register(vec![body]).map_err(|e| Error::fabric("fi_mr_reg", e))?;
        let rs = region.remote_segs()[0];
        let rid = self.new_id();
        self.rndv_out.insert(rid, region);
        h.flags |= FLAG_RNDV;
        let mut msg = Vec::with_capacity(HEADER_LEN + addr_len + RNDV_DESC_LEN);
        h.encode(&mut msg);
        if with_addr {
            msg.extend_from_slice(&self.self_raw);
        }
        RndvDesc { id: rid, addr: rs.addr, key: rs.key, len }.encode(&mut msg);
        Ok((msg, Some(rid)))
    }

    /// Sends a request; its response (or error) completes the operation. `timeout`: the
    /// operation fails with [`Error::TimedOut`] when no response came in time.
    pub fn send_request(&mut self, peer: Peer, opcode: u32, body: Vec<u8>, timeout: Option<Duration>, notify: impl Into<Notify>) -> Result<OpId> {
        let dest = self.fi_addr(peer)?;
        let id = self.new_id();
        let buf = self.resp_bufs.pop().unwrap_or_else(|| vec![0u8; self.eager]);
        let resp_key = self.post_recv(response_tag(id), buf, Lf::RespRecv(id))?;
        let (msg, rndv) = match self.build(Kind::Request, opcode, id, 0, body, true, self.eager) {
            Ok(m) => m,
            Err(e) => {
                if let Some(k) = resp_key {
                    self.net.cancel(k);
                }
                return Err(e);
            }
        };
        if let Err(e) = self.post_send(dest, TAG_UNEXPECTED, msg, Lf::Send(SendOwner::Request(id))) {
            if let Some(k) = resp_key {
                self.net.cancel(k);
            }
            if let Some(r) = rndv {
                self.rndv_out.remove(&r);
            }
            return Err(e);
        }
        self.ops.insert(id, Logical::Req { notify: notify.into(), peer, resp_key, rndv });
        if let Some(t) = timeout {
            self.deadlines.push(Reverse((Instant::now() + t, id)));
        }
        Ok(OpId(id))
    }

    /// Sends a one-way message; the operation completes when it has been sent, or fails with
    /// [`Error::TimedOut`] if that takes longer than `timeout` (a peer that cannot be reached).
    pub fn send_oneway(&mut self, peer: Peer, opcode: u32, body: Vec<u8>, timeout: Option<Duration>, notify: impl Into<Notify>) -> Result<OpId> {
        let dest = self.fi_addr(peer)?;
        let id = self.new_id();
        let (msg, rndv) = self.build(Kind::OneWay, opcode, id, 0, body, true, self.eager)?;
        if let Err(e) = self.post_send(dest, TAG_UNEXPECTED, msg, Lf::Send(SendOwner::OneWay(id))) {
            if let Some(r) = rndv {
                self.rndv_out.remove(&r);
            }
            return Err(e);
        }
        self.ops.insert(id, Logical::OneWay { notify: notify.into(), rndv });
        if let Some(t) = timeout {
            self.deadlines.push(Reverse((Instant::now() + t, id)));
        }
        Ok(OpId(id))
    }

    /// Answers a request with a body.
    pub fn respond(&mut self, token: ReplyToken, body: Vec<u8>) -> Result<()> {
        self.respond_status(token, 0, body)
    }

    /// Answers a request with an error status (a negative DER_* code): the origin's operation
    /// fails with [`Error::Remote`].
    pub fn respond_error(&mut self, token: ReplyToken, status: i32) -> Result<()> {
        if status >= 0 {
            return Err(Error::InvalidArg("error status must be negative".into()));
        }
        self.respond_status(token, status, Vec::new())
    }

    fn respond_status(&mut self, token: ReplyToken, status: i32, body: Vec<u8>) -> Result<()> {
        let dest = self.fi_addr(token.peer)?;
        let limit = self.eager.min(token.reply_max as usize);
        let (msg, rndv) = self.build(Kind::Response, 0, token.id, status, body, false, limit)?;
        let r = self.post_send(dest, response_tag(token.id), msg, Lf::Send(SendOwner::Quiet));
        if r.is_err() {
            if let Some(id) = rndv {
                self.rndv_out.remove(&id);
            }
        }
        r
    }

    /// Cancels an operation: it completes now with [`Error::Canceled`] (upstream's
    /// crt_req_abort / bulk abort). Data already on the wire may still arrive; it is dropped.
    pub fn cancel(&mut self, op: OpId) -> Result<()> {
        if !self.ops.contains_key(&op.0) {
            return Err(Error::NotFound);
        }
        self.finish(op.0, Err(Error::Canceled));
        Ok(())
    }

    // ---- bulk ------------------------------------------------------------------------

    /// Registers buffers (a scatter-gather list) for bulk transfers; the endpoint owns them.
    pub fn bulk_create(&mut self, segs: Vec<Vec<u8>>, perm: BulkPerm) -> Result<BulkId> {
        let region = self.net.register(segs).map_err(|e| Error::fabric("fi_mr_reg", e))?;
        let id = self.new_id();
        self.bulks.insert(id, (region, perm));
        Ok(BulkId(id))
    }

    /// Registers memory the caller owns (for the C API: crt_bulk_create over a user sgl).
    ///
    /// # Safety
    /// Each `(ptr, len)` must stay valid for reads and writes, and not be accessed by anyone
    /// else while a transfer on it is in flight, until [`Endpoint::bulk_free`] and the end of
    /// every transfer that used it (or the endpoint is dropped).
    pub unsafe fn bulk_create_raw(&mut self, iov: &[(*mut u8, usize)], perm: BulkPerm) -> Result<BulkId> {
        // SAFETY: forwarded contract.
        let region = unsafe { self.net.register_raw(iov) }.map_err(|e| Error::fabric("fi_mr_reg", e))?;
        let id = self.new_id();
        self.bulks.insert(id, (region, perm));
        Ok(BulkId(id))
    }

    /// Releases a handle; transfers still using it keep its memory until they complete.
    pub fn bulk_free(&mut self, h: BulkId) -> Result<()> {
        self.bulks.remove(&h.0).map(|_| ()).ok_or(Error::NotFound)
    }

    /// Mutable access to a handle's segments; [`Error::Busy`] while a transfer uses it.
    pub fn bulk_segments(&mut self, h: BulkId) -> Result<Vec<&mut [u8]>> {
        let (r, _) = self.bulks.get_mut(&h.0).ok_or(Error::NotFound)?;
        Ok(Arc::get_mut(r).ok_or(Error::Busy)?.segments_mut())
    }

    /// Total length and number of segments.
    pub fn bulk_len(&self, h: BulkId) -> Result<(u64, usize)> {
        let (r, _) = self.bulks.get(&h.0).ok_or(Error::NotFound)?;
        Ok((r.total_len() as u64, r.seg_count()))
    }

    /// The handle's descriptor, to send to a peer; `bind` adds this endpoint's address so the
    /// receiver can transfer without knowing who sent it (upstream's crt_bulk_bind).
    pub fn bulk_desc(&self, h: BulkId, bind: bool) -> Result<BulkDesc> {
        let (r, perm) = self.bulks.get(&h.0).ok_or(Error::NotFound)?;
        let flags = match perm {
            BulkPerm::ReadWrite => 0,
            BulkPerm::ReadOnly => BULK_FLAG_RO,
            BulkPerm::WriteOnly => BULK_FLAG_WO,
        };
        Ok(BulkDesc(BulkWire { flags, owner: bind.then(|| self.self_raw.clone()), segs: r.remote_segs() }))
    }

    /// Transfers `len` bytes between the remote memory `remote` (from `remote_off`) and the
    /// local handle `local` (from `local_off`): [`BulkOp::Get`] pulls, [`BulkOp::Put`] pushes.
    /// `peer`: the remote memory's owner; `None` uses the address bound in the descriptor.
    #[allow(clippy::too_many_arguments)]
    pub fn bulk_transfer(&mut self, op: BulkOp, peer: Option<Peer>, remote: &BulkDesc, remote_off: u64, local: BulkId, local_off: u64, len: u64, notify: impl Into<Notify>) -> Result<OpId> {
        let peer = match (peer, &remote.0.owner) {
            (Some(p), _) => p,
            (None, Some(raw)) => {
                let raw = raw.clone();
                self.peer_for_raw(&raw)?
            }
            (None, None) => return Err(Error::InvalidArg("unbound bulk descriptor and no peer".into())),
        };
        let dest = self.fi_addr(peer)?;
        let get = op == BulkOp::Get;
        if (get && remote.0.flags & BULK_FLAG_WO != 0) || (!get && remote.0.flags & BULK_FLAG_RO != 0) {
            return Err(Error::InvalidArg("bulk permission does not allow this transfer".into()));
        }
        let (region, _) = self.bulks.get(&local.0).ok_or(Error::NotFound)?;
        let region = region.clone();
        let end_r = remote_off.checked_add(len).ok_or(Error::Overflow)?;
        let end_l = local_off.checked_add(len).ok_or(Error::Overflow)?;
        if end_r > remote.len() || end_l > region.total_len() as u64 {
            return Err(Error::Overflow);
        }
        // Split the range into pieces contiguous on both sides.
        let mut pieces = Vec::new();
        let (mut li, mut loff) = locate(&(0..region.seg_count()).map(|i| region.seg_len(i) as u64).collect::<Vec<_>>(), local_off);
        let rlens: Vec<u64> = remote.0.segs.iter().map(|s| s.len).collect();
        let (mut ri, mut roff) = locate(&rlens, remote_off);
        let mut left = len;
        while left > 0 {
            let lavail = region.seg_len(li) as u64 - loff;
            let ravail = rlens[ri] - roff;
            let n = left.min(lavail).min(ravail).min(RMA_CHUNK.min(self.net.max_msg_size()) as u64);
            if n == 0 {
                if lavail == 0 {
                    li += 1;
                    loff = 0;
                }
                if ravail == 0 {
                    ri += 1;
                    roff = 0;
                }
                continue;
            }
            let rs = remote.0.segs[ri];
            pieces.push((li, loff as usize, n as usize, rs.addr + roff, rs.key));
            loff += n;
            roff += n;
            left -= n;
        }
        let id = self.new_id();
        self.ops.insert(id, Logical::Xfer { notify: notify.into(), remaining: pieces.len(), err: None });
        if pieces.is_empty() {
            self.finish(id, Ok(Vec::new()));
            return Ok(OpId(id));
        }
        let total = pieces.len();
        for (k, (seg, off, n, raddr, key)) in pieces.into_iter().enumerate() {
            if let Err(e) = self.post_rma(get, dest, &region, seg, off, n, raddr, key, Lf::Rma(id)) {
                if k == 0 {
                    self.ops.remove(&id);
                    return Err(e);
                }
                // Some pieces are in flight: the transfer fails once they complete.
                if let Some(Logical::Xfer { remaining, err, .. }) = self.ops.get_mut(&id) {
                    *remaining -= total - k;
                    *err = Some(e);
                }
                break;
            }
        }
        Ok(OpId(id))
    }

    // ---- progress --------------------------------------------------------------------

    /// Progresses until nothing is in flight any more: no open operation, no response or
    /// acknowledgement being sent, no rendezvous copy a peer may still pull, no deferred post
    /// (upstream's crt_context_flush). Returns whether it
    /// got there within `timeout`.
    pub fn flush(&mut self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            self.poll_once()?;
            if self.ops.is_empty()
                && self.rndv_out.is_empty()
                && self.rndv_in.is_empty()
                && self.backlog.is_empty()
                && self.quiet_sends == 0
            {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            self.net.wait((deadline - now).min(Duration::from_millis(1)), Duration::MAX);
        }
    }

    /// Pops the next queued event.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Makes progress for at most `timeout`, blocking on the wait fd. Returns as soon as there
    /// is something for the caller: `Ok(n)`, `n` > 0 being the larger of the deliveries made by
    /// this call (events queued, callbacks run) and the events waiting in the queue; or `Ok(0)`
    /// when the time ran out with nothing to report (upstream's crt_progress turns that into
    /// -DER_TIMEDOUT).
    pub fn progress(&mut self, timeout: Duration) -> Result<usize> {
        let start = self.delivered;
        let began = Instant::now();
        let deadline = began + timeout;
        let mut spins = 0u32;
        loop {
            self.poll_once()?;
            let n = (self.delivered - start).max(self.events.len());
            if n > 0 {
                if !self.spindown.is_zero() {
                    self.spin_until = Some(Instant::now() + self.spindown);
                }
                return Ok(n);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(0);
            }
            if self.busy || self.spin_until.is_some_and(|t| now < t) {
                // spinning: poll again without sleeping; let other threads of this core in
                // now and then (two cores may carry several spinning processes)
                spins += 1;
                if spins % 32 == 0 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
                continue;
            }
            self.spin_until = None;
            let mut until = deadline;
            if let Some(Reverse((t, _))) = self.deadlines.peek() {
                until = until.min(*t);
            }
            if !self.backlog.is_empty() {
                // Posts wait for a connection or for queue space: look again soon.
                until = until.min(now + Duration::from_micros(500));
            }
            self.net.wait(until.saturating_duration_since(now), now - began);
        }
    }

    fn poll_once(&mut self) -> Result<()> {
        let mut done = std::mem::take(&mut self.done);
        let r = self.net.poll(&mut done);
        for d in done.drain(..) {
            self.handle(d);
        }
        self.done = done;
        r.map_err(|e| Error::fabric("fi_cq_read", e))?;
        self.retry_backlog();
        if let Some(Reverse((t, _))) = self.deadlines.peek() {
            let now = Instant::now();
            if *t <= now {
                self.expire(now);
            }
        }
        Ok(())
    }

    /// Whether a backlogged post still matters (its operation is open).
    fn still_wanted(&self, lf: &Lf) -> bool {
        match lf {
            Lf::Send(SendOwner::Request(id) | SendOwner::OneWay(id)) | Lf::RespRecv(id) | Lf::Rma(id) => {
                self.ops.contains_key(id)
            }
            Lf::RndvRead(id) => self.rndv_in.contains_key(id),
            Lf::Pool | Lf::Send(SendOwner::Quiet) => true,
        }
    }

    /// Retries every backlogged post once (a peer still connecting must not hold back the
    /// others); those still refused stay, in order. Posts whose operation ended are dropped.
    fn retry_backlog(&mut self) {
        for _ in 0..self.backlog.len() {
            let Some(r) = self.backlog.pop_front() else { break };
            let wanted = match &r {
                Retry::Send { lf, .. } | Retry::Recv { lf, .. } | Retry::Rma { lf, .. } => self.still_wanted(lf),
            };
            if !wanted {
                if let Retry::Rma { lf: Lf::RndvRead(id), .. } = r {
                    self.fail_rndv_piece(id);
                }
                continue;
            }
            let again = match r {
                Retry::Send { dest, tag, buf, lf } => match self.net.tsend(dest, tag, buf, lf) {
                    Ok(_) => None,
                    Err(e) if e.err.is_again() => Some(Retry::Send { dest, tag, buf: e.buf.unwrap_or_default(), lf: e.user }),
                    Err(e) => {
                        self.post_failed(e.user, Error::fabric("fi_tsend", e.err));
                        None
                    }
                },
                Retry::Recv { tag, buf, lf } => match self.net.trecv(tag, 0, buf, lf) {
                    Ok(_) => None,
                    Err(e) if e.err.is_again() => Some(Retry::Recv { tag, buf: e.buf.unwrap_or_default(), lf: e.user }),
                    Err(e) => {
                        self.post_failed(e.user, Error::fabric("fi_trecv", e.err));
                        None
                    }
                },
                Retry::Rma { get, peer, region, seg, off, len, raddr, key, lf } => {
                    match self.net.rma(get, peer, &region, seg, off, len, raddr, key, lf) {
                        Ok(_) => None,
                        Err(e) if e.err.is_again() => {
                            Some(Retry::Rma { get, peer, region, seg, off, len, raddr, key, lf: e.user })
                        }
                        Err(e) => {
                            self.post_failed(e.user, Error::fabric("RMA", e.err));
                            None
                        }
                    }
                }
            };
            if let Some(r) = again {
                self.backlog.push_back(r);
            }
        }
    }

    /// A deferred post failed for good: fail what it belonged to.
    fn post_failed(&mut self, lf: Lf, e: Error) {
        match lf {
            Lf::Send(SendOwner::Request(id) | SendOwner::OneWay(id)) | Lf::RespRecv(id) => self.finish(id, Err(e)),
            Lf::Rma(id) => {
                if let Some(Logical::Xfer { remaining, err, .. }) = self.ops.get_mut(&id) {
                    *remaining -= 1;
                    err.get_or_insert(e);
                    if *remaining == 0 {
                        let e = err.take().unwrap_or(Error::Canceled);
                        self.finish(id, Err(e));
                    }
                }
            }
            Lf::RndvRead(id) => {
                if let Some(ent) = self.rndv_in.get_mut(&id) {
                    ent.err.get_or_insert(e);
                }
                self.fail_rndv_piece(id);
            }
            Lf::Send(SendOwner::Quiet) => self.quiet_sends -= 1,
            Lf::Pool => {}
        }
    }

    fn fail_rndv_piece(&mut self, id: u64) {
        if let Some(ent) = self.rndv_in.get_mut(&id) {
            ent.remaining -= 1;
            ent.err.get_or_insert(Error::Canceled);
            if ent.remaining == 0 {
                self.finish_rndv_in(id);
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(Reverse((t, id))) = self.deadlines.peek().copied() {
            if t > now {
                break;
            }
            self.deadlines.pop();
            if matches!(self.ops.get(&id), Some(Logical::Req { .. } | Logical::OneWay { .. })) {
                self.finish(id, Err(Error::TimedOut));
            }
        }
    }

    fn deliver(&mut self, notify: Notify, c: Completion) {
        self.delivered += 1;
        match notify {
            Notify::Event(user) => self.events.push_back(Event::Completed(Completion { user, ..c })),
            Notify::Callback(f) => f(c),
        }
    }

    /// Ends a logical operation (if still open) and reports it.
    fn finish(&mut self, id: u64, result: Result<Vec<u8>>) {
        self.finish_hlc(id, result, None)
    }

    /// [`Endpoint::finish`] for a request whose response carried the responder's HLC.
    fn finish_hlc(&mut self, id: u64, result: Result<Vec<u8>>, hlc: Option<u64>) {
        let Some(op) = self.ops.remove(&id) else { return };
        let notify = match op {
            Logical::Req { notify, resp_key, rndv, .. } => {
                if let Some(k) = resp_key {
                    self.net.cancel(k);
                }
                if let Some(r) = rndv {
                    self.rndv_out.remove(&r);
                }
                notify
            }
            Logical::OneWay { notify, rndv } => {
                if result.is_err() {
                    if let Some(r) = rndv {
                        self.rndv_out.remove(&r);
                    }
                }
                notify
            }
            Logical::Xfer { notify, .. } => notify,
        };
        self.deliver(notify, Completion { op: OpId(id), user: 0, result, hlc });
    }

    fn handle(&mut self, d: Done<Lf>) {
        match d.user {
            Lf::Pool => {
                let buf = d.buf.unwrap_or_default();
                if d.status.is_ok() {
                    let n = d.len.min(buf.len());
                    self.on_unexpected(&buf[..n]);
                }
                let canceled = matches!(d.status, Err(e) if e.0 == libc::ECANCELED);
                if !canceled {
                    let _ = self.post_recv(TAG_UNEXPECTED, buf, Lf::Pool);
                }
            }
            Lf::RespRecv(id) => {
                let buf = d.buf.unwrap_or_default();
                match d.status {
                    Ok(()) => {
                        let n = d.len.min(buf.len());
                        self.on_response(id, &buf[..n]);
                    }
                    Err(e) if e.0 == libc::ECANCELED => {}
                    Err(e) => self.finish(id, Err(Error::fabric("response receive", e))),
                }
                if buf.len() == self.eager && self.resp_bufs.len() < 256 {
                    self.resp_bufs.push(buf);
                }
            }
            Lf::Send(owner) => match (owner, d.status) {
                (SendOwner::Quiet, _) => self.quiet_sends -= 1,
                (SendOwner::Request(id), Err(e)) => self.finish(id, Err(Error::fabric("fi_tsend", e))),
                (SendOwner::OneWay(id), st) => self.finish(id, st.map(|_| Vec::new()).map_err(|e| Error::fabric("fi_tsend", e))),
                _ => {}
            },
            Lf::RndvRead(rid) => {
                let Some(ent) = self.rndv_in.get_mut(&rid) else { return };
                ent.remaining -= 1;
                if let Err(e) = d.status {
                    ent.err.get_or_insert(Error::fabric("fi_read", e));
                }
                drop(d.region);
                if ent.remaining == 0 {
                    self.finish_rndv_in(rid);
                }
            }
            Lf::Rma(id) => {
                drop(d.region);
                let Some(Logical::Xfer { remaining, err, .. }) = self.ops.get_mut(&id) else { return };
                *remaining -= 1;
                if let Err(e) = d.status {
                    err.get_or_insert(Error::fabric("bulk RMA", e));
                }
                if *remaining == 0 {
                    let r = match err.take() {
                        Some(e) => Err(e),
                        None => Ok(Vec::new()),
                    };
                    self.finish(id, r);
                }
            }
        }
    }

    fn on_unexpected(&mut self, msg: &[u8]) {
        let Ok(h) = Header::decode(msg) else { return };
        match h.kind {
            Kind::Request | Kind::OneWay => {
                let a_end = HEADER_LEN + h.addr_len as usize;
                if msg.len() < a_end {
                    return;
                }
                let Ok(peer) = self.peer_for_raw(&msg[HEADER_LEN..a_end]) else { return };
                let rest = &msg[a_end..];
                let oneway = h.kind == Kind::OneWay;
                if h.flags & FLAG_RNDV != 0 {
                    let Ok(desc) = RndvDesc::decode(rest) else { return };
                    let dst = RndvDst::Request { opcode: h.opcode, id: h.id, reply_max: h.reply_max, oneway, hlc: h.hlc };
                    self.start_rndv_in(peer, desc, dst);
                } else {
                    let n = h.body_len as usize;
                    if rest.len() < n {
                        return;
                    }
                    self.deliver_request(peer, h.opcode, h.id, h.reply_max, oneway, h.hlc, rest[..n].to_vec());
                }
            }
            Kind::RndvDone => {
                self.rndv_out.remove(&h.id);
            }
            Kind::Response => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn deliver_request(&mut self, peer: Peer, opcode: u32, id: u64, reply_max: u32, oneway: bool, hlc: u64, body: Vec<u8>) {
        let reply = (!oneway).then_some(ReplyToken { peer, id, reply_max });
        self.delivered += 1;
        self.events.push_back(Event::Request(Incoming { peer, opcode, hlc, body, reply }));
    }

    fn on_response(&mut self, id: u64, msg: &[u8]) {
        let Some(Logical::Req { peer, .. }) = self.ops.get(&id) else { return };
        let peer = *peer;
        let h = match Header::decode(msg) {
            Ok(h) if h.kind == Kind::Response && h.id == id => h,
            Ok(_) => return self.finish(id, Err(Error::Protocol("unexpected response header".into()))),
            Err(e) => return self.finish(id, Err(e)),
        };
        let hlc = Some(h.hlc);
        if h.flags & FLAG_ERROR != 0 {
            let st = if h.status < 0 { h.status } else { der::DER_HG };
            return self.finish_hlc(id, Err(Error::Remote(st)), hlc);
        }
        let rest = &msg[HEADER_LEN..];
        if h.flags & FLAG_RNDV != 0 {
            match RndvDesc::decode(rest) {
                Ok(desc) => self.start_rndv_in(peer, desc, RndvDst::Response { op: id, hlc: h.hlc }),
                Err(e) => self.finish(id, Err(e)),
            }
        } else if rest.len() < h.body_len as usize {
            self.finish(id, Err(Error::Protocol("short response".into())));
        } else {
            self.finish_hlc(id, Ok(rest[..h.body_len as usize].to_vec()), hlc);
        }
    }

    fn start_rndv_in(&mut self, peer: Peer, desc: RndvDesc, dst: RndvDst) {
        let fail = |ep: &mut Endpoint, dst: RndvDst, e: Error| match dst {
            RndvDst::Response { op, .. } => ep.finish(op, Err(e)),
            RndvDst::Request { id, oneway: false, reply_max, .. } => {
                let _ = ep.respond_error(ReplyToken { peer, id, reply_max }, e.der());
            }
            RndvDst::Request { .. } => {}
        };
        let Ok(dest) = self.fi_addr(peer) else { return };
        if desc.len > isize::MAX as u64 {
            return fail(self, dst, Error::Overflow);
        }
        let region = match self.net.register(vec![vec![0u8; desc.len as usize]]) {
            Ok(r) => r,
            Err(e) => return fail(self, dst, Error::fabric("fi_mr_reg", e)),
        };
        let rid = self.new_id();
        let chunk = RMA_CHUNK.min(self.net.max_msg_size()) as u64;
        let n = desc.len.div_ceil(chunk).max(1) as usize;
        self.rndv_in.insert(rid, RndvIn { peer, region: region.clone(), remaining: n, err: None, src_id: desc.id, dst });
        for k in 0..n {
            let off = k as u64 * chunk;
            let len = chunk.min(desc.len - off) as usize;
            if let Err(e) = self.post_rma(true, dest, &region, 0, off as usize, len, desc.addr + off, desc.key, Lf::RndvRead(rid)) {
                let ent = self.rndv_in.get_mut(&rid).expect("just inserted");
                ent.remaining -= n - k;
                ent.err = Some(e);
                if ent.remaining == 0 {
                    self.finish_rndv_in(rid);
                }
                return;
            }
        }
    }

    fn finish_rndv_in(&mut self, rid: u64) {
        let Some(ent) = self.rndv_in.remove(&rid) else { return };
        let peer = ent.peer;
        // Tell the sender it can release its copy.
        if let Ok(dest) = self.fi_addr(peer) {
            let mut msg = Vec::with_capacity(HEADER_LEN);
            let hlc = (self.hlc_source)();
            Header { kind: Kind::RndvDone, flags: 0, addr_len: 0, opcode: 0, status: 0, id: ent.src_id, body_len: 0, reply_max: 0, hlc }
                .encode(&mut msg);
            let _ = self.post_send(dest, TAG_UNEXPECTED, msg, Lf::Send(SendOwner::Quiet));
        }
        let body = match ent.err {
            Some(e) => Err(e),
            None => Ok(Arc::try_unwrap(ent.region)
                .ok()
                .and_then(Region::into_vec)
                .unwrap_or_default()),
        };
        match (ent.dst, body) {
            (RndvDst::Response { op, hlc }, b @ Ok(_)) => self.finish_hlc(op, b, Some(hlc)),
            (RndvDst::Response { op, .. }, b) => self.finish(op, b),
            (RndvDst::Request { opcode, id, reply_max, oneway, hlc }, Ok(b)) => {
                self.deliver_request(peer, opcode, id, reply_max, oneway, hlc, b)
            }
            (RndvDst::Request { id, reply_max, oneway: false, .. }, Err(e)) => {
                let _ = self.respond_error(ReplyToken { peer, id, reply_max }, e.der());
            }
            (RndvDst::Request { .. }, Err(_)) => {}
        }
    }
}

/// Segment index and offset in it of byte `off` of a list of segment lengths.
fn locate(lens: &[u64], mut off: u64) -> (usize, u64) {
    for (i, &l) in lens.iter().enumerate() {
        if off < l {
            return (i, off);
        }
        off -= l;
    }
    (lens.len().saturating_sub(1), lens.last().copied().unwrap_or(0))
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("uri", &self.uri).field("in_flight", &self.ops.len()).finish()
    }
}
