#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    signal(SIGPIPE, SIG_IGN);
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

/* A worker: the handshake, the program's service, the close. */
static void handle_client(void *ctx, void *item)
{
    struct app_server *s = ctx;
    secsock_conn *c = item;
    const struct app_options *o = s->o;
    int cancel_fd = s->close_at_stop ? stop_pipe[0] : cut_pipe[0];
    secsock_conn_set_cancel_fd(c, cancel_fd);
    if (s->log_accept)
        app_log(stdout, "[*] Accepted connection from %s", secsock_conn_peer(c));
    struct json_session js = { .program = o->name, .t = s->t, .c = c, .handshake_ms = -1 };
    double start = app_now_ms();
    int rc = secsock_handshake(c, o->handshake_timeout_ms);
    if (rc == 0)
        js.handshake_ms = app_now_ms() - start;
    if (rc != 0) {
        app_log(stdout, "[!] %s: %s", secsock_conn_peer(c), secsock_conn_error(c));
        count(s, &s->failed_handshakes);
    } else {
        if (o->verbose)
            app_print_session(stdout, "[*]   ", c);
        secsock_conn_set_timeout(c, o->timeout_ms);
        rc = s->serve(s, c);
        if (rc == SECSOCK_ERR_CANCELLED && s->close_at_stop)
            rc = 0; /* stopping: a polite end, not a failure */
        if (rc != 0)
            app_log(stdout, "[!] %s: %s", secsock_conn_peer(c), secsock_conn_error(c));
        count(s, rc == 0 ? &s->served : &s->failed);
    }
    if (o->json) {
        js.total_ms = app_now_ms() - start;
        js.status = rc, js.error = secsock_conn_error(c);
        json_write_session(stderr, &js);
    }
    if (rc == SECSOCK_ERR_CANCELLED)
        secsock_abort(c); /* cut off at the end of the grace period: an error, not an end */
    else
        secsock_close(c);
}

/* Accepts until a stop signal. Waits for a free worker before accepting,
 * so clients beyond --max-clients wait in the kernel's backlog. */
static void accept_loop(struct workers *w, secsock_listener *l)
{
    char err[256];
    while (!stop_requested) {
        if (!workers_wait_slot(w, 200))
            continue;
        secsock_conn *c = NULL;
        int rc = secsock_accept(l, 1000, &c, err, sizeof err);
        if (rc == SECSOCK_ERR_TIMEOUT || rc == SECSOCK_ERR_CANCELLED)
            continue;
        if (rc != 0) {
            app_log(stdout, "[!] %s", err);
            if (rc == SECSOCK_ERR_NOMEM)
                poll(NULL, 0, 100); /* out of descriptors or memory: let workers finish */
            continue;
        }
        if (workers_submit(w, c) != 0) {
            app_log(stdout, "[!] %s: cannot start a worker thread", secsock_conn_peer(c));
            secsock_abort(c);
        }
    }
}

static void drain_workers(struct app_server *s, struct workers *w)
{
    int left = workers_wait_idle(w, 0);
    if (left == 0)
        return;
    if (s->close_at_stop) {
        workers_wait_idle(w, 5000); /* sessions were told to close already */
        return;
    }
    app_log(stdout, "[*] Stopping: waiting up to %d ms for %d client(s)", s->o->grace_ms, left);
    if (workers_wait_idle(w, s->o->grace_ms) > 0) {
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

    accept_loop(&w, l);
    secsock_listener_free(l); /* new clients are refused from now on */
    drain_workers(s, &w);
    workers_destroy(&w);
    app_log(stdout, "[*] Stopped: %lu served, %lu failed handshakes, %lu failed", s->served,
            s->failed_handshakes, s->failed);
    pthread_mutex_destroy(&s->lock);
    close_pipes();
    return APP_EXIT_OK;
}
