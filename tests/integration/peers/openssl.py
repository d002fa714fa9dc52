"""OpenSSL's command-line peers: s_client and s_server, TLS and DTLS.

    peer = OpenSSL().require()
    r = run(peer.client_cmd(host="127.0.0.1", port=srv.port, protocol="tls",
                            version="1.3", cafile=pki.ca, servername="localhost"),
            input="hello")
    assert peer.version_in(r.out) == "TLSv1.3" and peer.verified_in(r.out)

s_server without www=True is interactive: it prints what it receives and
sends what comes on its stdin (start it with stdin=subprocess.PIPE), the
only way to talk DTLS to it (its -rev echo is TLS only).

The openssl command is $SECSOCK_OPENSSL_BIN when set (ctest sets it to the
one of the OpenSSL the build uses: a build against scripts/openssl.sh's 3.5
or 4.x must meet a peer that knows the same groups), else "openssl".
"""

import os
import re
import subprocess

from peers.base import Peer
from peers.common import check, hostport

VERSIONS = {"tls": ("1.2", "1.3"), "dtls": ("1.0", "1.2")}
_FLAGS = {("tls", None): [], ("tls", "1.2"): ["-tls1_2"], ("tls", "1.3"): ["-tls1_3"],
          ("dtls", None): ["-dtls"], ("dtls", "1.0"): ["-dtls1"], ("dtls", "1.2"): ["-dtls1_2"]}

# s_client's session summary: "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384".
_NEW_SESSION = re.compile(r"^New, ((?:D)?TLSv[0-9.]+), Cipher is ", re.M)
_VERIFY_CODE = re.compile(r"^ *Verify return code: ([0-9]+) ", re.M)
_DEPTH_VERIFY = re.compile(r"^verify return:([0-9]+)$", re.M)
_ALERT = re.compile(r"SSL alert number ([0-9]+)")
# An OpenSSL error line: [PREFIX:]error:CODE:LIBRARY:FUNCTION:REASON:FILE:LINE[:DATA]
_ERROR_LINE = re.compile(r"error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+):")
_WWW_PROTOCOL = re.compile(r"^ *Protocol *: ((?:D)?TLSv[0-9.]+)", re.M)
_SERVER_CIPHER = re.compile(r"^CIPHER is (\S+)", re.M)


def openssl_bin():
    """The openssl command the peers run."""
    return os.environ.get("SECSOCK_OPENSSL_BIN") or "openssl"


# openssl verify: "error 62 at 0 depth lookup: hostname mismatch"
_VERIFY_ERROR = re.compile(r"^error [0-9]+ at [0-9]+ depth lookup: (.+)$", re.M)


def verify_error(cert, cafile, hostname=None, ip=None):
    """Why the library refuses cert (against cafile, for hostname or ip),
    in its own words: what a program on the same OpenSSL names as the
    cause, without the test holding one version's wording."""
    cmd = [openssl_bin(), "verify", "-CAfile", str(cafile)]
    if hostname:
        cmd += ["-verify_hostname", hostname]
    if ip:
        cmd += ["-verify_ip", ip]
    r = subprocess.run(cmd + [str(cert)], capture_output=True, text=True, timeout=60)
    m = _VERIFY_ERROR.search(r.stdout + r.stderr)
    assert r.returncode != 0 and m, f"openssl verify accepts {cert}: {r.stdout}{r.stderr}"
    return m.group(1).strip()


class OpenSSL(Peer):
    name = "openssl"
    package = "openssl"

    @property
    def programs(self):
        return (openssl_bin(),)
    protocols = ("tls", "dtls")

    # -- as a client ------------------------------------------------------
    def client_cmd(self, *, host, port, protocol, version=None, cafile=None,
                   servername=None, cert=None, key=None, quiet=False, ign_eof=True):
        """s_client. cafile: verify the chain, failing the handshake if it
        does not verify; servername: sent as SNI and verified.
        quiet: no session summary (only the peer's data on stdout).
        ign_eof: at the end of stdin keep reading until the server closes;
        False: exit at the end of stdin."""
        check(self, protocol, version, VERSIONS)
        cmd = [openssl_bin(), "s_client", "-connect", hostport(host, port)]
        cmd += _FLAGS[(protocol, version)]
        if cafile:
            cmd += ["-CAfile", cafile, "-verify_return_error"]
        if servername:
            cmd += ["-servername", servername, "-verify_hostname", servername]
        if cert:
            cmd += ["-cert", cert, "-key", key or cert]
        if quiet:
            cmd.append("-quiet")
        cmd.append("-ign_eof" if ign_eof else "-no_ign_eof")
        return [str(c) for c in cmd]

    @staticmethod
    def version_in(out):
        """The version s_client's summary names ("TLSv1.3"), or None."""
        m = _NEW_SESSION.search(out)
        return m.group(1) if m else None

    @staticmethod
    def verified_in(text):
        """s_client verified the server: its summary's "Verify return code:
        0 (ok)", or (quiet, on stderr) every "verify return:" line is 1."""
        m = _VERIFY_CODE.search(text)
        if m:
            return int(m.group(1)) == 0
        codes = _DEPTH_VERIFY.findall(text)
        return bool(codes) and all(c == "1" for c in codes)

    @staticmethod
    def alerts_in(err):
        """The TLS alert numbers s_client says it received (70:
        protocol_version, RFC 8446 6.2)."""
        return [int(n) for n in _ALERT.findall(err)]

    @staticmethod
    def error_reasons(err):
        """The reason of each OpenSSL error line on stderr, as the library
        words it (compare with another program on the same library, never
        with a literal)."""
        return _ERROR_LINE.findall(err)

    # -- as a server ------------------------------------------------------
    def server_cmd(self, *, port, protocol, cert=None, key=None, cafile=None,
                   version=None, host="127.0.0.1", www=False, listen=False):
        """s_server on host:port. www: answer an HTTP GET with a page
        describing the session (TLS only). listen: DTLS with its stateless
        cookie exchange (-listen). cafile: require a client certificate."""
        check(self, protocol, version, VERSIONS)
        cmd = [openssl_bin(), "s_server", "-accept", hostport(host, port)]
        cmd += _FLAGS[(protocol, version)]
        cmd += ["-cert", cert, "-key", key or cert]
        if cafile:
            cmd += ["-CAfile", cafile, "-Verify", "1", "-verify_return_error"]
        if www:
            cmd.append("-www")
        if listen:
            cmd.append("-listen")
        return [str(c) for c in cmd]

    def wait_ready(self, proc, port, protocol, timeout=10):
        """s_server prints ACCEPT once its socket is bound (and listening)."""
        proc.wait_for("ACCEPT", timeout)
        super().wait_ready(proc, port, protocol, timeout)

    @staticmethod
    def www_version_in(page):
        """The version an s_server -www page says the session has."""
        m = _WWW_PROTOCOL.search(page)
        return m.group(1) if m else None

    @staticmethod
    def server_ciphers_in(out):
        """The cipher of each session s_server reported ("CIPHER is ...")."""
        return _SERVER_CIPHER.findall(out)
