//! Upstream `telemetry.c`: the telemetry producer and consumer.
//!
//! A producer keeps a tree of metrics in SysV shared memory; consumers in other processes
//! (daos_metrics, the Go control plane, upstream's C library) attach the same segments and read
//! the tree. What must match upstream bit for bit:
//!
//! * the keys: instance `id` uses `D_TM_SHARED_MEMORY_KEY + id`; an ephemeral directory at
//!   `path` uses the djb2 hash of the 320-byte zero-padded buffer `"<path>-id<id>"`
//!   ([`ephemeral_key`]); a client's key by pid is `pid - D_TM_SHARED_MEMORY_KEY`;
//! * the layout inside a segment: a 112-byte header ([`seg::MemHdr`]) followed by a bump
//!   allocator of 8-byte aligned blocks holding the `d_tm_node_t`, `d_tm_metric_t`, stats,
//!   histogram, bucket arrays and strings, every pointer stored as the producer's own address
//!   (the header records that base, so a reader rebases each pointer);
//! * the text of the print functions, in both formats.
//!
//! This module holds what can be said without touching a segment: keys, the statistics and
//! histogram arithmetic, path handling, and the text of every print function. `seg` is the
//! engine that reads and writes segments (raw memory that other processes share).

use std::ffi::CStr;
use std::os::raw::c_char;

pub(crate) mod seg;

/// `D_TM_VERSION`.
pub const VERSION: i32 = 1;
/// `D_TM_MAX_NAME_LEN`, `D_TM_MAX_DESC_LEN`, `D_TM_MAX_UNIT_LEN` (each counting the NUL).
pub const MAX_NAME_LEN: usize = 256;
pub const MAX_DESC_LEN: usize = 128;
pub const MAX_UNIT_LEN: usize = 32;
/// `D_TM_SHARED_MEMORY_KEY`.
pub const SHARED_MEMORY_KEY: i32 = 0x1024_2048;

// Node types (telemetry_common.h).
pub const DIRECTORY: i32 = 0x001;
pub const COUNTER: i32 = 0x002;
pub const TIMESTAMP: i32 = 0x004;
pub const TIMER_SNAPSHOT: i32 = 0x008;
pub const DURATION: i32 = 0x010;
pub const GAUGE: i32 = 0x020;
pub const STATS_GAUGE: i32 = 0x040;
pub const CLOCK_REALTIME: i32 = 0x080;
pub const CLOCK_PROCESS_CPUTIME: i32 = 0x100;
pub const CLOCK_THREAD_CPUTIME: i32 = 0x200;
pub const LINK: i32 = 0x400;
pub const MEMINFO: i32 = 0x800;
pub const ALL_NODES: i32 =
    DIRECTORY | COUNTER | TIMESTAMP | TIMER_SNAPSHOT | DURATION | GAUGE | STATS_GAUGE | LINK | MEMINFO;

// Init flags.
pub const SERIALIZATION: i32 = 0x001;
pub const RETAIN_SHMEM: i32 = 0x002;
pub const RETAIN_SHMEM_IF_NON_EMPTY: i32 = 0x004;
pub const OPEN_OR_CREATE: i32 = 0x008;
pub const MULTIPLE_WRITER_LOCK: i32 = 0x010;
pub const NO_SHMEM: i32 = 0x020;
pub const ALL_FLAGS: i32 =
    SERIALIZATION | RETAIN_SHMEM | RETAIN_SHMEM_IF_NON_EMPTY | OPEN_OR_CREATE | MULTIPLE_WRITER_LOCK | NO_SHMEM;

// Formats and optional fields.
pub const STANDARD: i32 = 0x001;
pub const CSV: i32 = 0x002;
pub const INCLUDE_TIMESTAMP: i32 = 0x001;
pub const INCLUDE_METADATA: i32 = 0x002;
pub const INCLUDE_TYPE: i32 = 0x004;

/// Key of server instance `idx`'s root segment.
pub fn srv_key(idx: i32) -> i32 {
    SHARED_MEMORY_KEY.wrapping_add(idx)
}

/// Key of a client process's root segment, found by its pid (the inverse of [`srv_key`]).
pub fn cli_pid_key(pid: i32) -> i32 {
    pid.wrapping_sub(SHARED_MEMORY_KEY)
}

/// gurt's djb2 string hash over exactly `bytes` (`d_hash_string_u32`).
pub fn djb2(bytes: &[u8]) -> u32 {
    bytes.iter().fold(5381u32, |h, &b| (h << 5).wrapping_add(h).wrapping_add(b as u32))
}

/// Key of the ephemeral segment at `path` for instance `id`: the hash of a zeroed
/// `MAX_NAME_LEN + 64` byte buffer holding `"<path>-id<id>"` (at most its size - 2 characters,
/// as a `snprintf` into size - 1 leaves them), hashed over its whole length.
pub fn ephemeral_key(path: &[u8], id: i32) -> i32 {
    let mut salted = [0u8; MAX_NAME_LEN + 64];
    let text = [path, format!("-id{id}").as_bytes()].concat();
    let n = text.len().min(salted.len() - 2);
    salted[..n].copy_from_slice(&text[..n]);
    djb2(&salted) as i32
}

/// The tokens of a metric path as `strtok_r(.., "/")` yields them: empty pieces are skipped.
pub fn path_tokens(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&c| c == b'/').filter(|t| !t.is_empty())
}

/// The last token of a path: what follows the last run of '/' that has something after it.
pub fn last_token(path: &[u8]) -> &[u8] {
    let mut start = 0;
    let mut next = false;
    for (i, &c) in path.iter().enumerate() {
        if c == b'/' {
            next = true;
        } else if next {
            start = i;
            next = false;
        }
    }
    &path[start..]
}

/// Sample standard deviation from the sum of squares (0 for fewer than two samples or a
/// non-positive variance). Upstream takes `sqrtl` of the double quotient and rounds the
/// result to double; `f64::sqrt` rounds once, which can differ from that double rounding by
/// one unit in the last place in rare cases (never visible in the printed `%.0lf`/`%lf`).
pub fn standard_dev(sum_of_squares: f64, sample_size: u64, mean: f64) -> f64 {
    let variance = sum_of_squares - (sample_size as f64 * mean * mean);
    if variance <= 0.0 || sample_size < 2 {
        return 0.0;
    }
    (variance / (sample_size - 1) as f64).sqrt()
}

/// One histogram bucket's range and the name pieces upstream derives from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRange {
    pub min: u64,
    pub max: u64,
    /// `max` in decimal, or `inf` for the last bucket.
    pub max_str: String,
}

/// The buckets of a histogram: the first `initial_width` wide, each next one `multiplier` times
/// the start of the previous (or `initial_width` wider when the multiplier is 1), the last open
/// to `u64::MAX` ("inf").
pub fn bucket_ranges(num_buckets: i32, initial_width: i32, multiplier: i32) -> Vec<BucketRange> {
    let mut v = Vec::with_capacity(num_buckets.max(0) as usize);
    let mut min = 0u64;
    let mut max = (initial_width as i64 - 1) as u64;
    for i in 0..num_buckets {
        let max_str = if max == u64::MAX && i == num_buckets - 1 { "inf".to_string() } else { max.to_string() };
        v.push(BucketRange { min, max, max_str });
        min = max.wrapping_add(1);
        if i == num_buckets - 2 {
            max = u64::MAX;
        } else if multiplier == 1 {
            max = max.wrapping_add(initial_width as i64 as u64);
        } else {
            max = min.wrapping_mul(multiplier as i64 as u64).wrapping_sub(1);
        }
    }
    v
}

/// Bucket index of `value` by the power-of-two fast path (widths doubling from a power-of-two
/// `initial_width`), for values strictly between the first bucket and the last.
pub fn fast_bucket(initial_width: i32, value: u64) -> usize {
    let lz_width = ((initial_width as i64 - 1) as u64).leading_zeros() as i64;
    (lz_width - value.leading_zeros() as i64) as usize
}

/// Appends `fmt` (one `%...f` conversion) applied to `v`, formatted by the C library so the
/// digits are exactly what upstream's `fprintf` writes.
pub fn push_cf64(out: &mut Vec<u8>, fmt: &CStr, v: f64) {
    let mut buf = [0 as c_char; 512];
    // SAFETY: `fmt` holds exactly one double conversion; snprintf writes at most buf.len()
    // bytes including the NUL.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr(), buf.len(), fmt.as_ptr(), v) };
    if n > 0 {
        let n = (n as usize).min(buf.len() - 1);
        out.extend(buf[..n].iter().map(|&c| c as u8));
    }
}

fn push(out: &mut Vec<u8>, s: impl AsRef<[u8]>) {
    out.extend_from_slice(s.as_ref());
}

/// `d_tm_print_counter`'s text.
pub fn fmt_counter(out: &mut Vec<u8>, val: u64, name: &[u8], format: i32, units: Option<&[u8]>, opt: i32) {
    if format == CSV {
        push(out, name);
        if opt & INCLUDE_TYPE != 0 {
            push(out, ",counter");
        }
        push(out, format!(",{val}"));
    } else {
        if opt & INCLUDE_TYPE != 0 {
            push(out, "type: counter, ");
        }
        push(out, name);
        push(out, format!(": {val}"));
        if let Some(u) = units {
            push(out, " ");
            push(out, u);
        }
    }
}

/// `d_tm_print_timestamp`'s text, given `ctime_r`'s string without its newline.
pub fn fmt_timestamp(out: &mut Vec<u8>, ctime: &[u8], name: &[u8], format: i32, opt: i32) {
    if format == CSV {
        push(out, name);
        if opt & INCLUDE_TYPE != 0 {
            push(out, ",timestamp");
        }
        push(out, ",");
        push(out, ctime);
    } else {
        if opt & INCLUDE_TYPE != 0 {
            push(out, "type: timestamp, ");
        }
        push(out, name);
        push(out, ": ");
        push(out, ctime);
    }
}

/// A meminfo metric's text (upstream prints it from `d_tm_print_node`).
pub fn fmt_meminfo(out: &mut Vec<u8>, m: [u64; 4], name: &[u8], format: i32, opt: i32) {
    push(out, if format == CSV { "" } else if opt & INCLUDE_TYPE != 0 { "type: arena,ordblks,uordblks,fordblks," } else { "" });
    push(out, name);
    if format == CSV {
        if opt & INCLUDE_TYPE != 0 {
            push(out, ",arena,ordblks,uordblks,fordblks");
        }
        push(out, format!(",{},{},{},{}", m[0], m[1], m[2], m[3]));
    } else {
        push(out, format!(":{},{},{},{}", m[0], m[1], m[2], m[3]));
    }
}

fn clock_word(tm_type: i32, kind: i32) -> Option<&'static str> {
    match tm_type & !kind {
        CLOCK_REALTIME => Some("realtime"),
        CLOCK_PROCESS_CPUTIME => Some("process"),
        CLOCK_THREAD_CPUTIME => Some("thread"),
        _ => None,
    }
}

/// Microseconds of a timespec as upstream computes them (`tv_sec * 1000000 + tv_nsec / 1000`).
pub fn timespec_us(sec: i64, nsec: i64) -> u64 {
    (sec.wrapping_mul(1_000_000).wrapping_add(nsec / 1000)) as u64
}

/// Shared text of timer snapshots and durations; false when the type was not valid.
fn fmt_timer(out: &mut Vec<u8>, us: u64, name: &[u8], tm_type: i32, kind: i32, format: i32, opt: i32) -> bool {
    let label = if kind == TIMER_SNAPSHOT { "snapshot" } else { "duration" };
    if tm_type & kind == 0 || clock_word(tm_type, kind).is_none() {
        let what = if kind == TIMER_SNAPSHOT { "snapshot" } else { "duration" };
        push(out, format!("Invalid timer {what} type: 0x{:x}", tm_type & !kind));
        return false;
    }
    let clock = clock_word(tm_type, kind).unwrap();
    if format == CSV {
        push(out, name);
        if opt & INCLUDE_TYPE != 0 {
            push(out, format!(",{label} {clock}"));
        }
        push(out, format!(",{us}"));
    } else {
        if opt & INCLUDE_TYPE != 0 {
            push(out, format!("type: {label} {clock}, "));
        }
        push(out, name);
        push(out, format!(": {us} us"));
    }
    true
}

/// `d_tm_print_timer_snapshot`'s text.
pub fn fmt_timer_snapshot(out: &mut Vec<u8>, us: u64, name: &[u8], tm_type: i32, format: i32, opt: i32) {
    fmt_timer(out, us, name, tm_type, TIMER_SNAPSHOT, format, opt);
}

/// `d_tm_print_duration`'s text; `stats` are printed when they hold samples.
pub fn fmt_duration(
    out: &mut Vec<u8>,
    us: u64,
    stats: Option<&Stats>,
    name: &[u8],
    tm_type: i32,
    format: i32,
    opt: i32,
) {
    if fmt_timer(out, us, name, tm_type, DURATION, format, opt) {
        if let Some(s) = stats.filter(|s| s.sample_size > 0) {
            fmt_stats(out, s, format);
        }
    }
}

/// `d_tm_print_gauge`'s text.
pub fn fmt_gauge(out: &mut Vec<u8>, val: u64, stats: Option<&Stats>, name: &[u8], format: i32, units: Option<&[u8]>, opt: i32) {
    if format == CSV {
        push(out, name);
        if opt & INCLUDE_TYPE != 0 {
            push(out, ",gauge");
        }
        push(out, format!(",{val}"));
    } else {
        if opt & INCLUDE_TYPE != 0 {
            push(out, "type: gauge, ");
        }
        push(out, name);
        push(out, format!(": {val}"));
        if let Some(u) = units {
            push(out, " ");
            push(out, u);
        }
    }
    if let Some(s) = stats.filter(|s| s.sample_size > 0) {
        fmt_stats(out, s, format);
    }
}

/// The fields of `struct d_tm_stats_t`, by value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    pub min: u64,
    pub max: u64,
    pub sum: u64,
    pub std_dev: f64,
    pub mean: f64,
    pub sum_of_squares: f64,
    pub sample_size: u64,
}

/// `d_tm_print_stats`'s text.
pub fn fmt_stats(out: &mut Vec<u8>, s: &Stats, format: i32) {
    if format == CSV {
        push(out, format!(",{},{},", s.min, s.max));
        push_cf64(out, c"%lf", s.mean);
        push(out, format!(",{},{}", s.sample_size, s.sum));
        if s.sample_size > 2 {
            push(out, ",");
            push_cf64(out, c"%lf", s.std_dev);
        } else {
            push(out, ",");
        }
        return;
    }
    push(out, format!(" [min: {}, max: {}, avg: ", s.min, s.max));
    push_cf64(out, c"%.0lf", s.mean);
    push(out, format!(", sum: {}", s.sum));
    if s.sample_size > 2 {
        push(out, ", stddev: ");
        push_cf64(out, c"%.0lf", s.std_dev);
    }
    push(out, format!(", samples: {}]", s.sample_size));
}

/// `d_tm_print_metadata`'s text.
pub fn fmt_metadata(out: &mut Vec<u8>, desc: Option<&[u8]>, units: Option<&[u8]>, format: i32) {
    if format == CSV {
        if let Some(d) = desc {
            push(out, ",");
            push(out, d);
        } else if units.is_some() {
            push(out, ",");
        }
        if let Some(u) = units {
            push(out, ",");
            push(out, u);
        }
    } else {
        if let Some(d) = desc {
            push(out, ", desc: ");
            push(out, d);
        }
        if let Some(u) = units {
            push(out, ", units: ");
            push(out, u);
        }
    }
}

/// `d_tm_print_field_descriptors`'s text (the CSV header line).
pub fn fmt_field_descriptors(out: &mut Vec<u8>, opt: i32) {
    if opt & INCLUDE_TIMESTAMP != 0 {
        push(out, "timestamp,");
    }
    push(out, "name,");
    if opt & INCLUDE_TYPE != 0 {
        push(out, "type,");
    }
    push(out, "value,min,max,mean,sample_size,sum,std_dev");
    if opt & INCLUDE_METADATA != 0 {
        push(out, ",description,units");
    }
    push(out, "\n");
}

/// `d_tm_clock_id`: a D_TM_CLOCK_* bit to its clockid_t (realtime for anything else).
pub fn clock_id(clk: i32) -> i32 {
    match clk {
        CLOCK_PROCESS_CPUTIME => libc::CLOCK_PROCESS_CPUTIME_ID,
        CLOCK_THREAD_CPUTIME => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => libc::CLOCK_REALTIME,
    }
}

/// `d_tm_clock_string`: the name of a D_TM_CLOCK_* bit (realtime's for anything else).
pub fn clock_string(clk: i32) -> &'static CStr {
    match clk {
        CLOCK_PROCESS_CPUTIME => c"CLOCK_PROCESS_CPUTIME_ID",
        CLOCK_THREAD_CPUTIME => c"CLOCK_THREAD_CPUTIME_ID",
        _ => c"CLOCK_REALTIME",
    }
}

/// `t2 - t1` normalised so that the nanoseconds are in [0, 1e9) (gurt's `d_timediff`).
pub fn timediff(t1: (i64, i64), t2: (i64, i64)) -> (i64, i64) {
    let mut s = t2.0 - t1.0;
    let mut ns = t2.1 - t1.1;
    if ns < 0 {
        s -= 1;
        ns += 1_000_000_000;
    }
    (s, ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn keys_follow_upstream_scheme() {
        assert_eq!(srv_key(0), 0x10242048);
        assert_eq!(srv_key(99), 0x10242048 + 99);
        assert_eq!(cli_pid_key(1234), 1234 - 0x10242048);
        // djb2 of "" is the seed, of "a" is 5381*33 + 'a'
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        // the key hashes all 320 bytes, so it differs from the hash of the text alone
        let text_only = djb2(b"/test1-id99") as i32;
        assert_ne!(ephemeral_key(b"/test1", 99), text_only);
        let mut buf = [0u8; 320];
        buf[..11].copy_from_slice(b"/test1-id99");
        assert_eq!(ephemeral_key(b"/test1", 99), djb2(&buf) as i32);
    }

    #[test]
    fn paths_tokenise_like_strtok() {
        let t: Vec<_> = path_tokens(b"//a/b//c/").collect();
        assert_eq!(t, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(last_token(b"/a/b/c"), b"c");
        assert_eq!(last_token(b"a/b/"), b"b/");
        assert_eq!(last_token(b"abc"), b"abc");
    }

    #[test]
    fn buckets_match_upstream_ranges() {
        let b = bucket_ranges(5, 2048, 1);
        let got: Vec<_> = b.iter().map(|r| (r.min, r.max_str.clone())).collect();
        assert_eq!(
            got,
            vec![
                (0, "2047".into()),
                (2048, "4095".into()),
                (4096, "6143".into()),
                (6144, "8191".into()),
                (8192, "inf".into())
            ]
        );
        let b = bucket_ranges(5, 2048, 2);
        let got: Vec<_> = b.iter().map(|r| (r.min, r.max)).collect();
        assert_eq!(got, vec![(0, 2047), (2048, 4095), (4096, 8191), (8192, 16383), (16384, u64::MAX)]);
        for v in [2048u64, 3000, 4095, 4096, 8191, 8192, 16383] {
            let i = fast_bucket(2048, v);
            assert!(b[i].min <= v && v <= b[i].max, "{v} -> {i}");
        }
        assert_eq!(fast_bucket(1, 1), 1);
    }

    #[test]
    fn standard_deviation() {
        assert_eq!(standard_dev(10.0, 1, 3.0), 0.0);
        assert_eq!(standard_dev(0.0, 5, 3.0), 0.0);
        // samples 2,4,4,4,5,5,7,9: mean 5, sum of squares 232, sample sd sqrt(32/7)
        let sd = standard_dev(232.0, 8, 5.0);
        assert!((sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn printing_text() {
        assert_eq!(s(|o| fmt_counter(o, 7, b"c", STANDARD, Some(b"B"), INCLUDE_TYPE)), "type: counter, c: 7 B");
        assert_eq!(s(|o| fmt_counter(o, 7, b"c", CSV, Some(b"B"), INCLUDE_TYPE)), "c,counter,7");
        let st = Stats { min: 1, max: 9, sum: 15, std_dev: 4.0, mean: 5.0, sum_of_squares: 0.0, sample_size: 3 };
        assert_eq!(s(|o| fmt_stats(o, &st, STANDARD)), " [min: 1, max: 9, avg: 5, sum: 15, stddev: 4, samples: 3]");
        assert_eq!(s(|o| fmt_stats(o, &st, CSV)), ",1,9,5.000000,3,15,4.000000");
        let st2 = Stats { sample_size: 2, mean: 2.5, ..st };
        assert_eq!(s(|o| fmt_stats(o, &st2, STANDARD)), " [min: 1, max: 9, avg: 2, sum: 15, samples: 2]");
        assert_eq!(s(|o| fmt_stats(o, &st2, CSV)), ",1,9,2.500000,2,15,");
        assert_eq!(s(|o| fmt_gauge(o, 3, Some(&st), b"g", STANDARD, None, 0)), "g: 3 [min: 1, max: 9, avg: 5, sum: 15, stddev: 4, samples: 3]");
        assert_eq!(
            s(|o| fmt_timer_snapshot(o, 12, b"t", TIMER_SNAPSHOT | CLOCK_THREAD_CPUTIME, STANDARD, INCLUDE_TYPE)),
            "type: snapshot thread, t: 12 us"
        );
        assert_eq!(s(|o| fmt_timer_snapshot(o, 12, b"t", TIMER_SNAPSHOT, CSV, 0)), "Invalid timer snapshot type: 0x0");
        assert_eq!(
            s(|o| fmt_duration(o, 5, Some(&st), b"d", DURATION | CLOCK_REALTIME, CSV, INCLUDE_TYPE)),
            "d,duration realtime,5,1,9,5.000000,3,15,4.000000"
        );
        assert_eq!(s(|o| fmt_metadata(o, None, Some(b"us"), CSV)), ",,us");
        assert_eq!(s(|o| fmt_metadata(o, Some(b"x"), Some(b"us"), STANDARD)), ", desc: x, units: us");
        assert_eq!(
            s(|o| fmt_field_descriptors(o, INCLUDE_TIMESTAMP | INCLUDE_METADATA)),
            "timestamp,name,value,min,max,mean,sample_size,sum,std_dev,description,units\n"
        );
        assert_eq!(s(|o| fmt_meminfo(o, [1, 2, 3, 4], b"m", STANDARD, 0)), "m:1,2,3,4");
        assert_eq!(s(|o| fmt_meminfo(o, [1, 2, 3, 4], b"m", CSV, INCLUDE_TYPE)), "m,arena,ordblks,uordblks,fordblks,1,2,3,4");
        assert_eq!(s(|o| fmt_timestamp(o, b"Thu Nov 26 13:00:00 2026", b"ts", CSV, 0)), "ts,Thu Nov 26 13:00:00 2026");
    }

    #[test]
    fn clocks_and_timediff() {
        assert_eq!(clock_id(CLOCK_THREAD_CPUTIME), libc::CLOCK_THREAD_CPUTIME_ID);
        assert_eq!(clock_id(12345), libc::CLOCK_REALTIME);
        assert_eq!(clock_string(CLOCK_PROCESS_CPUTIME), c"CLOCK_PROCESS_CPUTIME_ID");
        assert_eq!(timediff((1, 900_000_000), (3, 100_000_000)), (1, 200_000_000));
        assert_eq!(timespec_us(2, 5_000), 2_000_005);
    }
}
