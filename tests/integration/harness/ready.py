"""The ready signal for stand-in servers written in Python, the same line
the programs write with --ready-fd N (so the server fixture starts both)."""

import argparse
import json
import os
import socket


def add_ready_fd(parser: argparse.ArgumentParser):
    parser.add_argument("--ready-fd", type=int, default=None,
                        help="write the listening event to this descriptor, then close it")
    parser.add_argument("-p", "--port", type=int, default=0, help="port (default 0: any)")


def announce(fd, sock, protocol):
    """Writes {"event":"listening",...} for sock to fd and closes fd."""
    if fd is None:
        return
    address, port = sock.getsockname()[:2]
    line = json.dumps({"event": "listening", "address": address, "port": port,
                       "protocol": protocol}) + "\n"
    os.write(fd, line.encode())
    os.close(fd)


def listen(port=0, kind=socket.SOCK_STREAM, host="127.0.0.1"):
    """A socket bound to host:port, listening when it is a stream."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, kind)
    s.bind((host, port))
    if kind == socket.SOCK_STREAM:
        s.listen(128)
    return s
