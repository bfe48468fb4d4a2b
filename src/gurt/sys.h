/* Every public gurt header, for bindgen: the Rust types and declarations that cross the ABI
 * are generated from these, with a compile-time check of every size, alignment and offset.
 * A header is listed here once it exists under include/. */
#include <daos_errno.h>
#include <gurt/common.h>
#include <gurt/atomic.h>
#include <gurt/types.h>
#include <gurt/list.h>
#include <gurt/dlog.h>
#include <gurt/debug_setup.h>
#include <gurt/debug.h>
#include <gurt/fault_inject.h>
#if __has_include(<gurt/list.h>)
#include <gurt/list.h>
#endif
#if __has_include(<gurt/hash.h>)
#include <gurt/hash.h>
#endif
#if __has_include(<gurt/heap.h>)
#include <gurt/heap.h>
#endif
#if __has_include(<gurt/slab.h>)
#include <gurt/slab.h>
#endif
#if __has_include(<gurt/telemetry_producer.h>)
#include <gurt/telemetry_producer.h>
#endif
#if __has_include(<gurt/telemetry_consumer.h>)
#include <gurt/telemetry_consumer.h>
#endif
