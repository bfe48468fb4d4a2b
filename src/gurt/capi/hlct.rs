//! Exports of upstream `hlct.c`: the HLC tracker (see `crate::hlct`).

#[no_mangle]
pub extern "C" fn d_hlct_get() -> u64 {
    crate::hlct::get()
}

#[no_mangle]
pub extern "C" fn d_hlct_sync(msg: u64) {
    crate::hlct::sync(msg);
}
