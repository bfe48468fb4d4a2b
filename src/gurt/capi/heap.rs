//! Exports of upstream `heap.c`. NULL heaps and nodes are refused (-DER_INVAL, NULL or
//! nothing, as upstream does where it checks, and also where upstream would dereference).
//!
//! # Safety
//! Every pointer argument must be NULL or point to what the header says (a live, initialised
//! object of that type); that is C's contract with gurt, so it is stated here once.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_int, c_void};

use crate::heap::{self, Heap, Node};
use crate::sys::{d_binheap, d_binheap_node, d_binheap_ops};

// SAFETY (every conversion): C passes its own live heap (created by d_binheap_create*) and
// live nodes, as heap.h documents; NULL is caught by the Option.
#[inline(always)]
fn heap_of(p: *mut d_binheap) -> Option<Heap> {
    // SAFETY: see above.
    unsafe { Heap::from_ptr(p) }
}

#[inline(always)]
fn node_of(p: *mut d_binheap_node) -> Option<Node> {
    // SAFETY: see above.
    unsafe { Node::from_ptr(p) }
}

fn ops_ok(ops: *mut d_binheap_ops) -> bool {
    // SAFETY: NULL or the caller's live callbacks.
    heap::ops_valid(unsafe { ops.as_ref() })
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_create_inplace(
    feats: u32,
    count: u32,
    priv_: *mut c_void,
    ops: *mut d_binheap_ops,
    h: *mut d_binheap,
) -> c_int {
    if !ops_ok(ops) {
        tracing::error!(target: "mem", "invalid parameter, should pass in valid ops table");
        return heap::einval();
    }
    match heap_of(h) {
        Some(h) => heap::create(h, feats, count, priv_, ops),
        None => heap::einval(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_create(
    feats: u32,
    count: u32,
    priv_: *mut c_void,
    ops: *mut d_binheap_ops,
    out: *mut *mut d_binheap,
) -> c_int {
    if !ops_ok(ops) || out.is_null() {
        return heap::einval();
    }
    let Some(h) = Heap::alloc() else {
        return -(crate::sys::DER_NOMEM as c_int);
    };
    let rc = heap::create(h, feats, count, priv_, ops);
    if rc != 0 {
        h.dealloc();
        return rc;
    }
    // SAFETY: checked non-NULL; the caller's out pointer.
    unsafe { *out = h.as_ptr() };
    0
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_destroy_inplace(h: *mut d_binheap) {
    match heap_of(h) {
        Some(h) => h.teardown(true),
        None => tracing::error!(target: "mem", "ignore invalid parameter of NULL heap"),
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_destroy(h: *mut d_binheap) {
    match heap_of(h) {
        Some(h) => {
            h.teardown(true);
            h.dealloc();
        }
        None => tracing::error!(target: "mem", "ignore invalid parameter of NULL heap"),
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_find(h: *mut d_binheap, idx: u32) -> *mut d_binheap_node {
    heap_of(h).and_then(|h| heap::find(h, idx)).map_or(std::ptr::null_mut(), Node::as_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_insert(h: *mut d_binheap, e: *mut d_binheap_node) -> c_int {
    match (heap_of(h), node_of(e)) {
        (Some(h), Some(e)) => heap::insert(h, e),
        _ => {
            tracing::error!(target: "mem", "invalid parameter of NULL h or e");
            heap::einval()
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_remove(h: *mut d_binheap, e: *mut d_binheap_node) {
    if let (Some(h), Some(e)) = (heap_of(h), node_of(e)) {
        heap::remove(h, e)
    }
}

#[no_mangle]
pub unsafe extern "C" fn d_binheap_remove_root(h: *mut d_binheap) -> *mut d_binheap_node {
    heap_of(h).and_then(heap::remove_root).map_or(std::ptr::null_mut(), Node::as_ptr)
}
