/*
 * oxidaos raft: the public API of DAOS's raft library (daos-stack/raft, as pinned by DAOS in
 * src/rdb/raft), implemented in Rust with the same types, layouts, constants and behaviour.
 *
 * A server is driven entirely by its caller: messages arrive through raft_recv_*, time passes
 * through raft_periodic, and everything the server needs from the outside (sending, storage,
 * clock, randomness) goes through the callbacks of raft_cbs_t.
 */
#ifndef RAFT_H_
#define RAFT_H_

#include "raft_types.h"

/* Error returns. */
typedef enum {
	RAFT_ERR_NOT_LEADER              = -2,
	RAFT_ERR_ONE_VOTING_CHANGE_ONLY  = -3,
	RAFT_ERR_SHUTDOWN                = -4,
	RAFT_ERR_NOMEM                   = -5,
	RAFT_ERR_NEEDS_SNAPSHOT          = -6,
	RAFT_ERR_SNAPSHOT_IN_PROGRESS    = -7,
	RAFT_ERR_SNAPSHOT_ALREADY_LOADED = -8,
	RAFT_ERR_INVALID_CFG_CHANGE      = -9,
	RAFT_ERR_MIGHT_VIOLATE_LEASE     = -10,
	RAFT_ERR_LAST                    = -100,
} raft_error_e;

/* Levels of the messages given to the log callback. */
typedef enum {
	RAFT_LOG_ERROR,
	RAFT_LOG_INFO,
	RAFT_LOG_DEBUG,
} raft_loglevel_e;

/* What notify_membership_event reports. */
typedef enum {
	RAFT_MEMBERSHIP_ADD,
	RAFT_MEMBERSHIP_REMOVE,
} raft_membership_e;

/* Values of msg_requestvote_response_t.vote_granted. */
#define RAFT_REQUESTVOTE_ERR_GRANTED		1
#define RAFT_REQUESTVOTE_ERR_NOT_GRANTED	0
#define RAFT_REQUESTVOTE_ERR_UNKNOWN_NODE	-1

typedef enum {
	RAFT_STATE_NONE,
	RAFT_STATE_FOLLOWER,
	RAFT_STATE_CANDIDATE,
	RAFT_STATE_LEADER
} raft_state_e;

/* Kinds of log entries. All but NORMAL change the membership when appended; applications may
 * use their own kinds above RAFT_LOGTYPE_NUM. */
typedef enum {
	RAFT_LOGTYPE_NORMAL,			/* application data */
	RAFT_LOGTYPE_ADD_NONVOTING_NODE,	/* add a learner that catches up before voting */
	RAFT_LOGTYPE_ADD_NODE,			/* add a voting member */
	RAFT_LOGTYPE_DEMOTE_NODE,		/* voting member -> non-voting */
	RAFT_LOGTYPE_REMOVE_NODE,		/* remove a voting member */
	RAFT_LOGTYPE_PROMOTE_NODE,		/* non-voting -> voting member */
	RAFT_LOGTYPE_REMOVE_NONVOTING_NODE,	/* remove a non-voting member */
	RAFT_LOGTYPE_NUM = 100,
} raft_logtype_e;

/* Payload of an entry: raft stores the pointer, never the bytes. */
typedef struct {
	void		*buf;
	unsigned int	 len;
} raft_entry_data_t;

/* One entry of the replicated log. */
typedef struct {
	raft_term_t		term;	/* term of the leader that created it */
	raft_entry_id_t		id;	/* caller's identifier */
	int			type;	/* raft_logtype_e or an application kind */
	raft_entry_data_t	data;
} raft_entry_t;

/* A client's request to append an entry. */
typedef raft_entry_t msg_entry_t;

/* Where a client's entry went, for raft_msg_entry_response_committed. */
typedef struct {
	raft_entry_id_t	id;
	raft_term_t	term;
	raft_index_t	idx;
} msg_entry_response_t;

/* RequestVote (or PreVote, when prevote is set). */
typedef struct {
	raft_term_t	term;
	raft_node_id_t	candidate_id;
	raft_index_t	last_log_idx;
	raft_term_t	last_log_term;
	int		prevote;
} msg_requestvote_t;

/* Answer to a RequestVote: vote_granted is one of RAFT_REQUESTVOTE_ERR_*. */
typedef struct {
	raft_term_t	term;
	int		vote_granted;
	int		prevote;
} msg_requestvote_response_t;

/* AppendEntries; with no entries it is a heartbeat. */
typedef struct {
	raft_term_t	 term;
	raft_index_t	 prev_log_idx;
	raft_term_t	 prev_log_term;
	raft_index_t	 leader_commit;
	int		 n_entries;
	msg_entry_t	*entries;
} msg_appendentries_t;

/* Answer to AppendEntries. current_idx is the last index known to match on success and the
 * follower's last index on failure; first_idx echoes prev_log_idx + 1; lease is when the
 * follower's promise not to vote for another leader expires. */
typedef struct {
	raft_term_t	term;
	int		success;
	raft_time_t	lease;
	raft_index_t	current_idx;
	raft_index_t	first_idx;
} msg_appendentries_response_t;

/* InstallSnapshot: the snapshot covers the log up to (last_idx, last_term). */
typedef struct {
	raft_term_t	term;
	raft_index_t	last_idx;
	raft_term_t	last_term;
} msg_installsnapshot_t;

typedef struct {
	raft_term_t	term;
	raft_index_t	last_idx;
	int		complete;	/* the whole snapshot has arrived */
	raft_time_t	lease;
} msg_installsnapshot_response_t;

/* Opaque handles. */
typedef void *raft_server_t;
typedef void *raft_node_t;

/* Send a RequestVote to node; 0 on success. */
typedef int (*func_send_requestvote_f)(raft_server_t *raft, void *user_data, raft_node_t *node,
				       msg_requestvote_t *msg);

/* Send an AppendEntries to node; 0 on success. */
typedef int (*func_send_appendentries_f)(raft_server_t *raft, void *user_data, raft_node_t *node,
					 msg_appendentries_t *msg);

/* Start sending the snapshot to node; 0 on success. */
typedef int (*func_send_installsnapshot_f)(raft_server_t *raft, void *user_data,
					   raft_node_t *node, msg_installsnapshot_t *msg);

/* A chunk of a snapshot arrived: 0 if taken, 1 if the snapshot is now complete, <0 error. */
typedef int (*func_recv_installsnapshot_f)(raft_server_t *raft, void *user_data,
					   raft_node_t *node, msg_installsnapshot_t *msg,
					   msg_installsnapshot_response_t *r);

/* The leader got an InstallSnapshot answer; 0 to go on, or an error. */
typedef int (*func_recv_installsnapshot_response_f)(raft_server_t *raft, void *user_data,
						    raft_node_t *node,
						    msg_installsnapshot_response_t *r);

/* A non-voting node has caught up (only while no configuration change is pending); return 0
 * to stop being told, -1 to be told again. */
typedef int (*func_node_has_sufficient_logs_f)(raft_server_t *raft, void *user_data,
					       raft_node_t *node);

#ifndef HAVE_FUNC_LOG
#define HAVE_FUNC_LOG
/* A debug message; node may be NULL. Optional. */
typedef void (*func_log_f)(raft_server_t *raft, raft_node_t *node, void *user_data,
			   raft_loglevel_e level, const char *buf);
#endif

/* Durably record our vote; 0 on success. */
typedef int (*func_persist_vote_f)(raft_server_t *raft, void *user_data, raft_node_id_t vote);

/* Durably and atomically record a new term with the vote reset to vote; 0 on success. */
typedef int (*func_persist_term_f)(raft_server_t *raft, void *user_data, raft_term_t term,
				   raft_node_id_t vote);

/* A batch of entries [entry_idx, entry_idx + *n_entries) is being offered, polled or popped.
 * The callee may change the data pointers (and must when they are temporary) and may lower
 * *n_entries to the number it handled. 0 on success. */
typedef int (*func_logentries_event_f)(raft_server_t *raft, void *user_data,
				       raft_entry_t *entries, raft_index_t entry_idx,
				       int *n_entries);

/* One entry at entry_idx (applying). */
typedef int (*func_logentry_event_f)(raft_server_t *raft, void *user_data, raft_entry_t *entry,
				     raft_index_t entry_idx);

/* The node a configuration entry is about; entry_idx is 0 when unknown. */
typedef raft_node_id_t (*func_get_node_id_f)(raft_server_t *raft, void *user_data,
					     raft_entry_t *entry, raft_index_t entry_idx);

/* A node was added, or is about to be removed; entry may be NULL. Optional. */
typedef void (*func_membership_event_f)(raft_server_t *raft, void *user_data, raft_node_t *node,
					raft_entry_t *entry, raft_membership_e type);

/* The current time in milliseconds. */
typedef raft_time_t (*func_get_time_f)(raft_server_t *raft, void *user_data);

/* A pseudo-random number in [0, 1). Optional (rand() otherwise). */
typedef double (*func_get_rand_f)(raft_server_t *raft, void *user_data);

/* Everything a server asks of its caller. */
typedef struct {
	func_send_requestvote_f			send_requestvote;
	func_send_appendentries_f		send_appendentries;
	func_send_installsnapshot_f		send_installsnapshot;
	func_recv_installsnapshot_f		recv_installsnapshot;
	func_recv_installsnapshot_response_f	recv_installsnapshot_response;
	/* apply a committed entry; RAFT_ERR_SHUTDOWN stops the server */
	func_logentry_event_f			applylog;
	func_persist_vote_f			persist_vote;
	func_persist_term_f			persist_term;
	/* entries appended (must be durable on return) */
	func_logentries_event_f			log_offer;
	/* entries compacted from the head, oldest first */
	func_logentries_event_f			log_poll;
	/* entries removed from the tail, newest batch first */
	func_logentries_event_f			log_pop;
	func_get_node_id_f			log_get_node_id;
	func_node_has_sufficient_logs_f		node_has_sufficient_logs;
	func_membership_event_f			notify_membership_event;
	func_log_f				log;
	func_get_time_f				get_time;
	func_get_rand_f				get_rand;
} raft_cbs_t;

typedef struct {
	void *udata_address;
} raft_node_configuration_t;

/* Messages of this level and more important reach the log callback (default RAFT_LOG_INFO). */
void raft_set_log_level(raft_loglevel_e level);

/* A new follower: term 0, no vote, request timeout 200 ms, election timeout 1000 ms. NULL when
 * out of memory. */
raft_server_t *raft_new(void);

void raft_free(raft_server_t *me);

/* Reset to the state of a new server (nodes are forgotten, the log emptied). */
void raft_clear(raft_server_t *me);

/* Install the callbacks (copied) and user data; calls get_time to start the clocks. */
void raft_set_callbacks(raft_server_t *me, raft_cbs_t *funcs, void *user_data);

/* Add a voting node; is_self marks this server. NULL if the id is already known. */
raft_node_t *raft_add_node(raft_server_t *me, void *user_data, raft_node_id_t id, int is_self);

#define raft_add_peer raft_add_node

/* Add a non-voting node. NULL if the id is already known. */
raft_node_t *raft_add_non_voting_node(raft_server_t *me_, void *udata, raft_node_id_t id,
				      int is_self);

void raft_remove_node(raft_server_t *me_, raft_node_t *node);

/* Election timeout in ms; the effective one is drawn from [msec, 2 * msec). */
void raft_set_election_timeout(raft_server_t *me, int msec);

/* Interval in ms between a leader's AppendEntries rounds. */
void raft_set_request_timeout(raft_server_t *me, int msec);

/* Time in ms a leader is given to renew an expired lease before it steps down. */
void raft_set_lease_maintenance_grace(raft_server_t *me, int msec);

/* This is the first start of the (persistent) server, so it cannot have granted a lease. */
void raft_set_first_start(raft_server_t *me);

/* Let time pass: elections, heartbeats, lease checks, applying committed entries.
 * 0, -1, RAFT_ERR_SHUTDOWN or a callback's error. */
int raft_periodic(raft_server_t *me);

/* Handle an AppendEntries from node and fill the answer. Entry data pointers are stored as
 * they are (log_offer may replace them). 0, RAFT_ERR_SHUTDOWN, or a callback's error. */
int raft_recv_appendentries(raft_server_t *me, raft_node_t *node, msg_appendentries_t *ae,
			    msg_appendentries_response_t *r);

/* Handle an answer to our AppendEntries. 0, -1 (no node) or RAFT_ERR_NOT_LEADER. */
int raft_recv_appendentries_response(raft_server_t *me, raft_node_t *node,
				     msg_appendentries_response_t *r);

/* Handle a RequestVote and fill the answer. */
int raft_recv_requestvote(raft_server_t *me, raft_node_t *node, msg_requestvote_t *vr,
			  msg_requestvote_response_t *r);

/* Handle an answer to our RequestVote. 0 or RAFT_ERR_SHUTDOWN. */
int raft_recv_requestvote_response(raft_server_t *me, raft_node_t *node,
				   msg_requestvote_response_t *r);

int raft_recv_installsnapshot(raft_server_t *me, raft_node_t *node, msg_installsnapshot_t *is,
			      msg_installsnapshot_response_t *r);

int raft_recv_installsnapshot_response(raft_server_t *me, raft_node_t *node,
				       msg_installsnapshot_response_t *r);

/* A client's entry: append it (leader only) and replicate it. 0, RAFT_ERR_NOT_LEADER,
 * RAFT_ERR_SHUTDOWN, RAFT_ERR_ONE_VOTING_CHANGE_ONLY, RAFT_ERR_SNAPSHOT_IN_PROGRESS,
 * RAFT_ERR_INVALID_CFG_CHANGE or RAFT_ERR_NOMEM. */
int raft_recv_entry(raft_server_t *me, msg_entry_t *ety, msg_entry_response_t *r);

/* Nonzero when leader and a majority of voting nodes' leases are unexpired (no grace). */
int raft_has_majority_leases(raft_server_t *me_);

/* Set our node id, right after raft_new or raft_clear. */
void raft_set_nodeid(raft_server_t *me, raft_node_id_t id);

/* Our node id; -1 when unknown. */
raft_node_id_t raft_get_nodeid(raft_server_t *me);

raft_node_t *raft_get_my_node(raft_server_t *me_);

int raft_get_election_timeout(raft_server_t *me);

int raft_get_num_nodes(raft_server_t *me);

int raft_get_num_voting_nodes(raft_server_t *me_);

raft_index_t raft_get_log_count(raft_server_t *me);

raft_term_t raft_get_current_term(raft_server_t *me);

raft_index_t raft_get_current_idx(raft_server_t *me);

raft_index_t raft_get_commit_idx(raft_server_t *me_);

int raft_is_follower(raft_server_t *me);

int raft_is_leader(raft_server_t *me);

int raft_is_candidate(raft_server_t *me);

/* Milliseconds since the election timer was last reset. */
int raft_get_timeout_elapsed(raft_server_t *me);

int raft_get_request_timeout(raft_server_t *me);

int raft_get_lease_maintenance_grace(raft_server_t *me);

raft_index_t raft_get_last_applied_idx(raft_server_t *me);

raft_index_t raft_node_get_next_idx(raft_node_t *node);

raft_index_t raft_node_get_match_idx(raft_node_t *me);

void *raft_node_get_udata(raft_node_t *me);

/* When this node's lease (as last reported to the leader) expires. */
raft_time_t raft_node_get_lease(raft_node_t *me_);

void raft_node_set_udata(raft_node_t *me, void *user_data);

/* The entry at idx; NULL when not held. */
raft_entry_t *raft_get_entry_from_idx(raft_server_t *me, raft_index_t idx);

/* The node with this id; NULL when unknown. */
raft_node_t *raft_get_node(raft_server_t *me_, const raft_node_id_t id);

/* The idx-th node, for iterating; NULL out of range. */
raft_node_t *raft_get_node_from_idx(raft_server_t *me_, const int idx);

/* Votes this server has received in the current election. */
int raft_get_nvotes_for_me(raft_server_t *me);

/* Who we voted for in the current term; -1 for nobody. */
raft_node_id_t raft_get_voted_for(raft_server_t *me);

/* The leader as far as we know; -1 when unknown. */
raft_node_id_t raft_get_current_leader(raft_server_t *me);

raft_node_t *raft_get_current_leader_node(raft_server_t *me);

void *raft_get_udata(raft_server_t *me);

/* Restore our persisted vote (persist_vote is called). 0 on success. */
int raft_vote(raft_server_t *me_, raft_node_t *node);

int raft_vote_for_nodeid(raft_server_t *me_, const raft_node_id_t nodeid);

/* Restore our persisted term (persist_term is called if it grows). 0 on success. */
int raft_set_current_term(raft_server_t *me, const raft_term_t term);

/* Restore the commit index. */
void raft_set_commit_idx(raft_server_t *me, raft_index_t commit_idx);

/* Append entries (used to reload the log). *n becomes the number appended.
 * 0, RAFT_ERR_SHUTDOWN, RAFT_ERR_NOMEM or log_offer's error. */
int raft_append_entries(raft_server_t *me, raft_entry_t *entries, int *n);

/* 1 if the entry is committed, 0 if not yet, -1 if overwritten or unknowable. */
int raft_msg_entry_response_committed(raft_server_t *me_, const msg_entry_response_t *r);

/* The node's id; -1 for NULL. */
raft_node_id_t raft_node_get_id(raft_node_t *me_);

/* One of raft_state_e. */
int raft_get_state(raft_server_t *me_);

/* Term of our newest entry (or of the snapshot base). */
raft_term_t raft_get_last_log_term(raft_server_t *me_);

void raft_node_set_voting(raft_node_t *node, int voting);

int raft_node_is_voting(raft_node_t *me_);

int raft_node_has_sufficient_logs(raft_node_t *me_);

/* Apply every committed entry not applied yet. 0 or RAFT_ERR_SHUTDOWN. */
int raft_apply_all(raft_server_t *me_);

/* Become leader at once (unsafe outside tests and recovery). */
void raft_become_leader(raft_server_t *me);

/* Step down to follower, keeping the term. */
void raft_become_follower(raft_server_t *me);

int raft_election_start(raft_server_t *me);

int raft_entry_is_voting_cfg_change(raft_entry_t *ety);

int raft_entry_is_cfg_change(raft_entry_t *ety);

/* Start a snapshot of the log up to idx (committed). Until raft_end_snapshot nothing is
 * applied and no election starts. 0 or -1. */
int raft_begin_snapshot(raft_server_t *me_, raft_index_t idx);

/* Compact the log up to the snapshot index (log_poll). 0 or -1. */
int raft_end_snapshot(raft_server_t *me_);

/* Declared by upstream without a definition; kept for source compatibility. */
raft_index_t raft_get_snapshot_entry_idx(raft_server_t *me_);

int raft_snapshot_is_in_progress(raft_server_t *me_);

raft_entry_t *raft_get_last_applied_entry(raft_server_t *me_);

raft_index_t raft_get_first_entry_idx(raft_server_t *me_);

/* A snapshot ending at (last_included_term, last_included_index) is being loaded: the log is
 * reset to it and every node removed (the caller re-adds them from the snapshot).
 * 0, -1 or RAFT_ERR_SNAPSHOT_ALREADY_LOADED. */
int raft_begin_load_snapshot(raft_server_t *me_, raft_term_t last_included_term,
			     raft_index_t last_included_index);

/* Finish loading: voting nodes count as caught up. 0. */
int raft_end_load_snapshot(raft_server_t *me_);

raft_index_t raft_get_snapshot_last_idx(raft_server_t *me_);

raft_term_t raft_get_snapshot_last_term(raft_server_t *me_);

void raft_set_snapshot_metadata(raft_server_t *me_, raft_term_t term, raft_index_t idx);

#endif /* RAFT_H_ */
