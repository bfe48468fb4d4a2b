//! libgurt's C view: see compat/oxidaos-build for what is generated and checked.
use std::{env, fs, path::PathBuf};

fn main() {
    let g = oxidaos_build::Lib { name: "gurt", c_args: &[] }.build();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let errno_h = fs::read_to_string(g.include.join("daos_errno.h")).unwrap();
    fs::write(out.join("errno_table.rs"), oxidaos_build::errno_table(&errno_h)).unwrap();
}
