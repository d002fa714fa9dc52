/*
 * tcp-client: the seed's TCP client made real. Sends an HTTP GET (or
 * --send data, or a stream with --send-file) over TCP or TLS and writes the
 * whole reply to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "http.h"
#include "options.h"
#include "pump.h"
#include "report.h"
#include "secsock/transport.h"
#include "term.h"

/* stdout or -o FILE: verbatim, but escaped when a person is watching. */
struct output {
    FILE *f;
    int tty;
    int flush_each;             /* streaming: flush every chunk */
    int created;                /* -o made the file (removed if nothing comes) */
    int failed;
    struct term_stream ts;
};

static int output_write(void *arg, const unsigned char *data, size_t len)
{
    struct output *out = arg;
    int rc = out->tty ? term_stream_write(&out->ts, out->f, data, len)
                      : (fwrite(data, 1, len, out->f) == len ? 0 : -1);
    if (rc == 0 && out->flush_each && fflush(out->f) != 0)
        rc = -1;
    out->failed |= rc != 0;
    return rc;
}

/* --body-only: the parser hands over the decoded body (the status is known
 * by then, so --fail can drop a 4xx/5xx body here). */
struct body_sink {
    struct output *out;
    const struct http_framing *framing;
    int fail_http;
};

static void output_body(void *arg, const unsigned char *data, size_t len)
{
    struct body_sink *b = arg;
    if (!(b->fail_http && b->framing->status >= 400))
        (void)output_write(b->out, data, len); /* a failure is seen in out->failed */
}

/* After a complete HTTP response: a redirect is shown, not followed, and
 * --fail turns a 4xx/5xx into exit 6. */
static int judge_response(const struct app_options *o, struct app_client_session *cs,
                          const struct http_framing *f)
{
    char location[1024];
    if (f->status >= 300 && f->status < 400 &&
        http_response_header(f, "Location", location, sizeof location) == 0) {
        char shown[4 * sizeof location + 1];
        term_escape_line((const unsigned char *)location, strlen(location), shown);
        fprintf(stderr, "%s: HTTP %d: redirect to %s (not followed)\n", o->name, f->status,
                shown);
    }
    if (o->fail_http && f->status >= 400) {
        char msg[32];
        snprintf(msg, sizeof msg, "HTTP status %d", f->status);
        (void)app_client_fail(o, cs, SECSOCK_ERR_PROTOCOL, msg);
        return APP_EXIT_HTTP;
    }
    return 0;
}


/* With --fail nothing is written until the status is known, and nothing
 * at all for a 4xx/5xx (curl's --fail): the head is held back meanwhile. */
struct holdback {
    unsigned char *buf;
    size_t len, cap;
};

static int hold(struct holdback *h, const unsigned char *data, size_t len)
{
    if (h->len + len > h->cap) {
        size_t cap = (h->len + len) * 2;
        unsigned char *p = realloc(h->buf, cap);
        if (p == NULL)
            return -1;
        h->buf = p;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, len);
    h->len += len;
    return 0;
}

/* Writes what the response's bytes allow: all of them, the body only, or
 * (with --fail, before the status is known) nothing yet. */
static int deliver(const struct app_options *o, struct http_framing *framing,
                   struct output *out, struct holdback *h, const unsigned char *data,
                   size_t len)
{
    if (framing == NULL)
        return output_write(out, data, len);
    if (o->body_only)
        return 0; /* the parser's on_body callback writes the body (all of a non-HTTP reply) */
    if (o->fail_http && framing->status == 0 && !framing->not_http)
        return hold(h, data, len);
    if (o->fail_http && framing->status >= 400)
        return 0;
    if (h->len > 0 && output_write(out, h->buf, h->len) != 0)
        return -1;
    h->len = 0;
    return output_write(out, data, len);
}

/* Reads the reply: for HTTP until the response's end, else until the peer closes. */
static int read_reply(const struct app_options *o, struct app_client_session *cs,
                      secsock_conn *c, struct output *out, int http)
{
    struct http_framing *framing = NULL;
    if (http) {
        framing = malloc(sizeof *framing);
        if (framing == NULL)
            return app_client_fail(o, cs, SECSOCK_ERR_NOMEM, "out of memory");
        http_framing_init(framing, strcmp(o->method, "HEAD") == 0);
    }
    struct body_sink body = { .out = out, .framing = framing, .fail_http = o->fail_http };
    if (framing != NULL && o->body_only) {
        framing->on_body = output_body;
        framing->on_body_arg = &body;
    }
    struct holdback h = { 0 };
    unsigned char buf[16384];
    int rc = 0;
    for (;;) {
        ssize_t n = secsock_read(c, buf, sizeof buf);
        if (n < 0) {
            rc = app_client_fail(o, cs, (int)n, secsock_conn_error(c));
            break;
        }
        size_t keep = (size_t)n;
        enum http_framing_result fr = HTTP_FRAMING_MORE;
        if (framing != NULL)
            fr = n > 0 ? http_framing_feed(framing, buf, (size_t)n, &keep)
                       : http_framing_eof(framing);
        if (keep > 0 && deliver(o, framing, out, &h, buf, keep) != 0)
            out->failed = 1;
        if (out->failed) {
            rc = app_client_fail(o, cs, SECSOCK_ERR_IO, "cannot write the output");
            break;
        }
        if (fr == HTTP_FRAMING_ERROR) {
            char msg[200];
            snprintf(msg, sizeof msg, "bad HTTP response: %s", framing->error);
            rc = app_client_fail(o, cs, SECSOCK_ERR_PROTOCOL, msg);
            break;
        }
        if (n == 0 || fr == HTTP_FRAMING_DONE) {
            if (framing != NULL && !framing->not_http)
                rc = judge_response(o, cs, framing);
            break;
        }
    }
    free(h.buf);
    free(framing);
    return rc;
}

static int send_file(const struct app_options *o, struct app_client_session *cs, secsock_conn *c,
                     int fd, struct output *out)
{
    char err[256];
    out->flush_each = 1; /* a stream: what comes back shows as it comes */
    int rc = pump_duplex(c, fd, output_write, out, o->timeout_ms, err, sizeof err);
    if (rc != 0)
        return app_client_fail(o, cs, rc, err[0] ? err : secsock_conn_error(c));
    return 0;
}

/* --send-file and -o are checked before any connection is made: a bad
 * file is a usage error (exit 2) that no server ever sees. */
static int open_files(const struct app_options *o, int *in_fd, struct output *out, char *err,
                      size_t errlen)
{
    *in_fd = -1;
    if (o->send_file != NULL) {
        struct stat st;
        *in_fd = strcmp(o->send_file, "-") == 0 ? STDIN_FILENO
                                                : open(o->send_file, O_RDONLY | O_CLOEXEC);
        if (*in_fd < 0 || fstat(*in_fd, &st) != 0 || S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "cannot read '%s': %s", o->send_file,
                     *in_fd >= 0 && S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
            if (*in_fd > STDIN_FILENO)
                close(*in_fd);
            return -1;
        }
    }
    if (o->output != NULL) {
        /* Opened, not yet truncated: a failed connection leaves an existing
         * file as it was, and removes one it created. */
        out->created = access(o->output, F_OK) != 0;
        int fd = open(o->output, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        out->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        out->tty = 0;
        if (out->f == NULL) {
            if (fd >= 0)
                close(fd);
            snprintf(err, errlen, "cannot write '%s': %s", o->output, strerror(errno));
            if (*in_fd > STDIN_FILENO)
                close(*in_fd);
            return -1;
        }
    }
    return 0;
}

/* The request: HTTP by default, or the --send bytes. */
static char *make_request(const struct app_options *o, const char *port, size_t *len,
                          char *err, size_t errlen)
{
    if (o->send_string != NULL) {
        *len = strlen(o->send_string);
        char *copy = strdup(o->send_string);
        if (copy == NULL)
            snprintf(err, errlen, "out of memory");
        return copy;
    }
    struct http_request_spec spec = {
        .method = o->method,
        .host = o->host,
        .port = port,
        .default_port = o->secure ? 443 : 80,
        .path = o->path,
        .user_agent = o->user_agent,
        .headers = o->headers,
        .nheaders = o->nheaders,
    };
    return http_request_build(&spec, len, err, errlen);
}

static int run(const struct app_options *o, const secsock_transport *t)
{
    const char *port = o->port ? o->port : (o->secure ? "443" : "80");
    char err[512];
    size_t req_len = 0;
    char *request = NULL;
    if (o->send_file == NULL &&
        (request = make_request(o, port, &req_len, err, sizeof err)) == NULL)
        return app_client_fail(o, NULL, SECSOCK_ERR_CONFIG, err);

    struct output out = { .f = stdout, .tty = isatty(STDOUT_FILENO) };
    int in_fd = -1;
    if (open_files(o, &in_fd, &out, err, sizeof err) != 0) {
        free(request);
        return app_client_fail(o, NULL, SECSOCK_ERR_CONFIG, err);
    }
    secsock_conn *c = NULL;
    struct app_client_session cs;
    int rc = app_client_connect(o, t, port, o->timeout_ms, &c, &cs, err, sizeof err);
    if (rc != 0) {
        free(request);
        if (in_fd > STDIN_FILENO)
            close(in_fd);
        if (out.f != stdout) {
            (void)fclose(out.f);
            if (out.created)
                (void)unlink(o->output);
        }
        return app_client_fail(o, &cs, rc, err);
    }
    struct stat st; /* only a regular file is emptied (not /dev/null, a FIFO) */
    if (out.f != stdout && fstat(fileno(out.f), &st) == 0 && S_ISREG(st.st_mode) &&
        ftruncate(fileno(out.f), 0) != 0)
        out.failed = 1; /* reported as a write failure below */

    term_stream_init(&out.ts);
    if (o->send_file != NULL) {
        rc = send_file(o, &cs, c, in_fd, &out);
        if (in_fd > STDIN_FILENO)
            close(in_fd);
    } else if (secsock_write_all(c, request, req_len) != 0) {
        rc = app_client_fail(o, &cs, SECSOCK_ERR_IO, secsock_conn_error(c));
    } else {
        /* --send data is complete: say so, as `printf DATA | ncat` would. */
        if (o->send_string != NULL && secsock_shutdown_write(c) != 0)
            rc = app_client_fail(o, &cs, SECSOCK_ERR_IO, secsock_conn_error(c));
        if (rc == 0)
            rc = read_reply(o, &cs, c, &out, o->send_string == NULL);
    }
    if (out.tty)
        term_stream_finish(&out.ts, out.f);
    if ((out.f == stdout ? fflush(out.f) : fclose(out.f)) != 0 && rc == 0)
        rc = app_client_fail(o, &cs, SECSOCK_ERR_IO, "cannot write the output");
    app_client_finish(o, &cs, c);
    secsock_close(c);
    free(request);
    return rc;
}

int main(int argc, char **argv)
{
    (void)signal(SIGPIPE, SIG_IGN); /* a closed peer or stdout is an error, not a death */
    struct app_options o;
    int rc = app_options_parse(&o, APP_TCP_CLIENT, argc, argv);
    if (rc >= 0)
        return rc;
    char err[512];
    secsock_transport *t = app_transport(&o, SECSOCK_CLIENT, err, sizeof err);
    if (t == NULL)
        return app_client_fail(&o, NULL, SECSOCK_ERR_CONFIG, err);
    rc = run(&o, t);
    secsock_transport_free(t);
    return rc;
}
