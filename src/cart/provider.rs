//! CaRT's provider table (upstream `crt_hg.c`'s `crt_na_dict` and the per-provider queries):
//! the names `D_PROVIDER` and URIs use, each provider's `crt_provider_t` number, whether its
//! contexts bind an explicit port and get consecutive endpoints. The C table and the exported
//! queries are in `capi::crt_provider`; this is the safe logic they share.
//!
//! The table is upstream's, entry for entry, with one addition: this library's shared-memory
//! provider is libfabric's, named "ofi+shm" (upstream's is Mercury's "sm"), so "ofi+shm" is the
//! second name of the `CRT_PROV_SM` entry (its flags, no port and no contiguous endpoints, are
//! those of "ofi+shm").
use crate::sys::{
    crt_provider_t, CRT_PROV_OFI_CXI, CRT_PROV_OFI_OPX, CRT_PROV_OFI_TCP, CRT_PROV_OFI_TCP_RXM,
    CRT_PROV_OFI_VERBS_RXM, CRT_PROV_SM, CRT_PROV_UCX, CRT_PROV_UNKNOWN,
};

/// One entry of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub alt: Option<&'static str>,
    pub prov: crt_provider_t,
    pub port_bind: bool,
    pub contig_eps: bool,
}

const fn e(name: &'static str, alt: Option<&'static str>, prov: crt_provider_t, port_bind: bool, contig_eps: bool) -> Entry {
    Entry { name, alt, prov, port_bind, contig_eps }
}

/// The providers, in upstream's order (`crt_na_dict` adds the NULL terminator).
pub const TABLE: [Entry; 7] = [
    e("sm", Some("ofi+shm"), CRT_PROV_SM, false, false),
    e("ofi+verbs;ofi_rxm", Some("ofi+verbs"), CRT_PROV_OFI_VERBS_RXM, true, true),
    e("ofi+tcp", None, CRT_PROV_OFI_TCP, true, true),
    e("ofi+tcp;ofi_rxm", None, CRT_PROV_OFI_TCP_RXM, true, true),
    e("ofi+cxi", None, CRT_PROV_OFI_CXI, false, true),
    e("ofi+opx", None, CRT_PROV_OFI_OPX, true, false),
    e("ucx+ud_x", None, CRT_PROV_UCX, true, true),
];

/// The default UCX name and the prefix that selects UCX with a transport of the caller's.
pub const UCX_PREFIX: &str = "ucx";

/// What `crt_str_to_provider` makes of a name, given each entry's current names (the UCX
/// entry's may have been replaced by an earlier call): the provider, and for a "ucx+X" name
/// that is not the UCX entry's current one, the name to install as that entry's.
pub fn str_to_provider<'a>(s: &'a str, names: &[(crt_provider_t, &str, Option<&str>)]) -> (crt_provider_t, Option<&'a str>) {
    for &(prov, name, alt) in names {
        if s == name || alt == Some(s) {
            return (prov, None);
        }
        if prov == CRT_PROV_UCX && s.starts_with(UCX_PREFIX) {
            let install = (s.len() > UCX_PREFIX.len() && s.contains('+')).then_some(s);
            return (prov, install);
        }
    }
    (CRT_PROV_UNKNOWN, None)
}

/// Upstream's `crt_prov_str_to_prov`: exact names only.
pub fn prov_str_to_prov(s: &str, names: &[(crt_provider_t, &str, Option<&str>)]) -> crt_provider_t {
    names.iter().find(|(_, n, a)| *n == s || *a == Some(s)).map_or(CRT_PROV_UNKNOWN, |e| e.0)
}

/// The entry of a provider number.
pub fn entry(prov: crt_provider_t) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.prov == prov)
}

/// The provider number of the transport this library runs (`D_PROVIDER`'s name).
pub fn of_transport(p: crate::transport::config::Provider) -> crt_provider_t {
    let names: Vec<_> = TABLE.iter().map(|e| (e.prov, e.name, e.alt)).collect();
    prov_str_to_prov(p.as_str(), &names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::config::Provider;

    fn names() -> Vec<(crt_provider_t, &'static str, Option<&'static str>)> {
        TABLE.iter().map(|e| (e.prov, e.name, e.alt)).collect()
    }

    #[test]
    fn exact_names() {
        let n = names();
        assert_eq!(str_to_provider("ofi+tcp", &n), (CRT_PROV_OFI_TCP, None));
        assert_eq!(str_to_provider("ofi+tcp;ofi_rxm", &n), (CRT_PROV_OFI_TCP_RXM, None));
        assert_eq!(str_to_provider("ofi+verbs", &n), (CRT_PROV_OFI_VERBS_RXM, None));
        assert_eq!(str_to_provider("sm", &n), (CRT_PROV_SM, None));
        assert_eq!(str_to_provider("ofi+shm", &n), (CRT_PROV_SM, None));
        assert_eq!(str_to_provider("ofi+tcpx", &n), (CRT_PROV_UNKNOWN, None));
        assert_eq!(str_to_provider("ofi+tc", &n), (CRT_PROV_UNKNOWN, None));
        assert_eq!(str_to_provider("", &n), (CRT_PROV_UNKNOWN, None));
        assert_eq!(prov_str_to_prov("ofi+cxi", &n), CRT_PROV_OFI_CXI);
        assert_eq!(prov_str_to_prov("ucx+tcp", &n), CRT_PROV_UNKNOWN);
    }

    #[test]
    fn ucx_names() {
        let n = names();
        assert_eq!(str_to_provider("ucx+ud_x", &n), (CRT_PROV_UCX, None));
        assert_eq!(str_to_provider("ucx+tcp", &n), (CRT_PROV_UCX, Some("ucx+tcp")));
        // "ucx" alone or without '+': UCX with the default name
        assert_eq!(str_to_provider("ucx", &n), (CRT_PROV_UCX, None));
        assert_eq!(str_to_provider("ucxtcp", &n), (CRT_PROV_UCX, None));
    }

    #[test]
    fn flags_and_transport() {
        assert!(entry(CRT_PROV_OFI_TCP).unwrap().contig_eps);
        assert!(entry(CRT_PROV_OFI_TCP).unwrap().port_bind);
        assert!(!entry(CRT_PROV_OFI_CXI).unwrap().port_bind);
        assert!(!entry(CRT_PROV_OFI_OPX).unwrap().contig_eps);
        assert!(entry(crate::sys::CRT_PROV_OFI_GNI).is_none());
        assert_eq!(of_transport(Provider::OfiTcp), CRT_PROV_OFI_TCP);
        assert_eq!(of_transport(Provider::OfiTcpRxm), CRT_PROV_OFI_TCP_RXM);
        assert_eq!(of_transport(Provider::OfiShm), CRT_PROV_SM);
        // the shared-memory entry's flags are those of this library's shm transport
        assert_eq!(entry(CRT_PROV_SM).unwrap().contig_eps, Provider::OfiShm.contig_eps());
    }
}
