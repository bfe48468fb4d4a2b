//! Exports of upstream `signals.c`: backtrace-printing handlers for fatal signals (see
//! `crate::signals`).

/// Enables (or not) the handlers for a later `d_signal_register`; DAOS_SIGNAL_REGISTER, when
/// set, decides instead.
#[no_mangle]
pub extern "C" fn d_signal_stack_enable(enabled: bool) {
    crate::signals::stack_enable(enabled);
}

/// Installs the handlers once, if enabled.
#[no_mangle]
pub extern "C" fn d_signal_register() {
    crate::signals::register();
}
