"""The man pages (man/*.1, man/*.3) never disagree with the code:
 - for each program, the options in `PROG --help` and in the OPTIONS
   section of man/PROG.1 are the same set, with the same short letter and
   argument name; the exit codes listed by --help and under EXIT STATUS are
   the same; the version in the page's .TH line is `PROG --version`'s;
 - secsock(3) lists in its SYNOPSIS exactly the functions the public
   headers declare (gcc -aux-info), and describes each one outside the
   SYNOPSIS too;
 - every page formats without a warning (man --warnings)."""

import difflib
import glob
import os
import re

import pytest

from harness.system import SRC, need
from public_api import declared_functions, man_warnings

PROGS = ["tcp-client", "tcp-server", "udp-client", "udp-server"]
MAN = os.path.join(SRC, "man")

# "  -t, --timeout SECONDS   text", "      --tls   text", the man tag likewise.
OPT = re.compile(r"^\s*(?:-([A-Za-z0-9]), )?--([A-Za-z0-9][A-Za-z0-9-]*)"
                 r"(?: ('[^']*'|[^\s']+))?(?:\s|$)")


def summary(opts, codes, version):
    """Both sides in one comparable form: a line per option, "--long -s
    ARG" (- for no short option or no argument), then "exit N" per exit
    code, then "version V"."""
    lines = [f"--{long} {short or '-'} {arg or '-'}" for long, (short, arg) in sorted(opts.items())]
    lines += [f"exit {c}" for c in sorted(codes, key=int)]
    lines.append(f"version {version}")
    return lines


def parse_help(text, version_text):
    """The summary of a program's --help and --version output."""
    opts, codes, where = {}, [], None
    for line in text.splitlines():
        if line in ("Options:", "Exit codes:"):
            where = line
            continue
        if not line.strip():
            where = None
            continue
        if where == "Options:":
            m = OPT.match(line)
            if not m:
                pytest.fail(f"--help: cannot read the option line: {line!r}")
            if m.group(2) in opts:
                pytest.fail(f"--help: --{m.group(2)} listed twice")
            opts[m.group(2)] = (m.group(1), m.group(3))
        elif where == "Exit codes:":
            m = re.match(r"^\s+(\d+)\s", line)
            if not m:
                pytest.fail(f"--help: cannot read the exit code line: {line!r}")
            codes.append(m.group(1))
    # "PROG VERSION" is --version's first line; the OpenSSL lines follow.
    first = version_text.splitlines()[0].split() if version_text.strip() else []
    version = first[-1] if first else "?"
    return summary(opts, codes, version)


def plain(roff):
    """A roff line as text: font escapes dropped, \\- and friends resolved."""
    s = re.sub(r"\\f[BIRP]", "", roff)
    return s.replace(r"\(aq", "'").replace(r"\-", "-").replace(r"\e", "\\").replace(r"\&", "")


def parse_man(path):
    """The summary of a man page: its OPTIONS and EXIT STATUS entries (.TP
    tags) and the version in its .TH line."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    opts, codes, version, section = {}, [], "?", None
    for i, line in enumerate(lines):
        if line.startswith(".TH "):
            # .TH NAME SECTION DATE "secsock VERSION" ...
            m = re.search(r'"secsock ([^"]+)"', line)
            version = m.group(1) if m else "?"
        if line.startswith(".SH "):
            section = line[4:].strip().strip('"')
            continue
        if line.strip() != ".TP" or i + 1 >= len(lines):
            continue
        tag = lines[i + 1]
        if section == "OPTIONS":
            m = OPT.match(plain(tag))
            if not m or not tag.startswith("\\fB\\-"):
                pytest.fail(f"{path}:{i + 2}: cannot read the option tag: {tag!r}")
            if m.group(2) in opts:
                pytest.fail(f"{path}:{i + 2}: --{m.group(2)} documented twice")
            opts[m.group(2)] = (m.group(1), m.group(3))
        elif section == "EXIT STATUS":
            m = re.match(r"^\.B (\d+)$", tag)
            if not m:
                pytest.fail(f"{path}:{i + 2}: cannot read the exit status tag: {tag!r}")
            codes.append(m.group(1))
    if not opts:
        pytest.fail(f"{path}: no OPTIONS entries found")
    return summary(opts, codes, version)


def test_parsers_read_both_sides_alike(tmp_path):
    """The parsers themselves: the same options, codes and version written
    as --help and as a man page give the same summary."""
    help_text = ("Usage: x\n\nOptions:\n  -t, --timeout SECONDS   bound\n"
                 "      --tls                   TLS\n      --alpn 'a,b'   list\n\n"
                 "Exit codes:\n  0  ok\n  4  verify\n")
    page = tmp_path / "x.1"
    page.write_text('.TH X 1 2026 "secsock 1.2.3"\n.SH OPTIONS\n.TP\n'
                    "\\fB\\-t\\fR, \\fB\\-\\-timeout\\fR \\fISECONDS\\fR\nbound\n"
                    ".TP\n\\fB\\-\\-tls\\fR\nTLS\n.TP\n\\fB\\-\\-alpn\\fR \\fI'a,b'\\fR\nlist\n"
                    ".SH EXIT STATUS\n.TP\n.B 4\nverify\n.TP\n.B 0\nok\n")
    expected = ["--alpn - 'a,b'", "--timeout t SECONDS", "--tls - -", "exit 0", "exit 4",
                "version 1.2.3"]
    assert parse_help(help_text, "x 1.2.3\n") == expected
    assert parse_man(str(page)) == expected


@pytest.mark.parametrize("program", PROGS)
def test_help_matches_man_page(run, prog, program):
    page = os.path.join(MAN, f"{program}.1")
    assert os.path.isfile(page), f"no man page {page}"
    helped = run([prog(program), "--help"]).expect(0)
    version = run([prog(program), "--version"]).expect(0)
    from_help = parse_help(helped.out, version.out)
    from_man = parse_man(page)
    n = sum(1 for line in from_help if line.startswith("--"))
    assert n >= 10, f"{program} --help: only {n} options parsed: {helped.out}"
    # What differs: - only in --help, + only in the page.
    diff = [line for line in difflib.unified_diff(from_help, from_man, f"{program} --help",
                                                  f"man/{program}.1", lineterm="")
            if re.match(r"^[-+][^-+]|^[-+]--[a-z]", line)]
    if from_help != from_man:
        pytest.fail(f"{program} --help and man/{program}.1 disagree (- --help only, + man page "
                    "only):\n" + "\n".join(diff), pytrace=False)


def test_api_page_lists_and_describes_the_public_functions(tmp_path):
    """secsock(3): SYNOPSIS = the functions the public headers declare,
    and each is described outside the SYNOPSIS too."""
    need("gcc")
    page = os.path.join(MAN, "secsock.3")
    assert os.path.isfile(page), f"no man page {page}"
    declared = declared_functions(os.path.join(SRC, "include"), str(tmp_path))
    assert len(declared) >= 30, f"too few functions found in the headers: {declared}"
    with open(page, encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(".SH SYNOPSIS"))
    end = next(i for i, line in enumerate(lines) if i > start and
               line.startswith(".SH DESCRIPTION"))
    synopsis = sorted(set(re.findall(r"\bsecsock_[a-z0-9_]+(?=\()",
                                     "\n".join(lines[start:end + 1]))))
    diff = [line for line in difflib.unified_diff(declared, synopsis, "headers",
                                                  "secsock.3 SYNOPSIS", lineterm="")
            if line.startswith(("-secsock", "+secsock"))]
    if declared != synopsis:
        pytest.fail("secsock.3's SYNOPSIS and the public headers disagree (- headers only, "
                    "+ page only):\n" + "\n".join(diff), pytrace=False)
    # Each function is also described, not only listed.
    body = "\n".join(lines[:start] + lines[end + 1:])
    undescribed = [f for f in declared
                   if not re.search(rf"(^|[^a-z0-9_]){f}([^a-z0-9_]|$)", body, re.M)]
    assert undescribed == [], f"secsock.3 lists but never describes: {' '.join(undescribed)}"


PAGES = sorted(glob.glob(os.path.join(MAN, "*.[13]")))


def test_five_man_pages():
    assert len(PAGES) == 5, f"man pages in man/: {PAGES}"


@pytest.mark.parametrize("page", PAGES, ids=os.path.basename)
def test_page_formats_without_warnings(page):
    need("man")
    warnings = man_warnings(page)
    assert warnings == "", f"man --warnings -l {page}: {warnings}"
