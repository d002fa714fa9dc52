"""For scripts/ablate.sh's "pool" measurement: 10,000 plaintext clients one
after another against a running tcp-server, each sending a line and reading
the reply to the close (each is a worker's: it sent data); connections per
second and the server's CPU time per connection (/proc/PID/stat).

    python3 scripts/ablate_one_by_one.py LABEL PORT SERVER_PID
"""

import os
import socket
import sys
import time

CLIENTS = 10000


def ticks(pid):
    """utime + stime of the process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main():
    label, port, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    n = CLIENTS
    t0, c0 = time.monotonic(), ticks(pid)
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"hello\n")
        while s.recv(4096):
            pass
        s.close()
    dt, dc = time.monotonic() - t0, ticks(pid) - c0
    us = dc / os.sysconf("SC_CLK_TCK") / n * 1e6
    print(f"{label:28} {n / dt:7.0f} connections/s  {us:5.1f} us CPU per connection")
    return 0


if __name__ == "__main__":
    sys.exit(main())
