#!/usr/bin/env bash
# Slowloris and handshake floods against the servers' default settings (short
# timeouts only, to keep the test short). 1,000 connections sit idle before or
# inside the handshake — plain TCP: connected and silent; TLS: silent or half
# a ClientHello; DTLS: a real cookie exchange, then silence — from one python3
# process, while a legitimate client gets its exact reply within a second;
# the idle ones are closed at --handshake-timeout (plain: -t), each with one
# "[!]" line; the server's thread count does not grow with them and its RSS
# growth is bounded (the numbers are printed). --max-clients 4 with 20
# clients at once serves them all. 2,000 cookieless DTLS ClientHellos from as
# many source ports cost no thread, descriptor or memory and get only
# HelloVerifyRequests.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
UC="$SECSOCK_BIN/udp-client"
US="$SECSOCK_BIN/udp-server"
need "$C" "$S" "$UC" "$US" openssl python3 timeout
[[ -z "$(sanitizer_of "$S")" ]] || _it_log "built with the $(sanitizer_of "$S") sanitizer: RSS is measured but not bounded"
PKI="$TEST_TMP/pki"
make_pki "$PKI"
raise_fd_limit 4200 # 2,000 sockets in the flood, 1,000 in the horde, the server's

IDLE=1000          # connections in the horde
HS_TIMEOUT=8       # --handshake-timeout (plain TCP: -t) for the horde cases: room
                   # to open 1000 and serve 5 legitimate clients on a loaded machine
SLACK_MS=4000      # a horde connection is closed by HS_TIMEOUT + this
RSS_MAX_KB=$((64 * 1024))
# Under ASan or TSan, memory is shadowed and freed blocks are quarantined:
# the RSS numbers are printed but not bounded there.
SANITIZER="$(sanitizer_of "$S")"

# rss_bounded KB : the growth is within bounds (or we cannot tell).
rss_bounded() { [[ -n "$SANITIZER" ]] || (($1 < RSS_MAX_KB)); }

# dtls_hello.py, shared by the DTLS horde and the flood: a real first DTLS
# ClientHello (no cookie) from openssl s_client, the second one built from it
# with a cookie, and the cookie of a HelloVerifyRequest.
cat >"$TEST_TMP/dtls_hello.py" <<'PY'
import socket, subprocess

def dtls_client_hello():
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
        grab.close()
    assert ch[0] == 22 and ch[13] == 1, "not a DTLS ClientHello: %r" % ch[:16]
    return ch

def with_cookie(ch, cookie):
    """The second ClientHello: the first one with COOKIE, message_seq 1, record seq 1."""
    body = ch[25:]
    cookie_at = 35 + body[34]          # version, random, session id
    assert body[cookie_at] == 0, "the first ClientHello already has a cookie"
    b = body[:cookie_at] + bytes([len(cookie)]) + cookie + body[cookie_at + 1:]
    hs = bytes([1]) + len(b).to_bytes(3, "big") + (1).to_bytes(2, "big") + bytes(3) + len(b).to_bytes(3, "big")
    rec = ch[:3] + ch[3:5] + (1).to_bytes(6, "big") + (len(hs) + len(b)).to_bytes(2, "big")
    return rec + hs + b

def hvr_cookie(reply):
    """The cookie of a HelloVerifyRequest, or None if REPLY is not one."""
    if len(reply) < 28 or reply[0] != 22 or reply[13] != 3:
        return None
    n = reply[27]
    return reply[28:28 + n]
PY

# python3 horde.py MODE PORT COUNT HOLD: COUNT connections from one process.
#   silent      TCP, connect and say nothing
#   tls-mixed   TLS port: even ones silent, odd ones half a ClientHello
#   dtls        a full cookie exchange (each gets a ServerHello), then silence
# Prints "opened N in S s" once all are in, then waits up to HOLD seconds for
# the server to close them (TCP: EOF or reset), and prints
# "closed K of N after MIN-MAX s" (seconds from each one's connect).
cat >"$TEST_TMP/horde.py" <<'PY'
import os, selectors, socket, ssl, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dtls_hello import dtls_client_hello, with_cookie, hvr_cookie

mode, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
addr = ("127.0.0.1", port)
t_start = time.monotonic()
opened = {}     # socket -> when it connected

def half_hello():
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    return hello[: len(hello) // 2]

if mode in ("silent", "tls-mixed"):
    half = half_hello()
    for i in range(count):
        if i % 50 == 49:
            time.sleep(0.02)   # a pause, so the listen backlog (128) never overflows
        s = socket.create_connection(addr, timeout=10)
        opened[s] = time.monotonic()
        if mode == "tls-mixed" and i % 2:
            s.sendall(half)
elif mode == "dtls":
    ch = dtls_client_hello()
    socks = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    # In waves, so the listener's receive buffer never overflows: a
    # ClientHello, the HelloVerifyRequest, the ClientHello with its cookie,
    # then the server's ServerHello (resent if it does not come).
    for w in range(0, count, 100):
        wave = socks[w:w + 100]
        state = {s: ["hello", 0.0, None] for s in wave}
        deadline = time.monotonic() + 20
        sel = selectors.DefaultSelector()
        for s in wave:
            sel.register(s, selectors.EVENT_READ)
        while any(v[0] != "done" for v in state.values()):
            now = time.monotonic()
            if now > deadline:
                sys.exit("DTLS peers stuck in the cookie exchange: %d" % sum(v[0] != "done" for v in state.values()))
            for s, v in state.items():
                if v[0] != "done" and now - v[1] > 0.5:       # (re)send
                    s.sendto(ch if v[0] == "hello" else with_cookie(ch, v[2]), addr)
                    v[1] = now
            for key, _ in sel.select(0.05):
                s = key.fileobj
                try:
                    d, peer = s.recvfrom(65535)
                except BlockingIOError:
                    continue
                v = state[s]
                if v[0] == "hello":
                    cookie = hvr_cookie(d)
                    if cookie is None:
                        sys.exit("expected a HelloVerifyRequest, got %r" % d[:16])
                    v[0], v[1], v[2] = "cookie", 0.0, cookie
                elif v[0] == "cookie" and d[0] == 22 and d[13] == 2:   # ServerHello
                    v[0] = "done"
                    opened[s] = time.monotonic()
        sel.close()
else:
    sys.exit("unknown mode " + mode)

print("opened %d in %.2f s" % (len(opened), time.monotonic() - t_start), flush=True)

# Wait for the server to close them (TCP), or just hold them (DTLS: the
# server's end is seen in its log, not here).
closed = {}
sel = selectors.DefaultSelector()
for s in opened:
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
end = time.monotonic() + hold
while time.monotonic() < end and (mode == "dtls" or len(closed) < len(opened)):
    for key, _ in sel.select(0.1):
        s = key.fileobj
        try:
            d = s.recv(65535)
        except BlockingIOError:
            continue
        except OSError:
            d = b""
        if not d and mode != "dtls":
            closed[s] = time.monotonic() - opened[s]
            sel.unregister(s)
if mode != "dtls":
    t = sorted(closed.values()) or [0.0]
    print("closed %d of %d after %.2f-%.2f s" % (len(closed), len(opened), t[0], t[-1]), flush=True)
for s in opened:
    s.close()
PY

# status_line PID : threads, descriptors and memory of PID, for the log.
status_line() {
    printf 'threads %s, fds %s, VmRSS %s kB, VmHWM %s kB' "$(proc_status "$1" Threads)" \
        "$(proc_fd_count "$1")" "$(proc_status "$1" VmRSS)" "$(proc_status "$1" VmHWM)"
}

# legit KIND PORT MESSAGE : one legitimate client of the KIND server, timed
# (LEGIT_MS); it must exit 0 with the exact reply.
LEGIT_MS=0
legit() {
    local kind="$1" port="$2" msg="$3" want t0
    local -a cmd
    case "$kind" in
    plain) cmd=("$C" --send "$msg" 127.0.0.1 "$port") want="tcp-server over TCP is working" ;;
    tls) cmd=("$C" --tls --cafile "$PKI/ca.crt" --send "$msg" localhost "$port") want="tcp-server over TLS is working" ;;
    dtls) cmd=("$UC" --dtls --cafile "$PKI/ca.crt" localhost "$port" "$msg") want="udp-server is working" ;;
    esac
    t0="$(now_ms)"
    CAPTURE_TIMEOUT=20 capture "${cmd[@]}"
    LEGIT_MS=$(($(now_ms) - t0))
    assert_capture 0 "legitimate $kind client [$msg]"
    assert_eq "$want" "$CAP_OUT" "reply to the legitimate $kind client [$msg]"
}

# case_horde KIND: KIND is plain, tls or dtls.
case_horde() {
    local kind="$1" pid="" port="" log hpid="" mode want_log i worst=0 t_open took
    local th0 th1 th2 fd0 fd1 fd2 rss0 rss2 hwm
    local -a sargs
    case "$kind" in
    plain)
        sargs=("$S" -p 0 -t "$HS_TIMEOUT")
        mode=silent want_log="timeout: no data from the peer for $((HS_TIMEOUT * 1000)) ms" ;;
    tls)
        sargs=("$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" --handshake-timeout "$HS_TIMEOUT")
        mode=tls-mixed want_log="TLS handshake timed out after $((HS_TIMEOUT * 1000)) ms" ;;
    dtls)
        sargs=("$US" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key" --handshake-timeout "$HS_TIMEOUT")
        mode=dtls want_log="DTLS handshake timed out after $((HS_TIMEOUT * 1000)) ms" ;;
    esac
    start_server pid port "${sargs[@]}"
    log="$(server_out "$pid")"
    sleep 0.3
    th0="$(proc_status "$pid" Threads)" fd0="$(proc_fd_count "$pid")" rss0="$(proc_status "$pid" VmRSS)"
    _it_log "$kind, before: $(status_line "$pid")"

    t_open="$(now_ms)"
    start_bg hpid timeout 60 python3 "$TEST_TMP/horde.py" "$mode" "$port" "$IDLE" $((HS_TIMEOUT + 10))
    wait_for_log "$(server_out "$hpid")" "opened $IDLE in" 30
    _it_log "$kind: horde $(cat "$(server_out "$hpid")")"
    wait_for_count "$log" "[*] Accepted connection from" "$IDLE" 10
    assert_eq 0 "$(count_in "$log" "[!]")" "[!] lines before the idle connections' timeout (the horde took $(($(now_ms) - t_open)) ms to open)"
    th1="$(proc_status "$pid" Threads)" fd1="$(proc_fd_count "$pid")"
    _it_log "$kind, $IDLE idle: $(status_line "$pid")"
    assert_eq "$th0" "$th1" "server threads with $IDLE idle connections (vs before)"
    ((fd1 >= fd0 + IDLE)) || fail "the server holds $fd1 descriptors with $IDLE idle connections (before: $fd0)"

    # Legitimate clients while the horde sits: each gets its exact reply
    # at once (3 s allows for a loaded machine; waiting behind the horde
    # would take HS_TIMEOUT).
    for i in 1 2 3 4 5; do
        legit "$kind" "$port" "legit $i"
        ((LEGIT_MS > worst)) && worst="$LEGIT_MS"
        ((LEGIT_MS < 3000)) || fail "legit client $i took $LEGIT_MS ms among $IDLE idle $kind connections"
    done
    _it_log "$kind: legitimate clients served in at most $worst ms among $IDLE idle connections"
    worst=0
    wait_for_log "$log" ": legit 5"
    # Nothing failed but the horde's own timeouts, which a loaded machine
    # may reach before the fifth legitimate client is through.
    assert_eq 0 "$(grep -F '[!]' "$log" | grep -cvF -- "$want_log" || true)" \
        "[!] lines other than the horde's timeouts while the legit clients were served"
    th2="$(proc_status "$pid" Threads)"
    ((th2 <= th0 + 5)) || fail "server threads: $th0 before, $th2 after 5 legit clients among $IDLE idle ones"

    # The horde is closed at the timeout, each with one log line; while the
    # server is dropping them, legitimate clients are still served at once.
    # The bound is 3 s, not 1: in that second the machine also carries the
    # horde taking 1000 resets and a log growing by 1000 lines, and on a
    # loaded 2-core CI machine one client once took 1.5 s (8-15 ms when the
    # machine is quiet). A server that stalled while dropping (a blocking
    # close per client) would take minutes.
    wait_for_log "$log" "$want_log" $((HS_TIMEOUT + 5))
    for i in 1 2 3; do
        legit "$kind" "$port" "while dropping $i"
        _it_log "$kind: a legitimate client served in $LEGIT_MS ms while the server drops the idle ones ($(count_in "$log" "$want_log") dropped so far)"
        ((LEGIT_MS < 3000)) || fail "a legitimate client took $LEGIT_MS ms while the server was dropping the idle $kind connections"
        ((LEGIT_MS > worst)) && worst="$LEGIT_MS"
    done
    wait_for_count "$log" "$want_log" "$IDLE" $((HS_TIMEOUT + SLACK_MS / 1000 + 2))
    took=$(($(now_ms) - t_open))
    _it_log "$kind: all $IDLE dropped by the server $took ms after the horde started"
    if [[ "$kind" != dtls ]]; then
        local st=0 j
        for ((j = 0; j < 400; j++)); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.05; done
        wait "$hpid" || st=$?
        assert_eq 0 "$st" "horde exit status ($(cat "$(server_err "$hpid")"))"
        local closed
        closed="$(grep '^closed ' "$(server_out "$hpid")")" || fail "the horde reported no closes"
        _it_log "$kind: $closed"
        [[ "$closed" =~ ^closed\ ([0-9]+)\ of\ ([0-9]+)\ after\ ([0-9.]+)-([0-9.]+)\ s ]] || fail "cannot read [$closed]"
        assert_eq "$IDLE" "${BASH_REMATCH[1]}" "idle connections closed by the server"
        python3 -c "import sys; lo, hi = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if lo >= $HS_TIMEOUT - 0.5 and hi <= $HS_TIMEOUT + $SLACK_MS / 1000 else 1)" \
            "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" ||
            fail "the idle connections were closed after ${BASH_REMATCH[3]}-${BASH_REMATCH[4]} s, not at ${HS_TIMEOUT} s (+$SLACK_MS ms)"
    fi
    sleep 0.5
    assert_eq "$IDLE" "$(count_in "$log" "[!]")" "[!] lines: one per idle connection"
    fd2="$(proc_fd_count "$pid")" rss2="$(proc_status "$pid" VmRSS)" hwm="$(proc_status "$pid" VmHWM)"
    _it_log "$kind, after: $(status_line "$pid")"
    assert_eq "$fd0" "$fd2" "server descriptors before and after the horde"
    rss_bounded $((hwm - rss0)) || fail "$kind: RSS grew from $rss0 kB to a peak of $hwm kB with $IDLE idle connections"
    _it_log "$kind: legitimate clients served in at most $worst ms while the idle ones were dropped"
    _it_log "$kind: RSS $rss0 kB before, peak $hwm kB (+$(((hwm - rss0) / 1024)) MiB), $rss2 kB after; threads $th0 -> $th1 (idle) -> $th2 (after 5 legit)"
    # Still serving.
    legit "$kind" "$port" "after the horde"
    alive "$pid" "the server"
    local sst=0
    stop_process "$pid" || sst=$?
    assert_eq 0 "$sst" "server exit status"
}

# --max-clients 4 and 20 TLS clients at once, each streaming for a second:
# all are served, never by more than 4 worker threads; nothing crashes.
case_max_clients() {
    local pid="" port="" log go="$TEST_TMP/go" i j st cp="" th0 most t0 took
    local -a cpids=()
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" --echo --max-clients 4
    log="$(server_out "$pid")"
    th0="$(proc_status "$pid" Threads)"
    for ((i = 1; i <= 20; i++)); do
        # shellcheck disable=SC2016 # expanded by the inner shell
        start_bg cp bash -c 'while [[ ! -e "$1" ]]; do sleep 0.01; done; { printf "client %s" "$2"; sleep 1; } |
            "$3" --tls --cafile "$4" --send-file - localhost "$5"' _ "$go" "$i" "$C" "$PKI/ca.crt" "$port"
        cpids[i]="$cp"
    done
    t0="$(now_ms)"
    touch "$go"
    most="$th0"
    for ((j = 0; j < 600; j++)); do
        local n=0 t
        for ((i = 1; i <= 20; i++)); do kill -0 "${cpids[i]}" 2>/dev/null && n=$((n + 1)); done
        t="$(proc_status "$pid" Threads)"
        ((t > most)) && most="$t"
        ((n == 0)) && break
        sleep 0.05
    done
    took=$(($(now_ms) - t0))
    for ((i = 1; i <= 20; i++)); do
        kill -0 "${cpids[i]}" 2>/dev/null && fail "client $i still running after 30 s"
        st=0
        wait "${cpids[i]}" || st=$?
        assert_eq 0 "$st" "exit status of client $i ($(cat "$(server_err "${cpids[i]}")"))"
        assert_eq "client $i" "$(cat "$(server_out "${cpids[i]}")")" "echo to client $i"
    done
    alive "$pid" "tcp-server --max-clients 4"
    _it_log "--max-clients 4: 20 clients holding 1 s each served in $took ms; threads $th0 -> at most $most"
    ((most <= th0 + 4)) || fail "threads went from $th0 to $most with --max-clients 4"
    wait_for_count "$log" ": echoed " 20
    assert_eq 0 "$(count_in "$log" "[!]")" "[!] lines"
}

# 2,000 cookieless ClientHellos, each from a new source port, in waves of
# 100 (one sent again if its answer does not come within a second): only HelloVerifyRequests come back, and the server's threads,
# descriptors and memory do not move.
cat >"$TEST_TMP/flood.py" <<'PY'
import os, selectors, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dtls_hello import dtls_client_hello, hvr_cookie
port, count, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
addr = ("127.0.0.1", port)
ch = dtls_client_hello()

def status():
    with open("/proc/%s/status" % pid) as f:
        st = dict(l.split(":", 1) for l in f)
    return int(st["Threads"]), len(os.listdir("/proc/%s/fd" % pid)), int(st["VmRSS"].split()[0])

most = [0, 0, 0]
least_rss = None
answered, lost, t0 = 0, 0, time.monotonic()
resent = 0
for w in range(0, count, 100):
    socks = []
    for _ in range(min(100, count - w)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        s.sendto(ch, addr)
        socks.append(s)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    waiting, deadline, resend = set(socks), time.monotonic() + 5, time.monotonic() + 1
    while waiting and time.monotonic() < deadline:
        if time.monotonic() > resend:   # lost in a full receive buffer: once more
            for s in waiting:
                s.sendto(ch, addr)
                resent += 1
            resend = deadline
        for key, _ in sel.select(0.1):
            s = key.fileobj
            d, peer = s.recvfrom(65535)
            if peer != addr or hvr_cookie(d) is None:
                sys.exit("not a HelloVerifyRequest from the server: %r from %r" % (d[:16], peer))
            if len(d) > len(ch):
                sys.exit("a HelloVerifyRequest of %d bytes for a ClientHello of %d" % (len(d), len(ch)))
            waiting.discard(s)
            sel.unregister(s)
            answered += 1
    lost += len(waiting)
    # Anything but another HelloVerifyRequest arriving afterwards (a
    # ServerHello would) is a failure; a second one answers a ClientHello
    # sent again because the first answer was slow, not lost.
    time.sleep(0.05)
    for s in socks:
        while True:
            try:
                d = s.recv(65535)
            except BlockingIOError:
                break
            if hvr_cookie(d) is None:
                sys.exit("a datagram other than a HelloVerifyRequest: %r" % d[:16])
        s.close()
    sel.close()
    t, f, r = status()
    most = [max(most[0], t), max(most[1], f), max(most[2], r)]
print("%d ClientHellos (%d sent again) in %.2f s: %d HelloVerifyRequests, %d unanswered" % (count, resent, time.monotonic() - t0, answered, lost))
print("most threads %d, most fds %d, most VmRSS %d kB" % tuple(most))
PY

case_spoofed_flood() {
    local pid="" port="" log th0 fd0 rss0 th1 fd1 rss1
    start_server pid port "$US" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    log="$(server_out "$pid")"
    # Warm up: one real session, so what a first handshake allocates once
    # (OpenSSL's caches) is not counted against the flood.
    CAPTURE_TIMEOUT=20 capture "$UC" --dtls --cafile "$PKI/ca.crt" localhost "$port" warm-up
    assert_capture 0 "udp-client --dtls before the flood"
    wait_for_log "$log" " closed the session"
    # The session's socket is closed just after that line: wait until the
    # descriptor count holds still.
    local i prev=-1
    for ((i = 0; i < 50; i++)); do
        sleep 0.2
        fd0="$(proc_fd_count "$pid")"
        [[ "$fd0" == "$prev" ]] && break
        prev="$fd0"
    done
    th0="$(proc_status "$pid" Threads)" fd0="$(proc_fd_count "$pid")" rss0="$(proc_status "$pid" VmRSS)"
    _it_log "DTLS flood, before: $(status_line "$pid")"
    CAPTURE_TIMEOUT=60 capture python3 "$TEST_TMP/flood.py" "$port" 2000 "$pid"
    assert_capture 0 "2,000 cookieless ClientHellos"
    _it_log "${CAP_OUT%$'\n'}"
    assert_contains "$CAP_OUT" ": 2000 HelloVerifyRequests, 0 unanswered" "the flood's result"
    [[ "$CAP_OUT" =~ most\ threads\ ([0-9]+),\ most\ fds\ ([0-9]+),\ most\ VmRSS\ ([0-9]+) ]] || fail "no samples: [$CAP_OUT]"
    assert_eq "$th0" "${BASH_REMATCH[1]}" "most udp-server threads during the flood (vs before)"
    assert_eq "$fd0" "${BASH_REMATCH[2]}" "most udp-server descriptors during the flood (vs before)"
    [[ -n "$SANITIZER" ]] || ((BASH_REMATCH[3] - rss0 <= 1024)) ||
        fail "udp-server's RSS went from $rss0 kB to ${BASH_REMATCH[3]} kB during the flood"
    sleep 0.3
    th1="$(proc_status "$pid" Threads)" fd1="$(proc_fd_count "$pid")" rss1="$(proc_status "$pid" VmRSS)"
    _it_log "DTLS flood, after: $(status_line "$pid")"
    assert_eq "$th0" "$th1" "udp-server threads before and after the flood"
    assert_eq "$fd0" "$fd1" "udp-server descriptors before and after the flood"
    [[ -n "$SANITIZER" ]] || ((rss1 - rss0 <= 1024)) || fail "udp-server's RSS went from $rss0 kB to $rss1 kB after the flood"
    assert_eq 1 "$(count_in "$log" "[*] Accepted connection from")" "sessions (only the warm-up)"
    assert_eq 0 "$(count_in "$log" "[!]")" "[!] lines"
    CAPTURE_TIMEOUT=20 capture "$UC" --dtls --cafile "$PKI/ca.crt" localhost "$port" "after the flood"
    assert_capture 0 "udp-client --dtls after the flood"
    assert_eq "udp-server is working" "$CAP_OUT" "reply after the flood"
}

run_case "$IDLE idle plain TCP connections" case_horde plain
run_case "$IDLE idle TLS connections (silent, half a ClientHello)" case_horde tls
run_case "$IDLE DTLS peers silent after the cookie exchange" case_horde dtls
run_case "--max-clients 4, 20 TLS clients at once" case_max_clients
run_case "2,000 spoofed-style DTLS ClientHellos" case_spoofed_flood
finish_cases
