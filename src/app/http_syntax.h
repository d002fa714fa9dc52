/*
 * HTTP/1.1 syntax shared by the request builder and the response framer
 * (RFC 9110 tokens, optional whitespace, ASCII case-insensitive names) and
 * quoting a peer's or user's bytes into a one-line message.
 */
#ifndef SECSOCK_APP_HTTP_SYNTAX_H
#define SECSOCK_APP_HTTP_SYNTAX_H

#include <stddef.h>
#include <string.h>

#include "term.h"

static inline int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar. */
static inline int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static inline int is_token(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

/* ASCII-only, so the locale cannot change what matches. */
static inline int name_eq(const char *s, size_t len, const char *lower)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (lower[i] == '\0' || c != (unsigned char)lower[i])
            return 0;
    }
    return lower[i] == '\0';
}

/* The room quote() needs to show up to max bytes. */
#define QUOTED_SIZE(max) (4 * (max) + 6)

/* A peer's or user's bytes as they can be shown inside a one-line message:
 * in quotes, escaped, cut to max bytes ("..." says so). */
static inline void quote(char *out, const char *s, size_t len, size_t max)
{
    size_t n = 1;

    out[0] = '"';
    n += term_escape_line((const unsigned char *)s, len < max ? len : max, out + 1);
    if (len > max) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n++] = '"';
    out[n] = '\0';
}

#endif
