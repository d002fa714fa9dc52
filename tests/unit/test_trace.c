/*
 * Tracing (secsock/trace.h, src/transport/tracing.c) and what the programs
 * make of it (src/app/observe.c, tracefile.c): a real client and server
 * over loopback for each backend, both traced, and the record splitting
 * on its own. The formatting, in words, is test_trace_words.c's.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe.h"
#include "secsock/fingerprint.h"
#include "secsock/transport.h"
#include "testutil.h"
#include "transport/tracing.h"

/* ---- what an observer saw ---- */

#define MAX_EVENTS 512

struct seen {
    enum secsock_trace_kind kind;
    int sent;
    int has_conn, has_data;
    int version, content_type, message_type, alert_level;
    char peer[64], host[64], name[40], version_name[16];
    size_t len;
    unsigned char head[16]; /* the first bytes of data */
};

struct observer {
    pthread_mutex_t lock;
    int n;
    struct seen ev[MAX_EVENTS];
    unsigned long long data_bytes[2]; /* DATA received [0], sent [1] */
};

static void observe(void *arg, const struct secsock_trace_event *ev)
{
    struct observer *o = arg;
    pthread_mutex_lock(&o->lock);
    if (ev->kind == SECSOCK_TRACE_DATA)
        o->data_bytes[ev->sent != 0] += ev->len;
    if (o->n < MAX_EVENTS) {
        struct seen *s = &o->ev[o->n++];
        s->kind = ev->kind;
        s->sent = ev->sent;
        s->has_conn = ev->conn != NULL;
        s->has_data = ev->data != NULL;
        s->version = ev->version;
        s->content_type = ev->content_type;
        s->message_type = ev->message_type;
        s->alert_level = ev->alert_level;
        snprintf(s->peer, sizeof s->peer, "%s", ev->peer);
        snprintf(s->host, sizeof s->host, "%s", ev->host);
        snprintf(s->name, sizeof s->name, "%s", ev->message_name);
        snprintf(s->version_name, sizeof s->version_name, "%s", ev->version_name);
        s->len = ev->len;
        if (ev->data != NULL)
            memcpy(s->head, ev->data, ev->len < sizeof s->head ? ev->len : sizeof s->head);
    }
    pthread_mutex_unlock(&o->lock);
}

static void observer_init(struct observer *o)
{
    memset(o, 0, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
}

/* How many events of kind, sent or not (-1: either), named name (NULL: any). */
static int count(const struct observer *o, enum secsock_trace_kind kind, int sent, const char *name)
{
    int n = 0;
    for (int i = 0; i < o->n; i++)
        n += o->ev[i].kind == kind && (sent < 0 || o->ev[i].sent == sent) &&
             (name == NULL || strcmp(o->ev[i].name, name) == 0);
    return n;
}

static const struct seen *find(const struct observer *o, enum secsock_trace_kind kind, int sent,
                               const char *name)
{
    for (int i = 0; i < o->n; i++)
        if (o->ev[i].kind == kind && o->ev[i].sent == sent &&
            (name == NULL || strcmp(o->ev[i].name, name) == 0))
            return &o->ev[i];
    return NULL;
}

/* ---- a traced echo server in a thread, and a traced client ---- */

struct pair {
    const char *backend;
    const char *tls_max; /* "1.2" for TLS 1.2, else NULL */
    unsigned client_kinds, server_kinds;
    int keep_hello; /* secsock_config_keep_client_hello on both sides */
    struct observer client, server;
    secsock_transport *ct, *st;
    secsock_listener *l;
    pthread_t thread;
    struct testutil_session info; /* the client's, at the end */
    char reply[64];
    /* keep_hello: the ClientHello each side kept ("" when none), and the
     * length of the client's. */
    struct secsock_fingerprint client_fp, server_fp;
    size_t client_hello_len;
};

/* The fingerprints of the ClientHello c kept, or "" in fp->ja4. */
static size_t kept_fingerprint(const secsock_conn *c, struct secsock_fingerprint *fp)
{
    size_t len = 0;
    const unsigned char *hello = secsock_conn_client_hello(c, &len);
    if (hello == NULL || secsock_fingerprint_client_hello(hello, len, fp) != 0)
        fp->ja4[0] = '\0';
    return len;
}

static void *echo_once(void *arg)
{
    struct pair *p = arg;
    secsock_conn *c = NULL;
    char err[256];
    if (testutil_accept(p->l, TESTUTIL_WAIT_MS, &c, err, sizeof err) != 0)
        return NULL;
    if (secsock_handshake(c, TESTUTIL_WAIT_MS) == 0) {
        (void)kept_fingerprint(c, &p->server_fp);
        secsock_conn_set_timeout(c, TESTUTIL_WAIT_MS);
        unsigned char buf[256];
        ssize_t n = secsock_read(c, buf, sizeof buf);
        if (n > 0)
            (void)secsock_write_all(c, buf, (size_t)n);
        if (strcmp(p->backend, "udp") != 0)
            (void)secsock_read(c, buf, sizeof buf); /* until the client's end */
    }
    secsock_close(c);
    return NULL;
}

static int secure(const char *backend)
{
    return strcmp(backend, "tls") == 0 || strcmp(backend, "dtls") == 0;
}

/* One exchange of "hello trace", both sides traced as asked. */
static void run_pair(struct pair *p)
{
    observer_init(&p->client);
    observer_init(&p->server);
    secsock_config *scfg = secure(p->backend) ? testutil_server_cfg("server", 0) : NULL;
    secsock_config *ccfg = secure(p->backend) ? testutil_client_cfg(0) : NULL;
    if (p->tls_max != NULL)
        TESTUTIL_CFG_OK(ccfg, secsock_config_set_max_version(ccfg, p->tls_max));
    if (p->keep_hello) {
        TESTUTIL_CFG_OK(scfg, secsock_config_keep_client_hello(scfg, 1));
        TESTUTIL_CFG_OK(ccfg, secsock_config_keep_client_hello(ccfg, 1));
    }
    p->st = testutil_transport(p->backend, SECSOCK_SERVER, scfg);
    p->ct = testutil_transport(p->backend, SECSOCK_CLIENT, ccfg);
    if (p->server_kinds)
        secsock_transport_set_trace(p->st, p->server_kinds, observe, &p->server);
    if (p->client_kinds)
        secsock_transport_set_trace(p->ct, p->client_kinds, observe, &p->client);
    char err[256];
    ck_assert_int_eq(testutil_listener_new(p->st, "127.0.0.1", "0", 4, &p->l, err, sizeof err), 0);
    const char *port = strrchr(secsock_listener_address(p->l), ':') + 1;
    ck_assert_int_eq(pthread_create(&p->thread, NULL, echo_once, p), 0);
    struct secsock_connect_opts opts = { .host = "localhost",
                                         .port = port,
                                         .connect_addr = "127.0.0.1",
                                         .timeout_ms = TESTUTIL_WAIT_MS };
    secsock_conn *c = NULL;
    int rc = testutil_connect(p->ct, &opts, &c, err, sizeof err);
    ck_assert_msg(rc == 0, "connect over %s: %s", p->backend, err);
    p->client_hello_len = kept_fingerprint(c, &p->client_fp);
    ck_assert_int_eq(secsock_write_all(c, "hello trace", 11), 0);
    ssize_t n = secsock_read(c, p->reply, sizeof p->reply - 1);
    ck_assert_int_eq(n, 11);
    p->reply[n] = '\0';
    testutil_session(c, &p->info);
    secsock_close(c);
    pthread_join(p->thread, NULL);
    secsock_listener_free(p->l);
    secsock_transport_free(p->ct);
    secsock_transport_free(p->st);
}

#define ALL_KINDS                                                                                  \
    (SECSOCK_TRACE_CONNECT | SECSOCK_TRACE_MESSAGE | SECSOCK_TRACE_DATA | SECSOCK_TRACE_WIRE)

/* Every WIRE event is one whole record: its header's length and the event's agree. */
static void assert_whole_records(const struct observer *o, size_t header)
{
    int records = 0;
    for (int i = 0; i < o->n; i++) {
        const struct seen *s = &o->ev[i];
        if (s->kind != SECSOCK_TRACE_WIRE)
            continue;
        records++;
        ck_assert_msg(s->content_type >= 20 && s->content_type <= 23, "record type %d",
                      s->content_type);
        ck_assert_int_eq(s->content_type, s->head[0]);
        size_t body = (size_t)s->head[header - 2] << 8 | s->head[header - 1];
        ck_assert_uint_eq(s->len, header + body);
    }
    ck_assert_int_gt(records, 3);
}

START_TEST(tls13_both_sides)
{
    struct pair p = { .backend = "tls", .client_kinds = ALL_KINDS, .server_kinds = ALL_KINDS };
    run_pair(&p);
    ck_assert_str_eq(p.reply, "hello trace");
    const struct observer *c = &p.client, *s = &p.server;
    /* The client: connected first, to the name asked for, then the handshake. */
    ck_assert_int_eq(c->ev[0].kind, SECSOCK_TRACE_CONNECT);
    ck_assert_str_eq(c->ev[0].host, "localhost");
    ck_assert_int_eq(strncmp(c->ev[0].peer, "127.0.0.1:", 10), 0);
    ck_assert_int_eq(count(c, SECSOCK_TRACE_MESSAGE, 1, "ClientHello"), 1);
    const char *from_server[] = { "ServerHello", "EncryptedExtensions", "Certificate",
                                  "CertificateVerify", "Finished" };
    for (size_t i = 0; i < sizeof from_server / sizeof *from_server; i++)
        ck_assert_msg(find(c, SECSOCK_TRACE_MESSAGE, 0, from_server[i]) != NULL, "no %s in",
                      from_server[i]);
    const struct seen *hello = find(c, SECSOCK_TRACE_MESSAGE, 0, "ServerHello");
    ck_assert_int_eq(hello->version, 0x0304);
    ck_assert_str_eq(hello->version_name, "TLS 1.3");
    ck_assert_int_eq(hello->message_type, 2);
    ck_assert_int_eq(hello->head[0], 2); /* the message, its header first */
    /* The plaintext: what --json counts. */
    ck_assert_uint_eq(c->data_bytes[1], p.info.bytes_sent);
    ck_assert_uint_eq(c->data_bytes[0], p.info.bytes_received);
    ck_assert_uint_eq(c->data_bytes[1], 11);
    assert_whole_records(c, 5);
    ck_assert_int_gt(count(c, SECSOCK_TRACE_WIRE, 1, NULL), 0);
    /* The close: our close_notify, a warning. */
    const struct seen *bye = find(c, SECSOCK_TRACE_MESSAGE, 1, "close_notify");
    ck_assert_ptr_nonnull(bye);
    ck_assert_int_eq(bye->alert_level, 1);
    ck_assert_int_eq(bye->content_type, 21);
    /* The server: the same handshake from its side, every event naming the client. */
    ck_assert_int_eq(count(s, SECSOCK_TRACE_CONNECT, -1, NULL), 0);
    ck_assert_int_eq(count(s, SECSOCK_TRACE_MESSAGE, 0, "ClientHello"), 1);
    ck_assert_int_eq(count(s, SECSOCK_TRACE_MESSAGE, 1, "Certificate"), 1);
    ck_assert_uint_eq(s->data_bytes[0], 11);
    ck_assert_uint_eq(s->data_bytes[1], 11);
    assert_whole_records(s, 5);
    for (int i = 0; i < s->n; i++) {
        ck_assert_int_eq(s->ev[i].has_conn, 1);
        ck_assert_int_eq(strncmp(s->ev[i].peer, "127.0.0.1:", 10), 0);
    }
}
END_TEST

START_TEST(tls12_messages)
{
    struct pair p = { .backend = "tls", .tls_max = "1.2", .client_kinds = SECSOCK_TRACE_MESSAGE };
    run_pair(&p);
    const struct observer *c = &p.client;
    const char *from_server[] = { "ServerHello", "Certificate", "ServerKeyExchange",
                                  "ServerHelloDone", "Finished" };
    for (size_t i = 0; i < sizeof from_server / sizeof *from_server; i++)
        ck_assert_msg(find(c, SECSOCK_TRACE_MESSAGE, 0, from_server[i]) != NULL, "no %s",
                      from_server[i]);
    ck_assert_ptr_nonnull(find(c, SECSOCK_TRACE_MESSAGE, 1, "ClientKeyExchange"));
    ck_assert_str_eq(find(c, SECSOCK_TRACE_MESSAGE, 0, "ServerHello")->version_name, "TLS 1.2");
    /* Only what was asked for. */
    ck_assert_int_eq(count(c, SECSOCK_TRACE_DATA, -1, NULL), 0);
    ck_assert_int_eq(count(c, SECSOCK_TRACE_WIRE, -1, NULL), 0);
    ck_assert_int_eq(count(c, SECSOCK_TRACE_CONNECT, -1, NULL), 0);
}
END_TEST

START_TEST(dtls_cookie_exchange)
{
    struct pair p = { .backend = "dtls", .client_kinds = ALL_KINDS, .server_kinds = ALL_KINDS };
    run_pair(&p);
    ck_assert_str_eq(p.reply, "hello trace");
    const struct observer *c = &p.client, *s = &p.server;
    ck_assert_int_eq(count(c, SECSOCK_TRACE_MESSAGE, 1, "ClientHello"), 2);
    ck_assert_int_eq(count(c, SECSOCK_TRACE_MESSAGE, 0, "HelloVerifyRequest"), 1);
    ck_assert_ptr_nonnull(find(c, SECSOCK_TRACE_MESSAGE, 0, "Certificate"));
    ck_assert_str_eq(find(c, SECSOCK_TRACE_MESSAGE, 0, "ServerHello")->version_name, "DTLS 1.2");
    /* The server's listener: both ClientHellos once each, and its
     * HelloVerifyRequest, before any connection exists. */
    ck_assert_int_eq(count(s, SECSOCK_TRACE_MESSAGE, 0, "ClientHello"), 2);
    const struct seen *hvr = find(s, SECSOCK_TRACE_MESSAGE, 1, "HelloVerifyRequest");
    ck_assert_ptr_nonnull(hvr);
    ck_assert_int_eq(hvr->has_conn, 0);
    ck_assert_int_eq(hvr->has_data, 0);
    ck_assert_int_gt(hvr->len, 12);
    ck_assert_int_eq(strncmp(hvr->peer, "127.0.0.1:", 10), 0);
    /* Its record went out from the listener too. */
    int listener_records = 0;
    for (int i = 0; i < s->n; i++)
        listener_records += s->ev[i].kind == SECSOCK_TRACE_WIRE && !s->ev[i].has_conn;
    ck_assert_int_ge(listener_records, 3); /* ClientHello, HelloVerifyRequest, ClientHello */
    assert_whole_records(c, 13);
    assert_whole_records(s, 13);
    ck_assert_uint_eq(c->data_bytes[1], p.info.bytes_sent);
    ck_assert_uint_eq(c->data_bytes[0], p.info.bytes_received);
}
END_TEST

/* Tracing and keep_hello share the datagram BIOs' one callback (the
 * client's and the listener's), and sit side by side in TLS's socket BIO:
 * both on, each still gets everything. */
START_TEST(traced_and_keeping_the_client_hello)
{
    const char *backends[] = { "dtls", "tls" };
    for (int i = 0; i < 2; i++) {
        int dtls = i == 0;
        struct pair p = { .backend = backends[i],
                          .client_kinds = ALL_KINDS,
                          .server_kinds = ALL_KINDS,
                          .keep_hello = 1 };
        run_pair(&p);
        ck_assert_str_eq(p.reply, "hello trace");
        const struct observer *c = &p.client, *s = &p.server;
        /* The trace, whole. */
        assert_whole_records(c, dtls ? 13 : 5);
        assert_whole_records(s, dtls ? 13 : 5);
        ck_assert_int_eq(count(c, SECSOCK_TRACE_MESSAGE, 1, "ClientHello"), dtls ? 2 : 1);
        ck_assert_uint_eq(c->data_bytes[1], 11);
        /* The client kept its first record: the first it traced on the wire. */
        const struct seen *first = find(c, SECSOCK_TRACE_WIRE, 1, NULL);
        ck_assert_ptr_nonnull(first);
        ck_assert_uint_eq(p.client_hello_len, first->len);
        ck_assert_msg(strncmp(p.client_fp.ja4, dtls ? "dd2d" : "t13d", 4) == 0, "%s: [%s]",
                      p.backend, p.client_fp.ja4);
        if (dtls) {
            /* The server too, the ClientHello its listener let in (traced
             * there), and its fingerprints agree (they leave the cookie out). */
            int listener_records = 0;
            for (int j = 0; j < s->n; j++)
                listener_records += s->ev[j].kind == SECSOCK_TRACE_WIRE && !s->ev[j].has_conn;
            ck_assert_int_ge(listener_records, 3);
            ck_assert_str_eq(p.server_fp.ja4, p.client_fp.ja4);
            ck_assert_str_eq(p.server_fp.ja3, p.client_fp.ja3);
        } else {
            ck_assert_str_eq(p.server_fp.ja4, ""); /* a TLS server peeks instead */
        }
    }
}
END_TEST

START_TEST(plaintext_data_only)
{
    const char *backends[] = { "tcp", "udp" };
    for (int i = 0; i < 2; i++) {
        struct pair p = { .backend = backends[i],
                          .client_kinds = ALL_KINDS,
                          .server_kinds = ALL_KINDS };
        run_pair(&p);
        const struct observer *c = &p.client;
        ck_assert_int_eq(c->ev[0].kind, SECSOCK_TRACE_CONNECT);
        ck_assert_int_eq(count(c, SECSOCK_TRACE_MESSAGE, -1, NULL), 0);
        ck_assert_int_eq(count(c, SECSOCK_TRACE_WIRE, -1, NULL), 0);
        ck_assert_uint_eq(c->data_bytes[1], 11);
        ck_assert_uint_eq(c->data_bytes[0], 11);
        ck_assert_uint_eq(p.server.data_bytes[0], 11);
    }
}
END_TEST

START_TEST(untraced_and_turned_off)
{
    struct pair p = { .backend = "tls" };
    run_pair(&p);
    ck_assert_int_eq(p.client.n + p.server.n, 0);
    /* Turned off again: nothing either. */
    struct observer o;
    observer_init(&o);
    secsock_transport *t = testutil_transport("tls", SECSOCK_CLIENT, testutil_client_cfg(0));
    secsock_transport_set_trace(t, ALL_KINDS, observe, &o);
    secsock_transport_set_trace(t, ALL_KINDS, NULL, &o);
    struct secsock_connect_opts opts = { .host = "127.0.0.1", .port = "1", .timeout_ms = 500 };
    secsock_conn *c = NULL;
    char err[256];
    (void)testutil_connect(t, &opts, &c, err, sizeof err); /* refused */
    secsock_close(c);
    secsock_transport_free(t);
    ck_assert_int_eq(o.n, 0);
}
END_TEST

/* ---- the record splitter on its own ---- */

struct fake {
    secsock_transport t;
    secsock_conn c;
    struct observer o;
};

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof *f);
    observer_init(&f->o);
    f->t.trace_kinds = ALL_KINDS;
    f->t.trace_fn = observe;
    f->t.trace_arg = &f->o;
    f->c.transport = &f->t;
    snprintf(f->c.peer_text, sizeof f->c.peer_text, "192.0.2.1:443");
}

START_TEST(stream_records_from_any_pieces)
{
    static const unsigned char two[] = { 0x16, 0x03, 0x01, 0x00, 0x02, 0x01, 0x02, 0x17,
                                         0x03, 0x03, 0x00, 0x03, 0xaa, 0xbb, 0xcc };
    for (size_t piece = 1; piece <= sizeof two; piece++) {
        struct fake f;
        fake_init(&f);
        struct trace_stream *st = NULL;
        for (size_t off = 0; off < sizeof two; off += piece)
            trace_stream_bytes(&f.c, &st, 1, two + off,
                               sizeof two - off < piece ? sizeof two - off : piece);
        trace_stream_end(&f.c, st, 1);
        ck_assert_int_eq(f.o.n, 2);
        ck_assert_int_eq(f.o.ev[0].content_type, 22);
        ck_assert_str_eq(f.o.ev[0].version_name, "TLS 1.0");
        ck_assert_uint_eq(f.o.ev[0].len, 7);
        ck_assert_int_eq(f.o.ev[1].content_type, 23);
        ck_assert_str_eq(f.o.ev[1].version_name, "TLS 1.2");
        ck_assert_uint_eq(f.o.ev[1].len, 8);
        ck_assert_int_eq(f.o.ev[1].sent, 1);
        ck_assert_str_eq(f.o.ev[1].peer, "192.0.2.1:443");
    }
}
END_TEST

START_TEST(stream_not_records)
{
    /* A plaintext answer on a TLS port: bytes, as they come, never a record. */
    struct fake f;
    fake_init(&f);
    struct trace_stream *st = NULL;
    trace_stream_bytes(&f.c, &st, 0, (const unsigned char *)"HTTP/1.1 400 Bad", 16);
    trace_stream_bytes(&f.c, &st, 0, (const unsigned char *)" Request\r\n", 10);
    trace_stream_end(&f.c, st, 0);
    ck_assert_int_eq(f.o.n, 3); /* the header's 5 bytes, the rest, the next piece */
    size_t total = 0;
    for (int i = 0; i < f.o.n; i++) {
        ck_assert_int_eq(f.o.ev[i].content_type, -1);
        total += f.o.ev[i].len;
    }
    ck_assert_uint_eq(total, 26);
    /* A record cut by the close: its bytes still show. */
    fake_init(&f);
    st = NULL;
    static const unsigned char cut[] = { 0x17, 0x03, 0x03, 0x00, 0x10, 0x01, 0x02 };
    trace_stream_bytes(&f.c, &st, 0, cut, sizeof cut);
    ck_assert_int_eq(f.o.n, 0);
    trace_stream_end(&f.c, st, 0);
    ck_assert_int_eq(f.o.n, 1);
    ck_assert_int_eq(f.o.ev[0].content_type, -1);
    ck_assert_uint_eq(f.o.ev[0].len, sizeof cut);
}
END_TEST

START_TEST(datagram_records)
{
    /* Two DTLS records and a tail that is none. */
    unsigned char d[13 + 2 + 13 + 1 + 3] = { 0 };
    unsigned char *r = d;
    r[0] = 22, r[1] = 0xfe, r[2] = 0xff, r[12] = 2;
    r += 15;
    r[0] = 21, r[1] = 0xfe, r[2] = 0xfd, r[12] = 1;
    r += 14;
    memcpy(r, "xyz", 3);
    struct fake f;
    fake_init(&f);
    trace_datagram(&f.t, NULL, "192.0.2.2:4433", 0, d, sizeof d);
    ck_assert_int_eq(f.o.n, 3);
    ck_assert_str_eq(f.o.ev[0].version_name, "DTLS 1.0");
    ck_assert_uint_eq(f.o.ev[0].len, 15);
    ck_assert_int_eq(f.o.ev[1].content_type, 21);
    ck_assert_str_eq(f.o.ev[1].version_name, "DTLS 1.2");
    ck_assert_uint_eq(f.o.ev[1].len, 14);
    ck_assert_int_eq(f.o.ev[2].content_type, -1);
    ck_assert_uint_eq(f.o.ev[2].len, 3);
    ck_assert_int_eq(f.o.ev[0].has_conn, 0);
}
END_TEST

START_TEST(message_names)
{
    struct fake f;
    fake_init(&f);
    static const unsigned char hello[] = { 1, 0, 0, 0 };
    static const unsigned char odd[] = { 99, 0, 0, 0 };
    static const unsigned char alert[] = { 2, 48 };
    static const unsigned char ccs[] = { 1 };
    static const unsigned char header[] = { 22, 3, 3, 0, 4 };
    trace_message(&f.t, &f.c, "p", 1, 0x0304, 22, hello, sizeof hello);
    trace_message(&f.t, &f.c, "p", 0, 0x0304, 22, odd, sizeof odd);
    trace_message(&f.t, &f.c, "p", 0, 0x0303, 21, alert, sizeof alert);
    trace_message(&f.t, &f.c, "p", 1, 0x0303, 20, ccs, sizeof ccs);
    trace_message(&f.t, &f.c, "p", 1, 0x0303, 256, header, sizeof header); /* left out */
    ck_assert_int_eq(f.o.n, 4);
    ck_assert_str_eq(f.o.ev[0].name, "ClientHello");
    ck_assert_str_eq(f.o.ev[1].name, "unknown");
    ck_assert_int_eq(f.o.ev[1].message_type, 99);
    ck_assert_str_eq(f.o.ev[2].name, "unknown_ca");
    ck_assert_int_eq(f.o.ev[2].alert_level, 2);
    ck_assert_str_eq(f.o.ev[3].name, "");
    /* TLS 1.3's HelloRetryRequest is a ServerHello with a special random. */
    unsigned char hrr[38] = { 2, 0, 0, 34, 3, 3 };
    static const unsigned char magic[32] = { 0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                             0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                             0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                             0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c };
    memcpy(hrr + 6, magic, 32);
    trace_message(&f.t, &f.c, "p", 0, 0x0304, 22, hrr, sizeof hrr);
    ck_assert_str_eq(f.o.ev[4].name, "HelloRetryRequest");
    hrr[6] ^= 1;
    trace_message(&f.t, &f.c, "p", 0, 0x0304, 22, hrr, sizeof hrr);
    ck_assert_str_eq(f.o.ev[5].name, "ServerHello");
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *live = tcase_create("live");
    tcase_set_timeout(live, 60);
    tcase_add_test(live, tls13_both_sides);
    tcase_add_test(live, tls12_messages);
    tcase_add_test(live, dtls_cookie_exchange);
    tcase_add_test(live, traced_and_keeping_the_client_hello);
    tcase_add_test(live, plaintext_data_only);
    tcase_add_test(live, untraced_and_turned_off);
    suite_add_tcase(s, live);
    TCase *parts = tcase_create("parts");
    tcase_add_test(parts, stream_records_from_any_pieces);
    tcase_add_test(parts, stream_not_records);
    tcase_add_test(parts, datagram_records);
    tcase_add_test(parts, message_names);
    suite_add_tcase(s, parts);
    return s;
}

int main(void)
{
    testutil_pki_dir(); /* one PKI for every forked test */
    return testutil_run(trace_suite());
}
