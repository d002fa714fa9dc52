/*
 * tcp-server: the seed's threaded TCP server made real. The accept loop
 * hands each client to a bounded pool of worker threads; the TLS handshake
 * and everything after it run in the worker, never in the accept loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "options.h"
#include "report.h"
#include "secsock/transport.h"
#include "term.h"
#include "workers.h"

#define REQUEST_MAX 4096    /* the seed's recv(4096) */
#define HTTP_HEAD_MAX 16384

struct client {
    struct client *prev, *next; /* in server.clients while served */
    int fd;
    atomic_int cut;             /* the grace period ran out: reset, don't close */
    struct sockaddr_storage peer;
    socklen_t peer_len;
};

struct server {
    const struct app_options *o;
    const secsock_transport *t;
    const char *reply;
    pthread_mutex_t lock;       /* guards clients and the counters */
    struct client *clients;
    unsigned long served, failed_handshakes, failed;
};

static volatile sig_atomic_t stop_requested;
static int signal_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    stop_requested = 1;
    if (write(signal_pipe[1], "x", 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved;
}

static int install_signals(void)
{
    if (pipe(signal_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(signal_pipe[i], F_SETFL, O_NONBLOCK);
        fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void count(struct server *s, unsigned long *counter)
{
    pthread_mutex_lock(&s->lock);
    (*counter)++;
    pthread_mutex_unlock(&s->lock);
}

static void log_received(const char *what, const unsigned char *data, size_t len)
{
    char *escaped = malloc(4 * len + 1);
    if (escaped == NULL)
        return;
    term_escape_line(data, len, escaped);
    app_log(stdout, "[*] %s: %s", what, escaped);
    free(escaped);
}

/* The seed's behaviour: one read, print it, one reply. */
static int serve_once(struct server *s, secsock_conn *c)
{
    unsigned char buf[REQUEST_MAX];
    ssize_t n = secsock_read(c, buf, sizeof buf);
    if (n < 0)
        return (int)n;
    if (n == 0) {
        app_log(stdout, "[*] %s closed without sending anything", secsock_conn_peer(c));
        return 0;
    }
    log_received("Received", buf, (size_t)n);
    return secsock_write_all(c, s->reply, strlen(s->reply));
}

/* --echo: everything back, until the client half-closes. */
static int serve_echo(secsock_conn *c)
{
    unsigned char buf[16384];
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = secsock_read(c, buf, sizeof buf);
        if (n <= 0) {
            if (n == 0)
                app_log(stdout, "[*] %s: echoed %llu bytes", secsock_conn_peer(c), total);
            return (int)n;
        }
        int rc = secsock_write_all(c, buf, (size_t)n);
        if (rc != 0)
            return rc;
        total += (unsigned long long)n;
    }
}

/* --http: read the request head, answer 200 with the reply text. */
static int serve_http(struct server *s, secsock_conn *c)
{
    char *head = malloc(HTTP_HEAD_MAX);
    if (head == NULL)
        return SECSOCK_ERR_NOMEM;
    size_t len = 0;
    int rc = 0;
    while (rc == 0) {
        ssize_t n = secsock_read(c, head + len, HTTP_HEAD_MAX - len);
        if (n <= 0) {
            rc = n == 0 && len == 0 ? 1 : (n == 0 ? SECSOCK_ERR_PROTOCOL : (int)n);
            break;
        }
        len += (size_t)n;
        if (memmem(head, len, "\r\n\r\n", 4) != NULL || memmem(head, len, "\n\n", 2) != NULL)
            break;
        if (len == HTTP_HEAD_MAX) {
            static const char too_big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                          "Content-Length: 0\r\nConnection: close\r\n\r\n";
            (void)secsock_write_all(c, too_big, sizeof too_big - 1);
            rc = SECSOCK_ERR_PROTOCOL;
        }
    }
    if (rc == 0) {
        char *eol = memchr(head, '\n', len);
        size_t line = eol ? (size_t)(eol - head) : len;
        if (line > 0 && head[line - 1] == '\r')
            line--;
        log_received("Received", (unsigned char *)head, line);
        size_t body = strlen(s->reply) + 1;
        char top[160];
        int tl = snprintf(top, sizeof top,
                          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n", body);
        rc = secsock_write_all(c, top, (size_t)tl);
        if (rc == 0)
            rc = secsock_write_all(c, s->reply, body - 1);
        if (rc == 0)
            rc = secsock_write_all(c, "\n", 1);
    }
    if (rc == SECSOCK_ERR_PROTOCOL)
        app_log(stdout, "[!] %s: incomplete or oversized HTTP request", secsock_conn_peer(c));
    free(head);
    return rc == 1 || rc == SECSOCK_ERR_PROTOCOL ? 0 : rc;
}

static void client_unlink(struct server *s, struct client *cl)
{
    pthread_mutex_lock(&s->lock);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        s->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    pthread_mutex_unlock(&s->lock);
}

static void handle_client(void *ctx, void *item)
{
    struct server *s = ctx;
    struct client *cl = item;
    const struct app_options *o = s->o;
    secsock_conn *c =
        secsock_conn_from_fd(s->t, cl->fd, (struct sockaddr *)&cl->peer, cl->peer_len);
    if (c == NULL) {
        app_log(stderr, "[!] out of memory for a client");
        client_unlink(s, cl);
        free(cl);
        return;
    }
    app_log(stdout, "[*] Accepted connection from %s", secsock_conn_peer(c));
    int rc = secsock_handshake(c, o->handshake_timeout_ms);
    if (rc != 0) {
        app_log(stdout, "[!] %s: %s", secsock_conn_peer(c), secsock_conn_error(c));
        count(s, &s->failed_handshakes);
    } else {
        if (o->verbose)
            app_print_session(stdout, "[*]   ", c);
        secsock_conn_set_timeout(c, o->timeout_ms);
        rc = o->echo ? serve_echo(c) : o->http ? serve_http(s, c) : serve_once(s, c);
        if (rc != 0)
            app_log(stdout, "[!] %s: %s", secsock_conn_peer(c), secsock_conn_error(c));
        count(s, rc == 0 ? &s->served : &s->failed);
    }
    client_unlink(s, cl); /* from here on nobody else touches cl->fd */
    if (atomic_load(&cl->cut))
        secsock_abort(c);
    else
        secsock_close(c);
    free(cl);
}

/* Accepts until a stop signal. Waits for a free worker before accepting,
 * so clients beyond --max-clients wait in the listen backlog. */
static void accept_loop(struct server *s, struct workers *w, int lfd)
{
    while (!stop_requested) {
        if (!workers_wait_slot(w, 200))
            continue;
        struct pollfd fds[2] = { { .fd = lfd, .events = POLLIN },
                                 { .fd = signal_pipe[0], .events = POLLIN } };
        if (poll(fds, 2, -1) < 0 || fds[1].revents)
            continue;
        struct client *cl = calloc(1, sizeof *cl);
        if (cl == NULL) {
            app_log(stderr, "[!] out of memory: not accepting for now");
            poll(NULL, 0, 100);
            continue;
        }
        cl->peer_len = sizeof cl->peer;
        cl->fd = accept4(lfd, (struct sockaddr *)&cl->peer, &cl->peer_len, SOCK_CLOEXEC);
        if (cl->fd < 0) {
            int e = errno;
            free(cl);
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                app_log(stderr, "[!] accept: %s: waiting", strerror(e));
                poll(NULL, 0, 100);
            }
            continue; /* EINTR, ECONNABORTED, ...: the next one */
        }
        pthread_mutex_lock(&s->lock);
        cl->next = s->clients;
        if (s->clients)
            s->clients->prev = cl;
        s->clients = cl;
        pthread_mutex_unlock(&s->lock);
        if (workers_submit(w, cl) != 0) {
            app_log(stderr, "[!] cannot start a worker thread: dropping a client");
            client_unlink(s, cl);
            close(cl->fd);
            free(cl);
        }
    }
}

/* Clients still running after the grace period are cut off: their sockets
 * are shut down so blocked workers wake, and reset so the peer sees an error. */
static void cut_clients(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    for (struct client *cl = s->clients; cl != NULL; cl = cl->next) {
        atomic_store(&cl->cut, 1);
        shutdown(cl->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&s->lock);
}

static int serve(const struct app_options *o, const secsock_transport *t)
{
    char err[512], bound[64];
    int lfd = -1;
    int rc = secsock_listen(t, o->bind, o->port ? o->port : "9999", o->backlog, &lfd, bound,
                            sizeof bound, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", o->name, err);
        return app_exit_code(rc);
    }
    struct server s = { .o = o, .t = t };
    s.reply = o->reply ? o->reply
                       : o->secure ? "tcp-server over TLS is working"
                                   : "tcp-server over TCP is working";
    pthread_mutex_init(&s.lock, NULL);
    struct workers w;
    if (workers_init(&w, o->max_clients, 0, handle_client, &s) != 0) {
        fprintf(stderr, "%s: out of memory\n", o->name);
        close(lfd);
        return APP_EXIT_FAILURE;
    }
    if (secsock_transport_fingerprint(t) != NULL)
        app_log(stdout, "[*] Self-signed certificate %s", secsock_transport_fingerprint(t));
    app_log(stdout, "[*] Listening on %s%s", bound, o->secure ? " (tls)" : "");

    accept_loop(&s, &w, lfd);
    close(lfd); /* new clients are refused from now on */
    int left = workers_wait_idle(&w, 0);
    if (left > 0) {
        app_log(stdout, "[*] Stopping: waiting up to %d ms for %d client(s)", o->grace_ms, left);
        if (workers_wait_idle(&w, o->grace_ms) > 0) {
            cut_clients(&s);
            workers_wait_idle(&w, 5000);
        }
    }
    workers_destroy(&w);
    app_log(stdout, "[*] Stopped: %lu served, %lu failed handshakes, %lu failed", s.served,
            s.failed_handshakes, s.failed);
    pthread_mutex_destroy(&s.lock);
    return APP_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct app_options o;
    int rc = app_options_parse(&o, APP_TCP_SERVER, argc, argv);
    if (rc >= 0)
        return rc;
    if (install_signals() != 0) {
        fprintf(stderr, "%s: cannot set up signal handling: %s\n", o.name, strerror(errno));
        return APP_EXIT_FAILURE;
    }
    char err[512];
    secsock_config *cfg = app_security_config(&o, err, sizeof err);
    if (cfg == NULL) {
        fprintf(stderr, "%s: %s\n", o.name, err);
        return APP_EXIT_USAGE;
    }
    secsock_transport *t =
        secsock_transport_new(o.secure ? "tls" : "tcp", SECSOCK_SERVER, cfg, err, sizeof err);
    secsock_config_free(cfg);
    if (t == NULL) {
        fprintf(stderr, "%s: %s\n", o.name, err);
        return APP_EXIT_USAGE;
    }
    rc = serve(&o, t);
    secsock_transport_free(t);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    return rc;
}
