/* The transport suites' self-talk (self_talk.h). */
#include "self_talk.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "transport/testing.h"

secsock_config *talk_server_cfg(const char *name)
{
    return testutil_server_cfg(name, 0);
}
secsock_config *talk_client_cfg(void)
{
    return testutil_client_cfg(0);
}

void talk_cert_pin(const char *name, char *plain, size_t plainlen, char *colons, size_t colonslen)
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
    case SRV_SEND_CLOSE: (void)secsock_write_all(c, s->payload, strlen(s->payload)); break;
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
    case SRV_CLOSE: break;
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
    s->accept_rc = testutil_accept(s->l, TESTUTIL_WAIT_MS, &c, s->error, sizeof s->error);
    if (s->accept_rc != 0)
        return NULL;
    return c;
}

/* An accepted connection, either way: the handshake, then serve(). */
static void *handshake_and_serve(struct server *s, secsock_conn *c)
{
    s->accepted = 1;
    snprintf(s->peer, sizeof s->peer, "%s", secsock_conn_peer(c));
    secsock_conn_set_timeout(c, TESTUTIL_WAIT_MS);
    s->handshake_rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
    if (s->handshake_rc != 0) {
        snprintf(s->error, sizeof s->error, "%s", secsock_conn_error(c));
        secsock_close(c);
        return NULL;
    }
    testutil_session(c, &s->info);
    serve(s, c);
    return NULL;
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    if (s->l != NULL) {
        secsock_conn *c = server_accept_listener(s);
        if (c == NULL)
            return NULL;
        return handshake_and_serve(s, c);
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
    return handshake_and_serve(s, c);
}

/* Listens on 127.0.0.1, any port, and serves one connection in a thread:
 * with secsock_listen and accept4 + secsock_conn_from_fd, or (listener)
 * with secsock_listener_new and secsock_accept. Takes the transport. */
void talk_server_start_with(struct server *s, secsock_transport *t, enum srv_mode mode,
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
        int rc = testutil_listener_new(t, "127.0.0.1", "0", 16, &s->l, err, sizeof err);
        ck_assert_msg(rc == 0, "secsock_listener_new: %d %s", rc, err);
        ck_assert_ptr_nonnull(s->l);
        snprintf(bound, sizeof bound, "%s", secsock_listener_address(s->l));
    } else {
        int rc =
            secsock_listen(t, "127.0.0.1", "0", 16, &s->lfd, bound, sizeof bound, err, sizeof err);
        ck_assert_msg(rc == 0, "secsock_listen: %s", err);
    }
    const char *colon = strrchr(bound, ':');
    ck_assert_msg(colon != NULL && strncmp(bound, "127.0.0.1:", 10) == 0, "bound '%s'", bound);
    snprintf(s->port, sizeof s->port, "%s", colon + 1);
    ck_assert_int_ne(atoi(s->port), 0);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

void talk_server_start(struct server *s, secsock_transport *t, enum srv_mode mode,
                       const char *payload)
{
    talk_server_start_with(s, t, mode, payload, 0);
}

void talk_server_join(struct server *s)
{
    pthread_join(s->thread, NULL);
    if (s->lfd >= 0)
        close(s->lfd);
    secsock_listener_free(s->l);
    secsock_transport_free(s->t);
}

/* Connects with a new client transport (takes cfg). */
int talk_client_connect(struct client *cl, const char *backend, secsock_config *cfg,
                        const char *host, const char *port)
{
    memset(cl, 0, sizeof *cl);
    cl->t = testutil_transport(backend, SECSOCK_CLIENT, cfg);
    struct secsock_connect_opts o = {
        .host = host,
        .port = port,
        .family = AF_UNSPEC,
        .timeout_ms = TESTUTIL_WAIT_MS,
    };
    cl->rc = testutil_connect(cl->t, &o, &cl->c, cl->err, sizeof cl->err);
    return cl->rc;
}

void talk_client_close(struct client *cl)
{
    secsock_close(cl->c);
    secsock_transport_free(cl->t);
}

/* Reads exactly len bytes or fails the test. */
void talk_read_exact(secsock_conn *c, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = secsock_read(c, (char *)buf + got, len - got);
        ck_assert_msg(n > 0, "read after %zu of %zu bytes: %zd (%s)", got, len, n,
                      secsock_conn_error(c));
        got += (size_t)n;
    }
}
