/*
 * What the DTLS backend sees of each datagram that crosses a socket: the
 * BIO callbacks of a connection and of the listener, and the listener's
 * message callback. Apart from dtls.c, which makes the connections and
 * the listener and never looks inside a datagram itself.
 */
#include "transport/dtls_wire.h"

#include <netinet/in.h>
#include <string.h>

#include "net/net.h"
#include "transport/tracing.h"

/* The peer as a sockaddr, from OpenSSL's BIO_ADDR. */
socklen_t dtls_peer_sockaddr(const BIO_ADDR *peer, struct sockaddr_storage *ss)
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

/* A DTLS record header: content type 20-25, version 254.x. */
int dtls_looks_like_dtls(const unsigned char *b, ssize_t n)
{
    return n >= 13 && b[0] >= 20 && b[0] <= 25 && b[1] == 0xfe;
}

/* ---- a datagram BIO's callback sees every datagram ----
 *
 * A BIO holds one callback, and three things want the datagrams: tracing
 * (each one becomes WIRE events), keep_hello (a client keeps its first
 * datagram out, the listener the last it read: the ClientHello), and a
 * client's handshake, which looks at what comes back (OpenSSL drops a
 * datagram that is not DTLS without a word, so a plaintext server would
 * look like no server at all). One callback per BIO does all three,
 * installed while any of them wants it. */

/* "ADDR:PORT" of the peer a listening BIO last heard from or wrote to. */
static void bio_peer_text(BIO *bio, char *out, size_t outlen)
{
    out[0] = '\0';
    BIO_ADDR *peer = BIO_ADDR_new();
    if (peer != NULL && BIO_dgram_get_peer(bio, peer) > 0) {
        struct sockaddr_storage ss;
        socklen_t sl = dtls_peer_sockaddr(peer, &ss);
        net_format_addr((struct sockaddr *)&ss, sl, out, outlen);
    }
    BIO_ADDR_free(peer);
}

/* Whether a BIO callback call is a datagram that crossed the socket. */
static int crossed(int oper, int ret, const size_t *processed)
{
    int op = oper & ~BIO_CB_RETURN;
    return (oper & BIO_CB_RETURN) && ret > 0 && processed != NULL && *processed > 0 &&
           (op == BIO_CB_READ || op == BIO_CB_WRITE);
}

/* A client's handshake: the first datagram back that is not DTLS is kept
 * (dtls_handshake fails on it), unless a DTLS record came first: then a
 * DTLS server is there, and junk is dropped as OpenSSL drops it. */
static void note_answer(struct dtls_answer *a, const unsigned char *b, size_t n)
{
    if (a->dtls_seen || a->not_dtls_len > 0)
        return;
    if (dtls_looks_like_dtls(b, (ssize_t)n)) {
        a->dtls_seen = 1;
        return;
    }
    a->not_dtls_len = n;
    memcpy(a->head, b, n < sizeof a->head ? n : sizeof a->head);
}

/* Whether a client's handshake still looks at the datagrams back. */
static int watching_answer(const struct ossl_conn *tc)
{
    return tc->base.transport->role == SECSOCK_CLIENT && !SSL_is_init_finished(tc->ssl);
}

/* A connection's BIO (its callback arg: the ossl_conn): a client keeps its
 * first datagram out, its ClientHello (keep_hello), and looks at the
 * answers during the handshake; tracing shows them all. */
static long conn_wire(BIO *bio, int oper, const char *argp, size_t len, int argi, long argl,
                      int ret, size_t *processed)
{
    (void)len, (void)argi, (void)argl;
    if (!crossed(oper, ret, processed))
        return ret;
    struct ossl_conn *tc = (struct ossl_conn *)BIO_get_callback_arg(bio);
    const secsock_transport *t = tc->base.transport;
    int sent = (oper & ~BIO_CB_RETURN) == BIO_CB_WRITE;
    if (sent && t->keep_hello && !tc->base.hello.done)
        hello_capture_set(&tc->base.hello, argp, *processed);
    if (!sent && watching_answer(tc))
        note_answer(&tc->answer, (const unsigned char *)argp, *processed);
    if (tracing(t, SECSOCK_TRACE_WIRE))
        trace_datagram(t, &tc->base, tc->base.peer_text, sent, (const unsigned char *)argp,
                       *processed);
    return ret;
}

/* The listening BIO (its callback arg: the listen state): the cookie
 * exchanges, traced, and with keep_hello every datagram DTLSv1_listen reads
 * (it may go through several in one call), so that the one it accepts is
 * the last seen when it returns. */
long dtls_listen_wire(BIO *bio, int oper, const char *argp, size_t len, int argi, long argl,
                      int ret, size_t *processed)
{
    (void)len, (void)argi, (void)argl;
    if (!crossed(oper, ret, processed))
        return ret;
    struct dtls_listen_state *st = (struct dtls_listen_state *)BIO_get_callback_arg(bio);
    const secsock_transport *t = st->listener->t;
    int sent = (oper & ~BIO_CB_RETURN) == BIO_CB_WRITE;
    if (!sent && st->seen != NULL) {
        st->seen_len = *processed < DATAGRAM_SEEN_MAX ? *processed : DATAGRAM_SEEN_MAX;
        memcpy(st->seen, argp, st->seen_len);
    }
    if (tracing(t, SECSOCK_TRACE_WIRE)) {
        char peer[64];
        bio_peer_text(bio, peer, sizeof peer);
        trace_datagram(t, NULL, peer, sent, (const unsigned char *)argp, *processed);
    }
    return ret;
}

/* The listening SSL's messages (its arg: the listener). DTLSv1_listen
 * reports the ClientHellos it reads, but of the HelloVerifyRequest it
 * writes only the record header: the message is named from that (its
 * bytes are in the WIRE event). */
void dtls_listen_msg(int write_p, int version, int content_type, const void *buf, size_t len,
                     SSL *ssl, void *arg)
{
    const secsock_listener *l = arg;
    const unsigned char *h = buf;
    int hello_verify = write_p && content_type == SSL3_RT_HEADER && len == DTLS1_RT_HEADER_LENGTH &&
                       h[0] == SSL3_RT_HANDSHAKE; /* all DTLSv1_listen ever writes */
    if (!hello_verify && content_type == SSL3_RT_HEADER)
        return; /* a record read: its WIRE event shows it */
    char peer[64];
    bio_peer_text(SSL_get_rbio(ssl), peer, sizeof peer);
    if (hello_verify)
        trace_hello_verify(l->t, peer, DTLS1_2_VERSION, (size_t)h[11] << 8 | h[12]);
    else
        trace_message(l->t, NULL, peer, write_p, version, content_type, buf, len);
}

/* A connection's BIO gets conn_wire when tracing, keep_hello or a client's
 * handshake wants its datagrams (a client's ClientHello: the datagram BIO
 * is OpenSSL's own, and the message callback belongs to -v); otherwise
 * none, so that a session costs nothing once its handshake is over. A DTLS
 * server's connection has its ClientHello from the listener already. */
void dtls_conn_bio_callback(BIO *bio, struct ossl_conn *tc)
{
    const secsock_transport *t = tc->base.transport;
    int keep = t->keep_hello && !tc->base.hello.done;
    if (!keep && !watching_answer(tc) && !tracing(t, SECSOCK_TRACE_WIRE)) {
        BIO_set_callback_ex(bio, NULL);
        return;
    }
    BIO_set_callback_arg(bio, (char *)tc);
    BIO_set_callback_ex(bio, conn_wire);
}
