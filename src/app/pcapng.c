/*
 * The pcapng writer (see pcapng.h): what the blocks say, from the headers
 * to each connection's packets. Blocks are built and written whole by
 * pcapng_block.c, under the file's mutex; the TCP sequence state of every
 * connection changes under that mutex too, so the file always holds a
 * connection's segments in sequence order.
 */
#include "pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapng_block.h"
#include "pcapng_packet.h"

#define BLOCK_SHB 0x0A0D0D0Au
#define BLOCK_IDB 0x00000001u
#define BLOCK_EPB 0x00000006u
#define BLOCK_DSB 0x0000000Au
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define SECRETS_TLS_KEYLOG 0x544c534bu /* "TLSK" */
#define LINKTYPE_RAW 101               /* IPv4 or IPv6, by the version nibble */
#define SNAPLEN 262144
/* What a held connection keeps in memory at most: a handshake is a few KiB. */
#define HOLD_MAX (1u << 20)
#define KEYLOG_LINE_MAX 65536 /* real ones are under 300 bytes */

#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL 9
#define OPT_EPB_FLAGS 2
#define EPB_INBOUND 1u
#define EPB_OUTBOUND 2u

/* The window both sides advertise: 65535, scaled by 2^7 (8 MiB) once the
 * SYNs agreed on it. A side acknowledges on its own once half of it is in
 * flight, so no segment ever reaches the window's edge ("window full"). */
#define WINDOW 65535u
#define WINDOW_SHIFT 7

struct pcapng {
    pthread_mutex_t lock;
    struct pcapng_file file;        /* and the block being built */
    int refs;                       /* the owner's, plus one per open connection */
    struct pcapng_conn *conns_open; /* a list, for close to write what they hold */
    uint64_t salt;                  /* ISNs differ between captures */
    uint32_t conns;
    pcapng_clock clock;
    void *clock_arg;
};

/* What one side of a TCP connection has sent. */
struct side {
    uint32_t seq;   /* the next sequence number it sends */
    uint32_t acked; /* the last acknowledgement it sent */
    uint16_t ip_id;
    int sent_non_syn; /* its window is scaled from then on */
    int fin;
};

struct pcapng_conn {
    struct pcapng *pc;
    struct pcapng_conn *prev, *next; /* in pc->conns_open */
    int proto;
    struct pcapng_flow flow[2]; /* [dir]: who sends which way */
    struct side side[2];        /* [PCAPNG_SENT]: ours, [PCAPNG_RECEIVED]: the peer's */
    int reset;                  /* a RST ended it */
    int holding;                /* pcapng_conn_hold: blocks go to held */
    unsigned char *held;
    size_t held_len, held_cap;
};

static void default_clock(void *arg, struct timespec *now)
{
    (void)arg;
    clock_gettime(CLOCK_REALTIME, now);
}

/* splitmix64: initial sequence numbers and IP ids that look like a real
 * stack's, differ per connection, and need no entropy source. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* ---- held connections ---- */

static void release_locked(struct pcapng_conn *c)
{
    c->holding = 0;
    pcapng_file_write(&c->pc->file, c->held, c->held_len);
    free(c->held);
    c->held = NULL;
    c->held_len = c->held_cap = 0;
}

/* The block just built: to the file, or kept while c is held. */
static void block_emit(struct pcapng_conn *c)
{
    struct pcapng *pc = c->pc;
    if (!c->holding) {
        pcapng_block_write(&pc->file);
        return;
    }
    if (c->held_cap - c->held_len < pc->file.len) {
        size_t want = c->held_len + pc->file.len, cap = c->held_cap ? 2 * c->held_cap : 16384;
        while (cap < want)
            cap *= 2;
        cap = cap < HOLD_MAX ? cap : want;
        unsigned char *p = want <= HOLD_MAX ? realloc(c->held, cap) : NULL;
        if (p == NULL) {
            /* Too much to hold (or no memory): write what is held, then this. */
            release_locked(c);
            pcapng_block_write(&pc->file);
            return;
        }
        c->held = p;
        c->held_cap = cap;
    }
    memcpy(c->held + c->held_len, pc->file.buf, pc->file.len);
    c->held_len += pc->file.len;
}

static int write_headers(struct pcapng *pc)
{
    static const char appl[] = "secsock " SECSOCK_VERSION;
    static const char ifname[] = "secsock";
    static const char ifdesc[] = "the bytes the program sent and received on its sockets; "
                                 "IP, TCP and UDP headers synthesized";
    const uint8_t tsresol = 9; /* nanoseconds */
    struct pcapng_file *f = &pc->file;

    if (pcapng_block_begin(f, BLOCK_SHB, 16 + pcapng_option_room(sizeof appl - 1) + 4) != 0)
        return -1;
    uint32_t magic = BYTE_ORDER_MAGIC;
    uint16_t version[2] = { 1, 0 };
    int64_t section_length = -1; /* unknown: written as it goes */
    pcapng_put(f, &magic, 4);
    pcapng_put(f, version, 4);
    pcapng_put(f, &section_length, 8);
    pcapng_option(f, OPT_SHB_USERAPPL, appl, sizeof appl - 1);
    pcapng_block_end(f, 1);
    pcapng_block_write(f);

    if (pcapng_block_begin(f, BLOCK_IDB,
                           8 + pcapng_option_room(sizeof ifname - 1) +
                               pcapng_option_room(sizeof ifdesc - 1) + pcapng_option_room(1) + 4) !=
        0)
        return -1;
    uint16_t link[2] = { LINKTYPE_RAW, 0 };
    pcapng_put(f, link, 4);
    pcapng_put32(f, SNAPLEN);
    pcapng_option(f, OPT_IF_NAME, ifname, sizeof ifname - 1);
    pcapng_option(f, OPT_IF_DESCRIPTION, ifdesc, sizeof ifdesc - 1);
    pcapng_option(f, OPT_IF_TSRESOL, &tsresol, 1);
    pcapng_block_end(f, 1);
    pcapng_block_write(f);
    return f->fd >= 0 ? 0 : -1;
}

struct pcapng *pcapng_open(const char *path, char *err, size_t errlen)
{
    struct pcapng *pc = calloc(1, sizeof *pc);
    if (pc == NULL || (pc->file.path = strdup(path)) == NULL) {
        snprintf(err, errlen, "cannot open the capture file '%s': out of memory", path);
        free(pc);
        return NULL;
    }
    pthread_mutex_init(&pc->lock, NULL);
    pc->refs = 1;
    pc->clock = default_clock;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    pc->salt = mix((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec) ^ (uint64_t)getpid();

    /* 0600: the file will hold the sessions' secrets. */
    pc->file.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
    struct stat st;
    if (pc->file.fd >= 0 && fstat(pc->file.fd, &st) == 0)
        pc->file.pipe = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
    if (pc->file.fd < 0) {
        snprintf(err, errlen, "cannot open the capture file '%s': %s", path, strerror(errno));
    } else if (write_headers(pc) != 0) {
        snprintf(err, errlen, "%s",
                 pc->file.error[0] ? pc->file.error
                                   : "cannot write the capture file: out of "
                                     "memory");
    } else {
        pc->file.opened = 1;
        return pc;
    }
    if (pc->file.fd >= 0)
        close(pc->file.fd);
    pthread_mutex_destroy(&pc->lock);
    free(pc->file.buf);
    free(pc->file.path);
    free(pc);
    return NULL;
}

static void unref_locked(struct pcapng *pc, int *last)
{
    *last = --pc->refs == 0;
}

static void destroy(struct pcapng *pc)
{
    pthread_mutex_destroy(&pc->lock);
    free(pc->file.buf);
    free(pc->file.path);
    free(pc);
}

int pcapng_close(struct pcapng *pc)
{
    if (pc == NULL)
        return 0;
    int last;
    pthread_mutex_lock(&pc->lock);
    for (struct pcapng_conn *c = pc->conns_open; c != NULL; c = c->next)
        release_locked(c); /* a handshake still going on */
    if (pc->file.fd >= 0 && close(pc->file.fd) != 0) {
        pc->file.fd = -1;
        pcapng_file_fail(&pc->file, strerror(errno));
    }
    pc->file.fd = -1;
    int rc = pc->file.error[0] ? -1 : 0;
    unref_locked(pc, &last);
    pthread_mutex_unlock(&pc->lock);
    if (last)
        destroy(pc);
    return rc;
}

const char *pcapng_error(struct pcapng *pc)
{
    if (pc == NULL)
        return NULL;
    pthread_mutex_lock(&pc->lock);
    const char *e = pc->file.error[0] ? pc->file.error : NULL; /* set once, then constant */
    pthread_mutex_unlock(&pc->lock);
    return e;
}

void pcapng_set_clock(struct pcapng *pc, pcapng_clock clock, void *arg)
{
    pthread_mutex_lock(&pc->lock);
    pc->clock = clock != NULL ? clock : default_clock;
    pc->clock_arg = clock != NULL ? arg : NULL;
    pthread_mutex_unlock(&pc->lock);
}

/* ---- packets ---- */

/* An Enhanced Packet Block around the packet that build() writes. */
struct packet {
    struct pcapng_conn *c;
    enum pcapng_dir dir;
    const struct pcapng_tcp_header *tcp; /* NULL: UDP */
    const void *data;
    size_t len;
};

static void write_packet(const struct packet *p, const struct timespec *ts)
{
    struct pcapng_file *file = &p->c->pc->file;
    if (file->fd < 0)
        return;
    if (pcapng_block_begin(file, BLOCK_EPB,
                           20 + PCAPNG_PACKET_MAX_HEADERS + p->len + 3 + pcapng_option_room(4) +
                               4) != 0) {
        pcapng_file_fail(file, "out of memory");
        return;
    }
    uint64_t t = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
    uint32_t head[3] = { 0 /* interface */, (uint32_t)(t >> 32), (uint32_t)t };
    pcapng_put(file, head, sizeof head);
    size_t lens_at = file->len;
    pcapng_put32(file, 0);
    pcapng_put32(file, 0);
    const struct pcapng_flow *f = &p->c->flow[p->dir];
    uint16_t ip_id = p->c->side[p->dir].ip_id++;
    unsigned char *out = file->buf + file->len;
    size_t n = p->tcp != NULL ? pcapng_packet_tcp(out, f, ip_id, p->tcp, p->data, p->len)
                              : pcapng_packet_udp(out, f, ip_id, p->data, p->len);
    uint32_t lens[2] = { (uint32_t)n, (uint32_t)n }; /* captured, original */
    memcpy(file->buf + lens_at, lens, 8);
    file->len += n;
    pcapng_pad4(file);
    uint32_t flags = p->dir == PCAPNG_SENT ? EPB_OUTBOUND : EPB_INBOUND;
    pcapng_option(file, OPT_EPB_FLAGS, &flags, 4);
    pcapng_block_end(file, 1);
    block_emit(p->c);
}

/* One TCP segment from side dir; the sequence state follows it. */
static void segment(struct pcapng_conn *c, enum pcapng_dir dir, uint8_t flags, const void *data,
                    size_t len, const struct timespec *ts)
{
    /* SYNs carry MSS, NOP, window scale: Wireshark then scales later windows. */
    static const unsigned char syn_options[8] = {
        2, 4, PCAPNG_TCP_MSS >> 8, PCAPNG_TCP_MSS & 0xff, 1, 3, 3, WINDOW_SHIFT
    };
    struct side *me = &c->side[dir], *other = &c->side[!dir];
    struct pcapng_tcp_header h = {
        .seq = me->seq,
        .ack = (flags & PCAPNG_TCP_ACK) ? other->seq : 0,
        .flags = flags,
        .window = WINDOW,
        .options = (flags & PCAPNG_TCP_SYN) ? syn_options : NULL,
        .optlen = (flags & PCAPNG_TCP_SYN) ? sizeof syn_options : 0,
    };
    struct packet p = { c, dir, &h, data, len };
    write_packet(&p, ts);
    me->seq += (uint32_t)len + ((flags & (PCAPNG_TCP_SYN | PCAPNG_TCP_FIN)) ? 1 : 0);
    if (flags & PCAPNG_TCP_ACK)
        me->acked = h.ack;
    if (!(flags & PCAPNG_TCP_SYN))
        me->sent_non_syn = 1;
}

/* Before len more bytes from dir: the receiver acknowledges what is in
 * flight if this segment would take it past half its window. */
static void keep_window_open(struct pcapng_conn *c, enum pcapng_dir dir, size_t len,
                             const struct timespec *ts)
{
    struct side *me = &c->side[dir], *other = &c->side[!dir];
    uint32_t in_flight = me->seq - other->acked;
    /* A SYN's window is never scaled. */
    size_t window = other->sent_non_syn ? (size_t)WINDOW << WINDOW_SHIFT : WINDOW;
    if (in_flight > 0 && in_flight + len > window / 2)
        segment(c, !dir, PCAPNG_TCP_ACK, NULL, 0, ts);
}

/* ---- connections ---- */

/* The address and port of sa, an IPv4-mapped IPv6 address as IPv4. */
static int endpoint(const struct sockaddr *sa, socklen_t len, int *family, unsigned char addr[16],
                    uint16_t *port)
{
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        *family = AF_INET;
        memcpy(addr, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        *port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            *family = AF_INET;
            memcpy(addr, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            *family = AF_INET6;
            memcpy(addr, &in6->sin6_addr, 16);
        }
        return 0;
    }
    return -1;
}

struct pcapng_conn *pcapng_conn_begin(struct pcapng *pc, int proto, enum pcapng_opener opener,
                                      const struct sockaddr *local, socklen_t locallen,
                                      const struct sockaddr *peer, socklen_t peerlen)
{
    struct pcapng_flow out = { 0 };
    int peer_family;
    if (pc == NULL || (proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
        endpoint(local, locallen, &out.family, out.src, &out.sport) != 0 ||
        endpoint(peer, peerlen, &peer_family, out.dst, &out.dport) != 0 ||
        peer_family != out.family)
        return NULL;
    struct pcapng_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->pc = pc;
    c->proto = proto;
    c->flow[PCAPNG_SENT] = out;
    struct pcapng_flow *in = &c->flow[PCAPNG_RECEIVED];
    in->family = out.family;
    memcpy(in->src, out.dst, 16);
    memcpy(in->dst, out.src, 16);
    in->sport = out.dport;
    in->dport = out.sport;

    pthread_mutex_lock(&pc->lock);
    if (pc->file.fd < 0) {
        pthread_mutex_unlock(&pc->lock);
        free(c);
        return NULL;
    }
    pc->refs++;
    c->next = pc->conns_open;
    if (c->next != NULL)
        c->next->prev = c;
    pc->conns_open = c;
    uint64_t seed = pc->salt ^ (uint64_t)++pc->conns << 32 ^ (uint64_t)out.sport << 16 ^ out.dport;
    for (int d = 0; d < 2; d++) {
        uint64_t r = mix(seed + (uint64_t)d);
        c->side[d].seq = (uint32_t)r;
        c->side[d].ip_id = (uint16_t)(r >> 32);
    }
    if (proto == IPPROTO_TCP) {
        struct timespec ts;
        pc->clock(pc->clock_arg, &ts);
        enum pcapng_dir o = opener == PCAPNG_WE_OPENED ? PCAPNG_SENT : PCAPNG_RECEIVED;
        segment(c, o, PCAPNG_TCP_SYN, NULL, 0, &ts);
        segment(c, !o, PCAPNG_TCP_SYN | PCAPNG_TCP_ACK, NULL, 0, &ts);
        segment(c, o, PCAPNG_TCP_ACK, NULL, 0, &ts);
    }
    pthread_mutex_unlock(&pc->lock);
    return c;
}

void pcapng_data(struct pcapng_conn *c, enum pcapng_dir dir, const void *bytes, size_t len)
{
    if (c == NULL || len == 0)
        return;
    dir = dir == PCAPNG_SENT ? PCAPNG_SENT : PCAPNG_RECEIVED;
    struct pcapng *pc = c->pc;
    const unsigned char *p = bytes;
    pthread_mutex_lock(&pc->lock);
    struct timespec ts;
    pc->clock(pc->clock_arg, &ts);
    if (c->proto == IPPROTO_UDP) {
        size_t max = pcapng_packet_max_payload(c->flow[0].family, IPPROTO_UDP);
        struct packet pk = { c, dir, NULL, p, len < max ? len : max };
        write_packet(&pk, &ts);
    } else if (!c->reset && !c->side[dir].fin) {
        for (size_t off = 0; off < len;) {
            size_t n = len - off < PCAPNG_TCP_MSS ? len - off : PCAPNG_TCP_MSS;
            keep_window_open(c, dir, n, &ts);
            /* PSH on the last segment of a write, as a stack sets it. */
            uint8_t flags = off + n == len ? PCAPNG_TCP_ACK | PCAPNG_TCP_PSH : PCAPNG_TCP_ACK;
            segment(c, dir, flags, p + off, n, &ts);
            off += n;
        }
    }
    pthread_mutex_unlock(&pc->lock);
}

/* Under the lock. */
static void shutdown_side(struct pcapng_conn *c, enum pcapng_dir dir, enum pcapng_close how,
                          const struct timespec *ts)
{
    if (c->proto != IPPROTO_TCP || c->reset || (how == PCAPNG_FIN && c->side[dir].fin))
        return;
    if (how == PCAPNG_RST) {
        segment(c, dir, PCAPNG_TCP_RST | PCAPNG_TCP_ACK, NULL, 0, ts);
        c->reset = 1;
    } else {
        segment(c, dir, PCAPNG_TCP_FIN | PCAPNG_TCP_ACK, NULL, 0, ts);
        c->side[dir].fin = 1;
    }
}

void pcapng_conn_shutdown(struct pcapng_conn *c, enum pcapng_dir dir, enum pcapng_close how)
{
    if (c == NULL)
        return;
    dir = dir == PCAPNG_SENT ? PCAPNG_SENT : PCAPNG_RECEIVED;
    struct pcapng *pc = c->pc;
    pthread_mutex_lock(&pc->lock);
    struct timespec ts;
    pc->clock(pc->clock_arg, &ts);
    shutdown_side(c, dir, how, &ts);
    pthread_mutex_unlock(&pc->lock);
}

void pcapng_conn_end(struct pcapng_conn *c, enum pcapng_close how)
{
    if (c == NULL)
        return;
    struct pcapng *pc = c->pc;
    int last;
    pthread_mutex_lock(&pc->lock);
    if (c->proto == IPPROTO_TCP && pc->file.fd >= 0) {
        struct timespec ts;
        pc->clock(pc->clock_arg, &ts);
        shutdown_side(c, PCAPNG_SENT, how, &ts);
        /* The kernel acknowledges a FIN even when its program never reads. */
        for (int d = 0; d < 2 && !c->reset; d++)
            if (c->side[d].fin && c->side[!d].acked != c->side[d].seq)
                segment(c, !d, PCAPNG_TCP_ACK, NULL, 0, &ts);
    }
    release_locked(c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        pc->conns_open = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    unref_locked(pc, &last);
    pthread_mutex_unlock(&pc->lock);
    free(c);
    if (last)
        destroy(pc);
}

void pcapng_conn_hold(struct pcapng_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->pc->lock);
    c->holding = 1;
    pthread_mutex_unlock(&c->pc->lock);
}

void pcapng_conn_release(struct pcapng_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->pc->lock);
    release_locked(c);
    pthread_mutex_unlock(&c->pc->lock);
}

void pcapng_keylog(struct pcapng *pc, const char *line)
{
    if (pc == NULL || line == NULL)
        return;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (n == 0 || n > KEYLOG_LINE_MAX)
        return;
    pthread_mutex_lock(&pc->lock);
    if (pc->file.fd >= 0) {
        if (pcapng_block_begin(&pc->file, BLOCK_DSB, 8 + n + 4) != 0) {
            pcapng_file_fail(&pc->file, "out of memory");
        } else {
            pcapng_put32(&pc->file, SECRETS_TLS_KEYLOG);
            pcapng_put32(&pc->file, (uint32_t)(n + 1));
            pcapng_put(&pc->file, line, n);
            pcapng_put(&pc->file, "\n", 1);
            pcapng_pad4(&pc->file);
            pcapng_block_end(&pc->file, 0);
            pcapng_block_write(&pc->file);
        }
    }
    pthread_mutex_unlock(&pc->lock);
}
