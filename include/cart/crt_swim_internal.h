/* oxidaos: CaRT's internal SWIM entry points (upstream exports them from libcart without a
 * public header; declared here so the Rust definitions are tied to these types). The group
 * argument is opaque: SWIM only runs on the primary group. */
#ifndef OXIDAOS_CART_CRT_SWIM_H
#define OXIDAOS_CART_CRT_SWIM_H
#include <stdint.h>
#include <gurt/types.h>

struct crt_grp_priv;
struct crt_req_format;

/* The request format of SWIM's RPCs (PING and IREQ share it). */
extern struct crt_req_format CQF_crt_rpc_swim;

int  crt_swim_enable(struct crt_grp_priv *grp_priv, int crt_ctx_idx);
int  crt_swim_disable(struct crt_grp_priv *grp_priv, int crt_ctx_idx);
void crt_swim_disable_all(void);
void crt_swim_suspend_all(void);
void crt_swim_accommodate(void);
int  crt_swim_rank_add(struct crt_grp_priv *grp_priv, d_rank_t rank, uint64_t incarnation);
int  crt_swim_rank_del(struct crt_grp_priv *grp_priv, d_rank_t rank);
void crt_swim_rank_del_all(struct crt_grp_priv *grp_priv);
void crt_swim_rank_shuffle(struct crt_grp_priv *grp_priv);
int  crt_swim_rank_check(struct crt_grp_priv *grp_priv, d_rank_t rank, uint64_t incarnation);

#endif
