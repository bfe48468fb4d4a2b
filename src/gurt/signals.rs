//! Upstream `signals.c`: optional handlers for fatal signals that print a backtrace.
//!
//! `d_signal_register` installs, once, a handler for SIGILL, SIGFPE, SIGBUS, SIGSEGV, SIGABRT
//! and SIGTRAP when enabled by `d_signal_stack_enable(true)` or by `DAOS_SIGNAL_REGISTER`
//! (the environment wins when set). The handler reports the signal, the fault address and the
//! backtrace on stderr and in the log, flushes the log, puts the previous handler back and
//! raises the signal again, so the process ends (or the old handler runs) as it would have.
//!
//! This module is an edge of the crate: it talks to the kernel's signal interface directly.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::fmt::Write as _;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The signals handled.
pub const SIGNALS: [c_int; 6] =
    [libc::SIGILL, libc::SIGFPE, libc::SIGBUS, libc::SIGSEGV, libc::SIGABRT, libc::SIGTRAP];

const NSIG: usize = 65;
const MAX_BT_ENTRIES: usize = 256;

static ENABLED: AtomicBool = AtomicBool::new(false);
static REGISTERED: Mutex<bool> = Mutex::new(false);

/// The handlers that were installed before ours, one per signal number.
struct OldHandlers(UnsafeCell<[MaybeUninit<libc::sigaction>; NSIG]>);

// SAFETY: an entry is written only by `install` (under the REGISTERED mutex) before the handler
// that reads it can run for that signal, and only read afterwards.
unsafe impl Sync for OldHandlers {}

static OLD: OldHandlers = OldHandlers(UnsafeCell::new([const { MaybeUninit::zeroed() }; NSIG]));

thread_local! {
    // Frames are collected in thread-local storage, not on a stack that may be what overflowed.
    static BT: UnsafeCell<[*mut c_void; MAX_BT_ENTRIES]> =
        const { UnsafeCell::new([std::ptr::null_mut(); MAX_BT_ENTRIES]) };
}

extern "C" {
    static program_invocation_short_name: *const c_char;
}

/// `d_signal_stack_enable`.
pub fn stack_enable(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether the handlers are installed.
pub fn registered() -> bool {
    *REGISTERED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `d_signal_register`.
pub fn register() {
    let mut done = REGISTERED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if *done {
        return;
    }
    let enabled = crate::misc::env::get_bool(c"DAOS_SIGNAL_REGISTER")
        .unwrap_or_else(|_| ENABLED.load(Ordering::Relaxed));
    if !enabled {
        return;
    }
    for signo in SIGNALS {
        install(signo);
    }
    *done = true;
}

fn install(signo: c_int) {
    debug_assert!(signo > 0 && (signo as usize) < NSIG);
    // SAFETY: a zeroed sigaction is valid (empty mask, no flags); we fill the handler.
    let mut act: libc::sigaction = unsafe { MaybeUninit::zeroed().assume_init() };
    act.sa_flags = libc::SA_SIGINFO;
    act.sa_sigaction = print_backtrace as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void)
        as usize;
    // SAFETY: OLD's entry for signo is only written here, under the REGISTERED lock (see
    // OldHandlers); act is a valid handler description.
    let rc = unsafe {
        let old = (*OLD.0.get())[signo as usize].as_mut_ptr();
        libc::sigaction(signo, &act, old)
    };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        tracing::error!(target: "misc",
            "sigaction() failure registering new signal handler for {signo}: {e}");
    }
}

/// A fixed buffer to format into without allocating.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl std::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.len().min(self.buf.len() - 1 - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Writes one line to stderr and to the log (upstream's PRINT_ERROR).
fn report(args: std::fmt::Arguments<'_>) {
    let mut l = Line { buf: [0; 512], len: 0 };
    let _ = l.write_fmt(args);
    let text = String::from_utf8_lossy(&l.buf[..l.len]);
    tracing::error!(target: "misc", "{text}");
    l.buf[l.len] = b'\n';
    // SAFETY: write(2) is async-signal-safe; the buffer holds len + 1 initialised bytes.
    unsafe { libc::write(2, l.buf.as_ptr().cast(), l.len + 1) };
}

fn c_str(p: *const c_char) -> std::borrow::Cow<'static, str> {
    if p.is_null() {
        return "".into();
    }
    // SAFETY: the libc strings passed here (strsignal, strerror, program name, backtrace
    // symbols) are NUL-terminated and outlive the handler's use of them.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned().into()
}

extern "C" fn print_backtrace(signo: c_int, info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    // SAFETY: getpid and strsignal have no preconditions; program_invocation_short_name is
    // glibc's, set before main.
    let (pid, name, sig) = unsafe {
        (libc::getpid(), c_str(program_invocation_short_name), c_str(libc::strsignal(signo)))
    };
    report(format_args!("*** Process {pid} ({name}) received signal {signo} ({sig}) ***"));

    // SAFETY: the kernel passes a valid siginfo_t (or NULL) to an SA_SIGINFO handler.
    match unsafe { info.as_ref() } {
        Some(info) => {
            // SAFETY: strerror takes any int.
            let e = c_str(unsafe { libc::strerror(info.si_errno) });
            report(format_args!("Associated errno: {e} ({})", info.si_errno));
            // SAFETY: si_addr is meaningful for these fault signals.
            let addr = unsafe { info.si_addr() };
            match signo {
                libc::SIGILL | libc::SIGFPE => report(format_args!("Failing at address: {addr:p}")),
                libc::SIGSEGV | libc::SIGBUS => {
                    report(format_args!("Failing for address: {addr:p}"))
                }
                _ => {}
            }
        }
        None => report(format_args!("siginfo is NULL, additional information unavailable")),
    }

    // The log is flushed before anything else can go wrong.
    log_sync();

    BT.with(|bt| {
        let frames = bt.get().cast::<*mut c_void>();
        // SAFETY: frames points to this thread's MAX_BT_ENTRIES slots; backtrace fills at most
        // that many.
        let n = unsafe { libc::backtrace(frames, MAX_BT_ENTRIES as c_int) };
        if n as usize == MAX_BT_ENTRIES {
            report(format_args!("backtrace may have been truncated"));
        }
        if n > 1 {
            // SAFETY: frames[1..n] were filled above; backtrace_symbols returns NULL or one
            // malloc'd block holding n - 1 string pointers, freed below.
            unsafe {
                let syms = libc::backtrace_symbols(frames.add(1), n - 1);
                if !syms.is_null() {
                    for i in 0..(n - 1) as usize {
                        report(format_args!("Frame {}", c_str(*syms.add(i))));
                    }
                }
                libc::free(syms.cast());
            }
        } else {
            report(format_args!("No useful backtrace available"));
        }
    });

    // SAFETY: OLD's entry for signo was filled when this handler was installed.
    let rc = unsafe { libc::sigaction(signo, (*OLD.0.get())[signo as usize].as_ptr(), std::ptr::null_mut()) };
    if rc != 0 {
        tracing::error!(target: "misc",
            "sigaction() failure registering new and reading old {signo} signal handler");
        // SAFETY: exit has no preconditions.
        unsafe { libc::exit(libc::EXIT_FAILURE) };
    }
    // SAFETY: raise has no preconditions.
    unsafe { libc::raise(signo) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fatal_signal_prints_and_then_kills_as_before() {
        let _g = crate::misc::env::TEST_ENV_LOCK.lock().unwrap();
        // SAFETY: fork in a test; the child only raises a signal and exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            stack_enable(true);
            register();
            if !registered() {
                // SAFETY: _exit in the child.
                unsafe { libc::_exit(3) };
            }
            // SAFETY: in the child: SIGFPE goes to our handler, then to the default action.
            unsafe { libc::raise(libc::SIGFPE) };
            // SAFETY: as above.
            unsafe { libc::_exit(4) };
        }
        let mut status = 0;
        // SAFETY: pid is our child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFSIGNALED(status), "status {status:#x}");
        assert_eq!(libc::WTERMSIG(status), libc::SIGFPE);
    }
}

/// Flushes the log (upstream calls `d_log_sync` here).
fn log_sync() {
    // SAFETY: fflush(NULL) flushes every C stdio stream; it takes no pointer of ours.
    unsafe { libc::fflush(std::ptr::null_mut()) };
}
