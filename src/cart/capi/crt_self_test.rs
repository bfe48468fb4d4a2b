//! The self-test protocol's exports (upstream `crt_self_test_{service,client}.c` and the
//! CRT_RPC_DEFINEs of `crt_rpc.c`): request formats, handlers, and the init/fini pairs.
//! The sessions and runs are `crate::self_test`'s.
use crate::capi::{crt_reply_send, crt_req_addref};
use crate::self_test::{self as st, Flags, SessionParams, StartParams, Status};
use crate::sys::{crt_bulk_cb_info, crt_bulk_t, crt_req_format, crt_rpc_t, st_buf_entry};
use std::ffi::c_int;

/// `CQF_crt_st_send_id_reply_iov`.
#[no_mangle]
pub static CQF_crt_st_send_id_reply_iov: crt_req_format = st::SEND_ID_REPLY_IOV_FMT;
/// `CQF_crt_st_send_iov_reply_empty`.
#[no_mangle]
pub static CQF_crt_st_send_iov_reply_empty: crt_req_format = st::SEND_IOV_REPLY_EMPTY_FMT;
/// `CQF_crt_st_both_iov`.
#[no_mangle]
pub static CQF_crt_st_both_iov: crt_req_format = st::BOTH_IOV_FMT;
/// `CQF_crt_st_send_iov_reply_bulk`.
#[no_mangle]
pub static CQF_crt_st_send_iov_reply_bulk: crt_req_format = st::SEND_IOV_REPLY_BULK_FMT;
/// `CQF_crt_st_send_bulk_reply_iov`.
#[no_mangle]
pub static CQF_crt_st_send_bulk_reply_iov: crt_req_format = st::SEND_BULK_REPLY_IOV_FMT;
/// `CQF_crt_st_both_bulk`.
#[no_mangle]
pub static CQF_crt_st_both_bulk: crt_req_format = st::BOTH_BULK_FMT;
/// `CQF_crt_st_open_session`.
#[no_mangle]
pub static CQF_crt_st_open_session: crt_req_format = st::OPEN_SESSION_FMT;
/// `CQF_crt_st_close_session`.
#[no_mangle]
pub static CQF_crt_st_close_session: crt_req_format = st::CLOSE_SESSION_FMT;
/// `CQF_crt_st_start`.
#[no_mangle]
pub static CQF_crt_st_start: crt_req_format = st::START_FMT;
/// `CQF_crt_st_status_req`.
#[no_mangle]
pub static CQF_crt_st_status_req: crt_req_format = st::STATUS_REQ_FMT;

// Upstream's init/fini pairs set up the locks of its globals; here the state lives in
// statics that need no setup, and the last crt_finalize drops the sessions and the run.

/// Service-side setup (nothing to do: the session table is a static).
#[no_mangle]
pub extern "C" fn crt_self_test_service_init() {}

/// Service-side teardown (the table is emptied by the last `crt_finalize`).
#[no_mangle]
pub extern "C" fn crt_self_test_service_fini() {}

/// Client-side setup (nothing to do: the run slot is a static).
#[no_mangle]
pub extern "C" fn crt_self_test_client_init() {}

/// Client-side teardown.
#[no_mangle]
pub extern "C" fn crt_self_test_client_fini() {}

/// Both setups (`crt_init` runs it).
#[no_mangle]
pub extern "C" fn crt_self_test_init() {
    crt_self_test_service_init();
    crt_self_test_client_init();
}

/// Both teardowns.
#[no_mangle]
pub extern "C" fn crt_self_test_fini() {
    crt_self_test_service_fini();
    crt_self_test_client_fini();
}

/// OPEN_SESSION: the session id, or -1.
///
/// # Safety
/// `rpc_req` NULL or a live server RPC of this opcode (cart's dispatch).
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_open_session_handler(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract: input four uint32_t, output an int64_t.
    unsafe {
        let Some(r) = rpc_req.as_ref() else { return };
        let (i, o) = (r.cr_input as *const [u32; 4], r.cr_output as *mut i64);
        if i.is_null() || o.is_null() {
            return;
        }
        let [send_size, reply_size, num_buffers, flags] = *i;
        let p = SessionParams { send_size, reply_size, num_buffers, flags: Flags::unpack(flags) };
        *o = st::open_session(r.cr_ctx, p);
        crt_reply_send(rpc_req);
    }
}

/// CLOSE_SESSION (an unknown id is answered the same).
///
/// # Safety
/// As `crt_self_test_open_session_handler`.
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_close_session_handler(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract: the input is the session id.
    unsafe {
        let Some(r) = rpc_req.as_ref() else { return };
        if let Some(id) = (r.cr_input as *const i64).as_ref() {
            st::close_session(*id);
        }
        crt_reply_send(rpc_req);
    }
}

/// The seven test messages.
///
/// # Safety
/// As `crt_self_test_open_session_handler`.
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_msg_handler(rpc_req: *mut crt_rpc_t) {
    if rpc_req.is_null() {
        return;
    }
    // SAFETY: the contract.
    unsafe { st::msg_handler(rpc_req) }
}

/// A test message's reply (see the header); `do_decref` is implied: the entry holds its
/// session until it is back.
///
/// # Safety
/// `rpc_req` is a live server RPC with a reference taken by its handler; `buf_entry` NULL or
/// an entry the service handed out for it.
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_msg_send_reply(rpc_req: *mut crt_rpc_t, buf_entry: *mut st_buf_entry, _do_decref: c_int) {
    if rpc_req.is_null() {
        return;
    }
    // SAFETY: the contract: a non-NULL entry is a boxed Pending.
    unsafe {
        let p = (!buf_entry.is_null()).then(|| Box::from_raw(buf_entry as *mut st::Pending));
        st::send_reply(rpc_req, p)
    }
}

/// The service's pull completion.
///
/// # Safety
/// Called by cart for a transfer the service started.
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_msg_bulk_get_cb(cb_info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: the contract.
    unsafe { st::bulk_get_cb(cb_info) }
}

/// The service's push completion.
///
/// # Safety
/// As `crt_self_test_msg_bulk_get_cb`.
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_msg_bulk_put_cb(cb_info: *const crt_bulk_cb_info) -> c_int {
    // SAFETY: the contract.
    unsafe { st::bulk_put_cb(cb_info) }
}

/// START: checks the parameters and begins the run; the reply's status is 0, -DER_INVAL or
/// -DER_BUSY (a run still going).
///
/// # Safety
/// As `crt_self_test_open_session_handler`.
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_start_handler(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract: input crt_st_start_in (upstream's crt_st_start_params), output
    // an int32_t.
    unsafe {
        let Some(r) = rpc_req.as_ref() else { return };
        let (i, o) = (r.cr_input as *const crate::sys::crt_st_start_in, r.cr_output as *mut i32);
        let (Some(i), false) = (i.as_ref(), o.is_null()) else { return };
        let f = Flags::unpack(i.unused7);
        let len = i.unused2.iov_buf_len;
        let rc = match st::check_start(if i.unused2.iov_buf.is_null() { 0 } else { len }, i.unused3, i.unused4, f) {
            Err(e) => e,
            Ok(()) => {
                let b = std::slice::from_raw_parts(i.unused2.iov_buf as *const u8, len);
                let p = StartParams {
                    grp: st::lookup_group(i.unused1),
                    endpts: st::parse_endpts(b),
                    rep_count: i.unused3,
                    max_inflight: i.unused4,
                    send_size: i.unused5,
                    reply_size: i.unused6,
                    flags: f,
                };
                st::start(r.cr_ctx, p)
            }
        };
        *o = rc;
        crt_reply_send(rpc_req);
    }
}

/// STATUS_REQ: progress of the run, or (once complete) the latencies pushed into the
/// requester's bulk handle, after which the reply says COMPLETE and the run is forgotten.
///
/// # Safety
/// As `crt_self_test_open_session_handler`.
#[no_mangle]
pub unsafe extern "C" fn crt_self_test_status_req_handler(rpc_req: *mut crt_rpc_t) {
    // SAFETY: the contract: the input is a bulk handle; the reference taken here is dropped
    // after the reply (here, or by the push's callback).
    unsafe {
        let Some(r) = rpc_req.as_ref() else { return };
        let Some(remote) = (r.cr_input as *const crt_bulk_t).as_ref().copied() else { return };
        crt_req_addref(rpc_req);
        match st::status(rpc_req, remote) {
            Status::Pushing => {}
            Status::Now(dur, remaining, status) => {
                st::fill_status(rpc_req, dur, remaining, status);
                crt_reply_send(rpc_req);
                crate::capi::crt_req_decref(rpc_req);
            }
        }
    }
}
