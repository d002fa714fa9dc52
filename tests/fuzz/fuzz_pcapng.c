/*
 * The pcapng writer (src/app/pcapng.c) driven by arbitrary sequences of
 * calls: connections begun (TCP or UDP, IPv4, IPv6 or IPv4-mapped, either
 * side opening), data either way in any size, FIN and RST from either
 * side, ends, holds and releases, key-log lines, and the file closed
 * while connections live on. After each input the file is read back with
 * the tests' reader (tests/unit/pcapng_read.c), which checks:
 *   - every block's length fields agree, the file parses to its end, and
 *     options, packets and secrets are well formed;
 *   - every packet's IP, TCP and UDP lengths and checksums;
 *   - each TCP connection as Wireshark's analysis sees it: no sequence
 *     gap, no ACK of unseen data, nothing after RST, no duplicate ACK,
 *     no full window;
 * and the harness adds: each connection's bytes each way, and the key-log
 * text, are exactly what the calls gave, less what TCP could not have
 * sent (after that side's FIN, or a RST) or IP could not hold.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "app/pcapng.h"
#include "app/pcapng_packet.h"
#include "pcapng_read.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define SLOTS 4
#define MAX_CONNS 64 /* connections per input, each on its own local port */
#define BASE_PORT 20000

/* What the calls should have put in the file, per connection. */
struct model {
    int proto, family;
    int reset, fin[2];
    unsigned char *bytes[2]; /* [dir]: expected payload, concatenated */
    size_t len[2], cap[2];
    size_t got[2]; /* what the file holds, while checking */
};

static struct model models[MAX_CONNS];
static size_t nmodels;
static char *secrets;
static size_t secrets_len;

static void append(unsigned char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (*cap - *len < n) {
        *cap = *len + n + 4096;
        *buf = realloc(*buf, *cap);
        CHECK(*buf != NULL);
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

/* A byte of input, or 0 once it has run out. */
struct input {
    const uint8_t *p;
    size_t n;
};

static unsigned take(struct input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static void next_time(void *arg, struct timespec *now)
{
    struct timespec *t = arg;
    *now = *t;
    if (++t->tv_nsec == 1000000000) {
        t->tv_nsec = 0;
        t->tv_sec++;
    }
}

static void begin(struct pcapng *pc, struct pcapng_conn **slot, size_t *model_ix, struct input *in)
{
    unsigned how = take(in);
    if (nmodels == MAX_CONNS)
        return;
    int proto = how & 1 ? IPPROTO_UDP : IPPROTO_TCP;
    enum pcapng_opener who = how & 2 ? PCAPNG_PEER_OPENED : PCAPNG_WE_OPENED;
    int kind = (how >> 2) % 3; /* IPv4, IPv6, IPv4-mapped */
    uint16_t lport = (uint16_t)(BASE_PORT + nmodels), pport = 443;
    struct sockaddr_storage l = { 0 }, p = { 0 };
    socklen_t len;
    if (kind == 0) {
        struct sockaddr_in *a = (struct sockaddr_in *)&l, *b = (struct sockaddr_in *)&p;
        a->sin_family = b->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(0x7f000001);
        b->sin_addr.s_addr = htonl(0x7f000002);
        a->sin_port = htons(lport);
        b->sin_port = htons(pport);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l, *b = (struct sockaddr_in6 *)&p;
        a->sin6_family = b->sin6_family = AF_INET6;
        if (kind == 2) {
            memcpy(a->sin6_addr.s6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\1", 16);
            memcpy(b->sin6_addr.s6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\2", 16);
        } else {
            a->sin6_addr.s6_addr[15] = 1;
            b->sin6_addr.s6_addr[15] = 2;
        }
        a->sin6_port = htons(lport);
        b->sin6_port = htons(pport);
        len = sizeof *a;
    }
    pcapng_conn_end(*slot, PCAPNG_FIN); /* the slot's old one, if any */
    *slot =
        pcapng_conn_begin(pc, proto, who, (struct sockaddr *)&l, len, (struct sockaddr *)&p, len);
    *model_ix = nmodels;
    struct model *m = &models[nmodels++];
    m->proto = proto;
    m->family = kind == 1 ? AF_INET6 : AF_INET;
    /* NULL only once the file is closed: nothing of it is written then. */
    if (*slot == NULL)
        m->reset = 1;
}

/* The model of the connection in a slot: the last one begun in it. */
static struct model *slot_model(struct pcapng_conn **slots, struct pcapng_conn **slot,
                                size_t *slot_model_ix)
{
    return *slot != NULL ? &models[slot_model_ix[slot - slots]] : NULL;
}

static void data(struct pcapng_conn *c, struct model *m, enum pcapng_dir dir, struct input *in,
                 int closed)
{
    static unsigned char buf[2u << 20];
    static int filled;
    if (!filled) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)(i * 31 + i / 251);
        filled = 1;
    }
    size_t n = take(in) | (take(in) & 0x3f) << 8;
    if ((take(in) & 0x81) == 0x81)
        n *= 128; /* up to 2 MiB: past the MSS, and a held connection's bound */
    pcapng_data(c, dir, buf, n);
    if (c == NULL || closed || m->reset || (m->proto == IPPROTO_TCP && m->fin[dir]))
        return;
    if (m->proto == IPPROTO_UDP && n > pcapng_packet_max_payload(m->family, IPPROTO_UDP))
        n = pcapng_packet_max_payload(m->family, IPPROTO_UDP);
    append(&m->bytes[dir], &m->len[dir], &m->cap[dir], buf, n);
}

static void collect(void *arg, const struct pcapng_read_packet *p)
{
    (void)arg;
    uint16_t lport = p->outbound ? p->sport : p->dport;
    CHECK(lport >= BASE_PORT && lport < BASE_PORT + nmodels);
    struct model *m = &models[lport - BASE_PORT];
    CHECK(p->proto == m->proto && p->family == m->family);
    enum pcapng_dir dir = p->outbound ? PCAPNG_SENT : PCAPNG_RECEIVED;
    if (p->len == 0)
        return;
    CHECK(m->got[dir] + p->len <= m->len[dir]);
    CHECK(memcmp(m->bytes[dir] + m->got[dir], p->payload, p->len) == 0);
    m->got[dir] += p->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_pcapng", 0);
        CHECK(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    char err[256];
    struct pcapng *pc = pcapng_open(path, err, sizeof err);
    CHECK(pc != NULL);
    struct timespec t = { 1700000000, 0 };
    pcapng_set_clock(pc, next_time, &t);

    struct input in = { d, size };
    struct pcapng_conn *slots[SLOTS] = { 0 };
    size_t slot_ix[SLOTS] = { 0 };
    int closed = 0;
    nmodels = 0;
    secrets_len = 0;
    while (in.n > 0) {
        unsigned op = take(&in);
        struct pcapng_conn **slot = &slots[(op >> 4) % SLOTS];
        struct model *m = slot_model(slots, slot, slot_ix);
        switch (op & 15) {
        case 0:
        case 1: begin(pc, slot, &slot_ix[slot - slots], &in); break;
        case 2:
        case 3:
        case 4:
        case 5: data(*slot, m, op & 1 ? PCAPNG_SENT : PCAPNG_RECEIVED, &in, closed); break;
        case 6:
        case 7: {
            unsigned how = take(&in);
            enum pcapng_dir dir = how & 1 ? PCAPNG_SENT : PCAPNG_RECEIVED;
            enum pcapng_close cl = how & 2 ? PCAPNG_RST : PCAPNG_FIN;
            pcapng_conn_shutdown(*slot, dir, cl);
            if (m != NULL && m->proto == IPPROTO_TCP)
                *(cl == PCAPNG_RST ? &m->reset : &m->fin[dir]) = 1;
            break;
        }
        case 8:
            pcapng_conn_end(*slot, take(&in) & 1 ? PCAPNG_RST : PCAPNG_FIN);
            *slot = NULL;
            break;
        case 9: pcapng_conn_hold(*slot); break;
        case 10: pcapng_conn_release(*slot); break;
        case 11:
        case 12: {
            /* A key-log line of the input's bytes (up to its first NUL). */
            char line[300];
            size_t n = take(&in) % sizeof line;
            n = n < in.n ? n : in.n;
            memcpy(line, in.p, n);
            line[n] = '\0';
            in.p += n;
            in.n -= n;
            pcapng_keylog(pc, line);
            size_t k = strlen(line);
            while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
                k--;
            if (k > 0 && !closed) {
                static size_t cap;
                line[k] = '\n';
                append((unsigned char **)&secrets, &secrets_len, &cap, line, k + 1);
            }
            break;
        }
        case 13:
            /* Connections live on; pc itself is gone. */
            CHECK(pcapng_close(pc) == 0);
            pc = NULL;
            closed = 1;
            break;
        default: break; /* no call: the input's bytes move on */
        }
    }
    for (int i = 0; i < SLOTS; i++)
        pcapng_conn_end(slots[i], PCAPNG_FIN);
    CHECK(pcapng_close(pc) == 0);

    /* The file, read back: pcapng_close freed pc, the memfd stays. */
    off_t len = lseek(fd, 0, SEEK_END);
    CHECK(len > 0);
    unsigned char *file = malloc((size_t)len);
    CHECK(file != NULL && pread(fd, file, (size_t)len, 0) == len);
    struct pcapng_read_result res;
    int rc = pcapng_read(file, (size_t)len, collect, NULL, &res);
    if (rc != 0)
        fprintf(stderr, "fuzz_pcapng: the file does not read back: %s\n", res.error);
    CHECK(rc == 0);
    CHECK(res.secrets_len == secrets_len);
    CHECK(secrets_len == 0 || memcmp(res.secrets, secrets, secrets_len) == 0);
    for (size_t i = 0; i < nmodels; i++) {
        struct model *m = &models[i];
        for (int dir = 0; dir < 2; dir++) {
            CHECK(m->got[dir] == m->len[dir]);
            m->got[dir] = m->len[dir] = 0;
        }
        m->reset = m->fin[0] = m->fin[1] = 0;
    }
    pcapng_read_free(&res);
    free(file);
    return 0;
}
