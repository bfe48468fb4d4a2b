//! The opcode map (upstream `crt_register.c`): protocols register contiguous opcode ranges,
//! `opc = base | version << 16 | index` (`CRT_PROTO_OPC`); each opcode keeps its body format,
//! handler and feature flags. The C layer stores its pointers as plain addresses.
use crate::init::DER_UNREG;
use crate::transport::der;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

pub const CRT_PROTO_MAX_VER: u32 = 0xFF;
pub const CRT_PROTO_MAX_COUNT: u32 = 0xFFFF;
pub const CRT_PROTO_BASEOPC_MASK: u32 = 0xFF00_0000;
pub const CRT_PROTO_VER_MASK: u32 = 0x00FF_0000;
pub const CRT_PROTO_COUNT_MASK: u32 = 0x0000_FFFF;
pub const CRT_RPC_FEAT_NO_REPLY: u32 = 1 << 1;
pub const CRT_RPC_FEAT_NO_TIMEOUT: u32 = 1 << 2;
pub const CRT_RPC_FEAT_QUEUE_FRONT: u32 = 1 << 3;

/// `CRT_PROTO_OPC`.
pub const fn proto_opc(base: u32, ver: u32, idx: u32) -> u32 {
    base | ver << 16 | idx
}

/// One registered opcode (upstream `struct crt_opc_info`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpcInfo {
    pub opc: u32,
    /// Address of the `struct crt_req_format` (0: no body).
    pub req_fmt: usize,
    pub size_in: usize,
    pub size_out: usize,
    /// Address of the handler (0: none; a client-only RPC).
    pub handler: usize,
    /// Address of the collective ops (0: none).
    pub co_ops: usize,
    pub no_reply: bool,
    pub no_timeout: bool,
    pub queue_front: bool,
}

/// One RPC of a protocol being registered.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpcFormat {
    pub req_fmt: usize,
    pub size_in: usize,
    pub size_out: usize,
    pub handler: usize,
    pub co_ops: usize,
    pub flags: u32,
}

#[derive(Default)]
struct Map {
    opcs: HashMap<u32, OpcInfo>,
    /// Versions registered for each base opcode (what a protocol query answers).
    versions: HashMap<u32, BTreeSet<u32>>,
}

static MAP: Mutex<Option<Map>> = Mutex::new(None);

fn map() -> MutexGuard<'static, Option<Map>> {
    MAP.lock().unwrap_or_else(|p| p.into_inner())
}

/// Upstream `validate_base_opcode`: only the top byte, not 0, not the internal base.
pub fn valid_base(base: u32) -> bool {
    base != 0 && base & !CRT_PROTO_BASEOPC_MASK == 0 && base != CRT_PROTO_BASEOPC_MASK
}

/// `crt_proto_register` (`internal`: the base reserved for cart's own RPCs). -DER_INVAL for a
/// bad base, version above 0xFF, count 0 or above 0xFFFF; -DER_EXIST when an opcode of the
/// range is already registered (nothing of the range is then added).
pub fn proto_register(base: u32, ver: u32, rpcs: &[RpcFormat], internal: bool) -> Result<(), i32> {
    let base_ok = if internal { base == CRT_PROTO_BASEOPC_MASK || base == 0xFE00_0000 /* SWIM's (crt_swim) */ } else { valid_base(base) };
    if !base_ok || ver > CRT_PROTO_MAX_VER || rpcs.is_empty() || rpcs.len() as u64 > CRT_PROTO_MAX_COUNT as u64 {
        return Err(der::DER_INVAL);
    }
    let mut g = map();
    let m = g.get_or_insert_with(Map::default);
    let opcs: Vec<u32> = (0..rpcs.len() as u32).map(|i| proto_opc(base, ver, i)).collect();
    if opcs.iter().any(|o| m.opcs.contains_key(o)) {
        return Err(crate::init::DER_EXIST);
    }
    for (opc, r) in opcs.into_iter().zip(rpcs) {
        m.opcs.insert(
            opc,
            OpcInfo {
                opc,
                req_fmt: r.req_fmt,
                size_in: r.size_in,
                size_out: r.size_out,
                handler: r.handler,
                co_ops: r.co_ops,
                no_reply: r.flags & CRT_RPC_FEAT_NO_REPLY != 0,
                no_timeout: r.flags & CRT_RPC_FEAT_NO_TIMEOUT != 0,
                queue_front: r.flags & CRT_RPC_FEAT_QUEUE_FRONT != 0,
            },
        );
    }
    m.versions.entry(base).or_default().insert(ver);
    Ok(())
}

/// The registered opcode, if any.
pub fn lookup(opc: u32) -> Option<OpcInfo> {
    map().as_ref().and_then(|m| m.opcs.get(&opc).copied())
}

/// Whether version `ver` of protocol `base` is registered (upstream `crt_proto_lookup` on
/// `CRT_PROTO_OPC(base, ver, 0)`): -DER_NONEXIST when no version of the base is,
/// -DER_UNREG when others are but not this one.
pub fn version_registered(base: u32, ver: u32) -> Result<(), i32> {
    let opc = proto_opc(base, ver, 0);
    let (base, ver) = (opc & CRT_PROTO_BASEOPC_MASK, (opc & CRT_PROTO_VER_MASK) >> 16);
    let g = map();
    let set = g.as_ref().and_then(|m| m.versions.get(&base)).ok_or(der::DER_NONEXIST)?;
    if set.contains(&ver) {
        Ok(())
    } else {
        Err(DER_UNREG)
    }
}

/// The answer of a protocol query (upstream `crt_hdlr_proto_query`): the highest of `wanted`
/// registered for `base`; when none is, the error of the last one asked
/// ([`version_registered`]), or -DER_NONEXIST for an empty list.
pub fn highest_version(base: u32, wanted: &[u32]) -> Result<u32, i32> {
    let mut best = None;
    let mut last = der::DER_NONEXIST;
    for &v in wanted {
        match version_registered(base, v) {
            Ok(()) => best = best.max(Some(v)),
            Err(e) => last = e,
        }
    }
    best.ok_or(last)
}

/// Drops every registration (the last `crt_finalize`, as upstream destroys its opcode map).
pub fn clear() {
    *map() = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_rules() {
        assert_eq!(proto_opc(0x0100_0000, 2, 5), 0x0102_0005);
        assert!(valid_base(0x0100_0000));
        assert!(!valid_base(0));
        assert!(!valid_base(0x0100_0001));
        assert!(!valid_base(0xFF00_0000));
        let one = [RpcFormat { flags: CRT_RPC_FEAT_NO_REPLY, size_in: 8, ..Default::default() }, RpcFormat::default()];
        assert_eq!(proto_register(0x0100_0001, 1, &one, false).unwrap_err(), der::DER_INVAL);
        assert_eq!(proto_register(0x7100_0000, 0x100, &one, false).unwrap_err(), der::DER_INVAL);
        assert_eq!(proto_register(0x7100_0000, 1, &[], false).unwrap_err(), der::DER_INVAL);
        assert_eq!(proto_register(0xFF00_0000, 1, &one, false).unwrap_err(), der::DER_INVAL);
        proto_register(0x7100_0000, 1, &one, false).unwrap();
        proto_register(0x7100_0000, 3, &one[..1], false).unwrap();
        assert_eq!(proto_register(0x7100_0000, 1, &one, false).unwrap_err(), crate::init::DER_EXIST);
        let i = lookup(0x7101_0000).unwrap();
        assert!(i.no_reply && !i.no_timeout && i.size_in == 8);
        assert!(lookup(0x7101_0001).is_some());
        assert!(lookup(0x7103_0001).is_none());
        assert_eq!(highest_version(0x7100_0000, &[1, 2, 3, 4]).unwrap(), 3);
        assert_eq!(highest_version(0x7100_0000, &[2]).unwrap_err(), DER_UNREG);
        assert_eq!(highest_version(0x7100_0000, &[9, 2, 0x7F]).unwrap_err(), DER_UNREG);
        assert_eq!(highest_version(0x7100_0000, &[2, 3]).unwrap(), 3);
        assert_eq!(highest_version(0x7100_0000, &[]).unwrap_err(), der::DER_NONEXIST);
        assert_eq!(highest_version(0x7200_0000, &[1]).unwrap_err(), der::DER_NONEXIST);
        proto_register(0xFF00_0000, 0, &one, true).unwrap();
        assert!(lookup(0xFF00_0001).is_some());
    }
}
