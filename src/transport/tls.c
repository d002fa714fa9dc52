/* The TLS backend: an OpenSSL connection over a non-blocking TCP socket. */
#include <sys/socket.h>

#include "transport/ossl_conn.h"
#include "transport/tracing.h"

static int tls_transport_init(secsock_transport *t, const secsock_config *cfg, char *err,
                              size_t errlen)
{
    return ossl_transport_init(t, cfg, TLS_method(), err, errlen);
}

/* Traced: the socket's bytes, record by record. */
static void tls_wire(void *arg, int sent, const unsigned char *data, size_t len)
{
    struct ossl_conn *tc = arg;
    trace_stream_bytes(&tc->base, &tc->wire[sent != 0], sent, data, len);
}

/* Traced: the end of the peer's stream. */
static void tls_end(void *arg, int reset)
{
    trace_end(&((struct ossl_conn *)arg)->base, 0, reset);
}

static secsock_conn *tls_conn_new(const secsock_transport *t, int fd, const char *verify_name)
{
    struct ossl_conn *tc = ossl_conn_new(&secsock_backend_tls, t, fd, verify_name, NULL);
    if (tc == NULL)
        return NULL;
    tc->sock.fd = fd;
    if (t->keep_hello && t->role == SECSOCK_CLIENT)
        tc->sock.capture = &tc->base.hello; /* the ClientHello, as it goes out */
    if (tracing(t, SECSOCK_TRACE_WIRE)) {
        tc->sock.wire = tls_wire;
        tc->sock.wire_arg = tc;
    }
    if (tracing(t, SECSOCK_TRACE_END)) {
        tc->sock.end = tls_end;
        tc->sock.wire_arg = tc;
    }
    BIO *bio = sockbio_new(&tc->sock); /* send(MSG_NOSIGNAL): no SIGPIPE */
    if (bio == NULL) {
        ossl_conn_free(&tc->base);
        return NULL;
    }
    SSL_set_bio(tc->ssl, bio, bio); /* the SSL owns the BIO now */
    return &tc->base;
}

/* Room for two whole records: one recv(2) brings in two records instead
 * of two recvs for each (header, then body). Larger buffers measured
 * slower: OpenSSL moves the rest of the buffer to its front before each
 * record, so the copying grows with the square of the records it holds. */
#define TLS_RECORD_MAX                                                                             \
    ((size_t)SSL3_RT_HEADER_LENGTH + SSL3_RT_MAX_PLAIN_LENGTH + SSL3_RT_MAX_ENCRYPTED_OVERHEAD)
#define TLS_READ_AHEAD (2 * TLS_RECORD_MAX)

static void tls_ech_info(const secsock_conn *c, struct security_ech_facts *info)
{
    ech_session_info(((const struct ossl_conn *)c)->ssl, info);
}

/* A client's handshake said ECH was not accepted: in words that say so.
 * A server that did not decrypt the ECH answers for the outer ClientHello,
 * so OpenSSL checks its certificate against the public name and then ends
 * with an ech_required alert (RFC 9849): without this, the refusal reads
 * as a name mismatch or a bare alert. */
static int ech_refused(secsock_conn *c, int rc)
{
    struct security_ech_facts ech;
    tls_ech_info(c, &ech);
    const struct security_ech_state *want = &c->transport->sec.ech;
    if (c->transport->role != SECSOCK_CLIENT || (!want->offered && !want->required))
        return rc;
    if (rc == 0 && (!want->required || ech.status == SECSOCK_ECH_ACCEPTED))
        return 0;
    if (rc != 0 && ech.status != SECSOCK_ECH_REJECTED)
        return rc; /* it failed for another reason: that one is the story */
    char before[sizeof c->error];
    snprintf(before, sizeof before, "%s", c->error);
    ((struct ossl_conn *)c)->fatal = 1; /* no close_notify: nothing was said in it */
    if (ech.status == SECSOCK_ECH_REJECTED && ech.retry_config_list[0] != '\0')
        return conn_fail(c, SECSOCK_ERR_HANDSHAKE,
                         "the server did not accept ECH; it offers this ECHConfigList "
                         "instead: %s",
                         ech.retry_config_list);
    if (ech.status == SECSOCK_ECH_REJECTED && rc == SECSOCK_ERR_VERIFY)
        return conn_fail(c, SECSOCK_ERR_HANDSHAKE,
                         "the server did not accept ECH (it has none, or not this key), and "
                         "its certificate is not valid for the public name %s either",
                         ech.outer_name[0] ? ech.outer_name : "(none)");
    if (ech.status == SECSOCK_ECH_REJECTED)
        return conn_fail(c, SECSOCK_ERR_HANDSHAKE,
                         "the server did not accept ECH (it has none, or not this key), and "
                         "sent no config to use instead%s%s",
                         rc != 0 ? ": " : "", rc != 0 ? before : "");
    return conn_fail(c, SECSOCK_ERR_HANDSHAKE, "ECH required, but it was %s",
                     ech.status == SECSOCK_ECH_GREASE ? "only GREASE" : "not offered");
}

static int tls_handshake(secsock_conn *c)
{
    int rc = ossl_handshake(c);
    if (rc != SECSOCK_WANT_READ && rc != SECSOCK_WANT_WRITE)
        rc = ech_refused(c, rc);
    /* A server reads ahead only once the handshake is over. Until then
     * reads stay exact, so a request right behind the client's Finished
     * stays in the socket, where the admission loop's epoll sees it:
     * secsock_pending (SSL_pending) does not count records read ahead but
     * not yet decrypted. Every server read after that goes on until
     * WANT_READ, which OpenSSL gives only when no whole record is left in
     * its buffer. An idle connection still holds no buffer
     * (SSL_MODE_RELEASE_BUFFERS frees it whenever it is empty). */
    if (rc == 0 && c->transport->role == SECSOCK_SERVER) {
        SSL *ssl = ((struct ossl_conn *)c)->ssl;
        SSL_set_default_read_buffer_len(ssl, TLS_READ_AHEAD);
        SSL_set_read_ahead(ssl, 1);
    }
    return rc;
}

const struct secsock_backend secsock_backend_tls = {
    .name = "tls",
    .secure = 1,
    .socktype = SOCK_STREAM,
    .protocol = "TLS",
    .linger_on_refusal = 1,
    .transport_init = tls_transport_init,
    .transport_free = ossl_transport_free,
    .conn_new = tls_conn_new,
    .handshake = tls_handshake,
    .read = ossl_read,
    .peek = ossl_peek,
    .write = ossl_write,
    .shutdown_write = ossl_shutdown_write,
    .conn_free = ossl_conn_free,
    .pending = ossl_pending,
    .session_facts = ossl_session_facts,
    .ech_info = tls_ech_info,
    .peer_cert = ossl_peer_cert,
};
