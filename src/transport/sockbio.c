/*
 * OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the
 * peer has gone; a library must not kill its host program, so TLS uses this
 * BIO instead, which sends with MSG_NOSIGNAL (curl does the same with its
 * own BIO). Everything else is what BIO_s_socket does for a non-blocking fd.
 */
#include "transport/sockbio.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

static BIO_METHOD *sockbio_method;
static pthread_once_t sockbio_once = PTHREAD_ONCE_INIT;

static int sockbio_write(BIO *b, const char *data, size_t len, size_t *written)
{
    struct sockbio_state *st = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t n = send(st->fd, data, len, MSG_NOSIGNAL);
        if (n >= 0) {
            *written = (size_t)n;
            if (st->capture != NULL && !st->capture->done)
                hello_capture_add(st->capture, data, (size_t)n);
            if (st->wire != NULL && n > 0)
                st->wire(st->wire_arg, 1, (const unsigned char *)data, (size_t)n);
            return 1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        return 0;
    }
}

static int sockbio_read(BIO *b, char *data, size_t len, size_t *readbytes)
{
    struct sockbio_state *st = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *readbytes = 0;
    for (;;) {
        ssize_t n = recv(st->fd, data, len, 0);
        if (n > 0) {
            *readbytes = (size_t)n;
            if (st->first_len < sizeof st->first) {
                size_t keep = sizeof st->first - st->first_len;
                keep = keep < (size_t)n ? keep : (size_t)n;
                memcpy(st->first + st->first_len, data, keep);
                st->first_len += keep;
            }
            if (st->wire != NULL)
                st->wire(st->wire_arg, 0, (const unsigned char *)data, (size_t)n);
            return 1;
        }
        if (n == 0) {
            st->eof = 1;
            if (st->end != NULL && len > 0)
                st->end(st->wire_arg, 0);
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        else if (errno == ECONNRESET && st->end != NULL)
            st->end(st->wire_arg, 1);
        return 0;
    }
}

static long sockbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    struct sockbio_state *st = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_EOF: return st != NULL && st->eof;
    case BIO_C_GET_FD:
        if (st == NULL)
            return -1;
        if (ptr != NULL)
            *(int *)ptr = st->fd;
        return st->fd;
    default: return 0;
    }
}

static void sockbio_make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "secsock socket");
    if (m != NULL &&
        (!BIO_meth_set_write_ex(m, sockbio_write) || !BIO_meth_set_read_ex(m, sockbio_read) ||
         !BIO_meth_set_ctrl(m, sockbio_ctrl))) {
        BIO_meth_free(m);
        m = NULL;
    }
    sockbio_method = m;
}

BIO *sockbio_new(struct sockbio_state *state)
{
    pthread_once(&sockbio_once, sockbio_make_method);
    if (sockbio_method == NULL)
        return NULL;
    BIO *b = BIO_new(sockbio_method);
    if (b != NULL) {
        BIO_set_data(b, state);
        BIO_set_init(b, 1);
    }
    return b;
}
