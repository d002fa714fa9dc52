"""What the benchmark tests share: scripts/bench.sh, the peers it needs,
how to run it (--quick, --no-install) and how to read its report's table."""

import os
import re
import subprocess

from harness.system import SRC

SCRIPT = os.path.join(SRC, "scripts", "bench.sh")
# Everything bench.sh checks for before it measures anything.
PEERS = ("nginx", "socat", "ncat", "curl", "hyperfine", "gnuplot", "openssl", "ss",
         "/usr/sbin/apache2")
# Bounds of the runs on a loaded 2-core machine with sanitized programs
# (--quick takes about a minute unloaded; --baseline builds a commit first).
QUICK_TIMEOUT = 300
ONLY_TIMEOUT = 60
BASELINE_TIMEOUT = 280

HEAD = "| measurement | program | median | unit | runs | secsock ÷ this |"
SEPARATOR = "|---|---|---:|---|---:|---:|"
NUM = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?$")
CSV_HEADER = ["item", "measurement", "program", "metric", "unit", "better",
              "median", "min", "max", "runs", "compared_with", "ratio"]

# The rows' measurements.
HANDSHAKES, CPU = "1 TLS 1.3 handshakes (full)", "1 server CPU per handshake"
IDLE = "3 idle TLS connections: 500"
REQUESTS = IDLE + ", then a request on each"


def bench(run, bin_dir, out, *args, timeout, env=None):
    return run(["bash", SCRIPT, "--quick", "--no-install", *args, "--bin", bin_dir,
                "--out", out], timeout=timeout, env=env)


def num(text):
    return float(text.replace(",", ""))


def table_rows(md_lines):
    """The main table's rows: {(measurement, program): (median, runs,
    ratio)}, each cell checked for its kind."""
    assert HEAD in md_lines, f"no table header {HEAD}"
    i = md_lines.index(HEAD)
    assert md_lines[i + 1] == SEPARATOR, f"bad separator: {md_lines[i + 1]}"
    rows = {}
    for line in md_lines[i + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 6, f"not 6 cells: {line}"
        m, p, median, unit, runs, ratio = cells
        assert NUM.match(median), f"median not a number: {line}"
        assert runs.isdigit() and int(runs) >= 1, f"runs not a count: {line}"
        assert unit != "", f"no unit: {line}"
        assert ratio == "" or NUM.match(ratio), f"ratio not a number: {line}"
        rows[(m, p)] = (median, runs, ratio)
    return rows


def help_lists(program, option):
    """program's --help lists option (bench.sh adds rows for these)."""
    r = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=60)
    return re.search(rf"^ +{re.escape(option)} ", r.stdout + r.stderr, re.M) is not None
