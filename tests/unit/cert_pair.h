/*
 * One server, one client, for the certificate suite (test_certinfo.c):
 * a server thread that accepts one client and handshakes, and a client
 * that connects to it and keeps everything the library told it of the
 * server's certificates, refused or not.
 */
#ifndef SECSOCK_TEST_CERT_PAIR_H
#define SECSOCK_TEST_CERT_PAIR_H

#include <pthread.h>

#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"

/* A server thread for one client: accept, handshake, say "hi", close. */
struct server {
    secsock_transport *t;
    secsock_listener *l;
    pthread_t thread;
    const char *port;
    int handshake_rc;
    int peer_certs_before; /* asked before the handshake */
    int peer_certs;        /* what it saw of the client's */
    char peer_subject[256];
};

/* What a client saw of the server, refused or not. */
struct seen {
    int rc;
    char err[512];
    int count;
    char subject[256], issuer[256], san[512], not_after[32], fingerprint[104], spki[64];
    char chain1_subject[256];
    enum secsock_verify_failure failure;
    struct testutil_session info;
    struct server srv;
};

/* The server thread: one client (arg: its struct server). */
void *cert_serve_one(void *arg);

/* A server on 127.0.0.1, a free port (s->port), not yet accepting. */
void cert_server_listen(struct server *s, const char *backend, secsock_config *cfg);
/* The same, and its thread for one client: accept, handshake, say "hi",
 * close. */
void cert_server_start(struct server *s, const char *backend, secsock_config *cfg);
/* Waits for the thread, frees the server. */
void cert_server_join(struct server *s);

/* Starts a server with scfg, connects to it as host with ccfg, and
 * fills w with what the client saw. */
void cert_connect_to(struct seen *w, const char *backend, secsock_config *scfg,
                     secsock_config *ccfg, const char *host);

#endif
