//! `crt_proc_*` (upstream `crt_hg_proc.c`): the C view of [`crate::proc`]. A `crt_proc_t` is a
//! `*mut Proc<'static>` made by `crt_proc_create` (or by the transport, over its own buffers).
//!
//! Every function refuses a NULL proc or NULL data with `-DER_INVAL` and an operation outside
//! `crt_proc_op_t` with `-DER_INVAL`. Unlike upstream (where the string and bulk functions
//! follow the proc's own operation and ignore the argument), every function here does what its
//! `proc_op` argument says, so the FREE pass a generated proc function runs after a failed
//! decode really frees. Memory a decode allocates comes from the libc heap: the FREE pass,
//! `D_FREE` and `d_rank_list_free` all release it.
use std::ffi::{c_int, c_void, CStr};
use std::ptr;

use crate::ffi::guard;
use crate::proc::{bulk_codec, Op, Proc, Scalar, DER_HG, DER_INVAL, DER_NOMEM};
use crate::sys::{crt_bulk_t, crt_context_t, crt_proc_op_t, crt_proc_t, d_const_string_t};
use crate::sys::{d_iov_t, d_rank_list_t, d_sg_list_t, d_string_t, uuid_t};

type P = Proc<'static>;

/// The proc behind a handle and the operation asked for.
///
/// # Safety
/// `proc` is NULL or a handle from `crt_proc_create` (or a live `Proc` the transport passed)
/// that no other thread uses during the call.
unsafe fn with<'p>(proc: crt_proc_t, op: crt_proc_op_t) -> Result<(&'p mut P, Op), c_int> {
    let op = Op::from_c(op).ok_or(DER_INVAL)?;
    // SAFETY: the caller's contract above.
    let p = unsafe { (proc as *mut P).as_mut() }.ok_or(DER_INVAL)?;
    if op == Op::Free && p.op() == Op::Encode {
        // The unwind of a failed encode: the data is the caller's, nothing was allocated.
        return Err(0);
    }
    Ok((p, op))
}

fn rc(r: Result<(), c_int>) -> c_int {
    r.err().unwrap_or(0)
}

/// A slice over a C buffer of `len` bytes (empty for NULL or 0).
///
/// # Safety
/// `buf` is valid for reads and writes of `len` bytes for as long as the proc uses it.
unsafe fn c_buf(buf: *mut c_void, len: usize) -> &'static mut [u8] {
    if buf.is_null() || len == 0 {
        return &mut [];
    }
    // SAFETY: the caller's contract above.
    unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, len) }
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_create(
    _crt_ctx: crt_context_t,
    buf: *mut c_void,
    buf_size: usize,
    proc_op: crt_proc_op_t,
    proc: *mut crt_proc_t,
) -> c_int {
    let Some(op) = Op::from_c(proc_op) else { return DER_INVAL };
    if proc.is_null() || (buf.is_null() && buf_size != 0) {
        return DER_INVAL;
    }
    // SAFETY: the caller keeps buf (buf_size bytes) alive until crt_proc_destroy/reset.
    let p = Box::new(Proc::new(unsafe { c_buf(buf, buf_size) }, op));
    // SAFETY: proc is non-NULL and points to a crt_proc_t.
    unsafe { *proc = Box::into_raw(p) as crt_proc_t };
    0
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_destroy(proc: crt_proc_t) -> c_int {
    if proc.is_null() {
        return DER_INVAL;
    }
    // SAFETY: proc came from crt_proc_create's Box and is not used again.
    drop(unsafe { Box::from_raw(proc as *mut P) });
    0
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_reset(
    proc: crt_proc_t,
    buf: *mut c_void,
    buf_size: usize,
    proc_op: crt_proc_op_t,
) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    if buf.is_null() && buf_size != 0 {
        return DER_INVAL;
    }
    // SAFETY: as in crt_proc_create.
    p.reset(unsafe { c_buf(buf, buf_size) }, op);
    0
}

#[no_mangle]
pub unsafe extern "C" fn crp_proc_get_size_used(proc: crt_proc_t) -> usize {
    // SAFETY: see `with`.
    match unsafe { (proc as *mut P).as_ref() } {
        Some(p) => p.size_used(),
        None => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_get_op(proc: crt_proc_t, proc_op: *mut crt_proc_op_t) -> c_int {
    // SAFETY: see `with`.
    let Some(p) = (unsafe { (proc as *mut P).as_ref() }) else { return DER_INVAL };
    if proc_op.is_null() {
        return DER_INVAL;
    }
    // SAFETY: non-NULL pointer to the caller's crt_proc_op_t.
    unsafe { *proc_op = p.op().to_c() };
    0
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_memcpy(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    data: *mut c_void,
    data_size: usize,
) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    if data_size == 0 || op == Op::Free {
        return 0;
    }
    if data.is_null() {
        return DER_INVAL;
    }
    // SAFETY: data holds data_size bytes (the caller's contract, as for memcpy).
    let d = unsafe { std::slice::from_raw_parts_mut(data as *mut u8, data_size) };
    rc(p.raw(op, d))
}

/// # Safety
/// As `with`; `data` is NULL or points to a T.
unsafe fn scalar<T: Scalar>(proc: crt_proc_t, proc_op: crt_proc_op_t, data: *mut T) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: data is NULL or the caller's T.
    match unsafe { data.as_mut() } {
        Some(v) => rc(p.scalar(op, v)),
        None => DER_INVAL,
    }
}

macro_rules! scalar_fns {
    ($($name:ident: $t:ty),*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(proc: crt_proc_t, proc_op: crt_proc_op_t, data: *mut $t) -> c_int {
            // SAFETY: forwarded caller contract.
            unsafe { scalar(proc, proc_op, data) }
        }
    )*};
}
scalar_fns!(
    crt_proc_int8_t: i8, crt_proc_uint8_t: u8, crt_proc_int16_t: i16, crt_proc_uint16_t: u16,
    crt_proc_int32_t: i32, crt_proc_uint32_t: u32, crt_proc_int64_t: i64, crt_proc_uint64_t: u64,
    crt_proc_bool: bool
);

#[no_mangle]
pub unsafe extern "C" fn crt_proc_uuid_t(proc: crt_proc_t, proc_op: crt_proc_op_t, data: *mut uuid_t) -> c_int {
    // SAFETY: a uuid_t is 16 bytes.
    unsafe { crt_proc_memcpy(proc, proc_op, data as *mut c_void, std::mem::size_of::<uuid_t>()) }
}

/// A heap copy of `bytes` with a NUL, from malloc (so free/D_FREE release it).
fn c_string(bytes: &[u8]) -> Result<*mut libc::c_char, c_int> {
    // SAFETY: malloc of len+1 bytes, filled below before use.
    let p = unsafe { libc::malloc(bytes.len() + 1) } as *mut u8;
    if p.is_null() {
        return Err(DER_NOMEM);
    }
    // SAFETY: p has bytes.len()+1 bytes.
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
    }
    Ok(p as *mut libc::c_char)
}

/// # Safety
/// As `with`; `data` is NULL or points to a char pointer that is NULL or a C string (from the
/// libc heap when freeing).
unsafe fn string(proc: crt_proc_t, proc_op: crt_proc_op_t, data: *mut *mut libc::c_char, is_const: bool) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    if data.is_null() {
        return DER_INVAL;
    }
    guard(DER_HG, std::panic::AssertUnwindSafe(move || {
        // SAFETY: data is non-NULL and the caller's.
        let s = unsafe { *data };
        match op {
            Op::Encode => {
                // SAFETY: s is NULL or a C string.
                let bytes = (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_bytes());
                p.encode_string(bytes, is_const);
                0
            }
            Op::Decode => match p.decode_string().and_then(|o| o.map_or(Ok(ptr::null_mut()), |b| c_string(&b))) {
                Ok(c) => {
                    // SAFETY: data is non-NULL.
                    unsafe { *data = c };
                    0
                }
                Err(e) => e,
            },
            Op::Free => {
                // SAFETY: a decoded string is from malloc; data is non-NULL.
                unsafe {
                    libc::free(s as *mut c_void);
                    *data = ptr::null_mut();
                }
                0
            }
        }
    }))
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_string_t(proc: crt_proc_t, proc_op: crt_proc_op_t, data: *mut d_string_t) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { string(proc, proc_op, data, false) }
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_const_string_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    data: *mut d_const_string_t,
) -> c_int {
    // SAFETY: forwarded caller contract (a decoded const string is still malloc'd).
    unsafe { string(proc, proc_op, data as *mut *mut libc::c_char, true) }
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_rank_list_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    data: *mut *mut d_rank_list_t,
) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    if data.is_null() {
        return DER_INVAL;
    }
    // SAFETY: data is non-NULL; *data is NULL or a rank list (from the libc heap when freeing).
    let list = unsafe { *data };
    match op {
        Op::Encode => {
            // SAFETY: a non-NULL list holds rl_nr ranks at rl_ranks.
            let ranks = unsafe { list.as_ref() }.map(|l| {
                if l.rl_nr == 0 || l.rl_ranks.is_null() {
                    &[][..]
                } else {
                    unsafe { std::slice::from_raw_parts(l.rl_ranks, l.rl_nr as usize) }
                }
            });
            p.encode_ranks(ranks);
            0
        }
        Op::Decode => match p.decode_ranks() {
            Err(e) => e,
            Ok(None) => {
                // SAFETY: data is non-NULL.
                unsafe { *data = ptr::null_mut() };
                0
            }
            Ok(Some(v)) => {
                // As d_rank_list_alloc lays it out: the struct and the ranks, both calloc'd.
                // SAFETY: fresh allocations, filled before they are published.
                unsafe {
                    let l = libc::calloc(1, std::mem::size_of::<d_rank_list_t>()) as *mut d_rank_list_t;
                    let r = libc::calloc(v.len(), 4) as *mut u32;
                    if l.is_null() || r.is_null() {
                        libc::free(l as *mut c_void);
                        libc::free(r as *mut c_void);
                        return DER_NOMEM;
                    }
                    ptr::copy_nonoverlapping(v.as_ptr(), r, v.len());
                    (*l).rl_ranks = r;
                    (*l).rl_nr = v.len() as u32;
                    *data = l;
                }
                0
            }
        },
        Op::Free => {
            // d_rank_list_free's work: both parts, then forget the list.
            // SAFETY: a decoded list is two libc allocations.
            unsafe {
                if let Some(l) = list.as_mut() {
                    libc::free(l.rl_ranks as *mut c_void);
                    libc::free(list as *mut c_void);
                }
                *data = ptr::null_mut();
            }
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_iov_t(proc: crt_proc_t, proc_op: crt_proc_op_t, div: *mut d_iov_t) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: div is NULL or the caller's iov.
    let Some(iov) = (unsafe { div.as_mut() }) else { return DER_INVAL };
    if op == Op::Free {
        // A decoded iov points into the message: nothing to free.
        *iov = d_iov_t { iov_buf: ptr::null_mut(), iov_buf_len: 0, iov_len: 0 };
        return 0;
    }
    let (mut bl, mut l) = (iov.iov_buf_len as u64, iov.iov_len as u64);
    if let Err(e) = p.iov_header(op, &mut bl, &mut l) {
        return e;
    }
    match op {
        Op::Decode => {
            iov.iov_buf_len = bl as usize;
            iov.iov_len = l as usize;
            if bl == 0 {
                iov.iov_buf = ptr::null_mut();
                return 0;
            }
            match usize::try_from(l).map_err(|_| DER_HG).and_then(|n| p.take_in_place(n)) {
                Ok(ptr) => {
                    iov.iov_buf = ptr as *mut c_void;
                    0
                }
                Err(e) => {
                    iov.iov_buf = ptr::null_mut();
                    e
                }
            }
        }
        _ => {
            if l == 0 {
                return 0;
            }
            if iov.iov_buf.is_null() {
                return DER_INVAL;
            }
            // SAFETY: the iov's buffer holds iov_len bytes.
            let d = unsafe { std::slice::from_raw_parts(iov.iov_buf as *const u8, l as usize) };
            p.put(d);
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_sg_list_t(proc: crt_proc_t, proc_op: crt_proc_op_t, sgl: *mut d_sg_list_t) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: sgl is NULL or the caller's list.
    let Some(s) = (unsafe { sgl.as_mut() }) else { return DER_INVAL };
    if op == Op::Free {
        // The iovs point into the message; only the array is ours (as D_FREE would do).
        // SAFETY: a decoded array is from calloc.
        unsafe { libc::free(s.sg_iovs as *mut c_void) };
        s.sg_iovs = ptr::null_mut();
        return 0;
    }
    if let Err(e) = p.scalar(op, &mut s.sg_nr).and_then(|_| p.scalar(op, &mut s.sg_nr_out)) {
        return e;
    }
    if s.sg_nr == 0 {
        return 0;
    }
    if op == Op::Decode {
        // The count comes from the wire: each iov needs at least its 16-byte header, so a count
        // the rest of the message cannot hold is refused before allocating.
        let left = p_remaining(p);
        if (s.sg_nr as usize).saturating_mul(16) > left {
            s.sg_iovs = ptr::null_mut();
            return DER_HG;
        }
        // SAFETY: calloc of sg_nr iovs.
        s.sg_iovs = unsafe { libc::calloc(s.sg_nr as usize, std::mem::size_of::<d_iov_t>()) } as *mut d_iov_t;
        if s.sg_iovs.is_null() {
            return DER_NOMEM;
        }
    } else if s.sg_iovs.is_null() {
        return DER_INVAL;
    }
    for i in 0..s.sg_nr as usize {
        // SAFETY: sg_iovs holds sg_nr iovs; p is the live proc behind `proc`.
        let r = unsafe { crt_proc_d_iov_t(proc, proc_op, s.sg_iovs.add(i)) };
        if r != 0 {
            if op == Op::Decode {
                // SAFETY: our own calloc'd array.
                unsafe { libc::free(s.sg_iovs as *mut c_void) };
                s.sg_iovs = ptr::null_mut();
            }
            return r;
        }
    }
    0
}

/// Bytes left to decode.
fn p_remaining(p: &P) -> usize {
    p.remaining()
}

#[no_mangle]
pub unsafe extern "C" fn crt_proc_crt_bulk_t(proc: crt_proc_t, proc_op: crt_proc_op_t, bulk_hdl: *mut crt_bulk_t) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    if bulk_hdl.is_null() {
        return DER_INVAL;
    }
    // SAFETY: bulk_hdl is non-NULL and the caller's.
    let h = unsafe { *bulk_hdl };
    guard(DER_HG, std::panic::AssertUnwindSafe(move || match op {
        Op::Encode => {
            if h.is_null() {
                p.encode_bulk(None);
                return 0;
            }
            match bulk_codec().ok_or(DER_HG).and_then(|c| c.serialize(h)) {
                Ok(d) => {
                    p.encode_bulk(Some(&d));
                    0
                }
                Err(e) => e,
            }
        }
        Op::Decode => {
            let r = p.decode_bulk().and_then(|d| match d {
                None => Ok(ptr::null_mut()),
                Some(d) => bulk_codec().ok_or(DER_HG).and_then(|c| c.deserialize(&d)),
            });
            match r {
                Ok(n) => {
                    // SAFETY: bulk_hdl is non-NULL.
                    unsafe { *bulk_hdl = n };
                    0
                }
                Err(e) => e,
            }
        }
        Op::Free => {
            if let (false, Some(c)) = (h.is_null(), bulk_codec()) {
                c.release(h);
                // SAFETY: bulk_hdl is non-NULL.
                unsafe { *bulk_hdl = ptr::null_mut() };
            }
            0
        }
    }))
}
