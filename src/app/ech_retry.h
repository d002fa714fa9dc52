/*
 * ECH retry configs (RFC 9849 §6.1.6): a server with ECH that cannot
 * decrypt our offer (a stale config) completes the outer handshake as its
 * public name and sends its current configs. Once that handshake is
 * authenticated, the client may take them as the securely replaced
 * configuration and SHOULD retry on a new connection with them; tcp-client
 * does so once (client.c), as browsers do. This decides when, and makes
 * what the retry needs.
 */
#ifndef SECSOCK_APP_ECH_RETRY_H
#define SECSOCK_APP_ECH_RETRY_H

#include <stddef.h>

#include "options.h"
#include "secsock/transport.h"

enum app_ech_retry {
    APP_ECH_NO_RETRY,        /* not an ECH rejection with retry configs */
    APP_ECH_RETRY,           /* rejected with retry configs from a verified server */
    APP_ECH_UNAUTHENTICATED, /* retry configs, but the certificate was not verified */
};

/* Whether c, a failed connection, may be retried with the configs its
 * server sent (secsock_conn_ech_retry_config_list). Only a verified
 * certificate (for the public name) vouches for them: with verification
 * off they could come from anyone on the path. */
enum app_ech_retry app_ech_retry_wanted(const secsock_conn *c);

/* A transport as o makes it, with configs (base64) as the ECHConfigList;
 * NULL with the reason in err (e.g. no config this OpenSSL can use). */
secsock_transport *app_ech_retry_transport(const struct app_options *o, const char *configs,
                                           char *err, size_t errlen);

/* The address c connected to, numeric and without port or brackets (as
 * secsock_connect_opts.connect_addr wants it): the retry goes to the
 * server that sent the configs. 0, or -1 when c has none. */
int app_ech_retry_address(const secsock_conn *c, char *addr, size_t len);

#endif
