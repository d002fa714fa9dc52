#!/usr/bin/env bash
# scripts/bench.sh --quick runs for real against the real peers (nginx,
# openssl s_server/s_time/speed, socat, ncat, Apache2 and curl, hyperfine)
# and writes a well-formed report: the Markdown table and the CSV with every
# expected row, numeric medians, run counts and ratios, the goals with PASS
# or FAIL, the machine named, and a PNG chart. Timings are not checked: a
# benchmark is not a timed test.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need nginx socat ncat curl hyperfine gnuplot python3 openssl ss /usr/sbin/apache2 \
    "$SECSOCK_BIN/tcp-client" "$SECSOCK_BIN/tcp-server" \
    "$SECSOCK_BIN/udp-client" "$SECSOCK_BIN/udp-server"

out="$TEST_TMP/bench"
CAPTURE_TIMEOUT=300 capture bash "$SECSOCK_SRC/scripts/bench.sh" --quick --no-install \
    --bin "$SECSOCK_BIN" --out "$out"
assert_capture 0 "scripts/bench.sh --quick"
for f in report.md report.csv report.png raw.tsv; do
    [[ -s "$out/$f" ]] || fail "bench.sh wrote no $f"
done
assert_eq "89504e470d0a1a0a" "$(head -c 8 "$out/report.png" | od -An -tx1 | tr -d ' \n')" \
    "report.png's PNG signature"
assert_contains "$CAP_OUT" "# secsock benchmarks" "the printed report"
# The programs' stderr is in logs/ (sanitizer builds report there).
for f in "$out"/logs/*; do
    if grep -qE "$_IT_SAN_RE" "$f"; then
        fail "sanitizer report in $f: $(cat "$f")"
    fi
done

# The machine: cores, CPU model, OpenSSL version.
cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"
[[ -n "$cpu" ]] && assert_file_contains "$out/report.md" "Machine: $cpu, $(nproc) cores"
assert_file_contains "$out/report.md" "$(openssl version)"

# Measurement 1 runs tcp-server with --tickets 0 and adds a row for each of
# --tickets 2 and --accept-threads 1 when its --help lists the option.
help="$("$SECSOCK_BIN/tcp-server" --help 2>&1 || true)"
tickets=0 threads=0
grep -qE -- '^ +--tickets ' <<<"$help" && tickets=1
grep -qE -- '^ +--accept-threads ' <<<"$help" && threads=1

python3 - "$out/report.md" "$out/report.csv" "$tickets" "$threads" <<'EOF' || fail "the report is not well-formed (above)"
import csv, re, sys

md_path, csv_path = sys.argv[1:3]
tickets, threads = sys.argv[3] == "1", sys.argv[4] == "1"
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

NUM = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?$")
def num(s):
    return float(s.replace(",", ""))

# Every expected (measurement, program) row; the reference rows of each
# group have no ratio, the others have one.
H, C = "1 TLS 1.3 handshakes (full)", "1 server CPU per handshake"
I = "3 idle TLS connections: 500"
R = I + ", then a request on each"
MAIN = "tcp-server --tls --tickets 0" if tickets else "tcp-server --tls"
hs = [(MAIN, False)]
if tickets:
    hs.append(("tcp-server --tls --tickets 2 (the default)", True))
if threads:
    hs.append((MAIN + " --accept-threads 1", True))
hs += [("nginx, 1 worker", True), ("nginx, 2 workers", True), ("openssl s_server -www", True)]
expected = [(g, p, r) for g in (H, C) for p, r in hs]
expected += [
    ("2 bulk, TLS", "tcp-client --send-file → tcp-server --sink", False),
    ("2 bulk, TLS", "socat OPENSSL → OPENSSL-LISTEN → /dev/null", True),
    ("2 bulk, TLS", "ncat --ssl --send-only → ncat --ssl -l", True),
    ("2 bulk, TLS", "limit: openssl speed aes-128-gcm, 16 KiB, 1 core", True),
    ("2 bulk, plaintext", "tcp-client --send-file → tcp-server --sink", False),
    ("2 bulk, plaintext", "socat TCP → TCP-LISTEN → /dev/null", True),
    ("2 bulk, plaintext", "ncat --send-only → ncat -l", True),
    (I, "tcp-server --tls", False), (I, "nginx, 1 worker", True),
    (I + ", opened at", "tcp-server --tls", False), (I + ", opened at", "nginx, 1 worker", True),
    (R, "tcp-server --tls --http", False), (R, "nginx, 1 worker", True),
    ("4 UDP round trips", "udp-client --count → udp-server --echo", False),
    ("4 UDP round trips", "udp-client --count → socat UDP-LISTEN PIPE", True),
    ("4 DTLS 1.2 round trips", "udp-client --dtls --count → udp-server --dtls --echo", False),
    ("4 DTLS 1.2 round trips", "udp-client --dtls --count → socat OPENSSL-DTLS-SERVER PIPE", True),
    ("5 HTTPS GET from Apache2, whole process", "tcp-client --tls", False),
    ("5 HTTPS GET from Apache2, whole process", "curl", True),
]

# --- Markdown: the main table
lines = open(md_path, encoding="utf-8").read().split("\n")
head = "| measurement | program | median | unit | runs | secsock ÷ this |"
check(head in lines, "no table header " + head)
rows = {}
if head in lines:
    i = lines.index(head)
    check(lines[i + 1] == "|---|---|---:|---|---:|---:|", "bad separator: " + lines[i + 1])
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 6:
            errors.append("not 6 cells: " + line)
            continue
        m, p, median, unit, runs, ratio = cells
        check(NUM.match(median), "median not a number: " + line)
        check(runs.isdigit() and int(runs) >= 1, "runs not a count: " + line)
        check(unit != "", "no unit: " + line)
        check(ratio == "" or NUM.match(ratio), "ratio not a number: " + line)
        rows[(m, p)] = (median, runs, ratio)
# measurement 1 has exactly these rows, in this order (no effect row for an
# option the program lacks, no baseline row without --baseline)
for g in (H, C):
    got = [p for (m, p) in rows if m == g]
    check(got == [p for p, _ in hs], "rows of %s: %s, expected %s" % (g, got, [p for p, _ in hs]))
check(not any("(before:" in p for (m, p) in rows), "a (before: ...) row without --baseline")
for m, p, has_ratio in expected:
    r = rows.get((m, p))
    if r is None:
        errors.append("no row in report.md: %s | %s" % (m, p))
        continue
    check((r[2] != "") == has_ratio, "ratio %s: %s | %s" % ("missing" if has_ratio else "unexpected", m, p))
# several repetitions: at least 2 for everything but the idle holds and speed
for (m, p), (median, runs, ratio) in rows.items():
    if not m.startswith("3 ") and not p.startswith("limit:"):
        check(int(runs) >= 2, "fewer than 2 runs: %s | %s" % (m, p))
# every held connection got its reply
for p in ("tcp-server --tls --http", "nginx, 1 worker"):
    r = rows.get((R, p))
    check(r is not None and num(r[0]) == 500, "not 500 replies after holding: %s %s" % (p, r))
# the bulk stream and the round trips moved something
for key in [k for k in rows if k[0].startswith(("1 ", "2 ", "4 ", "5 "))]:
    check(num(rows[key][0]) > 0, "zero median: %s | %s" % key)

# --- Markdown: the goals
goals = [l for l in lines if l.startswith("| ") and ("**PASS**" in l or "**FAIL**" in l)]
check(len(goals) == 5, "expected 5 goals with PASS/FAIL, got %d: %s" % (len(goals), goals))
# the goals compare the main row with nginx
for g in ("CPU per handshake than nginx", "nginx's handshake rate"):
    check(any(g in l and "(%s)" % MAIN in l for l in goals), "goal without the main row (%s): %s" % (MAIN, g))
for g in ("CPU per handshake than nginx", "nginx's handshake rate", "twice socat's",
          "32 KiB per idle TLS connection at 500", "tcp-client no slower than curl"):
    check(any(g in l for l in goals), "no goal line for: " + g)

# --- CSV
with open(csv_path, newline="", encoding="utf-8") as f:
    table = list(csv.reader(f))
want = ["item", "measurement", "program", "metric", "unit", "better",
        "median", "min", "max", "runs", "compared_with", "ratio"]
check(table and table[0] == want, "CSV header: %s" % (table[0] if table else None))
body = table[1:]
check(len(body) == len(rows), "CSV has %d rows, the Markdown table %d" % (len(body), len(rows)))
seen = set()
for r in body:
    if len(r) != len(want):
        errors.append("CSV row of %d fields: %s" % (len(r), r))
        continue
    d = dict(zip(want, r))
    seen.add((d["measurement"], d["program"]))
    check(d["item"] in "12345" and d["measurement"].startswith(d["item"] + " "), "CSV item: %s" % r)
    check(d["better"] in ("higher", "lower"), "CSV better: %s" % r)
    try:
        lo, med, hi = float(d["min"]), float(d["median"]), float(d["max"])
        check(lo <= med <= hi, "CSV min <= median <= max: %s" % r)
        check(int(d["runs"]) >= 1, "CSV runs: %s" % r)
        check((d["ratio"] == "") == (d["compared_with"] == ""), "CSV ratio without reference: %s" % r)
        if d["ratio"]:
            check(float(d["ratio"]) > 0, "CSV ratio: %s" % r)
    except ValueError:
        errors.append("CSV non-numeric field: %s" % r)
for m, p, _ in expected:
    check((m, p) in seen, "no CSV row: %s | %s" % (m, p))

for e in errors:
    print("report:", e)
sys.exit(1 if errors else 0)
EOF

# --only: just the measurements asked for.
out2="$TEST_TMP/bench-only"
CAPTURE_TIMEOUT=60 capture bash "$SECSOCK_SRC/scripts/bench.sh" --quick --no-install --only 4 \
    --bin "$SECSOCK_BIN" --out "$out2"
assert_capture 0 "scripts/bench.sh --quick --only 4"
assert_file_contains "$out2/report.md" "| 4 DTLS 1.2 round trips |"
assert_not_contains "$(cat "$out2/report.md")" "| 1 TLS 1.3 handshakes" "report.md of --only 4"
assert_eq "4 item" "$(cut -d, -f1 "$out2/report.csv" | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//')" \
    "the items in report.csv of --only 4"

# --baseline REF: REF's programs built apart (here HEAD, into TEST_TMP), a
# "(before: COMMIT)" row after the project's row of each group, compared
# with it.
out3="$TEST_TMP/bench-baseline"
short="$(git -C "$SECSOCK_SRC" rev-parse --short HEAD)"
SECSOCK_BENCH_BUILD="$TEST_TMP/bench-build" CAPTURE_TIMEOUT=280 capture \
    bash "$SECSOCK_SRC/scripts/bench.sh" --quick --no-install --only 4 --baseline HEAD \
    --bin "$SECSOCK_BIN" --out "$out3"
assert_capture 0 "scripts/bench.sh --quick --only 4 --baseline HEAD"
[[ -x "$TEST_TMP/bench-build/baseline-$short/build/bin/udp-server" ]] ||
    fail "no baseline build in $TEST_TMP/bench-build/baseline-$short"
python3 - "$out3/report.md" "$out3/report.csv" "$short" <<'EOF' || fail "the --baseline report is not as expected (above)"
import csv, re, sys
md_path, csv_path, short = sys.argv[1:4]
errors = []
B = " (before: %s)" % short
groups = {}
for line in open(md_path, encoding="utf-8"):
    if line.startswith("| 4 "):
        m, p, median, unit, runs, ratio = [c.strip() for c in line.strip().strip("|").split("|")]
        groups.setdefault(m, []).append((p, ratio))
if len(groups) != 4:
    errors.append("expected the 4 groups of measurement 4, got %s" % list(groups))
for m, ps in groups.items():
    main = ps[0][0]
    if len(ps) < 2 or ps[1][0] != main + B:
        errors.append("%s: no row %r right after %r: %s" % (m, main + B, main, ps))
    elif not re.match(r"^[0-9]+\.[0-9]+$", ps[1][1]):
        errors.append("%s: the baseline row has no ratio: %s" % (m, ps[1]))
with open(csv_path, newline="", encoding="utf-8") as f:
    before = [r for r in csv.DictReader(f) if r["program"].endswith(B)]
if len(before) != 4 or any(r["compared_with"] not in ("udp.udp-server", "udp.udp-server-dtls")
                           or not r["ratio"] for r in before):
    errors.append("CSV baseline rows: %s" % before)
if "- (before: %s): the programs of commit %s" % (short, short) not in open(md_path, encoding="utf-8").read():
    errors.append("no note on the baseline in report.md")
for e in errors:
    print("baseline report:", e)
sys.exit(1 if errors else 0)
EOF

# Bad arguments: usage errors.
capture bash "$SECSOCK_SRC/scripts/bench.sh" --only 6
assert_capture 2 "bench.sh --only 6"
capture bash "$SECSOCK_SRC/scripts/bench.sh" --frobnicate
assert_capture 2 "bench.sh --frobnicate"
assert_contains "$CAP_ERR" "unknown argument" "bench.sh --frobnicate stderr"
capture bash "$SECSOCK_SRC/scripts/bench.sh" --baseline
assert_capture 2 "bench.sh --baseline (no commit)"
capture bash "$SECSOCK_SRC/scripts/bench.sh" --baseline no-such-commit-3f9a
assert_capture 2 "bench.sh --baseline no-such-commit-3f9a"
assert_contains "$CAP_ERR" "no such commit" "bench.sh --baseline no-such-commit-3f9a stderr"
