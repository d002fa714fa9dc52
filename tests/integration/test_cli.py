"""The command line as curl's and ncat's users type it: options after the
operands, URLs and address forms, curl's request options, redirects."""

import os
import sys

import pytest

from harness.system import ipv6_works
from harness.tty import run_on_tty, type_lines

HERE = os.path.dirname(os.path.abspath(__file__))
STAND_IN = os.path.join(HERE, "hostile", "http_stand_in.py")


@pytest.fixture
def http_stand_in(server, pki):
    """starts the HTTP stand-in, plain or over TLS with the test PKI."""

    def starter(tls=False):
        args = ["--tls", pki.cert(), pki.key()] if tls else []
        return server(sys.executable, STAND_IN, *args)

    return starter


# ---- options anywhere -------------------------------------------------------

def test_dtls_after_the_operands_never_goes_on_the_wire(server, run, prog, pki):
    """The word '--dtls' after HOST PORT asks for DTLS: a plaintext server
    sees a DTLS ClientHello, never the word as a datagram."""
    srv = server("udp-server")
    r = run([prog("udp-client"), "127.0.0.1", srv.port, "--dtls", "--cafile", pki.ca,
             "-t", "1", "--retries", "0"])
    assert r.rc != 0  # a plaintext server cannot finish a DTLS handshake
    srv.wait_for("[*] Received from ")
    assert "--dtls" not in srv.out() and "--cafile" not in srv.out()
    assert ": \\x16\\xfe" in srv.out()  # a DTLS handshake record


def test_options_after_operands_in_every_program(server, run, prog, pki):
    srv = server("udp-server", "--dtls", *pki.server_args())
    r = run([prog("udp-client"), "localhost", srv.port, "hello", "--dtls", "--cafile", pki.ca])
    r.expect(0)
    assert r.out == "udp-server is working"
    srv.wait_for(": hello")
    tcp = server("tcp-server", "--tls", *pki.server_args())
    r = run([prog("tcp-client"), "localhost", tcp.port, "--send", "hi", "--tls", "--cafile",
             pki.ca, "-v"])
    r.expect(0)
    assert "TLSv1.3" in r.err
    r = run([prog("udp-client"), "127.0.0.1", srv.port, "hello", "-x"])
    r.expect(2)
    assert "'-x'" in r.err and len(r.err.splitlines()) == 1


def test_double_dash_makes_the_rest_data(server, run, prog):
    srv = server("udp-server", "--echo")
    r = run([prog("udp-client"), "127.0.0.1", srv.port, "--", "-v"])
    r.expect(0)
    assert r.out == "-v"


# ---- URLs and address forms ---------------------------------------------------

def test_http_url_gives_host_port_and_path(server, run, prog):
    srv = server("tcp-server", "--http")
    r = run([prog("tcp-client"), f"http://127.0.0.1:{srv.port}/a/b?q=1#frag"])
    r.expect(0)
    assert r.out.startswith("HTTP/1.1 200 OK\r\n")
    srv.wait_for(": GET /a/b?q=1 HTTP/1.1")  # [*] Received from ADDR: ...


def test_https_url_implies_tls(server, run, prog, pki):
    srv = server("tcp-server", "--tls", "--http", *pki.server_args())
    r = run([prog("tcp-client"), "--cafile", pki.ca, "-v", f"https://localhost:{srv.port}/x"])
    r.expect(0)
    assert "verification: ok" in r.err
    srv.wait_for(": GET /x HTTP/1.1")


def test_host_port_as_one_word(server, run, prog):
    srv = server("tcp-server")
    r = run([prog("tcp-client"), f"127.0.0.1:{srv.port}", "--send", "x"])
    r.expect(0)
    assert r.out == "tcp-server over TCP is working"


@pytest.mark.skipif(not ipv6_works(), reason="this host cannot bind ::1")
def test_bracketed_ipv6(server, run, prog):
    srv = server("tcp-server", "-b", "::1")
    for words in (["[::1]", str(srv.port)], [f"[::1]:{srv.port}"],
                  [f"http://[::1]:{srv.port}/v6"]):
        r = run([prog("tcp-client")] + words)
        r.expect(0, f"tcp-client {' '.join(words)}")
    srv.wait_for(f"Host: [::1]:{srv.port}", count=3)
    srv.wait_for("GET /v6 HTTP/1.1")


@pytest.mark.parametrize("words,named", [
    (["ftp://example.org/"], "ftp"),
    (["http://user@example.org/"], "user"),
    (["http://example.org:0/"], "port"),
    (["127.0.0.1:80", "81"], "twice"),
    (["--tls", "http://example.org/"], "https://"),
])
def test_bad_targets_are_one_line_usage_errors(run, prog, words, named):
    r = run([prog("tcp-client")] + words)
    r.expect(2)
    assert named in r.err and len(r.err.splitlines()) == 1


# ---- curl's request options ------------------------------------------------------

def test_data_posts_a_form(http_stand_in, run, prog, tmp_path):
    srv = http_stand_in()
    url = f"http://127.0.0.1:{srv.port}/form"
    r = run([prog("tcp-client"), "--body-only", "-d", "a=1", "-d", "b=2", url]).expect(0)
    assert r.out == "POST /form HTTP/1.1\nbody-length: 7\na=1&b=2"
    f = tmp_path / "body.bin"
    f.write_bytes(b"line1\r\nline2\n\x00\xff")
    r = run([prog("tcp-client"), "--body-only", "--data-binary", f"@{f}", "-X", "PUT", url])
    r.expect(0)
    assert r.out_bytes.endswith(b"body-length: 15\nline1\r\nline2\n\x00\xff")
    assert r.out.startswith("PUT /form HTTP/1.1")
    r = run([prog("tcp-client"), "--body-only", "-d", f"@{f}", url]).expect(0)
    assert r.out_bytes.endswith(b"body-length: 12\nline1line2\x00\xff")  # curl drops CR/LF


def test_head_request(http_stand_in, run, prog):
    srv = http_stand_in()
    r = run([prog("tcp-client"), "-I", f"http://127.0.0.1:{srv.port}/h"]).expect(0)
    assert r.out.startswith("HTTP/1.1 200 OK\r\n") and r.out.endswith("\r\n\r\n")
    srv.wait_for("HEAD /h body=0")
    run([prog("tcp-client"), "-I", "-d", "x", "127.0.0.1", srv.port]).expect(2)


def test_data_file_missing_is_a_usage_error(run, prog):
    r = run([prog("tcp-client"), "-d", "@/nonexistent/file", "127.0.0.1", "9"])
    r.expect(2)
    assert "/nonexistent/file" in r.err


# ---- redirects -------------------------------------------------------------------

def test_redirect_not_followed_without_location_option(http_stand_in, run, prog):
    srv = http_stand_in()
    r = run([prog("tcp-client"), f"http://127.0.0.1:{srv.port}/redirect/301?to=/final"])
    r.expect(0)
    assert r.out.startswith("HTTP/1.1 301")
    assert "not followed" in r.err and "--location" in r.err


@pytest.mark.parametrize("code,method", [(301, "GET"), (302, "GET"), (303, "GET"),
                                         (307, "POST"), (308, "POST")])
def test_location_follows_like_curl(http_stand_in, run, prog, code, method):
    srv = http_stand_in()
    r = run([prog("tcp-client"), "-L", "--body-only", "-d", "k=v",
             f"http://127.0.0.1:{srv.port}/redirect/{code}?to=/final"])
    r.expect(0)
    body = 7 if method == "POST" else 0  # 307/308 keep the method and body
    assert r.out.startswith(f"{method} /final HTTP/1.1\nbody-length: {len('k=v') if body else 0}")
    srv.wait_for(f"{method} /final body={3 if body else 0}")
    assert "moved" not in r.out  # only the final response is written


def test_location_verifies_every_new_host(http_stand_in, server, run, prog, pki):
    """Each hop is verified for its own host: a plaintext start redirected
    to https verifies against the system store (which does not know the
    test CA), and a verified https start redirected to a server whose
    certificate names another host is refused."""
    good = server("tcp-server", "--tls", "--http", *pki.server_args())
    plain = http_stand_in()
    r = run([prog("tcp-client"), "-L",
             f"http://127.0.0.1:{plain.port}/redirect/302?to=https://localhost:{good.port}/"])
    r.expect(4)
    wrong = server("tcp-server", "--tls", "--http", *pki.server_args("wronghost"))
    start = http_stand_in(tls=True)
    to = f"https://localhost:{wrong.port}/"
    r = run([prog("tcp-client"), "-L", "--cafile", pki.ca,
             f"https://localhost:{start.port}/redirect/307?to={to}"])
    r.expect(4)
    start.wait_for("GET /redirect/307")
    r = run([prog("tcp-client"), "-L", "--cafile", pki.ca, "--body-only",
             f"https://localhost:{start.port}/redirect/307?to=https://localhost:{good.port}/x"])
    r.expect(0)
    assert r.out == "tcp-server over TLS is working\n"


def test_location_leaving_tls_warns(http_stand_in, server, run, prog, pki):
    plain = http_stand_in()
    tls = http_stand_in(tls=True)
    to = f"http://127.0.0.1:{plain.port}/landed"
    r = run([prog("tcp-client"), "-L", "--cafile", pki.ca, "--body-only",
             f"https://localhost:{tls.port}/redirect/301?to={to}"]).expect(0)
    assert r.out.startswith("GET /landed HTTP/1.1")
    assert "warning" in r.err and "plaintext" in r.err


def test_max_redirs(http_stand_in, run, prog):
    srv = http_stand_in()
    loop = f"http://127.0.0.1:{srv.port}/redirect/302"  # to itself
    r = run([prog("tcp-client"), "-L", "--max-redirs", "3", loop])
    r.expect(1)
    assert "too many redirects" in r.err
    assert srv.count("GET /redirect/302") == 4


# ---- output ------------------------------------------------------------------------

def test_closed_pipe_ends_quietly_with_curls_status(server, prog, tmp_path):
    import subprocess

    srv = server("tcp-server", "--reply", "a" * 100000)
    # head reads 10 bytes and exits: the rest of the reply meets a closed pipe.
    pipeline = subprocess.run(
        ["bash", "-c", f'"$0" --send x 127.0.0.1 {srv.port} | head -c 10 >/dev/null; '
         'echo "${PIPESTATUS[0]}"', prog("tcp-client")],
        capture_output=True, text=True, timeout=60)
    assert pipeline.stdout.strip() == "23"
    assert pipeline.stderr == ""  # quietly


def test_write_error_names_its_cause(server, run, prog):
    srv = server("tcp-server", "--reply", "a" * 100000)
    r = run([prog("tcp-client"), "--send", "x", "-o", "/dev/full", "127.0.0.1", srv.port])
    r.expect(23)
    assert "No space left on device" in r.err


def test_binary_is_held_back_from_a_terminal(server, prog, tmp_path):
    data = tmp_path / "binary"
    data.write_bytes(b"abc\x00def")
    srv = server("tcp-server", "--echo")
    rc, shown, err = run_on_tty([prog("tcp-client"), "--send-file", data, "127.0.0.1",
                                 srv.port])
    assert rc == 23 and shown == b""
    assert "7 bytes" in err and "-o" in err
    rc, shown, err = run_on_tty([prog("tcp-client"), "-o", "-", "--send-file", data,
                                 "127.0.0.1", srv.port])
    assert rc == 0
    assert shown == b"abc\\x00def"  # forced, and still escaped


def test_text_reaches_a_terminal(server, prog):
    srv = server("tcp-server")
    rc, shown, err = run_on_tty([prog("tcp-client"), "--send", "x", "127.0.0.1", srv.port])
    assert (rc, shown, err) == (0, b"tcp-server over TCP is working", "")


# ---- UDP for people ------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["udp", "dtls"])
def test_icmp_refusal_is_reported_at_once(run, prog, pki, mode):
    from harness.waits import free_port

    port = free_port()
    tls = ["--dtls", "--cafile", pki.ca] if mode == "dtls" else []
    r = run([prog("udp-client"), *tls, "127.0.0.1", port, "hello"], timeout=20)
    r.expect(3)
    assert r.seconds < 1.5, f"took {r.seconds:.1f} s"
    assert "connection refused" in r.err and f"127.0.0.1:{port}" in r.err


def test_a_person_answering_in_ncat_gets_one_datagram(start, prog, tmp_path):
    """The seed's workflow: 'ncat -u -l' shows the message, a person types
    the answer five seconds later. A socket plays ncat, counting exactly
    what arrives: one datagram, not a resend every two seconds."""
    import socket
    import time

    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    client = start([prog("udp-client"), "127.0.0.1", port, "who is there?"])
    listener.settimeout(10)
    data, peer = listener.recvfrom(65536)
    assert data == b"who is there?"
    listener.settimeout(5)
    deadline = time.monotonic() + 5  # the person reads and types: 5 s
    extra = []
    while time.monotonic() < deadline:
        try:
            listener.settimeout(max(0.01, deadline - time.monotonic()))
            extra.append(listener.recvfrom(65536)[0])
        except socket.timeout:
            break
    assert extra == [], f"resent while the person was typing: {extra}"
    listener.sendto(b"me\n", peer)
    assert client.wait(10) == 0
    assert client.out() == "me\n"
    listener.close()


def test_timeout_zero_waits_for_ever(start, prog):
    import signal
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    client = start([prog("udp-client"), "-t", "0", "127.0.0.1",
                    listener.getsockname()[1], "x"])
    listener.settimeout(10)
    listener.recvfrom(100)
    with pytest.raises(AssertionError):
        client.wait(2)  # still waiting: no timeout
    client.send_signal(signal.SIGTERM)
    client.wait(10)
    listener.close()


def test_lines_typed_on_a_terminal_go_out_one_by_one(server, prog):
    srv = server("udp-server", "--echo")
    rc, out, err = type_lines([prog("udp-client"), "127.0.0.1", srv.port],
                              ["first line", "second"], srv.wait_for)
    assert rc == 0, err
    assert out == b"first line\nsecond\n"  # each echoed as it came
    assert srv.count("Received from") == 2


def test_ctrl_d_waits_only_briefly_for_a_reply_that_never_comes(prog):
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(10)
    # -t is 30 s for plaintext: Ctrl-D must not wait that long (10 s here)
    rc, out, err = type_lines([prog("udp-client"), "127.0.0.1", listener.getsockname()[1]],
                              ["nobody answers"], lambda line: listener.recvfrom(100))
    listener.close()
    assert rc == 0, err
    assert out == b""


def test_sigint_during_count_prints_the_statistics(server, start, prog):
    import signal

    srv = server("udp-server")
    client = start([prog("udp-client"), "--count", "100000", "127.0.0.1", srv.port, "ping"])
    srv.wait_for("Received from", count=20, timeout=30)
    client.send_signal(signal.SIGINT)
    assert client.wait(10) == 0
    stats = client.err()
    assert " exchanges, " in stats and " replies, 0 lost" in stats
    made = int(stats.split(" exchanges")[0].split()[-1])
    assert 20 <= made < 100000


# ---- signals -----------------------------------------------------------------------------

def test_second_interrupt_stops_the_server_at_once(server, start, prog):
    import signal
    import time

    srv = server("tcp-server", "--echo", "--grace", "30")
    holder = start([prog("tcp-client"), "--send-file", "-", "127.0.0.1", srv.port],
                   stdin=__import__("subprocess").PIPE)
    holder.popen.stdin.write(b"hello")
    holder.popen.stdin.flush()
    srv.wait_for("Accepted connection")
    srv.send_signal(signal.SIGINT)
    srv.wait_for("interrupt again to stop at once")
    t0 = time.monotonic()
    srv.send_signal(signal.SIGINT)
    assert srv.wait(5) == 0
    assert time.monotonic() - t0 < 1.5
    srv.checked = True
    assert "1 client(s) cut off by the second interrupt" in srv.out()
    assert holder.wait(10) != 0  # cut off, told so by a reset


# ---- mix-ups explained -------------------------------------------------------------------

def test_curl_plain_request_to_a_tls_port_gets_a_400(server, run, prog, pki):
    from harness.system import need

    need("curl")
    srv = server("tcp-server", "--tls", "--http", *pki.server_args())
    r = run(["curl", "-sS", "-i", "--max-time", "20", f"http://127.0.0.1:{srv.port}/"]).expect(0)
    assert r.out.startswith("HTTP/1.1 400")
    assert "https://" in r.out
    srv.wait_for("[!] ")
    assert srv.count("plaintext HTTP") == 1
    # ... and it keeps serving.
    r = run(["curl", "-sS", "--cacert", pki.ca, f"https://localhost:{srv.port}/"]).expect(0)
    assert r.out == "tcp-server over TLS is working\n"


def test_tls_to_a_plaintext_server_says_drop_tls(server, run, prog):
    srv = server("tcp-server")
    r = run([prog("tcp-client"), "--tls", "-k", "127.0.0.1", srv.port])
    r.expect(4)
    assert "plaintext" in r.err and "tcp-server over" in r.err and "drop --tls" in r.err


def test_plaintext_to_a_tls_server_says_add_tls(start, run, prog, pki):
    """openssl s_server closes on a plaintext request without a word; a
    server that answers with a TLS alert is named as TLS."""
    from harness.system import need
    from harness.waits import free_port, wait_tcp_listening

    need("openssl")
    port = free_port()
    s = start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-www",
               "-cert", pki.cert(), "-key", pki.key()])
    wait_tcp_listening(port, gone=lambda: not s.alive())
    r = run([prog("tcp-client"), "127.0.0.1", port])
    r.expect(1)
    assert "add --tls" in r.err
    alert = start([sys.executable, "-c",
                   "import socket,sys\n"
                   "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n"
                   "print(s.getsockname()[1], flush=True)\n"
                   "c,_=s.accept(); c.recv(100); c.sendall(bytes([21,3,3,0,2,2,70])); c.close()"])
    from harness.waits import wait_until

    wait_until(lambda: alert.out().strip(), 10, "the alerting stand-in's port")
    r = run([prog("tcp-client"), "127.0.0.1", alert.out().strip()])
    r.expect(1)
    assert "answered with TLS" in r.err and "add --tls" in r.err


def test_plaintext_datagrams_to_a_dtls_server_are_named_once_a_minute(server, run, prog):
    """A DTLS port meeting plaintext says so: one line per peer and minute,
    not one per datagram (a spoofer's flood) and not none."""
    import socket

    srv = server("udp-server", "--dtls", "--self-signed")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    for i in range(50):
        s.sendto(b"plain hello %d" % i, ("127.0.0.1", srv.port))
    me = f"127.0.0.1:{s.getsockname()[1]}"
    srv.wait_for(f"[!] {me}: a 13-byte datagram that is not DTLS")
    # A DTLS client behind them is still served: the junk did not block it.
    r = run([prog("udp-client"), "--dtls", "--pin", srv.ready["fingerprint"], "127.0.0.1",
             srv.port, "after the junk"])
    r.expect(0)
    srv.wait_for(": after the junk")
    assert srv.count(f"[!] {me}:") == 1
    s.close()


UDP_ANSWER = os.path.join(HERE, "hostile", "udp_answer.py")


def test_dtls_to_a_plaintext_udp_server_says_drop_dtls(server, run, prog, pki):
    """OpenSSL drops a datagram that is not DTLS without a word; the
    client says what answered at once, rather than timing out as if no
    server were there. -t 10 with no retries: a timeout would take 10 s."""
    srv = server("udp-server")
    r = run([prog("udp-client"), "--dtls", "--cafile", pki.ca, "-t", "10", "--retries", "0",
             "127.0.0.1", srv.port, "hello"])
    r.expect(4)
    assert r.seconds < 5, f"took {r.seconds:.1f} s: the plaintext answer went unnoticed"
    assert 'the peer sent plaintext ("udp-server is working"), not DTLS: drop --dtls' in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err


def test_dtls_meeting_binary_junk_quotes_it_escaped(server, run, prog, pki):
    """An answer that is neither DTLS nor text: its size and first bytes,
    escaped, never raw on the terminal; --json has the same error."""
    import json

    junk = b"\x1b[2J\x00\xffNOT DTLS" + bytes(range(40))
    srv = server(sys.executable, UDP_ANSWER, junk.hex())
    r = run([prog("udp-client"), "--dtls", "--cafile", pki.ca, "-t", "10", "--retries", "0",
             "--json", "127.0.0.1", srv.port, "hello"])
    r.expect(4)
    assert r.seconds < 5, f"took {r.seconds:.1f} s: the junk answer went unnoticed"
    want = (f'the peer answered with a {len(junk)}-byte datagram that is not DTLS '
            '("\\x1b[2J\\x00\\xffNOT DTLS\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09...")'
            ': drop --dtls')
    assert f"udp-client: {want}" in r.err
    assert "\x1b" not in r.err and "\x00" not in r.err
    records = [json.loads(line) for line in r.err.splitlines() if line.startswith("{")]
    assert [rec["error"] for rec in records] == [want]
    assert srv.out().count("answered") == 1  # no retransmission: it ended at the answer
