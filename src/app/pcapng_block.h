/*
 * The pcapng file as a sequence of blocks: one block at a time is built
 * in a buffer and written whole with one write(2), so that a reader never
 * meets a torn block, and a failed write stops the file after its last
 * whole block. pcapng.c decides what the blocks say; this only knows their
 * form. Callers hold the capture's lock.
 *
 * Block layout (pcapng, host byte order): type, total length, body, total
 * length again; the body padded to 4 bytes; options as code, length,
 * value padded to 4, ended by a zero option.
 */
#ifndef SECSOCK_APP_PCAPNG_BLOCK_H
#define SECSOCK_APP_PCAPNG_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pcapng_file {
    int fd;     /* -1 once closed or failed */
    int pipe;   /* a FIFO or socket: writes must not raise SIGPIPE */
    int opened; /* pcapng_open returned it: errors are reported */
    off_t good; /* bytes of whole blocks written */
    char *path;
    char error[320]; /* the first write error, "" while none */
    unsigned char *buf;
    size_t len, cap; /* the block being built: buf[0..len) */
};

/* Starts a block of type in f->buf with room for room body bytes (its
 * options included); -1 when out of memory. */
int pcapng_block_begin(struct pcapng_file *f, uint32_t type, size_t room);

/* Body bytes; callers reserved room at pcapng_block_begin: they never fail. */
void pcapng_put(struct pcapng_file *f, const void *p, size_t n);
void pcapng_put32(struct pcapng_file *f, uint32_t v);
void pcapng_pad4(struct pcapng_file *f);

/* An option: room must have been reserved for pcapng_option_room(n). */
void pcapng_option(struct pcapng_file *f, uint16_t code, const void *value, size_t n);
size_t pcapng_option_room(size_t n);

/* Ends the block (its options with opt_endofopt) and sets its lengths. */
void pcapng_block_end(struct pcapng_file *f, int has_options);

/* The block just built, to the file. */
void pcapng_block_write(struct pcapng_file *f);

/* n bytes of whole blocks to the file (held ones, say). */
void pcapng_file_write(struct pcapng_file *f, const unsigned char *p, size_t n);

/* Stops the file at its last whole block and keeps (and reports, once
 * opened) the first reason why. */
void pcapng_file_fail(struct pcapng_file *f, const char *why);

#endif
