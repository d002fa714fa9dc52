"""-v like curl's and --trace.

-v: "* Connected to NAME (ADDR) port P", each TLS/DTLS handshake message
with its direction and size, alerts by name, the session; tcp-client's
request head ("> ") and response head ("< ") and a closing line; the
servers log each client's handshake. --trace FILE: every block both ways,
time-stamped, in hex and text: the plaintext and the records on the wire.
A hostile peer's bytes never reach the terminal raw.
"""

import json
import re
import socket
import subprocess
import threading
from datetime import datetime

import pytest

from harness.system import cert_fingerprint, need
from harness.waits import free_port, wait_tcp_listening, wait_udp_bound, wait_until

# (label, program family, -v protocol name, client options)
CASES = [
    ("tls12", "tls", "TLS 1.2", ["--tls-max", "1.2"]),
    ("tls13", "tls", "TLS 1.3", ["--tls-min", "1.3"]),
    ("dtls12", "dtls", "DTLS 1.2", []),
]
UA = "Mozilla/lm3nitro 1.0"


def client_cmd(prog, family, port, extra, pki):
    """A verbose client for family ("tls" or "dtls") to localhost:port."""
    if family == "tls":
        return [prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "-A", UA] + extra + \
            ["localhost", port]
    return [prog("udp-client"), "-v", "--dtls", "--cafile", pki.ca, "--no-reply"] + extra + \
        ["localhost", port, "hello"]


def assert_handshake_shown(err, proto, dtls):
    """-v's lines for a full handshake seen from the client."""
    lines = err.splitlines()
    assert any(re.fullmatch(r"\* Connected to localhost \(127\.0\.0\.1\) port \d+", x)
               for x in lines), err
    assert re.search(r"^\* D?TLS 1\.[23] \(OUT\), handshake, ClientHello \(\d+ bytes\)$", err,
                     re.M), err
    for msg in ("ServerHello", "Certificate"):
        assert re.search(rf"^\* {proto} \(IN\), handshake, {msg} \(\d+ bytes\)$", err, re.M), \
            f"no {msg} in:\n{err}"
    if dtls:
        assert re.search(r"^\* DTLS 1\.2 \(IN\), handshake, HelloVerifyRequest \(\d+ bytes\)$",
                         err, re.M), err
        # The cookie exchange: a second ClientHello, with the cookie.
        assert len(re.findall(r"\(OUT\), handshake, ClientHello", err)) == 2, err
    if proto == "TLS 1.3":
        for msg in ("EncryptedExtensions", "CertificateVerify", "Finished"):
            assert f"* TLS 1.3 (IN), handshake, {msg} (" in err, err
    # The messages come before the session summary, which follows them.
    hello = err.index("ServerHello")
    assert err.index("verification: ok (CA chain)") > hello


@pytest.mark.parametrize("label,family,proto,extra", CASES, ids=[c[0] for c in CASES])
def test_verbose_handshake_against_our_servers(server, run, prog, pki, label, family, proto,
                                               extra):
    program = "tcp-server" if family == "tls" else "udp-server"
    srv = server(program, f"--{family}", *pki.server_args(), "-v",
                 *(["--http"] if family == "tls" else []))
    r = run(client_cmd(prog, family, srv.port, extra, pki))
    r.expect(0)
    assert_handshake_shown(r.err, proto, family == "dtls")
    # The server logs the same handshake, each line naming the client.
    who = r"\[\*\] 127\.0\.0\.1:\d+: "
    srv.wait_for("(IN), handshake, ClientHello")
    srv.wait_for("verification: ")  # its session summary: the handshake is over
    log = srv.out()
    assert re.search(rf"^{who}{proto} \(OUT\), handshake, ServerHello \(\d+ bytes\)$", log,
                     re.M), log
    assert re.search(rf"^{who}{proto} \(OUT\), handshake, Certificate \(", log, re.M), log
    if family == "dtls":
        assert re.search(rf"^{who}DTLS 1\.2 \(OUT\), handshake, HelloVerifyRequest \(", log,
                         re.M), log
        assert len(re.findall(r"\(IN\), handshake, ClientHello", log)) == 2, log


def openssl_server(start, pki, family, label, port):
    """s_server on 127.0.0.1:port: -www for TLS, DTLS 1.2 with its cookie
    exchange (-listen); stdin stays open (at its end s_server stops)."""
    need("openssl")
    cmd = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", pki.cert(),
           "-key", pki.key()]
    if family == "tls":
        cmd += ["-tls1_2" if label == "tls12" else "-tls1_3", "-www"]
    else:
        cmd += ["-dtls1_2", "-listen"]
    p = start(cmd, stdin=subprocess.PIPE)
    p.wait_for("ACCEPT")
    gone = lambda: not p.alive()  # noqa: E731
    if family == "tls":
        wait_tcp_listening(port, gone=gone)
    else:
        wait_udp_bound(port, gone=gone)
    return p


@pytest.mark.parametrize("label,family,proto,extra", CASES, ids=[c[0] for c in CASES])
def test_verbose_handshake_against_openssl(start, run, prog, pki, label, family, proto,
                                           extra):
    port = free_port()
    openssl_server(start, pki, family, label, port)
    r = run(client_cmd(prog, family, port, extra, pki))
    r.expect(0)
    assert_handshake_shown(r.err, proto, family == "dtls")


def json_record(err):
    """The --json session object on stderr."""
    return json.loads(next(x for x in err.splitlines() if x.startswith("{")))


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_verbose_shows_the_heads_and_a_closing_line(server, run, prog, pki, tls):
    sec = ["--tls", *pki.server_args()] if tls else []
    srv = server("tcp-server", "--http", *sec)
    r = run([prog("tcp-client"), "-v", "--json", "-A", UA] +
            (["--tls", "--cafile", pki.ca] if tls else []) + ["localhost", srv.port])
    r.expect(0)
    lines = r.err.splitlines()
    assert f"> User-Agent: {UA}" in lines
    assert "> GET / HTTP/1.1" in lines and f"> Host: localhost:{srv.port}" in lines
    assert "< HTTP/1.1 200 OK" in lines
    assert ">" in lines and "<" in lines  # each head's end
    assert lines.index("> GET / HTTP/1.1") < lines.index("< HTTP/1.1 200 OK")
    # The body is the reply's, on stdout, not in the head lines.
    assert "tcp-server over" in r.out and not any("working" in x for x in lines)
    js = json_record(r.err)
    m = re.search(r"^\* HTTP 200, received (\d+) bytes in [0-9.]+ ms \(sent (\d+)\)$",
                  r.err, re.M)
    assert m, r.err
    assert int(m.group(1)) == js["bytes_received"] and int(m.group(2)) == js["bytes_sent"]


def test_connected_line_names_the_resolve_name(server, run, prog, pki):
    srv = server("tcp-server", "--tls", *pki.server_args("lm3nitro"), "--http")
    r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "--resolve",
             f"lm3nitro.com:{srv.port}:127.0.0.1", "lm3nitro.com", srv.port])
    r.expect(0)
    assert f"* Connected to lm3nitro.com (127.0.0.1) port {srv.port}" in r.err.splitlines()
    assert "> Host: lm3nitro.com:" in r.err
    assert "verification: ok (CA chain)" in r.err


def test_verification_says_pinned(server, run, prog, pki):
    srv = server("tcp-server", "--tls", *pki.server_args(), "--http")
    r = run([prog("tcp-client"), "-v", "--json", "--tls", "--pin", cert_fingerprint(pki.cert()),
             "localhost", srv.port])
    r.expect(0)
    assert "* verification: ok (pinned)" in r.err.splitlines()
    assert json_record(r.err)["verification"] == "ok (pinned)"


def test_alerts_by_name(server, run, prog, pki):
    """An unknown CA: the client's fatal alert is named on both sides."""
    srv = server("tcp-server", "--tls", *pki.server_args("unknownca"), "-v")
    r = run([prog("tcp-client"), "-v", "--tls", "--tls-max", "1.2", "--cafile", pki.ca,
             "--send", "x", "localhost", srv.port])
    r.expect(4)
    assert "* TLS 1.2 (OUT), alert, unknown_ca (fatal)" in r.err.splitlines(), r.err
    srv.wait_for("TLS 1.2 (IN), alert, unknown_ca (fatal)")


# ---- --trace ---------------------------------------------------------------------

HEADER = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) (=> Send|<= Recv|==) (.*)$")
COUNT = re.compile(r", (\d+) bytes \(0x([0-9a-f]+)\)$")
HEXLINE = re.compile(r"^([0-9a-f]{4,}): ")


def parse_trace(text):
    """The blocks of a trace: time, peer, direction, what, and the bytes
    its hex lines hold. Fails on any line that is neither, on offsets out
    of order and on a count that disagrees with the bytes (so a block cut
    by another thread's would show)."""
    blocks = []
    for n, line in enumerate(text.splitlines(), 1):
        m = HEADER.match(line)
        if m:
            datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
            blocks.append({"time": m.group(1), "peer": m.group(2), "dir": m.group(3),
                           "what": m.group(4), "data": b""})
            continue
        h = HEXLINE.match(line)
        assert h and blocks, f"trace line {n} is neither a header nor hex: {line!r}"
        b = blocks[-1]
        assert int(h.group(1), 16) == len(b["data"]), f"trace line {n}: offset out of order"
        hexpart = line[h.end():h.end() + 48]
        b["data"] += bytes.fromhex(hexpart)
        text_col = line[h.end() + 49:]
        assert len(text_col) == len(bytes.fromhex(hexpart)), f"trace line {n}: {line!r}"
    for b in blocks:
        c = COUNT.search(b["what"])
        if b["dir"] == "==":
            continue
        assert c, f"no byte count in {b['what']!r}"
        assert int(c.group(1)) == int(c.group(2), 16)
        if "HelloVerifyRequest" in b["what"] and not b["data"]:
            continue  # a DTLS server's: OpenSSL shows only its size (its record has the bytes)
        assert len(b["data"]) == int(c.group(1)), f"{b['what']}: {len(b['data'])} bytes"
    return blocks


def data_of(blocks, direction, peer=None):
    """The application bytes of one direction ("=> Send" or "<= Recv")."""
    return b"".join(b["data"] for b in blocks if b["dir"] == direction and
                    b["what"].startswith("data") and (peer is None or b["peer"] == peer))


def records(blocks, direction):
    return [b for b in blocks if b["dir"] == direction and " record, " in b["what"]]


def test_trace_tls_has_plaintext_and_records(server, run, prog, pki, tmp_path):
    srv = server("tcp-server", "--tls", *pki.server_args(), "--http")
    trace = tmp_path / "client.trace"
    r = run([prog("tcp-client"), "--trace", trace, "--json", "--tls", "--cafile", pki.ca,
             "-A", UA, "localhost", srv.port])
    r.expect(0)
    assert trace.stat().st_mode & 0o077 == 0, "a trace holds the plaintext: 0600"
    blocks = parse_trace(trace.read_text())
    js = json_record(r.err)
    sent, got = data_of(blocks, "=> Send"), data_of(blocks, "<= Recv")
    # The plaintext: the whole request and reply, byte for byte what --json counts.
    assert sent.startswith(b"GET / HTTP/1.1\r\n") and f"User-Agent: {UA}".encode() in sent
    assert got.startswith(b"HTTP/1.1 200 OK\r\n") and got.endswith(r.out_bytes[-20:])
    assert len(sent) == js["bytes_sent"] and len(got) == js["bytes_received"]
    # The wire: whole TLS records, the handshake's and the encrypted data's.
    out_records, in_records = records(blocks, "=> Send"), records(blocks, "<= Recv")
    assert out_records and in_records
    for b in out_records + in_records:
        d = b["data"]
        assert d[0] in (20, 21, 22, 23) and d[1] == 3 and len(d) == 5 + (d[3] << 8 | d[4])
    assert out_records[0]["what"].startswith("TLS record, handshake, ")
    app = [b for b in out_records if "application_data" in b["what"]]
    assert app and not any(UA.encode() in b["data"] for b in out_records), \
        "the User-Agent went on the wire in clear"
    assert sum(len(b["data"]) for b in app) > len(sent)  # headers, tags: more than the text
    # The handshake's messages and the connect, in order.
    whats = [b["what"] for b in blocks]
    assert whats[0].startswith("Info: Connected to localhost (127.0.0.1) port ")
    assert any(w.startswith("TLS 1.3 handshake, ClientHello, ") for w in whats)
    assert any(w.startswith("TLS 1.3 handshake, Certificate, ") for w in whats)
    assert [b["time"] for b in blocks] == sorted(b["time"] for b in blocks)


def test_trace_dtls_client_and_server(server, run, prog, pki, tmp_path):
    strace = tmp_path / "server.trace"
    srv = server("udp-server", "--dtls", *pki.server_args(), "--trace", strace)
    ctrace = tmp_path / "client.trace"
    r = run([prog("udp-client"), "--trace", ctrace, "--json", "--dtls", "--cafile", pki.ca,
             "localhost", srv.port, "hello dtls"])
    r.expect(0)
    js = json_record(r.err)
    blocks = parse_trace(ctrace.read_text())
    assert data_of(blocks, "=> Send") == b"hello dtls"
    assert data_of(blocks, "<= Recv") == r.out_bytes
    assert js["bytes_sent"] == 10 and js["bytes_received"] == len(r.out_bytes)
    for b in records(blocks, "=> Send") + records(blocks, "<= Recv"):
        d = b["data"]
        assert b["what"].startswith("DTLS record, ") and d[1] == 0xfe
        assert len(d) == 13 + (d[11] << 8 | d[12])
    assert any("HelloVerifyRequest" in b["what"] for b in blocks)
    # The server's file: its cookie exchange and the session, naming the
    # client; its last block is its close_notify.
    wait_until(lambda: "=> Send DTLS 1.2 alert, close_notify" in strace.read_text(), 30,
               "the server's close_notify in its trace")
    sblocks = parse_trace(strace.read_text())
    me = sblocks[0]["peer"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", me)
    assert data_of(sblocks, "<= Recv", me) == b"hello dtls"
    assert data_of(sblocks, "=> Send", me) == r.out_bytes
    assert any(b["dir"] == "=> Send" and "HelloVerifyRequest" in b["what"] for b in sblocks)


def test_trace_plaintext_says_it_is_the_wire(server, run, prog, tmp_path):
    srv = server("tcp-server", "--echo")
    r = run([prog("tcp-client"), "--trace", "-", "--send", "ping", "127.0.0.1", srv.port])
    r.expect(0)
    assert r.out.endswith("ping")  # the reply, after the trace on the same stdout
    blocks = parse_trace(r.out[:-len("ping")])
    sends = [b for b in blocks if b["dir"] == "=> Send"]
    assert len(sends) == 1 and sends[0]["data"] == b"ping"
    assert "plaintext: as on the wire" in sends[0]["what"]
    assert not records(blocks, "=> Send")


def test_trace_server_many_clients_one_file(server, start, prog, pki, tmp_path):
    """Clients at once: every block whole and naming its client."""
    trace = tmp_path / "server.trace"
    srv = server("tcp-server", "--tls", *pki.server_args(), "--http", "--trace", trace)
    clients = [start([prog("tcp-client"), "--tls", "--cafile", pki.ca, "-A", f"client-{i}",
                      "--json", "localhost", srv.port]) for i in range(6)]
    for c in clients:
        assert c.wait(60) == 0, c.report()
    # Each client's last block: the server's close_notify (logs aside).
    wait_until(lambda: trace.read_text().count("=> Send TLS 1.3 alert, close_notify") == 6, 30,
               "six close_notify blocks in the server's trace")
    blocks = parse_trace(trace.read_text())
    for i, c in enumerate(clients):
        mine = [b for b in blocks if f"User-Agent: client-{i}".encode() in b["data"]]
        assert len(mine) == 1 and mine[0]["what"].startswith("data"), f"client-{i}"
        peer = mine[0]["peer"]
        sent = data_of(blocks, "<= Recv", peer)
        assert sent.startswith(b"GET / HTTP/1.1\r\n")
        assert data_of(blocks, "=> Send", peer) == c.out_bytes()
        assert any(b["peer"] == peer and "ClientHello" in b["what"] for b in blocks)


def test_trace_to_a_bad_file_is_a_usage_error(run, prog):
    r = run([prog("tcp-client"), "--trace", "/nonexistent/dir/t", "127.0.0.1", "9"])
    r.expect(2)
    assert "/nonexistent/dir/t" in r.err and len(r.err.splitlines()) == 1
    r = run([prog("udp-server"), "--trace", ""])
    r.expect(2)


# ---- a hostile server's bytes ----------------------------------------------------

EVIL = b"\x1b]0;pwned\x07\x1b[2J\x1b[31m"


@pytest.fixture
def hostile_http():
    """A server that answers one request with escape sequences in its
    status line and headers; (port, what it received)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    got = []

    def serve():
        c, _ = s.accept()
        with c:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            got.append(data)
            c.sendall(b"HTTP/1.1 200 OK" + EVIL + b"\r\nX-Evil: " + EVIL +
                      b"\r\nContent-Length: 2\r\n\r\nhi")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield s.getsockname()[1], got
    s.close()
    t.join(10)


def test_hostile_headers_never_reach_the_terminal_raw(hostile_http, run, prog, tmp_path):
    port, _ = hostile_http
    trace = tmp_path / "t"
    r = run([prog("tcp-client"), "-v", "--trace", trace, "127.0.0.1", port])
    r.expect(0)
    assert b"\x1b" not in r.err_bytes and b"\x07" not in r.err_bytes
    assert "< X-Evil: \\x1b]0;pwned\\x07\\x1b[2J\\x1b[31m" in r.err.splitlines()
    assert "< HTTP/1.1 200 OK\\x1b]0;pwned" in r.err
    text = trace.read_bytes()
    assert b"\x1b" not in text and b"\x07" not in text
    assert EVIL in data_of(parse_trace(text.decode()), "<= Recv")  # all there, in hex
