/*
 * --json: one JSON object per session on stderr, so scripts never parse
 * the human log lines.
 */
#ifndef SECSOCK_APP_JSON_H
#define SECSOCK_APP_JSON_H

#include <stdio.h>

#include "secsock/transport.h"

struct json_session {
    const char *program;
    const secsock_transport *t;
    const secsock_conn *c;      /* NULL if no connection was made */
    const char *peer;           /* when c is NULL: what we tried */
    double handshake_ms;        /* -1 when the handshake did not finish */
    double total_ms;
    int status;                 /* 0 or the secsock_status that ended the session */
    const char *error;          /* its text, or NULL */
};

/* The session as one line of JSON on f. */
void json_write_session(FILE *f, const struct json_session *js);

#endif
