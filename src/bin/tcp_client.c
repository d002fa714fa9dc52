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
#include "http_framing.h"
#include "http_request.h"
#include "http_show.h"
#include "redirect.h"
#include "target.h"
#include "options.h"
#include "pump.h"
#include "report.h"
#include "secsock/transport.h"
#include "term.h"

/* stdout or -o FILE: verbatim, but escaped when a person is watching,
 * and binary held back from a terminal unless forced (-o -), as curl does. */
struct output {
    FILE *f;
    int tty;
    int forced;              /* -o -: even binary goes to the terminal (escaped) */
    unsigned long long held; /* binary bytes held back from the terminal */
    int write_errno;         /* why a write failed: EPIPE, ENOSPC... */
    int flush_each;          /* streaming: flush every chunk */
    int created;             /* -o made the file (removed if nothing comes) */
    int connected;           /* a server was reached: the file is emptied */
    int failed;
    struct term_stream ts;
};

static int output_write(void *arg, const unsigned char *data, size_t len)
{
    struct output *out = arg;
    if (out->tty && !out->forced && (out->held > 0 || memchr(data, '\0', len) != NULL)) {
        out->held += len; /* binary: from here on, nothing reaches the terminal */
        return 0;
    }
    errno = 0;
    int rc = out->tty ? term_stream_write(&out->ts, out->f, data, len)
                      : (fwrite(data, 1, len, out->f) == len ? 0 : -1);
    if (rc == 0 && out->flush_each && fflush(out->f) != 0)
        rc = -1;
    if (rc != 0 && !out->failed)
        out->write_errno = errno;
    out->failed |= rc != 0;
    return rc;
}

/* A failed write says why; a reader gone (| head) ends the program
 * quietly with curl's status for it. Returns the exit code. */
static enum app_exit output_failed(const struct app_options *o, struct app_client_session *cs,
                                   const struct output *out)
{
    if (out->write_errno == EPIPE) {
        if (cs != NULL && cs->status == 0) {
            cs->status = SECSOCK_ERR_IO;
            snprintf(cs->error, sizeof cs->error, "the output was closed");
        }
        return APP_EXIT_WRITE;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "cannot write the output: %s",
             out->write_errno != 0 ? strerror(out->write_errno) : "write error");
    (void)app_client_fail(o, cs, SECSOCK_ERR_IO, msg);
    return APP_EXIT_WRITE;
}

/* A redirect to follow (--location): its absolute URL and the status. */
struct redirect {
    char url[2048]; /* empty: none */
    int status;
};

/* A redirect --location follows: its response is not the user's. */
static int followed(const struct app_options *o, const struct http_framing *f)
{
    char location[8];
    return o->follow && f->status >= 300 && f->status < 400 &&
           http_response_header(f, "Location", location, sizeof location) == 0;
}

/* Whether the response's bytes go out: not a 4xx/5xx with --fail, not a
 * redirect being followed. */
static int wanted(const struct app_options *o, const struct http_framing *f)
{
    return !(o->fail_http && f->status >= 400) && !followed(o, f);
}

/* --body-only: the parser hands over the decoded body (the status is known
 * by then, so --fail can drop a 4xx/5xx body here). */
struct body_sink {
    struct output *out;
    const struct app_options *o;
    const struct http_framing *framing;
};

static void output_body(void *arg, const unsigned char *data, size_t len)
{
    struct body_sink *b = arg;
    if (wanted(b->o, b->framing))
        (void)output_write(b->out, data, len); /* a failure is seen in out->failed */
}

/* After a complete HTTP response: a redirect is followed (--location: its
 * target in r, return 0) or shown, and --fail turns a 4xx/5xx into exit 6. */
static enum app_exit judge_response(const struct app_options *o, struct app_client_session *cs,
                                    const struct http_framing *f, struct redirect *r)
{
    char location[1024];
    if (f->status >= 300 && f->status < 400 &&
        http_response_header(f, "Location", location, sizeof location) == 0) {
        char shown[4 * sizeof location + 1];
        term_escape_line((const unsigned char *)location, strlen(location), shown);
        if (o->follow) {
            const char *port = o->port ? o->port : o->secure ? "443" : "80";
            r->status = f->status;
            if (redirect_resolve(o->secure, o->host, port, o->path, location, r->url,
                                 sizeof r->url) != 0)
                return app_client_fail(o, cs, SECSOCK_ERR_PROTOCOL,
                                       "bad redirect: cannot follow this Location");
            if (o->verbose)
                fprintf(stderr, "* HTTP %d: following the redirect to %s\n", f->status, shown);
            return APP_EXIT_OK;
        }
        fprintf(stderr, "%s: HTTP %d: redirect to %s (not followed; --location follows)\n", o->name,
                f->status, shown);
    }
    if (o->fail_http && f->status >= 400) {
        char msg[32];
        snprintf(msg, sizeof msg, "HTTP status %d", f->status);
        (void)app_client_fail(o, cs, SECSOCK_ERR_PROTOCOL, msg);
        return APP_EXIT_HTTP;
    }
    return APP_EXIT_OK;
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
static int deliver(const struct app_options *o, struct http_framing *framing, struct output *out,
                   struct holdback *h, const unsigned char *data, size_t len)
{
    if (framing == NULL)
        return output_write(out, data, len);
    if (o->body_only)
        return 0; /* the parser's on_body callback writes the body (all of a non-HTTP reply) */
    if ((o->fail_http || o->follow) && framing->status == 0 && !framing->not_http)
        return hold(h, data, len); /* until the status says whether it is wanted */
    if (!framing->not_http && !wanted(o, framing)) {
        h->len = 0;
        return 0;
    }
    if (h->len > 0 && output_write(out, h->buf, h->len) != 0)
        return -1;
    h->len = 0;
    return output_write(out, data, len);
}

/* A TLS record's header: handshake or alert, version 3.x (what a TLS
 * server sends to a plaintext request, if anything). */
static int looks_like_tls(const unsigned char *b)
{
    return (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 && b[2] <= 0x04;
}

/* -v's closing line, curl's "left intact" moment: the status, the bytes
 * each way (application bytes, as --json counts them) and the time since
 * the connect began. */
static void show_totals(const struct app_client_session *cs, const secsock_conn *c, int status)
{
    char http[24] = "";
    if (status > 0)
        snprintf(http, sizeof http, "HTTP %d, ", status);
    app_log(stderr, "* %sreceived %llu bytes in %.1f ms (sent %llu)", http,
            secsock_conn_bytes_received(c), app_now_ms() - cs->start_ms,
            secsock_conn_bytes_sent(c));
}

/* Reads the reply: for HTTP until the response's end, else until the peer
 * closes. A redirect to follow is left in r. */
static enum app_exit read_reply(const struct app_options *o, struct app_client_session *cs,
                                secsock_conn *c, struct output *out, int http, struct redirect *r)
{
    struct http_framing *framing = NULL;
    if (http) {
        framing = malloc(sizeof *framing);
        if (framing == NULL)
            return app_client_fail(o, cs, SECSOCK_ERR_NOMEM, "out of memory");
        http_framing_init(framing, strcmp(o->method, "HEAD") == 0);
    }
    struct body_sink body = { .out = out, .o = o, .framing = framing };
    if (framing != NULL && o->body_only) {
        framing->on_body = output_body;
        framing->on_body_arg = &body;
    }
    struct holdback h = { 0 };
    struct http_show show; /* -v: the response head, "< " line by line */
    http_show_init(&show);
    unsigned char buf[16384];
    enum app_exit rc = APP_EXIT_OK;
    int first = 1;
    for (;;) {
        ssize_t n = secsock_read(c, buf, sizeof buf);
        if (n < 0) {
            rc = app_client_fail(o, cs, (enum secsock_status)n, secsock_conn_error(c));
            break;
        }
        if (n == 0 && first && !o->secure && framing != NULL) {
            rc = app_client_fail(o, cs, SECSOCK_ERR_PROTOCOL,
                                 "the server closed the connection without a reply (if the port "
                                 "speaks TLS, add --tls)");
            break;
        }
        if (n >= 3 && first && !o->secure && looks_like_tls(buf)) {
            rc = app_client_fail(o, cs, SECSOCK_ERR_PROTOCOL,
                                 "the server answered with TLS, not plaintext: add --tls "
                                 "(or use an https:// URL)");
            break;
        }
        first = 0;
        if (o->verbose && framing != NULL)
            http_show_feed(&show, stderr, buf, (size_t)n);
        size_t keep = (size_t)n;
        enum http_framing_result fr = HTTP_FRAMING_MORE;
        if (framing != NULL)
            fr = n > 0 ? http_framing_feed(framing, buf, (size_t)n, &keep)
                       : http_framing_eof(framing);
        if (keep > 0 && deliver(o, framing, out, &h, buf, keep) != 0)
            out->failed = 1;
        if (out->failed) {
            rc = output_failed(o, cs, out);
            break;
        }
        if (fr == HTTP_FRAMING_ERROR) {
            char msg[200];
            snprintf(msg, sizeof msg, "bad HTTP response: %s", framing->error);
            rc = app_client_fail(o, cs, SECSOCK_ERR_PROTOCOL, msg);
            break;
        }
        if (n == 0 || fr == HTTP_FRAMING_DONE) {
            int http_status = framing != NULL && !framing->not_http ? framing->status : 0;
            if (o->verbose)
                show_totals(cs, c, http_status);
            if (framing != NULL && !framing->not_http)
                rc = judge_response(o, cs, framing, r);
            break;
        }
    }
    free(h.buf);
    free(framing);
    return rc;
}

static enum app_exit send_file(const struct app_options *o, struct app_client_session *cs,
                               secsock_conn *c, int fd, struct output *out)
{
    char err[256];
    out->flush_each = 1; /* a stream: what comes back shows as it comes */
    enum secsock_status rc = pump_duplex(c, fd, output_write, out, o->timeout_ms, err, sizeof err);
    if (rc != SECSOCK_OK)
        return app_client_fail(o, cs, rc, err[0] ? err : secsock_conn_error(c));
    if (o->verbose)
        show_totals(cs, c, 0);
    return APP_EXIT_OK;
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
    if (o->output != NULL && strcmp(o->output, "-") == 0) {
        out->forced = 1; /* curl's --output -: to stdout, binary or not */
    } else if (o->output != NULL) {
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

/* --data and --data-binary, in order, joined with '&' (curl's rule); @FILE
 * is the file's content (for --data without CR and LF). Returns a malloc'd
 * body (NULL with the reason in err) and its length. */
static char *request_body(const struct app_options *o, size_t *len, char *err, size_t errlen)
{
    struct holdback b = { 0 };
    for (size_t i = 0; i < o->ndata; i++) {
        const char *arg = o->data[i].arg;
        if (i > 0 && hold(&b, (const unsigned char *)"&", 1) != 0)
            goto oom;
        if (arg[0] != '@') {
            if (hold(&b, (const unsigned char *)arg, strlen(arg)) != 0)
                goto oom;
            continue;
        }
        FILE *f = strcmp(arg + 1, "-") == 0 ? stdin : fopen(arg + 1, "rb");
        if (f == NULL) {
            snprintf(err, errlen, "cannot read '%s': %s", arg + 1, strerror(errno));
            free(b.buf);
            return NULL;
        }
        unsigned char chunk[16384];
        size_t n;
        int bad = 0;
        while (!bad && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
            size_t keep = 0;
            for (size_t k = 0; k < n; k++) /* --data @FILE: lines joined, as curl does */
                if (o->data[i].binary || (chunk[k] != '\r' && chunk[k] != '\n'))
                    chunk[keep++] = chunk[k];
            bad = hold(&b, chunk, keep) != 0;
        }
        int read_error = ferror(f);
        if (f != stdin)
            (void)fclose(f); /* read only: nothing to lose */
        if (bad)
            goto oom;
        if (read_error) {
            snprintf(err, errlen, "cannot read '%s'", arg + 1);
            free(b.buf);
            return NULL;
        }
    }
    *len = b.len;
    return b.buf != NULL ? (char *)b.buf : strdup("");
oom:
    free(b.buf);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

/* The request: HTTP by default, or the --send bytes. */
static char *make_request(const struct app_options *o, const char *port, size_t *len, char *err,
                          size_t errlen)
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
    char *body = NULL;
    if (o->ndata > 0) {
        if ((body = request_body(o, &spec.body_len, err, errlen)) == NULL)
            return NULL;
        spec.has_body = 1;
        spec.body = body;
        spec.content_type = "application/x-www-form-urlencoded"; /* curl's, for -d */
    }
    char *request = http_request_build(&spec, len, err, errlen);
    free(body);
    return request;
}

/* One request and its reply over a new connection. A redirect to follow
 * is left in r (else r->url is empty). */
static enum app_exit exchange(const struct app_options *o, const secsock_transport *t,
                              struct output *out, int in_fd, struct redirect *r)
{
    const char *port = o->port ? o->port : (o->secure ? "443" : "80");
    char err[APP_ERR_LEN];
    size_t req_len = 0;
    char *request = NULL;
    r->url[0] = '\0';
    if (o->send_file == NULL &&
        (request = make_request(o, port, &req_len, err, sizeof err)) == NULL)
        return app_client_fail(o, NULL, SECSOCK_ERR_CONFIG, err);
    secsock_conn *c = NULL;
    struct app_client_session cs;
    enum secsock_status connected =
        app_client_connect(o, t, port, o->timeout_ms, &c, &cs, err, sizeof err);
    if (connected != SECSOCK_OK) {
        free(request);
        return app_client_fail(o, &cs, connected, err);
    }
    enum app_exit rc = APP_EXIT_OK;
    out->connected = 1;
    struct stat st; /* only a regular file is emptied (not /dev/null, a FIFO) */
    if (out->f != stdout && fstat(fileno(out->f), &st) == 0 && S_ISREG(st.st_mode) &&
        ftruncate(fileno(out->f), 0) != 0)
        out->failed = 1; /* reported as a write failure below */

    term_stream_init(&out->ts);
    if (o->send_file != NULL) {
        rc = send_file(o, &cs, c, in_fd, out);
    } else if (secsock_write_all(c, request, req_len) != SECSOCK_OK) {
        rc = app_client_fail(o, &cs, SECSOCK_ERR_IO, secsock_conn_error(c));
    } else {
        if (o->verbose && o->send_string == NULL)
            http_show_request(stderr, request, req_len); /* as sent: "> " line by line */
        /* --send data is complete: say so, as `printf DATA | ncat` would. */
        if (o->send_string != NULL && secsock_shutdown_write(c) != SECSOCK_OK)
            rc = app_client_fail(o, &cs, SECSOCK_ERR_IO, secsock_conn_error(c));
        if (rc == APP_EXIT_OK)
            rc = read_reply(o, &cs, c, out, o->send_string == NULL, r);
    }
    if (out->tty)
        term_stream_finish(&out->ts, out->f);
    if (rc == APP_EXIT_OK && (fflush(out->f) != 0 || out->failed)) {
        if (!out->failed)
            out->write_errno = errno;
        out->failed = 1;
        rc = output_failed(o, &cs, out);
    }
    app_client_finish(o, &cs, c);
    app_client_close(&cs, c);
    free(request);
    return rc;
}

/* The options for the next hop of --location: the redirect's URL, the
 * method and body as curl changes them (303, and POST after 301/302,
 * become a GET without body), --servername and --pin only for the same
 * host. Returns 0, or an exit code after saying why. */
static enum app_exit next_hop(const struct app_options *cur, const char *url, int status,
                              struct app_options *next)
{
    *next = *cur;
    char err[256];
    if (target_parse(url, 1, &next->target, err, sizeof err) != 0) {
        char shown[4 * 256 + 1];
        term_escape_line((const unsigned char *)err, strlen(err), shown);
        fprintf(stderr, "%s: cannot follow the redirect: %s\n", cur->name, shown);
        return APP_EXIT_FAILURE;
    }
    next->host = next->target.host;
    next->port = next->target.port;
    next->path = next->target.path;
    next->secure = next->target.scheme == TARGET_HTTPS;
    if (strcmp(next->host, cur->host) != 0) {
        next->servername = NULL; /* the new host's own name is verified */
        next->pin = NULL;
        next->resolve_host = NULL;
    }
    if (status == 303 || ((status == 301 || status == 302) && strcmp(cur->method, "POST") == 0)) {
        next->method = "GET";
        next->ndata = 0;
    }
    if (cur->secure && !next->secure)
        fprintf(stderr,
                "%s: warning: the redirect to %s leaves TLS: what follows is sent in "
                "plaintext\n",
                cur->name, url);
    return APP_EXIT_OK;
}

static enum app_exit run(const struct app_options *first, const secsock_transport *first_t)
{
    char err[512];
    struct output out = { .f = stdout, .tty = isatty(STDOUT_FILENO) };
    int in_fd = -1;
    if (open_files(first, &in_fd, &out, err, sizeof err) != 0)
        return app_client_fail(first, NULL, SECSOCK_ERR_CONFIG, err);
    /* Two option sets take turns for the hops of --location. */
    struct app_options *hops = malloc(2 * sizeof *hops);
    if (hops == NULL)
        return app_client_fail(first, NULL, SECSOCK_ERR_NOMEM, "out of memory");
    const struct app_options *o = first;
    const secsock_transport *t = first_t;
    secsock_transport *own_t = NULL;
    struct redirect r;
    enum app_exit rc = APP_EXIT_OK;
    int redirects = 0;
    for (;;) {
        rc = exchange(o, t, &out, in_fd, &r);
        if (rc != APP_EXIT_OK || r.url[0] == '\0')
            break;
        if (redirects++ == first->max_redirs) {
            fprintf(stderr, "%s: too many redirects (--max-redirs %d)\n", o->name,
                    first->max_redirs);
            rc = APP_EXIT_FAILURE;
            break;
        }
        struct app_options *next = &hops[redirects % 2];
        if ((rc = next_hop(o, r.url, r.status, next)) != APP_EXIT_OK)
            break;
        if (next->secure != o->secure || strcmp(next->host, o->host) != 0) {
            secsock_transport *nt = app_transport(next, SECSOCK_CLIENT, err, sizeof err);
            if (nt == NULL) {
                rc = app_client_fail(next, NULL, SECSOCK_ERR_CONFIG, err);
                break;
            }
            secsock_transport_free(own_t);
            own_t = nt;
            t = nt;
        }
        o = next;
    }
    if (in_fd > STDIN_FILENO)
        close(in_fd);
    if (out.held > 0) {
        fprintf(stderr,
                "%s: %llu bytes of binary output held back from the terminal: use "
                "-o FILE or a pipe, or -o - to see them escaped\n",
                first->name, out.held);
        if (rc == APP_EXIT_OK)
            rc = APP_EXIT_WRITE;
    }
    if (out.f != stdout) {
        errno = 0;
        if (fclose(out.f) != 0 && rc == APP_EXIT_OK) {
            out.write_errno = errno;
            rc = output_failed(first, NULL, &out);
        }
        if (!out.connected && out.created) /* no server reached: leave no empty file */
            (void)unlink(first->output);
    }
    secsock_transport_free(own_t);
    free(hops);
    return rc;
}

int main(int argc, char **argv)
{
    (void)signal(SIGPIPE, SIG_IGN); /* a closed peer or stdout is an error, not a death */
    struct app_options o;
    int code = app_options_parse(&o, APP_TCP_CLIENT, argc, argv);
    if (code >= 0)
        return code; /* --help, --version or a usage error */
    char err[512];
    secsock_transport *t = app_transport(&o, SECSOCK_CLIENT, err, sizeof err);
    if (t == NULL)
        return app_client_fail(&o, NULL, SECSOCK_ERR_CONFIG, err);
    enum app_exit rc = run(&o, t);
    secsock_transport_free(t);
    return rc;
}
