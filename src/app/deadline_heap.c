#include "deadline_heap.h"

#include <stdlib.h>

int deadline_heap_init(struct deadline_heap *h, size_t cap)
{
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized so */
    h->at = calloc(cap > 0 ? cap : 1, sizeof *h->at);
    h->n = 0;
    h->cap = h->at != NULL ? cap : 0;
    return h->at != NULL ? 0 : -1;
}

void deadline_heap_free(struct deadline_heap *h)
{
    free(h->at);
    h->at = NULL;
    h->n = h->cap = 0;
}

void deadline_entry_init(struct deadline_entry *e)
{
    e->when_ms = 0;
    e->pos = DEADLINE_NOT_IN_HEAP;
}

int deadline_entry_queued(const struct deadline_entry *e)
{
    return e->pos != DEADLINE_NOT_IN_HEAP;
}

static void place(struct deadline_heap *h, size_t i, struct deadline_entry *e)
{
    h->at[i] = e;
    e->pos = i;
}

/* Moves the entry at i towards the top while it is sooner than its parent. */
static void sift_up(struct deadline_heap *h, size_t i)
{
    struct deadline_entry *e = h->at[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->at[parent]->when_ms <= e->when_ms)
            break;
        place(h, i, h->at[parent]);
        i = parent;
    }
    place(h, i, e);
}

/* Moves the entry at i down while a child is sooner. */
static void sift_down(struct deadline_heap *h, size_t i)
{
    struct deadline_entry *e = h->at[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->at[child + 1]->when_ms < h->at[child]->when_ms)
            child++;
        if (e->when_ms <= h->at[child]->when_ms)
            break;
        place(h, i, h->at[child]);
        i = child;
    }
    place(h, i, e);
}

int deadline_heap_set(struct deadline_heap *h, struct deadline_entry *e, double when_ms)
{
    if (e->pos == DEADLINE_NOT_IN_HEAP) {
        if (h->n >= h->cap)
            return -1;
        place(h, h->n++, e);
    }
    e->when_ms = when_ms;
    /* Sooner or later than before: one of the two moves it, the other
     * finds it in place. */
    sift_up(h, e->pos);
    sift_down(h, e->pos);
    return 0;
}

void deadline_heap_remove(struct deadline_heap *h, struct deadline_entry *e)
{
    size_t i = e->pos;
    if (i == DEADLINE_NOT_IN_HEAP)
        return;
    e->pos = DEADLINE_NOT_IN_HEAP;
    struct deadline_entry *last = h->at[--h->n];
    if (last != e) {
        /* The last entry fills the hole and may belong above or below it. */
        place(h, i, last);
        sift_up(h, i);
        sift_down(h, last->pos);
    }
}

struct deadline_entry *deadline_heap_top(const struct deadline_heap *h)
{
    return h->n > 0 ? h->at[0] : NULL;
}
