//! oxidaos libcart: DAOS's CaRT (Collective and RPC Transport) in Rust.
//!
//! Built bottom-up. `transport` is the network layer, the role upstream's `crt_hg.{h,c}` play
//! over Mercury: endpoints and URIs, request/response matching, one-way messages, large-message
//! overflow, bulk pull/push, caller-driven progress on a waitable fd. It is the one place that
//! knows about libfabric and the wire format; contexts, RPCs, groups and the C API sit on top.
pub mod transport;
