//! The names `crt_opc_decode` gives opcodes (upstream `crt_rpc.c`): CaRT's own RPCs by full
//! opcode, DAOS's module names by module id (`DAOS_MODULE_LIST`) and, for the DAOS modules
//! upstream names, each RPC by its index (the X-macro lists of DAOS's mgmt, pool, container,
//! object and pipeline RPC headers at the upstream commit this library follows; the object
//! module's names are the short ones upstream's `obj_opc_to_str` gives).
use std::ffi::CStr;

pub const CART_RPCS: &[(u32, &CStr)] = &[
    (0xff040000, c"CRT_OPC_URI_LOOKUP"),
    (0xff040001, c"CRT_OPC_PROTO_QUERY"),
    (0xff040002, c"CRT_OPC_CTL_LS"),
    (0xf1030000, c"CRT_OPC_CTL_FI_TOGGLE"),
    (0xf1030001, c"CRT_OPC_CTL_FI_SET_ATTR"),
    (0xf4020000, c"CRT_OPC_IV_FETCH"),
    (0xf4020001, c"CRT_OPC_IV_UPDATE"),
    (0xf4020002, c"CRT_OPC_IV_SYNC"),
    (0xf2010000, c"CRT_OPC_SELF_TEST_BOTH_EMPTY"),
    (0xf2010001, c"CRT_OPC_SELF_TEST_SEND_ID_REPLY_IOV"),
    (0xf2010002, c"CRT_OPC_SELF_TEST_SEND_IOV_REPLY_EMPTY"),
    (0xf2010003, c"CRT_OPC_SELF_TEST_BOTH_IOV"),
    (0xf2010004, c"CRT_OPC_SELF_TEST_SEND_BULK_REPLY_IOV"),
    (0xf2010005, c"CRT_OPC_SELF_TEST_SEND_IOV_REPLY_BULK"),
    (0xf2010006, c"CRT_OPC_SELF_TEST_BOTH_BULK"),
    (0xf2010007, c"CRT_OPC_SELF_TEST_OPEN_SESSION"),
    (0xf2010008, c"CRT_OPC_SELF_TEST_CLOSE_SESSION"),
    (0xf2010009, c"CRT_OPC_SELF_TEST_START"),
    (0xf201000a, c"CRT_OPC_SELF_TEST_STATUS_REQ"),
    (0xf3010000, c"CRT_OPC_CTL_LOG_SET"),
    (0xf3010001, c"CRT_OPC_CTL_LOG_ADD_MSG"),
    (0xf3010002, c"CRT_OPC_CTL_GET_URI_CACHE"),
    (0xf3010003, c"CRT_OPC_CTL_GET_HOSTNAME"),
    (0xf3010004, c"CRT_OPC_CTL_GET_PID"),
    (0xf3010005, c"CRT_OPC_CTL_DUMP_COUNTERS"),
];

pub const DAOS_MODULES: &[(u32, &CStr)] = &[
    (0, c"DAOS_VOS_MODULE"),
    (1, c"DAOS_MGMT_MODULE"),
    (2, c"DAOS_POOL_MODULE"),
    (3, c"DAOS_CONT_MODULE"),
    (4, c"DAOS_OBJ_MODULE"),
    (5, c"DAOS_REBUILD_MODULE"),
    (6, c"DAOS_RSVC_MODULE"),
    (7, c"DAOS_RDB_MODULE"),
    (8, c"DAOS_RDBT_MODULE"),
    (9, c"DAOS_SEC_MODULE"),
    (10, c"DAOS_DTX_MODULE"),
    (11, c"DAOS_PIPELINE_MODULE"),
    (12, c"DAOS_CHK_MODULE"),
    (13, c"DAOS_NR_MODULE"),
    (64, c"DAOS_MAX_MODULE"),
];

pub const MGMT_RPCS: &[(u32, &CStr)] = &[
    (0, c"MGMT_SVC_RIP"),
    (1, c"MGMT_PARAMS_SET"),
    (2, c"MGMT_PROFILE"),
    (3, c"MGMT_POOL_GET_SVCRANKS"),
    (4, c"MGMT_POOL_FIND"),
    (5, c"MGMT_POOL_LIST"),
    (6, c"MGMT_MARK"),
    (7, c"MGMT_GET_BS_STATE"),
    (8, c"MGMT_TGT_CREATE"),
    (9, c"MGMT_TGT_DESTROY"),
    (10, c"MGMT_TGT_PARAMS_SET"),
    (11, c"MGMT_TGT_PROFILE"),
    (12, c"MGMT_TGT_MAP_UPDATE"),
    (13, c"MGMT_TGT_MARK"),
    (14, c"MGMT_TGT_SHARD_DESTROY"),
];

pub const POOL_RPCS: &[(u32, &CStr)] = &[
    (0, c"POOL_CREATE"),
    (1, c"POOL_CONNECT"),
    (2, c"POOL_DISCONNECT"),
    (3, c"POOL_QUERY"),
    (4, c"POOL_QUERY_INFO"),
    (5, c"POOL_EXCLUDE"),
    (6, c"POOL_DRAIN"),
    (7, c"POOL_EXTEND"),
    (8, c"POOL_EVICT"),
    (9, c"POOL_REINT"),
    (10, c"POOL_ADD_IN"),
    (11, c"POOL_EXCLUDE_OUT"),
    (12, c"POOL_SVC_STOP"),
    (13, c"POOL_ATTR_LIST"),
    (14, c"POOL_ATTR_GET"),
    (15, c"POOL_ATTR_SET"),
    (16, c"POOL_ATTR_DEL"),
    (17, c"POOL_REPLICAS_ADD"),
    (18, c"POOL_REPLICAS_REMOVE"),
    (19, c"POOL_LIST_CONT"),
    (20, c"POOL_TGT_QUERY_MAP"),
    (21, c"POOL_FILTER_CONT"),
    (22, c"POOL_TGT_WARMUP"),
    (23, c"POOL_TGT_DISCONNECT"),
    (24, c"POOL_TGT_QUERY"),
    (25, c"POOL_PROP_GET"),
    (26, c"POOL_ADD_TGT"),
    (27, c"POOL_PROP_SET"),
    (28, c"POOL_ACL_UPDATE"),
    (29, c"POOL_ACL_DELETE"),
    (30, c"POOL_RANKS_GET"),
    (31, c"POOL_UPGRADE"),
    (32, c"POOL_TGT_DISCARD"),
    (33, c"POOL_REBUILD_STOP"),
    (34, c"POOL_REBUILD_START"),
    (35, c"POOL_EVAL_SELF_HEAL"),
    (36, c"POOL_RECOV_CONT"),
];

pub const CONT_RPCS: &[(u32, &CStr)] = &[
    (0, c"CONT_CREATE"),
    (1, c"CONT_DESTROY"),
    (2, c"CONT_OPEN"),
    (3, c"CONT_CLOSE"),
    (4, c"CONT_QUERY"),
    (5, c"CONT_OID_ALLOC"),
    (6, c"CONT_ATTR_LIST"),
    (7, c"CONT_ATTR_GET"),
    (8, c"CONT_ATTR_SET"),
    (9, c"CONT_ATTR_DEL"),
    (10, c"CONT_EPOCH_AGGREGATE"),
    (11, c"CONT_SNAP_LIST"),
    (12, c"CONT_SNAP_CREATE"),
    (13, c"CONT_SNAP_DESTROY"),
    (14, c"CONT_PROP_SET"),
    (15, c"CONT_ACL_UPDATE"),
    (16, c"CONT_ACL_DELETE"),
    (17, c"CONT_OPEN_BYLABEL"),
    (18, c"CONT_DESTROY_BYLABEL"),
    (19, c"CONT_SNAP_OIT_OID_GET"),
    (20, c"CONT_SNAP_OIT_CREATE"),
    (21, c"CONT_SNAP_OIT_DESTROY"),
    (22, c"CONT_TGT_DESTROY"),
    (23, c"CONT_TGT_QUERY"),
    (24, c"CONT_TGT_EPOCH_AGGREGATE"),
    (25, c"CONT_TGT_SNAPSHOT_NOTIFY"),
    (26, c"CONT_PROP_SET_BYLABEL"),
];

pub const OBJ_RPCS: &[(u32, &CStr)] = &[
    (0, c"update"),
    (1, c"fetch"),
    (2, c"dkey_enum"),
    (3, c"akey_enum"),
    (4, c"recx_enum"),
    (5, c"obj_enum"),
    (6, c"obj_punch"),
    (7, c"dkey_punch"),
    (8, c"akey_punch"),
    (9, c"key_query"),
    (10, c"obj_sync"),
    (11, c"tgt_update"),
    (12, c"tgt_punch"),
    (13, c"tgt_dkey_punch"),
    (14, c"tgt_akey_punch"),
    (15, c"migrate"),
    (16, c"ec_agg"),
    (17, c"ec_rep"),
    (18, c"compound"),
    (19, c"key2anchor"),
    (20, c"obj_coll_punch"),
    (21, c"obj_coll_query"),
];

pub const PIPELINE_RPCS: &[(u32, &CStr)] = &[
    (0, c"DAOS_PIPELINE_RPC_RUN"),
];

const CART: &CStr = c"CART";
const SWIM: &CStr = c"SWIM";
const CUSTOM: &CStr = c"CUSTOM";
const EMPTY: &CStr = c"";
const OBJ_UNKNOWN: &CStr = c"unknown";

/// CaRT's base opcodes (`CRT_OPC_*_BASE`): internal, fault injection, self-test, ctl, IV.
const CART_BASES: [u32; 5] = [0xFF00_0000, 0xF100_0000, 0xF200_0000, 0xF300_0000, 0xF400_0000];
const SWIM_BASE: u32 = 0xFE00_0000;

fn find(t: &[(u32, &'static CStr)], k: u32) -> Option<&'static CStr> {
    t.iter().find(|e| e.0 == k).map(|e| e.1)
}

/// Upstream's `crt_opc_decode`: (module name, RPC name) of an opcode. CaRT's bases are
/// "CART" (and "SWIM"), a DAOS module id its `DAOS_MODULE_LIST` name, anything else
/// "CUSTOM"; the RPC name is looked up for CaRT's RPCs and the mgmt, pool, container, object
/// and pipeline modules ("" when unknown; the object module says "unknown").
pub fn decode(opc: u32) -> (&'static CStr, &'static CStr) {
    let base = opc & 0xFF00_0000;
    let mod_id = (opc >> 24) & 0xFF;
    let op_id = opc & 0xFFFF;
    if CART_BASES.contains(&base) {
        return (CART, find(CART_RPCS, opc).unwrap_or(EMPTY));
    }
    if base == SWIM_BASE {
        return (SWIM, EMPTY);
    }
    let Some(module) = find(DAOS_MODULES, mod_id) else { return (CUSTOM, EMPTY) };
    let name = match mod_id {
        1 => find(MGMT_RPCS, op_id),
        2 => find(POOL_RPCS, op_id),
        3 => find(CONT_RPCS, op_id),
        4 => Some(find(OBJ_RPCS, op_id).unwrap_or(OBJ_UNKNOWN)),
        11 => find(PIPELINE_RPCS, op_id),
        _ => None,
    };
    (module, name.unwrap_or(EMPTY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(opc: u32) -> (&'static str, &'static str) {
        let (m, o) = decode(opc);
        (m.to_str().unwrap(), o.to_str().unwrap())
    }

    #[test]
    fn cart_and_swim() {
        assert_eq!(d(0xFF04_0000), ("CART", "CRT_OPC_URI_LOOKUP"));
        assert_eq!(d(0xFF04_0001), ("CART", "CRT_OPC_PROTO_QUERY"));
        assert_eq!(d(0xF402_0002), ("CART", "CRT_OPC_IV_SYNC"));
        assert_eq!(d(0xF201_000A), ("CART", "CRT_OPC_SELF_TEST_STATUS_REQ"));
        assert_eq!(d(0xF301_0005), ("CART", "CRT_OPC_CTL_DUMP_COUNTERS"));
        // another version of a CaRT protocol: the module only
        assert_eq!(d(0xFF05_0000), ("CART", ""));
        assert_eq!(d(0xFE02_0000), ("SWIM", ""));
    }

    #[test]
    fn daos_modules() {
        // DAOS_RPC_OPCODE(opc, mod, ver) = mod << 24 | ver << 16 | opc
        assert_eq!(d(0x0103_0000), ("DAOS_MGMT_MODULE", "MGMT_SVC_RIP"));
        assert_eq!(d(0x0103_0008), ("DAOS_MGMT_MODULE", "MGMT_TGT_CREATE"));
        assert_eq!(d(0x0407_0000), ("DAOS_OBJ_MODULE", "update"));
        assert_eq!(d(0x0407_0001), ("DAOS_OBJ_MODULE", "fetch"));
        assert_eq!(d(0x0407_7777), ("DAOS_OBJ_MODULE", "unknown"));
        assert_eq!(d(0x0B01_0000), ("DAOS_PIPELINE_MODULE", "DAOS_PIPELINE_RPC_RUN"));
        assert_eq!(d(0x0701_0000), ("DAOS_RDB_MODULE", ""));
        assert_eq!(d(0x4000_0000), ("DAOS_MAX_MODULE", ""));
        assert_eq!(d(0x3300_0000), ("CUSTOM", ""));
        assert_eq!(POOL_RPCS[0].1.to_str().unwrap(), "POOL_CREATE");
        assert_eq!(CONT_RPCS[0].1.to_str().unwrap(), "CONT_CREATE");
    }

    #[test]
    fn tables_are_consistent() {
        for t in [MGMT_RPCS, POOL_RPCS, CONT_RPCS, OBJ_RPCS, PIPELINE_RPCS] {
            // indexes are 0..n, in order, as the enums number them
            for (i, e) in t.iter().enumerate() {
                assert_eq!(e.0 as usize, i, "{:?}", e.1);
            }
        }
        for (i, e) in CART_RPCS.iter().enumerate() {
            assert!(CART_RPCS[..i].iter().all(|p| p.0 != e.0));
        }
    }
}
