"""A slowloris horde: COUNT connections from one process that sit idle
before or inside the handshake.

    python3 -m hostile.horde MODE PORT COUNT HOLD

MODE:
  silent     TCP: connect and say nothing
  tls-mixed  a TLS port: even ones silent, odd ones half a ClientHello
  dtls       a full cookie exchange (each gets a ServerHello), then silence

Prints "opened N in S s" once all are in, then waits up to HOLD seconds
for the server to close them (TCP: EOF or reset) and prints
"closed K of N after MIN-MAX s" (seconds from each one's connect). DTLS
peers are only held for HOLD seconds: the server's end shows in its log.
"""

import argparse
import os
import selectors
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from hostile.dtls_hello import (dtls_client_hello, hvr_cookie, is_server_hello,  # noqa: E402
                                with_cookie)

MODES = ("silent", "tls-mixed", "dtls")
WAVE = 100              # DTLS peers in a cookie exchange at once
WAVE_DEADLINE = 20      # seconds for a wave's cookie exchanges
RESEND_AFTER = 0.5      # a DTLS flight unanswered this long is sent again


def half_hello():
    """The first half of a TLS ClientHello (from Python's own TLS stack)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    return hello[: len(hello) // 2]


def open_tcp(addr, count, half):
    """COUNT TCP connections; with half, odd ones send it."""
    opened = {}
    for i in range(count):
        if i % 50 == 49:
            time.sleep(0.02)   # pacing, so the listen backlog (128) never overflows
        s = socket.create_connection(addr, timeout=10)
        opened[s] = time.monotonic()
        if half is not None and i % 2:
            s.sendall(half)
    return opened


def open_dtls(addr, count):
    """COUNT DTLS peers, each through the cookie exchange to a ServerHello.

    In waves, so the listener's receive buffer never overflows: a
    ClientHello, the HelloVerifyRequest, the ClientHello with its cookie,
    then the server's ServerHello (a flight is sent again if its answer
    does not come)."""
    ch = dtls_client_hello()
    opened = {}
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    for w in range(0, count, WAVE):
        wave = socks[w:w + WAVE]
        state = {s: ["hello", 0.0, None] for s in wave}   # stage, last send, cookie
        deadline = time.monotonic() + WAVE_DEADLINE
        sel = selectors.DefaultSelector()
        for s in wave:
            sel.register(s, selectors.EVENT_READ)
        while any(v[0] != "done" for v in state.values()):
            now = time.monotonic()
            if now > deadline:
                sys.exit("DTLS peers stuck in the cookie exchange: %d"
                         % sum(v[0] != "done" for v in state.values()))
            for s, v in state.items():
                if v[0] != "done" and now - v[1] > RESEND_AFTER:
                    s.sendto(ch if v[0] == "hello" else with_cookie(ch, v[2]), addr)
                    v[1] = now
            for key, _ in sel.select(0.05):
                s = key.fileobj
                try:
                    d, _peer = s.recvfrom(65535)
                except BlockingIOError:
                    continue
                v = state[s]
                if v[0] == "hello":
                    cookie = hvr_cookie(d)
                    if cookie is None:
                        sys.exit("expected a HelloVerifyRequest, got %r" % d[:16])
                    v[0], v[1], v[2] = "cookie", 0.0, cookie
                elif v[0] == "cookie" and is_server_hello(d):
                    v[0] = "done"
                    opened[s] = time.monotonic()
        sel.close()
    return opened


def hold(opened, seconds, wait_for_close):
    """Holds the connections up to seconds; with wait_for_close, returns
    early once the server has closed all of them. Returns {sock: seconds
    from its connect to its close}."""
    closed = {}
    sel = selectors.DefaultSelector()
    for s in opened:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    end = time.monotonic() + seconds
    while time.monotonic() < end and (not wait_for_close or len(closed) < len(opened)):
        for key, _ in sel.select(0.1):
            s = key.fileobj
            try:
                d = s.recv(65535)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d and wait_for_close:
                closed[s] = time.monotonic() - opened[s]
                sel.unregister(s)
    sel.close()
    return closed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("hold", type=float, help="seconds to wait for the server's closes")
    args = ap.parse_args(argv)
    addr = ("127.0.0.1", args.port)
    t_start = time.monotonic()
    if args.mode == "dtls":
        opened = open_dtls(addr, args.count)
    else:
        opened = open_tcp(addr, args.count, half_hello() if args.mode == "tls-mixed" else None)
    print("opened %d in %.2f s" % (len(opened), time.monotonic() - t_start), flush=True)
    tcp = args.mode != "dtls"
    closed = hold(opened, args.hold, wait_for_close=tcp)
    if tcp:
        t = sorted(closed.values()) or [0.0]
        print("closed %d of %d after %.2f-%.2f s" % (len(closed), len(opened), t[0], t[-1]),
              flush=True)
    for s in opened:
        s.close()


if __name__ == "__main__":
    main()
