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
#include "transport/ossl_conn.h"

#define DTLS_DEFAULT_MTU 1280     /* IPv6's minimum: every path carries it */
#define COOKIE_ROTATE_MS 60000

struct dtls_listen_state {
    SSL *ssl;                     /* waiting in DTLSv1_listen */
    unsigned char secret[2][32];  /* current and previous cookie secrets */
    long long rotated_ms;
    unsigned char *seen;          /* keep_hello: the last datagram DTLSv1_listen read */
    size_t seen_len;
};

#define DATAGRAM_SEEN_MAX (DTLS1_RT_HEADER_LENGTH + SSL3_RT_MAX_PLAIN_LENGTH)

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
        ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, 32, msg, 1 + addrlen + 2,
                       out, 32, outlen) != NULL;
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
    t->mtu = cfg->mtu ? cfg->mtu : DTLS_DEFAULT_MTU;
    if (t->role == SECSOCK_SERVER) {
        SSL_CTX_set_cookie_generate_cb(t->ssl_ctx, cookie_generate);
        SSL_CTX_set_cookie_verify_cb(t->ssl_ctx, cookie_verify);
    }
    return 0;
}

/* A client notes a HelloVerifyRequest: the server made it prove its address. */
static void watch_hello_verify(int write_p, int version, int content_type, const void *buf,
                               size_t len, SSL *ssl, void *arg)
{
    (void)write_p, (void)version, (void)arg;
    struct security_ssl_report *report = SSL_get_app_data(ssl);
    if (content_type == SSL3_RT_HANDSHAKE && len > 0 && report != NULL &&
        ((const unsigned char *)buf)[0] == DTLS1_MT_HELLO_VERIFY_REQUEST)
        report->hello_verify = 1;
}

/* keep_hello, a client: its first datagram out is its ClientHello. A BIO
 * callback, as the datagram BIO is OpenSSL's own (and the message
 * callback belongs to -v). */
static long keep_first_sent(BIO *b, int oper, const char *argp, size_t len, int argi,
                            long argl, int ret, size_t *processed)
{
    (void)len, (void)argi, (void)argl;
    struct hello_capture *hc = (struct hello_capture *)BIO_get_callback_arg(b);
    if (oper == (BIO_CB_WRITE | BIO_CB_RETURN) && ret > 0 && processed != NULL && !hc->done)
        hello_capture_set(hc, argp, *processed);
    return ret;
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
        ok = BIO_ADDR_rawmake(peer, AF_INET, &sin->sin_addr, sizeof sin->sin_addr,
                              sin->sin_port);
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
    if (t->keep_hello) {
        BIO_set_callback_arg(bio, (char *)&tc->base.hello);
        BIO_set_callback_ex(bio, keep_first_sent);
    }
    SSL_set_bio(tc->ssl, bio, bio);
    set_mtu(tc->ssl, t);
    SSL_set_msg_callback(tc->ssl, watch_hello_verify);
    return &tc->base;
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
                         "(at most %zu; see --mtu)",
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

/* keep_hello, the listener: every datagram DTLSv1_listen reads (it peeks,
 * reads, and may go through several in one call), so that the one it
 * accepts is the last seen when it returns. */
static long keep_last_read(BIO *b, int oper, const char *argp, size_t len, int argi,
                           long argl, int ret, size_t *processed)
{
    (void)len, (void)argi, (void)argl;
    struct dtls_listen_state *st = (struct dtls_listen_state *)BIO_get_callback_arg(b);
    if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed != NULL) {
        st->seen_len = *processed < DATAGRAM_SEEN_MAX ? *processed : DATAGRAM_SEEN_MAX;
        memcpy(st->seen, argp, st->seen_len);
    }
    return ret;
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
    if (st->seen != NULL) {
        BIO_set_callback_arg(bio, (char *)st);
        BIO_set_callback_ex(bio, keep_last_read);
    }
    SSL_set_bio(ssl, bio, bio);
    SSL_set_options(ssl, SSL_OP_COOKIE_EXCHANGE);
    set_mtu(ssl, l->t);
    SSL_set_app_data(ssl, st);
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

/* The peer as a sockaddr, from OpenSSL's BIO_ADDR. */
static socklen_t peer_sockaddr(const BIO_ADDR *peer, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    size_t len = 0;
    if (BIO_ADDR_family(peer) == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = BIO_ADDR_rawport(peer);
        BIO_ADDR_rawaddress(peer, &sin->sin_addr, &len);
        return sizeof *sin;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = BIO_ADDR_rawport(peer);
    BIO_ADDR_rawaddress(peer, &sin6->sin6_addr, &len);
    return sizeof *sin6;
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
    socklen_t sl = peer_sockaddr(peer, &ss);
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
    BIO_set_callback_ex(bio, NULL); /* the peer's own socket from now on: nothing to keep */
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
    if (st->seen != NULL)
        hello_capture_set(&tc->base.hello, st->seen, st->seen_len);
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
    .transport_init = dtls_transport_init,
    .transport_free = ossl_transport_free,
    .conn_new = dtls_conn_new,
    .handshake = ossl_handshake,
    .read = dtls_read,
    .peek = ossl_peek,
    .write = dtls_write,
    .shutdown_write = ossl_shutdown_write,
    .conn_free = ossl_conn_free,
    .pending = ossl_pending,
    .session_info = ossl_session_info,
    .max_message = dtls_max_message,
    .timer_ms = dtls_timer_ms,
    .timer_fire = dtls_timer_fire,
    .listener_init = dtls_listener_init,
    .listener_free = dtls_listener_free,
    .accept = dtls_accept,
};
