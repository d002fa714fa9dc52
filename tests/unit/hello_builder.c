/* ClientHellos built byte by byte (hello_builder.h). */
#include "hello_builder.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* v as a big-endian number of 1 to 4 bytes. */
void hello_put(struct buf *b, unsigned v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        b->b[b->len++] = (unsigned char)(v >> (8 * i));
}

void hello_put_bytes(struct buf *b, const void *p, size_t n)
{
    memcpy(b->b + b->len, p, n);
    b->len += n;
}

/* A vector's length prefix, filled in by vec_end. */
size_t hello_vec_begin(struct buf *b, int prefix)
{
    size_t at = b->len;
    b->len += (size_t)prefix;
    return at;
}

void hello_vec_end(struct buf *b, size_t at, int prefix)
{
    size_t n = b->len - at - (size_t)prefix;
    for (int i = prefix - 1; i >= 0; i--, n >>= 8)
        b->b[at + (size_t)i] = (unsigned char)n;
}

struct ext hello_ext_list(unsigned type, int prefix, int width, const unsigned *v, size_t n)
{
    struct ext e = { .type = type };
    struct buf *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    size_t at = hello_vec_begin(b, prefix);
    for (size_t i = 0; i < n; i++)
        hello_put(b, v[i], width);
    hello_vec_end(b, at, prefix);
    ck_assert_uint_le(b->len, sizeof e.data);
    memcpy(e.data, b->b, b->len);
    e.len = b->len;
    free(b);
    return e;
}

struct ext hello_ext_raw(unsigned type, const void *data, size_t len)
{
    struct ext e = { .type = type, .len = len };
    memcpy(e.data, data, len);
    return e;
}

/* ALPN's names, each a (length, bytes) pair in names. */
struct ext hello_ext_alpn(const char *const *names, const size_t *lens, size_t n)
{
    struct ext e = { .type = 0x0010 };
    struct buf b = { .len = 0 };
    size_t at = hello_vec_begin(&b, 2);
    for (size_t i = 0; i < n; i++) {
        hello_put(&b, (unsigned)lens[i], 1);
        hello_put_bytes(&b, names[i], lens[i]);
    }
    hello_vec_end(&b, at, 2);
    memcpy(e.data, b.b, b.len);
    e.len = b.len;
    return e;
}

struct ext hello_ext_alpn1(const char *name, size_t len)
{
    return hello_ext_alpn(&name, &len, 1);
}

struct ext hello_ext_sni(const char *host)
{
    struct ext e = { .type = 0x0000 };
    struct buf b = { .len = 0 };
    size_t list = hello_vec_begin(&b, 2);
    hello_put(&b, 0, 1); /* host_name */
    size_t name = hello_vec_begin(&b, 2);
    hello_put_bytes(&b, host, strlen(host));
    hello_vec_end(&b, name, 2);
    hello_vec_end(&b, list, 2);
    memcpy(e.data, b.b, b.len);
    e.len = b.len;
    return e;
}

/* The ClientHello handshake message (header included) appended to b. */
void hello_build_message(struct buf *b, const struct hello *h)
{
    hello_put(b, 1, 1);
    size_t len_at = b->len;
    hello_put(b, 0, 3);
    if (h->dtls) {
        hello_put(b, 0, 2); /* message_seq */
        hello_put(b, 0, 3); /* fragment_offset */
        hello_put(b, 0, 3); /* fragment_length: set below */
    }
    size_t body = b->len;
    hello_put(b, h->version, 2);
    for (int i = 0; i < 32; i++)
        hello_put(b, (unsigned)i, 1); /* random */
    hello_put(b, 32, 1);
    for (int i = 0; i < 32; i++)
        hello_put(b, 0xee, 1); /* session_id */
    if (h->dtls) {
        hello_put(b, 4, 1);
        hello_put(b, 0xc00c1e, 4); /* cookie: not part of any fingerprint */
    }
    size_t at = hello_vec_begin(b, 2);
    for (size_t i = 0; i < h->nciphers; i++)
        hello_put(b, h->ciphers[i], 2);
    hello_vec_end(b, at, 2);
    hello_put(b, 1, 1);
    hello_put(b, 0, 1); /* compression: null */
    if (!h->no_extension_block) {
        at = hello_vec_begin(b, 2);
        for (size_t i = 0; i < h->nexts; i++) {
            hello_put(b, h->exts[i].type, 2);
            size_t e = hello_vec_begin(b, 2);
            hello_put_bytes(b, h->exts[i].data, h->exts[i].len);
            hello_vec_end(b, e, 2);
        }
        hello_vec_end(b, at, 2);
    }
    size_t n = b->len - body;
    for (int i = 0; i < 3; i++) {
        b->b[len_at + (size_t)i] = (unsigned char)(n >> (8 * (2 - i)));
        if (h->dtls)
            b->b[len_at + 3 + 5 + (size_t)i] = (unsigned char)(n >> (8 * (2 - i)));
    }
}

/* The hello in one record, as a client sends it. */
void hello_build_record(struct buf *b, const struct hello *h)
{
    b->len = 0;
    hello_put(b, 22, 1);
    if (h->dtls) {
        hello_put(b, 0xfeff, 2); /* DTLS 1.0 on the record, as OpenSSL sends it */
        hello_put(b, 0, 2);      /* epoch */
        hello_put(b, 0, 2);
        hello_put(b, 0, 4); /* sequence number: 48 bits */
    } else {
        hello_put(b, 0x0301, 2); /* TLS 1.0 on the record: ignored by JA4 */
    }
    size_t at = hello_vec_begin(b, 2);
    hello_build_message(b, h);
    hello_vec_end(b, at, 2);
}

struct buf *hello_new_buf(void)
{
    struct buf *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    return b;
}
