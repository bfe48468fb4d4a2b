//! libraft's C view: see compat/oxidaos-build for what is generated and checked.
fn main() {
    oxidaos_build::Lib {
        name: "raft",
        c_args: &[],
    }
    .build();
}
