"""The certificate a user came to see.

- A refused certificate (unknown CA, expired, wrong name, pin mismatch):
  exit 4, one line on stderr that says which check failed and names the
  fixes (--cafile FILE, --pin with the certificate's own key pin, -k);
  with -v and in --json, the certificate itself: subject, fingerprint,
  key pin, the whole chain as sent. Over TLS and DTLS.
- Pins both ways: --pin takes curl's sha256//BASE64 key pin; a
  --self-signed server prints both pins and --cert-out saves its
  certificate, which curl (--cacert, --pinnedpubkey) and Python's
  cafile= accept without -k.
- -V names the OpenSSL built with and the one running.

Expected values come from the certificates themselves (openssl x509 at
test time), never from one OpenSSL version's error wording.
"""

import json
import os
import re
import ssl
import subprocess
import time
import urllib.request

import pytest

from harness.system import cert_fingerprint, cert_spki_pin, ipv6_works, need

PROGRAMS = {"tcp-client": ("tcp-server", "--tls"), "udp-client": ("udp-server", "--dtls")}
REPLY = {"tcp-server": "tcp-server over TLS is working", "udp-server": "udp-server is working"}
SELF_SIGNED_REPLY = "hello from a self-signed server"
BODY = SELF_SIGNED_REPLY + "\n"  # --http ends the reply text with a newline


def not_after(cert):
    """The certificate's notAfter as the programs print it (ISO 8601, UTC)."""
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-enddate"], check=True,
                         capture_output=True, text=True).stdout
    when = time.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", when)


def client_cmd(prog, client, port, *args):
    """tcp-client or udp-client to localhost:port over TLS or DTLS."""
    if client == "tcp-client":
        return [prog(client), "--tls", *args, "--send", "hi", "localhost", port]
    return [prog(client), "--dtls", *args, "localhost", port, "hi"]


def json_line(err):
    """The --json session object among stderr's lines."""
    objs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert len(objs) == 1, f"expected one JSON object on stderr: {err}"
    return objs[0]


# Each refusal: the server's certificate, the client's options, what the
# one line must say, and the fixes it must name (beyond the key pin).
REFUSALS = {
    "unknown-ca": ("unknownca", ["--cafile", "{ca}"],
                   ["certificate verify failed: unknown CA (issuer CN=secsock other CA)"],
                   ["--cafile FILE", "-k"]),
    "expired": ("expired", ["--cafile", "{ca}"],
                ["certificate verify failed: expired on {not_after}"], ["-k"]),
    "wrong-name": ("wronghost", ["--cafile", "{ca}"],
                   ["(wanted localhost): not in SAN DNS:wrong.example"],
                   ["--servername NAME", "-k"]),
    "pin-mismatch": ("server", ["--pin", "sha256:" + "0" * 64],
                     ["pin mismatch (wanted sha256:00:00:", ", got {fingerprint})"], []),
}


@pytest.mark.parametrize("client", sorted(PROGRAMS))
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusal_names_check_fix_and_certificate(server, run, prog, pki, client, case):
    name, args, says, fixes = REFUSALS[case]
    cert = pki.cert(name)
    facts = {"ca": pki.ca, "not_after": not_after(cert), "fingerprint": cert_fingerprint(cert)}
    args = [a.format(**facts) for a in args]
    spki = cert_spki_pin(cert)
    server_prog, secure = PROGRAMS[client]
    srv = server(server_prog, secure, *pki.server_args(name))

    # Without -v: one line, the check that failed, and the fixes.
    r = run(client_cmd(prog, client, srv.port, *args)).expect(4)
    assert r.out == ""
    assert r.err.count("\n") == 1 and r.err.endswith("\n"), f"not one line on stderr: {r}"
    for needle in says:
        assert needle.format(**facts) in r.err, f"[{needle.format(**facts)}] not in: {r.err}"
    assert f"--pin {spki}" in r.err, f"the certificate's own key pin, ready to paste: {r.err}"
    for fix in fixes:
        assert fix in r.err, f"fix [{fix}] not named: {r.err}"
    assert "subject" not in r.err, "the certificate's details go with -v"

    # -v: the certificate the server sent, and still one line for the error.
    r = run(client_cmd(prog, client, srv.port, "-v", *args)).expect(4)
    subject = "CN=wrong.example" if name == "wronghost" else "CN=localhost"
    for line in (f"peer certificate: subject: {subject}", f"fingerprint: {facts['fingerprint']}",
                 f"public key pin: {spki}"):
        assert line in r.err, f"-v lacks [{line}]: {r.err}"
    assert "peer certificate: none" not in r.err
    errors = [line for line in r.err.splitlines() if not line.startswith("*")]
    assert len(errors) == 1 and errors[0].startswith(f"{client}: "), r.err

    # --json: the same certificate, refused.
    r = run(client_cmd(prog, client, srv.port, "--json", *args)).expect(4)
    o = json_line(r.err)
    pc = o["peer_certificate"]
    assert pc is not None, f"peer_certificate is null for a refused certificate: {o}"
    assert pc["subject"] == subject
    assert pc["fingerprint"] == facts["fingerprint"]
    assert pc["spki_pin"] == spki
    assert o["peer_chain"] and o["peer_chain"][0] == pc
    assert o["verified"] is False
    assert o["status"] == "certificate verification failed"
    assert says[0].format(**facts) in o["error"]


def test_the_whole_chain_as_sent(server, run, prog, pki):
    """A server that sends its CA too: both are listed, leaf first, and the
    CA to trust is named."""
    srv = server("tcp-server", "--tls", "--cert", pki.path("server-fullchain.crt"),
                 "--key", pki.key())
    # Trusting another CA: the chain sent ends in an unknown one.
    r = run(client_cmd(prog, "tcp-client", srv.port, "-v", "--json", "--cafile",
                       pki.path("other-ca.crt"))).expect(4)
    assert "unknown CA (issuer CN=secsock test CA)" in r.err
    assert "chain certificate 1: subject: CN=secsock test CA" in r.err
    chain = json_line(r.err)["peer_chain"]
    assert [c["subject"] for c in chain] == ["CN=localhost", "CN=secsock test CA"]
    assert [c["fingerprint"] for c in chain] == [cert_fingerprint(pki.cert()),
                                                 cert_fingerprint(pki.ca)]
    # Accepted, the same chain.
    r = run(client_cmd(prog, "tcp-client", srv.port, "--json", "--cafile", pki.ca)).expect(0)
    assert [c["subject"] for c in json_line(r.err)["peer_chain"]] == \
        ["CN=localhost", "CN=secsock test CA"]


@pytest.mark.parametrize("client", sorted(PROGRAMS))
def test_key_pin_replaces_the_ca(server, run, prog, pki, client):
    """--pin sha256//BASE64 (curl's form) accepts the server with that key,
    with no CA; a pin of another key is refused, showing both pins."""
    server_prog, secure = PROGRAMS[client]
    srv = server(server_prog, secure, *pki.server_args())
    pin = cert_spki_pin(pki.cert())
    r = run(client_cmd(prog, client, srv.port, "--pin", pin, "-v")).expect(0)
    assert r.out == REPLY[server_prog]
    assert f"public key pin: {pin}" in r.err
    other = cert_spki_pin(pki.cert("unknownca"))
    r = run(client_cmd(prog, client, srv.port, "--pin", other)).expect(4)
    assert f"pin mismatch (wanted {other}, got {pin})" in r.err


def test_bad_key_pins_are_usage_errors(run, prog):
    good = "sha256//" + "A" * 43 + "="
    for bad in ("sha256//" + "A" * 42, "sha256//" + "A" * 42 + "B=", "sha256/" + "A" * 43 + "=",
                "sha256//" + "-" * 43 + "="):
        r = run([prog("tcp-client"), "--tls", "--pin", bad, "localhost", "1"]).expect(2)
        assert bad in r.err and r.err.count("\n") == 1
    # A good pin passes the parser (nothing listens on port 1: exit 3).
    run([prog("tcp-client"), "--tls", "--pin", good, "127.0.0.1", "1"]).expect(3)


# ---- a self-signed server that others can trust ----------------------------

@pytest.fixture
def self_signed(server, tmp_path):
    """self_signed(PROGRAM, *ARGS): a --self-signed server with
    --cert-out; returns (server, its PEM file, fingerprint, key pin) as
    the server printed them."""

    def starter(program, *args):
        pem = tmp_path / f"{program}.pem"
        secure = "--tls" if program == "tcp-server" else "--dtls"
        srv = server(program, secure, "--self-signed", "--cert-out", pem, *args)
        srv.wait_for("[*] Listening on ")
        fps = re.findall(r"^\[\*\] Self-signed certificate (sha256:[0-9A-F:]{95})$", srv.out(),
                         re.M)
        pins = re.findall(r"^\[\*\] Self-signed certificate public key (sha256//\S{44})$",
                          srv.out(), re.M)
        assert len(fps) == 1 and len(pins) == 1, f"both pins printed: {srv.out()}"
        assert f"[*] Self-signed certificate saved to {pem}" in srv.out()
        assert srv.ready["fingerprint"] == fps[0] and srv.ready["spki_pin"] == pins[0], \
            f"the ready signal's pins: {srv.ready}"
        # The file is the certificate both pins name.
        assert cert_fingerprint(pem) == fps[0]
        assert cert_spki_pin(pem) == pins[0]
        return srv, str(pem), fps[0], pins[0]

    return starter


def test_curl_trusts_the_saved_certificate_and_the_key_pin(self_signed, run):
    need("curl")
    srv, pem, _, pin = self_signed("tcp-server", "--http", "--reply", SELF_SIGNED_REPLY)
    for host in ("localhost", "127.0.0.1"):  # the certificate names both
        url = f"https://{host}:{srv.port}/"
        r = run(["curl", "-sS", "--cacert", pem, url]).expect(0, f"curl --cacert, {host}")
        assert r.out == BODY
        r = run(["curl", "-sS", "--cacert", pem, "--pinnedpubkey", pin, url]).expect(0)
        assert r.out == BODY
    url = f"https://localhost:{srv.port}/"
    # With -k the pin is curl's only check: the right one passes, another
    # fails (curl's exit 90, "public key does not match pinned public key").
    r = run(["curl", "-sS", "-k", "--pinnedpubkey", pin, url]).expect(0)
    assert r.out == BODY
    other = "sha256//" + "A" * 43 + "="
    run(["curl", "-sS", "-k", "--pinnedpubkey", other, url]).expect(90)
    # And without either, curl refuses it, as any client should.
    run(["curl", "-sS", url]).expect(60)


def test_saved_certificate_names_ipv6_loopback(self_signed, run):
    """The certificate names ::1 too: curl verifies it by that address
    (where the host has an IPv6 loopback: not a skip, as elsewhere)."""
    need("curl")
    if not ipv6_works():
        return
    srv, pem, _, _ = self_signed("tcp-server", "--http", "--reply", SELF_SIGNED_REPLY,
                                 "-b", "::1")
    r = run(["curl", "-sS", "--cacert", pem, f"https://[::1]:{srv.port}/"]).expect(0)
    assert r.out == BODY


def test_python_cafile_verifies_the_saved_certificate(self_signed):
    srv, pem, _, _ = self_signed("tcp-server", "--http", "--reply", SELF_SIGNED_REPLY)
    ctx = ssl.create_default_context(cafile=pem)  # verification and host name on
    with urllib.request.urlopen(f"https://localhost:{srv.port}/", context=ctx,
                                timeout=30) as resp:
        assert resp.status == 200
        assert resp.read().decode() == BODY
    # Without it, Python refuses the certificate.
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(f"https://localhost:{srv.port}/",
                               context=ssl.create_default_context(), timeout=30)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)


@pytest.mark.parametrize("server_prog", ["tcp-server", "udp-server"])
def test_our_clients_take_either_pin_or_the_file(self_signed, run, prog, server_prog):
    client = "tcp-client" if server_prog == "tcp-server" else "udp-client"
    srv, pem, fp, pin = self_signed(server_prog)
    for args in (["--pin", pin], ["--pin", fp], ["--cafile", pem]):
        r = run(client_cmd(prog, client, srv.port, *args)).expect(0, f"{client} {args}")
        assert r.out == REPLY[server_prog]
    # Nothing given: refused, and the fixes name this server's key pin.
    r = run(client_cmd(prog, client, srv.port)).expect(4)
    assert f"--pin {pin}" in r.err and "--cafile FILE" in r.err


def test_cert_out_needs_self_signed_and_a_writable_file(run, prog, pki, tmp_path):
    r = run([prog("tcp-server"), "--tls", *pki.server_args(), "--cert-out",
             tmp_path / "x.pem"]).expect(2)
    assert "--cert-out" in r.err and r.err.count("\n") == 1
    r = run([prog("udp-server"), "--cert-out", tmp_path / "x.pem"]).expect(2)
    assert "--cert-out needs --dtls" in r.err
    missing = tmp_path / "no-such-dir" / "x.pem"
    r = run([prog("tcp-server"), "--tls", "--self-signed", "--cert-out", missing, "-p", "0"],
            timeout=30).expect(2)
    assert str(missing) in r.err and "Listening" not in r.out
    assert not os.path.exists(missing)


# ---- a hostile certificate ---------------------------------------------------

def test_hostile_names_reach_the_terminal_escaped(server, run, prog, tmp_path):
    """Terminal escapes in a certificate's subject and SAN never reach
    stderr raw: not in the error line, not in -v, not in --json."""
    crt, key = tmp_path / "evil.crt", tmp_path / "evil.key"
    esc = "\x1b]0;pwned\x07\x1b[2J"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-keyout", key,
                    "-out", crt, "-subj", f"/CN=evil{esc}name",
                    "-addext", f"subjectAltName=DNS:a{esc}.example"],
                   check=True, capture_output=True)
    srv = server("tcp-server", "--tls", "--cert", crt, "--key", key)
    for extra in ([], ["-v"], ["--json"]):
        r = run(client_cmd(prog, "tcp-client", srv.port, *extra)).expect(4)
        assert "evil" in r.err or extra == [], r.err
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", r.err), \
            f"a raw control byte on stderr with {extra}: {r.err!r}"


# ---- -V -----------------------------------------------------------------------

@pytest.mark.parametrize("program", ["tcp-client", "tcp-server", "udp-client", "udp-server"])
def test_version_names_the_openssl_built_with_and_running(run, prog, program):
    r = run([prog(program), "-V"]).expect(0)
    assert run([prog(program), "--version"]).expect(0).out == r.out
    lines = r.out.splitlines()
    assert re.fullmatch(rf"{program} \d+\.\d+\.\d+", lines[0]), lines
    assert re.fullmatch(r"built with OpenSSL \d+\.\d+\.\d+\S* .*", lines[1]), lines
    # The library this process runs is the one Python's ssl module loaded.
    assert lines[2] == f"running with {ssl.OPENSSL_VERSION}", lines
