/*
 * What a client's HOST operand may be (target_parse): a URL, [IPv6]:PORT,
 * HOST:PORT or a bare host. The input, cut at its first NUL, is the word;
 * its first byte picks whether URLs are allowed. Whatever the word, the
 * parse succeeds with pointers inside the target, a host without spaces
 * or control bytes and a valid port, or fails with an error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int inside(const char *p, const struct target *t)
{
    return p >= t->buf && p + strlen(p) < t->buf + sizeof t->buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *word = malloc(size + 1);
    if (word == NULL)
        return 0;
    memcpy(word, data, size);
    word[size] = '\0';
    int allow_url = size > 0 && (data[0] & 1);
    struct target *t = malloc(sizeof *t);
    char err[256];
    if (t != NULL && target_parse(word, allow_url, t, err, sizeof err) == 0) {
        CHECK(t->host != NULL && inside(t->host, t) && t->host[0] != '\0');
        for (const char *h = t->host; *h; h++)
            CHECK((unsigned char)*h > 0x20 && (unsigned char)*h != 0x7f);
        if (t->port != NULL) {
            CHECK(inside(t->port, t));
            long p = strtol(t->port, NULL, 10);
            CHECK(p >= 1 && p <= 65535);
        }
        CHECK((t->scheme == TARGET_NONE) == (t->path == NULL));
        CHECK(allow_url || t->scheme == TARGET_NONE);
        if (t->path != NULL)
            CHECK(inside(t->path, t) && t->path[0] == '/');
    } else if (t != NULL) {
        CHECK(err[0] != '\0');
    }
    free(t);
    free(word);
    return 0;
}
