/*
 * oxidaos: gurt's debug and logging macros, as in DAOS's gurt/debug.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * D_DEBUG(flag, ...) and its relatives expand in the caller to: read the facility cache slot
 * DD_FLAG(flag, D_LOGFAC); if it is DLOG_UNINIT resolve it with the inline d_log_check() (which
 * reads d_log_xst) and store the result; if non-zero call d_log() -> d_vlog() with
 * "file:line func() " prepended. A disabled message therefore costs one load and one branch.
 */
#ifndef __GURT_DEBUG_H__
#define __GURT_DEBUG_H__

#include <stdio.h>
#include <stddef.h>
#include <assert.h>

#include <gurt/debug_setup.h>
#include <daos_errno.h>

/* gurt's own facilities: ACTION(short name, long name, arg). */
#define D_FOREACH_GURT_FAC(ACTION, arg)                                                            \
	ACTION(misc, misc, arg)                                                                    \
	ACTION(mem, mem, arg)                                                                      \
	ACTION(swim, swim, arg)                                                                    \
	ACTION(fi, fi, arg)                                                                        \
	ACTION(telem, telem, arg)

/* When set, the assert macros call it (result 0, expression text, file, line) before
 * assert(0): unit tests point it at cmocka's mock_assert. */
extern void (*d_alt_assert)(const int, const char *, const char *, const int);

#define DB_ALL_BITS "all"

/* Environment variables read by d_log_init(). */
#define D_LOG_FILE_ENV             "D_LOG_FILE"
#define D_LOG_SIZE_ENV             "D_LOG_SIZE"
#define D_LOG_MASK_ENV             "D_LOG_MASK"
#define D_LOG_FILE_APPEND_PID_ENV  "D_LOG_FILE_APPEND_PID"
#define D_LOG_FILE_APPEND_RANK_ENV "D_LOG_FILE_APPEND_RANK"
#define D_LOG_TRUNCATE_ENV         "D_LOG_TRUNCATE"
#define D_LOG_FLUSH_ENV            "D_LOG_FLUSH"
#define D_LOG_STDERR_IN_LOG_ENV    "D_LOG_STDERR_IN_LOG"

/* The macros below declare locals; shadowing a caller's variable is made an error, as
 * upstream's header does. */
#pragma GCC diagnostic error "-Wshadow"

/* Prints with an already resolved mask: "file:line func() " then the message. */
#define _D_LOG_NOCHECK(mask, fmt, ...)                                                             \
	d_log(mask, "%s:%d %s() " fmt, __FILE__, __LINE__, __func__, ##__VA_ARGS__)

/* Same, with a pointer after the function name: "file:line func(ptr) ". */
#define _D_TRACE_NOCHECK(mask, ptr, fmt, ...)                                                      \
	d_log(mask, "%s:%d %s(%p) " fmt, __FILE__, __LINE__, __func__, ptr, ##__VA_ARGS__)

/* Resolves mask into saved_mask and prints through func if enabled. */
#define _D_LOG_CHECK(func, saved_mask, mask, ...)                                                  \
	do {                                                                                       \
		(saved_mask) = d_log_check(mask);                                                  \
		if (saved_mask) {                                                                  \
			func(saved_mask, ##__VA_ARGS__);                                           \
		}                                                                                  \
	} while (0)

/* Checks mask (facility included) every time and prints through func if enabled. */
#define _D_LOG(func, mask, ...)                                                                    \
	do {                                                                                       \
		int __tmp_mask;                                                                    \
		_D_LOG_CHECK(func, __tmp_mask, mask, ##__VA_ARGS__);                               \
	} while (0)

/* The cached path: saved_mask is a cache slot (0: off, DLOG_UNINIT: resolve now). */
#define _D_DEBUG_W_SAVED_MASK(func, saved_mask, level, ...)                                        \
	do {                                                                                       \
		if (__builtin_expect(saved_mask, 0)) {                                             \
			if ((saved_mask) == (int)DLOG_UNINIT) {                                    \
				_D_LOG_CHECK(func, saved_mask, (level) | D_LOGFAC, ##__VA_ARGS__); \
				break;                                                             \
			}                                                                          \
			func(saved_mask, ##__VA_ARGS__);                                           \
		}                                                                                  \
	} while (0)

#define _D_DEBUG(func, flag, ...)                                                                  \
	_D_DEBUG_W_SAVED_MASK(func, DD_FLAG(flag, D_LOGFAC), flag, ##__VA_ARGS__)

/* Nonzero when messages of flag would be logged in this file's facility. */
#define D_LOG_ENABLED(flag)                                                                        \
	({                                                                                         \
		_D_DEBUG(D_NOOP, flag);                                                            \
		__builtin_expect(DD_FLAG(flag, D_LOGFAC), 0);                                      \
	})

/* Logs fmt under flag (a priority DLOG_* or a debug bit DB_*) in facility D_LOGFAC. */
#define D_DEBUG(flag, fmt, ...) _D_DEBUG(_D_LOG_NOCHECK, flag, fmt, ##__VA_ARGS__)

/* Same with a descriptor pointer printed after the function name. */
#define D_TRACE_DEBUG(flag, ptr, fmt, ...)                                                         \
	_D_DEBUG(_D_TRACE_NOCHECK, flag, ptr, fmt, ##__VA_ARGS__)

/* D_DEBUG with one of two flags chosen by cond (a flag must be a name, not an expression). */
#define D_CDEBUG(cond, flag_true, flag_false, ...)                                                 \
	do {                                                                                       \
		if (cond)                                                                          \
			D_DEBUG(flag_true, __VA_ARGS__);                                           \
		else                                                                               \
			D_DEBUG(flag_false, __VA_ARGS__);                                          \
	} while (0)

/* D_CDEBUG with ": <rc name>(<rc>): '<description>'" appended. */
#define DL_CDEBUG(cond, flag_true, flag_false, _rc, _fmt, ...)                                     \
	do {                                                                                       \
		if (cond)                                                                          \
			D_DEBUG(flag_true, _fmt ": " DF_RC " \n", ##__VA_ARGS__, DP_RC(_rc));      \
		else                                                                               \
			D_DEBUG(flag_false, _fmt ": " DF_RC "\n", ##__VA_ARGS__, DP_RC(_rc));      \
	} while (0)

/* Descriptor life-cycle traces. */
#define D_TRACE_UP(flag, ptr, parent, type)                                                        \
	D_TRACE_DEBUG(flag, ptr, "Registered new '%s' from %p\n", type, parent)
#define D_TRACE_DOWN(flag, ptr)       D_TRACE_DEBUG(flag, ptr, "Deregistered\n")
#define D_TRACE_ROOT(flag, ptr, type) D_TRACE_DEBUG(flag, ptr, "Registered new '%s' as root\n", type)

/* By priority. */
#define D_INFO(fmt, ...)  D_DEBUG(DLOG_INFO, fmt, ##__VA_ARGS__)
#define D_NOTE(fmt, ...)  D_DEBUG(DLOG_NOTE, fmt, ##__VA_ARGS__)
#define D_WARN(fmt, ...)  D_DEBUG(DLOG_WARN, fmt, ##__VA_ARGS__)
#define D_ERROR(fmt, ...) D_DEBUG(DLOG_ERR, fmt, ##__VA_ARGS__)
#define D_ALERT(fmt, ...) D_DEBUG(DLOG_ALERT, fmt, ##__VA_ARGS__)
#define D_CRIT(fmt, ...)  D_DEBUG(DLOG_CRIT, fmt, ##__VA_ARGS__)
#define D_FATAL(fmt, ...) D_DEBUG(DLOG_EMERG, fmt, ##__VA_ARGS__)
#define D_EMIT(fmt, ...)  D_DEBUG(DLOG_EMIT, fmt, ##__VA_ARGS__)

#define D_TRACE_INFO(ptr, fmt, ...)  D_TRACE_DEBUG(DLOG_INFO, ptr, fmt, ##__VA_ARGS__)
#define D_TRACE_NOTE(ptr, fmt, ...)  D_TRACE_DEBUG(DLOG_NOTE, ptr, fmt, ##__VA_ARGS__)
#define D_TRACE_WARN(ptr, fmt, ...)  D_TRACE_DEBUG(DLOG_WARN, ptr, fmt, ##__VA_ARGS__)
#define D_TRACE_ERROR(ptr, fmt, ...) D_TRACE_DEBUG(DLOG_ERR, ptr, fmt, ##__VA_ARGS__)
#define D_TRACE_ALERT(ptr, fmt, ...) D_TRACE_DEBUG(DLOG_ALERT, ptr, fmt, ##__VA_ARGS__)
#define D_TRACE_CRIT(ptr, fmt, ...)  D_TRACE_DEBUG(DLOG_CRIT, ptr, fmt, ##__VA_ARGS__)
#define D_TRACE_FATAL(ptr, fmt, ...) D_TRACE_DEBUG(DLOG_EMERG, ptr, fmt, ##__VA_ARGS__)
#define D_TRACE_EMIT(ptr, fmt, ...)  D_TRACE_DEBUG(DLOG_EMIT, ptr, fmt, ##__VA_ARGS__)

/* With a DER_* code: DL_* / DHL_* (with descriptor) append ": " DF_RC; DS_* / DHS_* take an
 * errno and append ": %d (strerror)". */
#define DHL_INFO(_desc, _rc, _fmt, ...)                                                            \
	_D_DEBUG(_D_TRACE_NOCHECK, DLOG_INFO, (_desc), _fmt ": " DF_RC "\n", ##__VA_ARGS__,        \
		 DP_RC(_rc))
#define DHL_WARN(_desc, _rc, _fmt, ...)                                                            \
	_D_DEBUG(_D_TRACE_NOCHECK, DLOG_WARN, (_desc), _fmt ": " DF_RC "\n", ##__VA_ARGS__,        \
		 DP_RC(_rc))
#define DHL_ERROR(_desc, _rc, _fmt, ...)                                                           \
	_D_DEBUG(_D_TRACE_NOCHECK, DLOG_ERR, (_desc), _fmt ": " DF_RC "\n", ##__VA_ARGS__,         \
		 DP_RC(_rc))

#define DL_INFO(_rc, _fmt, ...)  D_DEBUG(DLOG_INFO, _fmt ": " DF_RC "\n", ##__VA_ARGS__, DP_RC(_rc))
#define DL_WARN(_rc, _fmt, ...)  D_DEBUG(DLOG_WARN, _fmt ": " DF_RC "\n", ##__VA_ARGS__, DP_RC(_rc))
#define DL_ERROR(_rc, _fmt, ...) D_DEBUG(DLOG_ERR, _fmt ": " DF_RC "\n", ##__VA_ARGS__, DP_RC(_rc))

#define DHS_INFO(_desc, _rc, _fmt, ...)                                                            \
	_D_DEBUG(_D_TRACE_NOCHECK, DLOG_INFO, (_desc), _fmt ": %d (%s)\n", ##__VA_ARGS__, _rc,     \
		 strerror(_rc))
#define DHS_WARN(_desc, _rc, _fmt, ...)                                                            \
	_D_DEBUG(_D_TRACE_NOCHECK, DLOG_WARN, (_desc), _fmt ": %d (%s)\n", ##__VA_ARGS__, _rc,     \
		 strerror(_rc))
#define DHS_ERROR(_desc, _rc, _fmt, ...)                                                           \
	_D_DEBUG(_D_TRACE_NOCHECK, DLOG_ERR, (_desc), _fmt ": %d (%s)\n", ##__VA_ARGS__, _rc,      \
		 strerror(_rc))

#define DS_INFO(_rc, _fmt, ...)                                                                    \
	D_DEBUG(DLOG_INFO, _fmt ": %d (%s)\n", ##__VA_ARGS__, _rc, strerror(_rc))
#define DS_WARN(_rc, _fmt, ...)                                                                    \
	D_DEBUG(DLOG_WARN, _fmt ": %d (%s)\n", ##__VA_ARGS__, _rc, strerror(_rc))
#define DS_ERROR(_rc, _fmt, ...)                                                                   \
	D_DEBUG(DLOG_ERR, _fmt ": %d (%s)\n", ##__VA_ARGS__, _rc, strerror(_rc))

#ifdef D_USE_GURT_FAC
/* extern int d_misc_logfac; its DD_FLAG_* slots; extern int d_misc_logfac_cache[16]; ... */
D_FOREACH_GURT_FAC(D_LOG_DECLARE_FAC, D_NOOP)
#endif

/* extern d_dbug_t DB_ALL, DB_ANY, DB_TRACE, DB_MEM, DB_NET, DB_IO, DB_TEST; */
D_FOREACH_GURT_DB(D_LOG_DECLARE_DB, D_NOOP)

/* For errors while the log is closed: straight to stderr with file, line and function. */
#define D_PRINT_ERR(fmt, ...)                                                                      \
	do {                                                                                       \
		fprintf(stderr, "%s:%d:%s() " fmt, __FILE__, __LINE__, __func__, ##__VA_ARGS__);   \
		fflush(stderr);                                                                    \
	} while (0)

/* Allocates a facility: its number, or -1. */
static inline int
d_add_log_facility(const char *aname, const char *lname)
{
	return d_log_allocfacility(aname, lname);
}

/* Allocates a facility into *fac: 0, or -DER_UNINIT. */
static inline int
d_init_log_facility(int *fac, const char *aname, const char *lname)
{
	assert(fac != NULL);

	*fac = d_add_log_facility(aname, lname);
	if (*fac < 0) {
		D_PRINT_ERR("d_add_log_facility failed, *fac: %d\n", *fac);
		return -DER_UNINIT;
	}
	return DER_SUCCESS;
}

#if defined(__cplusplus)
extern "C" {
#endif

/* Looks up the debug bit called bitname into *dbgbit: 0, or -1. */
int
d_log_getdbgbit(d_dbug_t *dbgbit, char *bitname);

/* Installs the alternative assert function (see d_alt_assert): 0, or -DER_INVAL. */
int
d_register_alt_assert(void (*alt_assert)(const int, const char *, const char *, const int));

/* Logs size bytes at ptr as a hex dump, at DLOG_EMERG. */
void
d_log_memory(const uint8_t *ptr, size_t size);

#if defined(__cplusplus)
}
#endif

/* To stdout, whether or not the log is open. */
#define D_PRINT(fmt, ...)                                                                          \
	do {                                                                                       \
		fprintf(stdout, fmt, ##__VA_ARGS__);                                               \
		fflush(stdout);                                                                    \
	} while (0)

/* Assertions: log at DLOG_EMERG, call d_alt_assert if set, then assert(0). */
#define D_ASSERT(e)                                                                                \
	do {                                                                                       \
		if (likely(e))                                                                     \
			break;                                                                     \
		D_FATAL("Assertion '%s' failed\n", #e);                                            \
		d_log_sync();                                                                      \
		if (d_alt_assert != NULL)                                                          \
			d_alt_assert(0, #e, __FILE__, __LINE__);                                   \
		assert(0);                                                                         \
	} while (0)

/* Also dumps size bytes at ptr. */
#define D_ASSERTF_MEM(cond, ptr, size, fmt, ...)                                                   \
	do {                                                                                       \
		if (likely(cond))                                                                  \
			break;                                                                     \
		D_FATAL("Assertion '%s' failed: " fmt, #cond, ##__VA_ARGS__);                      \
		d_log_memory((uint8_t *)ptr, size);                                                \
		if (d_alt_assert != NULL)                                                          \
			d_alt_assert(0, #cond, __FILE__, __LINE__);                                \
		assert(0);                                                                         \
	} while (0)

/* With a message. */
#define D_ASSERTF(cond, fmt, ...)                                                                  \
	do {                                                                                       \
		if (likely(cond))                                                                  \
			break;                                                                     \
		D_FATAL("Assertion '%s' failed: " fmt, #cond, ##__VA_ARGS__);                      \
		if (d_alt_assert != NULL)                                                          \
			d_alt_assert(0, #cond, __FILE__, __LINE__);                                \
		assert(0);                                                                         \
	} while (0)

/* Compile-time assertion. */
#define D_CASSERT(cond, ...) _Static_assert(cond, #cond ": " __VA_ARGS__)

#define DF_U64 "%" PRIu64
#define DF_X64 "%" PRIx64

#ifndef DF_HG_RC
#define DF_HG_RC     "%d (%s)"
#define DP_HG_RC(rc) rc, HG_Error_to_string(rc)
#endif

#endif /* __GURT_DEBUG_H__ */
