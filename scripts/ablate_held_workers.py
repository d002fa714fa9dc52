"""For scripts/ablate.sh's "stacks" measurement: N plaintext clients, each
holding a worker of a running tcp-server --echo, and the server's threads,
VmSize and VmRSS before and with them held (/proc/PID/status).

    python3 scripts/ablate_held_workers.py LABEL PORT N SERVER_PID

Prints one line: "LABEL threads T VmSize M MiB (+V KiB per client) VmRSS R
MiB (+S KiB per client)".
"""

import socket
import sys


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return {k: (v.split() or [""])[0] for k, v in (line.split(":", 1) for line in f)}


def main():
    label, port, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    before = status(pid)
    socks = []
    for _ in range(n):  # each sends a byte and gets it back: a worker holds it
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"x")
        socks.append(s)
    for s in socks:
        assert s.recv(1) == b"x"
    st = status(pid)
    dv = (int(st["VmSize"]) - int(before["VmSize"])) / n
    dr = (int(st["VmRSS"]) - int(before["VmRSS"])) / n
    print(f"{label:28} threads {st['Threads']:>4}  "
          f"VmSize {int(st['VmSize']) / 1024:7.0f} MiB (+{dv:6.0f} KiB per client)  "
          f"VmRSS {int(st['VmRSS']) / 1024:5.1f} MiB (+{dr:4.1f} KiB per client)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
