/* Name resolution, connect and listen with timeouts; addresses as text. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "secsock/transport.h"

long long net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

int net_wait(int fd, int want_write, int cancel_fd, int timeout_ms)
{
    struct pollfd pfd[2] = { { .fd = fd, .events = want_write ? POLLOUT : POLLIN },
                             { .fd = cancel_fd, .events = POLLIN } };
    long long deadline = timeout_ms < 0 ? -1 : net_now_ms() + timeout_ms;
    for (;;) {
        int left = -1;
        if (deadline >= 0) {
            long long rest = deadline - net_now_ms();
            left = rest > 0 ? (int)rest : 0;
        }
        int n = poll(pfd, cancel_fd >= 0 ? 2 : 1, left);
        if (n > 0 && cancel_fd >= 0 && pfd[1].revents != 0)
            return SECSOCK_ERR_CANCELLED;
        if (n > 0)
            return 0; /* ready, or an error the next call will report */
        if (n == 0)
            return SECSOCK_ERR_TIMEOUT;
        if (errno != EINTR)
            return SECSOCK_ERR_IO;
    }
}

void net_format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN] = "?";
    char port[8] = "?";
    if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, outlen, "?");
        return;
    }
    if (sa->sa_family == AF_INET6)
        snprintf(out, outlen, "[%s]:%s", host, port);
    else
        snprintf(out, outlen, "%s:%s", host, port);
}

int net_is_ip_literal(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Connects one socket to one address within the deadline. */
static int connect_one(const struct addrinfo *ai, long long deadline, int *fd_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0)
        return -errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            return -e;
        }
        long long left = deadline - net_now_ms();
        if (left <= 0 || net_wait(fd, 1, -1, (int)left) != 0) {
            close(fd);
            return -ETIMEDOUT;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr != 0) {
            close(fd);
            return -soerr;
        }
    }
    *fd_out = fd;
    return 0;
}

int net_connect(const char *host, const char *port, const char *connect_addr, int family,
                int socktype, int timeout_ms, int *fd_out, struct sockaddr_storage *peer,
                socklen_t *peer_len, char *err, size_t errlen)
{
    const char *target = connect_addr != NULL ? connect_addr : host;
    struct addrinfo hints = { .ai_family = family, .ai_socktype = socktype,
                              .ai_flags = AI_ADDRCONFIG };
    if (connect_addr != NULL)
        hints.ai_flags |= AI_NUMERICHOST;
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(target, port, &hints, &res);
    if (gai == EAI_ADDRFAMILY || gai == EAI_NONAME) {
        /* AI_ADDRCONFIG hides ::1 on hosts with only loopback IPv6: retry without. */
        hints.ai_flags &= ~AI_ADDRCONFIG;
        gai = getaddrinfo(target, port, &hints, &res);
    }
    if (gai != 0) {
        snprintf(err, errlen, "could not resolve %s: %s", target,
                 gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        return SECSOCK_ERR_RESOLVE;
    }
    long long deadline = net_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int last = 0;
    char where[64] = "";
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        net_format_addr(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        int rc = connect_one(ai, deadline, fd_out);
        if (rc == 0) {
            memcpy(peer, ai->ai_addr, ai->ai_addrlen);
            *peer_len = ai->ai_addrlen;
            freeaddrinfo(res);
            return 0;
        }
        last = -rc;
        if (last == ETIMEDOUT)
            break; /* the whole budget is spent */
    }
    freeaddrinfo(res);
    if (last == ETIMEDOUT) {
        snprintf(err, errlen, "connection to %s timed out", where);
        return SECSOCK_ERR_TIMEOUT;
    }
    snprintf(err, errlen, "connection to %s failed: %s", where, strerror(last));
    return SECSOCK_ERR_CONNECT;
}

int net_listen(const char *bind_addr, const char *port, int socktype, int backlog,
               int *fd_out, char *bound, size_t boundlen, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = socktype,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(bind_addr, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot use bind address %s port %s: %s",
                 bind_addr ? bind_addr : "*", port, gai_strerror(gai));
        return SECSOCK_ERR_CONFIG;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return SECSOCK_ERR_IO;
    }
    int one = 1;
    if (socktype == SOCK_STREAM) /* rebind at once over old TIME_WAIT connections */
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    char want[64];
    net_format_addr(res->ai_addr, res->ai_addrlen, want, sizeof want);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
        (socktype == SOCK_STREAM && listen(fd, backlog) < 0)) {
        snprintf(err, errlen, "cannot listen on %s: %s", want, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return SECSOCK_ERR_CONNECT;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        net_format_addr((struct sockaddr *)&ss, sl, bound, boundlen);
    else
        snprintf(bound, boundlen, "%s", want);
    *fd_out = fd;
    return 0;
}
