/* The raft server through its C API: defaults, timing, callback order, return codes, and a
 * three-node cluster replicating entries over an in-memory network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <raft.h>
#include <raft_log.h>
#include <raft_private.h>

/* ---- a tiny deterministic world ----------------------------------------------------------- */

#define NNODES 3
#define QMAX 4096

enum { M_RV, M_RVR, M_AE, M_AER };

struct msg {
	int type, from, to;
	msg_requestvote_t rv;
	msg_requestvote_response_t rvr;
	msg_appendentries_t ae;
	msg_appendentries_response_t aer;
};

struct world {
	raft_time_t now;
	double rnd;
	raft_server_t *srv[NNODES];
	struct msg q[QMAX];
	int qn;
	char trace[4096];	/* callbacks in order, for the order tests */
	int applied[NNODES];
	int sends_ae;
};

static struct world W;

static int
me_of(raft_server_t *r)
{
	return (int)(intptr_t)raft_get_udata(r);
}

static void
trace(const char *fmt, ...)
{
	va_list ap;
	size_t len = strlen(W.trace);

	va_start(ap, fmt);
	vsnprintf(W.trace + len, sizeof(W.trace) - len, fmt, ap);
	va_end(ap);
}

static raft_time_t
cb_time(raft_server_t *r, void *u)
{
	(void)r;
	(void)u;
	return W.now;
}

static double
cb_rand(raft_server_t *r, void *u)
{
	(void)r;
	(void)u;
	return W.rnd;
}

static int
cb_send_rv(raft_server_t *r, void *u, raft_node_t *node, msg_requestvote_t *m)
{
	struct msg *q = &W.q[W.qn++];

	(void)u;
	assert_true(W.qn < QMAX);
	q->type = M_RV;
	q->from = me_of(r);
	q->to = (int)raft_node_get_id(node);
	q->rv = *m;
	trace("rv%s>%d;", m->prevote ? "p" : "", q->to);
	return 0;
}

static int
cb_send_ae(raft_server_t *r, void *u, raft_node_t *node, msg_appendentries_t *m)
{
	struct msg *q = &W.q[W.qn++];

	(void)u;
	assert_true(W.qn < QMAX);
	W.sends_ae++;
	q->type = M_AE;
	q->from = me_of(r);
	q->to = (int)raft_node_get_id(node);
	q->ae = *m;
	/* The entries array belongs to the sender's log: copy it. */
	if (m->n_entries > 0) {
		q->ae.entries = malloc(sizeof(*m->entries) * m->n_entries);
		memcpy(q->ae.entries, m->entries, sizeof(*m->entries) * m->n_entries);
	}
	return 0;
}

static int
cb_persist_vote(raft_server_t *r, void *u, raft_node_id_t v)
{
	(void)u;
	trace("vote%d:%ld;", me_of(r), v);
	return 0;
}

static int
cb_persist_term(raft_server_t *r, void *u, raft_term_t t, raft_node_id_t v)
{
	(void)u;
	trace("term%d:%ld/%ld;", me_of(r), t, v);
	return 0;
}

static int
cb_offer(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx, int *n)
{
	(void)u;
	(void)e;
	trace("offer%d:%ld+%d;", me_of(r), idx, *n);
	return 0;
}

static int
cb_apply(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx)
{
	(void)u;
	(void)e;
	W.applied[me_of(r)]++;
	trace("apply%d:%ld;", me_of(r), idx);
	return 0;
}

static raft_node_id_t
cb_node_id(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx)
{
	(void)r;
	(void)u;
	(void)idx;
	return e->data.len;	/* tests put the node id in data.len */
}

static raft_cbs_t cbs = {
	.send_requestvote = cb_send_rv,
	.send_appendentries = cb_send_ae,
	.applylog = cb_apply,
	.persist_vote = cb_persist_vote,
	.persist_term = cb_persist_term,
	.log_offer = cb_offer,
	.log_get_node_id = cb_node_id,
	.get_time = cb_time,
	.get_rand = cb_rand,
};

static int
setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	W.rnd = 0.5;
	for (int i = 0; i < NNODES; i++) {
		W.srv[i] = raft_new();
		raft_set_callbacks(W.srv[i], &cbs, (void *)(intptr_t)i);
		/* Draw the effective timeout with get_rand (0.5): 1500 ms. */
		raft_set_election_timeout(W.srv[i], 1000);
		for (int j = 0; j < NNODES; j++)
			raft_add_node(W.srv[i], NULL, j, i == j);
		raft_set_first_start(W.srv[i]);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < W.qn; i++)
		if (W.q[i].type == M_AE)
			free(W.q[i].ae.entries);
	for (int i = 0; i < NNODES; i++)
		raft_free(W.srv[i]);
	return 0;
}

/* Delivers every queued message (and the answers they cause) in order. */
static void
deliver_all(void)
{
	for (int i = 0; i < W.qn; i++) {
		struct msg m = W.q[i];
		raft_server_t *to;
		raft_node_t *from;
		struct msg *a;

		if (m.to >= NNODES) {	/* a node added by a test, not simulated */
			if (m.type == M_AE)
				free(m.ae.entries);
			W.q[i].ae.entries = NULL;
			continue;
		}
		to = W.srv[m.to];
		from = raft_get_node(to, m.from);

		switch (m.type) {
		case M_RV:
			a = &W.q[W.qn++];
			a->type = M_RVR;
			a->from = m.to;
			a->to = m.from;
			assert_int_equal(raft_recv_requestvote(to, from, &m.rv, &a->rvr), 0);
			break;
		case M_RVR:
			raft_recv_requestvote_response(to, from, &m.rvr);
			break;
		case M_AE:
			a = &W.q[W.qn++];
			a->type = M_AER;
			a->from = m.to;
			a->to = m.from;
			assert_int_equal(raft_recv_appendentries(to, from, &m.ae, &a->aer), 0);
			free(m.ae.entries);
			W.q[i].ae.entries = NULL;
			break;
		case M_AER:
			raft_recv_appendentries_response(to, from, &m.aer);
			break;
		}
	}
	W.qn = 0;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_defaults(void **state)
{
	raft_server_t *r = raft_new();
	raft_server_private_t *p = (raft_server_private_t *)r;

	(void)state;
	assert_int_equal(raft_get_state(r), RAFT_STATE_FOLLOWER);
	assert_true(raft_is_follower(r));
	assert_int_equal(raft_get_current_term(r), 0);
	assert_int_equal(raft_get_voted_for(r), -1);
	assert_int_equal(raft_get_current_leader(r), -1);
	assert_int_equal(raft_get_nodeid(r), -1);
	assert_int_equal(raft_get_election_timeout(r), 1000);
	assert_int_equal(raft_get_request_timeout(r), 200);
	assert_int_equal(raft_get_lease_maintenance_grace(r), 0);
	assert_int_equal(raft_get_current_idx(r), 0);
	assert_int_equal(raft_get_commit_idx(r), 0);
	assert_int_equal(raft_get_num_nodes(r), 0);
	assert_int_equal(p->voting_cfg_change_log_idx, -1);
	/* Without get_rand the effective timeout comes from rand(): in [1000, 2000). */
	assert_true(p->election_timeout_rand >= 1000 && p->election_timeout_rand < 2000);
	raft_free(r);
}

static void
test_timeout_randomisation(void **state)
{
	raft_server_private_t *p = (raft_server_private_t *)W.srv[0];

	(void)state;
	W.rnd = 0.25;
	raft_set_election_timeout(W.srv[0], 400);
	assert_int_equal(p->election_timeout_rand, 500);
	W.rnd = 0.999;
	raft_randomize_election_timeout(W.srv[0]);
	assert_int_equal(p->election_timeout_rand, 799);
	raft_set_request_timeout(W.srv[0], 77);
	assert_int_equal(raft_get_request_timeout(W.srv[0]), 77);
}

static void
test_election_callback_order(void **state)
{
	(void)state;
	/* 1.5 s (timeout 1000 * (1 + 0.5)) must pass before node 0 starts an election. */
	W.now = 1499;
	assert_int_equal(raft_periodic(W.srv[0]), 0);
	assert_true(raft_is_follower(W.srv[0]));
	W.now = 1500;
	assert_int_equal(raft_periodic(W.srv[0]), 0);
	assert_true(raft_is_candidate(W.srv[0]));
	assert_false(raft_is_prevoted_candidate(W.srv[0]));
	/* Prevotes go out without touching the term. */
	assert_string_equal(W.trace, "rvp>1;rvp>2;");
	W.trace[0] = '\0';
	deliver_all();
	/* One granted prevote is a majority: term 1 persisted, then our vote, then requests. */
	assert_non_null(strstr(W.trace, "term0:1/-1;vote0:0;rv>1;rv>2;"));
	/* A voter persists the new term before its vote. */
	assert_non_null(strstr(W.trace, "term1:1/-1;vote1:0;"));
	/* deliver_all also delivered the answers: the vote was won and heartbeats went out. */
	assert_true(raft_is_leader(W.srv[0]));
	assert_int_equal(raft_get_current_term(W.srv[0]), 1);
	assert_int_equal(raft_get_voted_for(W.srv[1]), 0);
	assert_int_equal(raft_get_current_leader(W.srv[1]), 0);
	assert_int_equal(raft_get_current_leader(W.srv[0]), 0);
}

static void
become_leader0(void)
{
	W.now = 1500;
	raft_periodic(W.srv[0]);
	for (int i = 0; i < 4; i++)
		deliver_all();
	assert_true(raft_is_leader(W.srv[0]));
}

static void
test_replication_and_apply_order(void **state)
{
	msg_entry_t e;
	msg_entry_response_t resp;

	(void)state;
	become_leader0();
	W.trace[0] = '\0';
	for (int i = 0; i < 5; i++) {
		memset(&e, 0, sizeof(e));
		e.id = 100 + i;
		assert_int_equal(raft_recv_entry(W.srv[0], &e, &resp), 0);
		assert_int_equal(resp.idx, i + 1);
		assert_int_equal(resp.term, 1);
		assert_int_equal(resp.id, 100 + i);
		assert_int_equal(raft_msg_entry_response_committed(W.srv[0], &resp), 0);
	}
	deliver_all();
	deliver_all();
	assert_int_equal(raft_get_commit_idx(W.srv[0]), 5);
	assert_int_equal(raft_msg_entry_response_committed(W.srv[0], &resp), 1);
	/* Applying is lazy: periodic does it. */
	assert_int_equal(W.applied[0], 0);
	W.now += 10;
	assert_int_equal(raft_periodic(W.srv[0]), 0);
	assert_int_equal(W.applied[0], 5);
	assert_int_equal(raft_get_last_applied_idx(W.srv[0]), 5);
	assert_non_null(strstr(W.trace, "apply0:1;apply0:2;apply0:3;apply0:4;apply0:5;"));
	/* Followers learn the commit index with the next heartbeat (request timeout 200). */
	W.sends_ae = 0;
	W.now += 189;
	raft_periodic(W.srv[0]);
	assert_int_equal(W.sends_ae, 0);
	W.now += 1;
	raft_periodic(W.srv[0]);
	assert_int_equal(W.sends_ae, 2);
	deliver_all();
	raft_periodic(W.srv[1]);
	raft_periodic(W.srv[2]);
	assert_int_equal(W.applied[1], 5);
	assert_int_equal(W.applied[2], 5);
	assert_int_equal(raft_get_entry_from_idx(W.srv[2], 3)->id, 102);
}

static void
test_error_codes(void **state)
{
	msg_entry_t e;
	msg_entry_response_t resp;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(raft_recv_entry(W.srv[1], &e, &resp), RAFT_ERR_NOT_LEADER);
	become_leader0();

	/* Adding a node that exists, or changing the leader itself. */
	e.type = RAFT_LOGTYPE_ADD_NODE;
	e.data.len = 2;
	assert_int_equal(raft_recv_entry(W.srv[0], &e, &resp), RAFT_ERR_INVALID_CFG_CHANGE);
	e.type = RAFT_LOGTYPE_REMOVE_NODE;
	e.data.len = 0;
	assert_int_equal(raft_recv_entry(W.srv[0], &e, &resp), RAFT_ERR_INVALID_CFG_CHANGE);

	/* One voting change at a time. */
	e.type = RAFT_LOGTYPE_ADD_NODE;
	e.data.len = 7;
	assert_int_equal(raft_recv_entry(W.srv[0], &e, &resp), 0);
	assert_int_equal(raft_get_num_nodes(W.srv[0]), 4);
	assert_true(raft_voting_change_is_in_progress(W.srv[0]));
	e.data.len = 8;
	assert_int_equal(raft_recv_entry(W.srv[0], &e, &resp), RAFT_ERR_ONE_VOTING_CHANGE_ONLY);

	/* No membership change while a snapshot is being taken. */
	deliver_all();
	deliver_all();
	assert_int_equal(raft_get_commit_idx(W.srv[0]), 1);
	assert_int_equal(raft_begin_snapshot(W.srv[0], 1), 0);
	assert_true(raft_snapshot_is_in_progress(W.srv[0]));
	e.type = RAFT_LOGTYPE_ADD_NONVOTING_NODE;
	e.data.len = 9;
	assert_int_equal(raft_recv_entry(W.srv[0], &e, &resp), RAFT_ERR_SNAPSHOT_IN_PROGRESS);
	assert_int_equal(raft_end_snapshot(W.srv[0]), 0);
	assert_int_equal(raft_end_snapshot(W.srv[0]), -1);
	assert_int_equal(raft_get_snapshot_last_idx(W.srv[0]), 1);

	/* Loading the same snapshot twice. */
	assert_int_equal(raft_begin_load_snapshot(W.srv[2], 1, 5), 0);
	assert_int_equal(raft_get_num_nodes(W.srv[2]), 0);
	assert_int_equal(raft_get_commit_idx(W.srv[2]), 5);
	assert_int_equal(raft_begin_load_snapshot(W.srv[2], 1, 5), RAFT_ERR_SNAPSHOT_ALREADY_LOADED);
	assert_int_equal(raft_begin_load_snapshot(W.srv[2], 1, -1), -1);
	assert_int_equal(raft_begin_load_snapshot(W.srv[2], 2, 4), -1);
	assert_int_equal(raft_end_load_snapshot(W.srv[2]), 0);
}

static void
test_lease_blocks_restarted_candidate(void **state)
{
	raft_server_t *r = raft_new();

	(void)state;
	W.now = 10000;
	raft_set_callbacks(r, &cbs, (void *)(intptr_t)0);
	raft_add_node(r, NULL, 0, 1);
	raft_add_node(r, NULL, 1, 0);
	/* Not a first start: a lease granted before the restart may still run. */
	assert_int_equal(raft_become_candidate(r), RAFT_ERR_MIGHT_VIOLATE_LEASE);
	W.now += 1000;
	assert_int_equal(raft_become_candidate(r), 0);
	assert_true(raft_is_candidate(r));
	raft_free(r);
	W.qn = 0;
}

static void
test_leader_leases_and_step_down(void **state)
{
	(void)state;
	become_leader0();
	assert_true(raft_has_majority_leases(W.srv[0]));
	/* Nobody answers for longer than the election timeout: the leader steps down. */
	W.qn = 0;
	W.now += 999;
	raft_periodic(W.srv[0]);
	assert_true(raft_is_leader(W.srv[0]));
	W.qn = 0;
	W.now += 2000;
	assert_false(raft_has_majority_leases(W.srv[0]));
	raft_periodic(W.srv[0]);
	assert_true(raft_is_follower(W.srv[0]));
	assert_int_equal(raft_get_current_leader(W.srv[0]), -1);
	assert_false(raft_has_majority_leases(W.srv[0]));
}

static void
test_null_and_bad_input(void **state)
{
	msg_entry_t e;
	msg_appendentries_response_t aer;
	raft_node_t *n = raft_node_new(NULL, 42);

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(&aer, 0, sizeof(aer));
	assert_int_equal(raft_node_get_id(NULL), -1);
	assert_int_equal(raft_node_get_id(n), 42);
	assert_int_equal(raft_node_get_next_idx(n), 1);
	raft_node_set_next_idx(n, 0);
	assert_int_equal(raft_node_get_next_idx(n), 1);
	raft_node_free(n);
	assert_int_equal(raft_get_current_term(NULL), 0);
	assert_int_equal(raft_recv_entry(NULL, &e, NULL), -1);
	assert_null(raft_get_node(NULL, 1));
	/* A response from no node is an error; from a non-leader RAFT_ERR_NOT_LEADER. */
	assert_int_equal(raft_recv_appendentries_response(W.srv[0], NULL, &aer), -1);
	assert_int_equal(raft_recv_appendentries_response(W.srv[0], raft_get_node(W.srv[0], 1), &aer),
			 RAFT_ERR_NOT_LEADER);
	assert_null(raft_get_node(W.srv[0], 99));
	assert_null(raft_get_node_from_idx(W.srv[0], 3));
	assert_null(raft_get_node_from_idx(W.srv[0], -1));
	assert_int_equal(raft_votes_is_majority(3, 2), 1);
	assert_int_equal(raft_votes_is_majority(4, 2), 0);
	assert_int_equal(raft_votes_is_majority(1, 2), 0);
}

static int n_add, n_remove;

static void
cb_membership(raft_server_t *r, void *u, raft_node_t *node, raft_entry_t *e, raft_membership_e type)
{
	(void)r;
	(void)u;
	trace("%s%ld/%d;", type == RAFT_MEMBERSHIP_ADD ? "add" : "rm", raft_node_get_id(node),
	      e ? e->id : -1);
	if (type == RAFT_MEMBERSHIP_ADD)
		n_add++;
	else
		n_remove++;
}

static void
test_membership_and_getters(void **state)
{
	raft_cbs_t c = cbs;
	raft_server_t *r = raft_new();
	raft_node_t *me, *learner, *n2;
	raft_entry_t ents[3], *p;
	msg_entry_response_t resp;
	int k, n;

	(void)state;
	c.notify_membership_event = cb_membership;
	n_add = n_remove = 0;
	W.trace[0] = '\0';
	raft_set_callbacks(r, &c, (void *)(intptr_t)0);
	me = raft_add_node(r, (void *)0x10, 1, 1);
	n2 = raft_add_node(r, NULL, 2, 0);
	assert_null(raft_add_node(r, NULL, 2, 0));
	learner = raft_add_non_voting_node(r, NULL, 3, 0);
	assert_null(raft_add_non_voting_node(r, NULL, 3, 0));
	assert_int_equal(n_add, 3);
	assert_string_equal(W.trace, "add1/-1;add2/-1;add3/-1;");
	assert_int_equal(raft_get_nodeid(r), 1);
	assert_ptr_equal(raft_get_my_node(r), me);
	assert_ptr_equal(raft_node_get_udata(me), (void *)0x10);
	raft_node_set_udata(me, (void *)0x20);
	assert_ptr_equal(raft_node_get_udata(me), (void *)0x20);
	assert_true(raft_is_self(r, me));
	assert_false(raft_is_self(r, n2));
	assert_false(raft_is_self(r, NULL));
	assert_int_equal(raft_get_num_nodes(r), 3);
	assert_int_equal(raft_get_num_voting_nodes(r), 2);
	assert_false(raft_node_is_voting(learner));
	assert_false(raft_node_has_sufficient_logs(learner));
	raft_node_set_has_sufficient_logs(learner);
	assert_true(raft_node_has_sufficient_logs(learner));
	assert_ptr_equal(raft_get_node_from_idx(r, 2), learner);
	raft_node_set_lease(n2, 50);
	raft_node_set_lease(n2, 40);
	assert_int_equal(raft_node_get_lease(n2), 50);
	raft_node_set_effective_time(n2, 7);
	assert_int_equal(raft_node_get_effective_time(n2), 7);
	raft_node_vote_for_me(n2, 1);
	assert_true(raft_node_has_vote_for_me(n2));
	assert_int_equal(raft_get_nvotes_for_me(r), 1);

	/* Membership entries take effect when appended, and are undone when popped. */
	memset(ents, 0, sizeof(ents));
	ents[0].term = 1;
	ents[0].id = 11;
	ents[0].type = RAFT_LOGTYPE_PROMOTE_NODE;
	ents[0].data.len = 3;
	ents[1].term = 1;
	ents[1].id = 12;
	ents[1].type = RAFT_LOGTYPE_ADD_NONVOTING_NODE;
	ents[1].data.len = 4;
	ents[2].term = 2;
	ents[2].id = 13;
	k = 3;
	W.trace[0] = '\0';
	assert_int_equal(raft_append_entries(r, ents, &k), 0);
	assert_int_equal(k, 3);
	assert_string_equal(W.trace, "offer0:1+3;add4/12;");
	assert_true(raft_node_is_voting(learner));
	assert_true(raft_voting_change_is_in_progress(r));
	assert_int_equal(raft_get_num_nodes(r), 4);
	assert_int_equal(raft_get_current_idx(r), 3);
	assert_int_equal(raft_get_last_log_term(r), 2);
	assert_int_equal(raft_get_first_entry_idx(r), 1);
	p = raft_get_entries_from_idx(r, 2, &n);
	assert_int_equal(n, 2);
	assert_int_equal(p->id, 12);
	W.trace[0] = '\0';
	assert_int_equal(raft_delete_entry_from_idx(r, 1), 0);
	assert_string_equal(W.trace, "rm4/-1;");
	assert_false(raft_node_is_voting(learner));
	assert_false(raft_voting_change_is_in_progress(r));
	assert_int_equal(raft_get_current_idx(r), 0);

	/* Commit/apply bookkeeping and what a client can learn from its response. */
	k = 3;
	ents[0].type = ents[1].type = RAFT_LOGTYPE_NORMAL;
	assert_int_equal(raft_append_entries(r, ents, &k), 0);
	raft_set_commit_idx(r, 2);
	assert_null(raft_get_last_applied_entry(r));
	assert_int_equal(raft_apply_all(r), 0);
	assert_int_equal(raft_get_last_applied_entry(r)->id, 12);
	assert_int_equal(raft_apply_entry(r), -1);
	raft_set_last_applied_idx(r, 1);
	assert_int_equal(raft_get_last_applied_idx(r), 1);
	raft_set_current_term(r, 2);
	resp.id = 13;
	resp.term = 2;
	resp.idx = 3;
	assert_int_equal(raft_msg_entry_response_committed(r, &resp), 0);
	resp.term = 1;
	assert_int_equal(raft_msg_entry_response_committed(r, &resp), -1);
	resp.idx = 9;
	assert_int_equal(raft_msg_entry_response_committed(r, &resp), 0);
	raft_set_snapshot_metadata(r, 1, 2);
	assert_int_equal(raft_get_snapshot_last_term(r), 1);
	assert_int_equal(raft_get_snapshot_last_idx(r), 2);
	assert_int_equal(raft_get_num_snapshottable_logs(r), 2);

	/* Votes, terms, state. */
	assert_int_equal(raft_vote(r, n2), 0);
	assert_int_equal(raft_get_voted_for(r), 2);
	assert_int_equal(raft_vote(r, NULL), 0);
	assert_int_equal(raft_get_voted_for(r), -1);
	assert_int_equal(raft_set_current_term(r, 1), 0);
	assert_int_equal(raft_get_current_term(r), 2);
	raft_set_state(r, RAFT_STATE_LEADER);
	assert_int_equal(raft_get_current_leader(r), 1);
	assert_ptr_equal(raft_get_current_leader_node(r), me);
	raft_become_follower(r);
	assert_true(raft_is_follower(r));
	assert_int_equal(raft_get_current_leader(r), 1);
	assert_false(raft_is_connected(r));

	/* Removing notifies first; clearing forgets everything. */
	W.trace[0] = '\0';
	raft_remove_node(r, n2);
	assert_string_equal(W.trace, "rm2/-1;");
	assert_null(raft_get_node(r, 2));
	raft_clear(r);
	assert_int_equal(raft_get_num_nodes(r), 0);
	assert_int_equal(raft_get_current_idx(r), 0);
	assert_int_equal(raft_get_commit_idx(r), 0);
	assert_int_equal(raft_get_nodeid(r), -1);
	raft_set_nodeid(r, 5);
	assert_int_equal(raft_get_nodeid(r), 5);
	raft_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test_setup_teardown(test_timeout_randomisation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_election_callback_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replication_and_apply_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_blocks_restarted_candidate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_leases_and_step_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_and_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership_and_getters, setup, teardown),
	};

	return cmocka_run_group_tests_name("raft_server", tests, NULL, NULL);
}
