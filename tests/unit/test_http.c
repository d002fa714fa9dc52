/* HTTP request building and response framing (src/app/http.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_framing.h"
#include "http_request.h"
#include "http_show.h"
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

#define ck_request_eq(spec, expected)                                                          \
    do {                                                                                       \
        char *req_ = build_ok(spec);                                                           \
        ck_assert_str_eq(req_, expected);                                                      \
        free(req_);                                                                            \
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
    const char *h[] = {"accept: text/html", "USER-AGENT: probe/2", "Host: other.example:1"};
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
    const char *h[] = {"Accept:", "connection: \t ", "User-Agent:"};
    struct http_request_spec spec = base_spec();
    spec.headers = h;
    spec.nheaders = 3;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
}
END_TEST

START_TEST(request_other_headers_appended_in_order)
{
    const char *h[] = {"X-B:  2 ", "Connection: keep-alive", "X-A:1", "X-Tab: a\tb",
                       "X-Gone:"};
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
    const char *h[] = {"Accept: a/b", "X: 1", "Accept: c/d"};
    struct http_request_spec spec = base_spec();
    spec.headers = h;
    spec.nheaders = 3;
    ck_request_eq(&spec, "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: secsock/0.1\r\n"
                         "Accept: a/b\r\nConnection: close\r\nX: 1\r\nAccept: c/d\r\n\r\n");
}
END_TEST

START_TEST(request_rejects_header_name_not_token)
{
    const char *h[] = {"X-Ok: 1", "Foo bar: x"};
    ck_assert_str_eq(with_headers_err(h, 2), "invalid header \"Foo bar: x\": name is not a token");
    const char *h2[] = {"Foo : x"};
    ck_assert_str_eq(with_headers_err(h2, 1), "invalid header \"Foo : x\": name is not a token");
    const char *h3[] = {"F\xc3\xb6o: x"};
    ck_assert_str_eq(with_headers_err(h3, 1),
                     "invalid header \"F\\xc3\\xb6o: x\": name is not a token");
}
END_TEST

START_TEST(request_rejects_header_crlf)
{
    const char *h[] = {"X-Evil: a\r\nInjected: yes"};
    ck_assert_str_eq(with_headers_err(h, 1),
                     "invalid header \"X-Evil: a\\r\\nInjected: yes\": value contains CR or LF");
}
END_TEST

START_TEST(request_rejects_other_header_forms)
{
    const char *nocolon[] = {"X-Foo"};
    ck_assert_str_eq(with_headers_err(nocolon, 1), "invalid header \"X-Foo\": missing ':'");
    const char *noname[] = {": x"};
    ck_assert_str_eq(with_headers_err(noname, 1), "invalid header \": x\": empty name");
    const char *ctl[] = {"X: a\x1b[2Jb"};
    ck_assert_str_eq(with_headers_err(ctl, 1),
                     "invalid header \"X: a\\x1b[2Jb\": value contains a control character");
    const char *nul[] = {NULL};
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
    const char *ports[] = {"http", "0", "65536", "-1", "80x"};
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
    const char *hs[] = {h};
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

/* ---- Response framing -------------------------------------------------- */

struct outcome {
    enum http_framing_result res;
    size_t consumed; /* total over all feeds */
    int status;
    int until_close;
    char error[128];
    size_t body_len;
    unsigned char body[20000];
};

static void collect(void *arg, const unsigned char *data, size_t len)
{
    struct outcome *o = arg;
    ck_assert_uint_le(len, sizeof o->body - o->body_len);
    memcpy(o->body + o->body_len, data, len);
    o->body_len += len;
}

/* Feeds data cut at cuts (ascending), stopping at DONE or ERROR; then, if
 * still MORE and eof is set, reports the close. */
static void run_cuts(const char *data, size_t len, int head, int eof, const size_t *cuts,
                     size_t ncuts, struct outcome *o)
{
    static struct http_framing f;
    size_t from = 0;

    memset(o, 0, sizeof *o);
    http_framing_init(&f, head);
    f.on_body = collect;
    f.on_body_arg = o;
    o->res = HTTP_FRAMING_MORE;
    for (size_t i = 0; i <= ncuts && o->res == HTTP_FRAMING_MORE; i++) {
        size_t to = i < ncuts ? cuts[i] : len, used = 99999;
        o->res = http_framing_feed(&f, (const unsigned char *)data + from, to - from, &used);
        ck_assert_uint_le(used, to - from);
        if (o->res == HTTP_FRAMING_MORE)
            ck_assert_uint_eq(used, to - from);
        o->consumed += used;
        from = to;
    }
    if (o->res == HTTP_FRAMING_MORE && eof)
        o->res = http_framing_eof(&f);
    o->status = f.status;
    o->until_close = f.until_close;
    memcpy(o->error, f.error, sizeof o->error);
    ck_assert_msg(o->res != HTTP_FRAMING_ERROR || o->error[0] != '\0', "ERROR without reason");
}

static void same_outcome(const struct outcome *a, const struct outcome *b, const char *how,
                         size_t at)
{
    ck_assert_msg(a->res == b->res, "%s %zu: result %d, not %d", how, at, b->res, a->res);
    ck_assert_msg(strcmp(a->error, b->error) == 0, "%s %zu: error \"%s\", not \"%s\"", how, at,
                  b->error, a->error);
    if (a->res != HTTP_FRAMING_ERROR)
        ck_assert_msg(a->consumed == b->consumed, "%s %zu: consumed %zu, not %zu", how, at,
                      b->consumed, a->consumed);
    ck_assert_msg(a->status == b->status && a->until_close == b->until_close, "%s %zu", how, at);
    ck_assert_msg(a->body_len == b->body_len && memcmp(a->body, b->body, a->body_len) == 0,
                  "%s %zu: other body", how, at);
}

static struct outcome whole, pieces;

/* Parses data fed at once, then byte by byte and split in two at every
 * point, which must all agree; returns the outcome. */
static const struct outcome *parse_all_ways(const char *data, size_t len, int head, int eof)
{
    size_t *cuts = calloc(len + 1, sizeof *cuts);

    ck_assert_ptr_nonnull(cuts);
    run_cuts(data, len, head, eof, NULL, 0, &whole);
    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    run_cuts(data, len, head, eof, cuts, len > 0 ? len - 1 : 0, &pieces);
    same_outcome(&whole, &pieces, "byte at a time", 0);
    for (size_t cut = 0; cut <= len && len <= 4096; cut++) {
        run_cuts(data, len, head, eof, &cut, 1, &pieces);
        same_outcome(&whole, &pieces, "split at", cut);
    }
    free(cuts);
    return &whole;
}

#define PARSE(lit, head, eof) parse_all_ways(lit, sizeof(lit) - 1, head, eof)

static void ck_body(const struct outcome *o, const char *expected)
{
    ck_assert_uint_eq(o->body_len, strlen(expected));
    ck_assert_int_eq(memcmp(o->body, expected, o->body_len), 0);
}

static void ck_error_starts(const struct outcome *o, const char *prefix)
{
    ck_assert_int_eq(o->res, HTTP_FRAMING_ERROR);
    ck_assert_msg(strncmp(o->error, prefix, strlen(prefix)) == 0, "error: %s", o->error);
}

START_TEST(framing_content_length)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_assert_int_eq(o->status, 200);
    ck_assert_int_eq(o->until_close, 0);
    ck_body(o, "hello");
}
END_TEST

START_TEST(framing_keep_alive_stops_before_next_response)
{
    /* A keep-alive server sends no close: DONE must come from the framing,
     * and consumed must point at the next response. */
    const char first[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof first - 1);
    ck_body(o, "abc");

    o = parse_all_ways(r + o->consumed, sizeof r - sizeof first, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->status, 404);
    ck_assert_uint_eq(o->consumed, sizeof r - sizeof first);
}
END_TEST

START_TEST(framing_chunked)
{
    const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;name=\"v;al\"\r\nhello\r\n"
                     "6 ; ext\r\n world\r\n"
                     "000A\r\n0123456789\r\n"
                     "0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_body(o, "hello world0123456789");
}
END_TEST

START_TEST(framing_chunked_keep_alive_trailing_bytes)
{
    const char first[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n0\r\n\r\n";
    const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\n\r\n"
                     "HTTP/1.1 200 OK\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof first - 1);
    ck_body(o, "abc");
}
END_TEST

START_TEST(framing_chunked_wins_over_content_length)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                     "Transfer-Encoding: gzip\r\ntransfer-encoding: , Chunked\r\n\r\n"
                     "2\r\nhi\r\n0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_body(o, "hi");
}
END_TEST

START_TEST(framing_final_coding_not_chunked_runs_to_close)
{
    const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
                     "Content-Length: 2\r\n\r\nxyz";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_assert_int_eq(o->until_close, 1);
    o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "xyz");
}
END_TEST

START_TEST(framing_http10_chunked_runs_to_close)
{
    /* HTTP/1.0 has no chunked: the framing is faulty, only the close counts. */
    const char r[] = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->until_close, 1);
    ck_body(o, "0\r\n\r\n");
}
END_TEST

START_TEST(framing_bare_lf)
{
    const char r[] = "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "hi");

    const char c[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\n\r\n2\nhi\n0\n\n";
    o = PARSE(c, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof c - 1);
    ck_body(o, "hi");
}
END_TEST

START_TEST(framing_blank_lines_before_status_skipped)
{
    const char r[] = "\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
}
END_TEST

START_TEST(framing_head_response_has_no_body)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    const struct outcome *o = PARSE(r, 1, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_assert_uint_eq(o->body_len, 0);

    const char c[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1";
    o = PARSE(c, 1, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof c - 1 - 8);
}
END_TEST

START_TEST(framing_204_304_have_no_body)
{
    const char r204[] = "HTTP/1.1 204 No Content\r\n\r\n";
    const struct outcome *o = PARSE(r204, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->status, 204);
    ck_assert_uint_eq(o->consumed, sizeof r204 - 1);

    const char r304[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nnext";
    o = PARSE(r304, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r304 - 1 - 4);
}
END_TEST

START_TEST(framing_content_length_zero)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
}
END_TEST

START_TEST(framing_interim_responses_skipped)
{
    const char r[] = "HTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                     "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_assert_int_eq(o->status, 201);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_body(o, "ok");
}
END_TEST

START_TEST(framing_101_switches_to_until_close)
{
    const char r[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Content-Length: 1\r\n\r\n\x81\x02hi";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_assert_int_eq(o->status, 101);
    ck_assert_int_eq(o->until_close, 1);
    ck_body(o, "\x81\x02hi");
    o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
}
END_TEST

START_TEST(framing_until_close)
{
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\r\n";
    const struct outcome *o = PARSE(r, 0, 0);
    ck_assert_int_eq(o->res, HTTP_FRAMING_MORE);
    ck_assert_uint_eq(o->consumed, sizeof r - 1);
    ck_assert_int_eq(o->until_close, 1);
    o = PARSE(r, 0, 1);
    ck_assert_int_eq(o->res, HTTP_FRAMING_DONE);
    ck_body(o, "all of it\r\n");
}
END_TEST

START_TEST(framing_eof_cuts_short)
{
    const char body[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    const struct outcome *o = PARSE(body, 0, 1);
    ck_error_starts(o, "response cut short");
    ck_assert_str_eq(o->error, "response cut short: 7 body bytes missing");
    ck_body(o, "abc");

    const char head[] = "HTTP/1.1 200 OK\r\nContent-Le";
    ck_error_starts(PARSE(head, 0, 1), "response cut short");

    const char chunk[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
    ck_error_starts(PARSE(chunk, 0, 1), "response cut short");

    const char trailer[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
    ck_error_starts(PARSE(trailer, 0, 1), "response cut short");

    const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ck_error_starts(PARSE(interim, 0, 1), "response cut short");

    ck_error_starts(parse_all_ways("", 0, 0, 1), "response cut short");
}
END_TEST

START_TEST(framing_feed_after_done)
{
    static struct http_framing f;
    const char r[] = "HTTP/1.1 204 No Content\r\n\r\n";
    size_t used = 1;

    http_framing_init(&f, 0);
    ck_assert_int_eq(http_framing_feed(&f, (const unsigned char *)r, sizeof r - 1, &used),
                     HTTP_FRAMING_DONE);
    ck_assert_int_eq(http_framing_feed(&f, (const unsigned char *)"x", 1, &used),
                     HTTP_FRAMING_DONE);
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(http_framing_eof(&f), HTTP_FRAMING_DONE);
}
END_TEST

START_TEST(framing_malformed_status_line)
{
    static const char *const bad[] = {
        "HTTP/1.1 20 OK\r\n\r\n",     "HTTP/1.1 200OK\r\n\r\n",  "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",   "HTTP/1.1 600 High\r\n\r\n", "HTTP/1.x 200 OK\r\n\r\n",
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
        "tcp-server over TCP is working", "SSH-2.0-OpenSSH_9.2", "ICY 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n", " HTTP/1.1 200 OK\r\n\r\n", "HTTP/2 200\r\n\r\n",
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

    static const char *const bad[] = {"abc", "-1", "+5", "", "5,", "0x10", "5 5", "1e3"};
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
    static const char *const bad[] = {"zz", "", "-1", "0x5", "5 x", " 5", "5\r\r"};
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

START_TEST(framing_without_callback)
{
    static struct http_framing f;
    const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    size_t used;

    http_framing_init(&f, 0);
    ck_assert_int_eq(http_framing_feed(&f, (const unsigned char *)r, sizeof r - 1, &used),
                     HTTP_FRAMING_DONE);
    ck_assert_uint_eq(used, sizeof r - 1);
    ck_assert_int_eq(f.status, 200);
}
END_TEST

/* ---- tcp-client -v: the heads shown ---- */

/* What a show wrote, as one string (open_memstream). */
struct capture {
    FILE *f;
    char *buf;
    size_t len;
};

static void capture_open(struct capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    ck_assert_ptr_nonnull(c->f);
}

static const char *capture_text(struct capture *c)
{
    fflush(c->f);
    return c->buf;
}

static void capture_close(struct capture *c)
{
    fclose(c->f);
    free(c->buf);
}

START_TEST(show_request_head_only)
{
    static const char req[] = "POST /x HTTP/1.1\r\nHost: a\r\nUser-Agent: Mozilla/lm3nitro 1.0\r\n"
                              "Content-Length: 5\r\n\r\nbody!";
    struct capture c;
    capture_open(&c);
    http_show_request(c.f, req, sizeof req - 1);
    ck_assert_str_eq(capture_text(&c), "> POST /x HTTP/1.1\n> Host: a\n"
                                       "> User-Agent: Mozilla/lm3nitro 1.0\n"
                                       "> Content-Length: 5\n>\n");
    capture_close(&c);
}
END_TEST

START_TEST(show_response_in_pieces_escaped)
{
    /* An interim 100, then the head, with a hostile header, one byte at a
     * time; the body is not shown. */
    static const char resp[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                               "X-Evil: \x1b]0;pwned\x07\x1b[2J\r\nContent-Length: 4\r\n\r\n"
                               "\x1b[31mbody";
    struct capture c;
    capture_open(&c);
    struct http_show h;
    http_show_init(&h);
    for (size_t i = 0; i < sizeof resp - 1; i++)
        http_show_feed(&h, c.f, (const unsigned char *)resp + i, 1);
    ck_assert_str_eq(capture_text(&c), "< HTTP/1.1 100 Continue\n<\n< HTTP/1.1 200 OK\n"
                                       "< X-Evil: \\x1b]0;pwned\\x07\\x1b[2J\n"
                                       "< Content-Length: 4\n<\n");
    ck_assert_ptr_null(strchr(capture_text(&c), '\x1b'));
    capture_close(&c);
}
END_TEST

START_TEST(show_not_http_and_long_lines)
{
    struct capture c;
    capture_open(&c);
    struct http_show h;
    http_show_init(&h);
    http_show_feed(&h, c.f, (const unsigned char *)"tcp-server is working\n", 22);
    ck_assert_str_eq(capture_text(&c), ""); /* not a head: stdout shows the reply */
    capture_close(&c);

    capture_open(&c);
    http_show_init(&h);
    char big[3000];
    memset(big, 'a', sizeof big);
    const char *top = "HTTP/1.1 200 OK\nX-Long: ";
    http_show_feed(&h, c.f, (const unsigned char *)top, strlen(top));
    http_show_feed(&h, c.f, (const unsigned char *)big, sizeof big);
    http_show_feed(&h, c.f, (const unsigned char *)"\n\n", 2);
    const char *out = capture_text(&c);
    ck_assert_ptr_nonnull(strstr(out, "< HTTP/1.1 200 OK\n< X-Long: aaa"));
    /* 1024 bytes shown (8 of them "X-Long: "), the rest counted */
    ck_assert_ptr_nonnull(strstr(out, "a [1984 more bytes not shown]\n<\n"));
    capture_close(&c);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *req = tcase_create("request");
    TCase *fr = tcase_create("framing");

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

    tcase_add_test(fr, framing_content_length);
    tcase_add_test(fr, framing_keep_alive_stops_before_next_response);
    tcase_add_test(fr, framing_chunked);
    tcase_add_test(fr, framing_chunked_keep_alive_trailing_bytes);
    tcase_add_test(fr, framing_chunked_wins_over_content_length);
    tcase_add_test(fr, framing_final_coding_not_chunked_runs_to_close);
    tcase_add_test(fr, framing_http10_chunked_runs_to_close);
    tcase_add_test(fr, framing_bare_lf);
    tcase_add_test(fr, framing_blank_lines_before_status_skipped);
    tcase_add_test(fr, framing_head_response_has_no_body);
    tcase_add_test(fr, framing_204_304_have_no_body);
    tcase_add_test(fr, framing_content_length_zero);
    tcase_add_test(fr, framing_interim_responses_skipped);
    tcase_add_test(fr, framing_101_switches_to_until_close);
    tcase_add_test(fr, framing_until_close);
    tcase_add_test(fr, framing_eof_cuts_short);
    tcase_add_test(fr, framing_feed_after_done);
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
    tcase_add_test(fr, framing_without_callback);
    suite_add_tcase(s, fr);
    TCase *show = tcase_create("show");
    tcase_add_test(show, show_request_head_only);
    tcase_add_test(show, show_response_in_pieces_escaped);
    tcase_add_test(show, show_not_http_and_long_lines);
    suite_add_tcase(s, show);
    return s;
}

int main(void)
{
    return testutil_run(http_suite());
}
