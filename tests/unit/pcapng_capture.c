/* The pcapng suites' capture (pcapng_capture.h). */
#include "pcapng_capture.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char capture_dir[64];
char capture_path[128];

void capture_setup(void)
{
    snprintf(capture_dir, sizeof capture_dir, "/tmp/secsock-pcapng-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(capture_dir));
    snprintf(capture_path, sizeof capture_path, "%s/cap.pcapng", capture_dir);
}

void capture_teardown(void)
{
    unlink(capture_path);
    rmdir(capture_dir);
}

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

unsigned char *capture_slurp(const char *file, size_t *len)
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
struct capture *capture_read_back(void)
{
    struct capture *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->file = capture_slurp(capture_path, &c->len);
    int rc = pcapng_read(c->file, c->len, collect, c, &c->res);
    ck_assert_msg(rc == 0, "the capture does not read back: %s", c->res.error);
    return c;
}

void capture_free(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->pkts[i].data);
    pcapng_read_free(&c->res);
    free(c->file);
    free(c);
}

struct pcapng *capture_open(void)
{
    char err[256];
    struct pcapng *pc = pcapng_open(capture_path, err, sizeof err);
    ck_assert_msg(pc != NULL, "pcapng_open: %s", err);
    return pc;
}

struct sockaddr_in capture_v4(const char *a, int port)
{
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    ck_assert_int_eq(inet_pton(AF_INET, a, &in.sin_addr), 1);
    return in;
}

struct sockaddr_in6 capture_v6(const char *a, int port)
{
    struct sockaddr_in6 in = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
    ck_assert_int_eq(inet_pton(AF_INET6, a, &in.sin6_addr), 1);
    return in;
}

/* A connection 127.0.0.1:40000 (us) -> 127.0.0.2:443 (the peer). */
struct pcapng_conn *capture_conn4(struct pcapng *pc, int proto, enum pcapng_opener who)
{
    struct sockaddr_in l = capture_v4("127.0.0.1", 40000), p = capture_v4("127.0.0.2", 443);
    struct pcapng_conn *c = pcapng_conn_begin(pc, proto, who, (struct sockaddr *)&l, sizeof l,
                                              (struct sockaddr *)&p, sizeof p);
    ck_assert_ptr_nonnull(c);
    return c;
}

uint32_t capture_le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
