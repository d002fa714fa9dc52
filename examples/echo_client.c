/*
 * echo_client: sends MESSAGE, half-closes, and prints what comes back, in
 * plaintext or TLS, through secsock's public API only.
 *
 *   echo_client [--tls [--cafile CA]] HOST PORT MESSAGE
 *
 * Try it against `tcp-server --echo` (add --tls --cert/--key for TLS).
 * Exit status: 0 when the exchange ended cleanly, 1 otherwise.
 */
#include <secsock/transport.h>

#include <stdio.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: echo_client [--tls [--cafile CA]] HOST PORT MESSAGE\n");
    return 1;
}

int main(int argc, char **argv)
{
    const char *backend = "tcp", *cafile = NULL;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--tls") == 0)
            backend = "tls";
        else if (strcmp(argv[i], "--cafile") == 0 && i + 1 < argc)
            cafile = argv[++i];
        else
            return usage();
    }
    if (argc - i != 3)
        return usage();

    char err[256] = "";
    secsock_config *cfg = secsock_config_new();
    if (cfg == NULL || (cafile != NULL && secsock_config_set_cafile(cfg, cafile) != 0)) {
        fprintf(stderr, "echo_client: %s\n", cfg ? secsock_config_error(cfg) : "out of memory");
        secsock_config_free(cfg);
        return 1;
    }
    secsock_transport *t = secsock_transport_new(backend, SECSOCK_CLIENT, cfg, err, sizeof err);
    secsock_config_free(cfg); /* the transport keeps what it needs */
    if (t == NULL) {
        fprintf(stderr, "echo_client: %s\n", err);
        return 1;
    }

    struct secsock_connect_opts opts = {
        .host = argv[i], .port = argv[i + 1], .family = AF_UNSPEC, .timeout_ms = 10000,
    };
    secsock_conn *c = NULL;
    int rc = secsock_connect(t, &opts, &c, err, sizeof err);
    const char *msg = argv[i + 2];
    if (rc == 0 && (rc = secsock_write_all(c, msg, strlen(msg))) == 0)
        rc = secsock_shutdown_write(c); /* the server echoes until our end of stream */
    char buf[4096];
    ssize_t n;
    while (rc == 0 && (n = secsock_read(c, buf, sizeof buf)) != 0) {
        if (n < 0)
            rc = (int)n;
        else if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            rc = SECSOCK_ERR_IO;
    }
    if (rc != 0)
        fprintf(stderr, "echo_client: %s: %s\n", secsock_status_name(rc),
                c != NULL && secsock_conn_error(c)[0] ? secsock_conn_error(c) : err);
    secsock_close(c);
    secsock_transport_free(t);
    return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}
