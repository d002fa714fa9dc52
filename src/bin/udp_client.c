/*
 * udp-client: the seed's UDP client made real, in plaintext or over DTLS
 * 1.2. Sends MESSAGE as one datagram, waits for the reply, sends again when
 * none comes in time, and prints the reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "options.h"
#include "report.h"
#include "secsock/transport.h"
#include "term.h"

#define MESSAGE_MAX 65536 /* more than any datagram carries: longer is refused */

/* SIGINT during --count ends the exchanges, not the program: the
 * statistics are still printed, as ping does. The pipe is every wait's
 * cancel descriptor. */
static int interrupt_pipe[2] = { -1, -1 };

static void on_interrupt(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(interrupt_pipe[1], "x", 1) < 0) {
        /* full: the interrupt is pending already */
    }
    errno = saved;
}

static int catch_interrupt(void)
{
    if (pipe2(interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa = { .sa_handler = on_interrupt };
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGINT, &sa, NULL);
}

/* MESSAGE, the seed's default, or stdin for "-". */
static char *load_message(const struct app_options *o, size_t *len, char *err, size_t errlen)
{
    char *msg = malloc(MESSAGE_MAX + 1);
    if (msg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (o->message == NULL) {
        *len = (size_t)snprintf(msg, MESSAGE_MAX, "Hello udp %s server", o->host);
    } else if (strcmp(o->message, "-") != 0) {
        *len = strlen(o->message);
        if (*len > MESSAGE_MAX)
            *len = MESSAGE_MAX + 1; /* refused below, with the real limit */
        else
            memcpy(msg, o->message, *len);
    } else {
        *len = fread(msg, 1, MESSAGE_MAX + 1, stdin);
        if (ferror(stdin)) {
            snprintf(err, errlen, "cannot read the message from stdin");
            free(msg);
            return NULL;
        }
    }
    return msg;
}

/* A message is never cut: one that does not fit is refused (exit 2). */
static enum app_exit refuse_too_big(const struct app_options *o, struct app_client_session *cs,
                                    size_t len, size_t max)
{
    char msg[200];
    snprintf(msg, sizeof msg, "a message of %s%zu bytes does not fit in one %s (at most %zu%s)",
             len > MESSAGE_MAX ? "over " : "", len > MESSAGE_MAX ? (size_t)MESSAGE_MAX : len,
             o->secure ? "DTLS record" : "datagram", max, o->secure ? "; see --mtu" : "");
    return app_client_fail(o, cs, SECSOCK_ERR_TOO_BIG, msg);
}

static int print_reply(const unsigned char *data, size_t len)
{
    if (isatty(STDOUT_FILENO)) {
        struct term_stream ts;
        term_stream_init(&ts);
        term_stream_write(&ts, stdout, data, len);
        term_stream_finish(&ts, stdout);
        fputc('\n', stdout); /* like the seed's print() */
    } else if (fwrite(data, 1, len, stdout) != len) {
        return -1;
    }
    return fflush(stdout) == 0 ? 0 : -1;
}

static int compare_ms(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The connection, and what moving it to the name's next address needs. */
struct peer {
    const struct app_options *o;
    struct app_client_session *cs;
    secsock_conn *c;
    int cancel_fd; /* every wait's (SIGINT during --count), or -1 */
};

/* An ICMP refusal from p->c's address: the name's next address, if any.
 * Returns SECSOCK_OK, or the failure with the message in err (p->c is NULL
 * then). */
static enum secsock_status move_on(struct peer *p, char *err, size_t errlen)
{
    enum secsock_status rc = app_client_next(p->cs, &p->c, err, errlen);
    if (rc == SECSOCK_OK) {
        secsock_conn_set_timeout(p->c, p->o->timeout_ms);
        secsock_conn_set_cancel_fd(p->c, p->cancel_fd);
    }
    return rc;
}

/* One request/reply exchange with retries. An address that refuses (ICMP)
 * hands over to the next, which gets the message at once, within the same
 * try's -t. Returns SECSOCK_OK with *got the reply's length in buf (0 when
 * none came), or the failure with the reason in err. */
static enum secsock_status exchange(struct peer *p, const char *msg, size_t len, unsigned char *buf,
                                    size_t *got, char *err, size_t errlen)
{
    *got = 0;
    const struct app_options *o = p->o;
    for (int attempt = 0; attempt <= o->retries; attempt++) {
        long long end = (long long)app_now_ms() + o->timeout_ms; /* this try's -t */
        ssize_t n;
        for (;;) {
            long long left = end - (long long)app_now_ms();
            secsock_conn_set_timeout(p->c, left < 1 ? 1 : left > INT_MAX ? INT_MAX : (int)left);
            n = secsock_write_all(p->c, msg, len);
            if (n == 0)
                n = secsock_read(p->c, buf, (size_t)o->max_reply);
            if (n != SECSOCK_ERR_CONNECT)
                break;
            enum secsock_status rc = move_on(p, err, errlen);
            if (rc != SECSOCK_OK)
                return rc;
        }
        secsock_conn_set_timeout(p->c, o->timeout_ms);
        if (n > 0) {
            *got = (size_t)n;
            return SECSOCK_OK;
        }
        if (n != SECSOCK_ERR_TIMEOUT && n != 0) {
            snprintf(err, errlen, "%s", secsock_conn_error(p->c));
            return (enum secsock_status)n;
        }
        if (o->verbose && attempt < o->retries)
            app_log(stderr, "* no reply within %d ms: sending again", o->timeout_ms);
    }
    return SECSOCK_OK; /* no reply: *got is 0 */
}

/* --no-reply: the message goes once, and nothing is awaited. An ICMP
 * refusal that is back by the time the send returns (always so from this
 * host: loopback answers within the send) moves to the name's next address,
 * or fails; one from a distant host comes after we are gone (the man page
 * says so). Returns SECSOCK_OK, or a status with the reason in err. */
static enum secsock_status send_only(struct peer *p, const char *msg, size_t len, char *err,
                                     size_t errlen)
{
    for (;;) {
        enum secsock_status rc = secsock_write_all(p->c, msg, len);
        if (rc == SECSOCK_OK) {
            unsigned char scrap[1]; /* a reply already here is not wanted */
            rc = secsock_read_nowait(p->c, scrap, sizeof scrap) == SECSOCK_ERR_CONNECT
                     ? SECSOCK_ERR_CONNECT
                     : SECSOCK_OK;
        }
        if (rc != SECSOCK_ERR_CONNECT) {
            snprintf(err, errlen, "%s", rc != SECSOCK_OK ? secsock_conn_error(p->c) : "");
            return rc;
        }
        rc = move_on(p, err, errlen);
        if (rc != SECSOCK_OK)
            return rc;
    }
}

/* The statistics over the exchanges made (fewer than --count after SIGINT). */
static enum app_exit report_stats(int made, long long *rtt, int received)
{
    int lost = made - received;
    qsort(rtt, (size_t)received, sizeof *rtt, compare_ms);
    fprintf(stderr, "%d exchanges, %d replies, %d lost (%.1f%%)", made, received, lost,
            made > 0 ? 100.0 * lost / made : 0.0);
    if (received > 0)
        fprintf(stderr, ", round trip min/median/max = %.3f/%.3f/%.3f ms",
                /* NOLINTNEXTLINE(bugprone-integer-division): received / 2 is an index */
                (double)rtt[0] / 1000, (double)rtt[received / 2] / 1000,
                (double)rtt[received - 1] / 1000);
    fputc('\n', stderr);
    return received > 0 ? APP_EXIT_OK : APP_EXIT_TIMEOUT;
}

/* After Ctrl-D, a reply to the last line still on its way gets this long
 * (or -t, if shorter), as nc -q waits after end of input: the echo of a
 * line typed just before Ctrl-D is not lost. */
#define EOF_REPLY_WAIT_MS 1000

/* No MESSAGE, stdin a terminal: each line typed goes out as a datagram
 * (with its newline, as ncat -u sends it) and replies print as they come,
 * until end of input (Ctrl-D). A person's pace: no timeout, no retries. A
 * refusal (ICMP) sends the last line again to the name's next address. */
static enum app_exit interactive(struct peer *p)
{
    const struct app_options *o = p->o;
    unsigned char *buf = malloc(MESSAGE_MAX);
    unsigned char *line = malloc(MESSAGE_MAX);
    if (buf == NULL || line == NULL) {
        free(buf);
        free(line);
        return app_client_fail(o, p->cs, SECSOCK_ERR_NOMEM, "out of memory");
    }
    size_t line_len = 0;
    char err[1024];
    enum app_exit rc = APP_EXIT_OK;
    bool awaiting = false; /* the last line sent has had no reply yet */
    for (;;) {
        secsock_conn_set_cancel_fd(p->c, STDIN_FILENO);
        secsock_conn_set_timeout(p->c, INT_MAX);
        ssize_t n = secsock_read(p->c, buf, MESSAGE_MAX);
        secsock_conn_set_cancel_fd(p->c, -1);
        if (n >= 0)
            awaiting = false;
        if (n > 0) {
            if (print_reply(buf, (size_t)n) != 0) {
                rc = app_client_fail(o, p->cs, SECSOCK_ERR_IO, "cannot write to stdout");
                break;
            }
            continue;
        }
        if (n == 0)
            continue; /* an empty datagram */
        if (n == SECSOCK_ERR_CONNECT) {
            enum secsock_status m = move_on(p, err, sizeof err);
            if (m != SECSOCK_OK) {
                rc = app_client_fail(o, p->cs, m, err);
                break;
            }
        } else if (n != SECSOCK_ERR_CANCELLED) {
            rc = app_client_fail(o, p->cs, (enum secsock_status)n, secsock_conn_error(p->c));
            break;
        } else {
            ssize_t k = read(STDIN_FILENO, line, MESSAGE_MAX); /* a terminal gives a line */
            if (k <= 0)
                break;
            line_len = (size_t)k;
        }
        secsock_conn_set_timeout(p->c, o->timeout_ms);
        enum secsock_status w = secsock_write_all(p->c, line, line_len);
        if (w != SECSOCK_OK) {
            rc = app_client_fail(o, p->cs, w, secsock_conn_error(p->c));
            break;
        }
        awaiting = true;
    }
    if (rc == APP_EXIT_OK && awaiting) {
        secsock_conn_set_timeout(p->c, o->timeout_ms < EOF_REPLY_WAIT_MS ? o->timeout_ms
                                                                         : EOF_REPLY_WAIT_MS);
        ssize_t n = secsock_read(p->c, buf, MESSAGE_MAX);
        if (n > 0 && print_reply(buf, (size_t)n) != 0)
            rc = app_client_fail(o, p->cs, SECSOCK_ERR_IO, "cannot write to stdout");
    }
    free(buf);
    free(line);
    return rc;
}

static enum app_exit run(const struct app_options *o, const secsock_transport *t, const char *msg,
                         size_t len)
{
    const char *port = o->port ? o->port : "8080";
    char err[APP_ERR_LEN];
    /* A DTLS handshake is traffic already: refuse what cannot fit first.
     * (Connecting a UDP socket sends nothing; the exact check follows.) */
    if (o->secure && len > secsock_transport_max_message(t))
        return refuse_too_big(o, NULL, len, secsock_transport_max_message(t));
    secsock_conn *c = NULL;
    struct app_client_session cs;
    /* The DTLS handshake retransmits within the same budget as a message. */
    long long budget = (long long)o->timeout_ms * (o->retries + 1);
    enum secsock_status st = app_client_connect(
        o, t, port, budget > INT_MAX ? INT_MAX : (int)budget, &c, &cs, err, sizeof err);
    if (st != SECSOCK_OK)
        return app_client_fail(o, &cs, st, err);
    enum app_exit rc;
    secsock_conn_set_timeout(c, o->timeout_ms);
    size_t max = secsock_max_message(c); /* the exact figure, for the cipher negotiated */
    if (len > max) {
        rc = refuse_too_big(o, &cs, len, max);
        app_client_finish(o, &cs, c);
        secsock_close(c);
        return rc;
    }
    /* From here on a refusal may move the connection to the name's next
     * address; when none is left, the connection is gone (p.c NULL) and the
     * --json record is written already. */
    struct peer p = { .o = o, .cs = &cs, .c = c, .cancel_fd = -1 };
    if (msg == NULL) {
        rc = interactive(&p);
        if (p.c != NULL) {
            app_client_finish(o, &cs, p.c);
            secsock_close(p.c);
        }
        return rc;
    }
    if (o->no_reply) {
        st = send_only(&p, msg, len, err, sizeof err);
        rc = st == SECSOCK_OK ? APP_EXIT_OK : app_client_fail(o, &cs, st, err);
        if (p.c != NULL) {
            app_client_finish(o, &cs, p.c);
            secsock_close(p.c);
        }
        return rc;
    }
    unsigned char *buf = malloc((size_t)o->max_reply);
    long long *rtt = calloc((size_t)o->count, sizeof *rtt);
    int received = 0, made = 0;
    rc = APP_EXIT_OK;
    if (o->count > 1 && catch_interrupt() == 0) {
        p.cancel_fd = interrupt_pipe[0];
        secsock_conn_set_cancel_fd(p.c, p.cancel_fd);
    }
    for (int i = 0; buf != NULL && rtt != NULL && i < o->count && rc == APP_EXIT_OK; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        size_t got = 0;
        st = exchange(&p, msg, len, buf, &got, err, sizeof err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (st == SECSOCK_ERR_CANCELLED)
            break; /* SIGINT: this exchange does not count */
        made++;
        if (st != SECSOCK_OK) {
            rc = app_client_fail(o, &cs, st, err);
        } else if (got > 0) {
            rtt[received++] =
                (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
            if (o->count == 1 && print_reply(buf, got) != 0)
                rc = app_client_fail(o, &cs, SECSOCK_ERR_IO, "cannot write to stdout");
            if (secsock_datagram_truncated(p.c)) {
                snprintf(err, sizeof err,
                         "reply truncated: the datagram was longer than %d bytes "
                         "(see --max-reply)",
                         o->max_reply);
                rc = app_client_fail(o, &cs, SECSOCK_ERR_TRUNCATED, err);
            }
        }
    }
    if (buf == NULL || rtt == NULL)
        rc = app_client_fail(o, &cs, SECSOCK_ERR_NOMEM, "out of memory");
    else if (rc == APP_EXIT_OK && o->count > 1 &&
             (rc = report_stats(made, rtt, received)) != APP_EXIT_OK) {
        cs.status = SECSOCK_ERR_TIMEOUT; /* the statistics line said it on stderr */
        snprintf(cs.error, sizeof cs.error, "no reply to any of %d exchanges", made);
    } else if (rc == APP_EXIT_OK && received == 0) {
        if (o->retries == 0)
            snprintf(err, sizeof err, "no reply from %s within %d ms (-t)", secsock_conn_peer(p.c),
                     o->timeout_ms);
        else
            snprintf(err, sizeof err, "no reply from %s after %d tries of %d ms",
                     secsock_conn_peer(p.c), o->retries + 1, o->timeout_ms);
        rc = app_client_fail(o, &cs, SECSOCK_ERR_TIMEOUT, err);
    }
    free(buf);
    free(rtt);
    if (p.c != NULL) {
        app_client_finish(o, &cs, p.c);
        secsock_close(p.c);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct app_options o;
    int code = app_options_parse(&o, APP_UDP_CLIENT, argc, argv);
    if (code >= 0)
        return code; /* --help, --version or a usage error */
    char err[512];
    size_t len = 0;
    (void)signal(SIGPIPE, SIG_IGN); /* a closed stdout is an error, not a death */
    if (o.message == NULL && isatty(STDIN_FILENO) && !o.no_reply && o.count == 1) {
        secsock_transport *t = app_transport(&o, SECSOCK_CLIENT, err, sizeof err);
        if (t == NULL)
            return app_client_fail(&o, NULL, SECSOCK_ERR_CONFIG, err);
        enum app_exit rc = run(&o, t, NULL, 0);
        secsock_transport_free(t);
        return rc;
    }
    char *msg = load_message(&o, &len, err, sizeof err);
    if (msg == NULL)
        return app_client_fail(&o, NULL, SECSOCK_ERR_IO, err);
    if (len == 0) {
        /* An empty datagram reads as 0, like a closed session: nobody could
         * tell it from none. Sending nothing and waiting would only time out. */
        free(msg);
        return app_client_fail(&o, NULL, SECSOCK_ERR_CONFIG, "empty message: nothing to send");
    }
    secsock_transport *t = app_transport(&o, SECSOCK_CLIENT, err, sizeof err);
    if (t == NULL) {
        free(msg);
        return app_client_fail(&o, NULL, SECSOCK_ERR_CONFIG, err);
    }
    enum app_exit rc = run(&o, t, msg, len);
    secsock_transport_free(t);
    free(msg);
    return rc;
}
