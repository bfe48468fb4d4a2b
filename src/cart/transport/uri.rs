//! Endpoint URIs in upstream's textual form, `<provider>://<address>`:
//! `ofi+tcp://127.0.0.1:31416` (also `ofi+tcp;ofi_rxm://...`), and `ofi+shm://<name>` where the
//! name is what libfabric's shm provider calls the endpoint (`fi_shm://` stripped). As in
//! upstream's crt_hg_parse_uri, only the first space-separated word counts (upstream appends
//! a second, shared-memory address after a space).
use std::net::{Ipv4Addr, SocketAddrV4};

use super::config::Provider;
use super::{Error, Result};

/// Largest URI upstream accepts (CRT_ADDR_STR_MAX_LEN).
pub const ADDR_STR_MAX_LEN: usize = 128;

const SHM_PREFIX: &str = "fi_shm://";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addr {
    Inet(SocketAddrV4),
    Shm(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uri {
    pub provider: Provider,
    pub addr: Addr,
}

impl Uri {
    pub fn parse(s: &str) -> Result<Uri> {
        let bad = |why: &str| Error::InvalidUri(format!("{why}: {s:?}"));
        if s.len() >= ADDR_STR_MAX_LEN {
            return Err(bad("too long"));
        }
        let word = s.split_whitespace().next().ok_or_else(|| bad("empty"))?;
        let (prov, addr) = word.split_once("://").ok_or_else(|| bad("no '://'"))?;
        let provider = Provider::parse(prov).map_err(|e| Error::InvalidUri(format!("{e} in {s:?}")))?;
        if addr.is_empty() {
            return Err(bad("no address"));
        }
        let addr = if provider.is_inet() {
            let (ip, port) = addr.rsplit_once(':').ok_or_else(|| bad("no port"))?;
            let ip: Ipv4Addr = ip.parse().map_err(|_| bad("not an IPv4 address"))?;
            let port: u16 = port.parse().map_err(|_| bad("bad port"))?;
            if port == 0 || ip.is_unspecified() {
                return Err(bad("unspecified address or port"));
            }
            Addr::Inet(SocketAddrV4::new(ip, port))
        } else {
            if !addr.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad("bad shm name"));
            }
            Addr::Shm(addr.to_owned())
        };
        Ok(Uri { provider, addr })
    }

    /// The address in the provider's raw form (what fi_av_insert takes).
    pub fn to_raw(&self) -> Vec<u8> {
        match &self.addr {
            Addr::Inet(sa) => {
                let mut v = vec![0u8; 16];
                v[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
                v[2..4].copy_from_slice(&sa.port().to_be_bytes());
                v[4..8].copy_from_slice(&sa.ip().octets());
                v
            }
            Addr::Shm(name) => {
                let mut v = format!("{SHM_PREFIX}{name}").into_bytes();
                v.push(0);
                v
            }
        }
    }

    /// The URI of a raw address as fi_getname returns it.
    pub fn from_raw(provider: Provider, raw: &[u8]) -> Result<Uri> {
        let bad = || Error::InvalidUri(format!("raw address {raw:?}"));
        let addr = if provider.is_inet() {
            if raw.len() < 8 || u16::from_ne_bytes([raw[0], raw[1]]) != libc::AF_INET as u16 {
                return Err(bad());
            }
            let port = u16::from_be_bytes([raw[2], raw[3]]);
            Addr::Inet(SocketAddrV4::new(Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]), port))
        } else {
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            let s = std::str::from_utf8(&raw[..end]).map_err(|_| bad())?;
            Addr::Shm(s.strip_prefix(SHM_PREFIX).unwrap_or(s).to_owned())
        };
        Ok(Uri { provider, addr })
    }
}

impl std::fmt::Display for Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.addr {
            Addr::Inet(sa) => write!(f, "{}://{}", self.provider, sa),
            Addr::Shm(n) => write!(f, "{}://{}", self.provider, n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_round_trip() {
        let u = Uri::parse("ofi+tcp://127.0.0.1:31416").unwrap();
        assert_eq!(u.provider, Provider::OfiTcp);
        assert_eq!(u.addr, Addr::Inet("127.0.0.1:31416".parse().unwrap()));
        assert_eq!(u.to_string(), "ofi+tcp://127.0.0.1:31416");
        let raw = u.to_raw();
        assert_eq!(raw.len(), 16);
        assert_eq!(&raw[2..4], &31416u16.to_be_bytes());
        assert_eq!(Uri::from_raw(Provider::OfiTcp, &raw).unwrap(), u);
        let u = Uri::parse("ofi+tcp;ofi_rxm://10.8.1.179:10001 na+sm://1234/0").unwrap();
        assert_eq!(u.to_string(), "ofi+tcp;ofi_rxm://10.8.1.179:10001");
    }

    #[test]
    fn shm_round_trip() {
        let u = Uri::parse("ofi+shm://24148:0:0").unwrap();
        assert_eq!(u.to_raw(), b"fi_shm://24148:0:0\0");
        assert_eq!(Uri::from_raw(Provider::OfiShm, b"fi_shm://24148:0:0\0").unwrap(), u);
    }

    #[test]
    fn bad_uris() {
        for s in [
            "",
            "   ",
            "ofi+tcp",
            "ofi+tcp://",
            "ofi+tcp://127.0.0.1",
            "ofi+tcp://127.0.0.1:",
            "ofi+tcp://127.0.0.1:99999",
            "ofi+tcp://127.0.0.1:0",
            "ofi+tcp://0.0.0.0:1234",
            "ofi+tcp://localhost:1234",
            "ofi+tcp://300.1.1.1:1234",
            "bogus://127.0.0.1:1234",
            "ofi+cxi://0x1",
            "ofi+shm://",
            "://127.0.0.1:1",
        ] {
            let e = Uri::parse(s).unwrap_err();
            assert!(matches!(e, Error::InvalidUri(_)), "{s:?}: {e:?}");
            assert_eq!(e.der(), crate::transport::der::DER_INVAL);
        }
        assert!(Uri::parse(&format!("ofi+shm://{}", "x".repeat(200))).is_err());
        assert!(Uri::from_raw(Provider::OfiTcp, &[1, 2]).is_err());
    }
}
