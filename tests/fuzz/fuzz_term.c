/*
 * Escaping a peer's bytes for a log line (term_escape_line) and for a
 * terminal (term_stream_*). Checked on every input:
 *   - a log line is printable ASCII only, at most 4n bytes plus its NUL,
 *     and decodes back to the input;
 *   - the terminal stream never emits a control byte other than "\n", "\t"
 *     and a "\r" directly followed by "\n", however the input is cut into
 *     writes (the first byte of the input picks the piece sizes);
 *   - a server's log entry of a received message (received.c) is printable
 *     ASCII and line breaks only, and no line of it but the first can pass
 *     for a log line of its own (each starts "  |" or "  + ").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "received.h"
#include "term.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undoes term_escape_line; returns the decoded length. */
static size_t unescape(const char *s, unsigned char *out)
{
    size_t n = 0;
    while (*s) {
        if (*s != '\\') {
            out[n++] = (unsigned char)*s++;
            continue;
        }
        char k = s[1];
        CHECK(k == '\\' || k == 'n' || k == 'r' || k == 't' || k == 'x');
        if (k == 'x') {
            CHECK(hexval(s[2]) >= 0 && hexval(s[3]) >= 0);
            out[n++] = (unsigned char)(hexval(s[2]) << 4 | hexval(s[3]));
            s += 4;
        } else {
            out[n++] = k == '\\' ? '\\' : k == 'n' ? '\n' : k == 'r' ? '\r' : '\t';
            s += 2;
        }
    }
    return n;
}

static void check_line(const uint8_t *data, size_t size)
{
    /* Exactly the documented room, plus a canary byte after it. */
    char *out = malloc(4 * size + 2);
    unsigned char *back = malloc(size + 1);
    CHECK(out != NULL && back != NULL);
    out[4 * size + 1] = 'Z';
    size_t n = term_escape_line(data, size, out);
    CHECK(n <= 4 * size && out[n] == '\0' && strlen(out) == n);
    CHECK(out[4 * size + 1] == 'Z');
    for (size_t i = 0; i < n; i++)
        CHECK(out[i] >= 0x20 && out[i] <= 0x7e);
    CHECK(unescape(out, back) == size && memcmp(back, data, size) == 0);
    free(out);
    free(back);
}

static void check_stream(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    size_t piece = 1 + data[0] % 16; /* 1: byte by byte, so "\r|\n" is split */
    data++, size--;

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    struct term_stream st;
    term_stream_init(&st);
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        CHECK(term_stream_write(&st, f, data + off, n) == 0);
    }
    CHECK(term_stream_finish(&st, f) == 0);
    CHECK(fclose(f) == 0);

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\r')
            CHECK(i + 1 < len && text[i + 1] == '\n');
        else
            CHECK(c == '\n' || c == '\t' || (c >= 0x20 && c <= 0x7e));
    }
    /* Every "\n" of the input, and only those, reaches the terminal. */
    size_t in_nl = 0, out_nl = 0;
    for (size_t i = 0; i < size; i++)
        in_nl += data[i] == '\n';
    for (size_t i = 0; i < len; i++)
        out_nl += text[i] == '\n';
    CHECK(in_nl == out_nl);
    free(text);
}

static void check_received(const uint8_t *data, size_t size)
{
    struct app_log_entry e;
    app_log_entry_init(&e);
    received_add(&e, "127.0.0.1:1", data, size);
    CHECK(!e.cut && e.len == strlen(e.buf) && e.len > 0 && e.buf[e.len - 1] == '\n');
    for (size_t i = 0; i < e.len; i++)
        CHECK(e.buf[i] == '\n' || (e.buf[i] >= 0x20 && e.buf[i] <= 0x7e));
    CHECK(strncmp(e.buf, "[*] Received from 127.0.0.1:1", 29) == 0);
    for (const char *line = strchr(e.buf, '\n') + 1; *line; line = strchr(line, '\n') + 1)
        CHECK(strncmp(line, "  |", 3) == 0 || strncmp(line, "  + ", 4) == 0);
    app_log_entry_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_line(data, size);
    check_stream(data, size);
    check_received(data, size);
    return 0;
}
