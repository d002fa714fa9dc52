"""tcp-client's failures: each is refused with its exit code (4 TLS, 2
usage, 3 resolution/connection, 5 timeout) and one line on stderr naming
the cause; --insecure connects and warns.

Where the cause is the OpenSSL library's (a certificate's verification,
an alert), the expected words come from the same library at test time
(openssl verify, s_client), never from a literal of one version.
"""

import errno
import os
import socket
import sys
import time

import pytest

from harness.system import cert_fingerprint
from harness.waits import free_port
from peers.openssl import OpenSSL, verify_error

HERE = os.path.dirname(os.path.abspath(__file__))
SILENT_SERVER = os.path.join(HERE, "hostile", "silent_server.py")
REPLY_TLS = "tcp-server over TLS is working"


@pytest.fixture
def refused(run, prog):
    """refused(EXIT, NEEDLE, *ARGS): tcp-client ARGS exits EXIT, writes
    nothing to stdout and one line containing NEEDLE to stderr."""

    def check(want, needle, *args):
        r = run([prog("tcp-client"), *args]).expect(want)
        assert r.out == "", f"stdout of {r}"
        assert r.err.count("\n") == 1 and r.err.endswith("\n"), f"not one line on stderr: {r}"
        assert needle in r.err, f"no [{needle}] on stderr: {r}"
        return r

    return check


@pytest.fixture
def tls_server(server, pki):
    """tls_server(CERT-NAME, *SERVER-ARGS): tcp-server --tls serving that
    certificate of the test PKI."""
    return lambda name, *args: server("tcp-server", "--tls", *pki.server_args(name), *args)


def test_unknown_ca_refused_insecure_connects(tls_server, refused, run, prog, pki):
    srv = tls_server("unknownca")
    why = verify_error(pki.cert("unknownca"), pki.ca)
    r = refused(4, why, "--tls", "--cafile", pki.ca, "--send", "hi", "localhost", srv.port)
    assert "unknown CA" in r.err, "the hint: trust its CA, or pin it"
    # --insecure connects, and says that nothing was verified.
    r = run([prog("tcp-client"), "--tls", "--insecure", "--send", "hi", "localhost",
             srv.port]).expect(0)
    assert r.out == REPLY_TLS, "reply with --insecure"
    assert "warning" in r.err
    assert "NOT verified" in r.err
    r = run([prog("tcp-client"), "--tls", "-k", "--send", "hi", "localhost", srv.port]).expect(0)
    assert "warning" in r.err


def test_wrong_hostname(tls_server, refused, pki):
    srv = tls_server("wronghost")
    cert = pki.cert("wronghost")
    why = verify_error(cert, pki.ca, hostname="localhost")
    refused(4, f"{why} (wanted localhost)", "--tls", "--cafile", pki.ca, "--send", "hi",
            "localhost", srv.port)
    # The certificate names only wrong.example: the address does not match.
    why = verify_error(cert, pki.ca, ip="127.0.0.1")
    refused(4, f"{why} (wanted 127.0.0.1)", "--tls", "--cafile", pki.ca, "--send", "hi",
            "127.0.0.1", srv.port)


def test_ip_mismatch(tls_server, refused, pki):
    srv = tls_server("server")  # SAN localhost, 127.0.0.1, ::1
    why = verify_error(pki.cert(), pki.ca, ip="127.0.0.2")
    refused(4, f"{why} (wanted 127.0.0.2)", "--tls", "--cafile", pki.ca,
            "--servername", "127.0.0.2", "--send", "hi", "127.0.0.1", srv.port)
    why = verify_error(pki.cert(), pki.ca, hostname="other.example")
    refused(4, f"{why} (wanted other.example)", "--tls", "--cafile", pki.ca,
            "--servername", "other.example", "--send", "hi", "127.0.0.1", srv.port)


def test_expired_certificate(tls_server, refused, pki):
    srv = tls_server("expired")
    why = verify_error(pki.cert("expired"), pki.ca)
    refused(4, why, "--tls", "--cafile", pki.ca, "--send", "hi", "localhost", srv.port)


def test_pin_mismatch(tls_server, refused, run, prog, pki):
    srv = tls_server("server")
    fingerprint = cert_fingerprint(pki.cert())
    # The right pin connects, without --cafile.
    run([prog("tcp-client"), "--tls", "--pin", fingerprint, "--send", "hi", "localhost",
         srv.port]).expect(0)
    r = refused(4, "pin mismatch", "--tls", "--pin", "sha256:" + "0" * 64, "--send", "hi",
                "localhost", srv.port)
    # The message says what the server sent, so the user can compare.
    assert fingerprint in r.err


def test_server_below_tls_min(tls_server, refused, run, prog, pki):
    ossl = OpenSSL().require()
    srv = tls_server("server", "--tls-max", "1.2")
    r = refused(4, "", "--tls", "--cafile", pki.ca, "--tls-min", "1.3", "--send", "hi",
                "localhost", srv.port)
    srv.wait_for("[!]")
    # The cause is the server's protocol_version alert (70, RFC 8446 6.2):
    # s_client, held to TLS 1.3 too, receives it and names it in the
    # library's words, which tcp-client's line must carry.
    s = run(ossl.client_cmd(host="127.0.0.1", port=srv.port, protocol="tls", version="1.3",
                            cafile=pki.ca, ign_eof=False))
    assert s.rc not in (0, None) and 70 in ossl.alerts_in(s.err), f"s_client -tls1_3: {s}"
    reasons = ossl.error_reasons(s.err)
    assert any(reason in r.err for reason in reasons), f"{r.err!r} names none of {reasons}"
    # The same client with the default minimum connects, in TLS 1.2.
    r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "--send", "hi",
             "localhost", srv.port]).expect(0)
    assert "protocol: TLSv1.2" in r.err


USAGE_ERRORS = {
    "port-70000": ("70000", ["127.0.0.1", "70000"]),
    "bad-ciphers": ("NOPE", ["--tls", "--ciphers", "NOPE", "localhost", "443"]),
    "missing-cafile": ("{tmp}/missing-ca.crt",
                       ["--tls", "--cafile", "{tmp}/missing-ca.crt", "localhost", "443"]),
    "cert-without-key": ("--key", ["--tls", "--cert", "{pki}/client.crt", "localhost", "443"]),
    "negative-timeout": ("-1", ["-t", "-1", "localhost", "443"]),
    "short-pin": ("sha256:", ["--tls", "--pin", "sha256:1234", "localhost", "443"]),
    "unknown-option": ("--nope", ["--nope", "localhost"]),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_usage_error(refused, pki, tmp_path, case):
    needle, args = USAGE_ERRORS[case]

    def fill(s):
        return s.format(tmp=tmp_path, pki=pki.dir)

    refused(2, fill(needle), *[fill(a) for a in args])


def test_usage_error_no_host(run, prog):
    run([prog("tcp-client")]).expect(2, "tcp-client without a HOST")


CONNECTION_ERRORS = {
    "refused": ("refused", ["127.0.0.1", "{port}"]),
    "refused-tls": ("refused", ["--tls", "--cafile", "{ca}", "localhost", "{port}"]),
    "unresolvable": ("foo.invalid", ["foo.invalid", "80"]),
    "unresolvable-tls": ("foo.invalid", ["--tls", "foo.invalid"]),
}


@pytest.mark.parametrize("case", CONNECTION_ERRORS)
def test_connection_error(refused, pki, case):
    needle, args = CONNECTION_ERRORS[case]
    port = free_port()  # nobody listens there
    if needle == "refused":
        needle = os.strerror(errno.ECONNREFUSED)  # the C library's words
    refused(3, needle, *[a.format(port=port, ca=pki.ca) for a in args])


# A server that accepts and then never says anything: -t 1 gives up in time.
@pytest.mark.parametrize("mode,args", [
    ("send", ["--send", "hi", "127.0.0.1"]),
    ("http", ["127.0.0.1"]),
    ("tls", ["--tls", "--cafile", "{ca}", "localhost"]),
], ids=("send", "http", "tls"))
def test_silent_server_times_out(server, refused, pki, mode, args):
    srv = server(sys.executable, SILENT_SERVER)
    started = time.monotonic()
    r = refused(5, "", "-t", "1", *[a.format(ca=pki.ca) for a in args], srv.port)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"tcp-client -t 1 took {elapsed:.1f} s"
    srv.wait_for("accepted 1")  # connected, then timed out: not refused
    if mode == "tls":
        assert "handshake" in r.err, f"the TLS timeout does not say it was the handshake: {r}"


def test_hostile_silent_server_holds_clients_silently(server):
    """The stand-in itself: it accepts, holds, and sends nothing."""
    srv = server(sys.executable, SILENT_SERVER)
    clients = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(3)]
    try:
        srv.wait_for("accepted 3")
        clients[0].sendall(b"anyone there?\n")
        clients[0].settimeout(0.5)
        with pytest.raises(socket.timeout):  # not a close (b""), not a reply
            clients[0].recv(100)
        assert srv.alive()
    finally:
        for c in clients:
            c.close()
