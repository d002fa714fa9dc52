/*
 * Full duplex copying for tcp-client --send-file: input goes to the peer
 * while the peer's bytes go to the sink, in one thread with poll(2), so a
 * peer that answers while we still send (an echo server) never deadlocks us.
 */
#ifndef SECSOCK_APP_PUMP_H
#define SECSOCK_APP_PUMP_H

#include <stddef.h>

#include "secsock/transport.h"

/* Receives the peer's bytes; returns 0, or -1 to stop (sink failed). */
typedef int (*pump_sink)(void *arg, const unsigned char *data, size_t len);

/* Copies in_fd to c until in_fd ends, then half-closes c, while copying c
 * to sink until the peer ends its stream. Waiting on in_fd has no time
 * limit (a person may be typing); waiting on the peer is bounded by
 * timeout_ms. Returns SECSOCK_OK, or a negative status (error text in
 * secsock_conn_error, or in err for local failures). */
enum secsock_status pump_duplex(secsock_conn *c, int in_fd, pump_sink sink, void *arg,
                                int timeout_ms, char *err, size_t errlen);

#endif
