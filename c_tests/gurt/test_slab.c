/* gurt/slab.h as C callers use it: registration, the acquire/release/restock cycle and its
 * counters, the init/reset/release callbacks, descriptor limits, reclaim and destroy, two
 * threads on one type, and bad arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <gurt/slab.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"

struct desc {
	int      magic;
	int      resets;
	d_list_t link;
	void    *handle;
	char     payload[40];
};

static int n_init, n_release, fail_reset_after = -1;

static void
d_init(void *p, void *handle)
{
	struct desc *d = p;

	d->magic  = 0x5eed;
	d->handle = handle;
	n_init++;
}

static bool
d_reset(void *p)
{
	struct desc *d = p;

	assert_int_equal(d->magic, 0x5eed);
	if (fail_reset_after == 0)
		return false;
	if (fail_reset_after > 0)
		fail_reset_after--;
	d->resets++;
	return true;
}

static void
d_release(void *p)
{
	n_release++;
}

static struct d_slab_reg reg = {
    .sr_init    = d_init,
    .sr_reset   = d_reset,
    .sr_release = d_release,
    POOL_TYPE_INIT(desc, link)};

static void
reset_counts(void)
{
	n_init = n_release = 0;
	fail_reset_after   = -1;
}

static void
test_layout_macro(void **state)
{
	(void)state;
	assert_int_equal(reg.sr_size, sizeof(struct desc));
	assert_int_equal(reg.sr_offset, offsetof(struct desc, link));
	assert_string_equal(reg.sr_name, "desc");
	assert_int_equal(sizeof(struct d_slab), 72);
	assert_int_equal(sizeof(struct d_slab_type), 192);
	assert_int_equal(sizeof(struct d_slab_reg), 48);
}

static void
test_cycle(void **state)
{
	struct d_slab       slab;
	struct d_slab_type *t;
	struct desc        *d[5];
	int                 i;

	(void)state;
	reset_counts();
	memset(&slab, 0, sizeof(slab));
	assert_int_equal(d_slab_init(&slab, NULL), 0);
	assert_true(slab.slab_init);
	assert_int_equal(d_slab_register(&slab, &reg, (void *)0xabc, &t), 0);
	/* registration pre-creates one descriptor (no-restock hwm 0, plus one) */
	assert_int_equal(t->st_count, 1);
	assert_int_equal(t->st_free_count, 1);
	assert_int_equal(t->st_init_count, 1);
	assert_int_equal(n_init, 1);
	assert_ptr_equal(t->st_slab, &slab);
	assert_ptr_equal(t->st_arg, (void *)0xabc);

	for (i = 0; i < 5; i++) {
		d[i] = d_slab_acquire(t);
		assert_non_null(d[i]);
		assert_int_equal(d[i]->magic, 0x5eed);
		assert_ptr_equal(d[i]->handle, (void *)0xabc);
		/* handed out unlinked */
		assert_null(d[i]->link.next);
		assert_null(d[i]->link.prev);
	}
	assert_int_equal(t->st_count, 5);
	assert_int_equal(t->st_op_init, 4); /* created on the critical path */
	assert_int_equal(t->st_no_restock, 5);
	for (i = 0; i < 5; i++)
		d_slab_release(t, d[i]);
	assert_int_equal(t->st_pending_count, 5);
	assert_int_equal(t->st_free_count, 0);

	/* restock: hwm becomes 5, pending are reset onto the free list, one more is created */
	d_slab_restock(t);
	assert_int_equal(t->st_no_restock_hwm, 5);
	assert_int_equal(t->st_no_restock, 0);
	assert_int_equal(t->st_pending_count, 0);
	assert_int_equal(t->st_free_count, 6);
	assert_int_equal(t->st_count, 6);
	assert_int_equal(t->st_reset_count, 5);

	/* now acquires need no allocation */
	for (i = 0; i < 5; i++)
		d[i] = d_slab_acquire(t);
	assert_int_equal(t->st_op_init, 4);
	assert_int_equal(t->st_count, 6);
	for (i = 0; i < 5; i++)
		d_slab_release(t, d[i]);

	/* acquire with an empty free list resets a pending descriptor on the spot */
	for (i = 0; i < 1; i++)
		d[i] = d_slab_acquire(t);
	assert_int_equal(t->st_free_count, 0);
	d[1] = d_slab_acquire(t);
	assert_int_equal(t->st_op_reset, 1);
	d_slab_release(t, d[0]);
	d_slab_release(t, d[1]);

	/* reclaim frees every idle descriptor, with sr_release */
	assert_false(d_slab_reclaim(&slab));
	assert_int_equal(t->st_count, 0);
	assert_int_equal(n_release, 6);
	assert_int_equal(t->st_release_count, 6);
	d[0] = d_slab_acquire(t);
	assert_true(d_slab_reclaim(&slab)); /* one still in use */
	d_slab_release(t, d[0]);
	d_slab_destroy(&slab);
}

static void
test_limits(void **state)
{
	struct d_slab       slab;
	struct d_slab_reg   r = reg;
	struct d_slab_type *t;
	struct desc        *d[4];
	int                 i;

	(void)state;
	reset_counts();
	assert_int_equal(d_slab_init(&slab, NULL), 0);
	r.sr_max_desc = 3;
	assert_int_equal(d_slab_register(&slab, &r, NULL, &t), 0);
	for (i = 0; i < 3; i++)
		assert_non_null(d[i] = d_slab_acquire(t));
	assert_null(d_slab_acquire(t)); /* at the limit */
	d_slab_release(t, d[0]);
	d_slab_restock(t); /* recycles, never allocates with max_desc */
	assert_int_equal(t->st_count, 3);
	assert_ptr_equal(d_slab_acquire(t), d[0]);
	for (i = 0; i < 3; i++)
		d_slab_release(t, d[i]);

	/* max_free_desc caps the free list */
	r             = reg;
	r.sr_name     = "capped";
	r.sr_max_free_desc = 2;
	{
		struct d_slab_type *c;
		struct desc        *e[6];

		assert_int_equal(d_slab_register(&slab, &r, NULL, &c), 0);
		for (i = 0; i < 6; i++)
			e[i] = d_slab_acquire(c);
		for (i = 0; i < 6; i++)
			d_slab_release(c, e[i]);
		d_slab_restock(c);
		assert_int_equal(c->st_free_count, 2);
		assert_int_equal(c->st_pending_count, 4);
		/* reclaim still frees them all, two at a time */
		assert_false(d_slab_reclaim(&slab));
		assert_int_equal(c->st_count, 0);
		assert_int_equal(c->st_pending_count, 0);
	}
	d_slab_destroy(&slab); /* frees both types and every idle descriptor */
}

static void
test_reset_failures(void **state)
{
	struct d_slab       slab;
	struct d_slab_type *t;
	struct desc        *d;

	(void)state;
	reset_counts();
	assert_int_equal(d_slab_init(&slab, NULL), 0);
	/* a type whose reset always fails cannot be registered */
	fail_reset_after = 0;
	t                = (void *)0x1;
	assert_int_equal(d_slab_register(&slab, &reg, NULL, &t), -DER_INVAL);
	assert_ptr_equal(t, (void *)0x1);

	fail_reset_after = -1;
	assert_int_equal(d_slab_register(&slab, &reg, NULL, &t), 0);
	d = d_slab_acquire(t);
	d_slab_release(t, d);
	/* a descriptor failing its recycle reset is freed, not reused */
	fail_reset_after = 0;
	d_slab_restock(t);
	assert_int_equal(t->st_pending_count, 0);
	fail_reset_after = -1;
	d_slab_destroy(&slab);
}

static void
test_bad_args(void **state)
{
	struct d_slab       slab;
	struct d_slab_reg   r = reg;
	struct d_slab_type *t = NULL;

	(void)state;
	assert_int_equal(d_slab_init(&slab, NULL), 0);
	r.sr_name = NULL;
	assert_int_equal(d_slab_register(&slab, &r, NULL, &t), -DER_INVAL);
	r        = reg;
	r.sr_offset = r.sr_size; /* the list entry would lie outside the descriptor */
	assert_int_equal(d_slab_register(&slab, &r, NULL, &t), -DER_INVAL);
	assert_int_equal(d_slab_register(&slab, NULL, NULL, &t), -DER_INVAL);
	assert_int_equal(d_slab_register(&slab, &reg, NULL, NULL), -DER_INVAL);
	assert_null(t);
	assert_null(d_slab_acquire(NULL));
	d_slab_release(NULL, NULL);
	d_slab_restock(NULL);
	d_slab_destroy(NULL);
	d_slab_destroy(&slab);

	/* a slab that was never initialised: nothing to destroy, reclaim or register into */
	memset(&slab, 0, sizeof(slab));
	d_slab_destroy(&slab);
	assert_false(d_slab_reclaim(&slab));
	assert_int_equal(d_slab_register(&slab, &reg, NULL, &t), -DER_UNINIT);
}

#define PER_THREAD 3000

struct worker {
	struct d_slab_type *t;
	int                 errors;
};

static void *
cycle(void *arg)
{
	struct worker *w = arg;
	struct desc   *d[8];
	int            i, j;

	for (i = 0; i < PER_THREAD; i++) {
		for (j = 0; j < 8; j++)
			if ((d[j] = d_slab_acquire(w->t)) == NULL || d[j]->magic != 0x5eed)
				w->errors++;
		for (j = 0; j < 8; j++)
			if (d[j] != NULL)
				d_slab_release(w->t, d[j]);
		if (i % 4 == 0)
			d_slab_restock(w->t);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct d_slab       slab;
	struct d_slab_type *t;
	struct worker       w[2];
	pthread_t           th[2];
	int                 i;

	(void)state;
	reset_counts();
	assert_int_equal(d_slab_init(&slab, NULL), 0);
	assert_int_equal(d_slab_register(&slab, &reg, NULL, &t), 0);
	for (i = 0; i < 2; i++) {
		w[i].t      = t;
		w[i].errors = 0;
		assert_int_equal(pthread_create(&th[i], NULL, cycle, &w[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	/* every descriptor is idle again: counts balance */
	assert_int_equal(t->st_count, t->st_free_count + t->st_pending_count);
	assert_true(t->st_count <= 16 + t->st_no_restock_hwm + 1);
	assert_false(d_slab_reclaim(&slab));
	assert_int_equal(n_init, n_release);
	d_slab_destroy(&slab);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_macro),  cmocka_unit_test(test_cycle),
	    cmocka_unit_test(test_limits),        cmocka_unit_test(test_reset_failures),
	    cmocka_unit_test(test_bad_args),      cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("gurt_slab", tests, NULL, NULL);
}
