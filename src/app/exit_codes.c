#include "exit_codes.h"

enum app_exit app_exit_code(enum secsock_status status)
{
    switch (status) {
    case SECSOCK_OK: return APP_EXIT_OK;
    case SECSOCK_ERR_CONFIG:
    case SECSOCK_ERR_TOO_BIG: return APP_EXIT_USAGE;
    case SECSOCK_ERR_RESOLVE:
    case SECSOCK_ERR_CONNECT: return APP_EXIT_CONNECT;
    case SECSOCK_ERR_HANDSHAKE:
    case SECSOCK_ERR_VERIFY: return APP_EXIT_TLS;
    case SECSOCK_ERR_TIMEOUT: return APP_EXIT_TIMEOUT;
    default: return APP_EXIT_FAILURE;
    }
}
