"""Prints the translation units of a compile_commands.json under a directory,
once each, sorted; for scripts/lint.sh (clang-tidy runs once per file).

    python3 scripts/compile_db_sources.py COMPILE_COMMANDS_JSON DIR_PREFIX
"""

import json
import os
import sys


def main():
    db, prefix = sys.argv[1], sys.argv[2]
    seen = []
    with open(db) as f:
        entries = json.load(f)
    for entry in entries:
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        if path.startswith(prefix) and path not in seen:
            seen.append(path)
    for path in sorted(seen):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
