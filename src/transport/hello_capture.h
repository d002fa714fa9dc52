/*
 * The first record a connection sends or receives, kept when the
 * configuration asks (secsock_config_keep_client_hello): a client's
 * ClientHello as it went out, for its fingerprints. Off, it costs one
 * pointer test per write.
 */
#ifndef SECSOCK_TRANSPORT_HELLO_CAPTURE_H
#define SECSOCK_TRANSPORT_HELLO_CAPTURE_H

#include <stddef.h>

struct hello_capture {
    unsigned char *bytes; /* NULL until the first bytes come */
    size_t len;
    size_t want; /* the whole record's length, once its header is in */
    int dtls;    /* record headers of 13 bytes, not 5 */
    int done;    /* the record is whole, or will never be kept */
};

/* Appends bytes as they go over the wire, until the first record is whole;
 * from then on, and for a record larger than any ClientHello, nothing. */
void hello_capture_add(struct hello_capture *hc, const void *data, size_t len);

/* Keeps a copy of data instead (a datagram: the record is all there). */
void hello_capture_set(struct hello_capture *hc, const void *data, size_t len);

/* Drops the bytes (the struct may be reused). */
void hello_capture_free(struct hello_capture *hc);

#endif
