/* Encrypted Client Hello inside the library (ech.c): what the config holds,
 * what the SSL_CTX is given, what a connection reports. */
#ifndef SECSOCK_ECH_INTERNAL_H
#define SECSOCK_ECH_INTERNAL_H

#include <openssl/ssl.h>

#include "secsock/security.h"
#include "secsock/transport.h"

/* What the setters took (part of struct secsock_config). */
struct security_ech_config {
    char *key_file;    /* server: PEM from `openssl ech` */
    char *public_name; /* server: make a key for this name */
    char *config_list; /* client: the ECHConfigList, base64 or PEM text */
    int required;      /* client: refuse a connection without ECH accepted */
    int grease;        /* client: send a GREASE ECH extension */
};

/* What the transport keeps (part of struct security_ctx_state). */
struct security_ech_state {
    int required;      /* client: as above */
    int offered;       /* client: a config is set */
    char *config_list; /* server: its ECHConfigList, base64 (malloc'd) */
    char *public_name; /* server: that config's public name (malloc'd) */
};

void ech_config_clear(struct security_ech_config *ech);

/* Gives ctx the ECH keys (server) or configs (client) of the config, and
 * fills state. 0, or -1 with the reason in err. */
int ech_context_setup(SSL_CTX *ctx, const struct security_ech_config *ech, int max_version,
                      enum secsock_role role, struct security_ech_state *state, char *err,
                      size_t errlen);
void ech_state_clear(struct security_ech_state *state);

/* What ECH did on a connection (secsock_conn_ech_*() give it). */
struct security_ech_facts {
    enum secsock_ech_status status;
    char outer_name[256];         /* the SNI in the clear: the config's public name */
    char inner_name[256];         /* the SNI inside; a server knows it once accepted */
    char retry_config_list[2048]; /* client: the server's retry_configs, base64 */
};

/* What ECH did on ssl. */
void ech_session_info(SSL *ssl, struct security_ech_facts *info);

#endif
