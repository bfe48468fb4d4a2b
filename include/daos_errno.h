/*
 * oxidaos: DAOS error numbers (DER_*), as in DAOS's daos_errno.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * The numbers, names and descriptions are DAOS's ABI: code that prints DP_RC or compares an error
 * against DER_* must see the same values with oxidaos's libgurt as with upstream's. Each range is
 * an X-macro list X(name, description): the enum below, and callers such as pydaos, expand it.
 * A description is stringified, so its tokens are the exact text d_errdesc() returns.
 */
#ifndef __DAOS_ERRNO_H__
#define __DAOS_ERRNO_H__

#if defined(__cplusplus)
extern "C" {
#endif

/* clang-format off */

/** gurt and CaRT errors: -1001 .. -1046 */
#define D_FOREACH_GURT_ERR(X) \
	X(DER_NO_PERM, Operation not permitted) \
	X(DER_NO_HDL, Invalid handle) \
	X(DER_INVAL, Invalid parameters) \
	X(DER_EXIST, Entity already exists) \
	X(DER_NONEXIST, The specified entity does not exist) \
	X(DER_UNREACH, Unreachable node) \
	X(DER_NOSPACE, No space on storage target) \
	X(DER_ALREADY, Operation already performed) \
	X(DER_NOMEM, Out of memory) \
	X(DER_NOSYS, Function not implemented) \
	X(DER_TIMEDOUT, Time out) \
	X(DER_BUSY, Device or resource busy) \
	X(DER_AGAIN, Try again) \
	X(DER_PROTO, Incompatible protocol) \
	X(DER_UNINIT, Device or resource not initialized) \
	X(DER_TRUNC, Buffer too short) \
	X(DER_OVERFLOW, Data too long for defined data type or buffer size) \
	X(DER_CANCELED, Operation canceled) \
	X(DER_OOG, Out of group or member list) \
	X(DER_HG, Transport layer mercury error) \
	X(DER_UNREG, RPC or protocol version not registered) \
	X(DER_ADDRSTR_GEN, Failed to generate an address string) \
	X(DER_PMIX, PMIx layer error) \
	X(DER_IVCB_FORWARD, Incast variable unavailable locally. Must forward) \
	X(DER_MISC, Miscellaneous error) \
	X(DER_BADPATH, Bad path name) \
	X(DER_NOTDIR, Not a directory) \
	X(DER_CORPC_INCOMPLETE, Collective RPC failed) \
	X(DER_NO_RAS_RANK, No rank is subscribed to RAS) \
	X(DER_NOTATTACH, Service group not attached) \
	X(DER_MISMATCH, Version mismatch) \
	X(DER_EXCLUDED, Rank has been excluded) \
	X(DER_NOREPLY, User provided RPC handler did not send reply back) \
	X(DER_DOS, Denial of service) \
	X(DER_BAD_TARGET, Incorrect target for the RPC) \
	X(DER_GRPVER, Group versioning mismatch) \
	X(DER_HLC_SYNC, HLC synchronization error) \
	X(DER_NO_SHMEM, Not enough shared memory free) \
	X(DER_ADD_METRIC_FAILED, Failed to add the specified metric) \
	X(DER_DURATION_MISMATCH, Duration end not paired with duration start) \
	X(DER_OP_NOT_PERMITTED, Operation not permitted for metric type provided) \
	X(DER_EXCEEDS_PATH_LEN, Path name exceeds permitted length) \
	X(DER_METRIC_NOT_FOUND, Read failed because metric not found) \
	X(DER_SHMEM_PERMS, Unable to access shared memory segment due to incompatible user or group permissions) \
	X(DER_HG_FATAL, Fatal transport layer mercury error) \
	X(DER_QUOTA_LIMIT, Quota limit reached)

/** DAOS errors: -2001 .. -2052 */
#define D_FOREACH_DAOS_ERR(X) \
	X(DER_IO, I / O error) \
	X(DER_FREE_MEM, Memory free error) \
	X(DER_ENOENT, Entity not found) \
	X(DER_NOTYPE, Unknown object type) \
	X(DER_NOSCHEMA, Unknown object schema) \
	X(DER_NOLOCAL, Object is not local) \
	X(DER_STALE, Stale pool map version) \
	X(DER_NOTLEADER, Not service leader) \
	X(DER_TGT_CREATE, Target create error) \
	X(DER_EP_RO, Epoch is read only) \
	X(DER_EP_OLD, Epoch is too old. All data have been recycled) \
	X(DER_KEY2BIG, Key is too large) \
	X(DER_REC2BIG, Record is too large) \
	X(DER_IO_INVAL, I / O buffers do not match object extents) \
	X(DER_EQ_BUSY, Event queue is busy) \
	X(DER_DOMAIN, Domain of cluster component do not match) \
	X(DER_SHUTDOWN, Service should shut down) \
	X(DER_INPROGRESS, Operation now in progress) \
	X(DER_NOTAPPLICABLE, Not applicable) \
	X(DER_NOTREPLICA, Not a service replica) \
	X(DER_CSUM, Checksum error) \
	X(DER_DF_INVAL, Unsupported durable format) \
	X(DER_DF_INCOMPT, Incompatible durable format version) \
	X(DER_REC_SIZE, Record size error) \
	X(DER_TX_RESTART, Transaction should restart) \
	X(DER_DATA_LOSS, Data lost or not recoverable) \
	X(DER_OP_CANCELED, Operation canceled) \
	X(DER_TX_BUSY, TX is not committed) \
	X(DER_AGENT_INCOMPAT, Agent is incompatible with libdaos) \
	X(DER_NEED_TX, To be handled via distributed transaction) \
	X(DER_RF, Failures exceed RF) \
	X(DER_FETCH_AGAIN, Fetch again) \
	X(DER_TX_UNCERTAIN, TX status is uncertain) \
	X(DER_AGENT_COMM, Agent communication error) \
	X(DER_ID_MISMATCH, ID mismatch) \
	X(DER_TGT_RETRY, Retry with other target) \
	X(DER_NOTSUPPORTED, Operation not supported) \
	X(DER_CONTROL_INCOMPAT, One or more control plane components are incompatible) \
	X(DER_NO_SERVICE, No service available) \
	X(DER_TX_ID_REUSED, TX ID may be reused) \
	X(DER_UPDATE_AGAIN, update again) \
	X(DER_NVME_IO, NVMe I / O error) \
	X(DER_NO_CERT, Unable to access one or more certificates) \
	X(DER_BAD_CERT, Invalid x509 certificate) \
	X(DER_VOS_PARTIAL_UPDATE, Same epoch partial overwrite of VOS array value disallowed) \
	X(DER_CHKPT_BUSY, Page is temporarily read only due to checkpointing) \
	X(DER_DIV_BY_ZERO, Division by zero) \
	X(DER_OVERLOAD_RETRY, retry later because of overloaded service) \
	X(DER_NOT_RESUME, Cannot resume former DAOS check instance) \
	X(DER_CONT_NONEXIST, The specified container does not exist) \
	X(DER_CONT_DESTROYING, The specified container is being destroyed) \
	X(DER_IGNORE, current item for iteration or something else should be ignored)

/* clang-format on */

/** The ranges: X(name, base). The first code of a range is base + 1. */
#define D_FOREACH_ERR_RANGE(X) \
	X(GURT, 1000) \
	X(DAOS, 2000)

/** Expanders of the lists above */
#define D_DEFINE_ERRNO(name, desc)   name,
#define D_DEFINE_ERRSTR(name, desc)  #name,
#define D_DEFINE_ERRDESC(name, desc) #desc,
#define D_DEFINE_RANGE_ERRNO(name, base) \
	DER_ERR_##name##_BASE = (base), D_FOREACH_##name##_ERR(D_DEFINE_ERRNO)

/** DAOS error numbers; functions return them negated (-DER_INVAL). */
enum daos_errno {
	DER_SUCCESS = 0,
	D_FOREACH_ERR_RANGE(D_DEFINE_RANGE_ERRNO)
	/** one past the last valid code */
	DER_LAST_VALID,
	/** what d_errstr() names an unknown code */
	DER_UNKNOWN = (DER_ERR_GURT_BASE + 500000),
};

/**
 * The name of an error code ("DER_INVAL" for -DER_INVAL), "DER_SUCCESS" for 0, and "DER_UNKNOWN"
 * for a positive or unregistered code. The string is static.
 */
const char *
d_errstr(int errnum);

/**
 * The description of an error code ("Invalid parameters" for -DER_INVAL), "Success" for 0,
 * "Unknown error" for -DER_UNKNOWN, and "Unknown error code N" for anything else (in a static
 * buffer, overwritten by the next such call).
 */
const char *
d_errdesc(int errnum);

#define DO_PRAGMA(str) _Pragma(#str)
#define DEPRECATE_ERROR(olde, newe) \
	({ \
		DO_PRAGMA(message(#olde " is deprecated, use " #newe)); \
		newe; \
	})
#define DER_EVICTED DEPRECATE_ERROR(DER_EVICTED, DER_EXCLUDED)

#ifndef DF_RC
/** printf format and arguments for an error code: DER_INVAL(-1003): 'Invalid parameters' */
#define DF_RC     "%s(%d): '%s'"
#define DP_RC(rc) d_errstr(rc), rc, d_errdesc(rc)
#endif

#if defined(__cplusplus)
}
#endif

#endif /* __DAOS_ERRNO_H__ */
