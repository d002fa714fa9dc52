"""Waiting for a condition with a deadline (never a bare sleep), and ports."""

import random
import socket
import time


def wait_until(cond, timeout=10, what="the condition", gone=None, interval=0.02):
    """Polls cond() until it is true (returns its value) or timeout seconds
    pass (fails naming what; what may be a callable giving the text).
    gone(), when given and true, ends the wait at once with a failure (the
    process that was to make cond true has exited)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if gone is not None and gone():
            value = cond()  # one last look: it may have finished and exited
            if value:
                return value
            raise AssertionError(f"gone before: {what() if callable(what) else what}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"after {timeout} s, still waiting for: "
                                 f"{what() if callable(what) else what}")
        time.sleep(interval)


def _ephemeral_low():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        return int(f.read().split()[0])


def free_port():
    """A port on 127.0.0.1 free for both TCP and UDP, for a peer that must
    be told its port (apache2, ncat, socat) or a port where nothing
    listens. Picked at random below the kernel's ephemeral range, where no
    socket bound to port 0 by a test running alongside can land."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randint(10000, low - 1) if low > 10001 else random.randint(1024, low - 1)
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise AssertionError("no free port found below the ephemeral range")


def _bound(path, port, state=None):
    try:
        with open(path) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, st = fields[1], fields[3]
                if int(local.rsplit(":", 1)[1], 16) == port and (state is None or st == state):
                    return True
    except FileNotFoundError:
        pass
    return False


def udp_bound(port):
    """A UDP socket on this host is bound to port (/proc/net/udp{,6})."""
    return _bound("/proc/net/udp", port) or _bound("/proc/net/udp6", port)


def tcp_listening(port):
    """A TCP socket on this host listens on port (state 0A)."""
    return _bound("/proc/net/tcp", port, "0A") or _bound("/proc/net/tcp6", port, "0A")


def wait_udp_bound(port, timeout=10, gone=None):
    """Waits until something binds UDP port (ncat and socat say nothing)."""
    wait_until(lambda: udp_bound(port), timeout, f"a UDP socket bound to port {port}", gone)


def wait_tcp_listening(port, timeout=10, gone=None):
    """Waits until something listens on TCP port."""
    wait_until(lambda: tcp_listening(port), timeout, f"a TCP listener on port {port}", gone)
