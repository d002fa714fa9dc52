/* A socket BIO that can never raise SIGPIPE (see sockbio.c). */
#ifndef SECSOCK_TRANSPORT_SOCKBIO_H
#define SECSOCK_TRANSPORT_SOCKBIO_H

#include <openssl/bio.h>

#include "transport/hello_capture.h"

struct sockbio_state {
    int fd;
    int eof;                 /* the peer closed: OpenSSL asks, to tell truncation from a reset */
    unsigned char first[16]; /* the peer's first bytes: a failed handshake */
    size_t first_len;        /* tells a plaintext answer by them */
    struct hello_capture *capture; /* NULL, or where our first record is kept */
    /* Tracing (NULL: off): every byte that crossed the socket, as it did. */
    void (*wire)(void *arg, int sent, const unsigned char *data, size_t len);
    void *wire_arg;
    /* ... and the end of the peer's stream (reset: ECONNRESET), with wire_arg. */
    void (*end)(void *arg, int reset);
};

/* A BIO over state->fd (not owned: closing the BIO leaves the fd open).
 * state must outlive the BIO. NULL if out of memory. */
BIO *sockbio_new(struct sockbio_state *state);

#endif
