/*
 * secsock: one API over plain TCP, TLS, UDP and DTLS 1.2, secure by
 * default (the manual page is secsock(3)). This header includes the rest:
 *   api.h          the version, and what the library exports
 *   status.h       enum secsock_status, what calls return
 *   security.h     secsock_config: certificates, verification, versions
 *   transport.h    transports, connections, listeners, session facts
 *   trace.h        watching handshakes, records and data
 *   fingerprint.h  JA4 and JA3 of a ClientHello
 */
#ifndef SECSOCK_SECSOCK_H
#define SECSOCK_SECSOCK_H

#include "secsock/api.h"
#include "secsock/fingerprint.h"
#include "secsock/security.h"
#include "secsock/status.h"
#include "secsock/trace.h"
#include "secsock/transport.h"

#endif
