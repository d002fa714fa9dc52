/* A client's message as a server logs it (src/app/received.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "received.h"
#include "testutil.h"

#define PEER "127.0.0.1:50412"

/* The lines logged for len bytes of s, without time stamps: malloc'd. */
static char *logged(const char *s, size_t len)
{
    struct app_log_entry e;
    app_log_setup(0, 0);
    app_log_entry_init(&e);
    received_add(&e, PEER, (const unsigned char *)s, len);
    ck_assert_int_eq(e.cut, 0);
    char *copy = strdup(e.buf);
    ck_assert_ptr_nonnull(copy);
    app_log_entry_free(&e);
    return copy;
}

#define ck_logged(in, expected)                                                                    \
    do {                                                                                           \
        char *got_ = logged(in, sizeof(in) - 1);                                                   \
        ck_assert_str_eq(got_, expected);                                                          \
        free(got_);                                                                                \
    } while (0)

/* Every byte of a log entry is printable ASCII or the line break, and
 * every line but the first is the message's ("  | ") or a note ("  + "):
 * nothing the peer sends can start a log line of its own. */
static void ck_safe(const char *text)
{
    for (const char *p = text; *p; p++)
        ck_assert_msg(*p == '\n' || (*p >= 0x20 && *p <= 0x7e), "byte 0x%02x in [%s]",
                      (unsigned char)*p, text);
    const char *line = strchr(text, '\n');
    ck_assert_ptr_nonnull(line);
    for (line++; *line; line = strchr(line, '\n') + 1)
        ck_assert_msg(strncmp(line, "  |", 3) == 0 || strncmp(line, "  + ", 4) == 0,
                      "a line of its own: [%.40s]", line);
}

START_TEST(one_line_stays_on_the_header_line)
{
    ck_logged("hello", "[*] Received from " PEER ": hello\n");
}
END_TEST

START_TEST(one_line_with_its_line_end_stays_too)
{
    ck_logged("hello\n", "[*] Received from " PEER ": hello\\n\n");
    ck_logged("hello\r\n", "[*] Received from " PEER ": hello\\r\\n\n");
}
END_TEST

START_TEST(empty_message_says_so)
{
    ck_logged("", "[*] Received from " PEER " (0 bytes)\n");
}
END_TEST

START_TEST(http_head_is_a_line_per_line)
{
    ck_logged("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/7.88.1\r\n\r\n",
              "[*] Received from " PEER " (52 bytes):\n"
              "  | GET / HTTP/1.1\n"
              "  | Host: a\n"
              "  | User-Agent: curl/7.88.1\n"
              "  |\n");
}
END_TEST

START_TEST(bare_lf_shows_before_the_break)
{
    ck_logged("a\nb\r\nc", "[*] Received from " PEER " (6 bytes):\n"
                           "  | a\\n\n"
                           "  | b\n"
                           "  | c\n");
    ck_logged("\n\n", "[*] Received from " PEER " (2 bytes):\n"
                      "  | \\n\n"
                      "  | \\n\n");
}
END_TEST

START_TEST(control_bytes_are_escaped)
{
    /* A retitle, a colour, a lone CR (would overwrite the line), a tab, a
     * backslash, DEL and a high byte (a NUL makes it binary: below). */
    const char in[] = "X-A: \x1b]0;pwned\x07\x1b[31mred\r\nX-B: a\rb\tc\\d\x7f\xff\r\n";
    char *got = logged(in, sizeof in - 1);
    ck_assert_str_eq(got, "[*] Received from " PEER " (41 bytes):\n"
                          "  | X-A: \\x1b]0;pwned\\x07\\x1b[31mred\n"
                          "  | X-B: a\\rb\\tc\\\\d\\x7f\\xff\n");
    ck_safe(got);
    free(got);
}
END_TEST

START_TEST(binary_is_one_line)
{
    /* A TLS record's start, with a 0x0a byte in it: not a line break. */
    ck_logged("\x16\x03\x01\x00\x0a\x01\x00\n",
              "[*] Received from " PEER ": \\x16\\x03\\x01\\x00\\n\\x01\\x00\\n\n");
}
END_TEST

START_TEST(long_binary_is_one_line_cut)
{
    char in[RECEIVED_LINE_MAX + 100];
    memset(in, '\n', sizeof in);
    in[0] = '\0';
    char *got = logged(in, sizeof in);
    ck_assert_ptr_nonnull(strstr(got, " (1124 bytes):\n  | \\x00\\n\\n"));
    ck_assert_ptr_nonnull(strstr(got, "\\n\n  + (line cut: 100 more bytes)\n"));
    ck_assert_ptr_null(strstr(got, "\n  | \\n")); /* no second line */
    ck_safe(got);
    free(got);
}
END_TEST

START_TEST(forged_log_lines_stay_inside_the_entry)
{
    const char in[] = "hi\r\n[!] 10.0.0.1:1: forged\r\n[*] Stopped: 0 served\n";
    char *got = logged(in, sizeof in - 1);
    ck_safe(got);
    ck_assert_ptr_nonnull(strstr(got, "\n  | [!] 10.0.0.1:1: forged\n"));
    free(got);
}
END_TEST

START_TEST(long_line_is_cut_with_a_note)
{
    char in[1500 + 4];
    memset(in, 'A', 1500);
    memcpy(in + 1500, "\r\nB", 3);
    char *got = logged(in, 1503);
    char want[2048];
    snprintf(want, sizeof want,
             "[*] Received from " PEER " (1503 bytes):\n  | %.*s\n"
             "  + (line cut: 476 more bytes)\n  | B\n",
             RECEIVED_LINE_MAX, in);
    ck_assert_str_eq(got, want);
    free(got);
}
END_TEST

START_TEST(long_single_line_is_cut_too)
{
    char in[RECEIVED_LINE_MAX + 10];
    memset(in, 'z', sizeof in);
    char *got = logged(in, sizeof in);
    ck_assert_ptr_nonnull(strstr(got, " (1034 bytes):\n  | zzz"));
    ck_assert_ptr_nonnull(strstr(got, "\n  + (line cut: 10 more bytes)\n"));
    ck_safe(got);
    free(got);
}
END_TEST

START_TEST(many_lines_are_cut_with_a_note)
{
    char in[300 * 2];
    for (int i = 0; i < 300; i++)
        memcpy(in + 2 * i, "x\n", 2);
    char *got = logged(in, sizeof in);
    size_t lines = 0;
    for (const char *p = got; (p = strstr(p, "\n  | x\\n")) != NULL; p++)
        lines++;
    ck_assert_uint_eq(lines, RECEIVED_LINES_MAX);
    ck_assert_ptr_nonnull(strstr(got, "\n  + (200 more bytes not shown)\n"));
    ck_safe(got);
    free(got);
}
END_TEST

START_TEST(big_message_is_cut_with_a_note)
{
    /* 300 lines of 100 bytes: the byte bound (not the line bound) ends it. */
    static char in[300 * 100];
    for (int i = 0; i < 300; i++) {
        memset(in + 100 * i, 'y', 98);
        memcpy(in + 100 * i + 98, "\r\n", 2);
    }
    char *got = logged(in, sizeof in);
    size_t shown = (RECEIVED_SHOWN_MAX + 99) / 100; /* lines started below the bound */
    char note[64];
    snprintf(note, sizeof note, "\n  + (%zu more bytes not shown)\n", sizeof in - shown * 100);
    ck_assert_ptr_nonnull(strstr(got, note));
    ck_safe(got);
    free(got);
}
END_TEST

START_TEST(stamps_start_every_line)
{
    struct app_log_entry e;
    app_log_setup(1, 0);
    app_log_entry_init(&e);
    received_add(&e, PEER, (const unsigned char *)"a\r\nb\r\n", 6);
    size_t n = strlen(e.stamp);
    ck_assert_uint_eq(n, strlen("2026-12-02T10:01:02.345Z "));
    for (const char *line = e.buf; *line; line = strchr(line, '\n') + 1)
        ck_assert(strncmp(line, e.stamp, n) == 0);
    ck_assert(strncmp(e.buf + n, "[*] Received from", 17) == 0);
    app_log_entry_free(&e);
    app_log_setup(0, 0);
}
END_TEST

static Suite *received_suite(void)
{
    Suite *s = suite_create("received");
    TCase *shape = tcase_create("shape");
    TCase *safety = tcase_create("safety");
    TCase *bounds = tcase_create("bounds");

    tcase_add_test(shape, one_line_stays_on_the_header_line);
    tcase_add_test(shape, one_line_with_its_line_end_stays_too);
    tcase_add_test(shape, empty_message_says_so);
    tcase_add_test(shape, http_head_is_a_line_per_line);
    tcase_add_test(shape, bare_lf_shows_before_the_break);
    tcase_add_test(shape, stamps_start_every_line);
    tcase_add_test(shape, binary_is_one_line);
    tcase_add_test(bounds, long_binary_is_one_line_cut);
    suite_add_tcase(s, shape);

    tcase_add_test(safety, control_bytes_are_escaped);
    tcase_add_test(safety, forged_log_lines_stay_inside_the_entry);
    suite_add_tcase(s, safety);

    tcase_add_test(bounds, long_line_is_cut_with_a_note);
    tcase_add_test(bounds, long_single_line_is_cut_too);
    tcase_add_test(bounds, many_lines_are_cut_with_a_note);
    tcase_add_test(bounds, big_message_is_cut_with_a_note);
    suite_add_tcase(s, bounds);
    return s;
}

int main(void)
{
    return testutil_run(received_suite());
}
