#!/usr/bin/env bash
# What the wire shows: the same exchange between the project's own client and
# server on loopback, once per mode (TCP, TLS 1.2, TLS 1.3 and, where the
# build has them, TLS 1.3 with a post-quantum key share and with ECH; UDP,
# DTLS 1.2), each captured by tshark into its own pcap; then a report drawn
# from tshark's dissection of those captures, with and without the key logs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/capture-compare.sh [--out DIR] [--bin DIR] [--marker TEXT]
       scripts/capture-compare.sh [--out DIR] [--marker TEXT] [--keylog FILE]
                                  --port PORT -- COMMAND [ARGS...]
       scripts/capture-compare.sh [--out DIR] [--marker TEXT] [--keylog FILE]
                                  [--port PORT] --pcap FILE

Without --port or --pcap: runs the same exchange on 127.0.0.1 once per
mode, with a unique marker string (secsock-marker-<random>) in the
User-Agent and in the message body, while tshark captures each mode into
its own file:
  tcp        tcp-client -> tcp-server --http    plain TCP, an HTTP GET
  tls12      the same over TLS 1.2              (--keylog)
  tls13      the same over TLS 1.3              (--keylog; --groups X25519
                                                when the build has tls13-pq)
  tls13-pq   TLS 1.3, --groups X25519MLKEM768   the hybrid post-quantum key
                                                share (OpenSSL 3.5 or later)
  tls13-ech  TLS 1.3 with Encrypted Client      the server's --ech public name
             Hello                              public.secsock.test in clear,
                                                the real one hidden (OpenSSL 4)
  udp        udp-client -> udp-server           plain UDP, one datagram
  dtls12     the same over DTLS 1.2             (--keylog)
A mode the programs in --bin refuse (they say which OpenSSL it needs) is
left out: the report says so in one line, and it is not a failure.

With --port PORT -- COMMAND: your own exchange. tshark captures what
crosses the loopback interface to and from PORT (TCP or UDP) while COMMAND
runs, with SSLKEYLOGFILE set for it (curl and the project's programs
honour it), and the report covers that one exchange, decrypted where keys
were logged. COMMAND keeps the terminal: Ctrl-C ends it, and the report
follows.

With --pcap FILE: the report on an existing capture (pcap or pcapng; a
pcapng with its secrets embedded decrypts by itself), decrypted with
--keylog FILE when given. PORT is the server's (default: the destination of
the first SYN or datagram). Needs no capture privilege.

Into DIR go:
  report.html               the report to read: for each capture a ladder
                            diagram of every frame, what an observer sees
                            (visible or hidden, and why), and the request's
                            bytes beside the record that carried them
  report.md, report.json    the same facts: marker and HTTP headers visible
                            or not, handshake fields in clear, round trips,
                            JA3, tickets, frames and bytes, decryption
  checks.json               what encryption should give, checked (the
                            script exits 1 when one fails)
  MODE.pcap                 what tshark captured (exchange.pcap for yours)
  MODE.keylog               the client's key log (NSS format)
  MODE-secrets.pcapng       the capture with the key log embedded
                            (editcap --inject-secrets): opens decrypted
  pki/                      the CA and server certificate used
  logs/                     the programs' output (--json on stderr) and tshark's
and report.md is printed, with the tshark and Wireshark commands to see it
yourself.

Options:
  --out DIR       where to write (created if missing; default: a new
                  directory /tmp/secsock-capture.XXXXXX)
  --bin DIR       the built programs (default: build/bin of the repository)
  --marker TEXT   the string to look for (default for the built-in
                  exchanges: secsock-marker-<random>; for yours: none)
  --port PORT     the server's port of your exchange
  --keylog FILE   the key log to decrypt with (with --port: where COMMAND
                  writes it; default DIR/exchange.keylog, through SSLKEYLOGFILE)
  --pcap FILE     report on this capture instead of capturing
  -h, --help      this help

Capturing on lo needs root or CAP_NET_RAW and CAP_NET_ADMIN (dumpcap).
Without them the built-in exchanges are captured by the client itself
(--pcap FILE: the bytes it sent and received, with synthesized headers
and the TLS/DTLS secrets inside): MODE.pcap is then that capture (pcapng)
less its secrets, MODE-secrets.pcapng the client's own file. Your own
COMMAND, when it is one of the project's programs, gets --pcap the same
way; any other COMMAND needs the privilege (or capture it yourself and
use --pcap FILE). SECSOCK_CAPTURE=tshark or =pcap forces one way.
Needs tshark, editcap (Debian package tshark) and python3. Exits 1 when an exchange, COMMAND or a capture fails,
or when a check in checks.json fails (the report is written all the same).
EOF
}

bad_usage() {
    printf 'capture-compare.sh: %s\n' "$1" >&2
    usage >&2
    exit 2
}

out=""
bin="$SECSOCK_ROOT/build/bin"
marker=""
port=""
keylog=""
pcap_in=""
command=()
while (($# > 0)); do
    case "$1" in
        --out | --bin | --marker | --port | --keylog | --pcap)
            (($# >= 2)) || bad_usage "$1 needs an argument"
            case "$1" in
                --out) out="$2" ;;
                --bin) bin="$2" ;;
                --marker) marker="$2" ;;
                --port) port="$2" ;;
                --keylog) keylog="$2" ;;
                --pcap) pcap_in="$2" ;;
            esac
            shift 2
            ;;
        --out=*) out="${1#--out=}"; shift ;;
        --bin=*) bin="${1#--bin=}"; shift ;;
        --marker=*) marker="${1#--marker=}"; shift ;;
        --port=*) port="${1#--port=}"; shift ;;
        --keylog=*) keylog="${1#--keylog=}"; shift ;;
        --pcap=*) pcap_in="${1#--pcap=}"; shift ;;
        --)
            shift
            command=("$@")
            break
            ;;
        -h | --help) usage; exit 0 ;;
        *) bad_usage "unknown argument: $1" ;;
    esac
done

if [[ -n "$port" ]] && { ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); }; then
    bad_usage "--port: '$port' is not a port number (1-65535)"
fi
if [[ -n "$pcap_in" ]]; then
    ((${#command[@]} == 0)) || bad_usage "--pcap reports on a capture: no COMMAND with it"
    [[ -f "$pcap_in" && -r "$pcap_in" ]] || die "--pcap: cannot read '$pcap_in'"
    what=pcap
elif ((${#command[@]} > 0)); then
    [[ -n "$port" ]] || bad_usage "COMMAND needs --port PORT: the server's port to capture"
    what=exchange
else
    [[ -z "$port" ]] || bad_usage "--port PORT needs -- COMMAND (or --pcap FILE)"
    [[ -z "$keylog" ]] || bad_usage "--keylog goes with --port PORT -- COMMAND or --pcap FILE"
    what=modes
fi
if [[ -n "$keylog" && "$what" == pcap ]]; then
    [[ -f "$keylog" && -r "$keylog" ]] || die "--keylog: cannot read '$keylog'"
fi

# How to capture: tshark on lo when allowed, else the programs' --pcap.
capture_with="${SECSOCK_CAPTURE:-}"
case "$capture_with" in
    "" | tshark | pcap) ;;
    *) bad_usage "SECSOCK_CAPTURE='$capture_with': want tshark or pcap" ;;
esac
tools=(tshark editcap)
[[ "$what" == pcap || "$capture_with" == pcap ]] || tools+=(dumpcap)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found; install the Debian package tshark (apt-get install tshark)"
done
command -v python3 >/dev/null 2>&1 || die "python3 not found (apt-get install python3)"
if [[ "$what" == modes ]]; then
    for p in tcp-client tcp-server udp-client udp-server; do
        [[ -x "$bin/$p" ]] || die "$bin/$p not found; build first (cmake -B build && cmake --build build) or pass --bin DIR"
    done
    bin="$(cd "$bin" && pwd)"
fi

# Capturing on lo needs the privilege; dumpcap -L opens the interface.
# Without it, the programs capture themselves (--pcap), unless told not to
# or the COMMAND is not one of them.
priv_err=""
if [[ "$what" != pcap && "$capture_with" != pcap ]] &&
    ! priv_err="$(dumpcap -L -i lo 2>&1 >/dev/null)"; then
    if [[ -z "$capture_with" && "$what" == modes ]] ||
        [[ -z "$capture_with" && "$what" == exchange &&
            "$(basename -- "${command[0]}")" =~ ^(tcp|udp)-(client|server)$ ]]; then
        capture_with=pcap
        note "no capture privilege on lo (user $(id -un 2>/dev/null || echo "$EUID")): the programs capture themselves (--pcap)"
    else
        capture_with=refused
    fi
fi
[[ -n "$capture_with" ]] || capture_with=tshark
if [[ "$capture_with" == refused ]]; then
    printf 'capture-compare.sh: cannot capture on the loopback interface: this needs root or CAP_NET_RAW and CAP_NET_ADMIN\n' >&2
    printf 'capture-compare.sh: (user %s, uid %s); dumpcap said: %s\n' "$(id -un 2>/dev/null || echo '?')" "$EUID" \
        "$(printf '%s' "$priv_err" | grep -m1 -E 'pcap_activate|ermission' || printf '%s' "${priv_err%%$'\n'*}")" >&2
    printf 'capture-compare.sh: run it as root (sudo scripts/capture-compare.sh), or give dumpcap the capabilities:\n' >&2
    printf '  sudo setcap cap_net_raw,cap_net_admin=eip %s\n' "$(command -v dumpcap)" >&2
    printf 'capture-compare.sh: or report on a capture you already have: --pcap FILE\n' >&2
    if [[ "$what" == exchange ]]; then
        printf 'capture-compare.sh: (the project'"'"'s programs make one without root: --pcap FILE)\n' >&2
    fi
    exit 1
fi

if [[ -z "$out" ]]; then
    out="$(mktemp -d "${TMPDIR:-/tmp}/secsock-capture.XXXXXX")"
else
    mkdir -p "$out"
fi
out="$(cd "$out" && pwd)"
mkdir -p "$out/logs"

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

failures=()

# capture_start NAME BPF-FILTER : tshark on lo into logs/NAME.raw.pcap, ready
# once it really captures. tshark's "Capturing on" comes before packets
# really flow (under load, hundreds of milliseconds of packets can be lost
# after it); so the capture also takes the datagrams of a probe on its own
# port, which shows each captured packet live (-P): the exchange starts once
# the probe's first datagram is seen, tshark stops once a datagram sent
# after the exchange is seen (capture_stop), and the probe's datagrams are
# then left out.
probe=""
capture_start() {
    local name="$1" filter="$2" i log="$out/logs/$1"
    # free_port (lib.sh): bound twice, at the start and at the end, so it must
    # be a port no client socket can be given in between.
    probe="$(free_port)"
    rm -f "$log.raw.pcap"
    : >"$log.tshark.log"
    : >"$log.tshark.live"
    tshark -n -l -i lo -f "($filter) or (udp port $probe)" -F pcap -w "$log.raw.pcap" \
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
            die "$name: tshark did not start capturing on lo within 15s"
        fi
        i=0
        wait "$tshark_pid" || i=$?
        tshark_pid=""
        die "$name: tshark exited (status $i) before capturing on lo"
    fi
    probe_until_seen "$log.tshark.live" "$probe" start ||
        { cat "$log.tshark.log" >&2; die "$name: tshark captured none of the probe's datagrams within 20s"; }
}

# capture_stop NAME PCAP : waits until tshark has captured everything sent
# so far, stops it and writes the capture without the probe's datagrams to
# PCAP; sets captured_frames.
captured_frames=0
capture_stop() {
    local name="$1" pcap="$2" log="$out/logs/$1" frames=0
    probe_until_seen "$log.tshark.live" "$probe" end ||
        { cat "$log.tshark.log" >&2; die "$name: tshark did not capture the probe's last datagram within 20s"; }
    stop "$tshark_pid"
    tshark_pid=""
    rm -f "$pcap"
    tshark -r "$log.raw.pcap" -Y "not udp.port == $probe" -F pcap -w "$pcap" 2>>"$log.tshark.log" ||
        failures+=("$name: tshark could not write $pcap (see $log.tshark.log)")
    # The frames of the exchange: tshark's live lines, less the probe's.
    frames="$(grep -cvE "^$probe"$'\t'"$probe"$'\t' "$log.tshark.live")" || true
    ((frames > 0)) || failures+=("$name: the capture is empty (see $log.tshark.log)")
    captured_frames=$frames
}

# own_capture NAME FILE : a program's --pcap FILE as NAME's capture:
# NAME.pcap without its secrets (what an observer has) and, when it holds
# secrets, NAME-secrets.pcapng (the file itself); sets captured_frames.
own_capture() {
    local name="$1" file="$2" frames=0
    rm -f "$out/$name.pcap" "$out/$name-secrets.pcapng"
    if [[ ! -s "$file" ]]; then
        failures+=("$name: the program wrote no capture ($file)")
        captured_frames=0
        return
    fi
    python3 "$SECSOCK_ROOT/scripts/capture_pcapng.py" without-secrets "$file" "$out/$name.pcap"
    if python3 "$SECSOCK_ROOT/scripts/capture_pcapng.py" has-secrets "$file"; then
        cp "$file" "$out/$name-secrets.pcapng"
    fi
    frames="$(tshark -n -r "$out/$name.pcap" 2>/dev/null | wc -l)" || true
    ((frames > 0)) || failures+=("$name: the capture is empty ($file)")
    captured_frames=$frames
}

# inject_secrets NAME PCAP KEYLOG : NAME-secrets.pcapng, the capture with the
# key log embedded (opens decrypted in Wireshark with no other file). Your
# own exchange's: capture_analysis.py makes it.
inject_secrets() {
    local name="$1" pcap="$2" keys="$3"
    rm -f "$out/$name-secrets.pcapng"
    if [[ ! -s "$keys" ]]; then
        return 1
    fi
    editcap --inject-secrets "tls,$keys" "$pcap" "$out/$name-secrets.pcapng" \
        >"$out/logs/$name.editcap.log" 2>&1 ||
        { failures+=("$name: editcap --inject-secrets failed (see logs/$name.editcap.log)"); return 1; }
}

# run_mode [--optional] MODE tcp|udp SERVER-ARGS... -- CLIENT-ARGS...
# Starts the server (-p 0 --json; its port from its ready signal), tshark on
# its port, the client (its arguments: CLIENT-ARGS --json "${client_head[@]}"
# PORT "${client_tail[@]}"), stops the server and then tshark. Writes
# MODE.pcap and logs/MODE.*.
# --optional: a mode this build may not have (a group or ECH that needs a
# newer OpenSSL). When the server refuses its options (exit 2, a usage
# error) the mode is left out and unavailable[MODE] holds the server's
# one-line reason: the report says so; it is not a failure.
declare -A ports=() unavailable=()
run_mode() {
    local optional=""
    if [[ "$1" == --optional ]]; then
        optional=1
        shift
    fi
    local mode="$1" kind="$2"
    shift 2
    local -a sargs=() cargs=()
    while (($# > 0)) && [[ "$1" != -- ]]; do
        sargs+=("$1")
        shift
    done
    shift
    cargs=("$@")
    local log="$out/logs/$mode" port="" st=0

    # Fresh logs: the loops below must not read a previous run's lines.
    rm -f "$log".* "$out/$mode.keylog"
    if [[ -n "$optional" ]]; then
        # The server's own words say what this build lacks (in its log).
        if ! start_server_ready --stderr "$log.server.err" server_pid port "$log.server.out" \
            "$bin/$kind-server" "${sargs[@]}" -p 0 --json 2>/dev/null; then
            [[ "$READY_ERROR" == "exited (status 2) before listening" ]] ||
                die "$mode: $kind-server ${sargs[*]} did not start listening: $READY_ERROR"
            unavailable[$mode]="$(grep -m1 -v '^{' "$log.server.err" | sed "s/^$kind-server: //")"
            [[ -n "${unavailable[$mode]}" ]] || unavailable[$mode]="$kind-server refused ${sargs[*]}"
            printf '  %-9s not on this build: %s\n' "$mode" "${unavailable[$mode]}"
            return 0
        fi
    else
        start_server_ready --stderr "$log.server.err" server_pid port "$log.server.out" \
            "$bin/$kind-server" "${sargs[@]}" -p 0 --json ||
            die "$mode: $kind-server ${sargs[*]} did not start listening: $READY_ERROR"
    fi
    ports[$mode]="$port"
    local -a self=()
    if [[ "$capture_with" == pcap ]]; then
        rm -f "$log.client.pcapng"
        self=(--pcap "$log.client.pcapng")
    else
        capture_start "$mode" "$kind port $port"
    fi

    timeout 30 "$bin/$kind-client" "${cargs[@]}" "${self[@]}" --json "${client_head[@]}" "$port" "${client_tail[@]}" \
        >"$log.client.out" 2>"$log.client.err" </dev/null || st=$?
    ((st == 0)) || failures+=("$mode: $kind-client exited with status $st (see $log.client.err)")

    stop "$server_pid"
    server_pid=""
    if [[ "$capture_with" == pcap ]]; then
        own_capture "$mode" "$log.client.pcapng"
    else
        capture_stop "$mode" "$out/$mode.pcap"
    fi
    printf '  %-9s port %-5s  client exit %s, %s frames captured\n' "$mode" "$port" "$st" "$captured_frames"
}

# run_modes : the built-in exchanges, then the analysis (scripts/
# capture_analysis.py: the reports; exit 3 when a check failed).
run_modes() {
    mkdir -p "$out/pki"
    [[ -n "$marker" ]] || marker="secsock-marker-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    # The server certificate's subject CN: a name that appears nowhere else
    # (the client sends SNI localhost), so its bytes on the wire come from the
    # certificate.
    local cert_name=secsock-capture.test pki="$out/pki"
    # Certificates: a throw-away CA and a server certificate whose subject is
    # easy to recognise in a capture.
    if [[ ! -f "$pki/server.crt" ]]; then
        bash "$SECSOCK_ROOT/scripts/gen-certs.sh" --dir "$pki" --name "$cert_name" --days 30 \
            >"$out/logs/gen-certs.log" 2>&1 || { cat "$out/logs/gen-certs.log" >&2; die "scripts/gen-certs.sh failed"; }
    fi
    local ua="secsock-capture/1.0 ($marker)"
    note "marker: $marker"
    note "capturing into $out"

    # TCP: an HTTP GET whose User-Agent carries the marker; the reply body too.
    local -a tcp_server=(--http --reply "reply body $marker")
    client_head=(-4 -A "$ua" localhost)
    client_tail=()
    run_mode tcp tcp "${tcp_server[@]}" -- --fail
    run_mode tls12 tcp "${tcp_server[@]}" --tls --cert "$pki/server.crt" --key "$pki/server.key" \
        --tls-max 1.2 --alpn http/1.1 -- \
        --fail --tls --cafile "$pki/ca.crt" --tls-max 1.2 --alpn http/1.1 --keylog "$out/tls12.keylog"
    local -a tls13_server=("${tcp_server[@]}" --tls --cert "$pki/server.crt" --key "$pki/server.key"
        --tls-min 1.3 --alpn http/1.1)
    local -a tls13_client=(--fail --tls --cafile "$pki/ca.crt" --tls-min 1.3 --alpn http/1.1)
    # The post-quantum hybrid key share (OpenSSL 3.5 and later): tls13-pq.
    # Where the build has it, its default groups put it first, so tls13, the
    # classical baseline, is pinned to X25519 (what 3.0 negotiates anyway):
    # the two then differ only in the key share.
    local pq=X25519MLKEM768 public_name=public.secsock.test
    run_mode --optional tls13-pq tcp "${tls13_server[@]}" --groups "$pq" -- \
        "${tls13_client[@]}" --groups "$pq" --keylog "$out/tls13-pq.keylog"
    local -a pin=()
    [[ -n "${unavailable[tls13-pq]:-}" ]] || pin=(--groups X25519)
    run_mode tls13 tcp "${tls13_server[@]}" "${pin[@]}" -- \
        "${tls13_client[@]}" "${pin[@]}" --keylog "$out/tls13.keylog"
    # Encrypted Client Hello (OpenSSL 4 and later): tls13-ech. The server
    # makes a key for a public name other than the real one (localhost, the
    # client's SNI elsewhere) and writes its ECHConfigList before it listens;
    # the client encrypts its real ClientHello to it. With the same groups
    # as tls13, so that what changes is ECH alone.
    rm -f "$out/tls13-ech.ecl"
    run_mode --optional tls13-ech tcp "${tls13_server[@]}" "${pin[@]}" \
        --ech "$public_name" --ech-out "$out/tls13-ech.ecl" -- \
        "${tls13_client[@]}" "${pin[@]}" --ech "ecl:$out/tls13-ech.ecl" \
        --keylog "$out/tls13-ech.keylog"

    # UDP: one datagram carrying the marker; the reply carries it too.
    local -a udp_server=(--reply "reply body $marker")
    client_head=(-4 localhost)
    client_tail=("message $marker")
    run_mode udp udp "${udp_server[@]}" -- --retries 0
    run_mode dtls12 udp "${udp_server[@]}" --dtls --cert "$pki/server.crt" --key "$pki/server.key" -- \
        --retries 0 --dtls --cafile "$pki/ca.crt" --keylog "$out/dtls12.keylog"

    local mode
    for mode in tls12 tls13 tls13-pq tls13-ech dtls12; do
        [[ -n "${ports[$mode]:-}" ]] || continue
        # The client's own capture holds its secrets already.
        [[ "$capture_with" != pcap || ! -s "$out/$mode-secrets.pcapng" ]] || continue
        inject_secrets "$mode" "$out/$mode.pcap" "$out/$mode.keylog" ||
            [[ -s "$out/$mode.keylog" ]] || failures+=("$mode: the client wrote no key log")
    done
    analysis_st=0
    local -a args=(--captured-by "$capture_with" --public-name "$public_name")
    for mode in "${!ports[@]}"; do
        args+=(--port "$mode=${ports[$mode]}")
    done
    for mode in "${!unavailable[@]}"; do
        args+=(--unavailable "$mode=${unavailable[$mode]}")
    done
    python3 "$SECSOCK_ROOT/scripts/capture_analysis.py" modes "${args[@]}" \
        "$out" "$marker" "$cert_name" || analysis_st=$?
}

# run_exchange : COMMAND under capture on PORT, with SSLKEYLOGFILE.
run_exchange() {
    local st=0 interrupted=""
    [[ -n "$keylog" ]] || keylog="$out/exchange.keylog"
    [[ "$keylog" == /* ]] || keylog="$PWD/$keylog"
    local -a cmd=("${command[@]}")
    if [[ "$capture_with" == pcap ]]; then
        # The program captures itself: --pcap right after its name.
        rm -f "$out/logs/exchange.pcapng"
        cmd=("${command[0]}" --pcap "$out/logs/exchange.pcapng" "${command[@]:1}")
        note "capturing with --pcap into $out while running: ${cmd[*]}"
    else
        note "capturing port $port on lo into $out while running: ${command[*]}"
        capture_start exchange "tcp port $port or udp port $port"
    fi
    # Ctrl-C ends COMMAND (a trap, unlike an ignored signal, is reset in the
    # child) and the report follows.
    trap 'interrupted=1' INT
    SSLKEYLOGFILE="$keylog" "${cmd[@]}" || st=$?
    trap 'exit 130' INT
    [[ -z "$interrupted" ]] || note "interrupted: the report covers what was captured"
    ((st == 0)) || failures+=("${command[0]} exited with status $st")
    if [[ "$capture_with" == pcap ]]; then
        own_capture exchange "$out/logs/exchange.pcapng"
    else
        capture_stop exchange "$out/exchange.pcap"
    fi
    note "$captured_frames frames captured"
    local -a args=(--port "$port" --command-exit "$st" --captured-by "$capture_with")
    [[ -z "$marker" ]] || args+=(--marker "$marker")
    [[ ! -s "$keylog" ]] || args+=(--keylog "$keylog")
    analysis_st=0
    python3 "$SECSOCK_ROOT/scripts/capture_analysis.py" exchange "$out" "$out/exchange.pcap" \
        "${args[@]}" -- "${command[@]}" || analysis_st=$?
}

# run_pcap : the report on an existing capture.
run_pcap() {
    local -a args=()
    [[ -z "$port" ]] || args+=(--port "$port")
    [[ -z "$marker" ]] || args+=(--marker "$marker")
    [[ -z "$keylog" ]] || args+=(--keylog "$keylog")
    analysis_st=0
    python3 "$SECSOCK_ROOT/scripts/capture_analysis.py" exchange "$out" "$pcap_in" "${args[@]}" ||
        analysis_st=$?
}

analysis_st=0
case "$what" in
    modes) run_modes ;;
    exchange) run_exchange ;;
    pcap) run_pcap ;;
esac

if ((analysis_st != 0 && analysis_st != 3)); then
    die "the analysis of the captures failed (status $analysis_st)"
fi
echo
cat "$out/report.md"
echo
note "captures, key logs and the reports are in $out"
note "read it: file://$out/report.html"
if ((analysis_st == 3)); then
    failures+=("a check failed (see $out/checks.json)")
fi
if ((${#failures[@]} > 0)); then
    printf 'capture-compare.sh: FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
