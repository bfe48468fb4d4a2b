//! Upstream `misc.c`: the grab bag of gurt.
//!
//! - [`mem`]: the allocation wrappers on the libc heap (`d_malloc` ... `d_free`) with the
//!   per-thread tracking callbacks, and the internal equivalents of the `D_ALLOC` macros;
//! - [`env`]: the environment, read and written under one process-wide lock, with upstream's
//!   parsing of numbers and booleans;
//! - [`rank`]: rank-list algorithms (sort, unique, filter, merge, ranged strings);
//! - [`rand`]: `d_rand`/`d_randd`/`d_srand`, glibc's drand48 generator;
//! - [`backoff`]: exponential backoff sequences;
//! - [`stand_div`]: the standard deviation helper.

pub mod backoff;
pub mod env;
pub mod mem;
pub mod rand;
pub mod rank;

/// Population standard deviation of `values`, summed in order as upstream does (so results
/// are bit-identical). An empty slice gives NaN, as 0/0 does in C.
pub fn stand_div(values: &[f64]) -> f64 {
    let nr = values.len() as f64;
    let avg = values.iter().fold(0.0, |a, v| a + v) / nr;
    let var = values.iter().fold(0.0, |a, v| a + (v - avg) * (v - avg)) / nr;
    var.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_div_matches_the_definition() {
        assert_eq!(stand_div(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]), 2.0);
        assert_eq!(stand_div(&[3.0]), 0.0);
        assert!(stand_div(&[]).is_nan());
    }
}
