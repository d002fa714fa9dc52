#include "pcapng_packet.h"

#include <netinet/in.h>
#include <string.h>

#define IPV4_HEADER 20
#define IPV6_HEADER 40
#define TCP_HEADER 20
#define UDP_HEADER 8
#define TTL 64

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

uint64_t pcapng_checksum_add(uint64_t sum, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (i < len)
        sum += (uint32_t)p[i] << 8; /* an odd last byte, padded with zero */
    return sum;
}

uint16_t pcapng_checksum_finish(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t pcapng_packet_max_payload(int family, int proto)
{
    size_t l4 = proto == IPPROTO_TCP ? TCP_HEADER : UDP_HEADER;
    /* IPv4: the total length covers the IP header; IPv6: only the payload. */
    return 65535 - l4 - (family == AF_INET ? IPV4_HEADER : 0);
}

/* The IP header for an l4len-byte payload; returns its length. */
static size_t ip_header(unsigned char *out, const struct pcapng_flow *f, uint16_t ip_id, int proto,
                        size_t l4len)
{
    if (f->family == AF_INET) {
        memset(out, 0, IPV4_HEADER);
        out[0] = 0x45; /* version 4, 5 words */
        put16(out + 2, (uint16_t)(IPV4_HEADER + l4len));
        put16(out + 4, ip_id);
        put16(out + 6, 0x4000); /* don't fragment */
        out[8] = TTL;
        out[9] = (unsigned char)proto;
        memcpy(out + 12, f->src, 4);
        memcpy(out + 16, f->dst, 4);
        put16(out + 10, pcapng_checksum_finish(pcapng_checksum_add(0, out, IPV4_HEADER)));
        return IPV4_HEADER;
    }
    memset(out, 0, IPV6_HEADER);
    out[0] = 0x60;
    put16(out + 4, (uint16_t)l4len);
    out[6] = (unsigned char)proto;
    out[7] = TTL;
    memcpy(out + 8, f->src, 16);
    memcpy(out + 24, f->dst, 16);
    return IPV6_HEADER;
}

/* The TCP/UDP checksum: pseudo-header, then the l4 header and data. */
static uint16_t l4_checksum(const struct pcapng_flow *f, int proto, const unsigned char *l4,
                            size_t hlen, const void *data, size_t len)
{
    size_t alen = f->family == AF_INET ? 4 : 16;
    unsigned char tail[8] = { 0 };
    uint64_t sum = pcapng_checksum_add(0, f->src, alen);
    sum = pcapng_checksum_add(sum, f->dst, alen);
    /* IPv4: zero, protocol, length (16 bits); IPv6: length (32), zeros, next header. */
    put32(tail, (uint32_t)(hlen + len));
    tail[7] = (unsigned char)proto;
    sum = pcapng_checksum_add(sum, tail, 8);
    sum = pcapng_checksum_add(sum, l4, hlen);
    return pcapng_checksum_finish(pcapng_checksum_add(sum, data, len));
}

size_t pcapng_packet_tcp(unsigned char *out, const struct pcapng_flow *f, uint16_t ip_id,
                         const struct pcapng_tcp_header *h, const void *data, size_t len)
{
    size_t hlen = TCP_HEADER + h->optlen;
    size_t off = ip_header(out, f, ip_id, IPPROTO_TCP, hlen + len);
    unsigned char *t = out + off;
    memset(t, 0, TCP_HEADER);
    put16(t, f->sport);
    put16(t + 2, f->dport);
    put32(t + 4, h->seq);
    put32(t + 8, h->ack);
    t[12] = (unsigned char)(hlen / 4 << 4);
    t[13] = h->flags;
    put16(t + 14, h->window);
    if (h->optlen > 0)
        memcpy(t + TCP_HEADER, h->options, h->optlen);
    if (len > 0)
        memcpy(t + hlen, data, len);
    put16(t + 16, l4_checksum(f, IPPROTO_TCP, t, hlen, data, len));
    return off + hlen + len;
}

size_t pcapng_packet_udp(unsigned char *out, const struct pcapng_flow *f, uint16_t ip_id,
                         const void *data, size_t len)
{
    size_t off = ip_header(out, f, ip_id, IPPROTO_UDP, UDP_HEADER + len);
    unsigned char *u = out + off;
    put16(u, f->sport);
    put16(u + 2, f->dport);
    put16(u + 4, (uint16_t)(UDP_HEADER + len));
    put16(u + 6, 0);
    if (len > 0)
        memcpy(u + UDP_HEADER, data, len);
    uint16_t sum = l4_checksum(f, IPPROTO_UDP, u, UDP_HEADER, data, len);
    put16(u + 6, sum == 0 ? 0xffff : sum); /* 0 would mean "no checksum" */
    return off + UDP_HEADER + len;
}
