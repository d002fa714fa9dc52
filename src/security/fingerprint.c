/*
 * JA4 (FoxIO's specification, technical_details/JA4.md) and JA3
 * (Salesforce's, as Wireshark computes it) from a parsed ClientHello.
 * Only OpenSSL's digests are used: SHA-256 for JA4, MD5 for JA3.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "secsock/fingerprint.h"
#include "secsock/transport.h"
#include "security/fingerprint_internal.h"

#define EXT_SERVER_NAME 0x0000
#define EXT_ALPN 0x0010

/* The values of v that are not GREASE, in order, into out. Returns how many. */
static size_t without_grease(const struct hello_values *v, uint16_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < v->count; i++) {
        unsigned x = hello_value(v, i);
        if (!hello_is_grease(x))
            out[n++] = (uint16_t)x;
    }
    return n;
}

static int by_value(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* "002f,0035,...": JA4's lists, into s (room for 5 * n + 1). Returns the length. */
static size_t hex_list(char *s, const uint16_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            s[len++] = ',';
        for (int shift = 12; shift >= 0; shift -= 4)
            s[len++] = hex[(v[i] >> shift) & 0xf];
    }
    s[len] = '\0';
    return len;
}

/* The lower-case hex digest of s under md ("MD5", "SHA256"), its first
 * digits cut to outlen - 1. 0, or -1 when the digest is not available. */
static int digest_hex(const char *md, const char *s, size_t len, char *out, size_t outlen)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    size_t dlen = 0;
    out[0] = '\0';
    if (!EVP_Q_digest(NULL, md, NULL, s, len, d, &dlen))
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < dlen && n + 2 < outlen; i++, n += 2)
        snprintf(out + n, 3, "%02x", d[i]);
    out[outlen - 1 < 2 * dlen ? outlen - 1 : 2 * dlen] = '\0';
    return 0;
}

/* JA4's 12-digit hash of a list, or twelve zeros for an empty one (the
 * specification's way to show that nothing was there). */
static int hash12(const char *s, size_t len, int empty, char out[13])
{
    if (empty) {
        memcpy(out, "000000000000", 13);
        return 0;
    }
    return digest_hex("SHA256", s, len, out, 13);
}

/* The newer of two versions; DTLS counts down (0xfefd is 1.2, 0xfefc 1.3). */
static int newer(unsigned a, unsigned b, int dtls)
{
    if (dtls && (a >> 8) == 0xfe && (b >> 8) == 0xfe)
        return a < b;
    return a > b;
}

/* The version JA4 shows: the newest in supported_versions if the client
 * sent that extension, else the hello's own version field (the record's
 * is ignored). */
static const char *ja4_version(const struct client_hello *ch)
{
    static const struct {
        unsigned v;
        const char *s;
    } names[] = {
        { 0x0304, "13" }, { 0x0303, "12" }, { 0x0302, "11" }, { 0x0301, "10" }, { 0x0300, "s3" },
        { 0x0002, "s2" }, { 0xfeff, "d1" }, { 0xfefd, "d2" }, { 0xfefc, "d3" },
    };
    unsigned v = ch->legacy_version;
    int found = 0;
    for (size_t i = 0; ch->has_supported_versions && i < ch->supported_versions.count; i++) {
        unsigned x = hello_value(&ch->supported_versions, i);
        if (hello_is_grease(x) || (found && !newer(x, v, ch->dtls)))
            continue;
        v = x;
        found = 1;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].v == v)
            return names[i].s;
    return "00";
}

static int alnum(unsigned char b)
{
    return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
}

/* The first and last characters of the first ALPN name ("h2", "h1" for
 * http/1.1); "00" for none; where either byte is not alphanumeric, the
 * first hex digit of the first byte and the last of the last byte. */
static void ja4_alpn(const struct client_hello *ch, char out[3])
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *a = ch->alpn_first;
    size_t n = ch->alpn_first_len;
    if (a == NULL || n == 0) {
        memcpy(out, "00", 3);
        return;
    }
    if (alnum(a[0]) && alnum(a[n - 1])) {
        out[0] = (char)a[0];
        out[1] = (char)a[n - 1];
    } else {
        out[0] = hex[a[0] >> 4];
        out[1] = hex[a[n - 1] & 0xf];
    }
    out[2] = '\0';
}

static size_t cap99(size_t n)
{
    return n > 99 ? 99 : n;
}

int fingerprint_ja4(const struct client_hello *ch, char ja4[40], char *raw, size_t rawlen)
{
    size_t total = ch->ciphers.count + ch->extension_count + ch->sigalgs.count;
    uint16_t *values = malloc((total + 1) * sizeof *values);
    char *text = malloc(5 * total + 2);
    if (values == NULL || text == NULL) {
        free(values);
        free(text);
        return SECSOCK_ERR_NOMEM;
    }
    uint16_t *ciphers = values;
    size_t nciphers = without_grease(&ch->ciphers, ciphers);
    uint16_t *exts = ciphers + nciphers;
    client_hello_extension_types(ch, exts);
    size_t nexts = 0, counted = 0;
    for (size_t i = 0; i < ch->extension_count; i++) {
        if (hello_is_grease(exts[i]))
            continue;
        counted++; /* the count includes SNI and ALPN; the hash does not */
        if (exts[i] != EXT_SERVER_NAME && exts[i] != EXT_ALPN)
            exts[nexts++] = exts[i];
    }
    uint16_t *sigs = exts + nexts;
    size_t nsigs = without_grease(&ch->sigalgs, sigs);
    qsort(ciphers, nciphers, sizeof *ciphers, by_value);
    qsort(exts, nexts, sizeof *exts, by_value);

    char alpn[3], a[16];
    ja4_alpn(ch, alpn);
    snprintf(a, sizeof a, "%c%s%c%02zu%02zu%s", ch->dtls ? 'd' : 't', ja4_version(ch),
             ch->has_sni ? 'd' : 'i', cap99(nciphers), cap99(counted), alpn);

    char b[13], c[13];
    size_t blen = hex_list(text, ciphers, nciphers);
    int rc = hash12(text, blen, nciphers == 0, b);
    if (raw != NULL)
        snprintf(raw, rawlen, "%s_%s_", a, text);
    size_t clen = hex_list(text, exts, nexts);
    if (nsigs > 0) {
        text[clen++] = '_';
        clen += hex_list(text + clen, sigs, nsigs);
    }
    if (rc == 0)
        rc = hash12(text, clen, nexts == 0, c);
    if (raw != NULL) {
        size_t used = strlen(raw);
        snprintf(raw + used, rawlen - used, "%s", text);
    }
    if (rc == 0)
        snprintf(ja4, 40, "%s_%s_%s", a, b, c);
    free(values);
    free(text);
    return rc == 0 ? 0 : SECSOCK_ERR_NOMEM;
}

/* JA3's lists: decimal, joined by '-', GREASE left out. */
static size_t decimal_list(char *s, const struct hello_values *v)
{
    size_t len = 0;
    for (size_t i = 0; i < v->count; i++) {
        unsigned x = hello_value(v, i);
        if (!hello_is_grease(x))
            len += (size_t)sprintf(s + len, "%s%u", len > 0 ? "-" : "", x);
    }
    return len;
}

int fingerprint_ja3(const struct client_hello *ch, char *ja3, size_t ja3len, char hash[33])
{
    /* At most 5 digits and a separator per value, and the version. */
    size_t values =
        ch->ciphers.count + ch->extension_count + ch->groups.count + ch->point_formats.count;
    char *s = malloc(6 * values + 16);
    uint16_t *types = malloc((ch->extension_count + 1) * sizeof *types);
    if (s == NULL || types == NULL) {
        free(s);
        free(types);
        return SECSOCK_ERR_NOMEM;
    }
    client_hello_extension_types(ch, types);
    size_t len = (size_t)sprintf(s, "%u,", ch->legacy_version);
    len += decimal_list(s + len, &ch->ciphers);
    s[len++] = ',';
    size_t shown = 0;
    for (size_t i = 0; i < ch->extension_count; i++)
        if (!hello_is_grease(types[i]))
            len += (size_t)sprintf(s + len, "%s%u", shown++ > 0 ? "-" : "", types[i]);
    s[len++] = ',';
    len += decimal_list(s + len, &ch->groups);
    s[len++] = ',';
    len += decimal_list(s + len, &ch->point_formats);
    s[len] = '\0';

    if (digest_hex("MD5", s, len, hash, 33) != 0)
        hash[0] = '\0'; /* no MD5 here (FIPS): the string still says it all */
    if (len < ja3len)
        memcpy(ja3, s, len + 1);
    else if (ja3len > 0)
        snprintf(ja3, ja3len, "%.*s...", (int)(ja3len > 4 ? ja3len - 4 : 0), s);
    free(s);
    free(types);
    return 0;
}

enum secsock_status secsock_fingerprint_client_hello(const void *hello, size_t len,
                                                     struct secsock_fingerprint *fp)
{
    memset(fp, 0, sizeof *fp);
    struct client_hello ch;
    int rc = client_hello_parse(hello, len, &ch);
    if (rc == 0)
        rc = fingerprint_ja4(&ch, fp->ja4, NULL, 0);
    if (rc == 0)
        rc = fingerprint_ja3(&ch, fp->ja3, sizeof fp->ja3, fp->ja3_hash);
    if (rc != 0)
        memset(fp, 0, sizeof *fp);
    return rc;
}
