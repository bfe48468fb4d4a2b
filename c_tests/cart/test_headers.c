/*
 * The public cart headers as DAOS code uses them, compiled with -Wall -Wextra -Werror: every
 * declaration, constant, inline helper and field-list macro (CRT_RPC_DECLARE/DEFINE with every
 * field kind, empty lists, struct types, CRT_GEN_STRUCT/CRT_GEN_PROC_FUNC, the register macros)
 * expands; the constants and the inline helpers are checked against upstream's values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cart/api.h>
#include <cart/types.h>
#include <cart/iv.h>
#include <cart/swim.h>

#include "all_fields.h"

#define CRT_ISEQ_HDR_ALL CRT_SEQ_ALL_FIELDS
#define CRT_OSEQ_HDR_ALL ((int32_t)(o_rc) CRT_VAR)((uint32_t)(o_pad) CRT_VAR)

CRT_RPC_DECLARE(hdr_all, CRT_ISEQ_HDR_ALL, CRT_OSEQ_HDR_ALL)
CRT_RPC_DEFINE(hdr_all, CRT_ISEQ_HDR_ALL, CRT_OSEQ_HDR_ALL)

/* Empty lists on either side. */
#define CRT_ISEQ_HDR_NONE /* none */
#define CRT_OSEQ_HDR_ONE  ((uint64_t)(o_v) CRT_VAR)
CRT_RPC_DECLARE(hdr_noin, CRT_ISEQ_HDR_NONE, CRT_OSEQ_HDR_ONE)
CRT_RPC_DEFINE(hdr_noin, CRT_ISEQ_HDR_NONE, CRT_OSEQ_HDR_ONE)
CRT_RPC_DECLARE(hdr_noout, CRT_OSEQ_HDR_ONE, CRT_ISEQ_HDR_NONE)
CRT_RPC_DEFINE(hdr_noout, CRT_OSEQ_HDR_ONE, CRT_ISEQ_HDR_NONE)
CRT_RPC_DECLARE(hdr_nothing, , )
CRT_RPC_DEFINE(hdr_nothing, , )

/* The register macros and the rest of the API are type-checked here, never run (they belong to
 * areas this library does not implement yet). */
static inline __attribute__((unused)) int
compile_api(crt_context_t ctx, crt_rpc_t *rpc)
{
	struct crt_proto_rpc_format prf = {.prf_req_fmt = &CQF_hdr_all};
	struct crt_proto_format     pf  = {.cpf_name = "t", .cpf_ver = 1, .cpf_count = 1,
					   .cpf_prf = &prf, .cpf_base = 0x01000000};
	crt_endpoint_t              ep  = {.ep_grp = NULL, .ep_rank = 0, .ep_tag = 0};
	int                         rc;

	rc = CRT_RPC_REGISTER(0x1, 0, hdr_all);
	rc |= CRT_RPC_SRV_REGISTER(0x2, 0, hdr_all, NULL);
	rc |= CRT_RPC_CORPC_REGISTER(0x3, hdr_all, NULL, NULL);
	rc |= crt_proto_register(&pf);
	rc |= crt_init(NULL, CRT_FLAG_BIT_SERVER);
	rc |= crt_req_create(ctx, &ep, CRT_PROTO_OPC(0x01000000, 1, 0), &rpc);
	(void)crt_req_get(rpc);
	(void)crt_reply_get(rpc);
	rc |= crt_iv_update(NULL, 0, NULL, NULL, NULL, CRT_IV_SHORTCUT_NONE,
			    CRT_IV_SYNC_UPDATE_LAZY(0), NULL, NULL);
	swim_member_reset(NULL, 0);
	return rc;
}

static void
constants(void **state)
{
	crt_iv_sync_t s = CRT_IV_SYNC_NOTIFY_EAGER(CRT_IV_SYNC_BIDIRECTIONAL);
	crt_iv_sync_t none = CRT_IV_SYNC_MODE_NONE;

	(void)state;
	assert_int_equal(CRT_PROTO_OPC(0x01000000, 3, 7), 0x01030007);
	assert_int_equal(CRT_GROUP_ID_MAX_LEN, 64);
	assert_int_equal(CRT_ADDR_STR_MAX_LEN, 128);
	assert_string_equal(CRT_DEFAULT_GRPID, "crt_default_group");
	assert_int_equal(CRT_NO_RANK, 0xFFFFFFFFu);
	assert_int_equal(CRT_MAX_INPUT_SIZE, 0x4000000);
	assert_int_equal(CRT_BULK_PUT, 0x68);
	assert_int_equal(CRT_BULK_GET, 0x69);
	assert_int_equal(CRT_BULK_RW, 0x88);
	assert_int_equal(CRT_BULK_WO, 0x8a);
	assert_int_equal(CRT_RPC_FEAT_NO_REPLY | CRT_RPC_FEAT_NO_TIMEOUT | CRT_RPC_FEAT_QUEUE_FRONT,
			 0xe);
	assert_int_equal(CRT_RPC_FLAG_FILTER_INVERT | CRT_RPC_FLAG_CO_FAILOUT, 6);
	assert_int_equal(CRT_FLAG_BIT_AUTO_SWIM_DISABLE, 2);
	assert_int_equal(CRT_GROUP_MOD_OP_REMOVE, 2);
	assert_int_equal(CRT_GROUP_MOD_OP_COUNT, 3);
	assert_int_equal(CRT_QUOTA_BULKS, 1);
	assert_int_equal(CRT_PROC_FREE, 2);
	assert_int_equal(CRT_EVS_GRPMOD, 2);
	assert_int_equal(CRT_EVT_DEAD, 1);
	assert_int_equal(CRT_VAR, 0);
	assert_int_equal(CRT_RAW, 3);
	assert_int_equal(SWIM_MEMBER_INACTIVE, 3);
	assert_string_equal(SWIM_STATUS_CHARS, "ASDI");
	assert_true(SWIM_ID_INVALID == UINT64_MAX);
	assert_int_equal(CRT_IV_CLASS_DISCARD_CACHE, 2);
	assert_int_equal(CRT_IV_NO_ALLOC, 4);
	/* upstream's helpers put the event in the mode slot: callers depend on the values */
	assert_int_equal(s.ivs_mode, CRT_IV_SYNC_EVENT_NOTIFY);
	assert_int_equal(s.ivs_event, CRT_IV_SYNC_EAGER);
	assert_int_equal(s.ivs_flags, CRT_IV_SYNC_BIDIRECTIONAL);
	assert_int_equal(none.ivs_mode, 0);
	assert_true(crt_proc_raw == crt_proc_memcpy);
	assert_true(ENCODING(CRT_PROC_ENCODE) && DECODING(CRT_PROC_DECODE) && FREEING(CRT_PROC_FREE));
}

static void
inline_helpers(void **state)
{
	crt_rpc_t rpc = {.cr_input = (void *)0x10, .cr_output = (void *)0x20};

	(void)state;
	assert_int_equal(crt_tree_topo(CRT_TREE_KNOMIAL, 4), (3 << 16) | 4);
	assert_int_equal(crt_tree_topo(CRT_TREE_FLAT, 0x12345), (1 << 16) | 0x2345);
	assert_int_equal(crt_tree_topo(CRT_TREE_INVALID, 2), -DER_INVAL);
	assert_int_equal(crt_tree_topo((enum crt_tree_type)4, 2), -DER_INVAL);
	assert_true(crt_quiet_error(-DER_GRPVER));
	assert_false(crt_quiet_error(-DER_INVAL));
	assert_ptr_equal(crt_req_get(&rpc), (void *)0x10);
	assert_ptr_equal(crt_reply_get(&rpc), (void *)0x20);
}

static void
generated_formats(void **state)
{
	(void)state;
	/* structs: members in order, arrays as {count, pointer}, CRT_PTR as a pointer */
	assert_int_equal(offsetof(struct hdr_all_in, a_u8), 29);
	assert_int_equal(offsetof(struct hdr_all_in, a_uuid), 32);
	assert_int_equal(offsetof(struct hdr_all_in, a_int), 192);
	assert_int_equal(sizeof(((struct hdr_all_in *)0)->a_arr), 16);
	assert_int_equal(offsetof(struct hdr_all_in, a_arr.ca_arrays), offsetof(struct hdr_all_in, a_arr) + 8);
	assert_int_equal(sizeof(((struct hdr_all_in *)0)->a_ranks), sizeof(void *));
	assert_int_equal(sizeof(struct ox_point), 16);
	/* the formats */
	assert_non_null(CQF_hdr_all.crf_proc_in);
	assert_non_null(CQF_hdr_all.crf_proc_out);
	assert_int_equal(CQF_hdr_all.crf_size_in, sizeof(struct hdr_all_in));
	assert_int_equal(CQF_hdr_all.crf_size_out, 8);
	assert_null(CQF_hdr_noin.crf_proc_in);
	assert_int_equal(CQF_hdr_noin.crf_size_in, 0);
	assert_int_equal(CQF_hdr_noin.crf_size_out, 8);
	assert_null(CQF_hdr_noout.crf_proc_out);
	assert_int_equal(CQF_hdr_noout.crf_size_out, 0);
	assert_null(CQF_hdr_nothing.crf_proc_in);
	assert_null(CQF_hdr_nothing.crf_proc_out);
	assert_int_equal(CQF_hdr_nothing.crf_size_in + CQF_hdr_nothing.crf_size_out, 0);
	/* a generated proc function refuses NULL like upstream's */
	assert_int_equal(CQF_hdr_all.crf_proc_in(NULL, NULL), -DER_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(constants),
	    cmocka_unit_test(inline_helpers),
	    cmocka_unit_test(generated_formats),
	};

	return cmocka_run_group_tests_name("cart_headers", tests, NULL, NULL);
}
