"""scripts/capture-compare.sh for real: it captures on lo (root or
CAP_NET_RAW and CAP_NET_ADMIN; without them these tests FAIL, they do not
skip), and the facts of its report.json must be what encryption gives: the
marker in clear in plaintext, absent from every encrypted capture, back
with the key log and in the pcapng with the secrets embedded; the
certificate subject in clear in TLS 1.2, not in TLS 1.3; the DTLS cookie
exchange; the round trips before the first application byte, the tickets,
how each connection ends. The programs' --json output of the same runs
must be valid with the expected fields; our own read-back of the captures
must agree with the report (frames, JA3); report.html must be one
self-contained page with a ladder arrow per frame, rendered by a real
headless Chromium; and without the capture privilege the script says so
and exits 1.
"""

import glob
import json
import os
import re
import shutil
import socket
import tempfile
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from harness.procs import SANITIZER_RE
from harness.system import SRC, as_nobody, need
from harness.waits import free_port
from peers import chromium, tshark

SCRIPT = os.path.join(SRC, "scripts", "capture-compare.sh")
MODES = ["tcp", "tls12", "tls13", "udp", "dtls12"]
ENCRYPTED = ["tls12", "tls13", "dtls12"]
# The comparison takes about a minute on a loaded 2-core machine; the bound
# allows for more load and sanitizers.
SCRIPT_TIMEOUT = 240

# The programs' --json session object: every field, always.
SESSION_FIELDS = {
    "program", "peer", "transport", "secure", "version", "cipher", "group", "alpn", "sni",
    "peer_certificate", "verification", "verified", "resumed", "cookie_exchange", "ja4", "ja3",
    "ja3_hash", "bytes_sent", "bytes_received", "handshake_ms", "total_ms", "status", "error",
    "peer_chain", "ech", "ech_outer_sni", "ech_inner_sni", "ech_retry_config_list",
    "ech_retried"}
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
    with open(os.path.join(out, "checks.json")) as f:
        checks = json.load(f)
    with open(os.path.join(out, "report.html")) as f:
        page = f.read()
    return SimpleNamespace(out=out, result=r, report=report, caps=report["captures"],
                           checks=checks, html=page, marker=report["marker"],
                           subject="CN=" + report["certificate_name"])


def test_writes_every_file_and_prints_the_report(comparison):
    out = comparison.out
    for name in ("tcp.pcap", "tls12.pcap", "tls13.pcap", "udp.pcap", "dtls12.pcap",
                 "tls12.keylog", "tls13.keylog", "dtls12.keylog", "tls12-secrets.pcapng",
                 "tls13-secrets.pcapng", "dtls12-secrets.pcapng", "report.md", "report.json",
                 "report.html", "checks.json"):
        path = os.path.join(out, name)
        assert os.path.exists(path) and os.path.getsize(path) > 0, \
            f"capture-compare.sh wrote no {name}"
    printed = comparison.result.out
    assert "# What the wire shows" in printed
    assert "wireshark -d tcp.port==" in printed
    assert f"-o tls.keylog_file:{out}/tls13.keylog" in printed
    assert f"file://{out}/report.html" in printed


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
    # TLS 1.3 chose one, in EncryptedExtensions: "encrypted", not "none".
    assert t13["alpn_selected_encrypted"] is True and t12["alpn_selected_encrypted"] is False
    assert caps["tls13"]["decrypted_with_keylog"]["alpn_selected"] == "http/1.1"
    # The cipher suites offered by name, as many as counted.
    for h in (t12, t13, dt):
        assert len(h["cipher_suites_offered_names"]) == h["cipher_suites_offered"] > 0, h
    assert "TLS_AES_128_GCM_SHA256" in t13["cipher_suites_offered_names"]


def test_dtls_cookie_exchange_and_the_scripts_own_checks(comparison):
    dt = comparison.caps["dtls12"]["handshake_in_clear"]
    assert dt["hello_verify_requests"] >= 1 and dt["cookie_exchange"] is True, \
        f"no cookie exchange: {dt['messages_seen']}"
    checks = comparison.checks["checks"]
    assert len(checks) >= 30 and comparison.checks["ok"] is True, \
        [ch["check"] for ch in checks if not ch["ok"]]
    assert all(ch["ok"] for ch in checks), [ch["check"] for ch in checks if not ch["ok"]]
    # The checks left report.json (its facts) and report.md (for people).
    assert "checks" not in comparison.report


def test_report_md_has_the_facts_and_the_commands_not_the_checks(comparison):
    with open(os.path.join(comparison.out, "report.md")) as f:
        md = f.read()
    assert comparison.marker in md and "## See it yourself" in md
    for mode, c in comparison.caps.items():
        assert c["commands"]["tshark"] in md, f"report.md lacks the tshark command of {mode}"
    assert "- [x]" not in md and "## Checks" not in md, "self-checks in report.md"
    for fact in ("round trips before the first application byte", "JA3", "session tickets",
                 "end of the connection", comparison.caps["tls13"]["handshake_in_clear"]["ja3"]):
        assert fact in md, f"report.md lacks {fact!r}"


# Round trips before the first application byte: TCP's handshake; a full
# TLS 1.2 handshake adds two, TLS 1.3 one; DTLS 1.2 its cookie exchange and
# two; UDP none.
ROUND_TRIPS = {"tcp": 1, "tls12": 3, "tls13": 2, "udp": 0, "dtls12": 3}


@pytest.mark.parametrize("mode", MODES)
def test_round_trips_before_the_first_application_byte(comparison, mode):
    lad = comparison.caps[mode]["ladder"]
    assert lad["round_trips_before_first_app_byte"] == ROUND_TRIPS[mode], lad
    assert len(lad["round_trip_frames"]) == ROUND_TRIPS[mode]
    first = lad["frames"][lad["first_app_frame"] - 1]
    assert first["dir"] == "c2s" and first["app"] is True, first
    assert lad["time_to_first_app_byte_ms"] == pytest.approx(first["t"] * 1000, abs=0.01)
    assert lad["decrypted"] is True


def test_tickets_and_how_each_connection_ends(comparison):
    caps = comparison.caps
    t13, t12 = caps["tls13"]["tickets"], caps["tls12"]["tickets"]
    # OpenSSL's TLS 1.3 server sends two tickets, encrypted, each alone in
    # its frame; TLS 1.2 one, before ChangeCipherSpec, in clear.
    assert t13["count"] == 2 and t13["encrypted"] is True and len(t13["frames"]) == 2, t13
    assert t12["count"] == 1 and t12["encrypted"] is False, t12
    tcp_end = caps["tcp"]["ending"]
    assert tcp_end["how"] == "FIN" and sorted(tcp_end["fin_by"]) == ["c2s", "s2c"], tcp_end
    for mode in ("tls12", "tls13"):
        e = caps[mode]["ending"]
        # One side closes right after its close_notify (the server, mostly;
        # the client too, under a sanitizer's timing); the other's
        # close_notify reaches a closed socket: a reset that loses nothing.
        assert e["how"] == "RST" and e["rst"]["by"] in ("c2s", "s2c"), e
        assert e["rst"]["after_own_fin"] is True and e["rst"]["unacknowledged_bytes"] == 0, e
        assert "close notify" in e["rst"]["trigger_label"], e
        assert e["rst"]["trigger_app_bytes"] == 0, e
    assert caps["udp"]["ending"] is None and caps["dtls12"]["ending"] is None


@pytest.mark.parametrize("mode", ENCRYPTED)
def test_report_ja3_is_tsharks(comparison, mode):
    """The JA3 the report computes from the first ClientHello is the one
    tshark 4.0 computes (tls.handshake.ja3, dtls.handshake.ja3)."""
    c = comparison.caps[mode]
    proto = "dtls" if mode == "dtls12" else "tls"
    rows = tshark.fields(c["pcap"], f"{proto}.handshake.ja3", f"{proto}.handshake.ja3_full",
                         display_filter=f"{proto}.handshake.type == 1",
                         decode_as=[f"{c['transport']}.port=={c['port']},{proto}"])
    assert rows, f"{mode}: tshark finds no ClientHello"
    h = c["handshake_in_clear"]
    assert (h["ja3"], h["ja3_full"]) == (rows[0][0], rows[0][1]), (h["ja3_full"], rows[0])
    assert re.fullmatch(r"[0-9a-f]{32}", h["ja3"])


class _Page(HTMLParser):
    """What report.html holds: tags, attributes, the arrows of each
    ladder (an svg with data-mode), its style text."""

    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.arrows, self.style = [], [], {}, ""
        self._ladder, self._in_style = None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs += attrs
        if tag == "svg" and a.get("data-mode"):
            self._ladder = a["data-mode"]
            self.arrows[self._ladder] = 0
        elif tag == "g" and self._ladder and "arrow" in (a.get("class") or "").split():
            self.arrows[self._ladder] += 1
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "svg":
            self._ladder = None
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data


def parse_page(text):
    p = _Page()
    p.feed(text)
    return p


def test_report_html_is_one_self_contained_page(comparison):
    """Readable offline: no script, nothing it would fetch (src or href to
    http(s), a stylesheet or font from elsewhere)."""
    page = comparison.html
    p = parse_page(page)
    assert "script" not in p.tags and "<script" not in page.lower()
    for tag in ("link", "img", "iframe", "object", "embed", "audio", "video", "base"):
        assert tag not in p.tags, f"report.html has a <{tag}>"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I), \
        "report.html points at the network"
    for name, value in p.attrs:
        if name in ("href", "src", "xlink:href"):
            assert (value or "").startswith("#"), f"report.html: {name}={value!r}"
    assert "@import" not in p.style and not re.search(r"url\(\s*['\"]?(?!#)", p.style)
    assert comparison.marker in page
    for c in comparison.caps.values():
        assert f'id="{c["mode"]}"' in page, f"no section for {c['mode']}"


@pytest.mark.parametrize("mode", MODES)
def test_report_html_ladder_has_an_arrow_per_frame(comparison, mode):
    p = parse_page(comparison.html)
    frames = tshark.read_frames(os.path.join(comparison.out, f"{mode}.pcap"))
    assert p.arrows.get(mode) == len(frames), \
        f"{mode}: {p.arrows.get(mode)} arrows for {len(frames)} frames"


def test_report_html_renders_in_chromium(comparison, run, tmp_path):
    """A real headless Chromium renders it: the screenshot is made, and it
    is a page, not a blank one (many colours, much drawn)."""
    chromium.require()
    png = chromium.screenshot(run, os.path.join(comparison.out, "report.html"), tmp_path)
    width, height, rows = chromium.png_rows(png)
    assert (width, height) == chromium.WINDOW
    distinct, drawn = chromium.colours(rows)
    assert distinct >= 200, f"{distinct} colours: a blank page?"
    assert drawn >= width * height // 10, f"{drawn} pixels drawn of {width * height}"


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


def test_without_capture_privilege_tshark_forced_says_so_and_exits_1(bin_dir, run, tmp_path):
    """Root can drop CAP_NET_RAW and CAP_NET_ADMIN for one command; another
    user cannot, and captures only with them given to dumpcap. Told to use
    tshark (SECSOCK_CAPTURE=tshark), the script then refuses, saying why."""
    tshark.require()
    if os.geteuid() != 0:
        pytest.skip("not root: cannot drop the capture capabilities for one command")
    need("setpriv")
    out = tmp_path / "nopriv"
    r = run(["setpriv", "--inh-caps=-net_raw,-net_admin",
             "--bounding-set=-net_raw,-net_admin",
             "bash", SCRIPT, "--out", out, "--bin", bin_dir],
            env=dict(os.environ, SECSOCK_CAPTURE="tshark"))
    r.expect(1, "capture-compare.sh without CAP_NET_RAW")
    assert "needs root or CAP_NET_RAW" in r.err
    assert not (out / "report.json").exists(), "a report without the capture privilege"


def test_without_capture_privilege_the_client_captures_itself(bin_dir, run):
    """As nobody (no capability; as is when not root) the built-in
    exchanges are captured by the client's --pcap: every file, every
    check of checks.json passing, the report saying how it was made."""
    tshark.require()

    where = tempfile.mkdtemp(prefix="secsock-capture-nobody.")
    try:
        os.chmod(where, 0o777)
        out = os.path.join(where, "out")
        r = run(as_nobody(["bash", SCRIPT, "--out", out, "--bin", bin_dir]),
                timeout=SCRIPT_TIMEOUT)
        r.expect(0, "capture-compare.sh as nobody")
        assert "the programs capture themselves (--pcap)" in r.out + r.err
        for name in ("tcp.pcap", "tls12.pcap", "tls13.pcap", "udp.pcap", "dtls12.pcap",
                     "tls12-secrets.pcapng", "tls13-secrets.pcapng", "dtls12-secrets.pcapng",
                     "report.md", "report.json", "report.html", "checks.json"):
            assert os.path.isfile(os.path.join(out, name)), f"no {name}"
        with open(os.path.join(out, "checks.json")) as f:
            checks = json.load(f)
        assert checks["ok"] is True, [c for c in checks["checks"] if not c["ok"]]
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        assert report["captured_by"] == "pcap"
        for mode in ENCRYPTED:
            c = report["captures"][mode]
            assert c["marker_visible"] is False, mode
            assert c["embedded_secrets"]["marker_visible"] is True, mode
        with open(os.path.join(out, "report.md")) as f:
            assert "captured by the client itself (`--pcap`" in f.read()
    finally:
        shutil.rmtree(where, ignore_errors=True)


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
