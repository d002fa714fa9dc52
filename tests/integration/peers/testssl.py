"""testssl.sh (Debian's package testssl.sh, command testssl) as a client:
a scanner that connects many times to a TLS server and reports, as flat
JSON, what it offers (protocols, cipher suites) and which known weaknesses
it has. It sends nothing of a test's own, so client_cmd takes the checks
to run and the JSON file to write instead of a stdin to send.

    peer = Testssl().require()
    r = run(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="tls",
                            cafile=pki.ca, checks=("-p", "-s", "-E"),
                            jsonfile=tmp_path / "scan.json"), timeout=peer.timeout)
    by_id = findings_by_id(load_findings(tmp_path / "scan.json"))
"""

import json

from .base import Peer


class Testssl(Peer):
    name = "testssl"
    programs = ("testssl", "openssl")
    package = "testssl.sh"
    protocols = ("tls",)
    # Bounds of one scan on a loaded 2-core machine against a sanitized
    # server: each probe (connect, openssl s_client), and the whole scan.
    probe_timeout = 30
    timeout = 240

    def client_cmd(self, *, host, port, protocol="tls", version=None, cafile=None,
                   servername=None, cert=None, key=None, checks=("-p", "-s", "-E"),
                   jsonfile):
        """The scan of host:port: checks are testssl's options (-p
        protocols, -s cipher categories, -f forward secrecy, -U
        vulnerabilities, -E every suite per protocol); the findings go to
        jsonfile. Its exit status counts findings: it is not a verdict."""
        if protocol != "tls":
            raise ValueError(f"testssl scans TLS servers, not {protocol}")
        if version is not None or cert is not None or key is not None:
            raise ValueError("testssl tries every version itself and has no client certificate")
        cmd = ["testssl", "--quiet", "--color", "0", "--warnings", "batch", "--nodns", "min",
               # Debian's openssl, not testssl's bundled one: the same
               # library as the programs under test.
               "--openssl", "/usr/bin/openssl",
               "--connect-timeout", str(self.probe_timeout),
               "--openssl-timeout", str(self.probe_timeout),
               "--jsonfile", str(jsonfile)]
        if cafile is not None:
            cmd += ["--add-ca", str(cafile)]
        if servername is not None:
            # The name is what testssl connects to (and sends as SNI); host
            # the address it uses instead of resolving the name.
            cmd += ["--ip", str(host)]
            host = servername
        target = f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
        return cmd + [str(c) for c in checks] + [target]


def load_findings(jsonfile):
    """testssl's flat JSON: a list of {"id", "severity", "finding", ...}."""
    with open(jsonfile) as f:
        return json.load(f)


def findings_by_id(findings):
    """{id: finding} (testssl gives each id once per target)."""
    return {f["id"]: f for f in findings}
