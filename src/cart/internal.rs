//! cart's own RPCs (upstream's internal protocol, base 0xFF000000, version 4): the protocol
//! query (`crt_proto_query`). Their bodies are encoded with the exported `crt_proc_*`
//! functions, as a CRT_RPC_DEFINE'd format would be; registered with every `crt_init`.
//!
//! The body structs and proc functions cross the C ABI (the format table holds their
//! addresses): `unsafe` here is theirs, each block with its invariant.
use crate::capi::{crt_proc_d_iov_t, crt_proc_get_op, crt_proc_int32_t, crt_proc_uint32_t, crt_reply_send};
use crate::register::{self, RpcFormat};
use crate::sys::{crt_proc_op_t, crt_proc_t, crt_req_format, crt_rpc_t, d_iov_t};
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
/// asked versions whose first opcode is registered, else -DER_NONEXIST.
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
        let best = vers
            .iter()
            .copied()
            .filter(|v| register::lookup(register::proto_opc(input.pq_base_opc, *v, 0)).is_some())
            .max();
        match best {
            Some(v) => {
                out.pq_ver = v;
                out.pq_rc = 0;
            }
            None => {
                out.pq_ver = 0;
                out.pq_rc = crate::transport::der::DER_NONEXIST;
            }
        }
        crt_reply_send(rpc);
    }
}

/// Registers cart's own protocol (each `crt_init` that creates the state).
pub fn register() {
    let none = RpcFormat::default();
    let pq = RpcFormat {
        req_fmt: &PQ_FMT as *const crt_req_format as usize,
        size_in: PQ_FMT.crf_size_in,
        size_out: PQ_FMT.crf_size_out,
        handler: hdlr_proto_query as *const () as usize,
        co_ops: 0,
        flags: 0,
    };
    let _ = register::proto_register(CRT_OPC_INTERNAL_BASE, CRT_PROTO_INTERNAL_VERSION, &[none, pq], true);
}
