/*
 * Datagram semantics of the transport API, self-talk over loopback
 * (datagram_talk.c): "udp" and "dtls", one body for both where the
 * behaviour is the same, and what only UDP does. DTLS alone is
 * test_datagram_dtls.c's; the listener and cancellation, test_listener.c's.
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

/* ---- udp and dtls: one body ------------------------------------------- */

START_TEST(dg_roundtrip)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);

    char want_peer[32], local[32];
    snprintf(want_peer, sizeof want_peer, "127.0.0.1:%s", s.port);
    ck_assert_str_eq(secsock_conn_peer(cl.c), want_peer);
    dg_local_address(secsock_conn_fd(cl.c), local, sizeof local);
    for (int i = 0; i < 3; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "hello datagram %d", i);
        dg_echo_once(cl.c, msg, (size_t)len);
    }
    dclient_close(&cl);
    dserver_stop(&s);
    /* UDP: a connection per datagram, each ending after it; DTLS: one
     * connection, ended by our close_notify. */
    dg_assert_clean_ends(&s, dg_is_dtls(v) ? 1 : 3);
    ck_assert_int_eq(s.nseen, 3);
    ck_assert_str_eq(s.peer, local);
    ck_assert_int_eq(s.handshake_rc, 0);
}
END_TEST

/* One read is one datagram, on both sides: no merging, no splitting. */
START_TEST(dg_one_read_one_datagram)
{
    const struct variant *v = &dvariants[_i];
    const size_t sizes[3] = { 1, 700, 100 };
    unsigned char msg[3][700];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);
    for (int i = 0; i < 3; i++) {
        testutil_fill_pattern(msg[i], sizes[i], (unsigned)i + 10);
        int rc = secsock_write_all(cl.c, msg[i], sizes[i]);
        ck_assert_msg(rc == 0, "write %d: %d (%s)", i, rc, secsock_conn_error(cl.c));
    }
    for (int i = 0; i < 3; i++) {
        unsigned char got[2048];
        ssize_t n = secsock_read(cl.c, got, sizeof got);
        ck_assert_msg(n == (ssize_t)sizes[i], "read %d: %zd, want %zu (%s)", i, n, sizes[i],
                      secsock_conn_error(cl.c));
        ck_assert_int_eq(secsock_datagram_truncated(cl.c), 0);
        ck_assert_int_eq(memcmp(got, msg[i], sizes[i]), 0);
    }
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.nseen, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(s.seen[i], sizes[i]);
        ck_assert_int_eq(s.seen_truncated[i], 0);
    }
    dg_assert_clean_ends(&s, dg_is_dtls(v) ? 1 : 3);
}
END_TEST

/* The largest message: what secsock_max_message says, on both sides, and a
 * message of exactly that size goes through whole. */
START_TEST(dg_max_message)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);
    size_t max = secsock_max_message(cl.c);
    if (dg_is_dtls(v))
        ck_assert_msg(max > 1000 && max < 1280, "DTLS max message %zu at the default MTU", max);
    else
        ck_assert_uint_eq(max, 65507); /* IPv4 */
    unsigned char *msg = malloc(max);
    ck_assert_ptr_nonnull(msg);
    testutil_fill_pattern(msg, max, 3);
    dg_echo_once(cl.c, msg, max);
    free(msg);
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, 1);
    ck_assert_uint_eq(s.max_message, max); /* the server's side of the same path */
    ck_assert_int_eq(s.nseen, 1);
    ck_assert_uint_eq(s.seen[0], max);
}
END_TEST

/* One byte more than fits: refused with a message naming the sizes, and
 * nothing is sent (the next datagram is the first the server sees). */
START_TEST(dg_too_big)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);
    size_t max = secsock_max_message(cl.c);
    ck_assert_uint_gt(max, 0);
    size_t sizes[2] = { max + 1, 100000 };
    unsigned char *big = calloc(1, 100000);
    ck_assert_ptr_nonnull(big);
    for (int i = 0; i < 2; i++) {
        int rc = secsock_write_all(cl.c, big, sizes[i]);
        ck_assert_msg(rc == SECSOCK_ERR_TOO_BIG, "write %zu bytes (max %zu): %d (%s)", sizes[i],
                      max, rc, secsock_conn_error(cl.c));
        char num[32];
        snprintf(num, sizeof num, "%zu", sizes[i]);
        ck_assert_msg(strstr(secsock_conn_error(cl.c), num) != NULL, "error '%s' lacks %s",
                      secsock_conn_error(cl.c), num);
        snprintf(num, sizeof num, "%zu", max);
        ck_assert_msg(strstr(secsock_conn_error(cl.c), num) != NULL, "error '%s' lacks %s",
                      secsock_conn_error(cl.c), num);
    }
    free(big);
    ck_assert_str_eq(secsock_status_name(SECSOCK_ERR_TOO_BIG), "message too big");
    dg_echo_once(cl.c, "after", 5); /* the connection is still usable */
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.nseen, 1);
    ck_assert_uint_eq(s.seen[0], 5);
    dg_assert_clean_ends(&s, 1);
}
END_TEST

/* A reply longer than the read buffer: the buffer is filled, the tail is
 * dropped and reported; the next datagram reads normally. */
START_TEST(dg_truncated_reply)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);
    unsigned char msg[100], got[64];
    testutil_fill_pattern(msg, sizeof msg, 4);
    ck_assert_int_eq(secsock_write_all(cl.c, msg, sizeof msg), 0);
    ssize_t n = secsock_read(cl.c, got, 10);
    ck_assert_msg(n == 10, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_int_eq(memcmp(got, msg, 10), 0);
    ck_assert_int_eq(secsock_datagram_truncated(cl.c), 1);

    /* Exactly the buffer's size is not truncated. */
    ck_assert_int_eq(secsock_write_all(cl.c, msg, 10), 0);
    n = secsock_read(cl.c, got, 10);
    ck_assert_msg(n == 10, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_int_eq(secsock_datagram_truncated(cl.c), 0);

    ck_assert_int_eq(secsock_write_all(cl.c, "next", 4), 0);
    n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 4, "read after the truncated one: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_int_eq(memcmp(got, "next", 4), 0);
    ck_assert_int_eq(secsock_datagram_truncated(cl.c), 0);
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, dg_is_dtls(v) ? 1 : 3);
}
END_TEST

/* The same on the server's side (UDP: the listener's peer connection). */
START_TEST(dg_truncated_on_server)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dserver_start_cap(&s, dg_server_transport(v->backend, "server", 0), 8);
    dg_connect_echo(&cl, v, &s);
    unsigned char msg[20], got[64];
    testutil_fill_pattern(msg, sizeof msg, 5);
    ck_assert_int_eq(secsock_write_all(cl.c, msg, sizeof msg), 0);
    ssize_t n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 8, "reply: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_int_eq(memcmp(got, msg, 8), 0);
    dg_echo_once(cl.c, "short", 5);
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.nseen, 2);
    ck_assert_uint_eq(s.seen[0], 8);
    ck_assert_int_eq(s.seen_truncated[0], 1);
    ck_assert_uint_eq(s.seen[1], 5);
    ck_assert_int_eq(s.seen_truncated[1], 0);
    dg_assert_clean_ends(&s, dg_is_dtls(v) ? 1 : 2);
}
END_TEST

START_TEST(dg_session_info)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);
    struct testutil_session info;
    testutil_session(cl.c, &info);
    ck_assert_str_eq(secsock_transport_name(cl.t), v->backend);
    ck_assert_int_eq(secsock_transport_is_secure(cl.t), dg_is_dtls(v));
    ck_assert_int_eq(info.secure, dg_is_dtls(v));
    if (dg_is_dtls(v)) {
        ck_assert_str_eq(info.version, "DTLSv1.2");
        ck_assert_str_ne(info.cipher, "");
        ck_assert_int_eq(info.has_peer_cert, 1);
        ck_assert_int_eq(info.verified, 1);
        ck_assert_str_eq(info.verify_result, "ok (CA chain)");
        ck_assert_msg(strstr(info.peer_issuer, "secsock test CA") != NULL, "issuer '%s'",
                      info.peer_issuer);
        ck_assert_int_eq(strncmp(info.peer_fingerprint, "sha256:", 7), 0);
        ck_assert_str_eq(info.sni, "localhost");
    } else {
        ck_assert_str_eq(info.version, "");
        ck_assert_str_eq(info.cipher, "");
        ck_assert_int_eq(info.has_peer_cert, 0);
        ck_assert_int_eq(info.verified, 0);
    }
    dg_echo_once(cl.c, "x", 1);
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, 1);
    ck_assert_int_eq(s.info.secure, dg_is_dtls(v));
    if (dg_is_dtls(v)) {
        ck_assert_str_eq(s.info.version, "DTLSv1.2");
        ck_assert_str_eq(s.info.cipher, info.cipher);
        ck_assert_str_eq(s.info.sni, "localhost");
        ck_assert_int_eq(s.info.has_peer_cert, 0);
    }
}
END_TEST

/* A read that times out leaves the connection usable. */
START_TEST(dg_read_timeout_then_echo)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);
    secsock_conn_set_timeout(cl.c, 200);
    char buf[16];
    long long t0 = testutil_now_ms();
    ssize_t n = secsock_read(cl.c, buf, sizeof buf);
    long long waited = testutil_now_ms() - t0;
    ck_assert_msg(n == SECSOCK_ERR_TIMEOUT, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_msg(waited >= 150 && waited < 3000, "waited %lld ms for a 200 ms timeout", waited);
    secsock_conn_set_timeout(cl.c, TESTUTIL_WAIT_MS);
    dg_echo_once(cl.c, "still here", 10);
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, 1);
}
END_TEST

/* Several peers on one listener, interleaved: each gets its own answer. */
START_TEST(dg_two_peers)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient a, b;
    dg_start_echo(&s, v);
    dg_connect_echo(&a, v, &s);
    if (dg_is_dtls(v)) {
        /* The server serves one DTLS connection at a time: end a's first. */
        dg_echo_once(a.c, "from a", 6);
        dclient_close(&a);
        dg_connect_echo(&b, v, &s);
        dg_echo_once(b.c, "from b", 6);
        dclient_close(&b);
    } else {
        dg_connect_echo(&b, v, &s);
        ck_assert_int_eq(secsock_write_all(a.c, "from a", 6), 0);
        ck_assert_int_eq(secsock_write_all(b.c, "from b", 6), 0);
        char got[16] = "";
        ck_assert_int_eq(secsock_read(b.c, got, sizeof got - 1), 6);
        ck_assert_str_eq(got, "from b");
        memset(got, 0, sizeof got);
        ck_assert_int_eq(secsock_read(a.c, got, sizeof got - 1), 6);
        ck_assert_str_eq(got, "from a");
        dclient_close(&a);
        dclient_close(&b);
    }
    dserver_stop(&s);
    dg_assert_clean_ends(&s, 2);
}
END_TEST

/* The server peeks before each read (UDP: the listener's peer connection,
 * DTLS: its session): the peek gives the datagram, a second peek and then
 * the read give it again; once a UDP peer's one datagram is read, or the
 * DTLS client's close_notify came, the peek says 0 like the read. */
START_TEST(dg_peek_on_server)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dserver_start_opts(&s, dg_server_transport(v->backend, "server", 0), 70000, 1);
    dg_connect_echo(&cl, v, &s);
    const char *msgs[3] = { "first peek", "x", "the third datagram" };
    for (int i = 0; i < 3; i++)
        dg_echo_once(cl.c, msgs[i], strlen(msgs[i]));
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, dg_is_dtls(v) ? 1 : 3);
    /* UDP: per connection, the datagram then the end; DTLS: the three
     * datagrams, then the end. */
    long long want[6];
    int nwant = 0;
    for (int i = 0; i < 3; i++) {
        want[nwant++] = (long long)strlen(msgs[i]);
        if (!dg_is_dtls(v))
            want[nwant++] = 0;
    }
    if (dg_is_dtls(v))
        want[nwant++] = 0;
    ck_assert_int_eq(s.npeek, nwant);
    for (int i = 0; i < nwant; i++) {
        ck_assert_msg(s.peek_rc[i] == want[i], "peek %d: %lld, want %lld", i, s.peek_rc[i],
                      want[i]);
        ck_assert_msg(s.peek_same[i], "peek %d (%lld bytes): the peeks and the read differ", i,
                      s.peek_rc[i]);
    }
}
END_TEST

/* The client's connected socket (UDP) or session (DTLS): WANT_READ before
 * anything came; then the reply, peeked short and whole, stays for the
 * read; then WANT_READ again. DTLS: the server's close_notify peeks 0. */
START_TEST(dg_peek_on_client)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dg_start_echo(&s, v);
    dg_connect_echo(&cl, v, &s);
    char a[16] = "", b[16] = "", got[16] = "";
    ssize_t n = secsock_peek_nowait(cl.c, a, sizeof a - 1);
    ck_assert_msg(n == SECSOCK_WANT_READ, "peek before anything came: %zd (%s)", n,
                  secsock_conn_error(cl.c));
    ck_assert_int_eq(secsock_write_all(cl.c, "ping", 4), 0);
    n = testutil_peek_wait(cl.c, a, 2, TESTUTIL_WAIT_MS);
    ck_assert_msg(n == 2, "short peek: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_str_eq(a, "pi");
    n = testutil_peek_wait(cl.c, b, sizeof b - 1, TESTUTIL_WAIT_MS);
    ck_assert_msg(n == 4, "peek: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_str_eq(b, "ping");
    n = secsock_read(cl.c, got, sizeof got - 1);
    ck_assert_msg(n == 4, "read after the peeks: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_str_eq(got, "ping");
    ck_assert_int_eq(secsock_datagram_truncated(cl.c), 0);
    n = secsock_peek_nowait(cl.c, b, sizeof b - 1);
    ck_assert_msg(n == SECSOCK_WANT_READ, "peek after the read: %zd (%s)", n,
                  secsock_conn_error(cl.c));
    if (dg_is_dtls(v)) {
        ck_assert_int_eq(secsock_shutdown_write(cl.c), 0); /* the server closes in turn */
        n = testutil_peek_wait(cl.c, b, sizeof b - 1, TESTUTIL_WAIT_MS);
        ck_assert_msg(n == 0, "peek at the server's close_notify: %zd (%s)", n,
                      secsock_conn_error(cl.c));
        n = secsock_read(cl.c, got, sizeof got - 1);
        ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    }
    dclient_close(&cl);
    dserver_stop(&s);
    dg_assert_clean_ends(&s, 1);
}
END_TEST

/* ---- udp only ---------------------------------------------------------- */

/* Nobody at the port: the ICMP "port unreachable" ends the wait at once
 * with a connection error naming the peer, as ncat and Python report it. */
START_TEST(udp_nobody_listens)
{
    char port[16];
    dg_free_port(SOCK_DGRAM, port, sizeof port);
    struct dclient cl;
    int rc = dclient_connect_to(&cl, "udp", NULL, "127.0.0.1", port, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "udp connect: %d (%s)", rc, cl.err);
    secsock_conn_set_timeout(cl.c, 3000);
    rc = secsock_write_all(cl.c, "ping", 4);
    ck_assert_msg(rc == 0, "write: %d (%s)", rc, secsock_conn_error(cl.c));
    char buf[16];
    long long t0 = testutil_now_ms();
    ssize_t n = secsock_read(cl.c, buf, sizeof buf);
    long long waited = testutil_now_ms() - t0;
    ck_assert_msg(n == SECSOCK_ERR_CONNECT, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_msg(waited < 2000, "waited %lld ms for the refusal", waited);
    ck_assert_ptr_nonnull(strstr(secsock_conn_error(cl.c), "connection refused"));
    ck_assert_ptr_nonnull(strstr(secsock_conn_error(cl.c), port));
    dclient_close(&cl);
}
END_TEST

/* IPv6 datagrams carry 20 bytes more (no IP header inside the 65535). */
START_TEST(udp_max_message_ipv6)
{
    secsock_transport *t = testutil_transport("udp", SECSOCK_SERVER, NULL);
    secsock_listener *l = NULL;
    char err[256] = "";
    if (testutil_listener_new(t, "::1", "0", 4, &l, err, sizeof err) != 0) {
        secsock_transport_free(t); /* no IPv6 loopback here */
        return;
    }
    const char *addr = secsock_listener_address(l);
    ck_assert_msg(strncmp(addr, "[::1]:", 6) == 0, "bound '%s'", addr);
    struct dclient cl;
    int rc = dclient_connect_to(&cl, "udp", NULL, "::1", strrchr(addr, ':') + 1, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "udp connect: %d (%s)", rc, cl.err);
    ck_assert_uint_eq(secsock_max_message(cl.c), 65527);
    ck_assert_int_eq(secsock_write_all(cl.c, "v6", 2), 0);
    secsock_conn *c = NULL;
    rc = testutil_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
    ck_assert_msg(rc == 0, "accept: %d (%s)", rc, err);
    ck_assert_uint_eq(secsock_max_message(c), 65527);
    ck_assert_int_eq(strncmp(secsock_conn_peer(c), "[::1]:", 6), 0);
    secsock_close(c);
    dclient_close(&cl);
    secsock_listener_free(l);
    secsock_transport_free(t);
}
END_TEST

static Suite *datagram_suite(void)
{
    Suite *s = suite_create("datagram");
    TCase *both = tcase_create("udp_and_dtls");
    TCase *udp = tcase_create("udp");

    tcase_set_timeout(both, 30);
    tcase_add_loop_test(both, dg_roundtrip, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_one_read_one_datagram, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_max_message, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_too_big, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_truncated_reply, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_truncated_on_server, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_session_info, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_two_peers, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_read_timeout_then_echo, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_peek_on_server, 0, N_DVARIANTS);
    tcase_add_loop_test(both, dg_peek_on_client, 0, N_DVARIANTS);
    suite_add_tcase(s, both);

    tcase_set_timeout(udp, 30);
    tcase_add_test(udp, udp_nobody_listens);
    tcase_add_test(udp, udp_max_message_ipv6);
    suite_add_tcase(s, udp);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(datagram_suite());
}
