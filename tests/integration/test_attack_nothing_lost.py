"""Nothing lost (was attack_nothing_lost.sh).

100 concurrent tcp-client --tls --send-file - each stream 10 MB of random
data through tcp-server --tls --echo and get back exactly what they sent
(SHA-256 of what went in and of what came out). Then the same load with
SIGTERM in the middle (--grace 1): new connections are refused at once;
every client either gets all its data back or exits with an error, never 0
with a short reply; the server exits 0 within the grace period and a few
seconds, with its "[*] Stopped:" line, and that line accounts for every
client. A client that resets mid-stream and one that stops reading (50 MB
sent, nothing read) neither kill the server (SIGPIPE) nor stall the other
clients.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from harness.system import need, raise_fd_limit
from harness.waits import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
STREAM = os.path.join(HERE, "hostile", "stream.py")
BAD_PEER = os.path.join(HERE, "hostile", "bad_peer.py")

CLIENTS = 100
SIZE = 10 * 1000 * 1000
LOAD_LIMIT = 120  # seconds for the whole 100 x 10 MB load (10-15 s on a quiet machine)
SLOW_PACE = 8     # seconds the SIGTERM case's slow clients spread their data over


class Streams:
    """n clients (hostile.stream), started now, blocked until go(): they
    start together when the go pipe closes."""

    def __init__(self, start, client, cafile, port, n, size, tls, slow=0):
        self.n, self.size = n, size
        rfd, self.go_fd = os.pipe()
        try:
            self.procs = []
            for i in range(n):
                pace = SLOW_PACE if i >= n - slow else 0
                cmd = [sys.executable, STREAM, "--client", client, "--size", size,
                       "--pace", pace, "--go-fd", rfd]
                if tls:
                    cmd += ["--tls", "--cafile", cafile]
                self.procs.append(start(cmd + ["localhost", port], pass_fds=(rfd,)))
        finally:
            os.close(rfd)

    def go(self):
        """Starts them all at once, when all are waiting (a hundred Python
        processes take seconds to start on a loaded machine)."""
        wait_until(lambda: all(p.count("waiting for go") for p in self.procs), 60,
                   lambda: f"{sum(1 for p in self.procs if p.count('waiting for go'))} of "
                   f"{self.n} clients ready to go",
                   gone=lambda: any(not p.alive() for p in self.procs))
        self.release()

    def release(self):
        if self.go_fd is not None:
            os.close(self.go_fd)
            self.go_fd = None

    def finished(self):
        return sum(1 for p in self.procs if not p.alive())

    def wait(self, limit):
        """Waits until every client has finished (within limit seconds)."""
        wait_until(lambda: self.finished() == self.n, limit,
                   lambda: f"only {self.finished()} of {self.n} clients finished within "
                   f"{limit} s")

    def results(self):
        """[(result dict, tcp-client's stderr)] per client, in order."""
        out = []
        for i, p in enumerate(self.procs, 1):
            lines = p.lines()
            assert p.popen.poll() == 0 and lines, \
                f"stream client {i} did not report (status {p.popen.poll()})\n{p.report()}"
            out.append((json.loads(lines[-1]), p.err()))
        return out

    def judge(self):
        """(ok, cut): how many got exactly their data back (exit 0), and how
        many exited with an error. Fails if one exited 0 without its exact
        data, or failed without a word on stderr."""
        ok = cut = 0
        for i, (res, err) in enumerate(self.results(), 1):
            if res["rc"] == 0:
                assert res["got"] == self.size and res["got_sha256"] == res["sent_sha256"], (
                    f"client {i} exited 0 but got {res['got']} of {self.size} bytes back, "
                    f"SHA-256 {res['got_sha256']} for {res['sent_sha256']} sent; "
                    f"stderr: [{err}]")
                ok += 1
            else:
                assert err.strip(), f"client {i} exited {res['rc']} without an error message"
                cut += 1
        return ok, cut


@pytest.fixture
def streams(start, prog, pki):
    """streams(port, n, size, tls, slow=0): Streams; the last slow of them
    spread their data over SLOW_PACE s. Their go pipes close at the end."""
    made = []
    raise_fd_limit(2048)

    def make(port, n, size, tls, slow=0):
        s = Streams(start, prog("tcp-client"), pki.ca, port, n, size, tls, slow)
        made.append(s)
        return s

    yield make
    for s in made:
        s.release()


def tls_echo(server, pki, *args):
    return server("tcp-server", "--tls", *pki.server_args(), "--echo", *args)


def test_clients_x_10mb_through_tls_echo(server, streams, pki):
    srv = tls_echo(server, pki)
    st = streams(srv.port, CLIENTS, SIZE, tls=True)
    t0 = time.monotonic()
    st.go()
    st.wait(LOAD_LIMIT)
    print(f"{CLIENTS} clients x {SIZE} bytes echoed over TLS in "
          f"{(time.monotonic() - t0) * 1000:.0f} ms")
    ok, cut = st.judge()
    assert ok == CLIENTS, f"clients that got exactly their {SIZE} bytes back (the others: {cut})"
    srv.wait_for_count(f": echoed {SIZE} bytes", CLIENTS)
    assert srv.count("[!]") == 0, f"[!] lines\n{srv.out()}"
    assert srv.alive(), "tcp-server died"


def server_bytes_received(port):
    """Bytes the kernel has received on the server's open connections."""
    out = subprocess.run(["ss", "-Htin", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return sum(int(n) for n in re.findall(r"\bbytes_received:(\d+)", out))


STOPPED_RE = re.compile(r"Stopped: (\d+) served, (\d+) failed handshakes, (\d+) failed")


def test_sigterm_in_the_middle_of_the_load(server, streams, run, prog, pki):
    """--grace 1, and half the clients spread their data over 8 s: at the
    signal (40% of all data in) they have seconds to go however fast the
    machine, so some are still in flight when the grace ends. (Without
    them, a fast run finished the rest of the load within the grace.)"""
    need("ss")
    srv = tls_echo(server, pki, "--grace", "1")
    st = streams(srv.port, CLIENTS, SIZE, tls=True, slow=CLIENTS // 2)
    st.go()
    # Every client accepted first: one still in the listener's backlog when
    # it closes would be reset without the server ever counting it.
    srv.wait_for_count("[*] Accepted connection from", CLIENTS, timeout=60)
    # In the middle of the load: once the server has received 40% of all
    # the data (the kernel's byte counts of its open connections, and the
    # clients done already).
    want = CLIENTS * SIZE * 4 // 10
    got = {"n": 0}

    def received_enough():
        got["n"] = (server_bytes_received(srv.port)
                    + srv.count(f": echoed {SIZE} bytes") * SIZE)
        return got["n"] >= want

    wait_until(received_enough, 60,
               lambda: f"40% of the data at the server (it has received {got['n']} bytes)")
    done_before = st.finished()
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    srv.wait_for("[*] Stopping: waiting up to 1000 ms for", timeout=5)
    stopping = [x for x in srv.lines() if "[*] Stopping:" in x]
    in_flight = int(re.search(r"for (\d+) client", stopping[0]).group(1)) if stopping else -1
    # No new connection from now on.
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=5).close()
        pytest.fail("a new connection was not refused after SIGTERM (it connected)")
    except ConnectionRefusedError:
        pass
    except OSError as e:
        pytest.fail(f"a new connection was not refused after SIGTERM: {e!r}")
    r = run([prog("tcp-client"), "--tls", "--cafile", pki.ca, "--send", "too late",
             "localhost", srv.port])
    r.expect(3, "a new tcp-client after SIGTERM")
    assert "Connection refused" in r.err, "the late client's error"
    # The server exits 0 within the grace period and a few seconds.
    srv.wait(timeout=8)
    exit_ms = (time.monotonic() - t0) * 1000
    print(f"tcp-server had exited {exit_ms:.0f} ms after SIGTERM "
          "(--grace 1; looked for after the late-client checks)")
    srv.stop_checked()  # it has exited: this only checks the status
    stopped = [x for x in srv.lines() if "[*] Stopped:" in x]
    assert stopped, f"no [*] Stopped: line\n{srv.out()}"
    print(stopped[0])
    st.wait(20)
    ok, cut = st.judge()
    print(f"SIGTERM once the server had received {got['n']} bytes: {done_before} clients had "
          f"finished before it; {ok} got all their data, {cut} were cut off with an error")
    assert cut > 0, (
        "no client was cut off: the signal came too late to test anything"
        if in_flight <= 0 else
        f"no client was cut off, though {in_flight} were in flight at SIGTERM with --grace 1 "
        f"and the server exited {exit_ms:.0f} ms after it: the grace period was not enforced")
    m = STOPPED_RE.search(stopped[0])
    assert m, f"cannot read [{stopped[0]}]"
    served, failed_handshakes, failed = (int(x) for x in m.groups())
    assert served == ok, "clients served according to the server (vs clients that got their data)"
    assert served + failed_handshakes + failed == CLIENTS, "served + failed in the Stopped line"
    said = {}
    for res, err in st.results():
        if res["rc"] != 0:
            key = re.sub(r"[0-9]+(\.[0-9]+){3}:[0-9]+", "ADDR", err.strip())
            said[key] = said.get(key, 0) + 1
    print("the cut-off clients said: " + ";".join(f"{n} {k}" for k, n in sorted(said.items())))
    for i, (res, err) in enumerate(st.results(), 1):
        assert res["rc"] in (0, 1), \
            f"client {i} cut off: exit {res['rc']} (expected 1, an i/o error); stderr: [{err}]"


@pytest.mark.parametrize("mode", ["tls", "plain"])
def test_reset_mid_stream_and_a_client_that_stops_reading(server, start, streams, run, prog,
                                                          pki, tmp_path, mode):
    tls = mode == "tls"
    srv = server("tcp-server", "--echo", *(["--tls", *pki.server_args()] if tls else []))
    peer_tls = ["--tls", "--cafile", pki.ca] if tls else []
    release = tmp_path / "noread.release"
    noread = start([sys.executable, BAD_PEER, "noread", srv.port, *peer_tls,
                    "--release", release])
    reset = start([sys.executable, BAD_PEER, "reset", srv.port, *peer_tls])
    noread.wait_for("stuck after sending", timeout=30)
    reset.wait_for("reset after sending", timeout=30)
    print(f"{mode}: {noread.out().strip()}; {reset.out().strip()}")
    assert reset.wait(timeout=60) == 0, f"the resetting client failed: {reset.err()}"
    srv.wait_for_count("[!]", 1, timeout=10)  # the reset, and nothing else yet
    assert srv.alive(), "tcp-server died after a reset mid-stream"
    # The others are not stalled: 10 clients, 1 MB each, all echoed at once.
    st = streams(srv.port, 10, 1000 * 1000, tls)
    t0 = time.monotonic()
    st.go()
    st.wait(30)
    took = time.monotonic() - t0
    ok, cut = st.judge()
    assert ok == 10, f"clients echoed while one client does not read ({cut} failed)"
    print(f"{mode}: 10 clients x 1 MB echoed in {took * 1000:.0f} ms while a client is stuck "
          "not reading")
    assert took < 15, f"10 x 1 MB took {took:.1f} s beside a client that does not read"
    assert srv.alive(), "tcp-server died beside a client that does not read"
    # It goes (a reset, its receive queue full): one more [!] line, no SIGPIPE.
    release.touch()
    assert noread.wait(timeout=90) == 0, f"the non-reading client failed: {noread.err()}"
    srv.wait_for_count("[!]", 2, timeout=10)
    assert srv.alive(), "tcp-server died after the non-reading client went"
    r = run([prog("tcp-client"), *(["--tls", "--cafile", pki.ca] if tls else []),
             "--send", "still here", "localhost", srv.port])
    r.expect(0, "a client after the bad ones")
    assert r.out == "still here", "echo after the bad ones"
    srv.stop_checked()
