/*
 * What a client sent, as a server logs it: the way the seed printed it, a
 * line of the log for each line of the message, but escaped, since a
 * peer's bytes must not drive the terminal or forge log lines.
 *
 * A message of one line (no line break but at its very end), or binary (a
 * NUL byte), stays on one line, escaped whole:
 *
 *     [*] Received from 127.0.0.1:50412: hello\n
 *
 * (an empty datagram is "[*] Received from 127.0.0.1:50412 (0 bytes)").
 * Anything longer is a header and one log line per line of the message:
 *
 *     [*] Received from 127.0.0.1:50412 (78 bytes):
 *       | GET / HTTP/1.1
 *       | User-Agent: curl/7.88.1
 *       |
 *
 * A CR LF line end is the line break; a bare LF shows as "\n" before it;
 * every other control byte is escaped as term_escape_line does ("\r",
 * "\t", "\\", "\xHH"), so no line of the message can start a log line of
 * its own. A binary message is one line, not cut at its 0x0a bytes. Lines
 * over RECEIVED_LINE_MAX bytes, and messages over
 * RECEIVED_SHOWN_MAX bytes or RECEIVED_LINES_MAX lines, are cut, with a
 * "  + (...)" note the peer cannot forge (its lines all start "  | ").
 */
#ifndef SECSOCK_APP_RECEIVED_H
#define SECSOCK_APP_RECEIVED_H

#include <stddef.h>

#include "log.h"

#define RECEIVED_LINE_MAX 1024
#define RECEIVED_LINES_MAX 200
#define RECEIVED_SHOWN_MAX 16384

/* Adds the lines for len bytes of data from peer to e. */
void received_add(struct app_log_entry *e, const char *peer, const unsigned char *data, size_t len);

#endif
