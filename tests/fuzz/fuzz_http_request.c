/*
 * The request tcp-client builds from user-supplied parts (http_request_build)
 * and the -H check (http_header_check).
 *
 * Input: byte 0 picks options (bit 0: port 443 is the default instead of
 * 80; bit 1: no method, bit 2: no path, so the built-in defaults are used),
 * then NUL-separated fields: method, host, port, path, user agent, and up to
 * 64 -H headers.
 *
 * Checked: the request is built exactly when every part is acceptable (each
 * header passes http_header_check); a built request is well formed --
 * "METHOD SP PATH SP HTTP/1.1", then "Name: value" lines with token names,
 * only CRLF line ends, no other control byte but tab, an empty line at the
 * end -- so no input can smuggle in a line of its own; and an error message
 * is one line of printable ASCII, whatever bytes it quotes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_FIELDS (5 + 64)

static void check_message(const char *err)
{
    CHECK(err[0] != '\0');
    for (const char *p = err; *p; p++)
        CHECK(*p >= 0x20 && *p <= 0x7e);
}

static int is_tchar(char c)
{
    return c != '\0' && (strchr("!#$%&'*+-.^_`|~", c) != NULL || (c >= '0' && c <= '9') ||
                         (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/* The built request, line by line. */
static void check_request(const char *req, size_t len)
{
    CHECK(strlen(req) == len);
    CHECK(len >= 4 && memcmp(req + len - 4, "\r\n\r\n", 4) == 0);
    const char *line = req;
    for (int n = 0;; n++) {
        const char *eol = strstr(line, "\r\n");
        CHECK(eol != NULL);
        for (const char *p = line; p < eol; p++)
            CHECK((unsigned char)*p >= 0x20 ? *p != 0x7f : *p == '\t');
        if (eol == line) { /* the empty line ends the request */
            CHECK(eol + 2 == req + len);
            return;
        }
        if (n == 0) {
            const char *sp1 = memchr(line, ' ', (size_t)(eol - line));
            CHECK(sp1 != NULL && sp1 > line);
            for (const char *p = line; p < sp1; p++)
                CHECK(is_tchar(*p));
            CHECK(eol - sp1 > 10 && memcmp(eol - 9, " HTTP/1.1", 9) == 0);
            CHECK(memchr(sp1 + 1, ' ', (size_t)(eol - 9 - sp1 - 1)) == NULL);
            CHECK(memchr(sp1 + 1, '\t', (size_t)(eol - 9 - sp1 - 1)) == NULL);
        } else {
            const char *colon = memchr(line, ':', (size_t)(eol - line));
            CHECK(colon != NULL && colon > line);
            for (const char *p = line; p < colon; p++)
                CHECK(is_tchar(*p));
        }
        line = eol + 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int flags = data[0];
    char *text = malloc(size); /* the rest, NUL-terminated */
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    const char *field[MAX_FIELDS] = { 0 };
    size_t nfields = 0;
    for (char *p = text; nfields < MAX_FIELDS; p += strlen(p) + 1) {
        field[nfields++] = p;
        if (p + strlen(p) == text + size - 1)
            break;
    }

    char err[256];
    int headers_ok = 1;
    size_t nheaders = nfields > 5 ? nfields - 5 : 0;
    for (size_t i = 0; i < nheaders; i++) {
        err[0] = '\0';
        if (http_header_check(field[5 + i], err, sizeof err) != 0) {
            check_message(err);
            headers_ok = 0;
        }
    }

    struct http_request_spec spec = {
        .method = flags & 2 ? NULL : field[0],
        .host = field[1],
        .port = field[2],
        .default_port = flags & 1 ? 443 : 80,
        .path = flags & 4 ? NULL : field[3],
        .user_agent = field[4],
        .headers = field + 5,
        .nheaders = nheaders,
    };
    size_t len = 0;
    err[0] = '\0';
    char *req = http_request_build(&spec, &len, err, sizeof err);
    if (req != NULL) {
        CHECK(headers_ok);
        check_request(req, len);
        free(req);
    } else {
        check_message(err);
    }
    free(text);
    return 0;
}
