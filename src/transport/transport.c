/*
 * The waiting module: every wait of the library (and so every timeout,
 * every cancellation and every DTLS retransmission timer) happens here, in
 * conn_wait() and the loops around it: handshake, connect, accept, read,
 * write, shutdown and close. Backends never wait. The objects themselves
 * (transport, connection base, listener) are made in objects.c.
 */
#include <errno.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "transport/conn.h"
#include "transport/tracing.h"

#define LINGER_MS 500 /* how long a refused client may drain */

int conn_wait(secsock_conn *c, int want_write, long long deadline)
{
    long long left = deadline - net_now_ms();
    if (left <= 0)
        return SECSOCK_ERR_TIMEOUT;
    int timer = c->backend->timer_ms != NULL ? c->backend->timer_ms(c) : -1;
    int tick = timer >= 0 && timer < left ? timer : (int)left;
    int rc = net_wait(c->fd, want_write, c->cancel_fd, tick);
    if (rc == SECSOCK_ERR_TIMEOUT && tick == timer)
        return c->backend->timer_fire(c); /* e.g. retransmit a DTLS flight */
    return rc;
}

/* Drives a non-blocking step function until done, within timeout_ms;
 * a timeout says said_ms (the whole budget, when this is its rest). */
static int drive(secsock_conn *c, int (*step)(secsock_conn *), int timeout_ms, int said_ms,
                 const char *what)
{
    long long deadline = net_now_ms() + timeout_ms;
    for (;;) {
        int rc = step(c);
        if (rc != SECSOCK_WANT_READ && rc != SECSOCK_WANT_WRITE)
            return rc;
        rc = conn_wait(c, rc == SECSOCK_WANT_WRITE, deadline);
        if (rc == SECSOCK_ERR_TIMEOUT)
            return conn_fail(c, rc, "%s timed out after %d ms", what, said_ms);
        if (rc == SECSOCK_ERR_CANCELLED)
            return conn_fail(c, rc, "%s cancelled", what);
        if (rc < 0)
            return rc;
    }
}

static int handshake_for(secsock_conn *c, int timeout_ms, int said_ms)
{
    if (c->handshake_done)
        return 0;
    char what[32] = "handshake";
    if (c->backend->protocol != NULL)
        snprintf(what, sizeof what, "%s handshake", c->backend->protocol);
    int rc = drive(c, c->backend->handshake, timeout_ms, said_ms, what);
    if (rc == 0)
        c->handshake_done = 1;
    if (tracing(c->transport, SECSOCK_TRACE_HANDSHAKE))
        trace_handshake(c);
    return rc;
}

enum secsock_status secsock_handshake(secsock_conn *c, int timeout_ms)
{
    return handshake_for(c, timeout_ms, timeout_ms);
}

enum secsock_status secsock_handshake_nowait(secsock_conn *c)
{
    if (c->handshake_done)
        return 0;
    int rc = c->backend->handshake(c);
    if (rc == 0)
        c->handshake_done = 1;
    if (rc != SECSOCK_WANT_READ && rc != SECSOCK_WANT_WRITE &&
        tracing(c->transport, SECSOCK_TRACE_HANDSHAKE))
        trace_handshake(c);
    return rc;
}

int secsock_conn_timer_ms(secsock_conn *c)
{
    return c->backend->timer_ms != NULL ? c->backend->timer_ms(c) : -1;
}

enum secsock_status secsock_conn_timer_fire(secsock_conn *c)
{
    return c->backend->timer_fire != NULL ? c->backend->timer_fire(c) : 0;
}

int secsock_pending(const secsock_conn *c)
{
    return c->backend->pending != NULL && c->backend->pending(c);
}

/* Drops the addresses opts->exclude names. Returns how many are left. */
static size_t drop_excluded(struct net_addr *addrs, size_t n,
                            const struct secsock_connect_opts *opts)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int excluded = 0;
        for (size_t j = 0; j < opts->n_exclude && !excluded; j++)
            excluded = opts->exclude[j] != NULL && strcmp(opts->exclude[j], addrs[i].text) == 0;
        if (!excluded)
            addrs[kept++] = addrs[i];
    }
    return kept;
}

/* Appends ", ADDR" (the first without the comma) to a list of refusals. */
static void add_refused(char *list, size_t len, const char *addr)
{
    size_t used = strlen(list);
    if (used < len)
        snprintf(list + used, len - used, "%s%s", used > 0 ? ", " : "", addr);
}

/* secsock_connect() with the reason in err: *out is set once a
 * connection exists (a failed handshake's too). */
static int connect_to(const secsock_transport *t, const struct secsock_connect_opts *opts,
                      secsock_conn **out, char *err, size_t errlen)
{
    *out = NULL;
    struct net_addr *addrs = NULL;
    size_t n = 0;
    int rc = net_resolve(opts->host, opts->port, opts->connect_addr, opts->family,
                         t->backend->socktype, &addrs, &n, err, errlen);
    if (rc != 0)
        return rc;
    size_t all = n;
    n = drop_excluded(addrs, n, opts);
    if (n == 0) {
        snprintf(err, errlen, "connection to %s: no address left to try (all %zu excluded)",
                 opts->connect_addr != NULL ? opts->connect_addr : opts->host, all);
        free(addrs);
        return SECSOCK_ERR_CONNECT;
    }
    const struct net_observer obs = { opts->on_attempt, opts->on_attempt_arg };
    const char *name = t->servername != NULL ? t->servername : opts->host;
    long long deadline = net_now_ms() + (opts->timeout_ms > 0 ? opts->timeout_ms : 0);
    char refused[256] = ""; /* DTLS: addresses whose handshake met an ICMP refusal */
    secsock_conn *c = NULL;
    for (size_t from = 0;;) {
        int fd = -1;
        size_t won = 0;
        rc = net_connect_race(opts->host, addrs + from, n - from, t->backend->socktype, deadline,
                              &obs, &fd, &won, err, errlen);
        if (rc != 0) {
            if (refused[0] != '\0') { /* say what came before */
                char later[512];
                snprintf(later, sizeof later, "%s", err);
                snprintf(err, errlen, "connection refused: nothing listens on %s; %s", refused,
                         later);
            }
            break;
        }
        const struct net_addr *a = &addrs[from + won];
        c = conn_wrap(t, fd, name, (const struct sockaddr *)&a->ss, a->len);
        if (c == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = SECSOCK_ERR_NOMEM;
            break;
        }
        c->timeout_ms = opts->timeout_ms;
        if (tracing(t, SECSOCK_TRACE_CONNECT))
            trace_connect(c, opts->host);
        long long left = deadline - net_now_ms();
        rc = handshake_for(c,
                           left <= 0        ? 0
                           : left > INT_MAX ? INT_MAX
                                            : (int)left,
                           opts->timeout_ms);
        if (rc != SECSOCK_ERR_CONNECT || t->backend->socktype != SOCK_DGRAM) {
            if (rc != 0)
                snprintf(err, errlen, "%s", c->error);
            *out = c;
            break;
        }
        /* A datagram refused (ICMP port unreachable) during the DTLS
         * handshake: nothing listens there; the name's next address. */
        if (obs.on_attempt != NULL)
            obs.on_attempt(obs.arg, SECSOCK_ATTEMPT_FAILED, a->text, "connection refused");
        add_refused(refused, sizeof refused, a->text);
        from += won + 1;
        if (from >= n || net_now_ms() >= deadline) {
            if (strchr(refused, ',') != NULL)
                snprintf(err, errlen, "connection refused: nothing listens on %s", refused);
            else
                snprintf(err, errlen, "%s", c->error);
            *out = c; /* as for any failed handshake */
            break;
        }
        secsock_close(c);
        c = NULL;
    }
    free(addrs);
    return rc;
}

enum secsock_status secsock_connect(const secsock_transport *t,
                                    const struct secsock_connect_opts *opts, secsock_conn **out)
{
    char err[sizeof((secsock_conn *)0)->error] = "";
    secsock_conn *c = NULL;
    int rc = connect_to(t, opts, &c, err, sizeof err);
    if (rc != 0 && c == NULL)
        c = conn_unconnected(t); /* the reason's one place: a connection's error */
    *out = c;
    if (c == NULL)
        return SECSOCK_ERR_NOMEM;
    if (rc != 0) /* err names every address tried; c->error only the last */
        snprintf(c->error, sizeof c->error, "%s", err);
    return rc;
}

/* Why this thread's last secsock_accept() failed, and on which listener:
 * a server's loops accept on one listener at once, so an accept's reason
 * cannot live in the listener (l->error is written only while it is made). */
static _Thread_local char accept_error[512];
static _Thread_local const secsock_listener *accept_error_of;

const char *secsock_listener_error(const secsock_listener *l)
{
    if (l->error[0] == '\0' && accept_error_of == l)
        return accept_error;
    return l->error;
}

static int stream_accept(secsock_listener *l, secsock_conn **out, char *err, size_t errlen)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
            return SECSOCK_WANT_READ; /* that client is gone: wait for the next */
        snprintf(err, errlen, "accept: %s", strerror(errno));
        return errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS
                   ? SECSOCK_ERR_NOMEM
                   : SECSOCK_ERR_IO;
    }
    *out = conn_wrap(l->t, fd, NULL, (struct sockaddr *)&peer, len);
    if (*out == NULL) {
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    return 0;
}

enum secsock_status secsock_accept(secsock_listener *l, int timeout_ms, secsock_conn **out)
{
    *out = NULL;
    char *err = accept_error;
    size_t errlen = sizeof accept_error;
    err[0] = '\0';
    accept_error_of = l;
    long long deadline = net_now_ms() + timeout_ms;
    for (;;) {
        int rc = l->t->backend->accept != NULL ? l->t->backend->accept(l, out, err, errlen)
                                               : stream_accept(l, out, err, errlen);
        if (rc == 0 && tracing(l->t, SECSOCK_TRACE_ACCEPT))
            trace_accept(*out);
        if (rc != SECSOCK_WANT_READ)
            return rc;
        long long left = deadline - net_now_ms();
        rc = left <= 0 ? SECSOCK_ERR_TIMEOUT : net_wait(l->fd, 0, l->cancel_fd, (int)left);
        if (rc == SECSOCK_ERR_TIMEOUT)
            snprintf(err, errlen, "timeout: no client within %d ms", timeout_ms);
        else if (rc == SECSOCK_ERR_CANCELLED)
            snprintf(err, errlen, "cancelled");
        if (rc != 0)
            return rc;
    }
}

/* Every byte in or out goes through these two: the session's counters,
 * and what a trace shows as the application's bytes. */
static ssize_t backend_read(secsock_conn *c, void *buf, size_t len)
{
    ssize_t n = c->backend->read(c, buf, len);
    if (n > 0) {
        c->bytes_received += (unsigned long long)n;
        if (tracing(c->transport, SECSOCK_TRACE_DATA))
            trace_data(c, 0, buf, (size_t)n);
    }
    return n;
}

static ssize_t backend_write(secsock_conn *c, const void *buf, size_t len)
{
    ssize_t n = c->backend->write(c, buf, len);
    if (n > 0) {
        c->bytes_sent += (unsigned long long)n;
        if (tracing(c->transport, SECSOCK_TRACE_DATA))
            trace_data(c, 1, buf, (size_t)n);
    }
    return n;
}

ssize_t secsock_read_nowait(secsock_conn *c, void *buf, size_t len)
{
    return backend_read(c, buf, len);
}

ssize_t secsock_peek_nowait(secsock_conn *c, void *buf, size_t len)
{
    return c->backend->peek(c, buf, len);
}

ssize_t secsock_write_nowait(secsock_conn *c, const void *buf, size_t len)
{
    return backend_write(c, buf, len);
}

/* Whether the cancel descriptor has fired, looked at no more than every
 * 50 ms: a peer that keeps data coming never makes a read or write wait,
 * and so would never see a cancellation (a server's end of grace)
 * otherwise. */
static int cancelled_meanwhile(secsock_conn *c)
{
    if (c->cancel_fd < 0)
        return 0;
    long long now = net_now_ms();
    if (now < c->next_cancel_check_ms)
        return 0;
    c->next_cancel_check_ms = now + 50;
    struct pollfd p = { .fd = c->cancel_fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

static int wait_failed(secsock_conn *c, int rc, const char *what)
{
    if (rc == SECSOCK_ERR_TIMEOUT)
        return conn_fail(c, rc, "timeout: %s for %d ms", what, c->timeout_ms);
    if (rc == SECSOCK_ERR_CANCELLED)
        return conn_fail(c, rc, "cancelled");
    return rc;
}

ssize_t secsock_read(secsock_conn *c, void *buf, size_t len)
{
    long long deadline = net_now_ms() + c->timeout_ms;
    if (cancelled_meanwhile(c))
        return wait_failed(c, SECSOCK_ERR_CANCELLED, "");
    for (;;) {
        ssize_t n = backend_read(c, buf, len);
        if (n != SECSOCK_WANT_READ && n != SECSOCK_WANT_WRITE)
            return n;
        int rc = conn_wait(c, n == SECSOCK_WANT_WRITE, deadline);
        if (rc != 0)
            return wait_failed(c, rc, "no data from the peer");
    }
}

enum secsock_status secsock_write_all(secsock_conn *c, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    long long deadline = net_now_ms() + c->timeout_ms;
    if (cancelled_meanwhile(c))
        return wait_failed(c, SECSOCK_ERR_CANCELLED, "");
    while (len > 0) {
        ssize_t n = backend_write(c, p, len);
        if (n == SECSOCK_WANT_READ || n == SECSOCK_WANT_WRITE) {
            int rc = conn_wait(c, n == SECSOCK_WANT_WRITE, deadline);
            if (rc != 0)
                return wait_failed(c, rc, "the peer accepted no data");
            continue;
        }
        if (n < 0)
            return (int)n;
        p += n;
        len -= (size_t)n;
        deadline = net_now_ms() + c->timeout_ms; /* progress: the timeout is per wait */
    }
    return 0;
}

enum secsock_status secsock_shutdown_write(secsock_conn *c)
{
    if (c->wrote_shutdown)
        return 0;
    int rc = drive(c, c->backend->shutdown_write, c->timeout_ms, c->timeout_ms, "shutdown");
    if (rc == 0)
        c->wrote_shutdown = 1;
    return rc;
}

/* Whether closing c's socket now makes the kernel reset the connection
 * (RFC 2525 2.17): bytes from the peer are still unread. */
static int close_resets(const secsock_conn *c)
{
    int unread = 0;
    return c->owns_fd && c->backend->socktype == SOCK_STREAM &&
           ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0;
}

static void conn_destroy(secsock_conn *c, int reset)
{
    if (tracing(c->transport, SECSOCK_TRACE_CLOSE))
        trace_close(c, reset || close_resets(c));
    for (int i = 0; i < c->n_peer_certs; i++)
        security_cert_text_free(&c->peer_certs[i]);
    free(c->peer_certs);
    free(c->session);
    free(c->ech);
    int fd = c->owns_fd ? c->fd : -1;
    hello_capture_free(&c->hello);
    c->backend->conn_free(c);
    if (fd >= 0)
        close(fd);
}

static int needs_linger(const secsock_conn *c)
{
    return !c->handshake_done && c->owns_fd && c->backend->linger_on_refusal &&
           c->transport->role == SECSOCK_SERVER;
}

/* After a refused TLS handshake the client may still be sending (TLS 1.3
 * clients write right after their Finished). Closing with its bytes unread
 * would make the kernel send a reset that can overtake our alert, so we say
 * we are done and read and drop what comes, for a moment. */
int secsock_linger_nowait(secsock_conn *c)
{
    if (!needs_linger(c))
        return 0;
    if (!c->lingering) {
        c->lingering = 1;
        if (shutdown(c->fd, SHUT_WR) < 0)
            return 0;
        if (tracing(c->transport, SECSOCK_TRACE_END))
            trace_end(c, 1, 0);
    }
    unsigned char scrap[4096];
    for (;;) {
        ssize_t n = recv(c->fd, scrap, sizeof scrap, MSG_DONTWAIT);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        int waiting = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (!waiting && tracing(c->transport, SECSOCK_TRACE_END))
            trace_end(c, 0, n < 0 && errno == ECONNRESET);
        return waiting; /* else the peer is gone */
    }
}

static void linger_after_failed_handshake(secsock_conn *c)
{
    long long deadline = net_now_ms() + LINGER_MS;
    while (secsock_linger_nowait(c)) {
        long long left = deadline - net_now_ms();
        if (left <= 0 || net_wait(c->fd, 0, c->cancel_fd, (int)left) != 0)
            return;
    }
}

void secsock_close(secsock_conn *c)
{
    if (c == NULL)
        return;
    if (needs_linger(c) && !c->lingering)
        linger_after_failed_handshake(c);
    /* A polite close: say we are done (close_notify), but don't wait long
     * for a peer that stopped reading. */
    if (c->handshake_done && !c->wrote_shutdown) {
        int saved = c->timeout_ms;
        c->timeout_ms = saved < 1000 ? saved : 1000;
        c->cancel_fd = -1; /* a cancelled connection still says goodbye */
        (void)secsock_shutdown_write(c);
        c->timeout_ms = saved;
    }
    conn_destroy(c, 0);
}

void secsock_abort(secsock_conn *c)
{
    if (c == NULL)
        return;
    if (c->owns_fd && c->backend->socktype == SOCK_STREAM) {
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    conn_destroy(c, c->owns_fd && c->backend->socktype == SOCK_STREAM);
}
