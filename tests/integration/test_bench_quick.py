"""scripts/bench.sh --quick runs for real against the real peers (nginx,
openssl s_server/s_time/speed, socat, ncat, Apache2 and curl, hyperfine)
and writes a well-formed report: the Markdown table and the CSV with every
expected row, numeric medians, run counts and ratios, the goals with PASS
or FAIL, the machine named, and a PNG chart. Timings are not checked: a
benchmark is not a timed test. Its options: test_bench_options.py.
"""

import csv
import glob
import os
from types import SimpleNamespace

import pytest

from harness.bench import (CPU, CSV_HEADER, HANDSHAKES, IDLE, PEERS, QUICK_TIMEOUT,
                           REQUESTS, bench, help_lists, num, table_rows)
from harness.procs import SANITIZER_RE
from harness.system import need


@pytest.fixture(scope="module")
def quick(bin_dir, run, tmp_path_factory):
    """One bench.sh --quick run (about 5 minutes here), read by the tests."""
    need(*PEERS)
    out = str(tmp_path_factory.mktemp("bench") / "report")
    r = bench(run, bin_dir, out, timeout=QUICK_TIMEOUT)
    r.expect(0, "scripts/bench.sh --quick")
    with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
        md = f.read()
    # Measurement 1 runs tcp-server with --tickets 0 and adds a row for each
    # of --tickets 2 and --accept-threads 1 when its --help lists the option.
    server = os.path.join(bin_dir, "tcp-server")
    tickets = help_lists(server, "--tickets")
    threads = help_lists(server, "--accept-threads")
    main = "tcp-server --tls --tickets 0" if tickets else "tcp-server --tls"
    hs = [(main, False)]
    if tickets:
        hs.append(("tcp-server --tls --tickets 2 (the default)", True))
    if threads:
        hs.append((main + " --accept-threads 1", True))
    hs += [("nginx, 1 worker", True), ("nginx, 2 workers", True),
           ("openssl s_server -www", True)]
    # Every expected (measurement, program, has a ratio): the reference row
    # of each group has none.
    expected = [(g, p, ratio) for g in (HANDSHAKES, CPU) for p, ratio in hs]
    expected += [
        ("2 bulk, TLS", "tcp-client --send-file → tcp-server --sink", False),
        ("2 bulk, TLS", "socat OPENSSL → OPENSSL-LISTEN → /dev/null", True),
        ("2 bulk, TLS", "ncat --ssl --send-only → ncat --ssl -l", True),
        ("2 bulk, TLS", "limit: openssl speed aes-128-gcm, 16 KiB, 1 core", True),
        ("2 bulk, plaintext", "tcp-client --send-file → tcp-server --sink", False),
        ("2 bulk, plaintext", "socat TCP → TCP-LISTEN → /dev/null", True),
        ("2 bulk, plaintext", "ncat --send-only → ncat -l", True),
        (IDLE, "tcp-server --tls", False), (IDLE, "nginx, 1 worker", True),
        (IDLE + ", opened at", "tcp-server --tls", False),
        (IDLE + ", opened at", "nginx, 1 worker", True),
        (REQUESTS, "tcp-server --tls --http", False), (REQUESTS, "nginx, 1 worker", True),
        ("4 UDP round trips", "udp-client --count → udp-server --echo", False),
        ("4 UDP round trips", "udp-client --count → socat UDP-LISTEN PIPE", True),
        ("4 DTLS 1.2 round trips", "udp-client --dtls --count → udp-server --dtls --echo",
         False),
        ("4 DTLS 1.2 round trips",
         "udp-client --dtls --count → socat OPENSSL-DTLS-SERVER PIPE", True),
        ("5 HTTPS GET from Apache2, whole process", "tcp-client --tls", False),
        ("5 HTTPS GET from Apache2, whole process", "curl", True),
    ]
    return SimpleNamespace(out=out, result=r, md=md, md_lines=md.split("\n"), main=main,
                           handshake_rows=[p for p, _ in hs], expected=expected)


@pytest.mark.slow
def test_quick_writes_every_file(quick):
    for name in ("report.md", "report.csv", "report.png", "raw.tsv"):
        path = os.path.join(quick.out, name)
        assert os.path.exists(path) and os.path.getsize(path) > 0, f"bench.sh wrote no {name}"
    with open(os.path.join(quick.out, "report.png"), "rb") as f:
        assert f.read(8).hex() == "89504e470d0a1a0a", "report.png's PNG signature"
    assert "# secsock benchmarks" in quick.result.out


@pytest.mark.slow
def test_quick_programs_made_no_sanitizer_report(quick):
    # The programs' stderr is in logs/ (sanitizer builds report there).
    for path in glob.glob(os.path.join(quick.out, "logs", "*")):
        with open(path, errors="replace") as f:
            text = f.read()
        assert not SANITIZER_RE.search(text), f"sanitizer report in {path}:\n{text}"


@pytest.mark.slow
def test_quick_names_the_machine(quick, run):
    """Cores, CPU model, OpenSSL version."""
    with open("/proc/cpuinfo") as f:
        models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    if models and models[0]:
        # The CPUs this process may use, as nproc counts them.
        cores = len(os.sched_getaffinity(0))
        assert f"Machine: {models[0]}, {cores} cores" in quick.md
    assert run(["openssl", "version"]).expect(0).out.strip() in quick.md


@pytest.mark.slow
def test_quick_table_has_every_row(quick):
    rows = table_rows(quick.md_lines)
    # Measurement 1 has exactly these rows, in this order (no effect row for
    # an option the program lacks, no baseline row without --baseline).
    for g in (HANDSHAKES, CPU):
        assert [p for (m, p) in rows if m == g] == quick.handshake_rows, f"rows of {g}"
    assert not any("(before:" in p for (m, p) in rows), "a (before: ...) row without --baseline"
    for m, p, has_ratio in quick.expected:
        assert (m, p) in rows, f"no row in report.md: {m} | {p}"
        assert (rows[(m, p)][2] != "") == has_ratio, \
            f"ratio {'missing' if has_ratio else 'unexpected'}: {m} | {p}"
    # Several repetitions: at least 2 for everything but the idle holds and
    # openssl speed.
    for (m, p), (median, runs, ratio) in rows.items():
        if not m.startswith("3 ") and not p.startswith("limit:"):
            assert int(runs) >= 2, f"fewer than 2 runs: {m} | {p}"
    # Every held connection got its reply.
    for p in ("tcp-server --tls --http", "nginx, 1 worker"):
        r = rows.get((REQUESTS, p))
        assert r is not None and num(r[0]) == 500, f"not 500 replies after holding: {p} {r}"
    # The handshakes, the bulk streams, the round trips and the GETs
    # measured something.
    for (m, p), r in rows.items():
        if m.startswith(("1 ", "2 ", "4 ", "5 ")):
            assert num(r[0]) > 0, f"zero median: {m} | {p}"


@pytest.mark.slow
def test_quick_goals(quick):
    goals = [line for line in quick.md_lines
             if line.startswith("| ") and ("**PASS**" in line or "**FAIL**" in line)]
    assert len(goals) == 5, f"expected 5 goals with PASS/FAIL, got {len(goals)}: {goals}"
    # The goals compare the main row with nginx.
    for g in ("CPU per handshake than nginx", "nginx's handshake rate"):
        assert any(g in line and f"({quick.main})" in line for line in goals), \
            f"goal without the main row ({quick.main}): {g}"
    for g in ("CPU per handshake than nginx", "nginx's handshake rate", "twice socat's",
              "32 KiB per idle TLS connection at 500", "tcp-client no slower than curl"):
        assert any(g in line for line in goals), f"no goal line for: {g}"


@pytest.mark.slow
def test_quick_csv(quick):
    rows = table_rows(quick.md_lines)
    with open(os.path.join(quick.out, "report.csv"), newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table and table[0] == CSV_HEADER, f"CSV header: {table[0] if table else None}"
    body = table[1:]
    assert len(body) == len(rows), f"CSV has {len(body)} rows, the Markdown table {len(rows)}"
    seen = set()
    for r in body:
        assert len(r) == len(CSV_HEADER), f"CSV row of {len(r)} fields: {r}"
        d = dict(zip(CSV_HEADER, r))
        seen.add((d["measurement"], d["program"]))
        assert d["item"] in "12345" and d["measurement"].startswith(d["item"] + " "), r
        assert d["better"] in ("higher", "lower"), r
        lo, med, hi = float(d["min"]), float(d["median"]), float(d["max"])
        assert lo <= med <= hi, f"CSV min <= median <= max: {r}"
        assert int(d["runs"]) >= 1, r
        assert (d["ratio"] == "") == (d["compared_with"] == ""), f"ratio without reference: {r}"
        if d["ratio"]:
            assert float(d["ratio"]) > 0, r
    for m, p, _ in quick.expected:
        assert (m, p) in seen, f"no CSV row: {m} | {p}"
