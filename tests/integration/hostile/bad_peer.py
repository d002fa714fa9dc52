"""A client that misbehaves in the middle of a stream to an echo server.

    python3 -m hostile.bad_peer reset|noread PORT [--tls --cafile CA]
        [--release FILE] [--host 127.0.0.1]

reset:  streams 5 MB while reading the echo, then resets the connection
        (SO_LINGER 0) mid-stream; prints "reset after sending N bytes, M
        echoed" and exits 0.
noread: sends up to 50 MB and reads nothing, until a send makes no
        progress for 1 s (the server's queues are full); prints "stuck
        after sending N bytes", then holds the connection until the file
        --release exists (at most 60 s) and closes it, unread data and all
        (a reset).
"""

import argparse
import os
import socket
import ssl
import struct
import time

RESET_AFTER = 5 * 1000 * 1000
NOREAD_MAX = 50 * 1000 * 1000
HOLD_LIMIT = 60


def connect(port, host="127.0.0.1", cafile=None, use_tls=False):
    s = socket.create_connection((host, port), timeout=10)
    if use_tls:
        s = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname="localhost")
    return s


def reset_mid_stream(s, limit=RESET_AFTER):
    """Sends limit bytes while reading, then resets; returns (sent, echoed)."""
    chunk = os.urandom(65536)  # the same buffer each time: a TLS write may be retried
    sent = got = 0
    s.settimeout(0.05)
    while sent < limit:
        try:
            sent += s.send(chunk)
        except (socket.timeout, ssl.SSLWantWriteError, BlockingIOError):
            pass
        try:
            got += len(s.recv(65536))
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return sent, got


def send_without_reading(s, limit=NOREAD_MAX):
    """Sends until a send stalls for 1 s (or limit); returns the bytes sent."""
    chunk = os.urandom(65536)
    s.settimeout(1.0)
    sent = 0
    try:
        while sent < limit:
            sent += s.send(chunk)
    except (socket.timeout, ssl.SSLError, OSError):
        pass
    return sent


def hold_until(path, limit=HOLD_LIMIT):
    """Waits until path exists (the test releases us), at most limit seconds."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("reset", "noread"))
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cafile")
    ap.add_argument("--release", help="noread: close once this file exists")
    args = ap.parse_args()
    s = connect(args.port, args.host, args.cafile, args.tls)
    if args.mode == "reset":
        sent, got = reset_mid_stream(s)
        print(f"reset after sending {sent} bytes, {got} echoed", flush=True)
    else:
        sent = send_without_reading(s)
        print(f"stuck after sending {sent} bytes", flush=True)
        if args.release:
            hold_until(args.release)
        s.close()


if __name__ == "__main__":
    main()
