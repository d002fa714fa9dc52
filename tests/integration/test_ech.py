"""Encrypted Client Hello (ECH, RFC 9849): tcp-client and tcp-server with
each other and with OpenSSL 4's s_server -ech_key and s_client
-ech_config_list (the openssl next to the library the programs run with),
a client holding a config the server has no key for (the server sends
its current configs, the client retries once with them: RFC 9849
§6.1.6), a server that keeps rejecting (the second refusal is final), a
rejection without configs or from an unverified server (no retry), --ech
hard against a server without ECH (refused, and that server never saw
the real name), and a
capture on lo: the observer sees the public name as SNI, never the real
one (a connection without ECH, in the same capture, shows that it would).

Which build this is comes from tcp-client -V ("built with OpenSSL X.Y.Z").
ECH came with OpenSSL 4.0: built on an older one, every test here checks
instead that its ECH options exit 2 with one line naming OpenSSL 4.0 and
the version in use. Nothing skips: a skip fails CI.

Capturing on lo needs root or CAP_NET_RAW and CAP_NET_ADMIN: without
them the capture test FAILS (as test_fingerprints.py).
"""

import base64
import json
import os
import re
import socket
import struct
import subprocess
import sys

import pytest

from harness.waits import free_port
from peers import tshark

HERE = os.path.dirname(os.path.abspath(__file__))
RELAY = os.path.join(HERE, "hostile", "relay.py")

PUBLIC = "public.example"      # the ECH public name: what an observer sees
INNER = "localhost"            # the real name, in the test PKI's certificate
ECH_LINE = re.compile(r"ECH: (\S+), outer SNI: (\S+), inner SNI: (\S+)")
RETRYING = ("* ECH: the server rejected our config and sent new ones (retry_configs); "
            "retrying once with them")


def built_with(prog):
    """(major, minor, patch) of the OpenSSL tcp-client was built with."""
    r = subprocess.run([prog("tcp-client"), "-V"], capture_output=True, text=True, timeout=60)
    m = re.search(r"^built with OpenSSL (\d+)\.(\d+)\.(\d+)", r.stdout, re.M)
    assert r.returncode == 0 and m, f"tcp-client -V: {r.stdout}{r.stderr}"
    return tuple(int(x) for x in m.groups())


@pytest.fixture(scope="module")
def ech(prog):
    """True when the programs have ECH: built on OpenSSL 4.0 or later."""
    return built_with(prog) >= (4, 0, 0)


def expect_refused(run, prog, cmd):
    """Without ECH: cmd exits 2 with one line naming OpenSSL 4.0 and the
    OpenSSL in use, and starts nothing."""
    version = ".".join(str(n) for n in built_with(prog))
    r = run(cmd, timeout=60)
    r.expect(2)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert "OpenSSL 4.0" in lines[0] and version in lines[0], r.err
    assert r.out == "", r.out


@pytest.fixture(scope="module")
def openssl4(prog):
    """The openssl command of the library the programs run with
    ($SECSOCK_OPENSSL_BIN when set, else its prefix's bin/openssl, else
    "openssl" for the system's), and the environment it runs in (that
    library's directory first)."""
    r = subprocess.run(["ldd", prog("tcp-client")], capture_output=True, text=True, timeout=60)
    m = re.search(r"libssl\.so\S* => (\S+)", r.stdout)
    assert m, f"ldd tcp-client names no libssl: {r.stdout}"
    libdir = os.path.dirname(os.path.realpath(m.group(1)))
    env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    candidate = os.path.join(os.path.dirname(libdir), "bin", "openssl")
    if os.environ.get("SECSOCK_OPENSSL_BIN"):
        return [os.environ["SECSOCK_OPENSSL_BIN"]], env
    if os.access(candidate, os.X_OK):
        return [candidate], env
    return ["openssl"], env


def make_ech_key(openssl4, tmp_path, name=PUBLIC):
    """A key and ECHConfigList from `openssl ech`: (PEM path, base64)."""
    cmd, env = openssl4
    pem = tmp_path / f"ech-{name}.pem"
    r = subprocess.run(cmd + ["ech", "-public_name", name, "-out", str(pem)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"openssl ech: {r.stdout}{r.stderr}"
    text = pem.read_text()
    m = re.search(r"-----BEGIN ECHCONFIG-----\n(.*?)-----END ECHCONFIG-----", text, re.S)
    assert m, text
    return pem, "".join(m.group(1).split())


def ech_line(text):
    """(status, outer, inner) of the first "ECH: ..." line, or None."""
    m = ECH_LINE.search(text)
    return m.groups() if m else None


def ech_server(server, pki, *extra):
    return server("tcp-server", "--tls", *pki.server_args(), "-v", "--json", *extra)


def client_cmd(prog, pki, port, *extra):
    return [prog("tcp-client"), "-v", "--json", "--tls", "--cafile", pki.ca, *extra,
            "--send", "hello ech", INNER, port]


def client_record(r):
    return [json.loads(line) for line in r.err.splitlines() if line.startswith("{")][-1]


def test_tcp_client_and_tcp_server(ech, server, run, prog, pki, tmp_path):
    ecl_file = tmp_path / "ecl.b64"
    if not ech:
        expect_refused(run, prog, [prog("tcp-server"), "--tls", *pki.server_args(), "--ech",
                                   PUBLIC, "--ech-out", ecl_file, "-p", "0"])
        expect_refused(run, prog, client_cmd(prog, pki, "1", "--ech", "ecl:AEX+"))
        assert not ecl_file.exists()
        return
    srv = ech_server(server, pki, "--ech", PUBLIC, "--ech-out", ecl_file)
    ecl = srv.ready["ech_config_list"]
    assert srv.ready["ech_public_name"] == PUBLIC
    assert base64.b64decode(ecl)[2:4] == b"\xfe\x0d", "not an ECHConfigList of version 0xfe0d"
    assert f"ECH public name {PUBLIC}, ECHConfigList {ecl}" in srv.out()
    assert ecl_file.read_text() == ecl + "\n"
    # The config as base64, and as the file --ech-out wrote.
    for config in (ecl, str(ecl_file)):
        r = run(client_cmd(prog, pki, srv.port, "--ech", "hard", "--ech", f"ecl:{config}"))
        r.expect(0)
        assert r.out == "tcp-server over TLS is working"
        assert ech_line(r.err) == ("accepted", PUBLIC, INNER), r.err
        rec = client_record(r)
        assert (rec["ech"], rec["ech_outer_sni"], rec["ech_inner_sni"]) == \
            ("accepted", PUBLIC, INNER), rec
        assert rec["sni"] == INNER and rec["verified"], rec
    srv.wait_for_count(f"ECH: accepted, outer SNI: {PUBLIC}, inner SNI: {INNER}", 2)
    srv.wait_for_count('"ech":"accepted"', 2, where="err")
    # A client without ECH is served as ever, and logged as such.
    r = run([prog("tcp-client"), "--json", "--tls", "--cafile", pki.ca, "--send", "x", INNER,
             srv.port])
    r.expect(0)
    assert client_record(r)["ech"] == "none"
    srv.wait_for('"ech":"none"', where="err")


def test_tcp_client_vs_openssl_s_server(ech, start, run, prog, pki, tmp_path, openssl4):
    if not ech:
        key = tmp_path / "none.pem"
        key.write_text("")
        expect_refused(run, prog, [prog("tcp-server"), "--tls", *pki.server_args(),
                                   "--ech-key", key, "-p", "0"])
        return
    pem, ecl = make_ech_key(openssl4, tmp_path)
    cmd, env = openssl4
    port = free_port()
    s = start(cmd + ["s_server", "-accept", f"127.0.0.1:{port}", "-tls1_3",
                     "-cert", pki.cert(), "-key", pki.key(), "-ech_key", str(pem), "-www"],
              env=env)
    s.wait_for("ACCEPT")
    # The base64 and openssl ech's own PEM file (its ECHCONFIG block is read).
    for config in (ecl, str(pem)):
        r = run([prog("tcp-client"), "-v", "--tls", "--cafile", pki.ca, "--ech", f"ecl:{config}",
                 "--ech", "hard", "--path", "/", INNER, port])
        r.expect(0)
        assert r.out.startswith("HTTP/1.0 200"), r.out[:300]
        assert ech_line(r.err) == ("accepted", PUBLIC, INNER), r.err


def test_openssl_s_client_vs_tcp_server(ech, server, run, prog, pki, tmp_path, openssl4):
    if not ech:
        expect_refused(run, prog, [prog("tcp-server"), "--tls", *pki.server_args(), "--ech",
                                   PUBLIC, "-p", "0"])
        return
    srv = ech_server(server, pki, "--ech", PUBLIC)
    cmd, env = openssl4
    r = run(cmd + ["s_client", "-connect", f"127.0.0.1:{srv.port}", "-servername", INNER,
                   "-CAfile", pki.ca, "-verify_return_error", "-verify_hostname", INNER,
                   "-ech_config_list", srv.ready["ech_config_list"], "-ign_eof"],
            input="hello from s_client", env=env, timeout=60)
    assert r.rc == 0, f"s_client: {r.out}{r.err}"
    assert "ECH: success" in r.out, r.out
    assert "tcp-server over TLS is working" in r.out, r.out
    srv.wait_for(f"ECH: accepted, outer SNI: {PUBLIC}, inner SNI: {INNER}")
    srv.wait_for("hello from s_client")


def ech_lines(text):
    """[(status, outer, inner)] of every "ECH: ..." line, in order."""
    return ECH_LINE.findall(text)


class Relay:
    """hostile/relay.py in front of backends (round robin): the
    connections it accepted."""

    def __init__(self, server, *backends):
        args = []
        for b in backends:
            args += ["--to", b.port]
        self.proc = server(sys.executable, RELAY, *args)
        self.port = self.proc.port

    def connections(self):
        """How many connections were made to it so far: a marker
        connection made now is accepted after every earlier one (the
        accept queue is in order), so once it is logged, all are."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as c:
            mark = f"connection from 127.0.0.1:{c.getsockname()[1]} "
        self.proc.wait_for(mark)
        lines = [x for x in self.proc.lines() if x.startswith("connection from ")]
        return len(lines) - 1


def test_stale_config_is_replaced_by_the_retry_configs(ech, server, run, prog, pki, tmp_path,
                                                       openssl4):
    """A config whose key the server does not have: the server answers the
    outer ClientHello as the public name (which its certificate must then
    cover: here both are localhost) and sends its current config; the
    client, the certificate verified, retries once with it on a new
    connection, and the request goes over that one only."""
    if not ech:
        expect_refused(run, prog, client_cmd(prog, pki, "1", "--ech", "ecl:AEX+"))
        return
    _, stale = make_ech_key(openssl4, tmp_path, name=INNER)
    srv = ech_server(server, pki, "--ech", INNER)
    current = srv.ready["ech_config_list"]
    assert current != stale
    relay = Relay(server, srv)
    r = run(client_cmd(prog, pki, relay.port, "--ech", f"ecl:{stale}"))
    r.expect(0)
    assert r.out == "tcp-server over TLS is working"
    assert ech_lines(r.err) == [("rejected", INNER, INNER), ("accepted", INNER, INNER)], r.err
    assert f"ECH retry configs (the server's current ECHConfigList): {current}" in r.err, r.err
    assert RETRYING in r.err.splitlines(), r.err
    records = [line for line in r.err.splitlines() if line.startswith("{")]
    assert len(records) == 1, records
    rec = json.loads(records[0])
    assert (rec["ech"], rec["ech_retried"], rec["status"]) == ("accepted", True, "ok"), rec
    assert rec["sni"] == INNER and rec["verified"], rec
    assert relay.connections() == 2
    # Once, over the accepted connection: the rejected one was never
    # established.
    srv.wait_for("hello ech")
    srv.wait_for_count('"peer"', 3, where="err")  # with the relay's marker
    assert srv.count("hello ech") == 1, srv.out()
    ech_seen = sorted(json.loads(x)["ech"] for x in srv.err().splitlines() if '"peer"' in x)
    assert ech_seen.count("accepted") == 1, ech_seen


def test_a_server_that_keeps_rejecting_ends_it(ech, server, run, prog, pki, tmp_path,
                                               openssl4):
    """Two ECH servers with different keys behind a round-robin relay (a
    load balancer whose keys are out of step): the first sends its config,
    the retry lands on the second, which rejects that one too. The second
    rejection is final: exit 4, its configs shown, no third connection."""
    if not ech:
        expect_refused(run, prog, client_cmd(prog, pki, "1", "--ech", "ecl:AEX+"))
        return
    _, stale = make_ech_key(openssl4, tmp_path, name=INNER)
    first = ech_server(server, pki, "--ech", INNER)
    second = ech_server(server, pki, "--ech", INNER)
    relay = Relay(server, first, second)
    r = run(client_cmd(prog, pki, relay.port, "--ech", f"ecl:{stale}"))
    r.expect(4)
    assert RETRYING in r.err.splitlines(), r.err
    assert ech_lines(r.err) == [("rejected", INNER, INNER)] * 2, r.err
    offered = second.ready["ech_config_list"]
    assert f"offers this ECHConfigList instead: {offered}" in r.err, r.err
    rec = client_record(r)
    assert (rec["ech"], rec["ech_retried"]) == ("rejected", True), rec
    assert rec["ech_retry_config_list"] == offered, rec
    assert "tcp-server over TLS is working" not in r.out
    assert relay.connections() == 2
    assert "hello ech" not in first.out() + second.out()


def test_no_retry_without_configs_or_verification(ech, server, run, prog, pki, tmp_path,
                                                  openssl4):
    """No retry when the rejection came without configs (a server with no
    ECH: the outer handshake to the public name), nor when they came from
    a server whose certificate was not verified (--insecure: anyone on the
    path could have sent them). Exit 4 after one connection each."""
    if not ech:
        expect_refused(run, prog, client_cmd(prog, pki, "1", "--ech", "ecl:AEX+"))
        return
    _, stale = make_ech_key(openssl4, tmp_path, name=INNER)
    plain = server("tcp-server", "--tls", *pki.server_args())
    relay = Relay(server, plain)
    r = run(client_cmd(prog, pki, relay.port, "--ech", f"ecl:{stale}"))
    r.expect(4)
    assert "sent no config to use instead" in r.err, r.err
    assert RETRYING not in r.err
    assert client_record(r)["ech_retried"] is False
    assert relay.connections() == 1

    srv = ech_server(server, pki, "--ech", INNER)
    relay = Relay(server, srv)
    r = run([prog("tcp-client"), "-v", "--json", "--tls", "--insecure", "--ech", f"ecl:{stale}",
             "--send", "hello ech", INNER, relay.port])
    r.expect(4)
    assert "certificate was not verified: not retrying" in r.err, r.err
    assert RETRYING not in r.err
    rec = client_record(r)
    assert (rec["ech"], rec["ech_retried"]) == ("rejected", False), rec
    assert rec["ech_retry_config_list"] == srv.ready["ech_config_list"], rec
    assert relay.connections() == 1


def test_hard_refuses_a_server_without_ech(ech, server, run, prog, pki, tmp_path, openssl4):
    """--ech hard against a server with no ECH: exit 4, nothing sent, and
    the server saw only the public name, never the real one."""
    if not ech:
        expect_refused(run, prog, client_cmd(prog, pki, "1", "--ech", "hard", "--ech",
                                             "ecl:AEX+"))
        return
    _, ecl = make_ech_key(openssl4, tmp_path)
    srv = server("tcp-server", "--tls", *pki.server_args(), "-v", "--json")
    r = run(client_cmd(prog, pki, srv.port, "--ech", "hard", "--ech", f"ecl:{ecl}"))
    r.expect(4)
    assert "did not accept ECH" in r.err, r.err
    assert client_record(r)["ech"] == "rejected"
    srv.wait_for('"status"', where="err")
    rec = [json.loads(line) for line in srv.err().splitlines() if '"peer"' in line][-1]
    assert rec["sni"] == PUBLIC, rec
    assert INNER not in srv.out(), srv.out()
    assert "hello ech" not in srv.out()


def tcp_payloads(frames, port):
    """The TCP payload bytes of the frames to or from port (IPv4 on lo)."""
    out = b""
    for f in frames:
        if len(f) < 14 + 20 or f[12:14] != b"\x08\x00" or f[14 + 9] != 6:
            continue
        ihl = (f[14] & 0x0F) * 4
        tcp = 14 + ihl
        src, dst = struct.unpack("!HH", f[tcp:tcp + 4])
        if port in (src, dst):
            out += f[tcp + (f[tcp + 12] >> 4) * 4:]
    return out


def hello_fields(pcap, port):
    """[(SNI, ECH extension present, ClientHello length)] of each
    ClientHello to port, as tshark dissects them."""
    r = subprocess.run(["tshark", "-n", "-r", str(pcap), "-d", f"tcp.port=={port},tls",
                        "-Y", f"tcp.dstport == {port} && tls.handshake.type == 1",
                        "-T", "fields", "-e", "tls.handshake.extensions_server_name",
                        "-e", "tls.handshake.extension.type", "-e", "tls.handshake.length"],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, LC_ALL="C"))
    assert r.returncode == 0, r.stderr
    out = []
    for line in r.stdout.splitlines():
        sni, types, length = (line.split("\t") + ["", "", ""])[:3]
        out.append((sni, 0xfe0d in [int(t, 0) for t in types.split(",") if t],
                    int(length.split(",")[0])))
    return out


def test_capture_shows_only_the_public_name(ech, server, start, run, prog, pki, tmp_path):
    if not ech:
        expect_refused(run, prog, client_cmd(prog, pki, "1", "--ech", "ecl:AEX+"))
        return
    tshark.require()
    refused = tshark.capture_refused("lo")
    if refused is not None:
        pytest.fail(f"cannot capture on lo (uid {os.geteuid()}): this test needs root or "
                    f"CAP_NET_RAW and CAP_NET_ADMIN; it does not skip. dumpcap: {refused}")
    with_ech = ech_server(server, pki, "--ech", PUBLIC)
    without = server("tcp-server", "--tls", *pki.server_args())
    cap = tshark.LoopbackCapture(start, tmp_path / "ech.pcap",
                                 f"tcp port {with_ech.port} or tcp port {without.port}")
    cap.wait_ready()
    ecl = with_ech.ready["ech_config_list"]
    run(client_cmd(prog, pki, with_ech.port, "--ech", f"ecl:{ecl}")).expect(0)
    run(client_cmd(prog, pki, without.port)).expect(0)
    frames = cap.finish()

    hidden = hello_fields(cap.pcap, with_ech.port)
    plain = hello_fields(cap.pcap, without.port)
    assert [(sni, has) for sni, has, _ in hidden] == [(PUBLIC, True)], hidden
    assert [(sni, has) for sni, has, _ in plain] == [(INNER, False)], plain
    # Not anywhere in the bytes either: the certificate naming it is
    # encrypted too (TLS 1.3). The control shows the capture would see it.
    assert INNER.encode() not in tcp_payloads(frames, with_ech.port)
    assert INNER.encode() in tcp_payloads(frames, without.port)
    # The price: the outer ClientHello carries the encrypted inner one.
    assert hidden[0][2] > plain[0][2] + 100, (hidden, plain)
