/* The servers' log: time stamps, --quiet, whole entries (src/app/log.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "report.h"
#include "testutil.h"

/* What f (an open_memstream) holds once closed; the result is malloc'd. */
struct mem {
    char *text;
    size_t len;
    FILE *f;
};

static void mem_open(struct mem *m)
{
    m->text = NULL;
    m->len = 0;
    m->f = open_memstream(&m->text, &m->len);
    ck_assert_ptr_nonnull(m->f);
}

static char *mem_close(struct mem *m)
{
    ck_assert_int_eq(fclose(m->f), 0);
    return m->text;
}

/* Checks "YYYY-MM-DDTHH:MM:SS.mmmZ " at s and that it is within a minute
 * of now (UTC); returns the stamp's length. */
static size_t ck_stamp(const char *s)
{
    struct tm tm = { 0 };
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    ck_assert_msg(rest != NULL, "no ISO 8601 time at the start of [%s]", s);
    ck_assert_msg(rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' &&
                      rest[2] <= '9' && rest[3] >= '0' && rest[3] <= '9' && rest[4] == 'Z' &&
                      rest[5] == ' ',
                  "no .mmmZ after the seconds in [%s]", s);
    time_t when = timegm(&tm);
    time_t now = time(NULL);
    ck_assert_msg(when <= now + 1 && when >= now - 60, "stamp %ld, now %ld", (long)when, (long)now);
    return (size_t)(rest + 6 - s);
}

START_TEST(stamp_empty_unless_asked)
{
    char buf[APP_LOG_STAMP_MAX] = "junk";
    app_log_setup(0, 0);
    ck_assert_uint_eq(app_log_stamp(buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(stamp_is_utc_iso8601_with_milliseconds)
{
    char buf[APP_LOG_STAMP_MAX];
    app_log_setup(1, 0);
    size_t n = app_log_stamp(buf, sizeof buf);
    ck_assert_uint_eq(n, strlen("2026-12-02T10:01:02.345Z "));
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_uint_eq(ck_stamp(buf), n);
}
END_TEST

START_TEST(stamp_truncates_to_the_buffer)
{
    char buf[8];
    app_log_setup(1, 0);
    ck_assert_uint_eq(app_log_stamp(buf, sizeof buf), 7);
    ck_assert_uint_eq(strlen(buf), 7);
    ck_assert_uint_eq(app_log_stamp(buf, 0), 0);
}
END_TEST

START_TEST(app_log_lines_carry_the_stamp)
{
    struct mem m;
    app_log_setup(1, 0);
    mem_open(&m);
    app_log(m.f, "[*] Listening on %s", "127.0.0.1:9999");
    app_log_client(m.f, "[*] Accepted connection from %s", "127.0.0.1:5");
    char *text = mem_close(&m);
    size_t n = ck_stamp(text);
    ck_assert(strncmp(text + n, "[*] Listening on 127.0.0.1:9999\n", 32) == 0);
    const char *second = strchr(text, '\n') + 1;
    n = ck_stamp(second);
    ck_assert_str_eq(second + n, "[*] Accepted connection from 127.0.0.1:5\n");
    free(text);
}
END_TEST

START_TEST(app_log_without_stamp_is_the_text)
{
    struct mem m;
    app_log_setup(0, 0);
    mem_open(&m);
    app_log(m.f, "[!] %s", "oops");
    char *text = mem_close(&m);
    ck_assert_str_eq(text, "[!] oops\n");
    free(text);
}
END_TEST

START_TEST(quiet_leaves_out_client_lines_only)
{
    struct mem m;
    app_log_setup(0, 1);
    ck_assert_int_eq(app_log_quiet(), 1);
    mem_open(&m);
    app_log(m.f, "[*] Listening on x");
    app_log_client(m.f, "[*] Accepted connection from y");
    app_log(m.f, "[!] y: broken");
    char *text = mem_close(&m);
    ck_assert_str_eq(text, "[*] Listening on x\n[!] y: broken\n");
    free(text);
    app_log_setup(0, 0);
    ck_assert_int_eq(app_log_quiet(), 0);
}
END_TEST

START_TEST(entry_is_written_whole)
{
    struct mem m;
    struct app_log_entry e;
    app_log_setup(0, 0);
    app_log_entry_init(&e);
    app_log_entry_add(&e, "[*] first %d", 1);
    app_log_entry_add(&e, "  | %s", "second");
    ck_assert_str_eq(e.buf, "[*] first 1\n  | second\n");
    mem_open(&m);
    app_log_entry_write(&e, m.f);
    char *text = mem_close(&m);
    ck_assert_str_eq(text, "[*] first 1\n  | second\n");
    free(text);
}
END_TEST

START_TEST(entry_lines_share_one_stamp)
{
    struct app_log_entry e;
    app_log_setup(1, 0);
    app_log_entry_init(&e);
    app_log_entry_add(&e, "[*] head");
    app_log_entry_add(&e, "  | line");
    size_t n = ck_stamp(e.buf);
    ck_assert(strncmp(e.buf + n, "[*] head\n", 9) == 0);
    const char *second = e.buf + n + 9;
    ck_assert(strncmp(second, e.buf, n) == 0); /* the same time on both */
    ck_assert_str_eq(second + n, "  | line\n");
    app_log_entry_free(&e);
}
END_TEST

START_TEST(entry_grows_past_its_small_buffer)
{
    struct app_log_entry e;
    char line[101];
    app_log_setup(0, 0);
    memset(line, 'x', 100);
    line[100] = '\0';
    app_log_entry_init(&e);
    for (int i = 0; i < 1000; i++)
        app_log_entry_add(&e, "%04d%s", i, line);
    ck_assert_int_eq(e.cut, 0);
    ck_assert_uint_eq(e.len, 1000 * 105);
    ck_assert_uint_eq(strlen(e.buf), e.len);
    ck_assert(strncmp(e.buf + 999 * 105, "0999xx", 6) == 0);
    app_log_entry_free(&e);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *stamp = tcase_create("stamp");
    TCase *line = tcase_create("line");
    TCase *entry = tcase_create("entry");

    tcase_add_test(stamp, stamp_empty_unless_asked);
    tcase_add_test(stamp, stamp_is_utc_iso8601_with_milliseconds);
    tcase_add_test(stamp, stamp_truncates_to_the_buffer);
    suite_add_tcase(s, stamp);

    tcase_add_test(line, app_log_lines_carry_the_stamp);
    tcase_add_test(line, app_log_without_stamp_is_the_text);
    tcase_add_test(line, quiet_leaves_out_client_lines_only);
    suite_add_tcase(s, line);

    tcase_add_test(entry, entry_is_written_whole);
    tcase_add_test(entry, entry_lines_share_one_stamp);
    tcase_add_test(entry, entry_grows_past_its_small_buffer);
    suite_add_tcase(s, entry);
    return s;
}

int main(void)
{
    return testutil_run(log_suite());
}
