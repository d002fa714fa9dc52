/*
 * HTTP/1.1 for tcp-client: building the request, and finding where the
 * response ends (Content-Length, chunked, or connection close) so that a
 * keep-alive server never makes the client hang.
 */
#ifndef SECSOCK_APP_HTTP_H
#define SECSOCK_APP_HTTP_H

#include <stddef.h>

struct http_request_spec {
    const char *method;        /* "GET" */
    const char *host;          /* as given by the user; IPv6 literals get [] */
    const char *port;          /* numeric */
    int default_port;          /* 80 or 443: ":PORT" is left out of Host when equal */
    const char *path;          /* "/" */
    const char *user_agent;
    const char *const *headers; /* "Name: value" lines from -H, in order */
    size_t nheaders;
};

/* Builds "METHOD PATH HTTP/1.1\r\nHost: ...\r\nUser-Agent: ...\r\nAccept: *\/*\r\n
 * Connection: close\r\n<extra headers>\r\n". A -H header replaces a default
 * header of the same name (case-insensitive), keeping the default's place;
 * "Name:" with an empty value removes it (curl's rule). Header names must be
 * tokens and no part may contain CR or LF. Returns a malloc'd NUL-terminated
 * string and its length, or NULL with a one-line reason in err. */
char *http_request_build(const struct http_request_spec *spec, size_t *len,
                         char *err, size_t errlen);

/* Checks one -H argument: "Name: value" or "Name:". 0 ok, -1 with reason. */
int http_header_check(const char *header, char *err, size_t errlen);

enum http_framing_result {
    HTTP_FRAMING_MORE = 0,   /* the response is not complete yet */
    HTTP_FRAMING_DONE = 1,   /* the response ended inside the bytes fed */
    HTTP_FRAMING_ERROR = -1, /* malformed: see http_framing.error */
};

typedef void (*http_body_cb)(void *arg, const unsigned char *data, size_t len);

/* Incremental response parser. Feed it what arrives; it says when the
 * message ends. Interim 1xx responses are skipped. Responses to HEAD and
 * 204/304 have no body. Without Content-Length or chunked, the body runs
 * to the connection's close (http_framing_until_close). */
struct http_framing {
    int state;
    int head_request;
    int status;                /* of the final response, once the head is parsed */
    int until_close;
    unsigned long long remaining; /* Content-Length left, or current chunk left */
    size_t head_len;
    char head[16384];          /* the head being collected (bounded) */
    size_t line_len;
    char line[1024];           /* chunk-size / trailer line being collected */
    http_body_cb on_body;      /* optional: decoded body bytes (de-chunked) */
    void *on_body_arg;
    char error[128];
};

void http_framing_init(struct http_framing *f, int head_request);
/* Consumes bytes; *consumed tells how many belonged to the response (on DONE
 * it may be less than len). */
enum http_framing_result http_framing_feed(struct http_framing *f, const unsigned char *buf,
                                           size_t len, size_t *consumed);
/* At the connection's close: DONE if the body was close-delimited (or the
 * response was complete), ERROR if the response was cut short. */
enum http_framing_result http_framing_eof(struct http_framing *f);

#endif
