/* The TLS backend: an OpenSSL connection over a non-blocking TCP socket. */
#include <stdlib.h>
#include <sys/socket.h>

#include "transport/ossl_conn.h"

static int tls_transport_init(secsock_transport *t, const secsock_config *cfg, char *err,
                              size_t errlen)
{
    return ossl_transport_init(t, cfg, TLS_method(), err, errlen);
}

static secsock_conn *tls_conn_new(const secsock_transport *t, int fd, const char *verify_name)
{
    struct ossl_conn *tc = ossl_conn_new(&secsock_backend_tls, t, fd, verify_name, NULL);
    if (tc == NULL)
        return NULL;
    tc->sock.fd = fd;
    BIO *bio = sockbio_new(&tc->sock); /* send(MSG_NOSIGNAL): no SIGPIPE */
    if (bio == NULL) {
        ossl_conn_free(&tc->base);
        return NULL;
    }
    SSL_set_bio(tc->ssl, bio, bio); /* the SSL owns the BIO now */
    return &tc->base;
}

static int tls_handshake(secsock_conn *c)
{
    int rc = ossl_handshake(c);
    const char *ra = getenv("XRA");
    if (rc == 0 && c->transport->role == SECSOCK_SERVER && ra && atoi(ra) >= 0) {
        SSL *ssl = ((struct ossl_conn *)c)->ssl;
        if (atoi(ra) > 0) SSL_set_default_read_buffer_len(ssl, (size_t)atoi(ra));
        SSL_set_read_ahead(ssl, 1);
    }
    return rc;
}

const struct secsock_backend secsock_backend_tls = {
    .name = "tls",
    .secure = 1,
    .socktype = SOCK_STREAM,
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
    .session_info = ossl_session_info,
};
