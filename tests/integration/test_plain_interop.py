"""tcp-client and tcp-server with ncat and socat: the bytes each side gets
(tcp-client's request exactly as sent, the reply verbatim), half-close after
--send, an HTTP reply framed by Content-Length on a connection left open;
socat as a TLS server for tcp-client and as a TLS client of tcp-server.

The peers are called directly (need() skips when one is missing)."""

import time

import pytest

from harness.system import need
from harness.waits import free_port


def ncat_listen(start, tmp_path, port, reply, *ncat_options):
    """ncat -l on 127.0.0.1:PORT answering the bytes REPLY (its stdin);
    what it receives goes to its stdout. Returns it once it listens."""
    need("ncat")
    reply_file = tmp_path / f"ncat-reply.{port}"
    reply_file.write_bytes(reply)
    with open(reply_file, "rb") as stdin:
        p = start(["ncat", "-v", *ncat_options, "-l", "127.0.0.1", port], stdin=stdin)
    p.wait_for(f"Listening on 127.0.0.1:{port}", where="err")
    return p


def ncat_done(p):
    """Waits (bounded) for an ncat listener to exit after its connection;
    returns what it received."""
    try:
        rc = p.wait(10)
    except AssertionError:
        raise AssertionError(f"ncat -l did not finish 10s after its client: {p.err()}") from None
    assert rc == 0, f"ncat -l failed (status {rc}): {p.err()}"
    return p.out_bytes()


def test_tcp_client_send_to_ncat(start, run, prog, tmp_path):
    port = free_port()
    nc = ncat_listen(start, tmp_path, port, b"ncat-reply")
    r = run([prog("tcp-client"), "--send", "hello", "127.0.0.1", port])
    r.expect(0, "tcp-client --send hello to ncat -l")
    assert r.out == "ncat-reply", "reply from ncat"
    assert ncat_done(nc) == b"hello", "bytes ncat received"


def test_tcp_client_default_request_to_ncat(start, run, prog, tmp_path):
    """The default request, byte for byte; a plain-text (non-HTTP) reply
    runs to the close."""
    port = free_port()
    nc = ncat_listen(start, tmp_path, port, b"plain text, not HTTP")
    r = run([prog("tcp-client"), "--path", "/index.html", "-A", "Mozilla/lm3nitro 1.0",
             "-H", "X-Test: yes", "127.0.0.1", port])
    got = ncat_done(nc)
    assert got == (f"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   "User-Agent: Mozilla/lm3nitro 1.0\r\nAccept: */*\r\nConnection: close\r\n"
                   "X-Test: yes\r\n\r\n").encode(), "request ncat received"
    assert r.out == "plain text, not HTTP", "reply from ncat"
    r.expect(0, "tcp-client (default request) to ncat -l answering plain text")


def test_http_reply_framed_by_content_length_on_a_kept_connection(start, run, prog, tmp_path):
    """An HTTP reply with Content-Length ends there, though the server keeps
    the connection open."""
    port = free_port()
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    # --no-shutdown: no FIN after the reply; ncat waits for the client's close.
    nc = ncat_listen(start, tmp_path, port, reply, "--no-shutdown")
    t0 = time.monotonic()
    r = run([prog("tcp-client"), "-t", 8, "127.0.0.1", port])
    took = time.monotonic() - t0
    r.expect(0, "tcp-client against an HTTP server that keeps the connection open")
    assert r.out_bytes == reply, "reply"
    assert took < 5, f"tcp-client took {took:.1f}s: it waited for the close, not for Content-Length"
    ncat_done(nc)


def test_ncat_client_to_tcp_server(server, run):
    need("ncat")
    srv = server("tcp-server")
    r = run(["ncat", "127.0.0.1", srv.port], input="hi")
    r.expect(0, "ncat client to tcp-server")
    assert r.out == "tcp-server over TCP is working", "reply ncat got"
    srv.wait_for(": hi")
    # Echo mode: what ncat sends comes back, and the server closes after
    # ncat's half-close.
    srv = server("tcp-server", "--echo")
    r = run(["ncat", "127.0.0.1", srv.port], input="line one\nline two\n")
    r.expect(0, "ncat client to tcp-server --echo")
    assert r.out == "line one\nline two\n", "echo ncat got"


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_tcp_client_to_socat_openssl_listen(start, run, prog, pki, tmp_path, version):
    """socat as a TLS server (its certificate verified by tcp-client)."""
    need("socat")
    port = free_port()
    got = tmp_path / "socat.got"
    sc = start(["socat", "-d", "-d",
                f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,cert={pki.cert()},"
                f"key={pki.key()},verify=0",
                f"SYSTEM:cat >'{got}'; printf socat-tls-reply"])
    sc.wait_for("listening on", where="err")
    r = run([prog("tcp-client"), "-v", "--tls", "--tls-max", version, "--cafile", pki.ca,
             "--send", "hello socat", "localhost", port])
    r.expect(0, f"tcp-client --tls --tls-max {version} to socat OPENSSL-LISTEN")
    assert r.out == "socat-tls-reply", "reply from socat"
    assert f"protocol: TLSv{version}" in r.err, f"tcp-client -v: [{r.err}]"
    assert "verification: ok" in r.err, f"tcp-client -v: [{r.err}]"
    sc.wait_for("exiting with status", where="err")
    assert got.read_text() == "hello socat", \
        "bytes socat received (the whole --send, then end of stream)"


def test_socat_openssl_and_tcp_clients_to_tcp_server(server, run, pki):
    """socat as a TLS client of tcp-server, verifying it against the CA."""
    need("socat")
    srv = server("tcp-server", "--tls", *pki.server_args())
    r = run(["socat", "-t", "5", "-", f"OPENSSL:localhost:{srv.port},cafile={pki.ca}"],
            input="hi-socat")
    r.expect(0, "socat OPENSSL: client to tcp-server --tls")
    assert r.out == "tcp-server over TLS is working", "reply socat got"
    srv.wait_for(": hi-socat")
    # socat verifies too: with another CA it refuses.
    r = run(["socat", "-t", "5", "-",
             f"OPENSSL:localhost:{srv.port},cafile={pki.cert('other-ca')}"], input="hi-socat")
    assert r.rc != 0, "socat accepted tcp-server's certificate with the wrong CA"
    # And plain TCP.
    srv = server("tcp-server")
    r = run(["socat", "-t", "5", "-", f"TCP:127.0.0.1:{srv.port}"], input="hi-tcp")
    r.expect(0, "socat TCP: client to tcp-server")
    assert r.out == "tcp-server over TCP is working", "reply socat got"
