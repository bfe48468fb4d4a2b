/*
 * Benchmark of gurt's misc and HLC functions, for any libgurt.so.4 with DAOS's ABI: run it with
 * LD_LIBRARY_PATH pointing at the library to measure (oxidaos's or upstream's), e.g.
 *
 *   LD_LIBRARY_PATH=/path/to/upstream/lib build/c_tests/bench/gurt_misc_bench
 *
 * Each case is timed in ROUNDS rounds; the median ns per operation is printed, one line a case:
 *   d_hlc_get, 1 and 2 threads
 *   d_rank_list_sort of 16, 1000 and 100000 random ranks
 *   d_rank_list_dup (+ free) of 1000 ranks
 *   d_rank_list_to_str (+ free) of 1000 ranks in runs (already sorted) and of 1000 random ranks
 *
 * Options: -r ROUNDS (default 15), -q (quick: fewer operations per round).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <dlfcn.h>

#include <gurt/common.h>

static int rounds = 15;
static int quick;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
report(const char *name, double *per_op)
{
	printf("%-40s %12.1f ns/op\n", name, median(per_op, rounds));
}

static volatile uint64_t sink;

static void *
hlc_loop(void *arg)
{
	long     n = (long)arg;
	uint64_t x = 0;

	for (long i = 0; i < n; i++)
		x ^= d_hlc_get();
	sink = x;
	return NULL;
}

static void
bench_hlc(int threads)
{
	long      n = quick ? 200000 : 2000000;
	double    per_op[rounds];
	pthread_t t[threads];
	char      name[64];

	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();

		for (int i = 0; i < threads; i++)
			pthread_create(&t[i], NULL, hlc_loop, (void *)n);
		for (int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
		per_op[r] = (double)(now_ns() - t0) / n; /* wall time per call per thread */
	}
	snprintf(name, sizeof(name), "d_hlc_get (%d thread%s)", threads, threads > 1 ? "s" : "");
	report(name, per_op);
}

static void
fill_random(uint32_t *r, uint32_t n, uint32_t range)
{
	for (uint32_t i = 0; i < n; i++)
		r[i] = (uint32_t)(lrand48() % range);
}

static void
bench_sort(uint32_t n)
{
	d_rank_list_t *l    = d_rank_list_alloc(n);
	uint32_t      *orig = malloc(n * sizeof(*orig));
	long           reps = (quick ? 2000000 : 20000000) / (n < 16 ? 16 : n) + 1;
	double         per_op[rounds];
	char           name[64];

	srand48(42);
	fill_random(orig, n, 4 * n);
	for (int r = 0; r < rounds; r++) {
		uint64_t spent = 0;

		for (long k = 0; k < reps; k++) {
			uint64_t t0;

			memcpy(l->rl_ranks, orig, n * sizeof(*orig));
			t0 = now_ns();
			d_rank_list_sort(l);
			spent += now_ns() - t0;
		}
		per_op[r] = (double)spent / reps;
	}
	snprintf(name, sizeof(name), "d_rank_list_sort (%u ranks)", n);
	report(name, per_op);
	free(orig);
	d_rank_list_free(l);
}

static void
bench_dup(uint32_t n)
{
	d_rank_list_t *l    = d_rank_list_alloc(n);
	long           reps = quick ? 20000 : 200000;
	double         per_op[rounds];
	char           name[64];

	srand48(7);
	fill_random(l->rl_ranks, n, 4 * n);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();

		for (long k = 0; k < reps; k++) {
			d_rank_list_t *d = NULL;

			d_rank_list_dup(&d, l);
			d_rank_list_free(d);
		}
		per_op[r] = (double)(now_ns() - t0) / reps;
	}
	snprintf(name, sizeof(name), "d_rank_list_dup+free (%u ranks)", n);
	report(name, per_op);
	d_rank_list_free(l);
}

static void
bench_to_str(uint32_t n, int random)
{
	d_rank_list_t *l    = d_rank_list_alloc(n);
	uint32_t      *orig = malloc(n * sizeof(*orig));
	long           reps = quick ? 2000 : 20000;
	double         per_op[rounds];
	char           name[64];
	size_t         len = 0;

	srand48(11);
	if (random) {
		fill_random(orig, n, 4 * n);
	} else {
		/* Runs of 1 to 8 consecutive ranks with gaps: a typical pool map. */
		uint32_t rank = 0;

		for (uint32_t i = 0; i < n; i++) {
			orig[i] = rank++;
			if (lrand48() % 4 == 0)
				rank += 1 + lrand48() % 5;
		}
	}
	for (int r = 0; r < rounds; r++) {
		uint64_t spent = 0;

		for (long k = 0; k < reps; k++) {
			char    *s = NULL;
			uint64_t t0;

			memcpy(l->rl_ranks, orig, n * sizeof(*orig)); /* to_str sorts in place */
			t0 = now_ns();
			d_rank_list_to_str(l, &s);
			spent += now_ns() - t0;
			len = strlen(s);
			free(s);
		}
		per_op[r] = (double)spent / reps;
	}
	snprintf(name, sizeof(name), "d_rank_list_to_str (%u %s ranks)", n, random ? "random" : "runs of");
	report(name, per_op);
	sink = len;
	free(orig);
	d_rank_list_free(l);
}

int
main(int argc, char **argv)
{
	Dl_info info;
	int     opt;

	while ((opt = getopt(argc, argv, "r:q")) != -1) {
		if (opt == 'r')
			rounds = atoi(argv[optind - 1]) > 0 ? atoi(argv[optind - 1]) : 15;
		else if (opt == 'q')
			quick = 1;
		else {
			fprintf(stderr, "usage: %s [-r rounds] [-q]\n", argv[0]);
			return 2;
		}
	}
	if (dladdr((void *)d_hlc_get, &info) && info.dli_fname)
		printf("library: %s (median of %d rounds)\n", info.dli_fname, rounds);

	bench_hlc(1);
	bench_hlc(2);
	bench_sort(16);
	bench_sort(1000);
	bench_sort(100000);
	bench_dup(1000);
	bench_to_str(1000, 0);
	bench_to_str(1000, 1);
	return 0;
}
