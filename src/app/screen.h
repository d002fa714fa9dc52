/*
 * What a TLS or DTLS server looks at before a client's handshake (the
 * admission loop's screen, admission.h): a plaintext HTTP request on a
 * TLS port gets a 400; with -v or --json the client's ClientHello is
 * fingerprinted (JA4, JA3), shown with -v and kept for its --json record.
 */
#ifndef SECSOCK_APP_SCREEN_H
#define SECSOCK_APP_SCREEN_H

#include "admission.h"

/* What a screen does besides the 400: the admission hooks' screen_arg. */
struct screen_policy {
    int fingerprints; /* fingerprint each ClientHello (-v, --json) */
    int show;         /* and show it (-v) */
};

/* tcp-server --tls: peeks at the client's first bytes (with fingerprints,
 * its whole first record, waiting while it is incomplete). arg is a
 * struct screen_policy. */
int screen_tls(void *arg, struct admission *a);

/* udp-server --dtls with fingerprints: the ClientHello the library let
 * in. arg is a struct screen_policy. */
int screen_dtls(void *arg, struct admission *a);

#endif
