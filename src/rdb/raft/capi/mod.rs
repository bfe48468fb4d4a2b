//! The exported C API of libraft: thin wrappers over the safe modules, one file per upstream
//! source file. Every function here is listed in `compat/raft/exports/*.txt` and tied to its
//! declaration in `include/` by the generated `_abi_ties`.
//!
//! A NULL server handle makes a function return its error/empty value (upstream would crash);
//! other pointers are the caller's contract, as upstream documents them.
//!
//! The functions are `extern "C"` entry points for C callers, declared safe so that the
//! signature ties match raft.h; like every C function they trust the pointers they are given
//! (raft.h's contract), which is what clippy's `not_unsafe_ptr_arg_deref` would flag.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod raft_log;
mod raft_node;
mod raft_server;
mod raft_server_properties;

pub use raft_log::*;
pub use raft_node::*;
pub use raft_server::*;
pub use raft_server_properties::*;

/// The server handle behind `me`, or return `$ret` from the calling function when it is NULL.
macro_rules! srv {
    ($me:expr, $ret:expr) => {{
        let s = crate::raft_server::Srv::from_raw($me.cast());
        if s.is_null() {
            return $ret;
        }
        s
    }};
    ($me:expr) => {
        srv!($me, ())
    };
}
pub(crate) use srv;

/// Runs an entry point that can hit one of upstream's assertions: the shipped library aborts
/// (panic = "abort"), unwinding test builds get `$err` back.
macro_rules! guarded {
    ($err:expr, $body:expr) => {
        crate::ffi::guard($err, std::panic::AssertUnwindSafe(|| $body))
    };
}
pub(crate) use guarded;
