#include "screen.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "report.h"

/* A plaintext HTTP request on a TLS port gets a plain 400 saying so, as
 * nginx and Apache answer it (curl then shows the reason, not "Empty reply
 * from server"). */
#define PLAIN_ON_TLS_BODY "This port speaks TLS: use https:// (a plain HTTP request came).\n"
#define PLAIN_ON_TLS_BODY_LEN 64
#define STR(x) #x
#define XSTR(x) STR(x)
static const char plain_on_tls_reply[] =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n"
    "Content-Length: " XSTR(PLAIN_ON_TLS_BODY_LEN) "\r\n"
                                                   "\r\n" PLAIN_ON_TLS_BODY;
_Static_assert(sizeof PLAIN_ON_TLS_BODY - 1 == PLAIN_ON_TLS_BODY_LEN, "the 400's Content-Length");

/* Whether bytes start like an HTTP/1 request line: a method token of
 * capital letters and a space. 1 yes, 0 no, -1 too few bytes to tell. */
static int looks_like_http(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] == ' ')
            return i >= 3 ? 1 : 0;
        if (b[i] < 'A' || b[i] > 'Z' || i >= 10)
            return 0;
    }
    return -1;
}

/* Enough of a request line to tell HTTP by its method. */
#define HTTP_METHOD_PEEK 12
/* A TLS client's first record, the ClientHello: plaintext, so 2^14 bytes
 * at most behind a 5-byte header. */
#define TLS_FIRST_RECORD_MAX (5 + 16384)

/* The loop wakes for fd only once n bytes wait in it (or at its end): a
 * wait for the rest of a record never spins on the part that came. */
static void wake_at(int fd, size_t n)
{
    int v = (int)n;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v); /* else: woken early */
}

/* The screen is done with a: wake-ups as before. */
static int screen_done(struct admission *a, int rc)
{
    if (a->screen_seen > 0)
        wake_at(secsock_conn_fd(a->c), 1);
    return rc;
}

/* Waits for the client's first want bytes, of which it sent have: 1, or
 * (through screen_done) 0 when nothing came since the last look, as the
 * wake-up then meant its end or a reset, for the handshake to report. */
static int wait_for(struct admission *a, size_t have, size_t want)
{
    if (have <= a->screen_seen)
        return screen_done(a, 0);
    a->screen_seen = have;
    wake_at(secsock_conn_fd(a->c), want);
    return 1;
}

/* How many bytes the TLS record that b starts takes (a handshake record:
 * 5 until its header is in), or 0 when b starts no such record. */
static size_t tls_record_want(const unsigned char *b, size_t n)
{
    if (n == 0 || b[0] != 22 || (n >= 2 && b[1] != 3))
        return 0;
    return n < 5 ? 5 : 5 + ((size_t)b[3] << 8 | b[4]);
}

/* Fingerprints a client's ClientHello (-v, --json): kept in a->fp for its
 * --json record, and shown with -v. A hello that does not parse has none. */
static void fingerprint(const struct screen_policy *sp, struct admission *a,
                        const unsigned char *hello, size_t len)
{
    a->fp = malloc(sizeof *a->fp);
    if (a->fp == NULL || secsock_fingerprint_client_hello(hello, len, a->fp) != 0) {
        free(a->fp);
        a->fp = NULL;
        return;
    }
    if (sp->show)
        app_print_fingerprint(stdout, "[*]   ", a->fp);
}

/* admission's screen for tcp-server --tls: the client's first bytes,
 * peeked before the TLS handshake reads them. Plaintext HTTP gets a 400;
 * with -v or --json the whole first record, its ClientHello, is awaited
 * and fingerprinted. */
int screen_tls(void *arg, struct admission *a)
{
    const struct screen_policy *sp = arg;
    unsigned char first[TLS_FIRST_RECORD_MAX];
    size_t room = sp->fingerprints ? sizeof first : HTTP_METHOD_PEEK;
    ssize_t n = recv(secsock_conn_fd(a->c), first, room, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 1 : screen_done(a, 0);
    size_t have = (size_t)n;
    int http =
        have == 0 ? 0 : looks_like_http(first, have < HTTP_METHOD_PEEK ? have : HTTP_METHOD_PEEK);
    if (http == -1 && have < HTTP_METHOD_PEEK)
        return wait_for(a, have, HTTP_METHOD_PEEK); /* "GE": the rest of the method */
    if (http == 1) {
        if (send(secsock_conn_fd(a->c), plain_on_tls_reply, sizeof plain_on_tls_reply - 1,
                 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* the client is gone: dropped all the same */
        }
        a->why = "a plaintext HTTP request on this TLS port: answered 400 (use https://)";
        return screen_done(a, SECSOCK_ERR_HANDSHAKE);
    }
    size_t want = sp->fingerprints ? tls_record_want(first, have) : 0;
    if (want == 0 || want > sizeof first)
        return screen_done(a, 0); /* not fingerprinted: the handshake makes of it what it is */
    if (have < want)
        return wait_for(a, have, want);
    fingerprint(sp, a, first, want);
    return screen_done(a, 0);
}

/* admission's screen for udp-server --dtls with -v or --json: the library
 * kept the ClientHello it let in (its cookie checked). */
int screen_dtls(void *arg, struct admission *a)
{
    size_t len = 0;
    const unsigned char *hello = secsock_conn_client_hello(a->c, &len);
    if (hello != NULL)
        fingerprint(arg, a, hello, len);
    return 0;
}
