/*
 * oxidaos: gurt atomics, as in DAOS's gurt/atomic.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * ATOMIC qualifies the reference counts and flags that gurt's structures share between
 * threads (d_rlink, d_ulink, telemetry nodes). C++ callers see plain fields of the same size.
 */
#ifndef __GURT_ATOMIC_H__
#define __GURT_ATOMIC_H__

#ifdef __cplusplus
#define ATOMIC
#else
#include <stdatomic.h>
#ifdef __INTEL_COMPILER
#define ATOMIC volatile
#else
#define ATOMIC _Atomic
#endif
#endif

/* Relaxed-order shorthands. atomic_compare_exchange takes the expected value by name (not by
 * address) and updates it with the current value when the exchange fails. */
#define atomic_compare_exchange(ptr, oldvalue, newvalue)                                           \
	atomic_compare_exchange_weak_explicit((ptr), &(oldvalue), (newvalue),                      \
					      memory_order_relaxed, memory_order_relaxed)
#define atomic_store_release(ptr, value)     atomic_store_explicit((ptr), (value), memory_order_release)
#define atomic_store_relaxed(ptr, value)     atomic_store_explicit((ptr), (value), memory_order_relaxed)
#define atomic_load_relaxed(ptr)             atomic_load_explicit((ptr), memory_order_relaxed)
#define atomic_fetch_sub_relaxed(ptr, value) atomic_fetch_sub_explicit((ptr), (value), memory_order_relaxed)
#define atomic_fetch_add_relaxed(ptr, value) atomic_fetch_add_explicit((ptr), (value), memory_order_relaxed)

#endif /* __GURT_ATOMIC_H__ */
