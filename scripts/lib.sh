# shellcheck shell=bash
# Shared helpers for the secsock scripts. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Provides:
#   SECSOCK_ROOT               the repository root
#   die MSG / warn MSG / note MSG
#   free_port                  a free loopback port outside the ephemeral range
#   start_server_ready VAR_PID VAR_PORT LOG CMD...
#                              starts one of our servers, waits for its ready
#                              signal (--ready-fd): its pid and port
#   ensure_packages [--no-install] PKG...   Debian packages: install the missing ones
#   PKI helpers (openssl CLI only): pki_ca, pki_leaf, pki_leaf_expired
#
# The caller sets `set -euo pipefail`; the functions here assume it.

if [[ -n "${_SECSOCK_LIB_SH:-}" ]]; then
    return 0
fi
_SECSOCK_LIB_SH=1

SECSOCK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SECSOCK_ROOT

_secsock_prog="$(basename "${0:-secsock}")"

die() {
    printf '%s: %s\n' "$_secsock_prog" "$*" >&2
    exit 1
}

warn() {
    printf '%s: warning: %s\n' "$_secsock_prog" "$*" >&2
}

note() {
    printf '%s: %s\n' "$_secsock_prog" "$*"
}

# Packages the test suite needs (scripts/test.sh), and the subset needed to
# build and run the programs (scripts/demo.sh).
SECSOCK_BUILD_PACKAGES=(build-essential cmake pkg-config libssl-dev check openssl)
SECSOCK_TEST_PACKAGES=("${SECSOCK_BUILD_PACKAGES[@]}"
    gnutls-bin ncat socat curl python3 clang libfuzzer-14-dev valgrind procps iproute2 apache2
    tshark man-db cppcheck clang-tidy clang-format shellcheck testssl.sh chromium
    python3-flake8 python3-pytest python3-pytest-timeout)
export SECSOCK_BUILD_PACKAGES SECSOCK_TEST_PACKAGES
# The peers scripts/bench.sh measures the programs against, and what it runs
# them with. The test suite runs it (bench_quick), so they are test packages.
SECSOCK_BENCH_PACKAGES=("${SECSOCK_BUILD_PACKAGES[@]}"
    nginx gnuplot-nox hyperfine socat ncat curl apache2 python3 procps iproute2)
SECSOCK_TEST_PACKAGES+=(nginx gnuplot-nox hyperfine)
export SECSOCK_BENCH_PACKAGES

# free_port : a port on 127.0.0.1 free for both TCP and UDP, for a program
# that must be told its port (apache2, nginx, socat, ncat) or for a port
# where nothing listens. It is picked at random below the kernel's ephemeral
# range (ip_local_port_range), where the kernel never hands out ports: a
# port from bind(0) could be taken, between this check and its use, by any
# client socket of a test running alongside (scripts/free_port.py).
free_port() {
    python3 "$SECSOCK_ROOT/scripts/free_port.py"
}

# start_server_ready [--stderr ERRLOG] VAR_PID VAR_PORT LOG CMD...
# Starts CMD, one of our servers (tcp-server or udp-server, normally with
# -p 0), in the background with --ready-fd 3 added, stdin from /dev/null,
# stdout and stderr to LOG (stderr to ERRLOG when given), and waits until it
# listens: the server then writes its listening event, one JSON line
# {"event":"listening",...,"port":N,...}, to that descriptor and closes it.
# The descriptor is a FIFO's write end: the wait ends as soon as the server
# writes the line, or exits without it, or after SECSOCK_READY_TIMEOUT
# seconds (default 20).
# Sets VAR_PID to the server's pid as soon as it runs (a trap can stop it),
# and, once it listens, VAR_PORT to the port of the event and READY_LINE to
# the whole line. On failure: prints the server's output to stderr, stops
# the server if it still runs, empties VAR_PID, sets READY_ERROR to what
# went wrong and returns 1.
# A program whose --help lists no --ready-fd (a build of an older commit:
# bench.sh --baseline) has the "-p 0" of CMD replaced by a free_port, and is
# ready once ss shows that port bound.
# Every local here starts with _ssr_: VAR_PID and VAR_PORT are the caller's
# names, which a local of the same name would hide.
declare -gA _SECSOCK_HAS_READY_FD=()
# shellcheck disable=SC2034 # READY_LINE and READY_ERROR are for the caller
start_server_ready() {
    local _ssr_err=""
    if [[ "${1:-}" == --stderr ]]; then
        _ssr_err="$2"
        shift 2
    fi
    local -n _ssr_pid="$1" _ssr_port="$2"
    local _ssr_log="$3"
    shift 3
    local _ssr_timeout="${SECSOCK_READY_TIMEOUT:-20}" _ssr_ok=1
    READY_LINE="" READY_ERROR=""
    _ssr_pid="" _ssr_port=""
    if [[ -z "${_SECSOCK_HAS_READY_FD[$1]:-}" ]]; then
        _SECSOCK_HAS_READY_FD[$1]=0
        [[ "$("$1" --help 2>&1 || true)" == *--ready-fd* ]] && _SECSOCK_HAS_READY_FD[$1]=1
    fi
    # Appended to, after truncation: LOG and ERRLOG may be the same file.
    : >"$_ssr_log"
    [[ -z "$_ssr_err" ]] || : >"$_ssr_err"
    if ((_SECSOCK_HAS_READY_FD[$1])); then
        _start_server_fifo "$@" || _ssr_ok=0
    else
        _start_server_bound "$@" || _ssr_ok=0
    fi
    if ((!_ssr_ok)); then
        if [[ -n "$_ssr_pid" ]]; then
            kill -TERM "$_ssr_pid" 2>/dev/null || true
            wait "$_ssr_pid" 2>/dev/null || true
        fi
        _ssr_pid=""
        cat "$_ssr_log" ${_ssr_err:+"$_ssr_err"} >&2 2>/dev/null || true
        return 1
    fi
}

# _start_server_fifo CMD... : start_server_ready with --ready-fd.
# shellcheck disable=SC2034 # READY_LINE and READY_ERROR are for the caller
_start_server_fifo() {
    local _ssr_dir _ssr_fifo _ssr_fd _ssr_line="" _ssr_chunk _ssr_st=0
    local _ssr_deadline=$((SECONDS + _ssr_timeout))
    _ssr_dir="$(mktemp -d "${TMPDIR:-/tmp}/secsock-ready.XXXXXX")" || {
        READY_ERROR="cannot make a directory for the ready FIFO"
        return 1
    }
    _ssr_fifo="$_ssr_dir/ready"
    if ! mkfifo -m 600 "$_ssr_fifo"; then
        rm -rf "$_ssr_dir"
        READY_ERROR="cannot make the ready FIFO"
        return 1
    fi
    # Opened for reading and writing, the FIFO lets the server's open (when
    # it comes: the background shell opens it after the fork) proceed
    # without a reader waiting in open(), and never reads as ended: the
    # server's exit is seen by kill -0 between reads.
    exec {_ssr_fd}<>"$_ssr_fifo"
    "$@" --ready-fd 3 3>"$_ssr_fifo" {_ssr_fd}>&- \
        >>"$_ssr_log" 2>>"${_ssr_err:-$_ssr_log}" </dev/null &
    _ssr_pid=$!
    while :; do
        _ssr_chunk=""
        _ssr_st=0
        IFS= read -r -t 0.2 -u "$_ssr_fd" _ssr_chunk || _ssr_st=$?
        # On a timeout, read keeps what it had of the line in _ssr_chunk.
        _ssr_line+="$_ssr_chunk"
        ((_ssr_st > 128)) || break
        kill -0 "$_ssr_pid" 2>/dev/null || break
        ((SECONDS < _ssr_deadline)) || break
    done
    exec {_ssr_fd}<&-
    rm -rf "$_ssr_dir"
    READY_LINE="$_ssr_line"
    if ((_ssr_st == 0)) && [[ "$_ssr_line" =~ \"event\":[[:space:]]*\"listening\" &&
        "$_ssr_line" =~ \"port\":[[:space:]]*([0-9]+) ]]; then
        _ssr_port="${BASH_REMATCH[1]}"
        return 0
    fi
    if ((_ssr_st == 0)); then
        READY_ERROR="wrote no listening event to its --ready-fd but: $_ssr_line"
    elif ! kill -0 "$_ssr_pid" 2>/dev/null; then
        _ssr_st=0
        wait "$_ssr_pid" 2>/dev/null || _ssr_st=$?
        _ssr_pid=""
        READY_ERROR="exited (status $_ssr_st) before listening"
    else
        READY_ERROR="not listening after ${_ssr_timeout}s (nothing on its --ready-fd)"
    fi
    return 1
}

# _start_server_bound CMD... : start_server_ready without --ready-fd: the
# port is chosen here, and the server is ready once that port is bound.
# shellcheck disable=SC2034 # READY_ERROR is for the caller
_start_server_bound() {
    local -a _ssr_args=("$@")
    local _ssr_i _ssr_st _ssr_bport="" _ssr_deadline=$((SECONDS + _ssr_timeout))
    for ((_ssr_i = 1; _ssr_i < ${#_ssr_args[@]}; _ssr_i++)); do
        if [[ "${_ssr_args[_ssr_i - 1]}" == -p || "${_ssr_args[_ssr_i - 1]}" == --port ]]; then
            if [[ "${_ssr_args[_ssr_i]}" == 0 ]]; then
                _ssr_args[_ssr_i]="$(free_port)" || {
                    READY_ERROR="found no free port"
                    return 1
                }
            fi
            _ssr_bport="${_ssr_args[_ssr_i]}"
        fi
    done
    if [[ -z "$_ssr_bport" ]]; then
        READY_ERROR="no -p PORT in its command line, and no --ready-fd in its --help"
        return 1
    fi
    "${_ssr_args[@]}" >>"$_ssr_log" 2>>"${_ssr_err:-$_ssr_log}" </dev/null &
    _ssr_pid=$!
    while [[ -z "$(ss -Hltun "sport = :$_ssr_bport" 2>/dev/null)" ]]; do
        if ! kill -0 "$_ssr_pid" 2>/dev/null; then
            _ssr_st=0
            wait "$_ssr_pid" 2>/dev/null || _ssr_st=$?
            _ssr_pid=""
            READY_ERROR="exited (status $_ssr_st) before listening"
            return 1
        fi
        if ((SECONDS >= _ssr_deadline)); then
            READY_ERROR="not bound to port $_ssr_bport after ${_ssr_timeout}s"
            return 1
        fi
        # This program has no signal to wait on: ss is asked again shortly.
        sleep 0.05
    done
    _ssr_port="$_ssr_bport"
}

# missing_packages PKG... : prints the ones dpkg does not list as installed.
missing_packages() {
    local pkg status
    for pkg in "$@"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        if [[ "$status" != "installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# ensure_packages [--no-install] PKG...
# Installs the missing packages with apt-get (running `apt-get update` first,
# only when something is missing). Not root: prints the sudo line, exits 1.
# With --no-install: only warns about what is missing.
ensure_packages() {
    local install=1
    if [[ "${1:-}" == "--no-install" ]]; then
        install=0
        shift
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "dpkg-query not found (not Debian?); not checking packages: $*"
        return 0
    fi
    local -a missing
    mapfile -t missing < <(missing_packages "$@")
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if ((install == 0)); then
        warn "missing packages (not installing, --no-install): ${missing[*]}"
        return 0
    fi
    if ((EUID != 0)); then
        printf '%s: missing packages; install them with:\n' "$_secsock_prog" >&2
        printf 'sudo apt-get install -y %s\n' "${missing[*]}" >&2
        exit 1
    fi
    note "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update </dev/null
    apt-get install -y "${missing[@]}" </dev/null
    mapfile -t missing < <(missing_packages "$@")
    if ((${#missing[@]} != 0)); then
        die "still missing after apt-get install: ${missing[*]}"
    fi
}

# ---------------------------------------------------------------------------
# PKI. Every function writes NAME.crt and NAME.key into a directory; keys are
# written under umask 077 (mode 0600). Scratch files go to $PKI_WORK, a
# directory the caller makes and removes. ALG is "ec" (P-256) or "rsa"
# (2048 bits). Signatures are SHA-256.

# _pki_run CMD... : runs an openssl command quietly; on failure shows its output.
_pki_run() {
    local log="$PKI_WORK/openssl.log"
    if ! "$@" >"$log" 2>&1; then
        printf '%s: command failed: %s\n' "$_secsock_prog" "$*" >&2
        cat "$log" >&2
        return 1
    fi
}

# _pki_newkey ALG : sets _PKI_NEWKEY to the openssl req arguments for ALG.
_pki_newkey() {
    case "$1" in
        ec) _PKI_NEWKEY=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
        rsa) _PKI_NEWKEY=(-newkey rsa:2048) ;;
        *) die "unknown key algorithm: $1" ;;
    esac
}

# _pki_subj CN : a -subj argument, escaping / and the other DN specials.
_pki_subj() {
    local cn="$1"
    cn="${cn//\\/\\\\}"
    cn="${cn//\//\\/}"
    cn="${cn//+/\\+}"
    cn="${cn//=/\\=}"
    printf '/CN=%s' "$cn"
}

# _pki_req_conf : a minimal req config, independent of the system openssl.cnf.
_pki_req_conf() {
    cat <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
}

# _pki_leaf_ext PROFILE ALG SAN : an extension section "leaf" for a leaf cert.
# PROFILE is server or client; SAN a comma-separated subjectAltName value
# (empty for none).
_pki_leaf_ext() {
    local profile="$1" alg="$2" san="$3" ku="critical,digitalSignature"
    # RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment.
    [[ "$alg" == rsa ]] && ku="$ku,keyEncipherment"
    printf '[leaf]\n'
    printf 'basicConstraints = critical,CA:FALSE\n'
    printf 'keyUsage = %s\n' "$ku"
    case "$profile" in
        server) printf 'extendedKeyUsage = serverAuth\n' ;;
        client) printf 'extendedKeyUsage = clientAuth\n' ;;
        *) die "unknown certificate profile: $profile" ;;
    esac
    printf 'subjectKeyIdentifier = hash\n'
    printf 'authorityKeyIdentifier = keyid,issuer\n'
    if [[ -n "$san" ]]; then
        printf 'subjectAltName = %s\n' "$san"
    fi
}

# pki_san NAME... : the subjectAltName value for these names; IP literals
# become IP: entries, anything else DNS:.
pki_san() {
    local n out=""
    for n in "$@"; do
        if [[ "$n" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$n" == *:* ]]; then
            out+="${out:+,}IP:$n"
        else
            out+="${out:+,}DNS:$n"
        fi
    done
    printf '%s' "$out"
}

# pki_ca DIR NAME CN DAYS ALG : a self-signed CA (CA:TRUE, keyCertSign).
pki_ca() {
    local dir="$1" name="$2" cn="$3" days="$4" alg="$5"
    _pki_newkey "$alg"
    _pki_req_conf >"$PKI_WORK/req.cnf"
    (
        umask 077
        _pki_run openssl req -x509 -new "${_PKI_NEWKEY[@]}" -nodes -sha256 \
            -config "$PKI_WORK/req.cnf" -extensions v3_ca \
            -subj "$(_pki_subj "$cn")" -days "$days" \
            -set_serial "0x$(openssl rand -hex 16)" \
            -keyout "$dir/$name.key" -out "$dir/$name.crt"
    )
    chmod 600 "$dir/$name.key"
    chmod 644 "$dir/$name.crt"
}

# _pki_csr DIR NAME CN ALG : NAME.key and $PKI_WORK/NAME.csr
_pki_csr() {
    local dir="$1" name="$2" cn="$3" alg="$4"
    _pki_newkey "$alg"
    _pki_req_conf >"$PKI_WORK/req.cnf"
    (
        umask 077
        _pki_run openssl req -new "${_PKI_NEWKEY[@]}" -nodes -sha256 \
            -config "$PKI_WORK/req.cnf" -subj "$(_pki_subj "$cn")" \
            -keyout "$dir/$name.key" -out "$PKI_WORK/$name.csr"
    )
    chmod 600 "$dir/$name.key"
}

# pki_leaf DIR NAME CA PROFILE CN DAYS ALG SAN
# A leaf certificate signed by CA (a path prefix: CA.crt and CA.key).
pki_leaf() {
    local dir="$1" name="$2" ca="$3" profile="$4" cn="$5" days="$6" alg="$7" san="$8"
    _pki_csr "$dir" "$name" "$cn" "$alg"
    _pki_leaf_ext "$profile" "$alg" "$san" >"$PKI_WORK/$name.ext"
    _pki_run openssl x509 -req -in "$PKI_WORK/$name.csr" -sha256 \
        -CA "$ca.crt" -CAkey "$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days "$days" -extfile "$PKI_WORK/$name.ext" -extensions leaf \
        -out "$dir/$name.crt"
    chmod 644 "$dir/$name.crt"
}

# pki_leaf_dated DIR NAME CA PROFILE CN START END ALG SAN
# Like pki_leaf with an explicit validity (YYYYMMDDHHMMSSZ), e.g. entirely in
# the past. OpenSSL 3.0's `x509 -req` cannot set notBefore, so this uses
# `openssl ca` with a throw-away database.
pki_leaf_dated() {
    local dir="$1" name="$2" ca="$3" profile="$4" cn="$5" start="$6" end="$7" alg="$8" san="$9"
    local db="$PKI_WORK/ca-db.$name"
    mkdir -p "$db"
    : >"$db/index.txt"
    openssl rand -hex 16 >"$db/serial"
    cat >"$db/ca.cnf" <<EOF
[ca]
default_ca = tmpca
[tmpca]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no
[anything]
commonName = supplied
EOF
    _pki_csr "$dir" "$name" "$cn" "$alg"
    _pki_leaf_ext "$profile" "$alg" "$san" >"$PKI_WORK/$name.ext"
    _pki_run openssl ca -batch -notext -config "$db/ca.cnf" \
        -cert "$ca.crt" -keyfile "$ca.key" -in "$PKI_WORK/$name.csr" \
        -startdate "$start" -enddate "$end" \
        -extfile "$PKI_WORK/$name.ext" -extensions leaf \
        -out "$dir/$name.crt"
    chmod 644 "$dir/$name.crt"
}

# pki_fingerprint CERT : "AB:CD:..." (SHA-256 of the DER certificate)
pki_fingerprint() {
    local fp
    fp="$(openssl x509 -noout -fingerprint -sha256 -in "$1")"
    printf '%s\n' "${fp#*=}"
}
