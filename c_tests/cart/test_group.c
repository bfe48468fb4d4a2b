/*
 * The primary group through libcart's exports: crt_rank_self_set, crt_group_size/ranks_get/
 * rank/version, crt_group_primary_modify ADD/REMOVE/REPLACE with upstream's version rules
 * (-DER_GRPVER below the minimum or when the version does not advance, and on a process with
 * no self rank), the event callbacks a modification fires, crt_rank_uri_get (own contexts,
 * added ranks, derived tag ports), crt_group_rank_remove, and an RPC to a removed rank.
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

struct ev {
	d_rank_t             rank;
	uint64_t             inc;
	enum crt_event_source src;
	enum crt_event_type  type;
};
static struct ev evs[16];
static int       nev;

static void
ev_cb(d_rank_t rank, uint64_t inc, enum crt_event_source src, enum crt_event_type type, void *arg)
{
	assert_ptr_equal(arg, evs);
	if (nev < 16)
		evs[nev++] = (struct ev){rank, inc, src, type};
}

static void
check_ranks(const d_rank_t *want, uint32_t n)
{
	d_rank_list_t *l = NULL;
	uint32_t       size, i;

	assert_int_equal(crt_group_size(NULL, &size), 0);
	assert_int_equal(size, n);
	assert_int_equal(crt_group_ranks_get(NULL, &l), 0);
	assert_int_equal(l->rl_nr, n);
	for (i = 0; i < n; i++)
		assert_int_equal(l->rl_ranks[i], want[i]);
	/* what d_rank_list_free does (libgurt does not export it yet) */
	free(l->rl_ranks);
	free(l);
}

static int cb_rc, cb_done;

static void
rpc_cb(const struct crt_cb_info *info)
{
	cb_rc   = info->cci_rc;
	cb_done = 1;
}

static struct crt_proto_rpc_format prf[1] = {{.prf_req_fmt = NULL}};
static struct crt_proto_format     cpf    = {
    .cpf_name = "grp", .cpf_ver = 1, .cpf_count = 1, .cpf_prf = prf, .cpf_base = 0x44000000};

static void
test_primary(void **state)
{
	crt_context_t  ctx;
	d_rank_t       r12[]  = {1, 2};
	d_rank_t       r023[] = {0, 2, 3};
	d_rank_t       r3[]   = {3};
	uint64_t       inc[]  = {11, 12, 13};
	char          *uris[] = {"ofi+tcp://127.0.0.1:7100", "ofi+tcp://127.0.0.1:7200",
				 "ofi+tcp://127.0.0.1:7300"};
	char          *uris023[3];
	d_rank_list_t  l;
	char          *uri, *self;
	uint32_t       v;
	d_rank_t       rank;
	crt_endpoint_t ep = {.ep_grp = NULL, .ep_rank = 2, .ep_tag = 0};
	crt_rpc_t     *rpc;
	char           port[16];

	(void)state;
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	snprintf(port, sizeof(port), "%d", 24000 + getpid() % 20000);
	setenv("D_PORT", port, 1);
	assert_int_equal(crt_group_size(NULL, &v), -DER_UNINIT);
	assert_int_equal(crt_init("grp_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE), 0);
	assert_int_equal(crt_context_create(&ctx), 0);
	assert_int_equal(crt_proto_register(&cpf), 0);
	assert_int_equal(crt_register_event_cb(ev_cb, evs), 0);

	/* before a self rank: no minimum version, so no modification */
	l.rl_ranks = r12;
	l.rl_nr    = 2;
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris,
						  CRT_GROUP_MOD_OP_ADD, 5),
			 -DER_GRPVER);
	assert_int_equal(crt_rank_self_set(CRT_NO_RANK, 1), -DER_INVAL);
	assert_int_equal(crt_rank_self_set(0, 0), -DER_INVAL);
	assert_int_equal(crt_rank_self_set(0, 2), 0);
	assert_int_equal(crt_rank_self_set(1, 2), -DER_INVAL); /* only once */
	assert_int_equal(crt_group_rank(NULL, &rank), 0);
	assert_int_equal(rank, 0);
	check_ranks((d_rank_t[]){0}, 1);

	/* own URI through the group: the context's */
	assert_int_equal(crt_rank_uri_get(NULL, 0, 0, &uri), 0);
	assert_int_equal(crt_context_uri_get(ctx, &self), 0);
	assert_string_equal(uri, self);
	free(uri);
	free(self);

	/* ADD: stale versions refused */
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris,
						  CRT_GROUP_MOD_OP_ADD, 1),
			 -DER_GRPVER); /* below the minimum */
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, NULL,
						  CRT_GROUP_MOD_OP_ADD, 2),
			 -DER_INVAL); /* adding needs URIs */
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris,
						  (crt_group_mod_op_t)7, 2),
			 -DER_INVAL);
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris,
						  CRT_GROUP_MOD_OP_ADD, 2),
			 0);
	assert_int_equal(crt_group_version(NULL, &v), 0);
	assert_int_equal(v, 2);
	check_ranks((d_rank_t[]){0, 1, 2}, 3);
	assert_int_equal(nev, 2);
	assert_int_equal(evs[0].rank, 1);
	assert_int_equal(evs[0].inc, 11);
	assert_int_equal(evs[0].src, CRT_EVS_GRPMOD);
	assert_int_equal(evs[0].type, CRT_EVT_ALIVE);
	assert_int_equal(evs[1].rank, 2);
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris,
						  CRT_GROUP_MOD_OP_ADD, 2),
			 -DER_GRPVER); /* the same version again */
	assert_int_equal(crt_rank_uri_get(NULL, 2, 3, &uri), 0);
	assert_string_equal(uri, "ofi+tcp://127.0.0.1:7203"); /* tag 3: port + 3 */
	free(uri);

	/* REPLACE {0, 2, 3}: 3 comes, 1 goes */
	nev        = 0;
	uris023[0] = uris[0];
	uris023[1] = uris[1];
	uris023[2] = uris[2];
	l.rl_ranks = r023;
	l.rl_nr    = 3;
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris023,
						  CRT_GROUP_MOD_OP_REPLACE, 3),
			 0);
	check_ranks((d_rank_t[]){0, 2, 3}, 3);
	assert_int_equal(nev, 2);
	assert_int_equal(evs[0].rank, 3);
	assert_int_equal(evs[0].type, CRT_EVT_ALIVE);
	assert_int_equal(evs[1].rank, 1);
	assert_int_equal(evs[1].type, CRT_EVT_DEAD);
	assert_int_equal(crt_rank_uri_get(NULL, 1, 0, &uri), -DER_OOG);

	/* REMOVE {3} (URIs not needed) */
	nev        = 0;
	l.rl_ranks = r3;
	l.rl_nr    = 1;
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, NULL, NULL,
						  CRT_GROUP_MOD_OP_REMOVE, 3),
			 -DER_GRPVER);
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, NULL, NULL,
						  CRT_GROUP_MOD_OP_REMOVE, 4),
			 0);
	check_ranks((d_rank_t[]){0, 2}, 2);
	assert_int_equal(nev, 1);
	assert_int_equal(evs[0].type, CRT_EVT_DEAD);
	l.rl_nr = 0;
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, NULL, NULL,
						  CRT_GROUP_MOD_OP_REMOVE, 5),
			 -DER_INVAL);

	/* crt_group_version_set, crt_group_rank_remove, and an RPC to the removed rank */
	assert_int_equal(crt_group_version_set(NULL, 9), 0);
	assert_int_equal(crt_group_version(NULL, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(crt_group_rank_remove(NULL, 2), 0);
	assert_int_equal(crt_group_rank_remove(NULL, 2), -DER_OOG);
	check_ranks((d_rank_t[]){0}, 1);
	assert_int_equal(crt_req_create(ctx, &ep, CRT_PROTO_OPC(0x44000000, 1, 0), &rpc), 0);
	assert_int_equal(crt_req_send(rpc, rpc_cb, NULL), 0);
	assert_int_equal(cb_done, 1);
	assert_int_equal(cb_rc, -DER_OOG);

	/* lookup and views */
	{
		crt_group_t *pg = crt_group_lookup(NULL), *view = NULL;
		uint32_t     vsize = 0;
		d_rank_list_t *vl  = NULL;

		assert_non_null(pg);
		assert_string_equal(pg->cg_grpid, "grp_srv");
		assert_ptr_equal(crt_group_lookup("grp_srv"), pg);
		assert_null(crt_group_lookup("srv_view"));
		assert_null(crt_group_lookup("bad;name"));
		assert_int_equal(crt_group_view_create(NULL, &view), -DER_INVAL);
		assert_int_equal(crt_group_view_create("srv_view", &view), 0);
		assert_string_equal(view->cg_grpid, "srv_view");
		assert_ptr_equal(crt_group_lookup("srv_view"), view);
		assert_int_equal(crt_group_primary_rank_add(ctx, view, 5, "ofi+tcp://127.0.0.1:7500"), 0);
		assert_int_equal(crt_group_primary_rank_add(ctx, view, 4, "ofi+tcp://127.0.0.1:7400"), 0);
		assert_int_equal(crt_group_size(view, &vsize), 0);
		assert_int_equal(vsize, 2);
		assert_int_equal(crt_group_ranks_get(view, &vl), 0);
		assert_int_equal(vl->rl_nr, 2);
		assert_int_equal(vl->rl_ranks[0], 4);
		assert_int_equal(vl->rl_ranks[1], 5);
		free(vl->rl_ranks);
		free(vl);
		assert_int_equal(crt_rank_uri_get(view, 5, 2, &uri), 0);
		assert_string_equal(uri, "ofi+tcp://127.0.0.1:7502");
		free(uri);
		assert_int_equal(crt_rank_uri_get(view, 6, 0, &uri), -DER_OOG);
		check_ranks((d_rank_t[]){0}, 1); /* the primary is untouched */
		assert_int_equal(crt_group_view_destroy(view), 0);
		assert_null(crt_group_lookup("srv_view"));
	}

	/* secondary groups: translation tables, modify, auto-remove */
	{
		crt_group_t   *pg = crt_group_lookup(NULL), *sg = NULL;
		d_rank_t       r78[] = {7, 8}, sr[] = {8, 0}, sm[] = {1, 9}, pm[] = {0, 7};
		d_rank_list_t  rl = {.rl_ranks = r78, .rl_nr = 2};
		d_rank_list_t  sl = {.rl_ranks = sr, .rl_nr = 2};
		d_rank_list_t  sml = {.rl_ranks = sm, .rl_nr = 2}, pml = {.rl_ranks = pm, .rl_nr = 2};
		uint64_t       inc2[] = {1, 2};
		char          *u2[] = {"ofi+tcp://127.0.0.1:7700", "ofi+tcp://127.0.0.1:7800"};
		d_rank_t       out;
		uint32_t       n;

		assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &rl, inc2, u2,
							  CRT_GROUP_MOD_OP_ADD, 10), 0);
		assert_int_equal(crt_group_secondary_create("sec1", NULL, &sl, &sg), -DER_INVAL);
		assert_int_equal(crt_group_secondary_create("sec1", pg, &sl, &sg), 0);
		assert_int_equal(crt_group_secondary_create("sec1", pg, NULL, &sg), -DER_EXIST);
		assert_ptr_equal(crt_group_lookup("sec1"), sg);
		assert_int_equal(crt_group_rank_p2s(sg, 0, &out), 0);
		assert_int_equal(out, 1);
		assert_int_equal(crt_group_rank_s2p(sg, 0, &out), 0);
		assert_int_equal(out, 8);
		assert_int_equal(crt_group_rank_p2s(sg, 7, &out), -DER_OOG);
		assert_int_equal(crt_group_rank_s2p(sg, 4, &out), -DER_OOG);
		assert_int_equal(crt_group_rank_p2s(pg, 7, &out), 0); /* the primary: itself */
		assert_int_equal(out, 7);
		assert_int_equal(crt_group_rank_p2s(NULL, 7, &out), -DER_INVAL);
		assert_int_equal(crt_group_rank(sg, &out), 0);
		assert_int_equal(out, 1); /* my primary rank 0 is secondary rank 1 */
		assert_int_equal(crt_group_secondary_rank_add(sg, 5, 7), 0);
		assert_int_equal(crt_group_secondary_rank_add(sg, 5, 7), -DER_EXIST);
		assert_int_equal(crt_group_secondary_rank_add(pg, 6, 7), -DER_INVAL);
		assert_int_equal(crt_group_size(sg, &n), 0);
		assert_int_equal(n, 3);

		/* upstream adds before it removes: primary 7 is still secondary 5's when 9 would
		 * take it, so the whole modification is refused and undone */
		assert_int_equal(crt_group_secondary_modify(sg, &sml, &pml, CRT_GROUP_MOD_OP_REPLACE, 2),
				 -DER_EXIST);
		assert_int_equal(crt_group_size(sg, &n), 0);
		assert_int_equal(n, 3);
		assert_int_equal(crt_group_rank_s2p(sg, 9, &out), -DER_OOG);
		assert_int_equal(crt_group_version(sg, &n), 0);
		assert_int_equal(n, 0);
		/* removing through the secondary handle: secondary rank 5 only, the primary keeps 7 */
		assert_int_equal(crt_group_size(NULL, &n), 0);
		assert_int_equal(n, 3);
		assert_int_equal(crt_group_rank_remove(sg, 5), 0);
		assert_int_equal(crt_group_rank_remove(sg, 5), -DER_OOG);
		assert_int_equal(crt_group_rank_p2s(sg, 7, &out), -DER_OOG);
		assert_int_equal(crt_group_size(NULL, &n), 0);
		assert_int_equal(n, 3);
		assert_int_equal(crt_group_size(sg, &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(crt_group_secondary_modify(sg, &sml, &pml, CRT_GROUP_MOD_OP_REPLACE, 2), 0);
		assert_int_equal(crt_group_size(sg, &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(crt_group_version(sg, &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(crt_group_version(NULL, &n), 0);
		assert_int_equal(n, 10);
		{
			d_rank_list_t *got = NULL;

			/* list order: 1 kept its slot, 9 took the slot 5 left */
			assert_int_equal(crt_group_ranks_get(sg, &got), 0);
			assert_int_equal(got->rl_nr, 2);
			assert_int_equal(got->rl_ranks[0], 1);
			assert_int_equal(got->rl_ranks[1], 9);
			d_rank_list_free(got);
		}
		assert_int_equal(crt_group_rank_s2p(sg, 9, &out), 0);
		assert_int_equal(out, 7);
		assert_int_equal(crt_group_rank_s2p(sg, 0, &out), -DER_OOG);
		assert_int_equal(crt_group_secondary_modify(sg, &sml, NULL, CRT_GROUP_MOD_OP_ADD, 3), -DER_INVAL);

		/* auto-remove: a rank leaving the primary leaves the secondary */
		assert_int_equal(crt_group_auto_rank_remove(pg, true), 0);
		assert_int_equal(crt_group_rank_remove(NULL, 7), 0);
		assert_int_equal(crt_group_rank_p2s(sg, 7, &out), -DER_OOG);
		assert_int_equal(crt_group_size(sg, &n), 0);
		assert_int_equal(n, 1);

		assert_int_equal(crt_group_secondary_destroy(sg), 0);
		assert_int_equal(crt_group_secondary_destroy(sg), -DER_INVAL);
		assert_null(crt_group_lookup("sec1"));
	}

	assert_int_equal(crt_unregister_event_cb(ev_cb, evs), 0);
	assert_int_equal(crt_context_destroy(ctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	unsetenv("D_PORT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_primary),
	};

	return cmocka_run_group_tests_name("cart_group", tests, NULL, NULL);
}
