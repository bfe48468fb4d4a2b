/* gurt's misc area as DAOS's C callers use it: allocation wrappers and their tracking, rank
 * lists and rank ranges (with their string forms), random numbers, backoff, standard
 * deviation, string buffers, pointer vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <cmocka.h>

#include <gurt/common.h>

static d_rank_list_t *
list_of(const uint32_t *r, size_t n)
{
	d_rank_list_t *l = uint32_array_to_rank_list((uint32_t *)r, n);

	assert_non_null(l);
	assert_int_equal(l->rl_nr, n);
	return l;
}

static void
assert_ranks(const d_rank_list_t *l, const uint32_t *want, size_t n)
{
	size_t i;

	assert_non_null(l);
	assert_int_equal(l->rl_nr, n);
	for (i = 0; i < n; i++)
		assert_int_equal(l->rl_ranks[i], want[i]);
}

#define LIST(...)    list_of((const uint32_t[]){__VA_ARGS__}, sizeof((uint32_t[]){__VA_ARGS__}) / 4)
#define RANKS(l, ...)                                                                              \
	assert_ranks(l, (const uint32_t[]){__VA_ARGS__}, sizeof((uint32_t[]){__VA_ARGS__}) / 4)

/* ---- allocation and tracking ------------------------------------------------------------ */

/* Not a constant, so the compiler does not warn about the overflowing products on purpose. */
static volatile size_t alloc_factor = 4;
static size_t alloc_total, free_total, alloc_calls, free_calls;
static void  *seen_arg;

static void
on_alloc(void *arg, size_t size)
{
	seen_arg = arg;
	alloc_total += size;
	alloc_calls++;
}

static void
on_free(void *arg, size_t size)
{
	seen_arg = arg;
	free_total += size;
	free_calls++;
}

static void
reset_counts(void)
{
	alloc_total = free_total = alloc_calls = free_calls = 0;
	seen_arg = NULL;
}

/* Everything gurt hands out is a libc block: free() releases it (valgrind checks). */
static void
test_alloc_wrappers(void **state)
{
	char  path[PATH_MAX];
	char *p;
	char *q;
	void *a;

	(void)state;
	p = d_malloc(16);
	assert_non_null(p);
	memset(p, 'x', 16);
	q = d_realloc(p, 4096);
	assert_non_null(q);
	assert_int_equal(q[15], 'x');
	free(q);

	p = d_calloc(8, 8);
	assert_non_null(p);
	for (int i = 0; i < 64; i++)
		assert_int_equal(p[i], 0);
	d_free(p);
	d_free(NULL);

	assert_null(d_calloc(SIZE_MAX / 2, alloc_factor)); /* overflowing product */

	p = d_strndup("abcdef", 3);
	assert_string_equal(p, "abc");
	free(p);
	p = d_strndup("ab", 10);
	assert_string_equal(p, "ab");
	d_free(p);
	assert_null(d_strndup(NULL, 4));

	a = d_aligned_alloc(64, 100, true);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % 64, 0);
	assert_true(malloc_usable_size(a) >= 128); /* rounded up to the alignment */
	for (int i = 0; i < 128; i++)
		assert_int_equal(((char *)a)[i], 0);
	free(a);
	a = d_aligned_alloc(4096, 1, false);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % 4096, 0);
	d_free(a);

	p = d_realpath("/", NULL);
	assert_string_equal(p, "/");
	free(p);
	p = d_realpath("/tmp/../", path);
	assert_ptr_equal(p, path);
	assert_string_equal(path, "/");
	errno = 0;
	assert_null(d_realpath("/no/such/dir/here", NULL));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(d_realpath(NULL, NULL));
	assert_int_equal(errno, EINVAL);
}

static void *
untracked_thread(void *arg)
{
	(void)arg;
	free(d_malloc(1000));
	d_free(d_calloc(10, 10));
	return NULL;
}

/* The callbacks are global, the argument is per thread: only the thread that set it reports. */
static void
test_alloc_tracking(void **state)
{
	pthread_t t;
	char     *p;
	char     *s = NULL;
	size_t    usable;
	int       rc;
	int       tag;

	(void)state;
	assert_null(d_alloc_track_cb);
	assert_null(d_free_track_cb);
	d_set_alloc_track_cb(on_alloc, on_free, &tag);
	assert_ptr_equal(d_alloc_track_cb, on_alloc);
	assert_ptr_equal(d_free_track_cb, on_free);

	reset_counts();
	p = d_malloc(100);
	assert_int_equal(alloc_calls, 1);
	assert_int_equal(alloc_total, 100);
	assert_ptr_equal(seen_arg, &tag);
	usable = malloc_usable_size(p);
	d_free(p);
	assert_int_equal(free_calls, 1);
	assert_int_equal(free_total, usable);

	reset_counts();
	p = d_calloc(3, 10);
	assert_int_equal(alloc_total, malloc_usable_size(p));
	usable = malloc_usable_size(p);
	p = d_realloc(p, 1000);
	assert_int_equal(free_total, usable);
	assert_int_equal(alloc_total, usable + 1000);
	d_free(p);

	reset_counts();
	p = d_strndup("hello", 10);
	assert_int_equal(alloc_total, malloc_usable_size(p));
	d_free(p);
	usable = alloc_total;
	p      = d_aligned_alloc(32, 33, false);
	assert_int_equal(alloc_calls, 2);
	assert_int_equal(alloc_total - usable, 64); /* the size rounded up to the alignment */
	d_free(p);

	reset_counts();
	rc = d_asprintf(&s, "%d-%s", 12, "ab");
	assert_int_equal(rc, 5);
	assert_int_equal(alloc_calls, 1);
	assert_int_equal(alloc_total, 5);
	d_free(s);

	/* Failed allocations report nothing. */
	reset_counts();
	assert_null(d_calloc(SIZE_MAX / 2, alloc_factor));
	assert_int_equal(alloc_calls, 0);

	/* Another thread without an argument reports nothing. */
	reset_counts();
	assert_int_equal(pthread_create(&t, NULL, untracked_thread, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(alloc_calls, 0);
	assert_int_equal(free_calls, 0);

	/* Rank lists are allocated through the same wrappers. */
	reset_counts();
	d_rank_list_free(d_rank_list_alloc(10));
	assert_int_equal(alloc_calls, 2);
	assert_int_equal(free_calls, 2);
	assert_int_equal(alloc_total, free_total);

	d_set_alloc_track_cb(NULL, NULL, NULL);
	reset_counts();
	d_free(d_malloc(10));
	assert_int_equal(alloc_calls + free_calls, 0);
}

static void
test_asprintf(void **state)
{
	char *s = NULL;
	int   rc;

	(void)state;
	rc = d_asprintf(&s, "%s=%05d", "key", 42);
	assert_int_equal(rc, 9);
	assert_string_equal(s, "key=00042");
	free(s);
	rc = d_asprintf(&s, "%s", "");
	assert_int_equal(rc, 0);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(d_asprintf(NULL, "x"), -1);
	assert_int_equal(d_asprintf(&s, NULL), -1);

	rc = -5;
	s  = d_asprintf2(&rc, "%.2f|%c|%x", 3.14159, 'z', 255);
	assert_int_equal(rc, 9);
	assert_string_equal(s, "3.14|z|ff");
	d_free(s);
	rc = 7;
	assert_null(d_asprintf2(&rc, NULL));
	assert_int_equal(rc, -1);
}

/* ---- random numbers, backoff, statistics ----------------------------------------------------- */

/* The same generator as glibc's drand48 family, seeded the same way. */
static void
test_rand(void **state)
{
	(void)state;
	for (long seed = -3; seed < 4; seed++) {
		d_srand(seed * 104729);
		srand48(seed * 104729);
		for (int i = 0; i < 1000; i++) {
			if (i % 3 == 0) {
				double d = d_randd();

				assert_true(d == drand48());
				assert_true(d >= 0.0 && d < 1.0);
			} else {
				long v = d_rand();

				assert_int_equal(v, lrand48());
				assert_true(v >= 0 && v <= D_RAND_MAX);
			}
		}
	}
}

static void
test_backoff(void **state)
{
	struct d_backoff_seq seq;
	uint32_t             v;
	uint32_t             bound = 16;

	(void)state;
	assert_int_equal(d_backoff_seq_init(NULL, 0, 2, 1, 1), -DER_INVAL);
	assert_int_equal(d_backoff_seq_init(&seq, 0, 0, 1, 1), -DER_INVAL);
	assert_int_equal(d_backoff_seq_init(&seq, 0, 2, 0, 1), -DER_INVAL);
	assert_int_equal(d_backoff_seq_init(&seq, 0, 2, 1, 0), -DER_INVAL);
	assert_int_equal(d_backoff_seq_init(&seq, 0, 2, 2, 1), -DER_INVAL);

	assert_int_equal(d_backoff_seq_init(&seq, 2, 4, 16, 1 << 20), 0);
	assert_int_equal(seq.bos_flags, 0);
	assert_int_equal(seq.bos_nzeros, 2);
	assert_int_equal(seq.bos_factor, 4);
	assert_int_equal(seq.bos_next, 16);
	assert_int_equal(seq.bos_max, 1 << 20);
	assert_int_equal(d_backoff_seq_next(&seq), 0);
	assert_int_equal(d_backoff_seq_next(&seq), 0);
	for (int i = 0; i < 20; i++) {
		v = d_backoff_seq_next(&seq);
		assert_true(v <= bound);
		bound = bound * 4 > (1u << 20) ? (1u << 20) : bound * 4;
		assert_int_equal(seq.bos_next, bound);
	}
	d_backoff_seq_fini(&seq);

	/* The multiplication saturates at max instead of wrapping. */
	assert_int_equal(d_backoff_seq_init(&seq, 0, 65535, 0x20000, UINT32_MAX), 0);
	d_backoff_seq_next(&seq);
	assert_int_equal(seq.bos_next, UINT32_MAX);

	/* The random part is d_rand's: same seed, same sequence. */
	d_srand(5);
	d_backoff_seq_init(&seq, 0, 2, 1000, 1000);
	v = d_backoff_seq_next(&seq);
	d_srand(5);
	assert_int_equal(v, (uint32_t)(1000 * ((double)d_rand() / D_RAND_MAX)));
	assert_int_equal(d_backoff_seq_next(NULL), 0);
}

static void
test_stand_div(void **state)
{
	double a[] = {2, 4, 4, 4, 5, 5, 7, 9};
	double b[] = {1.5, 2.25, 3.125, 10.0, -4.0};

	(void)state;
	assert_true(d_stand_div(a, 8) == 2.0);
	assert_true(d_stand_div(a, 1) == 0.0);
	assert_true(fabs(d_stand_div(b, 5) - 4.4704585894514226) < 1e-15);
	assert_true(isnan(d_stand_div(a, 0)));
	assert_true(isnan(d_stand_div(NULL, 3)));
}

/* ---- rank lists -------------------------------------------------------------------------------- */

static void
test_rank_list_alloc_free(void **state)
{
	d_rank_list_t *l;

	(void)state;
	l = d_rank_list_alloc(0);
	assert_non_null(l);
	assert_int_equal(l->rl_nr, 0);
	assert_null(l->rl_ranks);
	d_rank_list_free(l);

	l = d_rank_list_alloc(5);
	RANKS(l, 0, 1, 2, 3, 4);
	d_rank_list_free(l);
	d_rank_list_free(NULL);

	assert_int_equal(d_rank_list_resize(NULL, 3), -DER_INVAL);
	l = LIST(7, 8);
	assert_int_equal(d_rank_list_resize(l, 5), 0);
	RANKS(l, 7, 8, 0, 0, 0); /* new ranks are zero */
	assert_int_equal(d_rank_list_resize(l, 1), 0);
	RANKS(l, 7);
	assert_int_equal(d_rank_list_resize(l, 0), 0);
	assert_int_equal(l->rl_nr, 0);
	assert_null(l->rl_ranks);
	assert_int_equal(d_rank_list_resize(l, 2), 0);
	RANKS(l, 0, 0);
	d_rank_list_free(l);
}

static void
test_rank_list_dup(void **state)
{
	d_rank_list_t *src = LIST(5, 5, 2, 2, 1, 3, 4, 1, 1, 2);
	d_rank_list_t *dst = (d_rank_list_t *)0x1;
	d_rank_list_t  empty = {NULL, 0};
	d_rank_list_t  broken = {NULL, 3};

	(void)state;
	assert_int_equal(d_rank_list_dup(NULL, src), -DER_INVAL);
	assert_int_equal(d_rank_list_dup(&dst, NULL), 0);
	assert_null(dst);

	assert_int_equal(d_rank_list_dup(&dst, src), 0);
	RANKS(dst, 5, 5, 2, 2, 1, 3, 4, 1, 1, 2);
	assert_ptr_not_equal(dst->rl_ranks, src->rl_ranks);
	d_rank_list_free(dst);

	assert_int_equal(d_rank_list_dup(&dst, &empty), 0);
	assert_int_equal(dst->rl_nr, 0);
	assert_null(dst->rl_ranks);
	d_rank_list_free(dst);
	assert_int_equal(d_rank_list_dup(&dst, &broken), -DER_INVAL);

	assert_int_equal(d_rank_list_dup_sort_uniq(&dst, src), 0);
	RANKS(dst, 1, 2, 3, 4, 5);
	RANKS(src, 5, 5, 2, 2, 1, 3, 4, 1, 1, 2); /* the source is left alone */
	d_rank_list_free(dst);
	assert_int_equal(d_rank_list_dup_sort_uniq(NULL, src), -DER_INVAL);
	assert_int_equal(d_rank_list_dup_sort_uniq(&dst, NULL), 0);
	assert_null(dst);
	d_rank_list_free(src);

	src = LIST(9);
	assert_int_equal(d_rank_list_dup_sort_uniq(&dst, src), 0);
	RANKS(dst, 9);
	d_rank_list_free(dst);
	d_rank_list_free(src);

	src = LIST(1, 2, 3);
	dst = d_rank_list_alloc(7);
	assert_int_equal(d_rank_list_copy(dst, src), 0);
	RANKS(dst, 1, 2, 3);
	assert_int_equal(d_rank_list_copy(NULL, src), -DER_INVAL);
	assert_int_equal(d_rank_list_copy(dst, NULL), -DER_INVAL);
	assert_int_equal(d_rank_list_copy(dst, &empty), 0);
	assert_int_equal(dst->rl_nr, 0);
	d_rank_list_free(dst);
	d_rank_list_free(src);
}

static void
test_rank_list_filter_merge(void **state)
{
	d_rank_list_t *src = LIST(1, 3, 5, 100);
	d_rank_list_t *dst = LIST(0, 1, 1, 2, 3, 4, 5, 100, 101);
	d_rank_list_t *m;

	(void)state;
	d_rank_list_filter(src, dst, true);
	RANKS(dst, 0, 2, 4, 101);
	d_rank_list_free(dst);
	dst = LIST(0, 1, 1, 2, 3, 4, 5, 100, 101);
	d_rank_list_filter(src, dst, false);
	RANKS(dst, 1, 1, 3, 5, 100);
	d_rank_list_filter(NULL, dst, false);
	d_rank_list_filter(src, NULL, false);
	RANKS(dst, 1, 1, 3, 5, 100);
	d_rank_list_filter(dst, dst, false); /* one list as both: keeps everything */
	RANKS(dst, 1, 1, 3, 5, 100);
	d_rank_list_filter(dst, dst, true); /* or removes everything */
	assert_int_equal(dst->rl_nr, 0);
	d_rank_list_free(dst);

	m = LIST(7, 3, 7, 9, 1);
	assert_int_equal(d_rank_list_merge(src, m), 0);
	RANKS(src, 1, 3, 5, 100, 7, 7, 9); /* only checked against the original list */
	assert_int_equal(d_rank_list_merge(src, NULL), 0);
	assert_int_equal(d_rank_list_merge(src, src), 0);
	RANKS(src, 1, 3, 5, 100, 7, 7, 9);
	assert_int_equal(d_rank_list_merge(NULL, m), -DER_INVAL);
	d_rank_list_free(m);
	d_rank_list_free(src);

	src = d_rank_list_alloc(0);
	m   = LIST(4, 2);
	assert_int_equal(d_rank_list_merge(src, m), 0);
	RANKS(src, 4, 2);
	d_rank_list_free(m);
	d_rank_list_free(src);
}

static int
cmp_rank(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_rank_list_search(void **state)
{
	d_rank_list_t *l = LIST(0, 1, 1, 1, 2, 2, 2, 3, 4, 5, 5);
	int            idx;
	uint32_t       uidx;

	(void)state;
	/* bsearch finds the same one of repeated ranks as the C library's bsearch. */
	for (uint32_t r = 0; r <= 5; r++) {
		uint32_t *hit = bsearch(&r, l->rl_ranks, l->rl_nr, sizeof(r), cmp_rank);

		idx = -1;
		assert_true(d_rank_list_bsearch(l, r, &idx));
		assert_int_equal(idx, hit - l->rl_ranks);
	}
	assert_true(d_rank_list_bsearch(l, 2, &idx));
	assert_int_equal(idx, 5);
	idx = -7;
	assert_false(d_rank_list_bsearch(l, 6, &idx));
	assert_int_equal(idx, -7);
	assert_true(d_rank_list_bsearch(l, 0, NULL));
	assert_false(d_rank_list_bsearch(NULL, 0, &idx));

	assert_true(d_rank_list_find(l, 2, &idx));
	assert_int_equal(idx, 4);
	assert_true(d_rank_list_find(l, 5, &idx));
	assert_int_equal(idx, 9);
	assert_true(d_rank_list_find(l, 3, NULL));
	assert_false(d_rank_list_find(l, 77, &idx));
	assert_false(d_rank_list_find(NULL, 0, &idx));

	assert_true(d_rank_in_rank_list(l, 4));
	assert_false(d_rank_in_rank_list(l, 44));
	assert_false(d_rank_in_rank_list(NULL, 4));

	assert_int_equal(d_idx_in_rank_list(l, 3, &uidx), 0);
	assert_int_equal(uidx, 7);
	assert_int_equal(d_idx_in_rank_list(l, 30, &uidx), -DER_NONEXIST);
	assert_int_equal(d_idx_in_rank_list(NULL, 3, &uidx), -DER_INVAL);
	assert_int_equal(d_idx_in_rank_list(l, 3, NULL), -DER_INVAL);
	d_rank_list_free(l);
}

static void
test_rank_list_edit(void **state)
{
	d_rank_list_t *l = LIST(4, 8, 15, 16, 23, 42, 8);

	(void)state;
	d_rank_list_del_at(l, 0);
	RANKS(l, 8, 15, 16, 23, 42, 8);
	d_rank_list_del_at(l, 5);
	RANKS(l, 8, 15, 16, 23, 42);
	d_rank_list_del_at(l, 5);  /* out of range: ignored */
	d_rank_list_del_at(l, -1); /* likewise */
	d_rank_list_del_at(NULL, 0);
	RANKS(l, 8, 15, 16, 23, 42);

	assert_int_equal(d_rank_list_del(l, 16), 0);
	RANKS(l, 8, 15, 23, 42);
	assert_int_equal(d_rank_list_del(l, 99), 0);
	RANKS(l, 8, 15, 23, 42);
	assert_int_equal(d_rank_list_del(NULL, 1), -DER_INVAL);

	assert_int_equal(d_rank_list_append(l, 7), 0);
	RANKS(l, 8, 15, 23, 42, 7);
	assert_int_equal(d_rank_list_append(NULL, 7), -DER_INVAL);
	d_rank_list_free(l);

	l = d_rank_list_alloc(0);
	assert_int_equal(d_rank_list_append(l, 3), 0);
	RANKS(l, 3);
	assert_int_equal(d_rank_list_del(l, 3), 0);
	assert_int_equal(l->rl_nr, 0);
	assert_null(l->rl_ranks);
	d_rank_list_free(l);
}

static void
test_rank_list_sort_shuffle_identical(void **state)
{
	d_rank_list_t *a = LIST(3, 1, 2, UINT32_MAX, 0);
	d_rank_list_t *b = LIST(0, 1, 2, 3, UINT32_MAX);
	d_rank_list_t *c = LIST(3, 2, 1, 0, UINT32_MAX);
	d_rank_list_t *s;
	uint32_t       ref[20];

	(void)state;
	assert_true(d_rank_list_identical(a, b));
	RANKS(a, 0, 1, 2, 3, UINT32_MAX); /* the first list is sorted */
	assert_false(d_rank_list_identical(b, c));
	RANKS(c, 3, 2, 1, 0, UINT32_MAX); /* the second is not */
	assert_true(d_rank_list_identical(c, c));
	assert_true(d_rank_list_identical(NULL, NULL));
	assert_false(d_rank_list_identical(a, NULL));
	d_rank_list_sort(c);
	RANKS(c, 0, 1, 2, 3, UINT32_MAX);
	d_rank_list_sort(NULL);

	/* A shuffle is d_rand's Fisher-Yates-like walk: the same permutation for the same seed. */
	s = d_rank_list_alloc(20);
	for (int i = 0; i < 20; i++)
		ref[i] = i;
	srand48(12345);
	for (uint32_t i = 0; i < 20; i++) {
		uint32_t j = lrand48() % 20, t = ref[i];

		ref[i] = ref[j];
		ref[j] = t;
	}
	d_srand(12345);
	d_rank_list_shuffle(s);
	assert_ranks(s, ref, 20);
	d_rank_list_sort(s);
	for (int i = 0; i < 20; i++)
		assert_int_equal(s->rl_ranks[i], i);
	d_rank_list_shuffle(NULL);
	d_rank_list_free(s);
	d_rank_list_free(a);
	d_rank_list_free(b);
	d_rank_list_free(c);
}

static void
test_rank_list_strings(void **state)
{
	d_rank_list_t *l;
	char          *s = (char *)0x1;
	char           name[] = "abcd";

	(void)state;
	assert_int_equal(d_rank_list_to_str(NULL, &s), 0);
	assert_null(s);
	assert_int_equal(d_rank_list_to_str(NULL, NULL), -DER_INVAL);

	l = d_rank_list_alloc(0);
	assert_int_equal(d_rank_list_to_str(l, &s), 0);
	assert_string_equal(s, "[]");
	free(s);
	d_rank_list_free(l);

	l = LIST(2);
	assert_int_equal(d_rank_list_to_str(l, &s), 0);
	assert_string_equal(s, "[2]");
	d_free(s);
	d_rank_list_free(l);

	l = LIST(2, 1, 5, 3);
	assert_int_equal(d_rank_list_to_str(l, &s), 0);
	assert_string_equal(s, "[1-3,5]");
	RANKS(l, 1, 2, 3, 5); /* sorted in place */
	free(s);
	d_rank_list_free(l);

	/* Repeats start new ranges, as upstream prints them. */
	l = LIST(5, 5, 2, 2, 1, 3, 4, 1, 1, 2, UINT32_MAX, 0, UINT32_MAX - 1, 100, 101, 103);
	assert_int_equal(d_rank_list_to_str(l, &s), 0);
	assert_string_equal(s, "[0-1,1,1-2,2,2-5,5,100-101,103,4294967294-4294967295]");
	free(s);
	d_rank_list_free(l);

	/* Longer than one 256-byte line. */
	l = d_rank_list_alloc(1024);
	for (int i = 0; i < 1024; i++)
		l->rl_ranks[i] = 2 * i;
	assert_int_equal(d_rank_list_to_str(l, &s), 0);
	assert_int_equal(strlen(s), 5 * 1 + 45 * 2 + 450 * 3 + 524 * 4 + 1023 + 2);
	assert_memory_equal(s, "[0,2,4,6,8,10,", 14);
	assert_string_equal(s + strlen(s) - 11, ",2044,2046]");
	free(s);
	d_rank_list_free(l);

	/* dump logs; it checks the name length. */
	l = LIST(1, 2);
	assert_int_equal(d_rank_list_dump(l, name, 4), 0);
	assert_int_equal(d_rank_list_dump(l, name, 3), -DER_INVAL);
	assert_int_equal(d_rank_list_dump(l, name, -1), -DER_INVAL);
	assert_int_equal(d_rank_list_dump(l, NULL, 4), -DER_INVAL);
	assert_int_equal(d_rank_list_dump(NULL, name, 4), -DER_INVAL);
	d_rank_list_free(l);
}

static void
test_rank_list_uint32(void **state)
{
	uint32_t       in[] = {9, 0, UINT32_MAX};
	uint32_t      *out = NULL;
	size_t         len = 99;
	d_rank_list_t *l;

	(void)state;
	l = uint32_array_to_rank_list(in, 3);
	RANKS(l, 9, 0, UINT32_MAX);
	assert_int_equal(rank_list_to_uint32_array(l, &out, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	assert_int_equal(rank_list_to_uint32_array(NULL, &out, &len), -DER_INVAL);
	assert_int_equal(rank_list_to_uint32_array(l, NULL, &len), -DER_INVAL);
	assert_int_equal(rank_list_to_uint32_array(l, &out, NULL), -DER_INVAL);
	d_rank_list_free(l);

	l = uint32_array_to_rank_list(NULL, 0);
	assert_int_equal(l->rl_nr, 0);
	assert_int_equal(rank_list_to_uint32_array(l, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	d_rank_list_free(l);
	assert_null(uint32_array_to_rank_list(NULL, 3));
}

static void
test_rank_range_lists(void **state)
{
	d_rank_range_list_t *r;
	d_rank_list_t       *l;
	char                *s;

	(void)state;
	r = d_rank_range_list_alloc(0);
	assert_int_equal(r->rrl_nr, 0);
	assert_null(r->rrl_ranges);
	assert_int_equal(d_rank_range_list_str(r, &s), 0);
	assert_string_equal(s, "[]");
	free(s);

	r = d_rank_range_list_realloc(r, 3);
	assert_int_equal(r->rrl_nr, 3);
	for (int i = 0; i < 3; i++)
		assert_true(r->rrl_ranges[i].lo == 0 && r->rrl_ranges[i].hi == 0);
	r->rrl_ranges[0] = (d_rank_range_t){5, 9};
	r->rrl_ranges[1] = (d_rank_range_t){3, 3};
	r->rrl_ranges[2] = (d_rank_range_t){10, 2}; /* printed as given */
	assert_int_equal(d_rank_range_list_str(r, &s), 0);
	assert_string_equal(s, "[5-9,3,10-2]");
	free(s);
	r = d_rank_range_list_realloc(r, 4);
	assert_int_equal(r->rrl_nr, 4);
	assert_true(r->rrl_ranges[3].lo == 0 && r->rrl_ranges[3].hi == 0);
	assert_true(r->rrl_ranges[0].lo == 5 && r->rrl_ranges[0].hi == 9);
	assert_null(d_rank_range_list_realloc(r, 0)); /* frees */

	r = d_rank_range_list_realloc(NULL, 2);
	assert_int_equal(r->rrl_nr, 2);
	assert_int_equal(d_rank_range_list_str(NULL, &s), -DER_INVAL);
	assert_int_equal(d_rank_range_list_str(r, NULL), -DER_INVAL);
	d_rank_range_list_free(r);
	d_rank_range_list_free(NULL);

	l = LIST(7, 3, 4, 5, 9, 10, 1);
	r = d_rank_range_list_create_from_ranks(l);
	RANKS(l, 1, 3, 4, 5, 7, 9, 10);
	assert_int_equal(r->rrl_nr, 4);
	assert_true(r->rrl_ranges[0].lo == 1 && r->rrl_ranges[0].hi == 1);
	assert_true(r->rrl_ranges[1].lo == 3 && r->rrl_ranges[1].hi == 5);
	assert_true(r->rrl_ranges[2].lo == 7 && r->rrl_ranges[2].hi == 7);
	assert_true(r->rrl_ranges[3].lo == 9 && r->rrl_ranges[3].hi == 10);
	assert_int_equal(d_rank_range_list_str(r, &s), 0);
	assert_string_equal(s, "[1,3-5,7,9-10]");
	free(s);
	d_rank_range_list_free(r);
	d_rank_list_free(l);

	r = d_rank_range_list_create_from_ranks(NULL);
	assert_int_equal(r->rrl_nr, 0);
	d_rank_range_list_free(r);
}

/* ---- string buffers and pointer vectors --------------------------------------------------------- */

static void
test_string_buffer(void **state)
{
	struct d_string_buffer_t sb = {0};
	char                     want[1024] = "";

	(void)state;
	assert_int_equal(d_write_string_buffer(&sb, "%s", ""), 0);
	assert_int_equal(sb.buf_size, 64);
	assert_int_equal(sb.str_size, 0);
	assert_string_equal(sb.str, "");
	for (int i = 0; i < 40; i++) {
		char piece[32];

		snprintf(piece, sizeof(piece), "%d:%s,", i, "abcdefgh");
		strcat(want, piece);
		assert_int_equal(d_write_string_buffer(&sb, "%d:%s,", i, "abcdefgh"), 0);
		assert_int_equal(sb.status, 0);
	}
	assert_string_equal(sb.str, want);
	assert_int_equal(sb.str_size, strlen(want));
	assert_int_equal(sb.buf_size, 512); /* 64 doubled until it fits */
	d_free_string(&sb);
	assert_null(sb.str);
	assert_int_equal(sb.str_size + sb.buf_size + sb.status, 0);
	d_free_string(&sb);
	d_free_string(NULL);

	assert_int_equal(d_write_string_buffer(NULL, "x"), -DER_NO_PERM);
	sb.status = -DER_NOMEM; /* a failed buffer stays failed */
	assert_int_equal(d_write_string_buffer(&sb, "x"), -DER_NO_PERM);
	assert_null(sb.str);
	sb.status = 0;
	assert_int_equal(d_write_string_buffer(&sb, NULL), -DER_INVAL);
}

static void
test_vec_pointers(void **state)
{
	struct d_vec_pointers v;

	(void)state;
	assert_int_equal(d_vec_pointers_init(&v, 0), 0);
	assert_null(v.p_buf);
	assert_int_equal(v.p_cap + v.p_len, 0);
	for (uintptr_t i = 0; i < 5; i++)
		assert_int_equal(d_vec_pointers_append(&v, (void *)(i + 100)), 0);
	assert_int_equal(v.p_len, 5);
	assert_int_equal(v.p_cap, 8); /* 1, 2, 4, 8 */
	for (uintptr_t i = 0; i < 5; i++)
		assert_ptr_equal(v.p_buf[i], (void *)(i + 100));
	d_vec_pointers_fini(&v);
	assert_null(v.p_buf);
	assert_int_equal(v.p_cap + v.p_len, 0);

	assert_int_equal(d_vec_pointers_init(&v, 3), 0);
	assert_int_equal(v.p_cap, 3);
	assert_int_equal(v.p_len, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(d_vec_pointers_append(&v, NULL), 0);
	assert_int_equal(v.p_cap, 3);
	assert_int_equal(d_vec_pointers_append(&v, &v), 0);
	assert_int_equal(v.p_cap, 6);
	assert_ptr_equal(v.p_buf[3], &v);
	d_vec_pointers_fini(&v);

	assert_int_equal(d_vec_pointers_init(NULL, 3), -DER_INVAL);
	assert_int_equal(d_vec_pointers_append(NULL, NULL), -DER_INVAL);
	d_vec_pointers_fini(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_wrappers),
	    cmocka_unit_test(test_alloc_tracking),
	    cmocka_unit_test(test_asprintf),
	    cmocka_unit_test(test_rand),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_stand_div),
	    cmocka_unit_test(test_rank_list_alloc_free),
	    cmocka_unit_test(test_rank_list_dup),
	    cmocka_unit_test(test_rank_list_filter_merge),
	    cmocka_unit_test(test_rank_list_search),
	    cmocka_unit_test(test_rank_list_edit),
	    cmocka_unit_test(test_rank_list_sort_shuffle_identical),
	    cmocka_unit_test(test_rank_list_strings),
	    cmocka_unit_test(test_rank_list_uint32),
	    cmocka_unit_test(test_rank_range_lists),
	    cmocka_unit_test(test_string_buffer),
	    cmocka_unit_test(test_vec_pointers),
	};

	return cmocka_run_group_tests_name("gurt_misc", tests, NULL, NULL);
}
