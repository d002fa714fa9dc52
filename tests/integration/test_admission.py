"""The servers' admission loops and what came with them.

- tcp-server --accept-threads N: N admission threads at idle (the main
  thread runs one), one per CPU by default; udp-server has one loop; 200
  TLS clients at once against --accept-threads 2 all get the reply.
- A client that closes without sending anything (TLS: handshake, then
  close_notify; plain: FIN) and plain UDP datagrams are served in the loop:
  no worker thread is ever made for them (a client that sends a request
  does make one, which shows the count would see it).
- tcp-server --tickets N: openssl s_client gets N TLS 1.3 tickets and
  resumes with the default (2); --tickets 0 sends none and keeps no
  session cache, so neither TLS 1.3 nor TLS 1.2 resumes.
- TLS 1.3 suites in Mozilla's order: tcp-client offers AES-128-GCM first
  (to tcp-server and to openssl s_server); tcp-server honours the client's
  order (openssl s_client, which puts AES-256 first, gets it).
- Bad --accept-threads / --tickets values: exit 2, one line, no server.
"""

import errno
import json
import os
import socket

import pytest

from harness.system import need, proc_status, raise_fd_limit
from harness.waits import free_port, wait_until

REPLY_TLS = "tcp-server over TLS is working"
TICKET_LINE = "Post-Handshake New Session Ticket arrived"


@pytest.fixture(autouse=True)
def fd_limit():
    raise_fd_limit(1024)


@pytest.fixture
def threads_of(sanitizer):
    """threads_of(n): how many threads a server with n threads of its own
    shows: TSan's runtime adds its background thread once a process makes
    a second thread (a process that never does has none)."""
    extra = 1 if sanitizer == "thread" else 0
    return lambda n: n + extra if n > 1 else n


def default_loops():
    """The default number of admission loops: one per online CPU, 1 to 64."""
    return min(max(os.sysconf("SC_NPROCESSORS_ONLN"), 1), 64)


def wait_threads(pid, want, timeout=10):
    """Waits until pid has want threads (a worker starts a moment after its
    client's request); fails at once if it ever has more."""

    def reached():
        n = proc_status(pid, "Threads")
        assert n <= want, f"process {pid} has {n} threads, expected {want}"
        return n == want

    wait_until(reached, timeout, lambda: f"process {pid} has "
               f"{proc_status(pid, 'Threads')} threads, expected {want}", interval=0.05)


def tls_server(server, pki, *args):
    """tcp-server --tls with the test PKI's server certificate, whole: the
    Listening line comes once its loops exist and after --ready-fd is
    closed."""
    srv = server("tcp-server", "--tls", *pki.server_args(), *args)
    srv.wait_for("[*] Listening on")
    return srv


def s_client_line(run, pki, port, *args):
    """openssl s_client sends "hello" to tcp-server --tls (verified) and
    reads to the server's close (tickets come before the reply); returns
    what it printed."""
    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", pki.ca,
             "-servername", "localhost", "-verify_hostname", "localhost",
             "-verify_return_error", "-ign_eof", *args], input="hello\n", timeout=60)
    r.expect(0, "openssl s_client " + " ".join(str(a) for a in args))
    assert REPLY_TLS in r.out, "s_client output"
    return r.out


def tls_flag(version):
    return "-tls" + version.replace(".", "_")


def json_field(err, name):
    """The string name of the first --json record in err."""
    for line in err.split("\n"):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line).get(name) or ""
    return ""


# -- admission threads ---------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 4])
def test_accept_threads_at_idle(n, server, pki, threads_of):
    """The loops are all there at the ready signal (a script that waits
    for it sees the whole server), as many as asked."""
    srv = server("tcp-server", "--tls", *pki.server_args(), "--accept-threads", n)
    assert proc_status(srv.pid, "Threads") == threads_of(n), \
        f"threads of tcp-server --accept-threads {n} at its ready signal"
    srv.wait_for("[*] Listening on")
    assert proc_status(srv.pid, "Threads") == threads_of(n), \
        f"threads of tcp-server --accept-threads {n} at its Listening line"
    srv.stop_checked()


def test_accept_threads_default_one_per_cpu(server, pki, threads_of):
    srv = tls_server(server, pki)
    wait_threads(srv.pid, threads_of(default_loops()))


def test_udp_server_has_one_loop(server, pki):
    """One loop whatever the CPUs (also with --dtls)."""
    srv = server("udp-server", "--dtls", *pki.server_args())
    wait_threads(srv.pid, 1)


# -- served in the loops ------------------------------------------------

def test_tls_clients_closing_at_once_served_in_the_loops(server, start, run, pki, threads_of):
    """50 TLS clients that do the handshake and close: each is served by a
    loop ("closed without sending anything"), and no worker appears."""
    need("openssl")
    loops = default_loops()
    srv = tls_server(server, pki)
    idle = threads_of(loops)
    wait_threads(srv.pid, idle)
    quiet = [start(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}", "-CAfile",
                    pki.ca, "-servername", "localhost", "-verify_return_error"])
             for _ in range(50)]
    for i, c in enumerate(quiet):
        assert c.wait(60) == 0, f"openssl s_client {i} failed: {c.out()}{c.err()}"
        assert "New, TLSv1.3" in c.out() + c.err(), f"openssl s_client {i}'s output"
    srv.wait_for_count("closed without sending anything", 50, 30)
    assert srv.count("[!]") == 0, "error lines in the server's log"
    assert proc_status(srv.pid, "Threads") == idle, "threads after 50 clients that sent nothing"
    # The control: a client with a request is served by a worker, which is
    # kept: one thread more, so the count above would have seen one.
    s_client_line(run, pki, srv.port)
    srv.wait_for_count(": hello", 1)
    wait_threads(srv.pid, threads_of(loops + 1))


def close_without_sending(port, count=50):
    """count plain clients that connect, send only their FIN, and must see
    the server close with nothing to answer."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
    try:
        for s in socks:
            s.shutdown(socket.SHUT_WR)
        for i, s in enumerate(socks):
            data = s.recv(100)
            assert data == b"", f"client {i} got {data!r}"
    finally:
        for s in socks:
            s.close()


def test_tcp_clients_closing_at_once_served_in_the_loops(server, run, prog, threads_of):
    srv = server("tcp-server", "--accept-threads", 2)
    srv.wait_for("[*] Listening on")
    idle = threads_of(2)
    wait_threads(srv.pid, idle)
    close_without_sending(srv.port)
    srv.wait_for_count("closed without sending anything", 50, 30)
    assert proc_status(srv.pid, "Threads") == idle, "threads after 50 clients that sent nothing"
    run([prog("tcp-client"), "--send", "hello", "127.0.0.1", srv.port]).expect(0)
    wait_threads(srv.pid, threads_of(3))


def send_datagrams(port, count=100):
    """count datagrams to udp-server, each answered; a lost one is sent
    again (the 10 s wait keeps a slow answer from making a resend, which
    would be one line too many)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        for i in range(count):
            msg = b"datagram %d" % i
            for _attempt in range(5):
                s.send(msg)
                try:
                    reply = s.recv(2048)
                    break
                except socket.timeout:
                    continue
            else:
                raise AssertionError(f"no reply to datagram {i}")
            assert reply == b"udp-server is working", reply


def test_plain_udp_datagrams_are_served_in_the_loop(server):
    srv = server("udp-server")
    wait_threads(srv.pid, 1)
    send_datagrams(srv.port)
    srv.wait_for_count("[*] Received from", 100, 30)
    assert proc_status(srv.pid, "Threads") == 1, "udp-server threads after 100 datagrams"


def test_200_tls_clients_at_once_on_two_loops(server, start, prog, pki):
    # Long timeouts: 200 sanitized clients on 2 cores may wait seconds for
    # a CPU between handshake steps.
    srv = tls_server(server, pki, "--accept-threads", 2, "--max-clients", 256,
                     "--handshake-timeout", 60, "-t", 60)
    clients = [start([prog("tcp-client"), "--tls", "--cafile", pki.ca, "-t", 60, "--send",
                      f"client {i}", "localhost", srv.port]) for i in range(200)]
    bad = []
    for i, c in enumerate(clients):
        rc = c.wait(125)
        if rc != 0:
            bad.append(f"client {i} failed (status {rc}): {c.err()}")
        elif c.out() != REPLY_TLS:
            bad.append(f"client {i} got [{c.out()}]")
    assert bad == [], "clients without the reply:\n" + "\n".join(bad)
    srv.wait_for_count(": client ", 200, 30)
    assert srv.count("[!]") == 0, "error lines in the server's log"


# -- tickets and resumption ---------------------------------------------

def test_tickets_default_two_and_resumption(server, run, pki, tmp_path):
    """The default: 2 TLS 1.3 tickets, and the saved session resumes; TLS
    1.2 resumes too (a ticket or the session cache)."""
    need("openssl")
    srv = tls_server(server, pki, "-v")
    sess = tmp_path / "sess"
    out = s_client_line(run, pki, srv.port, "-tls1_3", "-sess_out", sess)
    assert "New, TLSv1.3" in out, "s_client output"
    assert out.count(TICKET_LINE) == 2, "TLS 1.3 tickets from the default server"
    assert sess.exists() and sess.stat().st_size > 0, "s_client saved no session"
    out = s_client_line(run, pki, srv.port, "-tls1_3", "-sess_in", sess)
    assert "Reused, TLSv1.3" in out, "s_client output, resuming"
    srv.wait_for("resumed: yes")
    sess.unlink()
    out = s_client_line(run, pki, srv.port, "-tls1_2", "-sess_out", sess)
    assert "New, TLSv1.2" in out, "s_client output"
    assert sess.exists() and sess.stat().st_size > 0, "s_client saved no TLS 1.2 session"
    out = s_client_line(run, pki, srv.port, "-tls1_2", "-sess_in", sess)
    assert "Reused, TLSv1.2" in out, "s_client output, resuming TLS 1.2"
    srv.stop_checked()


def test_tickets_1_sends_one(server, run, pki):
    need("openssl")
    srv = tls_server(server, pki, "--tickets", 1)
    out = s_client_line(run, pki, srv.port, "-tls1_3")
    assert out.count(TICKET_LINE) == 1, "TLS 1.3 tickets with --tickets 1"
    srv.stop_checked()


def test_tickets_0_nothing_to_resume(server, run, pki, tmp_path):
    """No ticket, no cache: nothing to resume, in either version."""
    need("openssl")
    srv = tls_server(server, pki, "--tickets", 0, "-v")
    for v in ("1.3", "1.2"):
        sess = tmp_path / f"sess-{v}"
        out = s_client_line(run, pki, srv.port, tls_flag(v), "-sess_out", sess)
        assert f"New, TLSv{v}" in out, "s_client output"
        assert "New Session Ticket arrived" not in out, "s_client output (--tickets 0)"
        assert "TLS session ticket:" not in out, "s_client output (--tickets 0)"
        # s_client saves nothing when there is nothing to resume; if it did
        # save a session, the server must not take it back.
        if sess.exists() and sess.stat().st_size > 0:
            out = s_client_line(run, pki, srv.port, tls_flag(v), "-sess_in", sess)
            assert f"New, TLSv{v}" in out, "s_client output, second connection"
            assert "Reused" not in out, "s_client output, second connection"
    srv.wait_for_count(": hello", 2)
    assert srv.count("resumed: yes") == 0, "resumed sessions with --tickets 0"


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_verify_client_resumption_with_client_cert(version, server, run, pki, tmp_path):
    """Mutual TLS: a client that resumes is resumed, not refused for a
    missing session id context."""
    need("openssl")
    srv = tls_server(server, pki, "--cafile", pki.ca, "--verify-client")
    sess = tmp_path / "sess-mtls"
    client_cert = ["-cert", pki.cert("client"), "-key", pki.key("client")]
    out = s_client_line(run, pki, srv.port, tls_flag(version), *client_cert, "-sess_out", sess)
    assert f"New, TLSv{version}" in out, "s_client output, first connection"
    out = s_client_line(run, pki, srv.port, tls_flag(version), *client_cert, "-sess_in", sess)
    assert f"Reused, TLSv{version}" in out, \
        "s_client output, resuming with a client certificate"
    assert srv.count("[!]") == 0, "[!] lines"
    srv.stop_checked()


# -- the UDP port -------------------------------------------------------

def test_plain_udp_server_port_cannot_be_shared(server):
    """Another socket cannot bind it, even with SO_REUSEADDR (which on
    Linux has no same-user check for UDP)."""
    srv = server("udp-server")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError) as e:
            s.bind(("127.0.0.1", srv.port))
        assert e.value.errno == errno.EADDRINUSE, "binding udp-server's port with SO_REUSEADDR"
    srv.stop_checked()


# -- TLS 1.3 suites -----------------------------------------------------

def test_suite_order_mozilla_and_the_clients_preference(server, run, prog, pki):
    need("openssl")
    srv = tls_server(server, pki, "-v")
    client = [prog("tcp-client"), "--tls", "--cafile", pki.ca]
    # Our client and our server: AES-128-GCM, both sides say so.
    r = run(client + ["--json", "--send", "hi", "localhost", srv.port]).expect(0)
    assert r.out == REPLY_TLS, "tcp-client's reply"
    assert json_field(r.err, "cipher") == "TLS_AES_128_GCM_SHA256", "tcp-client --json cipher"
    assert json_field(r.err, "version") == "TLSv1.3", "tcp-client --json version"
    srv.wait_for("cipher: TLS_AES_128_GCM_SHA256")
    r = run(client + ["-v", "--send", "hi", "localhost", srv.port]).expect(0)
    assert "protocol: TLSv1.3, cipher: TLS_AES_128_GCM_SHA256" in r.err, "tcp-client -v"
    # A suite named by the user still wins.
    r = run(client + ["--json", "--ciphersuites", "TLS_AES_256_GCM_SHA384", "--send", "hi",
                      "localhost", srv.port]).expect(0)
    assert json_field(r.err, "cipher") == "TLS_AES_256_GCM_SHA384", "cipher with --ciphersuites"
    # The server honours the client's order (Mozilla intermediate): openssl
    # s_client's default list puts AES-256 first, and gets it...
    out = s_client_line(run, pki, srv.port, "-tls1_3")
    assert "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" in out, "s_client (default order)"
    # ...and a client preferring ChaCha20 gets ChaCha20.
    out = s_client_line(run, pki, srv.port, "-tls1_3", "-ciphersuites",
                        "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256")
    assert "Cipher is TLS_CHACHA20_POLY1305_SHA256" in out, "s_client preferring ChaCha20"
    srv.stop_checked()


def test_tcp_client_order_seen_by_s_server(start, run, prog, pki):
    """tcp-client's own order, seen by a server that follows the client's
    order (openssl s_server's default): AES-128-GCM."""
    need("openssl")
    port = free_port()
    s_server = start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-www", "-tls1_3",
                      "-cert", pki.cert(), "-key", pki.key()])
    s_server.wait_for("ACCEPT")
    r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "localhost", port])
    r.expect(0, "tcp-client against openssl s_server")
    assert "cipher: TLS_AES_128_GCM_SHA256" in r.err, "tcp-client -v against s_server"
    assert "Cipher is TLS_AES_128_GCM_SHA256" in r.out, "s_server -www page"


# -- usage errors -------------------------------------------------------

@pytest.mark.parametrize("program,args", [
    ("tcp-server", "--accept-threads 0"),
    ("tcp-server", "--accept-threads 65"),
    ("tcp-server", "--accept-threads -3"),
    ("tcp-server", "--accept-threads many"),
    ("tcp-server", "--tls --self-signed --tickets 11"),
    ("tcp-server", "--tls --self-signed --tickets -1"),
    ("tcp-server", "--tls --self-signed --tickets x"),
    ("tcp-server", "--tickets 2"),
    ("udp-server", "--accept-threads 2"),
])
def test_usage_errors(program, args, run, prog):
    """Bad values: exit 2 with one line naming the option, no server."""
    words = args.split()
    r = run([prog(program), "-p", "0", *words])
    r.expect(2, f"{program} {args}")
    assert r.out == "", f"stdout of {program} {args}"
    assert r.err.endswith("\n") and "\n" not in r.err[:-1], \
        f"{program} {args}: not one line on stderr: [{r.err}]"
    for opt in words:
        if opt in ("--accept-threads", "--tickets"):
            assert opt in r.err, f"stderr of {program} {args}"
