/* Name resolution, connect and listen with timeouts; addresses as text. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

void net_interleave_order(const int *families, size_t n, size_t *order)
{
    /* Two queues over the input, kept in order: the first address's family
     * and every other one; take from each in turn until both are empty. */
    size_t first = 0, other = 0, k = 0;
    int want_first = 1;
    while (k < n) {
        size_t *q = want_first ? &first : &other;
        while (*q < n && (families[*q] == families[0]) != want_first)
            (*q)++;
        if (*q < n)
            order[k++] = (*q)++;
        want_first = !want_first;
    }
}

/* "localhost", "localhost." and names under .localhost (RFC 6761 6.3). */
static int is_localhost_name(const char *host)
{
    size_t n = strlen(host);
    if (n > 0 && host[n - 1] == '.')
        n--;
    return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0);
}

/* Appends ai's address unless it is there already. */
static void add_addr(struct net_addr *list, size_t *n, const struct addrinfo *ai)
{
    if (ai->ai_addrlen > sizeof list[0].ss)
        return;
    struct net_addr *a = &list[*n];
    memset(a, 0, sizeof *a);
    memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
    a->len = ai->ai_addrlen;
    net_format_addr(ai->ai_addr, ai->ai_addrlen, a->text, sizeof a->text);
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i].text, a->text) == 0)
            return;
    (*n)++;
}

static void free_lists(struct addrinfo **lists, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lists[i] != NULL)
            freeaddrinfo(lists[i]);
}

int net_resolve(const char *host, const char *port, const char *connect_addr, int family,
                int socktype, struct net_addr **out, size_t *n, char *err, size_t errlen)
{
    const char *target = connect_addr != NULL ? connect_addr : host;
    /* No AI_ADDRCONFIG: on a host whose only IPv6 is loopback it hides ::1. */
    struct addrinfo hints = { .ai_family = family,
                              .ai_socktype = socktype,
                              .ai_flags = connect_addr != NULL ? AI_NUMERICHOST : 0 };
    /* What the resolver says, then for a localhost name the two loopbacks
     * (duplicates are dropped below). */
    struct addrinfo *lists[3] = { NULL, NULL, NULL };
    int gai = getaddrinfo(target, port, &hints, &lists[0]);
    int saved = errno;
    if (gai != 0)
        lists[0] = NULL;
    if (connect_addr == NULL && is_localhost_name(host)) {
        hints.ai_flags = AI_NUMERICHOST; /* the port may still be a service name */
        if (family != AF_INET && getaddrinfo("::1", port, &hints, &lists[1]) != 0)
            lists[1] = NULL;
        if (family != AF_INET6 && getaddrinfo("127.0.0.1", port, &hints, &lists[2]) != 0)
            lists[2] = NULL;
    }
    size_t cap = 0;
    for (size_t i = 0; i < 3; i++)
        for (const struct addrinfo *ai = lists[i]; ai != NULL; ai = ai->ai_next)
            cap++;
    if (cap == 0) {
        snprintf(err, errlen, "could not resolve %s: %s", target,
                 gai == 0            ? "no address"
                 : gai == EAI_SYSTEM ? strerror(saved)
                                     : gai_strerror(gai));
        return SECSOCK_ERR_RESOLVE;
    }
    struct net_addr *found = calloc(cap, sizeof *found);
    struct net_addr *list = calloc(cap, sizeof *list);
    int *fam = calloc(cap, sizeof *fam);
    size_t *order = calloc(cap, sizeof *order);
    size_t count = 0;
    if (found != NULL && list != NULL && fam != NULL && order != NULL) {
        for (size_t i = 0; i < 3; i++)
            for (const struct addrinfo *ai = lists[i]; ai != NULL; ai = ai->ai_next)
                add_addr(found, &count, ai);
        for (size_t i = 0; i < count; i++)
            fam[i] = found[i].ss.ss_family;
        net_interleave_order(fam, count, order);
        for (size_t i = 0; i < count; i++)
            list[i] = found[order[i]];
    }
    free_lists(lists, 3);
    free(found);
    free(fam);
    free(order);
    if (count == 0) {
        free(list);
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    *out = list;
    *n = count;
    return 0;
}

int net_listen(const char *bind_addr, const char *port, int socktype, int backlog, int *fd_out,
               char *bound, size_t boundlen, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = socktype,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(bind_addr, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot use bind address %s port %s: %s", bind_addr ? bind_addr : "*",
                 port, gai_strerror(gai));
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
    struct sockaddr_storage ss = { 0 };
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        net_format_addr((struct sockaddr *)&ss, sl, bound, boundlen);
    else
        snprintf(bound, boundlen, "%s", want);
    *fd_out = fd;
    return 0;
}
