"""Prints a port on 127.0.0.1 free for both TCP and UDP, for scripts/lib.sh's free_port.

    python3 scripts/free_port.py

The port is picked at random below the kernel's ephemeral range
(ip_local_port_range), where the kernel never hands out ports: a port from
bind(0) could be taken, between this check and its use, by any client
socket of a test running alongside.
"""

import random
import socket
import sys


def main():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral = int(f.read().split()[0])
    first = 10000 if ephemeral > 11000 else 1024
    for _ in range(500):
        port = random.randrange(first, ephemeral)
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        return 0
    sys.exit(f"free_port: no free port in {first}-{ephemeral - 1}")


if __name__ == "__main__":
    sys.exit(main())
