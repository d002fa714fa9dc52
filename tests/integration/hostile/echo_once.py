"""A stand-in server for the harness's own test: accepts one client,
echoes what it sends once, prints how much it received."""

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    add_ready_fd(ap)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean stop
    s = listen(args.port)
    announce(args.ready_fd, s, "tcp")
    c, _ = s.accept()
    data = c.recv(4096)
    print(f"received {len(data)} bytes", flush=True)
    c.sendall(data)
    c.close()


if __name__ == "__main__":
    main()
