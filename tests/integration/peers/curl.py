"""curl as an HTTP(S) client (a client only).

Unlike the other clients it sends no stdin: it sends an HTTP GET for path
and prints the response body (or writes it to output).

    peer = Curl().require()
    r = run(peer.client_cmd(host="localhost", port=srv.port, protocol="tls",
                            version="1.3", cafile=pki.ca, write_out="%{http_code}",
                            output=tmp_path / "body"))
    assert r.out == "200" and peer.version_in(r.err) == "TLSv1.3"
"""

import re

from peers.base import Peer
from peers.common import check

VERSIONS = {"tls": ("1.2", "1.3")}

# curl -v: "* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384"
_SSL_CONNECTION = re.compile(r"SSL connection using (TLSv[0-9.]+)")


class Curl(Peer):
    name = "curl"
    programs = ("curl",)
    package = "curl"
    protocols = ("tcp", "tls")

    def client_cmd(self, *, host, port, protocol, version=None, cafile=None,
                   servername=None, cert=None, key=None, path="/", output=None,
                   write_out=None, max_time=20):
        """curl -sS -v: http://, or https:// verified against cafile (else
        the system's CAs). version: exactly that TLS version. servername:
        the URL's host, resolved to host (so SNI, Host and verification
        use it). output: the body's file (default stdout); write_out:
        curl's -w format (e.g. %{http_code}) on stdout."""
        check(self, protocol, version, VERSIONS)
        cmd = ["curl", "-sS", "-v", "--max-time", max_time]
        if version is not None:
            cmd += [f"--tlsv{version}", "--tls-max", version]
        if cafile:
            cmd += ["--cacert", cafile]
        if cert:
            cmd += ["--cert", cert, "--key", key or cert]
        url_host = str(servername or host)
        if servername:
            cmd += ["--resolve", f"{servername}:{port}:{host}"]
        if ":" in url_host:
            url_host = f"[{url_host}]"
        if output is not None:
            cmd += ["-o", output]
        if write_out is not None:
            cmd += ["-w", write_out]
        scheme = "https" if protocol == "tls" else "http"
        cmd.append(f"{scheme}://{url_host}:{port}{path}")
        return [str(c) for c in cmd]

    @staticmethod
    def version_in(err):
        """The TLS version curl -v says it connected with, or None."""
        m = _SSL_CONNECTION.search(err)
        return m.group(1) if m else None
