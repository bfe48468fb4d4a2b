//! Rank-list algorithms on plain slices; the C API layer applies them to `d_rank_list_t`.
//!
//! The results are upstream's, including its quirks that callers can observe: duplicates stay
//! separate entries of a ranged string ("[1,1-2]"), `identical` sorts only its first list,
//! `merge` checks only against the original list.

/// Sorts ranks ascending (`d_rank_list_sort`).
#[inline]
pub fn sort(ranks: &mut [u32]) {
    ranks.sort_unstable();
}

/// Removes repeated neighbours in place, keeping the first of each run, and returns the new
/// length (the uniq step of `d_rank_list_dup_sort_uniq`, applied to a sorted list).
pub fn dedup(ranks: &mut [u32]) -> usize {
    if ranks.is_empty() {
        return 0;
    }
    let mut w = 1;
    for r in 1..ranks.len() {
        if ranks[r] != ranks[w - 1] {
            ranks[w] = ranks[r];
            w += 1;
        }
    }
    w
}

/// A membership test over `set` that is cheap for long sets (sorted copy) and short ones (scan).
struct Membership<'a> {
    set: &'a [u32],
    sorted: Option<Vec<u32>>,
}

impl<'a> Membership<'a> {
    fn new(set: &'a [u32], probes: usize) -> Self {
        let sorted = (set.len() > 16 && probes > 4).then(|| {
            let mut v = set.to_vec();
            v.sort_unstable();
            v
        });
        Membership { set, sorted }
    }

    fn contains(&self, r: u32) -> bool {
        match &self.sorted {
            Some(v) => v.binary_search(&r).is_ok(),
            None => self.set.contains(&r),
        }
    }
}

/// Keeps, in order, the ranks of `dst` that are in `src` (`exclude == false`) or that are not
/// (`exclude == true`); returns the new length (`d_rank_list_filter`).
pub fn filter(src: &[u32], dst: &mut [u32], exclude: bool) -> usize {
    let m = Membership::new(src, dst.len());
    let mut w = 0;
    for r in 0..dst.len() {
        let v = dst[r];
        if m.contains(v) != exclude {
            dst[w] = v;
            w += 1;
        }
    }
    w
}

/// The ranks of `merge` that `src` does not hold, in `merge`'s order (repeats in `merge` are
/// kept, as upstream checks only against `src`) (`d_rank_list_merge`).
pub fn missing_from(src: &[u32], merge: &[u32]) -> Vec<u32> {
    let m = Membership::new(src, merge.len());
    merge.iter().copied().filter(|&r| !m.contains(r)).collect()
}

/// The ranges of a sorted list: each run of consecutive ranks is one range; a repeated rank
/// starts a new range (`d_rank_range_list_create_from_ranks`).
pub fn ranges(sorted: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &r in sorted {
        match out.last_mut() {
            Some(last) if r == last.1.wrapping_add(1) => last.1 = r,
            _ => out.push((r, r)),
        }
    }
    out
}

/// Appends the decimal digits of `v` (C's "%u").
#[inline]
fn push_u32(out: &mut Vec<u8>, mut v: u32) {
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends C's "%d" of a rank (ranks are printed signed by `d_rank_list_dump`).
fn push_i32(out: &mut Vec<u8>, v: u32) {
    let v = v as i32;
    if v < 0 {
        out.push(b'-');
    }
    push_u32(out, v.unsigned_abs());
}

/// "[lo-hi,r,...]" for ranges (`d_rank_range_list_str`): "%u" for a single rank, "%u-%u" for
/// a range, comma separated, in brackets. No terminating NUL.
pub fn ranges_str<I: IntoIterator<Item = (u32, u32)>>(ranges: I, out: &mut Vec<u8>) {
    out.push(b'[');
    let mut first = true;
    for (lo, hi) in ranges {
        if !first {
            out.push(b',');
        }
        first = false;
        push_u32(out, lo);
        if lo != hi {
            out.push(b'-');
            push_u32(out, hi);
        }
    }
    out.push(b']');
}

/// The ranged string of a sorted list (`d_rank_list_to_str`), without building the ranges.
pub fn sorted_to_str(sorted: &[u32], out: &mut Vec<u8>) {
    out.reserve(sorted.len().min(64) * 4 + 2);
    let mut it = sorted.iter().copied();
    let mut cur = it.next().map(|r| (r, r));
    ranges_str(
        std::iter::from_fn(|| {
            let (lo, mut hi) = cur?;
            for r in it.by_ref() {
                if r == hi.wrapping_add(1) {
                    hi = r;
                } else {
                    cur = Some((r, r));
                    return Some((lo, hi));
                }
            }
            cur = None;
            Some((lo, hi))
        }),
        out,
    );
}

/// "r r r " (each rank as "%d " ) as `d_rank_list_dump` logs it.
pub fn dump_str(ranks: &[u32]) -> String {
    let mut out = Vec::with_capacity(ranks.len() * 4);
    for &r in ranks {
        push_i32(&mut out, r);
        out.push(b' ');
    }
    String::from_utf8(out).expect("digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_str(ranks: &[u32]) -> String {
        let mut v = ranks.to_vec();
        sort(&mut v);
        let mut out = Vec::new();
        sorted_to_str(&v, &mut out);
        let mut out2 = Vec::new();
        ranges_str(ranges(&v), &mut out2);
        assert_eq!(out, out2);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ranged_strings() {
        assert_eq!(to_str(&[]), "[]");
        assert_eq!(to_str(&[2]), "[2]");
        assert_eq!(to_str(&[2, 1, 5, 3]), "[1-3,5]");
        assert_eq!(to_str(&[1, 1, 2]), "[1,1-2]");
        assert_eq!(to_str(&[7, 7, 7]), "[7,7,7]");
        assert_eq!(to_str(&[u32::MAX, 0, u32::MAX - 1]), "[0,4294967294-4294967295]");
        let all: Vec<u32> = (0..1024).collect();
        assert_eq!(to_str(&all), "[0-1023]");
        let evens: Vec<u32> = (0..1024).map(|i| i * 2).collect();
        let s = to_str(&evens);
        assert!(s.starts_with("[0,2,4,"), "{s}");
        assert!(s.ends_with(",2044,2046]"), "{s}");
    }

    #[test]
    fn dedup_keeps_first_of_runs() {
        let mut v = vec![1, 1, 1, 2, 2, 3, 4, 4, 5, 5];
        let n = dedup(&mut v);
        assert_eq!(&v[..n], &[1, 2, 3, 4, 5]);
        assert_eq!(dedup(&mut []), 0);
        let mut one = [9];
        assert_eq!(dedup(&mut one), 1);
    }

    #[test]
    fn filter_both_ways() {
        let src = [1, 3, 5];
        let mut dst = [0, 1, 2, 3, 4, 5, 6];
        let n = filter(&src, &mut dst, true);
        assert_eq!(&dst[..n], &[0, 2, 4, 6]);
        let mut dst = [0, 1, 2, 3, 4, 5, 6, 1];
        let n = filter(&src, &mut dst, false);
        assert_eq!(&dst[..n], &[1, 3, 5, 1]);
        // A long source uses the sorted membership test; the result is the same.
        let src: Vec<u32> = (0..100).rev().map(|i| i * 3).collect();
        let mut dst: Vec<u32> = (0..50).collect();
        let n = filter(&src, &mut dst, false);
        assert_eq!(&dst[..n], (0..50).filter(|i| i % 3 == 0).collect::<Vec<_>>().as_slice());
    }

    #[test]
    fn merge_checks_the_original_list_only() {
        assert_eq!(missing_from(&[1, 2, 3], &[3, 4, 4, 1, 5]), vec![4, 4, 5]);
        assert_eq!(missing_from(&[], &[2, 2]), vec![2, 2]);
        assert!(missing_from(&[1], &[]).is_empty());
    }

    #[test]
    fn dump_prints_signed() {
        assert_eq!(dump_str(&[0, 1, 42]), "0 1 42 ");
        assert_eq!(dump_str(&[u32::MAX, 0x8000_0000]), "-1 -2147483648 ");
        assert_eq!(dump_str(&[]), "");
    }
}
