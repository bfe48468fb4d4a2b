/*
 * oxidaos: the va_list edge of gurt's log (upstream dlog.c's d_vlog).
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * d_vlog formats the caller's message with vsnprintf and hands the bytes to Rust
 * (gurt::dlog::emit), which builds upstream's line header, applies the masks' side effects and
 * writes the log file; the stdio output (stdout/stderr copies, stderr merged into the log file)
 * stays here, on C's own FILE streams, so it interleaves with the program's stdio exactly as
 * upstream's does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <gurt/dlog.h>

/* upstream's line buffer: a line (header, message, newline) is cut to 1023 bytes */
#define LINE_SIZE 1024

/* Rust side: see gurt::capi::dlog. */
int
oxidaos_gurt_vlog_emit(int flags, const char *msg, int msg_len, int full_len, char *line,
		       int line_size, int *pt1_len);

void
d_vlog(int flags, const char *fmt, va_list ap)
{
	static __thread char msg[LINE_SIZE];
	static __thread char line[LINE_SIZE];
	int                  saved_errno = errno;
	int                  full, len, out_flags, pt1 = 0;

	if (flags == 0)
		return;

	full = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (full < 0) {
		full   = 0;
		msg[0] = '\0';
	}
	len = full < LINE_SIZE ? full : LINE_SIZE - 1;

	out_flags = oxidaos_gurt_vlog_emit(flags, msg, len, full, line, LINE_SIZE, &pt1);
	if (out_flags != 0) {
		/* Copies to the terminal drop the first part of the header (priority, time, host,
		 * tag), as upstream does; EMIT lines are never copied. */
		const char *text = line;

		if (out_flags & 0x1)
			text = line + pt1;
		if (out_flags & DLOG_STDERR)
			fprintf(stderr, "%s", text);
		if (out_flags & DLOG_STDOUT) {
			printf("%s", text);
			fflush(stdout);
		}
	}
	errno = saved_errno;
}

/* Points stderr at path (mode "w" or "a") with line buffering: the merged-stderr log file
 * (D_LOG_STDERR_IN_LOG). Returns its descriptor, or -1 with errno set. */
int
oxidaos_gurt_stderr_reopen(const char *path, const char *mode, int line_buffered)
{
	if (freopen(path, mode, stderr) == NULL)
		return -1;
	if (line_buffered)
		setlinebuf(stderr);
	return fileno(stderr);
}

/* Upstream's diagnostics about the log itself go to stderr through stdio. */
void
oxidaos_gurt_stderr_puts(const char *text)
{
	fputs(text, stderr);
}

/* isatty of stdout's and stderr's descriptors, as C sees them. */
void
oxidaos_gurt_stdio_ttys(int *out_tty, int *err_tty)
{
	*out_tty = isatty(fileno(stdout));
	*err_tty = isatty(fileno(stderr));
}
