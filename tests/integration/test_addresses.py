"""Every address of a name: `localhost` is 127.0.0.1 and
::1 (whatever /etc/hosts says), tried address by address, the families
interleaved with a 250 ms head start (RFC 8305, as curl does), within the
one -t bound; -v shows each attempt. udp-client moves on to the next
address when a datagram is refused (ICMP port unreachable).

The servers listen on one family only. Where a test needs the other
family's port to refuse, it holds that port bound without listening
(TCP), or checks it is free (UDP, where a bound socket would answer)."""

import re
import socket
from contextlib import contextmanager

import pytest

from harness.system import ipv6_works
from harness.tty import type_lines
from harness.waits import free_port

pytestmark = pytest.mark.skipif(not ipv6_works(),
                                reason="this host has no IPv6 loopback (cannot bind ::1): "
                                       "localhost's two addresses cannot be tested")

V4, V6 = ("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)


def addr(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind(where, port, kind=socket.SOCK_STREAM):
    """A socket bound to where's loopback at port, or None when taken."""
    s = socket.socket(where[1], kind)
    try:
        s.bind((where[0], int(port)))
    except OSError:
        s.close()
        return None
    return s


@contextmanager
def refusing(where, port):
    """Holds where:port (TCP) bound but not listening: a connection there is
    refused at once, and no other socket can take the port meanwhile."""
    s = bind(where, port)
    assert s is not None, f"{addr(where[0], port)} is taken: cannot make it refuse"
    try:
        yield
    finally:
        s.close()


@contextmanager
def silent(where, port):
    """where:port (TCP) listening with a full backlog: a SYN gets no
    answer, so a connection there neither succeeds nor fails."""
    s = bind(where, port)
    assert s is not None, f"{addr(where[0], port)} is taken"
    s.listen(0)
    filler = socket.socket(where[1])
    filler.connect((where[0], int(port)))  # the one connection a backlog of 0 holds
    try:
        yield
    finally:
        filler.close()
        s.close()


def udp_free(where, port):
    s = bind(where, port, socket.SOCK_DGRAM)
    if s is not None:
        s.close()
    return s is not None


def port_free_on_both():
    """A port where nothing listens, for TCP or UDP, on either loopback."""
    for _ in range(100):
        port = free_port()  # free on 127.0.0.1
        socks = [bind(V6, port, kind) for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM)]
        for s in socks:
            if s is not None:
                s.close()
        if all(s is not None for s in socks):
            return port
    raise AssertionError("no port free on both 127.0.0.1 and ::1")


def udp_server_on(server, where, *args):
    """A udp-server bound to where only, whose port is free on the other
    loopback (so a datagram sent there is refused)."""
    other = V4 if where is V6 else V6
    for _ in range(10):
        srv = server("udp-server", "-b", where[0], *args)
        if udp_free(other, srv.port):
            return srv
        srv.stop_checked()
    raise AssertionError("udp-server's port was always taken on the other loopback")


def in_order(text, *lines):
    """Asserts that text has each line, in this order."""
    at = 0
    for line in lines:
        found = text.find(line, at)
        assert found >= 0, f"no [{line}] (in order) in:\n{text}"
        at = found + len(line)


# ---- tcp-client ----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["tcp", "tls"])
def test_tcp_localhost_reaches_a_server_on_ipv6_only(server, run, prog, pki, mode):
    tls = ["--tls"] if mode == "tls" else []
    srv = server("tcp-server", "-b", "::1", *tls, *(pki.server_args() if tls else []))
    with refusing(V4, srv.port):
        r = run([prog("tcp-client"), *tls, *(["--cafile", pki.ca] if tls else []),
                 "localhost", srv.port, "--send", "hi", "-v"])
    r.expect(0)
    assert r.out == f"tcp-server over {mode.upper()} is working"
    p = srv.port
    in_order(r.err, f"* Trying 127.0.0.1:{p}...", f"* 127.0.0.1:{p}: connection refused",
             f"* Trying [::1]:{p}...", f"* Connected to localhost (::1) port {p}")
    if tls:
        assert "verification: ok" in r.err  # the name checked is still localhost
    srv.wait_for(": hi")


def test_tcp_localhost_reaches_a_server_on_ipv4_only(server, run, prog):
    srv = server("tcp-server", "-b", "127.0.0.1")
    with refusing(V6, srv.port):
        r = run([prog("tcp-client"), "localhost", srv.port, "--send", "hi", "-v"])
    r.expect(0)
    assert r.out == "tcp-server over TCP is working"
    in_order(r.err, f"* Trying 127.0.0.1:{srv.port}...",
             f"* Connected to localhost (127.0.0.1) port {srv.port}")
    assert "[::1]" not in r.err  # the first answered at once: no second attempt
    srv.wait_for(": hi")


def test_without_v_the_attempts_stay_quiet(server, run, prog):
    srv = server("tcp-server", "-b", "::1")
    with refusing(V4, srv.port):
        r = run([prog("tcp-client"), "localhost", srv.port, "--send", "hi"])
    r.expect(0)
    assert r.err == ""


def test_a_silent_address_does_not_hold_up_the_next(server, run, prog):
    """127.0.0.1 never answers: after its 250 ms head start ::1 is tried
    beside it and wins, long before -t."""
    srv = server("tcp-server", "-b", "::1")
    with silent(V4, srv.port):
        r = run([prog("tcp-client"), "localhost", srv.port, "--send", "hi", "-v", "-t", "30"],
                timeout=60)
    r.expect(0)
    p = srv.port
    in_order(r.err, f"* Trying 127.0.0.1:{p}...", f"* Trying [::1]:{p}...",
             f"* Connected to localhost (::1) port {p}")
    assert f"127.0.0.1:{p}: " not in r.err  # the loser is closed without a word
    assert 0.25 <= r.seconds < 15, f"took {r.seconds:.1f} s"


def test_the_timeout_bounds_all_the_attempts(run, prog):
    port = port_free_on_both()
    with silent(V4, port), silent(V6, port):
        r = run([prog("tcp-client"), "localhost", port, "--send", "hi", "-v", "-t", "1"],
                timeout=60)
    r.expect(5)
    assert 1 <= r.seconds < 10, f"took {r.seconds:.1f} s"
    assert (f"connection to localhost timed out: 127.0.0.1:{port}: timed out; "
            f"[::1]:{port}: timed out") in r.err
    in_order(r.err, f"* Trying 127.0.0.1:{port}...", f"* Trying [::1]:{port}...",
             f"* 127.0.0.1:{port}: timed out", f"* [::1]:{port}: timed out")


# ---- udp-client ----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["udp", "dtls"])
def test_udp_localhost_reaches_a_server_on_ipv6_only(server, run, prog, pki, mode):
    """127.0.0.1 comes first and refuses (ICMP): the datagram (or the DTLS
    handshake) goes again to ::1."""
    tls = ["--dtls"] if mode == "dtls" else []
    srv = udp_server_on(server, V6, *tls, *(pki.server_args() if tls else []))
    r = run([prog("udp-client"), *tls, *(["--cafile", pki.ca] if tls else []),
             "localhost", srv.port, "hello", "-v"], timeout=60)
    r.expect(0)
    assert r.out == "udp-server is working"
    p = srv.port
    in_order(r.err, f"* Trying 127.0.0.1:{p}...", f"* 127.0.0.1:{p}: connection refused",
             f"* Trying [::1]:{p}...", f"* Connected to localhost (::1) port {p}")
    assert r.seconds < 10, f"took {r.seconds:.1f} s"  # the refusal came at once
    srv.wait_for(": hello")
    assert srv.count(": hello") == 1  # one datagram reached it, not one per address


@pytest.mark.parametrize("mode", ["udp", "dtls"])
def test_udp_localhost_reaches_a_server_on_ipv4_only(server, run, prog, pki, mode):
    tls = ["--dtls"] if mode == "dtls" else []
    srv = server("udp-server", "-b", "127.0.0.1", *tls, *(pki.server_args() if tls else []))
    r = run([prog("udp-client"), *tls, *(["--cafile", pki.ca] if tls else []),
             "localhost", srv.port, "hello", "-v"], timeout=60)
    r.expect(0)
    assert r.out == "udp-server is working"
    in_order(r.err, f"* Trying 127.0.0.1:{srv.port}...",
             f"* Connected to localhost (127.0.0.1) port {srv.port}")
    assert "[::1]" not in r.err
    srv.wait_for(": hello")


def test_udp_count_moves_on_once(server, run, prog):
    """With --count the refused address is left behind: every exchange
    after the first goes straight to ::1."""
    srv = udp_server_on(server, V6, "--echo")
    r = run([prog("udp-client"), "localhost", srv.port, "ping", "--count", "3", "-v"],
            timeout=60)
    r.expect(0)
    assert "3 exchanges, 3 replies, 0 lost" in r.err
    assert r.err.count("connection refused") == 1
    srv.wait_for_count(": ping", 3)


def test_a_line_typed_goes_again_to_the_next_address(server, prog):
    """No MESSAGE, stdin a terminal: the first line is refused by 127.0.0.1
    and sent again to ::1; the next goes straight there."""
    srv = udp_server_on(server, V6, "--echo")
    rc, out, err = type_lines([prog("udp-client"), "localhost", srv.port],
                              ["first line", "second"], srv.wait_for)
    assert rc == 0, err
    assert out == b"first line\nsecond\n"
    assert srv.count("Received from [::1]") == 2


# ---- every address refuses ---------------------------------------------------------

@pytest.mark.parametrize("mode", ["tcp", "tls", "udp", "dtls"])
def test_every_address_refusing_is_exit_3_at_once(run, prog, pki, mode):
    """Well under the timeout (tcp-client's 10 s, udp-client's 30 s or
    DTLS's 2 s x 4), naming both addresses."""
    port = port_free_on_both()
    program = "udp-client" if mode in ("udp", "dtls") else "tcp-client"
    tls = {"tcp": [], "udp": [], "tls": ["--tls", "--cafile", pki.ca],
           "dtls": ["--dtls", "--cafile", pki.ca]}[mode]
    data = ["hello"] if program == "udp-client" else ["--send", "hi"]
    r = run([prog(program), *tls, "localhost", port, *data], timeout=60)
    r.expect(3)
    assert r.seconds < 2, f"took {r.seconds:.1f} s"
    if program == "udp-client":
        assert f"connection refused: nothing listens on 127.0.0.1:{port}, [::1]:{port}" in r.err
    else:
        assert (f"connection to localhost failed: 127.0.0.1:{port}: Connection refused; "
                f"[::1]:{port}: Connection refused") in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err


def test_no_reply_still_hears_a_refusal_from_this_host(run, prog):
    """--no-reply waits for nothing, yet a refusal from this host is back
    by the time the send returns: exit 3 after both addresses, not 0."""
    port = port_free_on_both()
    r = run([prog("udp-client"), "--no-reply", "localhost", port, "hello"], timeout=60)
    r.expect(3)
    assert r.seconds < 2, f"took {r.seconds:.1f} s"
    assert f"connection refused: nothing listens on 127.0.0.1:{port}, [::1]:{port}" in r.err


def test_every_address_refusing_shows_each_with_v(run, prog):
    port = port_free_on_both()
    r = run([prog("udp-client"), "localhost", port, "hello", "-v"], timeout=60)
    r.expect(3)
    in_order(r.err, f"* Trying 127.0.0.1:{port}...", f"* 127.0.0.1:{port}: connection refused",
             f"* Trying [::1]:{port}...", f"* [::1]:{port}: connection refused",
             "udp-client: connection refused: nothing listens on")


def test_json_record_names_every_refused_address(run, prog):
    import json

    port = port_free_on_both()
    r = run([prog("udp-client"), "localhost", port, "hello", "--json"], timeout=60)
    r.expect(3)
    records = [json.loads(line) for line in r.err.splitlines() if line.startswith("{")]
    assert len(records) == 1, r.err
    assert records[0]["error"] == (f"connection refused: nothing listens on 127.0.0.1:{port}, "
                                   f"[::1]:{port}")


def test_a_literal_address_is_the_only_one_tried(run, prog):
    port = port_free_on_both()
    r = run([prog("tcp-client"), "127.0.0.1", port, "--send", "hi", "-v"])
    r.expect(3)
    assert re.findall(r"\* Trying (\S+)\.\.\.", r.err) == [f"127.0.0.1:{port}"]
    assert f"connection to 127.0.0.1:{port} failed: Connection refused" in r.err
