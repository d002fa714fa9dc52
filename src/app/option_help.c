/* --help and --version (option_help.h). */
#include "option_help.h"

#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "option_table.h"

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
    { APP_UDP_SERVER, "[OPTIONS]", "Listen on 127.0.0.1:8080 and answer each datagram." },
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
    default:
        return "log each client's TLS/DTLS handshake messages, session and JA4/JA3 "
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

void app_print_help(const struct app_options *o)
{
    const struct program_info *pi = program_info(o->program);
    printf("Usage: %s %s\n%s\n\nOptions:\n", o->name, pi->usage, pi->summary);
    for (size_t i = 0; i < APP_N_OPTS; i++) {
        const struct opt_def *d = &app_opt_table[i];
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
           "  5  timeout%s\n",
           o->program == APP_UDP_CLIENT ? " (no reply after the last try)" : "");
    if (o->program == APP_TCP_CLIENT)
        printf("  6  --fail: the HTTP status was 400 or more\n"
               " 23  the output could not be written, or binary was held back from a "
               "terminal (curl's 23)\n");
}

void app_print_version(const struct app_options *o)
{
    printf("%s %s\n", o->name, SECSOCK_VERSION);
    printf("built with %s\n", OPENSSL_VERSION_TEXT);
    printf("running with %s\n", OpenSSL_version(OPENSSL_VERSION));
}
