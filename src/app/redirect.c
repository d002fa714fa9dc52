#include "redirect.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Whether s starts with "SCHEME:" (RFC 3986 3.1: a letter, then letters,
 * digits, '+', '-' or '.'). */
static int has_scheme(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    for (s++; *s != '\0' && *s != '/' && *s != '?' && *s != '#'; s++)
        if (*s == ':')
            return 1;
    return 0;
}

static int fits(int n, size_t outlen)
{
    return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

int redirect_resolve(int secure, const char *host, const char *port, const char *path,
                     const char *location, char *out, size_t outlen)
{
    const char *scheme = secure ? "https" : "http";
    if (location[0] == '\0')
        return -1;
    if (has_scheme(location))
        return fits(snprintf(out, outlen, "%s", location), outlen);
    if (location[0] == '/' && location[1] == '/')
        return fits(snprintf(out, outlen, "%s:%s", scheme, location), outlen);
    char authority[300];
    int v6 = strchr(host, ':') != NULL;
    if (fits(snprintf(authority, sizeof authority, "%s%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "",
                      port ? ":" : "", port ? port : ""),
             sizeof authority) != 0)
        return -1;
    if (location[0] == '/')
        return fits(snprintf(out, outlen, "%s://%s%s", scheme, authority, location), outlen);
    size_t query = strcspn(path, "?");
    if (location[0] == '?')
        return fits(
            snprintf(out, outlen, "%s://%s%.*s%s", scheme, authority, (int)query, path, location),
            outlen);
    /* A relative path replaces the last segment of the request's path. */
    size_t dir = query;
    while (dir > 0 && path[dir - 1] != '/')
        dir--;
    return fits(snprintf(out, outlen, "%s://%s%.*s%s", scheme, authority, (int)dir, path, location),
                outlen);
}
