"""A UDP server that answers every datagram with the same bytes, whatever
came: a plaintext service (an echo, a text protocol) on a port a DTLS
client was pointed at.

    python3 hostile/udp_answer.py HEX [-p PORT] [--ready-fd N]

HEX is the answer, in hex (so a test can send control bytes). It binds
127.0.0.1, speaks --ready-fd like the programs, prints "answered N" for
each datagram, and ends with status 0 at SIGTERM.
"""

import argparse
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_ready_fd(ap)
    ap.add_argument("answer", type=bytes.fromhex, metavar="HEX")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = listen(args.port, socket.SOCK_DGRAM)
    announce(args.ready_fd, sock, "udp")
    n = 0
    while True:
        _, peer = sock.recvfrom(65536)
        sock.sendto(args.answer, peer)
        n += 1
        print(f"answered {n}", flush=True)


if __name__ == "__main__":
    main()
