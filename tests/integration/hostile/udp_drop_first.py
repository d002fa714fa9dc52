"""A stand-in UDP server that ignores the first datagram it gets and
answers every later one with "answered the second try": a lossy path as
seen by a client, which must send again (udp-client's retries).

    python3 -m hostile.udp_drop_first [-p PORT] [--ready-fd N]

It logs every datagram ("[*] datagram N from HOST:PORT: b'...'") and the
drop ("[*] dropped"), and exits 0 on SIGTERM (as our servers do, so the
server fixture's clean-stop check holds for it too).
"""

import argparse
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402

REPLY = b"answered the second try"


def serve(sock, out=sys.stdout):
    """Drops the first datagram on sock, answers the rest, forever."""
    n = 0
    while True:
        data, peer = sock.recvfrom(65535)
        n += 1
        print("[*] datagram %d from %s:%d: %r" % (n, peer[0], peer[1], data), file=out, flush=True)
        if n == 1:
            print("[*] dropped", file=out, flush=True)
            continue
        sock.sendto(REPLY, peer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_ready_fd(ap)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = listen(args.port, socket.SOCK_DGRAM)
    announce(args.ready_fd, sock, "udp")
    print("[*] Listening on 127.0.0.1:%d" % sock.getsockname()[1], flush=True)
    serve(sock)


if __name__ == "__main__":
    main()
