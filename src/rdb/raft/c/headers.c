/* The C compiler's view of the raft headers, built into the crate: each header must compile on
 * its own (raft_log.h and raft_private.h pull in what they use), and the handle types C code
 * relies on keep their shape. bindgen's layout tests cover the Rust side. */
#include <raft_private.h>
#include <raft_log.h>
#include <raft.h>
#include <stddef.h>

_Static_assert(sizeof(raft_server_t) == sizeof(void *), "raft_server_t is a pointer type");
_Static_assert(sizeof(raft_node_t) == sizeof(void *), "raft_node_t is a pointer type");
_Static_assert(sizeof(log_t) == sizeof(void *), "log_t is a pointer type");
_Static_assert(sizeof(raft_entry_t) == 32, "raft_entry_t");
_Static_assert(offsetof(raft_server_private_t, cb) == 104, "raft_server_private_t.cb");
_Static_assert(sizeof(raft_server_private_t) == 288, "raft_server_private_t");
