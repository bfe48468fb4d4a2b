/*
 * oxidaos: gurt fault injection, as in DAOS's gurt/fault_inject.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Injection points are numbered; their attributes come from the YAML file named by D_FI_CONFIG
 * or from d_fault_attr_set(). D_SHOULD_FAIL() is compiled into callers: it tests the exported
 * switch d_fault_inject before calling d_should_fail(), so a disabled framework costs one load.
 * Id 0 (d_fault_attr_mem) fails the D_ALLOC family; DFuse uses 100 and daos_init 101; other
 * ids belong to daos_engine.
 */
#ifndef __FAULT_INJECT__
#define __FAULT_INJECT__

#include <stdbool.h>
#include <stdint.h>
#include <gurt/debug.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* The configuration file's environment variable. */
#define D_FAULT_CONFIG_ENV "D_FI_CONFIG"

/* Nonzero while faults are being injected. */
extern unsigned int d_fault_inject;
/* Nonzero when a configuration file was loaded. */
extern unsigned int d_fault_config_file;

/* The attributes of id 0, consulted by the allocation macros (NULL when not configured). */
extern struct d_fault_attr_t *d_fault_attr_mem;

/* One injection point. */
struct d_fault_attr_t {
	/* the id the configuration file selects it by */
	uint32_t           fa_id;
	/* only every fa_interval-th hit is a candidate */
	uint32_t           fa_interval;
	/* stop after this many faults (0: no limit) */
	uint64_t           fa_max_faults;
	/* faults injected so far */
	uint64_t           fa_num_faults;
	/* times the point was evaluated */
	uint64_t           fa_num_hits;
	/* free-form argument from the configuration */
	char              *fa_argument;
	/* protects the fields above and the random state */
	pthread_spinlock_t fa_lock;
	/* the error to report (see d_fault_attr_err_code) */
	int32_t            fa_err_code;
	/* this point's own nrand48() state */
	unsigned short     fa_rand_state[3];
	/* a candidate fails with probability fa_probability_x / fa_probability_y */
	uint32_t           fa_probability_x;
	uint32_t           fa_probability_y;
};

/* Reads D_FI_CONFIG and sets the framework up. 0 or -DER_*. */
int
d_fault_inject_init(void);

/* Tears it down. 0 or -DER_*. */
int
d_fault_inject_fini(void);

/* Starts injecting faults: 0, or -DER_NOSYS when not supported. */
int
d_fault_inject_enable(void);

/* Stops injecting faults: 0, or -DER_NOSYS when not supported. */
int
d_fault_inject_disable(void);

bool
d_fault_inject_is_enabled(void);

/* Whether faults are injected on the calling thread. */
void
d_fault_inject_thread_enable(bool enabled);

/* The same for threads that never called d_fault_inject_thread_enable() (also the
 * configuration file's thread_default). */
void
d_fault_inject_thread_default_enable(bool enabled);

/* Evaluates an injection point: true when a fault should be injected now. */
bool
d_should_fail(struct d_fault_attr_t *fault_attr_ptr);

/* At a call site: true (and a warning logged) when the point should fail. */
#define D_SHOULD_FAIL(fault_attr)                                                                  \
	({                                                                                         \
		bool __rb;                                                                         \
		__rb = d_fault_inject && d_should_fail(fault_attr);                                \
		if (__rb)                                                                          \
			D_WARN("fault_id %d, injecting fault.\n", fault_attr->fa_id);              \
		__rb;                                                                              \
	})

/* Sets (creating if needed) the attributes of fault_id from fa_in's probability, interval,
 * max_faults, num_faults and err_code. 0 or -DER_*. */
int
d_fault_attr_set(uint32_t fault_id, struct d_fault_attr_t fa_in);

/* The configured error code of fault_id, 0 if none. */
int
d_fault_attr_err_code(uint32_t fault_id);

/* The attributes of fault_id, or NULL. */
struct d_fault_attr_t *
d_fault_attr_lookup(uint32_t fault_id);

/* Exported by libgurt.so.4 though upstream's header does not declare it: whether
 * d_fault_inject_init() has run. */
bool
d_fi_initialized(void);

#if defined(__cplusplus)
}
#endif

#endif /* __FAULT_INJECT__ */
