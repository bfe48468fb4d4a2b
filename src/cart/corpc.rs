//! Collective RPCs (upstream `crt_corpc.c`): a request spread down a tree of the group, every
//! node running the handler and folding its children's replies into its own (`co_aggregate`)
//! before replying to its parent; the root's completion callback sees the aggregate and the
//! first error from anywhere in the tree.
//!
//! State lives beside the RPC objects (keyed by their address), so [`crate::rpc`] only calls in
//! at five points: the root's send, a request's encoding (the collective header after the
//! 8-byte prefix, flagged by bit 31 of the timeout word), an incoming request carrying that
//! header, `crt_reply_send`, and the last reference.
//!
//! Wire header: group version, tree topology, root rank, flags, filter count (u32 LE each),
//! the filter ranks, the group's name (u32 length and bytes; empty: the primary group), then
//! the sender's collective bulk handle (u32 length and its descriptor; empty: none).
//!
//! The collective bulk (`co_bulk_hdl`) is chained down the tree as upstream: a node that gets
//! one first pulls the whole of its parent's buffer into memory of its own, which becomes the
//! `cr_co_bulk_hdl` its handler sees and the handle its children pull from; it is freed once
//! the node has replied to its parent. Forwarded requests carry what is left of the parent's
//! timeout, so the whole tree shares the root's deadline.
//!
//! A collective over a secondary group builds its tree in that group's rank numbers, with
//! that group's version, and addresses each child by its primary rank (upstream's s2p).
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex, MutexGuard};

use std::ffi::c_int;

use crate::bulk::Bulk;
use crate::context::Context;
use crate::group;
use crate::rpc::{self, RpcPriv};
use crate::sys::{crt_bulk_cb_info, crt_bulk_desc, crt_cb_info, crt_corpc_ops, crt_endpoint_t, crt_rpc_t};
use crate::tree;

/// Bit 31 of the request prefix's timeout word: a collective header follows the prefix.
pub const WIRE_FLAG: u32 = 1 << 31;
const FILTER_INVERT: u32 = crate::sys::CRT_RPC_FLAG_FILTER_INVERT;
const CO_FAILOUT: u32 = crate::sys::CRT_RPC_FLAG_CO_FAILOUT;
const DER_NO_PERM: i32 = -(crate::sys::DER_NO_PERM as i32);

/// What travels down the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub grp_ver: u32,
    pub topo: i32,
    pub root: u32,
    pub flags: u32,
    pub filter: Vec<u32>,
    /// A secondary group's name; empty for the primary group.
    pub grp: String,
    /// The sender's collective bulk handle, serialized; empty: none.
    pub bulk: Vec<u8>,
}

impl Header {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(20 + 4 * self.filter.len());
        for w in [self.grp_ver, self.topo as u32, self.root, self.flags, self.filter.len() as u32] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        for r in &self.filter {
            v.extend_from_slice(&r.to_le_bytes());
        }
        v.extend_from_slice(&(self.grp.len() as u32).to_le_bytes());
        v.extend_from_slice(self.grp.as_bytes());
        v.extend_from_slice(&(self.bulk.len() as u32).to_le_bytes());
        v.extend_from_slice(&self.bulk);
        v
    }

    /// The header at the start of `b` and its length; `None` if truncated.
    pub fn decode(b: &[u8]) -> Option<(Header, usize)> {
        let w = |i: usize| b.get(i * 4..i * 4 + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap_or_default()));
        let n = w(4)? as usize;
        if b.len() < 20 + 4 * n {
            return None;
        }
        let filter = (0..n).map(|i| w(5 + i)).collect::<Option<Vec<u32>>>()?;
        let glen = w(5 + n)? as usize;
        let at = 24 + 4 * n;
        let grp = String::from_utf8(b.get(at..at.checked_add(glen)?)?.to_vec()).ok()?;
        let at = at + glen;
        let blen = u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize;
        let bulk = b.get(at + 4..(at + 4).checked_add(blen)?)?.to_vec();
        Some((Header { grp_ver: w(0)?, topo: w(1)? as i32, root: w(2)?, flags: w(3)?, filter, grp, bulk }, at + 4 + blen))
    }
}

/// One tree node's progress.
struct Node {
    hdr: Header,
    /// Only the root's (NULL on forwarding nodes, as upstream).
    priv_: usize,
    root: bool,
    root_excluded: bool,
    children: u32,
    acked: u32,
    local_done: bool,
    rc: i32,
    /// Children's replies that came before the local handler replied (aggregated after it,
    /// so the handler's output is the base), each holding a reference.
    early: Vec<usize>,
    finished: bool,
    /// A forwarding node's copy of its parent's collective bulk (a `Bulk`), freed after its
    /// reply; 0: none.
    chained: usize,
}

#[derive(Default)]
struct Tables {
    nodes: HashMap<usize, Node>,
    /// Forwarded child requests -> the header they carry.
    child_hdrs: HashMap<usize, Vec<u8>>,
}

static T: Mutex<Option<Tables>> = Mutex::new(None);

fn t() -> MutexGuard<'static, Option<Tables>> {
    T.lock().unwrap_or_else(|e| e.into_inner())
}

fn with<R>(f: impl FnOnce(&mut Tables) -> R) -> R {
    f(t().get_or_insert_with(Tables::default))
}

fn ops(p: usize) -> Option<crt_corpc_ops> {
    // SAFETY: p is a live RPC (callers hold a reference).
    let info = unsafe { (*(p as *const RpcPriv)).info() };
    // SAFETY: the co_ops registered with the protocol outlive the registration.
    unsafe { (info.co_ops as *const crt_corpc_ops).as_ref() }.copied()
}

/// A group's members, version and this process's rank in it (CRT_NO_RANK: not a member);
/// `grp` empty: the primary group. -DER_NONEXIST for an unknown secondary group.
fn scope(grp: &str) -> Result<(Vec<u32>, u32, u32), i32> {
    if grp.is_empty() {
        return Ok((group::ranks(), group::version(), group::self_rank().unwrap_or(group::CRT_NO_RANK)));
    }
    let ranks = crate::secondary::ranks(grp).ok_or(tree::DER_NONEXIST)?;
    let ver = crate::secondary::version(grp).ok_or(tree::DER_NONEXIST)?;
    let me = crate::secondary::self_rank(grp).ok_or(tree::DER_NONEXIST)?;
    Ok((ranks, ver, me))
}

/// A group rank's primary rank.
fn to_primary(grp: &str, r: u32) -> Result<u32, i32> {
    if grp.is_empty() {
        Ok(r)
    } else {
        crate::secondary::s2p(grp, r)
    }
}

/// `crt_corpc_req_create`: a root RPC whose send runs the collective from this rank, over the
/// primary group (`grp` empty) or a secondary group.
pub fn req_create(ctx: Arc<Context>, grp: &str, filter: Option<&[u32]>, opc: u32, priv_: usize, flags: u32, topo: i32) -> Result<*mut RpcPriv, i32> {
    if !crate::init::initialized() {
        return Err(crate::init::DER_UNINIT);
    }
    if !crate::init::is_service() {
        return Err(DER_NO_PERM);
    }
    tree::Topo::decode(topo).ok_or(tree::DER_INVAL)?;
    let (_, grp_ver, me) = scope(grp)?;
    if me == group::CRT_NO_RANK {
        return Err(tree::DER_GRPVER);
    }
    let pri_me = group::self_rank().ok_or(tree::DER_GRPVER)?;
    let invert = flags & FILTER_INVERT != 0;
    let mut filt: Vec<u32> = filter.unwrap_or(&[]).to_vec();
    // A root outside the scope is put in (so the tree has a root) but runs no handler.
    let in_list = filt.contains(&me);
    let root_excluded = invert != in_list;
    if root_excluded {
        if invert {
            filt.push(me);
        } else {
            filt.retain(|&r| r != me);
        }
    }
    let ep = crt_endpoint_t { ep_grp: std::ptr::null_mut(), ep_rank: pri_me, ep_tag: ctx.idx() };
    let p = rpc::create(ctx, Some(ep), opc)?;
    let hdr = Header { grp_ver, topo, root: me, flags: flags & (FILTER_INVERT | CO_FAILOUT), filter: filt, grp: grp.to_owned(), bulk: Vec::new() };
    with(|tb| {
        tb.nodes.insert(p as usize, Node { hdr, priv_, root: true, root_excluded, children: 0, acked: 0, local_done: false, rc: 0, early: Vec::new(), finished: false, chained: 0 })
    });
    Ok(p)
}

/// Whether `p` is a root created by [`req_create`] and not yet sent.
pub fn is_root(p: usize) -> bool {
    with(|tb| tb.nodes.get(&p).is_some_and(|n| n.root))
}

/// The root's `crt_req_send` (the callback is already set on the RPC): forward, run locally.
pub fn root_send(p: usize) -> i32 {
    start_node(p);
    0
}

/// A forwarded request's collective header (for the wire).
pub fn child_header(p: usize) -> Option<Vec<u8>> {
    with(|tb| tb.child_hdrs.get(&p).cloned())
}

/// An incoming request carried `hdr`: this node joins the tree (holds its own reference until
/// it has replied), pulls its parent's collective bulk if there is one, forwards, and runs the
/// handler. `p` comes with the dispatch's reference, which this takes over.
pub fn server_start(p: usize, hdr: Header) {
    // SAFETY: p is live (the dispatch's reference).
    unsafe { (*(p as *const RpcPriv)).addref() };
    let bulk = hdr.bulk.clone();
    with(|tb| {
        tb.nodes.insert(p, Node { hdr, priv_: 0, root: false, root_excluded: false, children: 0, acked: 0, local_done: false, rc: 0, early: Vec::new(), finished: false, chained: 0 })
    });
    if bulk.is_empty() {
        return proceed(p);
    }
    if let Err(rc) = pull_parent_bulk(p, &bulk) {
        abandon(p, rc);
    }
}

/// The node cannot take part (`rc`): it replies the error to its parent without forwarding or
/// running the handler, and the dispatch's reference goes.
fn abandon(p: usize, rc: i32) {
    fail(p, rc);
    with(|tb| tb.nodes.get_mut(&p).map(|n| n.local_done = true));
    maybe_finish(p);
    // SAFETY: the dispatch's reference server_start took over.
    unsafe { RpcPriv::decref(p as *mut RpcPriv) };
}

/// Upstream's chained bulk: a GET of the parent's whole buffer into a new local handle.
fn pull_parent_bulk(p: usize, desc: &[u8]) -> Result<(), i32> {
    let codec = crate::proc::bulk_codec().ok_or(tree::DER_INVAL)?;
    let remote = codec.deserialize(desc)? as *mut Bulk;
    // SAFETY: deserialize made a live handle with one reference, ours.
    let len = match unsafe { &*remote }.len_segs() {
        Ok((n, _)) if n > 0 => n,
        r => {
            // SAFETY: our reference.
            unsafe { Bulk::decref(remote) };
            return Err(r.err().unwrap_or(tree::DER_INVAL));
        }
    };
    // SAFETY: p is live (the dispatch's reference).
    let this = unsafe { &*(p as *const RpcPriv) };
    let Ok(n) = usize::try_from(len) else {
        // SAFETY: our reference.
        unsafe { Bulk::decref(remote) };
        return Err(tree::DER_INVAL);
    };
    // SAFETY: a NULL buffer: the endpoint allocates and owns the memory.
    let local = match unsafe { Bulk::create(this.context().clone(), &[(std::ptr::null_mut(), n)], crate::transport::BulkPerm::ReadWrite) } {
        Ok(l) => l,
        Err(rc) => {
            // SAFETY: our reference.
            unsafe { Bulk::decref(remote) };
            return Err(rc);
        }
    };
    let desc = crt_bulk_desc {
        bd_rpc: p as *mut crt_rpc_t,
        bd_bulk_op: crate::bulk::CRT_BULK_GET,
        bd_remote_hdl: remote as crate::sys::crt_bulk_t,
        bd_remote_off: 0,
        bd_local_hdl: local as crate::sys::crt_bulk_t,
        bd_local_off: 0,
        bd_len: len as _,
    };
    // SAFETY: both handles and the RPC are live; transfer references them until its callback.
    match unsafe { crate::bulk::transfer(&desc, Some(chained_done), std::ptr::null_mut(), false) } {
        Ok(_) => Ok(()),
        Err(rc) => {
            // SAFETY: our references.
            unsafe {
                Bulk::decref(remote);
                Bulk::decref(local);
            }
            Err(rc)
        }
    }
}

/// The parent's bulk is here (or failed): the local copy becomes the node's co_bulk_hdl.
unsafe extern "C" fn chained_done(info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: called by bulk::completed with a live info and descriptor copy.
    let (rc, d) = unsafe { ((*info).bci_rc, *(*info).bci_bulk_desc) };
    let p = d.bd_rpc as usize;
    // SAFETY: the references pull_parent_bulk kept (the transfer holds its own besides).
    unsafe { Bulk::decref(d.bd_remote_hdl as *mut Bulk) };
    if rc != 0 {
        // SAFETY: as above.
        unsafe { Bulk::decref(d.bd_local_hdl as *mut Bulk) };
        abandon(p, rc);
        return 0;
    }
    with(|tb| tb.nodes.get_mut(&p).map(|n| n.chained = d.bd_local_hdl as usize));
    // SAFETY: p is live (the dispatch's reference, still held).
    unsafe { (*(p as *mut RpcPriv)).rpc.cr_co_bulk_hdl = d.bd_local_hdl };
    proceed(p);
    0
}

/// Forward, then run the local handler with the dispatch's reference (not after a failure
/// under CRT_RPC_FLAG_CO_FAILOUT, as upstream).
fn proceed(p: usize) {
    forward(p);
    let failout = with(|tb| tb.nodes.get(&p).is_some_and(|n| n.rc != 0 && n.hdr.flags & CO_FAILOUT != 0));
    if failout {
        with(|tb| tb.nodes.get_mut(&p).map(|n| n.local_done = true));
        maybe_finish(p);
        // SAFETY: the dispatch's reference.
        unsafe { RpcPriv::decref(p as *mut RpcPriv) };
        return;
    }
    // SAFETY: the dispatch's reference goes to run_local.
    let rc = unsafe { rpc::run_local(p as *mut RpcPriv) };
    if rc != 0 {
        fail(p, rc);
        let _ = local_reply(p);
    }
}

fn start_node(p: usize) {
    forward(p);
    let (excluded, failout) = with(|tb| {
        let n = &tb.nodes[&p];
        (n.root_excluded, n.rc != 0 && n.hdr.flags & CO_FAILOUT != 0)
    });
    if excluded || failout {
        with(|tb| {
            if let Some(n) = tb.nodes.get_mut(&p) {
                n.local_done = true;
            }
        });
        maybe_finish(p);
        return;
    }
    // The root runs its handler on the root RPC itself, as upstream, through the context's
    // RPC task if it has one; if the task refuses, that is the local part's error.
    // SAFETY: p is live: the send's reference is held until the collective completes.
    unsafe { (*(p as *const RpcPriv)).addref() };
    // SAFETY: the reference just taken goes to run_local.
    let rc = unsafe { rpc::run_local(p as *mut RpcPriv) };
    if rc != 0 {
        fail(p, rc);
        let _ = local_reply(p);
    }
}

fn fail(p: usize, rc: i32) {
    with(|tb| {
        if let Some(n) = tb.nodes.get_mut(&p) {
            if n.rc == 0 {
                n.rc = rc;
            }
        }
    });
}

/// pre-forward callback, tree children, and a forwarded request to each.
fn forward(p: usize) {
    // SAFETY: p is live (a reference is held by the caller).
    let this = unsafe { &*(p as *const RpcPriv) };
    let (hdr, priv_) = with(|tb| {
        let n = &tb.nodes[&p];
        (n.hdr.clone(), n.priv_)
    });
    if let Some(f) = ops(p).and_then(|o| o.co_pre_forward) {
        // SAFETY: the registered callback with the live RPC.
        let rc = unsafe { f(p as *mut crt_rpc_t, priv_ as *mut c_void) };
        if rc != 0 {
            return fail(p, rc);
        }
    }
    let (membs, ver, me) = match scope(&hdr.grp) {
        Ok(s) => s,
        Err(rc) => return fail(p, rc),
    };
    if me == group::CRT_NO_RANK {
        return fail(p, tree::DER_GRPVER);
    }
    let kids = match tree::children(&membs, Some((hdr.grp_ver, ver)), hdr.flags & FILTER_INVERT != 0, Some(&hdr.filter), hdr.topo, hdr.root, me) {
        Ok(k) => k,
        Err(rc) => return fail(p, rc),
    };
    let kids = match kids.iter().map(|&k| to_primary(&hdr.grp, k)).collect::<Result<Vec<u32>, i32>>() {
        Ok(k) => k,
        Err(rc) => return fail(p, rc),
    };
    with(|tb| {
        if let Some(n) = tb.nodes.get_mut(&p) {
            n.children = kids.len() as u32;
        }
    });
    // Children pull from this node's collective bulk: the root's (the caller's) or this
    // node's copy of its parent's.
    let bulk = match this.rpc.cr_co_bulk_hdl {
        h if h.is_null() => Vec::new(),
        h => match crate::proc::bulk_codec().ok_or(tree::DER_INVAL).and_then(|c| c.serialize(h)) {
            Ok(d) => d,
            Err(rc) => return fail(p, rc),
        },
    };
    let wire = Header { bulk, ..hdr }.encode();
    // Children get what is left of this node's time (upstream: the parent's deadline), so a
    // deeper level never outlives the root.
    let timeout = match this.remaining_timeout() {
        Some(t) => t,
        None => this.timeout(),
    };
    for (i, &k) in kids.iter().enumerate() {
        let ep = crt_endpoint_t { ep_grp: std::ptr::null_mut(), ep_rank: k, ep_tag: this.rpc.cr_ep.ep_tag };
        let c = match rpc::create(this.context().clone(), Some(ep), this.info().opc) {
            Ok(c) => c,
            Err(rc) => {
                // This child and the ones after it will never answer.
                fail(p, rc);
                with(|tb| {
                    if let Some(n) = tb.nodes.get_mut(&p) {
                        n.acked += (kids.len() - i) as u32;
                    }
                });
                break;
            }
        };
        // SAFETY: c is fresh (ours); the input body is copied shallowly: values it points to
        // live in the parent's body, kept alive by the reference the child holds on p.
        unsafe {
            let cr = &mut (*c).rpc;
            if !cr.cr_input.is_null() && !this.rpc.cr_input.is_null() {
                std::ptr::copy_nonoverlapping(this.rpc.cr_input as *const u8, cr.cr_input as *mut u8, cr.cr_input_size);
            }
            cr.cr_co_bulk_hdl = this.rpc.cr_co_bulk_hdl;
            let _ = (*c).set_timeout(timeout);
            this.addref();
        }
        with(|tb| tb.child_hdrs.insert(c as usize, wire.clone()));
        // SAFETY: gives the child's reference to send; child_done runs exactly once.
        unsafe { rpc::send(c, Some(child_done), p as *mut c_void) };
    }
}

/// A child's reply (or failure) at its parent.
unsafe extern "C" fn child_done(info: *const crt_cb_info) {
    // SAFETY: called by rpc::complete with a live info.
    let info = unsafe { &*info };
    let p = info.cci_arg as usize;
    let c = info.cci_rpc as usize;
    let rc = info.cci_rc;
    let local_done = with(|tb| {
        let n = tb.nodes.get_mut(&p)?;
        n.acked += 1;
        if rc != 0 && n.rc == 0 {
            n.rc = rc;
        }
        Some(n.local_done)
    });
    match local_done {
        Some(true) if rc == 0 => aggregate(p, c),
        Some(false) if rc == 0 => {
            // SAFETY: kept until aggregated after the local reply.
            unsafe { (*(c as *const RpcPriv)).addref() };
            with(|tb| tb.nodes.get_mut(&p).map(|n| n.early.push(c)));
        }
        _ => {}
    }
    maybe_finish(p);
    // SAFETY: drops the reference this child held on its parent.
    unsafe { RpcPriv::decref(p as *mut RpcPriv) };
}

fn aggregate(p: usize, c: usize) {
    let priv_ = with(|tb| tb.nodes.get(&p).map_or(0, |n| n.priv_));
    if let Some(f) = ops(p).and_then(|o| o.co_aggregate) {
        // SAFETY: both RPCs are live; the callback reads c's output and writes p's.
        let rc = unsafe { f(c as *mut crt_rpc_t, p as *mut crt_rpc_t, priv_ as *mut c_void) };
        if rc != 0 {
            fail(p, rc);
        }
    }
}

/// `crt_reply_send` on a tree node: the local part is done. `None`: not a collective.
pub fn local_reply(p: usize) -> Option<Result<(), i32>> {
    let early = with(|tb| {
        let n = tb.nodes.get_mut(&p)?;
        if n.local_done {
            return Some(Err(rpc::DER_ALREADY));
        }
        n.local_done = true;
        Some(Ok(std::mem::take(&mut n.early)))
    })?;
    let early = match early {
        Ok(e) => e,
        Err(rc) => return Some(Err(rc)),
    };
    for c in early {
        aggregate(p, c);
        // SAFETY: the reference taken when it was set aside.
        unsafe { RpcPriv::decref(c as *mut RpcPriv) };
    }
    maybe_finish(p);
    Some(Ok(()))
}

/// When every child answered and the local handler replied: the root completes, a forwarding
/// node replies to its parent (then co_post_reply) and drops its reference.
fn maybe_finish(p: usize) {
    let done = with(|tb| {
        let n = tb.nodes.get_mut(&p)?;
        if n.finished || !n.local_done || n.acked < n.children {
            return None;
        }
        n.finished = true;
        Some((n.root, n.rc, n.priv_, std::mem::take(&mut n.chained)))
    });
    let Some((root, rc, priv_, chained)) = done else { return };
    if root {
        with(|tb| tb.nodes.remove(&p));
        rpc::complete(p as *mut RpcPriv, rc);
        return;
    }
    // SAFETY: the node's own reference keeps p alive until the decref below.
    let this = unsafe { &*(p as *const RpcPriv) };
    let _ = this.reply_now(rc);
    if let Some(f) = ops(p).and_then(|o| o.co_post_reply) {
        // SAFETY: the registered callback with the live RPC.
        unsafe { f(p as *mut crt_rpc_t, priv_ as *mut c_void) };
    }
    if chained != 0 {
        // SAFETY: the node's copy of its parent's bulk, made by pull_parent_bulk; the
        // handler's view of it goes with it (upstream frees it after the reply too).
        unsafe {
            (*(p as *mut RpcPriv)).rpc.cr_co_bulk_hdl = std::ptr::null_mut();
            Bulk::decref(chained as *mut Bulk);
        }
    }
    with(|tb| tb.nodes.remove(&p));
    // SAFETY: the reference server_start took.
    unsafe { RpcPriv::decref(p as *mut RpcPriv) };
}

/// The last reference of an RPC is gone: forget anything kept for it.
pub fn forget(p: usize) {
    let mut g = t();
    if let Some(tb) = g.as_mut() {
        tb.nodes.remove(&p);
        tb.child_hdrs.remove(&p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header { grp_ver: 7, topo: tree::topo_word(tree::Kind::Knomial, 4), root: 3, flags: 2, filter: vec![5, 9], grp: "sec".into(), bulk: vec![] };
        let mut b = h.encode();
        b.extend_from_slice(&[1, 2, 3]);
        assert_eq!(Header::decode(&b), Some((h.clone(), 39)));
        assert_eq!(Header::decode(&b[..38]), None);
        assert_eq!(Header::decode(&b[..10]), None);
        let e = Header { filter: vec![], grp: String::new(), ..h.clone() };
        assert_eq!(Header::decode(&e.encode()), Some((e, 28)));
        // a collective bulk descriptor rides at the end
        let k = Header { bulk: vec![9; 21], ..h };
        let kb = k.encode();
        assert_eq!(kb.len(), 39 + 21);
        assert_eq!(Header::decode(&kb), Some((k, 60)));
        assert_eq!(Header::decode(&kb[..59]), None);
        // a length word pointing past the end is refused, not trusted
        let mut bad = kb.clone();
        let at = kb.len() - 21 - 4;
        bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Header::decode(&bad), None);
    }

    #[test]
    fn forwarded_timeout_shrinks_with_time_spent() {
        use std::time::Duration;
        assert_eq!(rpc::remaining_secs(60, Duration::from_millis(300)), 60);
        assert_eq!(rpc::remaining_secs(60, Duration::from_millis(2999)), 58);
        assert_eq!(rpc::remaining_secs(5, Duration::from_secs(4)), 1);
        // past the deadline: still a valid (minimal) timeout
        assert_eq!(rpc::remaining_secs(5, Duration::from_secs(9)), 1);
        assert_eq!(rpc::remaining_secs(3, Duration::from_secs(u64::MAX / 2)), 1);
    }
}
