#include "transport/hello_capture.h"

#include <stdlib.h>
#include <string.h>

#define TLS_HEADER 5
#define DTLS_HEADER 13
#define RECORD_MAX (DTLS_HEADER + 16384) /* a ClientHello is plaintext: 2^14 at most */

static size_t header_len(const struct hello_capture *hc)
{
    return hc->dtls ? DTLS_HEADER : TLS_HEADER;
}

void hello_capture_add(struct hello_capture *hc, const void *data, size_t len)
{
    if (hc->done || len == 0)
        return;
    if (hc->bytes == NULL && (hc->bytes = malloc(RECORD_MAX)) == NULL) {
        hc->done = 1;
        return;
    }
    size_t room = (hc->want > 0 ? hc->want : RECORD_MAX) - hc->len;
    size_t n = len < room ? len : room;
    memcpy(hc->bytes + hc->len, data, n);
    hc->len += n;
    size_t header = header_len(hc);
    if (hc->want == 0 && hc->len >= header) {
        hc->want = header + ((size_t)hc->bytes[header - 2] << 8 | hc->bytes[header - 1]);
        if (hc->want > RECORD_MAX) { /* no ClientHello: keep nothing */
            hello_capture_free(hc);
            hc->done = 1;
            return;
        }
        if (hc->len > hc->want)
            hc->len = hc->want; /* the next record came in the same write */
    }
    if (hc->want > 0 && hc->len == hc->want) {
        hc->done = 1;
        unsigned char *fit = realloc(hc->bytes, hc->len);
        if (fit != NULL)
            hc->bytes = fit;
    }
}

void hello_capture_set(struct hello_capture *hc, const void *data, size_t len)
{
    hello_capture_free(hc);
    hc->done = 1;
    if (len == 0 || (hc->bytes = malloc(len)) == NULL)
        return;
    memcpy(hc->bytes, data, len);
    hc->len = hc->want = len;
}

void hello_capture_free(struct hello_capture *hc)
{
    free(hc->bytes);
    hc->bytes = NULL;
    hc->len = hc->want = 0;
}
