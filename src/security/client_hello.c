/*
 * Reading a ClientHello (RFC 8446 4.1.2, RFC 6347 4.2.2 for DTLS's cookie
 * and handshake header) from a peer's bytes: a cursor that never reads past
 * its end, and checks of every length inside.
 */
#include "security/client_hello.h"

#include <string.h>

#include "secsock/transport.h"

#define TLS_RECORD_HEADER 5
#define DTLS_RECORD_HEADER 13
#define TLS_HANDSHAKE_HEADER 4
#define DTLS_HANDSHAKE_HEADER 12
#define CONTENT_HANDSHAKE 22
#define HANDSHAKE_CLIENT_HELLO 1

#define EXT_SERVER_NAME 0x0000
#define EXT_SUPPORTED_GROUPS 0x000a
#define EXT_EC_POINT_FORMATS 0x000b
#define EXT_SIGNATURE_ALGORITHMS 0x000d
#define EXT_ALPN 0x0010
#define EXT_SUPPORTED_VERSIONS 0x002b

/* What is left to read. */
struct cursor {
    const unsigned char *p;
    size_t left;
};

static int take(struct cursor *c, size_t n, const unsigned char **out)
{
    if (c->left < n)
        return -1;
    if (out != NULL)
        *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

/* A big-endian number of n bytes (1 to 3). */
static int take_uint(struct cursor *c, size_t n, size_t *v)
{
    const unsigned char *b;
    if (take(c, n, &b) != 0)
        return -1;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v = (*v << 8) | b[i];
    return 0;
}

/* A vector with a length prefix of prefix bytes, as a sub-cursor. */
static int take_vector(struct cursor *c, size_t prefix, struct cursor *inner)
{
    size_t n;
    if (take_uint(c, prefix, &n) != 0 || take(c, n, &inner->p) != 0)
        return -1;
    inner->left = n;
    return 0;
}

static unsigned be16(const unsigned char *b)
{
    return (unsigned)b[0] << 8 | b[1];
}

int hello_is_grease(unsigned v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

unsigned hello_value(const struct hello_values *v, size_t i)
{
    return v->width == 1 ? v->p[i] : be16(v->p + 2 * i);
}

/* An extension's body that is exactly one vector of width-byte values. */
static int values_of(struct cursor body, size_t prefix, int width, struct hello_values *out)
{
    struct cursor list;
    if (take_vector(&body, prefix, &list) != 0 || body.left != 0 || list.left % (size_t)width != 0)
        return -1;
    *out = (struct hello_values){ .p = list.p, .count = list.left / (size_t)width, .width = width };
    return 0;
}

/* ALPN (RFC 7301): a list of non-empty names; only the first is kept.
 * An empty list or an empty first name are kept as they are: JA4 says
 * "00" for both. */
static int alpn_of(struct cursor body, struct client_hello *ch)
{
    struct cursor list, name;
    if (take_vector(&body, 2, &list) != 0 || body.left != 0)
        return -1;
    ch->has_alpn = 1;
    if (list.left == 0)
        return 0;
    if (take_vector(&list, 1, &name) != 0)
        return -1;
    ch->alpn_first = name.p;
    ch->alpn_first_len = name.left;
    return 0;
}

/* One extension; the first of a type counts if it comes twice (a server
 * would refuse such a hello anyway). */
static int read_extension(unsigned type, struct cursor body, struct client_hello *ch)
{
    switch (type) {
    case EXT_SERVER_NAME: ch->has_sni = 1; return 0;
    case EXT_SUPPORTED_GROUPS: return ch->groups.p != NULL ? 0 : values_of(body, 2, 2, &ch->groups);
    case EXT_EC_POINT_FORMATS:
        return ch->point_formats.p != NULL ? 0 : values_of(body, 1, 1, &ch->point_formats);
    case EXT_SIGNATURE_ALGORITHMS:
        return ch->sigalgs.p != NULL ? 0 : values_of(body, 2, 2, &ch->sigalgs);
    case EXT_ALPN: return ch->has_alpn ? 0 : alpn_of(body, ch);
    case EXT_SUPPORTED_VERSIONS:
        if (ch->has_supported_versions)
            return 0;
        ch->has_supported_versions = 1;
        return values_of(body, 1, 2, &ch->supported_versions);
    default: return 0;
    }
}

static int read_extensions(struct cursor block, struct client_hello *ch)
{
    ch->extensions = block.p;
    ch->extensions_len = block.left;
    while (block.left > 0) {
        size_t type;
        struct cursor body;
        if (take_uint(&block, 2, &type) != 0 || take_vector(&block, 2, &body) != 0 ||
            read_extension((unsigned)type, body, ch) != 0)
            return -1;
        ch->extension_count++;
    }
    return 0;
}

/* The ClientHello's body, after the handshake header. */
static int read_body(struct cursor body, struct client_hello *ch)
{
    size_t version;
    struct cursor session_id, cookie, ciphers, compression, extensions;
    if (take_uint(&body, 2, &version) != 0 || take(&body, 32, NULL) != 0 ||
        take_vector(&body, 1, &session_id) != 0 || session_id.left > 32)
        return -1;
    if (ch->dtls && take_vector(&body, 1, &cookie) != 0)
        return -1;
    if (take_vector(&body, 2, &ciphers) != 0 || ciphers.left % 2 != 0 ||
        take_vector(&body, 1, &compression) != 0)
        return -1;
    ch->legacy_version = (unsigned)version;
    ch->ciphers = (struct hello_values){ .p = ciphers.p, .count = ciphers.left / 2, .width = 2 };
    if (body.left == 0)
        return 0; /* no extensions at all: an old client */
    if (take_vector(&body, 2, &extensions) != 0 || body.left != 0)
        return -1;
    return read_extensions(extensions, ch);
}

/* The handshake message in msg (a record's payload, or the bare message):
 * its header, then the body, which must be whole in msg. more: what to
 * say when it is not (WANT_READ for a bare message that the next bytes
 * may complete; PROTOCOL inside a record, read alone). */
static int read_message(struct cursor msg, struct client_hello *ch, int more)
{
    size_t type, length, seq, offset, fragment;
    if (take_uint(&msg, 1, &type) != 0 || take_uint(&msg, 3, &length) != 0)
        return more;
    if (type != HANDSHAKE_CLIENT_HELLO)
        return SECSOCK_ERR_PROTOCOL;
    if (ch->dtls) {
        if (take_uint(&msg, 2, &seq) != 0 || take_uint(&msg, 3, &offset) != 0 ||
            take_uint(&msg, 3, &fragment) != 0)
            return more;
        if (offset != 0 || fragment != length)
            return SECSOCK_ERR_PROTOCOL; /* in fragments: not read here */
    }
    if (msg.left < length)
        return more;
    msg.left = length; /* what follows in the record is not the hello's */
    return read_body(msg, ch) == 0 ? 0 : SECSOCK_ERR_PROTOCOL;
}

int client_hello_parse(const unsigned char *data, size_t len, struct client_hello *ch)
{
    memset(ch, 0, sizeof *ch);
    struct cursor c = { .p = data, .left = len };
    if (len == 0)
        return SECSOCK_WANT_READ;
    if (data[0] == HANDSHAKE_CLIENT_HELLO) {
        /* A bare message: TLS's version comes right after its 4-byte
         * header, DTLS's after 12 (a 2-byte message_seq, small, at 4). */
        if (len < TLS_HANDSHAKE_HEADER + 1)
            return SECSOCK_WANT_READ;
        if (data[TLS_HANDSHAKE_HEADER] != 3) {
            if (len < DTLS_HANDSHAKE_HEADER + 1)
                return SECSOCK_WANT_READ;
            if (data[DTLS_HANDSHAKE_HEADER] != 0xfe)
                return SECSOCK_ERR_PROTOCOL;
            ch->dtls = 1;
        }
        return read_message(c, ch, SECSOCK_WANT_READ);
    }
    if (data[0] != CONTENT_HANDSHAKE)
        return SECSOCK_ERR_PROTOCOL;
    if (len < 2)
        return SECSOCK_WANT_READ;
    if (data[1] != 3 && data[1] != 0xfe)
        return SECSOCK_ERR_PROTOCOL;
    ch->dtls = data[1] == 0xfe;
    size_t header = ch->dtls ? DTLS_RECORD_HEADER : TLS_RECORD_HEADER;
    struct cursor payload;
    if (take(&c, header - 2, NULL) != 0 || take_vector(&c, 2, &payload) != 0)
        return SECSOCK_WANT_READ; /* the header, or the record, is not all there */
    return read_message(payload, ch, SECSOCK_ERR_PROTOCOL);
}

void client_hello_extension_types(const struct client_hello *ch, uint16_t *types)
{
    struct cursor block = { .p = ch->extensions, .left = ch->extensions_len };
    size_t type = 0;
    struct cursor body;
    for (size_t i = 0; i < ch->extension_count; i++) {
        /* Checked by read_extensions: these cannot fail. */
        (void)take_uint(&block, 2, &type);
        (void)take_vector(&block, 2, &body);
        types[i] = (uint16_t)type;
    }
}
