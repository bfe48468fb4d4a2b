/* gurt/hash.h as C callers use it: the generic table in every lock mode and feature, its
 * reference-count rules, the handle (d_hhash) and UUID (d_uhash) tables, bad arguments, and
 * concurrent use of the locked variants. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include <daos_errno.h>
#include <gurt/common.h>
#include <gurt/hash.h>

/* Callbacks have the table's signatures and ignore some arguments. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define owner_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* A record: caller-owned, linked through `link`, reference counted atomically. */
struct rec {
	uint64_t        key;
	d_list_t        link;
	ATOMIC uint32_t ref;
	int             on_heap;
};

static ATOMIC int n_freed;

static inline struct rec *
rec_of(d_list_t *l)
{
	return d_list_entry(l, struct rec, link);
}

static bool
r_key_cmp(struct d_hash_table *t, d_list_t *l, const void *key, unsigned int ksize)
{
	assert_int_equal(ksize, sizeof(uint64_t));
	return rec_of(l)->key == *(const uint64_t *)key;
}

static uint32_t
r_key_hash(struct d_hash_table *t, const void *key, unsigned int ksize)
{
	return (uint32_t)*(const uint64_t *)key;
}

static uint32_t
r_rec_hash(struct d_hash_table *t, d_list_t *l)
{
	return (uint32_t)rec_of(l)->key;
}

static void
r_addref(struct d_hash_table *t, d_list_t *l)
{
	atomic_fetch_add(&rec_of(l)->ref, 1);
}

static bool
r_decref(struct d_hash_table *t, d_list_t *l)
{
	return atomic_fetch_sub(&rec_of(l)->ref, 1) == 1;
}

static void
r_free(struct d_hash_table *t, d_list_t *l)
{
	struct rec *r = rec_of(l);

	atomic_fetch_add(&n_freed, 1);
	if (r->on_heap)
		free(r);
}

static ATOMIC uint64_t next_anon = 1000;

static void
r_key_init(struct d_hash_table *t, d_list_t *l, void *arg)
{
	rec_of(l)->key = atomic_fetch_add(&next_anon, 1) + (arg ? *(int *)arg : 0);
}

static d_hash_table_ops_t full_ops = {
    .hop_key_cmp    = r_key_cmp,
    .hop_key_init   = r_key_init,
    .hop_key_hash   = r_key_hash,
    .hop_rec_hash   = r_rec_hash,
    .hop_rec_addref = r_addref,
    .hop_rec_decref = r_decref,
    .hop_rec_free   = r_free,
};

/* No hop_rec_hash: a locked table must fall back to the table-wide lock. */
static d_hash_table_ops_t glock_ops = {
    .hop_key_cmp    = r_key_cmp,
    .hop_key_hash   = r_key_hash,
    .hop_rec_addref = r_addref,
    .hop_rec_decref = r_decref,
    .hop_rec_free   = r_free,
};

/* Only the mandatory callback: djb2 hashing, no reference counting. */
static d_hash_table_ops_t min_ops = {
    .hop_key_cmp = r_key_cmp,
};

static void
rec_init(struct rec *r, uint64_t key)
{
	memset(r, 0, sizeof(*r));
	r->key = key;
	D_INIT_LIST_HEAD(&r->link);
}

static const uint32_t modes[] = {
    0,
    D_HASH_FT_MUTEX,
    D_HASH_FT_RWLOCK,
    D_HASH_FT_NOLOCK,
    D_HASH_FT_GLOCK,
    D_HASH_FT_MUTEX | D_HASH_FT_GLOCK,
    D_HASH_FT_RWLOCK | D_HASH_FT_GLOCK,
    D_HASH_FT_LRU,
    D_HASH_FT_RWLOCK | D_HASH_FT_LRU,
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static void
test_constants(void **state)
{
	(void)state;
	assert_int_equal(D_HASH_FT_NOLOCK, 1);
	assert_int_equal(D_HASH_FT_MUTEX, 2);
	assert_int_equal(D_HASH_FT_RWLOCK, 4);
	assert_int_equal(D_HASH_FT_EPHEMERAL, 8);
	assert_int_equal(D_HASH_FT_LRU, 16);
	assert_int_equal(D_HASH_FT_NO_KEYINIT_LOCK, 32);
	assert_int_equal(D_HASH_FT_GLOCK, 0x8000);
	assert_int_equal(D_HHASH_BITS, 16);
	assert_int_equal(D_HTYPE_BITS, 4);
	assert_int_equal(D_HTYPE_MASK, 0xf);
	assert_int_equal(D_HTYPE_PTR, 0);
	assert_int_equal(D_HASH_DEBUG, 0);
	assert_int_equal(sizeof(struct d_hash_table), 96);
	assert_int_equal(sizeof(struct d_rlink), 24);
	assert_int_equal(sizeof(struct d_hlink), 40);
	assert_int_equal(sizeof(struct d_ulink), 48);
}

/* Every lock mode: create, the feature bits and lock arrays it ends with, a full cycle of
 * insert/find/decref/delete, destroy. */
static void
test_modes(void **state)
{
	struct rec          recs[64];
	struct d_hash_table *t;
	size_t               m;
	int                  i, rc;

	(void)state;
	for (m = 0; m < NMODES; m++) {
		rc = d_hash_table_create(modes[m], 3, (void *)0x1234, &full_ops, &t);
		assert_int_equal(rc, 0);
		assert_non_null(t);
		assert_int_equal(t->ht_feats, modes[m]);
		assert_int_equal(t->ht_bits, 3);
		assert_ptr_equal(t->ht_priv, (void *)0x1234);
		assert_ptr_equal(t->ht_ops, &full_ops);
		assert_non_null(t->ht_buckets);
		if (modes[m] & (D_HASH_FT_NOLOCK | D_HASH_FT_GLOCK))
			assert_null(t->ht_locks);
		else
			assert_non_null(t->ht_locks);

		n_freed = 0;
		for (i = 0; i < 64; i++) {
			rec_init(&recs[i], i * 7 + 1);
			rc = d_hash_rec_insert(t, &recs[i].key, sizeof(uint64_t), &recs[i].link,
					       true);
			assert_int_equal(rc, 0);
			assert_int_equal(recs[i].ref, 1); /* the table's reference */
			assert_false(d_hash_rec_unlinked(&recs[i].link));
		}
		for (i = 0; i < 64; i++) {
			uint64_t  k = i * 7 + 1;
			d_list_t *l = d_hash_rec_find(t, &k, sizeof(k));

			assert_ptr_equal(l, &recs[i].link);
			assert_int_equal(recs[i].ref, 2);
			d_hash_rec_decref(t, l);
			assert_int_equal(recs[i].ref, 1);
		}
		for (i = 0; i < 64; i += 2) {
			uint64_t k = i * 7 + 1;

			assert_true(d_hash_rec_delete(t, &k, sizeof(k)));
			assert_false(d_hash_rec_delete(t, &k, sizeof(k)));
			assert_null(d_hash_rec_find(t, &k, sizeof(k)));
			assert_true(d_hash_rec_unlinked(&recs[i].link));
			assert_int_equal(recs[i].ref, 0);
		}
		assert_int_equal(n_freed, 32);
		for (i = 1; i < 64; i += 2) {
			assert_true(d_hash_rec_delete_at(t, &recs[i].link));
			assert_false(d_hash_rec_delete_at(t, &recs[i].link));
		}
		assert_int_equal(n_freed, 64);
		assert_null(d_hash_rec_first(t));
		assert_int_equal(d_hash_table_destroy(t, false), 0);
	}
}

/* Without hop_rec_hash a locked table is forced to GLOCK; a NOLOCK one is not. */
static void
test_glock_fallback(void **state)
{
	struct d_hash_table t;
	struct rec          r;
	uint64_t            k = 5;

	(void)state;
	assert_int_equal(d_hash_table_create_inplace(D_HASH_FT_MUTEX, 4, NULL, &glock_ops, &t), 0);
	assert_int_equal(t.ht_feats, D_HASH_FT_MUTEX | D_HASH_FT_GLOCK);
	assert_null(t.ht_locks);
	rec_init(&r, 5);
	assert_int_equal(d_hash_rec_insert(&t, &k, sizeof(k), &r.link, true), 0);
	d_hash_rec_addref(&t, &r.link);
	assert_int_equal(r.ref, 2);
	d_hash_rec_decref(&t, &r.link);
	assert_true(d_hash_rec_delete_at(&t, &r.link));
	assert_int_equal(d_hash_table_destroy_inplace(&t, false), 0);
	/* destroy_inplace zeroes the struct */
	assert_null(t.ht_buckets);
	assert_int_equal(t.ht_bits, 0);
	assert_int_equal(t.ht_feats, 0);

	assert_int_equal(d_hash_table_create_inplace(D_HASH_FT_NOLOCK, 2, NULL, &glock_ops, &t), 0);
	assert_int_equal(t.ht_feats, D_HASH_FT_NOLOCK);
	assert_int_equal(d_hash_table_destroy_inplace(&t, false), 0);

	assert_int_equal(d_hash_table_create_inplace(0, 2, NULL, &glock_ops, &t), 0);
	assert_int_equal(t.ht_feats, D_HASH_FT_GLOCK);
	assert_int_equal(d_hash_table_destroy_inplace(&t, true), 0);
}

/* djb2 hashing and no reference callbacks: keys are bytes. */
static uint32_t
djb2(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint32_t             h = 5381;

	while (n--)
		h = h * 33 + *c++;
	return h;
}

static void
test_min_ops(void **state)
{
	struct d_hash_table *t;
	struct rec           a, b;

	(void)state;
	assert_int_equal(d_hash_table_create(D_HASH_FT_NOLOCK, 5, NULL, &min_ops, &t), 0);
	rec_init(&a, 11);
	rec_init(&b, 11);
	assert_int_equal(d_hash_rec_insert(t, &a.key, sizeof(uint64_t), &a.link, false), 0);
	/* non-exclusive insert of a duplicate key is allowed */
	assert_int_equal(d_hash_rec_insert(t, &b.key, sizeof(uint64_t), &b.link, false), 0);
	assert_int_equal(d_hash_rec_insert(t, &b.key, sizeof(uint64_t), &b.link, true), -DER_EXIST);
	/* the bucket is djb2 of the key bytes */
	assert_false(d_list_empty(&t->ht_buckets[djb2(&a.key, 8) & 31].hb_head));
	assert_int_equal(a.ref, 0);
	assert_true(d_hash_rec_delete(t, &a.key, sizeof(uint64_t)));
	assert_true(d_hash_rec_delete(t, &a.key, sizeof(uint64_t)));
	assert_false(d_hash_rec_delete(t, &a.key, sizeof(uint64_t)));
	assert_int_equal(d_hash_table_destroy(t, false), 0);
}

static void
test_find_insert(void **state)
{
	struct d_hash_table *t;
	struct rec           a, b;

	(void)state;
	assert_int_equal(d_hash_table_create(0, 4, NULL, &full_ops, &t), 0);
	rec_init(&a, 3);
	rec_init(&b, 3);
	assert_ptr_equal(d_hash_rec_find_insert(t, &a.key, 8, &a.link), &a.link);
	assert_int_equal(a.ref, 1);
	/* the existing record wins and is referenced; b stays out */
	assert_ptr_equal(d_hash_rec_find_insert(t, &b.key, 8, &b.link), &a.link);
	assert_int_equal(a.ref, 2);
	assert_int_equal(b.ref, 0);
	assert_true(d_hash_rec_unlinked(&b.link));
	d_hash_rec_decref(t, &a.link);
	n_freed = 0;
	assert_int_equal(d_hash_table_destroy(t, false), -DER_BUSY);
	assert_int_equal(d_hash_table_destroy(t, true), 0);
	assert_int_equal(n_freed, 1);
	assert_int_equal(a.ref, 0);
}

/* EPHEMERAL: the table holds no reference; dropping the last one unlinks and frees. */
static void
test_ephemeral(void **state)
{
	struct d_hash_table *t;
	struct rec          *r;
	uint64_t             k = 77;
	d_list_t            *l;

	(void)state;
	assert_int_equal(d_hash_table_create(D_HASH_FT_EPHEMERAL, 4, NULL, &full_ops, &t), 0);
	r = calloc(1, sizeof(*r));
	r->on_heap = 1;
	r->key     = k;
	r->ref     = 1; /* the creator's */
	assert_int_equal(d_hash_rec_insert(t, &k, sizeof(k), &r->link, true), 0);
	assert_int_equal(r->ref, 1);
	l = d_hash_rec_find(t, &k, sizeof(k));
	assert_ptr_equal(l, &r->link);
	assert_int_equal(r->ref, 2);
	d_hash_rec_decref(t, l);
	assert_int_equal(r->ref, 1);
	assert_ptr_equal(d_hash_rec_first(t), &r->link);
	n_freed = 0;
	d_hash_rec_decref(t, l); /* last: unlinked and freed */
	assert_int_equal(n_freed, 1);
	assert_null(d_hash_rec_find(t, &k, sizeof(k)));
	assert_null(d_hash_rec_first(t));

	/* delete in an ephemeral table drops no reference */
	r = calloc(1, sizeof(*r));
	r->on_heap = 1;
	r->key     = k;
	r->ref     = 1;
	assert_int_equal(d_hash_rec_insert(t, &k, sizeof(k), &r->link, true), 0);
	assert_true(d_hash_rec_delete(t, &k, sizeof(k)));
	assert_int_equal(r->ref, 1);
	assert_int_equal(n_freed, 1);
	d_hash_rec_decref(t, &r->link);
	assert_int_equal(n_freed, 2);
	assert_int_equal(d_hash_table_destroy(t, false), 0);
}

static int
r_ndecref(struct d_hash_table *t, d_list_t *l, int count)
{
	struct rec *r = rec_of(l);

	if (r->ref < (uint32_t)count)
		return -DER_INVAL;
	r->ref -= count;
	return r->ref == 0;
}

static void
test_ndecref(void **state)
{
	d_hash_table_ops_t   ops = full_ops;
	struct d_hash_table *t;
	struct rec           r;
	uint64_t             k = 9;
	int                  i;

	(void)state;
	assert_int_equal(d_hash_table_create(0, 2, NULL, &full_ops, &t), 0);
	rec_init(&r, k);
	assert_int_equal(d_hash_rec_insert(t, &k, 8, &r.link, true), 0);
	for (i = 0; i < 4; i++)
		d_hash_rec_addref(t, &r.link);
	assert_int_equal(r.ref, 5);
	assert_int_equal(d_hash_rec_ndecref(t, 3, &r.link), 0);
	assert_int_equal(r.ref, 2);
	assert_int_equal(d_hash_rec_ndecref(t, 0, &r.link), -DER_INVAL);
	assert_int_equal(r.ref, 2);
	assert_true(d_hash_rec_delete_at(t, &r.link));
	assert_int_equal(r.ref, 1);
	n_freed = 0;
	/* more than held: stops at the last reference, frees, and reports -DER_INVAL */
	assert_int_equal(d_hash_rec_ndecref(t, 3, &r.link), -DER_INVAL);
	assert_int_equal(n_freed, 1);
	assert_int_equal(r.ref, 0);
	assert_int_equal(d_hash_table_destroy(t, false), 0);

	/* the table's own ndecref callback */
	ops.hop_rec_ndecref = r_ndecref;
	assert_int_equal(d_hash_table_create(D_HASH_FT_EPHEMERAL, 2, NULL, &ops, &t), 0);
	rec_init(&r, k);
	r.ref = 3;
	assert_int_equal(d_hash_rec_insert(t, &k, 8, &r.link, true), 0);
	assert_int_equal(d_hash_rec_ndecref(t, 5, &r.link), -DER_INVAL);
	assert_int_equal(r.ref, 3);
	assert_int_equal(d_hash_rec_ndecref(t, 2, &r.link), 0);
	assert_int_equal(r.ref, 1);
	n_freed = 0;
	assert_int_equal(d_hash_rec_ndecref(t, 1, &r.link), 0);
	assert_int_equal(n_freed, 1);
	assert_true(d_hash_rec_unlinked(&r.link));
	assert_int_equal(d_hash_table_destroy(t, false), 0);
}

/* LRU with one bucket: finds move to the front, evictions to the back. */
static void
test_lru(void **state)
{
	struct d_hash_table *t;
	struct rec           r[3];
	uint64_t             k;
	d_list_t            *head;
	int                  i;

	(void)state;
	assert_int_equal(d_hash_table_create(D_HASH_FT_LRU, 0, NULL, &full_ops, &t), 0);
	head = &t->ht_buckets[0].hb_head;
	for (i = 0; i < 3; i++) {
		rec_init(&r[i], i);
		assert_int_equal(d_hash_rec_insert(t, &r[i].key, 8, &r[i].link, true), 0);
	}
	/* inserts go to the front: 2 1 0 */
	assert_ptr_equal(head->next, &r[2].link);
	assert_ptr_equal(head->prev, &r[0].link);
	k = 0;
	assert_ptr_equal(d_hash_rec_find(t, &k, 8), &r[0].link);
	d_hash_rec_decref(t, &r[0].link);
	assert_ptr_equal(head->next, &r[0].link); /* 0 2 1 */
	k = 2;
	assert_true(d_hash_rec_evict(t, &k, 8)); /* 0 1 2 */
	assert_ptr_equal(head->prev, &r[2].link);
	k = 42;
	assert_false(d_hash_rec_evict(t, &k, 8));
	assert_false(d_hash_rec_evict_at(t, &r[2].link)); /* already last */
	assert_true(d_hash_rec_evict_at(t, &r[0].link));  /* 1 2 0 */
	assert_ptr_equal(head->prev, &r[0].link);
	assert_ptr_equal(head->next, &r[1].link);
	assert_int_equal(d_hash_table_destroy(t, true), 0);

	/* without LRU nothing moves and evict reports false */
	assert_int_equal(d_hash_table_create(0, 0, NULL, &full_ops, &t), 0);
	for (i = 0; i < 3; i++) {
		rec_init(&r[i], i);
		assert_int_equal(d_hash_rec_insert(t, &r[i].key, 8, &r[i].link, true), 0);
	}
	k = 0;
	assert_ptr_equal(d_hash_rec_find(t, &k, 8), &r[0].link);
	d_hash_rec_decref(t, &r[0].link);
	assert_ptr_equal(t->ht_buckets[0].hb_head.prev, &r[0].link);
	assert_false(d_hash_rec_evict(t, &k, 8));
	assert_false(d_hash_rec_evict_at(t, &r[1].link));
	assert_int_equal(d_hash_table_destroy(t, true), 0);
}

static void
test_anonym(void **state)
{
	static const uint32_t feats[] = {0, D_HASH_FT_NO_KEYINIT_LOCK, D_HASH_FT_GLOCK,
					 D_HASH_FT_MUTEX, D_HASH_FT_NOLOCK, D_HASH_FT_RWLOCK};
	struct d_hash_table   t;
	struct rec            r[4];
	size_t                f;
	int                   i, add = 5;

	(void)state;
	for (f = 0; f < sizeof(feats) / sizeof(feats[0]); f++) {
		assert_int_equal(d_hash_table_create_inplace(feats[f], 3, NULL, &full_ops, &t), 0);
		for (i = 0; i < 4; i++) {
			rec_init(&r[i], 0);
			assert_int_equal(d_hash_rec_insert_anonym(&t, &r[i].link, &add), 0);
			assert_true(r[i].key >= 1005);
			assert_int_equal(r[i].ref, 1);
			assert_ptr_equal(d_hash_rec_find(&t, &r[i].key, 8), &r[i].link);
			d_hash_rec_decref(&t, &r[i].link);
		}
		assert_int_equal(d_hash_table_destroy_inplace(&t, true), 0);
	}
	/* no key generator */
	assert_int_equal(d_hash_table_create_inplace(0, 3, NULL, &glock_ops, &t), 0);
	assert_int_equal(d_hash_rec_insert_anonym(&t, &r[0].link, NULL), -DER_INVAL);
	assert_int_equal(d_hash_table_destroy_inplace(&t, false), 0);
}

static int
count_cb(d_list_t *l, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
stop_at_3(d_list_t *l, void *arg)
{
	return ++(*(int *)arg) == 3 ? 42 : 0;
}

static void
test_traverse(void **state)
{
	struct d_hash_table *t;
	struct d_hash_table  zero;
	struct rec           r[10];
	int                  i, n;

	(void)state;
	assert_int_equal(d_hash_table_create(D_HASH_FT_RWLOCK, 2, NULL, &full_ops, &t), 0);
	for (i = 0; i < 10; i++) {
		rec_init(&r[i], i);
		assert_int_equal(d_hash_rec_insert(t, &r[i].key, 8, &r[i].link, true), 0);
	}
	n = 0;
	assert_int_equal(d_hash_table_traverse(t, count_cb, &n), 0);
	assert_int_equal(n, 10);
	n = 0;
	assert_int_equal(d_hash_table_traverse(t, stop_at_3, &n), 42);
	assert_int_equal(n, 3);
	assert_int_equal(d_hash_table_traverse(t, NULL, NULL), -DER_INVAL);
	/* drain with rec_first */
	n = 0;
	while ((void)0, d_hash_rec_first(t) != NULL) {
		assert_true(d_hash_rec_delete_at(t, d_hash_rec_first(t)));
		n++;
	}
	assert_int_equal(n, 10);
	d_hash_table_debug(t);
	assert_int_equal(d_hash_table_destroy(t, false), 0);

	memset(&zero, 0, sizeof(zero));
	/* a zeroed (or destroyed) table is refused, never dereferenced */
	assert_null(d_hash_rec_find(&zero, &n, sizeof(n)));
	assert_int_equal(d_hash_rec_insert(&zero, &n, sizeof(n), &r[0].link, true), -DER_INVAL);
	assert_false(d_hash_rec_delete_at(&zero, &r[0].link));
	d_hash_rec_addref(&zero, &r[0].link);
	assert_int_equal(d_hash_table_traverse(&zero, count_cb, &n), -DER_UNINIT);
	assert_int_equal(d_hash_table_destroy_inplace(&zero, false), -DER_UNINIT);
	assert_null(d_hash_rec_first(&zero));
}

static void
test_bad_args(void **state)
{
	struct d_hash_table *t = (void *)0x1;
	struct d_hash_table  it;
	d_hash_table_ops_t   no_cmp = {0};
	struct rec           r;
	uint64_t             k = 1;

	(void)state;
	assert_int_equal(d_hash_table_create(0, 2, NULL, NULL, &t), -DER_INVAL);
	assert_null(t);
	assert_int_equal(d_hash_table_create(0, 2, NULL, &no_cmp, &t), -DER_INVAL);
	assert_int_equal(d_hash_table_create(0, 2, NULL, &full_ops, NULL), -DER_INVAL);
	assert_int_equal(d_hash_table_create(0, 40, NULL, &full_ops, &t), -DER_INVAL);
	assert_int_equal(d_hash_table_create_inplace(0, 2, NULL, &full_ops, NULL), -DER_INVAL);
	assert_int_equal(d_hash_table_destroy(NULL, true), -DER_INVAL);
	assert_int_equal(d_hash_table_destroy_inplace(NULL, true), -DER_INVAL);
	assert_int_equal(d_hash_table_traverse(NULL, count_cb, NULL), -DER_INVAL);
	assert_null(d_hash_rec_find(NULL, &k, 8));
	assert_null(d_hash_rec_first(NULL));
	assert_int_equal(d_hash_rec_insert(NULL, &k, 8, &r.link, true), -DER_INVAL);
	assert_int_equal(d_hash_rec_insert_anonym(NULL, &r.link, NULL), -DER_INVAL);
	assert_false(d_hash_rec_delete(NULL, &k, 8));
	assert_false(d_hash_rec_delete_at(NULL, &r.link));
	assert_false(d_hash_rec_evict(NULL, &k, 8));
	assert_false(d_hash_rec_evict_at(NULL, &r.link));
	assert_int_equal(d_hash_rec_ndecref(NULL, 1, &r.link), -DER_INVAL);
	d_hash_rec_addref(NULL, &r.link);
	d_hash_rec_decref(NULL, &r.link);
	assert_true(d_hash_rec_unlinked(NULL));

	assert_int_equal(d_hash_table_create_inplace(D_HASH_FT_LRU, 2, NULL, &full_ops, &it), 0);
	/* NULL or empty keys, NULL links */
	assert_null(d_hash_rec_find(&it, NULL, 8));
	assert_null(d_hash_rec_find(&it, &k, 0));
	assert_int_equal(d_hash_rec_insert(&it, NULL, 8, &r.link, true), -DER_INVAL);
	assert_int_equal(d_hash_rec_insert(&it, &k, 8, NULL, true), -DER_INVAL);
	assert_null(d_hash_rec_find_insert(&it, &k, 8, NULL));
	assert_null(d_hash_rec_find_insert(&it, NULL, 8, &r.link));
	assert_false(d_hash_rec_delete(&it, NULL, 0));
	assert_false(d_hash_rec_delete_at(&it, NULL));
	/* a zeroed, never initialised link is not in the table */
	memset(&r, 0, sizeof(r));
	assert_false(d_hash_rec_delete_at(&it, &r.link));
	assert_false(d_hash_rec_evict(&it, NULL, 8));
	assert_false(d_hash_rec_evict_at(&it, NULL));
	assert_int_equal(d_hash_rec_insert_anonym(&it, NULL, NULL), -DER_INVAL);
	assert_int_equal(d_hash_rec_ndecref(&it, 1, NULL), -DER_INVAL);
	d_hash_rec_addref(&it, NULL);
	d_hash_rec_decref(&it, NULL);
	d_hash_table_debug(NULL);
	assert_int_equal(d_hash_table_destroy_inplace(&it, false), 0);
}

/* Handle tables: cookie keys with a type in the low bits. */
struct handle {
	struct d_hlink hl;
	int            freed;
};

static void
h_free(struct d_hlink *hl)
{
	owner_of(hl, struct handle, hl)->freed++;
}

static struct d_hlink_ops h_ops = {.hop_free = h_free};

static int
h_count(struct d_hlink *hl, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_hhash(void **state)
{
	struct d_hhash *hh;
	struct handle   h[6];
	uint64_t        key, keys[6];
	int             i, n;

	(void)state;
	assert_int_equal(d_hhash_create(0, D_HHASH_BITS, &hh), 0);
	assert_false(d_hhash_is_ptrtype(hh));
	for (i = 0; i < 6; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		assert_true(d_hhash_link_empty(&h[i].hl)); /* never initialised */
		d_hhash_hlink_init(&h[i].hl, &h_ops);
		assert_int_equal(h[i].hl.hl_link.rl_ref, 1);
		assert_true(h[i].hl.hl_link.rl_initialized);
		assert_false(d_hhash_link_empty(&h[i].hl));
		d_hhash_link_insert(hh, &h[i].hl, i < 4 ? 1 : 3);
		d_hhash_link_key(&h[i].hl, &keys[i]);
		assert_int_equal(h[i].hl.hl_link.rl_ref, 2);
		/* cookies count from 1 */
		assert_int_equal(keys[i], ((uint64_t)(i + 1) << D_HTYPE_BITS) | (i < 4 ? 1 : 3));
		assert_int_equal(d_hhash_key_type(keys[i]), i < 4 ? 1 : 3);
		assert_false(d_hhash_key_isptr(keys[i]));
	}
	assert_true(d_hhash_key_isptr(0x1000));
	assert_int_equal(d_hhash_key_type(0x1000), D_HTYPE_PTR);
	n = 0;
	assert_int_equal(d_hhash_traverse(hh, 1, h_count, &n), 0);
	assert_int_equal(n, 4);
	n = 0;
	assert_int_equal(d_hhash_traverse(hh, 3, h_count, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(d_hhash_traverse(hh, 3, NULL, NULL), -DER_INVAL);
	/* a non-empty cookie table cannot switch to pointers */
	assert_int_equal(d_hhash_set_ptrtype(hh), -DER_ALREADY);

	assert_ptr_equal(d_hhash_link_lookup(hh, keys[2]), &h[2].hl);
	assert_int_equal(h[2].hl.hl_link.rl_ref, 3);
	d_hhash_link_putref(hh, &h[2].hl);
	d_hhash_link_getref(hh, &h[2].hl);
	assert_int_equal(h[2].hl.hl_link.rl_ref, 3);
	d_hhash_link_putref(hh, &h[2].hl);
	assert_null(d_hhash_link_lookup(hh, keys[5] + 0x100));
	/* a pointer key in a cookie table */
	assert_null(d_hhash_link_lookup(hh, (uint64_t)(uintptr_t)&h[0].hl));
	assert_null(d_hhash_link_lookup(hh, 0));

	assert_true(d_hhash_link_delete(hh, &h[2].hl));
	assert_false(d_hhash_link_delete(hh, &h[2].hl));
	assert_null(d_hhash_link_lookup(hh, keys[2]));
	assert_int_equal(h[2].freed, 0);
	d_hhash_link_putref(hh, &h[2].hl); /* the creator's reference: freed */
	assert_int_equal(h[2].freed, 1);
	assert_true(d_hhash_link_empty(&h[2].hl));

	key = 0;
	d_hhash_link_key(&h[0].hl, &key);
	assert_int_equal(key, keys[0]);
	/* destroy drops the table's references, leaving the creators' */
	d_hhash_destroy(hh);
	for (i = 0; i < 6; i++) {
		if (i == 2)
			continue;
		assert_int_equal(h[i].hl.hl_link.rl_ref, 1);
		assert_int_equal(h[i].freed, 0);
		d_hhash_link_putref(NULL, &h[i].hl); /* refused: no table */
		assert_int_equal(h[i].hl.hl_link.rl_ref, 1);
	}
}

static void
test_hhash_ptr(void **state)
{
	struct d_hhash *hh;
	struct handle  *h;
	uint64_t        key;
	int             n = 0;

	(void)state;
	assert_int_equal(d_hhash_create(D_HASH_FT_NOLOCK, 4, &hh), 0);
	assert_int_equal(d_hhash_set_ptrtype(hh), 0);
	assert_true(d_hhash_is_ptrtype(hh));
	assert_int_equal(d_hhash_set_ptrtype(hh), 0);
	h = calloc(1, sizeof(*h));
	d_hhash_hlink_init(&h->hl, &h_ops);
	d_hhash_link_insert(hh, &h->hl, D_HTYPE_PTR);
	d_hhash_link_key(&h->hl, &key);
	assert_int_equal(key, (uint64_t)(uintptr_t)&h->hl);
	assert_true(d_hhash_key_isptr(key));
	assert_int_equal(h->hl.hl_link.rl_ref, 2);
	/* pointer handles are not linked into buckets */
	assert_true(d_hash_rec_unlinked(&h->hl.hl_link.rl_link));
	assert_int_equal(d_hhash_traverse(hh, D_HTYPE_PTR, h_count, &n), 0);
	assert_int_equal(n, 0);
	assert_ptr_equal(d_hhash_link_lookup(hh, key), &h->hl);
	assert_int_equal(h->hl.hl_link.rl_ref, 3);
	d_hhash_link_putref(hh, &h->hl);
	/* a cookie-typed insert into a pointer table is refused */
	d_hhash_link_insert(hh, &h->hl, 1);
	assert_int_equal(h->hl.hl_link.rl_ref, 2);
	assert_true(d_hhash_link_delete(hh, &h->hl));
	assert_int_equal(h->hl.hl_link.rl_ref, 1);
	d_hhash_link_putref(hh, &h->hl);
	assert_int_equal(h->freed, 1);
	free(h);
	d_hhash_destroy(hh);

	/* bad arguments */
	assert_int_equal(d_hhash_create(0, 4, NULL), -DER_INVAL);
	assert_int_equal(d_hhash_set_ptrtype(NULL), -DER_INVAL);
	assert_false(d_hhash_is_ptrtype(NULL));
	assert_null(d_hhash_link_lookup(NULL, 0x11));
	assert_false(d_hhash_link_delete(NULL, NULL));
	assert_true(d_hhash_link_empty(NULL));
	assert_int_equal(d_hhash_traverse(NULL, 1, h_count, NULL), -DER_INVAL);
	d_hhash_destroy(NULL);
	d_hhash_hlink_init(NULL, NULL);
	d_hhash_link_insert(NULL, NULL, 1);
	d_hhash_link_getref(NULL, NULL);
	d_hhash_link_key(NULL, &key);
}

/* UUID tables. */
struct uobj {
	struct d_ulink ul;
	int            tag;
	int            freed;
};

static void
u_free(struct d_ulink *ul)
{
	owner_of(ul, struct uobj, ul)->freed++;
}

static bool
u_cmp(struct d_ulink *ul, void *arg)
{
	return arg == NULL || owner_of(ul, struct uobj, ul)->tag == *(int *)arg;
}

static struct d_ulink_ops u_ops = {.uop_free = u_free, .uop_cmp = u_cmp};

static void
test_uhash(void **state)
{
	struct d_hash_table *t;
	struct uobj          a, b;
	struct d_uuid        ua, ub;
	int                  tag_a = 7, tag_x = 8;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (tag_x = 0; tag_x < 16; tag_x++) {
		ua.uuid[tag_x] = (unsigned char)(0xf1 + tag_x * 13);
		ub.uuid[tag_x] = (unsigned char)(0x01 + tag_x * 17);
	}
	tag_x = 8;
	assert_int_equal(d_uhash_create(0, D_HHASH_BITS, &t), 0);
	assert_true(d_uhash_link_empty(&a.ul));
	d_uhash_ulink_init(&a.ul, &u_ops);
	d_uhash_ulink_init(&b.ul, &u_ops);
	a.tag = 7;
	assert_true(d_uhash_link_last_ref(&a.ul));
	assert_int_equal(d_uhash_link_insert(t, &ua, NULL, &a.ul), 0);
	assert_memory_equal(a.ul.ul_uuid.uuid, ua.uuid, 16);
	assert_false(d_uhash_link_last_ref(&a.ul));
	assert_int_equal(d_uhash_link_insert(t, &ua, NULL, &b.ul), -DER_EXIST);
	assert_int_equal(d_uhash_link_insert(t, &ub, NULL, &b.ul), 0);

	assert_ptr_equal(d_uhash_link_lookup(t, &ua, NULL), &a.ul);
	d_uhash_link_putref(t, &a.ul);
	assert_ptr_equal(d_uhash_link_lookup(t, &ua, &tag_a), &a.ul);
	d_uhash_link_putref(t, &a.ul);
	assert_null(d_uhash_link_lookup(t, &ua, &tag_x)); /* uop_cmp says no */
	d_uhash_link_addref(t, &a.ul);
	assert_int_equal(a.ul.ul_link.rl_ref, 3);
	d_uhash_link_putref(t, &a.ul);
	assert_int_equal(a.ul.ul_link.rl_ref, 2);

	d_uhash_link_delete(t, &a.ul);
	assert_null(d_uhash_link_lookup(t, &ua, NULL));
	assert_true(d_uhash_link_last_ref(&a.ul));
	assert_false(d_uhash_link_empty(&a.ul));
	d_uhash_link_putref(t, &a.ul); /* the creator's: freed */
	assert_int_equal(a.freed, 1);
	assert_true(d_uhash_link_empty(&a.ul));

	d_uhash_destroy(t); /* drops the table's reference on b */
	assert_int_equal(b.ul.ul_link.rl_ref, 1);
	assert_int_equal(b.freed, 0);

	assert_int_equal(d_uhash_create(0, 2, NULL), -DER_INVAL);
	assert_int_equal(d_uhash_link_insert(NULL, &ua, NULL, &a.ul), -DER_INVAL);
	assert_null(d_uhash_link_lookup(NULL, &ua, NULL));
	d_uhash_destroy(NULL);
	d_uhash_ulink_init(NULL, NULL);
	d_uhash_link_addref(NULL, NULL);
	d_uhash_link_putref(NULL, NULL);
	d_uhash_link_delete(NULL, NULL);
	assert_true(d_uhash_link_empty(NULL));
	assert_false(d_uhash_link_last_ref(NULL));
}

/* Two threads on one locked table: each inserts, finds and deletes its own keys and looks
 * up the other's, for every lock mode. Reference counts must balance exactly. */
#define PER_THREAD 2000
#define ROUNDS     3

struct worker {
	struct d_hash_table *t;
	struct rec          *recs;
	int                  id;
	int                  found_other;
	int                  errors;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	int            i, round;

	/* Fresh records each round: the other thread may still hold a lookup reference on a
	 * record this one has deleted, so records are checked only after both joined. */
	for (round = 0; round < ROUNDS; round++) {
		struct rec *recs = w->recs + round * PER_THREAD;
		uint64_t    base = (uint64_t)round * PER_THREAD;

		for (i = 0; i < PER_THREAD; i++) {
			rec_init(&recs[i], (base + i) * 2 + w->id);
			if (d_hash_rec_insert(w->t, &recs[i].key, 8, &recs[i].link, true) != 0)
				w->errors++;
		}
		for (i = 0; i < PER_THREAD; i++) {
			uint64_t  k = (base + i) * 2 + w->id;
			uint64_t  o = (base + i) * 2 + (1 - w->id);
			d_list_t *l = d_hash_rec_find(w->t, &k, 8);

			if (l != &recs[i].link)
				w->errors++;
			if (l != NULL)
				d_hash_rec_decref(w->t, l);
			l = d_hash_rec_find(w->t, &o, 8);
			if (l != NULL) {
				if (rec_of(l)->key != o)
					w->errors++;
				w->found_other++;
				d_hash_rec_decref(w->t, l);
			}
		}
		for (i = 0; i < PER_THREAD; i++) {
			uint64_t k = (base + i) * 2 + w->id;

			if (!d_hash_rec_delete(w->t, &k, 8))
				w->errors++;
		}
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct worker w[2];
	pthread_t     th[2];
	size_t        m;
	int           i, j;

	(void)state;
	for (m = 0; m < NMODES; m++) {
		struct d_hash_table *t;

		if (modes[m] & D_HASH_FT_NOLOCK)
			continue;
		assert_int_equal(d_hash_table_create(modes[m], 8, NULL, &full_ops, &t), 0);
		n_freed = 0;
		for (i = 0; i < 2; i++) {
			w[i].t           = t;
			w[i].recs        = calloc(ROUNDS * PER_THREAD, sizeof(struct rec));
			w[i].id          = i;
			w[i].found_other = 0;
			w[i].errors      = 0;
			assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
		}
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		for (i = 0; i < 2; i++) {
			assert_int_equal(w[i].errors, 0);
			for (j = 0; j < ROUNDS * PER_THREAD; j++) {
				assert_int_equal(w[i].recs[j].ref, 0);
				assert_true(d_hash_rec_unlinked(&w[i].recs[j].link));
			}
			free(w[i].recs);
		}
		assert_int_equal(n_freed, 2 * ROUNDS * PER_THREAD);
		assert_null(d_hash_rec_first(t));
		assert_int_equal(d_hash_table_destroy(t, false), 0);
	}
}

/* Anonymous inserts from two threads: every generated key is distinct and findable. */
static void *
anon_work(void *arg)
{
	struct worker *w = arg;
	int            i;

	for (i = 0; i < PER_THREAD; i++) {
		rec_init(&w->recs[i], 0);
		if (d_hash_rec_insert_anonym(w->t, &w->recs[i].link, NULL) != 0)
			w->errors++;
	}
	return NULL;
}

static void
test_threads_anonym(void **state)
{
	static const uint32_t feats[] = {0, D_HASH_FT_NO_KEYINIT_LOCK, D_HASH_FT_MUTEX,
					 D_HASH_FT_RWLOCK | D_HASH_FT_GLOCK};
	struct worker         w[2];
	pthread_t             th[2];
	size_t                f;
	int                   i, j;

	(void)state;
	for (f = 0; f < sizeof(feats) / sizeof(feats[0]); f++) {
		struct d_hash_table *t;

		assert_int_equal(d_hash_table_create(feats[f], 6, NULL, &full_ops, &t), 0);
		for (i = 0; i < 2; i++) {
			w[i].t    = t;
			w[i].recs   = calloc(PER_THREAD, sizeof(struct rec));
			w[i].errors = 0;
			assert_int_equal(pthread_create(&th[i], NULL, anon_work, &w[i]), 0);
		}
		for (i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(w[i].errors, 0);
		}
		for (i = 0; i < 2; i++)
			for (j = 0; j < PER_THREAD; j++) {
				d_list_t *l = d_hash_rec_find(t, &w[i].recs[j].key, 8);

				assert_ptr_equal(l, &w[i].recs[j].link);
				d_hash_rec_decref(t, l);
			}
		assert_int_equal(d_hash_table_destroy(t, true), 0);
		for (i = 0; i < 2; i++)
			free(w[i].recs);
	}
}

/* Values computed by upstream's C hash functions. */
static const struct { unsigned len; uint64_t s0, s1; } murmur_ref[] = {
    {0, 0x0ULL, 0xf56f7bcd78c1069aULL},
    {1, 0xd5d347e79e917eaULL, 0xa960bcdf1d6c610aULL},
    {2, 0xd21ee89a263f14b8ULL, 0x1d74072de37143ULL},
    {3, 0xeb79fa711a44bb47ULL, 0x80174ae7d00adf40ULL},
    {4, 0x866263788ab3e2f7ULL, 0xe38b531811a37c69ULL},
    {5, 0x5f8d8a456a9c8043ULL, 0x251296031d39d8b9ULL},
    {6, 0xe7ad9f53809bd8c6ULL, 0xeb6201e6a62ac64aULL},
    {7, 0x83d6d69c8462799cULL, 0x739575541679bcULL},
    {8, 0x30d784eb06d314dfULL, 0xa963a96550008870ULL},
    {9, 0x5c59b94e255faddaULL, 0x6dfdc96d1132c36cULL},
    {10, 0xdcca98cd23163bb1ULL, 0x72b8462c682da36dULL},
    {11, 0xfea4bec4a0a2bb73ULL, 0xa2e0cd0e622042c8ULL},
    {12, 0x524b47e3110038a4ULL, 0x831a6ef37fed6664ULL},
    {13, 0x47a39d60c70099b9ULL, 0xc3a8ee5a1ae6b71bULL},
    {14, 0xeac2be32e929b548ULL, 0xf98825839a5e26b7ULL},
    {15, 0xd69656f62c12eb42ULL, 0xa832e17328dc4ab1ULL},
    {16, 0x9f365ec0adfe3bc9ULL, 0xe469fef49519d636ULL},
    {17, 0xeb75eefb93381ce5ULL, 0x7dedbe575755033eULL},
    {18, 0x67fd19b244e48f77ULL, 0x46324a8c51ac6b05ULL},
    {19, 0xc68f7923ad19e7bULL, 0xf1393f2dee12fc7fULL},
    {20, 0x95aaafc3402f88c5ULL, 0x2b001c0776f4be91ULL},
    {21, 0x59ad69e4f794cf2fULL, 0x213a1df1f6c45e21ULL},
    {22, 0x336beab9a6080731ULL, 0x7e8353abda45e422ULL},
    {23, 0x8122a1021eea8273ULL, 0x602ae3a4a26c381bULL},
    {24, 0x38a480013c0649bfULL, 0x474a1dea43310f36ULL},
    {25, 0x8800599d73c2703dULL, 0xe8de6178346cda3bULL},
    {26, 0xc535107a869aaa08ULL, 0x9d66db0860318095ULL},
    {27, 0xa971b2c397e459ceULL, 0x77baace24a9708bbULL},
    {28, 0x542e6cac27dd534dULL, 0xff57019c4794fef7ULL},
    {29, 0x6488d49175902225ULL, 0x7d66fdfa7eddad6bULL},
    {30, 0x72cf5178d031ecd8ULL, 0x178dd20e338e43b2ULL},
    {31, 0xebd3aacf38be7371ULL, 0x73780dc178f8c098ULL},
    {32, 0xf0cd6f6c5128ed8bULL, 0x8b9225533703cf1eULL},
    {33, 0x63b6791edb74512fULL, 0x9b5092584e36867cULL},
    {34, 0xba3fe555e416d2f8ULL, 0xe86c225844dc24e8ULL},
    {35, 0x99fa9b2fb6743dd8ULL, 0xf9b37722d165b7b7ULL},
    {36, 0xda75aa0b5d4903a6ULL, 0x6d444ef0752d17afULL},
    {37, 0xb4c439e796513cb0ULL, 0x49870b4c5b57344fULL},
    {38, 0x89cb247c82927e15ULL, 0x8be8a23b6bbd6286ULL},
    {39, 0x5a284be892addd51ULL, 0x920ba01f28ce081bULL},
    {40, 0x3f02fd73fe9f6912ULL, 0x55dac3267a4fb8a2ULL},
};
static const struct { uint64_t key; uint32_t n, b; } jump_ref[] = {
    {0x0ULL, 1u, 0u},
    {0x0ULL, 2u, 0u},
    {0x0ULL, 3u, 0u},
    {0x0ULL, 7u, 0u},
    {0x0ULL, 10u, 0u},
    {0x0ULL, 100u, 0u},
    {0x0ULL, 1000u, 0u},
    {0x0ULL, 65536u, 0u},
    {0x0ULL, 4294967295u, 2147483648u},
    {0x0ULL, 0u, 4294967295u},
    {0x1ULL, 1u, 0u},
    {0x1ULL, 2u, 0u},
    {0x1ULL, 3u, 0u},
    {0x1ULL, 7u, 6u},
    {0x1ULL, 10u, 6u},
    {0x1ULL, 100u, 55u},
    {0x1ULL, 1000u, 549u},
    {0x1ULL, 65536u, 21134u},
    {0x1ULL, 4294967295u, 3094789146u},
    {0x1ULL, 0u, 4294967295u},
    {0x2ULL, 1u, 0u},
    {0x2ULL, 2u, 0u},
    {0x2ULL, 3u, 0u},
    {0x2ULL, 7u, 6u},
    {0x2ULL, 10u, 6u},
    {0x2ULL, 100u, 62u},
    {0x2ULL, 1000u, 338u},
    {0x2ULL, 65536u, 3927u},
    {0x2ULL, 4294967295u, 2616496271u},
    {0x2ULL, 0u, 4294967295u},
    {0x2aULL, 1u, 0u},
    {0x2aULL, 2u, 1u},
    {0x2aULL, 3u, 2u},
    {0x2aULL, 7u, 2u},
    {0x2aULL, 10u, 2u},
    {0x2aULL, 100u, 43u},
    {0x2aULL, 1000u, 571u},
    {0x2aULL, 65536u, 5747u},
    {0x2aULL, 4294967295u, 1603940301u},
    {0x2aULL, 0u, 4294967295u},
    {0xdeadbeefULL, 1u, 0u},
    {0xdeadbeefULL, 2u, 1u},
    {0xdeadbeefULL, 3u, 2u},
    {0xdeadbeefULL, 7u, 5u},
    {0xdeadbeefULL, 10u, 5u},
    {0xdeadbeefULL, 100u, 87u},
    {0xdeadbeefULL, 1000u, 285u},
    {0xdeadbeefULL, 65536u, 64244u},
    {0xdeadbeefULL, 4294967295u, 1452406526u},
    {0xdeadbeefULL, 0u, 4294967295u},
    {0xffffffffffffffffULL, 1u, 0u},
    {0xffffffffffffffffULL, 2u, 1u},
    {0xffffffffffffffffULL, 3u, 2u},
    {0xffffffffffffffffULL, 7u, 2u},
    {0xffffffffffffffffULL, 10u, 9u},
    {0xffffffffffffffffULL, 100u, 92u},
    {0xffffffffffffffffULL, 1000u, 313u},
    {0xffffffffffffffffULL, 65536u, 18311u},
    {0xffffffffffffffffULL, 4294967295u, 2680453518u},
    {0xffffffffffffffffULL, 0u, 4294967295u},
    {0x123456789abcdef0ULL, 1u, 0u},
    {0x123456789abcdef0ULL, 2u, 0u},
    {0x123456789abcdef0ULL, 3u, 2u},
    {0x123456789abcdef0ULL, 7u, 4u},
    {0x123456789abcdef0ULL, 10u, 4u},
    {0x123456789abcdef0ULL, 100u, 33u},
    {0x123456789abcdef0ULL, 1000u, 399u},
    {0x123456789abcdef0ULL, 65536u, 55019u},
    {0x123456789abcdef0ULL, 4294967295u, 4066565665u},
    {0x123456789abcdef0ULL, 0u, 4294967295u},
    {0x8000000000000000ULL, 1u, 0u},
    {0x8000000000000000ULL, 2u, 1u},
    {0x8000000000000000ULL, 3u, 1u},
    {0x8000000000000000ULL, 7u, 5u},
    {0x8000000000000000ULL, 10u, 5u},
    {0x8000000000000000ULL, 100u, 84u},
    {0x8000000000000000ULL, 1000u, 453u},
    {0x8000000000000000ULL, 65536u, 53854u},
    {0x8000000000000000ULL, 4294967295u, 1119800965u},
    {0x8000000000000000ULL, 0u, 4294967295u},
};

/* The exported hash functions, bit-exact with upstream (placement and telemetry keys). */
static void
test_hash_functions(void **state)
{
	static const uint64_t srch[] = {10, 20, 20, 30, 40, 1000};
	unsigned char         buf[40];
	size_t                i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	for (i = 0; i < sizeof(murmur_ref) / sizeof(murmur_ref[0]); i++) {
		assert_int_equal(d_hash_murmur64(buf, murmur_ref[i].len, 0), murmur_ref[i].s0);
		assert_int_equal(d_hash_murmur64(buf, murmur_ref[i].len, 0xdead1234), murmur_ref[i].s1);
	}
	for (i = 0; i < sizeof(jump_ref) / sizeof(jump_ref[0]); i++)
		assert_int_equal(d_hash_jump(jump_ref[i].key, jump_ref[i].n), jump_ref[i].b);
	assert_int_equal(d_hash_mix64(0), 0x77cfa1eef01bca90ULL);
	assert_int_equal(d_hash_mix64(0xdeadbeef), 0x386f2a5f36b257cbULL);
	assert_int_equal(d_hash_mix64(UINT64_MAX), 0x1f89206e3f8ec794ULL);
	assert_int_equal(d_hash_mix96(1, 2, 3), 0xb7b48902);
	assert_int_equal(d_hash_mix96(0xffffffff, 0x12345678, 0x9abcdef0), 0x6402c1f1);
	assert_int_equal(d_hash_string_u32("", 0), 5381);
	assert_int_equal(d_hash_string_u32("hello", 5), 261238937);
	assert_int_equal(d_hash_string_u32("daos_engine", 11), 3013580321u);
	assert_int_equal(d_hash_string_u32("\xff\xfe\x80", 3), 193663202);
	assert_int_equal(d_hash_srch_u64((uint64_t *)srch, 6, 0), 0);
	assert_int_equal(d_hash_srch_u64((uint64_t *)srch, 6, 20), 2);
	assert_int_equal(d_hash_srch_u64((uint64_t *)srch, 6, 39), 3);
	assert_int_equal(d_hash_srch_u64((uint64_t *)srch, 6, 999), 4);
	assert_int_equal(d_hash_srch_u64((uint64_t *)srch, 6, 5000), 5);
	assert_int_equal(d_hash_srch_u64((uint64_t *)srch, 2, 25), 1);
	/* NULL inputs: nothing to read */
	assert_int_equal(d_hash_srch_u64(NULL, 3, 25), 0);
	assert_int_equal(d_hash_string_u32(NULL, 4), 5381);
	assert_int_equal(d_hash_murmur64(NULL, 0, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constants),     cmocka_unit_test(test_hash_functions),
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_glock_fallback), cmocka_unit_test(test_min_ops),
	    cmocka_unit_test(test_find_insert),   cmocka_unit_test(test_ephemeral),
	    cmocka_unit_test(test_ndecref),       cmocka_unit_test(test_lru),
	    cmocka_unit_test(test_anonym),        cmocka_unit_test(test_traverse),
	    cmocka_unit_test(test_bad_args),      cmocka_unit_test(test_hhash),
	    cmocka_unit_test(test_hhash_ptr),     cmocka_unit_test(test_uhash),
	    cmocka_unit_test(test_threads),       cmocka_unit_test(test_threads_anonym),
	};

	return cmocka_run_group_tests_name("gurt_hash", tests, NULL, NULL);
}
