/* tcp-client -v's "> " and "< " lines (see http_show.h). */
#include "http_show.h"

#include <string.h>

#include "report.h"
#include "term.h"

enum { SHOW_START, SHOW_HEAD, SHOW_DONE };

/* One line, escaped, after its prefix; cut ones say how much is left out. */
static void show_line(FILE *f, const char *prefix, const char *line, size_t len, size_t dropped)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    char shown[4 * HTTP_SHOW_LINE_MAX + 1];
    term_escape_line((const unsigned char *)line, len, shown);
    if (dropped > 0)
        app_log(f, "%s%s [%zu more bytes not shown]", prefix, shown, dropped);
    else if (len > 0)
        app_log(f, "%s%s", prefix, shown);
    else
        app_log(f, "%.1s", prefix); /* the empty line that ends a head: ">" or "<" */
}

void http_show_request(FILE *f, const char *request, size_t len)
{
    const char *p = request, *end = request + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        size_t shown = n < HTTP_SHOW_LINE_MAX ? n : HTTP_SHOW_LINE_MAX;
        show_line(f, "> ", p, shown, n - shown);
        if (n == 0 || (n == 1 && p[0] == '\r') || nl == NULL)
            return; /* the end of the head: the body is not shown */
        p = nl + 1;
    }
}

void http_show_init(struct http_show *h)
{
    memset(h, 0, sizeof *h);
}

/* A complete line of the response. */
static void response_line(struct http_show *h, FILE *f)
{
    size_t len = h->len;
    int empty = len == 0 || (len == 1 && h->line[0] == '\r');
    if (h->state == SHOW_START) {
        if (empty)
            return; /* blank lines before the status line are skipped, as the parser does */
        if (len < 5 || memcmp(h->line, "HTTP/", 5) != 0) {
            h->state = SHOW_DONE; /* not HTTP: the reply is shown as it is, on stdout */
            return;
        }
        /* "HTTP/1.1 100 Continue": an interim head, the final one follows
         * (not after 101: the connection is another protocol then). */
        h->interim = len >= 12 && h->line[9] == '1' && memcmp(h->line + 9, "101", 3) != 0;
        h->state = SHOW_HEAD;
    }
    show_line(f, "< ", h->line, len, h->dropped);
    if (empty)
        h->state = h->interim ? SHOW_START : SHOW_DONE;
}

void http_show_feed(struct http_show *h, FILE *f, const unsigned char *data, size_t len)
{
    for (size_t i = 0; i < len && h->state != SHOW_DONE; i++) {
        if (data[i] == '\n') {
            response_line(h, f);
            h->len = h->dropped = 0;
        } else if (h->len < sizeof h->line) {
            h->line[h->len++] = (char)data[i];
        } else {
            h->dropped++;
        }
    }
}
