/*
 * The programs' command line: each option's value checked and stored as it
 * comes (GNU order: options may follow operands; "--" ends them), then the
 * operands (HOST, PORT, MESSAGE or a URL). The table, --help, the usage
 * errors and the checks of combinations live in option_*.c; turning the
 * options into a transport, in config_builder.c.
 */
#include "options.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http_request.h"
#include "option_checks.h"
#include "option_errors.h"
#include "option_help.h"
#include "option_table.h"

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
    o->timeout_ms = (program & APP_SERVERS) ? 30000 : 10000;
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

/* Applies one parsed option. Returns -1 to go on, or an exit code. */
static int apply(struct app_options *o, int id, const char *arg)
{
    char err[256];
    switch (id) {
    case OPT_HELP: app_print_help(o); return APP_EXIT_OK;
    case OPT_VERSION: app_print_version(o); return APP_EXIT_OK;
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
            return app_usage_error(o, "invalid timeout '%s': want seconds, above 0, at most 86400",
                                   arg);
        *(id == OPT_TIMEOUT             ? &o->timeout_ms
          : id == OPT_HANDSHAKE_TIMEOUT ? &o->handshake_timeout_ms
                                        : &o->grace_ms) = ms;
        break;
    }
    case OPT_TLS:
    case OPT_DTLS: o->secure = 1; break;
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
            return app_usage_error(o,
                                   "invalid --ech '%s': want ecl:CONFIG (base64, or a file), "
                                   "hard or grease",
                                   arg);
        break;
    case OPT_METHOD:
    case OPT_REQUEST:
        o->method = arg;
        o->method_given = 1;
        break;
    case OPT_HEAD: o->head = 1; break;
    case OPT_DATA:
    case OPT_DATA_BINARY:
        if (o->ndata == APP_MAX_DATA)
            return app_usage_error(o, "too many --data (at most %d)", APP_MAX_DATA);
        o->data[o->ndata].arg = arg;
        o->data[o->ndata++].binary = id == OPT_DATA_BINARY;
        break;
    case OPT_LOCATION: o->follow = 1; break;
    case OPT_MAX_REDIRS:
        if ((o->max_redirs = parse_count(arg, 0, 1000)) < 0)
            return app_usage_error(o, "invalid --max-redirs '%s': want 0 to 1000", arg);
        break;
    case OPT_PATH: o->path = arg; break;
    case OPT_USER_AGENT: o->user_agent = arg; break;
    case OPT_HEADER:
        if (o->nheaders == APP_MAX_HEADERS)
            return app_usage_error(o, "too many headers (at most %d)", APP_MAX_HEADERS);
        if (http_header_check(arg, err, sizeof err) != 0)
            return app_usage_error(o, "%s", err);
        o->headers[o->nheaders++] = arg;
        break;
    case OPT_RESOLVE:
        if (app_parse_resolve(arg, o->resolve_buf, sizeof o->resolve_buf, &o->resolve_host,
                              &o->resolve_port, &o->resolve_addr) != 0)
            return app_usage_error(o, "invalid --resolve '%s': want HOST:PORT:ADDR", arg);
        break;
    case OPT_SEND: o->send_string = arg; break;
    case OPT_SEND_FILE: o->send_file = arg; break;
    case OPT_OUTPUT: o->output = arg; break;
    case OPT_JSON: o->json = 1; break;
    case OPT_TRACE:
        if (arg[0] == '\0')
            return app_usage_error(o, "%s", "empty --trace: want a file name, or - for stdout");
        o->trace = arg;
        break;
    case OPT_PCAP:
        if (arg[0] == '\0' || strcmp(arg, "-") == 0)
            return app_usage_error(o, "%s",
                                   "--pcap wants a file name (a capture is binary: not "
                                   "stdout)");
        o->pcap = arg;
        break;
    case OPT_BODY_ONLY: o->body_only = 1; break;
    case OPT_FAIL: o->fail_http = 1; break;
    case OPT_RETRIES:
        if ((o->retries = parse_count(arg, 0, 100)) < 0)
            return app_usage_error(o, "invalid --retries '%s': want 0 to 100", arg);
        break;
    case OPT_COUNT:
        if ((o->count = parse_count(arg, 1, 1000000)) < 0)
            return app_usage_error(o, "invalid --count '%s': want 1 to 1000000", arg);
        break;
    case OPT_NO_REPLY: o->no_reply = 1; break;
    case OPT_MAX_REPLY:
        if ((o->max_reply = parse_count(arg, 1, 65535)) < 0)
            return app_usage_error(o, "invalid --max-reply '%s': want 1 to 65535", arg);
        break;
    case OPT_MTU:
        if ((o->mtu = parse_count(arg, 576, 65535)) < 0)
            return app_usage_error(o, "invalid --mtu '%s': want 576 to 65535", arg);
        break;
    case OPT_BIND: o->bind = arg; break;
    case OPT_PORT:
        if (!valid_port(arg, 1))
            return app_usage_error(o, "invalid port '%s': want 0 to 65535", arg);
        o->port = arg;
        break;
    case OPT_BACKLOG:
        if ((o->backlog = parse_count(arg, 1, 65535)) < 0)
            return app_usage_error(o, "invalid backlog '%s': want 1 to 65535", arg);
        break;
    case OPT_MAX_CLIENTS:
        if ((o->max_clients = parse_count(arg, 1, 100000)) < 0)
            return app_usage_error(o, "invalid --max-clients '%s': want 1 to 100000", arg);
        break;
    case OPT_ACCEPT_THREADS:
        if ((o->accept_threads = parse_count(arg, 1, APP_MAX_ACCEPT_THREADS)) < 0)
            return app_usage_error(o, "invalid --accept-threads '%s': want 1 to %d", arg,
                                   APP_MAX_ACCEPT_THREADS);
        break;
    case OPT_TICKETS:
        if ((o->tickets = parse_count(arg, 0, 10)) < 0)
            return app_usage_error(o, "invalid --tickets '%s': want 0 to 10", arg);
        break;
    case OPT_REPLY: o->reply = arg; break;
    case OPT_ECHO: o->echo = 1; break;
    case OPT_HTTP: o->http = 1; break;
    case OPT_SINK: o->sink = 1; break;
    case OPT_QUIET: o->quiet = 1; break;
    case OPT_TIMESTAMPS: o->timestamps = 1; break;
    case OPT_READY_FD:
        if ((o->ready_fd = parse_count(arg, 3, 65535)) < 0)
            return app_usage_error(o, "invalid --ready-fd '%s': want a descriptor, 3 or more", arg);
        if (fcntl(o->ready_fd, F_GETFD) < 0)
            return app_usage_error(o, "--ready-fd %s: that descriptor is not open", arg);
        break;
    default: return APP_EXIT_USAGE;
    }
    return -1;
}

/* The operands, in order: words that are not options wherever they stand
 * (GNU order), then every word after "--". */
struct operands {
    const char *word[4];
    int n;
    const char *extra; /* the first word beyond what fits */
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
        return app_usage_error(o, "an http:// URL and --tls contradict each other: use https://");
    if (strcmp(t->path, "/") != 0) {
        if (app_opt_seen(seen, OPT_PATH))
            return app_usage_error(o, "%s", "--path and the URL's path contradict each other");
        o->path = t->path;
    }
    return -1;
}

static int parse_positionals(struct app_options *o, const struct operands *ops,
                             const unsigned char *seen)
{
    int nargs = ops->n;
    int max = o->program == APP_UDP_CLIENT ? 3 : (o->program & APP_CLIENTS) ? 2 : 0;
    if (nargs > max || ops->extra != NULL)
        return app_usage_error(o, "unexpected argument '%s'",
                               nargs > max ? ops->word[max] : ops->extra);
    if (!(o->program & APP_CLIENTS))
        return -1;
    if (nargs < 1)
        return app_usage_error(o, "%s", "missing HOST");
    char err[256];
    if (ops->word[0][0] == '\0')
        return app_usage_error(o, "%s", "empty HOST");
    if (target_parse(ops->word[0], o->program == APP_TCP_CLIENT, &o->target, err, sizeof err) != 0)
        return app_usage_error(o, "%s", err);
    o->host = o->target.host;
    o->port = o->target.port;
    int next = 1;
    if (o->port == NULL && nargs > next) {
        if (!valid_port(ops->word[next], 0))
            return app_usage_error(o, "invalid port '%s': want 1 to 65535", ops->word[next]);
        o->port = ops->word[next++];
    } else if (o->port != NULL && nargs > next && o->program == APP_TCP_CLIENT) {
        return app_usage_error(o, "the port is given twice: '%s' and '%s'", ops->word[0],
                               ops->word[next]);
    }
    if (o->program == APP_UDP_CLIENT && nargs > next)
        o->message = ops->word[next++];
    if (nargs > next)
        return app_usage_error(o, "unexpected argument '%s'", ops->word[next]);
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
        const struct opt_def *d = app_opt_named(argv[i], o->program);
        if (d == NULL)
            continue;
        if (d->programs & (unsigned)o->program) {
            i += d->arg != NULL && strchr(argv[i], '=') == NULL; /* its value */
            continue;
        }
        size_t len = strcspn(argv[i] + 2, "=");
        for (size_t k = 0; k < APP_N_OPTS; k++)
            if ((app_opt_table[k].programs & (unsigned)o->program) &&
                strncmp(app_opt_table[k].name, argv[i] + 2, len) == 0) {
                optopt = 0; /* app_option_error: name it from the word, not getopt's state */
                return app_option_error(o, argv[i]);
            }
    }
    return -1;
}

int app_options_parse(struct app_options *o, enum app_program program, int argc, char **argv)
{
    set_defaults(o, program, argc > 0 ? argv[0] : "secsock");
    struct option longopts[APP_N_OPTS + 1];
    /* "-": operands come back in order as id 1, so options may follow them
     * (GNU order) whatever POSIXLY_CORRECT says: "udp-client HOST PORT
     * --dtls" must do DTLS, never send "--dtls" in plaintext. Only words
     * after "--" are operands whatever they look like. */
    char shortopts[2 * APP_N_OPTS + 2] = "-";
    size_t nl = 0, ns = 1;
    for (size_t i = 0; i < APP_N_OPTS; i++) {
        const struct opt_def *d = &app_opt_table[i];
        if (!(d->programs & (unsigned)program))
            continue;
        longopts[nl++] =
            (struct option){ d->name, d->arg ? required_argument : no_argument, NULL, d->id };
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
    unsigned char seen[APP_N_OPTS] = { 0 };
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
            const struct opt_def *d = app_opt_by_id(optopt);
            int typed_long = strncmp(last, "--", 2) == 0 && d != NULL && /* maybe abbreviated */
                             strncmp(d->name, last + 2, strcspn(last + 2, "=")) == 0;
            int is_short = optopt > 0 && optopt < 256 && !typed_long;
            return app_option_error(o, is_short ? shortname : last);
        }
        const struct opt_def *d = app_opt_by_id(id);
        if (d != NULL)
            seen[d - app_opt_table] = 1;
        int rc = apply(o, id, optarg);
        if (rc >= 0)
            return rc;
    }
    for (int i = optind; i < argc; i++) /* after "--" */
        add_operand(&ops, argv[i]);
    int rc = parse_positionals(o, &ops, seen);
    if (rc >= 0)
        return rc;
    return app_options_check(o, seen);
}
