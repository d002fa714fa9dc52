/* The pcapng block writer (pcapng_block.h). */
#include "pcapng_block.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

#define OPT_END 0

/* ---- building a block in f->buf ---- */

static int reserve(struct pcapng_file *f, size_t more)
{
    if (f->cap - f->len >= more)
        return 0;
    size_t cap = f->len + more + 1024;
    unsigned char *p = realloc(f->buf, cap);
    if (p == NULL)
        return -1;
    f->buf = p;
    f->cap = cap;
    return 0;
}

/* Callers reserve first: the puts never fail. */
void pcapng_put(struct pcapng_file *f, const void *p, size_t n)
{
    if (n == 0)
        return; /* p may be NULL: opt_endofopt */
    memcpy(f->buf + f->len, p, n);
    f->len += n;
}

void pcapng_put32(struct pcapng_file *f, uint32_t v)
{
    pcapng_put(f, &v, 4);
}

void pcapng_pad4(struct pcapng_file *f)
{
    while (f->len % 4 != 0)
        f->buf[f->len++] = 0;
}

int pcapng_block_begin(struct pcapng_file *f, uint32_t type, size_t room)
{
    f->len = 0;
    if (reserve(f, room + 12) != 0)
        return -1;
    pcapng_put32(f, type);
    pcapng_put32(f, 0); /* the total length, known at block_end */
    return 0;
}

/* An option: room must have been reserved for 4 + n rounded up to 4. */
void pcapng_option(struct pcapng_file *f, uint16_t code, const void *value, size_t n)
{
    uint16_t hdr[2] = { code, (uint16_t)n };
    pcapng_put(f, hdr, 4);
    pcapng_put(f, value, n);
    pcapng_pad4(f);
}

size_t pcapng_option_room(size_t n)
{
    return 4 + (n + 3) / 4 * 4;
}

void pcapng_block_end(struct pcapng_file *f, int has_options)
{
    if (has_options)
        pcapng_option(f, OPT_END, NULL, 0);
    uint32_t total = (uint32_t)(f->len + 4);
    pcapng_put32(f, total);
    memcpy(f->buf + 4, &total, 4);
}

/* ---- writing ---- */

void pcapng_file_fail(struct pcapng_file *f, const char *why)
{
    if (f->error[0] == '\0') {
        snprintf(f->error, sizeof f->error, "cannot write the capture file '%s': %s", f->path, why);
        if (f->opened) /* pcapng_open's own errors go to its caller */
            app_log(stderr, "[!] %s; capture stopped there (the program goes on)", f->error);
    }
    if (f->fd >= 0) {
        /* Whole blocks only: a reader stops at a torn one. */
        if (!f->pipe)
            (void)!ftruncate(f->fd, f->good);
        close(f->fd);
        f->fd = -1;
    }
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A reader that went away (wireshark -k -i - closed) is an error, not a
 * SIGPIPE that kills the program: the signal is blocked for the write and
 * a pending one taken back, unless it was pending before. */
static int write_to_pipe(int fd, const unsigned char *p, size_t n)
{
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    int rc = write_all(fd, p, n);
    int saved = errno;
    if (rc != 0 && saved == EPIPE && !was_pending) {
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return rc;
}

/* n bytes of whole blocks to the file. */
void pcapng_file_write(struct pcapng_file *f, const unsigned char *p, size_t n)
{
    if (f->fd < 0)
        return;
    int rc = f->pipe ? write_to_pipe(f->fd, p, n) : write_all(f->fd, p, n);
    if (rc != 0)
        pcapng_file_fail(f, strerror(errno));
    else
        f->good += (off_t)n;
}

void pcapng_block_write(struct pcapng_file *f)
{
    pcapng_file_write(f, f->buf, f->len);
}
