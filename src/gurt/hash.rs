//! Upstream `hash.c`: the hash functions gurt exports (bit-exact: placement and telemetry keys
//! are computed with them) and the generic chained hash table with its handle (`d_hhash`) and
//! UUID (`d_uhash`) wrappers.
//!
//! The functions in this file are pure and safe. The table itself is an intrusive structure that
//! C owns (`struct d_hash_table`, records linked through caller-embedded `d_list_t`), so it lives
//! in [`table`], whose raw-pointer primitives are gathered in `table::raw`.

pub mod raw;
pub mod table;
pub mod handles;

/// Thomas Wang's 64-bit integer mix (upstream `d_hash_mix64`).
#[inline]
pub fn mix64(key: u64) -> u64 {
    let mut k = (!key).wrapping_add(key << 21);
    k ^= k >> 24;
    k = k.wrapping_add(k << 3).wrapping_add(k << 8);
    k ^= k >> 14;
    k = k.wrapping_add(k << 2).wrapping_add(k << 4);
    k ^= k >> 28;
    k.wrapping_add(k << 31)
}

/// Robert Jenkins' 96-bit mix, returning the mixed third word (upstream `d_hash_mix96`).
#[inline]
pub fn mix96(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    // Three rounds of (subtract, subtract, xor-shift) on each word in turn; the shift
    // amounts and directions are Jenkins'.
    macro_rules! step {
        ($x:ident, $y:ident, $z:ident, $op:tt $s:expr) => {
            $x = $x.wrapping_sub($y).wrapping_sub($z) ^ ($z $op $s);
        };
    }
    step!(a, b, c, >> 13);
    step!(b, c, a, << 8);
    step!(c, a, b, >> 13);
    step!(a, b, c, >> 12);
    step!(b, c, a, << 16);
    step!(c, a, b, >> 5);
    step!(a, b, c, >> 3);
    step!(b, c, a, << 10);
    step!(c, a, b, >> 15);
    c
}

/// Consistent-hash search (upstream `d_hash_srch_u64`): over ascending `hashes`, the index of
/// the last entry `<= value` found by bisection, 0 when `value` is below them all.
///
/// The bisection is upstream's (with duplicate entries it lands where upstream's lands). An
/// empty slice has no answer; upstream reads before the array there, this returns 0.
#[inline]
pub fn srch_u64(hashes: &[u64], value: u64) -> u32 {
    if hashes.is_empty() {
        return 0;
    }
    let mut high = hashes.len() - 1;
    let mut low = 0usize;
    let mut i = high / 2;
    while high - low > 1 {
        if value >= hashes[i] {
            low = i;
        } else {
            high = i;
        }
        i = (low + high) / 2;
    }
    (if value >= hashes[high] { high } else { low }) as u32
}

/// djb2 over bytes (upstream `d_hash_string_u32`; the default bucket hash of tables whose ops
/// have no `hop_key_hash`).
#[inline]
pub fn djb2(bytes: &[u8]) -> u32 {
    bytes.iter().fold(5381u32, |h, &b| (h << 5).wrapping_add(h).wrapping_add(b as u32))
}

const MUR_PRIME: u64 = 0xc6a4a7935bd1e995;
const MUR_ROTATE: u32 = 47;

/// MurmurHash64A (upstream `d_hash_murmur64`). Whole 64-bit words are read in native (little
/// endian on DAOS's platforms) order, the tail bytes as MurmurHash64A does.
#[inline]
pub fn murmur64(key: &[u8], seed: u32) -> u64 {
    let len = key.len() as u32;
    let mut h = (seed as u64) ^ (len as u64).wrapping_mul(MUR_PRIME);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_ne_bytes(w.try_into().expect("chunks_exact(8)"));
        k = k.wrapping_mul(MUR_PRIME);
        k ^= k >> MUR_ROTATE;
        k = k.wrapping_mul(MUR_PRIME);
        h ^= k;
        h = h.wrapping_mul(MUR_PRIME);
    }
    let tail = words.remainder();
    let n = tail.len();
    if n > 0 {
        // The tail bytes go in little-endian order (byte 0 lowest) whatever the host's
        // order, as the reference's switch composes them.
        let mut k = 0u64;
        if n > 6 {
            k ^= (tail[6] as u64) << 48;
        }
        if n > 5 {
            k ^= (tail[5] as u64) << 40;
        }
        if n > 4 {
            k ^= (tail[4] as u64) << 32;
        }
        if n > 3 {
            k ^= (tail[3] as u64) << 24;
        }
        if n > 2 {
            k ^= (tail[2] as u64) << 16;
        }
        if n > 1 {
            k ^= (tail[1] as u64) << 8;
        }
        h ^= k ^ tail[0] as u64;
        h = h.wrapping_mul(MUR_PRIME);
    }
    h ^= h >> MUR_ROTATE;
    h = h.wrapping_mul(MUR_PRIME);
    h ^ (h >> MUR_ROTATE)
}

/// Lamping and Veach's jump consistent hash (upstream `d_hash_jump`): the bucket in
/// `0..num_buckets` for `key`. With no buckets the answer is upstream's `u32::MAX`.
#[inline]
pub fn jump(mut key: u64, num_buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < num_buckets as i64 {
        b = j;
        key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
        // The same double arithmetic as the reference, then truncation toward zero.
        let f = (b + 1) as f64 * ((1i64 << 31) as f64 / ((key >> 33) + 1) as f64);
        // SAFETY: f is finite and below 2^63: b + 1 < 2^32 and the factor is at most 2^31, so
        // the unchecked conversion (C's truncation, without `as`'s saturation checks) is exact.
        j = unsafe { f.to_int_unchecked::<i64>() };
    }
    b as u32
}

#[cfg(test)]
mod tests {
    //! Expected values were computed by upstream's C implementation (compiled from DAOS's
    //! hash.c in a scratch directory, not part of this repository).
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 37 + 11) as u8).collect()
    }

    #[test]
    fn mix64_matches_upstream() {
        let cases = [
            (0u64, 0x77cfa1eef01bca90u64),
            (1, 0x5bca7c69b794f8ce),
            (2, 0xb795033f6f2a0674),
            (42, 0xf3db82f1e7b6f7a),
            (0xdeadbeef, 0x386f2a5f36b257cb),
            (u64::MAX, 0x1f89206e3f8ec794),
            (0x123456789abcdef0, 0xe8e8981fd9f20f7f),
            (1 << 63, 0x3be7d0f7780de548),
        ];
        for (k, v) in cases {
            assert_eq!(mix64(k), v, "mix64({k:#x})");
        }
    }

    #[test]
    fn mix96_matches_upstream() {
        assert_eq!(mix96(0, 0, 0), 0);
        assert_eq!(mix96(1, 2, 3), 0xb7b48902);
        assert_eq!(mix96(0xffffffff, 0x12345678, 0x9abcdef0), 0x6402c1f1);
        assert_eq!(mix96(42, 4242, 424242), 0x2214857e);
        assert_eq!(mix96(0x80000000, 1, 0xfffffffe), 0x4776abde);
    }

    #[test]
    fn djb2_matches_upstream() {
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"a"), 177670);
        assert_eq!(djb2(b"hello"), 261238937);
        assert_eq!(djb2(b"daos_engine"), 3013580321);
        assert_eq!(djb2(b"/run/daos_server/0/metrics"), 2818112762);
        // Bytes >= 0x80 are taken unsigned.
        assert_eq!(djb2(b"\xff\xfe\x80"), 193663202);
    }

    #[test]
    fn murmur64_matches_upstream_for_every_tail_length() {
        // (len, seed 0, seed 0xdead1234) for the byte pattern i*37+11.
        let expect: &[(usize, u64, u64)] = include!("hash_murmur_ref.in");
        assert_eq!(expect.len(), 41);
        let buf = pattern(40);
        for &(len, s0, s1) in expect {
            assert_eq!(murmur64(&buf[..len], 0), s0, "len {len} seed 0");
            assert_eq!(murmur64(&buf[..len], 0xdead1234), s1, "len {len} seed 0xdead1234");
        }
    }

    #[test]
    fn jump_matches_upstream() {
        let expect: &[(u64, u32, u32)] = include!("hash_jump_ref.in");
        assert_eq!(expect.len(), 80);
        for &(k, n, v) in expect {
            assert_eq!(jump(k, n), v, "jump({k:#x}, {n})");
        }
    }

    #[test]
    fn jump_is_in_range_and_moves_few_keys() {
        let mut moved = 0;
        for k in 0..10_000u64 {
            let a = jump(mix64(k), 10);
            let b = jump(mix64(k), 11);
            assert!(a < 10 && b < 11);
            if a != b {
                assert_eq!(b, 10, "a key only ever moves to the new bucket");
                moved += 1;
            }
        }
        // About 1/11 of the keys move.
        assert!((700..1100).contains(&moved), "{moved}");
    }

    #[test]
    fn srch_u64_matches_upstream() {
        let h = [10u64, 20, 20, 30, 40, 1000];
        let v = [0u64, 5, 10, 15, 20, 25, 30, 39, 40, 999, 1000, 5000];
        let expect: [[u32; 12]; 6] = include!("hash_srch_ref.in");
        for n in 1..=6 {
            for (j, &x) in v.iter().enumerate() {
                assert_eq!(srch_u64(&h[..n], x), expect[n - 1][j], "n={n} v={x}");
            }
        }
        assert_eq!(srch_u64(&[], 7), 0);
    }
    /// Bucket-load statistics of upstream's own hash quality test (test_gurt's
    /// test_hash_perf: keys `i | 0x1031 << 32`, 16384 per bucket), as upstream's C computes
    /// them: every key must land where upstream puts it for these to match.
    #[test]
    fn bucket_loads_match_upstreams_hash_perf_test() {
        // (function, buckets, min load, max load)
        let expect: [(&str, u32, u32, u32); 18] = [
            ("murmur", 2, 16342, 16426),
            ("murmur", 4, 16323, 16458),
            ("murmur", 8, 16183, 16546),
            ("murmur", 16, 16176, 16699),
            ("murmur", 32, 16034, 16799),
            ("murmur", 64, 16017, 16702),
            ("string", 2, 16384, 16384),
            ("string", 4, 16384, 16384),
            ("string", 8, 16384, 16384),
            ("string", 16, 16384, 16384),
            ("string", 32, 16384, 16384),
            ("string", 64, 16384, 16384),
            ("jump", 2, 16377, 16391),
            ("jump", 4, 16373, 16395),
            ("jump", 8, 16339, 16417),
            ("jump", 16, 16240, 16465),
            ("jump", 32, 16269, 16525),
            ("jump", 64, 16178, 16612),
        ];
        for (f, buckets, min, max) in expect {
            let mut load = vec![0u32; buckets as usize];
            for i in 0..(16384 * buckets as u64) {
                let key = i | (0x1031u64 << 32);
                let b = match f {
                    "murmur" => (murmur64(&key.to_ne_bytes(), 2077) % buckets as u64) as u32,
                    "string" => djb2(&key.to_ne_bytes()) % buckets,
                    _ => jump(key, buckets),
                };
                load[b as usize] += 1;
            }
            let (lo, hi) = (*load.iter().min().unwrap(), *load.iter().max().unwrap());
            assert_eq!((lo, hi), (min, max), "{f} over {buckets} buckets");
        }
    }

}
