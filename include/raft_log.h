/*
 * oxidaos raft: the entry log a raft server keeps (a ring of raft_entry_t between a compacted
 * base and the newest entry). Exposed for raft's own tests and for callers that inspect it.
 */
#ifndef RAFT_LOG_H_
#define RAFT_LOG_H_

#include "raft_types.h"
#include "raft.h"

typedef void *log_t;

/* A log with room for ten entries; NULL when out of memory. */
log_t *log_new(void);

/* A log with room for initial_size entries before it first grows. */
log_t *log_alloc(raft_index_t initial_size);

/* Callbacks (log_offer, log_poll, log_pop, log_get_node_id) and the server they report for. */
void log_set_callbacks(log_t *me_, raft_cbs_t *funcs, void *raft);

void log_free(log_t *me_);

/* Forget every entry and the snapshot base (no callbacks). */
void log_clear(log_t *me_);

/* Append *n entries, offering each batch through log_offer; *n becomes the number kept. */
int log_append(log_t *me_, raft_entry_t *entries, int *n);

/* Entries held (not counting compacted ones). */
raft_index_t log_count(log_t *me_);

/* Drop idx and every newer entry, newest first, through log_pop. */
int log_delete(log_t *me_, raft_index_t idx);

/* Forget every entry, keeping the base. */
void log_empty(log_t *me_);

/* Compact every entry up to and including idx, oldest first, through log_poll. */
int log_poll(log_t *me_, raft_index_t idx);

/* The entries from idx on that lie contiguously in memory; *n_etys tells how many. */
raft_entry_t *log_get_from_idx(log_t *me_, raft_index_t idx, int *n_etys);

raft_entry_t *log_get_at_idx(log_t *me_, raft_index_t idx);

/* The newest entry, NULL when empty. */
raft_entry_t *log_peektail(log_t *me_);

/* Index of the newest entry (the base when empty). */
raft_index_t log_get_current_idx(log_t *me_);

/* Empty the log and make (idx, term) its base, as after loading a snapshot. */
void log_load_from_snapshot(log_t *me_, raft_index_t idx, raft_term_t term);

raft_index_t log_get_base(log_t *me_);

raft_term_t log_get_base_term(log_t *me_);

/* Capacity of the ring, in entries. */
raft_index_t log_size(log_t *me_);

#endif /* RAFT_LOG_H_ */
