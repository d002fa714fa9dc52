#!/usr/bin/env bash
# udp-client <-> udp-server, plaintext and DTLS 1.2 (verified against the test
# CA): the default message and reply, a custom message, --echo, MESSAGE "-"
# from stdin, --count statistics, --no-reply, retries through a lossy path,
# no server at all (exit 5), oversize messages (exit 2, nothing sent),
# truncated replies (exit 1), DTLS verification failures (exit 4),
# --self-signed + --pin, mutual DTLS, key logging, SIGTERM with an open DTLS
# session, escaped control characters in the server's log.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/udp-client"
S="$SECSOCK_BIN/udp-server"
need "$C" "$S" openssl python3 timeout mkfifo
PKI="$TEST_TMP/pki"
make_pki "$PKI"

REPLY_TEXT="udp-server is working"

server_args() { # MODE [CERT-NAME]
    [[ "$1" == dtls ]] && printf '%s\n' --dtls --cert "$PKI/${2:-server}.crt" --key "$PKI/${2:-server}.key"
    return 0
}
client_args() { # MODE
    [[ "$1" == dtls ]] && printf '%s\n' --dtls --cafile "$PKI/ca.crt"
    return 0
}

ipv6_works() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

now_ms() { # milliseconds since the epoch
    local t="$EPOCHREALTIME"
    printf '%s\n' "$(( ${t%.*} * 1000 + 10#${t#*.} / 1000 ))"
}

# The server's log holds nothing but its start-up lines: no datagram, no
# session.
assert_server_logged_nothing() { # LOG
    local extra
    extra="$(grep -vE '^\[\*\] (Listening on |Self-signed certificate )' "$1" || true)"
    assert_eq "" "$extra" "server log lines besides its start-up"
}

# The default message ("Hello udp HOST server") and the default reply.
case_default() { # MODE HOST
    local mode="$1" host="$2" bind=127.0.0.1 shown=127.0.0.1 pid="" port="" log
    [[ "$host" == "::1" ]] && bind="::1" shown="[::1]"
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -b "$bind" -p 0 "${sargs[@]}"
    log="$(server_out "$pid")"
    if [[ "$mode" == dtls ]]; then
        assert_file_contains "$log" "[*] Listening on $shown:$port (dtls)"
    else
        grep -qxF "[*] Listening on $shown:$port" "$log" || fail "no exact listening line: [$(cat "$log")]"
    fi
    capture "$C" "${cargs[@]}" "$host" "$port"
    assert_capture 0 "udp-client $mode $host"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply on stdout"
    assert_eq "" "$CAP_ERR" "udp-client stderr"
    wait_for_log "$log" "[*] Received from "
    grep -F "[*] Received from $shown:" "$log" | grep -qE ":[0-9]+: Hello udp ${host//./\\.} server\$" ||
        fail "no [*] Received line with the default message in [$(cat "$log")]"
    if [[ "$mode" == dtls ]]; then
        assert_file_contains "$log" "[*] Accepted connection from "
        wait_for_log "$log" " closed the session"
    fi
}

case_custom() { # MODE
    local mode="$1" pid="" port=""
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}" --reply "custom reply, $mode"
    capture "$C" "${cargs[@]}" localhost "$port" "a custom message"
    assert_capture 0 "udp-client with a message"
    assert_eq "custom reply, $mode" "$CAP_OUT" "reply"
    wait_for_log "$(server_out "$pid")" ": a custom message"
}

# --echo returns the datagram; MESSAGE "-" reads it from stdin, bytes as they are.
case_echo_stdin() { # MODE
    local mode="$1" pid="" port="" msg
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}" --echo
    capture "$C" "${cargs[@]}" localhost "$port" "echo me, $mode"
    assert_capture 0 "udp-client to --echo"
    assert_eq "echo me, $mode" "$CAP_OUT" "echoed datagram"

    msg=$'from stdin\nline 2\twith a tab\n\n'
    capture "$C" "${cargs[@]}" localhost "$port" - <<<"${msg%$'\n'}"
    assert_capture 0 "udp-client MESSAGE - (stdin)"
    assert_eq "$msg" "$CAP_OUT" "datagram read from stdin, echoed (trailing newlines kept)"
    wait_for_log "$(server_out "$pid")" ': from stdin\nline 2\twith a tab\n\n'

    # Binary bytes (NUL included) from stdin come back unchanged.
    head -c 1000 /dev/urandom >"$TEST_TMP/bin.$mode"
    timeout -k 5 30 "$C" "${cargs[@]}" localhost "$port" - <"$TEST_TMP/bin.$mode" >"$TEST_TMP/bin.$mode.back" ||
        fail "udp-client with 1000 random bytes from stdin failed"
    cmp -s "$TEST_TMP/bin.$mode" "$TEST_TMP/bin.$mode.back" ||
        fail "1000 random bytes came back different ($(stat -c %s "$TEST_TMP/bin.$mode.back") bytes)"
}

case_count() { # MODE
    local mode="$1" pid="" port="" log
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}"
    log="$(server_out "$pid")"
    capture "$C" "${cargs[@]}" -t 10 --count 50 localhost "$port" "count me" # no resend: exactly 50
    assert_capture 0 "udp-client --count 50"
    local re='^50 exchanges, 50 replies, 0 lost \(0\.0%\), round trip min/median/max = ([0-9.]+)/([0-9.]+)/([0-9.]+) ms$'
    [[ "${CAP_ERR%$'\n'}" =~ $re ]] || fail "--count 50 statistics line not as expected: [$CAP_ERR]"
    python3 -c 'import sys; a, b, c = map(float, sys.argv[1:]); sys.exit(0 if 0 < a <= b <= c else 1)' \
        "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" ||
        fail "round trips not ordered min <= median <= max (> 0): [$CAP_ERR]"
    wait_for_count "$log" ": count me" 50
    # In DTLS all 50 exchanges ride one session.
    [[ "$mode" == dtls ]] && assert_eq 1 "$(count_in "$log" "[*] Accepted connection from")" "DTLS sessions for --count 50"
    return 0
}

case_no_reply() { # MODE
    local mode="$1" pid="" port="" t0 ms
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}"
    t0="$(now_ms)"
    # A long per-try timeout: waiting for a reply would show as 10 s, far
    # from the handshake and send a loaded machine may take.
    capture "$C" "${cargs[@]}" -t 10 --no-reply localhost "$port" "fire and forget"
    ms=$(($(now_ms) - t0))
    assert_capture 0 "udp-client --no-reply"
    assert_eq "" "$CAP_OUT" "stdout with --no-reply"
    ((ms < 5000)) || fail "--no-reply took ${ms} ms: it waited for a reply (the per-try timeout is 10 s)"
    wait_for_log "$(server_out "$pid")" ": fire and forget"
}

# A plain server that ignores the first datagram: the client sends again.
case_retry_plain() {
    local pid="" port="" log
    start_server pid port python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("[*] Listening on 127.0.0.1:%d" % s.getsockname()[1])
n = 0
while True:
    data, peer = s.recvfrom(65535)
    n += 1
    print("[*] datagram %d from %s:%d: %r" % (n, peer[0], peer[1], data))
    if n == 1:
        print("[*] dropped")
        continue
    s.sendto(b"answered the second try", peer)
'
    log="$(server_out "$pid")"
    capture "$C" -v -t 3 127.0.0.1 "$port" "are you there"
    assert_capture 0 "udp-client to a server that drops the first datagram"
    assert_eq "answered the second try" "$CAP_OUT" "reply"
    assert_contains "$CAP_ERR" "sending again" "-v output"
    assert_file_contains "$log" "[*] datagram 1 from 127.0.0.1:"
    assert_file_contains "$log" "[*] dropped"
    wait_for_count "$log" ": b'are you there'" 2
}

# A UDP relay between udp-client and udp-server --dtls that drops the first
# client datagram whose first byte (the DTLS content type) is TYPE: 22 drops
# the ClientHello (handshake retransmission), 23 the first application record
# (the message is sent again).
DROP_PROXY='
import select, socket, sys
upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
upstream.connect(("127.0.0.1", int(sys.argv[1])))
drop_type = int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("[*] Listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
client, dropped = None, False
while True:
    ready, _, _ = select.select([s, upstream], [], [])
    if s in ready:
        data, client = s.recvfrom(65535)
        if not dropped and data and data[0] == drop_type:
            dropped = True
            print("[*] dropped %d bytes of content type %d" % (len(data), data[0]), flush=True)
        else:
            upstream.send(data)
    if upstream in ready:
        try:
            data = upstream.recv(65535)
        except ConnectionRefusedError:
            continue
        if client:
            s.sendto(data, client)
'

case_retry_dtls() { # CONTENT-TYPE
    local type="$1" spid="" sport="" ppid="" pport="" log
    start_server spid sport "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    start_server ppid pport python3 -u -c "$DROP_PROXY" "$sport" "$type"
    log="$(server_out "$spid")"
    capture "$C" --dtls --cafile "$PKI/ca.crt" -t 3 localhost "$pport" "through a lossy path"
    assert_capture 0 "udp-client --dtls through a relay dropping the first record of type $type"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply"
    assert_file_contains "$(server_out "$ppid")" "[*] dropped "
    wait_for_count "$log" ": through a lossy path" 1
    assert_eq 1 "$(count_in "$log" "[*] Accepted connection from")" "DTLS sessions"
}

# No server at all (ICMP port unreachable is not a reply): exit 5 after
# timeout x (retries + 1).
case_no_server() { # MODE TIMEOUT RETRIES
    local mode="$1" t="$2" r="$3" port t0 ms want
    local -a cargs targs=()
    mapfile -t cargs < <(client_args "$mode")
    [[ -n "$t" ]] && targs=(-t "$t" --retries "$r")
    port="$(free_port)"
    t0="$(now_ms)"
    capture "$C" "${cargs[@]}" "${targs[@]}" localhost "$port" "anyone?"
    ms=$(($(now_ms) - t0))
    assert_capture 5 "udp-client $mode ${targs[*]} with no server"
    assert_eq "" "$CAP_OUT" "stdout without a server"
    want=$(( ${t:-2} * 1000 * (${r:-3} + 1) ))
    ((ms >= want * 9 / 10 && ms <= want + 3000)) ||
        fail "no server: gave up after ${ms} ms, expected about ${want} ms (timeout x (retries + 1))"
    if [[ "$mode" == plain ]]; then
        assert_contains "$CAP_ERR" "no reply from 127.0.0.1:$port after $((${r:-3} + 1)) tries"
    else
        assert_contains "$CAP_ERR" "timed out"
    fi
}

# A message too big for one datagram (or DTLS record) is refused before
# anything is sent; the largest one that fits goes through whole.
case_oversize() { # MODE
    local mode="$1" pid="" port="" log big fits
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}" --echo
    log="$(server_out "$pid")"
    if [[ "$mode" == plain ]]; then big=70000 fits=65507; else big=2000 fits=1200; fi
    head -c "$big" /dev/zero | tr '\0' x >"$TEST_TMP/big.$mode"
    capture "$C" "${cargs[@]}" localhost "$port" "$(cat "$TEST_TMP/big.$mode")"
    assert_capture 2 "udp-client with a $big-byte message ($mode)"
    assert_eq "" "$CAP_OUT" "stdout"
    assert_contains "$CAP_ERR" "does not fit in one"
    if [[ "$mode" == plain ]]; then
        assert_contains "$CAP_ERR" "(at most 65507)"
    else
        assert_contains "$CAP_ERR" "DTLS record"
    fi
    # The same from stdin.
    capture "$C" "${cargs[@]}" localhost "$port" - <"$TEST_TMP/big.$mode"
    assert_capture 2 "udp-client with a $big-byte message from stdin ($mode)"
    assert_contains "$CAP_ERR" "does not fit in one"
    sleep 0.5
    assert_eq 0 "$(count_in "$log" "[*] Received from")" "datagrams the server received"
    cp "$log" "$TEST_TMP/oversize.$mode.log"

    head -c "$fits" /dev/urandom >"$TEST_TMP/fits.$mode"
    timeout -k 5 30 "$C" "${cargs[@]}" localhost "$port" - <"$TEST_TMP/fits.$mode" >"$TEST_TMP/fits.$mode.back" ||
        fail "udp-client with a $fits-byte message ($mode) failed"
    cmp -s "$TEST_TMP/fits.$mode" "$TEST_TMP/fits.$mode.back" ||
        fail "$fits bytes ($mode) came back different ($(stat -c %s "$TEST_TMP/fits.$mode.back") bytes)"
    if [[ "$mode" == dtls ]]; then
        # A smaller path MTU shrinks the limit.
        capture "$C" "${cargs[@]}" --mtu 576 localhost "$port" - <"$TEST_TMP/fits.$mode"
        assert_capture 2 "udp-client --mtu 576 with a $fits-byte message"
        assert_contains "$CAP_ERR" "see --mtu"
    fi
    # Refused before anything went out: no datagram, no DTLS session either.
    assert_server_logged_nothing "$TEST_TMP/oversize.$mode.log"
}

# Every size across the limit: up to the largest message that fits, each is
# echoed intact; from the next byte on, each is refused with exit 2, and the
# "at most N" the refusal names is that largest size.
case_size_limit() { # MODE FROM TO [EXPECTED-LARGEST]
    local mode="$1" from="$2" to="$3" want="${4:-}" pid="" port="" log n msg largest=0 refused=0
    local -a sargs cargs said=()
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}" --echo
    log="$(server_out "$pid")"
    head -c $((to * 2)) /dev/urandom | base64 -w0 >"$TEST_TMP/text.$mode"
    for ((n = from; n <= to; n++)); do
        msg="$(head -c "$n" "$TEST_TMP/text.$mode")"
        capture "$C" "${cargs[@]}" 127.0.0.1 "$port" - <<<"$msg"
        # (<<< adds a newline: the message is $n + 1 bytes.)
        case "$CAP_RC" in
        0)
            ((refused == 0)) || fail "a $((n + 1))-byte message went through after one of $refused bytes was refused"
            assert_eq "$msg" "${CAP_OUT%$'\n'}" "echo of a $((n + 1))-byte message"
            largest=$((n + 1))
            ;;
        2)
            ((refused > 0)) || refused=$((n + 1))
            assert_eq "" "$CAP_OUT" "stdout when a $((n + 1))-byte message is refused"
            [[ "$CAP_ERR" =~ does\ not\ fit.*at\ most\ ([0-9]+) ]] ||
                fail "refusal of a $((n + 1))-byte message does not say how much fits: [$CAP_ERR]"
            said+=("${BASH_REMATCH[1]}")
            ;;
        *) fail "udp-client with a $((n + 1))-byte message ($mode): exit $CAP_RC, expected 0 (echoed) or 2 (refused); stderr: [$CAP_ERR]" ;;
        esac
    done
    ((largest > 0 && refused > 0)) || fail "sizes $((from + 1))..$((to + 1)) do not straddle the limit (largest echoed $largest, first refused $refused)"
    assert_eq $((largest + 1)) "$refused" "first refused size (largest echoed: $largest)"
    [[ -z "$want" ]] || assert_eq "$want" "$largest" "largest message that fits ($mode, IPv4)"
    local s
    for s in "${said[@]}"; do
        assert_eq "$largest" "$s" "the \"at most\" figure in a refusal (the largest that went through)"
    done
    sleep 0.3
    assert_eq $((largest - from)) "$(count_in "$log" "[*] Received from")" "datagrams the server received (refused ones never sent)"
}

case_truncated() { # MODE
    local mode="$1" pid="" port="" long
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    long="a reply of more than sixteen bytes, $mode"
    start_server pid port "$S" -p 0 "${sargs[@]}" --reply "$long"
    capture "$C" "${cargs[@]}" --max-reply 16 localhost "$port" "short"
    assert_capture 1 "udp-client --max-reply 16 with a longer reply"
    assert_contains "$CAP_ERR" "truncated"
    [[ "$long" == "$CAP_OUT"* ]] || fail "stdout of a truncated reply is not a prefix of the reply: [$CAP_OUT]"
    ((${#CAP_OUT} <= 16)) || fail "more than --max-reply 16 bytes printed: [$CAP_OUT]"
    # A reply that fits exactly is not truncated.
    capture "$C" "${cargs[@]}" --max-reply "${#long}" localhost "$port" "short"
    assert_capture 0 "udp-client --max-reply ${#long} with a reply of exactly that size"
    assert_eq "$long" "$CAP_OUT" "reply"
}

# DTLS certificate verification failures: exit 4, one line naming the cause,
# and the message is never delivered.
case_verify_failures() {
    local pid="" port="" pid2="" port2="" pid3="" port3="" zero
    start_server pid port "$S" -p 0 --dtls --cert "$PKI/unknownca.crt" --key "$PKI/unknownca.key"
    capture "$C" --dtls --cafile "$PKI/ca.crt" localhost "$port" "secret"
    assert_capture 4 "udp-client --dtls against a certificate from an unknown CA"
    assert_contains "$CAP_ERR" "certificate verify failed"
    assert_contains "$CAP_ERR" "unknown CA"
    assert_eq "" "$CAP_OUT" "stdout"

    start_server pid2 port2 "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    capture "$C" --dtls --cafile "$PKI/ca.crt" --servername wrong.example localhost "$port2" "secret"
    assert_capture 4 "udp-client --dtls --servername wrong.example"
    assert_contains "$CAP_ERR" "hostname mismatch (wanted wrong.example)"
    zero="sha256:$(printf '%064d' 0)"
    capture "$C" --dtls --pin "$zero" localhost "$port2" "secret"
    assert_capture 4 "udp-client --dtls --pin (wrong fingerprint)"
    assert_contains "$CAP_ERR" "pin mismatch"
    assert_contains "$CAP_ERR" "$(cert_fingerprint "$PKI/server.crt")"

    start_server pid3 port3 "$S" -p 0 --dtls --cert "$PKI/wronghost.crt" --key "$PKI/wronghost.key"
    capture "$C" --dtls --cafile "$PKI/ca.crt" localhost "$port3" "secret"
    assert_capture 4 "udp-client --dtls to localhost, certificate for wrong.example"
    assert_contains "$CAP_ERR" "hostname mismatch (wanted localhost)"

    local p
    for p in "$pid" "$pid2" "$pid3"; do
        sleep 0.2
        assert_eq 0 "$(count_in "$(server_out "$p")" "[*] Received from")" "messages delivered after a failed verification"
    done
}

case_self_signed_pin() {
    local pid="" port="" fp hex
    start_server pid port "$S" -p 0 --dtls --self-signed
    fp="$(grep -o 'sha256:[0-9A-Fa-f:]*' "$(server_out "$pid")" | head -n1)"
    [[ ${#fp} == 102 ]] || fail "no sha256:XX:... fingerprint printed by --self-signed: [$(cat "$(server_out "$pid")")]"
    capture "$C" --dtls --pin "$fp" localhost "$port" "pinned"
    assert_capture 0 "udp-client --dtls --pin (printed fingerprint)"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply"
    hex="${fp#sha256:}"
    hex="${hex//:/}"
    capture "$C" --dtls --pin "sha256:${hex,,}" 127.0.0.1 "$port" "pinned by IP"
    assert_capture 0 "udp-client --dtls --pin (lower case, no colons, by IP)"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply"
    capture "$C" --dtls localhost "$port" "not pinned"
    assert_capture 4 "udp-client --dtls without --pin against a self-signed server"
    assert_contains "$CAP_ERR" "certificate verify failed"
    wait_for_count "$(server_out "$pid")" "[*] Received from" 2
}

case_mutual_dtls() {
    local pid="" port="" log
    start_server pid port "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key" \
        --verify-client --cafile "$PKI/ca.crt" -v
    log="$(server_out "$pid")"
    capture "$C" --dtls --cafile "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key" \
        localhost "$port" "with a client certificate"
    assert_capture 0 "udp-client --dtls with a client certificate"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply"
    wait_for_log "$log" ": with a client certificate"
    assert_file_contains "$log" "subject: CN=secsock client"

    capture "$C" --dtls --cafile "$PKI/ca.crt" localhost "$port" "no certificate"
    assert_capture 4 "udp-client --dtls without a client certificate"
    wait_for_count "$log" "[!]" 1
    assert_eq 0 "$(count_in "$log" ": no certificate")" "messages delivered without a client certificate"
}

keylog_ok() { # FILE : 0600, CLIENT_RANDOM lines, all in NSS key-log format
    local f="$1"
    [[ -s "$f" ]] || fail "key-log file $f is missing or empty"
    assert_eq 600 "$(stat -c %a "$f")" "mode of the key-log file $f"
    grep -qE '^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$' "$f" || fail "$f has no well-formed CLIENT_RANDOM line: [$(cat "$f")]"
    if grep -vqE '^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$' "$f"; then
        fail "$f has a line not in NSS key-log format: [$(cat "$f")]"
    fi
}

case_keylog() {
    local pid="" port="" line
    umask 022
    start_server pid port "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key" \
        --keylog "$TEST_TMP/server.keys"
    assert_file_contains "$(server_err "$pid")" "$TEST_TMP/server.keys"
    capture "$C" --dtls --cafile "$PKI/ca.crt" --keylog "$TEST_TMP/client.keys" localhost "$port" "logged"
    assert_capture 0 "udp-client --dtls --keylog"
    assert_eq "$REPLY_TEXT" "$CAP_OUT" "reply"
    assert_contains "$CAP_ERR" "warning" "stderr with --keylog"
    assert_contains "$CAP_ERR" "$TEST_TMP/client.keys" "stderr with --keylog"
    keylog_ok "$TEST_TMP/client.keys"

    capture env SSLKEYLOGFILE="$TEST_TMP/env.keys" "$C" --dtls --cafile "$PKI/ca.crt" localhost "$port" "logged"
    assert_capture 0 "udp-client --dtls with SSLKEYLOGFILE"
    assert_contains "$CAP_ERR" "$TEST_TMP/env.keys" "stderr with SSLKEYLOGFILE"
    keylog_ok "$TEST_TMP/env.keys"

    wait_for_count "$(server_out "$pid")" ": logged" 2
    keylog_ok "$TEST_TMP/server.keys"
    while IFS= read -r line; do
        grep -qxF -- "$line" "$TEST_TMP/server.keys" || fail "client key-log line [$line] is not in the server's key log"
    done < <(cat "$TEST_TMP/client.keys" "$TEST_TMP/env.keys")

    capture "$C" --dtls --cafile "$PKI/ca.crt" --keylog "$TEST_TMP/no/such/dir/k.keys" localhost "$port" "x"
    assert_capture 2 "udp-client --keylog in a missing directory"
    assert_contains "$CAP_ERR" "$TEST_TMP/no/such/dir/k.keys"
}

case_sigterm_plain() {
    local pid="" port="" st=0 i
    start_server pid port "$S" -p 0
    capture "$C" localhost "$port" "one"
    assert_capture 0 "udp-client"
    capture "$C" localhost "$port" "two"
    assert_capture 0 "udp-client"
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && fail "udp-server still running 5s after SIGTERM"
    wait "$pid" || st=$?
    assert_eq 0 "$st" "udp-server exit status after SIGTERM"
    assert_file_contains "$(server_out "$pid")" "[*] Stopped: 2 served"
}

# SIGTERM while a DTLS session is open (openssl s_client keeps it open): the
# server closes it with close_notify (s_client ends by itself), prints its
# summary and exits 0.
case_sigterm_dtls() {
    local pid="" port="" cpid="" st=0 i fifo="$TEST_TMP/s_client.in" log
    start_server pid port "$S" -p 0 --dtls --cert "$PKI/server.crt" --key "$PKI/server.key"
    log="$(server_out "$pid")"
    mkfifo "$fifo"
    # shellcheck disable=SC2016 # expanded by the inner shell
    start_bg cpid bash -c 'exec openssl s_client -dtls1_2 -connect "127.0.0.1:$1" -CAfile "$2" \
        -verify_return_error -quiet -no_ign_eof -msg <"$3"' _ "$port" "$PKI/ca.crt" "$fifo"
    exec 9<>"$fifo"
    printf 'session stays open\n' >&9
    wait_for_log "$log" ": session stays open\n"
    wait_for_log "$(server_out "$cpid")" "$REPLY_TEXT"
    alive "$cpid" "openssl s_client (the open session)"
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && fail "udp-server still running 5s after SIGTERM with an open DTLS session"
    wait "$pid" || st=$?
    assert_eq 0 "$st" "udp-server exit status after SIGTERM"
    assert_file_contains "$log" "[*] Stopped: 1 served"
    # UDP has no FIN: s_client only ends because it received close_notify.
    for ((i = 0; i < 100; i++)); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$cpid" 2>/dev/null && fail "openssl s_client still running 5s after the server stopped: no close_notify"
    st=0
    wait "$cpid" || st=$?
    assert_eq 0 "$st" "openssl s_client exit status"
    grep -A1 -E '^<<< .*content_type=21' "$(server_out "$cpid")" | grep -qE '^ +01 00 *$' ||
        fail "s_client received no close_notify alert (01 00): [$(cat "$(server_out "$cpid")")]"
    exec 9>&-
}

# Control characters in a datagram are escaped in the server's log: a peer
# cannot write escape sequences to the operator's terminal.
case_escaped_log() { # MODE
    local mode="$1" pid="" port="" log
    local -a sargs cargs
    mapfile -t sargs < <(server_args "$mode")
    mapfile -t cargs < <(client_args "$mode")
    start_server pid port "$S" -p 0 "${sargs[@]}"
    log="$(server_out "$pid")"
    capture "$C" "${cargs[@]}" localhost "$port" $'red \e[31mALERT\e[0m\r\n\ttab\a'
    assert_capture 0 "udp-client with control characters"
    wait_for_log "$log" 'red \x1b[31mALERT\x1b[0m\r\n\ttab\x07'
    if grep -q $'\e' "$log"; then
        fail "raw ESC byte in the server log: [$(cat -v "$log")]"
    fi
    if grep -q $'\a' "$log"; then
        fail "raw BEL byte in the server log: [$(cat -v "$log")]"
    fi
}

hosts=(localhost 127.0.0.1)
if ipv6_works; then hosts+=(::1); else _it_log "IPv6 loopback unavailable: ::1 not tested"; fi
for mode in plain dtls; do
    for host in "${hosts[@]}"; do
        run_case "default message and reply, $mode, $host" case_default "$mode" "$host"
    done
    run_case "custom message, $mode" case_custom "$mode"
    run_case "--echo and MESSAGE - (stdin), $mode" case_echo_stdin "$mode"
    run_case "--count 50 statistics, $mode" case_count "$mode"
    run_case "--no-reply, $mode" case_no_reply "$mode"
    run_case "oversize message refused, nothing sent, $mode" case_oversize "$mode"
    run_case "reply longer than --max-reply, $mode" case_truncated "$mode"
    run_case "control characters escaped in the log, $mode" case_escaped_log "$mode"
done
run_case "message size limit (IPv4), plain" case_size_limit plain 65495 65515 65507
run_case "message size limit, dtls" case_size_limit dtls 1190 1290
run_case "retries: a server that drops the first datagram" case_retry_plain
run_case "DTLS: the first ClientHello lost (handshake retransmission)" case_retry_dtls 22
run_case "DTLS: the first application record lost (sent again)" case_retry_dtls 23
run_case "no server: exit 5 after the default 4 tries of 2 s" case_no_server plain "" ""
run_case "no server: exit 5, -t 1 --retries 2" case_no_server plain 1 2
run_case "no DTLS server: exit 5, -t 1 --retries 2" case_no_server dtls 1 2
run_case "DTLS verification failures exit 4" case_verify_failures
run_case "DTLS --self-signed and --pin" case_self_signed_pin
run_case "mutual DTLS (--verify-client)" case_mutual_dtls
run_case "DTLS key log" case_keylog
run_case "SIGTERM summary, plain" case_sigterm_plain
run_case "SIGTERM with an open DTLS session" case_sigterm_dtls
finish_cases
