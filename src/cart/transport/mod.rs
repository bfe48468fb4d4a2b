//! CaRT's network transport: the one narrow boundary between CaRT and the network (the role
//! upstream's `crt_hg.{h,c}` play over Mercury).
//!
//! - [`config`]: provider selection and upstream's `D_PROVIDER`, `D_INTERFACE`, `D_DOMAIN`,
//!   `D_PORT`, `D_PORT_AUTO_ADJUST` semantics.
//! - [`uri`]: endpoint URIs in upstream's textual form (`ofi+tcp://127.0.0.1:31416`).
//! - [`wire`]: this transport's wire format (docs/cart-wire.md): message header, eager and
//!   rendezvous bodies, bulk descriptors.
//! - [`Endpoint`]: one RDM endpoint (one per CaRT context): request/response matching by
//!   request id, one-way messages, large-message overflow through RMA read, bulk GET/PUT over
//!   registered memory, timeouts and cancel, caller-driven progress on a waitable fd.
//! - `ofi`: the thin unsafe layer over libfabric; nothing above it uses `unsafe` except the
//!   documented raw-memory registration entry point.
//!
//! A second wire format (Mercury-compatible) is meant to sit behind the same [`Endpoint`] API:
//! everything format-specific is in `wire` and in the message paths of `endpoint`.
pub mod config;
mod endpoint;
pub(crate) mod ofi;
pub mod uri;
pub mod wire;


pub use config::{NetConfig, Provider};
pub use endpoint::{
    BulkDesc, BulkId, BulkOp, BulkPerm, Completion, Endpoint, EndpointOptions, Event, Incoming, Notify, OpId, Peer,
    ReplyToken,
};
pub use ofi::FiErr;
pub use uri::Uri;


/// DER_* values the transport's errors map to (include/daos_errno.h).
pub mod der {
    pub const DER_NO_PERM: i32 = -1001;
    pub const DER_INVAL: i32 = -1003;
    pub const DER_NONEXIST: i32 = -1005;
    pub const DER_UNREACH: i32 = -1006;
    pub const DER_NOMEM: i32 = -1009;
    pub const DER_NOSYS: i32 = -1010;
    pub const DER_TIMEDOUT: i32 = -1011;
    pub const DER_BUSY: i32 = -1012;
    pub const DER_PROTO: i32 = -1014;
    pub const DER_OVERFLOW: i32 = -1017;
    pub const DER_CANCELED: i32 = -1018;
    pub const DER_HG: i32 = -1020;
}

/// Transport errors. [`Error::der`] gives the DER_* code CaRT reports for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Malformed URI or address (`-DER_INVAL`).
    InvalidUri(String),
    /// Bad argument or configuration value (`-DER_INVAL`).
    InvalidArg(String),
    /// Provider string not known (`-DER_NONEXIST`, as upstream's crt_init).
    UnknownProvider(String),
    /// Known to upstream but not available in this transport (verbs, cxi, opx, ucx):
    /// `-DER_NOSYS`.
    Unsupported(String),
    /// No answer before the deadline (`-DER_TIMEDOUT`).
    TimedOut,
    /// Canceled by the caller (`-DER_CANCELED`).
    Canceled,
    /// The peer could not be reached (connection refused or reset): `-DER_UNREACH`.
    Unreachable,
    /// The peer answered with an error status (its DER_* code).
    Remote(i32),
    /// Peer sent something that is not this wire format (`-DER_PROTO`).
    Protocol(String),
    /// Range outside a buffer or bulk handle (`-DER_OVERFLOW`).
    Overflow,
    /// Unknown handle (`-DER_NONEXIST`).
    NotFound,
    /// Bulk handle in use by a transfer (`-DER_BUSY`).
    Busy,
    /// libfabric failed (`-DER_HG`, as upstream reports Mercury failures).
    Fabric { call: &'static str, err: FiErr },
}

impl Error {
    /// The DER_* code (negative) upstream CaRT returns for this condition.
    pub fn der(&self) -> i32 {
        use der::*;
        match self {
            Error::InvalidUri(_) | Error::InvalidArg(_) => DER_INVAL,
            Error::UnknownProvider(_) | Error::NotFound => DER_NONEXIST,
            Error::Unsupported(_) => DER_NOSYS,
            Error::TimedOut => DER_TIMEDOUT,
            Error::Canceled => DER_CANCELED,
            Error::Unreachable => DER_UNREACH,
            Error::Remote(rc) => *rc,
            Error::Protocol(_) => DER_PROTO,
            Error::Overflow => DER_OVERFLOW,
            Error::Busy => DER_BUSY,
            Error::Fabric { .. } => DER_HG,
        }
    }

    pub(crate) fn fabric(call: &'static str, err: FiErr) -> Error {
        match err.0 {
            libc::ECONNREFUSED | libc::ECONNRESET | libc::EHOSTUNREACH | libc::ENETUNREACH
            | libc::ECONNABORTED | libc::ENOTCONN | libc::EPIPE => Error::Unreachable,
            libc::ETIMEDOUT => Error::TimedOut,
            libc::ECANCELED => Error::Canceled,
            _ => Error::Fabric { call, err },
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidUri(s) => write!(f, "invalid URI: {s}"),
            Error::InvalidArg(s) => write!(f, "invalid argument: {s}"),
            Error::UnknownProvider(s) => write!(f, "unknown provider {s:?}"),
            Error::Unsupported(s) => write!(f, "provider {s:?} is not supported by this transport"),
            Error::TimedOut => f.write_str("timed out"),
            Error::Canceled => f.write_str("canceled"),
            Error::Unreachable => f.write_str("peer unreachable"),
            Error::Remote(rc) => write!(f, "peer answered with error {rc}"),
            Error::Protocol(s) => write!(f, "protocol error: {s}"),
            Error::Overflow => f.write_str("range outside the buffer"),
            Error::NotFound => f.write_str("no such handle"),
            Error::Busy => f.write_str("handle busy"),
            Error::Fabric { call, err } => write!(f, "{call}: {err}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
