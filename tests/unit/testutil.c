#include "testutil.h"

#include <check.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char pki_dir[256];
static pid_t pki_owner; /* Check forks per test: only the maker removes it */

static void remove_pki(void)
{
    char cmd[300];
    if (pki_dir[0] == '\0' || getpid() != pki_owner)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "testutil: could not remove %s\n", pki_dir);
}

const char *testutil_pki_dir(void)
{
    if (pki_dir[0] != '\0')
        return pki_dir;
    const char *script = getenv("SECSOCK_TEST_PKI");
    if (script == NULL) {
        fprintf(stderr, "testutil: SECSOCK_TEST_PKI is not set (run through ctest)\n");
        abort();
    }
    snprintf(pki_dir, sizeof pki_dir, "/tmp/secsock-pki-XXXXXX");
    if (mkdtemp(pki_dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s' >/dev/null", script, pki_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "testutil: %s failed\n", cmd);
        abort();
    }
    pki_owner = getpid();
    atexit(remove_pki);
    return pki_dir;
}

const char *testutil_pki_file(const char *name)
{
    static char slots[8][512];
    static int next;
    char *out = slots[next++ % 8];
    snprintf(out, sizeof slots[0], "%s/%s", testutil_pki_dir(), name);
    return out;
}

long long testutil_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ssize_t testutil_peek_wait(secsock_conn *c, void *buf, size_t len, int wait_ms)
{
    long long deadline = testutil_now_ms() + wait_ms;
    for (;;) {
        ssize_t n = secsock_peek_nowait(c, buf, len);
        if (n != SECSOCK_WANT_READ && n != SECSOCK_WANT_WRITE)
            return n;
        long long left = deadline - testutil_now_ms();
        if (left <= 0)
            return n;
        struct pollfd pfd = { .fd = secsock_conn_fd(c),
                              .events = n == SECSOCK_WANT_READ ? POLLIN : POLLOUT };
        (void)poll(&pfd, 1, (int)left);
    }
}

secsock_config *testutil_cfg_new(void)
{
    secsock_config *cfg = NULL;
    ck_assert_int_eq(secsock_config_new(&cfg), SECSOCK_OK);
    ck_assert_ptr_nonnull(cfg);
    return cfg;
}

secsock_config *testutil_server_cfg(const char *name, int mtu)
{
    secsock_config *cfg = testutil_cfg_new();
    char crt[64], key[64];
    snprintf(crt, sizeof crt, "%s.crt", name);
    snprintf(key, sizeof key, "%s.key", name);
    TESTUTIL_CFG_OK(cfg, secsock_config_set_cert_file(cfg, testutil_pki_file(crt)));
    TESTUTIL_CFG_OK(cfg, secsock_config_set_key_file(cfg, testutil_pki_file(key)));
    if (mtu != 0)
        TESTUTIL_CFG_OK(cfg, secsock_config_set_mtu(cfg, mtu));
    return cfg;
}

secsock_config *testutil_client_cfg(int mtu)
{
    secsock_config *cfg = testutil_cfg_new();
    TESTUTIL_CFG_OK(cfg, secsock_config_set_cafile(cfg, testutil_pki_file("ca.crt")));
    if (mtu != 0)
        TESTUTIL_CFG_OK(cfg, secsock_config_set_mtu(cfg, mtu));
    return cfg;
}

secsock_transport *testutil_transport(const char *backend, enum secsock_role role,
                                      secsock_config *cfg)
{
    char err[512] = "";
    secsock_transport *t = testutil_transport_err(backend, role, cfg, err, sizeof err);
    ck_assert_msg(t != NULL, "secsock_transport_new(%s): %s", backend, err);
    secsock_config_free(cfg);
    return t;
}

secsock_transport *testutil_transport_err(const char *backend, enum secsock_role role,
                                          const secsock_config *cfg, char *err, size_t errlen)
{
    secsock_transport *t = NULL;
    enum secsock_status rc = secsock_transport_new(backend, role, cfg, &t);
    snprintf(err, errlen, "%s", t != NULL ? secsock_transport_error(t) : "out of memory");
    ck_assert_msg((rc == SECSOCK_OK) == (err[0] == '\0'), "status %d, error '%s'", rc, err);
    if (rc == SECSOCK_OK)
        return t;
    secsock_transport_free(t);
    return NULL;
}

int testutil_connect(const secsock_transport *t, const struct secsock_connect_opts *opts,
                     secsock_conn **out, char *err, size_t errlen)
{
    enum secsock_status rc = secsock_connect(t, opts, out);
    snprintf(err, errlen, "%s", *out != NULL ? secsock_conn_error(*out) : "out of memory");
    if (rc != SECSOCK_OK) /* the API's promise: a failure always says why */
        ck_assert_msg(err[0] != '\0', "secsock_connect failed (%d) without a reason", rc);
    if (rc != SECSOCK_OK && *out != NULL && secsock_conn_fd(*out) < 0) {
        secsock_close(*out); /* only the reason: no connection was made */
        *out = NULL;
    }
    return rc;
}

int testutil_listener_new(const secsock_transport *t, const char *addr, const char *port,
                          int backlog, secsock_listener **out, char *err, size_t errlen)
{
    enum secsock_status rc = secsock_listener_new(t, addr, port, backlog, out);
    snprintf(err, errlen, "%s", *out != NULL ? secsock_listener_error(*out) : "out of memory");
    if (rc != SECSOCK_OK) {
        ck_assert_msg(err[0] != '\0', "secsock_listener_new failed (%d) without a reason", rc);
        secsock_listener_free(*out);
        *out = NULL;
    }
    return rc;
}

int testutil_accept(secsock_listener *l, int timeout_ms, secsock_conn **out, char *err,
                    size_t errlen)
{
    enum secsock_status rc = secsock_accept(l, timeout_ms, out);
    snprintf(err, errlen, "%s", secsock_listener_error(l));
    return rc;
}

void testutil_fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
}

void testutil_session(const secsock_conn *c, struct testutil_session *s)
{
#define COPY(field, value) snprintf(s->field, sizeof s->field, "%s", value)
    memset(s, 0, sizeof *s);
    s->secure = secsock_conn_is_secure(c);
    COPY(version, secsock_conn_protocol(c));
    COPY(cipher, secsock_conn_cipher(c));
    COPY(group, secsock_conn_group(c));
    COPY(alpn, secsock_conn_alpn(c));
    COPY(sni, secsock_conn_sni(c));
    s->resumed = secsock_conn_resumed(c);
    s->has_peer_cert = secsock_conn_peer_cert_count(c) > 0;
    COPY(peer_subject, secsock_conn_peer_cert_subject(c));
    COPY(peer_issuer, secsock_conn_peer_cert_issuer(c));
    COPY(peer_san, secsock_conn_peer_cert_san(c));
    COPY(peer_not_before, secsock_conn_peer_cert_not_before(c));
    COPY(peer_not_after, secsock_conn_peer_cert_not_after(c));
    COPY(peer_fingerprint, secsock_conn_peer_cert_fingerprint(c));
    s->verified = secsock_conn_verified(c);
    COPY(verify_result, secsock_conn_verify_result(c));
    s->cookie_exchange = secsock_conn_cookie_exchange(c);
    s->bytes_sent = secsock_conn_bytes_sent(c);
    s->bytes_received = secsock_conn_bytes_received(c);
#undef COPY
}

int testutil_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
