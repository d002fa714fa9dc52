/*
 * Option values that are addresses or numbers: --resolve HOST:PORT:ADDR
 * (app_parse_resolve), the IP-literal test applied to hosts and resolve
 * addresses (net_is_ip_literal), and durations (app_parse_seconds). The
 * input, cut at its first NUL, is the argument; its first byte also picks
 * the size of the split buffer, so the too-long path is hit as well.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "options.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int inside(const char *p, const char *buf, size_t buflen)
{
    return p >= buf && p < buf + buflen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *arg = malloc(size + 1);
    if (arg == NULL)
        return 0;
    memcpy(arg, data, size);
    arg[size] = '\0';

    /* The real buffer is app_options.resolve_buf[512]; a small one too. */
    size_t buflen = size > 0 && (data[0] & 1) ? 1 + data[0] % 64 : 512;
    char *buf = malloc(buflen); /* exact size: ASan sees any overrun */
    const char *host = NULL, *port = NULL, *addr = NULL;
    if (buf != NULL && app_parse_resolve(arg, buf, buflen, &host, &port, &addr) == 0) {
        CHECK(strlen(arg) < buflen);
        CHECK(inside(host, buf, buflen) && inside(port, buf, buflen) && inside(addr, buf, buflen));
        /* HOST is everything before the first ':', non-empty. */
        CHECK(host[0] != '\0' && strchr(host, ':') == NULL);
        CHECK(strncmp(arg, host, strlen(host)) == 0 && arg[strlen(host)] == ':');
        /* PORT is 1..65535 in decimal (strtol accepts a sign and blanks). */
        long p = strtol(port, NULL, 10);
        CHECK(p >= 1 && p <= 65535);
        CHECK(addr[0] != '\0');
        (void)net_is_ip_literal(addr);
    }
    (void)net_is_ip_literal(arg);

    int ms = app_parse_seconds(arg);
    CHECK(ms == -1 || (ms >= 1 && ms <= 86400000));

    free(buf);
    free(arg);
    return 0;
}
