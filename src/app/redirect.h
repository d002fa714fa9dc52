/*
 * tcp-client --location: the absolute URL a redirect's Location names,
 * relative to the request that got it (RFC 3986 5.2, in the forms servers
 * send: an absolute URL, //HOST/PATH, /PATH, PATH, ?QUERY).
 */
#ifndef SECSOCK_APP_REDIRECT_H
#define SECSOCK_APP_REDIRECT_H

#include <stddef.h>

/* The request's URL was scheme (secure: https, else http) host, port
 * (NULL: the scheme's default) and path. Writes the absolute URL of
 * location to out; 0, or -1 when it does not fit or names no URL. */
int redirect_resolve(int secure, const char *host, const char *port, const char *path,
                     const char *location, char *out, size_t outlen);

#endif
