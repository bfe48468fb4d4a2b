//! Exponential backoff sequences (`d_backoff_seq_*`): after `nzeros` zero backoffs, each
//! backoff is a random number in [0, x], where x starts at `next` and is multiplied by `factor`
//! after each step, up to `max`.

/// The state of a sequence, as `struct d_backoff_seq` holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seq {
    pub nzeros: u8,
    pub factor: u16,
    pub next: u32,
    pub max: u32,
}

/// Whether the parameters make a sequence (`d_backoff_seq_init` rejects the others).
pub fn valid(factor: u16, next: u32, max: u32) -> bool {
    factor != 0 && next != 0 && max != 0 && next <= max
}

/// Advances `seq` and returns the next backoff, drawing the random number from `rand`
/// (a value in [0, RAND_MAX], as `d_rand` gives).
pub fn next(seq: &mut Seq, rand: impl FnOnce() -> i64) -> u32 {
    if seq.nzeros != 0 {
        seq.nzeros -= 1;
        return 0;
    }
    let cur = seq.next;
    if seq.next < seq.max {
        let grown = seq.next.wrapping_mul(u32::from(seq.factor));
        // A product that wrapped, or one past the maximum, becomes the maximum.
        seq.next = if grown / u32::from(seq.factor) != cur || grown > seq.max { seq.max } else { grown };
    }
    // next * (rand / RAND_MAX) in double, truncated to the integer type as C converts it.
    (f64::from(cur) * (rand() as f64 / super::rand::RAND_MAX as f64)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example() {
        // nzeros 1, factor 4, next 16, max 1 << 20: 0, then ranges 16, 64, 256, ... 2^20, 2^20.
        let mut s = Seq { nzeros: 1, factor: 4, next: 16, max: 1 << 20 };
        assert_eq!(next(&mut s, || unreachable!()), 0);
        let mut bounds = Vec::new();
        for _ in 0..12 {
            bounds.push(next(&mut s, || super::super::rand::RAND_MAX));
        }
        assert_eq!(&bounds[..9], &[16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1 << 20]);
        assert!(bounds[9..].iter().all(|&b| b == 1 << 20));
        assert_eq!(next(&mut s, || 0), 0);
        assert_eq!(next(&mut s, || super::super::rand::RAND_MAX / 2), (1 << 19) - 1);
    }

    #[test]
    fn overflow_saturates_at_max() {
        let mut s = Seq { nzeros: 0, factor: 65535, next: 0x1_0000, max: u32::MAX };
        assert_eq!(next(&mut s, || super::super::rand::RAND_MAX), 0x1_0000);
        assert_eq!(s.next, 0x1_0000 * 65535, "fits in 32 bits");
        next(&mut s, || 0);
        assert_eq!(s.next, u32::MAX, "the next product wraps: saturated at max");
        let mut s = Seq { nzeros: 0, factor: 3, next: 5, max: 7 };
        next(&mut s, || 0);
        assert_eq!(s.next, 7);
    }

    #[test]
    fn validity() {
        assert!(valid(1, 1, 1));
        assert!(!valid(0, 1, 1));
        assert!(!valid(1, 0, 1));
        assert!(!valid(1, 1, 0));
        assert!(!valid(1, 2, 1));
    }
}
