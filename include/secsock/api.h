/*
 * What every secsock header shares: the API's version, and the mark of what
 * the shared library exports (everything else is hidden).
 */
#ifndef SECSOCK_API_H
#define SECSOCK_API_H

#if defined(__GNUC__) || defined(__clang__)
#define SECSOCK_API __attribute__((visibility("default")))
#else
#define SECSOCK_API
#endif

/* The version of the headers being compiled against: 0xMMmmpp. A program
 * that needs a newer call tests SECSOCK_API_VERSION >= 0x010100; the
 * library it runs with says its own through secsock_version(). The major
 * number is the shared library's SOVERSION: it changes only when the ABI
 * breaks. */
#define SECSOCK_VERSION_MAJOR 1
#define SECSOCK_VERSION_MINOR 0
#define SECSOCK_VERSION_PATCH 0
#define SECSOCK_API_VERSION                                                                        \
    ((SECSOCK_VERSION_MAJOR << 16) | (SECSOCK_VERSION_MINOR << 8) | SECSOCK_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The running library's version, "1.0.0". Static; thread-safe. */
SECSOCK_API const char *secsock_version(void);

#ifdef __cplusplus
}
#endif
#endif
