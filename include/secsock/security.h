/*
 * secsock security configuration.
 *
 * A small opaque object, modelled on libtls's tls_config: it holds what the
 * user asked for (trust anchors, own certificate, verification mode, versions,
 * ciphers, ALPN, key log) with secure defaults. A transport (transport.h)
 * turns it into the one SSL_CTX a process uses.
 *
 * Defaults: peer verification on, hostname/IP checked, TLS 1.2 minimum,
 * forward-secret AEAD cipher suites only, renegotiation off.
 *
 * Setters return 0, or -1 with the reason in secsock_config_error().
 * A config is not thread-safe while it is being set up; once handed to
 * secsock_transport_new() it is only read.
 */
#ifndef SECSOCK_SECURITY_H
#define SECSOCK_SECURITY_H

#include <stddef.h>

#include "secsock/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct secsock_config secsock_config;

/* TLS protocol versions, as used by --tls-min / --tls-max. */
enum secsock_tls_version {
    SECSOCK_TLS_ANY = 0,
    SECSOCK_TLS1_2 = 0x0303,
    SECSOCK_TLS1_3 = 0x0304,
};

SECSOCK_API secsock_config *secsock_config_new(void);
SECSOCK_API void secsock_config_free(secsock_config *cfg);
SECSOCK_API const char *secsock_config_error(const secsock_config *cfg);

/* Trust anchors for verifying the peer (PEM). Without one, the system store. */
SECSOCK_API int secsock_config_set_cafile(secsock_config *cfg, const char *path);
/* Own certificate chain (PEM, leaf first; a full-chain file is fine) and key. */
SECSOCK_API int secsock_config_set_cert_file(secsock_config *cfg, const char *path);
SECSOCK_API int secsock_config_set_key_file(secsock_config *cfg, const char *path);
/* Server: make an ephemeral self-signed certificate in memory instead. */
SECSOCK_API int secsock_config_set_self_signed(secsock_config *cfg, int on);
/* Client: the name sent as SNI and verified (default: the host connected to).
 * An IP literal is verified against the certificate's IP SANs, and no SNI is sent. */
SECSOCK_API int secsock_config_set_servername(secsock_config *cfg, const char *name);
/* Client: turn off certificate and name verification. Callers must warn. */
SECSOCK_API int secsock_config_insecure_noverify(secsock_config *cfg);
/* Client: accept exactly the certificate with this SHA-256 fingerprint,
 * "sha256:" followed by 64 hex digits (any case, colons allowed). */
SECSOCK_API int secsock_config_set_pin(secsock_config *cfg, const char *pin);
/* Server: demand a client certificate signed by the CA file. */
SECSOCK_API int secsock_config_verify_client(secsock_config *cfg, int on);
/* Comma-separated ALPN protocols, e.g. "h2,http/1.1". */
SECSOCK_API int secsock_config_set_alpn(secsock_config *cfg, const char *list);
/* "1.2" or "1.3"; min below 1.2 is refused. */
SECSOCK_API int secsock_config_set_min_version(secsock_config *cfg, const char *version);
SECSOCK_API int secsock_config_set_max_version(secsock_config *cfg, const char *version);
/* OpenSSL cipher strings: TLS 1.2 list and TLS 1.3 suites. Checked here. */
SECSOCK_API int secsock_config_set_ciphers(secsock_config *cfg, const char *list);
SECSOCK_API int secsock_config_set_ciphersuites(secsock_config *cfg, const char *list);
/* DTLS: the path MTU (IP packet size) records must fit; 0 means 1280,
 * IPv6's minimum, which any path carries. */
SECSOCK_API int secsock_config_set_mtu(secsock_config *cfg, int mtu);
/* Write session secrets in NSS key-log format to this file (mode 0600). */
SECSOCK_API int secsock_config_set_keylog_file(secsock_config *cfg, const char *path);

/* Parses "sha256:HEX" into 32 bytes. Returns 0 or -1. */
SECSOCK_API int secsock_parse_pin(const char *pin, unsigned char out[32]);

#ifdef __cplusplus
}
#endif
#endif
