"""The peer providers themselves (peers/): every client and server command
they build does what it claims against our programs, for each protocol
the provider speaks, including what the interop tests do not use; and a
client told a CA really verifies (a peer that silently did not would
make the interop tests' "verified" mean nothing)."""

import socket
import ssl
import subprocess

import pytest

from harness.waits import free_port
from peers.curl import Curl
from peers.gnutls import GnuTLS
from peers.ncat import Ncat
from peers.openssl import OpenSSL
from peers.pyssl import PySSL
from peers.socat import Socat

REPLY = {"tcp": "tcp-server over TCP is working", "tls": "tcp-server over TLS is working"}
UDP_REPLY = "udp-server is working"


def _stream_server(server, pki, protocol, *args):
    tls = ["--tls", *pki.server_args()] if protocol == "tls" else []
    return server("tcp-server", "-v", *tls, *args)


# -- clients ------------------------------------------------------------------

STREAM_CLIENTS = [(Ncat, "tcp", None), (Ncat, "tls", None), (Socat, "tcp", None),
                  (Socat, "tls", "1.2"), (Socat, "tls", "1.3"), (PySSL, "tls", None)]


@pytest.mark.parametrize("peer_class,protocol,version", STREAM_CLIENTS,
                         ids=[f"{c.name}-{p}{'-' + v if v else ''}"
                              for c, p, v in STREAM_CLIENTS])
def test_stream_client(server, run, pki, peer_class, protocol, version):
    peer = peer_class().require()
    srv = _stream_server(server, pki, protocol)
    cafile = pki.ca if protocol == "tls" else None
    r = run(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol=protocol,
                            version=version, cafile=cafile, servername="localhost"),
            input=f"hello from {peer}").expect(0)
    assert REPLY[protocol] in r.out
    srv.wait_for(f": hello from {peer}")
    if protocol == "tls":
        srv.wait_for("SNI: localhost")
    if version:
        srv.wait_for(f"protocol: TLSv{version},")


def test_curl_plain_http(server, run):
    peer = Curl().require()
    srv = server("tcp-server", "--http")
    r = run(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="tcp", path="/here",
                            write_out="%{http_code}")).expect(0)
    assert r.out == REPLY["tcp"] + "\n200"
    srv.wait_for(": GET /here HTTP/1.1")


DATAGRAM_CLIENTS = [(Ncat, "udp"), (Socat, "udp"), (OpenSSL, "dtls"), (GnuTLS, "dtls")]


@pytest.mark.parametrize("peer_class,protocol", DATAGRAM_CLIENTS,
                         ids=[f"{c.name}-{p}" for c, p in DATAGRAM_CLIENTS])
def test_datagram_client(server, start, pki, peer_class, protocol):
    """A datagram client stays up until its reply is in, then its input ends."""
    peer = peer_class().require()
    dtls = ["--dtls", *pki.server_args()] if protocol == "dtls" else []
    srv = server("udp-server", *dtls)
    kwargs = {"quiet": True, "ign_eof": False} if peer_class is OpenSSL else {}
    c = start(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol=protocol,
                              cafile=pki.ca if dtls else None, servername="localhost",
                              **kwargs), stdin=subprocess.PIPE)
    c.popen.stdin.write(f"hello from {peer}\n".encode())
    c.popen.stdin.flush()
    srv.wait_for(f": hello from {peer}")
    c.wait_for(UDP_REPLY)
    c.popen.stdin.close()
    assert c.wait(15) == 0, c.report()


TLS_CLIENTS = [(OpenSSL, "tls"), (GnuTLS, "tls"), (Ncat, "tls"), (Socat, "tls"), (Curl, "tls"),
               (PySSL, "tls"), (OpenSSL, "dtls"), (GnuTLS, "dtls")]


@pytest.mark.parametrize("peer_class,protocol", TLS_CLIENTS,
                         ids=[f"{c.name}-{p}" for c, p in TLS_CLIENTS])
def test_client_given_a_ca_refuses_another(server, run, pki, peer_class, protocol):
    peer = peer_class().require()
    program = "tcp-server" if protocol == "tls" else "udp-server"
    srv = server(program, f"--{protocol}", *pki.server_args("unknownca"))
    kwargs = {"ign_eof": False} if peer_class is OpenSSL else {}
    r = run(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol=protocol,
                            cafile=pki.ca, servername="localhost", **kwargs),
            input="must not arrive\n", timeout=60)
    assert r.rc not in (0, None), f"{peer} accepted a certificate of another CA\n{r}"
    assert "is working" not in r.out
    assert srv.count("must not arrive") == 0


# -- servers ------------------------------------------------------------------

# tcp-client half-closes after --send; gnutls-serv echoes line by line.
STREAM_SERVERS = [(Socat, "tcp", {}), (Socat, "tls", {}), (GnuTLS, "tls", {"mode": "echo"}),
                  (PySSL, "tls", {})]


@pytest.mark.parametrize("peer_class,protocol,kwargs", STREAM_SERVERS,
                         ids=[f"{c.name}-{p}" for c, p, _ in STREAM_SERVERS])
def test_stream_echo_server(start, run, prog, pki, peer_class, protocol, kwargs):
    peer = peer_class().require()
    port = free_port()
    certs = {"cert": pki.cert(), "key": pki.key()} if protocol == "tls" else {}
    s = start(peer.server_cmd(port=port, protocol=protocol, **certs, **kwargs))
    peer.wait_ready(s, port, protocol)
    tls = ["--tls", "--cafile", pki.ca] if protocol == "tls" else []
    for message in ("first\n", "second\n"):
        r = run([prog("tcp-client"), *tls, "--send", message, "localhost", port]).expect(0)
        assert r.out == message, f"the echo from {peer}"


@pytest.mark.parametrize("protocol", ("tcp", "tls"), ids=("ncat-tcp", "ncat-tls"))
def test_ncat_echo_server(start, pki, protocol):
    """ncat drops a connection at the client's half-close (see peers/ncat.py):
    its echo is for a client that keeps its side open, like this one."""
    peer = Ncat().require()
    port = free_port()
    certs = {"cert": pki.cert(), "key": pki.key()} if protocol == "tls" else {}
    s = start(peer.server_cmd(port=port, protocol=protocol, echo=True, keep_open=True, **certs))
    peer.wait_ready(s, port, protocol)
    for message in (b"first\n", b"second\n"):
        conn = socket.create_connection(("127.0.0.1", port), timeout=20)
        if protocol == "tls":
            conn = ssl.create_default_context(cafile=pki.ca).wrap_socket(
                conn, server_hostname="localhost")
        with conn:
            conn.sendall(message)
            echo = b""
            while not echo.endswith(b"\n"):
                chunk = conn.recv(100)
                assert chunk, f"ncat closed after {echo!r}"
                echo += chunk
        assert echo == message


DATAGRAM_SERVERS = [(Ncat, "udp", {"echo": True}), (Socat, "udp", {}), (Socat, "dtls", {}),
                    (GnuTLS, "dtls", {"mode": "echo"})]


@pytest.mark.parametrize("peer_class,protocol,kwargs", DATAGRAM_SERVERS,
                         ids=[f"{c.name}-{p}" for c, p, _ in DATAGRAM_SERVERS])
def test_datagram_echo_server(start, run, prog, pki, peer_class, protocol, kwargs):
    peer = peer_class().require()
    port = free_port()
    certs = {"cert": pki.cert(), "key": pki.key()} if protocol == "dtls" else {}
    s = start(peer.server_cmd(port=port, protocol=protocol, **certs, **kwargs))
    peer.wait_ready(s, port, protocol)
    dtls = ["--dtls", "--cafile", pki.ca] if protocol == "dtls" else []
    r = run([prog("udp-client"), *dtls, "localhost", port, "echo me"]).expect(0)
    assert r.out == "echo me", f"the echo from {peer}"


def test_impossible_requests_fail_early():
    """A provider refuses what its program cannot do, rather than
    building a command that means something else."""
    with pytest.raises(ValueError):
        Ncat().client_cmd(host="h", port=1, protocol="tls", version="1.3")
    with pytest.raises(ValueError):
        Curl().client_cmd(host="h", port=1, protocol="udp")
    with pytest.raises(ValueError):
        PySSL().client_cmd(host="h", port=1, protocol="dtls")
    with pytest.raises(ValueError):
        Socat().client_cmd(host="h", port=1, protocol="tls", cafile="/a,b")
    with pytest.raises(ValueError):
        Socat().client_cmd(host="h", port=1, protocol="dtls")
    with pytest.raises(NotImplementedError):
        Curl().server_cmd(port=1, protocol="tls")
