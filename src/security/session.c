/* What a handshake negotiated, as text. */
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "security/security_internal.h"

void security_session_facts(SSL *ssl, struct security_session *s)
{
    memset(s, 0, sizeof *s);
    /* Before a session exists, OpenSSL's "version" is only what we offer. */
    snprintf(s->protocol, sizeof s->protocol, "%s",
             SSL_get_session(ssl) != NULL ? SSL_get_version(ssl) : "");
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    snprintf(s->cipher, sizeof s->cipher, "%s", cipher ? SSL_CIPHER_get_name(cipher) : "");
    /* OpenSSL 3.0 dereferences the session here: none yet before a
     * ClientHello (a port scan, plaintext on a TLS port). */
    int group = SSL_get_session(ssl) != NULL ? SSL_get_negotiated_group(ssl) : 0;
    const char *gname = group ? SSL_group_to_name(ssl, group) : NULL;
    snprintf(s->group, sizeof s->group, "%s", gname ? gname : "");
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    snprintf(s->alpn, sizeof s->alpn, "%.*s", (int)alpn_len, alpn ? (const char *)alpn : "");
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    snprintf(s->sni, sizeof s->sni, "%s", sni ? sni : "");
    s->resumed = SSL_session_reused(ssl);

    /* The certificate the peer sent, also when it was refused. */
    X509 *peer = security_peer_cert(ssl, 0);
    long code = SSL_get_verify_result(ssl);
    int verifying = SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE;
    s->verified = verifying && peer != NULL && code == X509_V_OK;
    if (!verifying)
        snprintf(s->verify_result, sizeof s->verify_result, "not verified (%s)",
                 peer ? X509_verify_cert_error_string(code) : "no certificate");
    else if (peer == NULL)
        snprintf(s->verify_result, sizeof s->verify_result, "no certificate");
    else
        snprintf(s->verify_result, sizeof s->verify_result, "%s",
                 code == X509_V_OK ? "ok" : X509_verify_cert_error_string(code));
}
