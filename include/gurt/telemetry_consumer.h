/*
 * oxidaos: gurt telemetry, the consumer's API (DAOS's gurt/telemetry_consumer.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#ifndef __TELEMETRY_CONSUMER_H__
#define __TELEMETRY_CONSUMER_H__

#include <gurt/telemetry_common.h>

/* Reading one node. Pointers returned are in the caller's address space. */
char *
d_tm_get_name(struct d_tm_context *ctx, struct d_tm_node_t *node);
int
d_tm_get_counter(struct d_tm_context *ctx, uint64_t *val, struct d_tm_node_t *node);
int
d_tm_get_timestamp(struct d_tm_context *ctx, time_t *val, struct d_tm_node_t *node);
int
d_tm_get_timer_snapshot(struct d_tm_context *ctx, struct timespec *tms,
			struct d_tm_node_t *node);
int
d_tm_get_gauge(struct d_tm_context *ctx, uint64_t *val, struct d_tm_stats_t *stats,
	       struct d_tm_node_t *node);
int
d_tm_get_duration(struct d_tm_context *ctx, struct timespec *tms, struct d_tm_stats_t *stats,
		  struct d_tm_node_t *node);
int
d_tm_get_metadata(struct d_tm_context *ctx, char **desc, char **units, struct d_tm_node_t *node);
int
d_tm_get_num_buckets(struct d_tm_context *ctx, struct d_tm_histogram_t *histogram,
		     struct d_tm_node_t *node);
int
d_tm_get_bucket_range(struct d_tm_context *ctx, struct d_tm_bucket_t *bucket, int bucket_id,
		      struct d_tm_node_t *node);

/* Sessions and the shape of the tree. */
struct d_tm_context *
d_tm_open(int id);
void
d_tm_close(struct d_tm_context **ctx);
void
d_tm_gc_ctx(struct d_tm_context *ctx);
void *
d_tm_conv_ptr(struct d_tm_context *ctx, struct d_tm_node_t *node, void *ptr);
struct d_tm_node_t *
d_tm_get_root(struct d_tm_context *ctx);
struct d_tm_node_t *
d_tm_get_child(struct d_tm_context *ctx, struct d_tm_node_t *node);
struct d_tm_node_t *
d_tm_get_sibling(struct d_tm_context *ctx, struct d_tm_node_t *node);
struct d_tm_node_t *
d_tm_find_metric(struct d_tm_context *ctx, char *path);
uint64_t
d_tm_count_metrics(struct d_tm_context *ctx, struct d_tm_node_t *node, int d_tm_type);
int
d_tm_list(struct d_tm_context *ctx, struct d_tm_nodeList_t **head, struct d_tm_node_t *node,
	  int d_tm_type);
int
d_tm_list_subdirs(struct d_tm_context *ctx, struct d_tm_nodeList_t **head,
		  struct d_tm_node_t *node, uint64_t *node_count, int max_depth);

/* Walking the tree: the callback sees every node whose type matches the filter. */
typedef void (*d_tm_iter_cb_t)(struct d_tm_context *ctx, struct d_tm_node_t *node, int level,
			       char *path, int format, int opt_fields, void *cb_arg);

void
d_tm_iterate(struct d_tm_context *ctx, struct d_tm_node_t *node, int level, int filter, char *path,
	     int format, int opt_fields, d_tm_iter_cb_t iter_cb, void *cb_arg);
void
d_tm_print_node(struct d_tm_context *ctx, struct d_tm_node_t *node, int level, char *name,
		int format, int opt_fields, FILE *stream);
void
d_tm_reset_node(struct d_tm_context *ctx, struct d_tm_node_t *node, int level, char *path,
		int format, int opt_fields, FILE *stream);

/* Printing (D_TM_STANDARD or D_TM_CSV, with D_TM_INCLUDE_* fields). */
void
d_tm_print_field_descriptors(int opt_fields, FILE *stream);
void
d_tm_print_counter(uint64_t val, char *name, int format, char *units, int opt_fields,
		   FILE *stream);
void
d_tm_print_timestamp(time_t *clk, char *name, int format, int opt_fields, FILE *stream);
void
d_tm_print_timer_snapshot(struct timespec *tms, char *name, int tm_type, int format,
			  int opt_fields, FILE *stream);
void
d_tm_print_duration(struct timespec *tms, struct d_tm_stats_t *stats, char *name, int tm_type,
		    int format, int opt_fields, FILE *stream);
void
d_tm_print_gauge(uint64_t val, struct d_tm_stats_t *stats, char *name, int format, char *units,
		 int opt_fields, FILE *stream);
void
d_tm_print_metadata(char *desc, char *units, int format, FILE *stream);

/* D_TM_CLOCK_* to a clockid_t, and to its name. */
int
d_tm_clock_id(int clk_id);
char *
d_tm_clock_string(int clk_id);

#endif /* __TELEMETRY_CONSUMER_H__ */
