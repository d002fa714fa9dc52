/*
 * The peer's certificates as the library tells them (src/security/certinfo.c
 * through secsock_conn_peer_cert, secsock_conn_verify_failure and the
 * refusal's text): the chain the server sent is there after a refusal as
 * after a success, over TLS and DTLS; pins in both forms; a self-signed
 * server's pins and PEM; a hostile certificate's names come out printable.
 * Expected values are computed here with OpenSSL, not by the library.
 * The server and client of each test: cert_pair.c.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert_pair.h"
#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"

static const char *const secure_backends[] = { "tls", "dtls" };

/* ---- what OpenSSL says about a PEM file -------------------------------- */

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    return x;
}

/* "sha256:AB:CD:..." */
static void fingerprint_of(X509 *x, char out[104])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ck_assert_int_eq(X509_digest(x, EVP_sha256(), md, &len), 1);
    size_t n = (size_t)sprintf(out, "sha256:");
    for (unsigned int i = 0; i < len; i++)
        n += (size_t)sprintf(out + n, i ? ":%02X" : "%02X", md[i]);
}

/* "sha256//BASE64" of the DER SubjectPublicKeyInfo (i2d_PUBKEY: another
 * road to the same bytes than the library's). */
static void spki_of(X509 *x, char out[64])
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
    ck_assert_int_gt(len, 0);
    unsigned char md[32], b64[45];
    ck_assert_int_eq(EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
    EVP_EncodeBlock(b64, md, 32);
    snprintf(out, 64, "sha256//%s", (const char *)b64);
}

static void pki_fingerprint(const char *name, char out[104])
{
    X509 *x = read_cert(testutil_pki_file(name));
    fingerprint_of(x, out);
    X509_free(x);
}

static void pki_spki(const char *name, char out[64])
{
    X509 *x = read_cert(testutil_pki_file(name));
    spki_of(x, out);
    X509_free(x);
}

static secsock_config *server_cfg(const char *name)
{
    return testutil_server_cfg(name, 0);
}
static secsock_config *client_cfg(void)
{
    return testutil_client_cfg(0);
}

static secsock_config *pinned_cfg(const char *pin)
{
    secsock_config *c = testutil_cfg_new();
    TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, pin));
    return c;
}

#define ASSERT_HAS(haystack, needle)                                                               \
    ck_assert_msg(strstr((haystack), (needle)) != NULL, "'%s' lacks '%s'", (haystack), (needle))

/* The leaf of the PKI's NAME.crt is what the client saw. */
static void assert_leaf_is(const struct seen *w, const char *name)
{
    char fp[104], spki[64];
    char file[64];
    snprintf(file, sizeof file, "%s.crt", name);
    pki_fingerprint(file, fp);
    pki_spki(file, spki);
    ck_assert_str_eq(w->fingerprint, fp);
    ck_assert_str_eq(w->spki, spki);
    ck_assert_int_eq(w->info.has_peer_cert, 1);
    ck_assert_str_eq(w->info.peer_fingerprint, fp);
}

/* ---- refusals: the certificate is there, and the reason names the check - */

START_TEST(refused_unknown_ca_shows_the_chain)
{
    const char *backend = secure_backends[_i];
    struct seen w;
    cert_connect_to(&w, backend, server_cfg("unknownca"), client_cfg(), "localhost");
    ck_assert_int_eq(w.rc, SECSOCK_ERR_VERIFY);
    ck_assert_int_ne(w.srv.handshake_rc, 0);
    ck_assert_int_eq(w.count, 1);
    ck_assert_str_eq(w.subject, "CN=localhost");
    ck_assert_str_eq(w.issuer, "CN=secsock other CA");
    ck_assert_str_eq(w.san, "DNS:localhost, IP:127.0.0.1, IP:::1");
    assert_leaf_is(&w, "unknownca");
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_UNKNOWN_CA);
    ck_assert_int_eq(w.info.verified, 0);
    ASSERT_HAS(w.err, "certificate verify failed: unknown CA (issuer CN=secsock other CA)");
}
END_TEST

START_TEST(refused_expired_says_when)
{
    const char *backend = secure_backends[_i];
    struct seen w;
    cert_connect_to(&w, backend, server_cfg("expired"), client_cfg(), "localhost");
    ck_assert_int_eq(w.rc, SECSOCK_ERR_VERIFY);
    assert_leaf_is(&w, "expired");
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_EXPIRED);
    ck_assert_str_eq(w.not_after, "2020-02-01T00:00:00Z"); /* tests/lib/pki.sh's date */
    ASSERT_HAS(w.err, "certificate verify failed: expired on 2020-02-01T00:00:00Z");
}
END_TEST

START_TEST(refused_name_lists_the_san)
{
    const char *backend = secure_backends[_i];
    struct seen w;
    cert_connect_to(&w, backend, server_cfg("wronghost"), client_cfg(), "localhost");
    ck_assert_int_eq(w.rc, SECSOCK_ERR_VERIFY);
    assert_leaf_is(&w, "wronghost");
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_NAME_MISMATCH);
    ASSERT_HAS(w.err, "(wanted localhost): not in SAN DNS:wrong.example");
    /* An address is checked against the IP SANs: there are none. */
    cert_connect_to(&w, backend, server_cfg("wronghost"), client_cfg(), "127.0.0.1");
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_NAME_MISMATCH);
    ASSERT_HAS(w.err, "(wanted 127.0.0.1): not in SAN DNS:wrong.example");
}
END_TEST

START_TEST(refused_pin_says_wanted_and_got)
{
    const char *backend = secure_backends[_i];
    char fp[104], spki[64], zeros[80];
    pki_fingerprint("server.crt", fp);
    pki_spki("server.crt", spki);
    snprintf(zeros, sizeof zeros, "sha256:%064d", 0);
    struct seen w;
    cert_connect_to(&w, backend, server_cfg("server"), pinned_cfg(zeros), "localhost");
    ck_assert_int_eq(w.rc, SECSOCK_ERR_VERIFY);
    assert_leaf_is(&w, "server");
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_PIN_MISMATCH);
    ck_assert_str_eq(w.info.verify_result, "pin mismatch");
    char want[256];
    snprintf(want, sizeof want, ", got %s)", fp); /* in the pin's own form */
    ASSERT_HAS(w.err, "pin mismatch (wanted sha256:00:00:");
    ASSERT_HAS(w.err, want);
    /* A key pin is answered with the key's. */
    const char *other = "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    cert_connect_to(&w, backend, server_cfg("server"), pinned_cfg(other), "localhost");
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_PIN_MISMATCH);
    snprintf(want, sizeof want, "pin mismatch (wanted %s, got %s)", other, spki);
    ASSERT_HAS(w.err, want);
}
END_TEST

/* ---- acceptances --------------------------------------------------------- */

START_TEST(spki_pin_accepts_the_key)
{
    /* The key pin stands in for the CA, the dates and the name. */
    const char *backend = secure_backends[_i];
    const char *certs[] = { "server", "unknownca", "expired", "wronghost" };
    for (size_t k = 0; k < sizeof certs / sizeof certs[0]; k++) {
        char file[64], spki[64];
        snprintf(file, sizeof file, "%s.crt", certs[k]);
        pki_spki(file, spki);
        struct seen w;
        cert_connect_to(&w, backend, server_cfg(certs[k]), pinned_cfg(spki), "localhost");
        ck_assert_msg(w.rc == 0, "%s pinned by key: %d (%s)", certs[k], w.rc, w.err);
        ck_assert_int_eq(w.info.verified, 1);
        ck_assert_int_eq(w.failure, SECSOCK_VERIFY_NOT_REFUSED);
        ck_assert_str_eq(w.spki, spki);
    }
}
END_TEST

START_TEST(chain_as_sent)
{
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_cert_file(s, testutil_pki_file("server-fullchain.crt")));
    TESTUTIL_CFG_OK(s, secsock_config_set_key_file(s, testutil_pki_file("server.key")));
    struct seen w;
    cert_connect_to(&w, "tls", s, client_cfg(), "localhost");
    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_NOT_REFUSED);
    ck_assert_int_eq(w.count, 2);
    ck_assert_str_eq(w.chain1_subject, "CN=secsock test CA");
    ck_assert_str_eq(w.issuer, w.chain1_subject);
    assert_leaf_is(&w, "server");
}
END_TEST

START_TEST(server_sees_the_client_certificate)
{
    secsock_config *s = server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_cafile(s, testutil_pki_file("ca.crt")));
    TESTUTIL_CFG_OK(s, secsock_config_verify_client(s, 1));
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_cert_file(c, testutil_pki_file("client.crt")));
    TESTUTIL_CFG_OK(c, secsock_config_set_key_file(c, testutil_pki_file("client.key")));
    struct seen w;
    cert_connect_to(&w, "tls", s, c, "localhost");
    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_eq(w.srv.handshake_rc, 0);
    /* OpenSSL completes a chain from the trust store: the client sends
     * its CA too, and the server counts what was sent, leaf first. */
    ck_assert_int_eq(w.srv.peer_certs, 2);
    ck_assert_int_eq(w.srv.peer_certs_before, 0); /* nothing yet then, and nothing kept */
    ck_assert_str_eq(w.srv.peer_subject, "CN=secsock client");
}
END_TEST

START_TEST(plaintext_has_no_certificates)
{
    struct server srv;
    cert_server_start(&srv, "tcp", NULL);
    secsock_transport *t = testutil_transport("tcp", SECSOCK_CLIENT, NULL);
    struct secsock_connect_opts o = { .host = "127.0.0.1",
                                      .port = srv.port,
                                      .timeout_ms = TESTUTIL_WAIT_MS };
    secsock_conn *c = NULL;
    char err[256];
    ck_assert_int_eq(testutil_connect(t, &o, &c, err, sizeof err), 0);
    ck_assert_int_eq(secsock_conn_peer_cert_count(c), 0);
    ck_assert_str_eq(secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SUBJECT), "");
    ck_assert_int_eq(secsock_conn_verify_failure(c), SECSOCK_VERIFY_NOT_REFUSED);
    secsock_close(c);
    secsock_transport_free(t);
    cert_server_join(&srv);
}
END_TEST

START_TEST(out_of_range_is_empty)
{
    struct seen w;
    cert_connect_to(&w, "tls", server_cfg("server"), client_cfg(), "localhost");
    ck_assert_int_eq(w.count, 1);
    ck_assert_str_eq(w.chain1_subject, ""); /* index 1 of a chain of one */
}
END_TEST

/* ---- a self-signed server's pins and PEM -------------------------------- */

START_TEST(self_signed_pins_and_pem)
{
    const char *backend = secure_backends[_i];
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    secsock_transport *t = testutil_transport(backend, SECSOCK_SERVER, s);
    const char *pem = secsock_transport_cert_pem(t);
    ck_assert_ptr_nonnull(pem);
    ck_assert_ptr_nonnull(secsock_transport_spki_pin(t));
    /* The PEM is the certificate both pins name. */
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ck_assert_ptr_nonnull(x);
    char fp[104], spki[64];
    fingerprint_of(x, fp);
    spki_of(x, spki);
    X509_free(x);
    ck_assert_str_eq(secsock_transport_fingerprint(t), fp);
    ck_assert_str_eq(secsock_transport_spki_pin(t), spki);
    secsock_transport_free(t);
}
END_TEST

START_TEST(self_signed_pem_as_a_ca_file)
{
    /* A client that trusts the saved PEM verifies the server by name and
     * by address, with no pin and no -k: the certificate's names are the
     * ones clients use. */
    const char *hosts[] = { "localhost", "127.0.0.1" };
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    struct server srv;
    cert_server_listen(&srv, "tls", s);
    char path[] = "/tmp/secsock-certinfo-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *pem = secsock_transport_cert_pem(srv.t);
    ck_assert_int_eq(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
    close(fd);
    for (size_t k = 0; k < 2; k++) { /* a thread serves one client */
        ck_assert_int_eq(pthread_create(&srv.thread, NULL, cert_serve_one, &srv), 0);
        secsock_config *c = testutil_cfg_new();
        TESTUTIL_CFG_OK(c, secsock_config_set_cafile(c, path));
        secsock_transport *t = testutil_transport("tls", SECSOCK_CLIENT, c);
        struct secsock_connect_opts o = { .host = hosts[k],
                                          .port = srv.port,
                                          .timeout_ms = TESTUTIL_WAIT_MS };
        secsock_conn *conn = NULL;
        char err[512];
        int rc = testutil_connect(t, &o, &conn, err, sizeof err);
        ck_assert_msg(rc == 0, "%s with the PEM as CA file: %d (%s)", hosts[k], rc, err);
        secsock_close(conn);
        secsock_transport_free(t);
        pthread_join(srv.thread, NULL);
    }
    unlink(path);
    secsock_listener_free(srv.l);
    secsock_transport_free(srv.t);
}
END_TEST

START_TEST(pins_only_for_self_signed)
{
    secsock_transport *t = testutil_transport("tls", SECSOCK_SERVER, server_cfg("server"));
    ck_assert_ptr_null(secsock_transport_spki_pin(t));
    ck_assert_ptr_null(secsock_transport_cert_pem(t));
    secsock_transport_free(t);
    t = testutil_transport("udp", SECSOCK_SERVER, NULL);
    ck_assert_ptr_null(secsock_transport_spki_pin(t));
    ck_assert_ptr_null(secsock_transport_cert_pem(t));
    secsock_transport_free(t);
}
END_TEST

/* ---- a hostile certificate ---------------------------------------------- */

/* A self-signed certificate whose subject, issuer and SAN hold terminal
 * escapes and non-ASCII bytes, written with its key under dir. */
static void write_hostile_cert(const char *dir)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(key);
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    /* A name of our own: OpenSSL 4.0's X509_get_subject_name() is const. */
    X509_NAME *name = X509_NAME_new();
    static const unsigned char cn[] = "evil\x1b]0;pwned\x07\x1b[2J\x7f\xc3\xa9\r\nX";
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0), 1);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_NAME_free(name);
    X509_set_pubkey(x, key);
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
    ASN1_STRING_set(dns,
                    "a\x1b[31mb\x9b"
                    "c.example",
                    -1);
    GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
    sk_GENERAL_NAME_push(sans, gn);
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, 0), 1);
    GENERAL_NAMES_free(sans);
    ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/hostile.crt", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    fclose(f);
    snprintf(path, sizeof path, "%s/hostile.key", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void assert_printable(const char *what, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        ck_assert_msg(*p >= 0x20 && *p < 0x7f, "%s: byte 0x%02x in '%s'", what, *p, s);
}

START_TEST(hostile_names_come_out_printable)
{
    char dir[] = "/tmp/secsock-hostile-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_hostile_cert(dir);
    char crt[512], key[512];
    snprintf(crt, sizeof crt, "%s/hostile.crt", dir);
    snprintf(key, sizeof key, "%s/hostile.key", dir);
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_cert_file(s, crt));
    TESTUTIL_CFG_OK(s, secsock_config_set_key_file(s, key));
    struct seen w;
    cert_connect_to(&w, "tls", s, client_cfg(), "localhost");
    ck_assert_int_eq(w.rc, SECSOCK_ERR_VERIFY);
    ck_assert_int_eq(w.failure, SECSOCK_VERIFY_UNKNOWN_CA);
    ck_assert_int_eq(w.count, 1);
    ASSERT_HAS(w.subject, "evil");
    ASSERT_HAS(w.san, "c.example");
    assert_printable("subject", w.subject);
    assert_printable("issuer", w.issuer);
    assert_printable("SAN", w.san);
    assert_printable("error", w.err);
    assert_printable("session subject", w.info.peer_subject);
    assert_printable("session SAN", w.info.peer_san);
    unlink(crt);
    unlink(key);
    rmdir(dir);
}
END_TEST

/* ---- long names ---------------------------------------------------------- */

/* A self-signed certificate with a subject of 8 OUs of 60 characters and
 * 24 DNS names of 40, more than any fixed buffer of old held (256 bytes
 * for a name, 512 for the SAN list), written with its key under dir. */
static void write_long_cert(const char *dir)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(key);
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    /* A name of our own: OpenSSL 4.0's X509_get_subject_name() is const. */
    X509_NAME *name = X509_NAME_new();
    char text[64];
    for (int i = 0; i < 8; i++) {
        snprintf(text, sizeof text, "unit%d-%053d", i, 0);
        ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                                                    (const unsigned char *)text, -1, -1, 0),
                         1);
    }
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"the-end", -1, -1, 0),
                     1);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_NAME_free(name);
    X509_set_pubkey(x, key);
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    for (int i = 0; i < 24; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
        snprintf(text, sizeof text, "host%02d-%024d.example", i, 0);
        ASN1_STRING_set(dns, text, -1);
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
        sk_GENERAL_NAME_push(sans, gn);
    }
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, 0), 1);
    GENERAL_NAMES_free(sans);
    ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/long.crt", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    fclose(f);
    snprintf(path, sizeof path, "%s/long.key", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

START_TEST(long_names_come_whole)
{
    char dir[] = "/tmp/secsock-long-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_long_cert(dir);
    char crt[512], key[512];
    snprintf(crt, sizeof crt, "%s/long.crt", dir);
    snprintf(key, sizeof key, "%s/long.key", dir);
    secsock_config *scfg = testutil_cfg_new();
    TESTUTIL_CFG_OK(scfg, secsock_config_set_cert_file(scfg, crt));
    TESTUTIL_CFG_OK(scfg, secsock_config_set_key_file(scfg, key));
    struct server srv;
    cert_server_start(&srv, "tls", scfg);
    secsock_transport *t = testutil_transport("tls", SECSOCK_CLIENT, client_cfg());
    struct secsock_connect_opts o = { .host = "localhost",
                                      .port = srv.port,
                                      .timeout_ms = TESTUTIL_WAIT_MS };
    secsock_conn *c = NULL;
    ck_assert_int_eq(secsock_connect(t, &o, &c), SECSOCK_ERR_VERIFY); /* unknown CA */
    const char *subject = secsock_conn_peer_cert_subject(c);
    const char *issuer = secsock_conn_peer_cert_issuer(c);
    const char *san = secsock_conn_peer_cert_san(c);
    ck_assert_uint_gt(strlen(subject), 8 * 60);
    ASSERT_HAS(subject, "CN=the-end");
    ASSERT_HAS(subject, "OU=unit0-");
    ASSERT_HAS(subject, "OU=unit7-");
    ck_assert_str_eq(issuer, subject);
    ck_assert_uint_gt(strlen(san), 24 * 40);
    ASSERT_HAS(san, "DNS:host00-");
    ASSERT_HAS(san, "DNS:host23-000000000000000000000000.example");
    secsock_close(c);
    secsock_transport_free(t);
    cert_server_join(&srv);
    unlink(crt);
    unlink(key);
    rmdir(dir);
}
END_TEST

static Suite *certinfo_suite(void)
{
    Suite *s = suite_create("certinfo");
    TCase *refused = tcase_create("refused");
    tcase_add_loop_test(refused, refused_unknown_ca_shows_the_chain, 0, 2);
    tcase_add_loop_test(refused, refused_expired_says_when, 0, 2);
    tcase_add_loop_test(refused, refused_name_lists_the_san, 0, 2);
    tcase_add_loop_test(refused, refused_pin_says_wanted_and_got, 0, 2);
    tcase_add_test(refused, hostile_names_come_out_printable);
    tcase_add_test(refused, long_names_come_whole);
    suite_add_tcase(s, refused);
    TCase *accepted = tcase_create("accepted");
    tcase_add_loop_test(accepted, spki_pin_accepts_the_key, 0, 2);
    tcase_add_test(accepted, chain_as_sent);
    tcase_add_test(accepted, server_sees_the_client_certificate);
    tcase_add_test(accepted, plaintext_has_no_certificates);
    tcase_add_test(accepted, out_of_range_is_empty);
    suite_add_tcase(s, accepted);
    TCase *self = tcase_create("self_signed");
    tcase_add_loop_test(self, self_signed_pins_and_pem, 0, 2);
    tcase_add_test(self, self_signed_pem_as_a_ca_file);
    tcase_add_test(self, pins_only_for_self_signed);
    suite_add_tcase(s, self);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(certinfo_suite());
}
