"""Fixtures of the integration suite.

    def test_reply(server, run):
        srv = server("tcp-server", "--reply", "hi")          # on port 0, ready
        r = run([prog("tcp-client"), "--send", "x", "127.0.0.1", srv.port])
        r.expect(0)
        assert r.out == "hi"
        srv.wait_for(": x")

The programs come from --bin DIR, else $SECSOCK_BIN, else build/bin
(collecting the tests needs no build). A peer that is not installed skips
its tests with the reason; scripts/test.sh sets SECSOCK_SKIP_FAILS=1,
which turns any skip into a failed run (the policy lives there, once).
"""

import os
import signal

import pytest

from harness.procs import Proc, read_ready_line, run as run_cmd
from harness.system import SRC, Pki, openssl_built_with, sanitizer_of

import json


def pytest_addoption(parser):
    parser.addoption("--bin", default=None,
                     help="directory of the built programs (default: $SECSOCK_BIN or build/bin)")


def _bin_dir(config):
    return (config.getoption("--bin") or os.environ.get("SECSOCK_BIN")
            or os.path.join(SRC, "build", "bin"))


@pytest.fixture(scope="session")
def bin_dir(request):
    """The directory of the built programs; fails when it has none."""
    d = os.path.abspath(_bin_dir(request.config))
    if not os.path.exists(os.path.join(d, "tcp-server")):
        pytest.fail(f"no built programs in {d}: build first (cmake -S . -B build && "
                    "cmake --build build), or give --bin DIR / SECSOCK_BIN")
    return d


@pytest.fixture(scope="session")
def prog(bin_dir):
    """prog("tcp-client"): the path of a built program."""

    def path(name):
        p = os.path.join(bin_dir, name)
        if not os.access(p, os.X_OK):
            pytest.fail(f"{p} is not built")
        return p

    return path


@pytest.fixture(scope="session")
def sanitizer(bin_dir):
    """"address", "thread" or None: how the programs under test were built
    (time and memory bounds widen, or mean nothing, under sanitizers)."""
    return sanitizer_of(os.path.join(bin_dir, "tcp-server"))


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """The throw-away test PKI, made once per run (see harness.system.Pki)."""
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def run():
    """run(cmd, timeout=60, input=None, env=None): a command to its end, as
    a harness.procs.Result; a sanitizer report in its stderr fails."""
    return run_cmd


@pytest.fixture
def start(request, tmp_path):
    """start(cmd, env=None, stdin=None): a process in the background
    (harness.procs.Proc), stopped when the test ends; a sanitizer report in
    its stderr fails the test, and a failed test shows its output."""
    procs = []
    request.node.secsock_procs = procs
    logdir = tmp_path / "procs"
    logdir.mkdir(exist_ok=True)

    def starter(cmd, **kwargs):
        p = Proc(cmd, str(logdir), **kwargs)
        procs.append(p)
        return p

    yield starter
    for p in procs:
        if p.alive():
            p.stop(timeout=10)
    for p in procs:
        p.sanitizer_check()


class Server(Proc):
    """A server started on port 0 and ready: .port, .address, .protocol,
    .ready (its listening event); .expect_exit is the status its stop at
    the end of the test must give (None: not checked)."""

    ready = None
    port = None
    address = None
    protocol = None
    expect_exit = 0
    checked = False

    def hostport(self):
        return f"[{self.address}]:{self.port}" if ":" in self.address else \
            f"{self.address}:{self.port}"

    def stop_checked(self, sig=signal.SIGTERM, expect=0, timeout=15):
        """Stops it and asserts its exit status (0: a clean stop)."""
        rc = self.stop(sig, timeout)
        self.checked = True
        assert rc == expect, f"[{self.label}] exit status {rc}, expected {expect}\n{self.report()}"
        return rc


@pytest.fixture
def server(request, start, prog):
    """server(PROGRAM, *args, ready_timeout=20, env=None): starts a
    secsock server (a name under --bin, or a command's path for a stand-in
    that speaks --ready-fd) with -p 0 unless args name a port, reads its
    ready signal from --ready-fd, and returns a Server. At the end of the
    test it is stopped with SIGTERM and must exit 0 with no sanitizer
    report, unless the test stopped it itself (stop_checked) or set
    .expect_exit to None."""
    servers = []

    def starter(program, *args, ready_timeout=20, env=None, stdin=None, **kw):
        path = program if os.sep in str(program) else prog(program)
        args = [str(a) for a in args]
        cmd = [path] + args
        if not ({"-p", "--port"} & set(args)) and not any(a.startswith("--port=") for a in args):
            cmd += ["-p", "0"]
        rfd, wfd = os.pipe()
        cmd += ["--ready-fd", str(wfd)]
        try:
            srv = start(cmd, env=env, stdin=stdin, pass_fds=(wfd,), **kw)
        finally:
            os.close(wfd)
        srv.__class__ = Server
        try:
            line = read_ready_line(rfd, srv, ready_timeout)
        finally:
            os.close(rfd)
        srv.ready = json.loads(line)
        assert srv.ready.get("event") == "listening", f"not a listening event: {line}"
        srv.port = int(srv.ready["port"])
        srv.address = srv.ready["address"]
        srv.protocol = srv.ready.get("protocol")
        servers.append(srv)
        return srv

    yield starter
    problems = []
    for srv in servers:
        if srv.checked or srv.expect_exit is None:
            continue
        if srv.alive():
            rc = srv.stop(timeout=20)
        else:
            rc = srv.popen.wait()
        if rc != srv.expect_exit:
            problems.append(f"[{srv.label}] exited with status {rc}, expected "
                            f"{srv.expect_exit}\n{srv.report()}")
    assert not problems, "\n".join(problems)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the output of every process it started."""
    outcome = yield
    report = outcome.get_result()
    procs = getattr(item, "secsock_procs", None)
    if report.failed and procs:
        for p in procs:
            report.sections.append((f"process {p.label} (pid {p.pid})", p.report()))


def pytest_collection_modifyitems(config, items):
    """A test of a mode the build cannot have is deselected, not skipped
    (a skip fails scripts/test.sh): a module's OPTIONAL maps such a mode
    to the OpenSSL it needs, and the test names its mode by its "mode"
    parameter or @pytest.mark.mode(NAME). The module checks apart that
    the build says why the mode is absent."""
    program = os.path.join(os.path.abspath(_bin_dir(config)), "tcp-client")
    if not os.access(program, os.X_OK):
        return  # the bin_dir fixture fails those tests with the reason
    have = None
    keep, drop = [], []
    for item in items:
        optional = getattr(item.module, "OPTIONAL", None) or {}
        marker = item.get_closest_marker("mode")
        callspec = getattr(item, "callspec", None)
        mode = marker.args[0] if marker else callspec.params.get("mode") if callspec else None
        if mode in optional:
            have = have or openssl_built_with(program)
            if have < optional[mode]:
                drop.append(item)
                continue
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionfinish(session, exitstatus):
    """SECSOCK_SKIP_FAILS=1 (scripts/test.sh, so CI): a skip fails the run."""
    if os.environ.get("SECSOCK_SKIP_FAILS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        if reporter:
            reporter.write_line(f"SECSOCK_SKIP_FAILS=1: {skipped} skipped test(s) fail the run",
                                red=True)
        session.exitstatus = 1
