/*
 * oxidaos: gurt common definitions, as in DAOS's gurt/common.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Allocation, locking, time, scatter/gather, hashing helpers and the declarations of the
 * library's misc, environment, rank-list, HLC and signal functions. Header-only parts are
 * compiled into the caller: their behaviour (and the library symbols they reference) is ABI as
 * much as the library's exports are.
 */
#ifndef __GURT_COMMON_H__
#define __GURT_COMMON_H__

#include <uuid/uuid.h>
#include <unistd.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <pthread.h>
#include <byteswap.h>
#include <daos_errno.h>

/* Valgrind client requests when built with D_HAS_VALGRIND, no-ops otherwise. */
#ifdef D_HAS_VALGRIND
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>
#define D_ON_VALGRIND RUNNING_ON_VALGRIND
#else
#define D_ON_VALGRIND 0
#define VALGRIND_MAKE_MEM_DEFINED(addr, len)                                                       \
	do {                                                                                       \
		(void)(addr);                                                                      \
		(void)(len);                                                                       \
	} while (0)
#define VALGRIND_DISABLE_ADDR_ERROR_REPORTING_IN_RANGE(addr, len)                                  \
	do {                                                                                       \
		(void)(addr);                                                                      \
		(void)(len);                                                                       \
	} while (0)
#define VALGRIND_ENABLE_ADDR_ERROR_REPORTING_IN_RANGE(addr, len)                                   \
	do {                                                                                       \
		(void)(addr);                                                                      \
		(void)(len);                                                                       \
	} while (0)
#endif

#include <gurt/types.h>
#include <gurt/debug.h>
#include <gurt/fault_inject.h>

#if defined(__cplusplus)
extern "C" {
#endif

#ifndef likely
#define likely(x) __builtin_expect((uintptr_t)(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect((uintptr_t)(x), 0)
#endif

/* 1 if any of bit is set in val, else 0. */
#define D_BIT_IS_SET(val, bit) (((val) & bit) ? 1 : 0)

/* Process-wide pseudo-random numbers (d_rand: 0 .. D_RAND_MAX; d_randd: [0, 1)). */
#define D_RAND_MAX 0x7fffffff

void
d_srand(long int);
long int
d_rand(void);
double
d_randd(void);

/* Marks the allocators for the compiler (and, where supported, d_free as their deallocator). */
#if defined(HAVE_DEALLOC) && HAVE_DEALLOC
#define _dalloc_ __attribute__((malloc, malloc(d_free)))
#else
#define _dalloc_ __attribute__((malloc))
#endif

/*
 * Allocation wrappers over the libc heap (d_free is free()), reporting to the tracking
 * callbacks of d_set_alloc_track_cb(). Callers normally use the D_ALLOC family below.
 */
void
d_free(void *ptr);
void *
d_calloc(size_t nmemb, size_t size) _dalloc_ __attribute__((alloc_size(1, 2)));
void *
d_malloc(size_t size) _dalloc_ __attribute__((alloc_size(1)));
void *
d_realloc(void *, size_t) _dalloc_ __attribute__((alloc_size(2)));
char *
d_strndup(const char *s, size_t n) _dalloc_;
int
d_asprintf(char **strp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* asprintf returning the string (NULL on failure) and the length in *rc. */
char *
d_asprintf2(int *rc, const char *fmt, ...) _dalloc_ __attribute__((format(printf, 2, 3)));
void *
d_aligned_alloc(size_t alignment, size_t size, bool zero) _dalloc_ __attribute__((alloc_size(2)));
char *
d_realpath(const char *path, char *resolved_path) _dalloc_;

/*
 * After an allocation into ptr: fail it if the memory fault point says so (freeing the block),
 * then log success at DB_MEM or the failure with D_ERROR. cond false means "failed" whatever
 * ptr holds; on_error is evaluated on failure.
 */
#define D_CHECK_ALLOC(func, cond, ptr, name, size, count, cname, on_error)                         \
	do {                                                                                       \
		if (D_SHOULD_FAIL(d_fault_attr_mem)) {                                             \
			d_free(ptr);                                                               \
			(ptr) = NULL;                                                              \
		}                                                                                  \
		if ((cond) && (ptr) != NULL) {                                                     \
			if ((count) <= 1)                                                          \
				D_DEBUG(DB_MEM, "alloc(" #func ") '" name "':%i at %p.\n",         \
					(int)(size), (ptr));                                       \
			else                                                                       \
				D_DEBUG(DB_MEM,                                                    \
					"alloc(" #func ") '" name "':%i * '" cname "':%i at %p.\n", \
					(int)(size), (int)(count), (ptr));                         \
			break;                                                                     \
		}                                                                                  \
		(void)(on_error);                                                                  \
		if ((count) >= 1)                                                                  \
			D_ERROR("out of memory (tried to " #func " '" name "':%i)\n",              \
				(int)((size) * (count)));                                          \
		else                                                                               \
			D_ERROR("out of memory (tried to " #func " '" name "':%i)\n", (int)(size)); \
	} while (0)

/* count elements of size bytes, zeroed. */
#define D_ALLOC_CORE(ptr, size, count)                                                             \
	do {                                                                                       \
		(ptr) = (__typeof__(ptr))d_calloc((count), (size));                                \
		D_CHECK_ALLOC(calloc, true, ptr, #ptr, size, count, #count, 0);                    \
	} while (0)

/* count elements of size bytes, not zeroed. */
#define D_ALLOC_CORE_NZ(ptr, size, count)                                                          \
	do {                                                                                       \
		(ptr) = (__typeof__(ptr))d_malloc((count) * (size));                               \
		D_CHECK_ALLOC(malloc, true, ptr, #ptr, size, count, #count, 0);                    \
	} while (0)

/* A copy of at most n bytes of s. */
#define D_STRNDUP(ptr, s, n)                                                                       \
	do {                                                                                       \
		(ptr) = d_strndup(s, n);                                                           \
		D_CHECK_ALLOC(strndup, true, ptr, #ptr, strnlen(s, n) + 1, 0, #ptr, 0);            \
	} while (0)

/* A copy of a string literal or char array (its whole size): a char * argument does not
 * compile, since sizeof would be the pointer's. */
#define D_STRNDUP_S(ptr, s)                                                                        \
	do {                                                                                       \
		_Static_assert(sizeof(s) != sizeof(void *) ||                                      \
				   __builtin_types_compatible_p(__typeof__(s), __typeof__("1234567")), \
			       "D_STRNDUP_S cannot be used with this type");                       \
		(ptr) = d_strndup(s, sizeof(s));                                                   \
		D_CHECK_ALLOC(strndup, true, ptr, #ptr, sizeof(s), 0, #ptr, 0);                    \
	} while (0)

/* A formatted string. */
#define D_ASPRINTF(ptr, ...)                                                                       \
	do {                                                                                       \
		int _rc;                                                                           \
		(ptr) = d_asprintf2(&_rc, __VA_ARGS__);                                            \
		D_CHECK_ALLOC(asprintf, (ptr) != NULL, ptr, #ptr, _rc + 1, 0, #ptr, (ptr) = NULL); \
	} while (0)

/* The canonical path of path. realpath's own errors keep its errno; an injected fault sets
 * ENOMEM; success leaves errno alone. */
#define D_REALPATH(ptr, path)                                                                      \
	do {                                                                                       \
		(ptr) = d_realpath((path), NULL);                                                  \
		if ((ptr) != NULL) {                                                               \
			int _size = strnlen(ptr, PATH_MAX + 1) + 1;                                \
			D_CHECK_ALLOC(realpath, true, ptr, #ptr, _size, 0, #ptr, 0);               \
			if (((ptr) == NULL))                                                       \
				errno = ENOMEM;                                                    \
		}                                                                                  \
	} while (0)

/* size bytes aligned to alignment, zeroed (NZ: not zeroed). */
#define D_ALIGNED_ALLOC(ptr, alignment, size)                                                      \
	do {                                                                                       \
		(ptr) = (__typeof__(ptr))d_aligned_alloc(alignment, size, true);                   \
		D_CHECK_ALLOC(aligned_alloc, true, ptr, #ptr, size, 0, #ptr, 0);                   \
	} while (0)

#define D_ALIGNED_ALLOC_NZ(ptr, alignment, size)                                                   \
	do {                                                                                       \
		(ptr) = (__typeof__(ptr))d_aligned_alloc(alignment, size, false);                  \
		D_CHECK_ALLOC(aligned_alloc, true, ptr, #ptr, size, 0, #ptr, 0);                   \
	} while (0)

/*
 * Reallocates oldptr into newptr (two different variables, so failure is recognisable: on
 * success oldptr becomes NULL, on failure it keeps the block). A size of 0 becomes 1 byte, so
 * a NULL result always means failure. Bytes past oldsize are zeroed.
 */
#define D_REALLOC_COMMON(newptr, oldptr, oldsize, size, cnt)                                       \
	do {                                                                                       \
		size_t _esz   = (size_t)(size);                                                    \
		size_t _sz    = (size_t)(size) * (cnt);                                            \
		size_t _oldsz = (size_t)(oldsize);                                                 \
		size_t _cnt   = (size_t)(cnt);                                                     \
		/* the two pointers must have one type */                                          \
		__typeof__(newptr) optr = oldptr;                                                  \
		D_ASSERT((void *)&(newptr) != &(oldptr));                                          \
		if (_sz == 0)                                                                      \
			_sz = 1;                                                                   \
		if (D_SHOULD_FAIL(d_fault_attr_mem))                                               \
			(newptr) = NULL;                                                           \
		else                                                                               \
			(newptr) = d_realloc(optr, _sz);                                           \
		if ((newptr) != NULL) {                                                            \
			if (_cnt <= 1)                                                             \
				D_DEBUG(DB_MEM,                                                    \
					"realloc '" #newptr "':%zu at %p old '" #oldptr            \
					"':%zu at %p.\n",                                          \
					_esz, (newptr), _oldsz, (oldptr));                         \
			else                                                                       \
				D_DEBUG(DB_MEM,                                                    \
					"realloc '" #newptr "':%zu * '" #cnt "':%zu at %p old '"   \
					#oldptr "':%zu at %p.\n",                                  \
					_esz, _cnt, (newptr), _oldsz, (oldptr));                   \
			(oldptr) = NULL;                                                           \
			if (_oldsz < _sz)                                                          \
				memset((char *)(newptr) + _oldsz, 0, _sz - _oldsz);                \
			break;                                                                     \
		}                                                                                  \
		if (_cnt <= 1)                                                                     \
			D_ERROR("out of memory (tried to realloc '" #newptr "': size=%zu)\n",      \
				_esz);                                                             \
		else                                                                               \
			D_ERROR("out of memory (tried to realloc '" #newptr                        \
				"': size=%zu count=%zu)\n",                                        \
				_esz, _cnt);                                                       \
	} while (0)

/* Growing keeps the old bytes and zeroes the new ones. */
#define D_REALLOC(newptr, oldptr, oldsize, size) D_REALLOC_COMMON(newptr, oldptr, oldsize, size, 1)
#define D_REALLOC_ARRAY(newptr, oldptr, oldcount, count)                                           \
	D_REALLOC_COMMON(newptr, oldptr, (oldcount) * sizeof(*(oldptr)), sizeof(*(oldptr)), count)
/* Nothing is zeroed. */
#define D_REALLOC_NZ(newptr, oldptr, size) D_REALLOC_COMMON(newptr, oldptr, size, size, 1)
#define D_REALLOC_ARRAY_NZ(newptr, oldptr, count)                                                  \
	D_REALLOC_COMMON(newptr, oldptr, (count) * sizeof(*(oldptr)), sizeof(*(oldptr)), count)
/* Everything is zeroed. */
#define D_REALLOC_Z(newptr, oldptr, size) D_REALLOC_COMMON(newptr, oldptr, 0, size, 1)
#define D_REALLOC_ARRAY_Z(newptr, oldptr, count)                                                   \
	D_REALLOC_COMMON(newptr, oldptr, 0, sizeof(*(oldptr)), count)

/* Frees ptr (logging at DB_MEM) and sets it to NULL; nothing for NULL. */
#define D_FREE(ptr)                                                                                \
	do {                                                                                       \
		if ((ptr) != NULL) {                                                               \
			D_DEBUG(DB_MEM, "free '" #ptr "' at %p.\n", (ptr));                        \
			d_free(ptr);                                                               \
			(ptr) = NULL;                                                              \
		}                                                                                  \
	} while (0)

#define D_ALLOC(ptr, size)           D_ALLOC_CORE(ptr, size, 1)
#define D_ALLOC_PTR(ptr)             D_ALLOC(ptr, sizeof(*ptr))
#define D_ALLOC_ARRAY(ptr, count)    D_ALLOC_CORE(ptr, sizeof(*ptr), count)
#define D_ALLOC_NZ(ptr, size)        D_ALLOC_CORE_NZ(ptr, size, 1)
#define D_ALLOC_PTR_NZ(ptr)          D_ALLOC_NZ(ptr, sizeof(*ptr))
#define D_ALLOC_ARRAY_NZ(ptr, count) D_ALLOC_CORE_NZ(ptr, sizeof(*ptr), count)

/* goto label, evaluating rc once (it usually assigns the return code). */
#define D_GOTO(label, rc)                                                                          \
	do {                                                                                       \
		__typeof__(rc) __rc = (rc);                                                        \
		(void)(__rc);                                                                      \
		goto label;                                                                        \
	} while (0)

/* fprintf: 0, or -DER_IO (and an error logged) when it fails. */
#define D_FPRINTF(...)                                                                             \
	({                                                                                         \
		int printed = fprintf(__VA_ARGS__);                                                \
		int _rc     = 0;                                                                   \
		if (printed < 0) {                                                                 \
			D_ERROR("failed to print to stream\n");                                    \
			_rc = -DER_IO;                                                             \
		}                                                                                  \
		_rc;                                                                               \
	})

/*
 * pthread wrappers: each asserts success (trylocks also accept EBUSY; inits log instead) and
 * yields the DER_* form of the result.
 */
#define __D_PTHREAD(fn, x)                                                                         \
	({                                                                                         \
		int _rc;                                                                           \
		_rc = fn(x);                                                                       \
		D_ASSERTF(_rc == 0, #fn "(%p) rc=%d %s\n", x, _rc, strerror(_rc));                 \
		d_errno2der(_rc);                                                                  \
	})

/* Waits with timeouts growing along the Fibonacci sequence (1, 2, 3, 5 ... seconds), warning
 * at DB_MEM/DLOG_WARN how long the lock has been held. */
#define __D_PTHREAD_TIMED(fn, x)                                                                   \
	({                                                                                         \
		int             _rc;                                                               \
		int             _delay1 = 0;                                                       \
		int             _delay2 = 1;                                                       \
		int             _f      = _delay1 + _delay2;                                       \
		int             _c      = _f;                                                      \
		struct timespec _wait   = {};                                                      \
		clock_gettime(CLOCK_REALTIME, &_wait);                                             \
		_wait.tv_sec += _f;                                                                \
		while ((_rc = fn((x), &_wait)) == ETIMEDOUT) {                                     \
			_delay1 = _delay2;                                                         \
			_delay2 = _f;                                                              \
			_c += _f;                                                                  \
			_f = _delay1 + _delay2;                                                    \
			D_CDEBUG(_c > 1, DLOG_WARN, DB_MEM,                                        \
				 #fn "(%p) still held after %d seconds", x, _c);                   \
			clock_gettime(CLOCK_REALTIME, &_wait);                                     \
			_wait.tv_sec += _f;                                                        \
		}                                                                                  \
		D_ASSERTF(_rc == 0, #fn "(%p) rc=%d %s\n", x, _rc, strerror(_rc));                 \
		d_errno2der(_rc);                                                                  \
	})

#define __D_PTHREAD_TRYLOCK(fn, x)                                                                 \
	({                                                                                         \
		int _rc;                                                                           \
		_rc = fn(x);                                                                       \
		D_ASSERTF(_rc == 0 || _rc == EBUSY, "%s rc=%d %s\n", #fn, _rc, strerror(_rc));     \
		d_errno2der(_rc);                                                                  \
	})

#define __D_PTHREAD_INIT(fn, x, y)                                                                 \
	({                                                                                         \
		int _rc;                                                                           \
		_rc = fn(x, y);                                                                    \
		if (_rc != 0) {                                                                    \
			D_ASSERT(_rc != EINVAL);                                                   \
			D_ERROR("%s failed; rc=%d\n", #fn, _rc);                                   \
		}                                                                                  \
		d_errno2der(_rc);                                                                  \
	})

#define D_SPIN_LOCK(x)        __D_PTHREAD(pthread_spin_lock, x)
#define D_SPIN_UNLOCK(x)      __D_PTHREAD(pthread_spin_unlock, x)
#define D_MUTEX_TRYLOCK(x)    __D_PTHREAD_TRYLOCK(pthread_mutex_trylock, x)
#define D_MUTEX_UNLOCK(x)     __D_PTHREAD(pthread_mutex_unlock, x)
#define D_RWLOCK_TRYWRLOCK(x) __D_PTHREAD_TRYLOCK(pthread_rwlock_trywrlock, x)
#define D_RWLOCK_UNLOCK(x)    __D_PTHREAD(pthread_rwlock_unlock, x)
#define D_MUTEX_DESTROY(x)    __D_PTHREAD(pthread_mutex_destroy, x)
#define D_SPIN_DESTROY(x)     __D_PTHREAD(pthread_spin_destroy, x)
#define D_RWLOCK_DESTROY(x)   __D_PTHREAD(pthread_rwlock_destroy, x)
#define D_COND_DESTROY(x)     __D_PTHREAD(pthread_cond_destroy, x)
#define D_MUTEX_INIT(x, y)    __D_PTHREAD_INIT(pthread_mutex_init, x, y)
#define D_SPIN_INIT(x, y)     __D_PTHREAD_INIT(pthread_spin_init, x, y)
#define D_RWLOCK_INIT(x, y)   __D_PTHREAD_INIT(pthread_rwlock_init, x, y)
#define D_COND_INIT(x, y)     __D_PTHREAD_INIT(pthread_cond_init, x, y)

/* Release builds lock plainly; others time out periodically to report long waits. */
#if defined(DAOS_BUILD_RELEASE) || defined(__COVERITY__)
#define D_MUTEX_LOCK(x)    __D_PTHREAD(pthread_mutex_lock, x)
#define D_RWLOCK_WRLOCK(x) __D_PTHREAD(pthread_rwlock_wrlock, x)
#define D_RWLOCK_RDLOCK(x) __D_PTHREAD(pthread_rwlock_rdlock, x)
#else
#define D_MUTEX_LOCK(x)    __D_PTHREAD_TIMED(pthread_mutex_timedlock, x)
#define D_RWLOCK_WRLOCK(x) __D_PTHREAD_TIMED(pthread_rwlock_timedwrlock, x)
#define D_RWLOCK_RDLOCK(x) __D_PTHREAD_TIMED(pthread_rwlock_timedrdlock, x)
#endif

/* Multiplicative hashing onto `bits` bits. */
#define DGOLDEN_RATIO_PRIME_64 0xcbf29ce484222325ULL
#define DGOLDEN_RATIO_PRIME_32 0x9e370001UL

static inline uint64_t
d_u64_hash(uint64_t val, unsigned int bits)
{
	uint64_t hash = val;

	hash *= DGOLDEN_RATIO_PRIME_64;
	return hash >> (64 - bits);
}

static inline uint32_t
d_u32_hash(uint64_t key, unsigned int bits)
{
	return (DGOLDEN_RATIO_PRIME_32 * key) >> (32 - bits);
}

/* Hash functions (hash.c). */
uint64_t
d_hash_mix64(uint64_t key);
uint32_t
d_hash_mix96(uint32_t a, uint32_t b, uint32_t c);
/* Index of value among nhashes sorted hashes (consistent hashing). */
unsigned int
d_hash_srch_u64(uint64_t *hashes, unsigned int nhashes, uint64_t value);
/* djb2 of len bytes of string. */
uint32_t
d_hash_string_u32(const char *string, unsigned int len);
/* 64-bit MurmurHash. */
uint64_t
d_hash_murmur64(const unsigned char *key, unsigned int key_len, unsigned int seed);
/* Jump consistent hash of key onto num_buckets. */
uint32_t
d_hash_jump(uint64_t key, uint32_t num_buckets);

#define LOWEST_BIT_SET(x) ((x) & ~((x) - 1))

/* log2 of val rounded up (bits needed for val values; 0 and 1 give 0). */
static inline unsigned int
d_power2_nbits(unsigned int val)
{
	unsigned int shift;

	for (shift = 1; (val >> shift) != 0; shift++)
		;
	return val == LOWEST_BIT_SET(val) ? shift - 1 : shift;
}

/* Rank lists and rank ranges (misc.c). */
int
d_rank_list_dup(d_rank_list_t **dst, const d_rank_list_t *src);
int
d_rank_list_dup_sort_uniq(d_rank_list_t **dst, const d_rank_list_t *src);
void
d_rank_list_filter(d_rank_list_t *src_set, d_rank_list_t *dst_set, bool exclude);
int
d_rank_list_merge(d_rank_list_t *src_set, d_rank_list_t *merge_set);
d_rank_list_t *
d_rank_list_alloc(uint32_t size);
int
d_rank_list_resize(d_rank_list_t *ptr, uint32_t size);
void
d_rank_list_free(d_rank_list_t *rank_list);
int
d_rank_list_copy(d_rank_list_t *dst, d_rank_list_t *src);
void
d_rank_list_shuffle(d_rank_list_t *rank_list);
void
d_rank_list_sort(d_rank_list_t *rank_list);
bool
d_rank_list_bsearch(d_rank_list_t *rank_list, d_rank_t rank, int *idx);
bool
d_rank_list_find(d_rank_list_t *rank_list, d_rank_t rank, int *idx);
void
d_rank_list_del_at(d_rank_list_t *list, int idx);
int
d_rank_list_del(d_rank_list_t *rank_list, d_rank_t rank);
bool
d_rank_list_identical(d_rank_list_t *rank_list1, d_rank_list_t *rank_list2);
bool
d_rank_in_rank_list(d_rank_list_t *rank_list, d_rank_t rank);
int
d_idx_in_rank_list(d_rank_list_t *rank_list, d_rank_t rank, uint32_t *idx);
int
d_rank_list_append(d_rank_list_t *rank_list, d_rank_t rank);
int
d_rank_list_dump(d_rank_list_t *rank_list, d_string_t name, int name_len);
d_rank_list_t *
uint32_array_to_rank_list(uint32_t *ints, size_t len);
int
rank_list_to_uint32_array(d_rank_list_t *rl, uint32_t **ints, size_t *len);
int
d_rank_list_to_str(d_rank_list_t *rank_list, char **rank_str);
d_rank_range_list_t *
d_rank_range_list_alloc(uint32_t size);
d_rank_range_list_t *
d_rank_range_list_realloc(d_rank_range_list_t *range_list, uint32_t size);
d_rank_range_list_t *
d_rank_range_list_create_from_ranks(d_rank_list_t *rank_list);
int
d_rank_range_list_str(d_rank_range_list_t *list, char **ranks_str);
void
d_rank_range_list_free(d_rank_range_list_t *range_list);

/*
 * Sets up sgl with nr zeroed iovs (none for 0): 0 or -DER_NOMEM. With FAULT_INJECTION it is a
 * macro, so allocation failures are logged at the caller's line.
 */
#ifdef FAULT_INJECTION
#define d_sgl_init(_SGL, _NR)                                                                      \
	({                                                                                         \
		int _rc           = -DER_SUCCESS;                                                  \
		(_SGL)->sg_nr_out = 0;                                                             \
		(_SGL)->sg_nr     = (_NR);                                                         \
		if (unlikely((_NR) == 0)) {                                                        \
			(_SGL)->sg_iovs = NULL;                                                    \
		} else {                                                                           \
			D_ALLOC_ARRAY((_SGL)->sg_iovs, (_NR));                                     \
			if ((_SGL)->sg_iovs == NULL)                                               \
				_rc = -DER_NOMEM;                                                  \
		}                                                                                  \
		_rc;                                                                               \
	})
#else
static inline int
d_sgl_init(d_sg_list_t *sgl, unsigned int nr)
{
	sgl->sg_nr_out = 0;
	sgl->sg_nr     = nr;
	if (unlikely(nr == 0)) {
		sgl->sg_iovs = NULL;
		return 0;
	}
	D_ALLOC_ARRAY(sgl->sg_iovs, nr);
	return sgl->sg_iovs == NULL ? -DER_NOMEM : 0;
}
#endif

/* Frees sgl's iov array (and, with free_iovs, each iov's buffer); NULL-safe. */
static inline void
d_sgl_fini(d_sg_list_t *sgl, bool free_iovs)
{
	uint32_t i;

	if (unlikely(sgl == NULL || sgl->sg_iovs == NULL))
		return;
	if (free_iovs)
		for (i = 0; i < sgl->sg_nr; i++)
			D_FREE(sgl->sg_iovs[i].iov_buf);
	D_FREE(sgl->sg_iovs);
	sgl->sg_nr_out = 0;
	sgl->sg_nr     = 0;
}

/* Total buffer length of sgl's iovs. */
static inline size_t __attribute__((nonnull))
d_sgl_buf_size(d_sg_list_t *sgl)
{
	size_t   size = 0;
	uint32_t i;

	if (sgl->sg_iovs == NULL)
		return 0;
	for (i = 0; i < sgl->sg_nr; i++)
		size += sgl->sg_iovs[i].iov_buf_len;
	return size;
}

/* Copies every source buffer into the matching destination buffer (which must be as large)
 * and takes over the lengths. */
static inline void
d_sgl_buf_copy(d_sg_list_t *dst_sgl, d_sg_list_t *src_sgl)
{
	uint32_t i;

	D_ASSERT(dst_sgl->sg_nr >= src_sgl->sg_nr);
	for (i = 0; i < src_sgl->sg_nr; i++) {
		D_ASSERT(dst_sgl->sg_iovs[i].iov_buf_len >= src_sgl->sg_iovs[i].iov_buf_len);
		memcpy(dst_sgl->sg_iovs[i].iov_buf, src_sgl->sg_iovs[i].iov_buf,
		       src_sgl->sg_iovs[i].iov_buf_len);
		dst_sgl->sg_iovs[i].iov_len     = src_sgl->sg_iovs[i].iov_len;
		dst_sgl->sg_iovs[i].iov_buf_len = src_sgl->sg_iovs[i].iov_buf_len;
	}
}

/* Environment access under gurt's environment lock (misc.c). */
bool
d_isenv_def(char *name);
int
d_getenv_str(char *str_val, size_t str_size, const char *name);
int
d_agetenv_str(char **str_val, const char *name);
void
d_freeenv_str(char **str_val);
int
d_getenv_bool(const char *name, bool *bool_val);
int
d_getenv_char(const char *name, char *char_val);
int
d_getenv_int(const char *name, unsigned int *uint_val)
    __attribute__((deprecated("use d_getenv_uint")));
int
d_getenv_uint(const char *name, unsigned int *uint_val);
int
d_getenv_uint32_t(const char *name, uint32_t *uint32_val);
int
d_getenv_uint64_t(const char *name, uint64_t *uint64_val);
int
d_putenv(char *name);
int
d_setenv(const char *name, const char *value, int overwrite);
int
d_unsetenv(const char *name);
int
d_clearenv(void);

/* Appends formatted text to a string buffer; frees it. */
int
d_write_string_buffer(struct d_string_buffer_t *buf, const char *fmt, ...);
void
d_free_string(struct d_string_buffer_t *buf);

/* Allocation tracking: alloc_cb / free_cb get arg and the size of each block. */
typedef void (*d_alloc_track_cb_t)(void *arg, size_t size);

void
d_set_alloc_track_cb(d_alloc_track_cb_t alloc_cb, d_alloc_track_cb_t free_cb, void *arg);

/* Exported by libgurt.so.4 though upstream's header does not declare them: the callbacks
 * d_set_alloc_track_cb() installed. */
extern d_alloc_track_cb_t d_alloc_track_cb;
extern d_alloc_track_cb_t d_free_track_cb;

#if !defined(container_of)
/* The structure of type `type` whose field `member` is at ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - (char *)(&((type *)0)->member)))
#endif

#ifndef offsetof
#define offsetof(typ, memb) ((long)((char *)&(((typ *)0)->memb)))
#endif

/* x rounded up to a multiple of a (a power of two). */
#define D_ALIGNUP(x, a) (((x) + ((a) - 1)) & ~((a) - 1))

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#endif

#ifndef MIN
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef min
#define min(x, y) ((x) < (y) ? (x) : (y))
#endif
#ifndef max
#define max(x, y) ((x) > (y) ? (x) : (y))
#endif
#ifndef min_t
#define min_t(type, x, y)                                                                          \
	({                                                                                         \
		type __x = (x);                                                                    \
		type __y = (y);                                                                    \
		__x < __y ? __x : __y;                                                             \
	})
#endif
#ifndef max_t
#define max_t(type, x, y)                                                                          \
	({                                                                                         \
		type __x = (x);                                                                    \
		type __y = (y);                                                                    \
		__x > __y ? __x : __y;                                                             \
	})
#endif

/* Byte swapping (the S forms swap in place through a pointer). */
#define D_SWAP16(x)  bswap_16(x)
#define D_SWAP32(x)  bswap_32(x)
#define D_SWAP64(x)  bswap_64(x)
#define D_SWAP16S(x) do { *(x) = D_SWAP16(*(x)); } while (0)
#define D_SWAP32S(x) do { *(x) = D_SWAP32(*(x)); } while (0)
#define D_SWAP64S(x) do { *(x) = D_SWAP64(*(x)); } while (0)

/*
 * Map a system errno to the DER_* code DAOS uses for it: 0 stays 0, the permission, memory,
 * space, existence, cancellation and busy errors map to their DER_* twins, anything else is
 * -DER_MISC.
 */
static inline int
d_errno2der(int err)
{
	switch (err) {
	case 0:
		return 0;
	case EPERM:
	case EACCES:
		return -DER_NO_PERM;
	case ENOMEM:
		return -DER_NOMEM;
	case EDQUOT:
	case ENOSPC:
		return -DER_NOSPACE;
	case EEXIST:
		return -DER_EXIST;
	case ENOENT:
		return -DER_NONEXIST;
	case ECANCELED:
		return -DER_CANCELED;
	case EBUSY:
		return -DER_BUSY;
	default:
		return -DER_MISC;
	}
}

#ifndef NSEC_PER_SEC
#define NSEC_PER_SEC 1000000000
#endif
#ifndef NSEC_PER_MSEC
#define NSEC_PER_MSEC 1000000
#endif
#ifndef NSEC_PER_USEC
#define NSEC_PER_USEC 1000
#endif

/* The monotonic clock into *t: 0, or the DER_* of errno (logged). */
static inline int
d_gettime(struct timespec *t)
{
	int rc;

	rc = clock_gettime(CLOCK_MONOTONIC, t);
	if (rc != 0) {
		D_ERROR("clock_gettime failed, rc: %d, errno %d(%s).\n", rc, errno,
			strerror(errno));
		rc = d_errno2der(errno);
	}
	return rc;
}

/* The same from the coarse monotonic clock. */
static inline int
d_gettime_coarse(struct timespec *t)
{
	int rc;

	rc = clock_gettime(CLOCK_MONOTONIC_COARSE, t);
	if (rc != 0) {
		D_ERROR("clock_gettime failed, rc: %d, errno %d(%s).\n", rc, errno,
			strerror(errno));
		rc = d_errno2der(errno);
	}
	return rc;
}

/* t2 - t1 in nanoseconds. */
static inline int64_t
d_timediff_ns(const struct timespec *t1, const struct timespec *t2)
{
	return ((t2->tv_sec - t1->tv_sec) * NSEC_PER_SEC) + t2->tv_nsec - t1->tv_nsec;
}

/* t2 - t1 as a normalised timespec. */
static inline struct timespec
d_timediff(const struct timespec *t1, const struct timespec *t2)
{
	struct timespec d;

	d.tv_sec  = t2->tv_sec - t1->tv_sec;
	d.tv_nsec = t2->tv_nsec - t1->tv_nsec;
	if (d.tv_nsec < 0) {
		d.tv_sec -= 1;
		d.tv_nsec += NSEC_PER_SEC;
	}
	return d;
}

/* Whether t is zero. */
static inline bool
d_timenull(const struct timespec *t)
{
	return t->tv_sec == 0 && t->tv_nsec == 0;
}

/* Whether t1 < t2. */
static inline bool
d_timeless(const struct timespec *t1, const struct timespec *t2)
{
	return t1->tv_sec < t2->tv_sec || (t1->tv_sec == t2->tv_sec && t1->tv_nsec < t2->tv_nsec);
}

/* Nanoseconds until expiration (monotonic), 0 if past. */
static inline int64_t
d_timeleft_ns(const struct timespec *expiration)
{
	struct timespec now;
	int64_t         ns;

	d_gettime(&now);
	ns = d_timediff_ns(&now, expiration);
	return ns <= 0 ? 0 : ns;
}

/* Time since start (monotonic). */
static inline struct timespec
d_time_elapsed(const struct timespec start)
{
	struct timespec now;

	d_gettime(&now);
	return d_timediff(&start, &now);
}

/* The monotonic time sec_diff seconds from now, in microseconds. */
static inline uint64_t
d_timeus_secdiff(unsigned int sec_diff)
{
	struct timespec now;
	uint64_t        us;

	d_gettime(&now);
	us = (now.tv_sec + sec_diff) * 1e6 + now.tv_nsec / 1e3;
	return us;
}

/* Adds ns nanoseconds to *now. */
static inline void
d_timeinc(struct timespec *now, uint64_t ns)
{
	now->tv_nsec += ns;
	now->tv_sec += now->tv_nsec / NSEC_PER_SEC;
	now->tv_nsec = now->tv_nsec % NSEC_PER_SEC;
}

static inline void
d_timeinc_ms(struct timespec *now, unsigned int ms)
{
	d_timeinc(now, ms * 1000000);
}

/* ms milliseconds as a timespec. */
static inline struct timespec
d_time_ms(unsigned int ms)
{
	return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms - (ms / 1000) * 1000) * 1000000};
}

static inline double
d_time2ms(struct timespec t)
{
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline double
d_time2us(struct timespec t)
{
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static inline double
d_time2s(struct timespec t)
{
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * A sequence of backoffs (e.g. microseconds between retries): bos_nzeros zeros first, then
 * values starting at bos_next multiplied by bos_factor up to bos_max, each randomised (see
 * d_backoff_seq_next). Treat the fields as private.
 */
struct d_backoff_seq {
	uint8_t  bos_flags; /* unused */
	uint8_t  bos_nzeros;
	uint16_t bos_factor;
	uint32_t bos_max;
	uint32_t bos_next;
};

int
d_backoff_seq_init(struct d_backoff_seq *seq, uint8_t nzeros, uint16_t factor, uint32_t next,
		   uint32_t max);
void
d_backoff_seq_fini(struct d_backoff_seq *seq);
uint32_t
d_backoff_seq_next(struct d_backoff_seq *seq);

/* Heuristic: ptr lies within 100 bytes above a local of this frame. */
static inline bool
is_on_stack(void *ptr)
{
	int local_var;

	if ((uintptr_t)&local_var < (uintptr_t)ptr && ((uintptr_t)&local_var + 100) > (uintptr_t)ptr)
		return true;
	return false;
}

/* d_iov_set, asserting buf is not on the stack. */
static inline void
d_iov_set_safe(d_iov_t *iov, void *buf, size_t size)
{
	D_ASSERTF(!is_on_stack(buf), "buf (%p) is on the stack.\n", buf);

	iov->iov_buf = buf;
	iov->iov_len = iov->iov_buf_len = size;
}

/* Standard deviation of nr values. */
double
d_stand_div(double *array, int nr);

/*
 * Hybrid logical clock (hlc.c): 64-bit timestamps, physical time since 2021-01-01 in the high
 * bits and an 18-bit logical counter, kept in step across nodes through RPCs.
 */

/* A new timestamp, later than any returned or received before. */
uint64_t
d_hlc_get(void);

/* Merges a remote timestamp msg and returns a new local one in *hlc_out (and the observed
 * offset in *offset if not NULL): 0, or -DER_HLC_SYNC when msg is too far ahead of the
 * physical clock. */
int
d_hlc_get_msg(uint64_t msg, uint64_t *hlc_out, uint64_t *offset);

/* Nanoseconds since the HLC epoch of a timestamp. */
uint64_t
d_hlc2nsec(uint64_t hlc);

static inline uint64_t
d_hlc2usec(uint64_t hlc)
{
	return d_hlc2nsec(hlc) / 1000;
}

static inline uint64_t
d_hlc2msec(uint64_t hlc)
{
	return d_hlc2nsec(hlc) / (1000 * 1000);
}

static inline uint64_t
d_hlc2sec(uint64_t hlc)
{
	return d_hlc2nsec(hlc) / (1000 * 1000 * 1000);
}

/* The timestamp of nsec nanoseconds since the HLC epoch. */
uint64_t
d_nsec2hlc(uint64_t nsec);

static inline uint64_t
d_usec2hlc(uint64_t usec)
{
	return d_nsec2hlc(usec * 1000);
}

static inline uint64_t
d_msec2hlc(uint64_t msec)
{
	return d_nsec2hlc(msec * 1000 * 1000);
}

static inline uint64_t
d_sec2hlc(uint64_t sec)
{
	return d_nsec2hlc(sec * 1000 * 1000 * 1000);
}

/* Unix-epoch nanoseconds of a timestamp. */
uint64_t
d_hlc2unixnsec(uint64_t hlc);

/* A timestamp as a Unix timespec: 0 or -DER_INVAL. */
int
d_hlc2timespec(uint64_t hlc, struct timespec *ts);

/* A Unix timespec as a timestamp: 0 or -DER_INVAL. */
int
d_timespec2hlc(struct timespec ts, uint64_t *hlc);

/* The timestamp of Unix-epoch nanoseconds, 0 if not representable. */
uint64_t
d_unixnsec2hlc(uint64_t unixnsec);

/* Sets the maximum clock offset between nodes (an HLC duration, rounded up to the physical
 * resolution). */
void
d_hlc_epsilon_set(uint64_t epsilon);

uint64_t
d_hlc_epsilon_get(void);

/* The latest timestamp of an event that happened (out of band) before the one at hlc. */
uint64_t
d_hlc_epsilon_get_bound(uint64_t hlc);

/* Age of a timestamp in seconds. */
uint64_t
d_hlc_age2sec(uint64_t hlc);

/* The HLC tracker (hlct.c): the highest timestamp seen. */
uint64_t
d_hlct_get(void);
void
d_hlct_sync(uint64_t msg);

/* A growable array of pointers. */
struct d_vec_pointers {
	void   **p_buf;
	uint32_t p_cap;
	uint32_t p_len;
};

int
d_vec_pointers_init(struct d_vec_pointers *pointers, uint32_t cap);
void
d_vec_pointers_fini(struct d_vec_pointers *pointers);
int
d_vec_pointers_append(struct d_vec_pointers *pointers, void *pointer);

/* Sets the default for installing signal handlers in crt_init() when DAOS_SIGNAL_REGISTER is
 * unset (programs call this, libraries should not). */
void
d_signal_stack_enable(bool enabled);

/* Installs the signal handlers if so configured. */
void
d_signal_register(void);

#if defined(__cplusplus)
}
#endif

#endif /* __GURT_COMMON_H__ */
