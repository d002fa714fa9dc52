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
    const secsock_conn *c; /* NULL if no connection was made */
    const char *peer;      /* when c is NULL: what we tried */
    double handshake_ms;   /* -1 when the handshake did not finish */
    double total_ms;
    enum secsock_status status;                    /* SECSOCK_OK, or what ended the session */
    const char *error;                             /* its text, or NULL */
    const struct secsock_fingerprint *fingerprint; /* the client's, or NULL */
    int ech_retried;                               /* tcp-client: this connection used the server's
                                 * ECH retry configs (a first one was rejected) */
};

/* The session as one line of JSON on f. */
void json_write_session(FILE *f, const struct json_session *js);

/* A server's ready signal, the first line it writes with --json and the
 * line --ready-fd gets: {"event":"listening","address":...,"port":...,
 * "protocol":...} (and the self-signed certificate's "fingerprint" and
 * "spki_pin"; with ECH, "ech_public_name" and "ech_config_list"). */
struct json_listening {
    const char *program;
    const char *address; /* the bound address, no port, no brackets */
    int port;
    const char *protocol;        /* "tcp", "tls", "udp" or "dtls" */
    const char *fingerprint;     /* --self-signed: its sha256:..., else NULL */
    const char *spki_pin;        /* --self-signed: its public key's sha256//..., else NULL */
    const char *ech_public_name; /* ECH: the config's public name, else NULL */
    const char *ech_config_list; /* ECH: the ECHConfigList clients need (base64), else NULL */
};
void json_write_listening(FILE *f, const struct json_listening *jl);

#endif
