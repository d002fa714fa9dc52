/* The shared option table and parser (src/app/options.c and option_*.c);
 * the value helpers and the exit map are in test_option_helpers.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "options.h"
#include "secsock/transport.h"
#include "testutil.h"

/* app_options_parse over a NULL-terminated argument list, argv[0] first. */
static int parse_argv(struct app_options *o, enum app_program p, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    return app_options_parse(o, p, argc, argv);
}

#define CLIENT(o, ...)                                                                             \
    parse_argv((o), APP_TCP_CLIENT, (char *[]){ "tcp-client", __VA_ARGS__, NULL })
#define SERVER(o, ...)                                                                             \
    parse_argv((o), APP_TCP_SERVER, (char *[]){ "tcp-server", __VA_ARGS__, NULL })
#define SERVER0(o) parse_argv((o), APP_TCP_SERVER, (char *[]){ "/usr/bin/tcp-server", NULL })

/* Usage errors and --help print; keep the test output clean. */
static void quiet(void)
{
    ck_assert_ptr_nonnull(freopen("/dev/null", "w", stdout));
    ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
}

/* ---- defaults ---------------------------------------------------------- */

START_TEST(client_defaults)
{
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "example.org"), -1);
    ck_assert_int_eq(o.program, APP_TCP_CLIENT);
    ck_assert_str_eq(o.name, "tcp-client");
    ck_assert_str_eq(o.host, "example.org");
    ck_assert_ptr_null(o.port); /* the program chooses: 80, or 443 with --tls */
    ck_assert_int_eq(o.timeout_ms, 10000);
    ck_assert_int_eq(o.family, AF_UNSPEC);
    ck_assert_int_eq(o.secure, 0);
    ck_assert_int_eq(o.verbose, 0);
    ck_assert_int_eq(o.insecure, 0);
    ck_assert_str_eq(o.method, "GET");
    ck_assert_str_eq(o.path, "/");
    ck_assert_str_eq(o.user_agent, "tcp-client/" SECSOCK_VERSION);
    ck_assert_uint_eq(o.nheaders, 0);
    ck_assert_ptr_null(o.send_string);
    ck_assert_ptr_null(o.send_file);
    ck_assert_ptr_null(o.resolve_host);
    ck_assert_ptr_null(o.cafile);
    ck_assert_ptr_null(o.pin);
}
END_TEST

START_TEST(server_defaults)
{
    struct app_options o;
    ck_assert_int_eq(SERVER0(&o), -1);
    ck_assert_int_eq(o.program, APP_TCP_SERVER);
    ck_assert_str_eq(o.name, "tcp-server"); /* the base name of argv[0] */
    ck_assert_str_eq(o.bind, "127.0.0.1");
    ck_assert_ptr_null(o.port); /* the program's 9999 */
    ck_assert_int_eq(o.max_clients, 256);
    ck_assert_int_eq(o.timeout_ms, 30000);
    ck_assert_int_eq(o.handshake_timeout_ms, 10000);
    ck_assert_int_gt(o.backlog, 0);
    ck_assert_int_gt(o.grace_ms, 0);
    ck_assert_int_eq(o.echo, 0);
    ck_assert_int_eq(o.http, 0);
    ck_assert_int_eq(o.secure, 0);
    ck_assert_ptr_null(o.reply);
    ck_assert_ptr_null(o.host);
    ck_assert_int_eq(o.quiet, 0);
    ck_assert_int_eq(o.timestamps, 0);
}
END_TEST

/* ---- each option sets its field ---------------------------------------- */

START_TEST(client_options)
{
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "-v", "-v", "-4", "-t", "2.5", "--path", "/x?y=1", "--method",
                            "HEAD", "-A", "ua/1", "-H", "X-One: 1", "--header", "X-Two: 2",
                            "--resolve", "lm3nitro.com:8080:127.0.0.1", "lm3nitro.com", "8080"),
                     -1);
    ck_assert_int_eq(o.verbose, 2);
    ck_assert_int_eq(o.family, AF_INET);
    ck_assert_int_eq(o.timeout_ms, 2500);
    ck_assert_str_eq(o.path, "/x?y=1");
    ck_assert_str_eq(o.method, "HEAD");
    ck_assert_str_eq(o.user_agent, "ua/1");
    ck_assert_uint_eq(o.nheaders, 2);
    ck_assert_str_eq(o.headers[0], "X-One: 1");
    ck_assert_str_eq(o.headers[1], "X-Two: 2");
    ck_assert_str_eq(o.resolve_host, "lm3nitro.com");
    ck_assert_str_eq(o.resolve_port, "8080");
    ck_assert_str_eq(o.resolve_addr, "127.0.0.1");
    ck_assert_str_eq(o.host, "lm3nitro.com");
    ck_assert_str_eq(o.port, "8080");

    ck_assert_int_eq(CLIENT(&o, "-6", "--timeout", "1", "::1"), -1);
    ck_assert_int_eq(o.family, AF_INET6);
    ck_assert_int_eq(o.timeout_ms, 1000);
    ck_assert_str_eq(o.host, "::1");

    ck_assert_int_eq(CLIENT(&o, "--send", "ping", "h"), -1);
    ck_assert_str_eq(o.send_string, "ping");
    ck_assert_int_eq(CLIENT(&o, "--send-file", "-", "h"), -1);
    ck_assert_str_eq(o.send_file, "-");
    ck_assert_ptr_null(o.send_string); /* nothing left over from the last parse */
}
END_TEST

START_TEST(client_tls_options)
{
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "--tls", "--cafile", "ca.pem", "--cert", "c.pem", "--key", "k.pem",
                            "--servername", "sni.example", "--alpn", "h2,http/1.1", "--tls-min",
                            "1.2", "--tls-max", "1.3", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256",
                            "--ciphersuites", "TLS_AES_128_GCM_SHA256", "--keylog", "keys.log",
                            "host"),
                     -1);
    ck_assert_int_eq(o.secure, 1);
    ck_assert_str_eq(o.cafile, "ca.pem");
    ck_assert_str_eq(o.cert, "c.pem");
    ck_assert_str_eq(o.key, "k.pem");
    ck_assert_str_eq(o.servername, "sni.example");
    ck_assert_str_eq(o.alpn, "h2,http/1.1");
    ck_assert_str_eq(o.tls_min, "1.2");
    ck_assert_str_eq(o.tls_max, "1.3");
    ck_assert_str_eq(o.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
    ck_assert_str_eq(o.ciphersuites, "TLS_AES_128_GCM_SHA256");
    ck_assert_str_eq(o.keylog, "keys.log");
    ck_assert_ptr_null(o.port);

    ck_assert_int_eq(CLIENT(&o, "--tls", "-k", "host"), -1);
    ck_assert_int_eq(o.insecure, 1);
    ck_assert_int_eq(CLIENT(&o, "--tls", "--insecure", "host"), -1);
    ck_assert_int_eq(o.insecure, 1);
    ck_assert_int_eq(CLIENT(&o, "--tls", "--pin", "sha256:00", "host"), -1);
    ck_assert_str_eq(o.pin, "sha256:00"); /* checked when the config is built */
    ck_assert_int_eq(o.insecure, 0);
}
END_TEST

START_TEST(server_options)
{
    struct app_options o;
    ck_assert_int_eq(SERVER(&o, "-b", "::1", "-p", "0", "--backlog", "7", "--max-clients", "3",
                            "--handshake-timeout", "0.25", "--grace", "2", "-t", "4", "--reply",
                            "hi there", "--echo", "-v"),
                     -1);
    ck_assert_str_eq(o.bind, "::1");
    ck_assert_str_eq(o.port, "0");
    ck_assert_int_eq(o.backlog, 7);
    ck_assert_int_eq(o.max_clients, 3);
    ck_assert_int_eq(o.handshake_timeout_ms, 250);
    ck_assert_int_eq(o.grace_ms, 2000);
    ck_assert_int_eq(o.timeout_ms, 4000);
    ck_assert_str_eq(o.reply, "hi there");
    ck_assert_int_eq(o.echo, 1);
    ck_assert_int_eq(o.verbose, 1);

    ck_assert_int_eq(SERVER(&o, "--port", "65535", "--http", "--bind", "0.0.0.0"), -1);
    ck_assert_str_eq(o.port, "65535");
    ck_assert_str_eq(o.bind, "0.0.0.0");
    ck_assert_int_eq(o.http, 1);
    ck_assert_int_eq(o.echo, 0);

    ck_assert_int_eq(SERVER(&o, "-q", "--timestamps"), -1);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_int_eq(o.timestamps, 1);
    ck_assert_int_eq(SERVER(&o, "--quiet"), -1);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_int_eq(o.timestamps, 0);
}
END_TEST

START_TEST(server_tls_options)
{
    struct app_options o;
    ck_assert_int_eq(SERVER(&o, "--tls", "--cert", "s.pem", "--key", "s.key", "--cafile", "ca.pem",
                            "--verify-client", "--alpn", "http/1.1", "--tls-max", "1.2"),
                     -1);
    ck_assert_int_eq(o.secure, 1);
    ck_assert_str_eq(o.cert, "s.pem");
    ck_assert_str_eq(o.key, "s.key");
    ck_assert_str_eq(o.cafile, "ca.pem");
    ck_assert_int_eq(o.verify_client, 1);
    ck_assert_str_eq(o.alpn, "http/1.1");
    ck_assert_str_eq(o.tls_max, "1.2");

    ck_assert_int_eq(SERVER(&o, "--tls", "--self-signed"), -1);
    ck_assert_int_eq(o.self_signed, 1);
    ck_assert_ptr_null(o.cert);
}
END_TEST

/* tcp-server --accept-threads (1 to 64; 0 in the options means one per
 * CPU) and --tickets (0 to 10, TLS only; -1 means OpenSSL's default). */
START_TEST(server_accept_threads_and_tickets)
{
    struct app_options o;
    ck_assert_int_eq(SERVER0(&o), -1);
    ck_assert_int_eq(o.accept_threads, 0);
    ck_assert_int_eq(o.tickets, -1);
    ck_assert_int_eq(SERVER(&o, "--accept-threads", "1"), -1);
    ck_assert_int_eq(o.accept_threads, 1);
    ck_assert_int_eq(SERVER(&o, "--accept-threads", "64"), -1);
    ck_assert_int_eq(o.accept_threads, 64);
    ck_assert_int_eq(
        SERVER(&o, "--accept-threads", "2", "--tls", "--self-signed", "--tickets", "0"), -1);
    ck_assert_int_eq(o.accept_threads, 2);
    ck_assert_int_eq(o.tickets, 0);
    ck_assert_int_eq(SERVER(&o, "--tls", "--self-signed", "--tickets", "10"), -1);
    ck_assert_int_eq(o.tickets, 10);
    ck_assert_int_eq(o.accept_threads, 0); /* a new parse starts from the defaults */
}
END_TEST

/* Runs a parse with stderr in a file; returns its status and the text. */
static int parse_stderr(enum app_program p, char **argv, char *text, size_t textlen)
{
    char path[] = "/tmp/secsock-options-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    struct app_options o;
    int rc = parse_argv(&o, p, argv);
    fflush(stderr);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    ssize_t n = pread(fd, text, textlen - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

/* Each bad value: exit 2 and one line on stderr naming the option and value. */
START_TEST(server_accept_threads_and_tickets_errors)
{
    static const struct {
        const char *opt, *value;
        int tls;
    } bad[] = {
        { "--accept-threads", "0", 0 },
        { "--accept-threads", "65", 0 },
        { "--accept-threads", "-1", 0 },
        { "--accept-threads", "x", 0 },
        { "--accept-threads", "", 0 },
        { "--accept-threads", "2x", 0 },
        { "--accept-threads", "99999999999999999999", 0 },
        { "--tickets", "11", 1 },
        { "--tickets", "-1", 1 },
        { "--tickets", "two", 1 },
        { "--tickets", "", 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        char *argv_plain[] = { "tcp-server", (char *)bad[i].opt, (char *)bad[i].value, NULL };
        char *argv_tls[] = { "tcp-server",         "--tls", "--self-signed", (char *)bad[i].opt,
                             (char *)bad[i].value, NULL };
        int rc =
            parse_stderr(APP_TCP_SERVER, bad[i].tls ? argv_tls : argv_plain, text, sizeof text);
        ck_assert_msg(rc == 2, "%s '%s': status %d", bad[i].opt, bad[i].value, rc);
        size_t len = strlen(text);
        ck_assert_msg(len > 0 && text[len - 1] == '\n' && strchr(text, '\n') == text + len - 1,
                      "%s '%s': not one line: [%s]", bad[i].opt, bad[i].value, text);
        ck_assert_msg(strstr(text, bad[i].opt) != NULL, "[%s] does not name %s", text, bad[i].opt);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i].value);
        ck_assert_msg(strstr(text, quoted) != NULL, "[%s] does not name %s", text, quoted);
    }
    /* tcp-server only: not udp-server's (one loop), nor a client's. */
    char text[1024];
    ck_assert_int_eq(parse_stderr(APP_UDP_SERVER,
                                  (char *[]){ "udp-server", "--accept-threads", "2", NULL }, text,
                                  sizeof text),
                     2);
    ck_assert_int_eq(parse_stderr(APP_TCP_CLIENT,
                                  (char *[]){ "tcp-client", "--accept-threads", "2", "host", NULL },
                                  text, sizeof text),
                     2);
    /* --tickets is a TLS setting. */
    ck_assert_int_eq(parse_stderr(APP_TCP_SERVER,
                                  (char *[]){ "tcp-server", "--tickets", "2", NULL }, text,
                                  sizeof text),
                     2);
    ck_assert_msg(strstr(text, "--tickets") != NULL, "[%s]", text);
}
END_TEST

/* ---- usage errors: exit code 2 ----------------------------------------- */

START_TEST(client_usage_errors)
{
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "host", "70000"), 2);
    ck_assert_int_eq(CLIENT(&o, "host", "0"), 2);
    ck_assert_int_eq(CLIENT(&o, "host", "http"), 2);
    ck_assert_int_eq(CLIENT(&o, "-t", "-1", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "-t", "abc", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "-t", "0", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--timeout", "", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "host", "-t"), 2); /* an option after HOST is an argument */
    ck_assert_int_eq(CLIENT(&o, "--nope", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "-x", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--echo", "host"), 2); /* a server option */
    ck_assert_int_eq(CLIENT(&o, "-t"), 2);             /* missing value */
    ck_assert_int_eq(CLIENT(&o, "--path"), 2);
    ck_assert_int_eq(parse_argv(&o, APP_TCP_CLIENT, (char *[]){ "tcp-client", NULL }), 2);
    ck_assert_int_eq(CLIENT(&o, "-v"), 2); /* missing HOST */
    ck_assert_int_eq(CLIENT(&o, ""), 2);   /* empty HOST */
    ck_assert_int_eq(CLIENT(&o, "host", "80", "extra"), 2);
    ck_assert_int_eq(CLIENT(&o, "--cafile", "ca.pem", "host"), 2); /* needs --tls */
    ck_assert_int_eq(CLIENT(&o, "--pin", "sha256:00", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "-k", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--tls", "--insecure", "--pin", "sha256:00", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--tls", "--cert", "c.pem", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--tls", "--key", "k.pem", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--resolve", "nope", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--resolve", "host:99999:127.0.0.1", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "-H", "NoColon", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "-H", "Bad Name: x", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "-H", "X-Evil: a\r\nInjected: b", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--send", "a", "--send-file", "f", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "--send", "a", "--path", "/x", "host"), 2);
}
END_TEST

START_TEST(server_usage_errors)
{
    struct app_options o;
    ck_assert_int_eq(SERVER(&o, "-p", "70000"), 2);
    ck_assert_int_eq(SERVER(&o, "-p", "-1"), 2);
    ck_assert_int_eq(SERVER(&o, "-p", "x"), 2);
    ck_assert_int_eq(SERVER(&o, "-t", "-1"), 2);
    ck_assert_int_eq(SERVER(&o, "-t", "abc"), 2);
    ck_assert_int_eq(SERVER(&o, "--handshake-timeout", "inf"), 2);
    ck_assert_int_eq(SERVER(&o, "--max-clients", "0"), 2);
    ck_assert_int_eq(SERVER(&o, "--backlog", "x"), 2);
    ck_assert_int_eq(SERVER(&o, "--nope"), 2);
    ck_assert_int_eq(SERVER(&o, "--path", "/"), 2); /* a client option */
    ck_assert_int_eq(SERVER(&o, "extra"), 2);       /* no positional arguments */
    ck_assert_int_eq(SERVER(&o, "--tls"), 2);       /* no certificate */
    ck_assert_int_eq(SERVER(&o, "--tls", "--key", "k.pem"), 2);
    ck_assert_int_eq(SERVER(&o, "--tls", "--cert", "c.pem"), 2);
    ck_assert_int_eq(SERVER(&o, "--self-signed"), 2); /* needs --tls */
    ck_assert_int_eq(SERVER(&o, "--tls", "--self-signed", "--cert", "c", "--key", "k"), 2);
    ck_assert_int_eq(SERVER(&o, "--echo", "--http"), 2);
    ck_assert_int_eq(SERVER(&o, "-q", "-v"), 2);
    ck_assert_int_eq(CLIENT(&o, "-q", "host"), 2); /* servers only */
    ck_assert_int_eq(CLIENT(&o, "--timestamps", "host"), 2);
}
END_TEST

/* The one line a usage error prints on stderr, for a NULL-terminated argv. */
static const char *usage_line(enum app_program p, char **argv)
{
    static char line[512];
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
    struct app_options o;
    int rc = parse_argv(&o, p, argv);
    fflush(stderr);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    ck_assert_int_eq(rc, 2);
    rewind(f);
    line[0] = '\0';
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_int_eq(fgetc(f), EOF); /* one line */
    fclose(f);
    return line;
}

#define CLIENT_ERR(...) usage_line(APP_TCP_CLIENT, (char *[]){ "tcp-client", __VA_ARGS__, NULL })
#define SERVER_ERR(...) usage_line(APP_TCP_SERVER, (char *[]){ "tcp-server", __VA_ARGS__, NULL })
#define UDP_SERVER_ERR(...)                                                                        \
    usage_line(APP_UDP_SERVER, (char *[]){ "udp-server", __VA_ARGS__, NULL })
#define ck_line(line, text)                                                                        \
    ck_assert_msg(strstr((line), (text)) != NULL, "[%s] lacks [%s]", (line), (text))

/* The line names the culprit as the user typed it, and what is wrong with it. */
START_TEST(usage_messages_name_the_cause)
{
    ck_line(CLIENT_ERR("--nope", "host"),
            "tcp-client: unknown option '--nope' (see tcp-client --help)");
    ck_line(CLIENT_ERR("-x", "host"), "unknown option '-x'");
    ck_line(CLIENT_ERR("-vx", "host"), "unknown option '-x'");
    ck_line(CLIENT_ERR("-t"), "option '-t' needs a value");
    ck_line(CLIENT_ERR("--timeout"), "option '--timeout' needs a value");
    ck_line(CLIENT_ERR("--path"), "option '--path' needs a value");
    ck_line(CLIENT_ERR("--time"), "option '--time' needs a value"); /* getopt's abbreviation */
    ck_line(CLIENT_ERR("--tls=yes", "host"), "option '--tls=yes' takes no value");
    /* An option of another program says whose it is (it said "needs a value"). */
    ck_line(CLIENT_ERR("--echo", "host"),
            "option '--echo' is for tcp-server and udp-server, not tcp-client");
    ck_line(CLIENT_ERR("-p", "80", "host"),
            "option '-p' is for tcp-server and udp-server, not tcp-client");
    ck_line(CLIENT_ERR("--sink=1", "host"), "option '--sink=1' is for tcp-server, not tcp-client");
    ck_line(SERVER_ERR("--path", "/"), "option '--path' is for tcp-client, not tcp-server");
    ck_line(SERVER_ERR("--dtls"),
            "option '--dtls' is for udp-client and udp-server, not tcp-server");
    ck_line(UDP_SERVER_ERR("--timeout", "x"), "invalid timeout 'x'");
    ck_line(UDP_SERVER_ERR("--tls"),
            "option '--tls' is for tcp-client and tcp-server, not udp-server");
    ck_line(UDP_SERVER_ERR("--cafile", "ca"), "--cafile needs --dtls");
    ck_line(UDP_SERVER_ERR("-v", "--quiet"), "--quiet and --verbose contradict each other");
}
END_TEST

/* --send replaces the HTTP request: an HTTP option given with it is a mistake
 * even when its value happens to be the default. */
START_TEST(send_rejects_http_options_even_at_their_defaults)
{
    ck_line(CLIENT_ERR("--send", "x", "--path", "/", "host"), "make no sense with --send");
    ck_line(CLIENT_ERR("--send", "x", "--method", "GET", "host"), "make no sense with --send");
    ck_line(CLIENT_ERR("--send-file", "f", "-A", "ua", "host"), "make no sense with --send");
    ck_line(CLIENT_ERR("--send", "x", "--fail", "host"), "make no sense with --send");
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "--send", "x", "-v", "--tls", "host"), -1);
}
END_TEST

START_TEST(help_and_version_exit_0)
{
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "--help"), 0);
    ck_assert_int_eq(CLIENT(&o, "-h"), 0);
    ck_assert_int_eq(SERVER(&o, "--help"), 0);
    ck_assert_int_eq(CLIENT(&o, "--version"), 0);
    ck_assert_int_eq(SERVER(&o, "-V"), 0);
}
END_TEST

/* getopt keeps state between calls; the parser must reset it, so that a
 * process (a test, a program that re-parses) can parse more than once. */
START_TEST(parse_twice)
{
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "-v", "-t", "3", "first"), -1);
    ck_assert_int_eq(CLIENT(&o, "second"), -1);
    ck_assert_str_eq(o.host, "second");
    ck_assert_int_eq(o.verbose, 0);
    ck_assert_int_eq(o.timeout_ms, 10000);
    ck_assert_int_eq(SERVER(&o, "-p", "1234"), -1);
    ck_assert_str_eq(o.port, "1234");
    ck_assert_int_eq(CLIENT(&o, "--nope", "h"), 2);
    ck_assert_int_eq(CLIENT(&o, "-4", "third"), -1);
    ck_assert_str_eq(o.host, "third");
    ck_assert_int_eq(o.family, AF_INET);
}
END_TEST

START_TEST(parse_after_stopping_inside_a_cluster)
{
    /* "-hv": --help ends the parse with 'v' still unread in the cluster.
     * The next parse must not pick that 'v' up. */
    struct app_options o;
    ck_assert_int_eq(CLIENT(&o, "-hv", "host"), 0);
    ck_assert_int_eq(CLIENT(&o, "host"), -1);
    ck_assert_int_eq(o.verbose, 0);
    ck_assert_int_eq(o.family, AF_UNSPEC);
    /* The same after a usage error inside a cluster ("-t" wants a number). */
    ck_assert_int_eq(CLIENT(&o, "-4t0", "host"), 2);
    ck_assert_int_eq(CLIENT(&o, "host"), -1);
    ck_assert_int_eq(o.family, AF_UNSPEC);
}
END_TEST

/* ---- GNU order and "--" --------------------------------------------------- */

/* GNU order: options may follow the operands; only "--" makes a word that
 * looks like an option an operand. A word naming an option is never data. */
#define UDPCLIENT(o, ...)                                                                          \
    parse_argv((o), APP_UDP_CLIENT, (char *[]){ "udp-client", __VA_ARGS__, NULL })

START_TEST(options_after_operands)
{
    struct app_options o;
    ck_assert_int_eq(UDPCLIENT(&o, "127.0.0.1", "8080", "--dtls", "--insecure"), -1);
    ck_assert_int_eq(o.secure, 1);
    ck_assert_int_eq(o.insecure, 1);
    ck_assert_ptr_null(o.message); /* "--dtls" is not the message */
    ck_assert_int_eq(UDPCLIENT(&o, "127.0.0.1", "8080", "hi", "-v"), -1);
    ck_assert_int_eq(o.verbose, 1);
    ck_assert_str_eq(o.message, "hi");
    ck_assert_int_eq(UDPCLIENT(&o, "127.0.0.1", "-v", "8080", "hi"), -1);
    ck_assert_str_eq(o.port, "8080");
    ck_assert_str_eq(o.message, "hi");
    ck_assert_int_eq(CLIENT(&o, "localhost", "8443", "--tls", "-A", "ua"), -1);
    ck_assert_int_eq(o.secure, 1);
    ck_assert_str_eq(o.user_agent, "ua");
    ck_assert_str_eq(o.host, "localhost");
    ck_assert_str_eq(o.port, "8443");
}
END_TEST

START_TEST(double_dash_ends_options)
{
    struct app_options o;
    ck_assert_int_eq(UDPCLIENT(&o, "--", "127.0.0.1", "8080", "-v"), -1);
    ck_assert_int_eq(o.verbose, 0);
    ck_assert_str_eq(o.message, "-v");
    ck_assert_int_eq(UDPCLIENT(&o, "-v", "127.0.0.1", "--", "8080", "--dtls"), -1);
    ck_assert_int_eq(o.secure, 0);
    ck_assert_str_eq(o.message, "--dtls");
    /* An unknown option after the operands is an error, not data. */
    ck_assert_int_eq(UDPCLIENT(&o, "127.0.0.1", "8080", "-x"), 2);
    ck_assert_int_eq(UDPCLIENT(&o, "127.0.0.1", "8080", "a", "b"), 2);
}
END_TEST

START_TEST(gnu_order_ignores_posixly_correct)
{
    struct app_options o;
    ck_assert_int_eq(setenv("POSIXLY_CORRECT", "1", 1), 0);
    int rc = UDPCLIENT(&o, "127.0.0.1", "8080", "--dtls");
    unsetenv("POSIXLY_CORRECT");
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(o.secure, 1);
    ck_assert_ptr_null(o.message);
}
END_TEST

static Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *parse = tcase_create("parse");

    tcase_add_checked_fixture(parse, quiet, NULL);
    tcase_add_test(parse, client_defaults);
    tcase_add_test(parse, server_defaults);
    tcase_add_test(parse, client_options);
    tcase_add_test(parse, client_tls_options);
    tcase_add_test(parse, server_options);
    tcase_add_test(parse, server_tls_options);
    tcase_add_test(parse, server_accept_threads_and_tickets);
    tcase_add_test(parse, server_accept_threads_and_tickets_errors);
    tcase_add_test(parse, client_usage_errors);
    tcase_add_test(parse, server_usage_errors);
    tcase_add_test(parse, usage_messages_name_the_cause);
    tcase_add_test(parse, send_rejects_http_options_even_at_their_defaults);
    tcase_add_test(parse, help_and_version_exit_0);
    tcase_add_test(parse, parse_twice);
    tcase_add_test(parse, parse_after_stopping_inside_a_cluster);
    tcase_add_test(parse, options_after_operands);
    tcase_add_test(parse, double_dash_ends_options);
    tcase_add_test(parse, gnu_order_ignores_posixly_correct);
    suite_add_tcase(s, parse);
    return s;
}

int main(void)
{
    return testutil_run(options_suite());
}
