//! SWIM membership, the transport-independent core (upstream `src/cart/swim/swim.c`).
//!
//! One [`Swim`] runs the protocol for one member: every protocol period it pings the next target
//! directly; a target that does not answer within the ping timeout is pinged indirectly through
//! up to `SWIM_SUBGROUP_SIZE` helpers; a target nobody hears from becomes SUSPECT, and a SUSPECT
//! that neither refutes (with a higher incarnation) nor is confirmed alive by the member that
//! spread the suspicion before the suspicion timeout becomes DEAD. Changes ride on the pings
//! (at most [`PIGGYBACK_ENTRIES`] of them, each sent [`PIGGYBACK_TX_COUNT`] times).
//!
//! The network and the membership table are the caller's ([`Ops`]). The rules, the order of
//! callbacks and which of them run under the context's lock are upstream's: the member-state
//! and target callbacks run with the lock held; `send_request` and `send_reply` without it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};

#[cfg(test)]
mod emu;
#[cfg(test)]
mod tests;

/// A member id.
pub type SwimId = u64;
/// The id no member has (`SWIM_ID_INVALID`).
pub const ID_INVALID: SwimId = u64::MAX;

/// Default protocol period, ms (`SWIM_PROTOCOL_PERIOD_LEN`).
pub const PROTOCOL_PERIOD_LEN: u64 = 1000;
/// Default suspicion timeout, ms (`SWIM_SUSPECT_TIMEOUT`).
pub const SUSPECT_TIMEOUT: u64 = 20 * PROTOCOL_PERIOD_LEN;
/// Default direct-ping timeout, ms (`SWIM_PING_TIMEOUT`).
pub const PING_TIMEOUT: u64 = 900;
/// Default number of indirect-ping helpers (`SWIM_SUBGROUP_SIZE`).
pub const SUBGROUP_SIZE: u64 = 2;
/// Most updates piggy-backed on one message besides the addressed ones.
pub const PIGGYBACK_ENTRIES: usize = 8;
/// How many messages carry one update before it is dropped.
pub const PIGGYBACK_TX_COUNT: u64 = 50;

/// DAOS error numbers this module returns (negated, as C sees them).
pub mod der {
    pub const INVAL: i32 = -1003;
    pub const NONEXIST: i32 = -1005;
    pub const ALREADY: i32 = -1008;
    pub const NOMEM: i32 = -1009;
    pub const TIMEDOUT: i32 = -1011;
    pub const CANCELED: i32 = -1016;
}

/// A member's status; a raw value because C may store any number in the enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
#[repr(transparent)]
pub struct Status(pub u32);

impl Status {
    pub const ALIVE: Status = Status(0);
    pub const SUSPECT: Status = Status(1);
    pub const DEAD: Status = Status(2);
    pub const INACTIVE: Status = Status(3);

    /// The letter of `SWIM_STATUS_CHARS` ('?' for a value out of range).
    pub fn letter(self) -> char {
        *b"ASDI".get(self.0 as usize).unwrap_or(&b'?') as char
    }
}

/// What one member knows about another (`struct swim_member_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MemberState {
    pub incarnation: u64,
    pub status: Status,
    /// Network delay seen to the member, ms.
    pub delay: u32,
}

/// One piggy-backed update (`struct swim_member_update`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MemberUpdate {
    pub id: SwimId,
    pub state: MemberState,
}

impl MemberUpdate {
    pub fn new(id: SwimId, incarnation: u64, status: Status) -> Self {
        MemberUpdate { id, state: MemberState { incarnation, status, delay: 0 } }
    }
}

/// The protocol's timing parameters, ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub period: u64,
    pub suspect_timeout: u64,
    pub ping_timeout: u64,
    pub subgroup_size: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            period: PROTOCOL_PERIOD_LEN,
            suspect_timeout: SUSPECT_TIMEOUT,
            ping_timeout: PING_TIMEOUT,
            subgroup_size: SUBGROUP_SIZE,
        }
    }
}

// The process-wide tunables (upstream keeps them global: every swim_init resets them from the
// environment, and crt_swim doubles them under network glitches).
static PERIOD: AtomicU64 = AtomicU64::new(0);
static SUSPECT: AtomicU64 = AtomicU64::new(0);
static PING: AtomicU64 = AtomicU64::new(0);
static SUBGROUP: AtomicU64 = AtomicU64::new(0);

pub fn period_get() -> u64 {
    PERIOD.load(Relaxed)
}
pub fn period_set(val: u64) {
    PERIOD.store(val, Relaxed)
}
pub fn suspect_timeout_get() -> u64 {
    SUSPECT.load(Relaxed)
}
pub fn suspect_timeout_set(val: u64) {
    SUSPECT.store(val, Relaxed)
}
pub fn ping_timeout_get() -> u64 {
    PING.load(Relaxed)
}
pub fn ping_timeout_set(val: u64) {
    PING.store(val, Relaxed)
}

/// `d_getenv_uint`: an unsigned int from the environment, or `None` when the variable is unset
/// or not a decimal number that fits (then the default stays, as upstream).
pub fn env_uint(name: &str) -> Option<u32> {
    let v = std::env::var_os(name)?;
    parse_uint(v.to_str()?)
}

/// strtoull(s, 10) with nothing after the number, then the range check of d_getenv_uint
/// (a negative number is accepted when its two's complement fits an unsigned int).
pub fn parse_uint(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mag: u64 = digits.parse().ok()?; // overflow: strtoull's ERANGE
    let max = u32::MAX as u64;
    if neg {
        // ~(-(mag)) == mag - 1 must stay below the maximum.
        if mag == 0 {
            return Some(0);
        }
        if mag > max {
            return None;
        }
        Some(mag.wrapping_neg() as u32)
    } else if mag > max {
        None
    } else {
        Some(mag as u32)
    }
}

/// Upstream's defaults with the environment's overrides: SWIM_PROTOCOL_PERIOD_LEN,
/// SWIM_SUSPECT_TIMEOUT, SWIM_PING_TIMEOUT, SWIM_SUBGROUP_SIZE.
pub fn params_from_env() -> Params {
    let d = Params::default();
    let get = |n: &str, dv: u64| env_uint(n).map_or(dv, u64::from);
    Params {
        period: get("SWIM_PROTOCOL_PERIOD_LEN", d.period),
        suspect_timeout: get("SWIM_SUSPECT_TIMEOUT", d.suspect_timeout),
        ping_timeout: get("SWIM_PING_TIMEOUT", d.ping_timeout),
        subgroup_size: get("SWIM_SUBGROUP_SIZE", d.subgroup_size),
    }
}

/// CLOCK_MONOTONIC in ms (swim_now_ms).
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// The caller's half of SWIM (`struct swim_ops`), each call given the context it is for.
pub trait Ops: Sized {
    /// What a suspended indirect-ping request carries back to `send_reply`.
    type Args;

    /// Sends a ping (`id == to`) or an indirect-ping request for `id` through `to`.
    fn send_request(&self, swim: &Swim<Self>, id: SwimId, to: SwimId, upds: Vec<MemberUpdate>)
        -> i32;
    /// Answers the indirect-ping request `args` (from `to`) about `from` with `rc`.
    fn send_reply(&self, swim: &Swim<Self>, from: SwimId, to: SwimId, rc: i32, args: Self::Args)
        -> i32;
    fn dping_target(&self, swim: &Swim<Self>) -> SwimId;
    fn iping_target(&self, swim: &Swim<Self>) -> SwimId;
    fn member_state(&self, swim: &Swim<Self>, id: SwimId) -> Result<MemberState, i32>;
    fn set_member_state(&self, swim: &Swim<Self>, id: SwimId, state: &mut MemberState) -> i32;
    /// Gives `state` (this member's) a new, higher incarnation. `false` if the caller has no
    /// such callback: SWIM then takes the next incarnation itself.
    fn new_incarnation(&self, swim: &Swim<Self>, id: SwimId, state: &mut MemberState) -> bool;
    /// The clock, ms (monotonic; an emulation may run its own).
    fn now_ms(&self) -> u64 {
        monotonic_ms()
    }
    /// Where SWIM's own messages go (upstream logs them in gurt's `swim` facility: `err`
    /// at DLOG_ERR, else DLOG_INFO). Called only on state changes and anomalies.
    fn log(&self, _err: bool, _msg: std::fmt::Arguments<'_>) {}
    /// Whether [`Ops::publish`] wants to see the context's state (a C mirror).
    fn mirrors(&self) -> bool {
        false
    }
    /// Called with the context's lock still held whenever a locked section ends (only when
    /// [`Ops::mirrors`]): the lists and round bookkeeping as they are now, for a caller that
    /// keeps a copy other code reads (upstream's `struct swim_context` fields).
    fn publish(&self, _view: &View<'_, Self::Args>) {}
}

/// One entry of a context's lists, as [`Ops::publish`] sees it (upstream `struct swim_item`).
pub struct ItemView<'a, A> {
    pub id: SwimId,
    pub from: SwimId,
    pub args: Option<&'a A>,
    /// si_deadline (suspects, ipings) or si_count (updates, subgroup).
    pub val: u64,
}

/// One of a context's lists as [`Ops::publish`] sees it, with its generation (bumped by every
/// mutable access: a list whose generation did not move since the last publish is unchanged).
pub struct ListView<'a, A> {
    head: &'a [Item<A>],
    tail: &'a [Item<A>],
    pub gen: u64,
}

impl<'a, A> ListView<'a, A> {
    fn of(l: &'a Tracked<impl AsSlices<A>>) -> Self {
        let (head, tail) = l.inner.as_slices();
        ListView { head, tail, gen: l.gen }
    }

    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i` (< len()).
    pub fn get(&self, i: usize) -> ItemView<'a, A> {
        let it = if i < self.head.len() { &self.head[i] } else { &self.tail[i - self.head.len()] };
        ItemView { id: it.id, from: it.from, args: it.args.as_ref(), val: it.val }
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = ItemView<'a, A>> + '_ {
        self.head.iter().chain(self.tail.iter()).map(|it| ItemView { id: it.id, from: it.from, args: it.args.as_ref(), val: it.val })
    }
}

/// A context's state at the end of a locked section.
pub struct View<'a, A> {
    pub self_id: SwimId,
    pub expect_progress_time: u64,
    pub snapshot: Snapshot,
    pub glitch: bool,
    pub subgroup: ListView<'a, A>,
    pub suspects: ListView<'a, A>,
    pub updates: ListView<'a, A>,
    pub ipings: ListView<'a, A>,
}

/// Where the round of the current target is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Phase {
    /// Target chosen, waiting for the period's tick to ping it.
    #[default]
    Begin,
    /// Pinged, waiting for its answer.
    Pinged,
    /// No answer: asking helpers to ping it.
    TimedOut,
    /// Helpers asked, waiting for any answer.
    IPinged,
    /// Choose the next target.
    Select,
}

struct Item<A> {
    id: SwimId,
    from: SwimId,
    args: Option<A>,
    /// Deadline (suspects, ipings) or send count (updates).
    val: u64,
}

impl<A> Item<A> {
    fn new(id: SwimId, from: SwimId, val: u64) -> Self {
        Item { id, from, args: None, val }
    }
}

/// A list that counts its mutable accesses (see [`ListView::gen`]).
#[derive(Default)]
struct Tracked<T> {
    inner: T,
    gen: u64,
}

impl<T> std::ops::Deref for Tracked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> std::ops::DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.gen = self.gen.wrapping_add(1);
        &mut self.inner
    }
}

/// The contiguous parts of a list, in order.
trait AsSlices<A> {
    fn as_slices(&self) -> (&[Item<A>], &[Item<A>]);
}

impl<A> AsSlices<A> for VecDeque<Item<A>> {
    fn as_slices(&self) -> (&[Item<A>], &[Item<A>]) {
        VecDeque::as_slices(self)
    }
}

impl<A> AsSlices<A> for Vec<Item<A>> {
    fn as_slices(&self) -> (&[Item<A>], &[Item<A>]) {
        (self, &[])
    }
}

struct State<A> {
    subgroup: Tracked<VecDeque<Item<A>>>,
    suspects: Tracked<Vec<Item<A>>>,
    updates: Tracked<VecDeque<Item<A>>>,
    ipings: Tracked<Vec<Item<A>>>,
    phase: Phase,
    target: SwimId,
    default_ping_timeout: u64,
    next_tick_time: u64,
    next_event: u64,
    deadline: u64,
    piggyback_tx_max: u64,
    glitch: bool,
}

/// A context's round bookkeeping (upstream's `sc_*` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub phase: Phase,
    pub target: SwimId,
    pub default_ping_timeout: u64,
    pub expect_progress_time: u64,
    pub next_tick_time: u64,
    pub next_event: u64,
    pub deadline: u64,
    pub piggyback_tx_max: u64,
}

/// One member's SWIM context.
pub struct Swim<O: Ops> {
    ops: O,
    self_id: AtomicU64,
    expect_progress_time: AtomicU64,
    /// Per-context parameters (Rust users); `None`: the process-wide tunables.
    params: Option<Params>,
    st: Mutex<State<O::Args>>,
}

/// The indirect-ping delay rule: twice the measured delay, kept within one to three ping
/// timeouts (else the ping timeout).
fn ping_delay(state_delay: u32, ping_timeout: u64) -> u64 {
    let delay = state_delay as u64 * 2;
    if delay < ping_timeout || delay > 3 * ping_timeout {
        ping_timeout
    } else {
        delay
    }
}

impl<O: Ops> Swim<O> {
    /// `swim_init`: resets the process-wide tunables from the environment, as upstream does.
    pub fn new(self_id: SwimId, ops: O) -> Self {
        let p = params_from_env();
        period_set(p.period);
        suspect_timeout_set(p.suspect_timeout);
        ping_timeout_set(p.ping_timeout);
        SUBGROUP.store(p.subgroup_size, Relaxed);
        Self::build(self_id, ops, None)
    }

    /// A context with its own parameters (the process-wide tunables are left alone).
    pub fn with_params(self_id: SwimId, ops: O, params: Params) -> Self {
        Self::build(self_id, ops, Some(params))
    }

    fn build(self_id: SwimId, ops: O, params: Option<Params>) -> Self {
        let now = ops.now_ms();
        let mut s = Swim {
            ops,
            self_id: AtomicU64::new(self_id),
            expect_progress_time: AtomicU64::new(0),
            params,
            st: Mutex::new(State {
                subgroup: Tracked::default(),
                suspects: Tracked::default(),
                updates: Tracked::default(),
                ipings: Tracked::default(),
                phase: Phase::Begin,
                target: ID_INVALID,
                default_ping_timeout: 0,
                next_tick_time: 0,
                next_event: 0,
                deadline: 0,
                piggyback_tx_max: PIGGYBACK_TX_COUNT,
                glitch: false,
            }),
        };
        let p = s.params();
        let st = s.st.get_mut().unwrap_or_else(|e| e.into_inner());
        st.default_ping_timeout = p.ping_timeout;
        // the first ping waits until everything is set up
        st.next_tick_time = now + 3 * p.period;
        s
    }

    pub fn ops(&self) -> &O {
        &self.ops
    }

    /// The parameters in force now.
    pub fn params(&self) -> Params {
        self.params.unwrap_or_else(|| Params {
            period: period_get(),
            suspect_timeout: suspect_timeout_get(),
            ping_timeout: ping_timeout_get(),
            subgroup_size: SUBGROUP.load(Relaxed),
        })
    }

    fn lock(&self) -> StGuard<'_, O> {
        StGuard { swim: self, g: Some(self.st.lock().unwrap_or_else(|e| e.into_inner())), dirty: false }
    }

    /// The lock for reading only (nothing to publish after).
    fn lock_ro(&self) -> MutexGuard<'_, State<O::Args>> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the state to [`Ops::publish`] (the lock held by the caller).
    fn publish_locked(&self, st: &State<O::Args>) {
        let view = View {
            self_id: self.self_get(),
            expect_progress_time: self.expect_progress_time.load(Relaxed),
            snapshot: Self::snap(st, self.expect_progress_time.load(Relaxed)),
            glitch: st.glitch,
            subgroup: ListView::of(&st.subgroup),
            suspects: ListView::of(&st.suspects),
            updates: ListView::of(&st.updates),
            ipings: ListView::of(&st.ipings),
        };
        self.ops.publish(&view);
    }

    /// The four lists (subgroup, suspects, updates, ipings) as (id, from, value) (tests of
    /// the C mirror).
    #[cfg(test)]
    pub(crate) fn lists_for_test(&self) -> [Vec<(SwimId, SwimId, u64)>; 4] {
        let st = self.lock_ro();
        let f = |l: &mut dyn Iterator<Item = &Item<O::Args>>| l.map(|it| (it.id, it.from, it.val)).collect::<Vec<_>>();
        [f(&mut st.subgroup.iter()), f(&mut st.suspects.iter()), f(&mut st.updates.iter()), f(&mut st.ipings.iter())]
    }

    /// Publishes now (after a change made outside a locked section, e.g. `self_set`).
    pub fn republish(&self) {
        let mut g = self.lock();
        g.dirty = true;
    }

    pub fn self_get(&self) -> SwimId {
        self.self_id.load(Relaxed)
    }

    pub fn self_set(&self, id: SwimId) {
        self.self_id.store(id, Relaxed);
        // disabled: no complaint about a progress that stopped
        if id == ID_INVALID {
            self.expect_progress_time.store(0, Relaxed);
        }
        if self.ops.mirrors() {
            self.republish();
        }
    }

    /// The member being pinged this round and the round's phase.
    pub fn target(&self) -> (SwimId, Phase) {
        let st = self.lock_ro();
        (st.target, st.phase)
    }

    /// When the next direct ping is due (ms of the ops clock).
    pub fn next_tick_time(&self) -> u64 {
        self.lock_ro().next_tick_time
    }

    /// Moves the next direct ping to `t` (upstream's emulation aligns all members this way).
    pub fn set_next_tick_time(&self, t: u64) {
        self.lock().next_tick_time = t;
    }

    /// A request to `to` failed in transport: if it is the current target, stop waiting for it
    /// (crt_swim clears `sc_deadline` on a failed completion).
    pub fn request_failed(&self, to: SwimId) {
        let mut st = self.lock();
        if to == st.target {
            st.deadline = 0;
        }
    }

    /// Marks this context as having gone through a glitch (upstream `sc_glitch`, set by
    /// `crt_swim_suspend_all`): DEAD news about INACTIVE members are then accepted.
    pub fn set_glitch(&self) {
        self.lock().glitch = true;
    }

    /// The ping timeout this context started with (crt_swim doubles it under glitches).
    pub fn default_ping_timeout(&self) -> u64 {
        self.lock_ro().default_ping_timeout
    }

    pub fn set_default_ping_timeout(&self, v: u64) {
        self.lock().default_ping_timeout = v;
    }

    /// The round's bookkeeping at this moment.
    pub fn snapshot(&self) -> Snapshot {
        let st = self.lock_ro();
        Self::snap(&st, self.expect_progress_time.load(Relaxed))
    }

    fn snap(st: &State<O::Args>, expect_progress_time: u64) -> Snapshot {
        Snapshot {
            phase: st.phase,
            target: st.target,
            default_ping_timeout: st.default_ping_timeout,
            expect_progress_time,
            next_tick_time: st.next_tick_time,
            next_event: st.next_event,
            deadline: st.deadline,
            piggyback_tx_max: st.piggyback_tx_max,
        }
    }

    /// Number of members currently suspected by this context.
    pub fn suspects_len(&self) -> usize {
        self.lock_ro().suspects.len()
    }

    /// Number of updates waiting to be piggy-backed.
    pub fn updates_len(&self) -> usize {
        self.lock_ro().updates.len()
    }

    /// Records a change for dissemination and stores it.
    fn notify(&self, st: &mut State<O::Args>, from: SwimId, id: SwimId, state: &mut MemberState,
              count: u64) -> i32 {
        if let Some(it) = st.updates.iter_mut().find(|it| it.id == id) {
            it.from = from;
            it.val = count;
        } else {
            st.updates.push_front(Item::new(id, from, count));
        }
        self.ops.set_member_state(self, id, state)
    }

    fn unsuspect(st: &mut State<O::Args>, id: SwimId) {
        if let Some(i) = st.suspects.iter().position(|it| it.id == id) {
            st.suspects.remove(i);
        }
    }

    fn member_alive(&self, st: &mut State<O::Args>, from: SwimId, id: SwimId, nr: u64) -> i32 {
        let mut s = match self.ops.member_state(self, id) {
            Ok(s) => s,
            Err(rc) => return rc,
        };
        let mut count = 0;
        if s.status == Status::INACTIVE {
            // the end of bootstrap is not spread widely
            count = st.piggyback_tx_max;
        } else if nr <= s.incarnation {
            // old news (for DEAD, ALIVE and SUSPECT alike)
            return der::ALREADY;
        }
        Self::unsuspect(st, id);
        self.ops.log(false, format_args!("{}: member {id} {nr} is ALIVE from {from}", self.self_get()));
        s.incarnation = nr;
        s.status = Status::ALIVE;
        self.notify(st, from, id, &mut s, count)
    }

    fn member_dead(&self, st: &mut State<O::Args>, from: SwimId, id: SwimId, nr: u64) -> i32 {
        let mut s = match self.ops.member_state(self, id) {
            Ok(s) => s,
            Err(rc) => return rc,
        };
        if s.status == Status::INACTIVE {
            if !st.glitch {
                return 0;
            }
        } else if nr <= s.incarnation && (s.status == Status::DEAD || s.incarnation > nr) {
            return der::ALREADY;
        }
        Self::unsuspect(st, id);
        let me = self.self_get();
        let by = if from == me { " (self)" } else { "" };
        self.ops.log(true, format_args!("{me}: member {id} {nr} is DEAD from {from}{by}"));
        s.incarnation = nr;
        s.status = Status::DEAD;
        self.notify(st, from, id, &mut s, 0)
    }

    fn member_suspect(&self, st: &mut State<O::Args>, from: SwimId, id: SwimId, nr: u64) -> i32 {
        let p = self.params();
        // no suspicion period: straight to DEAD
        if p.suspect_timeout == 0 {
            return self.member_dead(st, from, id, nr);
        }
        let mut s = match self.ops.member_state(self, id) {
            Ok(s) => s,
            Err(rc) => return rc,
        };
        if s.status == Status::INACTIVE {
            return 0;
        }
        if nr <= s.incarnation
            && (s.status == Status::DEAD || s.status == Status::SUSPECT || s.incarnation > nr)
        {
            return der::ALREADY;
        }
        let deadline = self.ops.now_ms() + p.suspect_timeout;
        if let Some(it) = st.suspects.iter_mut().find(|it| it.id == id) {
            // a suspicion of a newer incarnation starts over
            if nr > s.incarnation {
                it.from = from;
                it.val = deadline;
            }
        } else {
            st.suspects.push(Item::new(id, from, deadline));
        }
        let me = self.self_get();
        let by = if from == me { " (self)" } else { "" };
        self.ops.log(false, format_args!("{me}: member {id} {nr} is SUSPECT from {from}{by}"));
        s.incarnation = nr;
        s.status = Status::SUSPECT;
        self.notify(st, from, id, &mut s, 0)
    }

    /// Suspicions that timed out: ask the member that spread one to confirm it; declare DEAD
    /// those this member itself suspects.
    fn update_suspected(&self, now: u64, glitch: u64) -> i32 {
        let self_id = self.self_get();
        let ping_timeout = self.params().ping_timeout;
        let mut confirm = Vec::new();
        let mut rc = 0;
        {
            let mut st = self.lock();
            let mut i = 0;
            while i < st.suspects.len() {
                st.suspects[i].val += glitch;
                let (id, from, deadline) =
                    (st.suspects[i].id, st.suspects[i].from, st.suspects[i].val);
                if now <= deadline {
                    st.next_event = st.next_event.min(deadline);
                    i += 1;
                    continue;
                }
                let s = match self.ops.member_state(self, id) {
                    Ok(s) if s.status == Status::SUSPECT => s,
                    _ => {
                        // removed or updated meanwhile
                        st.suspects.remove(i);
                        continue;
                    }
                };
                if from != self_id {
                    // the suspicion came by gossip: ask its origin first
                    st.suspects[i].from = self_id;
                    st.suspects[i].val += ping_timeout;
                    confirm.push((id, from));
                    i += 1;
                } else {
                    let it = st.suspects.remove(i);
                    self.member_dead(&mut st, it.from, it.id, s.incarnation);
                }
            }
        }
        for (id, from) in confirm {
            rc = self.updates_send(id, from);
        }
        rc
    }

    fn reply(&self, from: SwimId, to: SwimId, rc: i32, args: Option<O::Args>) -> i32 {
        match args {
            Some(a) => self.ops.send_reply(self, from, to, rc, a),
            None => 0,
        }
    }

    /// Indirect-ping requests whose target did not answer in time get -DER_TIMEDOUT.
    fn ipings_update(&self, now: u64, glitch: u64) -> i32 {
        let mut expired = Vec::new();
        {
            let mut st = self.lock();
            let mut i = 0;
            while i < st.ipings.len() {
                st.ipings[i].val = st.ipings[i].val.saturating_add(glitch);
                let d = st.ipings[i].val;
                if now > d {
                    expired.push(st.ipings.remove(i));
                } else {
                    st.next_event = st.next_event.min(d);
                    i += 1;
                }
            }
        }
        let mut rc = 0;
        for it in expired {
            rc = self.reply(it.id, it.from, der::TIMEDOUT, it.args);
        }
        rc
    }

    /// `swim_ipings_reply`: `to_id` answered (or failed with `ret_rc`): answer everyone who asked
    /// this member to ping it.
    pub fn ipings_reply(&self, to_id: SwimId, ret_rc: i32) -> i32 {
        let done: Vec<_> = {
            let mut st = self.lock();
            let (done, keep) = std::mem::take(&mut *st.ipings).into_iter().partition(|it| it.id == to_id);
            *st.ipings = keep;
            done
        };
        let mut rc = 0;
        for it in done {
            rc = self.reply(it.id, it.from, ret_rc, it.args);
        }
        rc
    }

    /// `swim_ipings_suspend`: keeps `from_id`'s request to ping `to_id` until the answer or the
    /// ping timeout. -DER_ALREADY (request kept too) when `to_id` is being pinged already.
    pub fn ipings_suspend(&self, from_id: SwimId, to_id: SwimId, args: O::Args) -> i32 {
        let deadline = self.ops.now_ms() + self.params().ping_timeout;
        let mut st = self.lock();
        let rc = if st.ipings.iter().any(|it| it.id == to_id) { der::ALREADY } else { 0 };
        st.ipings.push(Item { id: to_id, from: from_id, args: Some(args), val: deadline });
        rc
    }

    /// `swim_net_glitch_update`: a delay of `delay` ms was seen on messages of `id` (or of this
    /// member itself: then every running timer moves).
    pub fn net_glitch_update(&self, id: SwimId, delay: u64) -> i32 {
        let self_id = self.self_get();
        let mut guard = self.lock();
        let st = &mut *guard;
        for it in st.suspects.iter_mut().chain(st.ipings.iter_mut()) {
            if id == self_id || id == it.id {
                it.val = it.val.saturating_add(delay);
            }
        }
        if (id == self_id || id == st.target)
            && (st.phase == Phase::Pinged || st.phase == Phase::IPinged)
        {
            st.deadline = st.deadline.saturating_add(delay);
        }
        drop(guard);
        if id != self_id {
            self.ops.log(true, format_args!(
                "{self_id}: A network glitch of {id} with {delay} ms delay is detected."));
        }
        0
    }

    /// `swim_member_del`: forgets a suspicion of `id`.
    pub fn member_del(&self, id: SwimId) {
        Self::unsuspect(&mut self.lock(), id);
    }

    /// `swim_updates_prepare`: the updates for a message about `id` sent to `to`: `id`'s state,
    /// this member's, `to`'s, then the recent changes (each counted as sent once more).
    pub fn updates_prepare(&self, id: SwimId, to: SwimId) -> Result<Vec<MemberUpdate>, i32> {
        if id == ID_INVALID || to == ID_INVALID {
            return Err(der::INVAL);
        }
        let self_id = self.self_get();
        let mut cap = PIGGYBACK_ENTRIES + 1;
        if id != self_id {
            cap += 1;
        }
        if id != to {
            cap += 1;
        }
        let mut upds = Vec::with_capacity(cap);
        let mut st = self.lock();
        let add = |upds: &mut Vec<MemberUpdate>, m: SwimId| -> Result<(), i32> {
            let state = self.ops.member_state(self, m)?;
            upds.push(MemberUpdate { id: m, state });
            Ok(())
        };
        add(&mut upds, id)?;
        if id != self_id {
            add(&mut upds, self_id)?;
        }
        if id != to {
            add(&mut upds, to)?;
        }
        let max = st.piggyback_tx_max;
        let mut i = 0;
        while i < st.updates.len() {
            if upds.len() >= cap {
                // more than a message carries: drop
                st.updates.remove(i);
                continue;
            }
            let m = st.updates[i].id;
            if m != id && m != self_id && m != to {
                match self.ops.member_state(self, m) {
                    Ok(state) => upds.push(MemberUpdate { id: m, state }),
                    Err(der::NONEXIST) => {
                        st.updates.remove(i);
                        continue;
                    }
                    Err(rc) => return Err(rc),
                }
            }
            st.updates[i].val += 1;
            if st.updates[i].val > max {
                st.updates.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(upds)
    }

    /// `swim_updates_send`: prepares the updates and sends a request about `id` to `to`.
    pub fn updates_send(&self, id: SwimId, to: SwimId) -> i32 {
        match self.updates_prepare(id, to) {
            Ok(upds) => self.ops.send_request(self, id, to, upds),
            Err(rc) => rc,
        }
    }

    /// Takes a new incarnation for this member, through the caller or, without that callback,
    /// the next one above both what it had and what it was suspected in.
    fn refute(&self, self_id: SwimId, state: &mut MemberState, suspected_in: u64) {
        if !self.ops.new_incarnation(self, self_id, state) {
            state.incarnation = state.incarnation.max(suspected_in) + 1;
        }
    }

    /// `swim_updates_parse`: applies the updates of a message from `from_id` about `id`.
    pub fn updates_parse(&self, from_id: SwimId, id: SwimId, upds: &[MemberUpdate]) -> i32 {
        let self_id = self.self_get();
        if self_id == ID_INVALID || upds.is_empty() {
            return 0; // not started yet
        }
        let mut st = self.lock();
        let mut phase = st.phase;
        // updates from a member unknown or DEAD here count only when they are about self
        let mut rc = 0;
        let untrusted = match self.ops.member_state(self, from_id) {
            Err(der::NONEXIST) => {
                rc = der::NONEXIST;
                true
            }
            Err(e) => return e,
            Ok(s) => s.status == Status::DEAD,
        };
        if (from_id == st.target || id == st.target)
            && matches!(phase, Phase::Begin | Phase::Pinged | Phase::IPinged)
        {
            phase = Phase::Select; // the target answered
        }
        for u in upds {
            let s = u.state.status;
            if s == Status::ALIVE {
                if u.id != self_id {
                    self.member_alive(&mut st, from_id, u.id, u.state.incarnation);
                }
            } else if s == Status::SUSPECT || s == Status::DEAD {
                if u.id == self_id {
                    let mut me = match self.ops.member_state(self, self_id) {
                        Ok(m) => m,
                        Err(e) => return e,
                    };
                    if me.incarnation > u.state.incarnation {
                        continue; // refuted already
                    }
                    self.ops.log(true, format_args!(
                        "{{{self_id} {} {}}} self {} received {{{self_id} {} {}}} from {from_id}",
                        me.status.letter(), me.incarnation,
                        if s == Status::SUSPECT { "SUSPECT" } else { "DEAD" },
                        s.letter(), u.state.incarnation));
                    self.refute(self_id, &mut me, u.state.incarnation);
                    let r = self.notify(&mut st, self_id, self_id, &mut me, 0);
                    if r != 0 {
                        return r;
                    }
                    rc = r;
                    continue;
                }
                if untrusted {
                    continue;
                }
                if s == Status::SUSPECT {
                    self.member_suspect(&mut st, from_id, u.id, u.state.incarnation);
                } else {
                    self.member_dead(&mut st, from_id, u.id, u.state.incarnation);
                }
            }
            // INACTIVE is for bootstrap only and not spread; other values are ignored
        }
        st.phase = phase;
        rc
    }

    /// `swim_updates_short`: the answer of a member not started yet (its id unset): itself
    /// ALIVE (refuting a suspicion of it with a new incarnation) and `id` as the message had it.
    pub fn updates_short(&self, self_id: SwimId, self_incarnation: u64, _from_id: SwimId,
                         id: SwimId, upds_in: &[MemberUpdate]) -> Vec<MemberUpdate> {
        let mut me = MemberState { incarnation: self_incarnation, status: Status::ALIVE, delay: 0 };
        let mut id_upd = None;
        {
            let _st = self.lock();
            for u in upds_in {
                if u.id == self_id {
                    let s = u.state.status;
                    if u.state.incarnation < self_incarnation
                        || (s != Status::SUSPECT && s != Status::DEAD)
                    {
                        continue;
                    }
                    self.ops.log(true, format_args!(
                        "{{{self_id} A {self_incarnation}}} self {} received {{{self_id} {} {}}} from {_from_id}",
                        if s == Status::SUSPECT { "SUSPECT" } else { "DEAD" },
                        s.letter(), u.state.incarnation));
                    self.refute(self_id, &mut me, u.state.incarnation);
                } else if u.id == id {
                    id_upd = Some(*u);
                }
            }
        }
        let mut out = vec![MemberUpdate::new(self_id, me.incarnation, Status::ALIVE)];
        if let Some(u) = id_upd.filter(|_| id != self_id) {
            out.push(MemberUpdate::new(id, u.state.incarnation, Status::ALIVE));
        }
        out
    }

    /// `swim_progress`: runs the protocol for up to `timeout_us` µs (0: one step). Returns
    /// -DER_TIMEDOUT when the time is up, -DER_CANCELED when it stopped early to wait.
    pub fn progress(&self, timeout_us: i64) -> i32 {
        if self.self_get() == ID_INVALID {
            return 0; // not started yet
        }
        let p = self.params();
        let mut now = self.ops.now_ms();
        let end = if timeout_us > 0 { now + timeout_us as u64 / 1000 } else { 0 };
        self.lock().next_event = now + p.period;
        let expect = self.expect_progress_time.load(Relaxed);
        // progress that came late means this member stalled: move every timer by as much
        let mut glitch = if expect != 0 && now > expect { now - expect } else { 0 };
        if glitch > 0 {
            self.ops.log(true, format_args!(
                "The progress callback was not called for too long: {glitch} ms after expected."));
        }
        let mut phase = Phase::TimedOut;
        let rc = loop {
            if !(now <= end || phase == Phase::TimedOut) {
                break if now > end { der::TIMEDOUT } else { der::CANCELED };
            }
            let rc = self.update_suspected(now, glitch);
            if rc != 0 {
                break rc;
            }
            let rc = self.ipings_update(now, glitch);
            if rc != 0 {
                break rc;
            }
            let mut send = None;
            let next_event;
            {
                let mut st = self.lock();
                phase = Phase::Select;
                let mut ts = MemberState::default();
                if st.target != ID_INVALID {
                    match self.ops.member_state(self, st.target) {
                        Ok(s) => {
                            ts = s;
                            phase = st.phase;
                        }
                        Err(e) => {
                            st.target = ID_INVALID;
                            if e != der::NONEXIST {
                                break e;
                            }
                        }
                    }
                }
                match phase {
                    Phase::Begin => {
                        if now > st.next_tick_time {
                            let delay = ping_delay(ts.delay, p.ping_timeout);
                            send = Some((st.target, st.target));
                            st.next_tick_time = now + p.period;
                            st.deadline = now + delay;
                            st.next_event = st.next_event.min(st.deadline);
                            phase = Phase::Pinged;
                        } else {
                            st.next_event = st.next_event.min(st.next_tick_time);
                        }
                    }
                    Phase::Pinged => {
                        st.deadline += glitch;
                        if now > st.deadline {
                            // no answer; a member still bootstrapping is just skipped
                            phase = if ts.status != Status::INACTIVE {
                                Phase::TimedOut
                            } else {
                                Phase::Select
                            };
                            st.next_event = now;
                        } else {
                            st.next_event = st.next_event.min(st.deadline);
                        }
                    }
                    Phase::TimedOut => {
                        if st.subgroup.is_empty() {
                            for _ in 0..p.subgroup_size {
                                let h = self.ops.iping_target(self);
                                if h == ID_INVALID {
                                    break;
                                }
                                let t = st.target;
                                st.subgroup.push_back(Item::new(h, t, 0));
                            }
                        }
                        if let Some(it) = st.subgroup.pop_front() {
                            let (target_id, sendto) = (it.from, it.id);
                            if let Ok(hs) = self.ops.member_state(self, sendto) {
                                let mut delay = ping_delay(ts.delay, p.ping_timeout);
                                let go = if target_id != sendto {
                                    // only ALIVE members help
                                    delay *= 2;
                                    hs.status == Status::ALIVE
                                } else {
                                    // ping again only one that has not answered yet
                                    hs.status == Status::INACTIVE
                                };
                                if go {
                                    send = Some((target_id, sendto));
                                    st.deadline = st.deadline.max(now + delay);
                                    st.next_event = st.next_event.min(st.deadline);
                                }
                            }
                        }
                        if st.subgroup.is_empty() {
                            phase = Phase::IPinged;
                        }
                    }
                    Phase::IPinged => {
                        st.deadline += glitch;
                        if now > st.deadline {
                            if ts.status != Status::INACTIVE {
                                let (me, t) = (self.self_get(), st.target);
                                self.member_suspect(&mut st, me, t, ts.incarnation);
                            }
                            st.next_event = now;
                            phase = Phase::Select;
                        } else {
                            st.next_event = st.next_event.min(st.next_tick_time);
                        }
                    }
                    Phase::Select => {
                        st.target = self.ops.dping_target(self);
                        if st.target == ID_INVALID {
                            st.next_event = now + p.period;
                        } else {
                            st.next_event = st.next_event.min(st.next_tick_time);
                            phase = Phase::Begin;
                        }
                    }
                }
                glitch = 0;
                st.phase = phase;
                next_event = st.next_event;
            }
            if let Some((id, to)) = send {
                let rc = self.updates_send(id, to);
                if rc != 0 {
                    break rc;
                }
            } else if now + 100 < next_event {
                // nothing due for a while
                break if now > end { der::TIMEDOUT } else { der::CANCELED };
            }
            now = self.ops.now_ms();
        };
        self.expect_progress_time.store(now + self.params().period, Relaxed);
        rc
    }
}

/// The context's lock: on release after a mutable access, the state is published to the
/// ops that mirror it.
struct StGuard<'a, O: Ops> {
    swim: &'a Swim<O>,
    g: Option<MutexGuard<'a, State<O::Args>>>,
    dirty: bool,
}

impl<O: Ops> std::ops::Deref for StGuard<'_, O> {
    type Target = State<O::Args>;
    fn deref(&self) -> &State<O::Args> {
        self.g.as_deref().unwrap_or_else(|| unreachable!("guard taken only in drop"))
    }
}

impl<O: Ops> std::ops::DerefMut for StGuard<'_, O> {
    fn deref_mut(&mut self) -> &mut State<O::Args> {
        self.dirty = true;
        self.g.as_deref_mut().unwrap_or_else(|| unreachable!("guard taken only in drop"))
    }
}

impl<O: Ops> Drop for StGuard<'_, O> {
    fn drop(&mut self) {
        if let Some(g) = self.g.take() {
            if self.dirty && self.swim.ops.mirrors() {
                self.swim.publish_locked(&g);
            }
            drop(g);
        }
    }
}

impl<O: Ops> Drop for Swim<O> {
    /// `swim_fini`: pending indirect-ping requests are answered -DER_TIMEDOUT.
    fn drop(&mut self) {
        self.ipings_update(u64::MAX, 0);
    }
}
