/*
 * HTTP/1.1 response framing for tcp-client: where a response ends
 * (Content-Length, chunked, or connection close), so that a keep-alive
 * server never makes the client hang.
 */
#ifndef SECSOCK_APP_HTTP_FRAMING_H
#define SECSOCK_APP_HTTP_FRAMING_H

#include <stddef.h>

enum http_framing_result {
    HTTP_FRAMING_MORE = 0,   /* the response is not complete yet */
    HTTP_FRAMING_DONE = 1,   /* the response ended inside the bytes fed */
    HTTP_FRAMING_ERROR = -1, /* malformed: see http_framing.error */
};

typedef void (*http_body_cb)(void *arg, const unsigned char *data, size_t len);

/* Incremental response parser. Feed it what arrives; it says when the
 * message ends (RFC 9112 6.3). Interim 1xx responses are skipped; after
 * 101 Switching Protocols everything is body until the close. Responses to
 * HEAD and 204/304 have no body. Transfer-Encoding overrides Content-Length;
 * if its final coding is not chunked (or the response is HTTP/1.0) the body
 * runs to the close, as it does without either (until_close is then set).
 * A reply whose first bytes are not "HTTP/1." is not HTTP (not_http is set)
 * and runs to the close, like HTTP/0.9: tcp-client's GET to a seed-style
 * server gets its plain-text answer. Bare LF line ends are accepted. Feeding in any pieces, down to one byte at
 * a time, gives the same result; the struct is all the memory it uses. */
struct http_framing {
    int state;
    int head_request;
    int status; /* of the final response, once the head is parsed */
    int until_close;
    int not_http;                 /* the reply did not start like HTTP: raw to the close */
    int interim_seen;             /* a 1xx came first: what follows must be HTTP */
    unsigned long long remaining; /* Content-Length left, or current chunk left */
    size_t head_len;
    char head[16384]; /* the head being collected; a bigger one is an
                                  error. Once parsed: the final response's head
                                  (head_len bytes, not NUL-terminated) */
    size_t line_len;
    char line[1024];      /* chunk-size line being collected (a longer one
                                  is an error); trailer lines are skipped */
    http_body_cb on_body; /* optional: decoded body bytes (de-chunked);
                                  set it after http_framing_init */
    void *on_body_arg;
    char error[128];
};

void http_framing_init(struct http_framing *f, int head_request);
/* Consumes bytes; *consumed tells how many belonged to the response (on DONE
 * it may be less than len: the rest is the next response's; once DONE, it
 * is 0). On ERROR it only tells how far parsing got. */
enum http_framing_result http_framing_feed(struct http_framing *f, const unsigned char *buf,
                                           size_t len, size_t *consumed);
/* At the connection's close: DONE if the body was close-delimited (or the
 * response was complete), ERROR if the response was cut short. */
enum http_framing_result http_framing_eof(struct http_framing *f);

/* The value of header field NAME (case-insensitive) in the final
 * response's head, trimmed, into out; 0 if present, -1 if not (or no HTTP
 * head was parsed). A value that does not fit is cut. */
int http_response_header(const struct http_framing *f, const char *name, char *out, size_t outlen);

#endif
