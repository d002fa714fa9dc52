/*
 * --pcap FILE: the program's connections as a pcapng capture (pcapng.h),
 * made from the library's trace events (secsock/trace.h) instead of a
 * packet capture, so it needs neither root nor tshark. Plaintext
 * transports give their DATA (what went on the wire); TLS and DTLS give
 * their WIRE records and their session secrets, held back until each
 * handshake is over so that the secrets precede the records they decrypt.
 * One file per process: a server's clients all go into it, from any
 * thread.
 */
#ifndef SECSOCK_APP_CAPTURE_H
#define SECSOCK_APP_CAPTURE_H

#include <stddef.h>

#include "secsock/trace.h"

/* Opens path for the process (created 0600, emptied; later calls with the
 * capture open do nothing), closed at exit. "-" is refused: a capture is
 * binary, and stdout is the program's. Returns 0, or -1 with the reason
 * in err. */
int capture_open(const char *path, char *err, size_t errlen);

/* The trace events a capture needs from a transport (secure: TLS/DTLS). */
unsigned capture_kinds(int secure);

/* One trace event into the capture (thread-safe); other kinds are ignored. */
void capture_event(const struct secsock_trace_event *ev, int secure);

#endif
