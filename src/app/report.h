/* What the programs tell the user: log lines and TLS session details. */
#ifndef SECSOCK_APP_REPORT_H
#define SECSOCK_APP_REPORT_H

#include <stdio.h>

#include "secsock/transport.h"

/* One whole line to f, safe from any thread (a line is never interleaved),
 * after the time with --timestamps (log.h). Never left out by --quiet:
 * errors, the listening line, the summary; a client's progress is
 * app_log_client's. */
void app_log(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Milliseconds on the monotonic clock, for handshake and session times. */
double app_now_ms(void);

/* The negotiated session (-v): version, cipher, group, ALPN, SNI, the peer
 * certificate and the verification result, each line starting with prefix. */
void app_print_session(FILE *f, const char *prefix, const secsock_conn *c);

/* The ECH line of app_print_session alone (nothing when ECH was not
 * offered): a server with ECH logs it for each client without -v. */
void app_print_ech_line(FILE *f, const char *prefix, const secsock_conn *c);

/* A client's fingerprints (-v): "JA4 t13d...  JA3 <md5>" after prefix.
 * Nothing in them needs escaping: hex, digits and ALPN's alphanumerics. */
void app_print_fingerprint(FILE *f, const char *prefix, const struct secsock_fingerprint *fp);

#endif
