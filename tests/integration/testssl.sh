#!/usr/bin/env bash
# testssl.sh (Debian's package) against tcp-server --tls with its default TLS
# settings, which are to follow Mozilla's "intermediate" profile: TLS 1.2 and
# 1.3 only; forward-secret AEAD cipher suites only (ECDHE/DHE with AES-GCM or
# ChaCha20-Poly1305); nothing testssl's vulnerability checks (-U) find.
#
# RSA certificate: the full scan (-p -s -f -U -E). Only an RSA certificate
# would let RSA key transport (no forward secrecy, ROBOT) be negotiated.
# ECDSA certificate (the tests' usual one): protocols and ciphers (-p -s -E).
#
# Trust is not what is tested (the test PKI is private and short-lived), so
# the certificate checks (-S) are not run; --add-ca names the test CA anyway.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S="$SECSOCK_BIN/tcp-server"
need "$S" testssl openssl python3 timeout
PKI="$TEST_TMP/pki"
make_pki "$PKI"

# run_testssl PORT JSON TESTSSL-CHECKS... : testssl against 127.0.0.1:PORT,
# its flat JSON in JSON. Its exit status is not a verdict (it counts things);
# the JSON is judged by check_json.
run_testssl() {
    local port="$1" json="$2" st=0
    shift 2
    timeout -k 10 240 testssl --quiet --color 0 --warnings batch --nodns min \
        --openssl /usr/bin/openssl --add-ca "$PKI/ca.crt" \
        --connect-timeout 30 --openssl-timeout 30 \
        --jsonfile "$json" "$@" "127.0.0.1:$port" >"$json.txt" 2>&1 || st=$?
    ((st != 124 && st != 137)) || fail "testssl timed out; its output: [$(cat "$json.txt")]"
    [[ -s "$json" ]] || fail "testssl (exit $st) wrote no JSON; its output: [$(cat "$json.txt")]"
}

# check_json JSON FULL : the verdict on testssl's findings; FULL=1 when -f
# and -U were run too. Prints what is wrong and fails if anything is.
check_json() {
    local out st=0
    out="$(python3 - "$1" "$2" <<'EOF'
import json, re, sys

findings = json.load(open(sys.argv[1]))
full = sys.argv[2] == "1"
by_id = {f["id"]: f for f in findings}
bad = []

def finding(i):
    return by_id[i]["finding"] if i in by_id else None

def want(i, prefix):
    got = finding(i)
    if got is None:
        bad.append(f"{i}: missing from testssl's output")
    elif not got.startswith(prefix):
        bad.append(f"{i}: expected '{prefix}...', got '{got}' ({by_id[i]['severity']})")

# Protocols: TLS 1.2 and 1.3 only.
for i in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    want(i, "not offered")
for i in ("TLS1_2", "TLS1_3"):
    want(i, "offered")
# Cipher categories: no NULL, anonymous, export, DES/RC2/RC4, 3DES/IDEA, or
# obsolete CBC (AVERAGE); AEAD (STRONG) only.
for i in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
    want("cipherlist_" + i, "not offered")
want("cipherlist_STRONG", "offered")

# Each cipher suite offered (-E): "TLS 1.2   xc02f   NAME   ECDH 253   AESGCM ...".
suites = {f["id"]: f["finding"] for f in findings if f["id"].startswith("cipher-")}
for proto in ("tls1_2", "tls1_3"):
    if not any(i.startswith(f"cipher-{proto}_") for i in suites):
        bad.append(f"no {proto} cipher suite listed (did -E run?)")
for i, text in sorted(suites.items()):
    fields = text.split()
    m = re.match(r"cipher-(tls1_[23])_x[0-9a-f]+$", i)
    if not m:
        bad.append(f"{i}: a suite for another protocol: {text}")
        continue
    # fields: TLS, 1.2, hexcode, name, kx, [kx bits], encryption, bits, ...
    kx = fields[4] if len(fields) > 4 else "?"
    enc = fields[6] if len(fields) > 6 and re.fullmatch(r"\d+", fields[5]) else (
        fields[5] if len(fields) > 5 else "?")
    if kx not in ("ECDH", "DH"):
        bad.append(f"{i}: not forward secret (key exchange {kx}): {text}")
    if enc not in ("AESGCM", "ChaCha20"):
        bad.append(f"{i}: not AES-GCM or ChaCha20-Poly1305 ({enc}): {text}")

if full:
    want("PFS", "offered")
    for i in ("heartbleed", "CCS", "ROBOT", "secure_renego", "secure_client_renego",
              "CRIME_TLS", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN",
              "LOGJAM", "BEAST", "LUCKY13", "RC4"):
        if i not in by_id:
            bad.append(f"{i}: vulnerability check missing from testssl's output")

# Severities: nothing MEDIUM or worse, and no check that could not run
# (WARN, FATAL), except about the certificate's trust and lifetime.
trust = re.compile(r"^(cert|certs_|certificate_|intermediate_cert|OCSP|DNS_CAArecord)")
for f in findings:
    if trust.match(f["id"]):
        continue
    if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL", "WARN", "FATAL"):
        bad.append(f"{f['id']}: {f['severity']}: {f['finding']}")

summary = ", ".join(sorted(i for i in suites))
print(f"{len(findings)} findings; suites: {summary}")
for b in bad:
    print("BAD " + b)
sys.exit(1 if bad else 0)
EOF
)" || st=$?
    _it_log "${out%%$'\n'*}"
    ((st == 0)) || fail "testssl found problems in tcp-server's TLS configuration:"$'\n'"$(grep '^BAD ' <<<"$out")"$'\n'"testssl's report: [$(cat "$1.txt")]"
}

scan() { # CERT-NAME FULL TESTSSL-CHECKS...
    local name="$1" full="$2" pid="" port="" t0
    shift 2
    start_server pid port "$S" -p 0 --tls --cert "$PKI/$name.crt" --key "$PKI/$name.key"
    t0="$SECONDS"
    run_testssl "$port" "$TEST_TMP/$name.json" "$@"
    _it_log "testssl $* against a $name certificate: $((SECONDS - t0)) s"
    check_json "$TEST_TMP/$name.json" "$full"
    alive "$pid" "tcp-server after testssl"
    stop_process "$pid" || fail "tcp-server did not exit 0 at SIGTERM after testssl"
}

run_case "RSA certificate: protocols, ciphers, forward secrecy, vulnerabilities" \
    scan rsa-server 1 -p -s -f -U -E
run_case "ECDSA certificate: protocols and ciphers" scan server 0 -p -s -E
finish_cases
