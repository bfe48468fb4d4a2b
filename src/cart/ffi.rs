//! Helpers for the C boundary (as gurt's).

use std::panic::{catch_unwind, UnwindSafe};

/// Compile-time tie between an export and its declaration: both arguments must have one type.
#[inline(always)]
pub(crate) fn tie<F>(_declared: F, _defined: F) {}

/// Runs the body of an exported function so that a panic never unwinds into C: release builds
/// abort on panic; unwinding builds (cargo test) return `on_panic`.
#[inline(always)]
pub fn guard<R>(on_panic: R, body: impl FnOnce() -> R + UnwindSafe) -> R {
    catch_unwind(body).unwrap_or(on_panic)
}
