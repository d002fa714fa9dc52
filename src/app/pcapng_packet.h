/*
 * The IP packets of a pcapng capture: IPv4 or IPv6 headers and TCP or UDP
 * headers, synthesized around real payload bytes, with correct lengths and
 * checksums (IPv4 header, TCP, UDP), so a dissector finds nothing wrong.
 */
#ifndef SECSOCK_APP_PCAPNG_PACKET_H
#define SECSOCK_APP_PCAPNG_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* TCP header flags. */
#define PCAPNG_TCP_FIN 0x01
#define PCAPNG_TCP_SYN 0x02
#define PCAPNG_TCP_RST 0x04
#define PCAPNG_TCP_PSH 0x08
#define PCAPNG_TCP_ACK 0x10

#define PCAPNG_TCP_MAX_OPTIONS 40
/* The most any header pair takes: IPv6 (40) and TCP with options (60). */
#define PCAPNG_PACKET_MAX_HEADERS 100

/* One direction of a flow: addresses (4 bytes used for AF_INET) and ports,
 * in host order. */
struct pcapng_flow {
    int family; /* AF_INET or AF_INET6 */
    unsigned char src[16], dst[16];
    uint16_t sport, dport;
};

struct pcapng_tcp_header {
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
    const unsigned char *options; /* a multiple of 4 bytes, at most 40 */
    size_t optlen;
};

/* The largest payload one packet of this family and protocol can carry
 * (the IPv4 total length and the IPv6 payload length are 16 bits). */
size_t pcapng_packet_max_payload(int family, int proto);

/* A whole TCP or UDP packet into out, which has room for
 * PCAPNG_PACKET_MAX_HEADERS + len bytes; len is at most
 * pcapng_packet_max_payload(). Returns the packet's length. ip_id is the
 * IPv4 identification (unused for IPv6). */
size_t pcapng_packet_tcp(unsigned char *out, const struct pcapng_flow *f, uint16_t ip_id,
                         const struct pcapng_tcp_header *h, const void *data, size_t len);
size_t pcapng_packet_udp(unsigned char *out, const struct pcapng_flow *f, uint16_t ip_id,
                         const void *data, size_t len);

/* The Internet checksum (RFC 1071) of buf, added to sum, not yet folded or
 * complemented; len must be even except for the last call. */
uint64_t pcapng_checksum_add(uint64_t sum, const void *buf, size_t len);
/* Folds sum to 16 bits and complements it: the value a header stores. */
uint16_t pcapng_checksum_finish(uint64_t sum);

#endif
