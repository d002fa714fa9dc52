"""The connection holder of scripts/bench.sh's measurement 3 (idle connections).

    python3 scripts/bench_hold.py HOST PORT N CAFILE GOFILE

Opens N TLS connections (handshake done, nothing sent), prints "held N",
waits for GOFILE to exist, then sends one HTTP request on every one and
prints how many got a 200 reply: "replies K".
"""

import os
import resource
import socket
import ssl
import sys
import time


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cafile, gofile = sys.argv[4], sys.argv[5]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.create_default_context(cafile=cafile)
    conns = []
    for i in range(n):
        s = socket.create_connection((host, port), timeout=120)
        conns.append(ctx.wrap_socket(s, server_hostname=host))
    print("held", len(conns), flush=True)
    # The go file is bench.sh's signal that it measured the memory with all
    # of them held; a poll, as bench.sh has no other channel to this process.
    while not os.path.exists(gofile):
        time.sleep(0.05)
    req = b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    for t in conns:
        t.sendall(req)
    ok = 0
    for t in conns:
        data = b""
        try:
            while True:
                b = t.recv(4096)
                if not b:
                    break
                data += b
        except (OSError, ssl.SSLError):
            pass
        if data.startswith(b"HTTP/1.1 200"):
            ok += 1
        t.close()
    print("replies", ok, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
