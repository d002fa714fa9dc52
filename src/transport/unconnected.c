/*
 * The connection secsock_connect() hands out when none could be made (the
 * name did not resolve, every address refused, the time ran out): it
 * keeps the reason, so a connect's error is always secsock_conn_error()'s,
 * and answers every other call as a connection that has nothing (no
 * descriptor, no session, each I/O call SECSOCK_ERR_IO).
 */
#include <stdlib.h>

#include "transport/conn.h"

static int nothing(secsock_conn *c)
{
    (void)c;
    return SECSOCK_ERR_IO;
}

static ssize_t no_io(secsock_conn *c, void *buf, size_t len)
{
    (void)c, (void)buf, (void)len;
    return SECSOCK_ERR_IO;
}

static ssize_t no_write(secsock_conn *c, const void *buf, size_t len)
{
    (void)c, (void)buf, (void)len;
    return SECSOCK_ERR_IO;
}

static void unconnected_free(secsock_conn *c)
{
    free(c);
}

static const struct secsock_backend unconnected = {
    .name = "unconnected",
    .handshake = nothing,
    .read = no_io,
    .write = no_write,
    .peek = no_io,
    .shutdown_write = nothing,
    .conn_free = unconnected_free,
};

secsock_conn *conn_unconnected(const secsock_transport *t)
{
    secsock_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    conn_base_init(c, &unconnected, t, -1);
    c->owns_fd = 0;
    return c;
}
