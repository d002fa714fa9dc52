/*
 * Key-exchange groups: the default list, and the check of a user's list.
 *
 * Where the library has the hybrid X25519MLKEM768 (OpenSSL 3.5 and later)
 * it is offered first, as OpenSSL 3.5, Chrome, Firefox and Cloudflare do:
 * a session recorded today stays secret even from a future quantum
 * computer ("harvest now, decrypt later"), while X25519 inside the hybrid
 * keeps it as strong as today's exchange if ML-KEM turns out weak. It costs
 * 1,184 more bytes in the ClientHello and 1,088 in the ServerHello.
 * Whether the library has it is asked at run time, not at build time: the
 * programs may run against a newer libssl than the headers they saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "security/security_internal.h"

#define CLASSICAL_GROUPS "X25519:P-256:P-384"
#define HYBRID_GROUP "X25519MLKEM768"

/* Whether this libssl accepts GROUP in a TLS context's list. */
static int library_has_group(const char *group)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    int ok = ctx != NULL && SSL_CTX_set1_groups_list(ctx, group) == 1;
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

int security_has_hybrid_group(void)
{
    return library_has_group(HYBRID_GROUP);
}

const char *security_default_groups(int dtls)
{
    /* ML-KEM is TLS 1.3 only and our DTLS is 1.2 (and DTLS 1.3 groups are
     * still ECDHE in every peer we know): DTLS keeps the classical list. */
    if (!dtls && security_has_hybrid_group())
        return HYBRID_GROUP ":" CLASSICAL_GROUPS;
    return CLASSICAL_GROUPS;
}

/* The post-quantum names OpenSSL 3.5 added: on an older library they are
 * not typos, and the error says which version has them. */
static int is_post_quantum_name(const char *name)
{
    static const char *const pq[] = { "X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024",
                                      "MLKEM512",       "MLKEM768",          "MLKEM1024" };
    for (size_t i = 0; i < sizeof pq / sizeof pq[0]; i++)
        if (strcasecmp(name, pq[i]) == 0)
            return 1;
    return 0;
}

int security_check_groups(const char *list, char *err, size_t errlen)
{
    if (list[0] == '\0') {
        snprintf(err, errlen, "empty key-exchange group list: give names such as X25519:P-256");
        return -1;
    }
    char *copy = strdup(list);
    if (copy == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    /* OpenSSL 3.5's syntax: ':' between groups, '/' between tuples, a
     * leading '*' marks a key share, '?' tolerates an unknown name. */
    for (char *el = strtok_r(copy, ":/", &save); el != NULL && rc == 0;
         el = strtok_r(NULL, ":/", &save)) {
        while (*el == '*')
            el++;
        if (*el == '?' || strcmp(el, "DEFAULT") == 0 || *el == '\0')
            continue;
        if (library_has_group(el))
            continue;
        if (is_post_quantum_name(el))
            snprintf(err, errlen, "key-exchange group '%s' needs OpenSSL 3.5 or later; this is %s",
                     el, OpenSSL_version(OPENSSL_VERSION));
        else
            snprintf(err, errlen,
                     "unknown key-exchange group '%s' (known: X25519, P-256, P-384, X448, "
                     "P-521%s)",
                     el, security_has_hybrid_group() ? ", X25519MLKEM768" : "");
        rc = -1;
    }
    free(copy);
    return rc;
}
