/* What a handshake negotiated, and who the peer is, as text. */
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "security/security_internal.h"

#define SAME_SIZE(field)                                                                      \
    _Static_assert(sizeof((struct secsock_session_info *)0)->peer_##field ==                  \
                       sizeof((struct security_cert_text *)0)->field,                         \
                   "peer_" #field)
SAME_SIZE(subject);
SAME_SIZE(issuer);
SAME_SIZE(san);
SAME_SIZE(not_before);
SAME_SIZE(not_after);
SAME_SIZE(fingerprint);

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

    /* The certificate the peer sent, also when it was refused. */
    X509 *peer = security_peer_cert(ssl, 0);
    if (peer != NULL) {
        struct security_cert_text text;
        security_cert_text(peer, &text);
        info->has_peer_cert = 1;
        memcpy(info->peer_subject, text.subject, sizeof info->peer_subject);
        memcpy(info->peer_issuer, text.issuer, sizeof info->peer_issuer);
        memcpy(info->peer_san, text.san, sizeof info->peer_san);
        memcpy(info->peer_not_before, text.not_before, sizeof info->peer_not_before);
        memcpy(info->peer_not_after, text.not_after, sizeof info->peer_not_after);
        memcpy(info->peer_fingerprint, text.fingerprint, sizeof info->peer_fingerprint);
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
