//! `crt_protocol_info_get` (upstream: Mercury's `HG_Get_na_protocol_info`): which transport
//! classes, protocols and devices this library can use, for the control plane's fabric scan.
use crate::transport::der;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolInfo {
    pub class_name: String,
    pub protocol_name: String,
    pub device_name: String,
}

/// Names of the network interfaces with an IPv4 address, in the system's order, once each.
fn ipv4_interfaces() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Ok(list) = ifaddr_names() {
        for n in list {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

fn ifaddr_names() -> Result<Vec<String>, ()> {
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    let mut names = Vec::new();
    // SAFETY: getifaddrs fills a list released with freeifaddrs below; each entry's name is a
    // valid C string and ifa_addr, when non-NULL, points to a sockaddr.
    unsafe {
        if libc::getifaddrs(&mut ifap) != 0 {
            return Err(());
        }
        let mut p = ifap;
        while !p.is_null() {
            let ifa = &*p;
            if !ifa.ifa_addr.is_null() && (*ifa.ifa_addr).sa_family as i32 == libc::AF_INET {
                names.push(std::ffi::CStr::from_ptr(ifa.ifa_name).to_string_lossy().into_owned());
            }
            p = ifa.ifa_next;
        }
        libc::freeifaddrs(ifap);
    }
    Ok(names)
}

/// Every (class, protocol, device) this transport offers, filtered as Mercury filters its
/// info string: `NULL` for all, `class+protocol` (`ofi+tcp`), a class (`ofi`) or a protocol
/// (`tcp`). Nothing matching: -DER_PROTO (Mercury's "protocol not supported").
pub fn list(filter: Option<&str>) -> Result<Vec<ProtocolInfo>, i32> {
    let mut all = Vec::new();
    for dev in ipv4_interfaces() {
        for proto in ["tcp", "tcp;ofi_rxm"] {
            all.push(ProtocolInfo { class_name: "ofi".into(), protocol_name: proto.into(), device_name: dev.clone() });
        }
    }
    all.push(ProtocolInfo { class_name: "ofi".into(), protocol_name: "shm".into(), device_name: "shm".into() });
    let keep = |p: &ProtocolInfo| match filter {
        None | Some("") => true,
        Some(f) => match f.split_once('+') {
            Some((class, proto)) => p.class_name == class && (proto.is_empty() || p.protocol_name == proto),
            None => p.class_name == f || p.protocol_name == f,
        },
    };
    let v: Vec<ProtocolInfo> = all.into_iter().filter(keep).collect();
    if v.is_empty() {
        return Err(der::DER_PROTO);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let all = list(None).unwrap();
        assert!(all.iter().any(|p| p.protocol_name == "tcp" && p.device_name == "lo"));
        assert!(all.iter().any(|p| p.protocol_name == "shm"));
        let tcp = list(Some("ofi+tcp")).unwrap();
        assert!(tcp.iter().all(|p| p.protocol_name == "tcp"));
        assert_eq!(list(Some("tcp")).unwrap(), tcp);
        assert_eq!(list(Some("ofi")).unwrap(), all);
        assert_eq!(list(Some("ofi+shm")).unwrap().len(), 1);
        assert_eq!(list(Some("na+sm")).unwrap_err(), der::DER_PROTO);
        assert_eq!(list(Some("verbs")).unwrap_err(), der::DER_PROTO);
    }
}
