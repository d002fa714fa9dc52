/*
 * Escaping bytes a peer sent before they reach a terminal or a log line.
 * A peer must not be able to move the cursor, retitle the window or forge
 * log lines, so control bytes never pass through unescaped.
 */
#ifndef SECSOCK_APP_TERM_H
#define SECSOCK_APP_TERM_H

#include <stddef.h>
#include <stdio.h>

/* One log line: printable ASCII (0x20..0x7e) is kept, except backslash which
 * becomes "\\"; \n, \r, \t become "\n", "\r", "\t"; every other byte "\xHH".
 * out must have room for 4 * len + 1 bytes; the result is NUL-terminated and
 * its length returned. */
size_t term_escape_line(const unsigned char *in, size_t len, char *out);

/* A stream to a terminal: like term_escape_line but line structure is kept:
 * "\n", "\t" and a "\r" directly followed by "\n" pass through unchanged
 * (a "\r\n" split across two calls too); a lone "\r" becomes "\r". Backslash
 * is kept as is: it is harmless on a terminal and doubling it would garble
 * the peer's text; so unlike a log line, this output cannot be decoded back. */
struct term_stream {
    int pending_cr; /* a "\r" seen at the end of the last chunk */
};
void term_stream_init(struct term_stream *st);
/* Returns 0, or -1 if writing to f failed. */
int term_stream_write(struct term_stream *st, FILE *f, const unsigned char *in, size_t len);
/* Flushes a pending "\r" (escaped, since no "\n" followed). */
int term_stream_finish(struct term_stream *st, FILE *f);

#endif
