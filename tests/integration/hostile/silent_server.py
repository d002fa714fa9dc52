"""A TCP server that accepts every client and never says anything: no
reply, no TLS handshake, no close (what a client's timeout is for).

    python3 -m hostile.silent_server [-p PORT] [--ready-fd N]

It binds 127.0.0.1 (port 0 by default), speaks --ready-fd like the
programs, prints "accepted N" for each client (so a test can see it was
connected, not refused) and holds every connection until SIGTERM, which
ends it with status 0.
"""

import argparse
import os
import signal
import sys

if not __package__:  # run as a script: make harness importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.ready import add_ready_fd, announce, listen  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_ready_fd(ap)
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = listen(args.port)
    announce(args.ready_fd, sock, "tcp")
    held = []
    while True:
        conn, _ = sock.accept()
        held.append(conn)  # kept open, never read or written
        print(f"accepted {len(held)}", flush=True)


if __name__ == "__main__":
    main()
