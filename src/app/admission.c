#include "admission.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "report.h"

#define LINGER_MS 500

/* epoll's data for the descriptors that are not clients. */
static char listener_mark, stop_mark, slot_mark, cut_mark;

/* One admission thread's clients. */
struct loop {
    struct admission_ctx *ax;
    int epfd;
    int slot_fd;   /* eventfd: the pool had a slot free after refusing us */
    int listening; /* the listener is in the epoll set */
    int stopping;
    int burst;                                 /* clients accepted per wake-up */
    size_t n, cap;                             /* clients held: waiting, lingering or queued */
    struct deadline_heap heap;                 /* the waiting and lingering ones: every one has a
                               * deadline, so the next wake-up is the top */
    struct admission *queue_head, *queue_tail; /* ready, waiting for a worker */
    double grace_end;
    pthread_t thread;
};

/* The client whose wake-up e is. */
static struct admission *of_wake(struct deadline_entry *e)
{
    return (struct admission *)(void *)((char *)e - offsetof(struct admission, wake));
}

/* Sets a's wake-up: 0, or -1 when the heap is full (it holds no more
 * clients than the loop admits, so never). */
static int wake_at(struct loop *lp, struct admission *a, double when_ms)
{
    return deadline_heap_set(&lp->heap, &a->wake, when_ms);
}

/* --- the epoll set --- */

/* Watches a's descriptor for what it waits for (nothing once ready): 0,
 * or -1 when epoll cannot (out of memory). */
static int watch(struct loop *lp, struct admission *a)
{
    uint32_t want = a->ready ? 0 : a->events;
    if (want == a->watched)
        return 0;
    struct epoll_event ev = { .events = want, .data.ptr = a };
    int op = want == 0 ? EPOLL_CTL_DEL : a->watched == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(lp->epfd, op, secsock_conn_fd(a->c), &ev) < 0 && op != EPOLL_CTL_DEL)
        return -1;
    a->watched = want;
    return 0;
}

/* Out of the heap and the epoll set: nothing of the loop refers to it. */
static void forget(struct loop *lp, struct admission *a)
{
    deadline_heap_remove(&lp->heap, &a->wake);
    if (a->watched != 0) {
        (void)epoll_ctl(lp->epfd, EPOLL_CTL_DEL, secsock_conn_fd(a->c), NULL);
        a->watched = 0;
    }
}

static void uncount(struct loop *lp)
{
    lp->n--;
    atomic_fetch_sub(&lp->ax->admitted, 1);
}

/* Gone from this loop: served here, or closed. */
static void leave(struct loop *lp, struct admission *a)
{
    forget(lp, a);
    uncount(lp);
}

static void release(struct loop *lp, struct admission *a, int reset)
{
    leave(lp, a);
    if (reset)
        secsock_abort(a->c);
    else
        secsock_close(a->c);
    admission_free(a);
}

void admission_free(struct admission *a)
{
    free(a->fp);
    free(a);
}

static void set_listening(struct loop *lp, int on)
{
    if (on == lp->listening)
        return;
    int fd = secsock_listener_fd(lp->ax->l);
    /* EPOLLEXCLUSIVE: a new client wakes one loop, not all of them. */
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listener_mark };
    if (epoll_ctl(lp->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev) == 0 || !on)
        lp->listening = on;
}

/* --- one client's way through admission --- */

/* Drops a client that failed or ran out of time before it was served;
 * why, or the connection's error text when NULL, is logged. A refused TLS
 * client stays a moment to linger (see secsock_linger_nowait): never a
 * blocking close in this loop. */
static void drop(struct loop *lp, struct admission *a, enum secsock_status status, const char *why)
{
    lp->ax->hooks.report(lp->ax->hooks.arg, a, status, why);
    if (status != SECSOCK_ERR_TIMEOUT && secsock_linger_nowait(a->c)) {
        a->lingering = 1;
        a->ready = 0;
        a->events = EPOLLIN;
        a->deadline_ms = app_now_ms() + LINGER_MS;
        if (watch(lp, a) == 0 && wake_at(lp, a, a->deadline_ms) == 0)
            return;
    }
    /* A client that timed out gets a reset; one that failed has closed
     * already, or was drained above. */
    release(lp, a, status == SECSOCK_ERR_TIMEOUT);
}

/* Moves a client on as far as it goes without waiting: SECSOCK_OK to keep
 * it, or the status it failed with. */
static enum secsock_status step(struct loop *lp, struct admission *a, uint32_t revents)
{
    const struct admission_ctx *ax = lp->ax;
    if (a->handshake_ms < 0 && !a->screened && ax->hooks.screen != NULL) {
        int rc = ax->hooks.screen(ax->hooks.screen_arg, a);
        if (rc == 1) {
            a->events = EPOLLIN;
            return SECSOCK_OK;
        }
        if (rc < 0)
            return (enum secsock_status)rc;
        a->screened = 1;
    }
    if (a->handshake_ms < 0) {
        enum secsock_status rc = secsock_handshake_nowait(a->c);
        if (rc == SECSOCK_WANT_READ || rc == SECSOCK_WANT_WRITE) {
            a->events = rc == SECSOCK_WANT_READ ? EPOLLIN : EPOLLOUT;
            return SECSOCK_OK;
        }
        if (rc != SECSOCK_OK)
            return rc;
        double now = app_now_ms();
        a->handshake_ms = now - a->accepted_ms;
        a->deadline_ms = now + ax->policy.idle_timeout_ms; /* now: first data */
        a->events = EPOLLIN;
        if (ax->hooks.handshaken != NULL)
            ax->hooks.handshaken(ax->hooks.arg, a);
        revents = 0; /* those were the handshake's */
    }
    a->ready = secsock_pending(a->c) || (revents & (EPOLLIN | EPOLLHUP | EPOLLERR));
    return SECSOCK_OK;
}

/* Where serve_here sends a ready client. */
enum serve_where {
    SERVE_IN_LOOP, /* here, now */
    SERVE_LATER,   /* by a worker, or (a->ready cleared) once it is ready */
    SERVE_FAILED,  /* the peek failed: *failed says how */
};

/* A ready client the loop serves itself, because serving it cannot wait on
 * the client: a plain datagram (answered from the listening socket), or a
 * stream that sent nothing but its end (the service reads 0 at once and
 * at most writes a line into an empty socket buffer). A thread wake-up
 * would cost more than the service. */
static enum serve_where serve_here(struct loop *lp, struct admission *a,
                                   enum secsock_status *failed)
{
    if (lp->ax->policy.serve_at_once)
        return SERVE_IN_LOOP;
    unsigned char first;
    ssize_t n = secsock_peek_nowait(a->c, &first, 1);
    if (n == SECSOCK_WANT_READ || n == SECSOCK_WANT_WRITE) {
        /* Readable, but no whole record yet: wait on. */
        a->ready = 0;
        a->events = n == SECSOCK_WANT_READ ? EPOLLIN : EPOLLOUT;
        return SERVE_LATER;
    }
    if (n < 0) {
        *failed = (enum secsock_status)n;
        return SERVE_FAILED;
    }
    return n == 0 ? SERVE_IN_LOOP : SERVE_LATER;
}

/* After a step: serve it here, queue it for a worker, or wait on. */
static void settle(struct loop *lp, struct admission *a)
{
    if (a->ready) {
        enum secsock_status failed = SECSOCK_OK;
        enum serve_where where = serve_here(lp, a, &failed);
        if (where == SERVE_FAILED) {
            drop(lp, a, failed, NULL);
            return;
        }
        if (where == SERVE_IN_LOOP) {
            leave(lp, a);
            lp->ax->w->handler(lp->ax->w->ctx, a); /* serves, closes and frees it */
            return;
        }
    }
    if (watch(lp, a) != 0) {
        drop(lp, a, SECSOCK_ERR_NOMEM, "out of memory");
        return;
    }
    if (a->ready) {
        deadline_heap_remove(&lp->heap, &a->wake);
        a->next = NULL;
        if (lp->queue_tail != NULL)
            lp->queue_tail->next = a;
        else
            lp->queue_head = a;
        lp->queue_tail = a;
        return;
    }
    double wake = a->deadline_ms;
    int timer = secsock_conn_timer_ms(a->c);
    if (timer >= 0) {
        double due = app_now_ms() + (timer > 0 ? timer : 1);
        if (due < wake)
            wake = due;
    }
    if (wake_at(lp, a, wake) != 0)
        drop(lp, a, SECSOCK_ERR_NOMEM, "out of memory");
}

static void admit(struct loop *lp, secsock_conn *c)
{
    const struct admission_policy *policy = &lp->ax->policy;
    struct admission *a = calloc(1, sizeof *a);
    if (a == NULL) {
        app_log(stdout, "[!] %s: out of memory", secsock_conn_peer(c));
        secsock_abort(c);
        return;
    }
    a->c = c;
    a->accepted_ms = app_now_ms();
    a->deadline_ms = a->accepted_ms + policy->handshake_timeout_ms;
    a->handshake_ms = -1;
    deadline_entry_init(&a->wake);
    lp->n++;
    atomic_fetch_add(&lp->ax->admitted, 1);
    if (policy->log_accept)
        app_log_client(stdout, "[*] Accepted connection from %s", secsock_conn_peer(c));
    enum secsock_status rc = step(lp, a, 0);
    if (rc != SECSOCK_OK)
        drop(lp, a, rc, a->why);
    else
        settle(lp, a);
}

static void accept_burst(struct loop *lp)
{
    for (int i = 0; i < lp->burst && lp->n < lp->cap; i++) {
        secsock_conn *c = NULL;
        enum secsock_status rc = secsock_accept(lp->ax->l, 0, &c);
        if (rc == SECSOCK_ERR_TIMEOUT || rc == SECSOCK_ERR_CANCELLED)
            return;
        if (rc != SECSOCK_OK) {
            app_log(stdout, "[!] %s", secsock_listener_error(lp->ax->l));
            if (rc == SECSOCK_ERR_NOMEM)
                poll(NULL, 0, 50); /* out of descriptors or memory: let clients finish */
            return;
        }
        admit(lp, c);
    }
}

/* Clients waiting for a worker get one, oldest first, while slots last. */
static void hand_over(struct loop *lp)
{
    struct admission *a;
    while ((a = lp->queue_head) != NULL) {
        /* Read before the submit: from then on a is the worker's. */
        struct admission *next = a->next;
        int rc = workers_submit(lp->ax->w, a, lp->slot_fd);
        if (rc == 1)
            return; /* every worker busy: slot_fd says when one is free */
        lp->queue_head = next;
        if (next == NULL)
            lp->queue_tail = NULL;
        if (rc == 0)
            uncount(lp); /* a queued client is in no set; it is the worker's now */
        else
            drop(lp, a, SECSOCK_ERR_NOMEM, "cannot start a worker thread");
    }
}

static void on_event(struct loop *lp, struct admission *a, uint32_t revents)
{
    if (a->lingering) {
        if (!secsock_linger_nowait(a->c))
            release(lp, a, 0); /* drained: the peer has gone */
        return;
    }
    enum secsock_status rc = step(lp, a, revents);
    if (rc != SECSOCK_OK)
        drop(lp, a, rc, a->why);
    else
        settle(lp, a);
}

/* Clients whose deadline passed are dropped; DTLS timers that are due fire
 * (the last flight is sent again). */
static void expire(struct loop *lp)
{
    const struct admission_policy *policy = &lp->ax->policy;
    double now = app_now_ms();
    struct deadline_entry *top;
    while ((top = deadline_heap_top(&lp->heap)) != NULL && top->when_ms <= now) {
        struct admission *a = of_wake(top);
        if (a->lingering) {
            release(lp, a, 0); /* its moment is up */
        } else if (now >= a->deadline_ms) {
            char why[96];
            if (a->handshake_ms < 0)
                snprintf(why, sizeof why, "%s handshake timed out after %d ms", policy->protocol,
                         policy->handshake_timeout_ms);
            else
                snprintf(why, sizeof why, "timeout: no data from the peer for %d ms",
                         policy->idle_timeout_ms);
            drop(lp, a, SECSOCK_ERR_TIMEOUT, why);
        } else {
            enum secsock_status rc = secsock_conn_timer_fire(a->c);
            if (rc != SECSOCK_OK)
                drop(lp, a, rc, NULL);
            else
                settle(lp, a);
        }
    }
}

/* The milliseconds epoll may sleep: until the next deadline or the end of
 * the grace period (a free worker slot wakes it through slot_fd). */
static int sleep_ms(const struct loop *lp)
{
    double now = app_now_ms();
    double wait = 1000;
    const struct deadline_entry *top = deadline_heap_top(&lp->heap);
    if (top != NULL && top->when_ms - now < wait)
        wait = top->when_ms - now;
    if (lp->grace_end >= 0 && lp->grace_end - now < wait)
        wait = lp->grace_end - now;
    return wait > 0 ? (int)wait + 1 : 0;
}

/* At the stop signal: a stream server's loop stops accepting (the last
 * one closes the listener, so new clients are refused) and keeps only the
 * grace period for the clients it holds; a datagram server stops at once
 * (its plain replies use the listening socket: freed after the workers). */
static void begin_stop(struct loop *lp)
{
    struct admission_ctx *ax = lp->ax;
    lp->stopping = 1;
    lp->grace_end = app_now_ms() + ax->policy.grace_ms;
    (void)epoll_ctl(lp->epfd, EPOLL_CTL_DEL, ax->stop_fd, NULL);
    if (ax->cut_fd >= 0) {
        struct epoll_event cut_ev = { .events = EPOLLIN, .data.ptr = &cut_mark };
        (void)epoll_ctl(lp->epfd, EPOLL_CTL_ADD, ax->cut_fd, &cut_ev);
    }
    if (ax->policy.close_at_stop)
        return;
    set_listening(lp, 0);
    if (atomic_fetch_sub(&ax->accepting, 1) == 1) {
        secsock_listener_free(ax->l);
        ax->l = NULL;
        int left = atomic_load(&ax->admitted) + workers_wait_idle(ax->w, 0);
        if (left > 0)
            app_log(stdout,
                    "[*] Stopping: waiting up to %d ms for %d client(s) "
                    "(interrupt again to stop at once)",
                    ax->policy.grace_ms, left);
    }
}

/* A client still in admission when the server stops: a refused one that
 * was lingering is already counted; any other gets its line and count. */
static void cut_off(struct loop *lp, struct admission *a)
{
    if (!a->lingering)
        lp->ax->hooks.report(lp->ax->hooks.arg, a, SECSOCK_ERR_CANCELLED,
                             "the server stopped before it was served");
    release(lp, a, 1);
}

static void run_loop(struct loop *lp)
{
    struct epoll_event evs[64];
    const int close_at_stop = lp->ax->policy.close_at_stop;
    for (;;) {
        if (lp->stopping && (close_at_stop || lp->n == 0 || app_now_ms() >= lp->grace_end))
            break;
        if (!lp->stopping)
            set_listening(lp, lp->n < lp->cap);
        hand_over(lp);
        int n = epoll_wait(lp->epfd, evs, 64, sleep_ms(lp));
        if (n < 0 && errno != EINTR)
            app_log(stderr, "[!] epoll: %s", strerror(errno));
        int accept_now = 0;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &listener_mark)
                accept_now = 1;
            else if (evs[i].data.ptr == &stop_mark)
                begin_stop(lp);
            else if (evs[i].data.ptr == &cut_mark)
                lp->grace_end = app_now_ms(); /* a second interrupt: no more grace */
            else if (evs[i].data.ptr == &slot_mark)
                (void)eventfd_read(lp->slot_fd, &(eventfd_t){ 0 }); /* hand_over comes next */
            else
                on_event(lp, evs[i].data.ptr, evs[i].events);
        }
        expire(lp);
        if (accept_now && lp->listening)
            accept_burst(lp);
    }
    /* Never served: reset, and counted as failed like any client cut off. */
    struct deadline_entry *left;
    while ((left = deadline_heap_top(&lp->heap)) != NULL)
        cut_off(lp, of_wake(left));
    while (lp->queue_head != NULL) {
        struct admission *a = lp->queue_head;
        lp->queue_head = a->next;
        cut_off(lp, a);
    }
    lp->queue_tail = NULL;
}

static void *loop_thread(void *arg)
{
    run_loop(arg);
    return NULL;
}

static void loop_free(struct loop *lp)
{
    if (lp->epfd >= 0)
        close(lp->epfd);
    if (lp->slot_fd >= 0) {
        workers_forget_waiter(lp->ax->w, lp->slot_fd); /* no write to a reused number */
        close(lp->slot_fd);
    }
    deadline_heap_free(&lp->heap);
}

static int loop_init(struct loop *lp, struct admission_ctx *ax, size_t cap, int burst)
{
    *lp = (struct loop){ .ax = ax, .cap = cap, .burst = burst, .grace_end = -1 };
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    lp->slot_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int heap_rc = deadline_heap_init(&lp->heap, cap);
    struct epoll_event stop_ev = { .events = EPOLLIN, .data.ptr = &stop_mark };
    struct epoll_event slot_ev = { .events = EPOLLIN, .data.ptr = &slot_mark };
    if (lp->epfd < 0 || lp->slot_fd < 0 || heap_rc != 0 ||
        epoll_ctl(lp->epfd, EPOLL_CTL_ADD, ax->stop_fd, &stop_ev) < 0 ||
        epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->slot_fd, &slot_ev) < 0) {
        loop_free(lp);
        return -1;
    }
    return 0;
}

double admission_run(struct admission_ctx *ax, int nloops, size_t capacity)
{
    if (nloops > ADMISSION_MAX_LOOPS)
        nloops = ADMISSION_MAX_LOOPS;
    if (nloops < 1)
        nloops = 1;
    struct loop *loops = calloc((size_t)nloops, sizeof *loops);
    if (loops == NULL)
        return -1;
    size_t share = capacity / (size_t)nloops > 16 ? capacity / (size_t)nloops : 16;
    /* Few clients per wake-up when loops share the listener, so that a
     * burst of clients is spread over them; but more than one, or under
     * load clients wait in the backlog while the loops step the others. */
    int burst = nloops > 1 ? 8 : 64;
    int started = 0;
    for (; started < nloops; started++)
        if (loop_init(&loops[started], ax, share, burst) != 0)
            break;
    if (started == 0) {
        free(loops);
        return -1;
    }
    atomic_store(&ax->accepting, started);
    int threads = 1;
    for (; threads < started; threads++) {
        /* Signals stay with the main thread, which handles SIGINT/SIGTERM. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int rc = pthread_create(&loops[threads].thread, NULL, loop_thread, &loops[threads]);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0)
            break;
    }
    for (int i = threads; i < started; i++) /* never ran: no longer counted as accepting */
        atomic_fetch_sub(&ax->accepting, 1);
    if (ax->hooks.on_ready != NULL)
        ax->hooks.on_ready(ax->hooks.arg, ax->l); /* threads and descriptors are all there now */
    run_loop(&loops[0]);
    double grace_end = loops[0].grace_end;
    for (int i = 1; i < threads; i++) {
        pthread_join(loops[i].thread, NULL);
        if (loops[i].grace_end > grace_end)
            grace_end = loops[i].grace_end;
    }
    for (int i = 0; i < started; i++)
        loop_free(&loops[i]);
    free(loops);
    return grace_end;
}
