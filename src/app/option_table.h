/*
 * The option table of the four programs: every option once, with the
 * programs it belongs to, whether it needs --tls/--dtls, and its --help
 * line. The parser (options.c), --help (option_help.c), the usage errors
 * (option_errors.c) and the checks (option_checks.c) all read it, so the
 * programs cannot disagree about what an option means.
 */
#ifndef SECSOCK_APP_OPTION_TABLE_H
#define SECSOCK_APP_OPTION_TABLE_H

#include <stddef.h>

#include "options.h"

#define APP_ALL (APP_TCP_CLIENT | APP_TCP_SERVER | APP_UDP_CLIENT | APP_UDP_SERVER)
#define APP_CLIENTS (APP_TCP_CLIENT | APP_UDP_CLIENT)
#define APP_SERVERS (APP_TCP_SERVER | APP_UDP_SERVER)
#define APP_TCP (APP_TCP_CLIENT | APP_TCP_SERVER)
#define APP_UDP (APP_UDP_CLIENT | APP_UDP_SERVER)

enum opt_id {
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_VERBOSE = 'v',
    OPT_IPV4 = '4',
    OPT_IPV6 = '6',
    OPT_TIMEOUT = 't',
    OPT_INSECURE = 'k',
    OPT_USER_AGENT = 'A',
    OPT_HEADER = 'H',
    OPT_REQUEST = 'X',
    OPT_HEAD = 'I',
    OPT_DATA = 'd',
    OPT_LOCATION = 'L',
    OPT_BIND = 'b',
    OPT_PORT = 'p',
    OPT_OUTPUT = 'o',
    OPT_QUIET = 'q',
    OPT_TLS = 256,
    OPT_DTLS,
    OPT_CAFILE,
    OPT_CERT,
    OPT_KEY,
    OPT_SERVERNAME,
    OPT_PIN,
    OPT_ALPN,
    OPT_TLS_MIN,
    OPT_TLS_MAX,
    OPT_CIPHERS,
    OPT_CIPHERSUITES,
    OPT_GROUPS,
    OPT_KEYLOG,
    OPT_SELF_SIGNED,
    OPT_VERIFY_CLIENT,
    OPT_METHOD,
    OPT_PATH,
    OPT_RESOLVE,
    OPT_SEND,
    OPT_SEND_FILE,
    OPT_SINK,
    OPT_JSON,
    OPT_BODY_ONLY,
    OPT_FAIL,
    OPT_RETRIES,
    OPT_COUNT,
    OPT_NO_REPLY,
    OPT_MAX_REPLY,
    OPT_MTU,
    OPT_BACKLOG,
    OPT_MAX_CLIENTS,
    OPT_ACCEPT_THREADS,
    OPT_TICKETS,
    OPT_HANDSHAKE_TIMEOUT,
    OPT_GRACE,
    OPT_REPLY,
    OPT_ECHO,
    OPT_HTTP,
    OPT_READY_FD,
    OPT_DATA_BINARY,
    OPT_MAX_REDIRS,
    OPT_TIMESTAMPS,
    OPT_CERT_OUT,
    OPT_TRACE,
    OPT_PCAP,
    OPT_ECH_CLIENT,
    OPT_ECH_SERVER,
    OPT_ECH_KEY,
    OPT_ECH_OUT,
};

struct opt_def {
    const char *name;
    int id;          /* the short option letter, or an OPT_ value above 255 */
    const char *arg; /* NULL for a flag */
    unsigned programs;
    int security; /* only meaningful with --tls/--dtls */
    const char *help;
};

/* The table's length: a constant, for the parser's arrays (option_table.c
 * asserts that it is the table's). */
#define APP_N_OPTS 67
extern const struct opt_def app_opt_table[];

/* The entry of an id (a short option letter or an OPT_ value), or NULL. */
const struct opt_def *app_opt_by_id(int id);

/* The table entry an argument names: "-p", "--sink", "--tls=1". The
 * program's own when two programs share the name (tcp-client's and
 * tcp-server's --ech), else another program's; NULL for none. */
const struct opt_def *app_opt_named(const char *arg, enum app_program program);

/* Whether the option id was on the command line (seen: one flag per entry). */
int app_opt_seen(const unsigned char *seen, int id);

/* "tcp-server", "tcp-server and udp-server", ...: the programs in a mask. */
void app_program_names(unsigned mask, char *buf, size_t len);

#endif
