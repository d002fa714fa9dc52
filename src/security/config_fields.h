/*
 * The fields of a secsock_config, for the security layer alone (config.c
 * sets them, context.c builds an SSL_CTX from them). The transport layer
 * gets what it needs through security_transport_params()
 * (security_internal.h), so the config can change shape without it.
 */
#ifndef SECSOCK_SECURITY_CONFIG_FIELDS_H
#define SECSOCK_SECURITY_CONFIG_FIELDS_H

#include <stddef.h>

#include "secsock/security.h"
#include "security/ech_internal.h"

struct secsock_config {
    char *cafile;
    char *cert_file;
    char *key_file;
    char *servername;
    char *alpn; /* wire format: length-prefixed protocol names */
    size_t alpn_len;
    char *ciphers;
    char *ciphersuites;
    char *groups; /* NULL: security_default_groups() */
    char *keylog_file;
    int self_signed;
    int insecure;
    int verify_client;
    int has_pin;
    int pin_kind; /* enum secsock_pin_kind */
    unsigned char pin[32];
    int min_version;
    int max_version;
    int mtu;                        /* DTLS path MTU, 0 for the default */
    int session_tickets;            /* servers: TLS 1.3 tickets per handshake, -1 for OpenSSL's */
    int keep_client_hello;          /* secsock_conn_client_hello() has the ClientHello */
    struct security_ech_config ech; /* Encrypted Client Hello (ech.c) */
    char error[256];
};

#endif
