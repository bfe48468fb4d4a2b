/*
 * oxidaos raft: the server's state and the internal entry points. raft's own tests include
 * this header and read the server through raft_server_private_t, so its layout is part of
 * the ABI.
 */
#ifndef RAFT_PRIVATE_H_
#define RAFT_PRIVATE_H_

#include "raft_types.h"
#include "raft.h"

/* Values of raft_server_private_t.connected. */
enum {
	RAFT_NODE_STATUS_DISCONNECTED,
	RAFT_NODE_STATUS_CONNECTED,
	RAFT_NODE_STATUS_CONNECTING,
	RAFT_NODE_STATUS_DISCONNECTING
};

typedef struct {
	/* persistent: */
	raft_term_t	 current_term;		/* 0 at first */
	raft_node_id_t	 voted_for;		/* -1 for nobody */
	void		*log;			/* the log_t */

	/* volatile: */
	raft_index_t	 commit_idx;
	raft_index_t	 last_applied_idx;
	int		 state;			/* raft_state_e */
	int		 prevote;		/* candidate still in its prevote round */
	raft_time_t	 start_time;
	raft_time_t	 election_timer;	/* when the election timer was last reset */

	raft_node_t	*nodes;			/* num_nodes node handles */
	int		 num_nodes;

	int		 election_timeout;
	int		 election_timeout_rand;	/* drawn from [timeout, 2 * timeout) */
	int		 request_timeout;

	raft_node_id_t	 leader_id;		/* -1 when unknown */
	raft_node_id_t	 node_id;		/* ours */

	raft_cbs_t	 cb;
	void		*udata;

	raft_index_t	 voting_cfg_change_log_idx;	/* pending voting change, or -1 */
	int		 connected;		/* RAFT_NODE_STATUS_* */
	int		 snapshot_in_progress;
	raft_index_t	 snapshot_last_idx;
	raft_term_t	 snapshot_last_term;
	int		 lease_maintenance_grace;
	int		 first_start;		/* first start of this persistent server */
} raft_server_private_t;

/* The level raft_set_log_level sets. */
extern raft_loglevel_e raft_loglevel;

int raft_become_candidate(raft_server_t *me);
int raft_become_prevoted_candidate(raft_server_t *me_);
int raft_is_prevoted_candidate(raft_server_t *me_);

/* Draw a new effective election timeout. */
void raft_randomize_election_timeout(raft_server_t *me_);

int raft_send_requestvote(raft_server_t *me, raft_node_t *node);

int raft_send_appendentries(raft_server_t *me, raft_node_t *node);

int raft_send_appendentries_all(raft_server_t *me_);

int raft_send_installsnapshot(raft_server_t *me_, raft_node_t *node);

/* Apply the entry after last_applied_idx. 0, -1 (nothing to apply) or RAFT_ERR_SHUTDOWN. */
int raft_apply_entry(raft_server_t *me_);

int raft_append_entries(raft_server_t *me, raft_entry_t *entries, int *n);

void raft_set_last_applied_idx(raft_server_t *me, raft_index_t idx);

void raft_set_state(raft_server_t *me_, int state);

int raft_get_state(raft_server_t *me_);

int raft_is_self(raft_server_t *me_, raft_node_t *node);

raft_node_t *raft_node_new(void *udata, raft_node_id_t id);

void raft_node_free(raft_node_t *me_);

void raft_node_set_next_idx(raft_node_t *node, raft_index_t nextIdx);

void raft_node_set_match_idx(raft_node_t *node, raft_index_t matchIdx);

raft_index_t raft_node_get_match_idx(raft_node_t *me_);

void raft_node_vote_for_me(raft_node_t *me_, const int vote);

int raft_node_has_vote_for_me(raft_node_t *me_);

void raft_node_set_has_sufficient_logs(raft_node_t *me_);

void raft_node_set_lease(raft_node_t *me_, raft_time_t lease);

void raft_node_set_effective_time(raft_node_t *me_, raft_time_t effective_time);

raft_time_t raft_node_get_effective_time(raft_node_t *me_);

int raft_votes_is_majority(const int nnodes, const int nvotes);

int raft_count_votes(raft_server_t *me_);

/* Apply the membership effect of entries [idx, idx + n_entries) being appended. */
void raft_offer_log(raft_server_t *me_, raft_entry_t *entries, int n_entries, raft_index_t idx);

/* Undo it for entries being removed from the tail (last to first). */
void raft_pop_log(raft_server_t *me_, raft_entry_t *entries, int n_entries, raft_index_t idx);

raft_index_t raft_get_num_snapshottable_logs(raft_server_t *me_);

/* Nonzero (and *term set) when the term of idx is known (held, or the snapshot base). */
int raft_get_entry_term(raft_server_t *me_, raft_index_t idx, raft_term_t *term);

/* Further functions the library defines (and exports) without upstream declaring them. */
int raft_delete_entry_from_idx(raft_server_t *me_, raft_index_t idx);
raft_node_t *raft_add_node_internal(raft_server_t *me_, raft_entry_t *ety, void *udata,
				    raft_node_id_t id, int is_self);
raft_entry_t *raft_get_entries_from_idx(raft_server_t *me_, raft_index_t idx, int *n_etys);
int raft_voting_change_is_in_progress(raft_server_t *me_);
int raft_is_connected(raft_server_t *me_);

#endif /* RAFT_PRIVATE_H_ */
