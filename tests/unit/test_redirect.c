/* Following a redirect's Location (src/app/redirect.c). */
#include <check.h>
#include <stdlib.h>

#include "redirect.h"
#include "testutil.h"

static char out[256];

static const char *resolve(int secure, const char *host, const char *port, const char *path,
                           const char *location)
{
    ck_assert_int_eq(redirect_resolve(secure, host, port, path, location, out, sizeof out), 0);
    return out;
}

START_TEST(forms_servers_send)
{
    ck_assert_str_eq(resolve(0, "h", "80", "/a/b?q", "https://x.example/y"), "https://x.example/y");
    ck_assert_str_eq(resolve(1, "h", "443", "/a", "//x.example:8443/y"),
                     "https://x.example:8443/y");
    ck_assert_str_eq(resolve(0, "h", "8080", "/a/b?q", "/c"), "http://h:8080/c");
    ck_assert_str_eq(resolve(1, "::1", "8443", "/a/b?q", "c?d"), "https://[::1]:8443/a/c?d");
    ck_assert_str_eq(resolve(0, "h", NULL, "/a/b?q=/x", "?r"), "http://h/a/b?r");
    ck_assert_str_eq(resolve(0, "h", "80", "/", "next"), "http://h:80/next");
}
END_TEST

START_TEST(refused)
{
    ck_assert_int_eq(redirect_resolve(0, "h", "80", "/", "", out, sizeof out), -1);
    char small[16];
    ck_assert_int_eq(redirect_resolve(0, "h", "80", "/", "/a-long-path-here", small, sizeof small),
                     -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redirect");
    TCase *tc = tcase_create("resolve");
    tcase_add_test(tc, forms_servers_send);
    tcase_add_test(tc, refused);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
