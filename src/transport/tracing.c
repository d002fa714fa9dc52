/*
 * Tracing events (see tracing.h): names for the protocol's numbers, and
 * records cut out of the bytes that cross a socket.
 */
#include <stdlib.h>
#include <string.h>

#include "transport/tracing.h"

/* ---- names (RFC 8446 and RFC 6347 spellings) ---- */

static const char *version_name(int v)
{
    switch (v) {
    case 0: return "";
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    case 0xfeff: return "DTLS 1.0";
    case 0xfefd: return "DTLS 1.2";
    case 0xfefc: return "DTLS 1.3";
    default: return "unknown";
    }
}

static const char *content_name(int type)
{
    switch (type) {
    case 20: return "change_cipher_spec";
    case 21: return "alert";
    case 22: return "handshake";
    case 23: return "application_data";
    case 24: return "heartbeat";
    case -1:
    case 0: return "";
    default: return "unknown";
    }
}

static const char *handshake_name(int type)
{
    switch (type) {
    case 0: return "HelloRequest";
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 3: return "HelloVerifyRequest";
    case 4: return "NewSessionTicket";
    case 5: return "EndOfEarlyData";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 12: return "ServerKeyExchange";
    case 13: return "CertificateRequest";
    case 14: return "ServerHelloDone";
    case 15: return "CertificateVerify";
    case 16: return "ClientKeyExchange";
    case 20: return "Finished";
    case 21: return "CertificateURL";
    case 22: return "CertificateStatus";
    case 24: return "KeyUpdate";
    case 67: return "NextProtocol";
    case 254: return "MessageHash";
    default: return "unknown";
    }
}

static const char *alert_name(int desc)
{
    switch (desc) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 111: return "certificate_unobtainable";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 114: return "bad_certificate_hash_value";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    case 121: return "ech_required"; /* RFC 9849 */
    default: return "unknown";
    }
}

/* Fills in the names and hands ev to t's observer, if it still wants it
 * (a connection keeps its hooks when the observer changes its mind). */
static void emit(const secsock_transport *t, struct secsock_trace_event *ev)
{
    if (t->trace_fn == NULL || !(t->trace_kinds & (unsigned)ev->kind))
        return;
    ev->version_name = version_name(ev->version);
    ev->content_name = content_name(ev->content_type);
    if (ev->message_name == NULL)
        ev->message_name = "";
    if (ev->peer == NULL)
        ev->peer = "";
    if (ev->host == NULL)
        ev->host = "";
    t->trace_fn(t->trace_arg, ev);
}

void trace_connect(const secsock_conn *c, const char *host)
{
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_CONNECT,
                                      .sent = 1,
                                      .conn = c,
                                      .peer = c->peer_text,
                                      .host = host,
                                      .message_type = -1 };
    emit(c->transport, &ev);
}

/* An event about c's life: only its kind and a reset. */
static void trace_life(const secsock_conn *c, enum secsock_trace_kind kind, int sent, int reset)
{
    struct secsock_trace_event ev = { .kind = kind,
                                      .sent = sent,
                                      .conn = c,
                                      .peer = c->peer_text,
                                      .message_type = -1,
                                      .reset = reset };
    emit(c->transport, &ev);
}

void trace_accept(const secsock_conn *c)
{
    trace_life(c, SECSOCK_TRACE_ACCEPT, 0, 0);
}
void trace_handshake(const secsock_conn *c)
{
    trace_life(c, SECSOCK_TRACE_HANDSHAKE, 0, 0);
}
void trace_end(const secsock_conn *c, int sent, int reset)
{
    trace_life(c, SECSOCK_TRACE_END, sent, reset);
}
void trace_close(const secsock_conn *c, int reset)
{
    trace_life(c, SECSOCK_TRACE_CLOSE, 1, reset);
}

void trace_secret(const secsock_conn *c, const char *line)
{
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_SECRET,
                                      .sent = 1,
                                      .conn = c,
                                      .peer = c->peer_text,
                                      .message_type = -1,
                                      .data = (const unsigned char *)line,
                                      .len = strlen(line) };
    emit(c->transport, &ev);
}

void trace_data(const secsock_conn *c, int sent, const void *data, size_t len)
{
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_DATA,
                                      .sent = sent,
                                      .conn = c,
                                      .peer = c->peer_text,
                                      .message_type = -1,
                                      .data = data,
                                      .len = len };
    emit(c->transport, &ev);
}

/* TLS 1.3 (RFC 8446 4.1.3): a ServerHello with this random is a
 * HelloRetryRequest. */
static const unsigned char hello_retry_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

void trace_message(const secsock_transport *t, const secsock_conn *c, const char *peer, int sent,
                   int version, int content_type, const unsigned char *msg, size_t len)
{
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_MESSAGE,
                                      .sent = sent,
                                      .conn = c,
                                      .peer = peer,
                                      .version = version,
                                      .content_type = content_type,
                                      .message_type = -1,
                                      .data = msg,
                                      .len = len };
    if (content_type == 22 && len >= 1) {
        ev.message_type = msg[0];
        ev.message_name = handshake_name(msg[0]);
        /* type, length (3), legacy_version (2), then the random; not in DTLS */
        if (msg[0] == 2 && (version >> 8) != 0xfe && len >= 38 &&
            memcmp(msg + 6, hello_retry_random, 32) == 0)
            ev.message_name = "HelloRetryRequest";
    } else if (content_type == 21 && len >= 2) {
        ev.alert_level = msg[0];
        ev.message_type = msg[1];
        ev.message_name = alert_name(msg[1]);
    } else if (content_type != 20) {
        return; /* a record header, TLS 1.3's inner content type: the wire shows them */
    }
    emit(t, &ev);
}

void trace_hello_verify(const secsock_transport *t, const char *peer, int version, size_t len)
{
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_MESSAGE,
                                      .sent = 1,
                                      .peer = peer,
                                      .version = version,
                                      .content_type = 22,
                                      .message_type = 3,
                                      .message_name = handshake_name(3),
                                      .len = len };
    emit(t, &ev);
}

/* ---- records ---- */

#define TLS_HEADER 5
#define DTLS_HEADER 13
/* The most a record can carry (RFC 5246 6.2.3: 2^14 + 2048), header included. */
#define RECORD_MAX (DTLS_HEADER + 16384 + 2048)

static void emit_wire(const secsock_transport *t, const secsock_conn *c, const char *peer, int sent,
                      int version, int content_type, const unsigned char *data, size_t len)
{
    struct secsock_trace_event ev = { .kind = SECSOCK_TRACE_WIRE,
                                      .sent = sent,
                                      .conn = c,
                                      .peer = peer,
                                      .version = version,
                                      .content_type = content_type,
                                      .message_type = -1,
                                      .data = data,
                                      .len = len };
    emit(t, &ev);
}

/* Whether h starts a record: a content type OpenSSL knows, a version of
 * the family (3.x for TLS, 254.x for DTLS), and a length a record can
 * have. Anything else (an HTTP answer on a TLS port) is passed as bytes. */
static int record_header(const unsigned char *h, int datagram, size_t *total)
{
    size_t header = datagram ? DTLS_HEADER : TLS_HEADER;
    size_t body = (size_t)h[header - 2] << 8 | h[header - 1];
    *total = header + body;
    return h[0] >= 20 && h[0] <= 24 && h[1] == (datagram ? 0xfe : 0x03) && *total <= RECORD_MAX;
}

static void emit_record(const secsock_conn *c, int sent, const unsigned char *rec, size_t len)
{
    emit_wire(c->transport, c, c->peer_text, sent, rec[1] << 8 | rec[2], rec[0], rec, len);
}

struct trace_stream {
    int raw;     /* the bytes stopped looking like records */
    size_t have; /* bytes of the record being collected */
    size_t want; /* its size, once its header is in (else 0) */
    unsigned char rec[RECORD_MAX];
};

void trace_stream_bytes(const secsock_conn *c, struct trace_stream **stp, int sent,
                        const unsigned char *data, size_t len)
{
    if (*stp == NULL && (*stp = calloc(1, sizeof **stp)) == NULL) {
        emit_wire(c->transport, c, c->peer_text, sent, 0, -1, data, len); /* no memory: as is */
        return;
    }
    struct trace_stream *st = *stp;
    while (len > 0) {
        if (st->raw) {
            emit_wire(c->transport, c, c->peer_text, sent, 0, -1, data, len);
            return;
        }
        size_t room = (st->want ? st->want : TLS_HEADER) - st->have;
        size_t take = len < room ? len : room;
        memcpy(st->rec + st->have, data, take);
        st->have += take;
        data += take;
        len -= take;
        if (st->want == 0 && st->have == TLS_HEADER && !record_header(st->rec, 0, &st->want)) {
            st->raw = 1;
            st->want = 0;
            emit_wire(c->transport, c, c->peer_text, sent, 0, -1, st->rec, st->have);
            st->have = 0;
        } else if (st->want != 0 && st->have == st->want) {
            emit_record(c, sent, st->rec, st->have);
            st->have = st->want = 0;
        }
    }
}

void trace_stream_end(const secsock_conn *c, struct trace_stream *st, int sent)
{
    if (st == NULL)
        return;
    if (st->have > 0) /* a record cut short by the close */
        emit_wire(c->transport, c, c->peer_text, sent, 0, -1, st->rec, st->have);
    free(st);
}

void trace_datagram(const secsock_transport *t, const secsock_conn *c, const char *peer, int sent,
                    const unsigned char *data, size_t len)
{
    while (len > 0) {
        size_t total = 0;
        if (len < DTLS_HEADER || !record_header(data, 1, &total) || total > len) {
            emit_wire(t, c, peer, sent, 0, -1, data, len); /* not a DTLS record */
            return;
        }
        emit_wire(t, c, peer, sent, data[1] << 8 | data[2], data[0], data, total);
        data += total;
        len -= total;
    }
}
