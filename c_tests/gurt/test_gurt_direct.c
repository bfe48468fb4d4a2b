/* Exports that the area tests reach only indirectly, called here by name: d_log_init_adv,
 * the d_dbg_grp_dict table, d_alt_assert/d_register_alt_assert, and telemetry's
 * d_tm_compute_stats/d_tm_compute_histogram. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <gurt/telemetry_common.h>
#include <gurt/telemetry_producer.h>
#include <gurt/telemetry_consumer.h>

static void
test_log_init_adv(void **state)
{
	char  path[] = "/tmp/oxidaos-test-log-XXXXXX";
	char  line[512];
	int   fd = mkstemp(path);
	FILE *f;
	int   found = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(d_log_init_adv("advtag", path, DLOG_FLV_LOGPID | DLOG_FLV_TAG, DLOG_INFO,
					DLOG_CRIT, NULL),
			 0);
	D_INFO("direct init line %d\n", 7);
	D_DEBUG(DB_TRACE, "masked off\n");
	d_log_fini();
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "direct init line 7") != NULL) {
			found++;
			/* the tag given to d_log_init_adv starts the line's origin field */
			assert_non_null(strstr(line, "advtag"));
		}
		assert_null(strstr(line, "masked off"));
	}
	fclose(f);
	unlink(path);
	assert_int_equal(found, 1);
}

static void
test_dbg_grp_dict(void **state)
{
	d_dbug_t mem = 0, io = 0;
	int      i, slot = -1;

	(void)state;
	assert_int_equal(d_log_init(), 0);
	assert_int_equal(d_log_getdbgbit(&mem, "mem"), 0);
	assert_int_equal(d_log_getdbgbit(&io, "io"), 0);
	assert_int_equal(d_log_dbg_grp_alloc(mem | io, "oxgrp", 0), 0);
	for (i = 0; i < 10; i++)
		if (d_dbg_grp_dict[i].dg_name != NULL &&
		    strcmp(d_dbg_grp_dict[i].dg_name, "oxgrp") == 0)
			slot = i;
	assert_true(slot >= 0);
	assert_int_equal(d_dbg_grp_dict[slot].dg_mask, mem | io);
	assert_int_equal(d_dbg_grp_dict[slot].dg_name_size, strlen("oxgrp") + 1);
	assert_int_equal(d_log_dbg_grp_dealloc("oxgrp"), 0);
	for (i = 0; i < 10; i++)
		assert_true(d_dbg_grp_dict[i].dg_name == NULL ||
			    strcmp(d_dbg_grp_dict[i].dg_name, "oxgrp") != 0);
	d_log_fini();
}

static void
my_assert(const int r, const char *e, const char *file, const int line)
{
	(void)r;
	(void)e;
	(void)file;
	(void)line;
}

static void
test_alt_assert(void **state)
{
	(void)state;
	assert_int_equal(d_register_alt_assert(my_assert), 0);
	assert_ptr_equal(d_alt_assert, my_assert);
	assert_int_equal(d_register_alt_assert(NULL), -DER_INVAL);
	assert_ptr_equal(d_alt_assert, my_assert);
}

static void
test_compute_stats_histogram(void **state)
{
	struct d_tm_node_t   *g = NULL;
	struct d_tm_node_t   *p;
	struct d_tm_context  *ctx;
	struct d_tm_stats_t   stats;
	struct d_tm_bucket_t  b;
	uint64_t              val = 0, cnt = 0;

	(void)state;
	assert_int_equal(d_tm_init(4711, 1 << 20, D_TM_SERIALIZATION), 0);
	assert_int_equal(d_tm_add_metric(&g, D_TM_STATS_GAUGE, "lat", "us", "direct/lat"), 0);
	/* 4 buckets, initial width 10, multiplier 2: [0,9] [10,19] [20,39] [40,max] (upstream's rule) */
	assert_int_equal(d_tm_init_histogram(g, "direct/lat", 4, 10, 2, NULL), 0);
	p = g;
	d_tm_compute_stats(p, 5);
	d_tm_compute_stats(p, 15);
	d_tm_compute_histogram(p, 15);
	d_tm_compute_histogram(p, 15);
	d_tm_compute_histogram(p, 100);
	/* the consumer maps the segment at its own address: nodes are found through its context */
	ctx = d_tm_open(4711);
	assert_non_null(ctx);
	g = d_tm_find_metric(ctx, "direct/lat");
	assert_non_null(g);
	assert_int_equal(d_tm_get_gauge(ctx, &val, &stats, g), 0);
	assert_int_equal(stats.sample_size, 2);
	assert_int_equal(stats.dtm_min, 5);
	assert_int_equal(stats.dtm_max, 15);
	assert_int_equal(stats.dtm_sum, 20);
	assert_true(stats.mean > 9.99 && stats.mean < 10.01);
	assert_int_equal(d_tm_get_bucket_range(ctx, &b, 1, g), 0);
	assert_int_equal(b.dtb_min, 10);
	assert_int_equal(b.dtb_max, 19);
	assert_int_equal(d_tm_get_counter(ctx, &cnt, b.dtb_bucket), 0);
	assert_int_equal(cnt, 2);
	assert_int_equal(d_tm_get_bucket_range(ctx, &b, 3, g), 0);
	assert_int_equal(d_tm_get_counter(ctx, &cnt, b.dtb_bucket), 0);
	assert_int_equal(cnt, 1);
	/* NULL nodes are ignored, as upstream's are */
	d_tm_compute_stats(NULL, 1);
	d_tm_compute_histogram(NULL, 1);
	d_tm_close(&ctx);
	d_tm_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_init_adv),
	    cmocka_unit_test(test_dbg_grp_dict),
	    cmocka_unit_test(test_alt_assert),
	    cmocka_unit_test(test_compute_stats_histogram),
	};

	return cmocka_run_group_tests_name("gurt_direct", tests, NULL, NULL);
}
