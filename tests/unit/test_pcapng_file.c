/* The pcapng writer over a capture's life: key-log secrets and held
 * connections, the clock, many threads, write errors and close; and the
 * reader the pcapng suites rely on (pcapng_read.c). The blocks and
 * packets themselves are test_pcapng.c's. */
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

/* ---- secrets ---- */

START_TEST(keylog_lines_become_secrets_blocks)
{
    struct pcapng *pc = capture_open();
    pcapng_keylog(pc, "CLIENT_RANDOM 00 11");
    pcapng_keylog(pc, "CLIENT_TRAFFIC_SECRET_0 22 33\n"); /* its newline is not doubled */
    pcapng_keylog(pc, "");
    pcapng_keylog(pc, "\n");
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
        if (i >= from && capture_le32(cap->file + off) == t)
            return i;
        off += capture_le32(cap->file + off + 4);
    }
    return -1;
}

START_TEST(a_held_connection_waits_for_its_secrets)
{
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_SENT, "ClientHello", 11);
    pcapng_data(c, PCAPNG_RECEIVED, "ServerHello+encrypted flight", 28);
    struct stat before, after;
    ck_assert_int_eq(stat(capture_path, &before), 0);
    pcapng_keylog(pc, "SERVER_HANDSHAKE_TRAFFIC_SECRET aa bb");
    ck_assert_int_eq(stat(capture_path, &after), 0);
    ck_assert_int_gt(after.st_size, before.st_size); /* the secret at once */
    pcapng_conn_release(c);
    pcapng_data(c, PCAPNG_SENT, "Finished", 8);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_SENT, "ClientHello", 11);
    pcapng_conn_end(c, PCAPNG_FIN); /* a failed handshake */
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
    ck_assert_uint_eq(cap->n, 3 + 1 + 2);
    capture_free(cap);
}
END_TEST

START_TEST(holding_more_than_its_bound_writes_in_order)
{
    size_t len = 3u << 20;
    unsigned char *big = malloc(len);
    testutil_fill_pattern(big, len, 11);
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_RECEIVED, big, len);
    pcapng_conn_release(c);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    struct capture *cap = capture_read_back(); /* in sequence order, or it would fail */
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
    struct timespec t = { 1700000000, 123456789 };
    struct pcapng *pc = capture_open();
    pcapng_set_clock(pc, fixed_clock, &t);
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "a", 1);
    pcapng_data(c, PCAPNG_RECEIVED, "b", 1);
    pcapng_set_clock(pc, NULL, NULL); /* the real clock again */
    pcapng_conn_end(c, PCAPNG_RST);
    pcapng_close(pc);
    struct capture *cap = capture_read_back();
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
    struct sockaddr_in l = capture_v4("127.0.0.1", 443), p = capture_v4("127.0.0.1", 50000 + w->id);
    struct pcapng_conn *c =
        pcapng_conn_begin(w->pc, IPPROTO_TCP, PCAPNG_PEER_OPENED, (struct sockaddr *)&l, sizeof l,
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
    struct pcapng *pc = capture_open();
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ pc, i };
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(pcapng_close(pc), 0);
    struct capture *cap = capture_read_back(); /* each connection consistent on its own */
    size_t bytes[THREADS] = { 0 }, expect[THREADS] = { 0 };
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
    snprintf(errpath, sizeof errpath, "%s/stderr", capture_dir);
    int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(efd, 0);
    ck_assert_int_ge(dup2(efd, STDERR_FILENO), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = { 10000, 10000 };
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    unsigned char b[3000] = { 0 };
    for (int i = 0; i < 20; i++) /* 60 kB: far past the limit */
        pcapng_data(c, PCAPNG_SENT, b, sizeof b);
    pcapng_keylog(pc, "CLIENT_RANDOM 00 11");
    ck_assert_ptr_nonnull(pcapng_error(pc));
    ck_assert_ptr_nonnull(strstr(pcapng_error(pc), capture_path));
    pcapng_conn_end(c, PCAPNG_FIN);
    ck_assert_int_eq(pcapng_close(pc), -1);

    size_t len;
    char *said = (char *)capture_slurp(errpath, &len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += said[i] == '\n';
    ck_assert_uint_eq(lines, 1);
    ck_assert_ptr_nonnull(memmem(said, len, "cap.pcapng", 10));
    free(said);
    unlink(errpath);

    struct capture *cap = capture_read_back(); /* whole blocks only */
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
    /* A UDP connection writes nothing yet. */
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_UDP, PCAPNG_WE_OPENED);
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    ck_assert_int_eq(pcapng_close(pc), 0);
    /* A server thread still finishing: nothing written, nothing freed twice. */
    pcapng_data(c, PCAPNG_SENT, "late", 4);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_SENT, "later", 5);
    pcapng_conn_end(c, PCAPNG_FIN);
    struct capture *cap = capture_read_back();
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_WE_OPENED);
    pcapng_data(c, PCAPNG_SENT, "abcd", 4);
    pcapng_conn_end(c, PCAPNG_FIN);
    pcapng_close(pc);
    size_t len;
    unsigned char *good = capture_slurp(capture_path, &len), *bad = malloc(len);
    char why[256];
    ck_assert_int_eq(reads(good, len, why, sizeof why), 0);
    /* Offsets of the blocks: SHB, IDB, SYN, SYN/ACK, ACK, data, ... */
    size_t off[16] = { 0 }, n = 0;
    for (size_t o = 0; o < len && n < 16; o += capture_le32(good + o + 4))
        off[n++] = o;
    ck_assert_uint_ge(n, 7);
    size_t data = off[5] + 28; /* the data segment's IP packet */

    struct {
        size_t at;
        unsigned char xor ;
        const char *want;
    } cases[] = {
        { off[2] + 4, 4, "length" },              /* a block's length */
        { off[3] - 4, 1, "trailing" },            /* its trailing copy */
        { 8, 0xff, "magic" },                     /* the byte-order magic */
        { data + 10, 1, "IPv4 header checksum" }, /* IP checksum */
        { data + 3, 1, "IPv4 lengths" },          /* IP total length */
        { data + 20 + 4, 1, "sequence" },         /* TCP seq: checksum first */
        { data + 40, 1, "TCP checksum" },         /* a payload byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, len);
        bad[cases[i].at] ^= cases[i].xor ;
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
    struct pcapng *pc = capture_open();
    struct pcapng_conn *c = capture_conn4(pc, IPPROTO_TCP, PCAPNG_PEER_OPENED);
    pcapng_conn_hold(c);
    pcapng_data(c, PCAPNG_RECEIVED, "ClientHello", 11);
    ck_assert_int_eq(pcapng_close(pc), 0);
    pcapng_conn_end(c, PCAPNG_FIN);
    struct capture *cap = capture_read_back();
    ck_assert_uint_eq(cap->n, 4);
    ck_assert_mem_eq(cap->pkts[3].data, "ClientHello", 11);
    capture_free(cap);
}
END_TEST

static Suite *pcapng_file_suite(void)
{
    Suite *s = suite_create("pcapng_file");

    TCase *sec = tcase_create("secrets_and_time");
    tcase_add_checked_fixture(sec, capture_setup, capture_teardown);
    tcase_add_test(sec, keylog_lines_become_secrets_blocks);
    tcase_add_test(sec, a_held_connection_waits_for_its_secrets);
    tcase_add_test(sec, ending_a_held_connection_writes_what_it_held);
    tcase_add_test(sec, holding_more_than_its_bound_writes_in_order);
    tcase_add_test(sec, timestamps_are_the_clock_in_nanoseconds);
    suite_add_tcase(s, sec);

    TCase *conc = tcase_create("threads_and_errors");
    tcase_add_checked_fixture(conc, capture_setup, capture_teardown);
    tcase_set_timeout(conc, 120);
    tcase_add_test(conc, every_thread_of_a_server_writes_into_one_file);
    tcase_add_test(conc, a_write_error_is_reported_once_and_the_file_keeps_whole_blocks);
    tcase_add_test(conc, a_reader_that_went_away_is_an_error_not_sigpipe);
    tcase_add_test(conc, connections_outlive_close);
    tcase_add_test(conc, close_writes_what_held_connections_keep);
    suite_add_tcase(s, conc);

    TCase *reader = tcase_create("reader");
    tcase_add_checked_fixture(reader, capture_setup, capture_teardown);
    tcase_add_test(reader, the_reader_finds_what_is_wrong);
    suite_add_tcase(s, reader);
    return s;
}

int main(void)
{
    return testutil_run(pcapng_file_suite());
}
