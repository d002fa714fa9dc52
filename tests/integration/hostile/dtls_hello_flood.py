"""ClientHellos a DTLS server must answer without keeping any state: COUNT
first ClientHellos (no cookie), each from a new source port that never
comes back (as from a spoofed address), then FORGED ones carrying a random
cookie. Each must get exactly one HelloVerifyRequest, from the server's
port, no larger than the ClientHello (no amplification).

    python3 -m hostile.dtls_hello_flood PORT COUNT [--forged 20] [--pid PID]

The ClientHello is a real one, caught from `openssl s_client -dtls1_2`.
With --pid it samples that process's threads and open descriptors after
every reply and prints the most seen ("most threads T, most fds F").
Exits 1 (an AssertionError) when a reply is missing or not as above.
"""

import argparse
import os
import socket
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.system import fd_count, proc_status  # noqa: E402
from hostile.dtls_hello import cookie_offset, dtls_client_hello, with_cookie  # noqa: E402


def with_forged_cookie(ch):
    """ch with a random 32-byte cookie, its lengths made right (one
    unfragmented handshake message, message_seq 1: a second ClientHello)."""
    return with_cookie(ch, os.urandom(32))


def hello(port, msg, timeout=5):
    """Sends msg from a new source port, checks the one reply is a
    HelloVerifyRequest from port no larger than msg; returns its size."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.settimeout(timeout)
        s.sendto(msg, ("127.0.0.1", port))
        reply, peer = s.recvfrom(65535)
    finally:
        s.close()
    assert peer[1] == port, "reply from port %d" % peer[1]
    assert reply[0] == 22 and reply[13] == 3, "not a HelloVerifyRequest: %r" % reply[:16]
    assert len(reply) <= len(msg), ("HelloVerifyRequest of %d bytes for a ClientHello of %d"
                                    % (len(reply), len(msg)))
    return len(reply)


@dataclass
class Flood:
    """What a flood saw: reply sizes for plain and forged ClientHellos, the
    ClientHello's size, and the most threads and descriptors of --pid."""

    client_hello: int = 0
    sizes: list = field(default_factory=list)
    forged_sizes: list = field(default_factory=list)
    most_threads: int = 0
    most_fds: int = 0

    def summary(self):
        f = self.forged_sizes or [0]
        return ("%d HelloVerifyRequests (%d-%d bytes) for a ClientHello of %d bytes; "
                "%d for forged cookies (%d-%d bytes)\nmost threads %d, most fds %d"
                % (len(self.sizes), min(self.sizes or [0]), max(self.sizes or [0]),
                   self.client_hello, len(self.forged_sizes), min(f), max(f),
                   self.most_threads, self.most_fds))


def flood(port, count, forged=20, pid=None):
    """count cookieless ClientHellos, then forged ones, one at a time."""
    ch = dtls_client_hello()
    assert ch[cookie_offset(ch)] == 0, "the first ClientHello has a cookie"
    result = Flood(client_hello=len(ch))

    def sample():
        if pid is not None:
            result.most_threads = max(result.most_threads, proc_status(pid, "Threads"))
            result.most_fds = max(result.most_fds, fd_count(pid))

    for _ in range(count):
        result.sizes.append(hello(port, ch))
        sample()
    for _ in range(forged):
        result.forged_sizes.append(hello(port, with_forged_cookie(ch)))
        sample()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--forged", type=int, default=20, help="ClientHellos with a forged cookie")
    ap.add_argument("--pid", type=int, default=None, help="the server's pid, to sample")
    args = ap.parse_args()
    print(flood(args.port, args.count, args.forged, args.pid).summary(), flush=True)


if __name__ == "__main__":
    main()
