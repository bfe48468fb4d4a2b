/*
 * telem_tool: writes or reads a telemetry tree through whichever libgurt.so.4 it is run
 * against, to show that segments written by one implementation read the same in another.
 *
 *   telem_tool produce ID [timed]  build a tree (kept after exit: D_TM_RETAIN_SHMEM); with
 *                                  "timed" also clock-dependent metrics
 *   telem_tool consume ID          print everything a consumer can see, in both formats
 *   telem_tool destroy ID          remove the tree's segments (root and ephemeral ones)
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gurt/telemetry_common.h>
#include <gurt/telemetry_producer.h>
#include <gurt/telemetry_consumer.h>

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		int _rc = (x);                                                                     \
		if (_rc != 0) {                                                                    \
			fprintf(stderr, "%s:%d: %s = %d\n", __FILE__, __LINE__, #x, _rc);          \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static int
produce(int id, int timed)
{
	struct d_tm_node_t *n;
	int                 i;

	CHECK(d_tm_init(id, D_TM_SHARED_MEMORY_SIZE, D_TM_RETAIN_SHMEM | D_TM_SERIALIZATION));

	CHECK(d_tm_add_metric(&n, D_TM_COUNTER, "reads done", "ops", "io/ops/%s", "read"));
	for (i = 0; i < 3; i++)
		d_tm_inc_counter(n, 5);
	CHECK(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "io/ops/write"));
	d_tm_set_counter(n, 42);
	CHECK(d_tm_add_metric(&n, D_TM_GAUGE, "queue depth", "req", "io/queue/depth"));
	d_tm_set_gauge(n, 10);
	d_tm_inc_gauge(n, 5);
	d_tm_dec_gauge(n, 3);
	CHECK(d_tm_add_metric(&n, D_TM_STATS_GAUGE, "request sizes", D_TM_KIBIBYTE, "io/size"));
	CHECK(d_tm_init_histogram(n, "io/size", 5, 2, 2, "KiB"));
	for (i = 1; i <= 40; i += 3)
		d_tm_set_gauge(n, i);
	CHECK(d_tm_add_metric(&n, D_TM_STATS_GAUGE, NULL, NULL, "io/lin"));
	CHECK(d_tm_init_histogram(n, "io/lin", 4, 10, 1, NULL));
	for (i = 0; i < 50; i += 7)
		d_tm_set_gauge(n, i);

	CHECK(d_tm_add_ephemeral_dir(&n, 8192, "pool/%s", "p1"));
	CHECK(d_tm_add_metric(&n, D_TM_COUNTER, "pool ops", NULL, "pool/p1/ops"));
	d_tm_inc_counter(n, 7);
	CHECK(d_tm_add_ephemeral_dir(NULL, 4096, "pool/p1/cont/c1"));
	CHECK(d_tm_add_metric(&n, D_TM_GAUGE, NULL, "B", "pool/p1/cont/c1/used"));
	d_tm_set_gauge(n, 123456789);
	CHECK(d_tm_add_ephemeral_dir(NULL, 4096, "pool/p2"));
	CHECK(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "pool/p2/gone"));
	CHECK(d_tm_del_ephemeral_dir("pool/p2"));
	CHECK(d_tm_add_ephemeral_dir(NULL, 4096, "pool/p3"));
	CHECK(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "pool/p3/back"));
	d_tm_inc_counter(n, 3);

	if (timed) {
		CHECK(d_tm_add_metric(&n, D_TM_TIMESTAMP, "start", NULL, "time/started"));
		d_tm_record_timestamp(n);
		CHECK(d_tm_add_metric(&n, D_TM_TIMER_SNAPSHOT | D_TM_CLOCK_REALTIME, NULL, NULL,
				      "time/snap"));
		d_tm_take_timer_snapshot(n, D_TM_CLOCK_REALTIME);
		CHECK(d_tm_add_metric(&n, D_TM_DURATION | D_TM_CLOCK_REALTIME, "op time", NULL,
				      "time/op"));
		CHECK(d_tm_init_histogram(n, "time/op", 4, 8, 2, NULL));
		for (i = 0; i < 4; i++) {
			d_tm_mark_duration_start(n, D_TM_CLOCK_REALTIME);
			d_tm_mark_duration_end(n);
		}
		CHECK(d_tm_add_metric(&n, D_TM_MEMINFO, NULL, NULL, "time/mem"));
		d_tm_record_meminfo(n);
	}
	d_tm_fini();
	return 0;
}

static void
print_cb(struct d_tm_context *ctx, struct d_tm_node_t *node, int level, char *path, int format,
	 int opt_fields, void *arg)
{
	d_tm_print_node(ctx, node, level, path, format, opt_fields, (FILE *)arg);
}

static int
consume(int id)
{
	struct d_tm_context    *ctx;
	struct d_tm_node_t     *root, *n;
	struct d_tm_nodeList_t *list = NULL, *l;
	struct d_tm_histogram_t h   = {0};
	struct d_tm_bucket_t    b;
	struct d_tm_stats_t     st = {0};
	uint64_t                v, dirs = 0;
	char                   *desc = NULL, *units = NULL;
	int                     i, rc;

	ctx = d_tm_open(id);
	if (ctx == NULL) {
		fprintf(stderr, "cannot open telemetry instance %d\n", id);
		return 1;
	}
	root = d_tm_get_root(ctx);
	printf("version %d root %s\n", d_tm_get_version(), d_tm_get_name(ctx, root));
	d_tm_iterate(ctx, root, 0, D_TM_ALL_NODES, NULL, D_TM_STANDARD,
		     D_TM_INCLUDE_METADATA | D_TM_INCLUDE_TYPE, print_cb, stdout);
	d_tm_print_field_descriptors(D_TM_INCLUDE_METADATA | D_TM_INCLUDE_TYPE, stdout);
	d_tm_iterate(ctx, root, 0, D_TM_ALL_NODES & ~D_TM_DIRECTORY, NULL, D_TM_CSV,
		     D_TM_INCLUDE_METADATA | D_TM_INCLUDE_TYPE, print_cb, stdout);
	d_tm_iterate(ctx, root, 0, D_TM_ALL_NODES & ~D_TM_DIRECTORY, "/", D_TM_CSV, 0, print_cb,
		     stdout);

	printf("count all %lu counters %lu gauges %lu dirs %lu links %lu\n",
	       d_tm_count_metrics(ctx, root, D_TM_ALL_NODES),
	       d_tm_count_metrics(ctx, root, D_TM_COUNTER),
	       d_tm_count_metrics(ctx, root, D_TM_GAUGE | D_TM_STATS_GAUGE),
	       d_tm_count_metrics(ctx, root, D_TM_DIRECTORY),
	       d_tm_count_metrics(ctx, root, D_TM_LINK));
	rc = d_tm_list_subdirs(ctx, &list, root, &dirs, 2);
	printf("subdirs rc %d n %lu:", rc, dirs);
	for (l = list; l != NULL; l = l->dtnl_next)
		printf(" %s", d_tm_get_name(ctx, l->dtnl_node));
	printf("\n");
	d_tm_list_free(list);
	list = NULL;
	rc = d_tm_list(ctx, &list, root, D_TM_COUNTER);
	printf("counters rc %d:", rc);
	for (l = list; l != NULL; l = l->dtnl_next) {
		d_tm_get_counter(ctx, &v, l->dtnl_node);
		printf(" %s=%lu", d_tm_get_name(ctx, l->dtnl_node), v);
	}
	printf("\n");
	d_tm_list_free(list);

	n = d_tm_find_metric(ctx, "io/size");
	rc = d_tm_get_gauge(ctx, &v, &st, n);
	printf("io/size rc %d v %lu min %lu max %lu sum %lu mean %.6f sd %.6f n %lu\n", rc, v,
	       st.dtm_min, st.dtm_max, st.dtm_sum, st.mean, st.std_dev, st.sample_size);
	rc = d_tm_get_num_buckets(ctx, &h, n);
	printf("buckets rc %d n %d w %d m %d\n", rc, h.dth_num_buckets, h.dth_initial_width,
	       h.dth_value_multiplier);
	for (i = 0; i < h.dth_num_buckets; i++) {
		rc = d_tm_get_bucket_range(ctx, &b, i, n);
		d_tm_get_counter(ctx, &v, b.dtb_bucket);
		printf("  bucket %d rc %d [%lu, %lu] %s = %lu\n", i, rc, b.dtb_min, b.dtb_max,
		       d_tm_get_name(ctx, b.dtb_bucket), v);
	}
	rc = d_tm_get_metadata(ctx, &desc, &units, n);
	printf("meta rc %d desc %s units %s\n", rc, desc, units);
	free(desc);
	free(units);
	n = d_tm_find_metric(ctx, "pool/p1/cont/c1/used");
	rc = d_tm_get_gauge(ctx, &v, NULL, n);
	printf("c1/used rc %d v %lu\n", rc, v);
	printf("p2 %p p2/gone %p\n", (void *)d_tm_find_metric(ctx, "pool/p2"),
	       (void *)d_tm_find_metric(ctx, "pool/p2/gone"));
	d_tm_close(&ctx);
	printf("closed %p\n", (void *)ctx);
	return 0;
}

int
main(int argc, char **argv)
{
	int id;

	if (argc < 3) {
		fprintf(stderr, "usage: %s produce|consume|destroy ID [timed]\n", argv[0]);
		return 2;
	}
	id = atoi(argv[2]);
	if (strcmp(argv[1], "produce") == 0)
		return produce(id, argc > 3 && strcmp(argv[3], "timed") == 0);
	if (strcmp(argv[1], "consume") == 0)
		return consume(id);
	if (strcmp(argv[1], "destroy") == 0)
		return destroy_shmem_with_key(d_tm_get_srv_key(id)) != 0;
	return 2;
}
