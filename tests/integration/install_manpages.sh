#!/usr/bin/env bash
# The man pages (man/*.1, man/*.3) never disagree with the code:
#  - for each program, the options in `PROG --help` and in the OPTIONS section
#    of man/PROG.1 are the same set, with the same short letter and argument
#    name; the exit codes listed by --help and under EXIT STATUS are the same;
#    the version in the page's .TH line is `PROG --version`'s;
#  - secsock(3) lists in its SYNOPSIS exactly the functions the public headers
#    declare (gcc -aux-info), and describes each one outside the SYNOPSIS too;
#  - every page formats without a warning (man --warnings).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need python3 gcc man
PROGS=(tcp-client tcp-server udp-client udp-server)
for p in "${PROGS[@]}"; do
    need "$SECSOCK_BIN/$p"
done
MAN="$SECSOCK_SRC/man"

# The parser of both sides. Prints one line per option, "--long -s ARG" (-
# for no short option or no argument), then "exit N" per exit code, then
# "version V". Fails on an OPTIONS entry it cannot read.
cat >"$TEST_TMP/opts.py" <<'EOF'
import re, sys

# "  -t, --timeout SECONDS   text", "      --tls   text", the man tag likewise.
OPT = re.compile(r"^\s*(?:-([A-Za-z0-9]), )?--([A-Za-z0-9][A-Za-z0-9-]*)"
                 r"(?: ('[^']*'|[^\s']+))?(?:\s|$)")

def out(opts, codes, version):
    for long, (short, arg) in sorted(opts.items()):
        print(f"--{long} {short or '-'} {arg or '-'}")
    for c in sorted(codes, key=int):
        print(f"exit {c}")
    print(f"version {version}")

def parse_help(text, version_text):
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
                sys.exit(f"--help: cannot read the option line: {line!r}")
            if m.group(2) in opts:
                sys.exit(f"--help: --{m.group(2)} listed twice")
            opts[m.group(2)] = (m.group(1), m.group(3))
        elif where == "Exit codes:":
            m = re.match(r"^\s+(\d+)\s", line)
            if not m:
                sys.exit(f"--help: cannot read the exit code line: {line!r}")
            codes.append(m.group(1))
    version = version_text.split()[-1] if version_text.split() else "?"
    out(opts, codes, version)

def plain(roff):
    """A roff line as text: font escapes dropped, \\- and friends resolved."""
    s = re.sub(r"\\f[BIRP]", "", roff)
    s = s.replace(r"\(aq", "'").replace(r"\-", "-").replace(r"\e", "\\").replace(r"\&", "")
    return s

def parse_man(path):
    lines = open(path, encoding="utf-8").read().splitlines()
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
                sys.exit(f"{path}:{i + 2}: cannot read the option tag: {tag!r}")
            if m.group(2) in opts:
                sys.exit(f"{path}:{i + 2}: --{m.group(2)} documented twice")
            opts[m.group(2)] = (m.group(1), m.group(3))
        elif section == "EXIT STATUS":
            m = re.match(r"^\.B (\d+)$", tag)
            if not m:
                sys.exit(f"{path}:{i + 2}: cannot read the exit status tag: {tag!r}")
            codes.append(m.group(1))
    if not opts:
        sys.exit(f"{path}: no OPTIONS entries found")
    out(opts, codes, version)

if sys.argv[1] == "help":
    parse_help(open(sys.argv[2]).read(), open(sys.argv[3]).read())
else:
    parse_man(sys.argv[2])
EOF

case_options_match() {
    local p="$1" page="$MAN/$1.1"
    [[ -f "$page" ]] || fail "no man page $page"
    capture "$SECSOCK_BIN/$p" --help
    assert_capture 0 "$p --help"
    printf '%s' "$CAP_OUT" >"$TEST_TMP/$p.help"
    capture "$SECSOCK_BIN/$p" --version
    assert_capture 0 "$p --version"
    printf '%s' "$CAP_OUT" >"$TEST_TMP/$p.version"
    python3 "$TEST_TMP/opts.py" help "$TEST_TMP/$p.help" "$TEST_TMP/$p.version" \
        >"$TEST_TMP/$p.from-help" || fail "cannot parse $p --help"
    python3 "$TEST_TMP/opts.py" man "$page" >"$TEST_TMP/$p.from-man" ||
        fail "cannot parse $page"
    local n
    n="$(grep -c '^--' "$TEST_TMP/$p.from-help" || true)"
    ((n >= 10)) || fail "$p --help: only $n options parsed: $(cat "$TEST_TMP/$p.help")"
    # Each side's view, then what differs (- only in --help, + only in the page).
    if ! diff -u --label "$p --help" --label "man/$p.1" \
        "$TEST_TMP/$p.from-help" "$TEST_TMP/$p.from-man" >"$TEST_TMP/$p.diff"; then
        fail "$p --help and man/$p.1 disagree (- --help only, + man page only):
$(grep -E '^[-+][^-+]|^[-+]--[a-z]' "$TEST_TMP/$p.diff")"
    fi
}

# secsock(3): SYNOPSIS = the functions the public headers declare.
case_api_page() {
    local page="$MAN/secsock.3" f undescribed=""
    [[ -f "$page" ]] || fail "no man page $page"
    printf '#include <secsock/transport.h>\n' >"$TEST_TMP/all.c"
    gcc -std=c11 -fsyntax-only -I"$SECSOCK_SRC/include" -aux-info "$TEST_TMP/aux.txt" \
        "$TEST_TMP/all.c" || fail "the public headers do not compile"
    grep -F "$SECSOCK_SRC/include/secsock/" "$TEST_TMP/aux.txt" |
        sed -E 's/^.*\*\/ *//; s/ \(.*//; s/.*[ *]//' | sort -u >"$TEST_TMP/declared"
    (($(wc -l <"$TEST_TMP/declared") >= 30)) ||
        fail "too few functions found in the headers: $(cat "$TEST_TMP/declared")"
    sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$page" |
        grep -oE '\bsecsock_[a-z0-9_]+\(' | tr -d '(' | sort -u >"$TEST_TMP/synopsis"
    if ! diff -u --label headers --label "secsock.3 SYNOPSIS" \
        "$TEST_TMP/declared" "$TEST_TMP/synopsis" >"$TEST_TMP/api.diff"; then
        fail "secsock.3's SYNOPSIS and the public headers disagree (- headers only, + page only):
$(grep -E '^[-+]secsock' "$TEST_TMP/api.diff")"
    fi
    # Each function is also described, not only listed.
    sed '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/d' "$page" >"$TEST_TMP/body"
    while read -r f; do
        grep -qE "(^|[^a-z0-9_])${f}([^a-z0-9_]|$)" "$TEST_TMP/body" || undescribed+=" $f"
    done <"$TEST_TMP/declared"
    [[ -z "$undescribed" ]] || fail "secsock.3 lists but never describes:$undescribed"
}

case_pages_format() {
    local page warn n=0
    for page in "$MAN"/*.[13]; do
        n=$((n + 1))
        warn="$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)" ||
            fail "man -l $page failed: $warn"
        [[ -z "$warn" ]] || fail "man --warnings -l $page: $warn"
    done
    assert_eq 5 "$n" "number of man pages in man/"
}

for p in "${PROGS[@]}"; do
    run_case "$p --help = man/$p.1" case_options_match "$p"
done
run_case "secsock.3 = public headers" case_api_page
run_case "pages format without warnings" case_pages_format
finish_cases
