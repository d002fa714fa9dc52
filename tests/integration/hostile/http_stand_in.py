"""A small HTTP/1.1 server for tcp-client's request options and redirects.

    python3 hostile/http_stand_in.py [--tls CERT KEY] [--ready-fd N] [-p PORT]

GET /redirect/CODE?to=URL answers CODE with "Location: URL" (without
?to=, a Location to itself: a redirect loop); any other
request gets 200 and a body that says what arrived: the request line, then
"body-length: N", then the body itself. One line per request goes to
stdout: "METHOD PATH body=N".
"""

import argparse
import os
import signal
import ssl
import sys
import threading
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.ready import add_ready_fd, announce, listen  # noqa: E402


def read_request(f):
    """(request line, headers dict, body) from a file over the socket."""
    line = f.readline().decode("latin-1").rstrip("\r\n")
    headers = {}
    while True:
        h = f.readline().decode("latin-1").rstrip("\r\n")
        if not h:
            break
        name, _, value = h.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return line, headers, body


def answer(conn):
    with conn, conn.makefile("rb") as f:
        line, headers, body = read_request(f)
        method, target, _ = (line.split(" ") + ["", ""])[:3]
        print(f"{method} {target} body={len(body)}", flush=True)
        url = urlsplit(target)
        if url.path.startswith("/redirect/"):
            code = int(url.path.rsplit("/", 1)[1])
            to = parse_qs(url.query).get("to", [target])[0]  # none: a loop
            head = f"HTTP/1.1 {code} Moved\r\nLocation: {to}\r\nContent-Length: 5\r\n\r\n"
            conn.sendall(head.encode() + b"moved")
            return
        reply = f"{line}\nbody-length: {len(body)}\n".encode() + body
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(reply) + reply)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    add_ready_fd(ap)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean stop
    s = listen(args.port)
    ctx = None
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
    announce(args.ready_fd, s, "tls" if ctx else "tcp")
    while True:
        conn, _ = s.accept()
        if ctx is not None:
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                continue
        threading.Thread(target=answer, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
