/*
 * OpenSSL's error queue as one line of text, for every layer's messages.
 * Its own file: the context, the self-signed certificate and the
 * transport all use it, and none of them should need another for it.
 */
#include <stdio.h>

#include <openssl/err.h>

#include "security/security_internal.h"

const char *security_ssl_error_text(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
    if (reason != NULL)
        snprintf(buf, len, "%s", reason);
    else if (e != 0)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "unknown error");
    ERR_clear_error();
    return buf;
}
