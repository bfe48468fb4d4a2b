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

/// The subscriber.
pub struct DlogBridge;

/// The gurt level of a tracing level.
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
        let _ = tracing::subscriber::set_global_default(DlogBridge);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_dlog() {
        assert_eq!(level_of(&TLevel::ERROR), Level::Err);
        assert_eq!(level_of(&TLevel::WARN), Level::Warn);
        assert_eq!(level_of(&TLevel::INFO), Level::Info);
        assert_eq!(level_of(&TLevel::DEBUG), Level::DbAny);
        assert_eq!(level_of(&TLevel::TRACE), Level::DbTrace);
    }
}
