//! `d_rand`, `d_randd`, `d_srand`: glibc's 48-bit linear congruential generator (the drand48
//! family), one state for the process, so a seeded sequence is the one upstream produces.
//!
//! Upstream keeps the state in an unlocked `drand48_data`; here it is one atomic word advanced
//! with compare-and-swap, so concurrent callers each get a distinct step of the same sequence.

use std::sync::atomic::{AtomicU64, Ordering};

const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;

/// Upstream's state starts zeroed (and glibc leaves X at 0 on first use), so an unseeded
/// process draws from X = 0.
static STATE: AtomicU64 = AtomicU64::new(0);

/// The largest value [`rand`] returns (`D_RAND_MAX`).
pub const RAND_MAX: i64 = 0x7fff_ffff;

#[inline]
fn step(x: u64) -> u64 {
    x.wrapping_mul(A).wrapping_add(C) & MASK
}

/// Advances the shared state and returns the new 48-bit X.
#[inline]
fn next() -> u64 {
    let mut cur = STATE.load(Ordering::Relaxed);
    loop {
        let new = step(cur);
        match STATE.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return new,
            Err(seen) => cur = seen,
        }
    }
}

/// Seeds the generator as `srand48` does: X = (low 32 bits of seed) << 16 | 0x330E.
pub fn srand(seed: i64) {
    STATE.store(((seed as u64 & 0xffff_ffff) << 16) | 0x330E, Ordering::Relaxed);
}

/// A pseudo-random integer in [0, 2^31), as `lrand48`.
pub fn rand() -> i64 {
    (next() >> 17) as i64
}

/// A pseudo-random double in [0, 1), as `drand48` (X / 2^48, exactly).
pub fn randd() -> f64 {
    next() as f64 / (1u64 << 48) as f64
}

#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{c_int, c_long, c_void};

    // glibc's reentrant drand48 functions (not in the libc crate); the state is 24 bytes.
    extern "C" {
        fn srand48_r(seed: c_long, buf: *mut c_void) -> c_int;
        fn lrand48_r(buf: *mut c_void, out: *mut c_long) -> c_int;
        fn drand48_r(buf: *mut c_void, out: *mut f64) -> c_int;
    }

    /// The same sequence as glibc's reentrant drand48 functions, for several seeds.
    #[test]
    fn same_sequence_as_glibc() {
        let _g = TEST_LOCK.lock().unwrap();
        for seed in [0i64, 1, 42, -1, 0x1234_5678_9abc, i64::MIN] {
            let mut buf = [0u64; 3];
            let b = buf.as_mut_ptr().cast::<c_void>();
            // SAFETY: buf is 24 zeroed, aligned bytes owned by this frame (a drand48_data).
            unsafe { srand48_r(seed as c_long, b) };
            srand(seed);
            for i in 0..1000 {
                let mut l: c_long = 0;
                let mut d: f64 = 0.0;
                if i % 2 == 0 {
                    // SAFETY: buf was initialised by srand48_r.
                    unsafe { lrand48_r(b, &mut l) };
                    assert_eq!(rand(), l as i64, "seed {seed} step {i}");
                } else {
                    // SAFETY: as above.
                    unsafe { drand48_r(b, &mut d) };
                    assert_eq!(randd().to_bits(), d.to_bits(), "seed {seed} step {i}");
                }
            }
        }
    }

    #[test]
    fn unseeded_state_matches_a_zeroed_glibc_buffer() {
        let _g = TEST_LOCK.lock().unwrap();
        STATE.store(0, Ordering::Relaxed);
        let mut buf = [0u64; 3];
        let mut l: c_long = 0;
        // SAFETY: 24 zeroed bytes are glibc's "not yet initialised" drand48_data.
        unsafe { lrand48_r(buf.as_mut_ptr().cast(), &mut l) };
        assert_eq!(rand(), l as i64);
        assert!((0..100).map(|_| rand()).all(|v| (0..=RAND_MAX).contains(&v)));
        assert!((0..100).map(|_| randd()).all(|v| (0.0..1.0).contains(&v)));
    }
}
