/*
 * --trace FILE: every event of a session as a time-stamped block, curl's
 * --trace layout (a header line, then offset, hex and text), so that one
 * file shows side by side what the program said (its plaintext) and what
 * an observer of the wire saw (the TLS/DTLS records). Blocks from many
 * threads never interleave: each is written at once, under the file's lock.
 */
#ifndef SECSOCK_APP_TRACEFILE_H
#define SECSOCK_APP_TRACEFILE_H

#include <stddef.h>
#include <stdio.h>

#include "secsock/trace.h"

/* FILE to write (created 0600: it holds the session in plaintext, and is
 * emptied first), or "-" for stdout. NULL with the reason in err. */
FILE *tracefile_open(const char *path, char *err, size_t errlen);

/* Writes ev as one block. plaintext: the transport has no encryption, so
 * its data blocks are what went on the wire as well (and say so). */
void tracefile_event(FILE *f, const struct secsock_trace_event *ev, int plaintext);

/* A block of text only: "TIME PEER == Info: text" (text is ours, not a peer's). */
void tracefile_info(FILE *f, const char *peer, const char *text);

/* The header line of ev's block, after the time stamp and the peer:
 * "=> Send data, 78 bytes (0x4e)", "<= Recv TLS record, handshake, TLS 1.2,
 * 127 bytes (0x7f)". Returns its length. */
size_t tracefile_header(const struct secsock_trace_event *ev, int plaintext, char *out,
                        size_t outlen);

/* curl's hex dump: per 16 bytes "OFFS: hex hex ... text", text being
 * printable ASCII with '.' for any other byte, so nothing in it can drive a
 * terminal. out needs tracefile_hexdump_size(len) bytes; returns the length
 * written (NUL-terminated). */
size_t tracefile_hexdump_size(size_t len);
size_t tracefile_hexdump(const unsigned char *data, size_t len, char *out);

#endif
