/*
 * oxidaos: gurt's log facility and debug-bit plumbing, as in DAOS's gurt/debug_setup.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Each facility `x` is an int variable (d_x_logfac with gurt's default naming) holding its
 * facility number, and an int array d_x_logfac_cache with one slot per priority and debug bit.
 * A slot holds DLOG_UNINIT until the first message of that kind resolves it with d_log_check();
 * the library resets every registered cache to DLOG_UNINIT when masks change.
 */
#ifndef __GURT_DEBUG_SETUP_H__
#define __GURT_DEBUG_SETUP_H__

#include <gurt/dlog.h>

/* gurt's facility variable names: d_<name>_logfac. */
#define DD_GURT_FAC(name) d_##name##_logfac
#ifndef DD_FAC
/* A component may define DD_FAC (name -> variable) before including this header. */
#define DD_FAC DD_GURT_FAC
#define D_USE_GURT_FAC
#endif

#define DD_FAC_DECL(name) DD_FAC(name)

/* The facility a file logs to, unless it defines its own. */
#ifndef D_LOGFAC
#define D_LOGFAC DD_GURT_FAC(misc)
#endif

/*
 * gurt's debug bits. ACTION(variable, short name, long name, default mask (0), arg).
 * DB_ALL matches every bit: use it for messages wanted whenever any debugging is on.
 */
#define D_FOREACH_GURT_DB(ACTION, arg)                                                             \
	ACTION(DB_ALL, all, all, 0, arg)                                                           \
	ACTION(DB_ANY, any, any, 0, arg)                                                           \
	ACTION(DB_TRACE, trace, trace, 0, arg)                                                     \
	ACTION(DB_MEM, mem, mem, 0, arg)                                                           \
	ACTION(DB_NET, net, net, 0, arg)                                                           \
	ACTION(DB_IO, io, io, 0, arg)                                                              \
	ACTION(DB_TEST, test, test, 0, arg)

/* Token pasting helpers: DD_FLAG(DB_IO, d_misc_logfac) is d_misc_logfac_cache[slot of DB_IO]. */
#define DD_CONCAT_CACHE(x, y)    x##_cache
#define DD_CONCAT_FLAG(x, y)     DD_FLAG_##x##_##y
#define DD_CONCAT(x, y, op)      op(x, y)
#define DD_CACHE(fac)            DD_CONCAT(fac, D_NOOP, DD_CONCAT_CACHE)
#define DD_FLAG_NAME(mask, fac)  DD_CONCAT(mask, fac, DD_CONCAT_FLAG)
#define DD_FLAG(mask, fac)       DD_CACHE(fac)[DD_FLAG_NAME(mask, fac) - 1]

/* Debug-bit variables: declare (extern) or define them, one ACTION per bit. */
#define D_LOG_DECLARE_DB(flag, s_name, l_name, mask, arg)     extern d_dbug_t flag;
#define D_LOG_INSTANTIATE_DB(flag, s_name, l_name, mask, arg) d_dbug_t flag;

/* One step of D_LOG_REGISTER_DB (a bare statement list so a failure can break out). */
#define _D_LOG_ALLOCATE_DBG_BIT(dbgbit, s_name, l_name, mask, rc)                                  \
	rc = d_log_dbg_bit_alloc(&dbgbit, #s_name, #l_name);                                       \
	if (rc < 0) {                                                                              \
		rc = -DER_UNINIT;                                                                  \
		D_PRINT_ERR("Could not get debug bit " #s_name "\n");                              \
		break;                                                                             \
	}

/* One step of D_LOG_DEREGISTER_DB. */
#define _D_LOG_DEALLOCATE_DBG_BIT(dbgbit, s_name, l_name, mask, rc)                                \
	rc = d_log_dbg_bit_dealloc(#s_name);                                                       \
	if (rc < 0) {                                                                              \
		rc = -DER_UNINIT;                                                                  \
		D_PRINT_ERR("Could not free debug bit " #s_name "\n");                             \
		break;                                                                             \
	}

/* Allocates every debug bit of a FOREACH list: 0, or -DER_UNINIT at the first failure. */
#define D_LOG_REGISTER_DB(db_foreach)                                                              \
	({                                                                                         \
		int __rc = 0;                                                                      \
		do {                                                                               \
			db_foreach(_D_LOG_ALLOCATE_DBG_BIT, __rc)                                  \
		} while (0);                                                                       \
		__rc;                                                                              \
	})

/* Releases every debug bit of a FOREACH list: 0, or -DER_UNINIT at the first failure. */
#define D_LOG_DEREGISTER_DB(db_foreach)                                                            \
	({                                                                                         \
		int __rc = 0;                                                                      \
		do {                                                                               \
			db_foreach(_D_LOG_DEALLOCATE_DBG_BIT, __rc)                                \
		} while (0);                                                                       \
		__rc;                                                                              \
	})

/* The enum constant naming a (flag, facility) slot. */
#define _D_LOG_DECLARE_ENUM(flag, s_name, l_name, mask, fac) DD_FLAG_NAME(flag, fac),

/* One DLOG_UNINIT initialiser per slot. */
#define _D_LOG_INITIALIZE_FIELD(flag, s_name, l_name, mask, fac) DLOG_UNINIT,

/* The slots of facility s_name: START, every priority, gurt's debug bits, the component's own
 * bits, END; and the extern cache array of END - 1 ints. */
#define _D_LOG_DECLARE_CACHE(s_name, user_dbg_bits)                                                \
	enum {                                                                                     \
		DD_FLAG_NAME(s_name, START),                                                       \
		D_FOREACH_PRIO_MASK(_D_LOG_DECLARE_ENUM, DD_FAC(s_name))                           \
		D_FOREACH_GURT_DB(_D_LOG_DECLARE_ENUM, DD_FAC(s_name))                             \
		user_dbg_bits(_D_LOG_DECLARE_ENUM, DD_FAC(s_name))                                 \
		DD_FLAG_NAME(s_name, END),                                                         \
	};                                                                                         \
	extern int DD_CACHE(DD_FAC(s_name))[DD_FLAG_NAME(s_name, END) - 1];

/* Defines the cache array, every slot DLOG_UNINIT. */
#define _D_LOG_INSTANTIATE_CACHE(s_name, user_dbg_bits)                                            \
	int DD_CACHE(DD_FAC(s_name))[DD_FLAG_NAME(s_name, END) - 1] = {                            \
	    D_FOREACH_PRIO_MASK(_D_LOG_INITIALIZE_FIELD, D_NOOP)                                   \
		D_FOREACH_GURT_DB(_D_LOG_INITIALIZE_FIELD, D_NOOP)                                 \
		    user_dbg_bits(_D_LOG_INITIALIZE_FIELD, D_NOOP)};

/* Registers a facility's cache for resets. */
#define _D_ADD_CACHE(s_name)                                                                       \
	d_log_add_cache(DD_CACHE(DD_FAC(s_name)), ARRAY_SIZE(DD_CACHE(DD_FAC(s_name))));

/* Declares a facility variable and its cache (ACTION for a facility FOREACH list). */
#define D_LOG_DECLARE_FAC(s_name, l_name, user_dbg_bits)                                           \
	extern int DD_FAC_DECL(s_name);                                                            \
	_D_LOG_DECLARE_CACHE(s_name, user_dbg_bits)

/* Defines a facility variable and its cache. */
#define D_LOG_INSTANTIATE_FAC(s_name, l_name, user_dbg_bits)                                       \
	int DD_FAC_DECL(s_name);                                                                   \
	_D_LOG_INSTANTIATE_CACHE(s_name, user_dbg_bits)

/* One step of D_LOG_REGISTER_FAC. */
#define _D_LOG_ALLOCATE_LOG_FACILITY(s_name, l_name, rc)                                           \
	rc = d_init_log_facility(&DD_FAC(s_name), #s_name, #l_name);                               \
	if (rc != 0) {                                                                             \
		rc = -DER_UNINIT;                                                                  \
		D_PRINT_ERR("Could not allocate " #s_name "\n");                                   \
		break;                                                                             \
	}                                                                                          \
	_D_ADD_CACHE(s_name);

/* Allocates every facility of a FOREACH list and registers its cache: 0, or -DER_UNINIT. */
#define D_LOG_REGISTER_FAC(fac_foreach)                                                            \
	({                                                                                         \
		int __rc = 0;                                                                      \
		do {                                                                               \
			fac_foreach(_D_LOG_ALLOCATE_LOG_FACILITY, __rc)                            \
		} while (0);                                                                       \
		__rc;                                                                              \
	})

#endif /* __GURT_DEBUG_SETUP_H__ */
