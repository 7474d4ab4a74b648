//! Rust state of a scan or an insert, owned by the query's memory context: Postgres drops
//! it when the context goes, at the end of the query or after an ERROR, so no error path
//! leaks it and no callback order is relied on.

use std::ffi::c_void;

use pgrx::prelude::*;

pub struct Owned<T> {
    pub state: Option<T>,
}

/// Gives `state` to `context`; the pointer stays valid as long as the context.
pub unsafe fn attach<T>(context: pg_sys::MemoryContext, state: T) -> *mut Owned<T> {
    let owned = Box::into_raw(Box::new(Owned { state: Some(state) }));
    // SAFETY: the callback is allocated in the context it belongs to and frees `owned`
    // exactly once, when the context is reset or deleted.
    unsafe {
        let callback = pg_sys::MemoryContextAllocZero(
            context,
            std::mem::size_of::<pg_sys::MemoryContextCallback>(),
        )
        .cast::<pg_sys::MemoryContextCallback>();
        (*callback).func = Some(free::<T>);
        (*callback).arg = owned.cast();
        pg_sys::MemoryContextRegisterResetCallback(context, callback);
    }
    owned
}

/// The state behind a pointer set by `attach`, or None for a null pointer.
pub unsafe fn get<'a, T>(pointer: *mut c_void) -> Option<&'a mut T> {
    // SAFETY: the caller passes null or a pointer returned by `attach::<T>`.
    unsafe { pointer.cast::<Owned<T>>().as_mut() }.and_then(|owned| owned.state.as_mut())
}

/// Drops the state now; the holder itself goes with its context.
pub unsafe fn release<T>(pointer: *mut c_void) -> Option<T> {
    // SAFETY: the caller passes null or a pointer returned by `attach::<T>`.
    unsafe { pointer.cast::<Owned<T>>().as_mut() }.and_then(|owned| owned.state.take())
}

unsafe extern "C-unwind" fn free<T>(arg: *mut c_void) {
    // SAFETY: `arg` is the Box leaked in `attach`, freed only here.
    drop(unsafe { Box::from_raw(arg.cast::<Owned<T>>()) });
}
