"""scripts/capture-compare.sh on the user's own exchange: --port PORT --
COMMAND captures lo around COMMAND with SSLKEYLOGFILE set, and the report
(report.json, report.html) shows that one exchange decrypted: curl against
tcp-server --tls --http shows curl's User-Agent. --pcap FILE reports on a
capture the user has, with --keylog or the secrets a pcapng carries, and
needs no capture privilege (it runs as nobody here). Capturing needs root
or CAP_NET_RAW and CAP_NET_ADMIN: without them these tests FAIL.
"""

import json
import os
import re
import shutil
import tempfile

import pytest

from harness.system import SRC, as_nobody, need
from peers import chromium, tshark
from test_capture_compare import parse_page, require_capture

SCRIPT = os.path.join(SRC, "scripts", "capture-compare.sh")
# One exchange and its analysis take seconds; the bound allows for load
# and sanitizers.
SCRIPT_TIMEOUT = 180


def load(out, name):
    with open(os.path.join(out, name)) as f:
        return json.load(f) if name.endswith(".json") else f.read()


def curl_version(run):
    return run(["curl", "--version"]).out.split()[1]


def test_own_exchange_shows_curls_user_agent_decrypted(server, run, pki, tmp_path):
    require_capture()
    need("curl")
    srv = server("tcp-server", "--tls", "--http", *pki.server_args(), "--reply", "hello there")
    out = tmp_path / "out"
    r = run(["bash", SCRIPT, "--out", out, "--port", srv.port, "--", "curl", "-sS", "-4",
             "--cacert", pki.ca, f"https://localhost:{srv.port}/"], timeout=SCRIPT_TIMEOUT)
    r.expect(0, "capture-compare.sh --port PORT -- curl")
    assert "hello there" in r.out, "COMMAND's output does not reach the terminal"
    ua = f"curl/{curl_version(run)}"
    report, checks = load(out, "report.json"), load(out, "checks.json")
    assert checks["ok"] is True, checks
    c = report["captures"]["exchange"]
    assert c["encrypted"] is True and c["port"] == srv.port
    assert c["command"][0] == "curl" and c["command_exit"] == 0
    # Without the keys: no request, no User-Agent; with them: curl's.
    assert c["http_request_visible"] is False
    assert c["handshake_in_clear"]["sni"] == "localhost"
    d = c["decrypted_with_keylog"]
    assert (d["http_request"] or {}).get("user_agent") == ua, d["http_request"]
    assert d["http_request"]["request_line"] == "GET / HTTP/1.1"
    assert c["ladder"]["decrypted"] is True and c["app_bytes"] > 0
    assert c["embedded_secrets"]["exists"] is True
    assert os.path.getsize(out / "exchange.keylog") > 0, "curl wrote no key log (SSLKEYLOGFILE)"
    page = load(out, "report.html")
    assert f"with the key log: {ua}" in page, "report.html does not show the decrypted User-Agent"
    p = parse_page(page)
    assert p.arrows.get("exchange") == len(tshark.read_frames(out / "exchange.pcap"))
    assert "script" not in p.tags
    assert ua in load(out, "report.md")


def test_own_exchange_of_tcp_client_renders_in_chromium(server, run, pki, prog, tmp_path):
    """tcp-client under the script: its key log comes from SSLKEYLOGFILE
    alone, and the report of that exchange renders in Chromium."""
    require_capture()
    chromium.require()
    srv = server("tcp-server", *pki.server_args(), "--tls", "--http")
    out = tmp_path / "out"
    run(["bash", SCRIPT, "--out", out, "--port", srv.port, "--", prog("tcp-client"), "--fail",
         "--tls", "--cafile", pki.ca, "-4", "-A", "capture-report-test", "localhost",
         str(srv.port)], timeout=SCRIPT_TIMEOUT).expect(0, "capture-compare.sh -- tcp-client")
    c = load(out, "report.json")["captures"]["exchange"]
    assert c["decrypted_with_keylog"]["http_request"]["user_agent"] == "capture-report-test"
    png = chromium.screenshot(run, str(out / "report.html"), tmp_path)
    width, height, rows = chromium.png_rows(png, max_rows=1500)
    distinct, drawn = chromium.colours(rows)
    assert distinct >= 100 and drawn >= width * len(rows) // 10, (distinct, drawn)


@pytest.fixture
def world_dir():
    """A directory nobody can read and write (tmp_path is root's alone)."""
    d = tempfile.mkdtemp(prefix="secsock-capture-report.")
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_own_exchange_without_privilege_is_captured_by_pcap(server, run, pki, prog, world_dir):
    """As nobody, --port PORT -- tcp-client ...: the script cannot capture
    on lo, so tcp-client captures itself (--pcap added after its name),
    and the report shows its User-Agent decrypted by the secrets inside."""
    srv = server("tcp-server", *pki.server_args(), "--tls", "--http", "--reply", "hello")
    ca = os.path.join(world_dir, "ca.crt")
    shutil.copy(pki.ca, ca)
    os.chmod(ca, 0o644)
    out = os.path.join(world_dir, "out")
    r = run(as_nobody(["bash", SCRIPT, "--out", out, "--port", str(srv.port), "--",
                       prog("tcp-client"), "--fail", "--tls", "--cafile", ca, "-4", "-A",
                       "capture-report-pcap", "localhost", str(srv.port)]),
            timeout=SCRIPT_TIMEOUT)
    r.expect(0, "capture-compare.sh --port PORT -- tcp-client, as nobody")
    assert "hello" in r.out, "COMMAND's output does not reach the terminal"
    report = load(out, "report.json")
    assert report["captured_by"] == "pcap"
    c = report["captures"]["exchange"]
    assert c["port"] == srv.port and c["encrypted"] is True
    assert c["http_request_visible"] is False
    assert c["decrypted_with_keylog"]["http_request"]["user_agent"] == "capture-report-pcap"
    assert c["ladder"]["decrypted"] is True
    assert load(out, "checks.json")["ok"] is True


def test_own_exchange_of_another_program_without_privilege_is_refused(run, world_dir):
    """Only the project's programs capture themselves: any other COMMAND
    without the privilege is refused, naming both ways out."""
    if os.geteuid() != 0:
        pytest.skip("not root: cannot drop the capture capabilities for one command")
    out = os.path.join(world_dir, "out")
    r = run(as_nobody(["bash", SCRIPT, "--out", out, "--port", "9", "--", "true"]),
            timeout=SCRIPT_TIMEOUT)
    r.expect(1, "capture-compare.sh -- true, as nobody")
    assert "needs root or CAP_NET_RAW" in r.err and "--pcap FILE" in r.err
    assert not os.path.exists(os.path.join(out, "report.json"))


def test_pcap_reports_a_capture_without_privilege(server, run, pki, prog, start, world_dir):
    """A capture of tcp-client's TLS exchange (made here, as root), then
    --pcap FILE --keylog FILE as nobody: decrypted, the marker found only
    with the key; then the pcapng with the secrets embedded, alone."""
    require_capture()
    marker = f"secsock-marker-pcap-{os.getpid()}"
    srv = server("tcp-server", *pki.server_args(), "--tls", "--http", "--tls-min", "1.3")
    pcap, keylog = os.path.join(world_dir, "x.pcap"), os.path.join(world_dir, "x.keylog")
    cap = tshark.LoopbackCapture(start, pcap, f"tcp port {srv.port}")
    cap.wait_ready()
    run([prog("tcp-client"), "--fail", "--tls", "--cafile", pki.ca, "-4", "-A", f"t ({marker})",
         "--keylog", keylog, "localhost", str(srv.port)], timeout=60).expect(0, "tcp-client")
    frames = cap.finish()
    for f in (pcap, keylog):
        os.chmod(f, 0o644)
    out = os.path.join(world_dir, "out")
    r = run(as_nobody(["bash", SCRIPT, "--out", out, "--marker", marker, "--pcap", pcap,
                       "--keylog", keylog]), timeout=SCRIPT_TIMEOUT)
    r.expect(0, "capture-compare.sh --pcap --keylog, as nobody")
    c = load(out, "report.json")["captures"]["exchange"]
    assert c["port"] == srv.port, "the server's port, guessed from the first SYN"
    assert c["frames"] == len(frames) and c["title"] == f"TLS 1.3, port {srv.port}"
    assert c["marker_visible"] is False and c["decrypted_with_keylog"]["marker_visible"] is True
    assert marker in c["decrypted_with_keylog"]["http_request"]["user_agent"]
    assert c["ladder"]["round_trips_before_first_app_byte"] == 2
    assert load(out, "checks.json")["ok"] is True
    # The pcapng with the key log embedded decrypts by itself.
    secrets = os.path.join(out, "exchange-secrets.pcapng")
    out2 = os.path.join(world_dir, "out2")
    run(as_nobody(["bash", SCRIPT, "--out", out2, "--marker", marker, "--pcap", secrets]),
        timeout=SCRIPT_TIMEOUT).expect(0, "capture-compare.sh --pcap secrets.pcapng")
    c2 = load(out2, "report.json")["captures"]["exchange"]
    assert c2["marker_visible"] is False, "the view without keys shows the marker"
    assert c2["decrypted_with_keylog"]["marker_visible"] is True
    assert c2["ladder"]["decrypted"] is True


@pytest.mark.parametrize("args, says", [
    (["--port", "4433"], "needs -- COMMAND"),
    (["--", "true"], "needs --port PORT"),
    (["--port", "http", "--", "true"], "not a port number"),
    (["--port", "70000", "--", "true"], "not a port number"),
    (["--pcap", "/dev/null", "--", "true"], "no COMMAND with it"),
    (["--keylog", "/dev/null"], "--keylog goes with"),
    (["--port"], "needs an argument"),
])
def test_usage_errors_exit_2_and_say_why(run, args, says):
    r = run(["bash", SCRIPT, *args], timeout=60)
    r.expect(2, f"capture-compare.sh {' '.join(args)}")
    assert says in r.err and "Usage:" in r.err, r.err


def test_pcap_that_is_not_readable_says_so(run, tmp_path):
    r = run(["bash", SCRIPT, "--out", tmp_path / "o", "--pcap", tmp_path / "missing.pcap"],
            timeout=60)
    r.expect(1, "capture-compare.sh --pcap MISSING")
    assert re.search(r"cannot read .*missing\.pcap", r.err), r.err
