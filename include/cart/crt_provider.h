/*
 * oxidaos: CaRT's network provider table and per-provider queries. Upstream declares these in
 * its internal crt_hg.h and exports them from libcart; declared here with the same types.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * A provider is named by its D_PROVIDER string; crt_na_dict lists the names libcart knows,
 * ended by an entry whose nad_str is NULL. Functions taking `primary` answer for the primary
 * provider (true) or a secondary one (false); this library runs no secondary provider, so
 * those answer as upstream does when none is configured (0, NULL, false).
 */
#ifndef OXIDAOS_CART_CRT_PROVIDER_H
#define OXIDAOS_CART_CRT_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>
#include <cart/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef enum {
	CRT_PROV_SM = 0,
	CRT_PROV_OFI_SOCKETS,
	CRT_PROV_OFI_VERBS_RXM,
	CRT_PROV_OFI_GNI,
	CRT_PROV_OFI_TCP,
	CRT_PROV_OFI_TCP_RXM,
	CRT_PROV_OFI_CXI,
	CRT_PROV_OFI_OPX,
	CRT_PROV_OFI_LAST = CRT_PROV_OFI_OPX,
	CRT_PROV_UCX,
	CRT_PROV_UCX_LAST = CRT_PROV_UCX,
	/* one past the last valid provider */
	CRT_PROV_COUNT,
	CRT_PROV_UNKNOWN = -1,
} crt_provider_t;

/* One known provider name. */
struct crt_na_dict {
	/* the D_PROVIDER / URI name */
	char *nad_str;
	/* a second accepted name, or NULL */
	char *nad_alt_str;
	/* its crt_provider_t */
	int   nad_type;
	/* each context binds an explicit IP:port */
	bool  nad_port_bind;
	/* contexts get consecutive endpoints (ports) */
	bool  nad_contig_eps;
	/* nad_str was allocated by the library (a "ucx+..." name) */
	bool  nad_str_alloc;
};

/* The known providers, 7 of them and an entry with nad_str NULL. */
extern struct crt_na_dict crt_na_dict[8];

/* The provider named exactly by str (either name of an entry), or CRT_PROV_UNKNOWN (also for
 * NULL). A name "ucx+TRANSPORT" selects CRT_PROV_UCX. */
crt_provider_t
crt_str_to_provider(const char *str_provider);
/* As crt_str_to_provider for the exact names only (NULL: CRT_PROV_UNKNOWN). */
crt_provider_t
crt_prov_str_to_prov(const char *prov_str);

static inline bool
crt_provider_is_ucx(crt_provider_t prov)
{
	return prov >= CRT_PROV_UCX && prov <= CRT_PROV_UCX_LAST;
}

static inline bool
crt_provider_is_ofi(crt_provider_t prov)
{
	return prov >= CRT_PROV_OFI_SOCKETS && prov <= CRT_PROV_OFI_LAST;
}

/* The table's facts about a provider (NULL / false when it is not in the table). */
char *
crt_provider_name_get(crt_provider_t provider);
bool
crt_provider_is_contig_ep(crt_provider_t provider);
bool
crt_provider_is_port_based(crt_provider_t provider);

/* What crt_init resolved for the provider: interfaces and domains (D_INTERFACE, D_DOMAIN;
 * strings owned by the library, NULL when none was given or the index is out of range), the
 * contexts that exist and the most that may, whether it uses scalable endpoints (never here). */
uint32_t
crt_provider_num_ifaces_get(bool primary, crt_provider_t provider);
char *
crt_provider_iface_str_get(bool primary, crt_provider_t provider, int iface_idx);
char *
crt_provider_domain_str_get(bool primary, crt_provider_t provider, int idx);
int
crt_provider_get_cur_ctx_num(bool primary, crt_provider_t provider);
int
crt_provider_get_max_ctx_num(bool primary, crt_provider_t provider);
bool
crt_provider_is_sep(bool primary, crt_provider_t provider);

/* Secondary providers: how many run (0 here); the URI of one (-DER_NONEXIST); the number of
 * remote tags of one (-DER_NONEXIST); a context on one (-DER_INVAL: none initialised). */
int
crt_get_nr_secondary_providers(void);
int
crt_self_uri_get_secondary(int secondary_idx, char **uri);
int
crt_nr_secondary_remote_tags_set(int idx, int num_tags);
int
crt_context_create_secondary(crt_context_t *crt_ctx, int idx);

#if defined(__cplusplus)
}
#endif

#endif /* OXIDAOS_CART_CRT_PROVIDER_H */
