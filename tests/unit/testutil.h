/* Helpers shared by the Check suites. */
#ifndef SECSOCK_TESTUTIL_H
#define SECSOCK_TESTUTIL_H

#include <sys/types.h>

#include <check.h>

#include "secsock/security.h"
#include "secsock/transport.h"

#define TESTUTIL_WAIT_MS 5000 /* generous bound on every wait that should succeed */

/* Every suite's main(): runs s (each test forked, as Check does by
 * default), frees it, and returns the exit status: EXIT_SUCCESS when no
 * test failed. */
int testutil_run(Suite *s);

/* A throw-away PKI made once per test process by tests/lib/pki.sh
 * (path in $SECSOCK_TEST_PKI) in a fresh temporary directory, removed at
 * exit. Call it in main() before the suites run, so the forked tests share
 * one PKI. Returns the directory; aborts the test run if it cannot be made. */
const char *testutil_pki_dir(void);
/* "<pki dir>/<name>" in a static buffer rotated over 8 slots. */
const char *testutil_pki_file(const char *name);

/* Milliseconds on the monotonic clock, for timing waits. */
long long testutil_now_ms(void);
/* secsock_peek_nowait, waiting (at most wait_ms) while it says WANT_*: its
 * result. */
ssize_t testutil_peek_wait(secsock_conn *c, void *buf, size_t len, int wait_ms);

/* A new configuration (the test fails if there is none). */
secsock_config *testutil_cfg_new(void);
/* Asserts that a configuration call returned 0, showing cfg's error. */
#define TESTUTIL_CFG_OK(cfg, call)                                                             \
    ck_assert_msg((call) == 0, "%s: %s", #call, secsock_config_error(cfg))
/* A server configuration with the PKI's NAME.crt and NAME.key; mtu 0 is
 * the default. */
secsock_config *testutil_server_cfg(const char *name, int mtu);
/* A client configuration trusting the test CA; mtu 0 is the default. */
secsock_config *testutil_client_cfg(int mtu);
/* Makes a transport and frees cfg (NULL is fine for plaintext). */
secsock_transport *testutil_transport(const char *backend, enum secsock_role role,
                                      secsock_config *cfg);
/* len bytes of a pattern that depends on seed, the same every run. */
void testutil_fill_pattern(unsigned char *buf, size_t len, unsigned seed);

#endif
