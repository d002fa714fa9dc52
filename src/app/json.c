#include "json.h"

static void field_sep(FILE *f, int *first)
{
    if (!*first)
        fputc(',', f);
    *first = 0;
}

/* Writes s as a JSON string (quoted). Control characters and every byte
 * above 0x7e are \u-escaped, so the output is ASCII and always valid. */
static void json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p > 0x7e)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* "name": "value", or null for an empty value. */
static void field_str(FILE *f, int *first, const char *name, const char *value)
{
    field_sep(f, first);
    fprintf(f, "\"%s\":", name);
    if (value == NULL || value[0] == '\0')
        fputs("null", f);
    else
        json_write_string(f, value);
}

static void field_bool(FILE *f, int *first, const char *name, int value)
{
    field_sep(f, first);
    fprintf(f, "\"%s\":%s", name, value ? "true" : "false");
}

static void field_num(FILE *f, int *first, const char *name, double value)
{
    field_sep(f, first);
    if (value < 0)
        fprintf(f, "\"%s\":null", name);
    else
        fprintf(f, "\"%s\":%.3f", name, value);
}

/* Certificate i the peer sent as an object. */
static void certificate(FILE *f, const secsock_conn *c, int i)
{
    static const struct {
        const char *name;
        enum secsock_cert_field field;
    } fields[] = {
        { "subject", SECSOCK_CERT_SUBJECT },
        { "issuer", SECSOCK_CERT_ISSUER },
        { "san", SECSOCK_CERT_SAN },
        { "not_before", SECSOCK_CERT_NOT_BEFORE },
        { "not_after", SECSOCK_CERT_NOT_AFTER },
        { "fingerprint", SECSOCK_CERT_FINGERPRINT },
        { "spki_pin", SECSOCK_CERT_SPKI_PIN },
    };
    int inner = 1;
    fputc('{', f);
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        field_str(f, &inner, fields[k].name, secsock_conn_peer_cert(c, i, fields[k].field));
    fputc('}', f);
}

/* "peer_certificate": the leaf (null when none came), and "peer_chain":
 * every certificate the peer sent, leaf first, also when it was refused. */
static void peer_certificates(FILE *f, int *first, const secsock_conn *c)
{
    int n = c != NULL ? secsock_conn_peer_cert_count(c) : 0;
    field_sep(f, first);
    fputs("\"peer_certificate\":", f);
    if (n > 0)
        certificate(f, c, 0);
    else
        fputs("null", f);
    field_sep(f, first);
    fputs("\"peer_chain\":[", f);
    for (int i = 0; i < n; i++) {
        if (i > 0)
            fputc(',', f);
        certificate(f, c, i);
    }
    fputc(']', f);
}

void json_write_session(FILE *f, const struct json_session *js)
{
    const secsock_conn *c = js->c;
    int secure = c != NULL && secsock_conn_is_secure(c);
    int first = 1;
    flockfile(f);
    fputc('{', f);
    field_str(f, &first, "program", js->program);
    /* A connection that never connected has no peer: the name asked for. */
    field_str(f, &first, "peer",
              c != NULL && secsock_conn_peer(c)[0] != '\0' ? secsock_conn_peer(c) : js->peer);
    field_str(f, &first, "transport", secsock_transport_name(js->t));
    field_bool(f, &first, "secure", secsock_transport_is_secure(js->t));
    field_str(f, &first, "version", c != NULL ? secsock_conn_protocol(c) : "");
    field_str(f, &first, "cipher", c != NULL ? secsock_conn_cipher(c) : "");
    field_str(f, &first, "group", c != NULL ? secsock_conn_group(c) : "");
    field_str(f, &first, "alpn", c != NULL ? secsock_conn_alpn(c) : "");
    field_str(f, &first, "sni", c != NULL ? secsock_conn_sni(c) : "");
    peer_certificates(f, &first, c);
    field_str(f, &first, "verification", secure ? secsock_conn_verify_result(c) : NULL);
    field_bool(f, &first, "verified", c != NULL && secsock_conn_verified(c));
    field_bool(f, &first, "resumed", c != NULL && secsock_conn_resumed(c));
    field_bool(f, &first, "cookie_exchange", c != NULL && secsock_conn_cookie_exchange(c));
    int ech = c != NULL && secsock_conn_ech_status(c) != SECSOCK_ECH_NONE;
    field_str(f, &first, "ech",
              secsock_ech_status_name(c != NULL ? secsock_conn_ech_status(c) : SECSOCK_ECH_NONE));
    field_str(f, &first, "ech_outer_sni", ech ? secsock_conn_ech_outer_name(c) : "");
    field_str(f, &first, "ech_inner_sni", ech ? secsock_conn_ech_inner_name(c) : "");
    field_str(f, &first, "ech_retry_config_list", ech ? secsock_conn_ech_retry_config_list(c) : "");
    field_bool(f, &first, "ech_retried", js->ech_retried);
    field_str(f, &first, "ja4", js->fingerprint != NULL ? js->fingerprint->ja4 : NULL);
    field_str(f, &first, "ja3", js->fingerprint != NULL ? js->fingerprint->ja3 : NULL);
    field_str(f, &first, "ja3_hash", js->fingerprint != NULL ? js->fingerprint->ja3_hash : NULL);
    field_sep(f, &first);
    fprintf(f, "\"bytes_sent\":%llu,\"bytes_received\":%llu",
            c != NULL ? secsock_conn_bytes_sent(c) : 0,
            c != NULL ? secsock_conn_bytes_received(c) : 0);
    field_num(f, &first, "handshake_ms", js->handshake_ms);
    field_num(f, &first, "total_ms", js->total_ms);
    field_str(f, &first, "status", secsock_status_name(js->status));
    field_str(f, &first, "error", js->status != 0 ? js->error : NULL);
    fputs("}\n", f);
    funlockfile(f);
    (void)fflush(f); /* a log line: a failed write has nowhere to go */
}

void json_write_listening(FILE *f, const struct json_listening *jl)
{
    int first = 1;
    flockfile(f);
    fputc('{', f);
    field_str(f, &first, "event", "listening");
    field_str(f, &first, "program", jl->program);
    field_str(f, &first, "address", jl->address);
    field_sep(f, &first);
    fprintf(f, "\"port\":%d", jl->port);
    field_str(f, &first, "protocol", jl->protocol);
    if (jl->fingerprint != NULL)
        field_str(f, &first, "fingerprint", jl->fingerprint);
    if (jl->spki_pin != NULL)
        field_str(f, &first, "spki_pin", jl->spki_pin);
    if (jl->ech_config_list != NULL) {
        field_str(f, &first, "ech_public_name", jl->ech_public_name);
        field_str(f, &first, "ech_config_list", jl->ech_config_list);
    }
    fputs("}\n", f);
    funlockfile(f);
    (void)fflush(f);
}
