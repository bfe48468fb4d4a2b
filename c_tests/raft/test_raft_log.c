/* The entry log through the C API (raft_log.h): ring batches, compaction, popping, callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <raft.h>
#include <raft_log.h>
#include <raft_private.h>

static raft_entry_t
ety(int id, raft_term_t term)
{
	raft_entry_t e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.term = term;
	return e;
}

static void
append(log_t *l, int id, raft_term_t term)
{
	raft_entry_t e = ety(id, term);
	int n = 1;

	assert_int_equal(log_append(l, &e, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_new_and_alloc(void **state)
{
	log_t *l = log_new();

	(void)state;
	assert_non_null(l);
	assert_int_equal(log_count(l), 0);
	assert_int_equal(log_size(l), 10);
	assert_int_equal(log_get_current_idx(l), 0);
	assert_null(log_peektail(l));
	assert_null(log_get_at_idx(l, 1));
	log_free(l);

	l = log_alloc(3);
	assert_int_equal(log_size(l), 3);
	log_free(l);
}

static void
test_ring_batches(void **state)
{
	log_t *l = log_alloc(4);
	raft_entry_t *p;
	int n = -1;

	(void)state;
	for (int i = 1; i <= 4; i++)
		append(l, i, 1);
	assert_int_equal(log_poll(l, 2), 0);
	assert_int_equal(log_get_base(l), 2);
	assert_int_equal(log_get_base_term(l), 1);
	append(l, 5, 2);
	append(l, 6, 2);
	assert_int_equal(log_size(l), 4);
	/* Index 3 sits at slot 2; the ring wraps after slot 3. */
	p = log_get_from_idx(l, 3, &n);
	assert_int_equal(n, 2);
	assert_int_equal(p->id, 3);
	p = log_get_from_idx(l, 5, &n);
	assert_int_equal(n, 2);
	assert_int_equal(p[1].id, 6);
	assert_int_equal(log_peektail(l)->id, 6);
	assert_null(log_get_from_idx(l, 7, &n));
	assert_int_equal(n, 0);
	/* Growing straightens the ring. */
	append(l, 7, 2);
	assert_int_equal(log_size(l), 8);
	p = log_get_from_idx(l, 3, &n);
	assert_int_equal(n, 5);
	assert_int_equal(p[4].id, 7);
	assert_int_equal(log_delete(l, 6), 0);
	assert_int_equal(log_get_current_idx(l), 5);
	assert_int_equal(log_delete(l, 6), -1);
	assert_int_equal(log_poll(l, 9), -1);
	log_load_from_snapshot(l, 20, 4);
	assert_int_equal(log_get_current_idx(l), 20);
	assert_int_equal(log_count(l), 0);
	assert_int_equal(log_get_base_term(l), 4);
	log_free(l);
}

static int polled, popped;

static int
cb_poll(raft_server_t *r, void *udata, raft_entry_t *e, raft_index_t idx, int *n)
{
	(void)r;
	(void)udata;
	assert_int_equal(e->id, idx);
	polled += *n;
	return 0;
}

static int
cb_pop(raft_server_t *r, void *udata, raft_entry_t *e, raft_index_t idx, int *n)
{
	(void)r;
	(void)udata;
	assert_int_equal(e->id, idx);
	popped += *n;
	return 0;
}

static int
cb_pop_refuse(raft_server_t *r, void *udata, raft_entry_t *e, raft_index_t idx, int *n)
{
	(void)r;
	(void)udata;
	(void)e;
	(void)idx;
	*n = 0;
	return -1;
}

static raft_time_t
cb_time(raft_server_t *r, void *udata)
{
	(void)r;
	(void)udata;
	return 0;
}

static void
test_callbacks(void **state)
{
	raft_cbs_t cbs = { .log_poll = cb_poll, .log_pop = cb_pop, .get_time = cb_time };
	raft_server_t *r = raft_new();
	log_t *l = log_new();

	(void)state;
	raft_set_callbacks(r, &cbs, NULL);
	log_set_callbacks(l, &cbs, r);
	for (int i = 1; i <= 5; i++)
		append(l, i, 1);
	polled = popped = 0;
	assert_int_equal(log_poll(l, 2), 0);
	assert_int_equal(polled, 2);
	assert_int_equal(log_delete(l, 4), 0);
	assert_int_equal(popped, 2);
	assert_int_equal(log_count(l), 1);

	cbs.log_pop = cb_pop_refuse;
	log_set_callbacks(l, &cbs, r);
	assert_int_equal(log_delete(l, 3), -1);
	assert_int_equal(log_count(l), 1);
	log_empty(l);
	assert_int_equal(log_count(l), 0);
	assert_int_equal(log_get_base(l), 2);
	log_clear(l);
	assert_int_equal(log_get_base(l), 0);
	log_free(l);
	raft_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_alloc),
		cmocka_unit_test(test_ring_batches),
		cmocka_unit_test(test_callbacks),
	};

	return cmocka_run_group_tests_name("raft_log", tests, NULL, NULL);
}
