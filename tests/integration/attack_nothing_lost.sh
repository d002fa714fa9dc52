#!/usr/bin/env bash
# Nothing lost: 100 concurrent tcp-client --tls --send-file - each stream
# 10 MB of random data through tcp-server --tls --echo and get back exactly
# what they sent (SHA-256 of what went in and of what came out). Then the
# same load with SIGTERM in the middle (--grace 1): new connections are
# refused at once; every client either gets all its data back or exits with
# an error, never 0 with a short reply; the server exits 0 within the grace
# period and a few seconds, with its "[*] Stopped:" line. A client that
# resets mid-stream and one that stops reading (50 MB sent, nothing read)
# neither kill the server (SIGPIPE) nor stall the other clients.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
need "$C" "$S" openssl python3 timeout sha256sum tee head mkfifo ss
PKI="$TEST_TMP/pki"
make_pki "$PKI"
raise_fd_limit 2048

CLIENTS=100
SIZE=$((10 * 1000 * 1000))
LOAD_LIMIT=120 # seconds for the whole 100 x 10 MB load (10-15 s on a quiet machine)

# paced.py SIZE SECONDS: SIZE random bytes on stdout, spread evenly over at
# least SECONDS (a client whose data comes no faster than that).
cat >"$TEST_TMP/paced.py" <<'PY'
import os, sys, time
size, seconds = int(sys.argv[1]), float(sys.argv[2])
out, sent, t0 = sys.stdout.buffer, 0, time.monotonic()
while sent < size:
    n = min(1 << 16, size - sent)
    out.write(os.urandom(n))
    out.flush()
    sent += n
    time.sleep(max(0.0, t0 + seconds * sent / size - time.monotonic()))
PY

# stream.sh CLIENT CA PORT SIZE BASE MODE GO PACE: one client streaming SIZE
# random bytes through the echo server, as fast as it can (PACE 0) or spread
# over at least PACE seconds. Writes BASE.in (SHA-256 of all it was given),
# BASE.out (SHA-256 of what came back), BASE.n (bytes that came back),
# BASE.err (tcp-client's stderr) and, last, BASE.rc (tcp-client's exit
# status). tee -p: tcp-client dying does not cut what is hashed as sent short.
cat >"$TEST_TMP/stream.sh" <<'EOF'
set -u
client="$1" ca="$2" port="$3" size="$4" base="$5" mode="$6" go="$7" pace="$8"
source_data() {
    if [[ "$pace" == 0 ]]; then
        head -c "$size" /dev/urandom
    else
        python3 "${BASH_SOURCE[0]%/*}/paced.py" "$size" "$pace"
    fi
}
for ((i = 0; i < 600; i++)); do # all start together, at the go file
    [[ -e "$go" ]] && break
    sleep 0.05
done
mkfifo "$base.fin" "$base.fout"
sha256sum <"$base.fin" >"$base.in" &
a=$!
wc -c <"$base.fout" >"$base.n" &
b=$!
args=(--send-file -)
[[ "$mode" == tls ]] && args+=(--tls --cafile "$ca")
source_data | tee -p "$base.fin" |
    "$client" "${args[@]}" localhost "$port" 2>"$base.err" |
    tee -p "$base.fout" | sha256sum >"$base.out"
st=("${PIPESTATUS[@]}")
wait "$a" "$b"
rm -f "$base.fin" "$base.fout"
echo "${st[2]}" >"$base.rc.tmp"
mv "$base.rc.tmp" "$base.rc"
EOF

# start_streams DIR PORT N SIZE MODE [SLOW]: N clients (stream.sh), their
# files under DIR/1.. DIR/N; they start together at go_streams DIR. The
# last SLOW of them (none by default) spread their data over at least 8 s.
start_streams() {
    local dir="$1" port="$2" n="$3" size="$4" mode="$5" slow="${6:-0}" i p="" pace
    mkdir -p "$dir"
    for ((i = 1; i <= n; i++)); do
        pace=0
        ((i > n - slow)) && pace=8
        start_bg p bash "$TEST_TMP/stream.sh" "$C" "$PKI/ca.crt" "$port" "$size" "$dir/$i" "$mode" "$dir/go" "$pace"
    done
}
go_streams() { touch "$1/go"; }

# wait_streams DIR N SECONDS: until all N have written their .rc.
wait_streams() {
    local dir="$1" n="$2" limit="$3" i j done_n=0
    for ((j = 0; j < limit * 10; j++)); do
        done_n=0
        for ((i = 1; i <= n; i++)); do [[ -e "$dir/$i.rc" ]] && done_n=$((done_n + 1)); done
        ((done_n == n)) && return 0
        sleep 0.1
    done
    fail "only $done_n of $n clients finished within ${limit}s"
}

sha_of() { cut -d' ' -f1 "$1"; }

# judge_streams DIR N SIZE: prints "OK CUT": how many got exactly their data
# back (exit 0) and how many exited with an error. Fails if one exited 0
# without its exact data, or failed without a word on stderr.
judge_streams() {
    local dir="$1" n="$2" size="$3" i rc ok=0 cut=0
    for ((i = 1; i <= n; i++)); do
        rc="$(cat "$dir/$i.rc")"
        if [[ "$rc" == 0 ]]; then
            [[ "$(sha_of "$dir/$i.in")" == "$(sha_of "$dir/$i.out")" && "$(cat "$dir/$i.n")" == "$size" ]] ||
                fail "client $i exited 0 but got $(cat "$dir/$i.n") of $size bytes back, SHA-256 $(sha_of "$dir/$i.out") for $(sha_of "$dir/$i.in") sent; stderr: [$(cat "$dir/$i.err")]"
            ok=$((ok + 1))
        else
            [[ -s "$dir/$i.err" ]] || fail "client $i exited $rc without an error message"
            cut=$((cut + 1))
        fi
    done
    printf '%s %s\n' "$ok" "$cut"
}

start_tls_echo() { # VAR_PID VAR_PORT [ARGS...]
    local -n _te_pid="$1" _te_port="$2"
    shift 2
    start_server _te_pid _te_port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" --echo "$@"
}


case_full_load() {
    local pid="" port="" log t0 res ok cut LOAD_MS
    start_tls_echo pid port
    log="$(server_out "$pid")"
    start_streams "$TEST_TMP/full" "$port" "$CLIENTS" "$SIZE" tls
    t0="$(now_ms)"
    go_streams "$TEST_TMP/full"
    wait_streams "$TEST_TMP/full" "$CLIENTS" "$LOAD_LIMIT"
    LOAD_MS=$(($(now_ms) - t0))
    _it_log "$CLIENTS clients x $SIZE bytes echoed over TLS in $LOAD_MS ms"
    res="$(judge_streams "$TEST_TMP/full" "$CLIENTS" "$SIZE")"
    read -r ok cut <<<"$res"
    assert_eq "$CLIENTS" "$ok" "clients that got exactly their $SIZE bytes back (the others: $cut)"
    wait_for_count "$log" ": echoed $SIZE bytes" "$CLIENTS"
    assert_eq 0 "$(count_in "$log" "[!]")" "[!] lines"
    alive "$pid" "tcp-server"
}

case_sigterm_mid_load() {
    local pid="" port="" log t0 res ok cut st=0 i stopped rc
    # 1 s of grace, and half the clients spread their data over 8 s: at the
    # signal (40% of all data in) they have seconds to go however fast the
    # machine, so some are still in flight when the grace ends. (Without
    # them, a fast run finished the rest of the load within the grace.)
    start_tls_echo pid port --grace 1
    log="$(server_out "$pid")"
    start_streams "$TEST_TMP/term" "$port" "$CLIENTS" "$SIZE" tls $((CLIENTS / 2))
    go_streams "$TEST_TMP/term"
    # Every client accepted first: one still in the listener's backlog when
    # it closes would be reset without the server ever counting it.
    wait_for_count "$log" "[*] Accepted connection from" "$CLIENTS" 60
    # In the middle of the load: once the server has received 40% of all
    # the data (the kernel's byte counts of its open connections, and the
    # clients done already).
    local want=$((CLIENTS * SIZE * 4 / 10)) got=0 open_bytes
    for ((i = 0; i < 600; i++)); do
        open_bytes="$(ss -Htin state established "( sport = :$port )" |
            awk '{for (i = 1; i <= NF; i++) if ($i ~ /^bytes_received:/) {sub(/.*:/, "", $i); n += $i}} END {printf "%.0f\n", n}')"
        got=$((open_bytes + $(count_in "$log" ": echoed $SIZE bytes") * SIZE))
        ((got >= want)) && break
        sleep 0.1
    done
    ((got >= want)) || fail "the server received only $got bytes in 60 s"
    local done_before=0
    for ((i = 1; i <= CLIENTS; i++)); do [[ -e "$TEST_TMP/term/$i.rc" ]] && done_before=$((done_before + 1)); done
    t0="$(now_ms)"
    kill -TERM "$pid"
    wait_for_log "$log" "[*] Stopping: waiting up to 1000 ms for" 5
    # No new connection from now on.
    python3 - "$port" <<'PY' || fail "a new connection was not refused after SIGTERM"
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit("connected (or timed out) after SIGTERM")
PY
    capture "$C" --tls --cafile "$PKI/ca.crt" --send "too late" localhost "$port"
    assert_capture 3 "a new tcp-client after SIGTERM"
    assert_contains "$CAP_ERR" "Connection refused" "the late client's error"
    # The server exits 0 within the grace period and a few seconds.
    for ((i = 0; i < 160; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && fail "tcp-server still running $(($(now_ms) - t0)) ms after SIGTERM with --grace 1"
    wait "$pid" || st=$?
    _it_log "tcp-server had exited $(($(now_ms) - t0)) ms after SIGTERM (--grace 1; looked for after the late-client checks), status $st"
    assert_eq 0 "$st" "tcp-server's exit status after SIGTERM"
    stopped="$(grep -F '[*] Stopped:' "$log")" || fail "no [*] Stopped: line: [$(cat "$log")]"
    _it_log "$stopped"
    wait_streams "$TEST_TMP/term" "$CLIENTS" 20
    res="$(judge_streams "$TEST_TMP/term" "$CLIENTS" "$SIZE")"
    read -r ok cut <<<"$res"
    _it_log "SIGTERM once the server had received $got bytes: $done_before clients had finished before it; $ok got all their data, $cut were cut off with an error"
    ((cut > 0)) || fail "no client was cut off: the signal came too late to test anything"
    [[ "$stopped" =~ Stopped:\ ([0-9]+)\ served,\ ([0-9]+)\ failed\ handshakes,\ ([0-9]+)\ failed ]] ||
        fail "cannot read [$stopped]"
    assert_eq "$ok" "${BASH_REMATCH[1]}" "clients served according to the server (vs clients that got their data)"
    assert_eq "$CLIENTS" "$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3]))" \
        "served + failed in the Stopped line"
    _it_log "the cut-off clients said: $(for ((i = 1; i <= CLIENTS; i++)); do
        [[ "$(cat "$TEST_TMP/term/$i.rc")" == 0 ]] || sed -E 's/[0-9]+(\.[0-9]+){3}:[0-9]+/ADDR/g' "$TEST_TMP/term/$i.err"
    done | sort | uniq -c | paste -sd';')"
    for ((i = 1; i <= CLIENTS; i++)); do
        rc="$(cat "$TEST_TMP/term/$i.rc")"
        [[ "$rc" == 0 || "$rc" == 1 ]] || fail "client $i cut off: exit $rc (expected 1, an i/o error); stderr: [$(cat "$TEST_TMP/term/$i.err")]"
    done
}

# python3 bad_peer.py MODE PORT TLS CAFILE READY HOLD
#   reset    stream 5 MB while reading, then reset the connection mid-stream
#   noread   send up to 50 MB, read nothing; hold the connection until the
#            file HOLD exists, then close (a reset: our receive queue is full)
# Writes a line to READY once it is in place.
cat >"$TEST_TMP/bad_peer.py" <<'PY'
import os, socket, ssl, struct, sys, time
mode, port, use_tls, cafile, ready, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "tls", sys.argv[4], sys.argv[5], sys.argv[6]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
if use_tls:
    s = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname="localhost")
chunk = os.urandom(65536)
if mode == "reset":
    sent = got = 0
    s.settimeout(0.05)
    while sent < 5 * 1000 * 1000:
        try:
            sent += s.send(chunk)
        except (socket.timeout, ssl.SSLWantWriteError, BlockingIOError):
            pass
        try:
            got += len(s.recv(65536))
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    open(ready, "w").write("reset after sending %d bytes, %d echoed\n" % (sent, got))
elif mode == "noread":
    s.settimeout(1.0)
    sent = 0
    try:
        while sent < 50 * 1000 * 1000:
            sent += s.send(chunk)
    except (socket.timeout, ssl.SSLError, OSError):
        pass
    open(ready, "w").write("stuck after sending %d bytes\n" % sent)
    deadline = time.monotonic() + 60
    while not os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
    s.close()
PY

case_reset_and_noread() { # MODE
    local mode="$1" pid="" port="" log rpid="" npid="" t0 took res ok cut st=0
    local -a sargs=("$S" -p 0 --echo)
    [[ "$mode" == tls ]] && sargs+=(--tls --cert "$PKI/server.crt" --key "$PKI/server.key")
    start_server pid port "${sargs[@]}"
    log="$(server_out "$pid")"
    start_bg npid timeout 90 python3 "$TEST_TMP/bad_peer.py" noread "$port" "$mode" "$PKI/ca.crt" "$TEST_TMP/noread.ready" "$TEST_TMP/noread.release"
    start_bg rpid timeout 60 python3 "$TEST_TMP/bad_peer.py" reset "$port" "$mode" "$PKI/ca.crt" "$TEST_TMP/reset.ready" ""
    wait_for_log "$TEST_TMP/noread.ready" "stuck after sending" 30
    wait_for_log "$TEST_TMP/reset.ready" "reset after sending" 30
    _it_log "$mode: $(cat "$TEST_TMP/noread.ready" "$TEST_TMP/reset.ready" | paste -sd';')"
    wait "$rpid" || fail "the resetting client failed: $(cat "$(server_err "$rpid")")"
    wait_for_count "$log" "[!]" 1 10 # the reset, and nothing else yet
    alive "$pid" "tcp-server after a reset mid-stream"
    # The others are not stalled: 10 clients, 1 MB each, all echoed at once.
    start_streams "$TEST_TMP/others-$mode" "$port" 10 1000000 "$mode"
    t0="$(now_ms)"
    go_streams "$TEST_TMP/others-$mode"
    wait_streams "$TEST_TMP/others-$mode" 10 30
    took=$(($(now_ms) - t0))
    res="$(judge_streams "$TEST_TMP/others-$mode" 10 1000000)"
    read -r ok cut <<<"$res"
    assert_eq 10 "$ok" "clients echoed while one client does not read ($cut failed)"
    _it_log "$mode: 10 clients x 1 MB echoed in $took ms while a client is stuck not reading"
    ((took < 15000)) || fail "10 x 1 MB took $took ms beside a client that does not read"
    alive "$pid" "tcp-server beside a client that does not read"
    # It goes (a reset, its receive queue full): one more [!] line, no SIGPIPE.
    touch "$TEST_TMP/noread.release"
    wait "$npid" || fail "the non-reading client failed: $(cat "$(server_err "$npid")")"
    wait_for_count "$log" "[!]" 2 10
    sleep 0.3
    alive "$pid" "tcp-server after the non-reading client went"
    if [[ "$mode" == tls ]]; then
        capture "$C" --tls --cafile "$PKI/ca.crt" --send "still here" localhost "$port"
    else
        capture "$C" --send "still here" localhost "$port"
    fi
    assert_capture 0 "a client after the bad ones"
    assert_eq "still here" "$CAP_OUT" "echo after the bad ones"
    stop_process "$pid" || st=$?
    assert_eq 0 "$st" "tcp-server exit status"
    rm -f "$TEST_TMP/noread.ready" "$TEST_TMP/reset.ready" "$TEST_TMP/noread.release"
}

run_case "$CLIENTS clients x 10 MB through tcp-server --tls --echo" case_full_load
run_case "SIGTERM in the middle of the load (--grace 1)" case_sigterm_mid_load
run_case "reset mid-stream and a client that stops reading, tls" case_reset_and_noread tls
run_case "reset mid-stream and a client that stops reading, plain" case_reset_and_noread plain
finish_cases
