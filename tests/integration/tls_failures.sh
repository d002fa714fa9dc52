#!/usr/bin/env bash
# tcp-client's failures: each is refused with its exit code (4 TLS, 2 usage,
# 3 resolution/connection, 5 timeout) and one line on stderr naming the cause;
# --insecure connects and warns.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
need "$C" "$S" openssl python3 timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"

# assert_one_line WHAT : the last capture wrote exactly one line to stderr.
assert_one_line() {
    local n
    n="$(printf '%s' "$CAP_ERR" | grep -c '')" || true
    [[ "$n" == 1 && "$CAP_ERR" == *$'\n' ]] || fail "$1: expected one line on stderr, got $n: [$CAP_ERR]"
}

# refused EXIT NEEDLE CLIENT-ARGS... : tcp-client exits EXIT, writes nothing
# to stdout and one line containing NEEDLE to stderr.
refused() {
    local want="$1" needle="$2"
    shift 2
    capture "$C" "$@"
    assert_capture "$want" "tcp-client $*"
    assert_eq "" "$CAP_OUT" "stdout of tcp-client $*"
    assert_one_line "tcp-client $*"
    assert_contains "$CAP_ERR" "$needle" "stderr of tcp-client $*"
}

tls_server() { # VAR_PID VAR_PORT CERT-NAME [SERVER-ARGS...]
    local -n _ts_pid="$1" _ts_port="$2"
    local name="$3"
    shift 3
    start_server _ts_pid _ts_port "$S" -p 0 --tls --cert "$PKI/$name.crt" --key "$PKI/$name.key" "$@"
}

case_unknown_ca() {
    local pid="" port=""
    tls_server pid port unknownca
    refused 4 "unable to get local issuer certificate" --tls --cafile "$PKI/ca.crt" --send hi localhost "$port"
    # --insecure connects, and says that nothing was verified.
    capture "$C" --tls --insecure --send hi localhost "$port"
    assert_capture 0 "tcp-client --insecure against an unknown CA"
    assert_eq "tcp-server over TLS is working" "$CAP_OUT" "reply with --insecure"
    assert_contains "$CAP_ERR" "warning" "stderr with --insecure"
    assert_contains "$CAP_ERR" "NOT verified" "stderr with --insecure"
    capture "$C" --tls -k --send hi localhost "$port"
    assert_capture 0 "tcp-client -k against an unknown CA"
    assert_contains "$CAP_ERR" "warning" "stderr with -k"
}

case_wrong_host() {
    local pid="" port=""
    tls_server pid port wronghost
    refused 4 "hostname mismatch (wanted localhost)" --tls --cafile "$PKI/ca.crt" --send hi localhost "$port"
    # The certificate names only wrong.example: the address does not match.
    refused 4 "IP address mismatch (wanted 127.0.0.1)" --tls --cafile "$PKI/ca.crt" --send hi 127.0.0.1 "$port"
}

case_ip_mismatch() {
    local pid="" port=""
    tls_server pid port server # SAN localhost, 127.0.0.1, ::1
    refused 4 "IP address mismatch (wanted 127.0.0.2)" --tls --cafile "$PKI/ca.crt" \
        --servername 127.0.0.2 --send hi 127.0.0.1 "$port"
    refused 4 "hostname mismatch (wanted other.example)" --tls --cafile "$PKI/ca.crt" \
        --servername other.example --send hi 127.0.0.1 "$port"
}

case_expired() {
    local pid="" port=""
    tls_server pid port expired
    refused 4 "expired" --tls --cafile "$PKI/ca.crt" --send hi localhost "$port"
}

case_pin_mismatch() {
    local pid="" port="" zeros
    zeros="$(printf '0%.0s' {1..64})"
    tls_server pid port server
    # The right pin connects, without --cafile.
    capture "$C" --tls --pin "$(cert_fingerprint "$PKI/server.crt")" --send hi localhost "$port"
    assert_capture 0 "tcp-client --pin (right fingerprint)"
    refused 4 "pin mismatch" --tls --pin "sha256:$zeros" --send hi localhost "$port"
    # The message says what the server sent, so the user can compare.
    assert_contains "$CAP_ERR" "$(cert_fingerprint "$PKI/server.crt")" "pin mismatch message"
}

case_below_tls_min() {
    local pid="" port=""
    tls_server pid port server --tls-max 1.2
    refused 4 "protocol version" --tls --cafile "$PKI/ca.crt" --tls-min 1.3 --send hi localhost "$port"
    wait_for_log "$(server_out "$pid")" "[!]"
    # The same client with the default minimum connects, in TLS 1.2.
    capture "$C" -v --tls --cafile "$PKI/ca.crt" --send hi localhost "$port"
    assert_capture 0 "tcp-client against a TLS 1.2 server"
    assert_contains "$CAP_ERR" "protocol: TLSv1.2"
}

case_usage() {
    refused 2 "70000" 127.0.0.1 70000
    refused 2 "NOPE" --tls --ciphers NOPE localhost 443
    refused 2 "$TEST_TMP/missing-ca.crt" --tls --cafile "$TEST_TMP/missing-ca.crt" localhost 443
    refused 2 "--key" --tls --cert "$PKI/client.crt" localhost 443
    refused 2 "-1" -t -1 localhost 443
    refused 2 "sha256:" --tls --pin "sha256:1234" localhost 443
    refused 2 "--nope" --nope localhost
    capture "$C"
    assert_capture 2 "tcp-client without a HOST"
}

case_connection() {
    local port
    port="$(free_port)" # nobody listens there
    refused 3 "Connection refused" 127.0.0.1 "$port"
    refused 3 "Connection refused" --tls --cafile "$PKI/ca.crt" localhost "$port"
    refused 3 "foo.invalid" foo.invalid 80
    refused 3 "foo.invalid" --tls foo.invalid
}

# A server that accepts and then never says anything.
case_timeout() {
    local pid="" port="" start elapsed
    start_server pid port python3 -u -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print("[*] Listening on 127.0.0.1:%d" % s.getsockname()[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
'
    local args
    for args in "-t 1 --send hi 127.0.0.1" "-t 1 127.0.0.1" "-t 1 --tls --cafile $PKI/ca.crt localhost"; do
        start=$SECONDS
        # shellcheck disable=SC2086 # args is a word list
        refused 5 "" $args "$port"
        elapsed=$((SECONDS - start))
        ((elapsed <= 4)) || fail "tcp-client $args took ${elapsed}s with -t 1"
    done
    [[ "$CAP_ERR" == *"handshake"* ]] || fail "TLS timeout message does not say it was the handshake: [$CAP_ERR]"
}

run_case "unknown CA, --insecure" case_unknown_ca
run_case "wrong hostname" case_wrong_host
run_case "IP mismatch" case_ip_mismatch
run_case "expired certificate" case_expired
run_case "pin mismatch" case_pin_mismatch
run_case "server below --tls-min" case_below_tls_min
run_case "usage errors (exit 2)" case_usage
run_case "connection refused, unresolvable (exit 3)" case_connection
run_case "silent server (exit 5)" case_timeout
finish_cases
