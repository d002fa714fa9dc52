#include "report.h"

#include <stdarg.h>

void app_log(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flockfile(f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    funlockfile(f);
    fflush(f);
    va_end(ap);
}

void app_print_session(FILE *f, const char *prefix, const secsock_conn *c)
{
    struct secsock_session_info s;
    secsock_session_info(c, &s);
    if (!s.secure)
        return;
    flockfile(f);
    fprintf(f, "%sprotocol: %s, cipher: %s, group: %s\n", prefix, s.version, s.cipher,
            s.group[0] ? s.group : "-");
    fprintf(f, "%sALPN: %s, SNI: %s, resumed: %s\n", prefix, s.alpn[0] ? s.alpn : "-",
            s.sni[0] ? s.sni : "-", s.resumed ? "yes" : "no");
    if (s.has_peer_cert) {
        fprintf(f, "%speer certificate: subject: %s\n", prefix, s.peer_subject);
        fprintf(f, "%s  issuer: %s\n", prefix, s.peer_issuer);
        fprintf(f, "%s  SAN: %s\n", prefix, s.peer_san[0] ? s.peer_san : "-");
        fprintf(f, "%s  valid: %s to %s\n", prefix, s.peer_not_before, s.peer_not_after);
        fprintf(f, "%s  fingerprint: %s\n", prefix, s.peer_fingerprint);
    } else {
        fprintf(f, "%speer certificate: none\n", prefix);
    }
    fprintf(f, "%sverification: %s\n", prefix, s.verify_result);
    funlockfile(f);
    fflush(f);
}
