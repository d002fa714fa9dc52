/*
 * --pin: secsock_parse_pin() on arbitrary text. The input (cut at its first
 * NUL) is the pin as the user typed it. A pin that parses must parse again,
 * to the same kind and the same 32 bytes, when written back in every
 * spelling of its kind: a certificate pin as "sha256:" and 64 hex digits
 * (upper or lower case, with or without the colons the library prints), a
 * key pin as "sha256//" and base64 (with or without the "=", the prefix in
 * either case). And its canonical spelling is what it was typed as, but for
 * case, colons and the "=".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "secsock/security.h"

/* "sha256:" + 32 bytes as hex, colon-separated if colons, + NUL. */
static void format_hex(const unsigned char pin[32], int upper, int colons, char out[104])
{
    size_t n = (size_t)sprintf(out, "%s", upper ? "SHA256:" : "sha256:");
    for (int i = 0; i < 32; i++)
        n += (size_t)sprintf(out + n, upper ? "%s%02X" : "%s%02x", colons && i ? ":" : "", pin[i]);
}

/* "sha256//" + 32 bytes in base64, with or without its "=", + NUL. */
static void format_base64(const unsigned char pin[32], int upper, int padded, char out[104])
{
    unsigned char b64[45];
    EVP_EncodeBlock(b64, pin, 32);
    if (!padded)
        b64[43] = '\0';
    sprintf(out, "%s%s", upper ? "SHA256//" : "sha256//", (const char *)b64);
}

static void check_round_trip(const char *text, enum secsock_pin_kind kind,
                             const unsigned char pin[32])
{
    for (int form = 0; form < 4; form++) {
        char again[104];
        unsigned char pin2[32];
        if (kind == SECSOCK_PIN_SPKI)
            format_base64(pin, form & 1, form & 2, again);
        else
            format_hex(pin, form & 1, form & 2, again);
        enum secsock_pin_kind kind2 = SECSOCK_PIN_CERT;
        if (secsock_parse_pin(again, pin2, &kind2) != SECSOCK_OK || kind2 != kind ||
            memcmp(pin, pin2, 32) != 0) {
            fprintf(stderr, "pin round trip failed: '%s' -> '%s'\n", text, again);
            abort();
        }
        /* A key pin is compared as text by curl: only its canonical
         * spelling may be accepted (the "=" and the prefix's case aside). */
        int canonical = strncasecmp(text, again, 8) == 0 && strncmp(text + 8, again + 8, 43) == 0 &&
                        (text[51] == '\0' || strcmp(text + 51, "=") == 0);
        if (kind == SECSOCK_PIN_SPKI && form == 2 && !canonical) {
            fprintf(stderr, "a non-canonical key pin parsed: '%s' (canonical '%s')\n", text, again);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    unsigned char pin[32];
    memset(pin, 0, sizeof pin);
    enum secsock_pin_kind kind = (enum secsock_pin_kind) - 1;
    enum secsock_status rc = secsock_parse_pin(text, pin, &kind);
    if (rc == SECSOCK_OK && kind != SECSOCK_PIN_CERT && kind != SECSOCK_PIN_SPKI) {
        fprintf(stderr, "unknown pin kind %d for '%s'\n", kind, text);
        abort();
    }
    if (rc == SECSOCK_OK)
        check_round_trip(text, kind, pin);
    free(text);
    return 0;
}
