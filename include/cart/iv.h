/*
 * oxidaos: CaRT incast variables, as in DAOS's cart/iv.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * An IV namespace spreads keyed values over a group along a tree: fetches climb towards the
 * key's root rank, updates descend from it. The value storage is the caller's, reached through
 * the class callbacks below.
 */
#ifndef __CRT_IV_H__
#define __CRT_IV_H__

#include <stdint.h>
#include <string.h>
#include <stdbool.h>
#include <uuid/uuid.h>
#include <cart/types.h>
#include <daos_errno.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef void    *crt_iv_namespace_t;
typedef uint32_t crt_iv_ver_t;

/* Where an operation goes first. */
typedef enum {
	CRT_IV_SHORTCUT_NONE    = 0, /* up the tree hop by hop */
	CRT_IV_SHORTCUT_TO_ROOT = 1, /* straight to the root */
} crt_iv_shortcut_t;

typedef d_iov_t crt_iv_key_t;

/* Flags passed to the fetch and update callbacks. */
typedef enum {
	CRT_IV_FLAG_ROOT          = 0x1, /* this rank is the key's root */
	CRT_IV_FLAG_PENDING_FETCH = 0x2, /* a fetch is waiting on this update */
} crt_iv_flag_t;

typedef int (*crt_iv_on_fetch_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				    crt_iv_ver_t *iv_ver, uint32_t flags, d_sg_list_t *iv_value,
				    void *arg);
typedef int (*crt_iv_on_update_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				     crt_iv_ver_t iv_ver, uint32_t flags, d_sg_list_t *iv_value,
				     void *arg);
typedef void (*crt_iv_pre_fetch_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				      crt_generic_cb_t cb, void *cb_arg);
typedef void (*crt_iv_pre_update_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				       crt_generic_cb_t cb, void *cb_arg);
typedef void (*crt_iv_pre_refresh_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
					crt_generic_cb_t cb, void *cb_arg);
typedef int (*crt_iv_on_refresh_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				      crt_iv_ver_t iv_ver, d_sg_list_t *iv_value,
				      bool invalidate, int rc, void *arg);
/* The root rank of a key. */
typedef int (*crt_iv_on_hash_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				   d_rank_t *root);

/* What a value buffer is wanted for (crt_iv_on_get_cb_t). */
typedef enum {
	CRT_IV_PERM_READ  = 0x1,
	CRT_IV_PERM_WRITE = 0x2,
	CRT_IV_NO_ALLOC   = 0x4, /* do not allocate when absent */
} crt_iv_perm_t;

typedef int (*crt_iv_on_get_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				  crt_iv_ver_t iv_ver, crt_iv_perm_t permission,
				  d_sg_list_t *iv_value, void **arg);
typedef void (*crt_iv_on_put_cb_t)(crt_iv_namespace_t ivns, d_sg_list_t *iv_value, void *arg);
typedef bool (*crt_iv_keys_match_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *key1,
				       crt_iv_key_t *key2);
typedef int (*crt_iv_pre_sync_cb_t)(crt_iv_namespace_t ivns, crt_iv_key_t *iv_key,
				    crt_iv_ver_t iv_ver, d_sg_list_t *iv_value, void *arg);

/* The callbacks of one IV class. */
struct crt_iv_ops {
	crt_iv_pre_fetch_cb_t   ivo_pre_fetch;
	crt_iv_on_fetch_cb_t    ivo_on_fetch;
	crt_iv_pre_update_cb_t  ivo_pre_update;
	crt_iv_on_update_cb_t   ivo_on_update;
	crt_iv_pre_refresh_cb_t ivo_pre_refresh;
	crt_iv_on_refresh_cb_t  ivo_on_refresh;
	crt_iv_on_hash_cb_t     ivo_on_hash;
	crt_iv_on_get_cb_t      ivo_on_get;
	crt_iv_on_put_cb_t      ivo_on_put;
	crt_iv_keys_match_cb_t  ivo_keys_match;
	crt_iv_pre_sync_cb_t    ivo_pre_sync;
};

/* IV class features. */
#define CRT_IV_CLASS_UPDATE_IN_ORDER (0x0001U) /* one update per key at a time */
#define CRT_IV_CLASS_DISCARD_CACHE   (0x0002U) /* do not keep fetched values */

struct crt_iv_class {
	uint32_t           ivc_id;
	uint32_t           ivc_feats;
	struct crt_iv_ops *ivc_ops;
};

int
crt_iv_namespace_create(crt_context_t crt_ctx, crt_group_t *grp, int tree_topo,
			struct crt_iv_class *iv_classes, uint32_t num_classes, uint32_t iv_ns_id,
			crt_iv_namespace_t *ivns);
int
crt_iv_namespace_create_priv(crt_context_t crt_ctx, crt_group_t *grp, int tree_topo,
			     struct crt_iv_class *iv_classes, uint32_t num_classes,
			     uint32_t iv_ns_id, void *user_priv, crt_iv_namespace_t *ivns);
int
crt_iv_namespace_id_get(crt_iv_namespace_t *ivns, uint32_t *id);
int
crt_iv_namespace_priv_set(crt_iv_namespace_t *ivns, void *priv);
int
crt_iv_namespace_priv_get(crt_iv_namespace_t *ivns, void **priv);

typedef void (*crt_iv_namespace_destroy_cb_t)(crt_iv_namespace_t ivns, void *cb_arg);

int
crt_iv_namespace_destroy(crt_iv_namespace_t ivns, crt_iv_namespace_destroy_cb_t cb,
			 void *cb_arg);

/* Completion of a fetch, update or invalidate. */
typedef int (*crt_iv_comp_cb_t)(crt_iv_namespace_t ivns, uint32_t class_id,
				crt_iv_key_t *iv_key, crt_iv_ver_t *iv_ver,
				d_sg_list_t *iv_value, int rc, void *cb_arg);

int
crt_iv_fetch(crt_iv_namespace_t ivns, uint32_t class_id, crt_iv_key_t *iv_key,
	     crt_iv_ver_t *iv_ver, crt_iv_shortcut_t shortcut, crt_iv_comp_cb_t fetch_comp_cb,
	     void *cb_arg);

/* When an update reaches the other ranks. */
typedef enum {
	CRT_IV_SYNC_NONE  = 0, /* it does not */
	CRT_IV_SYNC_EAGER = 1, /* before the update completes */
	CRT_IV_SYNC_LAZY  = 2, /* after it completes */
} crt_iv_sync_mode_t;

/* What the other ranks do with it. */
typedef enum {
	CRT_IV_SYNC_EVENT_NONE   = 0,
	CRT_IV_SYNC_EVENT_UPDATE = 1, /* store the value */
	CRT_IV_SYNC_EVENT_NOTIFY = 2, /* only learn that it changed */
} crt_iv_sync_event_t;

typedef enum {
	CRT_IV_SYNC_FLAG_NS_ERRORS_FATAL = 0x1,
	CRT_IV_SYNC_BIDIRECTIONAL        = 0x2,
} crt_iv_sync_flag_t;

typedef int (*crt_iv_sync_done_cb_t)(void *cb_arg, int rc);

typedef struct {
	crt_iv_sync_mode_t  ivs_mode;
	crt_iv_sync_event_t ivs_event;
	uint32_t            ivs_flags;
} crt_iv_sync_t;

/* Sync settings. As in DAOS, the helpers below list the event before the mode (their
 * initialisers are positional), and callers depend on the values that gives; the casts only
 * keep -Wenum-conversion quiet. */
#define CRT_IV_SYNC_MODE_NONE {0, 0, 0}
#define CRT_IV_SYNC_UPDATE_EAGER(flags)                                                            \
	((crt_iv_sync_t){(crt_iv_sync_mode_t)CRT_IV_SYNC_EVENT_UPDATE, (crt_iv_sync_event_t)CRT_IV_SYNC_EAGER, flags})
#define CRT_IV_SYNC_UPDATE_LAZY(flags)                                                             \
	((crt_iv_sync_t){(crt_iv_sync_mode_t)CRT_IV_SYNC_EVENT_UPDATE, (crt_iv_sync_event_t)CRT_IV_SYNC_LAZY, flags})
#define CRT_IV_SYNC_NOTIFY_EAGER(flags)                                                            \
	((crt_iv_sync_t){(crt_iv_sync_mode_t)CRT_IV_SYNC_EVENT_NOTIFY, (crt_iv_sync_event_t)CRT_IV_SYNC_EAGER, flags})
#define CRT_IV_SYNC_NOTIFY_LAZY(flags)                                                             \
	((crt_iv_sync_t){(crt_iv_sync_mode_t)CRT_IV_SYNC_EVENT_NOTIFY, (crt_iv_sync_event_t)CRT_IV_SYNC_LAZY, flags})

int
crt_iv_update(crt_iv_namespace_t ivns, uint32_t class_id, crt_iv_key_t *iv_key,
	      crt_iv_ver_t *iv_ver, d_sg_list_t *iv_value, crt_iv_shortcut_t shortcut,
	      crt_iv_sync_t sync_type, crt_iv_comp_cb_t update_comp_cb, void *cb_arg);
int
crt_iv_invalidate(crt_iv_namespace_t ivns, uint32_t class_id, crt_iv_key_t *iv_key,
		  crt_iv_ver_t *iv_ver, crt_iv_shortcut_t shortcut, crt_iv_sync_t sync_type,
		  crt_iv_comp_cb_t invali_comp_cb, void *cb_arg);
int
crt_iv_get_nchildren(crt_iv_namespace_t ivns, uint32_t class_id, crt_iv_key_t *iv_key,
		     uint32_t *nchildren);

#if defined(__cplusplus)
}
#endif

#endif /* __CRT_IV_H__ */
