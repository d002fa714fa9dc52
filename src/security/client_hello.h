/*
 * A TLS or DTLS ClientHello read from its bytes (client_hello.c), for the
 * client fingerprints (fingerprint.c). Nothing of OpenSSL: the bytes are a
 * peer's, so every length is checked before it is followed, and the parsed
 * form only points into them.
 */
#ifndef SECSOCK_SECURITY_CLIENT_HELLO_H
#define SECSOCK_SECURITY_CLIENT_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* Values of one width (1 or 2 bytes, big-endian) inside the hello. */
struct hello_values {
    const unsigned char *p;
    size_t count;
    int width;
};

struct client_hello {
    int dtls;                /* 1 for DTLS, 0 for TLS */
    unsigned legacy_version; /* the ClientHello's own version field */
    struct hello_values ciphers;
    const unsigned char *extensions; /* the extension block: type, length, data... */
    size_t extensions_len;
    size_t extension_count; /* GREASE included */
    int has_sni;
    int has_supported_versions;
    struct hello_values supported_versions;
    struct hello_values groups;        /* supported_groups (was elliptic_curves) */
    struct hello_values point_formats; /* ec_point_formats */
    struct hello_values sigalgs;       /* signature_algorithms */
    int has_alpn;
    const unsigned char *alpn_first; /* the first protocol offered, not NUL-terminated */
    size_t alpn_first_len;
};

/* Reads a ClientHello from a TLS record (first byte 22, version 3.x), a
 * DTLS record (version 254.x), or the bare handshake message (first byte
 * 1), which one told by the bytes. Only the first record is read, and the
 * message must be whole in it (for DTLS: one fragment at offset 0).
 * Returns 0; SECSOCK_WANT_READ when the bytes end before the record (or the
 * bare message) does, so more of them may complete it; SECSOCK_ERR_PROTOCOL
 * for anything else: not a ClientHello, malformed, or one that goes on in
 * another record or fragment. */
int client_hello_parse(const unsigned char *data, size_t len, struct client_hello *ch);

/* The i-th value of v. */
unsigned hello_value(const struct hello_values *v, size_t i);

/* Writes the hello's ch->extension_count extension types, in order, to
 * types. */
void client_hello_extension_types(const struct client_hello *ch, uint16_t *types);

/* RFC 8701's GREASE values, 0x0a0a, 0x1a1a, ... 0xfafa: a client sends
 * them so servers tolerate the unknown, and fingerprints leave them out. */
int hello_is_grease(unsigned v);

#endif
