//! Helpers for the C boundary.

use std::panic::{catch_unwind, UnwindSafe};

/// Compile-time tie between an export and its declaration: both arguments must have one type.
#[inline(always)]
pub(crate) fn tie<F>(_declared: F, _defined: F) {}

/// Runs the body of an exported function so that a panic never unwinds into C.
///
/// The libraries are built with `panic = "abort"`, so there a failed invariant (upstream's
/// `assert`) aborts the process as upstream's C library does. Builds that unwind (cargo's test
/// harness) catch the panic here and return `on_panic`.
#[inline(always)]
pub fn guard<R>(on_panic: R, body: impl FnOnce() -> R + UnwindSafe) -> R {
    catch_unwind(body).unwrap_or(on_panic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_error_return() {
        assert_eq!(guard(-1, || 3), 3);
        assert_eq!(guard(-1, || -> i32 { panic!("boom") }), -1);
    }
}
