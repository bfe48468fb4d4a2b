//! The serialisation core behind `crt_proc_*` (upstream `crt_hg_proc.c`, which encodes through
//! Mercury's `hg_proc`): a cursor over one buffer that encodes, decodes, or (for the FREE pass)
//! touches nothing. The byte format is written down in docs/cart-proc.md; in short, every value
//! is its native x86-64 size, little-endian, unaligned and unpadded, in field order.
//!
//! Encoding never fails for lack of room: like Mercury's proc, once the caller's buffer is full
//! the encoding continues in an owned overflow buffer that holds the whole message
//! ([`Proc::encoded`]), and [`Proc::size_used`] says how large it got. Decoding past the end of
//! the buffer is an error (`-DER_HG`, the code upstream gives proc-layer failures), never a
//! read out of bounds.
//!
//! The transport drives bodies through the C proc callbacks (`crf_proc_in/out`) by passing a
//! `*mut Proc` as the opaque `crt_proc_t`; that is all a `crt_proc_t` ever is.
use std::ffi::c_void;
use std::sync::OnceLock;

use crate::sys;

/// `-DER_INVAL`.
pub const DER_INVAL: i32 = -(sys::DER_INVAL as i32);
/// `-DER_NOMEM`.
pub const DER_NOMEM: i32 = -(sys::DER_NOMEM as i32);
/// `-DER_HG`: the proc layer failed (truncated or malformed input).
pub const DER_HG: i32 = -(sys::DER_HG as i32);

/// What a proc does with each value (`crt_proc_op_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Encode,
    Decode,
    Free,
}

impl Op {
    /// From the C enum's value; anything else is not an operation.
    pub fn from_c(v: u32) -> Option<Op> {
        match v {
            x if x == sys::CRT_PROC_ENCODE => Some(Op::Encode),
            x if x == sys::CRT_PROC_DECODE => Some(Op::Decode),
            x if x == sys::CRT_PROC_FREE => Some(Op::Free),
            _ => None,
        }
    }

    /// The C enum's value.
    pub fn to_c(self) -> u32 {
        match self {
            Op::Encode => sys::CRT_PROC_ENCODE,
            Op::Decode => sys::CRT_PROC_DECODE,
            Op::Free => sys::CRT_PROC_FREE,
        }
    }
}

/// A serialisation cursor over one buffer.
pub struct Proc<'a> {
    op: Op,
    buf: &'a mut [u8],
    pos: usize,
    /// The whole encoding once it outgrew `buf` (Mercury's "extra buffer").
    overflow: Option<Vec<u8>>,
}

impl<'a> Proc<'a> {
    /// A proc over `buf` for `op`, at offset 0.
    pub fn new(buf: &'a mut [u8], op: Op) -> Self {
        Proc {
            op,
            buf,
            pos: 0,
            overflow: None,
        }
    }

    /// Points the proc at another buffer and operation, at offset 0.
    pub fn reset(&mut self, buf: &'a mut [u8], op: Op) {
        *self = Proc::new(buf, op);
    }

    pub fn op(&self) -> Op {
        self.op
    }

    /// Bytes encoded or decoded so far.
    pub fn size_used(&self) -> usize {
        self.pos
    }

    /// Bytes left to decode in the buffer.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether the encoding outgrew the caller's buffer.
    pub fn overflowed(&self) -> bool {
        self.overflow.is_some()
    }

    /// The bytes encoded so far, wherever they are.
    pub fn encoded(&self) -> &[u8] {
        match &self.overflow {
            Some(v) => v,
            None => &self.buf[..self.pos],
        }
    }

    /// Appends bytes (encoding).
    pub fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        match &mut self.overflow {
            Some(v) => v.extend_from_slice(bytes),
            None if end <= self.buf.len() => self.buf[self.pos..end].copy_from_slice(bytes),
            None => {
                let mut v = Vec::with_capacity(end.max(2 * self.buf.len()));
                v.extend_from_slice(&self.buf[..self.pos]);
                v.extend_from_slice(bytes);
                self.overflow = Some(v);
            }
        }
        self.pos = end;
    }

    /// Appends a fixed-size value (the common case, kept to one store when it fits).
    #[inline]
    pub fn put_fixed<const N: usize>(&mut self, b: [u8; N]) {
        if self.overflow.is_none() {
            if let Some(dst) = self.buf.get_mut(self.pos..self.pos + N) {
                dst.copy_from_slice(&b);
                self.pos += N;
                return;
            }
        }
        self.put(&b);
    }

    /// The next `N` bytes as an array (decoding), or `-DER_HG` when fewer are left.
    #[inline]
    pub fn take_fixed<const N: usize>(&mut self) -> Result<[u8; N], i32> {
        let end = self.pos.checked_add(N).ok_or(DER_HG)?;
        let b: [u8; N] = self
            .buf
            .get(self.pos..end)
            .ok_or(DER_HG)?
            .try_into()
            .map_err(|_| DER_HG)?;
        self.pos = end;
        Ok(b)
    }

    /// The next `n` bytes (decoding), or `-DER_HG` when fewer are left.
    pub fn take(&mut self, n: usize) -> Result<&[u8], i32> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DER_HG)?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next `n` bytes left in place (decoding an iov points into the message, as upstream
    /// does): their address, valid as long as the buffer.
    pub fn take_in_place(&mut self, n: usize) -> Result<*mut u8, i32> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DER_HG)?;
        let p = self.buf[self.pos..end].as_mut_ptr();
        self.pos = end;
        Ok(p)
    }

    /// Encodes or decodes `data` as raw bytes per `op`; FREE does nothing.
    pub fn raw(&mut self, op: Op, data: &mut [u8]) -> Result<(), i32> {
        match op {
            Op::Encode => self.put(data),
            Op::Decode => {
                let n = data.len();
                data.copy_from_slice(self.take(n)?);
            }
            Op::Free => {}
        }
        Ok(())
    }
}

/// Fixed-size values: native size, little-endian.
pub trait Scalar: Copy {
    const SIZE: usize;
    fn write(self, proc: &mut Proc<'_>);
    fn read(proc: &mut Proc<'_>) -> Result<Self, i32>;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn write(self, proc: &mut Proc<'_>) {
                proc.put_fixed(self.to_le_bytes());
            }
            #[inline]
            fn read(proc: &mut Proc<'_>) -> Result<Self, i32> {
                Ok(<$t>::from_le_bytes(proc.take_fixed()?))
            }
        }
    )*};
}
scalar!(u8, i8, u16, i16, u32, i32, u64, i64);

impl Scalar for bool {
    const SIZE: usize = 1;
    #[inline]
    fn write(self, proc: &mut Proc<'_>) {
        proc.put_fixed([self as u8]);
    }
    /// Any nonzero byte is true (a C bool must hold 0 or 1).
    #[inline]
    fn read(proc: &mut Proc<'_>) -> Result<Self, i32> {
        Ok(proc.take_fixed::<1>()?[0] != 0)
    }
}

impl Proc<'_> {
    /// One scalar per `op` (`crt_proc_<type>`).
    #[inline]
    pub fn scalar<T: Scalar>(&mut self, op: Op, v: &mut T) -> Result<(), i32> {
        match op {
            Op::Encode => v.write(self),
            Op::Decode => *v = T::read(self)?,
            Op::Free => {}
        }
        Ok(())
    }

    /// A string as Mercury's `hg_string_object` goes: the length with its NUL as a u64 (0 for
    /// NULL), the bytes and the NUL, then the `is_const` and `is_owned` flag bytes (only when
    /// the length is not 0). `s` is the string without its NUL.
    pub fn encode_string(&mut self, s: Option<&[u8]>, is_const: bool) {
        match s {
            None => 0u64.write(self),
            Some(b) => {
                (b.len() as u64 + 1).write(self);
                self.put(b);
                self.put(&[0, is_const as u8, 0]);
            }
        }
    }

    /// Reads a string written by [`Proc::encode_string`]: its bytes without the NUL, or None
    /// for NULL. A length whose last byte is not NUL, or that runs past the end, is `-DER_HG`.
    pub fn decode_string(&mut self) -> Result<Option<Vec<u8>>, i32> {
        let n = u64::read(self)?;
        if n == 0 {
            return Ok(None);
        }
        let n = usize::try_from(n).map_err(|_| DER_HG)?;
        let b = self.take(n)?;
        let (nul, body) = b.split_last().ok_or(DER_HG)?;
        if *nul != 0 || body.contains(&0) {
            return Err(DER_HG);
        }
        let body = body.to_vec();
        self.take(2)?; // is_const, is_owned: the receiver owns what it decodes
        Ok(Some(body))
    }

    /// A rank list: the count as a u32, then the ranks (u32 each). NULL and empty lists are
    /// both a count of 0.
    pub fn encode_ranks(&mut self, ranks: Option<&[u32]>) {
        let r = ranks.unwrap_or(&[]);
        (r.len() as u32).write(self);
        for x in r {
            x.write(self);
        }
    }

    /// Reads a rank list; an empty one is None (decoded as NULL, as upstream does).
    pub fn decode_ranks(&mut self) -> Result<Option<Vec<u32>>, i32> {
        let n = u32::read(self)? as usize;
        if n == 0 {
            return Ok(None);
        }
        let b = self.take(n.checked_mul(4).ok_or(DER_HG)?)?;
        Ok(Some(
            b.chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ))
    }

    /// An iov's header: `iov_buf_len` then `iov_len` (u64 each); the data follows. A length
    /// above the buffer length is refused both ways (`-DER_HG`).
    pub fn iov_header(&mut self, op: Op, buf_len: &mut u64, len: &mut u64) -> Result<(), i32> {
        self.scalar(op, buf_len)?;
        self.scalar(op, len)?;
        if *buf_len < *len {
            return Err(DER_HG);
        }
        Ok(())
    }

    /// A bulk handle: the size of the transport's descriptor as a u64 (0 for a NULL handle),
    /// then the descriptor.
    pub fn encode_bulk(&mut self, desc: Option<&[u8]>) {
        match desc {
            None => 0u64.write(self),
            Some(d) => {
                (d.len() as u64).write(self);
                self.put(d);
            }
        }
    }

    /// Reads a bulk descriptor; None for a NULL handle.
    pub fn decode_bulk(&mut self) -> Result<Option<Vec<u8>>, i32> {
        let n = u64::read(self)?;
        if n == 0 {
            return Ok(None);
        }
        let n = usize::try_from(n).map_err(|_| DER_HG)?;
        Ok(Some(self.take(n)?.to_vec()))
    }
}

/// How bulk handles (`crt_bulk_t`, the transport's objects) cross a message: the transport
/// registers one with [`set_bulk_codec`]. Until it does, only NULL handles can be encoded.
pub trait BulkCodec: Send + Sync {
    /// The wire descriptor of a local handle.
    fn serialize(&self, hdl: *mut c_void) -> Result<Vec<u8>, i32>;
    /// A new handle (one reference) for a received descriptor.
    fn deserialize(&self, desc: &[u8]) -> Result<*mut c_void, i32>;
    /// Drops the reference a decode created.
    fn release(&self, hdl: *mut c_void);
}

static BULK_CODEC: OnceLock<&'static dyn BulkCodec> = OnceLock::new();

/// Installs the transport's bulk codec (once; false if one is already installed).
pub fn set_bulk_codec(codec: &'static dyn BulkCodec) -> bool {
    BULK_CODEC.set(codec).is_ok()
}

/// The installed bulk codec, if any.
pub fn bulk_codec() -> Option<&'static dyn BulkCodec> {
    BULK_CODEC.get().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip<T: Scalar + PartialEq + std::fmt::Debug + Default>(v: T, bytes: &[u8]) {
        let mut buf = [0u8; 16];
        let mut p = Proc::new(&mut buf, Op::Encode);
        let mut x = v;
        p.scalar(Op::Encode, &mut x).unwrap();
        assert_eq!(p.encoded(), bytes);
        assert_eq!(p.size_used(), T::SIZE);
        let n = p.size_used();
        let mut d = Proc::new(&mut buf[..n], Op::Decode);
        let mut y = T::default();
        d.scalar(Op::Decode, &mut y).unwrap();
        assert_eq!(y, v);
        assert_eq!(d.size_used(), n);
        // One byte short is an error, never a partial read.
        let mut t = Proc::new(&mut buf[..n - 1], Op::Decode);
        assert_eq!(t.scalar(Op::Decode, &mut y), Err(DER_HG));
        assert_eq!(t.size_used(), 0);
    }

    #[test]
    fn scalars_are_little_endian_native_size() {
        roundtrip(0xabu8, &[0xab]);
        roundtrip(-2i8, &[0xfe]);
        roundtrip(0x1234u16, &[0x34, 0x12]);
        roundtrip(-2i16, &[0xfe, 0xff]);
        roundtrip(0x12345678u32, &[0x78, 0x56, 0x34, 0x12]);
        roundtrip(i32::MIN, &[0, 0, 0, 0x80]);
        roundtrip(0x0102030405060708u64, &[8, 7, 6, 5, 4, 3, 2, 1]);
        roundtrip(-1i64, &[0xff; 8]);
        roundtrip(true, &[1]);
    }

    #[test]
    fn bool_decodes_any_nonzero_byte_as_true() {
        let mut buf = [7u8];
        let mut p = Proc::new(&mut buf, Op::Decode);
        let mut b = false;
        p.scalar(Op::Decode, &mut b).unwrap();
        assert!(b);
    }

    #[test]
    fn free_touches_nothing() {
        let mut buf = [0u8; 0];
        let mut p = Proc::new(&mut buf, Op::Free);
        let mut x = 5u64;
        p.scalar(Op::Free, &mut x).unwrap();
        p.raw(Op::Free, &mut [1, 2, 3]).unwrap();
        assert_eq!((x, p.size_used()), (5, 0));
    }

    #[test]
    fn encoding_spills_into_an_overflow_buffer() {
        let mut buf = [0u8; 6];
        let mut p = Proc::new(&mut buf, Op::Encode);
        p.scalar(Op::Encode, &mut 0x11111111u32).unwrap();
        assert!(!p.overflowed());
        p.scalar(Op::Encode, &mut 0x2222222222222222u64).unwrap();
        assert!(p.overflowed());
        assert_eq!(p.size_used(), 12);
        assert_eq!(
            p.encoded(),
            &[0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22]
        );
        p.put(&[9]);
        assert_eq!(p.encoded().len(), 13);
        // An encoder with no buffer of its own grows as needed.
        let mut none = [0u8; 0];
        let mut g = Proc::new(&mut none, Op::Encode);
        g.encode_string(Some(b"x"), false);
        assert_eq!(g.encoded(), &[2, 0, 0, 0, 0, 0, 0, 0, b'x', 0, 0, 0]);
    }

    #[test]
    fn strings_follow_mercury_string_objects() {
        let mut buf = [0u8; 64];
        let mut p = Proc::new(&mut buf, Op::Encode);
        p.encode_string(Some(b"abc"), true);
        p.encode_string(None, false);
        p.encode_string(Some(b""), false);
        let n = p.size_used();
        assert_eq!(
            p.encoded(),
            &[
                4, 0, 0, 0, 0, 0, 0, 0, b'a', b'b', b'c', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0
            ][..]
        );
        let mut d = Proc::new(&mut buf[..n], Op::Decode);
        assert_eq!(d.decode_string().unwrap().as_deref(), Some(&b"abc"[..]));
        assert_eq!(d.decode_string().unwrap(), None);
        assert_eq!(d.decode_string().unwrap().as_deref(), Some(&b""[..]));
        assert_eq!(d.size_used(), n);
    }

    #[test]
    fn malformed_strings_are_refused() {
        // length runs past the end
        let mut a = [9u8, 0, 0, 0, 0, 0, 0, 0, b'a', 0];
        assert_eq!(Proc::new(&mut a, Op::Decode).decode_string(), Err(DER_HG));
        // no NUL where the length says it ends
        let mut b = [2u8, 0, 0, 0, 0, 0, 0, 0, b'a', b'b', 0, 0];
        assert_eq!(Proc::new(&mut b, Op::Decode).decode_string(), Err(DER_HG));
        // a NUL inside
        let mut c = [3u8, 0, 0, 0, 0, 0, 0, 0, b'a', 0, 0, 0, 0];
        assert_eq!(Proc::new(&mut c, Op::Decode).decode_string(), Err(DER_HG));
        // flags missing
        let mut d = [2u8, 0, 0, 0, 0, 0, 0, 0, b'a', 0, 0];
        assert_eq!(Proc::new(&mut d, Op::Decode).decode_string(), Err(DER_HG));
        // a length that does not fit in memory
        let mut e = [0xffu8; 8];
        assert_eq!(Proc::new(&mut e, Op::Decode).decode_string(), Err(DER_HG));
    }

    #[test]
    fn rank_lists() {
        let mut buf = [0u8; 32];
        let mut p = Proc::new(&mut buf, Op::Encode);
        p.encode_ranks(Some(&[5, 0x01020304]));
        p.encode_ranks(None);
        p.encode_ranks(Some(&[]));
        assert_eq!(
            p.encoded(),
            &[2, 0, 0, 0, 5, 0, 0, 0, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let n = p.size_used();
        let mut d = Proc::new(&mut buf[..n], Op::Decode);
        assert_eq!(d.decode_ranks().unwrap(), Some(vec![5, 0x01020304]));
        assert_eq!(d.decode_ranks().unwrap(), None);
        assert_eq!(d.decode_ranks().unwrap(), None);
        let mut short = [3u8, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(
            Proc::new(&mut short, Op::Decode).decode_ranks(),
            Err(DER_HG)
        );
        let mut huge = [0xffu8, 0xff, 0xff, 0xff];
        assert_eq!(Proc::new(&mut huge, Op::Decode).decode_ranks(), Err(DER_HG));
    }

    #[test]
    fn iov_headers_check_lengths() {
        let mut buf = [0u8; 16];
        let mut p = Proc::new(&mut buf, Op::Encode);
        assert_eq!(p.iov_header(Op::Encode, &mut 2, &mut 3), Err(DER_HG));
        let mut p = Proc::new(&mut buf, Op::Encode);
        p.iov_header(Op::Encode, &mut 8, &mut 3).unwrap();
        assert_eq!(p.size_used(), 16);
        let mut d = Proc::new(&mut buf, Op::Decode);
        let (mut bl, mut l) = (0, 0);
        d.iov_header(Op::Decode, &mut bl, &mut l).unwrap();
        assert_eq!((bl, l), (8, 3));
    }

    #[test]
    fn in_place_decoding_points_into_the_buffer() {
        let mut buf = [1u8, 2, 3, 4];
        let base = buf.as_ptr() as usize;
        let mut d = Proc::new(&mut buf, Op::Decode);
        d.take(1).unwrap();
        assert_eq!(d.take_in_place(2).unwrap() as usize, base + 1);
        assert_eq!(d.take_in_place(2), Err(DER_HG));
    }

    #[test]
    fn bulk_descriptors() {
        let mut buf = [0u8; 32];
        let mut p = Proc::new(&mut buf, Op::Encode);
        p.encode_bulk(None);
        p.encode_bulk(Some(&[0xaa, 0xbb]));
        let n = p.size_used();
        assert_eq!(n, 8 + 8 + 2);
        let mut d = Proc::new(&mut buf[..n], Op::Decode);
        assert_eq!(d.decode_bulk().unwrap(), None);
        assert_eq!(d.decode_bulk().unwrap(), Some(vec![0xaa, 0xbb]));
        let mut t = Proc::new(&mut buf[..n - 1], Op::Decode);
        t.decode_bulk().unwrap();
        assert_eq!(t.decode_bulk(), Err(DER_HG));
    }

    #[test]
    fn ops_map_to_the_c_enum() {
        for op in [Op::Encode, Op::Decode, Op::Free] {
            assert_eq!(Op::from_c(op.to_c()), Some(op));
        }
        assert_eq!(Op::from_c(3), None);
    }
}
