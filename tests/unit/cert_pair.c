/* One server, one client (cert_pair.h). */
#include "cert_pair.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

void *cert_serve_one(void *arg)
{
    struct server *s = arg;
    secsock_conn *c = NULL;
    char err[256];
    if (testutil_accept(s->l, TESTUTIL_WAIT_MS, &c, err, sizeof err) != 0)
        return NULL;
    s->peer_certs_before = secsock_conn_peer_cert_count(c);
    s->handshake_rc = secsock_handshake(c, TESTUTIL_WAIT_MS);
    s->peer_certs = secsock_conn_peer_cert_count(c);
    snprintf(s->peer_subject, sizeof s->peer_subject, "%s",
             secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SUBJECT));
    if (s->handshake_rc == 0)
        (void)secsock_write_all(c, "hi", 2);
    secsock_close(c);
    return NULL;
}

void cert_server_listen(struct server *s, const char *backend, secsock_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->t = testutil_transport(backend, SECSOCK_SERVER, cfg);
    char err[256] = "";
    ck_assert_msg(testutil_listener_new(s->t, "127.0.0.1", "0", 8, &s->l, err, sizeof err) == 0,
                  "listen: %s", err);
    s->port = strrchr(secsock_listener_address(s->l), ':') + 1;
}

void cert_server_start(struct server *s, const char *backend, secsock_config *cfg)
{
    cert_server_listen(s, backend, cfg);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, cert_serve_one, s), 0);
}

void cert_server_join(struct server *s)
{
    pthread_join(s->thread, NULL);
    secsock_listener_free(s->l);
    secsock_transport_free(s->t);
}

void cert_connect_to(struct seen *w, const char *backend, secsock_config *scfg,
                     secsock_config *ccfg, const char *host)
{
    memset(w, 0, sizeof *w);
    cert_server_start(&w->srv, backend, scfg);
    secsock_transport *t = testutil_transport(backend, SECSOCK_CLIENT, ccfg);
    struct secsock_connect_opts o = { .host = host,
                                      .port = w->srv.port,
                                      .timeout_ms = TESTUTIL_WAIT_MS };
    secsock_conn *c = NULL;
    w->rc = testutil_connect(t, &o, &c, w->err, sizeof w->err);
    ck_assert_msg(c != NULL, "no connection object: %d (%s)", w->rc, w->err);
    w->count = secsock_conn_peer_cert_count(c);
    snprintf(w->subject, sizeof w->subject, "%s",
             secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SUBJECT));
    snprintf(w->issuer, sizeof w->issuer, "%s", secsock_conn_peer_cert(c, 0, SECSOCK_CERT_ISSUER));
    snprintf(w->san, sizeof w->san, "%s", secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SAN));
    snprintf(w->not_after, sizeof w->not_after, "%s",
             secsock_conn_peer_cert(c, 0, SECSOCK_CERT_NOT_AFTER));
    snprintf(w->fingerprint, sizeof w->fingerprint, "%s",
             secsock_conn_peer_cert(c, 0, SECSOCK_CERT_FINGERPRINT));
    snprintf(w->spki, sizeof w->spki, "%s", secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SPKI_PIN));
    snprintf(w->chain1_subject, sizeof w->chain1_subject, "%s",
             secsock_conn_peer_cert(c, 1, SECSOCK_CERT_SUBJECT));
    w->failure = secsock_conn_verify_failure(c);
    testutil_session(c, &w->info);
    if (w->rc == 0) {
        char hi[3] = "";
        ck_assert_int_eq(secsock_read(c, hi, 2), 2);
        ck_assert_str_eq(hi, "hi");
    }
    secsock_close(c);
    secsock_transport_free(t);
    cert_server_join(&w->srv);
}
