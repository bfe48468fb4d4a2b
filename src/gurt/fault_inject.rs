//! Upstream `fault_inject.c`, the safe part: reading the `D_FI_CONFIG` YAML file, the rule that
//! decides whether one evaluation of a fault attribute injects a fault, the drand48 generator
//! each attribute draws from, and the per-thread and default enable switches.
//!
//! The attribute records themselves are `struct d_fault_attr_t` that C code points into and
//! locks (`fa_lock`), so the table that owns them lives at the C edge (`capi/fault_inject.rs`);
//! it copies a record's fields into a [`Trigger`], runs [`Trigger::should_fail`] and writes the
//! counters back, all under the record's spin lock.
//!
//! Parsing follows upstream's event-by-event reading of the file, including what a reader of the
//! file format may not expect: settings are applied in file order as they are read (a `seed`
//! only affects the attributes listed after it, and whatever was read before an error stays
//! applied); top-level keys and the `thread_default` value match when they are a prefix of the
//! keyword (upstream compares with `strncmp(value, keyword, value_length)`); numbers are read
//! with C's `strtoul`/`strtol` (base 0 for attribute fields, base 10 for `seed`) and truncated to
//! the field's width.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use yaml_rust2::parser::{Event, Parser};

/// Environment variable naming the configuration file (upstream `D_FAULT_CONFIG_ENV`).
pub const CONFIG_ENV: &str = "D_FI_CONFIG";
/// Longest `argument` string kept, in bytes (longer ones are cut, as `strndup` does).
pub const ARG_MAX_LEN: usize = 4096;
/// Id of the attribute the `D_ALLOC` family of macros consults.
pub const MEM_FAULT_ID: u32 = 0;

const DER_INVAL: i32 = -(crate::sys::DER_INVAL as i32);
const DER_MISC: i32 = -(crate::sys::DER_MISC as i32);

// ---------------------------------------------------------------------------------------------
// drand48

const LCG_A: u64 = 0x5_DEEC_E66D;
const LCG_C: u64 = 0xB;
const MASK48: u64 = (1 << 48) - 1;

/// libc's `nrand48`: advances the 48-bit state `xsubi` (least significant 16 bits first) by the
/// drand48 congruence and returns its top 31 bits. Bit-exact with glibc's default parameters.
pub fn nrand48(xsubi: &mut [u16; 3]) -> u32 {
    let x = u64::from(xsubi[0]) | u64::from(xsubi[1]) << 16 | u64::from(xsubi[2]) << 32;
    let x = LCG_A.wrapping_mul(x).wrapping_add(LCG_C) & MASK48;
    xsubi[0] = x as u16;
    xsubi[1] = (x >> 16) as u16;
    xsubi[2] = (x >> 32) as u16;
    (x >> 17) as u32
}

/// The generator state an attribute gets when it is (re)configured: upstream copies the 32-bit
/// seed over the low two words and leaves the high word as it was (zero for a new attribute).
pub fn seeded_state(seed: u32, old: [u16; 3]) -> [u16; 3] {
    [seed as u16, (seed >> 16) as u16, old[2]]
}

// ---------------------------------------------------------------------------------------------
// The decision

/// The fields of a `d_fault_attr_t` that `d_should_fail` reads (`probability_*`, `interval`,
/// `max_faults`) and updates (`num_hits`, `num_faults`, `rand_state`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trigger {
    pub probability_x: u32,
    pub probability_y: u32,
    pub interval: u32,
    pub max_faults: u64,
    pub num_faults: u64,
    pub num_hits: u64,
    pub rand_state: [u16; 3],
}

impl Trigger {
    /// One evaluation of the injection point, in upstream's order:
    /// - nothing on a thread where injection is off, nor when `probability_x` is 0;
    /// - nothing once `max_faults` (if not 0) faults were injected;
    /// - with `interval` > 1, the hit counter advances and only every `interval`-th hit goes on;
    /// - with `probability_y` != 0, one `nrand48` draw: a fault iff
    ///   `draw % probability_y < probability_x`;
    /// - an injected fault is counted in `num_faults`.
    pub fn should_fail(&mut self, thread_enabled: bool) -> bool {
        if !thread_enabled || self.probability_x == 0 {
            return false;
        }
        if self.max_faults != 0 && self.max_faults <= self.num_faults {
            return false;
        }
        if self.interval > 1 {
            self.num_hits = self.num_hits.wrapping_add(1);
            if self.num_hits % u64::from(self.interval) != 0 {
                return false;
            }
        }
        if self.probability_y != 0
            && self.probability_x <= nrand48(&mut self.rand_state) % self.probability_y
        {
            return false;
        }
        self.num_faults = self.num_faults.wrapping_add(1);
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Process-wide switches that are not part of the C-visible data

static SEED: AtomicU32 = AtomicU32::new(0);
static THREAD_DEFAULT: AtomicBool = AtomicBool::new(false);
static INITIALIZED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// This thread's own choice: `None` until it calls `d_fault_inject_thread_enable`.
    static THREAD_CHOICE: Cell<Option<bool>> = const { Cell::new(None) };
}

/// The seed given to attributes configured from now on (the last `seed` read; it outlives
/// `d_fault_inject_fini`, as upstream's static does).
pub fn seed() -> u32 {
    SEED.load(Ordering::Relaxed)
}

pub fn set_seed(seed: u32) {
    SEED.store(seed, Ordering::Relaxed);
}

/// Sets whether faults are injected on the calling thread (kept for the thread's life).
pub fn set_thread_enabled(enabled: bool) {
    THREAD_CHOICE.with(|c| c.set(Some(enabled)));
}

/// The setting for threads that made no choice of their own.
pub fn set_thread_default(enabled: bool) {
    THREAD_DEFAULT.store(enabled, Ordering::Relaxed);
}

/// Whether faults may be injected on the calling thread.
pub fn thread_enabled() -> bool {
    THREAD_CHOICE
        .with(|c| c.get())
        .unwrap_or_else(|| THREAD_DEFAULT.load(Ordering::Relaxed))
}

/// Whether the framework is set up (`d_fi_initialized`).
pub fn initialized() -> bool {
    INITIALIZED.load(Ordering::Acquire)
}

/// Marks the framework set up or torn down. Setting it up resets the thread default to on, as
/// every first `d_fault_inject_init` after load or after the last `d_fault_inject_fini` does.
pub fn set_initialized(on: bool) {
    if on {
        set_thread_default(true);
    }
    INITIALIZED.store(on, Ordering::Release);
}

// ---------------------------------------------------------------------------------------------
// C's number parsing (the file's numbers mean what strtoul/strtol make of them)

fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Sign, magnitude (saturated at u64::MAX, with an overflow flag) of the number at the start of
/// `s`, read as C's strto* family does with `base` 0 (the prefix decides) or 2..=36.
fn c_parse_number(s: &[u8], base: u32) -> (bool, u64, bool) {
    let mut i = 0;
    while i < s.len() && c_isspace(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut radix = base;
    if base == 0 {
        // "0x" counts as a prefix only when a hex digit follows it.
        let hex_prefix = s.get(i) == Some(&b'0')
            && matches!(s.get(i + 1), Some(b'x' | b'X'))
            && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit());
        if hex_prefix {
            radix = 16;
            i += 2;
        } else {
            radix = if s.get(i) == Some(&b'0') { 8 } else { 10 };
        }
    }
    let (mut v, mut overflow) = (0u64, false);
    while let Some(d) = s.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(x) => v = x,
            None => {
                overflow = true;
                v = u64::MAX;
            }
        }
        i += 1;
    }
    (neg, v, overflow)
}

/// C's `strtoul(s, NULL, base)` on LP64 (a leading '-' negates modulo 2^64).
pub fn c_strtoul(s: &[u8], base: u32) -> u64 {
    match c_parse_number(s, base) {
        (_, _, true) => u64::MAX,
        (true, v, false) => v.wrapping_neg(),
        (false, v, false) => v,
    }
}

/// C's `strtol(s, NULL, base)` on LP64 (saturating at LONG_MIN/LONG_MAX).
pub fn c_strtol(s: &[u8], base: u32) -> i64 {
    match c_parse_number(s, base) {
        (false, v, o) if o || v > i64::MAX as u64 => i64::MAX,
        (true, v, o) if o || v > 1u64 << 63 => i64::MIN,
        (false, v, _) => v as i64,
        (true, v, _) => (v as i64).wrapping_neg(),
    }
}

/// The string C sees: the bytes before the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |n| &s[..n])
}

/// `strncmp(value, keyword, value.len()) == 0` (or `strncasecmp` with `fold`), where `value`
/// may hold NULs the way a YAML scalar can.
fn c_strncmp_eq(value: &[u8], keyword: &[u8], fold: bool) -> bool {
    for (i, &a) in value.iter().enumerate() {
        let b = keyword.get(i).copied().unwrap_or(0);
        let (a, b) = if fold {
            (a.to_ascii_lowercase(), b.to_ascii_lowercase())
        } else {
            (a, b)
        };
        if a != b {
            return false;
        }
        if a == 0 {
            return true;
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// The configuration file

/// One `fault_config` entry, as read (unset fields have upstream's defaults: probability 1/1,
/// interval 1, no fault limit, error code 0, no argument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrSpec {
    pub id: u32,
    pub probability_x: u32,
    pub probability_y: u32,
    pub interval: u32,
    pub max_faults: u64,
    pub err_code: i32,
    /// At most [`ARG_MAX_LEN`] bytes, no NUL.
    pub argument: Option<Vec<u8>>,
}

impl AttrSpec {
    fn new() -> Self {
        AttrSpec {
            id: 0,
            probability_x: 1,
            probability_y: 1,
            interval: 1,
            max_faults: 0,
            err_code: 0,
            argument: None,
        }
    }
}

/// A setting read from the file, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigItem {
    Seed(u32),
    ThreadDefault(bool),
    Attr(AttrSpec),
}

/// Why a configuration file was rejected: the DER_* code upstream returns (negative) and a
/// message for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub rc: i32,
    pub msg: String,
}

impl ConfigError {
    fn new(rc: i32, msg: impl Into<String>) -> Self {
        ConfigError {
            rc,
            msg: msg.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.msg, self.rc)
    }
}

/// The outcome of reading a file: what was read, in order, up to the end or the first error.
/// Upstream applies each item as soon as it is read, so the caller applies `items` even when
/// `result` is an error.
#[derive(Debug)]
pub struct Config {
    pub items: Vec<ConfigItem>,
    pub result: Result<(), ConfigError>,
}

/// A YAML event the reader cares about.
enum Ev {
    Scalar(Vec<u8>),
    MappingStart,
    MappingEnd,
    SequenceEnd,
    DocumentEnd,
    StreamEnd,
    Other(&'static str),
}

struct Events<'a, I: Iterator<Item = char>> {
    parser: Parser<I>,
    /// The stream, to tell an explicit document start (`---` or a directive) from an implicit
    /// one.
    text: &'a [char],
    documents: usize,
    ended: bool,
}

impl<I: Iterator<Item = char>> Events<'_, I> {
    fn next(&mut self) -> Result<Ev, ConfigError> {
        if self.ended {
            return Ok(Ev::StreamEnd);
        }
        let (ev, mark) = self
            .parser
            .next_token()
            .map_err(|e| ConfigError::new(DER_MISC, format!("YAML syntax error: {e}")))?;
        Ok(match ev {
            Event::Scalar(s, ..) => Ev::Scalar(s.into_bytes()),
            Event::MappingStart(..) => Ev::MappingStart,
            Event::MappingEnd => Ev::MappingEnd,
            Event::SequenceEnd => Ev::SequenceEnd,
            Event::DocumentEnd => Ev::DocumentEnd,
            Event::StreamEnd => {
                self.ended = true;
                Ev::StreamEnd
            }
            Event::SequenceStart(..) => Ev::Other("a sequence"),
            Event::Alias(..) => Ev::Other("an alias"),
            Event::DocumentStart => {
                // As libyaml (YAML 1.1), only the first document may start without `---`.
                let rest = self.text.get(mark.index()..).unwrap_or_default();
                let explicit = rest.starts_with(&['-', '-', '-']) || rest.first() == Some(&'%');
                self.documents += 1;
                if self.documents > 1 && !explicit {
                    return Err(ConfigError::new(
                        DER_MISC,
                        format!(
                            "YAML syntax error: did not find expected <document start> at line {} \
                             column {}",
                            mark.line(),
                            mark.col() + 1
                        ),
                    ));
                }
                Ev::Other("a document start")
            }
            Event::StreamStart | Event::Nothing => Ev::Other("a stream start"),
        })
    }
}

/// Decodes a configuration file's bytes the way libyaml accepts them: UTF-8 (an optional BOM),
/// or UTF-16 with a byte-order mark.
fn decode(bytes: &[u8]) -> Result<String, ConfigError> {
    let utf16 = |be: bool| {
        let units = bytes[2..].chunks(2).map(|c| {
            let pair = [c[0], *c.get(1).unwrap_or(&0)];
            if be {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
        if bytes.len() % 2 != 0 {
            return Err(ConfigError::new(
                DER_MISC,
                "incomplete UTF-16 character at end of file",
            ));
        }
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| ConfigError::new(DER_MISC, format!("invalid UTF-16 in file: {e}")))
    };
    match bytes {
        [0xff, 0xfe, ..] => utf16(false),
        [0xfe, 0xff, ..] => utf16(true),
        _ => {
            let b = bytes.strip_prefix(&[0xef, 0xbb, 0xbf][..]).unwrap_or(bytes);
            std::str::from_utf8(b)
                .map(str::to_owned)
                .map_err(|e| ConfigError::new(DER_MISC, format!("invalid UTF-8 in file: {e}")))
        }
    }
}

/// Whether YAML (and libyaml's reader) allows `c` in a stream: tab, line breaks, printable
/// ASCII, NEL and the printable rest of Unicode.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

/// The text of a file, if every character is one YAML allows.
fn checked_text(bytes: &[u8]) -> Result<String, ConfigError> {
    let text = decode(bytes)?;
    match text.char_indices().find(|&(_, c)| !yaml_printable(c)) {
        Some((at, c)) => Err(ConfigError::new(
            DER_MISC,
            format!(
                "control character U+{:04X} at byte {at}: not allowed in YAML",
                c as u32
            ),
        )),
        None => Ok(text),
    }
}

/// Reads a configuration file's contents (see [`Config`]).
pub fn parse_config(bytes: &[u8]) -> Config {
    let mut cfg = Config {
        items: Vec::new(),
        result: Ok(()),
    };
    cfg.result = checked_text(bytes).and_then(|text| {
        let chars: Vec<char> = text.chars().collect();
        let mut ev = Events {
            parser: Parser::new(chars.iter().copied()),
            text: &chars,
            documents: 0,
            ended: false,
        };
        read_stream(&mut ev, &mut cfg.items)
    });
    cfg
}

fn read_stream<I: Iterator<Item = char>>(
    ev: &mut Events<I>,
    items: &mut Vec<ConfigItem>,
) -> Result<(), ConfigError> {
    loop {
        let key = match ev.next()? {
            Ev::StreamEnd => return Ok(()),
            Ev::Scalar(k) => k,
            _ => continue,
        };
        if c_strncmp_eq(&key, b"fault_config", false) {
            read_fault_config(ev, items)
                .map_err(|e| ConfigError::new(e.rc, format!("fault_config: {}", e.msg)))?;
        } else if c_strncmp_eq(&key, b"seed", false) {
            match ev.next()? {
                Ev::Scalar(v) => items.push(ConfigItem::Seed(c_strtoul(&v, 10) as u32)),
                _ => {
                    return Err(ConfigError::new(
                        DER_INVAL,
                        "seed: the value is not a scalar",
                    ))
                }
            }
        } else if c_strncmp_eq(&key, b"thread_default", false) {
            match ev.next()? {
                Ev::Scalar(v) => {
                    items.push(ConfigItem::ThreadDefault(c_strncmp_eq(&v, b"true", true)))
                }
                _ => {
                    return Err(ConfigError::new(
                        DER_INVAL,
                        "thread_default: the value is not a scalar",
                    ))
                }
            }
        } else {
            return Err(ConfigError::new(
                DER_INVAL,
                format!("unknown key '{}'", String::from_utf8_lossy(c_str(&key))),
            ));
        }
    }
}

/// The value of `fault_config`: each mapping met up to the end of the list (or of the document)
/// is one attribute.
fn read_fault_config<I: Iterator<Item = char>>(
    ev: &mut Events<I>,
    items: &mut Vec<ConfigItem>,
) -> Result<(), ConfigError> {
    loop {
        match ev.next()? {
            Ev::MappingStart => {
                let n = items
                    .iter()
                    .filter(|i| matches!(i, ConfigItem::Attr(_)))
                    .count();
                let spec = read_attr(ev)
                    .map_err(|e| ConfigError::new(e.rc, format!("entry {}: {}", n + 1, e.msg)))?;
                items.push(ConfigItem::Attr(spec));
            }
            Ev::SequenceEnd | Ev::DocumentEnd | Ev::StreamEnd => return Ok(()),
            _ => {}
        }
    }
}

fn read_attr<I: Iterator<Item = char>>(ev: &mut Events<I>) -> Result<AttrSpec, ConfigError> {
    let mut a = AttrSpec::new();
    let mut has_id = false;
    let describe = |e: &Ev| match e {
        Ev::MappingStart => "a mapping",
        Ev::SequenceEnd => "the end of a sequence",
        Ev::DocumentEnd => "the end of a document",
        Ev::StreamEnd => "the end of the file",
        Ev::Other(what) => what,
        Ev::Scalar(_) | Ev::MappingEnd => "a scalar",
    };
    loop {
        let key = match ev.next()? {
            Ev::MappingEnd => break,
            Ev::Scalar(k) => k,
            other => {
                return Err(ConfigError::new(
                    DER_MISC,
                    format!("expected a key, found {}", describe(&other)),
                ))
            }
        };
        let key = c_str(&key).to_vec();
        let name = String::from_utf8_lossy(&key).into_owned();
        let val = match ev.next()? {
            Ev::Scalar(v) => v,
            other => {
                return Err(ConfigError::new(
                    DER_MISC,
                    format!(
                        "'{name}': expected a scalar value, found {}",
                        describe(&other)
                    ),
                ))
            }
        };
        let num = c_strtoul(&val, 0);
        match &key[..] {
            b"id" => {
                a.id = num as u32;
                has_id = true;
            }
            b"probability_x" => a.probability_x = num as u32,
            b"probability_y" => a.probability_y = num as u32,
            b"interval" => a.interval = num as u32,
            b"max_faults" => a.max_faults = num,
            b"err_code" => a.err_code = c_strtol(&val, 0) as i32,
            b"argument" => {
                let s = c_str(&val);
                a.argument = Some(s[..s.len().min(ARG_MAX_LEN)].to_vec());
            }
            _ => return Err(ConfigError::new(DER_MISC, format!("unknown key '{name}'"))),
        }
    }
    if !has_id {
        return Err(ConfigError::new(DER_MISC, "the entry has no 'id'"));
    }
    Ok(a)
}

/// Largest configuration file read (a bound for a path such as /dev/zero; real files are a few
/// kilobytes).
pub const CONFIG_MAX_BYTES: u64 = 16 << 20;

/// Reads the file named by `path`: an error to open it is upstream's `d_errno2der(errno)`, an
/// error while reading it, or a file over [`CONFIG_MAX_BYTES`], is a YAML read error
/// (-DER_MISC).
pub fn read_config_file(path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| {
        ConfigError::new(
            crate::errno::errno2der(e.raw_os_error().unwrap_or(0)),
            format!("cannot open {}: {e}", path.display()),
        )
    })?;
    let mut buf = Vec::new();
    f.by_ref()
        .take(CONFIG_MAX_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ConfigError::new(DER_MISC, format!("cannot read {}: {e}", path.display())))?;
    if buf.len() as u64 > CONFIG_MAX_BYTES {
        return Err(ConfigError::new(
            DER_MISC,
            format!("{} is larger than {CONFIG_MAX_BYTES} bytes", path.display()),
        ));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests;
