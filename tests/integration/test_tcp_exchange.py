"""tcp-client <-> tcp-server, plaintext and TLS (verified against the test CA):
the default HTTP request and the server's log of it, --send, a 64 MiB
full-duplex --echo, --http with curl, -v, --resolve, --self-signed + --pin,
mutual TLS, SIGTERM's summary, key logging."""

import hashlib
import os
import re
import signal
import socket
import ssl
import stat
import threading

import pytest

from harness.modes import client_tls_args, reply_of, server_tls_args
from harness.system import cert_fingerprint, ipv6_works, need
from harness.waits import tcp_listening, wait_until

MODES = ["plain", "tls"]
# ::1 only where the host has an IPv6 loopback (as the bash test did: not a skip).
HOSTS = ["localhost", "127.0.0.1"] + (["::1"] if ipv6_works() else [])

UA = "Mozilla/lm3nitro 1.0\t(rv:130.0)"
UA_LOGGED = "Mozilla/lm3nitro 1.0\\t(rv:130.0)"  # as the server must print it
# "[*] Received from 127.0.0.1:50412 (93 bytes):", then "  | LINE" each.
BLOCK_RE = re.compile(r"\[\*\] Received from \S+ \((\d+) bytes\):")
ECHO_SIZE = 64 * 1024 * 1024


def received_block(srv):
    """The one multi-line message in srv's log: its byte count and the
    lines after its header ("  | ..." and "  + ..." notes), as printed."""
    lines = srv.lines()
    heads = [i for i, line in enumerate(lines) if BLOCK_RE.fullmatch(line)]
    assert len(heads) == 1, f"not one received block in the server log: [{srv.out()}]"
    block = []
    for line in lines[heads[0] + 1:]:
        if not line.startswith(("  |", "  +")):
            break
        block.append(line)
    return int(BLOCK_RE.fullmatch(lines[heads[0]]).group(1)), block


def received_lines(srv, text):
    """srv's log lines for a one-line message that was exactly text."""
    pattern = re.compile(r"\[\*\] Received from \S+: " + re.escape(text))
    return [line for line in srv.lines() if pattern.fullmatch(line)]


@pytest.fixture(scope="module")
def random_64m(tmp_path_factory):
    """64 MiB of random bytes in a file, and their SHA-256."""
    path = tmp_path_factory.mktemp("echo") / "random.bin"
    data = os.urandom(ECHO_SIZE)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("mode", MODES)
def test_default_request(server, run, prog, pki, mode, host):
    """The HTTP GET the seed meant to send, and the server's log of it."""
    bind = "::1" if host == "::1" else "127.0.0.1"
    srv = server("tcp-server", "-b", bind, *server_tls_args(pki, mode))
    hostport = f"[{host}]:{srv.port}" if ":" in host else f"{host}:{srv.port}"
    r = run([prog("tcp-client")] + client_tls_args(pki, mode) + ["-A", UA, host, srv.port])
    srv.wait_for("[*] Received from ")
    assert srv.count("[*] Accepted connection from ") >= 1
    # The whole request, a log line per line, control characters escaped.
    sent = (f"GET / HTTP/1.1\r\nHost: {hostport}\r\nUser-Agent: {UA}\r\nAccept: */*\r\n"
            "Connection: close\r\n\r\n")
    want = ["  | GET / HTTP/1.1", f"  | Host: {hostport}", f"  | User-Agent: {UA_LOGGED}",
            "  | Accept: */*", "  | Connection: close", "  |"]
    size, block = received_block(srv)
    assert block == want, f"server log lacks the lines {want}; it has: [{srv.out()}]"
    assert size == len(sent.encode()), f"byte count of the request in [{srv.out()}]"
    assert r.out == reply_of(mode), "reply on stdout"
    r.expect(0, f"tcp-client {mode} {host} (default HTTP request to the plain-text reply server)")
    assert r.err == "", "tcp-client stderr"


@pytest.mark.parametrize("mode", MODES)
def test_send(server, run, prog, pki, mode):
    srv = server("tcp-server", *server_tls_args(pki, mode), "--reply", f"custom reply, {mode}")
    r = run([prog("tcp-client")] + client_tls_args(pki, mode)
            + ["--send", "hello from the client", "localhost", srv.port])
    r.expect(0, "tcp-client --send")
    assert r.out == f"custom reply, {mode}", "reply"
    srv.wait_for(": hello from the client")


@pytest.mark.parametrize("mode", MODES)
def test_echo_64_mib_full_duplex(server, run, prog, pki, random_64m, mode):
    """64 MiB both ways at once through --echo: nothing lost, no deadlock."""
    path, sent = random_64m
    srv = server("tcp-server", *server_tls_args(pki, mode), "--echo")
    with open(path, "rb") as data:
        r = run([prog("tcp-client")] + client_tls_args(pki, mode)
                + ["--send-file", "-", "localhost", srv.port], stdin=data, timeout=50)
    assert not r.timed_out, f"64 MiB through --echo ({mode}) did not finish within 50s (deadlock?)"
    r.expect(0, "tcp-client --send-file -")
    assert hashlib.sha256(r.out_bytes).hexdigest() == sent, \
        f"sha256 of the 64 MiB sent and of what came back ({len(r.out_bytes)} bytes)"
    srv.wait_for("echoed 67108864 bytes")


@pytest.mark.parametrize("mode", MODES)
def test_http_with_curl(server, run, prog, pki, tmp_path, mode):
    need("curl")
    srv = server("tcp-server", *server_tls_args(pki, mode), "--http")
    if mode == "tls":
        url, curl_args = f"https://localhost:{srv.port}/page", ["--cacert", pki.ca]
    else:
        url, curl_args = f"http://127.0.0.1:{srv.port}/page", []
    body = tmp_path / "body"
    r = run(["curl", "-sS", "--max-time", "20"] + curl_args
            + ["-o", body, "-w", "%{http_code}", url])
    r.expect(0, f"curl {url}")
    assert r.out == "200", "HTTP status from curl"
    # (the bash compared through $(...), which drops the body's final newline)
    assert body.read_text().rstrip("\n") == reply_of(mode), "body curl got"
    srv.wait_for(": GET /page HTTP/1.1")
    # tcp-client's own GET against an HTTP server.
    r = run([prog("tcp-client")] + client_tls_args(pki, mode) + ["localhost", srv.port])
    r.expect(0, "tcp-client against --http")
    assert "HTTP/1.1 200 OK\r\n" in r.out, "tcp-client's reply"
    assert "\r\n\r\n" + reply_of(mode) in r.out, "tcp-client's reply"


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_verbose_session_details(server, run, prog, pki, version):
    fp = cert_fingerprint(pki.cert())
    srv = server("tcp-server", "--tls", *pki.server_args())
    r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "--tls-max", version,
             "--send", "hi", "localhost", srv.port])
    r.expect(0, f"tcp-client -v --tls-max {version}")
    assert r.out == reply_of("tls"), "reply"
    for want in (f"protocol: TLSv{version}", "cipher: ", "subject: CN=localhost",
                 "issuer: CN=secsock test CA", f"fingerprint: {fp}", "verification: ok"):
        assert want in r.err, f"-v output lacks [{want}]: [{r.err}]"
    if version == "1.2":
        assert re.search(r"cipher: ECDHE-", r.err), \
            f"TLS 1.2 cipher not shown as ECDHE-...: [{r.err}]"


@pytest.mark.parametrize("mode", MODES)
def test_resolve(server, run, prog, pki, mode):
    """--resolve: connect to 127.0.0.1, while Host, SNI and verification use the name."""
    srv = server("tcp-server", *server_tls_args(pki, mode, "lm3nitro"))
    resolve = ["--resolve", f"lm3nitro.com:{srv.port}:127.0.0.1"]
    client = [prog("tcp-client")] + client_tls_args(pki, mode)
    r = run(client + ["-v"] + resolve + ["--send", "hi", "lm3nitro.com", srv.port])
    r.expect(0, "tcp-client --resolve --send")
    assert r.out == reply_of(mode), "reply"
    if mode == "tls":
        assert "SNI: lm3nitro.com" in r.err, f"-v output: [{r.err}]"
    r = run(client + resolve + ["lm3nitro.com", srv.port])
    srv.wait_for(f"  | Host: lm3nitro.com:{srv.port}")
    assert f"  | Host: lm3nitro.com:{srv.port}" in srv.lines(), f"server log: [{srv.out()}]"
    assert r.out == reply_of(mode), "reply to the default request"
    r.expect(0, "tcp-client --resolve (default HTTP request)")


def test_resolve_verifies_the_name(server, run, prog, pki):
    """With --resolve the certificate must match the name, not the address."""
    srv = server("tcp-server", "--tls", *pki.server_args())
    r = run([prog("tcp-client"), "--tls", "--cafile", pki.ca,
             "--resolve", f"lm3nitro.com:{srv.port}:127.0.0.1", "--send", "hi",
             "lm3nitro.com", srv.port])
    r.expect(4, "tcp-client --resolve to a server whose certificate is for localhost")
    assert "hostname mismatch (wanted lm3nitro.com)" in r.err


def test_self_signed_and_pin(server, run, prog):
    srv = server("tcp-server", "--tls", "--self-signed")
    srv.wait_for("[*] Self-signed certificate ")  # printed just after the ready signal
    m = re.search(r"sha256:[0-9A-Fa-f:]*", srv.out())
    fp = m.group(0) if m else ""
    assert len(fp) == 102, \
        f"no sha256:XX:...: fingerprint printed by --self-signed: [{srv.out()}]"
    assert fp == srv.ready["fingerprint"], "the printed fingerprint and the ready signal's"
    client = [prog("tcp-client"), "--tls"]
    r = run(client + ["--pin", fp, "--send", "hi", "localhost", srv.port])
    r.expect(0, "tcp-client --pin (printed fingerprint)")
    assert r.out == reply_of("tls"), "reply"
    hex_lower = fp[len("sha256:"):].replace(":", "").lower()
    r = run(client + ["--pin", f"sha256:{hex_lower}", "--send", "hi", "127.0.0.1", srv.port])
    r.expect(0, "tcp-client --pin (lower case, no colons, by IP)")
    assert r.out == reply_of("tls"), "reply"
    r = run(client + ["--send", "hi", "localhost", srv.port])
    r.expect(4, "tcp-client without --pin against a self-signed server")
    assert "self-signed" in r.err


def test_mutual_tls(server, run, prog, pki):
    srv = server("tcp-server", "--tls", *pki.server_args(), "--verify-client",
                 "--cafile", pki.ca, "-v")
    client = [prog("tcp-client"), "--tls", "--cafile", pki.ca]
    r = run(client + ["--cert", pki.cert("client"), "--key", pki.key("client"),
                      "--send", "with a client certificate", "localhost", srv.port])
    r.expect(0, "tcp-client with a client certificate")
    assert r.out == reply_of("tls"), "reply"
    srv.wait_for(": with a client certificate")
    assert len(received_lines(srv, "with a client certificate")) == 1, f"server log: [{srv.out()}]"
    assert "subject: CN=secsock client" in srv.out()

    # No client certificate, TLS 1.2: the server refuses in the handshake.
    r = run(client + ["--tls-max", "1.2", "--send", "no certificate", "localhost", srv.port])
    r.expect(4, "tcp-client --tls-max 1.2 without a client certificate")
    srv.wait_for_count("[!]", 1)
    # TLS 1.3: the client's handshake ends before the server has checked the
    # client's certificate; its refusal (alert certificate_required) arrives
    # as the client reads. That is still a TLS failure: exit 4, naming it.
    # The alert races the server's close, so try it several times: it must
    # arrive every time (a close with unread data sends RST, which discards it).
    for i in range(1, 11):
        r = run(client + ["--send", "no certificate", "localhost", srv.port])
        srv.wait_for_count("[!]", 1 + i)
        assert r.out == "", "reply without a client certificate"
        r.expect(4, f"tcp-client (TLS 1.3) without a client certificate, attempt {i} of 10")
        assert "client certificate" in r.err
    assert received_lines(srv, "no certificate") == [], f"server log: [{srv.out()}]"


class InFlightClient(threading.Thread):
    """A client connected (and through its handshake) that sends only when
    told to, then reads the reply to the end: in flight at a SIGTERM."""

    def __init__(self, port, mode, cafile):
        super().__init__(daemon=True)
        self.port, self.mode, self.cafile = port, mode, cafile
        self.connected = threading.Event()
        self.go = threading.Event()
        self.reply = self.error = None

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
            if self.mode == "tls":
                s = ssl.create_default_context(cafile=self.cafile).wrap_socket(
                    s, server_hostname="localhost")
            self.connected.set()
            self.go.wait(20)
            s.sendall(b"in flight")
            data = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
            self.reply = data.decode()
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.connected.set()


@pytest.mark.parametrize("mode", MODES)
def test_sigterm_summary(server, run, prog, pki, mode):
    srv = server("tcp-server", *server_tls_args(pki, mode))
    r = run([prog("tcp-client")] + client_tls_args(pki, mode)
            + ["--send", "one", "localhost", srv.port])
    r.expect(0, "first client")
    # A client in flight when SIGTERM arrives still gets its reply. (The
    # bash client slept 1 s before sending; here it sends once the server
    # has taken the signal, seen as its listener gone.)
    slow = InFlightClient(srv.port, mode, pki.ca)
    slow.start()
    srv.wait_for_count("[*] Accepted connection from", 2)
    assert slow.connected.wait(20) and slow.error is None, f"the client in flight: {slow.error}"
    srv.send_signal(signal.SIGTERM)
    wait_until(lambda: not tcp_listening(srv.port), 10, "tcp-server to close its listener "
               "at SIGTERM", gone=lambda: not srv.alive())
    slow.go.set()
    slow.join(30)
    assert not slow.is_alive() and slow.error is None, \
        f"the client in flight at SIGTERM failed: {slow.error!r}"
    assert slow.reply == reply_of(mode), "reply to the client in flight"
    try:
        srv.wait(5)
    except AssertionError:
        raise AssertionError(f"tcp-server still running 5s after SIGTERM\n{srv.report()}")
    srv.stop_checked(expect=0)  # (already exited: this checks its status)
    assert "[*] Stopping: waiting up to" in srv.out(), "the client was not in flight at SIGTERM"
    assert "[*] Stopped: 2 served" in srv.out()


def assert_keylog_lines_ok(path, *labels):
    """Every line well formed (NSS key-log format), each label present, mode 600."""
    assert os.path.exists(path) and os.path.getsize(path) > 0, \
        f"key-log file {path} is missing or empty"
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, f"mode of the key-log file {path}: {mode:o}"
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    for label in labels:
        assert any(re.fullmatch(f"{label} [0-9a-f]{{64}} [0-9a-f]{{64,}}", ln) for ln in lines), \
            f"{path} has no well-formed {label} line: [{text}]"
    for ln in lines:
        assert re.fullmatch(r"[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+", ln), \
            f"{path} has a line not in NSS key-log format: [{ln}] in [{text}]"
    return lines


@pytest.fixture
def umask_022():
    """The key logs must be 0600 whatever the umask: test with a lax one."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_key_log(server, run, prog, pki, tmp_path, umask_022):
    server_keys = str(tmp_path / "server.keys")
    srv = server("tcp-server", "--tls", *pki.server_args(), "--keylog", server_keys)
    assert server_keys in srv.err()
    client = [prog("tcp-client"), "--tls", "--cafile", pki.ca]

    k13 = str(tmp_path / "k13.keys")
    r = run(client + ["--keylog", k13, "--send", "hi", "localhost", srv.port])
    r.expect(0, "tcp-client --keylog (TLS 1.3)")
    assert r.out == reply_of("tls"), "reply"
    assert "warning" in r.err and k13 in r.err, f"stderr with --keylog: [{r.err}]"
    assert_keylog_lines_ok(k13, "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                           "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                           "SERVER_TRAFFIC_SECRET_0")

    k12 = str(tmp_path / "k12.keys")
    r = run(client + ["--tls-max", "1.2", "--keylog", k12, "--send", "hi", "localhost", srv.port])
    r.expect(0, "tcp-client --keylog --tls-max 1.2")
    assert_keylog_lines_ok(k12, "CLIENT_RANDOM")

    env_keys = str(tmp_path / "env.keys")
    r = run(client + ["--send", "hi", "localhost", srv.port], env={"SSLKEYLOGFILE": env_keys})
    r.expect(0, "tcp-client with SSLKEYLOGFILE")
    assert "warning" in r.err and env_keys in r.err, f"stderr with SSLKEYLOGFILE: [{r.err}]"
    assert_keylog_lines_ok(env_keys, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0")

    # Both ends logged the same secrets for the same sessions.
    srv.wait_for_count(": hi", 3)
    server_lines = set(assert_keylog_lines_ok(server_keys, "CLIENT_RANDOM",
                                              "CLIENT_HANDSHAKE_TRAFFIC_SECRET"))
    for path in (k13, k12, env_keys):
        with open(path) as f:
            for line in f.read().split("\n"):
                if line:
                    assert line in server_lines, \
                        f"client key-log line [{line}] ({path}) is not in the server's key log"

    # A key log that cannot be opened is an error, not a silently empty file.
    missing = str(tmp_path / "no" / "such" / "dir" / "k.keys")
    r = run(client + ["--keylog", missing, "--send", "hi", "localhost", srv.port])
    r.expect(2, "tcp-client --keylog in a missing directory")
    assert missing in r.err
    missing_env = str(tmp_path / "no" / "such" / "dir" / "e.keys")
    r = run(client + ["--send", "hi", "localhost", srv.port], env={"SSLKEYLOGFILE": missing_env})
    r.expect(2, "tcp-client with SSLKEYLOGFILE in a missing directory")
    assert missing_env in r.err
