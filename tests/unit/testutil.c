#include "testutil.h"

#include <check.h>

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

secsock_config *testutil_cfg_new(void)
{
    secsock_config *cfg = secsock_config_new();
    ck_assert_ptr_nonnull(cfg);
    return cfg;
}

secsock_config *testutil_server_cfg(const char *name, int mtu)
{
    secsock_config *cfg = testutil_cfg_new();
    char crt[64], key[64];
    snprintf(crt, sizeof crt, "%s.crt", name);
    snprintf(key, sizeof key, "%s.key", name);
    TESTUTIL_CFG_OK(cfg, secsock_config_set_cert_file(cfg, testutil_pki_file(crt)));
    TESTUTIL_CFG_OK(cfg, secsock_config_set_key_file(cfg, testutil_pki_file(key)));
    if (mtu != 0)
        TESTUTIL_CFG_OK(cfg, secsock_config_set_mtu(cfg, mtu));
    return cfg;
}

secsock_config *testutil_client_cfg(int mtu)
{
    secsock_config *cfg = testutil_cfg_new();
    TESTUTIL_CFG_OK(cfg, secsock_config_set_cafile(cfg, testutil_pki_file("ca.crt")));
    if (mtu != 0)
        TESTUTIL_CFG_OK(cfg, secsock_config_set_mtu(cfg, mtu));
    return cfg;
}

secsock_transport *testutil_transport(const char *backend, enum secsock_role role,
                                      secsock_config *cfg)
{
    char err[256] = "";
    secsock_transport *t = secsock_transport_new(backend, role, cfg, err, sizeof err);
    ck_assert_msg(t != NULL, "secsock_transport_new(%s): %s", backend, err);
    secsock_config_free(cfg);
    return t;
}

void testutil_fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
}

int testutil_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
