/*
 * The parser's one-line usage errors (exit code 2), apart so that the
 * parser and the checks of combinations (option_checks.c) share them.
 */
#ifndef SECSOCK_APP_OPTION_ERRORS_H
#define SECSOCK_APP_OPTION_ERRORS_H

#include "options.h"

/* One line on stderr naming the culprit, escaped for the terminal;
 * returns APP_EXIT_USAGE. */
int app_usage_error(const struct app_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* getopt's '?' for the word bad: a value missing, an option of another
 * program, or no option at all (reads getopt's optopt). */
int app_option_error(const struct app_options *o, const char *bad);

#endif
