/* Sockets: resolving, connecting and listening with timeouts, addresses as text. */
#ifndef SECSOCK_NET_H
#define SECSOCK_NET_H

#include <stddef.h>
#include <sys/socket.h>

#include "secsock/transport.h"

/* One address to connect to, and its text: "1.2.3.4:80" or "[::1]:80". */
struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[64];
};

/* Resolves host (or the numeric connect_addr when set) for socktype and
 * family, into a malloc'd array (*out, *n >= 1; free it) in the order to
 * try: every address the resolver gives (no AI_ADDRCONFIG: an unreachable
 * family fails fast when tried), duplicates dropped, and for "localhost"
 * and "*.localhost" (RFC 6761) ::1 and 127.0.0.1 added where missing, so
 * both loopbacks are tried whatever /etc/hosts says; then the families
 * interleaved (net_interleave_order). Returns 0, or SECSOCK_ERR_RESOLVE /
 * _NOMEM with err set. */
int net_resolve(const char *host, const char *port, const char *connect_addr, int family,
                int socktype, struct net_addr **out, size_t *n, char *err, size_t errlen);

/* RFC 8305 section 4: the order in which to try n addresses of the given
 * families, alternating between the family of the first address and the
 * others, each family keeping its own order. Writes a permutation of
 * 0..n-1 to order. E.g. families 6 6 6 4 4 give 0 3 1 4 2. */
void net_interleave_order(const int *families, size_t n, size_t *order);

/* Who hears about each attempt (secsock_connect_opts.on_attempt). */
struct net_observer {
    void (*on_attempt)(void *arg, enum secsock_attempt_event event, const char *address,
                       const char *reason);
    void *arg;
};

/* RFC 8305's connection attempt delay: how long one attempt has to itself
 * before the next address is tried beside it. */
#define NET_ATTEMPT_DELAY_MS 250

/* Happy Eyeballs: connects a non-blocking socket of socktype to the first
 * of the n addresses that answers. Attempts start in order, the next one
 * when the last has had NET_ATTEMPT_DELAY_MS alone or has failed, and run
 * side by side in one poll; the first to connect wins and the others are
 * closed. The first attempt always starts; no later one starts after the
 * deadline (net_now_ms() clock), at which those in flight end. Returns 0
 * with *fd_out and *won (the winner's index), or SECSOCK_ERR_CONNECT
 * (every address failed) / _TIMEOUT (the deadline came first) / _NOMEM
 * with err naming each address tried and why ("the last, and the count"
 * when that does not fit). name is the host, for the message. */
int net_connect_race(const char *name, const struct net_addr *addrs, size_t n, int socktype,
                     long long deadline, const struct net_observer *obs, int *fd_out, size_t *won,
                     char *err, size_t errlen);

/* Binds (SO_REUSEADDR) and, for streams, listens. Writes "ADDR:PORT" of the
 * bound socket to bound (port 0 resolved to the real one). */
int net_listen(const char *bind_addr, const char *port, int socktype, int backlog, int *fd_out,
               char *bound, size_t boundlen, char *err, size_t errlen);

/* "1.2.3.4:80" or "[::1]:80". */
void net_format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen);

/* 1 if s is an IPv4 or IPv6 literal (brackets not allowed). */
int net_is_ip_literal(const char *s);

int net_set_nonblocking(int fd);

/* Waits until fd is readable (want_write 0) or writable: 0, SECSOCK_ERR_TIMEOUT,
 * or SECSOCK_ERR_IO. A negative timeout waits forever. When cancel_fd is not
 * -1 and becomes readable first, SECSOCK_ERR_CANCELLED. */
int net_wait(int fd, int want_write, int cancel_fd, int timeout_ms);

/* Milliseconds on the monotonic clock. */
long long net_now_ms(void);

#endif
