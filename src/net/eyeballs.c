/*
 * Happy Eyeballs (RFC 8305, as curl does it): connecting to the first of a
 * name's addresses that answers. Attempts start one by one, each with a
 * head start of NET_ATTEMPT_DELAY_MS (at once after a failure), and run
 * side by side in one poll until one connects or the deadline comes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"

/* Starts connecting to a: 0 (connected already), EINPROGRESS with *fd
 * set, or the errno of a failure at once (no socket left open). */
static int start_attempt(const struct net_addr *a, int socktype, int *fd)
{
    *fd = socket(a->ss.ss_family, socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (*fd < 0)
        return errno;
    if (connect(*fd, (const struct sockaddr *)&a->ss, a->len) == 0)
        return 0;
    int e = errno;
    if (e == EINPROGRESS || e == EINTR)
        return EINPROGRESS; /* EINTR: the connection goes on; poll tells its end */
    close(*fd);
    *fd = -1;
    return e;
}

/* The outcome of a finished attempt: 0 or the socket's error. */
static int attempt_result(int fd)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return errno;
    return soerr;
}

/* strerror's text in lower case at the start, for a log line. */
static void reason_text(int e, char *buf, size_t len)
{
    snprintf(buf, len, "%s", e == ETIMEDOUT ? "timed out" : strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z')
        buf[0] = (char)(buf[0] - 'A' + 'a');
}

static void tell(const struct net_observer *obs, enum secsock_attempt_event ev,
                 const struct net_addr *a, int e)
{
    if (obs == NULL || obs->on_attempt == NULL)
        return;
    char why[128] = "";
    if (ev == SECSOCK_ATTEMPT_FAILED)
        reason_text(e, why, sizeof why);
    obs->on_attempt(obs->arg, ev, a->text, why);
}

/* The failure in err: one address as before ("connection to ADDR failed:
 * REASON"), several each with its reason, or when they do not fit, the
 * last and the count. why[i] is 0 for an address never tried. */
static int failure(const char *name, const struct net_addr *addrs, size_t n, const int *why,
                   size_t last, int timed_out, char *err, size_t errlen)
{
    int status = timed_out ? SECSOCK_ERR_TIMEOUT : SECSOCK_ERR_CONNECT;
    size_t tried = 0;
    for (size_t i = 0; i < n; i++)
        tried += why[i] != 0;
    if (tried == 1) {
        char more[48] = "";
        if (n > 1)
            snprintf(more, sizeof more, " (%zu more not tried)", n - 1);
        if (why[last] == ETIMEDOUT)
            snprintf(err, errlen, "connection to %s timed out%s", addrs[last].text, more);
        else
            snprintf(err, errlen, "connection to %s failed: %s%s", addrs[last].text,
                     strerror(why[last]), more);
        return status;
    }
    char all[1024];
    size_t len = (size_t)snprintf(all, sizeof all, "connection to %s %s", name,
                                  timed_out ? "timed out" : "failed");
    const char *sep = ":";
    for (size_t i = 0; i < n && len < sizeof all; i++)
        if (why[i] != 0) {
            len += (size_t)snprintf(all + len, sizeof all - len, "%s %s: %s", sep, addrs[i].text,
                                    why[i] == ETIMEDOUT ? "timed out" : strerror(why[i]));
            sep = ";";
        }
    if (tried < n && len < sizeof all)
        len += (size_t)snprintf(all + len, sizeof all - len, " (%zu more not tried)", n - tried);
    if (len < errlen && len < sizeof all)
        snprintf(err, errlen, "%s", all);
    else
        snprintf(err, errlen, "connection to %s %s at %zu addresses; the last, %s: %s", name,
                 timed_out ? "timed out" : "failed", tried, addrs[last].text,
                 why[last] == ETIMEDOUT ? "timed out" : strerror(why[last]));
    return status;
}

int net_connect_race(const char *name, const struct net_addr *addrs, size_t n, int socktype,
                     long long deadline, const struct net_observer *obs, int *fd_out, size_t *won,
                     char *err, size_t errlen)
{
    struct pollfd *pfd = calloc(n, sizeof *pfd); /* the attempts in flight */
    size_t *idx = calloc(n, sizeof *idx);        /* ... and their addresses */
    int *why = calloc(n, sizeof *why);           /* errno per address, 0 until it fails */
    if (pfd == NULL || idx == NULL || why == NULL) {
        free(pfd);
        free(idx);
        free(why);
        snprintf(err, errlen, "out of memory");
        return SECSOCK_ERR_NOMEM;
    }
    size_t next = 0, live = 0, last = 0;
    long long next_at = 0; /* when the next address may start */
    int rc = 1;            /* 1 while undecided */
    while (rc == 1) {
        long long now = net_now_ms();
        /* Start what is due: the first address, the next once the last
         * has had its head start, and at once after a failure. */
        while (rc == 1 && next < n && (live == 0 || now >= next_at) &&
               (next == 0 || now < deadline)) {
            int fd = -1;
            last = next;
            tell(obs, SECSOCK_ATTEMPT_TRYING, &addrs[next], 0);
            int e = start_attempt(&addrs[next], socktype, &fd);
            if (e == 0) {
                tell(obs, SECSOCK_ATTEMPT_CONNECTED, &addrs[next], 0);
                *fd_out = fd;
                *won = next;
                rc = 0;
            } else if (e == EINPROGRESS) {
                pfd[live] = (struct pollfd){ .fd = fd, .events = POLLOUT };
                idx[live++] = next;
                next_at = now + NET_ATTEMPT_DELAY_MS;
            } else {
                why[next] = e;
                tell(obs, SECSOCK_ATTEMPT_FAILED, &addrs[next], e);
                next_at = now; /* e.g. no route for this family: the next at once */
            }
            next++;
        }
        if (rc != 1)
            break;
        if (live == 0) { /* all failed, or the time ran out before the rest could start */
            rc = failure(name, addrs, n, why, last, next < n, err, errlen);
            break;
        }
        long long wake = next < n && next_at < deadline ? next_at : deadline;
        long long left = wake - now;
        int ready = poll(pfd, live, left <= 0 ? 0 : left > 60000 ? 60000 : (int)left);
        if (ready < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            rc = SECSOCK_ERR_IO;
            break;
        }
        for (size_t i = 0; ready > 0 && i < live;) {
            if (pfd[i].revents == 0) {
                i++;
                continue;
            }
            int e = attempt_result(pfd[i].fd);
            if (e == 0) {
                tell(obs, SECSOCK_ATTEMPT_CONNECTED, &addrs[idx[i]], 0);
                *fd_out = pfd[i].fd;
                *won = idx[i];
                pfd[i] = pfd[--live]; /* the winner leaves the list of losers */
                rc = 0;
                break;
            }
            why[idx[i]] = e;
            last = idx[i];
            tell(obs, SECSOCK_ATTEMPT_FAILED, &addrs[idx[i]], e);
            close(pfd[i].fd);
            pfd[i] = pfd[--live];
            idx[i] = idx[live];
            next_at = net_now_ms(); /* a failure starts the next at once */
        }
        if (rc == 1 && live > 0 && net_now_ms() >= deadline) {
            for (size_t i = 0; i < live; i++) {
                why[idx[i]] = ETIMEDOUT;
                last = idx[i];
                tell(obs, SECSOCK_ATTEMPT_FAILED, &addrs[idx[i]], ETIMEDOUT);
            }
            rc = failure(name, addrs, n, why, last, 1, err, errlen);
        }
    }
    for (size_t i = 0; i < live; i++)
        close(pfd[i].fd); /* the losers, or all at a failure */
    free(pfd);
    free(idx);
    free(why);
    return rc;
}
