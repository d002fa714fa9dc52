"""hostile/bad_client.py does what each mode claims, seen from a trivial
Python listener (so server_resilience's cases test the server, not it)."""

import os
import re
import socket
import ssl
import struct
import sys
import threading
import time

import pytest

from hostile.bad_client import CUT_SHORT_HEAD, ESCAPES, GARBAGE, TRICKLED_HEAD

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ["plain", "tls"]


class OneShotListener:
    """Accepts one client on 127.0.0.1 (over TLS when given a context) and
    runs handler(conn) in a thread; .result is what it returned, .error
    what it raised."""

    def __init__(self, handler, context=None, ragged_eof_is_error=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.result = self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True,
                                       args=(handler, context, ragged_eof_is_error))
        self.thread.start()

    def _serve(self, handler, context, ragged_eof_is_error):
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(30)
            if context is not None:
                conn = context.wrap_socket(conn, server_side=True,
                                           suppress_ragged_eofs=not ragged_eof_is_error)
            self.result = handler(conn)
        except Exception as e:  # shown by join()
            self.error = e
        finally:
            self.sock.close()

    def join(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the listener is still busy with the client"
        if self.error is not None:
            raise self.error
        return self.result


def read_until(conn, done):
    data = b""
    while not done(data):
        d = conn.recv(65536)
        if not d:
            break
        data += d
    return data


def read_all(conn):
    return read_until(conn, lambda data: False)


@pytest.fixture
def tls_context(pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.cert(), pki.key())
    return ctx


def bad_client(run, mode, port, cafile=None, timeout=60):
    cmd = [sys.executable, "-m", "hostile.bad_client", mode, port] + ([cafile] if cafile else [])
    return run(cmd, timeout=timeout, cwd=HERE)


def test_plain_http_sends_a_request_and_reads_to_the_close(run):
    def handler(conn):
        head = read_until(conn, lambda d: b"\r\n\r\n" in d)
        conn.sendall(b"reply")
        conn.close()
        return head

    lst = OneShotListener(handler)
    bad_client(run, "plain-http", lst.port).expect(0)
    assert lst.join() == b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


def test_garbage_is_4_kib_that_is_no_tls_record(run):
    def handler(conn):
        got = read_until(conn, lambda d: len(d) >= len(GARBAGE))
        conn.sendall(b"answer to garbage")
        conn.close()
        return got

    lst = OneShotListener(handler)
    r = bad_client(run, "garbage", lst.port).expect(0)
    got = lst.join()
    assert got == GARBAGE and len(got) == 4096 and got[0] == 0xFF
    assert r.out_bytes == b"answer to garbage"


def test_partial_hello_is_half_a_client_hello(run):
    lst = OneShotListener(read_all)
    bad_client(run, "partial-hello", lst.port).expect(0)
    got = lst.join()
    # A TLS handshake record (type 22) whose stated length was not all sent.
    assert got[0] == 22 and got[1] == 3 and len(got) > 5
    record_len = struct.unpack("!H", got[3:5])[0]
    assert len(got) - 5 < record_len
    assert got[5] == 1  # ClientHello


def test_silent_says_nothing_and_leaves_when_the_server_closes(run):
    def handler(conn):
        conn.settimeout(1)
        try:
            data = conn.recv(100)
        except socket.timeout:  # the point: a second of silence
            data = None
        conn.close()
        return data

    lst = OneShotListener(handler)
    bad_client(run, "silent", lst.port, timeout=20).expect(0)
    assert lst.join() is None


@pytest.mark.parametrize("mode", MODES)
def test_reset_mid_reply_resets_after_the_echo_started(run, pki, tls_context, mode):
    def echo(conn):
        total = 0
        try:
            while True:
                d = conn.recv(65536)
                if not d:
                    return ("closed", total)
                total += len(d)
                conn.sendall(d)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
            return ("reset", total, repr(e))

    # Over TLS a reset may surface as an end without close_notify: not clean either.
    lst = OneShotListener(echo, tls_context if mode == "tls" else None, ragged_eof_is_error=True)
    bad_client(run, "reset-mid-reply", lst.port, pki.ca if mode == "tls" else None).expect(0)
    how = lst.join()
    assert how[0] == "reset", how
    assert how[1] > 4096


@pytest.mark.parametrize("mode", MODES)
def test_escape_sends_the_sequences_and_prints_the_reply(run, pki, tls_context, mode):
    def handler(conn):
        got = read_until(conn, lambda d: len(d) >= len(ESCAPES))
        conn.sendall(b"seen")
        conn.close()
        return got

    lst = OneShotListener(handler, tls_context if mode == "tls" else None)
    r = bad_client(run, "escape", lst.port, pki.ca if mode == "tls" else None).expect(0)
    assert lst.join() == ESCAPES
    assert r.out_bytes == b"seen"


def test_http_huge_head_never_ends_its_head(run):
    def handler(conn):
        got = read_until(conn, lambda d: len(d) >= 20000)
        conn.sendall(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n")
        conn.close()
        return got

    lst = OneShotListener(handler)
    r = bad_client(run, "http-huge-head", lst.port).expect(0)
    got = lst.join()
    assert got.startswith(b"GET / HTTP/1.1\r\nX-Big: aaa") and b"\r\n\r\n" not in got
    assert r.out.startswith("HTTP/1.1 431 ")


@pytest.mark.parametrize("mode", MODES)
def test_http_cut_short_ends_the_stream_after_25_bytes(run, pki, tls_context, mode):
    def handler(conn):
        got = read_all(conn)  # over TLS: to the close_notify
        if mode == "tls":
            conn = conn.unwrap()  # ours back, as a server would
        else:
            conn.sendall(b"after the end")  # a half-close: the client still reads
        conn.close()
        return got

    lst = OneShotListener(handler, tls_context if mode == "tls" else None)
    r = bad_client(run, "http-cut-short", lst.port, pki.ca if mode == "tls" else None).expect(0)
    assert lst.join() == CUT_SHORT_HEAD and len(CUT_SHORT_HEAD) == 25
    if mode == "plain":
        assert r.out_bytes == b"after the end"


def test_http_trickle_sends_a_byte_at_a_time_and_times_the_answer(run):
    def handler(conn):
        times, got = [], b""
        while len(got) < 5:
            d = conn.recv(1)
            if not d:
                break
            got += d
            times.append(time.monotonic())
        conn.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        conn.close()  # as a server giving up: the client's next bytes meet a reset
        return got, times

    lst = OneShotListener(handler)
    r = bad_client(run, "http-trickle", lst.port).expect(0)
    got, times = lst.join()
    assert TRICKLED_HEAD.startswith(got[:5])
    assert times[4] - times[0] >= 0.7  # 0.2 s between bytes
    assert r.out.startswith("HTTP/1.1 408 Request Timeout")
    m = re.fullmatch(r"(\d+\.\d) s", r.err.strip().split("\n")[-1])
    assert m and 0.7 <= float(m.group(1)), r.err


@pytest.mark.parametrize("mode", MODES)
def test_slow_waits_then_sends(run, pki, tls_context, mode):
    def handler(conn):
        t0 = time.monotonic()
        got = read_until(conn, lambda d: len(d) >= len(b"slow client"))
        waited = time.monotonic() - t0
        conn.sendall(b"served")
        conn.close()
        return got, waited

    lst = OneShotListener(handler, tls_context if mode == "tls" else None)
    r = bad_client(run, "slow", lst.port, pki.ca if mode == "tls" else None).expect(0)
    got, waited = lst.join()
    assert got == b"slow client" and waited >= 1.0
    assert r.out_bytes == b"served"
