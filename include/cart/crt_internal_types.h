/*
 * oxidaos: the internal CaRT objects that upstream's own tests reach into (DAOS keeps them in
 * src/cart/crt_group.h, crt_swim.h and swim/swim_internal.h, which it does not install).
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * The layouts are upstream's, field for field. In oxidaos the group and SWIM logic is in Rust;
 * these objects are its C face, kept synchronised by the library:
 *   - every crt_group_t handle the library gives out (primary group, views, attached and
 *     secondary groups) is the gp_pub member of a struct crt_grp_priv, so
 *     crt_grp_pub2priv() is container_of(), as upstream's;
 *   - a crt_grp_priv's membership fields (gp_membs, gp_size, gp_self, gp_membs_ver*,
 *     gp_membs_swim ...) are rewritten under gp_rwlock (write-locked) after each change
 *     the library makes; C code reads them under gp_rwlock (read-locked) and must not
 *     write them;
 *   - gp_hg_addr_cache is NULL and gp_uri_lookup_cache, gp_p2s_table and gp_s2p_table are
 *     zeroed, not initialised tables (addresses and rank maps are kept in Rust): C must not
 *     use them; gp_refcount stays 1 (objects are never destroyed);
 *   - the four swim_item lists of a struct swim_context mirror the SWIM core's lists: the
 *     library brings them in line under sc_mutex whenever the core releases its own lock
 *     after changing them, so a reader holding sc_mutex sees one consistent state. Readers
 *     must not hold sc_mutex while calling swim_*() functions (the library takes it from
 *     inside them). CaRT's own context (gp_membs_swim.csm_ctx) belongs to crt_swim_init()/
 *     crt_swim_fini(): swim_fini() leaves it alone.
 */
#ifndef OXIDAOS_CART_CRT_INTERNAL_TYPES_H
#define OXIDAOS_CART_CRT_INTERNAL_TYPES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <gurt/types.h>
#include <gurt/list.h>
#include <gurt/hash.h>
#include <cart/types.h>
#include <cart/swim.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SWIM core (upstream swim/swim_internal.h) ---------------------------------------- */

/* Where the current round of a SWIM context is. */
enum swim_context_state {
	SCS_BEGIN = 0, /* target chosen, waiting for the tick to ping it */
	SCS_PINGED,    /* pinged, waiting for the answer */
	SCS_TIMEDOUT,  /* no answer: indirect pings to be sent */
	SCS_IPINGED,   /* indirect pings sent, waiting */
	SCS_SELECT,    /* choose the next target */
};

/* An entry of one of a context's lists. */
struct swim_item {
	TAILQ_ENTRY(swim_item) si_link;
	swim_id_t              si_id;   /* the member the entry is about */
	swim_id_t              si_from; /* who told us (suspects), who asked (ipings) */
	void                  *si_args; /* the pending request (ipings) */
	union {
		uint64_t si_deadline; /* sc_suspects, sc_ipings: ms */
		uint64_t si_count;    /* sc_updates: times sent */
	} u;
};

TAILQ_HEAD(swim_item_list, swim_item);

/* A SWIM context: what swim_init() returns. Only this prefix is C-visible. */
struct swim_context {
	pthread_mutex_t       sc_mutex; /* held while the lists below are rewritten */
	void                 *sc_data;  /* swim_init()'s data */
	struct swim_ops      *sc_ops;
	struct swim_item_list sc_subgroup; /* indirect-ping helpers still to ask */
	struct swim_item_list sc_suspects; /* members under suspicion, with their deadlines */
	struct swim_item_list sc_updates;  /* changes to piggy-back, with their send counts */
	struct swim_item_list sc_ipings;   /* indirect-ping requests waiting for an answer */
	enum swim_context_state sc_state;
	swim_id_t             sc_target;
	swim_id_t             sc_self;
	uint64_t              sc_default_ping_timeout;
	uint64_t              sc_expect_progress_time;
	uint64_t              sc_next_tick_time;
	uint64_t              sc_next_event;
	uint64_t              sc_deadline;
	uint64_t              sc_piggyback_tx_max;
	unsigned int          sc_glitch : 1;
};

/* ---- CaRT's SWIM membership (upstream crt_swim.h) ------------------------------------- */

/* Sentinel of csm_target: no target chosen. */
#define CRT_SWIM_TARGET_INVALID UINT32_MAX

struct crt_swim_membs {
	pthread_spinlock_t   csm_lock;
	struct d_hash_table *csm_table; /* NULL in oxidaos: the table is the Rust side's */
	d_rank_t            *csm_list;  /* the members in ping order, csm_list_len of them */
	uint32_t             csm_list_cap;
	uint32_t             csm_list_len;
	uint32_t             csm_target; /* index of the next direct-ping target */
	struct swim_context *csm_ctx;
	uint64_t             csm_incarnation; /* this member's (an HLC timestamp) */
	uint64_t             csm_last_unpack_hlc;
	uint64_t             csm_alive_or_suspect_count;
	int                  csm_crt_ctx_idx;
	int                  csm_nglitches;
	int                  csm_nmessages;
};

/* ---- groups (upstream crt_group.h) ---------------------------------------------------- */

struct crt_grp_membs {
	d_list_t       cgm_free_indices; /* empty in oxidaos: cgm_list is kept compact */
	d_rank_list_t *cgm_list;         /* members, in the order they joined */
	d_rank_list_t *cgm_linear_list;  /* members, sorted ascending */
};

struct crt_grp_priv {
	d_list_t              gp_link;
	crt_group_t           gp_pub;       /* what crt_group_t pointers point to */
	struct crt_grp_priv  *gp_priv_prim; /* secondary groups: their primary group */
	d_list_t              gp_sec_list;  /* primary group: struct crt_grp_priv_sec entries */
	struct crt_grp_membs  gp_membs;
	uint32_t              gp_membs_ver;     /* crt_group_version() */
	uint32_t              gp_membs_ver_min; /* crt_rank_self_set()'s minimum */
	struct crt_swim_membs gp_membs_swim;
	uint32_t              gp_size;
	d_rank_t              gp_self; /* CRT_NO_RANK when not a member */
	struct d_hash_table  *gp_hg_addr_cache;
	struct d_hash_table   gp_uri_lookup_cache;
	struct d_hash_table   gp_p2s_table;
	struct d_hash_table   gp_s2p_table;
	uint32_t              gp_primary : 1, gp_view : 1, gp_auto_remove : 1;
	uint32_t              gp_refcount;
	pthread_rwlock_t      gp_rwlock;
};

/* An entry of a primary group's gp_sec_list. */
struct crt_grp_priv_sec {
	struct crt_grp_priv *gps_priv;
	d_list_t             gps_link;
};

/* The library's groups. */
struct crt_grp_gdata {
	struct crt_grp_priv *gg_primary_grp;
	pthread_rwlock_t     gg_rwlock;
};

/* The private group behind a handle; NULL gives the primary group (and NULL before
 * crt_init()). */
struct crt_grp_priv *
crt_grp_pub2priv(crt_group_t *grp);

/* The primary rank of `rank` of group `priv` (itself in a primary group; CRT_NO_RANK when a
 * secondary group has no such rank). */
d_rank_t
crt_grp_priv_get_primary_rank(struct crt_grp_priv *priv, d_rank_t rank);

/* Whether two group ids name the same group (false when either is NULL). */
bool
crt_grp_id_identical(crt_group_id_t grp_id_1, crt_group_id_t grp_id_2);

#ifdef __cplusplus
}
#endif

#endif /* OXIDAOS_CART_CRT_INTERNAL_TYPES_H */
