/* Helpers shared by the Check suites. */
#ifndef SECSOCK_TESTUTIL_H
#define SECSOCK_TESTUTIL_H

/* A throw-away PKI made once per test process by tests/lib/pki.sh
 * (path in $SECSOCK_TEST_PKI) in a fresh temporary directory, removed at
 * exit. Call it in main() before the suites run, so the forked tests share
 * one PKI. Returns the directory; aborts the test run if it cannot be made. */
const char *testutil_pki_dir(void);
/* "<pki dir>/<name>" in a static buffer rotated over 8 slots. */
const char *testutil_pki_file(const char *name);

#endif
