#!/usr/bin/env bash
# The servers' admission loops and what came with them:
# - tcp-server --accept-threads N: N admission threads at idle (the main
#   thread runs one), one per CPU by default; udp-server has one loop;
#   200 TLS clients at once against --accept-threads 2 all get the reply.
# - A client that closes without sending anything (TLS: handshake, then
#   close_notify; plain: FIN) and plain UDP datagrams are served in the loop:
#   no worker thread is ever made for them (a client that sends a request
#   does make one, which shows the count would see it).
# - tcp-server --tickets N: openssl s_client gets N TLS 1.3 tickets and
#   resumes with the default (2); --tickets 0 sends none and keeps no
#   session cache, so neither TLS 1.3 nor TLS 1.2 resumes.
# - TLS 1.3 suites in Mozilla's order: tcp-client offers AES-128-GCM first
#   (to tcp-server and to openssl s_server); tcp-server honours the
#   client's order (openssl s_client, which puts AES-256 first, gets it).
# - Bad --accept-threads / --tickets values: exit 2, one line, no server.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
US="$SECSOCK_BIN/udp-server"
need "$C" "$S" "$US" openssl python3 timeout getconf
PKI="$TEST_TMP/pki"
make_pki "$PKI"
raise_fd_limit 1024
REPLY_TLS="tcp-server over TLS is working"
TLS_OPTS=(--tls --cert "$PKI/server.crt" --key "$PKI/server.key")

# threads_of N : how many threads a server with N threads of its own shows:
# TSan's runtime adds its background thread once a process makes a second
# thread (a process that never does has none).
TSAN_EXTRA=0
[[ "$(sanitizer_of "$S")" == thread ]] && TSAN_EXTRA=1
threads_of() {
    if (($1 > 1)); then echo $(($1 + TSAN_EXTRA)); else echo "$1"; fi
}

# wait_threads PID N : waits (up to 10 s) until PID has N threads; fails if
# it ever has more, or never gets there (a worker starts a moment after its
# client's request).
wait_threads() {
    local pid="$1" want="$2" i n=0
    for ((i = 0; i < 200; i++)); do
        n="$(proc_status "$pid" Threads)"
        ((n <= want)) || fail "process $pid has $n threads, expected $want"
        ((n == want)) && return 0
        sleep 0.05
    done
    fail "process $pid has $n threads after 10 s, expected $want"
}

# The default number of admission loops: one per online CPU, at most 64.
default_loops() {
    local cpus
    cpus="$(getconf _NPROCESSORS_ONLN)"
    if ((cpus < 1)); then cpus=1; fi
    if ((cpus > 64)); then cpus=64; fi
    printf '%s\n' "$cpus"
}

# s_client_line PORT ARGS... : openssl s_client sends "hello" to tcp-server
# --tls (verified), reads to the server's close (tickets come before the
# reply); CAP_OUT has what it printed.
s_client_line() {
    local port="$1"
    shift
    capture bash -c 'printf "hello\n" | openssl s_client "$@"' _ \
        -connect "127.0.0.1:$port" -CAfile "$PKI/ca.crt" -servername localhost \
        -verify_hostname localhost -verify_return_error -ign_eof "$@"
    assert_capture 0 "openssl s_client $*"
    assert_contains "$CAP_OUT" "$REPLY_TLS" "s_client output"
}

# The loops are all there when "Listening" is printed (so a script that
# waits for it sees the whole server), and there are as many as asked.
case_accept_threads_idle() {
    local pid="" port="" n
    for n in 1 2 4; do
        start_server pid port "$S" -p 0 "${TLS_OPTS[@]}" --accept-threads "$n"
        assert_eq "$(threads_of "$n")" "$(proc_status "$pid" Threads)" \
            "threads of tcp-server --accept-threads $n at its Listening line"
        stop_process "$pid" || true
    done
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}"
    wait_threads "$pid" "$(threads_of "$(default_loops)")"
    stop_process "$pid" || true
    # udp-server: one loop whatever the CPUs (also with --dtls).
    start_server pid port "$US" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    wait_threads "$pid" 1
}

# 50 TLS clients that do the handshake and close: each is served by a loop
# ("closed without sending anything"), and no worker thread appears.
case_tls_closed_without_sending() {
    local loops pid="" port="" idle i
    local -a pids=()
    loops="$(default_loops)"
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}"
    idle="$(threads_of "$loops")"
    wait_threads "$pid" "$idle"
    for ((i = 0; i < 50; i++)); do
        timeout -k 5 60 openssl s_client -connect "127.0.0.1:$port" -CAfile "$PKI/ca.crt" \
            -servername localhost -verify_return_error \
            </dev/null >"$TEST_TMP/quiet.$i.out" 2>&1 &
        pids+=("$!")
    done
    for i in "${!pids[@]}"; do
        wait "${pids[i]}" || fail "openssl s_client $i failed: $(cat "$TEST_TMP/quiet.$i.out")"
        assert_file_contains "$TEST_TMP/quiet.$i.out" "New, TLSv1.3"
    done
    wait_for_count "$(server_out "$pid")" "closed without sending anything" 50 30
    assert_eq 0 "$(count_in "$(server_out "$pid")" "[!]")" "error lines in the server's log"
    assert_eq "$idle" "$(proc_status "$pid" Threads)" "threads after 50 clients that sent nothing"
    # The control: a client with a request is served by a worker, which is
    # kept: one thread more, so the count above would have seen one.
    s_client_line "$port"
    wait_for_count "$(server_out "$pid")" "[*] Received: hello" 1
    wait_threads "$pid" "$(threads_of $((loops + 1)))"
}

# The same with plain TCP: 50 connections that only send their FIN.
case_tcp_closed_without_sending() {
    local pid="" port="" idle
    start_server pid port "$S" -p 0 --accept-threads 2
    idle="$(threads_of 2)"
    wait_threads "$pid" "$idle"
    capture python3 - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(50)]
for s in socks:
    s.shutdown(socket.SHUT_WR)
for i, s in enumerate(socks):
    data = s.recv(100)   # the server closes: b"" (it has nothing to answer)
    assert data == b"", "client %d got %r" % (i, data)
    s.close()
print("ok")
PY
    assert_capture 0 "50 plain clients that only close"
    wait_for_count "$(server_out "$pid")" "closed without sending anything" 50 30
    assert_eq "$idle" "$(proc_status "$pid" Threads)" "threads after 50 clients that sent nothing"
    capture "$C" --send "hello" 127.0.0.1 "$port"
    assert_capture 0 "tcp-client --send"
    wait_threads "$pid" "$(threads_of 3)"
}

# Plain udp-server: 100 datagrams answered by the loop, no worker.
case_udp_served_in_loop() {
    local pid="" port=""
    start_server pid port "$US" -p 0
    wait_threads "$pid" 1
    capture python3 - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)  # a resend would make 101 lines
s.connect(("127.0.0.1", port))
for i in range(100):
    msg = b"datagram %d" % i
    for attempt in range(5):     # a lost datagram is sent again
        s.send(msg)
        try:
            reply = s.recv(2048)
            break
        except socket.timeout:
            continue
    else:
        sys.exit("no reply to datagram %d" % i)
    assert reply == b"udp-server is working", reply
print("ok")
PY
    assert_capture 0 "100 datagrams to udp-server"
    wait_for_count "$(server_out "$pid")" "[*] Received from" 100 30
    assert_eq 1 "$(proc_status "$pid" Threads)" "udp-server threads after 100 datagrams"
}

# 200 TLS clients at once against two admission loops: every one gets the reply.
case_many_tls_clients() {
    local pid="" port="" i bad=0
    local -a pids=()
    # Long server timeouts: 200 sanitized clients on 2 cores may wait seconds
    # for a CPU between handshake steps.
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}" --accept-threads 2 --max-clients 256 \
        --handshake-timeout 60 -t 60
    for ((i = 0; i < 200; i++)); do
        timeout -k 5 120 "$C" --tls --cafile "$PKI/ca.crt" -t 60 --send "client $i" \
            localhost "$port" >"$TEST_TMP/many.$i.out" 2>"$TEST_TMP/many.$i.err" &
        pids+=("$!")
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[i]}"; then
            bad=$((bad + 1))
            _it_log "client $i failed: $(cat "$TEST_TMP/many.$i.err")"
        elif [[ "$(cat "$TEST_TMP/many.$i.out")" != "$REPLY_TLS" ]]; then
            bad=$((bad + 1))
            _it_log "client $i got [$(cat "$TEST_TMP/many.$i.out")]"
        fi
    done
    assert_eq 0 "$bad" "clients without the reply"
    wait_for_count "$(server_out "$pid")" "[*] Received: client " 200 30
    assert_eq 0 "$(count_in "$(server_out "$pid")" "[!]")" "error lines in the server's log"
}

# --tickets: TLS 1.3 tickets counted by s_client, resumption with -sess_in.
case_tickets() {
    local pid="" port="" sess="$TEST_TMP/sess" v
    # The default: 2 tickets, and the saved session resumes.
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}" -v
    rm -f "$sess"
    s_client_line "$port" -tls1_3 -sess_out "$sess"
    assert_contains "$CAP_OUT" "New, TLSv1.3" "s_client output"
    assert_eq 2 "$(grep -c "Post-Handshake New Session Ticket arrived" <<<"$CAP_OUT")" \
        "TLS 1.3 tickets from the default server"
    [[ -s "$sess" ]] || fail "s_client saved no session"
    s_client_line "$port" -tls1_3 -sess_in "$sess"
    assert_contains "$CAP_OUT" "Reused, TLSv1.3" "s_client output, resuming"
    wait_for_log "$(server_out "$pid")" "resumed: yes"
    # TLS 1.2 resumes too (a ticket or the session cache).
    rm -f "$sess"
    s_client_line "$port" -tls1_2 -sess_out "$sess"
    assert_contains "$CAP_OUT" "New, TLSv1.2" "s_client output"
    [[ -s "$sess" ]] || fail "s_client saved no TLS 1.2 session"
    s_client_line "$port" -tls1_2 -sess_in "$sess"
    assert_contains "$CAP_OUT" "Reused, TLSv1.2" "s_client output, resuming TLS 1.2"
    stop_process "$pid" || true

    # --tickets 1: exactly one.
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}" --tickets 1
    s_client_line "$port" -tls1_3
    assert_eq 1 "$(grep -c "Post-Handshake New Session Ticket arrived" <<<"$CAP_OUT")" \
        "TLS 1.3 tickets with --tickets 1"
    stop_process "$pid" || true

    # --tickets 0: no ticket, no cache: nothing to resume, in either version.
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}" --tickets 0 -v
    for v in 1.3 1.2; do
        rm -f "$sess"
        s_client_line "$port" "-tls${v/./_}" -sess_out "$sess"
        assert_contains "$CAP_OUT" "New, TLSv$v" "s_client output"
        assert_not_contains "$CAP_OUT" "New Session Ticket arrived" "s_client output (--tickets 0)"
        assert_not_contains "$CAP_OUT" "TLS session ticket:" "s_client output (--tickets 0)"
        # s_client saves nothing when there is nothing to resume; if it did
        # save a session, the server must not take it back.
        if [[ -s "$sess" ]]; then
            s_client_line "$port" "-tls${v/./_}" -sess_in "$sess"
            assert_contains "$CAP_OUT" "New, TLSv$v" "s_client output, second connection"
            assert_not_contains "$CAP_OUT" "Reused" "s_client output, second connection"
        fi
    done
    wait_for_count "$(server_out "$pid")" "[*] Received: hello" 2
    assert_eq 0 "$(count_in "$(server_out "$pid")" "resumed: yes")" "resumed sessions with --tickets 0"
}

# json_field NAME : the string NAME of the --json record in CAP_ERR.
json_field() {
    python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        print(json.loads(line).get(sys.argv[1]) or "")
        break
' "$1" <<<"$CAP_ERR"
}

# Mutual TLS: a client that resumes (TLS 1.2 and 1.3) is resumed, not
# refused for a missing session id context.
case_resume_with_client_cert() {
    local pid="" port="" sess="$TEST_TMP/sess-mtls" v
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}" --cafile "$PKI/ca.crt" --verify-client
    for v in 1.2 1.3; do
        rm -f "$sess"
        s_client_line "$port" "-tls${v/./_}" -cert "$PKI/client.crt" -key "$PKI/client.key" \
            -sess_out "$sess"
        assert_contains "$CAP_OUT" "New, TLSv$v" "s_client output, first connection"
        s_client_line "$port" "-tls${v/./_}" -cert "$PKI/client.crt" -key "$PKI/client.key" \
            -sess_in "$sess"
        assert_contains "$CAP_OUT" "Reused, TLSv$v" "s_client output, resuming with a client certificate"
    done
    assert_eq 0 "$(count_in "$(server_out "$pid")" "[!]")" "[!] lines"
    stop_process "$pid" || true
}

# A plain UDP server's port is its own: another socket cannot bind it,
# even with SO_REUSEADDR (which on Linux has no same-user check for UDP).
case_udp_port_not_shared() {
    local pid="" port=""
    start_server pid port "$US" -p 0
    capture python3 - "$port" <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    sys.exit(0 if e.errno == errno.EADDRINUSE else 3)
sys.exit("bound the server's port")
PY
    assert_capture 0 "binding udp-server's port with SO_REUSEADDR"
    stop_process "$pid" || true
}

case_suite_order() {
    local pid="" port="" spid=""
    start_server pid port "$S" -p 0 "${TLS_OPTS[@]}" -v
    # Our client and our server: AES-128-GCM, both sides say so.
    capture "$C" --tls --cafile "$PKI/ca.crt" --json --send hi localhost "$port"
    assert_capture 0 "tcp-client --json"
    assert_eq "$REPLY_TLS" "$CAP_OUT" "tcp-client's reply"
    assert_eq "TLS_AES_128_GCM_SHA256" "$(json_field cipher)" "tcp-client --json cipher"
    assert_eq "TLSv1.3" "$(json_field version)" "tcp-client --json version"
    wait_for_log "$(server_out "$pid")" "cipher: TLS_AES_128_GCM_SHA256"
    capture "$C" -v --tls --cafile "$PKI/ca.crt" --send hi localhost "$port"
    assert_capture 0 "tcp-client -v"
    assert_contains "$CAP_ERR" "protocol: TLSv1.3, cipher: TLS_AES_128_GCM_SHA256" "tcp-client -v"
    # A suite named by the user still wins.
    capture "$C" --tls --cafile "$PKI/ca.crt" --json --ciphersuites TLS_AES_256_GCM_SHA384 \
        --send hi localhost "$port"
    assert_capture 0 "tcp-client --ciphersuites TLS_AES_256_GCM_SHA384"
    assert_eq "TLS_AES_256_GCM_SHA384" "$(json_field cipher)" "cipher with --ciphersuites"
    # The server honours the client's order (Mozilla intermediate): openssl
    # s_client's default list puts AES-256 first, and gets it...
    s_client_line "$port" -tls1_3
    assert_contains "$CAP_OUT" "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" "s_client (default order)"
    # ...and a client preferring ChaCha20 gets ChaCha20.
    s_client_line "$port" -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256
    assert_contains "$CAP_OUT" "Cipher is TLS_CHACHA20_POLY1305_SHA256" "s_client preferring ChaCha20"
    stop_process "$pid" || true

    # tcp-client's own order, seen by a server that follows the client's
    # order (openssl s_server's default): AES-128-GCM.
    port="$(free_port)"
    start_bg spid openssl s_server -accept "127.0.0.1:$port" -www -tls1_3 \
        -cert "$PKI/server.crt" -key "$PKI/server.key"
    wait_for_log "$(server_out "$spid")" "ACCEPT"
    capture "$C" -v --tls --cafile "$PKI/ca.crt" localhost "$port"
    assert_capture 0 "tcp-client against openssl s_server"
    assert_contains "$CAP_ERR" "cipher: TLS_AES_128_GCM_SHA256" "tcp-client -v against s_server"
    assert_contains "$CAP_OUT" "Cipher is TLS_AES_128_GCM_SHA256" "s_server -www page"
}

# Bad values: exit 2 with one line naming the option, and no server starts.
case_usage_errors() {
    local -a args cases=(
        "$S|--accept-threads 0"
        "$S|--accept-threads 65"
        "$S|--accept-threads -3"
        "$S|--accept-threads many"
        "$S|--tls --self-signed --tickets 11"
        "$S|--tls --self-signed --tickets -1"
        "$S|--tls --self-signed --tickets x"
        "$S|--tickets 2"
        "$US|--accept-threads 2"
    )
    local entry prog opt
    for entry in "${cases[@]}"; do
        prog="${entry%%|*}"
        read -r -a args <<<"${entry#*|}"
        capture "$prog" -p 0 "${args[@]}"
        assert_capture 2 "${prog##*/} ${args[*]}"
        assert_eq "" "$CAP_OUT" "stdout of ${prog##*/} ${args[*]}"
        [[ "$CAP_ERR" == *$'\n' && "${CAP_ERR%$'\n'}" != *$'\n'* ]] ||
            fail "${prog##*/} ${args[*]}: not one line on stderr: [$CAP_ERR]"
        for opt in "${args[@]}"; do
            if [[ "$opt" == --accept-threads || "$opt" == --tickets ]]; then
                assert_contains "$CAP_ERR" "$opt" "stderr of ${prog##*/} ${args[*]}"
            fi
        done
    done
}

run_case "--accept-threads: admission threads at idle" case_accept_threads_idle
run_case "TLS clients that close without sending: served in the loops" case_tls_closed_without_sending
run_case "plain clients that close without sending: served in the loops" case_tcp_closed_without_sending
run_case "plain udp-server: datagrams served in its loop" case_udp_served_in_loop
run_case "200 TLS clients at once, --accept-threads 2" case_many_tls_clients
run_case "--tickets: TLS 1.3 tickets and resumption" case_tickets
run_case "--verify-client: resumption with a client certificate" case_resume_with_client_cert
run_case "plain udp-server: its port cannot be shared" case_udp_port_not_shared
run_case "TLS 1.3 suites: Mozilla's order, the client's preference" case_suite_order
run_case "--accept-threads and --tickets usage errors" case_usage_errors
finish_cases
