/* Checks of option combinations (option_checks.h). */
#include "option_checks.h"

#include <string.h>

#include "option_errors.h"
#include "option_table.h"

/* udp-client's waits by mode, where -t and --retries did not say: in
 * plaintext one datagram and 30 s for a reply, time for a person answering
 * in ncat -u -l; over DTLS 2 s per try and 3 more tries, as a lost record
 * is never resent by DTLS itself. */
static void udp_client_defaults(struct app_options *o)
{
    if (o->program != APP_UDP_CLIENT)
        return;
    if (o->timeout_ms < 0)
        o->timeout_ms = o->secure ? 2000 : 30000;
    if (o->retries < 0)
        o->retries = o->secure ? 3 : 0;
}

/* ECH's combinations (the library checks them too, in its own words). */
static int check_ech(const struct app_options *o)
{
    int ech = o->ech_key || o->ech_public_name || o->ech_config || o->ech_hard || o->ech_grease;
    if (o->ech_key != NULL && o->ech_public_name != NULL)
        return app_usage_error(o, "%s",
                               "--ech and --ech-key contradict each other: a key is "
                               "made, or read");
    if (o->ech_out != NULL && o->ech_key == NULL && o->ech_public_name == NULL)
        return app_usage_error(o, "%s", "--ech-out needs --ech PUBLIC_NAME or --ech-key FILE");
    if (o->ech_hard && o->ech_config == NULL)
        return app_usage_error(o, "%s",
                               "--ech hard needs --ech ecl:CONFIG as well (tcp-client "
                               "looks no config up in DNS)");
    if (o->ech_grease && o->ech_config != NULL)
        return app_usage_error(o, "%s", "--ech grease and --ech ecl: contradict each other");
    if (ech && o->tls_max != NULL && strcmp(o->tls_max, "1.2") == 0)
        return app_usage_error(o, "%s", "Encrypted Client Hello needs TLS 1.3: drop --tls-max 1.2");
    return -1;
}

/* Combinations that cannot mean what the user wants. */
int app_options_check(struct app_options *o, const unsigned char *seen)
{
    udp_client_defaults(o);
    for (size_t i = 0; i < APP_N_OPTS; i++)
        if (seen[i] && app_opt_table[i].security && !o->secure)
            return app_usage_error(o, "--%s needs %s", app_opt_table[i].name,
                                   (o->program & APP_UDP) ? "--dtls" : "--tls");
    if (o->insecure && o->pin != NULL)
        return app_usage_error(o, "%s", "--insecure and --pin contradict each other");
    if (o->quiet && o->verbose)
        return app_usage_error(o, "%s", "--quiet and --verbose contradict each other");
    if (o->no_reply && o->count > 1)
        return app_usage_error(o, "%s", "--no-reply and --count contradict each other");
    if (o->echo + o->http + o->sink > 1)
        return app_usage_error(o, "%s", "--echo, --http and --sink are different modes: pick one");
    if (o->head && o->ndata > 0)
        return app_usage_error(o, "%s", "--head and --data contradict each other");
    if (o->head && o->method_given)
        return app_usage_error(o, "%s", "--head and --request contradict each other");
    if (o->head)
        o->method = "HEAD";
    else if (o->ndata > 0 && !o->method_given)
        o->method = "POST";
    if (o->send_string != NULL && o->send_file != NULL)
        return app_usage_error(o, "%s", "--send and --send-file contradict each other");
    if ((o->send_string != NULL || o->send_file != NULL) &&
        (app_opt_seen(seen, OPT_HEADER) || app_opt_seen(seen, OPT_PATH) || o->method_given ||
         o->head || o->ndata > 0 || o->follow || app_opt_seen(seen, OPT_USER_AGENT) ||
         o->body_only || o->fail_http))
        return app_usage_error(o, "%s",
                               "--path, --request, --head, --data, --location, --header, "
                               "--user-agent, --body-only and "
                               "--fail make no sense with --send");
    if ((o->cert != NULL) != (o->key != NULL))
        return app_usage_error(o, "%s", "--cert and --key go together");
    if ((o->program & APP_SERVERS) && o->secure && o->cert == NULL && !o->self_signed)
        return app_usage_error(o, "%s needs --cert and --key, or --self-signed",
                               o->program == APP_TCP_SERVER ? "--tls" : "--dtls");
    if (o->cert_out != NULL && !o->self_signed)
        return app_usage_error(o, "%s",
                               "--cert-out needs --self-signed (with --cert, clients can "
                               "use that file)");
    if (o->self_signed && o->cert != NULL)
        return app_usage_error(o, "%s", "--self-signed and --cert contradict each other");
    return check_ech(o);
}
