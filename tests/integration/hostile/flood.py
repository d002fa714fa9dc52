"""A flood of cookieless DTLS ClientHellos, each from a new source port,
as a spoofer would send them: none may get more than a HelloVerifyRequest.

    python3 -m hostile.flood PORT COUNT PID

Sends in waves of 100 (a ClientHello unanswered after a second is sent
once more: lost in a full receive buffer), and samples the threads,
descriptors and VmRSS of PID (the server) after each wave. Prints
  "N ClientHellos (R sent again) in S s: A HelloVerifyRequests, L unanswered"
  "most threads T, most fds F, most VmRSS K kB"
and exits non-zero, saying why, if anything but a HelloVerifyRequest of
at most the ClientHello's size comes back.
"""

import argparse
import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from hostile.dtls_hello import dtls_client_hello, hvr_cookie  # noqa: E402

WAVE = 100
WAVE_DEADLINE = 5       # seconds for a wave's answers
RESEND_AFTER = 1        # an unanswered ClientHello is sent once more after this
LATE_WINDOW = 0.05      # how long a wave's sockets stay open for late datagrams


def status(pid):
    """(threads, descriptors, VmRSS in kB) of pid."""
    with open("/proc/%s/status" % pid) as f:
        st = dict(line.split(":", 1) for line in f)
    return (int(st["Threads"]), len(os.listdir("/proc/%s/fd" % pid)),
            int(st["VmRSS"].split()[0]))


def flood(addr, count, pid):
    """Sends the flood; returns (answered, unanswered, resent, seconds,
    [most threads, most fds, most VmRSS])."""
    ch = dtls_client_hello()
    most = [0, 0, 0]
    answered, lost, resent, t0 = 0, 0, 0, time.monotonic()
    for w in range(0, count, WAVE):
        socks = []
        for _ in range(min(WAVE, count - w)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            s.sendto(ch, addr)
            socks.append(s)
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        waiting = set(socks)
        deadline = time.monotonic() + WAVE_DEADLINE
        resend = time.monotonic() + RESEND_AFTER
        while waiting and time.monotonic() < deadline:
            if time.monotonic() > resend:   # lost in a full receive buffer: once more
                for s in waiting:
                    s.sendto(ch, addr)
                    resent += 1
                resend = deadline
            for key, _ in sel.select(0.1):
                s = key.fileobj
                d, peer = s.recvfrom(65535)
                if peer != addr or hvr_cookie(d) is None:
                    sys.exit("not a HelloVerifyRequest from the server: %r from %r"
                             % (d[:16], peer))
                if len(d) > len(ch):
                    sys.exit("a HelloVerifyRequest of %d bytes for a ClientHello of %d"
                             % (len(d), len(ch)))
                waiting.discard(s)
                sel.unregister(s)
                answered += 1
        lost += len(waiting)
        # Anything but another HelloVerifyRequest arriving afterwards (a
        # ServerHello would) is a failure; a second one answers a
        # ClientHello sent again because the first answer was slow, not
        # lost. The window is time passing on purpose.
        time.sleep(LATE_WINDOW)
        for s in socks:
            while True:
                try:
                    d = s.recv(65535)
                except BlockingIOError:
                    break
                if hvr_cookie(d) is None:
                    sys.exit("a datagram other than a HelloVerifyRequest: %r" % d[:16])
            s.close()
        sel.close()
        most = [max(m, v) for m, v in zip(most, status(pid))]
    return answered, lost, resent, time.monotonic() - t0, most


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("pid", type=int, help="the server's process, sampled after each wave")
    args = ap.parse_args(argv)
    answered, lost, resent, took, most = flood(("127.0.0.1", args.port), args.count, args.pid)
    print("%d ClientHellos (%d sent again) in %.2f s: %d HelloVerifyRequests, %d unanswered"
          % (args.count, resent, took, answered, lost))
    print("most threads %d, most fds %d, most VmRSS %d kB" % tuple(most))


if __name__ == "__main__":
    main()
