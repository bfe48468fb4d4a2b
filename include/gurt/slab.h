/*
 * oxidaos: gurt slab allocator, as declared by DAOS's gurt/slab.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Pools of fixed-size descriptors that are created off the critical path and recycled:
 * released descriptors wait on a pending list until d_slab_restock (or an empty free list)
 * resets them onto the free list, from which d_slab_acquire takes them. Each descriptor
 * embeds a d_list_t at sr_offset.
 */
#ifndef __SLAB_H__
#define __SLAB_H__

#include <pthread.h>
#include <stdbool.h>
#include <gurt/list.h>

/** How a descriptor type behaves; copied at registration. */
struct d_slab_reg {
	/** Once per descriptor after allocation: one-time setup (\p handle is the type's arg). */
	void (*sr_init)(void *desc, void *handle);
	/** Make a descriptor ready for (re)use; false discards it. */
	bool (*sr_reset)(void *desc);
	/** Once per descriptor before it is freed. */
	void (*sr_release)(void *desc);
	/** Name for logs; required. */
	char *sr_name;
	/** Bytes per descriptor. */
	int   sr_size;
	/** Offset of the descriptor's d_list_t. */
	int   sr_offset;
	/**
	 * If nonzero, at most this many descriptors exist at once, and restocking never
	 * allocates (new ones are made on demand in acquire, up to the limit).
	 */
	int   sr_max_desc;
	/** If nonzero, at most this many descriptors wait on the free list. */
	int   sr_max_free_desc;
};

/** Designated initialisers for sr_size, sr_offset and sr_name of a struct type. */
#define POOL_TYPE_INIT(itype, imember)                                                             \
	.sr_size = sizeof(struct itype), .sr_offset = offsetof(struct itype, imember),             \
	.sr_name = #itype,

/** A registered type: its registration and live state. */
struct d_slab_type {
	struct d_slab_reg st_reg;
	/** in the slab's list of types */
	d_list_t          st_type_list;
	/** reset descriptors ready to acquire */
	d_list_t          st_free_list;
	/** released descriptors awaiting reset */
	d_list_t          st_pending_list;
	pthread_mutex_t   st_lock;
	struct d_slab    *st_slab;
	void             *st_arg;

	/** descriptors in existence */
	int               st_count;
	/** on the free list */
	int               st_free_count;
	/** on the pending list */
	int               st_pending_count;

	/** sr_init calls */
	int               st_init_count;
	/** sr_reset calls on recycled descriptors */
	int               st_reset_count;
	/** sr_release calls */
	int               st_release_count;

	/** descriptors created inside acquire (on the critical path) */
	int               st_op_init;
	/** resets done inside acquire */
	int               st_op_reset;
	/** acquires since the last restock */
	int               st_no_restock;
	/** the most acquires seen between two restocks */
	int               st_no_restock_hwm;
};

/** A slab: a set of registered types. */
struct d_slab {
	d_list_t        slab_list;
	void           *slab_arg;
	pthread_mutex_t slab_lock;
	bool            slab_init;
};

/** Initialise a slab (once, at startup); 0 or a negative DER_* code. */
int
d_slab_init(struct d_slab *slab, void *arg) __attribute((warn_unused_result, nonnull(1)));

/** Free every type and idle descriptor of the slab (once, at shutdown). */
void
d_slab_destroy(struct d_slab *slab);

/**
 * Register a descriptor type and pre-create its first descriptors; *type receives it.
 * -DER_INVAL without sr_name or when no descriptor could be created, -DER_NOMEM.
 */
int
d_slab_register(struct d_slab *slab, struct d_slab_reg *reg, void *arg, struct d_slab_type **type);

/** A ready descriptor (NULL at sr_max_desc or when allocation fails). */
void *
d_slab_acquire(struct d_slab_type *type);

/** Give a descriptor back; it is reset later, by restock or an acquire that needs it. */
void
d_slab_release(struct d_slab_type *type, void *desc);

/**
 * Off the critical path: reset released descriptors and create enough new ones that the
 * next run of acquires (as many as the most seen between restocks) needs no allocation.
 */
void
d_slab_restock(struct d_slab_type *type);

/** Free every idle descriptor of every type; true when some are still in use. */
bool
d_slab_reclaim(struct d_slab *slab) __attribute((warn_unused_result, nonnull));

#endif /* __SLAB_H__ */
