/*
 * Tracing inside the library (secsock/trace.h): events are made here and
 * handed to the transport's observer, and TLS/DTLS records are cut out of
 * the bytes that cross a socket. Callers check tracing() first, so a
 * transport nobody watches pays one test of a flag.
 */
#ifndef SECSOCK_TRANSPORT_TRACING_H
#define SECSOCK_TRANSPORT_TRACING_H

#include "transport/conn.h"

static inline int tracing(const secsock_transport *t, unsigned kinds)
{
#ifdef SECSOCK_NO_TRACE_HOOKS
    (void)t, (void)kinds; /* a build that measures the hooks' cost (CMakeLists.txt) */
    return 0;
#else
    return (t->trace_kinds & kinds) != 0;
#endif
}

/* A client's socket is connected to c's peer; host is the name asked for. */
void trace_connect(const secsock_conn *c, const char *host);
/* A server's connection c is new (secsock_accept made it). */
void trace_accept(const secsock_conn *c);
/* c's handshake is over (done or failed). */
void trace_handshake(const secsock_conn *c);
/* A key-log line of c's session. */
void trace_secret(const secsock_conn *c, const char *line);
/* A direction of c's stream ended (sent: ours), reset or not. */
void trace_end(const secsock_conn *c, int sent, int reset);
/* c is being closed, its socket with a reset or not. */
void trace_close(const secsock_conn *c, int reset);
/* Application bytes through c. */
void trace_data(const secsock_conn *c, int sent, const void *data, size_t len);
/* A message as OpenSSL's message callback reports it: handshake messages,
 * alerts and change_cipher_spec become events, the rest (record headers,
 * TLS 1.3's inner content type) is left out. c is NULL before a
 * connection exists (a DTLS listener's cookie exchange). */
void trace_message(const secsock_transport *t, const secsock_conn *c, const char *peer, int sent,
                   int version, int content_type, const unsigned char *msg, size_t len);

/* A DTLS listener's HelloVerifyRequest, of which OpenSSL shows only the
 * record header: the message is named, without its bytes (data NULL). */
void trace_hello_verify(const secsock_transport *t, const char *peer, int version, size_t len);

/* One direction of a TLS stream: bytes cross the socket in any pieces,
 * and each whole record becomes one WIRE event (bytes that are no TLS
 * record pass as they come). *st is made on first use. */
struct trace_stream;
void trace_stream_bytes(const secsock_conn *c, struct trace_stream **st, int sent,
                        const unsigned char *data, size_t len);
/* The end of the stream: what is left of a cut record goes out as bytes;
 * st is freed (NULL is fine). */
void trace_stream_end(const secsock_conn *c, struct trace_stream *st, int sent);

/* One datagram that crossed the socket: each DTLS record in it is one WIRE
 * event. c is NULL for a DTLS listener's peer before it is a connection. */
void trace_datagram(const secsock_transport *t, const secsock_conn *c, const char *peer, int sent,
                    const unsigned char *data, size_t len);

#endif
