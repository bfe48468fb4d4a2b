//! libcart's C view: bindgen over include/cart (and the gurt headers it includes), the static
//! inline wrappers, and the ties of compat/cart/exports to the declarations.
fn main() {
    oxidaos_build::Lib {
        name: "cart",
        c_args: &[],
    }
    .build();
}
