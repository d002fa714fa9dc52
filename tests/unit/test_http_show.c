/* tcp-client -v's HTTP heads (src/app/http_show.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_show.h"
#include "testutil.h"

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

static Suite *http_show_suite(void)
{
    Suite *s = suite_create("http_show");
    TCase *show = tcase_create("show");
    tcase_add_test(show, show_request_head_only);
    tcase_add_test(show, show_response_in_pieces_escaped);
    tcase_add_test(show, show_not_http_and_long_lines);
    suite_add_tcase(s, show);
    return s;
}

int main(void)
{
    return testutil_run(http_show_suite());
}
