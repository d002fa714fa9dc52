/*
 * tcp-client -v: the HTTP heads as curl -v shows them, on stderr: the
 * request head as sent, each line after "> ", and the response head (the
 * interim 1xx ones too) as it arrives, each line after "< ", escaped: a
 * server's bytes never reach the terminal raw.
 */
#ifndef SECSOCK_APP_HTTP_SHOW_H
#define SECSOCK_APP_HTTP_SHOW_H

#include <stddef.h>
#include <stdio.h>

/* The head of request (up to its empty line; the body is not shown). */
void http_show_request(FILE *f, const char *request, size_t len);

#define HTTP_SHOW_LINE_MAX 1024 /* a longer line is shown cut, with a note */

/* The response head, fed in pieces as they arrive. */
struct http_show {
    int state;      /* before the status line, in a head, done */
    int interim;    /* this head is a 1xx: another one follows */
    size_t len;     /* of the line being collected */
    size_t dropped; /* bytes of it past HTTP_SHOW_LINE_MAX */
    char line[HTTP_SHOW_LINE_MAX];
};
void http_show_init(struct http_show *h);
/* Shows each line of the head completed by data; the body and anything
 * after the final head is not shown, nor a reply that is not HTTP. */
void http_show_feed(struct http_show *h, FILE *f, const unsigned char *data, size_t len);

#endif
