/*
 * ClientHellos built byte by byte, as the fingerprint tests
 * (test_fingerprint.c) need them: a message or a record, TLS or DTLS,
 * with the ciphers and extensions (in their order) a test asks for.
 */
#ifndef SECSOCK_TEST_HELLO_BUILDER_H
#define SECSOCK_TEST_HELLO_BUILDER_H

#include <stddef.h>

struct buf {
    unsigned char b[1 << 16];
    size_t len;
};

struct ext {
    unsigned type;
    unsigned char data[512];
    size_t len;
};

/* An extension whose body is a list of width-byte values behind a
 * prefix-byte length. */

struct hello {
    int dtls;
    unsigned version; /* legacy_version */
    const unsigned *ciphers;
    size_t nciphers;
    const struct ext *exts;
    size_t nexts;
    int no_extension_block; /* an old client's hello ends after compression */
};

/* v as a big-endian number of 1 to 4 bytes, appended. */
void hello_put(struct buf *b, unsigned v, int bytes);
void hello_put_bytes(struct buf *b, const void *p, size_t n);

/* A vector with a prefix-byte length: begin returns where its length goes,
 * end writes it. */
size_t hello_vec_begin(struct buf *b, int prefix);
void hello_vec_end(struct buf *b, size_t at, int prefix);

/* Extensions: a list of width-byte values under a prefix-byte length,
 * raw bytes, ALPN (n names, or one), SNI. */
struct ext hello_ext_list(unsigned type, int prefix, int width, const unsigned *v, size_t n);
struct ext hello_ext_raw(unsigned type, const void *data, size_t len);
struct ext hello_ext_alpn(const char *const *names, const size_t *lens, size_t n);
struct ext hello_ext_alpn1(const char *name, size_t len);
struct ext hello_ext_sni(const char *host);

/* The ClientHello handshake message (header included) appended to b. */
void hello_build_message(struct buf *b, const struct hello *h);
/* The hello in one record, as a client sends it. */
void hello_build_record(struct buf *b, const struct hello *h);

/* A zeroed buffer (the test fails when out of memory). */
struct buf *hello_new_buf(void);

#endif
