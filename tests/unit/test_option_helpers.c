/* The options' value helpers (app_parse_seconds, app_parse_resolve in
 * src/app/options.c) and the exit map (src/app/exit_codes.c): pure
 * functions, apart from the parser's suite (test_options.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "exit_codes.h"
#include "options.h"
#include "secsock/transport.h"
#include "testutil.h"

/* ---- app_parse_seconds -------------------------------------------------- */

START_TEST(parse_seconds)
{
    ck_assert_int_eq(app_parse_seconds("0.5"), 500);
    ck_assert_int_eq(app_parse_seconds("1"), 1000);
    ck_assert_int_eq(app_parse_seconds("2.25"), 2250);
    ck_assert_int_eq(app_parse_seconds("30"), 30000);
    ck_assert_int_eq(app_parse_seconds("86400"), 86400000);
    ck_assert_int_eq(app_parse_seconds("0"), -1);
    ck_assert_int_eq(app_parse_seconds("0.0"), -1);
    ck_assert_int_eq(app_parse_seconds("-1"), -1);
    ck_assert_int_eq(app_parse_seconds("inf"), -1);
    ck_assert_int_eq(app_parse_seconds("infinity"), -1);
    ck_assert_int_eq(app_parse_seconds("nan"), -1);
    ck_assert_int_eq(app_parse_seconds("1e9"), -1);
    ck_assert_int_eq(app_parse_seconds("86401"), -1);
    ck_assert_int_eq(app_parse_seconds(""), -1);
    ck_assert_int_eq(app_parse_seconds("abc"), -1);
    ck_assert_int_eq(app_parse_seconds("5s"), -1);
    ck_assert_int_eq(app_parse_seconds(" "), -1);
    ck_assert_int_gt(app_parse_seconds("0.0001"), 0); /* tiny, but not "no timeout" */
}
END_TEST

/* ---- app_parse_resolve -------------------------------------------------- */

static int resolve(const char *arg, const char **h, const char **p, const char **a)
{
    static char buf[256];
    return app_parse_resolve(arg, buf, sizeof buf, h, p, a);
}

START_TEST(parse_resolve)
{
    const char *h = NULL, *p = NULL, *a = NULL;
    ck_assert_int_eq(resolve("lm3nitro.com:443:127.0.0.1", &h, &p, &a), 0);
    ck_assert_str_eq(h, "lm3nitro.com");
    ck_assert_str_eq(p, "443");
    ck_assert_str_eq(a, "127.0.0.1");

    ck_assert_int_eq(resolve("example.org:8443:[::1]", &h, &p, &a), 0);
    ck_assert_str_eq(h, "example.org");
    ck_assert_str_eq(p, "8443");
    ck_assert_str_eq(a, "::1"); /* brackets stripped */

    ck_assert_int_eq(resolve("example.org:80:::1", &h, &p, &a), 0);
    ck_assert_str_eq(a, "::1"); /* bare IPv6 */

    ck_assert_int_eq(resolve("example.org:80:[2001:db8::1]", &h, &p, &a), 0);
    ck_assert_str_eq(a, "2001:db8::1");

    const char *bad[] = {
        "",
        "example.org",
        "example.org:443",
        "example.org:443:",
        ":443:127.0.0.1",
        "example.org::127.0.0.1",
        "example.org:http:127.0.0.1",
        "example.org:0:127.0.0.1",
        "example.org:65536:127.0.0.1",
        "example.org:443:[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(resolve(bad[i], &h, &p, &a) == -1, "accepted '%s'", bad[i]);

    char small[8];
    ck_assert_int_eq(
        app_parse_resolve("example.org:443:127.0.0.1", small, sizeof small, &h, &p, &a),
        -1); /* does not fit */
}
END_TEST

/* ---- app_exit_code ------------------------------------------------------ */

START_TEST(exit_codes)
{
    ck_assert_int_eq(app_exit_code(SECSOCK_OK), APP_EXIT_OK);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_CONFIG), APP_EXIT_USAGE);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_RESOLVE), APP_EXIT_CONNECT);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_CONNECT), APP_EXIT_CONNECT);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_HANDSHAKE), APP_EXIT_TLS);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_VERIFY), APP_EXIT_TLS);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_TIMEOUT), APP_EXIT_TIMEOUT);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_IO), APP_EXIT_FAILURE);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_TRUNCATED), APP_EXIT_FAILURE);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_PROTOCOL), APP_EXIT_FAILURE);
    ck_assert_int_eq(app_exit_code(SECSOCK_ERR_NOMEM), APP_EXIT_FAILURE);
    /* The numbers are in --help and the README. */
    ck_assert_int_eq(APP_EXIT_OK, 0);
    ck_assert_int_eq(APP_EXIT_FAILURE, 1);
    ck_assert_int_eq(APP_EXIT_USAGE, 2);
    ck_assert_int_eq(APP_EXIT_CONNECT, 3);
    ck_assert_int_eq(APP_EXIT_TLS, 4);
    ck_assert_int_eq(APP_EXIT_TIMEOUT, 5);
}
END_TEST

static Suite *option_helpers_suite(void)
{
    Suite *s = suite_create("option_helpers");
    TCase *helpers = tcase_create("helpers");
    tcase_add_test(helpers, parse_seconds);
    tcase_add_test(helpers, parse_resolve);
    tcase_add_test(helpers, exit_codes);
    suite_add_tcase(s, helpers);
    return s;
}

int main(void)
{
    return testutil_run(option_helpers_suite());
}
