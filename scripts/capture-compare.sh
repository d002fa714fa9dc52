#!/usr/bin/env bash
# What the wire shows: the same exchange between the project's own client and
# server on loopback, once per mode (TCP, TLS 1.2, TLS 1.3, UDP, DTLS 1.2),
# each captured by tshark into its own pcap; then a report drawn from tshark's
# dissection of those captures, with and without the key logs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/capture-compare.sh [--out DIR] [--bin DIR]

Runs the same exchange on 127.0.0.1 once per mode, with a unique marker
string (secsock-marker-<random>) in the User-Agent and in the message body,
while tshark captures each mode into its own file:
  tcp     tcp-client -> tcp-server --http       plain TCP, an HTTP GET
  tls12   the same over TLS 1.2                 (--keylog)
  tls13   the same over TLS 1.3                 (--keylog)
  udp     udp-client -> udp-server              plain UDP, one datagram
  dtls12  the same over DTLS 1.2                (--keylog)

Into DIR go:
  MODE.pcap                 what tshark captured
  MODE.keylog               the client's key log (NSS format; encrypted modes)
  MODE-secrets.pcapng       the capture with the key log embedded
                            (editcap --inject-secrets): opens decrypted
  report.md, report.json    the facts tshark dissects from the captures:
                            marker and HTTP headers visible or not, handshake
                            fields in clear, DTLS cookie exchange, frames and
                            bytes, decryption with the key log
  pki/                      the CA and server certificate used
  logs/                     the programs' output (--json on stderr) and tshark's
and the report is printed, with the tshark and Wireshark commands to see it
yourself.

Options:
  --out DIR   where to write (created if missing; default: a new directory
              /tmp/secsock-capture.XXXXXX)
  --bin DIR   the built programs (default: build/bin of the repository)
  -h, --help  this help

Capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN (dumpcap); without
them the script says so and exits 1. Needs tshark, editcap (Debian package
tshark) and python3. Exits 1 when an exchange or a capture fails, or when a
fact in the report is not what encryption should give (listed under
"Checks").
EOF
}

bad_usage() {
    printf 'capture-compare.sh: %s\n' "$1" >&2
    usage >&2
    exit 2
}

out=""
bin="$SECSOCK_ROOT/build/bin"
while (($# > 0)); do
    case "$1" in
        --out)
            (($# >= 2)) || bad_usage "--out needs an argument"
            out="$2"
            shift 2
            ;;
        --out=*) out="${1#--out=}"; shift ;;
        --bin)
            (($# >= 2)) || bad_usage "--bin needs an argument"
            bin="$2"
            shift 2
            ;;
        --bin=*) bin="${1#--bin=}"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) bad_usage "unknown argument: $1" ;;
    esac
done

for tool in tshark editcap dumpcap; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found; install the Debian package tshark (apt-get install tshark)"
done
command -v python3 >/dev/null 2>&1 || die "python3 not found (apt-get install python3)"
for p in tcp-client tcp-server udp-client udp-server; do
    [[ -x "$bin/$p" ]] || die "$bin/$p not found; build first (cmake -B build && cmake --build build) or pass --bin DIR"
done
bin="$(cd "$bin" && pwd)"

# Capturing on lo needs the privilege; dumpcap -L opens the interface.
if ! priv_err="$(dumpcap -L -i lo 2>&1 >/dev/null)"; then
    printf 'capture-compare.sh: cannot capture on the loopback interface: this needs root or CAP_NET_RAW and CAP_NET_ADMIN\n' >&2
    printf 'capture-compare.sh: (user %s, uid %s); dumpcap said: %s\n' "$(id -un 2>/dev/null || echo '?')" "$EUID" \
        "$(printf '%s' "$priv_err" | grep -m1 -E 'pcap_activate|ermission' || printf '%s' "${priv_err%%$'\n'*}")" >&2
    printf 'capture-compare.sh: run it as root (sudo scripts/capture-compare.sh), or give dumpcap the capabilities:\n' >&2
    printf '  sudo setcap cap_net_raw,cap_net_admin=eip %s\n' "$(command -v dumpcap)" >&2
    exit 1
fi

if [[ -z "$out" ]]; then
    out="$(mktemp -d "${TMPDIR:-/tmp}/secsock-capture.XXXXXX")"
else
    mkdir -p "$out"
fi
out="$(cd "$out" && pwd)"
mkdir -p "$out/logs" "$out/pki"

marker="secsock-marker-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
# The server certificate's subject CN: a name that appears nowhere else (the
# client sends SNI localhost), so its bytes on the wire come from the
# certificate.
cert_name=secsock-capture.test

# Certificates: a throw-away CA and a server certificate whose subject is
# easy to recognise in a capture.
if [[ ! -f "$out/pki/server.crt" ]]; then
    bash "$SECSOCK_ROOT/scripts/gen-certs.sh" --dir "$out/pki" --name "$cert_name" --days 30 \
        >"$out/logs/gen-certs.log" 2>&1 || { cat "$out/logs/gen-certs.log" >&2; die "scripts/gen-certs.sh failed"; }
fi

server_pid="" tshark_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill -KILL "$server_pid" 2>/dev/null
    [[ -n "$tshark_pid" ]] && kill -KILL "$tshark_pid" 2>/dev/null
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop PID : TERM, then KILL after 5s; waits for it.
stop() {
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# probe_until_seen LIVE-FILE PORT TAG : sends datagrams "secsock-probe-TAG-N"
# from 127.0.0.1:PORT to itself every 50ms until tshark's live output
# (LIVE-FILE: srcport, dstport, payload in hex) shows one of them; fails after
# 20s (scripts/capture_probe.py).
probe_until_seen() {
    python3 "$SECSOCK_ROOT/scripts/capture_probe.py" "$@"
}

# Ports of the modes, filled in by run_mode; passed to the analysis.
declare -A ports=()
failures=()

# run_mode MODE tcp|udp SERVER-ARGS... -- CLIENT-ARGS...
# Starts the server (-p 0 --json; its port from its ready signal), tshark on
# its port, the client (its arguments: CLIENT-ARGS --json "${client_head[@]}"
# PORT "${client_tail[@]}"), stops the server and then tshark. Writes
# MODE.pcap and logs/MODE.*.
run_mode() {
    local mode="$1" kind="$2"
    shift 2
    local -a sargs=() cargs=()
    while (($# > 0)) && [[ "$1" != -- ]]; do
        sargs+=("$1")
        shift
    done
    shift
    cargs=("$@")
    local log="$out/logs/$mode" port="" i st=0 frames=0

    # Fresh logs: the loops below must not read a previous run's lines.
    rm -f "$log".* "$out/$mode.keylog"
    start_server_ready --stderr "$log.server.err" server_pid port "$log.server.out" \
        "$bin/$kind-server" "${sargs[@]}" -p 0 --json ||
        die "$mode: $kind-server ${sargs[*]} did not start listening: $READY_ERROR"
    ports[$mode]="$port"

    # tshark's "Capturing on" comes before packets really flow (under load,
    # hundreds of milliseconds of packets can be lost after it); so the
    # capture also takes the datagrams of a probe on its own port, which
    # shows each captured packet live (-P): the exchange starts once the
    # probe's first datagram is seen, tshark stops once a datagram sent after
    # the exchange is seen, and the probe's datagrams are then left out.
    local probe raw="$out/logs/$mode.raw.pcap"
    # free_port (lib.sh): bound twice, at the start and at the end, so it must
    # be a port no client socket can be given in between.
    probe="$(free_port)"
    rm -f "$raw" "$out/$mode.pcap"
    : >"$log.tshark.log"
    : >"$log.tshark.live"
    tshark -n -l -i lo -f "($kind port $port) or (udp port $probe)" -F pcap -w "$raw" \
        -P -T fields -e udp.srcport -e udp.dstport -e udp.payload \
        >"$log.tshark.live" 2>"$log.tshark.log" </dev/null &
    tshark_pid=$!
    for ((i = 0; i < 300; i++)); do
        grep -q "Capturing on" "$log.tshark.log" && break
        kill -0 "$tshark_pid" 2>/dev/null || break
        sleep 0.05
    done
    if ! grep -q "Capturing on" "$log.tshark.log"; then
        cat "$log.tshark.log" >&2
        if kill -0 "$tshark_pid" 2>/dev/null; then
            die "$mode: tshark did not start capturing on lo within 15s"
        fi
        i=0
        wait "$tshark_pid" || i=$?
        tshark_pid=""
        die "$mode: tshark exited (status $i) before capturing on lo"
    fi
    probe_until_seen "$log.tshark.live" "$probe" start ||
        { cat "$log.tshark.log" >&2; die "$mode: tshark captured none of the probe's datagrams within 20s"; }

    timeout 30 "$bin/$kind-client" "${cargs[@]}" --json "${client_head[@]}" "$port" "${client_tail[@]}" \
        >"$log.client.out" 2>"$log.client.err" </dev/null || st=$?
    ((st == 0)) || failures+=("$mode: $kind-client exited with status $st (see $log.client.err)")

    stop "$server_pid"
    server_pid=""
    probe_until_seen "$log.tshark.live" "$probe" end ||
        { cat "$log.tshark.log" >&2; die "$mode: tshark did not capture the probe's last datagram within 20s"; }
    stop "$tshark_pid"
    tshark_pid=""
    tshark -r "$raw" -Y "not udp.port == $probe" -F pcap -w "$out/$mode.pcap" 2>>"$log.tshark.log" ||
        failures+=("$mode: tshark could not write $mode.pcap (see $log.tshark.log)")
    # The frames of the exchange: tshark's live lines, less the probe's.
    frames="$(grep -cvE "^$probe"$'\t'"$probe"$'\t' "$log.tshark.live")" || true
    ((frames > 0)) || failures+=("$mode: the capture is empty (see $log.tshark.log)")
    printf '  %-7s port %-5s  client exit %s, %s frames captured\n' "$mode" "$port" "$st" "$frames"
}

pki="$out/pki"
ua="secsock-capture/1.0 ($marker)"
note "marker: $marker"
note "capturing into $out"

# TCP: an HTTP GET whose User-Agent carries the marker; the reply body too.
tcp_server=(--http --reply "reply body $marker")
client_head=(-4 -A "$ua" localhost)
client_tail=()
run_mode tcp tcp "${tcp_server[@]}" -- --fail
run_mode tls12 tcp "${tcp_server[@]}" --tls --cert "$pki/server.crt" --key "$pki/server.key" \
    --tls-max 1.2 --alpn http/1.1 -- \
    --fail --tls --cafile "$pki/ca.crt" --tls-max 1.2 --alpn http/1.1 --keylog "$out/tls12.keylog"
run_mode tls13 tcp "${tcp_server[@]}" --tls --cert "$pki/server.crt" --key "$pki/server.key" \
    --tls-min 1.3 --alpn http/1.1 -- \
    --fail --tls --cafile "$pki/ca.crt" --tls-min 1.3 --alpn http/1.1 --keylog "$out/tls13.keylog"

# UDP: one datagram carrying the marker; the reply carries it too.
udp_server=(--reply "reply body $marker")
client_head=(-4 localhost)
client_tail=("message $marker")
run_mode udp udp "${udp_server[@]}" -- --retries 0
run_mode dtls12 udp "${udp_server[@]}" --dtls --cert "$pki/server.crt" --key "$pki/server.key" -- \
    --retries 0 --dtls --cafile "$pki/ca.crt" --keylog "$out/dtls12.keylog"

# The encrypted captures with their key log embedded.
for mode in tls12 tls13 dtls12; do
    rm -f "$out/$mode-secrets.pcapng"
    if [[ ! -s "$out/$mode.keylog" ]]; then
        failures+=("$mode: the client wrote no key log")
        continue
    fi
    editcap --inject-secrets "tls,$out/$mode.keylog" "$out/$mode.pcap" "$out/$mode-secrets.pcapng" \
        >"$out/logs/$mode.editcap.log" 2>&1 || failures+=("$mode: editcap --inject-secrets failed (see logs/$mode.editcap.log)")
done

# The analysis: tshark dissects each file; python3 gathers the facts
# (scripts/capture_analysis.py: report.json and report.md; exit 3 when a
# check failed).
analysis_st=0
python3 "$SECSOCK_ROOT/scripts/capture_analysis.py" "$out" "$marker" "$cert_name" \
    "${ports[tcp]}" "${ports[tls12]}" "${ports[tls13]}" "${ports[udp]}" "${ports[dtls12]}" ||
    analysis_st=$?

if ((analysis_st != 0 && analysis_st != 3)); then
    die "the analysis of the captures failed (status $analysis_st)"
fi
echo
cat "$out/report.md"
echo
note "captures, key logs, report.md and report.json are in $out"
if ((analysis_st == 3)); then
    failures+=("a check in the report failed (see Checks)")
fi
if ((${#failures[@]} > 0)); then
    printf 'capture-compare.sh: FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
