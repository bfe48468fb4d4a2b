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
