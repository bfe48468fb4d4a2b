/*
 * Every message gurt logs goes through d_vlog's symbol, so a wrapper sees it: built twice,
 * statically with -Wl,--wrap=d_vlog (HOOK is __wrap_d_vlog, as upstream's d_log_memory_ut
 * does) and dynamically with HOOK = d_vlog defined here, interposing libgurt.so's own
 * definition (exported with -rdynamic). Messages from gurt itself (d_log_memory,
 * d_log_setmasks' complaints, the D_* macros compiled here) must all arrive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gurt/common.h>

#ifdef HOOK_WRAP
#define HOOK __wrap_d_vlog
#else
#define HOOK d_vlog
#endif

void
HOOK(int flags, const char *fmt, va_list ap);

static char seen[8][1024];
static int  nseen;

void
HOOK(int flags, const char *fmt, va_list ap)
{
	assert_int_not_equal(flags, 0);
	if (nseen < 8)
		vsnprintf(seen[nseen], sizeof(seen[0]), fmt, ap);
	nseen++;
}

static void
test_every_message_reaches_the_hook(void **state)
{
	uint8_t mem[3] = {1, 2, 3};

	(void)state;
	unsetenv("D_LOG_FILE");
	unsetenv("D_LOG_MASK");
	assert_int_equal(d_log_init(), 0);

	nseen = 0;
	d_log_memory(mem, 3);
	assert_int_equal(nseen, 2);
	assert_non_null(strstr(seen[0], " d_log_memory() ptr="));
	assert_non_null(strstr(seen[0], ", size=3\n"));
	assert_non_null(strstr(seen[1], ": 01 02 03 \n"));

	nseen = 0;
	d_log_setmasks("misc=BOGUS", -1);
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0], "d_log_setmasks: misc: unknown priority BOGUS");

	nseen = 0;
	D_ERROR("from the caller %d\n", 5);
	assert_int_equal(nseen, 1);
	assert_non_null(strstr(seen[0], " test_every_message_reaches_the_hook() from the caller 5\n"));

	d_log_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_message_reaches_the_hook),
	};

	return cmocka_run_group_tests_name("gurt_dlog_hook", tests, NULL, NULL);
}
