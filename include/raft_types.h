/*
 * oxidaos raft: the scalar types of the raft API (DAOS's raft library, daos-stack/raft).
 * Every one is a plain integer so that messages can be copied between nodes verbatim.
 */
#ifndef RAFT_DEFS_H_
#define RAFT_DEFS_H_

#include <stdint.h>

/* Identifier a client gives an entry; only used for tracing, collisions are harmless. */
typedef int raft_entry_id_t;

/* Election term; only ever grows. */
typedef long int raft_term_t;

/* Position in the replicated log (the first entry is 1); also used for entry counts. */
typedef long int raft_index_t;

/* Identifier of a member of the cluster (64 bits). */
typedef long int raft_node_id_t;

/* A point in time, in milliseconds, as the get_time callback reports it. */
typedef long int raft_time_t;

#endif /* RAFT_DEFS_H_ */
