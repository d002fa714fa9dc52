#!/usr/bin/env bash
# The demo: tcp-client talks to tcp-server, in plain TCP and over TLS, then
# udp-client to udp-server, in plain UDP and over DTLS, with the local CA from
# certs/; shows what each side printed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/demo.sh [--no-install] [--width N]

Builds build/ if needed, makes certs/ with scripts/gen-certs.sh if there is
no certs/ca.crt, then runs four exchanges on 127.0.0.1:
  1. plain TCP:  tcp-server -p 0
                 tcp-client -A demo-agent/1.0 127.0.0.1 PORT
  2. TLS:        tcp-server --tls --cert certs/server.crt --key certs/server.key -p 0
                 tcp-client --tls --cafile certs/ca.crt -v localhost PORT
  3. plain UDP:  udp-server -p 0
                 udp-client 127.0.0.1 PORT
  4. DTLS:       udp-server --dtls --cert certs/server.crt --key certs/server.key -p 0
                 udp-client --dtls --cafile certs/ca.crt -v localhost PORT
and shows, for each, what the client printed next to what the server logged
(one after the other when the terminal is narrower than 160 columns).
Then (as root it installs tshark first) it runs scripts/capture-compare.sh:
what the wire shows in each mode, captured by tshark on lo as root (or with
CAP_NET_RAW), else by the client itself (--pcap), and its report,
build/capture/report.html, for a browser (the demo ends pointing at it).

Options:
  --no-install   do not install missing packages (only warn)
  --width N      the output width (default: the terminal's)
  -h, --help     this help
EOF
}

install=1
width=""
while (($# > 0)); do
    case "$1" in
        --no-install) install=0; shift ;;
        --width)
            (($# >= 2)) || { usage >&2; exit 2; }
            width="$2"
            shift 2
            ;;
        -h | --help) usage; exit 0 ;;
        *)
            printf 'demo.sh: unknown option: %s\n' "$1" >&2
            usage >&2
            exit 2
            ;;
    esac
done
if [[ -z "$width" ]]; then
    width="${COLUMNS:-}"
    if [[ -z "$width" && -t 1 ]]; then
        width="$(tput cols 2>/dev/null || true)"
    fi
    width="${width:-80}"
fi
[[ "$width" =~ ^[0-9]+$ && "$width" -ge 40 ]] || die "--width wants a number of columns >= 40"

cd "$SECSOCK_ROOT"

if ((install)); then
    ensure_packages "${SECSOCK_BUILD_PACKAGES[@]}"
else
    ensure_packages --no-install "${SECSOCK_BUILD_PACKAGES[@]}"
fi

# Build (incrementally: a no-op when up to date).
if [[ ! -f build/CMakeCache.txt ]]; then
    note "configuring build/"
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
programs=(tcp-client tcp-server udp-client udp-server)
note "building ${programs[*]} in build/"
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target "${programs[@]}" >/dev/null
for p in "${programs[@]}"; do
    [[ -x "build/bin/$p" ]] || die "build/bin/$p was not built"
done

if [[ ! -f certs/ca.crt ]]; then
    note "no certs/ca.crt: making a local CA and certificates"
    bash scripts/gen-certs.sh
fi
for f in certs/ca.crt certs/server.crt certs/server.key; do
    [[ -r "$f" ]] || die "$f is missing; run: scripts/gen-certs.sh --force"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/secsock-demo.XXXXXX")"
server_pid=""
# The programs of the current exchange (set by exchange): tcp-* or udp-*.
server_name="" client_name=""

# stop_server : TERM, then KILL after 3s. Prints a note if it needed KILL.
stop_server() {
    [[ -n "$server_pid" ]] || return 0
    local i
    kill -TERM "$server_pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        warn "$server_name (pid $server_pid) ignored SIGTERM for 3s; killing it"
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server NAME ARGS... : starts $server_name, its stdout and stderr going
# to $tmp/NAME.server; sets port from its ready signal (start_server_ready,
# lib.sh).
port=""
start_server() {
    local name="$1"
    shift
    start_server_ready server_pid port "$tmp/$name.server" \
        "$SECSOCK_ROOT/build/bin/$server_name" "$@" ||
        die "$server_name $*: $READY_ERROR"
}

# run_client NAME ARGS... : runs $client_name, output (stdout and stderr, in
# order) to $tmp/NAME.client; returns its exit status.
run_client() {
    local name="$1"
    shift
    local st=0
    timeout 20 "$SECSOCK_ROOT/build/bin/$client_name" "$@" >"$tmp/$name.client" 2>&1 </dev/null || st=$?
    return "$st"
}

# wait_received NAME : gives the server up to 3s to log what it received
# ("[*] Received: ..." from tcp-server, "[*] Received from ADDR: ..." from
# udp-server).
wait_received() {
    local i
    for ((i = 0; i < 60; i++)); do
        grep -qE '^\[\*\] Received[: ]' "$tmp/$1.server" && return 0
        sleep 0.05
    done
    return 1
}

rule() { printf '%*s\n' "$width" '' | tr ' ' "${1:--}"; }

# show_file FILE : the file, tabs expanded, ending with a newline.
show_file() {
    expand "$1"
    if [[ -s "$1" && "$(tail -c 1 "$1")" != "" ]]; then
        echo
    fi
}

# text_column TITLE FILE WIDTH : the title, a ~ underline, the file; folded.
text_column() {
    local n="${#1}"
    ((n > $3)) && n=$3
    { printf '%s\n' "$1"; printf '%*s\n' "$n" '' | tr ' ' '~'; show_file "$2"; } | fold -w "$3"
}

# side_by_side WIDTH LEFT-TITLE LEFT-FILE RIGHT-TITLE RIGHT-FILE
side_by_side() {
    local col i n
    col=$((($1 - 3) / 2))
    local -a left right
    mapfile -t left < <(text_column "$2" "$3" "$col")
    mapfile -t right < <(text_column "$4" "$5" "$col")
    n=${#left[@]}
    ((${#right[@]} > n)) && n=${#right[@]}
    for ((i = 0; i < n; i++)); do
        printf '%-*s | %s\n' "$col" "${left[i]:-}" "${right[i]:-}"
    done
}

# show NAME TITLE CLIENT-CMD SERVER-CMD CLIENT-STATUS
show() {
    local name="$1" title="$2" ccmd="$3" scmd="$4" st="$5"
    local ctitle="client: \$ $ccmd  (exit $st)" stitle="server: \$ $scmd"
    echo
    rule "="
    printf '%s\n' "$title"
    rule "="
    if ((width >= 160)); then
        side_by_side "$width" "$ctitle" "$tmp/$name.client" "$stitle" "$tmp/$name.server"
    else
        printf '%s\n' "$ctitle"
        rule -
        show_file "$tmp/$name.client"
        echo
        printf '%s\n' "$stitle"
        rule -
        show_file "$tmp/$name.server"
    fi
}

failed=()

# exchange NAME TITLE tcp|udp SERVER-ARGS... -- CLIENT-ARGS... (the port is
# appended to the client's)
exchange() {
    local name="$1" title="$2"
    server_name="$3-server"
    client_name="$3-client"
    shift 3
    local -a sargs=() cargs=()
    while (($# > 0)) && [[ "$1" != -- ]]; do
        sargs+=("$1")
        shift
    done
    shift
    cargs=("$@")

    start_server "$name" "${sargs[@]}"
    cargs+=("$port")
    local st=0
    run_client "$name" "${cargs[@]}" || st=$?
    if ((st != 0)); then
        failed+=("$name: $client_name exited with status $st")
    elif ! wait_received "$name"; then
        failed+=("$name: $server_name logged no '[*] Received' line")
    fi
    stop_server
    show "$name" "$title" "$client_name ${cargs[*]}" "$server_name ${sargs[*]}" "$st"
}

exchange tcp "1. Plain TCP: tcp-client sends an HTTP GET to tcp-server" tcp \
    -p 0 -- -A 'demo-agent/1.0' 127.0.0.1
exchange tls "2. TLS: the same over TLS, the server's certificate checked against certs/ca.crt" tcp \
    --tls --cert certs/server.crt --key certs/server.key -p 0 -- \
    --tls --cafile certs/ca.crt -v localhost
exchange udp "3. Plain UDP: udp-client sends one datagram to udp-server" udp \
    -p 0 -- 127.0.0.1
exchange dtls "4. DTLS: the same over DTLS 1.2, the certificate checked against certs/ca.crt" udp \
    --dtls --cert certs/server.crt --key certs/server.key -p 0 -- \
    --dtls --cafile certs/ca.crt -v localhost

echo
rule "="
if ((${#failed[@]} > 0)); then
    printf 'demo.sh: FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "demo.sh: all four exchanges worked (plain TCP, TLS, plain UDP, DTLS)"

# 5. What the wire shows: the same exchanges captured and compared
# (scripts/capture-compare.sh): by tshark on lo when this user may capture
# there, else by the clients' own --pcap; tshark reads the captures either way.
echo
rule "="
echo "5. What the wire shows: each mode again, captured (scripts/capture-compare.sh)"
rule "="
if ((EUID == 0)); then
    if ((install)); then
        ensure_packages tshark python3
    else
        ensure_packages --no-install tshark python3
    fi
fi
if command -v tshark >/dev/null 2>&1 && command -v editcap >/dev/null 2>&1; then
    report_dir="$SECSOCK_ROOT/build/capture"
    bash scripts/capture-compare.sh --bin build/bin --out "$report_dir" ||
        die "the capture comparison failed"
    echo
    rule "="
    echo "demo.sh: what the wire shows, with a ladder diagram of each mode, in a browser:"
    echo "  file://$report_dir/report.html"
else
    echo "demo.sh: not comparing captures: tshark reads them, and it is not installed;"
    echo "demo.sh: the four exchanges above ran; to see what the wire shows, run:"
    echo "  sudo apt-get install tshark && scripts/capture-compare.sh --out build/capture"
    echo "demo.sh: and open build/capture/report.html (a sample: docs/capture-report.md)"
fi
