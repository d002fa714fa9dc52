/*
 * Datagram semantics of the transport API, self-talk over loopback: "udp"
 * and "dtls" (one body for both where the behaviour is the same), the
 * listener API for every backend, and cancellation.
 *
 * The server thread uses the listener API: secsock_listener_new on
 * 127.0.0.1 port 0, then secsock_accept; for DTLS secsock_handshake; then
 * it reads datagrams and echoes each one until a read returns 0 (UDP: each
 * accepted connection carries one datagram and then ends; DTLS: the
 * client's close_notify) or fails. It stops when its stop pipe, the cancel
 * descriptor of the listener and of every connection, is written.
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

#include "secsock/security.h"
#include "secsock/transport.h"
#include "testutil.h"


static int is_secure(const char *backend)
{
    return strcmp(backend, "dtls") == 0 || strcmp(backend, "tls") == 0;
}

/* The default configurations for a backend: NULL for plaintext. */
static secsock_transport *server_transport(const char *backend, const char *cert, int mtu)
{
    return testutil_transport(backend, SECSOCK_SERVER,
                     is_secure(backend) ? testutil_server_cfg(cert, mtu) : NULL);
}

/* "127.0.0.1:PORT" of a socket's local end. */
static void local_address(int fd, char *out, size_t outlen)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    ck_assert_int_eq(sin.sin_family, AF_INET);
    snprintf(out, outlen, "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
}

/* A loopback port of socktype where nothing listens. It is picked below the
 * kernel's ephemeral range (ip_local_port_range), where no socket gets a
 * port without asking: a port from bind(0) could be handed, while this test
 * sends to it, to a socket of a test running alongside, which would answer
 * or take the datagrams as an attack. */
static void free_port(int socktype, char *port, size_t portlen)
{
    unsigned ephemeral = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        if (fscanf(f, "%u", &ephemeral) != 1)
            ephemeral = 32768;
        fclose(f);
    }
    unsigned first = ephemeral > 11000 ? 10000 : 1024;
    ck_assert_uint_gt(ephemeral, first);
    for (int tries = 0; tries < 500; tries++) {
        unsigned r;
        ck_assert_int_eq(getrandom(&r, sizeof r, 0), (ssize_t)sizeof r);
        unsigned p = first + r % (ephemeral - first);
        int fd = socket(AF_INET, socktype | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_in sin = { .sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)p),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int bound = bind(fd, (struct sockaddr *)&sin, sizeof sin);
        close(fd);
        if (bound == 0) {
            snprintf(port, portlen, "%u", p);
            return;
        }
    }
    ck_abort_msg("no free port in %u-%u", first, ephemeral - 1);
}

static void port_of(const char *address, char *port, size_t portlen)
{
    const char *colon = strrchr(address, ':');
    ck_assert_msg(colon != NULL && strncmp(address, "127.0.0.1:", 10) == 0, "bound '%s'",
                  address);
    snprintf(port, portlen, "%s", colon + 1);
    ck_assert_int_ne(atoi(port), 0);
}

/* ---- the echo server thread ------------------------------------------- */

#define MAX_SEEN 64

struct dserver {
    secsock_transport *t;
    secsock_listener *l;
    char port[16];
    int stop[2];      /* written by dserver_stop: the cancel descriptor of everything */
    size_t read_cap;  /* the server's read buffer */
    pthread_t thread;
    atomic_int accepted_now, ended_now; /* for dserver_stop, while it runs */
    /* Results, read after dserver_stop(). */
    int conns;                   /* connections accepted */
    int accept_errors;           /* failed clients (secsock_accept's other errors) */
    int accept_end;              /* the accept that ended the loop (CANCELLED) */
    int handshake_rc;            /* the last handshake (1: none ran) */
    int handshake_failures;
    char error[256];             /* the last accept or handshake error */
    char peer[64];               /* the first connection's peer */
    size_t max_message;          /* the first connection's, after the handshake */
    struct secsock_session_info info; /* the first connection's */
    int nseen;
    size_t seen[MAX_SEEN];       /* each datagram read: its length */
    int seen_truncated[MAX_SEEN]; /* and secsock_datagram_truncated() after it */
    int nend;
    long long end_rc[MAX_SEEN];  /* per connection: the read that ended it */
    int write_errors;
    char write_error[256];
    /* With peek set: before each read, a peek (waiting) and a second one;
     * per read, the peek's result and whether both peeks gave the read's
     * bytes. */
    int peek;
    unsigned char *pbuf1, *pbuf2;
    int npeek;
    long long peek_rc[MAX_SEEN];
    int peek_same[MAX_SEEN];
};

/* With s->peek: peeks before the read, records how the peeks compare. */
static ssize_t dserve_read(struct dserver *s, secsock_conn *c, unsigned char *buf)
{
    if (!s->peek)
        return secsock_read(c, buf, s->read_cap);
    ssize_t p1 = testutil_peek_wait(c, s->pbuf1, s->read_cap, TESTUTIL_WAIT_MS);
    ssize_t p2 = p1 > 0 ? secsock_peek_nowait(c, s->pbuf2, s->read_cap) : p1;
    ssize_t n = secsock_read(c, buf, s->read_cap);
    if (s->npeek < MAX_SEEN) {
        s->peek_rc[s->npeek] = p1;
        s->peek_same[s->npeek] = p1 == n && p2 == p1 &&
                                 (p1 <= 0 || (memcmp(s->pbuf1, buf, (size_t)p1) == 0 &&
                                              memcmp(s->pbuf2, buf, (size_t)p1) == 0));
        s->npeek++;
    }
    return n;
}

static void dserve(struct dserver *s, secsock_conn *c, unsigned char *buf)
{
    ssize_t n;
    while ((n = dserve_read(s, c, buf)) > 0) {
        if (s->nseen < MAX_SEEN) {
            s->seen[s->nseen] = (size_t)n;
            s->seen_truncated[s->nseen] = secsock_datagram_truncated(c);
            s->nseen++;
        }
        int rc = secsock_write_all(c, buf, (size_t)n);
        if (rc != 0) {
            s->write_errors++;
            snprintf(s->write_error, sizeof s->write_error, "%d %s", rc,
                     secsock_conn_error(c));
        }
    }
    if (s->nend < MAX_SEEN)
        s->end_rc[s->nend++] = n;
}

static void *dserver_main(void *arg)
{
    struct dserver *s = arg;
    unsigned char *buf = malloc(s->read_cap);
    if (buf == NULL)
        return NULL;
    if (s->peek) {
        s->pbuf1 = malloc(s->read_cap);
        s->pbuf2 = malloc(s->read_cap);
        if (s->pbuf1 == NULL || s->pbuf2 == NULL)
            s->peek = 0; /* npeek stays 0: the test fails */
    }
    for (;;) {
        secsock_conn *c = NULL;
        char err[256] = "";
        int rc = secsock_accept(s->l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
        if (rc == SECSOCK_ERR_CANCELLED || rc == SECSOCK_ERR_TIMEOUT) {
            s->accept_end = rc;
            break;
        }
        if (rc != 0) {
            s->accept_errors++;
            snprintf(s->error, sizeof s->error, "accept: %d %.200s", rc, err);
            continue;
        }
        if (c == NULL) {
            s->accept_errors++;
            snprintf(s->error, sizeof s->error, "accept: 0 without a connection");
            continue;
        }
        int first = s->conns++ == 0;
        atomic_fetch_add(&s->accepted_now, 1);
        secsock_conn_set_timeout(c, TESTUTIL_WAIT_MS);
        secsock_conn_set_cancel_fd(c, s->stop[0]);
        s->handshake_rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
        if (s->handshake_rc != 0) {
            s->handshake_failures++;
            snprintf(s->error, sizeof s->error, "handshake: %s", secsock_conn_error(c));
            secsock_close(c);
            atomic_fetch_add(&s->ended_now, 1);
            continue;
        }
        if (first) {
            snprintf(s->peer, sizeof s->peer, "%s", secsock_conn_peer(c));
            s->max_message = secsock_max_message(c);
            secsock_session_info(c, &s->info);
        }
        dserve(s, c, buf);
        secsock_close(c);
        atomic_fetch_add(&s->ended_now, 1);
    }
    free(buf);
    free(s->pbuf1);
    free(s->pbuf2);
    return NULL;
}

/* Starts an echo server on 127.0.0.1, any port. Takes the transport. */
static void dserver_start_opts(struct dserver *s, secsock_transport *t, size_t read_cap,
                              int peek)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->read_cap = read_cap;
    s->peek = peek;
    s->handshake_rc = 1;
    ck_assert_int_eq(pipe(s->stop), 0);
    char err[256] = "";
    int rc = secsock_listener_new(t, "127.0.0.1", "0", 16, &s->l, err, sizeof err);
    ck_assert_msg(rc == 0, "secsock_listener_new(%s): %d %s", secsock_transport_name(t), rc, err);
    ck_assert_ptr_nonnull(s->l);
    port_of(secsock_listener_address(s->l), s->port, sizeof s->port);
    secsock_listener_set_cancel_fd(s->l, s->stop[0]);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, dserver_main, s), 0);
}

static void dserver_start_cap(struct dserver *s, secsock_transport *t, size_t read_cap)
{
    dserver_start_opts(s, t, read_cap, 0);
}

static void dserver_start(struct dserver *s, secsock_transport *t)
{
    dserver_start_cap(s, t, 70000); /* more than any datagram */
}

/* Lets the server finish the connections it has (a close_notify on its way
 * would otherwise race the stop: a wait ends with CANCELLED when both are
 * ready), then stops it. */
static void dserver_stop(struct dserver *s)
{
    for (int i = 0; i < TESTUTIL_WAIT_MS / 10 && atomic_load(&s->ended_now) < atomic_load(&s->accepted_now);
         i++)
        usleep(10 * 1000);
    ck_assert_int_eq(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    secsock_listener_free(s->l);
    secsock_transport_free(s->t);
    close(s->stop[0]);
    close(s->stop[1]);
}

/* ---- the client -------------------------------------------------------- */

struct dclient {
    secsock_transport *t;
    secsock_conn *c;
    int rc;
    char err[256];
};

/* Connects with a new client transport (takes cfg). */
static int dclient_connect_to(struct dclient *cl, const char *backend, secsock_config *cfg,
                              const char *host, const char *port, int timeout_ms)
{
    memset(cl, 0, sizeof *cl);
    cl->t = testutil_transport(backend, SECSOCK_CLIENT, cfg);
    struct secsock_connect_opts o = {
        .host = host, .port = port, .family = AF_UNSPEC, .timeout_ms = timeout_ms,
    };
    cl->rc = secsock_connect(cl->t, &o, &cl->c, cl->err, sizeof cl->err);
    return cl->rc;
}

static void dclient_close(struct dclient *cl)
{
    secsock_close(cl->c);
    secsock_transport_free(cl->t);
}

struct variant {
    const char *backend;
    const char *host;
};

static const struct variant dvariants[] = {
    { "udp", "127.0.0.1" },
    { "dtls", "localhost" },
};
#define N_DVARIANTS ((int)(sizeof dvariants / sizeof dvariants[0]))

static int is_dtls(const struct variant *v) { return strcmp(v->backend, "dtls") == 0; }

static void start_echo(struct dserver *s, const struct variant *v)
{
    dserver_start(s, server_transport(v->backend, "server", 0));
}

static void connect_echo(struct dclient *cl, const struct variant *v, const struct dserver *s)
{
    int rc = dclient_connect_to(cl, v->backend, is_dtls(v) ? testutil_client_cfg(0) : NULL, v->host,
                                s->port, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "%s connect to %s:%s: %d %s", v->backend, v->host, s->port, rc,
                  cl->err);
    ck_assert_ptr_nonnull(cl->c);
    secsock_conn_set_timeout(cl->c, TESTUTIL_WAIT_MS);
}

/* Sends one datagram and reads one, which must be the same bytes. */
static void echo_once(secsock_conn *c, const void *msg, size_t len)
{
    int rc = secsock_write_all(c, msg, len);
    ck_assert_msg(rc == 0, "write %zu bytes: %d (%s)", len, rc, secsock_conn_error(c));
    unsigned char *got = malloc(len + 64);
    ck_assert_ptr_nonnull(got);
    ssize_t n = secsock_read(c, got, len + 64);
    ck_assert_msg(n == (ssize_t)len, "read: %zd, want %zu (%s)", n, len, secsock_conn_error(c));
    ck_assert_int_eq(secsock_datagram_truncated(c), 0);
    ck_assert_int_eq(memcmp(got, msg, len), 0);
    free(got);
}

static void assert_clean_ends(const struct dserver *s, int conns)
{
    ck_assert_msg(s->accept_errors == 0, "server: %s", s->error);
    ck_assert_msg(s->handshake_failures == 0, "server: %s", s->error);
    ck_assert_msg(s->write_errors == 0, "server write: %s", s->write_error);
    ck_assert_int_eq(s->accept_end, SECSOCK_ERR_CANCELLED);
    ck_assert_int_eq(s->conns, conns);
    ck_assert_int_eq(s->nend, conns);
    for (int i = 0; i < s->nend; i++)
        ck_assert_msg(s->end_rc[i] == 0, "connection %d ended with %lld, not 0", i,
                      s->end_rc[i]);
}

/* ---- udp and dtls: one body ------------------------------------------- */

START_TEST(dg_roundtrip)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    start_echo(&s, v);
    connect_echo(&cl, v, &s);

    char want_peer[32], local[32];
    snprintf(want_peer, sizeof want_peer, "127.0.0.1:%s", s.port);
    ck_assert_str_eq(secsock_conn_peer(cl.c), want_peer);
    local_address(secsock_conn_fd(cl.c), local, sizeof local);
    for (int i = 0; i < 3; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "hello datagram %d", i);
        echo_once(cl.c, msg, (size_t)len);
    }
    dclient_close(&cl);
    dserver_stop(&s);
    /* UDP: a connection per datagram, each ending after it; DTLS: one
     * connection, ended by our close_notify. */
    assert_clean_ends(&s, is_dtls(v) ? 1 : 3);
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
    start_echo(&s, v);
    connect_echo(&cl, v, &s);
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
    assert_clean_ends(&s, is_dtls(v) ? 1 : 3);
}
END_TEST

/* The largest message: what secsock_max_message says, on both sides, and a
 * message of exactly that size goes through whole. */
START_TEST(dg_max_message)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    start_echo(&s, v);
    connect_echo(&cl, v, &s);
    size_t max = secsock_max_message(cl.c);
    if (is_dtls(v))
        ck_assert_msg(max > 1000 && max < 1280, "DTLS max message %zu at the default MTU", max);
    else
        ck_assert_uint_eq(max, 65507); /* IPv4 */
    unsigned char *msg = malloc(max);
    ck_assert_ptr_nonnull(msg);
    testutil_fill_pattern(msg, max, 3);
    echo_once(cl.c, msg, max);
    free(msg);
    dclient_close(&cl);
    dserver_stop(&s);
    assert_clean_ends(&s, 1);
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
    start_echo(&s, v);
    connect_echo(&cl, v, &s);
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
    echo_once(cl.c, "after", 5); /* the connection is still usable */
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.nseen, 1);
    ck_assert_uint_eq(s.seen[0], 5);
    assert_clean_ends(&s, 1);
}
END_TEST

/* A reply longer than the read buffer: the buffer is filled, the tail is
 * dropped and reported; the next datagram reads normally. */
START_TEST(dg_truncated_reply)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    start_echo(&s, v);
    connect_echo(&cl, v, &s);
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
    assert_clean_ends(&s, is_dtls(v) ? 1 : 3);
}
END_TEST

/* The same on the server's side (UDP: the listener's peer connection). */
START_TEST(dg_truncated_on_server)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    dserver_start_cap(&s, server_transport(v->backend, "server", 0), 8);
    connect_echo(&cl, v, &s);
    unsigned char msg[20], got[64];
    testutil_fill_pattern(msg, sizeof msg, 5);
    ck_assert_int_eq(secsock_write_all(cl.c, msg, sizeof msg), 0);
    ssize_t n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 8, "reply: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_int_eq(memcmp(got, msg, 8), 0);
    echo_once(cl.c, "short", 5);
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.nseen, 2);
    ck_assert_uint_eq(s.seen[0], 8);
    ck_assert_int_eq(s.seen_truncated[0], 1);
    ck_assert_uint_eq(s.seen[1], 5);
    ck_assert_int_eq(s.seen_truncated[1], 0);
    assert_clean_ends(&s, is_dtls(v) ? 1 : 2);
}
END_TEST

START_TEST(dg_session_info)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient cl;
    start_echo(&s, v);
    connect_echo(&cl, v, &s);
    struct secsock_session_info info;
    ck_assert_int_eq(secsock_session_info(cl.c, &info), 0);
    ck_assert_str_eq(secsock_transport_name(cl.t), v->backend);
    ck_assert_int_eq(secsock_transport_is_secure(cl.t), is_dtls(v));
    ck_assert_int_eq(info.secure, is_dtls(v));
    if (is_dtls(v)) {
        ck_assert_str_eq(info.version, "DTLSv1.2");
        ck_assert_str_ne(info.cipher, "");
        ck_assert_int_eq(info.has_peer_cert, 1);
        ck_assert_int_eq(info.verified, 1);
        ck_assert_int_eq(info.verify_code, 0);
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
    echo_once(cl.c, "x", 1);
    dclient_close(&cl);
    dserver_stop(&s);
    assert_clean_ends(&s, 1);
    ck_assert_int_eq(s.info.secure, is_dtls(v));
    if (is_dtls(v)) {
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
    start_echo(&s, v);
    connect_echo(&cl, v, &s);
    secsock_conn_set_timeout(cl.c, 200);
    char buf[16];
    long long t0 = testutil_now_ms();
    ssize_t n = secsock_read(cl.c, buf, sizeof buf);
    long long waited = testutil_now_ms() - t0;
    ck_assert_msg(n == SECSOCK_ERR_TIMEOUT, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    ck_assert_msg(waited >= 150 && waited < 3000, "waited %lld ms for a 200 ms timeout", waited);
    secsock_conn_set_timeout(cl.c, TESTUTIL_WAIT_MS);
    echo_once(cl.c, "still here", 10);
    dclient_close(&cl);
    dserver_stop(&s);
    assert_clean_ends(&s, 1);
}
END_TEST

/* Several peers on one listener, interleaved: each gets its own answer. */
START_TEST(dg_two_peers)
{
    const struct variant *v = &dvariants[_i];
    struct dserver s;
    struct dclient a, b;
    start_echo(&s, v);
    connect_echo(&a, v, &s);
    if (is_dtls(v)) {
        /* The server serves one DTLS connection at a time: end a's first. */
        echo_once(a.c, "from a", 6);
        dclient_close(&a);
        connect_echo(&b, v, &s);
        echo_once(b.c, "from b", 6);
        dclient_close(&b);
    } else {
        connect_echo(&b, v, &s);
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
    assert_clean_ends(&s, 2);
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
    dserver_start_opts(&s, server_transport(v->backend, "server", 0), 70000, 1);
    connect_echo(&cl, v, &s);
    const char *msgs[3] = { "first peek", "x", "the third datagram" };
    for (int i = 0; i < 3; i++)
        echo_once(cl.c, msgs[i], strlen(msgs[i]));
    dclient_close(&cl);
    dserver_stop(&s);
    assert_clean_ends(&s, is_dtls(v) ? 1 : 3);
    /* UDP: per connection, the datagram then the end; DTLS: the three
     * datagrams, then the end. */
    long long want[6];
    int nwant = 0;
    for (int i = 0; i < 3; i++) {
        want[nwant++] = (long long)strlen(msgs[i]);
        if (!is_dtls(v))
            want[nwant++] = 0;
    }
    if (is_dtls(v))
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
    start_echo(&s, v);
    connect_echo(&cl, v, &s);
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
    if (is_dtls(v)) {
        ck_assert_int_eq(secsock_shutdown_write(cl.c), 0); /* the server closes in turn */
        n = testutil_peek_wait(cl.c, b, sizeof b - 1, TESTUTIL_WAIT_MS);
        ck_assert_msg(n == 0, "peek at the server's close_notify: %zd (%s)", n,
                      secsock_conn_error(cl.c));
        n = secsock_read(cl.c, got, sizeof got - 1);
        ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    }
    dclient_close(&cl);
    dserver_stop(&s);
    assert_clean_ends(&s, 1);
}
END_TEST

/* ---- udp only ---------------------------------------------------------- */

/* Nobody at the port: the ICMP "port unreachable" ends the wait at once
 * with a connection error naming the peer, as ncat and Python report it. */
START_TEST(udp_nobody_listens)
{
    char port[16];
    free_port(SOCK_DGRAM, port, sizeof port);
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
    if (secsock_listener_new(t, "::1", "0", 4, &l, err, sizeof err) != 0) {
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
    rc = secsock_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
    ck_assert_msg(rc == 0, "accept: %d (%s)", rc, err);
    ck_assert_uint_eq(secsock_max_message(c), 65527);
    ck_assert_int_eq(strncmp(secsock_conn_peer(c), "[::1]:", 6), 0);
    secsock_close(c);
    dclient_close(&cl);
    secsock_listener_free(l);
    secsock_transport_free(t);
}
END_TEST

/* ---- dtls only --------------------------------------------------------- */

START_TEST(dtls_nobody_listens)
{
    char port[16];
    free_port(SOCK_DGRAM, port, sizeof port);
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
    dserver_start(&s, server_transport("dtls", "server", 9000));
    int rc = dclient_connect_to(&cl, "dtls", testutil_client_cfg(9000), "localhost", s.port, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "connect: %d (%s)", rc, cl.err);
    size_t max = secsock_max_message(cl.c);
    ck_assert_msg(max > 8000 && max < 9000, "max message %zu at MTU 9000", max);
    unsigned char *msg = malloc(max + 1);
    ck_assert_ptr_nonnull(msg);
    testutil_fill_pattern(msg, max + 1, 6);
    echo_once(cl.c, msg, max);
    rc = secsock_write_all(cl.c, msg, max + 1);
    ck_assert_msg(rc == SECSOCK_ERR_TOO_BIG, "write max+1: %d (%s)", rc,
                  secsock_conn_error(cl.c));
    ck_assert_msg(strstr(secsock_conn_error(cl.c), "9000") != NULL, "error '%s' lacks the MTU",
                  secsock_conn_error(cl.c));
    free(msg);
    dclient_close(&cl);
    dserver_stop(&s);
    assert_clean_ends(&s, 1);
    ck_assert_uint_eq(s.max_message, max);
    ck_assert_int_eq(s.nseen, 1);
    ck_assert_uint_eq(s.seen[0], max);
}
END_TEST

static void dtls_refused(const char *cert, const char *host, const char *text)
{
    struct dserver s;
    struct dclient cl;
    dserver_start(&s, server_transport("dtls", cert, 0));
    int rc = dclient_connect_to(&cl, "dtls", testutil_client_cfg(0), host, s.port, TESTUTIL_WAIT_MS);
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
    start_echo(&s, &v);
    connect_echo(&cl, &v, &s);
    echo_once(cl.c, "bye", 3);
    long long t0 = testutil_now_ms();
    dclient_close(&cl);
    dserver_stop(&s); /* waits for the server's connection to end */
    long long waited = testutil_now_ms() - t0;
    assert_clean_ends(&s, 1);
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
    start_echo(&s, &v);
    connect_echo(&cl, &v, &s);
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
    assert_clean_ends(&s, 1);
}
END_TEST

/* Datagrams that are not DTLS at the listener cost nothing and stop nobody:
 * a real client is served afterwards. */
START_TEST(dtls_listener_survives_garbage)
{
    struct dserver s;
    struct dclient cl;
    const struct variant v = { "dtls", "localhost" };
    start_echo(&s, &v);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons((unsigned short)atoi(s.port)) };
    unsigned char junk[300];
    testutil_fill_pattern(junk, sizeof junk, 7);
    junk[0] = 22; /* a handshake record's type, then nonsense */
    const char *texts[] = { "hello", "GET / HTTP/1.1\r\n\r\n", "" };
    for (int i = 0; i < 3; i++)
        ck_assert_int_ge(sendto(fd, texts[i], strlen(texts[i]), 0, (struct sockaddr *)&sin,
                                sizeof sin), 0);
    ck_assert_int_eq(sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&sin, sizeof sin),
                     (ssize_t)sizeof junk);
    close(fd);
    connect_echo(&cl, &v, &s);
    echo_once(cl.c, "served", 6);
    dclient_close(&cl);
    dserver_stop(&s);
    ck_assert_int_eq(s.conns, 1); /* no connection for the junk */
    ck_assert_int_eq(s.handshake_rc, 0);
    ck_assert_int_eq(s.nseen, 1);
}
END_TEST

/* ---- cancellation (server side) --------------------------------------- */

struct blocked {
    secsock_transport *t;
    secsock_listener *l;
    char port[16];
    int cancel[2];
    pthread_t thread;
    atomic_int reading;     /* set just before the blocking read */
    int accept_rc, handshake_rc;
    long long read_rc;
    long long returned_ms;  /* when the read returned */
    char error[256];
};

static void *blocked_main(void *arg)
{
    struct blocked *b = arg;
    secsock_conn *c = NULL;
    char err[256] = "";
    b->accept_rc = secsock_accept(b->l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
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
    b.t = server_transport(backend, "server", 0);
    ck_assert_int_eq(pipe(b.cancel), 0);
    char err[256] = "";
    ck_assert_msg(secsock_listener_new(b.t, "127.0.0.1", "0", 4, &b.l, err, sizeof err) == 0,
                  "listener: %s", err);
    port_of(secsock_listener_address(b.l), b.port, sizeof b.port);
    ck_assert_int_eq(pthread_create(&b.thread, NULL, blocked_main, &b), 0);

    struct dclient cl;
    int rc = dclient_connect_to(&cl, backend, is_secure(backend) ? testutil_client_cfg(0) : NULL,
                                "localhost", b.port, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "connect: %d (%s)", rc, cl.err);
    for (int i = 0; i < 500 && !atomic_load(&b.reading); i++)
        usleep(10 * 1000);
    ck_assert_msg(atomic_load(&b.reading), "the server never started reading");
    usleep(100 * 1000); /* now blocked in its read */
    long long t0 = testutil_now_ms();
    ck_assert_int_eq(write(b.cancel[1], "x", 1), 1);
    pthread_join(b.thread, NULL);
    ck_assert_msg(b.read_rc == SECSOCK_ERR_CANCELLED, "server read: %lld (%s)", b.read_rc,
                  b.error);
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
    secsock_transport *t = server_transport(backend, "server", 0);
    secsock_listener *l = NULL;
    char err[256] = "";
    ck_assert_msg(secsock_listener_new(t, "127.0.0.1", "0", 4, &l, err, sizeof err) == 0,
                  "listener: %s", err);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    secsock_listener_set_cancel_fd(l, p[0]);

    /* Cancelled while waiting. */
    struct delayed_write d = { p[1], 100 };
    pthread_t th;
    secsock_conn *c = (secsock_conn *)&d; /* must be reset */
    long long t0 = testutil_now_ms(); /* the write comes at least 100 ms after this */
    ck_assert_int_eq(pthread_create(&th, NULL, write_later, &d), 0);
    int rc = secsock_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
    long long waited = testutil_now_ms() - t0;
    pthread_join(th, NULL);
    ck_assert_msg(rc == SECSOCK_ERR_CANCELLED, "%s accept: %d (%s)", backend, rc, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(waited >= 90 && waited < 2000, "waited %lld ms", waited);

    /* Already cancelled: at once. */
    t0 = testutil_now_ms();
    rc = secsock_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
    ck_assert_msg(rc == SECSOCK_ERR_CANCELLED, "%s accept again: %d (%s)", backend, rc, err);
    ck_assert_msg(testutil_now_ms() - t0 < 1000, "waited %lld ms", testutil_now_ms() - t0);

    /* Without the cancel descriptor: a plain timeout. */
    secsock_listener_set_cancel_fd(l, -1);
    rc = secsock_accept(l, 100, &c, err, sizeof err);
    ck_assert_msg(rc == SECSOCK_ERR_TIMEOUT, "%s accept without cancel: %d (%s)", backend, rc,
                  err);
    secsock_listener_free(l);
    secsock_transport_free(t);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(listener_accept_times_out)
{
    const char *backend = all_backends[_i];
    secsock_transport *t = server_transport(backend, "server", 0);
    secsock_listener *l = NULL;
    char err[256] = "";
    ck_assert_msg(secsock_listener_new(t, "127.0.0.1", "0", 4, &l, err, sizeof err) == 0,
                  "listener: %s", err);
    char port[16];
    port_of(secsock_listener_address(l), port, sizeof port);
    secsock_conn *c = NULL;
    long long t0 = testutil_now_ms();
    int rc = secsock_accept(l, 200, &c, err, sizeof err);
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
    secsock_transport *t = server_transport(backend, "server", 0);
    secsock_listener *l = (secsock_listener *)t; /* must be reset */
    char err[256] = "";
    int rc = secsock_listener_new(t, "not-an-address.invalid", "0", 4, &l, err, sizeof err);
    ck_assert_int_lt(rc, 0);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err, "not-an-address.invalid") != NULL, "error '%s'", err);
    secsock_transport_free(t);
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
        int rc = secsock_accept(s->l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
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
        .host = "localhost", .port = p->port, .family = AF_UNSPEC, .timeout_ms = TESTUTIL_WAIT_MS,
    };
    p->rc = secsock_connect(p->t, &o, &c, p->err, sizeof p->err);
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
    secsock_transport *st = server_transport("dtls", "server", 0);
    ck_assert_int_eq(pipe(s->stop), 0);
    char err[256] = "", port[16];
    ck_assert_msg(secsock_listener_new(st, "127.0.0.1", "0", 64, &s->l, err, sizeof err) == 0,
                  "listener: %s", err);
    port_of(secsock_listener_address(s->l), port, sizeof port);
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
            fprintf(stderr, "client %d: connect %d, %d rounds: %s\n", i, p[i].rc,
                    p[i].ok_rounds, p[i].err);
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

static Suite *datagram_suite(void)
{
    Suite *s = suite_create("datagram");
    TCase *both = tcase_create("udp_and_dtls");
    TCase *udp = tcase_create("udp");
    TCase *dtls = tcase_create("dtls");
    TCase *listener = tcase_create("listener");

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
    return testutil_run(datagram_suite());
}
