/* Every raft header, for bindgen: the Rust types and declarations that cross the ABI are
 * generated from these, with a compile-time check of every size, alignment and offset. */
#include <raft_types.h>
#include <raft.h>
#include <raft_log.h>
#include <raft_private.h>
