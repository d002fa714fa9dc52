/* The security configuration's checked setters, and the failures a bad
 * configuration must give at transport creation (src/security). */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"

static secsock_config *cfg;

static void setup(void)
{
    cfg = NULL;
    ck_assert_int_eq(secsock_config_new(&cfg), SECSOCK_OK);
    ck_assert_ptr_nonnull(cfg);
}

static void teardown(void)
{
    secsock_config_free(cfg);
}

/* The call fails naming the culprit, or succeeds (testutil.h). */
#define REFUSED(call, culprit) TESTUTIL_CONFIG_REFUSED(cfg, call, culprit)
#define ACCEPTED(call) TESTUTIL_CONFIG_ACCEPTED(cfg, call)

/* ---- pins -------------------------------------------------------------- */

#define HEX64 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void assert_pin_bytes(const unsigned char out[32])
{
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(out[i], (unsigned)i);
}

START_TEST(pin_lower_case)
{
    unsigned char out[32];
    enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
    memset(out, 0xee, sizeof out);
    ck_assert_int_eq(secsock_parse_pin("sha256:" HEX64, out, &kind), SECSOCK_OK);
    assert_pin_bytes(out);
}
END_TEST

START_TEST(pin_upper_case)
{
    char pin[80] = "sha256:";
    for (const char *p = HEX64; *p; p++) {
        size_t n = strlen(pin);
        pin[n] = (char)(*p >= 'a' ? *p - 'a' + 'A' : *p);
        pin[n + 1] = '\0';
    }
    unsigned char out[32];
    enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
    ck_assert_int_eq(secsock_parse_pin(pin, out, &kind), SECSOCK_OK);
    assert_pin_bytes(out);
}
END_TEST

START_TEST(pin_with_colons)
{
    /* The spelling the library prints (and openssl x509 -fingerprint). */
    char pin[120] = "sha256:";
    for (int i = 0; i < 32; i++) {
        size_t n = strlen(pin);
        snprintf(pin + n, sizeof pin - n, i ? ":%02X" : "%02X", i);
    }
    unsigned char out[32];
    enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
    ck_assert_int_eq(secsock_parse_pin(pin, out, &kind), SECSOCK_OK);
    assert_pin_bytes(out);
}
END_TEST

START_TEST(pin_rejects_bad_forms)
{
    static const char *const bad[] = {
        "",
        "sha256:",
        HEX64,                /* no prefix */
        "sha1:" HEX64,        /* another digest */
        "sha256" HEX64,       /* no colon after the prefix */
        "sha256:" HEX64 "00", /* 33 bytes */
        "sha256:" HEX64 "0",  /* an odd digit at the end */
        "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",   /* 31 */
        "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",  /* 63 */
        "sha256:g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", /* bad hex */
        "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1z",
        "sha256: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "sha256:" HEX64 " ",
    };
    unsigned char out[32];
    enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(secsock_parse_pin(bad[i], out, &kind) == SECSOCK_ERR_CONFIG,
                      "accepted pin '%s'", bad[i]);
}
END_TEST

/* Bytes 0 to 31 in base64: curl's --pinnedpubkey spelling of a key pin. */
#define B64_32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

START_TEST(pin_hex_is_a_certificate_pin)
{
    unsigned char out[32];
    enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
    ck_assert_int_eq(secsock_parse_pin("sha256:" HEX64, out, &kind), SECSOCK_OK);
    ck_assert_int_eq(kind, SECSOCK_PIN_CERT);
}
END_TEST

START_TEST(pin_spki_base64)
{
    /* With or without the padding, and the prefix in any case, as "sha256:". */
    static const char *const good[] = {
        "sha256//" B64_32,
        "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "SHA256//" B64_32,
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        unsigned char out[32];
        enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
        memset(out, 0xee, sizeof out);
        ck_assert_msg(secsock_parse_pin(good[i], out, &kind) == SECSOCK_OK &&
                          kind == SECSOCK_PIN_SPKI,
                      "refused '%s'", good[i]);
        assert_pin_bytes(out);
    }
}
END_TEST

START_TEST(pin_spki_rejects_bad_forms)
{
    static const char *const bad[] = {
        "sha256//",
        "sha256/" B64_32,                                       /* one slash */
        "sha256//" B64_32 "=",                                  /* two "=" */
        "sha256//" B64_32 "A",                                  /* too long */
        "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh=",  /* 42 characters */
        "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", /* bits beyond byte 32 */
        "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH-8=", /* base64url's "-" */
        "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH_8=", /* and "_" */
        "sha256// AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "sha256//" B64_32 " ",
        "sha1//" B64_32,
        B64_32,
    };
    unsigned char out[32];
    enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
    memset(out, 0xee, sizeof out);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(secsock_parse_pin(bad[i], out, &kind) == SECSOCK_ERR_CONFIG,
                      "accepted pin '%s'", bad[i]);
    for (size_t i = 0; i < sizeof out; i++) /* a refused pin leaves out alone */
        ck_assert_uint_eq(out[i], 0xee);
}
END_TEST

START_TEST(set_pin_names_the_bad_pin)
{
    ACCEPTED(secsock_config_set_pin(cfg, "sha256:" HEX64));
    ACCEPTED(secsock_config_set_pin(cfg, "sha256//" B64_32));
    REFUSED(secsock_config_set_pin(cfg, "sha256:abcd"), "sha256:abcd");
    REFUSED(secsock_config_set_pin(cfg, "sha256//abcd"), "sha256//abcd");
    /* The message says what both forms look like. */
    REFUSED(secsock_config_set_pin(cfg, "md5:00"), "sha256//");
}
END_TEST

/* ---- versions ---------------------------------------------------------- */

START_TEST(min_version_below_12_refused)
{
    REFUSED(secsock_config_set_min_version(cfg, "1.1"), "1.1");
    REFUSED(secsock_config_set_min_version(cfg, "1.0"), "1.0");
    REFUSED(secsock_config_set_min_version(cfg, "ssl3"), "ssl3");
    REFUSED(secsock_config_set_min_version(cfg, ""), "''");
    REFUSED(secsock_config_set_max_version(cfg, "1.1"), "1.1");
    ACCEPTED(secsock_config_set_min_version(cfg, "1.2"));
    ACCEPTED(secsock_config_set_min_version(cfg, "1.3"));
    ACCEPTED(secsock_config_set_max_version(cfg, "1.3"));
}
END_TEST

START_TEST(min_above_max_refused)
{
    ACCEPTED(secsock_config_set_max_version(cfg, "1.2"));
    REFUSED(secsock_config_set_min_version(cfg, "1.3"), "1.3");
    ACCEPTED(secsock_config_set_min_version(cfg, "1.2"));
}
END_TEST

START_TEST(max_below_min_refused)
{
    ACCEPTED(secsock_config_set_min_version(cfg, "1.3"));
    REFUSED(secsock_config_set_max_version(cfg, "1.2"), "1.2");
    ACCEPTED(secsock_config_set_max_version(cfg, "1.3"));
}
END_TEST

/* ---- cipher lists ------------------------------------------------------ */

START_TEST(ciphers)
{
    REFUSED(secsock_config_set_ciphers(cfg, "NOPE"), "NOPE");
    ACCEPTED(secsock_config_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA256"));
    ACCEPTED(secsock_config_set_ciphers(
        cfg, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"));
    /* OpenSSL drops unknown names from a list that has a known one; a typo
     * must not be silently dropped. */
    REFUSED(secsock_config_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA256:NOPE"), "NOPE");
    REFUSED(secsock_config_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA265"),
            "ECDHE-ECDSA-AES128-GCM-SHA265");
}
END_TEST

START_TEST(ciphersuites)
{
    ACCEPTED(secsock_config_set_ciphersuites(cfg, "TLS_AES_128_GCM_SHA256"));
    ACCEPTED(secsock_config_set_ciphersuites(
        cfg, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"));
    REFUSED(secsock_config_set_ciphersuites(cfg, "TLS_NOPE"), "TLS_NOPE");
    REFUSED(secsock_config_set_ciphersuites(cfg, "TLS_AES_128_GCM_SHA256:TLS_NOPE"), "TLS_NOPE");
}
END_TEST

/* ---- key-exchange groups ------------------------------------------------ */

START_TEST(groups)
{
    ACCEPTED(secsock_config_set_groups(cfg, "X25519"));
    ACCEPTED(secsock_config_set_groups(cfg, "X25519:P-256:P-384"));
    REFUSED(secsock_config_set_groups(cfg, "NOPE"), "NOPE");
    /* OpenSSL 3.0 keeps the known names of a list; a typo is an error. */
    REFUSED(secsock_config_set_groups(cfg, "X25519:P-265"), "P-265");
    REFUSED(secsock_config_set_groups(cfg, ""), "empty");
}
END_TEST

/* The hybrid group is accepted from OpenSSL 3.5 on (the library the test
 * runs with); before, the error names the version it needs. */
START_TEST(groups_hybrid_where_the_library_has_it)
{
    if (OpenSSL_version_num() >= 0x30500000L) {
        ACCEPTED(secsock_config_set_groups(cfg, "X25519MLKEM768:X25519"));
    } else {
        REFUSED(secsock_config_set_groups(cfg, "X25519MLKEM768"), "X25519MLKEM768");
        REFUSED(secsock_config_set_groups(cfg, "X25519MLKEM768"), "OpenSSL 3.5");
    }
}
END_TEST

/* ---- session tickets ------------------------------------------------------ */

START_TEST(session_tickets_range)
{
    for (int n = 0; n <= 10; n++)
        ACCEPTED(secsock_config_set_session_tickets(cfg, n));
    REFUSED(secsock_config_set_session_tickets(cfg, -1), "-1");
    REFUSED(secsock_config_set_session_tickets(cfg, 11), "11");
    REFUSED(secsock_config_set_session_tickets(cfg, 1000000), "1000000");
    REFUSED(secsock_config_set_session_tickets(cfg, INT_MIN), "-2147483648");
    REFUSED(secsock_config_set_session_tickets(cfg, INT_MAX), "2147483647");
    /* A refused value leaves the last good one: the server still builds. */
    ACCEPTED(secsock_config_set_cert_file(cfg, testutil_pki_file("server.crt")));
    ACCEPTED(secsock_config_set_key_file(cfg, testutil_pki_file("server.key")));
    char err[512] = "";
    secsock_transport *t = testutil_transport_err("tls", SECSOCK_SERVER, cfg, err, sizeof err);
    ck_assert_msg(t != NULL, "tls server with tickets set: %s", err);
    secsock_transport_free(t);
}
END_TEST

/* ---- files --------------------------------------------------------------- */

START_TEST(missing_files_are_named)
{
    const char *missing = "/nonexistent/secsock/ca.pem";
    REFUSED(secsock_config_set_cafile(cfg, missing), missing);
    REFUSED(secsock_config_set_cert_file(cfg, "/nonexistent/cert.pem"), "/nonexistent/cert.pem");
    REFUSED(secsock_config_set_key_file(cfg, "/nonexistent/key.pem"), "/nonexistent/key.pem");
    ACCEPTED(secsock_config_set_cafile(cfg, testutil_pki_file("ca.crt")));
}
END_TEST

/* ---- ALPN, names ------------------------------------------------------- */

START_TEST(alpn_lists)
{
    ACCEPTED(secsock_config_set_alpn(cfg, "h2,http/1.1"));
    ACCEPTED(secsock_config_set_alpn(cfg, "http/1.1"));
    REFUSED(secsock_config_set_alpn(cfg, ""), "ALPN");
    REFUSED(secsock_config_set_alpn(cfg, "a,,b"), "a,,b");
    REFUSED(secsock_config_set_alpn(cfg, "h2,"), "h2,");
    REFUSED(secsock_config_set_alpn(cfg, ",h2"), ",h2");
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = '\0';
    ck_assert_int_eq(secsock_config_set_alpn(cfg, longname),
                     SECSOCK_ERR_CONFIG); /* a name is at most 255 */
}
END_TEST

START_TEST(servername_checked)
{
    ACCEPTED(secsock_config_set_servername(cfg, "lm3nitro.com"));
    ACCEPTED(secsock_config_set_servername(cfg, "127.0.0.1"));
    REFUSED(secsock_config_set_servername(cfg, ""), "invalid server name");
    REFUSED(secsock_config_set_servername(cfg, "bad name"), "bad name");
    REFUSED(secsock_config_set_servername(cfg, "evil\r\nname"), "invalid server name");
}
END_TEST

START_TEST(keylog_name_checked)
{
    ck_assert_int_eq(secsock_config_set_keylog_file(cfg, ""), SECSOCK_ERR_CONFIG);
    ck_assert_str_ne(secsock_config_error(cfg), "");
}
END_TEST

/* ---- transport creation -------------------------------------------------- */

/* secsock_transport_new must fail; the error must name each culprit. */
static void transport_refused(const char *backend, enum secsock_role role, const char *culprit1,
                              const char *culprit2)
{
    char err[512] = "";
    secsock_transport *t = testutil_transport_err(backend, role, cfg, err, sizeof err);
    if (t != NULL)
        secsock_transport_free(t);
    ck_assert_msg(t == NULL, "transport created");
    ck_assert_msg(strstr(err, culprit1) != NULL, "error '%s' does not name '%s'", err, culprit1);
    if (culprit2 != NULL)
        ck_assert_msg(strstr(err, culprit2) != NULL, "error '%s' does not name '%s'", err,
                      culprit2);
}

static void transport_ok(const char *backend, enum secsock_role role)
{
    char err[512] = "";
    secsock_transport *t = testutil_transport_err(backend, role, cfg, err, sizeof err);
    ck_assert_msg(t != NULL, "%s transport: %s", backend, err);
    secsock_transport_free(t);
}

START_TEST(server_key_does_not_match_cert)
{
    /* Another key of the same type (ECDSA P-256). */
    const char *crt = testutil_pki_file("server.crt");
    const char *key = testutil_pki_file("client.key");
    ACCEPTED(secsock_config_set_cert_file(cfg, crt));
    ACCEPTED(secsock_config_set_key_file(cfg, key));
    transport_refused("tls", SECSOCK_SERVER, key, crt);
}
END_TEST

START_TEST(server_key_of_other_type)
{
    /* An RSA key for an ECDSA certificate. */
    const char *crt = testutil_pki_file("server.crt");
    const char *key = testutil_pki_file("rsa-server.key");
    ACCEPTED(secsock_config_set_cert_file(cfg, crt));
    ACCEPTED(secsock_config_set_key_file(cfg, key));
    transport_refused("tls", SECSOCK_SERVER, key, crt);
}
END_TEST

START_TEST(server_cert_and_key_ok)
{
    ACCEPTED(secsock_config_set_cert_file(cfg, testutil_pki_file("server.crt")));
    ACCEPTED(secsock_config_set_key_file(cfg, testutil_pki_file("server.key")));
    transport_ok("tls", SECSOCK_SERVER);
}
END_TEST

START_TEST(server_without_cert)
{
    transport_refused("tls", SECSOCK_SERVER, "cert", NULL);
}
END_TEST

START_TEST(server_self_signed)
{
    ACCEPTED(secsock_config_set_self_signed(cfg, 1));
    transport_ok("tls", SECSOCK_SERVER);
}
END_TEST

START_TEST(self_signed_and_cert_file_contradict)
{
    ACCEPTED(secsock_config_set_self_signed(cfg, 1));
    ACCEPTED(secsock_config_set_cert_file(cfg, testutil_pki_file("server.crt")));
    ACCEPTED(secsock_config_set_key_file(cfg, testutil_pki_file("server.key")));
    transport_refused("tls", SECSOCK_SERVER, "self-signed", NULL);
    transport_refused("dtls", SECSOCK_SERVER, "self-signed", NULL);
}
END_TEST

START_TEST(cert_file_not_pem)
{
    /* A readable file that is not a certificate: named at creation. */
    const char *key = testutil_pki_file("server.key");
    ACCEPTED(secsock_config_set_cert_file(cfg, key));
    ACCEPTED(secsock_config_set_key_file(cfg, key));
    transport_refused("tls", SECSOCK_SERVER, key, NULL);
}
END_TEST

START_TEST(verify_client_needs_cafile)
{
    ACCEPTED(secsock_config_set_cert_file(cfg, testutil_pki_file("server.crt")));
    ACCEPTED(secsock_config_set_key_file(cfg, testutil_pki_file("server.key")));
    ACCEPTED(secsock_config_verify_client(cfg, 1));
    transport_refused("tls", SECSOCK_SERVER, "CA file", NULL);
}
END_TEST

START_TEST(cafile_not_pem)
{
    /* Readable, but no certificate in it. */
    const char *key = testutil_pki_file("client.key");
    ACCEPTED(secsock_config_set_cafile(cfg, key));
    transport_refused("tls", SECSOCK_CLIENT, key, NULL);
}
END_TEST

START_TEST(keylog_in_missing_directory)
{
    const char *path = "/nonexistent-secsock-dir/keys.log";
    ACCEPTED(secsock_config_set_cafile(cfg, testutil_pki_file("ca.crt")));
    ACCEPTED(secsock_config_set_keylog_file(cfg, path));
    transport_refused("tls", SECSOCK_CLIENT, path, NULL);
}
END_TEST

START_TEST(client_defaults_ok)
{
    transport_ok("tls", SECSOCK_CLIENT);
    ACCEPTED(secsock_config_set_cafile(cfg, testutil_pki_file("ca.crt")));
    ACCEPTED(secsock_config_set_alpn(cfg, "h2,http/1.1"));
    ACCEPTED(secsock_config_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA256"));
    ACCEPTED(secsock_config_set_ciphersuites(cfg, "TLS_AES_128_GCM_SHA256"));
    transport_ok("tls", SECSOCK_CLIENT);
}
END_TEST

/* 0 (no tickets, no cache) builds TLS and DTLS servers and a client. */
START_TEST(session_tickets_zero_builds)
{
    ACCEPTED(secsock_config_set_session_tickets(cfg, 0));
    ACCEPTED(secsock_config_set_cert_file(cfg, testutil_pki_file("server.crt")));
    ACCEPTED(secsock_config_set_key_file(cfg, testutil_pki_file("server.key")));
    transport_ok("tls", SECSOCK_SERVER);
    transport_ok("dtls", SECSOCK_SERVER);
    ACCEPTED(secsock_config_set_cafile(cfg, testutil_pki_file("ca.crt")));
    transport_ok("tls", SECSOCK_CLIENT);
}
END_TEST

START_TEST(unknown_backend)
{
    transport_refused("quic", SECSOCK_CLIENT, "quic", NULL);
}
END_TEST

START_TEST(tls_needs_a_config)
{
    char err[256] = "";
    secsock_transport *t = testutil_transport_err("tls", SECSOCK_CLIENT, NULL, err, sizeof err);
    ck_assert_ptr_null(t);
    ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(status_names)
{
    ck_assert_str_eq(secsock_status_name(SECSOCK_OK), "ok");
    ck_assert_str_eq(secsock_status_name(SECSOCK_ERR_TIMEOUT), "timeout");
    ck_assert_str_eq(secsock_status_name(SECSOCK_ERR_TRUNCATED), "truncated");
    for (int s = SECSOCK_ERR_NOMEM; s <= SECSOCK_OK; s++)
        ck_assert_str_ne(secsock_status_name(s), "unknown error");
    ck_assert_str_eq(secsock_status_name(-99), "unknown error");
}
END_TEST

static Suite *security_suite(void)
{
    Suite *s = suite_create("security");
    TCase *pin = tcase_create("pin");
    TCase *set = tcase_create("setters");
    TCase *tr = tcase_create("transport");

    tcase_add_checked_fixture(pin, setup, teardown);
    tcase_add_test(pin, pin_lower_case);
    tcase_add_test(pin, pin_upper_case);
    tcase_add_test(pin, pin_with_colons);
    tcase_add_test(pin, pin_rejects_bad_forms);
    tcase_add_test(pin, pin_hex_is_a_certificate_pin);
    tcase_add_test(pin, pin_spki_base64);
    tcase_add_test(pin, pin_spki_rejects_bad_forms);
    tcase_add_test(pin, set_pin_names_the_bad_pin);
    suite_add_tcase(s, pin);

    tcase_add_checked_fixture(set, setup, teardown);
    tcase_add_test(set, min_version_below_12_refused);
    tcase_add_test(set, min_above_max_refused);
    tcase_add_test(set, max_below_min_refused);
    tcase_add_test(set, ciphers);
    tcase_add_test(set, ciphersuites);
    tcase_add_test(set, groups);
    tcase_add_test(set, groups_hybrid_where_the_library_has_it);
    tcase_add_test(set, missing_files_are_named);
    tcase_add_test(set, alpn_lists);
    tcase_add_test(set, servername_checked);
    tcase_add_test(set, keylog_name_checked);
    tcase_add_test(set, session_tickets_range);
    suite_add_tcase(s, set);

    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_add_test(tr, server_key_does_not_match_cert);
    tcase_add_test(tr, server_key_of_other_type);
    tcase_add_test(tr, server_cert_and_key_ok);
    tcase_add_test(tr, server_without_cert);
    tcase_add_test(tr, server_self_signed);
    tcase_add_test(tr, self_signed_and_cert_file_contradict);
    tcase_add_test(tr, cert_file_not_pem);
    tcase_add_test(tr, verify_client_needs_cafile);
    tcase_add_test(tr, cafile_not_pem);
    tcase_add_test(tr, keylog_in_missing_directory);
    tcase_add_test(tr, client_defaults_ok);
    tcase_add_test(tr, session_tickets_zero_builds);
    tcase_add_test(tr, unknown_backend);
    tcase_add_test(tr, tls_needs_a_config);
    tcase_add_test(tr, status_names);
    suite_add_tcase(s, tr);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(security_suite());
}
