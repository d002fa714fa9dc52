/*
 * The servers' log: lines on stdout (errors on stderr) that a person reads
 * while clients come and go. Two settings for the whole process, made once
 * before any thread starts: --timestamps puts the UTC time at the start of
 * every line, --quiet leaves out what happens to each client. An entry of
 * several lines (a client's request) is written at once, so the lines of
 * two clients never interleave.
 */
#ifndef SECSOCK_APP_LOG_H
#define SECSOCK_APP_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Called once, before any thread logs. Both are off until then (clients
 * never call it). */
void app_log_setup(int timestamps, int quiet);

/* Whether --quiet leaves out each client's lines: check it before
 * formatting an entry, so a quiet server does no work for it. */
int app_log_quiet(void);

/* "2026-12-02T10:01:02.345Z " (UTC, milliseconds) with --timestamps, else
 * "": what starts a log line. Returns its length (truncated to len - 1). */
#define APP_LOG_STAMP_MAX 32
size_t app_log_stamp(char *buf, size_t len);

/* One whole line: the stamp, the text, "\n"; safe from any thread (the
 * body of app_log, report.h). */
void app_log_vline(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* A line about one client's progress ("[*] Accepted connection from"):
 * app_log's, except that --quiet leaves it out. Errors, the listening line
 * and the summary use app_log (report.h) and always show. */
void app_log_client(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An entry of several lines, built in memory and written at once. Every
 * line starts with the entry's time stamp (one time: one event). Out of
 * memory, the entry is cut short and says so in its last line. */
struct app_log_entry {
    char *buf;
    size_t len, cap;
    int cut; /* a line did not fit in memory */
    char stamp[APP_LOG_STAMP_MAX];
    char small[2048]; /* most entries fit here: no allocation */
};

void app_log_entry_init(struct app_log_entry *e);
/* Appends one line (the stamp, then the text, then "\n"). */
void app_log_entry_add(struct app_log_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes the entry to f in one locked write, flushes, and frees it. */
void app_log_entry_write(struct app_log_entry *e, FILE *f);
/* Frees an entry without writing it. */
void app_log_entry_free(struct app_log_entry *e);

#endif
