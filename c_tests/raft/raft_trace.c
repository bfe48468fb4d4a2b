/* raft_trace: records everything a raft library does in a seeded, randomised cluster, to compare
 * two libraries with raft's ABI (oxidaos' and upstream's) call for call.
 *
 * 3-5 servers run over a simulated network with loss, delay (reordering), duplication and
 * partitions; servers crash and restart from their persisted term, vote, log and snapshot; the
 * leader changes the membership and servers compact their logs. Every callback (with its
 * arguments), every return code, every state change and every log message (at
 * RAFT_LOG_DEBUG) goes into the trace. Two libraries behave identically on a seed exactly when
 * their traces are equal.
 *
 * usage: raft_trace FIRST_SEED NSEEDS [-v]
 *   prints "seed S lines N hash H" for each seed (-v: the trace itself instead).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>
#include <raft_log.h>
#include <raft_private.h>

#define NMAX 5
#define LOGMAX 8192
#define QMAX 8192
#define LEARNER 100
#define STEPS 1500

struct ent {
	raft_term_t term;
	int id, type;
	unsigned nid;
};

struct snap {
	raft_index_t idx;
	raft_term_t term;
	int nm;
	raft_node_id_t mid[NMAX + 1];
	int mvote[NMAX + 1];
};

struct node {
	raft_server_t *r;
	raft_term_t term;
	raft_node_id_t vote;
	raft_index_t base;
	int nlog;
	struct ent log[LOGMAX];
	int has_snap;
	struct snap snap;
	int nm;			/* applied membership */
	raft_node_id_t mid[NMAX + 1];
	int mvote[NMAX + 1];
	int restoring;
	long down_until;
};

enum { RV, RVR, AE, AER, IS, ISR };

struct msg {
	long at, seq;
	int type, from, to;
	msg_requestvote_t rv;
	msg_requestvote_response_t rvr;
	msg_appendentries_t ae;
	msg_appendentries_response_t aer;
	msg_installsnapshot_t is;
	msg_installsnapshot_response_t isr;
	struct snap snap;
	int n;
	raft_entry_t ents[16];
};

static struct node nodes[NMAX];
static int n;
static long now, seq;
static uint64_t rng;
static struct msg q[QMAX];
static int qn;
static int side[NMAX];
static double loss, dup;
static long max_delay;
static int verbose, next_id;
static uint64_t hash;
static long lines;
static struct snap *incoming;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static double
unit(void)
{
	return (rnd() >> 11) / 9007199254740992.0;
}

static void
tr(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	for (int i = 0; i < len; i++)
		hash = (hash ^ (unsigned char)buf[i]) * 0x100000001b3ULL;
	hash = (hash ^ '\n') * 0x100000001b3ULL;
	lines++;
	if (verbose)
		printf("%ld %s\n", now, buf);
}

static int
id_of(void *u)
{
	return (int)(intptr_t)u;
}

static void
push(int type, int from, int to, struct msg *m)
{
	if (to < 0 || to >= n || unit() < loss)
		return;
	for (int c = unit() < dup ? 2 : 1; c > 0; c--) {
		struct msg *x = &q[qn++];

		if (qn >= QMAX) {
			fprintf(stderr, "queue overflow\n");
			exit(2);
		}
		*x = *m;
		x->type = type;
		x->from = from;
		x->to = to;
		x->at = now + 1 + (long)(rnd() % max_delay);
		x->seq = ++seq;
	}
}

static int
cb_send_rv(raft_server_t *r, void *u, raft_node_t *node, msg_requestvote_t *m)
{
	struct msg x;

	(void)r;
	tr("n%d send_rv to=%ld t=%ld cand=%ld lli=%ld llt=%ld pv=%d", id_of(u), raft_node_get_id(node),
	   m->term, m->candidate_id, m->last_log_idx, m->last_log_term, m->prevote);
	x.rv = *m;
	push(RV, id_of(u), (int)raft_node_get_id(node), &x);
	return 0;
}

static int
cb_send_ae(raft_server_t *r, void *u, raft_node_t *node, msg_appendentries_t *m)
{
	struct msg x;

	(void)r;
	tr("n%d send_ae to=%ld t=%ld pli=%ld plt=%ld lc=%ld n=%d", id_of(u), raft_node_get_id(node),
	   m->term, m->prev_log_idx, m->prev_log_term, m->leader_commit, m->n_entries);
	x.ae = *m;
	x.n = m->n_entries < 16 ? m->n_entries : 16;
	x.ae.n_entries = x.n;
	memcpy(x.ents, m->entries, sizeof(raft_entry_t) * x.n);
	push(AE, id_of(u), (int)raft_node_get_id(node), &x);
	return 0;
}

static int
cb_send_is(raft_server_t *r, void *u, raft_node_t *node, msg_installsnapshot_t *m)
{
	struct msg x;

	(void)r;
	tr("n%d send_is to=%ld t=%ld li=%ld lt=%ld", id_of(u), raft_node_get_id(node), m->term,
	   m->last_idx, m->last_term);
	x.is = *m;
	x.snap = nodes[id_of(u)].snap;
	push(IS, id_of(u), (int)raft_node_get_id(node), &x);
	return 0;
}

static void
add_members(raft_server_t *r, int me, int nm, raft_node_id_t *mid, int *mvote)
{
	for (int i = 0; i < nm; i++) {
		raft_node_t *x = mvote[i] ? raft_add_node(r, NULL, mid[i], mid[i] == me) :
			raft_add_non_voting_node(r, NULL, mid[i], mid[i] == me);

		tr("n%d add_member %ld voting=%d -> %s", me, mid[i], mvote[i], x ? "ok" : "NULL");
	}
}

static int
cb_recv_is(raft_server_t *r, void *u, raft_node_t *node, msg_installsnapshot_t *m,
	   msg_installsnapshot_response_t *resp)
{
	struct node *nd = &nodes[id_of(u)];
	struct snap *s = incoming;
	int e;

	(void)resp;
	tr("n%d recv_is_cb from=%ld li=%ld lt=%ld", id_of(u), raft_node_get_id(node), m->last_idx,
	   m->last_term);
	e = raft_begin_load_snapshot(r, s->term, s->idx);
	tr("n%d begin_load_snapshot -> %d", id_of(u), e);
	if (e == RAFT_ERR_SNAPSHOT_ALREADY_LOADED)
		return 1;
	if (e != 0)
		return e;
	add_members(r, id_of(u), s->nm, s->mid, s->mvote);
	tr("n%d end_load_snapshot -> %d", id_of(u), raft_end_load_snapshot(r));
	nd->nlog = 0;
	nd->base = s->idx;
	nd->snap = *s;
	nd->has_snap = 1;
	nd->nm = s->nm;
	memcpy(nd->mid, s->mid, sizeof(nd->mid));
	memcpy(nd->mvote, s->mvote, sizeof(nd->mvote));
	return 1;
}

static int
cb_recv_isr(raft_server_t *r, void *u, raft_node_t *node, msg_installsnapshot_response_t *m)
{
	(void)r;
	tr("n%d recv_isr_cb from=%ld li=%ld c=%d", id_of(u), raft_node_get_id(node), m->last_idx,
	   m->complete);
	return 0;
}

static void
members_apply(struct node *nd, int type, raft_node_id_t id)
{
	int i;

	for (i = 0; i < nd->nm && nd->mid[i] != id; i++)
		;
	switch (type) {
	case RAFT_LOGTYPE_ADD_NONVOTING_NODE:
	case RAFT_LOGTYPE_ADD_NODE:
		nd->mid[nd->nm] = id;
		nd->mvote[nd->nm++] = type == RAFT_LOGTYPE_ADD_NODE;
		break;
	case RAFT_LOGTYPE_PROMOTE_NODE:
		nd->mvote[i] = 1;
		break;
	case RAFT_LOGTYPE_DEMOTE_NODE:
		nd->mvote[i] = 0;
		break;
	case RAFT_LOGTYPE_REMOVE_NODE:
	case RAFT_LOGTYPE_REMOVE_NONVOTING_NODE:
		memmove(&nd->mid[i], &nd->mid[i + 1], sizeof(nd->mid[0]) * (nd->nm - i - 1));
		memmove(&nd->mvote[i], &nd->mvote[i + 1], sizeof(nd->mvote[0]) * (nd->nm - i - 1));
		nd->nm--;
		break;
	}
}

static int
cb_apply(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx)
{
	(void)r;
	tr("n%d apply idx=%ld t=%ld id=%d type=%d", id_of(u), idx, e->term, e->id, e->type);
	members_apply(&nodes[id_of(u)], e->type, e->data.len);
	return 0;
}

static int
cb_persist_vote(raft_server_t *r, void *u, raft_node_id_t v)
{
	(void)r;
	tr("n%d persist_vote %ld", id_of(u), v);
	nodes[id_of(u)].vote = v;
	return 0;
}

static int
cb_persist_term(raft_server_t *r, void *u, raft_term_t t, raft_node_id_t v)
{
	(void)r;
	tr("n%d persist_term %ld %ld", id_of(u), t, v);
	nodes[id_of(u)].term = t;
	nodes[id_of(u)].vote = v;
	return 0;
}

static int
cb_offer(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx, int *k)
{
	struct node *nd = &nodes[id_of(u)];

	(void)r;
	tr("n%d offer idx=%ld n=%d", id_of(u), idx, *k);
	if (nd->restoring)
		return 0;
	if (idx != nd->base + nd->nlog + 1 || nd->nlog + *k > LOGMAX) {
		fprintf(stderr, "offer out of order\n");
		exit(2);
	}
	for (int i = 0; i < *k; i++) {
		struct ent *x = &nd->log[nd->nlog++];

		x->term = e[i].term;
		x->id = e[i].id;
		x->type = e[i].type;
		x->nid = e[i].data.len;
	}
	return 0;
}

static int
cb_pop(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx, int *k)
{
	struct node *nd = &nodes[id_of(u)];

	(void)r;
	(void)e;
	tr("n%d pop idx=%ld n=%d", id_of(u), idx, *k);
	nd->nlog = (int)(idx - nd->base - 1);
	return 0;
}

static int
cb_poll(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx, int *k)
{
	struct node *nd = &nodes[id_of(u)];

	(void)r;
	(void)e;
	tr("n%d poll idx=%ld n=%d", id_of(u), idx, *k);
	memmove(nd->log, nd->log + *k, sizeof(nd->log[0]) * (nd->nlog - *k));
	nd->nlog -= *k;
	nd->base += *k;
	return 0;
}

static raft_node_id_t
cb_node_id(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx)
{
	(void)r;
	tr("n%d get_node_id idx=%ld -> %u", id_of(u), idx, e->data.len);
	return e->data.len;
}

static int
cb_sufficient(raft_server_t *r, void *u, raft_node_t *node)
{
	(void)r;
	tr("n%d sufficient_logs %ld", id_of(u), raft_node_get_id(node));
	return 0;
}

static void
cb_membership(raft_server_t *r, void *u, raft_node_t *node, raft_entry_t *e, raft_membership_e t)
{
	(void)r;
	tr("n%d membership %ld %s entry=%d", id_of(u), raft_node_get_id(node),
	   t == RAFT_MEMBERSHIP_ADD ? "add" : "remove", e ? e->id : -1);
}

static void
cb_log(raft_server_t *r, raft_node_t *node, void *u, raft_loglevel_e level, const char *buf)
{
	(void)r;
	tr("n%d log[%d] node=%ld %s", id_of(u), level, raft_node_get_id(node), buf);
}

static raft_time_t
cb_time(raft_server_t *r, void *u)
{
	(void)r;
	(void)u;
	return now;
}

static double
cb_rand(raft_server_t *r, void *u)
{
	(void)r;
	(void)u;
	return unit() * 0.999;
}

static raft_cbs_t cbs = {
	.send_requestvote = cb_send_rv,
	.send_appendentries = cb_send_ae,
	.send_installsnapshot = cb_send_is,
	.recv_installsnapshot = cb_recv_is,
	.recv_installsnapshot_response = cb_recv_isr,
	.applylog = cb_apply,
	.persist_vote = cb_persist_vote,
	.persist_term = cb_persist_term,
	.log_offer = cb_offer,
	.log_poll = cb_poll,
	.log_pop = cb_pop,
	.log_get_node_id = cb_node_id,
	.node_has_sufficient_logs = cb_sufficient,
	.notify_membership_event = cb_membership,
	.log = cb_log,
	.get_time = cb_time,
	.get_rand = cb_rand,
};

static void
start(int i, int first)
{
	struct node *nd = &nodes[i];
	raft_server_t *r = raft_new();
	raft_entry_t ents[LOGMAX];
	int k;

	tr("n%d start first=%d", i, first);
	nd->r = r;
	raft_set_callbacks(r, &cbs, (void *)(intptr_t)i);
	raft_set_election_timeout(r, 200);
	raft_set_request_timeout(r, 50);
	if (first)
		raft_set_first_start(r);
	nd->restoring = 1;
	tr("n%d set_current_term -> %d", i, raft_set_current_term(r, nd->term));
	tr("n%d vote_for_nodeid -> %d", i, raft_vote_for_nodeid(r, nd->vote));
	if (nd->has_snap) {
		tr("n%d begin_load_snapshot -> %d", i, raft_begin_load_snapshot(r, nd->snap.term, nd->snap.idx));
		add_members(r, i, nd->snap.nm, nd->snap.mid, nd->snap.mvote);
		tr("n%d end_load_snapshot -> %d", i, raft_end_load_snapshot(r));
		nd->nm = nd->snap.nm;
		memcpy(nd->mid, nd->snap.mid, sizeof(nd->mid));
		memcpy(nd->mvote, nd->snap.mvote, sizeof(nd->mvote));
	} else {
		nd->nm = n;
		for (int j = 0; j < n; j++) {
			nd->mid[j] = j;
			nd->mvote[j] = 1;
		}
		add_members(r, i, nd->nm, nd->mid, nd->mvote);
	}
	memset(ents, 0, sizeof(raft_entry_t) * nd->nlog);
	for (int j = 0; j < nd->nlog; j++) {
		ents[j].term = nd->log[j].term;
		ents[j].id = nd->log[j].id;
		ents[j].type = nd->log[j].type;
		ents[j].data.len = nd->log[j].nid;
	}
	k = nd->nlog;
	tr("n%d append_entries -> %d k=%d", i, raft_append_entries(r, ents, &k), k);
	nd->restoring = 0;
}

static void
crash(int i)
{
	if (nodes[i].r) {
		tr("n%d crash", i);
		raft_free(nodes[i].r);
		nodes[i].r = NULL;
	}
}

static void
state(int i, const char *what)
{
	raft_server_t *r = nodes[i].r;

	tr("n%d %s state=%d t=%ld vf=%ld ldr=%ld ci=%ld commit=%ld applied=%ld base=%ld nn=%d nv=%d",
	   i, what, raft_get_state(r), raft_get_current_term(r), raft_get_voted_for(r),
	   raft_get_current_leader(r), raft_get_current_idx(r), raft_get_commit_idx(r),
	   raft_get_last_applied_idx(r), raft_get_snapshot_last_idx(r), raft_get_num_nodes(r),
	   raft_get_num_voting_nodes(r));
}

static void
deliver(struct msg *m)
{
	raft_server_t *r = nodes[m->to].r;
	raft_node_t *from;
	struct msg a;
	int e;

	if (!r || side[m->from] != side[m->to])
		return;
	from = raft_get_node(r, m->from);
	memset(&a, 0, sizeof(a));
	switch (m->type) {
	case RV:
		e = raft_recv_requestvote(r, from, &m->rv, &a.rvr);
		tr("n%d recv_rv from=%d -> %d granted=%d t=%ld", m->to, m->from, e, a.rvr.vote_granted,
		   a.rvr.term);
		push(RVR, m->to, m->from, &a);
		break;
	case RVR:
		e = raft_recv_requestvote_response(r, from, &m->rvr);
		tr("n%d recv_rvr from=%d -> %d", m->to, m->from, e);
		break;
	case AE:
		m->ae.entries = m->ents;
		e = raft_recv_appendentries(r, from, &m->ae, &a.aer);
		tr("n%d recv_ae from=%d -> %d ok=%d ci=%ld fi=%ld lease=%ld", m->to, m->from, e,
		   a.aer.success, a.aer.current_idx, a.aer.first_idx, a.aer.lease);
		push(AER, m->to, m->from, &a);
		break;
	case AER:
		e = raft_recv_appendentries_response(r, from, &m->aer);
		tr("n%d recv_aer from=%d -> %d", m->to, m->from, e);
		break;
	case IS:
		incoming = &m->snap;
		e = raft_recv_installsnapshot(r, from, &m->is, &a.isr);
		incoming = NULL;
		tr("n%d recv_is from=%d -> %d c=%d", m->to, m->from, e, a.isr.complete);
		push(ISR, m->to, m->from, &a);
		break;
	case ISR:
		e = raft_recv_installsnapshot_response(r, from, &m->isr);
		tr("n%d recv_isr from=%d -> %d", m->to, m->from, e);
		break;
	}
	state(m->to, "after");
}

static void
deliver_due(void)
{
	for (;;) {
		int best = -1;

		for (int i = 0; i < qn; i++)
			if (q[i].at <= now && (best < 0 || q[i].at < q[best].at ||
					       (q[i].at == q[best].at && q[i].seq < q[best].seq)))
				best = i;
		if (best < 0)
			return;
		{
			struct msg m = q[best];

			q[best] = q[--qn];
			deliver(&m);
		}
	}
}

static int
propose(int l, int type, unsigned nid)
{
	msg_entry_t e;
	msg_entry_response_t resp;
	int rc;

	memset(&e, 0, sizeof(e));
	e.id = ++next_id;
	e.type = type;
	e.data.len = nid;
	rc = raft_recv_entry(nodes[l].r, &e, &resp);
	tr("n%d recv_entry type=%d nid=%u -> %d idx=%ld", l, type, nid, rc, rc ? -1L : resp.idx);
	return rc;
}

static void
run(uint64_t seed)
{
	memset(nodes, 0, sizeof(nodes));
	rng = seed * 0x9E3779B97F4A7C15ULL | 1;
	n = 3 + (int)(rnd() % 3);
	loss = unit() * 0.2;
	dup = unit() * 0.1;
	max_delay = 5 + (long)(rnd() % 40);
	now = seq = 0;
	qn = next_id = 0;
	memset(side, 0, sizeof(side));
	for (int i = 0; i < n; i++) {
		nodes[i].vote = -1;
		start(i, 1);
	}
	for (int s = 0; s < STEPS; s++) {
		int heal = s >= STEPS * 2 / 3;

		now += 10;
		deliver_due();
		for (int i = 0; i < n; i++) {
			struct node *nd = &nodes[i];
			raft_server_t *r = nd->r;

			if (!r && nd->down_until <= now) {
				start(i, 0);
				continue;
			}
			if (!r)
				continue;
			tr("n%d periodic -> %d", i, raft_periodic(r));
			state(i, "periodic");
			if (unit() < 0.05 && raft_get_num_snapshottable_logs(r) > 8 &&
			    raft_begin_snapshot(r, raft_get_commit_idx(r)) == 0) {
				nd->snap.idx = raft_get_snapshot_last_idx(r);
				nd->snap.term = raft_get_snapshot_last_term(r);
				nd->snap.nm = nd->nm;
				memcpy(nd->snap.mid, nd->mid, sizeof(nd->mid));
				memcpy(nd->snap.mvote, nd->mvote, sizeof(nd->mvote));
				nd->has_snap = 1;
				tr("n%d end_snapshot -> %d", i, raft_end_snapshot(r));
			}
			if (raft_is_leader(r)) {
				int k = (int)(rnd() % 3);

				while (k-- > 0)
					propose(i, RAFT_LOGTYPE_NORMAL, 0);
				if (!heal && unit() < 0.02) {
					int t = (int)(rnd() % n);
					raft_node_t *x = raft_get_node(r, t);

					if (rnd() % 4 == 0)
						propose(i, raft_get_node(r, LEARNER) ? RAFT_LOGTYPE_REMOVE_NONVOTING_NODE :
							RAFT_LOGTYPE_ADD_NONVOTING_NODE, LEARNER);
					else if (x && t != i && raft_node_is_voting(x) && raft_get_num_voting_nodes(r) > 3)
						propose(i, RAFT_LOGTYPE_DEMOTE_NODE, t);
					else if (x && t != i && !raft_node_is_voting(x))
						propose(i, RAFT_LOGTYPE_PROMOTE_NODE, t);
				}
			}
		}
		if (!heal) {
			if (unit() < 0.01) {
				int i = (int)(rnd() % n);

				nodes[i].down_until = now + 50 + (long)(rnd() % 1500);
				crash(i);
			}
			if (unit() < 0.01) {
				int split = unit() < 0.6;

				for (int i = 0; i < n; i++)
					side[i] = split ? (int)(rnd() % 2) : 0;
			}
		} else if (s == STEPS * 2 / 3) {
			memset(side, 0, sizeof(side));
			loss = dup = 0;
			for (int i = 0; i < n; i++)
				nodes[i].down_until = 0;
		}
	}
	for (int i = 0; i < n; i++)
		crash(i);
}

int
main(int argc, char **argv)
{
	uint64_t first = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	long count = argc > 2 ? atol(argv[2]) : 1;

	verbose = argc > 3 && !strcmp(argv[3], "-v");
	raft_set_log_level(RAFT_LOG_DEBUG);
	for (uint64_t s = first; s < first + count; s++) {
		hash = 0xcbf29ce484222325ULL;
		lines = 0;
		run(s);
		if (!verbose)
			printf("seed %llu lines %ld hash %016llx\n", (unsigned long long)s, lines,
			       (unsigned long long)hash);
	}
	return 0;
}
