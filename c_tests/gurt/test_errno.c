/* d_errstr, d_errdesc and d_errno2der as DAOS's C callers use them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <daos_errno.h>
#include <gurt/common.h>

struct code {
	int         rc;
	const char *name;
	const char *desc;
};

#define CODE(name, desc) {name, #name, #desc},
static const struct code codes[] = {D_FOREACH_GURT_ERR(CODE) D_FOREACH_DAOS_ERR(CODE)};

/* Every registered code has its name and description, negative as functions return them. */
static void
test_every_code(void **state)
{
	size_t i;

	(void)state;
	assert_true(sizeof(codes) / sizeof(codes[0]) > 90);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_string_equal(d_errstr(-codes[i].rc), codes[i].name);
		assert_string_equal(d_errdesc(-codes[i].rc), codes[i].desc);
	}
}

static void
test_numbers(void **state)
{
	(void)state;
	assert_int_equal(DER_SUCCESS, 0);
	assert_int_equal(DER_ERR_GURT_BASE, 1000);
	assert_int_equal(DER_NO_PERM, 1001);
	assert_int_equal(DER_INVAL, 1003);
	assert_int_equal(DER_TIMEDOUT, 1011);
	assert_int_equal(DER_GRPVER, 1036);
	assert_int_equal(DER_QUOTA_LIMIT, 1046);
	assert_int_equal(DER_ERR_DAOS_BASE, 2000);
	assert_int_equal(DER_IO, 2001);
	assert_int_equal(DER_NOTLEADER, 2008);
	assert_int_equal(DER_IGNORE, 2052);
	assert_int_equal(DER_LAST_VALID, 2053);
	assert_int_equal(DER_UNKNOWN, 501000);
	assert_int_equal(sizeof(enum daos_errno), 4);
}

static void
test_success_and_unknown(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(d_errstr(0), "DER_SUCCESS");
	assert_string_equal(d_errdesc(0), "Success");
	assert_string_equal(d_errstr(-DER_UNKNOWN), "DER_UNKNOWN");
	assert_string_equal(d_errdesc(-DER_UNKNOWN), "Unknown error");
	/* positive codes are not DER_* returns */
	assert_string_equal(d_errstr(DER_INVAL), "DER_UNKNOWN");
	assert_string_equal(d_errdesc(DER_INVAL), "Unknown error code 1003");
	/* a range's base and the gaps around the ranges */
	assert_string_equal(d_errstr(-DER_ERR_GURT_BASE), "DER_UNKNOWN");
	assert_string_equal(d_errdesc(-DER_ERR_GURT_BASE), "Unknown error code -1000");
	assert_string_equal(d_errstr(-(DER_QUOTA_LIMIT + 1)), "DER_UNKNOWN");
	assert_string_equal(d_errstr(-DER_LAST_VALID), "DER_UNKNOWN");
	assert_string_equal(d_errstr(-1), "DER_UNKNOWN");
	assert_string_equal(d_errdesc(-1), "Unknown error code -1");
	/* snprintf into 32 bytes: the longest still fits */
	assert_string_equal(d_errdesc(-2147483647 - 1), "Unknown error code -2147483648");
	snprintf(buf, sizeof(buf), DF_RC, DP_RC(-DER_NOMEM));
	assert_string_equal(buf, "DER_NOMEM(-1009): 'Out of memory'");
	snprintf(buf, sizeof(buf), DF_RC, DP_RC(-DER_IO));
	assert_string_equal(buf, "DER_IO(-2001): 'I / O error'");
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
	assert_int_equal(d_errno2der(EIO), -DER_MISC);
	assert_int_equal(d_errno2der(-5), -DER_MISC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_code),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_success_and_unknown),
	    cmocka_unit_test(test_errno2der),
	};

	return cmocka_run_group_tests_name("gurt_errno", tests, NULL, NULL);
}
