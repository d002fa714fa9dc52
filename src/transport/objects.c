/*
 * The objects of the API and how they are made and taken apart: the
 * backend table and secsock_transport, a connection's base (conn_base_init,
 * conn_wrap) and its accessors, the listener and its accessors. Apart
 * from transport.c, the waiting module: nothing here waits, so all a
 * reader looking for a timeout or a poll needs is in one file.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "transport/conn.h"
#include "transport/ossl_conn.h"
#include "transport/testing.h"
#include "transport/tracing.h"

#define IPV4_UDP_HEADERS 28   /* what a datagram loses of the path MTU */
#define UDP_MAX_PAYLOAD 65527 /* one UDP datagram's payload over IPv6 */

static const struct secsock_backend *const backends[] = {
    &secsock_backend_tcp,
    &secsock_backend_tls,
    &secsock_backend_udp,
    &secsock_backend_dtls,
};

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
    c->owns_fd = 1;
    c->cancel_fd = -1;
    c->timeout_ms = 10000;
}

/* "out of memory" is the one reason that is not the caller's to fix. */
static enum secsock_status status_of(const char *why, enum secsock_status otherwise)
{
    return strcmp(why, "out of memory") == 0 ? SECSOCK_ERR_NOMEM : otherwise;
}

enum secsock_status secsock_transport_new(const char *backend, enum secsock_role role,
                                          const secsock_config *cfg, secsock_transport **out)
{
    secsock_transport *t = calloc(1, sizeof *t);
    *out = t;
    if (t == NULL)
        return SECSOCK_ERR_NOMEM;
    const struct secsock_backend *b = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i]->name, backend) == 0)
            b = backends[i];
    if (b == NULL) {
        snprintf(t->error, sizeof t->error, "unknown transport '%s'", backend);
        return SECSOCK_ERR_CONFIG;
    }
    t->role = role;
    if (b->transport_init != NULL && b->transport_init(t, cfg, t->error, sizeof t->error) != 0) {
        /* Undone at once: what is left is a failed transport, its error
         * (t->backend stays NULL, so freeing it undoes nothing twice). */
        if (b->transport_free != NULL)
            b->transport_free(t);
        return status_of(t->error, SECSOCK_ERR_CONFIG);
    }
    t->backend = b;
    return SECSOCK_OK;
}

void secsock_transport_free(secsock_transport *t)
{
    if (t == NULL)
        return;
    if (t->backend != NULL && t->backend->transport_free != NULL)
        t->backend->transport_free(t);
    free(t);
}

const char *secsock_transport_error(const secsock_transport *t)
{
    return t->error;
}
const char *secsock_transport_name(const secsock_transport *t)
{
    return t->backend->name;
}
int secsock_transport_is_secure(const secsock_transport *t)
{
    return t->backend->secure;
}

size_t secsock_transport_max_message(const secsock_transport *t)
{
    const struct secsock_backend *b = t->backend;
    if (b->socktype != SOCK_DGRAM)
        return 0;
    /* Records sized to the path MTU lose the IPv4 and UDP headers and the
     * record's own overhead from it (exact for DTLS's default suites over
     * IPv4); a bare datagram may be as large as UDP carries. */
    return b->record_overhead > 0 ? (size_t)t->mtu - IPV4_UDP_HEADERS - b->record_overhead
                                  : UDP_MAX_PAYLOAD;
}

void secsock_transport_set_trace(secsock_transport *t, unsigned kinds, secsock_trace_fn fn,
                                 void *arg)
{
    t->trace_kinds = fn != NULL ? kinds : 0;
    t->trace_fn = fn;
    t->trace_arg = arg;
    /* OpenSSL hands out secrets only to a context's key-log callback: set
     * while anyone wants them (it costs a formatted line per secret). */
    if (t->ssl_ctx != NULL)
        SSL_CTX_set_keylog_callback(
            t->ssl_ctx, t->keylog || tracing(t, SECSOCK_TRACE_SECRET) ? ossl_keylog_line : NULL);
}

const char *secsock_transport_fingerprint(const secsock_transport *t)
{
    return t->sec.fingerprint[0] != '\0' ? t->sec.fingerprint : NULL;
}

const char *secsock_transport_spki_pin(const secsock_transport *t)
{
    return t->sec.spki_pin[0] != '\0' ? t->sec.spki_pin : NULL;
}

const char *secsock_transport_cert_pem(const secsock_transport *t)
{
    return t->sec.cert_pem;
}

const char *secsock_transport_ech_config_list(const secsock_transport *t)
{
    return t->backend->secure ? t->sec.ech.config_list : NULL;
}

const char *secsock_transport_ech_public_name(const secsock_transport *t)
{
    return t->backend->secure ? t->sec.ech.public_name : NULL;
}

secsock_conn *conn_wrap(const secsock_transport *t, int fd, const char *verify_name,
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

int secsock_listen(const secsock_transport *t, const char *bind_addr, const char *port, int backlog,
                   int *listen_fd, char *bound, size_t boundlen, char *err, size_t errlen)
{
    return net_listen(bind_addr, port, t->backend->socktype, backlog, listen_fd, bound, boundlen,
                      err, errlen);
}

secsock_conn *secsock_conn_from_fd(const secsock_transport *t, int fd, const struct sockaddr *peer,
                                   socklen_t peerlen)
{
    if (net_set_nonblocking(fd) < 0) {
        close(fd);
        return NULL;
    }
    return conn_wrap(t, fd, NULL, peer, peerlen);
}

enum secsock_status secsock_listener_new(const secsock_transport *t, const char *bind_addr,
                                         const char *port, int backlog, secsock_listener **out)
{
    secsock_listener *l = calloc(1, sizeof *l);
    *out = l;
    if (l == NULL)
        return SECSOCK_ERR_NOMEM;
    l->t = t;
    l->fd = -1;
    l->cancel_fd = -1;
    int rc = net_listen(bind_addr, port, t->backend->socktype, backlog, &l->fd, l->address,
                        sizeof l->address, l->error, sizeof l->error);
    if (rc != 0) {
        l->fd = -1;
        return rc;
    }
    l->local_len = sizeof l->local;
    if (getsockname(l->fd, (struct sockaddr *)&l->local, &l->local_len) < 0 ||
        net_set_nonblocking(l->fd) < 0 ||
        (t->backend->listener_init != NULL &&
         t->backend->listener_init(l, l->error, sizeof l->error) != 0)) {
        if (l->error[0] == '\0')
            snprintf(l->error, sizeof l->error, "cannot set up %s: %s", l->address,
                     strerror(errno));
        close(l->fd); /* a failed listener holds no port */
        l->fd = -1;
        return status_of(l->error, SECSOCK_ERR_IO);
    }
    return SECSOCK_OK;
}

const char *secsock_listener_address(const secsock_listener *l)
{
    return l->address;
}
int secsock_listener_fd(const secsock_listener *l)
{
    return l->fd;
}
void secsock_listener_set_cancel_fd(secsock_listener *l, int fd)
{
    l->cancel_fd = fd;
}

void secsock_listener_free(secsock_listener *l)
{
    if (l == NULL)
        return;
    if (l->t->backend->listener_free != NULL)
        l->t->backend->listener_free(l); /* its state, NULL when it failed before */
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}

int secsock_conn_fd(const secsock_conn *c)
{
    return c->fd;
}
int secsock_conn_plaintext_peer(const secsock_conn *c)
{
    return c->plaintext_peer;
}

void secsock_conn_set_timeout(secsock_conn *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}
void secsock_conn_set_cancel_fd(secsock_conn *c, int fd)
{
    c->cancel_fd = fd;
}
const char *secsock_conn_error(const secsock_conn *c)
{
    return c->error;
}
const char *secsock_conn_peer(const secsock_conn *c)
{
    return c->peer_text;
}
int secsock_datagram_truncated(const secsock_conn *c)
{
    return c->datagram_truncated;
}

const unsigned char *secsock_conn_client_hello(const secsock_conn *c, size_t *len)
{
    *len = c->hello.bytes != NULL ? c->hello.len : 0;
    return *len > 0 ? c->hello.bytes : NULL;
}

size_t secsock_max_message(const secsock_conn *c)
{
    return c->backend->max_message != NULL ? c->backend->max_message(c) : 0;
}
