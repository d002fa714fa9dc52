/*
 * HTTP response framing (http_framing_feed/eof, http_response_header): the
 * bytes a server sends to tcp-client.
 *
 * Input: 4 control bytes, then the response bytes.
 *   byte 0   bit 0: the request was HEAD
 *   bytes 1-3 the sizes of the pieces the response is fed in, used in turn:
 *            low 7 bits + 1, times 128 when the top bit is set
 * The response is parsed twice, all at once and piece by piece; the result,
 * the bytes consumed, the status, the decoded body, the head's fields and
 * the outcome at EOF must all agree (http.h promises that the cut does not
 * matter), else abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_framing.h"

/* The decoded body, collected through on_body. */
struct body {
    unsigned char *data;
    size_t len, cap;
};

static void on_body(void *arg, const unsigned char *p, size_t n)
{
    struct body *b = arg;
    if (n > b->cap - b->len) /* the body can never be longer than the input */
        abort();
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

struct outcome {
    enum http_framing_result feed, eof;
    size_t consumed;
    struct http_framing f; /* after the feed, before EOF */
    struct body body;
    char error[128]; /* after EOF */
};

/* Feeds resp to a fresh parser in pieces of the given sizes (none: all at
 * once), stopping at the first result that is not MORE, as tcp-client does. */
static void run(struct outcome *o, int head, const unsigned char *resp, size_t len,
                const size_t *pieces, size_t npieces)
{
    memset(o, 0, offsetof(struct outcome, body));
    http_framing_init(&o->f, head);
    o->f.on_body = on_body;
    o->f.on_body_arg = &o->body;
    o->feed = HTTP_FRAMING_MORE;
    for (size_t off = 0, i = 0; off < len && o->feed == HTTP_FRAMING_MORE; i++) {
        size_t n = npieces == 0 ? len : pieces[i % npieces];
        size_t used = 0;
        if (n > len - off)
            n = len - off;
        o->feed = http_framing_feed(&o->f, resp + off, n, &used);
        if (used > n)
            abort();
        o->consumed += used;
        off += n;
    }
    if (len == 0)
        o->feed = http_framing_feed(&o->f, resp, 0, &o->consumed);
    struct http_framing copy = o->f; /* eof changes the state */
    o->eof = http_framing_eof(&copy);
    memcpy(o->error, copy.error, sizeof o->error);
}

static void same(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "all-at-once and piecewise differ: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct outcome whole, split; /* ~17 KB each: not on the stack */
    if (size < 4)
        return 0;
    int head = data[0] & 1;
    size_t pieces[3];
    for (int i = 0; i < 3; i++)
        pieces[i] = ((size_t)(data[1 + i] & 0x7f) + 1) * (data[1 + i] & 0x80 ? 128 : 1);
    const unsigned char *resp = data + 4;
    size_t len = size - 4;

    unsigned char *b1 = malloc(len + 1), *b2 = malloc(len + 1);
    if (b1 == NULL || b2 == NULL)
        abort();
    whole.body = (struct body){ b1, 0, len };
    split.body = (struct body){ b2, 0, len };
    run(&whole, head, resp, len, NULL, 0);
    run(&split, head, resp, len, pieces, 3);

    same(whole.feed == split.feed, "result");
    same(whole.eof == split.eof, "result at EOF");
    same(strcmp(whole.f.error, split.f.error) == 0, "error");
    same(strcmp(whole.error, split.error) == 0, "error at EOF");
    if (whole.feed != HTTP_FRAMING_ERROR) /* on ERROR: only how far it got */
        same(whole.consumed == split.consumed, "bytes consumed");
    same(whole.consumed <= len, "consumed within the input");
    same(whole.f.status == split.f.status && whole.f.until_close == split.f.until_close &&
             whole.f.not_http == split.f.not_http,
         "status, until_close, not_http");
    same(whole.body.len == split.body.len && memcmp(b1, b2, whole.body.len) == 0, "body");
    if (whole.feed == HTTP_FRAMING_DONE && !whole.f.until_close && whole.f.status != 0)
        same(whole.f.remaining == 0, "a DONE response has nothing left");

    /* The header lookups tcp-client and its tests make, on both. */
    static const char *const names[] = { "content-type", "Location", "content-length",
                                         "transfer-encoding", "x" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char v1[64], v2[64];
        int r1 = http_response_header(&whole.f, names[i], v1, sizeof v1);
        int r2 = http_response_header(&split.f, names[i], v2, sizeof v2);
        same(r1 == r2 && (r1 != 0 || strcmp(v1, v2) == 0), "header value");
    }
    free(b1);
    free(b2);
    return 0;
}
