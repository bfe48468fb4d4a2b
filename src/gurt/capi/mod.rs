//! The exported C API of libgurt: thin wrappers over the safe modules, one file per upstream
//! source file. Every function here is listed in `compat/gurt/exports.txt` and tied to its
//! declaration in `include/` by the generated `_abi_ties`.

mod errno;

pub use errno::*;
