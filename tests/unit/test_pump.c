/* tcp-client --send-file's duplex copy (src/app/pump.c) over a plain
 * connection on one end of a socketpair; a thread plays the peer on the
 * other end. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pump.h"
#include "testutil.h"

#define BIG (1024 * 1024) /* far more than the socket buffers hold */

/* The peer: echoes everything until our end, then ends its side. */
static void *echo_peer(void *arg)
{
    int fd = *(int *)arg;
    unsigned char buf[16384];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w <= 0)
                return NULL;
            off += w;
        }
    }
    shutdown(fd, SHUT_WR);
    return NULL;
}

/* Feeds len bytes of the pattern into a pipe, then closes it. */
struct feeder {
    int fd;
    const unsigned char *data;
    size_t len;
};

static void *feed(void *arg)
{
    struct feeder *fe = arg;
    for (size_t off = 0; off < fe->len;) {
        ssize_t w = write(fe->fd, fe->data + off, fe->len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fe->fd);
    return NULL;
}

struct collected {
    unsigned char *buf;
    size_t len, cap;
};

static int collect(void *arg, const unsigned char *data, size_t len)
{
    struct collected *co = arg;
    if (co->len + len > co->cap)
        return -1;
    memcpy(co->buf + co->len, data, len);
    co->len += len;
    return 0;
}

static int refuse(void *arg, const unsigned char *data, size_t len)
{
    (void)arg;
    (void)data;
    (void)len;
    errno = ENOSPC;
    return -1;
}

/* A plain connection on one end of a socketpair; *peer gets the other. */
static secsock_conn *conn_pair(secsock_transport *t, int *peer)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    *peer = sv[1];
    secsock_conn *c = secsock_conn_from_fd(t, sv[0], NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(secsock_handshake(c, TESTUTIL_WAIT_MS), 0);
    return c;
}

/* Input and echo flow at once: with 1 MiB each way, a pump that only sent
 * (or only read) would fill both socket buffers and stall. */
START_TEST(echo_of_a_big_input_comes_back_whole)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    int peer;
    secsock_conn *c = conn_pair(t, &peer);
    pthread_t echo_thread, feed_thread;
    ck_assert_int_eq(pthread_create(&echo_thread, NULL, echo_peer, &peer), 0);
    unsigned char *in = malloc(BIG);
    ck_assert_ptr_nonnull(in);
    testutil_fill_pattern(in, BIG, 3);
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    struct feeder fe = { .fd = p[1], .data = in, .len = BIG };
    ck_assert_int_eq(pthread_create(&feed_thread, NULL, feed, &fe), 0);
    struct collected co = { .buf = malloc(BIG), .cap = BIG };
    ck_assert_ptr_nonnull(co.buf);
    char err[256];
    int rc = pump_duplex(c, p[0], collect, &co, TESTUTIL_WAIT_MS, err, sizeof err);
    ck_assert_msg(rc == 0, "pump: %d %s %s", rc, err, secsock_conn_error(c));
    pthread_join(feed_thread, NULL);
    pthread_join(echo_thread, NULL);
    ck_assert_uint_eq(co.len, BIG);
    ck_assert_int_eq(memcmp(co.buf, in, BIG), 0);
    close(p[0]);
    close(peer);
    secsock_close(c);
    secsock_transport_free(t);
    free(co.buf);
    free(in);
}
END_TEST

/* The input ended and the peer neither answers nor ends: the timeout. */
START_TEST(silent_peer_after_the_input_times_out)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    int peer;
    secsock_conn *c = conn_pair(t, &peer);
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    close(p[1]); /* an empty input */
    struct collected co = { .buf = malloc(16), .cap = 16 };
    char err[256];
    long long t0 = testutil_now_ms();
    int rc = pump_duplex(c, p[0], collect, &co, 150, err, sizeof err);
    ck_assert_int_eq(rc, SECSOCK_ERR_TIMEOUT);
    ck_assert_int_ge(testutil_now_ms() - t0, 150);
    ck_assert_uint_eq(co.len, 0);
    /* Our end was said: the peer reads its end of the stream. */
    char b;
    ck_assert_int_eq(read(peer, &b, 1), 0);
    close(p[0]);
    close(peer);
    secsock_close(c);
    secsock_transport_free(t);
    free(co.buf);
}
END_TEST

/* The peer answers and ends while the input stays open (a person who has
 * not typed yet): the pump ends with the peer, like ncat. */
START_TEST(peer_end_ends_the_pump_while_input_is_open)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    int peer;
    secsock_conn *c = conn_pair(t, &peer);
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    ck_assert_int_eq(write(peer, "bye", 3), 3);
    shutdown(peer, SHUT_WR);
    struct collected co = { .buf = malloc(16), .cap = 16 };
    char err[256];
    int rc = pump_duplex(c, p[0], collect, &co, TESTUTIL_WAIT_MS, err, sizeof err);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(co.len, 3);
    ck_assert_int_eq(memcmp(co.buf, "bye", 3), 0);
    close(p[0]);
    close(p[1]);
    close(peer);
    secsock_close(c);
    secsock_transport_free(t);
    free(co.buf);
}
END_TEST

START_TEST(failing_sink_is_an_io_error)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    int peer;
    secsock_conn *c = conn_pair(t, &peer);
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    ck_assert_int_eq(write(peer, "data", 4), 4);
    char err[256];
    int rc = pump_duplex(c, p[0], refuse, NULL, TESTUTIL_WAIT_MS, err, sizeof err);
    ck_assert_int_eq(rc, SECSOCK_ERR_IO);
    ck_assert_msg(err[0] != '\0', "no reason given");
    close(p[0]);
    close(p[1]);
    close(peer);
    secsock_close(c);
    secsock_transport_free(t);
}
END_TEST

static Suite *pump_suite(void)
{
    Suite *s = suite_create("pump");
    TCase *tc = tcase_create("duplex");
    tcase_add_test(tc, echo_of_a_big_input_comes_back_whole);
    tcase_add_test(tc, silent_peer_after_the_input_times_out);
    tcase_add_test(tc, peer_end_ends_the_pump_while_input_is_open);
    tcase_add_test(tc, failing_sink_is_an_io_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pump_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
