#include "peer_certs.h"

#include <string.h>

#include "term.h"

/* A field of a certificate, escaped: it is the peer's text. */
static const char *field(const secsock_conn *c, int i, enum secsock_cert_field which, char *buf,
                         size_t buflen)
{
    const char *s = secsock_conn_peer_cert(c, i, which);
    size_t len = strlen(s);
    if (4 * len + 1 > buflen)
        len = (buflen - 1) / 4;
    term_escape_line((const unsigned char *)s, len, buf);
    return buf;
}

void app_print_peer_certs(FILE *f, const char *prefix, const secsock_conn *c)
{
    int n = secsock_conn_peer_cert_count(c);
    char b1[2100], b2[2100];
    flockfile(f);
    if (n == 0)
        fprintf(f, "%speer certificate: none\n", prefix);
    for (int i = 0; i < n; i++) {
        /* The leaf as before; the rest of the chain by its place in it. */
        if (i == 0)
            fprintf(f, "%speer certificate: subject: %s\n", prefix,
                    field(c, i, SECSOCK_CERT_SUBJECT, b1, sizeof b1));
        else
            fprintf(f, "%schain certificate %d: subject: %s\n", prefix, i,
                    field(c, i, SECSOCK_CERT_SUBJECT, b1, sizeof b1));
        fprintf(f, "%s  issuer: %s\n", prefix, field(c, i, SECSOCK_CERT_ISSUER, b1, sizeof b1));
        const char *san = field(c, i, SECSOCK_CERT_SAN, b1, sizeof b1);
        fprintf(f, "%s  SAN: %s\n", prefix, san[0] ? san : "-");
        fprintf(f, "%s  valid: %s to %s\n", prefix,
                field(c, i, SECSOCK_CERT_NOT_BEFORE, b1, sizeof b1),
                field(c, i, SECSOCK_CERT_NOT_AFTER, b2, sizeof b2));
        fprintf(f, "%s  fingerprint: %s\n", prefix,
                field(c, i, SECSOCK_CERT_FINGERPRINT, b1, sizeof b1));
        fprintf(f, "%s  public key pin: %s\n", prefix,
                field(c, i, SECSOCK_CERT_SPKI_PIN, b1, sizeof b1));
    }
    funlockfile(f);
}

void app_append_verify_fixes(const secsock_conn *c, char *msg, size_t msglen)
{
    /* The pin is base64 or hex: nothing to escape, but it is the peer's. */
    const char *pin = secsock_conn_peer_cert(c, 0, SECSOCK_CERT_SPKI_PIN);
    char pin_fix[96] = "";
    if (pin[0] != '\0')
        snprintf(pin_fix, sizeof pin_fix, "pin this key with --pin %s, ", pin);
    const char *fixes = NULL;
    char buf[320];
    switch (secsock_conn_verify_failure(c)) {
    case SECSOCK_VERIFY_UNKNOWN_CA:
        snprintf(buf, sizeof buf,
                 "to connect, trust its CA with --cafile FILE, %sor, as a "
                 "last resort, skip verification with -k",
                 pin_fix);
        fixes = buf;
        break;
    case SECSOCK_VERIFY_EXPIRED:
    case SECSOCK_VERIFY_NOT_YET_VALID:
        /* Only a pin or -k accepts a certificate out of its dates. */
        snprintf(buf, sizeof buf,
                 "check the clock; to connect anyway, %sor, as a last "
                 "resort, skip verification with -k",
                 pin_fix);
        fixes = buf;
        break;
    case SECSOCK_VERIFY_NAME_MISMATCH:
        snprintf(buf, sizeof buf,
                 "to connect, use a name it has (--servername NAME), %sor, "
                 "as a last resort, skip verification with -k",
                 pin_fix);
        fixes = buf;
        break;
    case SECSOCK_VERIFY_PIN_MISMATCH:
        /* A new key may be an attack: only its owner can tell. */
        if (pin[0] == '\0')
            break;
        snprintf(buf, sizeof buf,
                 "if the server's key was changed on purpose, pin the new "
                 "one: --pin %s",
                 pin);
        fixes = buf;
        break;
    default: break;
    }
    if (fixes == NULL)
        return;
    size_t used = strlen(msg);
    if (used < msglen)
        snprintf(msg + used, msglen - used, "; %s", fixes);
}
