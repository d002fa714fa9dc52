/* The framing suites' check (framing_check.h). */
#include "framing_check.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static void collect(void *arg, const unsigned char *data, size_t len)
{
    struct outcome *o = arg;
    ck_assert_uint_le(len, sizeof o->body - o->body_len);
    memcpy(o->body + o->body_len, data, len);
    o->body_len += len;
}

/* Feeds data cut at cuts (ascending), stopping at DONE or ERROR; then, if
 * still MORE and eof is set, reports the close. */
static void run_cuts(const char *data, size_t len, int head, int eof, const size_t *cuts,
                     size_t ncuts, struct outcome *o)
{
    static struct http_framing f;
    size_t from = 0;

    memset(o, 0, sizeof *o);
    http_framing_init(&f, head);
    f.on_body = collect;
    f.on_body_arg = o;
    o->res = HTTP_FRAMING_MORE;
    for (size_t i = 0; i <= ncuts && o->res == HTTP_FRAMING_MORE; i++) {
        size_t to = i < ncuts ? cuts[i] : len, used = 99999;
        o->res = http_framing_feed(&f, (const unsigned char *)data + from, to - from, &used);
        ck_assert_uint_le(used, to - from);
        if (o->res == HTTP_FRAMING_MORE)
            ck_assert_uint_eq(used, to - from);
        o->consumed += used;
        from = to;
    }
    if (o->res == HTTP_FRAMING_MORE && eof)
        o->res = http_framing_eof(&f);
    o->status = f.status;
    o->until_close = f.until_close;
    memcpy(o->error, f.error, sizeof o->error);
    ck_assert_msg(o->res != HTTP_FRAMING_ERROR || o->error[0] != '\0', "ERROR without reason");
}

static void same_outcome(const struct outcome *a, const struct outcome *b, const char *how,
                         size_t at)
{
    ck_assert_msg(a->res == b->res, "%s %zu: result %d, not %d", how, at, b->res, a->res);
    ck_assert_msg(strcmp(a->error, b->error) == 0, "%s %zu: error \"%s\", not \"%s\"", how, at,
                  b->error, a->error);
    if (a->res != HTTP_FRAMING_ERROR)
        ck_assert_msg(a->consumed == b->consumed, "%s %zu: consumed %zu, not %zu", how, at,
                      b->consumed, a->consumed);
    ck_assert_msg(a->status == b->status && a->until_close == b->until_close, "%s %zu", how, at);
    ck_assert_msg(a->body_len == b->body_len && memcmp(a->body, b->body, a->body_len) == 0,
                  "%s %zu: other body", how, at);
}

static struct outcome whole, pieces;

const struct outcome *parse_all_ways(const char *data, size_t len, int head, int eof)
{
    size_t *cuts = calloc(len + 1, sizeof *cuts);

    ck_assert_ptr_nonnull(cuts);
    run_cuts(data, len, head, eof, NULL, 0, &whole);
    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    run_cuts(data, len, head, eof, cuts, len > 0 ? len - 1 : 0, &pieces);
    same_outcome(&whole, &pieces, "byte at a time", 0);
    for (size_t cut = 0; cut <= len && len <= 4096; cut++) {
        run_cuts(data, len, head, eof, &cut, 1, &pieces);
        same_outcome(&whole, &pieces, "split at", cut);
    }
    free(cuts);
    return &whole;
}

void ck_body(const struct outcome *o, const char *expected)
{
    ck_assert_uint_eq(o->body_len, strlen(expected));
    ck_assert_int_eq(memcmp(o->body, expected, o->body_len), 0);
}

void ck_error_starts(const struct outcome *o, const char *prefix)
{
    ck_assert_int_eq(o->res, HTTP_FRAMING_ERROR);
    ck_assert_msg(strncmp(o->error, prefix, strlen(prefix)) == 0, "error: %s", o->error);
}
