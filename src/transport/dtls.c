/*
 * The DTLS 1.2 backend: an OpenSSL connection over a connected UDP socket,
 * with the handshake's retransmission timer driven by transport.c's waits.
 *
 * A server listens with DTLSv1_listen (see its man page): a ClientHello
 * without a valid cookie gets a HelloVerifyRequest and costs no state; one
 * with a valid cookie gets a socket of its own, bound to the listening
 * address and connected to the peer (the kernel then routes that peer's
 * datagrams to it), and a connection. Cookies are an HMAC-SHA256 of the
 * peer's address and port under a random secret that is rotated.
 *
 * What the BIO and message callbacks see of each datagram (tracing, the
 * kept ClientHello, a plaintext answer to a client) is in dtls_wire.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "net/net.h"
#include "transport/dtls_wire.h"
#include "transport/ossl_conn.h"
#include "transport/tracing.h"

#define DTLS_DEFAULT_MTU 1280 /* IPv6's minimum: every path carries it */
#define COOKIE_ROTATE_MS 60000

static void set_mtu(SSL *ssl, const secsock_transport *t)
{
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU); /* loopback would say 64 KiB */
    DTLS_set_link_mtu(ssl, t->mtu);
}

/* HMAC-SHA256(secret, family | address | port). */
static int cookie_for(SSL *ssl, const unsigned char *secret, unsigned char *out, size_t *outlen)
{
    unsigned char msg[1 + 16 + 2];
    size_t addrlen = 0;
    BIO_ADDR *peer = BIO_ADDR_new();
    int ok = peer != NULL && BIO_dgram_get_peer(SSL_get_rbio(ssl), peer) > 0 &&
             BIO_ADDR_rawaddress(peer, msg + 1, &addrlen) && addrlen <= 16;
    if (ok) {
        msg[0] = (unsigned char)BIO_ADDR_family(peer);
        unsigned short port = BIO_ADDR_rawport(peer);
        memcpy(msg + 1 + addrlen, &port, 2);
        ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, 32, msg, 1 + addrlen + 2, out,
                       32, outlen) != NULL;
    }
    BIO_ADDR_free(peer);
    return ok;
}

static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len)
{
    struct dtls_listen_state *st = SSL_get_app_data(ssl);
    long long now = net_now_ms();
    if (now - st->rotated_ms > COOKIE_ROTATE_MS) {
        /* The previous secret stays valid for one more period, so a client
         * that got a cookie just before the rotation still gets in. */
        memcpy(st->secret[1], st->secret[0], 32);
        if (RAND_bytes(st->secret[0], 32) != 1)
            return 0;
        st->rotated_ms = now;
    }
    size_t len = 0;
    if (!cookie_for(ssl, st->secret[0], cookie, &len))
        return 0;
    *cookie_len = (unsigned int)len;
    return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len)
{
    struct dtls_listen_state *st = SSL_get_app_data(ssl);
    unsigned char want[32];
    size_t len = 0;
    for (int i = 0; i < 2; i++)
        if (cookie_for(ssl, st->secret[i], want, &len) && cookie_len == len &&
            CRYPTO_memcmp(cookie, want, len) == 0)
            return 1;
    return 0;
}

static int dtls_transport_init(secsock_transport *t, const secsock_config *cfg, char *err,
                               size_t errlen)
{
    if (ossl_transport_init(t, cfg, DTLS_method(), err, errlen) != 0)
        return -1;
    struct security_transport_params p;
    security_transport_params(cfg, &p);
    t->mtu = p.mtu ? p.mtu : DTLS_DEFAULT_MTU;
    if (t->role == SECSOCK_SERVER) {
        SSL_CTX_set_cookie_generate_cb(t->ssl_ctx, cookie_generate);
        SSL_CTX_set_cookie_verify_cb(t->ssl_ctx, cookie_verify);
    }
    return 0;
}

/* A client: the socket is connected already. */
static secsock_conn *dtls_conn_new(const secsock_transport *t, int fd, const char *verify_name)
{
    struct ossl_conn *tc = ossl_conn_new(&secsock_backend_dtls, t, fd, verify_name, NULL);
    if (tc == NULL)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    BIO *bio = BIO_new_dgram(fd, BIO_NOCLOSE);
    BIO_ADDR *peer = BIO_ADDR_new();
    int ok = bio != NULL && peer != NULL && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
    /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): ss is set when ok */
    if (ok && ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        ok = BIO_ADDR_rawmake(peer, AF_INET, &sin->sin_addr, sizeof sin->sin_addr, sin->sin_port);
    } else if (ok) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
        ok = BIO_ADDR_rawmake(peer, AF_INET6, &sin6->sin6_addr, sizeof sin6->sin6_addr,
                              sin6->sin6_port);
    }
    if (ok)
        BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
    BIO_ADDR_free(peer);
    if (!ok) {
        BIO_free(bio);
        ossl_conn_free(&tc->base);
        return NULL;
    }
    SSL_set_bio(tc->ssl, bio, bio);
    set_mtu(tc->ssl, t);
    dtls_conn_bio_callback(bio, tc);
    return &tc->base;
}

/* Whether b holds only text: printable ASCII, tabs and line ends. */
static int all_text(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(b[i] == '\r' || b[i] == '\n' || b[i] == '\t' || (b[i] >= 0x20 && b[i] < 0x7f)))
            return 0;
    return 1;
}

#define NOT_DTLS_SHOWN 24 /* bytes of a binary answer quoted */
_Static_assert(NOT_DTLS_SHOWN <= sizeof(((struct dtls_answer *)0)->head),
               "the bytes quoted are bytes kept");

/* A datagram that is not DTLS answered our ClientHello: a plaintext server
 * (an echo, a text protocol) or something else on the port. Quoted,
 * escaped: its bytes are the peer's. */
static int not_dtls_failure(struct ossl_conn *tc)
{
    const unsigned char *head = tc->answer.head;
    size_t len = tc->answer.not_dtls_len;
    size_t kept = len < sizeof tc->answer.head ? len : sizeof tc->answer.head;
    tc->fatal = 1;
    if (all_text(head, kept))
        return ossl_plaintext_failure(&tc->base, head, kept, kept == len);
    char shown[NOT_DTLS_SHOWN * 4 + 1] = "";
    size_t n = 0;
    const unsigned char *end = head + (len < NOT_DTLS_SHOWN ? len : NOT_DTLS_SHOWN);
    for (const unsigned char *b = head; b < end; b++) {
        int plain = *b >= 0x20 && *b < 0x7f && *b != '\\';
        n += (size_t)snprintf(shown + n, sizeof shown - n, plain ? "%c" : "\\x%02x", *b);
    }
    tc->base.plaintext_peer = 1;
    return conn_fail(&tc->base, SECSOCK_ERR_HANDSHAKE,
                     "the peer answered with a %zu-byte datagram that is not DTLS (\"%s%s\")", len,
                     shown, len > NOT_DTLS_SHOWN ? "..." : "");
}

static int dtls_handshake(secsock_conn *c)
{
    struct ossl_conn *tc = (struct ossl_conn *)c;
    int rc = ossl_handshake(c);
    if (rc == SECSOCK_WANT_READ && tc->answer.not_dtls_len > 0)
        return not_dtls_failure(tc);
    if (rc == 0) /* the answers need no more looking at */
        dtls_conn_bio_callback(SSL_get_rbio(tc->ssl), tc);
    return rc;
}

static int dtls_timer_ms(secsock_conn *c)
{
    struct timeval tv;
    if (!DTLSv1_get_timeout(((struct ossl_conn *)c)->ssl, &tv))
        return -1;
    return (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

static int dtls_timer_fire(secsock_conn *c)
{
    ERR_clear_error();
    if (DTLSv1_handle_timeout(((struct ossl_conn *)c)->ssl) < 0) {
        ERR_clear_error();
        return conn_fail(c, SECSOCK_ERR_HANDSHAKE, "DTLS handshake: retransmission failed");
    }
    return 0; /* a flight was resent (or nothing was due): carry on */
}

static size_t dtls_max_message(const secsock_conn *c)
{
    return DTLS_get_data_mtu(((const struct ossl_conn *)c)->ssl);
}

static ssize_t dtls_write(secsock_conn *c, const void *buf, size_t len)
{
    size_t max = dtls_max_message(c);
    if (max > 0 && len > max)
        return conn_fail(c, SECSOCK_ERR_TOO_BIG,
                         "a message of %zu bytes does not fit in one DTLS record at MTU %d "
                         "(at most %zu)",
                         len, c->transport->mtu, max);
    return ossl_write(c, buf, len);
}

static ssize_t dtls_read(secsock_conn *c, void *buf, size_t len)
{
    ssize_t n = ossl_read(c, buf, len);
    SSL *ssl = ((struct ossl_conn *)c)->ssl;
    c->datagram_truncated = n > 0 && SSL_pending(ssl) > 0;
    if (c->datagram_truncated) {
        /* One read is one datagram: the rest of this record is dropped. */
        unsigned char scrap[1024];
        size_t got;
        while (SSL_pending(ssl) > 0 && SSL_read_ex(ssl, scrap, sizeof scrap, &got) == 1)
            ;
    }
    return n;
}

static SSL *listen_ssl_new(secsock_listener *l, struct dtls_listen_state *st)
{
    SSL *ssl = SSL_new(l->t->ssl_ctx);
    BIO *bio = BIO_new_dgram(l->fd, BIO_NOCLOSE);
    if (ssl == NULL || bio == NULL) {
        SSL_free(ssl);
        BIO_free(bio);
        return NULL;
    }
    SSL_set_bio(ssl, bio, bio);
    SSL_set_options(ssl, SSL_OP_COOKIE_EXCHANGE);
    set_mtu(ssl, l->t);
    SSL_set_app_data(ssl, st);
    if (tracing(l->t, SECSOCK_TRACE_MESSAGE)) {
        SSL_set_msg_callback(ssl, dtls_listen_msg);
        SSL_set_msg_callback_arg(ssl, l);
    }
    if (st->seen != NULL || tracing(l->t, SECSOCK_TRACE_WIRE)) {
        BIO_set_callback_arg(bio, (char *)st);
        BIO_set_callback_ex(bio, dtls_listen_wire);
    }
    return ssl;
}

static int dtls_listener_init(secsock_listener *l, char *err, size_t errlen)
{
    /* The port was bound without SO_REUSEADDR, so a port another server
     * holds was refused; set now so that each peer's own socket may bind
     * it too (peer_socket). Only here: on a plain UDP socket it would let
     * any local user bind the same port and take its datagrams. */
    int one = 1;
    if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        snprintf(err, errlen, "cannot set up the DTLS listener: %s", strerror(errno));
        return -1;
    }
    struct dtls_listen_state *st = calloc(1, sizeof *st);
    if (st != NULL && l->t->keep_hello && (st->seen = malloc(DATAGRAM_SEEN_MAX)) == NULL) {
        free(st);
        st = NULL;
    }
    if (st != NULL)
        st->listener = l;
    if (st == NULL || RAND_bytes(st->secret[0], 32) != 1 ||
        (st->ssl = listen_ssl_new(l, st)) == NULL) {
        if (st != NULL)
            free(st->seen);
        free(st);
        snprintf(err, errlen, "cannot set up the DTLS listener");
        return -1;
    }
    memcpy(st->secret[1], st->secret[0], 32);
    st->rotated_ms = net_now_ms();
    l->state = st;
    return 0;
}

static void dtls_listener_free(secsock_listener *l)
{
    struct dtls_listen_state *st = l->state;
    if (st == NULL)
        return;
    SSL_free(st->ssl);
    OPENSSL_cleanse(st->secret, sizeof st->secret);
    free(st->seen);
    free(st);
}

/* A socket for one peer: same local address as the listener, connected. */
static int peer_socket(const secsock_listener *l, const struct sockaddr *peer, socklen_t len)
{
    int fd = socket(l->local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)&l->local, l->local_len) < 0 ||
        connect(fd, peer, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static unsigned junk_slot(const struct sockaddr_storage *ss, socklen_t len)
{
    unsigned h = 2166136261u; /* FNV-1a over the address and port */
    const unsigned char *p = (const unsigned char *)ss;
    for (socklen_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h % JUNK_PEERS;
}

/* Whether junk from peer is to be reported now (see JUNK_LINES). */
static int junk_report_due(struct dtls_listen_state *st, const struct sockaddr_storage *peer,
                           socklen_t len)
{
    long long now = net_now_ms();
    struct junk_seen *j = &st->junk[junk_slot(peer, len)];
    if (memcmp(&j->peer, peer, len) == 0 && now - j->last_ms < 60000)
        return 0;
    if (now - st->junk_minute_ms >= 60000) {
        st->junk_minute_ms = now;
        st->junk_lines = 0;
    }
    if (st->junk_lines >= JUNK_LINES)
        return 0;
    st->junk_lines++;
    memset(&j->peer, 0, sizeof j->peer);
    memcpy(&j->peer, peer, len);
    j->last_ms = now;
    return 1;
}

/* A datagram that is not DTLS at all is taken off the socket here (the
 * cookie exchange would drop it without a word): SECSOCK_ERR_PROTOCOL with
 * err when it is to be reported, SECSOCK_WANT_READ otherwise, 0 when the
 * next datagram may be DTLS. */
static int drop_junk(secsock_listener *l, struct dtls_listen_state *st, char *err, size_t errlen)
{
    unsigned char head[16];
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    memset(&peer, 0, sizeof peer);
    ssize_t n = recvfrom(l->fd, head, sizeof head, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT,
                         (struct sockaddr *)&peer, &plen);
    if (n < 0 || dtls_looks_like_dtls(head, n))
        return 0;
    (void)recv(l->fd, head, 1, MSG_DONTWAIT); /* the whole datagram goes */
    if (!junk_report_due(st, &peer, plen))
        return SECSOCK_WANT_READ;
    char who[64];
    net_format_addr((struct sockaddr *)&peer, plen, who, sizeof who);
    snprintf(err, errlen,
             "%s: a %zd-byte datagram that is not DTLS (a plaintext client?); "
             "more from it are dropped silently for a minute",
             who, n);
    return SECSOCK_ERR_PROTOCOL;
}

static int dtls_accept(secsock_listener *l, secsock_conn **out, char *err, size_t errlen)
{
    struct dtls_listen_state *st = l->state;
    if (st->ssl == NULL && (st->ssl = listen_ssl_new(l, st)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    BIO_ADDR *peer = BIO_ADDR_new();
    if (peer == NULL) {
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    int junk = drop_junk(l, st, err, errlen);
    if (junk != 0) {
        BIO_ADDR_free(peer);
        return junk;
    }
    ERR_clear_error();
    int rc = DTLSv1_listen(st->ssl, peer);
    if (rc <= 0) {
        BIO_ADDR_free(peer);
        if (rc == 0)
            return SECSOCK_WANT_READ; /* nothing, or answered with a HelloVerifyRequest */
        char why[160];
        snprintf(err, errlen, "DTLS listen: %s", security_ssl_error_text(why, sizeof why));
        SSL_free(st->ssl); /* the listening SSL may be spent: start afresh */
        st->ssl = NULL;
        return SECSOCK_ERR_PROTOCOL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = dtls_peer_sockaddr(peer, &ss);
    int fd = peer_socket(l, (struct sockaddr *)&ss, sl);
    SSL *ssl = st->ssl;
    st->ssl = NULL; /* the next accept makes a fresh one */
    if (fd < 0) {
        snprintf(err, errlen, "cannot make a socket for a DTLS peer: %s", strerror(errno));
        SSL_free(ssl);
        BIO_ADDR_free(peer);
        return SECSOCK_ERR_IO;
    }
    BIO *bio = SSL_get_rbio(ssl);
    BIO_set_callback_ex(bio, NULL); /* the listener's callback: dtls_conn_bio_callback's below */
    BIO_set_fd(bio, fd, BIO_NOCLOSE);
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
    BIO_ADDR_free(peer);
    /* The cookie is verified: the handshake goes on without it, and the
     * listener's secrets stay with the listener's thread. */
    SSL_clear_options(ssl, SSL_OP_COOKIE_EXCHANGE);
    struct ossl_conn *tc = ossl_conn_new(&secsock_backend_dtls, l->t, fd, NULL, ssl);
    if (tc == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    tc->report.hello_verify = 1; /* DTLSv1_listen let in only a verified cookie */
    tc->hello_replayed = 1;      /* the listener showed the ClientHello it reads again */
    if (st->seen != NULL)
        hello_capture_set(&tc->base.hello, st->seen, st->seen_len);
    dtls_conn_bio_callback(bio, tc);
    memcpy(&tc->base.peer, &ss, sl);
    tc->base.peer_len = sl;
    net_format_addr((struct sockaddr *)&ss, sl, tc->base.peer_text, sizeof tc->base.peer_text);
    *out = &tc->base;
    return 0;
}

const struct secsock_backend secsock_backend_dtls = {
    .name = "dtls",
    .secure = 1,
    .socktype = SOCK_DGRAM,
    .protocol = "DTLS",
    /* A DTLS 1.2 record header, and AES-GCM's explicit nonce and tag. */
    .record_overhead = 13 + 24,
    /* No linger: a datagram peer has no stream to reset. */
    .transport_init = dtls_transport_init,
    .transport_free = ossl_transport_free,
    .conn_new = dtls_conn_new,
    .handshake = dtls_handshake,
    .read = dtls_read,
    .peek = ossl_peek,
    .write = dtls_write,
    .shutdown_write = ossl_shutdown_write,
    .conn_free = ossl_conn_free,
    .pending = ossl_pending,
    .session_facts = ossl_session_facts,
    .peer_cert = ossl_peer_cert,
    .max_message = dtls_max_message,
    .timer_ms = dtls_timer_ms,
    .timer_fire = dtls_timer_fire,
    .listener_init = dtls_listener_init,
    .listener_free = dtls_listener_free,
    .accept = dtls_accept,
};
