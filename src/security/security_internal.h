/* What the security modules share inside the library. */
#ifndef SECSOCK_SECURITY_INTERNAL_H
#define SECSOCK_SECURITY_INTERNAL_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "secsock/security.h"
#include "secsock/transport.h"
#include "security/ech_internal.h"

/* Mozilla "intermediate": forward-secret AEAD suites only, for TLS 1.2. */
#define SECSOCK_DEFAULT_CIPHERS                                                                    \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Mozilla "intermediate" order for TLS 1.3: AES-128-GCM first, the
 * cheapest with AES-NI (OpenSSL's own default puts AES-256 first). */
#define SECSOCK_DEFAULT_CIPHERSUITES                                                               \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* "sha256:" and 32 colon-separated hex pairs, with its NUL. */
#define SECSOCK_FP_LEN 104
/* "sha256//" and the 44 characters of 32 bytes in base64, with its NUL. */
#define SECSOCK_SPKI_PIN_LEN 53

/* What an SSL's callbacks report to its connection; the SSL's app data
 * points to one (clients and accepted servers; not a DTLS listening SSL). */
struct security_ssl_report {
    int hello_verify; /* DTLS: a HelloVerifyRequest went by */
};

/* What the SSL_CTX's callbacks read. It is owned by the transport and
 * outlives the SSL_CTX. */
struct security_ctx_state {
    int has_pin;
    int pin_kind; /* enum secsock_pin_kind */
    unsigned char pin[32];
    unsigned char *alpn; /* server: the protocols we accept, wire format */
    size_t alpn_len;
    /* A self-signed server: its certificate's fingerprint, public-key pin
     * and PEM text (malloc'd). */
    char fingerprint[SECSOCK_FP_LEN];
    char spki_pin[SECSOCK_SPKI_PIN_LEN];
    char *cert_pem;
    struct security_ech_state ech; /* Encrypted Client Hello (ech.c) */
};

/* Key-exchange groups (groups.c). The default list: the hybrid
 * X25519MLKEM768 first where the library has it, then X25519, P-256 and
 * P-384; DTLS (1.2) the classical three. check: 0, or -1 with ERR naming
 * the first group the library does not know. */
const char *security_default_groups(int dtls);
int security_has_hybrid_group(void);
int security_check_groups(const char *list, char *err, size_t errlen);

/* Builds the SSL_CTX for a role from the config (context.c), filling state. */
SSL_CTX *security_context_new(const secsock_config *cfg, enum secsock_role role,
                              const SSL_METHOD *method, struct security_ctx_state *state, char *err,
                              size_t errlen);
void security_ctx_state_clear(struct security_ctx_state *state);

/* What a transport takes from a configuration besides its SSL_CTX: the
 * transport reads these, never the fields of struct secsock_config, so
 * the config's shape stays the security layer's (config.c). The strings
 * are cfg's: copy them to keep them past it. */
struct security_transport_params {
    const char *keylog_file; /* NULL: no key log */
    const char *servername;  /* client: overrides the host for SNI and verification */
    int mtu;                 /* DTLS path MTU, 0 for the default */
    int keep_client_hello;   /* keep each connection's ClientHello */
};
void security_transport_params(const secsock_config *cfg, struct security_transport_params *p);

/* The process's key-log file (keylog.c). open takes a reference: the first
 * open chooses the file, later ones must name the same; close drops one. */
int keylog_open(const char *path, char *err, size_t errlen);
void keylog_close(void);
void keylog_write_line(const SSL *ssl, const char *line);

/* An ephemeral certificate for localhost (selfsigned.c). */
int selfsigned_make(X509 **cert_out, EVP_PKEY **key_out, char *err, size_t errlen);
/* Its PEM text (malloc'd), or NULL when out of memory. */
char *selfsigned_pem(X509 *cert);

/* A certificate as text (certinfo.c). The names and the SAN list are the
 * peer's, of any length: allocated, never cut (NULL only when out of
 * memory). */
struct security_cert_text {
    char *subject; /* RFC 2253 */
    char *issuer;
    char *san;           /* "DNS:localhost, IP:127.0.0.1" */
    char not_before[32]; /* "2026-12-02T10:00:00Z" */
    char not_after[32];
    char fingerprint[SECSOCK_FP_LEN];    /* "sha256:AB:CD:..." */
    char spki_pin[SECSOCK_SPKI_PIN_LEN]; /* "sha256//BASE64" */
};
void security_cert_text(X509 *cert, struct security_cert_text *out);
void security_cert_text_free(struct security_cert_text *text);
/* 32 bytes as a pin of that kind: "sha256:AB:CD:..." or "sha256//BASE64". */
void security_pin_text(int kind, const unsigned char md[32], char *out, size_t outlen);
/* "sha256:AB:CD:..." of a certificate. */
void security_cert_fingerprint(X509 *cert, char *out, size_t outlen);
/* The SHA-256 of its SubjectPublicKeyInfo (DER): 1, or 0 on failure. */
int security_spki_digest(X509 *cert, unsigned char md[32]);
/* That digest as curl's pin, "sha256//BASE64" ("" on failure). */
void security_spki_pin(X509 *cert, char *out, size_t outlen);
/* A name (RFC 2253) and the SAN list, as printable ASCII: into a buffer
 * (cut to fit: for messages), or allocated (NULL when out of memory). */
void security_name_text(const X509_NAME *name, char *out, size_t outlen);
void security_san_text(X509 *cert, char *out, size_t outlen);
char *security_name_alloc(const X509_NAME *name);
char *security_san_alloc(X509 *cert);
/* Certificate i (0: the leaf) of those the peer sent, whether or not it
 * was verified (a client keeps the server's chain even when refused), or
 * NULL; and how many there are. Borrowed from ssl. */
X509 *security_peer_cert(SSL *ssl, int i);
int security_peer_cert_count(SSL *ssl);
/* What a handshake negotiated (session.c), as the secsock_conn_*
 * accessors hand it out. Internal, so a fact is added without changing
 * the ABI; the sizes are the protocols' own limits (an ALPN name and a
 * host name are at most 255 bytes), so nothing is cut. */
struct security_session {
    char protocol[16]; /* "TLSv1.3"; "" before a session exists */
    char cipher[64];
    char group[32]; /* key-exchange group, e.g. "x25519" */
    char alpn[256];
    char sni[256]; /* sent (client) or received (server) */
    int resumed;
    int verified;            /* verification was performed and passed */
    char verify_result[128]; /* "ok", or the reason it failed */
    int cookie_exchange;     /* DTLS: a HelloVerifyRequest was sent or received */
};
/* Fills s from an SSL object; the backend adds what only it knows. */
void security_session_facts(SSL *ssl, struct security_session *s);

/* The first error on OpenSSL's queue as text, and clears the queue (ssl_error.c). */
const char *security_ssl_error_text(char *buf, size_t len);

#endif
