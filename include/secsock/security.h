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
 * Setters return SECSOCK_OK, or SECSOCK_ERR_CONFIG (SECSOCK_ERR_NOMEM) with
 * the reason in secsock_config_error(), the config's one error channel.
 * Values are checked when set (a file must be readable, a cipher name must
 * exist), so a mistake is reported by the setter that took it, not later.
 *
 * Threads: a config is used by one thread at a time while it is being set
 * up; once handed to secsock_transport_new() it is only read (and may be
 * freed as soon as that returns). secsock_parse_pin() is thread-safe.
 */
#ifndef SECSOCK_SECURITY_H
#define SECSOCK_SECURITY_H

#include <stddef.h>

#include "secsock/api.h"
#include "secsock/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct secsock_config secsock_config;

/* TLS protocol versions. */
enum secsock_tls_version {
    SECSOCK_TLS_ANY = 0,
    SECSOCK_TLS1_2 = 0x0303,
    SECSOCK_TLS1_3 = 0x0304,
};

/* A new config with the defaults above in *out: SECSOCK_OK, or
 * SECSOCK_ERR_NOMEM with *out NULL. */
SECSOCK_API enum secsock_status secsock_config_new(secsock_config **out);
/* Frees cfg (NULL is fine). */
SECSOCK_API void secsock_config_free(secsock_config *cfg);
/* The reason the last setter failed, one line; "" before any failure.
 * Never NULL; valid until the next setter call or secsock_config_free(). */
SECSOCK_API const char *secsock_config_error(const secsock_config *cfg);

/* Trust anchors for verifying the peer (PEM). Without one, the system store.
 * A server needs one for secsock_config_verify_client(). SECSOCK_ERR_CONFIG if
 * unreadable. */
SECSOCK_API enum secsock_status secsock_config_set_cafile(secsock_config *cfg, const char *path);
/* Own certificate chain (PEM, leaf first; a full-chain file is fine) and
 * key (PEM). SECSOCK_ERR_CONFIG if the file is unreadable; whether they parse and match is
 * checked by secsock_transport_new(). A server needs both (or
 * self-signed); a client sends them when asked (mutual TLS). */
SECSOCK_API enum secsock_status secsock_config_set_cert_file(secsock_config *cfg, const char *path);
SECSOCK_API enum secsock_status secsock_config_set_key_file(secsock_config *cfg, const char *path);
/* Server: make an ephemeral self-signed certificate in memory instead
 * (on != 0); see secsock_transport_fingerprint(), secsock_transport_spki_pin()
 * and secsock_transport_cert_pem(). Returns SECSOCK_OK; with a
 * certificate or key file as well, secsock_transport_new() refuses. */
SECSOCK_API enum secsock_status secsock_config_set_self_signed(secsock_config *cfg, int on);
/* Client: the name sent as SNI and verified (default: the host connected to).
 * An IP literal is verified against the certificate's IP SANs, and no SNI is sent.
 * SECSOCK_ERR_CONFIG for an empty name, one over 253 bytes or with characters no host name
 * has. */
SECSOCK_API enum secsock_status secsock_config_set_servername(secsock_config *cfg,
                                                              const char *name);
/* Client: turn off certificate and name verification. Callers must warn.
 * Returns SECSOCK_OK. */
SECSOCK_API enum secsock_status secsock_config_insecure_noverify(secsock_config *cfg);
/* Client: accept exactly this server, instead of verifying a chain, its
 * dates and a name. Either its certificate: "sha256:" and the SHA-256
 * fingerprint in 64 hex digits (any case, colons allowed); or its public
 * key: "sha256//" and the SHA-256 of its SubjectPublicKeyInfo in base64
 * (curl's --pinnedpubkey form, which still holds when a certificate is
 * renewed with the same key). SECSOCK_ERR_CONFIG if malformed. */
SECSOCK_API enum secsock_status secsock_config_set_pin(secsock_config *cfg, const char *pin);
/* Server: demand a client certificate signed by the CA file (on != 0);
 * secsock_transport_new() fails without a CA file. Returns SECSOCK_OK. */
SECSOCK_API enum secsock_status secsock_config_verify_client(secsock_config *cfg, int on);
/* Comma-separated ALPN protocols, e.g. "h2,http/1.1": offered by a client;
 * a server picks the first of its own the client offers, or none.
 * SECSOCK_ERR_CONFIG for an empty element or one over 255 bytes. */
SECSOCK_API enum secsock_status secsock_config_set_alpn(secsock_config *cfg, const char *list);
/* TLS versions: "1.2" or "1.3" (defaults: 1.2 to 1.3; DTLS is 1.2).
 * SECSOCK_ERR_CONFIG for anything else, and for a minimum above the maximum or the reverse. */
SECSOCK_API enum secsock_status secsock_config_set_min_version(secsock_config *cfg,
                                                               const char *version);
SECSOCK_API enum secsock_status secsock_config_set_max_version(secsock_config *cfg,
                                                               const char *version);
/* OpenSSL cipher strings: TLS 1.2 (and DTLS) list and TLS 1.3 suites.
 * Checked here, element by element: SECSOCK_ERR_CONFIG naming the first
 * unknown one. */
SECSOCK_API enum secsock_status secsock_config_set_ciphers(secsock_config *cfg, const char *list);
SECSOCK_API enum secsock_status secsock_config_set_ciphersuites(secsock_config *cfg,
                                                                const char *list);
/* Key-exchange groups, OpenSSL's colon-separated names in order of
 * preference, e.g. "X25519:P-256". The default: X25519MLKEM768 (hybrid
 * post-quantum, where the library has it: OpenSSL 3.5 and later), X25519,
 * P-256, P-384; for DTLS the classical three. Checked here:
 * SECSOCK_ERR_CONFIG naming the first unknown group (or the OpenSSL version
 * a post-quantum one needs). */
SECSOCK_API enum secsock_status secsock_config_set_groups(secsock_config *cfg, const char *list);
/* DTLS: the path MTU (IP packet size) records must fit; 0 means 1280,
 * IPv6's minimum, which any path carries. SECSOCK_ERR_CONFIG unless 0 or
 * 576 to 65535. */
SECSOCK_API enum secsock_status secsock_config_set_mtu(secsock_config *cfg, int mtu);
/* Servers: TLS 1.3 session tickets sent after each full handshake (the
 * default is OpenSSL's 2). 0 sends none and keeps no session cache: every
 * client then does a full handshake, and the server saves the work of
 * making tickets nobody uses. SECSOCK_ERR_CONFIG unless 0 to 10. */
SECSOCK_API enum secsock_status secsock_config_set_session_tickets(secsock_config *cfg,
                                                                   int tickets);
/* Keep each connection's ClientHello record (on != 0), for its
 * fingerprints (secsock_conn_client_hello(), fingerprint.h): the one a
 * client sends, the one a DTLS server accepts. Off by default, and then no
 * copy is made. (A TLS server sees it first: a caller that wants it peeks
 * at the socket before the handshake.) Returns SECSOCK_OK. */
SECSOCK_API enum secsock_status secsock_config_keep_client_hello(secsock_config *cfg, int on);
/* Append session secrets in NSS key-log format to this file (created with
 * mode 0600), for Wireshark. The file is opened by secsock_transport_new();
 * a process has one key-log file. SECSOCK_ERR_CONFIG for an empty name. The library never
 * reads SSLKEYLOGFILE itself: the programs pass it here. */
SECSOCK_API enum secsock_status secsock_config_set_keylog_file(secsock_config *cfg,
                                                               const char *path);

/* Encrypted Client Hello (ECH, RFC 9849; TLS 1.3 only). The client
 * encrypts its real ClientHello, server name and all, to a key the server
 * published in an ECHConfigList; an observer sees only the outer
 * ClientHello, whose SNI is the config's public name. It needs a library
 * built with OpenSSL 4.0 or later: secsock_ech_supported() says 1 when
 * this one was. Elsewhere each ECH setter returns SECSOCK_ERR_CONFIG, its
 * message naming the OpenSSL needed and the one in use. Thread-safe. */
SECSOCK_API int secsock_ech_supported(void);
/* Server: its ECH key and ECHConfigList, a PEM file as
 * `openssl ech -public_name NAME -out FILE` writes it. SECSOCK_ERR_CONFIG if unreadable,
 * or when it holds no ECH key. */
SECSOCK_API enum secsock_status secsock_config_set_ech_key_file(secsock_config *cfg,
                                                                const char *path);
/* Server: make a fresh ECH key for this public name when the transport is
 * made (secsock_transport_ech_config_list() gives its ECHConfigList).
 * SECSOCK_ERR_CONFIG for a name that is no host name. Either this or a key file, not both. */
SECSOCK_API enum secsock_status secsock_config_set_ech_public_name(secsock_config *cfg,
                                                                   const char *name);
/* Client: offer ECH with this ECHConfigList: base64 (as in a DNS HTTPS
 * record's ech= and curl's --ech ecl:), whitespace allowed, or the PEM
 * text of `openssl ech` (only its ECHCONFIG block is read). SECSOCK_ERR_CONFIG when it is
 * not one, or holds no config this library can use. A server that does
 * not accept it (no ECH, another key) makes the handshake fail (RFC 9849
 * says so: the real name is never sent in the clear instead). */
SECSOCK_API enum secsock_status secsock_config_set_ech_config_list(secsock_config *cfg,
                                                                   const char *text);
/* Client: refuse any connection in which ECH was not accepted (on != 0):
 * also one made without a config, or with GREASE only. Returns SECSOCK_OK. */
SECSOCK_API enum secsock_status secsock_config_require_ech(secsock_config *cfg, int on);
/* Client: send a GREASE ECH extension (on != 0), a random one no server
 * can decrypt, so that ECH looks ordinary on the wire; nothing is hidden.
 * Not together with a config. Returns SECSOCK_OK (SECSOCK_ERR_CONFIG without
 * ECH support). */
SECSOCK_API enum secsock_status secsock_config_set_ech_grease(secsock_config *cfg, int on);

/* What a pin (secsock_config_set_pin) names. */
enum secsock_pin_kind {
    SECSOCK_PIN_CERT = 0, /* "sha256:HEX": the certificate's SHA-256 */
    SECSOCK_PIN_SPKI = 1, /* "sha256//BASE64": its public key's (SPKI) SHA-256 */
};
/* Parses a pin (the syntax above) into its 32 bytes and its kind:
 * SECSOCK_OK, or SECSOCK_ERR_CONFIG if malformed (out and *kind are then
 * unchanged). Thread-safe. */
SECSOCK_API enum secsock_status secsock_parse_pin(const char *pin, unsigned char out[32],
                                                  enum secsock_pin_kind *kind);

#ifdef __cplusplus
}
#endif
#endif
