/*
 * The datagram suites' self-talk (test_datagram*.c, test_listener.c), over
 * loopback: an echo server thread on the listener API
 * (secsock_listener_new on 127.0.0.1 port 0, then secsock_accept; for
 * DTLS secsock_handshake), which reads datagrams and echoes each one
 * until a read returns 0 (UDP: each accepted connection carries one
 * datagram and then ends; DTLS: the client's close_notify) or fails, and
 * stops when its stop pipe, the cancel descriptor of the listener and of
 * every connection, is written; and a client.
 */
#ifndef SECSOCK_TEST_DATAGRAM_TALK_H
#define SECSOCK_TEST_DATAGRAM_TALK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"

#define MAX_SEEN 64

struct dserver {
    secsock_transport *t;
    secsock_listener *l;
    char port[16];
    int stop[2];     /* written by dserver_stop: the cancel descriptor of everything */
    size_t read_cap; /* the server's read buffer */
    pthread_t thread;
    atomic_int accepted_now, ended_now; /* for dserver_stop, while it runs */
    /* Results, read after dserver_stop(). */
    int conns;         /* connections accepted */
    int accept_errors; /* failed clients (secsock_accept's other errors) */
    int accept_end;    /* the accept that ended the loop (CANCELLED) */
    int handshake_rc;  /* the last handshake (1: none ran) */
    int handshake_failures;
    char error[256];              /* the last accept or handshake error */
    char peer[64];                /* the first connection's peer */
    size_t max_message;           /* the first connection's, after the handshake */
    struct testutil_session info; /* the first connection's */
    int nseen;
    size_t seen[MAX_SEEN];        /* each datagram read: its length */
    int seen_truncated[MAX_SEEN]; /* and secsock_datagram_truncated() after it */
    int nend;
    long long end_rc[MAX_SEEN]; /* per connection: the read that ended it */
    int write_errors;
    char write_error[256];
    /* With peek set: before each read, a peek (waiting) and a second one;
     * per read, the peek's result and whether both peeks gave the read's
     * bytes. */
    int peek;
    unsigned char *pbuf1, *pbuf2;
    int npeek;
    long long peek_rc[MAX_SEEN];
    int peek_same[MAX_SEEN];
};

struct dclient {
    secsock_transport *t;
    secsock_conn *c;
    int rc;
    char err[256];
};

struct variant {
    const char *backend;
    const char *host;
};

/* udp on 127.0.0.1 and dtls on localhost: the bodies run for both. */
extern const struct variant dvariants[];
#define N_DVARIANTS 2

/* Whether a backend is secure (dtls, tls). */
int dg_is_secure(const char *backend);
int dg_is_dtls(const struct variant *v);

/* The default configurations for a backend: NULL for plaintext. */
secsock_transport *dg_server_transport(const char *backend, const char *cert, int mtu);

/* "127.0.0.1:PORT" of a socket's local end. */
void dg_local_address(int fd, char *out, size_t outlen);
/* A loopback port of socktype where nothing listens (below the
 * kernel's ephemeral range: see datagram_talk.c). */
void dg_free_port(int socktype, char *port, size_t portlen);
/* The port of a "127.0.0.1:PORT" address. */
void dg_port_of(const char *address, char *port, size_t portlen);

/* Starts an echo server on 127.0.0.1, any port. Takes the transport. */
void dserver_start_opts(struct dserver *s, secsock_transport *t, size_t read_cap, int peek);
void dserver_start_cap(struct dserver *s, secsock_transport *t, size_t read_cap);
void dserver_start(struct dserver *s, secsock_transport *t);
/* Lets the server finish the connections it has, then stops it. */
void dserver_stop(struct dserver *s);

/* Connects with a new client transport (takes cfg). */
int dclient_connect_to(struct dclient *cl, const char *backend, secsock_config *cfg,
                       const char *host, const char *port, int timeout_ms);
void dclient_close(struct dclient *cl);

/* The variant's echo server; a client connected to it. */
void dg_start_echo(struct dserver *s, const struct variant *v);
void dg_connect_echo(struct dclient *cl, const struct variant *v, const struct dserver *s);
/* Sends one datagram and reads one, which must be the same bytes. */
void dg_echo_once(secsock_conn *c, const void *msg, size_t len);
/* The server ended conns connections cleanly and was cancelled. */
void dg_assert_clean_ends(const struct dserver *s, int conns);

#endif
