/* Where a client goes, as typed (src/app/target.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"
#include "testutil.h"

static struct target t;
static char err[256];

static int parse(const char *word, int allow_url)
{
    err[0] = '\0';
    return target_parse(word, allow_url, &t, err, sizeof err);
}

#define OK(word) ck_assert_msg(parse((word), 1) == 0, "%s: %s", (word), err)
/* The parsed port: none, or want. */
static void port_is(const char *want)
{
    if (want == NULL)
        ck_assert_ptr_null(t.port);
    else
        ck_assert_str_eq(t.port, want);
}
#define PORT_IS(want) port_is(want)

START_TEST(bare_hosts)
{
    OK("example.org");
    ck_assert_str_eq(t.host, "example.org");
    ck_assert_ptr_null(t.port);
    ck_assert_ptr_null(t.path);
    ck_assert_int_eq(t.scheme, TARGET_NONE);
    OK("::1"); /* a bare IPv6 literal: colons, but no port */
    ck_assert_str_eq(t.host, "::1");
    ck_assert_ptr_null(t.port);
    OK("fe80::1%lo");
    ck_assert_str_eq(t.host, "fe80::1%lo");
}
END_TEST

START_TEST(host_and_port_in_one_word)
{
    OK("127.0.0.1:8080");
    ck_assert_str_eq(t.host, "127.0.0.1");
    PORT_IS("8080");
    OK("[::1]");
    ck_assert_str_eq(t.host, "::1");
    PORT_IS(NULL);
    OK("[::1]:8443");
    ck_assert_str_eq(t.host, "::1");
    PORT_IS("8443");
    OK("lm3nitro.com:80");
    ck_assert_str_eq(t.host, "lm3nitro.com");
}
END_TEST

START_TEST(urls)
{
    OK("http://lm3nitro.com");
    ck_assert_int_eq(t.scheme, TARGET_HTTP);
    ck_assert_str_eq(t.host, "lm3nitro.com");
    PORT_IS(NULL);
    ck_assert_str_eq(t.path, "/");
    OK("HTTPS://lm3nitro.com:8443/a/b?q=1&r=2#frag");
    ck_assert_int_eq(t.scheme, TARGET_HTTPS);
    PORT_IS("8443");
    ck_assert_str_eq(t.path, "/a/b?q=1&r=2"); /* the fragment is not sent */
    OK("http://[::1]:8080/x");
    ck_assert_str_eq(t.host, "::1");
    PORT_IS("8080");
    ck_assert_str_eq(t.path, "/x");
    OK("http://h?q");
    ck_assert_str_eq(t.host, "h");
    ck_assert_str_eq(t.path, "/?q");
}
END_TEST

START_TEST(errors_name_the_word)
{
    const char *bad[] = { "ftp://h/", "http://", "http://u:p@h/", "http://h:0/", "http://h:65536/",
                          "h:x",      "[::1",    "[1.2.3.4]",     "[::1]x",      "http://h/a b",
                          ":80",      "a\nb",    "host name" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parse(bad[i], 1) == -1, "'%s' accepted", bad[i]);
        ck_assert_msg(err[0] != '\0', "'%s': no reason", bad[i]);
    }
    ck_assert_int_eq(parse("ftp://h/", 1), -1);
    ck_assert_ptr_nonnull(strstr(err, "http://"));
    /* udp-client: no URLs, but [v6] and HOST:PORT are fine. */
    ck_assert_int_eq(parse("http://h/", 0), -1);
    ck_assert_int_eq(parse("[::1]", 0), 0);
    ck_assert_str_eq(t.host, "::1");
    ck_assert_int_eq(parse("127.0.0.1:9", 0), 0);
    ck_assert_str_eq(t.port, "9");
    char longword[3000];
    memset(longword, 'a', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    ck_assert_int_eq(parse(longword, 1), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("target");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, bare_hosts);
    tcase_add_test(tc, host_and_port_in_one_word);
    tcase_add_test(tc, urls);
    tcase_add_test(tc, errors_name_the_word);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
