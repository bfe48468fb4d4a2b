//! Upstream `slab.c`: pools of fixed-size descriptors recycled off the critical path.
//!
//! A descriptor moves: (created) -> free list -> acquired by the caller -> released onto the
//! pending list -> reset (sr_reset) back onto the free list by a restock, or by an acquire that
//! finds the free list empty. Creation and final release happen off the critical path when
//! the caller restocks regularly; the counters record how often they did not.
//!
//! The structs are C's (`struct d_slab`, `struct d_slab_type`) and descriptors are linked
//! through a `d_list_t` at `sr_offset` inside them, so the pointer work lives in [`raw`]; the
//! policy below is safe code.

use std::ffi::{c_int, c_void};

use crate::sys;

pub use raw::{Desc, Field, Slab, Type};

/// The raw side of slabs (see the invariants on each handle).
mod raw {
    use std::ffi::{c_int, c_void};
    use std::ptr::{self, addr_of_mut, NonNull};

    use crate::hash::raw::{errno2der, Link};
    use crate::sys;

    /// A slab. Invariant: points to a live `struct d_slab`; after [`Slab::init`] its list and
    /// mutex are initialised, until [`Slab::fini_lock`].
    #[derive(Clone, Copy)]
    pub struct Slab(NonNull<sys::d_slab>);

    /// A registered type. Invariant: points to a live `struct d_slab_type` that
    /// [`Type::alloc`] created and registration initialised; its lists and counters are
    /// touched only under its `st_lock` (taken through [`Type::lock`]), except during
    /// registration and destruction, which their callers serialise.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct Type(NonNull<sys::d_slab_type>);

    /// A descriptor: `sr_size` bytes on the libc heap with a `d_list_t` at `sr_offset`.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub struct Desc(NonNull<c_void>);

    /// The counters of a type.
    #[derive(Clone, Copy)]
    pub enum Field {
        Count,
        Free,
        Pending,
        Init,
        Reset,
        Release,
        OpInit,
        OpReset,
        NoRestock,
        NoRestockHwm,
    }

    impl Slab {
        /// # Safety
        /// `p` must satisfy the [`Slab`] invariant (or be about to be initialised by `init`).
        pub unsafe fn from_ptr(p: *mut sys::d_slab) -> Option<Slab> {
            NonNull::new(p).map(Slab)
        }

        fn p(self) -> *mut sys::d_slab {
            self.0.as_ptr()
        }

        pub fn types_head(self) -> Link {
            // SAFETY: slab_list of a live slab is a live list head.
            unsafe { Link::from_ptr(addr_of_mut!((*self.p()).slab_list)) }.expect("non-NULL")
        }

        /// Initialises the list and the mutex; 0 or the DER_* of the pthread error.
        pub fn init(self) -> c_int {
            self.types_head().init();
            // SAFETY: the caller's slab, not yet shared.
            let rc = unsafe { libc::pthread_mutex_init(addr_of_mut!((*self.p()).slab_lock).cast(), ptr::null()) };
            errno2der(rc)
        }

        pub fn set_initialised(self) {
            // SAFETY: the caller's slab, being initialised.
            unsafe { (*self.p()).slab_init = true }
        }

        pub fn initialised(self) -> bool {
            // SAFETY: live slab.
            unsafe { (*self.p()).slab_init }
        }

        pub fn lock(self) {
            // SAFETY: the mutex was initialised by init.
            unsafe { libc::pthread_mutex_lock(addr_of_mut!((*self.p()).slab_lock).cast()) };
        }

        pub fn unlock(self) {
            // SAFETY: held by this thread.
            unsafe { libc::pthread_mutex_unlock(addr_of_mut!((*self.p()).slab_lock).cast()) };
        }

        pub fn fini_lock(self) -> c_int {
            // SAFETY: no thread uses the slab any more (destroy's contract).
            unsafe { libc::pthread_mutex_destroy(addr_of_mut!((*self.p()).slab_lock).cast()) }
        }
    }

    impl Type {
        /// # Safety
        /// `p` must satisfy the [`Type`] invariant.
        pub unsafe fn from_ptr(p: *mut sys::d_slab_type) -> Option<Type> {
            NonNull::new(p).map(Type)
        }

        pub fn as_ptr(self) -> *mut sys::d_slab_type {
            self.0.as_ptr()
        }

        /// A zeroed type on the libc heap, with its lists empty, its registration copied
        /// and its mutex initialised; Err(DER_*) when allocation or the mutex fails.
        pub fn alloc(slab: Slab, reg: &sys::d_slab_reg, arg: *mut c_void) -> Result<Type, c_int> {
            let t = crate::hash::raw::calloc_one::<sys::d_slab_type>()
                .ok_or(-(sys::DER_NOMEM as c_int))?;
            let p = t.as_ptr();
            // SAFETY: a fresh zeroed struct only this function knows.
            let rc = unsafe {
                libc::pthread_mutex_init(addr_of_mut!((*p).st_lock).cast(), ptr::null())
            };
            if rc != 0 {
                // SAFETY: from calloc_one, never shared.
                unsafe { crate::hash::raw::free_one(t) };
                return Err(errno2der(rc));
            }
            let ty = Type(t);
            ty.free_head().init();
            ty.pending_head().init();
            ty.type_link().init();
            // SAFETY: as above.
            unsafe {
                (*p).st_slab = slab.p();
                (*p).st_reg = *reg;
                (*p).st_arg = arg;
            }
            Ok(ty)
        }

        /// Destroys the mutex and frees the struct (the type is off every list).
        pub fn dealloc(self) -> c_int {
            // SAFETY: nobody uses the type any more (destroy/register-failure contract); the
            // struct came from calloc_one.
            unsafe {
                let rc = libc::pthread_mutex_destroy(addr_of_mut!((*self.as_ptr()).st_lock).cast());
                crate::hash::raw::free_one(self.0);
                rc
            }
        }

        /// The type whose `st_type_list` is `l`.
        ///
        /// # Safety
        /// `l` must be the st_type_list of a live registered type (a slab's type list holds
        /// only those).
        pub unsafe fn of_type_link(l: Link) -> Type {
            // SAFETY: by the contract.
            Type(unsafe {
                NonNull::new_unchecked(
                    l.as_ptr().byte_sub(std::mem::offset_of!(sys::d_slab_type, st_type_list)).cast(),
                )
            })
        }

        pub fn type_link(self) -> Link {
            // SAFETY: a field of a live type.
            unsafe { Link::from_ptr(addr_of_mut!((*self.as_ptr()).st_type_list)) }.expect("non-NULL")
        }

        pub fn free_head(self) -> Link {
            // SAFETY: a field of a live type.
            unsafe { Link::from_ptr(addr_of_mut!((*self.as_ptr()).st_free_list)) }.expect("non-NULL")
        }

        pub fn pending_head(self) -> Link {
            // SAFETY: a field of a live type.
            unsafe { Link::from_ptr(addr_of_mut!((*self.as_ptr()).st_pending_list)) }.expect("non-NULL")
        }

        /// The registration (copied at registration, never written afterwards).
        pub fn reg(&self) -> &sys::d_slab_reg {
            // SAFETY: st_reg is immutable after registration.
            unsafe { &(*self.as_ptr()).st_reg }
        }

        pub fn arg(self) -> *mut c_void {
            // SAFETY: immutable after registration.
            unsafe { (*self.as_ptr()).st_arg }
        }

        pub fn lock(self) {
            // SAFETY: initialised by alloc.
            unsafe { libc::pthread_mutex_lock(addr_of_mut!((*self.as_ptr()).st_lock).cast()) };
        }

        pub fn unlock(self) {
            // SAFETY: held by this thread.
            unsafe { libc::pthread_mutex_unlock(addr_of_mut!((*self.as_ptr()).st_lock).cast()) };
        }

        fn field(self, f: Field) -> *mut c_int {
            let p = self.as_ptr();
            // SAFETY: field addresses of a live type.
            unsafe {
                match f {
                    Field::Count => addr_of_mut!((*p).st_count),
                    Field::Free => addr_of_mut!((*p).st_free_count),
                    Field::Pending => addr_of_mut!((*p).st_pending_count),
                    Field::Init => addr_of_mut!((*p).st_init_count),
                    Field::Reset => addr_of_mut!((*p).st_reset_count),
                    Field::Release => addr_of_mut!((*p).st_release_count),
                    Field::OpInit => addr_of_mut!((*p).st_op_init),
                    Field::OpReset => addr_of_mut!((*p).st_op_reset),
                    Field::NoRestock => addr_of_mut!((*p).st_no_restock),
                    Field::NoRestockHwm => addr_of_mut!((*p).st_no_restock_hwm),
                }
            }
        }

        /// A counter (read under the type lock, or racily for logging as upstream does).
        pub fn get(self, f: Field) -> c_int {
            // SAFETY: an aligned int of a live type; writers hold the lock.
            unsafe { ptr::read_volatile(self.field(f)) }
        }

        pub fn add(self, f: Field, d: c_int) {
            // SAFETY: the caller holds the type lock (or serialises registration).
            unsafe { *self.field(f) = (*self.field(f)).wrapping_add(d) }
        }

        pub fn set(self, f: Field, v: c_int) {
            // SAFETY: as for add.
            unsafe { *self.field(f) = v }
        }

        /// A new zeroed descriptor of sr_size bytes.
        pub fn alloc_desc(self) -> Option<Desc> {
            let size = self.reg().sr_size.max(0) as usize;
            // At least one byte, so descriptors are distinct.
            NonNull::new(crate::hash::raw::alloc_zeroed(1, size.max(1))).map(Desc)
        }

        /// The descriptor whose list entry is `l`.
        pub fn desc_of(self, l: Link) -> Desc {
            // SAFETY: entries on a type's lists sit sr_offset bytes into descriptors.
            Desc(unsafe {
                NonNull::new_unchecked(l.as_ptr().byte_sub(self.reg().sr_offset as usize).cast())
            })
        }

        /// The list entry of a descriptor.
        pub fn entry_of(self, d: Desc) -> Link {
            // SAFETY: descriptors of this type have their d_list_t at sr_offset.
            unsafe { Link::from_ptr(d.as_ptr().byte_add(self.reg().sr_offset as usize).cast()) }
                .expect("non-NULL")
        }

        pub fn call_init(self, d: Desc) {
            if let Some(f) = self.reg().sr_init {
                // SAFETY: the caller's callback with its own descriptor and argument.
                unsafe { f(d.as_ptr(), self.arg()) }
            }
        }

        /// sr_reset's verdict, or None without the callback.
        pub fn call_reset(self, d: Desc) -> Option<bool> {
            // SAFETY: as for call_init.
            self.reg().sr_reset.map(|f| unsafe { f(d.as_ptr()) })
        }

        pub fn call_release(self, d: Desc) -> bool {
            match self.reg().sr_release {
                Some(f) => {
                    // SAFETY: as for call_init.
                    unsafe { f(d.as_ptr()) };
                    true
                }
                None => false,
            }
        }
    }

    impl Desc {
        /// # Safety
        /// `p` must be a descriptor of the type it is used with.
        pub unsafe fn from_ptr(p: *mut c_void) -> Option<Desc> {
            NonNull::new(p).map(Desc)
        }

        pub fn as_ptr(self) -> *mut c_void {
            self.0.as_ptr()
        }

        pub fn free(self) {
            // SAFETY: descriptors come from calloc in alloc_desc and are freed once, when
            // they leave every list.
            unsafe { libc::free(self.as_ptr()) }
        }
    }
}

/// d_slab_init.
pub fn init(slab: Slab) -> c_int {
    let rc = slab.init();
    if rc != 0 {
        return rc;
    }
    tracing::debug!(target: "misc", "creating a data slab manager");
    slab.set_initialised();
    0
}

fn dump(t: Type) {
    let name = t.reg().sr_name;
    tracing::debug!(
        target: "misc",
        "slab type {:p} ({:p}): size {} offset {}; free {} pending {} total {}; \
         init {} reset {} release {}; on-path init {} reset {}; no-restock {} hwm {}",
        t.as_ptr(), name, t.reg().sr_size, t.reg().sr_offset,
        t.get(Field::Free), t.get(Field::Pending), t.get(Field::Count),
        t.get(Field::Init), t.get(Field::Reset), t.get(Field::Release),
        t.get(Field::OpInit), t.get(Field::OpReset),
        t.get(Field::NoRestock), t.get(Field::NoRestockHwm)
    );
}

/// Iterates a slab's types.
fn types(slab: Slab) -> impl Iterator<Item = Type> {
    let head = slab.types_head();
    let mut l = head.next();
    std::iter::from_fn(move || {
        if l == head {
            return None;
        }
        // SAFETY: a slab's type list holds only the st_type_list of registered types.
        let t = unsafe { Type::of_type_link(l) };
        l = l.next();
        Some(t)
    })
}

/// d_slab_destroy.
pub fn destroy(slab: Slab) {
    if !slab.initialised() {
        return;
    }
    types(slab).for_each(dump);
    if reclaim(slab) {
        tracing::warn!(target: "misc", "slab allocator has active objects");
    }
    let head = slab.types_head();
    while !head.is_empty() {
        let l = head.next();
        l.unlink();
        // SAFETY: as in `types`.
        let t = unsafe { Type::of_type_link(l) };
        if t.get(Field::Count) != 0 {
            tracing::warn!(target: "misc", "freeing slab type with active objects");
        }
        let rc = t.dealloc();
        if rc != 0 {
            tracing::error!(target: "misc", "failed to destroy a slab type lock: {rc}");
        }
    }
    let rc = slab.fini_lock();
    if rc != 0 {
        tracing::error!(target: "misc", "failed to destroy the slab lock: {rc}");
    }
}

fn max_free_reached(t: Type) -> bool {
    let m = t.reg().sr_max_free_desc;
    m != 0 && t.get(Field::Free) >= m
}

/// Moves pending descriptors to the free list (resetting each) until `count` are free, the
/// free list is at its cap, or none are pending. Type lock held. Returns the resets done.
fn restock_locked(t: Type, count: c_int) -> c_int {
    if t.get(Field::Free) >= count || max_free_reached(t) {
        return 0;
    }
    let mut resets = 0;
    let head = t.pending_head();
    let mut l = head.next();
    while l != head {
        let next = l.next();
        let d = t.desc_of(l);
        tracing::debug!(target: "misc", "slab type {:p}: resetting {:p}", t.as_ptr(), d.as_ptr());
        l.unlink();
        t.add(Field::Pending, -1);
        let ok = match t.call_reset(d) {
            Some(ok) => {
                t.add(Field::Reset, 1);
                resets += 1;
                ok
            }
            None => true,
        };
        if ok {
            l.add_after(t.free_head());
            t.add(Field::Free, 1);
        } else {
            tracing::info!(target: "misc", "slab entry {:p} failed reset", d.as_ptr());
            t.add(Field::Count, -1);
            d.free();
        }
        if t.get(Field::Free) == count || max_free_reached(t) {
            break;
        }
        l = next;
    }
    resets
}

/// d_slab_reclaim: frees every idle descriptor; true when some are still in use.
pub fn reclaim(slab: Slab) -> bool {
    if !slab.initialised() {
        tracing::error!(target: "misc", "slab not initialised");
        return false;
    }
    let mut active = false;
    slab.lock();
    for t in types(slab) {
        t.lock();
        // Pending descriptors reach the free list through a reset. A type with
        // sr_max_free_desc moves at most that many at a time, so repeat until nothing is
        // left to move (upstream moves once and leaves the rest pending for ever).
        loop {
            restock_locked(t, t.get(Field::Count));
            let head = t.free_head();
            if head.is_empty() {
                break;
            }
            while !head.is_empty() {
                let l = head.next();
                let d = t.desc_of(l);
                if t.call_release(d) {
                    t.add(Field::Release, 1);
                }
                l.unlink();
                d.free();
                t.add(Field::Free, -1);
                t.add(Field::Count, -1);
            }
        }
        if t.get(Field::Count) != 0 {
            tracing::info!(target: "misc", "{} active descriptors of slab type {:p}", t.get(Field::Count), t.as_ptr());
            active = true;
        }
        t.unlock();
    }
    slab.unlock();
    active
}

/// Creates one descriptor (init and reset run); None when allocation or reset fails.
fn create(t: Type) -> Option<Desc> {
    let d = t.alloc_desc()?;
    t.add(Field::Init, 1);
    t.call_init(d);
    if t.call_reset(d) == Some(false) {
        tracing::info!(target: "misc", "slab entry {:p} failed reset", d.as_ptr());
        d.free();
        return None;
    }
    t.add(Field::Count, 1);
    Some(d)
}

/// Fills the free list to one more than the most acquires seen between restocks.
fn create_many(t: Type) {
    while t.get(Field::Free) < t.get(Field::NoRestockHwm) + 1 {
        if max_free_reached(t) {
            break;
        }
        let Some(d) = create(t) else { return };
        t.entry_of(d).add_before(t.free_head());
        t.add(Field::Free, 1);
    }
}

/// d_slab_register.
pub fn register(slab: Slab, reg: &sys::d_slab_reg, arg: *mut c_void) -> Result<Type, c_int> {
    if reg.sr_name.is_null() {
        return Err(-(sys::DER_INVAL as c_int));
    }
    if !slab.initialised() {
        tracing::error!(target: "misc", "slab not initialised");
        return Err(-(sys::DER_UNINIT as c_int));
    }
    if reg.sr_size <= 0
        || reg.sr_offset < 0
        || reg.sr_offset as usize + size_of::<sys::d_list_t>() > reg.sr_size as usize
    {
        tracing::error!(target: "misc", "slab type: list entry at {} outside {} bytes", reg.sr_offset, reg.sr_size);
        return Err(-(sys::DER_INVAL as c_int));
    }
    let t = Type::alloc(slab, reg, arg)?;
    create_many(t);
    create_many(t);
    if t.get(Field::Free) == 0 {
        // Not even one descriptor: an allocation failure or a type whose reset always
        // fails. Either way the registration fails.
        t.dealloc();
        return Err(-(sys::DER_INVAL as c_int));
    }
    slab.lock();
    t.type_link().add_before(slab.types_head());
    slab.unlock();
    Ok(t)
}

/// d_slab_acquire.
#[inline(always)]
pub fn acquire(t: Type) -> Option<Desc> {
    let mut at_limit = false;
    t.lock();
    t.add(Field::NoRestock, 1);
    if t.get(Field::Free) == 0 {
        let n = restock_locked(t, 1);
        t.add(Field::OpReset, n);
    }
    let head = t.free_head();
    let d = if !head.is_empty() {
        let l = head.next();
        l.unlink();
        l.clear();
        t.add(Field::Free, -1);
        Some(t.desc_of(l))
    } else {
        let max = t.reg().sr_max_desc;
        if max == 0 || t.get(Field::Count) < max {
            t.add(Field::OpInit, 1);
            create(t)
        } else {
            at_limit = true;
            None
        }
    };
    t.unlock();
    match d {
        Some(d) => tracing::debug!(target: "misc", "slab type {:p}: using {:p}", t.as_ptr(), d.as_ptr()),
        None if at_limit => tracing::info!(target: "misc", "slab descriptor limit hit"),
        None => tracing::warn!(target: "misc", "slab failed to allocate a descriptor"),
    }
    d
}

/// d_slab_release.
#[inline(always)]
pub fn release(t: Type, d: Desc) {
    let l = t.entry_of(d);
    t.lock();
    t.add(Field::Pending, 1);
    l.add_before(t.pending_head());
    t.unlock();
}

/// d_slab_restock.
pub fn restock(t: Type) {
    tracing::debug!(
        target: "misc",
        "slab type {:p}: count ({}/{}/{})",
        t.as_ptr(), t.get(Field::Pending), t.get(Field::Free), t.get(Field::Count)
    );
    t.lock();
    if t.get(Field::NoRestock) > t.get(Field::NoRestockHwm) {
        t.set(Field::NoRestockHwm, t.get(Field::NoRestock));
    }
    t.set(Field::NoRestock, 0);
    restock_locked(t, t.get(Field::NoRestockHwm) + 1);
    if t.reg().sr_max_desc == 0 {
        create_many(t);
    }
    t.unlock();
}


#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::c_void;

    #[repr(C)]
    struct D {
        v: u64,
        link: sys::d_list_t,
    }

    unsafe extern "C" fn reset(p: *mut c_void) -> bool {
        // SAFETY: descriptors of this test's type are `D`s.
        unsafe { (*p.cast::<D>()).v += 1 };
        true
    }

    fn reg() -> sys::d_slab_reg {
        sys::d_slab_reg {
            sr_reset: Some(reset),
            sr_name: c"d".as_ptr().cast_mut(),
            sr_size: size_of::<D>() as c_int,
            sr_offset: std::mem::offset_of!(D, link) as c_int,
            ..Default::default()
        }
    }

    #[test]
    fn acquire_release_restock_counts() {
        let mut s: Box<sys::d_slab> = Box::default();
        // SAFETY: a boxed slab that outlives its use here.
        let slab = unsafe { Slab::from_ptr(&mut *s) }.unwrap();
        assert_eq!(init(slab), 0);
        let t = register(slab, &reg(), std::ptr::null_mut()).unwrap();
        assert_eq!((t.get(Field::Count), t.get(Field::Free)), (1, 1));
        let a = acquire(t).unwrap();
        let b = acquire(t).unwrap();
        assert_ne!(a, b);
        assert_eq!(t.get(Field::OpInit), 1);
        release(t, a);
        release(t, b);
        assert_eq!(t.get(Field::Pending), 2);
        restock(t);
        assert_eq!(t.get(Field::NoRestockHwm), 2);
        assert_eq!(t.get(Field::Pending), 0);
        assert_eq!(t.get(Field::Free), 3);
        assert_eq!(t.get(Field::Reset), 2);
        assert!(!reclaim(slab));
        assert_eq!(t.get(Field::Count), 0);
        destroy(slab);
    }

    #[test]
    fn registration_checks_the_layout() {
        let mut s: Box<sys::d_slab> = Box::default();
        // SAFETY: as above.
        let slab = unsafe { Slab::from_ptr(&mut *s) }.unwrap();
        assert_eq!(init(slab), 0);
        let mut r = reg();
        r.sr_name = std::ptr::null_mut();
        assert_eq!(register(slab, &r, std::ptr::null_mut()).err(), Some(-(sys::DER_INVAL as c_int)));
        let mut r = reg();
        r.sr_offset = r.sr_size - 8;
        assert_eq!(register(slab, &r, std::ptr::null_mut()).err(), Some(-(sys::DER_INVAL as c_int)));
        destroy(slab);
    }
}
