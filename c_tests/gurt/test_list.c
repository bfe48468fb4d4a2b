/* gurt/list.h, gurt/types.h and gurt/atomic.h as C callers use them: the inline list and
 * hash-chain operations, every iteration macro, d_iov_set and the relaxed atomics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gurt/atomic.h>
#include <gurt/types.h>
#include <gurt/list.h>

struct item {
	int            v;
	d_list_t       link;
	d_hlist_node_t hlink;
};

static void
fill(d_list_t *head, struct item *it, int n)
{
	int i;

	D_INIT_LIST_HEAD(head);
	for (i = 0; i < n; i++) {
		it[i].v = i;
		d_list_add_tail(&it[i].link, head);
	}
}

static int
order(d_list_t *head, int *out, int max)
{
	struct item *pos;
	int          n = 0;

	d_list_for_each_entry(pos, head, link) {
		if (n < max)
			out[n] = pos->v;
		n++;
	}
	return n;
}

static void
test_add_del(void **state)
{
	D_LIST_HEAD(head);
	struct item it[4];
	int         got[8];
	d_list_t   *p, *n;
	int         cnt = 0;

	(void)state;
	assert_true(d_list_empty(&head));
	assert_true(d_list_empty_careful(&head));
	fill(&head, it, 3);
	d_list_add(&it[3].link, &head); /* front */
	it[3].v = 9;
	assert_int_equal(order(&head, got, 8), 4);
	assert_int_equal(got[0], 9);
	assert_int_equal(got[1], 0);
	assert_int_equal(got[3], 2);

	/* d_list_del leaves the entry's pointers untouched */
	d_list_del(&it[1].link);
	assert_ptr_equal(it[1].link.next, &it[2].link);
	assert_ptr_equal(it[1].link.prev, &it[0].link);
	assert_ptr_equal(it[0].link.next, &it[2].link);
	assert_ptr_equal(it[2].link.prev, &it[0].link);
	/* d_list_del_init makes it an empty list */
	d_list_del_init(&it[2].link);
	assert_true(d_list_empty(&it[2].link));
	assert_int_equal(order(&head, got, 8), 2);

	d_list_move_tail(&it[3].link, &head);
	assert_int_equal(order(&head, got, 8), 2);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 9);
	d_list_move(&it[3].link, &head);
	order(&head, got, 8);
	assert_int_equal(got[0], 9);

	d_list_for_each(p, &head)
		cnt++;
	assert_int_equal(cnt, 2);
	cnt = 0;
	d_list_for_each_prev(p, &head)
		cnt++;
	assert_int_equal(cnt, 2);
	d_list_for_each_safe(p, n, &head)
		d_list_del_init(p);
	assert_true(d_list_empty(&head));
}

static void
test_splice_pop(void **state)
{
	d_list_t     a, b;
	struct item  x[3], y[2];
	struct item *e, *t;
	int          got[8];

	(void)state;
	fill(&a, x, 3);
	fill(&b, y, 2);
	y[0].v = 10;
	y[1].v = 11;
	d_list_splice_init(&b, &a);
	assert_true(d_list_empty(&b));
	assert_int_equal(order(&a, got, 8), 5);
	assert_int_equal(got[0], 10);
	assert_int_equal(got[1], 11);
	assert_int_equal(got[2], 0);
	d_list_splice(&b, &a); /* empty: nothing */
	assert_int_equal(order(&a, got, 8), 5);

	e = d_list_pop_entry(&a, struct item, link);
	assert_ptr_equal(e, &y[0]);
	assert_true(d_list_empty(&y[0].link));

	/* reverse, typed and safe forms */
	got[0] = -1;
	d_list_for_each_entry_reverse(e, &a, link) {
		got[0] = e->v;
		break;
	}
	assert_int_equal(got[0], 2);
	d_list_for_each_entry_reverse_typed(e, &a, struct item, link) {
		got[0] = e->v;
		break;
	}
	assert_int_equal(got[0], 2);
	got[1] = 0;
	d_list_for_each_entry_typed(e, &a, struct item, link)
		got[1] += e->v;
	assert_int_equal(got[1], 11 + 0 + 1 + 2);
	e = &x[0];
	got[1] = 0;
	d_list_for_each_entry_continue(e, &a, link)
		got[1] += e->v;
	assert_int_equal(got[1], 3);
	e = &x[1];
	d_list_for_each_entry_safe_from(e, t, &a, link)
		d_list_del_init(&e->link);
	assert_int_equal(order(&a, got, 8), 2);
	d_list_add_tail(&x[1].link, &a);
	e = &x[1];
	d_list_for_each_entry_safe_from_typed(e, t, &a, struct item, link)
		d_list_del_init(&e->link);
	d_list_add_tail(&x[2].link, &a);
	d_list_for_each_entry_reverse_safe(e, t, &a, link)
		if (e->v == 2)
			d_list_del_init(&e->link);
	assert_int_equal(order(&a, got, 8), 2);
	d_list_for_each_entry_safe_typed(e, t, &a, struct item, link)
		d_list_del(&e->link);
	D_INIT_LIST_HEAD(&a);
	fill(&a, x, 3);
	d_list_for_each_entry_safe(e, t, &a, link)
		d_list_del_init(&e->link);
	assert_true(d_list_empty(&a));
	assert_null(d_list_pop_entry(&a, struct item, link));
}

static void
test_hlist(void **state)
{
	D_HLIST_HEAD(h);
	d_hlist_head_t  h2 = D_HLIST_HEAD_INIT;
	struct item     it[4];
	struct item    *e;
	d_hlist_node_t *p, *n;
	int             sum = 0, i;

	(void)state;
	assert_true(d_hlist_empty(&h));
	assert_true(d_hlist_empty(&h2));
	for (i = 0; i < 4; i++) {
		it[i].v = i;
		D_INIT_HLIST_NODE(&it[i].hlink);
		assert_true(d_hlist_unhashed(&it[i].hlink));
	}
	d_hlist_add_head(&it[0].hlink, &h);             /* 0 */
	d_hlist_add_head(&it[1].hlink, &h);             /* 1 0 */
	d_hlist_add_before(&it[2].hlink, &it[0].hlink); /* 1 2 0 */
	d_hlist_add_after(&it[3].hlink, &it[0].hlink);  /* 1 2 0 3 */
	i = 0;
	dhlist_for_each_entry(e, p, &h, hlink) {
		static const int want[] = {1, 2, 0, 3};

		assert_int_equal(e->v, want[i++]);
	}
	assert_int_equal(i, 4);
	dhlist_for_each(p, &h)
		sum++;
	assert_int_equal(sum, 4);

	d_hlist_del(&it[2].hlink); /* 1 0 3, node untouched */
	assert_false(d_hlist_unhashed(&it[2].hlink));
	d_hlist_del_init(&it[0].hlink); /* 1 3 */
	assert_true(d_hlist_unhashed(&it[0].hlink));
	d_hlist_del_init(&it[0].hlink); /* not hashed: no-op */
	sum = 0;
	dhlist_for_each_entry_typed(e, p, &h, struct item, hlink)
		sum += e->v;
	assert_int_equal(sum, 4);
	p   = &it[1].hlink;
	sum = 0;
	dhlist_for_each_entry_continue(e, p, hlink)
		sum += e->v;
	assert_int_equal(sum, 3);
	p   = &it[1].hlink;
	sum = 0;
	dhlist_for_each_entry_from(e, p, hlink)
		sum += e->v;
	assert_int_equal(sum, 4);
	dhlist_for_each_entry_safe_typed(e, p, n, &h, struct item, hlink)
		if (e->v == 3)
			d_hlist_del_init(p);
	dhlist_for_each_safe(p, n, &h)
		d_hlist_del_init(p);
	assert_true(d_hlist_empty(&h));
	d_hlist_add_head(&it[0].hlink, &h);
	dhlist_for_each_entry_safe(e, p, n, &h, hlink)
		d_hlist_del(p);
	assert_true(d_hlist_empty(&h));
	D_INIT_HLIST_HEAD(&h);
	assert_null(h.first);
}

static void
test_types(void **state)
{
	char        buf[16];
	d_iov_t     iov;
	struct d_uuid u;
	ATOMIC int  a = 5;
	int         old = 5;

	(void)state;
	d_iov_set(&iov, buf, sizeof(buf));
	assert_ptr_equal(iov.iov_buf, buf);
	assert_int_equal(iov.iov_len, 16);
	assert_int_equal(iov.iov_buf_len, 16);
	assert_int_equal(sizeof(u), 16);
	assert_true(d_is_uuid(u.uuid));
	assert_true(d_is_string(buf));
	assert_false(d_is_string(iov));

	assert_int_equal(atomic_fetch_add_relaxed(&a, 2), 5);
	assert_int_equal(atomic_fetch_sub_relaxed(&a, 1), 7);
	assert_int_equal(atomic_load_relaxed(&a), 6);
	atomic_store_relaxed(&a, 1);
	atomic_store_release(&a, 2);
	/* expected value passed by name; refreshed on failure */
	while (!atomic_compare_exchange(&a, old, 3))
		assert_int_equal(old, 2);
	assert_int_equal(atomic_load_relaxed(&a), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_del),
	    cmocka_unit_test(test_splice_pop),
	    cmocka_unit_test(test_hlist),
	    cmocka_unit_test(test_types),
	};

	return cmocka_run_group_tests_name("gurt_list_types", tests, NULL, NULL);
}
