//! What every oxidaos library crate's `build.rs` does, in one place:
//!
//! 1. bindgen turns the library's public headers (listed in the crate's `sys.h`) into
//!    `$OUT_DIR/bindings.rs`: the only Rust definition of every type that crosses the ABI, with a
//!    compile-time assertion of each size, alignment and field offset;
//! 2. the headers' static inline functions get callable wrappers, compiled with the crate's C
//!    edge (`c/*.c`: variadic and `va_list` entry points stable Rust cannot define) into the
//!    staticlib;
//! 3. `$OUT_DIR/abi_ties.rs` ties every function of `compat/<lib>/exports/*.txt` that Rust
//!    defines to its header declaration, so a Rust signature that drifts does not compile.
//!    The crate includes it at its root; it expects `crate::sys`, `crate::capi` and
//!    `crate::ffi::tie`.
use std::{env, fs, path::Path, path::PathBuf};

/// Build settings for one library crate.
pub struct Lib<'a> {
    /// The library's name under compat/ (`gurt`, `raft`, `cart`).
    pub name: &'a str,
    /// Extra clang/cc arguments (defines, include paths).
    pub c_args: &'a [&'a str],
}

impl Lib<'_> {
    /// Runs all three steps. Call from the crate's build.rs.
    pub fn build(&self) -> Generated {
        let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
        let top = workspace_top(&crate_dir);
        let include = top.join("include");
        let out = PathBuf::from(env::var("OUT_DIR").unwrap());
        let exports = top.join("compat").join(self.name).join("exports");
        // A path that does not exist counts as changed on every build, so name only existing
        // ones; while the crate has no c/ yet, watch the crate directory for its creation.
        let c_dir = crate_dir.join("c");
        let watch_c = if c_dir.is_dir() { c_dir } else { crate_dir.clone() };
        for p in [&include, &exports, &crate_dir.join("sys.h"), &watch_c] {
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }

        let static_fns = out.join("static_fns");
        let mut builder = bindgen::Builder::default()
            .header(crate_dir.join("sys.h").to_str().unwrap())
            .clang_arg(format!("-I{}", include.display()))
            .clang_arg("-D_GNU_SOURCE")
            .allowlist_file(format!("{}/.*", include.display()))
            .wrap_static_fns(true)
            .wrap_static_fns_path(&static_fns)
            .prepend_enum_name(false)
            .derive_default(true)
            .layout_tests(true);
        for a in self.c_args {
            builder = builder.clang_arg(*a);
        }
        let bindings = builder.generate().expect("bindgen failed on include/").to_string();
        fs::write(out.join("bindings.rs"), &bindings).unwrap();

        let mut cc = cc::Build::new();
        cc.include(&include)
            .include(&crate_dir)
            .define("_GNU_SOURCE", None)
            .flag_if_supported("-fno-strict-aliasing")
            .warnings(true);
        for a in self.c_args {
            cc.flag(a);
        }
        if static_fns.with_extension("c").exists() {
            cc.file(static_fns.with_extension("c"));
        }
        let mut c_fns = Vec::new();
        for f in files_with_ext(&crate_dir.join("c"), "c") {
            c_fns.extend(c_definitions(&fs::read_to_string(&f).unwrap()));
            cc.file(f);
        }
        cc.compile(&format!("{}_c", self.name));

        let all: String = files_with_ext(&exports, "txt")
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        fs::write(out.join("abi_ties.rs"), ties(self.name, &all, &bindings, &c_fns)).unwrap();
        Generated { include, top }
    }
}

/// Paths a build.rs may want after [`Lib::build`].
pub struct Generated {
    pub include: PathBuf,
    pub top: PathBuf,
}

fn workspace_top(crate_dir: &Path) -> PathBuf {
    let mut d = crate_dir.to_path_buf();
    while !d.join("include").is_dir() || !d.join("compat").is_dir() {
        assert!(d.pop(), "no workspace top (include/ and compat/) above {}", crate_dir.display());
    }
    d
}

/// The files of a directory with one extension, sorted; none if it does not exist.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == ext)).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Functions a C file defines, in the project's style: the return type on one line, the name
/// and its '(' at the start of the next.
pub fn c_definitions(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| {
            let name: String = l.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty() && l[name.len()..].starts_with('(')).then_some(name)
        })
        .collect()
}

/// Number of parameters of `pub fn NAME(...)` in bindgen's output (each is `name: type`).
pub fn arity(bindings: &str, name: &str) -> Option<usize> {
    let key = format!("pub fn {name}(");
    let start = bindings.find(&key)? + key.len();
    let inner = &bindings[start..start + find_close(&bindings[start..])];
    // Types hold commas only inside (...) or <...> of fn pointers; `->` is not a bracket.
    let (mut depth, mut n, mut seen_colon, mut prev) = (0usize, 0usize, false, ' ');
    for c in inner.chars() {
        let arrow = prev == '-' && c == '>';
        prev = c;
        match c {
            '(' | '<' | '[' => depth += 1,
            '>' if arrow => {}
            ')' | '>' | ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 && !seen_colon => {
                seen_colon = true;
                n += 1;
            }
            ',' if depth == 0 => seen_colon = false,
            _ => {}
        }
    }
    Some(n)
}

fn find_close(s: &str) -> usize {
    let mut depth = 1usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// The tie function: every export Rust defines must have the type of its declaration.
/// Functions defined in C (`c_fns`) are checked by the C compiler against the header instead.
pub fn ties(lib: &str, exports: &str, bindings: &str, c_fns: &[String]) -> String {
    let mut out = format!(
        "// @generated by oxidaos-build from compat/{lib}/exports/: each export's Rust definition\n\
         // must have the type of its declaration in include/.\n\
         #[allow(dead_code, unused_unsafe, clippy::all)]\nfn _abi_ties() {{\n"
    );
    for line in exports.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut it = line.split_whitespace();
        let (name, kind) = (it.next().unwrap(), it.next().unwrap_or("T"));
        if c_fns.iter().any(|f| f == name) {
            continue;
        }
        if kind == "T" {
            let n = arity(bindings, name)
                .unwrap_or_else(|| panic!("{name} is exported but include/ does not declare it"));
            let params = vec!["_"; n].join(", ");
            out += &format!(
                "    crate::ffi::tie(crate::sys::{name} as unsafe extern \"C\" fn({params}) -> _, crate::capi::{name});\n"
            );
        } else {
            out += &format!(
                "    crate::ffi::tie(unsafe {{ &raw const crate::sys::{name} }}, unsafe {{ &raw const crate::capi::{name} }});\n"
            );
        }
    }
    out + "}\n"
}

/// The DER_* names and descriptions from the X-macro lists of include/daos_errno.h, as Rust
/// (`RANGES`). A description is what C's `#desc` makes of the tokens: white space folded.
pub fn errno_table(header: &str) -> String {
    let mut ranges: Vec<(String, u32)> = Vec::new();
    let mut lists: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    let mut current: Option<String> = None;
    for line in header.lines() {
        let l = line.trim().trim_end_matches('\\').trim();
        if let Some(rest) = l.strip_prefix("#define D_FOREACH_") {
            current = if rest.starts_with("ERR_RANGE") {
                Some("RANGE".into())
            } else {
                rest.strip_suffix("_ERR(X)").map(str::to_string)
            };
            continue;
        }
        let Some(cur) = &current else { continue };
        let Some(args) = l.strip_prefix("X(").and_then(|a| a.strip_suffix(')')) else {
            current = None;
            continue;
        };
        let (a, b) = args.split_once(',').unwrap();
        let b = b.split_whitespace().collect::<Vec<_>>().join(" ");
        if cur == "RANGE" {
            ranges.push((a.trim().to_string(), b.parse().unwrap()));
        } else {
            lists.entry(cur.clone()).or_default().push((a.trim().to_string(), b));
        }
    }
    assert!(!ranges.is_empty(), "no D_FOREACH_ERR_RANGE in daos_errno.h");
    let mut out = String::from("// @generated by oxidaos-build from include/daos_errno.h\n");
    out += "pub(crate) static RANGES: &[Range] = &[\n";
    for (name, base) in &ranges {
        let list = &lists[name];
        out += &format!("    Range {{ base: {base}, names: &[");
        for (n, _) in list {
            out += &format!("c{n:?}, ");
        }
        out += "], descs: &[";
        for (_, d) in list {
            out += &format!("c{d:?}, ");
        }
        out += "] },\n";
    }
    out + "];\n"
}
