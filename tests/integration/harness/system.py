"""What the suite reads off the system: /proc, limits, builds, the PKI."""

import os
import resource
import socket
import subprocess

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def proc_status(pid, field):
    """The number in field of /proc/PID/status (Threads; VmRSS, VmHWM and
    VmSize in kB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def fd_count(pid):
    """How many file descriptors pid has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit(want):
    """At least want open files for this process and what it starts; fails
    when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        raise AssertionError(f"this test needs {want} open files, the hard limit is {hard} "
                             "(raise it: ulimit -Hn)")
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def sanitizer_of(program):
    """"address" or "thread" when program was built with ASan or TSan,
    None otherwise (memory and time bounds mean little there)."""
    with open(program, "rb") as f:
        data = f.read()
    if b"__asan_init" in data:
        return "address"
    if b"__tsan_init" in data:
        return "thread"
    return None


def ipv6_works():
    """This host can bind ::1."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def cert_fingerprint(cert):
    """A certificate's SHA-256 fingerprint as the programs print it:
    sha256:AB:CD:..."""
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint",
                          "-sha256"], check=True, capture_output=True, text=True).stdout
    return "sha256:" + out.strip().split("=", 1)[1]


def cert_spki_pin(cert):
    """A certificate's public key pin as curl's --pinnedpubkey and the
    programs write it: sha256// and the base64 SHA-256 of the DER
    SubjectPublicKeyInfo."""
    import base64
    import hashlib

    pem = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem,
                         check=True, capture_output=True).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


class Pki:
    """The throw-away test PKI (tests/lib/pki.sh): pki.path("server.crt"),
    or the shortcuts pki.ca, pki.cert(NAME), pki.key(NAME)."""

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        subprocess.run(["bash", os.path.join(SRC, "tests", "lib", "pki.sh"), self.dir],
                       check=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def ca(self):
        return self.path("ca.crt")

    def cert(self, name="server"):
        return self.path(f"{name}.crt")

    def key(self, name="server"):
        return self.path(f"{name}.key")

    def server_args(self, name="server"):
        """tcp-server/udp-server options serving the named certificate."""
        return ["--cert", self.cert(name), "--key", self.key(name)]


def need(*commands):
    """Skips the test when a peer program is missing, naming it (under
    scripts/test.sh a skip fails the run: it installs every peer)."""
    import shutil

    import pytest

    for c in commands:
        if shutil.which(str(c)) is None:
            pytest.skip(f"peer program '{c}' is not installed (scripts/test.sh installs the "
                        "suite's Debian packages)")


def _openssl_version(program, which):
    import re

    out = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    m = re.search(rf"^{which} OpenSSL ([0-9]+)\.([0-9]+)\.([0-9]+)", out, re.M)
    assert m, f"{program} --version names no OpenSSL it is {which}: {out!r}"
    return tuple(int(x) for x in m.groups())


def openssl_running(program):
    """The OpenSSL version program runs with, as (major, minor, patch),
    from its --version line "running with OpenSSL 3.5.7 ...": what the
    tests expect of the library (post-quantum groups, DTLS 1.3) follows
    from it, not from the system's openssl."""
    return _openssl_version(program, "running with")


def openssl_built_with(program):
    """The OpenSSL headers program was built with, as (major, minor,
    patch): what it can offer at all (ECH, DTLS 1.3 are compiled in)."""
    return _openssl_version(program, "built with")


_nobody_libs = None


def _openssl_libs_for_nobody():
    """A directory nobody can read holding the build's own libssl and
    libcrypto, or None when the build uses the system's. The matrix builds
    find theirs through an rpath into root's cache (~/.cache/secsock),
    which nobody cannot enter: it would fall back to Debian's libcrypto."""
    global _nobody_libs
    openssl = os.environ.get("SECSOCK_OPENSSL_BIN", "")
    if not openssl or openssl.startswith("/usr/"):
        return None
    if _nobody_libs is None:
        import atexit
        import glob
        import shutil
        import tempfile

        lib = os.path.join(os.path.dirname(os.path.dirname(openssl)), "lib")
        _nobody_libs = tempfile.mkdtemp(prefix="secsock-nobody-libs.")
        atexit.register(shutil.rmtree, _nobody_libs, True)
        for f in glob.glob(os.path.join(lib, "libssl.so*")) + \
                glob.glob(os.path.join(lib, "libcrypto.so*")):
            shutil.copy(f, _nobody_libs, follow_symlinks=True)
        for f in os.listdir(_nobody_libs):
            os.chmod(os.path.join(_nobody_libs, f), 0o755)
        os.chmod(_nobody_libs, 0o755)
    return _nobody_libs


def as_nobody(cmd, reset_env=True):
    """cmd as the user nobody (no capability, no group) when we are root;
    as is otherwise (already unprivileged). The build's OpenSSL comes along
    (LD_LIBRARY_PATH) when nobody cannot read it where the rpath points."""
    if os.geteuid() != 0:
        return cmd
    need("setpriv")
    pre = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if reset_env:
        pre += ["--reset-env", "--inh-caps=-all"]
    libs = _openssl_libs_for_nobody()
    env = ["env", f"LD_LIBRARY_PATH={libs}"] if libs else []
    return [*pre, "--", *env, *cmd]
