/*
 * The programs' exit codes: the one table mapping the library's statuses
 * to them (the README and each --help list the codes). A status is never
 * an exit code: a program keeps an enum secsock_status, and turns it into
 * its exit code here, once, when it leaves.
 */
#ifndef SECSOCK_APP_EXIT_CODES_H
#define SECSOCK_APP_EXIT_CODES_H

#include "secsock/status.h"

/* Exit codes, one table for every program (README, --help). */
enum app_exit {
    APP_EXIT_OK = 0,
    APP_EXIT_FAILURE = 1,
    APP_EXIT_USAGE = 2,
    APP_EXIT_CONNECT = 3,
    APP_EXIT_TLS = 4,
    APP_EXIT_TIMEOUT = 5,
    APP_EXIT_HTTP = 6,   /* tcp-client --fail: an HTTP status of 400 or more */
    APP_EXIT_WRITE = 23, /* tcp-client: the output could not be written (curl's 23) */
};

/* The exit code for a status. */
enum app_exit app_exit_code(enum secsock_status status);

#endif
