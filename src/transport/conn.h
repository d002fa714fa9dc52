/*
 * Inside a connection: the backend table and the base struct every backend
 * embeds first (Redis's ConnectionType shape). Backends are non-blocking:
 * they return SECSOCK_WANT_READ/WRITE, and transport.c alone does the
 * waiting, so timeouts live in one place.
 */
#ifndef SECSOCK_TRANSPORT_CONN_H
#define SECSOCK_TRANSPORT_CONN_H

#include <stdarg.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "secsock/transport.h"
#include "security/security_internal.h"
#include "transport/hello_capture.h"

/* What generic code needs to know of a backend is here, as data or a
 * function: transport.c never asks which backend it is. */
struct secsock_backend {
    const char *name; /* secsock_transport_new's name for it */
    int secure;
    int socktype;
    const char *protocol; /* "TLS", "DTLS" in messages; NULL for plaintext */
    /* Datagram backends that size records to the path MTU: the bytes a
     * record adds around the application's; 0 when a message is the
     * datagram (plain UDP leaves fragmentation to IP). */
    size_t record_overhead;
    /* A server that refuses the handshake reads and drops the client's
     * last bytes for a moment before the close (secsock_linger_nowait):
     * over TCP, unread bytes make the kernel send a reset that can
     * overtake the alert saying why. */
    int linger_on_refusal;
    /* Builds the transport's shared state (the SSL_CTX) from the config. */
    int (*transport_init)(secsock_transport *t, const secsock_config *cfg, char *err,
                          size_t errlen);
    void (*transport_free)(secsock_transport *t);
    /* Allocates a connection around a connected socket. verify_name is the
     * name a client checks the server against (NULL on the server). */
    secsock_conn *(*conn_new)(const secsock_transport *t, int fd, const char *verify_name);
    /* One non-blocking handshake step: 0 when done, WANT_*, or an error. */
    int (*handshake)(secsock_conn *c);
    ssize_t (*read)(secsock_conn *c, void *buf, size_t len);
    ssize_t (*write)(secsock_conn *c, const void *buf, size_t len);
    /* Like read, but the bytes stay to be read again (MSG_PEEK). */
    ssize_t (*peek)(secsock_conn *c, void *buf, size_t len);
    /* One non-blocking step of ending our direction: 0 when done, WANT_*. */
    int (*shutdown_write)(secsock_conn *c);
    /* Frees backend state; the fd is closed by the caller. */
    void (*conn_free)(secsock_conn *c);
    /* What the handshake negotiated (NULL: nothing, plaintext). */
    void (*session_facts)(const secsock_conn *c, struct security_session *s);
    /* What Encrypted Client Hello did (NULL: never any, as in DTLS 1.2). */
    void (*ech_info)(const secsock_conn *c, struct security_ech_facts *info);
    /* Certificate i the peer sent (0: the leaf), or NULL (NULL: none ever). */
    X509 *(*peer_cert)(const secsock_conn *c, int i);
    /* Application bytes buffered inside (NULL: none ever are). */
    int (*pending)(const secsock_conn *c);
    /* Datagram backends: the largest message one write carries. */
    size_t (*max_message)(const secsock_conn *c);
    /* Backends with their own clock (DTLS retransmission): ms until the
     * timer wants timer_fire(), or -1 when none runs. */
    int (*timer_ms)(secsock_conn *c);
    int (*timer_fire)(secsock_conn *c);
    /* Listener: per-backend state, and the next client (NULL: stream accept). */
    int (*listener_init)(secsock_listener *l, char *err, size_t errlen);
    void (*listener_free)(secsock_listener *l);
    int (*accept)(secsock_listener *l, secsock_conn **out, char *err, size_t errlen);
};

struct secsock_transport {
    const struct secsock_backend *backend;
    enum secsock_role role;
    SSL_CTX *ssl_ctx;              /* TLS/DTLS: the process's one context */
    char *servername;              /* client: overrides the host for SNI/verification */
    struct security_ctx_state sec; /* what the SSL_CTX's callbacks read */
    int keylog;                    /* holds a reference on the key-log file */
    int mtu;                       /* DTLS: the path MTU records are sized for */
    int keep_hello;                /* keep each connection's ClientHello (clients, DTLS servers) */
    unsigned trace_kinds;          /* the events the observer wants (0: none, no cost) */
    secsock_trace_fn trace_fn;
    void *trace_arg;
    char error[512]; /* why secsock_transport_new() failed */
};

struct secsock_conn {
    const struct secsock_backend *backend;
    const secsock_transport *transport;
    int fd;
    int owns_fd;                    /* 0 for a UDP peer answered from the listening socket */
    int cancel_fd;                  /* -1, or waits end when it is readable */
    long long next_cancel_check_ms; /* reads and writes that never wait look then */
    int timeout_ms;
    int datagram_truncated;
    unsigned long long bytes_sent, bytes_received; /* application data */
    int wrote_shutdown;                            /* our direction has been ended */
    int handshake_done;
    int lingering;      /* half-closed after a refused handshake, draining */
    int plaintext_peer; /* the handshake failed on the peer's plaintext */
    enum secsock_verify_failure verify_failure; /* which check refused the peer */
    /* The peer's certificates as text, built on the first question. */
    struct security_cert_text *peer_certs;
    int n_peer_certs; /* 0 until built */
    /* What the handshake negotiated, refreshed on each question (conn_facts.c). */
    struct security_session *session;
    struct security_ech_facts *ech; /* likewise, for ECH */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char peer_text[64];
    char error[1024];
    struct hello_capture hello; /* the ClientHello sent (clients) or accepted (DTLS servers) */
};

struct secsock_listener {
    const secsock_transport *t;
    int fd;
    int cancel_fd;
    struct sockaddr_storage local;
    socklen_t local_len;
    char address[64];
    void *state;     /* the backend's (DTLS: listen SSL, cookie secrets) */
    char error[512]; /* why the listener, or its last accept, failed */
};

/* Waits (transport.c, the one module that waits) until c's socket is
 * ready (want_write: for writing) or its timer is due, up to deadline
 * (net_now_ms() clock): 0 when the operation should be retried, or
 * SECSOCK_ERR_TIMEOUT / _CANCELLED / another error. */
int conn_wait(secsock_conn *c, int want_write, long long deadline);

/* Wraps a connected socket in a backend connection (peer set from addr)
 * (objects.c, as conn_fail and conn_base_init below). */
secsock_conn *conn_wrap(const secsock_transport *t, int fd, const char *verify_name,
                        const struct sockaddr *peer, socklen_t peerlen);

/* A connection that never connected, carrying only why (unconnected.c):
 * secsock_connect() hands one out for every failure, so the reason is
 * always a connection's error. NULL when out of memory. */
secsock_conn *conn_unconnected(const secsock_transport *t);

/* Records the error text and returns status, so backends can write
 * `return conn_fail(c, SECSOCK_ERR_IO, "...")`. */
int conn_fail(secsock_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the fields of the base struct; backends call it from conn_new. */
void conn_base_init(secsock_conn *c, const struct secsock_backend *backend,
                    const secsock_transport *t, int fd);

extern const struct secsock_backend secsock_backend_tcp;
extern const struct secsock_backend secsock_backend_tls;
extern const struct secsock_backend secsock_backend_udp;
extern const struct secsock_backend secsock_backend_dtls;

#endif
