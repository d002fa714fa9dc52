/*
 * The command-line side of an error: the library says what went wrong in
 * its own terms and names no option; a program appends the option that
 * fixes it, chosen here by the status (and what the message is about).
 */
#ifndef SECSOCK_APP_HINTS_H
#define SECSOCK_APP_HINTS_H

#include <stddef.h>

#include "secsock/status.h"

/* Appends to msg (a NUL-terminated line in a buffer of len bytes) the
 * options that fix a failure of this status, e.g. " (see --mtu)"; nothing
 * when none does. datagram: the program speaks UDP/DTLS. */
void app_add_hint(enum secsock_status status, int datagram, char *msg, size_t len);

#endif
