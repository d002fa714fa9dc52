"""Nmap's ncat: TCP, UDP and TLS (--ssl) client and listener.

    peer = Ncat().require()
    port = free_port()
    p = start(peer.server_cmd(port=port, protocol="udp", echo=True))
    peer.wait_ready(p, port, "udp")       # ncat prints nothing when ready

As a client it sends its stdin and prints what it receives; over TCP the
end of stdin half-closes the connection and it reads on until the server
closes. As a listener without echo it prints what it receives and sends
what comes on its stdin (the way a person at a terminal would answer).
ncat cannot be held to one TLS version. A TCP or TLS listener ends a
connection as soon as the client half-closes it, so its echo reaches only
a client that keeps its side open until the echo is in.
"""

from peers.base import Peer
from peers.common import check

VERSIONS = {}


class Ncat(Peer):
    name = "ncat"
    programs = ("ncat",)
    package = "ncat"
    protocols = ("tcp", "udp", "tls")

    def client_cmd(self, *, host, port, protocol, version=None, cafile=None,
                   servername=None, cert=None, key=None):
        """ncat [-u] HOST PORT; tls: --ssl, verifying the server against
        cafile (name and chain) when given."""
        check(self, protocol, version, VERSIONS)
        cmd = ["ncat"]
        if protocol == "udp":
            cmd.append("-u")
        if protocol == "tls":
            cmd.append("--ssl")
            if cafile:
                cmd += ["--ssl-verify", "--ssl-trustfile", cafile]
            if servername:
                cmd += ["--ssl-servername", servername]
            if cert:
                cmd += ["--ssl-cert", cert, "--ssl-key", key or cert]
        cmd += [host, port]
        return [str(c) for c in cmd]

    def server_cmd(self, *, port, protocol, cert=None, key=None, cafile=None,
                   version=None, host="127.0.0.1", echo=False, keep_open=False):
        """ncat -l [-u] HOST PORT. echo: each client's data goes back to
        it (-c cat). keep_open: serve more than one client (TCP)."""
        check(self, protocol, version, VERSIONS)
        if cafile:
            raise ValueError("ncat cannot require a client certificate")
        cmd = ["ncat", "-l"]
        if protocol == "udp":
            cmd.append("-u")
        if protocol == "tls":
            cmd += ["--ssl", "--ssl-cert", cert, "--ssl-key", key or cert]
        if keep_open:
            cmd.append("--keep-open")
        cmd += [host, port]
        if echo:
            cmd += ["-c", "cat"]
        return [str(c) for c in cmd]
