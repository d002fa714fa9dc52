/*
 * A pcapng capture of what a program sent and received, written without
 * root and without a capture library: the payload bytes are the real ones
 * (as they went to and came from the socket), the IPv4/IPv6 and TCP/UDP
 * headers around them are synthesized from the real addresses and ports,
 * and TLS/DTLS key-log lines go into the file as Decryption Secrets Blocks,
 * so `tshark -r FILE` and Wireshark show the exchange decrypted with no
 * other file.
 *
 * The file is one section, one interface (LINKTYPE_RAW: IP packets, no
 * link layer), timestamps in nanoseconds of the real clock. A TCP
 * connection starts with SYN, SYN/ACK, ACK and keeps its sequence and
 * acknowledgement numbers consistent in both directions, so Wireshark's
 * TCP analysis finds nothing to flag; data is cut into segments of at
 * most PCAPNG_TCP_MSS bytes.
 *
 * Every call is safe from any thread: one mutex serialises each block
 * (blocks are never interleaved, and a connection's segments are in the
 * file in sequence order). A write error (disk full) is reported once on
 * stderr; the capture stops there, the file keeping every whole block
 * written before, and the program goes on.
 */
#ifndef SECSOCK_APP_PCAPNG_H
#define SECSOCK_APP_PCAPNG_H

#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

/* The data bytes of one synthesized TCP segment at most: what Linux uses on
 * loopback (MTU 65536, less the IP and TCP headers and TCP timestamps),
 * under the 65535-byte limit of an IPv4 packet and of an IPv6 payload. */
#define PCAPNG_TCP_MSS 65483

struct pcapng;
struct pcapng_conn;

/* Who sent the SYN of a TCP connection: we (a client's connect) or the
 * peer (a server's accept). Ignored for UDP. */
enum pcapng_opener { PCAPNG_WE_OPENED, PCAPNG_PEER_OPENED };

/* Which way bytes went. */
enum pcapng_dir { PCAPNG_RECEIVED = 0, PCAPNG_SENT = 1 };

/* How a side of a TCP connection ended. */
enum pcapng_close { PCAPNG_FIN, PCAPNG_RST };

/* Creates (or truncates) path, mode 0600 since it will hold session
 * secrets, and writes the section and interface headers. NULL on failure,
 * with the reason in err. */
struct pcapng *pcapng_open(const char *path, char *err, size_t errlen);

/* Stops the capture, closes the file (after writing what held connections
 * keep) and frees pc; connections still open write nothing more, and are
 * still freed by pcapng_conn_end. Returns 0, or -1 if a write failed at any time (already
 * reported). NULL is a no-op. */
int pcapng_close(struct pcapng *pc);

/* The first write error's text, or NULL while the capture is whole. */
const char *pcapng_error(struct pcapng *pc);

/* A connection from local to peer (both AF_INET, or both AF_INET6; an
 * IPv4-mapped IPv6 address is written as IPv4). proto is IPPROTO_TCP or
 * IPPROTO_UDP. For TCP it writes the three-way handshake, timed now.
 * Returns NULL if the addresses cannot be written (another family, a
 * mismatch, no memory) or pc is NULL; every function below takes NULL as
 * a no-op, so a caller need not check. */
struct pcapng_conn *pcapng_conn_begin(struct pcapng *pc, int proto, enum pcapng_opener opener,
                                      const struct sockaddr *local, socklen_t locallen,
                                      const struct sockaddr *peer, socklen_t peerlen);

/* len bytes that went one way, timed now: TCP segments of at most
 * PCAPNG_TCP_MSS bytes, or one UDP datagram (cut at the largest an IP
 * packet holds). Bytes after that side's FIN, or after a RST, are dropped:
 * TCP cannot have sent them. */
void pcapng_data(struct pcapng_conn *c, enum pcapng_dir dir, const void *bytes, size_t len);

/* One side of a TCP connection closed, as it happened: its FIN (the peer's
 * when a read sees the end of the stream; ours on shutdown) or its RST
 * (ECONNRESET from a read: the peer's). A second close of a side, or
 * anything after a RST, is ignored. No-op for UDP. */
void pcapng_conn_shutdown(struct pcapng_conn *c, enum pcapng_dir dir, enum pcapng_close how);

/* The connection is over: for TCP, our FIN or RST unless we sent one
 * already, and the ACK of the last FIN; then c is freed. */
void pcapng_conn_end(struct pcapng_conn *c, enum pcapng_close how);

/* One NSS key-log line (as OpenSSL's keylog callback gives it, with or
 * without its newline), as a Decryption Secrets Block, written at once.
 * Wireshark and tshark take secrets in file order and do not go back: a
 * record already read when its key arrives stays encrypted. */
void pcapng_keylog(struct pcapng *pc, const char *line);

/* Holding a connection around its TLS or DTLS handshake puts its secrets
 * in the file before the records they decrypt: OpenSSL logs a key only
 * after reading the message it comes from, and with read-ahead the
 * encrypted flight arrives in the same read. While held, the connection's
 * packets stay in memory (in order, with their real times; at most 1 MiB,
 * then they are written anyway); release writes them, after every key
 * logged meanwhile. Call hold before the handshake, release after it
 * (done or failed); pcapng_conn_end releases too. */
void pcapng_conn_hold(struct pcapng_conn *c);
void pcapng_conn_release(struct pcapng_conn *c);

/* Tests and replays: where timestamps come from (default: CLOCK_REALTIME). */
typedef void (*pcapng_clock)(void *arg, struct timespec *now);
void pcapng_set_clock(struct pcapng *pc, pcapng_clock clock, void *arg);

#endif
