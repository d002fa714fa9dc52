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
#define TESTUTIL_CFG_OK(cfg, call)                                                                 \
    ck_assert_msg((call) == 0, "%s: %s", #call, secsock_config_error(cfg))
/* A server configuration with the PKI's NAME.crt and NAME.key; mtu 0 is
 * the default. */
secsock_config *testutil_server_cfg(const char *name, int mtu);
/* A client configuration trusting the test CA; mtu 0 is the default. */
secsock_config *testutil_client_cfg(int mtu);
/* Makes a transport and frees cfg (NULL is fine for plaintext). */
secsock_transport *testutil_transport(const char *backend, enum secsock_role role,
                                      secsock_config *cfg);
/* What a connection told of its session, read through the accessors at
 * one moment (a server thread's view, kept past its close). */
struct testutil_session {
    int secure;
    char version[16];
    char cipher[64];
    char group[32];
    char alpn[256];
    char sni[256];
    int resumed;
    int has_peer_cert;
    char peer_subject[1024];
    char peer_issuer[1024];
    char peer_san[2048];
    char peer_not_before[32];
    char peer_not_after[32];
    char peer_fingerprint[128];
    int verified;
    char verify_result[128];
    int cookie_exchange;
    unsigned long long bytes_sent, bytes_received;
};
void testutil_session(const secsock_conn *c, struct testutil_session *s);
/* The constructors with the reason copied into err (the tests were
 * written for that form): the same status; a failed object is freed
 * (*out NULL) except a connection that got as far as a socket, which the
 * caller closes, as before. */
secsock_transport *testutil_transport_err(const char *backend, enum secsock_role role,
                                          const secsock_config *cfg, char *err, size_t errlen);
int testutil_connect(const secsock_transport *t, const struct secsock_connect_opts *opts,
                     secsock_conn **out, char *err, size_t errlen);
int testutil_listener_new(const secsock_transport *t, const char *addr, const char *port,
                          int backlog, secsock_listener **out, char *err, size_t errlen);
int testutil_accept(secsock_listener *l, int timeout_ms, secsock_conn **out, char *err,
                    size_t errlen);
/* len bytes of a pattern that depends on seed, the same every run. */
void testutil_fill_pattern(unsigned char *buf, size_t len, unsigned seed);

/* A config setter's refusal: SECSOCK_ERR_CONFIG, and an error that names
 * culprit; or its success, the error shown if not. */
#define TESTUTIL_CONFIG_REFUSED(cfg, call, culprit)                                                \
    do {                                                                                           \
        ck_assert_int_eq((call), SECSOCK_ERR_CONFIG);                                              \
        ck_assert_msg(strstr(secsock_config_error(cfg), (culprit)) != NULL,                        \
                      "error '%s' does not name '%s'", secsock_config_error(cfg), (culprit));      \
    } while (0)
#define TESTUTIL_CONFIG_ACCEPTED(cfg, call)                                                        \
    ck_assert_msg((call) == SECSOCK_OK, "%s: %s", #call, secsock_config_error(cfg))

#endif
