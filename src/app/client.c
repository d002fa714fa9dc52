#include "client.h"

#include <stdio.h>
#include <string.h>

#include "report.h"

int app_client_connect(const struct app_options *o, const secsock_transport *t,
                       const char *port, int timeout_ms, secsock_conn **out,
                       struct app_client_session *cs, char *err, size_t errlen)
{
    *cs = (struct app_client_session){
        .js = { .program = o->name, .t = t, .peer = o->host, .handshake_ms = -1 },
        .start_ms = app_now_ms(),
    };
    struct secsock_connect_opts copts = app_connect_opts(o, port, timeout_ms);
    secsock_conn *c = NULL;
    int rc = secsock_connect(t, &copts, &c, err, errlen);
    if (rc == 0)
        cs->js.handshake_ms = app_now_ms() - cs->start_ms;
    size_t hello_len = 0;
    const unsigned char *hello = c != NULL ? secsock_conn_client_hello(c, &hello_len) : NULL;
    if (hello != NULL &&
        secsock_fingerprint_client_hello(hello, hello_len, &cs->fingerprint) == 0)
        cs->js.fingerprint = &cs->fingerprint;
    if (o->verbose && c != NULL) {
        app_log(stderr, "* connected to %s (%s)", secsock_conn_peer(c),
                secsock_transport_name(t));
        app_print_session(stderr, "* ", c); /* also what a failed handshake got to */
        if (cs->js.fingerprint != NULL)
            app_print_fingerprint(stderr, "* ", cs->js.fingerprint);
    }
    if (rc != 0 && c != NULL && secsock_conn_plaintext_peer(c)) {
        size_t n = strlen(err); /* the fix is the program's to name */
        snprintf(err + n, errlen - n, ": drop %s",
                 o->program == APP_UDP_CLIENT ? "--dtls" : "--tls");
    }
    if (rc != 0) {
        cs->status = rc;
        snprintf(cs->error, sizeof cs->error, "%s", err);
        app_client_finish(o, cs, c);
        secsock_close(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

int app_client_fail(const struct app_options *o, struct app_client_session *cs, int status,
                    const char *msg)
{
    fprintf(stderr, "%s: %s\n", o->name, msg);
    if (cs != NULL && cs->status == 0) {
        cs->status = status;
        snprintf(cs->error, sizeof cs->error, "%s", msg);
    }
    return app_exit_code(status);
}

void app_client_finish(const struct app_options *o, struct app_client_session *cs,
                       const secsock_conn *c)
{
    if (!o->json)
        return;
    cs->js.c = c;
    cs->js.total_ms = app_now_ms() - cs->start_ms;
    cs->js.status = cs->status;
    cs->js.error = cs->status != 0 ? cs->error : NULL;
    json_write_session(stderr, &cs->js);
}
