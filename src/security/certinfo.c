/*
 * A certificate as text for people: names, SAN, validity, the SHA-256
 * fingerprint of the certificate and curl's public-key pin (the SHA-256 of
 * the SubjectPublicKeyInfo). Everything here is the peer's text, so every
 * string comes out as printable ASCII.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "security/security_internal.h"

/* Printable ASCII only: what OpenSSL's escaping leaves unescaped (DEL,
 * say) must not reach a terminal either. */
static void printable(char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            *s = '?';
}

void security_pin_text(int kind, const unsigned char md[32], char *out, size_t outlen)
{
    if (kind == SECSOCK_PIN_SPKI) {
        unsigned char b64[45]; /* 4 * ceil(32 / 3) + NUL */
        EVP_EncodeBlock(b64, md, 32);
        snprintf(out, outlen, "sha256//%s", (const char *)b64);
        return;
    }
    size_t pos = (size_t)snprintf(out, outlen, "sha256:");
    for (int i = 0; i < 32 && pos + 3 < outlen; i++)
        pos += (size_t)snprintf(out + pos, outlen - pos, i ? ":%02X" : "%02X", md[i]);
}

void security_cert_fingerprint(X509 *cert, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (X509_digest(cert, EVP_sha256(), md, &mdlen) && mdlen == 32)
        security_pin_text(SECSOCK_PIN_CERT, md, out, outlen);
}

int security_spki_digest(X509 *cert, unsigned char md[32])
{
    /* The whole SubjectPublicKeyInfo in DER, as curl's --pinnedpubkey and
     * HPKP hash it (X509_pubkey_digest would hash the key bits only). */
    unsigned char *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    unsigned int mdlen = 0;
    int ok = len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) &&
             mdlen == 32;
    OPENSSL_free(der);
    return ok;
}

void security_spki_pin(X509 *cert, char *out, size_t outlen)
{
    unsigned char md[32];
    out[0] = '\0';
    if (security_spki_digest(cert, md))
        security_pin_text(SECSOCK_PIN_SPKI, md, out, outlen);
}

void security_name_text(const X509_NAME *name, char *out, size_t outlen)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return;
    /* RFC 2253, control characters and non-ASCII bytes escaped. */
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    int n = BIO_read(bio, out, (int)outlen - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
    printable(out);
}

static void time_text(const ASN1_TIME *t, char *out, size_t outlen)
{
    struct tm tm;
    out[0] = '\0';
    if (t != NULL && ASN1_TIME_to_tm(t, &tm) &&
        strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0'; /* did not fit: out is indeterminate (C11 7.27.3.5) */
}

/* Appends "KIND:VALUE" to a comma-separated list. */
static void append(char *out, size_t outlen, const char *kind, const char *value)
{
    size_t used = strlen(out);
    if (used < outlen)
        snprintf(out + used, outlen - used, "%s%s:%s", used ? ", " : "", kind, value);
}

void security_san_text(X509 *cert, char *out, size_t outlen)
{
    out[0] = '\0';
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        char buf[256];
        if (gn->type == GEN_DNS) {
            /* Through the accessors: OpenSSL 4.0 made ASN1_STRING opaque. */
            const unsigned char *d = ASN1_STRING_get0_data(gn->d.dNSName);
            int len = ASN1_STRING_length(gn->d.dNSName);
            /* Keep only printable ASCII: a SAN is attacker-chosen text. */
            int n = 0;
            for (int j = 0; j < len && n < (int)sizeof buf - 1; j++)
                buf[n++] = (char)(d[j] >= 0x20 && d[j] < 0x7f ? d[j] : '?');
            buf[n] = '\0';
            append(out, outlen, "DNS", buf);
        } else if (gn->type == GEN_IPADD) {
            int len = ASN1_STRING_length(gn->d.iPAddress);
            int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
            if (af && inet_ntop(af, ASN1_STRING_get0_data(gn->d.iPAddress), buf, sizeof buf) != NULL)
                append(out, outlen, "IP", buf);
        }
    }
    GENERAL_NAMES_free(names);
}

void security_cert_text(X509 *cert, struct security_cert_text *out)
{
    security_name_text(X509_get_subject_name(cert), out->subject, sizeof out->subject);
    security_name_text(X509_get_issuer_name(cert), out->issuer, sizeof out->issuer);
    security_san_text(cert, out->san, sizeof out->san);
    time_text(X509_get0_notBefore(cert), out->not_before, sizeof out->not_before);
    time_text(X509_get0_notAfter(cert), out->not_after, sizeof out->not_after);
    security_cert_fingerprint(cert, out->fingerprint, sizeof out->fingerprint);
    security_spki_pin(cert, out->spki_pin, sizeof out->spki_pin);
}

X509 *security_peer_cert(SSL *ssl, int i)
{
    /* A client keeps the chain the server sent even when its verification
     * failed (the peer certificate is set only once it passed). Whether
     * that chain starts with the leaf differs between client and server,
     * and between OpenSSL versions: the chain itself says. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n > 0 && (leaf == NULL || X509_cmp(sk_X509_value(chain, 0), leaf) == 0))
        return i >= 0 && i < n ? sk_X509_value(chain, i) : NULL;
    if (i == 0)
        return leaf;
    return i > 0 && i - 1 < n ? sk_X509_value(chain, i - 1) : NULL;
}

int security_peer_cert_count(SSL *ssl)
{
    int n = 0;
    while (security_peer_cert(ssl, n) != NULL)
        n++;
    return n;
}
