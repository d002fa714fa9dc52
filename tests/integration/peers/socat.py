"""socat: TCP, UDP and TLS client, and an echo server (EXEC:cat) for
those and DTLS, forking one child per client (UDP: per datagram).

Not a DTLS client: socat runs DTLS over a plain socket BIO, so it has no
retransmission timer and sends its ClientHello in 256-byte fragments; a
server behind DTLSv1_listen (udp-server, s_server -listen) takes only the
first fragment of the ClientHello with the cookie and waits for the
retransmission that never comes: the handshake hangs, more often than not.

    peer = Socat().require()
    port = free_port()
    p = start(peer.server_cmd(port=port, protocol="udp"))
    peer.wait_ready(p, port, "udp")       # socat prints nothing when ready

As a client it sends its stdin and prints what it receives. After the end
of stdin it goes on reading for linger seconds, or until the server closes
(TCP, TLS): a datagram client has no close to wait for, so a test closes
its stdin only once the reply is there.
"""

from peers.base import Peer
from peers.common import check, hostport

VERSIONS = {"tls": ("1.2", "1.3"), "dtls": ("1.2",)}
_CLIENT = {"tcp": "TCP", "udp": "UDP", "tls": "OPENSSL"}
_SERVER = {"tcp": "TCP-LISTEN", "udp": "UDP-RECVFROM", "tls": "OPENSSL-LISTEN",
           "dtls": "OPENSSL-DTLS-SERVER"}


def _option_value(value):
    """A file name as an address option's value; socat's address syntax
    has no quoting that covers every character."""
    value = str(value)
    if any(c in value for c in ",:!{}[]'\"\\"):
        raise ValueError(f"socat cannot take {value!r} as an address option")
    return value


def _versions(protocol, version):
    if version is None:
        return []
    name = f"{'DTLS' if protocol == 'dtls' else 'TLS'}{version}"
    return [f"min-version={name}", f"max-version={name}"]


class Socat(Peer):
    name = "socat"
    programs = ("socat",)
    package = "socat"
    protocols = ("tcp", "udp", "tls", "dtls")

    def client_cmd(self, *, host, port, protocol, version=None, cafile=None,
                   servername=None, cert=None, key=None, linger=None):
        """socat - ADDRESS. TLS: the server is verified, against cafile
        when given, and its name must be servername (default host).
        linger: seconds to go on reading after the end of stdin (default:
        10 for TCP and TLS, which end when the server closes; socat's 0.5
        for UDP)."""
        check(self, protocol, version, VERSIONS)
        if protocol == "dtls":
            raise ValueError("socat's DTLS client cannot retransmit (see the module's notes)")
        opts = []
        if protocol == "tls":
            opts.append("verify=1")
            if cafile:
                opts.append(f"cafile={_option_value(cafile)}")
            if servername:
                opts += [f"snihost={servername}", f"commonname={servername}"]
            if cert:
                opts += [f"cert={_option_value(cert)}", f"key={_option_value(key or cert)}"]
            opts += _versions(protocol, version)
        address = f"{_CLIENT[protocol]}:{hostport(host, port)}"
        if opts:
            address += "," + ",".join(opts)
        if linger is None and protocol in ("tcp", "tls"):
            linger = 10
        cmd = ["socat"]
        if linger is not None:
            cmd += ["-t", linger]
        cmd += ["-", address]
        return [str(c) for c in cmd]

    def server_cmd(self, *, port, protocol, cert=None, key=None, cafile=None,
                   version=None, host="127.0.0.1"):
        """An echo server on host:port: socat ADDRESS,fork EXEC:cat.
        cafile: require a client certificate signed by it (TLS, DTLS)."""
        check(self, protocol, version, VERSIONS)
        opts = [f"bind={host}", "fork"]
        if ":" in str(host):
            opts.append("pf=ip6")
        if protocol in ("tcp", "tls"):
            opts.append("reuseaddr")
        if protocol in ("tls", "dtls"):
            opts += [f"cert={_option_value(cert)}", f"key={_option_value(key or cert)}"]
            if cafile:
                opts += ["verify=1", f"cafile={_option_value(cafile)}"]
            else:
                opts.append("verify=0")
            opts += _versions(protocol, version)
        return ["socat", f"{_SERVER[protocol]}:{port}," + ",".join(opts), "EXEC:cat"]
