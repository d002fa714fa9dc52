"""Key-exchange groups (issue 16): with OpenSSL 3.5 and later, tcp-client
and tcp-server offer and accept the hybrid post-quantum X25519MLKEM768
first, with each other and with openssl s_client/s_server of the same
OpenSSL; with 3.0 the classical X25519 is first and asking for the hybrid
is a clear error. --groups picks the list; an unknown name exits 2.

Which behaviour is right follows from the OpenSSL the programs run with
(their --version); under ctest, SECSOCK_OPENSSL_VERSION says which one the
build found, and the programs must run with that one (an rpath gone wrong
would otherwise turn the post-quantum tests into classical ones)."""

import json
import os
import subprocess

import pytest

from harness.system import openssl_running
from harness.waits import free_port
from peers.openssl import OpenSSL

HYBRID = "X25519MLKEM768"
PROGRAMS = ("tcp-client", "tcp-server", "udp-client", "udp-server")


@pytest.fixture(scope="module")
def ossl(prog):
    return openssl_running(prog("tcp-client"))


@pytest.fixture(scope="module")
def hybrid(ossl):
    """Whether the library has the hybrid group: OpenSSL 3.5 and later."""
    return ossl >= (3, 5, 0)


def session_record(err):
    """The first --json session record in err."""
    for line in err.splitlines():
        if line.startswith("{") and '"program"' in line:
            return json.loads(line)
    raise AssertionError(f"no --json record in: {err}")


def same_group(a, b):
    """OpenSSL names X25519 "x25519" in a session, "X25519" in lists."""
    return (a or "").lower() == (b or "").lower()


@pytest.mark.parametrize("name", PROGRAMS)
def test_programs_run_with_the_openssl_of_the_build(prog, name):
    running = openssl_running(prog(name))
    want = os.environ.get("SECSOCK_OPENSSL_VERSION")
    if want:
        assert ".".join(map(str, running)) == want, (
            f"{name} runs with OpenSSL {running}, the build found {want}: check its rpath")
    # Outside ctest: the headers it was built with and the library agree.
    out = subprocess.run([str(prog(name)), "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    built = out.split("built with OpenSSL ")[1].split()[0]
    assert built == ".".join(map(str, running)), out


def test_default_group_between_tcp_client_and_tcp_server(server, run, prog, pki, hybrid):
    srv = server("tcp-server", "--tls", "-v", "--json", *pki.server_args())
    r = run([prog("tcp-client"), "--tls", "--json", "--cafile", pki.ca, "--send", "hi",
             "localhost", srv.port]).expect(0, "tcp-client to tcp-server, default groups")
    want = HYBRID if hybrid else "X25519"
    assert same_group(session_record(r.err)["group"], want), r.err
    srv.wait_for(f"group: {HYBRID if hybrid else 'x25519'}")


def test_groups_x25519_gives_x25519(server, run, prog, pki):
    srv = server("tcp-server", "--tls", "-v", *pki.server_args())
    r = run([prog("tcp-client"), "--tls", "-v", "--groups", "X25519", "--cafile", pki.ca,
             "--send", "hi", "localhost", srv.port]).expect(0, "tcp-client --groups X25519")
    assert "group: x25519" in r.err, r.err
    srv.wait_for("group: x25519")


def test_hybrid_group_asked_for(server, run, prog, pki, hybrid, ossl):
    """--groups X25519MLKEM768 alone: agreed on with 3.5 and later; with
    3.0 exit 2 and one line naming the group and the version needed."""
    if not hybrid:
        for name in ("tcp-client", "tcp-server"):
            args = ["--tls", "--groups", HYBRID]
            args += ["-k", "127.0.0.1", "9"] if name == "tcp-client" else ["-p", "0",
                                                                           "--self-signed"]
            r = run([prog(name)] + args).expect(2, f"{name} --groups {HYBRID} on {ossl}")
            lines = r.err.strip().splitlines()
            assert len(lines) == 1 and HYBRID in lines[0] and "3.5" in lines[0], r.err
        return
    srv = server("tcp-server", "--tls", "-v", "--groups", HYBRID, *pki.server_args())
    r = run([prog("tcp-client"), "--tls", "--json", "--groups", HYBRID, "--cafile", pki.ca,
             "--send", "hi", "localhost", srv.port]).expect(0)
    assert session_record(r.err)["group"] == HYBRID, r.err
    srv.wait_for(f"group: {HYBRID}")
    # A server held to the hybrid refuses a classical-only client.
    r = run([prog("tcp-client"), "--tls", "--groups", "X25519:P-256", "--cafile", pki.ca,
             "--send", "hi", "localhost", srv.port])
    assert r.rc not in (0, None), f"a classical-only client got through\n{r}"


@pytest.mark.parametrize("name", PROGRAMS)
def test_unknown_group_exits_2_naming_it(run, prog, name):
    sec = "--dtls" if name.startswith("udp") else "--tls"
    args = {"tcp-client": ["-k", "127.0.0.1", "9"], "udp-client": ["-k", "127.0.0.1", "9", "hi"]}
    cmd = [prog(name), sec, "--groups", "X25519:NO-SUCH-GROUP"]
    cmd += args.get(name, ["-p", "0", "--self-signed"])
    r = run(cmd).expect(2, f"{name} --groups with an unknown name")
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "NO-SUCH-GROUP" in lines[0], r.err


def test_openssl_s_client_to_tcp_server(server, run, pki, hybrid):
    """s_client of the same OpenSSL, with its own default groups and,
    where there is one, held to the hybrid."""
    peer = OpenSSL().require()
    srv = server("tcp-server", "--tls", "-v", *pki.server_args())
    want = HYBRID if hybrid else "x25519"
    lists = [None] + ([HYBRID] if hybrid else [])
    for groups in lists:
        cmd = peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="tls", version="1.3",
                              cafile=pki.ca, servername="localhost")
        if groups:
            cmd += ["-groups", groups]
        r = run(cmd, input="hello").expect(0, f"s_client -groups {groups}")
        assert peer.version_in(r.out) == "TLSv1.3", r.out
        assert want.lower() in r.out.lower(), f"s_client does not name {want}:\n{r.out}"
    srv.wait_for_count(f"group: {want}", len(lists))


def test_tcp_client_to_openssl_s_server(start, run, prog, pki, hybrid):
    """s_server held to one group: the hybrid where the library has it,
    else X25519; tcp-client's defaults agree on it."""
    peer = OpenSSL().require()
    port = free_port()
    want = HYBRID if hybrid else "X25519"
    s = start(peer.server_cmd(port=port, protocol="tls", version="1.3", cert=pki.cert(),
                              key=pki.key(), www=True) + ["-groups", want])
    peer.wait_ready(s, port, "tls")
    r = run([prog("tcp-client"), "--tls", "--json", "--cafile", pki.ca, "localhost",
             port]).expect(0, f"tcp-client to s_server -groups {want}")
    assert same_group(session_record(r.err)["group"], want), r.err
    assert peer.www_version_in(r.out) == "TLSv1.3", r.out


def test_dtls_default_groups_are_classical(server, run, prog, pki):
    """ML-KEM is for TLS 1.3: DTLS 1.2 keeps working with the default."""
    srv = server("udp-server", "--dtls", "-v", *pki.server_args())
    r = run([prog("udp-client"), "--dtls", "--json", "--cafile", pki.ca, "localhost",
             srv.port, "hi"]).expect(0, "udp-client --dtls to udp-server --dtls")
    assert same_group(session_record(r.err)["group"], "X25519"), r.err
