//! Unit tests of the safe fault-injection logic. Expected sequences and states marked
//! "upstream" were measured with upstream's fault_inject.c (glibc nrand48) for the same input.

use super::*;

const INVAL: i32 = -(crate::sys::DER_INVAL as i32);
const MISC: i32 = -(crate::sys::DER_MISC as i32);

fn bits(t: &mut Trigger, n: usize, thread_on: bool) -> String {
    (0..n)
        .map(|_| if t.should_fail(thread_on) { '1' } else { '0' })
        .collect()
}

fn state_hex(s: [u16; 3]) -> String {
    format!("{:04x}{:04x}{:04x}", s[2], s[1], s[0])
}

fn parse(text: &str) -> Config {
    parse_config(text.as_bytes())
}

fn attrs(cfg: &Config) -> Vec<&AttrSpec> {
    cfg.items
        .iter()
        .filter_map(|i| {
            if let ConfigItem::Attr(a) = i {
                Some(a)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn nrand48_matches_libc() {
    let mut states = vec![
        [0u16; 3],
        [0x7b, 0, 0],
        [0xffff; 3],
        [0x1234, 0xabcd, 0x8000],
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        states.push([x as u16, (x >> 16) as u16, (x >> 32) as u16]);
    }
    for s in states {
        let (mut ours, mut theirs) = (s, s);
        for _ in 0..50 {
            // SAFETY: nrand48 only reads and writes the three words it is given.
            let want = unsafe { libc::nrand48(theirs.as_mut_ptr()) };
            assert_eq!(i64::from(nrand48(&mut ours)), want as i64);
            assert_eq!(ours, theirs);
        }
    }
}

#[test]
fn seeding_keeps_the_high_word() {
    assert_eq!(seeded_state(123, [0; 3]), [123, 0, 0]);
    assert_eq!(
        seeded_state(0x1234_5678, [9, 9, 0x7774]),
        [0x5678, 0x1234, 0x7774]
    );
}

#[test]
fn probability_sequence_matches_upstream() {
    // upstream: seed 123, probability 30/100, 64 evaluations.
    let mut t = Trigger {
        probability_x: 30,
        probability_y: 100,
        interval: 1,
        rand_state: seeded_state(123, [0; 3]),
        ..Default::default()
    };
    assert_eq!(
        bits(&mut t, 64, true),
        "0110110000000010010100010000001000100100110011100000100001110000"
    );
    assert_eq!(t.num_faults, 20);
    assert_eq!(t.num_hits, 0);
    assert_eq!(state_hex(t.rand_state), "597118bcc1bb");
}

#[test]
fn interval_and_max_faults_match_upstream() {
    // upstream: interval 3, max_faults 4, probability 1/1 (each pass still draws).
    let mut t = Trigger {
        probability_x: 1,
        probability_y: 1,
        interval: 3,
        max_faults: 4,
        rand_state: seeded_state(123, [0; 3]),
        ..Default::default()
    };
    assert_eq!(bits(&mut t, 20, true), "00100100100100000000");
    assert_eq!((t.num_faults, t.num_hits), (4, 12));
    assert_eq!(state_hex(t.rand_state), "a45ab6167a2f");

    // upstream: interval 2 and probability 1/3 together.
    let mut t = Trigger {
        probability_x: 1,
        probability_y: 3,
        interval: 2,
        rand_state: seeded_state(123, [0; 3]),
        ..Default::default()
    };
    assert_eq!(
        bits(&mut t, 40, true),
        "0000000001000100000000000001010100010001"
    );
    assert_eq!((t.num_faults, t.num_hits), (7, 40));
    assert_eq!(state_hex(t.rand_state), "0816b7f6b17f");
}

#[test]
fn zero_probability_and_thread_off_never_fail_and_draw_nothing() {
    let start = seeded_state(5, [0; 3]);
    let mut t = Trigger {
        probability_x: 0,
        probability_y: 1,
        interval: 2,
        rand_state: start,
        ..Default::default()
    };
    assert_eq!(bits(&mut t, 10, true), "0000000000");
    assert_eq!((t.num_hits, t.rand_state), (0, start));
    let mut t = Trigger {
        probability_x: 1,
        probability_y: 1,
        interval: 2,
        rand_state: start,
        ..Default::default()
    };
    assert_eq!(bits(&mut t, 10, false), "0000000000");
    assert_eq!((t.num_hits, t.rand_state), (0, start));
    // probability_y 0: every evaluation that gets that far fails, without a draw.
    let mut t = Trigger {
        probability_x: 5,
        probability_y: 0,
        interval: 1,
        max_faults: 3,
        rand_state: start,
        ..Default::default()
    };
    assert_eq!(bits(&mut t, 6, true), "111000");
    assert_eq!(t.rand_state, start);
}

#[test]
fn probability_is_right_statistically() {
    for (x, y) in [(1u32, 10u32), (30, 100), (1, 2), (999, 1000)] {
        let mut t = Trigger {
            probability_x: x,
            probability_y: y,
            interval: 1,
            rand_state: seeded_state(42, [0; 3]),
            ..Default::default()
        };
        let n = 200_000u64;
        let hits = (0..n).filter(|_| t.should_fail(true)).count() as f64;
        let p = f64::from(x) / f64::from(y);
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!((hits - n as f64 * p).abs() < 5.0 * sd, "{x}/{y}: {hits}");
    }
}

#[test]
fn strtoul_and_strtol_match_libc() {
    let cases: &[&str] = &[
        "",
        "0",
        "12",
        " 12abc",
        "\t+7",
        "-1",
        "-2",
        "010",
        "0x1F",
        "0X",
        "0x",
        "0xg",
        "08",
        "99999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "-0",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "0x7fffffffff",
        "abc",
        "  -0x10",
        "+",
        "-",
        " ",
        "1e5",
        "0777",
        "4294967301",
    ];
    for s in cases {
        let c = std::ffi::CString::new(*s).unwrap();
        for base in [0, 10] {
            // SAFETY: `c` is a NUL-terminated string; a NULL endptr is allowed.
            let (u, l) = unsafe {
                (
                    libc::strtoul(c.as_ptr(), std::ptr::null_mut(), base),
                    libc::strtol(c.as_ptr(), std::ptr::null_mut(), base),
                )
            };
            assert_eq!(
                c_strtoul(s.as_bytes(), base as u32),
                u,
                "strtoul({s:?}, {base})"
            );
            assert_eq!(
                c_strtol(s.as_bytes(), base as u32),
                l,
                "strtol({s:?}, {base})"
            );
        }
    }
}

#[test]
fn thread_choice_overrides_the_default() {
    std::thread::spawn(|| {
        set_thread_default(false);
        assert!(!thread_enabled());
        set_thread_default(true);
        assert!(thread_enabled());
        set_thread_enabled(false);
        assert!(!thread_enabled());
        // another thread without a choice follows the default
        assert!(std::thread::spawn(thread_enabled).join().unwrap());
        set_thread_enabled(true);
        set_thread_default(false);
        assert!(thread_enabled());
        assert!(!std::thread::spawn(thread_enabled).join().unwrap());
        set_thread_default(true);
    })
    .join()
    .unwrap();
}

#[test]
fn a_full_file() {
    let cfg = parse(
        "seed: 123\nthread_default: false\nfault_config:\n  - id: 0\n    probability_x: 30\n    \
         probability_y: 100\n  - id: 5\n    interval: 3\n    max_faults: 4\n    err_code: -1012\n    \
         argument: hello world\n",
    );
    assert_eq!(cfg.result, Ok(()));
    assert_eq!(cfg.items[0], ConfigItem::Seed(123));
    assert_eq!(cfg.items[1], ConfigItem::ThreadDefault(false));
    let a = attrs(&cfg);
    assert_eq!(
        *a[0],
        AttrSpec {
            id: 0,
            probability_x: 30,
            probability_y: 100,
            interval: 1,
            max_faults: 0,
            err_code: 0,
            argument: None
        }
    );
    assert_eq!(
        *a[1],
        AttrSpec {
            id: 5,
            probability_x: 1,
            probability_y: 1,
            interval: 3,
            max_faults: 4,
            err_code: -1012,
            argument: Some(b"hello world".to_vec())
        }
    );
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    for text in [
        "",
        "# nothing\n",
        "---\n...\n",
        "fault_config: []\n",
        "fault_config:\n",
    ] {
        let cfg = parse(text);
        assert_eq!(cfg.result, Ok(()), "{text:?}");
        assert!(attrs(&cfg).is_empty(), "{text:?}");
    }
}

#[test]
fn order_of_items_is_file_order() {
    let cfg = parse("fault_config:\n  - id: 1\nseed: 99\nfault_config:\n  - id: 2\n");
    assert_eq!(cfg.result, Ok(()));
    let kinds: Vec<_> = cfg
        .items
        .iter()
        .map(|i| match i {
            ConfigItem::Attr(a) => format!("attr{}", a.id),
            ConfigItem::Seed(s) => format!("seed{s}"),
            ConfigItem::ThreadDefault(b) => format!("td{b}"),
        })
        .collect();
    assert_eq!(kinds, ["attr1", "seed99", "attr2"]);
}

#[test]
fn attribute_errors_are_misc_and_keep_what_came_before() {
    let cases = [
        (
            "fault_config:\n  - id: 1\n  - id: 2\n    bogus: 3\n  - id: 3\n",
            1,
            "unknown key 'bogus'",
        ),
        ("fault_config:\n  - probability_x: 3\n", 0, "no 'id'"),
        (
            "fault_config:\n  - id: 1\n  - id: [1, 2]\n",
            1,
            "expected a scalar value",
        ),
        (
            "fault_config:\n  - id: 1\n    probability_x: &a 5\n    probability_y: *a\n",
            0,
            "an alias",
        ),
        (
            "fault_config:\n  - id: 1\n    ? [a]\n    : 1\n",
            0,
            "expected a key",
        ),
        (
            "fault_config:\n  - id: 1\n  - id: 2\n    interval: 3\n   bad: : [\n",
            2,
            "YAML syntax error",
        ),
    ];
    for (text, kept, msg) in cases {
        let cfg = parse(text);
        let err = cfg.result.clone().unwrap_err();
        assert_eq!(err.rc, MISC, "{text:?}");
        assert!(err.msg.contains(msg), "{text:?}: {}", err.msg);
        assert_eq!(attrs(&cfg).len(), kept, "{text:?}");
    }
}

#[test]
fn top_level_errors_are_inval() {
    for (text, msg) in [
        (
            "unknown: 1\nfault_config:\n  - id: 1\n",
            "unknown key 'unknown'",
        ),
        ("just a scalar\n", "unknown key 'just a scalar'"),
        ("seed: [1]\n", "seed"),
        ("thread_default: {a: 1}\n", "thread_default"),
        ("seed: 3\nseed: *x\n", ""),
    ] {
        let cfg = parse(text);
        let err = cfg.result.unwrap_err();
        if text.contains("*x") {
            // an undefined alias is a syntax error for the YAML reader
            assert_eq!(err.rc, MISC);
            continue;
        }
        assert_eq!(err.rc, INVAL, "{text:?}");
        assert!(err.msg.contains(msg), "{text:?}: {}", err.msg);
    }
}

#[test]
fn keywords_match_as_upstream_compares_them() {
    // A top-level key (and the thread_default value) matches when it is a prefix of the keyword.
    let cfg = parse("fault_conf:\n  - id: 4\nsee: 77\nthread_def: TR\nfault_config:\n  - id: 9\n");
    assert_eq!(cfg.result, Ok(()));
    assert_eq!(
        cfg.items
            .iter()
            .filter(|i| !matches!(i, ConfigItem::Attr(_)))
            .cloned()
            .collect::<Vec<_>>(),
        [ConfigItem::Seed(77), ConfigItem::ThreadDefault(true)]
    );
    assert_eq!(attrs(&cfg).iter().map(|a| a.id).collect::<Vec<_>>(), [4, 9]);
    for (v, want) in [
        ("true", true),
        ("TRUE", true),
        ("t", true),
        ("", true),
        ("yes", false),
        ("1", false),
        ("truex", false),
        ("false", false),
    ] {
        let cfg = parse(&format!("thread_default: \"{v}\"\n"));
        assert_eq!(cfg.items, [ConfigItem::ThreadDefault(want)], "{v:?}");
    }
    // A key longer than the keyword does not match.
    assert_eq!(parse("seeds: 1\n").result.unwrap_err().rc, INVAL);
    // Attribute keys are compared exactly, up to an embedded NUL.
    assert_eq!(
        parse("fault_config:\n  - ids: 1\n").result.unwrap_err().rc,
        MISC
    );
    let cfg = parse("fault_config:\n  - id: 1\n    argument: \"a\\0b\"\n    \"id\\0zz\": 2\n");
    assert_eq!(cfg.result, Ok(()));
    assert_eq!(
        (attrs(&cfg)[0].id, attrs(&cfg)[0].argument.as_deref()),
        (2, Some(&b"a"[..]))
    );
}

#[test]
fn numbers_are_read_as_c_reads_them() {
    let cfg = parse(
        "fault_config:\n  - id: 0x10\n    probability_x: 010\n    probability_y: -1\n    \
         interval: 99999999999999999999\n    max_faults: -2\n    err_code: 0x7fffffffff\n  - id: \" 12abc\"\n    \
         err_code: -99999999999999999999\n    probability_x: abc\n",
    );
    assert_eq!(cfg.result, Ok(()));
    let a = attrs(&cfg);
    assert_eq!(
        (a[0].id, a[0].probability_x, a[0].probability_y),
        (16, 8, u32::MAX)
    );
    assert_eq!(
        (a[0].interval, a[0].max_faults, a[0].err_code),
        (u32::MAX, u64::MAX - 1, -1)
    );
    assert_eq!((a[1].id, a[1].probability_x, a[1].err_code), (12, 0, 0));
    // seed is base 10 and truncated to 32 bits
    for (v, want) in [
        ("4294967301", 5u32),
        ("-5", 0xffff_fffb),
        ("0x10", 0),
        ("010", 10),
        ("", 0),
    ] {
        assert_eq!(
            parse(&format!("seed: \"{v}\"\n")).items,
            [ConfigItem::Seed(want)],
            "{v:?}"
        );
    }
}

#[test]
fn structure_quirks_follow_upstream() {
    // fault_config given a mapping: that mapping is one entry, and the rest of the document is
    // swallowed (the seed below is not read).
    let cfg = parse("fault_config:\n  id: 4\n  probability_x: 7\nseed: 5\n");
    assert_eq!(cfg.result, Ok(()));
    assert_eq!(cfg.items.len(), 1);
    assert_eq!(attrs(&cfg)[0].probability_x, 7);
    // After a scalar value the reading goes on for mappings up to the end of a sequence: the
    // seed is skipped, the entry of the next list is read.
    let cfg = parse("fault_config: 5\nseed: 6\nfault_config:\n  - id: 4\n");
    assert_eq!(cfg.result, Ok(()));
    assert_eq!(cfg.items.len(), 1);
    assert_eq!(attrs(&cfg)[0].id, 4);
    // A sequence document: its scalars are read as keys.
    let cfg = parse("- fault_config\n- seed\n- 3\n");
    assert_eq!((cfg.result, cfg.items.len()), (Ok(()), 0));
    // Several documents, flow style, empty values.
    let cfg = parse("---\nseed: 1\n...\n---\nfault_config: [{id: 1, probability_x: 2}, {id: 2}]\n");
    assert_eq!(cfg.result, Ok(()));
    assert_eq!(cfg.items[0], ConfigItem::Seed(1));
    assert_eq!(attrs(&cfg).len(), 2);
    let cfg = parse("seed:\nthread_default:\nfault_config:\n  - id: 1\n");
    assert_eq!(
        cfg.items[..2],
        [ConfigItem::Seed(0), ConfigItem::ThreadDefault(true)]
    );
    // As libyaml (YAML 1.1): after `...`, a document needs `---`; items before stay read.
    let cfg = parse("fault_config:\n  - id: 1\n...\nbogus\n");
    assert_eq!(cfg.result.unwrap_err().rc, MISC);
    assert_eq!(cfg.items.len(), 1);
    let cfg = parse("seed: 5\n...\n---\nseed: 6\n...\n%YAML 1.1\n---\nseed: 7\n");
    assert_eq!(cfg.result, Ok(()));
    assert_eq!(
        cfg.items,
        [
            ConfigItem::Seed(5),
            ConfigItem::Seed(6),
            ConfigItem::Seed(7)
        ]
    );
    // Duplicate keys: the last value wins.
    let cfg = parse("fault_config:\n  - id: 1\n    argument: first\n    argument: second\n");
    assert_eq!(attrs(&cfg)[0].argument.as_deref(), Some(&b"second"[..]));
}

#[test]
fn argument_is_cut_at_the_limit() {
    let long = "x".repeat(5000);
    let cfg = parse(&format!("fault_config:\n  - id: 1\n    argument: {long}\n"));
    assert_eq!(attrs(&cfg)[0].argument.as_ref().unwrap().len(), ARG_MAX_LEN);
}

#[test]
fn encodings() {
    let cfg = parse_config(b"\xef\xbb\xbfseed: 3\n");
    assert_eq!(cfg.items, [ConfigItem::Seed(3)]);
    let mut le = vec![0xff, 0xfe];
    let mut be = vec![0xfe, 0xff];
    for u in "seed: 4\n".encode_utf16() {
        le.extend(u.to_le_bytes());
        be.extend(u.to_be_bytes());
    }
    assert_eq!(parse_config(&le).items, [ConfigItem::Seed(4)]);
    assert_eq!(parse_config(&be).items, [ConfigItem::Seed(4)]);
    let bad = parse_config(b"seed: 3\n\xff\xfe\n");
    assert_eq!(bad.result.unwrap_err().rc, MISC);
    assert_eq!(
        parse_config(&le[..le.len() - 1]).result.unwrap_err().rc,
        MISC
    );
}

#[test]
fn reading_files() {
    let dir = std::env::temp_dir().join(format!("gurt_fi_unit_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("c.yaml");
    std::fs::write(&f, "seed: 1\n").unwrap();
    assert_eq!(read_config_file(&f).unwrap(), b"seed: 1\n");
    let missing = read_config_file(&dir.join("missing.yaml")).unwrap_err();
    assert_eq!(missing.rc, -(crate::sys::DER_NONEXIST as i32));
    // a directory opens but cannot be read
    assert_eq!(read_config_file(&dir).unwrap_err().rc, MISC);
    // an endless file ends in an error too
    assert_eq!(
        read_config_file(std::path::Path::new("/dev/zero"))
            .unwrap_err()
            .rc,
        MISC
    );
    // NUL bytes are no YAML
    assert_eq!(parse_config(b"seed: 1\n\0\n").result.unwrap_err().rc, MISC);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn garbled_files_never_panic() {
    // Byte-level mutations of a valid file, plus YAML punctuation soup: every outcome must be
    // success, -DER_MISC or -DER_INVAL (a panic here would abort the C caller).
    let base =
        b"seed: 123\nthread_default: true\nfault_config:\n  - id: 0\n    probability_x: 30\n    \
                 probability_y: 100\n  - {id: 5, interval: 3, argument: \"a b\"}\n  - id: 7\n    \
                 err_code: -1012\n";
    let alphabet = b" \t\n:-[]{}!&*?|>'\"%@`#,.0x19azZ\\\xc3\xa9\xff";
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..3000 {
        let mut f = base.to_vec();
        for _ in 0..1 + next() % 6 {
            let pos = (next() % (f.len() as u64 + 1)) as usize;
            let c = alphabet[(next() % alphabet.len() as u64) as usize];
            match next() % 3 {
                0 if pos < f.len() => f[pos] = c,
                1 if pos < f.len() => {
                    f.remove(pos);
                }
                _ => f.insert(pos, c),
            }
        }
        if round % 3 == 0 {
            f = (0..next() % 64)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
        }
        let cfg = parse_config(&f);
        if let Err(e) = &cfg.result {
            assert!(
                e.rc == MISC || e.rc == INVAL,
                "{:?}: {e}",
                String::from_utf8_lossy(&f)
            );
            assert!(!e.msg.is_empty());
        }
    }
}

#[test]
fn deep_nesting_is_no_crash() {
    for open in [b'[', b'{'] {
        let f = vec![open; 200_000];
        assert_eq!(parse_config(&f).result.unwrap_err().rc, MISC);
        // the YAML reader refuses nesting past its recursion limit (a clear error, no crash);
        // reasonable nesting is read
        let nested = |n| {
            let mut g = b"fault_config: ".to_vec();
            g.extend(std::iter::repeat_n(b'[', n));
            g.extend(std::iter::repeat_n(b']', n));
            parse_config(&g).result
        };
        assert_eq!(nested(100_000).unwrap_err().rc, MISC);
        assert_eq!(nested(100), Ok(()));
    }
}
