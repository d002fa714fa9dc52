/*
 * Where a client goes, as the user wrote it: a URL (http://HOST[:PORT]/PATH,
 * https://...), "[IPv6]" or "[IPv6]:PORT", "HOST:PORT", or a bare HOST
 * (a bare IPv6 literal like ::1 included). Pure parsing, no resolution.
 */
#ifndef SECSOCK_APP_TARGET_H
#define SECSOCK_APP_TARGET_H

#include <stddef.h>

enum target_scheme {
    TARGET_NONE = 0, /* no scheme: HOST, HOST:PORT, [v6]:PORT */
    TARGET_HTTP,
    TARGET_HTTPS,
};

struct target {
    enum target_scheme scheme;
    const char *host; /* no brackets; points into buf */
    const char *port; /* NULL when the word names none */
    const char *path; /* URLs: "/PATH?QUERY" ("/" when empty); else NULL */
    char buf[2048];
};

/* Parses word into t. allow_url: http:// and https:// URLs are accepted
 * (tcp-client); HOST, [IPv6] and HOST:PORT always are. Returns 0, or -1
 * with err naming what is wrong (quoting the word as typed: escape it
 * before it reaches a terminal). */
int target_parse(const char *word, int allow_url, struct target *t, char *err, size_t errlen);

#endif
