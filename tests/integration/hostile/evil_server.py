"""A hostile server for the clients: it answers with MODE.

    python3 -m hostile.evil_server tcp|udp MODE [-p PORT] [--ready-fd N]

tcp (one client; it reads the request first, a TLS record or an HTTP head):
  random, oversize (a TLS record header claiming 20,000 bytes), cut-record
  (a TLS record header promising 128 bytes, 20 sent), plaintext (an HTTP
  400), vanish (nothing: a reset), reset-mid-reply (5,000 bytes of a
  100,000-byte body, then a reset once the client has them), short-body
  (Content-Length 100, 5 sent), huge-length (a Content-Length of 23
  digits), bad-chunk (chunk size "zzzz"), two-lengths (two different
  Content-Lengths), not-http (a line of text). Then it closes (a reset for
  vanish and reset-mid-reply) and exits 0.
udp (every datagram, until 20 s of silence): random (200 random bytes),
  bad-length (a DTLS handshake record claiming 20,000 bytes), alert (a
  fatal handshake_failure alert).

It binds 127.0.0.1, port 0 by default, and speaks --ready-fd like the
programs; SIGTERM ends it with status 0.
"""

import argparse
import fcntl
import os
import random
import signal
import socket
import struct
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402

WAIT = 20          # seconds for the first client (tcp) or between datagrams (udp)
REQUEST_WAIT = 5   # seconds for the client's request

_r = random.Random(3)
TCP_REPLIES = {
    "random": bytes(_r.randrange(256) for _ in range(3000)),
    "oversize": b"\x16\x03\x03" + (20000).to_bytes(2, "big") + os.urandom(100),
    "cut-record": b"\x16\x03\x03\x00\x80" + os.urandom(20),
    "plaintext": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "vanish": b"",
    "reset-mid-reply": b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000,
    "short-body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
    "huge-length": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nshort",
    "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\nshort",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nshort",
    "not-http": b"not an HTTP response at all\n",
}
RESETS = ("vanish", "reset-mid-reply")
UDP_MODES = ("random", "bad-length", "alert")


def udp_reply(mode, rng):
    if mode == "random":
        return bytes(rng.randrange(256) for _ in range(200))
    if mode == "bad-length":
        return b"\x16\xfe\xfd" + bytes(8) + (20000).to_bytes(2, "big") + os.urandom(60)
    return b"\x15\xfe\xfd" + bytes(8) + (2).to_bytes(2, "big") + b"\x02\x28"  # alert


def serve_udp(s, mode):
    rng = random.Random(3)
    s.settimeout(WAIT)
    try:
        while True:
            _, peer = s.recvfrom(65535)
            s.sendto(udp_reply(mode, rng), peer)
    except socket.timeout:
        pass


def read_request(c):
    """Reads the client's first message whole (so closing leaves nothing
    unread, which would reset the connection before the reply is read): a
    TLS record, or an HTTP head, or what came within REQUEST_WAIT s."""
    c.settimeout(REQUEST_WAIT)
    data = b""
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
            if data[:1] == b"\x16" and len(data) >= 5 and \
                    len(data) >= 5 + int.from_bytes(data[3:5], "big"):
                break
            if b"\r\n\r\n" in data:
                break
    except OSError:
        pass
    return data


def wait_delivered(c, timeout=5):
    """Waits until the client's kernel has acknowledged all we sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unacked = struct.unpack("i", fcntl.ioctl(c.fileno(), termios.TIOCOUTQ,
                                                 b"\0\0\0\0"))[0]
        if unacked == 0:
            return
        time.sleep(0.01)


def serve_tcp(s, mode):
    s.settimeout(WAIT)
    c, _ = s.accept()
    read_request(c)
    reply = TCP_REPLIES[mode]
    c.sendall(reply)
    if mode in RESETS:
        if reply:
            wait_delivered(c)  # mid-reply: the client has part of it
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=("tcp", "udp"))
    ap.add_argument("mode")
    add_ready_fd(ap)
    args = ap.parse_args()
    modes = TCP_REPLIES if args.kind == "tcp" else UDP_MODES
    if args.mode not in modes:
        ap.error(f"unknown {args.kind} mode {args.mode}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = listen(args.port, socket.SOCK_STREAM if args.kind == "tcp" else socket.SOCK_DGRAM)
    announce(args.ready_fd, s, args.kind)
    if args.kind == "tcp":
        serve_tcp(s, args.mode)
    else:
        serve_udp(s, args.mode)


if __name__ == "__main__":
    main()
