#include "ech_retry.h"

#include <string.h>

enum app_ech_retry app_ech_retry_wanted(const secsock_conn *c)
{
    if (c == NULL || secsock_conn_ech_status(c) != SECSOCK_ECH_REJECTED ||
        secsock_conn_ech_retry_config_list(c)[0] == '\0')
        return APP_ECH_NO_RETRY;
    return secsock_conn_verified(c) ? APP_ECH_RETRY : APP_ECH_UNAUTHENTICATED;
}

secsock_transport *app_ech_retry_transport(const struct app_options *o, const char *configs,
                                           char *err, size_t errlen)
{
    /* Every other option as the user gave it: the same verification,
     * ALPN, versions, and --ech hard if it was asked for. */
    struct app_options retry = *o;
    retry.ech_config = configs;
    return app_transport(&retry, SECSOCK_CLIENT, err, errlen);
}

int app_ech_retry_address(const secsock_conn *c, char *addr, size_t len)
{
    const char *peer = secsock_conn_peer(c); /* "ADDR:PORT" or "[ADDR]:PORT" */
    const char *start = peer, *end = strrchr(peer, ':');
    if (peer[0] == '[') {
        start = peer + 1;
        end = strchr(start, ']');
    }
    if (end == NULL || end == start || (size_t)(end - start) >= len)
        return -1;
    memcpy(addr, start, (size_t)(end - start));
    addr[end - start] = '\0';
    return 0;
}
