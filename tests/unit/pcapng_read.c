/* A small pcapng reader and checker for the tests (see pcapng_read.h).
 * Written apart from the writer (its own checksum too), so that a mistake
 * in one is not repeated in the other. */
#include "pcapng_read.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

struct side {
    int started;   /* its SYN seen */
    uint32_t next; /* the sequence number it must send next */
    int has_acked;
    uint32_t acked;  /* its last acknowledgement */
    uint16_t window; /* its last window field */
    int wscale;      /* from its SYN, -1 if none */
    int sent_non_syn;
    int fin;
};

struct conv {
    int family;
    unsigned char addr[2][16];
    uint16_t port[2]; /* [0]: the SYN's sender */
    struct side side[2];
    int reset;
};

struct reader {
    struct pcapng_read_result *res;
    pcapng_read_fn fn;
    void *arg;
    struct conv *convs;
    size_t nconvs, capconvs;
    size_t frame;
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reader *r, const char *fmt, ...)
{
    if (r->res->error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        int n =
            r->frame ? snprintf(r->res->error, sizeof r->res->error, "frame %zu: ", r->frame) : 0;
        vsnprintf(r->res->error + n, sizeof r->res->error - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static uint32_t le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* the file is in this host's byte order (checked by the SHB magic) */
    return v;
}

static uint16_t le16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static uint16_t be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static uint32_t sum16(uint32_t sum, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sum += i % 2 == 0 ? (uint32_t)p[i] << 8 : p[i];
    return sum;
}

/* 1 if the one's complement sum folds to 0xffff: the checksum is right. */
static int sum_ok(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

/* Options from p to end: each padded, ended by opt_endofopt which must be
 * the last thing. *tsresol gets if_tsresol's value when asked. */
static int options(struct reader *r, const unsigned char *p, const unsigned char *end,
                   const char *what, int *tsresol)
{
    if (p == end)
        return 0; /* no options at all is allowed */
    while (p + 4 <= end) {
        uint16_t code = le16(p), n = le16(p + 2);
        size_t padded = (n + 3u) / 4 * 4;
        if (code == 0) {
            if (n != 0 || p + 4 != end)
                return fail(r, "%s: opt_endofopt with length %u or not last", what, n);
            return 0;
        }
        if ((size_t)(end - p - 4) < padded)
            return fail(r, "%s: option %u (length %u) runs past its block", what, code, n);
        for (size_t i = n; i < padded; i++)
            if (p[4 + i] != 0)
                return fail(r, "%s: option %u has non-zero padding", what, code);
        if (tsresol != NULL && code == 9 && n == 1)
            *tsresol = p[4];
        p += 4 + padded;
    }
    return fail(r, "%s: options not ended by opt_endofopt", what);
}

static struct conv *find_conv(struct reader *r, const struct pcapng_read_packet *p, int *from)
{
    size_t alen = p->family == AF_INET ? 4 : 16;
    for (size_t i = r->nconvs; i-- > 0;) {
        struct conv *c = &r->convs[i];
        if (c->family != p->family)
            continue;
        for (int s = 0; s < 2; s++)
            if (c->port[s] == p->sport && c->port[!s] == p->dport &&
                memcmp(c->addr[s], p->src, alen) == 0 && memcmp(c->addr[!s], p->dst, alen) == 0) {
                *from = s;
                return c;
            }
    }
    return NULL;
}

static int wscale_of(const struct pcapng_read_packet *p)
{
    const unsigned char *o = p->tcp_options, *end = o + p->tcp_optlen;
    while (o < end) {
        if (*o == 0)
            break;
        if (*o == 1) {
            o++;
            continue;
        }
        if (o + 2 > end || o[1] < 2 || o + o[1] > end)
            return -1;
        if (o[0] == 3 && o[1] == 3)
            return o[2];
        o += o[1];
    }
    return -1;
}

/* What Wireshark's TCP analysis would flag, for one segment. */
static int track_tcp(struct reader *r, const struct pcapng_read_packet *p)
{
    int from = 0;
    struct conv *c = find_conv(r, p, &from);
    int opening = (p->flags & (TH_SYN | TH_ACK)) == TH_SYN;
    if (opening && c != NULL && !c->reset && !(c->side[0].fin && c->side[1].fin))
        return fail(r, "a SYN inside an open connection");
    if (opening) {
        if (r->nconvs == r->capconvs) {
            size_t cap = r->capconvs ? 2 * r->capconvs : 16;
            struct conv *n = realloc(r->convs, cap * sizeof *n);
            if (n == NULL)
                return fail(r, "out of memory");
            r->convs = n;
            r->capconvs = cap;
        }
        c = &r->convs[r->nconvs++];
        memset(c, 0, sizeof *c);
        c->family = p->family;
        memcpy(c->addr[0], p->src, 16);
        memcpy(c->addr[1], p->dst, 16);
        c->port[0] = p->sport;
        c->port[1] = p->dport;
        from = 0;
    }
    if (c == NULL)
        return fail(r, "a TCP segment before its connection's SYN");
    if (c->reset)
        return fail(r, "a segment after RST");
    struct side *a = &c->side[from], *b = &c->side[!from];
    int ack = (p->flags & TH_ACK) != 0;
    if (p->flags & TH_SYN) {
        if (a->started)
            return fail(r, "a second SYN");
        if (ack != (from == 1) || (from == 1 && !b->started))
            return fail(r, "SYN/ACK out of order");
        if (p->len != 0)
            return fail(r, "data on a SYN");
        a->started = 1;
        a->next = p->seq;
        a->wscale = wscale_of(p);
    } else {
        if (!a->started || !b->started)
            return fail(r, "a segment before the handshake");
        if (p->seq != a->next)
            return fail(r, "sequence %u where %u was next (%s)", p->seq, a->next,
                        (int32_t)(p->seq - a->next) > 0 ? "a gap" : "a step back");
    }
    if (!ack && !(p->flags & TH_SYN))
        return fail(r, "a segment without ACK after the SYN");
    if (ack && p->ack != b->next)
        return fail(r, "ACK %u but the other side sent up to %u", p->ack, b->next);
    if (ack && p->len == 0 && !(p->flags & (TH_SYN | TH_FIN | TH_RST)) && a->has_acked &&
        p->ack == a->acked && p->window == a->window)
        return fail(r, "a duplicate ACK");
    if (a->fin && (p->len > 0 || (p->flags & TH_FIN)))
        return fail(r, "data or FIN after FIN");
    if (p->len > 0 && b->has_acked) {
        int shift = b->sent_non_syn && a->wscale >= 0 && b->wscale >= 0 ? b->wscale : 0;
        uint64_t window = (uint64_t)b->window << shift;
        uint32_t in_flight = p->seq + (uint32_t)p->len - b->acked;
        if (in_flight >= window)
            return fail(r, "%u bytes in flight reach the window of %llu", in_flight,
                        (unsigned long long)window);
    }
    a->next = p->seq + (uint32_t)p->len + ((p->flags & (TH_SYN | TH_FIN)) ? 1 : 0);
    if (ack) {
        a->has_acked = 1;
        a->acked = p->ack;
    }
    a->window = p->window;
    if (!(p->flags & TH_SYN))
        a->sent_non_syn = 1;
    a->fin |= (p->flags & TH_FIN) != 0;
    c->reset |= (p->flags & TH_RST) != 0;
    return 0;
}

/* The IP packet of one EPB. */
static int packet(struct reader *r, struct pcapng_read_packet *p, const unsigned char *d, size_t n)
{
    size_t ip;
    size_t alen;
    if (n >= 20 && d[0] >> 4 == 4) {
        ip = (size_t)(d[0] & 15) * 4;
        if (ip < 20 || ip > n || be16(d + 2) != n)
            return fail(r, "IPv4 lengths: header %zu, total %u, captured %zu", ip, be16(d + 2), n);
        if (!sum_ok(sum16(0, d, ip)))
            return fail(r, "IPv4 header checksum wrong");
        if ((be16(d + 6) & 0xbfff) != 0)
            return fail(r, "IPv4 fragment");
        p->family = AF_INET;
        p->proto = d[9];
        alen = 4;
        memcpy(p->src, d + 12, 4);
        memcpy(p->dst, d + 16, 4);
    } else if (n >= 40 && d[0] >> 4 == 6) {
        ip = 40;
        if (be16(d + 4) + 40u != n)
            return fail(r, "IPv6 payload length %u, captured %zu", be16(d + 4), n);
        p->family = AF_INET6;
        p->proto = d[6];
        alen = 16;
        memcpy(p->src, d + 8, 16);
        memcpy(p->dst, d + 24, 16);
    } else {
        return fail(r, "not an IPv4 or IPv6 packet");
    }
    const unsigned char *l4 = d + ip;
    size_t l4len = n - ip;
    /* The pseudo-header: addresses, protocol, length (same sum for both families). */
    uint32_t sum = sum16(0, p->src, alen);
    sum = sum16(sum, p->dst, alen);
    sum += (uint32_t)p->proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
    if (p->proto == IPPROTO_TCP) {
        size_t hl = l4len >= 20 ? (size_t)(l4[12] >> 4) * 4 : 0;
        if (hl < 20 || hl > l4len)
            return fail(r, "TCP header length %zu of %zu bytes", hl, l4len);
        if (!sum_ok(sum16(sum, l4, l4len)))
            return fail(r, "TCP checksum wrong");
        p->sport = be16(l4);
        p->dport = be16(l4 + 2);
        p->seq = be32(l4 + 4);
        p->ack = be32(l4 + 8);
        p->flags = l4[13];
        p->window = be16(l4 + 14);
        p->tcp_options = l4 + 20;
        p->tcp_optlen = hl - 20;
        p->payload = l4 + hl;
        p->len = l4len - hl;
        return track_tcp(r, p);
    }
    if (p->proto == IPPROTO_UDP) {
        if (l4len < 8 || be16(l4 + 4) != l4len)
            return fail(r, "UDP length %u of %zu bytes", l4len >= 8 ? be16(l4 + 4) : 0, l4len);
        if (be16(l4 + 6) == 0 ? p->family == AF_INET6 : !sum_ok(sum16(sum, l4, l4len)))
            return fail(r, "UDP checksum wrong");
        p->sport = be16(l4);
        p->dport = be16(l4 + 2);
        p->payload = l4 + 8;
        p->len = l4len - 8;
        return 0;
    }
    return fail(r, "IP protocol %d", p->proto);
}

static int block(struct reader *r, uint32_t type, const unsigned char *body, size_t n)
{
    struct pcapng_read_result *res = r->res;
    const unsigned char *end = body + n;
    if (res->blocks == 1 && type != 0x0A0D0D0A)
        return fail(r, "the first block is not a Section Header Block");
    switch (type) {
    case 0x0A0D0D0A:
        if (res->blocks != 1)
            return fail(r, "a second section");
        if (n < 16 || le32(body) != 0x1A2B3C4D || le16(body + 4) != 1 || le16(body + 6) != 0)
            return fail(r, "Section Header Block: magic or version wrong");
        return options(r, body + 16, end, "SHB", NULL);
    case 0x00000001: {
        if (n < 8)
            return fail(r, "Interface Description Block too short");
        int tsresol = 6;
        if (options(r, body + 8, end, "IDB", &tsresol) != 0)
            return -1;
        if (res->interfaces++ == 0) {
            res->linktype = le16(body);
            res->tsresol = tsresol;
        }
        return 0;
    }
    case 0x00000006: {
        r->frame = ++res->packets;
        if (n < 20)
            return fail(r, "Enhanced Packet Block too short");
        uint32_t iface = le32(body), cap = le32(body + 12), orig = le32(body + 16);
        if (iface >= res->interfaces)
            return fail(r, "a packet on interface %u, which is not described", iface);
        if (cap != orig)
            return fail(r, "captured %u of %u bytes", cap, orig);
        size_t padded = (cap + 3u) / 4 * 4;
        if (padded > n - 20)
            return fail(r, "packet of %u bytes runs past its block", cap);
        for (size_t i = cap; i < padded; i++)
            if (body[20 + i] != 0)
                return fail(r, "packet padding not zero");
        struct pcapng_read_packet p = { 0 };
        p.frame = r->frame;
        p.ts_ns = (uint64_t)le32(body + 4) << 32 | le32(body + 8);
        const unsigned char *o = body + 20 + padded;
        if (options(r, o, end, "EPB", NULL) != 0)
            return -1;
        /* epb_flags when it is the first option (the writer puts it there). */
        if (o + 8 <= end && le16(o) == 2 && le16(o + 2) == 4)
            p.outbound = (le32(o + 4) & 3) == 2;
        if (packet(r, &p, body + 20, cap) != 0)
            return -1;
        if (r->fn != NULL)
            r->fn(r->arg, &p);
        return 0;
    }
    case 0x0000000A: {
        res->secrets_blocks++;
        if (n < 8 || le32(body) != 0x544c534b)
            return fail(r, "Decryption Secrets Block: not a TLS key log");
        uint32_t slen = le32(body + 4);
        size_t padded = (slen + 3u) / 4 * 4;
        if (slen == 0 || padded > n - 8 || body[8 + slen - 1] != '\n')
            return fail(r, "Decryption Secrets Block: %u bytes of secrets", slen);
        char *s = realloc(res->secrets, res->secrets_len + slen + 1);
        if (s == NULL)
            return fail(r, "out of memory");
        memcpy(s + res->secrets_len, body + 8, slen);
        res->secrets = s;
        res->secrets_len += slen;
        s[res->secrets_len] = '\0';
        return options(r, body + 8 + padded, end, "DSB", NULL);
    }
    default: return fail(r, "a block of type 0x%08x", type);
    }
}

int pcapng_read(const unsigned char *buf, size_t len, pcapng_read_fn fn, void *arg,
                struct pcapng_read_result *res)
{
    memset(res, 0, sizeof *res);
    res->tsresol = -1;
    struct reader r = { res, fn, arg, NULL, 0, 0, 0 };
    size_t off = 0;
    int rc = 0;
    if (len == 0)
        rc = fail(&r, "an empty file");
    while (rc == 0 && off < len) {
        r.frame = 0;
        if (len - off < 12)
            rc = fail(&r, "%zu stray bytes at offset %zu", len - off, off);
        uint32_t type = rc == 0 ? le32(buf + off) : 0, total = rc == 0 ? le32(buf + off + 4) : 0;
        if (rc == 0 && (total < 12 || total % 4 != 0 || total > len - off))
            rc = fail(&r, "block at offset %zu: length %u", off, total);
        if (rc == 0 && le32(buf + off + total - 4) != total)
            rc = fail(&r, "block at offset %zu: trailing length %u, leading %u", off,
                      le32(buf + off + total - 4), total);
        if (rc == 0) {
            res->blocks++;
            rc = block(&r, type, buf + off + 8, total - 12);
            off += total;
        }
    }
    free(r.convs);
    return rc;
}

void pcapng_read_free(struct pcapng_read_result *res)
{
    free(res->secrets);
    res->secrets = NULL;
}
