"""A UDP relay in front of a DTLS server that drops the first datagram
from the client whose first byte (the DTLS record's content type) is the
one asked for: 22 loses the first ClientHello (the handshake must be
retransmitted), 23 the first application record (the message must be
sent again). Everything else goes through, both ways, for one client.

    python3 -m hostile.dtls_drop_proxy --upstream PORT --drop-type 22
        [-p PORT] [--ready-fd N]

It prints "[*] dropped N bytes of content type T" once, and exits 0 on
SIGTERM.
"""

import argparse
import os
import select
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402


def relay(sock, upstream, drop_type, out=sys.stdout):
    """Relays between the client on sock and upstream (a connected
    socket), dropping the client's first datagram of drop_type."""
    client, dropped = None, False
    while True:
        ready, _, _ = select.select([sock, upstream], [], [])
        if sock in ready:
            data, client = sock.recvfrom(65535)
            if not dropped and data and data[0] == drop_type:
                dropped = True
                print("[*] dropped %d bytes of content type %d" % (len(data), data[0]),
                      file=out, flush=True)
            else:
                upstream.send(data)
        if upstream in ready:
            try:
                data = upstream.recv(65535)
            except ConnectionRefusedError:  # the upstream is not there (yet)
                continue
            if client:
                sock.sendto(data, client)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_ready_fd(ap)
    ap.add_argument("--upstream", type=int, required=True, help="the server's port on 127.0.0.1")
    ap.add_argument("--drop-type", type=int, required=True,
                    help="content type of the one client datagram to drop (22, 23, ...)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.connect(("127.0.0.1", args.upstream))
    sock = listen(args.port, socket.SOCK_DGRAM)
    announce(args.ready_fd, sock, "udp")
    print("[*] Listening on 127.0.0.1:%d" % sock.getsockname()[1], flush=True)
    relay(sock, upstream, args.drop_type)


if __name__ == "__main__":
    main()
