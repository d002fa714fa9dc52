"""Clients of an echo server that each hold their connection a while
(server_resilience's --max-clients case).

    python3 -m hostile.held_clients PORT [--cafile CA] [--clients 3] [--hold 2]

Client i (1..N) connects to 127.0.0.1:PORT once client i-1 has got its
echo (so the server has certainly taken the earlier ones first: a server
with several accept threads need not serve arrivals in order), sends
"client i\\n", reads the echoed line, holds the connection --hold seconds,
then ends it cleanly (close_notify over TLS, then a half-close) and reads
to the server's close. Prints one JSON object per client, in client
order: {"client": i, "echo": TEXT, "echoed": T, "released": T} (T:
time.monotonic() of this process), so a test can tell which echoes came
before any client let go.
"""

import argparse
import json
import socket
import ssl
import sys
import threading
import time


def hold(i, port, cafile, hold_s, previous_echoed, echoed, result, timeout=60):
    previous_echoed.wait(timeout)
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if cafile:
        s = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname="localhost")
    s.sendall(b"client %d\n" % i)
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        data += chunk
    result["echoed"], result["echo"] = time.monotonic(), data.decode().strip()
    echoed.set()
    time.sleep(hold_s)  # the point: a client served for a while
    result["released"] = time.monotonic()
    if cafile:
        s = s.unwrap()  # close_notify: a clean end for the echo server
    s.shutdown(socket.SHUT_WR)
    while s.recv(100):
        pass
    s.close()


def run_clients(port, cafile=None, clients=3, hold_s=2.0):
    """Runs the clients; returns their results in client order (a client
    that failed has "error" instead of its times)."""
    results = [{"client": i} for i in range(1, clients + 1)]
    echoed = [threading.Event() for _ in range(clients + 1)]
    echoed[0].set()

    def body(i):
        try:
            hold(i, port, cafile, hold_s, echoed[i - 1], echoed[i], results[i - 1])
        except Exception as e:  # reported, not raised: the caller judges
            results[i - 1]["error"] = repr(e)
            echoed[i].set()  # the next client need not wait for us

    threads = [threading.Thread(target=body, args=(i,)) for i in range(1, clients + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--cafile", default=None, help="speak TLS, trusting this CA")
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--hold", type=float, default=2.0, help="seconds each client holds on")
    args = ap.parse_args()
    results = run_clients(args.port, args.cafile, args.clients, args.hold)
    for r in results:
        print(json.dumps(r))
    sys.exit(1 if any("error" in r for r in results) else 0)


if __name__ == "__main__":
    main()
