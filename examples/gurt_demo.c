/* A tour of oxidaos's libgurt through its C ABI, the way DAOS code uses it: the log with its
 * masks, a hash table of intrusive records, rank lists, HLC timestamps, fault injection, and a
 * telemetry segment read back by the consumer API. Built against the installed headers and
 * library through pkg-config (./dev.sh demo). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gurt/common.h>
#include <gurt/hash.h>
#include <gurt/telemetry_common.h>
#include <gurt/telemetry_producer.h>
#include <gurt/telemetry_consumer.h>

struct pool_rec {
	d_list_t pr_link;
	uint32_t pr_id;
	int      pr_ref;
};

static struct pool_rec *
link2rec(d_list_t *link)
{
	return d_list_entry(link, struct pool_rec, pr_link);
}

static bool
rec_cmp(struct d_hash_table *ht, d_list_t *link, const void *key, unsigned int ksize)
{
	(void)ht;
	return ksize == sizeof(uint32_t) && link2rec(link)->pr_id == *(const uint32_t *)key;
}

static uint32_t
rec_hash(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	return d_hash_string_u32((const char *)&link2rec(link)->pr_id, sizeof(uint32_t));
}

static uint32_t
key_hash(struct d_hash_table *ht, const void *key, unsigned int ksize)
{
	(void)ht;
	return d_hash_string_u32(key, ksize);
}

static void
rec_addref(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	link2rec(link)->pr_ref++;
}

static bool
rec_decref(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	return --link2rec(link)->pr_ref == 0;
}

static void
rec_free(struct d_hash_table *ht, d_list_t *link)
{
	struct pool_rec *rec = link2rec(link);

	(void)ht;
	D_FREE(rec);
}

static d_hash_table_ops_t rec_ops = {
    .hop_key_cmp    = rec_cmp,
    .hop_key_hash   = key_hash,
    .hop_rec_hash   = rec_hash,
    .hop_rec_addref = rec_addref,
    .hop_rec_decref = rec_decref,
    .hop_rec_free   = rec_free,
};

static int
demo_hash(void)
{
	struct d_hash_table *ht;
	struct pool_rec     *rec;
	d_list_t            *link;
	uint32_t             id;
	int                  rc;

	rc = d_hash_table_create(D_HASH_FT_RWLOCK, 6, NULL, &rec_ops, &ht);
	if (rc != 0)
		return rc;
	for (id = 0; id < 100; id++) {
		D_ALLOC_PTR(rec);
		if (rec == NULL)
			return -DER_NOMEM;
		rec->pr_id = id;
		rc = d_hash_rec_insert(ht, &id, sizeof(id), &rec->pr_link, true);
		if (rc != 0)
			return rc;
	}
	id   = 42;
	link = d_hash_rec_find(ht, &id, sizeof(id));
	printf("  hash table: 100 records inserted, record 42 %s (refs %d)\n",
	       link ? "found" : "MISSING", link ? link2rec(link)->pr_ref : 0);
	if (link)
		d_hash_rec_decref(ht, link);
	rc = d_hash_table_destroy(ht, true /* force: drops the table's references */);
	printf("  hash table destroyed: " DF_RC "\n", DP_RC(rc));
	return rc;
}

static int
demo_ranks(void)
{
	d_rank_t       ranks[] = {7, 3, 1, 2, 9, 8, 3};
	d_rank_list_t *rl, *uniq = NULL;
	char          *str = NULL;
	int            rc;

	rl = uint32_array_to_rank_list(ranks, sizeof(ranks) / sizeof(ranks[0]));
	if (rl == NULL)
		return -DER_NOMEM;
	rc = d_rank_list_dup_sort_uniq(&uniq, rl);
	if (rc == 0)
		rc = d_rank_list_to_str(uniq, &str);
	if (rc == 0)
		printf("  rank list {7,3,1,2,9,8,3} sorted and unique: %s\n", str);
	D_FREE(str);
	d_rank_list_free(uniq);
	d_rank_list_free(rl);
	return rc;
}

static void
demo_hlc(void)
{
	uint64_t a = d_hlc_get(), b = d_hlc_get();

	printf("  HLC: %" PRIu64 " < %" PRIu64 " (%s), %" PRIu64 " s since 2021-01-01\n", a, b,
	       a < b ? "monotonic" : "NOT monotonic", d_hlc2unixnsec(b) / 1000000000 - 1609459200);
}

static int
demo_fault_injection(void)
{
	char  path[] = "/tmp/oxidaos-demo-fi-XXXXXX";
	int   fd     = mkstemp(path);
	int   rc, fails = 0, i;
	FILE *f;

	if (fd < 0)
		return -DER_IO;
	f = fdopen(fd, "w");
	fprintf(f, "seed: 2021\nfault_config:\n  - id: 100\n    probability_x: 1\n"
		   "    probability_y: 4\n");
	fclose(f);
	setenv("D_FI_CONFIG", path, 1);
	rc = d_fault_inject_init();
	unlink(path);
	if (rc != 0)
		return rc;
	d_fault_inject_enable();
	for (i = 0; i < 1000; i++)
		fails += d_should_fail(d_fault_attr_lookup(100)) ? 1 : 0;
	printf("  fault injection: id 100 at 1/4 failed %d of 1000 calls (seed 2021)\n", fails);
	d_fault_inject_disable();
	return d_fault_inject_fini();
}

static void
print_cb(struct d_tm_context *ctx, struct d_tm_node_t *node, int level, char *path, int format,
	 int opt_fields, void *arg)
{
	uint64_t val = 0;

	(void)level;
	(void)format;
	(void)opt_fields;
	(void)arg;
	d_tm_get_counter(ctx, &val, node);
	printf("    %s/%s = %" PRIu64 "\n", path, d_tm_get_name(ctx, node), val);
}

static int
demo_telemetry(void)
{
	struct d_tm_node_t *reqs = NULL, *root;
	struct d_tm_context *ctx;
	int                  rc, i;

	rc = d_tm_init(4242, D_TM_METRIC_SIZE * 16, D_TM_SERIALIZATION);
	if (rc != 0)
		return rc;
	rc = d_tm_add_metric(&reqs, D_TM_COUNTER, "requests served", "reqs", "demo/io/requests");
	for (i = 0; rc == 0 && i < 12; i++)
		d_tm_inc_counter(reqs, 1);
	ctx = d_tm_open(4242);
	if (rc == 0 && ctx != NULL) {
		root = d_tm_get_root(ctx);
		printf("  telemetry segment 4242, read back by the consumer API:\n");
		d_tm_print_node(ctx, root, 2, "demo", D_TM_STANDARD, D_TM_INCLUDE_METADATA,
				stdout);
		d_tm_iterate(ctx, root, 2, D_TM_COUNTER, NULL, D_TM_STANDARD,
			     D_TM_INCLUDE_METADATA, print_cb, stdout);
		d_tm_close(&ctx);
	}
	d_tm_fini();
	return rc;
}

int
main(void)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0); /* interleave with the log lines on stderr */

	/* the log: DAOS's masks from the environment (D_LOG_MASK, DD_STDERR, D_LOG_FILE) */
	setenv("D_LOG_MASK", "INFO", 0);
	setenv("DD_STDERR", "INFO", 0);
	rc = d_log_init();
	if (rc != 0) {
		fprintf(stderr, "d_log_init: " DF_RC "\n", DP_RC(rc));
		return 1;
	}
	D_INFO("oxidaos gurt demo starting (this line comes through d_log)\n");
	D_DEBUG(DB_TRACE, "not shown: DB_TRACE is masked off\n");

	printf("libgurt through its C ABI:\n");
	rc = demo_hash();
	if (rc == 0)
		rc = demo_ranks();
	demo_hlc();
	if (rc == 0)
		rc = demo_fault_injection();
	if (rc == 0)
		rc = demo_telemetry();
	printf("done: " DF_RC "\n", DP_RC(rc));
	d_log_fini();
	return rc == 0 ? 0 : 1;
}
