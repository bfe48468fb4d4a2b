//! Getters and setters of a server (upstream `raft_server_properties.c`).

use crate::raft_node::NodeH;
use crate::raft_server::Srv;
use crate::sys::*;
use std::ffi::c_int;
use std::ptr;

impl Srv {
    /// Sets the election timeout and draws a new effective one.
    pub fn set_election_timeout(self, msec: c_int) {
        self.put_election_timeout(msec);
        self.randomize_election_timeout();
    }

    /// Our node id may be set once, while it is still unknown.
    pub fn set_nodeid(self, id: raft_node_id_t) {
        assert_eq!(self.node_id(), -1, "raft_set_nodeid: id already set");
        self.put_node_id(id);
    }

    pub fn num_voting_nodes(self) -> c_int {
        (0..self.num_nodes())
            .filter(|&i| self.node_at(i).is_voting())
            .count() as c_int
    }

    pub fn timeout_elapsed(self) -> c_int {
        (self.now() - self.election_timer()) as c_int
    }

    /// A higher term is persisted (with the vote reset) before it is adopted; a lower or equal
    /// one is ignored.
    pub fn set_current_term(self, term: raft_term_t) -> c_int {
        if self.current_term() < term {
            let voted_for = -1;
            // SAFETY: a by-value read of one callback pointer of the server's table.
            if let Some(f) = unsafe { (*self.0).cb.persist_term } {
                // SAFETY: a C callback with the arguments raft.h documents.
                let e = unsafe { f(self.c(), self.udata(), term, voted_for) };
                if e != 0 {
                    return e;
                }
            }
            self.put_current_term(term);
            self.put_voted_for(voted_for);
        }
        0
    }

    pub fn current_idx(self) -> raft_index_t {
        self.log().current_idx()
    }

    /// The commit index never goes back nor past the log.
    pub fn set_commit_idx(self, idx: raft_index_t) {
        assert!(self.commit_idx() <= idx, "commit index going back");
        assert!(idx <= self.current_idx(), "commit index past the log");
        self.put_commit_idx(idx);
    }

    /// Becoming leader makes us the known leader.
    pub fn set_state(self, state: c_int) {
        if state == RAFT_STATE_LEADER as c_int {
            self.put_leader_id(self.node_id());
        }
        self.put_state(state);
    }

    pub fn get_node(self, id: raft_node_id_t) -> NodeH {
        (0..self.num_nodes())
            .map(|i| self.node_at(i))
            .find(|n| n.id() == id)
            .unwrap_or(NodeH(ptr::null_mut()))
    }

    pub fn my_node(self) -> NodeH {
        self.get_node(self.node_id())
    }

    pub fn node_from_idx(self, idx: c_int) -> NodeH {
        if idx < 0 || self.num_nodes() <= idx {
            NodeH(ptr::null_mut())
        } else {
            self.node_at(idx)
        }
    }

    pub fn current_leader_node(self) -> NodeH {
        self.get_node(self.leader_id())
    }

    pub fn is_follower(self) -> bool {
        self.state() == RAFT_STATE_FOLLOWER as c_int
    }
    pub fn is_leader(self) -> bool {
        self.state() == RAFT_STATE_LEADER as c_int
    }
    pub fn is_candidate(self) -> bool {
        self.state() == RAFT_STATE_CANDIDATE as c_int
    }
    /// A candidate past its prevote round.
    pub fn is_prevoted_candidate(self) -> bool {
        self.is_candidate() && self.prevote() == 0
    }

    pub fn is_self(self, node: NodeH) -> bool {
        !node.is_null() && node.id() == self.node_id()
    }

    pub fn last_log_term(self) -> raft_term_t {
        self.entry_term(self.current_idx())
            .expect("no term for the last index")
    }

    pub fn last_applied_entry(self) -> *mut raft_entry_t {
        if self.last_applied_idx() == 0 {
            return ptr::null_mut();
        }
        self.log().get_at_idx(self.last_applied_idx())
    }

    pub fn set_snapshot_metadata(self, term: raft_term_t, idx: raft_index_t) {
        self.put_snapshot_last_term(term);
        self.put_snapshot_last_idx(idx);
    }
}
