/*
 * oxidaos: gurt hash tables, as declared by DAOS's gurt/hash.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Three layers share one chained table:
 *   - d_hash_*: the generic table. Records are caller structs that embed a d_list_t; the
 *     table links them into its buckets and reaches them back through the caller's ops.
 *   - d_hhash_*: handles (struct d_hlink) keyed by a 64-bit cookie the table generates, whose
 *     low D_HTYPE_BITS carry a type; or, in pointer mode, keyed by the link's own address.
 *   - d_uhash_*: records (struct d_ulink) keyed by UUID.
 * struct d_hash_table is public and callers embed it, so its layout is part of the ABI.
 */
#ifndef __GURT_HASH_H__
#define __GURT_HASH_H__

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>

#include <gurt/list.h>
#include <gurt/types.h>
#include <gurt/atomic.h>

/** Extra statistics fields in the table and buckets (off: the layouts below assume 0). */
#define D_HASH_DEBUG 0

struct d_hash_table;

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * A table's callbacks. Only hop_key_cmp is required; hop_rec_hash is needed for per-bucket
 * locking (without it a locked table falls back to one table-wide lock).
 */
typedef struct {
	/** True when the record on \p link has key \p key of \p ksize bytes. Required. */
	bool (*hop_key_cmp)(struct d_hash_table *htable, d_list_t *link, const void *key,
			    unsigned int ksize);
	/** Give the keyless record on \p link its key (d_hash_rec_insert_anonym). */
	void (*hop_key_init)(struct d_hash_table *htable, d_list_t *link, void *arg);
	/** 32-bit hash of a key; djb2 (d_hash_string_u32) when absent. */
	uint32_t (*hop_key_hash)(struct d_hash_table *htable, const void *key,
				 unsigned int ksize);
	/** The hash of a linked record's key; must agree with hop_key_hash. */
	uint32_t (*hop_rec_hash)(struct d_hash_table *htable, d_list_t *link);
	/** Take a reference on a record (called for lookups, and inserts unless EPHEMERAL). */
	void (*hop_rec_addref)(struct d_hash_table *htable, d_list_t *link);
	/** Drop a reference; true when it was the last one and the record may be freed. */
	bool (*hop_rec_decref)(struct d_hash_table *htable, d_list_t *link);
	/**
	 * Drop \p count references at once: 1 when the last went (free it), 0 when some
	 * remain, negative on error. Provide it only together with hop_rec_decref.
	 */
	int (*hop_rec_ndecref)(struct d_hash_table *htable, d_list_t *link, int count);
	/** Free a record whose last reference is gone. */
	void (*hop_rec_free)(struct d_hash_table *htable, d_list_t *link);
} d_hash_table_ops_t;

/** Table features. Without a lock bit the table is guarded by spinlocks. */
enum d_hash_feats {
	/** No locking: the caller serialises access. */
	D_HASH_FT_NOLOCK = (1 << 0),
	/** pthread mutexes instead of spinlocks. */
	D_HASH_FT_MUTEX = (1 << 1),
	/**
	 * Reader/writer locks (lookups share the lock, so the caller's addref/decref must
	 * be atomic on their own).
	 */
	D_HASH_FT_RWLOCK = (1 << 2),
	/**
	 * The table takes no reference of its own: inserting and deleting do not call
	 * addref/decref, and the record leaves the table and is freed when a decref
	 * drops the last reference.
	 */
	D_HASH_FT_EPHEMERAL = (1 << 3),
	/** A found record moves to the front of its bucket; evicting moves it to the back. */
	D_HASH_FT_LRU = (1 << 4),
	/** d_hash_rec_insert_anonym calls hop_key_init without holding every bucket lock. */
	D_HASH_FT_NO_KEYINIT_LOCK = (1 << 5),
	/** One table-wide lock instead of one lock per bucket. */
	D_HASH_FT_GLOCK = (1 << 15),
};

/** The lock of a table or of one bucket; which member is live follows ht_feats. */
union d_hash_lock {
	pthread_spinlock_t spin;
	pthread_mutex_t    mutex;
	pthread_rwlock_t   rwlock;
};

/** One chain of records. */
struct d_hash_bucket {
	d_list_t hb_head;
#if D_HASH_DEBUG
	unsigned int hb_dep;
#endif
};

struct d_hash_table {
	/** the table-wide lock (GLOCK tables) */
	union d_hash_lock     ht_lock;
	/** the table has 1 << ht_bits buckets */
	uint32_t              ht_bits;
	/** D_HASH_FT_* bits */
	uint32_t              ht_feats;
#if D_HASH_DEBUG
	unsigned int          ht_dep_max;
	unsigned int          ht_nr_max;
	unsigned int          ht_nr;
#endif
	/** the creator's private pointer, for the callbacks */
	void                 *ht_priv;
	/** the callbacks */
	d_hash_table_ops_t   *ht_ops;
	/** 1 << ht_bits bucket heads */
	struct d_hash_bucket *ht_buckets;
	/** one lock per bucket (unless GLOCK or NOLOCK) */
	union d_hash_lock    *ht_locks;
};

/** Allocate and initialise a table of 1 << \p bits buckets; 0 or a negative DER_*. */
int
d_hash_table_create(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
		    struct d_hash_table **htable_pp);

/** Initialise the caller's \p htable (d_hash_table_create without the allocation). */
int
d_hash_table_create_inplace(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
			    struct d_hash_table *htable);

/** Traversal callback: nonzero stops the walk and is returned by it. */
typedef int (*d_hash_traverse_cb_t)(d_list_t *link, void *arg);

/** Call \p cb on every record, bucket by bucket, under each bucket's read lock. */
int
d_hash_table_traverse(struct d_hash_table *htable, d_hash_traverse_cb_t cb, void *arg);

/**
 * Finalise and free a table created by d_hash_table_create. Unless \p force, a table that
 * still holds records is left alone and -DER_BUSY returned; with \p force they are deleted.
 */
int
d_hash_table_destroy(struct d_hash_table *htable, bool force);

/** Finalise an in-place table and zero it (the struct itself is not freed). */
int
d_hash_table_destroy_inplace(struct d_hash_table *htable, bool force);

/** The record with \p key, with a reference taken on it; NULL when there is none. */
d_list_t *
d_hash_rec_find(struct d_hash_table *htable, const void *key, unsigned int ksize);

/**
 * The record with \p key (referenced), or, when there is none, \p link inserted under that
 * key and returned.
 */
d_list_t *
d_hash_rec_find_insert(struct d_hash_table *htable, const void *key, unsigned int ksize,
		       d_list_t *link);

/**
 * Link \p link under \p key; the table holds a reference on it (unless EPHEMERAL) until it
 * is deleted. With \p exclusive an existing key makes it fail with -DER_EXIST.
 */
int
d_hash_rec_insert(struct d_hash_table *htable, const void *key, unsigned int ksize,
		  d_list_t *link, bool exclusive);

/**
 * Link a record that has no key yet: hop_key_init(arg) gives it one (-DER_INVAL without
 * that callback).
 */
int
d_hash_rec_insert_anonym(struct d_hash_table *htable, d_list_t *link, void *arg);

/** Unlink the record with \p key and drop the table's reference; false when absent. */
bool
d_hash_rec_delete(struct d_hash_table *htable, const void *key, unsigned int ksize);

/** Unlink the record on \p link; false when it was not linked. */
bool
d_hash_rec_delete_at(struct d_hash_table *htable, d_list_t *link);

/** LRU tables: move the record with \p key to its bucket's back; false when absent or not LRU. */
bool
d_hash_rec_evict(struct d_hash_table *htable, const void *key, unsigned int ksize);

/** LRU tables: move \p link to its bucket's back; false when already there or not LRU. */
bool
d_hash_rec_evict_at(struct d_hash_table *htable, d_list_t *link);

/** Take a reference on a record. */
void
d_hash_rec_addref(struct d_hash_table *htable, d_list_t *link);

/**
 * Drop a reference. When it was the last: an EPHEMERAL table unlinks the record, and the
 * record is freed with hop_rec_free.
 */
void
d_hash_rec_decref(struct d_hash_table *htable, d_list_t *link);

/** Drop \p count references; -DER_INVAL when fewer were held. */
int
d_hash_rec_ndecref(struct d_hash_table *htable, int count, d_list_t *link);

/** True when \p link is not in any table (its list is empty). */
bool
d_hash_rec_unlinked(d_list_t *link);

/**
 * Some record of the table, without a reference and in no particular order (for draining
 * a table); NULL when empty.
 */
d_list_t *
d_hash_rec_first(struct d_hash_table *htable);

/** Log the table's statistics (only with D_HASH_DEBUG). */
void
d_hash_table_debug(struct d_hash_table *htable);

/*
 * Handle hash tables. Reference counts are atomic but the wrappers add no locking of their
 * own around them: callers serialise as they would upstream.
 */

#define D_HHASH_BITS  16
#define D_HTYPE_BITS  4
#define D_HTYPE_MASK  ((1ULL << D_HTYPE_BITS) - 1)

/**
 * Handle types, in the low D_HTYPE_BITS of a key. Bit 0 clear means a pointer key
 * (D_HTYPE_PTR); every other type must have bit 0 set.
 */
enum {
	D_HTYPE_PTR = 0,
};

struct d_hlink;
struct d_hlink_ops {
	/** called when the last reference to the handle goes */
	void (*hop_free)(struct d_hlink *hlink);
};

/** A reference-counted link: what d_hlink and d_ulink are built on. */
struct d_rlink {
	d_list_t        rl_link;
	ATOMIC uint32_t rl_ref;
	uint32_t        rl_initialized : 1;
};

struct d_hlink {
	struct d_rlink      hl_link;
	uint64_t            hl_key;
	struct d_hlink_ops *hl_ops;
};

/** A handle table (opaque). */
struct d_hhash;

int
d_hhash_create(uint32_t feats, uint32_t bits, struct d_hhash **hhash);
void
d_hhash_destroy(struct d_hhash *hhash);
/** Prepare a handle: its ops, one reference for the caller. */
void
d_hhash_hlink_init(struct d_hlink *hlink, struct d_hlink_ops *hl_ops);
/**
 * Give \p hlink a key of \p type and insert it. In pointer mode the key is the link's
 * address (type must be D_HTYPE_PTR and the address even); otherwise type must not be
 * D_HTYPE_PTR.
 */
void
d_hhash_link_insert(struct d_hhash *hhash, struct d_hlink *hlink, int type);
/** The handle with \p key, referenced; NULL when unknown. */
struct d_hlink *
d_hhash_link_lookup(struct d_hhash *hhash, uint64_t key);
void
d_hhash_link_getref(struct d_hhash *hhash, struct d_hlink *hlink);
void
d_hhash_link_putref(struct d_hhash *hhash, struct d_hlink *hlink);
bool
d_hhash_link_delete(struct d_hhash *hhash, struct d_hlink *hlink);
/** True when the handle was never initialised or holds no reference. */
bool
d_hhash_link_empty(struct d_hlink *hlink);
void
d_hhash_link_key(struct d_hlink *hlink, uint64_t *key);
int
d_hhash_key_type(uint64_t key);
bool
d_hhash_key_isptr(uint64_t key);
/** Switch an empty table to pointer keys; -DER_ALREADY when it holds cookie handles. */
int
d_hhash_set_ptrtype(struct d_hhash *hhash);
bool
d_hhash_is_ptrtype(struct d_hhash *hhash);
typedef int (*d_hhash_traverse_cb_t)(struct d_hlink *link, void *arg);
/** Call \p cb on every handle of \p type. */
int
d_hhash_traverse(struct d_hhash *hhash, int type, d_hhash_traverse_cb_t cb, void *arg);

/*
 * UUID hash tables: records keyed by UUID, with an optional extra comparison. No locking
 * around reference counts beyond their atomicity, as for handles.
 */

struct d_ulink;
struct d_ulink_ops {
	/** called when the last reference goes */
	void (*uop_free)(struct d_ulink *ulink);
	/** optional: a further match test with the lookup's cmp_args */
	bool (*uop_cmp)(struct d_ulink *ulink, void *cmp_args);
};

struct d_ulink {
	struct d_rlink      ul_link;
	struct d_uuid       ul_uuid;
	struct d_ulink_ops *ul_ops;
};

int
d_uhash_create(uint32_t feats, uint32_t bits, struct d_hash_table **htable);
void
d_uhash_destroy(struct d_hash_table *htable);
void
d_uhash_ulink_init(struct d_ulink *ulink, struct d_ulink_ops *ul_ops);
bool
d_uhash_link_empty(struct d_ulink *ulink);
/** True when the caller's reference is the only one. */
bool
d_uhash_link_last_ref(struct d_ulink *ulink);
void
d_uhash_link_addref(struct d_hash_table *htable, struct d_ulink *ulink);
void
d_uhash_link_putref(struct d_hash_table *htable, struct d_ulink *ulink);
void
d_uhash_link_delete(struct d_hash_table *htable, struct d_ulink *ulink);
/** Insert under \p key (copied into the link); -DER_EXIST when the key is taken. */
int
d_uhash_link_insert(struct d_hash_table *htable, struct d_uuid *key, void *cmp_args,
		    struct d_ulink *ulink);
struct d_ulink *
d_uhash_link_lookup(struct d_hash_table *htable, struct d_uuid *key, void *cmp_args);

/* The hash functions themselves (d_hash_mix64, d_hash_murmur64, d_hash_jump, ...) are
 * declared in gurt/common.h, as upstream declares them. */

#if defined(__cplusplus)
}
#endif

#endif /* __GURT_HASH_H__ */
