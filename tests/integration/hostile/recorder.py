"""A listener that records who reached it, on TCP and UDP at one port
(to show that a program refusing its arguments made no connection).

    python3 -m hostile.recorder [-p PORT] [--ready-fd N]

Each TCP connection is accepted and closed at once; each datagram is
read. One line each on stdout, flushed:
    tcp connection from ADDR:PORT
    udp datagram from ADDR:PORT
It speaks --ready-fd like the programs (the port is both the TCP and the
UDP one); SIGTERM ends it with status 0.
"""

import argparse
import os
import selectors
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402


def bind_pair(port=0, tries=100):
    """A TCP listener and a UDP socket on the same port. With port 0 the
    TCP port is the kernel's pick, and some other UDP socket may hold it
    (it happened): then another pick."""
    for _ in range(tries if port == 0 else 1):
        t = listen(port)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", t.getsockname()[1]))
        except OSError:
            t.close()
            u.close()
            continue
        return t, u
    raise SystemExit(f"no port free for both TCP and UDP (asked for {port})")


def record(t, u, out=sys.stdout):
    sel = selectors.DefaultSelector()
    sel.register(t, selectors.EVENT_READ)
    sel.register(u, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is t:
                c, a = t.accept()
                c.close()
                print("tcp connection from %s:%d" % a, file=out, flush=True)
            else:
                _, a = u.recvfrom(65535)
                print("udp datagram from %s:%d" % a, file=out, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ready_fd(ap)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    t, u = bind_pair(args.port)
    announce(args.ready_fd, t, "tcp+udp")
    record(t, u)


if __name__ == "__main__":
    main()
