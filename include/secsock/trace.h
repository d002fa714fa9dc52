/*
 * Watching a transport's connections (secsock(3), TRACING): a client's
 * connect, each TLS/DTLS handshake message and alert, the application's
 * bytes in plaintext, and the records as they crossed the socket, handed
 * as events to one callback. The library says what passed; what is shown,
 * and how, is the caller's. Nothing of it runs unless asked for.
 */
#ifndef SECSOCK_TRACE_H
#define SECSOCK_TRACE_H

#include <stddef.h>

#include "secsock/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct secsock_transport secsock_transport;
typedef struct secsock_conn secsock_conn;

/* What an event is; the kinds a callback asks for are OR-ed together. */
enum secsock_trace_kind {
    SECSOCK_TRACE_CONNECT = 1 << 0, /* a client's socket is connected (before any handshake) */
    SECSOCK_TRACE_MESSAGE = 1 << 1, /* a TLS/DTLS handshake message, alert or change_cipher_spec */
    SECSOCK_TRACE_DATA = 1 << 2,    /* application bytes, in plaintext, as read or written */
    SECSOCK_TRACE_WIRE = 1 << 3,    /* TLS/DTLS: one record as it crossed the socket */
    /* A connection's life, for a capture (--pcap) of it: */
    SECSOCK_TRACE_ACCEPT = 1 << 4,    /* a server's new connection (accepted, a UDP
                                     * datagram, a DTLS peer past the cookie
                                     * exchange), before any handshake */
    SECSOCK_TRACE_HANDSHAKE = 1 << 5, /* the handshake is over, done or failed */
    SECSOCK_TRACE_SECRET = 1 << 6,    /* TLS/DTLS: a session secret, as one NSS key-log
                                     * line (data, len; no newline), when OpenSSL
                                     * makes it: before the records it protects are
                                     * sent, but possibly after they were read */
    SECSOCK_TRACE_END = 1 << 7,       /* one direction of a stream ended: sent 1, we
                                     * shut it down; sent 0, a read met the peer's
                                     * end of stream (or its reset) */
    SECSOCK_TRACE_CLOSE = 1 << 8,     /* the connection is closed, its last event;
                                     * reset: the socket went with a reset (an
                                     * abort, or unread bytes left) */
};

/* One event. Names are static English strings, never NULL ("" where a
 * field does not apply); numbers are the protocol's own. Everything here
 * lives only for the call: copy what is kept. data is what a peer sent,
 * or what we sent it: escape it before it reaches a terminal. */
struct secsock_trace_event {
    enum secsock_trace_kind kind;
    int sent;                  /* 1: we sent it; 0: we received it (CONNECT: 1) */
    const secsock_conn *conn;  /* NULL for a DTLS server's cookie exchange: no
                                 * connection exists yet */
    const char *peer;          /* the peer, "ADDR:PORT" ("[ADDR]:PORT" for IPv6) */
    const char *host;          /* CONNECT: the name connected to (the connect
                                 * options' host, whatever address it became) */
    int version;               /* MESSAGE: the protocol version in use (0x0304 TLS
                                 * 1.3, 0xfefd DTLS 1.2); WIRE: the record header's;
                                 * else 0 */
    const char *version_name;  /* "TLS 1.3", "DTLS 1.2", "unknown"; "" for 0 */
    int content_type;          /* MESSAGE, WIRE: 20 change_cipher_spec, 21 alert,
                                 * 22 handshake, 23 application_data; -1 for bytes
                                 * that are not (a whole) record; else 0 */
    const char *content_name;  /* "handshake", ...; "" */
    int message_type;          /* MESSAGE: the handshake type (1 ClientHello, ...)
                                 * or the alert description (0 close_notify, ...);
                                 * else -1 */
    const char *message_name;  /* "ClientHello", "HelloRetryRequest",
                                 * "close_notify", "unknown"; "" */
    int alert_level;           /* MESSAGE alerts: 1 warning, 2 fatal; else 0 */
    const unsigned char *data; /* MESSAGE: the message, its header included
                                 * (NULL for the HelloVerifyRequest a DTLS
                                 * server sends: OpenSSL shows only its size;
                                 * its bytes are in its WIRE event); DATA: the
                                 * bytes; WIRE: the record, header included;
                                 * SECRET: the key-log line; else NULL */
    size_t len;
    int reset; /* END, CLOSE: 1 for a reset (RST), 0 for an
                                 * orderly end (FIN); else 0 */
};

typedef void (*secsock_trace_fn)(void *arg, const struct secsock_trace_event *ev);

/* From now on fn(arg, event) is called for every event of the kinds asked
 * for, on the connections and listeners of t, in the thread doing the
 * I/O: a server's threads call it at once, so fn must be thread-safe
 * there. fn NULL (or kinds 0) turns it off. Call it before connections
 * and listeners are made, like the rest of a transport's setup (it is not
 * thread-safe): those made before see no MESSAGE or WIRE events (their
 * hooks are set when they are made), though turning off works for all.
 * Kinds that never come: MESSAGE, WIRE and SECRET on "tcp" and "udp"
 * (their DATA is what went on the wire); CONNECT on a server, ACCEPT on a
 * client; END on datagrams. Untraced, a transport pays one test of a flag
 * per read and write. */
SECSOCK_API void secsock_transport_set_trace(secsock_transport *t, unsigned kinds,
                                             secsock_trace_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
