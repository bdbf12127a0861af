"""Check shipped tasks in the sandbox: the buggy tree fails exactly the recorded fail-to-pass tests and
passes the pass-to-pass ones; the released tree passes both.

    python tools/validate_tasks.py [--per-library 10]

The build measured outcomes in a plain subprocess; this replays a sample where episodes are graded.
Prints one line per task that disagrees and a summary; exits 1 when any does.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from rlhub_swe_mini.env import records
from rlhub_swe_mini.grading import RUNTIME, buggy_tree, hidden_tests
from rlhub_swe_mini.libraries import LIBRARIES
from rlhub_swe_mini.sdists import source_files

from rlhub.verify.workspace import run_tests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-library", type=int, default=10)
    args = parser.parse_args()
    bad = checked = 0
    start = time.monotonic()
    for name, lib in sorted(LIBRARIES.items()):
        mine = [r for r in records() if r["library"] == name]
        hidden = hidden_tests(lib)
        for record in random.Random(name).sample(mine, min(args.per_library, len(mine))):
            reference = {"library": name, "version": lib.version, "mutation": record["mutation"]}
            tests = record["f2p"] + record["p2p"]
            buggy = run_tests(buggy_tree(reference), {}, hidden=hidden, tests=tests, runtime=RUNTIME).outcomes
            fixed = run_tests(source_files(lib), {}, hidden=hidden, tests=tests, runtime=RUNTIME).outcomes
            checked += 1
            problems = [f"{t} passes with the bug" for t in record["f2p"] if buggy[t] == "passed"]
            problems += [f"{t} fails with the bug" for t in record["p2p"] if buggy[t] != "passed"]
            problems += [f"{t} fails without the bug" for t in tests if fixed[t] != "passed"]
            if problems:
                bad += 1
                print(f"{record['key']}: {'; '.join(problems[:3])}", flush=True)
    print(f"{checked - bad}/{checked} tasks agree ({time.monotonic() - start:.0f}s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
