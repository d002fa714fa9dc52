#!/usr/bin/env bash
# udp-server --dtls under the microscope: the stateless cookie exchange seen
# on the wire with tshark (a HelloVerifyRequest before the ServerHello, the
# second ClientHello carrying the cookie); 200 ClientHellos from as many
# source ports that never come back (as from spoofed addresses) and forged
# cookies each get only a HelloVerifyRequest no larger than the ClientHello,
# and cost no session, thread or file descriptor; 50 DTLS peers at once, each
# served with its own reply.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/udp-client"
S="$SECSOCK_BIN/udp-server"
need "$C" "$S" tshark openssl python3 timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"

REPLY_TEXT="udp-server is working"

start_dtls_server() { # VAR_PID VAR_PORT [ARGS...]
    local -n _sd_pid="$1" _sd_port="$2"
    shift 2
    start_server _sd_pid _sd_port "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key" "$@"
}

# The handshake as tshark dissects it: one line per DTLS datagram on PORT,
# "SRCPORT<TAB>HANDSHAKE-TYPES<TAB>COOKIE-LENGTHS" (types and lengths
# comma-separated, empty when the datagram holds none).
dissect() { # PCAP PORT
    tshark -r "$1" -d "udp.port==$2,dtls" -Y dtls -T fields -E occurrence=a -E aggregator=, \
        -e udp.srcport -e dtls.handshake.type -e dtls.handshake.cookie_length 2>/dev/null
}

case_cookie_on_the_wire() {
    local pid="" port="" tpid="" pcap="$TEST_TMP/dtls.pcap" st=0 i
    start_dtls_server pid port
    start_bg tpid tshark -n -i lo -f "udp port $port" -w "$pcap"
    wait_for_log "$(server_err "$tpid")" "Capturing on" 20
    sleep 0.5
    capture "$C" --dtls --cafile "$PKI/ca.crt" localhost "$port" "seen on the wire"
    assert_capture 0 "udp-client --dtls"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply"
    wait_for_log "$(server_out "$pid")" " closed the session"
    sleep 0.5
    kill -INT "$tpid"
    for ((i = 0; i < 100; i++)); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$tpid" 2>/dev/null && fail "tshark still running 5s after SIGINT"
    wait "$tpid" || st=$?
    assert_eq 0 "$st" "tshark exit status ($(cat "$(server_err "$tpid")"))"

    local lines
    lines="$(dissect "$pcap" "$port")"
    [[ -n "$lines" ]] || fail "tshark found no DTLS on port $port in the capture"
    # Walk the datagrams in order: ClientHello (no cookie) from the client,
    # HelloVerifyRequest (3) from the server, ClientHello with a cookie, and
    # only then ServerHello (2).
    python3 - "$port" "$lines" <<'EOF' || fail "the cookie exchange is not as expected; tshark saw (srcport, handshake types, cookie lengths): [$lines]"
import sys
port, lines = sys.argv[1], sys.argv[2].splitlines()
events = []  # (from_server, type, cookie_length)
for line in lines:
    src, types, cookies = (line.split("\t") + ["", ""])[:3]
    cookies = [c for c in cookies.split(",") if c]
    for t in [t for t in types.split(",") if t]:
        cookie = int(cookies.pop(0)) if t in ("1", "3") and cookies else None
        events.append((src == port, int(t), cookie))
print("handshake messages:", events)
kinds = [(srv, t) for srv, t, _ in events]
hvr = kinds.index((True, 3))            # a HelloVerifyRequest from the server
sh = kinds.index((True, 2))             # the ServerHello
first_ch = kinds.index((False, 1))
assert first_ch < hvr < sh, "order: ClientHello, HelloVerifyRequest, ..., ServerHello"
assert events[first_ch][2] == 0, "the first ClientHello carries no cookie"
assert events[hvr][2] and events[hvr][2] > 0, "the HelloVerifyRequest carries a cookie"
second_ch = [i for i, k in enumerate(kinds) if k == (False, 1) and i > hvr][0]
assert second_ch < sh, "a second ClientHello comes before the ServerHello"
assert events[second_ch][2] == events[hvr][2], "the second ClientHello echoes the cookie"
assert kinds.count((True, 2)) == 1 and kinds.count((True, 3)) == 1
EOF
}

# 200 ClientHellos without a cookie, each from a new source port that never
# answers (as a spoofed address would), and 20 with a forged cookie: each gets
# one HelloVerifyRequest no larger than itself, and the server opens no
# session and grows no thread or file descriptor.
SPOOF_PY='
import os, socket, subprocess, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
# A real first ClientHello, from openssl s_client.
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
assert ch[0] == 22 and ch[13] == 1, "not a DTLS ClientHello: %r" % ch[:16]
body = ch[25:]
cookie_at = 35 + body[34]          # version, random, session id
assert body[cookie_at] == 0, "the first ClientHello has a cookie"

def forged(ch):
    cookie = os.urandom(32)
    b = body[:cookie_at] + bytes([32]) + cookie + body[cookie_at + 1:]
    hs = bytes([1]) + len(b).to_bytes(3, "big") + (1).to_bytes(2, "big") + bytes(3) + len(b).to_bytes(3, "big")
    rec = ch[:11] + (len(hs) + len(b)).to_bytes(2, "big")
    return rec + hs + b

def hello(msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    s.sendto(msg, ("127.0.0.1", port))
    reply, peer = s.recvfrom(65535)
    s.close()
    assert peer[1] == port, "reply from port %d" % peer[1]
    assert reply[0] == 22 and reply[13] == 3, "not a HelloVerifyRequest: %r" % reply[:16]
    assert len(reply) <= len(msg), "HelloVerifyRequest of %d bytes for a ClientHello of %d" % (len(reply), len(msg))
    return len(reply)

# The server'"'"'s threads and open files, sampled after every reply.
most = {"threads": 0, "fds": 0}
def sample():
    with open("/proc/%s/status" % sys.argv[3]) as f:
        threads = int([l for l in f if l.startswith("Threads:")][0].split()[1])
    most["threads"] = max(most["threads"], threads)
    most["fds"] = max(most["fds"], len(os.listdir("/proc/%s/fd" % sys.argv[3])))

sizes, fsizes = [], []
for _ in range(count):
    sizes.append(hello(ch))
    sample()
for _ in range(20):
    fsizes.append(hello(forged(ch)))
    sample()
print("%d HelloVerifyRequests (%d-%d bytes) for a ClientHello of %d bytes; 20 for forged cookies (%d-%d bytes)"
      % (len(sizes), min(sizes), max(sizes), len(ch), min(fsizes), max(fsizes)))
print("most threads %d, most fds %d" % (most["threads"], most["fds"]))
'

proc_threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
proc_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

case_no_state_before_cookie() {
    local pid="" port="" log t0 f0 t1 f1
    start_dtls_server pid port
    log="$(server_out "$pid")"
    sleep 0.3
    t0="$(proc_threads "$pid")" f0="$(proc_fds "$pid")"
    capture python3 -c "$SPOOF_PY" "$port" 200 "$pid"
    assert_capture 0 "200 ClientHellos without a cookie, 20 with a forged one"
    _it_log "${CAP_OUT%$'\n'}"
    assert_contains "$CAP_OUT" "200 HelloVerifyRequests"
    [[ "$CAP_OUT" =~ most\ threads\ ([0-9]+),\ most\ fds\ ([0-9]+) ]] || fail "no thread/fd samples: [$CAP_OUT]"
    assert_eq "$t0" "${BASH_REMATCH[1]}" "udp-server's most threads during the ClientHellos (vs before)"
    assert_eq "$f0" "${BASH_REMATCH[2]}" "udp-server's most file descriptors during the ClientHellos (vs before)"
    sleep 0.3
    t1="$(proc_threads "$pid")" f1="$(proc_fds "$pid")"
    assert_eq "$t0" "$t1" "udp-server threads before and after 220 ClientHellos without a valid cookie"
    assert_eq "$f0" "$f1" "udp-server file descriptors before and after 220 ClientHellos without a valid cookie"
    assert_eq 0 "$(count_in "$log" "Accepted connection")" "sessions accepted without a valid cookie"
    # It still serves a real peer.
    capture "$C" --dtls --cafile "$PKI/ca.crt" localhost "$port" "after the flood"
    assert_capture 0 "udp-client --dtls after the ClientHellos"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply"
    wait_for_count "$log" "Accepted connection" 1
}

case_50_peers() {
    local pid="" port="" log i j st cp="" go="$TEST_TMP/go" m
    local -a cpids=()
    start_dtls_server pid port --echo
    log="$(server_out "$pid")"
    for ((i = 1; i <= 50; i++)); do
        # Each waits for the same signal, so all 50 start together.
        # shellcheck disable=SC2016 # expanded by the inner shell
        start_bg cp bash -c 'while [[ ! -e "$1" ]]; do sleep 0.01; done; shift; exec "$@"' \
            _ "$go" "$C" --dtls --cafile "$PKI/ca.crt" -t 10 localhost "$port" "peer $i of 50, only mine"
        cpids[i]="$cp"
    done
    touch "$go"
    for ((i = 1; i <= 50; i++)); do
        st=0
        for ((j = 0; j < 800; j++)); do kill -0 "${cpids[i]}" 2>/dev/null || break; sleep 0.05; done
        kill -0 "${cpids[i]}" 2>/dev/null && fail "peer $i still running after 40s"
        wait "${cpids[i]}" || st=$?
        assert_eq 0 "$st" "exit status of peer $i ($(cat "$(server_err "${cpids[i]}")"))"
        assert_eq "peer $i of 50, only mine" "$(cat "$(server_out "${cpids[i]}")")" "reply peer $i got"
    done
    wait_for_count "$log" " closed the session" 50 20
    assert_eq 50 "$(count_in "$log" "[*] Accepted connection from")" "sessions in the server log"
    for ((i = 1; i <= 50; i++)); do
        m="peer $i of 50, only mine"
        assert_eq 1 "$(grep -cE -- ": $m\$" "$log" || true)" "server log lines for [$m]"
    done
    assert_eq 0 "$(count_in "$log" "[!]")" "errors in the server log"
    # Many at once: some session opened while another was still open.
    local most
    most="$(awk '/Accepted connection from/ {n++; if (n > m) m = n} / closed the session$/ {n--} END {print m + 0}' "$log")"
    ((most >= 2)) || fail "the 50 sessions never overlapped (at most $most open at once): [$(cat "$log")]"
    _it_log "at most $most of the 50 DTLS sessions were open at once"
}

run_case "cookie exchange on the wire (tshark)" case_cookie_on_the_wire
run_case "no per-peer state before a valid cookie" case_no_state_before_cookie
run_case "50 concurrent DTLS peers" case_50_peers
finish_cases
