/*
 * oxidaos: gurt's message log, as in DAOS's gurt/dlog.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * A log line is selected by an int of flags: the facility number in the low byte
 * (DLOG_FACMASK), then either a priority (DLOG_INFO .. DLOG_EMIT, one nibble at bit 24) or a set
 * of debug bits (inside DLOG_DBG), plus DLOG_STDERR/DLOG_STDOUT. d_log_check() is compiled into
 * every caller and reads the exported d_log_xst directly, so that structure's layout and the
 * meaning of its fields are ABI.
 */
#ifndef _DLOG_H_
#define _DLOG_H_

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

/* Debug-bit masks are 64 bits wide (log masks are ints). */
typedef uint64_t d_dbug_t;

/* Flavor bits of d_log_open() / d_log_init_adv(). */
#define DLOG_FLV_LOGPID  (1 << 0) /* pid[tid] in each line */
#define DLOG_FLV_FQDN    (1 << 1) /* full host name instead of the short one */
#define DLOG_FLV_FAC     (1 << 2) /* facility name in each line */
#define DLOG_FLV_YEAR    (1 << 3) /* year in the time stamp */
#define DLOG_FLV_TAG     (1 << 4) /* the tag in each line */
#define DLOG_FLV_STDOUT  (1 << 5) /* copy every line to stdout */
#define DLOG_FLV_STDERR  (1 << 6) /* copy every line to stderr */

#define DLOG_FLV_DEFAULT (DLOG_FLV_FAC | DLOG_FLV_LOGPID | DLOG_FLV_TAG | DLOG_FLV_YEAR)

/* Per-message flags. */
#define DLOG_STDERR 0x20000000 /* this message also goes to stderr */
#define DLOG_STDOUT 0x10000000 /* this message also goes to stdout */

#define DLOG_PRIMASK 0x0fffff00 /* priority and debug bits */

/* The priorities: ACTION(enum name, short name, long name, value, arg). */
#define D_FOREACH_PRIO_MASK(ACTION, arg)                                                           \
	ACTION(DLOG_EMIT, emit, emit, 0x08000000, arg)                                             \
	ACTION(DLOG_EMERG, fatal, fatal, 0x07000000, arg)                                          \
	ACTION(DLOG_ALERT, alert, alert, 0x06000000, arg)                                          \
	ACTION(DLOG_CRIT, crit, crit, 0x05000000, arg)                                             \
	ACTION(DLOG_ERR, err, err, 0x04000000, arg)                                                \
	ACTION(DLOG_WARN, warn, warn, 0x03000000, arg)                                             \
	ACTION(DLOG_NOTE, note, note, 0x02000000, arg)                                             \
	ACTION(DLOG_INFO, info, info, 0x01000000, arg)                                             \
	ACTION(DLOG_DBG, debug, debug, 0x00ffff00, arg)

/* Swallows its arguments (the "no argument" of the FOREACH macros). */
#define D_NOOP(...)

#define D_PRIO_ENUM(name, id, longid, mask, arg) name = mask,
enum { D_FOREACH_PRIO_MASK(D_PRIO_ENUM, D_NOOP) };

enum d_log_flag_bits {
	/* d_log_dbg_grp_alloc(): make the group the default debug mask too. */
	D_LOG_SET_AS_DEFAULT = 1U,
};

#define DLOG_PRISHIFT  24         /* priority nibble shift */
#define DLOG_DPRISHIFT 8          /* debug bits shift */
#define DLOG_PRINDMASK 0x0f000000 /* the priority nibble */
#define DLOG_FACMASK   0x000000ff /* the facility number */
#define DLOG_UNINIT    0x80000000 /* "not resolved yet" in a facility cache */

#define DLOG_PRI(flag) ((flag & DLOG_PRINDMASK) >> DLOG_PRISHIFT)

/* DD_MASK: the debug bits / groups to enable (default "all"), comma separated. */
#define DD_MASK_ENV     "DD_MASK"
#define DD_MASK_DEFAULT "all"
#define DD_SEP          ","

/* DD_STDERR: the lowest priority also copied to stderr (info, note, warn, err, crit, emerg;
 * default crit). */
#define DD_STDERR_ENV "DD_STDERR"

/* DD_SUBSYS: the facilities to log (default all). */
#define DD_FAC_ENV "DD_SUBSYS"
#define DD_FAC_ALL "all"

/* One facility. */
struct dlog_fac {
	char *fac_aname; /* short name */
	char *fac_lname; /* long name, may be NULL */
	int   fac_mask;  /* its log mask: a priority, or debug bits */
	bool  is_enabled; /* in DD_SUBSYS */
};

/* The log's global state; tag is NULL while the log is closed. */
struct d_log_xstate {
	char            *tag;
	struct dlog_fac *dlog_facs; /* fac_cnt facilities */
	char            *nodename;
	int              fac_cnt;
};

/* The debug settings derived from DD_MASK / DD_STDERR. */
struct d_debug_data {
	d_dbug_t dd_mask;     /* enabled debug bits */
	d_dbug_t dd_prio_err; /* lowest priority copied to stderr */
	int      dbg_bit_cnt; /* allocated debug bits */
	int      dbg_grp_cnt; /* allocated debug groups */
};

/* A priority name (for DD_STDERR and D_LOG_MASK values). */
struct d_debug_priority {
	char    *dd_name;
	d_dbug_t dd_prio;
	size_t   dd_name_size;
};

/* A named debug bit (DB_MEM, DB_IO, ...): db_bit points at the variable holding its value. */
struct d_debug_bit {
	d_dbug_t *db_bit;
	char     *db_name;
	char     *db_lname;
	size_t    db_name_size;
	size_t    db_lname_size;
};

/* A named set of debug bits (a DD_MASK group). */
struct d_debug_grp {
	char    *dg_name;
	size_t   dg_name_size;
	d_dbug_t dg_mask;
};

#if defined(__cplusplus)
extern "C" {
#endif

extern struct d_log_xstate d_log_xst;
extern struct d_debug_data d_dbglog_data;

/* Releases the debug bit called name. 0, or -1 if there is none. */
int
d_log_dbg_bit_dealloc(char *name);

/* Allocates the next free debug bit under name/lname (or returns the one it already has) and
 * stores it in *dbgbit. 0, or -1 when all are taken. */
int
d_log_dbg_bit_alloc(d_dbug_t *dbgbit, char *name, char *lname);

/* Removes the debug group grpname. 0, or -1. */
int
d_log_dbg_grp_dealloc(char *grpname);

/* Names the set of bits dbgmask grpname; D_LOG_SET_AS_DEFAULT in flags also makes it the
 * default mask. 0, or -1. */
int
d_log_dbg_grp_alloc(d_dbug_t dbgmask, char *grpname, uint32_t flags);

/*
 * Decides whether a message with these flags (facility | priority or debug bits) is logged:
 * returns the flags to hand to d_vlog(), or 0. Compiled into the caller.
 */
static inline int
d_log_check(int flags)
{
	int fac = flags & DLOG_FACMASK;
	int lvl = flags & DLOG_PRIMASK;
	int msk;

	if (!d_log_xst.tag) /* closed */
		return 0;

	/* A facility left out of DD_SUBSYS still reports errors and worse. */
	if (!d_log_xst.dlog_facs[fac].is_enabled && lvl < DLOG_ERR)
		return 0;

	/* An unknown facility number falls back to the default facility. */
	if (fac >= d_log_xst.fac_cnt)
		fac = 0;

	msk = d_log_xst.dlog_facs[fac].fac_mask;
	if (lvl >= DLOG_INFO) {
		/* a priority: compare levels */
		if (lvl < msk)
			return 0;
	} else {
		/* debug bits: the facility must have one of them (a mask at INFO or above has no
		 * debug bits at all) */
		if ((lvl & msk) == 0)
			return 0;
	}
	return lvl | fac;
}

/* Logs a message whose flags d_log_check() accepted. Lines longer than 4096 bytes are cut. */
void
d_vlog(int flags, const char *fmt, va_list ap);

/* d_vlog with arguments. */
static inline void
d_log(int flags, const char *fmt, ...) __attribute__((__format__(__printf__, 2, 3)));
static inline void
d_log(int flags, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	d_vlog(flags, fmt, ap);
	va_end(ap);
}

/* Allocates a new facility named aname/lname (DD_SUBSYS decides whether it is enabled): its
 * number, or -1 when the log is closed or memory runs out. */
int
d_log_allocfacility(const char *aname, const char *lname);

/* Opens the process's shared log on first use, from D_LOG_FILE, D_LOG_MASK and the other
 * environment variables; reference counted, each call paired with d_log_fini(). 0 or -DER_*. */
int
d_log_init(void);

/* Supplies the execution-stream and ULT ids printed in each line. */
typedef void (*d_log_id_cb_t)(uint32_t *xs_id, uint64_t *ult_id);

/* d_log_init with an explicit tag, file, flavor, default mask and stderr mask. */
int
d_log_init_adv(char *log_tag, char *log_file, unsigned int flavor, d_dbug_t def_mask,
	       d_dbug_t err_mask, d_log_id_cb_t id_cb);

/* Drops one d_log_init reference; the last one closes the log. */
void
d_log_fini(void);

/* Closes the log and frees its resources. */
void
d_log_close(void);

/* Records the process's rank (D_LOG_FILE_APPEND_RANK renames the log file after it). */
void
d_log_rank_setup(int rank);

/* Re-applies D_LOG_MASK and DD_MASK (e.g. to facilities added since). */
void
d_log_sync_mask(void);

/* Applies the given log mask and debug mask strings (NULL: leave as is). */
void
d_log_sync_mask_ex(const char *log_mask, const char *dd_mask);

/* Opens the log: tag for each line, a hint of the facility count, default and stderr masks,
 * the file (NULL: none) and DLOG_FLV_* flags. 0, or -1. */
int
d_log_open(char *tag, int maxfac_hint, int default_mask, int stderr_mask, char *logfile,
	   int flags, d_log_id_cb_t id_cb);

/* Sets one facility's mask. 0, or -1 for a bad facility. */
int
d_log_setlogmask(int facility, int mask);

/* Applies "FAC=LEVEL,FAC2=LEVEL2,LEVEL" settings (mlen < 0: NUL-terminated). 0, or -1. */
int
d_log_setmasks(const char *mstr, int mlen);

/* Writes the current masks as text to buf after skipping discard bytes (buf NULL: measures).
 * Returns the byte count; unterm: no trailing NUL. */
int
d_log_getmasks(char *buf, int discard, int len, int unterm);

/* Registers nr ints that are reset to DLOG_UNINIT whenever masks change (a facility cache). */
void
d_log_add_cache(int *cache, int nr);

/* Flushes buffered log output and syncs the log file. */
void
d_log_sync(void);

/* Stops writing to the log file. */
void
d_log_disable_logging(void);

/* Resets the per-thread log state (after fork). */
void
d_log_reset(void);

/* Exported by libgurt.so.4 though upstream's header does not declare them: naming a facility,
 * whether DD_SUBSYS enables a facility name, and the debug-bit and debug-group tables (gurt's
 * seven bits, then ten slots for d_log_dbg_bit_alloc; ten group slots). */
int
d_log_namefacility(int facility, const char *aname, const char *lname);
bool
d_logfac_is_enabled(const char *fac_name);
extern struct d_debug_bit d_dbg_bit_dict[17];
extern struct d_debug_grp d_dbg_grp_dict[10];

#if defined(__cplusplus)
}
#endif

#endif /* _DLOG_H_ */
