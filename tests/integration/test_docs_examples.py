"""docs/verbose.md's sessions are what the programs print today.

Each block of the page that follows a `<!-- docs-check: NAME -->` comment
was made by running its `$ ` command; here the same command runs again,
against a fresh server made the way the page says (scripts/gen-certs.sh's
certificates, tcp-server --tls --http), and the lines that are the
program's own (`* `, `> `, `< `, `[*]`, `  |`, `tcp-client: `, --trace's
headers) must be the page's, up to what differs from run to run: numbers
(ports, sizes, times), time stamps, fingerprints, pins, JA3/JA4. Order is
not compared: a NewSessionTicket may come before or after the request.
"""

import os
import re
import shlex
import subprocess

import pytest

from harness.system import SRC, need

PAGE = os.path.join(SRC, "docs", "verbose.md")
DOC_PORT = "9999"  # the page's port: tcp-server's default
OWN_LINE = re.compile(r"^(\* |>|<|\[\*\]|  \||tcp-client: )")
TRACE_HEADER = re.compile(r"^\S+Z \S+ (==|=>|<=) ")
VARYING = [
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z"), "TIME"),
    (re.compile(r"sha256:[0-9A-F]{2}(:[0-9A-F]{2}){31}"), "sha256:FINGERPRINT"),
    (re.compile(r"sha256//[A-Za-z0-9+/]+=*"), "sha256//PIN"),
    (re.compile(r"JA4 \S+  JA3 \S+"), "JA4 -  JA3 -"),
    (re.compile(r"0x[0-9a-f]+"), "0x0"),
    (re.compile(r"\d+"), "0"),
]


def normal(line):
    for pattern, stand_in in VARYING:
        line = pattern.sub(stand_in, line)
    return line.rstrip()


def page_blocks():
    """{NAME: (the block's first `$ ` command, its other lines)}."""
    with open(PAGE, encoding="utf-8") as f:
        text = f.read()
    blocks = {}
    for m in re.finditer(r"<!-- docs-check: (\S+) -->\s*```\w*\n(.*?)```", text, re.S):
        lines = m.group(2).splitlines()
        commands = [x[2:] for x in lines if x.startswith("$ ")]
        blocks[m.group(1)] = (commands[0] if commands else None,
                              [x for x in lines if not x.startswith("$ ")])
    return blocks


@pytest.fixture(scope="module")
def page():
    return page_blocks()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """The page's certificates: scripts/gen-certs.sh, as the README runs it."""
    d = tmp_path_factory.mktemp("docs") / "certs"
    subprocess.run(["bash", os.path.join(SRC, "scripts", "gen-certs.sh"), "--dir", str(d)],
                   check=True, capture_output=True)
    return str(d)


def as_here(command, bin_dir, certs, port):
    """The page's command, run here: our build, our certificates, our port."""
    words = shlex.split(command.replace("certs/", certs + "/").replace(DOC_PORT, str(port)),
                        comments=True)
    return [os.path.join(bin_dir, words[0])] + words[1:]


def own_lines(text, pattern=OWN_LINE):
    return {normal(x) for x in text.splitlines() if pattern.match(x)}


def test_the_page_has_every_checked_block(page):
    assert set(page) == {"client-ok", "client-unknown-ca", "server-v", "trace"}, sorted(page)


@pytest.mark.parametrize("name,status", [("client-ok", 0), ("client-unknown-ca", 4)])
def test_client_sessions_match_the_page(page, server, run, bin_dir, certs, name, status):
    srv = server("tcp-server", "--tls", "--http", "--cert", f"{certs}/server.crt",
                 "--key", f"{certs}/server.key")
    command, shown = page[name]
    r = run(as_here(command, bin_dir, certs, srv.port))
    r.expect(status)
    want = own_lines("\n".join(shown))
    assert want, f"{name}: no lines of the program's own on the page"
    got = own_lines(r.err + r.out)
    assert sorted(want - got) == [] and sorted(got - want) == [], (
        f"{name}: the page shows lines -v no longer prints (first list), or -v prints lines "
        f"the page lacks (second): {sorted(want - got)} {sorted(got - want)}")


def test_server_log_matches_the_page(page, server, run, certs):
    need("curl")
    command, shown = page["server-v"]
    srv = server("tcp-server", "--tls", "--http", "-v", "--cert", f"{certs}/server.crt",
                 "--key", f"{certs}/server.key")
    words = shlex.split(command.replace("certs/", certs + "/").replace(DOC_PORT, str(srv.port)),
                        comments=True)
    assert words[0] == "curl", command
    run(words).expect(0)
    srv.wait_for("close_notify")
    want = own_lines("\n".join(shown))
    got = own_lines(srv.out())
    # The page starts at the client's first line; "Listening" is not on it.
    got = {x for x in got if "Listening on" not in x}
    assert sorted(want - got) == [] and sorted(got - want) == [], (
        f"server -v: {sorted(want - got)} {sorted(got - want)}")


def test_trace_excerpt_matches_a_trace(page, server, run, bin_dir, certs, tmp_path):
    srv = server("tcp-server", "--tls", "--http", "--cert", f"{certs}/server.crt",
                 "--key", f"{certs}/server.key")
    command, shown = page["trace"]
    words = as_here(command, bin_dir, certs, srv.port)
    out = tmp_path / "t.txt"
    words = [str(out) if w == "t.txt" else w for w in words]
    run(words).expect(0)
    want = own_lines("\n".join(shown), TRACE_HEADER)
    assert len(want) >= 4, f"too few --trace headers on the page: {want}"
    got = own_lines(out.read_text(), TRACE_HEADER)
    assert sorted(want - got) == [], f"headers --trace no longer writes: {sorted(want - got)}"
    # Its hex lines are hex dumps with the text beside them.
    hex_lines = [x for x in shown if re.match(r"^[0-9a-f]{4}: ", x)]
    assert hex_lines and all(re.match(r"^[0-9a-f]{4}: ([0-9a-f]{2} ){1,16} +\S", x)
                             for x in hex_lines), hex_lines
