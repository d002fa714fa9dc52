/*
 * The bounded pool of server threads. Threads are made on demand up to
 * max, reused for later items, and joined at the end. A submit when every
 * slot is taken is refused, not queued: the caller (the admission loops)
 * keeps the client until a slot frees, and is told when one does.
 */
#ifndef SECSOCK_APP_WORKERS_H
#define SECSOCK_APP_WORKERS_H

#include <pthread.h>
#include <stddef.h>

typedef void (*workers_handler)(void *ctx, void *item);

#define WORKERS_MAX_WAITERS 64 /* submitters that can wait for a slot at once */

struct workers {
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    pthread_cond_t slot_free;
    pthread_attr_t attr;
    workers_handler handler;
    void *ctx;
    void **queue; /* ring of max items */
    size_t qhead, qlen;
    pthread_t *threads;
    int nthreads;
    int max;
    int busy; /* items queued or being handled */
    int stopping;
    int waiters
        [WORKERS_MAX_WAITERS]; /* eventfds of refused submitters, told at the next free slot */
    int nwaiters;
};

/* stack_size 0: a size that fits a TLS handshake, not the 8 MiB default. */
int workers_init(struct workers *w, int max, size_t stack_size, workers_handler handler, void *ctx);
/* Waits up to timeout_ms for a free slot: 1 if one is free, 0 if not. */
int workers_wait_slot(struct workers *w, int timeout_ms);
/* Hands item to a thread if a slot is free: 0, 1 when every slot is
 * taken, or -1 if no thread could be made. On 1, wake_fd (an eventfd, or
 * -1 for none) is written when a slot frees: try again then. Safe from
 * several submitting threads: the check and the taking are one step. */
int workers_submit(struct workers *w, void *item, int wake_fd);
/* wake_fd is closing: never written from now on. */
void workers_forget_waiter(struct workers *w, int wake_fd);
/* Waits up to timeout_ms for every item to be handled; returns how many are left. */
int workers_wait_idle(struct workers *w, int timeout_ms);
/* Joins every thread (items still running are waited for) and frees. */
void workers_destroy(struct workers *w);

#endif
