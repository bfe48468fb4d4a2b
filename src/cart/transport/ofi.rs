//! The thin unsafe layer over libfabric (`ofi-sys`): every `unsafe` of the transport is here.
//!
//! Ownership rules that make the layer safe to call:
//! - [`Net`] owns one fabric, domain, completion queue, address vector and RDM endpoint. Every
//!   operation it posts (send, receive, RMA) is a boxed [`Posted`] whose first field is the
//!   `fi_context2` libfabric is handed as the operation context; the box also owns the
//!   operation's buffer (or a reference on its registered [`Region`]). The box stays in
//!   `Net::ops` until its completion (or error/cancel completion) is read from the CQ, so the
//!   memory libfabric reads or writes is alive until libfabric is done with it. Completions are
//!   matched by the context's address alone: the pointer is never dereferenced after posting.
//! - Closing happens in libfabric's order: the endpoint first (no operation can complete after
//!   that, so the posted boxes can be freed), then CQ and AV, and domain and fabric last. A
//!   registered [`Region`] holds a reference on its domain, so an MR is always closed before its
//!   domain, whatever order the owners drop in.
//! - Registered memory is handed out as `Arc<Region>`: a posted RMA holds a clone, so Rust code
//!   can get `&mut` access to the bytes (`Arc::get_mut`) only while no transfer uses them.
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::os::raw::{c_int, c_void};
use std::os::unix::io::RawFd;
use std::ptr;
use std::sync::Arc;
use std::time::Duration;

use ofi_sys as sys;

/// `FI_ADDR_UNSPEC` (`((uint64_t)-1)`, which bindgen does not translate).
pub const FI_ADDR_UNSPEC: u64 = u64::MAX;
/// Keys for providers that want the caller to choose them: unique in the process (shm's
/// registrations are visible process-wide).
static NEXT_MR_KEY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How long a provider without a wait fd is polled without sleeping.
const POLL_SPIN: Duration = Duration::from_micros(200);

/// The libfabric API version the transport is written against (Debian's 1.17).
const API_VERSION: u32 = sys::FI_VERSION(1, 17);

/// A libfabric error: the positive `FI_E*`/errno value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiErr(pub i32);

impl FiErr {
    fn from_rc(rc: isize) -> FiErr {
        FiErr((-rc) as i32)
    }
    pub fn is_again(self) -> bool {
        self.0 == sys::FI_EAGAIN as i32
    }
    pub fn message(self) -> String {
        // SAFETY: fi_strerror returns a pointer to a static NUL-terminated string for any code.
        unsafe { CStr::from_ptr(sys::fi_strerror(self.0)).to_string_lossy().into_owned() }
    }
}

impl std::fmt::Display for FiErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (fi errno {})", self.message(), self.0)
    }
}

fn check(rc: c_int) -> Result<(), FiErr> {
    if rc == 0 {
        Ok(())
    } else {
        Err(FiErr::from_rc(rc as isize))
    }
}

/// What to ask fi_getinfo for.
pub struct Hints<'a> {
    /// libfabric provider name: "tcp;ofi_rxm", "shm".
    pub provider: &'a str,
    pub domain: Option<&'a str>,
    /// Source node (an IP address) and service (a port), bound with FI_SOURCE.
    pub node: Option<&'a str>,
    pub service: Option<&'a str>,
    /// Request FI_SOCKADDR_IN addresses (the tcp URIs are IPv4).
    pub ipv4: bool,
}

struct FabricH(*mut sys::fid_fabric);
impl Drop for FabricH {
    fn drop(&mut self) {
        // SAFETY: the fabric was opened by fi_fabric and every child holds an Arc on this
        // handle, so nothing uses it any more.
        unsafe { sys::fi_close(&mut (*self.0).fid) };
    }
}

struct DomainH {
    ptr: *mut sys::fid_domain,
    _fabric: Arc<FabricH>,
}
impl Drop for DomainH {
    fn drop(&mut self) {
        // SAFETY: every MR, CQ, AV and endpoint of the domain holds an Arc on it (Region, Net),
        // so they are all closed by the time the last reference goes.
        unsafe { sys::fi_close(&mut (*self.ptr).fid) };
    }
}

// SAFETY: the handles are plain pointers to libfabric objects opened with FI_THREAD_DOMAIN
// semantics; the owners serialise all calls (Net methods take &mut self, Region's MR is only
// closed in Drop). Moving them to another thread is allowed by libfabric.
unsafe impl Send for FabricH {}
unsafe impl Sync for FabricH {}
unsafe impl Send for DomainH {}
unsafe impl Sync for DomainH {}

/// One registered segment.
struct Seg {
    ptr: *mut u8,
    len: usize,
    mr: *mut sys::fid_mr,
    desc: *mut c_void,
    key: u64,
    /// Memory allocated here (a leaked `Box<[u8]>`), freed after the MR is closed.
    owned: bool,
}

/// Registered memory: a scatter-gather list, each segment with its MR.
pub struct Region {
    segs: Vec<Seg>,
    virt_addr: bool,
    _domain: Arc<DomainH>,
}

// SAFETY: the segment memory is only touched by Rust through `&mut Region` (so never
// concurrently), and by libfabric while an operation holding an Arc clone is posted, which
// excludes `&mut` access; MR handles are only used in Drop.
unsafe impl Send for Region {}
unsafe impl Sync for Region {}

/// A remote view of one segment: what a bulk descriptor carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteSeg {
    /// Address to name the segment's first byte in an RMA (the virtual address, or 0 when the
    /// provider uses offset-based addressing).
    pub addr: u64,
    pub len: u64,
    pub key: u64,
}

impl Region {
    pub fn seg_count(&self) -> usize {
        self.segs.len()
    }
    pub fn seg_len(&self, i: usize) -> usize {
        self.segs[i].len
    }
    pub fn total_len(&self) -> usize {
        self.segs.iter().map(|s| s.len).sum()
    }
    pub fn remote_segs(&self) -> Vec<RemoteSeg> {
        self.segs
            .iter()
            .map(|s| RemoteSeg {
                addr: if self.virt_addr { s.ptr as u64 } else { 0 },
                len: s.len as u64,
                key: s.key,
            })
            .collect()
    }
    /// Mutable views of the segments (exclusive access: no transfer can be in flight, since
    /// posted operations hold their own Arc and the caller got `&mut` through `Arc::get_mut`).
    pub fn segments_mut(&mut self) -> Vec<&mut [u8]> {
        self.segs
            .iter_mut()
            .map(|s| {
                if s.len == 0 {
                    return &mut [][..];
                }
                // SAFETY: ptr/len describe memory that is alive while the Region is (owned, or
                // guaranteed by the caller of register_raw), and &mut self excludes any other
                // access from Rust or from a posted libfabric operation.
                unsafe { std::slice::from_raw_parts_mut(s.ptr, s.len) }
            })
            .collect()
    }
    /// Takes back the bytes of a single owned segment without copying (a rendezvous receive
    /// buffer once its reads completed). Returns None for other regions.
    pub fn into_vec(mut self) -> Option<Vec<u8>> {
        if self.segs.len() != 1 || !self.segs[0].owned {
            return None;
        }
        let s = &mut self.segs[0];
        if !s.mr.is_null() {
            // SAFETY: the MR belongs to the domain this Region keeps alive, and no operation
            // references the Region (the caller owns it by value).
            unsafe { sys::fi_close(&mut (*s.mr).fid) };
            s.mr = ptr::null_mut();
        }
        s.owned = false;
        if s.len == 0 {
            return Some(Vec::new());
        }
        // SAFETY: the segment came from Box::<[u8]>::into_raw with this length; ownership moves
        // back to the Vec, and `owned = false` keeps Drop from freeing it again.
        Some(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(s.ptr, s.len)) }.into_vec())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        for s in &self.segs {
            if !s.mr.is_null() {
                // SAFETY: the MR was registered by fi_mr_reg on the domain this Region keeps
                // alive, and no posted operation references the Region any more (they hold Arcs).
                unsafe { sys::fi_close(&mut (*s.mr).fid) };
            }
            if s.owned && s.len > 0 {
                // SAFETY: owned segments come from Box::<[u8]>::into_raw with this length and
                // the MR over them is closed just above.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(s.ptr, s.len)) });
            }
        }
    }
}

/// A posted operation. `ctx` must be the first field: libfabric gets a pointer to the box,
/// which providers running in FI_CONTEXT/FI_CONTEXT2 mode use as their scratch space.
#[repr(C)]
struct Posted<U> {
    ctx: sys::fi_context2,
    buf: Option<Vec<u8>>,
    region: Option<Arc<Region>>,
    /// Sequence number: a later operation may reuse the box's address, never its number.
    seq: u64,
    user: U,
}

/// Identifies a posted operation (for cancel): its context address and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpKey(usize, u64);

/// A completed operation, with what it owned.
pub struct Done<U> {
    pub user: U,
    pub buf: Option<Vec<u8>>,
    /// The registered region an RMA used (so a rendezvous receiver can take its bytes).
    pub region: Option<Arc<Region>>,
    /// Bytes received (receives).
    pub len: usize,
    pub status: Result<(), FiErr>,
}

/// A failed post: the error and everything handed in, returned to the caller.
pub struct PostErr<U> {
    pub err: FiErr,
    pub buf: Option<Vec<u8>>,
    pub user: U,
}

/// One RDM endpoint with its own fabric, domain, CQ and AV.
pub struct Net<U> {
    ep: *mut sys::fid_ep,
    cq: *mut sys::fid_cq,
    av: *mut sys::fid_av,
    domain: Arc<DomainH>,
    fabric: Arc<FabricH>,
    wait_fd: Option<RawFd>,
    virt_addr: bool,
    /// The provider picks MR keys (FI_MR_PROV_KEY); otherwise keys come from NEXT_MR_KEY.
    prov_key: bool,
    max_msg: usize,
    seq: u64,
    ops: HashMap<usize, Box<Posted<U>>>,
}

// SAFETY: the libfabric objects are used only through &mut self (FI_THREAD_DOMAIN: the caller
// serialises access), and the posted boxes are owned here.
unsafe impl<U: Send> Send for Net<U> {}

/// An owned `fi_info` list.
struct Info(*mut sys::fi_info);
impl Drop for Info {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the list came from fi_getinfo/fi_allocinfo and is freed once.
            unsafe { sys::fi_freeinfo(self.0) };
        }
    }
}

fn cstr_dup(s: &str) -> Result<*mut libc::c_char, FiErr> {
    let c = CString::new(s).map_err(|_| FiErr(libc::EINVAL))?;
    // SAFETY: c is a valid C string; libfabric frees hint strings with free() in fi_freeinfo.
    let p = unsafe { libc::strdup(c.as_ptr()) };
    if p.is_null() {
        Err(FiErr(libc::ENOMEM))
    } else {
        Ok(p)
    }
}

impl<U> Net<U> {
    /// Opens fabric, domain, CQ (waitable when the provider allows it), AV and endpoint.
    pub fn open(h: &Hints) -> Result<Net<U>, FiErr> {
        // SAFETY: every pointer handed to libfabric below is either produced by libfabric
        // itself (info, fabric, domain, ...) or a valid C string/attribute struct that outlives
        // the call; results are checked before use and owned by RAII handles.
        unsafe {
            let hints = Info(sys::fi_allocinfo());
            if hints.0.is_null() {
                return Err(FiErr(libc::ENOMEM));
            }
            let hi = &mut *hints.0;
            hi.caps = (sys::FI_MSG
                | sys::FI_TAGGED
                | sys::FI_RMA
                | sys::FI_READ
                | sys::FI_WRITE
                | sys::FI_REMOTE_READ
                | sys::FI_REMOTE_WRITE
                | sys::FI_SEND
                | sys::FI_RECV) as u64;
            hi.mode = sys::FI_CONTEXT | sys::FI_CONTEXT2;
            (*hi.ep_attr).type_ = sys::fi_ep_type_FI_EP_RDM;
            let da = &mut *hi.domain_attr;
            da.mr_mode = (sys::FI_MR_VIRT_ADDR | sys::FI_MR_ALLOCATED | sys::FI_MR_PROV_KEY) as i32;
            da.threading = sys::fi_threading_FI_THREAD_DOMAIN;
            if let Some(d) = h.domain {
                da.name = cstr_dup(d)?;
            }
            (*hi.fabric_attr).prov_name = cstr_dup(h.provider)?;
            if h.ipv4 {
                hi.addr_format = sys::FI_SOCKADDR_IN;
            }
            let node = h.node.map(CString::new).transpose().map_err(|_| FiErr(libc::EINVAL))?;
            let service = h.service.map(CString::new).transpose().map_err(|_| FiErr(libc::EINVAL))?;
            let flags = if node.is_some() || service.is_some() { sys::FI_SOURCE } else { 0 };
            let mut info_p: *mut sys::fi_info = ptr::null_mut();
            check(sys::fi_getinfo(
                API_VERSION,
                node.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
                service.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
                flags,
                hints.0,
                &mut info_p,
            ))?;
            let info = Info(info_p);
            // Some providers (rxm) do not filter on the domain name: pick the matching entry.
            let mut chosen = info.0;
            if let Some(d) = h.domain {
                while !chosen.is_null() {
                    let name = (*(*chosen).domain_attr).name;
                    if !name.is_null() && CStr::from_ptr(name).to_bytes() == d.as_bytes() {
                        break;
                    }
                    chosen = (*chosen).next;
                }
                if chosen.is_null() {
                    return Err(FiErr(libc::ENODATA));
                }
            }
            let inf = &mut *chosen;
            // Without FI_MR_VIRT_ADDR, RMA addresses are offsets into the registered buffer.
            let virt_addr = ((*inf.domain_attr).mr_mode as u32 & sys::FI_MR_VIRT_ADDR) != 0;
            let max_msg = (*inf.ep_attr).max_msg_size;
            let prov_key = ((*inf.domain_attr).mr_mode as u32 & sys::FI_MR_PROV_KEY) != 0;

            let mut fab: *mut sys::fid_fabric = ptr::null_mut();
            check(sys::fi_fabric(inf.fabric_attr, &mut fab, ptr::null_mut()))?;
            let fabric = Arc::new(FabricH(fab));
            let mut dom: *mut sys::fid_domain = ptr::null_mut();
            check(sys::fi_domain(fab, chosen, &mut dom, ptr::null_mut()))?;
            let domain = Arc::new(DomainH { ptr: dom, _fabric: fabric.clone() });

            let mut net = Net {
                ep: ptr::null_mut(),
                cq: ptr::null_mut(),
                av: ptr::null_mut(),
                domain,
                fabric,
                wait_fd: None,
                virt_addr,
                prov_key,
                seq: 0,
                max_msg: if max_msg == 0 { usize::MAX } else { max_msg },
                ops: HashMap::new(),
            };
            // A CQ with a file descriptor to block on; providers without one (FI_WAIT_NONE
            // only) are progressed by polling.
            for wait in [sys::fi_wait_obj_FI_WAIT_FD, sys::fi_wait_obj_FI_WAIT_NONE] {
                let mut attr: sys::fi_cq_attr = std::mem::zeroed();
                attr.format = sys::fi_cq_format_FI_CQ_FORMAT_TAGGED;
                attr.wait_obj = wait;
                attr.size = 0;
                let mut cq: *mut sys::fid_cq = ptr::null_mut();
                if sys::fi_cq_open(dom, &mut attr, &mut cq, ptr::null_mut()) == 0 {
                    net.cq = cq;
                    if wait == sys::fi_wait_obj_FI_WAIT_FD {
                        let mut fd: c_int = -1;
                        let rc = sys::fi_control(
                            &mut (*cq).fid,
                            sys::FI_GETWAIT as c_int,
                            &mut fd as *mut c_int as *mut c_void,
                        );
                        if rc == 0 && fd >= 0 {
                            net.wait_fd = Some(fd);
                        }
                    }
                    break;
                }
            }
            if net.cq.is_null() {
                return Err(FiErr(libc::ENOSYS));
            }
            let mut av_attr: sys::fi_av_attr = std::mem::zeroed();
            av_attr.type_ = sys::fi_av_type_FI_AV_TABLE;
            check(sys::fi_av_open(dom, &mut av_attr, &mut net.av, ptr::null_mut()))?;
            check(sys::fi_endpoint(dom, chosen, &mut net.ep, ptr::null_mut()))?;
            check(sys::fi_ep_bind(net.ep, &mut (*net.cq).fid, (sys::FI_TRANSMIT | sys::FI_RECV) as u64))?;
            check(sys::fi_ep_bind(net.ep, &mut (*net.av).fid, 0))?;
            check(sys::fi_enable(net.ep))?;
            Ok(net)
        }
    }

    pub fn wait_fd(&self) -> Option<RawFd> {
        self.wait_fd
    }
    /// Operations posted and not completed.
    pub fn posted(&self) -> usize {
        self.ops.len()
    }
    pub fn max_msg_size(&self) -> usize {
        self.max_msg
    }

    /// The endpoint's own address (fi_getname): a sockaddr for tcp, a string for shm.
    pub fn name(&mut self) -> Result<Vec<u8>, FiErr> {
        let mut buf = vec![0u8; 256];
        let mut len = buf.len();
        // SAFETY: ep is open; buf has `len` writable bytes and fi_getname writes at most that.
        let rc = unsafe { sys::fi_getname(&mut (*self.ep).fid, buf.as_mut_ptr() as *mut c_void, &mut len) };
        check(rc)?;
        buf.truncate(len.min(256));
        Ok(buf)
    }

    /// Inserts a raw address (as [`Net::name`] returns it) into the AV.
    pub fn av_insert(&mut self, raw: &[u8]) -> Result<u64, FiErr> {
        let mut fi_addr: u64 = FI_ADDR_UNSPEC;
        // Providers read a full address of their format: give them a zero-padded copy.
        let mut copy = raw.to_vec();
        copy.resize(raw.len().max(128), 0);
        // SAFETY: av is open; copy is a readable address buffer of the provider's format
        // (sockaddr_in for tcp, NUL-terminated string for shm) and fi_addr is writable.
        let rc = unsafe {
            sys::fi_av_insert(self.av, copy.as_ptr() as *const c_void, 1, &mut fi_addr, 0, ptr::null_mut())
        };
        if rc != 1 || fi_addr == FI_ADDR_UNSPEC {
            return Err(if rc < 0 { FiErr::from_rc(rc as isize) } else { FiErr(libc::EADDRNOTAVAIL) });
        }
        Ok(fi_addr)
    }

    fn post<F>(&mut self, buf: Option<Vec<u8>>, region: Option<Arc<Region>>, user: U, f: F) -> Result<OpKey, PostErr<U>>
    where
        F: FnOnce(*mut sys::fid_ep, Option<&mut Vec<u8>>, *mut c_void) -> isize,
    {
        let mut op = Box::new(Posted {
            // SAFETY: fi_context2 is plain data (pointers) for which all-zero is valid.
            ctx: unsafe { std::mem::zeroed() },
            buf,
            region,
            seq: self.seq,
            user,
        });
        self.seq += 1;
        let ctx = &mut *op as *mut Posted<U> as *mut c_void;
        let rc = f(self.ep, op.buf.as_mut(), ctx);
        if rc != 0 {
            let op = *op;
            return Err(PostErr { err: FiErr::from_rc(rc), buf: op.buf, user: op.user });
        }
        let key = OpKey(ctx as usize, op.seq);
        self.ops.insert(ctx as usize, op);
        Ok(key)
    }

    /// Tagged send of `buf` (kept until the send completes).
    pub fn tsend(&mut self, dest: u64, tag: u64, buf: Vec<u8>, user: U) -> Result<OpKey, PostErr<U>> {
        self.post(Some(buf), None, user, |ep, b, ctx| {
            let b = b.expect("send buffer");
            // SAFETY: the buffer is owned by the posted box, which lives in self.ops until the
            // completion is read; ctx points to that box, whose first field is fi_context2.
            unsafe { sys::fi_tsend(ep, b.as_ptr() as *const c_void, b.len(), ptr::null_mut(), dest, tag, ctx) }
        })
    }

    /// Tagged receive into `buf` (all of its length), from any source.
    pub fn trecv(&mut self, tag: u64, ignore: u64, buf: Vec<u8>, user: U) -> Result<OpKey, PostErr<U>> {
        self.post(Some(buf), None, user, |ep, b, ctx| {
            let b = b.expect("recv buffer");
            // SAFETY: as for tsend: the buffer and context live in self.ops until completion.
            unsafe {
                sys::fi_trecv(ep, b.as_mut_ptr() as *mut c_void, b.len(), ptr::null_mut(), FI_ADDR_UNSPEC, tag, ignore, ctx)
            }
        })
    }

    /// RMA read (`get`) or write (`put`) of `len` bytes between segment `seg` of `local` at
    /// `off` and the peer's memory at `remote_addr` under `key`.
    #[allow(clippy::too_many_arguments)]
    pub fn rma(
        &mut self,
        get: bool,
        peer: u64,
        local: &Arc<Region>,
        seg: usize,
        off: usize,
        len: usize,
        remote_addr: u64,
        key: u64,
        user: U,
    ) -> Result<OpKey, PostErr<U>> {
        let s = &local.segs[seg];
        assert!(off.checked_add(len).is_some_and(|e| e <= s.len), "rma range outside the segment");
        // SAFETY: off+len is inside the segment (asserted above).
        let p = unsafe { s.ptr.add(off) } as *mut c_void;
        let desc = s.desc;
        self.post(None, Some(local.clone()), user, |ep, _, ctx| {
            // SAFETY: the posted box holds an Arc on the region, so its memory and MR stay alive
            // (and no &mut access exists) until the completion is read.
            unsafe {
                if get {
                    sys::fi_read(ep, p, len, desc, peer, remote_addr, key, ctx)
                } else {
                    sys::fi_write(ep, p, len, desc, peer, remote_addr, key, ctx)
                }
            }
        })
    }

    /// Asks the provider to cancel a posted operation; its box stays until the (error)
    /// completion comes back.
    pub fn cancel(&mut self, key: OpKey) -> bool {
        if self.ops.get(&key.0).map_or(true, |op| op.seq != key.1) {
            return false; // completed already (the address may hold a newer operation)
        }
        // SAFETY: the operation is still posted (in self.ops), so its context is valid.
        let rc = unsafe { sys::fi_cancel(&mut (*self.ep).fid, key.0 as *mut c_void) };
        rc == 0
    }

    /// Drains the CQ into `out`; returns the number of completions read.
    pub fn poll(&mut self, out: &mut Vec<Done<U>>) -> Result<usize, FiErr> {
        let mut n = 0;
        loop {
            // SAFETY: an all-zero fi_cq_tagged_entry is valid plain data.
            let mut ents: [sys::fi_cq_tagged_entry; 16] = unsafe { std::mem::zeroed() };
            // SAFETY: cq is open and `ents` has room for the 16 entries asked for.
            let rc = unsafe { sys::fi_cq_read(self.cq, ents.as_mut_ptr() as *mut c_void, ents.len()) };
            if rc > 0 {
                for e in &ents[..rc as usize] {
                    if let Some(op) = self.ops.remove(&(e.op_context as usize)) {
                        out.push(Done { user: op.user, buf: op.buf, region: op.region, len: e.len, status: Ok(()) });
                        n += 1;
                    }
                }
                continue;
            }
            if rc == -(sys::FI_EAVAIL as isize) {
                // SAFETY: all-zero is a valid fi_cq_err_entry (err_data NULL, size 0: no
                // provider error data requested).
                let mut ee: sys::fi_cq_err_entry = unsafe { std::mem::zeroed() };
                // SAFETY: cq is open and ee is writable.
                let r = unsafe { sys::fi_cq_readerr(self.cq, &mut ee, 0) };
                if r <= 0 {
                    return Err(if r < 0 { FiErr::from_rc(r) } else { FiErr(libc::EIO) });
                }
                {
                    if let Some(op) = self.ops.remove(&(ee.op_context as usize)) {
                        let err = if ee.err == 0 { libc::EIO } else { ee.err.abs() };
                        out.push(Done { user: op.user, buf: op.buf, region: op.region, len: ee.len, status: Err(FiErr(err)) });
                        n += 1;
                    }
                }
                continue;
            }
            if rc == -(sys::FI_EAGAIN as isize) || rc == 0 {
                return Ok(n);
            }
            return Err(FiErr::from_rc(rc));
        }
    }

    /// Blocks until the CQ may have something or `timeout` passes: fi_trywait then poll(2) on
    /// the wait fd. Providers without one (shm) are polled: during the first POLL_SPIN of
    /// idleness (`idle`) the thread only yields, so a quick answer is seen at once, then it
    /// sleeps 50 us between polls.
    pub fn wait(&mut self, timeout: Duration, idle: Duration) {
        if timeout.is_zero() {
            return;
        }
        match self.wait_fd {
            Some(fd) => {
                let mut fids = [ptr::null_mut::<sys::fid>(); 1];
                // SAFETY: cq is open; fids holds its fid for the duration of the call.
                let rc = unsafe {
                    fids[0] = &mut (*self.cq).fid;
                    sys::fi_trywait(self.fabric.0, fids.as_mut_ptr(), 1)
                };
                if rc != 0 {
                    return; // events pending: the caller reads the CQ again
                }
                let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
                let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as c_int;
                // SAFETY: pfd is a valid pollfd array of length 1.
                unsafe { libc::poll(&mut pfd, 1, ms) };
            }
            None if idle < POLL_SPIN => std::thread::yield_now(),
            None => std::thread::sleep(timeout.min(Duration::from_micros(50))),
        }
    }

    /// Registers owned buffers for local and remote access.
    pub fn register(&mut self, bufs: Vec<Vec<u8>>) -> Result<Arc<Region>, FiErr> {
        let mut segs = Vec::with_capacity(bufs.len());
        for b in bufs {
            let len = b.len();
            let ptr = Box::into_raw(b.into_boxed_slice()) as *mut u8;
            segs.push(Seg { ptr, len, mr: ptr::null_mut(), desc: ptr::null_mut(), key: 0, owned: true });
        }
        self.register_segs(segs)
    }

    /// Registers memory the caller owns.
    ///
    /// # Safety
    /// Each `(ptr, len)` must be valid for reads and writes for `len` bytes, and stay so, not
    /// accessed by anything else, until the returned Region (and every clone) is dropped.
    pub unsafe fn register_raw(&mut self, iov: &[(*mut u8, usize)]) -> Result<Arc<Region>, FiErr> {
        let segs = iov
            .iter()
            .map(|&(ptr, len)| Seg { ptr, len, mr: ptr::null_mut(), desc: ptr::null_mut(), key: 0, owned: false })
            .collect();
        self.register_segs(segs)
    }

    fn register_segs(&mut self, mut segs: Vec<Seg>) -> Result<Arc<Region>, FiErr> {
        let access = (sys::FI_READ | sys::FI_WRITE | sys::FI_REMOTE_READ | sys::FI_REMOTE_WRITE) as u64;
        let mut failed = None;
        for s in segs.iter_mut() {
            if s.len == 0 {
                continue;
            }
            let mut mr: *mut sys::fid_mr = ptr::null_mut();
            let key = if self.prov_key { 0 } else { NEXT_MR_KEY.fetch_add(1, std::sync::atomic::Ordering::Relaxed) };
            // SAFETY: s.ptr/s.len is live memory (owned here, or guaranteed by register_raw's
            // caller); the domain is open.
            let rc = unsafe {
                sys::fi_mr_reg(self.domain.ptr, s.ptr as *const c_void, s.len, access, 0, key, 0, &mut mr, ptr::null_mut())
            };
            if rc != 0 {
                failed = Some(FiErr::from_rc(rc as isize));
                break;
            }
            s.mr = mr;
            // SAFETY: mr was just registered successfully.
            unsafe {
                s.desc = sys::fi_mr_desc(mr);
                s.key = sys::fi_mr_key(mr);
            }
        }
        let region = Region { segs, virt_addr: self.virt_addr, _domain: self.domain.clone() };
        match failed {
            Some(e) => Err(e), // dropping `region` closes what was registered
            None => Ok(Arc::new(region)),
        }
    }
}

impl<U> Drop for Net<U> {
    fn drop(&mut self) {
        // SAFETY: closing in libfabric's order: the endpoint first (after which no posted
        // operation touches its buffers or contexts), then CQ and AV. The domain and fabric are
        // closed by their Arcs once every Region is gone.
        unsafe {
            if !self.ep.is_null() {
                sys::fi_close(&mut (*self.ep).fid);
            }
            self.ops.clear();
            if !self.av.is_null() {
                sys::fi_close(&mut (*self.av).fid);
            }
            if !self.cq.is_null() {
                sys::fi_close(&mut (*self.cq).fid);
            }
        }
    }
}

/// The first IPv4 address of a network interface (getifaddrs), for binding tcp endpoints to
/// `D_INTERFACE`.
pub fn iface_ipv4(name: &str) -> Option<std::net::Ipv4Addr> {
    let mut ifap: *mut libc::ifaddrs = ptr::null_mut();
    // SAFETY: getifaddrs fills a list freed below with freeifaddrs; each entry's name is a
    // valid C string and ifa_addr, when non-null, points to a sockaddr of family sa_family.
    unsafe {
        if libc::getifaddrs(&mut ifap) != 0 {
            return None;
        }
        let mut found = None;
        let mut p = ifap;
        while !p.is_null() {
            let ifa = &*p;
            if !ifa.ifa_addr.is_null()
                && (*ifa.ifa_addr).sa_family as i32 == libc::AF_INET
                && CStr::from_ptr(ifa.ifa_name).to_bytes() == name.as_bytes()
            {
                let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                found = Some(std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
                break;
            }
            p = ifa.ifa_next;
        }
        libc::freeifaddrs(ifap);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_tcp_and_shm() {
        for (prov, node) in [("tcp;ofi_rxm", Some("127.0.0.1")), ("shm", None)] {
            let mut n: Net<u32> = Net::open(&Hints { provider: prov, domain: None, node, service: Some("0").filter(|_| node.is_some()), ipv4: node.is_some() }).unwrap();
            let name = n.name().unwrap();
            if prov == "shm" {
                assert!(name.starts_with(b"fi_shm://"), "{name:?}");
            } else {
                assert_eq!(&name[..2], &(libc::AF_INET as u16).to_ne_bytes());
                assert_eq!(&name[4..8], &[127, 0, 0, 1]);
                assert!(n.wait_fd().is_some(), "tcp;ofi_rxm has a wait fd");
            }
        }
    }
}
