//! A deterministic emulation of N SWIM members in one process (in the spirit of upstream's
//! test_swim_emu): a virtual clock, an in-memory network with delays and loss, and the
//! request/reply flow of crt_swim (PING answered with the receiver's updates; IREQ kept with
//! `ipings_suspend` until the target answers, then answered through `send_reply`).
use super::*;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A small deterministic PRNG (xorshift64*).
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    /// A request: a ping when `id == to`, else an indirect-ping request about `id`.
    Req { id: SwimId, upds: Vec<MemberUpdate>, token: u64 },
    /// The answer to request `token` (sent by `from` to the requester).
    Reply { rc: i32, upds: Vec<MemberUpdate>, token: u64 },
}

#[derive(Clone, Debug)]
struct Msg {
    from: usize,
    to: usize,
    kind: Kind,
}

/// A request in flight, on the requester's side.
#[derive(Clone, Copy, Debug)]
struct Pending {
    requester: usize,
    to: usize,
    id: SwimId,
    deadline: u64,
}

#[derive(Default)]
pub struct Stats {
    pub requests: u64,
    pub replies: u64,
    pub updates_carried: u64,
    pub lost: u64,
}

/// How one member may behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    Running,
    /// Killed: never answers again.
    Dead,
    /// Stopped (SIGSTOP) until the given time: no progress, its incoming messages wait.
    StoppedUntil(u64),
}

pub struct Shared {
    pub now: Cell<u64>,
    n: usize,
    /// table[i][j]: what member i knows about j.
    pub table: RefCell<Vec<Vec<MemberState>>>,
    rr: RefCell<Vec<usize>>,
    /// (delivery time, sequence) -> message
    wire: RefCell<BTreeMap<(u64, u64), Msg>>,
    seq: Cell<u64>,
    pending: RefCell<BTreeMap<u64, Pending>>,
    rng: RefCell<Rng>,
    pub loss_per_mille: Cell<u64>,
    pub latency: Cell<(u64, u64)>,
    pub stats: RefCell<Stats>,
    /// (observer, subject) -> time it first saw the subject DEAD / SUSPECT
    pub dead_seen: RefCell<BTreeMap<(usize, usize), u64>>,
    pub suspect_seen: RefCell<BTreeMap<(usize, usize), u64>>,
    pub with_new_incarnation: bool,
    pub new_incarnation_calls: Cell<u64>,
    life: RefCell<Vec<Life>>,
    ping_timeout: u64,
}

pub struct EmuOps {
    me: usize,
    sh: Rc<Shared>,
}

impl Shared {
    fn post(&self, from: usize, to: usize, kind: Kind) {
        let now = self.now.get();
        let (base, jitter) = self.latency.get();
        let mut rng = self.rng.borrow_mut();
        if rng.below(1000) < self.loss_per_mille.get() {
            self.stats.borrow_mut().lost += 1;
            return;
        }
        let at = now + base + rng.below(jitter + 1);
        let s = self.seq.get();
        self.seq.set(s + 1);
        self.wire.borrow_mut().insert((at, s), Msg { from, to, kind });
    }
}

impl Ops for EmuOps {
    type Args = u64;

    fn send_request(&self, _s: &Swim<Self>, id: SwimId, to: SwimId, upds: Vec<MemberUpdate>)
        -> i32 {
        let sh = &self.sh;
        let token = sh.seq.get();
        sh.seq.set(token + 1);
        // the transport's own timeout (crt_swim doubles it for indirect requests)
        let t = if id == to { 2 * sh.ping_timeout } else { 4 * sh.ping_timeout };
        sh.pending.borrow_mut().insert(
            token,
            Pending { requester: self.me, to: to as usize, id, deadline: sh.now.get() + t },
        );
        {
            let mut st = sh.stats.borrow_mut();
            st.requests += 1;
            st.updates_carried += upds.len() as u64;
        }
        sh.post(self.me, to as usize, Kind::Req { id, upds, token });
        0
    }

    fn send_reply(&self, s: &Swim<Self>, from: SwimId, to: SwimId, rc: i32, token: u64) -> i32 {
        // as crt_swim: the answer carries this member's view of the target
        let (rc, upds) = match s.updates_prepare(from, to) {
            Ok(u) => (rc, u),
            Err(e) => (e, Vec::new()),
        };
        let sh = &self.sh;
        {
            let mut st = sh.stats.borrow_mut();
            st.replies += 1;
            st.updates_carried += upds.len() as u64;
        }
        sh.post(self.me, to as usize, Kind::Reply { rc, upds, token });
        0
    }

    fn dping_target(&self, _s: &Swim<Self>) -> SwimId {
        self.next_target(|s| s.status != Status::DEAD)
    }

    fn iping_target(&self, _s: &Swim<Self>) -> SwimId {
        self.next_target(|s| s.status == Status::ALIVE)
    }

    fn member_state(&self, _s: &Swim<Self>, id: SwimId) -> Result<MemberState, i32> {
        self.sh.table.borrow()[self.me].get(id as usize).copied().ok_or(der::NONEXIST)
    }

    fn set_member_state(&self, _s: &Swim<Self>, id: SwimId, state: &mut MemberState) -> i32 {
        let sh = &self.sh;
        match sh.table.borrow_mut()[self.me].get_mut(id as usize) {
            Some(slot) => *slot = *state,
            None => return der::NONEXIST,
        }
        let now = sh.now.get();
        if state.status == Status::DEAD {
            sh.dead_seen.borrow_mut().entry((self.me, id as usize)).or_insert(now);
        }
        if state.status == Status::SUSPECT {
            sh.suspect_seen.borrow_mut().entry((self.me, id as usize)).or_insert(now);
        }
        0
    }

    fn new_incarnation(&self, _s: &Swim<Self>, _id: SwimId, state: &mut MemberState) -> bool {
        if !self.sh.with_new_incarnation {
            return false;
        }
        self.sh.new_incarnation_calls.set(self.sh.new_incarnation_calls.get() + 1);
        // like crt_swim's HLC: a time-based number above anything earlier
        state.incarnation = (self.sh.now.get() << 18).max(state.incarnation + 1);
        true
    }

    fn now_ms(&self) -> u64 {
        self.sh.now.get()
    }
}

impl EmuOps {
    fn next_target(&self, ok: impl Fn(&MemberState) -> bool) -> SwimId {
        let sh = &self.sh;
        let table = sh.table.borrow();
        let mut rr = sh.rr.borrow_mut();
        for _ in 0..=sh.n {
            rr[self.me] = (rr[self.me] + 1) % sh.n;
            let id = rr[self.me];
            if id != self.me && ok(&table[self.me][id]) {
                return id as SwimId;
            }
        }
        ID_INVALID
    }
}

pub struct Emu {
    pub sh: Rc<Shared>,
    pub members: Vec<Swim<EmuOps>>,
    /// how often each running member's progress is called, ms
    pub progress_every: u64,
}

impl Emu {
    pub fn new(n: usize, params: Params, seed: u64, with_new_incarnation: bool) -> Emu {
        let sh = Rc::new(Shared {
            now: Cell::new(1),
            n,
            table: RefCell::new(vec![vec![MemberState::default(); n]; n]),
            rr: RefCell::new((0..n).collect()),
            wire: RefCell::new(BTreeMap::new()),
            seq: Cell::new(0),
            pending: RefCell::new(BTreeMap::new()),
            rng: RefCell::new(Rng::new(seed)),
            loss_per_mille: Cell::new(0),
            latency: Cell::new((1, 4)),
            stats: RefCell::new(Stats::default()),
            dead_seen: RefCell::new(BTreeMap::new()),
            suspect_seen: RefCell::new(BTreeMap::new()),
            with_new_incarnation,
            new_incarnation_calls: Cell::new(0),
            life: RefCell::new(vec![Life::Running; n]),
            ping_timeout: params.ping_timeout,
        });
        let members: Vec<_> = (0..n)
            .map(|i| {
                let s = Swim::with_params(i as SwimId, EmuOps { me: i, sh: sh.clone() }, params);
                // members start their rounds at different moments
                s.set_next_tick_time(1 + (i as u64 * params.period) / n as u64);
                s
            })
            .collect();
        Emu { sh, members, progress_every: 10 }
    }

    pub fn now(&self) -> u64 {
        self.sh.now.get()
    }

    pub fn life(&self, i: usize) -> Life {
        self.sh.life.borrow()[i]
    }

    pub fn kill(&self, i: usize) {
        self.sh.life.borrow_mut()[i] = Life::Dead;
    }

    /// Restarts a killed member as a new process: its table is fresh (everyone ALIVE) and it
    /// comes back with a new, higher incarnation.
    pub fn restart(&self, i: usize, incarnation: u64) {
        {
            let mut t = self.sh.table.borrow_mut();
            for s in t[i].iter_mut() {
                *s = MemberState::default();
            }
            t[i][i].incarnation = incarnation;
        }
        self.sh.life.borrow_mut()[i] = Life::Running;
    }

    /// Stops member `i` for `ms` (as SIGSTOP then SIGCONT).
    pub fn stop(&self, i: usize, ms: u64) {
        self.sh.life.borrow_mut()[i] = Life::StoppedUntil(self.now() + ms);
    }

    pub fn state(&self, observer: usize, subject: usize) -> MemberState {
        self.sh.table.borrow()[observer][subject]
    }

    fn running(&self, i: usize) -> bool {
        match self.life(i) {
            Life::Running => true,
            Life::Dead => false,
            Life::StoppedUntil(t) => {
                if self.now() >= t {
                    self.sh.life.borrow_mut()[i] = Life::Running;
                    true
                } else {
                    false
                }
            }
        }
    }

    fn deliver(&self, m: Msg) {
        let sh = &self.sh;
        let me = &self.members[m.to];
        match m.kind {
            Kind::Req { id, upds, token } => {
                // crt_swim_srv_cb
                let rc = me.updates_parse(m.from as SwimId, m.from as SwimId, &upds);
                let _ = rc;
                if id == m.to as SwimId {
                    let (rc, out) = match me.updates_prepare(m.from as SwimId, m.from as SwimId) {
                        Ok(u) => (0, u),
                        Err(e) => (e, Vec::new()),
                    };
                    {
                        let mut st = sh.stats.borrow_mut();
                        st.replies += 1;
                        st.updates_carried += out.len() as u64;
                    }
                    sh.post(m.to, m.from, Kind::Reply { rc, upds: out, token });
                } else {
                    match me.ipings_suspend(m.from as SwimId, id, token) {
                        0 => {
                            me.updates_send(id, id);
                        }
                        der::ALREADY => {}
                        e => sh.post(m.to, m.from, Kind::Reply { rc: e, upds: vec![], token }),
                    }
                }
            }
            Kind::Reply { rc, upds, token } => {
                let Some(p) = sh.pending.borrow_mut().remove(&token) else { return };
                self.complete(p, rc, &upds);
            }
        }
    }

    /// crt_swim_cli_cb: a request completed with `rc` (transport or remote) and `upds`.
    fn complete(&self, p: Pending, rc: i32, upds: &[MemberUpdate]) {
        let me = &self.members[p.requester];
        let to = p.to as SwimId;
        let ireq = p.id != to;
        if rc == der::TIMEDOUT && upds.is_empty() {
            me.request_failed(to);
        }
        me.updates_parse(to, if ireq && rc == 0 { p.id } else { to }, upds);
        me.ipings_reply(to, rc);
    }

    /// Runs the world for `ms` virtual milliseconds.
    pub fn run(&mut self, ms: u64) {
        let end = self.now() + ms;
        while self.now() < end {
            let now = self.now();
            // a process that runs again may well make progress before it reads its sockets
            for i in 0..self.members.len() {
                if matches!(self.life(i), Life::StoppedUntil(t) if t == now) && self.running(i) {
                    self.members[i].progress(0);
                }
            }
            // deliver what is due
            loop {
                let next = {
                    let mut w = self.sh.wire.borrow_mut();
                    match w.first_key_value() {
                        Some((&(at, _), _)) if at <= now => w.pop_first(),
                        _ => None,
                    }
                };
                let Some((_, m)) = next else { break };
                match self.life(m.to) {
                    Life::Dead => {}
                    Life::StoppedUntil(t) if now < t => {
                        // waits in the socket until the process runs again
                        let s = self.sh.seq.get();
                        self.sh.seq.set(s + 1);
                        self.sh.wire.borrow_mut().insert((t, s), m);
                    }
                    _ => {
                        if self.running(m.to) {
                            self.deliver(m)
                        }
                    }
                }
            }
            // requests whose transport timed out
            let expired: Vec<_> = {
                let mut p = self.sh.pending.borrow_mut();
                let keys: Vec<u64> =
                    p.iter().filter(|(_, v)| v.deadline <= now).map(|(k, _)| *k).collect();
                keys.into_iter().filter_map(|k| p.remove(&k)).collect()
            };
            for p in expired {
                if self.running(p.requester) {
                    self.complete(p, der::TIMEDOUT, &[]);
                } else if self.life(p.requester) != Life::Dead {
                    // completes when the requester runs again
                    let mut p2 = p;
                    if let Life::StoppedUntil(t) = self.life(p.requester) {
                        p2.deadline = t;
                    }
                    let s = self.sh.seq.get();
                    self.sh.seq.set(s + 1);
                    self.sh.pending.borrow_mut().insert(s, p2);
                }
            }
            if now % self.progress_every == 0 {
                for i in 0..self.members.len() {
                    if self.running(i) {
                        self.members[i].progress(0);
                    }
                }
            }
            self.sh.now.set(now + 1);
        }
    }

    /// When every member other than those in `skip` had seen `subject` DEAD (the latest first
    /// sighting), or None.
    pub fn all_saw_dead(&self, subject: usize, skip: &[usize]) -> Option<u64> {
        let d = self.sh.dead_seen.borrow();
        (0..self.members.len())
            .filter(|i| *i != subject && !skip.contains(i))
            .map(|i| d.get(&(i, subject)).copied())
            .try_fold(0, |acc, t| t.map(|t| acc.max(t)))
    }
}
