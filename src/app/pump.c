#include "pump.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUMP_CHUNK (64 * 1024)

struct pump {
    secsock_conn *c;
    unsigned char out[PUMP_CHUNK]; /* read from in_fd, not yet sent */
    size_t off, len;
    int in_eof;
    int peer_eof;
    int shut;
    int read_want; /* what the last read waits for, 0 if nothing */
    int write_want;
};

/* Reads everything the connection has now. */
static int drain_peer(struct pump *p, pump_sink sink, void *arg, char *err, size_t errlen)
{
    unsigned char buf[PUMP_CHUNK];
    p->read_want = 0;
    while (!p->peer_eof) {
        ssize_t n = secsock_read_nowait(p->c, buf, sizeof buf);
        if (n > 0) {
            if (sink(arg, buf, (size_t)n) != 0) {
                snprintf(err, errlen, "cannot write output: %s", strerror(errno));
                return SECSOCK_ERR_IO;
            }
        } else if (n == 0) {
            p->peer_eof = 1;
        } else if (n == SECSOCK_WANT_READ || n == SECSOCK_WANT_WRITE) {
            p->read_want = (int)n;
            return 0;
        } else {
            return (int)n;
        }
    }
    return 0;
}

/* Sends what is buffered, as far as the socket takes it. */
static int flush_out(struct pump *p)
{
    p->write_want = 0;
    while (p->off < p->len) {
        ssize_t n = secsock_write_nowait(p->c, p->out + p->off, p->len - p->off);
        if (n == SECSOCK_WANT_READ || n == SECSOCK_WANT_WRITE) {
            p->write_want = (int)n;
            return 0;
        }
        if (n < 0)
            return (int)n;
        p->off += (size_t)n;
    }
    p->off = p->len = 0;
    return 0;
}

static short events_for(int want)
{
    return (short)(want == SECSOCK_WANT_WRITE ? POLLOUT : want == SECSOCK_WANT_READ ? POLLIN : 0);
}

static int pump_loop(struct pump *p, int in_fd, pump_sink sink, void *arg, int timeout_ms,
                     char *err, size_t errlen)
{
    secsock_conn *c = p->c;
    for (;;) {
        int rc = drain_peer(p, sink, arg, err, errlen);
        if (rc == 0)
            rc = flush_out(p);
        if (rc != 0)
            return rc;
        if (p->peer_eof)
            return 0; /* the peer is done: like ncat, so are we */
        if (p->in_eof && p->len == 0 && !p->shut) {
            if ((rc = secsock_shutdown_write(c)) != 0)
                return rc;
            p->shut = 1;
        }
        struct pollfd fds[2] = {
            { .fd = secsock_conn_fd(c),
              .events = (short)(events_for(p->read_want) | events_for(p->write_want)) },
            { .fd = in_fd, .events = (!p->in_eof && p->len == 0) ? POLLIN : 0 },
        };
        if (fds[0].events == 0)
            fds[0].events = POLLIN;
        /* Only the peer is held to the timeout; stdin may be a person. */
        int waiting_on_peer = p->in_eof || p->len > 0;
        int n = poll(fds, fds[1].events ? 2 : 1, waiting_on_peer ? timeout_ms : -1);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return SECSOCK_ERR_IO;
        }
        if (n == 0) {
            snprintf(err, errlen, "no progress with %s for %d ms", secsock_conn_peer(c),
                     timeout_ms);
            return SECSOCK_ERR_TIMEOUT;
        }
        if (n > 0 && fds[1].revents != 0) {
            ssize_t got = read(in_fd, p->out, sizeof p->out);
            if (got < 0 && errno != EINTR && errno != EAGAIN) {
                snprintf(err, errlen, "cannot read input: %s", strerror(errno));
                return SECSOCK_ERR_IO;
            }
            if (got == 0)
                p->in_eof = 1;
            else if (got > 0)
                p->len = (size_t)got;
        }
    }
}

enum secsock_status pump_duplex(secsock_conn *c, int in_fd, pump_sink sink, void *arg,
                                int timeout_ms, char *err, size_t errlen)
{
    struct pump *p = calloc(1, sizeof *p); /* 64 KiB: kept off small stacks */
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    p->c = c;
    err[0] = '\0';
    int rc = pump_loop(p, in_fd, sink, arg, timeout_ms, err, errlen);
    free(p);
    return rc;
}
