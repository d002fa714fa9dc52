/* Where an HTTP response ends (src/app/http_framing.c): malformed
 * responses and the limits, each refused with a reason that names it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing_check.h"
#include "http_framing.h"
#include "testutil.h"

/* ---- Malformed responses and limits ------------------------------------ */

START_TEST(framing_malformed_status_line)
{
    static const char *const bad[] = {
        "HTTP/1.1 20 OK\r\n\r\n",   "HTTP/1.1 200OK\r\n\r\n",    "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 600 High\r\n\r\n", "HTTP/1.x 200 OK\r\n\r\n",
        "HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_error_starts(parse_all_ways(bad[i], strlen(bad[i]), 0, 0), "malformed status line");
}
END_TEST

START_TEST(framing_status_line_without_reason)
{
    const char r[] = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
    ck_assert_int_eq(PARSE(r, 0, 0)->res, HTTP_FRAMING_DONE);
}
END_TEST

START_TEST(framing_not_http_runs_to_close)
{
    /* The seed's server answers a GET with plain text: that is the reply,
     * up to the close, decided without waiting for a line end. */
    static const char *const raw[] = {
        "tcp-server over TCP is working", "SSH-2.0-OpenSSH_9.2",      "ICY 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",        " HTTP/1.1 200 OK\r\n\r\n", "HTTP/2 200\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        const struct outcome *o = parse_all_ways(raw[i], strlen(raw[i]), 0, 0);
        ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
        ck_assert_int_eq(o->until_close, 1);
        o = parse_all_ways(raw[i], strlen(raw[i]), 0, 1);
        ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
        ck_assert_uint_eq(o->body_len, strlen(raw[i]));
        ck_assert_int_eq(memcmp(o->body, raw[i], o->body_len), 0);
    }
}
END_TEST

START_TEST(framing_not_http_after_interim_is_an_error)
{
    const char r[] = "HTTP/1.1 100 Continue\r\n\r\nhello";
    ck_error_starts(PARSE(r, 0, 0), "malformed status line");
}
END_TEST

START_TEST(framing_error_shows_peer_bytes_escaped)
{
    const char r[] = "HTTP/1.1 2\x1b]0;x\x07 OK\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_str_eq(o->error, "malformed status line \"HTTP/1.1 2\\x1b]0;x\\x07 OK\"");
}
END_TEST

START_TEST(framing_malformed_header_line)
{
    const char nocolon[] = "HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello";
    ck_error_starts(PARSE(nocolon, 0, 0), "malformed header line");
    const char space[] = "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello";
    ck_error_starts(PARSE(space, 0, 0), "malformed header line");
    const char first_ws[] = "HTTP/1.1 200 OK\r\n X: y\r\n\r\n";
    ck_error_starts(PARSE(first_ws, 0, 0), "whitespace before the first header field");
}
END_TEST

START_TEST(framing_folded_lines)
{
    const char ok[] = "HTTP/1.1 200 OK\r\nX-Long: a\r\n\tb\r\nContent-Length: 1\r\n\r\nz";
    ck_assert_int_eq(PARSE(ok, 0, 0)->res, HTTP_FRAMING_DONE);
    const char cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 0\r\n\r\nz";
    ck_error_starts(PARSE(cl, 0, 0), "folded Content-Length");
}
END_TEST

START_TEST(framing_content_length_values)
{
    const char list[] = "HTTP/1.1 200 OK\r\nContent-Length: 2 , 2\r\ncontent-length: 2\r\n\r\nab";
    ck_assert_int_eq(PARSE(list, 0, 0)->res, HTTP_FRAMING_DONE);

    const char conflict[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab";
    ck_error_starts(PARSE(conflict, 0, 0), "conflicting Content-Length");
    const char conflict_list[] = "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nab";
    ck_error_starts(PARSE(conflict_list, 0, 0), "conflicting Content-Length");

    static const char *const bad[] = { "abc", "-1", "+5", "", "5,", "0x10", "5 5", "1e3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char r[128];
        snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n", bad[i]);
        ck_error_starts(parse_all_ways(r, strlen(r), 0, 0), "invalid Content-Length");
    }
}
END_TEST

START_TEST(framing_content_length_overflow)
{
    const char huge[] = "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n";
    ck_error_starts(PARSE(huge, 0, 0), "Content-Length too large");
    const char huger[] = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n";
    ck_error_starts(PARSE(huger, 0, 0), "Content-Length too large");

    const char max[] = "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nab";
    const struct outcome *o = PARSE(max, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_body(o, "ab");
}
END_TEST

START_TEST(framing_bad_transfer_encoding)
{
    const char twice[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n";
    ck_error_starts(PARSE(twice, 0, 0), "chunked applied more than once");
    const char empty[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n";
    ck_error_starts(PARSE(empty, 0, 0), "empty Transfer-Encoding");
    const char junk[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked x\r\n\r\n";
    ck_error_starts(PARSE(junk, 0, 0), "invalid Transfer-Encoding");
}
END_TEST

START_TEST(framing_bad_chunk_size)
{
    static const char *const bad[] = { "zz", "", "-1", "0x5", "5 x", " 5", "5\r\r" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char r[128];
        snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n",
                 bad[i]);
        ck_error_starts(parse_all_ways(r, strlen(r), 0, 0), "bad chunk size");
    }
}
END_TEST

START_TEST(framing_chunk_size_overflow)
{
    const char big[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "10000000000000000\r\n";
    ck_error_starts(PARSE(big, 0, 0), "chunk size too large");

    const char max[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "ffffffffffffffff\r\nab";
    const struct outcome *o = PARSE(max, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_body(o, "ab");
}
END_TEST

START_TEST(framing_missing_crlf_after_chunk)
{
    const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n";
    ck_error_starts(PARSE(r, 0, 0), "missing CRLF after chunk data");
    const char cr[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\rc";
    ck_error_starts(PARSE(cr, 0, 0), "missing CRLF after chunk data");
}
END_TEST

START_TEST(framing_chunk_line_limit)
{
    /* The chunk-size line, extensions included, must fit in line[]. */
    static char r[2048];
    static struct http_framing f;
    const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t room = sizeof f.line;
    size_t n = strlen(head);

    memcpy(r, head, n);
    memcpy(r + n, "1;", 2);
    memset(r + n + 2, 'e', room - 3);
    memcpy(r + n + room - 1, "\r\nx\r\n0\r\n\r\n", 11); /* exactly room bytes before LF */
    const struct outcome *o = parse_all_ways(r, n + room + 9, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "x");

    memset(r + n + 2, 'e', room - 2);
    memcpy(r + n + room, "\r\nx\r\n0\r\n\r\n", 11); /* one byte more */
    ck_error_starts(parse_all_ways(r, n + room + 10, 0, 0), "chunk size line too long");
}
END_TEST

/* A response whose head is exactly size bytes long, body "b". */
static size_t make_head(char *r, size_t size)
{
    const char start[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX-Pad: ";
    size_t n = strlen(start);

    memcpy(r, start, n);
    memset(r + n, 'p', size - n - 4);
    memcpy(r + size - 4, "\r\n\r\nb", 5);
    return size + 1;
}

START_TEST(framing_head_limit)
{
    static char r[20000];
    static struct http_framing f;

    const struct outcome *o = parse_all_ways(r, make_head(r, sizeof f.head), 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "b");

    o = parse_all_ways(r, make_head(r, sizeof f.head + 1), 0, 0);
    ck_assert_str_eq(o->error, "response head too large");
}
END_TEST

START_TEST(framing_no_line_end_in_head)
{
    static char r[20000];
    memcpy(r, "HTTP/1.1 200 OK", 15);
    memset(r + 15, 'x', sizeof r - 15);
    ck_assert_str_eq(parse_all_ways(r, sizeof r, 0, 0)->error, "response head too large");
}
END_TEST

START_TEST(framing_nul_and_binary_in_head)
{
    const char r[] = "HTTP/1.1 200 \0\xff\r\nX-Bin: \0\x01\xfe\r\nContent-Length: 1\r\n\r\nz";
    ck_assert_int_eq(PARSE(r, 0, 0)->res, HTTP_FRAMING_DONE);
    const char name[] = "HTTP/1.1 200 OK\r\nX\0Y: 1\r\n\r\n";
    ck_error_starts(PARSE(name, 0, 0), "malformed header line");
}
END_TEST

static Suite *http_framing_errors_suite(void)
{
    Suite *s = suite_create("http_framing_errors");
    TCase *fr = tcase_create("errors");

    tcase_add_test(fr, framing_malformed_status_line);
    tcase_add_test(fr, framing_status_line_without_reason);
    tcase_add_test(fr, framing_not_http_runs_to_close);
    tcase_add_test(fr, framing_not_http_after_interim_is_an_error);
    tcase_add_test(fr, framing_error_shows_peer_bytes_escaped);
    tcase_add_test(fr, framing_malformed_header_line);
    tcase_add_test(fr, framing_folded_lines);
    tcase_add_test(fr, framing_content_length_values);
    tcase_add_test(fr, framing_content_length_overflow);
    tcase_add_test(fr, framing_bad_transfer_encoding);
    tcase_add_test(fr, framing_bad_chunk_size);
    tcase_add_test(fr, framing_chunk_size_overflow);
    tcase_add_test(fr, framing_missing_crlf_after_chunk);
    tcase_add_test(fr, framing_chunk_line_limit);
    tcase_add_test(fr, framing_head_limit);
    tcase_add_test(fr, framing_no_line_end_in_head);
    tcase_add_test(fr, framing_nul_and_binary_in_head);
    suite_add_tcase(s, fr);
    return s;
}

int main(void)
{
    return testutil_run(http_framing_errors_suite());
}
