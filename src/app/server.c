#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admission.h"
#include "hints.h"
#include "json.h"
#include "log.h"
#include "received.h"
#include "report.h"
#include "screen.h"
#include "term.h"
#include "workers.h"

/* Written once at SIGINT/SIGTERM and never drained: from then on every wait
 * that watches it ends (the admission loops' too). The cut pipe does the
 * same at the end of the grace period for clients still being served. */
static int stop_pipe[2] = { -1, -1 };
static int cut_pipe[2] = { -1, -1 };

/* The second SIGINT or SIGTERM cuts the grace period short: the clients
 * in flight are cut off at once (a person pressing Ctrl-C twice). */
static volatile sig_atomic_t stop_signals;

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(stop_pipe[1], "x", 1) < 0) {
        /* full: the wake-up is pending already */
    }
    if (++stop_signals >= 2 && write(cut_pipe[1], "x", 1) < 0) {
        /* likewise */
    }
    errno = saved;
}

static int make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static int install_signals(void)
{
    stop_signals = 0;
    if (make_pipe(stop_pipe) < 0 || make_pipe(cut_pipe) < 0)
        return -1;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void close_pipes(void)
{
    for (int i = 0; i < 2; i++) {
        close(stop_pipe[i]);
        close(cut_pipe[i]);
        stop_pipe[i] = cut_pipe[i] = -1;
    }
}

void app_server_log_received(const char *peer, const unsigned char *data, size_t len)
{
    if (app_log_quiet())
        return;
    struct app_log_entry e;
    app_log_entry_init(&e);
    received_add(&e, peer, data, len);
    app_log_entry_write(&e, stdout);
}

/* How a client ended (the admission hooks' report; arg is the app_server):
 * status 0 counts it served; anything else logs "[!] PEER: why" (the
 * connection's error text when why is NULL, with the options that fix it,
 * hints.h) and counts a failed handshake or a failed client. --json adds
 * its session record. */
static void report_client(void *arg, const struct admission *a, int status, const char *why)
{
    struct app_server *s = arg;
    if (status != SECSOCK_OK) {
        char line[1200];
        snprintf(line, sizeof line, "%s", why ? why : secsock_conn_error(a->c));
        app_add_hint((enum secsock_status)status, s->o->program == APP_UDP_SERVER, line,
                     sizeof line);
        app_log(stdout, "[!] %s: %s", secsock_conn_peer(a->c), line);
    }
    atomic_fetch_add_explicit(status == 0           ? &s->served
                              : a->handshake_ms < 0 ? &s->failed_handshakes
                                                    : &s->failed,
                              1, memory_order_relaxed);
    if (status == SECSOCK_ERR_CANCELLED)
        atomic_fetch_add_explicit(&s->cut_off, 1, memory_order_relaxed);
    if (!s->o->json)
        return;
    struct json_session js = { .program = s->o->name,
                               .t = s->t,
                               .c = a->c,
                               .handshake_ms = a->handshake_ms,
                               .total_ms = app_now_ms() - a->accepted_ms,
                               .status = status,
                               .error = secsock_conn_error(a->c),
                               .fingerprint = a->fp };
    json_write_session(stderr, &js);
}

/* -v: a client's session once its handshake is done. */
static void show_session(void *arg, const struct admission *a)
{
    (void)arg;
    char prefix[APP_LOG_STAMP_MAX + 8];
    size_t n = app_log_stamp(prefix, sizeof prefix);
    snprintf(prefix + n, sizeof prefix - n, "[*]   ");
    app_print_session(stdout, prefix, a->c);
}

/* Without -v, an ECH server still says what each client hid. */
static void show_ech(void *arg, const struct admission *a)
{
    (void)arg;
    if (app_log_quiet())
        return;
    char prefix[APP_LOG_STAMP_MAX + 80];
    size_t n = app_log_stamp(prefix, sizeof prefix);
    snprintf(prefix + n, sizeof prefix - n, "[*] %s: ", secsock_conn_peer(a->c));
    app_print_ech_line(stdout, prefix, a->c);
}

/* A worker: the program's service, then the close. */
static void handle_client(void *ctx, void *item)
{
    struct app_server *s = ctx;
    struct admission *a = item;
    secsock_conn *c = a->c;
    const struct app_options *o = s->o;
    secsock_conn_set_cancel_fd(c, s->close_at_stop ? stop_pipe[0] : cut_pipe[0]);
    secsock_conn_set_timeout(c, o->timeout_ms);
    char why[160] = "";
    enum secsock_status rc = s->serve(s, c, why, sizeof why);
    if (rc == SECSOCK_ERR_CANCELLED && s->close_at_stop)
        rc = SECSOCK_OK; /* stopping: a polite end, not a failure */
    else if (rc == SECSOCK_ERR_CANCELLED)
        snprintf(why, sizeof why, "cut off: the server is stopping");
    report_client(s, a, rc, why[0] != '\0' ? why : NULL);
    if (rc == SECSOCK_ERR_CANCELLED)
        secsock_abort(c); /* cut off at the end of the grace period: an error, not an end */
    else
        secsock_close(c);
    admission_free(a);
}

/* How many clients may wait in admission: plenty more than workers, as
 * long as descriptors last (the soft limit is raised to the hard one). */
static size_t admission_capacity(const struct app_options *o)
{
    size_t want = (size_t)o->max_clients * 4 < 1024 ? 1024 : (size_t)o->max_clients * 4;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
        size_t fds = rl.rlim_cur == RLIM_INFINITY ? want * 2 : (size_t)rl.rlim_cur;
        size_t room = fds > (size_t)o->max_clients + 64 ? fds - (size_t)o->max_clients - 64 : 16;
        if (want > room)
            want = room;
    }
    return want;
}

/* A stream server admits on every core (handshakes are its heaviest
 * work); a datagram server has one listening socket whose DTLS cookie
 * exchange is one state, so one loop. */
static int admission_threads(const struct app_options *o)
{
    _Static_assert(APP_MAX_ACCEPT_THREADS <= ADMISSION_MAX_LOOPS,
                   "--accept-threads stays within the loops admission runs");
    if (o->program == APP_UDP_SERVER)
        return 1;
    if (o->accept_threads > 0)
        return o->accept_threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > ADMISSION_MAX_LOOPS ? ADMISSION_MAX_LOOPS : (int)cpus;
}

/* Workers finish by grace_end; the rest are cut off (streams) or were
 * told to close at the stop signal already (datagram sessions). */
static void drain_workers(struct app_server *s, struct workers *w, double grace_end)
{
    if (s->close_at_stop) {
        workers_wait_idle(w, 5000);
        return;
    }
    double left = grace_end - app_now_ms();
    if (workers_wait_idle(w, left > 0 ? (int)left : 0) > 0) {
        if (write(cut_pipe[1], "x", 1) < 0)
            app_log(stderr, "[!] cannot cut clients off: %s", strerror(errno));
        workers_wait_idle(w, 5000);
    }
}

/* The port a listener is bound to: its address string ends in ":PORT". */
static int listener_port(const secsock_listener *l)
{
    const char *colon = strrchr(secsock_listener_address(l), ':');
    return colon != NULL ? (int)strtol(colon + 1, NULL, 10) : -1;
}

/* The ready signal for machines: --json's first line, and --ready-fd's
 * only one (the descriptor is closed after it, so a reader sees EOF). */
static void announce_json(const struct app_server *s, const secsock_listener *l)
{
    const struct app_options *o = s->o;
    if (!o->json && o->ready_fd < 0)
        return;
    char address[128];
    snprintf(address, sizeof address, "%s", secsock_listener_address(l));
    char *colon = strrchr(address, ':');
    if (colon != NULL)
        *colon = '\0';
    const char *a = address;
    size_t alen = strlen(address);
    if (alen >= 2 && address[0] == '[' && address[alen - 1] == ']') {
        address[alen - 1] = '\0';
        a = address + 1;
    }
    struct json_listening jl = { .program = o->name,
                                 .address = a,
                                 .port = listener_port(l),
                                 .protocol = secsock_transport_name(s->t),
                                 .fingerprint = secsock_transport_fingerprint(s->t),
                                 .spki_pin = secsock_transport_spki_pin(s->t),
                                 .ech_public_name = secsock_transport_ech_public_name(s->t),
                                 .ech_config_list = secsock_transport_ech_config_list(s->t) };
    if (o->json)
        json_write_listening(stderr, &jl);
    if (o->ready_fd >= 0) {
        FILE *f = fdopen(o->ready_fd, "w");
        if (f == NULL) {
            app_log(stderr, "[!] --ready-fd %d: %s", o->ready_fd, strerror(errno));
            return;
        }
        json_write_listening(f, &jl);
        if (fclose(f) != 0)
            app_log(stderr, "[!] --ready-fd %d: %s", o->ready_fd, strerror(errno));
    }
}

/* The "Listening" line comes once the server is whole (its loops' threads
 * and descriptors made): scripts that wait for it see the finished process. */
static void announce(void *arg, const secsock_listener *l)
{
    const struct app_server *s = arg;
    const struct app_options *o = s->o;
    if (secsock_transport_fingerprint(s->t) != NULL) {
        /* Both pins: --pin takes either, curl's --pinnedpubkey the second. */
        app_log(stdout, "[*] Self-signed certificate %s", secsock_transport_fingerprint(s->t));
        app_log(stdout, "[*] Self-signed certificate public key %s",
                secsock_transport_spki_pin(s->t));
    }
    if (o->cert_out != NULL) {
        char shown[4 * 256 + 1]; /* a file name may hold any byte */
        term_escape_line((const unsigned char *)o->cert_out, strnlen(o->cert_out, 256), shown);
        app_log(stdout, "[*] Self-signed certificate saved to %s", shown);
    }
    if (secsock_transport_ech_config_list(s->t) != NULL) {
        /* What clients need: tcp-client --ech ecl:..., s_client -ech_config_list. */
        char shown[4 * 256 + 1]; /* the name came from a file */
        const char *name = secsock_transport_ech_public_name(s->t);
        term_escape_line((const unsigned char *)name, strnlen(name, 256), shown);
        app_log(stdout, "[*] ECH public name %s, ECHConfigList %s", shown,
                secsock_transport_ech_config_list(s->t));
    }
    if (o->ech_out != NULL) {
        char shown[4 * 256 + 1];
        term_escape_line((const unsigned char *)o->ech_out, strnlen(o->ech_out, 256), shown);
        app_log(stdout, "[*] ECHConfigList saved to %s", shown);
    }
    app_log(stdout, "[*] Listening on %s%s", secsock_listener_address(l),
            !o->secure                     ? ""
            : o->program == APP_UDP_SERVER ? " (dtls)"
                                           : " (tls)");
    /* The machines' signal last: whoever waits for it finds the human
     * lines written already, before any client's. */
    announce_json(s, l);
}

static int app_server_run(struct app_server *s)
{
    const struct app_options *o = s->o;
    if (install_signals() != 0) {
        fprintf(stderr, "%s: cannot set up signal handling: %s\n", o->name, strerror(errno));
        return APP_EXIT_FAILURE;
    }
    secsock_listener *l = NULL;
    int udp = o->program == APP_UDP_SERVER;
    enum secsock_status rc = secsock_listener_new(s->t, o->bind,
                                                  o->port ? o->port
                                                  : udp   ? "8080"
                                                          : "9999",
                                                  o->backlog, &l);
    if (rc != SECSOCK_OK) {
        fprintf(stderr, "%s: %s\n", o->name,
                l != NULL ? secsock_listener_error(l) : "out of memory");
        secsock_listener_free(l);
        close_pipes();
        return app_exit_code(rc);
    }
    secsock_listener_set_cancel_fd(l, stop_pipe[0]);
    struct workers w;
    if (workers_init(&w, o->max_clients, 0, handle_client, s) != 0) {
        fprintf(stderr, "%s: out of memory\n", o->name);
        secsock_listener_free(l);
        close_pipes();
        return APP_EXIT_FAILURE;
    }
    struct screen_policy screen = { .fingerprints = s->fingerprints, .show = o->verbose };
    struct admission_ctx ax = {
        .policy = { .handshake_timeout_ms = o->handshake_timeout_ms,
                    .idle_timeout_ms = o->timeout_ms,
                    .grace_ms = o->grace_ms,
                    .protocol = udp ? "DTLS" : "TLS",
                    .log_accept = s->log_accept,
                    .close_at_stop = s->close_at_stop,
                    .serve_at_once = udp && !o->secure },
        .hooks = { .arg = s,
                   .report = report_client,
                   .handshaken = o->verbose                                        ? show_session
                                 : secsock_transport_ech_config_list(s->t) != NULL ? show_ech
                                                                                   : NULL,
                   .screen = !o->secure        ? NULL
                             : !udp            ? screen_tls
                             : s->fingerprints ? screen_dtls
                                               : NULL,
                   .screen_arg = &screen,
                   .on_ready = announce },
        .w = &w,
        .l = l,
        .stop_fd = stop_pipe[0],
        .cut_fd = cut_pipe[0]
    };
    double grace_end = admission_run(&ax, admission_threads(o), admission_capacity(o));
    if (grace_end < 0) { /* nothing was accepted: no worker to wait for */
        fprintf(stderr, "%s: cannot start the admission loop: %s\n", o->name, strerror(errno));
        workers_destroy(&w);
        secsock_listener_free(l);
        close_pipes();
        return APP_EXIT_FAILURE;
    }
    l = ax.l; /* datagrams: still open; streams: closed at the stop signal */
    drain_workers(s, &w, grace_end);
    workers_destroy(&w);
    secsock_listener_free(l); /* datagrams: only now, no worker answers through it any more */
    if (atomic_load(&s->cut_off) > 0)
        app_log(stdout, "[*] %lu client(s) cut off %s", atomic_load(&s->cut_off),
                stop_signals >= 2 ? "by the second interrupt" : "at the end of the grace period");
    app_log(stdout, "[*] Stopped: %lu served, %lu failed handshakes, %lu failed",
            atomic_load(&s->served), atomic_load(&s->failed_handshakes), atomic_load(&s->failed));
    close_pipes();
    return APP_EXIT_OK;
}

/* text and end into path, or one line on stderr saying why not: 0 or -1. */
static int write_text_file(const struct app_options *o, const char *path, const char *text,
                           const char *end)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && fputs(text, f) >= 0 && fputs(end, f) >= 0;
    int saved = errno;
    if (f != NULL && fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok)
        return 0;
    char shown[4 * 256 + 1];
    term_escape_line((const unsigned char *)path, strnlen(path, 256), shown);
    fprintf(stderr, "%s: cannot write '%s': %s\n", o->name, shown, strerror(saved));
    return -1;
}

/* --cert-out: the self-signed certificate as PEM, for clients to trust
 * (curl --cacert, Python's cafile=), and --ech-out: the ECHConfigList,
 * base64 on one line (what tcp-client --ech ecl: and s_client
 * -ech_config_list take; only the public part: the key stays in the
 * server). Both written before the server says it is ready. */
static int write_out_files(const struct app_options *o, const secsock_transport *t)
{
    const char *pem = secsock_transport_cert_pem(t);
    if (o->cert_out != NULL && pem != NULL && write_text_file(o, o->cert_out, pem, "") != 0)
        return -1;
    const char *ecl = secsock_transport_ech_config_list(t);
    if (o->ech_out != NULL && ecl != NULL && write_text_file(o, o->ech_out, ecl, "\n") != 0)
        return -1;
    return 0;
}

int app_server_main(int argc, char **argv, enum app_program program, app_serve_fn serve,
                    const char *reply_plain, const char *reply_secure)
{
    struct app_options o;
    int code = app_options_parse(&o, program, argc, argv);
    if (code >= 0)
        return code; /* --help, --version or a usage error */
    char err[512];
    secsock_transport *t = app_transport(&o, SECSOCK_SERVER, err, sizeof err);
    if (t == NULL) {
        fprintf(stderr, "%s: %s\n", o.name, err);
        return APP_EXIT_USAGE;
    }
    app_log_setup(o.timestamps, o.quiet); /* before any thread logs */
    if (write_out_files(&o, t) != 0) {
        secsock_transport_free(t);
        return APP_EXIT_USAGE;
    }
    int datagram = program == APP_UDP_SERVER;
    struct app_server s = {
        .o = &o,
        .t = t,
        .serve = serve,
        .reply = o.reply    ? o.reply
                 : o.secure ? reply_secure
                            : reply_plain,
        .log_accept = !datagram || o.secure, /* a datagram is just received */
        .close_at_stop = datagram,
        .fingerprints = o.secure && (o.verbose || o.json),
    };
    code = app_server_run(&s);
    secsock_transport_free(t);
    return code;
}
