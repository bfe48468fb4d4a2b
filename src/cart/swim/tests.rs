use super::emu::*;
use super::*;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};

/// A reply sent: from, to, rc, args.
type Reply = (SwimId, SwimId, i32, u32);

/// One context's world, recorded.
#[derive(Default)]
struct Mock {
    now: Cell<u64>,
    table: RefCell<BTreeMap<SwimId, MemberState>>,
    sent: RefCell<Vec<(SwimId, SwimId, Vec<MemberUpdate>)>>,
    replies: std::rc::Rc<RefCell<Vec<Reply>>>,
    dping: RefCell<VecDeque<SwimId>>,
    iping: RefCell<VecDeque<SwimId>>,
    new_inc: Option<u64>,
}

impl Ops for Mock {
    type Args = u32;
    fn send_request(&self, _: &Swim<Self>, id: SwimId, to: SwimId, u: Vec<MemberUpdate>) -> i32 {
        self.sent.borrow_mut().push((id, to, u));
        0
    }
    fn send_reply(&self, _: &Swim<Self>, f: SwimId, t: SwimId, rc: i32, a: u32) -> i32 {
        self.replies.borrow_mut().push((f, t, rc, a));
        0
    }
    fn dping_target(&self, _: &Swim<Self>) -> SwimId {
        self.dping.borrow_mut().pop_front().unwrap_or(ID_INVALID)
    }
    fn iping_target(&self, _: &Swim<Self>) -> SwimId {
        self.iping.borrow_mut().pop_front().unwrap_or(ID_INVALID)
    }
    fn member_state(&self, _: &Swim<Self>, id: SwimId) -> Result<MemberState, i32> {
        self.table.borrow().get(&id).copied().ok_or(der::NONEXIST)
    }
    fn set_member_state(&self, _: &Swim<Self>, id: SwimId, s: &mut MemberState) -> i32 {
        self.table.borrow_mut().insert(id, *s);
        0
    }
    fn new_incarnation(&self, _: &Swim<Self>, _: SwimId, s: &mut MemberState) -> bool {
        match self.new_inc {
            Some(v) => {
                s.incarnation = v;
                true
            }
            None => false,
        }
    }
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
}

fn alive(inc: u64) -> MemberState {
    MemberState { incarnation: inc, status: Status::ALIVE, delay: 0 }
}

fn mock(n: u64) -> Mock {
    let m = Mock::default();
    m.now.set(1000);
    for i in 0..n {
        m.table.borrow_mut().insert(i, alive(0));
    }
    m
}

fn st(s: &Swim<Mock>, id: SwimId) -> MemberState {
    s.ops().table.borrow()[&id]
}

#[test]
fn env_parsing_follows_d_getenv_uint() {
    assert_eq!(parse_uint("1500"), Some(1500));
    assert_eq!(parse_uint("  42"), Some(42));
    assert_eq!(parse_uint("+7"), Some(7));
    assert_eq!(parse_uint("4294967295"), Some(u32::MAX));
    assert_eq!(parse_uint("4294967296"), None);
    assert_eq!(parse_uint("-1"), Some(u32::MAX));
    // two's complement that fits, as strtoull then d_getenv_uint's check give
    assert_eq!(parse_uint("-4294967295"), Some(1));
    assert_eq!(parse_uint("-4294967296"), None);
    assert_eq!(parse_uint("12ms"), None);
    assert_eq!(parse_uint(""), None);
    assert_eq!(parse_uint("abc"), None);
}

#[test]
fn defaults_are_upstreams() {
    let p = Params::default();
    assert_eq!((p.period, p.suspect_timeout, p.ping_timeout, p.subgroup_size), (1000, 20000, 900, 2));
    assert_eq!(ping_delay(0, 900), 900);
    assert_eq!(ping_delay(600, 900), 1200);
    assert_eq!(ping_delay(1350, 900), 2700);
    assert_eq!(ping_delay(1351, 900), 900); // beyond three timeouts
}

#[test]
fn self_and_target() {
    let s = Swim::with_params(3, mock(4), Params::default());
    assert_eq!(s.self_get(), 3);
    s.self_set(ID_INVALID);
    assert_eq!(s.progress(0), 0); // not started: nothing happens
    assert!(s.ops().sent.borrow().is_empty());
    s.self_set(1);
    assert_eq!(s.self_get(), 1);
    assert_eq!(s.target(), (ID_INVALID, Phase::Begin));
}

#[test]
fn prepare_orders_and_limits_updates() {
    let s = Swim::with_params(0, mock(20), Params::default());
    assert_eq!(s.updates_prepare(ID_INVALID, 1), Err(der::INVAL));
    assert_eq!(s.updates_prepare(1, ID_INVALID), Err(der::INVAL));
    assert_eq!(s.updates_prepare(99, 99), Err(der::NONEXIST));
    // a ping: target then self
    let u = s.updates_prepare(1, 1).unwrap();
    assert_eq!(u.iter().map(|u| u.id).collect::<Vec<_>>(), vec![1, 0]);
    // an indirect request: subject, self, helper
    let u = s.updates_prepare(1, 2).unwrap();
    assert_eq!(u.iter().map(|u| u.id).collect::<Vec<_>>(), vec![1, 0, 2]);
    // twelve changes: the newest eight ride along, the rest are dropped
    for id in 3..15 {
        assert_eq!(s.updates_parse(1, 1, &[MemberUpdate::new(id, 5, Status::ALIVE)]), 0);
    }
    assert_eq!(s.updates_len(), 12);
    let u = s.updates_prepare(1, 1).unwrap();
    assert_eq!(u.len(), 2 + PIGGYBACK_ENTRIES);
    assert_eq!(u[2].id, 14);
    assert_eq!(s.updates_len(), PIGGYBACK_ENTRIES);
    assert_eq!(u[2].state.incarnation, 5);
    // each update is sent PIGGYBACK_TX_COUNT times, then forgotten
    for _ in 0..PIGGYBACK_TX_COUNT {
        s.updates_prepare(1, 1).unwrap();
    }
    assert_eq!(s.updates_len(), 0);
    assert_eq!(s.updates_prepare(1, 1).unwrap().len(), 2);
}

#[test]
fn alive_suspect_dead_rules() {
    let s = Swim::with_params(0, mock(4), Params::default());
    let up = |id, inc, stt| s.updates_parse(1, 1, &[MemberUpdate::new(id, inc, stt)]);
    // suspicion of the current incarnation
    assert_eq!(up(2, 0, Status::SUSPECT), 0);
    assert_eq!(st(&s, 2).status, Status::SUSPECT);
    assert_eq!(s.suspects_len(), 1);
    // ALIVE of the same incarnation does not clear it; a newer one does
    assert_eq!(up(2, 0, Status::ALIVE), 0);
    assert_eq!(st(&s, 2).status, Status::SUSPECT);
    assert_eq!(up(2, 1, Status::ALIVE), 0);
    assert_eq!(st(&s, 2), alive(1));
    assert_eq!(s.suspects_len(), 0);
    // an older suspicion is ignored
    assert_eq!(up(2, 0, Status::SUSPECT), 0);
    assert_eq!(st(&s, 2), alive(1));
    // DEAD is final for its incarnation
    assert_eq!(up(2, 1, Status::DEAD), 0);
    assert_eq!(st(&s, 2).status, Status::DEAD);
    assert_eq!(up(2, 1, Status::ALIVE), 0);
    assert_eq!(st(&s, 2).status, Status::DEAD);
    assert_eq!(up(2, 1, Status::SUSPECT), 0);
    assert_eq!(st(&s, 2).status, Status::DEAD);
    // only a new incarnation revives it
    assert_eq!(up(2, 2, Status::ALIVE), 0);
    assert_eq!(st(&s, 2), alive(2));
    // INACTIVE updates are not applied; unknown status values are ignored
    assert_eq!(up(3, 9, Status::INACTIVE), 0);
    assert_eq!(up(3, 9, Status(77)), 0);
    assert_eq!(st(&s, 3), alive(0));
}

#[test]
fn inactive_members_bootstrap() {
    let m = mock(3);
    m.table.borrow_mut().insert(2, MemberState { incarnation: 0, status: Status::INACTIVE, delay: 0 });
    let s = Swim::with_params(0, m, Params::default());
    // SUSPECT and DEAD of a member still bootstrapping do nothing
    s.updates_parse(1, 1, &[MemberUpdate::new(2, 0, Status::SUSPECT)]);
    s.updates_parse(1, 1, &[MemberUpdate::new(2, 0, Status::DEAD)]);
    assert_eq!(st(&s, 2).status, Status::INACTIVE);
    // its first ALIVE (any incarnation) completes it, spread once only
    s.updates_parse(1, 1, &[MemberUpdate::new(2, 0, Status::ALIVE)]);
    assert_eq!(st(&s, 2), alive(0));
    assert_eq!(s.updates_prepare(1, 1).unwrap().len(), 3);
    assert_eq!(s.updates_prepare(1, 1).unwrap().len(), 2);
}

#[test]
fn untrusted_sender_only_about_self() {
    let m = mock(4);
    m.table.borrow_mut().get_mut(&1).unwrap().status = Status::DEAD;
    let s = Swim::with_params(0, m, Params::default());
    // from a DEAD member: its SUSPECT/DEAD about others are ignored, ALIVE applies
    assert_eq!(s.updates_parse(1, 1, &[MemberUpdate::new(2, 0, Status::DEAD)]), 0);
    assert_eq!(st(&s, 2).status, Status::ALIVE);
    assert_eq!(s.updates_parse(1, 1, &[MemberUpdate::new(3, 4, Status::ALIVE)]), 0);
    assert_eq!(st(&s, 3), alive(4));
    // from an unknown member: same, and -DER_NONEXIST reported as upstream
    assert_eq!(s.updates_parse(9, 9, &[MemberUpdate::new(2, 0, Status::SUSPECT)]), der::NONEXIST);
    assert_eq!(st(&s, 2).status, Status::ALIVE);
    // ... but a suspicion of self is refuted whoever says it
    assert_eq!(s.updates_parse(9, 9, &[MemberUpdate::new(0, 0, Status::SUSPECT)]), 0);
    assert_eq!(st(&s, 0), alive(1));
    // empty updates and an unstarted context are ignored
    assert_eq!(s.updates_parse(9, 9, &[]), 0);
}

#[test]
fn refute_with_and_without_new_incarnation() {
    // with the callback: its number
    let mut m = mock(3);
    m.new_inc = Some(1000);
    let s = Swim::with_params(0, m, Params::default());
    s.updates_parse(1, 1, &[MemberUpdate::new(0, 0, Status::SUSPECT)]);
    assert_eq!(st(&s, 0), alive(1000));
    // spread as ALIVE with the new incarnation
    let u = s.updates_prepare(2, 2).unwrap();
    assert_eq!(u[1], MemberUpdate::new(0, 1000, Status::ALIVE));
    // a stale suspicion is not refuted again
    s.updates_parse(1, 1, &[MemberUpdate::new(0, 999, Status::DEAD)]);
    assert_eq!(st(&s, 0).incarnation, 1000);
    // without (NULL in C): the next number above both
    let s = Swim::with_params(0, mock(3), Params::default());
    s.updates_parse(1, 1, &[MemberUpdate::new(0, 7, Status::DEAD)]);
    assert_eq!(st(&s, 0), alive(8));
    // ALIVE about self is ignored
    s.updates_parse(1, 1, &[MemberUpdate::new(0, 50, Status::ALIVE)]);
    assert_eq!(st(&s, 0), alive(8));
}

#[test]
fn updates_short_answers_for_unstarted_member() {
    let s = Swim::with_params(ID_INVALID, mock(3), Params::default());
    let upds = [MemberUpdate::new(1, 3, Status::SUSPECT), MemberUpdate::new(2, 4, Status::SUSPECT)];
    let out = s.updates_short(2, 10, 0, 1, &upds);
    // incarnation 4 < 10: no refutation needed
    assert_eq!(out, vec![MemberUpdate::new(2, 10, Status::ALIVE), MemberUpdate::new(1, 3, Status::ALIVE)]);
    let upds = [MemberUpdate::new(2, 10, Status::DEAD)];
    let out = s.updates_short(2, 10, 0, 2, &upds);
    assert_eq!(out, vec![MemberUpdate::new(2, 11, Status::ALIVE)]);
    let mut m = mock(3);
    m.new_inc = Some(77);
    let s = Swim::with_params(ID_INVALID, m, Params::default());
    let out = s.updates_short(2, 10, 0, 1, &[MemberUpdate::new(2, 12, Status::SUSPECT)]);
    assert_eq!(out, vec![MemberUpdate::new(2, 77, Status::ALIVE)]);
}

#[test]
fn ipings_suspend_reply_and_expiry() {
    let s = Swim::with_params(0, mock(4), Params::default());
    assert_eq!(s.ipings_suspend(1, 3, 11), 0);
    assert_eq!(s.ipings_suspend(2, 3, 12), der::ALREADY);
    assert_eq!(s.ipings_suspend(1, 2, 13), 0);
    assert_eq!(s.ipings_reply(3, 0), 0);
    assert_eq!(*s.ops().replies.borrow(), vec![(3, 1, 0, 11), (3, 2, 0, 12)]);
    s.ops().replies.borrow_mut().clear();
    // the other one times out after the ping timeout
    s.ops().now.set(1000 + 900);
    s.ipings_update(1000 + 900, 0);
    assert!(s.ops().replies.borrow().is_empty());
    s.ops().now.set(1901);
    s.ipings_update(1901, 0);
    assert_eq!(*s.ops().replies.borrow(), vec![(2, 1, der::TIMEDOUT, 13)]);
    // pending ones are answered -DER_TIMEDOUT at fini
    s.ipings_suspend(1, 2, 14);
    let log = s.ops().replies.clone();
    drop(s);
    assert_eq!(log.borrow().last(), Some(&(2, 1, der::TIMEDOUT, 14)));
}

/// Steps the clock 1 ms at a time to `t`, calling progress each time (as a progress thread
/// would); returns the first time `id`'s status became `want`, if it did.
fn run_to(s: &Swim<Mock>, t: u64, id: SwimId, want: Status) -> Option<u64> {
    let mut seen = None;
    while s.ops().now.get() < t {
        s.ops().now.set(s.ops().now.get() + 1);
        s.progress(0);
        if seen.is_none() && st(s, id).status == want {
            seen = Some(s.ops().now.get());
        }
    }
    seen
}

#[test]
fn round_of_ping_timeout_ipings_suspect_dead() {
    let m = mock(4);
    m.dping.borrow_mut().push_back(1);
    m.iping.borrow_mut().extend([2, 3]);
    let p = Params { period: 1000, suspect_timeout: 5000, ping_timeout: 900, subgroup_size: 2 };
    let s = Swim::with_params(0, m, p);
    // first tick is three periods after start
    assert_eq!(s.progress(0), der::TIMEDOUT);
    assert_eq!(s.target(), (1, Phase::Begin));
    run_to(&s, 4000, 1, Status::SUSPECT);
    assert!(s.ops().sent.borrow().is_empty());
    run_to(&s, 4001, 1, Status::SUSPECT);
    assert_eq!(s.target(), (1, Phase::Pinged));
    assert_eq!(s.ops().sent.borrow().last().map(|x| (x.0, x.1)), Some((1, 1)));
    run_to(&s, 4901, 1, Status::SUSPECT);
    assert_eq!(s.target(), (1, Phase::Pinged));
    run_to(&s, 4902, 1, Status::SUSPECT);
    // both helpers asked about 1, in one call
    let sent: Vec<_> = s.ops().sent.borrow().iter().map(|x| (x.0, x.1)).collect();
    assert_eq!(sent, vec![(1, 1), (1, 2), (1, 3)]);
    assert_eq!(s.target(), (1, Phase::IPinged));
    // no answer within twice the ping timeout: SUSPECT, by self; DEAD a suspicion timeout on
    assert_eq!(run_to(&s, 8000, 1, Status::SUSPECT), Some(4902 + 1800 + 1));
    assert_eq!(s.suspects_len(), 1);
    assert_eq!(run_to(&s, 13000, 1, Status::DEAD), Some(6703 + 5000 + 1));
    assert_eq!(s.suspects_len(), 0);
    // the dead member is spread with the next messages
    let u = s.updates_prepare(2, 2).unwrap();
    assert!(u.contains(&MemberUpdate::new(1, 0, Status::DEAD)));
}

#[test]
fn answer_ends_the_round() {
    let m = mock(3);
    m.dping.borrow_mut().extend([1, 2]);
    let s = Swim::with_params(0, m, Params::default());
    s.progress(0);
    s.ops().now.set(4001);
    s.progress(0);
    assert_eq!(s.target(), (1, Phase::Pinged));
    // the reply
    assert_eq!(s.updates_parse(1, 1, &[MemberUpdate::new(1, 0, Status::ALIVE)]), 0);
    assert_eq!(s.target(), (1, Phase::Select));
    s.progress(0);
    assert_eq!(s.target(), (2, Phase::Begin));
    // the next ping waits for the next period
    assert_eq!(s.ops().sent.borrow().len(), 1);
    s.ops().now.set(5002);
    s.progress(0);
    assert_eq!(s.ops().sent.borrow().len(), 2);
}

#[test]
fn gossip_suspicion_is_confirmed_with_its_origin() {
    let p = Params { period: 1000, suspect_timeout: 3000, ping_timeout: 900, subgroup_size: 2 };
    let s = Swim::with_params(0, mock(4), p);
    s.self_set(0);
    s.updates_parse(2, 2, &[MemberUpdate::new(1, 0, Status::SUSPECT)]);
    s.ops().now.set(1000 + 3001);
    s.progress(0);
    // asked member 2 (the origin) about 1 instead of declaring it DEAD
    assert_eq!(st(&s, 1).status, Status::SUSPECT);
    let sent: Vec<_> = s.ops().sent.borrow().iter().map(|x| (x.0, x.1)).collect();
    assert_eq!(sent, vec![(1, 2)]);
    // no answer within a ping timeout: DEAD
    s.ops().now.set(4001 + 900 + 1);
    s.progress(0);
    assert_eq!(st(&s, 1).status, Status::DEAD);
}

#[test]
fn net_glitch_moves_timers() {
    let p = Params { period: 1000, suspect_timeout: 3000, ping_timeout: 900, subgroup_size: 2 };
    let s = Swim::with_params(0, mock(4), p);
    s.updates_parse(0, 0, &[MemberUpdate::new(1, 0, Status::SUSPECT)]);
    s.updates_parse(0, 0, &[MemberUpdate::new(2, 0, Status::SUSPECT)]);
    // a glitch with 1 delays its suspicion only; one of self delays all
    s.net_glitch_update(1, 2000);
    assert_eq!(run_to(&s, 5000, 2, Status::DEAD), Some(4001));
    s.net_glitch_update(0, 1000);
    assert_eq!(run_to(&s, 9000, 1, Status::DEAD), Some(1000 + 3000 + 2000 + 1000 + 1));
    // member_del forgets a suspicion
    s.updates_parse(0, 0, &[MemberUpdate::new(3, 0, Status::SUSPECT)]);
    assert_eq!(s.suspects_len(), 1);
    s.member_del(3);
    assert_eq!(s.suspects_len(), 0);
    assert_eq!(run_to(&s, 20000, 3, Status::DEAD), None);
}

#[test]
fn stalled_self_does_not_kill_others() {
    // progress expected every period; this member stalls for 10 s with a suspicion pending
    let p = Params { period: 1000, suspect_timeout: 3000, ping_timeout: 900, subgroup_size: 2 };
    let s = Swim::with_params(0, mock(4), p);
    s.progress(0);
    s.updates_parse(0, 0, &[MemberUpdate::new(1, 0, Status::SUSPECT)]);
    s.ops().now.set(1000 + 10_000);
    s.progress(0);
    // every timer moved by the stall: still only suspected
    assert_eq!(st(&s, 1).status, Status::SUSPECT);
    // a refutation arriving now clears it
    s.updates_parse(2, 2, &[MemberUpdate::new(1, 1, Status::ALIVE)]);
    assert_eq!(st(&s, 1), alive(1));
}

#[test]
fn zero_suspect_timeout_means_dead() {
    let p = Params { period: 1000, suspect_timeout: 0, ping_timeout: 900, subgroup_size: 2 };
    let s = Swim::with_params(0, mock(3), p);
    s.updates_parse(1, 1, &[MemberUpdate::new(2, 0, Status::SUSPECT)]);
    assert_eq!(st(&s, 2).status, Status::DEAD);
}

// ---- the emulation ----

fn fast() -> Params {
    Params::default()
}

/// Expected bound: the victim is pinged within one round of N periods, found unresponsive
/// after the ping and indirect-ping timeouts, suspected for the suspicion timeout, and the
/// DEAD news reaches everyone within a few periods.
fn dead_bound(n: usize, p: &Params) -> u64 {
    n as u64 * p.period + 3 * p.ping_timeout + p.suspect_timeout + 4 * p.ping_timeout + 5 * p.period
}

#[test]
fn emu_killed_member_is_dead_everywhere_in_time() {
    for (n, seed) in [(4usize, 1u64), (8, 2), (16, 3)] {
        let p = fast();
        let mut e = Emu::new(n, p, seed, true);
        e.run(10_000);
        // steady state: no suspicions at all
        assert!(e.sh.suspect_seen.borrow().is_empty(), "n={n}: false suspicion");
        let victim = n / 2;
        let t0 = e.now();
        e.kill(victim);
        e.run(dead_bound(n, &p));
        let t = e.all_saw_dead(victim, &[]).unwrap_or_else(|| panic!("n={n}: not DEAD everywhere"));
        assert!(t - t0 >= p.suspect_timeout, "n={n}: DEAD before the suspicion timeout");
        // nobody else was declared DEAD
        for (&(_, subj), _) in e.sh.dead_seen.borrow().iter() {
            assert_eq!(subj, victim);
        }
    }
}

#[test]
fn emu_stopped_member_refutes_and_is_alive_again() {
    for with_cb in [true, false] {
        let p = fast();
        let mut e = Emu::new(8, p, 7, with_cb);
        e.run(8_000);
        let v = 3;
        let inc0 = e.state(0, v).incarnation;
        // stopped longer than a ping round, shorter than the suspicion timeout
        e.stop(v, 8_000);
        e.run(8_000);
        let suspected = (0..8).filter(|&i| i != v && e.state(i, v).status == Status::SUSPECT).count();
        assert!(suspected > 0, "nobody suspected the stopped member");
        e.run(15_000);
        for i in 0..8 {
            let s = e.state(i, v);
            assert_eq!(s.status, Status::ALIVE, "cb={with_cb}: {i} sees {v} as {s:?}");
            assert!(s.incarnation > inc0, "cb={with_cb}: no new incarnation");
        }
        assert!(e.sh.dead_seen.borrow().is_empty(), "cb={with_cb}: false DEAD");
        assert_eq!(e.sh.new_incarnation_calls.get() > 0, with_cb);
    }
}

#[test]
fn emu_stall_of_self_declares_nobody_dead() {
    let p = fast();
    let mut e = Emu::new(8, p, 11, true);
    e.run(6_000);
    // member 5 stalls (no progress, messages wait) for less than the suspicion timeout, twice
    for _ in 0..2 {
        e.stop(5, 12_000);
        e.run(20_000);
    }
    assert!(e.sh.dead_seen.borrow().is_empty(), "false DEAD: {:?}", e.sh.dead_seen.borrow());
    // the stalled member itself suspected nobody: its timers moved by its stall
    assert!(
        !e.sh.suspect_seen.borrow().keys().any(|&(obs, subj)| obs == 5 && subj != 5),
        "{:?}",
        e.sh.suspect_seen.borrow()
    );
    for i in 0..8 {
        for j in 0..8 {
            assert_eq!(e.state(i, j).status, Status::ALIVE);
        }
    }
}

#[test]
fn emu_long_stall_of_self_declares_nobody_dead() {
    let p = fast();
    let mut e = Emu::new(8, p, 13, true);
    e.run(6_000);
    // member 5 has just suspected member 6 itself, then stalls for longer than the suspicion
    // timeout: on its return that suspicion looks expired, but only because 5 stalled
    let inc = e.state(5, 6).incarnation;
    assert_eq!(e.members[5].updates_parse(5, 5, &[MemberUpdate::new(6, inc, Status::SUSPECT)]), 0);
    assert_eq!(e.state(5, 6).status, Status::SUSPECT);
    e.stop(5, p.suspect_timeout + 5_000);
    e.run(p.suspect_timeout + 20_000);
    let dead = e.sh.dead_seen.borrow();
    assert!(!dead.keys().any(|&(obs, _)| obs == 5), "the stalled member declared: {dead:?}");
    assert!(!dead.keys().any(|&(_, subj)| subj == 6), "6 was declared DEAD: {dead:?}");
    // the others did see 5 DEAD (it was silent past the suspicion timeout) and 5 came back
    // with a new incarnation
    assert!(dead.keys().any(|&(_, subj)| subj == 5));
    for i in 0..8 {
        assert_eq!(e.state(i, 5).status, Status::ALIVE, "{i} sees 5 {:?}", e.state(i, 5));
        assert_eq!(e.state(i, 6).status, Status::ALIVE);
    }
}

#[test]
fn emu_lossy_network_still_detects_a_death() {
    let p = fast();
    let mut e = Emu::new(8, p, 21, false);
    e.sh.loss_per_mille.set(50);
    e.sh.latency.set((2, 20));
    e.run(10_000);
    let t0 = e.now();
    e.kill(2);
    e.run(dead_bound(8, &p) + 10_000);
    let t = e.all_saw_dead(2, &[]).expect("a death under 5% loss is still found");
    assert!(t - t0 >= p.suspect_timeout);
    let dead = e.sh.dead_seen.borrow();
    assert!(dead.keys().all(|&(_, subj)| subj == 2), "false DEAD: {dead:?}");
}

#[test]
fn emu_dead_member_restarted_with_new_incarnation_is_alive() {
    let p = fast();
    let mut e = Emu::new(6, p, 17, true);
    e.run(5_000);
    e.kill(4);
    e.run(dead_bound(6, &p));
    assert!(e.all_saw_dead(4, &[]).is_some());
    let old = e.state(0, 4).incarnation;
    // a new process: higher incarnation (crt_swim takes the HLC)
    e.restart(4, old + 1000);
    e.run(10_000);
    for i in 0..6 {
        let s = e.state(i, 4);
        assert_eq!(s.status, Status::ALIVE, "{i} sees 4 as {s:?}");
        assert_eq!(s.incarnation, old + 1000);
    }
}

#[test]
fn emu_lossy_network_no_false_dead() {
    let p = fast();
    let mut e = Emu::new(8, p, 5, true);
    e.sh.loss_per_mille.set(50); // 5% of messages lost
    e.run(60_000);
    assert!(e.sh.dead_seen.borrow().is_empty(), "{:?}", e.sh.dead_seen.borrow());
    assert!(e.sh.stats.borrow().lost > 0);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Message overhead per member per second, and time to DEAD (run with --nocapture to see them).
#[test]
fn emu_measure_overhead_and_time_to_dead() {
    let p = fast();
    for n in [8usize, 16] {
        let mut msgs = Vec::new();
        let mut bytes = Vec::new();
        let mut ttd = Vec::new();
        for seed in 1..=7u64 {
            let mut e = Emu::new(n, p, seed * 31 + n as u64, true);
            e.run(5_000);
            let (r0, p0, u0) = {
                let s = e.sh.stats.borrow();
                (s.requests, s.replies, s.updates_carried)
            };
            let secs = 60;
            e.run(secs * 1000);
            let s = e.sh.stats.borrow();
            let m = (s.requests + s.replies - r0 - p0) as f64 / (n as f64 * secs as f64);
            let b = ((s.updates_carried - u0) * std::mem::size_of::<crate::sys::swim_member_update>() as u64)
                as f64
                / (n as f64 * secs as f64);
            drop(s);
            msgs.push(m);
            bytes.push(b);
            // kill at a seed-dependent moment in the period
            e.run(seed * 137 % 1000);
            let t0 = e.now();
            e.kill(seed as usize % n);
            e.run(dead_bound(n, &p));
            let t = e.all_saw_dead(seed as usize % n, &[]).expect("not detected");
            ttd.push((t - t0) as f64 / 1000.0);
        }
        eprintln!(
            "swim emu n={n}: {:.2} msgs/s/member, {:.0} update bytes/s/member, time to DEAD on all: median {:.2} s (min {:.2}, max {:.2})",
            median(msgs.clone()),
            median(bytes.clone()),
            median(ttd.clone()),
            ttd.iter().cloned().fold(f64::MAX, f64::min),
            ttd.iter().cloned().fold(0.0, f64::max)
        );
        // SWIM's constant load: one ping and its answer per member per period
        let m = median(msgs);
        assert!((1.5..=3.0).contains(&m), "n={n}: {m} msgs/s/member");
    }
}
