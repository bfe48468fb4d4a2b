/* raft benchmark: a 3-node in-memory cluster driven through raft's C API.
 *
 *   commit     entries committed (and applied on the leader) per second: each round the
 *              leader takes a batch of client entries and the network is drained
 *   periodic   ns per raft_periodic on a leader between heartbeats (lease check, no sends)
 *   recv_ae    ns per raft_recv_appendentries on a follower: heartbeat, and one new entry
 *
 * Any library with raft's ABI can be linked in (oxidaos' libraft, or upstream's libraft.a);
 * each figure is the median of REPEAT runs.  usage: raft_bench [scale]   (default 1)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <raft.h>
#include <raft_log.h>
#include <raft_private.h>

#define N 3
#define REPEAT 5
#define QMAX 64

struct msg {
	int ae, from, to;
	msg_appendentries_t m;
	msg_appendentries_response_t r;
	raft_entry_t ents[8];
};

static raft_server_t *srv[N];
static raft_time_t now;
static struct msg q[QMAX];
static int qn;
static long applied;

static double
sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
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
	return 0.5;
}

static int
cb_send_ae(raft_server_t *r, void *u, raft_node_t *node, msg_appendentries_t *m)
{
	struct msg *x = &q[qn++];

	(void)r;
	if (qn >= QMAX) {
		fprintf(stderr, "queue overflow\n");
		exit(1);
	}
	x->ae = 1;
	x->from = (int)(intptr_t)u;
	x->to = (int)raft_node_get_id(node);
	x->m = *m;
	if (x->m.n_entries > 8)
		x->m.n_entries = 8;
	memcpy(x->ents, m->entries, sizeof(raft_entry_t) * x->m.n_entries);
	return 0;
}

static int
cb_send_rv(raft_server_t *r, void *u, raft_node_t *node, msg_requestvote_t *m)
{
	msg_requestvote_response_t resp;
	raft_server_t *to = srv[raft_node_get_id(node)];
	int me = (int)(intptr_t)u;

	/* Elections are answered at once (only at start-up). */
	raft_recv_requestvote(to, raft_get_node(to, me), m, &resp);
	raft_recv_requestvote_response(r, node, &resp);
	return 0;
}

static int
cb_apply(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx)
{
	(void)r;
	(void)e;
	(void)idx;
	if ((intptr_t)u == 0)
		applied++;
	return 0;
}

static int
cb_poll(raft_server_t *r, void *u, raft_entry_t *e, raft_index_t idx, int *n)
{
	(void)r;
	(void)u;
	(void)e;
	(void)idx;
	(void)n;
	return 0;
}

static raft_cbs_t cbs = {
	.send_requestvote = cb_send_rv,
	.send_appendentries = cb_send_ae,
	.applylog = cb_apply,
	.log_poll = cb_poll,
	.get_time = cb_time,
	.get_rand = cb_rand,
};

static void
drain(void)
{
	for (int i = 0; i < qn; i++) {
		struct msg *x = &q[i];
		raft_server_t *to = srv[x->to];
		raft_node_t *from = raft_get_node(to, x->from);

		if (x->ae) {
			struct msg *a = &q[qn++];

			x->m.entries = x->ents;
			raft_recv_appendentries(to, from, &x->m, &a->r);
			a->ae = 0;
			a->from = x->to;
			a->to = x->from;
		} else {
			raft_recv_appendentries_response(to, from, &x->r);
		}
	}
	qn = 0;
}

static void
cluster_up(void)
{
	now = 0;
	qn = 0;
	for (int i = 0; i < N; i++) {
		srv[i] = raft_new();
		raft_set_callbacks(srv[i], &cbs, (void *)(intptr_t)i);
		raft_set_election_timeout(srv[i], 1000);
		for (int j = 0; j < N; j++)
			raft_add_node(srv[i], NULL, j, i == j);
		raft_set_first_start(srv[i]);
	}
	now = 2000;
	raft_periodic(srv[0]);
	drain();
	if (!raft_is_leader(srv[0])) {
		fprintf(stderr, "no leader\n");
		exit(1);
	}
}

static void
cluster_down(void)
{
	for (int i = 0; i < N; i++)
		raft_free(srv[i]);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v)
{
	qsort(v, REPEAT, sizeof(*v), cmp);
	return v[REPEAT / 2];
}

/* Entries per second committed and applied by the leader. */
static double
bench_commit(long entries)
{
	msg_entry_t e;
	msg_entry_response_t resp;
	double t0;
	long start;

	cluster_up();
	applied = 0;
	start = raft_get_commit_idx(srv[0]);
	t0 = sec();
	for (long i = 0; i < entries; i += 4) {
		for (int k = 0; k < 4; k++) {
			memset(&e, 0, sizeof(e));
			e.id = (int)(i + k);
			if (raft_recv_entry(srv[0], &e, &resp) != 0) {
				fprintf(stderr, "recv_entry failed\n");
				exit(1);
			}
		}
		drain();
		now++;
		raft_periodic(srv[0]);
		/* Keep the logs short, as a real service compacts them. */
		if ((i & 4095) == 0 && raft_get_commit_idx(srv[0]) > 1024) {
			for (int s = 0; s < N; s++) {
				raft_index_t c = raft_get_commit_idx(srv[s]);

				if (c > raft_get_snapshot_last_idx(srv[s]) + 1 && raft_begin_snapshot(srv[s], c - 1) == 0)
					raft_end_snapshot(srv[s]);
			}
		}
		/* Heartbeats go out every request timeout; answer them. */
		drain();
	}
	t0 = sec() - t0;
	if (raft_get_commit_idx(srv[0]) - start < entries || applied < entries - 8) {
		fprintf(stderr, "only %ld committed\n", raft_get_commit_idx(srv[0]) - start);
		exit(1);
	}
	cluster_down();
	return entries / t0;
}

/* ns per raft_periodic on a leader that has nothing to send. */
static double
bench_periodic(long calls)
{
	double t0;

	cluster_up();
	t0 = sec();
	for (long i = 0; i < calls; i++)
		raft_periodic(srv[0]);
	t0 = sec() - t0;
	if (qn != 0) {
		fprintf(stderr, "periodic sent messages\n");
		exit(1);
	}
	cluster_down();
	return t0 * 1e9 / calls;
}

/* ns per raft_recv_appendentries on a follower; with_entry appends one new entry each time. */
static double
bench_recv_ae(long calls, int with_entry)
{
	msg_appendentries_t ae;
	msg_appendentries_response_t r;
	raft_entry_t ety;
	raft_node_t *leader;
	double t0;

	cluster_up();
	leader = raft_get_node(srv[1], 0);
	memset(&ety, 0, sizeof(ety));
	ety.term = raft_get_current_term(srv[0]);
	t0 = sec();
	for (long i = 0; i < calls; i++) {
		memset(&ae, 0, sizeof(ae));
		ae.term = ety.term;
		ae.prev_log_idx = raft_get_current_idx(srv[1]);
		ae.prev_log_term = raft_get_last_log_term(srv[1]);
		ae.leader_commit = raft_get_commit_idx(srv[1]);
		if (with_entry) {
			ety.id = (int)i;
			ae.entries = &ety;
			ae.n_entries = 1;
		}
		if (raft_recv_appendentries(srv[1], leader, &ae, &r) != 0 || !r.success) {
			fprintf(stderr, "recv_appendentries failed\n");
			exit(1);
		}
	}
	t0 = sec() - t0;
	cluster_down();
	return t0 * 1e9 / calls;
}

int
main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;
	double c[REPEAT], p[REPEAT], h[REPEAT], a[REPEAT];

	for (int i = 0; i < REPEAT; i++) {
		c[i] = bench_commit(200000 * scale);
		p[i] = bench_periodic(2000000 * scale);
		h[i] = bench_recv_ae(2000000 * scale, 0);
		a[i] = bench_recv_ae(200000 * scale, 1);
	}
	printf("raft_bench (median of %d)\n", REPEAT);
	printf("commit               %12.0f entries/s\n", median(c));
	printf("raft_periodic        %12.1f ns\n", median(p));
	printf("recv_ae heartbeat    %12.1f ns\n", median(h));
	printf("recv_ae one entry    %12.1f ns\n", median(a));
	return 0;
}
