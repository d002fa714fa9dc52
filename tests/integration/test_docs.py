"""The documentation says what the programs do, and every link leads
somewhere:
 - for each program, every long option its --help prints is in its man
   page's OPTIONS and in the README's option table for that program, and
   the README's table names no option the program does not have
   (test_install_manpages compares --help and the man pages in full);
 - every relative link in README.md, docs/*.md and the other READMEs of
   the repository points to a file inside the repository, and a #fragment
   to a heading of that file;
 - the README stays for users: at most 300 lines."""

import glob
import os
import re

import pytest

from harness.system import SRC

PROGS = ["tcp-client", "tcp-server", "udp-client", "udp-server"]
README = os.path.join(SRC, "README.md")
README_MAX_LINES = 300

# "  -t, --timeout SECONDS   text" or "      --tls   text" in --help's Options.
HELP_OPT = re.compile(r"^\s*(?:-[A-Za-z0-9], )?--([a-z0-9][a-z0-9-]*)")
LONG_OPT = re.compile(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)")
# [text](target) and ![alt](target); the target ends at a space or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def help_options(text):
    """The long options in the Options section of a --help text."""
    opts, inside = [], False
    for line in text.splitlines():
        if line == "Options:":
            inside = True
        elif not line.strip():
            inside = False
        elif inside:
            m = HELP_OPT.match(line)
            assert m, f"--help: cannot read the option line: {line!r}"
            opts.append(m.group(1))
    return set(opts)


def man_options(path):
    """The long options of the tags (the line after .TP) in a man page's
    OPTIONS section."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    opts, section = set(), None
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            section = line[4:].strip().strip('"')
        elif section == "OPTIONS" and line.strip() == ".TP" and i + 1 < len(lines):
            tag = re.sub(r"\\f[BIRP]", "", lines[i + 1]).replace("\\-", "-")
            opts.update(LONG_OPT.findall(tag))
    return opts


def readme_table(text, program):
    """The long options in the first column of the first "| option |"
    table of the README's "## PROGRAM" section; None when there is none."""
    section = re.search(rf"^## {re.escape(program)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not section:
        return None
    rows = []
    for line in section.group(1).splitlines():
        if line.startswith("| option |"):
            rows = [line]
        elif rows and line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    if not rows:
        return None
    opts = set()
    for row in rows[2:]:  # the header and the |---| line
        first = re.split(r"(?<!\\)\|", row)[1]
        opts.update(LONG_OPT.findall(first))
    return opts


def slug(heading):
    """A heading's anchor as GitHub makes it."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"^```.*?^```", "", f.read(), flags=re.M | re.S)
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}


def broken_links(path, root):
    """The relative links of the Markdown file path that lead to no file
    under root, or to no heading of the file they name, each with why."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"^```.*?^```", "", f.read(), flags=re.M | re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto: ...: not a file of ours
        file_part, _, fragment = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part \
            else path
        where = f"{os.path.relpath(path, root)}: ({target})"
        if os.path.commonpath([os.path.abspath(root), os.path.abspath(dest)]) != \
                os.path.abspath(root):
            broken.append(f"{where} leaves the repository")
        elif not os.path.exists(dest):
            broken.append(f"{where} names no file")
        elif fragment and dest.endswith(".md") and fragment not in anchors(dest):
            broken.append(f"{where} names no heading of {os.path.relpath(dest, root)}")
    return broken


def markdown_files():
    """README.md, docs/*.md and every other README.md the repository holds
    (build trees left out)."""
    files = {README} | set(glob.glob(os.path.join(SRC, "docs", "*.md")))
    for d in ("certs", "examples", "tests", "scripts", "man"):
        files |= set(glob.glob(os.path.join(SRC, d, "**", "README.md"), recursive=True))
    return sorted(files)


@pytest.fixture(scope="module")
def readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("program", PROGS)
def test_help_options_are_in_man_page_and_readme(run, prog, readme, program):
    helped = help_options(run([prog(program), "--help"]).expect(0).out)
    assert len(helped) >= 10, f"{program} --help: only {sorted(helped)} read"
    in_man = man_options(os.path.join(SRC, "man", f"{program}.1"))
    missing = sorted(helped - in_man)
    assert missing == [], f"in {program} --help but not in man/{program}.1: {missing}"
    table = readme_table(readme, program)
    assert table is not None, f"README.md has no '## {program}' section with an option table"
    missing = sorted(helped - table)
    assert missing == [], f"in {program} --help but not in the README's {program} table: {missing}"
    extra = sorted(table - helped)
    assert extra == [], f"in the README's {program} table but not in {program} --help: {extra}"


def test_links_lead_to_files_and_headings():
    files = markdown_files()
    assert README in files and len(files) >= 5, f"Markdown files found: {files}"
    broken = [b for path in files for b in broken_links(path, SRC)]
    assert broken == [], "broken links:\n" + "\n".join(broken)


def test_readme_is_short(readme):
    n = len(readme.splitlines())
    assert n <= README_MAX_LINES, \
        f"README.md has {n} lines (at most {README_MAX_LINES}): move detail into docs/"


def test_checkers_find_what_is_wrong(tmp_path):
    """The readers themselves: a missing option, an extra one, a missing
    file, a missing heading and a link out of the tree are all found."""
    text = ("# x\n\n## tcp-client\n\n| option | meaning |\n|---|---|\n"
            "| `-t`, `--timeout S` | a `--not-this` mention |\n| `--a\\|b`, `--tls` | x |\n\n"
            "after\n\n## tcp-server\n\nno table\n")
    assert readme_table(text, "tcp-client") == {"timeout", "a", "tls"}
    assert readme_table(text, "tcp-server") is None
    assert readme_table(text, "udp-client") is None
    assert help_options("Usage: x\n\nOptions:\n  -t, --timeout S  t\n      --tls  x\n\n"
                        "Exit codes:\n  0  ok\n") == {"timeout", "tls"}
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A title\n\n## Some part (x, y)\n")
    page = tmp_path / "README.md"
    page.write_text("[ok](docs/a.md) [ok](docs/a.md#some-part-x-y) [ok](#top-one) "
                    "![img](docs/gone.png) [bad](docs/a.md#nowhere) [out](../outside.md) "
                    "[web](https://example.org/x)\n\n# Top one\n\n```\n[in code](none.md)\n```\n")
    broken = broken_links(str(page), str(tmp_path))
    assert [b.split(": ", 1)[1] for b in broken] == [
        "(docs/gone.png) names no file",
        "(docs/a.md#nowhere) names no heading of docs/a.md",
        "(../outside.md) leaves the repository",
    ], broken
