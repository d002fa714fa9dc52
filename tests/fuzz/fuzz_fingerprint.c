/*
 * Client fingerprints: secsock_fingerprint_client_hello() on arbitrary
 * bytes, as a server peeks them from any client. Beyond ASan's and
 * UBSan's checks: the result is a fingerprint, a wish for more bytes or a
 * refusal; a fingerprint is well formed (JA4's 36 characters, JA3's hex
 * MD5, a JA3 string of digits, commas and dashes); it depends only on the
 * first record (bytes after it change nothing); and every shorter cut of
 * that record wants more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secsock/fingerprint.h"
#include "secsock/transport.h"

static void fail(const char *what, const struct secsock_fingerprint *fp)
{
    fprintf(stderr, "fingerprint: %s: ja4 '%s' ja3 '%s' hash '%s'\n", what, fp->ja4, fp->ja3,
            fp->ja3_hash);
    abort();
}

static int all_of(const char *s, size_t n, const char *set)
{
    return strlen(s) == n && strspn(s, set) == n;
}

static void check_well_formed(const struct secsock_fingerprint *fp)
{
    static const char hex[] = "0123456789abcdef";
    static const char digits[] = "0123456789";
    const char *j = fp->ja4;
    char a[11];
    if (strlen(j) != 36 || j[10] != '_' || j[23] != '_')
        fail("JA4 is not a_b_c", fp);
    memcpy(a, j, 10);
    a[10] = '\0';
    if ((a[0] != 't' && a[0] != 'd') || (a[3] != 'd' && a[3] != 'i') || strspn(a + 4, digits) < 4)
        fail("JA4's first part", fp);
    char b[13], c[13];
    memcpy(b, j + 11, 12);
    b[12] = '\0';
    memcpy(c, j + 24, 12);
    c[12] = '\0';
    if (!all_of(b, 12, hex) || !all_of(c, 12, hex))
        fail("JA4's hashes", fp);
    if (fp->ja3_hash[0] != '\0' && !all_of(fp->ja3_hash, 32, hex))
        fail("JA3's hash", fp);
    size_t n = strlen(fp->ja3);
    int cut = n >= 3 && strcmp(fp->ja3 + n - 3, "...") == 0;
    if (strspn(fp->ja3, "0123456789,-") != n - (cut ? 3 : 0))
        fail("JA3's string", fp);
}

/* Where the first record ends, for a record; 0 for a bare message. */
static size_t record_end(const uint8_t *data, size_t size)
{
    if (size >= 5 && data[0] == 22 && data[1] == 3)
        return 5 + ((size_t)data[3] << 8 | data[4]);
    if (size >= 13 && data[0] == 22 && data[1] == 0xfe)
        return 13 + ((size_t)data[11] << 8 | data[12]);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct secsock_fingerprint fp;
    int rc = secsock_fingerprint_client_hello(data, size, &fp);
    if (rc != 0 && rc != SECSOCK_WANT_READ && rc != SECSOCK_ERR_PROTOCOL)
        fail("an unexpected status", &fp);
    if (rc != 0) {
        if (fp.ja4[0] != '\0' || fp.ja3[0] != '\0')
            fail("not zeroed on failure", &fp);
        return 0;
    }
    check_well_formed(&fp);
    size_t end = record_end(data, size);
    if (end == 0 || end > size)
        return 0;
    struct secsock_fingerprint alone;
    if (secsock_fingerprint_client_hello(data, end, &alone) != 0 ||
        strcmp(alone.ja4, fp.ja4) != 0 || strcmp(alone.ja3, fp.ja3) != 0)
        fail("the bytes after the record changed it", &fp);
    /* Every cut of the record wants more (a few of them: the fuzzer's
     * time goes to new inputs). */
    for (size_t cut = 0; cut < end; cut += 1 + end / 8) {
        if (secsock_fingerprint_client_hello(data, cut, &alone) != SECSOCK_WANT_READ)
            fail("a cut record did not want more", &fp);
    }
    if (secsock_fingerprint_client_hello(data, end - 1, &alone) != SECSOCK_WANT_READ)
        fail("a record one byte short did not want more", &fp);
    return 0;
}
