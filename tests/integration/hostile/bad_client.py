"""One misbehaving client of a TCP/TLS server (server_resilience's cases).

    python3 -m hostile.bad_client MODE PORT [CAFILE]

connects to 127.0.0.1:PORT and misbehaves as MODE says; what the server
answers goes to stdout. With CAFILE, the modes that complete a handshake
first speak TLS (verifying the server as localhost); the others never do.

  plain-http       a plaintext HTTP request (to a TLS port), read to the close
  garbage          4 KiB starting 0xff (no TLS record), read to the close
  partial-hello    the first half of a real ClientHello, then gone
  silent           nothing; read until the server gives up on us
  reset-mid-reply  64 KiB, wait until 4 KiB came back, 64 KiB more, then RST
  escape           terminal escape sequences, read to the close
  http-huge-head   an HTTP head of over 20,000 bytes that never ends
  http-cut-short   25 bytes of an HTTP head, then the end of the stream
  http-trickle     an HTTP head a byte every 0.2 s; the seconds until the
                   server answered (or closed) on stderr's last line, "N.N s"
  slow             1.5 s of nothing, then one message, read to the close

Exit status 0 unless the client itself could not do its part (a server
that closes before reset-mid-reply's echo started, a failed handshake).
"""

import argparse
import os
import socket
import ssl
import struct
import sys
import time

MODES = ("plain-http", "garbage", "partial-hello", "silent", "reset-mid-reply", "escape",
         "http-huge-head", "http-cut-short", "http-trickle", "slow")

GARBAGE = bytes(range(256))[::-1] * 16          # starts 0xff: no TLS record type
ESCAPES = b"\x1b[31mRED\x1b]0;title\x07"        # colour, then a window-title OSC
CUT_SHORT_HEAD = b"GET / HTTP/1.1\r\nHost: loc"  # 25 bytes, no end of head
TRICKLED_HEAD = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200


def drain(sock):
    """What the peer sends until it closes or resets (a reset is not our
    failure: it is what some servers do to bad clients)."""
    data = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    return data


def partial_client_hello():
    """The first half of the ClientHello Python's ssl would send."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    return hello[: len(hello) // 2]


def misbehave(mode, port, cafile=None, out=None, err=None):
    """Runs one bad client; returns an exit status (0: it did its part)."""
    out = out or sys.stdout.buffer
    err = err or sys.stderr
    s = socket.create_connection(("127.0.0.1", port), timeout=15)

    def tls(sock):
        if not cafile:
            return sock
        return ssl.create_default_context(cafile=cafile).wrap_socket(
            sock, server_hostname="localhost")

    if mode == "plain-http":
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        drain(s)
    elif mode == "garbage":
        s.sendall(GARBAGE)
        out.write(drain(s))
    elif mode == "partial-hello":
        s.sendall(partial_client_hello())
        time.sleep(0.2)  # the half stays on the wire a moment before we go
    elif mode == "silent":
        drain(s)
    elif mode == "reset-mid-reply":
        s = tls(s)
        s.sendall(os.urandom(65536))
        got = 0
        while got < 4096:  # the echo has started
            d = s.recv(4096)
            if not d:
                print("server closed before echoing", file=err)
                return 1
            got += len(d)
        s.sendall(os.urandom(65536))
        # Linger 0: close sends RST, with the echo still unread on both sides.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif mode == "escape":
        s = tls(s)
        s.sendall(ESCAPES)
        out.write(drain(s))
    elif mode == "http-huge-head":
        s = tls(s)
        s.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000)
        out.write(drain(s))
    elif mode == "http-cut-short":
        s = tls(s)
        s.sendall(CUT_SHORT_HEAD)
        if cafile:
            s = s.unwrap()  # close_notify: the end of the stream, in the middle of the head
        else:
            s.shutdown(socket.SHUT_WR)
        out.write(drain(s))
    elif mode == "http-trickle":  # never idle for long, never done
        s = tls(s)
        start = time.monotonic()
        try:
            for b in TRICKLED_HEAD:
                s.sendall(bytes([b]))
                time.sleep(0.2)  # the point: a byte at a time, slowly
        except OSError:
            pass  # the server gave up on us
        out.write(drain(s))
        print("\n%.1f s" % (time.monotonic() - start), file=err)
    elif mode == "slow":
        s = tls(s)
        time.sleep(1.5)  # the point: a client that takes its time
        s.sendall(b"slow client")
        out.write(drain(s))
    s.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("port", type=int)
    ap.add_argument("cafile", nargs="?", default="",
                    help="speak TLS (in the modes that complete a handshake), trusting this CA")
    args = ap.parse_args()
    status = misbehave(args.mode, args.port, args.cafile or None)
    sys.stdout.flush()
    sys.exit(status)


if __name__ == "__main__":
    main()
