/* gurt's environment functions. libgurt calls the C library's getenv and strdup through their
 * symbols, so a program can see every call: linked with libgurt.so this program defines getenv
 * and strdup itself (interposing on the library's calls); linked with the static archive
 * (ENV_WRAP) it wraps them with -Wl,--wrap as upstream's tests do. Either way the mocks forward
 * to the C library's, or return a chosen value when a test asks. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <cmocka.h>

#include <gurt/common.h>

static bool        mock_getenv;
static const char *getenv_return;
static int         getenv_calls;
static bool        mock_strdup;
static int         strdup_calls;

#ifdef ENV_WRAP
/* Linked with the static archive and -Wl,--wrap=getenv,--wrap=strdup, as upstream's tests are. */
char *__real_getenv(const char *name);
char *__real_strdup(const char *s);
#define MOCK_GETENV __wrap_getenv
#define MOCK_STRDUP __wrap_strdup
#define REAL(fn, ...) __real_##fn(__VA_ARGS__)
#else
/* Linked with libgurt.so: these definitions interpose on the library's calls. */
#define MOCK_GETENV getenv
#define MOCK_STRDUP strdup
#define REAL(fn, ...) ((__typeof__(&fn))dlsym(RTLD_NEXT, #fn))(__VA_ARGS__)
#endif

char *MOCK_GETENV(const char *name);
char *MOCK_STRDUP(const char *s);

char *
MOCK_GETENV(const char *name)
{
	getenv_calls++;
	if (mock_getenv)
		return (char *)getenv_return;
	return REAL(getenv, name);
}

char *
MOCK_STRDUP(const char *s)
{
	strdup_calls++;
	if (mock_strdup)
		return NULL;
	return REAL(strdup, s);
}

static int
mock_on(void **state)
{
	(void)state;
	mock_getenv  = true;
	getenv_calls = 0;
	strdup_calls = 0;
	return 0;
}

static int
mock_off(void **state)
{
	(void)state;
	mock_getenv = false;
	mock_strdup = false;
	return 0;
}

/* Every lookup goes through the dynamic getenv (and strdup where upstream copies). */
static void
test_calls_reach_libc_symbols(void **state)
{
	char     buf[8];
	char    *s = NULL;
	bool     b;
	char     c;
	unsigned u;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	getenv_return = "1";
	assert_true(d_isenv_def("X"));
	assert_int_equal(d_getenv_str(buf, sizeof(buf), "X"), 0);
	assert_int_equal(d_agetenv_str(&s, "X"), 0);
	d_freeenv_str(&s);
	assert_int_equal(d_getenv_bool("X", &b), 0);
	assert_int_equal(d_getenv_char("X", &c), 0);
	assert_int_equal(d_getenv_uint("X", &u), 0);
	assert_int_equal(d_getenv_uint32_t("X", &u32), 0);
	assert_int_equal(d_getenv_uint64_t("X", &u64), 0);
	assert_int_equal(getenv_calls, 8);
	assert_int_equal(strdup_calls, 4); /* agetenv and the three integer readers */
}

static void
test_getenv_str(void **state)
{
	char env[] = "012";
	char big[8];

	(void)state;
	getenv_return = "bar";
	assert_int_equal(d_getenv_str(env, sizeof(env), "foo"), 0);
	assert_string_equal(env, "bar");

	getenv_return = "";
	assert_int_equal(d_getenv_str(env, sizeof(env), "foo"), 0);
	assert_string_equal(env, "");

	getenv_return = "too long string";
	assert_int_equal(d_getenv_str(env, sizeof(env), "foo"), -DER_TRUNC);
	assert_string_equal(env, "too");
	assert_int_equal(d_getenv_str(env, 2, "foo"), -DER_TRUNC);
	assert_string_equal(env, "t");
	assert_int_equal(d_getenv_str(env, 1, "foo"), -DER_TRUNC);
	assert_string_equal(env, "");

	getenv_return = "abcde";
	assert_int_equal(d_getenv_str(big, 6, "foo"), 0);
	assert_string_equal(big, "abcde");
	assert_int_equal(d_getenv_str(big, 5, "foo"), -DER_TRUNC);
	assert_string_equal(big, "abcd");

	getenv_return = NULL;
	strcpy(env, "xyz");
	assert_int_equal(d_getenv_str(env, sizeof(env), "foo"), -DER_NONEXIST);
	assert_string_equal(env, "xyz"); /* untouched */

	getenv_return = "bar";
	assert_int_equal(d_getenv_str(NULL, 4, "foo"), -DER_INVAL);
	assert_int_equal(d_getenv_str(env, 0, "foo"), -DER_INVAL);
	assert_int_equal(d_getenv_str(env, 4, NULL), -DER_INVAL);
}

static void
test_agetenv_str(void **state)
{
	char *env = NULL;

	(void)state;
	getenv_return = "bar";
	assert_int_equal(d_agetenv_str(&env, "foo"), 0);
	assert_string_equal(env, "bar");
	assert_ptr_not_equal(env, getenv_return);
	d_freeenv_str(&env);
	assert_null(env);

	getenv_return = "";
	assert_int_equal(d_agetenv_str(&env, "foo"), 0);
	assert_string_equal(env, "");
	d_freeenv_str(&env);
	assert_null(env);

	getenv_return = NULL;
	env           = (char *)0x1;
	assert_int_equal(d_agetenv_str(&env, "foo"), -DER_NONEXIST);
	assert_null(env);

	getenv_return = "bar";
	env           = (char *)0x1;
	mock_strdup   = true;
	assert_int_equal(d_agetenv_str(&env, "foo"), -DER_NOMEM);
	mock_strdup = false;
	assert_null(env);

	env = (char *)0x1;
	assert_int_equal(d_agetenv_str(&env, NULL), -DER_INVAL);
	assert_null(env);
	assert_int_equal(d_agetenv_str(NULL, "foo"), -DER_INVAL);
	d_freeenv_str(NULL);
	env = NULL;
	d_freeenv_str(&env);
}

static void
check_bool(const char *value, bool want)
{
	bool val = !want;

	getenv_return = value;
	assert_int_equal(d_getenv_bool("foo", &val), 0);
	if (val != want)
		fail_msg("d_getenv_bool(\"%s\") = %d, want %d", value, val, want);
}

static void
test_getenv_bool(void **state)
{
	bool val = true;

	(void)state;
	check_bool("bar", true);
	check_bool("true", true);
	check_bool("false", true);
	check_bool("1", true);
	check_bool("999999999999999999999999999999999999", true);
	check_bool("-999999999999999999999999999999999999", true);
	check_bool("0dmlnv", true);
	check_bool("03", true);
	check_bool("0", false);
	check_bool("   0", false);
	check_bool("-0", false);
	check_bool("+0", false);
	check_bool("0    ", true);
	check_bool("0000000", false);
	check_bool("", true);
	check_bool("-", true);

	getenv_return = NULL;
	assert_int_equal(d_getenv_bool("foo", &val), -DER_NONEXIST);
	assert_true(val);
	getenv_return = "0";
	assert_int_equal(d_getenv_bool(NULL, &val), -DER_INVAL);
	assert_int_equal(d_getenv_bool("foo", NULL), -DER_INVAL);
	assert_true(val);
}

static void
test_getenv_char(void **state)
{
	char val = '\0';

	(void)state;
	getenv_return = "a";
	assert_int_equal(d_getenv_char("foo", &val), 0);
	assert_int_equal(val, 'a');
	getenv_return = "";
	assert_int_equal(d_getenv_char("foo", &val), -DER_INVAL);
	getenv_return = "booo";
	assert_int_equal(d_getenv_char("foo", &val), -DER_INVAL);
	getenv_return = NULL;
	assert_int_equal(d_getenv_char("foo", &val), -DER_NONEXIST);
	assert_int_equal(val, 'a');
	getenv_return = "z";
	assert_int_equal(d_getenv_char(NULL, &val), -DER_INVAL);
	assert_int_equal(d_getenv_char("foo", NULL), -DER_INVAL);
	assert_int_equal(val, 'a');
}

/* The 32-bit readers: a negative number wraps ("-1" is the maximum) down to -(2^32 - 1). */
#define CHECK_U32(fn, type)                                                                        \
	do {                                                                                       \
		type val = 0;                                                                      \
		getenv_return = "4294967295";                                                      \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == UINT32_MAX);                                                    \
		getenv_return = "-1";                                                              \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == UINT32_MAX);                                                    \
		getenv_return = "-10";                                                             \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == UINT32_MAX - 9);                                                \
		getenv_return = "-4294967294";                                                     \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == 2);                                                             \
		getenv_return = "-4294967295";                                                     \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == 1);                                                             \
		getenv_return = "+17";                                                             \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == 17);                                                            \
		getenv_return = "    000042";                                                      \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == 42);                                                            \
		getenv_return = "    -000042";                                                     \
		assert_int_equal(fn("foo", &val), 0);                                              \
		assert_true(val == (type)-42);                                                     \
		static const char *bad[] = {"4294967296", "-4294967296", "-0", "booo", "42booo",   \
					    "", " ", "42 ", "-", "0x10", "99999999999999999999"};  \
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {                        \
			getenv_return = bad[i];                                                    \
			if (fn("foo", &val) != -DER_INVAL)                                         \
				fail_msg(#fn "(\"%s\") accepted", bad[i]);                         \
			assert_true(val == (type)-42);                                             \
		}                                                                                  \
		getenv_return = NULL;                                                              \
		assert_int_equal(fn("foo", &val), -DER_NONEXIST);                                  \
		assert_true(val == (type)-42);                                                     \
		getenv_return = "7";                                                               \
		mock_strdup   = true;                                                              \
		assert_int_equal(fn("foo", &val), -DER_NOMEM);                                     \
		mock_strdup = false;                                                               \
		assert_int_equal(fn(NULL, &val), -DER_INVAL);                                      \
		assert_int_equal(fn("foo", NULL), -DER_INVAL);                                     \
		assert_true(val == (type)-42);                                                     \
	} while (0)

static void
test_getenv_uint(void **state)
{
	(void)state;
	CHECK_U32(d_getenv_uint, unsigned);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void
test_getenv_int(void **state)
{
	(void)state;
	CHECK_U32(d_getenv_int, unsigned);
}
#pragma GCC diagnostic pop

static void
test_getenv_uint32_t(void **state)
{
	(void)state;
	CHECK_U32(d_getenv_uint32_t, uint32_t);
}

static void
test_getenv_uint64_t(void **state)
{
	uint64_t           val = 0;
	static const char *bad[] = {"18446744073709551616", "-18446744073709551616", "booo",
				    "42booo", "", "1 ", "--1"};

	(void)state;
	getenv_return = "18446744073709551615";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == UINT64_MAX);
	getenv_return = "-1";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == UINT64_MAX);
	getenv_return = "-10";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == UINT64_MAX - 9);
	getenv_return = "-18446744073709551614";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == 2);
	getenv_return = "-18446744073709551615";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == 1);
	getenv_return = "-0";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == 0);
	getenv_return = "4294967296";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == 4294967296ull);
	getenv_return = "    -000042";
	assert_int_equal(d_getenv_uint64_t("foo", &val), 0);
	assert_true(val == (uint64_t)-42);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		getenv_return = bad[i];
		if (d_getenv_uint64_t("foo", &val) != -DER_INVAL)
			fail_msg("d_getenv_uint64_t(\"%s\") accepted", bad[i]);
	}
	assert_true(val == (uint64_t)-42);
	getenv_return = NULL;
	assert_int_equal(d_getenv_uint64_t("foo", &val), -DER_NONEXIST);
	assert_int_equal(d_getenv_uint64_t(NULL, &val), -DER_INVAL);
	assert_true(val == (uint64_t)-42);
}

/* The writers, on the real environment. */
static void
test_setenv(void **state)
{
	char  env[1];
	char  big[16];
	char *s;

	(void)state;
	assert_int_equal(d_unsetenv("foo"), 0);
	assert_int_equal(d_getenv_str(env, sizeof(env), "foo"), -DER_NONEXIST);
	assert_false(d_isenv_def("foo"));
	assert_false(d_isenv_def(NULL));

	assert_int_equal(d_setenv("foo", "bar", 0), 0);
	assert_int_equal(d_getenv_str(env, sizeof(env), "foo"), -DER_TRUNC);
	assert_true(d_isenv_def("foo"));
	assert_int_equal(d_setenv("foo", "baz", 0), 0); /* not overwritten */
	assert_int_equal(d_getenv_str(big, sizeof(big), "foo"), 0);
	assert_string_equal(big, "bar");
	assert_int_equal(d_setenv("foo", "baz", 1), 0);
	assert_int_equal(d_getenv_str(big, sizeof(big), "foo"), 0);
	assert_string_equal(big, "baz");

	assert_int_equal(d_unsetenv("foo"), 0);
	assert_int_equal(d_getenv_str(env, sizeof(env), "foo"), -DER_NONEXIST);
	assert_false(d_isenv_def("foo"));

	/* Errors come back as libc's, with its errno. */
	errno = 0;
	assert_int_equal(d_setenv("a=b", "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(d_setenv("", "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(d_unsetenv(""), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(d_setenv(NULL, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(d_setenv("foo", NULL, 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(d_unsetenv(NULL), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(d_putenv(NULL), -1);
	assert_int_equal(errno, EINVAL);

	/* putenv keeps the caller's string in the environment. */
	static char kv[] = "OXIDAOS_PUT=value1";
	assert_int_equal(d_putenv(kv), 0);
	assert_int_equal(d_agetenv_str(&s, "OXIDAOS_PUT"), 0);
	assert_string_equal(s, "value1");
	d_freeenv_str(&s);
	kv[17] = '2';
	assert_int_equal(d_getenv_str(big, sizeof(big), "OXIDAOS_PUT"), 0);
	assert_string_equal(big, "value2");
	assert_int_equal(d_unsetenv("OXIDAOS_PUT"), 0);
	assert_false(d_isenv_def("OXIDAOS_PUT"));
}

static void *
env_writer(void *arg)
{
	char value[32];

	for (int i = 0; i < 2000; i++) {
		snprintf(value, sizeof(value), "%d", i);
		assert_int_equal(d_setenv(arg, value, 1), 0);
		if (i % 7 == 0)
			assert_int_equal(d_unsetenv(arg), 0);
	}
	return NULL;
}

static void *
env_reader(void *arg)
{
	char    *s;
	unsigned u;
	char     buf[16];

	for (int i = 0; i < 4000; i++) {
		int rc = d_getenv_uint(arg, &u);

		assert_true(rc == 0 || rc == -DER_NONEXIST);
		if (rc == 0)
			assert_true(u < 2000);
		rc = d_agetenv_str(&s, arg);
		assert_true(rc == 0 || rc == -DER_NONEXIST);
		if (rc == 0)
			assert_true(strtoul(s, NULL, 10) < 2000);
		d_freeenv_str(&s);
		rc = d_getenv_str(buf, sizeof(buf), arg);
		assert_true(rc == 0 || rc == -DER_NONEXIST);
	}
	return NULL;
}

/* Readers and writers at once: the lock keeps every read consistent. */
static void
test_concurrent_access(void **state)
{
	pthread_t t[4];

	(void)state;
	assert_int_equal(pthread_create(&t[0], NULL, env_writer, "OXIDAOS_RACE"), 0);
	assert_int_equal(pthread_create(&t[1], NULL, env_writer, "OXIDAOS_RACE2"), 0);
	assert_int_equal(pthread_create(&t[2], NULL, env_reader, "OXIDAOS_RACE"), 0);
	assert_int_equal(pthread_create(&t[3], NULL, env_reader, "OXIDAOS_RACE2"), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	d_unsetenv("OXIDAOS_RACE");
	d_unsetenv("OXIDAOS_RACE2");
}

/* Last: clears the whole environment of this process. */
static void
test_clearenv(void **state)
{
	(void)state;
	assert_int_equal(d_setenv("OXIDAOS_CLEAR", "1", 1), 0);
	assert_true(d_isenv_def("OXIDAOS_CLEAR"));
	assert_int_equal(d_clearenv(), 0);
	assert_false(d_isenv_def("OXIDAOS_CLEAR"));
	assert_false(d_isenv_def("PATH"));
	assert_int_equal(d_setenv("OXIDAOS_AFTER", "2", 1), 0);
	assert_true(d_isenv_def("OXIDAOS_AFTER"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_calls_reach_libc_symbols, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_getenv_str, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_agetenv_str, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_getenv_bool, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_getenv_char, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_getenv_uint, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_getenv_int, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_getenv_uint32_t, mock_on, mock_off),
	    cmocka_unit_test_setup_teardown(test_getenv_uint64_t, mock_on, mock_off),
	    cmocka_unit_test(test_setenv),
	    cmocka_unit_test(test_concurrent_access),
	    cmocka_unit_test(test_clearenv),
	};

	return cmocka_run_group_tests_name("gurt_env", tests, NULL, NULL);
}
