/*
 * The four programs' options: what they parse (options.c) and what they
 * build from it (config_builder.c). Every option is described once, in a
 * table (option_table.c) that drives getopt_long, --help and the checks,
 * so the programs cannot disagree about what an option means.
 */
#ifndef SECSOCK_APP_OPTIONS_H
#define SECSOCK_APP_OPTIONS_H

#include <stddef.h>

#include "secsock/transport.h"

#include "exit_codes.h"
#include "target.h"

enum app_program {
    APP_TCP_CLIENT = 1 << 0,
    APP_TCP_SERVER = 1 << 1,
    APP_UDP_CLIENT = 1 << 2,
    APP_UDP_SERVER = 1 << 3,
};

#define APP_MAX_HEADERS 64
#define APP_MAX_DATA 64

/* --accept-threads' largest value: one admission loop per core of a big
 * machine (server.c asserts the loops can take it). */
#define APP_MAX_ACCEPT_THREADS 64

struct app_options {
    enum app_program program;
    const char *name; /* argv[0]'s base name, for messages */

    /* Clients: where to go. */
    struct target target; /* HOST as typed: a URL, [v6]:PORT, HOST:PORT... */
    const char *host;
    const char *port;         /* NULL: the program's default */
    int family;               /* AF_UNSPEC, AF_INET, AF_INET6 */
    const char *resolve_host; /* --resolve HOST:PORT:ADDR, split */
    const char *resolve_port;
    const char *resolve_addr;
    char resolve_buf[512];

    /* Everyone. */
    int verbose;
    int json;          /* one JSON object per session on stderr */
    const char *trace; /* --trace FILE ("-": stdout), or NULL */
    const char *pcap;  /* --pcap FILE, or NULL */
    int timeout_ms;    /* -t: clients per wait; servers idle */
    int secure;        /* --tls (TCP) or --dtls (UDP) */

    /* Security (see security.h). */
    const char *cafile, *cert, *key, *servername, *pin, *alpn;
    const char *tls_min, *tls_max, *ciphers, *ciphersuites, *groups, *keylog;
    int insecure, self_signed, verify_client;
    const char *cert_out; /* servers, --self-signed: where its certificate goes (PEM) */

    /* Encrypted Client Hello (TLS 1.3; OpenSSL 4.0 or later). */
    const char *ech_key;         /* tcp-server --ech-key FILE: PEM from `openssl ech` */
    const char *ech_public_name; /* tcp-server --ech NAME: make a key at start */
    const char *ech_out;         /* tcp-server --ech-out FILE: its ECHConfigList, base64 */
    const char *ech_config;      /* tcp-client --ech ecl:BASE64|FILE */
    int ech_hard;                /* tcp-client --ech hard: refuse unless ECH was accepted */
    int ech_grease;              /* tcp-client --ech grease */

    /* tcp-client. */
    const char *method;
    int method_given; /* -X/--request/--method */
    int head;         /* -I/--head */
    struct {
        const char *arg;  /* DATA, or @FILE */
        int binary;       /* --data-binary: byte for byte */
    } data[APP_MAX_DATA]; /* -d/--data, --data-binary: the body, in order */
    size_t ndata;
    int follow; /* -L/--location */
    int max_redirs;
    const char *path;
    const char *user_agent;
    const char *headers[APP_MAX_HEADERS];
    size_t nheaders;
    const char *send_string;
    const char *send_file;
    const char *output; /* -o FILE: the reply goes there, not to stdout */
    int body_only;
    int fail_http; /* --fail: HTTP status >= 400 exits 6 */

    /* udp-client. */
    const char *message; /* NULL: "Hello udp HOST server"; "-": stdin */
    int retries;
    int count;
    int no_reply;
    int max_reply; /* receive buffer: longer replies are truncated */
    int mtu;       /* DTLS path MTU, 0 for the default */

    /* Servers. */
    const char *bind;
    const char *reply;
    int backlog;
    int max_clients;
    int accept_threads; /* tcp-server: admission threads, 0 for one per CPU
                                 * (at most APP_MAX_ACCEPT_THREADS) */
    int tickets;        /* tcp-server: TLS 1.3 session tickets, -1 for the default */
    int handshake_timeout_ms;
    int grace_ms; /* at SIGINT/SIGTERM: how long clients may finish */
    int echo;
    int http;
    int sink;       /* tcp-server: read to the end, reply count and SHA-256 */
    int ready_fd;   /* --ready-fd: where the ready signal goes, -1 for none */
    int timestamps; /* --timestamps: each log line starts with its UTC time */
    int quiet;      /* -q: log only listening, errors and the summary */
};

/* Parses argv into o with the program's defaults. Returns -1 when the
 * program should go on, or the exit code to leave with (0 after --help or
 * --version, 2 after a usage error, with one line on stderr). */
int app_options_parse(struct app_options *o, enum app_program program, int argc, char **argv);

/* Parses a duration in seconds ("2", "0.5") into milliseconds; -1 if invalid. */
int app_parse_seconds(const char *s);

/* Splits curl's --resolve HOST:PORT:ADDR (ADDR may be [v6] or bare v6). */
int app_parse_resolve(const char *arg, char *buf, size_t buflen, const char **host,
                      const char **port, const char **addr);

/* --- Built from the options (config_builder.c) --- */

/* The program's transport ("tcp", "tls", "udp" or "dtls") with the
 * security configuration from the options, or NULL with the reason in err
 * (a bad value or file: exit 2). Warns about --insecure and key logging. */
secsock_transport *app_transport(const struct app_options *o, enum secsock_role role, char *err,
                                 size_t errlen);

/* Where a client connects: HOST:port, or --resolve's ADDR when it names
 * that very HOST:port (curl's rule), within timeout_ms. */
struct secsock_connect_opts app_connect_opts(const struct app_options *o, const char *port,
                                             int timeout_ms);

#endif
