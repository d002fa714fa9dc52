"""Programs on a terminal (a pty), as a person runs them: their output on
one (they escape what they print, or hold binary back), or their input
typed on one (udp-client with no MESSAGE reads lines, as ncat -u does)."""

import os
import pty
import subprocess
import threading


def run_on_tty(cmd, timeout=30):
    """cmd with its stdout on a terminal: (status, what the terminal got,
    stderr)."""
    master, slave = pty.openpty()
    chunks = []

    def reader():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the slave side closed
                break
            if not data:
                break
            chunks.append(data)

    t = threading.Thread(target=reader)
    t.start()
    p = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=slave,
                       stderr=subprocess.PIPE, timeout=timeout)
    os.close(slave)
    t.join(10)
    os.close(master)
    return p.returncode, b"".join(chunks), p.stderr.decode()


def type_lines(cmd, lines, arrived, timeout=10):
    """cmd with its stdin on a terminal: each of lines typed in turn, the
    next only once arrived(line) has returned (it waits until the line got
    where it goes), then Ctrl-D. Returns (status, stdout bytes, stderr)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([str(c) for c in cmd], stdin=slave, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    os.close(slave)
    try:
        for line in lines:
            os.write(master, line.encode() + b"\n")
            arrived(line)
        os.write(master, b"\x04")  # Ctrl-D: end of input
        out, err = p.communicate(timeout=timeout)
    finally:
        p.kill()
        os.close(master)
    return p.returncode, out, err.decode()
