"""testssl.sh (Debian's package) against tcp-server --tls with its default
TLS settings, which are to follow Mozilla's "intermediate" profile: TLS 1.2
and 1.3 only; forward-secret AEAD cipher suites only (ECDHE/DHE with
AES-GCM or ChaCha20-Poly1305); nothing testssl's vulnerability checks (-U)
find.

RSA certificate: the full scan (-p -s -f -U -E). Only an RSA certificate
would let RSA key transport (no forward secrecy, ROBOT) be negotiated.
ECDSA certificate (the tests' usual one): protocols and ciphers (-p -s -E).

Trust is not what is tested (the test PKI is private and short-lived), so
the certificate checks (-S) are not run; --add-ca names the test CA anyway.
"""

import os
import re

import pytest

from peers.testssl import Testssl, findings_by_id, load_findings

# Findings about the certificate's trust and lifetime, which a private,
# short-lived test PKI fails by design.
TRUST_ID = re.compile(r"^(cert|certs_|certificate_|intermediate_cert|OCSP|DNS_CAArecord)")
VULNERABILITY_CHECKS = (
    "heartbleed", "CCS", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS",
    "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13",
    "RC4")


def problems_in(findings, full):
    """What is wrong with a server by testssl's findings (an empty list:
    nothing); full: -f and -U were run too."""
    by_id = findings_by_id(findings)
    bad = []

    def want(i, prefix):
        if i not in by_id:
            bad.append(f"{i}: missing from testssl's output")
        elif not by_id[i]["finding"].startswith(prefix):
            bad.append(f"{i}: expected '{prefix}...', got '{by_id[i]['finding']}' "
                       f"({by_id[i]['severity']})")

    # Protocols: TLS 1.2 and 1.3 only.
    for i in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        want(i, "not offered")
    for i in ("TLS1_2", "TLS1_3"):
        want(i, "offered")
    # Cipher categories: no NULL, anonymous, export, DES/RC2/RC4, 3DES/IDEA,
    # or obsolete CBC (AVERAGE); AEAD (STRONG) only.
    for i in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
        want("cipherlist_" + i, "not offered")
    want("cipherlist_STRONG", "offered")

    # Each suite offered (-E): "TLS 1.2   xc02f   NAME   ECDH 253   AESGCM ...".
    suites = {f["id"]: f["finding"] for f in findings if f["id"].startswith("cipher-")}
    for proto in ("tls1_2", "tls1_3"):
        if not any(i.startswith(f"cipher-{proto}_") for i in suites):
            bad.append(f"no {proto} cipher suite listed (did -E run?)")
    for i, text in sorted(suites.items()):
        if not re.match(r"cipher-(tls1_[23])_x[0-9a-f]+$", i):
            bad.append(f"{i}: a suite for another protocol: {text}")
            continue
        # fields: TLS, 1.2, hexcode, name, kx, [kx bits], encryption, bits, ...
        fields = text.split()
        kx = fields[4] if len(fields) > 4 else "?"
        if len(fields) > 6 and re.fullmatch(r"\d+", fields[5]):
            enc = fields[6]
        else:
            enc = fields[5] if len(fields) > 5 else "?"
        if kx not in ("ECDH", "DH"):
            bad.append(f"{i}: not forward secret (key exchange {kx}): {text}")
        if enc not in ("AESGCM", "ChaCha20"):
            bad.append(f"{i}: not AES-GCM or ChaCha20-Poly1305 ({enc}): {text}")

    if full:
        want("PFS", "offered")
        for i in VULNERABILITY_CHECKS:
            if i not in by_id:
                bad.append(f"{i}: vulnerability check missing from testssl's output")

    # Severities: nothing MEDIUM or worse, and no check that could not run
    # (WARN, FATAL), except about the certificate's trust and lifetime.
    for f in findings:
        if TRUST_ID.match(f["id"]):
            continue
        if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL", "WARN", "FATAL"):
            bad.append(f"{f['id']}: {f['severity']}: {f['finding']}")
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("cert,full,checks", [
    pytest.param("rsa-server", True, ("-p", "-s", "-f", "-U", "-E"),
                 id="rsa_protocols_ciphers_forward_secrecy_vulnerabilities"),
    pytest.param("server", False, ("-p", "-s", "-E"), id="ecdsa_protocols_ciphers"),
])
def test_testssl_finds_nothing(server, run, pki, tmp_path, cert, full, checks):
    peer = Testssl().require()
    srv = server("tcp-server", "--tls", *pki.server_args(cert))
    jsonfile = tmp_path / f"{cert}.json"
    r = run(peer.client_cmd(host="127.0.0.1", port=srv.port, cafile=pki.ca, checks=checks,
                            jsonfile=jsonfile), timeout=peer.timeout)
    assert not r.timed_out, f"testssl timed out after {peer.timeout} s; its output:\n{r.out}"
    # Its exit status counts findings; the JSON is the verdict.
    assert os.path.exists(jsonfile) and os.path.getsize(jsonfile) > 0, \
        f"testssl (exit {r.rc}) wrote no JSON; its output:\n{r.out}\n{r.err}"
    findings = load_findings(jsonfile)
    suites = sorted(f["id"] for f in findings if f["id"].startswith("cipher-"))
    print(f"testssl {' '.join(checks)} against {cert}: {r.seconds:.0f} s, "
          f"{len(findings)} findings; suites: {', '.join(suites)}")
    bad = problems_in(findings, full)
    assert not bad, ("testssl found problems in tcp-server's TLS configuration:\n"
                     + "\n".join(bad) + f"\ntestssl's report:\n{r.out}")
    assert srv.alive(), f"tcp-server did not survive testssl\n{srv.report()}"
    srv.stop_checked()


def test_the_verdict_catches_a_weak_server():
    """problems_in is not blind: an old protocol, a suite without forward
    secrecy or AEAD, a MEDIUM finding and a missing check each count."""
    def f(i, finding, severity="INFO"):
        return {"id": i, "finding": finding, "severity": severity}

    good = [f(i, "not offered") for i in ("SSLv2", "SSLv3", "TLS1", "TLS1_1")]
    good += [f("TLS1_2", "offered"), f("TLS1_3", "offered with final")]
    good += [f("cipherlist_" + i, "not offered")
             for i in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE")]
    good += [f("cipherlist_STRONG", "offered"),
             f("cipher-tls1_2_xc02f",
               "TLS 1.2 xc02f ECDHE-RSA-AES128-GCM-SHA256 ECDH 253 AESGCM 128 TLS_ECDHE..."),
             f("cipher-tls1_3_x1301", "TLS 1.3 x1301 TLS_AES_128_GCM_SHA256 ECDH 253 AESGCM 128"),
             f("cert_trust", "untrusted", "CRITICAL")]
    assert problems_in(good, full=False) == []
    assert problems_in(good, full=True)  # -f and -U findings missing

    weak = [x for x in good if x["id"] != "TLS1"] + [f("TLS1", "offered", "LOW")]
    assert any(p.startswith("TLS1:") for p in problems_in(weak, False))
    rsa_kx = good + [f("cipher-tls1_2_x9c", "TLS 1.2 x9c AES128-GCM-SHA256 RSA AESGCM 128")]
    assert any("not forward secret" in p for p in problems_in(rsa_kx, False))
    cbc = good + [f("cipher-tls1_2_xc013",
                    "TLS 1.2 xc013 ECDHE-RSA-AES128-SHA ECDH 253 AES 128 TLS_ECDHE...")]
    assert any("not AES-GCM" in p for p in problems_in(cbc, False))
    medium = good + [f("BREACH", "potentially VULNERABLE", "MEDIUM")]
    assert problems_in(medium, False) == ["BREACH: MEDIUM: potentially VULNERABLE"]
