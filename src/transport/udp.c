/*
 * The plaintext datagram backend. A client has a connected UDP socket (so
 * only its server's datagrams reach it); a server answers each datagram
 * from its one listening socket, as a connection that carries just that
 * datagram.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net.h"
#include "transport/conn.h"

/* A peer's datagram, answered from the listening socket (not owned). */
struct udp_peer_conn {
    secsock_conn base;
    int delivered;
    size_t len;
    unsigned char data[]; /* the datagram */
};

static secsock_conn *udp_conn_new(const secsock_transport *t, int fd, const char *verify_name)
{
    (void)verify_name;
    struct udp_peer_conn *pc = calloc(1, sizeof *pc);
    secsock_conn *c = pc != NULL ? &pc->base : NULL;
    if (c != NULL)
        conn_base_init(c, &secsock_backend_udp, t, fd);
    return c;
}

static int udp_handshake(secsock_conn *c)
{
    (void)c;
    return 0;
}

/* One datagram, or with peek the same datagram again on the next call. */
static ssize_t udp_receive(secsock_conn *c, void *buf, size_t len, int peek)
{
    if (!c->owns_fd) {
        /* A listener's peer: its one datagram, then the end. */
        struct udp_peer_conn *pc = (struct udp_peer_conn *)c;
        if (pc->delivered)
            return 0;
        pc->delivered = !peek;
        size_t n = pc->len < len ? pc->len : len;
        memcpy(buf, pc->data, n);
        c->datagram_truncated = pc->len > len;
        return (ssize_t)n;
    }
    for (;;) {
        /* MSG_TRUNC: the datagram's real length, so a cut one is known. */
        ssize_t n = recv(c->fd, buf, len, MSG_TRUNC | (peek ? MSG_PEEK : 0));
        if (n >= 0) {
            c->datagram_truncated = (size_t)n > len;
            return (size_t)n > len ? (ssize_t)len : n;
        }
        if (errno == EINTR)
            continue;
        /* ECONNREFUSED: an ICMP "port unreachable" for a datagram sent: a
         * client hears at once that nothing listens (as ncat and Python
         * do), rather than waiting for a reply that cannot come. */
        if (errno == ECONNREFUSED && c->transport->role == SECSOCK_CLIENT)
            return conn_fail(c, SECSOCK_ERR_CONNECT, "connection refused: nothing listens on %s",
                             c->peer_text);
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED)
            return SECSOCK_WANT_READ;
        return conn_fail(c, SECSOCK_ERR_IO, "read: %s", strerror(errno));
    }
}

static ssize_t udp_read(secsock_conn *c, void *buf, size_t len)
{
    return udp_receive(c, buf, len, 0);
}

static ssize_t udp_peek(secsock_conn *c, void *buf, size_t len)
{
    return udp_receive(c, buf, len, 1);
}

static size_t udp_max_message(const secsock_conn *c)
{
    /* 65535 less the UDP header, and for IPv4 the IP header too. */
    return c->peer.ss_family == AF_INET6 ? 65527 : 65507;
}

static ssize_t udp_write(secsock_conn *c, const void *buf, size_t len)
{
    if (len > udp_max_message(c))
        return conn_fail(c, SECSOCK_ERR_TOO_BIG,
                         "a message of %zu bytes does not fit in one datagram (at most %zu)", len,
                         udp_max_message(c));
    for (int tries = 0;; tries++) {
        ssize_t n = c->owns_fd ? send(c->fd, buf, len, MSG_NOSIGNAL)
                               : sendto(c->fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&c->peer,
                                        c->peer_len);
        if (n >= 0)
            return n;
        if (errno == EINTR || (errno == ECONNREFUSED && tries == 0))
            continue; /* a stale ICMP error was reported, not this send's */
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SECSOCK_WANT_WRITE;
        if (errno == EMSGSIZE)
            return conn_fail(c, SECSOCK_ERR_TOO_BIG,
                             "a message of %zu bytes does not fit in one datagram", len);
        return conn_fail(c, SECSOCK_ERR_IO, "write: %s", strerror(errno));
    }
}

static int udp_shutdown_write(secsock_conn *c)
{
    (void)c;
    return 0; /* datagrams have no end of stream */
}

static void udp_conn_free(secsock_conn *c)
{
    free(c);
}

static int udp_pending(const secsock_conn *c)
{
    /* A listener's peer arrives with its datagram. */
    return !c->owns_fd && !((const struct udp_peer_conn *)c)->delivered;
}

static int udp_accept(secsock_listener *l, secsock_conn **out, char *err, size_t errlen)
{
    unsigned char buf[65536];
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    ssize_t n = recvfrom(l->fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&peer, &peer_len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED)
            return SECSOCK_WANT_READ;
        snprintf(err, errlen, "receive: %s", strerror(errno));
        return SECSOCK_ERR_IO;
    }
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
    struct udp_peer_conn *pc = calloc(1, sizeof *pc + len);
    if (pc == NULL) {
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    conn_base_init(&pc->base, &secsock_backend_udp, l->t, l->fd);
    pc->base.owns_fd = 0;
    pc->base.handshake_done = 1;
    memcpy(&pc->base.peer, &peer, peer_len);
    pc->base.peer_len = peer_len;
    net_format_addr((struct sockaddr *)&peer, peer_len, pc->base.peer_text,
                    sizeof pc->base.peer_text);
    memcpy(pc->data, buf, len);
    pc->len = len;
    *out = &pc->base;
    return 0;
}

const struct secsock_backend secsock_backend_udp = {
    .name = "udp",
    .secure = 0,
    .socktype = SOCK_DGRAM,
    .conn_new = udp_conn_new,
    .handshake = udp_handshake,
    .read = udp_read,
    .peek = udp_peek,
    .write = udp_write,
    .shutdown_write = udp_shutdown_write,
    .conn_free = udp_conn_free,
    .pending = udp_pending,
    .max_message = udp_max_message,
    .accept = udp_accept,
};
