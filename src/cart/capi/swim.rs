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
    data: *mut c_void,
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

/// What `struct swim_context *` points to. It begins with the fields of upstream's internal
/// `struct swim_context` at their offsets (upstream's emulation test reads `sc_self` and sets
/// `sc_next_tick_time` directly), kept current by every call; the protocol itself is `swim`.
#[repr(C)]
pub struct CContext {
    _sc_mutex: [u64; 5],
    sc_data: AtomicPtr<c_void>,
    sc_ops: AtomicPtr<sys::swim_ops>,
    _sc_lists: [u64; 8],
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
    /// sc_next_tick_time as last published, to see a change made from C
    tick_published: AtomicU64,
    swim: Swim<CapiOps>,
}

const _: () = {
    assert!(std::mem::offset_of!(CContext, sc_data) == 40);
    assert!(std::mem::offset_of!(CContext, sc_state) == 120);
    assert!(std::mem::offset_of!(CContext, sc_self) == 136);
    assert!(std::mem::offset_of!(CContext, sc_next_tick_time) == 160);
    assert!(std::mem::offset_of!(CContext, sc_glitch) == 192);
};

fn phase_to_c(p: Phase) -> u32 {
    match p {
        Phase::Begin => 0,
        Phase::Pinged => 1,
        Phase::TimedOut => 2,
        Phase::IPinged => 3,
        Phase::Select => 4,
    }
}

impl CContext {
    /// Publishes the core's state in upstream's fields.
    fn publish(&self) {
        let s = &self.swim;
        let snap = s.snapshot();
        self.sc_self.store(s.self_get(), Relaxed);
        self.sc_target.store(snap.target, Relaxed);
        self.sc_state.store(phase_to_c(snap.phase), Relaxed);
        self.sc_default_ping_timeout.store(snap.default_ping_timeout, Relaxed);
        self.sc_expect_progress_time.store(snap.expect_progress_time, Relaxed);
        self.sc_next_tick_time.store(snap.next_tick_time, Relaxed);
        self.tick_published.store(snap.next_tick_time, Relaxed);
        self.sc_next_event.store(snap.next_event, Relaxed);
        self.sc_deadline.store(snap.deadline, Relaxed);
        self.sc_piggyback_tx_max.store(snap.piggyback_tx_max, Relaxed);
    }

    /// Takes in what C changed in upstream's fields since the last publish.
    fn absorb(&self) {
        let t = self.sc_next_tick_time.load(Relaxed);
        if t != self.tick_published.load(Relaxed) {
            self.swim.set_next_tick_time(t);
            self.tick_published.store(t, Relaxed);
        }
    }
}

/// The context behind a C handle, or None for NULL.
fn ctx<'a>(h: *mut sys::swim_context) -> Option<&'a CContext> {
    // SAFETY: a non-NULL handle is one swim_init returned and swim_fini has not freed.
    unsafe { (h as *const CContext).as_ref() }
}

/// Runs `f` on the context (published after), `null` when the handle is NULL.
fn with<R>(h: *mut sys::swim_context, null: R, f: impl FnOnce(&CContext) -> R) -> R
where
    R: Copy,
{
    guard(null, std::panic::AssertUnwindSafe(|| match ctx(h) {
        Some(c) => {
            c.absorb();
            let r = f(c);
            c.publish();
            r
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
        let ops = CapiOps { ops: swim_ops, data, handle: AtomicPtr::new(std::ptr::null_mut()) };
        let c = Box::new(CContext {
            _sc_mutex: [0; 5],
            sc_data: AtomicPtr::new(data),
            sc_ops: AtomicPtr::new(swim_ops),
            _sc_lists: [0; 8],
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
            tick_published: AtomicU64::new(0),
            swim: Swim::new(self_id, ops),
        });
        let h = Box::into_raw(c);
        // SAFETY: h was just made from a Box and is valid.
        let c = unsafe { &*h };
        c.swim.ops().handle.store(h as *mut sys::swim_context, Relaxed);
        c.publish();
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
        drop(unsafe { Box::from_raw(ctx as *mut CContext) });
    })
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_data(ctx: *mut sys::swim_context) -> *mut c_void {
    self::ctx(ctx).map_or(std::ptr::null_mut(), |c| c.swim.ops().data)
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_self_get(ctx: *mut sys::swim_context) -> sys::swim_id_t {
    self::ctx(ctx).map_or(swim::ID_INVALID, |c| c.swim.self_get())
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_self_set(ctx: *mut sys::swim_context, self_id: sys::swim_id_t) {
    if let Some(c) = self::ctx(ctx) {
        c.swim.self_set(self_id);
        c.sc_self.store(self_id, Relaxed);
        if self_id == swim::ID_INVALID {
            c.sc_expect_progress_time.store(0, Relaxed);
        }
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
        Some(u) => c.swim.updates_parse(from, id, &u),
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
    with(ctx, der::INVAL, |c| match c.swim.updates_prepare(id, to) {
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
            let v = c.swim.updates_short(self_id, self_incarnation, from_id, id, &u);
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
    with(ctx, der::INVAL, |c| c.swim.updates_send(id, to))
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
    with(ctx, der::INVAL, |c| c.swim.ipings_suspend(from_id, to_id, CArgs(args)))
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
    with(ctx, der::INVAL, |c| c.swim.ipings_reply(from_id, ret_rc))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_progress(ctx: *mut sys::swim_context, timeout: i64) -> c_int {
    with(ctx, der::INVAL, |c| c.swim.progress(timeout))
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
    with(ctx, der::INVAL, |c| c.swim.net_glitch_update(id, delay))
}

#[no_mangle]
/// # Safety
/// `ctx` is NULL or a live context from `swim_init`; pointers are NULL or valid for what
/// cart/swim.h says they hold.
pub unsafe extern "C" fn swim_member_del(ctx: *mut sys::swim_context, id: sys::swim_id_t) {
    with(ctx, (), |c| c.swim.member_del(id))
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
