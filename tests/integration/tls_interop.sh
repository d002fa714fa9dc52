#!/usr/bin/env bash
# TLS against other implementations, certificates verified both ways:
# tcp-client -> openssl s_server -www (TLS 1.2, 1.3) and gnutls-serv --http;
# openssl s_client, gnutls-cli (TLS 1.2, 1.3) and curl -> tcp-server --tls.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
S="$SECSOCK_BIN/tcp-server"
need "$C" "$S" openssl gnutls-serv gnutls-cli curl python3 timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"
REPLY_TLS="tcp-server over TLS is working"

# tcp-client -> openssl s_server -www, forced to one TLS version.
case_openssl_server() { # 1.2|1.3
    local v="$1" pid="" port
    port="$(free_port)"
    start_bg pid openssl s_server -accept "127.0.0.1:$port" -www "-tls${v/./_}" \
        -cert "$PKI/server.crt" -key "$PKI/server.key"
    wait_for_log "$(server_out "$pid")" "ACCEPT"
    capture "$C" -v --tls --cafile "$PKI/ca.crt" --path /x localhost "$port"
    assert_capture 0 "tcp-client against openssl s_server -tls${v/./_}"
    [[ "$CAP_OUT" =~ ^HTTP/1\.[01]\ 200 ]] || fail "reply from s_server -www is not HTTP 200: [${CAP_OUT:0:300}]"
    # s_server -www describes the session: the version tcp-client negotiated.
    assert_contains "$CAP_OUT" "Protocol  : TLSv$v" "s_server -www page"
    assert_contains "$CAP_OUT" "</HTML>" "s_server -www page (whole reply)"
    assert_contains "$CAP_ERR" "protocol: TLSv$v" "tcp-client -v"
    assert_contains "$CAP_ERR" "verification: ok" "tcp-client -v"
}

# tcp-client -> gnutls-serv --http, default versions and TLS 1.2 forced from our side.
case_gnutls_server() {
    local pid="" port v
    port="$(free_port)"
    start_bg pid gnutls-serv --http -p "$port" \
        --x509certfile "$PKI/server.crt" --x509keyfile "$PKI/server.key"
    wait_for_log "$(server_err "$pid")" "listening on IPv4"
    for v in 1.3 1.2; do
        capture "$C" -v --tls --cafile "$PKI/ca.crt" --tls-max "$v" localhost "$port"
        assert_capture 0 "tcp-client --tls-max $v against gnutls-serv --http"
        [[ "$CAP_OUT" =~ ^HTTP/1\.[01]\ 200 ]] || fail "reply from gnutls-serv is not HTTP 200: [${CAP_OUT:0:300}]"
        assert_contains "$CAP_OUT" "<TD>Protocol version:</TD><TD>TLS$v</TD>" "gnutls-serv's page (it names the version)"
        assert_contains "$CAP_ERR" "protocol: TLSv$v" "tcp-client -v"
        assert_contains "$CAP_ERR" "verification: ok" "tcp-client -v"
    done
}

# openssl s_client -> tcp-server --tls, verifying chain and name.
case_openssl_client() { # 1.2|1.3
    local v="$1" pid="" port=""
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key"
    capture bash -c 'printf "hello from s_client" | openssl s_client "$@"' _ \
        "-tls${v/./_}" -connect "127.0.0.1:$port" -verify_return_error -CAfile "$PKI/ca.crt" \
        -servername localhost -verify_hostname localhost -ign_eof
    assert_capture 0 "openssl s_client -tls${v/./_}"
    assert_contains "$CAP_OUT" "New, TLSv$v, Cipher is " "s_client output"
    assert_contains "$CAP_OUT" "Verify return code: 0 (ok)" "s_client output"
    assert_contains "$CAP_OUT" "$REPLY_TLS" "s_client output"
    wait_for_log "$(server_out "$pid")" "[*] Received: hello from s_client"
}

# gnutls-cli -> tcp-server --tls, one TLS version forced by priority string.
case_gnutls_client() { # 1.2|1.3
    local v="$1" pid="" port=""
    start_server pid port "$S" -p 0 --tls --cert "$PKI/server.crt" --key "$PKI/server.key"
    capture bash -c 'printf "hello from gnutls-cli" | gnutls-cli "$@"' _ \
        --x509cafile "$PKI/ca.crt" --priority "NORMAL:-VERS-ALL:+VERS-TLS$v" -p "$port" localhost
    assert_capture 0 "gnutls-cli TLS $v"
    assert_contains "$CAP_OUT" "Description: (TLS$v-X.509)" "gnutls-cli output"
    assert_contains "$CAP_OUT" "The certificate is trusted." "gnutls-cli output"
    assert_contains "$CAP_OUT" "$REPLY_TLS" "gnutls-cli output"
    wait_for_log "$(server_out "$pid")" "[*] Received: hello from gnutls-cli"
}

# curl -> tcp-server --tls --http.
case_curl() { # 1.2|1.3
    local v="$1" pid="" port="" body
    start_server pid port "$S" -p 0 --tls --http --cert "$PKI/server.crt" --key "$PKI/server.key"
    capture curl -sS -v --max-time 20 "--tlsv$v" --tls-max "$v" --cacert "$PKI/ca.crt" \
        -o "$TEST_TMP/curl.body" -w '%{http_code}' "https://localhost:$port/"
    assert_capture 0 "curl --tlsv$v --tls-max $v"
    assert_eq 200 "$CAP_OUT" "HTTP status"
    assert_contains "$CAP_ERR" "SSL connection using TLSv$v" "curl -v"
    body="$(cat "$TEST_TMP/curl.body")"
    assert_eq "$REPLY_TLS" "$body" "body"
}

for v in 1.2 1.3; do
    run_case "tcp-client -> openssl s_server TLS $v" case_openssl_server "$v"
done
run_case "tcp-client -> gnutls-serv --http" case_gnutls_server
for v in 1.2 1.3; do
    run_case "openssl s_client TLS $v -> tcp-server" case_openssl_client "$v"
    run_case "gnutls-cli TLS $v -> tcp-server" case_gnutls_client "$v"
    run_case "curl TLS $v -> tcp-server --http" case_curl "$v"
done
finish_cases
