"""One hostile TLS client: bad records before or after a real handshake.

    python3 -m hostile.tls_peer MODE PORT CAFILE [--host 127.0.0.1]

Before the handshake:
  random          4,000 random bytes (not a TLS record at all)
  oversize-hello  a ClientHello whose record header claims 20,000 bytes
  garbage-hello   a handshake record header, then random bytes
  cut-record      half a ClientHello record, then a half-close
After a real handshake (verified with CAFILE, name "localhost"):
  bad-mac         an application-data record with one bit flipped
  oversize-app    an application-data header claiming 20,000 bytes
  cut-app         half an application-data record, then a half-close

Then it reads what the server sends back until it closes, prints
"server sent back N bytes: ...", and exits 0.
"""

import argparse
import os
import random
import socket
import ssl
import sys

BEFORE = ("random", "oversize-hello", "garbage-hello", "cut-record")
AFTER = ("bad-mac", "oversize-app", "cut-app")
MODES = BEFORE + AFTER
OVERSIZE = 20000


def random_bytes(n=4000, seed=1):
    """n bytes from a seeded generator (the bash original made a new
    generator per byte: 4,000 times the same byte)."""
    r = random.Random(seed)
    return bytes(r.randrange(256) for _ in range(n))


def client_hello():
    """The first flight of a real TLS client (one ClientHello record)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def handshake(s, cafile):
    """A real handshake over s; returns the TLS object and its output BIO."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.create_default_context(cafile=cafile)
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            s.sendall(out.read())
            data = s.recv(65536)
            if not data:
                sys.exit("the server closed during the handshake")
            inc.write(data)
    s.sendall(out.read())  # our Finished
    return obj, out


def drain(s):
    """Everything the server sends until it closes (an error is noted)."""
    got = b""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += data
    except OSError as e:
        got += b" <" + type(e).__name__.encode() + b">"
    return got


def attack(mode, port, cafile, host="127.0.0.1"):
    """Sends mode's hostile input to host:port; returns what came back."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode}")
    s = socket.create_connection((host, port), timeout=10)
    ch = client_hello()
    if mode == "random":
        s.sendall(random_bytes())
    elif mode == "oversize-hello":
        s.sendall(ch[:3] + OVERSIZE.to_bytes(2, "big") + ch[5:])
    elif mode == "garbage-hello":
        s.sendall(ch[:5] + os.urandom(len(ch) - 5))
    elif mode == "cut-record":
        s.sendall(ch[:5 + (len(ch) - 5) // 2])
        s.shutdown(socket.SHUT_WR)
    else:
        obj, out = handshake(s, cafile)
        obj.write(b"a record that will not arrive whole or intact")
        rec = bytearray(out.read())
        if mode == "bad-mac":
            rec[-3] ^= 0x01
            s.sendall(bytes(rec))
        elif mode == "oversize-app":
            s.sendall(b"\x17\x03\x03" + OVERSIZE.to_bytes(2, "big") + os.urandom(200))
        else:  # cut-app
            s.sendall(bytes(rec[: len(rec) // 2]))
            s.shutdown(socket.SHUT_WR)
    got = drain(s)
    s.close()
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("port", type=int)
    ap.add_argument("cafile")
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    got = attack(args.mode, args.port, args.cafile, args.host)
    print(f"server sent back {len(got)} bytes: {got[:16]!r}", flush=True)


if __name__ == "__main__":
    main()
