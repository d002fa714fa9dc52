#include "client.h"

#include <stdio.h>
#include <string.h>

#include "ech_retry.h"
#include "hints.h"
#include "peer_certs.h"
#include "report.h"

/* Each address as the library tries it: -v shows it, as curl -v does. */
static void on_attempt(void *arg, enum secsock_attempt_event event, const char *address,
                       const char *reason)
{
    struct app_client_session *cs = arg;
    if (event == SECSOCK_ATTEMPT_TRYING)
        cs->attempts++;
    if (!cs->o->verbose)
        return;
    if (event == SECSOCK_ATTEMPT_TRYING)
        app_log(stderr, "* Trying %s...", address);
    else if (event == SECSOCK_ATTEMPT_FAILED)
        app_log(stderr, "* %s: %s", address, reason);
}

static enum secsock_status connect_once(struct app_client_session *cs, secsock_conn **out,
                                        char *err, size_t errlen)
{
    const struct app_options *o = cs->o;
    struct secsock_connect_opts copts = app_connect_opts(o, cs->port, cs->timeout_ms);
    const char *exclude[APP_CLIENT_MAX_REFUSED];
    for (size_t i = 0; i < cs->n_refused; i++)
        exclude[i] = cs->refused[i];
    copts.on_attempt = on_attempt;
    copts.on_attempt_arg = cs;
    copts.exclude = exclude;
    copts.n_exclude = cs->n_refused;
    if (cs->ech_retry_addr[0] != '\0')
        copts.connect_addr = cs->ech_retry_addr; /* the server that sent the configs */
    cs->attempts = 0;
    secsock_conn *c = NULL;
    double t0 = app_now_ms();
    enum secsock_status rc = secsock_connect(cs->t, &copts, &c);
    if (rc == SECSOCK_OK)
        cs->js.handshake_ms = app_now_ms() - t0;
    snprintf(err, errlen, "%s",
             rc == SECSOCK_OK ? ""
             : c != NULL      ? secsock_conn_error(c)
                              : "out of memory");
    app_add_hint(rc, (cs->o->program & (APP_UDP_CLIENT | APP_UDP_SERVER)) != 0, err, errlen);
    /* Our ClientHello, kept with -v or --json: its fingerprints, also when
     * the server refused it. */
    size_t hello_len = 0;
    const unsigned char *hello = c != NULL ? secsock_conn_client_hello(c, &hello_len) : NULL;
    cs->js.fingerprint = NULL;
    if (hello != NULL && secsock_fingerprint_client_hello(hello, hello_len, &cs->fingerprint) == 0)
        cs->js.fingerprint = &cs->fingerprint;
    if (rc != 0 && c != NULL && secsock_conn_plaintext_peer(c)) {
        size_t n = strlen(err); /* the fix is the program's to name */
        snprintf(err + n, errlen - n, ": drop %s",
                 o->program == APP_UDP_CLIENT ? "--dtls" : "--tls");
    }
    if (rc == SECSOCK_ERR_VERIFY && c != NULL)
        app_append_verify_fixes(c, err, errlen);
    /* (A DTLS handshake refused by ICMP negotiated nothing: no more to say.) */
    /* "* Connected to ..." and the handshake's messages came as they
     * happened (observe.c); now the session, also what a failed one got to. */
    if (o->verbose && c != NULL && rc != SECSOCK_ERR_CONNECT) {
        app_print_session(stderr, "* ", c);
        if (cs->js.fingerprint != NULL)
            app_print_fingerprint(stderr, "* ", cs->js.fingerprint);
    }
    *out = c;
    return rc;
}

/* A connect failed with err: the --json record says so, and *c is closed. */
static enum secsock_status connect_failed(struct app_client_session *cs, secsock_conn **c,
                                          enum secsock_status rc, const char *err)
{
    cs->status = rc;
    snprintf(cs->error, sizeof cs->error, "%s", err);
    app_client_finish(cs->o, cs, *c);
    app_client_close(cs, *c);
    *c = NULL;
    return rc;
}

/* *c failed: when its server rejected our ECH and sent the configs to use
 * instead, and its certificate (for the public name) vouches for them, one
 * more connection with them, to the same address (ech_retry.h). A second
 * rejection is final. Returns the retry's status (its reason in err), or
 * rc when there is no retry to make. */
static enum secsock_status ech_retry(struct app_client_session *cs, secsock_conn **c,
                                     enum secsock_status rc, char *err, size_t errlen)
{
    const struct app_options *o = cs->o;
    enum app_ech_retry want = app_ech_retry_wanted(*c);
    if (o->program != APP_TCP_CLIENT || want == APP_ECH_NO_RETRY)
        return rc;
    if (want == APP_ECH_UNAUTHENTICATED) {
        if (o->verbose)
            app_log(stderr, "* ECH: the server sent new configs (retry_configs), but its "
                            "certificate was not verified: not retrying with them");
        return rc;
    }
    char why[APP_ERR_LEN];
    secsock_transport *t =
        app_ech_retry_transport(o, secsock_conn_ech_retry_config_list(*c), why, sizeof why);
    if (t == NULL ||
        app_ech_retry_address(*c, cs->ech_retry_addr, sizeof cs->ech_retry_addr) != 0) {
        secsock_transport_free(t);
        if (o->verbose) /* (why names --ech ecl:, which the user did not give) */
            app_log(stderr, "* ECH: the server sent new configs (retry_configs) this client "
                            "cannot use: not retrying");
        return rc;
    }
    if (o->verbose)
        app_log(stderr, "* ECH: the server rejected our config and sent new ones "
                        "(retry_configs); retrying once with them");
    secsock_close(*c); /* never established: nothing was sent over it */
    *c = NULL;
    cs->ech_retry_t = t;
    cs->t = cs->js.t = t;
    cs->js.ech_retried = 1;
    cs->js.handshake_ms = -1;
    rc = connect_once(cs, c, err, errlen);
    if (rc != SECSOCK_OK) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (on the retry with the ECH configs the server sent)");
    }
    return rc;
}

enum secsock_status app_client_connect(const struct app_options *o, const secsock_transport *t,
                                       const char *port, int timeout_ms, secsock_conn **out,
                                       struct app_client_session *cs, char *err, size_t errlen)
{
    *cs = (struct app_client_session){
        .js = { .program = o->name, .t = t, .peer = o->host, .handshake_ms = -1 },
        .start_ms = app_now_ms(),
        .o = o,
        .t = t,
        .port = port,
        .timeout_ms = timeout_ms,
    };
    enum secsock_status rc = connect_once(cs, out, err, errlen);
    if (rc != SECSOCK_OK)
        rc = ech_retry(cs, out, rc, err, errlen);
    return rc == SECSOCK_OK ? SECSOCK_OK : connect_failed(cs, out, rc, err);
}

enum secsock_status app_client_next(struct app_client_session *cs, secsock_conn **c, char *err,
                                    size_t errlen)
{
    const char *peer = secsock_conn_peer(*c);
    if (cs->o->verbose)
        app_log(stderr, "* %s: connection refused", peer);
    /* Named in the message either way; left out of the next connect while
     * there is room (past that the name has more addresses than anyone
     * waits through). */
    char all[APP_CLIENT_MAX_REFUSED * 66 + 64] = "";
    size_t len = 0;
    for (size_t i = 0; i < cs->n_refused; i++)
        len += (size_t)snprintf(all + len, sizeof all - len, "%s, ", cs->refused[i]);
    snprintf(all + len, sizeof all - len, "%s", peer);
    int full = cs->n_refused == APP_CLIENT_MAX_REFUSED;
    if (!full)
        snprintf(cs->refused[cs->n_refused++], sizeof cs->refused[0], "%s", peer);
    secsock_close(*c);
    *c = NULL;
    cs->js.handshake_ms = -1;
    char why[512] = "";
    enum secsock_status rc = full ? SECSOCK_ERR_CONNECT : connect_once(cs, c, why, sizeof why);
    if (rc == 0)
        return 0;
    if (full || (rc == SECSOCK_ERR_CONNECT && cs->attempts == 0))
        /* Every address refused: one message for them all. */
        snprintf(err, errlen, "connection refused: nothing listens on %s", all);
    else
        snprintf(err, errlen, "connection refused: nothing listens on %s; then %s", all, why);
    return connect_failed(cs, c, rc, err);
}

enum app_exit app_client_fail(const struct app_options *o, struct app_client_session *cs,
                              enum secsock_status status, const char *msg)
{
    char line[APP_ERR_LEN];
    snprintf(line, sizeof line, "%s", msg);
    app_add_hint(status, (o->program & (APP_UDP_CLIENT | APP_UDP_SERVER)) != 0, line, sizeof line);
    fprintf(stderr, "%s: %s\n", o->name, line);
    if (cs != NULL && cs->status == SECSOCK_OK) {
        cs->status = status;
        snprintf(cs->error, sizeof cs->error, "%s", line);
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

void app_client_close(struct app_client_session *cs, secsock_conn *c)
{
    secsock_close(c);
    if (cs->ech_retry_t != NULL) {
        secsock_transport_free(cs->ech_retry_t);
        cs->ech_retry_t = NULL;
        cs->t = cs->js.t = NULL; /* it was that one: nothing connects with it again */
    }
}
