"""tcp-client against a private Apache2 (scripts/apache.sh, its own
directory and free ports): GET over HTTP and verified HTTPS with the exact
custom User-Agent in the access logs; --resolve with a certificate for a
name that is not local; a hostname mismatch; a chunked body and a 10 MiB
file byte-exact against curl; HEAD on a keep-alive connection; --fail on a
404; a redirect shown, not followed."""

import hashlib
import os
import pwd
import shutil
import tempfile
import time

import pytest

from harness.system import as_nobody
from harness.waits import free_port
from peers.apache import Apache, PrivateApache, normalise_log_line

# A name with no /etc/hosts entry: only --resolve can reach it.
NAME = "lm3nitro.com"
OK = "HTTP/1.1 200 OK\r\n"


@pytest.fixture(scope="module")
def apache():
    """One private Apache2 for the whole file, as the bash test had."""
    Apache().require()
    http_port = free_port()
    https_port = free_port()
    while https_port == http_port:
        https_port = free_port()
    site = PrivateApache()
    try:
        site.start(http_port, https_port, NAME)
        yield site
    finally:
        stopped, errors = site.close()
        assert stopped.rc == 0, f"apache.sh stop: {stopped}\n--- {site.error_log}:\n{errors}"


@pytest.fixture(autouse=True)
def show_error_log_on_failure(request):
    """A failed test shows Apache's error log (pytest prints a failed
    test's teardown output with it)."""
    failed_before = request.session.testsfailed
    yield
    if "apache" in request.fixturenames and request.session.testsfailed > failed_before:
        apache = request.getfixturevalue("apache")
        print(f"--- {apache.error_log}:\n{apache.error_log_text()}")


def body_of(response):
    """What follows the headers (all of it when there is no blank line)."""
    head, sep, body = response.partition("\r\n\r\n")
    return body if sep else response


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def index_html(apache):
    return apache.read("htdocs", "index.html").decode()


def target(apache, scheme):
    """tcp-client's arguments for one of Apache's two ports."""
    if scheme == "https":
        return ["--tls", "--cafile", apache.ca, "localhost", apache.https_port]
    return ["127.0.0.1", apache.http_port]


def get_line(ua, request="GET / HTTP/1.1", status=200):
    return f'127.0.0.1 - - [DATE] "{request}" {status} N "-" "{ua}"'


def test_log_lines_are_normalised():
    line = ('127.0.0.1 - - [02/Dec/2026:09:00:00 +0000] "GET / HTTP/1.1" 200 4321 "-" '
            '"agent [x] 1"')
    assert normalise_log_line(line) == get_line("agent [x] 1")


def test_get_over_http_and_https_user_agent_in_logs(apache, run, prog):
    ua = "Mozilla/lm3nitro 1.0 (get)"
    r = run([prog("tcp-client"), "-A", ua, "127.0.0.1", apache.http_port]).expect(0)
    assert OK in r.out
    assert "Content-Length: 156\r\n" in r.out
    assert body_of(r.out) == index_html(apache)
    assert apache.log_lines(apache.access_log, ua) == [get_line(ua)]

    r = run([prog("tcp-client"), "--tls", "--cafile", apache.ca, "-A", ua, "localhost",
             apache.https_port]).expect(0)
    assert OK in r.out
    assert body_of(r.out) == index_html(apache)
    assert apache.log_lines(apache.ssl_access_log, ua) == [get_line(ua)]
    # Each request in its own log, once.
    assert apache.count_in_log(apache.access_log, ua) == 1


def test_resolve_name_verified(apache, run, prog):
    """lm3nitro.com with no /etc/hosts entry: Host, SNI and verification use it."""
    ua = "Mozilla/lm3nitro 1.0 (resolve)"
    hp, sp = apache.http_port, apache.https_port
    r = run([prog("tcp-client"), "-A", ua, "--resolve", f"{NAME}:{hp}:127.0.0.1", NAME,
             hp]).expect(0)
    assert OK in r.out
    assert apache.log_lines(apache.access_log, ua) == [get_line(ua)]

    r = run([prog("tcp-client"), "--tls", "--cafile", apache.ca, "-v", "-A", ua, "--resolve",
             f"{NAME}:{sp}:127.0.0.1", NAME, sp]).expect(0)
    assert OK in r.out
    assert body_of(r.out) == index_html(apache)
    assert f"* Connected to {NAME} (127.0.0.1) port {sp}" in r.err
    assert f"SNI: {NAME}" in r.err
    assert f"subject: CN={NAME}" in r.err
    assert "verification: ok" in r.err
    assert apache.log_lines(apache.ssl_access_log, ua) == [get_line(ua)]


def test_hostname_mismatch(apache, run, prog):
    """A name the certificate does not cover: exit 4, and no request
    reaches Apache."""
    ua = "Mozilla/lm3nitro 1.0 (mismatch)"
    sp = apache.https_port
    r = run([prog("tcp-client"), "--tls", "--cafile", apache.ca, "-A", ua, "--resolve",
             f"other.example:{sp}:127.0.0.1", "other.example", sp]).expect(4)
    assert "certificate verify failed" in r.err and "(wanted other.example)" in r.err
    assert r.out == ""

    r = run([prog("tcp-client"), "--tls", "--cafile", apache.ca, "-A", ua, "--servername",
             "other.example", "127.0.0.1", sp]).expect(4)
    assert "certificate verify failed" in r.err and "(wanted other.example)" in r.err

    # The same server, verified, still works; once its request is logged,
    # a request from the refused connections would be too.
    run([prog("tcp-client"), "--tls", "--cafile", apache.ca, "-A", ua + "-ok", "localhost",
         sp]).expect(0)
    apache.log_lines(apache.ssl_access_log, ua + "-ok")
    assert apache.count_in_log(apache.ssl_access_log, ua) == 0


def compare_with_curl(apache, run, prog, tmp_path, path, scheme):
    """tcp-client --body-only -o FILE, compared with curl's download of the
    same URL; returns FILE."""
    out = tmp_path / f"tc.{scheme}"
    ref = tmp_path / f"curl.{scheme}"
    if scheme == "https":
        url = ["--cacert", apache.ca, f"https://localhost:{apache.https_port}{path}"]
    else:
        url = [f"http://127.0.0.1:{apache.http_port}{path}"]
    r = run([prog("tcp-client"), "--body-only", "-o", out, "--path", path]
            + target(apache, scheme)).expect(0)
    assert r.out == "", "stdout with -o"
    run(["curl", "-sS", "--fail", "-o", ref] + url).expect(0, f"curl {scheme} {path}")
    assert ref.stat().st_size > 0, f"curl downloaded nothing from {path}"
    assert out.stat().st_size == ref.stat().st_size, f"size of {path} over {scheme}"
    assert sha256(out) == sha256(ref), f"SHA-256 of {path} over {scheme} (tcp-client vs curl)"
    return out


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_chunked_body_vs_curl(apache, run, prog, tmp_path, scheme):
    # The response really is chunked (else this test proves nothing).
    r = run(["curl", "-sS", "-D", "-", "-o", "/dev/null",
             f"http://127.0.0.1:{apache.http_port}/cgi-bin/chunked"]).expect(0)
    assert "Transfer-Encoding: chunked\r\n" in r.out
    assert "Content-Length" not in r.out

    out = compare_with_curl(apache, run, prog, tmp_path, "/cgi-bin/chunked", scheme)
    assert "part 5 line 500: the quick brown fox" in out.read_text()


def test_chunked_response_on_keep_alive(apache, run, prog):
    """The whole response: the headers as sent, the body de-chunked only
    with --body-only; on a keep-alive connection it ends at the last chunk
    (not at Apache's 15 s keep-alive timeout)."""
    start = time.monotonic()
    r = run([prog("tcp-client"), "-t", "20", "-H", "Connection: keep-alive", "--path",
             "/cgi-bin/chunked", "127.0.0.1", apache.http_port]).expect(0)
    took = time.monotonic() - start
    assert took < 5, f"chunked GET on a keep-alive connection took {took:.1f} s"
    assert "Transfer-Encoding: chunked\r\n" in r.out
    assert "Keep-Alive: timeout=" in r.out
    assert "\r\n0\r\n\r\n" in r.out, "raw chunked response (last chunk)"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_big_file_vs_curl(apache, run, prog, tmp_path, scheme):
    big = apache.path("htdocs", "big.bin")
    assert os.path.getsize(big) == 10 * 1024 * 1024
    out = compare_with_curl(apache, run, prog, tmp_path, "/big.bin", scheme)
    assert sha256(big) == sha256(out), f"big.bin over {scheme} vs the file"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_head_on_keep_alive(apache, run, prog, scheme):
    """HEAD: headers only, at once, though Apache keeps the connection open
    for 15 s."""
    ua = "Mozilla/lm3nitro 1.0 (head)"
    start = time.monotonic()
    r = run([prog("tcp-client"), "-t", "20", "--method", "HEAD", "-H", "Connection: keep-alive",
             "-A", ua, "--path", "/big.bin"] + target(apache, scheme)).expect(0)
    took = time.monotonic() - start
    assert took < 5, f"HEAD over {scheme} took {took:.1f} s"
    assert OK in r.out
    assert "Content-Length: 10485760\r\n" in r.out
    assert "Connection: Keep-Alive\r\n" in r.out
    assert body_of(r.out) == "", "what follows the headers of a HEAD response"
    assert len(r.out_bytes) < 1024, f"HEAD over {scheme} printed {len(r.out_bytes)} bytes"
    log = apache.ssl_access_log if scheme == "https" else apache.access_log
    assert any('"HEAD /big.bin HTTP/1.1" 200' in line for line in apache.log_lines(log, ua))


def test_fail_on_404(apache, run, prog):
    tc = prog("tcp-client")
    r = run([tc, "--path", "/missing", "127.0.0.1", apache.http_port]).expect(0)
    assert "HTTP/1.1 404 Not Found\r\n" in r.out

    r = run([tc, "--fail", "--path", "/missing", "127.0.0.1", apache.http_port]).expect(6)
    assert "HTTP status 404" in r.err

    run([tc, "--fail", "--path", "/missing"] + target(apache, "https")).expect(6)
    run([tc, "--fail", "127.0.0.1", apache.http_port]).expect(0)


def test_redirect_shown_not_followed(apache, run, prog):
    """Redirect /old -> /: shown on stderr; only the one request reaches
    Apache."""
    ua = "Mozilla/lm3nitro 1.0 (redirect)"
    hp, sp = apache.http_port, apache.https_port
    r = run([prog("tcp-client"), "-A", ua, "--path", "/old", "127.0.0.1", hp]).expect(0)
    assert "HTTP/1.1 302 Found\r\n" in r.out
    assert f"Location: http://127.0.0.1:{hp}/\r\n" in r.out
    assert f"redirect to http://127.0.0.1:{hp}/ (not followed" in r.err
    # A followed redirect would have been served before tcp-client exited,
    # so before this later request: once it is logged, the count is final.
    run([prog("tcp-client"), "-A", ua + " (after)", "127.0.0.1", hp]).expect(0)
    apache.log_lines(apache.access_log, ua + " (after)")
    lines = apache.log_lines(apache.access_log, ua)
    assert len(lines) == 1, f"requests with the redirect's User-Agent: {lines}"
    assert '"GET /old HTTP/1.1" 302' in lines[0]

    r = run([prog("tcp-client"), "--tls", "--cafile", apache.ca, "-A", ua, "--body-only",
             "--path", "/old", "--resolve", f"{NAME}:{sp}:127.0.0.1", NAME, sp]).expect(0)
    assert f"redirect to https://{NAME}:{sp}/ (not followed" in r.err
    assert "<title>302 Found</title>" in r.out


def test_pcap_alone_decrypts_an_apache_exchange_without_root(apache, run, prog):
    """A user's own exchange with Apache, captured by tcp-client --pcap
    with no root (dropped to nobody when the suite runs as root) and no
    capture tool, read by tshark with no key file: decrypted."""
    from test_pcapng import assert_clean, fields

    ua = "Mozilla/lm3nitro 1.0 (pcap)"
    where = tempfile.mkdtemp(prefix="secsock-pcap-")  # one nobody can write in
    try:
        os.chmod(where, 0o777)
        ca, cap = os.path.join(where, "ca.crt"), os.path.join(where, "apache.pcapng")
        shutil.copy(apache.ca, ca)
        os.chmod(ca, 0o644)
        cmd = [prog("tcp-client"), "--tls", "--cafile", ca, "-A", ua, "--pcap", cap,
               "localhost", apache.https_port]
        r = run(as_nobody(cmd, reset_env=False)).expect(0)
        assert OK in r.out
        user = pwd.getpwnam("nobody").pw_uid if os.geteuid() == 0 else os.getuid()
        assert os.stat(cap).st_uid == user, "written by the user, not root"
        assert_clean(cap)
        assert fields(cap, "http.request", "http.user_agent") == [[ua]]
        assert fields(cap, "http.response", "http.response.code") == [["200"]]
        assert not fields(cap, f'frame contains "{ua}"', "frame.number")
    finally:
        shutil.rmtree(where, ignore_errors=True)
