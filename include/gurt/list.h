/*
 * oxidaos: gurt intrusive lists, as in DAOS's gurt/list.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * Doubly linked circular lists (d_list_t) and hash-chain lists (d_hlist_*) embedded in the
 * caller's structures. Everything here is header-only and compiled into the caller, so the
 * exact pointer updates are ABI: gurt's hash tables and slabs link the same nodes from Rust.
 *
 * Note the semantics callers rely on:
 *  - d_list_del() unlinks but leaves the entry's own pointers as they were (no poisoning, no
 *    re-initialisation); d_list_del_init() makes the entry an empty list again.
 *  - d_list_empty(h) is h->next == h.
 */
#ifndef __GURT_LIST_H__
#define __GURT_LIST_H__

#include <stddef.h>

#ifdef __GNUC__
#define prefetch(a) __builtin_prefetch((a), 0, 1)
#else
#define prefetch(a) ((void)(a))
#endif

/* A list node; a list head is a node whose neighbours are the first and last entries. */
struct d_list_head {
	struct d_list_head *next;
	struct d_list_head *prev;
};

typedef struct d_list_head d_list_t;

#define D_LIST_HEAD_INIT(name) { &(name), &(name) }
#define D_LIST_HEAD(name)      d_list_t name = D_LIST_HEAD_INIT(name)
#define D_INIT_LIST_HEAD(ptr)                                                                      \
	do {                                                                                       \
		(ptr)->next = (ptr);                                                               \
		(ptr)->prev = (ptr);                                                               \
	} while (0)

#if defined(__cplusplus)
extern "C" {
#endif

/* Links newe between two adjacent nodes. */
static inline void
__gurt_list_add(d_list_t *newe, d_list_t *prev, d_list_t *next)
{
	next->prev = newe;
	newe->next = next;
	newe->prev = prev;
	prev->next = newe;
}

/* Inserts newe right after head (stack order). */
static inline void
d_list_add(d_list_t *newe, d_list_t *head)
{
	__gurt_list_add(newe, head, head->next);
}

/* Inserts newe right before head, i.e. at the tail (queue order). */
static inline void
d_list_add_tail(d_list_t *newe, d_list_t *head)
{
	__gurt_list_add(newe, head->prev, head);
}

/* Makes prev and next neighbours, dropping whatever was between them. */
static inline void
__gurt_list_del(d_list_t *prev, d_list_t *next)
{
	next->prev = prev;
	prev->next = next;
}

/* Unlinks entry; entry's own pointers are left untouched. */
static inline void
d_list_del(d_list_t *entry)
{
	__gurt_list_del(entry->prev, entry->next);
}

/* Unlinks entry and leaves it an empty list. */
static inline void
d_list_del_init(d_list_t *entry)
{
	__gurt_list_del(entry->prev, entry->next);
	D_INIT_LIST_HEAD(entry);
}

/* Moves list from its list to just after head. */
static inline void
d_list_move(d_list_t *list, d_list_t *head)
{
	__gurt_list_del(list->prev, list->next);
	d_list_add(list, head);
}

/* Moves list from its list to the tail of head. */
static inline void
d_list_move_tail(d_list_t *list, d_list_t *head)
{
	__gurt_list_del(list->prev, list->next);
	d_list_add_tail(list, head);
}

/* Nonzero when head has no entries. */
static inline int
d_list_empty(d_list_t *head)
{
	return head->next == head;
}

/* Like d_list_empty, but also checks prev: catches a list being modified by another CPU
 * half-way (it is no substitute for locking). */
static inline int
d_list_empty_careful(const d_list_t *head)
{
	d_list_t *next = head->next;

	return next == head && next == head->prev;
}

/* Inserts the entries of a non-empty list after head; list itself is left stale. */
static inline void
__gurt_list_splice(d_list_t *list, d_list_t *head)
{
	d_list_t *first = list->next;
	d_list_t *last  = list->prev;
	d_list_t *after = head->next;

	first->prev = head;
	head->next  = first;
	last->next  = after;
	after->prev = last;
}

/* Joins list's entries after head; list's head is left stale. */
static inline void
d_list_splice(d_list_t *list, d_list_t *head)
{
	if (!d_list_empty(list))
		__gurt_list_splice(list, head);
}

/* Joins list's entries after head and leaves list empty. */
static inline void
d_list_splice_init(d_list_t *list, d_list_t *head)
{
	if (!d_list_empty(list)) {
		__gurt_list_splice(list, head);
		D_INIT_LIST_HEAD(list);
	}
}

/* The structure of type `type` whose field `member` is the node at ptr. */
#define d_list_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Removes (and re-initialises) the first entry of list and yields it, or NULL if empty. */
#define d_list_pop_entry(list, type, member)                                                       \
	({                                                                                         \
		type *__r = NULL;                                                                  \
		if (!d_list_empty(list)) {                                                         \
			__r = d_list_entry((list)->next, type, member);                            \
			d_list_del_init((list)->next);                                             \
		}                                                                                  \
		__r;                                                                               \
	})

/* Iterate over the nodes of head (pos: d_list_t *). */
#define d_list_for_each(pos, head)                                                                 \
	for (pos = (head)->next, prefetch(pos->next); pos != (head);                               \
	     pos = pos->next, prefetch(pos->next))

/* Same, tolerating removal of pos (n: scratch d_list_t *). */
#define d_list_for_each_safe(pos, n, head)                                                         \
	for (pos = (head)->next, n = pos->next; pos != (head); pos = n, n = pos->next)

/* Continue an entry iteration after pos. */
#define d_list_for_each_entry_continue(pos, head, member)                                          \
	for (pos = d_list_entry(pos->member.next, __typeof__(*pos), member);                       \
	     prefetch(pos->member.next), &pos->member != (head);                                   \
	     pos = d_list_entry(pos->member.next, __typeof__(*pos), member))

/* Hash-chain lists: a head is one pointer; pprev points at whatever points at the node. */
typedef struct d_hlist_node {
	struct d_hlist_node  *next;
	struct d_hlist_node **pprev;
} d_hlist_node_t;

typedef struct d_hlist_head {
	d_hlist_node_t *first;
} d_hlist_head_t;

#ifdef NULL
#define NULL_P NULL
#else
#define NULL_P ((void *)0)
#endif

#define D_HLIST_HEAD_INIT      { NULL_P }
#define D_HLIST_HEAD(name)     d_hlist_head_t name = { NULL_P }
#define D_INIT_HLIST_HEAD(ptr) ((ptr)->first = NULL_P)
#define D_INIT_HLIST_NODE(ptr) ((ptr)->next = NULL_P, (ptr)->pprev = NULL_P)

/* Nonzero when the node is on no chain. */
static inline int
d_hlist_unhashed(const d_hlist_node_t *h)
{
	return !h->pprev;
}

/* Nonzero when the chain is empty. */
static inline int
d_hlist_empty(const d_hlist_head_t *h)
{
	return !h->first;
}

static inline void
__gurt_hlist_del(d_hlist_node_t *n)
{
	d_hlist_node_t  *next  = n->next;
	d_hlist_node_t **pprev = n->pprev;

	*pprev = next;
	if (next)
		next->pprev = pprev;
}

/* Unlinks n (which must be on a chain); n's own pointers are left untouched. */
static inline void
d_hlist_del(d_hlist_node_t *n)
{
	__gurt_hlist_del(n);
}

/* Unlinks n if it is on a chain and marks it unhashed. */
static inline void
d_hlist_del_init(d_hlist_node_t *n)
{
	if (n->pprev) {
		__gurt_hlist_del(n);
		D_INIT_HLIST_NODE(n);
	}
}

/* Pushes n at the front of chain h. */
static inline void
d_hlist_add_head(d_hlist_node_t *n, d_hlist_head_t *h)
{
	d_hlist_node_t *first = h->first;

	n->next = first;
	if (first)
		first->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}

/* Links n just before next (next must not be NULL). */
static inline void
d_hlist_add_before(d_hlist_node_t *n, d_hlist_node_t *next)
{
	n->pprev     = next->pprev;
	n->next      = next;
	next->pprev  = &n->next;
	*(n->pprev)  = n;
}

/* Links n just after prev (prev must not be NULL). */
static inline void
d_hlist_add_after(d_hlist_node_t *n, d_hlist_node_t *prev)
{
	n->pprev   = &prev->next;
	n->next    = prev->next;
	prev->next = n;
	if (n->next)
		n->next->pprev = &n->next;
}

#define d_hlist_entry(ptr, type, member) d_list_entry(ptr, type, member)

/* Iterate over the nodes of chain head (pos: d_hlist_node_t *). */
#define dhlist_for_each(pos, head)                                                                 \
	for (pos = (head)->first; pos && (prefetch(pos->next), 1); pos = pos->next)

#define dhlist_for_each_safe(pos, n, head)                                                         \
	for (pos = (head)->first; pos && (n = pos->next, 1); pos = n)

/* Iterate over the entries of a chain: tpos the entry, pos its node. */
#define dhlist_for_each_entry(tpos, pos, head, member)                                             \
	for (pos = (head)->first;                                                                  \
	     pos && ({ prefetch(pos->next); 1; }) &&                                               \
	     ({ tpos = d_hlist_entry(pos, __typeof__(*tpos), member); 1; });                       \
	     pos = pos->next)

/* Continue after pos. */
#define dhlist_for_each_entry_continue(tpos, pos, member)                                          \
	for (pos = (pos)->next;                                                                    \
	     pos && ({ prefetch(pos->next); 1; }) &&                                               \
	     ({ tpos = d_hlist_entry(pos, __typeof__(*tpos), member); 1; });                       \
	     pos = pos->next)

/* Continue from pos itself. */
#define dhlist_for_each_entry_from(tpos, pos, member)                                              \
	for (; pos && ({ prefetch(pos->next); 1; }) &&                                             \
	       ({ tpos = d_hlist_entry(pos, __typeof__(*tpos), member); 1; });                     \
	     pos = pos->next)

/* Entry iteration tolerating removal of the current entry (n: scratch node). */
#define dhlist_for_each_entry_safe(tpos, pos, n, head, member)                                     \
	for (pos = (head)->first;                                                                  \
	     pos && ({ n = pos->next; 1; }) &&                                                     \
	     ({ tpos = d_hlist_entry(pos, __typeof__(*tpos), member); 1; });                       \
	     pos = n)

#ifndef d_list_for_each_prev
/* Iterate over the nodes of head backwards. */
#define d_list_for_each_prev(pos, head)                                                            \
	for (pos = (head)->prev, prefetch(pos->prev); pos != (head);                               \
	     pos = pos->prev, prefetch(pos->prev))
#endif

#ifndef d_list_for_each_entry
/* Iterate over the entries of head (pos: pointer to the containing type). */
#define d_list_for_each_entry(pos, head, member)                                                   \
	for (pos = d_list_entry((head)->next, __typeof__(*pos), member),                           \
	    prefetch(pos->member.next);                                                            \
	     &pos->member != (head);                                                               \
	     pos = d_list_entry(pos->member.next, __typeof__(*pos), member),                       \
	    prefetch(pos->member.next))
#endif

#ifndef d_list_for_each_entry_rcu
/* Kept as upstream spells it (it names list_for_each_entry, which gurt never defines). */
#define d_list_for_each_entry_rcu(pos, head, member) list_for_each_entry(pos, head, member)
#endif

#ifndef d_list_for_each_entry_reverse
/* Iterate over the entries of head backwards. */
#define d_list_for_each_entry_reverse(pos, head, member)                                           \
	for (pos = d_list_entry((head)->prev, __typeof__(*pos), member);                           \
	     prefetch(pos->member.prev), &pos->member != (head);                                   \
	     pos = d_list_entry(pos->member.prev, __typeof__(*pos), member))
#endif

#ifndef d_list_for_each_entry_safe
/* Entry iteration tolerating removal of pos (n: scratch entry). */
#define d_list_for_each_entry_safe(pos, n, head, member)                                           \
	for (pos = d_list_entry((head)->next, __typeof__(*pos), member),                           \
	    n    = d_list_entry(pos->member.next, __typeof__(*pos), member);                       \
	     &pos->member != (head);                                                               \
	     pos = n, n = d_list_entry(n->member.next, __typeof__(*n), member))
#endif

#ifndef d_list_for_each_entry_reverse_safe
/* Backwards, tolerating removal of pos. */
#define d_list_for_each_entry_reverse_safe(pos, n, head, member)                                   \
	for (pos = d_list_entry((head)->prev, __typeof__(*pos), member),                           \
	    n    = d_list_entry(pos->member.prev, __typeof__(*pos), member);                       \
	     &pos->member != (head);                                                               \
	     pos = n, n = d_list_entry(pos->member.prev, __typeof__(*pos), member))
#endif

#ifndef d_list_for_each_entry_safe_from
/* From pos (inclusive) to the end, tolerating removal of pos. */
#define d_list_for_each_entry_safe_from(pos, n, head, member)                                      \
	for (n = d_list_entry(pos->member.next, __typeof__(*pos), member);                         \
	     &pos->member != (head);                                                               \
	     pos = n, n = d_list_entry(n->member.next, __typeof__(*n), member))
#endif

/* The *_typed forms name the entry type explicitly (for C++ and void-pointer callers). */
#define d_list_for_each_entry_typed(pos, head, type, member)                                       \
	for (pos = d_list_entry((head)->next, type, member), prefetch(pos->member.next);           \
	     &pos->member != (head);                                                               \
	     pos = d_list_entry(pos->member.next, type, member), prefetch(pos->member.next))

#define d_list_for_each_entry_reverse_typed(pos, head, type, member)                               \
	for (pos = d_list_entry((head)->prev, type, member);                                       \
	     prefetch(pos->member.prev), &pos->member != (head);                                   \
	     pos = d_list_entry(pos->member.prev, type, member))

#define d_list_for_each_entry_safe_typed(pos, n, head, type, member)                               \
	for (pos = d_list_entry((head)->next, type, member),                                       \
	    n    = d_list_entry(pos->member.next, type, member);                                   \
	     &pos->member != (head);                                                               \
	     pos = n, n = d_list_entry(n->member.next, type, member))

#define d_list_for_each_entry_safe_from_typed(pos, n, head, type, member)                          \
	for (n = d_list_entry(pos->member.next, type, member); &pos->member != (head);             \
	     pos = n, n = d_list_entry(n->member.next, type, member))

#define dhlist_for_each_entry_typed(tpos, pos, head, type, member)                                 \
	for (pos = (head)->first;                                                                  \
	     pos && (prefetch(pos->next), 1) && (tpos = d_hlist_entry(pos, type, member), 1);      \
	     pos = pos->next)

#define dhlist_for_each_entry_safe_typed(tpos, pos, n, head, type, member)                         \
	for (pos = (head)->first;                                                                  \
	     pos && (n = pos->next, 1) && (tpos = d_hlist_entry(pos, type, member), 1); pos = n)

#if defined(__cplusplus)
}
#endif

#endif /* __GURT_LIST_H__ */
