/* oxidaos: what upstream's cart_ctl and self_test tools (and crt_utils) reach in libcart:
 * the bodies, opcodes and entry points of CaRT's control and self-test protocols. Upstream
 * declares them in its private crt_rpc.h / crt_self_test.h / crt_internal_fns.h and exports
 * them from libcart; they are declared here so the Rust definitions are tied to these types and
 * C code can build the bodies. The protocols:
 *   - control: CRT_OPC_CTL_LS in the internal protocol (0xFF000000, version 4), fault injection
 *     (0xF1000000, version 3) and ctl (0xF3000000, version 1);
 *   - self-test (0xF2000000, version 1).
 * Opcodes are CRT_PROTO_OPC(base, version, index). The CQF_<name> formats are declared (again,
 * by CRT_RPC_DECLARE) in <cart/crt_req_format.h>.
 */
#ifndef OXIDAOS_CART_CRT_TOOLS_INTERNAL_H
#define OXIDAOS_CART_CRT_TOOLS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <cart/types.h>
#include <cart/api.h>
#include <cart/crt_req_format.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* Protocol bases and versions. */
#define CRT_OPC_INTERNAL_BASE      0xFF000000UL
#define CRT_PROTO_INTERNAL_VERSION 4
#define CRT_OPC_FI_BASE            0xF1000000UL
#define CRT_PROTO_FI_VERSION       3
#define CRT_OPC_ST_BASE            0xF2000000UL
#define CRT_PROTO_ST_VERSION       1
#define CRT_OPC_CTL_BASE           0xF3000000UL
#define CRT_PROTO_CTL_VERSION      1

/* Opcodes, in each protocol's registration order. */
enum {
	CRT_OPC_URI_LOOKUP  = CRT_PROTO_OPC(CRT_OPC_INTERNAL_BASE, CRT_PROTO_INTERNAL_VERSION, 0),
	CRT_OPC_PROTO_QUERY = CRT_PROTO_OPC(CRT_OPC_INTERNAL_BASE, CRT_PROTO_INTERNAL_VERSION, 1),
	CRT_OPC_CTL_LS      = CRT_PROTO_OPC(CRT_OPC_INTERNAL_BASE, CRT_PROTO_INTERNAL_VERSION, 2),
};

enum {
	CRT_OPC_CTL_FI_TOGGLE   = CRT_PROTO_OPC(CRT_OPC_FI_BASE, CRT_PROTO_FI_VERSION, 0),
	CRT_OPC_CTL_FI_SET_ATTR = CRT_PROTO_OPC(CRT_OPC_FI_BASE, CRT_PROTO_FI_VERSION, 1),
};

enum {
	CRT_OPC_SELF_TEST_BOTH_EMPTY           = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 0),
	CRT_OPC_SELF_TEST_SEND_ID_REPLY_IOV    = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 1),
	CRT_OPC_SELF_TEST_SEND_IOV_REPLY_EMPTY = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 2),
	CRT_OPC_SELF_TEST_BOTH_IOV             = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 3),
	CRT_OPC_SELF_TEST_SEND_BULK_REPLY_IOV  = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 4),
	CRT_OPC_SELF_TEST_SEND_IOV_REPLY_BULK  = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 5),
	CRT_OPC_SELF_TEST_BOTH_BULK            = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 6),
	CRT_OPC_SELF_TEST_OPEN_SESSION         = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 7),
	CRT_OPC_SELF_TEST_CLOSE_SESSION        = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 8),
	CRT_OPC_SELF_TEST_START                = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 9),
	CRT_OPC_SELF_TEST_STATUS_REQ           = CRT_PROTO_OPC(CRT_OPC_ST_BASE, CRT_PROTO_ST_VERSION, 10),
};

enum {
	CRT_OPC_CTL_LOG_SET        = CRT_PROTO_OPC(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, 0),
	CRT_OPC_CTL_LOG_ADD_MSG    = CRT_PROTO_OPC(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, 1),
	CRT_OPC_CTL_GET_URI_CACHE  = CRT_PROTO_OPC(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, 2),
	CRT_OPC_CTL_GET_HOSTNAME   = CRT_PROTO_OPC(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, 3),
	CRT_OPC_CTL_GET_PID        = CRT_PROTO_OPC(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, 4),
	CRT_OPC_CTL_DUMP_COUNTERS  = CRT_PROTO_OPC(CRT_OPC_CTL_BASE, CRT_PROTO_CTL_VERSION, 5),
};

/* ---- the control protocol's bodies ---- */

/* One entry of a URI cache dump. */
#define CRT_SEQ_GRP_CACHE                                                                          \
	((d_rank_t)(gc_rank)CRT_VAR)((uint32_t)(gc_tag)CRT_VAR)((d_string_t)(gc_uri)CRT_VAR)
CRT_GEN_STRUCT(crt_grp_cache, CRT_SEQ_GRP_CACHE)

/* The input every rank-addressed control RPC shares: the target's group and rank. */
#define CRT_ISEQ_CTL ((crt_group_id_t)(cel_grp_id)CRT_VAR)((d_rank_t)(cel_rank)CRT_VAR)

/* The URIs of the contexts, NUL-separated in one buffer, and how many there are. */
#define CRT_OSEQ_CTL_EP_LS                                                                         \
	((d_iov_t)(cel_addr_str)CRT_VAR)((int32_t)(cel_ctx_num)CRT_VAR)((int32_t)(cel_rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_ep_ls, CRT_ISEQ_CTL, CRT_OSEQ_CTL_EP_LS)

#define CRT_OSEQ_CTL_GET_URI_CACHE                                                                 \
	((struct crt_grp_cache)(cguc_grp_cache)CRT_ARRAY)((int32_t)(cguc_rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_get_uri_cache, CRT_ISEQ_CTL, CRT_OSEQ_CTL_GET_URI_CACHE)

#define CRT_OSEQ_CTL_GET_HOST ((d_iov_t)(cgh_hostname)CRT_VAR)((int32_t)(cgh_rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_get_host, CRT_ISEQ_CTL, CRT_OSEQ_CTL_GET_HOST)

#define CRT_OSEQ_CTL_DUMP_COUNTERS ((uint32_t)(rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_dump_counters, CRT_ISEQ_CTL, CRT_OSEQ_CTL_DUMP_COUNTERS)

#define CRT_OSEQ_CTL_GET_PID ((int32_t)(cgp_pid)CRT_VAR)((int32_t)(cgp_rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_get_pid, CRT_ISEQ_CTL, CRT_OSEQ_CTL_GET_PID)

/* Fault attributes for one fault id (d_fault_attr_set); fa_argument travels but is not used. */
#define CRT_ISEQ_CTL_FI_ATTR_SET                                                                   \
	((uint32_t)(fa_fault_id)CRT_VAR)((uint32_t)(fa_interval)CRT_VAR)                           \
	((uint64_t)(fa_max_faults)CRT_VAR)((uint32_t)(fa_err_code)CRT_VAR)                         \
	((uint32_t)(fa_probability_x)CRT_VAR)((d_string_t)(fa_argument)CRT_VAR)                    \
	((uint32_t)(fa_probability_y)CRT_VAR)
#define CRT_OSEQ_CTL_FI_ATTR_SET ((int32_t)(fa_ret)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_fi_attr_set, CRT_ISEQ_CTL_FI_ATTR_SET, CRT_OSEQ_CTL_FI_ATTR_SET)

/* op: 1 enables fault injection, 0 disables it. */
#define CRT_ISEQ_CTL_FI_TOGGLE ((bool)(op)CRT_VAR)
#define CRT_OSEQ_CTL_FI_TOGGLE ((int32_t)(rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_fi_toggle, CRT_ISEQ_CTL_FI_TOGGLE, CRT_OSEQ_CTL_FI_TOGGLE)

#define CRT_ISEQ_CTL_LOG_SET ((d_string_t)(log_mask)CRT_VAR)
#define CRT_OSEQ_CTL_LOG_SET ((int32_t)(rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_log_set, CRT_ISEQ_CTL_LOG_SET, CRT_OSEQ_CTL_LOG_SET)

#define CRT_ISEQ_CTL_LOG_ADD_MSG ((d_string_t)(log_msg)CRT_VAR)
#define CRT_OSEQ_CTL_LOG_ADD_MSG ((int32_t)(rc)CRT_VAR)
CRT_RPC_DECLARE(crt_ctl_log_add_msg, CRT_ISEQ_CTL_LOG_ADD_MSG, CRT_OSEQ_CTL_LOG_ADD_MSG)

/* The control handlers (each replies before returning). */
void crt_hdlr_ctl_ls(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_get_uri_cache(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_get_hostname(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_get_pid(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_dump_counters(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_fi_toggle(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_fi_attr_set(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_log_set(crt_rpc_t *rpc_req);
void crt_hdlr_ctl_log_add_msg(crt_rpc_t *rpc_req);

/* A client's registration of the fault-injection / ctl protocol after asking ep which
 * version it serves (blocks until the answer; another thread must progress context 0):
 * 0, -DER_MISMATCH when the versions differ, or the query's or registration's error. */
int crt_register_proto_fi(crt_endpoint_t *ep);
int crt_register_proto_ctl(crt_endpoint_t *ep);

/* ---- the self-test protocol ---- */

#define CRT_ST_BUF_ALIGN_DEFAULT (-1)
#define CRT_ST_BUF_ALIGN_MIN     (0)
#define CRT_ST_BUF_ALIGN_MAX     (255)

enum crt_st_msg_type {
	CRT_SELF_TEST_MSG_TYPE_EMPTY = 0,
	CRT_SELF_TEST_MSG_TYPE_IOV,
	CRT_SELF_TEST_MSG_TYPE_BULK_PUT,
	CRT_SELF_TEST_MSG_TYPE_BULK_GET,
};

/* The input of OPEN_SESSION (it travels as four uint32_t, flags last). */
struct crt_st_session_params {
	uint32_t send_size;
	uint32_t reply_size;
	uint32_t num_buffers;
	union {
		struct {
			enum crt_st_msg_type send_type : 2;
			enum crt_st_msg_type reply_type : 2;
			int16_t              buf_alignment : 16;
		};
		uint32_t flags;
	};
};

/* A STATUS_REQ answer's status. */
enum crt_st_status {
	CRT_ST_STATUS_INVAL                     = -DER_INVAL,
	CRT_ST_STATUS_TEST_IN_PROGRESS          = -DER_BUSY,
	CRT_ST_STATUS_TEST_COMPLETE             = 0,
	CRT_ST_STATUS_TEST_COMPLETE_WITH_ERRORS = 1,
};

/* The test messages' inputs, by what they carry after the session id. */
struct crt_st_send_id_iov {
	int64_t session_id;
	d_iov_t buf;
};

struct crt_st_send_id_iov_bulk {
	int64_t    session_id;
	d_iov_t    buf;
	crt_bulk_t bulk_hdl;
};

struct crt_st_send_id_bulk {
	int64_t    session_id;
	crt_bulk_t bulk_hdl;
};

/* The input of START: the group and rank:tag pairs (uint32_t each) to test, and the run. */
struct crt_st_start_params {
	crt_group_id_t srv_grp;
	d_iov_t        endpts;
	uint32_t       rep_count;
	uint32_t       max_inflight;
	uint32_t       send_size;
	uint32_t       reply_size;
	union {
		struct {
			enum crt_st_msg_type send_type : 2;
			enum crt_st_msg_type reply_type : 2;
			int16_t              buf_alignment : 16;
		};
		uint32_t flags;
	};
};

/* One measured repetition, as STATUS_REQ transfers them into the requester's bulk. */
struct st_latency {
	int64_t  val;
	uint32_t rank;
	uint32_t tag;
	int32_t  cci_rc;
};

#define CRT_ISEQ_ST_SEND_ID          ((uint64_t)(unused1)CRT_VAR)
#define CRT_ISEQ_ST_SEND_ID_IOV      ((uint64_t)(unused1)CRT_VAR)((d_iov_t)(unused2)CRT_VAR)
#define CRT_ISEQ_ST_SEND_ID_IOV_BULK                                                               \
	((uint64_t)(unused1)CRT_VAR)((d_iov_t)(unused2)CRT_VAR)((crt_bulk_t)(unused3)CRT_VAR)
#define CRT_ISEQ_ST_SEND_ID_BULK     ((uint64_t)(unused1)CRT_VAR)((crt_bulk_t)(unused2)CRT_VAR)
#define CRT_OSEQ_ST_REPLY_EMPTY
#define CRT_OSEQ_ST_REPLY_IOV        ((d_iov_t)(unused1)CRT_VAR)

CRT_RPC_DECLARE(crt_st_send_id_reply_iov, CRT_ISEQ_ST_SEND_ID, CRT_OSEQ_ST_REPLY_IOV)
CRT_RPC_DECLARE(crt_st_send_iov_reply_empty, CRT_ISEQ_ST_SEND_ID_IOV, CRT_OSEQ_ST_REPLY_EMPTY)
CRT_RPC_DECLARE(crt_st_both_iov, CRT_ISEQ_ST_SEND_ID_IOV, CRT_OSEQ_ST_REPLY_IOV)
CRT_RPC_DECLARE(crt_st_send_iov_reply_bulk, CRT_ISEQ_ST_SEND_ID_IOV_BULK, CRT_OSEQ_ST_REPLY_EMPTY)
CRT_RPC_DECLARE(crt_st_send_bulk_reply_iov, CRT_ISEQ_ST_SEND_ID_BULK, CRT_OSEQ_ST_REPLY_IOV)
CRT_RPC_DECLARE(crt_st_both_bulk, CRT_ISEQ_ST_SEND_ID_BULK, CRT_OSEQ_ST_REPLY_EMPTY)

#define CRT_ISEQ_ST_SEND_SESSION                                                                   \
	((uint32_t)(unused1)CRT_VAR)((uint32_t)(unused2)CRT_VAR)((uint32_t)(unused3)CRT_VAR)       \
	((uint32_t)(unused4)CRT_VAR)
#define CRT_OSEQ_ST_REPLY_ID ((uint64_t)(unused1)CRT_VAR)
CRT_RPC_DECLARE(crt_st_open_session, CRT_ISEQ_ST_SEND_SESSION, CRT_OSEQ_ST_REPLY_ID)
CRT_RPC_DECLARE(crt_st_close_session, CRT_ISEQ_ST_SEND_ID, CRT_OSEQ_ST_REPLY_EMPTY)

#define CRT_ISEQ_ST_START                                                                          \
	((crt_group_id_t)(unused1)CRT_VAR)((d_iov_t)(unused2)CRT_VAR)((uint32_t)(unused3)CRT_VAR)  \
	((uint32_t)(unused4)CRT_VAR)((uint32_t)(unused5)CRT_VAR)((uint32_t)(unused6)CRT_VAR)       \
	((uint32_t)(unused7)CRT_VAR)
#define CRT_OSEQ_ST_START ((int32_t)(unused1)CRT_VAR)
CRT_RPC_DECLARE(crt_st_start, CRT_ISEQ_ST_START, CRT_OSEQ_ST_START)

#define CRT_ISEQ_ST_STATUS_REQ ((crt_bulk_t)(unused1)CRT_VAR)
#define CRT_OSEQ_ST_STATUS_REQ                                                                     \
	((uint64_t)(test_duration_ns)CRT_VAR)((uint32_t)(num_remaining)CRT_VAR)                    \
	((int32_t)(status)CRT_VAR)
CRT_RPC_DECLARE(crt_st_status_req, CRT_ISEQ_ST_STATUS_REQ, CRT_OSEQ_ST_STATUS_REQ)

/* Process-wide setup of the service (sessions) and client (test runs) sides; crt_init and
 * crt_finalize call them. */
void crt_self_test_init(void);
void crt_self_test_fini(void);
void crt_self_test_service_init(void);
void crt_self_test_service_fini(void);
void crt_self_test_client_init(void);
void crt_self_test_client_fini(void);

/* The service's reply to a test message: the buffer entry (opaque; NULL for a reply without
 * data) goes back to its session and the request's reference is dropped. The two bulk
 * callbacks are the service's pull (then push or reply) and push (then reply) completions;
 * their argument is a buffer entry. */
struct st_buf_entry;
void crt_self_test_msg_send_reply(crt_rpc_t *rpc_req, struct st_buf_entry *buf_entry, int do_decref);
int  crt_self_test_msg_bulk_get_cb(const struct crt_bulk_cb_info *cb_info);
int  crt_self_test_msg_bulk_put_cb(const struct crt_bulk_cb_info *cb_info);

/* The self-test handlers. */
void crt_self_test_msg_handler(crt_rpc_t *rpc_req);
void crt_self_test_open_session_handler(crt_rpc_t *rpc_req);
void crt_self_test_close_session_handler(crt_rpc_t *rpc_req);
void crt_self_test_start_handler(crt_rpc_t *rpc_req);
void crt_self_test_status_req_handler(crt_rpc_t *rpc_req);

#if defined(__cplusplus)
}
#endif

#endif /* OXIDAOS_CART_CRT_TOOLS_INTERNAL_H */
