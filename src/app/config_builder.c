/*
 * From parsed options to the library's objects: the secsock_config that
 * the security options describe (certificates, pins, groups, ECH...), the
 * transport the program needs, and where a client connects. Apart from
 * the parser, which only checks and stores what was typed.
 */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"
#include "observe.h"
#include "option_table.h"
#include "term.h"

/* --ech ecl:VALUE: the text of the file VALUE names, else VALUE itself
 * (base64 never names a file one has). Returns the text (*buf, malloc'd,
 * when read from a file), or NULL with the reason in err. */
static const char *ech_config_text(const char *value, char **buf, char *err, size_t errlen)
{
    *buf = NULL;
    FILE *f = fopen(value, "r");
    if (f == NULL)
        return value;
    enum { ECH_FILE_MAX = 65536 }; /* an ECHConfigList is at most a few KiB */
    char *text = malloc(ECH_FILE_MAX + 1);
    size_t n = text != NULL ? fread(text, 1, ECH_FILE_MAX + 1, f) : 0;
    int bad = text == NULL || ferror(f) || n > ECH_FILE_MAX;
    (void)fclose(f); /* read only */
    if (bad) {
        free(text);
        snprintf(err, errlen, "--ech ecl:%s: cannot read it, or it is over 64 KiB", value);
        return NULL;
    }
    text[n] = '\0';
    *buf = text;
    return text;
}

/* The ECH options into cfg: SECSOCK_OK, or a status with the reason in
 * err (or, when err is empty, the config's). */
static enum secsock_status ech_settings(const struct app_options *o, secsock_config *cfg, char *err,
                                        size_t errlen)
{
    enum secsock_status rc = SECSOCK_OK;
    if (o->ech_key)
        rc = secsock_config_set_ech_key_file(cfg, o->ech_key);
    if (rc == SECSOCK_OK && o->ech_public_name)
        rc = secsock_config_set_ech_public_name(cfg, o->ech_public_name);
    if (rc == SECSOCK_OK && o->ech_hard)
        rc = secsock_config_require_ech(cfg, 1);
    if (rc == SECSOCK_OK && o->ech_grease)
        rc = secsock_config_set_ech_grease(cfg, 1);
    if (rc != SECSOCK_OK || o->ech_config == NULL)
        return rc;
    char *buf = NULL;
    const char *text = ech_config_text(o->ech_config, &buf, err, errlen);
    if (text == NULL)
        return SECSOCK_ERR_CONFIG;
    int from_file = buf != NULL;
    rc = secsock_config_set_ech_config_list(cfg, text);
    free(buf);
    if (rc != SECSOCK_OK && secsock_ech_supported()) {
        char shown[4 * 64 + 1]; /* the start of what was typed is enough to know it */
        term_escape_line((const unsigned char *)o->ech_config, strnlen(o->ech_config, 64), shown);
        snprintf(err, errlen, "--ech ecl:%s%s: %s%s", shown,
                 strlen(o->ech_config) > 64 ? "..." : "", from_file ? "" : "no such file, and ",
                 secsock_config_error(cfg));
    }
    return rc;
}

/* The config the options ask for; NULL with the reason in err. Each
 * setter checks its value, so the first refused one is the message. */
static secsock_config *security_config(const struct app_options *o, const char *keylog, char *err,
                                       size_t errlen)
{
    err[0] = '\0';
    secsock_config *cfg = NULL;
    if (secsock_config_new(&cfg) != SECSOCK_OK) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!o->secure)
        return cfg;
    enum secsock_status rc = SECSOCK_OK;
#define SET(wanted, call)                                                                          \
    do {                                                                                           \
        if (rc == SECSOCK_OK && (wanted))                                                          \
            rc = (call);                                                                           \
    } while (0)
    SET(o->cafile, secsock_config_set_cafile(cfg, o->cafile));
    SET(o->cert, secsock_config_set_cert_file(cfg, o->cert));
    SET(o->key, secsock_config_set_key_file(cfg, o->key));
    SET(o->self_signed, secsock_config_set_self_signed(cfg, 1));
    SET(o->servername, secsock_config_set_servername(cfg, o->servername));
    SET(o->insecure, secsock_config_insecure_noverify(cfg));
    SET(o->pin, secsock_config_set_pin(cfg, o->pin));
    SET(o->verify_client, secsock_config_verify_client(cfg, 1));
    SET(o->alpn, secsock_config_set_alpn(cfg, o->alpn));
    SET(o->tls_min, secsock_config_set_min_version(cfg, o->tls_min));
    SET(o->tls_max, secsock_config_set_max_version(cfg, o->tls_max));
    SET(o->ciphers, secsock_config_set_ciphers(cfg, o->ciphers));
    SET(o->ciphersuites, secsock_config_set_ciphersuites(cfg, o->ciphersuites));
    SET(o->groups, secsock_config_set_groups(cfg, o->groups));
    SET(keylog, secsock_config_set_keylog_file(cfg, keylog));
    SET(o->mtu, secsock_config_set_mtu(cfg, o->mtu));
    SET(o->tickets >= 0, secsock_config_set_session_tickets(cfg, o->tickets));
    SET(1, ech_settings(o, cfg, err, errlen));
    /* -v and --json show the client's fingerprints: only then is its
     * ClientHello kept (tcp-server peeks at it instead). */
    SET(o->verbose || o->json, secsock_config_keep_client_hello(cfg, 1));
#undef SET
    if (rc != SECSOCK_OK) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s", secsock_config_error(cfg));
        secsock_config_free(cfg);
        return NULL;
    }
    return cfg;
}

secsock_transport *app_transport(const struct app_options *o, enum secsock_role role, char *err,
                                 size_t errlen)
{
    const char *keylog = o->keylog;
    const char *env = getenv("SSLKEYLOGFILE");
    if (o->secure && keylog == NULL && env != NULL && env[0] != '\0')
        keylog = env;
    secsock_config *cfg = security_config(o, keylog, err, errlen);
    if (cfg == NULL)
        return NULL;
    int datagram = (o->program & APP_UDP) != 0;
    const char *backend = datagram ? (o->secure ? "dtls" : "udp") : (o->secure ? "tls" : "tcp");
    secsock_transport *t = NULL;
    enum secsock_status rc = secsock_transport_new(backend, role, cfg, &t);
    secsock_config_free(cfg);
    if (rc != SECSOCK_OK) {
        snprintf(err, errlen, "%s", t != NULL ? secsock_transport_error(t) : "out of memory");
        app_add_hint(rc, datagram, err, errlen);
        secsock_transport_free(t);
        return NULL;
    }
    if (app_observe(o, t, err, errlen) != 0) {
        secsock_transport_free(t);
        return NULL;
    }
    if (o->insecure)
        fprintf(stderr,
                "%s: warning: --insecure: the peer's certificate and name are NOT "
                "verified\n",
                o->name);
    if (keylog != NULL)
        fprintf(stderr, "%s: warning: writing %s session secrets to '%s'%s\n", o->name,
                datagram ? "DTLS" : "TLS", keylog, o->keylog ? "" : " (SSLKEYLOGFILE)");
    return t;
}

struct secsock_connect_opts app_connect_opts(const struct app_options *o, const char *port,
                                             int timeout_ms)
{
    int resolved = o->resolve_host != NULL && strcmp(o->resolve_host, o->host) == 0 &&
                   strcmp(o->resolve_port, port) == 0;
    return (struct secsock_connect_opts){
        .host = o->host,
        .port = port,
        .connect_addr = resolved ? o->resolve_addr : NULL,
        .family = o->family,
        .timeout_ms = timeout_ms,
    };
}
