"""Counts one build's test results for scripts/test.sh.

    python3 scripts/test_results.py CTEST_JUNIT PYTEST_DIR

CTEST_JUNIT is ctest's --output-junit file; PYTEST_DIR holds the junit
file each pytest entry (ctest name integration/NAME) wrote as NAME.xml.
A pytest entry counts as its cases; any other entry as one test. A case
passes only if it ran with no failure, error or skip (a skip is a failure
here: CI installs every peer). Prints "PASSED FAILED", then one failed
test's name per line.
"""

import os
import sys
import xml.etree.ElementTree as ET

BAD = ("failure", "error", "skipped")


def cases(path, qualified=False):
    """(name, problem or None) for each testcase of a junit file; the name
    qualified by its classname (a pytest module) when asked."""
    for case in ET.parse(path).getroot().iter("testcase"):
        status = case.get("status", "run")
        problems = [c.tag for c in case if c.tag in BAD]
        name = case.get("name")
        if qualified and case.get("classname"):
            name = f"{case.get('classname')}::{name}"
        if status != "run":
            yield name, status
        elif problems:
            yield name, ",".join(problems)
        else:
            yield name, None


def main():
    ctest_junit, pytest_dir = sys.argv[1:3]
    passed, bad = 0, []
    for entry, problem in cases(ctest_junit):
        pytest_xml = None
        if entry.startswith("integration/"):
            pytest_xml = os.path.join(pytest_dir, entry.split("/", 1)[1] + ".xml")
        if pytest_xml is None or not os.path.exists(pytest_xml):
            if problem is None:
                passed += 1
            else:
                bad.append(f"{entry} ({problem})")
            continue
        entry_passed, entry_bad = 0, []
        for name, case_problem in cases(pytest_xml, qualified=True):
            if case_problem is None:
                entry_passed += 1
            else:
                entry_bad.append(f"{entry}: {name} ({case_problem})")
        passed += entry_passed
        bad += entry_bad
        if problem is not None and not entry_bad:
            # The entry failed though each case passed: a crash at teardown,
            # the skip policy, a timeout of the whole file.
            bad.append(f"{entry} ({problem}, though its cases passed)")
        if entry_passed + len(entry_bad) == 0:
            bad.append(f"{entry} (no test cases)")
    print(passed, len(bad))
    for b in bad:
        print(b)


if __name__ == "__main__":
    main()
