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
    /* strftime, not one snprintf of the fields: gcc -O3 cannot bound
     * struct tm's ints and warns of a truncation that cannot happen. */
    char full[64];
    size_t date = strftime(full, sizeof full, "%Y-%m-%dT%H:%M:%S", &tm);
    if (date == 0)
        return 0;
    snprintf(full + date, sizeof full - date, ".%03dZ ", (int)(ts.tv_nsec / 1000000));
    size_t n = strlen(full);
    if (n >= len)
        n = len - 1; /* truncated to the buffer, as documented */
    memcpy(buf, full, n);
    buf[n] = '\0';
    return n;
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
