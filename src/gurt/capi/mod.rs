//! The exported C API of libgurt: thin wrappers over the safe modules, one file per upstream
//! source file. Every function here is listed in `compat/gurt/exports.txt` and tied to its
//! declaration in `include/` by the generated `_abi_ties`.

mod debug;
mod dlog;
mod errno;
mod fault_inject;
mod hash;
mod heap;
mod hlc;
mod hlct;
mod misc;
mod signals;
mod slab;
mod telemetry;

// Areas still being ported have nothing to re-export yet.
#[allow(unused_imports)]
pub use debug::*;
#[allow(unused_imports)]
pub use dlog::*;
#[allow(unused_imports)]
pub use errno::*;
#[allow(unused_imports)]
pub use fault_inject::*;
#[allow(unused_imports)]
pub use hash::*;
#[allow(unused_imports)]
pub use heap::*;
#[allow(unused_imports)]
pub use hlc::*;
#[allow(unused_imports)]
pub use hlct::*;
#[allow(unused_imports)]
pub use misc::*;
#[allow(unused_imports)]
pub use signals::*;
#[allow(unused_imports)]
pub use slab::*;
#[allow(unused_imports)]
pub use telemetry::*;
