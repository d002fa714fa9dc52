/*
 * secsock_config_set_self_signed(): an ephemeral ECDSA P-256 certificate
 * for localhost, made in memory at start. Its fingerprint and public-key
 * pin are printed so a client can pin it, and its PEM text can be saved
 * for a client's CA file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "security/security_internal.h"

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

int selfsigned_make(X509 **cert_out, EVP_PKEY **key_out, char *err, size_t errlen)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = key != NULL && cert != NULL && RAND_bytes(serial, sizeof serial) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* a positive serial number */
        bn = BN_bin2bn(serial, sizeof serial, NULL);
        ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    }
    /* A name of our own, set as subject and issuer: OpenSSL 4.0's
     * X509_get_subject_name() returns a name that is not to be changed. */
    X509_NAME *name = ok ? X509_NAME_new() : NULL;
    ok = ok && name != NULL && X509_set_version(cert, X509_VERSION_3) &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600) &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"secsock self-signed", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                    -1, -1, 0) &&
         X509_set_subject_name(cert, name) && X509_set_issuer_name(cert, name) &&
         X509_set_pubkey(cert, key) && add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(cert, NID_key_usage, "critical,digitalSignature") &&
         add_ext(cert, NID_ext_key_usage, "serverAuth") &&
         add_ext(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") &&
         X509_sign(cert, key, EVP_sha256()) > 0;
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        char why[160];
        snprintf(err, errlen, "cannot make a self-signed certificate: %s",
                 security_ssl_error_text(why, sizeof why));
        X509_free(cert);
        EVP_PKEY_free(key);
        return -1;
    }
    *cert_out = cert;
    *key_out = key;
    return 0;
}

char *selfsigned_pem(X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    char *data = NULL;
    long len = 0;
    if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1 &&
        (len = BIO_get_mem_data(bio, &data)) > 0 && (pem = malloc((size_t)len + 1)) != NULL) {
        memcpy(pem, data, (size_t)len);
        pem[len] = '\0';
    }
    BIO_free(bio);
    return pem;
}
