//! Deterministic cluster simulation through the C API.
//!
//! 3 to 7 servers exchange messages over a simulated network with seeded loss, delay
//! (reordering), duplication and partitions; servers crash and restart from their persisted
//! state (term, vote, log, snapshot); leaders change the membership (demote/promote voters, add
//! and remove a learner) and servers compact their logs into snapshots that lagging followers
//! receive through InstallSnapshot. Throughout, the simulation checks Raft's safety properties:
//! election safety (one leader per term), log matching, leader completeness, and state-machine
//! safety (no two servers apply different entries at one index). After the chaos it heals the
//! network, restarts everyone and requires a new entry to be committed and applied by every
//! voter (liveness).
//!
//! Seeds: RAFT_SIM_SEEDS (default 3000, about 20 s in a debug build), starting at RAFT_SIM_FIRST_SEED (default 1).

use raft::capi::{
    raft_add_node, raft_add_non_voting_node, raft_append_entries, raft_begin_load_snapshot,
    raft_begin_snapshot, raft_end_load_snapshot, raft_end_snapshot, raft_free, raft_get_commit_idx,
    raft_get_current_idx, raft_get_current_term, raft_get_entry_from_idx,
    raft_get_last_applied_idx, raft_get_my_node, raft_get_node, raft_get_num_snapshottable_logs,
    raft_get_num_voting_nodes, raft_get_snapshot_last_idx, raft_get_snapshot_last_term,
    raft_is_leader, raft_new, raft_node_get_id, raft_node_is_voting, raft_periodic,
    raft_recv_appendentries, raft_recv_appendentries_response, raft_recv_entry,
    raft_recv_installsnapshot, raft_recv_installsnapshot_response, raft_recv_requestvote,
    raft_recv_requestvote_response, raft_set_callbacks, raft_set_current_term,
    raft_set_election_timeout, raft_set_first_start, raft_set_request_timeout,
    raft_vote_for_nodeid,
};
use raft::sys::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

static PANICKED: AtomicBool = AtomicBool::new(false);

/// xorshift64*: a small deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Ent {
    term: i64,
    id: i32,
    ty: i32,
    nid: i64,
}

#[derive(Clone, Debug)]
struct Snap {
    idx: i64,
    term: i64,
    members: Vec<(i64, bool)>,
}

#[derive(Default)]
struct Persist {
    term: i64,
    vote: i64,
    base: i64,
    log: Vec<Ent>,
    snap: Option<Snap>,
}

struct NodeSt {
    srv: *mut raft_server_t,
    p: Persist,
    /// Membership as of the last applied entry (what a snapshot records).
    applied_members: Vec<(i64, bool)>,
    restoring: bool,
    down_until: i64,
    was_leader_term: i64,
}

enum Payload {
    Rv(msg_requestvote_t),
    Rvr(msg_requestvote_response_t),
    Ae(msg_appendentries_t, Vec<raft_entry_t>),
    Aer(msg_appendentries_response_t),
    Is(msg_installsnapshot_t, Snap),
    Isr(msg_installsnapshot_response_t),
}

struct Msg {
    at: i64,
    seq: u64,
    from: usize,
    to: usize,
    p: Payload,
}

struct Sim {
    rng: Rng,
    now: i64,
    n: usize,
    nodes: Vec<NodeSt>,
    net: Vec<Msg>,
    seq: u64,
    loss: f64,
    dup: f64,
    max_delay: i64,
    /// Partition: side of each node; messages between sides are dropped.
    side: Vec<u8>,
    committed: HashMap<i64, (i64, i32)>,
    leaders: HashMap<i64, usize>,
    next_id: i32,
    /// Snapshot being delivered (read by the recv_installsnapshot callback).
    incoming_snap: Option<Snap>,
    violations: Vec<String>,
    applies: u64,
    elections: u64,
    snapshots_installed: u64,
    cfg_changes: u64,
}

thread_local! {
    static SIM: RefCell<Option<Sim>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Sim) -> R) -> R {
    SIM.with(|s| f(s.borrow_mut().as_mut().unwrap()))
}

fn me(udata: *mut c_void) -> usize {
    udata as usize
}

const ELECTION_TIMEOUT: c_int = 200;
const REQUEST_TIMEOUT: c_int = 50;
const STEP: i64 = 10;
const LEARNER: i64 = 100;

// ---- callbacks -------------------------------------------------------------------------------

fn send(from: usize, node: *mut raft_node_t, p: Payload) {
    let to = raft_node_get_id(node);
    with(|s| {
        if to < 0 || to as usize >= s.n || s.rng.chance(s.loss) {
            return;
        }
        let copies = if s.rng.chance(s.dup) { 2 } else { 1 };
        let mut p = Some(p);
        for c in 0..copies {
            let at = s.now + 1 + s.rng.below(s.max_delay as u64) as i64;
            s.seq += 1;
            let payload = if c + 1 == copies {
                p.take().unwrap()
            } else {
                clone_payload(p.as_ref().unwrap())
            };
            s.net.push(Msg {
                at,
                seq: s.seq,
                from,
                to: to as usize,
                p: payload,
            });
        }
    })
}

fn clone_payload(p: &Payload) -> Payload {
    match p {
        Payload::Rv(m) => Payload::Rv(*m),
        Payload::Rvr(m) => Payload::Rvr(*m),
        Payload::Ae(m, v) => Payload::Ae(*m, v.clone()),
        Payload::Aer(m) => Payload::Aer(*m),
        Payload::Is(m, s) => Payload::Is(*m, s.clone()),
        Payload::Isr(m) => Payload::Isr(*m),
    }
}

extern "C" fn cb_send_rv(
    _r: *mut raft_server_t,
    u: *mut c_void,
    node: *mut raft_node_t,
    m: *mut msg_requestvote_t,
) -> c_int {
    send(me(u), node, Payload::Rv(unsafe { *m }));
    0
}

extern "C" fn cb_send_ae(
    _r: *mut raft_server_t,
    u: *mut c_void,
    node: *mut raft_node_t,
    m: *mut msg_appendentries_t,
) -> c_int {
    let m = unsafe { *m };
    let v = if m.n_entries > 0 {
        unsafe { std::slice::from_raw_parts(m.entries, m.n_entries as usize) }.to_vec()
    } else {
        Vec::new()
    };
    send(me(u), node, Payload::Ae(m, v));
    0
}

extern "C" fn cb_send_is(
    _r: *mut raft_server_t,
    u: *mut c_void,
    node: *mut raft_node_t,
    m: *mut msg_installsnapshot_t,
) -> c_int {
    let m = unsafe { *m };
    let snap = with(|s| s.nodes[me(u)].p.snap.clone());
    let snap = snap.expect("InstallSnapshot without a snapshot");
    assert_eq!((snap.idx, snap.term), (m.last_idx, m.last_term));
    send(me(u), node, Payload::Is(m, snap));
    0
}

extern "C" fn cb_recv_is(
    r: *mut raft_server_t,
    u: *mut c_void,
    _node: *mut raft_node_t,
    _m: *mut msg_installsnapshot_t,
    _resp: *mut msg_installsnapshot_response_t,
) -> c_int {
    let i = me(u);
    let snap = with(|s| s.incoming_snap.take()).expect("no snapshot in flight");
    let e = raft_begin_load_snapshot(r, snap.term, snap.idx);
    if e == RAFT_ERR_SNAPSHOT_ALREADY_LOADED {
        return 1;
    }
    if e != 0 {
        return e;
    }
    add_members(r, i, &snap.members);
    raft_end_load_snapshot(r);
    with(|s| {
        let n = &mut s.nodes[i];
        n.p.log.clear();
        n.p.base = snap.idx;
        n.applied_members = snap.members.clone();
        n.p.snap = Some(snap);
        s.snapshots_installed += 1;
    });
    1
}

extern "C" fn cb_recv_isr(
    _r: *mut raft_server_t,
    _u: *mut c_void,
    _n: *mut raft_node_t,
    _m: *mut msg_installsnapshot_response_t,
) -> c_int {
    0
}

fn members_apply(members: &mut Vec<(i64, bool)>, e: &Ent) {
    let pos = members.iter().position(|m| m.0 == e.nid);
    match e.ty as u32 {
        RAFT_LOGTYPE_ADD_NONVOTING_NODE => members.push((e.nid, false)),
        RAFT_LOGTYPE_ADD_NODE => members.push((e.nid, true)),
        RAFT_LOGTYPE_PROMOTE_NODE => members[pos.unwrap()].1 = true,
        RAFT_LOGTYPE_DEMOTE_NODE => members[pos.unwrap()].1 = false,
        RAFT_LOGTYPE_REMOVE_NODE | RAFT_LOGTYPE_REMOVE_NONVOTING_NODE => {
            members.remove(pos.unwrap());
        }
        _ => {}
    }
}

extern "C" fn cb_apply(
    _r: *mut raft_server_t,
    u: *mut c_void,
    ety: *mut raft_entry_t,
    idx: raft_index_t,
) -> c_int {
    let e = unsafe { *ety };
    with(|s| {
        s.applies += 1;
        match s.committed.get(&idx) {
            Some(&(t, id)) if (t, id) != (e.term, e.id) => s.violations.push(format!(
                "state machine safety: node {} applied ({}, {}) at {idx}, another applied ({t}, {id})",
                me(u),
                e.term,
                e.id
            )),
            Some(_) => {}
            None => {
                s.committed.insert(idx, (e.term, e.id));
            }
        }
        let ent = Ent {
            term: e.term,
            id: e.id,
            ty: e.type_,
            nid: e.data.len as i64,
        };
        members_apply(&mut s.nodes[me(u)].applied_members, &ent);
    });
    0
}

extern "C" fn cb_persist_vote(_r: *mut raft_server_t, u: *mut c_void, v: raft_node_id_t) -> c_int {
    with(|s| s.nodes[me(u)].p.vote = v);
    0
}

extern "C" fn cb_persist_term(
    _r: *mut raft_server_t,
    u: *mut c_void,
    t: raft_term_t,
    v: raft_node_id_t,
) -> c_int {
    with(|s| {
        let p = &mut s.nodes[me(u)].p;
        p.term = t;
        p.vote = v;
    });
    0
}

extern "C" fn cb_offer(
    _r: *mut raft_server_t,
    u: *mut c_void,
    e: *mut raft_entry_t,
    idx: raft_index_t,
    n: *mut c_int,
) -> c_int {
    let es = unsafe { std::slice::from_raw_parts(e, *n as usize) };
    with(|s| {
        let node = &mut s.nodes[me(u)];
        if node.restoring {
            return;
        }
        let p = &mut node.p;
        assert_eq!(idx, p.base + p.log.len() as i64 + 1, "offer out of order");
        for e in es {
            p.log.push(Ent {
                term: e.term,
                id: e.id,
                ty: e.type_,
                nid: e.data.len as i64,
            });
        }
    });
    0
}

extern "C" fn cb_pop(
    _r: *mut raft_server_t,
    u: *mut c_void,
    _e: *mut raft_entry_t,
    idx: raft_index_t,
    n: *mut c_int,
) -> c_int {
    let n = unsafe { *n } as i64;
    with(|s| {
        let p = &mut s.nodes[me(u)].p;
        assert_eq!(
            idx + n,
            p.base + p.log.len() as i64 + 1,
            "pop not at the tail"
        );
        p.log.truncate((idx - p.base - 1) as usize);
    });
    0
}

extern "C" fn cb_poll(
    _r: *mut raft_server_t,
    u: *mut c_void,
    _e: *mut raft_entry_t,
    idx: raft_index_t,
    n: *mut c_int,
) -> c_int {
    let n = unsafe { *n } as i64;
    with(|s| {
        let p = &mut s.nodes[me(u)].p;
        assert_eq!(idx, p.base + 1, "poll not at the head");
        p.log.drain(..n as usize);
        p.base += n;
    });
    0
}

extern "C" fn cb_node_id(
    _r: *mut raft_server_t,
    _u: *mut c_void,
    e: *mut raft_entry_t,
    _i: raft_index_t,
) -> raft_node_id_t {
    unsafe { (*e).data.len as raft_node_id_t }
}

extern "C" fn cb_sufficient(
    _r: *mut raft_server_t,
    _u: *mut c_void,
    _n: *mut raft_node_t,
) -> c_int {
    0
}

extern "C" fn cb_time(_r: *mut raft_server_t, _u: *mut c_void) -> raft_time_t {
    with(|s| s.now)
}

extern "C" fn cb_rand(_r: *mut raft_server_t, _u: *mut c_void) -> f64 {
    with(|s| s.rng.unit() * 0.999)
}

fn cbs() -> raft_cbs_t {
    raft_cbs_t {
        send_requestvote: Some(cb_send_rv),
        send_appendentries: Some(cb_send_ae),
        send_installsnapshot: Some(cb_send_is),
        recv_installsnapshot: Some(cb_recv_is),
        recv_installsnapshot_response: Some(cb_recv_isr),
        applylog: Some(cb_apply),
        persist_vote: Some(cb_persist_vote),
        persist_term: Some(cb_persist_term),
        log_offer: Some(cb_offer),
        log_poll: Some(cb_poll),
        log_pop: Some(cb_pop),
        log_get_node_id: Some(cb_node_id),
        node_has_sufficient_logs: Some(cb_sufficient),
        notify_membership_event: None,
        log: None,
        get_time: Some(cb_time),
        get_rand: Some(cb_rand),
    }
}

// ---- servers ---------------------------------------------------------------------------------

fn add_members(r: *mut raft_server_t, me: usize, members: &[(i64, bool)]) {
    for &(id, voting) in members {
        let is_self = (id == me as i64) as c_int;
        let node = if voting {
            raft_add_node(r, ptr::null_mut(), id, is_self)
        } else {
            raft_add_non_voting_node(r, ptr::null_mut(), id, is_self)
        };
        assert!(!node.is_null());
    }
}

/// Starts server `i` from its persisted state (or fresh on the first start).
fn start(i: usize, first: bool) {
    let mut cb = cbs();
    let r = raft_new();
    assert!(!r.is_null());
    raft_set_callbacks(r, &mut cb, i as *mut c_void);
    raft_set_election_timeout(r, ELECTION_TIMEOUT);
    raft_set_request_timeout(r, REQUEST_TIMEOUT);
    if first {
        raft_set_first_start(r);
    }
    let (term, vote, snap, log, n) = with(|s| {
        let node = &mut s.nodes[i];
        node.restoring = true;
        node.srv = r;
        node.was_leader_term = -1;
        (
            node.p.term,
            node.p.vote,
            node.p.snap.clone(),
            node.p.log.clone(),
            s.n,
        )
    });
    assert_eq!(raft_set_current_term(r, term), 0);
    assert_eq!(raft_vote_for_nodeid(r, vote), 0);
    let members = match &snap {
        Some(sn) => {
            assert_eq!(raft_begin_load_snapshot(r, sn.term, sn.idx), 0);
            add_members(r, i, &sn.members);
            raft_end_load_snapshot(r);
            sn.members.clone()
        }
        None => {
            let m: Vec<(i64, bool)> = (0..n as i64).map(|id| (id, true)).collect();
            add_members(r, i, &m);
            m
        }
    };
    let mut entries: Vec<raft_entry_t> = log
        .iter()
        .map(|e| raft_entry_t {
            term: e.term,
            id: e.id,
            type_: e.ty,
            data: raft_entry_data_t {
                buf: ptr::null_mut(),
                len: e.nid as u32,
            },
        })
        .collect();
    let mut k = entries.len() as c_int;
    assert_eq!(raft_append_entries(r, entries.as_mut_ptr(), &mut k), 0);
    assert_eq!(k as usize, entries.len());
    with(|s| {
        let node = &mut s.nodes[i];
        node.restoring = false;
        node.applied_members = members;
    });
}

fn crash(i: usize) {
    let r = with(|s| std::mem::replace(&mut s.nodes[i].srv, ptr::null_mut()));
    if !r.is_null() {
        raft_free(r);
    }
}

// ---- checks ----------------------------------------------------------------------------------

fn entry_at(r: *mut raft_server_t, idx: i64) -> Option<(i64, i32)> {
    let e = raft_get_entry_from_idx(r, idx);
    (!e.is_null()).then(|| unsafe { ((*e).term, (*e).id) })
}

fn check_leaders(s: &mut Sim) {
    for i in 0..s.n {
        let r = s.nodes[i].srv;
        if r.is_null() || raft_is_leader(r) == 0 {
            continue;
        }
        let term = raft_get_current_term(r);
        match s.leaders.get(&term) {
            Some(&l) if l != i => s
                .violations
                .push(format!("election safety: {l} and {i} lead term {term}")),
            Some(_) => {}
            None => {
                s.leaders.insert(term, i);
                s.elections += 1;
            }
        }
        if s.nodes[i].was_leader_term != term {
            s.nodes[i].was_leader_term = term;
            // Leader completeness: everything applied anywhere is in the new leader's log.
            let base = raft_get_snapshot_last_idx(r).max(0);
            let ci = raft_get_current_idx(r);
            for (&idx, &(t, id)) in &s.committed {
                if idx > ci {
                    s.violations.push(format!(
                        "leader completeness: leader {i} of term {term} lacks index {idx}"
                    ));
                } else if idx > base {
                    if let Some(got) = entry_at(r, idx) {
                        if got != (t, id) {
                            s.violations.push(format!(
                                "leader completeness: leader {i} has {got:?} at {idx}, committed ({t}, {id})"
                            ));
                        }
                    }
                }
            }
        }
    }
}

fn check_log_matching(s: &mut Sim) {
    for a in 0..s.n {
        for b in a + 1..s.n {
            let (ra, rb) = (s.nodes[a].srv, s.nodes[b].srv);
            if ra.is_null() || rb.is_null() {
                continue;
            }
            let lo = raft_get_snapshot_last_idx(ra).max(raft_get_snapshot_last_idx(rb)) + 1;
            let hi = raft_get_current_idx(ra).min(raft_get_current_idx(rb));
            // The highest index where both have an entry of the same term...
            let mut top = None;
            let mut idx = hi;
            while idx >= lo {
                if let (Some(x), Some(y)) = (entry_at(ra, idx), entry_at(rb, idx)) {
                    if x.0 == y.0 {
                        top = Some(idx);
                        break;
                    }
                }
                idx -= 1;
            }
            // ...and every entry up to it must be identical.
            if let Some(top) = top {
                for idx in lo..=top {
                    let (x, y) = (entry_at(ra, idx), entry_at(rb, idx));
                    if x != y {
                        s.violations.push(format!(
                            "log matching: {a} and {b} differ at {idx} below {top}: {x:?} {y:?}"
                        ));
                        return;
                    }
                }
            }
        }
    }
}

// ---- driving ---------------------------------------------------------------------------------

fn deliver(m: Msg) {
    let (r, blocked) = with(|s| (s.nodes[m.to].srv, s.side[m.from] != s.side[m.to]));
    if r.is_null() || blocked {
        return;
    }
    let node = raft_get_node(r, m.from as raft_node_id_t);
    let (from, to) = (m.from, m.to);
    let reply = |p: Payload| {
        // Answers go back through the same network.
        with(|s| {
            if s.rng.chance(s.loss) {
                return;
            }
            let at = s.now + 1 + s.rng.below(s.max_delay as u64) as i64;
            s.seq += 1;
            s.net.push(Msg {
                at,
                seq: s.seq,
                from: to,
                to: from,
                p,
            });
        })
    };
    match m.p {
        Payload::Rv(mut rv) => {
            let mut resp = msg_requestvote_response_t::default();
            let e = raft_recv_requestvote(r, node, &mut rv, &mut resp);
            assert!(e == 0, "recv_requestvote: {e}");
            reply(Payload::Rvr(resp));
        }
        Payload::Rvr(mut rvr) => {
            let e = raft_recv_requestvote_response(r, node, &mut rvr);
            assert!(e == 0, "recv_requestvote_response: {e}");
        }
        Payload::Ae(mut ae, mut v) => {
            ae.entries = if v.is_empty() {
                ptr::null_mut()
            } else {
                v.as_mut_ptr()
            };
            let mut resp = msg_appendentries_response_t::default();
            let e = raft_recv_appendentries(r, node, &mut ae, &mut resp);
            if e != 0 {
                with(|s| {
                    s.violations
                        .push(format!("recv_appendentries on {to} returned {e}"))
                });
            }
            reply(Payload::Aer(resp));
        }
        Payload::Aer(mut aer) => {
            let e = raft_recv_appendentries_response(r, node, &mut aer);
            assert!(
                e == 0 || e == RAFT_ERR_NOT_LEADER || (e == -1 && node.is_null()),
                "recv_ae_response: {e}"
            );
        }
        Payload::Is(mut is, snap) => {
            with(|s| s.incoming_snap = Some(snap));
            let mut resp = msg_installsnapshot_response_t::default();
            let e = raft_recv_installsnapshot(r, node, &mut is, &mut resp);
            with(|s| s.incoming_snap = None);
            assert!(e == 0, "recv_installsnapshot: {e}");
            reply(Payload::Isr(resp));
        }
        Payload::Isr(mut isr) => {
            let e = raft_recv_installsnapshot_response(r, node, &mut isr);
            assert!(
                e == 0 || e == RAFT_ERR_NOT_LEADER || (e == -1 && node.is_null()),
                "recv_is_response: {e}"
            );
        }
    }
}

fn deliver_due() {
    loop {
        let m = with(|s| {
            let now = s.now;
            let pos = s
                .net
                .iter()
                .enumerate()
                .filter(|(_, m)| m.at <= now)
                .min_by_key(|(_, m)| (m.at, m.seq))
                .map(|(i, _)| i);
            pos.map(|i| s.net.swap_remove(i))
        });
        match m {
            Some(m) => deliver(m),
            None => break,
        }
    }
}

fn propose(leader: usize, ty: u32, nid: i64) -> c_int {
    let r = with(|s| s.nodes[leader].srv);
    let id = with(|s| {
        s.next_id += 1;
        s.next_id
    });
    let mut e = raft_entry_t {
        term: 0,
        id,
        type_: ty as c_int,
        data: raft_entry_data_t {
            buf: ptr::null_mut(),
            len: nid as u32,
        },
    };
    let mut resp = msg_entry_response_t::default();
    raft_recv_entry(r, &mut e, &mut resp)
}

fn leader() -> Option<usize> {
    with(|s| (0..s.n).find(|&i| !s.nodes[i].srv.is_null() && raft_is_leader(s.nodes[i].srv) != 0))
}

fn step(chaos: bool) {
    with(|s| s.now += STEP);
    deliver_due();
    let n = with(|s| s.n);
    for i in 0..n {
        let (r, restart) = with(|s| {
            let nd = &s.nodes[i];
            (nd.srv, nd.srv.is_null() && nd.down_until <= s.now)
        });
        if restart {
            start(i, false);
            continue;
        }
        if r.is_null() {
            continue;
        }
        let e = raft_periodic(r);
        assert!(
            e == 0 || e == RAFT_ERR_MIGHT_VIOLATE_LEASE,
            "raft_periodic: {e}"
        );
        // Compaction now and then.
        let snap = with(|s| s.rng.chance(0.05)) && raft_get_num_snapshottable_logs(r) > 8;
        if snap
            && raft_get_commit_idx(r) > raft_get_snapshot_last_idx(r)
            && raft_begin_snapshot(r, raft_get_commit_idx(r)) == 0
        {
            {
                let sn = with(|s| Snap {
                    idx: raft_get_snapshot_last_idx(r),
                    term: raft_get_snapshot_last_term(r),
                    members: s.nodes[i].applied_members.clone(),
                });
                assert_eq!(raft_end_snapshot(r), 0);
                with(|s| s.nodes[i].p.snap = Some(sn));
            }
        }
    }
    // Clients.
    if let Some(l) = leader() {
        let k = with(|s| s.rng.below(3));
        for _ in 0..k {
            propose(l, RAFT_LOGTYPE_NORMAL, 0);
        }
        if chaos && with(|s| s.rng.chance(0.02)) {
            change_membership(l);
        }
    }
    if chaos {
        with(|s| {
            // Crashes and restarts (with persisted state).
            if s.rng.chance(0.01) {
                let i = s.rng.below(s.n as u64) as usize;
                if !s.nodes[i].srv.is_null() {
                    s.nodes[i].down_until = s.now + 50 + s.rng.below(1500) as i64;
                }
            }
            // Partitions come and go.
            if s.rng.chance(0.01) {
                for x in s.side.iter_mut() {
                    *x = 0;
                }
                if s.rng.chance(0.6) {
                    let n = s.n;
                    for x in s.side.iter_mut().take(n) {
                        *x = s.rng.below(2) as u8;
                    }
                }
            }
        });
        let n = with(|s| s.n);
        for i in 0..n {
            let crash_now = with(|s| !s.nodes[i].srv.is_null() && s.nodes[i].down_until > s.now);
            if crash_now {
                crash(i);
            }
        }
    }
    with(|s| {
        check_leaders(s);
        if s.now % 200 == 0 {
            check_log_matching(s);
        }
    });
}

fn change_membership(l: usize) {
    let r = with(|s| s.nodes[l].srv);
    let n = with(|s| s.n) as i64;
    let learner = !raft_get_node(r, LEARNER).is_null();
    let choice = with(|s| s.rng.below(4));
    let e = match choice {
        0 if !learner => propose(l, RAFT_LOGTYPE_ADD_NONVOTING_NODE, LEARNER),
        0 => propose(l, RAFT_LOGTYPE_REMOVE_NONVOTING_NODE, LEARNER),
        _ => {
            // Demote a voter while at least three remain; promote a demoted server.
            let target = with(|s| s.rng.below(n as u64)) as i64;
            let node = raft_get_node(r, target);
            if node.is_null() || target == l as i64 {
                return;
            }
            if raft_node_is_voting(node) != 0 {
                if raft_get_num_voting_nodes(r) <= 3 {
                    return;
                }
                propose(l, RAFT_LOGTYPE_DEMOTE_NODE, target)
            } else {
                propose(l, RAFT_LOGTYPE_PROMOTE_NODE, target)
            }
        }
    };
    assert!(
        e == 0 || e == RAFT_ERR_ONE_VOTING_CHANGE_ONLY || e == RAFT_ERR_SNAPSHOT_IN_PROGRESS,
        "membership change returned {e}"
    );
    if e == 0 {
        with(|s| s.cfg_changes += 1);
    }
}

struct Outcome {
    violations: Vec<String>,
    applies: u64,
    elections: u64,
    snapshots: u64,
    cfg: u64,
}

fn run_seed(seed: u64) -> Outcome {
    let mut rng = Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1);
    let n = 3 + rng.below(5) as usize;
    let sim = Sim {
        n,
        now: 0,
        nodes: (0..n)
            .map(|_| NodeSt {
                srv: ptr::null_mut(),
                p: Persist {
                    vote: -1,
                    ..Default::default()
                },
                applied_members: Vec::new(),
                restoring: false,
                down_until: 0,
                was_leader_term: -1,
            })
            .collect(),
        net: Vec::new(),
        seq: 0,
        loss: rng.unit() * 0.2,
        dup: rng.unit() * 0.1,
        max_delay: 5 + rng.below(40) as i64,
        side: vec![0; n],
        committed: HashMap::new(),
        leaders: HashMap::new(),
        next_id: 0,
        incoming_snap: None,
        violations: Vec::new(),
        applies: 0,
        elections: 0,
        snapshots_installed: 0,
        cfg_changes: 0,
        rng,
    };
    SIM.with(|s| *s.borrow_mut() = Some(sim));
    for i in 0..n {
        start(i, true);
    }
    // Chaos.
    for _ in 0..600 {
        step(true);
    }
    // Heal: full connectivity, no loss, everyone up.
    with(|s| {
        for x in s.side.iter_mut() {
            *x = 0;
        }
        s.loss = 0.0;
        s.dup = 0.0;
        for nd in s.nodes.iter_mut() {
            nd.down_until = 0;
        }
    });
    // Liveness: within 20 s a leader commits a fresh entry that every voter applies.
    let mut marker: Option<(usize, i64)> = None;
    let mut live = false;
    for _ in 0..2000 {
        step(false);
        if marker.is_none() {
            if let Some(l) = leader() {
                let r = with(|s| s.nodes[l].srv);
                if propose(l, RAFT_LOGTYPE_NORMAL, 0) == 0 {
                    marker = Some((l, raft_get_current_idx(r)));
                }
            }
        } else if let Some((_, idx)) = marker {
            let done = with(|s| {
                (0..s.n).all(|i| {
                    let r = s.nodes[i].srv;
                    let me = raft_get_my_node(r);
                    r.is_null()
                        || me.is_null()
                        || raft_node_is_voting(me) == 0
                        || raft_get_last_applied_idx(r) >= idx
                }) && s.committed.contains_key(&idx)
            });
            if done {
                live = true;
                break;
            }
            // A leader change may have dropped the marker: propose again.
            if leader().is_some_and(|l| Some(l) != marker.map(|m| m.0)) {
                marker = None;
            }
        }
    }
    let mut out = with(|s| Outcome {
        violations: std::mem::take(&mut s.violations),
        applies: s.applies,
        elections: s.elections,
        snapshots: s.snapshots_installed,
        cfg: s.cfg_changes,
    });
    if !live {
        out.violations.push(format!(
            "liveness: no entry committed by all voters within 20 s of healing ({n} nodes)"
        ));
    }
    for i in 0..n {
        crash(i);
    }
    SIM.with(|s| *s.borrow_mut() = None);
    out
}

#[test]
fn cluster_simulation() {
    let seeds: u64 = std::env::var("RAFT_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let first: u64 = std::env::var("RAFT_SIM_FIRST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, Ordering::SeqCst);
        hook(info)
    }));
    let t0 = std::time::Instant::now();
    let (mut applies, mut elections, mut snaps, mut cfg) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for seed in first..first + seeds {
        let out = run_seed(seed);
        applies += out.applies;
        elections += out.elections;
        snaps += out.snapshots;
        cfg += out.cfg;
        if PANICKED.swap(false, Ordering::SeqCst) {
            failures.push(format!("seed {seed}: an assertion failed inside raft"));
        }
        for v in out.violations {
            failures.push(format!("seed {seed}: {v}"));
        }
    }
    eprintln!(
        "cluster simulation: {seeds} seeds in {:.1?}: {elections} leaders, {applies} applies, {snaps} snapshots installed, {cfg} membership changes",
        t0.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(
        elections > seeds && applies > seeds * 100 && snaps > 0 && cfg > 0,
        "the simulation exercised too little"
    );
}
