/*
 * What a connection tells about itself once (or while) it handshakes: the
 * negotiated protocol, cipher, group, ALPN and SNI, the verification's
 * outcome, the peer's certificates as text, the byte counts. Each fact has
 * its accessor returning a string the connection owns, so a fact is added
 * without an ABI change (a struct of fixed arrays would change size).
 *
 * A new fact: a field of struct security_session (security_internal.h),
 * filled by security_session_facts() or the backend's session_facts hook,
 * and a one-line accessor here, declared in transport.h, listed in
 * abi/libsecsock.symbols (scripts/abi-check.sh --update) and secsock(3).
 */
#include <stdlib.h>
#include <string.h>

#include "transport/conn.h"

/* The session's facts, refreshed on each question, since a handshake that
 * is still running changes them. The memory is allocated once and lives as
 * long as c, so a string handed out stays readable (and unchanged while c
 * does not change). Like the certificates' text below, this cache is not
 * part of what c is, and a connection is used by one thread at a time, so
 * filling it through a const pointer is safe. Plaintext, or out of memory:
 * the empty facts. */
static const struct security_session *session(const secsock_conn *cc)
{
    static const struct security_session none;
    secsock_conn *c = (secsock_conn *)cc;
    if (c->backend->session_facts == NULL)
        return &none;
    if (c->session == NULL)
        c->session = malloc(sizeof *c->session);
    if (c->session == NULL)
        return &none;
    c->backend->session_facts(c, c->session);
    return c->session;
}

/* What ECH did, cached like the session's facts. */
static const struct security_ech_facts *ech(const secsock_conn *cc)
{
    static const struct security_ech_facts none;
    secsock_conn *c = (secsock_conn *)cc;
    if (c->backend->ech_info == NULL)
        return &none;
    if (c->ech == NULL)
        c->ech = malloc(sizeof *c->ech);
    if (c->ech == NULL)
        return &none;
    c->backend->ech_info(c, c->ech);
    return c->ech;
}

enum secsock_ech_status secsock_conn_ech_status(const secsock_conn *c)
{
    return ech(c)->status;
}
const char *secsock_conn_ech_outer_name(const secsock_conn *c)
{
    return ech(c)->outer_name;
}
const char *secsock_conn_ech_inner_name(const secsock_conn *c)
{
    return ech(c)->inner_name;
}
const char *secsock_conn_ech_retry_config_list(const secsock_conn *c)
{
    return ech(c)->retry_config_list;
}

int secsock_conn_is_secure(const secsock_conn *c)
{
    return c->backend->secure;
}
const char *secsock_conn_protocol(const secsock_conn *c)
{
    return session(c)->protocol;
}
const char *secsock_conn_cipher(const secsock_conn *c)
{
    return session(c)->cipher;
}
const char *secsock_conn_group(const secsock_conn *c)
{
    return session(c)->group;
}
const char *secsock_conn_alpn(const secsock_conn *c)
{
    return session(c)->alpn;
}
const char *secsock_conn_sni(const secsock_conn *c)
{
    return session(c)->sni;
}
int secsock_conn_resumed(const secsock_conn *c)
{
    return session(c)->resumed;
}
int secsock_conn_verified(const secsock_conn *c)
{
    return session(c)->verified;
}
int secsock_conn_cookie_exchange(const secsock_conn *c)
{
    return session(c)->cookie_exchange;
}

const char *secsock_conn_verify_result(const secsock_conn *c)
{
    return c->backend->secure ? session(c)->verify_result : "";
}

unsigned long long secsock_conn_bytes_sent(const secsock_conn *c)
{
    return c->bytes_sent;
}
unsigned long long secsock_conn_bytes_received(const secsock_conn *c)
{
    return c->bytes_received;
}

/* The text of the peer's certificates, built on the first question once
 * there are any (asked before the handshake, there is nothing to keep): a
 * handshake spends nothing on it. The cache is not part of what c is (a
 * const connection still gives the same answers), and a connection is used
 * by one thread at a time, so filling it through a const pointer is safe;
 * every connection is allocated, never a const object. */
static const struct security_cert_text *peer_cert_text(const secsock_conn *cc, int i)
{
    secsock_conn *c = (secsock_conn *)cc;
    X509 *(*cert_at)(const secsock_conn *, int) = c->backend->peer_cert;
    if (c->n_peer_certs == 0 && cert_at != NULL) {
        int n = 0;
        while (cert_at(c, n) != NULL)
            n++;
        c->peer_certs = n > 0 ? calloc((size_t)n, sizeof *c->peer_certs) : NULL;
        if (c->peer_certs == NULL)
            n = 0;
        for (int k = 0; k < n; k++)
            security_cert_text(cert_at(c, k), &c->peer_certs[k]);
        c->n_peer_certs = n;
    }
    return i >= 0 && i < c->n_peer_certs ? &c->peer_certs[i] : NULL;
}

int secsock_conn_peer_cert_count(const secsock_conn *c)
{
    (void)peer_cert_text(c, 0);
    return c->n_peer_certs;
}

const char *secsock_conn_peer_cert(const secsock_conn *c, int i, enum secsock_cert_field field)
{
    const struct security_cert_text *t = peer_cert_text(c, i);
    if (t == NULL)
        return "";
    switch (field) { /* (a name is NULL only when memory ran out) */
    case SECSOCK_CERT_SUBJECT: return t->subject != NULL ? t->subject : "";
    case SECSOCK_CERT_ISSUER: return t->issuer != NULL ? t->issuer : "";
    case SECSOCK_CERT_SAN: return t->san != NULL ? t->san : "";
    case SECSOCK_CERT_NOT_BEFORE: return t->not_before;
    case SECSOCK_CERT_NOT_AFTER: return t->not_after;
    case SECSOCK_CERT_FINGERPRINT: return t->fingerprint;
    case SECSOCK_CERT_SPKI_PIN: return t->spki_pin;
    default: return "";
    }
}

enum secsock_verify_failure secsock_conn_verify_failure(const secsock_conn *c)
{
    return c->verify_failure;
}

/* The leaf's facts, the ones a program shows first. */
const char *secsock_conn_peer_cert_subject(const secsock_conn *c)
{
    return secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SUBJECT);
}
const char *secsock_conn_peer_cert_issuer(const secsock_conn *c)
{
    return secsock_conn_peer_cert(c, 0, SECSOCK_CERT_ISSUER);
}
const char *secsock_conn_peer_cert_san(const secsock_conn *c)
{
    return secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SAN);
}
const char *secsock_conn_peer_cert_not_before(const secsock_conn *c)
{
    return secsock_conn_peer_cert(c, 0, SECSOCK_CERT_NOT_BEFORE);
}
const char *secsock_conn_peer_cert_not_after(const secsock_conn *c)
{
    return secsock_conn_peer_cert(c, 0, SECSOCK_CERT_NOT_AFTER);
}
const char *secsock_conn_peer_cert_fingerprint(const secsock_conn *c)
{
    return secsock_conn_peer_cert(c, 0, SECSOCK_CERT_FINGERPRINT);
}
