/* The pcapng writer (src/app/pcapng.c, pcapng_block.c, pcapng_packet.c):
 * the file's blocks and the packets it synthesizes, TCP and UDP, read back
 * (pcapng_capture.c). Secrets, time, threads and errors are in
 * test_pcapng_file.c. */
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

#include "pcapng_capture.h"
#include "testutil.h"

/* ---- file and block layout ---- */

START_TEST(headers_only_file_is_a_section_and_an_interface)
{
    ck_assert_int_eq(pcapng_close(capture_open()), 0);
    struct capture *c = capture_read_back();
    ck_assert_uint_eq(c->res.blocks, 2);
    ck_assert_uint_eq(c->res.interfaces, 1);
    ck_assert_uint_eq(c->res.packets, 0);
    ck_assert_uint_eq(c->res.linktype, 101); /* LINKTYPE_RAW */
    ck_assert_int_eq(c->res.tsresol, 9);     /* nanoseconds */
    /* The raw bytes: SHB type, its length twice, the byte-order magic. */
    uint32_t shb = capture_le32(c->file + 4);
    ck_assert_uint_eq(capture_le32(c->file), 0x0A0D0D0A);
    ck_assert_uint_eq(capture_le32(c->file + 8), 0x1A2B3C4D);
    ck_assert_uint_eq(capture_le32(c->file + shb - 4), shb);
    ck_assert_uint_eq(shb % 4, 0);
    ck_assert_uint_eq(capture_le32(c->file + shb), 1); /* then the IDB */
    /* shb_userappl names the writer. */
    ck_assert_ptr_nonnull(memmem(c->file, shb, "secsock", 7));
    capture_free(c);
}
END_TEST

START_TEST(file_is_private_since_it_holds_secrets)
{
    ck_assert_int_eq(pcapng_close(capture_open()), 0);
    struct stat st;
    ck_assert_int_eq(stat(capture_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(open_replaces_an_existing_file)
{
    FILE *f = fopen(capture_path, "w");
    fputs("old contents, longer than nothing at all", f);
    fclose(f);
    ck_assert_int_eq(pcapng_close(capture_open()), 0);
    struct capture *c = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    /* Payload lengths 1..7 exercise every padding. */
    for (size_t n = 1; n <= 7; n++)
        pcapng_data(c, n % 2 ? PCAPNG_SENT : PCAPNG_RECEIVED, "abcdefg", n);
    pcapng_keylog(pc, "CLIENT_RANDOM 0011 22"); /* 21 bytes + newline: padded */
    pcapng_conn_end(c, PCAPNG_FIN);
    ck_assert_int_eq(pcapng_close(pc), 0);

    struct capture *cap = capture_read_back(); /* the reader checks each block */
    for (size_t off = 0; off < cap->len;) {
        uint32_t total = capture_le32(cap->file + off + 4);
        ck_assert_uint_eq(total % 4, 0);
        ck_assert_uint_eq(capture_le32(cap->file + off + total - 4), total);
        off += total;
    }
    ck_assert_uint_eq(cap->res.secrets_blocks, 1);
    capture_free(cap);
}
END_TEST

START_TEST(packets_carry_their_direction)
{
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "ping", 4);
    pcapng_data(c, PCAPNG_RECEIVED, "pong", 4);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
        struct pcapng *pc = capture_open();
        struct pcapng_conn *c =
            capture_conn4(pc, IPPROTO_TCP, who == 0 ? PCAPNG_WE_OPENED : PCAPNG_PEER_OPENED);
        pcapng_conn_end(c, PCAPNG_RST);
        pcapng_close(pc);
        struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    pcapng_conn_end(capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED), PCAPNG_RST);
    pcapng_close(pc);
    /* The reader drops options pointers: find them in the raw SYN. */
    struct capture *cap = capture_read_back();
    const unsigned char mss_ws[] = { 2, 4, PCAPNG_TCP_MSS >> 8, PCAPNG_TCP_MSS & 0xff, 1, 3, 3, 7 };
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "GET / HTTP/1.1\r\n\r\n", 18);
    pcapng_data(c, PCAPNG_RECEIVED, "HTTP/1.1 200 OK\r\n", 17);
    pcapng_data(c, PCAPNG_RECEIVED, "\r\nhello", 7);
    pcapng_data(c, PCAPNG_SENT, "", 0); /* nothing: no segment */
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, big, len);
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_PEER_OPENED);
    size_t total = 0;
    for (size_t n = 1; total < 40u << 20; n = n * 7 % chunk + 1) {
        pcapng_data(c, PCAPNG_SENT, buf, n);
        total += n;
    }
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    unsigned char buf[65535] = { 0 };
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, buf, sizeof buf);
    pcapng_data(c, PCAPNG_SENT, buf, sizeof buf);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    capture_free(capture_read_back());
}
END_TEST

START_TEST(peer_fin_then_ours_closes_in_three_segments)
{
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_RECEIVED, "bye", 3);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN); /* read saw the end */
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
    ck_assert_uint_eq(cap->n, 5);
    ck_assert(F(&cap->pkts[3], FIN | ACK) && cap->pkts[3].p.outbound);
    ck_assert(F(&cap->pkts[4], ACK) && !cap->pkts[4].p.outbound);
    capture_free(cap);
}
END_TEST

START_TEST(half_close_lets_the_other_side_send_on)
{
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "request", 7);
    pcapng_conn_shutdown(c, PCAPNG_SENT, PCAPNG_FIN);
    pcapng_data(c, PCAPNG_SENT, "too late", 8); /* cannot follow our FIN: dropped */
    pcapng_data(c, PCAPNG_RECEIVED, "reply", 5);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN); /* twice: once */
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
        struct pcapng *pc = capture_open();
        struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
        pcapng_data(c, PCAPNG_SENT, "x", 1);
        if (peer)
            pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_RST); /* ECONNRESET */
        else
            pcapng_conn_shutdown(c, PCAPNG_SENT, PCAPNG_RST);
        pcapng_data(c, PCAPNG_RECEIVED, "y", 1);
        pcapng_conn_shutdown(c, PCAPNG_SENT, PCAPNG_FIN);
        pcapng_conn_end(c, PCAPNG_FIN);
        pcapng_close(pc);
        struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_RECEIVED, "tickets", 7);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_FIN);
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
    ck_assert_uint_eq(cap->n, 6);
    ck_assert(F(&cap->pkts[5], RST | ACK) && cap->pkts[5].p.outbound);
    capture_free(cap);
}
END_TEST

/* ---- UDP, addresses ---- */

START_TEST(udp_datagrams_are_written_whole)
{
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "hello", 5);
    pcapng_data(c, PCAPNG_RECEIVED, "", 0);
    pcapng_data(c, PCAPNG_RECEIVED, "world!", 6);
    pcapng_conn_shutdown(c, PCAPNG_RECEIVED, PCAPNG_RST); /* no meaning for UDP */
    pcapng_data(c, PCAPNG_SENT, "again", 5);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, big, len);
    pcapng_conn_end(c, PCAPNG_FIN);
    struct sockaddr_in6 l = capture_v6("::1", 1), p = capture_v6("::1", 2);
    c = pcapng_conn_begin(pc, IPPROTO_UDP, PCAPNG_WE_OPENED, (struct sockaddr *)&l, sizeof l,
                          (struct sockaddr *)&p, sizeof p);
    pcapng_data(c, PCAPNG_SENT, big, len);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
    ck_assert_uint_eq(cap->n, 2);
    ck_assert_uint_eq(cap->pkts[0].p.len, 65535 - 20 - 8);
    ck_assert_uint_eq(cap->pkts[1].p.len, 65535 - 8);
    capture_free(cap);
    free(big);
}
END_TEST

START_TEST(ipv6_and_ipv4_mapped_addresses)
{
    struct pcapng *pc = capture_open();
    struct sockaddr_in6 l = capture_v6("2001:db8::1", 5000), p = capture_v6("2001:db8::2", 443);
    struct pcapng_conn *c =
        pcapng_conn_begin(pc, IPPROTO_TCP, PCAPNG_WE_OPENED, (struct sockaddr *)&l, sizeof l,
                          (struct sockaddr *)&p, sizeof p);
    pcapng_data(c, PCAPNG_SENT, "six", 3);
    pcapng_conn_end(c, PCAPNG_FIN);
    /* A dual-stack server's IPv4 client: written as IPv4. */
    struct sockaddr_in6 ml = capture_v6("::ffff:127.0.0.1", 443),
                        mp = capture_v6("::ffff:127.0.0.9", 6000);
    c = pcapng_conn_begin(pc, IPPROTO_TCP, PCAPNG_PEER_OPENED, (struct sockaddr *)&ml, sizeof ml,
                          (struct sockaddr *)&mp, sizeof mp);
    pcapng_data(c, PCAPNG_RECEIVED, "four", 4);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct sockaddr_in a = capture_v4("127.0.0.1", 1);
    struct sockaddr_in6 b = capture_v6("::1", 2);
    struct sockaddr_un u = { .sun_family = AF_UNIX, .sun_path = "/tmp/x" };
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
    struct capture *cap = capture_read_back();
    ck_assert_uint_eq(cap->res.packets, 0);
    capture_free(cap);
}
END_TEST

/* ---- checksums ---- */

START_TEST(checksum_matches_rfc1071_example)
{
    /* RFC 1071's example bytes sum to 0xddf2 (before complement). */
    const unsigned char b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    ck_assert_uint_eq(pcapng_checksum_finish(pcapng_checksum_add(0, b, sizeof b)),
                      (uint16_t)~0xddf2);
    /* An odd length pads with a zero byte. */
    const unsigned char odd[] = { 0x12, 0x34, 0x56 };
    ck_assert_uint_eq(pcapng_checksum_finish(pcapng_checksum_add(0, odd, 3)),
                      (uint16_t) ~(0x1234 + 0x5600));
}
END_TEST

START_TEST(udp_checksum_is_never_zero_on_the_wire)
{
    /* A payload that sums to exactly what makes the checksum 0: it must
     * be written 0xffff, since 0 means "no checksum". Search for one. */
    struct pcapng_flow f = { .family = AF_INET6, .sport = 1, .dport = 2 };
    unsigned char out[PCAPNG_PACKET_MAX_HEADERS + 2];
    int found = 0;
    for (unsigned v = 0; v <= 0xffff && !found; v++) {
        unsigned char d[2] = { (unsigned char)(v >> 8), (unsigned char)v };
        size_t n = pcapng_packet_udp(out, &f, 0, d, 2);
        ck_assert_uint_eq(n, 40 + 8 + 2);
        uint16_t sum = (uint16_t)(out[46] << 8 | out[47]);
        ck_assert_uint_ne(sum, 0);
        found = sum == 0xffff;
    }
    ck_assert(found);
}
END_TEST

static Suite *pcapng_suite(void)
{
    Suite *s = suite_create("pcapng");

    TCase *file = tcase_create("file");
    tcase_add_checked_fixture(file, capture_setup, capture_teardown);
    tcase_add_test(file, headers_only_file_is_a_section_and_an_interface);
    tcase_add_test(file, file_is_private_since_it_holds_secrets);
    tcase_add_test(file, open_replaces_an_existing_file);
    tcase_add_test(file, open_failure_names_the_file_and_why);
    tcase_add_test(file, every_block_is_aligned_and_its_lengths_agree);
    tcase_add_test(file, packets_carry_their_direction);
    suite_add_tcase(s, file);

    TCase *tcp = tcase_create("tcp");
    tcase_add_checked_fixture(tcp, capture_setup, capture_teardown);
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
    tcase_add_checked_fixture(udp, capture_setup, capture_teardown);
    tcase_add_test(udp, udp_datagrams_are_written_whole);
    tcase_add_test(udp, udp_datagram_is_cut_at_what_ip_holds);
    tcase_add_test(udp, ipv6_and_ipv4_mapped_addresses);
    tcase_add_test(udp, addresses_that_cannot_be_written_are_refused);
    tcase_add_test(udp, checksum_matches_rfc1071_example);
    tcase_add_test(udp, udp_checksum_is_never_zero_on_the_wire);
    suite_add_tcase(s, udp);
    return s;
}

int main(void)
{
    return testutil_run(pcapng_suite());
}
