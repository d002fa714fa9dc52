/* --pcap FILE: trace events into the pcapng writer (see capture.h). */
#include "capture.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pcapng.h"
#include "secsock/transport.h"

/* What the connections' events need: the writer's connection of each
 * library connection (a hash of its address), and the datagrams a DTLS
 * listener exchanged before the connection existed (its cookie exchange
 * and the ClientHello it accepted), waiting for it. One lock for all:
 * the writer serialises every block anyway. */
#define BUCKETS 256
#define PENDING_MAX 32

struct tracked {
    const secsock_conn *conn;
    struct pcapng_conn *pconn;
    struct tracked *next;
};

struct pending {
    char peer[64];
    int sent;
    size_t len;
    struct pending *next;
    unsigned char data[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pcapng *pc;
static struct tracked *buckets[BUCKETS];
static struct pending *pending_head, *pending_tail;
static size_t n_pending;

static struct tracked **slot(const secsock_conn *conn)
{
    uintptr_t h = (uintptr_t)conn;
    h ^= h >> 17;
    struct tracked **p = &buckets[(h >> 4) % BUCKETS];
    while (*p != NULL && (*p)->conn != conn)
        p = &(*p)->next;
    return p;
}

static struct pcapng_conn *find(const secsock_conn *conn)
{
    struct tracked *t = conn != NULL ? *slot(conn) : NULL;
    return t != NULL ? t->pconn : NULL;
}

static void drop_pending_head(void)
{
    struct pending *p = pending_head;
    pending_head = p->next;
    if (pending_head == NULL)
        pending_tail = NULL;
    n_pending--;
    free(p);
}

/* A datagram of no connection yet (a DTLS listener's): kept for the
 * connection it may become; the oldest go when clients never finish. */
static void keep_pending(const struct secsock_trace_event *ev)
{
    struct pending *p = malloc(sizeof *p + ev->len);
    if (p == NULL)
        return;
    snprintf(p->peer, sizeof p->peer, "%s", ev->peer);
    p->sent = ev->sent;
    p->len = ev->len;
    p->next = NULL;
    memcpy(p->data, ev->data, ev->len);
    if (pending_tail != NULL)
        pending_tail->next = p;
    else
        pending_head = p;
    pending_tail = p;
    if (++n_pending > PENDING_MAX)
        drop_pending_head();
}

/* The datagrams kept for peer, in their order, into c; dropped from the list. */
static void replay_pending(struct pcapng_conn *c, const char *peer)
{
    struct pending **p = &pending_head, *prev = NULL;
    while (*p != NULL) {
        struct pending *cur = *p;
        if (strcmp(cur->peer, peer) != 0) {
            prev = cur;
            p = &cur->next;
            continue;
        }
        pcapng_data(c, cur->sent ? PCAPNG_SENT : PCAPNG_RECEIVED, cur->data, cur->len);
        *p = cur->next;
        if (pending_tail == cur)
            pending_tail = prev;
        n_pending--;
        free(cur);
    }
}

/* "ADDR:PORT" or "[ADDR]:PORT" (the trace's peer) as a socket address. */
static int parse_peer(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    snprintf(host, sizeof host, "%s", text);
    char *colon = strrchr(host, ':');
    if (colon == NULL)
        return -1;
    *colon = '\0';
    const char *port = colon + 1, *h = host;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        h = host + 1;
    }
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    if (getaddrinfo(h, port, &hints, &ai) != 0)
        return -1;
    int ok = ai->ai_addrlen <= sizeof *ss;
    if (ok) {
        memcpy(ss, ai->ai_addr, ai->ai_addrlen);
        *len = ai->ai_addrlen;
    }
    freeaddrinfo(ai);
    return ok ? 0 : -1;
}

/* An IPv4-mapped IPv6 address (a dual-stack socket's) as the IPv4 one, so
 * that it pairs with the other side's. */
static void unmap(struct sockaddr_storage *ss, socklen_t *len)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        return;
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = s6->sin6_port };
    memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
    memcpy(ss, &s4, sizeof s4);
    *len = sizeof s4;
}

/* A connection (a client's connect, a server's accept) begins: its
 * addresses are the socket's own and the peer's. */
static void begin(const struct secsock_trace_event *ev, int secure)
{
    struct tracked **p = slot(ev->conn);
    if (*p != NULL)
        return;
    int fd = secsock_conn_fd(ev->conn), type = 0;
    socklen_t tlen = sizeof type;
    struct sockaddr_storage local = { .ss_family = AF_UNSPEC };
    struct sockaddr_storage peer = { .ss_family = AF_UNSPEC };
    socklen_t llen = sizeof local, plen = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
        getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
        parse_peer(ev->peer, &peer, &plen) != 0)
        return;
    unmap(&local, &llen);
    unmap(&peer, &plen);
    int proto = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    struct pcapng_conn *c = pcapng_conn_begin(
        pc, proto, ev->kind == SECSOCK_TRACE_CONNECT ? PCAPNG_WE_OPENED : PCAPNG_PEER_OPENED,
        (struct sockaddr *)&local, llen, (struct sockaddr *)&peer, plen);
    struct tracked *t = c != NULL ? malloc(sizeof *t) : NULL;
    if (t == NULL) {
        pcapng_conn_end(c, PCAPNG_FIN);
        return;
    }
    *t = (struct tracked){ .conn = ev->conn, .pconn = c };
    *p = t;
    if (secure)
        pcapng_conn_hold(c); /* until its handshake is over: its keys first */
    if (proto == IPPROTO_UDP && ev->kind == SECSOCK_TRACE_ACCEPT)
        replay_pending(c, ev->peer);
}

static void end(const secsock_conn *conn, int reset)
{
    struct tracked **p = slot(conn), *t = *p;
    if (t == NULL)
        return;
    *p = t->next;
    pcapng_conn_end(t->pconn, reset ? PCAPNG_RST : PCAPNG_FIN);
    free(t);
}

static void secret(const struct secsock_trace_event *ev)
{
    char line[512];
    size_t n = ev->len < sizeof line - 1 ? ev->len : sizeof line - 1;
    memcpy(line, ev->data, n);
    line[n] = '\0';
    pcapng_keylog(pc, line);
}

void capture_event(const struct secsock_trace_event *ev, int secure)
{
    pthread_mutex_lock(&lock);
    if (pc == NULL) {
        pthread_mutex_unlock(&lock);
        return;
    }
    enum pcapng_dir dir = ev->sent ? PCAPNG_SENT : PCAPNG_RECEIVED;
    switch (ev->kind) {
    case SECSOCK_TRACE_CONNECT:
    case SECSOCK_TRACE_ACCEPT:
        if (ev->conn != NULL)
            begin(ev, secure);
        break;
    case SECSOCK_TRACE_DATA:
        if (!secure) /* on a TLS/DTLS transport it is plaintext, not the wire */
            pcapng_data(find(ev->conn), dir, ev->data, ev->len);
        break;
    case SECSOCK_TRACE_WIRE:
        if (ev->conn == NULL)
            keep_pending(ev);
        else
            pcapng_data(find(ev->conn), dir, ev->data, ev->len);
        break;
    case SECSOCK_TRACE_SECRET: secret(ev); break;
    case SECSOCK_TRACE_HANDSHAKE: pcapng_conn_release(find(ev->conn)); break;
    case SECSOCK_TRACE_END:
        pcapng_conn_shutdown(find(ev->conn), dir, ev->reset ? PCAPNG_RST : PCAPNG_FIN);
        break;
    case SECSOCK_TRACE_CLOSE: end(ev->conn, ev->reset); break;
    default: break;
    }
    pthread_mutex_unlock(&lock);
}

unsigned capture_kinds(int secure)
{
    unsigned life = SECSOCK_TRACE_CONNECT | SECSOCK_TRACE_ACCEPT | SECSOCK_TRACE_HANDSHAKE |
                    SECSOCK_TRACE_END | SECSOCK_TRACE_CLOSE;
    return life | (secure ? SECSOCK_TRACE_WIRE | SECSOCK_TRACE_SECRET : SECSOCK_TRACE_DATA);
}

/* At exit: connections still open end as the kernel will end them (our
 * FIN), and the file is closed with everything held written. */
static void capture_close(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < BUCKETS; i++)
        while (buckets[i] != NULL)
            end(buckets[i]->conn, 0);
    while (pending_head != NULL)
        drop_pending_head();
    (void)pcapng_close(pc); /* a write error was reported when it happened */
    pc = NULL;
    pthread_mutex_unlock(&lock);
}

int capture_open(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0) {
        snprintf(err, errlen,
                 "--pcap -: a capture is binary and stdout is the program's "
                 "output; give a file name (tshark -r FILE reads it)");
        return -1;
    }
    pthread_mutex_lock(&lock);
    int rc = 0;
    if (pc == NULL) {
        pc = pcapng_open(path, err, errlen);
        if (pc == NULL)
            rc = -1;
        else
            (void)atexit(capture_close);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}
