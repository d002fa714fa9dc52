/* --trace's blocks (see tracefile.h). */
#include "tracefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

FILE *tracefile_open(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        snprintf(err, errlen, "cannot write the trace to '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

/* "2026-12-02T10:01:02.345678Z": UTC, microseconds (a handshake's
 * messages come microseconds apart). */
static void timestamp(char *out, size_t outlen)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, outlen - n, ".%06ldZ", ts.tv_nsec / 1000);
}

size_t tracefile_header(const struct secsock_trace_event *ev, int plaintext, char *out,
                        size_t outlen)
{
    const char *dir = ev->sent ? "=> Send" : "<= Recv";
    char what[160];
    switch (ev->kind) {
    case SECSOCK_TRACE_DATA:
        snprintf(what, sizeof what, "data%s", plaintext ? " (plaintext: as on the wire)" : "");
        break;
    case SECSOCK_TRACE_WIRE:
        if (ev->content_type < 0)
            snprintf(what, sizeof what, "bytes that are not a record");
        else
            snprintf(what, sizeof what, "%s record, %s, %s",
                     (ev->version >> 8) == 0xfe ? "DTLS" : "TLS", ev->content_name,
                     ev->version_name);
        break;
    case SECSOCK_TRACE_MESSAGE:
        if (ev->content_type == 21)
            snprintf(what, sizeof what, "%s alert, %s (%s)", ev->version_name, ev->message_name,
                     ev->alert_level == 2 ? "fatal" : "warning");
        else if (ev->content_type == 22)
            snprintf(what, sizeof what, "%s handshake, %s", ev->version_name, ev->message_name);
        else
            snprintf(what, sizeof what, "%s %s", ev->version_name, ev->content_name);
        break;
    default: snprintf(what, sizeof what, "event"); break;
    }
    int n = snprintf(out, outlen, "%s %s, %zu bytes (0x%zx)", dir, what, ev->len, ev->len);
    return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

#define HEX_PER_LINE 16
/* "0000: " (up to 16 digits past 64 KiB), 16 "xx ", a space, 16 chars, "\n" */
#define LINE_MAX_CHARS (18 + 3 * HEX_PER_LINE + 1 + HEX_PER_LINE + 1)

size_t tracefile_hexdump_size(size_t len)
{
    return (len / HEX_PER_LINE + 1) * LINE_MAX_CHARS + 1;
}

/* One line of the dump: count (1 to HEX_PER_LINE) bytes at offset off as
 * hex, padded to the full width, then as text. Returns its length. */
static size_t hexdump_line(const unsigned char *p, size_t count, size_t off, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = (size_t)sprintf(out, "%04zx: ", off);
    for (size_t i = 0; i < count; i++) {
        out[n++] = hex[p[i] >> 4];
        out[n++] = hex[p[i] & 15];
        out[n++] = ' ';
    }
    for (size_t i = 3 * count; i < (size_t)3 * HEX_PER_LINE; i++)
        out[n++] = ' ';
    out[n++] = ' ';
    for (size_t i = 0; i < count; i++) {
        char shown = '.';
        if (p[i] >= 0x20 && p[i] < 0x7f)
            shown = (char)p[i];
        out[n++] = shown;
    }
    out[n++] = '\n';
    return n;
}

size_t tracefile_hexdump(const unsigned char *data, size_t len, char *out)
{
    size_t n = 0;
    for (size_t off = 0; off < len; off += HEX_PER_LINE)
        n += hexdump_line(data + off, len - off < HEX_PER_LINE ? len - off : HEX_PER_LINE, off,
                          out + n);
    out[n] = '\0';
    return n;
}

/* One write under the file's lock: blocks of different threads, and the
 * servers' log lines on stdout, never interleave. A failing trace does not
 * stop the session; it is said once. */
static void write_block(FILE *f, const char *block, size_t len)
{
    static atomic_int complained;
    flockfile(f);
    int bad = fwrite(block, 1, len, f) != len || fflush(f) != 0;
    funlockfile(f);
    if (bad && atomic_exchange(&complained, 1) == 0)
        fprintf(stderr, "warning: cannot write the trace: %s\n", strerror(errno));
}

void tracefile_event(FILE *f, const struct secsock_trace_event *ev, int plaintext)
{
    char head[320];
    char stamp[40];
    timestamp(stamp, sizeof stamp);
    size_t hl = (size_t)snprintf(head, sizeof head, "%s %s ", stamp, ev->peer);
    if (hl >= sizeof head)
        hl = sizeof head - 1;
    hl += tracefile_header(ev, plaintext, head + hl, sizeof head - hl);
    size_t cap = hl + 1 + tracefile_hexdump_size(ev->len);
    char *block = malloc(cap);
    if (block == NULL)
        return;
    memcpy(block, head, hl);
    block[hl] = '\n';
    size_t n = hl + 1;
    if (ev->data != NULL) /* a HelloVerifyRequest a DTLS server sent: only in its record */
        n += tracefile_hexdump(ev->data, ev->len, block + hl + 1);
    write_block(f, block, n);
    free(block);
}

void tracefile_info(FILE *f, const char *peer, const char *text)
{
    char stamp[40];
    timestamp(stamp, sizeof stamp);
    char line[1024];
    int n = snprintf(line, sizeof line, "%s %s == Info: %s\n", stamp, peer, text);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) { /* cut: still one line */
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    write_block(f, line, (size_t)n);
}
