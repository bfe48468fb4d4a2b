//! Upstream `hlct.c`: the HLC tracker, the highest HLC timestamp the process has heard of.
//! It never makes timestamps of its own.

use std::sync::atomic::{AtomicU64, Ordering};

static HLCT: AtomicU64 = AtomicU64::new(0);

/// The highest timestamp seen (`d_hlct_get`).
#[inline]
pub fn get() -> u64 {
    HLCT.load(Ordering::SeqCst)
}

/// Raises the tracker to `msg` if that is higher (`d_hlct_sync`).
#[inline]
pub fn sync(msg: u64) {
    HLCT.fetch_max(msg, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_goes_up() {
        sync(100);
        assert!(get() >= 100);
        let cur = get();
        sync(cur - 1);
        assert_eq!(get(), cur);
        let threads: Vec<_> = (0..4u64)
            .map(|t| std::thread::spawn(move || (0..1000).for_each(|i| sync(cur + t * 1000 + i))))
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(get(), cur + 3999);
    }
}
