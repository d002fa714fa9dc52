"""DTLS versions (issue 16 item 9): DTLS 1.2 by default; --tls-max 1.3
applies to DTLS where the OpenSSL the programs were built with has DTLS 1.3
(4.1 and later), and elsewhere exits 2 with one line naming the version
needed. Which one is right follows from the build (CMake's DTLS1_3_VERSION
check, which --version's "built with" line tells)."""

import json
import subprocess

import pytest


def built_with(program):
    """(major, minor) of the OpenSSL headers program was built with."""
    out = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    version = out.split("built with OpenSSL ")[1].split()[0]
    return tuple(int(x) for x in version.split(".")[:2])


def session_version(err):
    for line in err.splitlines():
        if line.startswith("{") and '"program"' in line:
            return json.loads(line)["version"]
    raise AssertionError(f"no --json record in: {err}")


def test_dtls_default_is_1_2(server, run, prog, pki):
    srv = server("udp-server", "--dtls", *pki.server_args())
    r = run([prog("udp-client"), "--dtls", "--json", "--cafile", pki.ca, "localhost",
             srv.port, "hi"]).expect(0, "udp-client --dtls")
    assert session_version(r.err) == "DTLSv1.2", r.err


@pytest.mark.parametrize("name", ("udp-client", "udp-server"))
def test_tls_max_1_3_for_dtls(server, run, prog, pki, name):
    has_dtls13 = built_with(prog(name)) >= (4, 1)
    if not has_dtls13:
        args = (["-k", "127.0.0.1", "9", "hi"] if name == "udp-client"
                else ["-p", "0", "--self-signed"])
        r = run([prog(name), "--dtls", "--tls-max", "1.3"] + args).expect(
            2, f"{name} --dtls --tls-max 1.3 without DTLS 1.3")
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and "DTLS 1.3" in lines[0] and "4.1" in lines[0], r.err
        assert "--tls-max 1.2" in lines[0], r.err  # the program names the fix
        return
    srv = server("udp-server", "--dtls", "--tls-max", "1.3", *pki.server_args())
    r = run([prog("udp-client"), "--dtls", "--tls-max", "1.3", "--json", "--cafile", pki.ca,
             "localhost", srv.port, "hi"]).expect(0, "DTLS 1.3 both ways")
    assert session_version(r.err) == "DTLSv1.3", r.err


def test_tls_max_1_2_for_dtls_is_the_default(server, run, prog, pki):
    srv = server("udp-server", "--dtls", "--tls-max", "1.2", *pki.server_args())
    r = run([prog("udp-client"), "--dtls", "--tls-max", "1.2", "--json", "--cafile", pki.ca,
             "localhost", srv.port, "hi"]).expect(0, "udp-client --dtls --tls-max 1.2")
    assert session_version(r.err) == "DTLSv1.2", r.err
