//! CaRT contexts (upstream `crt_context.c`): one transport endpoint each, an index that picks
//! its port and tag, its RPC timeout and quotas, and caller-driven progress.
use crate::init::{self, DER_AGAIN, DER_UNINIT};
use crate::transport::{der, Endpoint, EndpointOptions};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use crate::transport::OpId;

/// `CRT_QUOTA_RPCS`, `CRT_QUOTA_BULKS`.
pub const QUOTA_COUNT: usize = 2;

/// Called at the start of every progress call with the caller's timeout; returns the one to
/// use (upstream's `crt_progress_cb`).
pub type ProgressHook = Box<dyn FnMut(i64) -> i64 + Send>;

/// `crt_context_register_rpc_task`'s callbacks and argument, as plain values for the C layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RpcTask {
    pub process_cb: usize,
    pub iv_resp_cb: usize,
    pub arg: usize,
}

pub struct Context {
    /// This context's own Arc (what the RPCs it receives hold).
    me: Weak<Context>,
    idx: u32,
    iface_idx: usize,
    uri: String,
    ep: Mutex<Endpoint>,
    /// 0: the process default (`CRT_TIMEOUT`).
    timeout_sec: AtomicU32,
    quota_limit: [AtomicI32; QUOTA_COUNT],
    progress_hook: Mutex<Option<ProgressHook>>,
    rpc_task: Mutex<Option<RpcTask>>,
    /// Requests in flight from this context: operation id -> (rank, tag) (upstream's
    /// per-endpoint in-flight lists, which crt_rank_abort walks).
    inflight: Mutex<HashMap<u64, (u32, u32)>>,
    /// Credits: requests in flight per rank:tag (at most `credits`, 0: no limit) and the
    /// requests waiting for one (upstream's epi_req_num and epi_req_waitq).
    credits: u32,
    eps: Mutex<HashMap<(u32, u32), EpCredits>>,
    /// CRT_QUOTA_RPCS: requests in flight from this context and those waiting for a slot.
    rpc_quota: Mutex<RpcQuota>,
}

/// Upstream's `crt_quotas` for RPCs: enforced only when the process default (`D_QUOTA_RPCS`,
/// 64 on clients, none on servers) was non-zero when the context was created; a limit of 0 (or
/// less) means none.
struct RpcQuota {
    enabled: bool,
    current: u32,
    /// Waiting requests, oldest first: (target rank, the RPC layer's opaque address).
    waitq: VecDeque<(u32, usize)>,
}

#[derive(Default)]
struct EpCredits {
    in_flight: u32,
    /// Waiting requests, as the opaque addresses the RPC layer gave.
    waitq: VecDeque<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Context {
    /// Upstream `crt_context_provider_create`: the lowest free index below the context limit
    /// (-DER_AGAIN when none), an endpoint on interface `iface_idx`, and the quotas of the
    /// process. -DER_UNINIT before `crt_init`.
    pub fn create(iface_idx: usize) -> Result<Arc<Context>, i32> {
        let mut st = init::state();
        let s = st.as_mut().ok_or(DER_UNINIT)?;
        let max = s.settings.ctx_max_num as usize;
        if s.contexts.len() < max {
            s.contexts.resize(max, None);
        }
        let idx = s.contexts.iter().take(max).position(Option::is_none).ok_or(DER_AGAIN)?;
        let opts = EndpointOptions { ctx_idx: idx as u32, iface_idx, ..Default::default() };
        let mut ep = Endpoint::open(&s.settings.net, &opts).map_err(|e| e.der())?;
        // every header carries this process's HLC (servers) or HLCT (clients)
        ep.set_hlc_source(if s.settings.server { crate::hlc::stamp_service } else { crate::hlc::stamp_client });
        ep.set_progress_mode(s.settings.progress_busy, std::time::Duration::from_millis(s.settings.progress_spindown as u64));
        let ctx = Arc::new_cyclic(|me| Context {
            me: me.clone(),
            idx: idx as u32,
            iface_idx,
            uri: ep.uri().to_owned(),
            ep: Mutex::new(ep),
            timeout_sec: AtomicU32::new(0),
            quota_limit: [AtomicI32::new(s.settings.rpc_quota as i32), AtomicI32::new(s.settings.bulk_quota as i32)],
            progress_hook: Mutex::new(None),
            rpc_task: Mutex::new(None),
            inflight: Mutex::new(HashMap::new()),
            credits: s.settings.credits,
            eps: Mutex::new(HashMap::new()),
            rpc_quota: Mutex::new(RpcQuota { enabled: s.settings.rpc_quota > 0, current: 0, waitq: VecDeque::new() }),
        });
        s.contexts[idx] = Some(ctx.clone());
        // crt_swim hook: SWIM starts with its context on servers (upstream crt_context_create)
        let swim = s.settings.server && !s.settings.auto_swim_disable && idx as i32 == s.settings.swim_ctx_idx;
        drop(st);
        if swim {
            if let Err(e) = crate::crt_swim::init(idx as i32) {
                let _ = ctx.destroy(true);
                return Err(e);
            }
        }
        Ok(ctx)
    }

    /// Upstream `crt_context_destroy`: without `force`, a context with RPCs in flight is
    /// flushed for up to a second and then refused with -DER_BUSY; with `force`, the endpoint
    /// closes and whatever was in flight is dropped.
    pub fn destroy(self: &Arc<Self>, force: bool) -> Result<(), i32> {
        if !init::initialized() {
            return Err(DER_UNINIT);
        }
        // crt_swim hook: SWIM stops with its context (upstream crt_context_destroy)
        if crate::crt_swim::glue().is_some() && init::settings().is_ok_and(|s| s.swim_ctx_idx == self.idx as i32) {
            let _ = crate::crt_swim::disable(self.idx as i32);
        }
        if !force && !self.ep_empty() {
            match self.flush(1) {
                Ok(()) => {}
                Err(_) => return Err(der::DER_BUSY),
            }
        }
        if force {
            // Requests already sent stay sent when aborted (upstream: HG_Cancel leaves a
            // posted send on its way); ours may still wait for a connecting peer, so let them
            // go out first (a collective node forwards and may be destroyed right after).
            let deadline = Instant::now() + Duration::from_secs(1);
            while self.endpoint().unsent_requests() > 0 && Instant::now() < deadline {
                let _ = self.progress(1000);
            }
        }
        if force && self.abort_rank(None) > 0 {
            // Deliver the aborts: every callback runs (with -DER_TIMEDOUT) and every
            // request's reference is dropped before the endpoint goes.
            let deadline = Instant::now() + Duration::from_secs(1);
            while !lock(&self.inflight).is_empty() && Instant::now() < deadline {
                let _ = self.progress(1000);
            }
        }
        let mut st = init::state();
        let s = st.as_mut().ok_or(DER_UNINIT)?;
        match s.contexts.get_mut(self.idx as usize) {
            Some(slot @ Some(_)) if Arc::ptr_eq(slot.as_ref().unwrap(), self) => {
                *slot = None;
                let swim = s.settings.swim_ctx_idx == self.idx as i32;
                drop(st);
                if swim {
                    crate::crt_swim::fini();
                }
                Ok(())
            }
            _ => Err(der::DER_INVAL),
        }
    }

    pub fn idx(&self) -> u32 {
        self.idx
    }

    pub fn iface_idx(&self) -> usize {
        self.iface_idx
    }

    /// This context's URI (`crt_context_uri_get`, `crt_self_uri_get`).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The endpoint, for the layers above (RPCs, bulk).
    pub fn endpoint(&self) -> MutexGuard<'_, Endpoint> {
        lock(&self.ep)
    }

    /// `crt_context_set_timeout`: 0 is -DER_INVAL.
    pub fn set_timeout(&self, sec: u32) -> Result<(), i32> {
        if sec == 0 {
            return Err(der::DER_INVAL);
        }
        self.timeout_sec.store(sec, Ordering::Relaxed);
        Ok(())
    }

    /// `crt_context_get_timeout`: the context's own, else the process default.
    pub fn timeout(&self) -> u32 {
        match self.timeout_sec.load(Ordering::Relaxed) {
            0 => init::settings().map(|s| s.timeout_sec).unwrap_or(init::CRT_TIMEOUT_DEFAULT),
            t => t,
        }
    }

    /// `crt_context_quota_limit_set`: -DER_INVAL for an unknown quota.
    pub fn set_quota_limit(&self, quota: i32, value: i32) -> Result<(), i32> {
        let q = usize::try_from(quota).ok().filter(|&q| q < QUOTA_COUNT).ok_or(der::DER_INVAL)?;
        self.quota_limit[q].store(value, Ordering::Relaxed);
        Ok(())
    }

    pub fn quota_limit(&self, quota: i32) -> Result<i32, i32> {
        let q = usize::try_from(quota).ok().filter(|&q| q < QUOTA_COUNT).ok_or(der::DER_INVAL)?;
        Ok(self.quota_limit[q].load(Ordering::Relaxed))
    }

    pub fn set_progress_hook(&self, hook: Option<ProgressHook>) {
        *lock(&self.progress_hook) = hook;
    }

    pub fn set_rpc_task(&self, task: RpcTask) {
        *lock(&self.rpc_task) = Some(task);
    }

    pub fn rpc_task(&self) -> Option<RpcTask> {
        *lock(&self.rpc_task)
    }

    /// Takes a CRT_QUOTA_RPCS slot for request `rpc` to `rank`: true when it may go on now;
    /// false when it was queued until a request in flight completes.
    pub fn rpc_quota_acquire(&self, rank: u32, rpc: usize) -> bool {
        let limit = self.quota_limit[0].load(Ordering::Relaxed);
        let mut q = lock(&self.rpc_quota);
        if !q.enabled {
            return true;
        }
        // Slots are counted even while the limit is 0 (none): upstream stops counting then, so
        // requests sent under a limit that is lifted and set again hold slots forever.
        if limit <= 0 || q.current < limit as u32 {
            q.current += 1;
            return true;
        }
        q.waitq.push_back((rank, rpc));
        false
    }

    /// A request that held a slot completed: the oldest waiting request takes the slot over
    /// (returned: the caller submits it), else the slot is returned.
    pub fn rpc_quota_release(&self) -> Option<usize> {
        let mut q = lock(&self.rpc_quota);
        if let Some((_, next)) = q.waitq.pop_front() {
            return Some(next);
        }
        if q.enabled {
            q.current = q.current.saturating_sub(1);
        }
        None
    }

    /// Requests waiting for a quota slot (diagnostics, tests).
    pub fn rpc_quota_waiting(&self) -> usize {
        lock(&self.rpc_quota).waitq.len()
    }

    /// Takes a credit toward rank:tag for request `rpc`: true when it may be sent now; false
    /// when it was queued (at the front for `front`) until a credit comes back.
    pub fn credit_acquire(&self, rank: u32, tag: u32, rpc: usize, front: bool) -> bool {
        let mut eps = lock(&self.eps);
        let e = eps.entry((rank, tag)).or_default();
        if self.credits != 0 && e.in_flight >= self.credits {
            if front {
                e.waitq.push_front(rpc);
            } else {
                e.waitq.push_back(rpc);
            }
            return false;
        }
        e.in_flight += 1;
        true
    }

    /// Returns the credit of a finished request; the next waiting request, if any, takes it
    /// (the caller sends it).
    pub fn credit_release(&self, rank: u32, tag: u32) -> Option<usize> {
        let mut eps = lock(&self.eps);
        let e = eps.get_mut(&(rank, tag))?;
        match e.waitq.pop_front() {
            Some(next) => Some(next),
            None => {
                e.in_flight = e.in_flight.saturating_sub(1);
                None
            }
        }
    }

    /// Removes the waiting requests to `rank` (all for `None`), for abort: those waiting for a
    /// credit (they hold a quota slot already) and those waiting for a quota slot.
    pub fn take_waiting(&self, rank: Option<u32>) -> (Vec<usize>, Vec<usize>) {
        let credit: Vec<usize> = {
            let mut eps = lock(&self.eps);
            eps.iter_mut().filter(|((r, _), _)| rank.map_or(true, |x| x == *r)).flat_map(|(_, e)| e.waitq.drain(..)).collect()
        };
        let mut q = lock(&self.rpc_quota);
        let (gone, keep): (VecDeque<_>, VecDeque<_>) = q.waitq.drain(..).partition(|(r, _)| rank.map_or(true, |x| x == *r));
        q.waitq = keep;
        (credit, gone.into_iter().map(|(_, p)| p).collect())
    }

    /// Records a request in flight to rank:tag.
    pub fn track(&self, op: OpId, rank: u32, tag: u32) {
        lock(&self.inflight).insert(op.0, (rank, tag));
    }

    pub fn untrack(&self, op: OpId) {
        lock(&self.inflight).remove(&op.0);
    }

    /// Cancels every request in flight to `rank` (all ranks for `None`); each completes with
    /// -DER_TIMEDOUT from progress, as upstream's crt_req_abort. Returns how many were canceled.
    pub fn abort_rank(&self, rank: Option<u32>) -> usize {
        let (for_credit, for_quota) = self.take_waiting(rank);
        let queued = for_credit.len() + for_quota.len();
        for p in for_credit {
            crate::rpc::cancel_queued(p, true);
        }
        for p in for_quota {
            crate::rpc::cancel_queued(p, false);
        }
        let ops: Vec<u64> = lock(&self.inflight)
            .iter()
            .filter(|(_, (r, _))| rank.map_or(true, |x| x == *r))
            .map(|(op, _)| *op)
            .collect();
        let mut ep = lock(&self.ep);
        queued + ops.into_iter().filter(|op| ep.cancel(OpId(*op)).is_ok()).count()
    }

    /// `crt_context_ep_empty`: nothing in flight on this context.
    /// What `crt_hdlr_ctl_dump_counters` reports for this context: requests in flight from
    /// it, and requests waiting for a credit.
    pub fn counters(&self) -> (usize, usize) {
        let waiting = lock(&self.eps).values().map(|e| e.waitq.len()).sum();
        (lock(&self.inflight).len(), waiting)
    }

    pub fn ep_empty(&self) -> bool {
        lock(&self.ep).in_flight() == 0
    }

    /// `crt_progress`: makes progress for up to `timeout_us` microseconds (0: just poll;
    /// negative: until something happens). Ok when something was done, -DER_TIMEDOUT when
    /// the time ran out first.
    ///
    /// As upstream: what already arrived is read first (a poll with no wait), then the progress
    /// callback (SWIM's) runs and may shorten the timeout, then the network is waited on for what
    /// is left. The wait is skipped when the first poll delivered something, so completions
    /// that are already in never wait behind the callback's timeout.
    pub fn progress(&self, timeout_us: i64) -> Result<(), i32> {
        let first = self.progress_step(Some(Duration::ZERO))?;
        let timeout_us = match lock(&self.progress_hook).as_mut() {
            Some(h) => h(timeout_us),
            None => timeout_us,
        };
        let n = if first > 0 || timeout_us == 0 {
            first
        } else if timeout_us < 0 {
            self.progress_step(None)?
        } else {
            self.progress_step(Some(Duration::from_micros(timeout_us as u64)))?
        };
        if n > 0 {
            Ok(())
        } else {
            Err(der::DER_TIMEDOUT)
        }
    }

    /// One round of transport progress (`None`: until something happens) and the dispatch of
    /// what it delivered. Returns the number of deliveries.
    fn progress_step(&self, timeout: Option<Duration>) -> Result<usize, i32> {
        let mut ep = lock(&self.ep);
        let n = match timeout {
            None => loop {
                let n = ep.progress(Duration::from_secs(1)).map_err(|e| e.der())?;
                if n > 0 {
                    break n;
                }
            },
            Some(t) => ep.progress(t).map_err(|e| e.der())?,
        };
        let mut events = Vec::new();
        while let Some(ev) = ep.next_event() {
            events.push(ev);
        }
        drop(ep);
        // Handlers and completion callbacks run with the endpoint unlocked: they send and reply.
        if let Some(me) = self.me.upgrade() {
            for ev in events {
                crate::rpc::dispatch(&me, ev);
            }
        }
        Ok(n)
    }

    /// `crt_progress_cond`: progress until `cond` returns > 0 (Ok), < 0 (that error), or the
    /// timeout passes (-DER_TIMEDOUT). `cond` runs once before any progress.
    pub fn progress_cond(&self, timeout_us: i64, mut cond: impl FnMut() -> i32) -> Result<(), i32> {
        let check = |c: &mut dyn FnMut() -> i32| match c() {
            r if r > 0 => Some(Ok(())),
            r if r < 0 => Some(Err(r)),
            _ => None,
        };
        if let Some(r) = check(&mut cond) {
            return r;
        }
        let step = match timeout_us {
            t if t < 0 => 1000,
            0 => 0,
            t => t.min(1_000_000),
        };
        let deadline = (timeout_us > 0).then(|| Instant::now() + Duration::from_micros(timeout_us as u64));
        loop {
            match self.progress(step) {
                Ok(()) | Err(der::DER_TIMEDOUT) => {}
                Err(e) => return Err(e),
            }
            if let Some(r) = check(&mut cond) {
                return r;
            }
            match (timeout_us, deadline) {
                (t, _) if t < 0 => continue,
                (_, Some(d)) if Instant::now() < d => continue,
                _ => return Err(der::DER_TIMEDOUT),
            }
        }
    }

    /// `crt_context_flush`: progress until nothing is in flight; -DER_TIMEDOUT after
    /// `timeout_sec` seconds (0: no limit).
    pub fn flush(&self, timeout_sec: u64) -> Result<(), i32> {
        let deadline = (timeout_sec > 0).then(|| Instant::now() + Duration::from_secs(timeout_sec));
        loop {
            match self.progress(1) {
                Ok(()) | Err(der::DER_TIMEDOUT) => {}
                Err(e) => return Err(e),
            }
            if self.ep_empty() {
                return Ok(());
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(der::DER_TIMEDOUT);
            }
        }
    }
}

/// `crt_rank_abort` (`None`: `crt_rank_abort_all`): over every context.
pub fn abort_rank_all_contexts(rank: Option<u32>) -> usize {
    let ctxs: Vec<Arc<Context>> = init::state().as_ref().map(|s| s.contexts.iter().flatten().cloned().collect()).unwrap_or_default();
    ctxs.iter().map(|c| c.abort_rank(rank)).sum()
}

/// `crt_context_num`: contexts that exist now.
pub fn context_num() -> usize {
    init::state().as_ref().map_or(0, |s| s.ctx_num())
}

/// `crt_num_ifaces_get`: interfaces named at init (`D_INTERFACE`'s list).
pub fn num_ifaces() -> usize {
    init::state().as_ref().map_or(0, |s| s.settings.net.interfaces.len())
}

/// `crt_iface_name2idx`: -DER_INVAL when the name is not in the list.
pub fn iface_name2idx(name: &str) -> Result<usize, i32> {
    let st = init::state();
    let s = st.as_ref().ok_or(der::DER_INVAL)?;
    s.settings.net.interfaces.iter().position(|n| n == name).ok_or(der::DER_INVAL)
}

/// `crt_context_create_on_iface_idx`: clients only (-DER_NOSYS on servers); the index must
/// name one of the interfaces given at init (-DER_INVAL).
pub fn create_on_iface_idx(iface_idx: usize) -> Result<Arc<Context>, i32> {
    if init::is_service() {
        return Err(der::DER_NOSYS);
    }
    let n = num_ifaces();
    if n == 0 || iface_idx >= n {
        return Err(der::DER_INVAL);
    }
    Context::create(iface_idx)
}
