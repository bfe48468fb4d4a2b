//! CaRT's SWIM glue (upstream `crt_swim.c`): the primary group's members as SWIM's membership
//! table, SWIM's own protocol (base 0xFE000000, version 2: PING and IREQ, both request/reply,
//! queued ahead of other RPCs), SWIM driven from `crt_progress` of the SWIM context, and state
//! changes delivered to the event callbacks as CRT_EVS_SWIM ALIVE/DEAD.
//!
//! Network glitches: SWIM's core moves its timers when progress itself came late; on top of
//! that, as upstream, when nothing was received for more than 2/3 of the suspicion timeout
//! while more than two members are alive, this member assumes it was the one cut off and
//! delays every suspicion instead of declaring others DEAD.
//!
//! The RPC bodies and their proc functions cross the C ABI (the format table holds their
//! addresses); `unsafe` here is theirs, each block with its invariant.
use crate::capi::{crt_proc_d_iov_t, crt_proc_get_op, crt_proc_int32_t, crt_proc_uint32_t, crt_proc_uint64_t, crt_reply_send, crt_req_decref, crt_req_addref, crt_req_send, crt_req_set_timeout};
use crate::register::{self, RpcFormat};
use crate::swim::{self, der, MemberState, MemberUpdate, Ops, Status, Swim, SwimId, ID_INVALID};
use crate::sys::{crt_cb_info, crt_endpoint_t, crt_proc_op_t, crt_proc_t, crt_req_format, crt_rpc_t, d_iov_t};
use crate::{group, init};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

unsafe extern "C" {
    /// c/swim.c: one message in gurt's `swim` log facility, as upstream logs SWIM.
    fn oxidaos_swim_log(err: c_int, msg: *const std::ffi::c_char);
    /// c/swim.c: libgurt's `d_hlc_get()` (0 when libgurt is not linked: the unit tests).
    fn oxidaos_hlc_get() -> u64;
}

pub const CRT_OPC_SWIM_BASE: u32 = 0xFE00_0000;
pub const CRT_OPC_SWIM_VERSION: u32 = 2;
const RPC_PING: u32 = 0;
const RPC_IREQ: u32 = 1;
const DER_UNINIT: i32 = -1015;
const DER_UNREACH: i32 = -1006;
const UPD_SIZE: usize = std::mem::size_of::<crate::sys::swim_member_update>();
/// Glitches seen before the timeouts are doubled, messages before they are re-tuned.
const NGLITCHES_TRESHOLD: u32 = 10;
const NMESSAGES_TRESHOLD: u32 = 1000;

/// `struct crt_rpc_swim_in`: the target of an IREQ and the piggybacked updates.
#[repr(C)]
pub struct SwimIn {
    pub swim_id: u64,
    pub upds: d_iov_t,
}

/// `struct crt_rpc_swim_out`: the answer, the exclusion version (0: the sender is a member)
/// and the piggybacked updates.
#[repr(C)]
pub struct SwimOut {
    pub rc: i32,
    pub excl_grp_ver: u32,
    pub upds: d_iov_t,
}

unsafe extern "C" fn proc_in(proc: crt_proc_t, data: *mut c_void) -> c_int {
    let d = data as *mut SwimIn;
    let mut op: crt_proc_op_t = 0;
    // SAFETY: cart's RPC layer calls this with a live proc and the input struct it allocated
    // at this format's size.
    unsafe {
        let rc = crt_proc_get_op(proc, &mut op);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_uint64_t(proc, op, &mut (*d).swim_id);
        if rc != 0 {
            return rc;
        }
        crt_proc_d_iov_t(proc, op, &mut (*d).upds)
    }
}

unsafe extern "C" fn proc_out(proc: crt_proc_t, data: *mut c_void) -> c_int {
    let d = data as *mut SwimOut;
    let mut op: crt_proc_op_t = 0;
    // SAFETY: as proc_in, with the output struct.
    unsafe {
        let rc = crt_proc_get_op(proc, &mut op);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_int32_t(proc, op, &mut (*d).rc);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_uint32_t(proc, op, &mut (*d).excl_grp_ver);
        if rc != 0 {
            return rc;
        }
        crt_proc_d_iov_t(proc, op, &mut (*d).upds)
    }
}

/// Exported as `CQF_crt_rpc_swim` (capi), as upstream's CRT_RPC_DEFINE does.
pub static SWIM_FMT: crt_req_format = crt_req_format {
    crf_proc_in: Some(proc_in),
    crf_proc_out: Some(proc_out),
    crf_size_in: std::mem::size_of::<SwimIn>(),
    crf_size_out: std::mem::size_of::<SwimOut>(),
};

fn encode_upds(upds: &[MemberUpdate]) -> Vec<u8> {
    let mut v = Vec::with_capacity(upds.len() * UPD_SIZE);
    for u in upds {
        v.extend_from_slice(&u.id.to_le_bytes());
        v.extend_from_slice(&u.state.incarnation.to_le_bytes());
        v.extend_from_slice(&u.state.status.0.to_le_bytes());
        v.extend_from_slice(&u.state.delay.to_le_bytes());
    }
    v
}

fn decode_upds(b: &[u8]) -> Vec<MemberUpdate> {
    b.chunks_exact(UPD_SIZE)
        .map(|c| {
            let u64_at = |o: usize| u64::from_le_bytes(c[o..o + 8].try_into().unwrap_or_default());
            let u32_at = |o: usize| u32::from_le_bytes(c[o..o + 4].try_into().unwrap_or_default());
            MemberUpdate {
                id: u64_at(0),
                state: MemberState { incarnation: u64_at(8), status: Status(u32_at(16)), delay: u32_at(20) },
            }
        })
        .collect()
}

/// The bytes of an iov (empty for NULL).
///
/// # Safety
/// `iov` describes `iov_len` readable bytes or has a NULL buffer.
unsafe fn iov_bytes(iov: &d_iov_t) -> Vec<u8> {
    if iov.iov_buf.is_null() || iov.iov_len == 0 {
        return Vec::new();
    }
    // SAFETY: the caller's invariant.
    unsafe { std::slice::from_raw_parts(iov.iov_buf as *const u8, iov.iov_len).to_vec() }
}

/// A libc-heap iov holding `b` (empty: NULL).
fn heap_iov(b: &[u8]) -> d_iov_t {
    let mut iov = d_iov_t { iov_buf: std::ptr::null_mut(), iov_buf_len: 0, iov_len: 0 };
    if b.is_empty() {
        return iov;
    }
    // SAFETY: a fresh buffer of b.len() bytes, filled before use; freed by free_iov.
    unsafe {
        let p = libc::malloc(b.len()) as *mut u8;
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(b.as_ptr(), p, b.len());
            iov.iov_buf = p as *mut c_void;
            iov.iov_buf_len = b.len();
            iov.iov_len = b.len();
        }
    }
    iov
}

fn free_iov(iov: &mut d_iov_t) {
    // SAFETY: iov_buf is NULL or came from heap_iov's malloc.
    unsafe { libc::free(iov.iov_buf) };
    iov.iov_buf = std::ptr::null_mut();
    iov.iov_len = 0;
    iov.iov_buf_len = 0;
}

/// The membership table (upstream `struct crt_swim_membs`).
#[derive(Default)]
struct Membs {
    table: HashMap<u32, MemberState>,
    list: Vec<u32>,
    target: usize,
    incarnation: u64,
    alive_or_suspect: u64,
    nglitches: u32,
    nmessages: u32,
}

fn alive_or_suspect(s: Status) -> bool {
    s == Status::ALIVE || s == Status::SUSPECT
}

/// SWIM's callbacks over the primary group.
pub struct CrtOps {
    membs: Mutex<Membs>,
    /// The context's `struct swim_context *` (its C face), set once it is placed.
    handle: std::sync::atomic::AtomicPtr<crate::sys::swim_context>,
    /// The CaRT context SWIM runs on (-1: none).
    ctx_idx: std::sync::atomic::AtomicI32,
    /// When a SWIM message last arrived (ms, monotonic).
    last_unpack: AtomicU64,
    /// The same moment on gurt's HLC (upstream's `csm_last_unpack_hlc`).
    last_unpack_hlc: AtomicU64,
    /// SWIM messages sent and received (performance accounting).
    pub msgs: AtomicU64,
}

/// The membership table's lock: on release, the table is published in the primary group's
/// `gp_membs_swim` (the C view upstream's tests read).
struct MembsGuard<'a> {
    ops: &'a CrtOps,
    g: Option<MutexGuard<'a, Membs>>,
    /// Taken mutably: to be published.
    dirty: bool,
}

impl std::ops::Deref for MembsGuard<'_> {
    type Target = Membs;
    fn deref(&self) -> &Membs {
        self.g.as_deref().unwrap_or_else(|| unreachable!("taken only in drop"))
    }
}

impl std::ops::DerefMut for MembsGuard<'_> {
    fn deref_mut(&mut self) -> &mut Membs {
        self.dirty = true;
        self.g.as_deref_mut().unwrap_or_else(|| unreachable!("taken only in drop"))
    }
}

impl Drop for MembsGuard<'_> {
    fn drop(&mut self) {
        if let Some(m) = self.g.take().filter(|_| self.dirty) {
            let v = crate::capi::SwimMembsView {
                list: &m.list,
                target: m.target as u32,
                ctx: self.ops.handle.load(Relaxed),
                incarnation: m.incarnation,
                last_unpack: self.ops.last_unpack_hlc.load(Relaxed),
                alive_or_suspect: m.alive_or_suspect,
                ctx_idx: self.ops.ctx_idx.load(Relaxed),
                nglitches: m.nglitches as i32,
                nmessages: m.nmessages as i32,
            };
            crate::capi::publish_swim_membs(Some(&v));
        }
    }
}

impl CrtOps {
    fn m(&self) -> MembsGuard<'_> {
        MembsGuard { ops: self, g: Some(self.membs.lock().unwrap_or_else(|p| p.into_inner())), dirty: false }
    }

    fn next_target(&self, skip: impl Fn(u32, &MemberState) -> bool, self_id: SwimId) -> SwimId {
        let mut m = self.m();
        let n = m.list.len();
        for _ in 0..n {
            if m.target >= m.list.len() {
                shuffle(&mut m.list);
                m.target = 0;
            }
            let r = m.list[m.target];
            m.target += 1;
            let st = m.table.get(&r).copied().unwrap_or_default();
            if r as SwimId != self_id && !skip(r, &st) {
                return r as SwimId;
            }
        }
        ID_INVALID
    }
}

/// Scatters the bits of `x` (splitmix64's finaliser): a random-looking position from a clock.
fn spread(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A cheap random permutation (upstream shuffles with rand()).
fn shuffle(v: &mut [u32]) {
    let mut x = swim::monotonic_ms() ^ (std::process::id() as u64) << 32 ^ 0x9E37_79B9_7F4A_7C15;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

/// gurt's hybrid logical clock now (`d_hlc_get`, what upstream's incarnations are); without
/// libgurt (the unit tests) a stand-in of the same shape: wall-clock ns, its low 18 bits
/// cleared for the logical counter.
pub fn hlc_get() -> u64 {
    // SAFETY: a C function without arguments (c/swim.c).
    let h = unsafe { oxidaos_hlc_get() };
    if h != 0 {
        return h;
    }
    let ns = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    ns & !0x3_FFFF
}

/// A new incarnation: the HLC now, above `prev` (an HLC never goes back, but a member's
/// incarnation may have come from elsewhere).
fn hlc_now(prev: u64) -> u64 {
    hlc_get().max(prev.saturating_add(1))
}

/// What SWIM tells the event callbacks: ALIVE and DEAD only (upstream
/// `crt_swim_notify_rank_state`).
fn notify(rank: u32, st: &MemberState) {
    let t = match st.status {
        Status::ALIVE => crate::sys::CRT_EVT_ALIVE,
        Status::DEAD => crate::sys::CRT_EVT_DEAD,
        _ => return,
    };
    trigger_event(rank, st.incarnation, crate::sys::CRT_EVS_SWIM, t);
}

/// Calls every registered `crt_event_cb` (upstream `crt_trigger_event_cbs`).
pub fn trigger_event(rank: u32, inc: u64, src: crate::sys::crt_event_source, t: crate::sys::crt_event_type) {
    type Cb = unsafe extern "C" fn(u32, u64, crate::sys::crt_event_source, crate::sys::crt_event_type, *mut c_void);
    for cb in init::event_cbs() {
        // SAFETY: cb.func is a registered crt_event_cb, called with its own argument.
        unsafe {
            let f: Cb = std::mem::transmute::<usize, Cb>(cb.func);
            f(rank, inc, src, t, cb.arg as *mut c_void);
        }
    }
}

/// The RPC of an indirect ping, kept until the answer about its target comes.
pub struct RpcArg(*mut crt_rpc_t);
// SAFETY: the RPC is reference-counted by cart and only handed back to cart's functions.
unsafe impl Send for RpcArg {}

impl Ops for CrtOps {
    type Args = RpcArg;

    fn send_request(&self, swim: &Swim<Self>, id: SwimId, to: SwimId, upds: Vec<MemberUpdate>) -> i32 {
        send_request(swim, id, to, &upds)
    }

    fn send_reply(&self, swim: &Swim<Self>, from: SwimId, to: SwimId, rc: i32, a: RpcArg) -> i32 {
        let rpc = a.0;
        let prep = swim.updates_prepare(from, to);
        // SAFETY: a server RPC of SWIM's format, referenced since srv_cb suspended it.
        unsafe {
            let out = &mut *((*rpc).cr_output as *mut SwimOut);
            let (urc, upds) = match prep {
                Ok(u) => (0, u),
                Err(e) => (e, Vec::new()),
            };
            out.upds = heap_iov(&encode_upds(&upds));
            out.rc = if urc != 0 { urc } else { rc };
            out.excl_grp_ver = excl_ver(to);
            let r = crt_reply_send(rpc);
            free_iov(&mut out.upds);
            self.msgs.fetch_add(1, Relaxed);
            crt_req_decref(rpc);
            r
        }
    }

    fn dping_target(&self, swim: &Swim<Self>) -> SwimId {
        self.next_target(|_, s| s.status == Status::DEAD, swim.self_get())
    }

    fn iping_target(&self, swim: &Swim<Self>) -> SwimId {
        self.next_target(|_, s| s.status != Status::ALIVE, swim.self_get())
    }

    fn member_state(&self, _: &Swim<Self>, id: SwimId) -> Result<MemberState, i32> {
        self.m().table.get(&(id as u32)).copied().ok_or(der::NONEXIST)
    }

    fn set_member_state(&self, _: &Swim<Self>, id: SwimId, state: &mut MemberState) -> i32 {
        if state.status == Status::SUSPECT {
            state.delay = state.delay.saturating_add(swim::ping_timeout_get() as u32);
        }
        let prev = {
            let mut m = self.m();
            let Some(cur) = m.table.get(&(id as u32)).copied() else { return der::NONEXIST };
            if state.incarnation < cur.incarnation {
                return der::NONEXIST;
            }
            match (alive_or_suspect(cur.status), alive_or_suspect(state.status)) {
                (false, true) => m.alive_or_suspect += 1,
                (true, false) => m.alive_or_suspect = m.alive_or_suspect.saturating_sub(1),
                _ => {}
            }
            m.table.insert(id as u32, *state);
            cur
        };
        if prev.status != state.status || prev.incarnation != state.incarnation {
            notify(id as u32, state);
        }
        0
    }

    fn new_incarnation(&self, _: &Swim<Self>, id: SwimId, state: &mut MemberState) -> bool {
        let mut m = self.m();
        let inc = hlc_now(m.incarnation.max(state.incarnation));
        m.incarnation = inc;
        state.incarnation = inc;
        if let Some(s) = m.table.get_mut(&(id as u32)) {
            s.incarnation = inc;
        }
        true
    }

    fn log(&self, err: bool, msg: std::fmt::Arguments<'_>) {
        let mut m = msg.to_string().into_bytes();
        m.retain(|&b| b != 0);
        m.push(0);
        // SAFETY: m is NUL-terminated; the C side only reads it during the call.
        unsafe { oxidaos_swim_log(err as c_int, m.as_ptr() as *const std::ffi::c_char) };
    }

    fn mirrors(&self) -> bool {
        true
    }

    fn publish(&self, v: &swim::View<'_, RpcArg>) {
        crate::capi::swim_mirror(self.handle.load(Relaxed), v, |a| a.0 as *mut c_void);
    }
}

impl crate::capi::CArg for RpcArg {
    fn from_c(p: *mut c_void) -> Self {
        RpcArg(p as *mut crt_rpc_t)
    }
}

/// The glue's state (upstream `crt_gdata.cg_swim_inited` and `gp_membs_swim`): SWIM's
/// context, with its C face (`csm_ctx`).
pub struct Glue {
    cctx: Box<crate::capi::CContext<CrtOps>>,
    started_ms: u64,
}

impl Glue {
    pub fn swim(&self) -> &Swim<CrtOps> {
        self.cctx.swim()
    }

    /// The `struct swim_context *` of SWIM's context.
    pub fn handle(&self) -> *mut crate::sys::swim_context {
        self.cctx.handle()
    }
}

static GLUE: Mutex<Option<Arc<Glue>>> = Mutex::new(None);

pub fn glue() -> Option<Arc<Glue>> {
    GLUE.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn excl_ver(from: SwimId) -> u32 {
    // 0 when the sender is a member, else the group version (it has been excluded)
    if group::ranks().contains(&(from as u32)) { 0 } else { group::version() }
}

fn send_request(swim: &Swim<CrtOps>, id: SwimId, to: SwimId, upds: &[MemberUpdate]) -> i32 {
    if swim.self_get() == ID_INVALID {
        return DER_UNINIT;
    }
    let Some(g) = glue() else { return DER_UNINIT };
    let idx = g.swim().ops().ctx_idx.load(Relaxed);
    let Some(ctx) = init::context_lookup(idx) else { return DER_UNINIT };
    let ty = if id == to { RPC_PING } else { RPC_IREQ };
    let ep = crt_endpoint_t { ep_grp: std::ptr::null_mut(), ep_rank: to as u32, ep_tag: idx as u32 };
    let opc = register::proto_opc(CRT_OPC_SWIM_BASE, CRT_OPC_SWIM_VERSION, ty);
    let p = match crate::rpc::create(ctx, Some(ep), opc) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // SAFETY: a fresh client RPC of SWIM's format; we own its one reference until sent.
    unsafe {
        let rpc = &mut (*p).rpc as *mut crt_rpc_t;
        let input = &mut *((*rpc).cr_input as *mut SwimIn);
        input.swim_id = id;
        input.upds = heap_iov(&encode_upds(upds));
        let mut t = 3 + (swim::ping_timeout_get() / 1000) as u32;
        if ty == RPC_IREQ {
            t *= 2;
        }
        let _ = crt_req_set_timeout(rpc, t);
        g.swim().ops().msgs.fetch_add(1, Relaxed);
        crt_req_send(rpc, Some(cli_cb), std::ptr::null_mut())
    }
}

/// A SWIM request's completion (upstream `crt_swim_cli_cb`).
unsafe extern "C" fn cli_cb(info: *const crt_cb_info) {
    // SAFETY: cart calls this with a live info whose RPC is SWIM's format.
    let (rpc, cci_rc) = unsafe { ((*info).cci_rpc, (*info).cci_rc) };
    // SAFETY: as above; the input iov came from heap_iov.
    let (ty, swim_id, to_id, out_rc, out_upds, excl) = unsafe {
        let input = &mut *((*rpc).cr_input as *mut SwimIn);
        free_iov(&mut input.upds);
        let out = &*((*rpc).cr_output as *const SwimOut);
        let ok = cci_rc == 0;
        ((*rpc).cr_opc & 0xFFFF, input.swim_id, (*rpc).cr_ep.ep_rank as SwimId,
         if ok { out.rc } else { 0 }, if ok { decode_upds(&iov_bytes(&out.upds)) } else { Vec::new() },
         if ok { out.excl_grp_ver } else { 0 })
    };
    let Some(g) = glue() else { return };
    let swim = g.swim();
    let self_id = swim.self_get();
    if self_id == ID_INVALID || ty > RPC_IREQ {
        return;
    }
    let from_id = if ty == RPC_PING { self_id } else { swim_id };
    if cci_rc != 0 {
        swim.request_failed(to_id);
    } else {
        swim.ops().last_unpack.store(swim::monotonic_ms(), Relaxed);
        swim.ops().last_unpack_hlc.store(hlc_get(), Relaxed);
        swim.ops().msgs.fetch_add(1, Relaxed);
    }
    let reply_rc = if cci_rc != 0 { cci_rc } else { out_rc };
    let mut upds = out_upds;
    if reply_rc == DER_UNINIT || reply_rc == der::NONEXIST {
        // answered but not bootstrapped yet: as good as ALIVE
        upds = swim.updates_prepare(to_id, to_id).unwrap_or_default();
        if let Some(u) = upds.first_mut() {
            u.state.status = Status::ALIVE;
        }
    } else if reply_rc != 0 && reply_rc != der::TIMEDOUT && reply_rc != DER_UNREACH {
        swim.ops().log(true, format_args!("{self_id}: {from_id} => {to_id} remote failed: {reply_rc}"));
    }
    let src = if ty == RPC_IREQ && reply_rc == 0 { from_id } else { to_id };
    let _ = swim.updates_parse(to_id, src, &upds);
    let _ = swim.ipings_reply(to_id, reply_rc);
    if excl > 0 {
        let (min, _) = group::version_min();
        if min > 0 && excl > min {
            let inc = swim.ops().m().table.get(&(self_id as u32)).map_or(0, |s| s.incarnation);
            trigger_event(self_id as u32, inc, crate::sys::CRT_EVS_GRPMOD, crate::sys::CRT_EVT_DEAD);
        }
    }
}

/// A SWIM request arriving (upstream `crt_swim_srv_cb`).
unsafe extern "C" fn srv_cb(rpc: *mut crt_rpc_t) {
    let mut from: u32 = group::CRT_NO_RANK;
    // SAFETY: a live server RPC of SWIM's format.
    let (ty, my_ep, swim_id, upds) = unsafe {
        let _ = crate::capi::crt_req_src_rank_get(rpc, &mut from);
        let input = &*((*rpc).cr_input as *const SwimIn);
        let out = &mut *((*rpc).cr_output as *mut SwimOut);
        out.upds = d_iov_t { iov_buf: std::ptr::null_mut(), iov_buf_len: 0, iov_len: 0 };
        ((*rpc).cr_opc & 0xFFFF, (*rpc).cr_ep.ep_rank as SwimId, input.swim_id, decode_upds(&iov_bytes(&input.upds)))
    };
    let from_id = from as SwimId;
    let reply = |rc: i32, out_upds: &[MemberUpdate]| {
        // SAFETY: as above; the reply is encoded during crt_reply_send.
        unsafe {
            let out = &mut *((*rpc).cr_output as *mut SwimOut);
            out.rc = rc;
            out.excl_grp_ver = excl_ver(from_id);
            out.upds = heap_iov(&encode_upds(out_upds));
            let _ = crt_reply_send(rpc);
            free_iov(&mut out.upds);
        }
    };
    let Some(g) = glue() else { return reply(DER_UNINIT, &[]) };
    let swim = g.swim();
    let ops = swim.ops();
    ops.last_unpack.store(swim::monotonic_ms(), Relaxed);
    ops.last_unpack_hlc.store(hlc_get(), Relaxed);
    ops.msgs.fetch_add(2, Relaxed); // the request and its answer
    let to_id = match ty {
        RPC_PING => my_ep,
        RPC_IREQ => swim_id,
        _ => return reply(der::INVAL, &[]),
    };
    let self_id = swim.self_get();
    if self_id == ID_INVALID {
        let inc = ops.m().incarnation;
        let u = swim.updates_short(my_ep, inc, from_id, to_id, &upds);
        return reply(0, &u);
    }
    {
        let mut m = ops.m();
        m.nmessages += 1;
        if m.nmessages > NMESSAGES_TRESHOLD {
            m.nmessages = 0;
            m.nglitches = 0;
            drop(m);
            accommodate();
            m = ops.m();
        }
        if m.nglitches > NGLITCHES_TRESHOLD {
            swim::suspect_timeout_set(swim::suspect_timeout_get() * 2);
            swim::ping_timeout_set(swim::ping_timeout_get() * 2);
            swim::period_set(swim::period_get() * 2);
            swim.set_default_ping_timeout(swim.default_ping_timeout() * 2);
            m.nglitches = 0;
        }
    }
    let _ = swim.updates_parse(from_id, from_id, &upds);
    match ty {
        RPC_PING => match swim.updates_prepare(from_id, from_id) {
            Ok(u) => reply(0, &u),
            Err(e) => reply(e, &[]),
        },
        _ => {
            // SAFETY: kept referenced while suspended in the ipings queue.
            unsafe { crt_req_addref(rpc) };
            let rc = swim.ipings_suspend(from_id, to_id, RpcArg(rpc));
            if rc == 0 {
                let _ = swim.updates_send(to_id, to_id);
            } else if rc == der::ALREADY {
                // another request for the same target is under way; this one waits too
            } else {
                // SAFETY: the reference just taken.
                unsafe { crt_req_decref(rpc) };
                reply(rc, &[]);
            }
        }
    }
}

/// Protocol steps one progress call runs at most (select, ping, indirect pings...); more
/// due work makes the caller's network wait 0, so it comes back at once.
const MAX_STEPS_PER_PROGRESS: u32 = 16;

/// SWIM's share of `crt_progress` on its context (upstream `crt_swim_progress_cb`).
fn progress(timeout_us: i64) -> i64 {
    let Some(g) = glue() else { return timeout_us };
    let swim = g.swim();
    let self_id = swim.self_get();
    if self_id == ID_INVALID {
        return timeout_us;
    }
    // Run the protocol steps due now, without waiting. swim.progress(timeout) would busy-wait
    // for SWIM's next event whenever it is under 100 ms away, up to the caller's whole timeout
    // (1 s steps in crt_progress_cond) and without driving the network, so the replies that end
    // SWIM's waits, and every other RPC's, were not read until it gave up. The caller's timeout
    // is spent in the network wait instead, bounded below by SWIM's next event.
    let mut rc;
    let mut steps = 0;
    let mut due;
    loop {
        rc = swim.progress(0);
        steps += 1;
        due = swim.snapshot().next_event <= swim::monotonic_ms();
        if !due || steps >= MAX_STEPS_PER_PROGRESS || (rc != der::TIMEDOUT && rc != der::CANCELED) {
            break;
        }
    }
    let mut t = if due { 0 } else { timeout_us };
    if rc == der::TIMEDOUT || rc == der::CANCELED {
        let ops = swim.ops();
        let now = swim::monotonic_ms();
        if ops.m().alive_or_suspect > 2 {
            let last = ops.last_unpack.load(Relaxed);
            let delay = now.saturating_sub(last);
            let max_delay = swim::suspect_timeout_get() * 2 / 3;
            if last != 0 && delay > max_delay {
                ops.log(true, format_args!("SWIM network outage detected (idle during {delay} ms > expected {max_delay} ms)."));
                let _ = swim.net_glitch_update(self_id, delay);
                ops.last_unpack.store(now, Relaxed);
            }
        }
        let next = swim.snapshot().next_event;
        if now < next {
            let d = ((next - now) * 1000) as i64;
            // a poll (0) stays a poll; "until something happens" (< 0) waits for SWIM's event
            t = if t < 0 { d } else { t.min(d) };
        }
    }
    t
}

/// `crt_swim_init`: the membership table and SWIM's context, SWIM's protocol, and its share of
/// progress on context `ctx_idx`. The members already in the primary group join at once.
pub fn init(ctx_idx: i32) -> Result<(), i32> {
    let mut gl = GLUE.lock().unwrap_or_else(|p| p.into_inner());
    if gl.is_some() {
        return Ok(());
    }
    let p = swim::params_from_env();
    swim::period_set(p.period);
    swim::suspect_timeout_set(p.suspect_timeout);
    swim::ping_timeout_set(p.ping_timeout);
    let ops = CrtOps {
        membs: Mutex::new(Membs { incarnation: hlc_now(0), ..Default::default() }),
        handle: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
        ctx_idx: std::sync::atomic::AtomicI32::new(ctx_idx),
        last_unpack: AtomicU64::new(0),
        last_unpack_hlc: AtomicU64::new(0),
        msgs: AtomicU64::new(0),
    };
    // no sc_data: upstream's crt_swim_init passes NULL to swim_init (its ops find the
    // membership through crt_gdata, ours through `ops`)
    let data = std::ptr::null_mut();
    let cctx = crate::capi::CContext::boxed(crate::capi::KIND_CRT, ID_INVALID, data, std::ptr::null_mut(), Swim::new(ID_INVALID, ops), |o, h| o.handle.store(h, Relaxed));
    let g = Arc::new(Glue { cctx, started_ms: swim::monotonic_ms() });
    g.swim().ops().m().dirty = true; // publish csm_ctx and the empty table
    let fmt = RpcFormat {
        req_fmt: &SWIM_FMT as *const crt_req_format as usize,
        size_in: SWIM_FMT.crf_size_in,
        size_out: SWIM_FMT.crf_size_out,
        handler: srv_cb as *const () as usize,
        co_ops: 0,
        flags: crate::sys::CRT_RPC_FEAT_QUEUE_FRONT,
    };
    match register::proto_register(CRT_OPC_SWIM_BASE, CRT_OPC_SWIM_VERSION, &[fmt, fmt], true) {
        Ok(()) | Err(-1004) => {} // -DER_EXIST: kept from an earlier init in this process
        Err(e) => return Err(e),
    }
    *gl = Some(g.clone());
    drop(gl);
    if let Some(self_rank) = group::self_rank() {
        for r in group::ranks() {
            let _ = rank_add(r, 0);
        }
        let _ = self_rank;
        rank_shuffle();
    }
    hook_progress(ctx_idx);
    Ok(())
}

fn hook_progress(ctx_idx: i32) {
    if let Some(c) = init::context_lookup(ctx_idx) {
        c.set_progress_hook(Some(Box::new(progress)));
    }
}

/// `crt_swim_fini`.
pub fn fini() {
    let Some(g) = glue() else { return };
    let ms = swim::monotonic_ms().saturating_sub(g.started_ms).max(1);
    let n = g.swim().ops().msgs.load(Relaxed);
    g.swim().ops().log(false, format_args!(
        "SWIM done: {n} messages sent and received in {ms} ms ({:.1}/s)", n as f64 * 1000.0 / ms as f64));
    rank_del_all();
    if let Some(c) = init::context_lookup(g.swim().ops().ctx_idx.load(Relaxed)) {
        c.set_progress_hook(None);
    }
    *GLUE.lock().unwrap_or_else(|p| p.into_inner()) = None;
    drop(g); // ours: SWIM's context goes with the last reference
    crate::capi::publish_swim_membs(None);
}

/// `crt_swim_rank_add`: `rank` (and this member, first) into the table; -DER_ALREADY when
/// already there.
pub fn rank_add(rank: u32, incarnation: u64) -> Result<(), i32> {
    let Some(g) = glue() else { return Ok(()) };
    let Some(self_rank) = group::self_rank() else { return Err(der::INVAL) };
    let swim = g.swim();
    let mut rc = Ok(());
    {
        let mut m = swim.ops().m();
        if !m.table.contains_key(&self_rank) {
            let inc = if rank == self_rank && incarnation != 0 { incarnation } else { m.incarnation };
            m.table.insert(self_rank, MemberState { incarnation: inc, status: Status::ALIVE, delay: 0 });
            m.list.push(self_rank);
            m.alive_or_suspect += 1;
        } else if rank == self_rank || m.table.contains_key(&rank) {
            rc = Err(der::ALREADY);
        }
        if rank != self_rank && !m.table.contains_key(&rank) {
            m.table.insert(rank, MemberState { incarnation, status: Status::ALIVE, delay: 0 });
            let pos = if m.list.is_empty() { 0 } else { (spread(hlc_get()) as usize) % (m.list.len() + 1) };
            m.list.insert(pos, rank);
            m.alive_or_suspect += 1;
        }
    }
    if swim.self_get() != self_rank as SwimId {
        swim.self_set(self_rank as SwimId);
    }
    rc
}

/// `crt_swim_rank_del`: -DER_NONEXIST when not a member.
pub fn rank_del(rank: u32) -> Result<(), i32> {
    let Some(g) = glue() else { return Ok(()) };
    let swim = g.swim();
    let self_rank = group::self_rank();
    let (found, stop) = {
        let mut m = swim.ops().m();
        let found = m.table.remove(&rank);
        m.list.retain(|r| *r != rank);
        if m.target > m.list.len() {
            m.target = m.list.len();
        }
        if let Some(s) = found {
            if alive_or_suspect(s.status) {
                m.alive_or_suspect = m.alive_or_suspect.saturating_sub(1);
            }
        }
        (found.is_some(), Some(rank) == self_rank || m.list.is_empty())
    };
    // outside the table's lock: the core's lock comes first (its callbacks take the table's)
    if stop {
        swim.self_set(ID_INVALID);
    }
    if !found {
        return Err(der::NONEXIST);
    }
    swim.member_del(rank as SwimId);
    Ok(())
}

/// `crt_swim_rank_del_all`.
pub fn rank_del_all() {
    let Some(g) = glue() else { return };
    g.swim().self_set(ID_INVALID);
    let ranks: Vec<u32> = g.swim().ops().m().list.clone();
    for r in ranks {
        let _ = rank_del(r);
    }
}

/// `crt_swim_rank_shuffle`.
pub fn rank_shuffle() {
    if let Some(g) = glue() {
        let mut m = g.swim().ops().m();
        shuffle(&mut m.list);
        m.target = 0;
    }
}

/// `crt_swim_rank_check`: a higher incarnation makes the rank ALIVE again.
pub fn rank_check(rank: u32, incarnation: u64) -> Result<(), i32> {
    let Some(g) = glue() else { return Ok(()) };
    let upd = {
        let mut m = g.swim().ops().m();
        let Some(cur) = m.table.get(&rank).copied() else { return Err(der::NONEXIST) };
        if cur.incarnation < incarnation {
            if !alive_or_suspect(cur.status) {
                m.alive_or_suspect += 1;
            }
            let st = MemberState { incarnation, status: Status::ALIVE, delay: cur.delay };
            m.table.insert(rank, st);
            Some(st)
        } else {
            None
        }
    };
    if let Some(st) = upd {
        g.swim().member_del(rank as SwimId); // forget pending suspicion of the old incarnation
        notify(rank, &st);
    }
    Ok(())
}

/// `crt_swim_enable`: SWIM runs on context `ctx_idx`; -DER_INVAL before `crt_rank_self_set`
/// or for a negative index.
pub fn enable(ctx_idx: i32) -> Result<(), i32> {
    let Some(g) = glue() else { return Ok(()) };
    let Some(self_rank) = group::self_rank() else { return Err(der::INVAL) };
    if ctx_idx < 0 {
        return Err(der::INVAL);
    }
    let old = g.swim().ops().ctx_idx.swap(ctx_idx, Relaxed);
    if old != ctx_idx {
        if let Some(c) = init::context_lookup(old) {
            c.set_progress_hook(None);
        }
    }
    hook_progress(ctx_idx);
    if g.swim().self_get() != self_rank as SwimId && g.swim().ops().m().table.contains_key(&self_rank) {
        g.swim().self_set(self_rank as SwimId);
    }
    g.swim().ops().m().dirty = true; // csm_crt_ctx_idx
    Ok(())
}

/// `crt_swim_disable`: a negative index only stops this member's part; otherwise, when SWIM
/// runs on `ctx_idx`, it leaves that context (-DER_NONEXIST when it runs elsewhere).
pub fn disable(ctx_idx: i32) -> Result<(), i32> {
    let Some(g) = glue() else { return Ok(()) };
    if ctx_idx < 0 {
        g.swim().self_set(ID_INVALID);
        return Ok(());
    }
    if g.swim().ops().ctx_idx.compare_exchange(ctx_idx, -1, Relaxed, Relaxed).is_err() {
        return Err(der::NONEXIST);
    }
    g.swim().self_set(ID_INVALID);
    if let Some(c) = init::context_lookup(ctx_idx) {
        c.set_progress_hook(None);
    }
    g.swim().ops().m().dirty = true; // csm_crt_ctx_idx
    Ok(())
}

/// `crt_swim_disable_all`: SWIM leaves its context and this member stops.
pub fn disable_all() {
    let Some(g) = glue() else { return };
    let old = g.swim().ops().ctx_idx.swap(-1, Relaxed);
    g.swim().self_set(ID_INVALID);
    if old >= 0 {
        if let Some(c) = init::context_lookup(old) {
            c.set_progress_hook(None);
        }
    }
    g.swim().ops().m().dirty = true; // csm_crt_ctx_idx
}

/// `crt_swim_suspend_all`: every other member becomes INACTIVE and the context is marked
/// as glitched (DEAD news about INACTIVE members are then taken).
pub fn suspend_all() {
    let Some(g) = glue() else { return };
    g.swim().set_glitch();
    let self_id = g.swim().self_get();
    let mut m = g.swim().ops().m();
    let mut dec = 0;
    for (id, s) in m.table.iter_mut() {
        if *id as SwimId != self_id {
            if alive_or_suspect(s.status) {
                dec += 1;
            }
            s.status = Status::INACTIVE;
        }
    }
    m.alive_or_suspect = m.alive_or_suspect.saturating_sub(dec);
}

/// `crt_swim_accommodate`: the ping timeout becomes twice the average measured delay, kept
/// between the default ping timeout and a third of the suspicion timeout; small changes
/// (same value / 32) are ignored.
pub fn accommodate() {
    let Some(g) = glue() else { return };
    let (sum, count) = {
        let m = g.swim().ops().m();
        m.table.values().filter(|s| s.delay > 0).fold((0u64, 0u64), |(a, n), s| (a + s.delay as u64, n + 1))
    };
    if count == 0 {
        return;
    }
    let ping = swim::ping_timeout_get();
    let max = swim::suspect_timeout_get() / 3;
    let min = g.swim().default_ping_timeout();
    let mut avg = 2 * sum / count;
    if avg < min {
        avg = min;
    } else if avg > max {
        avg = max;
    }
    if avg >> 5 != ping >> 5 {
        g.swim().ops().log(false, format_args!("change PING timeout from {ping} ms to {avg} ms"));
        swim::ping_timeout_set(avg);
    }
}

/// `crt_rank_state_get`.
pub fn rank_state(rank: u32) -> Result<MemberState, i32> {
    let g = glue().ok_or(der::NONEXIST)?;
    let r = g.swim().ops().m().table.get(&rank).copied().ok_or(der::NONEXIST);
    r
}

/// `crt_self_incarnation_get`: -DER_UNINIT before SWIM.
pub fn self_incarnation() -> Result<u64, i32> {
    let g = glue().ok_or(DER_UNINIT)?;
    let r = g.swim().ops().m().incarnation;
    Ok(r)
}

/// SWIM messages sent and received so far.
pub fn messages() -> u64 {
    glue().map_or(0, |g| g.swim().ops().msgs.load(Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_round_trip_as_the_c_struct() {
        let u = vec![
            MemberUpdate { id: 7, state: MemberState { incarnation: 0x1122_3344_5566_7788, status: Status::SUSPECT, delay: 9 } },
            MemberUpdate { id: u64::MAX - 1, state: MemberState { incarnation: 1, status: Status::DEAD, delay: 0 } },
        ];
        let b = encode_upds(&u);
        assert_eq!(b.len(), 2 * UPD_SIZE);
        assert_eq!(UPD_SIZE, 24);
        assert_eq!(decode_upds(&b), u);
        assert!(decode_upds(&b[..UPD_SIZE - 1]).is_empty(), "a truncated entry is dropped");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<u32> = (0..50).collect();
        shuffle(&mut v);
        let mut w = v.clone();
        w.sort();
        assert_eq!(w, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn incarnations_only_grow() {
        let a = hlc_now(0);
        assert!(a > 0);
        assert_eq!(hlc_now(u64::MAX - 1), u64::MAX);
        assert!(hlc_now(a) > a);
    }

    #[test]
    fn nothing_before_init() {
        assert!(glue().is_none());
        assert_eq!(rank_state(1).unwrap_err(), der::NONEXIST);
        assert_eq!(self_incarnation().unwrap_err(), DER_UNINIT);
        assert_eq!(rank_add(1, 0), Ok(()));
        assert_eq!(rank_del(1), Ok(()));
        assert_eq!(rank_check(1, 5), Ok(()));
        assert_eq!(enable(1), Ok(()));
        assert_eq!(progress(1000), 1000);
    }
}
