/*
 * The transport API talking to itself in one process (s2n-tls's self-talk
 * tests; libevent's regress_ssl.c runs one body against every backend).
 * A server thread accepts on 127.0.0.1, wraps the socket with
 * secsock_conn_from_fd (or takes it from a secsock_listener: the
 * "listener" variants), runs the handshake and plays a scripted part; the
 * test body is the client, over a real loopback connection.
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
#include "testutil.h"


static secsock_config *server_cfg(const char *name) { return testutil_server_cfg(name, 0); }
static secsock_config *client_cfg(void) { return testutil_client_cfg(0); }

/* "sha256:" and the certificate's SHA-256, computed here with OpenSSL:
 * lower-case hex without colons (plain) and upper-case with colons (colons),
 * the two spellings a user may give and the library prints. */
static void cert_pin(const char *name, char *plain, size_t plainlen, char *colons,
                     size_t colonslen)
{
    FILE *f = fopen(testutil_pki_file(name), "r");
    ck_assert_msg(f != NULL, "cannot open %s", name);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ck_assert_int_eq(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
    X509_free(x);
    ck_assert_uint_eq(mdlen, 32);
    size_t p = (size_t)snprintf(plain, plainlen, "sha256:");
    size_t q = (size_t)snprintf(colons, colonslen, "sha256:");
    for (unsigned int i = 0; i < mdlen; i++) {
        p += (size_t)snprintf(plain + p, plainlen - p, "%02x", md[i]);
        q += (size_t)snprintf(colons + q, colonslen - q, i ? ":%02X" : "%02X", md[i]);
    }
}

/* ---- the server thread ------------------------------------------------- */

enum srv_mode {
    SRV_ECHO,       /* echo each chunk until the client's end, then close */
    SRV_COLLECT,    /* read to the client's end, send it all back, close */
    SRV_SEND_CLOSE, /* send the payload, close (close_notify) */
    SRV_SILENT,     /* say nothing; wait for the client to go */
    SRV_TRUNCATE,   /* send the payload, then a bare FIN: no close_notify */
    SRV_CLOSE,      /* close at once, without reading */
    SRV_PEEK,       /* peek (waiting), peek again, read that much, peek at the end */
};

struct server {
    secsock_transport *t;
    enum srv_mode mode;
    const char *payload;
    int lfd;                /* -1 when l is used */
    secsock_listener *l;    /* the listener API: secsock_accept */
    char port[16];
    pthread_t thread;
    /* Results, read after server_join(). */
    int accepted;
    int accept_rc;
    char peer[64];          /* secsock_conn_peer of the accepted connection */
    int handshake_rc;
    char error[256];
    struct secsock_session_info info;
    long long end_rc; /* the last read's result */
    /* SRV_PEEK: the first peek, a second one, the read of as many bytes,
     * and the peek and the read after them (at the client's end). */
    long long peek1, peek2, peek_read, peek_end, peek_end_read;
    char peeked1[64], peeked2[64], peek_got[64];
};

static void serve(struct server *s, secsock_conn *c)
{
    size_t cap = 64 * 1024, used = 0;
    unsigned char *buf = malloc(cap);
    ssize_t n = 0;
    if (buf == NULL)
        return;
    switch (s->mode) {
    case SRV_ECHO:
        while ((n = secsock_read(c, buf, cap)) > 0)
            if (secsock_write_all(c, buf, (size_t)n) != 0)
                break;
        break;
    case SRV_COLLECT:
        while ((n = secsock_read(c, buf + used, cap - used)) > 0) {
            used += (size_t)n;
            if (used == cap) {
                unsigned char *bigger = realloc(buf, cap * 2);
                if (bigger == NULL)
                    break;
                buf = bigger;
                cap *= 2;
            }
        }
        if (n == 0)
            (void)secsock_write_all(c, buf, used);
        break;
    case SRV_SEND_CLOSE:
        (void)secsock_write_all(c, s->payload, strlen(s->payload));
        break;
    case SRV_SILENT:
        while ((n = secsock_read(c, buf, cap)) > 0)
            ;
        break;
    case SRV_TRUNCATE:
        (void)secsock_write_all(c, s->payload, strlen(s->payload));
        shutdown(secsock_conn_fd(c), SHUT_WR); /* FIN, and no close_notify */
        while ((n = secsock_read(c, buf, cap)) > 0)
            ;
        s->end_rc = n;
        free(buf);
        secsock_abort(c); /* still no close_notify */
        return;
    case SRV_CLOSE:
        break;
    case SRV_PEEK:
        s->peek1 = n = testutil_peek_wait(c, s->peeked1, sizeof s->peeked1 - 1, TESTUTIL_WAIT_MS);
        if (n > 0) {
            s->peek2 = secsock_peek_nowait(c, s->peeked2, sizeof s->peeked2 - 1);
            /* The peeked bytes are still there: read exactly as many. */
            size_t got = 0;
            while (got < (size_t)s->peek1) {
                n = secsock_read(c, s->peek_got + got, (size_t)s->peek1 - got);
                if (n <= 0)
                    break;
                got += (size_t)n;
            }
            s->peek_read = n <= 0 ? n : (long long)got;
            s->peek_end = n = testutil_peek_wait(c, buf, cap, TESTUTIL_WAIT_MS);
        }
        s->peek_end_read = n = secsock_read(c, buf, cap);
        break;
    }
    s->end_rc = n;
    free(buf);
    secsock_close(c);
}

/* The next client through secsock_accept. */
static secsock_conn *server_accept_listener(struct server *s)
{
    secsock_conn *c = NULL;
    s->accept_rc = secsock_accept(s->l, TESTUTIL_WAIT_MS, &c, s->error, sizeof s->error);
    if (s->accept_rc != 0)
        return NULL;
    return c;
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    if (s->l != NULL) {
        secsock_conn *c = server_accept_listener(s);
        if (c == NULL)
            return NULL;
        s->accepted = 1;
        snprintf(s->peer, sizeof s->peer, "%s", secsock_conn_peer(c));
        secsock_conn_set_timeout(c, TESTUTIL_WAIT_MS);
        s->handshake_rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
        if (s->handshake_rc != 0) {
            snprintf(s->error, sizeof s->error, "%s", secsock_conn_error(c));
            secsock_close(c);
            return NULL;
        }
        secsock_session_info(c, &s->info);
        serve(s, c);
        return NULL;
    }
    struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
    if (poll(&pfd, 1, TESTUTIL_WAIT_MS) != 1)
        return NULL;
    struct sockaddr_storage peer;
    socklen_t peerlen = sizeof peer;
    int fd = accept4(s->lfd, (struct sockaddr *)&peer, &peerlen, SOCK_CLOEXEC);
    if (fd < 0)
        return NULL;
    secsock_conn *c = secsock_conn_from_fd(s->t, fd, (struct sockaddr *)&peer, peerlen);
    if (c == NULL)
        return NULL;
    s->accepted = 1;
    snprintf(s->peer, sizeof s->peer, "%s", secsock_conn_peer(c));
    secsock_conn_set_timeout(c, TESTUTIL_WAIT_MS);
    s->handshake_rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
    if (s->handshake_rc != 0) {
        snprintf(s->error, sizeof s->error, "%s", secsock_conn_error(c));
        secsock_close(c);
        return NULL;
    }
    secsock_session_info(c, &s->info);
    serve(s, c);
    return NULL;
}

/* Listens on 127.0.0.1, any port, and serves one connection in a thread:
 * with secsock_listen and accept4 + secsock_conn_from_fd, or (listener)
 * with secsock_listener_new and secsock_accept. Takes the transport. */
static void server_start_with(struct server *s, secsock_transport *t, enum srv_mode mode,
                              const char *payload, int listener)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->mode = mode;
    s->payload = payload;
    s->lfd = -1;
    s->accept_rc = 1;    /* not run */
    s->handshake_rc = 1; /* not run */
    char bound[64] = "", err[256] = "";
    if (listener) {
        int rc = secsock_listener_new(t, "127.0.0.1", "0", 16, &s->l, err, sizeof err);
        ck_assert_msg(rc == 0, "secsock_listener_new: %d %s", rc, err);
        ck_assert_ptr_nonnull(s->l);
        snprintf(bound, sizeof bound, "%s", secsock_listener_address(s->l));
    } else {
        int rc = secsock_listen(t, "127.0.0.1", "0", 16, &s->lfd, bound, sizeof bound, err,
                                sizeof err);
        ck_assert_msg(rc == 0, "secsock_listen: %s", err);
    }
    const char *colon = strrchr(bound, ':');
    ck_assert_msg(colon != NULL && strncmp(bound, "127.0.0.1:", 10) == 0, "bound '%s'", bound);
    snprintf(s->port, sizeof s->port, "%s", colon + 1);
    ck_assert_int_ne(atoi(s->port), 0);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_start(struct server *s, secsock_transport *t, enum srv_mode mode,
                         const char *payload)
{
    server_start_with(s, t, mode, payload, 0);
}

static void server_join(struct server *s)
{
    pthread_join(s->thread, NULL);
    if (s->lfd >= 0)
        close(s->lfd);
    secsock_listener_free(s->l);
    secsock_transport_free(s->t);
}

/* ---- the client -------------------------------------------------------- */

struct client {
    secsock_transport *t;
    secsock_conn *c;
    int rc;
    char err[512];
};

/* Connects with a new client transport (takes cfg). */
static int client_connect(struct client *cl, const char *backend, secsock_config *cfg,
                          const char *host, const char *port)
{
    memset(cl, 0, sizeof *cl);
    cl->t = testutil_transport(backend, SECSOCK_CLIENT, cfg);
    struct secsock_connect_opts o = {
        .host = host, .port = port, .family = AF_UNSPEC, .timeout_ms = TESTUTIL_WAIT_MS,
    };
    cl->rc = secsock_connect(cl->t, &o, &cl->c, cl->err, sizeof cl->err);
    return cl->rc;
}

static void client_close(struct client *cl)
{
    secsock_close(cl->c);
    secsock_transport_free(cl->t);
}

/* Reads exactly len bytes or fails the test. */
static void read_exact(secsock_conn *c, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = secsock_read(c, (char *)buf + got, len - got);
        ck_assert_msg(n > 0, "read after %zu of %zu bytes: %zd (%s)", got, len, n,
                      secsock_conn_error(c));
        got += (size_t)n;
    }
}

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

static int is_tls(const struct variant *v) { return strcmp(v->backend, "tls") == 0; }

static void start_variant_server(struct server *s, const struct variant *v, enum srv_mode mode,
                                 const char *payload)
{
    server_start_with(s,
                      testutil_transport(v->backend, SECSOCK_SERVER,
                                is_tls(v) ? server_cfg("server") : NULL),
                      mode, payload, v->listener);
}

static void connect_variant(struct client *cl, const struct variant *v, const struct server *s)
{
    int rc = client_connect(cl, v->backend, is_tls(v) ? client_cfg() : NULL, v->host, s->port);
    ck_assert_msg(rc == 0, "%s connect to %s:%s: %d %s", v->backend, v->host, s->port, rc,
                  cl->err);
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
        read_exact(cl.c, got, (size_t)len);
        ck_assert_str_eq(got, msg);
    }
    ck_assert_int_eq(secsock_datagram_truncated(cl.c), 0);
    client_close(&cl);
    server_join(&s);
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
        read_exact(cl.c, in + off, chunk);
    }
    ck_assert_int_eq(memcmp(in, out, total), 0);
    client_close(&cl);
    server_join(&s);
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
    read_exact(cl.c, in, total);
    ck_assert_int_eq(memcmp(in, out, total), 0);
    char extra;
    ssize_t n = secsock_read(cl.c, &extra, 1);
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    client_close(&cl);
    server_join(&s);
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
    read_exact(cl.c, got, 7);
    ck_assert_str_eq(got, "goodbye");
    ssize_t n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 0, "read at the end: %zd (%s)", n, secsock_conn_error(cl.c));
    client_close(&cl);
    server_join(&s);
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
    client_close(&cl);
    server_join(&s);
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
    read_exact(cl.c, got, strlen(payload));
    ck_assert_str_eq(got, payload);
    ssize_t n = secsock_read(cl.c, got, sizeof got);
    if (is_tls(v)) {
        ck_assert_msg(n == SECSOCK_ERR_TRUNCATED, "read: %zd (%s)", n, secsock_conn_error(cl.c));
        ck_assert_ptr_nonnull(strstr(secsock_conn_error(cl.c), "close_notify"));
    } else {
        ck_assert_msg(n == 0, "read: %zd (%s)", n, secsock_conn_error(cl.c));
    }
    client_close(&cl);
    server_join(&s);
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
    server_join(&s); /* the server has closed its socket */
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
    client_close(&cl);
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
    int rc = client_connect(&cl, v->backend, is_tls(v) ? client_cfg() : NULL, v->host, port);
    ck_assert_msg(rc == SECSOCK_ERR_CONNECT, "connect: %d (%s)", rc, cl.err);
    ck_assert_ptr_null(cl.c);
    ck_assert_ptr_nonnull(strstr(cl.err, port));
    client_close(&cl);
    close(fd);
}
END_TEST

START_TEST(unresolvable_name)
{
    const struct variant *v = &variants[_i];
    struct client cl;
    int rc = client_connect(&cl, v->backend, is_tls(v) ? client_cfg() : NULL,
                            "no-such-host.invalid", "443");
    ck_assert_msg(rc == SECSOCK_ERR_RESOLVE, "connect: %d (%s)", rc, cl.err);
    ck_assert_ptr_null(cl.c);
    ck_assert_ptr_nonnull(strstr(cl.err, "no-such-host.invalid"));
    client_close(&cl);
}
END_TEST

/* The server side's handshake is bounded: a client that says nothing. */
START_TEST(server_handshake_times_out)
{
    const struct variant *v = &variants[_i];
    secsock_transport *t = testutil_transport(v->backend, SECSOCK_SERVER,
                                     is_tls(v) ? server_cfg("server") : NULL);
    int lfd = -1;
    secsock_listener *l = NULL;
    char bound[64], err[256] = "";
    if (v->listener) {
        ck_assert_msg(secsock_listener_new(t, "127.0.0.1", "0", 4, &l, err, sizeof err) == 0,
                      "listener: %s", err);
        snprintf(bound, sizeof bound, "%s", secsock_listener_address(l));
    } else {
        ck_assert_msg(secsock_listen(t, "127.0.0.1", "0", 4, &lfd, bound, sizeof bound, err,
                                     sizeof err) == 0, "listen: %s", err);
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons((unsigned short)atoi(strrchr(bound, ':') + 1)) };
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sin, sizeof sin), 0);
    secsock_conn *c = NULL;
    if (v->listener) {
        int rc = secsock_accept(l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
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
    struct secsock_session_info info;
    ck_assert_int_eq(secsock_session_info(cl.c, &info), 0);
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
        cert_pin("server.crt", plain, sizeof plain, colons, sizeof colons);
        ck_assert_str_eq(info.peer_fingerprint, colons);
        ck_assert_int_eq(strncmp(info.peer_fingerprint, "sha256:", 7), 0);
        ck_assert_int_eq(info.verified, 1);
        ck_assert_int_eq(info.verify_code, 0);
        ck_assert_str_eq(info.verify_result, "ok (CA chain)");
        ck_assert_str_ne(info.peer_not_before, "");
        ck_assert_str_ne(info.peer_not_after, "");
        /* SNI: the name for a name, nothing for an address (RFC 6066). */
        int ip = strcmp(v->host, "127.0.0.1") == 0;
        ck_assert_str_eq(info.sni, ip ? "" : v->host);
    }
    char got[2] = "";
    read_exact(cl.c, got, 1);
    client_close(&cl);
    server_join(&s);
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
    client_close(&cl);
    server_join(&s);
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
    client_close(&cl);
    server_join(&s);
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
    read_exact(cl.c, got, 8);
    ck_assert_str_eq(got, "peekaboo");
    n = testutil_peek_wait(cl.c, b, sizeof b - 1, TESTUTIL_WAIT_MS);
    ck_assert_msg(n == 0, "peek at the server's end: %zd (%s)", n, secsock_conn_error(cl.c));
    n = secsock_read(cl.c, got, sizeof got);
    ck_assert_msg(n == 0, "read at the server's end: %zd (%s)", n, secsock_conn_error(cl.c));
    client_close(&cl);
    server_join(&s);
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
    client_close(&cl);
    server_join(&s);
    ck_assert_int_eq(s.end_rc, 0);
}
END_TEST

/* ---- TLS only ---------------------------------------------------------- */

/* One TLS exchange: a server with scfg that sends "hello" and closes, and
 * a client with ccfg connecting to host. */
struct attempt {
    int rc;                           /* secsock_connect */
    char err[512];
    struct secsock_session_info info; /* the client's, when rc == 0 */
    long long read_rc;                /* the client's first read, when rc == 0 */
    char got[16];
    struct server srv;
};

static int attempt(struct attempt *a, secsock_config *scfg, secsock_config *ccfg,
                   const char *host)
{
    memset(a, 0, sizeof *a);
    server_start(&a->srv, testutil_transport("tls", SECSOCK_SERVER, scfg), SRV_SEND_CLOSE, "hello");
    struct client cl;
    a->rc = client_connect(&cl, "tls", ccfg, host, a->srv.port);
    snprintf(a->err, sizeof a->err, "%s", cl.err);
    if (a->rc == 0) {
        secsock_session_info(cl.c, &a->info);
        a->read_rc = secsock_read(cl.c, a->got, sizeof a->got - 1);
        if (a->read_rc < 0)
            snprintf(a->err, sizeof a->err, "%s", secsock_conn_error(cl.c));
    } else if (cl.c != NULL) {
        ck_assert_str_eq(cl.err, secsock_conn_error(cl.c));
    }
    client_close(&cl);
    server_join(&a->srv);
    return a->rc;
}

#define ASSERT_CONNECTED(a)                                                                    \
    do {                                                                                       \
        ck_assert_msg((a).rc == 0, "connect: %d (%s); server: %d (%s)", (a).rc, (a).err,       \
                      (a).srv.handshake_rc, (a).srv.error);                                    \
        ck_assert_msg((a).read_rc == 5 && strcmp((a).got, "hello") == 0, "read: %lld (%s)",    \
                      (a).read_rc, (a).err);                                                   \
    } while (0)

#define ASSERT_REFUSED(a, status, text)                                                        \
    do {                                                                                       \
        ck_assert_msg((a).rc == (status), "connect: %d, want %d (%s)", (a).rc, (status),       \
                      (a).err);                                                                \
        ck_assert_msg(strstr((a).err, (text)) != NULL, "error '%s' lacks '%s'", (a).err,       \
                      (text));                                                                 \
        ck_assert_int_ne((a).srv.handshake_rc, 0);                                             \
    } while (0)

START_TEST(tls12_with_max_12)
{
    struct attempt a;
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_max_version(c, "1.2"));
    attempt(&a, server_cfg("server"), c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.version, "TLSv1.2");
    ck_assert_str_ne(a.info.cipher, "");
    ck_assert_str_ne(a.info.group, "");
    ck_assert_int_eq(a.info.verified, 1);
    ck_assert_str_eq(a.srv.info.version, "TLSv1.2");
}
END_TEST

START_TEST(tls13_by_default_with_rsa_cert)
{
    struct attempt a;
    attempt(&a, server_cfg("rsa-server"), client_cfg(), "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.version, "TLSv1.3");
    ck_assert_int_eq(a.info.verified, 1);
}
END_TEST

START_TEST(fullchain_server_cert)
{
    struct attempt a;
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_cert_file(s, testutil_pki_file("server-fullchain.crt")));
    TESTUTIL_CFG_OK(s, secsock_config_set_key_file(s, testutil_pki_file("server.key")));
    attempt(&a, s, client_cfg(), "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_int_eq(a.info.verified, 1);
}
END_TEST

START_TEST(verify_unknown_ca)
{
    struct attempt a;
    attempt(&a, server_cfg("unknownca"), client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
    ck_assert_msg(strstr(a.err, "unable to get local issuer certificate") != NULL, "%s", a.err);
}
END_TEST

START_TEST(verify_no_cafile_uses_system_store)
{
    /* Without --cafile the system's CAs are used, and they don't know ours. */
    struct attempt a;
    attempt(&a, server_cfg("server"), testutil_cfg_new(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
}
END_TEST

START_TEST(verify_wrong_host)
{
    struct attempt a;
    attempt(&a, server_cfg("wronghost"), client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "hostname mismatch");
    ck_assert_msg(strstr(a.err, "localhost") != NULL, "%s", a.err);
}
END_TEST

START_TEST(verify_wrong_ip)
{
    /* lm3nitro.crt has no IP SAN: an address is checked against IP SANs only. */
    struct attempt a;
    attempt(&a, server_cfg("lm3nitro"), client_cfg(), "127.0.0.1");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
    ck_assert_msg(strstr(a.err, "127.0.0.1") != NULL, "%s", a.err);
}
END_TEST

START_TEST(servername_overrides_host)
{
    /* The seed's lm3nitro.com, reached at 127.0.0.1 (curl --resolve). */
    struct attempt a;
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_servername(c, "lm3nitro.com"));
    attempt(&a, server_cfg("lm3nitro"), c, "127.0.0.1");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.sni, "lm3nitro.com");
    ck_assert_str_eq(a.srv.info.sni, "lm3nitro.com");
    ck_assert_int_eq(a.info.verified, 1);
}
END_TEST

START_TEST(verify_expired)
{
    struct attempt a;
    attempt(&a, server_cfg("expired"), client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "expired");
}
END_TEST

START_TEST(pin_mismatch)
{
    char plain[80], colons[104], other_plain[80], other_colons[104];
    cert_pin("server.crt", plain, sizeof plain, colons, sizeof colons);
    cert_pin("unknownca.crt", other_plain, sizeof other_plain, other_colons,
             sizeof other_colons);
    struct attempt a;
    secsock_config *c = testutil_cfg_new();
    TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, other_plain));
    attempt(&a, server_cfg("server"), c, "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "pin mismatch");
    ck_assert_msg(strstr(a.err, colons) != NULL, "'%s' does not name %s", a.err, colons);
}
END_TEST

START_TEST(pin_match_without_cafile)
{
    char plain[80], colons[104];
    cert_pin("server.crt", plain, sizeof plain, colons, sizeof colons);
    for (int spelling = 0; spelling < 2; spelling++) {
        struct attempt a;
        secsock_config *c = testutil_cfg_new();
        TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, spelling ? colons : plain));
        attempt(&a, server_cfg("server"), c, "localhost");
        ASSERT_CONNECTED(a);
        ck_assert_str_eq(a.info.peer_fingerprint, colons);
        ck_assert_int_eq(a.info.verified, 1);
        ck_assert_str_eq(a.info.verify_result, "ok (pinned)");
    }
}
END_TEST

START_TEST(pin_match_ignores_ca_and_name)
{
    /* A pin trusts exactly that certificate, whoever signed it. */
    char plain[80], colons[104];
    cert_pin("unknownca.crt", plain, sizeof plain, colons, sizeof colons);
    struct attempt a;
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, plain));
    attempt(&a, server_cfg("unknownca"), c, "localhost");
    ASSERT_CONNECTED(a);
}
END_TEST

START_TEST(insecure_accepts_unknown_ca)
{
    struct attempt a;
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_insecure_noverify(c));
    attempt(&a, server_cfg("unknownca"), c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_int_eq(a.info.verified, 0);
    ck_assert_int_eq(a.info.has_peer_cert, 1);
}
END_TEST

START_TEST(insecure_accepts_wrong_host_and_expired)
{
    const char *certs[] = { "wronghost", "expired" };
    for (int i = 0; i < 2; i++) {
        struct attempt a;
        secsock_config *c = client_cfg();
        TESTUTIL_CFG_OK(c, secsock_config_insecure_noverify(c));
        attempt(&a, server_cfg(certs[i]), c, "localhost");
        ASSERT_CONNECTED(a);
        ck_assert_int_eq(a.info.verified, 0);
    }
}
END_TEST

START_TEST(version_mismatch)
{
    struct attempt a;
    secsock_config *s = server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_max_version(s, "1.2"));
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_min_version(c, "1.3"));
    attempt(&a, s, c, "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_HANDSHAKE, "");
    ck_assert_str_ne(a.err, "");
}
END_TEST

START_TEST(alpn_negotiated)
{
    struct attempt a;
    secsock_config *s = server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_alpn(s, "http/1.1"));
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_alpn(c, "h2,http/1.1"));
    attempt(&a, s, c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.alpn, "http/1.1");
    ck_assert_str_eq(a.srv.info.alpn, "http/1.1");
}
END_TEST

START_TEST(alpn_absent_when_not_asked)
{
    struct attempt a;
    secsock_config *s = server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_alpn(s, "http/1.1"));
    attempt(&a, s, client_cfg(), "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_str_eq(a.info.alpn, "");
}
END_TEST

static secsock_config *mtls_server_cfg(void)
{
    secsock_config *s = server_cfg("server");
    TESTUTIL_CFG_OK(s, secsock_config_set_cafile(s, testutil_pki_file("ca.crt")));
    TESTUTIL_CFG_OK(s, secsock_config_verify_client(s, 1));
    return s;
}

START_TEST(mutual_tls)
{
    struct attempt a;
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_cert_file(c, testutil_pki_file("client.crt")));
    TESTUTIL_CFG_OK(c, secsock_config_set_key_file(c, testutil_pki_file("client.key")));
    attempt(&a, mtls_server_cfg(), c, "localhost");
    ASSERT_CONNECTED(a);
    ck_assert_int_eq(a.srv.info.has_peer_cert, 1);
    ck_assert_msg(strstr(a.srv.info.peer_subject, "secsock client") != NULL, "subject '%s'",
                  a.srv.info.peer_subject);
    ck_assert_int_eq(a.srv.info.verified, 1);
}
END_TEST

START_TEST(mutual_tls_without_client_cert)
{
    /* TLS 1.3 finishes the client's handshake before the server has judged
     * the client's certificate: the refusal may arrive on the first read.
     * Either way the client gets no data, and the server's handshake fails. */
    for (int tls12 = 0; tls12 < 2; tls12++) {
        struct attempt a;
        secsock_config *c = client_cfg();
        if (tls12)
            TESTUTIL_CFG_OK(c, secsock_config_set_max_version(c, "1.2"));
        attempt(&a, mtls_server_cfg(), c, "localhost");
        ck_assert_msg(a.srv.handshake_rc != 0, "the server accepted a client without a cert");
        ck_assert_str_ne(a.srv.error, "");
        if (tls12)
            ck_assert_msg(a.rc == SECSOCK_ERR_HANDSHAKE, "TLS 1.2 connect: %d (%s)", a.rc,
                          a.err);
        else
            ck_assert_msg(a.rc != 0 || (a.read_rc < 0 && a.read_rc != SECSOCK_ERR_TIMEOUT),
                          "connect %d, read %lld (%s)", a.rc, a.read_rc, a.err);
    }
}
END_TEST

START_TEST(keylog_file)
{
    char dir[] = "/tmp/secsock-keylog-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/keys.log", dir);
    struct attempt a;
    secsock_config *c = client_cfg();
    TESTUTIL_CFG_OK(c, secsock_config_set_keylog_file(c, path));
    attempt(&a, server_cfg("server"), c, "localhost");
    ASSERT_CONNECTED(a);

    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    int lines = 0, traffic = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lines++;
        /* NSS format: LABEL <64 hex client random> <hex secret> */
        char label[64], random[80], secret[200];
        ck_assert_msg(sscanf(line, "%63s %79s %199s", label, random, secret) == 3, "line '%s'",
                      line);
        ck_assert_uint_eq(strlen(random), 64);
        traffic += strcmp(label, "CLIENT_TRAFFIC_SECRET_0") == 0;
    }
    fclose(f);
    ck_assert_int_ge(lines, 4);
    ck_assert_int_eq(traffic, 1);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(self_signed_server_and_pin)
{
    secsock_config *s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    secsock_transport *t = testutil_transport("tls", SECSOCK_SERVER, s);
    const char *fp = secsock_transport_fingerprint(t);
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(strncmp(fp, "sha256:", 7), 0);
    ck_assert_uint_eq(strlen(fp), 7 + 32 * 3 - 1);
    char pin[104];
    snprintf(pin, sizeof pin, "%s", fp);
    secsock_transport_free(t);

    /* A second transport makes a fresh certificate; pin that one. */
    s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    struct server srv;
    server_start(&srv, testutil_transport("tls", SECSOCK_SERVER, s), SRV_SEND_CLOSE, "hello");
    snprintf(pin, sizeof pin, "%s", secsock_transport_fingerprint(srv.t));
    struct client cl;
    secsock_config *c = testutil_cfg_new();
    TESTUTIL_CFG_OK(c, secsock_config_set_pin(c, pin));
    int rc = client_connect(&cl, "tls", c, "localhost", srv.port);
    ck_assert_msg(rc == 0, "connect with the pin: %d (%s)", rc, cl.err);
    struct secsock_session_info info;
    secsock_session_info(cl.c, &info);
    ck_assert_str_eq(info.peer_fingerprint, pin);
    char got[8] = "";
    read_exact(cl.c, got, 5);
    ck_assert_str_eq(got, "hello");
    client_close(&cl);
    server_join(&srv);

    /* Without the pin, a self-signed certificate is refused. */
    s = testutil_cfg_new();
    TESTUTIL_CFG_OK(s, secsock_config_set_self_signed(s, 1));
    struct attempt a;
    attempt(&a, s, client_cfg(), "localhost");
    ASSERT_REFUSED(a, SECSOCK_ERR_VERIFY, "certificate verify failed");
}
END_TEST

START_TEST(fingerprint_only_for_self_signed)
{
    secsock_transport *t = testutil_transport("tls", SECSOCK_SERVER, server_cfg("server"));
    ck_assert_ptr_null(secsock_transport_fingerprint(t));
    secsock_transport_free(t);
    t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    ck_assert_ptr_null(secsock_transport_fingerprint(t));
    secsock_transport_free(t);
}
END_TEST

START_TEST(plaintext_to_tls_port)
{
    secsock_transport *t = testutil_transport("tls", SECSOCK_SERVER, server_cfg("server"));
    int lfd = -1;
    char bound[64], err[256] = "";
    ck_assert_msg(secsock_listen(t, "127.0.0.1", "0", 4, &lfd, bound, sizeof bound, err,
                                 sizeof err) == 0, "listen: %s", err);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                               .sin_port = htons((unsigned short)atoi(strrchr(bound, ':') + 1)) };
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sin, sizeof sin), 0);
    const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ck_assert_int_eq(send(cfd, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    secsock_conn *c = secsock_conn_from_fd(t, fd, NULL, 0);
    ck_assert_ptr_nonnull(c);
    int rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == SECSOCK_ERR_HANDSHAKE, "handshake: %d (%s)", rc, secsock_conn_error(c));
    ck_assert_str_ne(secsock_conn_error(c), "");
    secsock_close(c);
    close(cfd);
    close(lfd);
    secsock_transport_free(t);
}
END_TEST

static Suite *transport_suite(void)
{
    Suite *s = suite_create("transport");
    TCase *every = tcase_create("every_backend");
    TCase *tls = tcase_create("tls");

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

    tcase_set_timeout(tls, 30);
    tcase_add_test(tls, tls12_with_max_12);
    tcase_add_test(tls, tls13_by_default_with_rsa_cert);
    tcase_add_test(tls, fullchain_server_cert);
    tcase_add_test(tls, verify_unknown_ca);
    tcase_add_test(tls, verify_no_cafile_uses_system_store);
    tcase_add_test(tls, verify_wrong_host);
    tcase_add_test(tls, verify_wrong_ip);
    tcase_add_test(tls, servername_overrides_host);
    tcase_add_test(tls, verify_expired);
    tcase_add_test(tls, pin_mismatch);
    tcase_add_test(tls, pin_match_without_cafile);
    tcase_add_test(tls, pin_match_ignores_ca_and_name);
    tcase_add_test(tls, insecure_accepts_unknown_ca);
    tcase_add_test(tls, insecure_accepts_wrong_host_and_expired);
    tcase_add_test(tls, version_mismatch);
    tcase_add_test(tls, alpn_negotiated);
    tcase_add_test(tls, alpn_absent_when_not_asked);
    tcase_add_test(tls, mutual_tls);
    tcase_add_test(tls, mutual_tls_without_client_cert);
    tcase_add_test(tls, keylog_file);
    tcase_add_test(tls, self_signed_server_and_pin);
    tcase_add_test(tls, fingerprint_only_for_self_signed);
    tcase_add_test(tls, plaintext_to_tls_port);
    suite_add_tcase(s, tls);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* before the forks, so every test shares one PKI */
    return testutil_run(transport_suite());
}
