/*
 * telem_bench: telemetry update costs of whichever libgurt.so.4 the dynamic linker finds
 * (LD_LIBRARY_PATH), so one binary measures upstream's C library and oxidaos's:
 *
 *   LD_LIBRARY_PATH=/path/to/lib telem_bench [-r REPEATS] [-n OPS]
 *
 * One line per case: section, case, median ns per operation over REPEATS runs, min and max
 * (the format c_tests/bench/compare.py reads).
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gurt/telemetry_common.h>
#include <gurt/telemetry_producer.h>
#include <gurt/telemetry_consumer.h>

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

static void
report(const char *name, double *s, int n)
{
	qsort(s, n, sizeof(*s), cmp_double);
	printf("%-8s %-34s %10.1f ns/op   (min %.1f, max %.1f, %d runs)\n", "telem", name,
	       s[n / 2], s[0], s[n - 1], n);
	fflush(stdout);
}

enum op { INC_COUNTER, SET_GAUGE, STATS_GAUGE_HIST, DURATION, READ_COUNTER };

static void
run_case(const char *name, enum op op, struct d_tm_node_t *node, struct d_tm_context *ctx,
	 int repeats, int ops)
{
	double  *s = calloc(repeats, sizeof(*s));
	uint64_t v, sink = 0;
	int      r, i;

	for (r = 0; r < repeats; r++) {
		double t0 = now_ns();

		switch (op) {
		case INC_COUNTER:
			for (i = 0; i < ops; i++)
				d_tm_inc_counter(node, 1);
			break;
		case SET_GAUGE:
			for (i = 0; i < ops; i++)
				d_tm_set_gauge(node, i);
			break;
		case STATS_GAUGE_HIST:
			for (i = 0; i < ops; i++)
				d_tm_set_gauge(node, i & 0xffff);
			break;
		case DURATION:
			for (i = 0; i < ops; i++) {
				d_tm_mark_duration_start(node, D_TM_CLOCK_REALTIME);
				d_tm_mark_duration_end(node);
			}
			break;
		case READ_COUNTER:
			for (i = 0; i < ops; i++) {
				d_tm_get_counter(ctx, &v, node);
				sink += v;
			}
			break;
		}
		s[r] = (now_ns() - t0) / ops;
	}
	if (sink == 1)
		printf(" ");
	report(name, s, repeats);
	free(s);
}

static void
which_library(void)
{
	Dl_info info;

	if (dladdr((void *)d_tm_inc_counter, &info) && info.dli_fname != NULL)
		printf("# library: %s\n", info.dli_fname);
}

int
main(int argc, char **argv)
{
	struct d_tm_context *ctx;
	struct d_tm_node_t  *c, *cp, *g, *sg, *d;
	int                  repeats = 11, ops = 2000000, id = 40000 + getpid() % 20000, opt;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			repeats = atoi(optarg);
		else if (opt == 'n')
			ops = atoi(optarg);
		else
			return 2;
	}
	which_library();

	/* unprotected nodes */
	if (d_tm_init(id, D_TM_SHARED_MEMORY_SIZE, 0) != 0)
		return 1;
	ctx = d_tm_open(id);
	if (d_tm_add_metric(&c, D_TM_COUNTER, NULL, NULL, "bench/counter") ||
	    d_tm_add_metric(&g, D_TM_GAUGE, NULL, NULL, "bench/gauge") ||
	    d_tm_add_metric(&sg, D_TM_STATS_GAUGE, NULL, NULL, "bench/stats") ||
	    d_tm_init_histogram(sg, "bench/stats", 8, 256, 2, NULL) ||
	    d_tm_add_metric(&d, D_TM_DURATION | D_TM_CLOCK_REALTIME, NULL, NULL, "bench/dur"))
		return 1;
	run_case("inc_counter", INC_COUNTER, c, ctx, repeats, ops);
	run_case("set_gauge", SET_GAUGE, g, ctx, repeats, ops);
	run_case("set_stats_gauge_histogram", STATS_GAUGE_HIST, sg, ctx, repeats, ops);
	run_case("duration_start_end", DURATION, d, ctx, repeats, ops / 10);
	run_case("get_counter_consumer", READ_COUNTER, d_tm_conv_ptr(ctx, c, c), ctx, repeats,
		 ops);
	d_tm_close(&ctx);
	d_tm_fini();

	/* per-node process-shared mutexes */
	if (d_tm_init(id, D_TM_SHARED_MEMORY_SIZE, D_TM_SERIALIZATION) != 0 ||
	    d_tm_add_metric(&cp, D_TM_COUNTER, NULL, NULL, "bench/counter"))
		return 1;
	run_case("inc_counter_serialized", INC_COUNTER, cp, NULL, repeats, ops);
	d_tm_fini();
	return 0;
}
