"""scripts/apache.sh itself: start (its own directory, the ports asked for,
127.0.0.1 only, nothing from /etc/apache2), status, an idempotent second
start, a refused conflicting start, a busy port, stop (no process left, the
ports free again), a restart for another name (new certificate), usage
errors."""

import os
import socket

import pytest

from harness.procs import run as run_cmd
from harness.system import cert_fingerprint
from harness.waits import free_port
from peers.apache import Apache, PrivateApache


@pytest.fixture
def sites(request):
    """sites(): a fresh apache.sh directory (PrivateApache); each is stopped
    and removed at the end, and a stop that fails fails the test. A failed
    test shows their error logs."""
    made = []
    Apache().require()
    failed_before = request.session.testsfailed

    def maker():
        site = PrivateApache()
        made.append(site)
        return site

    yield maker
    problems = []
    for site in made:
        stopped, errors = site.close()
        if stopped.rc != 0:
            problems.append(f"apache.sh stop: {stopped}")
        if stopped.rc != 0 or request.session.testsfailed > failed_before:
            print(f"--- {site.error_log}:\n{errors}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def ports():
    """Two distinct free ports: HTTP and HTTPS."""
    http_port = free_port()
    https_port = free_port()
    while https_port == http_port:
        https_port = free_port()
    return http_port, https_port


def listening(port):
    """Something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False


def listeners_beyond_loopback(*ports):
    """TCP listeners on these ports bound to anything but 127.0.0.1
    (0.0.0.0, ::, another address), from /proc/net/tcp{,6}."""
    found = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            next(f)
            for line in f:
                fields = line.split()
                address, port = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(port, 16) in ports and address != "0100007F":
                    found.append(f"{path}: {line.strip()}")
    return found


def process_group(pgid):
    """The pids of the processes in process group pgid (pgrep -g)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # After "PID (COMM) ": STATE PPID PGRP ...
        if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
            members.append(int(entry))
    return members


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def covers(cert, host):
    r = run_cmd(["openssl", "x509", "-in", cert, "-noout", "-checkhost", host]).expect(0)
    return "does match" in r.out


@pytest.mark.parametrize("args,message", [
    pytest.param([], "no command", id="no-command"),
    pytest.param(["start", "--http-port", "70000"], "not a port number: 70000", id="port-70000"),
    pytest.param(["start", "--http-port", "{hp}", "--https-port", "{hp}"], "must differ",
                 id="same-port-twice"),
    pytest.param(["start", "--name", "bad name"], "is not a DNS name", id="bad-name"),
    pytest.param(["restart"], "unknown argument: restart", id="unknown-command"),
])
def test_usage_errors_exit_2(sites, ports, args, message):
    site = sites()
    r = site.script(*[a.format(hp=ports[0]) for a in args]).expect(2)
    assert message in r.err


def test_help(run):
    r = run(Apache().require().script_cmd("--help")).expect(0)
    assert "start|stop|status" in r.out


def test_not_running_yet(sites):
    site = sites()
    r = site.script("status").expect(3, "status before start")
    assert f"not running ({site.dir})" in r.out
    site.script("stop").expect(0, "stop before start")


def test_start_on_loopback_with_its_own_config(sites, ports):
    site = sites()
    hp, sp = ports
    r = site.start(hp, sp)
    assert "started" in r.out
    assert f"http://127.0.0.1:{hp}/" in r.out
    assert f"https://localhost:{sp}/" in r.out
    pid = site.pid()
    assert alive(pid), f"apache2 (pid {pid}) is not running"
    assert listening(hp), f"nothing listens on 127.0.0.1:{hp}"
    assert listening(sp), f"nothing listens on 127.0.0.1:{sp}"
    assert site.read("state").decode() == f"http_port={hp}\nhttps_port={sp}\nname=localhost\n"

    # Its own configuration: loopback only, nothing from /etc/apache2.
    conf_lines = site.read("apache2.conf").decode().splitlines()
    conf = "\n".join(line for line in conf_lines if not line.startswith("#"))
    assert "/etc/apache2" not in conf
    assert "Include" not in conf
    assert [line for line in conf_lines if line.startswith("Listen")] == [
        f"Listen 127.0.0.1:{hp}", f"Listen 127.0.0.1:{sp} https"]
    assert f'ServerRoot "{site.dir}"' in conf
    assert listeners_beyond_loopback(hp, sp) == [], "Apache listens beyond loopback"
    if os.geteuid() == 0:
        assert "User www-data" in conf


def test_serves_with_its_certificates_and_logs(sites, ports, run):
    """It serves, with the project's certificates, and logs in combined
    format; status says so."""
    site = sites()
    hp, sp = ports
    site.start(hp, sp)
    pid = site.pid()
    run(["curl", "-sS", "--fail", "--cacert", site.ca, "-A", "lifecycle-test/1", "-o",
         "/dev/null", f"https://localhost:{sp}/"]).expect(0, f"curl over HTTPS with {site.ca}")
    lines = site.log_lines(site.ssl_access_log, "lifecycle-test/1")
    assert any('"GET / HTTP/1.1" 200' in line and line.endswith('"-" "lifecycle-test/1"')
               for line in lines), lines

    r = site.script("status").expect(0, "status while running")
    assert f"running (pid {pid}) from {site.dir}" in r.out
    assert f"http://127.0.0.1:{hp}/" in r.out


def test_second_start_changes_nothing_other_settings_refused(sites, ports):
    site = sites()
    hp, sp = ports
    site.start(hp, sp)
    pid = site.pid()
    r = site.script("start", "--no-install").expect(0, "second start")
    assert "already running" in r.out
    assert site.pid() == pid, "pid after the second start"
    site.script("start", "--no-install", "--http-port", hp, "--https-port", sp, "--name",
                "localhost").expect(0, "second start with the same settings")
    # ... but one asking for other settings is refused.
    r = site.script("start", "--no-install", "--name", "other.test").expect(
        1, "start with another name while running")
    assert f"already running from {site.dir} with name localhost" in r.err


def test_busy_port_refused_before_anything_starts(sites, ports):
    site, other = sites(), sites()
    hp, sp = ports
    site.start(hp, sp)
    r = other.script("start", "--no-install", "--http-port", hp).expect(1, "start on a busy port")
    assert f"port {hp} on 127.0.0.1 is in use" in r.err
    assert not os.path.exists(other.pid_file), "a pid file after a refused start"


def test_stop_leaves_no_process_and_frees_ports(sites, ports):
    site = sites()
    hp, sp = ports
    site.start(hp, sp)
    pid = site.pid()
    group = process_group(pid)
    assert len(group) >= 2, f"expected the main process and its children in group {pid}: {group}"
    r = site.stop().expect(0, "stop")
    assert f"stopped (pid {pid})" in r.out
    assert process_group(pid) == [], f"processes left in group {pid}"
    assert not listening(hp), f"127.0.0.1:{hp} still accepts connections after stop"
    assert not listening(sp), f"127.0.0.1:{sp} still accepts connections after stop"
    assert not os.path.exists(site.pid_file), "pid file left after stop"
    site.script("status").expect(3, "status after stop")
    r = site.stop().expect(0, "second stop")
    assert "not running" in r.out


def test_restart_for_another_name_renews_the_certificate(sites, ports, run):
    site = sites()
    hp, sp = ports
    site.start(hp, sp)
    site.stop().expect(0)
    old_fp = cert_fingerprint(site.server_cert)

    r = site.start(hp, sp, "other.test")
    assert "made certificates for other.test" in r.out
    assert cert_fingerprint(site.server_cert) != old_fp, "the certificate was not renewed"
    assert covers(site.server_cert, "other.test"), "the new certificate does not cover other.test"
    run(["curl", "-sS", "--fail", "--cacert", site.ca, "--resolve", f"other.test:{sp}:127.0.0.1",
         "-o", "/dev/null", f"https://other.test:{sp}/"]).expect(0)
    pid = site.pid()
    site.stop().expect(0, "stop after the restart")
    assert process_group(pid) == [], f"processes left in group {pid}"

    # The same name again keeps the certificate.
    fp = cert_fingerprint(site.server_cert)
    site.start(hp, sp, "other.test")
    assert cert_fingerprint(site.server_cert) == fp, \
        "certificate after a restart for the same name"
    site.stop().expect(0, "final stop")
