/* Every public gurt header, for bindgen: the Rust types and declarations that cross the ABI
 * are generated from these, with a compile-time check of every size, alignment and offset. */
#include <daos_errno.h>
#include <gurt/common.h>
