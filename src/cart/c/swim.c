/*
 * oxidaos: SWIM's process-wide tunables (period, suspicion and ping timeouts, in ms).
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * libcart exports these as upstream does, but upstream declares them only in its internal
 * swim_internal.h, not in a public header; so they are declared here, and the values live in
 * the Rust core (src/cart/swim), reached through oxidaos_swim_tunable_get/set (not exported).
 */
#include <stdint.h>

uint64_t oxidaos_swim_tunable_get(int which);
void     oxidaos_swim_tunable_set(int which, uint64_t val);

void     swim_period_set(uint64_t val);
uint64_t swim_period_get(void);
void     swim_suspect_timeout_set(uint64_t val);
uint64_t swim_suspect_timeout_get(void);
void     swim_ping_timeout_set(uint64_t val);
uint64_t swim_ping_timeout_get(void);

enum { TUNABLE_PERIOD = 0, TUNABLE_SUSPECT = 1, TUNABLE_PING = 2 };

void
swim_period_set(uint64_t val)
{
	oxidaos_swim_tunable_set(TUNABLE_PERIOD, val);
}

uint64_t
swim_period_get(void)
{
	return oxidaos_swim_tunable_get(TUNABLE_PERIOD);
}

void
swim_suspect_timeout_set(uint64_t val)
{
	oxidaos_swim_tunable_set(TUNABLE_SUSPECT, val);
}

uint64_t
swim_suspect_timeout_get(void)
{
	return oxidaos_swim_tunable_get(TUNABLE_SUSPECT);
}

void
swim_ping_timeout_set(uint64_t val)
{
	oxidaos_swim_tunable_set(TUNABLE_PING, val);
}

uint64_t
swim_ping_timeout_get(void)
{
	return oxidaos_swim_tunable_get(TUNABLE_PING);
}

/*
 * SWIM's messages in gurt's "swim" log facility, as upstream logs them (DLOG_ERR for DEAD,
 * refutations and glitches, DLOG_INFO for ALIVE and SUSPECT). The gurt symbols are weak so
 * that the Rust unit tests, which do not link libgurt, still link; there this logs nothing.
 */
#define D_LOGFAC DD_FAC(swim)
#include <gurt/debug.h>

#pragma weak d_swim_logfac
#pragma weak d_swim_logfac_cache
#pragma weak d_log_xst
#pragma weak d_vlog

void oxidaos_swim_log(int err, const char *msg);

void
oxidaos_swim_log(int err, const char *msg)
{
	if (&d_swim_logfac_cache == NULL || &d_vlog == NULL || &d_log_xst == NULL)
		return;
	if (err)
		D_DEBUG(DLOG_ERR, "%s\n", msg);
	else
		D_DEBUG(DLOG_INFO, "%s\n", msg);
}

/*
 * d_hlc_get() of libgurt, for SWIM's incarnations (as upstream's crt_swim.c takes them); weak
 * like the log symbols above, so 0 without libgurt (the Rust unit tests): the caller then
 * keeps to its own clock.
 */
#include <gurt/common.h>
#pragma weak d_hlc_get

uint64_t oxidaos_hlc_get(void);

uint64_t
oxidaos_hlc_get(void)
{
	if (&d_hlc_get == NULL)
		return 0;
	return d_hlc_get();
}
