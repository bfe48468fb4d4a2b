/*
 * The RPC header's hybrid logical clock, through libgurt's C ABI (as upstream CaRT uses
 * d_hlc_get / d_hlct_get to stamp headers and d_hlc_get_msg / d_hlct_sync on receipt).
 * The gurt symbols are weak so that the Rust unit tests, which do not link libgurt, still
 * link: there every stamp is 0 and every timestamp is accepted.
 */
#include <stdint.h>
#include <stddef.h>

#define D_LOGFAC DD_FAC(misc)
#include <gurt/common.h>
#include <gurt/debug.h>

#pragma weak d_hlc_get
#pragma weak d_hlct_get
#pragma weak d_hlc_get_msg
#pragma weak d_hlct_sync
#pragma weak d_misc_logfac
#pragma weak d_misc_logfac_cache
#pragma weak d_log_xst
#pragma weak d_vlog

uint64_t oxidaos_hlc_stamp(int service);
int      oxidaos_hlc_recv(int service, uint64_t msg, uint64_t *offset);
void     oxidaos_hlc_sync_err_log(const char *msg);

/* What a header carries: a server's HLC; a client only forwards the HLCT it learnt from
 * servers (zero or a server timestamp), so client clocks never move server HLCs. */
uint64_t
oxidaos_hlc_stamp(int service)
{
	if (service)
		return d_hlc_get != NULL ? d_hlc_get() : 0;
	return d_hlct_get != NULL ? d_hlct_get() : 0;
}

/* A received header's timestamp: servers merge it into their HLC (-DER_HLC_SYNC when it is
 * further ahead of the local clock than the epsilon allows; *offset says by how much);
 * clients only track it (HLCT). */
int
oxidaos_hlc_recv(int service, uint64_t msg, uint64_t *offset)
{
	*offset = 0;
	if (!service) {
		if (d_hlct_sync != NULL)
			d_hlct_sync(msg);
		return 0;
	}
	if (d_hlc_get_msg == NULL)
		return 0;
	return d_hlc_get_msg(msg, NULL, offset);
}

/* The critical message of an HLC synchronisation failure. */
void
oxidaos_hlc_sync_err_log(const char *msg)
{
	if (&d_misc_logfac_cache == NULL || &d_vlog == NULL || &d_log_xst == NULL)
		return;
	D_CRIT("%s\n", msg);
}
