/* The servers' log: time stamps, --quiet, whole entries (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set once before any thread starts, read-only after: no lock needed. */
static int log_timestamps;
static int log_quiet;

void app_log_setup(int timestamps, int quiet)
{
    log_timestamps = timestamps;
    log_quiet = quiet;
}

int app_log_quiet(void)
{
    return log_quiet;
}

size_t app_log_stamp(char *buf, size_t len)
{
    if (len == 0)
        return 0;
    buf[0] = '\0';
    if (!log_timestamps)
        return 0;
    struct timespec ts;
    struct tm tm;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL)
        return 0;
    int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(ts.tv_nsec / 1000000));
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

void app_log_vline(FILE *f, const char *fmt, va_list ap)
{
    char stamp[APP_LOG_STAMP_MAX];
    app_log_stamp(stamp, sizeof stamp);
    flockfile(f);
    fputs(stamp, f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    funlockfile(f);
    (void)fflush(f); /* a log line: a failed write has nowhere to go */
}

void app_log_client(FILE *f, const char *fmt, ...)
{
    if (log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    app_log_vline(f, fmt, ap);
    va_end(ap);
}

void app_log_entry_init(struct app_log_entry *e)
{
    e->buf = e->small;
    e->len = 0;
    e->cap = sizeof e->small;
    e->cut = 0;
    e->buf[0] = '\0';
    app_log_stamp(e->stamp, sizeof e->stamp);
}

/* Room for need more bytes (and a NUL); 0, or -1 out of memory. */
static int reserve(struct app_log_entry *e, size_t need)
{
    if (e->len + need + 1 <= e->cap)
        return 0;
    size_t cap = e->cap;
    while (cap < e->len + need + 1)
        cap *= 2;
    char *nbuf = e->buf == e->small ? malloc(cap) : realloc(e->buf, cap);
    if (nbuf == NULL)
        return -1;
    if (e->buf == e->small)
        memcpy(nbuf, e->small, e->len + 1);
    e->buf = nbuf;
    e->cap = cap;
    return 0;
}

void app_log_entry_add(struct app_log_entry *e, const char *fmt, ...)
{
    if (e->cut)
        return;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t slen = strlen(e->stamp);
    if (n < 0 || reserve(e, slen + (size_t)n + 1) != 0) {
        e->cut = 1;
        va_end(again);
        return;
    }
    memcpy(e->buf + e->len, e->stamp, slen);
    e->len += slen;
    vsnprintf(e->buf + e->len, (size_t)n + 1, fmt, again);
    va_end(again);
    e->len += (size_t)n;
    e->buf[e->len++] = '\n';
    e->buf[e->len] = '\0';
}

void app_log_entry_free(struct app_log_entry *e)
{
    if (e->buf != e->small)
        free(e->buf);
    e->buf = e->small;
    e->len = 0;
    e->cap = sizeof e->small;
}

void app_log_entry_write(struct app_log_entry *e, FILE *f)
{
    flockfile(f);
    if (fwrite(e->buf, 1, e->len, f) != e->len) {
        /* a log: a failed write has nowhere to go */
    }
    if (e->cut)
        fprintf(f, "%s  + (the rest is not shown: out of memory)\n", e->stamp);
    funlockfile(f);
    (void)fflush(f);
    app_log_entry_free(e);
}
