/* Every raft header, for the layout assertions (gen_layout_check.py). */
#include <raft_types.h>
#include <raft.h>
#include <raft_log.h>
#include <raft_private.h>
