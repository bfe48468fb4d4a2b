/*
 * oxidaos: gurt basic types, as in DAOS's gurt/types.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Buffers (d_iov_t, d_sg_list_t), ranks and rank lists, strings, and the uuid wrapper that
 * every DAOS library passes across its API.
 */
#ifndef __GURT_TYPES_H__
#define __GURT_TYPES_H__

/* The same system headers upstream pulls in: callers of gurt rely on getting them here. */
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

#if defined(__cplusplus)
extern "C" {
#else
/* Compile-time tests of an expression's type (used by the DP_* format helpers). */
#define d_is_uuid(var)                                                                             \
	(__builtin_types_compatible_p(__typeof__(var), uuid_t) ||                                  \
	 __builtin_types_compatible_p(__typeof__(var), unsigned char *) ||                         \
	 __builtin_types_compatible_p(__typeof__(var), const unsigned char *) ||                   \
	 __builtin_types_compatible_p(__typeof__(var), const uuid_t))
#define d_is_string(var)                                                                           \
	(__builtin_types_compatible_p(__typeof__(var), char *) ||                                  \
	 __builtin_types_compatible_p(__typeof__(var), const char *) ||                            \
	 __builtin_types_compatible_p(__typeof__(var), const char[]) ||                            \
	 __builtin_types_compatible_p(__typeof__(var), char[]))
#endif

/* Whether the compiler knows a warning option (clang asks it, gcc goes by version). */
#if defined(__has_warning)
#define D_HAS_WARNING(gcc_version, warning) __has_warning(warning)
#else
#define D_HAS_WARNING(gcc_version, warning) ((gcc_version) <= __GNUC__)
#endif

/* Older cmocka releases lack the typed assertion names DAOS's tests use. */
#ifndef assert_int_in_range
#define assert_int_in_range assert_in_range
#endif
#ifndef assert_uint_in_range
#define assert_uint_in_range assert_in_range
#endif
#ifndef will_return_int
#define will_return_int will_return
#endif
#ifndef will_return_ptr
#define will_return_ptr will_return
#endif
#ifndef expect_uint_value
#define expect_uint_value expect_value
#endif
#ifndef expect_int_value
#define expect_int_value expect_value
#endif
#ifndef check_expected_int
#define check_expected_int check_expected
#endif
#ifndef check_expected_uint
#define check_expected_uint check_expected
#endif
#ifndef check_expected_ptr
#define check_expected_ptr check_expected
#endif

/* A uuid_t (an array) wrapped in a struct so it can be assigned and passed by value. */
struct d_uuid {
	uuid_t uuid;
};

/* A memory buffer: iov_buf_len bytes at iov_buf, of which iov_len hold data. */
typedef struct {
	void  *iov_buf;
	size_t iov_buf_len;
	size_t iov_len;
} d_iov_t;

/* A server (engine) rank. */
typedef uint32_t d_rank_t;

/* rl_nr ranks at rl_ranks. */
typedef struct {
	d_rank_t *rl_ranks;
	uint32_t  rl_nr;
} d_rank_list_t;

typedef d_rank_list_t *d_rank_list_ptr_t;

/* The ranks lo..hi, both included. */
typedef struct {
	d_rank_t lo;
	d_rank_t hi;
} d_rank_range_t;

/* rrl_nr ranges at rrl_ranges. */
typedef struct {
	d_rank_range_t *rrl_ranges;
	uint32_t        rrl_nr;
} d_rank_range_list_t;

typedef char       *d_string_t;
typedef const char *d_const_string_t;

/* Scatter/gather list: sg_nr buffers at sg_iovs, sg_nr_out of them filled by the callee. */
typedef struct {
	uint32_t sg_nr;
	uint32_t sg_nr_out;
	d_iov_t *sg_iovs;
} d_sg_list_t;

/* A growing C string (d_write_string_buffer and friends): status is 0 or the -DER_* of the
 * first failed append; str_size excludes the terminating NUL; buf_size is what str holds. */
struct d_string_buffer_t {
	int    status;
	size_t str_size;
	size_t buf_size;
	char  *str;
};

/* Points iov at size bytes of buf, all of them data. */
static inline void
d_iov_set(d_iov_t *iov, void *buf, size_t size)
{
	iov->iov_buf     = buf;
	iov->iov_buf_len = size;
	iov->iov_len     = size;
}

#if defined(__cplusplus)
}
#endif

#endif /* __GURT_TYPES_H__ */
