"""udp-client and udp-server with other programs.

Plaintext: udp-client against ncat -u -l (the seed's setup: ncat prints the
datagram, its operator types the reply; and ncat -c cat as an echo server)
and against socat UDP-RECVFROM,fork EXEC:cat; ncat -u and socat as clients
of udp-server. DTLS 1.2, verified against the test CA: udp-client against
openssl s_server -dtls1_2 (with and without its cookie exchange) and
gnutls-serv --udp --echo; openssl s_client -dtls1_2 and gnutls-cli --udp
against udp-server --dtls. DTLS 1.0 is refused.

A peer that answers what is "typed" into it, or a client that must stay
up until its reply is in, gets a pipe as stdin: the test writes to it and
closes it (the end of input) when the exchange is over.
"""

import os
import subprocess

import pytest

from harness.waits import free_port
from peers.gnutls import GnuTLS
from peers.ncat import Ncat
from peers.openssl import OpenSSL, verify_error
from peers.socat import Socat

REPLY_TEXT = "udp-server is working"
DEFAULT_MESSAGE = "Hello udp 127.0.0.1 server"


def type_into(proc, data):
    """Writes data to the stdin pipe of proc, as if typed."""
    proc.popen.stdin.write(data.encode())
    proc.popen.stdin.flush()


def end_input(proc):
    proc.popen.stdin.close()


# ---------------------------------------------------------------- plaintext

def test_udp_client_vs_ncat_listen_reply_typed(start, prog):
    peer = Ncat().require()
    port = free_port()
    n = start(peer.server_cmd(port=port, protocol="udp"), stdin=subprocess.PIPE)
    peer.wait_ready(n, port, "udp")  # ncat has no "listening" line
    c = start([prog("udp-client"), "-t", "5", "--retries", "0", "127.0.0.1", port])
    n.wait_for(DEFAULT_MESSAGE)
    assert n.out() == DEFAULT_MESSAGE, "what ncat printed (the datagram, exactly)"
    type_into(n, "typed into ncat\n")
    assert c.wait(10) == 0, c.report()
    assert c.out() == "typed into ncat\n", "the reply udp-client printed"
    end_input(n)


def test_udp_client_vs_ncat_echo(start, run, prog):
    peer = Ncat().require()
    port = free_port()
    n = start(peer.server_cmd(port=port, protocol="udp", echo=True))
    peer.wait_ready(n, port, "udp")
    r = run([prog("udp-client"), "127.0.0.1", port, "echo through ncat -c cat"]).expect(0)
    assert r.out == "echo through ncat -c cat"


def test_udp_client_vs_socat_echo(start, run, prog):
    peer = Socat().require()
    port = free_port()
    s = start(peer.server_cmd(port=port, protocol="udp"))
    peer.wait_ready(s, port, "udp")
    client = prog("udp-client")
    for message in ("first", "second", "third, from another client"):
        r = run([client, "127.0.0.1", port, message]).expect(0)
        assert r.out == message, "the reply from socat"
    r = run([client, "127.0.0.1", port]).expect(0)
    assert r.out == DEFAULT_MESSAGE, "the default message, echoed"
    r = run([client, "--count", "10", "127.0.0.1", port, "counted"]).expect(0)
    assert "10 exchanges, 10 replies, 0 lost" in r.err


def test_ncat_client_vs_udp_server(server, start):
    peer = Ncat().require()
    srv = server("udp-server")
    n = start(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="udp"),
              stdin=subprocess.PIPE)
    type_into(n, "hello from ncat")
    srv.wait_for("[*] Received from 127.0.0.1:")
    assert ": hello from ncat" in srv.out()
    n.wait_for(REPLY_TEXT)
    assert n.out() == REPLY_TEXT, "what ncat printed"
    end_input(n)
    assert n.wait(10) == 0, n.report()


def test_socat_client_vs_udp_server_echo(server, start):
    peer = Socat().require()
    srv = server("udp-server", "--echo")
    s = start(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="udp"),
              stdin=subprocess.PIPE)
    type_into(s, "hello from socat")
    srv.wait_for(": hello from socat")
    s.wait_for("hello from socat")
    assert s.out() == "hello from socat", "what socat printed (--echo)"
    end_input(s)
    assert s.wait(10) == 0, s.report()


# --------------------------------------------------------------------- DTLS

# s_server has no echo for DTLS (-rev is TLS only): it prints what it
# receives and sends what is typed into it. -listen adds its cookie exchange.
@pytest.mark.parametrize("cookies", (False, True), ids=("openssl-1.2", "openssl-1.2-listen"))
def test_udp_client_vs_openssl_s_server(start, prog, pki, cookies):
    peer = OpenSSL().require()
    port = free_port()
    s = start(peer.server_cmd(port=port, protocol="dtls", version="1.2", cert=pki.cert(),
                              key=pki.key(), listen=cookies), stdin=subprocess.PIPE)
    peer.wait_ready(s, port, "dtls")
    c = start([prog("udp-client"), "-v", "--dtls", "--cafile", pki.ca, "-t", "5",
               "--retries", "1", "localhost", port, "hello s_server"])
    s.wait_for("hello s_server")
    type_into(s, "typed into s_server\n")
    assert c.wait(20) == 0, c.report()
    assert c.out() == "typed into s_server\n", "the reply udp-client printed"
    err = c.err()
    assert "protocol: DTLSv1.2" in err
    assert "verification: ok" in err
    assert "subject: CN=localhost" in err
    ciphers = peer.server_ciphers_in(s.out())
    assert ciphers and all(c.startswith("ECDHE-") for c in ciphers), s.out()
    end_input(s)


def test_udp_client_vs_gnutls_serv_echo(start, run, prog, pki):
    peer = GnuTLS().require()
    port = free_port()
    g = start(peer.server_cmd(port=port, protocol="dtls", cert=pki.cert(), key=pki.key(),
                              mode="echo"))
    peer.wait_ready(g, port, "dtls")
    client = [prog("udp-client"), "--dtls", "--cafile", pki.ca]
    for message in ("hello gnutls-serv", "a second session"):
        r = run(client + ["localhost", port, message]).expect(0)
        assert r.out == message, "the echo from gnutls-serv"
    r = run(client + ["-v", "127.0.0.1", port, "by address"]).expect(0)
    assert r.out == "by address"
    assert "verification: ok" in r.err
    assert "protocol: DTLSv1.2" in r.err
    # gnutls-serv's certificate is not for wrong.example.
    r = run(client + ["--servername", "wrong.example", "localhost", port, "x"]).expect(4)
    why = verify_error(pki.cert(), pki.ca, hostname="wrong.example")
    assert f"{why} (wanted wrong.example)" in r.err


def test_openssl_s_client_vs_udp_server_dtls(server, start, pki):
    peer = OpenSSL().require()
    srv = server("udp-server", "--dtls", *pki.server_args())
    c = start(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="dtls", version="1.2",
                              cafile=pki.ca, servername="localhost", quiet=True,
                              ign_eof=False), stdin=subprocess.PIPE)
    type_into(c, "hello from s_client\n")
    srv.wait_for(": hello from s_client\\n")  # the server escapes the newline
    c.wait_for(REPLY_TEXT)
    assert c.out() == REPLY_TEXT, "what s_client printed"
    end_input(c)
    assert c.wait(10) == 0, c.report()
    assert peer.verified_in(c.err()), c.err()
    srv.wait_for(" closed the session")


def test_gnutls_cli_vs_udp_server_dtls(server, start, pki):
    peer = GnuTLS().require()
    srv = server("udp-server", "--dtls", *pki.server_args(), "--echo")
    g = start(peer.client_cmd(host="localhost", port=srv.port, protocol="dtls", cafile=pki.ca),
              stdin=subprocess.PIPE)
    type_into(g, "hello from gnutls-cli\n")
    srv.wait_for(": hello from gnutls-cli\\n")
    g.wait_for("hello from gnutls-cli")
    end_input(g)
    assert g.wait(10) == 0, g.report()
    said = g.out() + g.err()
    assert peer.verified_in(said), said
    assert peer.version_in(said) == "DTLSv1.2", said

    # And the default reply, read by gnutls-cli.
    srv2 = server("udp-server", "--dtls", *pki.server_args())
    g2 = start(peer.client_cmd(host="localhost", port=srv2.port, protocol="dtls",
                               cafile=pki.ca), stdin=subprocess.PIPE)
    type_into(g2, "ping\n")
    g2.wait_for(REPLY_TEXT)
    srv2.wait_for(": ping\\n")
    end_input(g2)
    assert g2.wait(10) == 0, g2.report()


# DTLS 1.0 is refused, to OpenSSL's and GnuTLS's clients; nothing is delivered.
def test_dtls_1_0_refused(server, run, pki):
    ossl = OpenSSL().require()
    gnutls = GnuTLS().require()
    srv = server("udp-server", "--dtls", *pki.server_args())
    cmd = ossl.client_cmd(host="127.0.0.1", port=srv.port, protocol="dtls", version="1.0",
                          cafile=pki.ca, ign_eof=False)
    # The server is under test, not the client: OpenSSL 3.5 and later no
    # longer offer DTLS 1.0 at their defaults, Debian 12's 3.0 still does.
    cmd[0] = "/usr/bin/openssl" if os.path.exists("/usr/bin/openssl") else cmd[0]
    r = run(cmd, input="over DTLS 1.0\n")
    assert r.rc not in (0, None), f"openssl s_client -dtls1: expected a failure\n{r}"
    assert 70 in ossl.alerts_in(r.err), f"no protocol_version alert (70) received\n{r}"
    assert REPLY_TEXT not in r.out
    srv.wait_for_count("[!]", 1)
    assert all("handshake failed" in line for line in srv.lines() if "[!]" in line), srv.out()

    r = run(gnutls.client_cmd(host="localhost", port=srv.port, protocol="dtls", version="1.0",
                              cafile=pki.ca), input="over DTLS 1.0\n", timeout=15)
    # Refused at once (OpenSSL 3.0), or never answered (3.5 and later drop
    # a DTLS 1.0 ClientHello, and gnutls-cli retries until stopped): either
    # way no session.
    assert r.rc != 0, f"gnutls-cli, DTLS 1.0 only: expected a failure\n{r}"
    assert REPLY_TEXT not in r.out
    if r.rc is not None:  # GnuTLS may send its ClientHello again: one [!] line per attempt
        srv.wait_for("[!]", count=2)
    assert srv.count("over DTLS 1.0") == 0, "a message delivered over DTLS 1.0"
