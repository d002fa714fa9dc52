/* The plaintext stream backend: a TCP socket, nothing more. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "transport/conn.h"
#include "transport/tracing.h"

static secsock_conn *tcp_conn_new(const secsock_transport *t, int fd, const char *verify_name)
{
    (void)verify_name;
    secsock_conn *c = calloc(1, sizeof *c);
    if (c != NULL)
        conn_base_init(c, &secsock_backend_tcp, t, fd);
    return c;
}

static int tcp_handshake(secsock_conn *c)
{
    (void)c;
    return 0;
}

static int io_error(secsock_conn *c, const char *what)
{
    if (errno == ECONNRESET || errno == EPIPE)
        return conn_fail(c, SECSOCK_ERR_IO, "connection reset by peer");
    return conn_fail(c, SECSOCK_ERR_IO, "%s: %s", what, strerror(errno));
}

/* flags: 0 for a read, MSG_PEEK to leave the bytes for the next one. */
static ssize_t tcp_receive(secsock_conn *c, void *buf, size_t len, int flags)
{
    for (;;) {
        ssize_t n = recv(c->fd, buf, len, flags | MSG_DONTWAIT);
        /* A read (not a peek) at the end of the peer's stream: its FIN,
         * or its RST. */
        int end = flags == 0 && tracing(c->transport, SECSOCK_TRACE_END);
        if (n >= 0) {
            if (n == 0 && len > 0 && end)
                trace_end(c, 0, 0);
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SECSOCK_WANT_READ;
        if (errno == ECONNRESET && end)
            trace_end(c, 0, 1);
        return io_error(c, "read");
    }
}

static ssize_t tcp_read(secsock_conn *c, void *buf, size_t len)
{
    return tcp_receive(c, buf, len, 0);
}

static ssize_t tcp_peek(secsock_conn *c, void *buf, size_t len)
{
    return tcp_receive(c, buf, len, MSG_PEEK);
}

static ssize_t tcp_write(secsock_conn *c, const void *buf, size_t len)
{
    for (;;) {
        /* MSG_NOSIGNAL: a vanished peer is an error, never a SIGPIPE. */
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SECSOCK_WANT_WRITE;
        return io_error(c, "write");
    }
}

static int tcp_shutdown_write(secsock_conn *c)
{
    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        return io_error(c, "shutdown");
    if (tracing(c->transport, SECSOCK_TRACE_END))
        trace_end(c, 1, 0);
    return 0;
}

static void tcp_conn_free(secsock_conn *c)
{
    free(c);
}

const struct secsock_backend secsock_backend_tcp = {
    .name = "tcp",
    .secure = 0,
    .socktype = SOCK_STREAM,
    .conn_new = tcp_conn_new,
    .handshake = tcp_handshake,
    .read = tcp_read,
    .peek = tcp_peek,
    .write = tcp_write,
    .shutdown_write = tcp_shutdown_write,
    .conn_free = tcp_conn_free,
};
