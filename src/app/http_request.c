/* HTTP/1.1 request building (see http_request.h). */
#include "http_request.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_syntax.h"

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
    return (struct field){ h, (size_t)(colon - h), v, (size_t)(end - v) };
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

enum { DEF_HOST, DEF_USER_AGENT, DEF_ACCEPT, DEF_CONNECTION, DEF_CONTENT_TYPE, NDEFAULTS };
static const char *const default_names[NDEFAULTS] = { "host", "user-agent", "accept", "connection",
                                                      "content-type" };

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
    case DEF_ACCEPT: sb_str(sb, "Accept: */*\r\n"); break;
    case DEF_CONNECTION: sb_str(sb, "Connection: close\r\n"); break;
    case DEF_CONTENT_TYPE:
        if (spec->has_body && spec->content_type != NULL) {
            sb_str(sb, "Content-Type: ");
            sb_str(sb, spec->content_type);
            sb_str(sb, "\r\n");
        }
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
static int check_spec(const struct http_request_spec *spec, long *port, char *err, size_t errlen)
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
    for (size_t i = 0; i < spec->nheaders; i++) {
        if (http_header_check(spec->headers[i], err, errlen) != 0)
            return -1;
        struct field h = split_header(spec->headers[i]);
        if (spec->has_body && (name_eq(h.name, h.namelen, "content-length") ||
                               name_eq(h.name, h.namelen, "transfer-encoding")))
            return req_error(err, errlen, "header", spec->headers[i],
                             "the body's length is set from the data", "");
    }
    return 0;
}

char *http_request_build(const struct http_request_spec *given, size_t *len, char *err,
                         size_t errlen)
{
    struct http_request_spec spec = *given;
    struct strbuf sb = { 0 };
    long port = 0;

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
    if (spec.has_body) {
        char num[48];
        snprintf(num, sizeof num, "Content-Length: %zu\r\n", spec.body_len);
        sb_str(&sb, num);
    }
    sb_str(&sb, "\r\n");
    if (spec.has_body)
        sb_add(&sb, spec.body, spec.body_len);
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
