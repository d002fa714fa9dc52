/*
 * Backend lookup and the thin wrappers callers use. Backends never wait;
 * every wait (and so every timeout) happens here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "security/security_internal.h"
#include "transport/conn.h"

static const struct secsock_backend *const backends[] = {
    &secsock_backend_tcp,
    &secsock_backend_tls,
};

const char *secsock_status_name(int status)
{
    switch (status) {
    case SECSOCK_OK: return "ok";
    case SECSOCK_ERR_IO: return "i/o error";
    case SECSOCK_ERR_RESOLVE: return "name resolution failed";
    case SECSOCK_ERR_CONNECT: return "connection failed";
    case SECSOCK_ERR_HANDSHAKE: return "handshake failed";
    case SECSOCK_ERR_VERIFY: return "certificate verification failed";
    case SECSOCK_ERR_TIMEOUT: return "timeout";
    case SECSOCK_ERR_TRUNCATED: return "truncated";
    case SECSOCK_ERR_CONFIG: return "configuration error";
    case SECSOCK_ERR_PROTOCOL: return "protocol error";
    case SECSOCK_WANT_READ: return "want read";
    case SECSOCK_WANT_WRITE: return "want write";
    case SECSOCK_ERR_NOMEM: return "out of memory";
    default: return "unknown error";
    }
}

int conn_fail(secsock_conn *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return status;
}

void conn_base_init(secsock_conn *c, const struct secsock_backend *backend,
                    const secsock_transport *t, int fd)
{
    c->backend = backend;
    c->transport = t;
    c->fd = fd;
    c->timeout_ms = 10000;
}

secsock_transport *secsock_transport_new(const char *backend, enum secsock_role role,
                                         const secsock_config *cfg, char *err, size_t errlen)
{
    const struct secsock_backend *b = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i]->name, backend) == 0)
            b = backends[i];
    if (b == NULL) {
        snprintf(err, errlen, "unknown transport '%s'", backend);
        return NULL;
    }
    secsock_transport *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->backend = b;
    t->role = role;
    t->verify_peer = 1;
    if (b->transport_init != NULL && b->transport_init(t, cfg, err, errlen) != 0) {
        secsock_transport_free(t);
        return NULL;
    }
    return t;
}

void secsock_transport_free(secsock_transport *t)
{
    if (t == NULL)
        return;
    if (t->backend->transport_free != NULL)
        t->backend->transport_free(t);
    free(t);
}

const char *secsock_transport_name(const secsock_transport *t) { return t->backend->name; }
int secsock_transport_is_secure(const secsock_transport *t) { return t->backend->secure; }

const char *secsock_transport_fingerprint(const secsock_transport *t)
{
    return t->sec.fingerprint[0] != '\0' ? t->sec.fingerprint : NULL;
}

static secsock_conn *conn_wrap(const secsock_transport *t, int fd, const char *verify_name,
                               const struct sockaddr *peer, socklen_t peerlen)
{
    secsock_conn *c = t->backend->conn_new(t, fd, verify_name);
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    if (peer != NULL && peerlen <= sizeof c->peer) {
        memcpy(&c->peer, peer, peerlen);
        c->peer_len = peerlen;
        net_format_addr(peer, peerlen, c->peer_text, sizeof c->peer_text);
    }
    if (t->backend->socktype == SOCK_STREAM) {
        int one = 1; /* requests and replies are small: don't let Nagle delay them */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return c;
}

/* Drives a non-blocking step function until done, waiting up to timeout_ms
 * in total for the socket. */
static int drive(secsock_conn *c, int (*step)(secsock_conn *), int timeout_ms,
                 const char *what)
{
    long long deadline = net_now_ms() + timeout_ms;
    for (;;) {
        int rc = step(c);
        if (rc != SECSOCK_WANT_READ && rc != SECSOCK_WANT_WRITE)
            return rc;
        long long left = deadline - net_now_ms();
        if (left <= 0 || net_wait(c->fd, rc == SECSOCK_WANT_WRITE, (int)left) != 0)
            return conn_fail(c, SECSOCK_ERR_TIMEOUT, "%s timed out after %d ms", what,
                             timeout_ms);
    }
}

int secsock_handshake(secsock_conn *c, int timeout_ms)
{
    if (c->handshake_done)
        return 0;
    int rc = drive(c, c->backend->handshake, timeout_ms,
                   c->backend->secure ? "TLS handshake" : "handshake");
    if (rc == 0)
        c->handshake_done = 1;
    return rc;
}

int secsock_connect(const secsock_transport *t, const struct secsock_connect_opts *opts,
                    secsock_conn **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = -1;
    struct sockaddr_storage peer;
    socklen_t peer_len = 0;
    int rc = net_connect(opts->host, opts->port, opts->connect_addr, opts->family,
                         t->backend->socktype, opts->timeout_ms, &fd, &peer, &peer_len, err,
                         errlen);
    if (rc != 0)
        return rc;
    const char *name = t->servername != NULL ? t->servername : opts->host;
    secsock_conn *c = conn_wrap(t, fd, name, (struct sockaddr *)&peer, peer_len);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    c->timeout_ms = opts->timeout_ms;
    *out = c;
    rc = secsock_handshake(c, opts->timeout_ms);
    if (rc != 0)
        snprintf(err, errlen, "%s", c->error);
    return rc;
}

int secsock_listen(const secsock_transport *t, const char *bind_addr, const char *port,
                   int backlog, int *listen_fd, char *bound, size_t boundlen, char *err,
                   size_t errlen)
{
    return net_listen(bind_addr, port, t->backend->socktype, backlog, listen_fd, bound,
                      boundlen, err, errlen);
}

secsock_conn *secsock_conn_from_fd(const secsock_transport *t, int fd,
                                   const struct sockaddr *peer, socklen_t peerlen)
{
    if (net_set_nonblocking(fd) < 0) {
        close(fd);
        return NULL;
    }
    return conn_wrap(t, fd, NULL, peer, peerlen);
}

ssize_t secsock_read_nowait(secsock_conn *c, void *buf, size_t len)
{
    return c->backend->read(c, buf, len);
}

ssize_t secsock_write_nowait(secsock_conn *c, const void *buf, size_t len)
{
    return c->backend->write(c, buf, len);
}

ssize_t secsock_read(secsock_conn *c, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = c->backend->read(c, buf, len);
        if (n != SECSOCK_WANT_READ && n != SECSOCK_WANT_WRITE)
            return n;
        if (net_wait(c->fd, n == SECSOCK_WANT_WRITE, c->timeout_ms) != 0)
            return conn_fail(c, SECSOCK_ERR_TIMEOUT, "timeout: no data from the peer for %d ms",
                             c->timeout_ms);
    }
}

int secsock_write_all(secsock_conn *c, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = c->backend->write(c, p, len);
        if (n == SECSOCK_WANT_READ || n == SECSOCK_WANT_WRITE) {
            if (net_wait(c->fd, n == SECSOCK_WANT_WRITE, c->timeout_ms) != 0)
                return conn_fail(c, SECSOCK_ERR_TIMEOUT,
                                 "timeout: the peer accepted no data for %d ms", c->timeout_ms);
            continue;
        }
        if (n < 0)
            return (int)n;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int secsock_conn_fd(const secsock_conn *c) { return c->fd; }

int secsock_shutdown_write(secsock_conn *c)
{
    if (c->wrote_shutdown)
        return 0;
    int rc = drive(c, c->backend->shutdown_write, c->timeout_ms, "shutdown");
    if (rc == 0)
        c->wrote_shutdown = 1;
    return rc;
}

static void conn_destroy(secsock_conn *c)
{
    int fd = c->fd;
    c->backend->conn_free(c);
    if (fd >= 0)
        close(fd);
}

void secsock_close(secsock_conn *c)
{
    if (c == NULL)
        return;
    /* A polite close: say we are done (close_notify), but don't wait long
     * for a peer that stopped reading. */
    if (c->handshake_done && !c->wrote_shutdown) {
        int saved = c->timeout_ms;
        c->timeout_ms = saved < 1000 ? saved : 1000;
        (void)secsock_shutdown_write(c);
        c->timeout_ms = saved;
    }
    conn_destroy(c);
}

void secsock_abort(secsock_conn *c)
{
    if (c == NULL)
        return;
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn_destroy(c);
}

void secsock_conn_set_timeout(secsock_conn *c, int timeout_ms) { c->timeout_ms = timeout_ms; }
const char *secsock_conn_error(const secsock_conn *c) { return c->error; }
const char *secsock_conn_peer(const secsock_conn *c) { return c->peer_text; }

int secsock_session_info(const secsock_conn *c, struct secsock_session_info *info)
{
    memset(info, 0, sizeof *info);
    info->secure = c->backend->secure;
    if (c->backend->session_info != NULL)
        c->backend->session_info(c, info);
    return 0;
}
