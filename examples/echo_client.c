/*
 * echo_client: sends MESSAGE, half-closes, and prints what comes back, in
 * plaintext or TLS, through secsock's public API only.
 *
 *   echo_client [--tls [--cafile CA]] HOST PORT MESSAGE
 *
 * Try it against `tcp-server --echo` (add --tls --cert/--key for TLS).
 * Exit status: 0 when the exchange ended cleanly, 1 otherwise.
 */
#include <secsock/secsock.h>

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

    /* Each object keeps the reason its last call failed: the config, the
     * transport, the connection. */
    secsock_config *cfg = NULL;
    enum secsock_status rc = secsock_config_new(&cfg);
    if (rc == SECSOCK_OK && cafile != NULL)
        rc = secsock_config_set_cafile(cfg, cafile);
    if (rc != SECSOCK_OK) {
        fprintf(stderr, "echo_client: %s\n", cfg ? secsock_config_error(cfg) : "out of memory");
        secsock_config_free(cfg);
        return 1;
    }
    secsock_transport *t = NULL;
    rc = secsock_transport_new(backend, SECSOCK_CLIENT, cfg, &t);
    secsock_config_free(cfg); /* the transport keeps what it needs */
    if (rc != SECSOCK_OK) {
        fprintf(stderr, "echo_client: %s\n", t ? secsock_transport_error(t) : "out of memory");
        secsock_transport_free(t);
        return 1;
    }

    struct secsock_connect_opts opts = {
        .host = argv[i],
        .port = argv[i + 1],
        .family = AF_UNSPEC,
        .timeout_ms = 10000,
    };
    secsock_conn *c = NULL;
    rc = secsock_connect(t, &opts, &c); /* c is set even when it fails: it says why */
    const char *msg = argv[i + 2];
    if (rc == SECSOCK_OK && (rc = secsock_write_all(c, msg, strlen(msg))) == SECSOCK_OK)
        rc = secsock_shutdown_write(c); /* the server echoes until our end of stream */
    char buf[4096];
    ssize_t n;
    while (rc == SECSOCK_OK && (n = secsock_read(c, buf, sizeof buf)) != 0) {
        if (n < 0)
            rc = (enum secsock_status)n;
        else if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            rc = SECSOCK_ERR_IO;
    }
    if (rc != SECSOCK_OK)
        fprintf(stderr, "echo_client: %s: %s\n", secsock_status_name(rc),
                c != NULL ? secsock_conn_error(c) : "out of memory");
    secsock_close(c);
    secsock_transport_free(t);
    return rc == SECSOCK_OK && fflush(stdout) == 0 ? 0 : 1;
}
