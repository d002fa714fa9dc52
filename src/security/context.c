/*
 * One SSL_CTX per process, built from the config: versions, ciphers,
 * verification, certificates, ALPN and key logging. It is finished before
 * the first thread starts and only read afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "security/config_fields.h"
#include "security/security_internal.h"

/* "WHAT 'ARG': OpenSSL's reason" (ARG may be NULL). */
static SSL_CTX *ctx_fail(SSL_CTX *ctx, char *err, size_t errlen, const char *what, const char *arg)
{
    char why[160];
    security_ssl_error_text(why, sizeof why);
    if (arg != NULL)
        snprintf(err, errlen, "%s '%s': %s", what, arg, why);
    else
        snprintf(err, errlen, "%s: %s", what, why);
    SSL_CTX_free(ctx);
    return NULL;
}

/* A pin (secsock_config_set_pin) replaces chain, date and name
 * verification: exactly that certificate, or that public key, is trusted.
 * The connection reads the refused certificate from the SSL afterwards
 * (the chain it was sent). */
static int verify_pin(X509_STORE_CTX *store, void *arg)
{
    const struct security_ctx_state *state = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 32;
    int ok = leaf != NULL && (state->pin_kind == SECSOCK_PIN_SPKI
                                  ? security_spki_digest(leaf, md)
                                  : X509_digest(leaf, EVP_sha256(), md, &mdlen) && mdlen == 32);
    if (ok && CRYPTO_memcmp(md, state->pin, 32) == 0)
        return 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    const struct security_ctx_state *state = arg;
    unsigned char *chosen = NULL;
    if (SSL_select_next_proto(&chosen, outlen, state->alpn, (unsigned int)state->alpn_len, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no common protocol: carry on without ALPN */
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

static int load_own_certificate(SSL_CTX *ctx, const secsock_config *cfg,
                                struct security_ctx_state *state, char *err, size_t errlen)
{
    if (cfg->self_signed && (cfg->cert_file != NULL || cfg->key_file != NULL)) {
        /* Which one was meant? Using either silently would surprise. */
        snprintf(err, errlen,
                 "a self-signed certificate and a certificate file contradict "
                 "each other");
        return -1;
    }
    if (cfg->self_signed) {
        X509 *cert = NULL;
        EVP_PKEY *key = NULL;
        if (selfsigned_make(&cert, &key, err, errlen) != 0)
            return -1;
        int ok = SSL_CTX_use_certificate(ctx, cert) && SSL_CTX_use_PrivateKey(ctx, key);
        security_cert_fingerprint(cert, state->fingerprint, sizeof state->fingerprint);
        security_spki_pin(cert, state->spki_pin, sizeof state->spki_pin);
        ok = ok && (state->cert_pem = selfsigned_pem(cert)) != NULL;
        X509_free(cert);
        EVP_PKEY_free(key);
        if (!ok) {
            snprintf(err, errlen, "cannot use the self-signed certificate");
            return -1;
        }
        return 0;
    }
    if (cfg->cert_file == NULL && cfg->key_file == NULL)
        return 0;
    if (cfg->cert_file == NULL || cfg->key_file == NULL) {
        snprintf(err, errlen, "a certificate needs its key, and a key its certificate");
        return -1;
    }
    char why[160];
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
        snprintf(err, errlen, "cannot load certificate '%s': %s", cfg->cert_file,
                 security_ssl_error_text(why, sizeof why));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
        /* OpenSSL compares the key with the certificate while loading it. */
        int reason = ERR_GET_REASON(ERR_peek_last_error());
        if (reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH) {
            ERR_clear_error();
            snprintf(err, errlen, "key '%s' does not match certificate '%s'", cfg->key_file,
                     cfg->cert_file);
        } else {
            snprintf(err, errlen, "cannot load key '%s': %s", cfg->key_file,
                     security_ssl_error_text(why, sizeof why));
        }
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "key '%s' does not match certificate '%s'", cfg->key_file,
                 cfg->cert_file);
        return -1;
    }
    return 0;
}

/* OpenSSL 3.0 fills a certificate's extension cache on first use, without
 * a lock (openssl#20402): fill it for every trust anchor now, before
 * threads verify against the shared store. */
static void warm_trust_store(SSL_CTX *ctx)
{
#if OPENSSL_VERSION_NUMBER >= 0x30300000L
    /* A copy (get0 is deprecated in 4.0, get1 exists from 3.3). */
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get1_objects(SSL_CTX_get_cert_store(ctx));
#else
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
#endif
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x != NULL)
            (void)X509_check_purpose(x, -1, 0);
    }
#if OPENSSL_VERSION_NUMBER >= 0x30300000L
    sk_X509_OBJECT_pop_free(objs, X509_OBJECT_free); /* the certificates are shared */
#endif
}

static int setup_verification(SSL_CTX *ctx, const secsock_config *cfg, enum secsock_role role,
                              struct security_ctx_state *state, char *err, size_t errlen)
{
    char why[160];
    if (cfg->cafile != NULL && SSL_CTX_load_verify_locations(ctx, cfg->cafile, NULL) != 1) {
        snprintf(err, errlen, "cannot load CA file '%s': %s", cfg->cafile,
                 security_ssl_error_text(why, sizeof why));
        return -1;
    }
    if (role == SECSOCK_SERVER) {
        if (!cfg->verify_client) {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
            return 0;
        }
        if (cfg->cafile == NULL) {
            snprintf(err, errlen, "verifying clients needs a CA file");
            return -1;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->cafile);
        if (names != NULL)
            SSL_CTX_set_client_CA_list(ctx, names);
        warm_trust_store(ctx);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        return 0;
    }
    if (cfg->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cfg->has_pin) {
        state->has_pin = 1;
        state->pin_kind = cfg->pin_kind;
        memcpy(state->pin, cfg->pin, sizeof state->pin);
        SSL_CTX_set_cert_verify_callback(ctx, verify_pin, state);
    } else if (cfg->cafile == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errlen, "cannot load the system's CA certificates: %s",
                 security_ssl_error_text(why, sizeof why));
        return -1;
    }
    warm_trust_store(ctx); /* once it holds every anchor verification will use */
    return 0;
}

static int setup_alpn(SSL_CTX *ctx, const secsock_config *cfg, enum secsock_role role,
                      struct security_ctx_state *state, char *err, size_t errlen)
{
    if (cfg->alpn == NULL)
        return 0;
    if (role == SECSOCK_CLIENT) {
        /* SSL_CTX_set_alpn_protos returns 0 on success. */
        if (SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)cfg->alpn,
                                    (unsigned int)cfg->alpn_len) != 0) {
            snprintf(err, errlen, "cannot set ALPN protocols");
            return -1;
        }
        return 0;
    }
    state->alpn = malloc(cfg->alpn_len);
    if (state->alpn == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(state->alpn, cfg->alpn, cfg->alpn_len);
    state->alpn_len = cfg->alpn_len;
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, state);
    return 0;
}

void security_ctx_state_clear(struct security_ctx_state *state)
{
    free(state->alpn);
    free(state->cert_pem);
    ech_state_clear(&state->ech);
    memset(state, 0, sizeof *state);
}

SSL_CTX *security_context_new(const secsock_config *cfg, enum secsock_role role,
                              const SSL_METHOD *method, struct security_ctx_state *state, char *err,
                              size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (ctx == NULL)
        return ctx_fail(ctx, err, errlen, "cannot create the TLS context", NULL);

    /* DTLS: 1.2 (1.0 is refused); 1.3 only when asked for (--tls-max 1.3)
     * and the OpenSSL built against has it (4.1 and later). */
    int dtls = method == DTLS_method();
    int dtls_max = DTLS1_2_VERSION;
    if (dtls && cfg->max_version == SECSOCK_TLS1_3) {
#ifdef SECSOCK_HAVE_DTLS1_3
        dtls_max = DTLS1_3_VERSION;
#else
        snprintf(err, errlen, "DTLS 1.3 needs OpenSSL 4.1 or later; this is %s",
                 OpenSSL_version(OPENSSL_VERSION));
        SSL_CTX_free(ctx);
        return NULL;
#endif
    }
    if (!SSL_CTX_set_min_proto_version(ctx, dtls ? DTLS1_2_VERSION : cfg->min_version) ||
        !SSL_CTX_set_max_proto_version(ctx, dtls ? dtls_max : cfg->max_version))
        return ctx_fail(ctx, err, errlen, "cannot set the TLS versions", NULL);
    /* Renegotiation is an attack surface with no use here. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* Partial writes let write_nowait report progress record by record. */
    long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
    if (role == SECSOCK_SERVER)
        mode |= SSL_MODE_RELEASE_BUFFERS; /* idle connections hold no record buffers */
    SSL_CTX_set_mode(ctx, mode);

    /* Key exchange: the hybrid post-quantum group first where the library
     * has it, then Mozilla "intermediate"'s X25519, P-256, P-384. */
    const char *groups = cfg->groups != NULL ? cfg->groups : security_default_groups(dtls);
    if (SSL_CTX_set1_groups_list(ctx, groups) != 1)
        return ctx_fail(ctx, err, errlen, "cannot use key-exchange groups", groups);
    const char *ciphers = cfg->ciphers != NULL ? cfg->ciphers : SECSOCK_DEFAULT_CIPHERS;
    if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
        return ctx_fail(ctx, err, errlen, "cannot use cipher list", ciphers);
    const char *suites =
        cfg->ciphersuites != NULL ? cfg->ciphersuites : SECSOCK_DEFAULT_CIPHERSUITES;
    if (!dtls && SSL_CTX_set_ciphersuites(ctx, suites) != 1)
        return ctx_fail(ctx, err, errlen, "cannot use cipher suites", suites);
    /* A server that verifies clients refuses to resume a session without a
     * session id context (TLS 1.2: "session id context uninitialized"). */
    static const unsigned char sid_ctx[] = "secsock";
    if (role == SECSOCK_SERVER &&
        SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1) != 1)
        return ctx_fail(ctx, err, errlen, "cannot set the session id context", NULL);
    if (role == SECSOCK_SERVER && cfg->session_tickets >= 0) {
        SSL_CTX_set_num_tickets(ctx, (size_t)cfg->session_tickets);
        if (cfg->session_tickets == 0) {
            /* No resumption at all: no TLS 1.2 tickets and no cache either. */
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        }
    }

    if (dtls && (cfg->ech.key_file || cfg->ech.public_name || cfg->ech.config_list ||
                 cfg->ech.grease || cfg->ech.required)) {
        snprintf(err, errlen, "Encrypted Client Hello is for TLS 1.3, not DTLS");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (load_own_certificate(ctx, cfg, state, err, errlen) != 0 ||
        setup_verification(ctx, cfg, role, state, err, errlen) != 0 ||
        setup_alpn(ctx, cfg, role, state, err, errlen) != 0 ||
        ech_context_setup(ctx, &cfg->ech, cfg->max_version, role, &state->ech, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (role == SECSOCK_SERVER && !cfg->self_signed && cfg->cert_file == NULL) {
        snprintf(err, errlen,
                 "a TLS server needs a certificate and key, or a self-signed certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
