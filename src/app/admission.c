#include "admission.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "server.h"

#define NOT_IN_HEAP ((size_t)-1)
#define LINGER_MS 500

/* epoll's data for the descriptors that are not clients. */
static char listener_mark, stop_mark, slot_mark, cut_mark;

/* One admission thread's clients. */
struct loop {
    struct admission_ctx *ax;
    int epfd;
    int slot_fd;              /* eventfd: the pool had a slot free after refusing us */
    int listening;            /* the listener is in the epoll set */
    int stopping;
    int burst;                /* clients accepted per wake-up */
    size_t n, cap;            /* clients held: waiting, lingering or queued */
    struct admission **heap;  /* the waiting and lingering ones, soonest wake_ms first */
    size_t nheap;
    struct admission *queue_head, *queue_tail; /* ready, waiting for a worker */
    double grace_end;
    pthread_t thread;
};

/* --- the deadline heap: every client in it has a deadline, so the next
 * wake-up is its top and a timeout costs O(log n), never a scan. --- */

static void heap_place(struct loop *lp, size_t i, struct admission *a)
{
    lp->heap[i] = a;
    a->heap_pos = i;
}

static void heap_up(struct loop *lp, size_t i)
{
    struct admission *a = lp->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (lp->heap[parent]->wake_ms <= a->wake_ms)
            break;
        heap_place(lp, i, lp->heap[parent]);
        i = parent;
    }
    heap_place(lp, i, a);
}

static void heap_down(struct loop *lp, size_t i)
{
    struct admission *a = lp->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= lp->nheap)
            break;
        if (child + 1 < lp->nheap && lp->heap[child + 1]->wake_ms < lp->heap[child]->wake_ms)
            child++;
        if (a->wake_ms <= lp->heap[child]->wake_ms)
            break;
        heap_place(lp, i, lp->heap[child]);
        i = child;
    }
    heap_place(lp, i, a);
}

static void heap_set(struct loop *lp, struct admission *a, double wake_ms)
{
    a->wake_ms = wake_ms;
    if (a->heap_pos == NOT_IN_HEAP) {
        lp->heap[lp->nheap] = a;
        a->heap_pos = lp->nheap++;
    }
    heap_up(lp, a->heap_pos);
    heap_down(lp, a->heap_pos);
}

static void heap_remove(struct loop *lp, struct admission *a)
{
    size_t i = a->heap_pos;
    if (i == NOT_IN_HEAP)
        return;
    a->heap_pos = NOT_IN_HEAP;
    struct admission *last = lp->heap[--lp->nheap];
    if (last != a) {
        heap_place(lp, i, last);
        heap_up(lp, i);
        heap_down(lp, last->heap_pos);
    }
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
    heap_remove(lp, a);
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
static void drop(struct loop *lp, struct admission *a, int status, const char *why)
{
    app_server_report(lp->ax->s, a, status, why);
    if (status != SECSOCK_ERR_TIMEOUT && secsock_linger_nowait(a->c)) {
        a->lingering = 1;
        a->ready = 0;
        a->events = EPOLLIN;
        a->deadline_ms = app_now_ms() + LINGER_MS;
        if (watch(lp, a) == 0) {
            heap_set(lp, a, a->deadline_ms);
            return;
        }
    }
    /* A client that timed out gets a reset; one that failed has closed
     * already, or was drained above. */
    release(lp, a, status == SECSOCK_ERR_TIMEOUT);
}

/* Moves a client on as far as it goes without waiting: 0 to keep it, or a
 * negative status when it failed. */
static int step(struct loop *lp, struct admission *a, uint32_t revents)
{
    const struct app_options *o = lp->ax->s->o;
    if (a->handshake_ms < 0 && !a->screened && lp->ax->screen != NULL) {
        int rc = lp->ax->screen(lp->ax, a);
        if (rc == 1) {
            a->events = EPOLLIN;
            return 0;
        }
        if (rc < 0)
            return rc;
        a->screened = 1;
    }
    if (a->handshake_ms < 0) {
        int rc = secsock_handshake_nowait(a->c);
        if (rc == SECSOCK_WANT_READ || rc == SECSOCK_WANT_WRITE) {
            a->events = rc == SECSOCK_WANT_READ ? EPOLLIN : EPOLLOUT;
            return 0;
        }
        if (rc != 0)
            return rc;
        double now = app_now_ms();
        a->handshake_ms = now - a->accepted_ms;
        a->deadline_ms = now + o->timeout_ms; /* now the idle timeout: first data */
        a->events = EPOLLIN;
        if (o->verbose) {
            char prefix[APP_LOG_STAMP_MAX + 8];
            size_t n = app_log_stamp(prefix, sizeof prefix);
            snprintf(prefix + n, sizeof prefix - n, "[*]   ");
            app_print_session(stdout, prefix, a->c);
        } else if (secsock_transport_ech_config_list(lp->ax->s->t) != NULL &&
                   !app_log_quiet()) {
            /* An ECH server says what each client hid, -v or not. */
            char prefix[APP_LOG_STAMP_MAX + 80];
            size_t n = app_log_stamp(prefix, sizeof prefix);
            snprintf(prefix + n, sizeof prefix - n, "[*] %s: ", secsock_conn_peer(a->c));
            app_print_ech_line(stdout, prefix, a->c);
        }
        revents = 0; /* those were the handshake's */
    }
    a->ready = secsock_pending(a->c) || (revents & (EPOLLIN | EPOLLHUP | EPOLLERR));
    return 0;
}

/* A ready client the loop serves itself, because serving it cannot wait on
 * the client: a plain datagram (answered from the listening socket), or a
 * stream that sent nothing but its end (the service reads 0 at once and
 * at most writes a line into an empty socket buffer). A thread wake-up
 * would cost more than the service. Returns 1 when so, 0 to hand it to a
 * worker, or a negative status when the peek failed. */
static int serve_here(struct loop *lp, struct admission *a)
{
    if (lp->ax->serve_at_once)
        return 1;
    unsigned char first;
    ssize_t n = secsock_peek_nowait(a->c, &first, 1);
    if (n == SECSOCK_WANT_READ || n == SECSOCK_WANT_WRITE) {
        /* Readable, but no whole record yet: wait on. */
        a->ready = 0;
        a->events = n == SECSOCK_WANT_READ ? EPOLLIN : EPOLLOUT;
        return 0;
    }
    return n == 0 ? 1 : n > 0 ? 0 : (int)n;
}

/* After a step: serve it here, queue it for a worker, or wait on. */
static void settle(struct loop *lp, struct admission *a)
{
    if (a->ready) {
        int rc = serve_here(lp, a);
        if (rc < 0) {
            drop(lp, a, rc, NULL);
            return;
        }
        if (rc == 1) {
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
        heap_remove(lp, a);
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
    heap_set(lp, a, wake);
}

static void admit(struct loop *lp, secsock_conn *c)
{
    struct app_server *s = lp->ax->s;
    struct admission *a = calloc(1, sizeof *a);
    if (a == NULL) {
        app_log(stdout, "[!] %s: out of memory", secsock_conn_peer(c));
        secsock_abort(c);
        return;
    }
    a->c = c;
    a->accepted_ms = app_now_ms();
    a->deadline_ms = a->accepted_ms + s->o->handshake_timeout_ms;
    a->handshake_ms = -1;
    a->heap_pos = NOT_IN_HEAP;
    lp->n++;
    atomic_fetch_add(&lp->ax->admitted, 1);
    if (s->log_accept)
        app_log_client(stdout, "[*] Accepted connection from %s", secsock_conn_peer(c));
    int rc = step(lp, a, 0);
    if (rc != 0)
        drop(lp, a, rc, a->why);
    else
        settle(lp, a);
}

static void accept_burst(struct loop *lp)
{
    char err[256];
    for (int i = 0; i < lp->burst && lp->n < lp->cap; i++) {
        secsock_conn *c = NULL;
        int rc = secsock_accept(lp->ax->l, 0, &c, err, sizeof err);
        if (rc == SECSOCK_ERR_TIMEOUT || rc == SECSOCK_ERR_CANCELLED)
            return;
        if (rc != 0) {
            app_log(stdout, "[!] %s", err);
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
    int rc = step(lp, a, revents);
    if (rc != 0)
        drop(lp, a, rc, a->why);
    else
        settle(lp, a);
}

/* Clients whose deadline passed are dropped; DTLS timers that are due fire
 * (the last flight is sent again). */
static void expire(struct loop *lp)
{
    const struct app_options *o = lp->ax->s->o;
    double now = app_now_ms();
    while (lp->nheap > 0 && lp->heap[0]->wake_ms <= now) {
        struct admission *a = lp->heap[0];
        if (a->lingering) {
            release(lp, a, 0); /* its moment is up */
        } else if (now >= a->deadline_ms) {
            char why[96];
            if (a->handshake_ms < 0)
                snprintf(why, sizeof why, "%s handshake timed out after %d ms",
                         o->program == APP_UDP_SERVER ? "DTLS" : "TLS",
                         o->handshake_timeout_ms);
            else
                snprintf(why, sizeof why, "timeout: no data from the peer for %d ms",
                         o->timeout_ms);
            drop(lp, a, SECSOCK_ERR_TIMEOUT, why);
        } else {
            int rc = secsock_conn_timer_fire(a->c);
            if (rc != 0)
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
    if (lp->nheap > 0 && lp->heap[0]->wake_ms - now < wait)
        wait = lp->heap[0]->wake_ms - now;
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
    struct app_server *s = ax->s;
    lp->stopping = 1;
    lp->grace_end = app_now_ms() + s->o->grace_ms;
    (void)epoll_ctl(lp->epfd, EPOLL_CTL_DEL, ax->stop_fd, NULL);
    if (ax->cut_fd >= 0) {
        struct epoll_event cut_ev = { .events = EPOLLIN, .data.ptr = &cut_mark };
        (void)epoll_ctl(lp->epfd, EPOLL_CTL_ADD, ax->cut_fd, &cut_ev);
    }
    if (s->close_at_stop)
        return;
    set_listening(lp, 0);
    if (atomic_fetch_sub(&ax->accepting, 1) == 1) {
        secsock_listener_free(ax->l);
        ax->l = NULL;
        int left = atomic_load(&ax->admitted) + workers_wait_idle(ax->w, 0);
        if (left > 0)
            app_log(stdout, "[*] Stopping: waiting up to %d ms for %d client(s) "
                            "(interrupt again to stop at once)",
                    s->o->grace_ms, left);
    }
}

/* A client still in admission when the server stops: a refused one that
 * was lingering is already counted; any other gets its line and count. */
static void cut_off(struct loop *lp, struct admission *a)
{
    if (!a->lingering)
        app_server_report(lp->ax->s, a, SECSOCK_ERR_CANCELLED,
                          "the server stopped before it was served");
    release(lp, a, 1);
}

static void run_loop(struct loop *lp)
{
    struct epoll_event evs[64];
    const int close_at_stop = lp->ax->s->close_at_stop;
    for (;;) {
        if (lp->stopping &&
            (close_at_stop || lp->n == 0 || app_now_ms() >= lp->grace_end))
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
    while (lp->nheap > 0)
        cut_off(lp, lp->heap[lp->nheap - 1]); /* the last: nothing moves */
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
    free(lp->heap);
}

static int loop_init(struct loop *lp, struct admission_ctx *ax, size_t cap, int burst)
{
    *lp = (struct loop){ .ax = ax, .cap = cap, .burst = burst, .grace_end = -1 };
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    lp->slot_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized so */
    lp->heap = calloc(cap, sizeof *lp->heap);
    struct epoll_event stop_ev = { .events = EPOLLIN, .data.ptr = &stop_mark };
    struct epoll_event slot_ev = { .events = EPOLLIN, .data.ptr = &slot_mark };
    if (lp->epfd < 0 || lp->slot_fd < 0 || lp->heap == NULL ||
        epoll_ctl(lp->epfd, EPOLL_CTL_ADD, ax->stop_fd, &stop_ev) < 0 ||
        epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->slot_fd, &slot_ev) < 0) {
        loop_free(lp);
        return -1;
    }
    return 0;
}

double admission_run(struct admission_ctx *ax, int nloops, size_t capacity)
{
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
    if (ax->on_ready != NULL)
        ax->on_ready(ax); /* threads and descriptors are all there now */
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
