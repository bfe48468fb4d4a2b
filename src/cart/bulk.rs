//! Bulk handles and transfers (upstream `crt_bulk.c`): a `crt_bulk_t` is a reference-counted
//! [`Bulk`], either local memory registered with a context's endpoint or a peer's descriptor
//! received inside an RPC body (the codec installed with [`crate::proc::set_bulk_codec`]).
//! Transfers complete from progress, their callback run with the endpoint unlocked.
//!
//! `Bulk` and `XferOp` cross into C as opaque pointers; the unsafe code is theirs, each block
//! with its invariant.
use crate::context::Context;
use crate::proc::BulkCodec;
use crate::rpc::RpcPriv;
use crate::sys::{crt_bulk_cb_info, crt_bulk_cb_t, crt_bulk_desc};
use crate::transport::{der, BulkDesc, BulkId, BulkOp, BulkPerm, Completion, Notify};
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub const CRT_BULK_PUT: u32 = 0x68;
pub const CRT_BULK_GET: u32 = 0x69;
pub const CRT_BULK_RW: u32 = 0x88;
pub const CRT_BULK_RO: u32 = 0x89;
pub const CRT_BULK_WO: u32 = 0x8a;

pub enum Kind {
    /// Memory registered with `ctx`'s endpoint; `iovs`: the caller's buffers (None: the
    /// endpoint's own, for an sgl whose buffers were NULL).
    Local { ctx: Arc<Context>, id: BulkId, iovs: Option<Vec<(usize, usize)>>, bound: std::sync::atomic::AtomicBool },
    /// A peer's memory, as its descriptor.
    Remote(BulkDesc),
}

pub struct Bulk {
    refs: AtomicU32,
    pub kind: Kind,
}

pub fn perm_from_c(p: u32) -> Option<BulkPerm> {
    match p {
        CRT_BULK_RW => Some(BulkPerm::ReadWrite),
        CRT_BULK_RO => Some(BulkPerm::ReadOnly),
        CRT_BULK_WO => Some(BulkPerm::WriteOnly),
        _ => None,
    }
}

impl Bulk {
    /// `crt_bulk_create`: `iovs` are (buffer, length) pairs; all NULL buffers: the endpoint
    /// allocates zeroed memory of those lengths. -DER_INVAL for no segments or a mix.
    ///
    /// # Safety
    /// Non-NULL buffers stay valid, and untouched during transfers, until the handle's last
    /// reference is dropped.
    pub unsafe fn create(ctx: Arc<Context>, iovs: &[(*mut u8, usize)], perm: BulkPerm) -> Result<*mut Bulk, i32> {
        if iovs.is_empty() {
            return Err(der::DER_INVAL);
        }
        let all_null = iovs.iter().all(|(p, _)| p.is_null());
        if !all_null && iovs.iter().any(|(p, _)| p.is_null()) {
            return Err(der::DER_INVAL);
        }
        let (id, keep) = {
            let mut ep = ctx.endpoint();
            if all_null {
                let segs = iovs.iter().map(|(_, n)| vec![0u8; *n]).collect();
                (ep.bulk_create(segs, perm).map_err(|e| e.der())?, None)
            } else {
                // SAFETY: forwarded contract.
                let id = unsafe { ep.bulk_create_raw(iovs, perm) }.map_err(|e| e.der())?;
                (id, Some(iovs.iter().map(|(p, n)| (*p as usize, *n)).collect()))
            }
        };
        Ok(Box::into_raw(Box::new(Bulk {
            refs: AtomicU32::new(1),
            kind: Kind::Local { ctx, id, iovs: keep, bound: false.into() },
        })))
    }

    fn remote(desc: BulkDesc) -> *mut Bulk {
        Box::into_raw(Box::new(Bulk { refs: AtomicU32::new(1), kind: Kind::Remote(desc) }))
    }

    pub fn addref(&self) {
        self.refs.fetch_add(1, Ordering::AcqRel);
    }

    /// Drops a reference; the last one deregisters local memory.
    ///
    /// # Safety
    /// `p` is a live handle and the caller owns the reference dropped.
    pub unsafe fn decref(p: *mut Bulk) {
        // SAFETY: live while referenced.
        if unsafe { &*p }.refs.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // SAFETY: the last reference; p came from Box::into_raw.
        let b = unsafe { Box::from_raw(p) };
        if let Kind::Local { ctx, id, .. } = &b.kind {
            let _ = ctx.endpoint().bulk_free(*id);
        }
    }

    /// Total length and segment count (`crt_bulk_get_len`, `crt_bulk_get_sgnum`).
    pub fn len_segs(&self) -> Result<(u64, usize), i32> {
        match &self.kind {
            Kind::Local { ctx, id, .. } => ctx.endpoint().bulk_len(*id).map_err(|e| e.der()),
            Kind::Remote(d) => Ok((d.len(), d.seg_count())),
        }
    }

    /// `crt_bulk_bind`: descriptors of this handle carry the owner's address.
    pub fn bind(&self) -> Result<(), i32> {
        match &self.kind {
            Kind::Local { bound, .. } => {
                bound.store(true, Ordering::Relaxed);
                Ok(())
            }
            Kind::Remote(_) => Err(der::DER_INVAL),
        }
    }

    /// The segments of a local handle as (address, length).
    pub fn segments(&self) -> Result<Vec<(usize, usize)>, i32> {
        match &self.kind {
            Kind::Local { iovs: Some(v), .. } => Ok(v.clone()),
            Kind::Local { ctx, id, iovs: None, .. } => {
                let mut ep = ctx.endpoint();
                let segs = ep.bulk_segments(*id).map_err(|e| e.der())?;
                Ok(segs.into_iter().map(|s| (s.as_mut_ptr() as usize, s.len())).collect())
            }
            Kind::Remote(_) => Err(der::DER_INVAL),
        }
    }

    fn descriptor(&self) -> Result<BulkDesc, i32> {
        match &self.kind {
            Kind::Local { ctx, id, bound, .. } => ctx.endpoint().bulk_desc(*id, bound.load(Ordering::Relaxed)).map_err(|e| e.der()),
            Kind::Remote(d) => Ok(d.clone()),
        }
    }
}

/// One transfer in flight: what its callback receives.
struct XferOp {
    desc: crt_bulk_desc,
    cb: crt_bulk_cb_t,
    arg: usize,
}

/// `crt_bulk_transfer` (`bind`: `crt_bulk_bind_transfer`, the peer taken from the remote
/// descriptor). Returns the operation id (the `crt_bulk_opid_t`).
///
/// # Safety
/// The handles and RPC in `desc` are live; they are referenced until the callback has run.
pub unsafe fn transfer(desc: &crt_bulk_desc, cb: crt_bulk_cb_t, arg: *mut c_void, bind: bool) -> Result<u64, i32> {
    let op = match desc.bd_bulk_op {
        CRT_BULK_PUT => BulkOp::Put,
        CRT_BULK_GET => BulkOp::Get,
        _ => return Err(der::DER_INVAL),
    };
    let remote = desc.bd_remote_hdl as *mut Bulk;
    let local = desc.bd_local_hdl as *mut Bulk;
    if remote.is_null() || local.is_null() || desc.bd_remote_off < 0 || desc.bd_local_off < 0 {
        return Err(der::DER_INVAL);
    }
    // SAFETY: the contract: both handles live.
    let (rb, lb) = unsafe { (&*remote, &*local) };
    let Kind::Local { ctx, id, .. } = &lb.kind else { return Err(der::DER_INVAL) };
    let rdesc = rb.descriptor()?;
    // SAFETY: bd_rpc is NULL or a live RPC (contract).
    let rpc = unsafe { crate::rpc::from_c(desc.bd_rpc) };
    let peer = if bind {
        None
    } else {
        match rpc.and_then(|r| r.src_peer()) {
            Some(p) => Some(p),
            // A collective's root running its own handler has no sender: the transfer is
            // with this process itself (upstream: the context's self address).
            None if rpc.is_some_and(|r| crate::corpc::is_root(r as *const RpcPriv as usize)) => {
                let mut ep = ctx.endpoint();
                let uri = ep.uri().to_owned();
                Some(ep.lookup(&uri).map_err(|e| e.der())?)
            }
            None => return Err(der::DER_INVAL),
        }
    };
    let x = Box::into_raw(Box::new(XferOp { desc: *desc, cb, arg: arg as usize }));
    rb.addref();
    lb.addref();
    if let Some(r) = rpc {
        r.addref();
    }
    let user = x as u64 | 1;
    let res = ctx.endpoint().bulk_transfer(op, peer, &rdesc, desc.bd_remote_off as u64, *id, desc.bd_local_off as u64, desc.bd_len as u64, Notify::Event(user));
    match res {
        Ok(opid) => Ok(opid.0),
        Err(e) => {
            // SAFETY: nothing started: undo the references and the op taken above.
            unsafe { release(*Box::from_raw(x)) };
            Err(e.der())
        }
    }
}

/// Drops what a transfer held.
///
/// # Safety
/// The references were taken by [`transfer`].
unsafe fn release(x: XferOp) {
    // SAFETY: the references transfer() took.
    unsafe {
        Bulk::decref(x.desc.bd_remote_hdl as *mut Bulk);
        Bulk::decref(x.desc.bd_local_hdl as *mut Bulk);
        if !x.desc.bd_rpc.is_null() {
            RpcPriv::decref(x.desc.bd_rpc as *mut RpcPriv);
        }
    }
}

/// A transfer's end, from progress (user value: the XferOp address with bit 0 set).
pub fn completed(c: Completion) {
    let x = (c.user & !1) as *mut XferOp;
    // SAFETY: every bulk operation's user value is its XferOp, completed exactly once.
    let mut x = unsafe { Box::from_raw(x) };
    let rc = c.result.err().map_or(0, |e| e.der());
    if let Some(cb) = x.cb {
        let info = crt_bulk_cb_info { bci_bulk_desc: &mut x.desc, bci_arg: x.arg as *mut c_void, bci_rc: rc, bci_complete_cb: std::ptr::null_mut() };
        // SAFETY: the caller's completion callback with its descriptor copy.
        unsafe { cb(&info) };
    }
    // SAFETY: the transfer's references.
    unsafe { release(*x) };
}

/// `crt_bulk_abort`: cancels a transfer (its callback gets -DER_CANCELED).
pub fn abort(ctx: &Context, opid: u64) -> Result<(), i32> {
    ctx.endpoint().cancel(crate::transport::OpId(opid)).map_err(|e| e.der())
}

/// How bulk handles cross RPC bodies.
pub struct Codec;

impl BulkCodec for Codec {
    fn serialize(&self, hdl: *mut c_void) -> Result<Vec<u8>, i32> {
        // SAFETY: a handle being encoded is live (the body's owner holds it).
        let b = unsafe { (hdl as *const Bulk).as_ref() }.ok_or(der::DER_INVAL)?;
        Ok(b.descriptor()?.to_bytes())
    }

    fn deserialize(&self, desc: &[u8]) -> Result<*mut c_void, i32> {
        let (d, _) = BulkDesc::from_bytes(desc).map_err(|e| e.der())?;
        Ok(Bulk::remote(d) as *mut c_void)
    }

    fn release(&self, hdl: *mut c_void) {
        if !hdl.is_null() {
            // SAFETY: a handle deserialize() made, released once by the FREE pass.
            unsafe { Bulk::decref(hdl as *mut Bulk) };
        }
    }
}

pub static CODEC: Codec = Codec;
