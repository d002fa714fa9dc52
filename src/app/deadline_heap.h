/*
 * A binary min-heap of deadlines, soonest first: the admission loop's
 * clients, so that the next wake-up is the top and setting or removing one
 * client's deadline costs O(log n), never a scan. Entries live inside the
 * caller's structs and know their index in the heap, so one whose deadline
 * changes is found without a search.
 *
 * The invariant: for every index i > 0, at[(i - 1) / 2]->when_ms <=
 * at[i]->when_ms, and at[i]->pos == i; an entry outside the heap has pos
 * DEADLINE_NOT_IN_HEAP.
 */
#ifndef SECSOCK_APP_DEADLINE_HEAP_H
#define SECSOCK_APP_DEADLINE_HEAP_H

#include <stddef.h>

#define DEADLINE_NOT_IN_HEAP ((size_t)-1)

struct deadline_entry {
    double when_ms;
    size_t pos; /* index in the heap, or DEADLINE_NOT_IN_HEAP */
};

struct deadline_heap {
    struct deadline_entry **at; /* at[0] is the soonest */
    size_t n, cap;
};

/* Room for cap entries: 0, or -1 when out of memory. */
int deadline_heap_init(struct deadline_heap *h, size_t cap);
void deadline_heap_free(struct deadline_heap *h);

/* An entry in no heap yet. */
void deadline_entry_init(struct deadline_entry *e);
int deadline_entry_queued(const struct deadline_entry *e);

/* Puts e in the heap due at when_ms, or moves it there if it is in already:
 * 0, or -1 when the heap is full (e is then left as it was). */
int deadline_heap_set(struct deadline_heap *h, struct deadline_entry *e, double when_ms);
/* Takes e out of the heap; nothing if it is in none. */
void deadline_heap_remove(struct deadline_heap *h, struct deadline_entry *e);
/* The soonest entry, or NULL when the heap is empty. */
struct deadline_entry *deadline_heap_top(const struct deadline_heap *h);

#endif
