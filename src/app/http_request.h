/*
 * HTTP/1.1 requests for tcp-client: the request line and head from the
 * options, every part checked so that no option can smuggle a second
 * header or request.
 */
#ifndef SECSOCK_APP_HTTP_REQUEST_H
#define SECSOCK_APP_HTTP_REQUEST_H

#include <stddef.h>

struct http_request_spec {
    const char *method;         /* a token, e.g. "GET"; NULL means "GET" */
    const char *host;           /* as given by the user; IPv6 literals get [] */
    const char *port;           /* numeric; NULL or "" leaves ":PORT" out */
    int default_port;           /* 80 or 443: ":PORT" is left out of Host when equal */
    const char *path;           /* e.g. "/"; NULL means "/" */
    const char *user_agent;     /* NULL or "" sends no User-Agent */
    const char *const *headers; /* "Name: value" lines from -H, in order */
    size_t nheaders;
    int has_body;     /* a body follows the head, with its Content-Length */
    const char *body; /* body_len bytes, any content */
    size_t body_len;
    const char *content_type; /* with a body: the default Content-Type, or NULL */
};

/* Builds "METHOD PATH HTTP/1.1", then the default headers Host, User-Agent,
 * "Accept: <any type>" and "Connection: close" (and with a body its
 * Content-Type, when given), then the other -H headers, then, with a body,
 * its Content-Length, then the empty line, all ending in CRLF, then the
 * body. A -H Content-Length or Transfer-Encoding with a body is refused. Host is "[v6addr]" for a host with
 * a ':' (its "%zone" left out: it means nothing to the server) plus ":PORT"
 * when the port is not default_port. The first -H naming a default header
 * (case-insensitive) replaces it in its place; "Name:" with an empty value
 * removes it (curl's rule) and is itself never sent; the other -H headers
 * follow in order, their values trimmed of surrounding blanks. Method and
 * header names must be tokens; no part may contain CR, LF or another control
 * character (a tab is allowed in values), nor the request line's parts a
 * space. Returns a malloc'd NUL-terminated string and its length, or NULL
 * with a one-line reason naming the culprit in err, e.g.
 * invalid header "Foo bar: x": name is not a token */
char *http_request_build(const struct http_request_spec *spec, size_t *len, char *err,
                         size_t errlen);

/* Checks one -H argument: "Name: value" or "Name:". 0 ok, -1 with a
 * one-line reason in err. */
int http_header_check(const char *header, char *err, size_t errlen);

#endif
