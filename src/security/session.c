/* What a handshake negotiated, and who the peer is, as text. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "security/security_internal.h"

void security_cert_fingerprint(X509 *cert, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (!X509_digest(cert, EVP_sha256(), md, &mdlen))
        return;
    size_t pos = (size_t)snprintf(out, outlen, "sha256:");
    for (unsigned int i = 0; i < mdlen && pos + 3 < outlen; i++)
        pos += (size_t)snprintf(out + pos, outlen - pos, i ? ":%02X" : "%02X", md[i]);
}

static void name_text(X509_NAME *name, char *out, size_t outlen)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return;
    /* RFC 2253, control characters and non-ASCII bytes escaped: a name is
     * the peer's text and must not reach a terminal raw. */
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    int n = BIO_read(bio, out, (int)outlen - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
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

static void san_text(X509 *cert, char *out, size_t outlen)
{
    out[0] = '\0';
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        char buf[256];
        if (gn->type == GEN_DNS) {
            const ASN1_IA5STRING *s = gn->d.dNSName;
            /* Keep only printable ASCII: a SAN is attacker-chosen text. */
            int n = 0;
            for (int j = 0; j < s->length && n < (int)sizeof buf - 1; j++)
                buf[n++] = (char)(s->data[j] >= 0x20 && s->data[j] < 0x7f ? s->data[j] : '?');
            buf[n] = '\0';
            append(out, outlen, "DNS", buf);
        } else if (gn->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = gn->d.iPAddress;
            int af = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : 0;
            if (af && inet_ntop(af, ip->data, buf, sizeof buf) != NULL)
                append(out, outlen, "IP", buf);
        }
    }
    GENERAL_NAMES_free(names);
}

void security_session_info(SSL *ssl, struct secsock_session_info *info)
{
    /* Before a session exists, OpenSSL's "version" is only what we offer. */
    snprintf(info->version, sizeof info->version, "%s",
             SSL_get_session(ssl) != NULL ? SSL_get_version(ssl) : "");
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    snprintf(info->cipher, sizeof info->cipher, "%s", cipher ? SSL_CIPHER_get_name(cipher) : "");
    /* OpenSSL 3.0 dereferences the session here: none yet before a
     * ClientHello (a port scan, plaintext on a TLS port). */
    int group = SSL_get_session(ssl) != NULL ? SSL_get_negotiated_group(ssl) : 0;
    const char *gname = group ? SSL_group_to_name(ssl, group) : NULL;
    snprintf(info->group, sizeof info->group, "%s", gname ? gname : "");
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    snprintf(info->alpn, sizeof info->alpn, "%.*s", (int)alpn_len, alpn ? (const char *)alpn : "");
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    snprintf(info->sni, sizeof info->sni, "%s", sni ? sni : "");
    info->resumed = SSL_session_reused(ssl);

    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (peer != NULL) {
        info->has_peer_cert = 1;
        name_text(X509_get_subject_name(peer), info->peer_subject, sizeof info->peer_subject);
        name_text(X509_get_issuer_name(peer), info->peer_issuer, sizeof info->peer_issuer);
        san_text(peer, info->peer_san, sizeof info->peer_san);
        time_text(X509_get0_notBefore(peer), info->peer_not_before, sizeof info->peer_not_before);
        time_text(X509_get0_notAfter(peer), info->peer_not_after, sizeof info->peer_not_after);
        security_cert_fingerprint(peer, info->peer_fingerprint, sizeof info->peer_fingerprint);
    }
    info->verify_code = SSL_get_verify_result(ssl);
    int verifying = SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE;
    info->verified = verifying && peer != NULL && info->verify_code == X509_V_OK;
    if (!verifying)
        snprintf(info->verify_result, sizeof info->verify_result, "not verified (%s)",
                 peer ? X509_verify_cert_error_string(info->verify_code) : "no certificate");
    else if (peer == NULL)
        snprintf(info->verify_result, sizeof info->verify_result, "no certificate");
    else
        snprintf(info->verify_result, sizeof info->verify_result, "%s",
                 info->verify_code == X509_V_OK
                     ? "ok"
                     : X509_verify_cert_error_string(info->verify_code));
}
