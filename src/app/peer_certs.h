/*
 * The peer's certificates for people: -v's lines for the chain it sent
 * (whether or not it was accepted), and the fixes a client suggests when
 * verification refused it.
 */
#ifndef SECSOCK_APP_PEER_CERTS_H
#define SECSOCK_APP_PEER_CERTS_H

#include <stdio.h>

#include "secsock/transport.h"

/* Each certificate the peer sent, leaf first: subject, issuer, SAN,
 * validity, fingerprint and public-key pin, each line starting with
 * prefix ("peer certificate: none" when it sent none). */
void app_print_peer_certs(FILE *f, const char *prefix, const secsock_conn *c);

/* After SECSOCK_ERR_VERIFY: appends to msg (a string in a buffer of
 * msglen bytes) what the user can do about it, naming the options and the
 * refused certificate's own pin, ready to paste. */
void app_append_verify_fixes(const secsock_conn *c, char *msg, size_t msglen);

#endif
