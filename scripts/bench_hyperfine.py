"""Turns hyperfine's --export-json file into scripts/bench.sh raw.tsv rows of
measurement 5: "5<TAB>client.COMMAND<TAB>ms<TAB>MILLISECONDS", one per run.

    python3 scripts/bench_hyperfine.py HYPERFINE_JSON >>raw.tsv
"""

import json
import sys


def main():
    with open(sys.argv[1]) as f:
        results = json.load(f)["results"]
    for r in results:
        for t in r["times"]:
            print("5\tclient.%s\tms\t%.3f" % (r["command"], t * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
