//! The bridge from Rust's `tracing` into gurt's log, installed by `d_log_init`: oxidaos Rust
//! code logs with `tracing::error!(target: "mem", ...)` / `debug!` and the lines come out of
//! `d_vlog` under the same C-visible masks as the D_* macros.
//!
//! Targets name gurt's facilities (`misc`, `mem`, `swim`, `fi`, `telem`; anything else is
//! misc). Levels map to ERROR -> DLOG_ERR, WARN -> DLOG_WARN, INFO -> DLOG_INFO, DEBUG -> the
//! DB_ANY debug bit, TRACE -> DB_TRACE, so DD_MASK selects Rust debug output as it does C's.
//! The decision goes through the facility's cache slot, exactly like D_DEBUG: while a level is
//! off an event costs the callsite check and one load.

use std::fmt::Write as _;
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level as TLevel, Metadata, Subscriber};

use crate::dlog::{self, GurtFac, Level};

/// The subscriber. Not zero-sized: `set_global_default` keeps it in a leaked allocation whose
/// only pointer is the one tracing holds to its data, which must point inside the block for
/// leak checkers to see the block as still reachable.
pub struct DlogBridge {
    _not_zero_sized: u8,
}

/// The gurt level of a tracing level.
#[inline]
pub fn level_of(l: &TLevel) -> Level {
    match *l {
        TLevel::ERROR => Level::Err,
        TLevel::WARN => Level::Warn,
        TLevel::INFO => Level::Info,
        TLevel::DEBUG => Level::DbAny,
        _ => Level::DbTrace,
    }
}

/// The flags an event with this metadata logs with (0: off).
#[inline]
pub fn flags_for(m: &Metadata<'_>) -> i32 {
    dlog::enabled(GurtFac::from_target(m.target()), level_of(m.level()))
}

struct Fields {
    msg: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.msg.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.msg, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={:?}", field.name(), value);
        }
    }
}

/// The line text of an event: "file:line module() message fields\n".
pub fn format_event(m: &Metadata<'_>, msg: &str, rest: &str) -> String {
    let mut s = format!(
        "{}:{} {}() {}{}",
        m.file().unwrap_or("?"),
        m.line().unwrap_or(0),
        m.module_path().unwrap_or(m.target()),
        msg,
        rest
    );
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

impl Subscriber for DlogBridge {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        // Masks change at run time: ask every time (the answer is one cache load).
        if m.is_event() {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.is_event() && flags_for(m) != 0
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, e: &Event<'_>) {
        let m = e.metadata();
        let flags = flags_for(m);
        if flags == 0 {
            return;
        }
        let mut f = Fields { msg: String::new(), rest: String::new() };
        e.record(&mut f);
        dlog::log_preformatted(flags, &format_event(m, &f.msg, &f.rest));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

static INSTALL: Once = Once::new();

/// Makes the bridge the process's global `tracing` subscriber (once; if the program already
/// installed its own, that one stays).
pub fn install() {
    INSTALL.call_once(|| {
        let _ = tracing::subscriber::set_global_default(DlogBridge { _not_zero_sized: 0 });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlog::tests::LOG_TEST_LOCK;

    /// tracing events from Rust come out of d_vlog into the log file under the C masks, with
    /// the facility of their target, and follow mask changes.
    #[test]
    fn tracing_events_reach_the_log_under_the_masks() {
        let _g = LOG_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let dir = std::env::temp_dir().join(format!("gurt-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        std::env::set_var("D_LOG_FILE", &path);
        std::env::set_var("D_LOG_FLUSH", "DEBUG");
        std::env::set_var("D_LOG_MASK", "DEBUG,mem=ERR");
        std::env::set_var("DD_MASK", "any");
        assert_eq!(crate::debug::init(), Ok(0));

        tracing::error!(target: "mem", "rust error {}", 5);
        tracing::warn!(target: "mem", "mem warning below ERR");
        tracing::debug!(target: "fi", answer = 42, "rust debug");
        tracing::trace!(target: "fi", "trace bit not in DD_MASK");
        tracing::info!("module target goes to misc");
        assert_eq!(dlog::set_masks(b"mem=WARN"), DLOG_ERR_MASK);
        tracing::warn!(target: "mem", "mem warning now on");
        crate::debug::fini().unwrap();
        for v in ["D_LOG_FILE", "D_LOG_FLUSH", "D_LOG_MASK", "DD_MASK"] {
            std::env::remove_var(v);
        }

        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let line = |needle: &str| text.lines().find(|l| l.contains(needle)).map(str::to_string);
        let l = line("rust error 5").expect("error logged");
        assert!(l.starts_with("ERR  "), "{l}");
        assert!(l.contains("] mem  src/gurt/trace.rs:"), "{l}");
        assert!(l.ends_with(" gurt::trace::tests() rust error 5"), "{l}");
        let l = line("rust debug").expect("debug logged");
        assert!(l.starts_with("DBUG "), "{l}");
        assert!(l.contains("] fi   "), "{l}");
        assert!(l.ends_with("rust debug answer=42"), "{l}");
        assert!(line("module target goes to misc").unwrap().contains("] misc "));
        assert!(line("below ERR").is_none());
        assert!(line("trace bit").is_none());
        assert!(line("mem warning now on").unwrap().starts_with("WARN "));
        assert_eq!(text.lines().count(), 4, "{text}");
    }

    const DLOG_ERR_MASK: i32 = dlog::DLOG_ERR;

    #[test]
    fn levels_map_to_dlog() {
        assert_eq!(level_of(&TLevel::ERROR), Level::Err);
        assert_eq!(level_of(&TLevel::WARN), Level::Warn);
        assert_eq!(level_of(&TLevel::INFO), Level::Info);
        assert_eq!(level_of(&TLevel::DEBUG), Level::DbAny);
        assert_eq!(level_of(&TLevel::TRACE), Level::DbTrace);
    }
}
