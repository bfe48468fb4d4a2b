/*
 * gurt telemetry through the C ABI: producer and consumer in one process and across a fork,
 * every metric type, statistics, histograms, ephemeral directories and links, iteration,
 * printing in both formats (exact text), cleanup of the SysV segments, and bad input.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <gurt/telemetry_common.h>
#include <gurt/telemetry_producer.h>
#include <gurt/telemetry_consumer.h>

static int base_id;

/* The key an ephemeral directory at `path` gets for producer `id` (djb2 of the zero-padded
 * "<path>-id<id>" buffer). */
static key_t
eph_key(const char *path, int id)
{
	char     salted[D_TM_MAX_NAME_LEN + 64] = {0};
	uint32_t h                              = 5381;
	size_t   i;

	snprintf(salted, sizeof(salted) - 1, "%s-id%d", path, id);
	for (i = 0; i < sizeof(salted); i++)
		h = (h << 5) + h + (unsigned char)salted[i];
	return (key_t)h;
}

/* A producer's node as the consumer context `ctx` sees it. */
static struct d_tm_node_t *
cli(struct d_tm_context *ctx, struct d_tm_node_t *node)
{
	return d_tm_conv_ptr(ctx, node, node);
}

static int
segment_exists(key_t key)
{
	return shmget(key, 0, 0) >= 0;
}

/* Captures what a print function writes. */
struct capture {
	char  *buf;
	size_t len;
	FILE  *f;
};

static void
cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f   = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static char *
cap_close(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}

static void
print_cb(struct d_tm_context *ctx, struct d_tm_node_t *node, int level, char *path, int format,
	 int opt_fields, void *arg)
{
	d_tm_print_node(ctx, node, level, path, format, opt_fields, (FILE *)arg);
}

static void
reset_cb(struct d_tm_context *ctx, struct d_tm_node_t *node, int level, char *path, int format,
	 int opt_fields, void *arg)
{
	d_tm_reset_node(ctx, node, level, path, format, opt_fields, (FILE *)arg);
}

static void
test_constants_and_keys(void **state)
{
	(void)state;
	assert_int_equal(d_tm_get_version(), D_TM_VERSION);
	assert_int_equal(d_tm_get_srv_key(0), 0x10242048);
	assert_int_equal(d_tm_get_srv_key(7), 0x10242048 + 7);
	assert_int_equal(d_tm_cli_pid_key(0x10242048 + 5), 5);
	assert_int_equal(d_tm_clock_id(D_TM_CLOCK_REALTIME), CLOCK_REALTIME);
	assert_int_equal(d_tm_clock_id(D_TM_CLOCK_PROCESS_CPUTIME), CLOCK_PROCESS_CPUTIME_ID);
	assert_int_equal(d_tm_clock_id(D_TM_CLOCK_THREAD_CPUTIME), CLOCK_THREAD_CPUTIME_ID);
	assert_int_equal(d_tm_clock_id(12345), CLOCK_REALTIME);
	assert_string_equal(d_tm_clock_string(D_TM_CLOCK_THREAD_CPUTIME), "CLOCK_THREAD_CPUTIME_ID");
	assert_string_equal(d_tm_clock_string(0), "CLOCK_REALTIME");
	assert_int_equal(D_TM_ALL_NODES, 0xc7f);
	assert_string_equal(D_TM_EXBIBIT_PER_SECOND, "Eibits");
	assert_true(d_tm_compute_standard_dev(232.0, 8, 5.0) > 2.13808 &&
		    d_tm_compute_standard_dev(232.0, 8, 5.0) < 2.13809);
	assert_true(d_tm_compute_standard_dev(1.0, 1, 1.0) == 0.0);
}

static void
test_init_errors(void **state)
{
	char                long_name[D_TM_MAX_NAME_LEN + 1];
	struct d_tm_node_t *n = NULL;

	(void)state;
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[D_TM_MAX_NAME_LEN] = '\0';

	/* nothing works before init */
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "a"), -DER_UNINIT);
	assert_int_equal(d_tm_add_ephemeral_dir(&n, 4096, "a"), -DER_UNINIT);
	assert_int_equal(d_tm_del_ephemeral_dir("a"), -DER_UNINIT);
	assert_int_equal(d_tm_try_del_ephemeral_dir("a"), -DER_UNINIT);
	assert_int_equal(d_tm_attach_path_segment(1, "a"), -DER_UNINIT);
	assert_null(d_tm_open(base_id + 50));

	assert_int_equal(d_tm_init_with_name(base_id, 4096, 0, NULL), -DER_INVAL);
	assert_int_equal(d_tm_init_with_name(base_id, 4096, 0, ""), -DER_INVAL);
	assert_int_equal(d_tm_init_with_name(base_id, 4096, 0, long_name), -DER_EXCEEDS_PATH_LEN);
	assert_int_equal(d_tm_init(base_id, 4096, 0x400), -DER_INVAL);
	assert_int_equal(d_tm_init(base_id, 4096, D_TM_NO_SHMEM | D_TM_RETAIN_SHMEM), -DER_INVAL);
	assert_false(segment_exists(d_tm_get_srv_key(base_id)));
	/* no room for the header, or for the root node after it */
	assert_int_equal(d_tm_init(base_id, 0, 0), -DER_NO_SHMEM);
	assert_int_equal(d_tm_init(base_id, 64, 0), -DER_NO_SHMEM);
	assert_int_equal(d_tm_init(base_id, 112, 0), -DER_NO_SHMEM);
	assert_false(segment_exists(d_tm_get_srv_key(base_id)));

	assert_int_equal(d_tm_init(base_id, 4096, 0), 0);
	assert_true(segment_exists(d_tm_get_srv_key(base_id)));
	assert_int_equal(d_tm_init(base_id, 4096, 0), -DER_ALREADY);
	d_tm_fini();
	assert_false(segment_exists(d_tm_get_srv_key(base_id)));
	d_tm_fini(); /* twice is harmless */
}

static void
test_every_metric_type(void **state)
{
	struct d_tm_context *ctx;
	struct d_tm_node_t  *c, *g, *sg, *ts, *snap, *dur, *mi, *node;
	struct d_tm_stats_t  st;
	struct timespec      tms;
	uint64_t             v;
	time_t               clk;
	char                *desc, *units;
	int                  id = base_id + 1;

	(void)state;
	assert_int_equal(d_tm_init(id, D_TM_SHARED_MEMORY_SIZE, D_TM_SERIALIZATION), 0);
	ctx = d_tm_open(id);
	assert_non_null(ctx);

	assert_int_equal(d_tm_add_metric(&c, D_TM_COUNTER, "a counter", "ops", "m/%s/%d", "c", 1), 0);
	assert_int_equal(d_tm_add_metric(&g, D_TM_GAUGE, NULL, D_TM_BYTE, "m/g"), 0);
	assert_int_equal(d_tm_add_metric(&sg, D_TM_STATS_GAUGE, "sg", NULL, "m/sg"), 0);
	assert_int_equal(d_tm_add_metric(&ts, D_TM_TIMESTAMP, NULL, "ignored", "m/ts"), 0);
	assert_int_equal(d_tm_add_metric(&snap, D_TM_TIMER_SNAPSHOT | D_TM_CLOCK_PROCESS_CPUTIME,
					 NULL, NULL, "m/snap"), 0);
	assert_int_equal(d_tm_add_metric(&dur, D_TM_DURATION | D_TM_CLOCK_REALTIME, NULL, NULL,
					 "m/dur"), 0);
	assert_int_equal(d_tm_add_metric(&mi, D_TM_MEMINFO, NULL, NULL, "m/mem"), 0);

	/* adding an existing path returns the existing node */
	assert_int_equal(d_tm_add_metric(&node, D_TM_GAUGE, NULL, NULL, "m/c/1"), 0);
	assert_ptr_equal(node, c);

	d_tm_inc_counter(c, 3);
	d_tm_inc_counter(c, 4);
	assert_int_equal(d_tm_get_counter(ctx, &v, d_tm_find_metric(ctx, "m/c/1")), 0);
	assert_int_equal(v, 7);
	assert_int_equal(d_tm_get_counter(NULL, &v, c), 0); /* producer's fast read */
	assert_int_equal(v, 7);
	d_tm_set_counter(c, 100);
	assert_int_equal(d_tm_get_counter(ctx, &v, cli(ctx, c)), 0);
	assert_int_equal(v, 100);

	d_tm_set_gauge(g, 50);
	d_tm_inc_gauge(g, 10);
	d_tm_dec_gauge(g, 25);
	assert_int_equal(d_tm_get_gauge(ctx, &v, NULL, cli(ctx, g)), 0);
	assert_int_equal(v, 35);

	/* wrong-type updates leave values alone */
	d_tm_inc_counter(g, 1000);
	d_tm_set_gauge(c, 1);
	d_tm_record_timestamp(c);
	d_tm_mark_duration_start(c, D_TM_CLOCK_REALTIME);
	d_tm_mark_duration_end(c);
	d_tm_take_timer_snapshot(c, D_TM_CLOCK_REALTIME);
	d_tm_record_meminfo(c);
	assert_int_equal(d_tm_get_gauge(ctx, &v, NULL, cli(ctx, g)), 0);
	assert_int_equal(v, 35);
	assert_int_equal(d_tm_get_counter(ctx, &v, cli(ctx, c)), 0);
	assert_int_equal(v, 100);
	/* NULL nodes are ignored */
	d_tm_inc_counter(NULL, 1);
	d_tm_set_counter(NULL, 1);
	d_tm_set_gauge(NULL, 1);
	d_tm_inc_gauge(NULL, 1);
	d_tm_dec_gauge(NULL, 1);
	d_tm_record_timestamp(NULL);
	d_tm_record_meminfo(NULL);
	d_tm_take_timer_snapshot(NULL, 0);
	d_tm_mark_duration_start(NULL, 0);
	d_tm_mark_duration_end(NULL);

	/* stats gauge: 2,4,4,4,5,5,7,9 */
	{
		uint64_t s[] = {2, 4, 4, 4, 5, 5, 7, 9};
		int      i;

		for (i = 0; i < 8; i++)
			d_tm_set_gauge(sg, s[i]);
	}
	memset(&st, 0, sizeof(st));
	assert_int_equal(d_tm_get_gauge(ctx, &v, &st, cli(ctx, sg)), 0);
	assert_int_equal(v, 9);
	assert_int_equal(st.dtm_min, 2);
	assert_int_equal(st.dtm_max, 9);
	assert_int_equal(st.dtm_sum, 40);
	assert_int_equal(st.sample_size, 8);
	assert_true(st.mean == 5.0);
	assert_true(st.sum_of_squares == 232.0);
	assert_true(st.std_dev > 2.13808 && st.std_dev < 2.13809);

	d_tm_record_timestamp(ts);
	assert_int_equal(d_tm_get_timestamp(ctx, &clk, cli(ctx, ts)), 0);
	assert_true(clk > 0 && labs(clk - time(NULL)) <= 2);

	d_tm_take_timer_snapshot(snap, 0);
	assert_int_equal(d_tm_get_timer_snapshot(ctx, &tms, cli(ctx, snap)), 0);
	assert_true(tms.tv_sec > 0 || tms.tv_nsec > 0);

	d_tm_mark_duration_start(dur, D_TM_CLOCK_REALTIME);
	usleep(2000);
	d_tm_mark_duration_end(dur);
	memset(&st, 0, sizeof(st));
	assert_int_equal(d_tm_get_duration(ctx, &tms, &st, cli(ctx, dur)), 0);
	assert_true(tms.tv_sec * 1000000 + tms.tv_nsec / 1000 >= 2000);
	assert_int_equal(st.sample_size, 1);
	assert_true(st.dtm_min >= 2000 && st.dtm_min == st.dtm_max);

	d_tm_record_meminfo(mi);

	/* metadata: timers and durations always use "us", timestamps none */
	assert_int_equal(d_tm_get_metadata(ctx, &desc, &units, cli(ctx, c)), 0);
	assert_string_equal(desc, "a counter");
	assert_string_equal(units, "ops");
	free(desc);
	free(units);
	assert_int_equal(d_tm_get_metadata(ctx, &desc, &units, cli(ctx, ts)), 0);
	assert_null(desc);
	assert_null(units);
	assert_int_equal(d_tm_get_metadata(ctx, NULL, &units, cli(ctx, snap)), 0);
	assert_string_equal(units, "us");
	free(units);
	assert_int_equal(d_tm_get_metadata(ctx, &desc, NULL, cli(ctx, dur)), 0);
	assert_null(desc);
	assert_int_equal(d_tm_get_metadata(ctx, &desc, &units, d_tm_find_metric(ctx, "m")),
			 -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_metadata(ctx, NULL, NULL, cli(ctx, c)), -DER_INVAL);
	assert_int_equal(d_tm_get_metadata(NULL, &desc, &units, c), -DER_INVAL);

	/* consumer reads of the wrong type or with NULL */
	assert_int_equal(d_tm_get_counter(ctx, &v, cli(ctx, g)), -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_gauge(ctx, &v, NULL, cli(ctx, c)), -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_timestamp(ctx, &clk, cli(ctx, c)), -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_timer_snapshot(ctx, &tms, cli(ctx, c)), -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_duration(ctx, &tms, NULL, cli(ctx, c)), -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_counter(ctx, NULL, cli(ctx, c)), -DER_INVAL);
	assert_int_equal(d_tm_get_counter(ctx, &v, NULL), -DER_INVAL);
	assert_int_equal(d_tm_get_gauge(NULL, &v, NULL, g), -DER_INVAL);
	assert_int_equal(d_tm_get_timestamp(ctx, NULL, cli(ctx, ts)), -DER_INVAL);
	assert_int_equal(d_tm_get_timer_snapshot(ctx, NULL, cli(ctx, snap)), -DER_INVAL);
	assert_int_equal(d_tm_get_duration(NULL, &tms, NULL, dur), -DER_INVAL);
	/* a directory has no metric */
	assert_int_equal(d_tm_get_counter(ctx, &v, d_tm_find_metric(ctx, "m")), -DER_INVAL);

	/* tree navigation */
	node = d_tm_get_root(ctx);
	assert_non_null(node);
	{
		char root[32];

		snprintf(root, sizeof(root), "ID: %d", id);
		assert_string_equal(d_tm_get_name(ctx, node), root);
	}
	node = d_tm_get_child(ctx, node);
	assert_string_equal(d_tm_get_name(ctx, node), "m");
	node = d_tm_get_child(ctx, node);
	assert_string_equal(d_tm_get_name(ctx, node), "c");
	assert_string_equal(d_tm_get_name(ctx, d_tm_get_sibling(ctx, node)), "g");
	assert_null(d_tm_get_root(NULL));
	assert_null(d_tm_get_child(ctx, NULL));
	assert_null(d_tm_get_sibling(ctx, NULL));
	assert_null(d_tm_get_name(ctx, NULL));
	assert_null(d_tm_find_metric(ctx, "m/nope"));
	assert_null(d_tm_find_metric(ctx, NULL));
	assert_null(d_tm_find_metric(NULL, "m"));
	assert_null(d_tm_conv_ptr(NULL, c, c));
	assert_int_equal(d_tm_count_metrics(ctx, d_tm_get_root(ctx), D_TM_ALL_NODES), 10);
	assert_int_equal(d_tm_count_metrics(ctx, d_tm_get_root(ctx), D_TM_GAUGE), 1);
	assert_int_equal(d_tm_count_metrics(ctx, NULL, D_TM_GAUGE), 0);

	/* reset through iteration (a meminfo node is not resettable and says so) */
	{
		struct capture cap;
		char          *out;

		cap_open(&cap);
		d_tm_iterate(ctx, d_tm_find_metric(ctx, "m"), 0, D_TM_ALL_NODES, NULL,
			     D_TM_STANDARD, 0, reset_cb, cap.f);
		out = cap_close(&cap);
		assert_string_equal(out, "Item: mem has unknown type: 0x800\n");
		free(out);
	}
	assert_int_equal(d_tm_get_counter(ctx, &v, cli(ctx, c)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(d_tm_get_gauge(ctx, &v, &st, cli(ctx, sg)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(st.sample_size, 0);

	d_tm_close(&ctx);
	assert_null(ctx);
	d_tm_close(&ctx);
	d_tm_close(NULL);
	d_tm_fini();
	assert_false(segment_exists(d_tm_get_srv_key(id)));
}

static void
test_path_and_string_limits(void **state)
{
	struct d_tm_node_t *n;
	char                path[D_TM_MAX_NAME_LEN + 8];
	char                desc[D_TM_MAX_DESC_LEN + 1];
	char                units[D_TM_MAX_UNIT_LEN + 1];
	int                 id = base_id + 2;

	(void)state;
	assert_int_equal(d_tm_init(id, 65536, 0), 0);
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", path),
			 -DER_EXCEEDS_PATH_LEN);
	path[D_TM_MAX_NAME_LEN] = '\0'; /* 256 chars still does not fit */
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", path),
			 -DER_EXCEEDS_PATH_LEN);
	path[D_TM_MAX_NAME_LEN - 1] = '\0'; /* 255: fits */
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", path), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, NULL), -DER_INVAL);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "/"), -DER_ADD_METRIC_FAILED);

	memset(desc, 'd', sizeof(desc) - 1);
	desc[D_TM_MAX_DESC_LEN] = '\0';
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, desc, NULL, "d1"), -DER_OVERFLOW);
	desc[D_TM_MAX_DESC_LEN - 1] = '\0';
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, desc, NULL, "d2"), 0);
	memset(units, 'u', sizeof(units) - 1);
	units[D_TM_MAX_UNIT_LEN] = '\0';
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, units, "u1"), -DER_OVERFLOW);
	units[D_TM_MAX_UNIT_LEN - 1] = '\0';
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, units, "u2"), 0);

	/* a full segment */
	{
		int i, rc = 0;

		for (i = 0; i < 10000 && rc == 0; i++)
			rc = d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "fill/%d", i);
		assert_int_equal(rc, -DER_NO_SHMEM);
		assert_true(i > 100);
	}
	d_tm_fini();
}

static void
test_histograms(void **state)
{
	struct d_tm_context    *ctx;
	struct d_tm_node_t     *g, *c, *d;
	struct d_tm_histogram_t h;
	struct d_tm_bucket_t    b;
	uint64_t                v;
	uint64_t                expect_min[] = {0, 4, 8, 16, 32};
	uint64_t                expect_max[] = {3, 7, 15, 31, UINT64_MAX};
	uint64_t                expect_cnt[] = {4, 4, 8, 16, 68};
	int                     i, id = base_id + 3;

	(void)state;
	assert_int_equal(d_tm_init(id, D_TM_SHARED_MEMORY_SIZE, 0), 0);
	ctx = d_tm_open(id);
	assert_non_null(ctx);
	assert_int_equal(d_tm_add_metric(&g, D_TM_STATS_GAUGE, NULL, NULL, "h/g"), 0);
	assert_int_equal(d_tm_add_metric(&c, D_TM_COUNTER, NULL, NULL, "h/c"), 0);
	assert_int_equal(d_tm_add_metric(&d, D_TM_DURATION | D_TM_CLOCK_REALTIME, NULL, NULL, "h/d"), 0);

	assert_int_equal(d_tm_init_histogram(NULL, "h/g", 5, 4, 2, NULL), -DER_INVAL);
	assert_int_equal(d_tm_init_histogram(g, NULL, 5, 4, 2, NULL), -DER_INVAL);
	assert_int_equal(d_tm_init_histogram(g, "h/g", 1, 4, 2, NULL), -DER_INVAL);
	assert_int_equal(d_tm_init_histogram(g, "h/g", 5, 0, 2, NULL), -DER_INVAL);
	assert_int_equal(d_tm_init_histogram(g, "h/g", 5, 4, 0, NULL), -DER_INVAL);
	assert_int_equal(d_tm_init_histogram(c, "h/c", 5, 4, 2, NULL), -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_num_buckets(ctx, &h, cli(ctx, g)), -DER_METRIC_NOT_FOUND);

	/* powers of two: the fast bucketing path */
	assert_int_equal(d_tm_init_histogram(g, "h/g", 5, 4, 2, "B"), 0);
	for (v = 0; v < 100; v++)
		d_tm_set_gauge(g, v);
	assert_int_equal(d_tm_get_num_buckets(ctx, &h, cli(ctx, g)), 0);
	assert_int_equal(h.dth_num_buckets, 5);
	assert_int_equal(h.dth_initial_width, 4);
	assert_int_equal(h.dth_value_multiplier, 2);
	for (i = 0; i < 5; i++) {
		assert_int_equal(d_tm_get_bucket_range(ctx, &b, i, cli(ctx, g)), 0);
		assert_int_equal(b.dtb_min, expect_min[i]);
		assert_true(b.dtb_max == expect_max[i]);
		assert_int_equal(d_tm_get_counter(ctx, &v, b.dtb_bucket), 0);
		assert_int_equal(v, expect_cnt[i]);
	}
	assert_non_null(d_tm_find_metric(ctx, "h/g/32_inf_B"));
	assert_non_null(d_tm_find_metric(ctx, "h/g/0_3_B"));
	assert_int_equal(d_tm_get_bucket_range(ctx, &b, 5, cli(ctx, g)), -DER_INVAL);
	assert_int_equal(d_tm_get_bucket_range(ctx, &b, -1, cli(ctx, g)), -DER_INVAL);
	assert_int_equal(d_tm_get_bucket_range(ctx, NULL, 0, cli(ctx, g)), -DER_INVAL);
	assert_int_equal(d_tm_get_bucket_range(ctx, &b, 0, cli(ctx, c)), -DER_OP_NOT_PERMITTED);
	assert_int_equal(d_tm_get_num_buckets(ctx, NULL, cli(ctx, g)), -DER_INVAL);
	assert_int_equal(d_tm_get_num_buckets(ctx, &h, cli(ctx, c)), -DER_OP_NOT_PERMITTED);

	/* equal widths (multiplier 1), the slow path, on a duration */
	assert_int_equal(d_tm_init_histogram(d, "h/d", 3, 1000000, 1, NULL), 0);
	d_tm_mark_duration_start(d, D_TM_CLOCK_REALTIME);
	d_tm_mark_duration_end(d);
	assert_int_equal(d_tm_get_bucket_range(ctx, &b, 0, cli(ctx, d)), 0);
	assert_int_equal(b.dtb_max, 999999);
	assert_int_equal(d_tm_get_counter(ctx, &v, b.dtb_bucket), 0);
	assert_int_equal(v, 1);
	assert_int_equal(d_tm_get_bucket_range(ctx, &b, 1, cli(ctx, d)), 0);
	assert_int_equal(b.dtb_min, 1000000);
	assert_int_equal(b.dtb_max, 1999999);
	assert_non_null(d_tm_find_metric(ctx, "h/d/2000000_inf"));

	d_tm_close(&ctx);
	d_tm_fini();
}

static const char *expect_std =
    "ID: 0   \n"
    "    p       \n"
    "        type: counter, c: 15 ops, desc: reads, units: ops\n"
    "        type: gauge, g: 12 req, units: req\n"
    "        type: gauge, s: 9 B [min: 1, max: 9, avg: 5, sum: 15, stddev: 4, samples: 3], desc: sizes, units: B\n";

static const char *expect_csv =
    "name,type,value,min,max,mean,sample_size,sum,std_dev,description,units\n"
    "ID: 0/p/c,counter,15,,,,,,reads,ops\n"
    "ID: 0/p/g,gauge,12,,,,,,,req\n"
    "ID: 0/p/s,gauge,9,1,9,5.000000,3,15,4.000000,sizes,B\n";

static void
test_printing(void **state)
{
	struct d_tm_context *ctx;
	struct d_tm_node_t  *n;
	struct d_tm_stats_t  st = {.dtm_min = 1, .dtm_max = 3, .dtm_sum = 4, .mean = 2.0,
				   .std_dev = 1.0, .sample_size = 2};
	struct timespec      tms = {.tv_sec = 2, .tv_nsec = 5000};
	struct capture       cap;
	time_t               clk = 0;
	char                *out;
	int                  id = base_id + 4;

	(void)state;
	assert_int_equal(d_tm_init_with_name(id, 1 << 16, 0, "ID: 0"), 0);
	ctx = d_tm_open(id);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, "reads", "ops", "p/c"), 0);
	d_tm_inc_counter(n, 15);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, "req", "p/g"), 0);
	d_tm_set_gauge(n, 12);
	assert_int_equal(d_tm_add_metric(&n, D_TM_STATS_GAUGE, "sizes", "B", "p/s"), 0);
	d_tm_set_gauge(n, 1);
	d_tm_set_gauge(n, 5);
	d_tm_set_gauge(n, 9);

	cap_open(&cap);
	d_tm_iterate(ctx, d_tm_get_root(ctx), 0, D_TM_ALL_NODES, NULL, D_TM_STANDARD,
		     D_TM_INCLUDE_METADATA | D_TM_INCLUDE_TYPE, print_cb, cap.f);
	out = cap_close(&cap);
	assert_string_equal(out, expect_std);
	free(out);

	cap_open(&cap);
	d_tm_print_field_descriptors(D_TM_INCLUDE_METADATA | D_TM_INCLUDE_TYPE, cap.f);
	d_tm_iterate(ctx, d_tm_get_root(ctx), 0, D_TM_ALL_NODES & ~D_TM_DIRECTORY, NULL, D_TM_CSV,
		     D_TM_INCLUDE_METADATA | D_TM_INCLUDE_TYPE, print_cb, cap.f);
	out = cap_close(&cap);
	assert_string_equal(out, expect_csv);
	free(out);

	/* the individual printers */
	cap_open(&cap);
	d_tm_print_counter(3, "c", D_TM_STANDARD, "B", 0, cap.f);
	fputc('|', cap.f);
	d_tm_print_counter(3, "c", D_TM_CSV, "B", D_TM_INCLUDE_TYPE, cap.f);
	fputc('|', cap.f);
	d_tm_print_gauge(4, &st, "g", D_TM_STANDARD, NULL, D_TM_INCLUDE_TYPE, cap.f);
	fputc('|', cap.f);
	d_tm_print_gauge(4, &st, "g", D_TM_CSV, NULL, 0, cap.f);
	fputc('|', cap.f);
	d_tm_print_timer_snapshot(&tms, "t", D_TM_TIMER_SNAPSHOT | D_TM_CLOCK_PROCESS_CPUTIME,
				  D_TM_STANDARD, D_TM_INCLUDE_TYPE, cap.f);
	fputc('|', cap.f);
	d_tm_print_timer_snapshot(&tms, "t", D_TM_TIMER_SNAPSHOT, D_TM_STANDARD, 0, cap.f);
	fputc('|', cap.f);
	d_tm_print_duration(&tms, &st, "d", D_TM_DURATION | D_TM_CLOCK_THREAD_CPUTIME, D_TM_CSV,
			    D_TM_INCLUDE_TYPE, cap.f);
	fputc('|', cap.f);
	d_tm_print_duration(&tms, NULL, "d", D_TM_DURATION | 0x4000, D_TM_STANDARD, 0, cap.f);
	fputc('|', cap.f);
	d_tm_print_metadata("x", NULL, D_TM_CSV, cap.f);
	d_tm_print_metadata(NULL, "u", D_TM_CSV, cap.f);
	d_tm_print_metadata("x", "u", D_TM_STANDARD, cap.f);
	fputc('|', cap.f);
	d_tm_print_stats(cap.f, &st, D_TM_STANDARD);
	fputc('|', cap.f);
	d_tm_print_field_descriptors(D_TM_INCLUDE_TIMESTAMP, cap.f);
	/* NULL input prints nothing */
	d_tm_print_counter(3, NULL, D_TM_STANDARD, NULL, 0, cap.f);
	d_tm_print_counter(3, "x", D_TM_STANDARD, NULL, 0, NULL);
	d_tm_print_gauge(3, NULL, NULL, D_TM_STANDARD, NULL, 0, cap.f);
	d_tm_print_timestamp(NULL, "x", D_TM_STANDARD, 0, cap.f);
	d_tm_print_timer_snapshot(NULL, "x", 0, D_TM_STANDARD, 0, cap.f);
	d_tm_print_duration(&tms, NULL, NULL, 0, D_TM_STANDARD, 0, cap.f);
	d_tm_print_stats(cap.f, NULL, D_TM_CSV);
	d_tm_print_node(ctx, NULL, 0, NULL, D_TM_CSV, 0, cap.f);
	out = cap_close(&cap);
	assert_string_equal(out,
			    "c: 3 B|c,counter,3|type: gauge, g: 4 [min: 1, max: 3, avg: 2, sum: 4, "
			    "samples: 2]|g,4,1,3,2.000000,2,4,|type: snapshot process, t: 2000005 us|"
			    "Invalid timer snapshot type: 0x0|d,duration thread,2000005,1,3,2.000000,2,4,|"
			    "Invalid timer duration type: 0x4000|,x,,u, desc: x, units: u|"
			    " [min: 1, max: 3, avg: 2, sum: 4, samples: 2]|"
			    "timestamp,name,value,min,max,mean,sample_size,sum,std_dev\n");
	free(out);

	/* a timestamp prints ctime()'s text without its newline */
	{
		char want[64], buf[32];

		ctime_r(&clk, buf);
		buf[24] = '\0';
		snprintf(want, sizeof(want), "ts,timestamp,%s", buf);
		cap_open(&cap);
		d_tm_print_timestamp(&clk, "ts", D_TM_CSV, D_TM_INCLUDE_TYPE, cap.f);
		out = cap_close(&cap);
		assert_string_equal(out, want);
		free(out);
	}

	d_tm_close(&ctx);
	d_tm_fini();
}

static void
test_ephemeral_and_links(void **state)
{
	struct d_tm_context    *ctx;
	struct d_tm_node_t     *n, *dir, *link;
	struct d_tm_nodeList_t *list = NULL, *l;
	uint64_t                v, ndirs = 0;
	int                     id = base_id + 5, count;
	key_t                   k1 = eph_key("e/one", id), k2 = eph_key("e/one/two", id);

	(void)state;
	assert_int_equal(d_tm_init(id, 1 << 16, 0), 0);
	ctx = d_tm_open(id);

	assert_int_equal(d_tm_add_ephemeral_dir(&n, 4096, NULL), -DER_INVAL);
	assert_int_equal(d_tm_add_ephemeral_dir(&n, 4096, ""), -DER_INVAL);
	assert_int_equal(d_tm_add_ephemeral_dir(&n, 0, "e/x"), -DER_INVAL);
	assert_int_equal(d_tm_add_ephemeral_dir(&n, 104, "e/x"), -DER_INVAL);
	assert_int_equal(d_tm_add_ephemeral_dir(&n, 4097, "e/x"), -DER_INVAL);
	assert_int_equal(d_tm_del_ephemeral_dir(NULL), -DER_INVAL);
	assert_int_equal(d_tm_del_ephemeral_dir(""), -DER_INVAL);
	assert_int_equal(d_tm_try_del_ephemeral_dir(NULL), -DER_INVAL);

	assert_int_equal(d_tm_add_ephemeral_dir(&dir, 4096, "e/%s", "one"), 0);
	assert_true(segment_exists(k1));
	assert_int_equal(dir->dtn_shmem_key, k1);
	assert_int_equal(d_tm_add_ephemeral_dir(&n, 4096, "e/one"), -DER_EXIST);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "e/one/c"), 0);
	assert_int_equal(n->dtn_shmem_key, k1); /* lives in the ephemeral segment */
	d_tm_inc_counter(n, 9);
	assert_int_equal(d_tm_add_ephemeral_dir(NULL, 4096, "e/one/two"), 0);
	assert_true(segment_exists(k2));
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "e/one/two/g"), 0);
	d_tm_set_gauge(n, 77);

	/* the consumer sees through the links */
	assert_int_equal(d_tm_get_counter(ctx, &v, d_tm_find_metric(ctx, "e/one/c")), 0);
	assert_int_equal(v, 9);
	assert_int_equal(d_tm_get_gauge(ctx, &v, NULL, d_tm_find_metric(ctx, "e/one/two/g")), 0);
	assert_int_equal(v, 77);
	link = d_tm_get_child(ctx, d_tm_find_metric(ctx, "e"));
	assert_int_equal(link->dtn_type, D_TM_LINK);
	n = d_tm_follow_link(ctx, link);
	assert_non_null(n);
	assert_int_equal(n->dtn_type, D_TM_DIRECTORY);
	assert_string_equal(d_tm_get_name(ctx, n), "one");
	assert_ptr_equal(d_tm_follow_link(ctx, n), n); /* not a link: itself */
	assert_null(d_tm_follow_link(NULL, link));
	assert_int_equal(d_tm_count_metrics(ctx, d_tm_get_root(ctx), D_TM_LINK), 0);
	assert_int_equal(d_tm_count_metrics(ctx, d_tm_get_root(ctx), D_TM_ALL_NODES), 6);

	assert_int_equal(d_tm_list_subdirs(ctx, &list, d_tm_get_root(ctx), &ndirs, 5), 0);
	assert_int_equal(ndirs, 3);
	count = 0;
	for (l = list; l != NULL; l = l->dtnl_next)
		count++;
	assert_int_equal(count, 3);
	d_tm_list_free(list);
	list = NULL;
	assert_int_equal(d_tm_list(ctx, &list, d_tm_get_root(ctx), D_TM_COUNTER | D_TM_GAUGE), 0);
	assert_string_equal(d_tm_get_name(ctx, list->dtnl_node), "c");
	assert_string_equal(d_tm_get_name(ctx, list->dtnl_next->dtnl_node), "g");
	assert_null(list->dtnl_next->dtnl_next);
	d_tm_list_free(list);
	list = NULL;
	assert_int_equal(d_tm_list(ctx, NULL, d_tm_get_root(ctx), D_TM_COUNTER), -DER_INVAL);
	assert_int_equal(d_tm_list(NULL, &list, d_tm_get_root(ctx), D_TM_COUNTER), -DER_INVAL);
	assert_int_equal(d_tm_list_add_node(NULL, NULL), -DER_INVAL);
	assert_int_equal(d_tm_list_add_node(link, &list), 0);
	assert_int_equal(d_tm_list_add_node(n, &list), 0);
	assert_ptr_equal(list->dtnl_next->dtnl_node, n);
	d_tm_list_free(list);
	d_tm_list_free(NULL);

	/* deleting the parent removes both segments; the link is cleared and reused */
	assert_int_equal(d_tm_del_ephemeral_dir("e/%s", "one"), 0);
	assert_false(segment_exists(k1));
	assert_false(segment_exists(k2));
	assert_null(d_tm_find_metric(ctx, "e/one"));
	assert_null(d_tm_find_metric(ctx, "e/one/c"));
	assert_null(d_tm_follow_link(ctx, link));
	assert_int_equal(d_tm_del_ephemeral_dir("e/nothing"), 0);
	assert_int_equal(d_tm_del_ephemeral_dir("e"), -DER_INVAL); /* not ephemeral */
	d_tm_gc_ctx(ctx);
	d_tm_gc_ctx(NULL);

	assert_int_equal(d_tm_add_ephemeral_dir(NULL, 4096, "e/again"), 0);
	assert_ptr_equal(d_tm_get_child(ctx, d_tm_find_metric(ctx, "e")), link);
	assert_int_equal(d_tm_try_del_ephemeral_dir("e/again"), 0);
	assert_false(segment_exists(eph_key("e/again", id)));

	/* attaching a segment made elsewhere, then deleting it through the tree */
	{
		int   shmid;
		key_t k = eph_key("ext", id);

		assert_int_equal(d_tm_add_ephemeral_dir(NULL, 4096, "ext"), 0);
		assert_int_equal(d_tm_attach_path_segment(k, "alias"), 0);
		assert_int_equal(d_tm_attach_path_segment(k, "alias"), -DER_EXIST);
		assert_int_equal(d_tm_attach_path_segment(k, NULL), -DER_INVAL);
		assert_int_equal(d_tm_attach_path_segment(k, ""), -DER_INVAL);
		n = d_tm_find_metric(ctx, "alias");
		assert_non_null(n);
		assert_string_equal(d_tm_get_name(ctx, n), "ext");
		assert_int_equal(d_tm_del_ephemeral_dir("ext"), 0);
		shmid = shmget(k, 0, 0);
		assert_true(shmid < 0);
	}
	d_tm_close(&ctx);
	d_tm_fini();
	assert_false(segment_exists(d_tm_get_srv_key(id)));
}

/* Retained segments survive fini, and a new init with the same id cleans up old subregions. */
static void
test_retain_and_cleanup(void **state)
{
	struct d_tm_context *ctx;
	struct d_tm_node_t  *n;
	int                  id = base_id + 6;
	key_t                sub = eph_key("keep", id);
	uint64_t             v;

	(void)state;
	assert_int_equal(d_tm_init(id, 8192, D_TM_RETAIN_SHMEM), 0);
	assert_int_equal(d_tm_add_ephemeral_dir(NULL, 1024, "keep"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "keep/c"), 0);
	d_tm_inc_counter(n, 5);
	d_tm_fini();
	assert_true(segment_exists(d_tm_get_srv_key(id)));
	assert_true(segment_exists(sub));
	ctx = d_tm_open(id);
	assert_non_null(ctx);
	assert_int_equal(d_tm_get_counter(ctx, &v, d_tm_find_metric(ctx, "keep/c")), 0);
	assert_int_equal(v, 5);
	d_tm_close(&ctx);

	/* open-or-create reuses the retained root */
	assert_int_equal(d_tm_init(id, 8192, D_TM_OPEN_OR_CREATE | D_TM_RETAIN_SHMEM), 0);
	ctx = d_tm_open(id);
	assert_non_null(d_tm_find_metric(ctx, "keep/c"));
	d_tm_close(&ctx);
	d_tm_fini();

	/* a fresh init wipes root and subregion */
	assert_int_equal(d_tm_init(id, 8192, 0), 0);
	assert_false(segment_exists(sub));
	ctx = d_tm_open(id);
	assert_null(d_tm_find_metric(ctx, "keep"));
	d_tm_close(&ctx);
	d_tm_fini();
	assert_false(segment_exists(d_tm_get_srv_key(id)));

	/* retain only if non-empty */
	assert_int_equal(d_tm_init(id, 8192, D_TM_RETAIN_SHMEM_IF_NON_EMPTY), 0);
	d_tm_fini();
	assert_false(segment_exists(d_tm_get_srv_key(id)));
	assert_int_equal(d_tm_init(id, 8192, D_TM_RETAIN_SHMEM_IF_NON_EMPTY), 0);
	assert_int_equal(d_tm_add_metric(NULL, D_TM_COUNTER, NULL, NULL, "x"), 0);
	d_tm_fini();
	assert_true(segment_exists(d_tm_get_srv_key(id)));
	assert_int_equal(destroy_shmem_with_key(d_tm_get_srv_key(id)), 0);
	assert_false(segment_exists(d_tm_get_srv_key(id)));
	assert_int_equal(destroy_shmem_with_key(d_tm_get_srv_key(id)), 0); /* already gone */
}

/* Process-private memory: no segment at all, the consumer is the producer's context. */
static void
test_no_shmem(void **state)
{
	struct d_tm_context *ctx;
	struct d_tm_node_t  *n;
	uint64_t             v;
	int                  id = base_id + 7;

	(void)state;
	assert_int_equal(d_tm_init(id, 8192, D_TM_NO_SHMEM), 0);
	assert_false(segment_exists(d_tm_get_srv_key(id)));
	ctx = d_tm_open(id);
	assert_non_null(ctx);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "a/b"), 0);
	d_tm_inc_counter(n, 2);
	assert_int_equal(d_tm_get_counter(ctx, &v, d_tm_find_metric(ctx, "a/b")), 0);
	assert_int_equal(v, 2);
	assert_int_equal(d_tm_add_ephemeral_dir(NULL, 1024, "a/e"), 0);
	assert_false(segment_exists(eph_key("a/e", id)));
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "a/e/g"), 0);
	d_tm_set_gauge(n, 4);
	assert_int_equal(d_tm_get_gauge(ctx, &v, NULL, d_tm_find_metric(ctx, "a/e/g")), 0);
	assert_int_equal(v, 4);
	assert_int_equal(d_tm_del_ephemeral_dir("a/e"), 0);
	assert_null(d_tm_find_metric(ctx, "a/e/g"));
	d_tm_close(&ctx); /* no-op: fini owns it */
	d_tm_fini();
}

/* A producer in a child process, the consumer here; then the other way round. */
static void
test_two_processes(void **state)
{
	struct d_tm_context *ctx;
	struct d_tm_node_t  *n;
	struct d_tm_stats_t  st = {0};
	int                  id = base_id + 8, up[2], down[2], status;
	uint64_t             v;
	pid_t                pid;
	char                 c;

	(void)state;
	/* up: child to parent, down: parent to child */
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc;

		alarm(30); /* never outlive a parent that failed */
		rc = d_tm_init(id, 1 << 16, D_TM_SERIALIZATION);
		rc |= d_tm_add_metric(&n, D_TM_STATS_GAUGE, "x", "B", "child/g");
		d_tm_set_gauge(n, 10);
		d_tm_set_gauge(n, 30);
		rc |= d_tm_add_ephemeral_dir(NULL, 4096, "child/eph");
		rc |= d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "child/eph/c");
		d_tm_inc_counter(n, 11);
		c = rc == 0 ? 'y' : 'n';
		if (write(up[1], &c, 1) != 1)
			_exit(2);
		/* stay alive until the parent has read */
		if (read(down[0], &c, 1) != 1)
			_exit(3);
		d_tm_fini();
		_exit(0);
	}
	assert_int_equal(read(up[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	ctx = d_tm_open(id);
	assert_non_null(ctx);
	n = d_tm_find_metric(ctx, "child/g");
	assert_int_equal(d_tm_get_gauge(ctx, &v, &st, n), 0);
	assert_int_equal(v, 30);
	assert_int_equal(st.sample_size, 2);
	assert_true(st.mean == 20.0);
	assert_int_equal(d_tm_get_counter(ctx, &v, d_tm_find_metric(ctx, "child/eph/c")), 0);
	assert_int_equal(v, 11);
	d_tm_close(&ctx);
	c = 'x';
	assert_int_equal(write(down[1], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_false(segment_exists(d_tm_get_srv_key(id)));
	assert_false(segment_exists(eph_key("child/eph", id)));
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);

	/* this process produces, a child consumes */
	assert_int_equal(d_tm_init(id, 1 << 16, 0), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "parent/c"), 0);
	d_tm_inc_counter(n, 21);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct d_tm_context *cctx = d_tm_open(id);
		uint64_t             cv   = 0;
		int                  ok;

		ok = cctx != NULL &&
		     d_tm_get_counter(cctx, &cv, d_tm_find_metric(cctx, "parent/c")) == 0 &&
		     cv == 21;
		d_tm_close(&cctx);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	d_tm_fini();
	assert_false(segment_exists(d_tm_get_srv_key(id)));
}

struct thread_arg {
	struct d_tm_node_t *counter;
	int                 which;
	int                 failures;
};

static void *
writer(void *p)
{
	struct thread_arg  *a = p;
	struct d_tm_node_t *n;
	int                 i;

	for (i = 0; i < 100000; i++)
		d_tm_inc_counter(a->counter, 1);
	for (i = 0; i < 50; i++)
		if (d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "t/%d/g%d", a->which, i) != 0)
			a->failures++;
	/* both threads add the same paths too: one creates, the other finds */
	for (i = 0; i < 50; i++)
		if (d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "shared/c%d", i) != 0)
			a->failures++;
	return NULL;
}

/* Serialized counters are exact under concurrent writers; concurrent adds are serialized. */
static void
test_threads(void **state)
{
	struct d_tm_context *ctx;
	struct d_tm_node_t  *c;
	struct thread_arg    a[2];
	pthread_t            t[2];
	uint64_t             v;
	int                  i, id = base_id + 9;

	(void)state;
	assert_int_equal(d_tm_init(id, D_TM_SHARED_MEMORY_SIZE,
				   D_TM_SERIALIZATION | D_TM_MULTIPLE_WRITER_LOCK), 0);
	ctx = d_tm_open(id);
	assert_int_equal(d_tm_add_metric(&c, D_TM_COUNTER, NULL, NULL, "t/c"), 0);
	assert_true(c->dtn_protect);
	for (i = 0; i < 2; i++) {
		a[i] = (struct thread_arg){.counter = c, .which = i};
		assert_int_equal(pthread_create(&t[i], NULL, writer, &a[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].failures, 0);
	}
	assert_int_equal(d_tm_get_counter(ctx, &v, cli(ctx, c)), 0);
	assert_int_equal(v, 200000);
	assert_int_equal(d_tm_count_metrics(ctx, d_tm_find_metric(ctx, "t"), D_TM_GAUGE), 100);
	assert_int_equal(d_tm_count_metrics(ctx, d_tm_find_metric(ctx, "shared"), D_TM_COUNTER), 50);
	d_tm_close(&ctx);
	d_tm_fini();
}

/* A failed test leaves no producer (and so no segment) behind for the next one. */
static int
teardown(void **state)
{
	(void)state;
	d_tm_fini();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_constants_and_keys, teardown),
	    cmocka_unit_test_teardown(test_init_errors, teardown),
	    cmocka_unit_test_teardown(test_every_metric_type, teardown),
	    cmocka_unit_test_teardown(test_path_and_string_limits, teardown),
	    cmocka_unit_test_teardown(test_histograms, teardown),
	    cmocka_unit_test_teardown(test_printing, teardown),
	    cmocka_unit_test_teardown(test_ephemeral_and_links, teardown),
	    cmocka_unit_test_teardown(test_retain_and_cleanup, teardown),
	    cmocka_unit_test_teardown(test_no_shmem, teardown),
	    cmocka_unit_test_teardown(test_two_processes, teardown),
	    cmocka_unit_test_teardown(test_threads, teardown),
	};

	/* ids of our own so that parallel runs do not meet */
	base_id = 20000 + (getpid() % 20000) * 10;
	return cmocka_run_group_tests_name("gurt telemetry", tests, NULL, NULL);
}
