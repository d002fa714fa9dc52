/*
 * udp-server: answers datagrams, in plaintext or over DTLS 1.2. In
 * plaintext every datagram is answered from the one listening socket; over
 * DTLS each peer that passed the cookie exchange has a session of its own,
 * served by a worker until close_notify, the idle timeout or a stop signal.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "report.h"
#include "secsock/transport.h"
#include "server.h"

#define DATAGRAM_MAX 65536

/* Every datagram of the session: print it, answer it. */
static enum secsock_status serve(struct app_server *s, secsock_conn *c, char *why, size_t whylen)
{
    (void)why, (void)whylen; /* the connection's error says it all */
    unsigned char buf[DATAGRAM_MAX];
    for (;;) {
        ssize_t n = secsock_read(c, buf, sizeof buf);
        if (n == 0) {
            if (s->o->secure)
                app_log_client(stdout, "[*] %s closed the session", secsock_conn_peer(c));
            return 0;
        }
        if (n == SECSOCK_ERR_TIMEOUT) {
            app_log_client(stdout, "[*] %s idle for %d ms: closing the session",
                           secsock_conn_peer(c), s->o->timeout_ms);
            return 0;
        }
        if (n < 0)
            return (enum secsock_status)n;
        app_server_log_received(secsock_conn_peer(c), buf, (size_t)n);
        enum secsock_status rc = s->o->echo ? secsock_write_all(c, buf, (size_t)n)
                                            : secsock_write_all(c, s->reply, strlen(s->reply));
        if (rc != SECSOCK_OK)
            return rc;
    }
}

int main(int argc, char **argv)
{
    return app_server_main(argc, argv, APP_UDP_SERVER, serve, "udp-server is working",
                           "udp-server is working");
}
