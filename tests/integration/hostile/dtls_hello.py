"""DTLS 1.2 ClientHellos for the hordes and floods, made without a DTLS
stack in Python: a real first ClientHello (no cookie) caught from openssl
s_client, the second one rebuilt from it with a cookie, and the cookie of a
HelloVerifyRequest.

    python3 -m hostile.dtls_hello PORT    # one cookieless ClientHello to
                                          # 127.0.0.1:PORT; prints the reply
"""

import argparse
import socket
import subprocess

CONTENT_HANDSHAKE = 22
CLIENT_HELLO = 1
SERVER_HELLO = 2
HELLO_VERIFY_REQUEST = 3


def dtls_client_hello(timeout=10):
    """A first DTLS 1.2 ClientHello (no cookie), as openssl s_client sends
    it, caught on a socket that never answers. Every hostile DTLS tool
    starts from this one."""
    grab = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    grab.bind(("127.0.0.1", 0))
    grab.settimeout(timeout)
    p = subprocess.Popen(["openssl", "s_client", "-dtls1_2", "-connect",
                          "127.0.0.1:%d" % grab.getsockname()[1]],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        ch, _ = grab.recvfrom(65535)
    finally:
        p.kill()
        p.wait()
        grab.close()
    assert ch[0] == CONTENT_HANDSHAKE and ch[13] == CLIENT_HELLO, \
        "not a DTLS ClientHello: %r" % ch[:16]
    return ch


def cookie_offset(ch):
    """Where the cookie length byte is in the record CH (after the record
    and handshake headers, version, random and session id)."""
    body = ch[25:]
    return 25 + 35 + body[34]


def with_cookie(ch, cookie):
    """The second ClientHello: the first one with COOKIE, message_seq 1,
    record sequence number 1."""
    body = ch[25:]
    cookie_at = cookie_offset(ch) - 25
    assert body[cookie_at] == 0, "the first ClientHello already has a cookie"
    b = body[:cookie_at] + bytes([len(cookie)]) + cookie + body[cookie_at + 1:]
    hs = (bytes([CLIENT_HELLO]) + len(b).to_bytes(3, "big") + (1).to_bytes(2, "big") + bytes(3)
          + len(b).to_bytes(3, "big"))
    rec = ch[:3] + ch[3:5] + (1).to_bytes(6, "big") + (len(hs) + len(b)).to_bytes(2, "big")
    return rec + hs + b


def hvr_cookie(reply):
    """The cookie of a HelloVerifyRequest, or None if REPLY is not one."""
    if len(reply) < 28 or reply[0] != CONTENT_HANDSHAKE or reply[13] != HELLO_VERIFY_REQUEST:
        return None
    n = reply[27]
    return reply[28:28 + n]


def is_server_hello(reply):
    """REPLY is a handshake record that starts with a ServerHello."""
    return len(reply) > 13 and reply[0] == CONTENT_HANDSHAKE and reply[13] == SERVER_HELLO


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("port", type=int)
    args = ap.parse_args()
    ch = dtls_client_hello()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.sendto(ch, ("127.0.0.1", args.port))
        reply = s.recv(65535)
    cookie = hvr_cookie(reply)
    if cookie is None:
        print("not a HelloVerifyRequest: %s" % reply[:16].hex())
        raise SystemExit(1)
    print("HelloVerifyRequest, cookie %s (%d bytes for a ClientHello of %d)"
          % (cookie.hex(), len(reply), len(ch)))


if __name__ == "__main__":
    main()
