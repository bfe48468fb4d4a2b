/*
 * libcart's internal exports (upstream declares them in its internal headers): CaRT's log
 * facilities registered with gurt at crt_init (D_LOG_MASK names them, the D_* macros log
 * through them as cart_ctl and crt_utils.c do), crt_genvs and crt_env_get, the provider table
 * and per-provider queries, secondary-provider answers, context lookups, group-name checks
 * and the event-callback trigger. ofi+tcp on lo.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* This file logs to CaRT's "rpc" facility, as a CaRT source file with D_LOGFAC DD_FAC(rpc):
 * the facilities are declared before gurt's headers, whose inline functions log. */
#define D_LOGFAC crt_rpc_logfac
#include <cart/crt_debug.h>

#include <cart/api.h>
#include <cart/crt_misc.h>
#include <cart/crt_provider.h>

static char log_path[] = "/tmp/oxidaos_test_misc_log_XXXXXX";

static void
client_env(void)
{
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	unsetenv("D_DOMAIN");
	unsetenv("D_PORT");
	unsetenv("CRT_CTX_NUM");
}

/* Whether the log file holds a line containing both strings. */
static bool
log_has(const char *a, const char *b)
{
	char  line[4096];
	bool  found = false;
	FILE *f     = fopen(log_path, "r");

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL);
	fclose(f);
	return found;
}

static const char *
fac_name(int fac, bool long_name)
{
	assert_true(fac > 0 && fac < d_log_xst.fac_cnt);
	return long_name ? d_log_xst.dlog_facs[fac].fac_lname : d_log_xst.dlog_facs[fac].fac_aname;
}

static void
test_log_facilities(void **state)
{
	int *facs[] = {&crt_crt_logfac, &crt_rpc_logfac, &crt_bulk_logfac, &crt_corpc_logfac,
		       &crt_grp_logfac, &crt_lm_logfac,  &crt_hg_logfac,   &crt_external_logfac,
		       &crt_st_logfac,  &crt_iv_logfac,  &crt_ctl_logfac};
	const char *names[][2] = {{"crt", "cart"},         {"rpc", "rpc"},   {"bulk", "bulk"},
				  {"corpc", "corpc"},      {"grp", "group"}, {"lm", "livenessmap"},
				  {"hg", "mercury"},       {"external", "external"},
				  {"st", "self_test"},     {"iv", "iv"},     {"ctl", "ctl"}};
	size_t      i, j;

	(void)state;
	assert_int_equal(sizeof(crt_rpc_logfac_cache), 64);
	for (i = 0; i < 16; i++)
		assert_int_equal(crt_bulk_logfac_cache[i], (int)DLOG_UNINIT);

	/* without an open log gurt cannot allocate facilities */
	assert_int_equal(crt_setup_log_fac(), -DER_UNINIT);

	client_env();
	setenv("D_LOG_MASK", "ERR,RPC=DEBUG,BULK=INFO", 1);
	setenv("DD_MASK", "all", 1);
	setenv("D_LOG_FILE", log_path, 1);
	assert_int_equal(crt_init("misc_log", 0), 0);

	/* every facility registered under upstream's names, each its own number */
	for (i = 0; i < sizeof(facs) / sizeof(facs[0]); i++) {
		assert_string_equal(fac_name(*facs[i], false), names[i][0]);
		assert_string_equal(fac_name(*facs[i], true), names[i][1]);
		for (j = 0; j < i; j++)
			assert_int_not_equal(*facs[i], *facs[j]);
	}

	/* the masks of D_LOG_MASK apply per facility */
	assert_int_not_equal(d_log_check(crt_rpc_logfac | DLOG_DBG), 0);
	assert_int_equal(d_log_check(crt_bulk_logfac | DLOG_DBG), 0);
	assert_int_not_equal(d_log_check(crt_bulk_logfac | DLOG_INFO), 0);
	assert_int_equal(d_log_check(crt_grp_logfac | DLOG_INFO), 0);
	assert_int_not_equal(d_log_check(crt_grp_logfac | DLOG_ERR), 0);

	/* the D_* macros through this file's facility and its cache */
	D_DEBUG(DB_TRACE, "misc-test debug line %d\n", 42);
	D_INFO("misc-test info line\n");
	d_log_sync();
	assert_true(log_has("misc-test debug line 42", " rpc "));
	assert_true(log_has("misc-test info line", " rpc "));
	/* the cache slot of DB_TRACE was resolved by the message */
	assert_int_not_equal(DD_FLAG(DB_TRACE, crt_rpc_logfac), (int)DLOG_UNINIT);

	/* a mask change resets the caches and reaches the facilities */
	d_log_setmasks("RPC=ERR", -1);
	assert_int_equal(DD_FLAG(DB_TRACE, crt_rpc_logfac), (int)DLOG_UNINIT);
	D_DEBUG(DB_TRACE, "misc-test hidden line\n");
	d_log_sync();
	assert_false(log_has("misc-test hidden line", NULL));

	/* a second crt_init keeps working facilities (gurt keeps one log) */
	assert_int_equal(crt_init("misc_log", 0), 0);
	assert_string_equal(fac_name(crt_iv_logfac, false), "iv");
	assert_int_equal(crt_finalize(), 0);
	assert_int_equal(crt_finalize(), 0);

	/* DD_SUBSYS names CaRT's facilities too: the others keep errors and worse only */
	setenv("D_LOG_MASK", "DEBUG", 1);
	setenv("DD_SUBSYS", "rpc,group", 1);
	assert_int_equal(crt_init("misc_log", 0), 0);
	assert_int_not_equal(d_log_check(crt_rpc_logfac | DLOG_DBG), 0);
	assert_int_not_equal(d_log_check(crt_grp_logfac | DLOG_INFO), 0);
	assert_int_equal(d_log_check(crt_corpc_logfac | DLOG_INFO), 0);
	assert_int_not_equal(d_log_check(crt_corpc_logfac | DLOG_ERR), 0);
	assert_int_equal(crt_finalize(), 0);
	unsetenv("DD_SUBSYS");
	unsetenv("D_LOG_MASK");
	unsetenv("DD_MASK");
	unsetenv("D_LOG_FILE");
}

static void
test_genvs(void **state)
{
	char        *dir     = NULL;
	unsigned int timeout = 0, credits = 99;

	(void)state;
	assert_int_equal(sizeof(crt_genvs), 624);
	assert_false(crt_genvs.inited);
	client_env();
	setenv("CRT_TIMEOUT", "17", 1);
	setenv("DAOS_TEST_SHARED_DIR", "/tmp/shared-dir", 1);
	setenv("CRT_CTX_NUM", "many", 1);
	unsetenv("CRT_CREDIT_EP_CTX");
	assert_int_equal(crt_init("misc_env", 0), 0);

	assert_true(crt_genvs.inited);
	crt_env_get(CRT_TIMEOUT, &timeout);
	assert_int_equal(timeout, 17);
	crt_env_get(DAOS_TEST_SHARED_DIR, &dir);
	assert_string_equal(dir, "/tmp/shared-dir");
	crt_env_get(CRT_CREDIT_EP_CTX, &credits); /* unset: left alone */
	assert_int_equal(credits, 99);
	assert_true(crt_env_is_set(D_PROVIDER));
	assert_string_equal(crt_genvs._D_PROVIDER, "ofi+tcp");
	assert_false(crt_env_is_set(CRT_CREDIT_EP_CTX));
	assert_int_equal(crt_genvs._rc_CRT_CREDIT_EP_CTX, -DER_NONEXIST);
	assert_false(crt_env_is_set(CRT_CTX_NUM)); /* not a number */
	assert_int_equal(crt_genvs._rc_CRT_CTX_NUM, -DER_INVAL);
	assert_null(crt_genvs._D_PORT);

	/* crt_finalize releases the snapshot */
	assert_int_equal(crt_finalize(), 0);
	assert_false(crt_genvs.inited);
	assert_null(crt_genvs._DAOS_TEST_SHARED_DIR);
	assert_null(crt_genvs._D_PROVIDER);
	/* and a failed crt_finalize too, as upstream */
	assert_int_equal(crt_finalize(), -DER_UNINIT);
	assert_false(crt_genvs.inited);
	unsetenv("CRT_TIMEOUT");
	unsetenv("DAOS_TEST_SHARED_DIR");
	unsetenv("CRT_CTX_NUM");
}

static void
test_provider_table(void **state)
{
	(void)state;
	assert_int_equal(sizeof(crt_na_dict), 192);
	assert_null(crt_na_dict[7].nad_str);
	assert_int_equal(crt_str_to_provider("ofi+tcp"), CRT_PROV_OFI_TCP);
	assert_int_equal(crt_str_to_provider("ofi+tcp;ofi_rxm"), CRT_PROV_OFI_TCP_RXM);
	assert_int_equal(crt_str_to_provider("ofi+verbs"), CRT_PROV_OFI_VERBS_RXM);
	assert_int_equal(crt_str_to_provider("sm"), CRT_PROV_SM);
	assert_int_equal(crt_str_to_provider("ofi+shm"), CRT_PROV_SM);
	assert_int_equal(crt_str_to_provider("ofi+tcpx"), CRT_PROV_UNKNOWN);
	assert_int_equal(crt_str_to_provider(NULL), CRT_PROV_UNKNOWN);
	assert_int_equal(crt_prov_str_to_prov("ofi+opx"), CRT_PROV_OFI_OPX);
	assert_int_equal(crt_prov_str_to_prov("ucx+tcp"), CRT_PROV_UNKNOWN);
	assert_int_equal(crt_prov_str_to_prov(NULL), CRT_PROV_UNKNOWN);

	assert_string_equal(crt_provider_name_get(CRT_PROV_OFI_CXI), "ofi+cxi");
	assert_string_equal(crt_provider_name_get(CRT_PROV_SM), "sm");
	assert_null(crt_provider_name_get(CRT_PROV_OFI_GNI));
	assert_null(crt_provider_name_get(CRT_PROV_UNKNOWN));
	assert_true(crt_provider_is_contig_ep(CRT_PROV_OFI_TCP_RXM));
	assert_true(crt_provider_is_port_based(CRT_PROV_OFI_TCP_RXM));
	assert_true(crt_provider_is_contig_ep(CRT_PROV_OFI_CXI));
	assert_false(crt_provider_is_port_based(CRT_PROV_OFI_CXI));
	assert_false(crt_provider_is_contig_ep(CRT_PROV_OFI_OPX));
	assert_false(crt_provider_is_contig_ep(CRT_PROV_OFI_SOCKETS));
	assert_true(crt_provider_is_ofi(CRT_PROV_OFI_OPX));
	assert_false(crt_provider_is_ofi(CRT_PROV_SM));
	assert_true(crt_provider_is_ucx(CRT_PROV_UCX));

	/* a "ucx+X" name becomes the UCX entry's until the library is released */
	assert_int_equal(crt_str_to_provider("ucx+tcp"), CRT_PROV_UCX);
	assert_string_equal(crt_provider_name_get(CRT_PROV_UCX), "ucx+tcp");
	assert_string_equal(crt_na_dict[6].nad_alt_str, "ucx+ud_x");
	assert_true(crt_na_dict[6].nad_str_alloc);
	assert_int_equal(crt_str_to_provider("ucx+ud_x"), CRT_PROV_UCX);
	assert_int_equal(crt_str_to_provider("ucx+rc"), CRT_PROV_UCX);
	assert_string_equal(crt_provider_name_get(CRT_PROV_UCX), "ucx+rc");
	assert_string_equal(crt_na_dict[6].nad_alt_str, "ucx+ud_x");
	client_env();
	assert_int_equal(crt_init("misc_prov", 0), 0);
	assert_int_equal(crt_finalize(), 0);
	assert_string_equal(crt_provider_name_get(CRT_PROV_UCX), "ucx+ud_x");
	assert_null(crt_na_dict[6].nad_alt_str);
	assert_false(crt_na_dict[6].nad_str_alloc);
}

static void
test_provider_queries(void **state)
{
	crt_context_t ctx = NULL;
	char         *uri = (char *)"unchanged";

	(void)state;
	assert_false(crt_initialized());
	assert_int_equal(crt_provider_num_ifaces_get(true, CRT_PROV_OFI_TCP), 0);
	assert_null(crt_provider_iface_str_get(true, CRT_PROV_OFI_TCP, 0));
	assert_int_equal(crt_provider_get_max_ctx_num(true, CRT_PROV_OFI_TCP), 0);
	assert_true(crt_context_empty(CRT_PROV_OFI_TCP, 0));

	client_env();
	setenv("D_DOMAIN", "lo", 1);
	setenv("CRT_CTX_NUM", "30", 1);
	assert_int_equal(crt_init("misc_query", 0), 0);
	assert_true(crt_initialized());
	assert_int_equal(crt_provider_num_ifaces_get(true, CRT_PROV_OFI_TCP), 1);
	assert_string_equal(crt_provider_iface_str_get(true, CRT_PROV_OFI_TCP, 0), "lo");
	assert_null(crt_provider_iface_str_get(true, CRT_PROV_OFI_TCP, 1));
	assert_null(crt_provider_iface_str_get(true, CRT_PROV_OFI_TCP, -1));
	assert_string_equal(crt_provider_domain_str_get(true, CRT_PROV_OFI_TCP, 0), "lo");
	assert_int_equal(crt_provider_get_max_ctx_num(true, CRT_PROV_OFI_TCP), 30);
	assert_false(crt_provider_is_sep(true, CRT_PROV_OFI_TCP));
	/* no secondary provider runs */
	assert_int_equal(crt_provider_num_ifaces_get(false, CRT_PROV_OFI_TCP), 0);
	assert_null(crt_provider_iface_str_get(false, CRT_PROV_OFI_TCP, 0));
	assert_int_equal(crt_get_nr_secondary_providers(), 0);
	assert_int_equal(crt_self_uri_get_secondary(0, &uri), -DER_NONEXIST);
	assert_int_equal(crt_self_uri_get_secondary(1, &uri), -DER_NONEXIST);
	assert_string_equal(uri, "unchanged");
	assert_int_equal(crt_nr_secondary_remote_tags_set(0, 4), -DER_NONEXIST);
	assert_int_equal(crt_nr_secondary_remote_tags_set(1, 4), -DER_NONEXIST);
	assert_int_equal(crt_context_create_secondary(&ctx, 0), -DER_INVAL);
	assert_null(ctx);

	/* contexts */
	assert_true(crt_context_empty(CRT_PROV_OFI_TCP, 0));
	assert_int_equal(crt_provider_get_cur_ctx_num(true, CRT_PROV_OFI_TCP), 0);
	assert_null(crt_context_lookup(0));
	assert_int_equal(crt_context_create(&ctx), 0);
	assert_ptr_equal(crt_context_lookup(0), ctx);
	assert_ptr_equal(crt_context_lookup_locked(0), ctx);
	assert_null(crt_context_lookup(1));
	assert_null(crt_context_lookup(-1));
	assert_int_equal(crt_provider_get_cur_ctx_num(true, CRT_PROV_OFI_TCP), 1);
	assert_int_equal(crt_provider_get_cur_ctx_num(false, CRT_PROV_OFI_TCP), 0);
	assert_false(crt_context_empty(CRT_PROV_OFI_TCP, 0));
	assert_false(crt_context_empty(CRT_PROV_UNKNOWN, 1)); /* the provider is not looked at */
	assert_true(crt_context_is_primary(ctx));
	assert_false(crt_context_is_primary(NULL));
	assert_false(crt_context_is_primary((crt_context_t)&uri));
	assert_int_equal(crt_context_destroy(ctx, 0), 0);
	assert_false(crt_context_is_primary(ctx));
	assert_true(crt_context_empty(CRT_PROV_OFI_TCP, 0));
	assert_null(crt_context_lookup(0));
	assert_int_equal(crt_finalize(), 0);
	assert_false(crt_initialized());
	unsetenv("D_DOMAIN");
	unsetenv("CRT_CTX_NUM");
}

static int         ev_calls;
static d_rank_t    ev_rank;
static uint64_t    ev_inc;
static int         ev_src, ev_type;
static void       *ev_arg;

static void
event_cb(d_rank_t rank, uint64_t incarnation, enum crt_event_source src, enum crt_event_type type,
	 void *arg)
{
	ev_calls++;
	ev_rank = rank;
	ev_inc  = incarnation;
	ev_src  = src;
	ev_type = type;
	ev_arg  = arg;
}

static void
test_names_and_events(void **state)
{
	char long_name[CRT_GROUP_ID_MAX_LEN + 2];
	int  tag = 7;

	(void)state;
	assert_int_equal(crt_validate_grpid("daos_server"), 0);
	assert_int_equal(crt_validate_grpid(""), -DER_INVAL);
	assert_int_equal(crt_validate_grpid(NULL), -DER_INVAL);
	assert_int_equal(crt_validate_grpid("a;b"), -DER_INVAL);
	assert_int_equal(crt_validate_grpid("a'b"), -DER_INVAL);
	assert_int_equal(crt_validate_grpid("a\\b"), -DER_INVAL);
	assert_int_equal(crt_validate_grpid("a\nb"), -DER_INVAL);
	memset(long_name, 'g', sizeof(long_name));
	long_name[CRT_GROUP_ID_MAX_LEN] = '\0';
	assert_int_equal(crt_validate_grpid(long_name), 0);
	long_name[CRT_GROUP_ID_MAX_LEN]     = 'g';
	long_name[CRT_GROUP_ID_MAX_LEN + 1] = '\0';
	assert_int_equal(crt_validate_grpid(long_name), -DER_INVAL);

	/* opcode names, as upstream's log macros print them */
	{
		char *mod = NULL, *opc = NULL;

		crt_opc_decode(0xFF040000, &mod, &opc);
		assert_string_equal(mod, "CART");
		assert_string_equal(opc, "CRT_OPC_URI_LOOKUP");
		crt_opc_decode(0xF3010002, &mod, &opc);
		assert_string_equal(opc, "CRT_OPC_CTL_GET_URI_CACHE");
		crt_opc_decode(0xFE020001, &mod, &opc);
		assert_string_equal(mod, "SWIM");
		assert_string_equal(opc, "");
		crt_opc_decode(0x02070001, &mod, &opc); /* DAOS_RPC_OPCODE(POOL_CONNECT, pool, 7) */
		assert_string_equal(mod, "DAOS_POOL_MODULE");
		assert_string_equal(opc, "POOL_CONNECT");
		crt_opc_decode(0x040a0001, &mod, &opc);
		assert_string_equal(mod, "DAOS_OBJ_MODULE");
		assert_string_equal(opc, "fetch");
		crt_opc_decode(0x33020001, &mod, &opc);
		assert_string_equal(mod, "CUSTOM");
		assert_string_equal(opc, "");
		crt_opc_decode(0xFF040001, NULL, &opc);
		assert_string_equal(opc, "CRT_OPC_PROTO_QUERY");
	}

	/* the trigger reaches every registered callback with its argument */
	crt_trigger_event_cbs(3, 9, CRT_EVS_SWIM, CRT_EVT_DEAD);
	assert_int_equal(ev_calls, 0);
	assert_int_equal(crt_register_event_cb(event_cb, &tag), 0);
	crt_trigger_event_cbs(3, 9, CRT_EVS_SWIM, CRT_EVT_DEAD);
	assert_int_equal(ev_calls, 1);
	assert_int_equal(ev_rank, 3);
	assert_int_equal(ev_inc, 9);
	assert_int_equal(ev_src, CRT_EVS_SWIM);
	assert_int_equal(ev_type, CRT_EVT_DEAD);
	assert_ptr_equal(ev_arg, &tag);
	crt_trigger_event_cbs(4, 1, CRT_EVS_GRPMOD, CRT_EVT_ALIVE);
	assert_int_equal(ev_calls, 2);
	assert_int_equal(ev_type, CRT_EVT_ALIVE);
	assert_int_equal(crt_unregister_event_cb(event_cb, &tag), 0);
	crt_trigger_event_cbs(5, 1, CRT_EVS_SWIM, CRT_EVT_DEAD);
	assert_int_equal(ev_calls, 2);
}

struct pq_result {
	bool     done;
	int      rc;
	uint32_t ver;
};

static void
pq_cb(struct crt_proto_query_cb_info *info)
{
	struct pq_result *r = info->pq_arg;

	r->rc   = info->pq_rc;
	r->ver  = info->pq_ver;
	r->done = true;
}

static int
pq_done(void *arg)
{
	return ((struct pq_result *)arg)->done ? 1 : 0;
}

static void
test_internal_protocol(void **state)
{
	struct crt_proto_rpc_format prf[1] = {
	    {.prf_req_fmt = NULL, .prf_hdlr = NULL, .prf_co_ops = NULL,
	     .prf_flags = CRT_RPC_FEAT_NO_REPLY},
	};
	struct crt_proto_format cpf = {
	    .cpf_name = "misc-internal", .cpf_ver = 7, .cpf_count = 1, .cpf_prf = prf,
	    .cpf_base = 0xFF000000};
	crt_endpoint_t   ep     = {.ep_grp = NULL, .ep_rank = 0, .ep_tag = 0};
	uint32_t         vers[] = {9, 7};
	uint32_t         none[] = {8};
	struct pq_result q      = {0};
	crt_context_t    ctx;
	char             port[16];

	(void)state;
	assert_int_equal(crt_proto_register_internal(&cpf), -DER_UNINIT);
	client_env();
	snprintf(port, sizeof(port), "%d", 24000 + (getpid() + 7) % 20000);
	setenv("D_PORT", port, 1);
	assert_int_equal(crt_init("misc_proto", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE),
			 0);
	assert_int_equal(crt_context_create(&ctx), 0);
	assert_int_equal(crt_rank_self_set(0, 1), 0);

	assert_int_equal(crt_proto_register_internal(NULL), -DER_INVAL);
	cpf.cpf_base = 0x33000000; /* only CaRT's own base */
	assert_int_equal(crt_proto_register_internal(&cpf), -DER_INVAL);
	cpf.cpf_base = 0xFE000000;
	assert_int_equal(crt_proto_register_internal(&cpf), -DER_INVAL);
	cpf.cpf_base  = 0xFF000000;
	cpf.cpf_count = 0;
	assert_int_equal(crt_proto_register_internal(&cpf), -DER_INVAL);
	cpf.cpf_count = 1;
	assert_int_equal(crt_proto_register_internal(&cpf), 0);
	assert_int_equal(crt_proto_register_internal(&cpf), -DER_EXIST);
	/* the public call refuses CaRT's base */
	cpf.cpf_ver = 6;
	assert_int_equal(crt_proto_register(&cpf), -DER_INVAL);

	/* the registered version answers a protocol query, through the internal name */
	assert_int_equal(crt_proto_query_int(&ep, 0xFF000000, NULL, 1, 0, pq_cb, &q, NULL),
			 -DER_INVAL);
	assert_int_equal(crt_proto_query_int(&ep, 0xFF000000, vers, 2, 5, pq_cb, &q, NULL), 0);
	assert_int_equal(crt_progress_cond(ctx, 20 * 1000 * 1000, pq_done, &q), 0);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.ver, 7);
	memset(&q, 0, sizeof(q));
	assert_int_equal(crt_proto_query_int(&ep, 0xFF000000, none, 1, 5, pq_cb, &q, ctx), 0);
	assert_int_equal(crt_progress_cond(ctx, 20 * 1000 * 1000, pq_done, &q), 0);
	assert_int_equal(q.rc, -DER_UNREG); /* the base is registered, version 8 is not */

	assert_int_equal(crt_context_destroy(ctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	unsetenv("D_PORT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_facilities), cmocka_unit_test(test_genvs),
	    cmocka_unit_test(test_provider_table), cmocka_unit_test(test_provider_queries),
	    cmocka_unit_test(test_names_and_events), cmocka_unit_test(test_internal_protocol),
	};
	int fd = mkstemp(log_path);
	int rc;

	assert_true(fd >= 0);
	close(fd);
	rc = cmocka_run_group_tests_name("cart_misc", tests, NULL, NULL);
	unlink(log_path);
	return rc;
}
