"""Hostile input, for every program (was attack_hostile_input.sh).

Servers: random bytes, oversized and truncated TLS records (before and
after the handshake), a corrupted record, TLS to the plaintext port; for
udp-server --dtls random datagrams, DTLS records with a bogus length and
junk inside a session. Each costs at most one log line (TLS: exactly one
"[!]"), and the server stays up and serves the next client exactly.
Clients: a server that answers with random bytes, an oversized or
truncated record, plaintext, a reset, broken HTTP framing: one clear stderr
line and the documented exit code. Absurd arguments for every program:
exactly one stderr line naming the culprit, exit 2, and no connection made
(a recording listener sees none).
(test_server_resilience has plaintext HTTP to the TLS port, 0xff garbage,
half a ClientHello, a silent client, a reset mid-reply.)
"""

import os
import re
import socket
import sys

import pytest

from harness.system import fd_count, need, proc_status
from harness.waits import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
TLS_PEER = os.path.join(HERE, "hostile", "tls_peer.py")
DTLS_JUNK = os.path.join(HERE, "hostile", "dtls_junk.py")
EVIL_SERVER = os.path.join(HERE, "hostile", "evil_server.py")
RECORDER = os.path.join(HERE, "hostile", "recorder.py")


def assert_one_line(text, what="stderr"):
    """text is exactly one line (a trailing newline allowed)."""
    t = text[:-1] if text.endswith("\n") else text
    assert t and "\n" not in t, f"{what}: expected exactly one line, got [{text}]"


def lines_with(proc, needle):
    """proc's stdout lines that contain needle (the last one even if its
    newline has not come yet)."""
    return [x for x in proc.out().split("\n") if needle in x]


def wait_ready_fd_closed(srv, timeout=10):
    """Waits until the server has closed its --ready-fd pipe (it writes the
    line, then closes it: a descriptor count taken in between is one too
    many)."""
    n = srv.cmd[srv.cmd.index("--ready-fd") + 1]

    def closed():
        try:
            return not os.readlink(f"/proc/{srv.pid}/fd/{n}").startswith("pipe:")
        except FileNotFoundError:
            return True

    wait_until(closed, timeout, f"{srv.label} to close its ready descriptor")


# ---------------------------------------------------------------------------
# Servers against hostile peers.

TLS_PEER_MODES = ["random", "oversize-hello", "garbage-hello", "cut-record", "bad-mac",
                  "oversize-app", "cut-app"]
# What the [!] line must say. The bash test matched OpenSSL's reason text
# for random and oversize-hello ("wrong version number", "packet length too
# long"); that wording is OpenSSL's, so here the line must carry a reason.
HANDSHAKE_REASON = re.compile(r"TLS handshake failed: (?!unknown error)\S")
TLS_PEER_WHY = {
    "random": HANDSHAKE_REASON,
    "oversize-hello": HANDSHAKE_REASON,
    "cut-record": re.compile(re.escape("peer closed the connection during the TLS handshake")),
}


@pytest.mark.parametrize("kind", TLS_PEER_MODES)
def test_tls_server_survives_hostile_tls_peer(server, run, prog, pki, kind):
    srv = server("tcp-server", "--tls", *pki.server_args(), "--handshake-timeout", "10")
    r = run([sys.executable, TLS_PEER, kind, srv.port, pki.ca], timeout=20)
    r.expect(0, f"hostile TLS peer '{kind}'")
    srv.wait_for_count("[!]", 1, timeout=8)
    line = lines_with(srv, "[!]")[0]
    print(f"tcp-server --tls, {kind}: {line}")
    assert srv.alive(), f"tcp-server --tls died after '{kind}'\n{srv.report()}"
    r = run([prog("tcp-client"), "--tls", "--cafile", pki.ca, "--send", f"after {kind}",
             "localhost", srv.port])
    r.expect(0, f"a normal client after '{kind}'")
    assert r.out == "tcp-server over TLS is working"
    srv.wait_for(f": after {kind}")
    srv.stop_checked()
    assert srv.count("[!]") == 1, f"[!] lines: one per hostile peer\n{srv.out()}"
    # The log says what was wrong, not just that something was.
    if kind in TLS_PEER_WHY:
        assert TLS_PEER_WHY[kind].search(line), f"the [!] line for '{kind}': {line}"


def test_tls_to_the_plaintext_port(server, run, prog, pki):
    """Just a request there (logged escaped, answered in plaintext), and
    tcp-client --tls fails with one line, exit 4, quoting the plaintext
    answer and naming the fix."""
    srv = server("tcp-server")
    r = run([prog("tcp-client"), "--tls", "--cafile", pki.ca, "localhost", srv.port])
    r.expect(4, "tcp-client --tls against a plaintext server")
    assert_one_line(r.err, "tcp-client's stderr")
    assert "plaintext" in r.err and "tcp-server over" in r.err and "drop --tls" in r.err
    srv.wait_for(r"\x16\x03\x01")
    assert srv.count("[*] Received from") == 1, "requests logged"
    assert srv.count("[!]") == 0, "[!] lines"
    r = run([prog("tcp-client"), "--send", "plain after TLS", "127.0.0.1", srv.port])
    r.expect(0, "a normal client after the TLS one")
    assert r.out == "tcp-server over TCP is working"


def handshake_lines(srv):
    """The server's [!] lines other than its not-DTLS notes."""
    return [x for x in lines_with(srv, "[!]") if "not DTLS" not in x]


def test_dtls_server_junk_at_the_listener_and_inside_a_session(server, start, run, prog, pki,
                                                               tmp_path):
    """Junk at a DTLS listener (random datagrams, records whose length
    field lies, a ClientHello cut short, HTTP): no reply, no session, no
    thread or descriptor, at most a log line each (RFC 6347 4.1.2.7:
    dropped silently is fine too). Junk inside a session (after a real
    cookie exchange) is dropped like a lost datagram: the handshake times
    out with its one "[!]" line. Datagrams that are not DTLS at all get
    one "[!] ... not DTLS" line per peer and minute, at most 20 a minute."""
    need("openssl")
    srv = server("udp-server", "--dtls", *pki.server_args(), "--handshake-timeout", "5")
    wait_ready_fd_closed(srv)
    th0, fd0 = proc_status(srv.pid, "Threads"), fd_count(srv.pid)
    release = tmp_path / "junk.release"
    junk = start([sys.executable, DTLS_JUNK, srv.port, "--hold-until", release])
    # The in-session peer is held (until release) while its descriptor is
    # counted, and until its handshake has timed out.
    junk.wait_for("in-session junk sent to", timeout=30)
    srv.wait_for_count("[*] Accepted connection from", 1, timeout=10)
    noise = [x for x in srv.lines()
             if "[*] Listening on" not in x and "[*] Accepted connection from" not in x]
    assert len(noise) <= 26, f"{len(noise)} log lines for 26 junk datagrams: {srv.out()}"
    print(f"udp-server --dtls: {len(noise)} log line(s) for 26 junk datagrams at the listener")
    assert proc_status(srv.pid, "Threads") == th0, "udp-server threads after the junk"
    assert fd_count(srv.pid) == fd0 + 1, "udp-server descriptors (the one session)"
    print("udp-server --dtls: " + ";".join(
        x for x in junk.lines() if not x.startswith("in-session")))
    srv.wait_for("DTLS handshake timed out", timeout=10)
    assert len(handshake_lines(srv)) == 1, f"handshake [!] lines\n{srv.out()}"
    release.touch()
    assert junk.wait(timeout=20) == 0, f"the junk sender: {junk.err()}"
    assert srv.alive(), f"udp-server --dtls died\n{srv.report()}"
    r = run([prog("udp-client"), "--dtls", "--cafile", pki.ca, "localhost", srv.port,
             "after the junk"], timeout=20)
    r.expect(0, "udp-client --dtls after the junk")
    assert r.out == "udp-server is working"
    srv.stop_checked()
    assert len(handshake_lines(srv)) == 1, f"handshake [!] lines in all\n{srv.out()}"
    junk_lines = [x for x in lines_with(srv, "[!]") if "not DTLS" in x]
    assert len(junk_lines) <= 20, f"{len(junk_lines)} not-DTLS lines: a minute's cap is 20"


# ---------------------------------------------------------------------------
# Clients against hostile servers.

def against_evil(server, run, kind, mode, client_cmd):
    """Runs client_cmd against an evil server answering with mode (HOST
    PORT appended; for udp, a message after them); returns its Result."""
    evil = server(sys.executable, EVIL_SERVER, kind, mode)
    cmd = list(client_cmd) + ["localhost", evil.port] + (["hello"] if kind == "udp" else [])
    r = run(cmd, timeout=20)
    if kind == "tcp":
        evil.wait(timeout=30)  # done after its one client (a SIGTERM could hit its exit)
    evil.stop_checked()
    print(f"[{os.path.basename(str(cmd[0]))} vs {kind} {mode}]: exit {r.rc}: {r.err.strip()}")
    return r


@pytest.mark.parametrize("mode", ["random", "oversize", "cut-record", "plaintext", "vanish"])
def test_tls_client_against_hostile_server(server, run, prog, pki, mode):
    r = against_evil(server, run, "tcp", mode,
                     [prog("tcp-client"), "--tls", "--cafile", pki.ca, "-t", "5"])
    r.expect(4, f"tcp-client --tls against a server sending '{mode}'")
    assert_one_line(r.err, f"tcp-client's stderr ({mode})")
    assert r.out == "", f"tcp-client's stdout ({mode})"


@pytest.mark.parametrize("mode,want", [
    ("reset-mid-reply", "reset"),
    ("short-body", "cut short"),
    ("huge-length", "Content-Length"),
    ("bad-chunk", "zzzz"),
    ("two-lengths", "Content-Length"),
])
def test_http_client_against_broken_reply(server, run, prog, mode, want):
    r = against_evil(server, run, "tcp", mode, [prog("tcp-client"), "--body-only", "-t", "5"])
    r.expect(1, f"tcp-client --body-only against '{mode}'")
    assert_one_line(r.err, f"tcp-client's stderr ({mode})")
    assert want in r.err, f"tcp-client's error ({mode})"


def test_http_client_against_a_reply_that_is_not_http(server, run, prog):
    """Written once as it came, or refused; never twice."""
    r = against_evil(server, run, "tcp", "not-http",
                     [prog("tcp-client"), "--body-only", "-t", "5"])
    if r.rc == 0:
        assert r.out == "not an HTTP response at all\n"
    else:
        r.expect(1, "tcp-client --body-only against a reply that is not HTTP")
        assert_one_line(r.err, "tcp-client's stderr (not-http)")


def dtls_client(prog, pki):
    return [prog("udp-client"), "--dtls", "--cafile", pki.ca, "-t", "1", "--retries", "1"]


def test_dtls_client_drops_a_bad_dtls_record_as_noise(server, run, prog, pki):
    """A DTLS record that lies about its length is dropped as noise, as
    DTLS requires: the handshake times out (exit 5)."""
    r = against_evil(server, run, "udp", "bad-length", dtls_client(prog, pki))
    r.expect(5, "udp-client --dtls against a server sending 'bad-length'")
    assert_one_line(r.err, "udp-client's stderr (bad-length)")
    assert "timed out" in r.err


def test_dtls_client_names_an_answer_that_is_not_dtls(server, run, prog, pki):
    """Random bytes as the first answer are no DTLS server: said at once
    (exit 4, the datagram's size, its bytes escaped), not a timeout."""
    r = against_evil(server, run, "udp", "random", dtls_client(prog, pki))
    r.expect(4, "udp-client --dtls against a server sending 'random'")
    assert_one_line(r.err, "udp-client's stderr (random)")
    assert "a 200-byte datagram that is not DTLS" in r.err and "drop --dtls" in r.err
    assert all(" " <= ch <= "~" for ch in r.err.rstrip("\n")), "unescaped bytes on stderr"


def test_dtls_client_against_a_fatal_alert(server, run, prog, pki):
    r = against_evil(server, run, "udp", "alert", dtls_client(prog, pki))
    r.expect(4, "udp-client --dtls against a fatal alert")
    assert_one_line(r.err, "udp-client's stderr (alert)")
    # The bash test matched "handshake failure", OpenSSL's name for the
    # alert; the program's own words are that the handshake failed.
    assert "DTLS handshake failed" in r.err


# ---------------------------------------------------------------------------
# Absurd arguments: exit 2, one stderr line naming the culprit, nothing on
# stdout (for servers: no Listening line), no connection. The clients aim
# at a recording listener (TCP and UDP on one port).

class Recorder:
    """hostile.recorder, running; reached_since(n) says who reached it
    after its first n lines."""

    def __init__(self, proc):
        self.proc = proc
        self.port = proc.port

    def mark(self):
        return len(self.proc.lines())

    def reached_since(self, before):
        """The connections and datagrams recorded after line before, all
        of them: a marker connection and datagram sent now are recorded
        after anything that came earlier (an accept queue and a socket's
        datagram queue are in order), so once both are seen, nothing
        earlier is still on its way."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as c:
            tcp_mark = f"tcp connection from 127.0.0.1:{c.getsockname()[1]}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            u.sendto(b"mark", ("127.0.0.1", self.port))
            udp_mark = f"udp datagram from 127.0.0.1:{u.getsockname()[1]}"
            self.proc.wait_for(tcp_mark)
            self.proc.wait_for(udp_mark)
        return [x for x in self.proc.lines()[before:] if x not in (tcp_mark, udp_mark)]


@pytest.fixture
def recorder(server):
    return Recorder(server(sys.executable, RECORDER))


@pytest.fixture
def places(pki, tmp_path):
    """The values the argument tables name: {h}, {p} (set by the test),
    {missing} (a file in a directory that does not exist), {adir} (a
    directory where a file should be), {pki} (the PKI's directory)."""
    return {"h": "127.0.0.1", "missing": str(tmp_path / "no-such-dir" / "no-such-file.pem"),
            "adir": str(tmp_path), "pki": pki.dir}


def check_bad_args(run, recorder, culprit, cmd):
    before = recorder.mark()
    r = run(cmd, timeout=10)
    shown = " ".join(str(c) for c in [os.path.basename(cmd[0])] + cmd[1:])
    assert r.rc == 2, f"[{shown}]: exit {r.rc}, expected 2 (usage error); stderr: [{r.err}]"
    assert_one_line(r.err, f"stderr of [{shown}]")
    assert culprit in r.err, f"the error of [{shown}] does not name {culprit}: [{r.err}]"
    assert r.out == "", f"stdout of [{shown}]"
    reached = recorder.reached_since(before)
    assert not reached, f"[{shown}] exited 2 but reached the server first: {reached}"


def expand(words, places):
    return [w.format(**places) for w in words]


TCP_CLIENT_ARGS = [
    ("port-70000", "70000", ["{h}", "70000"]),
    ("timeout-negative", "'-1'", ["-t", "-1", "{h}", "{p}"]),
    ("timeout-1e9", "'1e9'", ["-t", "1e9", "{h}", "{p}"]),
    ("timeout-abc", "'abc'", ["-t", "abc", "{h}", "{p}"]),
    ("empty-host", "empty HOST", ["", "{p}"]),
    ("cafile-missing", "{missing}", ["--tls", "--cafile", "{missing}", "{h}", "{p}"]),
    ("cafile-directory", "{adir}", ["--tls", "--cafile", "{adir}", "{h}", "{p}"]),
    ("cert-missing", "{missing}",
     ["--tls", "--cert", "{missing}", "--key", "{pki}/client.key", "{h}", "{p}"]),
    ("key-missing", "{missing}",
     ["--tls", "--cert", "{pki}/client.crt", "--key", "{missing}", "{h}", "{p}"]),
    ("key-not-the-cert-s", "{pki}/server.key",
     ["--tls", "--cert", "{pki}/client.crt", "--key", "{pki}/server.key", "{h}", "{p}"]),
    ("unknown-cipher", "NO-SUCH-CIPHER",
     ["--tls", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256:NO-SUCH-CIPHER", "{h}", "{p}"]),
    ("unknown-ciphersuite", "TLS_NO_SUCH_SUITE",
     ["--tls", "--ciphersuites", "TLS_NO_SUCH_SUITE", "{h}", "{p}"]),
    ("keylog-directory", "{adir}", ["--tls", "--keylog", "{adir}", "{h}", "{p}"]),
    ("tls-min-1.0", "'1.0'", ["--tls", "--tls-min", "1.0", "{h}", "{p}"]),
    ("bad-pin", "sha256:zz", ["--tls", "--pin", "sha256:zz", "{h}", "{p}"]),
    ("send-file-missing", "{missing}", ["--send-file", "{missing}", "{h}", "{p}"]),
    ("send-file-directory", "{adir}", ["--send-file", "{adir}", "{h}", "{p}"]),
    ("output-missing-dir", "{missing}", ["-o", "{missing}", "{h}", "{p}"]),
    ("output-directory", "{adir}", ["-o", "{adir}", "{h}", "{p}"]),
]


@pytest.mark.parametrize("culprit,args", [pytest.param(c, a, id=i) for i, c, a in TCP_CLIENT_ARGS])
def test_tcp_client_absurd_arguments(run, prog, recorder, places, culprit, args):
    places = dict(places, p=recorder.port)
    check_bad_args(run, recorder, culprit.format(**places),
                   [prog("tcp-client")] + expand(args, places))


UDP_CLIENT_ARGS = [
    ("port-70000", "70000", ["{h}", "70000", "hi"]),
    ("timeout-negative", "'-1'", ["-t", "-1", "{h}", "{p}", "hi"]),
    ("timeout-1e9", "'1e9'", ["-t", "1e9", "{h}", "{p}", "hi"]),
    ("empty-host", "empty HOST", ["", "{p}", "hi"]),
    ("mtu-10", "'10'", ["--mtu", "10", "{h}", "{p}", "hi"]),
    ("dtls-mtu-10", "'10'", ["--dtls", "--mtu", "10", "{h}", "{p}", "hi"]),
    ("cafile-missing", "{missing}", ["--dtls", "--cafile", "{missing}", "{h}", "{p}", "hi"]),
    ("cafile-directory", "{adir}", ["--dtls", "--cafile", "{adir}", "{h}", "{p}", "hi"]),
    ("key-not-the-cert-s", "{pki}/server.key",
     ["--dtls", "--cert", "{pki}/client.crt", "--key", "{pki}/server.key", "{h}", "{p}", "hi"]),
    ("key-directory", "{adir}",
     ["--dtls", "--cert", "{pki}/client.crt", "--key", "{adir}", "{h}", "{p}", "hi"]),
    ("unknown-cipher", "NO-SUCH-CIPHER",
     ["--dtls", "--ciphers", "NO-SUCH-CIPHER", "{h}", "{p}", "hi"]),
    ("keylog-directory", "{adir}", ["--dtls", "--keylog", "{adir}", "{h}", "{p}", "hi"]),
    ("retries-negative", "'-1'", ["--retries", "-1", "{h}", "{p}", "hi"]),
    ("empty-message", "empty message", ["{h}", "{p}", ""]),
    ("empty-stdin", "empty message", ["{h}", "{p}", "-"]),  # stdin is /dev/null
]


@pytest.mark.parametrize("culprit,args", [pytest.param(c, a, id=i) for i, c, a in UDP_CLIENT_ARGS])
def test_udp_client_absurd_arguments(run, prog, recorder, places, culprit, args):
    places = dict(places, p=recorder.port)
    check_bad_args(run, recorder, culprit.format(**places),
                   [prog("udp-client")] + expand(args, places))


# {sec} is --tls for tcp-server, --dtls for udp-server.
SERVER_ARGS = [
    ("port-70000", "70000", ["-p", "70000"]),
    ("timeout-negative", "'-1'", ["-p", "0", "-t", "-1"]),
    ("timeout-1e9", "'1e9'", ["-p", "0", "-t", "1e9"]),
    ("max-clients-0", "'0'", ["-p", "0", "--max-clients", "0"]),
    ("handshake-timeout-negative", "'-1'", ["-p", "0", "--handshake-timeout", "-1"]),
    ("cert-missing", "{missing}",
     ["-p", "0", "{sec}", "--cert", "{missing}", "--key", "{pki}/server.key"]),
    ("key-directory", "{adir}",
     ["-p", "0", "{sec}", "--cert", "{pki}/server.crt", "--key", "{adir}"]),
    ("key-not-the-cert-s", "{pki}/client.key",
     ["-p", "0", "{sec}", "--cert", "{pki}/server.crt", "--key", "{pki}/client.key"]),
    ("unknown-cipher", "NO-SUCH-CIPHER",
     ["-p", "0", "{sec}", "--cert", "{pki}/server.crt", "--key", "{pki}/server.key",
      "--ciphers", "NO-SUCH-CIPHER"]),
    ("cafile-missing", "{missing}",
     ["-p", "0", "{sec}", "--cert", "{pki}/server.crt", "--key", "{pki}/server.key",
      "--verify-client", "--cafile", "{missing}"]),
    ("keylog-directory", "{adir}", ["-p", "0", "{sec}", "--self-signed", "--keylog", "{adir}"]),
]
SERVER_ONLY_ARGS = [
    ("tcp-server", "grace-1e9", "'1e9'", ["-p", "0", "--grace", "1e9"]),
    ("tcp-server", "grace-negative", "'-1'", ["-p", "0", "--grace", "-1"]),
    ("tcp-server", "unknown-ciphersuite", "TLS_NO_SUCH_SUITE",
     ["-p", "0", "--tls", "--self-signed", "--ciphersuites", "TLS_NO_SUCH_SUITE"]),
    ("udp-server", "mtu-10", "'10'", ["-p", "0", "--dtls", "--self-signed", "--mtu", "10"]),
]
SERVER_CASES = (
    [pytest.param(p, c, a, id=f"{p}-{i}")
     for p in ("tcp-server", "udp-server") for i, c, a in SERVER_ARGS]
    + [pytest.param(p, c, a, id=f"{p}-{i}") for p, i, c, a in SERVER_ONLY_ARGS])


@pytest.mark.parametrize("program,culprit,args", SERVER_CASES)
def test_server_absurd_arguments(run, prog, recorder, places, program, culprit, args):
    places = dict(places, sec="--tls" if program == "tcp-server" else "--dtls")
    check_bad_args(run, recorder, culprit.format(**places),
                   [prog(program)] + expand(args, places))
