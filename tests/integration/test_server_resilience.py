"""tcp-server against bad clients: plaintext to the TLS port, garbage, a
ClientHello cut in half, a client that says nothing, a reset in the middle
of a reply. Each costs exactly one "[!]" log line; the server stays up and
the next normal client gets its exact reply. A peer's escape sequences are
escaped in the log; --max-clients makes extra clients wait, not fail.

The bad clients are hostile/bad_client.py and hostile/held_clients.py.
"""

import json
import os
import re
import sys
import time

import pytest

from harness.modes import client_tls_args, reply_of, server_tls_args

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ["plain", "tls"]


def bad(run, kind, port, cafile=None):
    """Runs one bad client (bounded) to its end; it must have done its part."""
    cmd = [sys.executable, "-m", "hostile.bad_client", kind, port] + ([cafile] if cafile else [])
    return run(cmd, timeout=20, cwd=HERE).expect(0, f"bad client '{kind}' itself")


def still_serving(run, prog, pki, srv, mode, send="ping", want=None):
    """The server is alive and a normal tcp-client gets its exact reply."""
    assert srv.alive(), f"tcp-server is not running any more\n{srv.report()}"
    r = run([prog("tcp-client")] + client_tls_args(pki, mode)
            + ["--send", send, "localhost", srv.port])
    r.expect(0, "normal tcp-client after a bad client")
    assert r.out == (reply_of(mode) if want is None else want), "reply to the normal client"
    assert srv.alive(), f"tcp-server is not running any more\n{srv.report()}"


def warnings_of(srv):
    """The server's "[!]" lines, in order."""
    return [line for line in srv.lines() if "[!]" in line]


def assert_log_is_clean(*paths):
    """Nothing but printable ASCII and newlines: a peer's bytes are escaped."""
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        for i, b in enumerate(data):
            assert b == 0x0A or 0x20 <= b <= 0x7E, (
                f"raw control or non-ASCII byte 0x{b:02x} at offset {i} of the server's log "
                f"{path}: {data[max(0, i - 30):i + 30]!r}")


def nothing_more_logged():
    """The point is time passing: a late "[!]" line would show up in it."""
    time.sleep(0.3)


def test_tls_server_survives_plaintext_garbage_half_hello_and_silence(server, run, prog, pki):
    srv = server("tcp-server", "--tls", *pki.server_args(), "--handshake-timeout", 3)
    kinds = ["plain-http", "garbage", "partial-hello", "silent"]
    for n, kind in enumerate(kinds, 1):
        bad(run, kind, srv.port)
        srv.wait_for_count("[!]", n)
        still_serving(run, prog, pki, srv, "tls", f"ping after {kind}")
        srv.wait_for(f": ping after {kind}")
    assert "timed out" in warnings_of(srv)[-1], "the silent client's log line"
    nothing_more_logged()
    assert srv.count("[!]") == 4, "number of [!] lines for 4 bad clients"
    assert srv.count(": ping after") == 4, "normal clients served"
    assert_log_is_clean(srv.out_path, srv.err_path)


def test_plain_server_takes_garbage_as_a_request_and_drops_a_silent_client(
        server, run, prog, pki):
    srv = server("tcp-server", "-t", 3)
    r = bad(run, "garbage", srv.port)
    assert r.out == reply_of("plain"), "reply to the garbage request"
    srv.wait_for("  | \\xff\\xfe\\xfd")
    still_serving(run, prog, pki, srv, "plain", "ping after garbage")
    bad(run, "silent", srv.port)
    srv.wait_for_count("[!]", 1)
    still_serving(run, prog, pki, srv, "plain", "ping after silent")
    nothing_more_logged()
    assert srv.count("[!]") == 1, "number of [!] lines"
    assert_log_is_clean(srv.out_path, srv.err_path)


def test_tls_handshakes_do_not_block_the_accept_loop(server, start, run, prog, pki):
    """Clients stuck before or in the handshake do not hold up a normal one."""
    srv = server("tcp-server", "--tls", *pki.server_args(), "--handshake-timeout", 15)
    silent = [start([sys.executable, "-m", "hostile.bad_client", "silent", srv.port], cwd=HERE)
              for _ in range(3)]
    srv.wait_for_count("[*] Accepted connection from", 3)
    t0 = time.monotonic()
    still_serving(run, prog, pki, srv, "tls")
    took = time.monotonic() - t0
    assert took < 10, f"a normal client waited {took:.1f} s behind 3 silent ones (dropped at 15 s)"
    assert srv.count("[!]") == 0, "[!] lines before the handshake timeout"
    srv.wait_for_count("[!]", 3, timeout=30)
    for i, p in enumerate(silent, 1):
        assert p.wait(40) == 0, f"silent client {i} was not closed by the server\n{p.report()}"


@pytest.mark.parametrize("mode", MODES)
def test_http_head_too_big_cut_short_or_trickled(server, run, prog, pki, mode):
    """--http: 431 for a head over 16 KiB, a "[!]" line for one cut short,
    408 for one trickled a byte at a time (never idle for -t, but not
    complete within -t: it must not hold a worker for ever)."""
    ca = pki.ca if mode == "tls" else None
    srv = server("tcp-server", *server_tls_args(pki, mode), "--http", "-t", 2)

    r = bad(run, "http-huge-head", srv.port, ca)
    assert "HTTP/1.1 431 Request Header Fields Too Large" in r.out.split("\n")[0], \
        f"answer to a 20 KB head: {r.out[:200]!r}"
    srv.wait_for_count("[!]", 1)
    assert "HTTP request head over 16 KiB" in warnings_of(srv)[0]

    bad(run, "http-cut-short", srv.port, ca)
    srv.wait_for_count("[!]", 2)
    assert "HTTP request cut short after 25 bytes" in warnings_of(srv)[-1]

    r = bad(run, "http-trickle", srv.port, ca)
    assert "HTTP/1.1 408 Request Timeout" in r.out.split("\n")[0], \
        f"answer to a trickled head: {r.out[:200]!r}"
    took = r.err.rstrip("\n").split("\n")[-1]
    m = re.fullmatch(r"([0-9]+)\.[0-9] s", took)
    assert m and 1 <= int(m.group(1)) < 8, \
        f"the trickling client was answered after [{took}], not after about 2 s"
    srv.wait_for_count("[!]", 3)
    assert "no complete HTTP request head within 2000 ms" in warnings_of(srv)[-1]
    assert srv.count("[*] Received from") == 0, "requests served"

    r = run([prog("tcp-client")] + client_tls_args(pki, mode)
            + ["--body-only", "localhost", srv.port])
    r.expect(0, "a normal GET after the bad heads")
    assert r.out == reply_of(mode) + "\n", "body of the normal GET"
    assert srv.alive(), "tcp-server --http is not running any more"
    srv.stop_checked()
    assert "[*] Stopped: 1 served, 0 failed handshakes, 3 failed" in srv.out()


@pytest.mark.parametrize("mode", MODES)
def test_reset_mid_reply(server, run, prog, pki, mode):
    ca = pki.ca if mode == "tls" else None
    srv = server("tcp-server", *server_tls_args(pki, mode), "--echo")
    bad(run, "reset-mid-reply", srv.port, ca)
    srv.wait_for_count("[!]", 1)
    still_serving(run, prog, pki, srv, mode, "echo me", "echo me")
    bad(run, "reset-mid-reply", srv.port, ca)
    srv.wait_for_count("[!]", 2)
    still_serving(run, prog, pki, srv, mode, "echo me again", "echo me again")
    nothing_more_logged()
    assert srv.count("[!]") == 2, "number of [!] lines for 2 resets"


@pytest.mark.parametrize("mode", MODES)
def test_escape_sequences_in_the_log(server, run, pki, mode):
    srv = server("tcp-server", *server_tls_args(pki, mode))
    r = bad(run, "escape", srv.port, pki.ca if mode == "tls" else None)
    assert r.out == reply_of(mode), "reply"
    srv.wait_for("[*] Received from ")
    want = "\\x1b[31mRED\\x1b]0;title\\x07"  # the whole message, on the header's line
    line = re.compile(r"\[\*\] Received from \S+: " + re.escape(want))
    assert any(line.fullmatch(x) for x in srv.lines()), \
        f"the escape sequence is not logged as [[*] Received from ADDR: {want}]: " \
        f"{srv.out_bytes()!r}"
    assert_log_is_clean(srv.out_path, srv.err_path)


@pytest.mark.parametrize("mode", MODES)
def test_max_clients_2_with_3_slow_clients(server, run, prog, pki, mode):
    """Only --max-clients at once: the third client waits, then is served.
    Three clients each send a line and hold their connection for 2 s. With
    two workers, the first two are echoed at once and the third only once
    one of them has gone. Judged by order, not by latency: echoes 1 and 2
    come before either client lets go, echo 3 after one has."""
    srv = server("tcp-server", *server_tls_args(pki, mode), "--echo", "--max-clients", 2)
    cmd = [sys.executable, "-m", "hostile.held_clients", srv.port, "--clients", 3, "--hold", 2]
    if mode == "tls":
        cmd += ["--cafile", pki.ca]
    r = run(cmd, timeout=30, cwd=HERE)
    r.expect(0, "the three clients (did they finish?)")
    clients = [json.loads(line) for line in r.out.splitlines()]
    assert len(clients) == 3, f"clients that reported: {r.out}"
    first_release = min(clients[0]["released"], clients[1]["released"])
    for c in clients:
        i = c["client"]
        assert c["echo"] == f"client {i}", f"echo to client {i}"
        when = "before" if c["echoed"] < first_release else "after"
        if i < 3:
            assert when == "before", \
                f"client {i}'s echo, against the first release (a free worker was there)"
        else:
            assert when == "after", \
                "client 3's echo, against the first release (more than 2 clients served at once?)"
    assert srv.count("[!]") == 0, "[!] lines"
    still_serving(run, prog, pki, srv, mode, "ping", "ping")
