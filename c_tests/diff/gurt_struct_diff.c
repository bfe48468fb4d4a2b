/*
 * gurt_struct_diff: differential test of two libgurt builds' hash tables, handle tables and
 * binary heaps.
 *
 *   gurt_struct_diff LIB_A LIB_B      (paths of two libraries exporting gurt's ABI, e.g.
 *                                      upstream DAOS's libgurt and oxidaos's libgurt.so.4)
 *
 * Both are dlopen()ed side by side and driven with the same pseudo-random operation sequences:
 * for the hash table, inserts (exclusive or not), finds, find-inserts, anonymous inserts,
 * deletes by key and by link, evictions, addref/decref/ndecref, across lock modes, the
 * EPHEMERAL and LRU features and 1 to 8 buckets; for handle tables, cookie and pointer handles
 * inserted, looked up, referenced, released, deleted and traversed by type; for the heap, inserts (with an enter callback
 * that refuses some), removals and root removals. After every operation the return values,
 * every record's reference count, free calls, key and linkage, the order a traversal visits
 * the records (the bucket order), every handle's key and reference count and every heap
 * node's position must be identical.
 * Exit status 0 when no difference was found.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <gurt/list.h>
#include <gurt/hash.h>
#include <gurt/heap.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"

static int fails;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			if (++fails > 10)                                                          \
				exit(1);                                                           \
		}                                                                                  \
	} while (0)

static void *
open_lib(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "%s\n", dlerror());
		exit(2);
	}
	return h;
}

static void *
sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (p == NULL) {
		fprintf(stderr, "missing %s\n", name);
		exit(2);
	}
	return p;
}

/* ------------------------------------------------------------------ hash tables */

#define NREC 64

struct rec {
	uint64_t key;
	d_list_t link;
	int      ref;
	int      freed;
};

#define REC(l) d_list_entry(l, struct rec, link)

struct hash_lib {
	int (*create)(uint32_t, uint32_t, void *, d_hash_table_ops_t *, struct d_hash_table **);
	int (*destroy)(struct d_hash_table *, bool);
	d_list_t *(*find)(struct d_hash_table *, const void *, unsigned int);
	d_list_t *(*find_insert)(struct d_hash_table *, const void *, unsigned int, d_list_t *);
	int (*insert)(struct d_hash_table *, const void *, unsigned int, d_list_t *, bool);
	int (*insert_anonym)(struct d_hash_table *, d_list_t *, void *);
	bool (*del)(struct d_hash_table *, const void *, unsigned int);
	bool (*del_at)(struct d_hash_table *, d_list_t *);
	bool (*evict)(struct d_hash_table *, const void *, unsigned int);
	bool (*evict_at)(struct d_hash_table *, d_list_t *);
	void (*addref)(struct d_hash_table *, d_list_t *);
	void (*decref)(struct d_hash_table *, d_list_t *);
	int (*ndecref)(struct d_hash_table *, int, d_list_t *);
	int (*traverse)(struct d_hash_table *, d_hash_traverse_cb_t, void *);

	struct d_hash_table *t;
	struct rec           recs[NREC];
	uint64_t             anon; /* next generated key */
};

static bool
k_cmp(struct d_hash_table *t, d_list_t *l, const void *k, unsigned int s)
{
	return REC(l)->key == *(const uint64_t *)k;
}

static uint32_t
k_hash(struct d_hash_table *t, const void *k, unsigned int s)
{
	return (uint32_t)(*(const uint64_t *)k * 2654435761u);
}

static uint32_t
r_hash(struct d_hash_table *t, d_list_t *l)
{
	return (uint32_t)(REC(l)->key * 2654435761u);
}

static void
r_addref(struct d_hash_table *t, d_list_t *l)
{
	REC(l)->ref++;
}

static bool
r_decref(struct d_hash_table *t, d_list_t *l)
{
	return --REC(l)->ref == 0;
}

static void
r_free(struct d_hash_table *t, d_list_t *l)
{
	REC(l)->freed++;
}

static void
k_init(struct d_hash_table *t, d_list_t *l, void *arg)
{
	struct hash_lib *lib = t->ht_priv;

	REC(l)->key = 1000 + lib->anon++;
}

static d_hash_table_ops_t rec_ops = {
    .hop_key_cmp    = k_cmp,
    .hop_key_init   = k_init,
    .hop_key_hash   = k_hash,
    .hop_rec_hash   = r_hash,
    .hop_rec_addref = r_addref,
    .hop_rec_decref = r_decref,
    .hop_rec_free   = r_free,
};

static void
hash_load(struct hash_lib *L, const char *path)
{
	void *h = open_lib(path);

	*(void **)&L->create        = sym(h, "d_hash_table_create");
	*(void **)&L->destroy       = sym(h, "d_hash_table_destroy");
	*(void **)&L->find          = sym(h, "d_hash_rec_find");
	*(void **)&L->find_insert   = sym(h, "d_hash_rec_find_insert");
	*(void **)&L->insert        = sym(h, "d_hash_rec_insert");
	*(void **)&L->insert_anonym = sym(h, "d_hash_rec_insert_anonym");
	*(void **)&L->del           = sym(h, "d_hash_rec_delete");
	*(void **)&L->del_at        = sym(h, "d_hash_rec_delete_at");
	*(void **)&L->evict         = sym(h, "d_hash_rec_evict");
	*(void **)&L->evict_at      = sym(h, "d_hash_rec_evict_at");
	*(void **)&L->addref        = sym(h, "d_hash_rec_addref");
	*(void **)&L->decref        = sym(h, "d_hash_rec_decref");
	*(void **)&L->ndecref       = sym(h, "d_hash_rec_ndecref");
	*(void **)&L->traverse      = sym(h, "d_hash_table_traverse");
}

struct walk {
	struct hash_lib *lib;
	int              n;
	int              idx[NREC];
};

static int
walk_cb(d_list_t *l, void *arg)
{
	struct walk *w = arg;

	if (w->n < NREC)
		w->idx[w->n] = (int)(REC(l) - w->lib->recs);
	w->n++;
	return 0;
}

static long
rec_index(struct hash_lib *L, d_list_t *l)
{
	return l == NULL ? -1 : REC(l) - L->recs;
}

/* Compares both libraries' records and bucket order after an operation. */
static void
hash_compare(struct hash_lib *A, struct hash_lib *B, uint32_t feats, int step, int op)
{
	struct walk wa = {.lib = A}, wb = {.lib = B};
	int         x;

	for (x = 0; x < NREC; x++) {
		struct rec *a = &A->recs[x], *b = &B->recs[x];

		CHECK(a->ref == b->ref && a->freed == b->freed && a->key == b->key,
		      "feats %#x step %d op %d record %d: ref %d/%d freed %d/%d key %lu/%lu", feats,
		      step, op, x, a->ref, b->ref, a->freed, b->freed, (unsigned long)a->key,
		      (unsigned long)b->key);
		CHECK(d_list_empty(&a->link) == d_list_empty(&b->link),
		      "feats %#x step %d op %d record %d: linkage differs", feats, step, op, x);
	}
	A->traverse(A->t, walk_cb, &wa);
	B->traverse(B->t, walk_cb, &wb);
	CHECK(wa.n == wb.n && memcmp(wa.idx, wb.idx, sizeof(int) * (wa.n < NREC ? wa.n : NREC)) == 0,
	      "feats %#x step %d op %d: traversal differs (%d/%d records)", feats, step, op, wa.n,
	      wb.n);
}

static int
diff_hash(const char *path_a, const char *path_b)
{
	static const uint32_t feats[] = {
	    0,
	    D_HASH_FT_LRU,
	    D_HASH_FT_EPHEMERAL,
	    D_HASH_FT_EPHEMERAL | D_HASH_FT_LRU,
	    D_HASH_FT_NOLOCK | D_HASH_FT_LRU,
	    D_HASH_FT_RWLOCK | D_HASH_FT_LRU,
	    D_HASH_FT_GLOCK | D_HASH_FT_MUTEX,
	};
	static struct hash_lib A, B;
	unsigned int           seed = 1;
	long                   ops  = 0;
	size_t                 f;
	int                    bits, round, step, r, i;

	hash_load(&A, path_a);
	hash_load(&B, path_b);
	for (f = 0; f < sizeof(feats) / sizeof(feats[0]); f++)
		for (bits = 0; bits <= 3; bits++)
			for (round = 0; round < 40; round++) {
				struct hash_lib *libs[2] = {&A, &B};
				bool             eph     = feats[f] & D_HASH_FT_EPHEMERAL;
				int              held[NREC]; /* the test's own references */

				for (i = 0; i < 2; i++) {
					struct hash_lib *L = libs[i];

					L->anon = 0;
					for (r = 0; r < NREC; r++) {
						memset(&L->recs[r], 0, sizeof(L->recs[r]));
						L->recs[r].key = r % 24; /* duplicates on purpose */
						L->recs[r].ref = eph;    /* the creator's, if the table takes none */
						D_INIT_LIST_HEAD(&L->recs[r].link);
					}
					CHECK(L->create(feats[f], bits, L, &rec_ops, &L->t) == 0, "create");
				}
				for (r = 0; r < NREC; r++)
					held[r] = eph;

				for (step = 0; step < 400; step++) {
					int         op = rand_r(&seed) % 12;
					uint64_t    k  = rand_r(&seed) % 28;
					struct rec *a, *b;
					long        ra = 0, rb = 0;
					bool        linked;
					int         c;

					r      = rand_r(&seed) % NREC;
					a      = &A.recs[r];
					b      = &B.recs[r];
					linked = !d_list_empty(&a->link);
					switch (op) {
					case 0: /* insert */
					case 1: /* exclusive insert */
						if (linked || a->freed)
							continue;
						ra = A.insert(A.t, &a->key, 8, &a->link, op == 1);
						rb = B.insert(B.t, &b->key, 8, &b->link, op == 1);
						break;
					case 2:
						ra = rec_index(&A, A.find(A.t, &k, 8));
						rb = rec_index(&B, B.find(B.t, &k, 8));
						if (ra >= 0)
							held[ra]++;
						break;
					case 3:
						if (linked || a->freed)
							continue;
						ra = rec_index(&A, A.find_insert(A.t, &a->key, 8, &a->link));
						rb = rec_index(&B, B.find_insert(B.t, &b->key, 8, &b->link));
						if (ra != r)
							held[ra]++;
						break;
					case 4:
						if (eph) /* would drop the creator's reference */
							continue;
						ra = A.del(A.t, &k, 8);
						rb = B.del(B.t, &k, 8);
						break;
					case 5:
						ra = A.del_at(A.t, &a->link);
						rb = B.del_at(B.t, &b->link);
						break;
					case 6:
						ra = A.evict(A.t, &k, 8);
						rb = B.evict(B.t, &k, 8);
						break;
					case 7:
						if (!linked)
							continue;
						ra = A.evict_at(A.t, &a->link);
						rb = B.evict_at(B.t, &b->link);
						break;
					case 8:
						if (!held[r] || a->freed)
							continue;
						A.addref(A.t, &a->link);
						B.addref(B.t, &b->link);
						held[r]++;
						break;
					case 9:
						if (!held[r] || a->freed)
							continue;
						A.decref(A.t, &a->link);
						B.decref(B.t, &b->link);
						held[r]--;
						break;
					case 10:
						if (held[r] < 2 || a->freed)
							continue;
						c  = 1 + rand_r(&seed) % (held[r] - 1);
						ra = A.ndecref(A.t, c, &a->link);
						rb = B.ndecref(B.t, c, &b->link);
						held[r] -= c;
						break;
					default:
						if (linked || a->freed)
							continue;
						ra = A.insert_anonym(A.t, &a->link, NULL);
						rb = B.insert_anonym(B.t, &b->link, NULL);
						break;
					}
					ops++;
					CHECK(ra == rb, "feats %#x bits %d step %d op %d: %ld / %ld", feats[f],
					      bits, step, op, ra, rb);
					hash_compare(&A, &B, feats[f], step, op);
				}
				CHECK(A.destroy(A.t, true) == B.destroy(B.t, true), "destroy");
				hash_compare(&A, &B, feats[f], -1, -1);
			}
	printf("hash: %ld operations compared, %d differences\n", ops, fails);
	return fails;
}

/* ------------------------------------------------------------------ handle tables */

#define NHANDLE 48

struct handle {
	struct d_hlink hl;
	int            freed;
};

static void
h_free(struct d_hlink *hl)
{
	container_of(hl, struct handle, hl)->freed++;
}

static struct d_hlink_ops handle_ops = {.hop_free = h_free};

struct hh_lib {
	int (*create)(uint32_t, uint32_t, struct d_hhash **);
	void (*destroy)(struct d_hhash *);
	void (*init)(struct d_hlink *, struct d_hlink_ops *);
	void (*insert)(struct d_hhash *, struct d_hlink *, int);
	struct d_hlink *(*lookup)(struct d_hhash *, uint64_t);
	void (*getref)(struct d_hhash *, struct d_hlink *);
	void (*putref)(struct d_hhash *, struct d_hlink *);
	bool (*del)(struct d_hhash *, struct d_hlink *);
	int (*set_ptrtype)(struct d_hhash *);
	int (*traverse)(struct d_hhash *, int, d_hhash_traverse_cb_t, void *);

	struct d_hhash *hh;
	struct handle   handles[NHANDLE];
};

static void
hh_load(struct hh_lib *L, const char *path)
{
	void *h = open_lib(path);

	*(void **)&L->create      = sym(h, "d_hhash_create");
	*(void **)&L->destroy     = sym(h, "d_hhash_destroy");
	*(void **)&L->init        = sym(h, "d_hhash_hlink_init");
	*(void **)&L->insert      = sym(h, "d_hhash_link_insert");
	*(void **)&L->lookup      = sym(h, "d_hhash_link_lookup");
	*(void **)&L->getref      = sym(h, "d_hhash_link_getref");
	*(void **)&L->putref      = sym(h, "d_hhash_link_putref");
	*(void **)&L->del         = sym(h, "d_hhash_link_delete");
	*(void **)&L->set_ptrtype = sym(h, "d_hhash_set_ptrtype");
	*(void **)&L->traverse    = sym(h, "d_hhash_traverse");
}

static int
hh_count(struct d_hlink *hl, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* A handle's key, as an index-independent value: pointer keys become the handle's index. */
static uint64_t
hh_key(struct hh_lib *L, int i)
{
	uint64_t k = L->handles[i].hl.hl_key;

	return (k & 1) ? k : (uint64_t)i;
}

static int
diff_hhash(const char *path_a, const char *path_b)
{
	static struct hh_lib A, B;
	unsigned int         seed = 3;
	long                 ops = 0;
	int                  before = fails, round, step, i;

	hh_load(&A, path_a);
	hh_load(&B, path_b);
	for (round = 0; round < 60; round++) {
		bool ptr = round % 3 == 2;
		int  held[NHANDLE]; /* the test's references: 1 from init, plus lookups and getrefs */
		bool in[NHANDLE];

		CHECK(A.create(0, 2 + round % 4, &A.hh) == 0 && B.create(0, 2 + round % 4, &B.hh) == 0,
		      "hhash create");
		if (ptr)
			CHECK(A.set_ptrtype(A.hh) == B.set_ptrtype(B.hh), "set_ptrtype");
		for (i = 0; i < NHANDLE; i++) {
			memset(&A.handles[i], 0, sizeof(A.handles[i]));
			memset(&B.handles[i], 0, sizeof(B.handles[i]));
			A.init(&A.handles[i].hl, &handle_ops);
			B.init(&B.handles[i].hl, &handle_ops);
			held[i] = 1;
			in[i]   = false;
		}
		for (step = 0; step < 500; step++) {
			int             op = rand_r(&seed) % 7, type = 1 + 2 * (rand_r(&seed) % 4);
			struct d_hlink *la, *lb;
			long            ra = 0, rb = 0;
			int             ca = 0, cb = 0;

			i = rand_r(&seed) % NHANDLE;
			if (A.handles[i].freed)
				continue;
			switch (op) {
			case 0:
				if (in[i])
					continue;
				A.insert(A.hh, &A.handles[i].hl, ptr ? D_HTYPE_PTR : type);
				B.insert(B.hh, &B.handles[i].hl, ptr ? D_HTYPE_PTR : type);
				in[i] = true;
				break;
			case 1:
				if (!in[i])
					continue;
				la = A.lookup(A.hh, A.handles[i].hl.hl_key);
				lb = B.lookup(B.hh, B.handles[i].hl.hl_key);
				ra = la == NULL ? -1 : container_of(la, struct handle, hl) - A.handles;
				rb = lb == NULL ? -1 : container_of(lb, struct handle, hl) - B.handles;
				if (la != NULL)
					held[i]++;
				break;
			case 2:
				A.getref(A.hh, &A.handles[i].hl);
				B.getref(B.hh, &B.handles[i].hl);
				held[i]++;
				break;
			case 3:
				if (held[i] < 2 && in[i])
					continue; /* keep the table's reference the last to go */
				A.putref(A.hh, &A.handles[i].hl);
				B.putref(B.hh, &B.handles[i].hl);
				held[i]--;
				break;
			case 4:
				if (!in[i])
					continue;
				ra    = A.del(A.hh, &A.handles[i].hl);
				rb    = B.del(B.hh, &B.handles[i].hl);
				in[i] = false;
				break;
			case 5:
				ra = A.traverse(A.hh, type, hh_count, &ca);
				rb = B.traverse(B.hh, type, hh_count, &cb);
				CHECK(ca == cb, "hhash traverse counts %d/%d", ca, cb);
				break;
			default: /* lookup of a key nobody holds */
				la = A.lookup(A.hh, ((uint64_t)(1000 + i) << D_HTYPE_BITS) | 1);
				lb = B.lookup(B.hh, ((uint64_t)(1000 + i) << D_HTYPE_BITS) | 1);
				ra = la != NULL;
				rb = lb != NULL;
				break;
			}
			ops++;
			CHECK(ra == rb, "hhash round %d step %d op %d: %ld/%ld", round, step, op, ra, rb);
			for (i = 0; i < NHANDLE; i++) {
				struct d_hlink *a = &A.handles[i].hl, *b = &B.handles[i].hl;

				CHECK(a->hl_link.rl_ref == b->hl_link.rl_ref &&
				      A.handles[i].freed == B.handles[i].freed && hh_key(&A, i) == hh_key(&B, i),
				      "hhash round %d step %d op %d handle %d: ref %u/%u key %#lx/%#lx", round,
				      step, op, i, a->hl_link.rl_ref, b->hl_link.rl_ref,
				      (unsigned long)hh_key(&A, i), (unsigned long)hh_key(&B, i));
			}
		}
		A.destroy(A.hh);
		B.destroy(B.hh);
	}
	printf("hhash: %ld operations compared, %d differences\n", ops, fails - before);
	return fails - before;
}

/* ------------------------------------------------------------------ binary heaps */

#define NITEM 3000

struct item {
	uint32_t              prio;
	struct d_binheap_node node;
	bool                  in;
};

#define ITEM(n) container_of(n, struct item, node)

static int entered, exited;

static bool
i_cmp(struct d_binheap_node *a, struct d_binheap_node *b)
{
	return ITEM(a)->prio < ITEM(b)->prio;
}

static int
i_enter(struct d_binheap *h, struct d_binheap_node *e)
{
	entered++;
	return ITEM(e)->prio % 97 == 0 ? -DER_BUSY : 0;
}

static int
i_exit(struct d_binheap *h, struct d_binheap_node *e)
{
	exited++;
	return 0;
}

static struct d_binheap_ops item_ops = {
    .hop_enter = i_enter, .hop_exit = i_exit, .hop_compare = i_cmp};

struct heap_lib {
	int (*create)(uint32_t, uint32_t, void *, struct d_binheap_ops *, struct d_binheap **);
	void (*destroy)(struct d_binheap *);
	struct d_binheap_node *(*find)(struct d_binheap *, uint32_t);
	int (*insert)(struct d_binheap *, struct d_binheap_node *);
	void (*remove)(struct d_binheap *, struct d_binheap_node *);
	struct d_binheap_node *(*remove_root)(struct d_binheap *);

	struct d_binheap *h;
	struct item       items[NITEM];
	int               entered, exited; /* callback counts of the last operation */
};

static void
heap_load(struct heap_lib *L, const char *path)
{
	void *h = open_lib(path);

	*(void **)&L->create      = sym(h, "d_binheap_create");
	*(void **)&L->destroy     = sym(h, "d_binheap_destroy");
	*(void **)&L->find        = sym(h, "d_binheap_find");
	*(void **)&L->insert      = sym(h, "d_binheap_insert");
	*(void **)&L->remove      = sym(h, "d_binheap_remove");
	*(void **)&L->remove_root = sym(h, "d_binheap_remove_root");
}

/* Runs one operation on one library; returns its result (an item index or an rc). */
static long
heap_op(struct heap_lib *L, int op, int i)
{
	struct d_binheap_node *n;
	long                   rc = 0;

	entered = exited = 0;
	switch (op) {
	case 0:
		rc = L->insert(L->h, &L->items[i].node);
		if (rc == 0)
			L->items[i].in = true;
		break;
	case 1:
		L->remove(L->h, &L->items[i].node);
		L->items[i].in = false;
		break;
	default:
		n  = L->remove_root(L->h);
		rc = n == NULL ? -1 : ITEM(n) - L->items;
		if (n != NULL)
			ITEM(n)->in = false;
		break;
	}
	L->entered = entered;
	L->exited  = exited;
	return rc;
}

static int
diff_heap(const char *path_a, const char *path_b)
{
	static struct heap_lib A, B;
	unsigned int           seed = 7;
	long                   ops  = 0;
	int                    before = fails, round, step, i;
	uint32_t               k;

	heap_load(&A, path_a);
	heap_load(&B, path_b);
	for (round = 0; round < 20; round++) {
		uint32_t feats = round & 1 ? DBH_FT_NOLOCK : 0;

		CHECK(A.create(feats, round * 50, NULL, &item_ops, &A.h) == 0, "heap create");
		CHECK(B.create(feats, round * 50, NULL, &item_ops, &B.h) == 0, "heap create");
		CHECK(A.h->d_bh_hwm == B.h->d_bh_hwm, "preallocation differs");
		for (i = 0; i < NITEM; i++) {
			memset(&A.items[i], 0, sizeof(A.items[i]));
			A.items[i].prio = rand_r(&seed) % 500;
			B.items[i]      = A.items[i];
		}
		for (step = 0; step < 6000; step++) {
			int  op = rand_r(&seed) % 3;
			long ra, rb;

			i = rand_r(&seed) % NITEM;
			if ((op == 0 && A.items[i].in) || (op == 1 && !A.items[i].in))
				continue;
			ra = heap_op(&A, op, i);
			rb = heap_op(&B, op, i);
			ops++;
			CHECK(ra == rb && A.entered == B.entered && A.exited == B.exited,
			      "heap step %d op %d: %ld/%ld", step, op, ra, rb);
			CHECK(A.h->d_bh_nodes_cnt == B.h->d_bh_nodes_cnt && A.h->d_bh_hwm == B.h->d_bh_hwm,
			      "heap step %d: count or capacity differs", step);
			for (i = 0; i < NITEM; i++)
				CHECK(A.items[i].node.chn_idx == B.items[i].node.chn_idx,
				      "heap step %d item %d: index %u/%u", step, i,
				      A.items[i].node.chn_idx, B.items[i].node.chn_idx);
			for (k = 0; k < A.h->d_bh_nodes_cnt; k++)
				CHECK(ITEM(A.find(A.h, k)) - A.items == ITEM(B.find(B.h, k)) - B.items,
				      "heap step %d: position %u differs", step, k);
		}
		A.destroy(A.h);
		B.destroy(B.h);
	}
	printf("binheap: %ld operations compared, %d differences\n", ops, fails - before);
	return fails - before;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s LIB_A LIB_B\n", argv[0]);
		return 2;
	}
	return diff_hash(argv[1], argv[2]) + diff_hhash(argv[1], argv[2]) +
		       diff_heap(argv[1], argv[2]) !=
	       0;
}
