/*
 * HTTP/1.1 request building and response framing (see http.h).
 */
#include "http.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "term.h"

/* ---- Shared helpers ---------------------------------------------------- */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

/* ASCII-only, so the locale cannot change what matches. */
static int name_eq(const char *s, size_t len, const char *lower)
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
static void quote(char *out, const char *s, size_t len, size_t max)
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

/* ---- Request ----------------------------------------------------------- */

/* Sets err to `invalid WHAT "CULPRIT": REASON1REASON2` and returns -1. */
static int req_error(char *err, size_t errlen, const char *what, const char *culprit,
                     const char *reason1, const char *reason2)
{
    char q[QUOTED_SIZE(48)];

    if (err == NULL || errlen == 0)
        return -1;
    quote(q, culprit, strlen(culprit), 48);
    snprintf(err, errlen, "invalid %s %s: %s%s", what, q, reason1, reason2);
    return -1;
}

/* NULL if s can go into the request as it is, else what it wrongly
 * contains, the worst first: CR and LF would let it add lines. Field values
 * may hold spaces and tabs; the request line's parts may not. */
static const char *bad_chars(const char *s, int in_field)
{
    const char *why = NULL;

    if (strpbrk(s, "\r\n") != NULL)
        return "CR or LF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && !(in_field && c == '\t')) || c == 0x7f)
            return "a control character";
        if (c == ' ' && !in_field)
            why = "a space";
    }
    return why;
}

int http_header_check(const char *header, char *err, size_t errlen)
{
    const char *colon, *why, *bad;

    if (header == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "invalid header: none given");
        return -1;
    }
    colon = strchr(header, ':');
    if (colon == NULL)
        why = "missing ':'";
    else if (colon == header)
        why = "empty name";
    else if (!is_token(header, (size_t)(colon - header)))
        why = "name is not a token";
    else if ((bad = bad_chars(colon + 1, 1)) != NULL)
        return req_error(err, errlen, "header", header, "value contains ", bad);
    else
        return 0;
    return req_error(err, errlen, "header", header, why, "");
}

/* A checked "Name: value" split, the value without surrounding whitespace. */
struct field {
    const char *name;
    size_t namelen;
    const char *value;
    size_t valuelen;
};

static struct field split_header(const char *h)
{
    const char *colon = strchr(h, ':');
    const char *v = colon + 1, *end;

    while (is_ows((unsigned char)*v))
        v++;
    end = v + strlen(v);
    while (end > v && is_ows((unsigned char)end[-1]))
        end--;
    return (struct field){h, (size_t)(colon - h), v, (size_t)(end - v)};
}

/* A growing output string; a failed allocation sticks until the end. */
struct strbuf {
    char *buf;
    size_t len, cap;
    int oom;
};

static void sb_add(struct strbuf *sb, const char *s, size_t n)
{
    if (sb->oom)
        return;
    if (n >= sb->cap - sb->len) { /* keep room for the NUL */
        size_t cap = sb->cap ? sb->cap : 512;
        while (n >= cap - sb->len) {
            if (cap > SIZE_MAX / 2) {
                sb->oom = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(sb->buf, cap);
        if (p == NULL) {
            sb->oom = 1;
            return;
        }
        sb->buf = p;
        sb->cap = cap;
    }
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

static void sb_str(struct strbuf *sb, const char *s)
{
    sb_add(sb, s, strlen(s));
}

/* The port as a number, or -1 if it is not 1..65535 in decimal. */
static long parse_port(const char *s)
{
    long v = 0;

    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (!is_digit((unsigned char)*s))
            return -1;
        v = v * 10 + (*s - '0');
        if (v > 65535)
            return -1;
    }
    return v == 0 ? -1 : v;
}

/* The Host value: IPv6 literals in brackets, without a zone ("%eth0": it
 * means nothing to the server), ":PORT" unless the port is the default. */
static void add_host_value(struct strbuf *sb, const struct http_request_spec *spec, long port)
{
    const char *host = spec->host;

    if (strchr(host, ':') != NULL && host[0] != '[') {
        sb_str(sb, "[");
        sb_add(sb, host, strcspn(host, "%"));
        sb_str(sb, "]");
    } else {
        sb_str(sb, host);
    }
    if (port > 0 && port != spec->default_port) {
        char num[24];
        snprintf(num, sizeof num, ":%ld", port);
        sb_str(sb, num);
    }
}

enum { DEF_HOST, DEF_USER_AGENT, DEF_ACCEPT, DEF_CONNECTION, NDEFAULTS };
static const char *const default_names[NDEFAULTS] = {"host", "user-agent", "accept",
                                                     "connection"};

/* For each default header, the index of the first -H naming it, or -1. */
static void find_overrides(const struct http_request_spec *spec, long idx[NDEFAULTS])
{
    for (int d = 0; d < NDEFAULTS; d++) {
        idx[d] = -1;
        for (size_t i = 0; i < spec->nheaders && idx[d] < 0; i++) {
            struct field h = split_header(spec->headers[i]);
            if (name_eq(h.name, h.namelen, default_names[d]))
                idx[d] = (long)i;
        }
    }
}

static void add_field(struct strbuf *sb, struct field h)
{
    sb_add(sb, h.name, h.namelen);
    sb_str(sb, ": ");
    sb_add(sb, h.value, h.valuelen);
    sb_str(sb, "\r\n");
}

static void add_default(struct strbuf *sb, const struct http_request_spec *spec, int d, long port)
{
    switch (d) {
    case DEF_HOST:
        sb_str(sb, "Host: ");
        add_host_value(sb, spec, port);
        sb_str(sb, "\r\n");
        break;
    case DEF_USER_AGENT:
        if (spec->user_agent != NULL && spec->user_agent[0] != '\0') {
            sb_str(sb, "User-Agent: ");
            sb_str(sb, spec->user_agent);
            sb_str(sb, "\r\n");
        }
        break;
    case DEF_ACCEPT:
        sb_str(sb, "Accept: */*\r\n");
        break;
    case DEF_CONNECTION:
        sb_str(sb, "Connection: close\r\n");
        break;
    }
}

static int is_override(const long idx[NDEFAULTS], size_t i)
{
    for (int d = 0; d < NDEFAULTS; d++)
        if (idx[d] == (long)i)
            return 1;
    return 0;
}

static void add_headers(struct strbuf *sb, const struct http_request_spec *spec, long port)
{
    long idx[NDEFAULTS];

    find_overrides(spec, idx);
    for (int d = 0; d < NDEFAULTS; d++) {
        if (idx[d] < 0) {
            add_default(sb, spec, d, port);
        } else {
            struct field h = split_header(spec->headers[idx[d]]);
            if (h.valuelen > 0) /* "Name:" removes the default */
                add_field(sb, h);
        }
    }
    for (size_t i = 0; i < spec->nheaders; i++) {
        struct field h = split_header(spec->headers[i]);
        if (!is_override(idx, i) && h.valuelen > 0)
            add_field(sb, h);
    }
}

/* 0, or -1 with err set, and *port the port (0 if none was given). */
static int check_spec(const struct http_request_spec *spec, long *port, char *err,
                      size_t errlen)
{
    const char *why;

    if (!is_token(spec->method, strlen(spec->method)))
        return req_error(err, errlen, "method", spec->method, "not a token", "");
    if (spec->path[0] == '\0')
        return req_error(err, errlen, "path", "", "empty", "");
    if ((why = bad_chars(spec->path, 0)) != NULL)
        return req_error(err, errlen, "path", spec->path, "contains ", why);
    if (spec->host == NULL || spec->host[0] == '\0')
        return req_error(err, errlen, "host", "", "empty", "");
    if ((why = bad_chars(spec->host, 0)) != NULL)
        return req_error(err, errlen, "host", spec->host, "contains ", why);
    *port = 0;
    if (spec->port != NULL && spec->port[0] != '\0' && (*port = parse_port(spec->port)) < 0)
        return req_error(err, errlen, "port", spec->port, "not a number from 1 to 65535", "");
    if (spec->user_agent != NULL && (why = bad_chars(spec->user_agent, 1)) != NULL)
        return req_error(err, errlen, "user agent", spec->user_agent, "contains ", why);
    if (spec->nheaders > 0 && spec->headers == NULL)
        return req_error(err, errlen, "header", "", "none given", "");
    for (size_t i = 0; i < spec->nheaders; i++)
        if (http_header_check(spec->headers[i], err, errlen) != 0)
            return -1;
    return 0;
}

char *http_request_build(const struct http_request_spec *given, size_t *len, char *err,
                         size_t errlen)
{
    struct http_request_spec spec = *given;
    struct strbuf sb = {0};
    long port;

    if (spec.method == NULL)
        spec.method = "GET";
    if (spec.path == NULL)
        spec.path = "/";
    if (check_spec(&spec, &port, err, errlen) != 0)
        return NULL;
    sb_str(&sb, spec.method);
    sb_str(&sb, " ");
    sb_str(&sb, spec.path);
    sb_str(&sb, " HTTP/1.1\r\n");
    add_headers(&sb, &spec, port);
    sb_str(&sb, "\r\n");
    if (sb.oom) {
        free(sb.buf);
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "out of memory building the request");
        return NULL;
    }
    if (len != NULL)
        *len = sb.len;
    return sb.buf;
}

/* ---- Response framing -------------------------------------------------- */

enum {
    ST_HEAD = 0,    /* collecting a status line and header fields in head */
    ST_BODY_LENGTH, /* Content-Length body; remaining = bytes left */
    ST_BODY_CLOSE,  /* the body runs until the connection closes */
    ST_CHUNK_SIZE,  /* collecting a chunk-size line in line */
    ST_CHUNK_DATA,  /* remaining = bytes left of this chunk */
    ST_CHUNK_CR,    /* the CRLF after chunk data */
    ST_CHUNK_LF,
    ST_TRAILER,     /* trailer lines up to an empty one; line_len = this line's */
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
    return (struct line){p, len};
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
static int add_transfer_encoding(struct http_framing *f, struct framing_fields *ff,
                                 const char *v, size_t len)
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
    struct framing_fields ff = {0};
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
        case ST_HEAD:
            pos += feed_head(f, p, n);
            break;
        case ST_BODY_LENGTH:
            pos += feed_length_body(f, p, n);
            break;
        case ST_BODY_CLOSE:
            deliver(f, p, n);
            pos = len;
            break;
        case ST_CHUNK_SIZE:
            pos += feed_chunk_size(f, p, n);
            break;
        case ST_CHUNK_DATA:
            pos += feed_chunk_data(f, p, n);
            break;
        case ST_CHUNK_CR:
        case ST_CHUNK_LF:
            pos += feed_chunk_end(f, *p);
            break;
        case ST_TRAILER:
            pos += feed_trailer(f, p, n);
            break;
        default:
            fail(f, "internal error: bad parser state");
            break;
        }
    }
    if (consumed != NULL)
        *consumed = pos;
    return f->state == ST_DONE ? HTTP_FRAMING_DONE
           : f->state == ST_ERROR ? HTTP_FRAMING_ERROR
                                  : HTTP_FRAMING_MORE;
}

enum http_framing_result http_framing_eof(struct http_framing *f)
{
    switch (f->state) {
    case ST_DONE:
    case ST_BODY_CLOSE:
        f->state = ST_DONE;
        return HTTP_FRAMING_DONE;
    case ST_ERROR:
        return HTTP_FRAMING_ERROR;
    case ST_HEAD:
        fail(f, f->head_len == 0 ? "response cut short: closed before the response head"
                                 : "response cut short: closed inside the response head");
        break;
    case ST_BODY_LENGTH:
        snprintf(f->error, sizeof f->error, "response cut short: %llu body bytes missing",
                 f->remaining);
        f->state = ST_ERROR;
        break;
    default:
        fail(f, "response cut short: closed inside the chunked body");
        break;
    }
    return HTTP_FRAMING_ERROR;
}

int http_response_header(const struct http_framing *f, const char *name, char *out,
                         size_t outlen)
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
