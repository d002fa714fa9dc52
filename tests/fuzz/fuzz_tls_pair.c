/*
 * A TLS client and server as the programs make them -- transports from
 * secsock_config setters (so security_context_new builds the real SSL_CTX),
 * connections from ossl_conn_new, driven by the TLS backend's own
 * handshake/read/write/shutdown/session_info -- talking over memory BIOs
 * instead of sockets, with hostile records.
 *
 * Made once at start: a server with an in-memory self-signed certificate
 * (--self-signed) and ALPN, and two clients: one pinned to that certificate
 * with ALPN (--pin), one with --insecure and --tls-max 1.2, so the server's
 * Certificate travels in clear and is parsed and reported.
 *
 * Input: byte 0 chooses, the rest is data.
 *   bits 0-1  0: the data is the records a client sends to our server
 *             1: our client says hello, the data is the server's records
 *             2, 3: a real client and server do a handshake and one echo;
 *                the data is an edit script for the records in flight
 *   bit 2     the client: 0 pinned, 1 insecure TLS 1.2
 * Edit script: for each chunk moved from one side to the other, one byte
 * op, then by op % 4: 0 pass; 1 xor the byte at POS (2 bytes) with X
 * (1 byte); 2 cut the chunk at POS (2 bytes); 3 append the next op / 4
 * bytes of the script. An exhausted script passes everything.
 *
 * Checked: no crash, no leak (libFuzzer's leak check runs per input), and
 * every failure leaves a one-line printable error message.
 *
 * FUZZ_TLS_PAIR_DUMP=DIR writes each chunk moved to DIR/NN-c2s or NN-s2c:
 * that is how the seed corpus's records were captured.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "transport/ossl_conn.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static secsock_transport *server_t, *client_t[2];

static secsock_transport *make(enum secsock_role role, secsock_config *cfg)
{
    secsock_transport *t = NULL;
    if (secsock_transport_new("tls", role, cfg, &t) != SECSOCK_OK) {
        fprintf(stderr, "fuzz_tls_pair: %s\n", t ? secsock_transport_error(t) : "out of memory");
        abort();
    }
    secsock_config_free(cfg);
    return t;
}

static void setup(void)
{
    secsock_config *s = NULL, *pinned = NULL, *insecure = NULL;
    CHECK(secsock_config_new(&s) == SECSOCK_OK && secsock_config_new(&pinned) == SECSOCK_OK &&
          secsock_config_new(&insecure) == SECSOCK_OK);
    CHECK(secsock_config_set_self_signed(s, 1) == 0);
    CHECK(secsock_config_set_alpn(s, "http/1.1,h2") == 0);
    server_t = make(SECSOCK_SERVER, s);
    CHECK(secsock_config_set_pin(pinned, secsock_transport_fingerprint(server_t)) == 0);
    CHECK(secsock_config_set_alpn(pinned, "h2,http/1.1") == 0);
    client_t[0] = make(SECSOCK_CLIENT, pinned);
    CHECK(secsock_config_insecure_noverify(insecure) == 0);
    CHECK(secsock_config_set_max_version(insecure, "1.2") == 0);
    client_t[1] = make(SECSOCK_CLIENT, insecure);
}

/* One end: the connection, the BIO it reads from, the one it writes to. */
struct side {
    secsock_conn *c;
    BIO *in, *out;
    int step; /* 0 handshake, 1 talking, 2 done */
    int got;  /* echo bytes received (client), or sent back (server) */
};

static void side_open(struct side *s, const secsock_transport *t)
{
    struct ossl_conn *tc = ossl_conn_new(t->backend, t, -1, "localhost", NULL);
    CHECK(tc != NULL);
    s->c = &tc->base;
    s->in = BIO_new(BIO_s_mem());
    s->out = BIO_new(BIO_s_mem());
    CHECK(s->in && s->out);
    SSL_set_bio(tc->ssl, s->in, s->out); /* the SSL owns them now */
    s->step = 0;
    s->got = 0;
}

static void side_close(struct side *s)
{
    struct security_session facts; /* what the accessors show */
    s->c->backend->session_facts(s->c, &facts);
    X509 *leaf = s->c->backend->peer_cert(s->c, 0);
    if (leaf != NULL) { /* the peer's certificate, as shown */
        struct security_cert_text text;
        security_cert_text(leaf, &text);
        security_cert_text_free(&text);
    }
    s->c->backend->conn_free(s->c);
}

/* A failed call must say why, on one printable line. */
static void check_error(const secsock_conn *c)
{
    CHECK(c->error[0] != '\0');
    for (const char *p = c->error; *p; p++)
        CHECK(*p >= 0x20 && *p <= 0x7e);
}

/* One step of what a side does: handshake, then the client sends "ping"
 * and reads the echo, the server echoes until the client's close_notify;
 * then each ends its direction. Returns 1 if it made progress. */
static int side_step(struct side *s, int is_client)
{
    const struct secsock_backend *b = s->c->backend;
    char buf[256];
    ssize_t n;

    if (s->step == 0) {
        int rc = b->handshake(s->c);
        if (rc == 0) {
            s->step = 1;
            if (is_client && b->write(s->c, "ping", 4) != 4) {
                check_error(s->c);
                s->step = 2;
            }
            return 1;
        }
        if (rc != SECSOCK_WANT_READ && rc != SECSOCK_WANT_WRITE) {
            check_error(s->c);
            s->step = 2;
            return 1;
        }
        return 0;
    }
    if (s->step != 1)
        return 0;
    n = b->read(s->c, buf, sizeof buf);
    if (n == SECSOCK_WANT_READ || n == SECSOCK_WANT_WRITE)
        return 0;
    if (n > 0 && !is_client && b->write(s->c, buf, (size_t)n) < 0)
        n = -1;
    if (n > 0) {
        s->got += (int)n;
        if (!is_client || s->got < 4)
            return 1;
    }
    if (n < 0)
        check_error(s->c);
    if (n >= 0)
        (void)b->shutdown_write(s->c);
    s->step = 2;
    return 1;
}

/* The edit script. */
struct script {
    const uint8_t *p;
    size_t left;
};

static unsigned take(struct script *sc, int nbytes)
{
    unsigned v = 0;
    for (int i = 0; i < nbytes && sc->left > 0; i++, sc->p++, sc->left--)
        v = v << 8 | *sc->p;
    return v;
}

static int chunk_no;

/* Moves what from wrote to to's input, edited by the script. */
static int transfer(struct side *from, struct side *to, struct script *sc, const char *dir)
{
    static unsigned char buf[1 << 17];
    int len = BIO_read(from->out, buf, (int)sizeof buf / 2);
    if (len <= 0)
        return 0;
    if (sc != NULL && sc->left > 0) {
        unsigned op = take(sc, 1);
        if (op % 4 == 1) {
            unsigned pos = take(sc, 2) % (unsigned)len;
            buf[pos] ^= (unsigned char)(take(sc, 1) | 1);
        } else if (op % 4 == 2) {
            len = (int)(take(sc, 2) % (unsigned)len);
        } else if (op % 4 == 3) {
            unsigned k = op / 4 < sc->left ? op / 4 : (unsigned)sc->left;
            memcpy(buf + len, sc->p, k);
            sc->p += k, sc->left -= k, len += (int)k;
        }
    }
    const char *dump = getenv("FUZZ_TLS_PAIR_DUMP");
    if (dump != NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%02d-%s", dump, chunk_no++, dir);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL && fwrite(buf, 1, (size_t)len, f) == (size_t)len && fclose(f) == 0);
    }
    if (len > 0)
        CHECK(BIO_write(to->in, buf, len) == len);
    return 1;
}

/* One side against the fuzz data: it gets all of it, then the end of the
 * stream; whatever it sends is dropped. */
static void hostile_peer(struct side *s, int is_client, const uint8_t *data, size_t size)
{
    if (is_client)
        (void)side_step(s, 1); /* the ClientHello */
    (void)BIO_reset(s->out);
    if (size > 0)
        CHECK(BIO_write(s->in, data, (int)size) == (int)size);
    BIO_set_mem_eof_return(s->in, 0); /* then EOF, as a closed socket */
    for (int i = 0; i < 64 && s->step != 2; i++) {
        (void)side_step(s, is_client);
        (void)BIO_reset(s->out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size == 0 || size > 65536)
        return 0;
    int mode = data[0] & 3;
    const secsock_transport *ct = client_t[data[0] >> 2 & 1];
    data++, size--;

    struct side server, client;
    side_open(&server, server_t);
    side_open(&client, ct);
    chunk_no = 0;
    if (mode == 0) {
        hostile_peer(&server, 0, data, size);
    } else if (mode == 1) {
        hostile_peer(&client, 1, data, size);
    } else {
        struct script sc = { data, size };
        int moved = 1;
        for (int round = 0; round < 64 && moved; round++) {
            moved = side_step(&client, 1) | side_step(&server, 0);
            moved |= transfer(&client, &server, &sc, "c2s");
            moved |= transfer(&server, &client, &sc, "s2c");
        }
        if (size == 0) /* no edits: the exchange must work */
            CHECK(client.got == 4 && server.got == 4);
    }
    side_close(&server);
    side_close(&client);
    ERR_clear_error();
    return 0;
}
