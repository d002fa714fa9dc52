"""The public API as the compiler sees it, and the man pages as man shows
them: shared by test_install_manpages (the source tree) and
test_install_library (an installed prefix)."""

import os
import re

from harness.procs import run

# One line of gcc -aux-info: "/* FILE:LINE:NC */ extern int secsock_x (int);"
_AUX_PREFIX = re.compile(r"^.*\*/ *")
_AUX_ARGS = re.compile(r" \(.*")
_AUX_TYPE = re.compile(r".*[ *]")


def declared_functions(include_dir, workdir):
    """The sorted names of the functions that include_dir/secsock/*.h
    declare (gcc -aux-info on <secsock/secsock.h>, which includes the
    rest); fails if they do not compile."""
    src = os.path.join(workdir, "all.c")
    aux = os.path.join(workdir, "aux.txt")
    with open(src, "w") as f:
        f.write("#include <secsock/secsock.h>\n")
    run(["gcc", "-std=c11", "-fsyntax-only", f"-I{include_dir}", "-aux-info", aux, src]).expect(
        0, "the public headers do not compile")
    ours = os.path.join(include_dir, "secsock") + "/"
    names = set()
    with open(aux) as f:
        for line in f:
            if ours in line:
                line = line.rstrip("\n")
                names.add(_AUX_TYPE.sub("", _AUX_ARGS.sub("", _AUX_PREFIX.sub("", line), 1), 1))
    return sorted(names)


def man_warnings(page):
    """What man --warnings says about page when formatting it (its
    stderr); fails if man itself fails."""
    r = run(["man", "--warnings", "-l", page], env={"MANWIDTH": "80", "LC_ALL": "C.UTF-8"})
    assert r.rc == 0, f"man -l {page} failed: {r.err}"
    return r.err
