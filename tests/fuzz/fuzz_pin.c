/*
 * --pin: secsock_parse_pin() on arbitrary text. The input (cut at its first
 * NUL) is the pin as the user typed it. A pin that parses, written back as
 * "sha256:" and 64 hex digits -- upper or lower case, with or without the
 * colons the library itself prints -- must parse to the same 32 bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secsock/security.h"

/* "sha256:" + 32 bytes as hex, colon-separated if colons, + NUL. */
static void format_pin(const unsigned char pin[32], int upper, int colons, char out[104])
{
    size_t n = (size_t)sprintf(out, "%s", upper ? "SHA256:" : "sha256:");
    for (int i = 0; i < 32; i++)
        n += (size_t)sprintf(out + n, upper ? "%s%02X" : "%s%02x", colons && i ? ":" : "",
                             pin[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    unsigned char pin[32];
    if (secsock_parse_pin(text, pin) == 0) {
        for (int form = 0; form < 4; form++) {
            char again[104];
            unsigned char pin2[32];
            format_pin(pin, form & 1, form & 2, again);
            if (secsock_parse_pin(again, pin2) != 0 || memcmp(pin, pin2, 32) != 0) {
                fprintf(stderr, "pin round trip failed: '%s' -> '%s'\n", text, again);
                abort();
            }
        }
    }
    free(text);
    return 0;
}
