/* The security configuration: checked setters with secure defaults. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "security/config_fields.h"
#include "security/security_internal.h"

/* Keeps the reason in cfg (its one error channel) and returns the status
 * the setter gives: out of memory, or a value refused. */
static enum secsock_status config_fail(secsock_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum secsock_status config_fail(secsock_config *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
    va_end(ap);
    return strcmp(cfg->error, "out of memory") == 0 ? SECSOCK_ERR_NOMEM : SECSOCK_ERR_CONFIG;
}

enum secsock_status secsock_config_new(secsock_config **out)
{
    secsock_config *cfg = calloc(1, sizeof *cfg);
    *out = cfg;
    if (cfg == NULL)
        return SECSOCK_ERR_NOMEM;
    cfg->min_version = SECSOCK_TLS1_2;
    cfg->session_tickets = -1; /* OpenSSL's default */
    return SECSOCK_OK;
}

void secsock_config_free(secsock_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->cafile);
    free(cfg->cert_file);
    free(cfg->key_file);
    free(cfg->servername);
    free(cfg->alpn);
    free(cfg->ciphers);
    free(cfg->ciphersuites);
    free(cfg->groups);
    free(cfg->keylog_file);
    ech_config_clear(&cfg->ech);
    free(cfg);
}

const char *secsock_config_error(const secsock_config *cfg)
{
    return cfg->error;
}

static enum secsock_status set_string(secsock_config *cfg, char **field, const char *value)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return config_fail(cfg, "out of memory");
    free(*field);
    *field = copy;
    return 0;
}

/* A file option must name a readable file: say which one when it does not. */
static enum secsock_status set_readable_file(secsock_config *cfg, char **field, const char *what,
                                             const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return config_fail(cfg, "cannot read %s '%s': %s", what, path, strerror(errno));
    (void)fclose(f); /* opened for reading only: nothing to lose */
    return set_string(cfg, field, path);
}

enum secsock_status secsock_config_set_cafile(secsock_config *cfg, const char *path)
{
    return set_readable_file(cfg, &cfg->cafile, "CA file", path);
}

enum secsock_status secsock_config_set_cert_file(secsock_config *cfg, const char *path)
{
    return set_readable_file(cfg, &cfg->cert_file, "certificate file", path);
}

enum secsock_status secsock_config_set_key_file(secsock_config *cfg, const char *path)
{
    return set_readable_file(cfg, &cfg->key_file, "key file", path);
}

enum secsock_status secsock_config_set_self_signed(secsock_config *cfg, int on)
{
    cfg->self_signed = on != 0;
    return 0;
}

enum secsock_status secsock_config_set_servername(secsock_config *cfg, const char *name)
{
    if (name[0] == '\0' || strlen(name) > 253)
        return config_fail(cfg, "invalid server name '%s'", name);
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr(".-_:*", *p) == NULL)
            return config_fail(cfg, "invalid server name '%s'", name);
    return set_string(cfg, &cfg->servername, name);
}

enum secsock_status secsock_config_insecure_noverify(secsock_config *cfg)
{
    cfg->insecure = 1;
    return 0;
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* "sha256:" and 64 hex digits, colons allowed between pairs. */
static int parse_hex_pin(const char *hex, unsigned char out[32])
{
    size_t n = 0;
    int high = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == ':' && high < 0)
            continue;
        int v = hex_value((unsigned char)*p);
        if (v < 0 || n == 32)
            return -1;
        if (high < 0) {
            high = v;
        } else {
            out[n++] = (unsigned char)(high << 4 | v);
            high = -1;
        }
    }
    return n == 32 && high < 0 ? 0 : -1;
}

static int base64_value(int ch)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = ch != '\0' ? strchr(alphabet, ch) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

/* curl's "sha256//" form: 32 bytes in standard base64, 43 characters and
 * the "=" (which may be left out). Only the canonical spelling: curl
 * compares the text, so another spelling of the same bytes would pin
 * nothing there. */
static int parse_base64_pin(const char *b64, unsigned char out[32])
{
    size_t len = strlen(b64);
    if (len == 44 && b64[43] == '=')
        len = 43;
    if (len != 43)
        return -1;
    unsigned long acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64_value((unsigned char)b64[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* 43 characters carry 258 bits: the 2 beyond the 32 bytes are 0. */
    return n == 32 && (acc & ((1UL << bits) - 1)) == 0 ? 0 : -1;
}

enum secsock_status secsock_parse_pin(const char *pin, unsigned char out[32],
                                      enum secsock_pin_kind *kind)
{
    unsigned char bytes[32]; /* out is written only once the whole pin is good */
    if (strncasecmp(pin, "sha256//", 8) == 0 && parse_base64_pin(pin + 8, bytes) == 0)
        *kind = SECSOCK_PIN_SPKI;
    else if (strncasecmp(pin, "sha256:", 7) == 0 && parse_hex_pin(pin + 7, bytes) == 0)
        *kind = SECSOCK_PIN_CERT;
    else
        return SECSOCK_ERR_CONFIG;
    memcpy(out, bytes, sizeof bytes);
    return SECSOCK_OK;
}

enum secsock_status secsock_config_set_pin(secsock_config *cfg, const char *pin)
{
    enum secsock_pin_kind kind = SECSOCK_PIN_CERT;
    /* A bad pin leaves an earlier one as it was. */
    if (secsock_parse_pin(pin, cfg->pin, &kind) != SECSOCK_OK)
        return config_fail(cfg,
                           "invalid pin '%s': want sha256: and 64 hex digits (the "
                           "certificate's fingerprint), or sha256// and 44 base64 "
                           "characters (its public key's)",
                           pin);
    cfg->has_pin = 1;
    cfg->pin_kind = kind;
    return 0;
}

enum secsock_status secsock_config_verify_client(secsock_config *cfg, int on)
{
    cfg->verify_client = on != 0;
    return 0;
}

enum secsock_status secsock_config_set_alpn(secsock_config *cfg, const char *list)
{
    size_t len = strlen(list);
    /* "a,b" becomes "\1a\1b": one length byte replaces each separator. */
    unsigned char *wire = malloc(len + 1);
    if (wire == NULL)
        return config_fail(cfg, "out of memory");
    size_t out = 0;
    const char *start = list;
    for (const char *p = list;; p++) {
        if (*p != ',' && *p != '\0')
            continue;
        size_t plen = (size_t)(p - start);
        if (plen == 0 || plen > 255) {
            free(wire);
            return config_fail(cfg, "invalid ALPN list '%s'", list);
        }
        wire[out++] = (unsigned char)plen;
        memcpy(wire + out, start, plen);
        out += plen;
        if (*p == '\0')
            break;
        start = p + 1;
    }
    free(cfg->alpn);
    cfg->alpn = (char *)wire;
    cfg->alpn_len = out;
    return 0;
}

static int parse_version(const char *v)
{
    if (strcmp(v, "1.2") == 0)
        return SECSOCK_TLS1_2;
    if (strcmp(v, "1.3") == 0)
        return SECSOCK_TLS1_3;
    return -1;
}

enum secsock_status secsock_config_set_min_version(secsock_config *cfg, const char *version)
{
    int v = parse_version(version);
    if (v < 0)
        return config_fail(cfg, "invalid minimum TLS version '%s': want 1.2 or 1.3", version);
    if (cfg->max_version != 0 && v > cfg->max_version)
        return config_fail(cfg, "minimum TLS version %s is above the maximum", version);
    cfg->min_version = v;
    return 0;
}

enum secsock_status secsock_config_set_max_version(secsock_config *cfg, const char *version)
{
    int v = parse_version(version);
    if (v < 0)
        return config_fail(cfg, "invalid maximum TLS version '%s': want 1.2 or 1.3", version);
    if (v < cfg->min_version)
        return config_fail(cfg, "maximum TLS version %s is below the minimum", version);
    cfg->max_version = v;
    return 0;
}

/* OpenSSL accepts a cipher list when any element matches, silently dropping
 * unknown names; we check each element so a typo is an error, not a gap. */
static enum secsock_status check_cipher_elements(secsock_config *cfg, const char *list, int tls13)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL)
        return config_fail(cfg, "out of memory");
    char *copy = strdup(list);
    enum secsock_status rc = copy != NULL ? SECSOCK_OK : config_fail(cfg, "out of memory");
    char *save = NULL;
    for (char *el = copy ? strtok_r(copy, ":", &save) : NULL; el && rc == 0;
         el = strtok_r(NULL, ":", &save)) {
        if (!tls13 && (strchr("!-+", el[0]) != NULL || el[0] == '@'))
            continue; /* removals and directives select nothing by themselves */
        int ok = tls13 ? SSL_CTX_set_ciphersuites(ctx, el) : SSL_CTX_set_cipher_list(ctx, el);
        if (ok && tls13) {
            /* set_ciphersuites accepts unknown names; count what it kept. */
            STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
            int found = 0;
            for (int i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++)
                found |= strcmp(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)), el) == 0;
            ok = found;
        }
        if (!ok)
            rc = config_fail(cfg, "unknown %s '%s'", tls13 ? "TLS 1.3 cipher suite" : "cipher", el);
    }
    ERR_clear_error();
    free(copy);
    SSL_CTX_free(ctx);
    return rc;
}

enum secsock_status secsock_config_set_ciphers(secsock_config *cfg, const char *list)
{
    enum secsock_status rc = check_cipher_elements(cfg, list, 0);
    if (rc != SECSOCK_OK)
        return rc;
    return set_string(cfg, &cfg->ciphers, list);
}

enum secsock_status secsock_config_set_ciphersuites(secsock_config *cfg, const char *list)
{
    enum secsock_status rc = check_cipher_elements(cfg, list, 1);
    if (rc != SECSOCK_OK)
        return rc;
    return set_string(cfg, &cfg->ciphersuites, list);
}

enum secsock_status secsock_config_set_groups(secsock_config *cfg, const char *list)
{
    if (security_check_groups(list, cfg->error, sizeof cfg->error) != 0)
        return SECSOCK_ERR_CONFIG;
    return set_string(cfg, &cfg->groups, list);
}

enum secsock_status secsock_config_set_keylog_file(secsock_config *cfg, const char *path)
{
    if (path[0] == '\0')
        return config_fail(cfg, "empty key-log file name");
    return set_string(cfg, &cfg->keylog_file, path);
}

enum secsock_status secsock_config_set_session_tickets(secsock_config *cfg, int tickets)
{
    if (tickets < 0 || tickets > 10)
        return config_fail(cfg, "invalid number of session tickets %d: want 0 to 10", tickets);
    cfg->session_tickets = tickets;
    return 0;
}

enum secsock_status secsock_config_set_mtu(secsock_config *cfg, int mtu)
{
    if (mtu != 0 && (mtu < 576 || mtu > 65535))
        return config_fail(cfg, "invalid MTU %d: want 576 to 65535", mtu);
    cfg->mtu = mtu;
    return 0;
}

enum secsock_status secsock_config_keep_client_hello(secsock_config *cfg, int on)
{
    cfg->keep_client_hello = on != 0;
    return 0;
}

void security_transport_params(const secsock_config *cfg, struct security_transport_params *p)
{
    *p = (struct security_transport_params){ .keylog_file = cfg->keylog_file,
                                             .servername = cfg->servername,
                                             .mtu = cfg->mtu,
                                             .keep_client_hello = cfg->keep_client_hello };
}
