#!/usr/bin/env bash
# The seed's experiment, with no /etc/hosts entry: a private Apache2 for
# lm3nitro.com (scripts/apache.sh), tcp-client with a custom User-Agent over
# HTTP and over verified HTTPS, and the lines Apache wrote to its access logs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=lm3nitro.com
UA='Mozilla/lm3nitro 1.0'

usage() {
    cat <<EOF
Usage: scripts/apache-demo.sh [--no-install]

Builds tcp-client in build/ if needed (or uses \$SECSOCK_BIN/tcp-client if
SECSOCK_BIN is set), starts a private Apache2 with
  scripts/apache.sh start --dir DIR --name $NAME
(DIR a fresh directory under /tmp; ports 8080 and 8443, or free ones), then
runs, with --resolve instead of an /etc/hosts entry:
  tcp-client -A '$UA' --resolve $NAME:HTTP:127.0.0.1 $NAME HTTP
  tcp-client --tls --cafile DIR/certs/ca.crt -v -A '$UA' \\
             --resolve $NAME:HTTPS:127.0.0.1 $NAME HTTPS
and shows each response next to the access-log line Apache wrote for it.
Apache is stopped and DIR removed at the end, also on errors and Ctrl-C.

Options:
  --no-install   do not install missing packages (only warn)
  -h, --help     this help
EOF
}

install=1
while (($# > 0)); do
    case "$1" in
        --no-install) install=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *)
            printf 'apache-demo.sh: unknown option: %s\n' "$1" >&2
            usage >&2
            exit 2
            ;;
    esac
done

cd "$SECSOCK_ROOT"

apache_opts=()
if ((install)); then
    ensure_packages "${SECSOCK_BUILD_PACKAGES[@]}" apache2 python3
else
    ensure_packages --no-install "${SECSOCK_BUILD_PACKAGES[@]}" apache2 python3
    apache_opts+=(--no-install)
fi

if [[ -n "${SECSOCK_BIN:-}" ]]; then
    client="$SECSOCK_BIN/tcp-client"
    [[ -x "$client" ]] || die "$client not found (SECSOCK_BIN=$SECSOCK_BIN)"
else
    if [[ ! -f build/Makefile && ! -f build/build.ninja ]]; then
        note "configuring build/"
        cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    note "building tcp-client in build/"
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target tcp-client >/dev/null
    client=build/bin/tcp-client
    [[ -x "$client" ]] || die "$client was not built"
fi

# Under /tmp, searchable by Apache's user (www-data when run as root).
dir="$(mktemp -d /tmp/secsock-apache-demo.XXXXXX)"
chmod 755 "$dir"
started=0
cleanup() {
    local out
    # Stdout may be a closed pipe (| head): stop Apache whatever printing does.
    trap '' PIPE
    if ((started)); then
        out="$(bash scripts/apache.sh stop --dir "$dir" 2>&1)" || true
        printf '\n%s\n' "$out" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

started=1
bash scripts/apache.sh start --dir "$dir" --name "$NAME" "${apache_opts[@]}"
http_port="$(sed -n 's/^http_port=//p' "$dir/state")"
https_port="$(sed -n 's/^https_port=//p' "$dir/state")"
[[ "$http_port" =~ ^[0-9]+$ && "$https_port" =~ ^[0-9]+$ ]] || die "no ports in $dir/state"

# show_cmd ARGS... : the command as you would type it.
show_cmd() {
    local a out="\$"
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
            out+=" $a"
        else
            out+=" '${a//\'/\'\\\'\'}'"
        fi
    done
    printf '%s\n' "$out"
}

# wait_log FILE : up to 3 s for a line with $UA in FILE (Apache writes it
# once the response is sent), then prints those lines.
wait_log() {
    local i
    for ((i = 0; i < 60; i++)); do
        grep -qF -- "$UA" "$1" 2>/dev/null && break
        sleep 0.05
    done
    grep -F -- "$UA" "$1" || echo "(no line with \"$UA\" in $1)"
}

# exchange TITLE LOG ARGS... : runs tcp-client ARGS, shows its output (stdout
# and stderr) and the matching lines of Apache's LOG.
failures=0
exchange() {
    local title="$1" log="$2" st=0
    shift 2
    printf '\n=== %s ===\n' "$title"
    show_cmd "$client" "$@"
    timeout 20 "$client" "$@" </dev/null 2>&1 || st=$?
    printf '(exit %s)\n' "$st"
    ((st == 0)) || failures=$((failures + 1))
    printf -- '--- %s:\n' "${log#"$dir"/}"
    wait_log "$log"
}

exchange "HTTP: GET http://$NAME:$http_port/" "$dir/logs/access.log" \
    -A "$UA" --resolve "$NAME:$http_port:127.0.0.1" "$NAME" "$http_port"
exchange "HTTPS: GET https://$NAME:$https_port/ (verified against $dir/certs/ca.crt)" \
    "$dir/logs/ssl_access.log" \
    --tls --cafile "$dir/certs/ca.crt" -v -A "$UA" \
    --resolve "$NAME:$https_port:127.0.0.1" "$NAME" "$https_port"

((failures == 0)) || die "$failures exchange(s) failed"
