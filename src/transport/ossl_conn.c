/*
 * What the TLS and DTLS backends share: an OpenSSL connection over a
 * non-blocking socket. The call sequences follow OpenSSL's demos/guide
 * (tls-client-block.c, tls-server-block.c); ossl_result() is the one place
 * SSL_get_error is read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "transport/ossl_conn.h"

#include "net/net.h"
#include "transport/tracing.h"

/* The SSL's ex_data slot holding its ossl_conn: the key-log callback is
 * the context's, and gets only the SSL. */
static int conn_index = -1;
static pthread_once_t conn_index_once = PTHREAD_ONCE_INIT;

static void make_conn_index(void)
{
    conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

void ossl_keylog_line(const SSL *ssl, const char *line)
{
    const struct ossl_conn *tc = conn_index >= 0 ? SSL_get_ex_data(ssl, conn_index) : NULL;
    if (tc == NULL)
        return;
    const secsock_transport *t = tc->base.transport;
    if (t->keylog)
        keylog_write_line(ssl, line);
    if (tracing(t, SECSOCK_TRACE_SECRET))
        trace_secret(&tc->base, line);
}

int ossl_transport_init(secsock_transport *t, const secsock_config *cfg, const SSL_METHOD *method,
                        char *err, size_t errlen)
{
    if (cfg == NULL) {
        snprintf(err, errlen, "TLS and DTLS need a security configuration");
        return -1;
    }
    struct security_transport_params p;
    security_transport_params(cfg, &p);
    if (p.keylog_file != NULL) {
        if (keylog_open(p.keylog_file, err, errlen) != 0)
            return -1;
        t->keylog = 1;
    }
    t->ssl_ctx = security_context_new(cfg, t->role, method, &t->sec, err, errlen);
    if (t->ssl_ctx == NULL)
        return -1;
    if (t->keylog)
        SSL_CTX_set_keylog_callback(t->ssl_ctx, ossl_keylog_line);
    if (p.servername != NULL && (t->servername = strdup(p.servername)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->keep_hello = p.keep_client_hello;
    return 0;
}

void ossl_transport_free(secsock_transport *t)
{
    SSL_CTX_free(t->ssl_ctx);
    security_ctx_state_clear(&t->sec);
    free(t->servername);
    if (t->keylog)
        keylog_close();
}

/* The name the peer's certificate must have: SSL_set1_dnsname from OpenSSL
 * 4.0, which deprecates SSL_set1_host (the same check for a DNS name). */
static int set_verify_host(SSL *ssl, const char *name)
{
#if OPENSSL_VERSION_MAJOR >= 4
    return SSL_set1_dnsname(ssl, name);
#else
    return SSL_set1_host(ssl, name);
#endif
}

struct ossl_conn *ossl_conn_new(const struct secsock_backend *backend, const secsock_transport *t,
                                int fd, const char *verify_name, SSL *ssl)
{
    struct ossl_conn *tc = calloc(1, sizeof *tc);
    if (tc == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    conn_base_init(&tc->base, backend, t, fd);
    tc->ssl = ssl != NULL ? ssl : SSL_new(t->ssl_ctx);
    if (tc->ssl == NULL)
        goto fail;
    SSL_set_app_data(tc->ssl, &tc->report);
    pthread_once(&conn_index_once, make_conn_index);
    if (conn_index < 0 || !SSL_set_ex_data(tc->ssl, conn_index, tc))
        goto fail;
    if (tracing(t, SECSOCK_TRACE_MESSAGE) ||
        (backend->socktype == SOCK_DGRAM && t->role == SECSOCK_CLIENT)) {
        SSL_set_msg_callback(tc->ssl, ossl_msg_callback);
        SSL_set_msg_callback_arg(tc->ssl, tc);
    }
    if (t->role == SECSOCK_SERVER) {
        /* An SSL handed over by DTLSv1_listen is mid-handshake already:
         * setting the accept state again would forget its ClientHello. */
        if (ssl == NULL)
            SSL_set_accept_state(tc->ssl);
        return tc;
    }
    SSL_set_connect_state(tc->ssl);
    snprintf(tc->verify_name, sizeof tc->verify_name, "%s", verify_name);
    if (net_is_ip_literal(verify_name)) {
        /* RFC 6066: no SNI for an address; check the certificate's IP SANs. */
        if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tc->ssl), verify_name))
            goto fail;
    } else if (!SSL_set_tlsext_host_name(tc->ssl, verify_name) ||
               !set_verify_host(tc->ssl, verify_name)) {
        goto fail;
    }
    return tc;
fail:
    ERR_clear_error();
    SSL_free(tc->ssl);
    free(tc);
    return NULL;
}

void ossl_msg_callback(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
    (void)ssl;
    struct ossl_conn *tc = arg;
    const unsigned char *msg = buf;
    /* Only a client ever receives one: the server made it prove its address. */
    if (content_type == SSL3_RT_HANDSHAKE && len > 0 && msg[0] == DTLS1_MT_HELLO_VERIFY_REQUEST)
        tc->report.hello_verify = 1;
    if (tc->hello_replayed && !write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
        msg[0] == SSL3_MT_CLIENT_HELLO) {
        tc->hello_replayed = 0; /* shown once, by the listener that read it first */
        return;
    }
    const secsock_transport *t = tc->base.transport;
    if (tracing(t, SECSOCK_TRACE_MESSAGE))
        trace_message(t, &tc->base, tc->base.peer_text, write_p, version, content_type, msg, len);
}

/* "TLS" or "DTLS", for messages. */
static const char *proto(const secsock_conn *c)
{
    return c->backend->protocol;
}

/* Whether a failed handshake's first bytes from the peer were text (an
 * HTTP status line, a banner), not a TLS record: a plaintext server. */
static int plaintext_answer(const struct ossl_conn *tc)
{
    const struct sockbio_state *st = &tc->sock;
    if (tc->base.backend->socktype != SOCK_STREAM || st->first_len < 4)
        return 0;
    for (size_t i = 0; i < st->first_len; i++) {
        unsigned char b = st->first[i];
        if (!(b == '\r' || b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7f)))
            return 0;
    }
    return 1;
}

int ossl_plaintext_failure(secsock_conn *c, const unsigned char *b, size_t len, int whole)
{
    char shown[64];
    size_t n = 0;
    for (; n < len && n < sizeof shown - 1 && b[n] >= 0x20 && b[n] < 0x7f; n++)
        shown[n] = (char)b[n]; /* the first line, printable bytes only */
    shown[n] = '\0';
    int cut = !whole || n < len;
    c->plaintext_peer = 1;
    return conn_fail(c, SECSOCK_ERR_HANDSHAKE, "the peer sent plaintext (\"%s%s\"), not %s", shown,
                     cut ? "..." : "", proto(c));
}

enum ossl_op { OSSL_HANDSHAKE, OSSL_READ, OSSL_WRITE, OSSL_SHUTDOWN };

/* The names a certificate answers to, for a name mismatch: its SAN (a
 * long list cut after about 200 bytes), or its subject when it has none. */
static void names_of(X509 *leaf, char *out, size_t outlen)
{
    char san[512];
    security_san_text(leaf, san, sizeof san);
    if (san[0] == '\0') {
        char subject[256];
        security_name_text(X509_get_subject_name(leaf), subject, sizeof subject);
        snprintf(out, outlen, "no SAN, subject %s", subject);
        return;
    }
    if (strlen(san) > 200) {
        char *cut = san + 200;
        while (cut > san && strncmp(cut, ", ", 2) != 0)
            cut--;
        snprintf(cut, sizeof san - (size_t)(cut - san), ", ...");
    }
    snprintf(out, outlen, "not in SAN %s", san);
}

/* Which certificate the peer sent is out of its dates (expired, or not
 * yet valid), for the message: "expired on DATE" for the leaf, with the
 * subject for a CA's. Nothing when none is (a trust anchor of ours). */
static void dates_of(SSL *ssl, int expired, char *out, size_t outlen)
{
    out[0] = '\0';
    for (int i = 0; security_peer_cert(ssl, i) != NULL; i++) {
        X509 *x = security_peer_cert(ssl, i);
        const ASN1_TIME *t = expired ? X509_get0_notAfter(x) : X509_get0_notBefore(x);
        /* -1 past, 1 future (X509_cmp_current_time is deprecated in 4.0);
         * -2, unreadable, counts as neither. */
        int cmp = ASN1_TIME_cmp_time_t(t, time(NULL));
        if (cmp == -2 || (expired ? cmp >= 0 : cmp <= 0))
            continue;
        struct security_cert_text text;
        security_cert_text(x, &text);
        const char *what = expired ? "expired on" : "not valid before";
        const char *date = expired ? text.not_after : text.not_before;
        if (i == 0)
            snprintf(out, outlen, "%s %s", what, date);
        else
            snprintf(out, outlen, "CA certificate %s %s %s", text.subject ? text.subject : "", what,
                     date);
        security_cert_text_free(&text);
        return;
    }
}

/* The refusal, in words that say which check failed and what the
 * certificate showed (the program adds the fixes). */
static int verify_failure(struct ossl_conn *tc)
{
    long code = SSL_get_verify_result(tc->ssl);
    secsock_conn *c = &tc->base;
    X509 *leaf = security_peer_cert(tc->ssl, 0);
    const char *why = X509_verify_cert_error_string(code);
    char facts[640];
    if (code == X509_V_ERR_APPLICATION_VERIFICATION && c->transport->sec.has_pin) {
        c->verify_failure = SECSOCK_VERIFY_PIN_MISMATCH;
        /* Both in the form the pin was given, so they compare at a glance. */
        int kind = c->transport->sec.pin_kind;
        char wanted[SECSOCK_FP_LEN], got[SECSOCK_FP_LEN] = "no certificate";
        security_pin_text(kind, c->transport->sec.pin, wanted, sizeof wanted);
        if (leaf != NULL && kind == SECSOCK_PIN_SPKI)
            security_spki_pin(leaf, got, sizeof got);
        else if (leaf != NULL)
            security_cert_fingerprint(leaf, got, sizeof got);
        return conn_fail(c, SECSOCK_ERR_VERIFY, "certificate pin mismatch (wanted %s, got %s)",
                         wanted, got);
    }
    switch (code) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        c->verify_failure = SECSOCK_VERIFY_NAME_MISMATCH;
        if (leaf == NULL)
            break;
        names_of(leaf, facts, sizeof facts);
        return conn_fail(c, SECSOCK_ERR_VERIFY, "certificate verify failed: %s (wanted %s): %s",
                         why, tc->verify_name, facts);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
        c->verify_failure = SECSOCK_VERIFY_UNKNOWN_CA;
        if (leaf == NULL)
            break;
        /* The issuer of the last certificate sent: the CA to trust. */
        X509 *top = security_peer_cert(tc->ssl, security_peer_cert_count(tc->ssl) - 1);
        security_name_text(X509_get_issuer_name(top), facts, sizeof facts);
        return conn_fail(c, SECSOCK_ERR_VERIFY,
                         "certificate verify failed: unknown CA (issuer %s): %s", facts, why);
    }
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: {
        int expired = code == X509_V_ERR_CERT_HAS_EXPIRED;
        c->verify_failure = expired ? SECSOCK_VERIFY_EXPIRED : SECSOCK_VERIFY_NOT_YET_VALID;
        dates_of(tc->ssl, expired, facts, sizeof facts);
        if (facts[0] == '\0')
            break;
        return conn_fail(c, SECSOCK_ERR_VERIFY, "certificate verify failed: %s: %s", facts, why);
    }
    default: c->verify_failure = SECSOCK_VERIFY_OTHER; break;
    }
    return conn_fail(c, SECSOCK_ERR_VERIFY, "certificate verify failed: %s", why);
}

/* An alert in which the peer rejects our certificate (or its absence). */
static int peer_refused_certificate(int reason)
{
    switch (reason) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED: return 1;
    default: return 0;
    }
}

/* Maps the result of an SSL call (made with errno cleared) to a status. */
static int ossl_result(struct ossl_conn *tc, int ret, enum ossl_op op, int saved_errno)
{
    secsock_conn *c = &tc->base;
    int e = SSL_get_error(tc->ssl, ret);
    unsigned long queued = ERR_peek_error();
    char why[160];

    switch (e) {
    case SSL_ERROR_WANT_READ: return SECSOCK_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return SECSOCK_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return 0; /* close_notify: a clean end of the peer's stream */
    case SSL_ERROR_SYSCALL:
    case SSL_ERROR_SSL: break;
    default:
        ERR_clear_error();
        return conn_fail(c, SECSOCK_ERR_PROTOCOL, "unexpected TLS state %d", e);
    }
    tc->fatal = 1;
    int reason = ERR_GET_REASON(queued);
    int eof = (e == SSL_ERROR_SYSCALL && saved_errno == 0 && queued == 0) ||
              reason == SSL_R_UNEXPECTED_EOF_WHILE_READING;
    if (eof) {
        ERR_clear_error();
        if (op == OSSL_HANDSHAKE)
            return conn_fail(c, SECSOCK_ERR_HANDSHAKE,
                             "peer closed the connection during the %s handshake", proto(c));
        return conn_fail(c, SECSOCK_ERR_TRUNCATED,
                         "peer closed the connection without close_notify (truncated)");
    }
    if (e == SSL_ERROR_SYSCALL && queued == 0) {
        if (saved_errno == ECONNREFUSED && c->backend->socktype == SOCK_DGRAM) {
            /* An ICMP "port unreachable" for a datagram sent: a client
             * hears at once that nothing listens; a server's peer session
             * stays (the timer retransmits). */
            if (c->transport->role == SECSOCK_CLIENT)
                return conn_fail(c, SECSOCK_ERR_CONNECT,
                                 "connection refused: nothing listens on %s", c->peer_text);
            tc->fatal = 0;
            return SECSOCK_WANT_READ;
        }
        if (saved_errno == ECONNRESET || saved_errno == EPIPE)
            return conn_fail(
                c, op == OSSL_HANDSHAKE ? SECSOCK_ERR_HANDSHAKE : SECSOCK_ERR_IO,
                "connection reset by peer%s%s%s", op == OSSL_HANDSHAKE ? " during the " : "",
                op == OSSL_HANDSHAKE ? proto(c) : "", op == OSSL_HANDSHAKE ? " handshake" : "");
        return conn_fail(c, SECSOCK_ERR_IO, "%s i/o: %s", proto(c), strerror(saved_errno));
    }
    if (op == OSSL_HANDSHAKE && reason == SSL_R_CERTIFICATE_VERIFY_FAILED &&
        SSL_get_verify_result(tc->ssl) != X509_V_OK) {
        ERR_clear_error();
        return verify_failure(tc);
    }
    /* In TLS 1.3 a client's handshake is over before the server has judged
     * the client's certificate: the refusal arrives on the first read, and
     * is still a handshake failure. */
    if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED) {
        ERR_clear_error();
        return conn_fail(c, SECSOCK_ERR_HANDSHAKE,
                         "%s handshake failed: the server requires a client certificate", proto(c));
    }
    if (op == OSSL_HANDSHAKE && plaintext_answer(tc)) {
        ERR_clear_error();
        /* OpenSSL read a record header: the rest of the line is still in
         * the socket, and shows better what answered. */
        unsigned char shown[64];
        size_t n = tc->sock.first_len;
        memcpy(shown, tc->sock.first, n);
        ssize_t more = recv(c->fd, shown + n, sizeof shown - n, MSG_DONTWAIT);
        if (more > 0)
            n += (size_t)more;
        return ossl_plaintext_failure(c, shown, n, 0);
    }
    if (op == OSSL_HANDSHAKE || peer_refused_certificate(reason))
        return conn_fail(c, SECSOCK_ERR_HANDSHAKE, "%s handshake failed: %s", proto(c),
                         security_ssl_error_text(why, sizeof why));
    return conn_fail(c, SECSOCK_ERR_PROTOCOL, "%s error: %s", proto(c),
                     security_ssl_error_text(why, sizeof why));
}

int ossl_handshake(secsock_conn *c)
{
    struct ossl_conn *tc = (struct ossl_conn *)c;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(tc->ssl);
    if (ret == 1)
        return 0;
    return ossl_result(tc, ret, OSSL_HANDSHAKE, errno);
}

/* A read, or with SSL_peek_ex a peek: the bytes stay for the next read. */
static ssize_t ossl_receive(secsock_conn *c, void *buf, size_t len,
                            int (*receive)(SSL *, void *, size_t, size_t *))
{
    struct ossl_conn *tc = (struct ossl_conn *)c;
    if (tc->fatal)
        return conn_fail(c, SECSOCK_ERR_IO, "the %s session already failed", proto(c));
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int ret = receive(tc->ssl, buf, len, &n);
    if (ret == 1)
        return (ssize_t)n;
    return ossl_result(tc, ret, OSSL_READ, errno);
}

ssize_t ossl_read(secsock_conn *c, void *buf, size_t len)
{
    return ossl_receive(c, buf, len, SSL_read_ex);
}

ssize_t ossl_peek(secsock_conn *c, void *buf, size_t len)
{
    return ossl_receive(c, buf, len, SSL_peek_ex);
}

ssize_t ossl_write(secsock_conn *c, const void *buf, size_t len)
{
    struct ossl_conn *tc = (struct ossl_conn *)c;
    if (tc->fatal)
        return conn_fail(c, SECSOCK_ERR_IO, "the %s session already failed", proto(c));
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write_ex(tc->ssl, buf, len, &n);
    if (ret == 1)
        return (ssize_t)n;
    return ossl_result(tc, ret, OSSL_WRITE, errno);
}

int ossl_shutdown_write(secsock_conn *c)
{
    struct ossl_conn *tc = (struct ossl_conn *)c;
    if (tc->fatal || !SSL_is_init_finished(tc->ssl))
        return 0; /* nothing can be said on a broken or unfinished session */
    ERR_clear_error();
    errno = 0;
    int ret = SSL_shutdown(tc->ssl);
    if (ret >= 0)
        return 0; /* close_notify sent; we don't wait for the peer's */
    int rc = ossl_result(tc, ret, OSSL_SHUTDOWN, errno);
    return rc == SECSOCK_WANT_READ ? 0 : rc;
}

int ossl_pending(const secsock_conn *c)
{
    return SSL_pending(((const struct ossl_conn *)c)->ssl) > 0;
}

void ossl_conn_free(secsock_conn *c)
{
    struct ossl_conn *tc = (struct ossl_conn *)c;
    trace_stream_end(c, tc->wire[0], 0);
    trace_stream_end(c, tc->wire[1], 1);
    SSL_free(tc->ssl);
    free(tc);
}

X509 *ossl_peer_cert(const secsock_conn *c, int i)
{
    return security_peer_cert(((const struct ossl_conn *)c)->ssl, i);
}

void ossl_session_facts(const secsock_conn *c, struct security_session *s)
{
    const struct ossl_conn *tc = (const struct ossl_conn *)c;
    security_session_facts(tc->ssl, s);
    if (c->verify_failure == SECSOCK_VERIFY_PIN_MISMATCH) /* OpenSSL's words name no pin */
        snprintf(s->verify_result, sizeof s->verify_result, "pin mismatch");
    s->cookie_exchange = tc->report.hello_verify;
    if (s->verified) /* say how: an exact certificate, or a chain to a trusted CA */
        snprintf(s->verify_result, sizeof s->verify_result, "ok (%s)",
                 c->transport->sec.has_pin ? "pinned" : "CA chain");
    if (c->transport->role == SECSOCK_CLIENT) /* what we sent, not what OpenSSL echoes */
        snprintf(s->sni, sizeof s->sni, "%s",
                 net_is_ip_literal(tc->verify_name) ? "" : tc->verify_name);
}
