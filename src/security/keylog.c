/*
 * The NSS key-log file Wireshark reads (curl's lib/vtls/keylog.c is the
 * model): one file per process, written line by line from any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "security/security_internal.h"

static pthread_mutex_t keylog_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *keylog_file;
static char *keylog_path;
static int keylog_refs;

int keylog_open(const char *path, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&keylog_lock);
    if (keylog_file != NULL) {
        if (strcmp(path, keylog_path) == 0)
            keylog_refs++;
        else
            rc = -1, snprintf(err, errlen, "key-log file '%s' already in use", keylog_path);
        pthread_mutex_unlock(&keylog_lock);
        return rc;
    }
    /* Secrets: created 0600, appended to like SSLKEYLOGFILE users expect. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    char *copy = f != NULL ? strdup(path) : NULL;
    if (copy == NULL) {
        snprintf(err, errlen, "cannot open key-log file '%s': %s", path,
                 fd < 0 ? strerror(errno) : "out of memory");
        if (f != NULL)
            (void)fclose(f); /* nothing written yet */
        else if (fd >= 0)
            close(fd);
        rc = -1;
    } else {
        keylog_file = f;
        keylog_path = copy;
        keylog_refs = 1;
    }
    pthread_mutex_unlock(&keylog_lock);
    return rc;
}

void keylog_close(void)
{
    pthread_mutex_lock(&keylog_lock);
    if (keylog_refs > 0 && --keylog_refs == 0) {
        (void)fclose(keylog_file); /* flushed after every line already */
        free(keylog_path);
        keylog_file = NULL;
        keylog_path = NULL;
    }
    pthread_mutex_unlock(&keylog_lock);
}

void keylog_write_line(const SSL *ssl, const char *line)
{
    (void)ssl;
    pthread_mutex_lock(&keylog_lock);
    if (keylog_file != NULL) {
        /* Flushed per line: a capture is often decrypted while we still run. */
        fprintf(keylog_file, "%s\n", line);
        (void)fflush(keylog_file);
    }
    pthread_mutex_unlock(&keylog_lock);
}
