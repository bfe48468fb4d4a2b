//! Helpers for the C boundary.

use std::panic::{catch_unwind, UnwindSafe};

/// Compile-time tie between an export and its declaration: both arguments must have one type.
#[inline(always)]
pub(crate) fn tie<F>(_declared: F, _defined: F) {}

/// Runs the body of an exported function so that a panic never unwinds into C.
///
/// The libraries are built with `panic = "abort"`, so in them a panic aborts the process before
/// any unwinding starts (as zlib-rs and libbzip2-rs do). Builds that unwind (cargo's test
/// harness) catch the panic here and return `on_panic`, the error the function documents
/// (rustls-ffi's approach), so the boundary holds in both.
#[inline(always)]
pub fn guard<R>(on_panic: R, body: impl FnOnce() -> R + UnwindSafe) -> R {
    catch_unwind(body).unwrap_or(on_panic)
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn exported_that_panics(x: i32) -> i32 {
        guard(-1003, || {
            if x > 0 {
                panic!("boom");
            }
            x
        })
    }

    #[test]
    fn a_panic_becomes_the_error_return() {
        assert_eq!(exported_that_panics(0), 0);
        assert_eq!(exported_that_panics(1), -1003);
    }
}

/// A function that panics, reachable from C only through the static archive (the shared
/// library's export map hides it). c_tests/panic_abort.c calls it in a child process to prove
/// that a panic in oxidaos code ends the process with SIGABRT and never unwinds into C frames.
#[no_mangle]
pub extern "C" fn __oxidaos_panic_probe(code: std::ffi::c_int) -> std::ffi::c_int {
    if code != 0 {
        panic!("panic probe {code}");
    }
    0
}
