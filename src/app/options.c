/* The shared option table and parser for the four programs. */
#include "options.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "hints.h"
#include "http_request.h"
#include "observe.h"
#include "term.h"

#define ALL (APP_TCP_CLIENT | APP_TCP_SERVER | APP_UDP_CLIENT | APP_UDP_SERVER)
#define CLIENTS (APP_TCP_CLIENT | APP_UDP_CLIENT)
#define SERVERS (APP_TCP_SERVER | APP_UDP_SERVER)
#define TCP (APP_TCP_CLIENT | APP_TCP_SERVER)
#define UDP (APP_UDP_CLIENT | APP_UDP_SERVER)

enum opt_id {
    OPT_HELP = 'h', OPT_VERSION = 'V', OPT_VERBOSE = 'v', OPT_IPV4 = '4', OPT_IPV6 = '6',
    OPT_TIMEOUT = 't', OPT_INSECURE = 'k', OPT_USER_AGENT = 'A', OPT_HEADER = 'H',
    OPT_REQUEST = 'X', OPT_HEAD = 'I', OPT_DATA = 'd', OPT_LOCATION = 'L',
    OPT_BIND = 'b', OPT_PORT = 'p', OPT_OUTPUT = 'o', OPT_QUIET = 'q',
    OPT_TLS = 256, OPT_DTLS, OPT_CAFILE, OPT_CERT, OPT_KEY, OPT_SERVERNAME, OPT_PIN, OPT_ALPN,
    OPT_TLS_MIN, OPT_TLS_MAX, OPT_CIPHERS, OPT_CIPHERSUITES, OPT_GROUPS, OPT_KEYLOG, OPT_SELF_SIGNED,
    OPT_VERIFY_CLIENT, OPT_METHOD, OPT_PATH, OPT_RESOLVE, OPT_SEND, OPT_SEND_FILE,
    OPT_SINK, OPT_JSON, OPT_BODY_ONLY, OPT_FAIL, OPT_RETRIES, OPT_COUNT, OPT_NO_REPLY, OPT_MAX_REPLY, OPT_MTU,
    OPT_BACKLOG, OPT_MAX_CLIENTS, OPT_ACCEPT_THREADS, OPT_TICKETS, OPT_HANDSHAKE_TIMEOUT, OPT_GRACE, OPT_REPLY, OPT_ECHO, OPT_HTTP,
    OPT_READY_FD, OPT_DATA_BINARY, OPT_MAX_REDIRS, OPT_TIMESTAMPS, OPT_CERT_OUT, OPT_TRACE,
    OPT_PCAP, OPT_ECH_CLIENT, OPT_ECH_SERVER, OPT_ECH_KEY, OPT_ECH_OUT,
};

struct opt_def {
    const char *name;
    int id;            /* the short option letter, or an OPT_ value above 255 */
    const char *arg;   /* NULL for a flag */
    unsigned programs;
    int security;      /* only meaningful with --tls/--dtls */
    const char *help;
};

static const struct opt_def opt_table[] = {
    { "tls", OPT_TLS, NULL, TCP, 0, "use TLS (TLS 1.2 minimum)" },
    { "dtls", OPT_DTLS, NULL, UDP, 0, "use DTLS 1.2" },
    { "verbose", OPT_VERBOSE, NULL, ALL, 0, NULL /* per program: verbose_help */ },
    { "trace", OPT_TRACE, "FILE|-", ALL, 0,
      "write every block sent and received to FILE (-: stdout), time-stamped, in hex and "
      "text: the plaintext and, for TLS/DTLS, the records as on the wire" },
    { "pcap", OPT_PCAP, "FILE", ALL, 0,
      "write what went over each socket to FILE as a pcapng capture (no root needed), with "
      "the TLS/DTLS secrets inside: tshark -r FILE shows it decrypted" },
    { "json", OPT_JSON, NULL, ALL, 0,
      "print one JSON object per session on stderr (peer, TLS details, fingerprints, bytes, "
      "times)" },
    { "timeout", OPT_TIMEOUT, "SECONDS", ALL, 0, NULL /* per program: timeout_help */ },
    { "ipv4", OPT_IPV4, NULL, CLIENTS, 0, "use IPv4 only" },
    { "ipv6", OPT_IPV6, NULL, CLIENTS, 0, "use IPv6 only" },
    { "resolve", OPT_RESOLVE, "HOST:PORT:ADDR", CLIENTS, 0,
      "connect to ADDR for HOST:PORT; Host, SNI and verification still use HOST" },
    { "request", OPT_REQUEST, "METHOD", APP_TCP_CLIENT, 0,
      "HTTP method (default GET; POST with --data)" },
    { "method", OPT_METHOD, "METHOD", APP_TCP_CLIENT, 0, "the same as --request" },
    { "head", OPT_HEAD, NULL, APP_TCP_CLIENT, 0, "send a HEAD request: the response head only" },
    { "data", OPT_DATA, "DATA|@FILE", APP_TCP_CLIENT, 0,
      "send DATA (or FILE's, without CR/LF) as the body, POST unless -X; repeats join "
      "with &" },
    { "data-binary", OPT_DATA_BINARY, "DATA|@FILE", APP_TCP_CLIENT, 0,
      "like --data, byte for byte" },
    { "location", OPT_LOCATION, NULL, APP_TCP_CLIENT, 0,
      "follow redirects (each new host verified; a warning when one leaves TLS)" },
    { "max-redirs", OPT_MAX_REDIRS, "N", APP_TCP_CLIENT, 0,
      "with --location: at most N redirects (default 10)" },
    { "path", OPT_PATH, "PATH", APP_TCP_CLIENT, 0, "HTTP request path (default /)" },
    { "user-agent", OPT_USER_AGENT, "UA", APP_TCP_CLIENT, 0,
      "User-Agent header (default tcp-client/" SECSOCK_VERSION ")" },
    { "header", OPT_HEADER, "'NAME: VALUE'", APP_TCP_CLIENT, 0,
      "add a header, or replace a default one; 'NAME:' removes it (repeatable)" },
    { "send", OPT_SEND, "STRING", APP_TCP_CLIENT, 0,
      "send STRING instead of an HTTP request, then half-close" },
    { "send-file", OPT_SEND_FILE, "FILE|-", APP_TCP_CLIENT, 0,
      "stream FILE (- for stdin) while copying the reply to stdout, then half-close" },
    { "retries", OPT_RETRIES, "N", APP_UDP_CLIENT, 0,
      "send again up to N times when no reply comes within the timeout (default 0; with "
      "--dtls 3)" },
    { "count", OPT_COUNT, "N", APP_UDP_CLIENT, 0,
      "do N request/reply exchanges; print round trips, losses and latency on stderr" },
    { "no-reply", OPT_NO_REPLY, NULL, APP_UDP_CLIENT, 0, "only send; wait for no reply" },
    { "max-reply", OPT_MAX_REPLY, "BYTES", APP_UDP_CLIENT, 0,
      "receive buffer; a longer reply is reported as truncated (default 65535)" },
    { "mtu", OPT_MTU, "BYTES", UDP, 1,
      "DTLS path MTU records must fit (default 1280, safe on any path)" },
    { "output", OPT_OUTPUT, "FILE", APP_TCP_CLIENT, 0,
      "write the reply to FILE, not stdout; -: stdout, even binary to a terminal" },
    { "body-only", OPT_BODY_ONLY, NULL, APP_TCP_CLIENT, 0,
      "write only the HTTP response body (de-chunked), not the status line and headers" },
    { "fail", OPT_FAIL, NULL, APP_TCP_CLIENT, 0,
      "exit 6 when the HTTP status is 400 or more" },
    { "quiet", OPT_QUIET, NULL, SERVERS, 0,
      "log only the listening line, errors and the summary" },
    { "timestamps", OPT_TIMESTAMPS, NULL, SERVERS, 0,
      "start each log line with its UTC time (ISO 8601)" },
    { "ready-fd", OPT_READY_FD, "N", SERVERS, 0,
      "once listening, write the --json listening line to descriptor N and close it" },
    { "bind", OPT_BIND, "ADDR", SERVERS, 0, "address to listen on (default 127.0.0.1)" },
    { "port", OPT_PORT, "PORT", SERVERS, 0, "port to listen on; 0 picks a free one" },
    { "backlog", OPT_BACKLOG, "N", APP_TCP_SERVER, 0, "listen backlog (default 128)" },
    { "max-clients", OPT_MAX_CLIENTS, "N", SERVERS, 0,
      "clients served at once; more wait in the backlog (default 256)" },
    { "accept-threads", OPT_ACCEPT_THREADS, "N", APP_TCP_SERVER, 0,
      "threads that accept clients and run their handshakes (default: one per CPU)" },
    { "handshake-timeout", OPT_HANDSHAKE_TIMEOUT, "SECONDS", SERVERS, 0,
      "drop clients that have not finished the handshake by then (default 10)" },
    { "grace", OPT_GRACE, "SECONDS", APP_TCP_SERVER, 0,
      "at SIGINT/SIGTERM, let clients in flight finish this long (default 10)" },
    { "reply", OPT_REPLY, "TEXT", SERVERS, 0, "the reply to each request" },
    { "echo", OPT_ECHO, NULL, SERVERS, 0, "echo what the client sends until it half-closes" },
    { "sink", OPT_SINK, NULL, APP_TCP_SERVER, 0,
      "read until the client half-closes, then reply with the byte count and SHA-256" },
    { "http", OPT_HTTP, NULL, APP_TCP_SERVER, 0,
      "answer HTTP/1.1 requests with 200 OK and the reply text" },
    { "cafile", OPT_CAFILE, "FILE", ALL, 1,
      "trust the CAs in FILE (default: the system's; servers: for --verify-client)" },
    { "cert", OPT_CERT, "FILE", ALL, 1, "own certificate chain (PEM, leaf first)" },
    { "key", OPT_KEY, "FILE", ALL, 1, "own private key (PEM)" },
    { "self-signed", OPT_SELF_SIGNED, NULL, SERVERS, 1,
      "make an ephemeral self-signed certificate; print both its pins" },
    { "cert-out", OPT_CERT_OUT, "FILE", SERVERS, 1,
      "with --self-signed: write that certificate to FILE (PEM, for clients to trust)" },
    { "verify-client", OPT_VERIFY_CLIENT, NULL, SERVERS, 1,
      "require a client certificate signed by --cafile" },
    { "servername", OPT_SERVERNAME, "NAME", CLIENTS, 1,
      "name sent as SNI and verified (default: HOST)" },
    { "insecure", OPT_INSECURE, NULL, CLIENTS, 1,
      "do not verify the server's certificate (prints a warning)" },
    { "pin", OPT_PIN, "PIN", CLIENTS, 1,
      "accept exactly this server: sha256:HEX (its certificate) or sha256//BASE64 (its "
      "public key, as curl --pinnedpubkey)" },
    /* One name, two meanings: tcp-server makes a key for the name, tcp-client
     * takes curl's words. */
    { "ech", OPT_ECH_CLIENT, "ecl:CONFIG|hard|grease", APP_TCP_CLIENT, 1,
      "Encrypted Client Hello: ecl: and the server's ECHConfigList (base64, or a file "
      "holding it); hard: refuse a connection without ECH accepted; grease: a decoy ECH "
      "extension (repeatable; OpenSSL 4.0 or later)" },
    { "ech", OPT_ECH_SERVER, "PUBLIC_NAME", APP_TCP_SERVER, 1,
      "Encrypted Client Hello: make a key for PUBLIC_NAME at start and print its "
      "ECHConfigList (OpenSSL 4.0 or later)" },
    { "ech-key", OPT_ECH_KEY, "FILE", APP_TCP_SERVER, 1,
      "Encrypted Client Hello with this key (PEM, as openssl ech -public_name NAME -out FILE "
      "writes it)" },
    { "ech-out", OPT_ECH_OUT, "FILE", APP_TCP_SERVER, 1,
      "with --ech or --ech-key: write the ECHConfigList (base64) to FILE, for clients" },
    { "tickets", OPT_TICKETS, "N", APP_TCP_SERVER, 1,
      "TLS 1.3 session tickets per handshake; 0: none, no resumption (default 2)" },
    { "alpn", OPT_ALPN, "LIST", ALL, 1, "comma-separated ALPN protocols" },
    { "tls-min", OPT_TLS_MIN, "1.2|1.3", TCP, 1, "lowest TLS version (default 1.2)" },
    { "tls-max", OPT_TLS_MAX, "1.2|1.3", ALL, 1,
      "highest TLS version (default 1.3); DTLS: 1.2, or 1.3 where OpenSSL has DTLS 1.3 (4.1 "
      "and later)" },
    { "ciphers", OPT_CIPHERS, "LIST", ALL, 1, "TLS 1.2 cipher list (OpenSSL syntax)" },
    { "ciphersuites", OPT_CIPHERSUITES, "LIST", TCP, 1, "TLS 1.3 cipher suites" },
    { "groups", OPT_GROUPS, "LIST", ALL, 1,
      "key-exchange groups in order of preference (default X25519MLKEM768:X25519:P-256:P-384 "
      "where OpenSSL has the hybrid post-quantum group, 3.5 and later; else and for DTLS "
      "X25519:P-256:P-384)" },
    { "keylog", OPT_KEYLOG, "FILE", ALL, 1,
      "append session secrets to FILE in NSS key-log format (also SSLKEYLOGFILE)" },
    { "help", OPT_HELP, NULL, ALL, 0, "show this help and exit" },
    { "version", OPT_VERSION, NULL, ALL, 0, "show the version and exit" },
};
#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

struct program_info {
    enum app_program program;
    const char *usage;
    const char *summary;
};

static const struct program_info programs[] = {
    { APP_TCP_CLIENT, "[OPTIONS] HOST [PORT]",
      "Connect to HOST:PORT (80, or 443 with --tls), send an HTTP GET (or --send data)\n"
      "and write the whole reply to stdout." },
    { APP_TCP_SERVER, "[OPTIONS]",
      "Listen on 127.0.0.1:9999 and answer each client in its own thread:\n"
      "read a request, print it, reply, close." },
    { APP_UDP_CLIENT, "[OPTIONS] HOST [PORT] [MESSAGE]",
      "Send MESSAGE to HOST:PORT (8080) as one datagram and print the reply." },
    { APP_UDP_SERVER, "[OPTIONS]",
      "Listen on 127.0.0.1:8080 and answer each datagram." },
};

static const struct program_info *program_info(enum app_program p)
{
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
        if (programs[i].program == p)
            return &programs[i];
    return &programs[0];
}

/* -t means something different in each program. */
static const char *timeout_help(enum app_program p)
{
    switch (p) {
    case APP_TCP_CLIENT: return "bound on connect, handshake and each wait (default 10)";
    case APP_UDP_CLIENT:
        return "wait for a reply, per try (default 30; with --dtls 2); 0: for ever";
    default: return "drop a client idle this long (default 30)";
    }
}

/* -v shows more in tcp-client, and goes to the log in the servers. */
static const char *verbose_help(enum app_program p)
{
    switch (p) {
    case APP_TCP_CLIENT:
        return "on stderr: the connection, each TLS handshake message, the session and its "
               "JA4/JA3 fingerprints, the request and response heads (> and <), bytes and "
               "time";
    case APP_UDP_CLIENT:
        return "on stderr: the connection, each DTLS handshake message, the session and its "
               "JA4/JA3 fingerprints";
    default: return "log each client's TLS/DTLS handshake messages, session and JA4/JA3 "
                    "fingerprints";
    }
}

/* --echo says what it echoes in each server. */
static const char *option_help(const struct opt_def *d, enum app_program p)
{
    if (d->id == OPT_TIMEOUT)
        return timeout_help(p);
    if (d->id == OPT_VERBOSE)
        return verbose_help(p);
    if (d->id == OPT_ECHO && p == APP_UDP_SERVER)
        return "echo each datagram back to its sender";
    return d->help;
}

static void print_help(const struct app_options *o)
{
    const struct program_info *pi = program_info(o->program);
    printf("Usage: %s %s\n%s\n\nOptions:\n", o->name, pi->usage, pi->summary);
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_def *d = &opt_table[i];
        if (!(d->programs & (unsigned)o->program))
            continue;
        char left[64];
        int n = d->id < 256 ? snprintf(left, sizeof left, "  -%c, --%s", d->id, d->name)
                            : snprintf(left, sizeof left, "      --%s", d->name);
        if (d->arg != NULL && n > 0 && (size_t)n < sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", d->arg);
        printf("%-34s %s\n", left, option_help(d, o->program));
    }
    printf("\nExit codes:\n"
           "  0  success\n"
           "  1  any other failure (i/o error, truncated reply)\n"
           "  2  usage error: bad option, value or file; a message too big for a datagram\n"
           "  3  name resolution or connection failure\n"
           "  4  TLS handshake or certificate verification failure\n"
           "  5  timeout%s\n", o->program == APP_UDP_CLIENT ? " (no reply after the last try)" : "");
    if (o->program == APP_TCP_CLIENT)
        printf("  6  --fail: the HTTP status was 400 or more\n"
               " 23  the output could not be written, or binary was held back from a "
               "terminal (curl's 23)\n");
}

static int usage_error(const struct app_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line naming the culprit; exit code 2. */
static int usage_error(const struct app_options *o, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char shown[4 * sizeof msg + 1]; /* what the user typed may hold any byte */
    term_escape_line((const unsigned char *)msg, strlen(msg), shown);
    fprintf(stderr, "%s: %s (see %s --help)\n", o->name, shown, o->name);
    return APP_EXIT_USAGE;
}

int app_parse_seconds(const char *s)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > 86400)
        return -1;
    return (int)(v * 1000 + 0.5) > 0 ? (int)(v * 1000 + 0.5) : 1;
}

static int parse_count(const char *s, long min, long max)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < min || v > max)
        return -1;
    return (int)v;
}

static int valid_port(const char *s, int allow_zero)
{
    return parse_count(s, allow_zero ? 0 : 1, 65535) >= 0;
}

int app_parse_resolve(const char *arg, char *buf, size_t buflen, const char **host,
                      const char **port, const char **addr)
{
    size_t len = strlen(arg);
    if (len >= buflen)
        return -1;
    memcpy(buf, arg, len + 1);
    char *c1 = strchr(buf, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c1 == NULL || c2 == NULL || c1 == buf)
        return -1;
    *c1 = *c2 = '\0';
    char *a = c2 + 1;
    size_t alen = strlen(a);
    if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
        a[alen - 1] = '\0';
        a++;
    }
    if (!valid_port(c1 + 1, 0) || *a == '\0')
        return -1;
    *host = buf;
    *port = c1 + 1;
    *addr = a;
    return 0;
}

static void set_defaults(struct app_options *o, enum app_program program, const char *argv0)
{
    memset(o, 0, sizeof *o);
    o->program = program;
    const char *slash = strrchr(argv0, '/');
    o->name = slash ? slash + 1 : argv0;
    o->family = AF_UNSPEC;
    o->timeout_ms = (program & SERVERS) ? 30000 : 10000;
    o->method = "GET";
    o->max_redirs = 10;
    o->path = "/";
    o->user_agent = "tcp-client/" SECSOCK_VERSION;
    o->bind = "127.0.0.1";
    o->backlog = 128;
    o->max_clients = 256;
    o->tickets = -1;
    o->handshake_timeout_ms = 10000;
    o->grace_ms = 10000;
    o->retries = 3;
    o->count = 1;
    o->max_reply = 65535;
    o->ready_fd = -1;
    if (program == APP_UDP_CLIENT) {
        o->timeout_ms = -1; /* by the mode, once known: see udp_client_defaults */
        o->retries = -1;
    }
}

/* -V: the program's version first (scripts read its last word), then the
 * OpenSSL it was built with and the one it runs with, which may differ
 * (a library upgraded since, LD_LIBRARY_PATH), as curl -V shows. */
static void print_version(const struct app_options *o)
{
    printf("%s %s\n", o->name, SECSOCK_VERSION);
    printf("built with %s\n", OPENSSL_VERSION_TEXT);
    printf("running with %s\n", OpenSSL_version(OPENSSL_VERSION));
}

/* Applies one parsed option. Returns -1 to go on, or an exit code. */
static int apply(struct app_options *o, int id, const char *arg)
{
    char err[256];
    switch (id) {
    case OPT_HELP: print_help(o); return APP_EXIT_OK;
    case OPT_VERSION: print_version(o); return APP_EXIT_OK;
    case OPT_VERBOSE: o->verbose++; break;
    case OPT_IPV4: o->family = AF_INET; break;
    case OPT_IPV6: o->family = AF_INET6; break;
    case OPT_TIMEOUT:
        if (o->program == APP_UDP_CLIENT && strcmp(arg, "0") == 0) {
            o->timeout_ms = INT_MAX; /* for ever, like nc -u */
            break;
        }
        /* fall through */
    case OPT_HANDSHAKE_TIMEOUT:
    case OPT_GRACE: {
        int ms = app_parse_seconds(arg);
        if (ms < 0)
            return usage_error(o, "invalid timeout '%s': want seconds, above 0, at most 86400",
                               arg);
        *(id == OPT_TIMEOUT             ? &o->timeout_ms
          : id == OPT_HANDSHAKE_TIMEOUT ? &o->handshake_timeout_ms
                                        : &o->grace_ms) = ms;
        break;
    }
    case OPT_TLS: case OPT_DTLS: o->secure = 1; break;
    case OPT_CAFILE: o->cafile = arg; break;
    case OPT_CERT: o->cert = arg; break;
    case OPT_KEY: o->key = arg; break;
    case OPT_SERVERNAME: o->servername = arg; break;
    case OPT_INSECURE: o->insecure = 1; break;
    case OPT_PIN: o->pin = arg; break;
    case OPT_ALPN: o->alpn = arg; break;
    case OPT_TLS_MIN: o->tls_min = arg; break;
    case OPT_TLS_MAX: o->tls_max = arg; break;
    case OPT_CIPHERS: o->ciphers = arg; break;
    case OPT_CIPHERSUITES: o->ciphersuites = arg; break;
    case OPT_GROUPS: o->groups = arg; break;
    case OPT_KEYLOG: o->keylog = arg; break;
    case OPT_SELF_SIGNED: o->self_signed = 1; break;
    case OPT_CERT_OUT: o->cert_out = arg; break;
    case OPT_VERIFY_CLIENT: o->verify_client = 1; break;
    case OPT_ECH_SERVER: o->ech_public_name = arg; break;
    case OPT_ECH_KEY: o->ech_key = arg; break;
    case OPT_ECH_OUT: o->ech_out = arg; break;
    case OPT_ECH_CLIENT:
        /* curl's words; "ecl:" may come with "hard" in another --ech. */
        if (strncmp(arg, "ecl:", 4) == 0 && arg[4] != '\0')
            o->ech_config = arg + 4;
        else if (strcmp(arg, "hard") == 0)
            o->ech_hard = 1;
        else if (strcmp(arg, "grease") == 0)
            o->ech_grease = 1;
        else
            return usage_error(o, "invalid --ech '%s': want ecl:CONFIG (base64, or a file), "
                                  "hard or grease", arg);
        break;
    case OPT_METHOD:
    case OPT_REQUEST: o->method = arg; o->method_given = 1; break;
    case OPT_HEAD: o->head = 1; break;
    case OPT_DATA:
    case OPT_DATA_BINARY:
        if (o->ndata == APP_MAX_DATA)
            return usage_error(o, "too many --data (at most %d)", APP_MAX_DATA);
        o->data[o->ndata].arg = arg;
        o->data[o->ndata++].binary = id == OPT_DATA_BINARY;
        break;
    case OPT_LOCATION: o->follow = 1; break;
    case OPT_MAX_REDIRS:
        if ((o->max_redirs = parse_count(arg, 0, 1000)) < 0)
            return usage_error(o, "invalid --max-redirs '%s': want 0 to 1000", arg);
        break;
    case OPT_PATH: o->path = arg; break;
    case OPT_USER_AGENT: o->user_agent = arg; break;
    case OPT_HEADER:
        if (o->nheaders == APP_MAX_HEADERS)
            return usage_error(o, "too many headers (at most %d)", APP_MAX_HEADERS);
        if (http_header_check(arg, err, sizeof err) != 0)
            return usage_error(o, "%s", err);
        o->headers[o->nheaders++] = arg;
        break;
    case OPT_RESOLVE:
        if (app_parse_resolve(arg, o->resolve_buf, sizeof o->resolve_buf, &o->resolve_host,
                              &o->resolve_port, &o->resolve_addr) != 0)
            return usage_error(o, "invalid --resolve '%s': want HOST:PORT:ADDR", arg);
        break;
    case OPT_SEND: o->send_string = arg; break;
    case OPT_SEND_FILE: o->send_file = arg; break;
    case OPT_OUTPUT: o->output = arg; break;
    case OPT_JSON: o->json = 1; break;
    case OPT_TRACE:
        if (arg[0] == '\0')
            return usage_error(o, "%s", "empty --trace: want a file name, or - for stdout");
        o->trace = arg;
        break;
    case OPT_PCAP:
        if (arg[0] == '\0' || strcmp(arg, "-") == 0)
            return usage_error(o, "%s", "--pcap wants a file name (a capture is binary: not "
                                        "stdout)");
        o->pcap = arg;
        break;
    case OPT_BODY_ONLY: o->body_only = 1; break;
    case OPT_FAIL: o->fail_http = 1; break;
    case OPT_RETRIES:
        if ((o->retries = parse_count(arg, 0, 100)) < 0)
            return usage_error(o, "invalid --retries '%s': want 0 to 100", arg);
        break;
    case OPT_COUNT:
        if ((o->count = parse_count(arg, 1, 1000000)) < 0)
            return usage_error(o, "invalid --count '%s': want 1 to 1000000", arg);
        break;
    case OPT_NO_REPLY: o->no_reply = 1; break;
    case OPT_MAX_REPLY:
        if ((o->max_reply = parse_count(arg, 1, 65535)) < 0)
            return usage_error(o, "invalid --max-reply '%s': want 1 to 65535", arg);
        break;
    case OPT_MTU:
        if ((o->mtu = parse_count(arg, 576, 65535)) < 0)
            return usage_error(o, "invalid --mtu '%s': want 576 to 65535", arg);
        break;
    case OPT_BIND: o->bind = arg; break;
    case OPT_PORT:
        if (!valid_port(arg, 1))
            return usage_error(o, "invalid port '%s': want 0 to 65535", arg);
        o->port = arg;
        break;
    case OPT_BACKLOG:
        if ((o->backlog = parse_count(arg, 1, 65535)) < 0)
            return usage_error(o, "invalid backlog '%s': want 1 to 65535", arg);
        break;
    case OPT_MAX_CLIENTS:
        if ((o->max_clients = parse_count(arg, 1, 100000)) < 0)
            return usage_error(o, "invalid --max-clients '%s': want 1 to 100000", arg);
        break;
    case OPT_ACCEPT_THREADS:
        if ((o->accept_threads = parse_count(arg, 1, APP_MAX_ACCEPT_THREADS)) < 0)
            return usage_error(o, "invalid --accept-threads '%s': want 1 to %d", arg,
                               APP_MAX_ACCEPT_THREADS);
        break;
    case OPT_TICKETS:
        if ((o->tickets = parse_count(arg, 0, 10)) < 0)
            return usage_error(o, "invalid --tickets '%s': want 0 to 10", arg);
        break;
    case OPT_REPLY: o->reply = arg; break;
    case OPT_ECHO: o->echo = 1; break;
    case OPT_HTTP: o->http = 1; break;
    case OPT_SINK: o->sink = 1; break;
    case OPT_QUIET: o->quiet = 1; break;
    case OPT_TIMESTAMPS: o->timestamps = 1; break;
    case OPT_READY_FD:
        if ((o->ready_fd = parse_count(arg, 3, 65535)) < 0)
            return usage_error(o, "invalid --ready-fd '%s': want a descriptor, 3 or more", arg);
        if (fcntl(o->ready_fd, F_GETFD) < 0)
            return usage_error(o, "--ready-fd %s: that descriptor is not open", arg);
        break;
    default: return APP_EXIT_USAGE;
    }
    return -1;
}

static const struct opt_def *find_def(int id)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (opt_table[i].id == id)
            return &opt_table[i];
    return NULL;
}

/* The table entry an unrecognised argument names: "-p", "--sink", "--tls=1". */
/* The option arg names: program's own when two programs share the name
 * (tcp-client's and tcp-server's --ech), else another program's. */
static const struct opt_def *def_named(const char *arg, enum app_program program)
{
    if (arg[0] != '-' || arg[1] == '\0')
        return NULL;
    if (arg[1] != '-')
        return find_def((unsigned char)arg[1]);
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    const struct opt_def *other = NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        if (strlen(opt_table[i].name) != len || strncmp(opt_table[i].name, name, len) != 0)
            continue;
        if (opt_table[i].programs & (unsigned)program)
            return &opt_table[i];
        if (other == NULL)
            other = &opt_table[i];
    }
    return other;
}

/* "tcp-server", "tcp-server and udp-server", ...: the programs in a mask. */
static void program_names(unsigned mask, char *buf, size_t len)
{
    static const char *const names[] = { "tcp-client", "tcp-server", "udp-client", "udp-server" };
    static const enum app_program bits[] = { APP_TCP_CLIENT, APP_TCP_SERVER, APP_UDP_CLIENT,
                                             APP_UDP_SERVER };
    size_t n = 0, total = 0, k = 0;
    for (size_t i = 0; i < 4; i++)
        total += (mask & (unsigned)bits[i]) != 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 4 && n < len; i++) {
        if (!(mask & (unsigned)bits[i]))
            continue;
        const char *sep = k == 0 ? "" : k + 1 == total ? " and " : ", ";
        int w = snprintf(buf + n, len - n, "%s%s", sep, names[i]);
        n += w > 0 ? (size_t)w : 0;
        k++;
    }
}

/* getopt's '?': a value missing, an option of another program, or no option at all. */
static int option_error(const struct app_options *o, const char *bad)
{
    const struct opt_def *d = optopt != 0 ? find_def(optopt) : def_named(bad, o->program);
    if (d == NULL)
        return usage_error(o, "unknown option '%s'", bad);
    if (d->programs & (unsigned)o->program)
        return usage_error(o, d->arg ? "option '%s' needs a value" : "option '%s' takes no value",
                           bad);
    char who[80];
    program_names(d->programs, who, sizeof who);
    return usage_error(o, "option '%s' is for %s, not %s", bad, who, o->name);
}

static int was_seen(const unsigned char *seen, int id)
{
    const struct opt_def *d = find_def(id);
    return d != NULL && seen[d - opt_table];
}

/* udp-client's waits by mode, where -t and --retries did not say: in
 * plaintext one datagram and 30 s for a reply, time for a person answering
 * in ncat -u -l; over DTLS 2 s per try and 3 more tries, as a lost record
 * is never resent by DTLS itself. */
static void udp_client_defaults(struct app_options *o)
{
    if (o->program != APP_UDP_CLIENT)
        return;
    if (o->timeout_ms < 0)
        o->timeout_ms = o->secure ? 2000 : 30000;
    if (o->retries < 0)
        o->retries = o->secure ? 3 : 0;
}

/* ECH's combinations (the library checks them too, in its own words). */
static int check_ech(const struct app_options *o)
{
    int ech = o->ech_key || o->ech_public_name || o->ech_config || o->ech_hard || o->ech_grease;
    if (o->ech_key != NULL && o->ech_public_name != NULL)
        return usage_error(o, "%s", "--ech and --ech-key contradict each other: a key is "
                                    "made, or read");
    if (o->ech_out != NULL && o->ech_key == NULL && o->ech_public_name == NULL)
        return usage_error(o, "%s", "--ech-out needs --ech PUBLIC_NAME or --ech-key FILE");
    if (o->ech_hard && o->ech_config == NULL)
        return usage_error(o, "%s", "--ech hard needs --ech ecl:CONFIG as well (tcp-client "
                                    "looks no config up in DNS)");
    if (o->ech_grease && o->ech_config != NULL)
        return usage_error(o, "%s", "--ech grease and --ech ecl: contradict each other");
    if (ech && o->tls_max != NULL && strcmp(o->tls_max, "1.2") == 0)
        return usage_error(o, "%s", "Encrypted Client Hello needs TLS 1.3: drop --tls-max 1.2");
    return -1;
}

/* Combinations that cannot mean what the user wants. */
static int check_combinations(struct app_options *o, const unsigned char *seen)
{
    udp_client_defaults(o);
    for (size_t i = 0; i < N_OPTS; i++)
        if (seen[i] && opt_table[i].security && !o->secure)
            return usage_error(o, "--%s needs %s", opt_table[i].name,
                               (o->program & UDP) ? "--dtls" : "--tls");
    if (o->insecure && o->pin != NULL)
        return usage_error(o, "%s", "--insecure and --pin contradict each other");
    if (o->quiet && o->verbose)
        return usage_error(o, "%s", "--quiet and --verbose contradict each other");
    if (o->no_reply && o->count > 1)
        return usage_error(o, "%s", "--no-reply and --count contradict each other");
    if (o->echo + o->http + o->sink > 1)
        return usage_error(o, "%s", "--echo, --http and --sink are different modes: pick one");
    if (o->head && o->ndata > 0)
        return usage_error(o, "%s", "--head and --data contradict each other");
    if (o->head && o->method_given)
        return usage_error(o, "%s", "--head and --request contradict each other");
    if (o->head)
        o->method = "HEAD";
    else if (o->ndata > 0 && !o->method_given)
        o->method = "POST";
    if (o->send_string != NULL && o->send_file != NULL)
        return usage_error(o, "%s", "--send and --send-file contradict each other");
    if ((o->send_string != NULL || o->send_file != NULL) &&
        (was_seen(seen, OPT_HEADER) || was_seen(seen, OPT_PATH) || o->method_given ||
         o->head || o->ndata > 0 || o->follow ||
         was_seen(seen, OPT_USER_AGENT) || o->body_only || o->fail_http))
        return usage_error(o, "%s", "--path, --request, --head, --data, --location, --header, "
                                    "--user-agent, --body-only and "
                                    "--fail make no sense with --send");
    if ((o->cert != NULL) != (o->key != NULL))
        return usage_error(o, "%s", "--cert and --key go together");
    if ((o->program & SERVERS) && o->secure && o->cert == NULL && !o->self_signed)
        return usage_error(o, "%s needs --cert and --key, or --self-signed",
                           o->program == APP_TCP_SERVER ? "--tls" : "--dtls");
    if (o->cert_out != NULL && !o->self_signed)
        return usage_error(o, "%s", "--cert-out needs --self-signed (with --cert, clients can "
                                    "use that file)");
    if (o->self_signed && o->cert != NULL)
        return usage_error(o, "%s", "--self-signed and --cert contradict each other");
    return check_ech(o);
}

/* The operands, in order: words that are not options wherever they stand
 * (GNU order), then every word after "--". */
struct operands {
    const char *word[4];
    int n;
    const char *extra;          /* the first word beyond what fits */
};

static void add_operand(struct operands *ops, const char *word)
{
    if (ops->n < (int)(sizeof ops->word / sizeof ops->word[0]))
        ops->word[ops->n++] = word;
    else if (ops->extra == NULL)
        ops->extra = word;
}

/* A URL's scheme and path against the options (https implies --tls). */
static int apply_url(struct app_options *o, const unsigned char *seen)
{
    const struct target *t = &o->target;
    if (t->scheme == TARGET_NONE)
        return -1;
    if (t->scheme == TARGET_HTTPS)
        o->secure = 1;
    else if (o->secure)
        return usage_error(o, "an http:// URL and --tls contradict each other: use https://");
    if (strcmp(t->path, "/") != 0) {
        if (was_seen(seen, OPT_PATH))
            return usage_error(o, "%s", "--path and the URL's path contradict each other");
        o->path = t->path;
    }
    return -1;
}

static int parse_positionals(struct app_options *o, const struct operands *ops,
                             const unsigned char *seen)
{
    int nargs = ops->n;
    int max = o->program == APP_UDP_CLIENT ? 3 : (o->program & CLIENTS) ? 2 : 0;
    if (nargs > max || ops->extra != NULL)
        return usage_error(o, "unexpected argument '%s'",
                           nargs > max ? ops->word[max] : ops->extra);
    if (!(o->program & CLIENTS))
        return -1;
    if (nargs < 1)
        return usage_error(o, "%s", "missing HOST");
    char err[256];
    if (ops->word[0][0] == '\0')
        return usage_error(o, "%s", "empty HOST");
    if (target_parse(ops->word[0], o->program == APP_TCP_CLIENT, &o->target, err,
                     sizeof err) != 0)
        return usage_error(o, "%s", err);
    o->host = o->target.host;
    o->port = o->target.port;
    int next = 1;
    if (o->port == NULL && nargs > next) {
        if (!valid_port(ops->word[next], 0))
            return usage_error(o, "invalid port '%s': want 1 to 65535", ops->word[next]);
        o->port = ops->word[next++];
    } else if (o->port != NULL && nargs > next && o->program == APP_TCP_CLIENT) {
        return usage_error(o, "the port is given twice: '%s' and '%s'", ops->word[0],
                           ops->word[next]);
    }
    if (o->program == APP_UDP_CLIENT && nargs > next)
        o->message = ops->word[next++];
    if (nargs > next)
        return usage_error(o, "unexpected argument '%s'", ops->word[next]);
    return apply_url(o, seen);
}

/* getopt_long takes a word that names another program's option exactly
 * as an abbreviation of one of ours: udp-client's "--tls" would be
 * "--tls-max" and eat the next word. Such a word is refused first, as an
 * option of the other program. The value of one of ours is skipped. */
static int other_programs_exact_option(const struct app_options *o, int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        const struct opt_def *d = def_named(argv[i], o->program);
        if (d == NULL)
            continue;
        if (d->programs & (unsigned)o->program) {
            i += d->arg != NULL && strchr(argv[i], '=') == NULL; /* its value */
            continue;
        }
        size_t len = strcspn(argv[i] + 2, "=");
        for (size_t k = 0; k < N_OPTS; k++)
            if ((opt_table[k].programs & (unsigned)o->program) &&
                strncmp(opt_table[k].name, argv[i] + 2, len) == 0) {
                optopt = 0; /* option_error: name it from the word, not getopt's state */
                return option_error(o, argv[i]);
            }
    }
    return -1;
}

int app_options_parse(struct app_options *o, enum app_program program, int argc, char **argv)
{
    set_defaults(o, program, argc > 0 ? argv[0] : "secsock");
    struct option longopts[N_OPTS + 1];
    /* "-": operands come back in order as id 1, so options may follow them
     * (GNU order) whatever POSIXLY_CORRECT says: "udp-client HOST PORT
     * --dtls" must do DTLS, never send "--dtls" in plaintext. Only words
     * after "--" are operands whatever they look like. */
    char shortopts[2 * N_OPTS + 2] = "-";
    size_t nl = 0, ns = 1;
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_def *d = &opt_table[i];
        if (!(d->programs & (unsigned)program))
            continue;
        longopts[nl++] = (struct option){ d->name, d->arg ? required_argument : no_argument,
                                          NULL, d->id };
        if (d->id < 256) {
            shortopts[ns++] = (char)d->id;
            if (d->arg)
                shortopts[ns++] = ':';
        }
    }
    longopts[nl] = (struct option){ 0 };
    shortopts[ns] = '\0';

    int early = other_programs_exact_option(o, argc, argv);
    if (early >= 0)
        return early;
    unsigned char seen[N_OPTS] = { 0 };
    struct operands ops = { 0 };
    opterr = 0;
    optind = 0; /* glibc: 0, not 1, also forgets a half-read "-hv" cluster */
    int id;
    while ((id = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (id == 1) {
            add_operand(&ops, optarg);
            continue;
        }
        if (id == '?') {
            /* Name what was typed: "--timeout" or "-t"; a short option may sit
             * inside a cluster ("-vx"), where argv says nothing precise. */
            const char *last = optind > 0 ? argv[optind - 1] : "?";
            char shortname[3] = { '-', (char)optopt, '\0' };
            const struct opt_def *d = find_def(optopt);
            int typed_long = strncmp(last, "--", 2) == 0 && d != NULL && /* maybe abbreviated */
                             strncmp(d->name, last + 2, strcspn(last + 2, "=")) == 0;
            int is_short = optopt > 0 && optopt < 256 && !typed_long;
            return option_error(o, is_short ? shortname : last);
        }
        const struct opt_def *d = find_def(id);
        if (d != NULL)
            seen[d - opt_table] = 1;
        int rc = apply(o, id, optarg);
        if (rc >= 0)
            return rc;
    }
    for (int i = optind; i < argc; i++) /* after "--" */
        add_operand(&ops, argv[i]);
    int rc = parse_positionals(o, &ops, seen);
    if (rc >= 0)
        return rc;
    return check_combinations(o, seen);
}

/* --ech ecl:VALUE: the text of the file VALUE names, else VALUE itself
 * (base64 never names a file one has). Returns the text (*buf, malloc'd,
 * when read from a file), or NULL with the reason in err. */
static const char *ech_config_text(const char *value, char **buf, char *err, size_t errlen)
{
    *buf = NULL;
    FILE *f = fopen(value, "r");
    if (f == NULL)
        return value;
    enum { ECH_FILE_MAX = 65536 }; /* an ECHConfigList is at most a few KiB */
    char *text = malloc(ECH_FILE_MAX + 1);
    size_t n = text != NULL ? fread(text, 1, ECH_FILE_MAX + 1, f) : 0;
    int bad = text == NULL || ferror(f) || n > ECH_FILE_MAX;
    (void)fclose(f); /* read only */
    if (bad) {
        free(text);
        snprintf(err, errlen, "--ech ecl:%s: cannot read it, or it is over 64 KiB", value);
        return NULL;
    }
    text[n] = '\0';
    *buf = text;
    return text;
}

/* The ECH options into cfg: SECSOCK_OK, or a status with the reason in
 * err (or, when err is empty, the config's). */
static enum secsock_status ech_settings(const struct app_options *o, secsock_config *cfg,
                                        char *err, size_t errlen)
{
    enum secsock_status rc = SECSOCK_OK;
    if (o->ech_key)
        rc = secsock_config_set_ech_key_file(cfg, o->ech_key);
    if (rc == SECSOCK_OK && o->ech_public_name)
        rc = secsock_config_set_ech_public_name(cfg, o->ech_public_name);
    if (rc == SECSOCK_OK && o->ech_hard)
        rc = secsock_config_require_ech(cfg, 1);
    if (rc == SECSOCK_OK && o->ech_grease)
        rc = secsock_config_set_ech_grease(cfg, 1);
    if (rc != SECSOCK_OK || o->ech_config == NULL)
        return rc;
    char *buf = NULL;
    const char *text = ech_config_text(o->ech_config, &buf, err, errlen);
    if (text == NULL)
        return SECSOCK_ERR_CONFIG;
    int from_file = buf != NULL;
    rc = secsock_config_set_ech_config_list(cfg, text);
    free(buf);
    if (rc != SECSOCK_OK && secsock_ech_supported()) {
        char shown[4 * 64 + 1]; /* the start of what was typed is enough to know it */
        term_escape_line((const unsigned char *)o->ech_config, strnlen(o->ech_config, 64),
                         shown);
        snprintf(err, errlen, "--ech ecl:%s%s: %s%s", shown,
                 strlen(o->ech_config) > 64 ? "..." : "", from_file ? "" : "no such file, and ",
                 secsock_config_error(cfg));
    }
    return rc;
}

/* The config the options ask for; NULL with the reason in err. Each
 * setter checks its value, so the first refused one is the message. */
static secsock_config *security_config(const struct app_options *o, const char *keylog,
                                       char *err, size_t errlen)
{
    err[0] = '\0';
    secsock_config *cfg = NULL;
    if (secsock_config_new(&cfg) != SECSOCK_OK) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!o->secure)
        return cfg;
    enum secsock_status rc = SECSOCK_OK;
#define SET(wanted, call)                                                                      \
    do {                                                                                       \
        if (rc == SECSOCK_OK && (wanted))                                                      \
            rc = (call);                                                                       \
    } while (0)
    SET(o->cafile, secsock_config_set_cafile(cfg, o->cafile));
    SET(o->cert, secsock_config_set_cert_file(cfg, o->cert));
    SET(o->key, secsock_config_set_key_file(cfg, o->key));
    SET(o->self_signed, secsock_config_set_self_signed(cfg, 1));
    SET(o->servername, secsock_config_set_servername(cfg, o->servername));
    SET(o->insecure, secsock_config_insecure_noverify(cfg));
    SET(o->pin, secsock_config_set_pin(cfg, o->pin));
    SET(o->verify_client, secsock_config_verify_client(cfg, 1));
    SET(o->alpn, secsock_config_set_alpn(cfg, o->alpn));
    SET(o->tls_min, secsock_config_set_min_version(cfg, o->tls_min));
    SET(o->tls_max, secsock_config_set_max_version(cfg, o->tls_max));
    SET(o->ciphers, secsock_config_set_ciphers(cfg, o->ciphers));
    SET(o->ciphersuites, secsock_config_set_ciphersuites(cfg, o->ciphersuites));
    SET(o->groups, secsock_config_set_groups(cfg, o->groups));
    SET(keylog, secsock_config_set_keylog_file(cfg, keylog));
    SET(o->mtu, secsock_config_set_mtu(cfg, o->mtu));
    SET(o->tickets >= 0, secsock_config_set_session_tickets(cfg, o->tickets));
    SET(1, ech_settings(o, cfg, err, errlen));
    /* -v and --json show the client's fingerprints: only then is its
     * ClientHello kept (tcp-server peeks at it instead). */
    SET(o->verbose || o->json, secsock_config_keep_client_hello(cfg, 1));
#undef SET
    if (rc != SECSOCK_OK) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s", secsock_config_error(cfg));
        secsock_config_free(cfg);
        return NULL;
    }
    return cfg;
}

secsock_transport *app_transport(const struct app_options *o, enum secsock_role role,
                                 char *err, size_t errlen)
{
    const char *keylog = o->keylog;
    const char *env = getenv("SSLKEYLOGFILE");
    if (o->secure && keylog == NULL && env != NULL && env[0] != '\0')
        keylog = env;
    secsock_config *cfg = security_config(o, keylog, err, errlen);
    if (cfg == NULL)
        return NULL;
    int datagram = (o->program & UDP) != 0;
    const char *backend = datagram ? (o->secure ? "dtls" : "udp") : (o->secure ? "tls" : "tcp");
    secsock_transport *t = NULL;
    enum secsock_status rc = secsock_transport_new(backend, role, cfg, &t);
    secsock_config_free(cfg);
    if (rc != SECSOCK_OK) {
        snprintf(err, errlen, "%s", t != NULL ? secsock_transport_error(t) : "out of memory");
        app_add_hint(rc, datagram, err, errlen);
        secsock_transport_free(t);
        return NULL;
    }
    if (app_observe(o, t, err, errlen) != 0) {
        secsock_transport_free(t);
        return NULL;
    }
    if (o->insecure)
        fprintf(stderr, "%s: warning: --insecure: the peer's certificate and name are NOT "
                        "verified\n", o->name);
    if (keylog != NULL)
        fprintf(stderr, "%s: warning: writing %s session secrets to '%s'%s\n", o->name,
                datagram ? "DTLS" : "TLS", keylog, o->keylog ? "" : " (SSLKEYLOGFILE)");
    return t;
}

struct secsock_connect_opts app_connect_opts(const struct app_options *o, const char *port,
                                             int timeout_ms)
{
    int resolved = o->resolve_host != NULL && strcmp(o->resolve_host, o->host) == 0 &&
                   strcmp(o->resolve_port, port) == 0;
    return (struct secsock_connect_opts){
        .host = o->host,
        .port = port,
        .connect_addr = resolved ? o->resolve_addr : NULL,
        .family = o->family,
        .timeout_ms = timeout_ms,
    };
}
