#!/usr/bin/env bash
# Benchmarks on loopback: the project's programs beside what a user would run
# instead (nginx, openssl s_server/s_time/speed, socat, ncat, curl), on the
# same machine, in the same run, with the same ECDSA P-256 certificate and
# the same OpenSSL. Medians of several repetitions, ratios, goals.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/bench.sh [--quick] [--out DIR] [--bin DIR] [--only LIST] [--baseline REF]
                        [--trace-cost] [--no-install]

Measures on 127.0.0.1, every peer with the same ECDSA P-256 certificate and
the same OpenSSL, several repetitions each (medians reported):

  1  TLS handshakes   full TLS 1.3 handshakes/s (no resumption) from several
                      parallel `openssl s_time -new` processes against
                      tcp-server --tls --tickets 0, nginx (1 and 2 workers,
                      no session cache or tickets) and openssl s_server
                      -www; and the server's CPU time per handshake
                      (/proc/PID/stat). Effect rows: tcp-server with its
                      default --tickets 2, and with --accept-threads 1
                      (each only when its --help lists the option)
  2  bulk             one stream (2 GiB; --quick: 128 MiB) from tcp-client
                      --send-file into tcp-server --sink, TLS and plaintext
                      (the SHA-256 it returns is checked), beside socat and
                      ncat moving the same bytes, and `openssl speed` on one
                      core as the crypto limit
  3  idle connections 5,000 and 10,000 (--quick: 500) idle TLS connections
                      held open against tcp-server and nginx (1 worker):
                      RSS per connection; then every one sends a request
                      and the replies are counted
  4  UDP and DTLS     udp-client --count against udp-server, plaintext and
                      DTLS, beside socat's UDP and DTLS echo
  5  client           tcp-client --tls and curl fetching the same page from
                      a private Apache2 (scripts/apache.sh), whole processes,
                      many runs (hyperfine)

Writes into DIR: report.md (machine, table, goals PASS/FAIL, notes),
report.csv (one row per measurement), report.png (gnuplot: the ratios),
raw.tsv (every repetition), logs/.

Options:
  --quick        fewer and shorter repetitions; about 30-60 s in all
  --out DIR      where to write (default: build-bench/report in the repository)
  --bin DIR      the built programs (default: $SECSOCK_BIN, else a Release
                 build made in build-bench/ of the repository)
  --only LIST    only these measurements, e.g. --only 1,3 (the report then
                 has only their rows)
  --baseline REF also build git commit REF (Release, from `git archive`, in
                 build-bench/baseline-COMMIT; the work tree is not touched)
                 and add rows "(before: COMMIT)" for its programs to
                 measurements 1-4, run the same way except for options its
                 --help does not list; the ratio column then shows the
                 effect of the changes since REF. SECSOCK_BENCH_BUILD: where
                 to build instead of build-bench/
  --trace-cost   what -v and --trace cost, asked for or not: also build the
                 programs with the trace hooks compiled out (cmake
                 -DSECSOCK_TRACE_HOOKS=OFF, the --bin build's type, in
                 build-bench/no-trace-hooks) and add rows to measurements 1
                 and 2 for that build and for tcp-server -v (its log to
                 /dev/null). The hooks cost nothing when off if the first
                 row matches the main one within the runs' spread
  --no-install   do not install missing packages (root only installs)
  -h, --help     this help

Run as root, it installs the peers it needs (Debian packages nginx,
gnuplot-nox, hyperfine, socat, ncat, curl, apache2, ...); as another user it
prints the apt-get line and exits 1 when one is missing. It never touches
the system's nginx or Apache configuration: both run from private
configurations in a temporary directory, on 127.0.0.1 only.
EOF
}

bad_usage() {
    printf 'bench.sh: %s\n' "$1" >&2
    printf 'Try: scripts/bench.sh --help\n' >&2
    exit 2
}

quick=0
out=""
bin="${SECSOCK_BIN:-}"
only="1,2,3,4,5"
install=1
baseline=""
trace_cost=0
want_arg() { (($# >= 2)) || bad_usage "$1 needs an argument"; }
while (($# > 0)); do
    case "$1" in
        --quick) quick=1; shift ;;
        --out) want_arg "$@"; out="$2"; shift 2 ;;
        --out=*) out="${1#*=}"; shift ;;
        --bin) want_arg "$@"; bin="$2"; shift 2 ;;
        --bin=*) bin="${1#*=}"; shift ;;
        --only) want_arg "$@"; only="$2"; shift 2 ;;
        --only=*) only="${1#*=}"; shift ;;
        --baseline) want_arg "$@"; baseline="$2"; shift 2
            [[ -n "$baseline" ]] || bad_usage "--baseline needs a git commit" ;;
        --baseline=*) baseline="${1#*=}"; shift
            [[ -n "$baseline" ]] || bad_usage "--baseline needs a git commit" ;;
        --trace-cost) trace_cost=1; shift ;;
        --no-install) install=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) bad_usage "unknown argument: $1" ;;
    esac
done
[[ "$only" =~ ^[1-5](,[1-5])*$ ]] || bad_usage "--only takes numbers 1-5 separated by commas: $only"
wants() { [[ ",$only," == *",$1,"* ]]; }
base_rev="" base_short=""
if [[ -n "$baseline" ]]; then
    command -v git >/dev/null 2>&1 || bad_usage "--baseline needs git"
    base_rev="$(git -C "$SECSOCK_ROOT" rev-parse --verify --quiet "$baseline^{commit}" 2>/dev/null)" ||
        bad_usage "--baseline: no such commit in $SECSOCK_ROOT: $baseline"
    base_short="$(git -C "$SECSOCK_ROOT" rev-parse --short "$base_rev")"
fi

# ---------------------------------------------------------------------------
# Parameters

if ((quick)); then
    HS_TIME=1          # seconds of load per repetition (s_time -time)
    HS_REPS=2
    BULK_BYTES=$((128 * 1024 * 1024))
    BULK_REPS=2
    SPEED_SECONDS=1
    SPEED_REPS=1
    IDLE_COUNTS=(500)
    UDP_COUNT=10000
    UDP_REPS=2
    CLIENT_RUNS=10
    CLIENT_WARMUP=2
else
    HS_TIME=5
    HS_REPS=5
    BULK_BYTES=$((2 * 1024 * 1024 * 1024))
    BULK_REPS=3
    SPEED_SECONDS=2
    SPEED_REPS=3
    IDLE_COUNTS=(5000 10000)
    UDP_COUNT=50000
    UDP_REPS=3
    CLIENT_RUNS=100
    CLIENT_WARMUP=5
fi
NCPU="$(nproc)"
HS_PROCS=$((2 * NCPU))
((HS_PROCS < 2)) && HS_PROCS=2
((HS_PROCS > 8)) && HS_PROCS=8
UDP_MESSAGE="$(printf 'x%.0s' {1..64})"   # 64 bytes, the same to every server

# ---------------------------------------------------------------------------
# Packages, programs, directories

if ((install)); then
    ensure_packages "${SECSOCK_BENCH_PACKAGES[@]}"
else
    ensure_packages --no-install "${SECSOCK_BENCH_PACKAGES[@]}"
fi
for c in openssl python3 ss; do
    command -v "$c" >/dev/null 2>&1 || die "$c is needed"
done
need_for() { # need_for ITEM CMD... : CMD must exist when ITEM is measured
    local item="$1" c
    shift
    wants "$item" || return 0
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            die "measurement $item needs '$c' (run as root to install it, or see --help)"
    done
}
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
need_for 1 "$NGINX"
need_for 2 socat ncat sha256sum
need_for 3 "$NGINX"
need_for 4 socat
need_for 5 curl /usr/sbin/apache2
PY="$(command -v python3)"
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3   # Debian's: the system OpenSSL

if [[ -z "$bin" ]]; then
    note "building the programs (Release) in $SECSOCK_ROOT/build-bench"
    cmake -B "$SECSOCK_ROOT/build-bench" -S "$SECSOCK_ROOT" -DCMAKE_BUILD_TYPE=Release \
        >/dev/null || die "cmake failed"
    cmake --build "$SECSOCK_ROOT/build-bench" -j "$NCPU" \
        --target tcp-server tcp-client udp-server udp-client >/dev/null || die "build failed"
    bin="$SECSOCK_ROOT/build-bench/bin"
fi
bin="$(cd "$bin" && pwd)" || die "no such directory: $bin"
for p in tcp-server tcp-client udp-server udp-client; do
    [[ -x "$bin/$p" ]] || die "$bin/$p is missing (build the project, or use --bin)"
done
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$bin/../CMakeCache.txt" 2>/dev/null || true)"
sanitize="$(sed -n 's/^SECSOCK_SANITIZE:[A-Z]*=//p' "$bin/../CMakeCache.txt" 2>/dev/null || true)"

# --baseline: commit REF's programs, built (Release) from `git archive` in
# their own directory (kept, and reused while it holds all four programs).
base_bin=""
base_subject=""
if [[ -n "$base_rev" ]] && ! wants 1 && ! wants 2 && ! wants 3 && ! wants 4; then
    warn "--baseline $baseline: measurement 5 has no baseline row; not building it"
    base_rev=""
    base_short=""
fi
if [[ -n "$base_rev" ]]; then
    base_dir="${SECSOCK_BENCH_BUILD:-$SECSOCK_ROOT/build-bench}/baseline-$base_short"
    base_subject="$(git -C "$SECSOCK_ROOT" log -1 --format='committed %cs' "$base_rev")"
    base_ok=1
    for p in tcp-server tcp-client udp-server udp-client; do
        [[ -x "$base_dir/build/bin/$p" ]] || base_ok=0
    done
    [[ "$(cat "$base_dir/commit" 2>/dev/null || true)" == "$base_rev" ]] || base_ok=0
    if ((!base_ok)); then
        note "building $base_short (Release) in $base_dir"
        rm -rf "$base_dir"
        mkdir -p "$base_dir/src"
        git -C "$SECSOCK_ROOT" archive --format=tar "$base_rev" | tar -x -C "$base_dir/src" ||
            die "git archive $base_short failed"
        cmake -B "$base_dir/build" -S "$base_dir/src" -DCMAKE_BUILD_TYPE=Release \
            >"$base_dir/cmake.log" 2>&1 || die "cmake of $base_short failed (see $base_dir/cmake.log)"
        cmake --build "$base_dir/build" -j "$NCPU" --target tcp-server tcp-client udp-server udp-client \
            >"$base_dir/build.log" 2>&1 || die "the build of $base_short failed (see $base_dir/build.log)"
        for p in tcp-server tcp-client udp-server udp-client; do
            [[ -x "$base_dir/build/bin/$p" ]] || die "$base_short built no bin/$p (see $base_dir/build.log)"
        done
        printf '%s\n' "$base_rev" >"$base_dir/commit"
    fi
    base_bin="$base_dir/build/bin"
fi

# has_option PROGRAM OPTION... : PROGRAM's --help lists every OPTION
has_option() {
    local help o
    help="$("$1" --help 2>&1 || true)"
    shift
    for o in "$@"; do
        grep -qE -- "(^|[[:space:],])$o([[:space:]=,]|\$)" <<<"$help" || return 1
    done
}

# What the programs can do: measurement 1 runs tcp-server as nginx is
# configured here (no session tickets or cache) when it can, and shows what
# the default tickets and a single admission thread change.
HS_ARGS=(--tls)
HS_TICKETS=0
HS_THREADS=0
if has_option "$bin/tcp-server" --tickets; then
    HS_ARGS+=(--tickets 0)
    HS_TICKETS=1
fi
has_option "$bin/tcp-server" --accept-threads && HS_THREADS=1
# The baseline: the same, less what it lacks.
BASE_HS_ARGS=(--tls)
if [[ -n "$base_bin" ]] && ((HS_TICKETS)) && has_option "$base_bin/tcp-server" --tickets; then
    BASE_HS_ARGS+=(--tickets 0)
fi

[[ -n "$out" ]] || out="$SECSOCK_ROOT/build-bench/report"
mkdir -p "$out/logs"
out="$(cd "$out" && pwd)"
rm -f "$out"/report.{md,csv,png} "$out/raw.tsv" "$out"/logs/*
RAW="$out/raw.tsv"
: >"$RAW"

work="$(mktemp -d "${TMPDIR:-/tmp}/secsock-bench.XXXXXX")"
chmod 755 "$work" # Apache's workers (www-data when root) read its directory
LOGS="$out/logs"
CLK_TCK="$(getconf CLK_TCK)"

# Processes we started: killed at exit.
PIDS=()
apache_dir=""
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [[ -n "$apache_dir" ]]; then
        bash "$SECSOCK_ROOT/scripts/apache.sh" stop --dir "$apache_dir" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --trace-cost: the same sources built the same way, less the trace hooks
# (every tracing() test a constant 0, so the compiler drops them).
hooks_bin=""
if ((trace_cost)) && ! wants 1 && ! wants 2; then
    warn "--trace-cost adds rows to measurements 1 and 2 only; not building"
    trace_cost=0
fi
if ((trace_cost)); then
    hooks_dir="${SECSOCK_BENCH_BUILD:-$SECSOCK_ROOT/build-bench}/no-trace-hooks"
    note "building the programs without trace hooks (${build_type:-Release}) in $hooks_dir"
    cmake -B "$hooks_dir" -S "$SECSOCK_ROOT" -DCMAKE_BUILD_TYPE="${build_type:-Release}" \
        -DSECSOCK_SANITIZE="$sanitize" -DSECSOCK_TRACE_HOOKS=OFF >"$LOGS/no-trace-hooks-cmake.log" 2>&1 ||
        die "cmake of the build without trace hooks failed (see $LOGS/no-trace-hooks-cmake.log)"
    cmake --build "$hooks_dir" -j "$NCPU" --target tcp-server tcp-client \
        >"$LOGS/no-trace-hooks-build.log" 2>&1 ||
        die "the build without trace hooks failed (see $LOGS/no-trace-hooks-build.log)"
    hooks_bin="$hooks_dir/bin"
fi

# Certificates: one ECDSA P-256 server certificate for every server.
bash "$SECSOCK_ROOT/scripts/gen-certs.sh" --dir "$work/pki" >/dev/null
CA="$work/pki/ca.crt"
CRT="$work/pki/server.crt"
KEY="$work/pki/server.key"

# ---------------------------------------------------------------------------
# Helpers

now_us() { printf '%s\n' "${EPOCHREALTIME/./}"; }

# record ITEM KEY METRIC VALUE : one repetition's result
record() {
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"
}

# wait_listen tcp|udp PORT : until something listens there (10 s)
wait_listen() {
    local proto="$1" port="$2" i flag=-Hltn
    [[ "$proto" == udp ]] && flag=-Hlun
    for ((i = 0; i < 200; i++)); do
        if [[ -n "$(ss "$flag" "sport = :$port" 2>/dev/null)" ]]; then
            return 0
        fi
        sleep 0.05
    done
    die "nothing listens on $proto port $port after 10 s"
}

# start_bg VAR LOG CMD... : runs CMD in the background, its pid into VAR
start_bg() {
    local -n _pid="$1"
    local log="$2"
    shift 2
    "$@" >"$log" 2>&1 </dev/null &
    _pid=$!
    PIDS+=("$_pid")
}

# start_secsock VARPID VARPORT LOG CMD... : a secsock server started with
# -p 0; waits for its ready signal (start_server_ready, lib.sh), the port
# into VARPORT
start_secsock() {
    local -n _spid="$1"
    local _log="$3"
    start_server_ready "$@" || die "${4##*/} did not start (see $_log): $READY_ERROR"
    PIDS+=("$_spid")
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# proc_ticks PID... : utime+stime of these processes and of their children
# (live ones, plus what the kernel already added for reaped ones), in ticks
proc_ticks() {
    local p line rest total=0
    local -a f all=()
    for p in "$@"; do
        all+=("$p")
        mapfile -t -O "${#all[@]}" all < <(pgrep -P "$p" 2>/dev/null || true)
    done
    for p in "${all[@]}"; do
        line="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        rest="${line##*) }"
        read -ra f <<<"$rest"
        total=$((total + f[11] + f[12] + f[13] + f[14]))
    done
    printf '%s\n' "$total"
}

# proc_rss_kib PID : VmRSS of PID and its children, KiB
proc_rss_kib() {
    local p total=0 v
    local -a all=("$1")
    mapfile -t -O 1 all < <(pgrep -P "$1" 2>/dev/null || true)
    for p in "${all[@]}"; do
        v="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status" 2>/dev/null || true)"
        total=$((total + ${v:-0}))
    done
    printf '%s\n' "$total"
}

# nginx_start VARPID DIR PORT WORKERS CONNECTIONS : a private nginx on
# 127.0.0.1:PORT with TLS (the shared certificate), no session cache or
# tickets, everything (pid, logs, temp files) under DIR
nginx_start() {
    local -n _npid="$1"
    local dir="$2" port="$3" workers="$4" conns="$5" user=""
    mkdir -p "$dir"/{logs,tmp}
    ((EUID == 0)) && user="user root;"
    cat >"$dir/nginx.conf" <<EOF
$user
worker_processes $workers;
worker_rlimit_nofile $(ulimit -Hn);
pid $dir/nginx.pid;
error_log $LOGS/${dir##*/}-error.log;
events { worker_connections $conns; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    client_header_timeout 600s;
    keepalive_timeout 600s;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $CRT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        default_type text/plain;
        location / { return 200 "nginx over TLS is working\n"; }
    }
}
EOF
    start_bg "$1" "$LOGS/${dir##*/}.log" "$NGINX" -p "$dir" -c "$dir/nginx.conf" \
        -e "$LOGS/${dir##*/}-error.log" -g 'daemon off;'
    wait_listen tcp "$port"
    # and its workers are up
    local i
    for ((i = 0; i < 100; i++)); do
        (($(pgrep -c -P "$_npid" || true) >= workers)) && return 0
        sleep 0.05
    done
    die "nginx in $dir did not start its workers"
}

machine_cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"
[[ -n "$machine_cpu" ]] || machine_cpu="$(uname -m)"
started_at="$(date -u '+%Y-%m-%d %H:%M UTC')"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
t_start="$(now_us)"

# ---------------------------------------------------------------------------
# 1. TLS handshakes

# hs_load PORT TAG : HS_PROCS s_time processes for HS_TIME s; prints
# "CONNECTIONS ELAPSED_US"
hs_load() {
    local port="$1" tag="$2" i n total=0 t0 t1
    local -a pids=()
    t0="$(now_us)"
    for ((i = 0; i < HS_PROCS; i++)); do
        openssl s_time -connect "127.0.0.1:$port" -new -tls1_3 -time "$HS_TIME" \
            -CAfile "$CA" >"$work/s_time.$i" 2>&1 </dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || true
    done
    t1="$(now_us)"
    for ((i = 0; i < HS_PROCS; i++)); do
        n="$(sed -n 's/^\([0-9][0-9]*\) connections in [0-9]* real seconds.*/\1/p' "$work/s_time.$i")"
        [[ -n "$n" ]] || { cat "$work/s_time.$i" >&2; die "s_time against $tag failed"; }
        total=$((total + n))
        cat "$work/s_time.$i" >>"$LOGS/s_time-$tag.log"
    done
    ((total > 0)) || die "no handshake completed against $tag"
    printf '%s %s\n' "$total" "$((t1 - t0))"
}

bench_handshakes() {
    local -a names=(tcp-server)
    local -A hs_pid=() hs_port=()
    local p q rep name pid port load conns us t0 t1
    start_secsock p q "$LOGS/hs-tcp-server.log" \
        "$bin/tcp-server" "${HS_ARGS[@]}" --cert "$CRT" --key "$KEY" -p 0
    hs_pid[tcp-server]=$p hs_port[tcp-server]=$q
    # Effect rows: one option changed from the main row each.
    if ((HS_TICKETS)); then
        start_secsock p q "$LOGS/hs-tcp-server-tickets2.log" \
            "$bin/tcp-server" --tls --tickets 2 --cert "$CRT" --key "$KEY" -p 0
        names+=(tcp-server-tickets2)
        hs_pid[tcp-server-tickets2]=$p hs_port[tcp-server-tickets2]=$q
    fi
    if ((HS_THREADS)); then
        start_secsock p q "$LOGS/hs-tcp-server-1thread.log" \
            "$bin/tcp-server" "${HS_ARGS[@]}" --accept-threads 1 --cert "$CRT" --key "$KEY" -p 0
        names+=(tcp-server-1thread)
        hs_pid[tcp-server-1thread]=$p hs_port[tcp-server-1thread]=$q
    fi
    if [[ -n "$hooks_bin" ]]; then
        # --trace-cost: the hooks compiled out, and -v asked for (its
        # lines made and written, to /dev/null).
        start_secsock p q "$LOGS/hs-tcp-server-nohooks.log" \
            "$hooks_bin/tcp-server" "${HS_ARGS[@]}" --cert "$CRT" --key "$KEY" -p 0
        names+=(tcp-server-nohooks)
        hs_pid[tcp-server-nohooks]=$p hs_port[tcp-server-nohooks]=$q
        start_secsock p q /dev/null \
            "$bin/tcp-server" "${HS_ARGS[@]}" -v --cert "$CRT" --key "$KEY" -p 0
        names+=(tcp-server-v)
        hs_pid[tcp-server-v]=$p hs_port[tcp-server-v]=$q
    fi
    if [[ -n "$base_bin" ]]; then
        start_secsock p q "$LOGS/hs-tcp-server-before.log" \
            "$base_bin/tcp-server" "${BASE_HS_ARGS[@]}" --cert "$CRT" --key "$KEY" -p 0
        names+=(tcp-server-before)
        hs_pid[tcp-server-before]=$p hs_port[tcp-server-before]=$q
    fi
    q="$(free_port)"
    nginx_start p "$work/nginx-hs1" "$q" 1 1024
    names+=(nginx-1w)
    hs_pid[nginx-1w]=$p hs_port[nginx-1w]=$q
    q="$(free_port)"
    nginx_start p "$work/nginx-hs2" "$q" 2 1024
    names+=(nginx-2w)
    hs_pid[nginx-2w]=$p hs_port[nginx-2w]=$q
    q="$(free_port)"
    start_bg p "$LOGS/hs-s_server.log" openssl s_server -accept "127.0.0.1:$q" \
        -cert "$CRT" -key "$KEY" -www -quiet
    wait_listen tcp "$q"
    names+=(s_server)
    hs_pid[s_server]=$p hs_port[s_server]=$q
    note "1. TLS handshakes: $HS_PROCS s_time processes, ${HS_TIME}s x $HS_REPS repetitions against ${names[*]}"
    # Interleaved: each repetition loads every server once, so a burst of
    # load from elsewhere on the machine does not fall on one server only.
    for ((rep = 1; rep <= HS_REPS; rep++)); do
        for name in "${names[@]}"; do
            pid="${hs_pid[$name]}" port="${hs_port[$name]}"
            t0="$(proc_ticks "$pid")"
            load="$(hs_load "$port" "$name")"
            read -r conns us <<<"$load"
            sleep 0.2 # the server finishes the last handshakes
            t1="$(proc_ticks "$pid")"
            record 1 "hs.$name" rate "$(awk -v n="$conns" -v us="$us" 'BEGIN { printf "%.1f", n * 1e6 / us }')"
            record 1 "hs.$name" cpu "$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$conns" \
                'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
            note "   $name: $conns handshakes in $((us / 1000)) ms, $((t1 - t0)) ticks of server CPU"
        done
    done
    for name in "${names[@]}"; do
        stop_pid "${hs_pid[$name]}"
    done
}

# ---------------------------------------------------------------------------
# 2. Bulk throughput

# bulk_secsock TLS|PLAIN PORT BINDIR [-v] : BINDIR's tcp-client --send-file
# into a tcp-server --sink; prints elapsed microseconds; checks the byte
# count and SHA-256. With -v, the client's -v goes to /dev/null.
bulk_secsock() {
    local mode="$1" port="$2" dir="$3" t0 t1 reply err="$LOGS/bulk-tcp-client.log"
    local -a tls=() v=()
    [[ "$mode" == tls ]] && tls=(--tls --cafile "$CA")
    [[ "${4:-}" == -v ]] && v=(-v) err=/dev/null
    t0="$(now_us)"
    reply="$("$dir/tcp-client" "${tls[@]}" "${v[@]}" -t 120 --send-file "$BULK_FILE" 127.0.0.1 \
        "$port" 2>>"$err")" || die "$dir/tcp-client --send-file ($mode ${v[*]}) failed"
    t1="$(now_us)"
    [[ "$reply" == "$BULK_BYTES $BULK_SHA" ]] ||
        die "tcp-server --sink ($mode) replied [$reply], expected [$BULK_BYTES $BULK_SHA]"
    printf '%s\n' "$((t1 - t0))"
}

# bulk_peer NAME : socat or ncat, TLS or plaintext, a fresh server per run
# writing to /dev/null; the time runs from the client's start until both
# client and server have exited. Prints the microseconds, or "failed RC"
# when either exits with an error (the run is reported, not counted).
bulk_peer() {
    local name="$1" port spid t0 t1 rc=0
    local -a server client
    port="$(free_port)"
    case "$name" in
        socat-tls)
            server=(socat -u "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,cert=$CRT,key=$KEY,verify=0" OPEN:/dev/null)
            client=(socat -u "OPEN:$BULK_FILE" "OPENSSL:127.0.0.1:$port,cafile=$CA")
            ;;
        socat-tcp)
            server=(socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" OPEN:/dev/null)
            client=(socat -u "OPEN:$BULK_FILE" "TCP:127.0.0.1:$port")
            ;;
        ncat-tls)
            server=(ncat --ssl --ssl-cert "$CRT" --ssl-key "$KEY" --recv-only -l 127.0.0.1 "$port")
            # ncat verifies DNS names only: localhost, forced to IPv4
            client=(ncat -4 --ssl --ssl-verify --ssl-trustfile "$CA" --send-only localhost "$port")
            ;;
        ncat-tcp)
            server=(ncat --recv-only -l 127.0.0.1 "$port")
            client=(ncat -4 --send-only 127.0.0.1 "$port")
            ;;
    esac
    local server_err="$work/bulk-server.err" src=0
    "${server[@]}" >/dev/null 2>"$server_err" </dev/null &
    spid=$!
    PIDS+=("$spid")
    wait_listen tcp "$port"
    t0="$(now_us)"
    "${client[@]}" <"$BULK_FILE" >/dev/null 2>>"$LOGS/bulk-$name-client.log" || rc=$?
    wait "$spid" || src=$?
    t1="$(now_us)"
    cat "$server_err" >>"$LOGS/bulk-$name-server.log"
    # ncat's --send-only client closes without a TLS close_notify, and its
    # server then reports the end as an SSL_read error (exit 1) in about a
    # third of the runs: once the client has sent everything (exit 0), that
    # is the end of the stream, not a failed run.
    if [[ "$name" == ncat-tls && "$rc" == 0 && "$src" == 1 ]] &&
        grep -q "SSL_read error" "$server_err"; then
        src=0
    fi
    ((rc != 0)) || rc="$src"
    if ((rc != 0)); then
        printf 'failed %s\n' "$rc"
        return 0
    fi
    printf '%s\n' "$((t1 - t0))"
}

# speed ALG : openssl speed on one core, 16 KiB blocks; prints MB/s
speed() {
    local v
    v="$(openssl speed -evp "$1" -bytes 16384 -seconds "$SPEED_SECONDS" -mr 2>/dev/null |
        awk -F: '/^\+F:/ { print $NF }')"
    [[ -n "$v" ]] || die "openssl speed -evp $1 gave no result"
    awk -v v="$v" 'BEGIN { printf "%.1f\n", v / 1e6 }'
}

bench_bulk() {
    local mib=$((BULK_BYTES / 1024 / 1024))
    note "2. bulk: $mib MiB per stream x $BULK_REPS repetitions"
    BULK_FILE="$work/bulk.bin"
    # Fixed pseudo-random bytes (AES-CTR of zeros), then in the page cache.
    head -c "$BULK_BYTES" /dev/zero |
        openssl enc -aes-128-ctr -nosalt -K "$(printf '%032d' 0)" -iv "$(printf '%032d' 0)" \
            >"$BULK_FILE"
    BULK_SHA="$(sha256sum "$BULK_FILE" | cut -d' ' -f1)"
    local tpid tport ppid pport btpid="" btport="" bppid="" bpport="" rep name us mbps try
    local hpid="" hport="" vpid="" vport=""
    local -a names=(secsock-tls socat-tls ncat-tls secsock-tcp socat-tcp ncat-tcp)
    start_secsock tpid tport "$LOGS/bulk-tcp-server-tls.log" \
        "$bin/tcp-server" --tls --sink --cert "$CRT" --key "$KEY" -p 0
    start_secsock ppid pport "$LOGS/bulk-tcp-server-plain.log" \
        "$bin/tcp-server" --sink -p 0
    if [[ -n "$base_bin" ]]; then
        if has_option "$base_bin/tcp-server" --sink && has_option "$base_bin/tcp-client" --send-file; then
            start_secsock btpid btport "$LOGS/bulk-tcp-server-tls-before.log" \
                "$base_bin/tcp-server" --tls --sink --cert "$CRT" --key "$KEY" -p 0
            start_secsock bppid bpport "$LOGS/bulk-tcp-server-plain-before.log" \
                "$base_bin/tcp-server" --sink -p 0
            names=(secsock-tls secsock-tls-before socat-tls ncat-tls
                secsock-tcp secsock-tcp-before socat-tcp ncat-tcp)
        else
            warn "2. no rows for $base_short: its tcp-server has no --sink or its tcp-client no --send-file"
        fi
    fi
    if [[ -n "$hooks_bin" ]]; then
        # --trace-cost: both ends without the hooks, and both with -v.
        start_secsock hpid hport "$LOGS/bulk-tcp-server-tls-nohooks.log" \
            "$hooks_bin/tcp-server" --tls --sink --cert "$CRT" --key "$KEY" -p 0
        start_secsock vpid vport /dev/null \
            "$bin/tcp-server" --tls --sink -v --cert "$CRT" --key "$KEY" -p 0
        names=("${names[0]}" secsock-tls-nohooks secsock-tls-v "${names[@]:1}")
    fi
    for ((rep = 1; rep <= BULK_REPS; rep++)); do
        for name in "${names[@]}"; do
            case "$name" in
                secsock-tls) us="$(bulk_secsock tls "$tport" "$bin")" ;;
                secsock-tcp) us="$(bulk_secsock plain "$pport" "$bin")" ;;
                secsock-tls-before) us="$(bulk_secsock tls "$btport" "$base_bin")" ;;
                secsock-tcp-before) us="$(bulk_secsock plain "$bpport" "$base_bin")" ;;
                secsock-tls-nohooks) us="$(bulk_secsock tls "$hport" "$hooks_bin")" ;;
                secsock-tls-v) us="$(bulk_secsock tls "$vport" "$bin" -v)" ;;
                *)
                    # A failed run is reported, and tried again (3 tries).
                    for ((try = 1; try <= 3; try++)); do
                        us="$(bulk_peer "$name")"
                        [[ "$us" == failed* ]] || break
                        record 2 "bulk.$name" failed "${us#failed }"
                        warn "$name: run $rep failed (exit ${us#failed }; see $LOGS/bulk-$name-*.log); not counted"
                    done
                    ;;
            esac
            [[ "$us" != failed* ]] || continue
            mbps="$(awk -v b="$BULK_BYTES" -v us="$us" 'BEGIN { printf "%.1f", b / us }')"
            record 2 "bulk.$name" mbps "$mbps"
            note "   $name: $mbps MB/s"
        done
    done
    stop_pid "$tpid"
    stop_pid "$ppid"
    [[ -z "$btpid" ]] || stop_pid "$btpid"
    [[ -z "$bppid" ]] || stop_pid "$bppid"
    [[ -z "$hpid" ]] || stop_pid "$hpid"
    [[ -z "$vpid" ]] || stop_pid "$vpid"
    rm -f "$BULK_FILE"
    for ((rep = 1; rep <= SPEED_REPS; rep++)); do
        for name in aes-128-gcm aes-256-gcm sha256; do
            mbps="$(speed "$name")"
            record 2 "bulk.speed-$name" mbps "$mbps"
            note "   openssl speed $name: $mbps MB/s"
        done
    done
}

# ---------------------------------------------------------------------------
# 3. Idle connections and memory

# idle_run NAME PID PORT N : holds N connections; records RSS/connection
idle_run() {
    local name="$1" pid="$2" port="$3" n="$4" procs=2 i each rest rss0 rss1 replies=0 k t0 t1
    local go="$work/go.$name.$n"
    local -a hpids=()
    rm -f "$go"
    sleep 0.5
    rss0="$(proc_rss_kib "$pid")"
    t0="$(now_us)"
    each=$((n / procs))
    rest=$((n - each * procs))
    for ((i = 0; i < procs; i++)); do
        k=$each
        ((i == 0)) && k=$((each + rest))
        "$PY" "$SECSOCK_ROOT/scripts/bench_hold.py" 127.0.0.1 "$port" "$k" "$CA" "$go" \
            >"$work/hold.$i" 2>"$LOGS/idle-$name-$n-holder$i.log" </dev/null &
        hpids+=($!)
        PIDS+=($!)
    done
    for ((i = 0; i < procs; i++)); do
        while ! grep -q '^held' "$work/hold.$i"; do
            kill -0 "${hpids[i]}" 2>/dev/null || die "the connection holder for $name ($n) failed (see $LOGS/idle-$name-$n-holder$i.log)"
            sleep 0.1
        done
    done
    t1="$(now_us)"
    sleep 1
    rss1="$(proc_rss_kib "$pid")"
    touch "$go"
    for ((i = 0; i < procs; i++)); do
        wait "${hpids[i]}" || die "the connection holder for $name ($n) failed"
        k="$(sed -n 's/^replies //p' "$work/hold.$i")"
        replies=$((replies + ${k:-0}))
    done
    record 3 "idle$n.$name" rss "$(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n }')"
    record 3 "idle$n.$name" replies "$replies"
    record 3 "idle$n.$name" open "$(awk -v n="$n" -v us=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1e6 / us }')"
    note "   $name, $n held (opened in $(((t1 - t0) / 1000)) ms): RSS $rss0 -> $rss1 KiB, $replies replies"
}

bench_idle() {
    note "3. idle connections: ${IDLE_COUNTS[*]}"
    local hard n mc tpid tport npid nport base_idle=0
    local -a idle_args
    if [[ -n "$base_bin" ]]; then
        if has_option "$base_bin/tcp-server" --http --max-clients --backlog --handshake-timeout; then
            base_idle=1
        else
            warn "3. no rows for $base_short: its tcp-server lacks --http, --max-clients, --backlog or --handshake-timeout"
        fi
    fi
    hard="$(ulimit -Hn)"
    ulimit -n "$hard"
    for n in "${IDLE_COUNTS[@]}"; do
        ((n + 200 < hard)) || die "$n connections need more than the $hard descriptors allowed (ulimit -Hn)"
        # --max-clients raised to fit: the server admits up to 4 x max-clients
        # waiting clients, as far as descriptors allow (max-clients + 64 kept
        # for workers).
        mc=$n
        ((mc > hard - n - 128)) && mc=$((hard - n - 128))
        idle_args=(--tls --http --cert "$CRT" --key "$KEY" -p 0
            --max-clients "$mc" --backlog 1024 -t 600 --handshake-timeout 60)
        start_secsock tpid tport "$LOGS/idle-tcp-server-$n.log" "$bin/tcp-server" "${idle_args[@]}"
        idle_run tcp-server "$tpid" "$tport" "$n"
        stop_pid "$tpid"
        if ((base_idle)); then
            start_secsock tpid tport "$LOGS/idle-tcp-server-before-$n.log" \
                "$base_bin/tcp-server" "${idle_args[@]}"
            idle_run tcp-server-before "$tpid" "$tport" "$n"
            stop_pid "$tpid"
        fi
        nport="$(free_port)"
        # nginx closes idle connections once fewer than 1/16 of its
        # worker_connections are free: leave it room.
        nginx_start npid "$work/nginx-idle-$n" "$nport" 1 $((n + n / 8 + 256))
        idle_run nginx-1w "$npid" "$nport" "$n"
        stop_pid "$npid"
    done
}

# ---------------------------------------------------------------------------
# 4. UDP and DTLS

# udp_client_run TAG PORT BINDIR [--dtls] : BINDIR's udp-client --count;
# records rate and RTT
udp_client_run() {
    local tag="$1" port="$2" dir="$3" t0 t1 line replies med
    shift 3
    local -a extra=()
    (($# > 0)) && extra=(--dtls --cafile "$CA")
    t0="$(now_us)"
    "$dir/udp-client" "${extra[@]}" --count "$UDP_COUNT" 127.0.0.1 "$port" "$UDP_MESSAGE" \
        >/dev/null 2>"$work/udp.err" || { cat "$work/udp.err" >&2; die "udp-client against $tag failed"; }
    t1="$(now_us)"
    cat "$work/udp.err" >>"$LOGS/udp-client-$tag.log"
    line="$(grep 'exchanges,' "$work/udp.err" | tail -n 1)"
    [[ "$line" =~ ([0-9]+)\ replies.*=\ [0-9.]+/([0-9.]+)/[0-9.]+\ ms ]] ||
        die "udp-client against $tag: no summary line"
    replies="${BASH_REMATCH[1]}"
    med="${BASH_REMATCH[2]}"
    record 4 "udp.$tag" rate "$(awk -v n="$replies" -v us=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1e6 / us }')"
    record 4 "udp.$tag" rtt "$(awk -v m="$med" 'BEGIN { printf "%.1f", m * 1000 }')"
    record 4 "udp.$tag" lost "$((UDP_COUNT - replies))"
    note "   $tag: $line"
}

bench_udp() {
    note "4. UDP and DTLS: $UDP_COUNT round trips x $UDP_REPS repetitions"
    local upid uport dpid dport spid port rep name bupid="" buport="" bdpid="" bdport=""
    local -a names=(udp-server socat-udp udp-server-dtls socat-dtls)
    start_secsock upid uport "$LOGS/udp-server-plain.log" "$bin/udp-server" --echo -p 0
    start_secsock dpid dport "$LOGS/udp-server-dtls.log" \
       "$bin/udp-server" --dtls --echo --cert "$CRT" --key "$KEY" -p 0
    if [[ -n "$base_bin" ]]; then
        if has_option "$base_bin/udp-server" --echo && has_option "$base_bin/udp-client" --count; then
            start_secsock bupid buport "$LOGS/udp-server-plain-before.log" "$base_bin/udp-server" --echo -p 0
            start_secsock bdpid bdport "$LOGS/udp-server-dtls-before.log" \
               "$base_bin/udp-server" --dtls --echo --cert "$CRT" --key "$KEY" -p 0
            names=(udp-server udp-server-before socat-udp udp-server-dtls udp-server-dtls-before socat-dtls)
        else
            warn "4. no rows for $base_short: its udp-server has no --echo or its udp-client no --count"
        fi
    fi
    for ((rep = 1; rep <= UDP_REPS; rep++)); do
        for name in "${names[@]}"; do
            case "$name" in
                udp-server) udp_client_run "$name" "$uport" "$bin" ;;
                udp-server-dtls) udp_client_run "$name" "$dport" "$bin" --dtls ;;
                udp-server-before) udp_client_run "$name" "$buport" "$base_bin" ;;
                udp-server-dtls-before) udp_client_run "$name" "$bdport" "$base_bin" --dtls ;;
                socat-udp | socat-dtls)
                    port="$(free_port)"
                    if [[ "$name" == socat-udp ]]; then
                        start_bg spid "$LOGS/udp-socat-udp.log" \
                            socat "UDP-LISTEN:$port,bind=127.0.0.1,reuseaddr" PIPE
                        wait_listen udp "$port"
                        udp_client_run "$name" "$port" "$bin"
                    else
                        start_bg spid "$LOGS/udp-socat-dtls.log" \
                            socat "OPENSSL-DTLS-SERVER:$port,bind=127.0.0.1,reuseaddr,cert=$CRT,key=$KEY,verify=0" PIPE
                        wait_listen udp "$port"
                        udp_client_run "$name" "$port" "$bin" --dtls
                    fi
                    stop_pid "$spid"
                    ;;
            esac
        done
    done
    stop_pid "$upid"
    stop_pid "$dpid"
    [[ -z "$bupid" ]] || stop_pid "$bupid"
    [[ -z "$bdpid" ]] || stop_pid "$bdpid"
}

# ---------------------------------------------------------------------------
# 5. Client, start to finish

bench_client() {
    note "5. client: tcp-client --tls and curl against a private Apache2, $CLIENT_RUNS runs each"
    apache_dir="$work/apache"
    mkdir -p "$apache_dir/certs"
    cp "$CA" "$CRT" "$apache_dir/certs/"
    (umask 077 && cp "$KEY" "$apache_dir/certs/")
    local http_port https_port
    http_port="$(free_port)"
    https_port="$(free_port)"
    while [[ "$https_port" == "$http_port" ]]; do https_port="$(free_port)"; done
    bash "$SECSOCK_ROOT/scripts/apache.sh" start --dir "$apache_dir" --no-install \
        --http-port "$http_port" --https-port "$https_port" >"$LOGS/apache-start.log" 2>&1 ||
        { cat "$LOGS/apache-start.log" >&2; die "the private Apache2 did not start"; }
    local port url
    port="$(sed -n 's/^https_port=//p' "$apache_dir/state")"
    url="https://127.0.0.1:$port/"
    local -a mine=("$bin/tcp-client" --tls --cafile "$CA" -o /dev/null 127.0.0.1 "$port")
    local -a theirs=(curl -sS -f -o /dev/null --cacert "$CA" "$url")
    # Both fetch the page for real first.
    local first
    first="$("$bin/tcp-client" --tls --cafile "$CA" 127.0.0.1 "$port" 2>&1)" ||
        die "tcp-client could not fetch $url: $first"
    [[ "${first%%$'\r'*}" == "HTTP/1.1 200 OK" ]] ||
        die "tcp-client did not get 200 from $url: ${first%%$'\n'*}"
    "${theirs[@]}" || die "curl could not fetch $url"
    if command -v hyperfine >/dev/null 2>&1 && [[ "$bin" != *[[:space:]]* && "$work" != *[[:space:]]* ]]; then
        hyperfine -N --style none --warmup "$CLIENT_WARMUP" --runs "$CLIENT_RUNS" \
            --export-json "$work/hyperfine.json" \
            -n tcp-client "${mine[*]}" -n curl "${theirs[*]}" >"$LOGS/hyperfine.log" 2>&1 ||
            { cat "$LOGS/hyperfine.log" >&2; die "hyperfine failed"; }
        cp "$work/hyperfine.json" "$LOGS/"
        "$PY" "$SECSOCK_ROOT/scripts/bench_hyperfine.py" "$work/hyperfine.json" >>"$RAW"
        CLIENT_TOOL="hyperfine -N, $CLIENT_WARMUP warm-up runs"
    else
        local i t0 t1 which
        for ((i = 0; i < CLIENT_WARMUP; i++)); do
            "${mine[@]}" && "${theirs[@]}"
        done
        for ((i = 0; i < CLIENT_RUNS; i++)); do
            for which in tcp-client curl; do
                t0="$(now_us)"
                if [[ "$which" == tcp-client ]]; then "${mine[@]}"; else "${theirs[@]}"; fi
                t1="$(now_us)"
                record 5 "client.$which" ms "$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", us / 1000 }')"
            done
        done
        CLIENT_TOOL="a loop timed with EPOCHREALTIME (no hyperfine)"
    fi
    bash "$SECSOCK_ROOT/scripts/apache.sh" stop --dir "$apache_dir" >/dev/null 2>&1 || true
    apache_dir=""
}

# ---------------------------------------------------------------------------
# The measurements asked for

CLIENT_TOOL=""
BULK_SHA=""
BULK_FILE=""
wants 1 && bench_handshakes
wants 2 && bench_bulk
wants 3 && bench_idle
wants 4 && bench_udp
wants 5 && bench_client

t_end="$(now_us)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# The TLS parameters tcp-client and tcp-server negotiate (for the report).
npid="" nport=""
start_secsock npid nport "$LOGS/negotiate.log" "$bin/tcp-server" --tls --cert "$CRT" --key "$KEY" -p 0
negotiated="$("$bin/tcp-client" --tls --cafile "$CA" -v --send x 127.0.0.1 "$nport" 2>&1 |
    sed -n 's/^\* protocol: //p' | head -n 1 || true)"
stop_pid "$npid"

cat >"$work/meta" <<EOF
date=$started_at
mode=$( ((quick)) && echo quick || echo full)
duration_s=$(((t_end - t_start) / 1000000))
cpu=$machine_cpu
cores=$NCPU
mem_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
kernel=$(uname -r)
openssl=$(openssl version)
load_before=$load_before
load_after=$load_after
build=$bin (${build_type:-unknown build type}${sanitize:+, sanitizer $sanitize})
hs_label=tcp-server ${HS_ARGS[*]}
hs_tickets=$HS_TICKETS
hs_threads=$HS_THREADS
baseline=$base_short
baseline_subject=$base_subject
baseline_dir=${base_bin%/build/bin}
baseline_hs_label=tcp-server ${BASE_HS_ARGS[*]}
negotiated=$negotiated
hs_procs=$HS_PROCS
hs_time=$HS_TIME
hs_reps=$HS_REPS
bulk_mib=$((BULK_BYTES / 1024 / 1024))
bulk_reps=$BULK_REPS
speed_seconds=$SPEED_SECONDS
idle_counts=${IDLE_COUNTS[*]}
udp_count=$UDP_COUNT
udp_reps=$UDP_REPS
client_runs=$CLIENT_RUNS
client_tool=$CLIENT_TOOL
nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
socat=$(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/\1/p')
ncat=$(ncat --version 2>&1 | sed -n 's/^Ncat: Version \([^ ]*\).*/\1/p')
curl=$(curl --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2)
apache=$(/usr/sbin/apache2 -v 2>/dev/null | sed -n 's/^Server version: //p')
hyperfine=$(hyperfine --version 2>/dev/null || true)
EOF

# The report: medians, ratios, goals (report.md, report.csv) and the chart's
# data and gnuplot script (ratios.dat, ratios.gp -> report.png).
"$PY" "$SECSOCK_ROOT/scripts/bench_report.py" "$RAW" "$work/meta" "$out" ||
    die "could not write the report"
if command -v gnuplot >/dev/null 2>&1 && [[ -s "$out/ratios.dat" ]]; then
    gnuplot "$out/ratios.gp" >"$LOGS/gnuplot.log" 2>&1 || warn "gnuplot failed (see $LOGS/gnuplot.log)"
else
    warn "no chart: gnuplot is missing or nothing to plot"
fi
note "report: $out/report.md, $out/report.csv, $out/report.png"
cat "$out/report.md"
