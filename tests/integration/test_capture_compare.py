"""scripts/capture-compare.sh for real: it captures on lo (root or
CAP_NET_RAW and CAP_NET_ADMIN; without them these tests FAIL, they do not
skip), and the facts of its report.json must be what encryption gives: the
marker in clear in plaintext, absent from every encrypted capture, back
with the key log and in the pcapng with the secrets embedded; the
certificate subject in clear in TLS 1.2, not in TLS 1.3; the DTLS cookie
exchange. The programs' --json output of the same runs must be valid with
the expected fields; our own read-back of the captures must agree with the
report; and without the capture privilege the script says so and exits 1.
"""

import glob
import json
import os
import socket
from types import SimpleNamespace

import pytest

from harness.procs import SANITIZER_RE
from harness.system import SRC, need
from harness.waits import free_port
from peers import tshark

SCRIPT = os.path.join(SRC, "scripts", "capture-compare.sh")
MODES = ["tcp", "tls12", "tls13", "udp", "dtls12"]
ENCRYPTED = ["tls12", "tls13", "dtls12"]
# The comparison takes about 20 s; the bound allows for load and sanitizers.
SCRIPT_TIMEOUT = 80

# The programs' --json session object: every field, always.
SESSION_FIELDS = {
    "program", "peer", "transport", "secure", "version", "cipher", "group", "alpn", "sni",
    "peer_certificate", "verification", "verified", "resumed", "cookie_exchange", "ja4", "ja3",
    "ja3_hash", "bytes_sent", "bytes_received", "handshake_ms", "total_ms", "status", "error",
    "peer_chain"}
CERT_FIELDS = {"subject", "issuer", "san", "not_before", "not_after", "fingerprint", "spki_pin"}
TRANSPORT = {"tcp": "tcp", "tls12": "tls", "tls13": "tls", "udp": "udp", "dtls12": "dtls"}
VERSION = {"tcp": None, "tls12": "TLSv1.2", "tls13": "TLSv1.3", "udp": None,
           "dtls12": "DTLSv1.2"}


def require_capture():
    tshark.require()
    refused = tshark.capture_refused("lo")
    if refused is not None:
        pytest.fail(f"cannot capture on lo (uid {os.geteuid()}): this test needs root or "
                    f"CAP_NET_RAW and CAP_NET_ADMIN; it does not skip. dumpcap: {refused}")


@pytest.fixture(scope="module")
def comparison(bin_dir, run, tmp_path_factory):
    """One run of the script (its tests read what it wrote)."""
    require_capture()
    out = str(tmp_path_factory.mktemp("capture") / "out")
    r = run(["bash", SCRIPT, "--out", out, "--bin", bin_dir], timeout=SCRIPT_TIMEOUT)
    r.expect(0, "scripts/capture-compare.sh")
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    return SimpleNamespace(out=out, result=r, report=report, caps=report["captures"],
                           marker=report["marker"],
                           subject="CN=" + report["certificate_name"])


def test_writes_every_file_and_prints_the_report(comparison):
    out = comparison.out
    for name in ("tcp.pcap", "tls12.pcap", "tls13.pcap", "udp.pcap", "dtls12.pcap",
                 "tls12.keylog", "tls13.keylog", "dtls12.keylog", "tls12-secrets.pcapng",
                 "tls13-secrets.pcapng", "dtls12-secrets.pcapng", "report.md", "report.json"):
        path = os.path.join(out, name)
        assert os.path.exists(path) and os.path.getsize(path) > 0, \
            f"capture-compare.sh wrote no {name}"
    printed = comparison.result.out
    assert "# What the wire shows" in printed
    assert "wireshark -d tcp.port==" in printed
    assert f"-o tls.keylog_file:{out}/tls13.keylog" in printed


def test_programs_under_the_script_made_no_sanitizer_report(comparison):
    logs = glob.glob(os.path.join(comparison.out, "logs", "*.err"))
    assert logs, "no program logs in logs/"
    for path in logs:
        with open(path, errors="replace") as f:
            text = f.read()
        assert not SANITIZER_RE.search(text), f"sanitizer report in {path}:\n{text}"


def test_marker_and_modes(comparison):
    marker = comparison.marker
    assert marker.startswith("secsock-marker-") and len(marker) > len("secsock-marker-"), marker
    assert list(comparison.caps) == MODES


@pytest.mark.parametrize("mode", ["tcp", "udp"])
def test_plaintext_capture_shows_the_marker(comparison, mode):
    c = comparison.caps[mode]
    assert c["marker_visible"] is True, f"{mode}: marker not visible in the plaintext capture"
    assert c["frames"] > 0 and c["bytes"] > 0, f"{mode}: empty capture"
    assert "Frame" in c["sources_with_marker"], \
        f"{mode}: marker not in the frames' own bytes: {c['sources_with_marker']}"
    assert c["handshake_in_clear"] is None, f"{mode}: a handshake in a plaintext capture"
    assert c["certificate_name_bytes_visible"] is False, \
        f"{mode}: certificate name in a plaintext capture"


def test_plaintext_http_request_and_reply(comparison):
    tcp = comparison.caps["tcp"]
    marker = comparison.marker
    req = tcp["http_request"] or {}
    assert tcp["http_request_visible"] and req.get("request_line") == "GET / HTTP/1.1", req
    assert marker in (req.get("user_agent") or ""), f"User-Agent {req.get('user_agent')!r}"
    assert (req.get("host") or "").startswith("localhost:"), f"Host {req.get('host')!r}"
    assert marker in (tcp["http_response_body"] or ""), "marker not in the reply body"


@pytest.mark.parametrize("mode", ENCRYPTED)
def test_encrypted_capture_hides_the_marker_until_decrypted(comparison, mode):
    c = comparison.caps[mode]
    h, d, e = c["handshake_in_clear"], c["decrypted_with_keylog"], c["embedded_secrets"]
    assert c["frames"] > 0, f"{mode}: empty capture"
    assert c["marker_visible"] is False, \
        f"{mode}: marker visible in the encrypted capture (frames {c['frames_with_marker']})"
    assert c["http_request_visible"] is False, "an HTTP request visible without the key log"
    assert h["sni"] == "localhost", f"SNI {h['sni']!r}"
    assert h["cipher_chosen"] and h["cipher_suites_offered"] > 0, f"cipher {h['cipher_chosen']!r}"
    assert d["marker_visible"] is True, "marker not visible after decryption with the key log"
    assert any(s.startswith("Decrypted") for s in d["sources_with_marker"]), \
        f"marker found after decryption but not in decrypted data: {d['sources_with_marker']}"
    assert e["exists"] and e["marker_visible"] is True, \
        "marker not visible in the pcapng with embedded secrets"
    plain = "udp" if mode == "dtls12" else "tcp"
    assert c["overhead"]["vs"] == plain and c["overhead"]["bytes_ratio"] > 1, c["overhead"]


@pytest.mark.parametrize("mode", ["tls12", "tls13"])
def test_tls_request_after_decryption_and_alpn_offered(comparison, mode):
    c = comparison.caps[mode]
    d = c["decrypted_with_keylog"]
    assert comparison.marker in ((d["http_request"] or {}).get("user_agent") or ""), \
        f"User-Agent after decryption {d['http_request']}"
    assert c["handshake_in_clear"]["alpn_offered"] == ["http/1.1"]


def test_versions_and_the_certificate_in_clear(comparison):
    caps, subject = comparison.caps, comparison.subject
    t12, t13, dt = (caps[m]["handshake_in_clear"] for m in ENCRYPTED)
    assert t12["negotiated_version"] == "TLS 1.2"
    assert t13["negotiated_version"] == "TLS 1.3"
    assert dt["negotiated_version"] == "DTLS 1.2"
    # The certificate: in clear in TLS 1.2 (and DTLS 1.2), not in TLS 1.3.
    assert t12["certificate_visible"] and t12["certificate_subject"] == subject, t12
    assert caps["tls12"]["certificate_name_bytes_visible"] is True, \
        "tls12: certificate name not in the raw bytes"
    assert dt["certificate_subject"] == subject, dt
    assert t13["certificate_visible"] is False and t13["certificate_subject"] is None, \
        f"tls13: certificate subject in clear {t13['certificate_subject']!r}"
    assert caps["tls13"]["certificate_name_bytes_visible"] is False, \
        "tls13: certificate name in the raw bytes"
    assert caps["tls13"]["decrypted_with_keylog"]["certificate_subject"] == subject, \
        "tls13: certificate subject not seen after decryption"
    assert t12["alpn_selected"] == "http/1.1" and t13["alpn_selected"] is None, \
        f"ALPN selected in clear: tls12 {t12['alpn_selected']!r}, tls13 {t13['alpn_selected']!r}"


def test_dtls_cookie_exchange_and_the_scripts_own_checks(comparison):
    dt = comparison.caps["dtls12"]["handshake_in_clear"]
    assert dt["hello_verify_requests"] >= 1 and dt["cookie_exchange"] is True, \
        f"no cookie exchange: {dt['messages_seen']}"
    checks = comparison.report["checks"]
    assert all(ch["ok"] for ch in checks), [ch["check"] for ch in checks if not ch["ok"]]


def test_report_md_has_the_marker_and_the_commands(comparison):
    with open(os.path.join(comparison.out, "report.md")) as f:
        md = f.read()
    assert comparison.marker in md and "## See it yourself" in md
    for mode, c in comparison.caps.items():
        assert c["commands"]["tshark"] in md, f"report.md lacks the tshark command of {mode}"


def json_lines(path):
    """The JSON objects of a program's stderr (one a line, beside text)."""
    objs = []
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                try:
                    objs.append(json.loads(line))
                except json.JSONDecodeError as ex:
                    pytest.fail(f"{path}: invalid JSON ({ex}): {line!r}")
    return objs


@pytest.mark.parametrize("mode", MODES)
def test_programs_json_output(comparison, mode):
    """--json: the server's listening event, then one object per session
    on each side, the two sides agreeing."""
    cap, subject = comparison.caps[mode], comparison.subject
    sess = {}
    for side in ("client", "server"):
        path = os.path.join(comparison.out, "logs", f"{mode}.{side}.err")
        objs = json_lines(path)
        prog = ("tcp-" if cap["transport"] == "tcp" else "udp-") + side
        events = [o for o in objs if "event" in o]
        sessions = [o for o in objs if "event" not in o]
        if side == "server":
            assert len(events) == 1, f"{path}: {len(events)} events, expected the listening one"
            ev = events[0]
            assert (ev["event"], ev.get("program"), ev.get("port"), ev.get("protocol")) == \
                ("listening", prog, cap["port"], TRANSPORT[mode]), f"{path}: {ev}"
        else:
            assert events == [], f"{path}: events from a client: {events}"
        assert len(sessions) == 1, f"{path}: {len(sessions)} session objects, expected 1"
        o = sess[side] = sessions[0]
        assert set(o) == SESSION_FIELDS, f"{path}: fields {sorted(set(o) ^ SESSION_FIELDS)} differ"
        assert o["program"] == prog
        assert o["transport"] == TRANSPORT[mode]
        assert o["secure"] is cap["encrypted"]
        assert o["version"] == VERSION[mode]
        assert o["status"] == "ok" and o["error"] is None, f"{path}: {o['status']} {o['error']}"
        assert isinstance(o["bytes_sent"], int) and o["bytes_sent"] > 0, o["bytes_sent"]
        assert isinstance(o["total_ms"], (int, float)), o["total_ms"]
        if cap["encrypted"]:
            assert isinstance(o["cipher"], str) and o["cipher"], o["cipher"]
            assert o["sni"] == "localhost", o["sni"]
            assert isinstance(o["handshake_ms"], (int, float)), o["handshake_ms"]
        if cap["encrypted"] and side == "client":
            pc = o["peer_certificate"] or {}
            assert set(pc) == CERT_FIELDS, f"{path}: peer_certificate fields {sorted(pc)}"
            assert pc["subject"] == subject
            assert str(pc["fingerprint"]).startswith("sha256:"), pc["fingerprint"]
            assert o["verified"] is True
        if mode in ("tls12", "tls13"):
            assert o["alpn"] == "http/1.1", o["alpn"]
    c, s = sess["client"], sess["server"]
    assert (c["bytes_sent"], c["bytes_received"]) == (s["bytes_received"], s["bytes_sent"]), \
        "the client's sent/received are not the server's received/sent"
    assert c["cipher"] == s["cipher"]
    if mode in ("tcp", "udp"):
        # Plaintext: the programs' byte counters are the payload on the wire.
        assert cap["payload_bytes"] == c["bytes_sent"] + c["bytes_received"], \
            f"{cap['payload_bytes']} payload bytes on the wire, the client counted " \
            f"{c['bytes_sent']} sent + {c['bytes_received']} received"
    want_cookie = mode == "dtls12"
    assert c["cookie_exchange"] is want_cookie and s["cookie_exchange"] is want_cookie


@pytest.mark.parametrize("mode", MODES)
def test_captures_read_back_agree_with_the_report(comparison, mode):
    """Our own look at the pcap's bytes, not the script's dissection: the
    marker and the certificate's name are there exactly when the report
    says so."""
    cap = comparison.caps[mode]
    frames = tshark.read_frames(os.path.join(comparison.out, f"{mode}.pcap"))
    assert len(frames) == cap["frames"]
    assert sum(len(f) for f in frames) == cap["bytes"]
    with_marker = [f for f in frames if comparison.marker.encode() in f]
    assert bool(with_marker) is (not cap["encrypted"]), \
        f"{mode}: {len(with_marker)} frames with the marker"
    name = comparison.report["certificate_name"].encode()
    assert any(name in f for f in frames) is cap["certificate_name_bytes_visible"]


def test_without_capture_privilege_it_says_so_and_exits_1(bin_dir, run, tmp_path):
    """Root can drop CAP_NET_RAW and CAP_NET_ADMIN for one command; another
    user cannot, and captures only with them given to dumpcap."""
    tshark.require()
    if os.geteuid() != 0:
        pytest.skip("not root: cannot drop the capture capabilities for one command")
    need("setpriv")
    out = tmp_path / "nopriv"
    r = run(["setpriv", "--inh-caps=-net_raw,-net_admin",
             "--bounding-set=-net_raw,-net_admin",
             "bash", SCRIPT, "--out", out, "--bin", bin_dir])
    r.expect(1, "capture-compare.sh without CAP_NET_RAW")
    assert "needs root or CAP_NET_RAW" in r.err
    assert not (out / "report.json").exists(), "a report without the capture privilege"


def test_tshark_helper_captures_a_datagram_and_reads_it_back(start, tmp_path):
    """peers/tshark.py's own test: a datagram to a trivial listener is in
    the capture, with its payload and ports, and the probe's are not."""
    require_capture()
    payload = f"secsock-helper-{os.getpid()}".encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", free_port()))
        port = listener.getsockname()[1]
        cap = tshark.LoopbackCapture(start, tmp_path / "helper.pcap", f"udp port {port}")
        cap.wait_ready()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(payload, ("127.0.0.1", port))
        listener.settimeout(10)
        assert listener.recv(100) == payload
        frames = cap.finish()
    assert len(frames) == 1 and frames[0].endswith(payload), frames
    rows = tshark.fields(tmp_path / "helper.pcap", "udp.dstport", "udp.payload",
                         display_filter=f"udp.port == {port}")
    assert [(int(r[0]), bytes.fromhex(r[1].replace(":", ""))) for r in rows] == \
        [(port, payload)]
