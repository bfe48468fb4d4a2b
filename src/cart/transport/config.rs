//! Provider selection and the network environment, with upstream CaRT's semantics
//! (crt_init.c / crt_hg.c, README.env):
//! - `D_PROVIDER` is required (`-DER_INVAL` when unset); an unknown name is `-DER_NONEXIST`.
//!   "ofi+tcp" and "ofi+tcp;ofi_rxm" both run libfabric's `tcp;ofi_rxm` RDM stack; "ofi+shm"
//!   is libfabric's shared-memory provider for peers on one node. A comma-separated list is a
//!   multi-provider setup, allowed on servers only (the first entry is the primary provider,
//!   and the first entry of each other list goes with it); on a client it is `-DER_INVAL`.
//! - `D_INTERFACE` / `D_DOMAIN`: comma-separated lists; context creation picks one by index.
//!   When domains are given their count must equal the interfaces' (`-DER_INVAL`). For tcp the
//!   libfabric domain is the interface name when `D_DOMAIN` is unset.
//! - `D_PORT`: servers only; context `i` listens on `D_PORT + i` for providers with contiguous
//!   endpoints (tcp). A value that is not an integer is ignored (random ports). Unset: random.
//! - `D_PORT_AUTO_ADJUST`: upstream applies it to CXI only (port folded into 0..511); parsed and
//!   kept, and [`adjust_port`] implements the rule, but no provider here needs it.
use super::{Error, Result};

/// A network provider, as named by upstream's `D_PROVIDER` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// "ofi+tcp": libfabric tcp under ofi_rxm.
    OfiTcp,
    /// "ofi+tcp;ofi_rxm": the same stack named explicitly.
    OfiTcpRxm,
    /// "ofi+shm": libfabric shared memory (one node).
    OfiShm,
}

/// Upstream's provider names this transport knows but does not implement (no such hardware
/// or library here): they fail with `-DER_NOSYS` rather than `-DER_NONEXIST`.
const KNOWN_UNSUPPORTED: &[&str] =
    &["sm", "ofi+verbs;ofi_rxm", "ofi+verbs", "ofi+cxi", "ofi+opx", "ucx+ud_x"];

impl Provider {
    /// Parses a `D_PROVIDER` string (exact match, as upstream's crt_str_to_provider).
    pub fn parse(s: &str) -> Result<Provider> {
        match s {
            "ofi+tcp" => Ok(Provider::OfiTcp),
            "ofi+tcp;ofi_rxm" => Ok(Provider::OfiTcpRxm),
            "ofi+shm" => Ok(Provider::OfiShm),
            _ if KNOWN_UNSUPPORTED.contains(&s) || s.starts_with("ucx+") => Err(Error::Unsupported(s.into())),
            _ => Err(Error::UnknownProvider(s.into())),
        }
    }

    /// The provider's name in URIs and `D_PROVIDER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OfiTcp => "ofi+tcp",
            Provider::OfiTcpRxm => "ofi+tcp;ofi_rxm",
            Provider::OfiShm => "ofi+shm",
        }
    }

    /// The libfabric provider (fi_info's prov_name) it runs on.
    pub fn libfabric_name(self) -> &'static str {
        match self {
            Provider::OfiTcp | Provider::OfiTcpRxm => "tcp;ofi_rxm",
            Provider::OfiShm => "shm",
        }
    }

    /// Contexts get consecutive ports from `D_PORT` (upstream's nad_contig_eps).
    pub fn contig_eps(self) -> bool {
        !matches!(self, Provider::OfiShm)
    }

    /// Addresses are IPv4 sockaddrs (tcp) rather than names (shm).
    pub fn is_inet(self) -> bool {
        !matches!(self, Provider::OfiShm)
    }

    /// Whether two providers put the same bytes on the wire (the two tcp names do).
    pub fn same_network(self, other: Provider) -> bool {
        self.is_inet() == other.is_inet()
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Default largest message sent eagerly (header included); larger ones go by rendezvous.
pub const DEFAULT_EAGER_SIZE: usize = 64 * 1024;

/// Network settings of a process: what upstream keeps in its per-provider NA config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    pub provider: Provider,
    pub interfaces: Vec<String>,
    pub domains: Vec<String>,
    /// Port of context 0 (servers with `D_PORT` set); `None`: the system picks one.
    pub port: Option<u16>,
    pub port_auto_adjust: bool,
    /// A server process (upstream's crt_is_service()).
    pub service: bool,
}

fn parse_bool(v: &str) -> bool {
    let v = v.trim();
    match v.parse::<i64>() {
        Ok(n) => n != 0,
        Err(_) => matches!(v.chars().next(), Some('y' | 'Y' | 't' | 'T')),
    }
}

fn split_list(v: Option<&str>) -> Vec<String> {
    match v {
        Some(s) if !s.is_empty() => s.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// `D_PORT_AUTO_ADJUST`'s rule (upstream applies it to CXI): ports above 511 fold into 0..511.
pub fn adjust_port(port: u32) -> u32 {
    if port > 511 {
        port % 512
    } else {
        port
    }
}

impl NetConfig {
    /// A configuration for `provider` with no interface, domain or fixed port.
    pub fn new(provider: Provider) -> NetConfig {
        NetConfig {
            provider,
            interfaces: Vec::new(),
            domains: Vec::new(),
            port: None,
            port_auto_adjust: false,
            service: false,
        }
    }

    /// Reads `D_PROVIDER`, `D_INTERFACE`, `D_DOMAIN`, `D_PORT`, `D_PORT_AUTO_ADJUST` from the
    /// environment.
    pub fn from_env(service: bool) -> Result<NetConfig> {
        NetConfig::from_vars(service, |k| std::env::var(k).ok())
    }

    /// As [`NetConfig::from_env`], with the variables looked up through `get`.
    pub fn from_vars(service: bool, get: impl Fn(&str) -> Option<String>) -> Result<NetConfig> {
        let provider = get("D_PROVIDER").ok_or_else(|| Error::InvalidArg("no provider specified (D_PROVIDER)".into()))?;
        let mut interface = get("D_INTERFACE");
        let mut domain = get("D_DOMAIN");
        let mut port = get("D_PORT");
        let mut prov_str = provider.as_str();
        if provider.contains(',') {
            if !service {
                return Err(Error::InvalidArg(
                    "several providers in D_PROVIDER: a secondary provider is for servers only".into(),
                ));
            }
            prov_str = provider.split(',').next().unwrap_or("");
            let first = |v: Option<String>| v.map(|s| s.split(',').next().unwrap_or("").to_owned());
            interface = first(interface);
            domain = first(domain);
            port = first(port);
        }
        let provider = Provider::parse(prov_str)?;
        let interfaces = split_list(interface.as_deref());
        let domains = split_list(domain.as_deref());
        if !domains.is_empty() && domains.len() != interfaces.len() {
            return Err(Error::InvalidArg(format!(
                "mismatched number of domains ({}) and interfaces ({})",
                domains.len(),
                interfaces.len()
            )));
        }
        let port_auto_adjust = get("D_PORT_AUTO_ADJUST").is_some_and(|v| parse_bool(&v));
        let mut port_num = None;
        if service {
            if let Some(p) = port.filter(|p| !p.is_empty()) {
                // Upstream: a D_PORT that is not an integer is ignored.
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    let v: u32 = p.parse().map_err(|_| Error::InvalidArg(format!("D_PORT {p} out of range")))?;
                    let v = u16::try_from(v).map_err(|_| Error::InvalidArg(format!("D_PORT {p} out of range")))?;
                    port_num = Some(v);
                }
            }
        }
        Ok(NetConfig { provider, interfaces, domains, port: port_num, port_auto_adjust, service })
    }

    /// The port context `ctx_idx` binds: `D_PORT + idx` for contiguous-endpoint providers.
    pub fn context_port(&self, ctx_idx: u32) -> Result<Option<u16>> {
        match self.port {
            Some(p) if self.provider.contig_eps() => u16::try_from(p as u32 + ctx_idx)
                .map(Some)
                .map_err(|_| Error::InvalidArg(format!("port {p} + context {ctx_idx} out of range"))),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(kv: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn provider_names() {
        assert_eq!(Provider::parse("ofi+tcp").unwrap(), Provider::OfiTcp);
        assert_eq!(Provider::parse("ofi+tcp;ofi_rxm").unwrap(), Provider::OfiTcpRxm);
        assert_eq!(Provider::parse("ofi+shm").unwrap(), Provider::OfiShm);
        assert_eq!(Provider::OfiTcp.libfabric_name(), "tcp;ofi_rxm");
        assert_eq!(Provider::OfiTcpRxm.libfabric_name(), "tcp;ofi_rxm");
        assert_eq!(Provider::OfiShm.libfabric_name(), "shm");
        assert_eq!(Provider::parse("ofi+cxi").unwrap_err().der(), crate::transport::der::DER_NOSYS);
        assert_eq!(Provider::parse("bogus").unwrap_err().der(), crate::transport::der::DER_NONEXIST);
        // exact match only, as upstream
        assert!(matches!(Provider::parse("ofi+tcpx"), Err(Error::UnknownProvider(_))));
        assert!(Provider::OfiTcp.same_network(Provider::OfiTcpRxm));
        assert!(!Provider::OfiTcp.same_network(Provider::OfiShm));
    }

    #[test]
    fn env_semantics() {
        let e = NetConfig::from_vars(false, vars(&[])).unwrap_err();
        assert_eq!(e.der(), crate::transport::der::DER_INVAL);
        let c = NetConfig::from_vars(true, vars(&[("D_PROVIDER", "ofi+tcp"), ("D_INTERFACE", "lo"), ("D_PORT", "31416")])).unwrap();
        assert_eq!(c.interfaces, vec!["lo"]);
        assert_eq!(c.port, Some(31416));
        assert_eq!(c.context_port(0).unwrap(), Some(31416));
        assert_eq!(c.context_port(3).unwrap(), Some(31419));
        // D_PORT is for servers only
        let c = NetConfig::from_vars(false, vars(&[("D_PROVIDER", "ofi+tcp"), ("D_PORT", "31416")])).unwrap();
        assert_eq!(c.port, None);
        assert_eq!(c.context_port(1).unwrap(), None);
        // a D_PORT that is not an integer is ignored
        let c = NetConfig::from_vars(true, vars(&[("D_PROVIDER", "ofi+tcp"), ("D_PORT", "12ab")])).unwrap();
        assert_eq!(c.port, None);
        assert!(NetConfig::from_vars(true, vars(&[("D_PROVIDER", "ofi+tcp"), ("D_PORT", "70000")])).is_err());
        // shm: no contiguous ports
        let c = NetConfig::from_vars(true, vars(&[("D_PROVIDER", "ofi+shm"), ("D_PORT", "100")])).unwrap();
        assert_eq!(c.context_port(2).unwrap(), None);
        // lists
        let c = NetConfig::from_vars(false, vars(&[("D_PROVIDER", "ofi+tcp"), ("D_INTERFACE", "lo,eth0"), ("D_DOMAIN", "lo,eth0")])).unwrap();
        assert_eq!(c.interfaces.len(), 2);
        let e = NetConfig::from_vars(false, vars(&[("D_PROVIDER", "ofi+tcp"), ("D_INTERFACE", "lo,eth0"), ("D_DOMAIN", "lo")])).unwrap_err();
        assert_eq!(e.der(), crate::transport::der::DER_INVAL);
        // multi-provider: servers only
        assert!(NetConfig::from_vars(false, vars(&[("D_PROVIDER", "ofi+tcp,ofi+shm")])).is_err());
        let c = NetConfig::from_vars(true, vars(&[("D_PROVIDER", "ofi+tcp,ofi+shm"), ("D_INTERFACE", "lo,x"), ("D_PORT", "2000,3000")])).unwrap();
        assert_eq!((c.provider, c.port, c.interfaces.clone()), (Provider::OfiTcp, Some(2000), vec!["lo".to_string()]));
        assert!(!c.port_auto_adjust);
        let c = NetConfig::from_vars(true, vars(&[("D_PROVIDER", "ofi+tcp"), ("D_PORT_AUTO_ADJUST", "1")])).unwrap();
        assert!(c.port_auto_adjust);
        assert_eq!(adjust_port(31416), 31416 % 512);
        assert_eq!(adjust_port(511), 511);
    }
}
