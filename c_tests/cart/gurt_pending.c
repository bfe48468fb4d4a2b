/*
 * The gurt symbols that gurt's header macros (D_ALLOC_ARRAY, D_FREE) compile into callers and
 * that libgurt.so.4 on this branch does not export yet (its allocation and log areas are
 * ported on other branches). Weak, with gurt's documented behaviour (libc heap; log closed),
 * so that the CRT_ARRAY expansions link; once libgurt exports them, delete this file.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <gurt/common.h>

__attribute__((weak)) void
d_free(void *ptr)
{
	free(ptr);
}

__attribute__((weak)) void *
d_calloc(size_t nmemb, size_t size)
{
	return calloc(nmemb, size);
}

__attribute__((weak)) void
d_vlog(int flags, const char *fmt, va_list ap)
{
	(void)flags;
	(void)fmt;
	(void)ap;
}

__attribute__((weak)) struct d_log_xstate d_log_xst;
__attribute__((weak)) d_dbug_t            DB_MEM;
__attribute__((weak)) int                 d_misc_logfac;
__attribute__((weak)) int                 d_misc_logfac_cache[16];
