/*
 * What tcp-client and udp-client share around a connection: connecting by
 * the options (--resolve, -4/-6), telling -v what was negotiated, and the
 * --json record with its handshake and total times.
 */
#ifndef SECSOCK_APP_CLIENT_H
#define SECSOCK_APP_CLIENT_H

#include "json.h"
#include "options.h"

#define APP_CLIENT_MAX_REFUSED 16 /* addresses of one name a datagram was refused on */
/* Room for an error line: the library's reason and the program's fixes. */
#define APP_ERR_LEN 1024

struct app_client_session {
    struct json_session js;
    double start_ms;
    enum secsock_status status; /* the first failure, for the --json record */
    char error[APP_ERR_LEN];
    struct secsock_fingerprint fingerprint; /* ours (-v, --json), when js.fingerprint is set */
    /* How to connect again, to the name's next address (app_client_next). */
    const struct app_options *o;
    const secsock_transport *t;
    const char *port;
    int timeout_ms;
    int attempts; /* addresses the last connect started on */
    size_t n_refused;
    char refused[APP_CLIENT_MAX_REFUSED][64];
    /* tcp-client's ECH retry (ech_retry.h): the transport made for the
     * server's retry configs (the session's: app_client_close frees it),
     * and the address they came from, where the retry goes. */
    secsock_transport *ech_retry_t;
    char ech_retry_addr[64];
};

/* Connects to HOST:port within timeout_ms; with -v each address tried is
 * shown ("* Trying ADDR:PORT...", and why it failed). tcp-client: when the
 * server rejected ECH and sent configs to use instead (retry_configs, from
 * a verified server), connects once more to the same address with them
 * (RFC 9849 §6.1.6); the --json record says so ("ech_retried"). On failure
 * the connection is closed (*out is NULL), the --json record is written,
 * and the status is returned with the reason in err. Close a connection
 * made here with app_client_close. */
enum secsock_status app_client_connect(const struct app_options *o, const secsock_transport *t,
                                       const char *port, int timeout_ms, secsock_conn **out,
                                       struct app_client_session *cs, char *err, size_t errlen);

/* *c met a refusal (an ICMP "port unreachable" for a datagram): closes it
 * and connects to the name's next address, leaving out every one refused
 * so far. Returns 0 with *c the new connection, or the failure with *c
 * NULL and err saying so: when no address is left, "connection refused:
 * nothing listens on ADDR, ADDR" (SECSOCK_ERR_CONNECT). */
enum secsock_status app_client_next(struct app_client_session *cs, secsock_conn **c, char *err,
                                    size_t errlen);

/* Says "PROGRAM: msg" on stderr and, with a session, keeps its first
 * failure for the --json record; both with the options that fix it
 * (hints.h). Returns the exit code for status. */
enum app_exit app_client_fail(const struct app_options *o, struct app_client_session *cs,
                              enum secsock_status status, const char *msg);

/* The --json record at the end of the session: its first failure, or ok. */
void app_client_finish(const struct app_options *o, struct app_client_session *cs,
                       const secsock_conn *c);

/* Closes c, a connection app_client_connect made, and what the session
 * made for it (the ECH retry's transport). */
void app_client_close(struct app_client_session *cs, secsock_conn *c);

#endif
