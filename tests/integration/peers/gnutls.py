"""GnuTLS's command-line peers: gnutls-cli and gnutls-serv, TLS and DTLS
(a second TLS implementation, so interop is not OpenSSL against itself).

    peer = GnuTLS().require()
    r = run(peer.client_cmd(host="localhost", port=srv.port, protocol="tls",
                            version="1.2", cafile=pki.ca), input="hello")
    assert peer.version_in(r.out) == "TLSv1.2" and peer.verified_in(r.out)

gnutls-cli prints its session details and then, in the same stdout, what
the server sent. gnutls-serv listens on every address (it has no bind
option); mode="http" answers a GET with a page describing the session,
mode="echo" sends back what it receives.
"""

import re

from peers.base import Peer
from peers.common import check

VERSIONS = {"tls": ("1.2", "1.3"), "dtls": ("1.0", "1.2")}

# "- Description: (TLS1.3-X.509)-(ECDHE-SECP256R1)-..."
_DESCRIPTION = re.compile(r"Description: \(((?:D)?TLS)([0-9.]+)-")
_ALERT = re.compile(r"Received alert \[([0-9]+)\]")
_HTTP_VERSION = re.compile(r"<TD>Protocol version:</TD><TD>((?:D)?TLS)([0-9.]+)</TD>")


def _priority(protocol, version):
    """A priority string allowing exactly one version."""
    return f"NORMAL:-VERS-ALL:+VERS-{'DTLS' if protocol == 'dtls' else 'TLS'}{version}"


class GnuTLS(Peer):
    name = "gnutls"
    programs = ("gnutls-cli", "gnutls-serv")
    package = "gnutls-bin"
    protocols = ("tls", "dtls")

    # -- as a client ------------------------------------------------------
    def client_cmd(self, *, host, port, protocol, version=None, cafile=None,
                   servername=None, cert=None, key=None):
        """gnutls-cli: sends its stdin, prints what it receives; verifies
        the server against cafile (else the system's CAs) and the name
        servername (default host)."""
        check(self, protocol, version, VERSIONS)
        cmd = ["gnutls-cli", "-p", port, host]
        if protocol == "dtls":
            cmd.append("--udp")
        if version is not None:
            cmd += ["--priority", _priority(protocol, version)]
        if cafile:
            cmd += ["--x509cafile", cafile]
        if servername:
            cmd += ["--sni-hostname", servername, "--verify-hostname", servername]
        if cert:
            cmd += ["--x509certfile", cert, "--x509keyfile", key or cert]
        return [str(c) for c in cmd]

    @staticmethod
    def version_in(text):
        """The version gnutls-cli's "Description:" line names, spelled as
        OpenSSL and our programs spell it ("TLSv1.3", "DTLSv1.2"), or None."""
        m = _DESCRIPTION.search(text)
        return f"{m.group(1)}v{m.group(2)}" if m else None

    @staticmethod
    def verified_in(text):
        """gnutls-cli says the server's certificate is trusted."""
        return "The certificate is trusted." in text

    @staticmethod
    def alerts_in(text):
        """The alert numbers gnutls-cli says it received."""
        return [int(n) for n in _ALERT.findall(text)]

    # -- as a server ------------------------------------------------------
    def server_cmd(self, *, port, protocol, cert=None, key=None, cafile=None,
                   version=None, host="127.0.0.1", mode="echo"):
        """gnutls-serv on port (every address: host is not used).
        cafile: require a client certificate signed by it."""
        check(self, protocol, version, VERSIONS)
        if mode not in ("echo", "http"):
            raise ValueError(f"gnutls-serv mode {mode!r}: echo or http")
        cmd = ["gnutls-serv", f"--{mode}", "-p", port, "--x509certfile", cert,
               "--x509keyfile", key or cert]
        if protocol == "dtls":
            cmd.append("--udp")
        if version is not None:
            cmd += ["--priority", _priority(protocol, version)]
        if cafile:
            cmd += ["--x509cafile", cafile, "--require-client-cert"]
        return [str(c) for c in cmd]

    def wait_ready(self, proc, port, protocol, timeout=10):
        """gnutls-serv says "... listening on IPv4 ..." on stderr; the port
        bound (or listening) is what counts."""
        proc.wait_for("listening on IPv4", timeout, where="err")
        super().wait_ready(proc, port, protocol, timeout)

    @staticmethod
    def http_version_in(page):
        """The version gnutls-serv --http's page names ("TLSv1.3"), or None."""
        m = _HTTP_VERSION.search(page)
        return f"{m.group(1)}v{m.group(2)}" if m else None
