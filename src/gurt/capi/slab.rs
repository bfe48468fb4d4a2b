//! Exports of upstream `slab.c`. NULL slabs, types, registrations or descriptors are refused
//! (-DER_INVAL, NULL, false, or nothing) where upstream would dereference them.
//!
//! # Safety
//! Every pointer argument must be NULL or point to what the header says (a live, initialised
//! object of that type); that is C's contract with gurt, so it is stated here once.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_int, c_void};

use crate::slab::{self, Desc, Slab, Type};
use crate::sys::{d_slab, d_slab_reg, d_slab_type, DER_INVAL};

const EINVAL: c_int = -(DER_INVAL as c_int);

// SAFETY (every conversion): C passes its own live slab, registered type and descriptors of
// that type, as slab.h documents; NULL is caught by the Option.
#[inline(always)]
fn slab_of(p: *mut d_slab) -> Option<Slab> {
    // SAFETY: see above.
    unsafe { Slab::from_ptr(p) }
}

#[inline(always)]
fn type_of(p: *mut d_slab_type) -> Option<Type> {
    // SAFETY: see above.
    unsafe { Type::from_ptr(p) }
}

#[no_mangle]
pub unsafe extern "C" fn d_slab_init(s: *mut d_slab, _arg: *mut c_void) -> c_int {
    slab_of(s).map_or(EINVAL, slab::init)
}

#[no_mangle]
pub unsafe extern "C" fn d_slab_destroy(s: *mut d_slab) {
    if let Some(s) = slab_of(s) {
        slab::destroy(s)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_slab_register(
    s: *mut d_slab,
    reg: *mut d_slab_reg,
    arg: *mut c_void,
    out: *mut *mut d_slab_type,
) -> c_int {
    // SAFETY: see above; `reg` is the caller's registration, read once.
    let (Some(s), Some(reg), false) = (slab_of(s), unsafe { reg.as_ref() }, out.is_null()) else {
        return EINVAL;
    };
    match slab::register(s, reg, arg) {
        Ok(t) => {
            // SAFETY: checked non-NULL; the caller's out pointer.
            unsafe { *out = t.as_ptr() };
            0
        }
        Err(rc) => rc,
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_slab_acquire(t: *mut d_slab_type) -> *mut c_void {
    type_of(t).and_then(slab::acquire).map_or(std::ptr::null_mut(), Desc::as_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn d_slab_release(t: *mut d_slab_type, desc: *mut c_void) {
    // SAFETY: see above.
    if let (Some(t), Some(d)) = (type_of(t), unsafe { Desc::from_ptr(desc) }) {
        slab::release(t, d)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_slab_restock(t: *mut d_slab_type) {
    if let Some(t) = type_of(t) {
        slab::restock(t)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_slab_reclaim(s: *mut d_slab) -> bool {
    slab_of(s).is_some_and(slab::reclaim)
}
