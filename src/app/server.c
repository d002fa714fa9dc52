#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "json.h"
#include "report.h"
#include "term.h"
#include "workers.h"

/* Written once at SIGINT/SIGTERM and never drained: from then on every wait
 * that watches it ends. The cut pipe does the same at the end of the grace
 * period for clients still being served. */
static volatile sig_atomic_t stop_requested;
static int stop_pipe[2] = { -1, -1 };
static int cut_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    stop_requested = 1;
    if (write(stop_pipe[1], "x", 1) < 0) {
        /* full: the wake-up is pending already */
    }
    errno = saved;
}

static int make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static int install_signals(void)
{
    if (make_pipe(stop_pipe) < 0 || make_pipe(cut_pipe) < 0)
        return -1;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void close_pipes(void)
{
    for (int i = 0; i < 2; i++) {
        close(stop_pipe[i]);
        close(cut_pipe[i]);
        stop_pipe[i] = cut_pipe[i] = -1;
    }
}

void app_server_log_received(const char *what, const unsigned char *data, size_t len)
{
    char *escaped = malloc(4 * len + 1);
    if (escaped == NULL)
        return;
    term_escape_line(data, len, escaped);
    app_log(stdout, "[*] %s: %s", what, escaped);
    free(escaped);
}

static void count(struct app_server *s, unsigned long *counter)
{
    pthread_mutex_lock(&s->lock);
    (*counter)++;
    pthread_mutex_unlock(&s->lock);
}

/* A client that is not yet worth a thread: its handshake runs in the
 * admission loop, and it gets a worker only once it has finished the
 * handshake and sent something. A thousand idle or half-done handshakes
 * (slowloris) then cost memory and a poll slot each, never a worker, and
 * legitimate clients are still served at once. */
struct admission {
    secsock_conn *c;
    double accepted_ms;
    double deadline_ms;       /* handshake, then first data, must come by then */
    double handshake_ms;      /* -1 until the handshake is done */
    int ready;                /* waiting for a free worker */
    int lingering;            /* refused: draining its last bytes before the close */
    short events;             /* what the next step waits for */
};

static void session_json(struct app_server *s, const struct admission *a, int status)
{
    struct json_session js = { .program = s->o->name, .t = s->t, .c = a->c,
                               .handshake_ms = a->handshake_ms,
                               .total_ms = app_now_ms() - a->accepted_ms, .status = status,
                               .error = secsock_conn_error(a->c) };
    json_write_session(stderr, &js);
}

/* A worker: the program's service, then the close. */
static void handle_client(void *ctx, void *item)
{
    struct app_server *s = ctx;
    struct admission *a = item;
    secsock_conn *c = a->c;
    const struct app_options *o = s->o;
    secsock_conn_set_cancel_fd(c, s->close_at_stop ? stop_pipe[0] : cut_pipe[0]);
    secsock_conn_set_timeout(c, o->timeout_ms);
    int rc = s->serve(s, c);
    if (rc == SECSOCK_ERR_CANCELLED && s->close_at_stop)
        rc = 0; /* stopping: a polite end, not a failure */
    if (rc != 0)
        app_log(stdout, "[!] %s: %s", secsock_conn_peer(c), secsock_conn_error(c));
    count(s, rc == 0 ? &s->served : &s->failed);
    if (o->json)
        session_json(s, a, rc);
    if (rc == SECSOCK_ERR_CANCELLED)
        secsock_abort(c); /* cut off at the end of the grace period: an error, not an end */
    else
        secsock_close(c);
    free(a);
}

/* Drops a client that failed or ran out of time before it was served;
 * why, or the connection's error text when NULL, is logged. Returns 1 when
 * it stays in admission for a moment to linger (a refused TLS handshake:
 * see secsock_linger_nowait), 0 when it is closed and freed. */
static int admission_drop(struct app_server *s, struct admission *a, int status,
                          const char *why)
{
    app_log(stdout, "[!] %s: %s", secsock_conn_peer(a->c), why ? why : secsock_conn_error(a->c));
    count(s, a->handshake_ms < 0 ? &s->failed_handshakes : &s->failed);
    if (s->o->json)
        session_json(s, a, status);
    if (status != SECSOCK_ERR_TIMEOUT && secsock_linger_nowait(a->c)) {
        a->lingering = 1;
        a->events = POLLIN;
        a->deadline_ms = app_now_ms() + 500;
        return 1;
    }
    /* Never a blocking close in this loop: a client that timed out gets a
     * reset; one that failed has closed already, or was drained above. */
    if (status == SECSOCK_ERR_TIMEOUT)
        secsock_abort(a->c);
    else
        secsock_close(a->c);
    free(a);
    return 0;
}

/* Moves a client on as far as it goes without waiting: 0 to keep it, or a
 * negative status when it failed. */
static int admission_step(struct app_server *s, struct admission *a, short revents)
{
    const struct app_options *o = s->o;
    if (a->handshake_ms < 0) {
        int rc = secsock_handshake_nowait(a->c);
        if (rc == SECSOCK_WANT_READ || rc == SECSOCK_WANT_WRITE) {
            a->events = rc == SECSOCK_WANT_READ ? POLLIN : POLLOUT;
            return 0;
        }
        if (rc != 0)
            return rc;
        double now = app_now_ms();
        a->handshake_ms = now - a->accepted_ms;
        a->deadline_ms = now + o->timeout_ms; /* now the idle timeout: first data */
        a->events = POLLIN;
        if (o->verbose)
            app_print_session(stdout, "[*]   ", a->c);
        revents = 0; /* those were the handshake's */
    }
    if (secsock_pending(a->c) || (revents & (POLLIN | POLLHUP | POLLERR)))
        a->ready = 1;
    return 0;
}

struct admissions {
    struct admission **list;
    size_t n, cap;
    struct pollfd *fds;       /* 2 + cap: the listener, the stop pipe, the clients */
};

static void admit(struct app_server *s, struct admissions *ad, secsock_conn *c)
{
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
    if (s->log_accept)
        app_log(stdout, "[*] Accepted connection from %s", secsock_conn_peer(c));
    int rc = admission_step(s, a, 0);
    if (rc == 0 || admission_drop(s, a, rc, NULL))
        ad->list[ad->n++] = a;
}

static void accept_burst(struct app_server *s, struct admissions *ad, secsock_listener *l)
{
    char err[256];
    for (int i = 0; i < 64 && ad->n < ad->cap; i++) {
        secsock_conn *c = NULL;
        int rc = secsock_accept(l, 0, &c, err, sizeof err);
        if (rc == SECSOCK_ERR_TIMEOUT || rc == SECSOCK_ERR_CANCELLED)
            return;
        if (rc != 0) {
            app_log(stdout, "[!] %s", err);
            if (rc == SECSOCK_ERR_NOMEM)
                poll(NULL, 0, 50); /* out of descriptors or memory: let clients finish */
            return;
        }
        admit(s, ad, c);
    }
}

/* The ready ones go to free workers, oldest first. */
static void hand_over(struct app_server *s, struct admissions *ad, struct workers *w)
{
    size_t kept = 0;
    for (size_t i = 0; i < ad->n; i++) {
        struct admission *a = ad->list[i];
        if (a->ready && workers_wait_slot(w, 0)) {
            if (workers_submit(w, a) != 0)
                (void)admission_drop(s, a, SECSOCK_ERR_NOMEM, "cannot start a worker thread");
            continue;
        }
        ad->list[kept++] = a;
    }
    ad->n = kept;
}

/* Builds the poll set (no listener once stopping); returns the timeout. */
static int poll_set(struct admissions *ad, const secsock_listener *l)
{
    double now = app_now_ms();
    double wait = 1000;
    ad->fds[0] = (struct pollfd){ .fd = l ? secsock_listener_fd(l) : -1,
                                  .events = ad->n < ad->cap ? POLLIN : 0 };
    ad->fds[1] = (struct pollfd){ .fd = l ? stop_pipe[0] : -1, .events = POLLIN };
    for (size_t i = 0; i < ad->n; i++) {
        struct admission *a = ad->list[i];
        ad->fds[2 + i] = (struct pollfd){ .fd = secsock_conn_fd(a->c),
                                          .events = (short)(a->ready ? 0 : a->events) };
        double left = a->ready ? 20 : a->deadline_ms - now; /* ready: retry for a worker */
        int timer = a->ready ? -1 : secsock_conn_timer_ms(a->c);
        if (timer >= 0 && timer < left)
            left = timer;
        if (left < wait)
            wait = left;
    }
    return wait > 0 ? (int)wait + 1 : 0;
}

/* Steps the clients poll() woke, whose timer is due or whose time is up. */
static void step_all(struct app_server *s, struct admissions *ad, size_t polled)
{
    double now = app_now_ms();
    size_t kept = 0;
    for (size_t i = 0; i < ad->n; i++) {
        struct admission *a = ad->list[i];
        short revents = (short)(i < polled ? ad->fds[2 + i].revents : 0);
        if (a->lingering) {
            if (now < a->deadline_ms && (revents == 0 || secsock_linger_nowait(a->c))) {
                ad->list[kept++] = a;
            } else {
                secsock_close(a->c); /* drained, or its moment is up */
                free(a);
            }
            continue;
        }
        int rc = 0;
        if (!a->ready && secsock_conn_timer_ms(a->c) == 0)
            rc = secsock_conn_timer_fire(a->c); /* DTLS: resend the last flight */
        if (rc == 0 && !a->ready && revents != 0)
            rc = admission_step(s, a, revents);
        if (rc != 0) {
            if (admission_drop(s, a, rc, NULL))
                ad->list[kept++] = a;
            continue;
        }
        if (!a->ready && now >= a->deadline_ms) {
            char why[96];
            if (a->handshake_ms < 0)
                snprintf(why, sizeof why, "%s handshake timed out after %d ms",
                         s->o->program == APP_UDP_SERVER ? "DTLS" : "TLS",
                         s->o->handshake_timeout_ms);
            else
                snprintf(why, sizeof why, "timeout: no data from the peer for %d ms",
                         s->o->timeout_ms);
            (void)admission_drop(s, a, SECSOCK_ERR_TIMEOUT, why);
            continue;
        }
        ad->list[kept++] = a;
    }
    ad->n = kept;
}

/* Accepts and admits clients until a stop signal; then, the listener
 * closed, lets the clients already accepted finish their way in until the
 * grace period ends (datagram sessions: at once). Returns when the grace
 * period ends, on the app_now_ms() clock. */
static double admission_loop(struct app_server *s, struct workers *w, secsock_listener **lp,
                             struct admissions *ad)
{
    double grace_end = -1;
    for (;;) {
        if (stop_requested && grace_end < 0) {
            grace_end = app_now_ms() + s->o->grace_ms;
            if (s->close_at_stop)
                break; /* plain UDP replies use the listener's socket: freed after the workers */
            secsock_listener_free(*lp); /* new clients are refused from now on */
            *lp = NULL;
            int left = (int)ad->n + workers_wait_idle(w, 0);
            if (left > 0)
                app_log(stdout, "[*] Stopping: waiting up to %d ms for %d client(s)",
                        s->o->grace_ms, left);
        }
        if (grace_end >= 0 && (ad->n == 0 || app_now_ms() >= grace_end))
            break;
        hand_over(s, ad, w);
        int timeout = poll_set(ad, *lp);
        size_t polled = ad->n;
        if (poll(ad->fds, 2 + polled, timeout) < 0 && errno != EINTR)
            app_log(stderr, "[!] poll: %s", strerror(errno));
        step_all(s, ad, polled);
        if (*lp != NULL && ad->fds[0].revents != 0)
            accept_burst(s, ad, *lp);
    }
    for (size_t i = 0; i < ad->n; i++) { /* never served: closed without a word */
        secsock_abort(ad->list[i]->c);
        free(ad->list[i]);
    }
    ad->n = 0;
    return grace_end;
}

/* How many clients may wait in admission: plenty more than workers, as
 * long as descriptors last (the soft limit is raised to the hard one). */
static size_t admission_capacity(const struct app_options *o)
{
    size_t want = (size_t)o->max_clients * 4 < 1024 ? 1024 : (size_t)o->max_clients * 4;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
        size_t fds = rl.rlim_cur == RLIM_INFINITY ? want * 2 : (size_t)rl.rlim_cur;
        size_t room = fds > (size_t)o->max_clients + 64 ? fds - (size_t)o->max_clients - 64 : 16;
        if (want > room)
            want = room;
    }
    return want;
}

/* Workers finish by grace_end; the rest are cut off (streams) or were
 * told to close at the stop signal already (datagram sessions). */
static void drain_workers(struct app_server *s, struct workers *w, double grace_end)
{
    if (workers_wait_idle(w, 0) == 0)
        return;
    if (s->close_at_stop) {
        workers_wait_idle(w, 5000);
        return;
    }
    double left = grace_end - app_now_ms();
    if (workers_wait_idle(w, left > 0 ? (int)left : 0) > 0) {
        if (write(cut_pipe[1], "x", 1) < 0)
            app_log(stderr, "[!] cannot cut clients off: %s", strerror(errno));
        workers_wait_idle(w, 5000);
    }
}

int app_server_run(struct app_server *s)
{
    const struct app_options *o = s->o;
    if (install_signals() != 0) {
        fprintf(stderr, "%s: cannot set up signal handling: %s\n", o->name, strerror(errno));
        return APP_EXIT_FAILURE;
    }
    char err[512];
    secsock_listener *l = NULL;
    int udp = o->program == APP_UDP_SERVER;
    int rc = secsock_listener_new(s->t, o->bind, o->port ? o->port : udp ? "8080" : "9999",
                                  o->backlog, &l, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", o->name, err);
        close_pipes();
        return app_exit_code(rc);
    }
    secsock_listener_set_cancel_fd(l, stop_pipe[0]);
    pthread_mutex_init(&s->lock, NULL);
    struct workers w;
    if (workers_init(&w, o->max_clients, 0, handle_client, s) != 0) {
        fprintf(stderr, "%s: out of memory\n", o->name);
        secsock_listener_free(l);
        close_pipes();
        return APP_EXIT_FAILURE;
    }
    if (secsock_transport_fingerprint(s->t) != NULL)
        app_log(stdout, "[*] Self-signed certificate %s", secsock_transport_fingerprint(s->t));
    app_log(stdout, "[*] Listening on %s%s", secsock_listener_address(l),
            !o->secure ? "" : udp ? " (dtls)" : " (tls)");

    struct admissions ad = { .cap = admission_capacity(o) };
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized so */
    ad.list = calloc(ad.cap, sizeof *ad.list);
    ad.fds = calloc(ad.cap + 2, sizeof *ad.fds);
    double grace_end = app_now_ms();
    if (ad.list == NULL || ad.fds == NULL)
        app_log(stderr, "[!] out of memory");
    else
        grace_end = admission_loop(s, &w, &l, &ad);
    free(ad.list);
    free(ad.fds);
    drain_workers(s, &w, grace_end);
    workers_destroy(&w);
    secsock_listener_free(l); /* datagrams: only now, no worker answers through it any more */
    app_log(stdout, "[*] Stopped: %lu served, %lu failed handshakes, %lu failed", s->served,
            s->failed_handshakes, s->failed);
    pthread_mutex_destroy(&s->lock);
    close_pipes();
    return APP_EXIT_OK;
}

int app_server_main(int argc, char **argv, enum app_program program, app_serve_fn serve,
                    const char *reply_plain, const char *reply_secure)
{
    struct app_options o;
    int rc = app_options_parse(&o, program, argc, argv);
    if (rc >= 0)
        return rc;
    char err[512];
    secsock_transport *t = app_transport(&o, SECSOCK_SERVER, err, sizeof err);
    if (t == NULL) {
        fprintf(stderr, "%s: %s\n", o.name, err);
        return APP_EXIT_USAGE;
    }
    int datagram = program == APP_UDP_SERVER;
    struct app_server s = {
        .o = &o,
        .t = t,
        .serve = serve,
        .reply = o.reply ? o.reply : o.secure ? reply_secure : reply_plain,
        .log_accept = !datagram || o.secure, /* a datagram is just received */
        .close_at_stop = datagram,
    };
    rc = app_server_run(&s);
    secsock_transport_free(t);
    return rc;
}
