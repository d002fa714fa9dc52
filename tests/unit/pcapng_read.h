/*
 * A small pcapng reader for the tests of the writer (test_pcapng.c,
 * fuzz_pcapng.c): it reads a whole file back, checks every rule a reader
 * relies on, and hands each packet to a callback.
 *
 * Checked: block lengths (at least 12, a multiple of 4, inside the file,
 * the trailing copy equal to the leading one); a Section Header Block
 * first (byte-order magic, version 1.0); options well formed (each padded,
 * inside its block, ended by opt_endofopt); packets only on a described
 * interface, captured length equal to the original and inside the block;
 * Decryption Secrets Blocks of TLS key-log type, newline-terminated.
 * In each packet: the IPv4/IPv6 header and its lengths, the IPv4 header,
 * TCP and UDP checksums. Over each TCP connection, what Wireshark's TCP
 * analysis would flag: a segment before the SYN, a sequence gap or step
 * back, an acknowledgement of anything but all the other side sent, data
 * after FIN, anything after RST, a duplicate ACK, a segment reaching the
 * receiver's window.
 */
#ifndef SECSOCK_TEST_PCAPNG_READ_H
#define SECSOCK_TEST_PCAPNG_READ_H

#include <stddef.h>
#include <stdint.h>

struct pcapng_read_packet {
    size_t frame;   /* 1-based, as Wireshark numbers them */
    uint64_t ts_ns; /* in the interface's resolution: ns */
    int outbound;   /* epb_flags: 1 outbound, 0 inbound */
    int family;     /* AF_INET or AF_INET6 */
    int proto;      /* IPPROTO_TCP or IPPROTO_UDP */
    unsigned char src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack; /* TCP only */
    uint8_t flags;
    uint16_t window;
    const unsigned char *tcp_options;
    size_t tcp_optlen;
    const unsigned char *payload;
    size_t len;
};

struct pcapng_read_result {
    size_t blocks, interfaces, packets, secrets_blocks;
    int tsresol; /* if_tsresol of interface 0, or -1 */
    uint32_t linktype;
    char *secrets; /* every key-log text, in order; malloc'd */
    size_t secrets_len;
    char error[256]; /* the first problem, "" if none */
};

typedef void (*pcapng_read_fn)(void *arg, const struct pcapng_read_packet *p);

/* Reads len bytes of a file; returns 0, or -1 with res->error set. fn may
 * be NULL. Free res with pcapng_read_free either way. */
int pcapng_read(const unsigned char *buf, size_t len, pcapng_read_fn fn, void *arg,
                struct pcapng_read_result *res);
void pcapng_read_free(struct pcapng_read_result *res);

#endif
