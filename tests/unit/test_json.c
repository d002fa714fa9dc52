/* --json's records (src/app/json.c): one line of valid JSON each, with
 * whatever a peer or a user put into a string escaped. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

/* What writer wrote, as a string the test frees. */
static char *written(void (*write_fn)(FILE *, const void *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    write_fn(f, arg);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

static void write_listening(FILE *f, const void *arg)
{
    json_write_listening(f, arg);
}
static void write_session(FILE *f, const void *arg)
{
    json_write_session(f, arg);
}

/* One line: only its last byte is a line end, and every byte is printable ASCII. */
static void assert_one_ascii_line(const char *s)
{
    size_t n = strlen(s);
    ck_assert_uint_gt(n, 1);
    ck_assert_int_eq(s[n - 1], '\n');
    for (size_t i = 0; i + 1 < n; i++)
        ck_assert_msg(s[i] >= 0x20 && s[i] <= 0x7e, "byte %zu is 0x%02x", i, (unsigned char)s[i]);
}

START_TEST(listening_line_is_exact)
{
    struct json_listening jl = {
        .program = "tcp-server", .address = "127.0.0.1", .port = 4433, .protocol = "tls"
    };
    char *s = written(write_listening, &jl);
    ck_assert_str_eq(s, "{\"event\":\"listening\",\"program\":\"tcp-server\","
                        "\"address\":\"127.0.0.1\",\"port\":4433,\"protocol\":\"tls\"}\n");
    free(s);
}
END_TEST

START_TEST(listening_line_has_the_self_signed_pins)
{
    struct json_listening jl = { .program = "tcp-server",
                                 .address = "::1",
                                 .port = 1,
                                 .protocol = "tls",
                                 .fingerprint = "sha256:ab",
                                 .spki_pin = "sha256//cd" };
    char *s = written(write_listening, &jl);
    ck_assert_ptr_nonnull(strstr(s, ",\"fingerprint\":\"sha256:ab\",\"spki_pin\":\"sha256//cd\"}"));
    free(s);
}
END_TEST

/* A failed connect has no connection: its peer is what was tried, the
 * session facts are null, and the error is there. */
START_TEST(session_without_a_connection)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_CLIENT, NULL);
    struct json_session js = { .program = "tcp-client",
                               .t = t,
                               .peer = "example.test:80",
                               .handshake_ms = -1,
                               .total_ms = 12.5,
                               .status = SECSOCK_ERR_CONNECT,
                               .error = "connection refused" };
    char *s = written(write_session, &js);
    assert_one_ascii_line(s);
    ck_assert_ptr_nonnull(strstr(s, "{\"program\":\"tcp-client\",\"peer\":\"example.test:80\","
                                    "\"transport\":\"tcp\",\"secure\":false,"));
    ck_assert_ptr_nonnull(strstr(s, "\"version\":null"));
    ck_assert_ptr_nonnull(strstr(s, "\"peer_certificate\":null,\"peer_chain\":[]"));
    ck_assert_ptr_nonnull(strstr(s, "\"handshake_ms\":null,\"total_ms\":12.500"));
    ck_assert_ptr_nonnull(strstr(s, "\"error\":\"connection refused\"}"));
    free(s);
    secsock_transport_free(t);
}
END_TEST

/* A success has no error, even if some text was left over. */
START_TEST(session_success_has_a_null_error)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_CLIENT, NULL);
    struct json_session js = { .program = "tcp-client",
                               .t = t,
                               .peer = "h:1",
                               .handshake_ms = 0.25,
                               .total_ms = 1,
                               .status = 0,
                               .error = "stale text" };
    char *s = written(write_session, &js);
    ck_assert_ptr_nonnull(strstr(s, "\"handshake_ms\":0.250"));
    ck_assert_ptr_nonnull(strstr(s, "\"error\":null}"));
    ck_assert_ptr_null(strstr(s, "stale text"));
    free(s);
    secsock_transport_free(t);
}
END_TEST

/* Quotes, backslashes, line ends, control and high bytes from a peer or
 * a user stay inside their string: the line is still one valid line. */
START_TEST(strings_are_escaped)
{
    secsock_transport *t = testutil_transport("tcp", SECSOCK_CLIENT, NULL);
    struct json_session js = { .program = "tcp-client",
                               .t = t,
                               .peer = "a\"b\\c\nd\x1b[31m\xc3\xa9",
                               .handshake_ms = -1,
                               .total_ms = 0,
                               .status = SECSOCK_ERR_IO,
                               .error = "x\r\"}{\"forged\":1" };
    char *s = written(write_session, &js);
    assert_one_ascii_line(s);
    ck_assert_ptr_nonnull(strstr(s, "\"peer\":\"a\\\"b\\\\c\\nd\\u001b[31m\\u00c3\\u00a9\""));
    ck_assert_ptr_nonnull(strstr(s, "\"error\":\"x\\u000d\\\"}{\\\"forged\\\":1\"}"));
    free(s);
    secsock_transport_free(t);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("records");
    tcase_add_test(tc, listening_line_is_exact);
    tcase_add_test(tc, listening_line_has_the_self_signed_pins);
    tcase_add_test(tc, session_without_a_connection);
    tcase_add_test(tc, session_success_has_a_null_error);
    tcase_add_test(tc, strings_are_escaped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
