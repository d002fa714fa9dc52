"""Apache2 as a peer: the private Apache2 that scripts/apache.sh runs on
loopback from a directory of its own (configuration, certificates, content,
logs), never touching /etc/apache2.

apache2 daemonises and apache.sh start returns once both ports accept
connections, so it is not a background process for start(): a test drives
it through PrivateApache (start, stop, status, its files and logs).

    Apache().require()                       # skips if apache2/mod_ssl is missing
    site = PrivateApache()                   # a fresh directory under /tmp
    site.start(http_port=free_port(), https_port=..., name="example.test")
    run([prog("tcp-client"), "--tls", "--cafile", site.ca, "localhost", site.https_port])
    site.log_lines(site.ssl_access_log, "my user agent")
    site.close()                             # stops it, removes the directory
"""

import os
import re
import shutil
import tempfile

import pytest

from harness.procs import run
from harness.system import SRC, need
from harness.waits import wait_until
from peers.base import Peer

APACHE_SH = os.path.join(SRC, "scripts", "apache.sh")
MOD_SSL = "/usr/lib/apache2/modules/mod_ssl.so"


class Apache(Peer):
    name = "apache2"
    programs = ("/usr/sbin/apache2", "curl", "openssl")
    package = "apache2"
    protocols = ("tcp", "tls")

    def require(self):
        need(*self.programs)
        if not os.path.isfile(MOD_SSL):
            pytest.skip(f"{MOD_SSL} is missing (Debian's apache2 package; scripts/test.sh "
                        "installs it)")
        return self

    def script_cmd(self, *args):
        """A scripts/apache.sh command line (start|stop|status and options)."""
        return ["bash", APACHE_SH] + [str(a) for a in args]


# A line of the combined log format, reduced to what does not change from
# run to run: the date and the byte count.
_DATE = re.compile(r"\[[^]]*\]")
_BYTES = re.compile(r'" ([0-9]{3}) [0-9]+ "')


def normalise_log_line(line):
    """'127.0.0.1 - - [DATE] "GET / HTTP/1.1" 200 N "-" "UA"'."""
    return _BYTES.sub(r'" \1 N "', _DATE.sub("[DATE]", line, count=1), count=1)


class PrivateApache:
    """One apache.sh directory and the Apache2 it runs.

    The directory is made under /tmp with mode 755: as root, Apache's
    workers run as www-data and must reach the content (pytest's own
    temporary directories are private to root)."""

    def __init__(self, directory=None):
        if directory is None:
            directory = tempfile.mkdtemp(prefix="secsock-it-apache.", dir="/tmp")
            os.chmod(directory, 0o755)
        self.dir = directory
        self.peer = Apache()
        self.http_port = None
        self.https_port = None
        self.name = None

    # -- files --------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def ca(self):
        return self.path("certs", "ca.crt")

    @property
    def server_cert(self):
        return self.path("certs", "server.crt")

    @property
    def access_log(self):
        return self.path("logs", "access.log")

    @property
    def ssl_access_log(self):
        return self.path("logs", "ssl_access.log")

    @property
    def error_log(self):
        return self.path("logs", "error.log")

    @property
    def pid_file(self):
        return self.path("run", "apache2.pid")

    def read(self, *parts):
        with open(self.path(*parts), "rb") as f:
            return f.read()

    def error_log_text(self):
        try:
            return self.read("logs", "error.log").decode(errors="backslashreplace")
        except FileNotFoundError:
            return "(no error.log)"

    def pid(self):
        """The main process's pid, from the pid file."""
        text = self.read("run", "apache2.pid").decode().strip()
        assert text.isdigit(), f"{self.pid_file} holds [{text}]"
        return int(text)

    # -- the script ---------------------------------------------------------
    def script(self, *args, timeout=60):
        """Runs apache.sh ARGS... --dir DIR to its end (a Result)."""
        return run(self.peer.script_cmd(*args, "--dir", self.dir), timeout=timeout)

    def start(self, http_port=None, https_port=None, name=None):
        """apache.sh start --no-install with the ports and name given; fails
        (with Apache's error log) unless it exits 0."""
        args = ["--no-install"]
        if http_port is not None:
            args += ["--http-port", http_port]
        if https_port is not None:
            args += ["--https-port", https_port]
        if name is not None:
            args += ["--name", name]
        r = self.script("start", *args)
        assert r.rc == 0, f"apache.sh start: {r}\n--- {self.error_log}:\n{self.error_log_text()}"
        self.http_port, self.https_port, self.name = http_port, https_port, name or "localhost"
        return r

    def stop(self):
        return self.script("stop")

    def close(self):
        """Stops Apache (whatever ran from the directory) and removes the
        directory; returns the stop's Result and Apache's error log."""
        r = self.stop()
        errors = self.error_log_text()
        shutil.rmtree(self.dir, ignore_errors=True)
        return r, errors

    # -- the logs -----------------------------------------------------------
    def log_lines(self, log, user_agent, timeout=10):
        """Waits for a line with "USER_AGENT" (quoted, as the combined
        format logs it) in log, then returns every such line, normalised
        (normalise_log_line)."""
        needle = f'"{user_agent}"'

        def lines():
            try:
                with open(log, encoding="utf-8", errors="backslashreplace") as f:
                    return [normalise_log_line(x.rstrip("\n")) for x in f if needle in x]
            except FileNotFoundError:
                return []

        wait_until(lines, timeout, lambda: f"[{needle}] in {log}; it has:\n"
                   f"{open(log).read() if os.path.exists(log) else '(no file)'}")
        return lines()

    def count_in_log(self, log, user_agent):
        """How many lines of log hold "USER_AGENT" (quoted)."""
        needle = f'"{user_agent}"'
        try:
            with open(log, encoding="utf-8", errors="backslashreplace") as f:
                return sum(1 for x in f if needle in x)
        except FileNotFoundError:
            return 0
