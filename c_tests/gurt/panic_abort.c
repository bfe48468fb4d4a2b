/* A panic inside oxidaos code must never unwind into C. The libraries are built with
 * panic=abort: a panicking call ends the process with SIGABRT, and no C frame above it is
 * unwound (its cleanup handler never runs). Checked in a child process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

int __oxidaos_panic_probe(int code);

static void
cleanup_ran(int *p)
{
	(void)p;
	/* reached only if Rust unwound through this C frame */
	_exit(42);
}

static void
child(int code)
{
	int guard __attribute__((cleanup(cleanup_ran))) = 0;
	int rc;

	(void)guard;
	rc = __oxidaos_panic_probe(code);
	_exit(rc == 0 ? 0 : 3);
}

static int
run_child(int code)
{
	int   status;
	pid_t pid = fork();

	if (pid == 0) {
		/* keep the expected abort's message out of the test's output */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(4);
		child(code);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_no_panic_returns(void **state)
{
	int status = run_child(0);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_panic_aborts(void **state)
{
	int status = run_child(7);

	(void)state;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_panic_returns),
	    cmocka_unit_test(test_panic_aborts),
	};

	return cmocka_run_group_tests_name("panic_abort", tests, NULL, NULL);
}
