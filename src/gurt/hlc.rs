//! Upstream `hlc.c`: the hybrid logical clock.
//!
//! An HLC timestamp is a 64-bit count of 1/16 ns since 2021-01-01 00:00:00 UTC (a range up to
//! 2057) whose low 18 bits are a logical counter: the physical part is the wall clock with those
//! bits cleared. `get` never returns the same value twice in a process and never goes back;
//! `get_msg` merges a remote timestamp, refusing one more than epsilon ahead of the local clock.

use std::sync::atomic::{AtomicU64, Ordering};

/// HLC units per nanosecond.
pub const NSEC: u64 = 16;
/// Unix time of the HLC epoch, 2021-01-01 00:00:00 UTC, in seconds.
pub const START_SEC: u64 = 1_609_459_200;
/// The 18 logical bits.
pub const MASK: u64 = 0x3_FFFF;
/// Nanoseconds per second.
pub const NSEC_PER_SEC: u64 = 1_000_000_000;

static HLC: AtomicU64 = AtomicU64::new(0);
/// The maximum accepted clock offset, in HLC units (default one second).
static EPSILON: AtomicU64 = AtomicU64::new(NSEC_PER_SEC * NSEC);

/// The physical part of "now": the wall clock since the epoch in HLC units, logical bits clear.
#[inline(always)]
fn physical_now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into `ts`, a valid local; CLOCK_REALTIME always
    // exists. (Direct, through the vDSO: std's SystemTime adds two calls on this hot path.)
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    // A clock set before 2021 (upstream asserts) reads as the epoch itself.
    let secs = ts.tv_sec.max(START_SEC as i64) as u64 - START_SEC;
    let ns = secs.wrapping_mul(NSEC_PER_SEC).wrapping_add(ts.tv_nsec as u64);
    ns.wrapping_mul(NSEC) & !MASK
}

/// Installs `next(current)` atomically and returns what was installed.
#[inline]
fn update(next: impl Fn(u64) -> u64) -> u64 {
    let mut cur = HLC.load(Ordering::Relaxed);
    loop {
        let new = next(cur);
        match HLC.compare_exchange_weak(cur, new, Ordering::SeqCst, Ordering::Relaxed) {
            Ok(_) => return new,
            Err(seen) => cur = seen,
        }
    }
}

/// A new local timestamp (`d_hlc_get`).
#[inline]
pub fn get() -> u64 {
    let pt = physical_now();
    update(|hlc| if (hlc & !MASK) < pt { pt } else { hlc.wrapping_add(1) })
}

/// Merges a remote timestamp `msg` (`d_hlc_get_msg`): returns the new local timestamp and the
/// amount `msg`'s physical part is ahead of the local clock, or `Err(offset)` when that exceeds
/// epsilon (the clock is then left alone).
pub fn get_msg(msg: u64) -> Result<(u64, u64), u64> {
    let pt = physical_now();
    let ml = msg & !MASK;
    let off = ml.saturating_sub(pt);
    if off > EPSILON.load(Ordering::Relaxed) {
        return Err(off);
    }
    let ret = update(|hlc| {
        if (hlc & !MASK) < ml {
            if ml < pt { pt } else { msg.wrapping_add(1) }
        } else if (hlc & !MASK) < pt {
            pt
        } else if pt <= ml {
            hlc.max(msg).wrapping_add(1)
        } else {
            hlc.wrapping_add(1)
        }
    });
    Ok((ret, off))
}

/// Nanoseconds since the HLC epoch.
pub fn to_nsec(hlc: u64) -> u64 {
    hlc / NSEC
}

/// HLC units of `nsec` nanoseconds (wrapping like the C multiplication).
pub fn from_nsec(nsec: u64) -> u64 {
    nsec.wrapping_mul(NSEC)
}

/// Unix-epoch nanoseconds of a timestamp.
pub fn to_unix_nsec(hlc: u64) -> u64 {
    hlc / NSEC + START_SEC * NSEC_PER_SEC
}

/// The timestamp of Unix-epoch nanoseconds, or 0 when before the HLC epoch or beyond its range.
pub fn from_unix_nsec(unixnsec: u64) -> u64 {
    let start = START_SEC * NSEC_PER_SEC;
    if unixnsec < start || unixnsec - start > u64::MAX / NSEC {
        return 0;
    }
    (unixnsec - start) * NSEC
}

/// (seconds, nanoseconds) of a timestamp as Unix time.
pub fn to_timespec(hlc: u64) -> (u64, u64) {
    let ns = to_nsec(hlc);
    (ns / NSEC_PER_SEC + START_SEC, ns % NSEC_PER_SEC)
}

/// The timestamp of a Unix (seconds, nanoseconds), with C's unsigned wrap-around for times
/// before the epoch.
pub fn from_timespec(sec: i64, nsec: i64) -> u64 {
    let ns = (sec as u64).wrapping_sub(START_SEC).wrapping_mul(NSEC_PER_SEC).wrapping_add(nsec as u64);
    from_nsec(ns)
}

/// Sets epsilon, rounded up to a whole number of physical ticks (`d_hlc_epsilon_set`).
pub fn epsilon_set(epsilon: u64) {
    let e = epsilon.wrapping_add(MASK) & !MASK;
    EPSILON.store(e, Ordering::Relaxed);
    tracing::info!(target: "misc", "set maximum system clock offset to {} ns", e);
}

/// The current epsilon (`d_hlc_epsilon_get`).
pub fn epsilon_get() -> u64 {
    EPSILON.load(Ordering::Relaxed)
}

/// The latest timestamp that may be "now" on another node whose clock reads `hlc`
/// (`d_hlc_epsilon_get_bound`).
pub fn epsilon_bound(hlc: u64) -> u64 {
    hlc.wrapping_add(EPSILON.load(Ordering::Relaxed)) | MASK
}

/// Whole seconds between `hlc` and now; 0 for a timestamp not in the past (`d_hlc_age2sec`).
pub fn age_sec(hlc: u64) -> u64 {
    let pt = physical_now();
    if pt <= hlc {
        return 0;
    }
    to_nsec(pt - hlc) / NSEC_PER_SEC
}

#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn get_is_strictly_increasing_and_tracks_the_clock() {
        let before = physical_now();
        let mut last = get();
        assert!(last >= before);
        for _ in 0..100_000 {
            let t = get();
            assert!(t > last);
            last = t;
        }
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        let ours = to_unix_nsec(physical_now());
        assert!(unix.abs_diff(ours) < 1_000_000_000);
    }

    #[test]
    fn get_msg_merges_and_refuses_the_future() {
        let _g = TEST_LOCK.lock().unwrap();
        let now = get();
        // A message from the past: the local clock keeps going.
        let (t, off) = get_msg(now - (1 << 30)).unwrap();
        assert!(t > now);
        assert_eq!(off, 0);
        // Half a second ahead: accepted, the clock jumps past it.
        let ahead = physical_now() + NSEC_PER_SEC / 2 * NSEC;
        let (t, off) = get_msg(ahead + 5).unwrap();
        assert_eq!(t, ahead + 6, "behind the message: its successor");
        assert!(off > 0 && off <= NSEC_PER_SEC / 2 * NSEC);
        assert!(get() > t);
        // Two seconds ahead: beyond the default epsilon of one second.
        let far = physical_now() + 2 * NSEC_PER_SEC * NSEC;
        let err = get_msg(far).unwrap_err();
        assert!(err > NSEC_PER_SEC * NSEC);
        assert!(get() < far);
    }

    #[test]
    fn conversions() {
        assert_eq!(to_nsec(160), 10);
        assert_eq!(from_nsec(10), 160);
        assert_eq!(to_unix_nsec(0), START_SEC * NSEC_PER_SEC);
        assert_eq!(from_unix_nsec(START_SEC * NSEC_PER_SEC + 3), 48);
        assert_eq!(from_unix_nsec(START_SEC * NSEC_PER_SEC - 1), 0);
        assert_eq!(from_unix_nsec(u64::MAX), 0);
        let last = START_SEC * NSEC_PER_SEC + u64::MAX / NSEC;
        assert_eq!(from_unix_nsec(last), (u64::MAX / NSEC) * NSEC);
        assert_eq!(to_timespec(from_timespec(START_SEC as i64 + 7, 999)), (START_SEC + 7, 999));
        assert_eq!(to_timespec(0), (START_SEC, 0));
        assert_eq!(from_timespec(START_SEC as i64 - 1, 0), (u64::MAX - NSEC_PER_SEC + 1).wrapping_mul(NSEC));
    }

    #[test]
    fn epsilon_rounds_up_to_physical_ticks() {
        let _g = TEST_LOCK.lock().unwrap();
        let saved = epsilon_get();
        epsilon_set(1);
        assert_eq!(epsilon_get(), MASK + 1);
        epsilon_set(0);
        assert_eq!(epsilon_get(), 0);
        epsilon_set(MASK + 1);
        assert_eq!(epsilon_get(), MASK + 1);
        assert_eq!(epsilon_bound(0x40000), 0x80000 | MASK);
        EPSILON.store(saved, Ordering::Relaxed);
        assert_eq!(saved, NSEC_PER_SEC * NSEC, "the default is one second, not rounded");
    }

    #[test]
    fn age() {
        let now = get();
        assert_eq!(age_sec(now + (1 << 40)), 0);
        assert_eq!(age_sec(now - 3 * NSEC_PER_SEC * NSEC), 3);
    }
}
