/*
 * Collective RPCs across 8 processes on loopback (ofi+tcp on lo), through libcart's exports:
 * this process is rank 0 and the root; ranks 1..7 are forked servers that form the primary
 * group with crt_group_primary_modify. Each node's handler reports its rank (sum, count and a
 * bit per rank) and co_aggregate folds its children's replies into its own, so the root sees
 * exactly who ran: checked over the flat, k-ary and k-nomial trees with several ratios, with
 * an exclusion list and an inverted (inclusion) filter, a stale group version (-DER_GRPVER),
 * a handler error reported at the root, and a killed rank failing the collective with an
 * error (not a hang), a membership change applied by a collective (version 3), and a secondary
 * group (its own rank numbers; auto-remove drops a rank that leaves the primary). Bounded by
 * alarm(); every child is killed and reaped at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <cart/api.h>

#define NRANKS 8
#define BASE   0x22000000U
#define OPC_SUM CRT_PROTO_OPC(BASE, 1, 0)

#define CRT_ISEQ_SUM ((uint32_t)(s_fail_rank) CRT_VAR)((uint32_t)(s_pad) CRT_VAR)
#define CRT_OSEQ_SUM ((uint64_t)(s_sum) CRT_VAR)((uint64_t)(s_mask) CRT_VAR)((uint32_t)(s_count) CRT_VAR)((int32_t)(s_rc) CRT_VAR)
CRT_RPC_DECLARE(sum, CRT_ISEQ_SUM, CRT_OSEQ_SUM)
CRT_RPC_DEFINE(sum, CRT_ISEQ_SUM, CRT_OSEQ_SUM)

/* a membership change done by every node of a collective */
#define CRT_ISEQ_RM ((uint32_t)(r_rank) CRT_VAR)((uint32_t)(r_ver) CRT_VAR)
#define CRT_OSEQ_RM ((int32_t)(r_rc) CRT_VAR)((uint32_t)(r_count) CRT_VAR)
CRT_RPC_DECLARE(rm, CRT_ISEQ_RM, CRT_OSEQ_RM)
CRT_RPC_DEFINE(rm, CRT_ISEQ_RM, CRT_OSEQ_RM)
#define OPC_RM CRT_PROTO_OPC(BASE, 1, 1)

static crt_group_t *sec_grp;

static int   priv_token;
static int   n_aggregate_root, n_pre_forward_root;
static pid_t kids[NRANKS];
static int   port_base;

static d_rank_t
self_rank(void)
{
	d_rank_t r = CRT_NO_RANK;

	crt_group_rank(NULL, &r);
	return r;
}

static void
sum_hdlr(crt_rpc_t *rpc)
{
	struct sum_in  *in  = crt_req_get(rpc);
	struct sum_out *out = crt_reply_get(rpc);
	d_rank_t        r   = self_rank();

	out->s_sum   = r;
	out->s_mask  = 1ULL << r;
	out->s_count = 1;
	out->s_rc    = 0;
	if (in->s_fail_rank == r)
		out->s_rc = -DER_MISC;
	if (in->s_fail_rank == r + 100)
		_exit(0); /* dies in the middle of the collective */
	crt_reply_send(rpc);
}

static int
sum_aggregate(crt_rpc_t *source, crt_rpc_t *result, void *arg)
{
	struct sum_out *src = crt_reply_get(source);
	struct sum_out *dst = crt_reply_get(result);

	if (self_rank() == 0) {
		if (arg != &priv_token)
			return -DER_INVAL;
		n_aggregate_root++;
	}
	dst->s_sum += src->s_sum;
	dst->s_mask |= src->s_mask;
	dst->s_count += src->s_count;
	if (dst->s_rc == 0)
		dst->s_rc = src->s_rc;
	/* an error in a handler's output fails the collective, as upstream's users do */
	return src->s_rc;
}

static int
sum_pre_forward(crt_rpc_t *rpc, void *arg)
{
	(void)rpc;
	if (self_rank() == 0 && arg == &priv_token)
		n_pre_forward_root++;
	return 0;
}

static struct crt_corpc_ops co_ops = {
    .co_aggregate = sum_aggregate, .co_pre_forward = sum_pre_forward, .co_post_reply = NULL};

static crt_context_t ctx;
static int           ntask, task_refuse;

/* the engine's way: handlers go through the context's RPC task (here: run at once) */
static int
rpc_task(crt_context_t *c, void *hdlr_arg, void (*hdlr)(void *), void *arg)
{
	(void)c;
	if (arg != &ntask)
		return -DER_INVAL;
	if (task_refuse)
		return -DER_BUSY;
	ntask++;
	hdlr(hdlr_arg);
	return 0;
}

static void
rm_hdlr(crt_rpc_t *rpc)
{
	struct rm_in  *in  = crt_req_get(rpc);
	struct rm_out *out = crt_reply_get(rpc);
	d_rank_t       r   = in->r_rank;
	d_rank_list_t  l   = {.rl_ranks = &r, .rl_nr = 1};

	out->r_rc    = crt_group_primary_modify(NULL, &ctx, 1, &l, NULL, NULL,
						CRT_GROUP_MOD_OP_REMOVE, in->r_ver);
	out->r_count = 1;
	crt_reply_send(rpc);
}

static int
rm_aggregate(crt_rpc_t *source, crt_rpc_t *result, void *arg)
{
	struct rm_out *src = crt_reply_get(source);
	struct rm_out *dst = crt_reply_get(result);

	(void)arg;
	if (dst->r_rc == 0)
		dst->r_rc = src->r_rc;
	dst->r_count += src->r_count;
	return 0;
}

static struct crt_corpc_ops rm_ops = {.co_aggregate = rm_aggregate};

static struct crt_proto_rpc_format prf[] = {
    {.prf_req_fmt = &CQF_sum, .prf_hdlr = sum_hdlr, .prf_co_ops = &co_ops},
    {.prf_req_fmt = &CQF_rm, .prf_hdlr = rm_hdlr, .prf_co_ops = &rm_ops},
};
static struct crt_proto_format cpf = {
    .cpf_name = "corpc_test", .cpf_ver = 1, .cpf_count = 2, .cpf_prf = prf, .cpf_base = BASE};

static void
uri_of(d_rank_t r, char *buf, size_t len)
{
	snprintf(buf, len, "ofi+tcp://127.0.0.1:%d", port_base + 2 * (int)r);
}

/* Every rank: a server with its own port, knowing all the others at version 2. */
static int
join(d_rank_t me)
{
	char           port[16], uris_s[NRANKS][64], *uris[NRANKS];
	d_rank_t       ranks[NRANKS];
	uint64_t       inc[NRANKS];
	d_rank_list_t  l = {.rl_ranks = ranks, .rl_nr = 0};
	d_rank_t       r;

	snprintf(port, sizeof(port), "%d", port_base + 2 * (int)me);
	setenv("D_PORT", port, 1);
	if (crt_init("corpc_grp", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
		return 10;
	if (crt_context_create(&ctx) != 0)
		return 11;
	if (crt_rank_self_set(me, 1) != 0 || crt_proto_register(&cpf) != 0)
		return 12;
	if (crt_context_register_rpc_task(ctx, rpc_task, NULL, &ntask) != 0)
		return 16;
	for (r = 0; r < NRANKS; r++) {
		if (r == me)
			continue;
		uri_of(r, uris_s[l.rl_nr], sizeof(uris_s[0]));
		uris[l.rl_nr] = uris_s[l.rl_nr];
		inc[l.rl_nr]  = 1;
		ranks[l.rl_nr++] = r;
	}
	if (crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris, CRT_GROUP_MOD_OP_ADD, 2) != 0)
		return 13;
	/* a secondary group: its ranks 0, 1, 2, 3 are primary 6, 4, 2, 0; with auto-remove a
	 * rank leaving the primary group leaves it too */
	{
		d_rank_t      sr[] = {6, 4, 2, 0};
		d_rank_list_t sl   = {.rl_ranks = sr, .rl_nr = 4};
		crt_group_t  *pri  = crt_group_lookup(NULL);

		if (pri == NULL || crt_group_secondary_create("corpc_sec", pri, &sl, &sec_grp) != 0)
			return 14;
		if (crt_group_auto_rank_remove(pri, true) != 0)
			return 15;
	}
	return 0;
}

static void
kill_all(void)
{
	int i;

	for (i = 1; i < NRANKS; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
}

struct result {
	int            done, rc;
	struct sum_out out;
};

static void
corpc_cb(const struct crt_cb_info *info)
{
	struct result *res = info->cci_arg;

	res->rc = info->cci_rc;
	if (info->cci_rc == 0)
		res->out = *(struct sum_out *)crt_reply_get(info->cci_rpc);
	res->done = 1;
}

static int
is_done(void *arg)
{
	return ((struct result *)arg)->done;
}

/* One collective from rank 0; returns its rc, fills *out. */
static int
collective_in(crt_group_t *grp, int topo, d_rank_list_t *filter, uint32_t flags, uint32_t fail_rank, uint32_t timeout,
	   struct sum_out *out, double *secs)
{
	crt_rpc_t      *rpc = NULL;
	struct sum_in  *in;
	struct result   res = {0};
	struct timespec a, b;

	assert_int_equal(crt_corpc_req_create(ctx, grp, filter, OPC_SUM, NULL, &priv_token, flags,
					      topo, &rpc),
			 0);
	in              = crt_req_get(rpc);
	in->s_fail_rank = fail_rank;
	if (timeout)
		assert_int_equal(crt_req_set_timeout(rpc, timeout), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(crt_req_send(rpc, corpc_cb, &res), 0);
	assert_int_equal(crt_progress_cond(ctx, 30 * 1000 * 1000, is_done, &res), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (secs)
		*secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	if (out)
		*out = res.out;
	return res.rc;
}

static int
collective(int topo, d_rank_list_t *filter, uint32_t flags, uint32_t fail_rank, uint32_t timeout,
	   struct sum_out *out, double *secs)
{
	return collective_in(NULL, topo, filter, flags, fail_rank, timeout, out, secs);
}

static void
rm_cb(const struct crt_cb_info *info)
{
	struct result *res = info->cci_arg;
	struct rm_out *o   = crt_reply_get(info->cci_rpc);

	res->rc = info->cci_rc;
	if (res->rc == 0)
		res->rc = o->r_rc;
	res->out.s_count = o->r_count;
	res->done        = 1;
}

/* every member (but the excluded) removes `rank` from its primary group at `ver` */
static int
remove_everywhere(d_rank_t rank, uint32_t ver, d_rank_list_t *excl, uint32_t *count)
{
	crt_rpc_t     *rpc;
	struct rm_in  *in;
	struct result  res = {0};

	assert_int_equal(crt_corpc_req_create(ctx, NULL, excl, OPC_RM, NULL, NULL, 0,
					      crt_tree_topo(CRT_TREE_KNOMIAL, 2), &rpc),
			 0);
	in         = crt_req_get(rpc);
	in->r_rank = rank;
	in->r_ver  = ver;
	assert_int_equal(crt_req_send(rpc, rm_cb, &res), 0);
	assert_int_equal(crt_progress_cond(ctx, 30 * 1000 * 1000, is_done, &res), 0);
	*count = res.out.s_count;
	return res.rc;
}

static uint64_t
mask_all_but(d_rank_t skip)
{
	return ((1ULL << NRANKS) - 1) & ~(skip == CRT_NO_RANK ? 0 : 1ULL << skip);
}

static void
test_corpc(void **state)
{
	int            topos[] = {crt_tree_topo(CRT_TREE_FLAT, 0), crt_tree_topo(CRT_TREE_KARY, 2),
				  crt_tree_topo(CRT_TREE_KARY, 3), crt_tree_topo(CRT_TREE_KARY, 8),
				  crt_tree_topo(CRT_TREE_KNOMIAL, 2), crt_tree_topo(CRT_TREE_KNOMIAL, 3),
				  crt_tree_topo(CRT_TREE_KNOMIAL, 4)};
	int            pipefd[2], i, rc;
	d_rank_t       ex3[]   = {3};
	d_rank_t       only[]  = {2, 5, 6};
	d_rank_t       ex0[]   = {0, 4};
	d_rank_list_t  l3 = {.rl_ranks = ex3, .rl_nr = 1}, lonly = {.rl_ranks = only, .rl_nr = 3};
	d_rank_list_t  l04 = {.rl_ranks = ex0, .rl_nr = 2};
	struct sum_out out;
	crt_rpc_t     *rpc;
	double         secs;
	char           c;

	(void)state;
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	port_base = 30000 + (getpid() % 1000) * 20;
	assert_int_equal(pipe(pipefd), 0);
	for (i = 1; i < NRANKS; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			close(pipefd[0]);
			alarm(120);
			rc = join(i);
			if (rc != 0)
				_exit(rc);
			c = 'r';
			if (write(pipefd[1], &c, 1) != 1)
				_exit(20);
			for (;;)
				crt_progress(ctx, 1000 * 1000);
		}
	}
	atexit(kill_all);
	alarm(170);
	close(pipefd[1]);
	assert_int_equal(join(0), 0);
	for (i = 1; i < NRANKS; i++)
		assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);

	/* a client may not start one; bad topologies are refused */
	assert_int_equal(crt_corpc_req_create(ctx, NULL, NULL, OPC_SUM, NULL, NULL, 0, 0, &rpc),
			 -DER_INVAL);
	assert_int_equal(crt_corpc_req_create(ctx, NULL, NULL, OPC_SUM, NULL, NULL, 0,
					      crt_tree_topo(CRT_TREE_KARY, 1), &rpc),
			 -DER_INVAL);
	assert_int_equal(crt_corpc_req_create(NULL, NULL, NULL, OPC_SUM, NULL, NULL, 0, topos[0], &rpc),
			 -DER_INVAL);
	assert_int_equal(crt_corpc_req_create(ctx, NULL, NULL, OPC_SUM + 7, NULL, NULL, 0, topos[0],
					      &rpc),
			 -DER_UNREG);

	/* every topology reaches every rank exactly once: 0+1+...+7 = 28 */
	for (i = 0; i < (int)(sizeof(topos) / sizeof(topos[0])); i++) {
		n_aggregate_root = n_pre_forward_root = ntask = 0;
		assert_int_equal(collective(topos[i], NULL, 0, CRT_NO_RANK, 0, &out, NULL), 0);
		assert_int_equal(ntask, 1); /* the root's own handler went through the task */
		assert_int_equal(out.s_sum, 28);
		assert_int_equal(out.s_count, NRANKS);
		assert_int_equal(out.s_mask, mask_all_but(CRT_NO_RANK));
		assert_int_equal(out.s_rc, 0);
		assert_int_equal(n_pre_forward_root, 1);
		assert_true(n_aggregate_root >= 1);
	}
	/* flat: the root aggregates all seven replies itself */
	n_aggregate_root = 0;
	assert_int_equal(collective(topos[0], NULL, 0, CRT_NO_RANK, 0, &out, NULL), 0);
	assert_int_equal(n_aggregate_root, NRANKS - 1);

	/* rank 3 excluded: never reached */
	for (i = 0; i < (int)(sizeof(topos) / sizeof(topos[0])); i++) {
		assert_int_equal(collective(topos[i], &l3, 0, CRT_NO_RANK, 0, &out, NULL), 0);
		assert_int_equal(out.s_sum, 25);
		assert_int_equal(out.s_count, NRANKS - 1);
		assert_int_equal(out.s_mask, mask_all_but(3));
	}
	/* inverted filter: only 2, 5, 6 run (the root forwards but runs no handler) */
	assert_int_equal(collective(topos[4], &lonly, CRT_RPC_FLAG_FILTER_INVERT, CRT_NO_RANK, 0,
				    &out, NULL),
			 0);
	assert_int_equal(out.s_sum, 13);
	assert_int_equal(out.s_count, 3);
	assert_int_equal(out.s_mask, (1ULL << 2) | (1ULL << 5) | (1ULL << 6));
	/* root excluded (with 4): the others only */
	assert_int_equal(collective(topos[1], &l04, 0, CRT_NO_RANK, 0, &out, NULL), 0);
	assert_int_equal(out.s_sum, 24);
	assert_int_equal(out.s_count, NRANKS - 2);

	/* a secondary group: its own rank numbers and tree, children addressed by primary rank */
	for (i = 0; i < (int)(sizeof(topos) / sizeof(topos[0])); i++) {
		d_rank_t      sx[] = {1};
		d_rank_list_t sl   = {.rl_ranks = sx, .rl_nr = 1};

		assert_int_equal(collective_in(sec_grp, topos[i], NULL, 0, CRT_NO_RANK, 0, &out, NULL),
				 0);
		assert_int_equal(out.s_sum, 12);
		assert_int_equal(out.s_count, 4);
		assert_int_equal(out.s_mask, 0x55);
		/* secondary rank 1 is primary rank 4 */
		assert_int_equal(collective_in(sec_grp, topos[i], &sl, 0, CRT_NO_RANK, 0, &out, NULL),
				 0);
		assert_int_equal(out.s_sum, 8);
		assert_int_equal(out.s_mask, 0x45);
	}

	/* the root's RPC task refuses: its error is the collective's, the others still ran */
	task_refuse = 1;
	assert_int_equal(collective(topos[3], NULL, 0, CRT_NO_RANK, 0, &out, NULL), -DER_BUSY);
	task_refuse = 0;

	/* a handler's error deep in the tree reaches the root */
	assert_int_equal(collective(topos[4], NULL, 0, 7, 0, &out, NULL), -DER_MISC);
	assert_int_equal(collective(topos[0], NULL, 0, 7, 0, &out, NULL), -DER_MISC);

	/* a stale group version on the root: every child refuses */
	assert_int_equal(crt_group_version_set(NULL, 3), 0);
	assert_int_equal(collective(topos[2], NULL, 0, CRT_NO_RANK, 0, &out, NULL), -DER_GRPVER);
	assert_int_equal(crt_group_version_set(NULL, 2), 0);
	assert_int_equal(collective(topos[2], NULL, 0, CRT_NO_RANK, 0, &out, NULL), 0);
	assert_int_equal(out.s_sum, 28);

	/* rank 5 dies: the collective fails at the root within its timeout, and excluding the
	 * dead rank works again */
	kill(kids[5], SIGKILL);
	waitpid(kids[5], NULL, 0);
	kids[5] = 0;
	for (i = 0; i < (int)(sizeof(topos) / sizeof(topos[0])); i += 3) {
		rc = collective(topos[i], NULL, 0, CRT_NO_RANK, 2, &out, &secs);
		assert_true(rc == -DER_TIMEDOUT || rc == -DER_HG || rc == -DER_UNREACH);
		assert_true(secs < 10.0);
	}
	{
		d_rank_t      ex5[] = {5};
		d_rank_list_t l5    = {.rl_ranks = ex5, .rl_nr = 1};

		uint32_t      n;

		assert_int_equal(collective(topos[5], &l5, 0, CRT_NO_RANK, 2, &out, NULL), 0);
		assert_int_equal(out.s_sum, 23);

		/* the survivors drop rank 5 (version 3): trees over the new membership skip it */
		assert_int_equal(remove_everywhere(5, 3, &l5, &n), 0);
		assert_int_equal(n, NRANKS - 1);
		for (i = 0; i < (int)(sizeof(topos) / sizeof(topos[0])); i++) {
			assert_int_equal(collective(topos[i], NULL, 0, CRT_NO_RANK, 2, &out, NULL), 0);
			assert_int_equal(out.s_sum, 23);
			assert_int_equal(out.s_count, NRANKS - 1);
		}
		/* rank 6 leaves the primary group at version 4: auto-remove takes it out of the
		 * secondary group on every node, so the secondary collective no longer reaches it */
		assert_int_equal(remove_everywhere(6, 4, NULL, &n), 0);
		assert_int_equal(n, NRANKS - 1); /* 6 itself ran the handler before leaving */
		assert_int_equal(collective(topos[4], NULL, 0, CRT_NO_RANK, 2, &out, NULL), 0);
		assert_int_equal(out.s_sum, 17);
		assert_int_equal(collective_in(sec_grp, topos[4], NULL, 0, CRT_NO_RANK, 2, &out, NULL),
				 0);
		assert_int_equal(out.s_sum, 6);
		assert_int_equal(out.s_mask, 0x15);

		/* rank 7 dies while handling the collective (a k-ary leaf under 3): the root gets
		 * an error within the timeout instead of waiting forever */
		rc = collective(topos[1], NULL, 0, 107, 2, &out, &secs);
		assert_int_equal(rc, -DER_TIMEDOUT);
		assert_true(secs < 10.0);
		assert_int_equal(waitpid(kids[7], NULL, 0), kids[7]);
		kids[7] = 0;
	}

	kill_all();
	assert_int_equal(crt_context_destroy(ctx, 1), 0);
	assert_int_equal(crt_finalize(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corpc),
	};

	return cmocka_run_group_tests_name("cart corpc", tests, NULL, NULL);
}
