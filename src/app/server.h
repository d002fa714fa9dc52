/*
 * What tcp-server and udp-server share: listen; admit each client in one
 * non-blocking loop (its handshake, then its first bytes), so a client that
 * stalls costs no thread; hand it then to the bounded worker pool; stop on
 * SIGINT/SIGTERM with a grace period; print a summary. The programs only
 * say how one client is served.
 */
#ifndef SECSOCK_APP_SERVER_H
#define SECSOCK_APP_SERVER_H

#include <stdatomic.h>

#include "options.h"
#include "secsock/transport.h"

struct app_server;

/* Serves one client after its handshake, once it has sent something
 * (runs in a worker thread): 0, or a negative secsock_status. What is
 * logged for a failure is why[] when the service wrote it (a fault of the
 * request, say), else the connection's error text. */
typedef enum secsock_status (*app_serve_fn)(struct app_server *s, secsock_conn *c, char *why,
                                            size_t whylen);

struct app_server {
    /* Set by app_server_main. */
    const struct app_options *o;
    const secsock_transport *t;
    app_serve_fn serve;
    const char *reply; /* the reply text */
    int log_accept;    /* log "[*] Accepted connection from ..." */
    int close_at_stop; /* datagram sessions: end at once, politely, at a stop
                               * signal; streams get the grace period */
    int fingerprints;  /* -v or --json: each client's JA4 and JA3 */
    /* Counted by every loop and worker: atomics, no lock on a client's way. */
    atomic_ulong served, failed_handshakes, failed;
    atomic_ulong cut_off; /* of the failed: ended by the stop, not by themselves */
};

/* A server program's whole main: its options, its transport, the server
 * until a stop signal. The reply is --reply's, or the default for the mode. */
int app_server_main(int argc, char **argv, enum app_program program, app_serve_fn serve,
                    const char *reply_plain, const char *reply_secure);

/* Logs what a client sent, escaped, as one entry: "[*] Received from
 * PEER: ..." for one line, else a line of the log per line it sent
 * (received.h). Nothing with --quiet. */
void app_server_log_received(const char *peer, const unsigned char *data, size_t len);

#endif
