//! bindgen over libfabric's headers. Most of libfabric's API (fi_domain, fi_tsend, fi_read,
//! fi_cq_read, fi_close, ...) is `static inline` calls through the objects' ops tables, so
//! bindgen's wrap_static_fns writes a C file with one exported wrapper per inline function
//! (`NAME__extern`), which is compiled here and linked beside -lfabric.
use std::{env, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let header = here.join("wrapper.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let wrappers = out.join("ofi_static_wrappers");

    let bindings = bindgen::Builder::default()
        .header(header.to_str().unwrap())
        .allowlist_function("fi_.*")
        .allowlist_type("fi_.*|fid.*")
        .allowlist_var("FI_.*|FID_.*")
        .blocklist_function("fi_.*_ops_.*")
        .wrap_static_fns(true)
        .wrap_static_fns_path(&wrappers)
        .derive_default(true)
        .layout_tests(true)
        .generate_comments(false)
        .generate()
        .expect("bindgen failed on libfabric's headers (is libfabric-dev installed?)");
    bindings.write_to_file(out.join("bindings.rs")).unwrap();

    cc::Build::new()
        .file(wrappers.with_extension("c"))
        .include(&here)
        .flag("-include")
        .flag(header.to_str().unwrap())
        .warnings(false)
        .compile("ofi_static_wrappers");
    println!("cargo:rustc-link-lib=fabric");
}
