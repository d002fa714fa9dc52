/*
 * A certificate as text for people: names, SAN, validity, the SHA-256
 * fingerprint of the certificate and curl's public-key pin (the SHA-256 of
 * the SubjectPublicKeyInfo). Everything here is the peer's text, so every
 * string comes out as printable ASCII.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
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
    int ok = len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32;
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

char *security_name_alloc(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return NULL;
    /* RFC 2253, control characters and non-ASCII bytes escaped. */
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *text = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (text != NULL) {
        if (n > 0)
            memcpy(text, data, (size_t)n);
        text[n > 0 ? n : 0] = '\0';
        printable(text);
    }
    BIO_free(bio);
    return text;
}

void security_name_text(const X509_NAME *name, char *out, size_t outlen)
{
    char *text = security_name_alloc(name);
    snprintf(out, outlen, "%s", text != NULL ? text : "");
    free(text);
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
static void append(FILE *out, int *first, const char *kind, const char *value)
{
    fprintf(out, "%s%s:%s", *first ? "" : ", ", kind, value);
    *first = 0;
}

char *security_san_alloc(X509 *cert)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        return NULL;
    int first = 1;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS) {
            /* Through the accessors: OpenSSL 4.0 made ASN1_STRING opaque. */
            const unsigned char *d = ASN1_STRING_get0_data(gn->d.dNSName);
            int n = ASN1_STRING_length(gn->d.dNSName);
            /* Keep only printable ASCII: a SAN is attacker-chosen text. */
            fprintf(out, "%sDNS:", first ? "" : ", ");
            first = 0;
            for (int j = 0; j < n; j++)
                fputc(d[j] >= 0x20 && d[j] < 0x7f ? d[j] : '?', out);
        } else if (gn->type == GEN_IPADD) {
            int n = ASN1_STRING_length(gn->d.iPAddress);
            int af = n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;
            char buf[INET6_ADDRSTRLEN];
            if (af &&
                inet_ntop(af, ASN1_STRING_get0_data(gn->d.iPAddress), buf, sizeof buf) != NULL)
                append(out, &first, "IP", buf);
        }
    }
    GENERAL_NAMES_free(names);
    if (fclose(out) != 0) { /* out of memory while writing */
        free(text);
        return NULL;
    }
    return text;
}

void security_san_text(X509 *cert, char *out, size_t outlen)
{
    char *text = security_san_alloc(cert);
    snprintf(out, outlen, "%s", text != NULL ? text : "");
    free(text);
}

void security_cert_text(X509 *cert, struct security_cert_text *out)
{
    out->subject = security_name_alloc(X509_get_subject_name(cert));
    out->issuer = security_name_alloc(X509_get_issuer_name(cert));
    out->san = security_san_alloc(cert);
    time_text(X509_get0_notBefore(cert), out->not_before, sizeof out->not_before);
    time_text(X509_get0_notAfter(cert), out->not_after, sizeof out->not_after);
    security_cert_fingerprint(cert, out->fingerprint, sizeof out->fingerprint);
    security_spki_pin(cert, out->spki_pin, sizeof out->spki_pin);
}

void security_cert_text_free(struct security_cert_text *text)
{
    free(text->subject);
    free(text->issuer);
    free(text->san);
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
