/*
 * oxidaos: CaRT's log facilities. Upstream declares them in its internal crt_debug.h; they are
 * exported data of libcart, and code built with CaRT's internal headers (cart_ctl, the test
 * helper crt_utils.c) logs through them, so they are declared here as libcart defines them.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Each facility NAME is an int, crt_NAME_logfac, holding the gurt facility number that
 * crt_init registers under the short and long names below (so D_LOG_MASK=RPC=DEBUG and
 * DD_SUBSYS=rpc name it), and its cache crt_NAME_logfac_cache (one slot per priority and gurt
 * debug bit, 16 ints). ACTION(short name, long name, arg).
 */
#ifndef OXIDAOS_CART_CRT_DEBUG_H
#define OXIDAOS_CART_CRT_DEBUG_H

#include <gurt/debug_setup.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define CRT_FOREACH_LOG_FAC(ACTION, arg)                                                           \
	ACTION(crt, cart, arg)                                                                     \
	ACTION(rpc, rpc, arg)                                                                      \
	ACTION(bulk, bulk, arg)                                                                    \
	ACTION(corpc, corpc, arg)                                                                  \
	ACTION(grp, group, arg)                                                                    \
	ACTION(lm, livenessmap, arg)                                                               \
	ACTION(hg, mercury, arg)                                                                   \
	ACTION(external, external, arg)                                                            \
	ACTION(st, self_test, arg)                                                                 \
	ACTION(iv, iv, arg)                                                                        \
	ACTION(ctl, ctl, arg)

/* The declarations use CaRT's variable names whatever DD_FAC the includer chose. */
#pragma push_macro("DD_FAC")
#undef DD_FAC
#define DD_FAC(name) crt_##name##_logfac
CRT_FOREACH_LOG_FAC(D_LOG_DECLARE_FAC, D_NOOP)
#pragma pop_macro("DD_FAC")

/* Allocates every facility above in gurt's log (each call allocates new numbers, as upstream),
 * registers the caches for resets and applies the current masks: 0, or -DER_UNINIT when gurt
 * cannot allocate one (its log not open). crt_init calls it. */
int
crt_setup_log_fac(void);

#if defined(__cplusplus)
}
#endif

#endif /* OXIDAOS_CART_CRT_DEBUG_H */
