/* The datagram suites' self-talk (datagram_talk.h). */
#include "datagram_talk.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

int dg_is_secure(const char *backend)
{
    return strcmp(backend, "dtls") == 0 || strcmp(backend, "tls") == 0;
}

/* The default configurations for a backend: NULL for plaintext. */
secsock_transport *dg_server_transport(const char *backend, const char *cert, int mtu)
{
    return testutil_transport(backend, SECSOCK_SERVER,
                              dg_is_secure(backend) ? testutil_server_cfg(cert, mtu) : NULL);
}

/* "127.0.0.1:PORT" of a socket's local end. */
void dg_local_address(int fd, char *out, size_t outlen)
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
void dg_free_port(int socktype, char *port, size_t portlen)
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

void dg_port_of(const char *address, char *port, size_t portlen)
{
    const char *colon = strrchr(address, ':');
    ck_assert_msg(colon != NULL && strncmp(address, "127.0.0.1:", 10) == 0, "bound '%s'", address);
    snprintf(port, portlen, "%s", colon + 1);
    ck_assert_int_ne(atoi(port), 0);
}

/* ---- the echo server thread ------------------------------------------- */

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
            snprintf(s->write_error, sizeof s->write_error, "%d %s", rc, secsock_conn_error(c));
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
        int rc = testutil_accept(s->l, TESTUTIL_WAIT_MS, &c, err, sizeof err);
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
            testutil_session(c, &s->info);
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
void dserver_start_opts(struct dserver *s, secsock_transport *t, size_t read_cap, int peek)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->read_cap = read_cap;
    s->peek = peek;
    s->handshake_rc = 1;
    ck_assert_int_eq(pipe(s->stop), 0);
    char err[256] = "";
    int rc = testutil_listener_new(t, "127.0.0.1", "0", 16, &s->l, err, sizeof err);
    ck_assert_msg(rc == 0, "testutil_listener_new(%s): %d %s", secsock_transport_name(t), rc, err);
    ck_assert_ptr_nonnull(s->l);
    dg_port_of(secsock_listener_address(s->l), s->port, sizeof s->port);
    secsock_listener_set_cancel_fd(s->l, s->stop[0]);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, dserver_main, s), 0);
}

void dserver_start_cap(struct dserver *s, secsock_transport *t, size_t read_cap)
{
    dserver_start_opts(s, t, read_cap, 0);
}

void dserver_start(struct dserver *s, secsock_transport *t)
{
    dserver_start_cap(s, t, 70000); /* more than any datagram */
}

/* Lets the server finish the connections it has (a close_notify on its way
 * would otherwise race the stop: a wait ends with CANCELLED when both are
 * ready), then stops it. */
void dserver_stop(struct dserver *s)
{
    for (int i = 0;
         i < TESTUTIL_WAIT_MS / 10 && atomic_load(&s->ended_now) < atomic_load(&s->accepted_now);
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

/* Connects with a new client transport (takes cfg). */
int dclient_connect_to(struct dclient *cl, const char *backend, secsock_config *cfg,
                       const char *host, const char *port, int timeout_ms)
{
    memset(cl, 0, sizeof *cl);
    cl->t = testutil_transport(backend, SECSOCK_CLIENT, cfg);
    struct secsock_connect_opts o = {
        .host = host,
        .port = port,
        .family = AF_UNSPEC,
        .timeout_ms = timeout_ms,
    };
    cl->rc = testutil_connect(cl->t, &o, &cl->c, cl->err, sizeof cl->err);
    return cl->rc;
}

void dclient_close(struct dclient *cl)
{
    secsock_close(cl->c);
    secsock_transport_free(cl->t);
}

const struct variant dvariants[] = {
    { "udp", "127.0.0.1" },
    { "dtls", "localhost" },
};
_Static_assert(sizeof dvariants / sizeof dvariants[0] == N_DVARIANTS,
               "N_DVARIANTS in datagram_talk.h must be the table's length");

int dg_is_dtls(const struct variant *v)
{
    return strcmp(v->backend, "dtls") == 0;
}

void dg_start_echo(struct dserver *s, const struct variant *v)
{
    dserver_start(s, dg_server_transport(v->backend, "server", 0));
}

void dg_connect_echo(struct dclient *cl, const struct variant *v, const struct dserver *s)
{
    int rc = dclient_connect_to(cl, v->backend, dg_is_dtls(v) ? testutil_client_cfg(0) : NULL,
                                v->host, s->port, TESTUTIL_WAIT_MS);
    ck_assert_msg(rc == 0, "%s connect to %s:%s: %d %s", v->backend, v->host, s->port, rc, cl->err);
    ck_assert_ptr_nonnull(cl->c);
    secsock_conn_set_timeout(cl->c, TESTUTIL_WAIT_MS);
}

/* Sends one datagram and reads one, which must be the same bytes. */
void dg_echo_once(secsock_conn *c, const void *msg, size_t len)
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

void dg_assert_clean_ends(const struct dserver *s, int conns)
{
    ck_assert_msg(s->accept_errors == 0, "server: %s", s->error);
    ck_assert_msg(s->handshake_failures == 0, "server: %s", s->error);
    ck_assert_msg(s->write_errors == 0, "server write: %s", s->write_error);
    ck_assert_int_eq(s->accept_end, SECSOCK_ERR_CANCELLED);
    ck_assert_int_eq(s->conns, conns);
    ck_assert_int_eq(s->nend, conns);
    for (int i = 0; i < s->nend; i++)
        ck_assert_msg(s->end_rc[i] == 0, "connection %d ended with %lld, not 0", i, s->end_rc[i]);
}
