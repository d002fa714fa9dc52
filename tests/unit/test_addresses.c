/*
 * Every address of a name: the order they are tried in
 * (RFC 8305's interleaving, a pure function), what "localhost" resolves
 * to, and secsock_connect() racing them (Happy Eyeballs) against sockets
 * on 127.0.0.1 and ::1 that share a port: one listens, refuses (bound, not
 * listening) or never answers (a listener whose backlog is full drops the
 * SYN), so each case is made exactly, with no server thread.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "secsock/transport.h"
#include "testutil.h"

/* ---- the order: RFC 8305 section 4 -------------------------------------- */

static void check_order(const int *families, size_t n, const size_t *want)
{
    size_t got[16];
    ck_assert_uint_le(n, 16);
    net_interleave_order(families, n, got);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "position %zu: %zu, wanted %zu", i, got[i], want[i]);
}

START_TEST(interleave_alternates_starting_with_the_first_family)
{
    const int f1[] = { 6, 6, 6, 4, 4 };
    check_order(f1, 5, (const size_t[]){ 0, 3, 1, 4, 2 });
    const int f2[] = { 4, 4, 6, 6 };
    check_order(f2, 4, (const size_t[]){ 0, 2, 1, 3 });
    const int f3[] = { 4, 6, 6, 6, 6 };
    check_order(f3, 5, (const size_t[]){ 0, 1, 2, 3, 4 });
}
END_TEST

START_TEST(interleave_keeps_each_familys_order)
{
    /* Already alternating: unchanged. Mixed: each family's own order kept. */
    const int f1[] = { 6, 4, 6, 4 };
    check_order(f1, 4, (const size_t[]){ 0, 1, 2, 3 });
    const int f2[] = { 4, 4, 4, 6, 4, 6 };
    check_order(f2, 6, (const size_t[]){ 0, 3, 1, 5, 2, 4 });
}
END_TEST

START_TEST(interleave_one_family_or_one_address)
{
    const int f1[] = { 4, 4, 4 };
    check_order(f1, 3, (const size_t[]){ 0, 1, 2 });
    const int f2[] = { 6 };
    check_order(f2, 1, (const size_t[]){ 0 });
    net_interleave_order(f2, 0, NULL); /* nothing to order: nothing written */
}
END_TEST

/* ---- what a name resolves to --------------------------------------------- */

static size_t resolve(const char *host, const char *port, const char *connect_addr, int family,
                      char texts[][64], size_t max)
{
    struct net_addr *a = NULL;
    size_t n = 0;
    char err[256] = "";
    int rc = net_resolve(host, port, connect_addr, family, SOCK_STREAM, &a, &n, err, sizeof err);
    ck_assert_msg(rc == 0, "net_resolve(%s): %d (%s)", host, rc, err);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, max);
    for (size_t i = 0; i < n; i++)
        snprintf(texts[i], 64, "%s", a[i].text);
    free(a);
    return n;
}

static int has(char texts[][64], size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(texts[i], want) == 0)
            return 1;
    return 0;
}

START_TEST(localhost_is_both_loopbacks)
{
    /* Whatever /etc/hosts says (here: 127.0.0.1 alone), RFC 6761. */
    char t[8][64];
    const char *names[] = { "localhost", "LocalHost.", "app.localhost" };
    for (size_t k = 0; k < 3; k++) {
        size_t n = resolve(names[k], "8080", NULL, AF_UNSPEC, t, 8);
        ck_assert_msg(n == 2 && has(t, n, "127.0.0.1:8080") && has(t, n, "[::1]:8080"),
                      "%s: %zu addresses, first %s", names[k], n, t[0]);
    }
    ck_assert_uint_eq(resolve("localhost", "http", NULL, AF_INET, t, 8), 1);
    ck_assert_str_eq(t[0], "127.0.0.1:80"); /* a service name works too */
    ck_assert_uint_eq(resolve("localhost", "443", NULL, AF_INET6, t, 8), 1);
    ck_assert_str_eq(t[0], "[::1]:443");
}
END_TEST

START_TEST(connect_addr_is_the_one_address)
{
    char t[8][64];
    ck_assert_uint_eq(resolve("localhost", "443", "::1", AF_UNSPEC, t, 8), 1);
    ck_assert_str_eq(t[0], "[::1]:443");
    ck_assert_uint_eq(resolve("127.0.0.1", "9", NULL, AF_UNSPEC, t, 8), 1);
    ck_assert_str_eq(t[0], "127.0.0.1:9");
}
END_TEST

/* ---- secsock_connect over both loopbacks ---------------------------------- */

enum kind {
    LISTENS, /* a listener: the kernel completes the handshake */
    REFUSES, /* bound, not listening: a reset at once */
    SILENT,  /* a listener whose backlog is full: the SYN is dropped */
};

/* A socket on 127.0.0.1 and one on ::1 with the same port. */
struct pair {
    int fd4, fd6, filler4, filler6;
    char port[16];
};

static int has_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void need_ipv6_loopback(void)
{
    ck_assert_msg(has_ipv6_loopback(),
                  "this machine has no IPv6 loopback (::1 cannot be bound): the tests of "
                  "localhost's two addresses cannot run here");
}

/* Binds family's loopback at port (0: any); *port gets the port. -1 when taken. */
static int bind_loopback(int family, int *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_storage ss = { 0 };
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        *sin = (struct sockaddr_in){ .sin_family = AF_INET,
                                     .sin_port = htons((uint16_t)*port),
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        *sin6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
                                       .sin6_port = htons((uint16_t)*port),
                                       .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        len = sizeof *sin6;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        ck_assert_msg(errno == EADDRINUSE, "bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* Makes fd what kind says; for SILENT, *filler is the connection that
 * fills the backlog. */
static void make_kind(int fd, int family, enum kind kind, int *filler)
{
    *filler = -1;
    if (kind == REFUSES)
        return;
    ck_assert_int_eq(listen(fd, kind == SILENT ? 0 : 16), 0);
    if (kind != SILENT)
        return;
    /* A backlog of 0 holds one connection: fill it, and the next SYN is dropped. */
    *filler = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(*filler, 0);
    struct sockaddr_storage ss = { 0 };
    socklen_t len = sizeof ss;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    ck_assert_msg(connect(*filler, (struct sockaddr *)&ss, len) == 0, "filler: %s",
                  strerror(errno));
}

static void pair_open(struct pair *p, enum kind k4, enum kind k6)
{
    need_ipv6_loopback();
    for (int tries = 0; tries < 100; tries++) {
        int port = 0;
        p->fd4 = bind_loopback(AF_INET, &port);
        ck_assert_int_ge(p->fd4, 0);
        p->fd6 = bind_loopback(AF_INET6, &port);
        if (p->fd6 < 0) { /* that port is taken on ::1: another */
            close(p->fd4);
            continue;
        }
        make_kind(p->fd4, AF_INET, k4, &p->filler4);
        make_kind(p->fd6, AF_INET6, k6, &p->filler6);
        snprintf(p->port, sizeof p->port, "%d", port);
        return;
    }
    ck_abort_msg("no port free on both 127.0.0.1 and ::1 in 100 tries");
}

static void pair_close(struct pair *p)
{
    int fds[] = { p->fd4, p->fd6, p->filler4, p->filler6 };
    for (size_t i = 0; i < 4; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* What on_attempt heard, one line each: "trying ADDR", "failed ADDR: why",
 * "connected ADDR". */
struct heard {
    int n;
    char line[16][128];
};

static void on_attempt(void *arg, enum secsock_attempt_event ev, const char *address,
                       const char *reason)
{
    struct heard *h = arg;
    if (h->n >= 16)
        return;
    const char *what = ev == SECSOCK_ATTEMPT_TRYING   ? "trying"
                       : ev == SECSOCK_ATTEMPT_FAILED ? "failed"
                                                      : "connected";
    snprintf(h->line[h->n++], sizeof h->line[0], "%s %s%s%s", what, address, reason[0] ? ": " : "",
             reason);
}

/* Expects exactly the lines given (NULL-terminated), with PORT for the port. */
static void expect_heard(const struct heard *h, const char *port, const char *const *want)
{
    int n = 0;
    for (; want[n] != NULL; n++) {
        char line[128];
        const char *at = strstr(want[n], "PORT");
        ck_assert_ptr_nonnull(at);
        snprintf(line, sizeof line, "%.*s%s%s", (int)(at - want[n]), want[n], port, at + 4);
        ck_assert_msg(n < h->n, "heard %d lines, wanted '%s' next", h->n, line);
        ck_assert_msg(strcmp(h->line[n], line) == 0, "line %d: '%s', wanted '%s'", n, h->line[n],
                      line);
    }
    ck_assert_msg(h->n == n, "heard %d lines, wanted %d (next: '%s')", h->n, n,
                  h->n > n ? h->line[n] : "");
}

struct attempt {
    int rc;
    char err[512];
    char peer[64]; /* on success: the address connected to */
    long long ms;
    struct heard heard;
};

static void connect_to(struct attempt *a, const char *backend, const char *host, const char *port,
                       int timeout_ms, const char *const *exclude, size_t n_exclude)
{
    memset(a, 0, sizeof *a);
    secsock_transport *t = testutil_transport(backend, SECSOCK_CLIENT, NULL);
    struct secsock_connect_opts o = {
        .host = host,
        .port = port,
        .family = AF_UNSPEC,
        .timeout_ms = timeout_ms,
        .on_attempt = on_attempt,
        .on_attempt_arg = &a->heard,
        .exclude = exclude,
        .n_exclude = n_exclude,
    };
    secsock_conn *c = NULL;
    long long t0 = testutil_now_ms();
    a->rc = testutil_connect(t, &o, &c, a->err, sizeof a->err);
    a->ms = testutil_now_ms() - t0;
    if (a->rc == 0)
        snprintf(a->peer, sizeof a->peer, "%s", secsock_conn_peer(c));
    secsock_close(c);
    secsock_transport_free(t);
}

START_TEST(localhost_reaches_a_listener_on_ipv6_only)
{
    struct pair p;
    pair_open(&p, REFUSES, LISTENS);
    struct attempt a;
    connect_to(&a, "tcp", "localhost", p.port, TESTUTIL_WAIT_MS, NULL, 0);
    ck_assert_msg(a.rc == 0, "connect: %d (%s)", a.rc, a.err);
    char want[64];
    snprintf(want, sizeof want, "[::1]:%s", p.port);
    ck_assert_str_eq(a.peer, want);
    expect_heard(&a.heard, p.port,
                 (const char *const[]){ "trying 127.0.0.1:PORT",
                                        "failed 127.0.0.1:PORT: connection refused",
                                        "trying [::1]:PORT", "connected [::1]:PORT", NULL });
    pair_close(&p);
}
END_TEST

START_TEST(localhost_reaches_a_listener_on_ipv4_only)
{
    struct pair p;
    pair_open(&p, LISTENS, REFUSES);
    struct attempt a;
    connect_to(&a, "tcp", "localhost", p.port, TESTUTIL_WAIT_MS, NULL, 0);
    ck_assert_msg(a.rc == 0, "connect: %d (%s)", a.rc, a.err);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%s", p.port);
    ck_assert_str_eq(a.peer, want);
    expect_heard(
        &a.heard, p.port,
        (const char *const[]){ "trying 127.0.0.1:PORT", "connected 127.0.0.1:PORT", NULL });
    pair_close(&p);
}
END_TEST

START_TEST(a_silent_address_gets_a_head_start_then_the_next_wins)
{
    /* 127.0.0.1 never answers: [::1] starts 250 ms later, beside it, and wins. */
    struct pair p;
    pair_open(&p, SILENT, LISTENS);
    struct attempt a;
    connect_to(&a, "tcp", "localhost", p.port, TESTUTIL_WAIT_MS, NULL, 0);
    ck_assert_msg(a.rc == 0, "connect: %d (%s)", a.rc, a.err);
    ck_assert_msg(a.ms >= NET_ATTEMPT_DELAY_MS && a.ms < TESTUTIL_WAIT_MS,
                  "connected after %lld ms", a.ms);
    expect_heard(&a.heard, p.port,
                 (const char *const[]){ "trying 127.0.0.1:PORT", "trying [::1]:PORT",
                                        "connected [::1]:PORT", NULL });
    pair_close(&p);
}
END_TEST

START_TEST(every_address_refusing_names_each)
{
    struct pair p;
    pair_open(&p, REFUSES, REFUSES);
    struct attempt a;
    connect_to(&a, "tcp", "localhost", p.port, TESTUTIL_WAIT_MS, NULL, 0);
    ck_assert_msg(a.rc == SECSOCK_ERR_CONNECT, "connect: %d (%s)", a.rc, a.err);
    ck_assert_msg(a.ms < NET_ATTEMPT_DELAY_MS * 4, "failed after %lld ms", a.ms);
    char want[256];
    snprintf(want, sizeof want,
             "connection to localhost failed: 127.0.0.1:%s: Connection refused; "
             "[::1]:%s: Connection refused",
             p.port, p.port);
    ck_assert_str_eq(a.err, want);
    pair_close(&p);
}
END_TEST

START_TEST(the_timeout_bounds_every_attempt)
{
    struct pair p;
    pair_open(&p, SILENT, SILENT);
    struct attempt a;
    connect_to(&a, "tcp", "localhost", p.port, 600, NULL, 0);
    ck_assert_msg(a.rc == SECSOCK_ERR_TIMEOUT, "connect: %d (%s)", a.rc, a.err);
    ck_assert_msg(a.ms >= 600 && a.ms < TESTUTIL_WAIT_MS, "gave up after %lld ms", a.ms);
    char want[256];
    snprintf(want, sizeof want,
             "connection to localhost timed out: 127.0.0.1:%s: timed out; [::1]:%s: timed out",
             p.port, p.port);
    ck_assert_str_eq(a.err, want);
    expect_heard(&a.heard, p.port,
                 (const char *const[]){ "trying 127.0.0.1:PORT", "trying [::1]:PORT",
                                        "failed 127.0.0.1:PORT: timed out",
                                        "failed [::1]:PORT: timed out", NULL });
    pair_close(&p);
}
END_TEST

START_TEST(one_address_keeps_the_old_message)
{
    struct pair p;
    pair_open(&p, REFUSES, REFUSES);
    struct attempt a;
    connect_to(&a, "tcp", "127.0.0.1", p.port, TESTUTIL_WAIT_MS, NULL, 0);
    ck_assert_msg(a.rc == SECSOCK_ERR_CONNECT, "connect: %d (%s)", a.rc, a.err);
    char want[128];
    snprintf(want, sizeof want, "connection to 127.0.0.1:%s failed: Connection refused", p.port);
    ck_assert_str_eq(a.err, want);
    pair_close(&p);
}
END_TEST

/* ---- datagrams: the caller moves on with opts->exclude ------------------- */

START_TEST(udp_exclude_moves_to_the_next_address)
{
    need_ipv6_loopback();
    const char *v4[] = { "127.0.0.1:9" };
    struct attempt a;
    connect_to(&a, "udp", "localhost", "9", TESTUTIL_WAIT_MS, NULL, 0);
    ck_assert_msg(a.rc == 0, "connect: %d (%s)", a.rc, a.err);
    ck_assert_str_eq(a.peer, "127.0.0.1:9"); /* a UDP socket connects at once: the first */
    connect_to(&a, "udp", "localhost", "9", TESTUTIL_WAIT_MS, v4, 1);
    ck_assert_msg(a.rc == 0, "connect: %d (%s)", a.rc, a.err);
    ck_assert_str_eq(a.peer, "[::1]:9");
    expect_heard(&a.heard, "9",
                 (const char *const[]){ "trying [::1]:PORT", "connected [::1]:PORT", NULL });
    const char *both[] = { "[::1]:9", "127.0.0.1:9" };
    connect_to(&a, "udp", "localhost", "9", TESTUTIL_WAIT_MS, both, 2);
    ck_assert_msg(a.rc == SECSOCK_ERR_CONNECT, "connect: %d (%s)", a.rc, a.err);
    ck_assert_str_eq(a.err, "connection to localhost: no address left to try (all 2 excluded)");
    ck_assert_int_eq(a.heard.n, 0);
}
END_TEST

START_TEST(udp_refusal_then_the_next_address_answers)
{
    /* A UDP socket on ::1 answers; nothing on 127.0.0.1 (the same port,
     * found free for UDP): the first datagram is refused by ICMP, and the
     * connection excluding 127.0.0.1 reaches ::1. */
    need_ipv6_loopback();
    int srv = -1;
    char port[16];
    for (int tries = 0; srv < 0 && tries < 100; tries++) {
        srv = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(srv, 0);
        struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        socklen_t sl = sizeof sin6;
        ck_assert_int_eq(bind(srv, (struct sockaddr *)&sin6, sizeof sin6), 0);
        ck_assert_int_eq(getsockname(srv, (struct sockaddr *)&sin6, &sl), 0);
        /* Nothing may hold that port on 127.0.0.1 (checked by binding it). */
        int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sin = { .sin_family = AF_INET,
                                   .sin_port = sin6.sin6_port,
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (probe < 0 || bind(probe, (struct sockaddr *)&sin, sizeof sin) != 0) {
            close(srv);
            srv = -1;
        }
        if (probe >= 0)
            close(probe);
        snprintf(port, sizeof port, "%d", ntohs(sin6.sin6_port));
    }
    ck_assert_msg(srv >= 0, "no UDP port free on both loopbacks in 100 tries");

    secsock_transport *t = testutil_transport("udp", SECSOCK_CLIENT, NULL);
    struct secsock_connect_opts o = {
        .host = "localhost", .port = port, .family = AF_UNSPEC, .timeout_ms = TESTUTIL_WAIT_MS
    };
    char err[256];
    secsock_conn *c = NULL;
    ck_assert_int_eq(testutil_connect(t, &o, &c, err, sizeof err), 0);
    char refused[64];
    snprintf(refused, sizeof refused, "%s", secsock_conn_peer(c));
    ck_assert_ptr_nonnull(strstr(refused, "127.0.0.1:"));
    ck_assert_int_eq(secsock_write_all(c, "ping", 4), 0);
    char buf[16];
    ssize_t n = secsock_read(c, buf, sizeof buf);
    ck_assert_msg(n == SECSOCK_ERR_CONNECT, "read: %zd (%s)", n, secsock_conn_error(c));
    secsock_close(c);

    const char *exclude[] = { refused };
    o.exclude = exclude;
    o.n_exclude = 1;
    ck_assert_int_eq(testutil_connect(t, &o, &c, err, sizeof err), 0);
    ck_assert_int_eq(secsock_write_all(c, "ping", 4), 0);
    struct sockaddr_in6 from;
    socklen_t fl = sizeof from;
    ck_assert_int_eq(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 4);
    ck_assert_int_eq(sendto(srv, "pong", 4, 0, (struct sockaddr *)&from, fl), 4);
    n = secsock_read(c, buf, sizeof buf);
    ck_assert_msg(n == 4 && memcmp(buf, "pong", 4) == 0, "read: %zd (%s)", n,
                  secsock_conn_error(c));
    secsock_close(c);
    secsock_transport_free(t);
    close(srv);
}
END_TEST

static Suite *addresses_suite(void)
{
    Suite *s = suite_create("addresses");
    TCase *order = tcase_create("order");
    tcase_add_test(order, interleave_alternates_starting_with_the_first_family);
    tcase_add_test(order, interleave_keeps_each_familys_order);
    tcase_add_test(order, interleave_one_family_or_one_address);
    tcase_add_test(order, localhost_is_both_loopbacks);
    tcase_add_test(order, connect_addr_is_the_one_address);
    suite_add_tcase(s, order);

    TCase *race = tcase_create("connect");
    tcase_set_timeout(race, 30);
    tcase_add_test(race, localhost_reaches_a_listener_on_ipv6_only);
    tcase_add_test(race, localhost_reaches_a_listener_on_ipv4_only);
    tcase_add_test(race, a_silent_address_gets_a_head_start_then_the_next_wins);
    tcase_add_test(race, every_address_refusing_names_each);
    tcase_add_test(race, the_timeout_bounds_every_attempt);
    tcase_add_test(race, one_address_keeps_the_old_message);
    tcase_add_test(race, udp_exclude_moves_to_the_next_address);
    tcase_add_test(race, udp_refusal_then_the_next_address_answers);
    suite_add_tcase(s, race);
    return s;
}

int main(void)
{
    return testutil_run(addresses_suite());
}
