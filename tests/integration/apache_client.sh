#!/usr/bin/env bash
# tcp-client against a private Apache2 (scripts/apache.sh, its own directory
# and free ports): GET over HTTP and verified HTTPS with the exact custom
# User-Agent in the access logs; --resolve with a certificate for a name that
# is not local; a hostname mismatch; a chunked body and a 10 MiB file
# byte-exact against curl; HEAD on a keep-alive connection; --fail on a 404;
# a redirect shown, not followed.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C="$SECSOCK_BIN/tcp-client"
APACHE_SH="$SECSOCK_SRC/scripts/apache.sh"
need "$C" /usr/sbin/apache2 curl openssl python3 sha256sum timeout
[[ -f /usr/lib/apache2/modules/mod_ssl.so ]] ||
    fail "required /usr/lib/apache2/modules/mod_ssl.so is missing (Debian's apache2 package; scripts/test.sh installs it)"

NAME=lm3nitro.com
# Under /tmp: as root, Apache's workers (www-data) must reach the content.
AD="$(mktemp -d /tmp/secsock-it-apache.XXXXXX)"
chmod 755 "$AD"

apache_cleanup() {
    local st=$?
    bash "$APACHE_SH" stop --dir "$AD" >/dev/null 2>&1 || st=1
    if ((st != 0)); then
        printf -- '--- %s/logs/error.log:\n' "$AD" >&2
        cat "$AD/logs/error.log" >&2 2>/dev/null || true
    fi
    rm -rf "$AD"
    set +e
    (exit "$st")
    _it_cleanup # reads the test's status from $?
}
trap apache_cleanup EXIT

HP="$(free_port)"
SP="$(free_port)"
while [[ "$SP" == "$HP" ]]; do SP="$(free_port)"; done
capture bash "$APACHE_SH" start --no-install --dir "$AD" --http-port "$HP" --https-port "$SP" --name "$NAME"
assert_capture 0 "apache.sh start"
CA="$AD/certs/ca.crt"
ACCESS="$AD/logs/access.log"
SSL_ACCESS="$AD/logs/ssl_access.log"
INDEX="$(cat "$AD/htdocs/index.html"; printf x)"
INDEX="${INDEX%x}"

# log_line LOG UA : waits for the line with "UA" in LOG, prints it with the
# date replaced by [DATE] and the byte count by N.
log_line() {
    wait_for_log "$1" "\"$2\""
    grep -F -- "\"$2\"" "$1" | sed -E 's/\[[^]]*\]/[DATE]/; s/" ([0-9]{3}) [0-9]+ "/" \1 N "/'
}

# sha FILE : its SHA-256.
sha() {
    local s
    s="$(sha256sum "$1")" || fail "cannot hash $1"
    printf '%s\n' "${s%% *}"
}

# now_ms : milliseconds since the epoch.
now_ms() { printf '%s\n' "$(($(date +%s%N) / 1000000))"; }

# The seed's request with its custom User-Agent, over HTTP and HTTPS with
# verification on; each access log holds the exact User-Agent.
case_get_http_https() {
    local ua='Mozilla/lm3nitro 1.0 (get)'
    capture "$C" -A "$ua" 127.0.0.1 "$HP"
    assert_capture 0 "GET over HTTP"
    assert_contains "$CAP_OUT" $'HTTP/1.1 200 OK\r\n' "HTTP response"
    assert_contains "$CAP_OUT" $'Content-Length: 156\r\n' "HTTP response"
    assert_eq "$INDEX" "${CAP_OUT#*$'\r\n\r\n'}" "body over HTTP"
    assert_eq "127.0.0.1 - - [DATE] \"GET / HTTP/1.1\" 200 N \"-\" \"$ua\"" \
        "$(log_line "$ACCESS" "$ua")" "access.log line"

    capture "$C" --tls --cafile "$CA" -A "$ua" localhost "$SP"
    assert_capture 0 "GET over HTTPS, verified"
    assert_contains "$CAP_OUT" $'HTTP/1.1 200 OK\r\n' "HTTPS response"
    assert_eq "$INDEX" "${CAP_OUT#*$'\r\n\r\n'}" "body over HTTPS"
    assert_eq "127.0.0.1 - - [DATE] \"GET / HTTP/1.1\" 200 N \"-\" \"$ua\"" \
        "$(log_line "$SSL_ACCESS" "$ua")" "ssl_access.log line"
    # Each request in its own log, once.
    assert_eq 1 "$(count_in "$ACCESS" "\"$ua\"")" "lines with the User-Agent in access.log"
}

# lm3nitro.com with no /etc/hosts entry: Host, SNI and verification use it.
case_resolve() {
    local ua='Mozilla/lm3nitro 1.0 (resolve)'
    capture "$C" -A "$ua" --resolve "$NAME:$HP:127.0.0.1" "$NAME" "$HP"
    assert_capture 0 "GET over HTTP with --resolve"
    assert_contains "$CAP_OUT" $'HTTP/1.1 200 OK\r\n'
    assert_eq "127.0.0.1 - - [DATE] \"GET / HTTP/1.1\" 200 N \"-\" \"$ua\"" \
        "$(log_line "$ACCESS" "$ua")" "access.log line"

    capture "$C" --tls --cafile "$CA" -v -A "$ua" --resolve "$NAME:$SP:127.0.0.1" "$NAME" "$SP"
    assert_capture 0 "GET over HTTPS with --resolve, verified"
    assert_contains "$CAP_OUT" $'HTTP/1.1 200 OK\r\n'
    assert_eq "$INDEX" "${CAP_OUT#*$'\r\n\r\n'}" "body"
    assert_contains "$CAP_ERR" "* Connected to $NAME (127.0.0.1) port $SP" "-v output"
    assert_contains "$CAP_ERR" "> User-Agent: $ua" "-v output"
    assert_contains "$CAP_ERR" "SNI: $NAME" "-v output"
    assert_contains "$CAP_ERR" "subject: CN=$NAME" "-v output"
    assert_contains "$CAP_ERR" "verification: ok" "-v output"
    assert_eq "127.0.0.1 - - [DATE] \"GET / HTTP/1.1\" 200 N \"-\" \"$ua\"" \
        "$(log_line "$SSL_ACCESS" "$ua")" "ssl_access.log line"
}

# A name the certificate does not cover: exit 4, and no request reaches Apache.
case_mismatch() {
    local ua='Mozilla/lm3nitro 1.0 (mismatch)'
    capture "$C" --tls --cafile "$CA" -A "$ua" --resolve "other.example:$SP:127.0.0.1" other.example "$SP"
    assert_capture 4 "HTTPS to other.example with a certificate for $NAME"
    assert_contains "$CAP_ERR" "hostname mismatch" "stderr"
    assert_eq "" "$CAP_OUT" "stdout"

    capture "$C" --tls --cafile "$CA" -A "$ua" --servername other.example 127.0.0.1 "$SP"
    assert_capture 4 "HTTPS with --servername other.example"
    assert_contains "$CAP_ERR" "hostname mismatch (wanted other.example)" "stderr"

    # The same server, verified, still works; then the log is complete.
    capture "$C" --tls --cafile "$CA" -A "$ua-ok" localhost "$SP"
    assert_capture 0 "HTTPS to localhost"
    log_line "$SSL_ACCESS" "$ua-ok" >/dev/null
    assert_eq 0 "$(count_in "$SSL_ACCESS" "\"$ua\"")" "requests logged from the refused connections"
}

# compare_with_curl URL-PATH SCHEME : tcp-client --body-only -o FILE, compared
# with curl's download of the same URL. FILE is $TC_OUT.
TC_OUT=""
compare_with_curl() {
    local path="$1" scheme="$2" out="$TEST_TMP/tc.$BASHPID" ref="$TEST_TMP/curl.$BASHPID"
    TC_OUT="$out"
    local -a tc curl_args
    if [[ "$scheme" == https ]]; then
        tc=(--tls --cafile "$CA" localhost "$SP")
        curl_args=(--cacert "$CA" "https://localhost:$SP$path")
    else
        tc=(127.0.0.1 "$HP")
        curl_args=("http://127.0.0.1:$HP$path")
    fi
    rm -f "$out" "$ref"
    capture "$C" --body-only -o "$out" --path "$path" "${tc[@]}"
    assert_capture 0 "tcp-client --body-only -o over $scheme for $path"
    assert_eq "" "$CAP_OUT" "stdout with -o"
    curl -sS --fail -o "$ref" "${curl_args[@]}" || fail "curl $scheme $path failed"
    [[ -s "$ref" ]] || fail "curl downloaded nothing from $path"
    assert_eq "$(stat -c %s "$ref")" "$(stat -c %s "$out")" "size of $path over $scheme"
    assert_eq "$(sha "$ref")" "$(sha "$out")" "SHA-256 of $path over $scheme (tcp-client vs curl)"
}

case_chunked() {
    # The response really is chunked (else this case proves nothing).
    local hdr
    hdr="$(curl -sS -D - -o /dev/null "http://127.0.0.1:$HP/cgi-bin/chunked")" || fail "curl /cgi-bin/chunked"
    assert_contains "$hdr" $'Transfer-Encoding: chunked\r\n' "curl's view of /cgi-bin/chunked"
    assert_not_contains "$hdr" "Content-Length" "curl's view of /cgi-bin/chunked"

    compare_with_curl /cgi-bin/chunked http
    compare_with_curl /cgi-bin/chunked https
    local body
    body="$(cat "$TC_OUT")"
    assert_contains "$body" "part 5 line 500: the quick brown fox" "the end of the chunked body"

    # The whole response: the headers as sent, the body de-chunked only with
    # --body-only; on a keep-alive connection it ends at the last chunk.
    local start
    start="$(now_ms)"
    capture "$C" -t 20 -H 'Connection: keep-alive' --path /cgi-bin/chunked 127.0.0.1 "$HP"
    assert_capture 0 "chunked GET on a keep-alive connection"
    (($(now_ms) - start < 5000)) || fail "chunked GET on a keep-alive connection took $(($(now_ms) - start)) ms"
    assert_contains "$CAP_OUT" $'Transfer-Encoding: chunked\r\n' "response headers"
    assert_contains "$CAP_OUT" $'Keep-Alive: timeout=' "response headers"
    assert_contains "$CAP_OUT" $'\r\n0\r\n\r\n' "raw chunked response (last chunk)"
}

case_big_file() {
    assert_eq $((10 * 1024 * 1024)) "$(stat -c %s "$AD/htdocs/big.bin")" "size of big.bin"
    compare_with_curl /big.bin http
    assert_eq "$(sha "$AD/htdocs/big.bin")" "$(sha "$TC_OUT")" "big.bin over HTTP vs the file"
    compare_with_curl /big.bin https
    assert_eq "$(sha "$AD/htdocs/big.bin")" "$(sha "$TC_OUT")" "big.bin over HTTPS vs the file"
}

# HEAD: headers only, at once, though Apache keeps the connection open for 15 s.
case_head() {
    local ua='Mozilla/lm3nitro 1.0 (head)' start scheme
    local -a target
    for scheme in http https; do
        if [[ "$scheme" == https ]]; then
            target=(--tls --cafile "$CA" localhost "$SP")
        else
            target=(127.0.0.1 "$HP")
        fi
        start="$(now_ms)"
        capture "$C" -t 20 --method HEAD -H 'Connection: keep-alive' -A "$ua" --path /big.bin "${target[@]}"
        assert_capture 0 "HEAD over $scheme"
        (($(now_ms) - start < 5000)) || fail "HEAD over $scheme took $(($(now_ms) - start)) ms"
        assert_contains "$CAP_OUT" $'HTTP/1.1 200 OK\r\n' "HEAD response"
        assert_contains "$CAP_OUT" $'Content-Length: 10485760\r\n' "HEAD response"
        assert_contains "$CAP_OUT" $'Connection: Keep-Alive\r\n' "HEAD response"
        assert_eq "" "${CAP_OUT#*$'\r\n\r\n'}" "what follows the headers of a HEAD response"
        ((${#CAP_OUT} < 1024)) || fail "HEAD over $scheme printed ${#CAP_OUT} bytes"
    done
    assert_contains "$(log_line "$ACCESS" "$ua")" '"HEAD /big.bin HTTP/1.1" 200' "access.log"
    assert_contains "$(log_line "$SSL_ACCESS" "$ua")" '"HEAD /big.bin HTTP/1.1" 200' "ssl_access.log"
}

case_fail_404() {
    capture "$C" --path /missing 127.0.0.1 "$HP"
    assert_capture 0 "GET /missing without --fail"
    assert_contains "$CAP_OUT" $'HTTP/1.1 404 Not Found\r\n'

    capture "$C" --fail --path /missing 127.0.0.1 "$HP"
    assert_capture 6 "GET /missing with --fail"
    assert_contains "$CAP_ERR" "HTTP status 404" "stderr"

    capture "$C" --fail --tls --cafile "$CA" --path /missing localhost "$SP"
    assert_capture 6 "GET /missing over HTTPS with --fail"

    capture "$C" --fail 127.0.0.1 "$HP"
    assert_capture 0 "GET / with --fail"
}

# Redirect /old / : shown on stderr; only the one request reaches Apache.
case_redirect() {
    local ua='Mozilla/lm3nitro 1.0 (redirect)'
    capture "$C" -A "$ua" --path /old 127.0.0.1 "$HP"
    assert_capture 0 "GET /old"
    assert_contains "$CAP_OUT" $'HTTP/1.1 302 Found\r\n' "response"
    assert_contains "$CAP_OUT" $'Location: http://127.0.0.1:'"$HP"$'/\r\n' "response"
    assert_contains "$CAP_ERR" "redirect to http://127.0.0.1:$HP/ (not followed)" "stderr"
    log_line "$ACCESS" "$ua" >/dev/null
    sleep 0.3
    assert_eq 1 "$(count_in "$ACCESS" "\"$ua\"")" "requests with the redirect's User-Agent"
    assert_contains "$(log_line "$ACCESS" "$ua")" '"GET /old HTTP/1.1" 302' "access.log"

    capture "$C" --tls --cafile "$CA" -A "$ua" --body-only --path /old --resolve "$NAME:$SP:127.0.0.1" "$NAME" "$SP"
    assert_capture 0 "GET /old over HTTPS"
    assert_contains "$CAP_ERR" "redirect to https://$NAME:$SP/ (not followed)" "stderr"
    assert_contains "$CAP_OUT" "<title>302 Found</title>" "body"
}

run_case "GET over HTTP and HTTPS, User-Agent in the access logs" case_get_http_https
run_case "--resolve $NAME, verified" case_resolve
run_case "hostname mismatch" case_mismatch
run_case "chunked body vs curl" case_chunked
run_case "10 MiB file vs curl" case_big_file
run_case "HEAD on a keep-alive connection" case_head
run_case "--fail on a 404" case_fail_404
run_case "redirect shown, not followed" case_redirect
finish_cases
