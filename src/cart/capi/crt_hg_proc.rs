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

/// A proc over `buf` (`buf_size` bytes) for `proc_op`, into `*proc`.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_create(
    _crt_ctx: crt_context_t,
    buf: *mut c_void,
    buf_size: usize,
    proc_op: crt_proc_op_t,
    proc: *mut crt_proc_t,
) -> c_int {
    let Some(op) = Op::from_c(proc_op) else {
        return DER_INVAL;
    };
    if proc.is_null() || (buf.is_null() && buf_size != 0) {
        return DER_INVAL;
    }
    // SAFETY: the caller keeps buf (buf_size bytes) alive until crt_proc_destroy/reset.
    let p = Box::new(Proc::new(unsafe { c_buf(buf, buf_size) }, op));
    // SAFETY: proc is non-NULL and points to a crt_proc_t.
    unsafe { *proc = Box::into_raw(p) as crt_proc_t };
    0
}

/// Frees a proc made by `crt_proc_create`.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_destroy(proc: crt_proc_t) -> c_int {
    if proc.is_null() {
        return DER_INVAL;
    }
    // SAFETY: proc came from crt_proc_create's Box and is not used again.
    drop(unsafe { Box::from_raw(proc as *mut P) });
    0
}

/// Points a proc at another buffer and operation, at offset 0.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
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

/// Bytes encoded or decoded so far (0 for NULL).
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crp_proc_get_size_used(proc: crt_proc_t) -> usize {
    // SAFETY: see `with`.
    match unsafe { (proc as *mut P).as_ref() } {
        Some(p) => p.size_used(),
        None => 0,
    }
}

/// The proc's operation, into `*proc_op`.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_get_op(proc: crt_proc_t, proc_op: *mut crt_proc_op_t) -> c_int {
    // SAFETY: see `with`.
    let Some(p) = (unsafe { (proc as *mut P).as_ref() }) else {
        return DER_INVAL;
    };
    if proc_op.is_null() {
        return DER_INVAL;
    }
    // SAFETY: non-NULL pointer to the caller's crt_proc_op_t.
    unsafe { *proc_op = p.op().to_c() };
    0
}

/// `data_size` bytes at `data`, as they are.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
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
        /// One fixed-size value, little-endian.
        ///
        /// # Safety
        /// As the other proc functions: `proc` and `data` are NULL or valid.
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

/// A uuid: its 16 bytes.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_uuid_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    data: *mut uuid_t,
) -> c_int {
    // SAFETY: a uuid_t is 16 bytes.
    unsafe {
        crt_proc_memcpy(
            proc,
            proc_op,
            data as *mut c_void,
            std::mem::size_of::<uuid_t>(),
        )
    }
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
unsafe fn string(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    data: *mut *mut libc::c_char,
    is_const: bool,
) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    if data.is_null() {
        return DER_INVAL;
    }
    guard(
        DER_HG,
        std::panic::AssertUnwindSafe(move || {
            // SAFETY: data is non-NULL and the caller's.
            let s = unsafe { *data };
            match op {
                Op::Encode => {
                    // SAFETY: s is NULL or a C string.
                    let bytes = (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_bytes());
                    p.encode_string(bytes, is_const);
                    0
                }
                Op::Decode => match p
                    .decode_string()
                    .and_then(|o| o.map_or(Ok(ptr::null_mut()), |b| c_string(&b)))
                {
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
        }),
    )
}

/// A string (Mercury's string object format); decoding mallocs it.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_string_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    data: *mut d_string_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { string(proc, proc_op, data, false) }
}

/// A const string, as `crt_proc_d_string_t` (flagged const on the wire).
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_const_string_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    data: *mut d_const_string_t,
) -> c_int {
    // SAFETY: forwarded caller contract (a decoded const string is still malloc'd).
    unsafe { string(proc, proc_op, data as *mut *mut libc::c_char, true) }
}

/// A rank list: u32 count and the ranks; decoding allocates as `d_rank_list_alloc`.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
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
                    let l =
                        libc::calloc(1, std::mem::size_of::<d_rank_list_t>()) as *mut d_rank_list_t;
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

/// An iov: both lengths, then the data; a decoded iov points into the message.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_iov_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    div: *mut d_iov_t,
) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: div is NULL or the caller's iov.
    let Some(iov) = (unsafe { div.as_mut() }) else {
        return DER_INVAL;
    };
    if op == Op::Free {
        // A decoded iov points into the message: nothing to free.
        *iov = d_iov_t {
            iov_buf: ptr::null_mut(),
            iov_buf_len: 0,
            iov_len: 0,
        };
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
            match usize::try_from(l)
                .map_err(|_| DER_HG)
                .and_then(|n| p.take_in_place(n))
            {
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

/// An sgl: `sg_nr`, `sg_nr_out`, then the iovs; decoding callocs `sg_iovs`.
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_d_sg_list_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    sgl: *mut d_sg_list_t,
) -> c_int {
    // SAFETY: see `with`.
    let (p, op) = match unsafe { with(proc, proc_op) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: sgl is NULL or the caller's list.
    let Some(s) = (unsafe { sgl.as_mut() }) else {
        return DER_INVAL;
    };
    if op == Op::Free {
        // The iovs point into the message; only the array is ours (as D_FREE would do).
        // SAFETY: a decoded array is from calloc.
        unsafe { libc::free(s.sg_iovs as *mut c_void) };
        s.sg_iovs = ptr::null_mut();
        return 0;
    }
    if op == Op::Decode {
        // Whatever the struct held is not ours to free later: a list that fails to decode, or
        // has no iovs, has none.
        s.sg_iovs = ptr::null_mut();
    }
    if let Err(e) = p
        .scalar(op, &mut s.sg_nr)
        .and_then(|_| p.scalar(op, &mut s.sg_nr_out))
    {
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
        s.sg_iovs = unsafe { libc::calloc(s.sg_nr as usize, std::mem::size_of::<d_iov_t>()) }
            as *mut d_iov_t;
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

/// A bulk handle, through the transport's [`crate::proc::BulkCodec`].
///
/// # Safety
/// `proc` is NULL or a live proc no other thread uses during the call; the pointer arguments
/// are NULL or valid for what they point to (buffers for the sizes given), as in C.
#[no_mangle]
pub unsafe extern "C" fn crt_proc_crt_bulk_t(
    proc: crt_proc_t,
    proc_op: crt_proc_op_t,
    bulk_hdl: *mut crt_bulk_t,
) -> c_int {
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
    guard(
        DER_HG,
        std::panic::AssertUnwindSafe(move || match op {
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
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::{set_bulk_codec, BulkCodec};
    use crate::sys::{CRT_PROC_DECODE, CRT_PROC_ENCODE, CRT_PROC_FREE};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A stand-in transport: a handle is a boxed descriptor.
    struct BoxCodec {
        released: AtomicUsize,
    }

    impl BulkCodec for BoxCodec {
        fn serialize(&self, hdl: *mut c_void) -> Result<Vec<u8>, i32> {
            // SAFETY: the test's handles are Box<Vec<u8>>.
            Ok(unsafe { &*(hdl as *const Vec<u8>) }.clone())
        }
        fn deserialize(&self, desc: &[u8]) -> Result<*mut c_void, i32> {
            if desc.first() == Some(&0xee) {
                return Err(DER_NOMEM);
            }
            Ok(Box::into_raw(Box::new(desc.to_vec())) as *mut c_void)
        }
        fn release(&self, hdl: *mut c_void) {
            // SAFETY: made by deserialize.
            drop(unsafe { Box::from_raw(hdl as *mut Vec<u8>) });
            self.released.fetch_add(1, Ordering::SeqCst);
        }
    }

    static CODEC: BoxCodec = BoxCodec {
        released: AtomicUsize::new(0),
    };

    fn new_proc(buf: &mut [u8], op: u32) -> crt_proc_t {
        let mut p: crt_proc_t = ptr::null_mut();
        assert_eq!(
            unsafe {
                crt_proc_create(
                    ptr::null_mut(),
                    buf.as_mut_ptr() as *mut c_void,
                    buf.len(),
                    op,
                    &mut p,
                )
            },
            0
        );
        p
    }

    #[test]
    fn bulk_handles_cross_through_the_transport_codec() {
        assert!(set_bulk_codec(&CODEC));
        assert!(!set_bulk_codec(&CODEC), "installed once");
        let mut local = vec![1u8, 2, 3];
        let mut h: crt_bulk_t = &mut local as *mut Vec<u8> as crt_bulk_t;
        let mut null: crt_bulk_t = ptr::null_mut();
        let mut buf = [0u8; 64];
        let p = new_proc(&mut buf, CRT_PROC_ENCODE);
        unsafe {
            assert_eq!(crt_proc_crt_bulk_t(p, CRT_PROC_ENCODE, &mut h), 0);
            assert_eq!(crt_proc_crt_bulk_t(p, CRT_PROC_ENCODE, &mut null), 0);
            assert_eq!(crp_proc_get_size_used(p), 8 + 3 + 8);
            // FREE on an encoding proc leaves the caller's handle alone
            assert_eq!(crt_proc_crt_bulk_t(p, CRT_PROC_FREE, &mut h), 0);
            assert!(!h.is_null());
            crt_proc_destroy(p);
        }
        assert_eq!(&buf[..11], &[3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
        let p = new_proc(&mut buf[..19], CRT_PROC_DECODE);
        let (mut a, mut b): (crt_bulk_t, crt_bulk_t) = (ptr::null_mut(), 1 as crt_bulk_t);
        unsafe {
            assert_eq!(crt_proc_crt_bulk_t(p, CRT_PROC_DECODE, &mut a), 0);
            assert_eq!(crt_proc_crt_bulk_t(p, CRT_PROC_DECODE, &mut b), 0);
            assert_eq!(&*(a as *const Vec<u8>), &vec![1, 2, 3]);
            assert!(b.is_null());
            assert_eq!(crt_proc_reset(p, ptr::null_mut(), 0, CRT_PROC_FREE), 0);
            let before = CODEC.released.load(Ordering::SeqCst);
            assert_eq!(crt_proc_crt_bulk_t(p, CRT_PROC_FREE, &mut a), 0);
            assert_eq!(CODEC.released.load(Ordering::SeqCst), before + 1);
            assert!(a.is_null());
            crt_proc_destroy(p);
        }
        // a descriptor the transport refuses: its error comes back
        let mut bad = [1u8, 0, 0, 0, 0, 0, 0, 0, 0xee];
        let p = new_proc(&mut bad, CRT_PROC_DECODE);
        let mut c: crt_bulk_t = ptr::null_mut();
        unsafe {
            assert_eq!(crt_proc_crt_bulk_t(p, CRT_PROC_DECODE, &mut c), DER_NOMEM);
            crt_proc_destroy(p);
        }
    }

    #[test]
    fn strings_and_rank_lists_through_the_c_api() {
        let mut buf = [0u8; 64];
        let p = new_proc(&mut buf, CRT_PROC_ENCODE);
        let mut s: d_string_t = c"xyz".as_ptr() as d_string_t;
        let mut ranks = [9u32, 8];
        let mut rl = d_rank_list_t {
            rl_ranks: ranks.as_mut_ptr(),
            rl_nr: 2,
        };
        let mut rlp: *mut d_rank_list_t = &mut rl;
        unsafe {
            assert_eq!(crt_proc_d_string_t(p, CRT_PROC_ENCODE, &mut s), 0);
            assert_eq!(crt_proc_d_rank_list_t(p, CRT_PROC_ENCODE, &mut rlp), 0);
            assert_eq!(crp_proc_get_size_used(p), 8 + 4 + 2 + 4 + 8);
            crt_proc_destroy(p);
        }
        let p = new_proc(&mut buf[..26], CRT_PROC_DECODE);
        let mut s2: d_string_t = ptr::null_mut();
        let mut rl2: *mut d_rank_list_t = ptr::null_mut();
        unsafe {
            assert_eq!(crt_proc_d_string_t(p, CRT_PROC_DECODE, &mut s2), 0);
            assert_eq!(crt_proc_d_rank_list_t(p, CRT_PROC_DECODE, &mut rl2), 0);
            assert_eq!(CStr::from_ptr(s2).to_bytes(), b"xyz");
            assert_eq!(
                std::slice::from_raw_parts((*rl2).rl_ranks, (*rl2).rl_nr as usize),
                &[9, 8]
            );
            assert_eq!(crt_proc_d_string_t(p, CRT_PROC_FREE, &mut s2), 0);
            assert_eq!(crt_proc_d_rank_list_t(p, CRT_PROC_FREE, &mut rl2), 0);
            assert!(s2.is_null() && rl2.is_null());
            crt_proc_destroy(p);
        }
    }
}
