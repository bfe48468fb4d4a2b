//! `crt_proto_register` (upstream `crt_register.c`): the C view of [`crate::register`].
use std::ffi::c_int;

use crate::register::{self, RpcFormat};
use crate::sys::crt_proto_format;
use crate::transport::der::DER_INVAL;

/// # Safety
/// `cpf` is NULL or a valid protocol whose `cpf_prf` holds `cpf_count` entries, each
/// `prf_req_fmt` NULL or valid; they must outlive the registration (as upstream requires).
#[no_mangle]
pub unsafe extern "C" fn crt_proto_register(cpf: *mut crt_proto_format) -> c_int {
    if !crate::init::initialized() {
        return crate::init::DER_UNINIT;
    }
    // SAFETY: the caller's contract.
    let Some(p) = (unsafe { cpf.as_ref() }) else {
        return DER_INVAL;
    };
    if !register::valid_base(p.cpf_base) {
        return DER_INVAL;
    }
    if p.cpf_prf.is_null() || p.cpf_count == 0 || p.cpf_count > register::CRT_PROTO_MAX_COUNT {
        return DER_INVAL;
    }
    // SAFETY: cpf_prf holds cpf_count entries (contract).
    let prfs = unsafe { std::slice::from_raw_parts(p.cpf_prf, p.cpf_count as usize) };
    let rpcs: Vec<RpcFormat> = prfs
        .iter()
        .map(|f| {
            // SAFETY: prf_req_fmt is NULL or valid (contract).
            let fmt = unsafe { f.prf_req_fmt.as_ref() };
            RpcFormat {
                req_fmt: f.prf_req_fmt as usize,
                size_in: fmt.map_or(0, |r| r.crf_size_in),
                size_out: fmt.map_or(0, |r| r.crf_size_out),
                handler: f.prf_hdlr.map_or(0, |h| h as usize),
                co_ops: f.prf_co_ops as usize,
                flags: f.prf_flags,
            }
        })
        .collect();
    register::proto_register(p.cpf_base, p.cpf_ver, &rpcs, false).err().unwrap_or(0)
}
