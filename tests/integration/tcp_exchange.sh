#!/usr/bin/env bash
# tcp-client <-> tcp-server, plaintext and TLS (verified against the test CA):
# the default HTTP request and the server's log of it, --send, a 64 MiB
# full-duplex --echo, --http with curl, -v, --resolve, --self-signed + --pin,
# mutual TLS, SIGTERM's summary, key logging.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
need "$C" "$S" openssl curl python3 sha256sum timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"

UA=$'Mozilla/lm3nitro 1.0\t(rv:130.0)'
UA_LOGGED='Mozilla/lm3nitro 1.0\t(rv:130.0)' # as the server must print it


ipv6_works() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# Default mode: the HTTP GET the seed meant to send, the server's log of it.
case_default() { # MODE HOST
    local mode="$1" host="$2" bind=127.0.0.1 pid="" port="" hostport log
    [[ "$host" == "::1" ]] && bind="::1"
    local -a sargs cargs
    mapfile -t sargs < <(server_tls_args "$mode")
    mapfile -t cargs < <(client_tls_args "$mode")
    start_server pid port "$S" -b "$bind" -p 0 "${sargs[@]}"
    if [[ "$host" == *:* ]]; then hostport="[$host]:$port"; else hostport="$host:$port"; fi
    capture "$C" "${cargs[@]}" -A "$UA" "$host" "$port"
    log="$(server_out "$pid")"
    wait_for_log "$log" "[*] Received: "
    assert_file_contains "$log" "[*] Accepted connection from "
    # The whole request on one line, control characters escaped.
    local want="[*] Received: GET / HTTP/1.1\\r\\nHost: $hostport\\r\\nUser-Agent: $UA_LOGGED\\r\\nAccept: */*\\r\\nConnection: close\\r\\n\\r\\n"
    grep -qxF -- "$want" "$log" || fail "server log lacks the line [$want]; it has: [$(cat "$log")]"
    assert_eq "$(reply_of "$mode")" "$CAP_OUT" "reply on stdout"
    assert_capture 0 "tcp-client $mode $host (default HTTP request to the plain-text reply server)"
    assert_eq "" "$CAP_ERR" "tcp-client stderr"
}

case_send() { # MODE
    local mode="$1" pid="" port=""
    local -a sargs cargs
    mapfile -t sargs < <(server_tls_args "$mode")
    mapfile -t cargs < <(client_tls_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}" --reply "custom reply, $mode"
    capture "$C" "${cargs[@]}" --send 'hello from the client' localhost "$port"
    assert_capture 0 "tcp-client --send"
    assert_eq "custom reply, $mode" "$CAP_OUT" "reply"
    wait_for_log "$(server_out "$pid")" "[*] Received: hello from the client"
}

# 64 MiB both ways at once through --echo: nothing lost, no deadlock.
case_echo() { # MODE
    local mode="$1" pid="" port="" rc=0
    local -a sargs cargs
    mapfile -t sargs < <(server_tls_args "$mode")
    mapfile -t cargs < <(client_tls_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}" --echo
    timeout -k 5 50 "$C" "${cargs[@]}" --send-file - localhost "$port" \
        <"$TEST_TMP/random.bin" >"$TEST_TMP/echoed.$mode" 2>"$TEST_TMP/echo.err" || rc=$?
    ((rc != 124)) || fail "64 MiB through --echo ($mode) did not finish within 50s (deadlock?)"
    assert_eq 0 "$rc" "tcp-client --send-file - exit status ($(cat "$TEST_TMP/echo.err"))"
    assert_eq "$(sha256sum <"$TEST_TMP/random.bin")" "$(sha256sum <"$TEST_TMP/echoed.$mode")" \
        "sha256 of the 64 MiB sent and of what came back ($(stat -c %s "$TEST_TMP/echoed.$mode") bytes)"
    rm -f "$TEST_TMP/echoed.$mode"
    wait_for_log "$(server_out "$pid")" "echoed 67108864 bytes"
}

case_http() { # MODE
    local mode="$1" pid="" port="" url body
    local -a sargs cargs curl_args=()
    mapfile -t sargs < <(server_tls_args "$mode")
    mapfile -t cargs < <(client_tls_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}" --http
    if [[ "$mode" == tls ]]; then
        url="https://localhost:$port/page"
        curl_args=(--cacert "$PKI/ca.crt")
    else
        url="http://127.0.0.1:$port/page"
    fi
    capture curl -sS --max-time 20 "${curl_args[@]}" -o "$TEST_TMP/body" -w '%{http_code}' "$url"
    assert_capture 0 "curl $url"
    assert_eq 200 "$CAP_OUT" "HTTP status from curl"
    body="$(cat "$TEST_TMP/body")"
    assert_eq "$(reply_of "$mode")" "$body" "body curl got"
    wait_for_log "$(server_out "$pid")" "[*] Received: GET /page HTTP/1.1"
    # tcp-client's own GET against an HTTP server.
    capture "$C" "${cargs[@]}" localhost "$port"
    assert_capture 0 "tcp-client against --http"
    assert_contains "$CAP_OUT" $'HTTP/1.1 200 OK\r\n' "tcp-client's reply"
    assert_contains "$CAP_OUT" $'\r\n\r\n'"$(reply_of "$mode")" "tcp-client's reply"
}

case_verbose() {
    local pid="" port="" fp
    fp="$(cert_fingerprint "$PKI/server.crt")"
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key"
    local v
    for v in 1.3 1.2; do
        capture "$C" -v --tls --cafile "$PKI/ca.crt" --tls-max "$v" --send hi localhost "$port"
        assert_capture 0 "tcp-client -v --tls-max $v"
        assert_eq "$(reply_of tls)" "$CAP_OUT" "reply"
        assert_contains "$CAP_ERR" "protocol: TLSv$v" "-v output"
        assert_contains "$CAP_ERR" "cipher: " "-v output"
        assert_contains "$CAP_ERR" "subject: CN=localhost" "-v output"
        assert_contains "$CAP_ERR" "issuer: CN=secsock test CA" "-v output"
        assert_contains "$CAP_ERR" "fingerprint: $fp" "-v output"
        assert_contains "$CAP_ERR" "verification: ok" "-v output"
    done
    [[ "$CAP_ERR" =~ cipher:\ ECDHE- ]] || fail "TLS 1.2 cipher not shown as ECDHE-...: [$CAP_ERR]"
}

# --resolve: connect to 127.0.0.1, while Host, SNI and verification use the name.
case_resolve() { # MODE
    local mode="$1" pid="" port=""
    local -a sargs cargs
    mapfile -t sargs < <(server_tls_args "$mode" lm3nitro)
    mapfile -t cargs < <(client_tls_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}"
    capture "$C" "${cargs[@]}" -v --resolve "lm3nitro.com:$port:127.0.0.1" --send hi lm3nitro.com "$port"
    assert_capture 0 "tcp-client --resolve --send"
    assert_eq "$(reply_of "$mode")" "$CAP_OUT" "reply"
    [[ "$mode" == tls ]] && assert_contains "$CAP_ERR" "SNI: lm3nitro.com" "-v output"
    capture "$C" "${cargs[@]}" --resolve "lm3nitro.com:$port:127.0.0.1" lm3nitro.com "$port"
    wait_for_log "$(server_out "$pid")" "\\r\\nHost: lm3nitro.com:$port\\r\\n"
    assert_eq "$(reply_of "$mode")" "$CAP_OUT" "reply to the default request"
    assert_capture 0 "tcp-client --resolve (default HTTP request)"
}

# With --resolve the certificate must match the name, not the address.
case_resolve_mismatch() {
    local pid="" port=""
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key"
    capture "$C" --tls --cafile "$PKI/ca.crt" --resolve "lm3nitro.com:$port:127.0.0.1" --send hi lm3nitro.com "$port"
    assert_capture 4 "tcp-client --resolve to a server whose certificate is for localhost"
    assert_contains "$CAP_ERR" "hostname mismatch (wanted lm3nitro.com)"
}

case_self_signed_pin() {
    local pid="" port="" fp hex
    start_server pid port "$S" -p 0 --tls --self-signed
    fp="$(grep -o 'sha256:[0-9A-Fa-f:]*' "$(server_out "$pid")" | head -n1)"
    [[ ${#fp} == 102 ]] || fail "no sha256:XX:...: fingerprint printed by --self-signed: [$(cat "$(server_out "$pid")")]"
    capture "$C" --tls --pin "$fp" --send hi localhost "$port"
    assert_capture 0 "tcp-client --pin (printed fingerprint)"
    assert_eq "$(reply_of tls)" "$CAP_OUT" "reply"
    hex="${fp#sha256:}"
    hex="${hex//:/}"
    capture "$C" --tls --pin "sha256:${hex,,}" --send hi 127.0.0.1 "$port"
    assert_capture 0 "tcp-client --pin (lower case, no colons, by IP)"
    assert_eq "$(reply_of tls)" "$CAP_OUT" "reply"
    capture "$C" --tls --send hi localhost "$port"
    assert_capture 4 "tcp-client without --pin against a self-signed server"
    assert_contains "$CAP_ERR" "self-signed"
}

case_mutual_tls() {
    local pid="" port="" log
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" \
        --verify-client --cafile "$PKI/ca.crt" -v
    log="$(server_out "$pid")"
    capture "$C" --tls --cafile "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key" \
        --send 'with a client certificate' localhost "$port"
    assert_capture 0 "tcp-client with a client certificate"
    assert_eq "$(reply_of tls)" "$CAP_OUT" "reply"
    wait_for_log "$log" "[*] Received: with a client certificate"
    assert_file_contains "$log" "subject: CN=secsock client"

    # No client certificate, TLS 1.2: the server refuses in the handshake.
    capture "$C" --tls --cafile "$PKI/ca.crt" --tls-max 1.2 --send 'no certificate' localhost "$port"
    assert_capture 4 "tcp-client --tls-max 1.2 without a client certificate"
    wait_for_count "$log" "[!]" 1
    # TLS 1.3: the client's handshake ends before the server has checked the
    # client's certificate; its refusal (alert certificate_required) arrives
    # as the client reads. That is still a TLS failure: exit 4, naming it.
    # The alert races the server's close, so try it several times: it must
    # arrive every time (a close with unread data sends RST, which discards it).
    local i
    for ((i = 1; i <= 10; i++)); do
        capture "$C" --tls --cafile "$PKI/ca.crt" --send 'no certificate' localhost "$port"
        wait_for_count "$log" "[!]" $((1 + i))
        assert_eq "" "$CAP_OUT" "reply without a client certificate"
        assert_capture 4 "tcp-client (TLS 1.3) without a client certificate, attempt $i of 10"
        assert_contains "$CAP_ERR" "client certificate"
    done
    assert_not_contains "$(cat "$log")" "[*] Received: no certificate" "server log"
}

case_sigterm() { # MODE
    local mode="$1" pid="" port="" st=0 slow
    local -a sargs cargs
    mapfile -t sargs < <(server_tls_args "$mode")
    mapfile -t cargs < <(client_tls_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}"
    capture "$C" "${cargs[@]}" --send one localhost "$port"
    assert_capture 0 "first client"
    # A client in flight when SIGTERM arrives still gets its reply.
    start_bg slow python3 -c '
import socket, ssl, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
if sys.argv[2] == "tls":
    s = ssl.create_default_context(cafile=sys.argv[3]).wrap_socket(s, server_hostname="localhost")
time.sleep(1)
s.sendall(b"in flight")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
sys.stdout.write(data.decode())
' "$port" "$mode" "$PKI/ca.crt"
    wait_for_count "$(server_out "$pid")" "[*] Accepted connection from" 2
    kill -TERM "$pid"
    wait "$slow" || fail "the client in flight at SIGTERM failed: $(cat "$(server_err "$slow")")"
    assert_eq "$(reply_of "$mode")" "$(cat "$(server_out "$slow")")" "reply to the client in flight"
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && fail "tcp-server still running 5s after SIGTERM"
    wait "$pid" || st=$?
    assert_eq 0 "$st" "tcp-server exit status after SIGTERM"
    assert_file_contains "$(server_out "$pid")" "[*] Stopped: 2 served"
}

keylog_lines_ok() { # FILE LABEL...: every line well formed, each LABEL present
    local f="$1" l
    shift
    [[ -s "$f" ]] || fail "key-log file $f is missing or empty"
    assert_eq 600 "$(stat -c %a "$f")" "mode of the key-log file $f"
    for l in "$@"; do
        grep -qE "^$l [0-9a-f]{64} [0-9a-f]{64,}\$" "$f" || fail "$f has no well-formed $l line: [$(cat "$f")]"
    done
    if grep -vqE '^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$' "$f"; then
        fail "$f has a line not in NSS key-log format: [$(cat "$f")]"
    fi
}

case_keylog() {
    local pid="" port="" l
    umask 022
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key" \
        --keylog "$TEST_TMP/server.keys"
    assert_file_contains "$(server_err "$pid")" "$TEST_TMP/server.keys"

    capture "$C" --tls --cafile "$PKI/ca.crt" --keylog "$TEST_TMP/k13.keys" --send hi localhost "$port"
    assert_capture 0 "tcp-client --keylog (TLS 1.3)"
    assert_eq "$(reply_of tls)" "$CAP_OUT" "reply"
    assert_contains "$CAP_ERR" "warning" "stderr with --keylog"
    assert_contains "$CAP_ERR" "$TEST_TMP/k13.keys" "stderr with --keylog"
    keylog_lines_ok "$TEST_TMP/k13.keys" CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET \
        CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0

    capture "$C" --tls --cafile "$PKI/ca.crt" --tls-max 1.2 --keylog "$TEST_TMP/k12.keys" --send hi localhost "$port"
    assert_capture 0 "tcp-client --keylog --tls-max 1.2"
    keylog_lines_ok "$TEST_TMP/k12.keys" CLIENT_RANDOM

    capture env SSLKEYLOGFILE="$TEST_TMP/env.keys" "$C" --tls --cafile "$PKI/ca.crt" --send hi localhost "$port"
    assert_capture 0 "tcp-client with SSLKEYLOGFILE"
    assert_contains "$CAP_ERR" "warning" "stderr with SSLKEYLOGFILE"
    assert_contains "$CAP_ERR" "$TEST_TMP/env.keys" "stderr with SSLKEYLOGFILE"
    keylog_lines_ok "$TEST_TMP/env.keys" CLIENT_HANDSHAKE_TRAFFIC_SECRET CLIENT_TRAFFIC_SECRET_0

    # Both ends logged the same secrets for the same sessions.
    wait_for_count "$(server_out "$pid")" "[*] Received: hi" 3
    keylog_lines_ok "$TEST_TMP/server.keys" CLIENT_RANDOM CLIENT_HANDSHAKE_TRAFFIC_SECRET
    for l in "$TEST_TMP"/k13.keys "$TEST_TMP"/k12.keys "$TEST_TMP"/env.keys; do
        while IFS= read -r line; do
            grep -qxF -- "$line" "$TEST_TMP/server.keys" || fail "client key-log line [$line] ($l) is not in the server's key log"
        done <"$l"
    done

    # A key log that cannot be opened is an error, not a silently empty file.
    capture "$C" --tls --cafile "$PKI/ca.crt" --keylog "$TEST_TMP/no/such/dir/k.keys" --send hi localhost "$port"
    assert_capture 2 "tcp-client --keylog in a missing directory"
    assert_contains "$CAP_ERR" "$TEST_TMP/no/such/dir/k.keys"
    capture env SSLKEYLOGFILE="$TEST_TMP/no/such/dir/e.keys" "$C" --tls --cafile "$PKI/ca.crt" --send hi localhost "$port"
    assert_capture 2 "tcp-client with SSLKEYLOGFILE in a missing directory"
    assert_contains "$CAP_ERR" "$TEST_TMP/no/such/dir/e.keys"
}

head -c 64M /dev/urandom >"$TEST_TMP/random.bin"

hosts=(localhost 127.0.0.1)
if ipv6_works; then hosts+=(::1); else _it_log "IPv6 loopback unavailable: ::1 not tested"; fi
for mode in plain tls; do
    for host in "${hosts[@]}"; do
        run_case "default request, $mode, $host" case_default "$mode" "$host"
    done
    run_case "--send, $mode" case_send "$mode"
    run_case "--echo 64 MiB full duplex, $mode" case_echo "$mode"
    run_case "--http with curl, $mode" case_http "$mode"
    run_case "--resolve, $mode" case_resolve "$mode"
    run_case "SIGTERM summary, $mode" case_sigterm "$mode"
done
run_case "-v session details" case_verbose
run_case "--resolve verifies the name" case_resolve_mismatch
run_case "--self-signed and --pin" case_self_signed_pin
run_case "mutual TLS" case_mutual_tls
run_case "key log" case_keylog
finish_cases
