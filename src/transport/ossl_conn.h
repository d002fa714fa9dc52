/* The OpenSSL connection the TLS and DTLS backends share (ossl_conn.c). */
#ifndef SECSOCK_TRANSPORT_OSSL_CONN_H
#define SECSOCK_TRANSPORT_OSSL_CONN_H

#include "transport/conn.h"
#include "transport/sockbio.h"

struct ossl_conn {
    secsock_conn base; /* first: an ossl_conn is a secsock_conn */
    SSL *ssl;
    int fatal; /* after a fatal error OpenSSL forbids SSL_shutdown */
    char verify_name[256];
    struct security_ssl_report report; /* what the SSL's callbacks found */
    struct sockbio_state sock;         /* TLS: the socket BIO's state */
    struct trace_stream *wire[2];      /* TLS traced: records received [0], sent [1] */
    int hello_replayed;                /* DTLS server: its first ClientHello was traced */
    struct dtls_answer {               /* DTLS client: what came back during the handshake */
        int dtls_seen;                 /* a DTLS record: later junk is dropped silently */
        size_t not_dtls_len;           /* a datagram that was not DTLS: its size (0: none) */
        unsigned char head[48];        /* and its first bytes */
    } answer;
};

/* The transport's SSL_CTX (and key log) from the config. */
int ossl_transport_init(secsock_transport *t, const secsock_config *cfg, const SSL_METHOD *method,
                        char *err, size_t errlen);
void ossl_transport_free(secsock_transport *t);

/* A connection with its SSL (ssl, or a new one when NULL; owned either
 * way) in the role's state, and for a client the SNI and the name or
 * address to verify. The caller attaches the BIO. */
struct ossl_conn *ossl_conn_new(const struct secsock_backend *backend, const secsock_transport *t,
                                int fd, const char *verify_name, SSL *ssl);

/* OpenSSL's message callback for a connection's SSL (its arg: the
 * ossl_conn): a DTLS client notes a HelloVerifyRequest, and a traced
 * transport gets each message. */
void ossl_msg_callback(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg);

/* The contexts' key-log callback: the transport's key-log file, and the
 * SECRET trace events. */
void ossl_keylog_line(const SSL *ssl, const char *line);

/* The handshake met a peer that answered in plaintext: b (len bytes; the
 * whole answer, or only its start) quoted in the error, its first line and
 * printable bytes only; the connection is marked plaintext_peer. Returns
 * SECSOCK_ERR_HANDSHAKE. */
int ossl_plaintext_failure(secsock_conn *c, const unsigned char *b, size_t len, int whole);

int ossl_handshake(secsock_conn *c);
ssize_t ossl_read(secsock_conn *c, void *buf, size_t len);
ssize_t ossl_peek(secsock_conn *c, void *buf, size_t len);
ssize_t ossl_write(secsock_conn *c, const void *buf, size_t len);
int ossl_shutdown_write(secsock_conn *c);
int ossl_pending(const secsock_conn *c);
void ossl_conn_free(secsock_conn *c);
void ossl_session_facts(const secsock_conn *c, struct security_session *s);
X509 *ossl_peer_cert(const secsock_conn *c, int i);

#endif
