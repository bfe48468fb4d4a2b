//! Exports of upstream `misc.c`: allocation wrappers, rank lists, environment, random numbers,
//! backoff, string buffers, pointer vectors. Pointer checks and C structs here; the logic is in
//! `crate::misc`.

use crate::misc::mem::TrackCb;

/// The allocation-tracking callback (`d_alloc_track_cb`), set by `d_set_alloc_track_cb`.
#[no_mangle]
pub static mut d_alloc_track_cb: TrackCb = None;

/// The free-tracking callback (`d_free_track_cb`), set by `d_set_alloc_track_cb`.
#[no_mangle]
pub static mut d_free_track_cb: TrackCb = None;

/// The current tracking callbacks.
#[inline(always)]
pub(crate) fn track_callbacks() -> (TrackCb, TrackCb) {
    // SAFETY: plain reads of two pointer-sized exported objects, written only by
    // d_set_alloc_track_cb (upstream's contract: set once before tracking threads start).
    unsafe { ((&raw const d_alloc_track_cb).read(), (&raw const d_free_track_cb).read()) }
}

/// Sets the tracking callbacks.
pub(crate) fn set_track_callbacks(alloc: TrackCb, free: TrackCb) {
    // SAFETY: as above.
    unsafe {
        (&raw mut d_alloc_track_cb).write(alloc);
        (&raw mut d_free_track_cb).write(free);
    }
}
