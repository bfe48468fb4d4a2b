/*
 * oxidaos: libcart's tree-topology entry points. Upstream keeps these in an internal header
 * (src/cart/crt_tree.h) yet libcart.so.4 exports them; they are declared here, with upstream's
 * signatures, so oxidaos's build can tie its definitions to them. Not part of CaRT's public
 * API: include <cart/api.h> for crt_tree_topo().
 */
#ifndef __OXIDAOS_CRT_TREE_H__
#define __OXIDAOS_CRT_TREE_H__

#include <stdbool.h>
#include <stdint.h>
#include <gurt/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* Upstream's private group type; oxidaos passes its own group handle (or NULL: the primary). */
struct crt_grp_priv;

/* Rank-level queries over a group's members, minus (or, inverted, only) the filter ranks. */
int crt_tree_get_nchildren(struct crt_grp_priv *grp_priv, uint32_t grp_ver,
			   d_rank_list_t *exclude_ranks, int tree_topo, d_rank_t grp_root,
			   d_rank_t grp_self, uint32_t *nchildren);
int crt_tree_get_children(struct crt_grp_priv *grp_priv, uint32_t grp_ver, bool filter_invert,
			  d_rank_list_t *filter_ranks, int tree_topo, d_rank_t grp_root,
			  d_rank_t grp_self, d_rank_list_t **children_rank_list, bool *ver_match);
int crt_tree_get_parent(struct crt_grp_priv *grp_priv, uint32_t grp_ver,
			d_rank_list_t *exclude_ranks, int tree_topo, d_rank_t grp_root,
			d_rank_t grp_self, d_rank_t *parent_rank);

/* Position-level shape of one topology: positions 0..grp_size-1, root at grp_root. */
typedef int (*crt_topo_get_children_cnt_t)(uint32_t grp_size, uint32_t branch_ratio,
					   uint32_t grp_root, uint32_t grp_self,
					   uint32_t *nchildren);
typedef int (*crt_topo_get_children_t)(uint32_t grp_size, uint32_t branch_ratio,
				       uint32_t grp_root, uint32_t grp_self, uint32_t *children);
typedef int (*crt_topo_get_parent_t)(uint32_t grp_size, uint32_t branch_ratio,
				     uint32_t grp_root, uint32_t grp_self, uint32_t *parent);

struct crt_topo_ops {
	crt_topo_get_children_cnt_t	to_get_children_cnt;
	crt_topo_get_children_t		to_get_children;
	crt_topo_get_parent_t		to_get_parent;
};

int crt_flat_get_children_cnt(uint32_t grp_size, uint32_t branch_ratio, uint32_t grp_root,
			      uint32_t grp_self, uint32_t *nchildren);
int crt_flat_get_children(uint32_t grp_size, uint32_t branch_ratio, uint32_t grp_root,
			  uint32_t grp_self, uint32_t *children);
int crt_flat_get_parent(uint32_t grp_size, uint32_t branch_ratio, uint32_t grp_root,
			uint32_t grp_self, uint32_t *parent);
int crt_kary_get_children_cnt(uint32_t grp_size, uint32_t tree_ratio, uint32_t grp_root,
			      uint32_t grp_self, uint32_t *nchildren);
int crt_kary_get_children(uint32_t grp_size, uint32_t tree_ratio, uint32_t grp_root,
			  uint32_t grp_self, uint32_t *children);
int crt_kary_get_parent(uint32_t grp_size, uint32_t tree_ratio, uint32_t grp_root,
			uint32_t grp_self, uint32_t *parent);
int crt_knomial_get_children_cnt(uint32_t grp_size, uint32_t tree_ratio, uint32_t grp_root,
				 uint32_t grp_self, uint32_t *nchildren);
int crt_knomial_get_children(uint32_t grp_size, uint32_t tree_ratio, uint32_t grp_root,
			     uint32_t grp_self, uint32_t *children);
int crt_knomial_get_parent(uint32_t grp_size, uint32_t tree_ratio, uint32_t grp_root,
			   uint32_t grp_self, uint32_t *parent);

extern struct crt_topo_ops crt_flat_ops;
extern struct crt_topo_ops crt_kary_ops;
extern struct crt_topo_ops crt_knomial_ops;
/* Indexed by enum crt_tree_type: [CRT_TREE_INVALID] is NULL. */
extern struct crt_topo_ops *crt_tops[4];

#if defined(__cplusplus)
}
#endif

#endif /* __OXIDAOS_CRT_TREE_H__ */
