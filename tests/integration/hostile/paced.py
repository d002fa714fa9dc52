"""A data source that comes no faster than a given pace: SIZE random bytes
spread evenly over at least SECONDS (a client whose data is still in
flight seconds after it started, however fast the machine).

    python3 -m hostile.paced SIZE SECONDS > data
"""

import argparse
import os
import sys
import time

CHUNK = 1 << 16


def paced_chunks(size, seconds, chunk=CHUNK):
    """Yields size random bytes in chunks; the k-th byte is not yielded
    before k/size of seconds has passed (the pace is the point: no sleep
    here waits for anything)."""
    sent, t0 = 0, time.monotonic()
    while sent < size:
        n = min(chunk, size - sent)
        yield os.urandom(n)
        sent += n
        if seconds > 0:
            time.sleep(max(0.0, t0 + seconds * sent / size - time.monotonic()))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("size", type=int, help="bytes to write")
    ap.add_argument("seconds", type=float, help="spread them over at least this long")
    args = ap.parse_args()
    out = sys.stdout.buffer
    for data in paced_chunks(args.size, args.seconds):
        out.write(data)
        out.flush()


if __name__ == "__main__":
    main()
