//! This transport's wire format ("oxidaos native", version 1); docs/cart-wire.md describes it.
//! All integers are little-endian.
//!
//! Every message is one libfabric tagged message: a 48-byte [`Header`], then (requests and
//! one-way messages only) the origin's raw address, then either the body (eager) or a
//! [`RndvDesc`] naming the body in the sender's registered memory (rendezvous: the receiver
//! pulls it with an RMA read and acknowledges with `RNDV_DONE`).
use super::ofi::RemoteSeg;
use super::{Error, Result};

pub const MAGIC: u16 = 0xCA27;
/// 2: the header carries the sender's HLC timestamp (bytes 40..48).
pub const VERSION: u8 = 2;
pub const HEADER_LEN: usize = 48;

/// Tag of every unexpected message (requests, one-way messages, RNDV_DONE).
pub const TAG_UNEXPECTED: u64 = 1 << 62;
/// Responses are tagged `TAG_RESPONSE | (request id & TAG_ID_MASK)`.
pub const TAG_RESPONSE: u64 = 2 << 62;
pub const TAG_ID_MASK: u64 = (1 << 62) - 1;

pub fn response_tag(req_id: u64) -> u64 {
    TAG_RESPONSE | (req_id & TAG_ID_MASK)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Request = 1,
    OneWay = 2,
    Response = 3,
    RndvDone = 4,
}

/// The body is a [`RndvDesc`], not the bytes.
pub const FLAG_RNDV: u16 = 0x1;
/// A response that carries an error status and no body.
pub const FLAG_ERROR: u16 = 0x2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: Kind,
    pub flags: u16,
    /// Bytes of origin address after the header.
    pub addr_len: u16,
    pub opcode: u32,
    /// Responses: 0 or a negative DER_* code (with FLAG_ERROR).
    pub status: i32,
    /// Request id (requests/responses), or the rendezvous id (RNDV_DONE).
    pub id: u64,
    /// Length of the body, whether eager or by rendezvous.
    pub body_len: u64,
    /// Requests: the largest response message the origin receives eagerly.
    pub reply_max: u32,
    /// The sender's hybrid logical clock when it built the message (upstream's `cch_hlc`):
    /// `d_hlc_get()` on servers, `d_hlct_get()` on clients; 0 when it has none.
    pub hlc: u64,
}

impl Header {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.push(VERSION);
        out.push(self.kind as u8);
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.addr_len.to_le_bytes());
        out.extend_from_slice(&self.opcode.to_le_bytes());
        out.extend_from_slice(&self.status.to_le_bytes());
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.body_len.to_le_bytes());
        out.extend_from_slice(&self.reply_max.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&self.hlc.to_le_bytes());
    }

    pub fn decode(b: &[u8]) -> Result<Header> {
        if b.len() < HEADER_LEN {
            return Err(Error::Protocol(format!("short message ({} bytes)", b.len())));
        }
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        if u16_at(0) != MAGIC {
            return Err(Error::Protocol(format!("bad magic {:#06x}", u16_at(0))));
        }
        if b[2] != VERSION {
            return Err(Error::Protocol(format!("unsupported version {}", b[2])));
        }
        let kind = match b[3] {
            1 => Kind::Request,
            2 => Kind::OneWay,
            3 => Kind::Response,
            4 => Kind::RndvDone,
            k => return Err(Error::Protocol(format!("unknown message kind {k}"))),
        };
        Ok(Header {
            kind,
            flags: u16_at(4),
            addr_len: u16_at(6),
            opcode: u32_at(8),
            status: u32_at(12) as i32,
            id: u64_at(16),
            body_len: u64_at(24),
            reply_max: u32_at(32),
            hlc: u64_at(40),
        })
    }
}

/// A rendezvous body: `len` bytes in the sender's memory at `addr` under `key`; `id` is
/// echoed in the receiver's RNDV_DONE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RndvDesc {
    pub id: u64,
    pub addr: u64,
    pub key: u64,
    pub len: u64,
}

pub const RNDV_DESC_LEN: usize = 32;

impl RndvDesc {
    pub fn encode(&self, out: &mut Vec<u8>) {
        for v in [self.id, self.addr, self.key, self.len] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    pub fn decode(b: &[u8]) -> Result<RndvDesc> {
        if b.len() < RNDV_DESC_LEN {
            return Err(Error::Protocol("short rendezvous descriptor".into()));
        }
        let g = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
        Ok(RndvDesc { id: g(0), addr: g(1), key: g(2), len: g(3) })
    }
}

/// Bulk descriptor magic and version.
pub const BULK_MAGIC: u16 = 0xB01C;
pub const BULK_VERSION: u8 = 1;
/// The descriptor names its owner's address (a bound handle).
pub const BULK_FLAG_OWNER: u8 = 0x1;
/// Read-only: the owner allows GET (remote read) only.
pub const BULK_FLAG_RO: u8 = 0x2;
/// Write-only: the owner allows PUT (remote write) only.
pub const BULK_FLAG_WO: u8 = 0x4;

/// A serialisable description of registered memory another endpoint can GET from or PUT to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkWire {
    pub flags: u8,
    /// Owner's raw address (BULK_FLAG_OWNER).
    pub owner: Option<Vec<u8>>,
    pub segs: Vec<RemoteSeg>,
}

impl BulkWire {
    pub fn total_len(&self) -> u64 {
        self.segs.iter().map(|s| s.len).sum()
    }

    pub fn encoded_len(&self) -> usize {
        16 + self.owner.as_ref().map_or(0, |o| 2 + o.len()) + 24 * self.segs.len()
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut flags = self.flags & !BULK_FLAG_OWNER;
        if self.owner.is_some() {
            flags |= BULK_FLAG_OWNER;
        }
        out.extend_from_slice(&BULK_MAGIC.to_le_bytes());
        out.push(BULK_VERSION);
        out.push(flags);
        out.extend_from_slice(&(self.segs.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.total_len().to_le_bytes());
        if let Some(o) = &self.owner {
            out.extend_from_slice(&(o.len() as u16).to_le_bytes());
            out.extend_from_slice(o);
        }
        for s in &self.segs {
            for v in [s.addr, s.len, s.key] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.encoded_len());
        self.encode(&mut v);
        v
    }

    /// Decodes a descriptor; returns it and the bytes it used.
    pub fn decode(b: &[u8]) -> Result<(BulkWire, usize)> {
        let bad = |why: &str| Error::Protocol(format!("bulk descriptor: {why}"));
        if b.len() < 16 {
            return Err(bad("short"));
        }
        if u16::from_le_bytes([b[0], b[1]]) != BULK_MAGIC {
            return Err(bad("bad magic"));
        }
        if b[2] != BULK_VERSION {
            return Err(bad("unsupported version"));
        }
        let flags = b[3];
        let nseg = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
        let total = u64::from_le_bytes(b[8..16].try_into().unwrap());
        let mut o = 16;
        let owner = if flags & BULK_FLAG_OWNER != 0 {
            if b.len() < o + 2 {
                return Err(bad("short owner"));
            }
            let n = u16::from_le_bytes([b[o], b[o + 1]]) as usize;
            o += 2;
            if b.len() < o + n {
                return Err(bad("short owner"));
            }
            let v = b[o..o + n].to_vec();
            o += n;
            Some(v)
        } else {
            None
        };
        if nseg > (b.len() - o) / 24 {
            return Err(bad("short segment list"));
        }
        let mut segs = Vec::with_capacity(nseg);
        for _ in 0..nseg {
            let g = |i: usize| u64::from_le_bytes(b[o + i * 8..o + i * 8 + 8].try_into().unwrap());
            segs.push(RemoteSeg { addr: g(0), len: g(1), key: g(2) });
            o += 24;
        }
        let w = BulkWire { flags: flags & !BULK_FLAG_OWNER, owner, segs };
        if w.total_len() != total {
            return Err(bad("length mismatch"));
        }
        Ok((w, o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header {
            kind: Kind::Request,
            flags: FLAG_RNDV,
            addr_len: 16,
            opcode: 0x0102_0003,
            status: -1011,
            id: 0x1234_5678_9abc,
            body_len: 4 << 20,
            reply_max: 65536,
            hlc: 0x1234_5678_9abc_def0,
        };
        let mut v = Vec::new();
        h.encode(&mut v);
        assert_eq!(v.len(), HEADER_LEN);
        assert_eq!(&v[0..4], &[0x27, 0xCA, 2, 1]);
        assert_eq!(&v[40..48], &0x1234_5678_9abc_def0u64.to_le_bytes());
        assert_eq!(Header::decode(&v).unwrap(), h);
        assert!(Header::decode(&v[..47]).is_err());
        let mut bad = v.clone();
        bad[0] = 0;
        assert!(matches!(Header::decode(&bad), Err(Error::Protocol(_))));
        let mut bad = v.clone();
        bad[2] = 9;
        assert!(Header::decode(&bad).is_err());
        let mut bad = v;
        bad[3] = 77;
        assert!(Header::decode(&bad).is_err());
    }

    #[test]
    fn tags() {
        assert_ne!(response_tag(7), TAG_UNEXPECTED);
        assert_eq!(response_tag(7) & TAG_ID_MASK, 7);
        assert_eq!(response_tag(u64::MAX) >> 62, 2);
    }

    #[test]
    fn rndv_round_trip() {
        let d = RndvDesc { id: 9, addr: 0x7fff_0000_1000, key: 42, len: 5 << 20 };
        let mut v = Vec::new();
        d.encode(&mut v);
        assert_eq!(v.len(), RNDV_DESC_LEN);
        assert_eq!(RndvDesc::decode(&v).unwrap(), d);
        assert!(RndvDesc::decode(&v[..31]).is_err());
    }

    #[test]
    fn bulk_round_trip() {
        let w = BulkWire {
            flags: BULK_FLAG_RO,
            owner: Some(vec![2, 0, 1, 2, 127, 0, 0, 1]),
            segs: vec![RemoteSeg { addr: 0x1000, len: 100, key: 7 }, RemoteSeg { addr: 0x9000, len: 1 << 20, key: 8 }],
        };
        let b = w.to_bytes();
        assert_eq!(b.len(), w.encoded_len());
        let (d, used) = BulkWire::decode(&b).unwrap();
        assert_eq!((d, used), (w.clone(), b.len()));
        for cut in 0..b.len() {
            assert!(BulkWire::decode(&b[..cut]).is_err(), "cut {cut}");
        }
        let mut bad = b.clone();
        bad[8] ^= 1; // total length
        assert!(BulkWire::decode(&bad).is_err());
        let anon = BulkWire { flags: 0, owner: None, segs: vec![] };
        assert_eq!(BulkWire::decode(&anon.to_bytes()).unwrap().0, anon);
    }
}
