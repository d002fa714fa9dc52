/* The pcapng writer (src/app/pcapng.c, pcapng_packet.c), read back with
 * the tests' own reader (pcapng_read.c), which checks the block layout and
 * what Wireshark's TCP analysis would flag. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pcapng.h"
#include "pcapng_packet.h"
#include "pcapng_read.h"
#include "testutil.h"

#define MAX_PACKETS 4096

/* ---- a capture in a temporary directory, read back ---- */

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/secsock-pcapng-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cap.pcapng", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

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

static void collect(void *arg, const struct pcapng_read_packet *p)
{
    struct capture *c = arg;
    ck_assert_uint_lt(c->n, MAX_PACKETS);
    struct pkt *k = &c->pkts[c->n++];
    k->p = *p;
    k->data = malloc(p->len + 1);
    memcpy(k->data, p->payload, p->len);
    k->p.payload = k->data;
    k->p.tcp_options = NULL;
}

static unsigned char *slurp(const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (cap - n < 65536) {
            cap = cap ? 2 * cap : 1 << 20;
            unsigned char *more = realloc(buf, cap);
            ck_assert_ptr_nonnull(more);
            buf = more;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Reads the file back; the test fails on any problem the reader finds. */
static struct capture *read_back(void)
{
    struct capture *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->file = slurp(path, &c->len);
    int rc = pcapng_read(c->file, c->len, collect, c, &c->res);
    ck_assert_msg(rc == 0, "the capture does not read back: %s", c->res.error);
    return c;
}

static void capture_free(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->pkts[i].data);
    pcapng_read_free(&c->res);
    free(c->file);
    free(c);
}

static struct pcapng *open_capture(void)
{
    char err[256];
    struct pcapng *pc = pcapng_open(path, err, sizeof err);
    ck_assert_msg(pc != NULL, "pcapng_open: %s", err);
    return pc;
}

static struct sockaddr_in v4(const char *a, int port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    ck_assert_int_eq(inet_pton(AF_INET, a, &in.sin_addr), 1);
    return in;
}

static struct sockaddr_in6 v6(const char *a, int port)
{
    struct sockaddr_in6 in = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    ck_assert_int_eq(inet_pton(AF_INET6, a, &in.sin6_addr), 1);
    return in;
}

/* A connection 127.0.0.1:40000 (us) -> 127.0.0.2:443 (the peer). */
static struct pcapng_conn *conn4(struct pcapng *pc, int proto, enum pcapng_opener who)
{
    struct sockaddr_in l = v4("127.0.0.1", 40000), p = v4("127.0.0.2", 443);
    struct pcapng_conn *c = pcapng_conn_begin(pc, proto, who, (struct sockaddr *)&l, sizeof l,
                                              (struct sockaddr *)&p, sizeof p);
    ck_assert_ptr_nonnull(c);
    return c;
}

#define F(k, want) ((k)->p.flags == (want))
#define SYN PCAPNG_TCP_SYN
#define ACK PCAPNG_TCP_ACK
#define FIN PCAPNG_TCP_FIN
#define RST PCAPNG_TCP_RST
#define PSH PCAPNG_TCP_PSH

static uint32_t le32_at(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- file and block layout ---- */

START_TEST(headers_only_file_is_a_section_and_an_interface)
{
    ck_assert_int_eq(pcapng_close(open_capture()), 0);
    struct capture *c = read_back();
    ck_assert_uint_eq(c->res.blocks, 2);
    ck_assert_uint_eq(c->res.interfaces, 1);
    ck_assert_uint_eq(c->res.packets, 0);
    ck_assert_uint_eq(c->res.linktype, 101); /* LINKTYPE_RAW */
    ck_assert_int_eq(c->res.tsresol, 9);     /* nanoseconds */
    /* The raw bytes: SHB type, its length twice, the byte-order magic. */
    uint32_t shb = le32_at(c->file + 4);
    ck_assert_uint_eq(le32_at(c->file), 0x0A0D0D0A);
    ck_assert_uint_eq(le32_at(c->file + 8), 0x1A2B3C4D);
    ck_assert_uint_eq(le32_at(c->file + shb - 4), shb);
    ck_assert_uint_eq(shb % 4, 0);
    ck_assert_uint_eq(le32_at(c->file + shb), 1); /* then the IDB */
    /* shb_userappl names the writer. */
    ck_assert_ptr_nonnull(memmem(c->file, shb, "secsock", 7));
    capture_free(c);
}
END_TEST

START_TEST(file_is_private_since_it_holds_secrets)
{
    ck_assert_int_eq(pcapng_close(open_capture()), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(open_replaces_an_existing_file)
{
    FILE *f = fopen(path, "w");
    fputs("old contents, longer than nothing at all", f);
    fclose(f);
    ck_assert_int_eq(pcapng_close(open_capture()), 0);
    struct capture *c = read_back();
    ck_assert_uint_eq(c->res.blocks, 2);
    capture_free(c);
}
END_TEST

START_TEST(open_failure_names_the_file_and_why)
{
    char err[256] = "";
    ck_assert_ptr_null(pcapng_open("/nonexistent-dir/x.pcapng", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.pcapng"));
    ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
    /* A device that takes nothing: the headers cannot be written. */
    ck_assert_ptr_null(pcapng_open("/dev/full", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, strerror(ENOSPC)));
}
END_TEST

START_TEST(every_block_is_aligned_and_its_lengths_agree)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    /* Payload lengths 1..7 exercise every padding. */
    for (size_t n = 1; n <= 7; n++)
        pcapng_data(c, n % 2 ? PCAPNG_SENT : PCAPNG_RECEIVED, "abcdefg", n);
    pcapng_keylog(pc, "CLIENT_RANDOM 0011 22"); /* 21 bytes + newline: padded */
    pcapng_conn_end(c, PCAPNG_FIN);
    ck_assert_int_eq(pcapng_close(pc), 0);

    struct capture *cap = read_back(); /* the reader checks each block */
    for (size_t off = 0; off < cap->len;) {
        uint32_t total = le32_at(cap->file + off + 4);
        ck_assert_uint_eq(total % 4, 0);
        ck_assert_uint_eq(le32_at(cap->file + off + total - 4), total);
        off += total;
    }
    ck_assert_uint_eq(cap->res.secrets_blocks, 1);
    capture_free(cap);
}
END_TEST

START_TEST(packets_carry_their_direction)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "ping", 4);
    pcapng_data(c, PCAPNG_RECEIVED, "pong", 4);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 2);
    ck_assert_int_eq(cap->pkts[0].p.outbound, 1);
    ck_assert_int_eq(cap->pkts[1].p.outbound, 0);
    capture_free(cap);
}
END_TEST

/* ---- TCP: handshake, sequence numbers, closing ---- */

START_TEST(tcp_begins_with_syn_synack_ack_from_the_opener)
{
    for (int who = 0; who < 2; who++) {
        struct pcapng *pc = open_capture();
        struct pcapng_conn *c =
            conn4(pc, IPPROTO_TCP, who == 0 ? PCAPNG_WE_OPENED : PCAPNG_PEER_OPENED);
        pcapng_conn_end(c, PCAPNG_RST);
        pcapng_close(pc);
        struct capture *cap = read_back();
        ck_assert_uint_eq(cap->n, 4);
        struct pkt *syn = &cap->pkts[0], *synack = &cap->pkts[1], *ack = &cap->pkts[2];
        ck_assert(F(syn, SYN) && F(synack, SYN | ACK) && F(ack, ACK));
        ck_assert_int_eq(syn->p.outbound, who == 0);
        ck_assert_int_eq(synack->p.outbound, who != 0);
        ck_assert_uint_eq(synack->p.ack, syn->p.seq + 1);
        ck_assert_uint_eq(ack->p.seq, syn->p.seq + 1);
        ck_assert_uint_eq(ack->p.ack, synack->p.seq + 1);
        /* Real addresses and ports, each way. */
        struct pkt *ours = who == 0 ? syn : synack;
        ck_assert_int_eq(ours->p.family, AF_INET);
        ck_assert_mem_eq(ours->p.src, "\x7f\x00\x00\x01", 4);
        ck_assert_mem_eq(ours->p.dst, "\x7f\x00\x00\x02", 4);
        ck_assert_uint_eq(ours->p.sport, 40000);
        ck_assert_uint_eq(ours->p.dport, 443);
        capture_free(cap);
    }
}
END_TEST

START_TEST(syns_announce_mss_and_window_scale)
{
    struct pcapng *pc = open_capture();
    pcapng_conn_end(conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED), PCAPNG_RST);
    pcapng_close(pc);
    /* The reader drops options pointers: find them in the raw SYN. */
    struct capture *cap = read_back();
    const unsigned char mss_ws[] = {2, 4, PCAPNG_TCP_MSS >> 8, PCAPNG_TCP_MSS & 0xff, 1, 3, 3, 7};
    const unsigned char *at = memmem(cap->file, cap->len, mss_ws, sizeof mss_ws);
    ck_assert_ptr_nonnull(at);
    ck_assert_ptr_nonnull(memmem(at + 1, cap->len - (size_t)(at + 1 - cap->file), mss_ws,
                                 sizeof mss_ws)); /* in the SYN/ACK too */
    ck_assert_uint_eq(cap->pkts[0].p.window, 65535);
    capture_free(cap);
}
END_TEST

START_TEST(data_segments_follow_the_sequence_both_ways)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "GET / HTTP/1.1\r\n\r\n", 18);
    pcapng_data(c, PCAPNG_RECEIVED, "HTTP/1.1 200 OK\r\n", 17);
    pcapng_data(c, PCAPNG_RECEIVED, "\r\nhello", 7);
    pcapng_data(c, PCAPNG_SENT, "", 0); /* nothing: no segment */
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 3 + 3 + 1);
    uint32_t ours = cap->pkts[0].p.seq + 1, theirs = cap->pkts[1].p.seq + 1;
    struct pkt *req = &cap->pkts[3], *r1 = &cap->pkts[4], *r2 = &cap->pkts[5];
    ck_assert(F(req, PSH | ACK) && F(r1, PSH | ACK) && F(r2, PSH | ACK));
    ck_assert_uint_eq(req->p.seq, ours);
    ck_assert_uint_eq(req->p.ack, theirs);
    ck_assert_uint_eq(req->p.len, 18);
    ck_assert_mem_eq(req->data, "GET / HTTP/1.1\r\n\r\n", 18);
    ck_assert_uint_eq(r1->p.seq, theirs);
    ck_assert_uint_eq(r1->p.ack, ours + 18);
    ck_assert_uint_eq(r2->p.seq, theirs + 17);
    ck_assert_mem_eq(r2->data, "\r\nhello", 7);
    capture_free(cap);
}
END_TEST

START_TEST(a_large_write_is_cut_at_the_mss)
{
    size_t len = 3 * PCAPNG_TCP_MSS + 1000;
    unsigned char *big = malloc(len);
    testutil_fill_pattern(big, len, 7);
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, big, len);
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = read_back();
    size_t off = 0, segs = 0;
    for (size_t i = 3; i < cap->n; i++) {
        struct pkt *k = &cap->pkts[i];
        if (k->p.len == 0)
            continue;
        ck_assert_uint_le(k->p.len, PCAPNG_TCP_MSS);
        ck_assert_mem_eq(k->data, big + off, k->p.len);
        off += k->p.len;
        /* PSH only on the write's last segment. */
        ck_assert_int_eq((k->p.flags & PSH) != 0, off == len);
        segs++;
    }
    ck_assert_uint_eq(off, len);
    ck_assert_uint_eq(segs, 4);
    capture_free(cap);
    free(big);
}
END_TEST

START_TEST(a_long_one_way_stream_is_acknowledged_before_the_window_fills)
{
    /* 40 MiB one way, in writes of every size: the reader fails on any
     * segment that would reach the receiver's window. */
    size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk);
    testutil_fill_pattern(buf, chunk, 3);
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_PEER_OPENED);
    size_t total = 0;
    for (size_t n = 1; total < 40u << 20; n = n * 7 % chunk + 1) {
        pcapng_data(c, PCAPNG_SENT, buf, n);
        total += n;
    }
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    size_t pure_acks = 0, seen = 0;
    for (size_t i = 3; i < cap->n; i++) {
        seen += cap->pkts[i].p.outbound ? cap->pkts[i].p.len : 0;
        pure_acks += !cap->pkts[i].p.outbound && F(&cap->pkts[i], ACK);
    }
    ck_assert_uint_eq(seen, total);
    ck_assert_uint_ge(pure_acks, 40 / 4 - 1); /* one per half window (4 MiB) */
    capture_free(cap);
    free(buf);
}
END_TEST

START_TEST(the_first_write_after_the_handshake_respects_the_unscaled_window)
{
    /* The SYN/ACK's window is never scaled: 65535 bytes right after it
     * would fill it exactly. */
    unsigned char buf[65535] = {0};
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, buf, sizeof buf);
    pcapng_data(c, PCAPNG_SENT, buf, sizeof buf);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    capture_free(read_back());
}
END_TEST

START_TEST(peer_fin_then_ours_closes_in_three_segments)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_RECEIVED, "bye", 3);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN); /* read saw the end */
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 3 + 1 + 3);
    struct pkt *pf = &cap->pkts[4], *of = &cap->pkts[5], *last = &cap->pkts[6];
    ck_assert(F(pf, FIN | ACK) && !pf->p.outbound);
    ck_assert(F(of, FIN | ACK) && of->p.outbound);
    ck_assert_uint_eq(of->p.ack, pf->p.seq + 1);
    ck_assert(F(last, ACK) && !last->p.outbound);
    ck_assert_uint_eq(last->p.ack, of->p.seq + 1);
    capture_free(cap);
}
END_TEST

START_TEST(our_fin_alone_is_acknowledged_by_the_peer)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 5);
    ck_assert(F(&cap->pkts[3], FIN | ACK) && cap->pkts[3].p.outbound);
    ck_assert(F(&cap->pkts[4], ACK) && !cap->pkts[4].p.outbound);
    capture_free(cap);
}
END_TEST

START_TEST(half_close_lets_the_other_side_send_on)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "request", 7);
    pcapng_conn_shutdown(c, PCAPNG_SENT, PCAPNG_FIN);
    pcapng_data(c, PCAPNG_SENT, "too late", 8); /* cannot follow our FIN: dropped */
    pcapng_data(c, PCAPNG_RECEIVED, "reply", 5);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN); /* twice: once */
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    /* handshake, request, our FIN, reply (acking the FIN), their FIN, our ACK */
    ck_assert_uint_eq(cap->n, 3 + 5);
    ck_assert_mem_eq(cap->pkts[5].data, "reply", 5);
    ck_assert_uint_eq(cap->pkts[5].p.ack, cap->pkts[4].p.seq + 1);
    ck_assert(F(&cap->pkts[7], ACK) && cap->pkts[7].p.outbound);
    capture_free(cap);
}
END_TEST

START_TEST(reset_ends_everything)
{
    for (int peer = 0; peer < 2; peer++) {
        struct pcapng *pc = open_capture();
        struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
        pcapng_data(c, PCAPNG_SENT, "x", 1);
        if (peer)
            pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_RST); /* ECONNRESET */
        else
            pcapng_conn_shutdown(c, PCAPNG_SENT, PCAPNG_RST);
        pcapng_data(c, PCAPNG_RECEIVED, "y", 1);
        pcapng_conn_shutdown(c, PCAPNG_SENT, PCAPNG_FIN);
        pcapng_conn_end(c, PCAPNG_FIN);
        pcapng_close(pc);
        struct capture *cap = read_back();
        ck_assert_uint_eq(cap->n, 5);
        ck_assert(F(&cap->pkts[4], RST | ACK));
        ck_assert_int_eq(cap->pkts[4].p.outbound, !peer);
        capture_free(cap);
    }
}
END_TEST

START_TEST(end_with_reset_after_a_fin)
{
    /* The client that closes with the server's tickets unread. */
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_RECEIVED, "tickets", 7);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN);
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 6);
    ck_assert(F(&cap->pkts[5], RST | ACK) && cap->pkts[5].p.outbound);
    capture_free(cap);
}
END_TEST

/* ---- UDP, addresses ---- */

START_TEST(udp_datagrams_are_written_whole)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "hello", 5);
    pcapng_data(c, PCAPNG_RECEIVED, "", 0);
    pcapng_data(c, PCAPNG_RECEIVED, "world!", 6);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_RST); /* no meaning for UDP */
    pcapng_data(c, PCAPNG_SENT, "again", 5);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 3);
    ck_assert_int_eq(cap->pkts[0].p.proto, IPPROTO_UDP);
    ck_assert_uint_eq(cap->pkts[0].p.sport, 40000);
    ck_assert_mem_eq(cap->pkts[1].data, "world!", 6);
    ck_assert_uint_eq(cap->pkts[1].p.sport, 443);
    ck_assert_mem_eq(cap->pkts[2].data, "again", 5);
    capture_free(cap);
}
END_TEST

START_TEST(udp_datagram_is_cut_at_what_ip_holds)
{
    size_t len = 70000;
    unsigned char *big = calloc(1, len);
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, big, len);
    pcapng_conn_end(c, PCAPNG_FIN);
    struct sockaddr_in6 l = v6("::1", 1), p = v6("::1", 2);
    c = pcapng_conn_begin(pc, IPPROTO_UDP, PCAPNG_WE_OPENED, (struct sockaddr *)&l, sizeof l,
                          (struct sockaddr *)&p, sizeof p);
    pcapng_data(c, PCAPNG_SENT, big, len);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 2);
    ck_assert_uint_eq(cap->pkts[0].p.len, 65535 - 20 - 8);
    ck_assert_uint_eq(cap->pkts[1].p.len, 65535 - 8);
    capture_free(cap);
    free(big);
}
END_TEST

START_TEST(ipv6_and_ipv4_mapped_addresses)
{
    struct pcapng *pc = open_capture();
    struct sockaddr_in6 l = v6("2001:db8::1", 5000), p = v6("2001:db8::2", 443);
    struct pcapng_conn *c = pcapng_conn_begin(pc, IPPROTO_TCP, PCAPNG_WE_OPENED,
                                              (struct sockaddr *)&l, sizeof l,
                                              (struct sockaddr *)&p, sizeof p);
    pcapng_data(c, PCAPNG_SENT, "six", 3);
    pcapng_conn_end(c, PCAPNG_FIN);
    /* A dual-stack server's IPv4 client: written as IPv4. */
    struct sockaddr_in6 ml = v6("::ffff:127.0.0.1", 443), mp = v6("::ffff:127.0.0.9", 6000);
    c = pcapng_conn_begin(pc, IPPROTO_TCP, PCAPNG_PEER_OPENED, (struct sockaddr *)&ml,
                          sizeof ml, (struct sockaddr *)&mp, sizeof mp);
    pcapng_data(c, PCAPNG_RECEIVED, "four", 4);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_int_eq(cap->pkts[0].p.family, AF_INET6);
    ck_assert_mem_eq(cap->pkts[0].p.src, &l.sin6_addr, 16);
    ck_assert_uint_eq(cap->pkts[0].p.sport, 5000);
    ck_assert_mem_eq(cap->pkts[3].data, "six", 3);
    struct pkt *m = &cap->pkts[cap->n - 1];
    ck_assert_int_eq(m->p.family, AF_INET);
    ck_assert_mem_eq(cap->pkts[6].p.src, "\x7f\x00\x00\x09", 4); /* the peer's SYN */
    capture_free(cap);
}
END_TEST

START_TEST(addresses_that_cannot_be_written_are_refused)
{
    struct pcapng *pc = open_capture();
    struct sockaddr_in a = v4("127.0.0.1", 1);
    struct sockaddr_in6 b = v6("::1", 2);
    struct sockaddr_un u = {.sun_family = AF_UNIX, .sun_path = "/tmp/x"};
    struct sockaddr *sa = (struct sockaddr *)&a, *sb = (struct sockaddr *)&b;
    ck_assert_ptr_null(pcapng_conn_begin(pc, IPPROTO_TCP, 0, sa, sizeof a, sb, sizeof b));
    ck_assert_ptr_null(pcapng_conn_begin(pc, IPPROTO_TCP, 0, (struct sockaddr *)&u, sizeof u,
                                         (struct sockaddr *)&u, sizeof u));
    ck_assert_ptr_null(pcapng_conn_begin(pc, IPPROTO_TCP, 0, sa, 4, sa, sizeof a));
    ck_assert_ptr_null(pcapng_conn_begin(pc, IPPROTO_SCTP, 0, sa, sizeof a, sa, sizeof a));
    ck_assert_ptr_null(pcapng_conn_begin(NULL, IPPROTO_TCP, 0, sa, sizeof a, sa, sizeof a));
    /* Every call takes the NULL a refused connection is. */
    pcapng_data(NULL, PCAPNG_SENT, "x", 1);
    pcapng_conn_shutdown(NULL, PCAPNG_SENT, PCAPNG_FIN);
    pcapng_conn_hold(NULL);
    pcapng_conn_release(NULL);
    pcapng_conn_end(NULL, PCAPNG_FIN);
    pcapng_keylog(NULL, "CLIENT_RANDOM a b");
    ck_assert_ptr_null(pcapng_error(NULL));
    ck_assert_int_eq(pcapng_close(NULL), 0);
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->res.packets, 0);
    capture_free(cap);
}
END_TEST

/* ---- checksums ---- */

START_TEST(checksum_matches_rfc1071_example)
{
    /* RFC 1071's example bytes sum to 0xddf2 (before complement). */
    const unsigned char b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ck_assert_uint_eq(pcapng_checksum_finish(pcapng_checksum_add(0, b, sizeof b)),
                      (uint16_t)~0xddf2);
    /* An odd length pads with a zero byte. */
    const unsigned char odd[] = {0x12, 0x34, 0x56};
    ck_assert_uint_eq(pcapng_checksum_finish(pcapng_checksum_add(0, odd, 3)),
                      (uint16_t)~(0x1234 + 0x5600));
}
END_TEST

START_TEST(udp_checksum_is_never_zero_on_the_wire)
{
    /* A payload that sums to exactly what makes the checksum 0: it must
     * be written 0xffff, since 0 means "no checksum". Search for one. */
    struct pcapng_flow f = {.family = AF_INET6, .sport = 1, .dport = 2};
    unsigned char out[PCAPNG_PACKET_MAX_HEADERS + 2];
    int found = 0;
    for (unsigned v = 0; v <= 0xffff && !found; v++) {
        unsigned char d[2] = {(unsigned char)(v >> 8), (unsigned char)v};
        size_t n = pcapng_packet_udp(out, &f, 0, d, 2);
        ck_assert_uint_eq(n, 40 + 8 + 2);
        uint16_t sum = (uint16_t)(out[46] << 8 | out[47]);
        ck_assert_uint_ne(sum, 0);
        found = sum == 0xffff;
    }
    ck_assert(found);
}
END_TEST

/* ---- secrets ---- */

START_TEST(keylog_lines_become_secrets_blocks)
{
    struct pcapng *pc = open_capture();
    pcapng_keylog(pc, "CLIENT_RANDOM 00 11");
    pcapng_keylog(pc, "CLIENT_TRAFFIC_SECRET_0 22 33\n"); /* its newline is not doubled */
    pcapng_keylog(pc, "");
    pcapng_keylog(pc, "\n");
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->res.secrets_blocks, 2);
    ck_assert_str_eq(cap->res.secrets, "CLIENT_RANDOM 00 11\nCLIENT_TRAFFIC_SECRET_0 22 33\n");
    capture_free(cap);
}
END_TEST

/* Index of the first block of type t at or after block from, or -1. */
static int block_index(struct capture *cap, uint32_t t, int from)
{
    int i = 0;
    for (size_t off = 0; off < cap->len; i++) {
        if (i >= from && le32_at(cap->file + off) == t)
            return i;
        off += le32_at(cap->file + off + 4);
    }
    return -1;
}

START_TEST(a_held_connection_waits_for_its_secrets)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_SENT, "ClientHello", 11);
    pcapng_data(c, PCAPNG_RECEIVED, "ServerHello+encrypted flight", 28);
    struct stat before, after;
    ck_assert_int_eq(stat(path, &before), 0);
    pcapng_keylog(pc, "SERVER_HANDSHAKE_TRAFFIC_SECRET aa bb");
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_int_gt(after.st_size, before.st_size); /* the secret at once */
    pcapng_conn_release(c);
    pcapng_data(c, PCAPNG_SENT, "Finished", 8);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back();
    /* SHB, IDB, SYN, SYN/ACK, ACK, then the DSB, then the held packets. */
    ck_assert_int_eq(block_index(cap, 0x0000000A, 0), 5);
    ck_assert_int_eq(block_index(cap, 0x00000006, 5), 6);
    ck_assert_mem_eq(cap->pkts[3].data, "ClientHello", 11);
    ck_assert_mem_eq(cap->pkts[5].data, "Finished", 8);
    ck_assert_uint_lt(cap->pkts[3].p.ts_ns, cap->pkts[5].p.ts_ns + 1); /* real times kept */
    capture_free(cap);
}
END_TEST

START_TEST(ending_a_held_connection_writes_what_it_held)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_SENT, "ClientHello", 11);
    pcapng_conn_end(c, PCAPNG_FIN); /* a failed handshake */
    pcapng_close(pc);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 3 + 1 + 2);
    capture_free(cap);
}
END_TEST

START_TEST(holding_more_than_its_bound_writes_in_order)
{
    size_t len = 3u << 20;
    unsigned char *big = malloc(len);
    testutil_fill_pattern(big, len, 11);
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_RECEIVED, big, len);
    pcapng_conn_release(c);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = read_back(); /* in sequence order, or it would fail */
    size_t off = 0;
    for (size_t i = 0; i < cap->n; i++)
        if (!cap->pkts[i].p.outbound && cap->pkts[i].p.len > 0) {
            ck_assert_mem_eq(cap->pkts[i].data, big + off, cap->pkts[i].p.len);
            off += cap->pkts[i].p.len;
        }
    ck_assert_uint_eq(off, len);
    capture_free(cap);
    free(big);
}
END_TEST

/* ---- time ---- */

static void fixed_clock(void *arg, struct timespec *now)
{
    struct timespec *t = arg;
    *now = *t;
    t->tv_nsec += 1; /* each call a nanosecond later */
}

START_TEST(timestamps_are_the_clock_in_nanoseconds)
{
    struct timespec t = {1700000000, 123456789};
    struct pcapng *pc = open_capture();
    pcapng_set_clock(pc, fixed_clock, &t);
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "a", 1);
    pcapng_data(c, PCAPNG_RECEIVED, "b", 1);
    pcapng_set_clock(pc, NULL, NULL); /* the real clock again */
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = read_back();
    uint64_t base = 1700000000ull * 1000000000ull + 123456789;
    ck_assert_uint_eq(cap->pkts[0].p.ts_ns, base); /* the handshake: one instant */
    ck_assert_uint_eq(cap->pkts[2].p.ts_ns, base);
    ck_assert_uint_eq(cap->pkts[3].p.ts_ns, base + 1);
    ck_assert_uint_eq(cap->pkts[4].p.ts_ns, base + 2);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t real = cap->pkts[5].p.ts_ns, when = (uint64_t)now.tv_sec * 1000000000ull;
    ck_assert_uint_le(real, when + 1000000000ull);
    ck_assert_uint_ge(real + 60 * 1000000000ull, when);
    capture_free(cap);
}
END_TEST

/* ---- threads ---- */

#define THREADS 8
#define WRITES 500

struct worker {
    struct pcapng *pc;
    int id;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sockaddr_in l = v4("127.0.0.1", 443), p = v4("127.0.0.1", 50000 + w->id);
    struct pcapng_conn *c = pcapng_conn_begin(w->pc, IPPROTO_TCP, PCAPNG_PEER_OPENED,
                                              (struct sockaddr *)&l, sizeof l,
                                              (struct sockaddr *)&p, sizeof p);
    char line[64];
    for (int i = 0; i < WRITES; i++) {
        unsigned char b[64];
        size_t n = 1 + (size_t)(i * 7 + w->id) % sizeof b;
        memset(b, 'a' + w->id, n);
        pcapng_data(c, i % 3 ? PCAPNG_SENT : PCAPNG_RECEIVED, b, n);
        if (i % 100 == 0) {
            snprintf(line, sizeof line, "CLIENT_RANDOM %02x %d", w->id, i);
            pcapng_keylog(w->pc, line);
        }
    }
    pcapng_conn_end(c, w->id % 2 ? PCAPNG_RST : PCAPNG_FIN);
    return NULL;
}

START_TEST(every_thread_of_a_server_writes_into_one_file)
{
    struct pcapng *pc = open_capture();
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){pc, i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(pcapng_close(pc), 0);
    struct capture *cap = read_back(); /* each connection consistent on its own */
    size_t bytes[THREADS] = {0}, expect[THREADS] = {0};
    for (size_t i = 0; i < cap->n; i++) {
        struct pkt *k = &cap->pkts[i];
        int id = (k->p.outbound ? k->p.dport : k->p.sport) - 50000;
        ck_assert_int_ge(id, 0);
        ck_assert_int_lt(id, THREADS);
        for (size_t j = 0; j < k->p.len; j++)
            ck_assert_int_eq(k->data[j], 'a' + id);
        bytes[id] += k->p.len;
    }
    for (int id = 0; id < THREADS; id++) {
        for (int i = 0; i < WRITES; i++)
            expect[id] += 1 + (size_t)(i * 7 + id) % 64;
        ck_assert_uint_eq(bytes[id], expect[id]);
    }
    ck_assert_uint_eq(cap->res.secrets_blocks, THREADS * WRITES / 100);
    capture_free(cap);
}
END_TEST

/* ---- errors ---- */

START_TEST(a_write_error_is_reported_once_and_the_file_keeps_whole_blocks)
{
    /* A file size limit: writes past it fail with EFBIG, as a full disk
     * would with ENOSPC. stderr goes to a file to count the reports. */
    char errpath[160];
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(efd, 0);
    ck_assert_int_ge(dup2(efd, STDERR_FILENO), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {10000, 10000};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    unsigned char b[3000] = {0};
    for (int i = 0; i < 20; i++) /* 60 kB: far past the limit */
        pcapng_data(c, PCAPNG_SENT, b, sizeof b);
    pcapng_keylog(pc, "CLIENT_RANDOM 00 11");
    ck_assert_ptr_nonnull(pcapng_error(pc));
    ck_assert_ptr_nonnull(strstr(pcapng_error(pc), path));
    pcapng_conn_end(c, PCAPNG_FIN);
    ck_assert_int_eq(pcapng_close(pc), -1);

    size_t len;
    char *said = (char *)slurp(errpath, &len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += said[i] == '\n';
    ck_assert_uint_eq(lines, 1);
    ck_assert_ptr_nonnull(memmem(said, len, "cap.pcapng", 10));
    free(said);
    unlink(errpath);

    struct capture *cap = read_back(); /* whole blocks only */
    ck_assert_uint_le(cap->len, 10000);
    ck_assert_uint_gt(cap->res.packets, 3);
    capture_free(cap);
}
END_TEST

START_TEST(a_reader_that_went_away_is_an_error_not_sigpipe)
{
    /* wireshark -k -i - closed while we capture: no SIGPIPE kills us. */
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    char fifo[64], err[256];
    snprintf(fifo, sizeof fifo, "/dev/fd/%d", p[1]);
    int dev_null = open("/dev/null", O_WRONLY);
    dup2(dev_null, STDERR_FILENO); /* the one report */
    struct pcapng *pc = pcapng_open(fifo, err, sizeof err);
    ck_assert_msg(pc != NULL, "%s", err);
    close(p[1]);
    close(p[0]); /* the reader leaves */
    struct pcapng_conn *c = conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED); /* writes nothing yet */
    ck_assert_ptr_null(pcapng_error(pc));
    pcapng_data(c, PCAPNG_SENT, "ping", 4);
    ck_assert_ptr_nonnull(pcapng_error(pc));
    ck_assert_ptr_nonnull(strstr(pcapng_error(pc), strerror(EPIPE)));
    pcapng_data(c, PCAPNG_SENT, "ping", 4); /* goes on quietly */
    pcapng_conn_end(c, PCAPNG_FIN);
    sigset_t pending;
    sigpending(&pending);
    ck_assert(!sigismember(&pending, SIGPIPE));
    ck_assert_int_eq(pcapng_close(pc), -1);
}
END_TEST

START_TEST(connections_outlive_close)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    ck_assert_int_eq(pcapng_close(pc), 0);
    /* A server thread still finishing: nothing written, nothing freed twice. */
    pcapng_data(c, PCAPNG_SENT, "late", 4);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_SENT, "later", 5);
    pcapng_conn_end(c, PCAPNG_FIN);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 3);
    capture_free(cap);
}
END_TEST

/* ---- the reader the tests rely on ---- */

static int reads(const unsigned char *buf, size_t len, char *why, size_t whylen)
{
    struct pcapng_read_result res;
    int rc = pcapng_read(buf, len, NULL, NULL, &res);
    snprintf(why, whylen, "%s", res.error);
    pcapng_read_free(&res);
    return rc;
}

START_TEST(the_reader_finds_what_is_wrong)
{
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "abcd", 4);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    size_t len;
    unsigned char *good = slurp(path, &len), *bad = malloc(len);
    char why[256];
    ck_assert_int_eq(reads(good, len, why, sizeof why), 0);
    /* Offsets of the blocks: SHB, IDB, SYN, SYN/ACK, ACK, data, ... */
    size_t off[16] = {0}, n = 0;
    for (size_t o = 0; o < len && n < 16; o += le32_at(good + o + 4))
        off[n++] = o;
    ck_assert_uint_ge(n, 7);
    size_t data = off[5] + 28; /* the data segment's IP packet */

    struct {
        size_t at;
        unsigned char xor;
        const char *want;
    } cases[] = {
        {off[2] + 4, 4, "length"},              /* a block's length */
        {off[3] - 4, 1, "trailing"},            /* its trailing copy */
        {8, 0xff, "magic"},                     /* the byte-order magic */
        {data + 10, 1, "IPv4 header checksum"}, /* IP checksum */
        {data + 3, 1, "IPv4 lengths"},          /* IP total length */
        {data + 20 + 4, 1, "sequence"},         /* TCP seq: checksum first */
        {data + 40, 1, "TCP checksum"},         /* a payload byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, len);
        bad[cases[i].at] ^= cases[i].xor;
        ck_assert_msg(reads(bad, len, why, sizeof why) != 0, "case %zu passed", i);
        if (i != 5)
            ck_assert_msg(strstr(why, cases[i].want) != NULL, "case %zu: %s", i, why);
    }
    /* A file cut in the middle of a block; a packet dropped (a gap). */
    ck_assert_int_ne(reads(good, len - 8, why, sizeof why), 0);
    memcpy(bad, good, off[5]);
    memcpy(bad + off[5], good + off[6], len - off[6]);
    ck_assert_int_ne(reads(bad, off[5] + len - off[6], why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "gap"));
    free(good);
    free(bad);
}
END_TEST

START_TEST(close_writes_what_held_connections_keep)
{
    /* A server stopped while a client's handshake was going on. */
    struct pcapng *pc = open_capture();
    struct pcapng_conn *c = conn4(pc, IPPROTO_TCP, PCAPNG_PEER_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_RECEIVED, "ClientHello", 11);
    ck_assert_int_eq(pcapng_close(pc), 0);
    pcapng_conn_end(c, PCAPNG_FIN);
    struct capture *cap = read_back();
    ck_assert_uint_eq(cap->n, 4);
    ck_assert_mem_eq(cap->pkts[3].data, "ClientHello", 11);
    capture_free(cap);
}
END_TEST

static Suite *pcapng_suite(void)
{
    Suite *s = suite_create("pcapng");
    TCase *file = tcase_create("file");
    tcase_add_checked_fixture(file, setup, teardown);
    tcase_add_test(file, headers_only_file_is_a_section_and_an_interface);
    tcase_add_test(file, file_is_private_since_it_holds_secrets);
    tcase_add_test(file, open_replaces_an_existing_file);
    tcase_add_test(file, open_failure_names_the_file_and_why);
    tcase_add_test(file, every_block_is_aligned_and_its_lengths_agree);
    tcase_add_test(file, packets_carry_their_direction);
    tcase_add_test(file, the_reader_finds_what_is_wrong);
    suite_add_tcase(s, file);

    TCase *tcp = tcase_create("tcp");
    tcase_add_checked_fixture(tcp, setup, teardown);
    tcase_add_test(tcp, tcp_begins_with_syn_synack_ack_from_the_opener);
    tcase_add_test(tcp, syns_announce_mss_and_window_scale);
    tcase_add_test(tcp, data_segments_follow_the_sequence_both_ways);
    tcase_add_test(tcp, a_large_write_is_cut_at_the_mss);
    tcase_add_test(tcp, a_long_one_way_stream_is_acknowledged_before_the_window_fills);
    tcase_add_test(tcp, the_first_write_after_the_handshake_respects_the_unscaled_window);
    tcase_add_test(tcp, peer_fin_then_ours_closes_in_three_segments);
    tcase_add_test(tcp, our_fin_alone_is_acknowledged_by_the_peer);
    tcase_add_test(tcp, half_close_lets_the_other_side_send_on);
    tcase_add_test(tcp, reset_ends_everything);
    tcase_add_test(tcp, end_with_reset_after_a_fin);
    suite_add_tcase(s, tcp);

    TCase *udp = tcase_create("udp_and_addresses");
    tcase_add_checked_fixture(udp, setup, teardown);
    tcase_add_test(udp, udp_datagrams_are_written_whole);
    tcase_add_test(udp, udp_datagram_is_cut_at_what_ip_holds);
    tcase_add_test(udp, ipv6_and_ipv4_mapped_addresses);
    tcase_add_test(udp, addresses_that_cannot_be_written_are_refused);
    tcase_add_test(udp, checksum_matches_rfc1071_example);
    tcase_add_test(udp, udp_checksum_is_never_zero_on_the_wire);
    suite_add_tcase(s, udp);

    TCase *sec = tcase_create("secrets_and_time");
    tcase_add_checked_fixture(sec, setup, teardown);
    tcase_add_test(sec, keylog_lines_become_secrets_blocks);
    tcase_add_test(sec, a_held_connection_waits_for_its_secrets);
    tcase_add_test(sec, ending_a_held_connection_writes_what_it_held);
    tcase_add_test(sec, holding_more_than_its_bound_writes_in_order);
    tcase_add_test(sec, timestamps_are_the_clock_in_nanoseconds);
    suite_add_tcase(s, sec);

    TCase *conc = tcase_create("threads_and_errors");
    tcase_add_checked_fixture(conc, setup, teardown);
    tcase_set_timeout(conc, 120);
    tcase_add_test(conc, every_thread_of_a_server_writes_into_one_file);
    tcase_add_test(conc, a_write_error_is_reported_once_and_the_file_keeps_whole_blocks);
    tcase_add_test(conc, a_reader_that_went_away_is_an_error_not_sigpipe);
    tcase_add_test(conc, connections_outlive_close);
    tcase_add_test(conc, close_writes_what_held_connections_keep);
    suite_add_tcase(s, conc);
    return s;
}

int main(void)
{
    return testutil_run(pcapng_suite());
}
