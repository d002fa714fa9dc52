#!/usr/bin/env bash
# udp-client and udp-server with other programs. Plaintext: udp-client against
# ncat -u -l (the seed's setup: ncat prints the datagram, its operator types
# the reply; and ncat -c cat as an echo server) and against
# socat UDP-RECVFROM:PORT,fork EXEC:cat; ncat -u and socat as clients of
# udp-server. DTLS 1.2, verified against the test CA: udp-client against
# openssl s_server -dtls1_2 (with and without its cookie exchange) and
# gnutls-serv --udp --echo; openssl s_client -dtls1_2 and gnutls-cli --udp
# against udp-server --dtls. DTLS 1.0 is refused.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/udp-client"
S="$SECSOCK_BIN/udp-server"
need "$C" "$S" ncat socat openssl gnutls-serv gnutls-cli python3 timeout mkfifo
PKI="$TEST_TMP/pki"
make_pki "$PKI"

REPLY_TEXT="udp-server is working"

# start_bg_fifo VAR_PID FIFO CMD... : like start_bg, but CMD reads its stdin
# from the named pipe FIFO (made here). The caller opens FIFO with
# exec N<>"$FIFO" (read-write, so it never blocks), writes what CMD should
# read, and closes it (exec N>&-) for EOF.
start_bg_fifo() {
    local -n _sbf_pid="$1"
    local fifo="$2"
    shift 2
    mkfifo "$fifo"
    # shellcheck disable=SC2016 # expanded by the inner shell
    start_bg _sbf_pid bash -c 'fifo="$1"; shift; exec "$@" <"$fifo"' _ "$fifo" "$@"
}

# wait_exit PID [SECONDS=10] : waits for PID (a start_bg process) to end and
# returns its exit status; fails if it is still running after SECONDS.
wait_exit() {
    local pid="$1" limit="${2:-10}" i st=0
    for ((i = 0; i < limit * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && fail "process $pid still running after ${limit}s: [$(cat "$(server_out "$pid")" "$(server_err "$pid")")]"
    wait "$pid" || st=$?
    return "$st"
}

# ---------------------------------------------------------------- plaintext

# The seed's setup: ncat -u -l prints the datagram; its operator types a reply.
case_client_vs_ncat_listen() {
    local port npid="" cpid="" st=0
    port="$(free_port)"
    start_bg_fifo npid "$TEST_TMP/ncat.in" ncat -u -l 127.0.0.1 "$port"
    exec 8<>"$TEST_TMP/ncat.in"
    wait_udp_bound "$port" # ncat has no "listening" line on stdout
    start_bg cpid "$C" -t 5 --retries 0 127.0.0.1 "$port"
    wait_for_log "$(server_out "$npid")" "Hello udp 127.0.0.1 server"
    assert_eq "Hello udp 127.0.0.1 server" "$(cat "$(server_out "$npid")")" "what ncat printed (the datagram, exactly)"
    printf 'typed into ncat\n' >&8
    wait_exit "$cpid" || st=$?
    assert_eq 0 "$st" "udp-client exit status ($(cat "$(server_err "$cpid")"))"
    assert_eq "typed into ncat" "$(cat "$(server_out "$cpid")")" "reply udp-client printed"
    exec 8>&-
}

case_client_vs_ncat_echo() {
    local port npid=""
    port="$(free_port)"
    start_bg npid ncat -u -l 127.0.0.1 "$port" -c cat
    wait_udp_bound "$port"
    capture "$C" 127.0.0.1 "$port" "echo through ncat -c cat"
    assert_capture 0 "udp-client against ncat -u -l -c cat"
    assert_eq "echo through ncat -c cat" "$CAP_OUT" "reply"
}

case_client_vs_socat() {
    local port spid="" m
    port="$(free_port)"
    start_bg spid socat "UDP-RECVFROM:$port,bind=127.0.0.1,fork" EXEC:cat
    wait_udp_bound "$port"
    for m in first second "third, from another client"; do
        capture "$C" 127.0.0.1 "$port" "$m"
        assert_capture 0 "udp-client against socat UDP-RECVFROM,fork EXEC:cat"
        assert_eq "$m" "$CAP_OUT" "reply from socat"
    done
    capture "$C" 127.0.0.1 "$port"
    assert_capture 0 "udp-client (default message) against socat"
    assert_eq "Hello udp 127.0.0.1 server" "$CAP_OUT" "default message echoed by socat"
    capture "$C" --count 10 127.0.0.1 "$port" "counted"
    assert_capture 0 "udp-client --count 10 against socat"
    assert_contains "$CAP_ERR" "10 exchanges, 10 replies, 0 lost"
}

case_ncat_client() {
    local pid="" port="" npid="" st=0
    start_server pid port "$S" -p 0
    start_bg_fifo npid "$TEST_TMP/ncat-client.in" ncat -u 127.0.0.1 "$port"
    exec 8<>"$TEST_TMP/ncat-client.in"
    printf 'hello from ncat' >&8
    wait_for_log "$(server_out "$pid")" "[*] Received from 127.0.0.1:"
    assert_file_contains "$(server_out "$pid")" ": hello from ncat"
    wait_for_log "$(server_out "$npid")" "$REPLY_TEXT"
    assert_eq "$REPLY_TEXT" "$(cat "$(server_out "$npid")")" "what ncat printed"
    exec 8>&-
    wait_exit "$npid" || st=$?
    assert_eq 0 "$st" "ncat -u exit status"
}

case_socat_client() {
    local pid="" port="" spid="" st=0
    start_server pid port "$S" -p 0 --echo
    start_bg_fifo spid "$TEST_TMP/socat-client.in" socat - "UDP:127.0.0.1:$port"
    exec 8<>"$TEST_TMP/socat-client.in"
    printf 'hello from socat' >&8
    wait_for_log "$(server_out "$pid")" ": hello from socat"
    wait_for_log "$(server_out "$spid")" "hello from socat"
    assert_eq "hello from socat" "$(cat "$(server_out "$spid")")" "what socat printed (--echo)"
    exec 8>&-
    wait_exit "$spid" || st=$?
    assert_eq 0 "$st" "socat exit status"
}

# --------------------------------------------------------------------- DTLS

# openssl s_server -dtls1_2 has no echo mode for DTLS (-rev is TLS only): it
# prints what it receives and sends what is typed on its stdin.
case_client_vs_s_server() { # [-listen]
    local port spid="" cpid="" st=0 out
    port="$(free_port)"
    start_bg_fifo spid "$TEST_TMP/s_server${1:-}.in" openssl s_server -dtls1_2 -accept "127.0.0.1:$port" \
        -cert "$PKI/server.crt" -key "$PKI/server.key" "$@"
    exec 8<>"$TEST_TMP/s_server${1:-}.in"
    wait_for_log "$(server_out "$spid")" "ACCEPT"
    start_bg cpid "$C" -v --dtls --cafile "$PKI/ca.crt" -t 5 --retries 1 localhost "$port" "hello s_server"
    wait_for_log "$(server_out "$spid")" "hello s_server"
    printf 'typed into s_server\n' >&8
    wait_exit "$cpid" 20 || st=$?
    assert_eq 0 "$st" "udp-client exit status ($(cat "$(server_err "$cpid")"))"
    out="$(cat "$(server_out "$cpid")")"
    assert_eq "typed into s_server" "$out" "reply udp-client printed"
    local err
    err="$(cat "$(server_err "$cpid")")"
    assert_contains "$err" "protocol: DTLSv1.2" "udp-client -v"
    assert_contains "$err" "verification: ok" "udp-client -v"
    assert_contains "$err" "subject: CN=localhost" "udp-client -v"
    assert_file_contains "$(server_out "$spid")" "CIPHER is ECDHE-"
    exec 8>&-
}

case_client_vs_gnutls_serv() {
    local port gpid="" m
    port="$(free_port)"
    start_bg gpid gnutls-serv --udp --echo -p "$port" \
        --x509certfile "$PKI/server.crt" --x509keyfile "$PKI/server.key"
    wait_for_log "$(server_err "$gpid")" "UDP Echo Server listening on IPv4"
    for m in "hello gnutls-serv" "a second session"; do
        capture "$C" --dtls --cafile "$PKI/ca.crt" localhost "$port" "$m"
        assert_capture 0 "udp-client --dtls against gnutls-serv --udp --echo"
        assert_eq "$m" "$CAP_OUT" "reply (echo) from gnutls-serv"
    done
    capture "$C" -v --dtls --cafile "$PKI/ca.crt" 127.0.0.1 "$port" "by address"
    assert_capture 0 "udp-client -v --dtls 127.0.0.1 against gnutls-serv"
    assert_eq "by address" "$CAP_OUT" "reply"
    assert_contains "$CAP_ERR" "verification: ok"
    assert_contains "$CAP_ERR" "protocol: DTLSv1.2"
    # gnutls-serv's certificate is not for wrong.example.
    capture "$C" --dtls --cafile "$PKI/ca.crt" --servername wrong.example localhost "$port" "x"
    assert_capture 4 "udp-client --dtls --servername wrong.example against gnutls-serv"
    assert_contains "$CAP_ERR" "hostname mismatch"
}

case_s_client() {
    local pid="" port="" cpid="" st=0 log
    start_server pid port "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    log="$(server_out "$pid")"
    start_bg_fifo cpid "$TEST_TMP/s_client.in" openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
        -CAfile "$PKI/ca.crt" -verify_return_error -verify_hostname localhost -quiet -no_ign_eof
    exec 8<>"$TEST_TMP/s_client.in"
    printf 'hello from s_client\n' >&8
    wait_for_log "$log" ': hello from s_client\n'
    wait_for_log "$(server_out "$cpid")" "$REPLY_TEXT"
    assert_eq "$REPLY_TEXT" "$(cat "$(server_out "$cpid")")" "what s_client printed"
    exec 8>&-
    wait_exit "$cpid" || st=$?
    assert_eq 0 "$st" "openssl s_client exit status ($(cat "$(server_err "$cpid")"))"
    assert_file_contains "$(server_err "$cpid")" "verify return:1"
    wait_for_log "$log" " closed the session"
}

case_gnutls_cli() {
    local pid="" port="" cpid="" st=0 log
    start_server pid port "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key" --echo
    log="$(server_out "$pid")"
    start_bg_fifo cpid "$TEST_TMP/gnutls-cli.in" gnutls-cli --udp --x509cafile "$PKI/ca.crt" -p "$port" localhost
    exec 8<>"$TEST_TMP/gnutls-cli.in"
    printf 'hello from gnutls-cli\n' >&8
    wait_for_log "$log" ': hello from gnutls-cli\n'
    wait_for_log "$(server_out "$cpid")" "hello from gnutls-cli"
    exec 8>&-
    wait_exit "$cpid" || st=$?
    assert_eq 0 "$st" "gnutls-cli exit status ($(cat "$(server_err "$cpid")"))"
    local out
    out="$(cat "$(server_out "$cpid")" "$(server_err "$cpid")")"
    assert_contains "$out" "The certificate is trusted" "gnutls-cli output"
    assert_contains "$out" "(DTLS1.2-X.509)" "gnutls-cli output"

    # And the default reply, read by gnutls-cli.
    local pid2="" port2="" cpid2=""
    start_server pid2 port2 "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    start_bg_fifo cpid2 "$TEST_TMP/gnutls-cli2.in" gnutls-cli --udp --x509cafile "$PKI/ca.crt" -p "$port2" localhost
    exec 8<>"$TEST_TMP/gnutls-cli2.in"
    printf 'ping\n' >&8
    wait_for_log "$(server_out "$cpid2")" "$REPLY_TEXT"
    wait_for_log "$(server_out "$pid2")" ': ping\n'
    exec 8>&-
    st=0
    wait_exit "$cpid2" || st=$?
    assert_eq 0 "$st" "gnutls-cli exit status"
}

# DTLS 1.0 is refused, by OpenSSL and by GnuTLS clients; nothing is delivered.
case_dtls1_refused() {
    local pid="" port="" log
    start_server pid port "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    log="$(server_out "$pid")"
    # shellcheck disable=SC2016 # expanded by the inner shell
    capture bash -c 'printf "over DTLS 1.0\n" | openssl s_client -dtls1 -connect "127.0.0.1:$1" -CAfile "$2"' \
        _ "$port" "$PKI/ca.crt"
    ((CAP_RC != 0 && CAP_RC != 124)) || fail "openssl s_client -dtls1: expected a failure, got exit $CAP_RC: [$CAP_OUT] [$CAP_ERR]"
    assert_contains "$CAP_ERR" "alert protocol version" "openssl s_client -dtls1 stderr"
    assert_not_contains "$CAP_OUT" "$REPLY_TEXT" "openssl s_client -dtls1 output"
    wait_for_count "$log" "[!]" 1
    assert_contains "$(grep -F '[!]' "$log")" "handshake failed" "server log"

    # shellcheck disable=SC2016 # expanded by the inner shell
    capture bash -c 'printf "over DTLS 1.0\n" | gnutls-cli --udp --priority "NORMAL:-VERS-ALL:+VERS-DTLS1.0" \
        --x509cafile "$2" -p "$1" localhost' _ "$port" "$PKI/ca.crt"
    ((CAP_RC != 0 && CAP_RC != 124)) || fail "gnutls-cli with DTLS 1.0 only: expected a failure, got exit $CAP_RC: [$CAP_OUT] [$CAP_ERR]"
    assert_not_contains "$CAP_OUT" "$REPLY_TEXT" "gnutls-cli DTLS 1.0 output"
    # (GnuTLS may send its ClientHello again: one [!] line per attempt.)
    local i
    for ((i = 0; i < 100; i++)); do
        (($(count_in "$log" "[!]") >= 2)) && break
        sleep 0.05
    done
    (($(count_in "$log" "[!]") >= 2)) || fail "no handshake failure logged for gnutls-cli's DTLS 1.0: [$(cat "$log")]"
    assert_eq 0 "$(count_in "$log" "over DTLS 1.0")" "messages delivered over DTLS 1.0"
}

run_case "udp-client vs ncat -u -l (prints the datagram, reply typed)" case_client_vs_ncat_listen
run_case "udp-client vs ncat -u -l -c cat" case_client_vs_ncat_echo
run_case "udp-client vs socat UDP-RECVFROM,fork EXEC:cat" case_client_vs_socat
run_case "ncat -u vs udp-server" case_ncat_client
run_case "socat vs udp-server --echo" case_socat_client
run_case "udp-client --dtls vs openssl s_server -dtls1_2" case_client_vs_s_server
run_case "udp-client --dtls vs openssl s_server -dtls1_2 -listen (cookies)" case_client_vs_s_server -listen
run_case "udp-client --dtls vs gnutls-serv --udp --echo" case_client_vs_gnutls_serv
run_case "openssl s_client -dtls1_2 vs udp-server --dtls" case_s_client
run_case "gnutls-cli --udp vs udp-server --dtls" case_gnutls_cli
run_case "DTLS 1.0 refused" case_dtls1_refused
finish_cases
