/*
 * oxidaos: how gurt's own code (Rust and C) logs: always through d_vlog's dynamic symbol.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * This file deliberately does not define d_vlog: the call below is an undefined reference in
 * this object, so a static link with -Wl,--wrap=d_vlog redirects it, and in libgurt.so it goes
 * through the PLT, so an interposed d_vlog sees it too.
 */
#include <gurt/dlog.h>

/* Logs an already formatted message (flags from d_log_check) as d_log(flags, "%s", msg). */
void
oxidaos_gurt_log_str(int flags, const char *msg)
{
	d_log(flags, "%s", msg);
}
