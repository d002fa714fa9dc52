#include "target.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line in err; -1. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A port as the user wrote it: 1 to 65535, digits only. */
static int valid_port(const char *s)
{
    if (*s == '\0' || strlen(s) > 5)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    long v = strtol(s, NULL, 10);
    return v >= 1 && v <= 65535;
}

/* Splits an authority (HOST, HOST:PORT, [v6], [v6]:PORT), in place. */
static int split_authority(char *a, struct target *t, const char *word, char *err, size_t errlen)
{
    if (a[0] == '[') {
        char *close = strchr(a, ']');
        if (close == NULL)
            return fail(err, errlen, "'%s': '[' without ']' around the IPv6 address", word);
        *close = '\0';
        t->host = a + 1;
        if (strchr(t->host, ':') == NULL)
            return fail(err, errlen, "'%s': brackets are for IPv6 addresses", word);
        char *rest = close + 1;
        if (*rest == ':')
            t->port = rest + 1;
        else if (*rest != '\0') {
            return fail(err, errlen, "'%s': unexpected text after ']'", word);
        }
    } else {
        t->host = a;
        char *colon = strchr(a, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            *colon = '\0'; /* HOST:PORT; two or more colons: a bare IPv6 literal */
            t->port = colon + 1;
        }
    }
    if (t->host[0] == '\0')
        return fail(err, errlen, "'%s': empty host", word);
    for (const char *h = t->host; *h; h++)
        if ((unsigned char)*h <= 0x20 || (unsigned char)*h == 0x7f || *h == '/')
            return fail(err, errlen, "'%s': not a host name or address", word);
    if (t->port != NULL && !valid_port(t->port))
        return fail(err, errlen, "'%s': invalid port: want 1 to 65535", word);
    return 0;
}

int target_parse(const char *given, int allow_url, struct target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    /* The word as messages show it: cut (the caller escapes the message
     * before it reaches a terminal). */
    char word[80 + 4];
    size_t glen = strlen(given);
    snprintf(word, sizeof word, "%.80s%s", given, glen > 80 ? "..." : "");
    const char *typed = given;
    size_t len = glen;
    if (len >= sizeof t->buf)
        return fail(err, errlen, "'%s': too long", word);
    const char *sep = strstr(typed, "://");
    if (sep != NULL) {
        size_t slen = (size_t)(sep - typed);
        if (!allow_url)
            return fail(err, errlen, "'%s': a URL is for tcp-client; give HOST PORT", word);
        if (slen == 4 && strncasecmp(typed, "http", 4) == 0)
            t->scheme = TARGET_HTTP;
        else if (slen == 5 && strncasecmp(typed, "https", 5) == 0)
            t->scheme = TARGET_HTTPS;
        else
            return fail(err, errlen, "'%s': unsupported URL scheme: use http:// or https://", word);
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        if (memchr(auth, '@', alen) != NULL)
            return fail(err, errlen, "'%s': user names in URLs are not supported", word);
        /* buf: the authority, a NUL, then the path ("/" if none). */
        memcpy(t->buf, auth, alen);
        t->buf[alen] = '\0';
        char *path = t->buf + alen + 1;
        const char *p = auth + alen;
        size_t plen = strcspn(p, "#"); /* the fragment stays with the client, as curl does */
        if (plen == 0 || p[0] != '/') {
            path[0] = '/';
            memcpy(path + 1, p, plen);
            path[plen + 1] = '\0';
        } else {
            memcpy(path, p, plen);
            path[plen] = '\0';
        }
        t->path = path;
        for (const char *c = t->path; *c; c++)
            if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
                return fail(err, errlen, "'%s': spaces and control bytes must be %%-encoded", word);
        return split_authority(t->buf, t, word, err, errlen);
    }
    memcpy(t->buf, typed, len + 1);
    return split_authority(t->buf, t, word, err, errlen);
}
