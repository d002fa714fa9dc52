"""scripts/bench.sh's options, each run for real but briefly: --only
gives just the measurements asked for, --baseline REF adds a row for REF's
programs (built apart), --trace-cost adds rows for the programs built
without trace hooks and for -v, and bad arguments are usage errors. Apart
from test_bench_quick.py so that the sanitizer build, whose programs these
runs barely touch (--baseline and --trace-cost build their own), can leave
them out (scripts/test.sh)."""

import csv
import os
import re

import pytest

from harness.bench import (BASELINE_TIMEOUT, CPU, HANDSHAKES, ONLY_TIMEOUT, PEERS, SCRIPT,
                           bench, table_rows)
from harness.system import SRC, need


@pytest.mark.slow
def test_only_gives_just_the_measurements_asked_for(bin_dir, run, tmp_path):
    need(*PEERS)
    out = tmp_path / "bench-only"
    bench(run, bin_dir, out, "--only", "4", timeout=ONLY_TIMEOUT).expect(0, "bench.sh --only 4")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| 4 DTLS 1.2 round trips |" in md
    assert "| 1 TLS 1.3 handshakes" not in md
    with open(out / "report.csv", newline="", encoding="utf-8") as f:
        items = sorted({r[0] for r in csv.reader(f)})
    assert items == ["4", "item"], f"the items in report.csv of --only 4: {items}"


@pytest.mark.slow
def test_baseline_adds_a_before_row_to_each_group(bin_dir, run, tmp_path):
    """--baseline REF: REF's programs built apart (here HEAD's commit, into
    tmp_path), a "(before: COMMIT)" row after the project's row of each
    group, compared with it."""
    need(*PEERS, "git", "cmake")
    # The commit, not the name HEAD: others may commit while this runs.
    commit = run(["git", "-C", SRC, "rev-parse", "HEAD"]).expect(0).out.strip()
    short = run(["git", "-C", SRC, "rev-parse", "--short", commit]).expect(0).out.strip()
    out, build = tmp_path / "bench-baseline", tmp_path / "bench-build"
    bench(run, bin_dir, out, "--only", "4", "--baseline", commit, timeout=BASELINE_TIMEOUT,
          env={"SECSOCK_BENCH_BUILD": build}).expect(0, f"bench.sh --only 4 --baseline {commit}")
    assert os.access(build / f"baseline-{short}" / "build" / "bin" / "udp-server", os.X_OK), \
        f"no baseline build in {build}/baseline-{short}"
    before = f" (before: {short})"
    md = (out / "report.md").read_text(encoding="utf-8")
    groups = {}
    for line in md.split("\n"):
        if line.startswith("| 4 "):
            m, p, median, unit, runs, ratio = [c.strip() for c in line.strip("|").split("|")]
            groups.setdefault(m, []).append((p, ratio))
    assert len(groups) == 4, f"expected the 4 groups of measurement 4, got {list(groups)}"
    for m, ps in groups.items():
        main = ps[0][0]
        assert len(ps) >= 2 and ps[1][0] == main + before, \
            f"{m}: no row {main + before!r} right after {main!r}: {ps}"
        assert re.match(r"^[0-9]+\.[0-9]+$", ps[1][1]), f"{m}: the baseline row has no ratio"
    with open(out / "report.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["program"].endswith(before)]
    assert len(rows) == 4 and all(
        r["compared_with"] in ("udp.udp-server", "udp.udp-server-dtls") and r["ratio"]
        for r in rows), f"CSV baseline rows: {rows}"
    assert f"- (before: {short}): the programs of commit {short}" in md, \
        "no note on the baseline in report.md"


@pytest.mark.slow
def test_trace_cost_adds_rows_for_no_hooks_and_for_v(bin_dir, run, tmp_path):
    """--trace-cost: the programs built again without trace hooks (into
    SECSOCK_BENCH_BUILD), and measurement 1 gets a row for them and one
    for tcp-server -v, each compared with the main row."""
    need(*PEERS, "cmake")
    out, build = tmp_path / "bench-trace-cost", tmp_path / "bench-build"
    bench(run, bin_dir, out, "--only", "1", "--trace-cost", timeout=BASELINE_TIMEOUT,
          env={"SECSOCK_BENCH_BUILD": build}).expect(0, "bench.sh --only 1 --trace-cost")
    assert os.access(build / "no-trace-hooks" / "bin" / "tcp-server", os.X_OK), \
        f"no build without trace hooks in {build}/no-trace-hooks"
    cache = (build / "no-trace-hooks" / "CMakeCache.txt").read_text()
    assert "SECSOCK_TRACE_HOOKS:BOOL=OFF" in cache
    rows = table_rows((out / "report.md").read_text(encoding="utf-8").split("\n"))
    for m in (HANDSHAKES, CPU):
        progs = [p for (mm, p) in rows if mm == m]
        hooks = [p for p in progs if p.endswith(" (trace hooks compiled out)")]
        v = [p for p in progs if p.endswith(" -v (to /dev/null)")]
        assert len(hooks) == 1 and len(v) == 1, f"{m}: {progs}"
        for p in hooks + v:
            assert rows[(m, p)][2] != "", f"{m}: the row {p!r} has no ratio"


@pytest.mark.parametrize("args,stderr_says", [
    (["--only", "6"], None),
    (["--frobnicate"], "unknown argument"),
    (["--baseline"], None),
    (["--baseline", "no-such-commit-3f9a"], "no such commit"),
], ids=["only_6", "frobnicate", "baseline_without_commit", "baseline_no_such_commit"])
def test_bad_arguments_are_usage_errors(run, args, stderr_says):
    r = run(["bash", SCRIPT, *args])
    r.expect(2)
    if stderr_says is not None:
        assert stderr_says in r.err
