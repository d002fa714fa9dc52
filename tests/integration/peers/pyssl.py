"""Python's ssl module as a TLS peer: a third implementation's view of the
handshake (CPython's own checks of name, chain and versions), with
nothing to install.

The provider builds command lines for this same file run as a script:

    python3 peers/pyssl.py client --host H --port P [--cafile F] [--version 1.3] ...
    python3 peers/pyssl.py server [-p P] --cert C --key K [--reply TEXT] [--ready-fd N]

The client sends all of its stdin, then prints on stdout what the server
sends until it closes; on stderr "protocol: TLSv1.3" and "verification:
ok" (or "verification: none" with --insecure). Exit status: 0, 3 (no
connection), 4 (handshake or verification refused), 5 (timeout).
The server answers each client in turn: reads once, replies (--reply, or
echoes), closes; it logs "[*] Received: ..." and each client's protocol,
and "[!] ... handshake failed: ..." for a refused one. It speaks
--ready-fd, so the server fixture can start it:
server(sys.executable, PYSSL, "server", *pki.server_args()).
"""

import argparse
import os
import signal
import socket
import ssl
import sys

if not __package__:  # run as a script: make harness and peers importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.ready import add_ready_fd, announce, listen  # noqa: E402
from peers.base import Peer  # noqa: E402
from peers.common import check  # noqa: E402

PYSSL = os.path.abspath(__file__)
VERSIONS = {"tls": ("1.2", "1.3")}
_TLS_VERSION = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class PySSL(Peer):
    name = "pyssl"
    programs = ()
    package = "python3 (its ssl module)"
    protocols = ("tls",)

    def client_cmd(self, *, host, port, protocol, version=None, cafile=None,
                   servername=None, cert=None, key=None, insecure=False, timeout=20):
        check(self, protocol, version, VERSIONS)
        cmd = [sys.executable, PYSSL, "client", "--host", host, "--port", port,
               "--timeout", timeout]
        if cert and not key:
            key = cert  # a PEM file holding both
        for opt, value in (("--version", version), ("--cafile", cafile),
                           ("--servername", servername), ("--cert", cert), ("--key", key)):
            if value is not None:
                cmd += [opt, value]
        if insecure:
            cmd.append("--insecure")
        return [str(c) for c in cmd]

    def server_cmd(self, *, port, protocol, cert=None, key=None, cafile=None,
                   version=None, host="127.0.0.1", reply=None):
        """reply: the answer to every client (default: echo what it sent).
        cafile: require a client certificate signed by it."""
        check(self, protocol, version, VERSIONS)
        cmd = [sys.executable, PYSSL, "server", "--host", host, "-p", port,
               "--cert", cert, "--key", key or cert]
        for opt, value in (("--version", version), ("--cafile", cafile), ("--reply", reply)):
            if value is not None:
                cmd += [opt, value]
        return [str(c) for c in cmd]

    @staticmethod
    def version_in(err):
        """The version the client (or server log) reports, or None."""
        for line in err.split("\n"):
            if line.startswith("protocol: "):
                return line.split(": ", 1)[1].strip()
        return None

    @staticmethod
    def verified_in(err):
        return "verification: ok" in err.split("\n")


# -- the script ---------------------------------------------------------------

def _pin_version(ctx, version):
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = _TLS_VERSION[version]


def _say(*words, file=sys.stdout):
    print(*words, file=file, flush=True)


def run_client(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if args.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif args.cafile:
        ctx.load_verify_locations(args.cafile)
    else:
        ctx.load_default_certs()
    _pin_version(ctx, args.version)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    data = sys.stdin.buffer.read()
    try:
        raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except socket.timeout:
        _say(f"pyssl: connecting to {args.host}:{args.port}: timed out", file=sys.stderr)
        return 5
    except OSError as e:
        _say(f"pyssl: connecting to {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 3
    try:
        tls = ctx.wrap_socket(raw, server_hostname=args.servername or args.host)
    except socket.timeout:
        _say("pyssl: handshake timed out", file=sys.stderr)
        return 5
    except (ssl.SSLError, ssl.CertificateError, ConnectionError) as e:
        _say(f"pyssl: handshake failed: {e}", file=sys.stderr)
        return 4
    _say(f"protocol: {tls.version()}", file=sys.stderr)
    _say("verification: none" if args.insecure else "verification: ok", file=sys.stderr)
    try:
        tls.sendall(data)
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    except socket.timeout:
        _say("pyssl: no reply in time", file=sys.stderr)
        return 5
    except (ssl.SSLError, OSError) as e:
        _say(f"pyssl: {e}", file=sys.stderr)
        return 1
    tls.close()
    return 0


def _serve_one(ctx, conn, who, reply):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        _say(f"[!] {who}: handshake failed: {e}")
        conn.close()
        return
    try:
        _say(f"[*] {who}: protocol: {tls.version()}")
        peer_cert = tls.getpeercert()
        if peer_cert:
            subject = ", ".join(f"{k}={v}" for rdn in peer_cert["subject"] for k, v in rdn)
            _say(f"[*] {who}: client certificate: {subject}")
        data = tls.recv(65536)
        _say(f"[*] Received: {data.decode('utf-8', 'backslashreplace')}")
        tls.sendall(reply.encode() if reply is not None else data)
        tls.unwrap()  # close_notify: the client sees a clean end
    except (ssl.SSLError, OSError) as e:
        _say(f"[!] {who}: {e}")
    finally:
        tls.close()


def run_server(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    _pin_version(ctx, args.version)
    if args.cafile:
        ctx.load_verify_locations(args.cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED
    sock = listen(args.port, host=args.host)
    address, port = sock.getsockname()[:2]
    _say(f"[*] Listening on {address}:{port} (tls)")
    announce(args.ready_fd, sock, "tls")
    while True:
        conn, peer = sock.accept()
        conn.settimeout(args.timeout)
        _serve_one(ctx, conn, f"{peer[0]}:{peer[1]}", args.reply)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Python's ssl module as a TLS client or server.")
    sub = ap.add_subparsers(dest="role", required=True)
    cl = sub.add_parser("client", help="send stdin, print the reply")
    cl.add_argument("--host", required=True)
    cl.add_argument("--port", type=int, required=True)
    cl.add_argument("--servername", help="name sent as SNI and verified (default: --host)")
    cl.add_argument("--insecure", action="store_true", help="verify nothing")
    sv = sub.add_parser("server", help="answer each client in turn")
    add_ready_fd(sv)
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--reply", help="the reply (default: echo)")
    for p in (cl, sv):
        p.add_argument("--cafile")
        p.add_argument("--cert")
        p.add_argument("--key")
        p.add_argument("--version", choices=sorted(_TLS_VERSION))
        p.add_argument("--timeout", type=float, default=20)
    args = ap.parse_args(argv)
    if args.role == "client":
        return run_client(args)
    if not args.cert:
        ap.error("server: --cert is required")
    # The server fixture stops a server with SIGTERM and wants a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_server(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
