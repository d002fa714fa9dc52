/*
 * The pcapng suites' capture (test_pcapng*.c): a file in a temporary
 * directory made and removed around each test (capture_setup,
 * capture_teardown), read back with the tests' own reader (pcapng_read.c),
 * which fails the test on any problem it finds; and addresses and a
 * connection to write.
 */
#ifndef SECSOCK_TEST_PCAPNG_CAPTURE_H
#define SECSOCK_TEST_PCAPNG_CAPTURE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pcapng.h"
#include "pcapng_packet.h"
#include "pcapng_read.h"

#define MAX_PACKETS 4096

/* The test's capture file, in its own temporary directory. */
extern char capture_dir[64];
extern char capture_path[128];

/* A Check fixture: makes the directory, and removes it and the file. */
void capture_setup(void);
void capture_teardown(void);

struct pkt {
    struct pcapng_read_packet p;
    unsigned char *data; /* a copy of the payload */
};

struct capture {
    unsigned char *file;
    size_t len;
    struct pcapng_read_result res;
    struct pkt pkts[MAX_PACKETS];
    size_t n;
};

/* A whole file into memory (the test fails if it cannot be read). */
unsigned char *capture_slurp(const char *file, size_t *len);

/* Reads capture_path back; the test fails on any problem the reader finds. */
struct capture *capture_read_back(void);
void capture_free(struct capture *c);

/* pcapng_open(capture_path), which must succeed. */
struct pcapng *capture_open(void);

/* Socket addresses of a literal address and a port. */
struct sockaddr_in capture_v4(const char *a, int port);
struct sockaddr_in6 capture_v6(const char *a, int port);

/* A connection 127.0.0.1:40000 (us) -> 127.0.0.2:443 (the peer). */
struct pcapng_conn *capture_conn4(struct pcapng *pc, int proto, enum pcapng_opener who);

#define F(k, want) ((k)->p.flags == (want))
#define SYN PCAPNG_TCP_SYN
#define ACK PCAPNG_TCP_ACK
#define FIN PCAPNG_TCP_FIN
#define RST PCAPNG_TCP_RST
#define PSH PCAPNG_TCP_PSH

/* The little-endian (host order) 32-bit number at p. */
uint32_t capture_le32(const unsigned char *p);

#endif
