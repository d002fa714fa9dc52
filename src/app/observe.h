/*
 * -v and --trace watching a transport: the library's trace events
 * (secsock/trace.h) become -v's lines (a client's "* Connected to ...",
 * each TLS/DTLS handshake message and alert as it passes) and --trace's
 * blocks. A transport nobody watches is never hooked, so it costs nothing.
 */
#ifndef SECSOCK_APP_OBSERVE_H
#define SECSOCK_APP_OBSERVE_H

#include <stddef.h>

#include "options.h"
#include "secsock/transport.h"

/* Hooks o's -v, --trace and --pcap to t; nothing when none is asked for.
 * The first call opens the trace file and the capture (one each per
 * process: --location's later transports write to them too), closed at
 * exit. Returns 0, or -1 with the reason in err. */
int app_observe(const struct app_options *o, secsock_transport *t, char *err, size_t errlen);

/* -v's words for a MESSAGE event: "TLS 1.3 (OUT), handshake, ClientHello
 * (512 bytes)", "TLS 1.2 (IN), alert, unknown_ca (fatal)". Returns the length. */
size_t app_describe_message(const struct secsock_trace_event *ev, char *out, size_t outlen);

/* -v's words for a CONNECT event: "Connected to NAME (ADDR) port PORT",
 * NAME escaped (it is what was typed). Returns the length. */
size_t app_describe_connect(const struct secsock_trace_event *ev, char *out, size_t outlen);

#endif
