//! The exported C API of libcart: thin wrappers over the safe modules, one file per upstream
//! source file. Every function here is listed in `compat/cart/exports/*.txt` and tied to its
//! declaration in `include/cart` by the generated `_abi_ties`.

mod crt_bulk;
mod crt_context;
mod crt_corpc;
mod crt_group;
mod crt_hg_proc;
mod crt_init;
mod crt_iv;
mod crt_register;
mod crt_rpc;
mod crt_swim;
mod crt_tree;
mod swim;

pub use crt_bulk::*;
pub use crt_context::*;
pub use crt_corpc::*;
pub use crt_group::*;
pub use crt_hg_proc::*;
pub use crt_init::*;
pub use crt_iv::*;
pub use crt_register::*;
pub use crt_rpc::*;
pub use crt_swim::*;
pub use crt_tree::*;
pub use swim::*;
