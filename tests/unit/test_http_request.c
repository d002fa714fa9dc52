/* HTTP request building (src/app/http_request.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"
#include "testutil.h"

/* ---- Request building -------------------------------------------------- */

static struct http_request_spec base_spec(void)
{
    return (struct http_request_spec){
        .method = "GET",
        .host = "example.com",
        .port = "80",
        .default_port = 80,
        .path = "/",
        .user_agent = "secsock/0.1",
    };
}

static char errbuf[256];

/* The request for spec; fails the test if it is refused. malloc'd. */
static char *build_ok(const struct http_request_spec *spec)
{
    size_t len = 0;
    char *req = http_request_build(spec, &len, errbuf, sizeof errbuf);
    ck_assert_msg(req != NULL, "refused: %s", errbuf);
    ck_assert_uint_eq(len, strlen(req));
    return req;
}

#define ck_request_eq(spec, expected)                                                              \
    do {                                                                                           \
        char *req_ = build_ok(spec);                                                               \
        ck_assert_str_eq(req_, expected);                                                          \
        free(req_);                                                                                \
    } while (0)

/* The reason spec is refused for; it must be one line. */
static const char *build_err(const struct http_request_spec *spec)
{
    size_t len = 12345;
    errbuf[0] = '\0';
    ck_assert_ptr_null(http_request_build(spec, &len, errbuf, sizeof errbuf));
    ck_assert_msg(errbuf[0] != '\0', "no reason given");
    ck_assert_msg(strpbrk(errbuf, "\r\n") == NULL, "reason is not one line: %s", errbuf);
    return errbuf;
}

static const char *with_headers_err(const char *const *headers, size_t n)
{
    struct http_request_spec spec = base_spec();
    spec.headers = headers;
    spec.nheaders = n;
    return build_err(&spec);
}

START_TEST(request_default)
{
    struct http_request_spec spec = base_spec();
    ck_request_eq(&spec, "GET / HTTP/1.1\r\n"
                         "Host: example.com\r\n"
                         "User-Agent: secsock/0.1\r\n"
                         "Accept: */*\r\n"
                         "Connection: close\r\n"
                         "\r\n");
}
END_TEST

START_TEST(request_with_body)
{
    struct http_request_spec spec = base_spec();
    spec.method = "POST";
    spec.has_body = 1;
    spec.body = "a=1\0b"; /* any bytes, a NUL too */
    spec.body_len = 5;
    spec.content_type = "application/x-www-form-urlencoded";
    size_t len = 0;
    char *req = http_request_build(&spec, &len, errbuf, sizeof errbuf);
    ck_assert_ptr_nonnull(req);
    static const char want[] = "POST / HTTP/1.1\r\n"
                               "Host: example.com\r\n"
                               "User-Agent: secsock/0.1\r\n"
                               "Accept: */*\r\n"
                               "Connection: close\r\n"
                               "Content-Type: application/x-www-form-urlencoded\r\n"
                               "Content-Length: 5\r\n"
                               "\r\n"
                               "a=1\0b";
    ck_assert_uint_eq(len, sizeof want - 1);
    ck_assert_int_eq(memcmp(req, want, len), 0);
    free(req);
    /* -H replaces the Content-Type; the length is never the user's. */
    spec.body_len = 3;
    const char *ct[] = { "Content-Type: text/plain" };
    spec.headers = ct;
    spec.nheaders = 1;
    req = build_ok(&spec);
    ck_assert_ptr_nonnull(strstr(req, "Content-Type: text/plain\r\n"));
    ck_assert_ptr_null(strstr(req, "urlencoded"));
    free(req);
    const char *cl[] = { "Content-Length: 1" };
    spec.headers = cl;
    ck_assert_ptr_nonnull(strstr(build_err(&spec), "Content-Length"));
    const char *te[] = { "transfer-encoding: chunked" };
    spec.headers = te;
    build_err(&spec);
}
END_TEST

START_TEST(request_method_and_path)
{
    struct http_request_spec spec = base_spec();
    spec.method = "HEAD";
    spec.path = "/a/b?q=1&r=%20";
    char *req = build_ok(&spec);
    ck_assert_msg(strncmp(req, "HEAD /a/b?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\n", 49) == 0,
                  "%s", req);
    free(req);
}
END_TEST

START_TEST(request_null_fields_mean_defaults)
{
    struct http_request_spec spec = base_spec();
    spec.method = NULL;
    spec.path = NULL;
    spec.port = NULL;
    spec.user_agent = NULL;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
                         "Connection: close\r\n\r\n");
}
END_TEST

START_TEST(request_port_in_host_only_when_not_default)
{
    struct http_request_spec spec = base_spec();
    spec.port = "8080";
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: secsock/0.1\r\n"
                         "Accept: */*\r\nConnection: close\r\n\r\n");

    spec.port = "443";
    spec.default_port = 443;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: secsock/0.1\r\n"
                         "Accept: */*\r\nConnection: close\r\n\r\n");

    spec.port = "80"; /* plain HTTP's port on a TLS connection */
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com:80\r\nUser-Agent: secsock/0.1\r\n"
                         "Accept: */*\r\nConnection: close\r\n\r\n");
}
END_TEST

START_TEST(request_ipv6_host_bracketed)
{
    struct http_request_spec spec = base_spec();
    spec.host = "::1";
    spec.port = "8443";
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: [::1]:8443\r\nUser-Agent: secsock/0.1\r\n"
                         "Accept: */*\r\nConnection: close\r\n\r\n");

    spec.host = "2001:db8::1";
    spec.port = "80";
    char *req = build_ok(&spec);
    ck_assert_ptr_nonnull(strstr(req, "\r\nHost: [2001:db8::1]\r\n"));
    free(req);
}
END_TEST

START_TEST(request_ipv6_zone_left_out_of_host)
{
    struct http_request_spec spec = base_spec();
    spec.host = "fe80::1%eth0";
    char *req = build_ok(&spec);
    ck_assert_ptr_nonnull(strstr(req, "\r\nHost: [fe80::1]\r\n"));
    free(req);
}
END_TEST

START_TEST(request_bracketed_host_kept)
{
    struct http_request_spec spec = base_spec();
    spec.host = "[::1]";
    char *req = build_ok(&spec);
    ck_assert_ptr_nonnull(strstr(req, "\r\nHost: [::1]\r\n"));
    free(req);
}
END_TEST

START_TEST(request_header_replaces_default_in_place)
{
    const char *h[] = { "accept: text/html", "USER-AGENT: probe/2", "Host: other.example:1" };
    struct http_request_spec spec = base_spec();
    spec.headers = h;
    spec.nheaders = 3;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\n"
                         "Host: other.example:1\r\n"
                         "USER-AGENT: probe/2\r\n"
                         "accept: text/html\r\n"
                         "Connection: close\r\n"
                         "\r\n");
}
END_TEST

START_TEST(request_empty_header_removes_default)
{
    const char *h[] = { "Accept:", "connection: \t ", "User-Agent:" };
    struct http_request_spec spec = base_spec();
    spec.headers = h;
    spec.nheaders = 3;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
}
END_TEST

START_TEST(request_other_headers_appended_in_order)
{
    const char *h[] = { "X-B:  2 ", "Connection: keep-alive", "X-A:1", "X-Tab: a\tb", "X-Gone:" };
    struct http_request_spec spec = base_spec();
    spec.headers = h;
    spec.nheaders = 5;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\n"
                         "Host: example.com\r\n"
                         "User-Agent: secsock/0.1\r\n"
                         "Accept: */*\r\n"
                         "Connection: keep-alive\r\n"
                         "X-B: 2\r\n"
                         "X-A: 1\r\n"
                         "X-Tab: a\tb\r\n"
                         "\r\n");
}
END_TEST

START_TEST(request_repeated_default_header)
{
    /* The first takes the default's place, the next is sent as asked. */
    const char *h[] = { "Accept: a/b", "X: 1", "Accept: c/d" };
    struct http_request_spec spec = base_spec();
    spec.headers = h;
    spec.nheaders = 3;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: secsock/0.1\r\n"
                         "Accept: a/b\r\nConnection: close\r\nX: 1\r\nAccept: c/d\r\n\r\n");
}
END_TEST

START_TEST(request_rejects_header_name_not_token)
{
    const char *h[] = { "X-Ok: 1", "Foo bar: x" };
    ck_assert_str_eq(with_headers_err(h, 2), "invalid header \"Foo bar: x\": name is not a token");
    const char *h2[] = { "Foo : x" };
    ck_assert_str_eq(with_headers_err(h2, 1), "invalid header \"Foo : x\": name is not a token");
    const char *h3[] = { "F\xc3\xb6o: x" };
    ck_assert_str_eq(with_headers_err(h3, 1),
                     "invalid header \"F\\xc3\\xb6o: x\": name is not a token");
}
END_TEST

START_TEST(request_rejects_header_crlf)
{
    const char *h[] = { "X-Evil: a\r\nInjected: yes" };
    ck_assert_str_eq(with_headers_err(h, 1),
                     "invalid header \"X-Evil: a\\r\\nInjected: yes\": value contains CR or LF");
}
END_TEST

START_TEST(request_rejects_other_header_forms)
{
    const char *nocolon[] = { "X-Foo" };
    ck_assert_str_eq(with_headers_err(nocolon, 1), "invalid header \"X-Foo\": missing ':'");
    const char *noname[] = { ": x" };
    ck_assert_str_eq(with_headers_err(noname, 1), "invalid header \": x\": empty name");
    const char *ctl[] = { "X: a\x1b[2Jb" };
    ck_assert_str_eq(with_headers_err(ctl, 1),
                     "invalid header \"X: a\\x1b[2Jb\": value contains a control character");
    const char *nul[] = { NULL };
    ck_assert_str_eq(with_headers_err(nul, 1), "invalid header: none given");
}
END_TEST

START_TEST(request_rejects_bad_request_line)
{
    struct http_request_spec spec = base_spec();
    spec.method = "GET / HTTP/1.0\r\nX:";
    ck_assert_str_eq(build_err(&spec), "invalid method \"GET / HTTP/1.0\\r\\nX:\": not a token");
    spec.method = "";
    ck_assert_str_eq(build_err(&spec), "invalid method \"\": not a token");

    spec = base_spec();
    spec.path = "/x HTTP/1.1\r\nHost: evil\r\n\r\n";
    ck_assert_str_eq(build_err(&spec),
                     "invalid path \"/x HTTP/1.1\\r\\nHost: evil\\r\\n\\r\\n\": contains CR or LF");
    spec.path = "/a b";
    ck_assert_str_eq(build_err(&spec), "invalid path \"/a b\": contains a space");
    spec.path = "";
    ck_assert_str_eq(build_err(&spec), "invalid path \"\": empty");
}
END_TEST

START_TEST(request_rejects_bad_host_port_agent)
{
    struct http_request_spec spec = base_spec();
    spec.host = "example.com\nX: y";
    ck_assert_str_eq(build_err(&spec), "invalid host \"example.com\\nX: y\": contains CR or LF");
    spec.host = "";
    ck_assert_str_eq(build_err(&spec), "invalid host \"\": empty");
    spec.host = NULL;
    ck_assert_str_eq(build_err(&spec), "invalid host \"\": empty");

    spec = base_spec();
    const char *ports[] = { "http", "0", "65536", "-1", "80x" };
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        spec.port = ports[i];
        ck_assert_ptr_nonnull(strstr(build_err(&spec), "invalid port"));
    }

    spec = base_spec();
    spec.user_agent = "ua\r\nX-Evil: 1";
    ck_assert_str_eq(build_err(&spec),
                     "invalid user agent \"ua\\r\\nX-Evil: 1\": contains CR or LF");
}
END_TEST

START_TEST(request_long_culprit_is_cut)
{
    char h[300];
    memset(h, 'a', sizeof h - 1);
    h[sizeof h - 1] = '\0';
    h[10] = ' ';
    h[200] = ':';
    const char *hs[] = { h };
    const char *err = with_headers_err(hs, 1);
    ck_assert_ptr_nonnull(strstr(err, "...\": name is not a token"));
    ck_assert_uint_lt(strlen(err), 120);
}
END_TEST

START_TEST(request_small_error_buffer)
{
    struct http_request_spec spec = base_spec();
    char small[8];
    spec.path = "/a\r\n";
    ck_assert_ptr_null(http_request_build(&spec, NULL, small, sizeof small));
    ck_assert_str_eq(small, "invalid");
    ck_assert_ptr_null(http_request_build(&spec, NULL, NULL, 0));
}
END_TEST

START_TEST(header_check)
{
    char err[128];
    ck_assert_int_eq(http_header_check("X-Foo: bar", err, sizeof err), 0);
    ck_assert_int_eq(http_header_check("X-Foo:", err, sizeof err), 0);
    ck_assert_int_eq(http_header_check("X-Foo:\tbar baz \xc3\xa9", err, sizeof err), 0);
    ck_assert_int_eq(http_header_check("!#$%&'*+-.^_`|~09AZaz: v", err, sizeof err), 0);
    ck_assert_int_eq(http_header_check("X(Foo): bar", err, sizeof err), -1);
    ck_assert_str_eq(err, "invalid header \"X(Foo): bar\": name is not a token");
    ck_assert_int_eq(http_header_check(" X: bar", err, sizeof err), -1);
    ck_assert_int_eq(http_header_check("X: a\rb", err, sizeof err), -1);
    ck_assert_str_eq(err, "invalid header \"X: a\\rb\": value contains CR or LF");
    ck_assert_int_eq(http_header_check("X: a\x7f", err, sizeof err), -1);
}
END_TEST

static Suite *http_request_suite(void)
{
    Suite *s = suite_create("http_request");
    TCase *req = tcase_create("request");

    tcase_add_test(req, request_default);
    tcase_add_test(req, request_method_and_path);
    tcase_add_test(req, request_with_body);
    tcase_add_test(req, request_null_fields_mean_defaults);
    tcase_add_test(req, request_port_in_host_only_when_not_default);
    tcase_add_test(req, request_ipv6_host_bracketed);
    tcase_add_test(req, request_ipv6_zone_left_out_of_host);
    tcase_add_test(req, request_bracketed_host_kept);
    tcase_add_test(req, request_header_replaces_default_in_place);
    tcase_add_test(req, request_empty_header_removes_default);
    tcase_add_test(req, request_other_headers_appended_in_order);
    tcase_add_test(req, request_repeated_default_header);
    tcase_add_test(req, request_rejects_header_name_not_token);
    tcase_add_test(req, request_rejects_header_crlf);
    tcase_add_test(req, request_rejects_other_header_forms);
    tcase_add_test(req, request_rejects_bad_request_line);
    tcase_add_test(req, request_rejects_bad_host_port_agent);
    tcase_add_test(req, request_long_culprit_is_cut);
    tcase_add_test(req, request_small_error_buffer);
    tcase_add_test(req, header_check);
    suite_add_tcase(s, req);
    return s;
}

int main(void)
{
    return testutil_run(http_request_suite());
}
