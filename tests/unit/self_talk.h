/*
 * The transport suites' self-talk (test_transport*.c; s2n-tls's self-talk
 * tests, libevent's regress_ssl.c): a server thread that accepts one
 * client on 127.0.0.1, wraps the socket with secsock_conn_from_fd (or
 * takes it from a secsock_listener), runs the handshake and plays a
 * scripted part (enum srv_mode); the test body is the client.
 */
#ifndef SECSOCK_TEST_SELF_TALK_H
#define SECSOCK_TEST_SELF_TALK_H

#include <pthread.h>
#include <stddef.h>

#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"

enum srv_mode {
    SRV_ECHO,       /* echo each chunk until the client's end, then close */
    SRV_COLLECT,    /* read to the client's end, send it all back, close */
    SRV_SEND_CLOSE, /* send the payload, close (close_notify) */
    SRV_SILENT,     /* say nothing; wait for the client to go */
    SRV_TRUNCATE,   /* send the payload, then a bare FIN: no close_notify */
    SRV_CLOSE,      /* close at once, without reading */
    SRV_PEEK,       /* peek (waiting), peek again, read that much, peek at the end */
};

struct server {
    secsock_transport *t;
    enum srv_mode mode;
    const char *payload;
    int lfd;             /* -1 when l is used */
    secsock_listener *l; /* the listener API: secsock_accept */
    char port[16];
    pthread_t thread;
    /* Results, read after server_join(). */
    int accepted;
    int accept_rc;
    char peer[64]; /* secsock_conn_peer of the accepted connection */
    int handshake_rc;
    char error[256];
    struct testutil_session info;
    long long end_rc; /* the last read's result */
    /* SRV_PEEK: the first peek, a second one, the read of as many bytes,
     * and the peek and the read after them (at the client's end). */
    long long peek1, peek2, peek_read, peek_end, peek_end_read;
    char peeked1[64], peeked2[64], peek_got[64];
};

/* Listens on 127.0.0.1, any port, and serves one connection in a thread:
 * with secsock_listen and accept4 + secsock_conn_from_fd, or (listener)
 * with secsock_listener_new and secsock_accept. Takes the transport. */
void talk_server_start_with(struct server *s, secsock_transport *t, enum srv_mode mode,
                            const char *payload, int listener);
/* The same, with secsock_conn_from_fd. */
void talk_server_start(struct server *s, secsock_transport *t, enum srv_mode mode,
                       const char *payload);
/* Waits for the thread, frees the server and its transport. */
void talk_server_join(struct server *s);

struct client {
    secsock_transport *t;
    secsock_conn *c;
    int rc;
    char err[512];
};

/* Connects with a new client transport (takes cfg). */
int talk_client_connect(struct client *cl, const char *backend, secsock_config *cfg,
                        const char *host, const char *port);
void talk_client_close(struct client *cl);

/* Reads exactly len bytes or fails the test. */
void talk_read_exact(secsock_conn *c, void *buf, size_t len);

/* The PKI's NAME.crt and NAME.key for a server; a client trusting its CA. */
secsock_config *talk_server_cfg(const char *name);
secsock_config *talk_client_cfg(void);

/* "sha256:" and the certificate's SHA-256, computed here with OpenSSL:
 * lower-case hex without colons (plain) and upper-case with colons (colons),
 * the two spellings a user may give and the library prints. */
void talk_cert_pin(const char *name, char *plain, size_t plainlen, char *colons, size_t colonslen);

#endif
