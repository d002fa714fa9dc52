/* The ClientHello a connection keeps (secsock_config_keep_client_hello,
 * secsock_conn_client_hello), over TLS and DTLS, and its fingerprints: a
 * live pair, apart from the fingerprints of built hellos
 * (test_fingerprint.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "secsock/fingerprint.h"
#include "secsock/transport.h"
#include "testutil.h"

/* --- the ClientHello a connection keeps --- */

struct pair {
    secsock_transport *ts, *tc;
    secsock_listener *l;
    struct secsock_connect_opts o;
};

/* Transports of backend for both sides, keeping hellos when keep, and a
 * listener on a free loopback port. */
static void pair_init(struct pair *p, const char *backend, int keep)
{
    secsock_config *scfg = testutil_server_cfg("server", 0);
    TESTUTIL_CFG_OK(scfg, secsock_config_keep_client_hello(scfg, keep));
    p->ts = testutil_transport(backend, SECSOCK_SERVER, scfg);
    secsock_config *ccfg = testutil_client_cfg(0);
    TESTUTIL_CFG_OK(ccfg, secsock_config_keep_client_hello(ccfg, keep));
    p->tc = testutil_transport(backend, SECSOCK_CLIENT, ccfg);
    char err[256];
    ck_assert_int_eq(testutil_listener_new(p->ts, "127.0.0.1", "0", 8, &p->l, err, sizeof err), 0);
    p->o = (struct secsock_connect_opts){ .host = "localhost",
                                          .port = strrchr(secsock_listener_address(p->l), ':') + 1,
                                          .connect_addr = "127.0.0.1",
                                          .timeout_ms = TESTUTIL_WAIT_MS };
}

static void pair_free(struct pair *p)
{
    secsock_listener_free(p->l);
    secsock_transport_free(p->tc);
    secsock_transport_free(p->ts);
}

/* A child process that accepts one client and runs its handshake. */
static pid_t serve_one(struct pair *p)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char err[256];
        secsock_conn *sc = NULL;
        int rc = testutil_accept(p->l, TESTUTIL_WAIT_MS, &sc, err, sizeof err);
        if (rc == 0)
            rc = secsock_handshake(sc, TESTUTIL_WAIT_MS);
        secsock_close(sc);
        _exit(rc == 0 ? 0 : 1);
    }
    return pid;
}

static void reap(pid_t pid)
{
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

START_TEST(conn_keeps_the_tls_client_hello_when_asked)
{
    for (int keep = 0; keep <= 1; keep++) {
        struct pair p;
        pair_init(&p, "tls", keep);
        pid_t pid = serve_one(&p);
        secsock_conn *c = NULL;
        char err[256];
        ck_assert_msg(testutil_connect(p.tc, &p.o, &c, err, sizeof err) == 0, "%s", err);
        reap(pid);
        size_t len = 99;
        const unsigned char *hello = secsock_conn_client_hello(c, &len);
        if (!keep) {
            ck_assert_ptr_null(hello);
            ck_assert_uint_eq(len, 0);
        } else {
            ck_assert_ptr_nonnull(hello);
            ck_assert_uint_eq(len, 5 + ((size_t)hello[3] << 8 | hello[4])); /* one record */
            struct secsock_fingerprint fp;
            ck_assert_int_eq(secsock_fingerprint_client_hello(hello, len, &fp), 0);
            /* TLS 1.3, SNI "localhost", no ALPN asked. */
            ck_assert_msg(strncmp(fp.ja4, "t13d", 4) == 0 && strncmp(fp.ja4 + 8, "00_", 3) == 0,
                          "%s", fp.ja4);
        }
        secsock_close(c);
        pair_free(&p);
    }
}
END_TEST

START_TEST(dtls_server_sees_what_the_client_sent)
{
    struct pair p;
    pair_init(&p, "dtls", 1);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    /* The client in a child: it sends its own fingerprints down the pipe. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char err[256];
        secsock_conn *c = NULL;
        struct secsock_fingerprint fp = { .ja4 = "" };
        size_t len = 0;
        int rc = testutil_connect(p.tc, &p.o, &c, err, sizeof err);
        const unsigned char *hello = c != NULL ? secsock_conn_client_hello(c, &len) : NULL;
        if (rc == 0 && hello != NULL)
            rc = secsock_fingerprint_client_hello(hello, len, &fp);
        ssize_t w = write(fds[1], &fp, sizeof fp);
        secsock_close(c);
        _exit(rc == 0 && w == (ssize_t)sizeof fp ? 0 : 1);
    }
    close(fds[1]);
    char err[256];
    secsock_conn *sc = NULL;
    ck_assert_msg(testutil_accept(p.l, TESTUTIL_WAIT_MS, &sc, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(secsock_handshake(sc, TESTUTIL_WAIT_MS), 0);
    struct secsock_fingerprint mine;
    size_t got = 0;
    while (got < sizeof mine) {
        ssize_t n = read(fds[0], (char *)&mine + got, sizeof mine - got);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    reap(pid);
    close(fds[0]);
    size_t len;
    const unsigned char *seen = secsock_conn_client_hello(sc, &len);
    ck_assert_ptr_nonnull(seen);
    struct secsock_fingerprint theirs;
    ck_assert_int_eq(secsock_fingerprint_client_hello(seen, len, &theirs), 0);
    /* The server accepted the hello with the cookie, the client kept its
     * first: the fingerprints leave the cookie out, so they agree. */
    ck_assert_str_eq(theirs.ja4, mine.ja4);
    ck_assert_str_eq(theirs.ja3, mine.ja3);
    ck_assert_msg(strncmp(mine.ja4, "dd2d", 4) == 0, "%s", mine.ja4);
    secsock_close(sc);
    pair_free(&p);
}
END_TEST

static Suite *fingerprint_conn_suite(void)
{
    Suite *s = suite_create("fingerprint_conn");
    TCase *conn = tcase_create("conn");
    tcase_set_timeout(conn, 60);
    tcase_add_test(conn, conn_keeps_the_tls_client_hello_when_asked);
    tcase_add_test(conn, dtls_server_sees_what_the_client_sent);
    suite_add_tcase(s, conn);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so both tests share one PKI */
    return testutil_run(fingerprint_conn_suite());
}
