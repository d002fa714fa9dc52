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
    struct secsock_ech_info e;
    secsock_conn_ech_info(c, &e);
    if (e.status == SECSOCK_ECH_NONE)
        return;
    char b1[1100], b2[1100];
    fprintf(f, "%sECH: %s, outer SNI: %s, inner SNI: %s\n", prefix,
            secsock_ech_status_name(e.status),
            e.outer_name[0] ? esc(e.outer_name, b1, sizeof b1) : "-",
            e.inner_name[0] ? esc(e.inner_name, b2, sizeof b2) : "-");
    if (e.retry_config_list[0] != '\0')
        fprintf(f, "%sECH retry configs (the server's current ECHConfigList): %s\n", prefix,
                e.retry_config_list);
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
    struct secsock_session_info s;
    secsock_session_info(c, &s);
    if (!s.secure)
        return;
    char b1[2100], b2[2100];
    flockfile(f);
    fprintf(f, "%sprotocol: %s, cipher: %s, group: %s\n", prefix, s.version, s.cipher,
            s.group[0] ? s.group : "-");
    fprintf(f, "%sALPN: %s, SNI: %s, resumed: %s\n", prefix,
            s.alpn[0] ? esc(s.alpn, b1, sizeof b1) : "-",
            s.sni[0] ? esc(s.sni, b2, sizeof b2) : "-", s.resumed ? "yes" : "no");
    print_ech(f, prefix, c);
    app_print_peer_certs(f, prefix, c);
    fprintf(f, "%sverification: %s\n", prefix, s.verify_result);
    funlockfile(f);
    (void)fflush(f);
}
