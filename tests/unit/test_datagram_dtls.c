/*
 * What only DTLS does, self-talk over loopback (datagram_talk.c): no
 * listener, path MTU, verification refused, close_notify and half-close,
 * a listener that survives garbage, many peers at once.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datagram_talk.h"
#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"

/* ---- dtls only --------------------------------------------------------- */

START_TEST(dtls_nobody_listens)
{
    char port[16];
    dg_free_port(SOCK_DGRAM, port, sizeof port);
    struct dclient cl;
    long long t0 = testutil_now_ms();
    int rc = dclient_connect_to(&cl, "dtls", testutil_client_cfg(0), "localhost", port, 5000);
    long long waited = testutil_now_ms() - t0;
    ck_assert_msg(rc == SECSOCK_ERR_CONNECT, "dtls connect to nobody: %d (%s)", rc, cl.err);
    ck_assert_msg(waited < 3000, "waited %lld ms for the refusal", waited);
    ck_assert_ptr_nonnull(strstr(cl.err, "connection refused"));
    dclient_close(&cl);
}
END_TEST

/* A bigger path MTU on both sides: bigger messages, within it. */
START_TEST(dtls_mtu_9000)
{
    struct dserver s;
    struct dclient cl;
    dserver_start(&s, dg_server_transport("dtls", "server", 9000));
    int rc = dclient_connect_to(&cl, "dtls", testutil_client_cfg(9000), "localhost", s.port,
                                TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "connect: %d (%s)", rc, cl.err);
    size_t max = secsock_max_message(cl.c);
    ck_assert_msg(max > 8000 && max < 9000, "max message %zu at MTU 9000", max);
    unsigned char *msg = malloc(max + 1);
    ck_assert_ptr_nonnull(msg);
    testutil_fill_pattern(msg, max + 1, 6);
    dg_echo_once(cl.c, msg, max);
    rc = secsock_write_all(cl.c, msg, max + 1);
    ck_assert_msg(rc == SECSOCK_ERR_TOO_BIG, "write max+1: %d (%s)", rc, secsock_conn_error(cl.c));
    ck_assert_msg(strstr(secsock_conn_error(cl.c), "9000") != NULL, "error '%s' lacks the MTU",
                  secsock_conn_error(cl.c));
    free(msg);
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, 1);
    ck_assert_uint_eq(s.max_message, max);
    ck_assert_int_eq(s.nseen, 1);
    ck_assert_uint_eq(s.seen[0], max);
}
END_TEST

static void dtls_refused(const char *cert, const char *host, const char *text)
{
    struct dserver s;
    struct dclient cl;
    dserver_start(&s, dg_server_transport("dtls", cert, 0));
    int rc =
        dclient_connect_to(&cl, "dtls", testutil_client_cfg(0), host, s.port, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == SECSOCK_ERR_VERIFY, "%s cert, connect to %s: %d (%s)", cert, host, rc,
                  cl.err);
    ck_assert_msg(strstr(cl.err, text) != NULL, "error '%s' lacks '%s'", cl.err, text);
    if (cl.c != NULL)
        ck_assert_str_eq(cl.err, secsock_conn_error(cl.c));
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.conns, 1);
    ck_assert_int_ne(s.handshake_rc, 0);
    ck_assert_int_eq(s.nseen, 0);
}

START_TEST(dtls_verify_unknown_ca)
{
    dtls_refused("unknownca", "localhost", "certificate verify failed");
}
END_TEST

START_TEST(dtls_verify_wrong_host)
{
    dtls_refused("wronghost", "localhost", "hostname mismatch");
}
END_TEST

/* Our close sends close_notify: the server's read ends with 0 at once, not
 * at its timeout. */
START_TEST(dtls_close_notify)
{
    struct dserver s;
    struct dclient cl;
    const struct variant v = { "dtls", "localhost" };
    dg_start_echo(&s, &v);
    dg_connect_echo(&cl, &v, &s);
    dg_echo_once(cl.c, "bye", 3);
    long long t0 = testutil_now_ms();
    dclient_close(&cl);
    dserver_stop(&s); /* waits for the server's connection to end */
    long long waited = testutil_now_ms() - t0;
    dg_assert_clean_ends(&s, 1);
    ck_assert_msg(waited < TESTUTIL_WAIT_MS / 2, "the server's read ended %lld ms after our close",
                  waited);
}
END_TEST

/* Half-close: our close_notify ends the server's reading, and its reply
 * to what came before still reaches us. */
START_TEST(dtls_shutdown_write_then_read)
{
    struct dserver s;
    struct dclient cl;
    const struct variant v = { "dtls", "localhost" };
    dg_start_echo(&s, &v);
    dg_connect_echo(&cl, &v, &s);
    ck_assert_int_eq(secsock_write_all(cl.c, "last words", 10), 0);
    int rc = secsock_shutdown_write(cl.c);
    ck_assert_msg(rc == 0, "shutdown_write: %d (%s)", rc, secsock_conn_error(cl.c));
    char got[16] = "";
    ssize_t n = secsock_read(cl.c, got, sizeof got - 1);
    ck_assert_msg(n == 10, "read after shutdown_write: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_str_eq(got, "last words");
    n = secsock_read(cl.c, got, sizeof got - 1); /* the server closes in turn */
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, 1);
}
END_TEST

/* Datagrams that are not DTLS at the listener cost nothing and stop nobody:
 * a real client is served afterwards. */
START_TEST(dtls_listener_survives_garbage)
{
    struct dserver s;
    struct dclient cl;
    const struct variant v = { "dtls", "localhost" };
    dg_start_echo(&s, &v);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons((unsigned short)atoi(s.port)) };
    unsigned char junk[300];
    testutil_fill_pattern(junk, sizeof junk, 7);
    junk[0] = 22; /* a handshake record's type, then nonsense */
    const char *texts[] = { "hello", "GET / HTTP/1.1\r\n\r\n", "" };
    for (int i = 0; i < 3; i++)
        ck_assert_int_ge(
            sendto(fd, texts[i], strlen(texts[i]), 0, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&sin, sizeof sin),
                     (ssize_t)sizeof junk);
    close(fd);
    dg_connect_echo(&cl, &v, &s);
    dg_echo_once(cl.c, "served", 6);
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.conns, 1); /* no connection for the junk */
    ck_assert_int_eq(s.handshake_rc, 0);
    ck_assert_int_eq(s.nseen, 1);
}
END_TEST

/* ---- many DTLS peers at once ------------------------------------------ */

#define N_PARALLEL 20
#define ROUNDS 3

struct pserver {
    secsock_listener *l;
    int stop[2];
    pthread_t thread;
    int accepted, accept_errors;
    char error[256];
    pthread_t handlers[N_PARALLEL];
    struct phandler {
        secsock_conn *c;
        int handshake_rc;
        int echoed;
        long long end_rc;
    } h[N_PARALLEL];
};

static void *phandler_main(void *arg)
{
    struct phandler *h = arg;
    h->handshake_rc = secsock_handshake(h->c, TESTUTIL_WAIT_MS);
    ssize_t n = -100;
    if (h->handshake_rc == 0) {
        char buf[256];
        while ((n = secsock_read(h->c, buf, sizeof buf)) > 0)
            if (secsock_write_all(h->c, buf, (size_t)n) == 0)
                h->echoed++;
    }
    h->end_rc = n;
    secsock_close(h->c);
    return NULL;
}

static void *pserver_main(void *arg)
{
    struct pserver *s = arg;
    while (s->accepted < N_PARALLEL) {
        secsock_conn *c = NULL;
        char err[256] = "";
        int rc = testutil_accept(s->l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
        if (rc == SECSOCK_ERR_CANCELLED || rc == SECSOCK_ERR_TIMEOUT)
            break;
        if (rc != 0) {
            s->accept_errors++;
            snprintf(s->error, sizeof s->error, "%d %.200s", rc, err);
            continue;
        }
        struct phandler *h = &s->h[s->accepted];
        h->c = c;
        secsock_conn_set_timeout(c, TESTUTIL_WAIT_MS);
        secsock_conn_set_cancel_fd(c, s->stop[0]);
        if (pthread_create(&s->handlers[s->accepted], NULL, phandler_main, h) != 0) {
            secsock_close(c);
            break;
        }
        s->accepted++;
    }
    for (int i = 0; i < s->accepted; i++)
        pthread_join(s->handlers[i], NULL);
    return NULL;
}

struct pclient {
    const secsock_transport *t; /* shared by all the client threads */
    const char *port;
    int id;
    int rc, ok_rounds;
    char err[256];
};

static void *pclient_main(void *arg)
{
    struct pclient *p = arg;
    secsock_conn *c = NULL;
    struct secsock_connect_opts o = {
        .host = "localhost",
        .port = p->port,
        .family = AF_UNSPEC,
        .timeout_ms = TESTUTIL_WAIT_MS,
    };
    p->rc = testutil_connect(p->t, &o, &c, p->err, sizeof p->err);
    if (p->rc == 0) {
        for (int r = 0; r < ROUNDS; r++) {
            char msg[64], got[64] = "";
            int len = snprintf(msg, sizeof msg, "client %d round %d", p->id, r);
            if (secsock_write_all(c, msg, (size_t)len) != 0)
                break;
            ssize_t n = secsock_read(c, got, sizeof got - 1);
            if (n != len || strcmp(got, msg) != 0) {
                snprintf(p->err, sizeof p->err, "round %d: read %zd '%s' (%s)", r, n, got,
                         n < 0 ? secsock_conn_error(c) : "");
                break;
            }
            p->ok_rounds++;
        }
    }
    secsock_close(c);
    return NULL;
}

START_TEST(dtls_parallel_clients)
{
    struct pserver *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    secsock_transport *st = dg_server_transport("dtls", "server", 0);
    ck_assert_int_eq(pipe(s->stop), 0);
    char err[256] = "", port[16];
    ck_assert_msg(testutil_listener_new(st, "127.0.0.1", "0", 64, &s->l, err, sizeof err) == 0,
                  "listener: %s", err);
    dg_port_of(secsock_listener_address(s->l), port, sizeof port);
    secsock_listener_set_cancel_fd(s->l, s->stop[0]);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, pserver_main, s), 0);

    secsock_transport *ct = testutil_transport("dtls", SECSOCK_CLIENT, testutil_client_cfg(0));
    struct pclient p[N_PARALLEL];
    pthread_t th[N_PARALLEL];
    for (int i = 0; i < N_PARALLEL; i++) {
        p[i] = (struct pclient){ .t = ct, .port = port, .id = i };
        ck_assert_int_eq(pthread_create(&th[i], NULL, pclient_main, &p[i]), 0);
    }
    for (int i = 0; i < N_PARALLEL; i++)
        pthread_join(th[i], NULL);
    /* Every client is done: its close_notify ends its handler. */
    pthread_join(s->thread, NULL);
    int ok = 0;
    for (int i = 0; i < N_PARALLEL; i++) {
        if (p[i].rc == 0 && p[i].ok_rounds == ROUNDS)
            ok++;
        else
            fprintf(stderr, "client %d: connect %d, %d rounds: %s\n", i, p[i].rc, p[i].ok_rounds,
                    p[i].err);
    }
    ck_assert_msg(ok == N_PARALLEL, "%d of %d clients got their echoes", ok, N_PARALLEL);
    ck_assert_msg(s->accept_errors == 0, "accept: %s", s->error);
    ck_assert_int_eq(s->accepted, N_PARALLEL);
    for (int i = 0; i < s->accepted; i++) {
        ck_assert_int_eq(s->h[i].handshake_rc, 0);
        ck_assert_int_eq(s->h[i].echoed, ROUNDS);
        ck_assert_msg(s->h[i].end_rc == 0, "handler %d ended with %lld", i, s->h[i].end_rc);
    }
    secsock_transport_free(ct);
    secsock_listener_free(s->l);
    secsock_transport_free(st);
    close(s->stop[0]);
    close(s->stop[1]);
    free(s);
}
END_TEST

static Suite *datagram_dtls_suite(void)
{
    Suite *s = suite_create("datagram_dtls");
    TCase *dtls = tcase_create("dtls");

    tcase_set_timeout(dtls, 60);
    tcase_add_test(dtls, dtls_nobody_listens);
    tcase_add_test(dtls, dtls_mtu_9000);
    tcase_add_test(dtls, dtls_verify_unknown_ca);
    tcase_add_test(dtls, dtls_verify_wrong_host);
    tcase_add_test(dtls, dtls_close_notify);
    tcase_add_test(dtls, dtls_shutdown_write_then_read);
    tcase_add_test(dtls, dtls_listener_survives_garbage);
    tcase_add_test(dtls, dtls_parallel_clients);
    suite_add_tcase(s, dtls);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(datagram_dtls_suite());
}
