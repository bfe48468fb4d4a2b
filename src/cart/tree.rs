//! Tree topologies for collective RPCs and IV (upstream `crt_tree*.c`): which ranks a node
//! forwards to and which rank it replies to, for the flat, k-ary and k-nomial trees.
//!
//! Two levels, as upstream:
//! - [`Topo`] works on *group positions* `0..size` (a node's index in the sorted member list):
//!   the functions upstream exports as `crt_{flat,kary,knomial}_get_*`;
//! - [`children`], [`nchildren`], [`parent`] work on *ranks* of a member list after an exclusion
//!   (or inclusion) filter: upstream's `crt_tree_get_*`.
//!
//! Inside a topology a node's *tree rank* is its position rotated so that the root is 0:
//! `tree = (pos + size - root) % size`, `pos = (tree + root) % size`.
use crate::sys;

pub const DER_INVAL: i32 = -(sys::DER_INVAL as i32);
pub const DER_OOG: i32 = -(sys::DER_OOG as i32);
pub const DER_NONEXIST: i32 = -(sys::DER_NONEXIST as i32);
pub const DER_GRPVER: i32 = -(sys::DER_GRPVER as i32);

/// `CRT_TREE_TYPE_SHIFT`: a topology word is `type << 16 | ratio`.
pub const TYPE_SHIFT: u32 = sys::CRT_TREE_TYPE_SHIFT;
pub const MIN_RATIO: u32 = sys::CRT_TREE_MIN_RATIO;
pub const MAX_RATIO: u32 = sys::CRT_TREE_MAX_RATIO;

/// The three tree shapes (`enum crt_tree_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Flat,
    Kary,
    Knomial,
}

/// A validated topology: its shape and branch ratio (ignored by the flat tree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topo {
    pub kind: Kind,
    pub ratio: u32,
}

impl Topo {
    /// Decodes a `crt_tree_topo()` word; `None` where upstream's `crt_tree_topo_valid` says no:
    /// an unknown type, or a k-ary/k-nomial ratio outside `[2, 64]`.
    pub fn decode(word: i32) -> Option<Topo> {
        let w = word as u32;
        let ty = (word >> TYPE_SHIFT) as i64;
        let ratio = w & ((1u32 << TYPE_SHIFT) - 1);
        let kind = match ty as u32 {
            x if x == sys::CRT_TREE_FLAT && ty >= 0 => Kind::Flat,
            x if x == sys::CRT_TREE_KARY && ty >= 0 => Kind::Kary,
            x if x == sys::CRT_TREE_KNOMIAL && ty >= 0 => Kind::Knomial,
            _ => return None,
        };
        if kind != Kind::Flat && !(MIN_RATIO..=MAX_RATIO).contains(&ratio) {
            return None;
        }
        Some(Topo { kind, ratio })
    }

    /// How many children the node at position `me` has (root at position `root`).
    pub fn nchildren(self, size: u32, root: u32, me: u32) -> u32 {
        match self.kind {
            Kind::Flat => {
                if me == root {
                    size - 1
                } else {
                    0
                }
            }
            Kind::Kary => kary_children(tree_rank(size, root, me), size, self.ratio, |_| {}),
            Kind::Knomial => knomial_children(tree_rank(size, root, me), size, self.ratio, |_| {}),
        }
    }

    /// The positions of the children of `me`, in upstream's order; `Err(-DER_INVAL)` for a
    /// non-root node of the flat tree (upstream's answer there).
    pub fn children(self, size: u32, root: u32, me: u32) -> Result<Vec<u32>, i32> {
        let mut out = Vec::new();
        match self.kind {
            Kind::Flat => {
                if me != root {
                    return Err(DER_INVAL);
                }
                out.extend((0..size).filter(|&i| i != root));
            }
            Kind::Kary => {
                kary_children(tree_rank(size, root, me), size, self.ratio, |t| out.push(pos(size, root, t)));
            }
            Kind::Knomial => {
                knomial_children(tree_rank(size, root, me), size, self.ratio, |t| out.push(pos(size, root, t)));
            }
        }
        Ok(out)
    }

    /// The position of the parent of `me`; `Err(-DER_INVAL)` for the root.
    pub fn parent(self, size: u32, root: u32, me: u32) -> Result<u32, i32> {
        if me == root {
            return Err(DER_INVAL);
        }
        Ok(match self.kind {
            Kind::Flat => root,
            Kind::Kary => pos(size, root, (tree_rank(size, root, me) - 1) / self.ratio),
            Kind::Knomial => pos(size, root, knomial_parent(tree_rank(size, root, me), self.ratio)),
        })
    }
}

/// Position -> tree rank (root becomes 0).
pub fn tree_rank(size: u32, root: u32, p: u32) -> u32 {
    ((p as u64 + size as u64 - root as u64) % size as u64) as u32
}

/// Tree rank -> position.
pub fn pos(size: u32, root: u32, t: u32) -> u32 {
    ((t as u64 + root as u64) % size as u64) as u32
}

/// k-ary: the children of tree rank `t` are `t*k+1 ..= t*k+k`, those below `size`.
fn kary_children(t: u32, size: u32, k: u32, mut each: impl FnMut(u32)) -> u32 {
    let mut n = 0;
    for i in 0..k {
        let c = t.wrapping_mul(k).wrapping_add(i + 1);
        if c >= size {
            break;
        }
        each(c);
        n += 1;
    }
    n
}

/// k-nomial: write `t` in base k; for each trailing zero digit d (from the lowest), the
/// children are `t + i*k^d` for i in 1..k, stopping at the first one past the group.
fn knomial_children(t: u32, size: u32, k: u32, mut each: impl FnMut(u32)) -> u32 {
    let mut n = 0;
    let mut inc: u32 = 1;
    let mut rest = t;
    for _digit in 0..MAX_RATIO {
        // Digits above the highest non-zero one are zero too, so the root (t = 0) keeps going
        // until the children run past the group.
        if rest % k != 0 {
            break;
        }
        for i in 1..k {
            let c = t.wrapping_add(i.wrapping_mul(inc));
            if c >= size {
                return n;
            }
            each(c);
            n += 1;
        }
        inc = inc.wrapping_mul(k);
        rest /= k;
    }
    n
}

/// k-nomial: the parent clears the lowest non-zero base-k digit.
fn knomial_parent(t: u32, k: u32) -> u32 {
    let mut place: u64 = 1;
    let mut rest = t;
    while rest > 0 {
        let d = rest % k;
        if d != 0 {
            return (t as u64 - d as u64 * place) as u32;
        }
        rest /= k;
        place *= k as u64;
    }
    t
}

/// The member list a tree is built over: the group's members sorted and deduplicated, then
/// without the `filter` ranks (or, `invert`ed, with only them: all must be members, else
/// -DER_OOG). `Ok(None)` when an exclusion leaves nothing.
pub fn filtered(membs: &[u32], invert: bool, filter: Option<&[u32]>) -> Result<Option<Vec<u32>>, i32> {
    let mut list = membs.to_vec();
    list.sort_unstable();
    list.dedup();
    if invert {
        let f = filter.ok_or(DER_INVAL)?;
        list.retain(|r| f.contains(r));
        if list.len() != f.len() {
            return Err(DER_OOG);
        }
    } else if let Some(f) = filter.filter(|f| !f.is_empty()) {
        list.retain(|r| !f.contains(r));
        if list.is_empty() {
            return Ok(None);
        }
    }
    Ok(Some(list))
}

fn index(list: &[u32], rank: u32) -> Result<u32, i32> {
    list.iter().position(|&r| r == rank).map(|i| i as u32).ok_or(DER_NONEXIST)
}

/// `crt_tree_get_nchildren`: children of `me` in the tree rooted at `root` over `membs` minus
/// `exclude`; -DER_INVAL for a bad topology or an empty tree, -DER_NONEXIST if root or self is
/// not in it.
pub fn nchildren(membs: &[u32], exclude: Option<&[u32]>, topo: i32, root: u32, me: u32) -> Result<u32, i32> {
    let t = Topo::decode(topo).ok_or(DER_INVAL)?;
    let list = filtered(membs, false, exclude)?.ok_or(DER_INVAL)?;
    let (r, s) = (index(&list, root)?, index(&list, me)?);
    Ok(t.nchildren(list.len() as u32, r, s))
}

/// `crt_tree_get_children`: the ranks `me` forwards to (empty: a leaf, or nothing left after
/// the filter). `version`/`current`: when given, a mismatch is -DER_GRPVER before anything
/// else, as upstream checks it first.
pub fn children(
    membs: &[u32],
    version: Option<(u32, u32)>,
    invert: bool,
    filter: Option<&[u32]>,
    topo: i32,
    root: u32,
    me: u32,
) -> Result<Vec<u32>, i32> {
    if let Some((asked, current)) = version {
        if asked != current {
            return Err(DER_GRPVER);
        }
    }
    let t = Topo::decode(topo).ok_or(DER_INVAL)?;
    let Some(list) = filtered(membs, invert, filter)? else { return Ok(Vec::new()) };
    let (r, s) = (index(&list, root)?, index(&list, me)?);
    let size = list.len() as u32;
    if t.nchildren(size, r, s) == 0 {
        return Ok(Vec::new());
    }
    Ok(t.children(size, r, s)?.into_iter().map(|p| list[p as usize]).collect())
}

/// `crt_tree_get_parent`: the rank `me` replies to; -DER_INVAL for the root.
pub fn parent(membs: &[u32], exclude: Option<&[u32]>, topo: i32, root: u32, me: u32) -> Result<u32, i32> {
    let t = Topo::decode(topo).ok_or(DER_INVAL)?;
    let list = filtered(membs, false, exclude)?.ok_or(DER_INVAL)?;
    let (r, s) = (index(&list, root)?, index(&list, me)?);
    Ok(list[t.parent(list.len() as u32, r, s)? as usize])
}

/// `crt_tree_topo()`: the header's inline, for Rust callers.
pub fn topo_word(kind: Kind, ratio: u32) -> i32 {
    let ty = match kind {
        Kind::Flat => sys::CRT_TREE_FLAT,
        Kind::Kary => sys::CRT_TREE_KARY,
        Kind::Knomial => sys::CRT_TREE_KNOMIAL,
    };
    ((ty << TYPE_SHIFT) | (ratio & ((1 << TYPE_SHIFT) - 1))) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [Kind; 3] = [Kind::Flat, Kind::Kary, Kind::Knomial];

    /// Every topology is a spanning tree: from the root, each position is reached exactly
    /// once, and each child's parent is the node that listed it.
    #[test]
    fn every_topology_spans_the_group_once() {
        for kind in KINDS {
            for ratio in 2..=8 {
                let t = Topo { kind, ratio };
                for size in 1..=64 {
                    for root in 0..size {
                        let mut seen = vec![0u32; size as usize];
                        seen[root as usize] += 1;
                        let mut todo = vec![root];
                        while let Some(n) = todo.pop() {
                            let nc = t.nchildren(size, root, n);
                            let kids = if nc == 0 { vec![] } else { t.children(size, root, n).unwrap() };
                            assert_eq!(kids.len() as u32, nc, "{kind:?}/{ratio} size {size} root {root} node {n}");
                            for c in kids {
                                assert_eq!(t.parent(size, root, c), Ok(n));
                                seen[c as usize] += 1;
                                todo.push(c);
                            }
                        }
                        assert!(seen.iter().all(|&s| s == 1), "{kind:?}/{ratio} size {size} root {root}: {seen:?}");
                        assert_eq!(t.parent(size, root, root), Err(DER_INVAL));
                    }
                }
            }
        }
    }

    #[test]
    fn known_shapes() {
        // k-ary 2 over 7 rooted at 0: a binary heap.
        let k = Topo { kind: Kind::Kary, ratio: 2 };
        assert_eq!(k.children(7, 0, 0), Ok(vec![1, 2]));
        assert_eq!(k.children(7, 0, 2), Ok(vec![5, 6]));
        // rotated: root 5 of 7; tree rank of 0 is 2, its tree children 5,6 -> positions 3,4.
        assert_eq!(k.children(7, 5, 0), Ok(vec![3, 4]));
        // binomial over 8 from 0: 1,2,4; 4 -> 5,6; 6 -> 7.
        let b = Topo { kind: Kind::Knomial, ratio: 2 };
        assert_eq!(b.children(8, 0, 0), Ok(vec![1, 2, 4]));
        assert_eq!(b.children(8, 0, 4), Ok(vec![5, 6]));
        assert_eq!(b.parent(8, 0, 7), Ok(6));
        assert_eq!(b.parent(8, 0, 6), Ok(4));
        // trinomial over 10: root 1,2,3,6,9; 3 -> 4,5.
        let t3 = Topo { kind: Kind::Knomial, ratio: 3 };
        assert_eq!(t3.children(10, 0, 0), Ok(vec![1, 2, 3, 6, 9]));
        assert_eq!(t3.children(10, 0, 3), Ok(vec![4, 5]));
        assert_eq!(t3.parent(10, 0, 8), Ok(6));
        let f = Topo { kind: Kind::Flat, ratio: 0 };
        assert_eq!(f.children(4, 2, 2), Ok(vec![0, 1, 3]));
        assert_eq!(f.children(4, 2, 1), Err(DER_INVAL));
        assert_eq!(f.parent(4, 2, 3), Ok(2));
    }

    #[test]
    fn decode_follows_topo_valid() {
        assert_eq!(Topo::decode(topo_word(Kind::Flat, 0)), Some(Topo { kind: Kind::Flat, ratio: 0 }));
        assert_eq!(Topo::decode(topo_word(Kind::Kary, 4)), Some(Topo { kind: Kind::Kary, ratio: 4 }));
        assert_eq!(Topo::decode(topo_word(Kind::Kary, 1)), None);
        assert_eq!(Topo::decode(topo_word(Kind::Knomial, 65)), None);
        assert_eq!(Topo::decode(topo_word(Kind::Knomial, 64)).map(|t| t.ratio), Some(64));
        assert_eq!(Topo::decode(0), None);
        assert_eq!(Topo::decode(4 << 16 | 2), None);
        assert_eq!(Topo::decode(-1), None);
    }

    #[test]
    fn rank_level_with_filters_and_versions() {
        let membs = [30, 10, 20, 10, 40, 50];
        let bin = topo_word(Kind::Knomial, 2);
        // sorted 10,20,30,40,50; root 10: children 20,30,50; 50 is 40's sibling? no: pos 4
        assert_eq!(children(&membs, None, false, None, bin, 10, 10), Ok(vec![20, 30, 50]));
        assert_eq!(children(&membs, None, false, None, bin, 10, 30), Ok(vec![40]));
        // excluding 20: 10,30,40,50 -> root's children 30,40; 40 -> 50
        assert_eq!(children(&membs, None, false, Some(&[20]), bin, 10, 10), Ok(vec![30, 40]));
        assert_eq!(parent(&membs, Some(&[20]), bin, 10, 50), Ok(40));
        assert_eq!(nchildren(&membs, Some(&[20]), bin, 10, 40), Ok(1));
        // inverted filter: only 20 and 50
        assert_eq!(children(&membs, None, true, Some(&[50, 20]), bin, 50, 50), Ok(vec![20]));
        assert_eq!(children(&membs, None, true, Some(&[50, 60]), bin, 50, 50), Err(DER_OOG));
        // root or self not a member
        assert_eq!(children(&membs, None, false, None, bin, 11, 10), Err(DER_NONEXIST));
        assert_eq!(parent(&membs, Some(&[10]), bin, 10, 20), Err(DER_NONEXIST));
        // everything excluded
        assert_eq!(children(&membs, None, false, Some(&membs), bin, 10, 10), Ok(vec![]));
        assert_eq!(nchildren(&membs, Some(&membs), bin, 10, 10), Err(DER_INVAL));
        // version check first
        assert_eq!(children(&membs, Some((3, 4)), false, None, 0, 10, 10), Err(DER_GRPVER));
        assert_eq!(children(&membs, Some((4, 4)), false, None, bin, 10, 20), Ok(vec![]));
        assert_eq!(children(&membs, Some((4, 4)), false, None, 0, 10, 20), Err(DER_INVAL));
        assert_eq!(parent(&membs, None, bin, 10, 10), Err(DER_INVAL));
    }
}
