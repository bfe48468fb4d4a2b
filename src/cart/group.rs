//! The primary group's address book (the part of upstream `crt_group.c` the RPC path needs):
//! this process's rank and the URI of each rank:tag. A tag with no URI of its own is reached
//! at its rank's tag-0 port plus the tag (contiguous context ports, as servers bind them).
use crate::transport::{der, uri::Addr, Uri};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

pub const CRT_NO_RANK: u32 = u32::MAX;

#[derive(Default)]
struct Book {
    self_rank: Option<u32>,
    version_min: u32,
    /// The membership version (`crt_group_version`).
    version: u32,
    /// Members, sorted, with their incarnations.
    members: std::collections::BTreeMap<u32, u64>,
    uris: HashMap<(u32, u32), String>,
}

/// `crt_group_mod_op_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModOp {
    Replace,
    Add,
    Remove,
}

/// What a membership change did: ranks added (with incarnations) and removed, for the
/// event callbacks.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ModResult {
    pub added: Vec<(u32, u64)>,
    pub removed: Vec<u32>,
}

pub const DER_GRPVER: i32 = -1036;
const DER_OOG_: i32 = -1019;

static BOOK: Mutex<Option<Book>> = Mutex::new(None);

fn book() -> MutexGuard<'static, Option<Book>> {
    BOOK.lock().unwrap_or_else(|p| p.into_inner())
}

/// `crt_rank_self_set` on a server: -DER_INVAL for CRT_NO_RANK, version 0, or a second call.
/// `self_uris`: the URI of every context, entered as rank:idx.
pub fn rank_self_set(rank: u32, version_min: u32, self_uris: &[(u32, String)]) -> Result<(), i32> {
    if rank == CRT_NO_RANK || version_min == 0 {
        return Err(der::DER_INVAL);
    }
    let mut g = book();
    let b = g.get_or_insert_with(Book::default);
    if b.self_rank.is_some() {
        return Err(der::DER_INVAL);
    }
    b.self_rank = Some(rank);
    b.version_min = version_min;
    b.members.insert(rank, 0);
    for (tag, uri) in self_uris {
        b.uris.insert((rank, *tag), uri.clone());
    }
    Ok(())
}

pub fn self_rank() -> Option<u32> {
    book().as_ref().and_then(|b| b.self_rank)
}

/// `crt_group_primary_rank_add`: `uri` is the rank's tag-0 address; -DER_INVAL for a URI
/// that does not parse or CRT_NO_RANK.
pub fn rank_add(rank: u32, uri: &str) -> Result<(), i32> {
    if rank == CRT_NO_RANK {
        return Err(der::DER_INVAL);
    }
    Uri::parse(uri).map_err(|e| e.der())?;
    let mut g = book();
    let b = g.get_or_insert_with(Book::default);
    b.uris.insert((rank, 0), uri.to_owned());
    b.members.entry(rank).or_insert(0);
    drop(g);
    let _ = crate::crt_swim::rank_add(rank, 0); // crt_swim hook
    Ok(())
}

/// `crt_group_size`.
pub fn size() -> u32 {
    book().as_ref().map_or(0, |b| b.members.len() as u32)
}

/// `crt_group_ranks_get`: the members, ascending.
pub fn ranks() -> Vec<u32> {
    book().as_ref().map_or(Vec::new(), |b| b.members.keys().copied().collect())
}

pub fn version() -> u32 {
    book().as_ref().map_or(0, |b| b.version)
}

pub fn set_version(v: u32) {
    book().get_or_insert_with(Book::default).version = v;
}

/// `crt_group_primary_modify`: upstream's rules. -DER_INVAL for no ranks, or missing URIs
/// when adding; -DER_GRPVER before `crt_rank_self_set` (no minimum version) or when
/// `version` is below the minimum or does not advance. ADD adds the ranks not yet members,
/// REMOVE removes the members listed, REPLACE makes the membership exactly `ranks`. An
/// added rank's URI is its tag-0 address.
pub fn primary_modify(op: ModOp, ranks: &[(u32, u64, Option<String>)], version: u32) -> Result<ModResult, i32> {
    if ranks.is_empty() {
        return Err(der::DER_INVAL);
    }
    if op != ModOp::Remove && ranks.iter().any(|r| r.2.is_none()) {
        return Err(der::DER_INVAL);
    }
    let mut g = book();
    let b = g.get_or_insert_with(Book::default);
    if b.version_min == 0 || version < b.version_min || version <= b.version {
        return Err(DER_GRPVER);
    }
    for (_, _, uri) in ranks {
        if let Some(u) = uri {
            Uri::parse(u).map_err(|e| e.der())?;
        }
    }
    let mut res = ModResult::default();
    if op != ModOp::Remove {
        for (rank, inc, uri) in ranks {
            if !b.members.contains_key(rank) {
                b.members.insert(*rank, *inc);
                if let Some(u) = uri {
                    b.uris.insert((*rank, 0), u.clone());
                }
                res.added.push((*rank, *inc));
            }
        }
    }
    let remove: Vec<u32> = match op {
        ModOp::Add => Vec::new(),
        ModOp::Remove => ranks.iter().map(|r| r.0).filter(|r| b.members.contains_key(r)).collect(),
        ModOp::Replace => b.members.keys().copied().filter(|m| !ranks.iter().any(|r| r.0 == *m)).collect(),
    };
    for r in remove {
        b.members.remove(&r);
        b.uris.retain(|(x, _), _| *x != r);
        res.removed.push(r);
    }
    b.version = version;
    drop(g);
    // crt_swim hook: SWIM's membership follows the primary group's
    for (r, inc) in &res.added {
        let _ = crate::crt_swim::rank_add(*r, *inc);
    }
    if !res.added.is_empty() {
        crate::crt_swim::rank_shuffle();
    }
    for r in &res.removed {
        let _ = crate::crt_swim::rank_del(*r);
        crate::secondary::primary_removed(*r);
    }
    Ok(res)
}

/// `crt_group_rank_remove`: the rank leaves the membership and the address cache (every
/// tag); -DER_OOG when it is not a member.
pub fn rank_remove(rank: u32) -> Result<(), i32> {
    let mut g = book();
    let b = g.as_mut().ok_or(DER_OOG_)?;
    if b.members.remove(&rank).is_none() {
        return Err(DER_OOG_);
    }
    b.uris.retain(|(r, _), _| *r != rank);
    drop(g);
    let _ = crate::crt_swim::rank_del(rank); // crt_swim hook
    crate::secondary::primary_removed(rank);
    Ok(())
}

/// The minimum group version given to `crt_rank_self_set` (0 before it), and the version.
pub fn version_min() -> (u32, u32) {
    book().as_ref().map_or((0, 0), |b| (b.version_min, b.version))
}

/// The URI of rank:tag, or -DER_OOG (-1019) when the rank is not known.
pub fn uri(rank: u32, tag: u32) -> Result<String, i32> {
    const DER_OOG: i32 = -1019;
    let g = book();
    let b = g.as_ref().ok_or(DER_OOG)?;
    if let Some(u) = b.uris.get(&(rank, tag)) {
        return Ok(u.clone());
    }
    let base = b.uris.get(&(rank, 0)).ok_or(DER_OOG)?;
    let mut u = Uri::parse(base).map_err(|e| e.der())?;
    match &mut u.addr {
        Addr::Inet(sa) => {
            let port = sa.port() as u32 + tag;
            sa.set_port(u16::try_from(port).map_err(|_| der::DER_INVAL)?);
            Ok(u.to_string())
        }
        _ => Err(DER_OOG),
    }
}

/// The URIs this process knows explicitly (its own contexts, added ranks, looked-up
/// rank:tags), by rank then tag: what `crt_hdlr_ctl_get_uri_cache` dumps.
pub fn uri_cache() -> Vec<(u32, u32, String)> {
    let g = book();
    let mut v: Vec<(u32, u32, String)> =
        g.as_ref().map_or(Vec::new(), |b| b.uris.iter().map(|((r, t), u)| (*r, *t, u.clone())).collect());
    v.sort();
    v
}

/// Everything goes with the last `crt_finalize`.
pub fn clear() {
    *book() = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_rules() {
        clear();
        assert_eq!(uri(1, 0).unwrap_err(), -1019);
        rank_add(1, "ofi+tcp://127.0.0.1:4000").unwrap();
        assert_eq!(uri(1, 0).unwrap(), "ofi+tcp://127.0.0.1:4000");
        assert_eq!(uri(1, 3).unwrap(), "ofi+tcp://127.0.0.1:4003");
        assert_eq!(uri(2, 0).unwrap_err(), -1019);
        assert_eq!(rank_add(CRT_NO_RANK, "ofi+tcp://127.0.0.1:1").unwrap_err(), der::DER_INVAL);
        assert!(rank_add(3, "garbage").is_err());
        assert_eq!(rank_self_set(CRT_NO_RANK, 1, &[]).unwrap_err(), der::DER_INVAL);
        assert_eq!(rank_self_set(5, 0, &[]).unwrap_err(), der::DER_INVAL);
        rank_self_set(5, 1, &[(0, "ofi+tcp://127.0.0.1:5000".into()), (1, "ofi+tcp://127.0.0.1:5999".into())]).unwrap();
        assert_eq!(rank_self_set(6, 1, &[]).unwrap_err(), der::DER_INVAL);
        assert_eq!(self_rank(), Some(5));
        assert_eq!(uri(5, 1).unwrap(), "ofi+tcp://127.0.0.1:5999");
        assert_eq!(ranks(), vec![1, 5]);
        assert_eq!(size(), 2);
        rank_remove(1).unwrap();
        assert_eq!(uri(1, 0).unwrap_err(), -1019);
        assert_eq!(rank_remove(1).unwrap_err(), -1019);
        assert_eq!(ranks(), vec![5]);

        // primary_modify: versions must advance past the minimum
        let u = |p: u16| Some(format!("ofi+tcp://127.0.0.1:{p}"));
        assert_eq!(primary_modify(ModOp::Add, &[], 2).unwrap_err(), der::DER_INVAL);
        assert_eq!(primary_modify(ModOp::Add, &[(7, 1, None)], 2).unwrap_err(), der::DER_INVAL);
        assert_eq!(primary_modify(ModOp::Add, &[(7, 1, u(7000))], 0).unwrap_err(), DER_GRPVER);
        let r = primary_modify(ModOp::Add, &[(7, 11, u(7000)), (5, 0, u(1))], 2).unwrap();
        assert_eq!(r, ModResult { added: vec![(7, 11)], removed: vec![] });
        assert_eq!(version(), 2);
        assert_eq!(primary_modify(ModOp::Add, &[(8, 1, u(8000))], 2).unwrap_err(), DER_GRPVER);
        assert_eq!(uri(7, 2).unwrap(), "ofi+tcp://127.0.0.1:7002");
        let r = primary_modify(ModOp::Replace, &[(5, 0, u(1)), (9, 3, u(9000))], 3).unwrap();
        assert_eq!(r, ModResult { added: vec![(9, 3)], removed: vec![7] });
        assert_eq!(ranks(), vec![5, 9]);
        let r = primary_modify(ModOp::Remove, &[(9, 0, None), (42, 0, None)], 4).unwrap();
        assert_eq!(r, ModResult { added: vec![], removed: vec![9] });
        assert_eq!(ranks(), vec![5]);
        assert_eq!(uri(9, 0).unwrap_err(), -1019);
        clear();
        assert_eq!(primary_modify(ModOp::Add, &[(7, 1, u(7000))], 5).unwrap_err(), DER_GRPVER, "no self rank: no minimum");
        clear();
        assert_eq!(self_rank(), None);
    }
}

// ---- group configuration files and attached groups ------------------------------------

/// Where attach files live (`crt_group_config_path_set`, `CRT_ATTACH_INFO_PATH`).
static CONFIG_PATH: Mutex<Option<String>> = Mutex::new(None);
/// Groups attached from configuration files: name -> rank -> tag-0 URI.
static ATTACHED: Mutex<Option<HashMap<String, HashMap<u32, String>>>> = Mutex::new(None);

const CRT_MAX_ATTACH_PREFIX: usize = 256;
const DER_NOTDIR: i32 = -1027;

fn errno2der(e: &std::io::Error) -> i32 {
    match e.kind() {
        std::io::ErrorKind::NotFound => der::DER_NONEXIST,
        std::io::ErrorKind::PermissionDenied => der::DER_NO_PERM,
        _ => -1025, // DER_MISC
    }
}

/// `crt_group_config_path_set`: an existing directory (-DER_NOTDIR otherwise).
pub fn config_path_set(path: &str) -> Result<(), i32> {
    if path.len() >= CRT_MAX_ATTACH_PREFIX {
        return Err(der::DER_INVAL);
    }
    let md = std::fs::metadata(path).map_err(|e| errno2der(&e))?;
    if !md.is_dir() {
        return Err(DER_NOTDIR);
    }
    *CONFIG_PATH.lock().unwrap_or_else(|p| p.into_inner()) = Some(path.to_owned());
    Ok(())
}

/// Upstream's file: `<prefix>/<grpid>.attach_info_tmp` (prefix /tmp unless set).
pub fn config_file(grpid: &str) -> String {
    let p = CONFIG_PATH.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_else(|| "/tmp".to_owned());
    format!("{p}/{grpid}.attach_info_tmp")
}

/// `crt_group_config_save`: upstream's format, written to a temporary file and renamed into
/// place: `name <grpid>`, `size <n>`, `all` (or `self`), then one `<rank> <uri>` line per
/// member with a known tag-0 address (only this rank for `self`).
pub fn config_save(grpid: &str, forall: bool, self_uri: &str) -> Result<(), i32> {
    let (me, members) = {
        let g = book();
        let b = g.as_ref().ok_or(der::DER_INVAL)?;
        (b.self_rank.ok_or(der::DER_INVAL)?, b.members.keys().copied().collect::<Vec<u32>>())
    };
    let mut text = format!("name {grpid}\nsize {}\n{}\n", members.len(), if forall { "all" } else { "self" });
    for r in members {
        if !forall && r != me {
            continue;
        }
        let u = if r == me { self_uri.to_owned() } else { uri(r, 0)? };
        text.push_str(&format!("{r} {u}\n"));
    }
    let path = config_file(grpid);
    let tmp = format!("{path}.{}.tmp", std::process::id());
    std::fs::write(&tmp, text).map_err(|e| errno2der(&e))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        errno2der(&e)
    })
}

/// `crt_group_config_remove`.
pub fn config_remove(grpid: &str) -> Result<(), i32> {
    std::fs::remove_file(config_file(grpid)).map_err(|e| errno2der(&e))
}

/// Parses an attach file: the group's name and its `<rank> <uri>` lines.
pub fn config_parse(text: &str) -> Result<(String, Vec<(u32, String)>), i32> {
    let mut name = None;
    let mut ranks = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        match (it.next(), it.next()) {
            (Some("name"), Some(n)) => name = Some(n.to_owned()),
            (Some("size"), Some(_)) | (Some("all"), None) | (Some("self"), None) | (None, _) => {}
            (Some(r), Some(u)) => {
                let r: u32 = r.parse().map_err(|_| der::DER_INVAL)?;
                Uri::parse(u).map_err(|e| e.der())?;
                ranks.push((r, u.to_owned()));
            }
            _ => return Err(der::DER_INVAL),
        }
    }
    Ok((name.ok_or(der::DER_INVAL)?, ranks))
}

/// `crt_group_attach`: loads `grpid`'s file into an attached group (replacing an older one).
pub fn attach(grpid: &str) -> Result<usize, i32> {
    let text = std::fs::read_to_string(config_file(grpid)).map_err(|e| errno2der(&e))?;
    let (name, ranks) = config_parse(&text)?;
    if name != grpid {
        return Err(der::DER_INVAL);
    }
    let n = ranks.len();
    ATTACHED.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(HashMap::new).insert(name, ranks.into_iter().collect());
    Ok(n)
}

/// `crt_group_detach`.
pub fn detach(grpid: &str) -> Result<(), i32> {
    let mut g = ATTACHED.lock().unwrap_or_else(|p| p.into_inner());
    g.as_mut().and_then(|m| m.remove(grpid)).map(|_| ()).ok_or(der::DER_NONEXIST)
}

/// The URI of rank:tag in an attached group (tag ports derived from tag 0's), -DER_OOG.
pub fn attached_uri(grpid: &str, rank: u32, tag: u32) -> Result<String, i32> {
    let base = {
        let g = ATTACHED.lock().unwrap_or_else(|p| p.into_inner());
        g.as_ref().and_then(|m| m.get(grpid)).and_then(|r| r.get(&rank)).cloned().ok_or(DER_OOG_)?
    };
    derive(&base, tag)
}

/// Sizes of an attached group.
pub fn attached_size(grpid: &str) -> Option<u32> {
    let g = ATTACHED.lock().unwrap_or_else(|p| p.into_inner());
    g.as_ref().and_then(|m| m.get(grpid)).map(|r| r.len() as u32)
}

fn derive(base: &str, tag: u32) -> Result<String, i32> {
    if tag == 0 {
        return Ok(base.to_owned());
    }
    let mut u = Uri::parse(base).map_err(|e| e.der())?;
    match &mut u.addr {
        Addr::Inet(sa) => {
            let port = sa.port() as u32 + tag;
            sa.set_port(u16::try_from(port).map_err(|_| der::DER_INVAL)?);
            Ok(u.to_string())
        }
        _ => Err(DER_OOG_),
    }
}

/// Forgets attached groups (the last `crt_finalize`).
pub fn clear_attached() {
    *ATTACHED.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn parse_format() {
        let (n, r) = config_parse("name srv\nsize 2\nall\n0 ofi+tcp://127.0.0.1:100\n1 ofi+tcp://127.0.0.1:200\n").unwrap();
        assert_eq!(n, "srv");
        assert_eq!(r, vec![(0, "ofi+tcp://127.0.0.1:100".to_string()), (1, "ofi+tcp://127.0.0.1:200".to_string())]);
        assert_eq!(config_parse("size 2\n").unwrap_err(), der::DER_INVAL);
        assert_eq!(config_parse("name x\nzz garbage\n").unwrap_err(), der::DER_INVAL);
        assert_eq!(derive("ofi+tcp://127.0.0.1:100", 2).unwrap(), "ofi+tcp://127.0.0.1:102");
        assert_eq!(config_path_set("/nonexistent/x").unwrap_err(), der::DER_NONEXIST);
        assert_eq!(config_path_set("/proc/self/status").unwrap_err(), DER_NOTDIR);
    }
}

/// `crt_group_view_create`: an empty group named `grpid` whose members are added with
/// `crt_group_primary_rank_add` (a client's view of a server group).
pub fn view_create(grpid: &str) {
    ATTACHED.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(HashMap::new).entry(grpid.to_owned()).or_default();
}

/// Adds rank's tag-0 URI to an attached group or view.
pub fn attached_rank_add(grpid: &str, rank: u32, uri: &str) -> Result<(), i32> {
    Uri::parse(uri).map_err(|e| e.der())?;
    let mut g = ATTACHED.lock().unwrap_or_else(|p| p.into_inner());
    let m = g.as_mut().and_then(|m| m.get_mut(grpid)).ok_or(der::DER_INVAL)?;
    m.insert(rank, uri.to_owned());
    Ok(())
}

/// The members of an attached group or view, ascending.
pub fn attached_ranks(grpid: &str) -> Option<Vec<u32>> {
    let g = ATTACHED.lock().unwrap_or_else(|p| p.into_inner());
    g.as_ref().and_then(|m| m.get(grpid)).map(|r| {
        let mut v: Vec<u32> = r.keys().copied().collect();
        v.sort_unstable();
        v
    })
}

/// Whether `grpid` names an attached group or view.
pub fn is_attached(grpid: &str) -> bool {
    ATTACHED.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|m| m.contains_key(grpid))
}

/// Enters a looked-up address of rank:tag (primary group for `None`, else an attached group or
/// view, whose tag-0 address it must be for a tag above 0 to be derived).
pub fn cache_insert(grp: Option<&str>, rank: u32, tag: u32, uri: &str) -> Result<(), i32> {
    Uri::parse(uri).map_err(|e| e.der())?;
    match grp {
        None => {
            book().get_or_insert_with(Book::default).uris.insert((rank, tag), uri.to_owned());
            Ok(())
        }
        Some(g) if tag == 0 => attached_rank_add(g, rank, uri),
        Some(_) => Err(der::DER_INVAL),
    }
}
