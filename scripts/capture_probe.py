"""The capture probe of scripts/capture-compare.sh: shows that tshark really
captures (its "Capturing on" comes before packets flow, and under load
hundreds of milliseconds of packets can be lost after it).

    python3 scripts/capture_probe.py LIVE_FILE PORT TAG

Sends datagrams "secsock-probe-TAG-N" from 127.0.0.1:PORT to itself every
50 ms until tshark's live output (LIVE_FILE: srcport, dstport and payload in
hex, one packet a line) shows one of them: exits 0 then, 1 after 20 s.
"""

import socket
import sys
import time


def seen(live, port, prefix):
    """True when LIVE_FILE holds one of the probe's datagrams."""
    with open(live) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 3 and cols[0] == cols[1] == str(port):
                try:
                    if bytes.fromhex(cols[2].replace(":", "")).startswith(prefix):
                        return True
                except ValueError:
                    pass
    return False


def main():
    live, port, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    prefix = f"secsock-probe-{tag}-".encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    deadline = time.monotonic() + 20
    n = 0
    while time.monotonic() < deadline:
        n += 1
        s.sendto(prefix + str(n).encode(), ("127.0.0.1", port))
        # The pace of the probe, and the poll of tshark's output: a line
        # there is the only sign that tshark captured.
        time.sleep(0.05)
        if seen(live, port, prefix):
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
