/*
 * The 1.0 API's promises, as a user of <secsock/secsock.h> relies on them:
 * the version agrees with the headers; every failure is a status with its
 * reason kept by the object the call was on (a config, a transport, a
 * listener, a connection), also when no connection could be made; and the
 * session facts are never NULL.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "secsock/secsock.h"
#include "testutil.h"

START_TEST(version_matches_the_headers)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SECSOCK_VERSION_MAJOR, SECSOCK_VERSION_MINOR,
             SECSOCK_VERSION_PATCH);
    ck_assert_str_eq(secsock_version(), want);
    ck_assert_int_eq(SECSOCK_API_VERSION >> 16, SECSOCK_VERSION_MAJOR);
    ck_assert_int_eq((SECSOCK_API_VERSION >> 8) & 0xff, SECSOCK_VERSION_MINOR);
    ck_assert_int_eq(SECSOCK_API_VERSION & 0xff, SECSOCK_VERSION_PATCH);
    ck_assert_int_ge(SECSOCK_API_VERSION, 0x010000);
}
END_TEST

START_TEST(config_setter_status_and_reason)
{
    secsock_config *cfg = testutil_cfg_new();
    ck_assert_str_eq(secsock_config_error(cfg), "");
    ck_assert_int_eq(secsock_config_set_mtu(cfg, 100), SECSOCK_ERR_CONFIG);
    ck_assert_msg(strstr(secsock_config_error(cfg), "100") != NULL, "'%s'",
                  secsock_config_error(cfg));
    ck_assert_int_eq(secsock_config_set_mtu(cfg, 1400), SECSOCK_OK);
    secsock_config_free(cfg);
}
END_TEST

START_TEST(transport_failure_keeps_its_reason)
{
    secsock_transport *t = NULL;
    ck_assert_int_eq(secsock_transport_new("quic", SECSOCK_CLIENT, NULL, &t), SECSOCK_ERR_CONFIG);
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(strstr(secsock_transport_error(t), "quic") != NULL, "'%s'",
                  secsock_transport_error(t));
    secsock_transport_free(t);

    /* A server without a certificate: the backend's own refusal. */
    t = NULL;
    secsock_config *cfg = testutil_cfg_new();
    ck_assert_int_eq(secsock_transport_new("tls", SECSOCK_SERVER, cfg, &t), SECSOCK_ERR_CONFIG);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_ne(secsock_transport_error(t), "");
    secsock_transport_free(t);
    secsock_config_free(cfg);

    t = NULL;
    ck_assert_int_eq(secsock_transport_new("tcp", SECSOCK_CLIENT, NULL, &t), SECSOCK_OK);
    ck_assert_str_eq(secsock_transport_error(t), "");
    secsock_transport_free(t);
}
END_TEST

/* A port on 127.0.0.1 where nothing listens: bound, so no one else takes
 * it meanwhile, but not listening, so a connect is refused. */
static int refusing_port(char *port, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(port, len, "%u", ntohs(a.sin_port));
    return fd;
}

START_TEST(connect_failure_is_a_connection_with_a_reason)
{
    secsock_transport *t = testutil_transport("tls", SECSOCK_CLIENT, testutil_client_cfg(0));
    char port[8];
    int fd = refusing_port(port, sizeof port);
    struct secsock_connect_opts o = { .host = "127.0.0.1",
                                      .port = port,
                                      .timeout_ms = TESTUTIL_WAIT_MS };
    secsock_conn *c = NULL;
    ck_assert_int_eq(secsock_connect(t, &o, &c), SECSOCK_ERR_CONNECT);
    ck_assert_ptr_nonnull(c);
    char want[32];
    snprintf(want, sizeof want, "127.0.0.1:%s", port);
    ck_assert_msg(strstr(secsock_conn_error(c), want) != NULL, "'%s'", secsock_conn_error(c));
    /* No connection was made: nothing to poll, no peer, no facts. */
    ck_assert_int_eq(secsock_conn_fd(c), -1);
    ck_assert_str_eq(secsock_conn_peer(c), "");
    ck_assert_str_eq(secsock_conn_protocol(c), "");
    ck_assert_str_eq(secsock_conn_peer_cert_subject(c), "");
    ck_assert_str_eq(secsock_conn_verify_result(c), "");
    ck_assert_int_eq(secsock_conn_verified(c), 0);
    char buf[4];
    ck_assert_int_lt(secsock_read(c, buf, sizeof buf), 0);
    ck_assert_int_lt(secsock_write_all(c, "x", 1), 0);
    secsock_close(c);

    o.host = "no-such-host.invalid";
    c = NULL;
    ck_assert_int_eq(secsock_connect(t, &o, &c), SECSOCK_ERR_RESOLVE);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(strstr(secsock_conn_error(c), "no-such-host.invalid") != NULL, "'%s'",
                  secsock_conn_error(c));
    secsock_close(c);
    close(fd);
    secsock_transport_free(t);
}
END_TEST

START_TEST(listener_failures_keep_their_reason)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    secsock_listener *l = NULL;
    ck_assert_int_eq(secsock_listener_new(t, "no-such-host.invalid", "0", 4, &l),
                     SECSOCK_ERR_CONFIG);
    ck_assert_ptr_nonnull(l);
    ck_assert_msg(strstr(secsock_listener_error(l), "no-such-host.invalid") != NULL, "'%s'",
                  secsock_listener_error(l));
    secsock_listener_free(l);

    l = NULL;
    ck_assert_int_eq(secsock_listener_new(t, "127.0.0.1", "0", 4, &l), SECSOCK_OK);
    ck_assert_str_eq(secsock_listener_error(l), "");
    const char *port = strrchr(secsock_listener_address(l), ':') + 1;
    secsock_listener *again = NULL; /* the port is taken */
    ck_assert_int_eq(secsock_listener_new(t, "127.0.0.1", port, 4, &again), SECSOCK_ERR_CONNECT);
    ck_assert_str_ne(secsock_listener_error(again), "");
    secsock_listener_free(again);

    secsock_conn *c = NULL;
    ck_assert_int_eq(secsock_accept(l, 10, &c), SECSOCK_ERR_TIMEOUT);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(secsock_listener_error(l), "timeout") != NULL, "'%s'",
                  secsock_listener_error(l));
    secsock_listener_free(l);
    secsock_transport_free(t);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, version_matches_the_headers);
    tcase_add_test(tc, config_setter_status_and_reason);
    tcase_add_test(tc, transport_failure_keeps_its_reason);
    tcase_add_test(tc, connect_failure_is_a_connection_with_a_reason);
    tcase_add_test(tc, listener_failures_keep_their_reason);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(api_suite());
}
