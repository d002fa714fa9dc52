/*
 * What only TLS does, the transport API talking to itself (self_talk.c):
 * versions, verification and its refusals, pins, --insecure, ALPN, mutual
 * TLS, the key log, a self-signed server, plaintext to a TLS port.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "secsock/security.h"
#include "secsock/transport.h"
#include "self_talk.h"
#include "testutil.h"
#include "transport/testing.h"

/* ---- TLS only ---------------------------------------------------------- */

/* One TLS exchange: a server with scfg that sends "hello" and closes, and
 * a client with ccfg connecting to host. */
struct attempt {
    int rc; /* secsock_connect */
    char err[512];
    struct testutil_session info; /* the client's, when rc == 0 */
    long long read_rc;            /* the client's first read, when rc == 0 */
    char got[16];
    struct server srv;
};

static int attempt(struct attempt *a, secsock_config *scfg, secsock_config *ccfg, const char *host)
{
    memset(a, 0, sizeof *a);
    talk_server_start(&a->srv, testutil_transport("tls", SECSOCK_SERVER, scfg), SRV_SEND_CLOSE,
                      "hello");
    struct client cl;
    a->rc = talk_client_connect(&cl, "tls", ccfg, host, a->srv.port);
    snprintf(a->err, sizeof a->err, "%s", cl.err);
    if (a->rc == 0) {
        testutil_session(cl.c, &a->info);
        a->read_rc = secsock_read(cl.c, a->got, sizeof a->got - 1);
        if (a->read_rc < 0)
            snprintf(a->err, sizeof a->err, "%s", secsock_conn_error(cl.c));
    } else if (cl.c != NULL) {
        ck_assert_str_eq(cl.err, secsock_conn_error(cl.c));
    }
    talk_client_close(&cl);
    talk_server_join(&a->srv);
    return a->rc;
}

#define ASSERT_CONNECTED(a)                                                                        \
    do {                                                                                           \
        ck_assert_msg((a).rc == 0, "connect: %d (%s); server: %d (%s)", (a).rc, (a).err,           \
                      (a).srv.handshake_rc, (a).srv.error);                                        \
        ck_assert_msg((a).read_rc == 5 && strcmp((a).got, "hello") == 0, "read: %lld (%s)",        \
                      (a).read_rc, (a).err);                                                       \
    } while (0)

#define ASSERT_REFUSED(a, status, text)                                                            \
    do {                                                                                           \
        ck_assert_msg((a).rc == (status), "connect: %d, want %d (%s)", (a).rc, (status), (a).err); \
        ck_assert_msg(strstr((a).err, (text)) != NULL, "error '%s' lacks '%s'", (a).err, (text));  \
        ck_assert_int_ne((a).srv.handshake_rc, 0);                                                 \
    } while (0)

START_TEST(tls12_with_max_12)
{
    struct attempt a;
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_max_version(c, "1.2"));
    attempt(&a, talk_server_cfg("server"), c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.version, "TLSv1.2");
    ck_assert_str_ne(a.info.cipher, "");
    ck_assert_str_ne(a.info.group, "");
    ck_assert_int_eq(a.info.verified, 1);
    ck_assert_str_eq(a.srv.info.version, "TLSv1.2");
}
END_TEST

START_TEST(tls13_by_default_with_rsa_cert)
{
    struct attempt a;
    attempt(&a, talk_server_cfg("rsa-server"), talk_client_cfg(), "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.version, "TLSv1.3");
    ck_assert_int_eq(a.info.verified, 1);
}
END_TEST

START_TEST(fullchain_server_cert)
{
    struct attempt a;
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_cert_file(s, testutil_pki_file("server-fullchain.crt")));
    TESTUTIL_CFG_OK(s, secsock_config_set_key_file(s, testutil_pki_file("server.key")));
    attempt(&a, s, talk_client_cfg(), "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_int_eq(a.info.verified, 1);
}
END_TEST

START_TEST(verify_unknown_ca)
{
    struct attempt a;
    attempt(&a, talk_server_cfg("unknownca"), talk_client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
    ck_assert_msg(strstr(a.err, "unable to get local issuer certificate") != NULL, "%s", a.err);
}
END_TEST

START_TEST(verify_no_cafile_uses_system_store)
{
    /* Without --cafile the system's CAs are used, and they don't know ours. */
    struct attempt a;
    attempt(&a, talk_server_cfg("server"), testutil_cfg_new(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
}
END_TEST

START_TEST(verify_wrong_host)
{
    struct attempt a;
    attempt(&a, talk_server_cfg("wronghost"), talk_client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "hostname mismatch");
    ck_assert_msg(strstr(a.err, "localhost") != NULL, "%s", a.err);
}
END_TEST

START_TEST(verify_wrong_ip)
{
    /* lm3nitro.crt has no IP SAN: an address is checked against IP SANs only. */
    struct attempt a;
    attempt(&a, talk_server_cfg("lm3nitro"), talk_client_cfg(), "127.0.0.1");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
    ck_assert_msg(strstr(a.err, "127.0.0.1") != NULL, "%s", a.err);
}
END_TEST

START_TEST(servername_overrides_host)
{
    /* The seed's lm3nitro.com, reached at 127.0.0.1 (curl --resolve). */
    struct attempt a;
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_servername(c, "lm3nitro.com"));
    attempt(&a, talk_server_cfg("lm3nitro"), c, "127.0.0.1");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.sni, "lm3nitro.com");
    ck_assert_str_eq(a.srv.info.sni, "lm3nitro.com");
    ck_assert_int_eq(a.info.verified, 1);
}
END_TEST

START_TEST(verify_expired)
{
    struct attempt a;
    attempt(&a, talk_server_cfg("expired"), talk_client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "expired");
}
END_TEST

START_TEST(pin_mismatch)
{
    char plain[80], colons[104], other_plain[80], other_colons[104];
    talk_cert_pin("server.crt", plain, sizeof plain, colons, sizeof colons);
    talk_cert_pin("unknownca.crt", other_plain, sizeof other_plain, other_colons,
                  sizeof other_colons);
    struct attempt a;
    secsock_config *c = testutil_cfg_new();
    TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, other_plain));
    attempt(&a, talk_server_cfg("server"), c, "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "pin mismatch");
    ck_assert_msg(strstr(a.err, colons) != NULL, "'%s' does not name %s", a.err, colons);
}
END_TEST

START_TEST(pin_match_without_cafile)
{
    char plain[80], colons[104];
    talk_cert_pin("server.crt", plain, sizeof plain, colons, sizeof colons);
    for (int spelling = 0; spelling < 2; spelling++) {
        struct attempt a;
        secsock_config *c = testutil_cfg_new();
        TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, spelling ? colons : plain));
        attempt(&a, talk_server_cfg("server"), c, "localhost");
        ASSERT_CONNECTED(a);
        ck_assert_str_eq(a.info.peer_fingerprint, colons);
        ck_assert_int_eq(a.info.verified, 1);
        ck_assert_str_eq(a.info.verify_result, "ok (pinned)");
    }
}
END_TEST

START_TEST(pin_match_ignores_ca_and_name)
{
    /* A pin trusts exactly that certificate, whoever signed it. */
    char plain[80], colons[104];
    talk_cert_pin("unknownca.crt", plain, sizeof plain, colons, sizeof colons);
    struct attempt a;
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, plain));
    attempt(&a, talk_server_cfg("unknownca"), c, "localhost");
    ASSERT_CONNECTED(a);
}
END_TEST

START_TEST(insecure_accepts_unknown_ca)
{
    struct attempt a;
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_insecure_noverify(c));
    attempt(&a, talk_server_cfg("unknownca"), c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_int_eq(a.info.verified, 0);
    ck_assert_int_eq(a.info.has_peer_cert, 1);
}
END_TEST

START_TEST(insecure_accepts_wrong_host_and_expired)
{
    const char *certs[] = { "wronghost", "expired" };
    for (int i = 0; i < 2; i++) {
        struct attempt a;
        secsock_config *c = talk_client_cfg();
        TESTUTIL_CFG_OK(c, secsock_config_insecure_noverify(c));
        attempt(&a, talk_server_cfg(certs[i]), c, "localhost");
        ASSERT_CONNECTED(a);
        ck_assert_int_eq(a.info.verified, 0);
    }
}
END_TEST

START_TEST(version_mismatch)
{
    struct attempt a;
    secsock_config *s = talk_server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_max_version(s, "1.2"));
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_min_version(c, "1.3"));
    attempt(&a, s, c, "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_HANDSHAKE, "");
    ck_assert_str_ne(a.err, "");
}
END_TEST

START_TEST(alpn_negotiated)
{
    struct attempt a;
    secsock_config *s = talk_server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_alpn(s, "http/1.1"));
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_alpn(c, "h2,http/1.1"));
    attempt(&a, s, c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.alpn, "http/1.1");
    ck_assert_str_eq(a.srv.info.alpn, "http/1.1");
}
END_TEST

START_TEST(alpn_absent_when_not_asked)
{
    struct attempt a;
    secsock_config *s = talk_server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_alpn(s, "http/1.1"));
    attempt(&a, s, talk_client_cfg(), "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.alpn, "");
}
END_TEST

static secsock_config *mtls_server_cfg(void)
{
    secsock_config *s = talk_server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_cafile(s, testutil_pki_file("ca.crt")));
    TESTUTIL_CFG_OK(s, secsock_config_verify_client(s, 1));
    return s;
}

START_TEST(mutual_tls)
{
    struct attempt a;
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_cert_file(c, testutil_pki_file("client.crt")));
    TESTUTIL_CFG_OK(c, secsock_config_set_key_file(c, testutil_pki_file("client.key")));
    attempt(&a, mtls_server_cfg(), c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_int_eq(a.srv.info.has_peer_cert, 1);
    ck_assert_msg(strstr(a.srv.info.peer_subject, "secsock client") != NULL, "subject '%s'",
                  a.srv.info.peer_subject);
    ck_assert_int_eq(a.srv.info.verified, 1);
}
END_TEST

START_TEST(mutual_tls_without_client_cert)
{
    /* TLS 1.3 finishes the client's handshake before the server has judged
     * the client's certificate: the refusal may arrive on the first read.
     * Either way the client gets no data, and the server's handshake fails. */
    for (int tls12 = 0; tls12 < 2; tls12++) {
        struct attempt a;
        secsock_config *c = talk_client_cfg();
        if (tls12)
            TESTUTIL_CFG_OK(c, secsock_config_set_max_version(c, "1.2"));
        attempt(&a, mtls_server_cfg(), c, "localhost");
        ck_assert_msg(a.srv.handshake_rc != 0, "the server accepted a client without a cert");
        ck_assert_str_ne(a.srv.error, "");
        if (tls12)
            ck_assert_msg(a.rc == SECSOCK_ERR_HANDSHAKE, "TLS 1.2 connect: %d (%s)", a.rc, a.err);
        else
            ck_assert_msg(a.rc != 0 || (a.read_rc < 0 && a.read_rc != SECSOCK_ERR_TIMEOUT),
                          "connect %d, read %lld (%s)", a.rc, a.read_rc, a.err);
    }
}
END_TEST

START_TEST(keylog_file)
{
    char dir[] = "/tmp/secsock-keylog-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/keys.log", dir);
    struct attempt a;
    secsock_config *c = talk_client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_keylog_file(c, path));
    attempt(&a, talk_server_cfg("server"), c, "localhost");
    ASSERT_CONNECTED(a);

    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    int lines = 0, traffic = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lines++;
        /* NSS format: LABEL <64 hex client random> <hex secret> */
        char label[64], random[80], secret[200];
        ck_assert_msg(sscanf(line, "%63s %79s %199s", label, random, secret) == 3, "line '%s'",
                      line);
        ck_assert_uint_eq(strlen(random), 64);
        traffic += strcmp(label, "CLIENT_TRAFFIC_SECRET_0") == 0;
    }
    fclose(f);
    ck_assert_int_ge(lines, 4);
    ck_assert_int_eq(traffic, 1);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(self_signed_server_and_pin)
{
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    secsock_transport *t = testutil_transport("tls", SECSOCK_SERVER, s);
    const char *fp = secsock_transport_fingerprint(t);
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(strncmp(fp, "sha256:", 7), 0);
    ck_assert_uint_eq(strlen(fp), 7 + 32 * 3 - 1);
    char pin[104];
    snprintf(pin, sizeof pin, "%s", fp);
    secsock_transport_free(t);

    /* A second transport makes a fresh certificate; pin that one. */
    s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    struct server srv;
    talk_server_start(&srv, testutil_transport("tls", SECSOCK_SERVER, s), SRV_SEND_CLOSE, "hello");
    snprintf(pin, sizeof pin, "%s", secsock_transport_fingerprint(srv.t));
    struct client cl;
    secsock_config *c = testutil_cfg_new();
    TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, pin));
    int rc = talk_client_connect(&cl, "tls", c, "localhost", srv.port);
    ck_assert_msg(rc == 0, "connect with the pin: %d (%s)", rc, cl.err);
    struct testutil_session info;
    testutil_session(cl.c, &info);
    ck_assert_str_eq(info.peer_fingerprint, pin);
    char got[8] = "";
    talk_read_exact(cl.c, got, 5);
    ck_assert_str_eq(got, "hello");
    talk_client_close(&cl);
    talk_server_join(&srv);

    /* Without the pin, a self-signed certificate is refused. */
    s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    struct attempt a;
    attempt(&a, s, talk_client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
}
END_TEST

START_TEST(fingerprint_only_for_self_signed)
{
    secsock_transport *t = testutil_transport("tls", SECSOCK_SERVER, talk_server_cfg("server"));
    ck_assert_ptr_null(secsock_transport_fingerprint(t));
    secsock_transport_free(t);
    t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    ck_assert_ptr_null(secsock_transport_fingerprint(t));
    secsock_transport_free(t);
}
END_TEST

START_TEST(plaintext_to_tls_port)
{
    secsock_transport *t = testutil_transport("tls", SECSOCK_SERVER, talk_server_cfg("server"));
    int lfd = -1;
    char bound[64], err[256] = "";
    ck_assert_msg(
        secsock_listen(t, "127.0.0.1", "0", 4, &lfd, bound, sizeof bound, err, sizeof err) == 0,
        "listen: %s", err);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons((unsigned short)atoi(strrchr(bound, ':') + 1)) };
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sin, sizeof sin), 0);
    const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ck_assert_int_eq(send(cfd, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    secsock_conn *c = secsock_conn_from_fd(t, fd, NULL, 0);
    ck_assert_ptr_nonnull(c);
    int rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == SECSOCK_ERR_HANDSHAKE, "handshake: %d (%s)", rc, secsock_conn_error(c));
    ck_assert_str_ne(secsock_conn_error(c), "");
    secsock_close(c);
    close(cfd);
    close(lfd);
    secsock_transport_free(t);
}
END_TEST

static Suite *transport_tls_suite(void)
{
    Suite *s = suite_create("transport_tls");
    TCase *tls = tcase_create("tls");

    tcase_set_timeout(tls, 30);
    tcase_add_test(tls, tls12_with_max_12);
    tcase_add_test(tls, tls13_by_default_with_rsa_cert);
    tcase_add_test(tls, fullchain_server_cert);
    tcase_add_test(tls, verify_unknown_ca);
    tcase_add_test(tls, verify_no_cafile_uses_system_store);
    tcase_add_test(tls, verify_wrong_host);
    tcase_add_test(tls, verify_wrong_ip);
    tcase_add_test(tls, servername_overrides_host);
    tcase_add_test(tls, verify_expired);
    tcase_add_test(tls, pin_mismatch);
    tcase_add_test(tls, pin_match_without_cafile);
    tcase_add_test(tls, pin_match_ignores_ca_and_name);
    tcase_add_test(tls, insecure_accepts_unknown_ca);
    tcase_add_test(tls, insecure_accepts_wrong_host_and_expired);
    tcase_add_test(tls, version_mismatch);
    tcase_add_test(tls, alpn_negotiated);
    tcase_add_test(tls, alpn_absent_when_not_asked);
    tcase_add_test(tls, mutual_tls);
    tcase_add_test(tls, mutual_tls_without_client_cert);
    tcase_add_test(tls, keylog_file);
    tcase_add_test(tls, self_signed_server_and_pin);
    tcase_add_test(tls, fingerprint_only_for_self_signed);
    tcase_add_test(tls, plaintext_to_tls_port);
    suite_add_tcase(s, tls);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(transport_tls_suite());
}
