"""One client streaming random data through an echo server with
tcp-client --send-file -, judging what comes back (what stream.sh did).

    python3 -m hostile.stream --client build/bin/tcp-client [--tls --cafile CA]
        [--size BYTES] [--pace SECONDS] [--go-fd N] HOST PORT

With --go-fd N it prints "waiting for go" and waits until descriptor N
reads end of file (so many streams start together when their parent, once
they all wait, closes the other end); then it feeds tcp-client
SIZE random bytes, as fast as it takes them (--pace 0) or spread over at
least PACE seconds. tcp-client's stderr is this process's stderr. Last,
one JSON line on stdout: tcp-client's exit status ("rc"), the bytes
generated and their SHA-256 ("sent", "sent_sha256"; all SIZE of them even
when tcp-client died early, like tee -p did), and the bytes that came back
and their SHA-256 ("got", "got_sha256").
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from hostile.paced import paced_chunks  # noqa: E402


def wait_go(fd):
    """Blocks until fd reads end of file (the parent closed its end)."""
    while os.read(fd, 4096):
        pass
    os.close(fd)


def stream(client_cmd, size, pace=0.0):
    """Runs client_cmd, feeding it size random bytes; returns the result dict."""
    proc = subprocess.Popen(client_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    sent = hashlib.sha256()
    counts = {"sent": 0}

    def feed():
        for data in paced_chunks(size, pace):
            sent.update(data)
            counts["sent"] += len(data)
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (BrokenPipeError, ConnectionResetError):
                break
        # What is left if the client died early is only hashed, at once.
        for data in paced_chunks(size - counts["sent"], 0):
            sent.update(data)
            counts["sent"] += len(data)
        try:
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    got = hashlib.sha256()
    n = 0
    while True:
        data = proc.stdout.read1(1 << 16)
        if not data:
            break
        got.update(data)
        n += len(data)
    rc = proc.wait()
    feeder.join()
    return {"rc": rc, "sent": counts["sent"], "sent_sha256": sent.hexdigest(),
            "got": n, "got_sha256": got.hexdigest()}


def client_command(args):
    cmd = [args.client, "--send-file", "-"]
    if args.tls:
        cmd += ["--tls", "--cafile", args.cafile]
    return cmd + [args.host, str(args.port)]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", required=True, help="the tcp-client program")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cafile")
    ap.add_argument("--size", type=int, default=10 * 1000 * 1000)
    ap.add_argument("--pace", type=float, default=0.0,
                    help="spread the data over at least this many seconds (0: at once)")
    ap.add_argument("--go-fd", type=int, default=None,
                    help="start once this descriptor reads end of file")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    args = ap.parse_args()
    if args.go_fd is not None:
        print("waiting for go", flush=True)
        wait_go(args.go_fd)
    result = stream(client_command(args), args.size, args.pace)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
