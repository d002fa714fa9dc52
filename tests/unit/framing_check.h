/*
 * The framing suites' check (test_http_framing*.c): a response parsed
 * whole, byte by byte and split in two at every point, which must all
 * agree, so that each test also checks that framing does not depend on
 * how the bytes arrive.
 */
#ifndef SECSOCK_TEST_FRAMING_CHECK_H
#define SECSOCK_TEST_FRAMING_CHECK_H

#include <stddef.h>

#include "http_framing.h"

struct outcome {
    enum http_framing_result res;
    size_t consumed; /* total over all feeds */
    int status;
    int until_close;
    char error[128];
    size_t body_len;
    unsigned char body[20000];
};

/* Parses data fed at once, then byte by byte and split in two at every
 * point, which must all agree; returns the outcome (static: valid until
 * the next call). */
const struct outcome *parse_all_ways(const char *data, size_t len, int head, int eof);

#define PARSE(lit, head, eof) parse_all_ways(lit, sizeof(lit) - 1, head, eof)

/* The body was expected exactly. */
void ck_body(const struct outcome *o, const char *expected);

/* The outcome is an error whose text starts with prefix. */
void ck_error_starts(const struct outcome *o, const char *prefix);

#endif
