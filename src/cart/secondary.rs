//! Secondary groups (upstream `crt_group.c`): named subsets of the primary group with their
//! own rank numbers, kept as primary-to-secondary and secondary-to-primary tables; with
//! auto-remove on the primary, a rank leaving the primary group leaves every secondary too.
use crate::group::{ModOp, CRT_NO_RANK};
use crate::transport::der;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

const DER_OOG: i32 = -1019;

#[derive(Default)]
struct Sec {
    s2p: BTreeMap<u32, u32>,
    p2s: HashMap<u32, u32>,
    version: u32,
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
    if s.s2p.contains_key(&sec) {
        return Err(crate::init::DER_EXIST);
    }
    s.s2p.insert(sec, prim);
    s.p2s.insert(prim, sec);
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

/// Secondary ranks, ascending.
pub fn ranks(name: &str) -> Option<Vec<u32>> {
    secs().as_ref().and_then(|m| m.get(name)).map(|s| s.s2p.keys().copied().collect())
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
    let remove: Vec<u32> = match op {
        ModOp::Add => Vec::new(),
        ModOp::Remove => sec.iter().copied().filter(|r| s.s2p.contains_key(r)).collect(),
        ModOp::Replace => s.s2p.keys().copied().filter(|r| !sec.contains(r)).collect(),
    };
    for r in remove {
        if let Some(p) = s.s2p.remove(&r) {
            s.p2s.remove(&p);
        }
    }
    if op != ModOp::Remove {
        for (i, r) in sec.iter().enumerate() {
            if !s.s2p.contains_key(r) {
                add(s, *r, prim[i])?;
            }
        }
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
            if let Some(sec) = s.p2s.remove(&prim) {
                s.s2p.remove(&sec);
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

    #[test]
    fn tables_and_modify() {
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
}
