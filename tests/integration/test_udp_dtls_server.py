"""udp-server --dtls under the microscope: the stateless cookie exchange
seen on the wire with tshark (a HelloVerifyRequest before the ServerHello,
the second ClientHello carrying the cookie); 200 ClientHellos from as many
source ports that never come back (as from spoofed addresses) and forged
cookies each get only a HelloVerifyRequest no larger than the ClientHello,
and cost no session, thread or file descriptor; 50 DTLS peers at once,
each served with its own reply. (Was udp_dtls_server.sh.)"""

import os
import re
import signal
import socket
import sys
import threading

import pytest

from harness.system import fd_count, need, proc_status
from harness.waits import free_port, wait_until
from hostile import dtls_hello, dtls_hello_flood

HERE = os.path.dirname(os.path.abspath(__file__))
REPLY_TEXT = "udp-server is working"


@pytest.fixture
def dtls_server(server, pki):
    """dtls_server(*args): udp-server --dtls with the test server certificate."""

    def starter(*args):
        return server("udp-server", "--dtls", *pki.server_args(), *args)

    return starter


# -- the cookie exchange on the wire -------------------------------------------

def handshake_events(lines, port):
    """tshark's field lines "SRCPORT<TAB>TYPES<TAB>COOKIE-LENGTHS" (one per
    DTLS datagram, types and lengths comma-separated) as a list of
    (from_server, handshake_type, cookie_length or None), in wire order."""
    events = []
    for line in lines:
        src, types, cookies = (line.split("\t") + ["", ""])[:3]
        cookies = [c for c in cookies.split(",") if c]
        for t in [t for t in types.split(",") if t]:
            cookie = int(cookies.pop(0)) if t in ("1", "3") and cookies else None
            events.append((src == str(port), int(t), cookie))
    return events


def check_cookie_exchange(events):
    """The server's side of RFC 6347's cookie exchange: ClientHello (no
    cookie), HelloVerifyRequest (3) with a cookie, a second ClientHello
    echoing it, and only then one ServerHello (2)."""
    kinds = [(srv, t) for srv, t, _ in events]
    assert (True, 3) in kinds, "a HelloVerifyRequest from the server"
    assert (True, 2) in kinds, "a ServerHello"
    assert (False, 1) in kinds, "a ClientHello"
    hvr = kinds.index((True, 3))
    sh = kinds.index((True, 2))
    first_ch = kinds.index((False, 1))
    assert first_ch < hvr < sh, "order: ClientHello, HelloVerifyRequest, ..., ServerHello"
    assert events[first_ch][2] == 0, "the first ClientHello carries no cookie"
    assert events[hvr][2] and events[hvr][2] > 0, "the HelloVerifyRequest carries a cookie"
    later = [i for i, k in enumerate(kinds) if k == (False, 1) and i > hvr]
    assert later and later[0] < sh, "a second ClientHello comes before the ServerHello"
    assert events[later[0]][2] == events[hvr][2], "the second ClientHello echoes the cookie"
    assert kinds.count((True, 2)) == 1 and kinds.count((True, 3)) == 1, \
        "one ServerHello, one HelloVerifyRequest"


def dissect(run, pcap, port):
    """The DTLS datagrams on port in pcap, as tshark's field lines."""
    r = run(["tshark", "-r", pcap, "-d", f"udp.port=={port},dtls", "-Y", "dtls", "-T", "fields",
             "-E", "occurrence=a", "-E", "aggregator=,", "-e", "udp.srcport",
             "-e", "dtls.handshake.type", "-e", "dtls.handshake.cookie_length"]).expect(0)
    return r.out.split("\n")[:-1]


def probe_seen(capture, probe_port, size, deadline=20):
    """Sends size-byte datagrams to probe_port (where nothing listens) until
    tshark (run with -l -P) has printed one: from then on the capture is
    live, and everything sent before that probe is in it."""
    line = re.compile(rf"\b{probe_port}\b.*Len={size}\b")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        def seen():
            if any(line.search(x) for x in capture.lines()):
                return True
            s.sendto(b"p" * size, ("127.0.0.1", probe_port))
            return False

        wait_until(seen, deadline, f"tshark printing a {size}-byte probe to port {probe_port}",
                   gone=lambda: not capture.alive(), interval=0.2)


def test_cookie_exchange_on_the_wire(dtls_server, start, run, prog, pki, tmp_path):
    need("tshark")
    srv = dtls_server()
    pcap = str(tmp_path / "dtls.pcap")
    probe = free_port()
    tshark = start(["tshark", "-n", "-l", "-P", "-i", "lo", "-f",
                    f"udp port {srv.port} or udp port {probe}", "-w", pcap])
    probe_seen(tshark, probe, 5)
    r = run([prog("udp-client"), "--dtls", "--cafile", pki.ca, "localhost", srv.port,
             "seen on the wire"]).expect(0)
    assert r.out == REPLY_TEXT
    srv.wait_for(" closed the session")
    probe_seen(tshark, probe, 9)        # the whole handshake is in the capture
    tshark.send_signal(signal.SIGINT)
    rc = tshark.wait(5)
    assert rc == 0, f"tshark exit status {rc}: {tshark.err()}"

    lines = dissect(run, pcap, srv.port)
    assert lines, f"tshark found no DTLS on port {srv.port} in the capture"
    events = handshake_events(lines, srv.port)
    try:
        check_cookie_exchange(events)
    except AssertionError as e:
        raise AssertionError(f"the cookie exchange is not as expected ({e}); tshark saw "
                             f"(srcport, handshake types, cookie lengths): {lines}") from None


def test_cookie_exchange_analysis():
    """The analysis itself, on what tshark printed for a good exchange, and
    on exchanges a broken server could make."""
    good = ["40000\t1\t0", "5000\t3\t32", "40000\t1\t32", "5000\t2,11,12,14\t",
            "40000\t16\t", "5000\t4\t"]
    events = handshake_events(good, 5000)
    assert events[:4] == [(False, 1, 0), (True, 3, 32), (False, 1, 32), (True, 2, None)]
    check_cookie_exchange(events)
    no_cookie = ["40000\t1\t0", "5000\t2,11,12,14\t"]
    with pytest.raises(AssertionError, match="HelloVerifyRequest"):
        check_cookie_exchange(handshake_events(no_cookie, 5000))
    wrong_echo = ["40000\t1\t0", "5000\t3\t32", "40000\t1\t16", "5000\t2\t"]
    with pytest.raises(AssertionError, match="echoes the cookie"):
        check_cookie_exchange(handshake_events(wrong_echo, 5000))


# -- no state before a valid cookie ---------------------------------------------

def test_no_per_peer_state_before_a_valid_cookie(dtls_server, run, prog, pki):
    """200 ClientHellos without a cookie, each from a new source port that
    never answers (as a spoofed address would), and 20 with a forged
    cookie: each gets one HelloVerifyRequest no larger than itself, and
    the server opens no session and grows no thread or descriptor."""
    need("openssl")
    srv = dtls_server()
    srv.wait_for("[*] Listening on ")   # printed once the server is whole
    threads0, fds0 = proc_status(srv.pid, "Threads"), fd_count(srv.pid)
    flood = dtls_hello_flood.flood(srv.port, 200, forged=20, pid=srv.pid)
    print(flood.summary())
    assert len(flood.sizes) == 200 and len(flood.forged_sizes) == 20
    assert flood.most_threads == threads0, "most threads during the ClientHellos (vs before)"
    assert flood.most_fds == fds0, "most file descriptors during the ClientHellos (vs before)"
    assert proc_status(srv.pid, "Threads") == threads0, "threads after 220 ClientHellos"
    assert fd_count(srv.pid) == fds0, "file descriptors after 220 ClientHellos"
    assert srv.count("Accepted connection") == 0, "sessions accepted without a valid cookie"
    # It still serves a real peer.
    r = run([prog("udp-client"), "--dtls", "--cafile", pki.ca, "localhost", srv.port,
             "after the flood"]).expect(0)
    assert r.out == REPLY_TEXT
    srv.wait_for_count("Accepted connection", 1)


# -- 50 peers at once ------------------------------------------------------------

def most_open_at_once(lines):
    """The most sessions open at once, from the server's log in order."""
    n = most = 0
    for line in lines:
        if "Accepted connection from" in line:
            n += 1
            most = max(most, n)
        elif line.endswith(" closed the session"):
            n -= 1
    return most


def test_50_concurrent_dtls_peers(dtls_server, start, prog, pki):
    srv = dtls_server("--echo")
    client = prog("udp-client")
    # All 50 wait on one pipe, each for one byte of it, so they start together.
    rfd, wfd = os.pipe()
    peers = []
    try:
        for i in range(1, 51):
            peers.append(start(["bash", "-c", 'read -r -N 1 _ && exec "$@" </dev/null', "_",
                                client, "--dtls", "--cafile", pki.ca, "-t", "10", "localhost",
                                srv.port, f"peer {i} of 50, only mine"], stdin=rfd))
    finally:
        os.close(rfd)
    try:
        os.write(wfd, b"g" * 50)
    finally:
        os.close(wfd)
    for i, peer in enumerate(peers, 1):
        rc = peer.wait(40)
        assert rc == 0, f"exit status of peer {i}: {rc} ({peer.err()})"
        assert peer.out() == f"peer {i} of 50, only mine", f"reply peer {i} got"
    srv.wait_for_count(" closed the session", 50, timeout=20)
    assert srv.count("[*] Accepted connection from") == 50, "sessions in the server log"
    lines = srv.lines()
    for i in range(1, 51):
        mine = re.compile(rf": peer {i} of 50, only mine$")
        assert sum(1 for x in lines if mine.search(x)) == 1, f"server log lines for peer {i}"
    assert srv.count("[!]") == 0, "errors in the server log"
    most = most_open_at_once(lines)
    assert most >= 2, f"the 50 sessions never overlapped (at most {most} open at once)"
    print(f"at most {most} of the 50 DTLS sessions were open at once")


# -- the flooder's own test -------------------------------------------------------

class FakeVerifier:
    """A trivial UDP listener answering every datagram with a minimal
    HelloVerifyRequest record of extra + 60 bytes (a real one: 60)."""

    def __init__(self, extra=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        cookie = b"c" * (32 + extra)
        body = b"\xfe\xff" + bytes([len(cookie)]) + cookie
        hs = bytes([3]) + len(body).to_bytes(3, "big") + bytes(2) + bytes(3) \
            + len(body).to_bytes(3, "big")
        self.reply = bytes([22, 0xfe, 0xff]) + bytes(8) + (len(hs) + len(body)).to_bytes(2, "big") \
            + hs + body
        self.got = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                _, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            self.got += 1
            self.sock.sendto(self.reply, peer)

    def close(self):
        self.sock.close()


def test_hostile_dtls_hello_flood(run):
    """Run as a module against a listener that answers right, it counts
    the replies and samples the pid it is given; against one whose reply
    is larger than the ClientHello (amplification), it fails."""
    need("openssl")
    fake = FakeVerifier()
    try:
        r = run([sys.executable, "-m", "hostile.dtls_hello_flood", fake.port, 30, "--forged", 5,
                 "--pid", os.getpid()], cwd=HERE).expect(0)
        assert "30 HelloVerifyRequests (60-60 bytes)" in r.out
        assert "5 for forged cookies (60-60 bytes)" in r.out
        m = re.search(r"most threads (\d+), most fds (\d+)", r.out)
        assert m and int(m.group(1)) >= 2 and int(m.group(2)) >= 3, r.out
        assert fake.got == 35
    finally:
        fake.close()
    ch = dtls_hello.dtls_client_hello()
    forged = dtls_hello_flood.with_forged_cookie(ch)
    at = dtls_hello.cookie_offset(forged)
    assert forged[at] == 32 and len(forged) == len(ch) + 32
    assert int.from_bytes(forged[11:13], "big") == len(forged) - 13
    big = FakeVerifier(extra=len(ch))
    try:
        r = run([sys.executable, "-m", "hostile.dtls_hello_flood", big.port, 1, "--forged", 0],
                cwd=HERE)
        assert r.rc == 1 and "HelloVerifyRequest of" in r.err, str(r)
    finally:
        big.close()
