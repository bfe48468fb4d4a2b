/* gurt's hybrid logical clock (HLC), its tracker (HLCT), and the fatal-signal handlers. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <gurt/common.h>

#define HLC_NSEC      16ULL
#define HLC_START_SEC 1609459200ULL /* 2021-01-01 00:00:00 UTC */
#define HLC_MASK      0x3FFFFULL    /* 18 logical bits */
#define NSEC          1000000000ULL

static uint64_t
unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static void
test_hlc_get(void **state)
{
	uint64_t before = unix_now_ns();
	uint64_t t      = d_hlc_get();
	uint64_t after  = unix_now_ns();
	uint64_t last   = t;

	(void)state;
	/* The physical part is the wall clock since 2021 in 1/16 ns, logical bits aside. */
	assert_true(d_hlc2unixnsec(t & ~HLC_MASK) + HLC_MASK / HLC_NSEC + 1 >= before);
	assert_true(d_hlc2unixnsec(t & ~HLC_MASK) <= after);
	for (int i = 0; i < 200000; i++) {
		t = d_hlc_get();
		assert_true(t > last);
		last = t;
	}
}

static void *
hlc_thread(void *arg)
{
	uint64_t *out = arg;

	for (int i = 0; i < 10000; i++)
		out[i] = d_hlc_get();
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Concurrent callers never get the same timestamp. */
static void
test_hlc_unique_across_threads(void **state)
{
	uint64_t *all = calloc(40000, sizeof(*all));
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hlc_thread, all + i * 10000), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	qsort(all, 40000, sizeof(*all), cmp_u64);
	for (int i = 1; i < 40000; i++)
		assert_true(all[i] > all[i - 1]);
	free(all);
}

static void
test_hlc_get_msg(void **state)
{
	uint64_t now;
	uint64_t out;
	uint64_t off;
	uint64_t ahead;

	(void)state;
	assert_int_equal(d_hlc_epsilon_get(), NSEC * HLC_NSEC); /* one second by default */

	/* A message from the past: the clock just moves on. */
	now = d_hlc_get();
	off = 77;
	assert_int_equal(d_hlc_get_msg(now - (1ULL << 30), &out, &off), 0);
	assert_true(out > now);
	assert_int_equal(off, 0);
	assert_int_equal(d_hlc_get_msg(now, NULL, NULL), 0);

	/* Half a second ahead: accepted; the local clock goes past it. */
	ahead = d_hlc_get() + NSEC / 2 * HLC_NSEC;
	assert_int_equal(d_hlc_get_msg(ahead, &out, &off), 0);
	assert_int_equal(out, ahead + 1);
	assert_true(off > 0 && off <= NSEC / 2 * HLC_NSEC);
	assert_true(d_hlc_get() > ahead);

	/* Three seconds ahead: -DER_HLC_SYNC, the offset still reported, the clock untouched. */
	ahead = d_hlc_get() + 3 * NSEC * HLC_NSEC;
	out   = 5;
	assert_int_equal(d_hlc_get_msg(ahead, &out, &off), -DER_HLC_SYNC);
	assert_int_equal(out, 5);
	assert_true(off > 2 * NSEC * HLC_NSEC);
	assert_true(d_hlc_get() < ahead);

	/* With a larger epsilon it is accepted. */
	d_hlc_epsilon_set(5 * NSEC * HLC_NSEC);
	assert_int_equal(d_hlc_get_msg(ahead, &out, NULL), 0);
	assert_int_equal(out, ahead + 1);
	d_hlc_epsilon_set(NSEC * HLC_NSEC);
}

static void
test_hlc_epsilon(void **state)
{
	(void)state;
	d_hlc_epsilon_set(1);
	assert_int_equal(d_hlc_epsilon_get(), HLC_MASK + 1); /* rounded up to a physical tick */
	d_hlc_epsilon_set(0);
	assert_int_equal(d_hlc_epsilon_get(), 0);
	d_hlc_epsilon_set(UINT64_MAX);
	assert_int_equal(d_hlc_epsilon_get(), 0); /* wraps, as upstream's arithmetic */
	d_hlc_epsilon_set(NSEC * HLC_NSEC);
	assert_int_equal(d_hlc_epsilon_get(), 16000221184ULL);
	assert_int_equal(d_hlc_epsilon_get_bound(0), 16000221184ULL | HLC_MASK);
	assert_int_equal(d_hlc_epsilon_get_bound(0x40000), (0x40000 + 16000221184ULL) | HLC_MASK);
}

static void
test_hlc_conversions(void **state)
{
	struct timespec ts;
	uint64_t        h = 0;

	(void)state;
	assert_int_equal(d_hlc2nsec(0), 0);
	assert_int_equal(d_hlc2nsec(15), 0);
	assert_int_equal(d_hlc2nsec(16), 1);
	assert_int_equal(d_nsec2hlc(1), 16);
	assert_int_equal(d_nsec2hlc(UINT64_MAX), UINT64_MAX - 15);
	assert_int_equal(d_hlc2usec(16000), 1);
	assert_int_equal(d_hlc2msec(16000000), 1);
	assert_int_equal(d_hlc2sec(16 * NSEC), 1);
	assert_int_equal(d_usec2hlc(1), 16000);
	assert_int_equal(d_msec2hlc(1), 16000000);
	assert_int_equal(d_sec2hlc(1), 16 * NSEC);

	assert_int_equal(d_hlc2unixnsec(0), HLC_START_SEC * NSEC);
	assert_int_equal(d_hlc2unixnsec(123456789012345ULL), 1609466916049313271ULL);
	assert_int_equal(d_unixnsec2hlc(HLC_START_SEC * NSEC), 0);
	assert_int_equal(d_unixnsec2hlc(HLC_START_SEC * NSEC + 1), 16);
	assert_int_equal(d_unixnsec2hlc(HLC_START_SEC * NSEC - 1), 0); /* before 2021 */
	assert_int_equal(d_unixnsec2hlc(UINT64_MAX), 0);               /* beyond the range */
	assert_int_equal(d_unixnsec2hlc(HLC_START_SEC * NSEC + UINT64_MAX / 16),
			 UINT64_MAX / 16 * 16);

	assert_int_equal(d_hlc2timespec(123456789012345ULL, &ts), 0);
	assert_int_equal(ts.tv_sec, 1609466916);
	assert_int_equal(ts.tv_nsec, 49313271);
	assert_int_equal(d_timespec2hlc(ts, &h), 0);
	assert_int_equal(h, 123456789012336ULL); /* below 1 ns is lost */
	assert_int_equal(d_hlc2timespec(0, NULL), -DER_INVAL);
	assert_int_equal(d_timespec2hlc(ts, NULL), -DER_INVAL);

	ts.tv_sec  = 1000; /* before the epoch: C's unsigned wrap-around */
	ts.tv_nsec = 5;
	assert_int_equal(d_timespec2hlc(ts, &h), 0);
	assert_int_equal(h, 11142156947419103312ULL);
}

static void
test_hlc_age(void **state)
{
	/* The wall clock, not d_hlc_get(): earlier tests moved the HLC ahead of it. */
	uint64_t now = d_unixnsec2hlc(unix_now_ns()) & ~HLC_MASK;

	(void)state;
	assert_int_equal(d_hlc_age2sec(now - 5 * NSEC * HLC_NSEC), 5);
	assert_int_equal(d_hlc_age2sec(now + (1ULL << 40)), 0);
	/* Everything since 2021, to the second. */
	assert_true(d_hlc_age2sec(0) + 1 >= unix_now_ns() / NSEC - HLC_START_SEC - 1);
	assert_true(d_hlc_age2sec(0) <= unix_now_ns() / NSEC - HLC_START_SEC);
}

static void *
hlct_thread(void *arg)
{
	uint64_t base = (uintptr_t)arg;

	for (uint64_t i = 0; i < 5000; i++)
		d_hlct_sync(base + i);
	return NULL;
}

static void
test_hlct(void **state)
{
	pthread_t t[4];
	uint64_t  cur;

	(void)state;
	assert_int_equal(d_hlct_get(), 0);
	d_hlct_sync(100);
	assert_int_equal(d_hlct_get(), 100);
	d_hlct_sync(50);
	assert_int_equal(d_hlct_get(), 100);
	cur = d_hlc_get();
	d_hlct_sync(cur);
	assert_int_equal(d_hlct_get(), cur);
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hlct_thread, (void *)(uintptr_t)(cur + i * 1000)), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(d_hlct_get(), cur + 3000 + 4999);
}

/* Runs `how` in a child with stderr in a pipe; returns the wait status and the text. */
static int
in_child(void (*how)(void), char *text, size_t size)
{
	int     fds[2];
	int     status;
	ssize_t n;
	size_t  got = 0;
	pid_t   pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka catches fatal signals; the child starts from the defaults instead. */
		static const int fatal[] = {SIGILL, SIGFPE, SIGBUS, SIGSEGV, SIGABRT, SIGTRAP};

		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		dup2(fds[1], 2);
		close(fds[0]);
		how();
		_exit(42);
	}
	close(fds[1]);
	while (got + 1 < size && (n = read(fds[0], text + got, size - 1 - got)) > 0)
		got += n;
	text[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
segv_with_handlers(void)
{
	d_signal_stack_enable(true);
	d_signal_register();
	d_signal_register(); /* once is enough; twice is harmless */
	raise(SIGSEGV);
}

static void
abort_with_handlers_disabled_by_env(void)
{
	struct sigaction sa;

	setenv("DAOS_SIGNAL_REGISTER", "0", 1);
	d_signal_stack_enable(true);
	d_signal_register();
	sigaction(SIGABRT, NULL, &sa);
	if (sa.sa_handler != SIG_DFL)
		_exit(7);
	signal(SIGABRT, SIG_DFL);
	raise(SIGABRT);
}

static void
fpe_with_handlers_enabled_by_env(void)
{
	struct sigaction sa;

	setenv("DAOS_SIGNAL_REGISTER", "1", 1);
	d_signal_register(); /* not enabled by the program, but by the environment */
	sigaction(SIGFPE, NULL, &sa);
	if (!(sa.sa_flags & SA_SIGINFO))
		_exit(8);
	raise(SIGFPE);
}

static void
nothing_registered_by_default(void)
{
	struct sigaction sa;

	unsetenv("DAOS_SIGNAL_REGISTER");
	d_signal_register();
	for (int s = 1; s < 32; s++) {
		sigaction(s, NULL, &sa);
		if (sa.sa_flags & SA_SIGINFO)
			_exit(9);
	}
	_exit(0);
}

static void
test_signals(void **state)
{
	char text[16384];
	int  status;

	(void)state;
	status = in_child(segv_with_handlers, text, sizeof(text));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV); /* the old (default) handler ran after ours */
	assert_non_null(strstr(text, "received signal 11 (Segmentation fault) ***"));
	assert_non_null(strstr(text, "*** Process "));
	assert_non_null(strstr(text, "Associated errno: Success (0)"));
	assert_non_null(strstr(text, "Failing for address: "));
	assert_non_null(strstr(text, "Frame "));

	status = in_child(abort_with_handlers_disabled_by_env, text, sizeof(text));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_null(strstr(text, "received signal"));

	status = in_child(fpe_with_handlers_enabled_by_env, text, sizeof(text));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGFPE);
	assert_non_null(strstr(text, "received signal 8 (Floating point exception) ***"));
	assert_non_null(strstr(text, "Failing at address: "));

	status = in_child(nothing_registered_by_default, text, sizeof(text));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hlc_get),
	    cmocka_unit_test(test_hlc_unique_across_threads),
	    cmocka_unit_test(test_hlc_get_msg),
	    cmocka_unit_test(test_hlc_epsilon),
	    cmocka_unit_test(test_hlc_conversions),
	    cmocka_unit_test(test_hlc_age),
	    cmocka_unit_test(test_hlct),
	    cmocka_unit_test(test_signals),
	};

	return cmocka_run_group_tests_name("gurt_hlc", tests, NULL, NULL);
}
