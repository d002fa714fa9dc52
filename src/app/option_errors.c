/* The parser's usage errors (option_errors.h). */
#include "option_errors.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "option_table.h"
#include "term.h"

int app_usage_error(const struct app_options *o, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char shown[4 * sizeof msg + 1]; /* what the user typed may hold any byte */
    term_escape_line((const unsigned char *)msg, strlen(msg), shown);
    fprintf(stderr, "%s: %s (see %s --help)\n", o->name, shown, o->name);
    return APP_EXIT_USAGE;
}

int app_option_error(const struct app_options *o, const char *bad)
{
    const struct opt_def *d = optopt != 0 ? app_opt_by_id(optopt) : app_opt_named(bad, o->program);
    if (d == NULL)
        return app_usage_error(o, "unknown option '%s'", bad);
    if (d->programs & (unsigned)o->program)
        return app_usage_error(
            o, d->arg ? "option '%s' needs a value" : "option '%s' takes no value", bad);
    char who[80];
    app_program_names(d->programs, who, sizeof who);
    return app_usage_error(o, "option '%s' is for %s, not %s", bad, who, o->name);
}
