/* Marks what the shared library exports; everything else is hidden. */
#ifndef SECSOCK_API_H
#define SECSOCK_API_H

#if defined(__GNUC__) || defined(__clang__)
#define SECSOCK_API __attribute__((visibility("default")))
#else
#define SECSOCK_API
#endif

#endif
