/*
 * The DTLS backend's view of its datagrams, shared by dtls.c (clients and
 * the connections a listener hands out) and dtls_wire.c (the BIO and
 * message callbacks that see each datagram cross the socket).
 */
#ifndef SECSOCK_TRANSPORT_DTLS_WIRE_H
#define SECSOCK_TRANSPORT_DTLS_WIRE_H

#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "transport/ossl_conn.h"

/* Datagrams that are not DTLS at all (a plaintext client on the DTLS
 * port) are reported once per peer and minute, and at most JUNK_LINES a
 * minute in all: a line each would be a log flood for a spoofer, none
 * would leave a user wondering why the server is silent. */
#define JUNK_PEERS 64
#define JUNK_LINES 20

struct junk_seen {
    struct sockaddr_storage peer;
    long long last_ms;
};

struct dtls_listen_state {
    SSL *ssl;                    /* waiting in DTLSv1_listen */
    unsigned char secret[2][32]; /* current and previous cookie secrets */
    long long rotated_ms;
    const secsock_listener *listener; /* whose transport says what to trace */
    unsigned char *seen;              /* keep_hello: the last datagram DTLSv1_listen read */
    size_t seen_len;
    struct junk_seen junk[JUNK_PEERS]; /* who was reported, by a hash of the address */
    long long junk_minute_ms;          /* the minute JUNK_LINES counts in */
    int junk_lines;
};

#define DATAGRAM_SEEN_MAX (DTLS1_RT_HEADER_LENGTH + SSL3_RT_MAX_PLAIN_LENGTH)

/* The peer as a sockaddr, from OpenSSL's BIO_ADDR. */
socklen_t dtls_peer_sockaddr(const BIO_ADDR *peer, struct sockaddr_storage *ss);

/* A DTLS record header: content type 20-25, version 254.x. */
int dtls_looks_like_dtls(const unsigned char *b, ssize_t n);

/* The listening BIO's callback (its arg: the listen state). */
long dtls_listen_wire(BIO *bio, int oper, const char *argp, size_t len, int argi, long argl,
                      int ret, size_t *processed);

/* The listening SSL's message callback (its arg: the listener). */
void dtls_listen_msg(int write_p, int version, int content_type, const void *buf, size_t len,
                     SSL *ssl, void *arg);

/* Sets or clears a connection's BIO callback, as tracing, keep_hello and
 * a client's handshake need it (see dtls_wire.c). */
void dtls_conn_bio_callback(BIO *bio, struct ossl_conn *tc);

#endif
