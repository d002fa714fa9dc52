#include "report.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "peer_certs.h"
#include "term.h"

/* A field of the session, escaped: names and SNI are the peer's text. */
static const char *esc(const char *s, char *buf, size_t buflen)
{
    size_t len = strlen(s);
    if (4 * len + 1 > buflen)
        len = (buflen - 1) / 4;
    term_escape_line((const unsigned char *)s, len, buf);
    return buf;
}

double app_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void app_log(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    app_log_vline(f, fmt, ap); /* with --timestamps' stamp */
    va_end(ap);
}

void app_print_fingerprint(FILE *f, const char *prefix, const struct secsock_fingerprint *fp)
{
    app_log(f, "%sJA4 %s  JA3 %s", prefix, fp->ja4, fp->ja3_hash[0] ? fp->ja3_hash : "-");
}

/* "ECH: accepted, outer SNI: public.example, inner SNI: localhost", when
 * ECH was offered at all (the names are the peers' text). */
static void print_ech(FILE *f, const char *prefix, const secsock_conn *c)
{
    enum secsock_ech_status status = secsock_conn_ech_status(c);
    if (status == SECSOCK_ECH_NONE)
        return;
    const char *outer = secsock_conn_ech_outer_name(c), *inner = secsock_conn_ech_inner_name(c);
    const char *retry = secsock_conn_ech_retry_config_list(c);
    char b1[1100], b2[1100];
    fprintf(f, "%sECH: %s, outer SNI: %s, inner SNI: %s\n", prefix, secsock_ech_status_name(status),
            outer[0] ? esc(outer, b1, sizeof b1) : "-", inner[0] ? esc(inner, b2, sizeof b2) : "-");
    if (retry[0] != '\0')
        fprintf(f, "%sECH retry configs (the server's current ECHConfigList): %s\n", prefix, retry);
}

void app_print_ech_line(FILE *f, const char *prefix, const secsock_conn *c)
{
    flockfile(f);
    print_ech(f, prefix, c);
    funlockfile(f);
    (void)fflush(f);
}

void app_print_session(FILE *f, const char *prefix, const secsock_conn *c)
{
    if (!secsock_conn_is_secure(c))
        return;
    char b1[2100], b2[2100];
    const char *group = secsock_conn_group(c), *alpn = secsock_conn_alpn(c);
    const char *sni = secsock_conn_sni(c), *cipher = secsock_conn_cipher(c);
    flockfile(f);
    /* "-" where the handshake stopped before one was chosen, as for the group */
    fprintf(f, "%sprotocol: %s, cipher: %s, group: %s\n", prefix, secsock_conn_protocol(c),
            cipher[0] ? cipher : "-", group[0] ? group : "-");
    fprintf(f, "%sALPN: %s, SNI: %s, resumed: %s\n", prefix,
            alpn[0] ? esc(alpn, b1, sizeof b1) : "-", sni[0] ? esc(sni, b2, sizeof b2) : "-",
            secsock_conn_resumed(c) ? "yes" : "no");
    print_ech(f, prefix, c);
    app_print_peer_certs(f, prefix, c);
    fprintf(f, "%sverification: %s\n", prefix, secsock_conn_verify_result(c));
    funlockfile(f);
    (void)fflush(f);
}
