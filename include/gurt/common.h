/*
 * oxidaos: gurt common definitions, as in DAOS's gurt/common.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Header-only parts are compiled into the caller: their behaviour is ABI as much as the
 * library's exports are.
 */
#ifndef __GURT_COMMON_H__
#define __GURT_COMMON_H__

#include <errno.h>
#include <daos_errno.h>

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * Map a system errno to the DER_* code DAOS uses for it: 0 stays 0, the permission, memory,
 * space, existence, cancellation and busy errors map to their DER_* twins, anything else is
 * -DER_MISC.
 */
static inline int
d_errno2der(int err)
{
	switch (err) {
	case 0:
		return 0;
	case EPERM:
	case EACCES:
		return -DER_NO_PERM;
	case ENOMEM:
		return -DER_NOMEM;
	case EDQUOT:
	case ENOSPC:
		return -DER_NOSPACE;
	case EEXIST:
		return -DER_EXIST;
	case ENOENT:
		return -DER_NONEXIST;
	case ECANCELED:
		return -DER_CANCELED;
	case EBUSY:
		return -DER_BUSY;
	default:
		return -DER_MISC;
	}
}

#if defined(__cplusplus)
}
#endif

#endif /* __GURT_COMMON_H__ */
