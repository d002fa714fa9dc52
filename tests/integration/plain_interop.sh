#!/usr/bin/env bash
# tcp-client and tcp-server with ncat and socat: the bytes each side gets
# (tcp-client's request exactly as sent, the reply verbatim), half-close after
# --send, an HTTP reply framed by Content-Length on a connection left open;
# socat as a TLS server for tcp-client and as a TLS client of tcp-server.
# shellcheck disable=SC2016 # bash -c '...' scripts take their values as "$1"...
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
need "$C" "$S" ncat socat openssl python3 timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"

# ncat_listen VAR_PID PORT REPLY [NCAT-OPTIONS...] : ncat -l on
# 127.0.0.1:PORT answering the bytes REPLY (its stdin); what it receives goes
# to its stdout (server_out).
ncat_listen() {
    local -n _nl_pid="$1"
    local port="$2" reply="$3"
    shift 3
    _IT_SEQ=$((_IT_SEQ + 1))
    printf '%s' "$reply" >"$TEST_TMP/ncat-reply.$BASHPID.$_IT_SEQ"
    # exec: the pid start_bg keeps (and stops at the end) is ncat's own.
    start_bg _nl_pid bash -c 'port=$1 file=$2; shift 2; exec ncat -v "$@" -l 127.0.0.1 "$port" <"$file"' \
        ncat-listen "$port" "$TEST_TMP/ncat-reply.$BASHPID.$_IT_SEQ" "$@"
    wait_for_log "$(server_err "$_nl_pid")" "Listening on 127.0.0.1:$port"
}

# ncat_done PID : waits (bounded) for an ncat listener to exit after its
# connection, prints what it received.
ncat_done() {
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && fail "ncat -l did not finish 10s after its client: $(cat "$(server_err "$1")")"
    wait "$1" || fail "ncat -l failed: $(cat "$(server_err "$1")")"
    cat "$(server_out "$1")"
    printf x
}

case_send_to_ncat() {
    local pid="" port got
    port="$(free_port)"
    ncat_listen pid "$port" "ncat-reply"
    capture "$C" --send 'hello' 127.0.0.1 "$port"
    assert_capture 0 "tcp-client --send hello to ncat -l"
    assert_eq "ncat-reply" "$CAP_OUT" "reply from ncat"
    got="$(ncat_done "$pid")"
    assert_eq "hello" "${got%x}" "bytes ncat received"
}

# The default request, byte for byte; a plain-text (non-HTTP) reply runs to the close.
case_request_to_ncat() {
    local pid="" port got
    port="$(free_port)"
    ncat_listen pid "$port" "plain text, not HTTP"
    capture "$C" --path /index.html -A 'Mozilla/lm3nitro 1.0' -H 'X-Test: yes' 127.0.0.1 "$port"
    got="$(ncat_done "$pid")"
    assert_eq $'GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:'"$port"$'\r\nUser-Agent: Mozilla/lm3nitro 1.0\r\nAccept: */*\r\nConnection: close\r\nX-Test: yes\r\n\r\n' \
        "${got%x}" "request ncat received"
    assert_eq "plain text, not HTTP" "$CAP_OUT" "reply from ncat"
    assert_capture 0 "tcp-client (default request) to ncat -l answering plain text"
}

# An HTTP reply with Content-Length ends there, though the server keeps the
# connection open.
case_http_keepalive_ncat() {
    local pid="" port start
    port="$(free_port)"
    # --no-shutdown: no FIN after the reply; ncat waits for the client's close.
    ncat_listen pid "$port" $'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' --no-shutdown
    start=$SECONDS
    capture "$C" -t 8 127.0.0.1 "$port"
    assert_capture 0 "tcp-client against an HTTP server that keeps the connection open"
    assert_eq $'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' "$CAP_OUT" "reply"
    ((SECONDS - start < 5)) || fail "tcp-client took $((SECONDS - start))s: it waited for the close, not for Content-Length"
    ncat_done "$pid" >/dev/null
}

case_ncat_client() {
    local pid="" port=""
    start_server pid port "$S" -p 0
    capture bash -c 'printf hi | ncat 127.0.0.1 "$1"' _ "$port"
    assert_capture 0 "ncat client to tcp-server"
    assert_eq "tcp-server over TCP is working" "$CAP_OUT" "reply ncat got"
    wait_for_log "$(server_out "$pid")" "[*] Received: hi"
    # Echo mode: what ncat sends comes back, and the server closes after
    # ncat's half-close.
    start_server pid port "$S" -p 0 --echo
    capture bash -c 'printf "line one\nline two\n" | ncat 127.0.0.1 "$1"' _ "$port"
    assert_capture 0 "ncat client to tcp-server --echo"
    assert_eq $'line one\nline two\n' "$CAP_OUT" "echo ncat got"
}

# socat as a TLS server (its certificate verified by tcp-client).
case_socat_server() { # 1.2|1.3
    local v="$1" pid="" port
    port="$(free_port)"
    start_bg pid socat -d -d \
        "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,cert=$PKI/server.crt,key=$PKI/server.key,verify=0" \
        "SYSTEM:cat >'$TEST_TMP/socat.got'; printf socat-tls-reply"
    wait_for_log "$(server_err "$pid")" "listening on"
    capture "$C" -v --tls --tls-max "$v" --cafile "$PKI/ca.crt" --send 'hello socat' localhost "$port"
    assert_capture 0 "tcp-client --tls --tls-max $v to socat OPENSSL-LISTEN"
    assert_eq "socat-tls-reply" "$CAP_OUT" "reply from socat"
    assert_contains "$CAP_ERR" "protocol: TLSv$v" "tcp-client -v"
    assert_contains "$CAP_ERR" "verification: ok" "tcp-client -v"
    wait_for_log "$(server_err "$pid")" "exiting with status"
    assert_eq "hello socat" "$(cat "$TEST_TMP/socat.got")" "bytes socat received (the whole --send, then end of stream)"
}

# socat as a TLS client of tcp-server, verifying it against the CA.
case_socat_client() {
    local pid="" port=""
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key"
    capture bash -c 'printf hi-socat | socat -t 5 - "OPENSSL:localhost:$1,cafile=$2"' _ "$port" "$PKI/ca.crt"
    assert_capture 0 "socat OPENSSL: client to tcp-server --tls"
    assert_eq "tcp-server over TLS is working" "$CAP_OUT" "reply socat got"
    wait_for_log "$(server_out "$pid")" "[*] Received: hi-socat"
    # socat verifies too: with another CA it refuses.
    capture bash -c 'printf hi-socat | socat -t 5 - "OPENSSL:localhost:$1,cafile=$2"' _ "$port" "$PKI/other-ca.crt"
    [[ "$CAP_RC" != 0 ]] || fail "socat accepted tcp-server's certificate with the wrong CA"
    # And plain TCP.
    start_server pid port "$S" -p 0
    capture bash -c 'printf hi-tcp | socat -t 5 - "TCP:127.0.0.1:$1"' _ "$port"
    assert_capture 0 "socat TCP: client to tcp-server"
    assert_eq "tcp-server over TCP is working" "$CAP_OUT" "reply socat got"
}

run_case "tcp-client --send -> ncat -l" case_send_to_ncat
run_case "tcp-client default request -> ncat -l" case_request_to_ncat
run_case "HTTP reply framed by Content-Length, connection kept open" case_http_keepalive_ncat
run_case "ncat -> tcp-server" case_ncat_client
run_case "tcp-client -> socat OPENSSL-LISTEN, TLS 1.2" case_socat_server 1.2
run_case "tcp-client -> socat OPENSSL-LISTEN, TLS 1.3" case_socat_server 1.3
run_case "socat OPENSSL/TCP -> tcp-server" case_socat_client
finish_cases
