/*
 * Client fingerprints (src/security/client_hello.c, fingerprint.c): JA4
 * against the examples of FoxIO's specification and its test data, JA3
 * against Salesforce's README, on ClientHellos built byte by byte
 * (hello_builder.c); the parser on truncated and malformed ones. The
 * ClientHello a live connection keeps is test_fingerprint_conn.c's.
 *
 * Sources of the expected values:
 *  [JA4.md]  FoxIO-LLC/ja4, technical_details/JA4.md: "Example" and "Raw
 *            Output" (t13d1516h2_8daaf6152771_e5627efa2ab1, its JA4_r, and
 *            6d807ffa2a79 for the same extensions without signature
 *            algorithms), and the ALPN rules' five hex examples.
 *  [sigalg]  FoxIO-LLC/ja4, python/test/testdata/sigalg-grease.pcapng.json:
 *            a Chrome hello with ECH (JA4 t13d1517h2_8daaf6152771_cb7bf5808d99).
 *  [JA3]     salesforce/ja3, README.md: the example string
 *            769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0
 *            and its MD5 ada70206e40642a3e4461f35503241d5.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hello_builder.h"
#include "secsock/fingerprint.h"
#include "secsock/transport.h"
#include "security/client_hello.h"
#include "security/fingerprint_internal.h"
#include "testutil.h"

/* --- the specification's example hello [JA4.md], with GREASE where
 * Chrome puts it --- */

static const unsigned spec_ciphers[] = {
    0x5a5a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
    0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
};
static const unsigned spec_ext_order[] = {
    0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
    0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xfafa,
};
static const unsigned spec_sigalgs[] = {
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Extensions in spec order; with_sigalgs 0 gives signature_algorithms an
 * empty list. */
static size_t spec_exts(struct ext *out, int with_sigalgs)
{
    static const unsigned versions[] = { 0x3a3a, 0x0304, 0x0303 };
    static const unsigned groups[] = { 0x2a2a, 0x001d, 0x0017, 0x0018 };
    static const unsigned points[] = { 0 };
    for (size_t i = 0; i < N(spec_ext_order); i++) {
        unsigned t = spec_ext_order[i];
        switch (t) {
        case 0x0000: out[i] = hello_ext_sni("example.com"); break;
        case 0x0010:
            out[i] = hello_ext_alpn((const char *const[]){ "h2", "http/1.1" },
                                    (const size_t[]){ 2, 8 }, 2);
            break;
        case 0x000d:
            out[i] = hello_ext_list(t, 2, 2, spec_sigalgs, with_sigalgs ? N(spec_sigalgs) : 0);
            break;
        case 0x002b: out[i] = hello_ext_list(t, 1, 2, versions, N(versions)); break;
        case 0x000a: out[i] = hello_ext_list(t, 2, 2, groups, N(groups)); break;
        case 0x000b: out[i] = hello_ext_list(t, 1, 1, points, N(points)); break;
        default: out[i] = hello_ext_raw(t, "\0", t == 0xfafa ? 1 : 0); break;
        }
    }
    return N(spec_ext_order);
}

static struct hello spec_hello(struct ext *exts, int with_sigalgs)
{
    return (struct hello){ .version = 0x0303,
                           .ciphers = spec_ciphers,
                           .nciphers = N(spec_ciphers),
                           .exts = exts,
                           .nexts = spec_exts(exts, with_sigalgs) };
}

/* The fingerprints of b's bytes (the test fails if there are none). */
static struct secsock_fingerprint fingerprint_of(const struct buf *b)
{
    struct secsock_fingerprint fp;
    ck_assert_int_eq(secsock_fingerprint_client_hello(b->b, b->len, &fp), 0);
    return fp;
}

/* JA4_r of b's bytes, in a static buffer. */
static const char *ja4_raw_of(const struct buf *b)
{
    static char raw[4096];
    struct client_hello ch;
    char ja4[40];
    ck_assert_int_eq(client_hello_parse(b->b, b->len, &ch), 0);
    ck_assert_int_eq(fingerprint_ja4(&ch, ja4, raw, sizeof raw), 0);
    return raw;
}

START_TEST(ja4_spec_example)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 1);
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp = fingerprint_of(b);
    ck_assert_str_eq(fp.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    ck_assert_str_eq(ja4_raw_of(b),
                     "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,"
                     "c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,"
                     "0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601");
    free(b);
}
END_TEST

START_TEST(ja4_spec_example_without_signature_algorithms)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 0);
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    /* No signature algorithms: the string ends without the underscore. */
    ck_assert_str_eq(fingerprint_of(b).ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
    free(b);
}
END_TEST

START_TEST(ja4_bare_message_is_the_record)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 1);
    struct buf *b = hello_new_buf();
    hello_build_message(b, &h);
    ck_assert_str_eq(fingerprint_of(b).ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    free(b);
}
END_TEST

/* [sigalg]: Chrome with ECH (fe0d), ALPS (44cd) and ML-DSA signature
 * algorithms; a GREASE value among the signature algorithms is ignored. */
START_TEST(ja4_foxio_chrome_with_grease_sigalg)
{
    static const unsigned order[] = {
        0xfe0d, 0x0010, 0x0017, 0x0033, 0x44cd, 0xff01, 0x000a, 0x000d, 0x0023,
        0x002b, 0x000b, 0xca34, 0x002d, 0x0000, 0x0005, 0x001b, 0x0012, 0x0a0a,
    };
    static const unsigned sigalgs[] = {
        0x0a0a, 0x0904, 0x0905, 0x0906, 0x0403, 0x0804,
        0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    };
    static const unsigned versions[] = { 0x0304, 0x0303 };
    static const unsigned groups[] = { 0x0a0a, 0x11ec, 0x001d, 0x0017, 0x0018 };
    static const unsigned points[] = { 0 };
    struct ext exts[N(order)];
    for (size_t i = 0; i < N(order); i++) {
        switch (order[i]) {
        case 0x0000: exts[i] = hello_ext_sni("optimizationguide-pa.googleapis.com"); break;
        case 0x0010: exts[i] = hello_ext_alpn1("h2", 2); break;
        case 0x000d: exts[i] = hello_ext_list(0x000d, 2, 2, sigalgs, N(sigalgs)); break;
        case 0x002b: exts[i] = hello_ext_list(0x002b, 1, 2, versions, N(versions)); break;
        case 0x000a: exts[i] = hello_ext_list(0x000a, 2, 2, groups, N(groups)); break;
        case 0x000b: exts[i] = hello_ext_list(0x000b, 1, 1, points, N(points)); break;
        default: exts[i] = hello_ext_raw(order[i], "", 0); break;
        }
    }
    struct hello h = { .version = 0x0303,
                       .ciphers = spec_ciphers,
                       .nciphers = N(spec_ciphers),
                       .exts = exts,
                       .nexts = N(exts) };
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    ck_assert_str_eq(fingerprint_of(b).ja4, "t13d1517h2_8daaf6152771_cb7bf5808d99");
    free(b);
}
END_TEST

/* The JA4 of a hello with the given extensions and ciphers, cut to its
 * first part (before the first '_') when first_only. */
static const char *ja4_with(int dtls, unsigned version, const unsigned *ciphers, size_t nciphers,
                            const struct ext *exts, size_t nexts, int first_only)
{
    static char out[40];
    struct hello h = { .dtls = dtls,
                       .version = version,
                       .ciphers = ciphers,
                       .nciphers = nciphers,
                       .exts = exts,
                       .nexts = nexts };
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp = fingerprint_of(b);
    free(b);
    snprintf(out, sizeof out, "%s", fp.ja4);
    if (first_only)
        out[10] = '\0';
    return out;
}

static const unsigned one_cipher[] = { 0x1301 };

START_TEST(ja4_version_from_supported_versions_or_the_hello)
{
    static const unsigned tls13[] = { 0x7a7a, 0x0303, 0x0304 };
    static const unsigned tls12[] = { 0x0303 };
    struct ext e[1];
    e[0] = hello_ext_list(0x002b, 1, 2, tls13, N(tls13));
    ck_assert_str_eq(ja4_with(0, 0x0303, one_cipher, 1, e, 1, 1), "t13i010100");
    e[0] = hello_ext_list(0x002b, 1, 2, tls12, N(tls12));
    ck_assert_str_eq(ja4_with(0, 0x0303, one_cipher, 1, e, 1, 1), "t12i010100");
    /* No supported_versions: the hello's own field, never the record's. */
    ck_assert_str_eq(ja4_with(0, 0x0303, one_cipher, 1, NULL, 0, 1), "t12i010000");
    ck_assert_str_eq(ja4_with(0, 0x0302, one_cipher, 1, NULL, 0, 1), "t11i010000");
    ck_assert_str_eq(ja4_with(0, 0x0301, one_cipher, 1, NULL, 0, 1), "t10i010000");
    ck_assert_str_eq(ja4_with(0, 0x0300, one_cipher, 1, NULL, 0, 1), "ts3i010000");
    ck_assert_str_eq(ja4_with(0, 0x0305, one_cipher, 1, NULL, 0, 1), "t00i010000");
}
END_TEST

START_TEST(ja4_dtls_prefix_and_versions)
{
    static const unsigned dtls13[] = { 0xfefd, 0xfefc, 0x2a2a };
    struct ext e[1];
    ck_assert_str_eq(ja4_with(1, 0xfefd, one_cipher, 1, NULL, 0, 1), "dd2i010000");
    ck_assert_str_eq(ja4_with(1, 0xfeff, one_cipher, 1, NULL, 0, 1), "dd1i010000");
    /* DTLS counts down: 0xfefc (1.3) is newer than 0xfefd (1.2). */
    e[0] = hello_ext_list(0x002b, 1, 2, dtls13, N(dtls13));
    ck_assert_str_eq(ja4_with(1, 0xfefd, one_cipher, 1, e, 1, 1), "dd3i010100");
}
END_TEST

START_TEST(ja4_sni_and_alpn)
{
    struct ext e[2];
    e[0] = hello_ext_sni("localhost");
    e[1] = hello_ext_alpn1("http/1.1", 8);
    ck_assert_str_eq(ja4_with(0, 0x0303, one_cipher, 1, e, 2, 1), "t12d0102h1");
    e[1] = hello_ext_alpn1("h", 1); /* one character: both first and last */
    ck_assert_str_eq(ja4_with(0, 0x0303, one_cipher, 1, e, 2, 1), "t12d0102hh");
    e[1] = hello_ext_alpn(NULL, NULL, 0); /* ALPN with an empty list */
    ck_assert_str_eq(ja4_with(0, 0x0303, one_cipher, 1, e, 2, 1), "t12d010200");
    e[1] = hello_ext_alpn1("", 0); /* an empty first name */
    ck_assert_str_eq(ja4_with(0, 0x0303, one_cipher, 1, e, 2, 1), "t12d010200");
}
END_TEST

/* [JA4.md]: where the first or last byte is not alphanumeric, the first
 * hex digit of the first byte and the last hex digit of the last. */
START_TEST(ja4_alpn_not_alphanumeric)
{
    static const struct {
        const char *name;
        size_t len;
        const char *want;
    } cases[] = {
        { "\xab", 1, "ab" },
        { "\xab\xcd", 2, "ad" },
        { "\x30\xab", 2, "3b" },
        { "\x30\x31\xab\xcd", 4, "3d" },
        { "\x30\xab\xcd\x31", 4, "01" },
        { "-x", 2, "28" }, /* both in hex once either is not alphanumeric */
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct ext e[1] = { hello_ext_alpn1(cases[i].name, cases[i].len) };
        const char *got = ja4_with(0, 0x0303, one_cipher, 1, e, 1, 1);
        ck_assert_msg(strcmp(got + 8, cases[i].want) == 0, "case %zu: %s, wanted ..%s", i, got,
                      cases[i].want);
    }
}
END_TEST

START_TEST(ja4_counts_stop_at_99_and_empty_lists_hash_to_zeros)
{
    unsigned ciphers[150];
    for (unsigned i = 0; i < N(ciphers); i++)
        ciphers[i] = 0x0100 + i;
    ck_assert_str_eq(ja4_with(0, 0x0303, ciphers, N(ciphers), NULL, 0, 1), "t12i990000");
    /* No cipher suites, no extensions: twelve zeros each. */
    ck_assert_str_eq(ja4_with(0, 0x0303, NULL, 0, NULL, 0, 0),
                     "t12i000000_000000000000_000000000000");
    /* Only SNI and ALPN: counted, but nothing is left to hash. */
    struct ext e[2] = { hello_ext_sni("a.example"), hello_ext_alpn1("h2", 2) };
    ck_assert_str_eq(ja4_with(0, 0x0303, NULL, 0, e, 2, 0), "t12d0002h2_000000000000_000000000000");
    /* Only GREASE: nothing is counted. */
    static const unsigned grease[] = { 0x0a0a, 0xfafa };
    struct ext g[1] = { hello_ext_raw(0xdada, "", 0) };
    ck_assert_str_eq(ja4_with(0, 0x0303, grease, 2, g, 1, 0),
                     "t12i000000_000000000000_000000000000");
}
END_TEST

START_TEST(ja4_old_hello_without_extension_block)
{
    struct hello h = {
        .version = 0x0301, .ciphers = one_cipher, .nciphers = 1, .no_extension_block = 1
    };
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp = fingerprint_of(b);
    ck_assert_str_eq(fp.ja3, "769,4865,,,");
    ck_assert_int_eq(strncmp(fp.ja4, "t10i010000_", 11), 0);
    free(b);
}
END_TEST

/* [JA3]: the README's example string and hash. */
START_TEST(ja3_salesforce_example)
{
    static const unsigned ciphers[] = { 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4 };
    static const unsigned groups[] = { 23, 24, 25 };
    static const unsigned points[] = { 0 };
    struct ext e[3] = { hello_ext_sni("example.com"), hello_ext_list(10, 2, 2, groups, N(groups)),
                        hello_ext_list(11, 1, 1, points, N(points)) };
    struct hello h = {
        .version = 769, .ciphers = ciphers, .nciphers = N(ciphers), .exts = e, .nexts = N(e)
    };
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp = fingerprint_of(b);
    ck_assert_str_eq(fp.ja3,
                     "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
    ck_assert_str_eq(fp.ja3_hash, "ada70206e40642a3e4461f35503241d5");
    free(b);
}
END_TEST

START_TEST(ja3_leaves_out_grease_and_keeps_the_order)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 1);
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    ck_assert_str_eq(fingerprint_of(b).ja3,
                     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-"
                     "157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0");
    free(b);
}
END_TEST

START_TEST(ja3_too_long_is_cut_but_hashed_whole)
{
    unsigned ciphers[1000];
    for (unsigned i = 0; i < N(ciphers); i++)
        ciphers[i] = 10000 + i; /* six characters each with its '-' */
    struct hello h = { .version = 0x0303, .ciphers = ciphers, .nciphers = N(ciphers) };
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp = fingerprint_of(b);
    ck_assert_uint_eq(strlen(fp.ja3), SECSOCK_JA3_MAX - 1);
    ck_assert_str_eq(fp.ja3 + SECSOCK_JA3_MAX - 4, "...");
    ck_assert_int_eq(strncmp(fp.ja3, "771,10000-10001-", 16), 0);
    ck_assert_uint_eq(strlen(fp.ja3_hash), 32);
    /* The hash is of the whole string: another cipher at the end changes it. */
    ciphers[N(ciphers) - 1]++;
    struct buf *b2 = hello_new_buf();
    hello_build_record(b2, &h);
    struct secsock_fingerprint fp2 = fingerprint_of(b2);
    ck_assert_str_eq(fp2.ja3, fp.ja3);
    ck_assert_str_ne(fp2.ja3_hash, fp.ja3_hash);
    free(b);
    free(b2);
}
END_TEST

START_TEST(dtls_record_with_cookie)
{
    static const unsigned ciphers[] = { 0xc02b, 0xc02f };
    struct ext e[1] = { hello_ext_sni("localhost") };
    struct hello h = {
        .dtls = 1, .version = 0xfefd, .ciphers = ciphers, .nciphers = 2, .exts = e, .nexts = 1
    };
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp = fingerprint_of(b);
    ck_assert_int_eq(strncmp(fp.ja4, "dd2d020100_", 11), 0);
    ck_assert_str_eq(fp.ja3, "65277,49195-49199,0,,");
    /* The bare DTLS message, 12-byte header and all. */
    b->len = 0;
    hello_build_message(b, &h);
    ck_assert_str_eq(fingerprint_of(b).ja4, fp.ja4);
    free(b);
}
END_TEST

/* --- the parser on what a peer may send --- */

START_TEST(parse_every_prefix_wants_more)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 1);
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp;
    for (size_t n = 0; n < b->len; n++)
        ck_assert_msg(secsock_fingerprint_client_hello(b->b, n, &fp) == SECSOCK_WANT_READ,
                      "%zu of %zu bytes", n, b->len);
    ck_assert_str_eq(fp.ja4, ""); /* zeroed on failure */
    /* The bare message too. */
    b->len = 0;
    hello_build_message(b, &h);
    for (size_t n = 0; n < b->len; n++)
        ck_assert_int_eq(secsock_fingerprint_client_hello(b->b, n, &fp), SECSOCK_WANT_READ);
    free(b);
}
END_TEST

START_TEST(parse_what_follows_the_record_is_ignored)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 1);
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    hello_put_bytes(b, "\x17\x03\x03\x00\x01X", 6); /* early data, say */
    ck_assert_str_eq(fingerprint_of(b).ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    free(b);
}
END_TEST

START_TEST(parse_refuses_what_is_no_client_hello)
{
    struct secsock_fingerprint fp;
    static const unsigned char http[] = "GET / HTTP/1.1\r\n\r\n";
    static const unsigned char alert[] = { 21, 3, 3, 0, 2, 2, 40 };
    static const unsigned char server_hello[] = { 22, 3, 3, 0, 4, 2, 0, 0, 0 };
    static const unsigned char sslv2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01 };
    ck_assert_int_eq(secsock_fingerprint_client_hello(http, sizeof http - 1, &fp),
                     SECSOCK_ERR_PROTOCOL);
    ck_assert_int_eq(secsock_fingerprint_client_hello(alert, sizeof alert, &fp),
                     SECSOCK_ERR_PROTOCOL);
    ck_assert_int_eq(secsock_fingerprint_client_hello(server_hello, sizeof server_hello, &fp),
                     SECSOCK_ERR_PROTOCOL);
    ck_assert_int_eq(secsock_fingerprint_client_hello(sslv2, sizeof sslv2, &fp),
                     SECSOCK_ERR_PROTOCOL);
}
END_TEST

/* Changes one byte of a good record at a time: every result is 0, a
 * refusal or a wish for more, and never a read out of bounds (ASan). */
START_TEST(parse_survives_every_single_byte_change)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 1);
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    struct secsock_fingerprint fp;
    for (size_t i = 0; i < b->len; i++) {
        unsigned char saved = b->b[i];
        static const unsigned char values[] = { 0x00, 0x01, 0x7f, 0xff };
        for (size_t v = 0; v < N(values); v++) {
            b->b[i] = values[v];
            int rc = secsock_fingerprint_client_hello(b->b, b->len, &fp);
            ck_assert(rc == 0 || rc == SECSOCK_ERR_PROTOCOL || rc == SECSOCK_WANT_READ);
        }
        b->b[i] = saved;
    }
    free(b);
}
END_TEST

START_TEST(parse_refuses_bad_inner_lengths)
{
    static const unsigned odd[] = { 0x0017 };
    struct ext bad_groups = hello_ext_list(0x000a, 2, 2, odd, 1);
    bad_groups.data[1] = 3; /* an odd length for 16-bit groups */
    struct ext bad_alpn = hello_ext_alpn1("h2", 2);
    bad_alpn.data[2] = 9; /* a name longer than its list */
    struct ext bad_versions = hello_ext_list(0x002b, 1, 2, odd, 1);
    bad_versions.len++; /* a byte after the list */
    const struct ext *cases[] = { &bad_groups, &bad_alpn, &bad_versions };
    struct buf *b = hello_new_buf();
    for (size_t i = 0; i < N(cases); i++) {
        struct hello h = {
            .version = 0x0303, .ciphers = one_cipher, .nciphers = 1, .exts = cases[i], .nexts = 1
        };
        hello_build_record(b, &h);
        struct secsock_fingerprint fp;
        ck_assert_int_eq(secsock_fingerprint_client_hello(b->b, b->len, &fp), SECSOCK_ERR_PROTOCOL);
    }
    free(b);
}
END_TEST

START_TEST(parse_refuses_a_hello_that_goes_on_in_another_record)
{
    struct ext exts[N(spec_ext_order)];
    struct hello h = spec_hello(exts, 1);
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    /* The same bytes as two records: the first holds only 40 of the
     * message's bytes. */
    struct buf *split = hello_new_buf();
    size_t msg = b->len - 5;
    hello_put_bytes(split, b->b, 3);
    hello_put(split, 40, 2);
    hello_put_bytes(split, b->b + 5, 40);
    hello_put_bytes(split, b->b, 3);
    hello_put(split, (unsigned)(msg - 40), 2);
    hello_put_bytes(split, b->b + 5 + 40, msg - 40);
    struct secsock_fingerprint fp;
    ck_assert_int_eq(secsock_fingerprint_client_hello(split->b, split->len, &fp),
                     SECSOCK_ERR_PROTOCOL);
    free(b);
    free(split);
}
END_TEST

START_TEST(parse_refuses_a_dtls_fragment)
{
    struct hello h = { .dtls = 1, .version = 0xfefd, .ciphers = one_cipher, .nciphers = 1 };
    struct buf *b = hello_new_buf();
    hello_build_record(b, &h);
    b->b[13 + 11] ^= 1; /* fragment_length no longer the message's length */
    struct secsock_fingerprint fp;
    ck_assert_int_eq(secsock_fingerprint_client_hello(b->b, b->len, &fp), SECSOCK_ERR_PROTOCOL);
    free(b);
}
END_TEST
static Suite *fingerprint_suite(void)
{
    Suite *s = suite_create("fingerprint");
    TCase *ja4 = tcase_create("ja4");
    TCase *ja3 = tcase_create("ja3");
    TCase *parse = tcase_create("parse");

    tcase_add_test(ja4, ja4_spec_example);
    tcase_add_test(ja4, ja4_spec_example_without_signature_algorithms);
    tcase_add_test(ja4, ja4_bare_message_is_the_record);
    tcase_add_test(ja4, ja4_foxio_chrome_with_grease_sigalg);
    tcase_add_test(ja4, ja4_version_from_supported_versions_or_the_hello);
    tcase_add_test(ja4, ja4_dtls_prefix_and_versions);
    tcase_add_test(ja4, ja4_sni_and_alpn);
    tcase_add_test(ja4, ja4_alpn_not_alphanumeric);
    tcase_add_test(ja4, ja4_counts_stop_at_99_and_empty_lists_hash_to_zeros);
    tcase_add_test(ja4, ja4_old_hello_without_extension_block);
    suite_add_tcase(s, ja4);

    tcase_add_test(ja3, ja3_salesforce_example);
    tcase_add_test(ja3, ja3_leaves_out_grease_and_keeps_the_order);
    tcase_add_test(ja3, ja3_too_long_is_cut_but_hashed_whole);
    tcase_add_test(ja3, dtls_record_with_cookie);
    suite_add_tcase(s, ja3);

    tcase_add_test(parse, parse_every_prefix_wants_more);
    tcase_add_test(parse, parse_what_follows_the_record_is_ignored);
    tcase_add_test(parse, parse_refuses_what_is_no_client_hello);
    tcase_add_test(parse, parse_survives_every_single_byte_change);
    tcase_add_test(parse, parse_refuses_bad_inner_lengths);
    tcase_add_test(parse, parse_refuses_a_hello_that_goes_on_in_another_record);
    tcase_add_test(parse, parse_refuses_a_dtls_fragment);
    suite_add_tcase(s, parse);
    return s;
}

int main(void)
{
    return testutil_run(fingerprint_suite());
}
