/* The library's version, and the names of its statuses. */
#include "secsock/api.h"
#include "secsock/status.h"

/* The API version as text, from the header's numbers, so the two cannot
 * disagree (CMake checks the project's version against them as well). */
#define STR2(x) #x
#define STR(x) STR2(x)

const char *secsock_version(void)
{
    return STR(SECSOCK_VERSION_MAJOR) "." STR(SECSOCK_VERSION_MINOR) "." STR(SECSOCK_VERSION_PATCH);
}

const char *secsock_status_name(enum secsock_status status)
{
    switch (status) {
    case SECSOCK_OK: return "ok";
    case SECSOCK_ERR_IO: return "i/o error";
    case SECSOCK_ERR_RESOLVE: return "name resolution failed";
    case SECSOCK_ERR_CONNECT: return "connection failed";
    case SECSOCK_ERR_HANDSHAKE: return "handshake failed";
    case SECSOCK_ERR_VERIFY: return "certificate verification failed";
    case SECSOCK_ERR_TIMEOUT: return "timeout";
    case SECSOCK_ERR_TRUNCATED: return "truncated";
    case SECSOCK_ERR_CONFIG: return "configuration error";
    case SECSOCK_ERR_PROTOCOL: return "protocol error";
    case SECSOCK_WANT_READ: return "want read";
    case SECSOCK_WANT_WRITE: return "want write";
    case SECSOCK_ERR_NOMEM: return "out of memory";
    case SECSOCK_ERR_CANCELLED: return "cancelled";
    case SECSOCK_ERR_TOO_BIG: return "message too big";
    default: return "unknown error";
    }
}
