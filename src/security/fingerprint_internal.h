/* The fingerprints of a parsed ClientHello (fingerprint.c), with JA4's raw
 * form (JA4_r: the lists before they are hashed) for tests and debugging. */
#ifndef SECSOCK_SECURITY_FINGERPRINT_INTERNAL_H
#define SECSOCK_SECURITY_FINGERPRINT_INTERNAL_H

#include <stddef.h>

#include "security/client_hello.h"

/* JA4 into ja4 (40 bytes); raw, unless NULL, gets JA4_r, cut to rawlen.
 * 0, or SECSOCK_ERR_NOMEM. */
int fingerprint_ja4(const struct client_hello *ch, char ja4[40], char *raw, size_t rawlen);

/* JA3's string into ja3 (cut to ja3len, ending in "..." when cut) and its
 * MD5 into hash ("" when MD5 is not available). 0, or SECSOCK_ERR_NOMEM. */
int fingerprint_ja3(const struct client_hello *ch, char *ja3, size_t ja3len, char hash[33]);

#endif
