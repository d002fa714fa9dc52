"""scripts/ablate.sh and scripts/ablations/: every ablation patch says what
it turns off and which measurement shows it, and still applies to the
source tree (a patch that rotted would measure nothing); an unknown name is
a usage error. One ablation runs for real: worker threads with the default
stack instead of 256 KiB, where the numbers are the point (the address
space per held worker grows by megabytes, the resident memory does not).
"""

import glob
import os
import re

import pytest

from harness.system import SRC, need

SCRIPT = os.path.join(SRC, "scripts", "ablate.sh")
PATCHES = sorted(glob.glob(os.path.join(SRC, "scripts", "ablations", "*.patch")))
# Two Release builds of tcp-server and 400 held clients on a loaded machine.
DEFAULT_STACKS_TIMEOUT = 300
# "LABEL threads T VmSize M MiB (+V KiB per client) VmRSS R MiB (+S KiB per client)"
HELD_ROW = re.compile(r"threads +([0-9]+) +VmSize +[0-9]+ MiB \(\+ *([0-9]+) KiB per client\) "
                      r"+VmRSS +[0-9.]+ MiB \(\+ *([0-9.]+) KiB per client\)")


def patch_name(path):
    return os.path.basename(path)[:-len(".patch")]


@pytest.fixture(scope="module")
def listed(run):
    r = run(["bash", SCRIPT, "--list"]).expect(0, "ablate.sh --list")
    return r.out


def test_list_has_a_line_per_patch(listed):
    assert len(PATCHES) >= 5, f"only {len(PATCHES)} ablation patches"
    assert len([line for line in listed.split("\n") if line]) == len(PATCHES), listed


@pytest.mark.parametrize("patch", PATCHES, ids=patch_name)
def test_patch_is_listed_and_applies(listed, run, patch):
    need("git")
    name = patch_name(patch)
    lines = [line for line in listed.split("\n") if line.startswith(name + " ")]
    assert lines, f"--list does not list {name}:\n{listed}"
    assert re.search(r"measurement ([1-5]|stacks|pool) +[a-z0-9]", lines[0]), \
        f"{name}: no measurement or no description in [{lines[0]}]"
    run(["git", "apply", "--check", patch], cwd=SRC).expect(
        0, f"scripts/ablations/{name}.patch no longer applies to the source tree")


def test_unknown_ablation_is_a_usage_error(run):
    r = run(["bash", SCRIPT, "no-such-thing"]).expect(2)
    assert r.err == "ablate.sh: no ablation no-such-thing (scripts/ablate.sh --list)\n"
    run(["bash", SCRIPT]).expect(2, "ablate.sh without a name")


def held_row(out, label):
    """(threads, KiB of address space per client, KiB resident per client)
    of the row that starts with label."""
    rows = [line for line in out.split("\n") if line.startswith(label + " ")]
    assert rows, f"no row for {label}:\n{out}"
    m = HELD_ROW.search(rows[0])
    assert m, f"cannot read [{rows[0]}]"
    return int(m.group(1)), int(m.group(2)), float(m.group(3))


@pytest.mark.slow
def test_default_stacks_for_real(run, tmp_path):
    need("git", "cmake")
    run(["git", "-C", SRC, "rev-parse", "--verify", "-q", "HEAD"]).expect(
        0, f"{SRC} is not a git work tree")
    # ablate.sh makes its worktree under TMPDIR: one of this test's own, so
    # that two suites at once do not see each other's.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = run(["bash", SCRIPT, "default-stacks"], timeout=DEFAULT_STACKS_TIMEOUT,
            env={"TMPDIR": tmp})
    r.expect(0, "ablate.sh default-stacks")
    print("\n".join(line for line in r.out.split("\n") if "per client" in line))
    threads, vsz, rss = held_row(r.out, "this tree")
    a_threads, a_vsz, a_rss = held_row(r.out, "default-stacks")
    # 200 workers and the main thread, and as many admission loops as CPUs.
    assert threads > 200 and a_threads == threads, f"threads: {threads} and {a_threads}"
    assert vsz < 1024, f"this tree's address space per held worker: {vsz} KiB (256 KiB stacks)"
    assert a_vsz > 2 * vsz, (f"default stacks' address space per worker ({a_vsz} KiB) is not "
                             f"above twice 256 KiB stacks' ({vsz} KiB)")
    assert abs(rss - a_rss) <= 8, \
        f"resident memory per worker differs by more than 8 KiB: {rss} and {a_rss}"
    worktrees = run(["git", "-C", SRC, "worktree", "list"]).expect(0).out
    assert f"{tmp}/" not in worktrees, f"ablate.sh left its worktree:\n{worktrees}"
    assert os.listdir(tmp) == [], f"ablate.sh left {os.listdir(tmp)} in TMPDIR"
