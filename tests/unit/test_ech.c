/* Encrypted Client Hello's setters and transport checks (src/security/ech.c):
 * on a library built with OpenSSL 4.0 or later, what each setter takes and
 * refuses and the ECHConfigList a server makes; on an older one, that every
 * setter refuses, naming OpenSSL 4.0 and the version in use. The handshakes
 * themselves are tests/integration/test_ech.py's. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/opensslv.h>

#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"

static secsock_config *cfg;

static void setup(void)
{
    ck_assert_int_eq(secsock_config_new(&cfg), SECSOCK_OK);
}

static void teardown(void)
{
    secsock_config_free(cfg);
}

/* The call fails naming the culprit, or succeeds (testutil.h). */
#define REFUSED(call, culprit) TESTUTIL_CONFIG_REFUSED(cfg, call, culprit)
#define ACCEPTED(call) TESTUTIL_CONFIG_ACCEPTED(cfg, call)

/* ECH came with OpenSSL 4.0: the build says which side this is. */
START_TEST(supported_by_the_build)
{
    ck_assert_int_eq(secsock_ech_supported(), OPENSSL_VERSION_MAJOR >= 4);
}
END_TEST

START_TEST(status_names)
{
    ck_assert_str_eq(secsock_ech_status_name(SECSOCK_ECH_NONE), "none");
    ck_assert_str_eq(secsock_ech_status_name(SECSOCK_ECH_ACCEPTED), "accepted");
    ck_assert_str_eq(secsock_ech_status_name(SECSOCK_ECH_REJECTED), "rejected");
    ck_assert_str_eq(secsock_ech_status_name(SECSOCK_ECH_GREASE), "GREASE");
    ck_assert_str_eq(secsock_ech_status_name((enum secsock_ech_status)99), "unknown");
}
END_TEST

/* Without ECH every setter names what it needs and what there is. */
START_TEST(refused_without_ech)
{
    if (secsock_ech_supported())
        return; /* the other tests are this build's */
    char version[32];
    snprintf(version, sizeof version, "OpenSSL %d.%d.%d", OPENSSL_VERSION_MAJOR,
             OPENSSL_VERSION_MINOR, OPENSSL_VERSION_PATCH);
    REFUSED(secsock_config_set_ech_public_name(cfg, "public.example"), "OpenSSL 4.0");
    ck_assert_ptr_nonnull(strstr(secsock_config_error(cfg), version));
    REFUSED(secsock_config_set_ech_key_file(cfg, "/dev/null"), version);
    REFUSED(secsock_config_set_ech_config_list(cfg, "AEX+"), version);
    REFUSED(secsock_config_require_ech(cfg, 1), version);
    REFUSED(secsock_config_set_ech_grease(cfg, 1), version);
}
END_TEST

START_TEST(public_names)
{
    if (!secsock_ech_supported())
        return;
    static const char *const bad[] = { "",          ".public.example", "public.example.",
                                       "a..b",      "192.0.2.1",       "under_score.example",
                                       "*.example", "sp ace.example" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REFUSED(secsock_config_set_ech_public_name(cfg, bad[i]), "invalid ECH public name");
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    REFUSED(secsock_config_set_ech_public_name(cfg, longname), "invalid ECH public name");
    ACCEPTED(secsock_config_set_ech_public_name(cfg, "public.example"));
    ACCEPTED(secsock_config_set_ech_public_name(cfg, "localhost"));
}
END_TEST

START_TEST(config_lists_checked)
{
    if (!secsock_ech_supported())
        return;
    REFUSED(secsock_config_set_ech_config_list(cfg, ""), "invalid ECHConfigList");
    REFUSED(secsock_config_set_ech_config_list(cfg, "not base64!"), "invalid ECHConfigList");
    REFUSED(secsock_config_set_ech_config_list(cfg, "AAAAAAAA"), "invalid ECHConfigList");
    REFUSED(secsock_config_set_ech_key_file(cfg, "/nonexistent/ech.pem"), "/nonexistent");
    REFUSED(secsock_config_set_ech_key_file(cfg, "/dev/null"), "openssl ech");
}
END_TEST

/* A server's fresh key: its ECHConfigList is base64 of version 0xfe0d, and
 * a client takes it as it is, with line breaks, or as the key file. */
START_TEST(server_config_list_feeds_a_client)
{
    if (!secsock_ech_supported())
        return;
    const char *dir = testutil_pki_dir();
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    ACCEPTED(secsock_config_set_cert_file(cfg, cert));
    ACCEPTED(secsock_config_set_key_file(cfg, key));
    ACCEPTED(secsock_config_set_ech_public_name(cfg, "public.example"));
    secsock_transport *t = NULL;
    ck_assert_msg(secsock_transport_new("tls", SECSOCK_SERVER, cfg, &t) == SECSOCK_OK, "%s",
                  t != NULL ? secsock_transport_error(t) : "out of memory");
    const char *ecl = secsock_transport_ech_config_list(t);
    ck_assert_ptr_nonnull(ecl);
    ck_assert_str_eq(secsock_transport_ech_public_name(t), "public.example");
    /* One line of base64 (a client reads it, below). */
    ck_assert_uint_ge(strlen(ecl), 40);
    ck_assert_uint_eq(strspn(ecl, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789+/="),
                      strlen(ecl));

    secsock_config *client = NULL;
    ck_assert_int_eq(secsock_config_new(&client), SECSOCK_OK);
    ck_assert_int_eq(secsock_config_set_ech_config_list(client, ecl), SECSOCK_OK);
    size_t len = strlen(ecl);
    char *wrapped = malloc(len + len / 20 + 2);
    ck_assert_ptr_nonnull(wrapped);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && i % 20 == 0)
            wrapped[n++] = '\n';
        wrapped[n++] = ecl[i];
    }
    wrapped[n] = '\0';
    ck_assert_msg(secsock_config_set_ech_config_list(client, wrapped) == SECSOCK_OK, "%s",
                  secsock_config_error(client));
    free(wrapped);
    ck_assert_int_eq(secsock_config_require_ech(client, 1), SECSOCK_OK);
    secsock_transport *ct = NULL;
    ck_assert_msg(secsock_transport_new("tls", SECSOCK_CLIENT, client, &ct) == SECSOCK_OK, "%s",
                  ct != NULL ? secsock_transport_error(ct) : "out of memory");
    ck_assert_ptr_null(secsock_transport_ech_config_list(ct));
    secsock_transport_free(ct);
    secsock_config_free(client);
    secsock_transport_free(t);
}
END_TEST

static void transport_refused(const char *backend, enum secsock_role role, const char *culprit)
{
    secsock_transport *t = NULL;
    enum secsock_status rc = secsock_transport_new(backend, role, cfg, &t);
    char err[512];
    snprintf(err, sizeof err, "%s", t != NULL ? secsock_transport_error(t) : "");
    secsock_transport_free(t);
    ck_assert_msg(rc != SECSOCK_OK, "transport created");
    ck_assert_msg(strstr(err, culprit) != NULL, "error '%s' does not name '%s'", err, culprit);
}

START_TEST(contradictions_at_the_transport)
{
    if (!secsock_ech_supported())
        return;
    ACCEPTED(secsock_config_set_self_signed(cfg, 1));
    ACCEPTED(secsock_config_set_ech_public_name(cfg, "public.example"));
    transport_refused("tls", SECSOCK_CLIENT, "for servers");
    transport_refused("dtls", SECSOCK_SERVER, "not DTLS");
    ACCEPTED(secsock_config_set_max_version(cfg, "1.2"));
    transport_refused("tls", SECSOCK_SERVER, "TLS 1.3");
    secsock_config_free(cfg);
    ck_assert_int_eq(secsock_config_new(&cfg), SECSOCK_OK);
    ACCEPTED(secsock_config_set_ech_grease(cfg, 1));
    ACCEPTED(secsock_config_require_ech(cfg, 1));
    ACCEPTED(secsock_config_set_self_signed(cfg, 1));
    transport_refused("tls", SECSOCK_SERVER, "for clients");
}
END_TEST

static Suite *ech_suite(void)
{
    Suite *s = suite_create("ech");
    TCase *tc = tcase_create("ech");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, supported_by_the_build);
    tcase_add_test(tc, status_names);
    tcase_add_test(tc, refused_without_ech);
    tcase_add_test(tc, public_names);
    tcase_add_test(tc, config_lists_checked);
    tcase_add_test(tc, server_config_list_feeds_a_client);
    tcase_add_test(tc, contradictions_at_the_transport);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(ech_suite());
}
