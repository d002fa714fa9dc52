"""Processes under test: run one to the end, or start one in the background.

Every process's stdout and stderr go to files (so a test can read them
while it runs, and a failure shows them); every stderr is searched for a
sanitizer report, which fails the test.
"""

import os
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass

from .waits import wait_until

# A sanitizer's report (ASan/LSan/UBSan/TSan builds) in a program's stderr.
SANITIZER_RE = re.compile(r"ERROR: [A-Za-z]*Sanitizer|WARNING: ThreadSanitizer|: runtime error: ")


class SanitizerReport(AssertionError):
    """A program under test printed a sanitizer report."""


def check_sanitizer(what, err):
    """Fails (SanitizerReport) when err, a program's stderr, holds a report."""
    if SANITIZER_RE.search(err):
        raise SanitizerReport(f"sanitizer report from {what}:\n{err}")


def _text(data):
    return data.decode("utf-8", errors="backslashreplace")


def _label(cmd):
    words = [os.path.basename(str(cmd[0]))] + [str(c) for c in cmd[1:]]
    return " ".join(words)[:120]


@dataclass
class Result:
    """What a finished command did: exit status (None: killed at its
    timeout), stdout and stderr as text and as bytes."""

    cmd: list
    rc: object
    out_bytes: bytes
    err_bytes: bytes
    seconds: float

    @property
    def out(self):
        return _text(self.out_bytes)

    @property
    def err(self):
        return _text(self.err_bytes)

    @property
    def timed_out(self):
        return self.rc is None

    def expect(self, rc, what=None):
        """Asserts the exit status, showing the output if it differs."""
        assert self.rc == rc, (
            f"{what or _label(self.cmd)}: exit status expected {rc}, got "
            f"{'timeout' if self.rc is None else self.rc}\nstdout: {self.out}\nstderr: {self.err}"
        )
        return self

    def __str__(self):
        return f"[{_label(self.cmd)}] exit {self.rc}\nstdout: {self.out}\nstderr: {self.err}"


def run(cmd, *, timeout=60, input=None, env=None, cwd=None, stdin=None, check_san=True):
    """Runs cmd to the end (killed after timeout seconds: rc None).

    input: bytes or str for its stdin (else stdin, default /dev/null).
    env: extra environment variables, added to this process's.
    """
    cmd = [str(c) for c in cmd]
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update({k: str(v) for k, v in env.items()})
    if isinstance(input, str):
        input = input.encode()
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if input is not None else (stdin or subprocess.DEVNULL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(input, timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        rc = None
    result = Result(cmd, rc, out, err, time.monotonic() - start)
    if check_san:
        check_sanitizer(_label(cmd), result.err)
    return result


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Proc:
    """A process in the background, its output in files under a directory.

    Stopped (TERM, then KILL) when its test ends; its exit status is
    checked only where the test or the server fixture asks.
    """

    def __init__(self, cmd, logdir, *, env=None, stdin=None, pass_fds=(), cwd=None):
        self.cmd = [str(c) for c in cmd]
        self.label = _label(self.cmd)
        base = os.path.join(logdir, f"{os.path.basename(self.cmd[0])}.{time.monotonic_ns()}")
        self.out_path = base + ".out"
        self.err_path = base + ".err"
        full_env = None
        if env is not None:
            full_env = dict(os.environ)
            full_env.update({k: str(v) for k, v in env.items()})
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(
                self.cmd,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=full_env,
                cwd=cwd,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        self.pid = self.popen.pid
        self.rc = None

    # -- output -----------------------------------------------------------
    def out_bytes(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def err_bytes(self):
        with open(self.err_path, "rb") as f:
            return f.read()

    def out(self):
        return _text(self.out_bytes())

    def err(self):
        return _text(self.err_bytes())

    def lines(self):
        """stdout's complete lines."""
        text = self.out()
        return text.split("\n")[:-1] if text else []

    def count(self, needle, where="out"):
        """How many lines of stdout (or "err") contain needle."""
        text = self.out() if where == "out" else self.err()
        return sum(1 for line in text.split("\n") if needle in line)

    def wait_for(self, needle, timeout=10, where="out", count=1):
        """Waits until count lines of stdout (or "err") contain needle;
        fails if the process exits first without them."""

        def seen():
            return self.count(needle, where) >= count

        wait_until(
            seen,
            timeout,
            lambda: f"{count} line(s) with [{needle}] in {where} of [{self.label}]; "
            f"it has:\n{self.out() if where == 'out' else self.err()}",
            gone=lambda: not self.alive() and not seen(),
        )

    def wait_for_count(self, needle, n, timeout=10, where="out"):
        """Waits until n lines contain needle; fails if more do."""
        self.wait_for(needle, timeout, where, count=n)
        got = self.count(needle, where)
        assert got == n, f"expected {n} line(s) with [{needle}] in [{self.label}], found {got}"

    # -- life -------------------------------------------------------------
    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, sig):
        if self.alive():
            self.popen.send_signal(sig)

    def wait(self, timeout=30):
        """Waits for the exit; returns the status (-N: killed by signal N).
        Fails if it has not exited within timeout."""
        try:
            self.rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"[{self.label}] still running after {timeout} s") from None
        return self.rc

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signals the process, waits up to timeout seconds (a sanitizer's
        exit checks on a loaded machine take a while), then kills it.
        Returns its status (-N when a signal ended it)."""
        if self.alive():
            self.popen.send_signal(sig)
            try:
                self.rc = self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill_group(self.popen)
                self.rc = self.popen.wait()
        else:
            self.rc = self.popen.wait()
        return self.rc

    def kill(self):
        _kill_group(self.popen)
        self.rc = self.popen.wait()

    def sanitizer_check(self):
        check_sanitizer(self.label, self.err())

    def report(self):
        """Its command, status and output, for a failure message."""
        return (
            f"--- {self.label} (pid {self.pid}, status {self.popen.poll()}) stdout:\n{self.out()}"
            f"\n--- stderr:\n{self.err()}"
        )


def read_ready_line(fd, proc, timeout):
    """Reads one line from fd (the read end of a server's --ready-fd pipe)
    within timeout, then waits for the server to close it; fails with the
    server's output if it exits first."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(
                f"[{proc.label}] gave no ready signal within {timeout} s\n{proc.report()}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                try:
                    proc.popen.wait(5)
                except subprocess.TimeoutExpired:
                    pass
                raise AssertionError(
                    f"[{proc.label}] closed its ready descriptor without a ready signal "
                    f"(status {proc.popen.poll()})\n{proc.report()}")
            data += chunk
    # The server closes the descriptor right after the line: wait for that
    # too, so that a test counting the server's descriptors never counts it.
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], min(deadline - time.monotonic(), 0.2))
        if ready and not os.read(fd, 4096):
            break
    return data.split(b"\n", 1)[0].decode()
