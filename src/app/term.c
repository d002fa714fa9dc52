/*
 * Escaping a peer's bytes for a terminal or a log line (see term.h).
 */
#include "term.h"

#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

/* Appends "\xHH" for c at out and returns the number of chars written (4). */
static size_t put_hex(char *out, unsigned char c)
{
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hexdigits[c >> 4];
    out[3] = hexdigits[c & 0x0f];
    return 4;
}

static int is_printable(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e;
}

size_t term_escape_line(const unsigned char *in, size_t len, char *out)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        int named = c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;

        if (named != 0) {
            out[n++] = '\\';
            out[n++] = (char)named;
        } else if (is_printable(c)) {
            out[n++] = (char)c;
        } else {
            n += put_hex(out + n, c);
        }
    }
    out[n] = '\0';
    return n;
}

void term_stream_init(struct term_stream *st)
{
    st->pending_cr = 0;
}

/* Output is collected in a small buffer so that a large read does not turn
 * into one stdio call per byte. */
struct outbuf {
    FILE *f;
    size_t n;
    int failed;
    char data[4096];
};

static void ob_flush(struct outbuf *ob)
{
    if (ob->n > 0 && fwrite(ob->data, 1, ob->n, ob->f) != ob->n)
        ob->failed = 1;
    ob->n = 0;
}

static void ob_put(struct outbuf *ob, const char *s, size_t len)
{
    if (ob->n + len > sizeof ob->data)
        ob_flush(ob);
    memcpy(ob->data + ob->n, s, len);
    ob->n += len;
}

/* One byte other than "\r": "\n" and "\t" keep the text's shape, printable
 * ASCII (backslash included: a terminal does nothing with it) is kept,
 * everything else could drive the terminal and is shown as "\xHH". */
static void ob_put_byte(struct outbuf *ob, unsigned char c)
{
    if (c == '\n' || c == '\t' || is_printable(c)) {
        char ch = (char)c;
        ob_put(ob, &ch, 1);
    } else {
        char esc[4];
        ob_put(ob, esc, put_hex(esc, c));
    }
}

int term_stream_write(struct term_stream *st, FILE *f, const unsigned char *in, size_t len)
{
    struct outbuf ob = { .f = f };
    size_t i = 0;

    if (len == 0)
        return 0;
    if (st->pending_cr) {
        /* The "\r" that ended the last chunk: its fate depends on this byte. */
        st->pending_cr = 0;
        if (in[0] == '\n') {
            ob_put(&ob, "\r\n", 2);
            i = 1;
        } else {
            ob_put(&ob, "\\r", 2);
        }
    }
    for (; i < len; i++) {
        if (in[i] != '\r') {
            ob_put_byte(&ob, in[i]);
        } else if (i + 1 == len) {
            st->pending_cr = 1; /* decided by the next call or by finish */
        } else if (in[i + 1] == '\n') {
            ob_put(&ob, "\r\n", 2);
            i++;
        } else {
            /* A lone "\r" would let the peer overwrite what was shown. */
            ob_put(&ob, "\\r", 2);
        }
    }
    ob_flush(&ob);
    return ob.failed ? -1 : 0;
}

int term_stream_finish(struct term_stream *st, FILE *f)
{
    if (!st->pending_cr)
        return 0;
    st->pending_cr = 0;
    return fwrite("\\r", 1, 2, f) == 2 ? 0 : -1;
}
