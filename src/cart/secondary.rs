//! Secondary groups (upstream `crt_group.c`): named subsets of the primary group with their
//! own rank numbers, kept as primary-to-secondary and secondary-to-primary tables; with
//! auto-remove on the primary, a rank leaving the primary group leaves every secondary too.
//!
//! The membership is also kept as upstream's `gp_membs.cgm_list`: an array of slots grown 32
//! at a time, a removed rank's slot holding CRT_NO_RANK until the next addition reuses it
//! (the most recently freed slot first). The members in slot order (upstream's
//! `cgm_linear_list`) are what `crt_group_ranks_get` returns, so a group created from a list
//! keeps that list's order.
use crate::group::{ModOp, CRT_NO_RANK};
use crate::transport::der;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

const DER_OOG: i32 = -1019;

/// Upstream's RANK_LIST_REALLOC_SIZE: how many slots the membership list grows by.
const SLOTS_CHUNK: usize = 32;

#[derive(Default)]
struct Sec {
    s2p: HashMap<u32, u32>,
    p2s: HashMap<u32, u32>,
    version: u32,
    /// upstream's cgm_list: secondary ranks by slot, CRT_NO_RANK in a free slot
    slots: Vec<u32>,
    /// the free slots, the next one to use first
    free: VecDeque<usize>,
}

impl Sec {
    /// The members in slot order (upstream's cgm_linear_list).
    fn linear(&self) -> Vec<u32> {
        self.slots.iter().copied().filter(|r| *r != CRT_NO_RANK).collect()
    }

    /// Drops secondary rank `sec` (its tables entry and its slot); false when not a member.
    fn remove(&mut self, sec: u32) -> bool {
        let Some(p) = self.s2p.remove(&sec) else { return false };
        self.p2s.remove(&p);
        if let Some(i) = self.slots.iter().position(|r| *r == sec) {
            self.slots[i] = CRT_NO_RANK;
            self.free.push_front(i);
        }
        true
    }
}

static SECS: Mutex<Option<HashMap<String, Sec>>> = Mutex::new(None);
static AUTO_REMOVE: AtomicBool = AtomicBool::new(false);

fn secs() -> MutexGuard<'static, Option<HashMap<String, Sec>>> {
    SECS.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn exists(name: &str) -> bool {
    secs().as_ref().is_some_and(|m| m.contains_key(name))
}

fn add(s: &mut Sec, sec: u32, prim: u32) -> Result<(), i32> {
    // both tables take unique keys, as upstream's exclusive hash inserts
    if s.s2p.contains_key(&sec) || s.p2s.contains_key(&prim) {
        return Err(crate::init::DER_EXIST);
    }
    s.s2p.insert(sec, prim);
    s.p2s.insert(prim, sec);
    if s.free.is_empty() {
        let first = s.slots.len();
        s.slots.resize(first + SLOTS_CHUNK, CRT_NO_RANK);
        s.free.extend(first..first + SLOTS_CHUNK);
    }
    if let Some(i) = s.free.pop_front() {
        s.slots[i] = sec;
    }
    Ok(())
}

/// `crt_group_secondary_create`: primary rank `ranks[i]` becomes secondary rank `i`.
/// -DER_EXIST when a group of that name exists.
pub fn create(name: &str, ranks: &[u32]) -> Result<(), i32> {
    let mut g = secs();
    let m = g.get_or_insert_with(HashMap::new);
    if m.contains_key(name) {
        return Err(crate::init::DER_EXIST);
    }
    let mut s = Sec::default();
    for (i, p) in ranks.iter().enumerate() {
        add(&mut s, i as u32, *p)?;
    }
    m.insert(name.to_owned(), s);
    Ok(())
}

pub fn destroy(name: &str) -> Result<(), i32> {
    secs().as_mut().and_then(|m| m.remove(name)).map(|_| ()).ok_or(der::DER_INVAL)
}

/// `crt_group_secondary_rank_add`: -DER_EXIST for a secondary rank already there.
pub fn rank_add(name: &str, sec: u32, prim: u32) -> Result<(), i32> {
    let mut g = secs();
    let s = g.as_mut().and_then(|m| m.get_mut(name)).ok_or(der::DER_INVAL)?;
    add(s, sec, prim)
}

/// `crt_group_rank_p2s`: -DER_OOG when the primary rank is not a member.
pub fn p2s(name: &str, prim: u32) -> Result<u32, i32> {
    let g = secs();
    let s = g.as_ref().and_then(|m| m.get(name)).ok_or(der::DER_INVAL)?;
    s.p2s.get(&prim).copied().ok_or(DER_OOG)
}

/// `crt_group_rank_s2p`: -DER_OOG when the secondary rank is not a member.
pub fn s2p(name: &str, sec: u32) -> Result<u32, i32> {
    let g = secs();
    let s = g.as_ref().and_then(|m| m.get(name)).ok_or(der::DER_INVAL)?;
    s.s2p.get(&sec).copied().ok_or(DER_OOG)
}

/// Secondary ranks in membership-list order (`crt_group_ranks_get`).
pub fn ranks(name: &str) -> Option<Vec<u32>> {
    secs().as_ref().and_then(|m| m.get(name)).map(Sec::linear)
}

/// The membership list's slots (upstream's cgm_list, CRT_NO_RANK in free slots).
pub fn slots(name: &str) -> Option<Vec<u32>> {
    secs().as_ref().and_then(|m| m.get(name)).map(|s| s.slots.clone())
}

/// `crt_group_rank_remove` on a secondary group: secondary rank `sec` leaves it (the primary
/// group is untouched); -DER_OOG when it is not a member.
pub fn rank_remove(name: &str, sec: u32) -> Result<(), i32> {
    let mut g = secs();
    let s = g.as_mut().and_then(|m| m.get_mut(name)).ok_or(der::DER_INVAL)?;
    if s.remove(sec) {
        Ok(())
    } else {
        Err(DER_OOG)
    }
}

/// `crt_group_version_set` on a secondary group.
pub fn set_version(name: &str, version: u32) -> Result<(), i32> {
    let mut g = secs();
    let s = g.as_mut().and_then(|m| m.get_mut(name)).ok_or(der::DER_INVAL)?;
    s.version = version;
    Ok(())
}

/// This process's secondary rank (its primary rank's), or CRT_NO_RANK.
pub fn self_rank(name: &str) -> Option<u32> {
    let me = crate::group::self_rank();
    let g = secs();
    let s = g.as_ref().and_then(|m| m.get(name))?;
    Some(me.and_then(|r| s.p2s.get(&r).copied()).unwrap_or(CRT_NO_RANK))
}

pub fn version(name: &str) -> Option<u32> {
    secs().as_ref().and_then(|m| m.get(name)).map(|s| s.version)
}

/// `crt_group_secondary_modify`: ADD maps the listed secondary ranks not yet members to their
/// primary ranks, REMOVE drops the listed ones, REPLACE makes the group exactly the list.
/// `prim` must match `sec` in length unless removing (-DER_INVAL).
pub fn modify(name: &str, op: ModOp, sec: &[u32], prim: &[u32], version: u32) -> Result<(), i32> {
    if sec.is_empty() || (op != ModOp::Remove && prim.len() != sec.len()) {
        return Err(der::DER_INVAL);
    }
    let mut g = secs();
    let s = g.as_mut().and_then(|m| m.get_mut(name)).ok_or(der::DER_INVAL)?;
    // as upstream: what to remove is decided on the old membership (in list order), the
    // additions are made first (in the order given), then the removals
    let remove: Vec<u32> = match op {
        ModOp::Add => Vec::new(),
        ModOp::Remove => sec.iter().copied().filter(|r| s.s2p.contains_key(r)).collect(),
        ModOp::Replace => s.linear().into_iter().filter(|r| !sec.contains(r)).collect(),
    };
    if op != ModOp::Remove {
        let mut added = Vec::new();
        for (i, r) in sec.iter().enumerate() {
            if !s.s2p.contains_key(r) {
                if let Err(e) = add(s, *r, prim[i]) {
                    // upstream undoes this call's additions
                    for a in added {
                        s.remove(a);
                    }
                    return Err(e);
                }
                added.push(*r);
            }
        }
    }
    for r in remove {
        s.remove(r);
    }
    s.version = version;
    Ok(())
}

/// `crt_group_auto_rank_remove` on the primary group.
pub fn set_auto_remove(on: bool) {
    AUTO_REMOVE.store(on, Ordering::Relaxed);
}

/// A rank left the primary group: with auto-remove, it leaves every secondary group.
pub fn primary_removed(prim: u32) {
    if !AUTO_REMOVE.load(Ordering::Relaxed) {
        return;
    }
    if let Some(m) = secs().as_mut() {
        for s in m.values_mut() {
            if let Some(sec) = s.p2s.get(&prim).copied() {
                s.remove(sec);
            }
        }
    }
}

/// Everything goes with the last `crt_finalize`.
pub fn clear() {
    *secs() = None;
    AUTO_REMOVE.store(false, Ordering::Relaxed);
    // the last of crt_finalize's resets: the C group objects follow
    crate::capi::sync_groups();
}

/// Whether auto-remove is on for the primary group.
pub fn auto_remove() -> bool {
    AUTO_REMOVE.load(Ordering::Relaxed)
}

/// The names of the secondary groups.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = secs().as_ref().map_or(Vec::new(), |m| m.keys().cloned().collect());
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables are process-wide and clear() empties them: one test at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn tables_and_modify() {
        let _s = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        create("s1", &[10, 20]).unwrap();
        assert_eq!(create("s1", &[]).unwrap_err(), crate::init::DER_EXIST);
        assert_eq!(p2s("s1", 20).unwrap(), 1);
        assert_eq!(s2p("s1", 0).unwrap(), 10);
        assert_eq!(p2s("s1", 30).unwrap_err(), DER_OOG);
        assert_eq!(rank_add("s1", 1, 30).unwrap_err(), crate::init::DER_EXIST);
        rank_add("s1", 5, 30).unwrap();
        assert_eq!(ranks("s1").unwrap(), vec![0, 1, 5]);
        modify("s1", ModOp::Replace, &[1, 7], &[20, 70], 3).unwrap();
        assert_eq!(ranks("s1").unwrap(), vec![1, 7]);
        assert_eq!(s2p("s1", 7).unwrap(), 70);
        assert_eq!(p2s("s1", 10).unwrap_err(), DER_OOG);
        assert_eq!(version("s1"), Some(3));
        assert_eq!(modify("s1", ModOp::Add, &[8], &[], 4).unwrap_err(), der::DER_INVAL);
        modify("s1", ModOp::Remove, &[7], &[], 4).unwrap();
        assert_eq!(ranks("s1").unwrap(), vec![1]);
        primary_removed(20); // auto-remove off: stays
        assert_eq!(ranks("s1").unwrap(), vec![1]);
        set_auto_remove(true);
        primary_removed(20);
        assert_eq!(ranks("s1").unwrap(), Vec::<u32>::new());
        destroy("s1").unwrap();
        assert_eq!(destroy("s1").unwrap_err(), der::DER_INVAL);
        clear();
    }

    #[test]
    fn membership_list_order() {
        let _s = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        create("o1", &[]).unwrap();
        for (sec, prim) in [(9, 90), (3, 30), (7, 70), (1, 10)] {
            rank_add("o1", sec, prim).unwrap();
        }
        // insertion order, not sorted
        assert_eq!(ranks("o1").unwrap(), vec![9, 3, 7, 1]);
        let sl = slots("o1").unwrap();
        assert_eq!(sl.len(), SLOTS_CHUNK);
        assert_eq!(&sl[..5], &[9, 3, 7, 1, CRT_NO_RANK]);
        // a removed rank's slot is reused by the next addition
        rank_remove("o1", 3).unwrap();
        assert_eq!(rank_remove("o1", 3).unwrap_err(), DER_OOG);
        assert_eq!(rank_remove("nope", 3).unwrap_err(), der::DER_INVAL);
        assert_eq!(p2s("o1", 30).unwrap_err(), DER_OOG);
        assert_eq!(s2p("o1", 3).unwrap_err(), DER_OOG);
        assert_eq!(&slots("o1").unwrap()[..4], &[9, CRT_NO_RANK, 7, 1]);
        rank_add("o1", 4, 40).unwrap();
        assert_eq!(ranks("o1").unwrap(), vec![9, 4, 7, 1]);
        // a primary rank maps to one secondary rank only
        assert_eq!(rank_add("o1", 5, 40).unwrap_err(), crate::init::DER_EXIST);
        // modify: additions first, then removals; the version follows
        modify("o1", ModOp::Replace, &[1, 2, 9], &[10, 20, 90], 6).unwrap();
        assert_eq!(ranks("o1").unwrap(), vec![9, 1, 2]);
        assert_eq!(version("o1"), Some(6));
        set_version("o1", 8).unwrap();
        assert_eq!(version("o1"), Some(8));
        assert_eq!(set_version("nope", 8).unwrap_err(), der::DER_INVAL);
        // 33 members grow the list by another chunk
        for r in 100..130 {
            rank_add("o1", r, r + 1000).unwrap();
        }
        assert_eq!(ranks("o1").unwrap().len(), 33);
        assert_eq!(slots("o1").unwrap().len(), 2 * SLOTS_CHUNK);
        destroy("o1").unwrap();
    }
}
