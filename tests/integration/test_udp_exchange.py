"""udp-client <-> udp-server, plaintext and DTLS 1.2 (verified against the
test CA): the default message and reply, a custom message, --echo, MESSAGE
"-" from stdin, --count statistics, --no-reply, retries through a lossy
path, no server at all (exit 5), oversize messages (exit 2, nothing sent),
truncated replies (exit 1), DTLS verification failures (exit 4),
--self-signed + --pin, mutual DTLS, key logging, SIGTERM with an open DTLS
session, escaped control characters in the server's log.
(Was udp_exchange.sh.)"""

import base64
import json
import os
import re
import signal
import socket
import stat
import sys
import threading

import pytest

from harness.procs import read_ready_line
from harness.system import cert_fingerprint, ipv6_works, need

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE = os.path.join(HERE, "hostile")
REPLY_TEXT = "udp-server is working"
MODES = ["plain", "dtls"]
STARTUP_RE = re.compile(r"^\[\*\] (Listening on |Self-signed certificate )")
# "[*] Received from 127.0.0.1:50412 (30 bytes):", then "  | LINE" each.
BLOCK_RE = re.compile(r"\[\*\] Received from \S+ \((\d+) bytes\):")


@pytest.fixture
def udp(server, prog, pki):
    """udp.server(mode, *args): a udp-server, plain or DTLS with the
    named certificate; udp.client_args(mode): udp-client's options for the
    mode (DTLS verified against the test CA)."""

    class Udp:
        client = prog("udp-client")

        @staticmethod
        def server(mode, *args, cert="server"):
            extra = ["--dtls"] + pki.server_args(cert) if mode == "dtls" else []
            return server("udp-server", *extra, *args)

        @staticmethod
        def client_args(mode):
            return ["--dtls", "--cafile", pki.ca] if mode == "dtls" else []

    return Udp


def received_blocks(srv):
    """Each multi-line datagram in srv's log: its byte count and the lines
    after its header ("  | ..." and "  + ..." notes), as printed."""
    lines = srv.lines()
    found = []
    for i, line in enumerate(lines):
        m = BLOCK_RE.fullmatch(line)
        if m:
            block = []
            for after in lines[i + 1:]:
                if not after.startswith(("  |", "  +")):
                    break
                block.append(after)
            found.append((int(m.group(1)), block))
    return found


def stop_within(srv, seconds, expect=0):
    """SIGTERM, and the server must be gone within seconds with expect."""
    srv.send_signal(signal.SIGTERM)
    rc = srv.wait(seconds)
    srv.checked = True
    assert rc == expect, f"exit status {rc} after SIGTERM, expected {expect}\n{srv.report()}"


def start_module(start, name, *args, timeout=10):
    """Starts hostile.NAME as `python3 -m` from this directory (as a user
    runs it) with --ready-fd; returns the process and its port."""
    rfd, wfd = os.pipe()
    try:
        p = start([sys.executable, "-m", f"hostile.{name}", *map(str, args),
                   "--ready-fd", str(wfd)], cwd=HERE, pass_fds=(wfd,))
    finally:
        os.close(wfd)
    try:
        line = read_ready_line(rfd, p, timeout)
    finally:
        os.close(rfd)
    return p, int(json.loads(line)["port"])


def server_lines_besides_startup(srv):
    """The server's log without its start-up lines (no datagram, no session)."""
    return [line for line in srv.lines() if not STARTUP_RE.match(line)]


# -- the default message, custom messages, --echo, stdin ----------------------

@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
@pytest.mark.parametrize("mode", MODES)
def test_default_message_and_reply(udp, run, mode, host):
    if host == "::1" and not ipv6_works():  # the bash test said so and went on
        pytest.skip("IPv6 loopback unavailable: ::1 not tested")
    bind, shown = ("::1", "[::1]") if host == "::1" else ("127.0.0.1", "127.0.0.1")
    srv = udp.server(mode, "-b", bind)
    srv.wait_for("[*] Listening on ")
    if mode == "dtls":
        assert f"[*] Listening on {shown}:{srv.port} (dtls)" in srv.out()
    else:
        assert f"[*] Listening on {shown}:{srv.port}" in srv.lines(), srv.out()
    r = run([udp.client, *udp.client_args(mode), host, srv.port]).expect(0)
    assert r.out == REPLY_TEXT
    assert r.err == ""
    srv.wait_for("[*] Received from ")
    default = re.compile(r":[0-9]+: Hello udp " + re.escape(host) + r" server$")
    assert any(line.startswith(f"[*] Received from {shown}:") and default.search(line)
               for line in srv.lines()), srv.out()
    if mode == "dtls":
        assert "[*] Accepted connection from " in srv.out()
        srv.wait_for(" closed the session")


@pytest.mark.parametrize("mode", MODES)
def test_custom_message(udp, run, mode):
    srv = udp.server(mode, "--reply", f"custom reply, {mode}")
    r = run([udp.client, *udp.client_args(mode), "localhost", srv.port, "a custom message"])
    r.expect(0)
    assert r.out == f"custom reply, {mode}"
    srv.wait_for(": a custom message")


@pytest.mark.parametrize("mode", MODES)
def test_echo_and_message_from_stdin(udp, run, mode):
    """--echo returns the datagram; MESSAGE "-" reads it from stdin, bytes
    as they are (trailing newlines, NULs)."""
    srv = udp.server(mode, "--echo")
    cargs = [udp.client, *udp.client_args(mode), "localhost", srv.port]
    r = run(cargs + [f"echo me, {mode}"]).expect(0)
    assert r.out == f"echo me, {mode}"

    msg = "from stdin\nline 2\twith a tab\n\n"
    r = run(cargs + ["-"], input=msg).expect(0, "udp-client MESSAGE - (stdin)")
    assert r.out == msg, "datagram read from stdin, echoed (trailing newlines kept)"
    srv.wait_for(f" ({len(msg)} bytes):")
    # A line of the log per line, each bare LF shown as \n, the tab escaped.
    want = ["  | from stdin\\n", "  | line 2\\twith a tab\\n", "  | \\n"]
    assert received_blocks(srv) == [(len(msg), want)], f"server log: [{srv.out()}]"

    data = os.urandom(1000)
    r = run(cargs + ["-"], input=data, timeout=30).expect(0, "1000 random bytes from stdin")
    assert r.out_bytes == data, f"1000 random bytes came back different ({len(r.out_bytes)} bytes)"


# -- --count, --no-reply -------------------------------------------------------

COUNT_RE = re.compile(r"50 exchanges, 50 replies, 0 lost \(0\.0%\), round trip "
                      r"min/median/max = ([0-9.]+)/([0-9.]+)/([0-9.]+) ms")


@pytest.mark.parametrize("mode", MODES)
def test_count_statistics(udp, run, mode):
    srv = udp.server(mode)
    # -t 10: no resend on a loaded machine, so exactly 50 datagrams.
    r = run([udp.client, *udp.client_args(mode), "-t", "10", "--count", "50", "localhost",
             srv.port, "count me"]).expect(0)
    m = COUNT_RE.fullmatch(r.err.removesuffix("\n"))
    assert m, f"--count 50 statistics line not as expected: [{r.err}]"
    low, median, high = map(float, m.groups())
    assert 0 < low <= median <= high, f"round trips not ordered min <= median <= max: {r.err}"
    srv.wait_for_count(": count me", 50)
    if mode == "dtls":  # all 50 exchanges ride one session
        assert srv.count("[*] Accepted connection from") == 1


@pytest.mark.parametrize("mode", MODES)
def test_no_reply(udp, run, mode):
    srv = udp.server(mode)
    # A long per-try timeout: waiting for a reply would show as 10 s, far
    # from the handshake and send a loaded machine may take.
    r = run([udp.client, *udp.client_args(mode), "-t", "10", "--no-reply", "localhost",
             srv.port, "fire and forget"]).expect(0)
    assert r.out == ""
    assert r.seconds < 5, (f"--no-reply took {r.seconds:.1f} s: it waited for a reply "
                           "(the per-try timeout is 10 s)")
    srv.wait_for(": fire and forget")


# -- retries -------------------------------------------------------------------

def test_retry_after_a_dropped_datagram(server, run, prog):
    """A plain server that ignores the first datagram: with --retries the
    client sends again (in plaintext it sends once unless asked)."""
    srv = server(sys.executable, os.path.join(HOSTILE, "udp_drop_first.py"))
    r = run([prog("udp-client"), "-v", "-t", "3", "--retries", "1", "127.0.0.1", srv.port,
             "are you there"])
    r.expect(0)
    assert r.out == "answered the second try"
    assert "sending again" in r.err
    srv.wait_for_count(": b'are you there'", 2)
    assert "[*] datagram 1 from 127.0.0.1:" in srv.out()
    assert "[*] dropped" in srv.out()


@pytest.mark.parametrize("content_type", [
    pytest.param(22, id="first-ClientHello-lost"),          # handshake retransmission
    pytest.param(23, id="first-application-record-lost"),   # the message is sent again
])
def test_dtls_retry_through_a_lossy_path(udp, server, run, pki, content_type):
    srv = udp.server("dtls")
    proxy = server(sys.executable, os.path.join(HOSTILE, "dtls_drop_proxy.py"),
                   "--upstream", srv.port, "--drop-type", content_type)
    r = run([udp.client, "--dtls", "--cafile", pki.ca, "-t", "3", "localhost", proxy.port,
             "through a lossy path"]).expect(0)
    assert r.out == REPLY_TEXT
    assert "[*] dropped " in proxy.out()
    srv.wait_for_count(": through a lossy path", 1)
    assert srv.count("[*] Accepted connection from") == 1, "DTLS sessions"


# -- no server -----------------------------------------------------------------

@pytest.mark.parametrize("mode,timeout,retries", [
    pytest.param("plain", 1, None, id="plain-default-one-try"),
    pytest.param("plain", 1, 2, id="plain-t1-retries2"),
    pytest.param("dtls", 1, None, id="dtls-default-4-tries"),
    pytest.param("dtls", 1, 2, id="dtls-t1-retries2"),
])
def test_silent_server_exits_5(udp, run, mode, timeout, retries):
    """A server that is there (no ICMP refusal) but never answers: exit 5
    after timeout x (retries + 1); in plaintext one try by default, over
    DTLS four. (Nobody listening at all is exit 3 at once: test_cli.py.)"""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    targs = ["-t", timeout] + (["--retries", retries] if retries is not None else [])
    try:
        r = run([udp.client, *udp.client_args(mode), *targs, "127.0.0.1", port, "anyone?"])
    finally:
        silent.close()
    r.expect(5)
    assert r.out == ""
    tries = (retries if retries is not None else 0 if mode == "plain" else 3) + 1
    want = timeout * tries
    assert want * 0.9 <= r.seconds <= want + 3, (
        f"silent server: gave up after {r.seconds:.2f} s, expected about {want} s "
        "(timeout x (retries + 1))")
    if mode == "plain" and tries == 1:
        assert f"no reply from 127.0.0.1:{port} within 1000 ms" in r.err
    elif mode == "plain":
        assert f"no reply from 127.0.0.1:{port} after {tries} tries" in r.err
    else:
        assert "timed out" in r.err


# -- message sizes -------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_oversize_message_refused_nothing_sent(udp, run, mode):
    """A message too big for one datagram (or DTLS record) is refused
    before anything is sent; the largest one that fits goes through whole."""
    srv = udp.server(mode, "--echo")
    cargs = [udp.client, *udp.client_args(mode), "localhost", srv.port]
    big, fits = (70000, 65507) if mode == "plain" else (2000, 1200)
    r = run(cargs + ["x" * big]).expect(2, f"a {big}-byte message")
    assert r.out == ""
    assert "does not fit in one" in r.err
    assert ("(at most 65507)" if mode == "plain" else "DTLS record") in r.err
    r = run(cargs + ["-"], input="x" * big).expect(2, f"a {big}-byte message from stdin")
    assert "does not fit in one" in r.err

    data = os.urandom(fits)
    r = run(cargs + ["-"], input=data, timeout=30).expect(0, f"a {fits}-byte message")
    assert r.out_bytes == data, f"{fits} bytes came back different ({len(r.out_bytes)} bytes)"
    # The echo went out after the server logged the datagram: everything it
    # logged before that came from the refused messages, and must be nothing
    # (no datagram, no DTLS session either). Loopback keeps the order.
    srv.wait_for("[*] Received from ")
    if mode == "dtls":
        srv.wait_for(" closed the session")
    first = "[*] Accepted connection from" if mode == "dtls" else "[*] Received from"
    before = []
    for line in server_lines_besides_startup(srv):
        if first in line:
            break
        before.append(line)
    assert before == [], "server log lines besides its start-up, for refused messages"
    assert srv.count("[*] Received from") == 1
    if mode == "dtls":
        assert srv.count("[*] Accepted connection from") == 1
        # A smaller path MTU shrinks the limit.
        r = run(cargs[:1] + ["--mtu", "576"] + cargs[1:] + ["-"], input=data)
        r.expect(2, f"--mtu 576 with a {fits}-byte message")
        assert "see --mtu" in r.err


@pytest.mark.parametrize("mode,first,last,largest_expected", [
    pytest.param("plain", 65495, 65515, 65507, id="plain-IPv4"),
    pytest.param("dtls", 1190, 1290, None, id="dtls"),
])
def test_message_size_limit(udp, run, mode, first, last, largest_expected):
    """Every size across the limit: up to the largest message that fits,
    each is echoed intact; from the next byte on, each is refused with exit
    2, and the "at most N" the refusal names is that largest size."""
    srv = udp.server(mode, "--echo")
    cargs = [udp.client, *udp.client_args(mode), "127.0.0.1", srv.port, "-"]
    text = base64.b64encode(os.urandom(last * 2)).decode()
    largest = refused = 0
    said = []
    for n in range(first, last + 1):
        msg = text[:n] + "\n"   # n + 1 bytes, as the bash here-string sent
        size = n + 1
        r = run(cargs, input=msg)
        if r.rc == 0:
            assert refused == 0, f"a {size}-byte message went through after one of {refused} " \
                "bytes was refused"
            assert r.out == msg, f"echo of a {size}-byte message"
            largest = size
        elif r.rc == 2:
            refused = refused or size
            assert r.out == "", f"stdout when a {size}-byte message is refused"
            m = re.search(r"does not fit.*at most ([0-9]+)", r.err, re.S)
            assert m, f"refusal of a {size}-byte message does not say how much fits: [{r.err}]"
            said.append(int(m.group(1)))
        else:
            raise AssertionError(f"a {size}-byte message ({mode}): exit {r.rc}, expected 0 "
                                 f"(echoed) or 2 (refused); stderr: [{r.err}]")
    assert largest > 0 and refused > 0, (
        f"sizes {first + 1}..{last + 1} do not straddle the limit (largest echoed {largest}, "
        f"first refused {refused})")
    assert refused == largest + 1, f"first refused size (largest echoed: {largest})"
    if largest_expected is not None:
        assert largest == largest_expected, f"largest message that fits ({mode}, IPv4)"
    assert set(said) == {largest}, \
        'the "at most" figure in a refusal (the largest that went through)'
    # Refused ones are never sent: the server got only the echoed ones.
    srv.wait_for_count("[*] Received from", largest - first)


@pytest.mark.parametrize("mode", MODES)
def test_reply_longer_than_max_reply(udp, run, mode):
    long = f"a reply of more than sixteen bytes, {mode}"
    srv = udp.server(mode, "--reply", long)
    cargs = [udp.client, *udp.client_args(mode)]
    r = run(cargs + ["--max-reply", "16", "localhost", srv.port, "short"]).expect(1)
    assert "truncated" in r.err
    assert long.startswith(r.out), f"stdout of a truncated reply is not a prefix: [{r.out}]"
    assert len(r.out) <= 16, f"more than --max-reply 16 bytes printed: [{r.out}]"
    # A reply that fits exactly is not truncated.
    r = run(cargs + ["--max-reply", len(long), "localhost", srv.port, "short"]).expect(0)
    assert r.out == long


# -- DTLS verification ---------------------------------------------------------

def test_dtls_verification_failures_exit_4(udp, run, pki):
    """Exit 4, one line naming the cause, and the message is never
    delivered. (The bash test also matched OpenSSL's own words "hostname
    mismatch"; the programs' own "(wanted NAME)" says the same.)"""
    cafile = ["--dtls", "--cafile", pki.ca]
    unknown = udp.server("dtls", cert="unknownca")
    r = run([udp.client, *cafile, "localhost", unknown.port, "secret"]).expect(4)
    assert "certificate verify failed" in r.err
    assert "unknown CA" in r.err
    assert r.out == ""

    good = udp.server("dtls")
    r = run([udp.client, *cafile, "--servername", "wrong.example", "localhost", good.port,
             "secret"]).expect(4)
    assert "certificate verify failed" in r.err and "(wanted wrong.example)" in r.err
    zero = "sha256:" + "0" * 64
    r = run([udp.client, "--dtls", "--pin", zero, "localhost", good.port, "secret"]).expect(4)
    assert "pin mismatch" in r.err
    assert cert_fingerprint(pki.cert("server")) in r.err

    wronghost = udp.server("dtls", cert="wronghost")
    r = run([udp.client, *cafile, "localhost", wronghost.port, "secret"]).expect(4)
    assert "certificate verify failed" in r.err and "(wanted localhost)" in r.err

    # Each failed session ends with a [!] line in the server's log; by
    # then a message would have been logged.
    for srv, failures in ((unknown, 1), (good, 2), (wronghost, 1)):
        srv.wait_for_count("[!]", failures, timeout=20)
        assert srv.count("[*] Received from") == 0, "messages delivered after a failed verification"


def test_dtls_self_signed_and_pin(server, run, prog):
    client = prog("udp-client")
    srv = server("udp-server", "--dtls", "--self-signed")
    srv.wait_for("[*] Listening on ")
    fps = re.findall(r"sha256:[0-9A-Fa-f:]*", srv.out())
    assert fps and len(fps[0]) == 102, f"no sha256:XX:... fingerprint printed: [{srv.out()}]"
    fp = fps[0]
    r = run([client, "--dtls", "--pin", fp, "localhost", srv.port, "pinned"]).expect(0)
    assert r.out == REPLY_TEXT
    hexdigits = fp.removeprefix("sha256:").replace(":", "").lower()
    r = run([client, "--dtls", "--pin", "sha256:" + hexdigits, "127.0.0.1", srv.port,
             "pinned by IP"]).expect(0, "--pin lower case, no colons, by IP")
    assert r.out == REPLY_TEXT
    r = run([client, "--dtls", "localhost", srv.port, "not pinned"]).expect(4)
    assert "certificate verify failed" in r.err
    srv.wait_for_count("[!]", 1, timeout=20)   # the unpinned session is over
    srv.wait_for_count("[*] Received from", 2)


def test_mutual_dtls(server, run, prog, pki):
    client = prog("udp-client")
    srv = server("udp-server", "--dtls", *pki.server_args(), "--verify-client",
                 "--cafile", pki.ca, "-v")
    r = run([client, "--dtls", "--cafile", pki.ca, "--cert", pki.cert("client"),
             "--key", pki.key("client"), "localhost", srv.port,
             "with a client certificate"]).expect(0)
    assert r.out == REPLY_TEXT
    srv.wait_for(": with a client certificate")
    assert "subject: CN=secsock client" in srv.out()

    run([client, "--dtls", "--cafile", pki.ca, "localhost", srv.port,
         "no certificate"]).expect(4, "without a client certificate")
    srv.wait_for_count("[!]", 1)
    assert srv.count(": no certificate") == 0, "messages delivered without a client certificate"


# -- key log -------------------------------------------------------------------

KEYLOG_CLIENT_RANDOM = re.compile(r"CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}")
KEYLOG_LINE = re.compile(r"[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+")


def keylog_lines(path):
    """The lines of a key-log file that must be 0600, hold a CLIENT_RANDOM
    line, and be all in NSS key-log format."""
    assert os.path.getsize(path) > 0, f"key-log file {path} is empty"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, f"mode of the key-log file {path}"
    with open(path) as f:
        lines = f.read().split("\n")[:-1]
    assert any(KEYLOG_CLIENT_RANDOM.fullmatch(x) for x in lines), \
        f"{path} has no well-formed CLIENT_RANDOM line: {lines}"
    bad = [x for x in lines if not KEYLOG_LINE.fullmatch(x)]
    assert not bad, f"{path} has lines not in NSS key-log format: {bad}"
    return lines


@pytest.fixture
def umask_022():
    """A umask that would make a file 0644: the key logs must be 0600 anyway."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_dtls_key_log(umask_022, server, run, prog, pki, tmp_path):
    client = prog("udp-client")
    server_keys, client_keys, env_keys = (str(tmp_path / n) for n in
                                          ("server.keys", "client.keys", "env.keys"))
    srv = server("udp-server", "--dtls", *pki.server_args(), "--keylog", server_keys)
    srv.wait_for(server_keys, where="err")
    r = run([client, "--dtls", "--cafile", pki.ca, "--keylog", client_keys, "localhost",
             srv.port, "logged"]).expect(0)
    assert r.out == REPLY_TEXT
    assert "warning" in r.err and client_keys in r.err, "stderr with --keylog"
    logged = keylog_lines(client_keys)

    r = run([client, "--dtls", "--cafile", pki.ca, "localhost", srv.port, "logged"],
            env={"SSLKEYLOGFILE": env_keys}).expect(0, "with SSLKEYLOGFILE")
    assert env_keys in r.err, "stderr with SSLKEYLOGFILE"
    logged += keylog_lines(env_keys)

    srv.wait_for_count(": logged", 2)
    in_server = set(keylog_lines(server_keys))
    missing = [x for x in logged if x not in in_server]
    assert not missing, f"client key-log lines not in the server's key log: {missing}"

    missing_dir = str(tmp_path / "no" / "such" / "dir" / "k.keys")
    r = run([client, "--dtls", "--cafile", pki.ca, "--keylog", missing_dir, "localhost",
             srv.port, "x"]).expect(2, "--keylog in a missing directory")
    assert missing_dir in r.err


# -- SIGTERM -------------------------------------------------------------------

def test_sigterm_summary_plain(udp, run):
    srv = udp.server("plain")
    for msg in ("one", "two"):
        run([udp.client, "localhost", srv.port, msg]).expect(0)
    stop_within(srv, 5)
    assert "[*] Stopped: 2 served" in srv.out()


def test_sigterm_with_an_open_dtls_session(udp, start, pki):
    """openssl s_client keeps a DTLS session open; on SIGTERM the server
    closes it with close_notify (UDP has no FIN: s_client only ends because
    it got one), prints its summary and exits 0."""
    need("openssl")
    srv = udp.server("dtls")
    rfd, wfd = os.pipe()
    try:
        s_client = start(["openssl", "s_client", "-dtls1_2", "-connect",
                          f"127.0.0.1:{srv.port}", "-CAfile", pki.ca, "-verify_return_error",
                          "-quiet", "-no_ign_eof", "-msg"], stdin=rfd)
    finally:
        os.close(rfd)
    try:
        os.write(wfd, b"session stays open\n")
        srv.wait_for(": session stays open\\n")
        s_client.wait_for(REPLY_TEXT)
        assert s_client.alive(), "openssl s_client (the open session) is not running"
        stop_within(srv, 5)
        assert "[*] Stopped: 1 served" in srv.out()
        rc = s_client.wait(5)   # its stdin still open: only close_notify ends it
        assert rc == 0, f"openssl s_client exit status {rc}\n{s_client.report()}"
    finally:
        os.close(wfd)
    lines = s_client.lines()
    alerts = [i for i, line in enumerate(lines) if re.match(r"<<< .*content_type=21", line)]
    assert any(i + 1 < len(lines) and re.fullmatch(r" +01 00 *", lines[i + 1]) for i in alerts), \
        f"s_client received no close_notify alert (01 00): [{s_client.out()}]"


# -- the log -------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_control_characters_escaped_in_the_log(udp, run, mode):
    """A peer cannot write escape sequences to the operator's terminal."""
    srv = udp.server(mode)
    msg = "red \x1b[31mALERT\x1b[0m\r\n\ttab\x07"
    run([udp.client, *udp.client_args(mode), "localhost", srv.port, msg]).expect(0)
    srv.wait_for(f" ({len(msg)} bytes):")
    # CR LF is the line break; ESC, TAB and BEL are escaped.
    want = ["  | red \\x1b[31mALERT\\x1b[0m", "  | \\ttab\\x07"]
    assert received_blocks(srv) == [(len(msg), want)], f"server log: [{srv.out()}]"
    log = srv.out_bytes()
    assert b"\x1b" not in log, f"raw ESC byte in the server log: {log!r}"
    assert b"\x07" not in log, f"raw BEL byte in the server log: {log!r}"


# -- the stand-ins' own tests --------------------------------------------------

def test_hostile_udp_drop_first_ignores_only_the_first(start):
    p, port = start_module(start, "udp_drop_first")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.sendto(b"first", ("127.0.0.1", port))
        p.wait_for("[*] dropped")
        s.sendto(b"second", ("127.0.0.1", port))
        assert s.recv(100) == b"answered the second try"
        # Loopback delivers in order: a reply to the first would be here.
        s.setblocking(False)
        with pytest.raises(BlockingIOError):
            s.recv(100)
    p.wait_for("[*] datagram 2 from 127.0.0.1:")
    assert p.count("[*] dropped") == 1
    assert p.stop() == 0, "exit status on SIGTERM"


class EchoListener:
    """A trivial UDP echo server in a thread, recording what it got."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            self.got.append(data)
            self.sock.sendto(data, peer)

    def close(self):
        self.sock.close()


def test_hostile_dtls_drop_proxy_drops_one_datagram_of_the_type(start):
    upstream = EchoListener()
    try:
        p, port = start_module(start, "dtls_drop_proxy", "--upstream", upstream.port,
                               "--drop-type", 22)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(10)
            s.sendto(b"\x17first of type 23", ("127.0.0.1", port))
            assert s.recv(100) == b"\x17first of type 23"
            s.sendto(b"\x16dropped", ("127.0.0.1", port))
            p.wait_for("[*] dropped 8 bytes of content type 22")
            s.sendto(b"\x16passes", ("127.0.0.1", port))
            assert s.recv(100) == b"\x16passes"
        assert upstream.got == [b"\x17first of type 23", b"\x16passes"]
        assert p.count("[*] dropped") == 1
        assert p.stop() == 0, "exit status on SIGTERM"
    finally:
        upstream.close()
