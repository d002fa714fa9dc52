/* What the programs make of trace events, in words: -v's lines
 * (src/app/observe.c) and --trace's blocks (src/app/tracefile.c). Pure
 * formatting, apart from the live traces of test_trace.c. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "observe.h"
#include "secsock/trace.h"
#include "testutil.h"
#include "tracefile.h"

/* ---- the programs' words ---- */

START_TEST(describe_for_verbose)
{
    char out[256];
    unsigned char hello[517] = { 1 };
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_MESSAGE,
                                      .sent = 1,
                                      .version_name = "TLS 1.3",
                                      .content_type = 22,
                                      .content_name = "handshake",
                                      .message_type = 1,
                                      .message_name = "ClientHello",
                                      .data = hello,
                                      .len = sizeof hello };
    app_describe_message(&ev, out, sizeof out);
    ck_assert_str_eq(out, "TLS 1.3 (OUT), handshake, ClientHello (517 bytes)");
    ev = (struct secsock_trace_event){ .kind = SECSOCK_TRACE_MESSAGE,
                                       .version_name = "TLS 1.2",
                                       .content_type = 21,
                                       .content_name = "alert",
                                       .message_type = 48,
                                       .message_name = "unknown_ca",
                                       .alert_level = 2,
                                       .len = 2 };
    app_describe_message(&ev, out, sizeof out);
    ck_assert_str_eq(out, "TLS 1.2 (IN), alert, unknown_ca (fatal)");
    ev.content_type = 22, ev.content_name = "handshake", ev.message_type = 77,
    ev.message_name = "unknown", ev.len = 4;
    app_describe_message(&ev, out, sizeof out);
    ck_assert_str_eq(out, "TLS 1.2 (IN), handshake, unknown type 77 (4 bytes)");
    ev.content_type = 20, ev.content_name = "change_cipher_spec", ev.message_name = "", ev.len = 1;
    app_describe_message(&ev, out, sizeof out);
    ck_assert_str_eq(out, "TLS 1.2 (IN), change_cipher_spec (1 byte)");

    ev = (struct secsock_trace_event){ .kind = SECSOCK_TRACE_CONNECT,
                                       .peer = "[::1]:8443",
                                       .host = "lm3nitro.com" };
    app_describe_connect(&ev, out, sizeof out);
    ck_assert_str_eq(out, "Connected to lm3nitro.com (::1) port 8443");
    ev.peer = "127.0.0.1:80", ev.host = "a\x1b[2Jb";
    app_describe_connect(&ev, out, sizeof out);
    ck_assert_str_eq(out, "Connected to a\\x1b[2Jb (127.0.0.1) port 80");
}
END_TEST

START_TEST(trace_blocks)
{
    static const unsigned char req[] = "GET / HTTP/1.1\r\nX: \x1b]0;t\x07\r\n";
    char dump[1024];
    ck_assert_uint_le(tracefile_hexdump_size(sizeof req - 1), sizeof dump);
    size_t n = tracefile_hexdump(req, sizeof req - 1, dump);
    ck_assert_uint_eq(n, strlen(dump));
    ck_assert_str_eq(dump,
                     "0000: 47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1..\n"
                     "0010: 58 3a 20 1b 5d 30 3b 74 07 0d 0a                 X: .]0;t...\n");
    ck_assert_uint_eq(tracefile_hexdump(req, 0, dump), 0);
    char head[200];
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_DATA, .sent = 1, .len = 78 };
    tracefile_header(&ev, 0, head, sizeof head);
    ck_assert_str_eq(head, "=> Send data, 78 bytes (0x4e)");
    tracefile_header(&ev, 1, head, sizeof head);
    ck_assert_str_eq(head, "=> Send data (plaintext: as on the wire), 78 bytes (0x4e)");
    ev = (struct secsock_trace_event){ .kind = SECSOCK_TRACE_WIRE,
                                       .version = 0x0303,
                                       .version_name = "TLS 1.2",
                                       .content_type = 23,
                                       .content_name = "application_data",
                                       .len = 127 };
    tracefile_header(&ev, 0, head, sizeof head);
    ck_assert_str_eq(head, "<= Recv TLS record, application_data, TLS 1.2, 127 bytes (0x7f)");
    ev.version = 0xfefd, ev.version_name = "DTLS 1.2";
    tracefile_header(&ev, 0, head, sizeof head);
    ck_assert_str_eq(head, "<= Recv DTLS record, application_data, DTLS 1.2, 127 bytes (0x7f)");
    ev.content_type = -1, ev.len = 3;
    tracefile_header(&ev, 0, head, sizeof head);
    ck_assert_str_eq(head, "<= Recv bytes that are not a record, 3 bytes (0x3)");
}
END_TEST

static Suite *trace_words_suite(void)
{
    Suite *s = suite_create("trace_words");
    TCase *words = tcase_create("words");
    tcase_add_test(words, describe_for_verbose);
    tcase_add_test(words, trace_blocks);
    suite_add_tcase(s, words);
    return s;
}

int main(void)
{
    return testutil_run(trace_words_suite());
}
