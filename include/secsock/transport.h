/*
 * secsock transport: one API over plain TCP, TLS, UDP and DTLS 1.2.
 * (The manual page is secsock(3).)
 *
 * A transport is a backend bound to a role (client or server) and a security
 * configuration; for TLS and DTLS it owns the process's one SSL_CTX. A
 * client makes connections with secsock_connect(), a server with a listener
 * and secsock_accept().
 *
 * A connection is opaque. Its calls behave like read(2)/write(2): they wait
 * at most the connection's timeout and return a count or a negative
 * secsock_status. Each connection carries the text of its last error.
 *
 * Return values: calls give SECSOCK_OK (or a count) on success and a
 * negative enum secsock_status on failure. One error channel per object,
 * as libtls has: the reason, one line, is kept by the object the call was
 * on (secsock_transport_error, secsock_listener_error, secsock_conn_error).
 * A constructor sets *out also when it fails (only out of memory leaves it
 * NULL), so its reason can be read; then free it. Returned strings belong
 * to the object they came from and live as long as it does
 * (secsock_status_name's and secsock_version's are static).
 *
 * Threads: a transport is created once, before threads start, and is then
 * only read, so any number of threads may use it at once (connect, make
 * listeners, hand it to connections). A connection or a listener is used by
 * one thread at a time; it may move between threads (a server hands an
 * accepted connection to a worker). Calls on different connections never
 * interfere; nothing here changes signal handling (writes never raise
 * SIGPIPE). Functions marked "Thread-safe" may be called from any thread at
 * any time.
 */
#ifndef SECSOCK_TRANSPORT_H
#define SECSOCK_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "secsock/fingerprint.h"
#include "secsock/security.h"
#include "secsock/status.h"
#include "secsock/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct secsock_transport secsock_transport;
typedef struct secsock_conn secsock_conn;

enum secsock_role { SECSOCK_CLIENT, SECSOCK_SERVER };

/* Makes a transport for a backend, by name: "tcp", "tls" (streams), "udp",
 * "dtls" (datagrams), in a role. cfg is only read, and may be freed once this
 * returns; it may be NULL for "tcp" and "udp". For "tls" and "dtls" this
 * builds the SSL_CTX: files are loaded and a key must match its certificate;
 * a server needs a certificate (or self-signed); a key-log file is opened.
 * SECSOCK_OK with *out the transport; or SECSOCK_ERR_CONFIG (an unknown
 * backend, a bad file, a key that does not match) or SECSOCK_ERR_NOMEM, with
 * *out a failed transport that gives only secsock_transport_error() and
 * secsock_transport_free() (NULL when out of memory). Call it before
 * starting threads. */
SECSOCK_API enum secsock_status secsock_transport_new(const char *backend, enum secsock_role role,
                                                      const secsock_config *cfg,
                                                      secsock_transport **out);
/* Why secsock_transport_new() failed, one line; "" for a transport that
 * works. Never NULL. Thread-safe. */
SECSOCK_API const char *secsock_transport_error(const secsock_transport *t);
/* Frees t (NULL is fine), after every connection and listener made from it
 * is gone and no other thread uses it. */
SECSOCK_API void secsock_transport_free(secsock_transport *t);
/* The backend's name ("tcp", "tls", "udp" or "dtls"). Thread-safe. */
SECSOCK_API const char *secsock_transport_name(const secsock_transport *t);
/* 1 for "tls" and "dtls", 0 for "tcp" and "udp". Thread-safe. */
SECSOCK_API int secsock_transport_is_secure(const secsock_transport *t);
/* Datagram transports: the most one message carries, known before
 * connecting: 65527 for UDP (IPv6; IPv4 carries 20 less), and for DTLS the
 * figure for AES-GCM over IPv4 at the configured MTU (1215 at 1280). The
 * exact figure for a connection is secsock_max_message's. 0 for streams.
 * Thread-safe. */
SECSOCK_API size_t secsock_transport_max_message(const secsock_transport *t);
/* For a server started with a self-signed certificate: its "sha256:HEX"
 * fingerprint, colon-separated hex pairs. NULL otherwise. Thread-safe. */
SECSOCK_API const char *secsock_transport_fingerprint(const secsock_transport *t);
/* The same server's public-key pin, "sha256//BASE64" (the SHA-256 of its
 * SubjectPublicKeyInfo, curl's --pinnedpubkey form), and its certificate in
 * PEM, for a client's CA file. NULL for other transports. Thread-safe. */
SECSOCK_API const char *secsock_transport_spki_pin(const secsock_transport *t);
SECSOCK_API const char *secsock_transport_cert_pem(const secsock_transport *t);

/* What secsock_connect() tells opts->on_attempt about each address. */
enum secsock_attempt_event {
    SECSOCK_ATTEMPT_TRYING,    /* connecting to the address starts */
    SECSOCK_ATTEMPT_FAILED,    /* it failed: reason says why, e.g. "connection refused" */
    SECSOCK_ATTEMPT_CONNECTED, /* it connected first: the one used */
};

struct secsock_connect_opts {
    const char *host;         /* the name: used for SNI and verification */
    const char *port;         /* service name or number */
    const char *connect_addr; /* connect here instead of resolving host (curl --resolve) */
    int family;               /* AF_UNSPEC, AF_INET or AF_INET6 */
    int timeout_ms;           /* bounds connect, handshake and each later wait */
    /* Optional (NULL: nobody is told): called in the connecting thread, before
     * secsock_connect() returns, for each address as it is tried, fails or
     * wins. address is numeric, "ADDR:PORT" or "[ADDR]:PORT"; reason is "",
     * or for SECSOCK_ATTEMPT_FAILED the cause in lower case. Attempts that
     * lose the race end without a word. */
    void (*on_attempt)(void *arg, enum secsock_attempt_event event, const char *address,
                       const char *reason);
    void *on_attempt_arg;
    /* Optional: n_exclude addresses ("ADDR:PORT" as secsock_conn_peer()
     * gives them) not to try, e.g. those a datagram was refused on. */
    const char *const *exclude;
    size_t n_exclude;
};

/* Client: resolves opts->host (or uses opts->connect_addr) and connects,
 * for TLS and DTLS completing and verifying the handshake, all within
 * opts->timeout_ms, which also becomes the connection's timeout.
 *
 * Every address of the name is tried (localhost and *.localhost are ::1 and
 * 127.0.0.1 as well as what the resolver says), the address families
 * interleaved and the first family the resolver's, as RFC 8305 (Happy
 * Eyeballs) and curl do: each attempt has 250 ms to itself, then the next
 * starts beside it (at once when it fails, e.g. refused); the first to
 * connect is used and the others are closed. A datagram socket connects at
 * once (nothing is sent), so for "udp" the first usable address is taken
 * and a refusal shows only when a datagram is answered by an ICMP "port
 * unreachable" (a read fails with SECSOCK_ERR_CONNECT): to go on to the
 * next address, connect again with the refused one in opts->exclude. For
 * "dtls" the handshake's refusal moves on to the next address here.
 *
 * Returns SECSOCK_OK with *out the connection, or a negative status
 * (SECSOCK_ERR_RESOLVE, _CONNECT, _TIMEOUT, _HANDSHAKE, _VERIFY, ...);
 * SECSOCK_ERR_CONNECT also when opts->exclude leaves no address. *out is
 * set on failure too (NULL only when out of memory), and closed by the
 * caller: secsock_conn_error() gives the reason, naming each address tried
 * (or, when too many, the last and the count), and after a failed
 * handshake the facts below tell what the peer showed (e.g. the refused
 * certificate). When no address connected, the connection has no
 * descriptor (secsock_conn_fd() is -1) and its peer is "".
 * Thread-safe: any number of threads may connect with one transport. */
SECSOCK_API enum secsock_status secsock_connect(const secsock_transport *t,
                                                const struct secsock_connect_opts *opts,
                                                secsock_conn **out);

/* A listener hands out one connection per client, whatever the backend:
 * "tcp"/"tls": an accepted socket; "udp": one datagram from a peer (reading
 * it gives the datagram, then the end; writing answers that peer from the
 * listening socket); "dtls": a peer whose ClientHello carried a valid
 * cookie (DTLSv1_listen: nothing is kept for peers before that), on a
 * socket of its own connected to the peer. A listener is used by one thread
 * at a time; the connections it hands out are independent of it (except
 * "udp" ones, which answer from its socket: close them first).
 *
 * secsock_listener_new: binds bind_addr:port (port "0" picks a free one)
 * with SO_REUSEADDR, listening with backlog for streams. Returns SECSOCK_OK
 * with *out the listener, or a negative status (SECSOCK_ERR_CONFIG: the
 * address does not resolve; SECSOCK_ERR_CONNECT: it cannot be bound, e.g.
 * in use; SECSOCK_ERR_IO, SECSOCK_ERR_NOMEM) with *out a failed listener
 * that gives only secsock_listener_error() and secsock_listener_free()
 * (NULL when out of memory). Thread-safe. */
typedef struct secsock_listener secsock_listener;
SECSOCK_API enum secsock_status secsock_listener_new(const secsock_transport *t,
                                                     const char *bind_addr, const char *port,
                                                     int backlog, secsock_listener **out);
/* Why the listener, or the calling thread's last secsock_accept() on it,
 * failed; "" if neither did. Never NULL; valid until that thread's next
 * secsock_accept() (threads accepting on one listener each see their own). */
SECSOCK_API const char *secsock_listener_error(const secsock_listener *l);
/* The listening descriptor, to poll for readability: a client is waiting.
 * It stays the listener's: do not close it. */
SECSOCK_API int secsock_listener_fd(const secsock_listener *l);
/* "ADDR:PORT" actually bound ("[ADDR]:PORT" for IPv6): the real port when
 * "0" was asked for. */
SECSOCK_API const char *secsock_listener_address(const secsock_listener *l);
/* Waits up to timeout_ms (or until the cancel descriptor is readable) for
 * the next client. SECSOCK_OK with *out set; SECSOCK_ERR_TIMEOUT or
 * _CANCELLED when none came; another negative status for a client that
 * failed before it became a connection (the listener stays usable;
 * secsock_listener_error() says why). *out is NULL on failure. */
SECSOCK_API enum secsock_status secsock_accept(secsock_listener *l, int timeout_ms,
                                               secsock_conn **out);
/* From now on secsock_accept() also ends, with SECSOCK_ERR_CANCELLED, when
 * fd is readable (a server's stop pipe). -1 turns it off. */
SECSOCK_API void secsock_listener_set_cancel_fd(secsock_listener *l, int fd);
/* Closes the listening socket and frees l (NULL is fine). */
SECSOCK_API void secsock_listener_free(secsock_listener *l);

/* Server side: runs the TLS/DTLS handshake (nothing to do in plaintext)
 * within timeout_ms, verifying a client certificate if the configuration
 * asks for one. Returns SECSOCK_OK (also when it is done already) or a
 * status: SECSOCK_ERR_HANDSHAKE, _VERIFY, _TIMEOUT, _CANCELLED, _IO. */
SECSOCK_API enum secsock_status secsock_handshake(secsock_conn *c, int timeout_ms);

/* For event loops that run many handshakes in one thread: one step of the
 * handshake, never waiting: 0 when it is done, SECSOCK_WANT_READ/WRITE to
 * call again when the descriptor is ready, or an error. Backends with a
 * clock of their own (DTLS retransmission) also want secsock_conn_timer_fire()
 * called once secsock_conn_timer_ms() milliseconds have passed (-1: no timer,
 * always so for "tcp", "tls" and "udp"). secsock_conn_timer_fire() returns
 * 0 (a flight was resent, or nothing was due) or SECSOCK_ERR_HANDSHAKE. */
SECSOCK_API enum secsock_status secsock_handshake_nowait(secsock_conn *c);
SECSOCK_API int secsock_conn_timer_ms(secsock_conn *c);
SECSOCK_API enum secsock_status secsock_conn_timer_fire(secsock_conn *c);
/* After a failed handshake, a TLS server says it is done and, before
 * closing, reads and drops what the client still sends, so the kernel's
 * reset cannot overtake the alert. secsock_close() does that for up to
 * 500 ms; an event loop calls this instead, each time the descriptor is
 * readable: 1 while the peer has not closed yet, 0 when done (then close). */
SECSOCK_API int secsock_linger_nowait(secsock_conn *c);
/* 1 when application bytes already wait inside the connection (a decrypted
 * TLS record, a UDP peer's datagram), so a read won't block on the socket;
 * else 0. */
SECSOCK_API int secsock_pending(const secsock_conn *c);

/* Reads up to len bytes, waiting at most the connection's timeout: >0
 * bytes, 0 at a clean end of stream (FIN, or TLS close_notify), or a
 * negative status (SECSOCK_ERR_TIMEOUT, _CANCELLED, _IO, ...). A TLS peer
 * that closes without close_notify gives SECSOCK_ERR_TRUNCATED once the
 * bytes before it are read. Datagrams: one read is one datagram. */
SECSOCK_API ssize_t secsock_read(secsock_conn *c, void *buf, size_t len);
/* Writes all len bytes or fails: 0 or a negative status. Each wait is
 * bounded by the connection's timeout, restarted whenever bytes move.
 * Datagrams: one write is one datagram; one larger than
 * secsock_max_message() fails with SECSOCK_ERR_TOO_BIG, never cut. */
SECSOCK_API enum secsock_status secsock_write_all(secsock_conn *c, const void *buf, size_t len);

/* Non-blocking forms for event loops: like the above, but return
 * SECSOCK_WANT_READ/SECSOCK_WANT_WRITE instead of waiting (poll
 * secsock_conn_fd() for that, then call again). A read gives >0 bytes, 0 at
 * the end, or a negative status; a write gives the count written (for TCP
 * possibly fewer than len) or a negative status. A write that returned
 * WANT_* must be retried with the same bytes. */
SECSOCK_API ssize_t secsock_read_nowait(secsock_conn *c, void *buf, size_t len);
/* Like secsock_read_nowait(), but the bytes stay to be read again (as
 * recv's MSG_PEEK): tells a client that sent data from one that only
 * closed (0) without taking anything from the next read. */
SECSOCK_API ssize_t secsock_peek_nowait(secsock_conn *c, void *buf, size_t len);
SECSOCK_API ssize_t secsock_write_nowait(secsock_conn *c, const void *buf, size_t len);
/* The connection's descriptor, to poll; it stays the connection's. Bytes
 * may also wait inside the backend: see secsock_pending(). */
SECSOCK_API int secsock_conn_fd(const secsock_conn *c);

/* Ends our direction: TCP half-close, or TLS/DTLS close_notify (nothing
 * for plain UDP). Reading goes on. Returns 0 (also when done already) or a
 * negative status. */
SECSOCK_API enum secsock_status secsock_shutdown_write(secsock_conn *c);
/* Closes (sending close_notify if not sent yet, waiting at most a second
 * for a peer that stopped reading) and frees. NULL is fine. */
SECSOCK_API void secsock_close(secsock_conn *c);
/* Closes at once and frees: no close_notify, and a TCP reset (SO_LINGER 0).
 * NULL is fine. */
SECSOCK_API void secsock_abort(secsock_conn *c);

/* 1 when c's TLS handshake failed because the peer sent plaintext (an
 * HTTP status line, a banner): it speaks no TLS on that port. */
SECSOCK_API int secsock_conn_plaintext_peer(const secsock_conn *c);

/* The ClientHello of c as it went over the wire, when the configuration
 * asked to keep it (secsock_config_keep_client_hello): the first record a
 * TLS client sent, the datagram a DTLS client sent first, or the one a DTLS
 * server accepted (its cookie verified). NULL, with *len 0, otherwise (a
 * TLS server, plaintext, not asked). The bytes are c's: see
 * secsock_fingerprint_client_hello(). */
SECSOCK_API const unsigned char *secsock_conn_client_hello(const secsock_conn *c, size_t *len);

/* The bound, in milliseconds, on each later wait of c (read, write,
 * shutdown). A new connection has its connect timeout (10000 for
 * accepted ones). */
SECSOCK_API void secsock_conn_set_timeout(secsock_conn *c, int timeout_ms);
/* From now on every wait on c also ends, with SECSOCK_ERR_CANCELLED, when
 * fd is readable (a server's stop pipe). -1 turns it off. */
SECSOCK_API void secsock_conn_set_cancel_fd(secsock_conn *c, int fd);
/* Datagram backends: one read is one datagram and one write one datagram.
 * secsock_max_message: the largest message a write can carry (for DTLS,
 * what fits the MTU; 0 for streams). secsock_datagram_truncated: 1 when the
 * last datagram read was longer than the buffer (its tail was dropped),
 * else 0. */
SECSOCK_API size_t secsock_max_message(const secsock_conn *c);
SECSOCK_API int secsock_datagram_truncated(const secsock_conn *c);
/* The text of c's last error, e.g. "certificate verify failed: hostname
 * mismatch (wanted example.org): not in SAN DNS:www.example.org"; "" if
 * none. Never NULL. */
SECSOCK_API const char *secsock_conn_error(const secsock_conn *c);
/* "ADDR:PORT" of the peer ("[ADDR]:PORT" for IPv6); "" if unknown. */
SECSOCK_API const char *secsock_conn_peer(const secsock_conn *c);

/* What was negotiated, and who the peer is, one accessor per fact (so
 * facts can be added without an ABI change). Also after a failed
 * handshake: what the peer showed, and why verification failed. Strings
 * belong to c: they stay valid until c is closed, and unchanged until the
 * next call that changes c (a handshake step, a read, a write). Never NULL:
 * "" where a fact does not apply (plaintext, no peer certificate, before
 * the handshake). The peer's names are its own text: escape them before
 * printing. */
/* 1 for a TLS or DTLS connection, 0 for plaintext. */
SECSOCK_API int secsock_conn_is_secure(const secsock_conn *c);
/* The protocol version, "TLSv1.3", "TLSv1.2" or "DTLSv1.2". */
SECSOCK_API const char *secsock_conn_protocol(const secsock_conn *c);
/* The cipher suite (OpenSSL's name), e.g. "TLS_AES_256_GCM_SHA384". */
SECSOCK_API const char *secsock_conn_cipher(const secsock_conn *c);
/* The key-exchange group, e.g. "x25519". */
SECSOCK_API const char *secsock_conn_group(const secsock_conn *c);
/* The ALPN protocol agreed on, e.g. "http/1.1". */
SECSOCK_API const char *secsock_conn_alpn(const secsock_conn *c);
/* The server name: the one a client sent (not an IP literal), or the one a
 * server received. */
SECSOCK_API const char *secsock_conn_sni(const secsock_conn *c);
/* 1 when the session was resumed (no full handshake), else 0. */
SECSOCK_API int secsock_conn_resumed(const secsock_conn *c);
/* 1 when the peer was verified and passed (a CA chain or a pin), else 0. */
SECSOCK_API int secsock_conn_verified(const secsock_conn *c);
/* "ok (CA chain)", "ok (pinned)", "pin mismatch", "no certificate",
 * "not verified (...)", or why the chain was refused. */
SECSOCK_API const char *secsock_conn_verify_result(const secsock_conn *c);
/* DTLS: 1 when a HelloVerifyRequest (cookie) was sent or received. */
SECSOCK_API int secsock_conn_cookie_exchange(const secsock_conn *c);
/* Application bytes written and read through c. */
SECSOCK_API unsigned long long secsock_conn_bytes_sent(const secsock_conn *c);
SECSOCK_API unsigned long long secsock_conn_bytes_received(const secsock_conn *c);
/* The peer's certificate (the leaf), as secsock_conn_peer_cert(c, 0, ...)
 * below gives it: RFC 2253 names, "DNS:localhost, IP:127.0.0.1",
 * "2026-12-02T10:00:00Z", "sha256:AB:CD:...". */
SECSOCK_API const char *secsock_conn_peer_cert_subject(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_peer_cert_issuer(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_peer_cert_san(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_peer_cert_not_before(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_peer_cert_not_after(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_peer_cert_fingerprint(const secsock_conn *c);

/* Encrypted Client Hello (see security.h) on a connection. */
enum secsock_ech_status {
    SECSOCK_ECH_NONE = 0, /* not offered (or not configured, or no TLS) */
    SECSOCK_ECH_ACCEPTED, /* the inner, encrypted ClientHello was used */
    SECSOCK_ECH_REJECTED, /* client: offered, and the server did not use it */
    SECSOCK_ECH_GREASE,   /* client: sent GREASE; server: got an ECH extension
                               * it could not decrypt (GREASE, or another key) */
};
/* What ECH did on c (also after a failed handshake): its status; the SNI
 * in the clear (the config's public name); the SNI inside (a server knows
 * it once accepted); and, for a client whose ECH the server refused while
 * sending the configs to use instead (RFC 9849's retry_configs), that
 * ECHConfigList in base64. Strings as for the session facts above: the
 * connection's, never NULL, "" when n/a; the names are the peer's text:
 * escape them before printing. */
SECSOCK_API enum secsock_ech_status secsock_conn_ech_status(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_ech_outer_name(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_ech_inner_name(const secsock_conn *c);
SECSOCK_API const char *secsock_conn_ech_retry_config_list(const secsock_conn *c);
/* "accepted", "rejected", "GREASE", "none"; static. Thread-safe. */
SECSOCK_API const char *secsock_ech_status_name(enum secsock_ech_status status);
/* A TLS server with an ECH key: its ECHConfigList in base64, what clients
 * need (secsock_config_set_ech_config_list), and the config's public name.
 * NULL otherwise. Thread-safe. */
SECSOCK_API const char *secsock_transport_ech_config_list(const secsock_transport *t);
SECSOCK_API const char *secsock_transport_ech_public_name(const secsock_transport *t);

/* The certificates the peer sent, whether or not they passed verification
 * (a client keeps the server's whole chain, as sent, leaf first, also when
 * it refused it; a server has its client's once accepted). How many: 0 in
 * plaintext, before the handshake, or when none came. */
SECSOCK_API int secsock_conn_peer_cert_count(const secsock_conn *c);
enum secsock_cert_field {
    SECSOCK_CERT_SUBJECT, /* RFC 2253, e.g. "CN=localhost,O=Example" */
    SECSOCK_CERT_ISSUER,
    SECSOCK_CERT_SAN,        /* "DNS:localhost, IP:127.0.0.1" */
    SECSOCK_CERT_NOT_BEFORE, /* "2026-12-02T10:00:00Z" */
    SECSOCK_CERT_NOT_AFTER,
    SECSOCK_CERT_FINGERPRINT, /* "sha256:AB:CD:...", the certificate's SHA-256 */
    SECSOCK_CERT_SPKI_PIN,    /* "sha256//BASE64", its public key's (curl's pin) */
};
/* One field of certificate i (0: the leaf) as printable ASCII: the peer's
 * own text with control and non-ASCII bytes escaped or replaced. "" when i
 * or field is out of range. The text belongs to c and lives as long as it
 * does; the first call builds it for the whole chain (nothing is spent on
 * it otherwise). */
SECSOCK_API const char *secsock_conn_peer_cert(const secsock_conn *c, int i,
                                               enum secsock_cert_field field);

/* Which check refused the peer's certificate (after SECSOCK_ERR_VERIFY),
 * so a program can suggest the fix; secsock_conn_error() has the details. */
enum secsock_verify_failure {
    SECSOCK_VERIFY_NOT_REFUSED = 0, /* no refusal (or no verification) */
    SECSOCK_VERIFY_UNKNOWN_CA,      /* no chain to a trusted CA (self-signed, unknown issuer) */
    SECSOCK_VERIFY_EXPIRED,
    SECSOCK_VERIFY_NOT_YET_VALID,
    SECSOCK_VERIFY_NAME_MISMATCH, /* the name or address is not in the certificate */
    SECSOCK_VERIFY_PIN_MISMATCH,
    SECSOCK_VERIFY_OTHER, /* another reason (a bad signature, a revoked chain...) */
};
SECSOCK_API enum secsock_verify_failure secsock_conn_verify_failure(const secsock_conn *c);

#ifdef __cplusplus
}
#endif
#endif
