"""The slowloris tools do what they claim, against trivial Python
listeners (no secsock program): hostile.dtls_hello builds ClientHellos a
DTLS server can parse and reads HelloVerifyRequests; hostile.horde opens
its connections the way its mode says and reports the server's closes;
hostile.flood counts HelloVerifyRequests and fails on anything else."""

import hashlib
import os
import re
import socket
import sys
import threading
import time

import pytest

from harness.waits import wait_until
from hostile.dtls_hello import (cookie_offset, dtls_client_hello, hvr_cookie, is_server_hello,
                                with_cookie)

HERE = os.path.dirname(os.path.abspath(__file__))


def module_cmd(name, *args):
    return [sys.executable, "-m", f"hostile.{name}"] + [str(a) for a in args]


def handshake_record(msg_type, msg_seq, body):
    """A DTLS 1.2 handshake record holding one unfragmented message."""
    hs = (bytes([msg_type]) + len(body).to_bytes(3, "big") + msg_seq.to_bytes(2, "big")
          + bytes(3) + len(body).to_bytes(3, "big"))
    return (bytes([22]) + b"\xfe\xfd" + bytes(8) + (len(hs) + len(body)).to_bytes(2, "big")
            + hs + body)


def hello_verify_request(cookie):
    """A HelloVerifyRequest carrying cookie."""
    return handshake_record(3, 0, b"\xfe\xff" + bytes([len(cookie)]) + cookie)


def server_hello_record():
    """A record that starts like a ServerHello (all the horde looks at)."""
    return handshake_record(2, 1, b"\xfe\xfd" + bytes(32) + b"\x00" + b"\xc0\x2f" + b"\x00")


def parse_client_hello(d):
    """(cookie, message_seq, record seq) of a DTLS ClientHello; fails on a
    record whose lengths do not add up."""
    assert d[0] == 22 and d[13] == 1, f"not a ClientHello: {d[:16]!r}"
    assert int.from_bytes(d[11:13], "big") == len(d) - 13, "record length"
    assert int.from_bytes(d[14:17], "big") == len(d) - 25, "handshake length"
    assert int.from_bytes(d[22:25], "big") == len(d) - 25, "fragment length"
    at = cookie_offset(d)
    return d[at + 1:at + 1 + d[at]], int.from_bytes(d[17:19], "big"), int.from_bytes(d[5:11], "big")


class FakeDtlsServer(threading.Thread):
    """A DTLS stand-in: a HelloVerifyRequest (a cookie per peer) for a
    cookieless ClientHello, a ServerHello for one with the right cookie.
    answer="server-hello" answers every ClientHello with a ServerHello,
    "big-hvr" with a HelloVerifyRequest padded past the ClientHello."""

    def __init__(self, answer="honest"):
        super().__init__(daemon=True)
        self.answer = answer
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.cookieless = 0
        self.verified = set()
        self.bad = []
        self.stopping = threading.Event()

    @staticmethod
    def cookie_for(peer):
        return hashlib.sha256(repr(peer).encode()).digest()[:16]

    def run(self):
        while not self.stopping.is_set():
            try:
                d, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            try:
                cookie, msg_seq, rec_seq = parse_client_hello(d)
            except AssertionError as e:
                self.bad.append(str(e))
                continue
            if self.answer == "server-hello":
                self.sock.sendto(server_hello_record(), peer)
            elif not cookie:
                hvr = hello_verify_request(self.cookie_for(peer))
                if self.answer == "big-hvr":
                    hvr += bytes(len(d))
                self.cookieless += 1
                self.sock.sendto(hvr, peer)
            elif cookie == self.cookie_for(peer) and msg_seq == 1 and rec_seq == 1:
                self.verified.add(peer)
                self.sock.sendto(server_hello_record(), peer)
            else:
                self.bad.append(f"{peer}: cookie {cookie!r}, message_seq {msg_seq}, "
                                f"record seq {rec_seq}")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.join(5)
        self.sock.close()


class TcpListener(threading.Thread):
    """Accepts count connections, waits until want_data(i, bytes) holds
    for every one (i in accept order), then closes them all."""

    def __init__(self, count, want_data):
        super().__init__(daemon=True)
        self.count = count
        self.want_data = want_data
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.error = None

    def run(self):
        conns = []
        try:
            self.sock.settimeout(30)
            while len(conns) < self.count:
                c, _ = self.sock.accept()
                c.setblocking(False)
                conns.append(c)
                self.received.append(b"")

            def all_in():
                for i, c in enumerate(conns):
                    try:
                        self.received[i] += c.recv(65535)
                    except BlockingIOError:
                        pass
                return all(self.want_data(i, d) for i, d in enumerate(self.received))

            wait_until(all_in, 20, "the horde's bytes")
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            for c in conns:
                c.close()
            self.sock.close()


def test_dtls_client_hello_and_with_cookie():
    ch = dtls_client_hello()
    cookie, msg_seq, rec_seq = parse_client_hello(ch)
    assert (cookie, msg_seq, rec_seq) == (b"", 0, 0)
    second = with_cookie(ch, b"0123456789abcdef")
    assert parse_client_hello(second) == (b"0123456789abcdef", 1, 1)
    assert len(second) == len(ch) + 16
    with pytest.raises(AssertionError):
        with_cookie(second, b"x")
    assert hvr_cookie(hello_verify_request(b"abc")) == b"abc"
    assert hvr_cookie(server_hello_record()) is None and hvr_cookie(b"\x16") is None
    assert is_server_hello(server_hello_record()) and not is_server_hello(ch)


def test_dtls_hello_module_reads_a_hello_verify_request(run):
    with FakeDtlsServer() as fake:
        r = run(module_cmd("dtls_hello", fake.port), cwd=HERE, timeout=30).expect(0)
    assert re.match(r"HelloVerifyRequest, cookie [0-9a-f]{32} ", r.out), r.out
    with FakeDtlsServer("server-hello") as fake:
        r = run(module_cmd("dtls_hello", fake.port), cwd=HERE, timeout=30).expect(1)
    assert r.out.startswith("not a HelloVerifyRequest"), r.out


def test_horde_silent_says_nothing_and_sees_the_closes(start):
    count = 60
    listener = TcpListener(count, lambda i, d: True)
    # The listener closes the moment all are in: the horde must see every close.
    listener.start()
    horde = start(module_cmd("horde", "silent", listener.port, count, 20), cwd=HERE)
    assert horde.wait(40) == 0, horde.report()
    listener.join(5)
    assert listener.error is None, listener.error
    assert listener.received == [b""] * count, "a silent connection sent something"
    lines = horde.lines()
    assert lines[0].startswith(f"opened {count} in "), lines
    assert re.match(rf"closed {count} of {count} after [0-9.]+-[0-9.]+ s$", lines[1]), lines


def test_horde_tls_mixed_sends_half_a_hello_on_odd_ones(start):
    count = 40

    def want(i, d):
        if i % 2 == 0:
            return d == b""
        # a TLS handshake record's header, and not the whole record
        return len(d) > 5 and d[:2] == b"\x16\x03" and len(d) < 5 + int.from_bytes(d[3:5], "big")

    listener = TcpListener(count, want)
    listener.start()
    horde = start(module_cmd("horde", "tls-mixed", listener.port, count, 20), cwd=HERE)
    assert horde.wait(40) == 0, horde.report()
    listener.join(5)
    assert listener.error is None, f"{listener.error}: {listener.received}"
    assert f"closed {count} of {count} after" in horde.out()


def test_horde_dtls_completes_the_cookie_exchange(start):
    count = 150  # two waves
    with FakeDtlsServer() as fake:
        t0 = time.monotonic()
        horde = start(module_cmd("horde", "dtls", fake.port, count, 0.5), cwd=HERE)
        assert horde.wait(60) == 0, horde.report()
        assert horde.out().startswith(f"opened {count} in "), horde.out()
        assert "closed" not in horde.out(), "DTLS peers are held, not watched for closes"
        assert len(fake.verified) == count and fake.bad == [], fake.bad
        assert time.monotonic() - t0 >= 0.5, "the horde held its peers"


def test_flood_counts_hello_verify_requests(run):
    with FakeDtlsServer() as fake:
        r = run(module_cmd("flood", fake.port, 200, os.getpid()), cwd=HERE, timeout=60)
        r.expect(0)
        assert fake.verified == set() and fake.bad == []
    assert re.match(r"200 ClientHellos \(\d+ sent again\) in [0-9.]+ s: "
                    r"200 HelloVerifyRequests, 0 unanswered\n", r.out), r.out
    assert re.search(r"most threads \d+, most fds \d+, most VmRSS \d+ kB", r.out), r.out
    assert fake.cookieless >= 200


@pytest.mark.parametrize("answer,complaint", [
    ("server-hello", "not a HelloVerifyRequest from the server"),
    ("big-hvr", "a HelloVerifyRequest of "),
], ids=["server-hello", "big-hvr"])
def test_flood_fails_on_anything_but_a_small_hello_verify_request(answer, complaint, run):
    with FakeDtlsServer(answer) as fake:
        r = run(module_cmd("flood", fake.port, 100, os.getpid()), cwd=HERE, timeout=60)
    assert r.rc not in (0, None), r
    assert complaint in r.err, r
