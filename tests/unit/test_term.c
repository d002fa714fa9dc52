/* Escaping of a peer's bytes for log lines and terminals (src/app/term.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term.h"
#include "testutil.h"

/* term_escape_line over len bytes of s, into a static buffer. */
static const char *esc_line(const char *s, size_t len)
{
    static char out[4 * 256 + 1];
    ck_assert_uint_le(len, 256);
    size_t n = term_escape_line((const unsigned char *)s, len, out);
    ck_assert_uint_eq(n, strlen(out));
    return out;
}

/* What a term_stream writes for s cut into pieces at the given offsets
 * (ascending, each < len), finished. The result is malloc'd. */
static char *stream_split(const char *s, size_t len, const size_t *cuts, size_t ncuts)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    struct term_stream st;
    size_t from = 0;

    ck_assert_ptr_nonnull(f);
    term_stream_init(&st);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        ck_assert_int_eq(term_stream_write(&st, f, (const unsigned char *)s + from, to - from), 0);
        from = to;
    }
    ck_assert_int_eq(term_stream_finish(&st, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return out;
}

static char *stream(const char *s, size_t len)
{
    return stream_split(s, len, NULL, 0);
}

#define ck_stream_eq(in, expected)                                                                 \
    do {                                                                                           \
        char *got_ = stream(in, sizeof(in) - 1);                                                   \
        ck_assert_str_eq(got_, expected);                                                          \
        free(got_);                                                                                \
    } while (0)

START_TEST(line_keeps_printable_ascii)
{
    const char s[] = "GET / HTTP/1.1 ~!@#$%^&*()_+{}|:\"<>?";
    ck_assert_str_eq(esc_line(s, sizeof s - 1), s);
}
END_TEST

START_TEST(line_escapes_terminal_sequences)
{
    /* Retitling the window, clearing the screen, ringing the bell. */
    const char s[] = "\x1b]0;pwned\x07\x1b[2J\x1b[H";
    ck_assert_str_eq(esc_line(s, sizeof s - 1), "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[H");
}
END_TEST

START_TEST(line_names_newline_cr_tab)
{
    const char s[] = "a\nb\rc\td\r\n";
    ck_assert_str_eq(esc_line(s, sizeof s - 1), "a\\nb\\rc\\td\\r\\n");
}
END_TEST

START_TEST(line_doubles_backslash)
{
    /* Otherwise a peer could send the text "\x1b" and pass for an ESC. */
    const char s[] = "C:\\x1b\\";
    ck_assert_str_eq(esc_line(s, sizeof s - 1), "C:\\\\x1b\\\\");
}
END_TEST

START_TEST(line_escapes_nul_del_and_high_bytes)
{
    const char s[] = "\0\x7f\x80\x9b\xc3\xa9\xff";
    ck_assert_str_eq(esc_line(s, sizeof s - 1), "\\x00\\x7f\\x80\\x9b\\xc3\\xa9\\xff");
}
END_TEST

START_TEST(line_worst_case_fills_4n_plus_1)
{
    unsigned char in[64];
    char out[4 * sizeof in + 1];

    memset(in, 0xff, sizeof in);
    memset(out, 'Z', sizeof out);
    ck_assert_uint_eq(term_escape_line(in, sizeof in, out), 4 * sizeof in);
    ck_assert_int_eq(out[4 * sizeof in], '\0');
    ck_assert_int_eq(memcmp(out, "\\xff\\xff", 8), 0);
}
END_TEST

START_TEST(line_empty)
{
    char out[1] = { 'Z' };
    ck_assert_uint_eq(term_escape_line((const unsigned char *)"", 0, out), 0);
    ck_assert_int_eq(out[0], '\0');
}
END_TEST

START_TEST(stream_keeps_lines_and_tabs)
{
    ck_stream_eq("HTTP/1.1 200 OK\r\nA:\tb\r\n\r\nbody\n",
                 "HTTP/1.1 200 OK\r\nA:\tb\r\n\r\nbody\n");
}
END_TEST

START_TEST(stream_escapes_terminal_sequences)
{
    ck_stream_eq("x\x1b]0;pwned\x07\x1b[2Jy\n", "x\\x1b]0;pwned\\x07\\x1b[2Jy\n");
}
END_TEST

START_TEST(stream_escapes_lone_cr)
{
    /* "\r" alone would let the peer overwrite the line shown. */
    ck_stream_eq("fake\rreal", "fake\\rreal");
    ck_stream_eq("a\r\r\nb", "a\\r\r\nb");
    ck_stream_eq("\n\r", "\n\\r");
}
END_TEST

START_TEST(stream_keeps_backslash)
{
    ck_stream_eq("C:\\dir\\x1b", "C:\\dir\\x1b");
}
END_TEST

START_TEST(stream_escapes_high_bytes_and_del)
{
    ck_stream_eq("\x7f\x9b\xc3\xa9\xff", "\\x7f\\x9b\\xc3\\xa9\\xff");
}
END_TEST

START_TEST(stream_crlf_split_across_calls)
{
    const char s[] = "a\r\nb";
    size_t cut = 2; /* "a\r" | "\nb" */
    char *got = stream_split(s, sizeof s - 1, &cut, 1);
    ck_assert_str_eq(got, "a\r\nb");
    free(got);
}
END_TEST

START_TEST(stream_cr_then_other_byte_in_next_call)
{
    const char s[] = "a\rb";
    size_t cut = 2;
    char *got = stream_split(s, sizeof s - 1, &cut, 1);
    ck_assert_str_eq(got, "a\\rb");
    free(got);
}
END_TEST

START_TEST(stream_cr_survives_empty_write)
{
    const char s[] = "a\r\n";
    size_t cuts[] = { 2, 2, 2 }; /* two empty writes between "\r" and "\n" */
    char *got = stream_split(s, sizeof s - 1, cuts, 3);
    ck_assert_str_eq(got, "a\r\n");
    free(got);
}
END_TEST

START_TEST(stream_finish_flushes_trailing_cr)
{
    ck_stream_eq("end\r", "end\\r");
}
END_TEST

START_TEST(stream_every_two_way_split_matches_whole)
{
    const char s[] = "\r\na\rb\r\r\n\x1b[1m\\\t\xff\r\n\r";
    size_t len = sizeof s - 1;
    char *whole = stream(s, len);

    ck_assert_str_eq(whole, "\r\na\\rb\\r\r\n\\x1b[1m\\\t\\xff\r\n\\r");
    for (size_t cut = 0; cut <= len; cut++) {
        char *got = stream_split(s, len, &cut, 1);
        ck_assert_msg(strcmp(got, whole) == 0, "split at %zu: %s", cut, got);
        free(got);
    }
    free(whole);
}
END_TEST

START_TEST(stream_byte_at_a_time_matches_whole)
{
    const char s[] = "x\r\r\n\r\ny\rz\x01\r";
    size_t len = sizeof s - 1, cuts[sizeof s];
    for (size_t i = 0; i < len - 1; i++)
        cuts[i] = i + 1;
    char *whole = stream(s, len);
    char *bytewise = stream_split(s, len, cuts, len - 1);
    ck_assert_str_eq(bytewise, whole);
    free(whole);
    free(bytewise);
}
END_TEST

START_TEST(stream_large_input)
{
    /* More output than the internal buffer holds, in one call. */
    enum { N = 5000 };
    char *in = malloc(N);
    ck_assert_ptr_nonnull(in);
    memset(in, 0x1b, N);
    char *got = stream(in, N);
    ck_assert_uint_eq(strlen(got), 4 * N);
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(memcmp(got + 4 * i, "\\x1b", 4), 0);
    free(got);
    free(in);
}
END_TEST

START_TEST(stream_reports_write_failure)
{
    FILE *f = fopen("/dev/full", "w");
    struct term_stream st;

    ck_assert_ptr_nonnull(f);
    setvbuf(f, NULL, _IONBF, 0); /* fail in the write, not at fclose */
    term_stream_init(&st);
    ck_assert_int_eq(term_stream_write(&st, f, (const unsigned char *)"abc\r", 4), -1);
    ck_assert_int_eq(term_stream_finish(&st, f), -1);
    fclose(f);
}
END_TEST

static Suite *term_suite(void)
{
    Suite *s = suite_create("term");
    TCase *line = tcase_create("escape_line");
    TCase *strm = tcase_create("stream");

    tcase_add_test(line, line_keeps_printable_ascii);
    tcase_add_test(line, line_escapes_terminal_sequences);
    tcase_add_test(line, line_names_newline_cr_tab);
    tcase_add_test(line, line_doubles_backslash);
    tcase_add_test(line, line_escapes_nul_del_and_high_bytes);
    tcase_add_test(line, line_worst_case_fills_4n_plus_1);
    tcase_add_test(line, line_empty);
    suite_add_tcase(s, line);

    tcase_add_test(strm, stream_keeps_lines_and_tabs);
    tcase_add_test(strm, stream_escapes_terminal_sequences);
    tcase_add_test(strm, stream_escapes_lone_cr);
    tcase_add_test(strm, stream_keeps_backslash);
    tcase_add_test(strm, stream_escapes_high_bytes_and_del);
    tcase_add_test(strm, stream_crlf_split_across_calls);
    tcase_add_test(strm, stream_cr_then_other_byte_in_next_call);
    tcase_add_test(strm, stream_cr_survives_empty_write);
    tcase_add_test(strm, stream_finish_flushes_trailing_cr);
    tcase_add_test(strm, stream_every_two_way_split_matches_whole);
    tcase_add_test(strm, stream_byte_at_a_time_matches_whole);
    tcase_add_test(strm, stream_large_input);
    tcase_add_test(strm, stream_reports_write_failure);
    suite_add_tcase(s, strm);
    return s;
}

int main(void)
{
    return testutil_run(term_suite());
}
