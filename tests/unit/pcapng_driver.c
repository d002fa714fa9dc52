/*
 * pcapng-driver: feeds the pcapng writer (src/app/pcapng.c) from a script,
 * so the integration tests can have tshark read what it writes.
 *
 *     pcapng-driver OUT.pcapng < SCRIPT
 *
 * One call a line (blank lines and "#" comments are skipped):
 *     conn ID tcp|udp we|peer LOCAL_ADDR LOCAL_PORT PEER_ADDR PEER_PORT
 *     sent ID HEX            bytes we sent on connection ID
 *     recv ID HEX            bytes we received
 *     shutdown ID sent|recv fin|rst
 *     end ID fin|rst
 *     hold ID / release ID   pcapng_conn_hold, pcapng_conn_release
 *     keylog LINE            an NSS key-log line
 *     time SECONDS.NANOS     the clock from here on (default: the real one)
 * Exits 0, or 1 with the line that could not be done.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

#define MAX_CONNS 1024

static struct timespec fixed;
static int fixed_set;

static void script_clock(void *arg, struct timespec *now)
{
    (void)arg;
    if (fixed_set)
        *now = fixed;
    else
        clock_gettime(CLOCK_REALTIME, now);
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    int p = atoi(port);
    if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)p);
        *len = sizeof *in;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes hex in place; returns the byte count, or -1. */
static long unhex(char *s)
{
    size_t n = strlen(s);
    if (n % 2 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        s[i / 2] = (char)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

static int run_line(struct pcapng *pc, struct pcapng_conn **conns, char *line)
{
    char *save = NULL;
    char *cmd = strtok_r(line, " \t", &save);
    if (cmd == NULL || cmd[0] == '#')
        return 0;
    if (strcmp(cmd, "keylog") == 0) {
        char *rest = save != NULL ? save + strspn(save, " \t") : NULL;
        if (rest == NULL || *rest == '\0')
            return -1;
        pcapng_keylog(pc, rest);
        return 0;
    }
    if (strcmp(cmd, "time") == 0) {
        char *t = strtok_r(NULL, " \t", &save);
        char *dot = t != NULL ? strchr(t, '.') : NULL;
        if (dot == NULL)
            return -1;
        fixed.tv_sec = strtol(t, NULL, 10);
        fixed.tv_nsec = strtol(dot + 1, NULL, 10);
        fixed_set = 1;
        return 0;
    }
    char *ids = strtok_r(NULL, " \t", &save);
    long id = ids != NULL ? strtol(ids, NULL, 10) : -1;
    if (id < 0 || id >= MAX_CONNS)
        return -1;
    char *a[6] = { 0 };
    for (int i = 0; i < 6; i++)
        a[i] = strtok_r(NULL, " \t", &save);

    if (strcmp(cmd, "conn") == 0) {
        struct sockaddr_storage local, peer;
        socklen_t llen, plen;
        if (a[5] == NULL || conns[id] != NULL || parse_addr(a[2], a[3], &local, &llen) != 0 ||
            parse_addr(a[4], a[5], &peer, &plen) != 0)
            return -1;
        int proto = strcmp(a[0], "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
        enum pcapng_opener who = strcmp(a[1], "peer") == 0 ? PCAPNG_PEER_OPENED : PCAPNG_WE_OPENED;
        conns[id] = pcapng_conn_begin(pc, proto, who, (struct sockaddr *)&local, llen,
                                      (struct sockaddr *)&peer, plen);
        return conns[id] != NULL ? 0 : -1;
    }
    if (conns[id] == NULL)
        return -1;
    if (strcmp(cmd, "sent") == 0 || strcmp(cmd, "recv") == 0) {
        long n = a[0] != NULL ? unhex(a[0]) : -1;
        if (n < 0)
            return -1;
        pcapng_data(conns[id], cmd[0] == 's' ? PCAPNG_SENT : PCAPNG_RECEIVED, a[0], (size_t)n);
        return 0;
    }
    if (strcmp(cmd, "shutdown") == 0 && a[1] != NULL) {
        pcapng_conn_shutdown(conns[id], strcmp(a[0], "sent") == 0 ? PCAPNG_SENT : PCAPNG_RECEIVED,
                             strcmp(a[1], "rst") == 0 ? PCAPNG_RST : PCAPNG_FIN);
        return 0;
    }
    if (strcmp(cmd, "hold") == 0 || strcmp(cmd, "release") == 0) {
        (cmd[0] == 'h' ? pcapng_conn_hold : pcapng_conn_release)(conns[id]);
        return 0;
    }
    if (strcmp(cmd, "end") == 0 && a[0] != NULL) {
        pcapng_conn_end(conns[id], strcmp(a[0], "rst") == 0 ? PCAPNG_RST : PCAPNG_FIN);
        conns[id] = NULL;
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcapng-driver OUT.pcapng < SCRIPT\n");
        return 2;
    }
    char err[512];
    struct pcapng *pc = pcapng_open(argv[1], err, sizeof err);
    if (pc == NULL) {
        fprintf(stderr, "pcapng-driver: %s\n", err);
        return 1;
    }
    pcapng_set_clock(pc, script_clock, NULL);
    static struct pcapng_conn *conns[MAX_CONNS];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    for (long lineno = 1; rc == 0 && (n = getline(&line, &cap, stdin)) >= 0; lineno++) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (run_line(pc, conns, line) != 0) {
            fprintf(stderr, "pcapng-driver: line %ld: cannot do it\n", lineno);
            rc = 1;
        }
    }
    free(line);
    for (int i = 0; i < MAX_CONNS; i++)
        pcapng_conn_end(conns[i], PCAPNG_FIN);
    if (pcapng_close(pc) != 0)
        rc = 1;
    return rc;
}
