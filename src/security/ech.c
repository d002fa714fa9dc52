/*
 * Encrypted Client Hello (RFC 9849) with OpenSSL 4's OSSL_ECHSTORE: the
 * config's ECH setters, the SSL_CTX's keys (server) or configs (client),
 * and what a connection's ECH did. Built without SECSOCK_HAVE_ECH (an
 * OpenSSL before 4.0, or one configured no-ech), every setter refuses,
 * naming the OpenSSL it needs and the one this library was built with.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#ifdef SECSOCK_HAVE_ECH
#include <openssl/ech.h>
#endif

#include "security/config_fields.h"
#include "security/ech_internal.h"
#include "security/security_internal.h"

int secsock_ech_supported(void)
{
#ifdef SECSOCK_HAVE_ECH
    return 1;
#else
    return 0;
#endif
}

const char *secsock_ech_status_name(enum secsock_ech_status status)
{
    switch (status) {
    case SECSOCK_ECH_NONE: return "none";
    case SECSOCK_ECH_ACCEPTED: return "accepted";
    case SECSOCK_ECH_REJECTED: return "rejected";
    case SECSOCK_ECH_GREASE: return "GREASE";
    default: return "unknown";
    }
}

#ifndef SECSOCK_HAVE_ECH
/* One line: what is needed, and what this library has. */
static void unsupported_text(char *out, size_t outlen)
{
    snprintf(out, outlen,
             "Encrypted Client Hello (ECH) needs OpenSSL 4.0 or later; this secsock was built "
             "with OpenSSL %d.%d.%d",
             OPENSSL_VERSION_MAJOR, OPENSSL_VERSION_MINOR, OPENSSL_VERSION_PATCH);
}

static enum secsock_status unsupported(secsock_config *cfg)
{
    unsupported_text(cfg->error, sizeof cfg->error);
    return SECSOCK_ERR_CONFIG;
}
#else
static enum secsock_status ech_fail(secsock_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum secsock_status ech_fail(secsock_config *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
    va_end(ap);
    return SECSOCK_ERR_CONFIG;
}

static enum secsock_status out_of_memory(secsock_config *cfg)
{
    snprintf(cfg->error, sizeof cfg->error, "out of memory");
    return SECSOCK_ERR_NOMEM;
}
#endif

void ech_config_clear(struct security_ech_config *ech)
{
    free(ech->key_file);
    free(ech->public_name);
    free(ech->config_list);
    memset(ech, 0, sizeof *ech);
}

void ech_state_clear(struct security_ech_state *state)
{
    free(state->config_list);
    free(state->public_name);
    memset(state, 0, sizeof *state);
}

#ifdef SECSOCK_HAVE_ECH

static enum secsock_status replace(secsock_config *cfg, char **field, char *value)
{
    if (value == NULL)
        return out_of_memory(cfg);
    free(*field);
    *field = value;
    return SECSOCK_OK;
}

/* A DNS name as an ECHConfig's public_name must be: letters, digits,
 * hyphens, dots between labels; no address, no wildcard. */
static int valid_public_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 253 || name[0] == '.' || name[len - 1] == '.' ||
        strstr(name, "..") != NULL)
        return 0;
    int letters = 0;
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return 0;
        letters |= isalpha((unsigned char)*p);
    }
    return letters; /* "192.0.2.1" is an address, not a name */
}

/* OpenSSL's words for the first queued error, or what. */
static const char *why_text(char *buf, size_t len, const char *what)
{
    if (ERR_peek_error() == 0) {
        snprintf(buf, len, "%s", what);
        return buf;
    }
    return security_ssl_error_text(buf, len);
}

/* An ECHConfigList the client was given: base64 (whitespace dropped
 * already) or PEM text. NULL with why when it holds no usable config. */
static OSSL_ECHSTORE *client_store(const char *text, char *why, size_t whylen)
{
    OSSL_ECHSTORE *es = OSSL_ECHSTORE_new(NULL, NULL);
    BIO *in = BIO_new_mem_buf(text, -1);
    int ok = es != NULL && in != NULL;
    if (ok && strstr(text, "-----BEGIN") != NULL)
        ok = OSSL_ECHSTORE_read_pem(es, in, OSSL_ECH_NO_RETRY) == 1;
    else if (ok)
        ok = OSSL_ECHSTORE_read_echconfiglist(es, in) == 1;
    int n = 0;
    if (ok && (OSSL_ECHSTORE_num_entries(es, &n) != 1 || n < 1)) {
        ok = 0;
        snprintf(why, whylen,
                 "no ECH config this OpenSSL can use (version 0xfe0d, a known "
                 "HPKE suite)");
    } else if (!ok) {
        why_text(why, whylen, "not an ECHConfigList");
    }
    BIO_free(in);
    ERR_clear_error();
    if (!ok) {
        OSSL_ECHSTORE_free(es);
        return NULL;
    }
    return es;
}

/* A server's keys: the PEM file's, or a fresh one for the public name.
 * Their configs go into retry_configs, so a client holding an old config
 * learns the current one. */
static OSSL_ECHSTORE *server_store(const struct security_ech_config *ech, char *why, size_t whylen)
{
    OSSL_ECHSTORE *es = OSSL_ECHSTORE_new(NULL, NULL);
    OSSL_ECHSTORE *fresh = NULL;
    BIO *in = NULL;
    int ok = es != NULL;
    if (ok && ech->key_file != NULL) {
        ok = (in = BIO_new_file(ech->key_file, "r")) != NULL;
    } else if (ok) {
        /* A new key in a store of its own, then read back as a PEM like a
         * key file's: that is how an entry is marked for retry_configs. */
        OSSL_HPKE_SUITE suite = OSSL_HPKE_SUITE_DEFAULT;
        ok = (fresh = OSSL_ECHSTORE_new(NULL, NULL)) != NULL &&
             OSSL_ECHSTORE_new_config(fresh, OSSL_ECH_CURRENT_VERSION, 0, ech->public_name,
                                      suite) == 1 &&
             (in = BIO_new(BIO_s_mem())) != NULL && OSSL_ECHSTORE_write_pem(fresh, 0, in) == 1;
    }
    ok = ok && OSSL_ECHSTORE_read_pem(es, in, OSSL_ECH_FOR_RETRY) == 1;
    int keys = 0;
    if (!ok)
        why_text(why, whylen, "not an ECH key and config (PEM)");
    else if (OSSL_ECHSTORE_num_keys(es, &keys) != 1 || keys < 1)
        snprintf(why, whylen, "it holds an ECHConfigList but no private key");
    ok = ok && keys > 0;
    BIO_free(in);
    OSSL_ECHSTORE_free(fresh);
    ERR_clear_error();
    if (!ok) {
        OSSL_ECHSTORE_free(es);
        return NULL;
    }
    return es;
}

/* bytes as one line of base64 (malloc'd), or NULL. */
static char *base64_line(const unsigned char *bytes, size_t len)
{
    if (len > 65536)
        return NULL;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, bytes, (int)len);
    return out;
}

/* The store's public ECHConfigList, every config in one, as base64. */
static char *store_config_list(OSSL_ECHSTORE *es)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *name = NULL, *header = NULL, *out = NULL;
    unsigned char *data = NULL;
    long len = 0;
    if (mem != NULL && OSSL_ECHSTORE_write_pem(es, OSSL_ECHSTORE_ALL, mem) == 1 &&
        PEM_read_bio(mem, &name, &header, &data, &len) == 1 && len > 0)
        out = base64_line(data, (size_t)len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(mem);
    ERR_clear_error();
    return out;
}

/* The public name of the store's first config (malloc'd), or NULL. */
static char *store_public_name(OSSL_ECHSTORE *es)
{
    char *name = NULL, *config = NULL, *out = NULL;
    time_t loaded = 0;
    int has_private = 0, for_retry = 0;
    if (OSSL_ECHSTORE_get1_info(es, 0, &loaded, &name, &config, &has_private, &for_retry) == 1 &&
        name != NULL)
        out = strdup(name);
    OPENSSL_free(name);
    OPENSSL_free(config);
    ERR_clear_error();
    return out;
}

#endif /* SECSOCK_HAVE_ECH */

enum secsock_status secsock_config_set_ech_key_file(secsock_config *cfg, const char *path)
{
#ifdef SECSOCK_HAVE_ECH
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return ech_fail(cfg, "cannot read ECH key file '%s': %s", path, strerror(errno));
    (void)fclose(f); /* opened for reading only */
    struct security_ech_config probe = { .key_file = (char *)path };
    char why[160];
    OSSL_ECHSTORE *es = server_store(&probe, why, sizeof why);
    if (es == NULL)
        return ech_fail(cfg,
                        "cannot use ECH key file '%s': %s (make one with: openssl ech "
                        "-public_name NAME -out FILE)",
                        path, why);
    OSSL_ECHSTORE_free(es);
    return replace(cfg, &cfg->ech.key_file, strdup(path));
#else
    (void)path;
    return unsupported(cfg);
#endif
}

enum secsock_status secsock_config_set_ech_public_name(secsock_config *cfg, const char *name)
{
#ifdef SECSOCK_HAVE_ECH
    if (!valid_public_name(name))
        return ech_fail(cfg,
                        "invalid ECH public name '%.253s': want a DNS name such as "
                        "public.example.com",
                        name);
    return replace(cfg, &cfg->ech.public_name, strdup(name));
#else
    (void)name;
    return unsupported(cfg);
#endif
}

enum secsock_status secsock_config_set_ech_config_list(secsock_config *cfg, const char *text)
{
#ifdef SECSOCK_HAVE_ECH
    /* Base64 as it comes from dig or a file, lines and all, without its
     * whitespace (OpenSSL's decoder wants none); PEM text as it is. */
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return out_of_memory(cfg);
    if (strstr(text, "-----BEGIN") != NULL) {
        memcpy(copy, text, len + 1);
    } else {
        size_t n = 0;
        for (const char *p = text; *p; p++)
            if (!isspace((unsigned char)*p))
                copy[n++] = *p;
        copy[n] = '\0';
    }
    char why[160];
    OSSL_ECHSTORE *es = copy[0] != '\0' ? client_store(copy, why, sizeof why) : NULL;
    if (es == NULL) {
        free(copy);
        return ech_fail(cfg, "invalid ECHConfigList: %s (want the server's, in base64)",
                        text[0] != '\0' ? why : "empty");
    }
    OSSL_ECHSTORE_free(es);
    return replace(cfg, &cfg->ech.config_list, copy);
#else
    (void)text;
    return unsupported(cfg);
#endif
}

enum secsock_status secsock_config_require_ech(secsock_config *cfg, int on)
{
#ifdef SECSOCK_HAVE_ECH
    cfg->ech.required = on != 0;
    return SECSOCK_OK;
#else
    (void)on;
    return unsupported(cfg);
#endif
}

enum secsock_status secsock_config_set_ech_grease(secsock_config *cfg, int on)
{
#ifdef SECSOCK_HAVE_ECH
    cfg->ech.grease = on != 0;
    return SECSOCK_OK;
#else
    (void)on;
    return unsupported(cfg);
#endif
}

int ech_context_setup(SSL_CTX *ctx, const struct security_ech_config *ech, int max_version,
                      enum secsock_role role, struct security_ech_state *state, char *err,
                      size_t errlen)
{
    int server_side = ech->key_file != NULL || ech->public_name != NULL;
    int client_side = ech->config_list != NULL || ech->grease || ech->required;
    if (!server_side && !client_side)
        return 0;
#ifndef SECSOCK_HAVE_ECH
    (void)ctx;
    (void)max_version;
    (void)role;
    (void)state;
    unsupported_text(err, errlen);
    return -1;
#else
    if (max_version != 0 && max_version < TLS1_3_VERSION) {
        snprintf(err, errlen, "ECH needs TLS 1.3, and the maximum version is TLS 1.2");
        return -1;
    }
    if (role == SECSOCK_SERVER && client_side) {
        snprintf(err, errlen, "an ECHConfigList, ECH GREASE and requiring ECH are for clients");
        return -1;
    }
    if (role == SECSOCK_CLIENT && server_side) {
        snprintf(err, errlen, "an ECH key is for servers; a client needs the ECHConfigList");
        return -1;
    }
    if (ech->key_file != NULL && ech->public_name != NULL) {
        snprintf(err, errlen,
                 "an ECH key file and a public name to make a key for contradict "
                 "each other");
        return -1;
    }
    if (ech->config_list != NULL && ech->grease) {
        snprintf(err, errlen,
                 "an ECHConfigList and ECH GREASE contradict each other (GREASE "
                 "is for a client without a config)");
        return -1;
    }
    char why[160];
    OSSL_ECHSTORE *es = NULL;
    if (role == SECSOCK_SERVER) {
        es = server_store(ech, why, sizeof why);
        if (es == NULL) {
            if (ech->key_file != NULL)
                snprintf(err, errlen, "cannot use ECH key file '%s': %s", ech->key_file, why);
            else
                snprintf(err, errlen, "cannot make an ECH key for '%s': %s", ech->public_name, why);
            return -1;
        }
        state->config_list = store_config_list(es);
        state->public_name = store_public_name(es);
        if (state->config_list == NULL || state->public_name == NULL) {
            OSSL_ECHSTORE_free(es);
            snprintf(err, errlen, "cannot read the ECH config back: out of memory");
            return -1;
        }
    } else if (ech->config_list != NULL) {
        es = client_store(ech->config_list, why, sizeof why);
        if (es == NULL) {
            snprintf(err, errlen, "invalid ECHConfigList: %s", why);
            return -1;
        }
        state->offered = 1;
    }
    int ok = es == NULL || SSL_CTX_set1_echstore(ctx, es) == 1; /* it keeps a copy */
    OSSL_ECHSTORE_free(es);
    if (!ok) {
        snprintf(err, errlen, "cannot set up ECH: %s", security_ssl_error_text(why, sizeof why));
        return -1;
    }
    if (ech->grease)
        SSL_CTX_set_options(ctx, SSL_OP_ECH_GREASE);
    state->required = ech->required;
    return 0;
#endif
}

void ech_session_info(SSL *ssl, struct security_ech_facts *info)
{
    memset(info, 0, sizeof *info);
#ifdef SECSOCK_HAVE_ECH
    char *inner = NULL, *outer = NULL;
    ERR_set_mark(); /* a status of "failed" queues an error: not the caller's */
    int status = SSL_ech_get1_status(ssl, &inner, &outer);
    switch (status) {
    case SSL_ECH_STATUS_SUCCESS:
    case SSL_ECH_STATUS_BAD_NAME: /* ECH worked; the certificate is another matter */
    case SSL_ECH_STATUS_BACKEND: info->status = SECSOCK_ECH_ACCEPTED; break;
    case SSL_ECH_STATUS_GREASE:
    case SSL_ECH_STATUS_GREASE_ECH: info->status = SECSOCK_ECH_GREASE; break;
    case SSL_ECH_STATUS_FAILED:
    case SSL_ECH_STATUS_FAILED_ECH:
    case SSL_ECH_STATUS_FAILED_ECH_BAD_NAME: info->status = SECSOCK_ECH_REJECTED; break;
    default: info->status = SECSOCK_ECH_NONE; break;
    }
    snprintf(info->inner_name, sizeof info->inner_name, "%s", inner != NULL ? inner : "");
    snprintf(info->outer_name, sizeof info->outer_name, "%s", outer != NULL ? outer : "");
    OPENSSL_free(inner);
    OPENSSL_free(outer);
    unsigned char *retry = NULL;
    size_t retry_len = 0;
    if (info->status == SECSOCK_ECH_REJECTED && !SSL_is_server(ssl) &&
        SSL_ech_get1_retry_config(ssl, &retry, &retry_len) == 1 && retry != NULL &&
        4 * ((retry_len + 2) / 3) < sizeof info->retry_config_list)
        EVP_EncodeBlock((unsigned char *)info->retry_config_list, retry, (int)retry_len);
    OPENSSL_free(retry);
    ERR_pop_to_mark();
#else
    (void)ssl;
#endif
}
