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

#include "deadline_heap.h"
#include "secsock/transport.h"
#include "workers.h"

/* The most loops a server runs. Each loop that finds every worker busy
 * leaves its eventfd with the pool, to be woken at the next free slot: the
 * pool must have room for all of them, or a loop would wait in vain. */
#define ADMISSION_MAX_LOOPS 64
_Static_assert(ADMISSION_MAX_LOOPS <= WORKERS_MAX_WAITERS,
               "the worker pool wakes every admission loop that waits for a slot");

/* One client in admission; the worker pool's item once it is admitted. */
struct admission {
    secsock_conn *c;
    double accepted_ms;
    double deadline_ms;             /* handshake, then first data, must come by then */
    double handshake_ms;            /* -1 until the handshake is done */
    struct deadline_entry wake;     /* in its loop's heap: the deadline, or a DTLS
                               * timer due before it */
    uint32_t events;                /* what the next step waits for: EPOLLIN or EPOLLOUT */
    uint32_t watched;               /* what epoll watches for it now (0: nothing) */
    int ready;                      /* waiting for a free worker */
    int lingering;                  /* refused: draining its last bytes before the close */
    int screened;                   /* its first bytes passed hooks.screen */
    size_t screen_seen;             /* bytes hooks.screen saw the last time it waited */
    const char *why;                /* set by hooks.screen when it drops the client */
    struct secsock_fingerprint *fp; /* the client's, when the server shows them (-v, --json) */
    struct admission *next;         /* in the queue for a worker */
};

/* How the loops treat clients: the server's options, as the loops need them. */
struct admission_policy {
    int handshake_timeout_ms; /* from the accept to the end of the handshake */
    int idle_timeout_ms;      /* from the handshake to the client's first bytes */
    int grace_ms;             /* streams: how long clients may finish after a stop */
    const char *protocol;     /* "TLS" or "DTLS": named in a handshake timeout */
    int log_accept;           /* log "[*] Accepted connection from ..." */
    int close_at_stop;        /* datagram sessions: end at once, politely, at a stop
                               * signal; streams get the grace period */
    int serve_at_once;        /* plain UDP: every datagram is served by the loop */
};

/* What the loops tell the server, and ask of it. Called from any loop's
 * thread; arg is passed to each. */
struct admission_hooks {
    void *arg;
    /* How a client ended before a worker took it (status 0: served by the
     * loop itself); why, or the connection's error text when NULL. */
    void (*report)(void *arg, const struct admission *a, int status, const char *why);
    /* A client's handshake is done (NULL: nothing to do then). */
    void (*handshaken)(void *arg, const struct admission *a);
    /* Looks at a client's first bytes before the handshake reads them
     * (NULL: no look): 0 to go on, 1 to wait for more bytes, or a negative
     * status to drop the client (a->why says why; it may have been
     * answered). tcp-server --tls answers plaintext HTTP with a 400; with
     * -v or --json the servers fingerprint the ClientHello there. */
    int (*screen)(void *screen_arg, struct admission *a);
    void *screen_arg;
    /* Every loop is set up, listening on l: say so (NULL: nothing). */
    void (*on_ready)(void *arg, const secsock_listener *l);
};

/* What every loop of a server shares. */
struct admission_ctx {
    struct admission_policy policy;
    struct admission_hooks hooks;
    struct workers *w;    /* w->handler serves an admitted client */
    secsock_listener *l;  /* streams: the last loop to stop accepting frees it */
    int stop_fd;          /* readable from the stop signal on */
    int cut_fd;           /* readable once the grace period is cut short (a
                               * second SIGINT): -1 for none */
    atomic_int accepting; /* loops still accepting */
    atomic_int admitted;  /* clients in admission, over all loops */
};

/* Frees a client in admission (its connection is closed already). */
void admission_free(struct admission *a);

/* Runs nloops loops (at most ADMISSION_MAX_LOOPS; this thread runs the
 * first) with room for capacity clients in all, until the stop signal and,
 * for streams, until the clients in admission are through or the grace
 * period is over. Returns the end of the grace period on the app_now_ms()
 * clock, or -1 if no loop could be set up (out of memory or descriptors). */
double admission_run(struct admission_ctx *ax, int nloops, size_t capacity);

#endif
