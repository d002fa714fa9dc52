/*
 * The servers' admission loops: where a client waits, costing no thread,
 * until it is worth one. A loop accepts, runs each TLS/DTLS handshake
 * non-blocking and waits for the client's first bytes; then it hands the
 * client to the worker pool, or serves it on the spot when the service
 * cannot wait on the client (a plain UDP datagram, a client that sent
 * nothing but its end). Each loop has its own epoll set and a heap of
 * deadlines, so ten thousand waiting clients cost nothing per event; a
 * stream server runs one loop per core over the one listening socket.
 */
#ifndef SECSOCK_APP_ADMISSION_H
#define SECSOCK_APP_ADMISSION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "secsock/transport.h"
#include "workers.h"

struct app_server;

/* One client in admission; the worker pool's item once it is admitted. */
struct admission {
    secsock_conn *c;
    double accepted_ms;
    double deadline_ms;       /* handshake, then first data, must come by then */
    double handshake_ms;      /* -1 until the handshake is done */
    double wake_ms;           /* the deadline, or a DTLS timer due before it */
    size_t heap_pos;          /* in its loop's deadline heap, or NOT_IN_HEAP */
    uint32_t events;          /* what the next step waits for: EPOLLIN or EPOLLOUT */
    uint32_t watched;         /* what epoll watches for it now (0: nothing) */
    int ready;                /* waiting for a free worker */
    int lingering;            /* refused: draining its last bytes before the close */
    int screened;             /* its first bytes passed ax->screen */
    size_t screen_seen;       /* bytes ax->screen saw the last time it waited */
    const char *why;          /* set by ax->screen when it drops the client */
    struct secsock_fingerprint *fp; /* the client's, when the server shows them (-v, --json) */
    struct admission *next;   /* in the queue for a worker */
};

/* What every loop of a server shares. */
struct admission_ctx {
    struct app_server *s;
    struct workers *w;        /* w->handler serves an admitted client */
    secsock_listener *l;      /* streams: the last loop to stop accepting frees it */
    int stop_fd;              /* readable from the stop signal on */
    int cut_fd;               /* readable once the grace period is cut short (a
                               * second SIGINT): -1 for none */
    int serve_at_once;        /* plain UDP: every datagram is served by the loop */
    /* Looks at a client's first bytes before the handshake reads them
     * (NULL: no look): 0 to go on, 1 to wait for more bytes, or a negative
     * status to drop the client (a->why says why; it may have been
     * answered). tcp-server --tls answers plaintext HTTP with a 400; with
     * -v or --json the servers fingerprint the ClientHello there. */
    int (*screen)(struct admission_ctx *ax, struct admission *a);
    void (*on_ready)(struct admission_ctx *ax); /* every loop set up: say so */
    atomic_int accepting;     /* loops still accepting */
    atomic_int admitted;      /* clients in admission, over all loops */
};

/* Frees a client in admission (its connection is closed already). */
void admission_free(struct admission *a);

/* Runs nloops loops (this thread runs the first) with room for capacity
 * clients in all, until the stop signal and, for streams, until the
 * clients in admission are through or the grace period is over. Returns
 * the end of the grace period on the app_now_ms() clock, or -1 if no loop
 * could be set up (out of memory or descriptors). */
double admission_run(struct admission_ctx *ax, int nloops, size_t capacity);

#endif
