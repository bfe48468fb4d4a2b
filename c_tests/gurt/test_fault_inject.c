/*
 * oxidaos: fault injection seen from C (D_FI_CONFIG files, d_should_fail, attributes, switches).
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Expected sequences marked "upstream" were measured with DAOS's own fault_inject.c for the same
 * file (glibc nrand48). The tests run in order in one process: the framework's state (the
 * d_fault_config_file flag, the seed, this thread's choice) carries from one to the next, as it
 * does in a program.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include <daos_errno.h>
#include <gurt/fault_inject.h>
#include <gurt/common.h>
#include <gurt/hash.h>
#include <gurt/heap.h>
#include <gurt/slab.h>
#include <gurt/telemetry_common.h>
#include <gurt/telemetry_consumer.h>

static char tmpdir[] = "/tmp/gurt_fi_XXXXXX";
static char cfg_path[256];

/* Writes `text` as the configuration file and points D_FI_CONFIG at it. */
static void
use_config(const char *text)
{
	FILE *f;

	snprintf(cfg_path, sizeof(cfg_path), "%s/fi.yaml", tmpdir);
	f = fopen(cfg_path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(setenv("D_FI_CONFIG", cfg_path, 1), 0);
}

static void
fini_all(void)
{
	while (d_fi_initialized())
		assert_int_equal(d_fault_inject_fini(), 0);
	assert_int_equal(d_fault_inject, 0);
}

/* The outcome of n evaluations, as a string of '0'/'1' (caller frees). */
static char *
run(struct d_fault_attr_t *attr, int n)
{
	char *s = calloc(n + 1, 1);
	int   i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[i] = d_should_fail(attr) ? '1' : '0';
	return s;
}

static void
assert_run(struct d_fault_attr_t *attr, const char *want)
{
	char *got = run(attr, strlen(want));

	assert_string_equal(got, want);
	free(got);
}

static int
count(struct d_fault_attr_t *attr, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += d_should_fail(attr);
	return k;
}

static void
test_no_config(void **state)
{
	struct d_fault_attr_t a = {0};

	(void)state;

	/* before init: nothing fails, nothing is set up */
	assert_false(d_fi_initialized());
	assert_false(d_should_fail(&a));
	assert_int_equal(d_fault_inject_fini(), 0);

	assert_int_equal(unsetenv("D_FI_CONFIG"), 0);
	assert_int_equal(d_fault_inject_init(), 0);
	assert_true(d_fi_initialized());
	assert_int_equal(d_fault_inject, 0);
	assert_int_equal(d_fault_config_file, 0);
	assert_false(d_fault_inject_is_enabled());
	assert_null(d_fault_attr_mem);
	assert_null(d_fault_attr_lookup(0));
	/* enabling needs a configuration file */
	assert_int_equal(d_fault_inject_enable(), -DER_NOSYS);
	assert_int_equal(d_fault_inject, 0);
	assert_int_equal(d_fault_inject_disable(), 0);
	assert_false(d_should_fail(NULL));
	assert_int_equal(d_fault_attr_err_code(0), -DER_INVAL);
	fini_all();

	/* an empty value is no file too */
	assert_int_equal(setenv("D_FI_CONFIG", "", 1), 0);
	assert_int_equal(d_fault_inject_init(), 0);
	assert_int_equal(d_fault_inject, 0);
	fini_all();
}

static void
test_unreadable_file(void **state)
{
	char missing[300];

	(void)state;

	snprintf(missing, sizeof(missing), "%s/no-such.yaml", tmpdir);
	assert_int_equal(setenv("D_FI_CONFIG", missing, 1), 0);
	assert_int_equal(d_fault_inject_init(), -DER_NONEXIST);
	assert_int_equal(d_fault_inject, 0);
	assert_int_equal(d_fault_config_file, 0);
	fini_all();

	/* a directory opens but is no YAML stream */
	assert_int_equal(setenv("D_FI_CONFIG", tmpdir, 1), 0);
	assert_int_equal(d_fault_inject_init(), -DER_MISC);
	assert_int_equal(d_fault_inject, 0);
	fini_all();
}

struct bad_case {
	const char *text;
	int         rc;
	uint32_t    kept_id; /* an entry read before the error, or UINT32_MAX */
};

static void
test_malformed(void **state)
{
	static const struct bad_case cases[] = {
	    {"fault_config:\n  - id: 1\n  - id: 2\n    interval: 3\n   bad: : [\n", -DER_MISC, 2},
	    {"fault_config:\n  - id: 1\n  - id: 2\n    bogus: 3\n", -DER_MISC, 1},
	    {"fault_config:\n  - probability_x: 3\n", -DER_MISC, UINT32_MAX},
	    {"fault_config:\n  - id: 1\n  - id: [1, 2]\n", -DER_MISC, 1},
	    {"fault_config:\n  - id: 7\n    probability_x: &a 5\n    probability_y: *a\n", -DER_MISC,
	     UINT32_MAX},
	    {"fault_config:\n  - id: 1\n    ? [a]\n    : 1\n", -DER_MISC, UINT32_MAX},
	    {"seed: 3\n\xff\xfe\n", -DER_MISC, UINT32_MAX},
	    {"fault_config: [{id: 1}\n", -DER_MISC, UINT32_MAX},
	    {"unknown: 1\nfault_config:\n  - id: 1\n", -DER_INVAL, UINT32_MAX},
	    {"fault_config:\n  - id: 4\nseeds: 1\n", -DER_INVAL, 4},
	    {"seed: [1]\n", -DER_INVAL, UINT32_MAX},
	    {"thread_default: {a: 1}\n", -DER_INVAL, UINT32_MAX},
	    {"just a scalar\n", -DER_INVAL, UINT32_MAX},
	};
	size_t i;

	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		use_config(cases[i].text);
		assert_int_equal(d_fault_inject_init(), cases[i].rc);
		assert_true(d_fi_initialized());
		assert_int_equal(d_fault_inject, 0);
		assert_int_equal(d_fault_config_file, 0);
		assert_null(d_fault_attr_mem);
		assert_int_equal(d_fault_inject_enable(), -DER_NOSYS);
		if (cases[i].kept_id != UINT32_MAX)
			assert_non_null(d_fault_attr_lookup(cases[i].kept_id));
		/* a failed init still holds its reference: a second one does not read again */
		assert_int_equal(d_fault_inject_init(), 0);
		assert_int_equal(d_fault_inject_fini(), 0);
		assert_true(d_fi_initialized());
		fini_all();
		assert_null(d_fault_attr_lookup(1));
	}
}

static const char valid_cfg[] = "seed: 123\n"
				"fault_config:\n"
				"  - id: 0\n"
				"    probability_x: 30\n"
				"    probability_y: 100\n"
				"  - id: 5\n"
				"    interval: 3\n"
				"    max_faults: 4\n"
				"    err_code: -1012\n"
				"    argument: hello world\n"
				"  - id: 7\n"
				"    probability_x: 1\n"
				"    probability_y: 3\n"
				"    interval: 2\n";

static void
test_valid_file(void **state)
{
	struct d_fault_attr_t *a0, *a5, *a7;

	(void)state;

	use_config(valid_cfg);
	assert_int_equal(d_fault_inject_init(), 0);
	assert_int_equal(d_fault_inject, 1);
	assert_int_equal(d_fault_config_file, 1);
	assert_true(d_fault_inject_is_enabled());

	a0 = d_fault_attr_lookup(0);
	a5 = d_fault_attr_lookup(5);
	a7 = d_fault_attr_lookup(7);
	assert_non_null(a0);
	assert_ptr_equal(d_fault_attr_mem, a0);
	assert_null(d_fault_attr_lookup(6));

	assert_int_equal(a0->fa_id, 0);
	assert_int_equal(a0->fa_probability_x, 30);
	assert_int_equal(a0->fa_probability_y, 100);
	assert_int_equal(a0->fa_interval, 1);
	assert_int_equal(a0->fa_max_faults, 0);
	assert_null(a0->fa_argument);
	/* the seed fills the low 32 bits of the 48-bit generator state */
	assert_int_equal(a0->fa_rand_state[0], 123);
	assert_int_equal(a0->fa_rand_state[1], 0);
	assert_int_equal(a0->fa_rand_state[2], 0);

	assert_int_equal(a5->fa_id, 5);
	assert_int_equal(a5->fa_interval, 3);
	assert_int_equal(a5->fa_max_faults, 4);
	assert_int_equal(a5->fa_err_code, -1012);
	assert_int_equal(a5->fa_probability_x, 1);
	assert_int_equal(a5->fa_probability_y, 1);
	assert_string_equal(a5->fa_argument, "hello world");
	assert_int_equal(d_fault_attr_err_code(5), -1012);
	assert_int_equal(d_fault_attr_err_code(0), 0);
	assert_int_equal(d_fault_attr_err_code(6), -DER_INVAL);

	/* upstream: exact outcomes for this file */
	assert_run(a0, "0110110000000010010100010000001000100100110011100000100001110000");
	assert_int_equal(a0->fa_num_faults, 20);
	assert_int_equal(a0->fa_rand_state[2], 0x5971);
	assert_run(a5, "00100100100100000000");
	assert_int_equal(a5->fa_num_hits, 12);
	assert_int_equal(a5->fa_num_faults, 4);
	assert_run(a7, "0000000001000100000000000001010100010001");
	assert_int_equal(a7->fa_num_hits, 40);
	assert_int_equal(a7->fa_num_faults, 7);

	/* the switches */
	assert_int_equal(d_fault_inject_disable(), 0);
	assert_false(d_fault_inject_is_enabled());
	assert_int_equal(d_fault_inject_enable(), 0);
	assert_true(d_fault_inject_is_enabled());

	/* reference counted */
	assert_int_equal(d_fault_inject_init(), 0);
	assert_int_equal(d_fault_inject_fini(), 0);
	assert_true(d_fi_initialized());
	assert_ptr_equal(d_fault_attr_lookup(5), a5);
	assert_int_equal(d_fault_inject_fini(), 0);
	assert_false(d_fi_initialized());
	assert_int_equal(d_fault_inject, 0);
	/* oxidaos clears it; upstream leaves it pointing at the freed record */
	assert_null(d_fault_attr_mem);
	assert_null(d_fault_attr_lookup(5));
	assert_int_equal(d_fault_inject_fini(), 0);
	/* the file was read once: enabling needs no new init, but nothing is set up */
	assert_int_equal(d_fault_config_file, 1);
}

static void
test_probability_statistics(void **state)
{
	struct d_fault_attr_t *a;
	int                    n = 100000, k;

	(void)state;

	use_config("seed: 2024\n"
		   "fault_config:\n"
		   "  - {id: 1, probability_x: 1, probability_y: 4}\n"
		   "  - {id: 2, probability_x: 999, probability_y: 1000}\n"
		   "  - {id: 3, probability_x: 0, probability_y: 1}\n"
		   "  - {id: 4, probability_x: 5, probability_y: 0}\n"
		   "  - {id: 5, probability_x: 7, probability_y: 7}\n"
		   "  - {id: 6, probability_x: 1, probability_y: 2, interval: 4}\n");
	assert_int_equal(d_fault_inject_init(), 0);

	/* 1/4: mean 25000, standard deviation ~137 */
	k = count(d_fault_attr_lookup(1), n);
	assert_in_range(k, 25000 - 700, 25000 + 700);
	/* 999/1000 */
	k = count(d_fault_attr_lookup(2), n);
	assert_in_range(k, 99900 - 60, 99900 + 60);
	/* x = 0 never fails and leaves the generator alone */
	a = d_fault_attr_lookup(3);
	assert_int_equal(count(a, 1000), 0);
	assert_int_equal(a->fa_rand_state[0], 2024);
	assert_int_equal(a->fa_rand_state[2], 0);
	/* y = 0 always fails, without a draw */
	a = d_fault_attr_lookup(4);
	assert_int_equal(count(a, 1000), 1000);
	assert_int_equal(a->fa_rand_state[0], 2024);
	/* x >= y always fails */
	assert_int_equal(count(d_fault_attr_lookup(5), 1000), 1000);
	/* interval 4 with probability 1/2: only every 4th hit can fail, half of them do */
	a = d_fault_attr_lookup(6);
	k = 0;
	for (int i = 1; i <= n; i++) {
		bool f = d_should_fail(a);

		if (i % 4 != 0)
			assert_false(f);
		k += f;
	}
	assert_int_equal(a->fa_num_hits, n);
	assert_in_range(k, 12500 - 550, 12500 + 550);
	assert_int_equal(a->fa_num_faults, k);
	fini_all();
}

static void
test_interval_and_max_faults(void **state)
{
	struct d_fault_attr_t *a;
	struct d_fault_attr_t  in = {0};
	int                    i;

	(void)state;

	use_config("fault_config:\n"
		   "  - id: 10\n"
		   "    interval: 5\n"
		   "  - id: 11\n"
		   "    max_faults: 3\n");
	assert_int_equal(d_fault_inject_init(), 0);

	a = d_fault_attr_lookup(10);
	for (i = 1; i <= 50; i++)
		assert_int_equal(d_should_fail(a), i % 5 == 0);
	assert_int_equal(a->fa_num_hits, 50);
	assert_int_equal(a->fa_num_faults, 10);

	a = d_fault_attr_lookup(11);
	assert_run(a, "1110000000");
	assert_int_equal(a->fa_num_faults, 3);
	/* resetting num_faults through d_fault_attr_set re-arms it (same record) */
	in.fa_probability_x = 1;
	in.fa_probability_y = 1;
	in.fa_interval      = 1;
	in.fa_max_faults    = 3;
	in.fa_num_faults    = 1;
	assert_int_equal(d_fault_attr_set(11, in), 0);
	assert_ptr_equal(d_fault_attr_lookup(11), a);
	assert_run(a, "1100");
	fini_all();
}

static void *
thread_outcome(void *arg)
{
	int choice = *(int *)arg;

	if (choice >= 0)
		d_fault_inject_thread_enable(choice);
	return (void *)(intptr_t)d_should_fail(d_fault_attr_lookup(20));
}

static bool
in_new_thread(int choice)
{
	pthread_t t;
	void     *res;

	assert_int_equal(pthread_create(&t, NULL, thread_outcome, &choice), 0);
	assert_int_equal(pthread_join(t, &res), 0);
	return (intptr_t)res != 0;
}

static void
test_thread_enable(void **state)
{
	struct d_fault_attr_t *a;

	(void)state;

	use_config("thread_default: false\nfault_config:\n  - id: 20\n");
	assert_int_equal(d_fault_inject_init(), 0);
	a = d_fault_attr_lookup(20);

	/* this thread made its choice earlier (or none): choose explicitly */
	d_fault_inject_thread_enable(false);
	assert_false(d_should_fail(a));
	d_fault_inject_thread_enable(true);
	assert_true(d_should_fail(a));
	/* threads without a choice follow the default */
	assert_false(in_new_thread(-1));
	assert_true(in_new_thread(1));
	d_fault_inject_thread_default_enable(true);
	assert_true(in_new_thread(-1));
	assert_false(in_new_thread(0));
	assert_int_equal(a->fa_num_faults, 3);
	fini_all();

	/* every first init resets the default to on */
	use_config("fault_config:\n  - id: 20\n");
	d_fault_inject_thread_default_enable(false);
	assert_int_equal(d_fault_inject_init(), 0);
	assert_true(in_new_thread(-1));
	fini_all();
}

struct hammer {
	struct d_fault_attr_t *attr;
	int                    faults;
};

static void *
hammer(void *arg)
{
	struct hammer *h = arg;

	d_fault_inject_thread_enable(true);
	h->faults = count(h->attr, 20000);
	return NULL;
}

static void
test_concurrent_evaluations(void **state)
{
	struct hammer h[4];
	pthread_t     t[4];
	int           i, total = 0;

	(void)state;

	/* the attribute's lock makes max_faults and the counters exact under contention */
	use_config("fault_config:\n"
		   "  - {id: 30, probability_x: 1, probability_y: 3, max_faults: 5000}\n"
		   "  - {id: 31, interval: 7}\n");
	assert_int_equal(d_fault_inject_init(), 0);
	for (i = 0; i < 4; i++) {
		h[i].attr = d_fault_attr_lookup(30 + i % 2);
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	total = h[0].faults + h[2].faults;
	assert_int_equal(total, 5000);
	assert_int_equal(d_fault_attr_lookup(30)->fa_num_faults, 5000);
	total = h[1].faults + h[3].faults;
	assert_int_equal(d_fault_attr_lookup(31)->fa_num_hits, 40000);
	assert_int_equal(total, 40000 / 7);
	assert_int_equal(d_fault_attr_lookup(31)->fa_num_faults, 40000 / 7);
	fini_all();
}

static void
test_attr_set_lookup(void **state)
{
	struct d_fault_attr_t *a;
	struct d_fault_attr_t  in = {0};
	char                  *arg;
	char                   big[5000];
	int                    i;

	(void)state;

	/* no file: attributes can still be set and looked up */
	assert_int_equal(unsetenv("D_FI_CONFIG"), 0);
	assert_int_equal(d_fault_inject_init(), 0);
	assert_null(d_fault_attr_lookup(42));

	arg = strdup("payload");
	in.fa_probability_x = 50;
	in.fa_probability_y = 100;
	in.fa_interval      = 2;
	in.fa_max_faults    = 9;
	in.fa_err_code      = -DER_IO;
	in.fa_argument      = arg;
	in.fa_num_hits      = 77; /* not taken */
	assert_int_equal(d_fault_attr_set(42, in), 0);
	free(arg); /* the attribute keeps its own copy */

	a = d_fault_attr_lookup(42);
	assert_non_null(a);
	assert_int_equal(a->fa_id, 42);
	assert_int_equal(a->fa_probability_x, 50);
	assert_int_equal(a->fa_probability_y, 100);
	assert_int_equal(a->fa_interval, 2);
	assert_int_equal(a->fa_max_faults, 9);
	assert_int_equal(a->fa_num_hits, 0);
	assert_string_equal(a->fa_argument, "payload");
	assert_int_equal(d_fault_attr_err_code(42), -DER_IO);

	/* reconfiguring keeps the record and the hit counter, replaces the rest */
	i = count(a, 10);
	assert_int_equal(a->fa_num_faults, i);
	assert_int_equal(a->fa_num_hits, 10);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	in.fa_argument       = big;
	in.fa_err_code       = 5;
	assert_int_equal(d_fault_attr_set(42, in), 0);
	assert_ptr_equal(d_fault_attr_lookup(42), a);
	assert_int_equal(a->fa_num_hits, 10);
	assert_int_equal(a->fa_num_faults, 0);
	assert_int_equal(strlen(a->fa_argument), 4096); /* cut at upstream's limit */
	assert_int_equal(d_fault_attr_err_code(42), 5);
	in.fa_argument = NULL;
	assert_int_equal(d_fault_attr_set(42, in), 0);
	assert_null(a->fa_argument);
	fini_all();
}

static void
test_reseed_on_set(void **state)
{
	struct d_fault_attr_t  in = {0};
	struct d_fault_attr_t *a;

	(void)state;

	/* upstream: after 10 evaluations, re-setting id 0 (which is itself the memory attribute
	 * its allocation consults: one more draw) reseeds the low words and keeps the high one */
	use_config(valid_cfg);
	assert_int_equal(d_fault_inject_init(), 0);
	a = d_fault_attr_mem;
	assert_run(a, "0110110000");
	in.fa_probability_x = 50;
	in.fa_probability_y = 100;
	in.fa_interval      = 1;
	assert_int_equal(d_fault_attr_set(0, in), 0);
	assert_int_equal(a->fa_rand_state[0], 123);
	assert_int_equal(a->fa_rand_state[1], 0);
	assert_int_equal(a->fa_rand_state[2], 0x7774);
	assert_run(a, "111111111011110000100110111001");
	fini_all();
}

/* What upstream's D_ALLOC family does before allocating (D_SHOULD_FAIL(d_fault_attr_mem)). */
static void *
alloc_like_d_alloc(size_t size)
{
	if (d_fault_inject && d_should_fail(d_fault_attr_mem))
		return NULL;
	return calloc(1, size);
}

static void
test_memory_attribute(void **state)
{
	struct d_fault_attr_t in = {0};
	void                 *p;
	int                   i, failed = 0;

	(void)state;

	use_config("seed: 7\n"
		   "fault_config:\n"
		   "  - id: 0\n"
		   "    max_faults: 2\n");
	assert_int_equal(d_fault_inject_init(), 0);
	assert_non_null(d_fault_attr_mem);
	assert_int_equal(d_fault_attr_mem->fa_id, 0);

	for (i = 0; i < 5; i++) {
		p = alloc_like_d_alloc(16);
		if (p == NULL)
			failed++;
		assert_true(p == NULL || i >= 2);
		free(p);
	}
	assert_int_equal(failed, 2);
	assert_int_equal(d_fault_attr_mem->fa_num_faults, 2);

	/* the library's own allocations are subject to it too: re-arm it and set an attribute */
	in.fa_probability_x = 1;
	in.fa_probability_y = 1;
	in.fa_interval      = 1;
	in.fa_max_faults    = 1;
	assert_int_equal(d_fault_attr_set(0, in), 0);
	assert_int_equal(d_fault_attr_set(3, in), -DER_NOMEM);
	assert_null(d_fault_attr_lookup(3));
	assert_int_equal(d_fault_attr_set(3, in), 0);
	assert_non_null(d_fault_attr_lookup(3));

	/* off: the attribute is not consulted */
	in.fa_max_faults = 0;
	assert_int_equal(d_fault_attr_set(0, in), 0);
	assert_int_equal(d_fault_inject_disable(), 0);
	p = alloc_like_d_alloc(16);
	assert_non_null(p);
	free(p);
	assert_int_equal(d_fault_attr_mem->fa_num_faults, 0);
	assert_int_equal(d_fault_inject_enable(), 0);
	assert_null(alloc_like_d_alloc(16));
	fini_all();
	/* after teardown the macro's test is false again (oxidaos also clears the pointer, which
	 * upstream leaves dangling) */
	assert_null(d_fault_attr_mem);
	p = alloc_like_d_alloc(16);
	assert_non_null(p);
	free(p);
}

static void
test_values_as_c_reads_them(void **state)
{
	struct d_fault_attr_t *a;

	(void)state;

	/* upstream: strtoul/strtol with base 0, truncated to the field; prefix-matched keywords */
	use_config("fault_conf:\n"
		   "  - id: 0x10\n"
		   "    probability_x: 010\n"
		   "    probability_y: -1\n"
		   "    interval: 99999999999999999999\n"
		   "    max_faults: -2\n"
		   "    err_code: 0x7fffffffff\n"
		   "  - id: \" 12abc\"\n"
		   "    probability_x: abc\n"
		   "see: 4294967301\n"
		   "thread_def: TR\n"
		   "fault_config:\n"
		   "  - id: 13\n");
	assert_int_equal(d_fault_inject_init(), 0);
	a = d_fault_attr_lookup(16);
	assert_non_null(a);
	assert_int_equal(a->fa_probability_x, 8);
	assert_int_equal(a->fa_probability_y, UINT32_MAX);
	assert_int_equal(a->fa_interval, UINT32_MAX);
	assert_true(a->fa_max_faults == UINT64_MAX - 1);
	assert_int_equal(a->fa_err_code, -1);
	a = d_fault_attr_lookup(12);
	assert_non_null(a);
	assert_int_equal(a->fa_probability_x, 0);
	a = d_fault_attr_lookup(13);
	assert_int_equal(a->fa_rand_state[0], 5); /* seed 2^32 + 5, truncated */
	assert_int_equal(a->fa_rand_state[1], 0);
	fini_all();
}

/* gurt's own D_ALLOC-family allocations consult fault id 0 (d_fault_attr_mem), as upstream's
 * do: with id 0 always failing and injection on, every function that allocates returns its
 * out-of-memory result; with injection off again they all succeed. */
static bool
heap_cmp(struct d_binheap_node *a, struct d_binheap_node *b)
{
	return a < b;
}

static bool
fi_key_cmp(struct d_hash_table *htable, d_list_t *link, const void *key, unsigned int ksize)
{
	(void)htable;
	(void)link;
	(void)key;
	(void)ksize;
	return false;
}

static d_hash_table_ops_t fi_hash_ops = {.hop_key_cmp = fi_key_cmp};

static void
test_gurt_allocations_fail(void **state)
{
	struct d_binheap_ops   hops = {.hop_compare = heap_cmp};
	struct d_hash_table   *ht   = (void *)0x1;
	struct d_binheap      *bh   = (void *)0x1;
	struct d_slab          slab;
	struct d_slab_reg      reg  = {.sr_name = "fi", .sr_size = 64, .sr_max_desc = 4};
	struct d_slab_type    *st   = NULL;
	d_rank_list_t         *src, *dup = NULL;
	struct d_tm_nodeList_t *nl  = NULL;
	struct d_tm_node_t      node = {0};
	d_rank_t               ranks[3] = {3, 1, 2};
	struct d_fault_attr_t *mem;
	uint64_t               hits;

	(void)state;
	use_config("fault_config:\n"
		   "  - id: 0\n"
		   "    probability_x: 100\n"
		   "    probability_y: 100\n");
	assert_int_equal(d_fault_inject_init(), 0);
	/* a valid file turns injection on; off while the test sets up */
	assert_int_equal(d_fault_inject, 1);
	assert_int_equal(d_fault_inject_disable(), 0);
	src = d_rank_list_alloc(3);
	assert_non_null(src);
	memcpy(src->rl_ranks, ranks, sizeof(ranks));
	assert_int_equal(d_slab_init(&slab, NULL), 0);
	mem = d_fault_attr_mem;
	assert_non_null(mem);
	assert_int_equal(d_fault_inject_enable(), 0);
	hits = mem->fa_num_faults;

	assert_int_equal(d_hash_table_create(0, 4, NULL, &fi_hash_ops, &ht), -DER_NOMEM);
	assert_int_equal(d_binheap_create(0, 0, NULL, &hops, &bh), -DER_NOMEM);
	assert_null(d_rank_list_alloc(4));
	assert_int_equal(d_rank_list_dup(&dup, src), -DER_NOMEM);
	assert_null(dup);
	assert_int_equal(d_slab_register(&slab, &reg, NULL, &st), -DER_NOMEM);
	assert_null(st);
	assert_int_equal(d_tm_list_add_node(&node, &nl), -DER_NOMEM);
	assert_null(nl);
	/* each failed at its first allocation: one injected fault apiece */
	assert_int_equal(mem->fa_num_faults, hits + 6);

	assert_int_equal(d_fault_inject_disable(), 0);
	assert_int_equal(d_hash_table_create(0, 4, NULL, &fi_hash_ops, &ht), 0);
	assert_int_equal(d_hash_table_destroy(ht, false), 0);
	assert_int_equal(d_binheap_create(0, 0, NULL, &hops, &bh), 0);
	d_binheap_destroy(bh);
	assert_int_equal(d_rank_list_dup(&dup, src), 0);
	assert_int_equal(dup->rl_nr, 3);
	d_rank_list_free(dup);
	assert_int_equal(d_slab_register(&slab, &reg, NULL, &st), 0);
	assert_non_null(st);
	assert_int_equal(d_tm_list_add_node(&node, &nl), 0);
	assert_non_null(nl);
	assert_ptr_equal(nl->dtnl_node, &node);
	d_tm_list_free(nl);
	/* injection off: nothing more was failed */
	assert_int_equal(mem->fa_num_faults, hits + 6);

	d_slab_destroy(&slab);
	d_rank_list_free(src);
	fini_all();
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(cfg_path);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_config),
	    cmocka_unit_test(test_unreadable_file),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_valid_file),
	    cmocka_unit_test(test_probability_statistics),
	    cmocka_unit_test(test_interval_and_max_faults),
	    cmocka_unit_test(test_thread_enable),
	    cmocka_unit_test(test_concurrent_evaluations),
	    cmocka_unit_test(test_attr_set_lookup),
	    cmocka_unit_test(test_reseed_on_set),
	    cmocka_unit_test(test_memory_attribute),
	    cmocka_unit_test(test_values_as_c_reads_them),
	    cmocka_unit_test(test_gurt_allocations_fail),
	};

	return cmocka_run_group_tests_name("gurt_fault_inject", tests, setup, teardown);
}
