/*
 * tcp-server: the seed's threaded TCP server made real, over TCP or TLS.
 * server.c runs the accept loop and the worker pool; this file says how
 * one client is served: the seed's one request and reply, --echo, --http.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "options.h"
#include "report.h"
#include "secsock/transport.h"
#include "server.h"

#define REQUEST_MAX 4096    /* the seed's recv(4096) */
#define HTTP_HEAD_MAX 16384

/* The seed's behaviour: one read, print it, one reply. */
static int serve_once(struct app_server *s, secsock_conn *c)
{
    unsigned char buf[REQUEST_MAX];
    ssize_t n = secsock_read(c, buf, sizeof buf);
    if (n < 0)
        return (int)n;
    if (n == 0) {
        app_log(stdout, "[*] %s closed without sending anything", secsock_conn_peer(c));
        return 0;
    }
    app_server_log_received("Received", buf, (size_t)n);
    return secsock_write_all(c, s->reply, strlen(s->reply));
}

/* --echo: everything back, until the client half-closes. */
static int serve_echo(secsock_conn *c)
{
    unsigned char buf[16384];
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = secsock_read(c, buf, sizeof buf);
        if (n <= 0) {
            if (n == 0)
                app_log(stdout, "[*] %s: echoed %llu bytes", secsock_conn_peer(c), total);
            return (int)n;
        }
        int rc = secsock_write_all(c, buf, (size_t)n);
        if (rc != 0)
            return rc;
        total += (unsigned long long)n;
    }
}

/* --http: read the request head, answer 200 with the reply text. */
static int serve_http(struct app_server *s, secsock_conn *c)
{
    char *head = malloc(HTTP_HEAD_MAX);
    if (head == NULL)
        return SECSOCK_ERR_NOMEM;
    size_t len = 0;
    int rc = 0;
    while (rc == 0) {
        ssize_t n = secsock_read(c, head + len, HTTP_HEAD_MAX - len);
        if (n <= 0) {
            /* cppcheck-suppress knownConditionTrueFalse ; len grows from the second pass on */
            rc = n == 0 && len == 0 ? 1 : (n == 0 ? SECSOCK_ERR_PROTOCOL : (int)n);
            break;
        }
        len += (size_t)n;
        if (memmem(head, len, "\r\n\r\n", 4) != NULL || memmem(head, len, "\n\n", 2) != NULL)
            break;
        if (len == HTTP_HEAD_MAX) {
            static const char too_big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                          "Content-Length: 0\r\nConnection: close\r\n\r\n";
            (void)secsock_write_all(c, too_big, sizeof too_big - 1);
            rc = SECSOCK_ERR_PROTOCOL;
        }
    }
    if (rc == 0) {
        char *eol = memchr(head, '\n', len);
        size_t line = eol ? (size_t)(eol - head) : len;
        if (line > 0 && head[line - 1] == '\r')
            line--;
        app_server_log_received("Received", (unsigned char *)head, line);
        size_t body = strlen(s->reply) + 1;
        char top[160];
        int tl = snprintf(top, sizeof top,
                          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n", body);
        int head_only = line >= 5 && memcmp(head, "HEAD ", 5) == 0; /* no body for HEAD */
        /* One write: one TLS record and one segment for the whole answer. The
         * request is logged, so its buffer can hold the answer if it fits. */
        size_t total = (size_t)tl + (head_only ? 0 : body);
        char *out = total <= HTTP_HEAD_MAX ? head : malloc(total);
        if (out == NULL) {
            free(head);
            return SECSOCK_ERR_NOMEM;
        }
        memcpy(out, top, (size_t)tl);
        if (!head_only) {
            memcpy(out + tl, s->reply, body - 1);
            out[total - 1] = '\n';
        }
        rc = secsock_write_all(c, out, total);
        if (out != head)
            free(out);
    }
    if (rc == SECSOCK_ERR_PROTOCOL)
        app_log(stdout, "[!] %s: incomplete or oversized HTTP request", secsock_conn_peer(c));
    free(head);
    return rc == 1 || rc == SECSOCK_ERR_PROTOCOL ? 0 : rc;
}

/* --sink: read to the end, answer "<bytes> <sha256>\n" so a sender can
 * check that everything arrived (the bulk benchmark does). */
static int serve_sink(secsock_conn *c)
{
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned long long total = 0;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    int rc = sha != NULL && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) ? 0 : SECSOCK_ERR_NOMEM;
    ssize_t n;
    while (rc == 0 && (n = secsock_read(c, buf, sizeof buf)) != 0) {
        if (n < 0)
            rc = (int)n;
        else if (!EVP_DigestUpdate(sha, buf, (size_t)n))
            rc = SECSOCK_ERR_NOMEM;
        else
            total += (unsigned long long)n;
    }
    if (rc == 0 && EVP_DigestFinal_ex(sha, md, &mdlen)) {
        char line[32 + 2 * EVP_MAX_MD_SIZE];
        int len = snprintf(line, sizeof line, "%llu ", total);
        for (unsigned int i = 0; i < mdlen; i++)
            len += snprintf(line + len, sizeof line - (size_t)len, "%02x", md[i]);
        line[len++] = '\n';
        app_log(stdout, "[*] %s: received %llu bytes", secsock_conn_peer(c), total);
        rc = secsock_write_all(c, line, (size_t)len);
    }
    EVP_MD_CTX_free(sha);
    return rc;
}

static int serve(struct app_server *s, secsock_conn *c)
{
    const struct app_options *o = s->o;
    return o->echo ? serve_echo(c)
           : o->sink ? serve_sink(c)
           : o->http ? serve_http(s, c)
                     : serve_once(s, c);
}

int main(int argc, char **argv)
{
    return app_server_main(argc, argv, APP_TCP_SERVER, serve, "tcp-server over TCP is working",
                           "tcp-server over TLS is working");
}
