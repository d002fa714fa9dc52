# shellcheck shell=bash
# Shared helpers for the secsock scripts. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Provides:
#   SECSOCK_ROOT               the repository root
#   die MSG / warn MSG / note MSG
#   free_port                  a free loopback port outside the ephemeral range
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
    tshark man-db cppcheck clang-tidy shellcheck testssl.sh)
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
