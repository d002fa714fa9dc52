/*
 * The combinations of options that cannot mean what the user wants,
 * checked once every option is read (options.c), with the defaults that
 * depend on more than one option.
 */
#ifndef SECSOCK_APP_OPTION_CHECKS_H
#define SECSOCK_APP_OPTION_CHECKS_H

#include "options.h"

/* Completes o's mode-dependent defaults and checks its combinations
 * (seen: one flag per option table entry). Returns -1 to go on, or the
 * exit code (2, after one line on stderr). */
int app_options_check(struct app_options *o, const unsigned char *seen);

#endif
