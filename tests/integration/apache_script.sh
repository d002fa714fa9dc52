#!/usr/bin/env bash
# scripts/apache.sh itself: start (its own directory, the ports asked for,
# 127.0.0.1 only, nothing from /etc/apache2), status, an idempotent second
# start, a refused conflicting start, a busy port, stop (no process left, the
# ports free again), a restart for another name (new certificate), usage
# errors.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APACHE_SH="$SECSOCK_SRC/scripts/apache.sh"
need /usr/sbin/apache2 curl openssl python3 pgrep
[[ -f /usr/lib/apache2/modules/mod_ssl.so ]] ||
    fail "required /usr/lib/apache2/modules/mod_ssl.so is missing (Debian's apache2 package; scripts/test.sh installs it)"

# Under /tmp: as root, Apache's workers (www-data) must reach the content.
AD="$(mktemp -d /tmp/secsock-it-apache.XXXXXX)"
AD2="$(mktemp -d /tmp/secsock-it-apache.XXXXXX)"
chmod 755 "$AD" "$AD2"

apache_cleanup() {
    local st=$? d
    for d in "$AD" "$AD2"; do
        bash "$APACHE_SH" stop --dir "$d" >/dev/null 2>&1 || st=1
        if ((st != 0)) && [[ -f "$d/logs/error.log" ]]; then
            printf -- '--- %s/logs/error.log:\n' "$d" >&2
            cat "$d/logs/error.log" >&2
        fi
        rm -rf "$d"
    done
    set +e
    (exit "$st")
    _it_cleanup # reads the test's status from $?
}
trap apache_cleanup EXIT

# listening PORT : something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

A=(bash "$APACHE_SH")
HP="$(free_port)"
SP="$(free_port)"
while [[ "$SP" == "$HP" ]]; do SP="$(free_port)"; done

# Usage errors: exit 2.
capture "${A[@]}" --dir "$AD"
assert_capture 2 "no command"
assert_contains "$CAP_ERR" "no command"
capture "${A[@]}" start --dir "$AD" --http-port 70000
assert_capture 2 "port 70000"
capture "${A[@]}" start --dir "$AD" --http-port "$HP" --https-port "$HP"
assert_capture 2 "the same port twice"
capture "${A[@]}" start --dir "$AD" --name 'bad name'
assert_capture 2 "a bad --name"
capture "${A[@]}" restart --dir "$AD"
assert_capture 2 "an unknown command"
capture "${A[@]}" --help
assert_capture 0 "--help"
assert_contains "$CAP_OUT" "start|stop|status"

# Not running yet.
capture "${A[@]}" status --dir "$AD"
assert_capture 3 "status before start"
assert_contains "$CAP_OUT" "not running ($AD)"
capture "${A[@]}" stop --dir "$AD"
assert_capture 0 "stop before start"

# Start.
capture "${A[@]}" start --no-install --dir "$AD" --http-port "$HP" --https-port "$SP"
assert_capture 0 "start"
assert_contains "$CAP_OUT" "started"
assert_contains "$CAP_OUT" "http://127.0.0.1:$HP/"
assert_contains "$CAP_OUT" "https://localhost:$SP/"
pid="$(cat "$AD/run/apache2.pid")"
[[ "$pid" =~ ^[0-9]+$ ]] || fail "pid file holds [$pid]"
alive "$pid" "apache2 (pid $pid)"
listening "$HP" || fail "nothing listens on 127.0.0.1:$HP"
listening "$SP" || fail "nothing listens on 127.0.0.1:$SP"
assert_eq "$(printf 'http_port=%s\nhttps_port=%s\nname=localhost' "$HP" "$SP")" "$(cat "$AD/state")" "state file"

# Its own configuration: loopback only, nothing from /etc/apache2.
conf="$(grep -v '^#' "$AD/apache2.conf")"
assert_not_contains "$conf" "/etc/apache2" "apache2.conf (without comments)"
assert_not_contains "$conf" "Include" "apache2.conf"
assert_eq "Listen 127.0.0.1:$HP
Listen 127.0.0.1:$SP https" "$(grep '^Listen' "$AD/apache2.conf")" "Listen lines"
assert_contains "$conf" "ServerRoot \"$AD\"" "apache2.conf"
if ss -H -ltn 2>/dev/null | grep -qE "(0\.0\.0\.0|\[::\]|\*):($HP|$SP) "; then
    fail "Apache listens beyond loopback: $(ss -ltn)"
fi
((EUID != 0)) || assert_contains "$conf" "User www-data" "apache2.conf as root"

# It serves, with the project's certificates, and logs in combined format.
curl -sS --fail --cacert "$AD/certs/ca.crt" -A 'lifecycle-test/1' -o /dev/null "https://localhost:$SP/" ||
    fail "curl over HTTPS with $AD/certs/ca.crt"
wait_for_log "$AD/logs/ssl_access.log" '"GET / HTTP/1.1" 200'
assert_file_contains "$AD/logs/ssl_access.log" '"-" "lifecycle-test/1"'

capture "${A[@]}" status --dir "$AD"
assert_capture 0 "status while running"
assert_contains "$CAP_OUT" "running (pid $pid) from $AD"
assert_contains "$CAP_OUT" "http://127.0.0.1:$HP/"

# A second start changes nothing.
capture "${A[@]}" start --no-install --dir "$AD"
assert_capture 0 "second start"
assert_contains "$CAP_OUT" "already running"
assert_eq "$pid" "$(cat "$AD/run/apache2.pid")" "pid after the second start"
capture "${A[@]}" start --no-install --dir "$AD" --http-port "$HP" --https-port "$SP" --name localhost
assert_capture 0 "second start with the same settings"
# ... but one asking for other settings is refused.
capture "${A[@]}" start --no-install --dir "$AD" --name other.test
assert_capture 1 "start with another name while running"
assert_contains "$CAP_ERR" "already running from $AD with name localhost"

# A port in use: refused before anything starts.
capture "${A[@]}" start --no-install --dir "$AD2" --http-port "$HP"
assert_capture 1 "start on a busy port"
assert_contains "$CAP_ERR" "port $HP on 127.0.0.1 is in use"
[[ ! -e "$AD2/run/apache2.pid" ]] || fail "a pid file after a refused start"

# Stop: the whole process group goes away, the ports are free again.
group="$(pgrep -g "$pid" | wc -l)"
((group >= 2)) || fail "expected the main process and its children in group $pid, found $group"
capture "${A[@]}" stop --dir "$AD"
assert_capture 0 "stop"
assert_contains "$CAP_OUT" "stopped (pid $pid)"
! pgrep -g "$pid" >/dev/null || fail "processes left in group $pid: $(pgrep -a -g "$pid")"
! listening "$HP" || fail "127.0.0.1:$HP still accepts connections after stop"
! listening "$SP" || fail "127.0.0.1:$SP still accepts connections after stop"
[[ ! -e "$AD/run/apache2.pid" ]] || fail "pid file left after stop"
capture "${A[@]}" status --dir "$AD"
assert_capture 3 "status after stop"
capture "${A[@]}" stop --dir "$AD"
assert_capture 0 "second stop"
assert_contains "$CAP_OUT" "not running"

# A restart for another name: a new certificate covering it.
old_fp="$(cert_fingerprint "$AD/certs/server.crt")"
capture "${A[@]}" start --no-install --dir "$AD" --http-port "$HP" --https-port "$SP" --name other.test
assert_capture 0 "start for other.test"
assert_contains "$CAP_OUT" "made certificates for other.test"
[[ "$(cert_fingerprint "$AD/certs/server.crt")" != "$old_fp" ]] || fail "the certificate was not renewed"
openssl x509 -in "$AD/certs/server.crt" -noout -checkhost other.test | grep -q 'does match' ||
    fail "the new certificate does not cover other.test"
curl -sS --fail --cacert "$AD/certs/ca.crt" --resolve "other.test:$SP:127.0.0.1" -o /dev/null \
    "https://other.test:$SP/" || fail "curl https://other.test:$SP/"
pid2="$(cat "$AD/run/apache2.pid")"
capture "${A[@]}" stop --dir "$AD"
assert_capture 0 "stop after the restart"
! pgrep -g "$pid2" >/dev/null || fail "processes left in group $pid2"
# The same name again keeps the certificate.
fp="$(cert_fingerprint "$AD/certs/server.crt")"
capture "${A[@]}" start --no-install --dir "$AD" --http-port "$HP" --https-port "$SP" --name other.test
assert_capture 0 "start for other.test again"
assert_eq "$fp" "$(cert_fingerprint "$AD/certs/server.crt")" "certificate after a restart for the same name"
capture "${A[@]}" stop --dir "$AD"
assert_capture 0 "final stop"
_it_log "apache.sh lifecycle passed"
