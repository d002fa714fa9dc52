"""The hostile tools of test_attack_hostile_input and test_attack_nothing_lost
do what they claim, shown against trivial Python listeners and clients (so
a failure there is the tool's, not the programs')."""

import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

import pytest

from harness.system import need
from harness.waits import free_port, wait_until, wait_udp_bound
from hostile import dtls_hello, evil_server, tls_peer
from hostile.paced import paced_chunks

HERE = os.path.dirname(os.path.abspath(__file__))


def module(name):
    """The command line running hostile.NAME as a module (cwd HERE)."""
    return [sys.executable, "-m", f"hostile.{name}"]


class Listener:
    """A TCP listener on 127.0.0.1 whose one client is handled by
    handle(conn) in a thread; .result is what handle returned, .error what
    it raised."""

    def __init__(self, handle, context=None):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.result = self.error = None
        self.context = context
        self.accepted = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(handle,), daemon=True)
        self.thread.start()

    def _run(self, handle):
        self.sock.settimeout(30)
        try:
            conn, _ = self.sock.accept()
            self.accepted.set()
            conn.settimeout(30)
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True,
                                                suppress_ragged_eofs=False)
            with conn:
                self.result = handle(conn)
        except BaseException as e:  # handed to the test
            self.error = e
        finally:
            self.sock.close()

    def join(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the listener is still busy"
        return self.result


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_to_end(conn):
    """Everything until the peer closes: (data, the error that ended it)."""
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return data, None
            data += chunk
    except OSError as e:
        return data, e


def server_tls_context(pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.cert(), pki.key())
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF  # a cut record is an error, not an end
    return ctx


# -- paced ---------------------------------------------------------------------

def test_paced_writes_size_bytes_no_faster_than_asked(run):
    t0 = time.monotonic()
    r = run(module("paced") + ["300000", "1"], timeout=30, cwd=HERE)
    took = time.monotonic() - t0
    r.expect(0)
    assert len(r.out_bytes) == 300000
    assert took >= 1.0, f"300,000 bytes over at least 1 s came in {took:.2f} s"
    assert sum(len(c) for c in paced_chunks(100001, 0)) == 100001


# -- stream --------------------------------------------------------------------

def echo_until_half_close(conn, cut_after=None):
    """Echoes until the peer half-closes; with cut_after, resets the
    connection once that many bytes have come."""
    n = 0
    while True:
        data = conn.recv(65536)
        if not data:
            return n
        conn.sendall(data)
        n += len(data)
        if cut_after is not None and n >= cut_after:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return n


def syscall_of(pid):
    """(number, first argument) of the system call pid is blocked in."""
    with open(f"/proc/{pid}/syscall") as f:
        fields = f.read().split()
    if len(fields) < 2 or fields[0] in ("running", "-1"):
        return None
    return int(fields[0]), int(fields[1], 16)


def test_stream_echoes_and_judges(start, prog):
    listener = Listener(echo_until_half_close)
    rfd, wfd = os.pipe()
    try:
        p = start(module("stream") + ["--client", prog("tcp-client"), "--size", "1000000",
                                      "--go-fd", str(rfd), "127.0.0.1", str(listener.port)],
                  cwd=HERE, pass_fds=(rfd,))
    finally:
        os.close(rfd)
    # It waits for the go pipe: blocked reading it, nothing connected yet.
    read_calls = {0, 63}  # x86_64, aarch64
    wait_until(lambda: syscall_of(p.pid) in {(n, rfd) for n in read_calls}, 20,
               "the stream to block reading its go pipe", gone=lambda: not p.alive())
    assert not listener.accepted.is_set(), "connected before go"
    assert p.lines() == ["waiting for go"]
    os.close(wfd)
    assert p.wait(60) == 0, p.report()
    res = json.loads(p.lines()[-1])
    assert res["rc"] == 0 and res["sent"] == res["got"] == 1000000
    assert res["sent_sha256"] == res["got_sha256"]
    assert listener.join() == 1000000


def test_stream_is_paced(start, prog):
    listener = Listener(echo_until_half_close)
    t0 = time.monotonic()
    p = start(module("stream") + ["--client", prog("tcp-client"), "--size", "500000",
                                  "--pace", "1", "127.0.0.1", str(listener.port)], cwd=HERE)
    assert p.wait(60) == 0, p.report()
    took = time.monotonic() - t0
    res = json.loads(p.lines()[-1])
    assert res["rc"] == 0 and res["got"] == 500000, res
    assert took >= 1.0, f"500,000 bytes paced over at least 1 s took {took:.2f} s"


def test_stream_reports_a_cut(start, prog):
    listener = Listener(lambda conn: echo_until_half_close(conn, cut_after=100000))
    p = start(module("stream") + ["--client", prog("tcp-client"), "--size", "10000000",
                                  "127.0.0.1", str(listener.port)], cwd=HERE)
    assert p.wait(60) == 0, p.report()
    res = json.loads(p.lines()[-1])
    assert res["rc"] != 0 and res["got"] < 10000000, res
    assert res["sent"] == 10000000, "all the data is hashed as sent, even after the cut"
    assert p.err().strip(), "tcp-client's error is the stream's stderr"


# -- bad_peer ------------------------------------------------------------------

def tls_read_to_end(conn, ctx):
    """read_to_end for a TLS client, with TLS over memory buffers so that
    the socket's own end (EOF or a reset) is seen as it is."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=True)
    data = b""
    try:
        while True:
            try:
                chunk = obj.read(65536)  # the handshake first
                if not chunk:
                    return data, None
                data += chunk
            except ssl.SSLWantReadError:
                conn.sendall(out.read())
                raw = conn.recv(65536)
                if not raw:
                    return data, None
                inc.write(raw)
    except OSError as e:
        return data, e


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_bad_peer_resets_mid_stream(start, pki, tls):
    if tls:
        listener = Listener(lambda conn: tls_read_to_end(conn, server_tls_context(pki)))
    else:
        listener = Listener(read_to_end)
    cmd = module("bad_peer") + ["reset", str(listener.port)]
    if tls:
        cmd += ["--tls", "--cafile", pki.ca]
    p = start(cmd, cwd=HERE)
    assert p.wait(60) == 0, p.report()
    assert p.out().startswith("reset after sending ")
    sent = int(p.out().split()[3])
    assert sent >= 5 * 1000 * 1000
    data, error = listener.join()
    assert isinstance(error, ConnectionResetError), f"the listener saw {error!r}"
    assert len(data) <= sent


def test_bad_peer_noread_stalls_and_holds(start, tmp_path):
    held = {}

    def accept_and_not_read(conn):
        # Nothing is read until the peer is stuck; then it must still be
        # there, until released.
        wait_until(lambda: held.get("stuck"), 60, "the peer to be stuck")
        conn.setblocking(False)
        try:
            held["eof_before_release"] = conn.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            held["eof_before_release"] = False
        conn.setblocking(True)
        return read_to_end(conn)

    listener = Listener(accept_and_not_read)
    release = tmp_path / "release"
    p = start(module("bad_peer") + ["noread", str(listener.port), "--release", str(release)],
              cwd=HERE)
    p.wait_for("stuck after sending", timeout=60)
    held["stuck"] = True
    sent = int(p.out().split()[3])
    assert 0 < sent < 50 * 1000 * 1000
    wait_until(lambda: "eof_before_release" in held, 30, "the listener's look")
    assert held["eof_before_release"] is False
    assert p.alive(), "it holds the connection until released"
    release.touch()
    assert p.wait(30) == 0, p.report()
    data, _ = listener.join()
    assert len(data) >= sent - 65536 * 2  # what it sent arrives (maybe short of a last chunk)


# -- tls_peer ------------------------------------------------------------------

def tls_peer_cmd(mode, port, pki):
    return module("tls_peer") + [mode, str(port), pki.ca]


def test_tls_peer_random(run, pki):
    listener = Listener(lambda conn: read_exact(conn, 4000))
    run(tls_peer_cmd("random", listener.port, pki), timeout=30, cwd=HERE).expect(0)
    data = listener.join()
    assert data == tls_peer.random_bytes()
    assert len(set(data)) > 200, "random bytes"
    assert data[0] != 0x16, "not even a TLS handshake record"


def read_record_header(conn):
    h = read_exact(conn, 5)
    return h[0], int.from_bytes(h[3:5], "big")


def test_tls_peer_oversize_hello(run, pki):
    def handle(conn):
        kind, length = read_record_header(conn)
        hs = read_exact(conn, 4)
        body = read_exact(conn, int.from_bytes(hs[1:4], "big"))
        return kind, length, hs[0], 4 + len(body)

    listener = Listener(handle)
    r = run(tls_peer_cmd("oversize-hello", listener.port, pki), timeout=30, cwd=HERE).expect(0)
    kind, length, hs_type, real = listener.join()
    assert (kind, length, hs_type) == (22, 20000, 1), "a ClientHello record claiming 20,000 bytes"
    assert real < 20000
    assert r.out.startswith("server sent back 0 bytes")


def test_tls_peer_garbage_hello(run, pki):
    def handle(conn):
        kind, length = read_record_header(conn)
        return kind, length, read_exact(conn, length)

    listener = Listener(handle)
    run(tls_peer_cmd("garbage-hello", listener.port, pki), timeout=30, cwd=HERE).expect(0)
    kind, length, body = listener.join()
    assert kind == 22 and len(body) == length
    assert not (body[0] == 1 and int.from_bytes(body[1:4], "big") == length - 4), \
        "the body is not a handshake message"


def test_tls_peer_cut_record(run, pki):
    def handle(conn):
        kind, length = read_record_header(conn)
        return kind, length, read_to_end(conn)

    listener = Listener(handle)
    run(tls_peer_cmd("cut-record", listener.port, pki), timeout=30, cwd=HERE).expect(0)
    kind, length, (rest, error) = listener.join()
    assert kind == 22 and error is None, "a half-close after the header"
    assert 0 < len(rest) < length, "less than the record promised"


@pytest.mark.parametrize("mode", ["bad-mac", "oversize-app", "cut-app"])
def test_tls_peer_after_a_real_handshake(run, pki, mode):
    def handle(conn):
        try:
            return conn.recv(65536)
        except ssl.SSLError as e:
            return e

    listener = Listener(handle, server_tls_context(pki))
    run(tls_peer_cmd(mode, listener.port, pki), timeout=30, cwd=HERE).expect(0)
    got = listener.join()
    assert listener.error is None, f"the handshake failed: {listener.error!r}"
    assert isinstance(got, ssl.SSLError), f"the TLS server read {got!r}, not a broken record"


def test_tls_peer_modes_are_known():
    with pytest.raises(ValueError):
        tls_peer.attack("no-such-mode", 1, None)


# -- dtls_junk -----------------------------------------------------------------

class UdpListener:
    """A UDP socket on 127.0.0.1 recording datagrams (answering each with
    answer, when given) in a thread, until stop()."""

    def __init__(self, answer=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.stopping = False
        self.answer = answer
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                d, a = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.got.append(d)
            if self.answer is not None:
                self.sock.sendto(self.answer, a)

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        self.sock.close()


def test_dtls_junk_at_a_silent_listener(run):
    need("openssl")
    listener = UdpListener()
    try:
        r = run(module("dtls_junk") + [str(listener.port), "--listener-only"], timeout=60,
                cwd=HERE)
        r.expect(0)
        wait_until(lambda: len(listener.got) == 26, 10, "26 datagrams at the listener")
    finally:
        listener.stop()
    assert [line.split(":")[0] for line in r.out.splitlines()] == [
        "random", "length too long", "length too short", "length zero",
        "ClientHello cut short", "header only", "HTTP"]
    assert all(line.endswith("no reply") for line in r.out.splitlines())
    too_long, too_short, zero, cut, header = listener.got[20:25]
    for d in (too_long, too_short, zero, cut, header):
        assert d[:2] == b"\x16\xfe", "a DTLS handshake record"
    assert int.from_bytes(too_long[11:13], "big") == 20000 > len(too_long) - 13
    assert int.from_bytes(too_short[11:13], "big") == 10 < len(too_short) - 13
    assert zero[11:13] == b"\0\0" and len(zero) == 13, "a header claiming nothing"
    assert len(cut) == 40 and len(header) == 13
    assert listener.got[25].startswith(b"GET / HTTP/1.1")


def test_dtls_junk_notices_a_reply(run):
    need("openssl")
    listener = UdpListener(answer=b"an answer")
    try:
        r = run(module("dtls_junk") + [str(listener.port), "--listener-only"], timeout=60,
                cwd=HERE)
    finally:
        listener.stop()
    r.expect(1)
    assert "random: the server answered b'an answer'" in r.err


def test_dtls_junk_in_a_real_session(start, pki, tmp_path):
    """The cookie exchange works against a real DTLS server (s_server
    -listen answers a ClientHello with a HelloVerifyRequest), and the
    session's socket is held until released."""
    need("openssl")
    port = free_port()
    s_server = start(["openssl", "s_server", "-dtls1_2", "-listen", "-accept",
                      f"127.0.0.1:{port}", "-cert", pki.cert(), "-key", pki.key(), "-quiet"])
    wait_udp_bound(port, gone=lambda: not s_server.alive())
    release = tmp_path / "release"
    p = start(module("dtls_junk") + [str(port), "--session-only", "--hold-until", str(release)],
              cwd=HERE)
    p.wait_for("in-session junk sent to", timeout=60)
    local = int(p.lines()[-1].split()[-1])
    assert p.alive(), "the session's socket is held"
    assert any(f":{local:04X} " in line for line in open("/proc/net/udp"))
    release.touch()
    assert p.wait(20) == 0, p.report()


def test_the_cookie_is_put_in_the_client_hello():
    ch = bytes.fromhex("16fefd" "0000" "000000000000" "0040") + bytes([1]) + bytes(11) + \
        bytes([0xfe, 0xfd]) + bytes(32) + bytes([0]) + bytes([0]) + b"rest"
    out = dtls_hello.with_cookie(ch, b"COOKIE")
    body = out[25:]
    assert body[35] == 6 and body[36:42] == b"COOKIE" and body.endswith(b"rest")
    assert int.from_bytes(out[5:11], "big") == 1, "the record's sequence number"
    assert int.from_bytes(out[11:13], "big") == len(out) - 13


# -- evil_server ---------------------------------------------------------------

def talk(port, request=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(request)
        return read_to_end(s)


@pytest.mark.parametrize("mode", sorted(set(evil_server.TCP_REPLIES) - set(evil_server.RESETS)))
def test_evil_server_tcp_answers_with_mode(server, mode):
    srv = server(sys.executable, os.path.join(HERE, "hostile", "evil_server.py"), "tcp", mode)
    data, error = talk(srv.port)
    reply = evil_server.TCP_REPLIES[mode]
    assert error is None and len(data) == len(reply)
    if mode in ("oversize", "cut-record"):  # a record header, then random bytes
        assert data[:5] == reply[:5]
    else:
        assert data == reply
    assert srv.wait(30) == 0, "done after its one client"  # (not stopped: a SIGTERM could
    # reach it in its interpreter's exit, when the default action is back)


def test_evil_server_tcp_vanishes_and_resets_mid_reply(server):
    for mode in evil_server.RESETS:
        srv = server(sys.executable, os.path.join(HERE, "hostile", "evil_server.py"), "tcp",
                     mode)
        data, error = talk(srv.port)
        assert isinstance(error, ConnectionResetError), f"{mode}: {error!r}"
        reply = evil_server.TCP_REPLIES[mode]
        assert reply.startswith(data), f"{mode}: a part of the reply, then the reset"
        assert srv.wait(30) == 0


def test_evil_server_reads_a_tls_record_whole(server, pki):
    """A ClientHello sent in two pieces is read whole before the answer
    (closing with unread data would reset the connection first)."""
    srv = server(sys.executable, os.path.join(HERE, "hostile", "evil_server.py"), "tcp",
                 "plaintext")
    ch = tls_peer.client_hello()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:
        s.sendall(ch[:7])
        s.sendall(ch[7:])
        data, error = read_to_end(s)
    assert error is None and data == evil_server.TCP_REPLIES["plaintext"]
    assert srv.wait(30) == 0


@pytest.mark.parametrize("mode", evil_server.UDP_MODES)
def test_evil_server_udp_answers_every_datagram(server, mode):
    srv = server(sys.executable, os.path.join(HERE, "hostile", "evil_server.py"), "udp", mode)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        replies = []
        for _ in range(2):
            s.sendto(b"hello", ("127.0.0.1", srv.port))
            replies.append(s.recv(65535))
    for d in replies:
        if mode == "random":
            assert len(d) == 200
        elif mode == "bad-length":
            assert d[:3] == b"\x16\xfe\xfd" and int.from_bytes(d[11:13], "big") == 20000
            assert len(d) - 13 < 20000
        else:
            assert d == b"\x15\xfe\xfd" + bytes(8) + b"\x00\x02\x02\x28", "fatal, handshake_failure"
    srv.stop_checked()  # SIGTERM: status 0


# -- recorder ------------------------------------------------------------------

def test_recorder_sees_connections_and_datagrams(server, run, prog):
    rec = server(sys.executable, os.path.join(HERE, "hostile", "recorder.py"))
    run([prog("tcp-client"), "--send", "x", "-t", "2", "127.0.0.1", rec.port])
    run([prog("udp-client"), "--no-reply", "127.0.0.1", rec.port, "x"]).expect(0)
    rec.wait_for_count("tcp connection from 127.0.0.1:", 1, timeout=5)
    rec.wait_for_count("udp datagram from 127.0.0.1:", 1, timeout=5)
    rec.stop_checked()


def test_recorder_binds_tcp_and_udp_to_one_port():
    from hostile.recorder import bind_pair
    t, u = bind_pair()
    try:
        assert t.getsockname()[1] == u.getsockname()[1]
        assert t.type == socket.SOCK_STREAM and u.type == socket.SOCK_DGRAM
    finally:
        t.close()
        u.close()
