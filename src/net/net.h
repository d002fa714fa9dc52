/* Sockets: resolving, connecting and listening with timeouts, addresses as text. */
#ifndef SECSOCK_NET_H
#define SECSOCK_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* Resolves host (or connect_addr when set) and connects a non-blocking
 * socket of socktype, trying each address, all within timeout_ms.
 * Returns 0 or SECSOCK_ERR_RESOLVE / _CONNECT / _TIMEOUT with err set. */
int net_connect(const char *host, const char *port, const char *connect_addr, int family,
                int socktype, int timeout_ms, int *fd_out, struct sockaddr_storage *peer,
                socklen_t *peer_len, char *err, size_t errlen);

/* Binds (SO_REUSEADDR) and, for streams, listens. Writes "ADDR:PORT" of the
 * bound socket to bound (port 0 resolved to the real one). */
int net_listen(const char *bind_addr, const char *port, int socktype, int backlog,
               int *fd_out, char *bound, size_t boundlen, char *err, size_t errlen);

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
