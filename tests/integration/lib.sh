#!/usr/bin/env bash
# Helpers for the integration tests. Source it at the top of a test:
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   need ncat
#   make_pki "$TEST_TMP/pki"
#   pid="" port=""     # (declared, so shellcheck sees them assigned)
#   start_server pid port "$SECSOCK_BIN/tcp-server" -p 0
#   out="$("$SECSOCK_BIN/tcp-client" 127.0.0.1 "$port")"
#   assert_contains "$out" "is working"
#   wait_for_log "$(server_out "$pid")" "[*] Received:"
#
# Environment (ctest sets both): SECSOCK_BIN, the directory of the built
# programs (default build/bin); SECSOCK_SRC, the repository root.
#
# A test never skips: a missing peer program is a failure (need).
# On exit every process started with start_server/start_bg is killed, and if
# the test failed their output is shown. TEST_TMP is removed unless
# KEEP_TEST_TMP=1.
#
# ctest also runs this file itself (integration/lib_selftest): executed rather
# than sourced, it tests its own helpers.

# shellcheck disable=SC2034 # variables here are for the tests that source us
# shellcheck disable=SC2030,SC2031 # run_case gives each case its own process lists

set -euo pipefail

if [[ -z "${SECSOCK_SRC:-}" ]]; then
    SECSOCK_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fi
SECSOCK_BIN="${SECSOCK_BIN:-$SECSOCK_SRC/build/bin}"
export SECSOCK_SRC SECSOCK_BIN
# free_port, shared with the scripts
# shellcheck source=scripts/lib.sh
source "$SECSOCK_SRC/scripts/lib.sh"

TEST_NAME="$(basename "${0%.sh}")"
TEST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/secsock-it-$TEST_NAME.XXXXXX")"
_IT_PIDS=()     # processes to kill at exit
_IT_NAMES=()    # "pid:label" for the logs
_IT_SEQ=0

_it_log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }

# fail MSG... : the test fails here (exit 1), naming the caller's line.
fail() {
    # Name the first caller outside this file.
    local i=1
    while ((i < ${#BASH_SOURCE[@]} - 1)) && [[ "${BASH_SOURCE[i]}" == "${BASH_SOURCE[0]}" ]]; do
        i=$((i + 1))
    done
    local where="${BASH_SOURCE[i]:-?}:${BASH_LINENO[i - 1]:-?}"
    printf 'FAIL [%s] %s: %s\n' "$TEST_NAME" "${where##*/}" "$*" >&2
    exit 1
}

# need CMD... : each CMD must be runnable (a name on PATH or a path);
# otherwise the test fails (it is never skipped).
need() {
    local c
    for c in "$@"; do
        if ! command -v "$c" >/dev/null 2>&1; then
            fail "required program '$c' is missing (install it: scripts/test.sh does; build the project for \$SECSOCK_BIN programs)"
        fi
    done
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
    if [[ "$1" != "$2" ]]; then
        fail "${3:-values differ}: expected [$1], got [$2]"
    fi
}

# assert_contains HAYSTACK NEEDLE [WHAT] : fixed-string match.
assert_contains() {
    if [[ "$1" != *"$2"* ]]; then
        fail "${3:-output} does not contain [$2]; it was: [$1]"
    fi
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
    if [[ "$1" == *"$2"* ]]; then
        fail "${3:-output} contains [$2] but must not; it was: [$1]"
    fi
}

# assert_file_contains FILE NEEDLE : fixed-string match in a file.
assert_file_contains() {
    [[ -f "$1" ]] || fail "no such file: $1"
    if ! grep -qF -- "$2" "$1"; then
        fail "$1 does not contain [$2]; it has: [$(cat "$1")]"
    fi
}

# assert_status EXPECTED CMD... : runs CMD, checks its exit status.
assert_status() {
    local want="$1" got=0
    shift
    "$@" || got=$?
    [[ "$got" == "$want" ]] || fail "exit status of [$*]: expected $want, got $got"
}

# wait_for_log FILE NEEDLE [SECONDS=10] : waits until FILE contains NEEDLE.
wait_for_log() {
    local file="$1" needle="$2" limit="${3:-10}" i
    for ((i = 0; i < limit * 20; i++)); do
        if [[ -f "$file" ]] && grep -qF -- "$needle" "$file"; then
            return 0
        fi
        sleep 0.05
    done
    fail "after ${limit}s, $file does not contain [$needle]; it has: [$(cat "$file" 2>/dev/null)]"
}

# start_bg VAR_PID CMD... : starts CMD in the background, output to files
# (see server_out/server_err), killed at exit.
start_bg() {
    local -n _sb_pid="$1"
    shift
    _IT_SEQ=$((_IT_SEQ + 1))
    # BASHPID: cases (run_case) are subshells with their own counters.
    local _sb_base="$TEST_TMP/proc.$BASHPID.$_IT_SEQ"
    "$@" >"$_sb_base.out" 2>"$_sb_base.err" </dev/null &
    _sb_pid=$!
    ln -s "$_sb_base.out" "$TEST_TMP/pid.$_sb_pid.out"
    ln -s "$_sb_base.err" "$TEST_TMP/pid.$_sb_pid.err"
    _IT_PIDS+=("$_sb_pid")
    local _sb_label="${1##*/} ${*:2}"
    _IT_NAMES+=("$_sb_pid:${_sb_label:0:80}")
}

# server_out PID / server_err PID : the files holding a started process's
# stdout / stderr.
server_out() { printf '%s\n' "$TEST_TMP/pid.$1.out"; }
server_err() { printf '%s\n' "$TEST_TMP/pid.$1.err"; }

# start_server VAR_PID VAR_PORT CMD... : starts a server (stdout and stderr
# to files), waits up to 10s for its "[*] Listening on ADDR:PORT" line on
# stdout and stores the pid and port. Fails if the server exits first.
start_server() {
    local -n _ss_pid="$1" _ss_port="$2"
    shift 2
    local _ss_new _ss_line="" _ss_i _ss_st=0
    local _ss_re='^\[\*\] Listening on (.+):([0-9]+)( |$)'
    start_bg _ss_new "$@"
    local _ss_out="$TEST_TMP/pid.$_ss_new.out" _ss_err="$TEST_TMP/pid.$_ss_new.err"
    for ((_ss_i = 0; _ss_i < 200; _ss_i++)); do
        _ss_line="$(grep -m1 -E '^\[\*\] Listening on ' "$_ss_out" 2>/dev/null || true)"
        [[ -n "$_ss_line" ]] && break
        if ! kill -0 "$_ss_new" 2>/dev/null; then
            wait "$_ss_new" || _ss_st=$?
            fail "server [$*] exited (status $_ss_st) before listening; stdout: [$(cat "$_ss_out")] stderr: [$(cat "$_ss_err")]"
        fi
        sleep 0.05
    done
    [[ -n "$_ss_line" ]] || fail "server [$*] printed no '[*] Listening on' line within 10s; stdout: [$(cat "$_ss_out")] stderr: [$(cat "$_ss_err")]"
    [[ "$_ss_line" =~ $_ss_re ]] || fail "cannot read the port from [$_ss_line]"
    _ss_pid="$_ss_new"
    _ss_port="${BASH_REMATCH[2]}"
}

# stop_process PID : TERM, then KILL after 6s (a sanitizer's exit checks
# on a loaded machine take a while); returns its exit status (128+signal if
# it died of a signal).
stop_process() {
    local pid="$1" i st=0
    if _it_ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    for ((i = 0; i < 120; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if _it_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || st=$?
    return "$st"
}

# _it_ours PID : PID is a child of this shell (or of the test's main shell,
# for a case's subshell), not yet reaped. A PID whose process bash has
# reaped may belong to another program by now (a test running alongside),
# which a signal must not reach.
_it_ours() {
    local stat fields
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    read -ra fields <<<"${stat##*) }" # after "PID (COMM) ": STATE PPID ...
    [[ "${fields[1]:-}" == "$BASHPID" || "${fields[1]:-}" == "$$" ]]
}

# wait_udp_bound PORT [SECONDS=10] : waits until a UDP socket is bound to
# PORT (/proc/net/udp), for peers such as ncat that print nothing when ready.
wait_udp_bound() {
    local re i
    re="$(printf '^ *[0-9]+: [0-9A-F]+:%04X ' "$1")" # the local address column
    for ((i = 0; i < ${2:-10} * 20; i++)); do
        grep -qE -- "$re" /proc/net/udp /proc/net/udp6 2>/dev/null && return 0
        sleep 0.05
    done
    fail "nothing bound UDP port $1 within ${2:-10} s"
}

# make_pki DIR : a fresh test PKI (tests/lib/pki.sh) in DIR, created if needed.
make_pki() {
    mkdir -p "$1"
    bash "$SECSOCK_SRC/tests/lib/pki.sh" "$1" || fail "tests/lib/pki.sh $1 failed"
}

# tcp-server's two modes, for the tests that run each case plain and over
# TLS with the PKI in $PKI. reply_of MODE: the default reply;
# server_tls_args MODE [CERT-NAME] and client_tls_args MODE: the options
# for the mode, one per line (none for plain).
reply_of() {
    if [[ "$1" == tls ]]; then echo "tcp-server over TLS is working"; else echo "tcp-server over TCP is working"; fi
}
server_tls_args() {
    [[ "$1" == tls ]] && printf '%s\n' --tls --cert "$PKI/${2:-server}.crt" --key "$PKI/${2:-server}.key"
    return 0
}
client_tls_args() {
    [[ "$1" == tls ]] && printf '%s\n' --tls --cafile "$PKI/ca.crt"
    return 0
}

# A sanitizer's report (ASan/LSan/UBSan/TSan builds) in a program's stderr.
_IT_SAN_RE='ERROR: [A-Za-z]*Sanitizer|WARNING: ThreadSanitizer|: runtime error: '

# capture CMD... : runs CMD bounded by CAPTURE_TIMEOUT seconds (default 60),
# stdin from /dev/null unless redirected by the caller. Sets CAP_OUT and
# CAP_ERR (its stdout and stderr, trailing newlines kept) and CAP_RC (its exit
# status; 124 if it was killed by the timeout). Fails only if CMD's stderr
# holds a sanitizer report.
CAP_OUT="" CAP_ERR="" CAP_RC=0
capture() {
    local base="$TEST_TMP/capture.$BASHPID"
    CAP_RC=0
    timeout -k 5 "${CAPTURE_TIMEOUT:-60}" "$@" >"$base.out" 2>"$base.err" || CAP_RC=$?
    CAP_OUT="$(cat "$base.out"; printf x)"
    CAP_OUT="${CAP_OUT%x}"
    CAP_ERR="$(cat "$base.err"; printf x)"
    CAP_ERR="${CAP_ERR%x}"
    if [[ "$CAP_ERR" =~ $_IT_SAN_RE ]]; then
        fail "sanitizer report from [$*]: $CAP_ERR"
    fi
}

# assert_capture RC [WHAT] : the last capture exited with RC (its stdout and
# stderr are shown if not).
assert_capture() {
    if [[ "$CAP_RC" != "$1" ]]; then
        fail "${2:-command}: exit status expected $1, got $CAP_RC; stdout: [$CAP_OUT] stderr: [$CAP_ERR]"
    fi
}

# count_in FILE NEEDLE : prints how many lines of FILE contain NEEDLE.
count_in() {
    local n
    n="$(grep -cF -- "$2" "$1" 2>/dev/null)" || true
    printf '%s\n' "${n:-0}"
}

# wait_for_count FILE NEEDLE N [SECONDS=10] : waits until N lines of FILE
# contain NEEDLE (fails if more do, or if fewer do after SECONDS).
wait_for_count() {
    local file="$1" needle="$2" want="$3" limit="${4:-10}" i n=0
    for ((i = 0; i < limit * 20; i++)); do
        n="$(count_in "$file" "$needle")"
        ((n >= want)) && break
        sleep 0.05
    done
    [[ "$n" == "$want" ]] ||
        fail "expected $want line(s) with [$needle] in $file, found $n; it has: [$(cat "$file" 2>/dev/null)]"
}

# alive PID [WHAT] : PID is still running.
alive() {
    kill -0 "$1" 2>/dev/null || fail "${2:-process $1} is not running any more"
}

# proc_status PID FIELD : the number in FIELD of /proc/PID/status (Threads;
# VmRSS and VmHWM in kB).
proc_status() {
    local v
    v="$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null)"
    [[ "$v" =~ ^[0-9]+$ ]] || fail "no $2 in /proc/$1/status (is process $1 running?)"
    printf '%s\n' "$v"
}

# proc_fd_count PID : how many file descriptors PID has open.
proc_fd_count() {
    [[ -d "/proc/$1/fd" ]] || fail "process $1 is not running"
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# raise_fd_limit N : at least N open files for this shell and what it starts
# (the soft limit raised, up to the hard one); fails if the hard limit is lower.
raise_fd_limit() {
    local want="$1" soft hard
    soft="$(ulimit -Sn)" hard="$(ulimit -Hn)"
    if [[ "$hard" != unlimited ]] && ((hard < want)); then
        fail "this test needs $want open files, the hard limit is $hard (raise it: ulimit -Hn)"
    fi
    if [[ "$soft" != unlimited ]] && ((soft < want)); then
        ulimit -Sn "$want" || fail "cannot raise the open-file limit to $want"
    fi
    return 0
}

# sanitizer_of PROGRAM : prints "address" or "thread" when PROGRAM was built
# with ASan or TSan, nothing otherwise (memory bounds mean little there).
sanitizer_of() {
    if grep -qa -- __asan_init "$1"; then
        echo address
    elif grep -qa -- __tsan_init "$1"; then
        echo thread
    fi
    return 0
}

# now_ms : wall-clock milliseconds (for measuring how long something took).
now_ms() {
    local t="${EPOCHREALTIME//[!0-9]/}"
    printf '%s\n' "$((10#$t / 1000))"
}

# cert_fingerprint CERT : prints its SHA-256 fingerprint as the programs
# print it: sha256:AB:CD:...
cert_fingerprint() {
    local fp
    fp="$(openssl x509 -in "$1" -noout -fingerprint -sha256)" || fail "cannot read $1"
    printf 'sha256:%s\n' "${fp#*=}"
}

# run_case NAME CMD... : runs CMD (usually a function) as one case of the test,
# in a subshell with errexit: a failing case is reported, the processes it
# started are stopped (and their output shown), and the test goes on with the
# next case. finish_cases, at the end, fails the test if any case failed.
_IT_FAILED_CASES=()
_IT_CASES=0
run_case() {
    local name="$1" st=0
    shift
    _IT_CASES=$((_IT_CASES + 1))
    _it_log "case: $name"
    set +e
    (
        set -euo pipefail
        _IT_PIDS=()
        _IT_NAMES=()
        trap _it_case_end EXIT
        "$@"
    )
    st=$?
    set -e
    if ((st != 0)); then
        _IT_FAILED_CASES+=("$name")
        _it_log "case FAILED: $name"
    fi
    return 0
}

# The EXIT trap of a run_case subshell.
_it_case_end() {
    local st=$?
    _it_stop_all
    _it_check_sanitizers || st=1
    ((st == 0)) || _it_show_logs
    exit "$st"
}

# finish_cases : fails the test if a run_case case failed.
finish_cases() {
    local n="${#_IT_FAILED_CASES[@]}" c
    if ((n > 0)); then
        for c in "${_IT_FAILED_CASES[@]}"; do
            printf 'FAIL [%s] case: %s\n' "$TEST_NAME" "$c" >&2
        done
        fail "$n of $_IT_CASES case(s) failed"
    fi
    _it_log "all $_IT_CASES case(s) passed"
}

# Stops every process in _IT_PIDS (TERM, then KILL after 2s).
_it_stop_all() {
    local pid i
    for pid in "${_IT_PIDS[@]}"; do
        if _it_ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for pid in "${_IT_PIDS[@]}"; do
        for ((i = 0; i < 40; i++)); do
            _it_ours "$pid" || break
            sleep 0.05
        done
        if _it_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    wait 2>/dev/null || true
}

# Shows the output of every process in _IT_NAMES on stderr.
_it_show_logs() {
    local entry pid
    for entry in "${_IT_NAMES[@]}"; do
        pid="${entry%%:*}"
        printf -- '--- %s (pid %s) stdout:\n' "${entry#*:}" "$pid" >&2
        cat "$TEST_TMP/pid.$pid.out" >&2 2>/dev/null || true
        printf -- '--- %s (pid %s) stderr:\n' "${entry#*:}" "$pid" >&2
        cat "$TEST_TMP/pid.$pid.err" >&2 2>/dev/null || true
    done
}

# After _it_stop_all: fails (prints and returns 1) if a process this shell
# started left a sanitizer report on its stderr.
_it_check_sanitizers() {
    local entry pid found=0
    for entry in "${_IT_NAMES[@]}"; do
        pid="${entry%%:*}"
        if grep -qE "$_IT_SAN_RE" "$TEST_TMP/pid.$pid.err" 2>/dev/null; then
            printf 'FAIL [%s] sanitizer report from %s (pid %s)\n' "$TEST_NAME" "${entry#*:}" "$pid" >&2
            found=1
        fi
    done
    return "$found"
}

_it_cleanup() {
    local st=$?
    _it_stop_all
    _it_check_sanitizers || st=1
    ((st == 0)) || _it_show_logs
    if [[ "${KEEP_TEST_TMP:-0}" == 1 ]]; then
        _it_log "kept $TEST_TMP"
    else
        rm -rf "$TEST_TMP"
    fi
    exit "$st"
}
trap _it_cleanup EXIT

# ---------------------------------------------------------------------------
# Self-test, when run as a script (ctest does: integration/lib).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    need python3 openssl
    assert_eq "a b" "a b"
    assert_contains "hello world" "o w"
    assert_not_contains "hello" "x"
    (assert_eq 1 2) 2>/dev/null && fail "assert_eq 1 2 passed"
    (assert_contains "abc" "[*]") 2>/dev/null && fail "assert_contains matched a pattern"
    (need no-such-program-secsock) 2>/dev/null && fail "need passed for a missing program"

    p="$(free_port)"
    [[ "$p" =~ ^[0-9]+$ ]] || fail "free_port gave [$p]"
    ((p < $(cut -f1 /proc/sys/net/ipv4/ip_local_port_range))) || fail "free_port gave $p, in the ephemeral range"

    spid="" sport="" sleeper=""
    # A stand-in server: prints the listening line, answers one connection.
    start_server spid sport python3 -u -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print("[*] Listening on 127.0.0.1:%d" % s.getsockname()[1])
c, a = s.accept()
print("[*] Accepted connection from %s:%d" % a)
print("[*] Received: %r" % c.recv(100))
c.sendall(b"fake server is working")
c.close()
'
    [[ "$sport" =~ ^[0-9]+$ ]] || fail "start_server port [$sport]"
    reply="$(python3 -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"ping")
print(c.recv(100).decode())
' "$sport")"
    assert_eq "fake server is working" "$reply"
    wait_for_log "$(server_out "$spid")" "[*] Received: b'ping'"

    # A server that dies before listening is reported, not waited for.
    if (start_server p2 q2 bash -c 'echo oops >&2; exit 3') 2>"$TEST_TMP/died.err"; then
        fail "start_server accepted a server that exited"
    fi
    assert_file_contains "$TEST_TMP/died.err" "exited (status 3) before listening"

    start_bg sleeper sleep 60
    stop_process "$sleeper" || true
    kill -0 "$sleeper" 2>/dev/null && fail "stop_process left $sleeper running"
    start_bg sleeper sleep 60
    (stop_process "$sleeper" || true) # from a subshell, as in a case
    kill -0 "$sleeper" 2>/dev/null && fail "stop_process in a subshell left $sleeper running"
    wait "$sleeper" 2>/dev/null || true
    _it_ours 1 && fail "_it_ours took init for a child of the test"
    _it_ours "$PPID" && fail "_it_ours took the test's parent for its child"

    # A process a test leaves running is killed when the test exits.
    orphan="$(bash -c 'source "$1"; start_bg p sleep 60; echo "$p"' _ "${BASH_SOURCE[0]}")"
    [[ "$orphan" =~ ^[0-9]+$ ]] || fail "nested test printed [$orphan]"
    kill -0 "$orphan" 2>/dev/null && fail "the exit trap left $orphan running"

    capture bash -c 'printf "out\n\n"; printf err >&2; exit 3'
    assert_eq $'out\n\n' "$CAP_OUT" "capture stdout"
    assert_eq "err" "$CAP_ERR" "capture stderr"
    assert_eq 3 "$CAP_RC" "capture status"
    printf 'a x\nb\na y\n' >"$TEST_TMP/lines"
    assert_eq 2 "$(count_in "$TEST_TMP/lines" "a ")" "count_in"
    assert_eq 0 "$(count_in "$TEST_TMP/lines" "zzz")" "count_in, no match"
    wait_for_count "$TEST_TMP/lines" "b" 1 1

    # run_case: a failing case (a failed assertion or a failed command) stops
    # its processes; later cases still run; finish_cases then fails.
    rc_st=0
    bash -c '
        source "$1"
        c_fail() { start_bg p sleep 60; echo "$p" >"$2/case1.pid"; assert_eq 1 2; }
        c_cmd() { false; echo "not reached" >"$2/case2"; }
        c_ok() { echo ran >"$2/case3"; }
        run_case one c_fail "$@"
        run_case two c_cmd "$@"
        run_case three c_ok "$@"
        finish_cases
    ' _ "${BASH_SOURCE[0]}" "$TEST_TMP" 2>"$TEST_TMP/cases.err" || rc_st=$?
    assert_eq 1 "$rc_st" "status of a test with failed cases"
    kill -0 "$(cat "$TEST_TMP/case1.pid")" 2>/dev/null && fail "a failed case left its process running"
    [[ -e "$TEST_TMP/case2" ]] && fail "errexit does not hold inside run_case"
    assert_file_contains "$TEST_TMP/case3" "ran"
    assert_file_contains "$TEST_TMP/cases.err" "2 of 3 case(s) failed"

    # A sanitizer report fails the test: from a background process (seen at
    # exit, after it was stopped) or from a captured command.
    rc_st=0
    bash -c 'source "$1"; start_bg p bash -c "echo ==1==ERROR: LeakSanitizer: detected memory leaks >&2"; sleep 0.3' \
        _ "${BASH_SOURCE[0]}" 2>"$TEST_TMP/san.err" || rc_st=$?
    assert_eq 1 "$rc_st" "status of a test whose server reported a leak"
    assert_file_contains "$TEST_TMP/san.err" "sanitizer report from bash"
    (capture bash -c 'echo "x.c:1:2: runtime error: signed integer overflow" >&2') 2>/dev/null &&
        fail "capture ignored a UBSan report"

    # /proc readers, the open-file limit, the clock.
    assert_eq 1 "$(bash -c 'source "$1"; proc_status "$BASHPID" Threads' _ "${BASH_SOURCE[0]}")" "proc_status Threads"
    [[ "$(proc_status $$ VmRSS)" =~ ^[0-9]+$ ]] || fail "proc_status VmRSS"
    exec {fd_probe}</dev/null
    [[ -e "/proc/$$/fd/$fd_probe" ]] || fail "no fd $fd_probe in /proc/$$/fd"
    (($(proc_fd_count $$) >= 4)) || fail "proc_fd_count $$ gave $(proc_fd_count $$)"
    exec {fd_probe}<&-
    (bash -c 'source "$1"; raise_fd_limit 1' _ "${BASH_SOURCE[0]}") || fail "raise_fd_limit 1"
    (raise_fd_limit 99999999999) 2>/dev/null && fail "raise_fd_limit passed beyond the hard limit"
    assert_eq "" "$(sanitizer_of /bin/sh)" "sanitizer_of /bin/sh"
    t_a="$(now_ms)"
    sleep 0.2
    t_b="$(now_ms)"
    ((t_b - t_a >= 190 && t_b - t_a < 2000)) || fail "now_ms: 0.2 s measured as $((t_b - t_a)) ms"

    make_pki "$TEST_TMP/pki"
    [[ -s "$TEST_TMP/pki/expired.crt" ]] || fail "make_pki made no expired.crt"
    assert_eq "$(openssl x509 -in "$TEST_TMP/pki/ca.crt" -noout -fingerprint -sha256 | sed 's/.*=/sha256:/')" \
        "$(cert_fingerprint "$TEST_TMP/pki/ca.crt")" "cert_fingerprint"
    _it_log "lib.sh self-test passed"
fi
