/*
 * secsock status codes: what every call that can fail returns (a count,
 * where a call moves bytes, is positive). The reason, in words, is kept by
 * the object the call was on: secsock_config_error(), secsock_conn_error(),
 * secsock_transport_error(), secsock_listener_error().
 */
#ifndef SECSOCK_STATUS_H
#define SECSOCK_STATUS_H

#include "secsock/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Negative results. 0 and positive counts mean success. */
enum secsock_status {
    SECSOCK_OK = 0,
    SECSOCK_ERR_IO = -1,        /* a socket error, a reset */
    SECSOCK_ERR_RESOLVE = -2,   /* name resolution failed */
    SECSOCK_ERR_CONNECT = -3,   /* connection refused, unreachable */
    SECSOCK_ERR_HANDSHAKE = -4, /* TLS handshake failed */
    SECSOCK_ERR_VERIFY = -5,    /* the peer's certificate was refused */
    SECSOCK_ERR_TIMEOUT = -6,   /* nothing happened within the timeout */
    SECSOCK_ERR_TRUNCATED = -7, /* TLS peer closed without close_notify */
    SECSOCK_ERR_CONFIG = -8,    /* bad configuration: files, names, lists */
    SECSOCK_ERR_PROTOCOL = -9,  /* the peer broke the protocol */
    SECSOCK_WANT_READ = -10,    /* non-blocking calls only: retry when readable */
    SECSOCK_WANT_WRITE = -11,   /* non-blocking calls only: retry when writable */
    SECSOCK_ERR_NOMEM = -12,
    SECSOCK_ERR_CANCELLED = -13, /* the cancel descriptor became readable */
    SECSOCK_ERR_TOO_BIG = -14,   /* a message larger than one datagram can carry */
};

/* A short English name for a status, e.g. "timeout"; "unknown error" for a
 * value that is none of the above. Never NULL; static. Thread-safe. */
SECSOCK_API const char *secsock_status_name(enum secsock_status status);

#ifdef __cplusplus
}
#endif
#endif
