/*
 * The transport API talking to itself in one process (self_talk.c), one
 * body run against every backend and both server APIs: round trips,
 * ends, timeouts, refusals, session facts, secsock_peek_nowait. What only
 * TLS does (verification, pins, versions, ALPN, mutual TLS...) is in
 * test_transport_tls.c.
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

/* ---- every backend: one body, run for each variant --------------------- */

struct variant {
    const char *backend;
    const char *host; /* what the client connects to and verifies */
    int listener;     /* the server uses secsock_listener_new + secsock_accept */
};

static const struct variant variants[] = {
    { "tcp", "127.0.0.1", 0 },
    { "tcp", "localhost", 0 },
    { "tls", "localhost", 0 },
    { "tls", "127.0.0.1", 0 }, /* verified against the IP SAN; no SNI */
    /* The same bodies with the server on the listener API. */
    { "tcp", "127.0.0.1", 1 },
    { "tls", "localhost", 1 },
};
#define N_VARIANTS ((int)(sizeof variants / sizeof variants[0]))
#define N_FD_VARIANTS 4 /* the first ones: for bodies that start no server */

static int is_tls(const struct variant *v)
{
    return strcmp(v->backend, "tls") == 0;
}

static void start_variant_server(struct server *s, const struct variant *v, enum srv_mode mode,
                                 const char *payload)
{
    talk_server_start_with(s,
                           testutil_transport(v->backend, SECSOCK_SERVER,
                                              is_tls(v) ? talk_server_cfg("server") : NULL),
                           mode, payload, v->listener);
}

static void connect_variant(struct client *cl, const struct variant *v, const struct server *s)
{
    int rc =
        talk_client_connect(cl, v->backend, is_tls(v) ? talk_client_cfg() : NULL, v->host, s->port);
    ck_assert_msg(rc == 0, "%s connect to %s:%s: %d %s", v->backend, v->host, s->port, rc, cl->err);
    ck_assert_ptr_nonnull(cl->c);
}

START_TEST(roundtrip_small)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_ECHO, NULL);
    connect_variant(&cl, v, &s);

    char want_peer[32];
    snprintf(want_peer, sizeof want_peer, "127.0.0.1:%s", s.port);
    ck_assert_str_eq(secsock_conn_peer(cl.c), want_peer);
    ck_assert_int_ge(secsock_conn_fd(cl.c), 0);
    /* What the server will see as its peer: our local address. */
    struct sockaddr_in local;
    socklen_t locallen = sizeof local;
    ck_assert_int_eq(getsockname(secsock_conn_fd(cl.c), (struct sockaddr *)&local, &locallen), 0);
    char want_local[32];
    snprintf(want_local, sizeof want_local, "127.0.0.1:%u", (unsigned)ntohs(local.sin_port));
    /* Streams: no message limit, never a truncated datagram. */
    ck_assert_uint_eq(secsock_max_message(cl.c), 0);

    for (int i = 0; i < 3; i++) {
        char msg[32], got[32] = "";
        int len = snprintf(msg, sizeof msg, "hello %d", i);
        ck_assert_int_eq(secsock_write_all(cl.c, msg, (size_t)len), 0);
        talk_read_exact(cl.c, got, (size_t)len);
        ck_assert_str_eq(got, msg);
    }
    ck_assert_int_eq(secsock_datagram_truncated(cl.c), 0);
    talk_client_close(&cl);
    talk_server_join(&s);
    if (v->listener)
        ck_assert_msg(s.accept_rc == 0, "secsock_accept: %d (%s)", s.accept_rc, s.error);
    ck_assert_int_eq(s.accepted, 1);
    ck_assert_str_eq(s.peer, want_local);
    ck_assert_int_eq(s.handshake_rc, 0);
    ck_assert_int_eq(s.end_rc, 0); /* the server saw a clean end */
}
END_TEST

START_TEST(roundtrip_1mib)
{
    const struct variant *v = &variants[_i];
    const size_t total = 1024 * 1024, chunk = 64 * 1024;
    unsigned char *out = malloc(total), *in = malloc(total);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(in);
    testutil_fill_pattern(out, total, 1);
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_ECHO, NULL);
    connect_variant(&cl, v, &s);
    /* In step, a chunk at a time: one thread may use a connection at once. */
    for (size_t off = 0; off < total; off += chunk) {
        ck_assert_int_eq(secsock_write_all(cl.c, out + off, chunk), 0);
        talk_read_exact(cl.c, in + off, chunk);
    }
    ck_assert_int_eq(memcmp(in, out, total), 0);
    talk_client_close(&cl);
    talk_server_join(&s);
    free(out);
    free(in);
}
END_TEST

/* Half-close: our end goes out (FIN or close_notify); the reply still comes
 * in, and then a clean end (the server closes with close_notify). */
START_TEST(shutdown_write_then_read_rest)
{
    const struct variant *v = &variants[_i];
    const size_t total = 1024 * 1024;
    unsigned char *out = malloc(total), *in = malloc(total);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(in);
    testutil_fill_pattern(out, total, 2);
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_COLLECT, NULL);
    connect_variant(&cl, v, &s);
    ck_assert_int_eq(secsock_write_all(cl.c, out, total), 0);
    ck_assert_msg(secsock_shutdown_write(cl.c) == 0, "shutdown_write: %s",
                  secsock_conn_error(cl.c));
    ck_assert_int_eq(secsock_shutdown_write(cl.c), 0); /* a second time is harmless */
    talk_read_exact(cl.c, in, total);
    ck_assert_int_eq(memcmp(in, out, total), 0);
    char extra;
    ssize_t n = secsock_read(cl.c, &extra, 1);
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    talk_client_close(&cl);
    talk_server_join(&s);
    ck_assert_int_eq(s.end_rc, 0);
    free(out);
    free(in);
}
END_TEST

START_TEST(clean_end_reads_zero)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_SEND_CLOSE, "goodbye");
    connect_variant(&cl, v, &s);
    char got[16] = "";
    talk_read_exact(cl.c, got, 7);
    ck_assert_str_eq(got, "goodbye");
    ssize_t n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    talk_client_close(&cl);
    talk_server_join(&s);
}
END_TEST

START_TEST(read_times_out)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_SILENT, NULL);
    connect_variant(&cl, v, &s);
    secsock_conn_set_timeout(cl.c, 200);
    char buf[16];
    long long t0 = testutil_now_ms();
    ssize_t n = secsock_read(cl.c, buf, sizeof buf);
    long long waited = testutil_now_ms() - t0;
    ck_assert_msg(n == SECSOCK_ERR_TIMEOUT, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_msg(waited >= 150 && waited < 3000, "waited %lld ms for a 200 ms timeout", waited);
    ck_assert_str_ne(secsock_conn_error(cl.c), "");
    ck_assert_str_eq(secsock_status_name(SECSOCK_ERR_TIMEOUT), "timeout");
    talk_client_close(&cl);
    talk_server_join(&s);
}
END_TEST

/* A peer that closes without close_notify: the bytes first, then
 * SECSOCK_ERR_TRUNCATED for TLS; for plain TCP a FIN is the clean end. */
START_TEST(close_without_close_notify)
{
    const struct variant *v = &variants[_i];
    const char *payload = "partial reply";
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_TRUNCATE, payload);
    connect_variant(&cl, v, &s);
    char got[32] = "";
    talk_read_exact(cl.c, got, strlen(payload));
    ck_assert_str_eq(got, payload);
    ssize_t n = secsock_read(cl.c, got, sizeof got);
    if (is_tls(v)) {
        ck_assert_msg(n == SECSOCK_ERR_TRUNCATED, "read: %zd (%s)", n, secsock_conn_error(cl.c));
        ck_assert_ptr_nonnull(strstr(secsock_conn_error(cl.c), "close_notify"));
    } else {
        ck_assert_msg(n == 0, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    }
    talk_client_close(&cl);
    talk_server_join(&s);
}
END_TEST

/* Writing to a peer that has gone is an error, and never a SIGPIPE that
 * kills the program: the library must not rely on its callers ignoring it. */
START_TEST(write_to_closed_peer_is_an_error)
{
    const struct variant *v = &variants[_i];
    signal(SIGPIPE, SIG_DFL);
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_CLOSE, NULL);
    connect_variant(&cl, v, &s);
    talk_server_join(&s); /* the server has closed its socket */
    char buf[1024];
    memset(buf, 'x', sizeof buf);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        rc = secsock_write_all(cl.c, buf, sizeof buf);
        if (rc == 0)
            usleep(10 * 1000); /* let the peer's reset arrive */
    }
    ck_assert_msg(rc < 0 && rc != SECSOCK_ERR_TIMEOUT, "write to a closed peer: %d (%s)", rc,
                  secsock_conn_error(cl.c));
    talk_client_close(&cl);
}
END_TEST

START_TEST(connection_refused)
{
    const struct variant *v = &variants[_i];
    /* A bound port that is not listening refuses, and stays ours meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t sl = sizeof sin;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(sin.sin_port));

    struct client cl;
    int rc =
        talk_client_connect(&cl, v->backend, is_tls(v) ? talk_client_cfg() : NULL, v->host, port);
    ck_assert_msg(rc == SECSOCK_ERR_CONNECT, "connect: %d (%s)", rc, cl.err);
    ck_assert_ptr_null(cl.c);
    ck_assert_ptr_nonnull(strstr(cl.err, port));
    talk_client_close(&cl);
    close(fd);
}
END_TEST

START_TEST(unresolvable_name)
{
    const struct variant *v = &variants[_i];
    struct client cl;
    int rc = talk_client_connect(&cl, v->backend, is_tls(v) ? talk_client_cfg() : NULL,
                                 "no-such-host.invalid", "443");
    ck_assert_msg(rc == SECSOCK_ERR_RESOLVE, "connect: %d (%s)", rc, cl.err);
    ck_assert_ptr_null(cl.c);
    ck_assert_ptr_nonnull(strstr(cl.err, "no-such-host.invalid"));
    talk_client_close(&cl);
}
END_TEST

/* The server side's handshake is bounded: a client that says nothing. */
START_TEST(server_handshake_times_out)
{
    const struct variant *v = &variants[_i];
    secsock_transport *t = testutil_transport(v->backend, SECSOCK_SERVER,
                                              is_tls(v) ? talk_server_cfg("server") : NULL);
    int lfd = -1;
    secsock_listener *l = NULL;
    char bound[64], err[256] = "";
    if (v->listener) {
        ck_assert_msg(testutil_listener_new(t, "127.0.0.1", "0", 4, &l, err, sizeof err) == 0,
                      "listener: %s", err);
        snprintf(bound, sizeof bound, "%s", secsock_listener_address(l));
    } else {
        ck_assert_msg(
            secsock_listen(t, "127.0.0.1", "0", 4, &lfd, bound, sizeof bound, err, sizeof err) == 0,
            "listen: %s", err);
    }
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons((unsigned short)atoi(strrchr(bound, ':') + 1)) };
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sin, sizeof sin), 0);
    secsock_conn *c = NULL;
    if (v->listener) {
        int rc = testutil_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
        ck_assert_msg(rc == 0, "secsock_accept: %d (%s)", rc, err);
    } else {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        c = secsock_conn_from_fd(t, fd, NULL, 0);
    }
    ck_assert_ptr_nonnull(c);
    long long t0 = testutil_now_ms();
    int rc = secsock_handshake(c, 200);
    long long waited = testutil_now_ms() - t0;
    if (is_tls(v)) {
        ck_assert_msg(rc == SECSOCK_ERR_TIMEOUT, "handshake: %d (%s)", rc, secsock_conn_error(c));
        ck_assert_msg(waited >= 150 && waited < 3000, "waited %lld ms", waited);
    } else {
        ck_assert_int_eq(rc, 0); /* nothing to wait for */
    }
    secsock_close(c);
    close(cfd);
    if (lfd >= 0)
        close(lfd);
    secsock_listener_free(l);
    secsock_transport_free(t);
}
END_TEST

START_TEST(session_info_per_backend)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_SEND_CLOSE, "x");
    connect_variant(&cl, v, &s);
    struct testutil_session info;
    testutil_session(cl.c, &info);
    ck_assert_int_eq(secsock_transport_is_secure(cl.t), is_tls(v));
    ck_assert_str_eq(secsock_transport_name(cl.t), v->backend);
    ck_assert_int_eq(info.secure, is_tls(v));
    if (!is_tls(v)) {
        ck_assert_str_eq(info.version, "");
        ck_assert_str_eq(info.cipher, "");
        ck_assert_int_eq(info.has_peer_cert, 0);
        ck_assert_int_eq(info.verified, 0);
    } else {
        ck_assert_str_eq(info.version, "TLSv1.3");
        ck_assert_str_ne(info.cipher, "");
        ck_assert_int_eq(info.has_peer_cert, 1);
        ck_assert_msg(strstr(info.peer_subject, "localhost") != NULL, "subject '%s'",
                      info.peer_subject);
        ck_assert_msg(strstr(info.peer_issuer, "secsock test CA") != NULL, "issuer '%s'",
                      info.peer_issuer);
        ck_assert_msg(strstr(info.peer_san, "DNS:localhost") != NULL &&
                          strstr(info.peer_san, "IP:127.0.0.1") != NULL,
                      "SAN '%s'", info.peer_san);
        char plain[80], colons[104];
        talk_cert_pin("server.crt", plain, sizeof plain, colons, sizeof colons);
        ck_assert_str_eq(info.peer_fingerprint, colons);
        ck_assert_int_eq(strncmp(info.peer_fingerprint, "sha256:", 7), 0);
        ck_assert_int_eq(info.verified, 1);
        ck_assert_str_eq(info.verify_result, "ok (CA chain)");
        ck_assert_str_ne(info.peer_not_before, "");
        ck_assert_str_ne(info.peer_not_after, "");
        /* SNI: the name for a name, nothing for an address (RFC 6066). */
        int ip = strcmp(v->host, "127.0.0.1") == 0;
        ck_assert_str_eq(info.sni, ip ? "" : v->host);
    }
    char got[2] = "";
    talk_read_exact(cl.c, got, 1);
    talk_client_close(&cl);
    talk_server_join(&s);
    if (is_tls(v)) {
        int ip = strcmp(v->host, "127.0.0.1") == 0;
        ck_assert_str_eq(s.info.sni, ip ? "" : v->host); /* what the server received */
        ck_assert_str_eq(s.info.version, "TLSv1.3");
        ck_assert_int_eq(s.info.has_peer_cert, 0);
    }
}
END_TEST

/* ---- secsock_peek_nowait ----------------------------------------------- */

/* The server peeks the client's bytes: they stay, a second peek and then
 * a read get the same ones; at the client's end (FIN / close_notify)
 * the peek says 0. */
START_TEST(peek_leaves_bytes_to_read)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_PEEK, NULL);
    connect_variant(&cl, v, &s);
    ck_assert_int_eq(secsock_write_all(cl.c, "peekaboo", 8), 0);
    ck_assert_msg(secsock_shutdown_write(cl.c) == 0, "shutdown_write: %s",
                  secsock_conn_error(cl.c));
    char got[8];
    ssize_t n = secsock_read(cl.c, got, sizeof got); /* the server closes after its reads */
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    talk_client_close(&cl);
    talk_server_join(&s);
    ck_assert_int_eq(s.handshake_rc, 0);
    ck_assert_msg(s.peek1 == 8, "first peek: %lld", s.peek1);
    ck_assert_str_eq(s.peeked1, "peekaboo");
    ck_assert_msg(s.peek2 == 8, "second peek: %lld", s.peek2);
    ck_assert_str_eq(s.peeked2, "peekaboo");
    ck_assert_msg(s.peek_read == 8, "read after the peeks: %lld", s.peek_read);
    ck_assert_str_eq(s.peek_got, "peekaboo");
    ck_assert_msg(s.peek_end == 0, "peek at the client's end: %lld", s.peek_end);
    ck_assert_msg(s.peek_end_read == 0, "read at the client's end: %lld", s.peek_end_read);
}
END_TEST

/* A client that ends its side without sending anything: the server's
 * peek says 0 (not WANT_READ, not an error), and so does the read. */
START_TEST(peek_zero_when_peer_closes_without_sending)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_PEEK, NULL);
    connect_variant(&cl, v, &s);
    ck_assert_msg(secsock_shutdown_write(cl.c) == 0, "shutdown_write: %s",
                  secsock_conn_error(cl.c));
    char got[8];
    ssize_t n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    talk_client_close(&cl);
    talk_server_join(&s);
    ck_assert_int_eq(s.handshake_rc, 0);
    ck_assert_msg(s.peek1 == 0, "peek of a client that only closed: %lld", s.peek1);
    ck_assert_msg(s.peek_end_read == 0, "read after it: %lld", s.peek_end_read);
    ck_assert_int_eq(s.end_rc, 0);
}
END_TEST

/* The client's side: a short peek, a whole peek, the read, all the same
 * bytes; then the server's close reads 0 with a peek and with a read. */
START_TEST(peek_then_read_on_client)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_SEND_CLOSE, "peekaboo");
    connect_variant(&cl, v, &s);
    char a[16] = "", b[16] = "", got[16] = "";
    ssize_t n = testutil_peek_wait(cl.c, a, 3, TESTUTIL_WAIT_MS);
    ck_assert_msg(n == 3, "short peek: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_str_eq(a, "pee");
    n = testutil_peek_wait(cl.c, b, sizeof b - 1, TESTUTIL_WAIT_MS);
    ck_assert_msg(n == 8, "peek: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_str_eq(b, "peekaboo");
    talk_read_exact(cl.c, got, 8);
    ck_assert_str_eq(got, "peekaboo");
    n = testutil_peek_wait(cl.c, b, sizeof b - 1, TESTUTIL_WAIT_MS);
    ck_assert_msg(n == 0, "peek at the server's end: %zd (%s)", n, secsock_conn_error(cl.c));
    n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 0, "read at the server's end: %zd (%s)", n, secsock_conn_error(cl.c));
    talk_client_close(&cl);
    talk_server_join(&s);
}
END_TEST

/* Nothing has come (the server is silent): WANT_READ, never 0 or bytes,
 * and the connection is still fine for a write and a clean end after. */
START_TEST(peek_want_read_when_nothing_came)
{
    const struct variant *v = &variants[_i];
    struct server s;
    struct client cl;
    start_variant_server(&s, v, SRV_SILENT, NULL);
    connect_variant(&cl, v, &s);
    char buf[16];
    for (int i = 0; i < 3; i++) {
        ssize_t n = secsock_peek_nowait(cl.c, buf, sizeof buf);
        ck_assert_msg(n == SECSOCK_WANT_READ, "peek %d with nothing sent: %zd (%s)", i, n,
                      secsock_conn_error(cl.c));
    }
    ck_assert_int_eq(secsock_write_all(cl.c, "x", 1), 0);
    ck_assert_int_eq(secsock_shutdown_write(cl.c), 0);
    ssize_t n = secsock_read(cl.c, buf, sizeof buf);
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    talk_client_close(&cl);
    talk_server_join(&s);
    ck_assert_int_eq(s.end_rc, 0);
}
END_TEST

static Suite *transport_suite(void)
{
    Suite *s = suite_create("transport");
    TCase *every = tcase_create("every_backend");

    tcase_set_timeout(every, 30);
    tcase_add_loop_test(every, roundtrip_small, 0, N_VARIANTS);
    tcase_add_loop_test(every, roundtrip_1mib, 0, N_VARIANTS);
    tcase_add_loop_test(every, shutdown_write_then_read_rest, 0, N_VARIANTS);
    tcase_add_loop_test(every, clean_end_reads_zero, 0, N_VARIANTS);
    tcase_add_loop_test(every, read_times_out, 0, N_VARIANTS);
    tcase_add_loop_test(every, close_without_close_notify, 0, N_VARIANTS);
    tcase_add_loop_test(every, write_to_closed_peer_is_an_error, 0, N_VARIANTS);
    tcase_add_loop_test(every, connection_refused, 0, N_FD_VARIANTS);
    tcase_add_loop_test(every, unresolvable_name, 0, N_FD_VARIANTS);
    tcase_add_loop_test(every, server_handshake_times_out, 0, N_VARIANTS);
    tcase_add_loop_test(every, session_info_per_backend, 0, N_VARIANTS);
    tcase_add_loop_test(every, peek_leaves_bytes_to_read, 0, N_VARIANTS);
    tcase_add_loop_test(every, peek_zero_when_peer_closes_without_sending, 0, N_VARIANTS);
    tcase_add_loop_test(every, peek_then_read_on_client, 0, N_VARIANTS);
    tcase_add_loop_test(every, peek_want_read_when_nothing_came, 0, N_VARIANTS);
    suite_add_tcase(s, every);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(transport_suite());
}
