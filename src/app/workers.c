#include "workers.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>

/* A TLS handshake needs well under 64 KiB of stack; sanitizers need more. */
#ifdef SECSOCK_SANITIZED
#define WORKER_STACK ((size_t)1024 * 1024)
#else
#define WORKER_STACK ((size_t)256 * 1024)
#endif

static void *worker_main(void *arg)
{
    struct workers *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->qlen == 0 && !w->stopping)
            pthread_cond_wait(&w->work_ready, &w->lock);
        if (w->qlen == 0)
            break; /* stopping, and nothing left to do */
        void *item = w->queue[w->qhead];
        w->qhead = (w->qhead + 1) % (size_t)w->max;
        w->qlen--;
        pthread_mutex_unlock(&w->lock);
        w->handler(w->ctx, item);
        pthread_mutex_lock(&w->lock);
        w->busy--;
        pthread_cond_broadcast(&w->slot_free);
        for (int i = 0; i < w->nwaiters; i++)
            (void)eventfd_write(w->waiters[i], 1); /* cannot block: far below the maximum */
        w->nwaiters = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int workers_init(struct workers *w, int max, size_t stack_size, workers_handler handler, void *ctx)
{
    *w = (struct workers){ .handler = handler, .ctx = ctx, .max = max };
    w->queue = calloc((size_t)max, sizeof *w->queue);
    w->threads = calloc((size_t)max, sizeof *w->threads);
    if (w->queue == NULL || w->threads == NULL) {
        free(w->queue);
        free(w->threads);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work_ready, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->slot_free, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_init(&w->attr);
    pthread_attr_setstacksize(&w->attr, stack_size ? stack_size : WORKER_STACK);
    return 0;
}

static struct timespec deadline_in(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int workers_wait_slot(struct workers *w, int timeout_ms)
{
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&w->lock);
    while (w->busy >= w->max)
        if (pthread_cond_timedwait(&w->slot_free, &w->lock, &until) == ETIMEDOUT)
            break;
    int free_slot = w->busy < w->max;
    pthread_mutex_unlock(&w->lock);
    return free_slot;
}

/* Under the lock: wake_fd is told at the next free slot (once). */
static void add_waiter(struct workers *w, int wake_fd)
{
    for (int i = 0; i < w->nwaiters; i++)
        if (w->waiters[i] == wake_fd)
            return;
    if (w->nwaiters < WORKERS_MAX_WAITERS)
        w->waiters[w->nwaiters++] = wake_fd;
}

int workers_submit(struct workers *w, void *item, int wake_fd)
{
    int rc = 0;
    pthread_mutex_lock(&w->lock);
    if (w->busy >= w->max) {
        if (wake_fd >= 0)
            add_waiter(w, wake_fd);
        pthread_mutex_unlock(&w->lock);
        return 1;
    }
    /* Each item queued or running needs a thread of its own: counting idle
     * ones would miss a thread made but not started yet. */
    if (w->nthreads <= w->busy) { /* busy < max: room for one more thread */
        /* Workers leave signals to the main thread, which handles SIGINT/SIGTERM. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        if (pthread_create(&w->threads[w->nthreads], &w->attr, worker_main, w) == 0)
            w->nthreads++;
        else if (w->nthreads == 0)
            rc = -1; /* nobody could ever take the item */
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (rc == 0) {
        w->queue[(w->qhead + w->qlen) % (size_t)w->max] = item;
        w->qlen++;
        w->busy++;
        pthread_cond_signal(&w->work_ready);
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

void workers_forget_waiter(struct workers *w, int wake_fd)
{
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < w->nwaiters; i++)
        if (w->waiters[i] == wake_fd)
            w->waiters[i--] = w->waiters[--w->nwaiters];
    pthread_mutex_unlock(&w->lock);
}

int workers_wait_idle(struct workers *w, int timeout_ms)
{
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&w->lock);
    while (w->busy > 0)
        if (pthread_cond_timedwait(&w->slot_free, &w->lock, &until) == ETIMEDOUT)
            break;
    int left = w->busy;
    pthread_mutex_unlock(&w->lock);
    return left;
}

void workers_destroy(struct workers *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->work_ready);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_attr_destroy(&w->attr);
    pthread_cond_destroy(&w->work_ready);
    pthread_cond_destroy(&w->slot_free);
    pthread_mutex_destroy(&w->lock);
    free(w->queue);
    free(w->threads);
}
