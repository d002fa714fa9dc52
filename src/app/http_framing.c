/* HTTP/1.1 response framing (see http_framing.h). */
#include "http_framing.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_syntax.h"

/* ---- Response framing -------------------------------------------------- */

enum {
    ST_HEAD = 0,    /* collecting a status line and header fields in head */
    ST_BODY_LENGTH, /* Content-Length body; remaining = bytes left */
    ST_BODY_CLOSE,  /* the body runs until the connection closes */
    ST_CHUNK_SIZE,  /* collecting a chunk-size line in line */
    ST_CHUNK_DATA,  /* remaining = bytes left of this chunk */
    ST_CHUNK_CR,    /* the CRLF after chunk data */
    ST_CHUNK_LF,
    ST_TRAILER, /* trailer lines up to an empty one; line_len = this line's */
    ST_DONE,
    ST_ERROR,
};

/* The parser stops for good. Returns -1 for the callers' convenience. */
static int fail(struct http_framing *f, const char *msg)
{
    snprintf(f->error, sizeof f->error, "%s", msg);
    f->state = ST_ERROR;
    return -1;
}

/* "what "culprit"" with the peer's bytes escaped and cut short. */
static int fail_quoted(struct http_framing *f, const char *what, const char *s, size_t len)
{
    char q[QUOTED_SIZE(24)]; /* leaves room in error[] for what */

    quote(q, s, len, 24);
    snprintf(f->error, sizeof f->error, "%s %s", what, q);
    f->state = ST_ERROR;
    return -1;
}

void http_framing_init(struct http_framing *f, int head_request)
{
    memset(f, 0, sizeof *f);
    f->state = ST_HEAD;
    f->head_request = head_request;
}

static void deliver(struct http_framing *f, const unsigned char *p, size_t n)
{
    if (f->on_body != NULL && n > 0)
        f->on_body(f->on_body_arg, p, n);
}

/* What the head says about the body. */
struct framing_fields {
    int have_length;
    unsigned long long length;
    int have_te;
    int chunked_last;  /* the final transfer coding so far is chunked */
    int chunked_count; /* chunked may be applied only once */
};

/* One line of the head, without its LF and a CR before it. */
struct line {
    const char *p;
    size_t len;
};

/* The line at *pos; the head always ends in LF, so there is one. */
static struct line next_line(const struct http_framing *f, size_t *pos)
{
    const char *p = f->head + *pos;
    const char *nl = memchr(p, '\n', f->head_len - *pos);
    size_t len = (size_t)(nl - p);

    *pos += len + 1;
    if (len > 0 && p[len - 1] == '\r')
        len--;
    return (struct line){ p, len };
}

/* "HTTP/1.x NNN[ reason]"; the status code, or -1 after fail(). */
static int parse_status_line(struct http_framing *f, struct line l, int *minor)
{
    const char *p = l.p;

    if (l.len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit((unsigned char)p[7]) ||
        p[8] != ' ' || !is_digit((unsigned char)p[9]) || !is_digit((unsigned char)p[10]) ||
        !is_digit((unsigned char)p[11]) || (l.len > 12 && p[12] != ' '))
        return fail_quoted(f, "malformed status line", l.p, l.len);
    int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (status < 100 || status > 599) /* RFC 9110 15: nothing else means anything */
        return fail_quoted(f, "malformed status line", l.p, l.len);
    *minor = p[7] - '0';
    return status;
}

/* Content-Length: 1*DIGIT, or a list of equal values ("5, 5", RFC 9110
 * 8.6); every field must agree. 0, or -1 after fail(). */
static int add_content_length(struct http_framing *f, struct framing_fields *ff, const char *v,
                              size_t len)
{
    size_t i = 0;

    for (;;) {
        unsigned long long n = 0;
        size_t start;

        while (i < len && is_ows((unsigned char)v[i]))
            i++;
        for (start = i; i < len && is_digit((unsigned char)v[i]); i++) {
            unsigned d = (unsigned)(v[i] - '0');
            if (n > (ULLONG_MAX - d) / 10)
                return fail(f, "Content-Length too large");
            n = n * 10 + d;
        }
        if (i == start)
            return fail_quoted(f, "invalid Content-Length", v, len);
        while (i < len && is_ows((unsigned char)v[i]))
            i++;
        if (i < len && v[i] != ',')
            return fail_quoted(f, "invalid Content-Length", v, len);
        if (ff->have_length && ff->length != n)
            return fail(f, "conflicting Content-Length values");
        ff->have_length = 1;
        ff->length = n;
        if (i == len)
            return 0;
        i++; /* the comma */
    }
}

/* The end of the list element starting at i: the next comma outside a
 * quoted string (transfer parameters may quote one). */
static size_t element_end(const char *v, size_t len, size_t i)
{
    int quoted = 0;

    for (; i < len; i++) {
        if (quoted && v[i] == '\\')
            i++;
        else if (v[i] == '"')
            quoted = !quoted;
        else if (!quoted && v[i] == ',')
            break;
    }
    return i < len ? i : len;
}

/* Transfer-Encoding: a list of codings, each "name[;params]"; empty
 * elements are allowed (RFC 9110 5.6.1). 0, or -1 after fail(). */
static int add_transfer_encoding(struct http_framing *f, struct framing_fields *ff, const char *v,
                                 size_t len)
{
    size_t i = 0, codings = 0;

    while (i < len) {
        size_t end = element_end(v, len, i), name;

        while (i < end && is_ows((unsigned char)v[i]))
            i++;
        for (name = i; i < end && is_tchar((unsigned char)v[i]); i++)
            ;
        if (i > name) {
            size_t j = i;
            while (j < end && is_ows((unsigned char)v[j]))
                j++;
            if (j < end && v[j] != ';')
                return fail_quoted(f, "invalid Transfer-Encoding", v, len);
            ff->chunked_last = name_eq(v + name, i - name, "chunked");
            ff->chunked_count += ff->chunked_last;
            codings++;
        } else if (i < end) {
            return fail_quoted(f, "invalid Transfer-Encoding", v, len);
        }
        i = end + 1;
    }
    if (codings == 0)
        return fail(f, "empty Transfer-Encoding");
    if (ff->chunked_count > 1)
        return fail(f, "chunked applied more than once");
    ff->have_te = 1;
    return 0;
}

/* The header fields after the status line, up to the empty line. Folded
 * lines (obs-fold) are tolerated, except in the fields that decide where
 * the body ends, where unfolding differently than the server would put
 * the end elsewhere. 0, or -1 after fail(). */
static int parse_fields(struct http_framing *f, size_t pos, struct framing_fields *ff)
{
    int framing_field = -1; /* -1: no field yet; 1: the last was a framing one */

    for (;;) {
        struct line l = next_line(f, &pos);
        const char *colon;
        size_t nlen, vs, ve;

        if (l.len == 0)
            return 0;
        if (is_ows((unsigned char)l.p[0])) {
            if (framing_field < 0)
                return fail(f, "whitespace before the first header field");
            if (framing_field > 0)
                return fail(f, "folded Content-Length or Transfer-Encoding");
            continue;
        }
        colon = memchr(l.p, ':', l.len);
        nlen = colon != NULL ? (size_t)(colon - l.p) : 0;
        if (colon == NULL || !is_token(l.p, nlen))
            return fail_quoted(f, "malformed header line", l.p, l.len);
        for (vs = nlen + 1; vs < l.len && is_ows((unsigned char)l.p[vs]); vs++)
            ;
        for (ve = l.len; ve > vs && is_ows((unsigned char)l.p[ve - 1]); ve--)
            ;
        framing_field = 1;
        if (name_eq(l.p, nlen, "content-length")) {
            if (add_content_length(f, ff, l.p + vs, ve - vs) != 0)
                return -1;
        } else if (name_eq(l.p, nlen, "transfer-encoding")) {
            if (add_transfer_encoding(f, ff, l.p + vs, ve - vs) != 0)
                return -1;
        } else {
            framing_field = 0;
        }
    }
}

/* Where the body of a final response ends (RFC 9112 6.3). */
static void start_body(struct http_framing *f, const struct framing_fields *ff, int minor)
{
    /* Same as the last branch, but it must come before the HEAD/204/304 one. */
    if (f->status == 101) { /* NOLINT(bugprone-branch-clone) */
        f->until_close = 1; /* another protocol from here on */
        f->state = ST_BODY_CLOSE;
    } else if (f->head_request || f->status == 204 || f->status == 304) {
        f->state = ST_DONE;
    } else if (ff->have_te) {
        /* Chunked overrides Content-Length. Another final coding, or an
         * HTTP/1.0 peer that cannot mean chunked, leaves only the close. */
        if (ff->chunked_last && minor > 0) {
            f->state = ST_CHUNK_SIZE;
        } else {
            f->until_close = 1;
            f->state = ST_BODY_CLOSE;
        }
    } else if (ff->have_length) {
        f->remaining = ff->length;
        f->state = ff->length > 0 ? ST_BODY_LENGTH : ST_DONE;
    } else {
        f->until_close = 1;
        f->state = ST_BODY_CLOSE;
    }
}

/* The head in f->head is complete. */
static void parse_head(struct http_framing *f)
{
    struct framing_fields ff = { 0 };
    size_t pos = 0;
    int minor = 1, status;

    status = parse_status_line(f, next_line(f, &pos), &minor);
    if (status < 0 || parse_fields(f, pos, &ff) != 0)
        return;
    if (status < 200 && status != 101) {
        f->head_len = 0; /* interim (100 Continue, 103 ...): the real one follows */
        f->interim_seen = 1;
        return;
    }
    f->status = status;
    start_body(f, &ff, minor);
}

/* A LF has just been stored at the end of head. */
static void head_line_done(struct http_framing *f)
{
    size_t lf = f->head_len - 1;
    size_t start = lf > 0 && f->head[lf - 1] == '\r' ? lf - 1 : lf;

    if (start > 0 && f->head[start - 1] != '\n')
        return; /* a line with content: more to come */
    if (start == 0)
        f->head_len = 0; /* blank lines before the status line: skip them */
    else
        parse_head(f);
}

static size_t feed_head(struct http_framing *f, const unsigned char *p, size_t n)
{
    static const char prefix[] = "HTTP/1.";
    const unsigned char *nl = memchr(p, '\n', n);
    size_t take = nl != NULL ? (size_t)(nl - p) + 1 : n;
    size_t room = sizeof f->head - f->head_len;

    if (room == 0) {
        fail(f, "response head too large");
        return 0;
    }
    if (take > room) {
        take = room;
        nl = NULL;
    }
    memcpy(f->head + f->head_len, p, take);
    f->head_len += take;
    /* A reply that does not start like HTTP (the seed's server answers
     * with plain text) is not HTTP at all: like HTTP/0.9, it runs to the
     * close. Decided on the first bytes, without waiting for a line end. */
    if (f->head[0] != '\r' && f->head[0] != '\n') {
        size_t cmp = f->head_len < sizeof prefix - 1 ? f->head_len : sizeof prefix - 1;
        if (memcmp(f->head, prefix, cmp) != 0) {
            if (f->interim_seen) {
                fail(f, "malformed status line: not HTTP/1.x");
                return take;
            }
            f->not_http = 1;
            f->until_close = 1;
            f->state = ST_BODY_CLOSE;
            deliver(f, (const unsigned char *)f->head, f->head_len);
            f->head_len = 0;
            return take;
        }
    }
    if (nl != NULL)
        head_line_done(f);
    return take;
}

static size_t feed_length_body(struct http_framing *f, const unsigned char *p, size_t n)
{
    size_t take = f->remaining < n ? (size_t)f->remaining : n;

    deliver(f, p, take);
    f->remaining -= take;
    if (f->remaining == 0)
        f->state = ST_DONE;
    return take;
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* line holds "HEX[ws][;ext...]" (RFC 9112 7.1); extensions are ignored. */
static void parse_chunk_size(struct http_framing *f)
{
    const char *s = f->line;
    size_t len = f->line_len, i;
    unsigned long long size = 0;

    if (len > 0 && s[len - 1] == '\r')
        len--;
    for (i = 0; i < len && hex_value((unsigned char)s[i]) >= 0; i++) {
        if (size > ULLONG_MAX >> 4) {
            fail(f, "chunk size too large");
            return;
        }
        size = size << 4 | (unsigned)hex_value((unsigned char)s[i]);
    }
    size_t digits = i;
    while (i < len && is_ows((unsigned char)s[i]))
        i++;
    if (digits == 0 || (i < len && s[i] != ';')) {
        fail_quoted(f, "bad chunk size", s, len);
        return;
    }
    f->line_len = 0;
    f->remaining = size;
    f->state = size > 0 ? ST_CHUNK_DATA : ST_TRAILER;
}

static size_t feed_chunk_size(struct http_framing *f, const unsigned char *p, size_t n)
{
    const unsigned char *nl = memchr(p, '\n', n);
    size_t data = nl != NULL ? (size_t)(nl - p) : n;

    if (data > sizeof f->line - f->line_len) {
        fail(f, "chunk size line too long");
        return 0;
    }
    memcpy(f->line + f->line_len, p, data);
    f->line_len += data;
    if (nl == NULL)
        return data;
    parse_chunk_size(f);
    return data + 1;
}

static size_t feed_chunk_data(struct http_framing *f, const unsigned char *p, size_t n)
{
    size_t take = f->remaining < n ? (size_t)f->remaining : n;

    deliver(f, p, take);
    f->remaining -= take;
    if (f->remaining == 0)
        f->state = ST_CHUNK_CR;
    return take;
}

/* The CRLF (or bare LF) that closes chunk data. */
static size_t feed_chunk_end(struct http_framing *f, unsigned char c)
{
    if (c == '\n') {
        f->state = ST_CHUNK_SIZE;
    } else if (c == '\r' && f->state == ST_CHUNK_CR) {
        f->state = ST_CHUNK_LF;
    } else {
        fail(f, "missing CRLF after chunk data");
        return 0;
    }
    return 1;
}

/* Trailer fields are not used, only skipped: line_len counts the current
 * line's bytes and line[0] keeps its first, to tell an empty line ("" or
 * "\r") from others. */
static size_t feed_trailer(struct http_framing *f, const unsigned char *p, size_t n)
{
    const unsigned char *nl = memchr(p, '\n', n);
    size_t data = nl != NULL ? (size_t)(nl - p) : n;

    if (f->line_len == 0 && data > 0)
        f->line[0] = (char)p[0];
    if (f->line_len < 2) /* beyond that only "non-empty" matters */
        f->line_len += data < 2 ? data : 2;
    if (nl == NULL)
        return data;
    if (f->line_len == 0 || (f->line_len == 1 && f->line[0] == '\r'))
        f->state = ST_DONE;
    f->line_len = 0;
    return data + 1;
}

enum http_framing_result http_framing_feed(struct http_framing *f, const unsigned char *buf,
                                           size_t len, size_t *consumed)
{
    size_t pos = 0;

    while (pos < len && f->state != ST_DONE && f->state != ST_ERROR) {
        const unsigned char *p = buf + pos;
        size_t n = len - pos;

        switch (f->state) {
        case ST_HEAD: pos += feed_head(f, p, n); break;
        case ST_BODY_LENGTH: pos += feed_length_body(f, p, n); break;
        case ST_BODY_CLOSE:
            deliver(f, p, n);
            pos = len;
            break;
        case ST_CHUNK_SIZE: pos += feed_chunk_size(f, p, n); break;
        case ST_CHUNK_DATA: pos += feed_chunk_data(f, p, n); break;
        case ST_CHUNK_CR:
        case ST_CHUNK_LF: pos += feed_chunk_end(f, *p); break;
        case ST_TRAILER: pos += feed_trailer(f, p, n); break;
        default: fail(f, "internal error: bad parser state"); break;
        }
    }
    if (consumed != NULL)
        *consumed = pos;
    return f->state == ST_DONE    ? HTTP_FRAMING_DONE
           : f->state == ST_ERROR ? HTTP_FRAMING_ERROR
                                  : HTTP_FRAMING_MORE;
}

enum http_framing_result http_framing_eof(struct http_framing *f)
{
    switch (f->state) {
    case ST_DONE:
    case ST_BODY_CLOSE: f->state = ST_DONE; return HTTP_FRAMING_DONE;
    case ST_ERROR: return HTTP_FRAMING_ERROR;
    case ST_HEAD:
        fail(f, f->head_len == 0 ? "response cut short: closed before the response head"
                                 : "response cut short: closed inside the response head");
        break;
    case ST_BODY_LENGTH:
        snprintf(f->error, sizeof f->error, "response cut short: %llu body bytes missing",
                 f->remaining);
        f->state = ST_ERROR;
        break;
    default: fail(f, "response cut short: closed inside the chunked body"); break;
    }
    return HTTP_FRAMING_ERROR;
}

int http_response_header(const struct http_framing *f, const char *name, char *out, size_t outlen)
{
    if (f->status == 0 || f->not_http || outlen == 0)
        return -1;
    size_t nlen = strlen(name);
    size_t pos = 0;
    (void)next_line(f, &pos); /* the status line */
    while (pos < f->head_len) {
        struct line l = next_line(f, &pos);
        if (l.len > nlen && l.p[nlen] == ':' && strncasecmp(l.p, name, nlen) == 0) {
            const char *v = l.p + nlen + 1;
            size_t vlen = l.len - nlen - 1;
            while (vlen > 0 && (*v == ' ' || *v == '\t'))
                v++, vlen--;
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            snprintf(out, outlen, "%.*s", (int)vlen, v);
            return 0;
        }
    }
    return -1;
}
