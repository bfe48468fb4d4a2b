/*
 * oxidaos: gurt binary heap, as declared by DAOS's gurt/heap.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * A min-heap (by the caller's hop_compare) of caller structs that embed a d_binheap_node.
 * Node pointers are kept in up to three levels of DBH_SIZE-entry arrays (single, double and
 * triple indirect), grown DBH_SIZE entries at a time. struct d_binheap is embedded by callers
 * and its count is read by the inline helpers below, so its layout is ABI.
 */
#ifndef __GURT_HEAP_H__
#define __GURT_HEAP_H__

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <stdbool.h>

#include <gurt/common.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** What a heap element embeds: its position in the heap (DBH_POISON once removed). */
struct d_binheap_node {
	uint32_t chn_idx;
};

/** log2 of the entries per indirection array */
#define DBH_SHIFT  (9)
/** entries per indirection array */
#define DBH_SIZE   (1U << DBH_SHIFT)
#define DBH_MASK   (DBH_SIZE - 1)
/** bytes of one indirection array */
#define DBH_NOB    (DBH_SIZE * sizeof(struct d_binheap_node *))
/** chn_idx of a node that is not in a heap */
#define DBH_POISON (0xdeadbeef)

/** Heap features; without a bit the heap is guarded by a mutex. */
enum d_bh_feats {
	/** No locking: the caller serialises access. */
	DBH_FT_NOLOCK = (1 << 0),
	/** A reader/writer lock (d_binheap_find takes it shared). */
	DBH_FT_RWLOCK = (1 << 1),
};

struct d_binheap;

struct d_binheap_ops {
	/** Optional: called before \p e goes in; nonzero refuses the insert. */
	int (*hop_enter)(struct d_binheap *h, struct d_binheap_node *e);
	/** Optional: called after \p e came out. */
	int (*hop_exit)(struct d_binheap *h, struct d_binheap_node *e);
	/** Required: true when \p a orders before \p b (the root is the least). */
	bool (*hop_compare)(struct d_binheap_node *a, struct d_binheap_node *b);
};

struct d_binheap {
	/** the lock named by d_bh_feats */
	union {
		pthread_mutex_t  d_bh_mutex;
		pthread_rwlock_t d_bh_rwlock;
	};
	/** DBH_FT_* bits */
	uint32_t                   d_bh_feats;
	/** triple indirect entries */
	struct d_binheap_node ****d_bh_nodes3;
	/** double indirect entries */
	struct d_binheap_node  ***d_bh_nodes2;
	/** the first DBH_SIZE entries */
	struct d_binheap_node   **d_bh_nodes1;
	/** callbacks */
	struct d_binheap_ops      *d_bh_ops;
	/** the creator's private pointer */
	void                      *d_bh_priv;
	/** nodes in the heap */
	uint32_t                   d_bh_nodes_cnt;
	/** entries allocated (a multiple of DBH_SIZE) */
	uint32_t                   d_bh_hwm;
};

/** Allocate a heap with room for \p count nodes; -DER_INVAL without ops/compare or \p h. */
int
d_binheap_create(uint32_t feats, uint32_t count, void *priv, struct d_binheap_ops *ops,
		 struct d_binheap **h);

/** Initialise the caller's heap \p h (d_binheap_create without the allocation). */
int
d_binheap_create_inplace(uint32_t feats, uint32_t count, void *priv, struct d_binheap_ops *ops,
			 struct d_binheap *h);

/** Free a heap from d_binheap_create (the nodes belong to the caller). */
void
d_binheap_destroy(struct d_binheap *h);

/** Finalise an in-place heap and zero it. */
void
d_binheap_destroy_inplace(struct d_binheap *h);

/** The node at heap position \p idx (0 is the root); NULL past the end. */
struct d_binheap_node *
d_binheap_find(struct d_binheap *h, uint32_t idx);

/** Add \p e: 0, -DER_INVAL for NULL arguments, -DER_NOMEM, or hop_enter's error. */
int
d_binheap_insert(struct d_binheap *h, struct d_binheap_node *e);

/** Take \p e out of the heap. */
void
d_binheap_remove(struct d_binheap *h, struct d_binheap_node *e);

/** Take the root out and return it; NULL when the heap is empty. */
struct d_binheap_node *
d_binheap_remove_root(struct d_binheap *h);

/** Nodes in the heap; -DER_INVAL (and an error logged) for NULL. */
static inline int
d_binheap_size(struct d_binheap *h)
{
	if (h != NULL)
		return h->d_bh_nodes_cnt;
	D_ERROR("invalid NULL heap.\n");
	return -DER_INVAL;
}

/** True when \p h holds no node (or is NULL). */
static inline bool
d_binheap_is_empty(struct d_binheap *h)
{
	return h == NULL || h->d_bh_nodes_cnt == 0;
}

/** The least node, left in place; NULL when empty. */
static inline struct d_binheap_node *
d_binheap_root(struct d_binheap *h)
{
	return d_binheap_find(h, 0);
}

#if defined(__cplusplus)
}
#endif

#endif /* __GURT_HEAP_H__ */
