/* A client's message as log lines (see received.h). */
#include "received.h"

#include <string.h>

#include "term.h"

/* Binary, as git and grep tell it: a NUL byte. A TLS ClientHello sent to
 * a plaintext port is read best as one escaped line, not cut at whatever
 * 0x0a bytes it holds. */
static int binary(const unsigned char *data, size_t len)
{
    return memchr(data, '\0', len) != NULL;
}

/* Whether the message fits on the header's line: no line break before its
 * last byte (or binary), and short enough to show whole. */
static int one_line(const unsigned char *data, size_t len)
{
    if (len > RECEIVED_LINE_MAX)
        return 0;
    const unsigned char *lf = memchr(data, '\n', len);
    return lf == NULL || lf == data + len - 1 || binary(data, len);
}

/* One line of the message: its text (without its line end) and whether
 * it ended in a bare LF; cut with a note when over RECEIVED_LINE_MAX. */
static void add_line(struct app_log_entry *e, const unsigned char *text, size_t len, int bare_lf)
{
    char shown[4 * RECEIVED_LINE_MAX + 1];
    size_t cut = len > RECEIVED_LINE_MAX ? len - RECEIVED_LINE_MAX : 0;
    term_escape_line(text, len - cut, shown);
    if (cut > 0) {
        app_log_entry_add(e, "  | %s", shown);
        app_log_entry_add(e, "  + (line cut: %zu more bytes%s)", cut, bare_lf ? ", then \\n" : "");
    } else if (len == 0 && !bare_lf) {
        app_log_entry_add(e, "  |"); /* no space left dangling at the end */
    } else {
        app_log_entry_add(e, "  | %s%s", shown, bare_lf ? "\\n" : "");
    }
}

void received_add(struct app_log_entry *e, const char *peer, const unsigned char *data, size_t len)
{
    if (len == 0) { /* an empty datagram: nothing after a colon to read */
        app_log_entry_add(e, "[*] Received from %s (0 bytes)", peer);
        return;
    }
    if (one_line(data, len)) {
        char shown[4 * RECEIVED_LINE_MAX + 1];
        term_escape_line(data, len, shown);
        app_log_entry_add(e, "[*] Received from %s: %s", peer, shown);
        return;
    }
    app_log_entry_add(e, "[*] Received from %s (%zu bytes):", peer, len);
    if (binary(data, len)) { /* one line, cut */
        add_line(e, data, len, 0);
        return;
    }
    size_t at = 0, lines = 0;
    while (at < len) {
        if (lines == RECEIVED_LINES_MAX || at >= RECEIVED_SHOWN_MAX) {
            app_log_entry_add(e, "  + (%zu more bytes not shown)", len - at);
            return;
        }
        const unsigned char *lf = memchr(data + at, '\n', len - at);
        size_t end = lf ? (size_t)(lf - data) : len; /* the line end's offset */
        int crlf = lf != NULL && end > at && data[end - 1] == '\r';
        add_line(e, data + at, end - at - (size_t)crlf, lf != NULL && !crlf);
        at = lf ? end + 1 : len;
        lines++;
    }
}
