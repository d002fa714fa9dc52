"""The suite's own harness: the ready signal, process supervision, waits,
ports and the PKI (what tests/integration/lib.sh's self-test checked)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from harness.procs import Proc, SanitizerReport, check_sanitizer
from harness.system import cert_fingerprint, fd_count, proc_status, raise_fd_limit, sanitizer_of
from harness.waits import free_port, tcp_listening, udp_bound, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("program,protocol", [("tcp-server", "tcp"), ("udp-server", "udp")])
def test_ready_signal_names_the_bound_port(server, program, protocol):
    srv = server(program)
    assert srv.protocol == protocol
    assert srv.address == "127.0.0.1"
    assert 0 < srv.port < 65536
    assert (tcp_listening if protocol == "tcp" else udp_bound)(srv.port)


def test_json_ready_line_comes_first_on_stderr(start, prog):
    p = start([prog("tcp-server"), "-p", "0", "--json", "--tls", "--self-signed"])
    wait_until(lambda: p.err().endswith("\n"), 10, "the --json listening line",
               gone=lambda: not p.alive())
    first = json.loads(p.err().split("\n")[0])
    assert first["event"] == "listening" and first["protocol"] == "tls"
    assert first["fingerprint"].startswith("sha256:")
    assert f"[*] Self-signed certificate {first['fingerprint']}" in p.out()
    assert p.stop() == 0


def test_ready_fd_must_be_open(run, prog):
    r = run([prog("tcp-server"), "-p", "0", "--ready-fd", "99"])
    r.expect(2)
    assert "--ready-fd" in r.err and len(r.err.strip().split("\n")) == 1


def test_server_that_exits_before_ready_is_reported(server, prog):
    with pytest.raises(AssertionError, match="without a ready signal"):
        server("tcp-server", "--tls")  # no certificate: a usage error, exit 2


def test_stand_in_server_speaks_ready_fd(server, run):
    stand_in = os.path.join(HERE, "hostile", "echo_once.py")
    srv = server(sys.executable, stand_in, ready_timeout=10)
    assert srv.protocol == "tcp" and tcp_listening(srv.port)
    r = run([sys.executable, "-c",
             "import socket,sys; c=socket.create_connection(('127.0.0.1',int(sys.argv[1])));"
             "c.sendall(b'ping'); print(c.recv(100).decode())", srv.port])
    r.expect(0)
    assert r.out == "ping\n"
    srv.wait_for("received 4 bytes")
    assert srv.wait(10) == 0  # it ends by itself after one client
    srv.checked = True


def test_run_captures_output_status_and_timeout(run):
    r = run(["bash", "-c", 'printf "out\\n\\n"; printf err >&2; exit 3'])
    assert (r.rc, r.out, r.err) == (3, "out\n\n", "err")
    t0 = time.monotonic()
    r = run(["sleep", "30"], timeout=0.5)
    assert r.timed_out and time.monotonic() - t0 < 10


def test_sanitizer_reports_fail(run):
    with pytest.raises(SanitizerReport):
        run(["bash", "-c", 'echo "x.c:1:2: runtime error: signed integer overflow" >&2'])
    with pytest.raises(SanitizerReport):
        check_sanitizer("p", "==1==ERROR: LeakSanitizer: detected memory leaks")
    check_sanitizer("p", "an ordinary error")


def test_background_process_is_stopped_and_checked(tmp_path):
    p = Proc(["sleep", "60"], str(tmp_path))
    assert p.alive()
    assert p.stop() == -signal.SIGTERM
    assert not p.alive()
    leaky = Proc(["bash", "-c", "echo ==1==ERROR: AddressSanitizer: heap-use-after-free >&2"],
                 str(tmp_path))
    leaky.wait(10)
    with pytest.raises(SanitizerReport):
        leaky.sanitizer_check()


def test_wait_for_lines(tmp_path):
    p = Proc(["bash", "-c", "echo a x; sleep 0.2; echo b; echo a y; sleep 60"], str(tmp_path))
    p.wait_for_count("a ", 2, timeout=10)
    assert p.count("zzz") == 0
    p.kill()
    gone = Proc(["bash", "-c", "echo nothing"], str(tmp_path))
    with pytest.raises(AssertionError, match="gone before"):
        gone.wait_for("never printed", timeout=10)


def test_wait_until_has_a_deadline():
    t0 = time.monotonic()
    with pytest.raises(AssertionError, match="still waiting for: a miracle"):
        wait_until(lambda: False, 0.3, "a miracle")
    assert 0.3 <= time.monotonic() - t0 < 5
    assert wait_until(lambda: 42, 1) == 42


def test_free_port_is_below_the_ephemeral_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    port = free_port()
    assert port < low and not tcp_listening(port) and not udp_bound(port)


def test_proc_readers():
    assert proc_status(os.getpid(), "VmRSS") > 0
    assert fd_count(os.getpid()) >= 3
    raise_fd_limit(64)
    with pytest.raises(AssertionError):
        raise_fd_limit(1 << 40)
    assert sanitizer_of("/bin/sh") is None
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        wait_until(lambda: proc_status(child.pid, "Threads") == 1, 10, "the child's status")
    finally:
        child.kill()
        child.wait()


def test_pki(pki, run):
    for name in ("ca", "server", "client", "expired", "wronghost", "unknownca"):
        assert os.path.getsize(pki.cert(name)) > 0
    r = run(["openssl", "x509", "-in", pki.ca, "-noout", "-fingerprint", "-sha256"]).expect(0)
    assert cert_fingerprint(pki.ca) == "sha256:" + r.out.strip().split("=", 1)[1]
    r = run(["openssl", "verify", "-CAfile", pki.ca, pki.cert("expired")])
    assert r.rc != 0
