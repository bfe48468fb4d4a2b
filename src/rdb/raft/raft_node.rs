//! A peer as a server sees it (upstream `raft_node.c`): replication progress, vote, lease.
//!
//! A node lives in a `Box<Node>`; C holds it as an opaque `raft_node_t *`. [`NodeH`] is that
//! handle: its accessors are the only code that dereferences it.

use crate::sys::{raft_index_t, raft_node_id_t, raft_node_t, raft_time_t};
use std::ffi::c_void;

const VOTED_FOR_ME: i32 = 1 << 0;
const VOTING: i32 = 1 << 1;
const HAS_SUFFICIENT_LOG: i32 = 1 << 2;

/// A peer's state.
#[derive(Debug)]
pub struct Node {
    udata: *mut c_void,
    next_idx: raft_index_t,
    match_idx: raft_index_t,
    flags: i32,
    id: raft_node_id_t,
    /// When the peer's promise not to elect another leader runs out.
    lease: raft_time_t,
    /// When the peer joined the leader's configuration.
    effective_time: raft_time_t,
}

impl Node {
    /// A voting node expecting index 1 next.
    pub fn new(udata: *mut c_void, id: raft_node_id_t) -> Node {
        Node {
            udata,
            next_idx: 1,
            match_idx: 0,
            flags: VOTING,
            id,
            lease: 0,
            effective_time: 0,
        }
    }

    /// Moves a node to the heap and returns its C handle.
    pub fn into_handle(self) -> NodeH {
        NodeH(Box::into_raw(Box::new(self)))
    }

    pub fn next_idx(&self) -> raft_index_t {
        self.next_idx
    }
    /// Indices start at 1: anything lower is taken as 1.
    pub fn set_next_idx(&mut self, idx: raft_index_t) {
        self.next_idx = idx.max(1);
    }
    pub fn match_idx(&self) -> raft_index_t {
        self.match_idx
    }
    pub fn set_match_idx(&mut self, idx: raft_index_t) {
        self.match_idx = idx;
    }
    pub fn udata(&self) -> *mut c_void {
        self.udata
    }
    pub fn set_udata(&mut self, udata: *mut c_void) {
        self.udata = udata;
    }
    pub fn id(&self) -> raft_node_id_t {
        self.id
    }
    pub fn vote_for_me(&mut self, vote: bool) {
        self.set_flag(VOTED_FOR_ME, vote);
    }
    pub fn has_vote_for_me(&self) -> bool {
        self.flags & VOTED_FOR_ME != 0
    }
    /// Upstream asserts that the voting status really changes.
    pub fn set_voting(&mut self, voting: bool) {
        assert_ne!(self.is_voting(), voting, "raft_node_set_voting: no change");
        self.set_flag(VOTING, voting);
    }
    pub fn is_voting(&self) -> bool {
        self.flags & VOTING != 0
    }
    pub fn has_sufficient_logs(&self) -> bool {
        self.flags & HAS_SUFFICIENT_LOG != 0
    }
    pub fn set_has_sufficient_logs(&mut self) {
        self.flags |= HAS_SUFFICIENT_LOG;
    }
    /// A lease only ever moves forward.
    pub fn set_lease(&mut self, lease: raft_time_t) {
        self.lease = self.lease.max(lease);
    }
    pub fn lease(&self) -> raft_time_t {
        self.lease
    }
    pub fn set_effective_time(&mut self, t: raft_time_t) {
        self.effective_time = t;
    }
    pub fn effective_time(&self) -> raft_time_t {
        self.effective_time
    }

    fn set_flag(&mut self, flag: i32, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }
}

/// The C handle of a [`Node`] (`raft_node_t *`), possibly NULL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct NodeH(pub *mut Node);

impl NodeH {
    pub fn from_c(p: *mut raft_node_t) -> NodeH {
        NodeH(p.cast())
    }
    pub fn as_c(self) -> *mut raft_node_t {
        self.0.cast()
    }
    pub fn is_null(self) -> bool {
        self.0.is_null()
    }
    /// Runs `f` on the node. The borrow ends before `f` returns, so nothing it does can
    /// overlap a callback into C that might reach the node again.
    #[inline(always)]
    pub fn with<R>(self, f: impl FnOnce(&mut Node) -> R) -> R {
        assert!(!self.0.is_null(), "NULL raft node");
        // SAFETY: a non-NULL handle is one of ours (Box::into_raw) that the caller has not
        // freed (the C API's contract, as upstream's); the borrow is confined to `f`, which
        // does not call out to C.
        f(unsafe { &mut *self.0 })
    }
    /// Releases the node. The handle must not be used afterwards.
    pub fn free(self) {
        if !self.0.is_null() {
            // SAFETY: as in `with`; the caller gives up the handle.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }

    pub fn id(self) -> raft_node_id_t {
        if self.is_null() {
            -1
        } else {
            self.with(|n| n.id())
        }
    }
    pub fn next_idx(self) -> raft_index_t {
        self.with(|n| n.next_idx())
    }
    pub fn set_next_idx(self, idx: raft_index_t) {
        self.with(|n| n.set_next_idx(idx))
    }
    pub fn match_idx(self) -> raft_index_t {
        self.with(|n| n.match_idx())
    }
    pub fn set_match_idx(self, idx: raft_index_t) {
        self.with(|n| n.set_match_idx(idx))
    }
    pub fn is_voting(self) -> bool {
        self.with(|n| n.is_voting())
    }
    pub fn set_voting(self, voting: bool) {
        self.with(|n| n.set_voting(voting))
    }
    pub fn vote_for_me(self, vote: bool) {
        self.with(|n| n.vote_for_me(vote))
    }
    pub fn has_vote_for_me(self) -> bool {
        self.with(|n| n.has_vote_for_me())
    }
    pub fn has_sufficient_logs(self) -> bool {
        self.with(|n| n.has_sufficient_logs())
    }
    pub fn set_has_sufficient_logs(self) {
        self.with(|n| n.set_has_sufficient_logs())
    }
    pub fn lease(self) -> raft_time_t {
        self.with(|n| n.lease())
    }
    pub fn set_lease(self, t: raft_time_t) {
        self.with(|n| n.set_lease(t))
    }
    pub fn effective_time(self) -> raft_time_t {
        self.with(|n| n.effective_time())
    }
    pub fn set_effective_time(self, t: raft_time_t) {
        self.with(|n| n.set_effective_time(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_node_defaults() {
        let n = Node::new(std::ptr::null_mut(), 7);
        assert_eq!((n.id(), n.next_idx(), n.match_idx()), (7, 1, 0));
        assert!(n.is_voting() && !n.has_vote_for_me() && !n.has_sufficient_logs());
        assert_eq!((n.lease(), n.effective_time()), (0, 0));
    }

    #[test]
    fn next_idx_floor_and_flags() {
        let mut n = Node::new(std::ptr::null_mut(), 1);
        n.set_next_idx(0);
        assert_eq!(n.next_idx(), 1);
        n.set_next_idx(-5);
        assert_eq!(n.next_idx(), 1);
        n.set_next_idx(9);
        assert_eq!(n.next_idx(), 9);
        n.vote_for_me(true);
        assert!(n.has_vote_for_me());
        n.set_voting(false);
        assert!(!n.is_voting() && n.has_vote_for_me());
        n.vote_for_me(false);
        assert!(!n.has_vote_for_me());
        n.set_has_sufficient_logs();
        assert!(n.has_sufficient_logs());
    }

    #[test]
    fn lease_never_goes_back() {
        let mut n = Node::new(std::ptr::null_mut(), 1);
        n.set_lease(100);
        n.set_lease(50);
        assert_eq!(n.lease(), 100);
    }

    #[test]
    fn null_handle_has_id_minus_one() {
        assert_eq!(NodeH(std::ptr::null_mut()).id(), -1);
        let h = Node::new(std::ptr::null_mut(), 3).into_handle();
        assert_eq!(h.id(), 3);
        h.free();
    }
}
