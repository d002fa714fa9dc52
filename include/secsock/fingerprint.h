/*
 * secsock client fingerprints: JA4 and JA3 of a TLS or DTLS ClientHello,
 * what an observer or an IDS computes from the first bytes a client sends.
 * (The manual page is secsock(3).)
 *
 * JA4 follows FoxIO's published specification (JA4 is BSD-licensed; the
 * other JA4+ methods are not, and are not here): "t" for TLS or "d" for
 * DTLS, the version, SNI or not ("d"/"i"), the counts of cipher suites and
 * extensions, the first and last characters of the first ALPN name, then
 * truncated SHA-256 hashes of the sorted suites and of the sorted
 * extensions with the signature algorithms. JA3 (Salesforce) is the
 * version, suites, extensions, groups and point formats in decimal, and
 * its MD5, as Wireshark's tls.handshake.ja3_full and tls.handshake.ja3.
 * Both leave out GREASE values (RFC 8701).
 */
#ifndef SECSOCK_FINGERPRINT_H
#define SECSOCK_FINGERPRINT_H

#include <stddef.h>

#include "secsock/api.h"
#include "secsock/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SECSOCK_JA3_MAX 2048

struct secsock_fingerprint {
    char ja4[40];              /* "t13d1516h2_8daaf6152771_e5627efa2ab1": 36 characters */
    char ja3_hash[33];         /* JA3: the MD5 of the string below, 32 lower-case hex digits
                        * ("" where MD5 is not available, as under FIPS) */
    char ja3[SECSOCK_JA3_MAX]; /* "771,4865-4866-...,0-11-10-...,29-23-24,0-1-2"; a longer
                                * one is cut and ends in "..." (the hash is of all of it) */
};

/* Computes the fingerprints of a ClientHello given as a TLS record, a DTLS
 * record (as one datagram carries it) or the bare handshake message; the
 * bytes tell which. The hello must be whole in its first record (DTLS: in
 * one fragment); what follows it is ignored. Returns SECSOCK_OK with *fp filled;
 * SECSOCK_WANT_READ when the bytes end before the record (or the message)
 * does, so that more of them may complete it; SECSOCK_ERR_PROTOCOL when
 * they are no ClientHello, or a malformed one, or one that goes on in
 * another record; SECSOCK_ERR_NOMEM. *fp is zeroed on failure.
 * Thread-safe. */
SECSOCK_API enum secsock_status secsock_fingerprint_client_hello(const void *hello, size_t len,
                                                                 struct secsock_fingerprint *fp);

#ifdef __cplusplus
}
#endif
#endif
