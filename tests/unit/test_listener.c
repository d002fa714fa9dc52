/*
 * The listener API for every backend (tcp, tls, udp, dtls): an accept
 * cancelled or timed out, a bind error; and a blocked read cancelled on
 * the server's side. Self-talk over loopback (datagram_talk.c).
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

/* ---- cancellation (server side) --------------------------------------- */

struct blocked {
    secsock_transport *t;
    secsock_listener *l;
    char port[16];
    int cancel[2];
    pthread_t thread;
    atomic_int reading; /* set just before the blocking read */
    int accept_rc, handshake_rc;
    long long read_rc;
    long long returned_ms; /* when the read returned */
    char error[256];
};

static void *blocked_main(void *arg)
{
    struct blocked *b = arg;
    secsock_conn *c = NULL;
    char err[256] = "";
    b->accept_rc = testutil_accept(b->l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
    if (b->accept_rc != 0) {
        snprintf(b->error, sizeof b->error, "%s", err);
        return NULL;
    }
    secsock_conn_set_timeout(c, 10 * TESTUTIL_WAIT_MS); /* longer than the test's bound */
    b->handshake_rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
    if (b->handshake_rc != 0) {
        snprintf(b->error, sizeof b->error, "%s", secsock_conn_error(c));
        secsock_close(c);
        return NULL;
    }
    secsock_conn_set_cancel_fd(c, b->cancel[0]);
    char buf[64];
    atomic_store(&b->reading, 1);
    b->read_rc = secsock_read(c, buf, sizeof buf);
    b->returned_ms = testutil_now_ms();
    snprintf(b->error, sizeof b->error, "%s", secsock_conn_error(c));
    secsock_close(c);
    return NULL;
}

static const char *const cancel_backends[] = { "tcp", "dtls" };

START_TEST(cancel_blocked_read)
{
    const char *backend = cancel_backends[_i];
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.read_rc = 1;
    b.t = dg_server_transport(backend, "server", 0);
    ck_assert_int_eq(pipe(b.cancel), 0);
    char err[256] = "";
    ck_assert_msg(testutil_listener_new(b.t, "127.0.0.1", "0", 4, &b.l, err, sizeof err) == 0,
                  "listener: %s", err);
    dg_port_of(secsock_listener_address(b.l), b.port, sizeof b.port);
    ck_assert_int_eq(pthread_create(&b.thread, NULL, blocked_main, &b), 0);

    struct dclient cl;
    int rc = dclient_connect_to(&cl, backend, dg_is_secure(backend) ? testutil_client_cfg(0) : NULL,
                                "localhost", b.port, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "connect: %d (%s)", rc, cl.err);
    for (int i = 0; i < 500 && !atomic_load(&b.reading); i++)
        usleep(10 * 1000);
    ck_assert_msg(atomic_load(&b.reading), "the server never started reading");
    usleep(100 * 1000); /* now blocked in its read */
    long long t0 = testutil_now_ms();
    ck_assert_int_eq(write(b.cancel[1], "x", 1), 1);
    pthread_join(b.thread, NULL);
    ck_assert_msg(b.read_rc == SECSOCK_ERR_CANCELLED, "server read: %lld (%s)", b.read_rc, b.error);
    ck_assert_msg(b.returned_ms - t0 < 1000, "the read returned %lld ms after the cancel",
                  b.returned_ms - t0);
    ck_assert_msg(strstr(b.error, "cancel") != NULL, "error '%s'", b.error);
    ck_assert_str_eq(secsock_status_name(SECSOCK_ERR_CANCELLED), "cancelled");

    /* A cancelled connection still closes politely: FIN or close_notify. */
    secsock_conn_set_timeout(cl.c, TESTUTIL_WAIT_MS);
    char buf[16];
    ssize_t n = secsock_read(cl.c, buf, sizeof buf);
    ck_assert_msg(n == 0, "client read after the server's close: %zd (%s)", n,
                  secsock_conn_error(cl.c));
    dclient_close(&cl);
    secsock_listener_free(b.l);
    secsock_transport_free(b.t);
    close(b.cancel[0]);
    close(b.cancel[1]);
}
END_TEST

/* ---- the listener, every backend -------------------------------------- */

static const char *const all_backends[] = { "tcp", "tls", "udp", "dtls" };
#define N_ALL_BACKENDS 4

struct delayed_write {
    int fd;
    int delay_ms;
};

static void *write_later(void *arg)
{
    struct delayed_write *d = arg;
    usleep((useconds_t)d->delay_ms * 1000);
    if (write(d->fd, "x", 1) != 1)
        perror("write");
    return NULL;
}

START_TEST(listener_accept_cancelled)
{
    const char *backend = all_backends[_i];
    secsock_transport *t = dg_server_transport(backend, "server", 0);
    secsock_listener *l = NULL;
    char err[256] = "";
    ck_assert_msg(testutil_listener_new(t, "127.0.0.1", "0", 4, &l, err, sizeof err) == 0,
                  "listener: %s", err);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    secsock_listener_set_cancel_fd(l, p[0]);

    /* Cancelled while waiting. */
    struct delayed_write d = { p[1], 100 };
    pthread_t th;
    secsock_conn *c = (secsock_conn *)&d; /* must be reset */
    long long t0 = testutil_now_ms();     /* the write comes at least 100 ms after this */
    ck_assert_int_eq(pthread_create(&th, NULL, write_later, &d), 0);
    int rc = testutil_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
    long long waited = testutil_now_ms() - t0;
    pthread_join(th, NULL);
    ck_assert_msg(rc == SECSOCK_ERR_CANCELLED, "%s accept: %d (%s)", backend, rc, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(waited >= 90 && waited < 2000, "waited %lld ms", waited);

    /* Already cancelled: at once. */
    t0 = testutil_now_ms();
    rc = testutil_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
    ck_assert_msg(rc == SECSOCK_ERR_CANCELLED, "%s accept again: %d (%s)", backend, rc, err);
    ck_assert_msg(testutil_now_ms() - t0 < 1000, "waited %lld ms", testutil_now_ms() - t0);

    /* Without the cancel descriptor: a plain timeout. */
    secsock_listener_set_cancel_fd(l, -1);
    rc = testutil_accept(l, 100, &c, err, sizeof err);
    ck_assert_msg(rc == SECSOCK_ERR_TIMEOUT, "%s accept without cancel: %d (%s)", backend, rc, err);
    secsock_listener_free(l);
    secsock_transport_free(t);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(listener_accept_times_out)
{
    const char *backend = all_backends[_i];
    secsock_transport *t = dg_server_transport(backend, "server", 0);
    secsock_listener *l = NULL;
    char err[256] = "";
    ck_assert_msg(testutil_listener_new(t, "127.0.0.1", "0", 4, &l, err, sizeof err) == 0,
                  "listener: %s", err);
    char port[16];
    dg_port_of(secsock_listener_address(l), port, sizeof port);
    secsock_conn *c = NULL;
    long long t0 = testutil_now_ms();
    int rc = testutil_accept(l, 200, &c, err, sizeof err);
    long long waited = testutil_now_ms() - t0;
    ck_assert_msg(rc == SECSOCK_ERR_TIMEOUT, "%s accept: %d (%s)", backend, rc, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(waited >= 150 && waited < 3000, "waited %lld ms for a 200 ms timeout", waited);
    secsock_listener_free(l);
    secsock_transport_free(t);
}
END_TEST

START_TEST(listener_bind_error)
{
    const char *backend = all_backends[_i];
    secsock_transport *t = dg_server_transport(backend, "server", 0);
    secsock_listener *l = (secsock_listener *)t; /* must be reset */
    char err[256] = "";
    int rc = testutil_listener_new(t, "not-an-address.invalid", "0", 4, &l, err, sizeof err);
    ck_assert_int_lt(rc, 0);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err, "not-an-address.invalid") != NULL, "error '%s'", err);
    secsock_transport_free(t);
}
END_TEST

static Suite *listener_suite(void)
{
    Suite *s = suite_create("listener");
    TCase *listener = tcase_create("listener");

    tcase_set_timeout(listener, 30);
    tcase_add_loop_test(listener, cancel_blocked_read, 0, 2);
    tcase_add_loop_test(listener, listener_accept_cancelled, 0, N_ALL_BACKENDS);
    tcase_add_loop_test(listener, listener_accept_times_out, 0, N_ALL_BACKENDS);
    tcase_add_loop_test(listener, listener_bind_error, 0, N_ALL_BACKENDS);
    suite_add_tcase(s, listener);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(listener_suite());
}
