#include "hints.h"

#include <stdio.h>
#include <string.h>

/* What a failure is about (a phrase the library's message carries, NULL
 * for any), the status it comes with, and the options that fix it. */
static const struct hint {
    enum secsock_status status;
    int datagram; /* 1: only for UDP/DTLS; 0: for any */
    const char *about;
    const char *options;
} hints[] = {
    { SECSOCK_ERR_TOO_BIG, 1, "DTLS record", "--mtu" },
    { SECSOCK_ERR_CONFIG, 1, "DTLS 1.3 needs", "--tls-max 1.2" },
    { SECSOCK_ERR_HANDSHAKE, 0, "requires a client certificate", "--cert, --key" },
};

void app_add_hint(enum secsock_status status, int datagram, char *msg, size_t len)
{
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        const struct hint *h = &hints[i];
        if (h->status != status || (h->datagram && !datagram) ||
            (h->about != NULL && strstr(msg, h->about) == NULL) ||
            strstr(msg, h->options) != NULL) /* said already */
            continue;
        size_t used = strlen(msg);
        if (used < len)
            snprintf(msg + used, len - used, " (see %s)", h->options);
        return;
    }
}
