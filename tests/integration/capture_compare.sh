#!/usr/bin/env bash
# scripts/capture-compare.sh for real: captures on lo (needs root or
# CAP_NET_RAW; without it this test FAILS, it does not skip), then checks the
# facts of report.json: the marker in clear in plaintext, absent from every
# encrypted capture, back with the key log and in the pcapng with the secrets
# embedded; the certificate subject in clear in TLS 1.2, not in TLS 1.3; the
# DTLS cookie exchange. Also checks that the programs' --json output of the
# same runs is valid JSON with the expected fields, and that without the
# capture privilege the script says so and exits 1.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need tshark editcap dumpcap python3 "$SECSOCK_BIN/tcp-client" "$SECSOCK_BIN/tcp-server" \
    "$SECSOCK_BIN/udp-client" "$SECSOCK_BIN/udp-server"

script="$SECSOCK_SRC/scripts/capture-compare.sh"

if ! dumpcap -L -i lo >/dev/null 2>&1; then
    fail "cannot capture on lo (uid $EUID): this test needs root or CAP_NET_RAW and CAP_NET_ADMIN; it does not skip"
fi

# The comparison itself (about 20s).
out="$TEST_TMP/capture"
CAPTURE_TIMEOUT=80 capture bash "$script" --out "$out" --bin "$SECSOCK_BIN"
assert_capture 0 "scripts/capture-compare.sh"
for f in tcp.pcap tls12.pcap tls13.pcap udp.pcap dtls12.pcap \
    tls12.keylog tls13.keylog dtls12.keylog \
    tls12-secrets.pcapng tls13-secrets.pcapng dtls12-secrets.pcapng report.md report.json; do
    [[ -s "$out/$f" ]] || fail "capture-compare.sh wrote no $f"
done
assert_contains "$CAP_OUT" "# What the wire shows" "the printed report"
assert_contains "$CAP_OUT" "wireshark -d tcp.port==" "the printed report"
assert_contains "$CAP_OUT" "-o tls.keylog_file:$out/tls13.keylog" "the printed report"
# The programs ran under the script: their stderr is in logs/ (sanitizer
# builds report there).
for f in "$out"/logs/*.err; do
    if grep -qE "$_IT_SAN_RE" "$f"; then
        fail "sanitizer report in $f: $(cat "$f")"
    fi
done

python3 - "$out" <<'PYTHON' || fail "report.json or the programs' --json output is not what it should be (above)"
import json
import os
import sys

out = sys.argv[1]
errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


with open(os.path.join(out, "report.json")) as f:
    r = json.load(f)
caps = r["captures"]
marker = r["marker"]
expect(marker.startswith("secsock-marker-") and len(marker) > len("secsock-marker-"), f"marker {marker!r}")
expect(list(caps) == ["tcp", "tls12", "tls13", "udp", "dtls12"], f"modes {list(caps)}")

for m in ("tcp", "udp"):
    c = caps[m]
    expect(c["marker_visible"] is True, f"{m}: marker not visible in the plaintext capture")
    expect(c["frames"] > 0 and c["bytes"] > 0, f"{m}: empty capture")
    expect("Frame" in c["sources_with_marker"], f"{m}: marker not in the frames' own bytes: {c['sources_with_marker']}")
    expect(c["handshake_in_clear"] is None, f"{m}: a handshake in a plaintext capture")
    expect(c["certificate_name_bytes_visible"] is False, f"{m}: certificate name in a plaintext capture")
req = caps["tcp"]["http_request"] or {}
expect(caps["tcp"]["http_request_visible"] and req.get("request_line") == "GET / HTTP/1.1",
       f"tcp: HTTP request line {req}")
expect(marker in (req.get("user_agent") or ""), f"tcp: User-Agent {req.get('user_agent')!r}")
expect((req.get("host") or "").startswith("localhost:"), f"tcp: Host {req.get('host')!r}")
expect(marker in (caps["tcp"]["http_response_body"] or ""), "tcp: marker not in the reply body")

for m in ("tls12", "tls13", "dtls12"):
    c = caps[m]
    h = c["handshake_in_clear"]
    d = c["decrypted_with_keylog"]
    e = c["embedded_secrets"]
    expect(c["frames"] > 0, f"{m}: empty capture")
    expect(c["marker_visible"] is False, f"{m}: marker visible in the encrypted capture (frames {c['frames_with_marker']})")
    expect(c["http_request_visible"] is False, f"{m}: an HTTP request visible without the key log")
    expect(h["sni"] == "localhost", f"{m}: SNI {h['sni']!r}")
    expect(h["cipher_chosen"] and h["cipher_suites_offered"] > 0, f"{m}: cipher {h['cipher_chosen']!r}")
    expect(d["marker_visible"] is True, f"{m}: marker not visible after decryption with the key log")
    expect(any(s.startswith("Decrypted") for s in d["sources_with_marker"]),
           f"{m}: marker found after decryption but not in decrypted data: {d['sources_with_marker']}")
    expect(e["exists"] and e["marker_visible"] is True, f"{m}: marker not visible in the pcapng with embedded secrets")
    expect(c["overhead"]["vs"] == ("udp" if m == "dtls12" else "tcp") and c["overhead"]["bytes_ratio"] > 1,
           f"{m}: overhead {c['overhead']}")
for m in ("tls12", "tls13"):
    d = caps[m]["decrypted_with_keylog"]
    expect(marker in ((d["http_request"] or {}).get("user_agent") or ""), f"{m}: User-Agent after decryption {d['http_request']}")
    expect(caps[m]["handshake_in_clear"]["alpn_offered"] == ["http/1.1"], f"{m}: ALPN offered")

t12, t13, dt = (caps[m]["handshake_in_clear"] for m in ("tls12", "tls13", "dtls12"))
expect(t12["negotiated_version"] == "TLS 1.2", f"tls12: version {t12['negotiated_version']!r}")
expect(t13["negotiated_version"] == "TLS 1.3", f"tls13: version {t13['negotiated_version']!r}")
expect(dt["negotiated_version"] == "DTLS 1.2", f"dtls12: version {dt['negotiated_version']!r}")
# The certificate: in clear in TLS 1.2 (and DTLS 1.2), not in TLS 1.3.
subject = "CN=" + r["certificate_name"]
expect(t12["certificate_visible"] and t12["certificate_subject"] == subject, f"tls12: certificate subject {t12['certificate_subject']!r}")
expect(caps["tls12"]["certificate_name_bytes_visible"] is True, "tls12: certificate name not in the raw bytes")
expect(dt["certificate_subject"] == subject, f"dtls12: certificate subject {dt['certificate_subject']!r}")
expect(t13["certificate_visible"] is False and t13["certificate_subject"] is None, f"tls13: certificate subject in clear {t13['certificate_subject']!r}")
expect(caps["tls13"]["certificate_name_bytes_visible"] is False, "tls13: certificate name in the raw bytes")
expect(caps["tls13"]["decrypted_with_keylog"]["certificate_subject"] == subject, "tls13: certificate subject not seen after decryption")
expect(t12["alpn_selected"] == "http/1.1" and t13["alpn_selected"] is None,
       f"ALPN selected in clear: tls12 {t12['alpn_selected']!r}, tls13 {t13['alpn_selected']!r}")
# DTLS: the HelloVerifyRequest cookie exchange.
expect(dt["hello_verify_requests"] >= 1 and dt["cookie_exchange"] is True, f"dtls12: no cookie exchange: {dt['messages_seen']}")
expect(all(ch["ok"] for ch in r["checks"]), f"failed checks: {[ch['check'] for ch in r['checks'] if not ch['ok']]}")

with open(os.path.join(out, "report.md")) as f:
    md = f.read()
expect(marker in md and "## See it yourself" in md, "report.md lacks the marker or the commands")
for m in caps:
    expect(caps[m]["commands"]["tshark"] in md, f"report.md lacks the tshark command of {m}")

# The programs' --json output: one object per session on stderr.
FIELDS = {"program", "peer", "transport", "secure", "version", "cipher", "group", "alpn", "sni",
          "peer_certificate", "peer_chain", "verification", "verified", "resumed", "cookie_exchange",
          "bytes_sent", "bytes_received", "handshake_ms", "total_ms", "status", "error"}
CERT_FIELDS = {"subject", "issuer", "san", "not_before", "not_after", "fingerprint", "spki_pin"}
TRANSPORT = {"tcp": "tcp", "tls12": "tls", "tls13": "tls", "udp": "udp", "dtls12": "dtls"}
VERSION = {"tcp": None, "tls12": "TLSv1.2", "tls13": "TLSv1.3", "udp": None, "dtls12": "DTLSv1.2"}
for m in caps:
    sess = {}
    for side in ("client", "server"):
        path = os.path.join(out, "logs", f"{m}.{side}.err")
        objs = []
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    try:
                        objs.append(json.loads(line))
                    except json.JSONDecodeError as ex:
                        errors.append(f"{path}: invalid JSON ({ex}): {line!r}")
        expect(len(objs) == 1, f"{path}: {len(objs)} JSON objects, expected 1")
        if not objs:
            continue
        o = objs[0]
        sess[side] = o
        prog = ("tcp-" if caps[m]["transport"] == "tcp" else "udp-") + side
        expect(set(o) == FIELDS, f"{path}: fields {sorted(set(o) ^ FIELDS)} differ")
        expect(o.get("program") == prog, f"{path}: program {o.get('program')!r}")
        expect(o.get("transport") == TRANSPORT[m], f"{path}: transport {o.get('transport')!r}")
        expect(o.get("secure") is caps[m]["encrypted"], f"{path}: secure {o.get('secure')!r}")
        expect(o.get("version") == VERSION[m], f"{path}: version {o.get('version')!r}")
        expect(o.get("status") == "ok" and o.get("error") is None, f"{path}: status {o.get('status')!r} {o.get('error')!r}")
        expect(isinstance(o.get("bytes_sent"), int) and o["bytes_sent"] > 0, f"{path}: bytes_sent {o.get('bytes_sent')!r}")
        expect(isinstance(o.get("total_ms"), (int, float)), f"{path}: total_ms {o.get('total_ms')!r}")
        if caps[m]["encrypted"]:
            expect(isinstance(o.get("cipher"), str) and o["cipher"], f"{path}: cipher {o.get('cipher')!r}")
            expect(o.get("sni") == "localhost", f"{path}: sni {o.get('sni')!r}")
            expect(isinstance(o.get("handshake_ms"), (int, float)), f"{path}: handshake_ms {o.get('handshake_ms')!r}")
        if caps[m]["encrypted"] and side == "client":
            pc = o.get("peer_certificate") or {}
            expect(set(pc) == CERT_FIELDS, f"{path}: peer_certificate fields {sorted(pc)}")
            expect(pc.get("subject") == subject, f"{path}: peer_certificate.subject {pc.get('subject')!r}")
            expect(str(pc.get("fingerprint", "")).startswith("sha256:"), f"{path}: fingerprint {pc.get('fingerprint')!r}")
            expect(o.get("verified") is True, f"{path}: verified {o.get('verified')!r}")
        if m in ("tls12", "tls13"):
            expect(o.get("alpn") == "http/1.1", f"{path}: alpn {o.get('alpn')!r}")
    if len(sess) == 2:
        c, s = sess["client"], sess["server"]
        expect(c["bytes_sent"] == s["bytes_received"] and c["bytes_received"] == s["bytes_sent"],
               f"{m}: client sent/received {c['bytes_sent']}/{c['bytes_received']}, "
               f"server received/sent {s['bytes_received']}/{s['bytes_sent']}")
        expect(c.get("cipher") == s.get("cipher"), f"{m}: ciphers differ: {c.get('cipher')!r} {s.get('cipher')!r}")
        if m in ("tcp", "udp"):
            # Plaintext: the programs' byte counters are the payload on the wire.
            expect(caps[m]["payload_bytes"] == c["bytes_sent"] + c["bytes_received"],
                   f"{m}: {caps[m]['payload_bytes']} payload bytes on the wire, the client counted "
                   f"{c['bytes_sent']} sent + {c['bytes_received']} received")
        if m == "dtls12":
            expect(c["cookie_exchange"] is True and s["cookie_exchange"] is True,
                   f"dtls12: cookie_exchange client {c['cookie_exchange']!r} server {s['cookie_exchange']!r}")
        else:
            expect(c["cookie_exchange"] is False and s["cookie_exchange"] is False, f"{m}: cookie_exchange")

for e in errors:
    print("  -", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYTHON

# Without the capture privilege the script says so and exits 1 (root can
# drop CAP_NET_RAW/CAP_NET_ADMIN for one command; others cannot).
if ((EUID == 0)) && command -v setpriv >/dev/null 2>&1; then
    capture setpriv --inh-caps=-net_raw,-net_admin --bounding-set=-net_raw,-net_admin \
        bash "$script" --out "$TEST_TMP/nopriv" --bin "$SECSOCK_BIN"
    assert_capture 1 "capture-compare.sh without CAP_NET_RAW"
    assert_contains "$CAP_ERR" "needs root or CAP_NET_RAW" "its stderr"
    [[ ! -e "$TEST_TMP/nopriv/report.json" ]] || fail "a report without the capture privilege"
else
    _it_log "not root: the no-privilege check of the script is not run"
fi

_it_log "capture comparison passed"
