/* Where an HTTP response ends (src/app/http_framing.c): well-formed
 * responses, each parsed every way (framing_check.h); the malformed ones
 * and the limits are in test_http_framing_errors.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing_check.h"
#include "http_framing.h"
#include "testutil.h"

/* ---- Response framing -------------------------------------------------- */

START_TEST(framing_content_length)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_assert_int_eq(o->status, 200);
    ck_assert_int_eq(o->until_close, 0);
    ck_body(o, "hello");
}
END_TEST

START_TEST(framing_keep_alive_stops_before_next_response)
{
    /* A keep-alive server sends no close: DONE must come from the framing,
     * and consumed must point at the next response. */
    const char first[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof first - 1);
    ck_body(o, "abc");

    o = parse_all_ways(r + o->consumed, sizeof r - sizeof first, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->status, 404);
    ck_assert_uint_eq(o->consumed, sizeof r - sizeof first);
}
END_TEST

START_TEST(framing_chunked)
{
    const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;name=\"v;al\"\r\nhello\r\n"
                     "6 ; ext\r\n world\r\n"
                     "000A\r\n0123456789\r\n"
                     "0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_body(o, "hello world0123456789");
}
END_TEST

START_TEST(framing_chunked_keep_alive_trailing_bytes)
{
    const char first[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n0\r\n\r\n";
    const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\n\r\n"
                     "HTTP/1.1 200 OK\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof first - 1);
    ck_body(o, "abc");
}
END_TEST

START_TEST(framing_chunked_wins_over_content_length)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                     "Transfer-Encoding: gzip\r\ntransfer-encoding: , Chunked\r\n\r\n"
                     "2\r\nhi\r\n0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_body(o, "hi");
}
END_TEST

START_TEST(framing_final_coding_not_chunked_runs_to_close)
{
    const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
                     "Content-Length: 2\r\n\r\nxyz";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_assert_int_eq(o->until_close, 1);
    o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "xyz");
}
END_TEST

START_TEST(framing_http10_chunked_runs_to_close)
{
    /* HTTP/1.0 has no chunked: the framing is faulty, only the close counts. */
    const char r[] = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->until_close, 1);
    ck_body(o, "0\r\n\r\n");
}
END_TEST

START_TEST(framing_bare_lf)
{
    const char r[] = "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "hi");

    const char c[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\n\r\n2\nhi\n0\n\n";
    o = PARSE(c, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof c - 1);
    ck_body(o, "hi");
}
END_TEST

START_TEST(framing_blank_lines_before_status_skipped)
{
    const char r[] = "\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
}
END_TEST

START_TEST(framing_head_response_has_no_body)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    const struct outcome *o = PARSE(r, 1, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_assert_uint_eq(o->body_len, 0);

    const char c[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1";
    o = PARSE(c, 1, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof c - 1 - 8);
}
END_TEST

START_TEST(framing_204_304_have_no_body)
{
    const char r204[] = "HTTP/1.1 204 No Content\r\n\r\n";
    const struct outcome *o = PARSE(r204, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->status, 204);
    ck_assert_uint_eq(o->consumed, sizeof r204 - 1);

    const char r304[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nnext";
    o = PARSE(r304, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r304 - 1 - 4);
}
END_TEST

START_TEST(framing_content_length_zero)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
}
END_TEST

START_TEST(framing_interim_responses_skipped)
{
    const char r[] = "HTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                     "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->status, 201);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_body(o, "ok");
}
END_TEST

START_TEST(framing_101_switches_to_until_close)
{
    const char r[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Content-Length: 1\r\n\r\n\x81\x02hi";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_assert_int_eq(o->status, 101);
    ck_assert_int_eq(o->until_close, 1);
    ck_body(o, "\x81\x02hi");
    o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
}
END_TEST

START_TEST(framing_until_close)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_assert_int_eq(o->until_close, 1);
    o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "all of it\r\n");
}
END_TEST

START_TEST(framing_eof_cuts_short)
{
    const char body[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    const struct outcome *o = PARSE(body, 0, 1);
    ck_error_starts(o, "response cut short");
    ck_assert_str_eq(o->error, "response cut short: 7 body bytes missing");
    ck_body(o, "abc");

    const char head[] = "HTTP/1.1 200 OK\r\nContent-Le";
    ck_error_starts(PARSE(head, 0, 1), "response cut short");

    const char chunk[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
    ck_error_starts(PARSE(chunk, 0, 1), "response cut short");

    const char trailer[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
    ck_error_starts(PARSE(trailer, 0, 1), "response cut short");

    const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ck_error_starts(PARSE(interim, 0, 1), "response cut short");

    ck_error_starts(parse_all_ways("", 0, 0, 1), "response cut short");
}
END_TEST

START_TEST(framing_feed_after_done)
{
    static struct http_framing f;
    const char r[] = "HTTP/1.1 204 No Content\r\n\r\n";
    size_t used = 1;

    http_framing_init(&f, 0);
    ck_assert_int_eq(http_framing_feed(&f, (const unsigned char *)r, sizeof r - 1, &used),
                     HTTP_FRAMING_DONE);
    ck_assert_int_eq(http_framing_feed(&f, (const unsigned char *)"x", 1, &used),
                     HTTP_FRAMING_DONE);
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(http_framing_eof(&f), HTTP_FRAMING_DONE);
}
END_TEST

START_TEST(framing_without_callback)
{
    static struct http_framing f;
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    size_t used;

    http_framing_init(&f, 0);
    ck_assert_int_eq(http_framing_feed(&f, (const unsigned char *)r, sizeof r - 1, &used),
                     HTTP_FRAMING_DONE);
    ck_assert_uint_eq(used, sizeof r - 1);
    ck_assert_int_eq(f.status, 200);
}
END_TEST

static Suite *http_framing_suite(void)
{
    Suite *s = suite_create("http_framing");
    TCase *fr = tcase_create("framing");

    tcase_add_test(fr, framing_content_length);
    tcase_add_test(fr, framing_keep_alive_stops_before_next_response);
    tcase_add_test(fr, framing_chunked);
    tcase_add_test(fr, framing_chunked_keep_alive_trailing_bytes);
    tcase_add_test(fr, framing_chunked_wins_over_content_length);
    tcase_add_test(fr, framing_final_coding_not_chunked_runs_to_close);
    tcase_add_test(fr, framing_http10_chunked_runs_to_close);
    tcase_add_test(fr, framing_bare_lf);
    tcase_add_test(fr, framing_blank_lines_before_status_skipped);
    tcase_add_test(fr, framing_head_response_has_no_body);
    tcase_add_test(fr, framing_204_304_have_no_body);
    tcase_add_test(fr, framing_content_length_zero);
    tcase_add_test(fr, framing_interim_responses_skipped);
    tcase_add_test(fr, framing_101_switches_to_until_close);
    tcase_add_test(fr, framing_until_close);
    tcase_add_test(fr, framing_eof_cuts_short);
    tcase_add_test(fr, framing_feed_after_done);
    tcase_add_test(fr, framing_without_callback);
    suite_add_tcase(s, fr);
    return s;
}

int main(void)
{
    return testutil_run(http_framing_suite());
}
