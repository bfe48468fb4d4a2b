/*
 * gurt_bench: micro-benchmarks of libgurt.so.4 through its C ABI.
 *
 * Built against oxidaos's include/ (which carries upstream's ABI), it runs unchanged against
 * any libgurt.so.4 chosen by the dynamic linker, so the same binary measures upstream's C
 * library and oxidaos's:
 *
 *   LD_LIBRARY_PATH=/path/to/upstream/lib  gurt_bench [-r REPEATS] [-n OPS] [SECTION...]
 *
 * Output, one line per measurement: section, case, median ns per operation over REPEATS runs
 * and the min/max of the runs. The library actually loaded is printed first.
 *
 * Sections are entries of the `sections` table at the end: to add one, write a function
 * `static void bench_<name>(const struct opts *)` that calls report() for each case, and list
 * it there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gurt/common.h>
#include <gurt/hash.h>
#include <gurt/heap.h>
#include <gurt/slab.h>

struct opts {
	int repeats; /* runs per case; the median is reported */
	int ops;     /* operations per run (per thread) */
};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Prints the median, min and max of n samples (ns per op). */
static void
report(const char *section, const char *name, double *samples, int n)
{
	qsort(samples, n, sizeof(*samples), cmp_double);
	printf("%-8s %-34s %10.1f ns/op   (min %.1f, max %.1f, %d runs)\n", section, name,
	       samples[n / 2], samples[0], samples[n - 1], n);
	fflush(stdout);
}

/* ---------------------------------------------------------------- hash tables */

struct hrec {
	uint64_t        key;
	d_list_t        link;
	ATOMIC uint32_t ref;
};

#define HREC(l) d_list_entry(l, struct hrec, link)

static bool
h_cmp(struct d_hash_table *t, d_list_t *l, const void *key, unsigned int ksize)
{
	(void)t;
	(void)ksize;
	return HREC(l)->key == *(const uint64_t *)key;
}

static uint32_t
h_key_hash(struct d_hash_table *t, const void *key, unsigned int ksize)
{
	(void)t;
	(void)ksize;
	return (uint32_t)d_hash_mix64(*(const uint64_t *)key);
}

static uint32_t
h_rec_hash(struct d_hash_table *t, d_list_t *l)
{
	(void)t;
	return (uint32_t)d_hash_mix64(HREC(l)->key);
}

static void
h_addref(struct d_hash_table *t, d_list_t *l)
{
	(void)t;
	atomic_fetch_add_explicit(&HREC(l)->ref, 1, memory_order_relaxed);
}

static bool
h_decref(struct d_hash_table *t, d_list_t *l)
{
	(void)t;
	return atomic_fetch_sub_explicit(&HREC(l)->ref, 1, memory_order_relaxed) == 1;
}

static d_hash_table_ops_t h_ops = {
    .hop_key_cmp    = h_cmp,
    .hop_key_hash   = h_key_hash,
    .hop_rec_hash   = h_rec_hash,
    .hop_rec_addref = h_addref,
    .hop_rec_decref = h_decref,
};

enum { PH_INSERT, PH_LOOKUP, PH_DELETE, PH_N };
static const char *ph_name[] = {"insert", "lookup", "delete"};

struct hwork {
	struct d_hash_table *t;
	struct hrec         *recs;
	int                  n;
	pthread_barrier_t   *bar;
	double               ns[PH_N];
};

static void *
hash_worker(void *arg)
{
	struct hwork *w = arg;
	double        t0;
	int           i;

	pthread_barrier_wait(w->bar);
	t0 = now_ns();
	for (i = 0; i < w->n; i++)
		d_hash_rec_insert(w->t, &w->recs[i].key, sizeof(uint64_t), &w->recs[i].link, true);
	w->ns[PH_INSERT] = now_ns() - t0;
	pthread_barrier_wait(w->bar);
	t0 = now_ns();
	for (i = 0; i < w->n; i++) {
		d_list_t *l = d_hash_rec_find(w->t, &w->recs[i].key, sizeof(uint64_t));

		if (l == NULL)
			abort();
		d_hash_rec_decref(w->t, l);
	}
	w->ns[PH_LOOKUP] = now_ns() - t0;
	pthread_barrier_wait(w->bar);
	t0 = now_ns();
	for (i = 0; i < w->n; i++)
		if (!d_hash_rec_delete(w->t, &w->recs[i].key, sizeof(uint64_t)))
			abort();
	w->ns[PH_DELETE] = now_ns() - t0;
	return NULL;
}

static void
bench_hash(const struct opts *o)
{
	static const struct {
		uint32_t    feats;
		const char *name;
	} modes[] = {
	    {0, "spin"},
	    {D_HASH_FT_MUTEX, "mutex"},
	    {D_HASH_FT_RWLOCK, "rwlock"},
	    {D_HASH_FT_GLOCK, "spin+glock"},
	    {D_HASH_FT_RWLOCK | D_HASH_FT_LRU, "rwlock+lru"},
	    {D_HASH_FT_NOLOCK, "nolock"},
	};
	size_t m;
	int    nthreads, r, p, i, t;

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (nthreads = 1; nthreads <= 2; nthreads++) {
			double            *samples[PH_N];
			struct hwork       w[2];
			pthread_t          th[2];
			pthread_barrier_t  bar;
			char               name[64];

			if (nthreads > 1 && (modes[m].feats & D_HASH_FT_NOLOCK))
				continue;
			for (p = 0; p < PH_N; p++)
				samples[p] = calloc(o->repeats, sizeof(double));
			for (t = 0; t < nthreads; t++) {
				w[t].recs = calloc(o->ops, sizeof(struct hrec));
				w[t].n    = o->ops;
			}
			for (r = 0; r < o->repeats; r++) {
				struct d_hash_table *tab;

				if (d_hash_table_create(modes[m].feats, 16, NULL, &h_ops, &tab) != 0)
					abort();
				pthread_barrier_init(&bar, NULL, nthreads);
				for (t = 0; t < nthreads; t++) {
					for (i = 0; i < o->ops; i++) {
						w[t].recs[i].key = (uint64_t)i * 2 + t;
						w[t].recs[i].ref = 0;
						D_INIT_LIST_HEAD(&w[t].recs[i].link);
					}
					w[t].t   = tab;
					w[t].bar = &bar;
					pthread_create(&th[t], NULL, hash_worker, &w[t]);
				}
				for (t = 0; t < nthreads; t++)
					pthread_join(th[t], NULL);
				pthread_barrier_destroy(&bar);
				/* per-op time as seen by the slower thread */
				for (p = 0; p < PH_N; p++) {
					double worst = 0;

					for (t = 0; t < nthreads; t++)
						if (w[t].ns[p] > worst)
							worst = w[t].ns[p];
					samples[p][r] = worst / o->ops;
				}
				if (d_hash_table_destroy(tab, false) != 0)
					abort();
			}
			for (p = 0; p < PH_N; p++) {
				snprintf(name, sizeof(name), "%s %dT %s", modes[m].name, nthreads,
					 ph_name[p]);
				report("hash", name, samples[p], o->repeats);
				free(samples[p]);
			}
			for (t = 0; t < nthreads; t++)
				free(w[t].recs);
		}
	}
}

/* ---------------------------------------------------------------- hash functions */

static void
bench_hashfn(const struct opts *o)
{
	double           *s = calloc(o->repeats, sizeof(double));
	unsigned char     key[32];
	volatile uint64_t sink = 0;
	int               r, i;

	memset(key, 0x5a, sizeof(key));
	for (r = 0; r < o->repeats; r++) {
		double t0 = now_ns();

		for (i = 0; i < o->ops; i++) {
			key[0] = (unsigned char)i;
			sink += d_hash_murmur64(key, sizeof(key), 7);
		}
		s[r] = (now_ns() - t0) / o->ops;
	}
	report("hashfn", "murmur64 32B", s, o->repeats);
	for (r = 0; r < o->repeats; r++) {
		double t0 = now_ns();

		for (i = 0; i < o->ops; i++) {
			key[0] = (unsigned char)i;
			sink += d_hash_murmur64(key, 13, 7);
		}
		s[r] = (now_ns() - t0) / o->ops;
	}
	report("hashfn", "murmur64 13B", s, o->repeats);
	for (r = 0; r < o->repeats; r++) {
		double t0 = now_ns();

		for (i = 0; i < o->ops; i++)
			sink += d_hash_jump((uint64_t)i * 0x9e3779b97f4a7c15ULL, 1000);
		s[r] = (now_ns() - t0) / o->ops;
	}
	report("hashfn", "jump 1000 buckets", s, o->repeats);
	for (r = 0; r < o->repeats; r++) {
		double t0 = now_ns();

		for (i = 0; i < o->ops; i++)
			sink += d_hash_string_u32((const char *)key, 16);
		s[r] = (now_ns() - t0) / o->ops;
	}
	report("hashfn", "string_u32 16B", s, o->repeats);
	(void)sink;
	free(s);
}

/* ---------------------------------------------------------------- binary heap */

struct hitem {
	uint64_t              prio;
	struct d_binheap_node node;
};

static bool
bh_cmp(struct d_binheap_node *a, struct d_binheap_node *b)
{
	return container_of(a, struct hitem, node)->prio <
	       container_of(b, struct hitem, node)->prio;
}

static struct d_binheap_ops bh_ops = {.hop_compare = bh_cmp};

static void
bench_binheap(const struct opts *o)
{
	static const struct {
		uint32_t    feats;
		const char *name;
	} modes[] = {{0, "mutex"}, {DBH_FT_RWLOCK, "rwlock"}, {DBH_FT_NOLOCK, "nolock"}};
	struct hitem *it = calloc(o->ops, sizeof(*it));
	double       *ins = calloc(o->repeats, sizeof(double));
	double       *rem = calloc(o->repeats, sizeof(double));
	size_t        m;
	int           r, i;

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char name[64];

		for (r = 0; r < o->repeats; r++) {
			struct d_binheap *h;
			uint64_t          seed = 12345;
			double            t0;

			for (i = 0; i < o->ops; i++) {
				seed       = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				it[i].prio = seed >> 16;
			}
			if (d_binheap_create(modes[m].feats, 0, NULL, &bh_ops, &h) != 0)
				abort();
			t0 = now_ns();
			for (i = 0; i < o->ops; i++)
				d_binheap_insert(h, &it[i].node);
			ins[r] = (now_ns() - t0) / o->ops;
			t0     = now_ns();
			for (i = 0; i < o->ops; i++)
				if (d_binheap_remove_root(h) == NULL)
					abort();
			rem[r] = (now_ns() - t0) / o->ops;
			d_binheap_destroy(h);
		}
		snprintf(name, sizeof(name), "%s insert", modes[m].name);
		report("binheap", name, ins, o->repeats);
		snprintf(name, sizeof(name), "%s remove_root", modes[m].name);
		report("binheap", name, rem, o->repeats);
	}
	free(it);
	free(ins);
	free(rem);
}

/* ---------------------------------------------------------------- slab */

struct sdesc {
	d_list_t link;
	char     body[56];
};

static bool
s_reset(void *d)
{
	((struct sdesc *)d)->body[0] = 0;
	return true;
}

static void
bench_slab(const struct opts *o)
{
	struct d_slab_reg reg = {.sr_reset = s_reset, POOL_TYPE_INIT(sdesc, link)};
	double           *s   = calloc(o->repeats, sizeof(double));
	void             *d[16];
	int               r, i, j;

	for (r = 0; r < o->repeats; r++) {
		struct d_slab       slab;
		struct d_slab_type *t;
		double              t0;

		if (d_slab_init(&slab, NULL) != 0 || d_slab_register(&slab, &reg, NULL, &t) != 0)
			abort();
		t0 = now_ns();
		for (i = 0; i < o->ops / 16; i++) {
			for (j = 0; j < 16; j++)
				d[j] = d_slab_acquire(t);
			for (j = 0; j < 16; j++)
				d_slab_release(t, d[j]);
			d_slab_restock(t);
		}
		s[r] = (now_ns() - t0) / ((o->ops / 16) * 16);
		d_slab_destroy(&slab);
	}
	report("slab", "acquire+release (16, restock)", s, o->repeats);
	free(s);
}

/* ---------------------------------------------------------------- driver */

static const struct {
	const char *name;
	void (*fn)(const struct opts *);
} sections[] = {
    {"hash", bench_hash},
    {"hashfn", bench_hashfn},
    {"binheap", bench_binheap},
    {"slab", bench_slab},
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static int
print_gurt(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	if (strstr(info->dlpi_name, "libgurt") != NULL)
		printf("# library: %s\n", info->dlpi_name);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {.repeats = 7, .ops = 100000};
	int         i, any = 0;
	size_t      s;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			o.repeats = atoi(argv[++i]);
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			o.ops = atoi(argv[++i]);
	}
	if (o.repeats < 1 || o.ops < 1) {
		fprintf(stderr, "usage: %s [-r REPEATS] [-n OPS] [SECTION...]\n", argv[0]);
		return 2;
	}
	dl_iterate_phdr(print_gurt, NULL);
	printf("# %d runs per case, %d ops per run (per thread)\n", o.repeats, o.ops);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			i++;
			continue;
		}
		for (s = 0; s < NSECTIONS; s++)
			if (strcmp(argv[i], sections[s].name) == 0) {
				sections[s].fn(&o);
				any = 1;
			}
	}
	if (!any)
		for (s = 0; s < NSECTIONS; s++)
			sections[s].fn(&o);
	return 0;
}
