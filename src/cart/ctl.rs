//! The control protocol (upstream `crt_ctl.c` and the ctl parts of `crt_rpc.c`): what
//! upstream's `cart_ctl` asks a server. `CRT_OPC_CTL_LS` sits in the internal protocol
//! (index 2, so it answers before any protocol query); fault injection (base 0xF1000000,
//! version 3) and ctl (base 0xF3000000, version 1) are registered on servers by `crt_init`,
//! and by a client with `crt_register_proto_fi` / `crt_register_proto_ctl`.
//!
//! This module holds the body encodings (one table-driven proc for every CRT_RPC_DEFINE'd
//! format of the internal protocols, shared with the self-test), the protocol tables and the
//! answers' contents; the exported handlers and CQF_* objects are in `capi/crt_ctl.rs`.
use crate::capi::{
    crt_proc_bool, crt_proc_crt_bulk_t, crt_proc_d_iov_t, crt_proc_d_sg_list_t, crt_proc_d_string_t, crt_proc_get_op, crt_proc_int32_t,
    crt_proc_uint32_t, crt_proc_uint64_t,
};
use crate::register::{self, RpcFormat};
use crate::sys::{crt_bulk_t, crt_grp_cache, crt_proc_op_t, crt_proc_t, crt_req_format, d_iov_t, d_sg_list_t, d_string_t};
use crate::transport::der;
use std::ffi::{c_int, c_void};

pub const CRT_OPC_FI_BASE: u32 = 0xF100_0000;
pub const CRT_PROTO_FI_VERSION: u32 = 3;
pub const CRT_OPC_CTL_BASE: u32 = 0xF300_0000;
pub const CRT_PROTO_CTL_VERSION: u32 = 1;
pub const CRT_OPC_CTL_LS: u32 = register::proto_opc(crate::internal::CRT_OPC_INTERNAL_BASE, crate::internal::CRT_PROTO_INTERNAL_VERSION, 2);

const CRT_PROC_DECODE: crt_proc_op_t = crate::sys::CRT_PROC_DECODE;
const CRT_PROC_FREE: crt_proc_op_t = crate::sys::CRT_PROC_FREE;

/// The kind of one body field: which `crt_proc_*` processes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    U32,
    I32,
    U64,
    Bool,
    Str,
    Iov,
    Bulk,
    SgList,
    /// `struct { uint64_t ca_count; struct crt_grp_cache *ca_arrays; }` (CRT_ARRAY).
    GrpCacheArray,
}

/// Runs one field's proc.
///
/// # Safety
/// `p` points at a field of the kind given, inside a body the RPC layer allocated.
unsafe fn field(proc: crt_proc_t, op: crt_proc_op_t, p: *mut u8, kind: Kind) -> c_int {
    // SAFETY: the caller's contract: p is a live field of this kind.
    unsafe {
        match kind {
            Kind::U32 => crt_proc_uint32_t(proc, op, p as *mut u32),
            Kind::I32 => crt_proc_int32_t(proc, op, p as *mut i32),
            Kind::U64 => crt_proc_uint64_t(proc, op, p as *mut u64),
            Kind::Bool => crt_proc_bool(proc, op, p as *mut bool),
            Kind::Str => crt_proc_d_string_t(proc, op, p as *mut d_string_t),
            Kind::Iov => crt_proc_d_iov_t(proc, op, p as *mut d_iov_t),
            Kind::Bulk => crt_proc_crt_bulk_t(proc, op, p as *mut crt_bulk_t),
            Kind::SgList => crt_proc_d_sg_list_t(proc, op, p as *mut d_sg_list_t),
            Kind::GrpCacheArray => grp_cache_array(proc, op, p),
        }
    }
}

/// A CRT_ARRAY of `struct crt_grp_cache`: the count as a uint64_t, then each entry's rank,
/// tag and URI. Decoding allocates the entries (calloc); FREE releases them.
///
/// # Safety
/// As [`field`].
unsafe fn grp_cache_array(proc: crt_proc_t, op: crt_proc_op_t, p: *mut u8) -> c_int {
    let count = p as *mut u64;
    // SAFETY: the array field: a u64 count at 0, the entries pointer at 8.
    let slot = unsafe { p.add(8) } as *mut *mut crt_grp_cache;
    // SAFETY: fields of the array struct (the caller's contract); entries are count live
    // crt_grp_cache (encode/free) or the calloc'd block decode makes.
    unsafe {
        if op == CRT_PROC_DECODE {
            *slot = std::ptr::null_mut();
        }
        let mut n = *count;
        let rc = crt_proc_uint64_t(proc, op, &mut n);
        if rc != 0 {
            return rc;
        }
        *count = n;
        if n == 0 {
            if op == CRT_PROC_FREE {
                libc::free(*slot as *mut c_void);
                *slot = std::ptr::null_mut();
            }
            return 0;
        }
        if op == CRT_PROC_DECODE {
            let Ok(n) = usize::try_from(n) else { return der::DER_INVAL };
            let a = libc::calloc(n, std::mem::size_of::<crt_grp_cache>()) as *mut crt_grp_cache;
            if a.is_null() {
                *count = 0;
                return der::DER_NOMEM;
            }
            *slot = a;
        }
        let a = *slot;
        if a.is_null() {
            return der::DER_INVAL;
        }
        for i in 0..n as usize {
            let e = a.add(i);
            let mut rc = crt_proc_uint32_t(proc, op, &mut (*e).gc_rank);
            if rc == 0 {
                rc = crt_proc_uint32_t(proc, op, &mut (*e).gc_tag);
            }
            if rc == 0 {
                rc = crt_proc_d_string_t(proc, op, &mut (*e).gc_uri);
            }
            if rc != 0 {
                if op == CRT_PROC_DECODE {
                    for j in 0..=i {
                        let _ = crt_proc_d_string_t(proc, CRT_PROC_FREE, &mut (*a.add(j)).gc_uri);
                    }
                    libc::free(a as *mut c_void);
                    *slot = std::ptr::null_mut();
                    *count = 0;
                }
                return rc;
            }
        }
        if op == CRT_PROC_FREE {
            libc::free(a as *mut c_void);
            *slot = std::ptr::null_mut();
            *count = 0;
        }
        0
    }
}

/// Processes a body field by field (a CRT_RPC_DEFINE'd proc): on a decoding error the fields
/// already decoded are freed again.
///
/// # Safety
/// `data` is a body of the struct the offsets and kinds describe.
pub unsafe fn body_proc(proc: crt_proc_t, data: *mut c_void, fields: &[(usize, Kind)]) -> c_int {
    if proc.is_null() || data.is_null() {
        return der::DER_INVAL;
    }
    let mut op: crt_proc_op_t = 0;
    // SAFETY: a live proc (the RPC layer's).
    let rc = unsafe { crt_proc_get_op(proc, &mut op) };
    if rc != 0 {
        return rc;
    }
    let base = data as *mut u8;
    for (i, (off, kind)) in fields.iter().enumerate() {
        // SAFETY: the offsets are the struct's fields (offset_of! in the tables).
        let rc = unsafe { field(proc, op, base.add(*off), *kind) };
        if rc != 0 {
            if op == CRT_PROC_DECODE {
                for (off, kind) in fields[..i].iter().rev() {
                    // SAFETY: as above; these fields were decoded.
                    let _ = unsafe { field(proc, CRT_PROC_FREE, base.add(*off), *kind) };
                }
            }
            return rc;
        }
    }
    0
}

/// Defines an `unsafe extern "C"` proc for a body struct from its field list.
#[macro_export]
#[doc(hidden)]
macro_rules! body_proc_fn {
    ($name:ident, $ty:ty, [$($f:ident : $k:ident),* $(,)?]) => {
        pub(crate) unsafe extern "C" fn $name(proc: $crate::sys::crt_proc_t, data: *mut std::ffi::c_void) -> std::ffi::c_int {
            // SAFETY: cart's RPC layer calls a format's proc with the body it allocated at the
            // format's size, which is this struct's.
            unsafe {
                $crate::ctl::body_proc(proc, data, &[$((std::mem::offset_of!($ty, $f), $crate::ctl::Kind::$k)),*])
            }
        }
    };
}

/// A `struct crt_req_format` from optional procs and the two sizes.
pub const fn req_format(
    pin: Option<unsafe extern "C" fn(crt_proc_t, *mut c_void) -> c_int>,
    pout: Option<unsafe extern "C" fn(crt_proc_t, *mut c_void) -> c_int>,
    size_in: usize,
    size_out: usize,
) -> crt_req_format {
    crt_req_format { crf_proc_in: pin, crf_proc_out: pout, crf_size_in: size_in, crf_size_out: size_out }
}

mod procs {
    use crate::sys::*;
    crate::body_proc_fn!(ctl_in, crt_ctl_ep_ls_in, [cel_grp_id: Str, cel_rank: U32]);
    crate::body_proc_fn!(ep_ls_out, crt_ctl_ep_ls_out, [cel_addr_str: Iov, cel_ctx_num: I32, cel_rc: I32]);
    crate::body_proc_fn!(uri_cache_out, crt_ctl_get_uri_cache_out, [cguc_grp_cache: GrpCacheArray, cguc_rc: I32]);
    crate::body_proc_fn!(host_out, crt_ctl_get_host_out, [cgh_hostname: Iov, cgh_rc: I32]);
    crate::body_proc_fn!(counters_out, crt_ctl_dump_counters_out, [rc: U32]);
    crate::body_proc_fn!(pid_out, crt_ctl_get_pid_out, [cgp_pid: I32, cgp_rc: I32]);
    crate::body_proc_fn!(
        fi_attr_in,
        crt_ctl_fi_attr_set_in,
        [
            fa_fault_id: U32,
            fa_interval: U32,
            fa_max_faults: U64,
            fa_err_code: U32,
            fa_probability_x: U32,
            fa_argument: Str,
            fa_probability_y: U32
        ]
    );
    crate::body_proc_fn!(fi_attr_out, crt_ctl_fi_attr_set_out, [fa_ret: I32]);
    crate::body_proc_fn!(fi_toggle_in, crt_ctl_fi_toggle_in, [op: Bool]);
    crate::body_proc_fn!(fi_toggle_out, crt_ctl_fi_toggle_out, [rc: I32]);
    crate::body_proc_fn!(log_set_in, crt_ctl_log_set_in, [log_mask: Str]);
    crate::body_proc_fn!(log_set_out, crt_ctl_log_set_out, [rc: I32]);
    crate::body_proc_fn!(log_add_in, crt_ctl_log_add_msg_in, [log_msg: Str]);
    crate::body_proc_fn!(log_add_out, crt_ctl_log_add_msg_out, [rc: I32]);
}

use crate::sys as s;
use std::mem::size_of;

pub const EP_LS_FMT: crt_req_format =
    req_format(Some(procs::ctl_in), Some(procs::ep_ls_out), size_of::<s::crt_ctl_ep_ls_in>(), size_of::<s::crt_ctl_ep_ls_out>());
pub const GET_URI_CACHE_FMT: crt_req_format = req_format(
    Some(procs::ctl_in),
    Some(procs::uri_cache_out),
    size_of::<s::crt_ctl_get_uri_cache_in>(),
    size_of::<s::crt_ctl_get_uri_cache_out>(),
);
pub const GET_HOST_FMT: crt_req_format =
    req_format(Some(procs::ctl_in), Some(procs::host_out), size_of::<s::crt_ctl_get_host_in>(), size_of::<s::crt_ctl_get_host_out>());
pub const DUMP_COUNTERS_FMT: crt_req_format = req_format(
    Some(procs::ctl_in),
    Some(procs::counters_out),
    size_of::<s::crt_ctl_dump_counters_in>(),
    size_of::<s::crt_ctl_dump_counters_out>(),
);
pub const GET_PID_FMT: crt_req_format =
    req_format(Some(procs::ctl_in), Some(procs::pid_out), size_of::<s::crt_ctl_get_pid_in>(), size_of::<s::crt_ctl_get_pid_out>());
pub const FI_ATTR_SET_FMT: crt_req_format = req_format(
    Some(procs::fi_attr_in),
    Some(procs::fi_attr_out),
    size_of::<s::crt_ctl_fi_attr_set_in>(),
    size_of::<s::crt_ctl_fi_attr_set_out>(),
);
pub const FI_TOGGLE_FMT: crt_req_format = req_format(
    Some(procs::fi_toggle_in),
    Some(procs::fi_toggle_out),
    size_of::<s::crt_ctl_fi_toggle_in>(),
    size_of::<s::crt_ctl_fi_toggle_out>(),
);
pub const LOG_SET_FMT: crt_req_format =
    req_format(Some(procs::log_set_in), Some(procs::log_set_out), size_of::<s::crt_ctl_log_set_in>(), size_of::<s::crt_ctl_log_set_out>());
pub const LOG_ADD_MSG_FMT: crt_req_format = req_format(
    Some(procs::log_add_in),
    Some(procs::log_add_out),
    size_of::<s::crt_ctl_log_add_msg_in>(),
    size_of::<s::crt_ctl_log_add_msg_out>(),
);

fn rpc(fmt: &'static crt_req_format, handler: usize) -> RpcFormat {
    RpcFormat {
        req_fmt: fmt as *const crt_req_format as usize,
        size_in: fmt.crf_size_in,
        size_out: fmt.crf_size_out,
        handler,
        co_ops: 0,
        flags: 0,
    }
}

/// The internal protocol's third RPC (`CRT_OPC_CTL_LS`).
pub fn ctl_ls_rpc() -> RpcFormat {
    rpc(&crate::capi::crt_ctl::CQF_crt_ctl_ep_ls, crate::capi::crt_ctl::crt_hdlr_ctl_ls as *const () as usize)
}

/// The fault-injection protocol, in upstream's order.
pub fn fi_rpcs() -> [RpcFormat; 2] {
    use crate::capi::crt_ctl as c;
    [
        rpc(&c::CQF_crt_ctl_fi_toggle, c::crt_hdlr_ctl_fi_toggle as *const () as usize),
        rpc(&c::CQF_crt_ctl_fi_attr_set, c::crt_hdlr_ctl_fi_attr_set as *const () as usize),
    ]
}

/// The ctl protocol, in upstream's order.
pub fn ctl_rpcs() -> [RpcFormat; 6] {
    use crate::capi::crt_ctl as c;
    [
        rpc(&c::CQF_crt_ctl_log_set, c::crt_hdlr_ctl_log_set as *const () as usize),
        rpc(&c::CQF_crt_ctl_log_add_msg, c::crt_hdlr_ctl_log_add_msg as *const () as usize),
        rpc(&c::CQF_crt_ctl_get_uri_cache, c::crt_hdlr_ctl_get_uri_cache as *const () as usize),
        rpc(&c::CQF_crt_ctl_get_host, c::crt_hdlr_ctl_get_hostname as *const () as usize),
        rpc(&c::CQF_crt_ctl_get_pid, c::crt_hdlr_ctl_get_pid as *const () as usize),
        rpc(&c::CQF_crt_ctl_dump_counters, c::crt_hdlr_ctl_dump_counters as *const () as usize),
    ]
}

/// Upstream `crt_internal_rpc_register`'s part for these protocols: a server registers fault
/// injection and ctl (a client registers them per target, after a protocol query).
pub fn register(server: bool) {
    if server {
        let _ = register::proto_register(CRT_OPC_FI_BASE, CRT_PROTO_FI_VERSION, &fi_rpcs(), false);
        let _ = register::proto_register(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, &ctl_rpcs(), false);
    }
}

/// Upstream `verify_ctl_in_args`: the request must name this process's primary group and its
/// own rank; -DER_INVAL otherwise (a NULL or malformed group name included).
pub fn verify(grp_id: Option<&[u8]>, rank: u32) -> Result<(), i32> {
    let g = grp_id.ok_or(der::DER_INVAL)?;
    if !crate::init::validate_grpid(g) {
        return Err(der::DER_INVAL);
    }
    let primary = crate::init::settings()?.grpid;
    if g != primary.as_bytes() {
        return Err(der::DER_INVAL);
    }
    let me = crate::group::self_rank().unwrap_or(crate::group::CRT_NO_RANK);
    if rank != me {
        return Err(der::DER_INVAL);
    }
    Ok(())
}

/// The answer of CTL_LS: the number of contexts and their URIs, each NUL-terminated, in
/// context order.
pub fn contexts_listing() -> (i32, Vec<u8>) {
    let ctxs: Vec<_> = crate::init::state().as_ref().map(|s| s.contexts.iter().flatten().cloned().collect()).unwrap_or_default();
    let mut buf = Vec::new();
    for c in &ctxs {
        buf.extend_from_slice(c.uri().as_bytes());
        buf.push(0);
    }
    (ctxs.len() as i32, buf)
}

/// The lines `crt_hdlr_ctl_dump_counters` writes to the log (upstream dumps Mercury's
/// counters; oxidaos's transport has its own): per context, requests in flight and
/// requests waiting for a credit.
pub fn counters_report() -> Vec<String> {
    let ctxs: Vec<_> = crate::init::state().as_ref().map(|s| s.contexts.iter().flatten().cloned().collect()).unwrap_or_default();
    let mut v = vec![format!("cart counters: {} context(s)", ctxs.len())];
    for c in &ctxs {
        let (inflight, waiting) = c.counters();
        v.push(format!("context {} ({}): {} request(s) in flight, {} waiting for credits", c.idx(), c.uri(), inflight, waiting));
    }
    v
}

/// The hostname (`gethostname`), without its NUL.
pub fn hostname() -> Result<Vec<u8>, i32> {
    let mut buf = [0u8; 1024];
    // SAFETY: buf is writable for its length.
    if unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) } != 0 {
        return Err(der::DER_INVAL);
    }
    let n = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    Ok(buf[..n].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_and_sizes() {
        assert_eq!(CRT_OPC_CTL_LS, 0xFF04_0002);
        assert_eq!(register::proto_opc(CRT_OPC_FI_BASE, CRT_PROTO_FI_VERSION, 1), 0xF103_0001);
        assert_eq!(register::proto_opc(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, 5), 0xF301_0005);
        // upstream's measured body sizes (layouts.txt)
        assert_eq!(EP_LS_FMT.crf_size_in, 16);
        assert_eq!(EP_LS_FMT.crf_size_out, 32);
        assert_eq!(GET_URI_CACHE_FMT.crf_size_out, 24);
        assert_eq!(FI_ATTR_SET_FMT.crf_size_in, 40);
        assert_eq!(FI_TOGGLE_FMT.crf_size_in, 1);
        assert_eq!(GET_PID_FMT.crf_size_out, 8);
        assert_eq!(size_of::<crt_grp_cache>(), 16);
    }

    #[test]
    fn verify_needs_a_valid_group() {
        assert_eq!(verify(None, 0), Err(der::DER_INVAL));
        assert_eq!(verify(Some(b"bad;name"), 0), Err(der::DER_INVAL));
        assert_eq!(verify(Some(b""), 0), Err(der::DER_INVAL));
    }

    #[test]
    fn hostname_matches_libc() {
        let h = hostname().unwrap();
        assert!(!h.is_empty() && !h.contains(&0));
    }
}
