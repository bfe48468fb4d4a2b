//! The C API of SWIM (upstream `swim/swim.c`): `struct swim_context *` is a [`CContext`], the
//! caller's `struct swim_ops` drive a [`Swim`] through [`CapiOps`]. Update arrays handed to C
//! (to `send_request`, out of `swim_updates_prepare/short`) come from the libc heap: the caller
//! frees them with free()/D_FREE as upstream's callers do.
use crate::ffi::guard;
use crate::swim::{self, der, MemberState, MemberUpdate, Ops, Phase, Status, Swim, SwimId};
use crate::sys;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering::Relaxed};

unsafe extern "C" {
    /// c/swim.c: one message in gurt's `swim` log facility (a no-op without libgurt).
    fn oxidaos_swim_log(err: c_int, msg: *const std::os::raw::c_char);
}

/// The `args` of an indirect-ping request kept for `send_reply` (the caller's RPC).
pub struct CArgs(*mut c_void);

/// The caller's callbacks; `ops` is the caller's struct (read on every call, as upstream keeps
/// the pointer), `handle` the `struct swim_context *` they are given.
pub struct CapiOps {
    ops: *const sys::swim_ops,
    handle: AtomicPtr<sys::swim_context>,
}

fn to_c(u: &MemberUpdate) -> sys::swim_member_update {
    sys::swim_member_update {
        smu_id: u.id,
        smu_state: state_to_c(&u.state),
    }
}

fn state_to_c(s: &MemberState) -> sys::swim_member_state {
    sys::swim_member_state {
        sms_incarnation: s.incarnation,
        sms_status: s.status.0,
        sms_delay: s.delay,
    }
}

fn state_from_c(s: &sys::swim_member_state) -> MemberState {
    MemberState { incarnation: s.sms_incarnation, status: Status(s.sms_status), delay: s.sms_delay }
}

fn from_c(u: &sys::swim_member_update) -> MemberUpdate {
    MemberUpdate { id: u.smu_id, state: state_from_c(&u.smu_state) }
}

/// `upds` as a libc-heap array (NULL when empty or out of memory).
fn malloc_upds(upds: &[MemberUpdate]) -> *mut sys::swim_member_update {
    if upds.is_empty() {
        return std::ptr::null_mut();
    }
    let sz = std::mem::size_of::<sys::swim_member_update>();
    // SAFETY: calloc of n elements of the C type; checked for NULL before use.
    let p = unsafe { libc::calloc(upds.len(), sz) } as *mut sys::swim_member_update;
    if !p.is_null() {
        for (i, u) in upds.iter().enumerate() {
            // SAFETY: p holds upds.len() elements.
            unsafe { p.add(i).write(to_c(u)) };
        }
    }
    p
}

impl CapiOps {
    fn ops(&self) -> &sys::swim_ops {
        // SAFETY: swim_init checked the pointer; the caller keeps its ops alive while the
        // context exists (upstream keeps the same pointer).
        unsafe { &*self.ops }
    }
    fn h(&self) -> *mut sys::swim_context {
        self.handle.load(Relaxed)
    }
}

impl Ops for CapiOps {
    type Args = CArgs;

    fn send_request(&self, _: &Swim<Self>, id: SwimId, to: SwimId, upds: Vec<MemberUpdate>)
        -> i32 {
        let Some(f) = self.ops().send_request else { return der::INVAL };
        let p = malloc_upds(&upds);
        if p.is_null() && !upds.is_empty() {
            return der::NOMEM;
        }
        // SAFETY: the caller's callback with a valid context and a heap array it may keep.
        let rc = unsafe { f(self.h(), id, to, p, upds.len()) };
        if rc != 0 {
            // SAFETY: not taken by the callee on failure (upstream frees it too).
            unsafe { libc::free(p as *mut c_void) };
        }
        rc
    }

    fn send_reply(&self, _: &Swim<Self>, from: SwimId, to: SwimId, rc: i32, a: CArgs) -> i32 {
        match self.ops().send_reply {
            // SAFETY: the caller's callback, given back its own args.
            Some(f) => unsafe { f(self.h(), from, to, rc, a.0) },
            None => 0, // absent: nobody to answer
        }
    }

    fn dping_target(&self, _: &Swim<Self>) -> SwimId {
        match self.ops().get_dping_target {
            // SAFETY: the caller's callback with its context.
            Some(f) => unsafe { f(self.h()) },
            None => swim::ID_INVALID,
        }
    }

    fn iping_target(&self, _: &Swim<Self>) -> SwimId {
        match self.ops().get_iping_target {
            // SAFETY: as above.
            Some(f) => unsafe { f(self.h()) },
            None => swim::ID_INVALID,
        }
    }

    fn member_state(&self, _: &Swim<Self>, id: SwimId) -> Result<MemberState, i32> {
        let Some(f) = self.ops().get_member_state else { return Err(der::INVAL) };
        let mut s = state_to_c(&MemberState::default());
        // SAFETY: the callback writes one swim_member_state into s.
        match unsafe { f(self.h(), id, &mut s) } {
            0 => Ok(state_from_c(&s)),
            rc => Err(rc),
        }
    }

    fn set_member_state(&self, _: &Swim<Self>, id: SwimId, state: &mut MemberState) -> i32 {
        let Some(f) = self.ops().set_member_state else { return der::INVAL };
        let mut s = state_to_c(state);
        // SAFETY: the callback reads (and may change) s.
        let rc = unsafe { f(self.h(), id, &mut s) };
        *state = state_from_c(&s);
        rc
    }

    fn log(&self, err: bool, msg: std::fmt::Arguments<'_>) {
        let mut m = msg.to_string().into_bytes();
        m.retain(|&b| b != 0);
        m.push(0);
        // SAFETY: m is NUL-terminated; the C side only reads it during the call.
        unsafe { oxidaos_swim_log(err as c_int, m.as_ptr() as *const std::os::raw::c_char) };
    }

    fn mirrors(&self) -> bool {
        true
    }

    fn publish(&self, v: &swim::View<'_, CArgs>) {
        swim_mirror(self.h(), v, |a| a.0);
    }

    fn new_incarnation(&self, _: &Swim<Self>, id: SwimId, state: &mut MemberState) -> bool {
        // upstream's own tests leave it NULL: absent, SWIM picks the next incarnation
        let Some(f) = self.ops().new_incarnation else { return false };
        let mut s = state_to_c(state);
        // SAFETY: the callback updates s.
        unsafe { f(self.h(), id, &mut s) };
        *state = state_from_c(&s);
        true
    }
}

/// The C-visible prefix of a context: upstream's `struct swim_context` field for field (200
/// bytes; upstream's tests read `sc_self` and `sc_suspects`, and set `sc_next_tick_time`),
/// then which core it fronts.
///
/// Invariant (shared with C): the four TAILQs hold libc-heap `struct swim_item`s that only
/// [`swim_mirror`] links, rewrites and frees, with `sc_mutex` held; C reads them under `sc_mutex`.
/// The scalar fields are rewritten by [`swim_mirror`] too (atomics: C may read them any time).
#[repr(C)]
pub struct Prefix {
    sc_mutex: std::cell::UnsafeCell<libc::pthread_mutex_t>,
    sc_data: AtomicPtr<c_void>,
    sc_ops: AtomicPtr<sys::swim_ops>,
    lists: std::cell::UnsafeCell<[sys::swim_item_list; 4]>,
    sc_state: AtomicU32,
    _pad: u32,
    sc_target: AtomicU64,
    sc_self: AtomicU64,
    sc_default_ping_timeout: AtomicU64,
    sc_expect_progress_time: AtomicU64,
    sc_next_tick_time: AtomicU64,
    sc_next_event: AtomicU64,
    sc_deadline: AtomicU64,
    sc_piggyback_tx_max: AtomicU64,
    sc_glitch: AtomicU32,
    /// [`KIND_CAPI`] or [`KIND_CRT`]: the core behind (in upstream's tail padding).
    kind: u32,
    /// sc_next_tick_time as last published, to see a change made from C
    tick_published: AtomicU64,
    /// The generation of each list as last mirrored (under sc_mutex).
    gens: std::cell::UnsafeCell<[u64; 4]>,
    /// Each C list's entries, in order (under sc_mutex).
    shadows: std::cell::UnsafeCell<[Vec<Shadow>; 4]>,
}

// SAFETY: the UnsafeCells are only touched with sc_mutex held (see the invariant above).
unsafe impl Sync for Prefix {}
// SAFETY: as above; the items are plain heap memory.
unsafe impl Send for Prefix {}

const _: () = {
    assert!(std::mem::offset_of!(Prefix, sc_data) == 40);
    assert!(std::mem::offset_of!(Prefix, lists) == 56);
    assert!(std::mem::offset_of!(Prefix, sc_state) == 120);
    assert!(std::mem::offset_of!(Prefix, sc_self) == 136);
    assert!(std::mem::offset_of!(Prefix, sc_next_tick_time) == 160);
    assert!(std::mem::offset_of!(Prefix, sc_glitch) == 192);
    assert!(std::mem::offset_of!(Prefix, tick_published) == 200);
};

pub const KIND_CAPI: u32 = 0x5357_4331; // a context of swim_init()
pub const KIND_CRT: u32 = 0x5357_4332; // CaRT's own (crt_swim_init())

impl Prefix {
    fn new(kind: u32, self_id: SwimId, data: *mut c_void, ops: *mut sys::swim_ops) -> Self {
        let empty = sys::swim_item_list { tqh_first: std::ptr::null_mut(), tqh_last: std::ptr::null_mut() };
        Prefix {
            sc_mutex: std::cell::UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
            sc_data: AtomicPtr::new(data),
            sc_ops: AtomicPtr::new(ops),
            lists: std::cell::UnsafeCell::new([empty; 4]),
            sc_state: AtomicU32::new(0),
            _pad: 0,
            sc_target: AtomicU64::new(swim::ID_INVALID),
            sc_self: AtomicU64::new(self_id),
            sc_default_ping_timeout: AtomicU64::new(0),
            sc_expect_progress_time: AtomicU64::new(0),
            sc_next_tick_time: AtomicU64::new(0),
            sc_next_event: AtomicU64::new(0),
            sc_deadline: AtomicU64::new(0),
            sc_piggyback_tx_max: AtomicU64::new(0),
            sc_glitch: AtomicU32::new(0),
            kind,
            tick_published: AtomicU64::new(0),
            gens: std::cell::UnsafeCell::new([0; 4]),
            shadows: std::cell::UnsafeCell::new([Vec::new(), Vec::new(), Vec::new(), Vec::new()]),
        }
    }

    /// Points the empty list heads at themselves (TAILQ_INIT), once the prefix is at its
    /// final address.
    fn init_lists(&self) {
        // SAFETY: called once, before the handle is shared; the heads are ours.
        unsafe {
            let l = &mut *self.lists.get();
            for h in l.iter_mut() {
                h.tqh_first = std::ptr::null_mut();
                h.tqh_last = &mut h.tqh_first;
            }
        }
    }

    /// Frees every mirrored item (the context is going away).
    fn free_lists(&self) {
        self.lock();
        // SAFETY: sc_mutex held; the items are ours (libc heap), unlinked here.
        unsafe {
            for (h, sh) in (*self.lists.get()).iter_mut().zip((*self.shadows.get()).iter_mut()) {
                for e in sh.drain(..) {
                    libc::free(e.ptr as *mut c_void);
                }
                h.tqh_first = std::ptr::null_mut();
                h.tqh_last = &mut h.tqh_first;
            }
        }
        self.unlock();
    }

    fn lock(&self) {
        // SAFETY: an initialised mutex of this prefix.
        unsafe { libc::pthread_mutex_lock(self.sc_mutex.get()) };
    }

    fn unlock(&self) {
        // SAFETY: locked by this thread in lock().
        unsafe { libc::pthread_mutex_unlock(self.sc_mutex.get()) };
    }
}

/// What the mirror knows of one C entry (a contiguous copy, so that finding what changed
/// does not chase the C links).
pub struct Shadow {
    ptr: *mut sys::swim_item,
    id: SwimId,
    from: SwimId,
    val: u64,
    args: *mut c_void,
}

/// Brings one TAILQ in line with `items`: the entries matching (by member id) at both ends
/// stay and get their changed fields rewritten; only the middle is freed, allocated and
/// relinked. `shadow` is the list as C has it, kept in step.
///
/// # Safety
/// sc_mutex is held; `head` is one of the prefix's heads, its entries ours and `shadow`
/// exactly them, in order.
unsafe fn sync_list<A>(head: &mut sys::swim_item_list, shadow: &mut Vec<Shadow>, gen: &mut u64,
                       items: &swim::ListView<'_, A>, args: fn(&A) -> *mut c_void) {
    if *gen == items.gen {
        return; // not touched since the last mirror
    }
    let (old, n) = (shadow.len(), items.len());
    let min = old.min(n);
    // SAFETY (whole body): the caller's invariant; new entries come from calloc and are
    // linked before the lock is released.
    unsafe {
        // an entry kept: its changed fields rewritten
        let update = |e: &mut Shadow, it: &swim::ItemView<'_, A>| {
            let a = it.args.map_or(std::ptr::null_mut(), args);
            if e.from != it.from || e.val != it.val || e.args != a {
                (*e.ptr).si_from = it.from;
                (*e.ptr).u.si_deadline = it.val;
                (*e.ptr).si_args = a;
                e.from = it.from;
                e.val = it.val;
                e.args = a;
            }
        };
        let mut p = 0;
        while p < min {
            let it = items.get(p);
            if shadow[p].id != it.id {
                break;
            }
            update(&mut shadow[p], &it);
            p += 1;
        }
        let mut q = 0;
        while q < min - p {
            let it = items.get(n - 1 - q);
            if shadow[old - 1 - q].id != it.id {
                break;
            }
            update(&mut shadow[old - 1 - q], &it);
            q += 1;
        }
        for e in shadow.drain(p..old - q) {
            libc::free(e.ptr as *mut c_void);
        }
        let mut fresh = Vec::with_capacity(n - q - p);
        let mut complete = true;
        for i in p..n - q {
            let it = items.get(i);
            let ptr = libc::calloc(1, std::mem::size_of::<sys::swim_item>()) as *mut sys::swim_item;
            if ptr.is_null() {
                complete = false; // out of memory: shorter now, retried at the next publish
                break;
            }
            let a = it.args.map_or(std::ptr::null_mut(), args);
            (*ptr).si_id = it.id;
            (*ptr).si_from = it.from;
            (*ptr).si_args = a;
            (*ptr).u.si_deadline = it.val;
            fresh.push(Shadow { ptr, id: it.id, from: it.from, val: it.val, args: a });
        }
        let ins = fresh.len();
        shadow.splice(p..p, fresh);
        let len = shadow.len();
        // relink from the first new entry through the first kept one after them
        for i in p..(p + ins + 1).min(len) {
            let prev_next: *mut *mut sys::swim_item =
                if i == 0 { &mut head.tqh_first } else { &mut (*shadow[i - 1].ptr).si_link.tqe_next };
            *prev_next = shadow[i].ptr;
            (*shadow[i].ptr).si_link.tqe_prev = prev_next;
        }
        if p + ins == len {
            // nothing kept after them: the list ends here
            if len == 0 {
                head.tqh_first = std::ptr::null_mut();
                head.tqh_last = &mut head.tqh_first;
            } else {
                let last = shadow[len - 1].ptr;
                (*last).si_link.tqe_next = std::ptr::null_mut();
                head.tqh_last = &mut (*last).si_link.tqe_next;
            }
        }
        if complete {
            *gen = items.gen;
        }
    }
}

/// [`swim::Ops::publish`] for a context with a C face: writes the core's state into the
/// prefix behind `h` (NULL: not yet placed; nothing to do).
pub fn swim_mirror<A>(h: *mut sys::swim_context, v: &swim::View<'_, A>, args: fn(&A) -> *mut c_void) {
    // SAFETY: h is NULL or the live prefix of the context whose ops call this.
    let Some(p) = (unsafe { (h as *const Prefix).as_ref() }) else { return };
    let snap = &v.snapshot;
    p.lock();
    p.sc_self.store(v.self_id, Relaxed);
    p.sc_target.store(snap.target, Relaxed);
    p.sc_state.store(phase_to_c(snap.phase), Relaxed);
    p.sc_default_ping_timeout.store(snap.default_ping_timeout, Relaxed);
    p.sc_expect_progress_time.store(v.expect_progress_time, Relaxed);
    p.sc_next_tick_time.store(snap.next_tick_time, Relaxed);
    p.tick_published.store(snap.next_tick_time, Relaxed);
    p.sc_next_event.store(snap.next_event, Relaxed);
    p.sc_deadline.store(snap.deadline, Relaxed);
    p.sc_piggyback_tx_max.store(snap.piggyback_tx_max, Relaxed);
    p.sc_glitch.store(v.glitch as u32, Relaxed);
    // SAFETY: sc_mutex held: the lists are ours to rewrite.
    unsafe {
        let l = &mut *p.lists.get();
        let g = &mut *p.gens.get();
        let sh = &mut *p.shadows.get();
        sync_list(&mut l[0], &mut sh[0], &mut g[0], &v.subgroup, args);
        sync_list(&mut l[1], &mut sh[1], &mut g[1], &v.suspects, args);
        sync_list(&mut l[2], &mut sh[2], &mut g[2], &v.updates, args);
        sync_list(&mut l[3], &mut sh[3], &mut g[3], &v.ipings, args);
    }
    p.unlock();
}

/// What `struct swim_context *` points to: the C prefix, then the protocol core.
#[repr(C)]
pub struct CContext<O: Ops> {
    pre: Prefix,
    swim: std::mem::ManuallyDrop<Swim<O>>,
}

impl<O: Ops> CContext<O> {
    /// A context at its final (heap) address, its handle given to the ops by `place`.
    pub fn boxed(kind: u32, self_id: SwimId, data: *mut c_void, c_ops: *mut sys::swim_ops, swim: Swim<O>,
                 place: impl FnOnce(&O, *mut sys::swim_context)) -> Box<Self> {
        let b = Box::new(CContext { pre: Prefix::new(kind, self_id, data, c_ops), swim: std::mem::ManuallyDrop::new(swim) });
        b.pre.init_lists();
        place(b.swim.ops(), &*b as *const Self as *mut sys::swim_context);
        b.swim.republish();
        b
    }

    pub fn swim(&self) -> &Swim<O> {
        &self.swim
    }

    /// The `struct swim_context *` of this context.
    pub fn handle(&self) -> *mut sys::swim_context {
        self as *const Self as *mut sys::swim_context
    }

    /// Takes in what C changed in upstream's fields since the last publish.
    fn absorb(&self) {
        let t = self.pre.sc_next_tick_time.load(Relaxed);
        if t != self.pre.tick_published.load(Relaxed) {
            self.swim.set_next_tick_time(t);
        }
    }
}

impl<O: Ops> Drop for CContext<O> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here; the core goes first (answering pending indirect pings,
        // which publishes once more), then the mirror's entries.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.swim) };
        self.pre.free_lists();
    }
}

/// How an indirect-ping request's args cross to C and back.
pub trait CArg: Sized {
    fn from_c(p: *mut c_void) -> Self;
}

impl CArg for CArgs {
    fn from_c(p: *mut c_void) -> Self {
        CArgs(p)
    }
}

/// The C API over either kind of context.
trait Api {
    fn absorb(&self);
    fn self_get(&self) -> SwimId;
    fn self_set(&self, id: SwimId);
    fn updates_parse(&self, from: SwimId, id: SwimId, u: &[MemberUpdate]) -> i32;
    fn updates_prepare(&self, id: SwimId, to: SwimId) -> Result<Vec<MemberUpdate>, i32>;
    fn updates_short(&self, self_id: SwimId, inc: u64, from: SwimId, id: SwimId, u: &[MemberUpdate]) -> Vec<MemberUpdate>;
    fn updates_send(&self, id: SwimId, to: SwimId) -> i32;
    fn ipings_suspend(&self, from: SwimId, to: SwimId, args: *mut c_void) -> i32;
    fn ipings_reply(&self, from: SwimId, rc: i32) -> i32;
    fn progress(&self, timeout: i64) -> i32;
    fn net_glitch_update(&self, id: SwimId, delay: u64) -> i32;
    fn member_del(&self, id: SwimId);
}

impl<O: Ops> Api for CContext<O>
where
    O::Args: CArg,
{
    fn absorb(&self) {
        CContext::absorb(self)
    }
    fn self_get(&self) -> SwimId {
        self.swim.self_get()
    }
    fn self_set(&self, id: SwimId) {
        self.swim.self_set(id)
    }
    fn updates_parse(&self, from: SwimId, id: SwimId, u: &[MemberUpdate]) -> i32 {
        self.swim.updates_parse(from, id, u)
    }
    fn updates_prepare(&self, id: SwimId, to: SwimId) -> Result<Vec<MemberUpdate>, i32> {
        self.swim.updates_prepare(id, to)
    }
    fn updates_short(&self, self_id: SwimId, inc: u64, from: SwimId, id: SwimId, u: &[MemberUpdate]) -> Vec<MemberUpdate> {
        self.swim.updates_short(self_id, inc, from, id, u)
    }
    fn updates_send(&self, id: SwimId, to: SwimId) -> i32 {
        self.swim.updates_send(id, to)
    }
    fn ipings_suspend(&self, from: SwimId, to: SwimId, args: *mut c_void) -> i32 {
        self.swim.ipings_suspend(from, to, O::Args::from_c(args))
    }
    fn ipings_reply(&self, from: SwimId, rc: i32) -> i32 {
        self.swim.ipings_reply(from, rc)
    }
    fn progress(&self, timeout: i64) -> i32 {
        self.swim.progress(timeout)
    }
    fn net_glitch_update(&self, id: SwimId, delay: u64) -> i32 {
        self.swim.net_glitch_update(id, delay)
    }
    fn member_del(&self, id: SwimId) {
        self.swim.member_del(id)
    }
}

fn phase_to_c(p: Phase) -> u32 {
    match p {
        Phase::Begin => 0,
        Phase::Pinged => 1,
        Phase::TimedOut => 2,
        Phase::IPinged => 3,
        Phase::Select => 4,
    }
}

/// The context behind a C handle, or None for NULL (or a pointer that is no context).
fn ctx<'a>(h: *mut sys::swim_context) -> Option<&'a dyn Api> {
    // SAFETY: a non-NULL handle is one swim_init/crt_swim_init made and not yet freed; its
    // prefix says which core follows.
    unsafe {
        let p = (h as *const Prefix).as_ref()?;
        match p.kind {
            KIND_CAPI => Some(&*(h as *const CContext<CapiOps>)),
            KIND_CRT => Some(&*(h as *const CContext<crate::crt_swim::CrtOps>)),
            _ => None,
        }
    }
}

/// Runs `f` on the context (C's sc_next_tick_time taken in first), `null` when the handle
/// is NULL.
fn with<R>(h: *mut sys::swim_context, null: R, f: impl FnOnce(&dyn Api) -> R) -> R
where
    R: Copy,
{
    guard(null, std::panic::AssertUnwindSafe(|| match ctx(h) {
        Some(c) => {
            c.absorb();
            f(c)
        }
        None => null,
    }))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_init(
    self_id: sys::swim_id_t,
    swim_ops: *mut sys::swim_ops,
    data: *mut c_void,
) -> *mut sys::swim_context {
    guard(std::ptr::null_mut(), || {
        // SAFETY: a non-NULL swim_ops points to the caller's struct swim_ops.
        let Some(o) = (unsafe { swim_ops.as_ref() }) else { return std::ptr::null_mut() };
        if o.send_request.is_none()
            || o.get_dping_target.is_none()
            || o.get_iping_target.is_none()
            || o.get_member_state.is_none()
            || o.set_member_state.is_none()
        {
            let m = b"there are no proper callbacks specified\0";
            // SAFETY: a NUL-terminated message, read during the call only.
            unsafe { oxidaos_swim_log(1, m.as_ptr() as *const std::os::raw::c_char) };
            return std::ptr::null_mut();
        }
        let ops = CapiOps { ops: swim_ops, handle: AtomicPtr::new(std::ptr::null_mut()) };
        let c = CContext::boxed(KIND_CAPI, self_id, data, swim_ops, Swim::new(self_id, ops), |o, h| o.handle.store(h, Relaxed));
        let h = Box::into_raw(c);
        h as *mut sys::swim_context
    })
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_fini(ctx: *mut sys::swim_context) {
    if ctx.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: the handle came from Box::into_raw in swim_init and is freed once here;
        // dropping answers the pending indirect pings (-DER_TIMEDOUT) as upstream.
        match self::ctx(ctx).is_some() {
            // SAFETY: as above; only swim_init's contexts are freed here (CaRT's own is
            // crt_swim_fini's).
            true if unsafe { (*(ctx as *const Prefix)).kind } == KIND_CAPI => drop(unsafe { Box::from_raw(ctx as *mut CContext<CapiOps>) }),
            _ => {}
        }
    })
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_data(ctx: *mut sys::swim_context) -> *mut c_void {
    // SAFETY: a live context's prefix.
    self::ctx(ctx).map_or(std::ptr::null_mut(), |_| unsafe { (*(ctx as *const Prefix)).sc_data.load(Relaxed) })
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_self_get(ctx: *mut sys::swim_context) -> sys::swim_id_t {
    self::ctx(ctx).map_or(swim::ID_INVALID, |c| c.self_get())
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_self_set(ctx: *mut sys::swim_context, self_id: sys::swim_id_t) {
    if let Some(c) = self::ctx(ctx) {
        c.self_set(self_id); // published by the core
    }
}

/// The C array as a slice (None: NULL with a count).
fn upds_in(p: *const sys::swim_member_update, n: usize) -> Option<Vec<MemberUpdate>> {
    if n == 0 {
        return Some(Vec::new());
    }
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller passes n elements at p.
    let s = unsafe { std::slice::from_raw_parts(p, n) };
    Some(s.iter().map(from_c).collect())
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_updates_parse(
    ctx: *mut sys::swim_context,
    from: sys::swim_id_t,
    id: sys::swim_id_t,
    upds: *mut sys::swim_member_update,
    nupds: usize,
) -> c_int {
    with(ctx, 0, |c| match upds_in(upds, nupds) {
        Some(u) => c.updates_parse(from, id, &u),
        None => der::INVAL,
    })
}

/// Stores `v` as a heap array in the out-parameters.
fn out_upds(v: &[MemberUpdate], pupds: *mut *mut sys::swim_member_update, pn: *mut usize) -> c_int {
    let p = malloc_upds(v);
    if p.is_null() && !v.is_empty() {
        return der::NOMEM;
    }
    // SAFETY: both out-pointers were checked non-NULL by the callers.
    unsafe {
        *pupds = p;
        *pn = v.len();
    }
    0
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_updates_prepare(
    ctx: *mut sys::swim_context,
    id: sys::swim_id_t,
    to: sys::swim_id_t,
    pupds: *mut *mut sys::swim_member_update,
    pnupds: *mut usize,
) -> c_int {
    if pupds.is_null() || pnupds.is_null() {
        return der::INVAL;
    }
    with(ctx, der::INVAL, |c| match c.updates_prepare(id, to) {
        Ok(v) => out_upds(&v, pupds, pnupds),
        Err(rc) => rc,
    })
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_updates_short(
    ctx: *mut sys::swim_context,
    self_id: sys::swim_id_t,
    self_incarnation: u64,
    from_id: sys::swim_id_t,
    id: sys::swim_id_t,
    upds_in_: *mut sys::swim_member_update,
    nupds_in: usize,
    upds_out: *mut *mut sys::swim_member_update,
    nupds_out: *mut usize,
) -> c_int {
    if upds_out.is_null() || nupds_out.is_null() {
        return der::INVAL;
    }
    with(ctx, der::INVAL, |c| match upds_in(upds_in_, nupds_in) {
        Some(u) => {
            let v = c.updates_short(self_id, self_incarnation, from_id, id, &u);
            out_upds(&v, upds_out, nupds_out)
        }
        None => der::INVAL,
    })
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_updates_send(
    ctx: *mut sys::swim_context,
    id: sys::swim_id_t,
    to: sys::swim_id_t,
) -> c_int {
    with(ctx, der::INVAL, |c| c.updates_send(id, to))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_ipings_suspend(
    ctx: *mut sys::swim_context,
    from_id: sys::swim_id_t,
    to_id: sys::swim_id_t,
    args: *mut c_void,
) -> c_int {
    with(ctx, der::INVAL, |c| c.ipings_suspend(from_id, to_id, args))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_ipings_reply(
    ctx: *mut sys::swim_context,
    from_id: sys::swim_id_t,
    ret_rc: c_int,
) -> c_int {
    with(ctx, der::INVAL, |c| c.ipings_reply(from_id, ret_rc))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_progress(ctx: *mut sys::swim_context, timeout: i64) -> c_int {
    with(ctx, der::INVAL, |c| c.progress(timeout))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_net_glitch_update(
    ctx: *mut sys::swim_context,
    id: sys::swim_id_t,
    delay: u64,
) -> c_int {
    with(ctx, der::INVAL, |c| c.net_glitch_update(id, delay))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_member_del(ctx: *mut sys::swim_context, id: sys::swim_id_t) {
    with(ctx, (), |c| c.member_del(id))
}

// The tunables (declared by upstream's internal swim_internal.h, not a public header: their C
// entry points are in c/swim.c and call these).
#[no_mangle]
pub extern "C" fn oxidaos_swim_tunable_get(which: c_int) -> u64 {
    match which {
        0 => swim::period_get(),
        1 => swim::suspect_timeout_get(),
        _ => swim::ping_timeout_get(),
    }
}

#[no_mangle]
pub extern "C" fn oxidaos_swim_tunable_set(which: c_int, val: u64) {
    match which {
        0 => swim::period_set(val),
        1 => swim::suspect_timeout_set(val),
        _ => swim::ping_timeout_set(val),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const N: usize = 24;
    static TABLE: Mutex<Vec<sys::swim_member_state>> = Mutex::new(Vec::new());

    fn table() -> std::sync::MutexGuard<'static, Vec<sys::swim_member_state>> {
        TABLE.lock().unwrap_or_else(|p| p.into_inner())
    }

    unsafe extern "C" fn send_request(_: *mut sys::swim_context, _: SwimId, _: SwimId, u: *mut sys::swim_member_update, _: usize) -> c_int {
        // SAFETY: the array is ours to free (libc heap).
        unsafe { libc::free(u as *mut c_void) };
        0
    }
    unsafe extern "C" fn send_reply(_: *mut sys::swim_context, _: SwimId, _: SwimId, _: c_int, _: *mut c_void) -> c_int {
        0
    }
    unsafe extern "C" fn target(_: *mut sys::swim_context) -> SwimId {
        1 + (swim::monotonic_ms() % (N as u64 - 1))
    }
    unsafe extern "C" fn get_state(_: *mut sys::swim_context, id: SwimId, st: *mut sys::swim_member_state) -> c_int {
        match table().get(id as usize) {
            // SAFETY: the core passes a writable state.
            Some(s) => unsafe {
                *st = *s;
                0
            },
            None => der::NONEXIST,
        }
    }
    unsafe extern "C" fn set_state(_: *mut sys::swim_context, id: SwimId, st: *mut sys::swim_member_state) -> c_int {
        match table().get_mut(id as usize) {
            // SAFETY: the core passes a readable state.
            Some(s) => unsafe {
                *s = *st;
                0
            },
            None => der::NONEXIST,
        }
    }

    static OPS: sys::swim_ops = sys::swim_ops {
        send_request: Some(send_request),
        send_reply: Some(send_reply),
        get_dping_target: Some(target),
        get_iping_target: Some(target),
        get_member_state: Some(get_state),
        set_member_state: Some(set_state),
        new_incarnation: None,
    };

    /// The C list as (id, from, value, args), its TAILQ links checked on the way.
    ///
    /// # Safety
    /// `h` is a live list head of a context (no other thread touches it).
    unsafe fn walk(h: *mut sys::swim_item_list) -> Vec<(SwimId, SwimId, u64, usize)> {
        let mut v = Vec::new();
        // SAFETY: the caller's invariant; the entries are the mirror's.
        unsafe {
            let mut prev_next: *mut *mut sys::swim_item = &mut (*h).tqh_first;
            let mut cur = (*h).tqh_first;
            while !cur.is_null() {
                assert_eq!((*cur).si_link.tqe_prev, prev_next, "tqe_prev");
                v.push(((*cur).si_id, (*cur).si_from, (*cur).u.si_deadline, (*cur).si_args as usize));
                prev_next = &mut (*cur).si_link.tqe_next;
                cur = *prev_next;
            }
            assert_eq!((*h).tqh_last, prev_next, "tqh_last");
        }
        v
    }

    /// Random operations on a C context: after each, its four TAILQs are exactly the core's
    /// lists (ids, senders, deadlines/counts, the args of suspended indirect pings).
    #[test]
    fn c_lists_mirror_the_core() {
        *table() = vec![sys::swim_member_state { sms_incarnation: 1, sms_status: 0, sms_delay: 0 }; N];
        // SAFETY: a valid ops table that outlives the context.
        let h = unsafe { swim_init(0, &OPS as *const sys::swim_ops as *mut sys::swim_ops, std::ptr::null_mut()) };
        assert!(!h.is_null());
        // SAFETY: a context of swim_init.
        let c = unsafe { &*(h as *const CContext<CapiOps>) };
        let heads = c.pre.lists.get() as *mut sys::swim_item_list;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut args_live: Vec<usize> = Vec::new();
        let mut longest = [0usize; 4];
        for step in 0..4000u64 {
            let id = 1 + rnd(N as u64 - 1);
            let from = 1 + rnd(N as u64 - 1);
            // SAFETY (every call): the live context and valid arguments.
            unsafe {
                match rnd(8) {
                    0..=2 => {
                        let mut u = sys::swim_member_update {
                            smu_id: id,
                            smu_state: sys::swim_member_state { sms_incarnation: 1 + rnd(4), sms_status: rnd(3) as u32, sms_delay: 0 },
                        };
                        swim_updates_parse(h, from, id, &mut u, 1);
                    }
                    3 => {
                        let mut p: *mut sys::swim_member_update = std::ptr::null_mut();
                        let mut n = 0usize;
                        if swim_updates_prepare(h, id, id, &mut p, &mut n) == 0 {
                            libc::free(p as *mut c_void);
                        }
                    }
                    4 => {
                        let a = 0x1000 + step as usize;
                        // kept even when another request for the target waits (-DER_ALREADY)
                        let rc = swim_ipings_suspend(h, from, id, a as *mut c_void);
                        assert!(rc == 0 || rc == der::ALREADY);
                        args_live.push(a);
                    }
                    5 => {
                        swim_ipings_reply(h, id, 0);
                    }
                    6 => swim_member_del(h, id),
                    _ => {
                        swim_net_glitch_update(h, id, rnd(50));
                        swim_progress(h, 0);
                    }
                }
                let core = c.swim().lists_for_test();
                for (k, l) in core.iter().enumerate() {
                    let cl = walk(heads.add(k));
                    let plain: Vec<(SwimId, SwimId, u64)> = cl.iter().map(|e| (e.0, e.1, e.2)).collect();
                    assert_eq!(&plain, l, "list {k} after step {step}");
                    longest[k] = longest[k].max(l.len());
                    if k == 3 {
                        assert!(cl.iter().all(|e| args_live.contains(&e.3)), "ipings args");
                    } else {
                        assert!(cl.iter().all(|e| e.3 == 0), "no args outside ipings");
                    }
                }
            }
        }
        // the walk saw real lists: suspicions, updates, waiting indirect pings
        assert!(longest[1] > 2 && longest[2] > 5 && longest[3] > 2, "{longest:?}");
        // SAFETY: the context of swim_init, freed once.
        unsafe { swim_fini(h) };
    }
}
