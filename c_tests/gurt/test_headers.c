/*
 * The public gurt headers as C callers use them: every macro family compiles (the
 * compile_* functions below are static inline and never called: type-checked, never emitted, as they reach library parts that
 * other areas implement), and everything that runs without those parts is checked here: the
 * facility-cache plumbing, constants and enums, the inline time, hash and errno helpers, DP_RC
 * formatting, the debug-bit and facility FOREACH expansions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <gurt/list.h>

/* ---- every macro family compiles (type-checked, not run) ---- */

#define TEST_DB(ACTION, arg) ACTION(DB_HDRTEST, hdrtest, hdrtest_long, 0, arg)
D_FOREACH_GURT_DB(D_LOG_DECLARE_DB, D_NOOP)
TEST_DB(D_LOG_INSTANTIATE_DB, D_NOOP)

/* A component facility the way cart and daos components declare them. */
#define TEST_FAC(ACTION, arg) ACTION(hdrtest, hdrtest_long, arg)
TEST_FAC(D_LOG_DECLARE_FAC, TEST_DB)
TEST_FAC(D_LOG_INSTANTIATE_FAC, TEST_DB)

struct thing {
	int      v;
	d_list_t link;
};

static inline __attribute__((unused)) int
compile_log_macros(void *ptr, int rc)
{
	int x = 0;

	D_DEBUG(DB_IO, "debug %d\n", 1);
	D_DEBUG(DB_ALL, "all\n");
	D_TRACE_DEBUG(DB_TRACE, ptr, "trace %d\n", 2);
	D_CDEBUG(rc != 0, DLOG_ERR, DB_ANY, "cdebug %d\n", rc);
	DL_CDEBUG(rc != 0, DLOG_WARN, DB_NET, rc, "dl_cdebug %d", 3);
	D_TRACE_UP(DB_TRACE, ptr, ptr, "type");
	D_TRACE_DOWN(DB_TRACE, ptr);
	D_TRACE_ROOT(DB_TRACE, ptr, "root");
	D_INFO("i\n");
	D_NOTE("n\n");
	D_WARN("w\n");
	D_ERROR("e\n");
	D_ALERT("a\n");
	D_CRIT("c\n");
	D_FATAL("f\n");
	D_EMIT("m\n");
	D_TRACE_INFO(ptr, "i\n");
	D_TRACE_NOTE(ptr, "n\n");
	D_TRACE_WARN(ptr, "w\n");
	D_TRACE_ERROR(ptr, "e\n");
	D_TRACE_ALERT(ptr, "a\n");
	D_TRACE_CRIT(ptr, "c\n");
	D_TRACE_FATAL(ptr, "f\n");
	D_TRACE_EMIT(ptr, "m\n");
	DHL_INFO(ptr, rc, "dhl");
	DHL_WARN(ptr, rc, "dhl");
	DHL_ERROR(ptr, rc, "dhl");
	DL_INFO(rc, "dl");
	DL_WARN(rc, "dl");
	DL_ERROR(rc, "dl");
	DHS_INFO(ptr, rc, "dhs");
	DHS_WARN(ptr, rc, "dhs");
	DHS_ERROR(ptr, rc, "dhs");
	DS_INFO(rc, "ds");
	DS_WARN(rc, "ds");
	DS_ERROR(rc, "ds");
	_D_LOG(_D_LOG_NOCHECK, DLOG_ERR | d_misc_logfac, "explicit\n");
	x += D_LOG_ENABLED(DB_MEM);
	x += D_LOG_ENABLED(DLOG_INFO);
	x += D_LOG_REGISTER_DB(TEST_DB);
	x += D_LOG_DEREGISTER_DB(TEST_DB);
	x += D_LOG_REGISTER_FAC(TEST_FAC);
	x += d_init_log_facility(&x, "a", "b");
	d_log(DLOG_ERR, "%s", "direct");
	D_ASSERT(x >= 0);
	D_ASSERTF(x >= 0, "x %d\n", x);
	D_ASSERTF_MEM(x >= 0, ptr, 8, "x %d\n", x);
	x += D_FPRINTF(stderr, "%d\n", x);
	x += d_log_check(DLOG_DBG | d_mem_logfac);
#undef D_LOGFAC
#define D_LOGFAC DD_FAC(hdrtest)
	D_DEBUG(DB_HDRTEST, "own bit in own facility\n");
	D_ERROR("own facility\n");
#undef D_LOGFAC
#define D_LOGFAC DD_FAC(misc)
	return x;
}

static inline __attribute__((unused)) int
compile_alloc_macros(const char *path)
{
	char         *s, *s2, *s3, *s4;
	int          *a, *b;
	struct thing *t;
	void         *al;
	int           rc = 0;

	D_ALLOC(s, 10);
	D_ALLOC_NZ(s2, 10);
	D_ALLOC_PTR(t);
	D_ALLOC_PTR_NZ(t);
	D_ALLOC_ARRAY(a, 4);
	D_ALLOC_ARRAY_NZ(a, 4);
	D_STRNDUP(s3, "hello", 5);
	D_STRNDUP_S(s4, "hello");
	D_ASPRINTF(s, "%s-%d", "x", 3);
	D_REALPATH(s2, path);
	D_ALIGNED_ALLOC(al, 64, 128);
	D_ALIGNED_ALLOC_NZ(al, 64, 128);
	D_REALLOC(b, a, 4, 8);
	D_REALLOC_ARRAY(b, a, 4, 8);
	D_REALLOC_NZ(b, a, 8);
	D_REALLOC_ARRAY_NZ(b, a, 8);
	D_REALLOC_Z(b, a, 8);
	D_REALLOC_ARRAY_Z(b, a, 8);
	D_FREE(b);
	D_FREE(s);
	D_FREE(t);
	if (D_SHOULD_FAIL(d_fault_attr_mem))
		D_GOTO(out, rc = -DER_NOMEM);
out:
	return rc;
}

static inline __attribute__((unused)) int
compile_lock_macros(void)
{
	pthread_mutex_t    m;
	pthread_rwlock_t   rw;
	pthread_spinlock_t sp;
	pthread_cond_t     cv;
	int                rc = 0;

	rc += D_MUTEX_INIT(&m, NULL);
	rc += D_MUTEX_LOCK(&m);
	rc += D_MUTEX_UNLOCK(&m);
	rc += D_MUTEX_TRYLOCK(&m);
	rc += D_MUTEX_UNLOCK(&m);
	rc += D_MUTEX_DESTROY(&m);
	rc += D_RWLOCK_INIT(&rw, NULL);
	rc += D_RWLOCK_RDLOCK(&rw);
	rc += D_RWLOCK_UNLOCK(&rw);
	rc += D_RWLOCK_WRLOCK(&rw);
	rc += D_RWLOCK_UNLOCK(&rw);
	rc += D_RWLOCK_TRYWRLOCK(&rw);
	rc += D_RWLOCK_UNLOCK(&rw);
	rc += D_RWLOCK_DESTROY(&rw);
	rc += D_SPIN_INIT(&sp, PTHREAD_PROCESS_PRIVATE);
	rc += D_SPIN_LOCK(&sp);
	rc += D_SPIN_UNLOCK(&sp);
	rc += D_SPIN_DESTROY(&sp);
	rc += D_COND_INIT(&cv, NULL);
	rc += D_COND_DESTROY(&cv);
	return rc;
}

static inline __attribute__((unused)) int
compile_inline_helpers(d_sg_list_t *sgl, d_iov_t *iov, void *buf)
{
	struct timespec ts;
	int             rc;

	rc = d_sgl_init(sgl, 2);
	d_sgl_buf_copy(sgl, sgl);
	d_sgl_fini(sgl, true);
	d_iov_set_safe(iov, buf, 4);
	rc += d_gettime(&ts);
	rc += d_gettime_coarse(&ts);
	rc += (int)d_timeleft_ns(&ts);
	ts = d_time_elapsed(ts);
	rc += (int)d_timeus_secdiff(1);
	rc += (int)(d_hlc2sec(1) + d_hlc2msec(1) + d_hlc2usec(1));
	rc += (int)(d_sec2hlc(1) + d_msec2hlc(1) + d_usec2hlc(1));
	rc += d_add_log_facility("a", "b");
	return rc;
}

/* ---- runtime checks ---- */

static void
test_log_constants(void **state)
{
	(void)state;
	assert_int_equal(DLOG_EMIT, 0x08000000);
	assert_int_equal(DLOG_EMERG, 0x07000000);
	assert_int_equal(DLOG_ALERT, 0x06000000);
	assert_int_equal(DLOG_CRIT, 0x05000000);
	assert_int_equal(DLOG_ERR, 0x04000000);
	assert_int_equal(DLOG_WARN, 0x03000000);
	assert_int_equal(DLOG_NOTE, 0x02000000);
	assert_int_equal(DLOG_INFO, 0x01000000);
	assert_int_equal(DLOG_DBG, 0x00ffff00);
	assert_int_equal(D_LOG_SET_AS_DEFAULT, 1);
	assert_int_equal(DLOG_PRI((DLOG_ERR | 3)), 4);
	assert_int_equal(DLOG_PRI(DLOG_DBG), 0);
	assert_int_equal(DLOG_FLV_DEFAULT, 0x1d);
	assert_int_equal(DLOG_STDERR, 0x20000000);
	assert_int_equal(DLOG_STDOUT, 0x10000000);
	assert_int_equal((unsigned)DLOG_UNINIT, 0x80000000u);
	assert_string_equal(DD_MASK_ENV, "DD_MASK");
	assert_string_equal(DD_FAC_ENV, "DD_SUBSYS");
	assert_string_equal(DD_STDERR_ENV, "DD_STDERR");
	assert_string_equal(D_LOG_FILE_ENV, "D_LOG_FILE");
	assert_string_equal(D_LOG_SIZE_ENV, "D_LOG_SIZE");
	assert_string_equal(D_LOG_MASK_ENV, "D_LOG_MASK");
	assert_string_equal(D_LOG_FILE_APPEND_PID_ENV, "D_LOG_FILE_APPEND_PID");
	assert_string_equal(D_LOG_FILE_APPEND_RANK_ENV, "D_LOG_FILE_APPEND_RANK");
	assert_string_equal(D_LOG_TRUNCATE_ENV, "D_LOG_TRUNCATE");
	assert_string_equal(D_LOG_FLUSH_ENV, "D_LOG_FLUSH");
	assert_string_equal(D_LOG_STDERR_IN_LOG_ENV, "D_LOG_STDERR_IN_LOG");
	assert_string_equal(D_FAULT_CONFIG_ENV, "D_FI_CONFIG");
}

/* The cache slots of gurt's facilities: START, 9 priorities, 7 debug bits, END; the arrays
 * have END - 1 = 16 ints (64 bytes, as exported). */
static void
test_facility_slots(void **state)
{
	(void)state;
	assert_int_equal(DD_FLAG_misc_START, 0);
	assert_int_equal(DD_FLAG_DLOG_EMIT_d_misc_logfac, 1);
	assert_int_equal(DD_FLAG_DLOG_EMERG_d_misc_logfac, 2);
	assert_int_equal(DD_FLAG_DLOG_ERR_d_misc_logfac, 5);
	assert_int_equal(DD_FLAG_DLOG_DBG_d_misc_logfac, 9);
	assert_int_equal(DD_FLAG_DB_ALL_d_misc_logfac, 10);
	assert_int_equal(DD_FLAG_DB_IO_d_misc_logfac, 15);
	assert_int_equal(DD_FLAG_DB_TEST_d_misc_logfac, 16);
	assert_int_equal(DD_FLAG_misc_END, 17);
	assert_int_equal(DD_FLAG_mem_END, 17);
	assert_int_equal(DD_FLAG_swim_END, 17);
	assert_int_equal(DD_FLAG_fi_END, 17);
	assert_int_equal(DD_FLAG_telem_END, 17);
	assert_int_equal(DD_FLAG_DB_MEM_d_telem_logfac, 13);
	assert_int_equal(sizeof(d_misc_logfac_cache), 64);
	assert_int_equal(sizeof(d_mem_logfac_cache), 64);
	assert_int_equal(sizeof(d_swim_logfac_cache), 64);
	assert_int_equal(sizeof(d_fi_logfac_cache), 64);
	assert_int_equal(sizeof(d_telem_logfac_cache), 64);
}

/* A component's own facility: one more slot for its bit, every slot starting DLOG_UNINIT. */
static void
test_component_facility(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(DD_FLAG_hdrtest_END, 18);
	assert_int_equal(DD_FLAG_DB_HDRTEST_d_hdrtest_logfac, 17);
	assert_int_equal(ARRAY_SIZE(d_hdrtest_logfac_cache), 17);
	for (i = 0; i < ARRAY_SIZE(d_hdrtest_logfac_cache); i++)
		assert_int_equal(d_hdrtest_logfac_cache[i], (int)DLOG_UNINIT);
	/* DD_FLAG names a slot by flag and facility */
	d_hdrtest_logfac_cache[DD_FLAG_DB_HDRTEST_d_hdrtest_logfac - 1] = 7;
	assert_int_equal(DD_FLAG(DB_HDRTEST, d_hdrtest_logfac), 7);
	assert_ptr_equal(&DD_FLAG(DLOG_EMIT, d_hdrtest_logfac), &d_hdrtest_logfac_cache[0]);
	assert_ptr_equal(&DD_FLAG(DB_ALL, d_hdrtest_logfac), &d_hdrtest_logfac_cache[9]);
	assert_int_equal(d_hdrtest_logfac, 0);
	assert_int_equal(DB_HDRTEST, 0);
}

static void
test_rc_format(void **state)
{
	char buf[128];

	(void)state;
	snprintf(buf, sizeof(buf), "x: " DF_RC, DP_RC(-DER_NOMEM));
	assert_string_equal(buf, "x: DER_NOMEM(-1009): 'Out of memory'");
	snprintf(buf, sizeof(buf), DF_U64 "/" DF_X64, (uint64_t)42, (uint64_t)255);
	assert_string_equal(buf, "42/ff");
}

static void
test_errno2der(void **state)
{
	(void)state;
	assert_int_equal(d_errno2der(0), 0);
	assert_int_equal(d_errno2der(EPERM), -DER_NO_PERM);
	assert_int_equal(d_errno2der(EACCES), -DER_NO_PERM);
	assert_int_equal(d_errno2der(ENOMEM), -DER_NOMEM);
	assert_int_equal(d_errno2der(ENOSPC), -DER_NOSPACE);
	assert_int_equal(d_errno2der(EDQUOT), -DER_NOSPACE);
	assert_int_equal(d_errno2der(EEXIST), -DER_EXIST);
	assert_int_equal(d_errno2der(ENOENT), -DER_NONEXIST);
	assert_int_equal(d_errno2der(ECANCELED), -DER_CANCELED);
	assert_int_equal(d_errno2der(EBUSY), -DER_BUSY);
	assert_int_equal(d_errno2der(EINVAL), -DER_MISC);
}

static void
test_time_helpers(void **state)
{
	struct timespec a = {.tv_sec = 10, .tv_nsec = 900000000};
	struct timespec b = {.tv_sec = 12, .tv_nsec = 100000000};
	struct timespec d, z = {0};

	(void)state;
	assert_int_equal(d_timediff_ns(&a, &b), 1200000000LL);
	assert_int_equal(d_timediff_ns(&b, &a), -1200000000LL);
	d = d_timediff(&a, &b);
	assert_int_equal(d.tv_sec, 1);
	assert_int_equal(d.tv_nsec, 200000000);
	assert_true(d_timeless(&a, &b));
	assert_false(d_timeless(&b, &a));
	assert_false(d_timeless(&a, &a));
	assert_true(d_timenull(&z));
	assert_false(d_timenull(&a));
	d_timeinc(&a, 1500000000ULL);
	assert_int_equal(a.tv_sec, 12);
	assert_int_equal(a.tv_nsec, 400000000);
	d_timeinc_ms(&a, 700);
	assert_int_equal(a.tv_sec, 13);
	assert_int_equal(a.tv_nsec, 100000000);
	d = d_time_ms(2345);
	assert_int_equal(d.tv_sec, 2);
	assert_int_equal(d.tv_nsec, 345000000);
	assert_true(d_time2ms(d) == 2345.0);
	assert_true(d_time2us(d) == 2345000.0);
	assert_true(d_time2s(d) > 2.344999999 && d_time2s(d) < 2.345000001);
	assert_int_equal(NSEC_PER_SEC, 1000000000);
	assert_int_equal(NSEC_PER_MSEC, 1000000);
	assert_int_equal(NSEC_PER_USEC, 1000);
}

static void
test_hash_and_bits(void **state)
{
	int                 arr[7];
	struct thing        t;
	uint16_t            s16 = 0x1234;
	uint32_t            s32 = 0x12345678;
	uint64_t            s64 = 0x0102030405060708ULL;
	char                onstack[8];
	static char         offstack[8];
	d_iov_t             iov;
	struct d_backoff_seq seq;
	struct d_vec_pointers vp;

	(void)state;
	assert_int_equal(d_u64_hash(1, 10), 0xcbf29ce484222325ULL >> 54);
	assert_int_equal(d_u64_hash(12345, 64), 12345ULL * 0xcbf29ce484222325ULL);
	assert_int_equal(d_u32_hash(3, 8), (uint32_t)((0x9e370001UL * 3) >> 24));
	assert_int_equal(d_power2_nbits(1), 0);
	assert_int_equal(d_power2_nbits(2), 1);
	assert_int_equal(d_power2_nbits(3), 2);
	assert_int_equal(d_power2_nbits(8), 3);
	assert_int_equal(d_power2_nbits(9), 4);
	assert_int_equal(LOWEST_BIT_SET(12), 4);
	assert_int_equal(D_ALIGNUP(13, 8), 16);
	assert_int_equal(D_ALIGNUP(16, 8), 16);
	assert_int_equal(ARRAY_SIZE(arr), 7);
	assert_int_equal(MIN(3, 4), 3);
	assert_int_equal(MAX(3, 4), 4);
	assert_int_equal(min(-1, 2), -1);
	assert_int_equal(max(-1, 2), 2);
	assert_int_equal(min_t(unsigned, 5, 9), 5);
	assert_int_equal(max_t(int, -5, -9), -5);
	assert_int_equal(D_BIT_IS_SET(6, 2), 1);
	assert_int_equal(D_BIT_IS_SET(6, 1), 0);
	assert_ptr_equal(container_of(&t.link, struct thing, link), &t);
	assert_int_equal(D_SWAP16(s16), 0x3412);
	assert_int_equal(D_SWAP32(s32), 0x78563412);
	assert_true(D_SWAP64(s64) == 0x0807060504030201ULL);
	D_SWAP16S(&s16);
	D_SWAP32S(&s32);
	D_SWAP64S(&s64);
	assert_int_equal(s16, 0x3412);
	assert_int_equal(s32, 0x78563412);
	assert_true(s64 == 0x0807060504030201ULL);
	assert_false(is_on_stack(offstack));
	(void)onstack;
	d_iov_set(&iov, offstack, sizeof(offstack));
	assert_int_equal(iov.iov_buf_len, 8);
	D_CASSERT(sizeof(seq) == 12);
	D_CASSERT(sizeof(vp) == 16, "d_vec_pointers");
	assert_int_equal(D_RAND_MAX, 0x7fffffff);
	assert_int_equal(DGOLDEN_RATIO_PRIME_32, 0x9e370001UL);
}

static void
test_sgl_size(void **state)
{
	d_iov_t     iovs[3];
	d_sg_list_t sgl = {.sg_nr = 3, .sg_nr_out = 0, .sg_iovs = iovs};
	d_sg_list_t none = {.sg_nr = 2, .sg_iovs = NULL};
	char        a[4] = "abc", b[8] = "defghij", c[2] = "k";

	(void)state;
	d_iov_set(&iovs[0], a, sizeof(a));
	d_iov_set(&iovs[1], b, sizeof(b));
	d_iov_set(&iovs[2], c, sizeof(c));
	iovs[1].iov_len = 3;
	assert_int_equal(d_sgl_buf_size(&sgl), 14);
	assert_int_equal(d_sgl_buf_size(&none), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_constants), cmocka_unit_test(test_facility_slots),
	    cmocka_unit_test(test_component_facility), cmocka_unit_test(test_rc_format),
	    cmocka_unit_test(test_errno2der),     cmocka_unit_test(test_time_helpers),
	    cmocka_unit_test(test_hash_and_bits), cmocka_unit_test(test_sgl_size),
	};

	return cmocka_run_group_tests_name("gurt_headers", tests, NULL, NULL);
}
