//! The exported C API of libcart: thin wrappers over the safe modules, one file per upstream
//! source file. Every function here is listed in `compat/cart/exports/*.txt` and tied to its
//! declaration in `include/cart` by the generated `_abi_ties`.

mod crt_bulk;
mod crt_context;
mod crt_corpc;
mod crt_debug;
pub(crate) mod crt_ctl;
pub(crate) mod crt_self_test;
mod crt_group;
mod grp_priv;
mod crt_hg_proc;
mod crt_init;
mod crt_misc;
mod crt_provider;
mod crt_iv;
mod crt_register;
mod crt_rpc;
mod crt_swim;
mod crt_tree;
mod swim;

pub use crt_bulk::*;
pub use crt_context::*;
pub use crt_corpc::*;
pub use crt_debug::*;
pub use crt_ctl::*;
pub use crt_self_test::*;
pub use crt_group::*;
pub use grp_priv::*;
pub use crt_hg_proc::*;
pub use crt_init::*;
pub use crt_misc::*;
pub use crt_provider::*;
pub use crt_iv::*;
pub use crt_register::*;
pub use crt_rpc::*;
pub use crt_swim::*;
pub use crt_tree::*;
pub use swim::*;
