#!/usr/bin/env bash
# tcp-server against bad clients: plaintext to the TLS port, garbage, a
# ClientHello cut in half, a client that says nothing, a reset in the middle
# of a reply. Each costs exactly one "[!]" log line; the server stays up and
# the next normal client gets its exact reply. A peer's escape sequences are
# escaped in the log; --max-clients makes extra clients wait, not fail.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
need "$C" "$S" openssl python3 timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"

# python3 -c "$BAD_CLIENT" MODE PORT [CAFILE]: one misbehaving client (TLS
# when CAFILE is given, for the modes that complete a handshake).
BAD_CLIENT='
import os, socket, ssl, struct, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
cafile = sys.argv[3] if len(sys.argv) > 3 else ""
s = socket.create_connection(("127.0.0.1", port), timeout=15)

def drain(sock):  # read until the server closes or resets
    data = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    return data

def tls(sock):
    if not cafile:
        return sock
    return ssl.create_default_context(cafile=cafile).wrap_socket(sock, server_hostname="localhost")

if mode == "plain-http":
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    drain(s)
elif mode == "garbage":
    s.sendall(bytes(range(256))[::-1] * 16)  # starts 0xff: no TLS record
    sys.stdout.buffer.write(drain(s))
elif mode == "partial-hello":
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    s.sendall(hello[: len(hello) // 2])
    time.sleep(0.2)
elif mode == "silent":
    drain(s)  # until the server gives up on us
elif mode == "reset-mid-reply":
    t = tls(s)
    t.sendall(os.urandom(65536))
    got = 0
    while got < 4096:  # the echo has started
        d = t.recv(4096)
        if not d:
            sys.exit("server closed before echoing")
        got += len(d)
    t.sendall(os.urandom(65536))
    s = t
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
elif mode == "escape":
    t = tls(s)
    t.sendall(b"\x1b[31mRED\x1b]0;title\x07")
    sys.stdout.buffer.write(drain(t))
    s = t
elif mode == "http-huge-head":
    t = tls(s)
    t.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000)
    sys.stdout.buffer.write(drain(t))
    s = t
elif mode == "http-cut-short":
    t = tls(s)
    t.sendall(b"GET / HTTP/1.1\r\nHost: loc")
    if cafile:
        t = t.unwrap()  # close_notify: the end of the stream, in the middle of the head
    else:
        t.shutdown(socket.SHUT_WR)
    sys.stdout.buffer.write(drain(t))
    s = t
elif mode == "http-trickle":  # a byte every 0.2 s: never idle, never done
    t = tls(s)
    start = time.monotonic()
    try:
        for b in b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200:
            t.sendall(bytes([b]))
            time.sleep(0.2)
    except OSError:
        pass  # the server gave up on us
    sys.stdout.buffer.write(drain(t))
    print("\n%.1f s" % (time.monotonic() - start), file=sys.stderr)
    s = t
elif mode == "slow":
    t = tls(s)
    time.sleep(1.5)
    t.sendall(b"slow client")
    sys.stdout.buffer.write(drain(t))
    s = t
s.close()
'


# still_serving MODE PID PORT [SEND [REPLY]]: the server is alive and a
# normal tcp-client gets its exact reply.
still_serving() {
    local mode="$1" pid="$2" port="$3" send="${4:-ping}" want="${5:-$(reply_of "$1")}"
    local -a cargs
    mapfile -t cargs < <(client_tls_args "$mode")
    alive "$pid" "tcp-server"
    capture "$C" "${cargs[@]}" --send "$send" localhost "$port"
    assert_capture 0 "normal tcp-client after a bad client"
    assert_eq "$want" "$CAP_OUT" "reply to the normal client"
    alive "$pid" "tcp-server"
}

# log_is_clean FILE...: nothing but printable ASCII and newlines.
log_is_clean() {
    python3 - "$@" <<'EOF' || fail "raw control or non-ASCII bytes in the server's log (see above)"
import sys
bad = False
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    for i, b in enumerate(data):
        if b != 0x0A and not 0x20 <= b <= 0x7E:
            print("%s: byte 0x%02x at offset %d: %r" % (name, b, i, data[max(0, i - 30):i + 30]), file=sys.stderr)
            bad = True
            break
sys.exit(1 if bad else 0)
EOF
}

# bad MODE PORT [CAFILE]: runs one bad client, bounded.
bad() {
    timeout -k 5 20 python3 -c "$BAD_CLIENT" "$@" >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err" ||
        fail "bad client '$1' itself failed (status $?): $(cat "$TEST_TMP/bad.err")"
}

# --http against bad request heads: 431 for one over 16 KiB, a "[!]" line
# for one cut short, 408 for one trickled a byte at a time (never idle for
# -t, but not complete within -t: it must not hold a worker for ever).
case_http_bad_heads() { # MODE
    local mode="$1" pid="" port="" log took
    local -a sargs ca=()
    mapfile -t sargs < <(server_tls_args "$mode")
    [[ "$mode" == tls ]] && ca=("$PKI/ca.crt")
    start_server pid port "$S" -p 0 "${sargs[@]}" --http -t 2
    log="$(server_out "$pid")"
    bad http-huge-head "$port" "${ca[@]}"
    assert_contains "$(head -n1 "$TEST_TMP/bad.out")" "HTTP/1.1 431 Request Header Fields Too Large" "answer to a 20 KB head"
    wait_for_count "$log" "[!]" 1
    assert_contains "$(grep -F '[!]' "$log")" "HTTP request head over 16 KiB" "log line"
    bad http-cut-short "$port" "${ca[@]}"
    wait_for_count "$log" "[!]" 2
    assert_contains "$(grep -F '[!]' "$log" | tail -n1)" "HTTP request cut short after 25 bytes" "log line"
    bad http-trickle "$port" "${ca[@]}"
    assert_contains "$(head -n1 "$TEST_TMP/bad.out")" "HTTP/1.1 408 Request Timeout" "answer to a trickled head"
    took="$(tail -n1 "$TEST_TMP/bad.err")"
    if ! [[ "$took" =~ ^([0-9]+)\.[0-9]\ s$ ]] || ((BASH_REMATCH[1] < 1 || BASH_REMATCH[1] >= 8)); then
        fail "the trickling client was answered after [$took], not after about 2 s"
    fi
    wait_for_count "$log" "[!]" 3
    assert_contains "$(grep -F '[!]' "$log" | tail -n1)" "no complete HTTP request head within 2000 ms" "log line"
    assert_eq 0 "$(count_in "$log" "[*] Received:")" "requests served"
    local -a cargs
    mapfile -t cargs < <(client_tls_args "$mode")
    capture "$C" "${cargs[@]}" --body-only localhost "$port"
    assert_capture 0 "a normal GET after the bad heads"
    assert_eq "$(reply_of "$mode")"$'\n' "$CAP_OUT" "body of the normal GET"
    alive "$pid" "tcp-server --http"
    stop_process "$pid"
    assert_file_contains "$log" "[*] Stopped: 1 served, 0 failed handshakes, 3 failed"
}

case_tls_bad_clients() {
    local pid="" port="" log n=0 kind
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" --handshake-timeout 3
    log="$(server_out "$pid")"
    for kind in plain-http garbage partial-hello silent; do
        bad "$kind" "$port"
        n=$((n + 1))
        wait_for_count "$log" "[!]" "$n"
        still_serving tls "$pid" "$port" "ping after $kind"
        wait_for_log "$log" "[*] Received: ping after $kind"
    done
    assert_contains "$(grep -F '[!]' "$log" | tail -n1)" "timed out" "the silent client's log line"
    sleep 0.3 # nothing more is logged later
    assert_eq 4 "$(count_in "$log" "[!]")" "number of [!] lines for 4 bad clients"
    assert_eq 4 "$(count_in "$log" "[*] Received: ping after")" "normal clients served"
    log_is_clean "$log" "$(server_err "$pid")"
}

# The plaintext server: garbage is just a request (logged escaped); a client
# that sends nothing is dropped at the idle timeout.
case_plain_bad_clients() {
    local pid="" port="" log
    start_server pid port "$S" -p 0 -t 3
    log="$(server_out "$pid")"
    bad garbage "$port"
    assert_eq "$(reply_of plain)" "$(cat "$TEST_TMP/bad.out")" "reply to the garbage request"
    wait_for_log "$log" "[*] Received: \\xff\\xfe\\xfd"
    still_serving plain "$pid" "$port" "ping after garbage"
    bad silent "$port"
    wait_for_count "$log" "[!]" 1
    still_serving plain "$pid" "$port" "ping after silent"
    sleep 0.3
    assert_eq 1 "$(count_in "$log" "[!]")" "number of [!] lines"
    log_is_clean "$log" "$(server_err "$pid")"
}

case_reset_mid_reply() { # MODE
    local mode="$1" pid="" port="" log
    local -a sargs cafile=()
    mapfile -t sargs < <(server_tls_args "$mode")
    [[ "$mode" == tls ]] && cafile=("$PKI/ca.crt")
    start_server pid port "$S" -p 0 "${sargs[@]}" --echo
    log="$(server_out "$pid")"
    bad reset-mid-reply "$port" "${cafile[@]}"
    wait_for_count "$log" "[!]" 1
    still_serving "$mode" "$pid" "$port" "echo me" "echo me"
    bad reset-mid-reply "$port" "${cafile[@]}"
    wait_for_count "$log" "[!]" 2
    still_serving "$mode" "$pid" "$port" "echo me again" "echo me again"
    sleep 0.3
    assert_eq 2 "$(count_in "$log" "[!]")" "number of [!] lines for 2 resets"
}

case_escapes() { # MODE
    local mode="$1" pid="" port="" log
    local -a sargs cafile=()
    mapfile -t sargs < <(server_tls_args "$mode")
    [[ "$mode" == tls ]] && cafile=("$PKI/ca.crt")
    start_server pid port "$S" -p 0 "${sargs[@]}"
    log="$(server_out "$pid")"
    bad escape "$port" "${cafile[@]}"
    assert_eq "$(reply_of "$mode")" "$(cat "$TEST_TMP/bad.out")" "reply"
    wait_for_log "$log" "[*] Received: "
    grep -qxF -- '[*] Received: \x1b[31mRED\x1b]0;title\x07' "$log" ||
        fail "the escape sequence is not logged as [\\x1b[31mRED\\x1b]0;title\\x07]: [$(cat -A "$log")]"
    log_is_clean "$log" "$(server_err "$pid")"
}

# Only --max-clients at once: the third client waits, then is served.
case_max_clients() { # MODE
    local mode="$1" pid="" port="" log out
    local -a sargs cafile=()
    mapfile -t sargs < <(server_tls_args "$mode")
    [[ "$mode" == tls ]] && cafile=("$PKI/ca.crt")
    start_server pid port "$S" -p 0 "${sargs[@]}" --echo --max-clients 2
    log="$(server_out "$pid")"
    # Three clients each send a line and hold their connection for 2 s. With
    # two workers, the first two are echoed at once and the third only once
    # one of them has gone. Judged by order, not by latency: echoes 1 and 2
    # come before either client lets go, echo 3 after one has.
    out="$(timeout 30 python3 - "$port" "${cafile[@]}" <<'PY'
import socket, ssl, sys, threading, time
port = int(sys.argv[1])
ca = sys.argv[2] if len(sys.argv) > 2 else None
echoed, released, texts = {}, {}, {}

def client(i):
    time.sleep(0.3 * (i - 1))
    s = socket.create_connection(("127.0.0.1", port))
    if ca:
        s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="localhost")
    s.sendall(b"client %d\n" % i)
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        data += chunk
    echoed[i], texts[i] = time.monotonic(), data.decode().strip()
    time.sleep(2)
    released[i] = time.monotonic()
    if ca:
        s = s.unwrap()  # close_notify: a clean end for the echo server
    s.shutdown(socket.SHUT_WR)
    while s.recv(100):
        pass
    s.close()

threads = [threading.Thread(target=client, args=(i,)) for i in (1, 2, 3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
first_release = min(released[1], released[2])
for i in (1, 2, 3):
    when = "before" if echoed[i] < first_release else "after"
    print(i, when, texts[i])
PY
)" || fail "the three clients did not finish: [$out]"
    local i when echo
    while read -r i when echo; do
        assert_eq "client $i" "$echo" "echo to client $i"
        if ((i < 3)); then
            assert_eq before "$when" "client $i's echo, against the first release (a free worker was there)"
        else
            assert_eq after "$when" "client 3's echo, against the first release (more than 2 clients served at once?)"
        fi
    done <<<"$out"
    assert_eq 3 "$(printf '%s\n' "$out" | wc -l)" "clients that reported"
    assert_eq 0 "$(count_in "$log" "[!]")" "[!] lines"
    still_serving "$mode" "$pid" "$port" ping ping
}

# Clients stuck before or in the handshake do not hold up a normal one.
case_handshake_in_worker() {
    local pid="" port="" log i start
    local -a silent=()
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" --handshake-timeout 15
    log="$(server_out "$pid")"
    for i in 1 2 3; do
        start_bg "silent[$i]" timeout 40 python3 -c "$BAD_CLIENT" silent "$port"
    done
    wait_for_count "$log" "[*] Accepted connection from" 3
    start=$SECONDS
    still_serving tls "$pid" "$port"
    ((SECONDS - start < 10)) || fail "a normal client waited $((SECONDS - start))s behind 3 silent ones (dropped at 15 s)"
    assert_eq 0 "$(count_in "$log" "[!]")" "[!] lines before the handshake timeout"
    wait_for_count "$log" "[!]" 3 30
    for i in 1 2 3; do
        wait "${silent[i]}" || fail "silent client $i was not closed by the server"
    done
}

run_case "TLS server: plaintext, garbage, half a ClientHello, silent client" case_tls_bad_clients
run_case "plain server: garbage, silent client" case_plain_bad_clients
run_case "TLS handshakes do not block the accept loop" case_handshake_in_worker
for mode in plain tls; do
    run_case "--http: a head too big, cut short, trickled, $mode" case_http_bad_heads "$mode"
done
for mode in plain tls; do
    run_case "reset mid-reply, $mode" case_reset_mid_reply "$mode"
    run_case "escape sequences in the log, $mode" case_escapes "$mode"
    run_case "--max-clients 2 with 3 slow clients, $mode" case_max_clients "$mode"
done
finish_cases
