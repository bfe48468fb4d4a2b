/*
 * oxidaos: CaRT's public types, as in DAOS's cart/types.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * The handles, RPC descriptor, protocol tables, bulk descriptors and callback types shared by
 * cart/api.h, cart/iv.h and their callers. Layouts are DAOS's (compat/cart/layouts/ pins them).
 */
#ifndef __CRT_TYPES_H__
#define __CRT_TYPES_H__

#include <stdint.h>
#include <gurt/types.h>

/* One entry of the list crt_protocol_info_get() returns (freed by crt_protocol_info_free()). */
struct crt_protocol_info {
	struct crt_protocol_info *next;
	char                     *class_name;    /* transport plugin class */
	char                     *protocol_name; /* e.g. "tcp", "ofi+tcp" */
	char                     *device_name;   /* interface or domain */
};

/* crt_init_opt()'s optional settings; a NULL pointer means "use the environment". */
typedef struct crt_init_options {
	/* RPC timeout in seconds (0: CRT_TIMEOUT or the built-in default) */
	int      cio_crt_timeout;
	uint32_t cio_sep_override : 1, /* no longer used */
	    cio_use_sep : 1,           /* no longer used */
	    cio_fault_inject : 1,      /* turn fault injection on */
	    cio_use_sensors : 1,       /* publish telemetry */
	    cio_use_expected_size : 1, /* cio_max_expected_size is set */
	    cio_use_unexpected_size : 1; /* cio_max_unexpected_size is set */
	/* most contexts that may be created */
	int      cio_ctx_max_num;
	/* RPCs in flight per endpoint and context */
	int      cio_ep_credits;
	uint32_t cio_max_expected_size;
	uint32_t cio_max_unexpected_size;
	/* context that carries SWIM traffic */
	int      cio_swim_crt_idx;
	/* network selection, same syntax as D_PROVIDER, D_INTERFACE, D_DOMAIN, D_PORT */
	char    *cio_provider;
	char    *cio_interface;
	char    *cio_domain;
	char    *cio_port;
	char    *cio_auth_key;
	char    *cio_addr_format;
	bool     cio_thread_mode_single;
	bool     cio_progress_busy;
	bool     cio_mem_device;
	bool     cio_progress_legacy;
	unsigned int cio_progress_spindown;
} crt_init_options_t;

typedef int        crt_status_t;
typedef d_string_t crt_group_id_t;

/* Longest group name, terminating NUL included. */
#define CRT_GROUP_ID_MAX_LEN (64)
/* Longest address string (URI). */
#define CRT_ADDR_STR_MAX_LEN (128)
/* The name of the primary group when crt_init() is given none. */
#define CRT_DEFAULT_GRPID    "crt_default_group"
/* "No rank". */
#define CRT_NO_RANK          0xFFFFFFFF
/* "No incarnation". */
#define CRT_NO_INCARNATION   0

/* A group handle; cart's private group struct starts with it. */
typedef struct crt_group {
	crt_group_id_t cg_grpid;
} crt_group_t;

/* Where an RPC goes: group (NULL: the primary), rank in it, and context tag on that rank. */
typedef struct {
	crt_group_t *ep_grp;
	d_rank_t     ep_rank;
	uint32_t     ep_tag;
} crt_endpoint_t;

typedef void    *crt_context_t;
typedef uint32_t crt_opcode_t;
typedef void    *crt_rpc_input_t;
typedef void    *crt_rpc_output_t;
/* Opaque bulk handle and bulk handle array. */
typedef void    *crt_bulk_t;
typedef void    *crt_bulk_array_t;

#define CRT_BULK_NULL       (NULL)
/* Bounds on an RPC's encoded input and output. */
#define CRT_MAX_INPUT_SIZE  (0x4000000)
#define CRT_MAX_OUTPUT_SIZE (0x4000000)

/* Flags of collective RPCs. */
enum crt_rpc_flags {
	/* the filter list names the ranks to include, not those to skip */
	CRT_RPC_FLAG_FILTER_INVERT = (1U << 1),
	/* fail the whole collective RPC on the first child error */
	CRT_RPC_FLAG_CO_FAILOUT    = (1U << 2),
};

struct crt_rpc;

/* The public part of an RPC; cart's private request struct embeds it. */
typedef struct crt_rpc {
	crt_context_t    cr_ctx;
	crt_endpoint_t   cr_ep;
	crt_opcode_t     cr_opc;
	crt_rpc_input_t  cr_input;
	crt_rpc_output_t cr_output;
	size_t           cr_input_size;
	size_t           cr_output_size;
	/* bulk handle of a collective RPC */
	crt_bulk_t       cr_co_bulk_hdl;
} crt_rpc_t;

/* Opaque serialisation state (see crt_proc_create()). */
typedef void *crt_proc_t;
/* Encodes, decodes or frees one value of some type with a proc. */
typedef int (*crt_proc_cb_t)(crt_proc_t proc, void *data);

/* How an opcode's input and output bodies are sized and serialised. */
struct crt_req_format {
	crt_proc_cb_t crf_proc_in;
	crt_proc_cb_t crf_proc_out;
	const size_t  crf_size_in;
	const size_t  crf_size_out;
};

typedef void (*crt_rpc_cb_t)(crt_rpc_t *rpc);

/* One RPC of a protocol. */
struct crt_proto_rpc_format {
	struct crt_req_format *prf_req_fmt;
	crt_rpc_cb_t           prf_hdlr;
	struct crt_corpc_ops  *prf_co_ops;
	uint32_t               prf_flags; /* CRT_RPC_FEAT_* */
};

/* A protocol: a versioned, contiguous range of opcodes. */
struct crt_proto_format {
	const char                  *cpf_name;
	uint32_t                     cpf_ver;
	uint32_t                     cpf_count;
	struct crt_proto_rpc_format *cpf_prf;
	crt_opcode_t                 cpf_base;
};

/* The opcode of RPC number rpc_index of a protocol at a version. */
#define CRT_PROTO_OPC(base_opc, version, rpc_index)                                                \
	((uint32_t)(base_opc) | (uint32_t)(version) << 16 | (uint32_t)(rpc_index))

/* What a crt_proto_query() completion callback receives. */
struct crt_proto_query_cb_info {
	void *pq_arg;
	int   pq_ver; /* highest version both sides know */
	int   pq_rc;
};

typedef void (*crt_proto_query_cb_t)(struct crt_proto_query_cb_info *cb_info);

/* Direction of a bulk transfer. */
typedef enum {
	CRT_BULK_PUT = 0x68,
	CRT_BULK_GET,
} crt_bulk_op_t;

/* RPC feature bits (crt_rpc_register() flags, prf_flags). */
#define CRT_RPC_FEAT_NO_REPLY    (1U << 1) /* one-way */
#define CRT_RPC_FEAT_NO_TIMEOUT  (1U << 2) /* never times out */
#define CRT_RPC_FEAT_QUEUE_FRONT (1U << 3) /* queued ahead of others when credits run out */

typedef void *crt_bulk_opid_t;

/* Access a bulk handle grants its peer. */
typedef enum {
	CRT_BULK_RW = 0x88,
	CRT_BULK_RO,
	CRT_BULK_WO,
} crt_bulk_perm_t;

/* One bulk transfer. */
struct crt_bulk_desc {
	crt_rpc_t    *bd_rpc;
	crt_bulk_op_t bd_bulk_op;
	crt_bulk_t    bd_remote_hdl;
	off_t         bd_remote_off;
	crt_bulk_t    bd_local_hdl;
	off_t         bd_local_off;
	size_t        bd_len;
};

/* What an RPC completion callback receives. */
struct crt_cb_info {
	crt_rpc_t *cci_rpc;
	void      *cci_arg;
	/* 0, -DER_TIMEDOUT, -DER_CANCELED, ... */
	int        cci_rc;
};

/* What a bulk completion callback receives. */
struct crt_bulk_cb_info {
	struct crt_bulk_desc *bci_bulk_desc;
	void                 *bci_arg;
	int                   bci_rc;
	void                 *bci_complete_cb;
};

typedef void (*crt_cb_t)(const struct crt_cb_info *cb_info);
typedef void (*crt_generic_cb_t)(void *cb_info);
typedef int (*crt_bulk_cb_t)(const struct crt_bulk_cb_info *cb_info);
/* crt_progress_cond()'s stop condition: nonzero ends the progress loop. */
typedef int (*crt_progress_cond_cb_t)(void *arg);

/* crt_init() flags. */
enum crt_init_flag_bits {
	/* this process serves RPCs */
	CRT_FLAG_BIT_SERVER            = 1U << 0,
	/* do not start SWIM at init */
	CRT_FLAG_BIT_AUTO_SWIM_DISABLE = 1U << 1,
};

/* How crt_group_primary_modify() and crt_group_secondary_modify() change a membership. */
typedef enum {
	CRT_GROUP_MOD_OP_REPLACE = 0,
	CRT_GROUP_MOD_OP_ADD,
	CRT_GROUP_MOD_OP_REMOVE,
	CRT_GROUP_MOD_OP_COUNT,
} crt_group_mod_op_t;

/* Per-context resource quotas. */
typedef enum {
	CRT_QUOTA_RPCS,
	CRT_QUOTA_BULKS,
	CRT_QUOTA_COUNT,
} crt_quota_type_t;

#endif /* __CRT_TYPES_H__ */
