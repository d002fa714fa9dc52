"""TLS against other implementations, certificates verified both ways:
tcp-client against openssl s_server -www (TLS 1.2, 1.3), gnutls-serv
--http and Python's ssl server; openssl s_client, gnutls-cli, Python's
ssl client (TLS 1.2, 1.3) and curl against tcp-server --tls."""

import re

import pytest

from harness.waits import free_port
from peers.curl import Curl
from peers.gnutls import GnuTLS
from peers.openssl import OpenSSL
from peers.pyssl import PySSL

REPLY_TLS = "tcp-server over TLS is working"
VERSIONS = ("1.2", "1.3")
HTTP_200 = re.compile(r"^HTTP/1\.[01] 200")


def _ids(peer):
    return lambda version: f"{peer}-{version}"


@pytest.mark.parametrize("version", VERSIONS, ids=_ids("openssl"))
def test_tcp_client_vs_openssl_s_server(start, run, prog, pki, version):
    peer = OpenSSL().require()
    port = free_port()
    s = start(peer.server_cmd(port=port, protocol="tls", version=version,
                              cert=pki.cert(), key=pki.key(), www=True))
    peer.wait_ready(s, port, "tls")
    r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "--path", "/x",
             "localhost", port]).expect(0)
    assert HTTP_200.match(r.out), f"reply from s_server -www is not HTTP 200: {r.out[:300]}"
    # s_server -www describes the session: the version tcp-client negotiated.
    assert peer.www_version_in(r.out) == f"TLSv{version}", r.out
    assert "</HTML>" in r.out, "not the whole page"
    assert f"protocol: TLSv{version}" in r.err
    assert "verification: ok" in r.err


# gnutls-serv offers both versions; tcp-client's --tls-max picks one.
@pytest.mark.parametrize("version", ("1.3", "1.2"), ids=_ids("gnutls"))
def test_tcp_client_vs_gnutls_serv(start, run, prog, pki, version):
    peer = GnuTLS().require()
    port = free_port()
    s = start(peer.server_cmd(port=port, protocol="tls", cert=pki.cert(), key=pki.key(),
                              mode="http"))
    peer.wait_ready(s, port, "tls")
    r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "--tls-max", version,
             "localhost", port]).expect(0)
    assert HTTP_200.match(r.out), f"reply from gnutls-serv is not HTTP 200: {r.out[:300]}"
    assert peer.http_version_in(r.out) == f"TLSv{version}", r.out
    assert f"protocol: TLSv{version}" in r.err
    assert "verification: ok" in r.err


@pytest.mark.parametrize("version", VERSIONS, ids=_ids("pyssl"))
def test_tcp_client_vs_python_ssl_server(server, run, prog, pki, version):
    peer = PySSL().require()
    srv = server(*peer.server_cmd(port=0, protocol="tls", version=version, cert=pki.cert(),
                                  key=pki.key(), reply="python ssl is working"))
    r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "--send", "hello python",
             "localhost", srv.port]).expect(0)
    assert r.out == "python ssl is working"
    assert f"protocol: TLSv{version}" in r.err
    assert "verification: ok" in r.err
    srv.wait_for("[*] Received: hello python")
    srv.wait_for(f"protocol: TLSv{version}")


# Each client, held to one version, verifies chain and name (localhost,
# connecting to 127.0.0.1); where it reports the session is its own output.
CLIENTS = [(OpenSSL, "out"), (GnuTLS, "out"), (PySSL, "err")]


@pytest.mark.parametrize("peer_class,session_on,version", [
    (cls, where, v) for cls, where in CLIENTS for v in VERSIONS
], ids=[f"{cls.name}-{v}" for cls, _ in CLIENTS for v in VERSIONS])
def test_peer_client_vs_tcp_server(server, run, pki, peer_class, session_on, version):
    peer = peer_class().require()
    srv = server("tcp-server", "--tls", *pki.server_args())
    r = run(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="tls", version=version,
                            cafile=pki.ca, servername="localhost"),
            input=f"hello from {peer}").expect(0)
    session = r.out if session_on == "out" else r.err
    assert peer.version_in(session) == f"TLSv{version}", session
    assert peer.verified_in(session), session
    assert REPLY_TLS in r.out
    srv.wait_for(f": hello from {peer}")


@pytest.mark.parametrize("version", VERSIONS, ids=_ids("curl"))
def test_curl_vs_tcp_server_http(server, run, pki, tmp_path, version):
    peer = Curl().require()
    srv = server("tcp-server", "--tls", "--http", *pki.server_args())
    body = tmp_path / "curl.body"
    r = run(peer.client_cmd(host="localhost", port=srv.port, protocol="tls", version=version,
                            cafile=pki.ca, output=body, write_out="%{http_code}")).expect(0)
    assert r.out == "200", "HTTP status"
    assert peer.version_in(r.err) == f"TLSv{version}", r.err
    assert body.read_text() == REPLY_TLS + "\n"  # --http ends the body with a newline
