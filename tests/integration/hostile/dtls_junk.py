"""Junk for a DTLS listener, and junk inside a DTLS session.

    python3 -m hostile.dtls_junk PORT [--host 127.0.0.1] [--hold-until FILE]
        [--listener-only | --session-only]

First, each from a socket of its own, datagrams that are not a valid
first flight: 20 random ones, a real ClientHello (openssl s_client's)
whose record length field claims too much or too little, a record header
claiming zero bytes, the ClientHello cut short, its record header alone,
and an HTTP request. Each must get no reply within 0.3 s (and none by
the end: every socket is looked at again); a reply ends it with exit 1.
It prints "WHAT: N datagram(s), no reply" for each kind.

Then (unless --listener-only; --session-only: only this) a real cookie
exchange: the ClientHello, the HelloVerifyRequest, the ClientHello again
with the cookie, and the server's ServerHello; then three junk datagrams
into that session (random bytes, a handshake record whose length field
lies, a bogus application-data record). It prints "in-session junk sent
to LOCALPORT" and keeps the session's socket open until the file
--hold-until exists (at most 60 s), so the server's handshake can only
time out, not be refused.
"""

import argparse
import os
import random
import socket
import sys
import time

if not __package__:  # run as a script: make hostile importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from hostile.dtls_hello import dtls_client_hello, with_cookie  # noqa: E402

NO_REPLY_WINDOW = 0.3  # seconds a junk datagram's reply may take to count
HOLD_LIMIT = 60


def dgram_socket(timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    return s


def listener_junk(ch):
    """{what: [datagrams]}: junk for a listener, made from ClientHello ch."""
    r = random.Random(2)
    return {
        "random": [bytes(r.randrange(256) for _ in range(r.randrange(1, 1400)))
                   for _ in range(20)],
        "length too long": [ch[:11] + (20000).to_bytes(2, "big") + ch[13:]],
        "length too short": [ch[:11] + (10).to_bytes(2, "big") + ch[13:]],
        "length zero": [ch[:11] + bytes(2)],
        "ClientHello cut short": [ch[:40]],
        "header only": [ch[:13]],
        "HTTP": [b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"],
    }


def send_listener_junk(addr, junk):
    """Sends each datagram from its own socket; fails on any reply."""
    sockets = []
    for what, datagrams in junk.items():
        for d in datagrams:
            s = dgram_socket(NO_REPLY_WINDOW)
            s.sendto(d, addr)
            try:
                reply = s.recv(65535)
                sys.exit(f"{what}: the server answered {reply[:16]!r}")
            except socket.timeout:
                pass
            sockets.append((what, s))
        print(f"{what}: {len(datagrams)} datagram(s), no reply", flush=True)
    for what, s in sockets:  # a late reply counts too
        s.setblocking(False)
        try:
            reply = s.recv(65535)
            sys.exit(f"{what}: the server answered, late: {reply[:16]!r}")
        except BlockingIOError:
            pass
        s.close()


def session_junk(addr, ch):
    """A real cookie exchange, then junk into the session; returns the
    session's socket (open)."""
    s = dgram_socket(5)
    s.sendto(ch, addr)
    hvr = s.recv(65535)
    if not (hvr[0] == 22 and hvr[13] == 3):
        sys.exit(f"not a HelloVerifyRequest: {hvr[:16]!r}")
    cookie = hvr[28:28 + hvr[27]]
    s.sendto(with_cookie(ch, cookie), addr)
    sh = s.recv(65535)
    if not (sh[0] == 22 and sh[13] == 2):
        sys.exit(f"not a ServerHello: {sh[:16]!r}")
    for d in [os.urandom(300),
              b"\x16\xfe\xfd" + bytes(8) + (20000).to_bytes(2, "big") + os.urandom(60),
              b"\x17\xfe\xfd\x00\x01" + bytes(6) + (100).to_bytes(2, "big") + os.urandom(100)]:
        s.sendto(d, addr)
    return s


def hold_until(path, limit=HOLD_LIMIT):
    deadline = time.monotonic() + limit
    while path and not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--hold-until", help="keep the session open until this file exists")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--listener-only", action="store_true",
                      help="only the junk at the listener, no session")
    only.add_argument("--session-only", action="store_true",
                      help="only the session and the junk inside it")
    args = ap.parse_args()
    addr = (args.host, args.port)
    ch = dtls_client_hello()
    if not args.session_only:
        send_listener_junk(addr, listener_junk(ch))
    if args.listener_only:
        return
    s = session_junk(addr, ch)
    print(f"in-session junk sent to {s.getsockname()[1]}", flush=True)
    hold_until(args.hold_until)
    s.close()


if __name__ == "__main__":
    main()
