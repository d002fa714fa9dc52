#include "testutil.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char pki_dir[256];
static pid_t pki_owner; /* Check forks per test: only the maker removes it */

static void remove_pki(void)
{
    char cmd[300];
    if (pki_dir[0] == '\0' || getpid() != pki_owner)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "testutil: could not remove %s\n", pki_dir);
}

const char *testutil_pki_dir(void)
{
    if (pki_dir[0] != '\0')
        return pki_dir;
    const char *script = getenv("SECSOCK_TEST_PKI");
    if (script == NULL) {
        fprintf(stderr, "testutil: SECSOCK_TEST_PKI is not set (run through ctest)\n");
        abort();
    }
    snprintf(pki_dir, sizeof pki_dir, "/tmp/secsock-pki-XXXXXX");
    if (mkdtemp(pki_dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s' >/dev/null", script, pki_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "testutil: %s failed\n", cmd);
        abort();
    }
    pki_owner = getpid();
    atexit(remove_pki);
    return pki_dir;
}

const char *testutil_pki_file(const char *name)
{
    static char slots[8][512];
    static int next;
    char *out = slots[next++ % 8];
    snprintf(out, sizeof slots[0], "%s/%s", testutil_pki_dir(), name);
    return out;
}

long long testutil_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ssize_t testutil_peek_wait(secsock_conn *c, void *buf, size_t len, int wait_ms)
{
    long long deadline = testutil_now_ms() + wait_ms;
    for (;;) {
        ssize_t n = secsock_peek_nowait(c, buf, len);
        if (n != SECSOCK_WANT_READ && n != SECSOCK_WANT_WRITE)
            return n;
        long long left = deadline - testutil_now_ms();
        if (left <= 0)
            return n;
        struct pollfd pfd = { .fd = secsock_conn_fd(c),
                              .events = n == SECSOCK_WANT_READ ? POLLIN : POLLOUT };
        (void)poll(&pfd, 1, (int)left);
    }
}
