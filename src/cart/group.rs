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
    uris: HashMap<(u32, u32), String>,
}

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
    book().get_or_insert_with(Book::default).uris.insert((rank, 0), uri.to_owned());
    Ok(())
}

/// Forgets a rank (its every tag).
pub fn rank_remove(rank: u32) -> Result<(), i32> {
    let mut g = book();
    let b = g.as_mut().ok_or(der::DER_NONEXIST)?;
    let before = b.uris.len();
    b.uris.retain(|(r, _), _| *r != rank);
    if b.uris.len() == before {
        return Err(der::DER_NONEXIST);
    }
    Ok(())
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
        rank_remove(1).unwrap();
        assert_eq!(uri(1, 0).unwrap_err(), -1019);
        assert_eq!(rank_remove(1).unwrap_err(), der::DER_NONEXIST);
        clear();
        assert_eq!(self_rank(), None);
    }
}
