/*
 * crt_init_opt / crt_finalize / contexts / progress through libcart's exports: the settings
 * taken from crt_init_options_t and the environment (defaults, overrides and errors as
 * upstream's crt_init.c), the reference count, context indexes, URIs and ports, timeouts,
 * quotas, the context limit, progress with its timeout, conditions and callbacks, interfaces,
 * protocol info and event callbacks. Everything on loopback (ofi+tcp on lo).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <cart/api.h>

static void
client_env(void)
{
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	unsetenv("D_PORT");
	unsetenv("CRT_TIMEOUT");
	unsetenv("CRT_CTX_NUM");
	unsetenv("D_QUOTA_RPCS");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_init_errors(void **state)
{
	char long_name[80];

	(void)state;
	client_env();
	assert_int_equal(crt_finalize(), -DER_UNINIT);

	unsetenv("D_PROVIDER");
	assert_int_equal(crt_init(NULL, 0), -DER_INVAL);
	setenv("D_PROVIDER", "ofi+nothing", 1);
	assert_int_equal(crt_init(NULL, 0), -DER_NONEXIST);
	setenv("D_PROVIDER", "ofi+tcp,ofi+shm", 1);
	assert_int_equal(crt_init(NULL, 0), -DER_INVAL); /* several providers: servers only */
	client_env();

	assert_int_equal(crt_init(CRT_DEFAULT_GRPID, 0), -DER_INVAL);
	assert_int_equal(crt_init("bad;name", 0), -DER_INVAL);
	memset(long_name, 'g', sizeof(long_name));
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(crt_init(long_name, 0), -DER_INVAL);
	/* nothing was initialised by the failures */
	assert_int_equal(crt_finalize(), -DER_UNINIT);
}

static void
test_refcount(void **state)
{
	crt_context_t ctx;

	(void)state;
	client_env();
	assert_int_equal(crt_init("refgrp", 0), 0);
	assert_int_equal(crt_init("refgrp", 0), 0);
	/* a client cannot become a server */
	assert_int_equal(crt_init("refgrp", CRT_FLAG_BIT_SERVER), -DER_INVAL);
	assert_int_equal(crt_context_create(&ctx), 0);
	assert_int_equal(crt_finalize(), 0); /* drops one of two references */
	assert_int_equal(crt_finalize(), -DER_BUSY); /* the last one, with a context alive */
	assert_int_equal(crt_context_destroy(ctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	assert_int_equal(crt_finalize(), -DER_UNINIT);
	assert_int_equal(crt_context_create(&ctx), -DER_UNINIT);
}

static void
test_contexts(void **state)
{
	crt_context_t ctx[3];
	char         *uri0 = NULL, *uri1 = NULL, *self = NULL;
	int           idx, num;
	uint32_t      t;
	int           v;

	(void)state;
	client_env();
	setenv("CRT_TIMEOUT", "7", 1);
	assert_int_equal(crt_init(NULL, 0), 0);
	assert_int_equal(crt_context_create(NULL), -DER_INVAL);
	assert_int_equal(crt_context_create(&ctx[0]), 0);
	assert_int_equal(crt_context_create(&ctx[1]), 0);
	assert_int_equal(crt_context_idx(ctx[0], &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(crt_context_idx(ctx[1], &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(crt_context_idx(NULL, &idx), -DER_INVAL);
	assert_int_equal(crt_context_idx(ctx[0], NULL), -DER_INVAL);
	assert_int_equal(crt_context_num(&num), 0);
	assert_int_equal(num, 2);
	assert_int_equal(crt_context_num(NULL), -DER_INVAL);

	assert_int_equal(crt_context_uri_get(ctx[0], &uri0), 0);
	assert_int_equal(crt_context_uri_get(ctx[1], &uri1), 0);
	assert_non_null(strstr(uri0, "ofi+tcp://127.0.0.1:"));
	assert_string_not_equal(uri0, uri1);
	assert_int_equal(crt_self_uri_get(1, &self), 0);
	assert_string_equal(self, uri1);
	assert_int_equal(crt_self_uri_get(5, &self), -DER_NONEXIST);
	assert_int_equal(crt_self_uri_get(0, NULL), -DER_INVAL);
	assert_int_equal(crt_context_uri_get(NULL, &uri0), -DER_INVAL);
	free(uri0);
	free(uri1);
	free(self);

	/* timeouts: CRT_TIMEOUT, then the context's own */
	assert_int_equal(crt_context_get_timeout(ctx[0], &t), 0);
	assert_int_equal(t, 7);
	assert_int_equal(crt_context_set_timeout(ctx[0], 0), -DER_INVAL);
	assert_int_equal(crt_context_set_timeout(NULL, 3), -DER_INVAL);
	assert_int_equal(crt_context_set_timeout(ctx[0], 3), 0);
	assert_int_equal(crt_context_get_timeout(ctx[0], &t), 0);
	assert_int_equal(t, 3);
	assert_int_equal(crt_context_get_timeout(ctx[1], &t), 0);
	assert_int_equal(t, 7);
	assert_int_equal(crt_context_get_timeout(NULL, &t), -DER_INVAL);

	/* quotas: clients default to 64 RPCs and 64 bulks */
	assert_int_equal(crt_context_quota_limit_get(ctx[0], CRT_QUOTA_RPCS, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(crt_context_quota_limit_get(ctx[0], CRT_QUOTA_BULKS, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(crt_context_quota_limit_set(ctx[0], CRT_QUOTA_RPCS, 10), 0);
	assert_int_equal(crt_context_quota_limit_get(ctx[0], CRT_QUOTA_RPCS, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(crt_context_quota_limit_set(ctx[0], CRT_QUOTA_COUNT, 1), -DER_INVAL);
	assert_int_equal(crt_context_quota_limit_get(ctx[0], (crt_quota_type_t)-1, &v), -DER_INVAL);
	assert_int_equal(crt_context_quota_limit_get(ctx[0], CRT_QUOTA_RPCS, NULL), -DER_INVAL);
	assert_int_equal(crt_context_quota_limit_set(NULL, CRT_QUOTA_RPCS, 1), -DER_INVAL);

	/* interfaces: D_INTERFACE=lo is index 0 */
	assert_int_equal(crt_num_ifaces_get(), 1);
	assert_int_equal(crt_iface_name2idx("lo", &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(crt_iface_name2idx("nope0", &idx), -DER_INVAL);
	assert_int_equal(crt_context_create_on_iface("nope0", &ctx[2]), -DER_INVAL);
	assert_int_equal(crt_context_create_on_iface_idx(1, &ctx[2]), -DER_INVAL);
	assert_int_equal(crt_context_create_on_iface("lo", &ctx[2]), 0);
	assert_int_equal(crt_context_idx(ctx[2], &idx), 0);
	assert_int_equal(idx, 2);

	assert_true(crt_context_ep_empty(ctx[0]));
	assert_int_equal(crt_context_flush(ctx[0], 1), 0);
	assert_int_equal(crt_context_register_rpc_task(ctx[0], NULL, NULL, NULL), -DER_INVAL);

	/* a freed index is taken again */
	assert_int_equal(crt_context_destroy(ctx[1], 0), 0);
	assert_int_equal(crt_self_uri_get(1, &self), -DER_NONEXIST);
	assert_int_equal(crt_context_create(&ctx[1]), 0);
	assert_int_equal(crt_context_idx(ctx[1], &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(crt_context_destroy(NULL, 0), -DER_INVAL);

	for (idx = 0; idx < 3; idx++)
		assert_int_equal(crt_context_destroy(ctx[idx], 0), 0);
	assert_int_equal(crt_context_num(&num), 0);
	assert_int_equal(num, 0);
	assert_int_equal(crt_finalize(), 0);
}

static int cond_calls;

static int
cond_after_three(void *arg)
{
	(void)arg;
	return ++cond_calls >= 3 ? 1 : 0;
}

static int
cond_error(void *arg)
{
	return *(int *)arg;
}

static int
cond_never(void *arg)
{
	(void)arg;
	cond_calls++;
	return 0;
}

static int     prog_calls;
static int64_t prog_seen;

static int64_t
prog_cb(crt_context_t ctx, int64_t timeout, void *arg)
{
	assert_non_null(ctx);
	assert_ptr_equal(arg, &prog_calls);
	prog_calls++;
	prog_seen = timeout;
	return 0; /* turn every wait into a poll */
}

static void
test_progress(void **state)
{
	crt_context_t ctx;
	double        t0;
	int           err = -DER_MISC;

	(void)state;
	client_env();
	assert_int_equal(crt_init(NULL, 0), 0);
	assert_int_equal(crt_context_create(&ctx), 0);

	assert_int_equal(crt_progress(NULL, 0), -DER_INVAL);
	assert_int_equal(crt_progress(ctx, 0), -DER_TIMEDOUT);
	t0 = now_s();
	assert_int_equal(crt_progress(ctx, 50 * 1000), -DER_TIMEDOUT);
	assert_true(now_s() - t0 >= 0.045);
	assert_true(now_s() - t0 < 2.0);

	cond_calls = 0;
	assert_int_equal(crt_progress_cond(ctx, -1, cond_after_three, NULL), 0);
	assert_int_equal(cond_calls, 3);
	assert_int_equal(crt_progress_cond(ctx, 1000, cond_error, &err), -DER_MISC);
	assert_int_equal(crt_progress_cond(ctx, 1000, NULL, NULL), -DER_INVAL);
	assert_int_equal(crt_progress_cond(NULL, 1000, cond_never, NULL), -DER_INVAL);
	cond_calls = 0;
	t0         = now_s();
	assert_int_equal(crt_progress_cond(ctx, 30 * 1000, cond_never, NULL), -DER_TIMEDOUT);
	assert_true(now_s() - t0 >= 0.025);
	assert_true(cond_calls >= 2);
	cond_calls = 0;
	assert_int_equal(crt_progress_cond(ctx, 0, cond_never, NULL), -DER_TIMEDOUT);
	assert_int_equal(cond_calls, 2); /* once before progress, once after */

	/* progress callbacks: seen with the caller's timeout, and may change it */
	assert_int_equal(crt_register_progress_cb(prog_cb, 200, NULL), -DER_INVAL);
	assert_int_equal(crt_register_progress_cb(prog_cb, 7, NULL), -DER_NONEXIST);
	assert_int_equal(crt_register_progress_cb(prog_cb, 0, &prog_calls), 0);
	t0 = now_s();
	assert_int_equal(crt_progress(ctx, 5 * 1000 * 1000), -DER_TIMEDOUT);
	assert_true(now_s() - t0 < 1.0); /* the callback made it a poll */
	assert_int_equal(prog_calls, 1);
	assert_int_equal(prog_seen, 5 * 1000 * 1000);
	assert_int_equal(crt_unregister_progress_cb(prog_cb, 0, &prog_calls), 0);
	assert_int_equal(crt_progress(ctx, 0), -DER_TIMEDOUT);
	assert_int_equal(prog_calls, 1);

	assert_int_equal(crt_context_destroy(ctx, 1), 0);
	assert_int_equal(crt_finalize(), 0);
}

static void
test_options(void **state)
{
	crt_init_options_t opt = {0};
	crt_context_t      ctx[19];
	uint32_t           t;
	int                i, v;

	(void)state;
	client_env();
	setenv("D_PROVIDER", "ofi+bogus", 1); /* the option wins */
	setenv("CRT_TIMEOUT", "9", 1);
	setenv("CRT_CTX_NUM", "100", 1);
	opt.cio_provider    = "ofi+tcp";
	opt.cio_interface   = "lo";
	opt.cio_crt_timeout = 5;
	opt.cio_ctx_max_num = 4; /* raised to upstream's minimum of 18 */
	assert_int_equal(crt_init_opt(NULL, 0, &opt), 0);
	assert_int_equal(crt_context_create(&ctx[0]), 0);
	assert_int_equal(crt_context_get_timeout(ctx[0], &t), 0);
	assert_int_equal(t, 5);
	for (i = 1; i < 18; i++)
		assert_int_equal(crt_context_create(&ctx[i]), 0);
	assert_int_equal(crt_context_create(&ctx[18]), -DER_AGAIN);
	for (i = 0; i < 18; i++)
		assert_int_equal(crt_context_destroy(ctx[i], 0), 0);
	assert_int_equal(crt_finalize(), 0);

	/* no option: CRT_TIMEOUT and D_QUOTA_RPCS from the environment, over the maximum */
	client_env();
	setenv("CRT_TIMEOUT", "100000", 1);
	setenv("D_QUOTA_RPCS", "3", 1);
	assert_int_equal(crt_init(NULL, 0), 0);
	assert_int_equal(crt_context_create(&ctx[0]), 0);
	assert_int_equal(crt_context_get_timeout(ctx[0], &t), 0);
	assert_int_equal(t, 3600);
	assert_int_equal(crt_context_quota_limit_get(ctx[0], CRT_QUOTA_RPCS, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(crt_context_destroy(ctx[0], 0), 0);
	assert_int_equal(crt_finalize(), 0);
	client_env();
}

static void
test_server_ports(void **state)
{
	crt_context_t ctx[2];
	char         *uri;
	char          want[64];
	int           base = 20000 + (getpid() % 20000);
	char          port[16];
	int           v;

	(void)state;
	client_env();
	snprintf(port, sizeof(port), "%d", base);
	setenv("D_PORT", port, 1);
	assert_int_equal(crt_init("srv_grp", CRT_FLAG_BIT_SERVER), 0);
	assert_int_equal(crt_context_create(&ctx[0]), 0);
	assert_int_equal(crt_context_create(&ctx[1]), 0);
	assert_int_equal(crt_context_uri_get(ctx[1], &uri), 0);
	snprintf(want, sizeof(want), "ofi+tcp://127.0.0.1:%d", base + 1);
	assert_string_equal(uri, want);
	free(uri);
	/* servers: no per-interface contexts, no quotas by default */
	assert_int_equal(crt_context_create_on_iface_idx(0, &ctx[0]), -DER_NOSYS);
	assert_int_equal(crt_context_quota_limit_get(ctx[0], CRT_QUOTA_RPCS, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(crt_context_destroy(ctx[0], 0), 0);
	assert_int_equal(crt_context_destroy(ctx[1], 0), 0);
	assert_int_equal(crt_finalize(), 0);
	unsetenv("D_PORT");
}

static void
test_protocol_info(void **state)
{
	struct crt_protocol_info *list = NULL, *p;
	int                       lo_tcp = 0, n = 0;

	(void)state;
	assert_int_equal(crt_protocol_info_get(NULL, NULL), -DER_INVAL);
	assert_int_equal(crt_protocol_info_get(NULL, &list), 0);
	for (p = list; p != NULL; p = p->next) {
		n++;
		assert_string_equal(p->class_name, "ofi");
		if (strcmp(p->protocol_name, "tcp") == 0 && strcmp(p->device_name, "lo") == 0)
			lo_tcp++;
	}
	assert_int_equal(lo_tcp, 1);
	crt_protocol_info_free(list);
	assert_int_equal(crt_protocol_info_get("ofi+tcp", &list), 0);
	for (p = list; p != NULL; p = p->next)
		assert_string_equal(p->protocol_name, "tcp");
	crt_protocol_info_free(list);
	assert_int_equal(crt_protocol_info_get("ofi+shm", &list), 0);
	assert_string_equal(list->device_name, "shm");
	assert_null(list->next);
	crt_protocol_info_free(list);
	assert_int_equal(crt_protocol_info_get("na+sm", &list), -DER_PROTO);
	crt_protocol_info_free(NULL);
	(void)n;
}

static void
ev_cb(d_rank_t rank, uint64_t inc, enum crt_event_source src, enum crt_event_type type, void *arg)
{
	(void)rank;
	(void)inc;
	(void)src;
	(void)type;
	(void)arg;
}

static void
test_event_cbs(void **state)
{
	int a, b;

	(void)state;
	assert_int_equal(crt_register_event_cb(ev_cb, &a), 0);
	assert_int_equal(crt_register_event_cb(ev_cb, &a), -DER_EXIST);
	assert_int_equal(crt_register_event_cb(ev_cb, &b), 0);
	assert_int_equal(crt_unregister_event_cb(ev_cb, &a), 0);
	assert_int_equal(crt_unregister_event_cb(ev_cb, &a), -DER_NONEXIST);
	assert_int_equal(crt_unregister_event_cb(ev_cb, &b), 0);
}

static void
hdlr(crt_rpc_t *rpc)
{
	(void)rpc;
}

static struct crt_req_format fmt = {.crf_proc_in = NULL, .crf_proc_out = NULL,
				     .crf_size_in = 16, .crf_size_out = 8};

static void
test_proto_register(void **state)
{
	struct crt_proto_rpc_format prf[2] = {
	    {.prf_req_fmt = &fmt, .prf_hdlr = hdlr, .prf_co_ops = NULL, .prf_flags = 0},
	    {.prf_req_fmt = NULL, .prf_hdlr = NULL, .prf_co_ops = NULL,
	     .prf_flags = CRT_RPC_FEAT_NO_REPLY},
	};
	struct crt_proto_format cpf = {
	    .cpf_name = "test", .cpf_ver = 2, .cpf_count = 2, .cpf_prf = prf, .cpf_base = 0x33000000};

	(void)state;
	client_env();
	assert_int_equal(crt_proto_register(&cpf), -DER_UNINIT);
	assert_int_equal(crt_init(NULL, 0), 0);
	assert_int_equal(crt_proto_register(NULL), -DER_INVAL);
	assert_int_equal(crt_proto_register(&cpf), 0);
	assert_int_equal(crt_proto_register(&cpf), -DER_EXIST);
	cpf.cpf_ver = 3; /* another version of the same protocol */
	assert_int_equal(crt_proto_register(&cpf), 0);
	cpf.cpf_ver = 0x100;
	assert_int_equal(crt_proto_register(&cpf), -DER_INVAL);
	cpf.cpf_ver   = 1;
	cpf.cpf_count = 0;
	assert_int_equal(crt_proto_register(&cpf), -DER_INVAL);
	cpf.cpf_count = 2;
	cpf.cpf_prf   = NULL;
	assert_int_equal(crt_proto_register(&cpf), -DER_INVAL);
	cpf.cpf_prf  = prf;
	cpf.cpf_base = 0x33000001; /* bits below the base byte */
	assert_int_equal(crt_proto_register(&cpf), -DER_INVAL);
	cpf.cpf_base = 0xFF000000; /* cart's own */
	assert_int_equal(crt_proto_register(&cpf), -DER_INVAL);
	cpf.cpf_base = 0;
	assert_int_equal(crt_proto_register(&cpf), -DER_INVAL);
	assert_int_equal(CRT_PROTO_OPC(0x33000000, 2, 1), 0x33020001);
	assert_int_equal(crt_finalize(), 0);
	/* the map goes with the last reference */
	assert_int_equal(crt_init(NULL, 0), 0);
	cpf.cpf_base = 0x33000000;
	cpf.cpf_ver  = 2;
	assert_int_equal(crt_proto_register(&cpf), 0);
	assert_int_equal(crt_finalize(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_errors), cmocka_unit_test(test_refcount),
	    cmocka_unit_test(test_contexts),    cmocka_unit_test(test_progress),
	    cmocka_unit_test(test_options),     cmocka_unit_test(test_server_ports),
	    cmocka_unit_test(test_protocol_info), cmocka_unit_test(test_event_cbs),
	    cmocka_unit_test(test_proto_register),
	};

	return cmocka_run_group_tests_name("cart_init", tests, NULL, NULL);
}
