/* oxidaos: the C edge of the control protocol: the message of CRT_OPC_CTL_LOG_ADD_MSG goes to
 * the log at DLOG_EMIT (so any mask shows it), cut at 256 bytes, as upstream writes it. It is
 * logged in cart's "rpc" facility when libcart defines one (crt_rpc_logfac), else in the
 * default facility. The gurt symbols are weak so the Rust unit tests, which do not link
 * libgurt, still link; there this logs nothing. */
#include <gurt/dlog.h>

#pragma weak crt_rpc_logfac
#pragma weak d_log_xst
#pragma weak d_vlog

extern int crt_rpc_logfac;

void oxidaos_ctl_emit(const char *msg);

void
oxidaos_ctl_emit(const char *msg)
{
	int fac = 0;
	int flags;

	if (&d_vlog == NULL || &d_log_xst == NULL || msg == NULL)
		return;
	if (&crt_rpc_logfac != NULL && crt_rpc_logfac > 0)
		fac = crt_rpc_logfac;
	flags = d_log_check(DLOG_EMIT | fac);
	if (flags != 0)
		d_log(flags, "%.*s\n", 256, msg);
}
