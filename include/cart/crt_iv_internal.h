/* oxidaos: the incast-variable entry points libcart exports without a public header (DAOS
 * keeps them in its internal headers). Declared here so the Rust definitions are tied to these
 * types; applications use <cart/iv.h>.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#ifndef OXIDAOS_CART_CRT_IV_INTERNAL_H
#define OXIDAOS_CART_CRT_IV_INTERNAL_H
#include <cart/types.h>

struct crt_req_format;

/* Request formats of the three IV RPCs (protocol "incast", base 0xF4000000, version 2). */
extern struct crt_req_format CQF_crt_iv_fetch;
extern struct crt_req_format CQF_crt_iv_update;
extern struct crt_req_format CQF_crt_iv_sync;

/* Server sides of the IV RPCs. */
void crt_hdlr_iv_fetch(crt_rpc_t *rpc_req);
void crt_hdlr_iv_update(crt_rpc_t *rpc_req);
void crt_hdlr_iv_sync(crt_rpc_t *rpc_req);

/* Collective callbacks of the SYNC RPC. */
int  crt_iv_sync_corpc_aggregate(crt_rpc_t *source, crt_rpc_t *result, void *arg);
int  crt_iv_sync_corpc_pre_forward(crt_rpc_t *rpc, void *arg);

/* Takes the inline size limit of IV values from crt_init's options. */
void crt_iv_init(crt_init_options_t *ops);

#endif
