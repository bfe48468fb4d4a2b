//! CaRT's log facilities (upstream `crt_debug.{h,c}`): the names libcart registers with gurt's
//! log at `crt_init`, in `CRT_FOREACH_LOG_FAC`'s order. The facility variables and their caches
//! are C data (`capi::crt_debug`); this is the list they follow.

/// `(short name, long name)` of each facility: `D_LOG_MASK=RPC=DEBUG` and `DD_SUBSYS=rpc`
/// name a facility by either, case-insensitively, as gurt matches them.
pub const FACILITIES: [(&str, &str); 11] = [
    ("crt", "cart"),
    ("rpc", "rpc"),
    ("bulk", "bulk"),
    ("corpc", "corpc"),
    ("grp", "group"),
    ("lm", "livenessmap"),
    ("hg", "mercury"),
    ("external", "external"),
    ("st", "self_test"),
    ("iv", "iv"),
    ("ctl", "ctl"),
];

/// Slots of a facility cache: gurt's priorities and debug bits (`DD_FLAG_*_END - 1`).
pub const CACHE_SLOTS: usize = 16;

/// The index of a facility in [`FACILITIES`] by either of its names (case-insensitive).
pub fn index_of(name: &str) -> Option<usize> {
    FACILITIES.iter().position(|(s, l)| s.eq_ignore_ascii_case(name) || l.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_names_and_order() {
        let shorts: Vec<&str> = FACILITIES.iter().map(|f| f.0).collect();
        assert_eq!(shorts, ["crt", "rpc", "bulk", "corpc", "grp", "lm", "hg", "external", "st", "iv", "ctl"]);
        assert_eq!(index_of("GROUP"), Some(4));
        assert_eq!(index_of("self_test"), Some(8));
        assert_eq!(index_of("cart"), Some(0));
        assert_eq!(index_of("mercury"), Some(6));
        assert_eq!(index_of("swim"), None);
    }

    #[test]
    fn cache_is_gurts_slot_count() {
        // 64 bytes of int, as upstream exports each crt_*_logfac_cache.
        assert_eq!(CACHE_SLOTS * std::mem::size_of::<std::ffi::c_int>(), 64);
        assert_eq!(std::mem::size_of_val(unsafe { &*std::ptr::addr_of!(crate::sys::crt_rpc_logfac_cache) }), 64);
    }
}
