/*
 * oxidaos: internal CaRT entry points that libcart exports without a public header upstream
 * (their declarations live in upstream's crt_internal_*.h, crt_group.h, crt_rpc.h), declared
 * here with upstream's types so code built against CaRT's internal headers links unchanged.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#ifndef OXIDAOS_CART_CRT_MISC_H
#define OXIDAOS_CART_CRT_MISC_H

#include <stdbool.h>
#include <stdint.h>
#include <cart/api.h>
#include <cart/crt_provider.h>

#if defined(__cplusplus)
extern "C" {
#endif

/*
 * The environment variables CaRT reads, in the order of the fields of struct crt_envs.
 * ENV(NAME): an unsigned integer (gurt's d_getenv_uint); ENV_STR(NAME): a string (gurt's
 * d_agetenv_str). crt_init fills crt_genvs from the environment; crt_finalize releases it.
 */
#define CRT_ENV_LIST                                                                               \
	ENV_STR(CRT_ATTACH_INFO_PATH)                                                              \
	ENV(CRT_CREDIT_EP_CTX)                                                                     \
	ENV(CRT_CTX_NUM)                                                                           \
	ENV(CRT_CXI_INIT_RETRY)                                                                    \
	ENV(CRT_ENABLE_MEM_PIN)                                                                    \
	ENV_STR(CRT_L_GRP_CFG)                                                                     \
	ENV(CRT_L_RANK)                                                                            \
	ENV(CRT_MRC_ENABLE)                                                                        \
	ENV(CRT_SECONDARY_PROVIDER)                                                                \
	ENV(CRT_TIMEOUT)                                                                           \
	ENV(DAOS_RPC_SIZE_LIMIT)                                                                   \
	ENV(DAOS_SIGNAL_REGISTER)                                                                  \
	ENV_STR(DAOS_TEST_SHARED_DIR)                                                              \
	ENV_STR(DD_MASK)                                                                           \
	ENV_STR(DD_STDERR)                                                                         \
	ENV_STR(DD_SUBSYS)                                                                         \
	ENV_STR(D_ADDR_FORMAT)                                                                     \
	ENV_STR(D_CLIENT_METRICS_DUMP_DIR)                                                         \
	ENV(D_CLIENT_METRICS_ENABLE)                                                               \
	ENV(D_CLIENT_METRICS_RETAIN)                                                               \
	ENV_STR(D_DOMAIN)                                                                          \
	ENV_STR(D_FI_CONFIG)                                                                       \
	ENV_STR(D_INTERFACE)                                                                       \
	ENV_STR(D_LOG_FILE)                                                                        \
	ENV_STR(D_LOG_FILE_APPEND_PID)                                                             \
	ENV_STR(D_LOG_FILE_APPEND_RANK)                                                            \
	ENV_STR(D_LOG_FLUSH)                                                                       \
	ENV_STR(D_LOG_MASK)                                                                        \
	ENV_STR(D_LOG_SIZE)                                                                        \
	ENV(D_LOG_STDERR_IN_LOG)                                                                   \
	ENV(D_POLL_TIMEOUT)                                                                        \
	ENV_STR(D_PORT)                                                                            \
	ENV(D_PORT_AUTO_ADJUST)                                                                    \
	ENV(D_THREAD_MODE_SINGLE)                                                                  \
	ENV(D_PROGRESS_BUSY)                                                                       \
	ENV(D_MEM_DEVICE)                                                                          \
	ENV(D_PROGRESS_LEGACY)                                                                     \
	ENV(D_PROGRESS_SPINDOWN)                                                                   \
	ENV(D_POST_INCR)                                                                           \
	ENV(D_POST_INIT)                                                                           \
	ENV(D_MRECV_BUF)                                                                           \
	ENV(D_MRECV_BUF_COPY)                                                                      \
	ENV_STR(D_PROVIDER)                                                                        \
	ENV_STR(D_PROVIDER_AUTH_KEY)                                                               \
	ENV_STR(SLINGSHOT_VNIS)                                                                    \
	ENV(D_QUOTA_RPCS)                                                                          \
	ENV(D_QUOTA_BULKS)                                                                         \
	ENV(FI_OFI_RXM_USE_SRX)                                                                    \
	ENV(FI_UNIVERSE_SIZE)                                                                      \
	ENV(SWIM_PING_TIMEOUT)                                                                     \
	ENV(SWIM_PROTOCOL_PERIOD_LEN)                                                              \
	ENV(SWIM_SUBGROUP_SIZE)                                                                    \
	ENV(SWIM_SUSPECT_TIMEOUT)                                                                  \
	ENV_STR(SWIM_TRAFFIC_CLASS)                                                                \
	ENV_STR(UCX_IB_FORK_INIT)


/* Longest string value accepted (including its NUL): crt_init fails with -DER_INVAL beyond. */
#define CRT_ENV_STR_MAX_SIZE 1024

#define ENV(x)                                                                                     \
	unsigned int _##x;                                                                         \
	int          _rc_##x;
#define ENV_STR(x)                                                                                 \
	char *_##x;                                                                                \
	int   _rc_##x;

/* For each variable X: _X, its value, and _rc_X, 0 when it was set and parsed, else the
 * negative DER_* of the lookup (-DER_NONEXIST when unset). inited: filled by crt_init. */
struct crt_envs {
	CRT_ENV_LIST;
	bool inited;
};

#undef ENV
#undef ENV_STR

extern struct crt_envs crt_genvs;

/* *val = the value of variable `name` (a bare name from CRT_ENV_LIST) when it was set at
 * crt_init; *val unchanged otherwise. Only between crt_init and crt_finalize. */
#define crt_env_get(name, val)                                                                     \
	do {                                                                                       \
		D_ASSERT(crt_genvs.inited);                                                        \
		if (crt_genvs._rc_##name == 0)                                                     \
			*(val) = crt_genvs._##name;                                                \
	} while (0)

/* Whether variable `name` was set (and parsed) at crt_init. */
#define crt_env_is_set(name) (crt_genvs._rc_##name == 0)

/* crt_init has succeeded and crt_finalize has not released it. */
bool
crt_initialized(void);

/* 0 when grpid is a valid group name (1 to CRT_GROUP_ID_MAX_LEN printable characters, none of
 * ; " ` ' \), -DER_INVAL otherwise (also for NULL). */
int
crt_validate_grpid(const crt_group_id_t grpid);

/* Whether the context is on the primary provider (every context here is); false for NULL or a
 * handle that is not a live context. */
bool
crt_context_is_primary(crt_context_t crt_ctx);

/* Whether no context exists on the primary provider. The provider argument is ignored, as
 * upstream; `locked` says the caller already holds the library's context lock (no difference
 * here: that lock is never held outside the library). */
bool
crt_context_empty(crt_provider_t provider, int locked);

/* The context with index ctx_idx, or NULL. The _locked form is for callers holding the
 * context lock upstream; here both are the same. */
crt_context_t
crt_context_lookup(int ctx_idx);
crt_context_t
crt_context_lookup_locked(int ctx_idx);

/* Calls every callback registered with crt_register_event_cb, in registration order. */
void
crt_trigger_event_cbs(d_rank_t rank, uint64_t incarnation, enum crt_event_source src,
		      enum crt_event_type type);

/* crt_proto_register for CaRT's own base opcode: only cpf_base == CRT_PROTO_BASEOPC_MASK
 * (0xFF000000) is accepted (-DER_INVAL otherwise); the rest as crt_proto_register. */
int
crt_proto_register_internal(struct crt_proto_format *cpf);

/* crt_proto_query_with_ctx under its internal name (ctx NULL: context 0). */
int
crt_proto_query_int(crt_endpoint_t *tgt_ep, crt_opcode_t base_opc, uint32_t *ver, int count,
		    uint32_t timeout, crt_proto_query_cb_t cb, void *arg, crt_context_t ctx);

/* Names an opcode for log messages: *module_name is "CART" or "SWIM" for CaRT's own bases,
 * the DAOS_MODULE_LIST name of a DAOS module id, else "CUSTOM"; *opc_name the RPC's name when
 * known (CaRT's RPCs; DAOS's mgmt, pool, container, object and pipeline RPCs), else "".
 * Both are static strings. A NULL out-pointer is skipped. */
void
crt_opc_decode(crt_opcode_t crt_opc, char **module_name, char **opc_name);

#if defined(__cplusplus)
}
#endif

#endif /* OXIDAOS_CART_CRT_MISC_H */
