/* The option table (option_table.h says who reads it) and its lookups. */
#include "option_table.h"

#include <stdio.h>
#include <string.h>

const struct opt_def app_opt_table[] = {
    { "tls", OPT_TLS, NULL, APP_TCP, 0, "use TLS (TLS 1.2 minimum)" },
    { "dtls", OPT_DTLS, NULL, APP_UDP, 0, "use DTLS 1.2" },
    { "verbose", OPT_VERBOSE, NULL, APP_ALL, 0, NULL /* per program: verbose_help */ },
    { "trace", OPT_TRACE, "FILE|-", APP_ALL, 0,
      "write every block sent and received to FILE (-: stdout), time-stamped, in hex and "
      "text: the plaintext and, for TLS/DTLS, the records as on the wire" },
    { "pcap", OPT_PCAP, "FILE", APP_ALL, 0,
      "write what went over each socket to FILE as a pcapng capture (no root needed), with "
      "the TLS/DTLS secrets inside: tshark -r FILE shows it decrypted" },
    { "json", OPT_JSON, NULL, APP_ALL, 0,
      "print one JSON object per session on stderr (peer, TLS details, fingerprints, bytes, "
      "times)" },
    { "timeout", OPT_TIMEOUT, "SECONDS", APP_ALL, 0, NULL /* per program: timeout_help */ },
    { "ipv4", OPT_IPV4, NULL, APP_CLIENTS, 0, "use IPv4 only" },
    { "ipv6", OPT_IPV6, NULL, APP_CLIENTS, 0, "use IPv6 only" },
    { "resolve", OPT_RESOLVE, "HOST:PORT:ADDR", APP_CLIENTS, 0,
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
    { "mtu", OPT_MTU, "BYTES", APP_UDP, 1,
      "DTLS path MTU records must fit (default 1280, safe on any path)" },
    { "output", OPT_OUTPUT, "FILE", APP_TCP_CLIENT, 0,
      "write the reply to FILE, not stdout; -: stdout, even binary to a terminal" },
    { "body-only", OPT_BODY_ONLY, NULL, APP_TCP_CLIENT, 0,
      "write only the HTTP response body (de-chunked), not the status line and headers" },
    { "fail", OPT_FAIL, NULL, APP_TCP_CLIENT, 0, "exit 6 when the HTTP status is 400 or more" },
    { "quiet", OPT_QUIET, NULL, APP_SERVERS, 0,
      "log only the listening line, errors and the summary" },
    { "timestamps", OPT_TIMESTAMPS, NULL, APP_SERVERS, 0,
      "start each log line with its UTC time (ISO 8601)" },
    { "ready-fd", OPT_READY_FD, "N", APP_SERVERS, 0,
      "once listening, write the --json listening line to descriptor N and close it" },
    { "bind", OPT_BIND, "ADDR", APP_SERVERS, 0, "address to listen on (default 127.0.0.1)" },
    { "port", OPT_PORT, "PORT", APP_SERVERS, 0, "port to listen on; 0 picks a free one" },
    { "backlog", OPT_BACKLOG, "N", APP_TCP_SERVER, 0, "listen backlog (default 128)" },
    { "max-clients", OPT_MAX_CLIENTS, "N", APP_SERVERS, 0,
      "clients served at once; more wait in the backlog (default 256)" },
    { "accept-threads", OPT_ACCEPT_THREADS, "N", APP_TCP_SERVER, 0,
      "threads that accept clients and run their handshakes (default: one per CPU)" },
    { "handshake-timeout", OPT_HANDSHAKE_TIMEOUT, "SECONDS", APP_SERVERS, 0,
      "drop clients that have not finished the handshake by then (default 10)" },
    { "grace", OPT_GRACE, "SECONDS", APP_TCP_SERVER, 0,
      "at SIGINT/SIGTERM, let clients in flight finish this long (default 10)" },
    { "reply", OPT_REPLY, "TEXT", APP_SERVERS, 0, "the reply to each request" },
    { "echo", OPT_ECHO, NULL, APP_SERVERS, 0, "echo what the client sends until it half-closes" },
    { "sink", OPT_SINK, NULL, APP_TCP_SERVER, 0,
      "read until the client half-closes, then reply with the byte count and SHA-256" },
    { "http", OPT_HTTP, NULL, APP_TCP_SERVER, 0,
      "answer HTTP/1.1 requests with 200 OK and the reply text" },
    { "cafile", OPT_CAFILE, "FILE", APP_ALL, 1,
      "trust the CAs in FILE (default: the system's; servers: for --verify-client)" },
    { "cert", OPT_CERT, "FILE", APP_ALL, 1, "own certificate chain (PEM, leaf first)" },
    { "key", OPT_KEY, "FILE", APP_ALL, 1, "own private key (PEM)" },
    { "self-signed", OPT_SELF_SIGNED, NULL, APP_SERVERS, 1,
      "make an ephemeral self-signed certificate; print both its pins" },
    { "cert-out", OPT_CERT_OUT, "FILE", APP_SERVERS, 1,
      "with --self-signed: write that certificate to FILE (PEM, for clients to trust)" },
    { "verify-client", OPT_VERIFY_CLIENT, NULL, APP_SERVERS, 1,
      "require a client certificate signed by --cafile" },
    { "servername", OPT_SERVERNAME, "NAME", APP_CLIENTS, 1,
      "name sent as SNI and verified (default: HOST)" },
    { "insecure", OPT_INSECURE, NULL, APP_CLIENTS, 1,
      "do not verify the server's certificate (prints a warning)" },
    { "pin", OPT_PIN, "PIN", APP_CLIENTS, 1,
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
    { "alpn", OPT_ALPN, "LIST", APP_ALL, 1, "comma-separated ALPN protocols" },
    { "tls-min", OPT_TLS_MIN, "1.2|1.3", APP_TCP, 1, "lowest TLS version (default 1.2)" },
    { "tls-max", OPT_TLS_MAX, "1.2|1.3", APP_ALL, 1,
      "highest TLS version (default 1.3); DTLS: 1.2, or 1.3 where OpenSSL has DTLS 1.3 (4.1 "
      "and later)" },
    { "ciphers", OPT_CIPHERS, "LIST", APP_ALL, 1, "TLS 1.2 cipher list (OpenSSL syntax)" },
    { "ciphersuites", OPT_CIPHERSUITES, "LIST", APP_TCP, 1, "TLS 1.3 cipher suites" },
    { "groups", OPT_GROUPS, "LIST", APP_ALL, 1,
      "key-exchange groups in order of preference (default X25519MLKEM768:X25519:P-256:P-384 "
      "where OpenSSL has the hybrid post-quantum group, 3.5 and later; else and for DTLS "
      "X25519:P-256:P-384)" },
    { "keylog", OPT_KEYLOG, "FILE", APP_ALL, 1,
      "append session secrets to FILE in NSS key-log format (also SSLKEYLOGFILE)" },
    { "help", OPT_HELP, NULL, APP_ALL, 0, "show this help and exit" },
    { "version", OPT_VERSION, NULL, APP_ALL, 0, "show the version and exit" },
};
_Static_assert(sizeof app_opt_table / sizeof app_opt_table[0] == APP_N_OPTS,
               "APP_N_OPTS in option_table.h must be the table's length");

const struct opt_def *app_opt_by_id(int id)
{
    for (size_t i = 0; i < APP_N_OPTS; i++)
        if (app_opt_table[i].id == id)
            return &app_opt_table[i];
    return NULL;
}

const struct opt_def *app_opt_named(const char *arg, enum app_program program)
{
    if (arg[0] != '-' || arg[1] == '\0')
        return NULL;
    if (arg[1] != '-')
        return app_opt_by_id((unsigned char)arg[1]);
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    const struct opt_def *other = NULL;
    for (size_t i = 0; i < APP_N_OPTS; i++) {
        if (strlen(app_opt_table[i].name) != len || strncmp(app_opt_table[i].name, name, len) != 0)
            continue;
        if (app_opt_table[i].programs & (unsigned)program)
            return &app_opt_table[i];
        if (other == NULL)
            other = &app_opt_table[i];
    }
    return other;
}

void app_program_names(unsigned mask, char *buf, size_t len)
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

int app_opt_seen(const unsigned char *seen, int id)
{
    const struct opt_def *d = app_opt_by_id(id);
    return d != NULL && seen[d - app_opt_table];
}
