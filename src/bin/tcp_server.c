/*
 * tcp-server: the seed's threaded TCP server made real, over TCP or TLS.
 * server.c runs the accept loop and the worker pool; this file says how
 * one client is served: the seed's one request and reply, --echo, --http.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "options.h"
#include "report.h"
#include "secsock/transport.h"
#include "server.h"

#define REQUEST_MAX 4096 /* the seed's recv(4096) */
#define HTTP_HEAD_MAX 16384

/* The seed's behaviour: one read, print it, one reply. */
static enum secsock_status serve_once(struct app_server *s, secsock_conn *c)
{
    unsigned char buf[REQUEST_MAX];
    ssize_t n = secsock_read(c, buf, sizeof buf);
    if (n < 0)
        return (enum secsock_status)n;
    if (n == 0) {
        app_log_client(stdout, "[*] %s closed without sending anything", secsock_conn_peer(c));
        return SECSOCK_OK;
    }
    app_server_log_received(secsock_conn_peer(c), buf, (size_t)n);
    return secsock_write_all(c, s->reply, strlen(s->reply));
}

/* --echo: everything back, until the client half-closes. */
static enum secsock_status serve_echo(secsock_conn *c)
{
    unsigned char buf[16384];
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = secsock_read(c, buf, sizeof buf);
        if (n <= 0) {
            if (n == 0)
                app_log_client(stdout, "[*] %s: echoed %llu bytes", secsock_conn_peer(c), total);
            return n == 0 ? SECSOCK_OK : (enum secsock_status)n;
        }
        enum secsock_status rc = secsock_write_all(c, buf, (size_t)n);
        if (rc != SECSOCK_OK)
            return rc;
        total += (unsigned long long)n;
    }
}

/* Answers a request head that cannot be served, and says why. */
static enum secsock_status refuse_http(secsock_conn *c, const char *status, char *why,
                                       size_t whylen, const char *what)
{
    char answer[160];
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    (void)secsock_write_all(c, answer, (size_t)n);
    snprintf(why, whylen, "%s", what);
    return SECSOCK_ERR_PROTOCOL;
}

/* Reads the request head into head (HTTP_HEAD_MAX bytes): its length, or
 * 0 when the client closed without a byte, or a negative status with why
 * written. The whole head must come within -t, not each byte of it: a
 * client trickling a byte at a time must not hold a worker for ever
 * (nginx's client_header_timeout is the same). */
static ssize_t read_http_head(struct app_server *s, secsock_conn *c, char *head, char *why,
                              size_t whylen)
{
    const int limit_ms = s->o->timeout_ms;
    const double until = app_now_ms() + limit_ms;
    size_t len = 0;
    for (;;) {
        double left = until - app_now_ms();
        if (left < 1) {
            char what[96];
            snprintf(what, sizeof what, "no complete HTTP request head within %d ms", limit_ms);
            return refuse_http(c, "408 Request Timeout", why, whylen, what);
        }
        secsock_conn_set_timeout(c, (int)left);
        ssize_t n = secsock_read(c, head + len, HTTP_HEAD_MAX - len);
        if (n == SECSOCK_ERR_TIMEOUT)
            continue; /* the head's time is up: answered above */
        if (n < 0)
            return n;
        if (n == 0) {
            if (len == 0)
                return 0;
            snprintf(why, whylen, "HTTP request cut short after %zu bytes", len);
            return SECSOCK_ERR_PROTOCOL;
        }
        len += (size_t)n;
        if (memmem(head, len, "\r\n\r\n", 4) != NULL || memmem(head, len, "\n\n", 2) != NULL)
            break;
        if (len == HTTP_HEAD_MAX)
            return refuse_http(c, "431 Request Header Fields Too Large", why, whylen,
                               "HTTP request head over 16 KiB");
    }
    secsock_conn_set_timeout(c, limit_ms); /* each write has the usual -t */
    return (ssize_t)len;
}

/* The length of the request head in the len bytes read: up to and with
 * its empty line (read_http_head read until one came). */
static size_t http_head_length(const char *head, size_t len)
{
    const char *crlf = memmem(head, len, "\r\n\r\n", 4);
    const char *lf = memmem(head, len, "\n\n", 2);
    size_t a = crlf ? (size_t)(crlf - head) + 4 : len;
    size_t b = lf ? (size_t)(lf - head) + 2 : len;
    return a < b ? a : b;
}

/* --http: read the request head, answer 200 with the reply text. */
static enum secsock_status serve_http(struct app_server *s, secsock_conn *c, char *why,
                                      size_t whylen)
{
    char *head = malloc(HTTP_HEAD_MAX);
    if (head == NULL)
        return SECSOCK_ERR_NOMEM;
    ssize_t len = read_http_head(s, c, head, why, whylen);
    if (len <= 0) {
        free(head);
        return (int)len;
    }
    char *eol = memchr(head, '\n', (size_t)len);
    size_t line = eol ? (size_t)(eol - head) : (size_t)len;
    /* cppcheck-suppress knownConditionTrueFalse ; a head of "\n\n" has an empty first line */
    if (line > 0 && head[line - 1] == '\r')
        line--;
    /* -v: the whole head, a line for each of its lines (User-Agent and all);
     * else its request line. Body bytes that came with it are not shown. */
    app_server_log_received(secsock_conn_peer(c), (unsigned char *)head,
                            s->o->verbose ? http_head_length(head, (size_t)len) : line);
    size_t body = strlen(s->reply) + 1;
    char top[160];
    int tl = snprintf(top, sizeof top,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      body);
    int head_only = line >= 5 && memcmp(head, "HEAD ", 5) == 0; /* no body for HEAD */
    /* One write: one TLS record and one segment for the whole answer. The
     * request is logged, so its buffer can hold the answer if it fits. */
    size_t total = (size_t)tl + (head_only ? 0 : body);
    char *out = total <= HTTP_HEAD_MAX ? head : malloc(total);
    enum secsock_status rc = SECSOCK_ERR_NOMEM;
    if (out != NULL) {
        memcpy(out, top, (size_t)tl);
        if (!head_only) {
            memcpy(out + tl, s->reply, body - 1);
            out[total - 1] = '\n';
        }
        rc = secsock_write_all(c, out, total);
    }
    if (out != head)
        free(out);
    free(head);
    return rc;
}

/* --sink: read to the end, answer "<bytes> <sha256>\n" so a sender can
 * check that everything arrived (the bulk benchmark does). */
static enum secsock_status serve_sink(secsock_conn *c)
{
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned long long total = 0;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    enum secsock_status rc =
        sha != NULL && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) ? SECSOCK_OK : SECSOCK_ERR_NOMEM;
    ssize_t n;
    while (rc == SECSOCK_OK && (n = secsock_read(c, buf, sizeof buf)) != 0) {
        if (n < 0)
            rc = (enum secsock_status)n;
        else if (!EVP_DigestUpdate(sha, buf, (size_t)n))
            rc = SECSOCK_ERR_NOMEM;
        else
            total += (unsigned long long)n;
    }
    if (rc == SECSOCK_OK && EVP_DigestFinal_ex(sha, md, &mdlen)) {
        char line[32 + 2 * EVP_MAX_MD_SIZE];
        int len = snprintf(line, sizeof line, "%llu ", total);
        for (unsigned int i = 0; i < mdlen; i++)
            len += snprintf(line + len, sizeof line - (size_t)len, "%02x", md[i]);
        line[len++] = '\n';
        app_log_client(stdout, "[*] %s: received %llu bytes", secsock_conn_peer(c), total);
        rc = secsock_write_all(c, line, (size_t)len);
    }
    EVP_MD_CTX_free(sha);
    return rc;
}

static enum secsock_status serve(struct app_server *s, secsock_conn *c, char *why, size_t whylen)
{
    const struct app_options *o = s->o;
    return o->echo   ? serve_echo(c)
           : o->sink ? serve_sink(c)
           : o->http ? serve_http(s, c, why, whylen)
                     : serve_once(s, c);
}

int main(int argc, char **argv)
{
    return app_server_main(argc, argv, APP_TCP_SERVER, serve, "tcp-server over TCP is working",
                           "tcp-server over TLS is working");
}
