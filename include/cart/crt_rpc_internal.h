/* oxidaos: CaRT's internal RPC entry points that libcart exports without a public header
 * (upstream declares them in its private crt_rpc.h). The private RPC is opaque here: its
 * first member is the crt_rpc_t the public API hands out. */
#ifndef OXIDAOS_CART_CRT_RPC_INTERNAL_H
#define OXIDAOS_CART_CRT_RPC_INTERNAL_H

struct crt_rpc_priv;

/* Frees an RPC whose reference count dropped to zero. */
void crt_req_destroy(struct crt_rpc_priv *rpc_priv);

#endif
