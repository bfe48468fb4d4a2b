/* gurt/heap.h as C callers use it: ordering across all three indirection levels, removal of
 * arbitrary nodes, the enter/exit callbacks, the inline helpers, each lock mode, concurrent
 * inserts and bad arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <gurt/heap.h>

struct item {
	uint64_t              prio;
	struct d_binheap_node node;
	int                   entered;
	int                   exited;
};

#define ITEM(n) ((struct item *)((char *)(n) - offsetof(struct item, node)))

static bool
cmp(struct d_binheap_node *a, struct d_binheap_node *b)
{
	return ITEM(a)->prio < ITEM(b)->prio;
}

static int
on_enter(struct d_binheap *h, struct d_binheap_node *e)
{
	struct item *it = ITEM(e);

	if (it->prio == 666)
		return -DER_BUSY; /* refused */
	it->entered++;
	return 0;
}

static int
on_exit_(struct d_binheap *h, struct d_binheap_node *e)
{
	ITEM(e)->exited++;
	return 0;
}

static struct d_binheap_ops ops      = {.hop_enter = on_enter, .hop_exit = on_exit_, .hop_compare = cmp};
static struct d_binheap_ops cmp_only = {.hop_compare = cmp};

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 20;
}

/* Checks the heap property and that every node's index is its position. */
static void
check_heap(struct d_binheap *h)
{
	uint32_t i, n = d_binheap_size(h);

	for (i = 0; i < n; i++) {
		struct d_binheap_node *e = d_binheap_find(h, i);

		assert_non_null(e);
		assert_int_equal(e->chn_idx, i);
		if (i > 0)
			assert_false(cmp(e, d_binheap_find(h, (i - 1) / 2)));
	}
	assert_null(d_binheap_find(h, n));
}

static void
test_constants(void **state)
{
	(void)state;
	assert_int_equal(DBH_SHIFT, 9);
	assert_int_equal(DBH_SIZE, 512);
	assert_int_equal(DBH_MASK, 511);
	assert_int_equal(DBH_NOB, 512 * sizeof(void *));
	assert_int_equal(DBH_POISON, 0xdeadbeef);
	assert_int_equal(DBH_FT_NOLOCK, 1);
	assert_int_equal(DBH_FT_RWLOCK, 2);
	assert_int_equal(sizeof(struct d_binheap), 112);
}

/* Enough nodes to need the triple-indirect level: 512 + 512*512 + some. */
static void
test_sort_three_levels(void **state)
{
	const uint32_t    n = DBH_SIZE + DBH_SIZE * DBH_SIZE + 3000;
	struct item      *it = calloc(n, sizeof(*it));
	struct d_binheap *h;
	uint64_t          seed = 42, last = 0;
	uint32_t          i;

	(void)state;
	assert_int_equal(d_binheap_create(DBH_FT_NOLOCK, 0, (void *)0x77, &cmp_only, &h), 0);
	assert_ptr_equal(h->d_bh_priv, (void *)0x77);
	assert_int_equal(h->d_bh_hwm, 0);
	assert_true(d_binheap_is_empty(h));
	assert_null(d_binheap_root(h));
	assert_null(d_binheap_remove_root(h));
	for (i = 0; i < n; i++) {
		it[i].prio = lcg(&seed);
		assert_int_equal(d_binheap_insert(h, &it[i].node), 0);
	}
	assert_int_equal(d_binheap_size(h), n);
	assert_false(d_binheap_is_empty(h));
	assert_true(h->d_bh_hwm >= n && h->d_bh_hwm % DBH_SIZE == 0);
	assert_non_null(h->d_bh_nodes1);
	assert_non_null(h->d_bh_nodes2);
	assert_non_null(h->d_bh_nodes3);
	check_heap(h);
	for (i = 0; i < n; i++) {
		struct d_binheap_node *r = d_binheap_root(h);
		struct d_binheap_node *e = d_binheap_remove_root(h);

		assert_ptr_equal(r, e);
		assert_true(ITEM(e)->prio >= last);
		assert_int_equal(e->chn_idx, DBH_POISON);
		last = ITEM(e)->prio;
	}
	assert_true(d_binheap_is_empty(h));
	d_binheap_destroy(h);
	free(it);
}

static void
test_remove_any(void **state)
{
	struct item      it[300];
	struct d_binheap h;
	uint64_t         seed = 7, last = 0;
	int              i, n;

	(void)state;
	assert_int_equal(d_binheap_create_inplace(0, 600, NULL, &ops, &h), 0);
	assert_int_equal(h.d_bh_hwm, 1024); /* preallocated in DBH_SIZE steps */
	for (i = 0; i < 300; i++) {
		it[i].prio    = lcg(&seed) % 1000;
		it[i].entered = it[i].exited = 0;
		assert_int_equal(d_binheap_insert(&h, &it[i].node), 0);
		assert_int_equal(it[i].entered, 1);
	}
	/* remove every third node from wherever it is */
	for (i = 0; i < 300; i += 3) {
		d_binheap_remove(&h, &it[i].node);
		assert_int_equal(it[i].node.chn_idx, DBH_POISON);
		assert_int_equal(it[i].exited, 1);
		check_heap(&h);
	}
	assert_int_equal(d_binheap_size(&h), 200);
	/* removing a node that is not in the heap changes nothing */
	d_binheap_remove(&h, &it[0].node);
	assert_int_equal(d_binheap_size(&h), 200);
	assert_int_equal(it[0].exited, 1);
	n = 0;
	while (!d_binheap_is_empty(&h)) {
		struct d_binheap_node *e = d_binheap_remove_root(&h);

		assert_true(ITEM(e)->prio >= last);
		last = ITEM(e)->prio;
		n++;
	}
	assert_int_equal(n, 200);
	d_binheap_destroy_inplace(&h);
	assert_int_equal(h.d_bh_hwm, 0);
	assert_null(h.d_bh_nodes1);
	assert_null(h.d_bh_ops);
}

static void
test_enter_refuses(void **state)
{
	struct item       a = {.prio = 666}, b = {.prio = 1};
	struct d_binheap *h;

	(void)state;
	assert_int_equal(d_binheap_create(DBH_FT_RWLOCK, 1, NULL, &ops, &h), 0);
	assert_int_equal(d_binheap_insert(h, &a.node), -DER_BUSY);
	assert_int_equal(d_binheap_size(h), 0);
	assert_int_equal(d_binheap_insert(h, &b.node), 0);
	assert_ptr_equal(d_binheap_root(h), &b.node);
	assert_ptr_equal(d_binheap_remove_root(h), &b.node);
	assert_int_equal(b.exited, 1);
	d_binheap_destroy(h);
}

static void
test_bad_args(void **state)
{
	struct d_binheap_ops no_cmp = {.hop_enter = on_enter};
	struct d_binheap     h;
	struct d_binheap    *hp = NULL;
	struct item          a  = {.prio = 1};

	(void)state;
	assert_int_equal(d_binheap_create(0, 0, NULL, NULL, &hp), -DER_INVAL);
	assert_int_equal(d_binheap_create(0, 0, NULL, &no_cmp, &hp), -DER_INVAL);
	assert_int_equal(d_binheap_create(0, 0, NULL, &ops, NULL), -DER_INVAL);
	assert_null(hp);
	assert_int_equal(d_binheap_create_inplace(0, 0, NULL, NULL, &h), -DER_INVAL);
	assert_int_equal(d_binheap_create_inplace(0, 0, NULL, &no_cmp, &h), -DER_INVAL);
	assert_int_equal(d_binheap_create_inplace(0, 0, NULL, &ops, NULL), -DER_INVAL);
	assert_int_equal(d_binheap_insert(NULL, &a.node), -DER_INVAL);
	assert_int_equal(d_binheap_size(NULL), -DER_INVAL);
	assert_true(d_binheap_is_empty(NULL));
	assert_null(d_binheap_find(NULL, 0));
	assert_null(d_binheap_root(NULL));
	assert_null(d_binheap_remove_root(NULL));
	d_binheap_remove(NULL, &a.node);
	d_binheap_destroy(NULL);
	d_binheap_destroy_inplace(NULL);

	/* a zeroed (never created, or destroyed) heap */
	memset(&h, 0, sizeof(h));
	assert_int_equal(d_binheap_insert(&h, &a.node), -DER_UNINIT);
	assert_null(d_binheap_remove_root(&h));
	assert_null(d_binheap_find(&h, 0));

	assert_int_equal(d_binheap_create_inplace(0, 0, NULL, &cmp_only, &h), 0);
	assert_int_equal(d_binheap_insert(&h, NULL), -DER_INVAL);
	d_binheap_remove(&h, NULL);
	d_binheap_destroy_inplace(&h);
}

#define PER_THREAD 5000

struct worker {
	struct d_binheap *h;
	struct item      *it;
	int               errors;
};

static void *
inserter(void *arg)
{
	struct worker *w    = arg;
	uint64_t       seed = (uint64_t)(uintptr_t)w;
	int            i;

	for (i = 0; i < PER_THREAD; i++) {
		w->it[i].prio = lcg(&seed);
		if (d_binheap_insert(w->h, &w->it[i].node) != 0)
			w->errors++;
		if (i % 3 == 0 && d_binheap_remove_root(w->h) == NULL)
			w->errors++;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	static const uint32_t feats[] = {0, DBH_FT_RWLOCK};
	struct worker         w[2];
	pthread_t             th[2];
	size_t                f;
	int                   i;

	(void)state;
	for (f = 0; f < 2; f++) {
		struct d_binheap *h;
		uint64_t          last = 0;
		int               n    = 0;

		assert_int_equal(d_binheap_create(feats[f], 0, NULL, &cmp_only, &h), 0);
		for (i = 0; i < 2; i++) {
			w[i].h      = h;
			w[i].it     = calloc(PER_THREAD, sizeof(struct item));
			w[i].errors = 0;
			assert_int_equal(pthread_create(&th[i], NULL, inserter, &w[i]), 0);
		}
		for (i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(w[i].errors, 0);
		}
		check_heap(h);
		assert_int_equal(d_binheap_size(h), 2 * (PER_THREAD - (PER_THREAD + 2) / 3));
		while (!d_binheap_is_empty(h)) {
			struct d_binheap_node *e = d_binheap_remove_root(h);

			assert_true(ITEM(e)->prio >= last);
			last = ITEM(e)->prio;
			n++;
		}
		assert_int_equal(n, 2 * (PER_THREAD - (PER_THREAD + 2) / 3));
		d_binheap_destroy(h);
		for (i = 0; i < 2; i++)
			free(w[i].it);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constants),     cmocka_unit_test(test_sort_three_levels),
	    cmocka_unit_test(test_remove_any),    cmocka_unit_test(test_enter_refuses),
	    cmocka_unit_test(test_bad_args),      cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("gurt_heap", tests, NULL, NULL);
}
