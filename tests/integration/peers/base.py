"""The interface every peer provider follows.

A provider builds command lines; the test runs them with the harness
(run, start, server), so process supervision stays in one place:

    peer = OpenSSL()
    peer.require()                                  # skips if not installed
    port = free_port()
    p = start(peer.server_cmd(port=port, protocol="tls", cert=..., key=...))
    peer.wait_ready(p, port, "tls")
    r = run(peer.client_cmd(host="localhost", port=srv.port, protocol="tls",
                            cafile=pki.ca, version="1.3"), input="hello")

protocol is one of "tcp", "tls", "udp", "dtls"; version "1.2" or "1.3"
(None: the peer's default). A client command sends its stdin and prints
what it receives on stdout.
"""

from harness.system import need
from harness.waits import wait_tcp_listening, wait_udp_bound


class Peer:
    name = "peer"             # as it appears in test ids
    programs = ()             # the executables it needs
    package = ""              # the Debian package that has them
    protocols = ()            # what it speaks

    def require(self):
        """Skips the calling test when the peer is not installed."""
        need(*self.programs)
        return self

    def __str__(self):
        return self.name

    # -- as a client ------------------------------------------------------
    def client_cmd(self, *, host, port, protocol, version=None, cafile=None,
                   servername=None, cert=None, key=None):
        raise NotImplementedError(f"{self.name} is not a client")

    # -- as a server ------------------------------------------------------
    def server_cmd(self, *, port, protocol, cert=None, key=None, cafile=None,
                   version=None, host="127.0.0.1"):
        raise NotImplementedError(f"{self.name} is not a server")

    def wait_ready(self, proc, port, protocol, timeout=10):
        """Waits until the server proc (from server_cmd) accepts clients;
        by default, until its port is bound. Fails if it exits first."""
        gone = lambda: not proc.alive()  # noqa: E731
        if protocol in ("udp", "dtls"):
            wait_udp_bound(port, timeout, gone)
        else:
            wait_tcp_listening(port, timeout, gone)
