/*
 * One function per header macro (compat/gurt/macro_refs.txt): compiled, never linked or run;
 * check_macro_refs.py reads the symbols each function references and compares them with
 * upstream's measured ones. Variables the probes use are named probe_v_* (left out of the
 * comparison).
 */
#include <gurt/common.h>

extern char              *probe_v_s, *probe_v_src;
extern FILE              *probe_v_file;
extern void              *probe_v_p;
extern int                probe_v_i;
extern int               *probe_v_a, *probe_v_b;
extern pthread_mutex_t    probe_v_mutex;
extern pthread_rwlock_t   probe_v_rwlock;
extern pthread_spinlock_t probe_v_spin;
extern d_sg_list_t        probe_v_sgl;
extern d_dbug_t           DB_MYBIT;

#define MY_DB(ACTION, arg)  ACTION(DB_MYBIT, mybit, mybit, 0, arg)
#define MY_FAC(ACTION, arg) ACTION(myfac, myfac, arg)
MY_FAC(D_LOG_DECLARE_FAC, MY_DB)

#define PROBE(name, ...)                                                                           \
	void probe_##name(void);                                                                   \
	void probe_##name(void)                                                                    \
	{                                                                                          \
		__VA_ARGS__;                                                                       \
	}

PROBE(DL_ERROR, DL_ERROR(probe_v_i, "probe"))
PROBE(D_ALIGNED_ALLOC, D_ALIGNED_ALLOC(probe_v_p, 64, 128))
PROBE(D_ALLOC, D_ALLOC(probe_v_p, 10))
PROBE(D_ALLOC_ARRAY, D_ALLOC_ARRAY(probe_v_a, probe_v_i))
PROBE(D_ALLOC_NZ, D_ALLOC_NZ(probe_v_p, 10))
PROBE(D_ASPRINTF, D_ASPRINTF(probe_v_s, "%d", probe_v_i))
PROBE(D_ASSERT, D_ASSERT(probe_v_i))
PROBE(D_ASSERTF, D_ASSERTF(probe_v_i, "probe"))
PROBE(D_ASSERTF_MEM, D_ASSERTF_MEM(probe_v_i, probe_v_p, 4, "probe"))
PROBE(D_DEBUG, D_DEBUG(DB_IO, "probe"))
PROBE(D_ERROR, D_ERROR("probe"))
PROBE(D_FPRINTF, probe_v_i = D_FPRINTF(probe_v_file, "probe"))
PROBE(D_FREE, D_FREE(probe_v_p))
PROBE(D_LOG_DEREGISTER_DB, probe_v_i = D_LOG_DEREGISTER_DB(MY_DB))
PROBE(D_LOG_ENABLED, probe_v_i = D_LOG_ENABLED(DB_MEM))
PROBE(D_LOG_REGISTER_DB, probe_v_i = D_LOG_REGISTER_DB(MY_DB))
PROBE(D_LOG_REGISTER_FAC, probe_v_i = D_LOG_REGISTER_FAC(MY_FAC))
PROBE(D_MUTEX_INIT, probe_v_i = D_MUTEX_INIT(&probe_v_mutex, NULL))
PROBE(D_MUTEX_LOCK, probe_v_i = D_MUTEX_LOCK(&probe_v_mutex); D_MUTEX_UNLOCK(&probe_v_mutex))
PROBE(D_PRINT_ERR, D_PRINT_ERR("probe"))
PROBE(D_REALLOC, int *o = probe_v_a; int *n; D_REALLOC(n, o, probe_v_i, probe_v_i * 2); probe_v_b = n; probe_v_a = o)
PROBE(D_REALPATH, D_REALPATH(probe_v_s, "/tmp"))
PROBE(D_RWLOCK, probe_v_i = D_RWLOCK_RDLOCK(&probe_v_rwlock); D_RWLOCK_UNLOCK(&probe_v_rwlock))
PROBE(D_SHOULD_FAIL, probe_v_i = D_SHOULD_FAIL(d_fault_attr_mem))
PROBE(D_SPIN, D_SPIN_LOCK(&probe_v_spin); D_SPIN_UNLOCK(&probe_v_spin))
PROBE(D_STRNDUP, D_STRNDUP(probe_v_s, probe_v_src, probe_v_i))
PROBE(D_STRNDUP_S, D_STRNDUP_S(probe_v_s, "abc"))
PROBE(D_TRACE_DEBUG, D_TRACE_DEBUG(DB_TRACE, probe_v_p, "probe"))
PROBE(d_sgl_fini, d_sgl_fini(&probe_v_sgl, true))
PROBE(d_sgl_init, probe_v_i = d_sgl_init(&probe_v_sgl, 3))
