/*
 * What tcp-client and udp-client share around a connection: connecting by
 * the options (--resolve, -4/-6), telling -v what was negotiated, and the
 * --json record with its handshake and total times.
 */
#ifndef SECSOCK_APP_CLIENT_H
#define SECSOCK_APP_CLIENT_H

#include "json.h"
#include "options.h"

struct app_client_session {
    struct json_session js;
    double start_ms;
    int status;                 /* the first failure, for the --json record */
    char error[512];
    struct secsock_fingerprint fingerprint; /* ours (-v, --json), when js.fingerprint is set */
};

/* Connects to HOST:port within timeout_ms. On failure the connection is
 * closed (*out is NULL), the --json record is written, and the status is
 * returned with the reason in err. */
int app_client_connect(const struct app_options *o, const secsock_transport *t,
                       const char *port, int timeout_ms, secsock_conn **out,
                       struct app_client_session *cs, char *err, size_t errlen);

/* Says "PROGRAM: msg" on stderr and, with a session, keeps its first
 * failure for the --json record. Returns the exit code for status. */
int app_client_fail(const struct app_options *o, struct app_client_session *cs, int status,
                    const char *msg);

/* The --json record at the end of the session: its first failure, or ok. */
void app_client_finish(const struct app_options *o, struct app_client_session *cs,
                       const secsock_conn *c);

#endif
