/* -v's lines and --trace's blocks from the library's trace events. */
#include "observe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "report.h"
#include "term.h"
#include "tracefile.h"

/* What every observed transport of the process shares. */
static struct {
    int verbose;
    int server;  /* -v goes to the log (stdout), each line naming the client */
    FILE *trace; /* --trace, or NULL */
    int pcap;    /* --pcap: events go to the capture too */
} watch;

/* Each transport's observer arg: whether its data is on the wire as it is. */
static const int plaintext_transport = 1, secure_transport = 0;

static size_t fitted(int n, size_t outlen)
{
    return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

size_t app_describe_message(const struct secsock_trace_event *ev, char *out, size_t outlen)
{
    const char *dir = ev->sent ? "OUT" : "IN";
    char name[48];
    if (strcmp(ev->message_name, "unknown") == 0)
        snprintf(name, sizeof name, "unknown type %d", ev->message_type);
    else
        snprintf(name, sizeof name, "%s", ev->message_name);
    int n;
    if (ev->content_type == 21)
        n = snprintf(out, outlen, "%s (%s), alert, %s (%s)", ev->version_name, dir, name,
                     ev->alert_level == 2 ? "fatal" : "warning");
    else if (ev->content_type == 22)
        n = snprintf(out, outlen, "%s (%s), handshake, %s (%zu bytes)", ev->version_name, dir, name,
                     ev->len);
    else
        n = snprintf(out, outlen, "%s (%s), %s (%zu byte%s)", ev->version_name, dir,
                     ev->content_name, ev->len, ev->len == 1 ? "" : "s");
    return fitted(n, outlen);
}

size_t app_describe_connect(const struct secsock_trace_event *ev, char *out, size_t outlen)
{
    char addr[80];
    snprintf(addr, sizeof addr, "%s", ev->peer);
    char *colon = strrchr(addr, ':');
    const char *port = "?";
    if (colon != NULL) {
        *colon = '\0';
        port = colon + 1;
    }
    const char *a = addr;
    size_t alen = strlen(addr);
    if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
        addr[alen - 1] = '\0';
        a = addr + 1;
    }
    char name[4 * 256 + 1];
    size_t hlen = strlen(ev->host);
    term_escape_line((const unsigned char *)ev->host, hlen < 256 ? hlen : 256, name);
    return fitted(snprintf(out, outlen, "Connected to %s (%s) port %s", name, a, port), outlen);
}

static void verbose_line(const struct secsock_trace_event *ev, const char *text)
{
    if (watch.server)
        app_log(stdout, "[*] %s: %s", ev->peer, text);
    else
        app_log(stderr, "* %s", text);
}

static void on_event(void *arg, const struct secsock_trace_event *ev)
{
    const int plaintext = *(const int *)arg;
    if (watch.pcap)
        capture_event(ev, !plaintext);
    char text[1200];
    switch (ev->kind) {
    case SECSOCK_TRACE_CONNECT:
        app_describe_connect(ev, text, sizeof text);
        if (watch.verbose)
            verbose_line(ev, text);
        if (watch.trace != NULL)
            tracefile_info(watch.trace, ev->peer, text);
        return;
    case SECSOCK_TRACE_MESSAGE:
        if (watch.verbose) {
            app_describe_message(ev, text, sizeof text);
            verbose_line(ev, text);
        }
        break;
    case SECSOCK_TRACE_DATA:
    case SECSOCK_TRACE_WIRE: break;
    default: return; /* a connection's life: the capture's alone */
    }
    if (watch.trace != NULL)
        tracefile_event(watch.trace, ev, plaintext);
}

static void close_trace(void)
{
    if (watch.trace != NULL && watch.trace != stdout)
        (void)fclose(watch.trace); /* flushed after every block already */
    watch.trace = NULL;
}

int app_observe(const struct app_options *o, secsock_transport *t, char *err, size_t errlen)
{
    if (o->pcap != NULL && capture_open(o->pcap, err, errlen) != 0)
        return -1;
    if (!o->verbose && o->trace == NULL && o->pcap == NULL)
        return 0;
    if (o->trace != NULL && watch.trace == NULL) {
        if ((watch.trace = tracefile_open(o->trace, err, errlen)) == NULL)
            return -1;
        (void)atexit(close_trace);
    }
    watch.verbose = o->verbose;
    watch.server = (o->program & (APP_TCP_SERVER | APP_UDP_SERVER)) != 0;
    watch.pcap = o->pcap != NULL;
    unsigned kinds = 0;
    if (o->verbose)
        kinds |= SECSOCK_TRACE_CONNECT | SECSOCK_TRACE_MESSAGE;
    if (o->trace != NULL)
        kinds |=
            SECSOCK_TRACE_CONNECT | SECSOCK_TRACE_MESSAGE | SECSOCK_TRACE_DATA | SECSOCK_TRACE_WIRE;
    if (o->pcap != NULL)
        kinds |= capture_kinds(secsock_transport_is_secure(t));
    secsock_transport_set_trace(
        t, kinds, on_event,
        (void *)(secsock_transport_is_secure(t) ? &secure_transport : &plaintext_transport));
    return 0;
}
