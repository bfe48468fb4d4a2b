/*
 * oxidaos: CaRT's public API, as in DAOS's cart/api.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * CaRT (Collective and RPC Transport) moves DAOS's RPCs and bulk data between processes:
 * initialisation and contexts, progress, protocols and requests, bulk transfers, groups and
 * their membership, collective RPCs, and the serialisation ("proc") of RPC bodies. Bodies are
 * described once with CRT_RPC_DECLARE / CRT_RPC_DEFINE; the macros below turn a field list into
 * the C structs and the crt_proc_* calls that encode, decode and free them.
 */
#ifndef __CRT_API_H__
#define __CRT_API_H__

#include <stdint.h>
#include <string.h>
#include <stdbool.h>
#include <stddef.h>
#include <uuid/uuid.h>

#include <cart/types.h>
#include <daos_errno.h>
#include <cart/iv.h>
#include <cart/swim.h>

#if !defined(__cplusplus)
#include <assert.h> /* static_assert */
#endif

/* The generated proc functions allocate and free with gurt's D_ALLOC_ARRAY / D_FREE. */
#include <gurt/common.h>

/* The field-list machinery is built on Boost.Preprocessor (header-only), as DAOS's is. */
#include <boost/preprocessor.hpp>

#if defined(__cplusplus)
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Initialisation and contexts
 */

/* The transports this host offers (info_string: a provider to filter by, or NULL). */
int
crt_protocol_info_get(const char *info_string, struct crt_protocol_info **protocol_info_p);
void
crt_protocol_info_free(struct crt_protocol_info *protocol_info);

/* Initialises CaRT; grpid names the primary group (NULL: CRT_DEFAULT_GRPID), flags are
 * enum crt_init_flag_bits, opt may be NULL. */
int
crt_init_opt(crt_group_id_t grpid, uint32_t flags, crt_init_options_t *opt);

static inline int
crt_init(crt_group_id_t grpid, uint32_t flags)
{
	return crt_init_opt(grpid, flags, NULL);
}

int
crt_context_create(crt_context_t *crt_ctx);
uint32_t
crt_num_ifaces_get(void);
int
crt_context_create_on_iface_idx(uint32_t iface_index, crt_context_t *crt_ctx);
int
crt_iface_name2idx(const char *iface_name, int *idx);
int
crt_context_create_on_iface(const char *iface_name, crt_context_t *crt_ctx);
/* Default timeout, in seconds, of the RPCs created on a context. */
int
crt_context_set_timeout(crt_context_t crt_ctx, uint32_t timeout_sec);
int
crt_context_get_timeout(crt_context_t crt_ctx, uint32_t *timeout_sec);
/* force: abort what is in flight instead of failing with -DER_BUSY. */
int
crt_context_destroy(crt_context_t crt_ctx, int force);
/* Whether no RPC of this context is in flight or waiting for credits. */
bool
crt_context_ep_empty(crt_context_t crt_ctx);
/* Progresses until nothing is in flight or timeout (seconds, 0: none) passes. */
int
crt_context_flush(crt_context_t crt_ctx, uint64_t timeout);
int
crt_context_idx(crt_context_t crt_ctx, int *ctx_idx);
int
crt_context_num(int *ctx_num);
/* The context's address; the caller frees *uri. */
int
crt_context_uri_get(crt_context_t crt_ctx, char **uri);
int
crt_finalize(void);

/* ---------------------------------------------------------------------------------------------
 * Progress
 */

/* Runs callbacks for up to timeout us: 0 polls once, negative waits indefinitely. */
int
crt_progress(crt_context_t crt_ctx, int64_t timeout);
/* As crt_progress, returning early once cond_cb returns nonzero. */
int
crt_progress_cond(crt_context_t crt_ctx, int64_t timeout, crt_progress_cond_cb_t cond_cb,
		  void *arg);

/* ---------------------------------------------------------------------------------------------
 * Requests and replies
 */

int
crt_req_create(crt_context_t crt_ctx, crt_endpoint_t *tgt_ep, crt_opcode_t opc, crt_rpc_t **req);
int
crt_req_set_endpoint(crt_rpc_t *req, crt_endpoint_t *tgt_ep);
int
crt_req_set_timeout(crt_rpc_t *req, uint32_t timeout_sec);
int
crt_req_get_timeout(crt_rpc_t *req, uint32_t *timeout_sec);
void
crt_req_addref(crt_rpc_t *req);
void
crt_req_decref(crt_rpc_t *req);
/* Sends a request; complete_cb runs from crt_progress() with the reply or the error. */
int
crt_req_send(crt_rpc_t *req, crt_cb_t complete_cb, void *arg);
int
crt_reply_send(crt_rpc_t *req);
/* Sends the reply and releases the request's decoded input at once. */
int
crt_reply_send_input_free(crt_rpc_t *req);

/* The input body of an RPC. */
static inline void *
crt_req_get(crt_rpc_t *rpc)
{
	return rpc->cr_input;
}

int
crt_req_src_rank_get(crt_rpc_t *req, d_rank_t *rank);
int
crt_req_dst_rank_get(crt_rpc_t *req, d_rank_t *rank);
int
crt_req_dst_tag_get(crt_rpc_t *req, uint32_t *tag);
int
crt_req_src_timeout_get(crt_rpc_t *rpc, uint32_t *timeout);

/* The output body of an RPC. */
static inline void *
crt_reply_get(crt_rpc_t *rpc)
{
	return rpc->cr_output;
}

int
crt_req_abort(crt_rpc_t *req);
int
crt_rank_abort(d_rank_t rank);
int
crt_rank_abort_all(crt_group_t *grp);
int
crt_ep_abort(crt_endpoint_t *ep);

/* ---------------------------------------------------------------------------------------------
 * RPC bodies from field lists
 *
 * A field list is a Boost.PP sequence of fields, each ((type) (name) KIND):
 *
 *     #define CRT_ISEQ_PING ((uint32_t) (pi_seq) CRT_VAR) ((d_rank_list_t) (pi_ranks) CRT_PTR)
 *     #define CRT_OSEQ_PING ((int32_t) (po_rc) CRT_VAR)
 *     CRT_RPC_DECLARE(ping, CRT_ISEQ_PING, CRT_OSEQ_PING)   (in a header)
 *     CRT_RPC_DEFINE(ping, CRT_ISEQ_PING, CRT_OSEQ_PING)    (in one .c file)
 *
 * declares struct ping_in { uint32_t pi_seq; d_rank_list_t *pi_ranks; } and struct ping_out,
 * and defines CQF_ping, the struct crt_req_format that registers them. KIND is
 *     CRT_VAR    a value, processed by crt_proc_<type>(proc, op, &field)
 *     CRT_PTR    a pointer to the type, processed by crt_proc_<type>(proc, op, &field)
 *     CRT_ARRAY  struct { uint64_t ca_count; type *ca_arrays; }: the count as a uint64_t, then
 *                each element with crt_proc_<type>; decoding allocates ca_arrays
 *     CRT_RAW    the field's bytes, with crt_proc_memcpy
 * A type written `struct tag` is processed by crt_proc_struct_tag. A struct with a hole
 * between fields is refused at compile time (its encoding would carry padding).
 */
#define CRT_VAR   (0)
#define CRT_PTR   (1)
#define CRT_ARRAY (2)
#define CRT_RAW   (3)

/* The parts of one field. */
#define CRT_GEN_GET_TYPE(seq) BOOST_PP_SEQ_ELEM(0, seq)
#define CRT_GEN_GET_NAME(seq) BOOST_PP_SEQ_ELEM(1, seq)
#define CRT_GEN_GET_KIND(seq) BOOST_PP_SEQ_ELEM(2, seq)

/* crt_proc_<type>, or crt_proc_struct_<tag> for `struct tag`: pasting the type after a probe
 * prefix turns `struct tag` into a two-argument list (CRT_PP_PROBE_struct adds the comma),
 * every other type stays one argument. */
#define CRT_PP_PROBE_struct CRT_PP_STRUCT_TYPE,
#define CRT_PP_PROC_FN(type)            CRT_PP_PROC_FN_I(CRT_PP_PROBE_##type, crt_proc_##type)
#define CRT_PP_PROC_FN_I(...)           CRT_PP_PROC_FN_II(__VA_ARGS__)
#define CRT_PP_PROC_FN_II(...)          BOOST_PP_OVERLOAD(CRT_PP_PROC_FN_, __VA_ARGS__)(__VA_ARGS__)
#define CRT_PP_PROC_FN_2(probe, fn)     fn
#define CRT_PP_PROC_FN_3(mark, tag, fn) crt_proc_struct_##tag
#define CRT_PP_PROC_FN_OF(type)         CRT_PP_PROC_FN(type)
#define CRT_GEN_GET_FUNC(seq)           CRT_PP_PROC_FN_OF(CRT_GEN_GET_TYPE(seq))

/* The unwind label of a field. */
#define CRT_GEN_FAIL_LABEL(seq) BOOST_PP_CAT(crt_unwind_, CRT_GEN_GET_NAME(seq))

/* Struct members, by kind (the kind number selects the macro). */
#define CRT_PP_MEMBER_0(f) CRT_GEN_GET_TYPE(f) CRT_GEN_GET_NAME(f);
#define CRT_PP_MEMBER_1(f) CRT_GEN_GET_TYPE(f) *CRT_GEN_GET_NAME(f);
#define CRT_PP_MEMBER_2(f)                                                                         \
	struct {                                                                                   \
		uint64_t             ca_count;                                                     \
		CRT_GEN_GET_TYPE(f) *ca_arrays;                                                    \
	} CRT_GEN_GET_NAME(f);
#define CRT_PP_MEMBER_3(f)          CRT_PP_MEMBER_0(f)
#define CRT_GEN_STRUCT_FIELD(f)     BOOST_PP_CAT(CRT_PP_MEMBER_, CRT_GEN_GET_KIND(f))(f)
#define CRT_PP_MEMBER(r, data, f)   CRT_GEN_STRUCT_FIELD(f)

/* struct NAME with the members of a field list. */
#define CRT_GEN_STRUCT(struct_type_name, seq)                                                      \
	struct struct_type_name {                                                                  \
		BOOST_PP_SEQ_FOR_EACH(CRT_PP_MEMBER, ~, seq)                                       \
	};

/* Processing one field of *ptr with proc_op (CRT_PP_DO_k), and undoing it after a later field
 * failed (CRT_PP_UNDO_k, run in reverse field order; a failing field jumps to its own label,
 * which comes after its undo step). */
#define CRT_PP_DO_VALUE(f)                                                                         \
	rc = CRT_GEN_GET_FUNC(f)(proc, proc_op, &ptr->CRT_GEN_GET_NAME(f));                        \
	if (unlikely(rc))                                                                          \
		goto CRT_GEN_FAIL_LABEL(f);
#define CRT_PP_UNDO_VALUE(f)                                                                       \
	(void)CRT_GEN_GET_FUNC(f)(proc, CRT_PROC_FREE, &ptr->CRT_GEN_GET_NAME(f));                 \
	CRT_GEN_FAIL_LABEL(f):;

#define CRT_PP_DO_ARRAY(f)                                                                         \
	do {                                                                                       \
		CRT_GEN_GET_TYPE(f) **a_slot = &ptr->CRT_GEN_GET_NAME(f).ca_arrays;                \
		CRT_GEN_GET_TYPE(f) *a_elems = *a_slot;                                            \
		uint64_t a_n = ptr->CRT_GEN_GET_NAME(f).ca_count;                                  \
		uint64_t a_i;                                                                      \
		if (proc_op == CRT_PROC_DECODE)                                                    \
			*a_slot = NULL;                                                            \
		rc = crt_proc_uint64_t(proc, proc_op, &a_n);                                       \
		if (unlikely(rc))                                                                  \
			goto CRT_GEN_FAIL_LABEL(f);                                                \
		ptr->CRT_GEN_GET_NAME(f).ca_count = a_n;                                           \
		if (unlikely(a_n == 0))                                                            \
			break;                                                                     \
		if (proc_op == CRT_PROC_DECODE) {                                                  \
			D_ALLOC_ARRAY(a_elems, (int)a_n);                                          \
			if (unlikely(a_elems == NULL)) {                                           \
				rc = -DER_NOMEM;                                                   \
				goto CRT_GEN_FAIL_LABEL(f);                                        \
			}                                                                          \
			*a_slot = a_elems;                                                         \
		}                                                                                  \
		for (a_i = 0; a_i < a_n && a_elems != NULL; a_i++) {                               \
			rc = CRT_GEN_GET_FUNC(f)(proc, proc_op, &a_elems[a_i]);                    \
			if (unlikely(rc)) {                                                        \
				if (proc_op == CRT_PROC_DECODE)                                    \
					ptr->CRT_GEN_GET_NAME(f).ca_count = a_i;                   \
				goto CRT_GEN_FAIL_LABEL(f);                                        \
			}                                                                          \
		}                                                                                  \
		if (proc_op == CRT_PROC_FREE)                                                      \
			D_FREE(*a_slot);                                                           \
	} while (0);
#define CRT_PP_UNDO_ARRAY(f)                                                                       \
	CRT_GEN_FAIL_LABEL(f) : if (proc_op == CRT_PROC_DECODE)                                    \
	{                                                                                          \
		CRT_GEN_GET_TYPE(f) **a_slot = &ptr->CRT_GEN_GET_NAME(f).ca_arrays;                \
		CRT_GEN_GET_TYPE(f) *a_elems = *a_slot;                                            \
		uint64_t a_n = ptr->CRT_GEN_GET_NAME(f).ca_count;                                  \
		uint64_t a_i;                                                                      \
		for (a_i = 0; a_i < a_n && a_elems != NULL; a_i++)                                 \
			(void)CRT_GEN_GET_FUNC(f)(proc, CRT_PROC_FREE, &a_elems[a_i]);             \
		D_FREE(*a_slot);                                                                   \
		ptr->CRT_GEN_GET_NAME(f).ca_count = 0;                                             \
	}

#define CRT_PP_DO_RAW(f)                                                                           \
	rc = crt_proc_memcpy(proc, proc_op, &ptr->CRT_GEN_GET_NAME(f),                             \
			     sizeof(CRT_GEN_GET_TYPE(f)));                                         \
	if (unlikely(rc))                                                                          \
		goto CRT_GEN_FAIL_LABEL(f);
#define CRT_PP_UNDO_RAW(f) CRT_GEN_FAIL_LABEL(f):;

#define CRT_PP_DO_0(f)   CRT_PP_DO_VALUE(f)
#define CRT_PP_DO_1(f)   CRT_PP_DO_VALUE(f)
#define CRT_PP_DO_2(f)   CRT_PP_DO_ARRAY(f)
#define CRT_PP_DO_3(f)   CRT_PP_DO_RAW(f)
#define CRT_PP_UNDO_0(f) CRT_PP_UNDO_VALUE(f)
#define CRT_PP_UNDO_1(f) CRT_PP_UNDO_VALUE(f)
#define CRT_PP_UNDO_2(f) CRT_PP_UNDO_ARRAY(f)
#define CRT_PP_UNDO_3(f) CRT_PP_UNDO_RAW(f)
#define CRT_PP_DO(r, data, f)   BOOST_PP_CAT(CRT_PP_DO_, CRT_GEN_GET_KIND(f))(f)
#define CRT_PP_UNDO(r, data, f) BOOST_PP_CAT(CRT_PP_UNDO_, CRT_GEN_GET_KIND(f))(f)

/* static int crt_proc_NAME(crt_proc_t proc, struct NAME *ptr): every field in order; on an
 * error, what was done is undone and the error returned. */
#define CRT_GEN_PROC_FUNC(type_name, seq)                                                          \
	static int crt_proc_##type_name(crt_proc_t proc, struct type_name *ptr)                    \
	{                                                                                          \
		crt_proc_op_t proc_op;                                                             \
		int           rc;                                                                  \
		if (unlikely(proc == NULL || ptr == NULL))                                         \
			return -DER_INVAL;                                                         \
		rc = crt_proc_get_op(proc, &proc_op);                                              \
		if (unlikely(rc))                                                                  \
			return rc;                                                                 \
		BOOST_PP_SEQ_FOR_EACH(CRT_PP_DO, ~, seq)                                           \
		if (unlikely(rc)) {                                                                \
			BOOST_PP_SEQ_FOR_EACH(CRT_PP_UNDO, ~, BOOST_PP_SEQ_REVERSE(seq))           \
		}                                                                                  \
		return rc;                                                                         \
	}

/* No holes: the last member starts where the sizes of all the others add up to. */
#define CRT_PP_SIZE_ADD(r, sname, f) +sizeof(((struct sname *)0)->CRT_GEN_GET_NAME(f))
#define CRT_PP_NO_HOLES(sname, seq, what)                                                          \
	static_assert(offsetof(struct sname,                                                       \
			       CRT_GEN_GET_NAME(BOOST_PP_SEQ_ELEM(BOOST_PP_DEC(BOOST_PP_SEQ_SIZE(seq)), \
								  seq))) ==                        \
			  0 BOOST_PP_SEQ_FOR_EACH(CRT_PP_SIZE_ADD, sname,                          \
						  BOOST_PP_SEQ_POP_BACK(seq)),                     \
		      what " struct has a hole");

/* The input and output structs of an RPC (an empty list declares none) and its format. The
 * macro to apply is chosen before it expands, so an empty list never reaches it. */
#define CRT_PP_NOTHING(...)
#define CRT_PP_IF_FIELDS(seq, macro)                                                               \
	BOOST_PP_IIF(BOOST_PP_BOOL(BOOST_PP_SEQ_SIZE(seq)), macro, CRT_PP_NOTHING)
#define CRT_RPC_DECLARE(rpc_name, fields_in, fields_out)                                           \
	CRT_PP_IF_FIELDS(fields_in, CRT_GEN_STRUCT)(rpc_name##_in, fields_in)                      \
	CRT_PP_IF_FIELDS(fields_out, CRT_GEN_STRUCT)(rpc_name##_out, fields_out)                   \
	CRT_PP_IF_FIELDS(fields_out, CRT_PP_NO_HOLES)(rpc_name##_out, fields_out,                  \
						      #rpc_name " output")                         \
	CRT_PP_IF_FIELDS(fields_in, CRT_PP_NO_HOLES)(rpc_name##_in, fields_in, #rpc_name " input")  \
	extern struct crt_req_format CQF_##rpc_name;

#if D_HAS_WARNING(8, "-Wsizeof-pointer-div")
#define CRT_DISABLE_SIZEOF_POINTER_DIV _Pragma("GCC diagnostic ignored \"-Wsizeof-pointer-div\"")
#else
#define CRT_DISABLE_SIZEOF_POINTER_DIV
#endif

/* The proc functions of an RPC's structs and CQF_<rpc_name>. */
#define CRT_RPC_DEFINE(rpc_name, fields_in, fields_out)                                            \
	CRT_PP_IF_FIELDS(fields_in, CRT_GEN_PROC_FUNC)(rpc_name##_in, fields_in)                   \
	CRT_PP_IF_FIELDS(fields_out, CRT_GEN_PROC_FUNC)(rpc_name##_out, fields_out)                \
	_Pragma("GCC diagnostic push") CRT_DISABLE_SIZEOF_POINTER_DIV                              \
	struct crt_req_format CQF_##rpc_name = {                                                   \
	    .crf_proc_in  = (crt_proc_cb_t)BOOST_PP_IF(BOOST_PP_SEQ_SIZE(fields_in),               \
						       crt_proc_##rpc_name##_in, NULL),            \
	    .crf_proc_out = (crt_proc_cb_t)BOOST_PP_IF(BOOST_PP_SEQ_SIZE(fields_out),              \
						       crt_proc_##rpc_name##_out, NULL),           \
	    .crf_size_in  = BOOST_PP_IF(BOOST_PP_SEQ_SIZE(fields_in),                              \
					sizeof(struct rpc_name##_in), 0),                          \
	    .crf_size_out = BOOST_PP_IF(BOOST_PP_SEQ_SIZE(fields_out),                             \
					sizeof(struct rpc_name##_out), 0)};                        \
	_Pragma("GCC diagnostic pop")

#define CRT_RPC_CORPC_REGISTER(opcode, rpc_name, rpc_handler, co_ops)                              \
	crt_corpc_register(opcode, &CQF_##rpc_name, rpc_handler, co_ops)
#define CRT_RPC_SRV_REGISTER(opcode, flags, rpc_name, rpc_handler)                                 \
	crt_rpc_srv_register(opcode, flags, &CQF_##rpc_name, rpc_handler)
#define CRT_RPC_REGISTER(opcode, flags, rpc_name) crt_rpc_register(opcode, flags, &CQF_##rpc_name)

/* Registers an opcode for sending (client side); flags are CRT_RPC_FEAT_*. */
int
crt_rpc_register(crt_opcode_t opc, uint32_t flags, struct crt_req_format *drf);

/* How the engine runs handlers on its own threads: called with the handler to run. */
typedef int (*crt_rpc_task_t)(crt_context_t *ctx, void *rpc_hdlr_arg, void (*rpc_hdlr)(void *),
			      void *arg);

int
crt_context_register_rpc_task(crt_context_t crt_ctx, crt_rpc_task_t rpc_cb,
			      crt_rpc_task_t iv_resp_cb, void *arg);
/* Registers an opcode with its handler (server side). */
int
crt_rpc_srv_register(crt_opcode_t opc, uint32_t flags, struct crt_req_format *crf,
		     crt_rpc_cb_t rpc_handler);

/* ---------------------------------------------------------------------------------------------
 * Bulk
 */

int
crt_bulk_create(crt_context_t crt_ctx, d_sg_list_t *sgl, crt_bulk_perm_t bulk_perm,
		crt_bulk_t *bulk_hdl);
int
crt_bulk_bind(crt_bulk_t bulk_hdl, crt_context_t crt_ctx);
int
crt_bulk_addref(crt_bulk_t bulk_hdl);
/* The segments of a local bulk handle (sgl->sg_nr must be large enough; sg_nr_out is set). */
int
crt_bulk_access(crt_bulk_t bulk_hdl, d_sg_list_t *sgl);
int
crt_bulk_free(crt_bulk_t bulk_hdl);
int
crt_bulk_transfer(struct crt_bulk_desc *bulk_desc, crt_bulk_cb_t complete_cb, void *arg,
		  crt_bulk_opid_t *opid);
int
crt_bulk_bind_transfer(struct crt_bulk_desc *bulk_desc, crt_bulk_cb_t complete_cb, void *arg,
		       crt_bulk_opid_t *opid);
int
crt_bulk_get_len(crt_bulk_t bulk_hdl, size_t *bulk_len);
int
crt_bulk_get_sgnum(crt_bulk_t bulk_hdl, unsigned int *bulk_sgnum);
int
crt_bulk_abort(crt_context_t crt_ctx, crt_bulk_opid_t opid);

/* ---------------------------------------------------------------------------------------------
 * Collective RPC trees
 */

/* A tree topology is (type << CRT_TREE_TYPE_SHIFT) | branch ratio. */
#define CRT_TREE_TYPE_SHIFT (16U)
#define CRT_TREE_MAX_RATIO  (64)
#define CRT_TREE_MIN_RATIO  (2)

enum crt_tree_type {
	CRT_TREE_INVALID = 0,
	CRT_TREE_MIN     = 1,
	CRT_TREE_FLAT    = 1, /* the root sends to everyone */
	CRT_TREE_KARY    = 2,
	CRT_TREE_KNOMIAL = 3,
	CRT_TREE_MAX     = 3,
};

/* The topology code of a tree type and branch ratio, or -DER_INVAL. */
static inline int
crt_tree_topo(enum crt_tree_type tree_type, uint32_t branch_ratio)
{
	if (tree_type < CRT_TREE_MIN || tree_type > CRT_TREE_MAX)
		return -DER_INVAL;

	return (tree_type << CRT_TREE_TYPE_SHIFT) |
	       (branch_ratio & ((1U << CRT_TREE_TYPE_SHIFT) - 1));
}

/* Hooks of a collective RPC. */
struct crt_corpc_ops {
	/* merges a child's reply (source) into this rank's (result) */
	int (*co_aggregate)(crt_rpc_t *source, crt_rpc_t *result, void *arg);
	/* runs before forwarding to the children */
	int (*co_pre_forward)(crt_rpc_t *rpc, void *arg);
	/* runs after the aggregated reply went back */
	int (*co_post_reply)(crt_rpc_t *rpc, void *arg);
};

/* ---------------------------------------------------------------------------------------------
 * Groups
 */

typedef int (*crt_grp_destroy_cb_t)(void *arg, int status);

crt_group_t *
crt_group_lookup(crt_group_id_t grp_id);
int
crt_group_destroy(crt_group_t *grp, crt_grp_destroy_cb_t grp_destroy_cb, void *arg);
/* Attaches to a server group through its saved configuration (crt_group_config_save). */
int
crt_group_attach(crt_group_id_t srv_grpid, crt_group_t **attached_grp);
int
crt_group_config_path_set(const char *path);
int
crt_group_config_save(crt_group_t *grp, bool forall);
int
crt_group_config_remove(crt_group_t *grp);
int
crt_group_detach(crt_group_t *attached_grp);
/* Primary rank to secondary rank, and back. */
int
crt_group_rank_p2s(crt_group_t *subgrp, d_rank_t rank_in, d_rank_t *rank_out);
int
crt_group_rank_s2p(crt_group_t *subgrp, d_rank_t rank_in, d_rank_t *rank_out);

/* A collective RPC over grp (minus filter_ranks, or only them with
 * CRT_RPC_FLAG_FILTER_INVERT) along the tree tree_topo. */
int
crt_corpc_req_create(crt_context_t crt_ctx, crt_group_t *grp, d_rank_list_t *filter_ranks,
		     crt_opcode_t opc, crt_bulk_t co_bulk_hdl, void *priv, uint32_t flags,
		     int tree_topo, crt_rpc_t **req);
int
crt_corpc_register(crt_opcode_t opc, struct crt_req_format *drf, crt_rpc_cb_t rpc_handler,
		   struct crt_corpc_ops *co_ops);

int
crt_group_rank(crt_group_t *grp, d_rank_t *rank);
int
crt_group_version(crt_group_t *grp, uint32_t *version);
int
crt_group_version_set(crt_group_t *grp, uint32_t version);
int
crt_group_size(crt_group_t *grp, uint32_t *size);

/* ---------------------------------------------------------------------------------------------
 * Serialisation ("proc") of RPC bodies; see docs/cart-proc.md for the byte format
 */

typedef enum {
	/* write the value into the buffer */
	CRT_PROC_ENCODE,
	/* read the value from the buffer, allocating what it points to */
	CRT_PROC_DECODE,
	/* release what a decode allocated */
	CRT_PROC_FREE
} crt_proc_op_t;

#define ENCODING(proc_op) (proc_op == CRT_PROC_ENCODE)
#define DECODING(proc_op) (proc_op == CRT_PROC_DECODE)
#define FREEING(proc_op)  (proc_op == CRT_PROC_FREE)

#define crt_proc_raw crt_proc_memcpy

int
crt_proc_get_op(crt_proc_t proc, crt_proc_op_t *proc_op);
/* data_size bytes as they are. */
int
crt_proc_memcpy(crt_proc_t proc, crt_proc_op_t proc_op, void *data, size_t data_size);
int
crt_proc_int8_t(crt_proc_t proc, crt_proc_op_t proc_op, int8_t *data);
int
crt_proc_uint8_t(crt_proc_t proc, crt_proc_op_t proc_op, uint8_t *data);
int
crt_proc_int16_t(crt_proc_t proc, crt_proc_op_t proc_op, int16_t *data);
int
crt_proc_uint16_t(crt_proc_t proc, crt_proc_op_t proc_op, uint16_t *data);
int
crt_proc_int32_t(crt_proc_t proc, crt_proc_op_t proc_op, int32_t *data);
int
crt_proc_uint32_t(crt_proc_t proc, crt_proc_op_t proc_op, uint32_t *data);
int
crt_proc_int64_t(crt_proc_t proc, crt_proc_op_t proc_op, int64_t *data);
int
crt_proc_uint64_t(crt_proc_t proc, crt_proc_op_t proc_op, uint64_t *data);
int
crt_proc_bool(crt_proc_t proc, crt_proc_op_t proc_op, bool *data);
int
crt_proc_crt_bulk_t(crt_proc_t proc, crt_proc_op_t proc_op, crt_bulk_t *bulk_hdl);
int
crt_proc_d_string_t(crt_proc_t proc, crt_proc_op_t proc_op, d_string_t *data);
int
crt_proc_d_const_string_t(crt_proc_t proc, crt_proc_op_t proc_op, d_const_string_t *data);
int
crt_proc_uuid_t(crt_proc_t proc, crt_proc_op_t proc_op, uuid_t *data);
int
crt_proc_d_rank_list_t(crt_proc_t proc, crt_proc_op_t proc_op, d_rank_list_t **data);
int
crt_proc_d_iov_t(crt_proc_t proc, crt_proc_op_t proc_op, d_iov_t *data);
int
crt_proc_d_sg_list_t(crt_proc_t proc, crt_proc_op_t proc_op, d_sg_list_t *data);

/* A proc over buf (buf_size bytes) for one operation; crt_ctx may be NULL. */
int
crt_proc_create(crt_context_t crt_ctx, void *buf, size_t buf_size, crt_proc_op_t proc_op,
		crt_proc_t *proc);
int
crt_proc_destroy(crt_proc_t proc);
/* Points a proc at another buffer and operation, at offset 0. */
int
crt_proc_reset(crt_proc_t proc, void *buf, size_t buf_size, crt_proc_op_t proc_op);
/* Bytes encoded or decoded so far. */
size_t
crp_proc_get_size_used(crt_proc_t proc);

/* ---------------------------------------------------------------------------------------------
 * Callbacks
 */

/* Called from crt_progress() on context ctx_idx; returns the (possibly shortened) timeout. */
typedef int64_t (*crt_progress_cb)(crt_context_t ctx, int64_t timeout, void *arg);

int
crt_register_progress_cb(crt_progress_cb cb, int ctx_idx, void *arg);
int
crt_unregister_progress_cb(crt_progress_cb cb, int ctx_idx, void *arg);

enum crt_event_source {
	CRT_EVS_UNKNOWN,
	CRT_EVS_SWIM,   /* detected by SWIM */
	CRT_EVS_GRPMOD, /* a group modification */
};

enum crt_event_type {
	CRT_EVT_ALIVE,
	CRT_EVT_DEAD,
};

typedef void (*crt_event_cb)(d_rank_t rank, uint64_t incarnation, enum crt_event_source src,
			     enum crt_event_type type, void *arg);

int
crt_register_event_cb(crt_event_cb event_handler, void *arg);
int
crt_unregister_event_cb(crt_event_cb event_handler, void *arg);

/* Called when a peer's clock is too far from ours. */
typedef void (*crt_hlc_error_cb)(void *arg);

int
crt_register_hlc_error_cb(crt_hlc_error_cb event_handler, void *arg);

/* ---------------------------------------------------------------------------------------------
 * Protocols
 */

int
crt_proto_register(struct crt_proto_format *cpf);
/* Asks tgt_ep which of count versions (ver[]) of a protocol it knows; cb gets the highest. */
int
crt_proto_query(crt_endpoint_t *tgt_ep, crt_opcode_t base_opc, uint32_t *ver, int count,
		uint32_t timeout, crt_proto_query_cb_t cb, void *arg);
int
crt_proto_query_with_ctx(crt_endpoint_t *tgt_ep, crt_opcode_t base_opc, uint32_t *ver, int count,
			 uint32_t timeout, crt_proto_query_cb_t cb, void *arg, crt_context_t ctx);

/* ---------------------------------------------------------------------------------------------
 * Membership
 */

/* Sets this server's rank in the primary group. */
int
crt_rank_self_set(d_rank_t rank, uint32_t group_version_min);
/* The address of rank:tag; the caller frees *uri. */
int
crt_rank_uri_get(crt_group_t *grp, d_rank_t rank, int tag, char **uri);
int
crt_rank_state_get(crt_group_t *grp, d_rank_t rank, struct swim_member_state *state);
int
crt_group_rank_remove(crt_group_t *group, d_rank_t rank);
int
crt_self_uri_get(int tag, char **uri);
int
crt_self_incarnation_get(uint64_t *incarnation);
/* The group's ranks; the caller frees *list with d_rank_list_free(). */
int
crt_group_ranks_get(crt_group_t *group, d_rank_list_t **list);
int
crt_group_view_create(crt_group_id_t grpid, crt_group_t **ret_grp);
int
crt_group_view_destroy(crt_group_t *grp);
int
crt_group_primary_rank_add(crt_context_t ctx, crt_group_t *grp, d_rank_t primary_rank,
			   char *uri);
int
crt_group_secondary_rank_add(crt_group_t *grp, d_rank_t secondary_rank, d_rank_t primary_rank);
int
crt_group_secondary_create(crt_group_id_t grp_name, crt_group_t *primary_grp,
			   d_rank_list_t *ranks, crt_group_t **ret_grp);
/* Whether ranks SWIM declares dead leave this secondary group by themselves. */
int
crt_group_auto_rank_remove(crt_group_t *grp, bool enable);
int
crt_group_secondary_destroy(crt_group_t *grp);
/* Changes the primary group to version `version` (it must be newer: -DER_GRPVER if not). */
int
crt_group_primary_modify(crt_group_t *grp, crt_context_t *ctxs, int num_ctxs,
			 d_rank_list_t *ranks, uint64_t *incarnations, char **uris,
			 crt_group_mod_op_t op, uint32_t version);
int
crt_group_secondary_modify(crt_group_t *grp, d_rank_list_t *sec_ranks,
			   d_rank_list_t *prim_ranks, crt_group_mod_op_t op, uint32_t version);

int
crt_swim_init(int crt_ctx_idx);
void
crt_swim_fini(void);

/* Proc functions for the type names field lists use. */
#define crt_proc__Bool          crt_proc_bool
#define crt_proc_d_rank_t       crt_proc_uint32_t
#define crt_proc_int            crt_proc_int32_t
#define crt_proc_crt_status_t   crt_proc_int32_t
#define crt_proc_crt_group_id_t crt_proc_d_string_t

/* Errors worth logging below ERR level. */
static inline bool
crt_quiet_error(int err)
{
	return err == -DER_GRPVER;
}

int
crt_context_quota_limit_set(crt_context_t crt_ctx, crt_quota_type_t quota, int value);
int
crt_context_quota_limit_get(crt_context_t crt_ctx, crt_quota_type_t quota, int *value);
/* The address the RPC came from. */
char *
crt_req_origin_addr_get(crt_rpc_t *rpc);
/* The protocol version of an RPC, or a negative error. */
int
crt_req_get_proto_ver(crt_rpc_t *req);

#if defined(__cplusplus)
}
#endif

#endif /* __CRT_API_H__ */
