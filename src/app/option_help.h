/*
 * What --help and --version print, from the option table: kept apart
 * from the parser because it is the programs' text, not their logic.
 */
#ifndef SECSOCK_APP_OPTION_HELP_H
#define SECSOCK_APP_OPTION_HELP_H

#include "options.h"

/* --help: usage, the program's options, one line each, and the exit codes. */
void app_print_help(const struct app_options *o);

/* -V: the program's version first (scripts read its last word), then the
 * OpenSSL it was built with and the one it runs with, which may differ
 * (a library upgraded since, LD_LIBRARY_PATH), as curl -V shows. */
void app_print_version(const struct app_options *o);

#endif
