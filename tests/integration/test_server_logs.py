"""The servers' log as a person reads it: a client's request a line per
line (its User-Agent on a line of its own), a peer's control bytes
escaped, --timestamps on every line, -q down to what matters, and the
lines of clients served at once never mixed."""

import datetime
import re

import pytest

from harness.system import need

# "[*] Received from 127.0.0.1:50412 (78 bytes):", then "  | LINE" each.
BLOCK_RE = re.compile(r"^\[\*\] Received from (\S+) \((\d+) bytes\):$")
STAMP_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ")


def block_after(lines, header_index):
    """The message lines ("  | ...") that follow a block's header."""
    out = []
    for line in lines[header_index + 1:]:
        if not line.startswith("  |"):
            break
        out.append(line[4:])
    return out


def blocks(srv):
    """Each received block of srv's log: (peer, byte count, its lines)."""
    lines = srv.lines()
    found = []
    for i, line in enumerate(lines):
        m = BLOCK_RE.match(line)
        if m:
            found.append((m.group(1), int(m.group(2)), block_after(lines, i)))
    return found


def curl(run, *args):
    need("curl")
    return run(["curl", "-s", "-S", "--max-time", "20", *args])


# ---- a request, a line per line -------------------------------------------------------------

@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_http_verbose_shows_curls_user_agent(server, run, pki, tls):
    args = ["--tls", *pki.server_args()] if tls else []
    srv = server("tcp-server", "--http", "-v", *args)
    scheme = "https" if tls else "http"
    host = "localhost" if tls else "127.0.0.1"
    extra = ["--cacert", pki.ca] if tls else []
    curl(run, *extra, f"{scheme}://{host}:{srv.port}/page").expect(0)
    srv.wait_for("[*] Received from ")
    ua = [x for x in srv.lines() if x.startswith("  | User-Agent: ")]
    assert len(ua) == 1, srv.out()
    assert re.fullmatch(r"  \| User-Agent: curl/[0-9.]+\S*", ua[0]), ua
    (peer, size, head), = blocks(srv)
    assert peer.startswith("127.0.0.1:")
    assert head[0] == "GET /page HTTP/1.1"
    assert head[-1] == ""  # the head's empty line ends it, as curl -v shows it
    assert f"Host: {host}:{srv.port}" in head
    assert size == sum(len(x) + 2 for x in head)  # every line ended in CR LF


def test_http_without_verbose_logs_the_request_line(server, run):
    srv = server("tcp-server", "--http")
    curl(run, f"http://127.0.0.1:{srv.port}/a?b=c").expect(0)
    srv.wait_for(": GET /a?b=c HTTP/1.1")
    line, = [x for x in srv.lines() if "GET /a?b=c" in x]
    assert re.fullmatch(r"\[\*\] Received from 127\.0\.0\.1:\d+: GET /a\?b=c HTTP/1\.1", line)
    assert "User-Agent" not in srv.out()


def test_default_mode_shows_curls_user_agent(server, run):
    """The seed's one read and reply: curl's request arrives whole, a log
    line for each of its lines (the reply has no status line: HTTP/0.9)."""
    srv = server("tcp-server")
    r = curl(run, "--http0.9", "-A", "Mozilla/lm3nitro 1.0", f"http://127.0.0.1:{srv.port}/")
    r.expect(0)
    assert r.out == "tcp-server over TCP is working"
    srv.wait_for("[*] Received from ")
    (peer, size, head), = blocks(srv)
    assert head[0] == "GET / HTTP/1.1"
    assert "User-Agent: Mozilla/lm3nitro 1.0" in head
    assert head[-1] == ""


def test_one_line_message_stays_on_one_line(server, run, prog):
    srv = server("tcp-server")
    run([prog("tcp-client"), "--send", "hello there", "127.0.0.1", srv.port]).expect(0)
    srv.wait_for(": hello there")
    assert re.search(r"^\[\*\] Received from 127\.0\.0\.1:\d+: hello there$", srv.out(), re.M)


def test_udp_datagram_with_line_breaks(server, run, prog):
    srv = server("udp-server")
    run([prog("udp-client"), "127.0.0.1", srv.port, "-"], input=b"first\r\nsecond\r\n").expect(0)
    run([prog("udp-client"), "127.0.0.1", srv.port, "just one"]).expect(0)
    srv.wait_for(": just one")
    (peer, size, lines), = blocks(srv)
    assert (size, lines) == (15, ["first", "second"])


# ---- a peer's bytes stay escaped ------------------------------------------------------------

HOSTILE = ("GET / HTTP/1.1\r\n"
           "X-Title: \x1b]0;pwned\x07\x1b[2J\x1b[31mred\r\n"
           "X-Overwrite: visible\rhidden\r\n"
           "X-Forge: x\r\n[!] 10.9.9.9:1: forged error\r\n"
           "\r\n")


def assert_no_control_bytes(data):
    bad = sorted({b for b in data if (b < 0x20 and b != 0x0a) or b >= 0x7f})
    assert not bad, f"control bytes {bad} reached the log:\n{data!r}"


@pytest.mark.parametrize("mode", ["default", "http-v"])
def test_control_bytes_in_a_header_are_escaped(server, run, prog, mode):
    srv = server("tcp-server", *(["--http", "-v"] if mode == "http-v" else []))
    run([prog("tcp-client"), "--send", HOSTILE, "127.0.0.1", srv.port])
    srv.wait_for("[*] Received from ")
    assert_no_control_bytes(srv.out_bytes())
    lines = srv.lines()
    assert "  | X-Title: \\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred" in lines
    assert "  | X-Overwrite: visible\\rhidden" in lines
    # The peer's "[!]" is a line of its message, not a log line of its own.
    assert "  | [!] 10.9.9.9:1: forged error" in lines
    assert not [x for x in lines if x.startswith("[!]")]


def test_control_bytes_in_a_datagram_are_escaped(server, run, prog):
    srv = server("udp-server")
    run([prog("udp-client"), "127.0.0.1", srv.port, "-"],
        input=b"one\x1b[2J\r\n\x1b]0;t\x07two\x9b\r\n").expect(0)
    srv.wait_for("[*] Received from ")
    assert_no_control_bytes(srv.out_bytes())
    (peer, size, lines), = blocks(srv)
    assert lines == ["one\\x1b[2J", "\\x1b]0;t\\x07two\\x9b"]


def test_very_long_line_is_cut_with_a_note(server, run, prog):
    srv = server("tcp-server")
    run([prog("tcp-client"), "--send", "A" * 3000 + "\r\nend\r\n", "127.0.0.1", srv.port])
    srv.wait_for("  | end")
    (peer, size, lines), = blocks(srv)
    assert size == 3007
    assert lines[0] == "A" * 1024
    assert "  + (line cut: 1976 more bytes)" in srv.lines()


# ---- --timestamps ---------------------------------------------------------------------------

def assert_stamped(srv):
    """Every line of srv's log starts with an ISO 8601 UTC time of now."""
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = srv.lines()
    assert lines
    for line in lines:
        m = STAMP_RE.match(line)
        assert m, f"no time stamp: [{line}]\n{srv.out()}"
        when = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
        when = when.replace(tzinfo=datetime.timezone.utc)
        assert abs((now - when).total_seconds()) < 600, f"{m.group(1)} is not now ({now})"
    return [STAMP_RE.sub("", x, count=1) for x in lines]


def test_timestamps_on_every_line_tcp(server, run, prog, pki):
    srv = server("tcp-server", "--tls", "--http", "-v", "--timestamps", *pki.server_args())
    run([prog("tcp-client"), "--tls", "--cafile", pki.ca, "-A", "stamped/1",
         f"https://localhost:{srv.port}/"]).expect(0)
    srv.wait_for("  | User-Agent: stamped/1")
    srv.stop_checked()
    text = assert_stamped(srv)
    assert text[0].startswith("[*] Listening on ")
    assert "  | User-Agent: stamped/1" in text
    assert any(x.startswith("[*]   protocol: TLSv1.") for x in text)  # -v's session too
    assert text[-1].startswith("[*] Stopped: 1 served")


def test_timestamps_on_every_line_udp(server, run, prog):
    srv = server("udp-server", "--timestamps")
    run([prog("udp-client"), "127.0.0.1", srv.port, "-"], input=b"a\nb\n").expect(0)
    run([prog("udp-client"), "127.0.0.1", srv.port, "ping"]).expect(0)
    srv.wait_for(": ping")
    srv.stop_checked()
    text = assert_stamped(srv)
    assert "  | a\\n" in text and "  | b\\n" in text


# ---- -q/--quiet -----------------------------------------------------------------------------

def test_quiet_keeps_listening_errors_and_summary_tcp(server, run, prog, pki):
    srv = server("tcp-server", "--tls", "--http", "-q", *pki.server_args())
    for _ in range(2):
        run([prog("tcp-client"), "--tls", "--cafile", pki.ca,
             f"https://localhost:{srv.port}/"]).expect(0)
    # Plain HTTP on the TLS port: answered 400 and logged as a [!] line.
    r = run([prog("tcp-client"), f"http://127.0.0.1:{srv.port}/"])
    assert "400" in r.out
    srv.wait_for("[!] ")
    srv.stop_checked()
    lines = srv.lines()
    assert lines[0].startswith("[*] Listening on ")
    assert lines[-1] == "[*] Stopped: 2 served, 1 failed handshakes, 0 failed"
    middle = lines[1:-1]
    assert len(middle) == 1 and middle[0].startswith("[!] 127.0.0.1:"), srv.out()


def test_quiet_udp(server, run, prog):
    srv = server("udp-server", "--quiet")
    for i in range(3):
        run([prog("udp-client"), "127.0.0.1", srv.port, f"m{i}"]).expect(0)
    srv.stop_checked()
    assert srv.lines() == [f"[*] Listening on {srv.hostport()}",
                           "[*] Stopped: 3 served, 0 failed handshakes, 0 failed"]


def test_quiet_and_verbose_contradict(run, prog):
    r = run([prog("tcp-server"), "-q", "-v"])
    r.expect(2)
    assert "--quiet and --verbose" in r.err


# ---- clients at once ------------------------------------------------------------------------

def test_two_clients_never_interleave(server, start, prog):
    """Clients sending many-line messages at once: each message's lines
    stay together under its own header, whole and in order."""
    srv = server("tcp-server", "--max-clients", "16")
    clients, lines_each = 24, 60
    procs = []
    for c in range(clients):
        msg = "".join(f"client {c:02d} line {i:02d}\r\n" for i in range(lines_each))
        procs.append(start([prog("tcp-client"), "--send", msg, "127.0.0.1", srv.port]))
    for p in procs:
        assert p.wait(60) == 0, p.report()
    srv.wait_for("[*] Received from ", count=clients, timeout=30)
    seen = set()
    for peer, size, lines in blocks(srv):
        assert len(lines) == lines_each, f"{peer}: {lines}"
        c = lines[0].split()[1]
        assert lines == [f"client {c} line {i:02d}" for i in range(lines_each)]
        seen.add(c)
    assert len(seen) == clients
