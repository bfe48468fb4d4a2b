/*
 * oxidaos: crt_genvs, the environment CaRT reads at crt_init (upstream's crt_env_init and
 * crt_env_fini, static inline in its crt_internal_types.h). Written in C because the field
 * list is the CRT_ENV_LIST X-macro of cart/crt_misc.h; the struct itself is Rust's
 * (capi/crt_misc.rs), exported with upstream's layout.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * The gurt symbols are weak so that the Rust unit tests, which do not link libgurt, still
 * link; libcart.so.4 links libgurt and always has them.
 */
#include <cart/crt_misc.h>

#pragma weak d_getenv_uint
#pragma weak d_agetenv_str
#pragma weak d_freeenv_str

void oxidaos_crt_env_fini(void);
void oxidaos_crt_env_init(void);

/* Releases the strings and marks the structure unfilled (crt_finalize). */
void
oxidaos_crt_env_fini(void)
{
	if (&d_freeenv_str == NULL)
		return;
#define ENV(x)
#define ENV_STR(x) d_freeenv_str(&crt_genvs._##x);
	CRT_ENV_LIST
#undef ENV
#undef ENV_STR
	crt_genvs.inited = false;
}

/* Reads every variable (crt_init): a string with gurt's d_agetenv_str, an integer with
 * d_getenv_uint; each _rc_X is what the lookup returned (0: set). A second call first
 * releases what the previous one read, as upstream. */
void
oxidaos_crt_env_init(void)
{
	if (&d_getenv_uint == NULL || &d_agetenv_str == NULL)
		return;
	if (crt_genvs.inited)
		oxidaos_crt_env_fini();
#define ENV(x)     crt_genvs._rc_##x = d_getenv_uint(#x, &crt_genvs._##x);
#define ENV_STR(x) crt_genvs._rc_##x = d_agetenv_str(&crt_genvs._##x, #x);
	CRT_ENV_LIST
#undef ENV
#undef ENV_STR
	crt_genvs.inited = true;
}
