/*
 * Intrusive doubly linked circular list (the kernel's list_head idea).
 * Embed a struct cairn_list in your object; recover it with cairn_container_of.
 */
#ifndef CAIRN_COMMON_LIST_H
#define CAIRN_COMMON_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define cairn_container_of(ptr, type, member)                                              \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct cairn_list {
	struct cairn_list *next;
	struct cairn_list *prev;
};

#define CAIRN_LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void
cairn_list_init(struct cairn_list *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool
cairn_list_empty(const struct cairn_list *h)
{
	return h->next == h;
}

static inline void
cairn_list_insert_(struct cairn_list *n, struct cairn_list *prev, struct cairn_list *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Add at the front. */
static inline void
cairn_list_add(struct cairn_list *n, struct cairn_list *h)
{
	cairn_list_insert_(n, h, h->next);
}

/* Add at the back. */
static inline void
cairn_list_add_tail(struct cairn_list *n, struct cairn_list *h)
{
	cairn_list_insert_(n, h->prev, h);
}

/* Unlink; the node is re-initialised so a second del or an empty() check is safe. */
static inline void
cairn_list_del(struct cairn_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	cairn_list_init(n);
}

static inline struct cairn_list *
cairn_list_pop(struct cairn_list *h)
{
	struct cairn_list *n;

	if (cairn_list_empty(h))
		return NULL;
	n = h->next;
	cairn_list_del(n);
	return n;
}

/* Move every entry of `from` to the tail of `to`; `from` becomes empty. */
static inline void
cairn_list_splice_tail(struct cairn_list *from, struct cairn_list *to)
{
	if (cairn_list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	cairn_list_init(from);
}

#define cairn_list_entry(ptr, type, member) cairn_container_of(ptr, type, member)
#define cairn_list_first(h, type, member)                                                  \
	(cairn_list_empty(h) ? NULL : cairn_list_entry((h)->next, type, member))

#define cairn_list_for_each(pos, h) for ((pos) = (h)->next; (pos) != (h); (pos) = (pos)->next)

/* Safe against removal of `pos`. */
#define cairn_list_for_each_safe(pos, tmp, h)                                              \
	for ((pos) = (h)->next, (tmp) = (pos)->next; (pos) != (h);                         \
	     (pos) = (tmp), (tmp) = (pos)->next)

#define cairn_list_for_each_entry(pos, h, member)                                          \
	for ((pos) = cairn_list_entry((h)->next, __typeof__(*(pos)), member);              \
	     &(pos)->member != (h);                                                        \
	     (pos) = cairn_list_entry((pos)->member.next, __typeof__(*(pos)), member))

#define cairn_list_for_each_entry_safe(pos, tmp, h, member)                                \
	for ((pos) = cairn_list_entry((h)->next, __typeof__(*(pos)), member),              \
	    (tmp) = cairn_list_entry((pos)->member.next, __typeof__(*(pos)), member);      \
	     &(pos)->member != (h);                                                        \
	     (pos) = (tmp), (tmp) = cairn_list_entry((tmp)->member.next, __typeof__(*(tmp)), member))

#endif /* CAIRN_COMMON_LIST_H */
