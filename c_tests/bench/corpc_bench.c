/*
 * corpc_bench: collective RPC latency for whichever libcart.so.4 the dynamic linker finds
 * (LD_LIBRARY_PATH), public API only, so one binary measures upstream's library and oxidaos's:
 *
 *   D_PROVIDER=ofi+tcp D_INTERFACE=lo LD_LIBRARY_PATH=... corpc_bench [-n ITER] [-p PORT]
 *
 * This process is rank 0; it forks ranks 1..15, each a server on port PORT+2*rank, and all
 * form the primary group with crt_group_primary_modify. For 8 ranks (ranks 8..15 excluded by
 * the filter) and 16 ranks, and each tree (flat, k-ary 2 and 4, k-nomial 2 and 4), rank 0
 * times ITER collectives (each node adds its rank; co_aggregate sums) and prints the median
 * and 90th percentile round trip. The sum is checked on every call. Bounded by an alarm; the
 * children are killed at the end.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cart/api.h>

#define NR     16
#define BASE   0x3c000000U
#define OPC    CRT_PROTO_OPC(BASE, 1, 0)

#define CRT_ISEQ_CB ((uint64_t)(c_x) CRT_VAR)
#define CRT_OSEQ_CB ((uint64_t)(c_sum) CRT_VAR)
CRT_RPC_DECLARE(cb, CRT_ISEQ_CB, CRT_OSEQ_CB)
CRT_RPC_DEFINE(cb, CRT_ISEQ_CB, CRT_OSEQ_CB)

static crt_context_t ctx;
static int           port_base = 31000;
static pid_t         kids[NR];

static void
hdlr(crt_rpc_t *rpc)
{
	struct cb_out *out = crt_reply_get(rpc);
	d_rank_t       r   = 0;

	crt_group_rank(NULL, &r);
	out->c_sum = r;
	crt_reply_send(rpc);
}

static int
agg(crt_rpc_t *src, crt_rpc_t *dst, void *arg)
{
	(void)arg;
	((struct cb_out *)crt_reply_get(dst))->c_sum += ((struct cb_out *)crt_reply_get(src))->c_sum;
	return 0;
}

static struct crt_corpc_ops     co  = {.co_aggregate = agg};
static struct crt_proto_rpc_format prf = {.prf_req_fmt = &CQF_cb, .prf_hdlr = hdlr, .prf_co_ops = &co};
static struct crt_proto_format  cpf = {
    .cpf_name = "corpc_bench", .cpf_ver = 1, .cpf_count = 1, .cpf_prf = &prf, .cpf_base = BASE};

static int
join(d_rank_t me)
{
	char          port[16], us[NR][64], *uris[NR];
	d_rank_t      ranks[NR];
	uint64_t      inc[NR];
	d_rank_list_t l = {.rl_ranks = ranks, .rl_nr = 0};
	d_rank_t      r;

	snprintf(port, sizeof(port), "%d", port_base + 2 * (int)me);
	setenv("D_PORT", port, 1);
	if (crt_init("corpc_bench", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0 ||
	    crt_context_create(&ctx) != 0 || crt_rank_self_set(me, 1) != 0 ||
	    crt_proto_register(&cpf) != 0)
		return 1;
	for (r = 0; r < NR; r++) {
		if (r == me)
			continue;
		snprintf(us[l.rl_nr], sizeof(us[0]), "ofi+tcp://127.0.0.1:%d", port_base + 2 * (int)r);
		uris[l.rl_nr] = us[l.rl_nr];
		inc[l.rl_nr]  = 1;
		ranks[l.rl_nr++] = r;
	}
	return crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris, CRT_GROUP_MOD_OP_ADD, 2) ? 2 : 0;
}

struct res {
	int      done, rc;
	uint64_t sum;
};

static void
done_cb(const struct crt_cb_info *info)
{
	struct res *r = info->cci_arg;

	r->rc = info->cci_rc;
	if (r->rc == 0)
		r->sum = ((struct cb_out *)crt_reply_get(info->cci_rpc))->c_sum;
	r->done = 1;
}

static int
is_done(void *arg)
{
	return ((struct res *)arg)->done;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
run(const char *name, int topo, int n, int iters)
{
	d_rank_t      ex[NR];
	d_rank_list_t l = {.rl_ranks = ex, .rl_nr = 0};
	double       *us = calloc(iters, sizeof(double));
	uint64_t      want = (uint64_t)n * (n - 1) / 2;
	int           i;

	for (i = n; i < NR; i++)
		ex[l.rl_nr++] = i;
	for (i = -5; i < iters; i++) { /* 5 warm-up calls */
		crt_rpc_t      *rpc;
		struct res      r = {0};
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (crt_corpc_req_create(ctx, NULL, l.rl_nr ? &l : NULL, OPC, NULL, NULL, 0, topo,
					 &rpc) != 0 ||
		    crt_req_send(rpc, done_cb, &r) != 0 ||
		    crt_progress_cond(ctx, 10 * 1000 * 1000, is_done, &r) != 0 || r.rc != 0 ||
		    r.sum != want) {
			fprintf(stderr, "%s n=%d: failed (rc %d, sum %lu of %lu)\n", name, n, r.rc,
				(unsigned long)r.sum, (unsigned long)want);
			free(us);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (i >= 0)
			us[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
	}
	qsort(us, iters, sizeof(double), cmp);
	printf("corpc %-10s ranks %2d  median %8.1f us  p90 %8.1f us  (%d calls)\n", name, n,
	       us[iters / 2], us[iters * 9 / 10], iters);
	fflush(stdout);
	free(us);
	return 0;
}

int
main(int argc, char **argv)
{
	int  iters = 200, opt, i, fd[2], rc = 0;
	char c;

	while ((opt = getopt(argc, argv, "n:p:")) != -1) {
		if (opt == 'n')
			iters = atoi(optarg);
		else if (opt == 'p')
			port_base = atoi(optarg);
		else
			return 2;
	}
	if (iters < 1)
		iters = 1;
	setenv("D_PROVIDER", getenv("D_PROVIDER") ? getenv("D_PROVIDER") : "ofi+tcp", 1);
	setenv("D_INTERFACE", getenv("D_INTERFACE") ? getenv("D_INTERFACE") : "lo", 1);
	if (pipe(fd) != 0)
		return 3;
	for (i = 1; i < NR; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(fd[0]);
			alarm(300);
			if (join(i) != 0)
				_exit(1);
			c = 'r';
			if (write(fd[1], &c, 1) != 1)
				_exit(1);
			for (;;)
				crt_progress(ctx, 1000 * 1000);
		}
	}
	close(fd[1]);
	alarm(300);
	if (join(0) != 0)
		rc = 4;
	for (i = 1; i < NR && rc == 0; i++)
		if (read(fd[0], &c, 1) != 1)
			rc = 5;
	if (rc == 0) {
		static const struct {
			const char *name;
			int         type, ratio;
		} t[] = {{"flat", CRT_TREE_FLAT, 0},    {"kary2", CRT_TREE_KARY, 2},
			 {"kary4", CRT_TREE_KARY, 4},    {"knomial2", CRT_TREE_KNOMIAL, 2},
			 {"knomial4", CRT_TREE_KNOMIAL, 4}};
		int n, k;

		for (n = 8; n <= 16 && rc == 0; n += 8)
			for (k = 0; k < 5 && rc == 0; k++)
				rc = run(t[k].name, crt_tree_topo(t[k].type, t[k].ratio), n, iters);
	}
	for (i = 1; i < NR; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	}
	crt_context_destroy(ctx, 1);
	crt_finalize();
	return rc;
}
