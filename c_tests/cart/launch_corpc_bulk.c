/*
 * Run under oxidaos-launch (crt_launch's contract): `oxidaos-launch -np 6 -e launch_corpc_bulk`.
 * Every rank takes CRT_L_RANK, D_PORT and the group file CRT_L_GRP_CFG from the launcher, joins
 * the primary group from the file and serves; rank 0 then checks, over the whole group:
 *  - a collective's co_bulk_hdl reaches every node, deep trees included (each node pulls its
 *    parent's copy; the handler reads it with crt_bulk_access);
 *  - a handler pulling an explicit bulk handle from its input, the root's own handler too (a
 *    transfer with the root process itself);
 *  - a point-to-point RPC to a secondary group's rank reaches that rank's primary member;
 *  - crt_reply_send_input_free on collective nodes: every node still forwards the input it
 *    received intact, and plain RPCs answered that way reply normally.
 * Rank 0's cmocka result is its exit status; the others exit 0 after the shutdown RPC.
 *
 * With the argument "destroy": rank 0 sends one collective down a k-nomial tree and every
 * node, as upstream's test_corpc_prefwd does, stops and force-destroys its context as soon as
 * its handler has replied; every rank must still have run the handler (a forwarding node's
 * requests to its children must leave before the destroy aborts them), else it times out.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cart/api.h>

#define BASE      0x23000000U
#define OPC_CHECK CRT_PROTO_OPC(BASE, 1, 0)
#define OPC_PING  CRT_PROTO_OPC(BASE, 1, 1)
#define OPC_STOP  CRT_PROTO_OPC(BASE, 1, 2)
#define BULK_LEN  (96 * 1024 + 17)
#define MAX_RANKS 64

/* mode: 1 read co_bulk_hdl, 2 pull c_bulk, 3 check c_text and reply with input_free */
#define CRT_ISEQ_CHECK                                                                             \
	((uint32_t)(c_mode) CRT_VAR)((uint32_t)(c_len) CRT_VAR)((crt_bulk_t)(c_bulk) CRT_VAR)(     \
	    (d_iov_t)(c_text) CRT_VAR)
#define CRT_OSEQ_CHECK ((uint64_t)(k_ok) CRT_VAR)((uint64_t)(k_seen) CRT_VAR)
CRT_RPC_DECLARE(check, CRT_ISEQ_CHECK, CRT_OSEQ_CHECK)
CRT_RPC_DEFINE(check, CRT_ISEQ_CHECK, CRT_OSEQ_CHECK)

#define CRT_ISEQ_PING ((uint32_t)(p_free) CRT_VAR)
#define CRT_OSEQ_PING ((uint32_t)(p_rank) CRT_VAR)
CRT_RPC_DECLARE(ping, CRT_ISEQ_PING, CRT_OSEQ_PING)
CRT_RPC_DEFINE(ping, CRT_ISEQ_PING, CRT_OSEQ_PING)

static crt_context_t ctx;
static crt_group_t  *sec_grp;
static d_rank_t      my_rank;
static int           nranks;
static volatile int  stop;
static volatile int  handled;
static const char    text[] = "the same words at every level of the tree";

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static int
pattern_ok(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != pattern(i))
			return 0;
	return 1;
}

static void
report(crt_rpc_t *rpc, int ok)
{
	struct check_out *out = crt_reply_get(rpc);

	out->k_seen = 1ULL << my_rank;
	out->k_ok   = ok ? 1ULL << my_rank : 0;
}

struct pull {
	crt_bulk_t local;
	uint8_t   *buf;
	size_t     len;
};

static int
pulled(const struct crt_bulk_cb_info *info)
{
	struct pull *p  = info->bci_arg;
	crt_rpc_t   *rpc = info->bci_bulk_desc->bd_rpc;

	report(rpc, info->bci_rc == 0 && pattern_ok(p->buf, p->len));
	crt_reply_send(rpc);
	crt_bulk_free(p->local);
	free(p->buf);
	free(p);
	crt_req_decref(rpc);
	return 0;
}

static void
check_hdlr(crt_rpc_t *rpc)
{
	struct check_in *in = crt_req_get(rpc);

	if (in->c_mode == 1) {
		/* the collective bulk: this node's (copy of its parent's) buffer */
		d_iov_t     iov[4];
		d_sg_list_t sgl = {.sg_nr = 4, .sg_iovs = iov};
		int         ok  = 0;

		if (rpc->cr_co_bulk_hdl != CRT_BULK_NULL &&
		    crt_bulk_access(rpc->cr_co_bulk_hdl, &sgl) == 0 && sgl.sg_nr_out == 1 &&
		    iov[0].iov_len == in->c_len)
			ok = pattern_ok(iov[0].iov_buf, iov[0].iov_len);
		report(rpc, ok);
		crt_reply_send(rpc);
	} else if (in->c_mode == 2) {
		/* pull the root's buffer named in the input */
		struct pull         *p = calloc(1, sizeof(*p));
		d_iov_t              iov;
		d_sg_list_t          sgl = {.sg_nr = 1, .sg_iovs = &iov};
		struct crt_bulk_desc d   = {0};

		p->len = in->c_len;
		p->buf = malloc(p->len);
		d_iov_set(&iov, p->buf, p->len);
		if (crt_bulk_create(rpc->cr_ctx, &sgl, CRT_BULK_RW, &p->local) != 0)
			abort();
		crt_req_addref(rpc);
		d.bd_rpc        = rpc;
		d.bd_bulk_op    = CRT_BULK_GET;
		d.bd_remote_hdl = in->c_bulk;
		d.bd_local_hdl  = p->local;
		d.bd_len        = p->len;
		if (crt_bulk_transfer(&d, pulled, p, NULL) != 0) {
			report(rpc, 0);
			crt_reply_send(rpc);
			crt_bulk_free(p->local);
			free(p->buf);
			free(p);
			crt_req_decref(rpc);
		}
	} else if (in->c_mode == 4) {
		/* "destroy": reply, then this node stops at once */
		report(rpc, 1);
		crt_reply_send(rpc);
		handled = 1;
		stop    = 1;
	} else {
		/* the text as forwarded; the message goes once this node has replied */
		report(rpc, in->c_text.iov_len == sizeof(text) &&
				memcmp(in->c_text.iov_buf, text, sizeof(text)) == 0);
		if (crt_reply_send_input_free(rpc) != 0)
			abort();
	}
}

static int
check_aggregate(crt_rpc_t *src, crt_rpc_t *result, void *arg)
{
	struct check_out *s = crt_reply_get(src);
	struct check_out *d = crt_reply_get(result);

	(void)arg;
	d->k_ok |= s->k_ok;
	d->k_seen |= s->k_seen;
	return 0;
}

static void
ping_hdlr(crt_rpc_t *rpc)
{
	struct ping_in  *in  = crt_req_get(rpc);
	struct ping_out *out = crt_reply_get(rpc);

	out->p_rank = my_rank;
	if (in->p_free)
		crt_reply_send_input_free(rpc);
	else
		crt_reply_send(rpc);
}

static void
stop_hdlr(crt_rpc_t *rpc)
{
	crt_reply_send(rpc);
	stop = 1;
}



static struct crt_corpc_ops                check_ops = {.co_aggregate = check_aggregate};
static struct crt_proto_rpc_format prf[]     = {
    {.prf_req_fmt = &CQF_check, .prf_hdlr = check_hdlr, .prf_co_ops = &check_ops},
    {.prf_req_fmt = &CQF_ping, .prf_hdlr = ping_hdlr},
    {.prf_req_fmt = NULL, .prf_hdlr = stop_hdlr},
};
static struct crt_proto_format cpf = {
    .cpf_name = "launch_corpc_bulk", .cpf_ver = 1, .cpf_count = 3, .cpf_prf = prf, .cpf_base = BASE};

/* Join the group in the launcher's file; the secondary group's rank r is primary rank
 * nranks - 1 - r (so the numbers differ). */
static int
join(void)
{
	const char   *rank_s = getenv("CRT_L_RANK");
	const char   *cfg    = getenv("CRT_L_GRP_CFG");
	char          uri[256];
	unsigned int  r;
	FILE         *f;
	int           i;

	if (rank_s == NULL || cfg == NULL)
		return 2;
	my_rank = (d_rank_t)atoi(rank_s);
	if (crt_init("launch_grp", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
		return 3;
	if (crt_context_create(&ctx) != 0 || crt_rank_self_set(my_rank, 1) != 0 ||
	    crt_proto_register(&cpf) != 0)
		return 4;
	f = fopen(cfg, "r");
	if (f == NULL)
		return 5;
	while (fscanf(f, "%u %255s", &r, uri) == 2) {
		if (r != my_rank && crt_group_primary_rank_add(ctx, NULL, r, uri) != 0)
			return 6;
		nranks++;
	}
	fclose(f);
	if (nranks < 2 || nranks > MAX_RANKS)
		return 7;
	if (crt_group_secondary_create("launch_sec", crt_group_lookup(NULL), NULL, &sec_grp) != 0)
		return 8;
	for (i = 0; i < nranks; i++)
		if (crt_group_secondary_rank_add(sec_grp, (d_rank_t)i, (d_rank_t)(nranks - 1 - i)) != 0)
			return 9;
	return 0;
}

struct wait {
	int  done, rc;
	char out[64];
};

static void
done_cb(const struct crt_cb_info *info)
{
	struct wait *w = info->cci_arg;
	size_t       n = info->cci_rpc->cr_output_size;

	w->rc = info->cci_rc;
	if (w->rc == 0 && n > 0)
		memcpy(w->out, crt_reply_get(info->cci_rpc), n < sizeof(w->out) ? n : sizeof(w->out));
	w->done = 1;
}

static int
is_done(void *arg)
{
	return ((struct wait *)arg)->done;
}

static int
send_wait(crt_rpc_t *rpc, struct wait *w)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(crt_req_send(rpc, done_cb, w), 0);
	assert_int_equal(crt_progress_cond(ctx, 60 * 1000 * 1000, is_done, w), 0);
	return w->rc;
}

static int
ping(crt_group_t *grp, d_rank_t rank, uint32_t free_input, d_rank_t *who)
{
	crt_endpoint_t ep = {.ep_grp = grp, .ep_rank = rank, .ep_tag = 0};
	crt_rpc_t     *rpc;
	struct wait    w;
	int            rc;

	assert_int_equal(crt_req_create(ctx, &ep, OPC_PING, &rpc), 0);
	((struct ping_in *)crt_req_get(rpc))->p_free = free_input;
	assert_int_equal(crt_req_set_timeout(rpc, 2), 0);
	rc = send_wait(rpc, &w);
	if (rc == 0)
		*who = ((struct ping_out *)w.out)->p_rank;
	return rc;
}

static uint64_t
all_mask(void)
{
	return (nranks == 64) ? ~0ULL : (1ULL << nranks) - 1;
}

/* One collective of `mode`; returns the (ok, seen) masks. */
static void
collective(int topo, uint32_t mode, crt_bulk_t co_bulk, crt_bulk_t in_bulk, uint64_t *ok,
	   uint64_t *seen)
{
	crt_rpc_t       *rpc;
	struct check_in *in;
	struct wait      w;

	assert_int_equal(
	    crt_corpc_req_create(ctx, NULL, NULL, OPC_CHECK, co_bulk, NULL, 0, topo, &rpc), 0);
	in         = crt_req_get(rpc);
	in->c_mode = mode;
	in->c_len  = BULK_LEN;
	in->c_bulk = in_bulk;
	d_iov_set(&in->c_text, (void *)text, sizeof(text));
	assert_int_equal(send_wait(rpc, &w), 0);
	*ok   = ((struct check_out *)w.out)->k_ok;
	*seen = ((struct check_out *)w.out)->k_seen;
}

static void
test_launched_group(void **state)
{
	int         topos[] = {crt_tree_topo(CRT_TREE_KNOMIAL, 2), crt_tree_topo(CRT_TREE_KARY, 2),
			       crt_tree_topo(CRT_TREE_FLAT, 0)};
	uint8_t    *buf     = malloc(BULK_LEN);
	d_iov_t     iov;
	d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};
	crt_bulk_t  bulk;
	uint64_t    ok, seen;
	d_rank_t    who;
	int         i, r, tries;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < BULK_LEN; i++)
		buf[i] = pattern((size_t)i);
	d_iov_set(&iov, buf, BULK_LEN);
	assert_int_equal(crt_bulk_create(ctx, &sgl, CRT_BULK_RO, &bulk), 0);

	/* every rank up (they start at their own pace) */
	for (r = 1; r < nranks; r++) {
		for (tries = 0; ping(NULL, (d_rank_t)r, 0, &who) != 0; tries++)
			assert_true(tries < 30);
		assert_int_equal(who, r);
	}

	/* co_bulk_hdl reaches every node through the tree */
	for (i = 0; i < 3; i++) {
		collective(topos[i], 1, bulk, CRT_BULK_NULL, &ok, &seen);
		assert_int_equal(seen, all_mask());
		assert_int_equal(ok, all_mask());
	}
	/* no co_bulk_hdl: the handlers see none */
	collective(topos[0], 1, CRT_BULK_NULL, CRT_BULK_NULL, &ok, &seen);
	assert_int_equal(seen, all_mask());
	assert_int_equal(ok, 0);

	/* an explicit handle in the input, pulled by every handler from the root (its own too) */
	collective(topos[2], 2, CRT_BULK_NULL, bulk, &ok, &seen);
	assert_int_equal(seen, all_mask());
	assert_int_equal(ok, all_mask());

	/* input released early on every node: what each forwarded is still intact */
	for (i = 0; i < 3; i++) {
		collective(topos[i], 3, CRT_BULK_NULL, CRT_BULK_NULL, &ok, &seen);
		assert_int_equal(seen, all_mask());
		assert_int_equal(ok, all_mask());
	}

	/* a secondary group's rank r is primary rank nranks - 1 - r; plain RPCs with input_free */
	for (r = 0; r < nranks; r++) {
		assert_int_equal(ping(sec_grp, (d_rank_t)r, 1, &who), 0);
		assert_int_equal(who, nranks - 1 - r);
	}
	assert_int_not_equal(ping(sec_grp, (d_rank_t)nranks, 0, &who), 0);

	assert_int_equal(crt_bulk_free(bulk), 0);
	free(buf);
}

static void
stop_all(void)
{
	crt_endpoint_t ep = {0};
	crt_rpc_t     *rpc;
	struct wait    w;
	int            r;

	for (r = 1; r < nranks; r++) {
		ep.ep_rank = (d_rank_t)r;
		if (crt_req_create(ctx, &ep, OPC_STOP, &rpc) == 0) {
			crt_req_set_timeout(rpc, 5);
			memset(&w, 0, sizeof(w));
			if (crt_req_send(rpc, done_cb, &w) == 0)
				crt_progress_cond(ctx, 10 * 1000 * 1000, is_done, &w);
		}
	}
}

/* "destroy": one collective, every node gone right after its handler */
static int
run_destroy(void)
{
	crt_rpc_t       *rpc;
	struct check_in *in;
	d_rank_t         who;
	int              r, tries;

	alarm(40);
	if (my_rank == 0) {
		for (r = 1; r < nranks; r++)
			for (tries = 0; ping(NULL, (d_rank_t)r, 0, &who) != 0; tries++)
				if (tries > 30)
					return 30;
		if (crt_corpc_req_create(ctx, NULL, NULL, OPC_CHECK, NULL, NULL, 0,
					 crt_tree_topo(CRT_TREE_KNOMIAL, 2), &rpc) != 0)
			return 31;
		in         = crt_req_get(rpc);
		in->c_mode = 4;
		if (crt_req_send(rpc, NULL, NULL) != 0)
			return 32;
	}
	while (!stop)
		crt_progress(ctx, 1000);
	if (crt_context_destroy(ctx, 1) != 0)
		return 33;
	ctx = NULL;
	return handled ? 0 : 34;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_launched_group),
	};
	int rc = join();

	if (rc != 0) {
		fprintf(stderr, "rank %s: setup failed (%d)\n", getenv("CRT_L_RANK"), rc);
		return rc;
	}
	if (argc > 1 && strcmp(argv[1], "destroy") == 0) {
		rc = run_destroy();
		crt_group_secondary_destroy(sec_grp);
		crt_finalize();
		return rc;
	}
	if (my_rank == 0) {
		rc = cmocka_run_group_tests_name("cart corpc bulk (launched)", tests, NULL, NULL);
		stop_all();
	} else {
		alarm(150);
		while (!stop)
			crt_progress(ctx, 100 * 1000);
		/* let the stop reply leave */
		for (int i = 0; i < 5; i++)
			crt_progress(ctx, 10 * 1000);
	}
	crt_group_secondary_destroy(sec_grp);
	crt_context_destroy(ctx, 1);
	crt_finalize();
	return rc;
}
