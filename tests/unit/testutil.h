/* Helpers shared by the Check suites. */
#ifndef SECSOCK_TESTUTIL_H
#define SECSOCK_TESTUTIL_H

#include <sys/types.h>

#include "secsock/transport.h"

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

#endif
