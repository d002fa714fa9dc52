"""A TCP relay that sends each connection to the next backend in turn
(round robin), as a load balancer does: with two ECH servers whose keys
differ behind it, a client's retry lands on the server that does not hold
the key the first one sent (a server that keeps rejecting); with one
backend, it counts a client's connections.

    python3 relay.py --to PORT [--to PORT ...] [-p PORT] [--ready-fd N]

One line on stdout, flushed, as each connection is accepted (before it
is relayed): "connection from ADDR:PORT to BACKEND_PORT". Connections are
accepted in the order they were made (the accept queue's), so a marker
connection made after a client ended is logged after every one of the
client's. Bytes are relayed as they come, each direction's end passed on
(shutdown). It speaks --ready-fd like the programs; SIGTERM ends it with
status 0.
"""

import argparse
import itertools
import os
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402


def pump(src, dst):
    """src's bytes to dst until src ends (or either fails), then dst's
    write side ends too."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(client, port):
    try:
        backend = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as e:
        print(f"backend {port}: {e}", flush=True)
        client.close()
        return
    backend.settimeout(None)
    ways = [threading.Thread(target=pump, args=(client, backend), daemon=True),
            threading.Thread(target=pump, args=(backend, client), daemon=True)]
    for w in ways:
        w.start()
    for w in ways:
        w.join()
    client.close()
    backend.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ready_fd(ap)
    ap.add_argument("--to", type=int, action="append", required=True,
                    help="a backend's port on 127.0.0.1 (repeat: taken in turn)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean stop
    s = listen(args.port)
    announce(args.ready_fd, s, "tcp")
    for port in itertools.cycle(args.to):
        client, address = s.accept()
        print(f"connection from {address[0]}:{address[1]} to {port}", flush=True)
        threading.Thread(target=relay, args=(client, port), daemon=True).start()


if __name__ == "__main__":
    main()
