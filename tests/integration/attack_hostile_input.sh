#!/usr/bin/env bash
# Hostile input, for every program. Servers: random bytes, oversized and
# truncated TLS records (before and after the handshake), a corrupted
# record, TLS to the plaintext port; for udp-server --dtls random datagrams,
# DTLS records with a bogus length and junk inside a session — each costs at
# most one log line (TLS: exactly one "[!]"), the server stays up and serves
# the next client exactly. Clients: a server that answers with random bytes,
# an oversized or truncated record, plaintext, a reset, broken HTTP framing —
# one clear stderr line and the documented exit code. Absurd arguments for
# every program (port 70000, -t -1, -t 1e9, --max-clients 0, missing files,
# a directory for a file, a key that does not match its certificate, unknown
# cipher names, --mtu 10, an empty HOST): exactly one stderr line naming the
# culprit, exit 2, and no connection made (a recording listener sees none).
# (server_resilience.sh has plaintext HTTP to the TLS port, 0xff garbage,
# half a ClientHello, a silent client, a reset mid-reply.)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
UC="$SECSOCK_BIN/udp-client"
US="$SECSOCK_BIN/udp-server"
need "$C" "$S" "$UC" "$US" openssl python3 timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"

# one_line TEXT WHAT : TEXT is exactly one line (a trailing newline allowed).
one_line() {
    local t="${1%$'\n'}"
    [[ -n "$t" && "$t" != *$'\n'* ]] || fail "${2:-stderr}: expected exactly one line, got [$1]"
}

# ---------------------------------------------------------------------------
# Servers against hostile peers.

# python3 tls_peer.py MODE PORT CAFILE: one hostile TLS peer. Before the
# handshake: random, oversize-hello (a record header claiming 20,000 bytes),
# garbage-hello (a handshake record header, random body), cut-record (a
# record header promising more than comes, then a half-close). After a real
# handshake: bad-mac (a record with one bit flipped), oversize-app (an
# application-data header claiming 20,000 bytes), cut-app (half a record,
# then a half-close). Prints what the server sent back, then exits 0.
cat >"$TEST_TMP/tls_peer.py" <<'PY'
import os, random, socket, ssl, sys
mode, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=10)

def hello():
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

def handshake():
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context(cafile=cafile).wrap_bio(inc, out, server_hostname="localhost")
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            s.sendall(out.read())
            d = s.recv(65536)
            if not d:
                sys.exit("the server closed during the handshake")
            inc.write(d)
    s.sendall(out.read())  # our Finished
    return obj, out

def drain():
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except OSError as e:
        got += b" <" + type(e).__name__.encode() + b">"
    return got

ch = hello()
if mode == "random":
    s.sendall(bytes(random.Random(1).randrange(256) for _ in range(4000)))
elif mode == "oversize-hello":
    s.sendall(ch[:3] + (20000).to_bytes(2, "big") + ch[5:])
elif mode == "garbage-hello":
    s.sendall(ch[:5] + os.urandom(len(ch) - 5))
elif mode == "cut-record":
    s.sendall(ch[:5 + (len(ch) - 5) // 2])
    s.shutdown(socket.SHUT_WR)
else:
    obj, out = handshake()
    obj.write(b"a record that will not arrive whole or intact")
    rec = bytearray(out.read())
    if mode == "bad-mac":
        rec[-3] ^= 0x01
        s.sendall(bytes(rec))
    elif mode == "oversize-app":
        s.sendall(b"\x17\x03\x03" + (20000).to_bytes(2, "big") + os.urandom(200))
    elif mode == "cut-app":
        s.sendall(bytes(rec[: len(rec) // 2]))
        s.shutdown(socket.SHUT_WR)
    else:
        sys.exit("unknown mode " + mode)
got = drain()
print("server sent back %d bytes: %r" % (len(got), got[:16]))
PY

case_tls_server() {
    local pid="" port="" log n=0 kind line
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" --handshake-timeout 10
    log="$(server_out "$pid")"
    for kind in random oversize-hello garbage-hello cut-record bad-mac oversize-app cut-app; do
        CAPTURE_TIMEOUT=20 capture python3 "$TEST_TMP/tls_peer.py" "$kind" "$port" "$PKI/ca.crt"
        assert_capture 0 "hostile TLS peer '$kind'"
        n=$((n + 1))
        wait_for_count "$log" "[!]" "$n" 8
        line="$(grep -F '[!]' "$log" | tail -n1)"
        _it_log "tcp-server --tls, $kind: $line"
        alive "$pid" "tcp-server --tls after '$kind'"
        capture "$C" --tls --cafile "$PKI/ca.crt" --send "after $kind" localhost "$port"
        assert_capture 0 "a normal client after '$kind'"
        assert_eq "tcp-server over TLS is working" "$CAP_OUT" "reply after '$kind'"
        wait_for_log "$log" "[*] Received: after $kind"
    done
    sleep 0.3
    assert_eq "$n" "$(count_in "$log" "[!]")" "[!] lines: one per hostile peer"
    # The log says what was wrong, not just that something was.
    local -a why=("wrong version number" "packet length too long" "" "peer closed the connection during the TLS handshake" "" "" "")
    local i=0
    while IFS= read -r line; do
        [[ -n "${why[i]}" ]] && assert_contains "$line" "${why[i]}" "log line $((i + 1))"
        i=$((i + 1))
    done < <(grep -F '[!]' "$log")
}

# TLS to the plaintext port: just a request there (logged escaped, answered
# in plaintext), and tcp-client --tls fails with one line, exit 4.
case_tls_to_plain() {
    local pid="" port="" log
    start_server pid port "$S" -p 0
    log="$(server_out "$pid")"
    capture "$C" --tls --cafile "$PKI/ca.crt" localhost "$port"
    assert_capture 4 "tcp-client --tls against a plaintext server"
    one_line "$CAP_ERR" "tcp-client's stderr"
    assert_contains "$CAP_ERR" "TLS handshake failed"
    wait_for_log "$log" '[*] Received: \x16\x03\x01'
    assert_eq 1 "$(count_in "$log" "[*] Received:")" "requests logged"
    assert_eq 0 "$(count_in "$log" "[!]")" "[!] lines"
    capture "$C" --send "plain after TLS" 127.0.0.1 "$port"
    assert_capture 0 "a normal client after the TLS one"
    assert_eq "tcp-server over TCP is working" "$CAP_OUT" "reply"
}

# Junk at a DTLS listener: random datagrams, records whose length field
# lies, a ClientHello cut short, HTTP. No reply, no session, no thread or
# descriptor, at most a log line each. Junk inside a session (after a real
# cookie exchange) is dropped like a lost datagram: the handshake times out
# with its one "[!]" line.
cat >"$TEST_TMP/dtls_junk.py" <<'PY'
import os, random, socket, subprocess, sys, time
port = int(sys.argv[1])
addr = ("127.0.0.1", port)
grab = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
grab.bind(("127.0.0.1", 0))
grab.settimeout(10)
p = subprocess.Popen(["openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % grab.getsockname()[1]],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    ch, _ = grab.recvfrom(65535)
finally:
    p.kill()
    p.wait()
r = random.Random(2)
junk = {
    "random": [bytes(r.randrange(256) for _ in range(r.randrange(1, 1400))) for _ in range(20)],
    "length too long": [ch[:11] + (20000).to_bytes(2, "big") + ch[13:]],
    "length too short": [ch[:11] + (10).to_bytes(2, "big") + ch[13:]],
    "length zero": [ch[:11] + bytes(2)],
    "ClientHello cut short": [ch[:40]],
    "header only": [ch[:13]],
    "HTTP": [b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"],
}
for what, datagrams in junk.items():
    for d in datagrams:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        s.sendto(d, addr)
        try:
            reply = s.recv(65535)
            sys.exit("%s: the server answered %r" % (what, reply[:16]))
        except socket.timeout:
            pass
        s.close()
    print("%s: %d datagram(s), no reply" % (what, len(datagrams)), flush=True)
# A real cookie exchange, then junk into the session.
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
s.sendto(ch, addr)
hvr = s.recv(65535)
assert hvr[0] == 22 and hvr[13] == 3, "not a HelloVerifyRequest: %r" % hvr[:16]
cookie = hvr[28:28 + hvr[27]]
body = ch[25:]
at = 35 + body[34]
b = body[:at] + bytes([len(cookie)]) + cookie + body[at + 1:]
hs = bytes([1]) + len(b).to_bytes(3, "big") + (1).to_bytes(2, "big") + bytes(3) + len(b).to_bytes(3, "big")
s.sendto(ch[:5] + (1).to_bytes(6, "big") + (len(hs) + len(b)).to_bytes(2, "big") + hs + b, addr)
sh = s.recv(65535)
assert sh[0] == 22 and sh[13] == 2, "not a ServerHello: %r" % sh[:16]
for d in [os.urandom(300), b"\x16\xfe\xfd" + bytes(8) + (20000).to_bytes(2, "big") + os.urandom(60),
          b"\x17\xfe\xfd\x00\x01" + bytes(6) + (100).to_bytes(2, "big") + os.urandom(100)]:
    s.sendto(d, addr)
print("in-session junk sent to %d" % s.getsockname()[1], flush=True)
time.sleep(4)
PY

case_dtls_server() {
    local pid="" port="" log th0 fd0 jpid="" st=0 j
    # The in-session peer must still be held when its descriptor is
    # counted, which happens as soon as the sender says (flushed: a buffered
    # print reached the log only when the sender exited, 4 s later, and the
    # count then raced the handshake timeout in CI).
    start_server pid port "$US" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key" --handshake-timeout 5
    log="$(server_out "$pid")"
    sleep 0.3
    th0="$(proc_status "$pid" Threads)" fd0="$(proc_fd_count "$pid")"
    start_bg jpid timeout 60 python3 "$TEST_TMP/dtls_junk.py" "$port"
    wait_for_log "$(server_out "$jpid")" "in-session junk sent to" 30
    # Before the in-session peer times out: the 26 junk datagrams at the
    # listener cost at most a log line each (RFC 6347 4.1.2.7: dropped
    # silently is fine too).
    local junk_lines
    junk_lines="$(grep -cvF -e '[*] Listening on' -e '[*] Accepted connection from' "$log" || true)"
    ((junk_lines <= 26)) || fail "$junk_lines log lines for 26 junk datagrams: [$(cat "$log")]"
    _it_log "udp-server --dtls: $junk_lines log line(s) for 26 junk datagrams at the listener"
    assert_eq 1 "$(count_in "$log" "[*] Accepted connection from")" "sessions (only the one with a valid cookie)"
    assert_eq "$th0" "$(proc_status "$pid" Threads)" "udp-server threads after the junk"
    assert_eq "$((fd0 + 1))" "$(proc_fd_count "$pid")" "udp-server descriptors (the one session)"
    _it_log "udp-server --dtls: $(grep -v '^in-session' "$(server_out "$jpid")" | paste -sd';')"
    wait_for_count "$log" "[!]" 1 10
    assert_contains "$(grep -F '[!]' "$log")" "DTLS handshake timed out" "the session fed junk"
    for ((j = 0; j < 200; j++)); do kill -0 "$jpid" 2>/dev/null || break; sleep 0.05; done
    wait "$jpid" || st=$?
    assert_eq 0 "$st" "the junk sender ($(cat "$(server_err "$jpid")"))"
    alive "$pid" "udp-server --dtls"
    CAPTURE_TIMEOUT=20 capture "$UC" --dtls --cafile "$PKI/ca.crt" localhost "$port" "after the junk"
    assert_capture 0 "udp-client --dtls after the junk"
    assert_eq "udp-server is working" "$CAP_OUT" "reply after the junk"
    sleep 0.3
    assert_eq 1 "$(count_in "$log" "[!]")" "[!] lines in all"
}

# ---------------------------------------------------------------------------
# Clients against hostile servers.

# python3 evil_server.py tcp|udp MODE: answers its first peer with MODE;
# prints its port first.
cat >"$TEST_TMP/evil_server.py" <<'PY'
import os, random, socket, struct, sys, time
kind, mode = sys.argv[1], sys.argv[2]
r = random.Random(3)
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1], flush=True)
    s.settimeout(20)
    try:
        while True:
            d, a = s.recvfrom(65535)
            if mode == "random":
                s.sendto(bytes(r.randrange(256) for _ in range(200)), a)
            elif mode == "bad-length":
                s.sendto(b"\x16\xfe\xfd" + bytes(8) + (20000).to_bytes(2, "big") + os.urandom(60), a)
            elif mode == "alert":   # a fatal handshake_failure alert
                s.sendto(b"\x15\xfe\xfd" + bytes(8) + (2).to_bytes(2, "big") + b"\x02\x28", a)
    except socket.timeout:
        pass
    sys.exit(0)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(5)
print(s.getsockname()[1], flush=True)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(5)
try:
    c.recv(65536)
except OSError:
    pass
replies = {
    "random": bytes(r.randrange(256) for _ in range(3000)),
    "oversize": b"\x16\x03\x03" + (20000).to_bytes(2, "big") + os.urandom(100),
    "cut-record": b"\x16\x03\x03\x00\x80" + os.urandom(20),
    "plaintext": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "vanish": b"",
    "reset-mid-reply": b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000,
    "short-body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
    "huge-length": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nshort",
    "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\nshort",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nshort",
    "not-http": b"not an HTTP response at all\n",
}
c.sendall(replies[mode])
time.sleep(0.2)
if mode in ("vanish", "reset-mid-reply"):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
PY

# evil KIND MODE CLIENT-ARGS... : starts the evil server, runs the client
# against it (HOST PORT appended; for udp, MESSAGE after them), captured.
evil() {
    local kind="$1" mode="$2" epid="" port="" i
    shift 2
    start_bg epid timeout 30 python3 "$TEST_TMP/evil_server.py" "$kind" "$mode"
    for ((i = 0; i < 200; i++)); do
        port="$(head -n1 "$(server_out "$epid")")"
        [[ "$port" =~ ^[0-9]+$ ]] && break
        sleep 0.05
    done
    [[ "$port" =~ ^[0-9]+$ ]] || fail "the evil server printed no port"
    if [[ "$kind" == udp ]]; then
        CAPTURE_TIMEOUT=20 capture "$@" localhost "$port" "hello"
    else
        CAPTURE_TIMEOUT=20 capture "$@" localhost "$port"
    fi
    kill "$epid" 2>/dev/null || true
    _it_log "[${*##*/} vs $kind $mode]: exit $CAP_RC: ${CAP_ERR%$'\n'}"
}

case_tls_client() {
    local mode
    for mode in random oversize cut-record plaintext vanish; do
        evil tcp "$mode" "$C" --tls --cafile "$PKI/ca.crt" -t 5
        assert_capture 4 "tcp-client --tls against a server sending '$mode'"
        one_line "$CAP_ERR" "tcp-client's stderr ($mode)"
        assert_eq "" "$CAP_OUT" "tcp-client's stdout ($mode)"
    done
}

case_http_client() {
    local mode want
    for mode in reset-mid-reply short-body huge-length bad-chunk two-lengths; do
        case "$mode" in
        reset-mid-reply) want="reset" ;;
        short-body) want="cut short" ;;
        huge-length) want="Content-Length" ;;
        bad-chunk) want="zzzz" ;;
        two-lengths) want="Content-Length" ;;
        esac
        evil tcp "$mode" "$C" --body-only -t 5
        assert_capture 1 "tcp-client --body-only against '$mode'"
        one_line "$CAP_ERR" "tcp-client's stderr ($mode)"
        assert_contains "$CAP_ERR" "$want" "tcp-client's error ($mode)"
    done
    # Not HTTP at all: written once as it came, or refused — never twice.
    evil tcp not-http "$C" --body-only -t 5
    if [[ "$CAP_RC" == 0 ]]; then
        assert_eq "not an HTTP response at all"$'\n' "$CAP_OUT" "tcp-client --body-only's output for a reply that is not HTTP"
    else
        assert_capture 1 "tcp-client --body-only against a reply that is not HTTP"
        one_line "$CAP_ERR" "tcp-client's stderr (not-http)"
    fi
}

case_dtls_client() {
    local mode
    for mode in random bad-length; do
        evil udp "$mode" "$UC" --dtls --cafile "$PKI/ca.crt" -t 1 --retries 1
        assert_capture 5 "udp-client --dtls against a server sending '$mode' (dropped as noise: a timeout)"
        one_line "$CAP_ERR" "udp-client's stderr ($mode)"
        assert_contains "$CAP_ERR" "timed out" "udp-client's error ($mode)"
    done
    evil udp alert "$UC" --dtls --cafile "$PKI/ca.crt" -t 1 --retries 1
    assert_capture 4 "udp-client --dtls against a fatal alert"
    one_line "$CAP_ERR" "udp-client's stderr (alert)"
    assert_contains "$CAP_ERR" "handshake failure" "udp-client's error (alert)"
}

# ---------------------------------------------------------------------------
# Absurd arguments: exit 2, one stderr line naming the culprit, no
# connection. The clients aim at recording listeners (TCP and UDP).

cat >"$TEST_TMP/recorder.py" <<'PY'
import os, selectors, socket, sys
out = sys.argv[1]
t = socket.socket()
t.bind(("127.0.0.1", 0))
t.listen(64)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", t.getsockname()[1]))
sel = selectors.DefaultSelector()
sel.register(t, selectors.EVENT_READ)
sel.register(u, selectors.EVENT_READ)
print(t.getsockname()[1], flush=True)
while True:
    for key, _ in sel.select():
        if key.fileobj is t:
            c, a = t.accept()
            c.close()
            line = "tcp connection from %s:%d\n" % a
        else:
            d, a = u.recvfrom(65535)
            line = "udp datagram from %s:%d\n" % a
        with open(out, "a") as f:
            f.write(line)
PY

RPORT=""
REC="$TEST_TMP/recorded"

# check CULPRIT PROGRAM ARGS... : bad_args in a subshell; a failure is
# counted in ARG_FAILURES (and shown), so every check runs.
ARG_FAILURES=0
check() {
    (bad_args "$@") || ARG_FAILURES=$((ARG_FAILURES + 1))
}
all_checked() {
    ((ARG_FAILURES == 0)) || fail "$ARG_FAILURES argument check(s) failed (see above)"
}

# bad_args CULPRIT PROGRAM ARGS... : exit 2, one stderr line containing
# CULPRIT, nothing on stdout; servers print no Listening line.
bad_args() {
    local culprit="$1"
    shift
    local before
    before="$(wc -l <"$REC")"
    CAPTURE_TIMEOUT=10 capture "$@"
    if [[ "$CAP_RC" != 2 ]]; then
        fail "[${*#"$SECSOCK_BIN"/}]: exit $CAP_RC, expected 2 (usage error); stderr: [$CAP_ERR]"
    fi
    one_line "$CAP_ERR" "stderr of [${*#"$SECSOCK_BIN"/}]"
    assert_contains "$CAP_ERR" "$culprit" "the error of [${*#"$SECSOCK_BIN"/}] (the culprit)"
    assert_eq "" "$CAP_OUT" "stdout of [${*#"$SECSOCK_BIN"/}]"
    sleep 0.1
    [[ "$(wc -l <"$REC")" == "$before" ]] ||
        fail "[${*#"$SECSOCK_BIN"/}] exited 2 but reached the server first: $(tail -n1 "$REC")"
}

start_recorder() {
    local rpid="" i
    : >"$REC"
    start_bg rpid python3 "$TEST_TMP/recorder.py" "$REC"
    for ((i = 0; i < 100; i++)); do
        RPORT="$(head -n1 "$(server_out "$rpid")" 2>/dev/null || true)"
        [[ "$RPORT" =~ ^[0-9]+$ ]] && break
        sleep 0.05
    done
    [[ "$RPORT" =~ ^[0-9]+$ ]] || fail "the recorder printed no port"
    # It records: a real connection and a real datagram are seen.
    capture "$C" --send x -t 2 127.0.0.1 "$RPORT"
    capture "$UC" --no-reply 127.0.0.1 "$RPORT" x
    wait_for_count "$REC" "tcp connection from" 1 5
    wait_for_count "$REC" "udp datagram from" 1 5
}

MISSING="$TEST_TMP/no-such-dir/no-such-file.pem"
ADIR="$TEST_TMP" # a directory where a file should be

case_tcp_client_args() {
    start_recorder
    local h=127.0.0.1 p="$RPORT"
    check "70000" "$C" "$h" 70000
    check "'-1'" "$C" -t -1 "$h" "$p"
    check "'1e9'" "$C" -t 1e9 "$h" "$p"
    check "'abc'" "$C" -t abc "$h" "$p"
    check "empty HOST" "$C" "" "$p"
    check "$MISSING" "$C" --tls --cafile "$MISSING" "$h" "$p"
    check "$ADIR" "$C" --tls --cafile "$ADIR" "$h" "$p"
    check "$MISSING" "$C" --tls --cert "$MISSING" --key "$PKI/client.key" "$h" "$p"
    check "$MISSING" "$C" --tls --cert "$PKI/client.crt" --key "$MISSING" "$h" "$p"
    check "$PKI/server.key" "$C" --tls --cert "$PKI/client.crt" --key "$PKI/server.key" "$h" "$p"
    check "NO-SUCH-CIPHER" "$C" --tls --ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:NO-SUCH-CIPHER" "$h" "$p"
    check "TLS_NO_SUCH_SUITE" "$C" --tls --ciphersuites TLS_NO_SUCH_SUITE "$h" "$p"
    check "$ADIR" "$C" --tls --keylog "$ADIR" "$h" "$p"
    check "'1.0'" "$C" --tls --tls-min 1.0 "$h" "$p"
    check "sha256:zz" "$C" --tls --pin sha256:zz "$h" "$p"
    check "$MISSING" "$C" --send-file "$MISSING" "$h" "$p"
    check "$ADIR" "$C" --send-file "$ADIR" "$h" "$p"
    check "$MISSING" "$C" -o "$MISSING" "$h" "$p"
    check "$ADIR" "$C" -o "$ADIR" "$h" "$p"
    all_checked
}

case_udp_client_args() {
    start_recorder
    local h=127.0.0.1 p="$RPORT"
    check "70000" "$UC" "$h" 70000 hi
    check "'-1'" "$UC" -t -1 "$h" "$p" hi
    check "'1e9'" "$UC" -t 1e9 "$h" "$p" hi
    check "empty HOST" "$UC" "" "$p" hi
    check "'10'" "$UC" --mtu 10 "$h" "$p" hi
    check "'10'" "$UC" --dtls --mtu 10 "$h" "$p" hi
    check "$MISSING" "$UC" --dtls --cafile "$MISSING" "$h" "$p" hi
    check "$ADIR" "$UC" --dtls --cafile "$ADIR" "$h" "$p" hi
    check "$PKI/server.key" "$UC" --dtls --cert "$PKI/client.crt" --key "$PKI/server.key" "$h" "$p" hi
    check "$ADIR" "$UC" --dtls --cert "$PKI/client.crt" --key "$ADIR" "$h" "$p" hi
    check "NO-SUCH-CIPHER" "$UC" --dtls --ciphers NO-SUCH-CIPHER "$h" "$p" hi
    check "$ADIR" "$UC" --dtls --keylog "$ADIR" "$h" "$p" hi
    check "'-1'" "$UC" --retries -1 "$h" "$p" hi
    check "empty message" "$UC" "$h" "$p" ""
    check "empty message" "$UC" "$h" "$p" - # stdin is /dev/null
    all_checked
}

# Servers: the same, and no Listening line (nothing bound).
case_server_args() {
    start_recorder
    local prog
    for prog in "$S" "$US"; do
        local sec=--tls
        [[ "$prog" == "$US" ]] && sec=--dtls
        check "70000" "$prog" -p 70000
        check "'-1'" "$prog" -p 0 -t -1
        check "'1e9'" "$prog" -p 0 -t 1e9
        check "'0'" "$prog" -p 0 --max-clients 0
        check "'-1'" "$prog" -p 0 --handshake-timeout -1
        check "$MISSING" "$prog" -p 0 "$sec" --cert "$MISSING" --key "$PKI/server.key"
        check "$ADIR" "$prog" -p 0 "$sec" --cert "$PKI/server.crt" --key "$ADIR"
        check "$PKI/client.key" "$prog" -p 0 "$sec" --cert "$PKI/server.crt" --key "$PKI/client.key"
        check "NO-SUCH-CIPHER" "$prog" -p 0 "$sec" --cert "$PKI/server.crt" --key "$PKI/server.key" --ciphers NO-SUCH-CIPHER
        check "$MISSING" "$prog" -p 0 "$sec" --cert "$PKI/server.crt" --key "$PKI/server.key" --verify-client --cafile "$MISSING"
        check "$ADIR" "$prog" -p 0 "$sec" --self-signed --keylog "$ADIR"
    done
    check "'1e9'" "$S" -p 0 --grace 1e9
    check "'-1'" "$S" -p 0 --grace -1
    check "TLS_NO_SUCH_SUITE" "$S" -p 0 --tls --self-signed --ciphersuites TLS_NO_SUCH_SUITE
    check "'10'" "$US" -p 0 --dtls --self-signed --mtu 10
    all_checked
}

run_case "tcp-server --tls: random bytes, oversized, corrupted and cut records" case_tls_server
run_case "TLS to the plaintext port" case_tls_to_plain
run_case "udp-server --dtls: junk at the listener and inside a session" case_dtls_server
run_case "tcp-client --tls against hostile servers" case_tls_client
run_case "tcp-client against broken HTTP replies" case_http_client
run_case "udp-client --dtls against hostile servers" case_dtls_client
run_case "tcp-client: absurd arguments" case_tcp_client_args
run_case "udp-client: absurd arguments" case_udp_client_args
run_case "tcp-server and udp-server: absurd arguments" case_server_args
finish_cases
