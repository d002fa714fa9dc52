"""Slowloris and handshake floods against the servers' default settings
(short timeouts only, to keep the test short).

1,000 connections sit idle before or inside the handshake (plain TCP:
connected and silent; TLS: silent or half a ClientHello; DTLS: a real
cookie exchange, then silence), from one process (hostile.horde), while
legitimate clients get their exact reply at once; the idle ones are closed
at --handshake-timeout (plain: -t), each with one "[!]" line; the server's
thread count does not grow with them and its RSS growth is bounded.
--max-clients 4 with 20 clients at once serves them all. 2,000 cookieless
DTLS ClientHellos from as many source ports (hostile.flood) cost no
thread, descriptor or memory and get only HelloVerifyRequests.
"""

import os
import re
import subprocess
import sys
import time

import pytest

from harness.system import fd_count, proc_status, raise_fd_limit
from harness.waits import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))

IDLE = 1000             # connections in the horde
# --handshake-timeout (plain TCP: -t) for the horde cases: room to open 1000
# and serve 5 legitimate clients on a loaded machine.
HS_TIMEOUT = 8
SLACK_MS = 4000         # a horde connection is closed by HS_TIMEOUT + this
# RSS growth with the horde (not bounded under sanitizers, where memory is
# shadowed and freed blocks are quarantined).
RSS_MAX_KB = 64 * 1024
# A legitimate client among the horde, or while the server drops it, is
# served within this (8-60 ms on a quiet machine; one took 1.5 s on a loaded
# 2-core CI machine; waiting behind the horde would take HS_TIMEOUT, and a
# server stalling per dropped client would take minutes).
LEGIT_MAX_MS = 3000
FD_LIMIT = 4200         # 2,000 sockets in the flood, 1,000 in the horde, the server's

REPLIES = {
    "plain": "tcp-server over TCP is working",
    "tls": "tcp-server over TLS is working",
    "dtls": "udp-server is working",
}

HORDES = {
    # kind: (server, its options past the PKI's, horde mode, the log line of a drop)
    "plain": ("tcp-server", ["-t", HS_TIMEOUT], "silent",
              f"timeout: no data from the peer for {HS_TIMEOUT * 1000} ms"),
    "tls": ("tcp-server", ["--tls", "--handshake-timeout", HS_TIMEOUT], "tls-mixed",
            f"TLS handshake timed out after {HS_TIMEOUT * 1000} ms"),
    "dtls": ("udp-server", ["--dtls", "--handshake-timeout", HS_TIMEOUT], "dtls",
             f"DTLS handshake timed out after {HS_TIMEOUT * 1000} ms"),
}


@pytest.fixture(autouse=True)
def fd_limit():
    raise_fd_limit(FD_LIMIT)


def hostile_cmd(name, *args):
    """A hostile module's command line (run with cwd=HERE)."""
    return [sys.executable, "-m", f"hostile.{name}"] + [str(a) for a in args]


def whole(srv):
    """Waits for the Listening line: it comes once the server is whole and
    after the --ready-fd descriptor is closed, so counts taken now are the
    idle server's."""
    srv.wait_for("[*] Listening on", 10)


def status_line(pid):
    return (f"threads {proc_status(pid, 'Threads')}, fds {fd_count(pid)}, "
            f"VmRSS {proc_status(pid, 'VmRSS')} kB, VmHWM {proc_status(pid, 'VmHWM')} kB")


def legit(run, prog, pki, kind, port, msg):
    """One legitimate client of the kind's server: exit 0 with the exact
    reply. Returns how long it took, in ms."""
    if kind == "plain":
        cmd = [prog("tcp-client"), "--send", msg, "127.0.0.1", port]
    elif kind == "tls":
        cmd = [prog("tcp-client"), "--tls", "--cafile", pki.ca, "--send", msg, "localhost", port]
    else:
        cmd = [prog("udp-client"), "--dtls", "--cafile", pki.ca, "localhost", port, msg]
    r = run(cmd, timeout=20)
    r.expect(0, f"legitimate {kind} client [{msg}]")
    assert r.out == REPLIES[kind], f"reply to the legitimate {kind} client [{msg}]"
    return r.seconds * 1000


def non_horde_alerts(srv, drop_line):
    return [line for line in srv.lines() if "[!]" in line and drop_line not in line]


@pytest.mark.parametrize("kind", ["plain", "tls", "dtls"])
def test_idle_horde(kind, server, start, run, prog, pki, sanitizer):
    program, options, mode, drop_line = HORDES[kind]
    tls_args = pki.server_args() if kind != "plain" else []
    srv = server(program, *options, *tls_args)
    whole(srv)
    pid = srv.pid
    th0, fd0, rss0 = proc_status(pid, "Threads"), fd_count(pid), proc_status(pid, "VmRSS")
    print(f"{kind}, before: {status_line(pid)}")

    t_open = time.monotonic()
    horde = start(hostile_cmd("horde", mode, srv.port, IDLE, HS_TIMEOUT + 10), cwd=HERE)
    horde.wait_for(f"opened {IDLE} in", 30)
    print(f"{kind}: horde {horde.out().strip()}")
    srv.wait_for_count("[*] Accepted connection from", IDLE, 10)
    assert srv.count("[!]") == 0, (
        f"[!] lines before the idle connections' timeout (the horde took "
        f"{(time.monotonic() - t_open) * 1000:.0f} ms to open)")
    th1, fd1 = proc_status(pid, "Threads"), fd_count(pid)
    print(f"{kind}, {IDLE} idle: {status_line(pid)}")
    assert th1 == th0, f"server threads with {IDLE} idle connections (vs before)"
    assert fd1 >= fd0 + IDLE, \
        f"the server holds {fd1} descriptors with {IDLE} idle connections (before: {fd0})"

    # Legitimate clients while the horde sits: each gets its exact reply at once.
    worst = 0
    for i in range(1, 6):
        ms = legit(run, prog, pki, kind, srv.port, f"legit {i}")
        worst = max(worst, ms)
        assert ms < LEGIT_MAX_MS, \
            f"legit client {i} took {ms:.0f} ms among {IDLE} idle {kind} connections"
    print(f"{kind}: legitimate clients served in at most {worst:.0f} ms among {IDLE} idle "
          "connections")
    srv.wait_for(": legit 5")
    # Nothing failed but the horde's own timeouts, which a loaded machine
    # may reach before the fifth legitimate client is through.
    assert non_horde_alerts(srv, drop_line) == [], \
        "[!] lines other than the horde's timeouts while the legit clients were served"
    th2 = proc_status(pid, "Threads")
    assert th2 <= th0 + 5, \
        f"server threads: {th0} before, {th2} after 5 legit clients among {IDLE} idle ones"

    # The horde is closed at the timeout, each with one log line; while the
    # server is dropping them, legitimate clients are still served at once.
    srv.wait_for(drop_line, HS_TIMEOUT + 5)
    worst = 0
    for i in range(1, 4):
        ms = legit(run, prog, pki, kind, srv.port, f"while dropping {i}")
        print(f"{kind}: a legitimate client served in {ms:.0f} ms while the server drops the "
              f"idle ones ({srv.count(drop_line)} dropped so far)")
        assert ms < LEGIT_MAX_MS, (f"a legitimate client took {ms:.0f} ms while the server was "
                                   f"dropping the idle {kind} connections")
        worst = max(worst, ms)
    srv.wait_for_count(drop_line, IDLE, HS_TIMEOUT + SLACK_MS // 1000 + 2)
    print(f"{kind}: all {IDLE} dropped by the server "
          f"{(time.monotonic() - t_open) * 1000:.0f} ms after the horde started")
    if kind != "dtls":
        # The horde exits once every connection is closed (its own bound:
        # 60 s from its start, as the bash suite's `timeout 60` gave it).
        st = horde.wait(max(20.0, 60 - (time.monotonic() - t_open)))
        assert st == 0, f"horde exit status ({horde.err()})"
        closed = [line for line in horde.lines() if line.startswith("closed ")]
        assert closed, "the horde reported no closes"
        print(f"{kind}: {closed[0]}")
        m = re.match(r"closed (\d+) of (\d+) after ([0-9.]+)-([0-9.]+) s", closed[0])
        assert m, f"cannot read [{closed[0]}]"
        assert int(m[1]) == IDLE, "idle connections closed by the server"
        lo, hi = float(m[3]), float(m[4])
        assert lo >= HS_TIMEOUT - 0.5 and hi <= HS_TIMEOUT + SLACK_MS / 1000, (
            f"the idle connections were closed after {lo}-{hi} s, not at {HS_TIMEOUT} s "
            f"(+{SLACK_MS} ms)")
    # Every dropped connection's descriptor is closed (it may go a moment
    # after its log line), and no more lines come than one per connection.
    wait_until(lambda: fd_count(pid) <= fd0, 10,
               lambda: f"server descriptors back to {fd0} (has {fd_count(pid)})")
    assert srv.count("[!]") == IDLE, "[!] lines: one per idle connection"
    fd2, rss2, hwm = fd_count(pid), proc_status(pid, "VmRSS"), proc_status(pid, "VmHWM")
    print(f"{kind}, after: {status_line(pid)}")
    assert fd2 == fd0, "server descriptors before and after the horde"
    if sanitizer is None:
        assert hwm - rss0 < RSS_MAX_KB, \
            f"{kind}: RSS grew from {rss0} kB to a peak of {hwm} kB with {IDLE} idle connections"
    print(f"{kind}: legitimate clients served in at most {worst:.0f} ms while the idle ones "
          "were dropped")
    print(f"{kind}: RSS {rss0} kB before, peak {hwm} kB (+{(hwm - rss0) // 1024} MiB), "
          f"{rss2} kB after; threads {th0} -> {th1} (idle) -> {th2} (after 5 legit)")
    # Still serving.
    legit(run, prog, pki, kind, srv.port, "after the horde")
    assert srv.alive(), "the server"
    srv.stop_checked()


def test_max_clients_4_with_20_tls_clients(server, start, prog, pki):
    """--max-clients 4 and 20 TLS clients at once, each streaming for a
    second: all are served, never by more than 4 worker threads."""
    srv = server("tcp-server", "--tls", *pki.server_args(), "--echo", "--max-clients", 4)
    whole(srv)
    th0 = proc_status(srv.pid, "Threads")
    clients = [start([prog("tcp-client"), "--tls", "--cafile", pki.ca, "--send-file", "-",
                      "localhost", srv.port], stdin=subprocess.PIPE) for _ in range(20)]
    t0 = time.monotonic()
    for i, c in enumerate(clients, 1):
        c.popen.stdin.write(f"client {i}".encode())
        c.popen.stdin.flush()
    time.sleep(1)  # the point: each client streams for a second
    for c in clients:
        c.popen.stdin.close()
    most = [th0]

    def all_done():
        most[0] = max(most[0], proc_status(srv.pid, "Threads"))
        return not any(c.alive() for c in clients)

    wait_until(all_done, 30, lambda: "clients still running after 30 s: " + ", ".join(
        str(i) for i, c in enumerate(clients, 1) if c.alive()), interval=0.05)
    took = (time.monotonic() - t0) * 1000
    for i, c in enumerate(clients, 1):
        assert c.wait(5) == 0, f"exit status of client {i} ({c.err()})"
        assert c.out().rstrip("\n") == f"client {i}", f"echo to client {i}"
    assert srv.alive(), "tcp-server --max-clients 4"
    print(f"--max-clients 4: 20 clients holding 1 s each served in {took:.0f} ms; threads "
          f"{th0} -> at most {most[0]}")
    assert most[0] <= th0 + 4, f"threads went from {th0} to {most[0]} with --max-clients 4"
    srv.wait_for_count(": echoed ", 20)
    assert srv.count("[!]") == 0, "[!] lines"


def holds_still(sample):
    """A condition for wait_until: true once two samples in a row agree."""
    last = [None]

    def cond():
        now = sample()
        same = now == last[0]
        last[0] = now
        return same

    return cond


def test_spoofed_dtls_flood(server, run, prog, pki, sanitizer):
    """2,000 cookieless ClientHellos, each from a new source port: only
    HelloVerifyRequests come back, and the server's threads, descriptors
    and memory do not move."""
    srv = server("udp-server", "--dtls", *pki.server_args())
    whole(srv)
    pid = srv.pid
    # Warm up: one real session, so what a first handshake allocates once
    # (OpenSSL's caches) is not counted against the flood.
    r = run([prog("udp-client"), "--dtls", "--cafile", pki.ca, "localhost", srv.port, "warm-up"],
            timeout=20)
    r.expect(0, "udp-client --dtls before the flood")
    srv.wait_for(" closed the session")
    # The session's socket is closed just after that line: wait until the
    # descriptor count holds still.
    wait_until(holds_still(lambda: fd_count(pid)), 10,
               "the server's descriptor count to hold still", interval=0.2)
    th0, fd0, rss0 = proc_status(pid, "Threads"), fd_count(pid), proc_status(pid, "VmRSS")
    print(f"DTLS flood, before: {status_line(pid)}")
    r = run(hostile_cmd("flood", srv.port, 2000, pid), timeout=60, cwd=HERE)
    r.expect(0, "2,000 cookieless ClientHellos")
    print(r.out.rstrip("\n"))
    assert ": 2000 HelloVerifyRequests, 0 unanswered" in r.out, "the flood's result"
    m = re.search(r"most threads (\d+), most fds (\d+), most VmRSS (\d+)", r.out)
    assert m, f"no samples: [{r.out}]"
    assert int(m[1]) == th0, "most udp-server threads during the flood (vs before)"
    assert int(m[2]) == fd0, "most udp-server descriptors during the flood (vs before)"
    if sanitizer is None:
        assert int(m[3]) - rss0 <= 1024, \
            f"udp-server's RSS went from {rss0} kB to {m[3]} kB during the flood"
    th1, fd1, rss1 = proc_status(pid, "Threads"), fd_count(pid), proc_status(pid, "VmRSS")
    print(f"DTLS flood, after: {status_line(pid)}")
    assert th1 == th0, "udp-server threads before and after the flood"
    assert fd1 == fd0, "udp-server descriptors before and after the flood"
    if sanitizer is None:
        assert rss1 - rss0 <= 1024, f"udp-server's RSS went from {rss0} kB to {rss1} kB after " \
            "the flood"
    assert srv.count("[*] Accepted connection from") == 1, "sessions (only the warm-up)"
    assert srv.count("[!]") == 0, "[!] lines"
    r = run([prog("udp-client"), "--dtls", "--cafile", pki.ca, "localhost", srv.port,
             "after the flood"], timeout=20)
    r.expect(0, "udp-client --dtls after the flood")
    assert r.out == REPLIES["dtls"], "reply after the flood"
