/*
 * Tree topologies through libcart's exports (declared in <cart/crt_tree.h>): the flat, k-ary
 * and k-nomial position functions and their ops tables, and crt_tree_get_nchildren/children/
 * parent over the primary group with exclusion and inclusion filters and the version check.
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
#include <cart/crt_tree.h>

static void
check_children(struct crt_topo_ops *ops, uint32_t size, uint32_t ratio, uint32_t root,
	       uint32_t self, const uint32_t *want, uint32_t n)
{
	uint32_t got[64], cnt = 99, i;

	assert_int_equal(ops->to_get_children_cnt(size, ratio, root, self, &cnt), 0);
	assert_int_equal(cnt, n);
	if (n == 0)
		return;
	memset(got, 0xff, sizeof(got));
	assert_int_equal(ops->to_get_children(size, ratio, root, self, got), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
	assert_int_equal(got[n], 0xffffffffu); /* nothing written past the count */
}

static void
test_positions(void **state)
{
	uint32_t p = 99, c[64];

	(void)state;
	assert_ptr_equal(crt_tops[CRT_TREE_INVALID], NULL);
	assert_ptr_equal(crt_tops[CRT_TREE_FLAT], &crt_flat_ops);
	assert_ptr_equal(crt_tops[CRT_TREE_KARY], &crt_kary_ops);
	assert_ptr_equal(crt_tops[CRT_TREE_KNOMIAL], &crt_knomial_ops);
	assert_ptr_equal(crt_kary_ops.to_get_parent, crt_kary_get_parent);

	/* flat: the root lists everyone else; others are leaves and may not ask for children */
	check_children(&crt_flat_ops, 5, 0, 3, 3, (uint32_t[]){0, 1, 2, 4}, 4);
	check_children(&crt_flat_ops, 5, 0, 3, 1, NULL, 0);
	assert_int_equal(crt_flat_get_children(5, 0, 3, 1, c), -DER_INVAL);
	assert_int_equal(crt_flat_get_parent(5, 0, 3, 1, &p), 0);
	assert_int_equal(p, 3);
	assert_int_equal(crt_flat_get_parent(5, 0, 3, 3, &p), -DER_INVAL);

	/* k-ary 3 over 13 rooted at 4: tree rank t = (pos - 4) mod 13 */
	check_children(&crt_kary_ops, 13, 3, 4, 4, (uint32_t[]){5, 6, 7}, 3);
	check_children(&crt_kary_ops, 13, 3, 4, 5, (uint32_t[]){8, 9, 10}, 3);
	check_children(&crt_kary_ops, 13, 3, 4, 7, (uint32_t[]){1, 2, 3}, 3);
	check_children(&crt_kary_ops, 13, 3, 4, 8, NULL, 0);
	assert_int_equal(crt_kary_get_parent(13, 3, 4, 2, &p), 0);
	assert_int_equal(p, 7);

	/* binomial over 16 from 0: 1, 2, 4, 8; 12 -> 13, 14; 14 -> 15 */
	check_children(&crt_knomial_ops, 16, 2, 0, 0, (uint32_t[]){1, 2, 4, 8}, 4);
	check_children(&crt_knomial_ops, 16, 2, 0, 12, (uint32_t[]){13, 14}, 2);
	check_children(&crt_knomial_ops, 16, 2, 0, 14, (uint32_t[]){15}, 1);
	assert_int_equal(crt_knomial_get_parent(16, 2, 0, 15, &p), 0);
	assert_int_equal(p, 14);
	assert_int_equal(crt_knomial_get_parent(16, 2, 0, 0, &p), -DER_INVAL);
	/* 4-nomial over 20 from 0: 1,2,3, 4,8,12, 16 */
	check_children(&crt_knomial_ops, 20, 4, 0, 0, (uint32_t[]){1, 2, 3, 4, 8, 12, 16}, 7);

	/* where upstream asserts, oxidaos refuses */
	assert_int_equal(crt_kary_get_children_cnt(0, 2, 0, 0, &p), -DER_INVAL);
	assert_int_equal(crt_kary_get_children_cnt(4, 1, 0, 0, &p), -DER_INVAL);
	assert_int_equal(crt_knomial_get_children_cnt(4, 65, 0, 0, &p), -DER_INVAL);
	assert_int_equal(crt_knomial_get_parent(4, 2, 0, 4, &p), -DER_INVAL);
	assert_int_equal(crt_kary_get_children(4, 2, 0, 0, NULL), -DER_INVAL);
}

static d_rank_list_t *
list(uint32_t n, const d_rank_t *r)
{
	static d_rank_list_t l;

	l.rl_nr    = n;
	l.rl_ranks = (d_rank_t *)r;
	return &l;
}

static void
expect_children(uint32_t ver, bool invert, d_rank_list_t *filter, int topo, d_rank_t root,
		d_rank_t self, const d_rank_t *want, uint32_t n)
{
	d_rank_list_t *got = (d_rank_list_t *)1;
	bool           match = false;
	uint32_t       i;

	assert_int_equal(
	    crt_tree_get_children(NULL, ver, invert, filter, topo, root, self, &got, &match), 0);
	assert_true(match);
	if (n == 0) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_int_equal(got->rl_nr, n);
	for (i = 0; i < n; i++)
		assert_int_equal(got->rl_ranks[i], want[i]);
	free(got->rl_ranks);
	free(got);
}

static void
test_group_trees(void **state)
{
	crt_context_t  ctx;
	d_rank_t       add[] = {50, 20, 40, 30}, ex[] = {20}, only[] = {50, 20}, bad[] = {20, 60};
	char          *uris[] = {"ofi+tcp://127.0.0.1:1", "ofi+tcp://127.0.0.1:2",
				 "ofi+tcp://127.0.0.1:3", "ofi+tcp://127.0.0.1:4"};
	uint64_t       inc[] = {1, 1, 1, 1};
	d_rank_list_t  l = {.rl_ranks = add, .rl_nr = 4}, *got;
	int            bin = crt_tree_topo(CRT_TREE_KNOMIAL, 2);
	int            kary = crt_tree_topo(CRT_TREE_KARY, 2);
	uint32_t       n, v;
	d_rank_t       p;
	bool           match = true;
	char           port[16];

	(void)state;
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	snprintf(port, sizeof(port), "%d", 24000 + (getpid() + 7) % 20000);
	setenv("D_PORT", port, 1);
	assert_int_equal(crt_init("tree_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE), 0);
	assert_int_equal(crt_context_create(&ctx), 0);
	assert_int_equal(crt_rank_self_set(10, 1), 0);
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris,
						  CRT_GROUP_MOD_OP_ADD, 3), 0);
	assert_int_equal(crt_group_version(NULL, &v), 0);
	assert_int_equal(v, 3);

	/* members 10,20,30,40,50 (positions 0..4) */
	expect_children(3, false, NULL, bin, 10, 10, (d_rank_t[]){20, 30, 50}, 3);
	expect_children(3, false, NULL, bin, 10, 30, (d_rank_t[]){40}, 1);
	expect_children(3, false, NULL, bin, 10, 50, NULL, 0);
	/* rooted at 30: positions rotate, 30 40 50 10 20 */
	expect_children(3, false, NULL, kary, 30, 30, (d_rank_t[]){40, 50}, 2);
	expect_children(3, false, NULL, kary, 30, 40, (d_rank_t[]){10, 20}, 2);
	/* excluding 20: 10,30,40,50 */
	expect_children(3, false, list(1, ex), bin, 10, 10, (d_rank_t[]){30, 40}, 2);
	assert_int_equal(crt_tree_get_parent(NULL, 3, list(1, ex), bin, 10, 50, &p), 0);
	assert_int_equal(p, 40);
	assert_int_equal(crt_tree_get_nchildren(NULL, 3, list(1, ex), bin, 10, 40, &n), 0);
	assert_int_equal(n, 1);
	/* the excluded rank is no longer in the tree */
	assert_int_equal(crt_tree_get_parent(NULL, 3, list(1, ex), bin, 10, 20, &p),
			 -DER_NONEXIST);
	/* inverted: only 50 and 20 */
	expect_children(3, true, list(2, only), bin, 50, 50, (d_rank_t[]){20}, 1);
	assert_int_equal(crt_tree_get_children(NULL, 3, true, list(2, bad), bin, 20, 20, &got,
					       &match),
			 -DER_OOG);
	/* a stale version */
	assert_int_equal(crt_tree_get_children(NULL, 2, false, NULL, bin, 10, 10, &got, &match),
			 -DER_GRPVER);
	assert_false(match);
	/* no version check without ver_match */
	assert_int_equal(crt_tree_get_children(NULL, 2, false, NULL, bin, 10, 50, &got, NULL), 0);
	assert_null(got);
	/* bad input */
	assert_int_equal(crt_tree_get_nchildren(NULL, 3, NULL, 0, 10, 10, &n), -DER_INVAL);
	assert_int_equal(crt_tree_get_nchildren(NULL, 3, NULL, bin, 10, 10, NULL), -DER_INVAL);
	assert_int_equal(crt_tree_get_parent(NULL, 3, NULL, bin, 10, 10, &p), -DER_INVAL);
	assert_int_equal(crt_tree_get_parent(NULL, 3, NULL, bin, 11, 10, &p), -DER_NONEXIST);

	/* a secondary group (upstream's private group starts with the public handle): its own
	 * rank numbers 0, 1, 2 for primary 40, 20, 10 */
	{
		d_rank_t      sr[] = {40, 20, 10};
		d_rank_list_t sl   = {.rl_ranks = sr, .rl_nr = 3};
		crt_group_t  *sec;

		assert_int_equal(crt_group_secondary_create("tree_sec", crt_group_lookup(NULL), &sl,
							    &sec),
				 0);
		assert_int_equal(crt_tree_get_children((struct crt_grp_priv *)sec, 0, false, NULL,
						       kary, 0, 0, &got, NULL),
				 0);
		assert_non_null(got);
		assert_int_equal(got->rl_nr, 2);
		assert_int_equal(got->rl_ranks[0], 1);
		assert_int_equal(got->rl_ranks[1], 2);
		free(got->rl_ranks);
		free(got);
		assert_int_equal(crt_tree_get_parent((struct crt_grp_priv *)sec, 0, NULL, kary, 0, 2,
						     &p),
				 0);
		assert_int_equal(p, 0);
		/* primary rank 50 is no secondary rank */
		assert_int_equal(crt_tree_get_nchildren((struct crt_grp_priv *)sec, 0, NULL, kary, 0,
							50, &n),
				 -DER_NONEXIST);
		assert_int_equal(crt_group_secondary_destroy(sec), 0);
	}

	assert_int_equal(crt_context_destroy(ctx, 1), 0);
	assert_int_equal(crt_finalize(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positions),
	    cmocka_unit_test(test_group_trees),
	};

	return cmocka_run_group_tests_name("cart tree", tests, NULL, NULL);
}
