/*
 * Entry points only the tests use, kept out of the public headers (so no
 * user builds on them) yet exported by the library's objects the tests
 * link. Tests include this after <secsock/transport.h>.
 */
#ifndef SECSOCK_TRANSPORT_TESTING_H
#define SECSOCK_TRANSPORT_TESTING_H

#include <stddef.h>
#include <sys/socket.h>

#include "secsock/transport.h"

/* A socket bound to bind_addr:port with SO_REUSEADDR, listening with
 * backlog for streams, in *listen_fd; the bound "ADDR:PORT" in bound.
 * Returns 0, or a negative status with the reason in err
 * (SECSOCK_ERR_CONFIG: the address does not resolve; SECSOCK_ERR_CONNECT:
 * it cannot be bound). A test's own accept loop uses it. */
int secsock_listen(const secsock_transport *t, const char *bind_addr, const char *port, int backlog,
                   int *listen_fd, char *bound, size_t boundlen, char *err, size_t errlen);
/* Wraps a stream socket the caller accepted (made non-blocking here) as a
 * server connection; peer (may be NULL) names the client. Takes ownership
 * of fd: secsock_close() closes it, and so does a failure. Returns the
 * connection (run secsock_handshake() next), or NULL. */
secsock_conn *secsock_conn_from_fd(const secsock_transport *t, int fd, const struct sockaddr *peer,
                                   socklen_t peerlen);

#endif
