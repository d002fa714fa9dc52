#!/usr/bin/env bash
# A private Apache2 on loopback for tcp-client: its own generated
# configuration, certificates, content and logs in one directory. It never
# reads or edits /etc/apache2 and never takes ports 80/443 unless asked.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APACHE2_BIN="${APACHE2_BIN:-/usr/sbin/apache2}"
APACHE2_MODULES="${APACHE2_MODULES:-/usr/lib/apache2/modules}"
DEFAULT_DIR="/tmp/secsock-apache"
DEFAULT_HTTP_PORT=8080
DEFAULT_HTTPS_PORT=8443
BIG_SIZE=$((10 * 1024 * 1024))

usage() {
    cat <<EOF
Usage: scripts/apache.sh start|stop|status [--dir DIR] [--http-port P]
                         [--https-port P] [--name DNSNAME] [--no-install]

Runs a private Apache2 (Debian's apache2 with mod_ssl) from DIR, listening
on 127.0.0.1 only:
  http://127.0.0.1:HTTP-PORT/       and   https://DNSNAME:HTTPS-PORT/
Its configuration is generated at every start (DIR/apache2.conf); nothing
in /etc/apache2 is read or changed.

Commands:
  start    make DIR (configuration, certificates, content) and start Apache;
           if it is already running from DIR, only say so
  stop     stop it and wait until none of its processes is left
  status   say whether it runs, and on which ports (exit 0 running, 3 not)

Options:
  --dir DIR          its directory (default: $DEFAULT_DIR)
  --http-port P      HTTP port (default: $DEFAULT_HTTP_PORT, or a free port if that is taken)
  --https-port P     HTTPS port (default: $DEFAULT_HTTPS_PORT, or a free port if that is taken)
  --name DNSNAME     the server name; its certificate covers DNSNAME as well
                     as localhost, 127.0.0.1 and ::1 (default: localhost)
  --no-install       do not install apache2 if it is missing
  -h, --help         this help

What it serves (DIR/htdocs, DIR/cgi-bin):
  /                  index.html, a small page
  /big.bin           10 MiB of fixed pseudo-random bytes (Content-Length)
  /cgi-bin/chunked   a CGI script's output (Transfer-Encoding: chunked)
  /old               a redirect (302) to /
  anything else      404

Files in DIR:
  apache2.conf                   the generated configuration
  certs/ca.crt                   the CA to trust (--cafile); made by
                                 scripts/gen-certs.sh --dir DIR/certs
  logs/access.log                HTTP requests, combined log format
  logs/ssl_access.log            HTTPS requests, combined log format
  logs/error.log                 Apache's errors
  run/apache2.pid                the main process
  state                          http_port=, https_port=, name= of the last start

As root, Apache's workers run as www-data (then every parent directory of
DIR must be searchable by www-data); as another user, as that user.
EOF
}

bad_usage() {
    printf 'apache.sh: %s\n' "$1" >&2
    printf 'Try: scripts/apache.sh --help\n' >&2
    exit 2
}

cmd=""
dir="$DEFAULT_DIR"
http_port=""
https_port=""
name=""
install=1

want_arg() { (($# >= 2)) || bad_usage "$1 needs an argument"; }

while (($# > 0)); do
    case "$1" in
        start | stop | status)
            [[ -z "$cmd" ]] || bad_usage "one command only ($cmd, $1)"
            cmd="$1"
            shift
            ;;
        --dir) want_arg "$@"; dir="$2"; shift 2 ;;
        --dir=*) dir="${1#*=}"; shift ;;
        --http-port) want_arg "$@"; http_port="$2"; shift 2 ;;
        --http-port=*) http_port="${1#*=}"; shift ;;
        --https-port) want_arg "$@"; https_port="$2"; shift 2 ;;
        --https-port=*) https_port="${1#*=}"; shift ;;
        --name) want_arg "$@"; name="$2"; shift 2 ;;
        --name=*) name="${1#*=}"; shift ;;
        --no-install) install=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) bad_usage "unknown argument: $1" ;;
    esac
done

[[ -n "$cmd" ]] || bad_usage "no command (start, stop or status)"
[[ -n "$dir" ]] || bad_usage "--dir must not be empty"
for p in "$http_port" "$https_port"; do
    if [[ -n "$p" ]] && { [[ ! "$p" =~ ^[1-9][0-9]{0,4}$ ]] || ((p > 65535)); }; then
        bad_usage "not a port number: $p"
    fi
done
if [[ -n "$http_port" && "$http_port" == "$https_port" ]]; then
    bad_usage "--http-port and --https-port must differ"
fi
if [[ -n "$name" && ! "$name" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    bad_usage "--name '$name' is not a DNS name"
fi
# Apache's configuration quotes paths; keep them simple.
[[ "$dir" != *[[:space:]\"\\]* ]] || bad_usage "--dir must not contain spaces, quotes or backslashes"
case "$dir" in
    /*) ;;
    *) dir="$PWD/$dir" ;;
esac
dir="${dir%/}"

conf="$dir/apache2.conf"
pidfile="$dir/run/apache2.pid"
statefile="$dir/state"

# ---------------------------------------------------------------------------

# running_pid : prints the main process's pid if it is running from $dir.
running_pid() {
    local pid
    [[ -r "$pidfile" ]] || return 1
    pid="$(<"$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # The pid may have been reused: it must be an apache2 started with our
    # configuration file.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $conf " || return 1
    printf '%s\n' "$pid"
}

# state_get KEY : a value saved by the last start (empty if none).
state_get() {
    [[ -r "$statefile" ]] || return 0
    sed -n "s/^$1=//p" "$statefile" | head -n 1
}

# port_busy PORT : true if something listens on 127.0.0.1:PORT.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# port_bindable PORT : true if 127.0.0.1:PORT can be bound now (as Apache
# binds, with SO_REUSEADDR; scripts/port_bindable.py).
port_bindable() {
    python3 "$SECSOCK_ROOT/scripts/port_bindable.py" "$1"
}

# pick_port REQUESTED DEFAULT AVOID : REQUESTED if given (it must be free),
# else DEFAULT if free, else any free port other than AVOID.
pick_port() {
    local want="$1" def="$2" avoid="$3" p i
    if [[ -n "$want" ]]; then
        port_bindable "$want" || die "port $want on 127.0.0.1 is in use (or needs root)"
        printf '%s\n' "$want"
        return 0
    fi
    if [[ "$def" != "$avoid" ]] && port_bindable "$def"; then
        printf '%s\n' "$def"
        return 0
    fi
    for ((i = 0; i < 20; i++)); do
        p="$(free_port)"
        if [[ "$p" != "$avoid" ]]; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    die "found no free port"
}

show_status() { # PID
    local hp sp nm
    hp="$(state_get http_port)"
    sp="$(state_get https_port)"
    nm="$(state_get name)"
    note "running (pid $1) from $dir"
    # The examples run as printed: the built tcp-client unless one is installed.
    local tc=tcp-client
    command -v tcp-client >/dev/null 2>&1 || tc="$SECSOCK_ROOT/build/bin/tcp-client"
    printf '  HTTP   http://127.0.0.1:%s/\n' "$hp"
    printf '  HTTPS  https://%s:%s/  (CA: %s/certs/ca.crt)\n' "$nm" "$sp" "$dir"
    printf '  logs   %s/logs/access.log, %s/logs/ssl_access.log\n' "$dir" "$dir"
    if [[ "$nm" != localhost ]]; then
        printf '  %s --resolve %s:%s:127.0.0.1 %s %s\n' "$tc" "$nm" "$hp" "$nm" "$hp"
        printf '  %s --tls --cafile %s/certs/ca.crt --resolve %s:%s:127.0.0.1 %s %s\n' \
            "$tc" "$dir" "$nm" "$sp" "$nm" "$sp"
    else
        printf '  %s 127.0.0.1 %s\n' "$tc" "$hp"
        printf '  %s --tls --cafile %s/certs/ca.crt localhost %s\n' "$tc" "$dir" "$sp"
    fi
}

# ---------------------------------------------------------------------------
# start

# make_certs NAME : DIR/certs from scripts/gen-certs.sh, kept if they still
# cover NAME and are valid for at least another day.
make_certs() {
    local nm="$1" c="$dir/certs"
    local -a args=(--dir "$c" --force)
    if [[ -r "$c/ca.crt" && -r "$c/server.crt" && -r "$c/server.key" ]] &&
        openssl x509 -in "$c/server.crt" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl x509 -in "$c/server.crt" -noout -checkhost "$nm" 2>/dev/null | grep -q 'does match'; then
        return 0
    fi
    [[ "$nm" != localhost ]] && args+=(--name "$nm")
    bash "$SECSOCK_ROOT/scripts/gen-certs.sh" "${args[@]}" >/dev/null
    note "made certificates for $nm in $c (CA: $c/ca.crt)"
}

make_content() {
    local h="$dir/htdocs" g="$dir/cgi-bin"
    # Rewritten only when it changed, so Last-Modified stays put.
    cat >"$h/index.html.tmp" <<'EOF'
<!DOCTYPE html>
<html>
<head><title>secsock Apache2</title></head>
<body><p>It works: the private Apache2 of scripts/apache.sh answered.</p></body>
</html>
EOF
    if cmp -s "$h/index.html.tmp" "$h/index.html"; then
        rm -f "$h/index.html.tmp"
    else
        mv -f "$h/index.html.tmp" "$h/index.html"
    fi
    # 10 MiB of fixed pseudo-random bytes: AES-256-CTR of zeros under a fixed
    # key, so every run serves the same file.
    if [[ ! -f "$h/big.bin" ]] || (($(stat -c %s "$h/big.bin") != BIG_SIZE)); then
        head -c "$BIG_SIZE" /dev/zero |
            openssl enc -aes-256-ctr -nosalt -K "$(printf '%064d' 0)" -iv "$(printf '%032d' 0)" \
                >"$h/big.bin.tmp"
        mv -f "$h/big.bin.tmp" "$h/big.bin"
    fi
    # A CGI response has no Content-Length; written in pieces with pauses,
    # Apache cannot add one and sends it chunked (to an HTTP/1.1 client).
    cat >"$g/chunked" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
for part in 1 2 3 4 5; do
    i=1
    while [ "$i" -le 500 ]; do
        printf 'part %s line %s: the quick brown fox jumps over the lazy dog\n' "$part" "$i"
        i=$((i + 1))
    done
    sleep 0.05
done
EOF
    chmod 755 "$g/chunked"
    chmod 644 "$h/index.html" "$h/big.bin"
}

write_config() { # HTTP-PORT HTTPS-PORT NAME
    local hp="$1" sp="$2" nm="$3" m="$APACHE2_MODULES" user=""
    if ((EUID == 0)); then
        user=$'User www-data\nGroup www-data'
    fi
    cat >"$conf.tmp" <<EOF
# Generated by scripts/apache.sh at every start; edits are lost.
# A private Apache2 on 127.0.0.1 (nothing from /etc/apache2 is used).
ServerRoot "$dir"
ServerName $nm
PidFile "$dir/run/apache2.pid"
DefaultRuntimeDir "$dir/run"
Mutex file:$dir/run default
ScoreBoardFile "$dir/run/scoreboard"
$user

LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule mime_module $m/mod_mime.so
LoadModule dir_module $m/mod_dir.so
LoadModule alias_module $m/mod_alias.so
LoadModule cgid_module $m/mod_cgid.so
LoadModule socache_shmcb_module $m/mod_socache_shmcb.so
LoadModule ssl_module $m/mod_ssl.so

StartServers 1
ServerLimit 4
ThreadsPerChild 16
MaxRequestWorkers 64
MinSpareThreads 16
MaxSpareThreads 48
Timeout 30
KeepAlive On
KeepAliveTimeout 15
MaxKeepAliveRequests 100
ServerTokens Prod
ServerSignature Off
TraceEnable Off

ErrorLog "$dir/logs/error.log"
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog "$dir/logs/access.log" combined

TypesConfig /dev/null
AddType text/html .html
AddType application/octet-stream .bin
DirectoryIndex index.html
ScriptSock "$dir/run/cgisock"

<Directory />
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot "$dir/htdocs"
<Directory "$dir/htdocs">
    Options None
    Require all granted
</Directory>
ScriptAlias /cgi-bin/ "$dir/cgi-bin/"
<Directory "$dir/cgi-bin">
    Options +ExecCGI
    Require all granted
</Directory>
Redirect /old /

Listen 127.0.0.1:$hp
Listen 127.0.0.1:$sp https

SSLSessionCache "shmcb:$dir/run/ssl_scache(512000)"
SSLProtocol -all +TLSv1.2 +TLSv1.3
<VirtualHost 127.0.0.1:$sp>
    ServerName $nm
    SSLEngine on
    SSLCertificateFile "$dir/certs/server.crt"
    SSLCertificateKeyFile "$dir/certs/server.key"
    CustomLog "$dir/logs/ssl_access.log" combined
</VirtualHost>
EOF
    mv -f "$conf.tmp" "$conf"
}

# check_worker_access : as root, Apache's workers (www-data) must reach the
# content; say so now rather than serve 403s.
check_worker_access() {
    ((EUID == 0)) || return 0
    command -v runuser >/dev/null 2>&1 || return 0
    if ! runuser -u www-data -- test -r "$dir/htdocs/index.html" -a -x "$dir/cgi-bin/chunked" 2>/dev/null; then
        die "www-data (Apache's user) cannot read $dir/htdocs; use a --dir whose parent directories are searchable by others (e.g. under /tmp)"
    fi
}

# wait_started PID-OF-apache2-k-start : until the pid file names a live
# process and both ports accept connections (10 s).
wait_started() {
    local hp="$1" sp="$2" i pid=""
    for ((i = 0; i < 200; i++)); do
        if pid="$(running_pid)" && port_busy "$hp" && port_busy "$sp"; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

do_start() {
    local pid hp sp nm
    if [[ -e "$dir" && ! -O "$dir" ]]; then
        die "$dir belongs to another user; use --dir"
    fi
    if pid="$(running_pid)"; then
        local k v
        for k in http_port https_port name; do
            case "$k" in
                http_port) v="$http_port" ;;
                https_port) v="$https_port" ;;
                name) v="$name" ;;
            esac
            if [[ -n "$v" && "$v" != "$(state_get "$k")" ]]; then
                die "already running from $dir with ${k//_/-} $(state_get "$k"); stop it first"
            fi
        done
        note "already running"
        show_status "$pid"
        return 0
    fi

    if ((install)); then
        ensure_packages apache2 openssl
    fi
    [[ -x "$APACHE2_BIN" ]] || die "$APACHE2_BIN not found (install Debian's apache2 package)"
    [[ -f "$APACHE2_MODULES/mod_ssl.so" ]] || die "$APACHE2_MODULES/mod_ssl.so not found"
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to check ports"

    nm="${name:-localhost}"
    hp="$(pick_port "$http_port" "$DEFAULT_HTTP_PORT" "")"
    sp="$(pick_port "$https_port" "$DEFAULT_HTTPS_PORT" "$hp")"

    mkdir -p "$dir"/{htdocs,cgi-bin,logs,run,certs}
    chmod 755 "$dir" "$dir"/{htdocs,cgi-bin,logs,run}
    rm -f "$pidfile" "$dir/run/cgisock"
    make_certs "$nm"
    make_content
    check_worker_access
    write_config "$hp" "$sp" "$nm"
    printf 'http_port=%s\nhttps_port=%s\nname=%s\n' "$hp" "$sp" "$nm" >"$statefile"

    local out
    if ! out="$("$APACHE2_BIN" -f "$conf" -k start 2>&1 </dev/null)"; then
        printf '%s\n' "$out" >&2
        tail -n 20 "$dir/logs/error.log" >&2 2>/dev/null || true
        die "apache2 did not start (configuration: $conf)"
    fi
    [[ -n "$out" ]] && printf '%s\n' "$out" >&2
    if ! wait_started "$hp" "$sp"; then
        tail -n 20 "$dir/logs/error.log" >&2 2>/dev/null || true
        do_stop >/dev/null 2>&1 || true
        die "apache2 did not come up on 127.0.0.1:$hp and :$sp within 10s (see $dir/logs/error.log)"
    fi
    note "started"
    show_status "$(running_pid)"
}

# ---------------------------------------------------------------------------
# stop

# group_left PGID : true while a process of that process group exists.
group_left() {
    pgrep -g "$1" >/dev/null 2>&1
}

do_stop() {
    local pid i
    if ! pid="$(running_pid)"; then
        rm -f "$pidfile"
        note "not running ($dir)"
        return 0
    fi
    # apache2 -k start makes the main process a session and group leader;
    # its children (workers, the CGI daemon) stay in its process group.
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || group_left "$pid" || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null || group_left "$pid"; then
        warn "apache2 (process group $pid) still running 10s after SIGTERM; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            group_left "$pid" || break
            sleep 0.05
        done
        ! group_left "$pid" || die "could not stop process group $pid"
    fi
    rm -f "$pidfile"
    note "stopped (pid $pid)"
}

do_status() {
    local pid
    if pid="$(running_pid)"; then
        show_status "$pid"
        return 0
    fi
    note "not running ($dir)"
    return 3
}

case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
esac
