//! cart's own RPCs (upstream's internal protocol, base 0xFF000000, version 4): the protocol
//! query (`crt_proto_query`). Their bodies are encoded with the exported `crt_proc_*`
//! functions, as a CRT_RPC_DEFINE'd format would be; registered with every `crt_init`.
//!
//! The body structs and proc functions cross the C ABI (the format table holds their
//! addresses): `unsafe` here is theirs, each block with its invariant.
use crate::capi::{crt_proc_d_iov_t, crt_proc_d_string_t, crt_proc_get_op, crt_proc_int32_t, crt_proc_uint32_t, crt_reply_send};
use crate::register::{self, RpcFormat};
use crate::sys::{crt_group_id_t, crt_proc_op_t, crt_proc_t, crt_req_format, crt_rpc_t, d_iov_t, d_string_t};
use std::ffi::{c_int, c_void};

pub const CRT_OPC_INTERNAL_BASE: u32 = 0xFF00_0000;
pub const CRT_PROTO_INTERNAL_VERSION: u32 = 4;
pub const CRT_OPC_URI_LOOKUP: u32 = register::proto_opc(CRT_OPC_INTERNAL_BASE, CRT_PROTO_INTERNAL_VERSION, 0);
pub const CRT_OPC_PROTO_QUERY: u32 = register::proto_opc(CRT_OPC_INTERNAL_BASE, CRT_PROTO_INTERNAL_VERSION, 1);

/// `struct crt_proto_query_in` (upstream's field list).
#[repr(C)]
pub struct ProtoQueryIn {
    pub pq_ver: d_iov_t,
    pub pq_ver_count: i32,
    pub pq_base_opc: u32,
}

/// `struct crt_proto_query_out`.
#[repr(C)]
pub struct ProtoQueryOut {
    pub pq_ver: u32,
    pub pq_rc: i32,
}

unsafe extern "C" fn proc_pq_in(proc: crt_proc_t, data: *mut c_void) -> c_int {
    let d = data as *mut ProtoQueryIn;
    let mut op: crt_proc_op_t = 0;
    // SAFETY: cart's RPC layer calls this with a live proc and the input struct it allocated
    // at this format's size.
    unsafe {
        let rc = crt_proc_get_op(proc, &mut op);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_d_iov_t(proc, op, &mut (*d).pq_ver);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_int32_t(proc, op, &mut (*d).pq_ver_count);
        if rc != 0 {
            return rc;
        }
        crt_proc_uint32_t(proc, op, &mut (*d).pq_base_opc)
    }
}

unsafe extern "C" fn proc_pq_out(proc: crt_proc_t, data: *mut c_void) -> c_int {
    let d = data as *mut ProtoQueryOut;
    let mut op: crt_proc_op_t = 0;
    // SAFETY: as proc_pq_in, with the output struct.
    unsafe {
        let rc = crt_proc_get_op(proc, &mut op);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_uint32_t(proc, op, &mut (*d).pq_ver);
        if rc != 0 {
            return rc;
        }
        crt_proc_int32_t(proc, op, &mut (*d).pq_rc)
    }
}

static PQ_FMT: crt_req_format = crt_req_format {
    crf_proc_in: Some(proc_pq_in),
    crf_proc_out: Some(proc_pq_out),
    crf_size_in: std::mem::size_of::<ProtoQueryIn>(),
    crf_size_out: std::mem::size_of::<ProtoQueryOut>(),
};

/// The protocol query's server side (upstream `crt_hdlr_proto_query`): the highest of the
/// asked versions registered, else the last one's error (-DER_UNREG: the protocol is
/// registered in other versions; -DER_NONEXIST: not at all).
unsafe extern "C" fn hdlr_proto_query(rpc: *mut crt_rpc_t) {
    // SAFETY: a live server RPC of this format: input and output are its structs.
    unsafe {
        let input = &*((*rpc).cr_input as *const ProtoQueryIn);
        let out = &mut *((*rpc).cr_output as *mut ProtoQueryOut);
        let n = (input.pq_ver_count.max(0) as usize).min(input.pq_ver.iov_len / 4);
        let vers: Vec<u32> = if n == 0 || input.pq_ver.iov_buf.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(input.pq_ver.iov_buf as *const u8, n * 4)
                .chunks_exact(4)
                .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        match register::highest_version(input.pq_base_opc, &vers) {
            Ok(v) => {
                out.pq_ver = v;
                out.pq_rc = 0;
            }
            Err(rc) => {
                out.pq_ver = 0;
                out.pq_rc = rc;
            }
        }
        crt_reply_send(rpc);
    }
}

/// Registers cart's own protocol (each `crt_init` that creates the state).
/// `struct crt_uri_lookup_in` (upstream's field list).
#[repr(C)]
pub struct UriLookupIn {
    pub ul_grp_id: crt_group_id_t,
    pub ul_rank: u32,
    pub ul_tag: u32,
}

/// `struct crt_uri_lookup_out`.
#[repr(C)]
pub struct UriLookupOut {
    pub ul_uri: d_string_t,
    pub ul_tag: u32,
    pub ul_rc: i32,
}

unsafe extern "C" fn proc_ul_in(proc: crt_proc_t, data: *mut c_void) -> c_int {
    let d = data as *mut UriLookupIn;
    let mut op: crt_proc_op_t = 0;
    // SAFETY: as proc_pq_in.
    unsafe {
        let rc = crt_proc_get_op(proc, &mut op);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_d_string_t(proc, op, &mut (*d).ul_grp_id);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_uint32_t(proc, op, &mut (*d).ul_rank);
        if rc != 0 {
            return rc;
        }
        crt_proc_uint32_t(proc, op, &mut (*d).ul_tag)
    }
}

unsafe extern "C" fn proc_ul_out(proc: crt_proc_t, data: *mut c_void) -> c_int {
    let d = data as *mut UriLookupOut;
    let mut op: crt_proc_op_t = 0;
    // SAFETY: as proc_pq_in.
    unsafe {
        let rc = crt_proc_get_op(proc, &mut op);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_d_string_t(proc, op, &mut (*d).ul_uri);
        if rc != 0 {
            return rc;
        }
        let rc = crt_proc_uint32_t(proc, op, &mut (*d).ul_tag);
        if rc != 0 {
            return rc;
        }
        crt_proc_int32_t(proc, op, &mut (*d).ul_rc)
    }
}

pub static UL_FMT: crt_req_format = crt_req_format {
    crf_proc_in: Some(proc_ul_in),
    crf_proc_out: Some(proc_ul_out),
    crf_size_in: std::mem::size_of::<UriLookupIn>(),
    crf_size_out: std::mem::size_of::<UriLookupOut>(),
};

const DER_OOG: i32 = -1019;
/// Upstream's CRT_SRV_CONTEXT_NUM: a lookup of a tag from there on is refused.
const CRT_SRV_CONTEXT_NUM: u32 = 128;

/// The primary rank a URI lookup asks for (upstream `crt_hdlr_uri_lookup`'s checks): the
/// group must be this server's primary group or one of its secondary groups (else
/// -DER_INVAL, also for a client, which answers no lookup: -DER_PROTO), the tag below
/// CRT_SRV_CONTEXT_NUM (-DER_INVAL), a secondary rank a member (-DER_OOG).
fn lookup_target(grp: Option<&str>, rank: u32, tag: u32) -> Result<u32, i32> {
    use crate::transport::der;
    if !crate::init::is_service() {
        return Err(der::DER_PROTO);
    }
    let grp = grp.ok_or(der::DER_INVAL)?;
    let primary = crate::init::settings().map(|s| s.grpid).unwrap_or_default();
    let secondary = grp != primary;
    if secondary && crate::secondary::ranks(grp).is_none() {
        return Err(der::DER_INVAL);
    }
    if tag >= CRT_SRV_CONTEXT_NUM {
        return Err(der::DER_INVAL);
    }
    if secondary {
        return crate::secondary::s2p(grp, rank).map_err(|_| DER_OOG);
    }
    Ok(rank)
}

/// The URI lookup's server side (upstream `crt_hdlr_uri_lookup`): this rank's own contexts,
/// else its address book; -DER_OOG in `ul_rc` when the rank is unknown here.
unsafe extern "C" fn hdlr_uri_lookup(rpc: *mut crt_rpc_t) {
    // SAFETY: a live server RPC of this format.
    unsafe {
        let input = &*((*rpc).cr_input as *const UriLookupIn);
        let out = &mut *((*rpc).cr_output as *mut UriLookupOut);
        let (rank, tag) = (input.ul_rank, input.ul_tag);
        let gid = (!input.ul_grp_id.is_null()).then(|| std::ffi::CStr::from_ptr(input.ul_grp_id).to_string_lossy().into_owned());
        let found = lookup_target(gid.as_deref(), rank, tag).and_then(|rank| {
            if crate::group::self_rank() == Some(rank) {
                crate::init::context_lookup(tag as i32).map(|c| c.uri().to_owned()).ok_or(DER_OOG)
            } else {
                crate::group::uri(rank, tag)
            }
        });
        let s = found.map(|u| std::ffi::CString::new(u).unwrap_or_default());
        out.ul_tag = tag;
        match &s {
            Ok(c) => {
                out.ul_uri = c.as_ptr() as d_string_t;
                out.ul_rc = 0;
            }
            Err(e) => {
                out.ul_uri = std::ptr::null_mut();
                out.ul_rc = *e;
            }
        }
        // The reply is encoded inside crt_reply_send: the string may go afterwards.
        crt_reply_send(rpc);
        out.ul_uri = std::ptr::null_mut();
        drop(s);
    }
}

pub fn register() {
    let none = RpcFormat {
        req_fmt: &UL_FMT as *const crt_req_format as usize,
        size_in: UL_FMT.crf_size_in,
        size_out: UL_FMT.crf_size_out,
        handler: hdlr_uri_lookup as *const () as usize,
        co_ops: 0,
        flags: 0,
    };
    let pq = RpcFormat {
        req_fmt: &PQ_FMT as *const crt_req_format as usize,
        size_in: PQ_FMT.crf_size_in,
        size_out: PQ_FMT.crf_size_out,
        handler: hdlr_proto_query as *const () as usize,
        co_ops: 0,
        flags: 0,
    };
    // Index 2: CRT_OPC_CTL_LS (cart_ctl pings with it before any protocol query).
    let ls = crate::ctl::ctl_ls_rpc();
    let _ = register::proto_register(CRT_OPC_INTERNAL_BASE, CRT_PROTO_INTERNAL_VERSION, &[none, pq, ls], true);
    crate::iv::register();
}
